/*
 * amtprov - oobsp/steps_stage2.c: second-stage steps of the service point
 * (role oobsp), run over TLS with the device's new certificate and the new
 * admin credentials: user-acls, kerberos, power, network-services (web UI,
 * serial-over-LAN, IDE redirection, ping) and wifi.
 *
 * Every step writes the configured state whatever the device holds, so it
 * may run again after a crash: user-acls removes every user entry before it
 * adds the configured ones, the others Put or invoke fixed values.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/provider.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"
#include "amtprov/wsman.h"

#include "oobsp/oobsp.h"
#include "oobsp/oobsp_int.h"
#include "store/store.h"

#define AUTH_SVC	"AMT_AuthorizationService"
#define REDIR_SVC	"AMT_RedirectionService"
#define WEBUI_SVC	"AMT_WebUIService"
#define GENERAL		"AMT_GeneralSettings"
#define POWER		"AMT_SystemPowerScheme"
#define KERBEROS	"AMT_KerberosSettingData"

/* A binary SID from its text form (S-1-5-21-...), for KerberosUserSid:
 * revision, count, 6-byte authority (big-endian), sub-authorities (LE). */
#define SID_SUBAUTH_MAX	15

static int
bad_pc(struct oobsp_job *j)
{
	return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL, "bad pc");
}

static int
sid_b64(const char *text, struct amtp_buf *out)
{
	uint8_t bin[8 + 4 * SID_SUBAUTH_MAX];
	char part[24];
	const char *p, *dash;
	long long v;
	size_t n = 0, len;
	int i;

	if (strncmp(text, "S-1-", 4) != 0)
		return AMTP_E_PARSE;
	p = text + 4;
	for (i = 0; ; i++) {
		dash = strchr(p, '-');
		len = dash != NULL ? (size_t)(dash - p) : strlen(p);
		if (len == 0 || len >= sizeof(part))
			return AMTP_E_PARSE;
		memcpy(part, p, len);
		part[len] = '\0';
		if (i == 0) {
			if (amtp_parse_int(part, 0, 0xffffffffffffLL, &v) != 0)
				return AMTP_E_PARSE;
			bin[0] = 1;
			bin[2] = (uint8_t)(v >> 40);
			bin[3] = (uint8_t)(v >> 32);
			bin[4] = (uint8_t)(v >> 24);
			bin[5] = (uint8_t)(v >> 16);
			bin[6] = (uint8_t)(v >> 8);
			bin[7] = (uint8_t)v;
		} else {
			if (n >= SID_SUBAUTH_MAX ||
			    amtp_parse_int(part, 0, 0xffffffffLL, &v) != 0)
				return AMTP_E_PARSE;
			bin[8 + 4 * n] = (uint8_t)v;
			bin[9 + 4 * n] = (uint8_t)(v >> 8);
			bin[10 + 4 * n] = (uint8_t)(v >> 16);
			bin[11 + 4 * n] = (uint8_t)(v >> 24);
			n++;
		}
		if (dash == NULL)
			break;
		p = dash + 1;
	}
	bin[1] = (uint8_t)n;
	return amtp_b64_encode(out, bin, 8 + 4 * n);
}

/* ------------------------------------------------------------------ */
/* user-acls                                                            */
/* ------------------------------------------------------------------ */

static int
acl_add(struct oobsp_job *j)
{
	const struct oobsp_acl *a = &j->e->pol->acls[j->idx];
	struct amtp_wsman_prop in[4 + OOBSP_ACL_REALMS_MAX];
	struct amtp_buf *sid = NULL;
	char hash[64], access[8], realms[OOBSP_ACL_REALMS_MAX][8];
	size_t i, n = 0;
	int r;

	memset(in, 0, sizeof(in));
	if (a->kerberos) {
		if ((sid = amtp_buf_new(256)) == NULL)
			return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, AMTP_E_NOMEM,
			    "out of memory");
		if (sid_b64(a->account, sid) != 0) {
			amtp_buf_free(sid);
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_CONFIG,
			    "ACL %s: a Kerberos entry needs the account's SID "
			    "(S-1-5-...); resolving names is not implemented",
			    a->name);
		}
		in[n].name = "KerberosUserSid";
		in[n++].text = amtp_buf_str(sid);
	} else {
		if ((r = oobsp_digest_password_b64(a->account, j->realm,
		    a->password, hash, sizeof(hash))) != 0)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, r,
			    "ACL %s: digest password", a->name);
		in[n].name = "DigestUsername";
		in[n++].text = a->account;
		in[n].name = "DigestPassword";
		in[n++].text = hash;
	}
	snprintf(access, sizeof(access), "%d", a->access);
	in[n].name = "AccessPermission";
	in[n++].text = access;
	for (i = 0; i < a->nrealms; i++) {
		snprintf(realms[i], sizeof(realms[i]), "%d", a->realms[i]);
		in[n].name = "Realms";
		in[n++].text = realms[i];
	}
	r = oobsp_invoke(j, AUTH_SVC, "AddUserAclEntryEx", in, n, NULL, 0);
	explicit_bzero(hash, sizeof(hash));
	amtp_buf_free(sid);
	return r;
}

int
oobsp_step_user_acls(struct oobsp_job *j)
{
	const struct oobsp_policy *pol = j->e->pol;
	struct amtp_wsman_prop in[1];
	const struct amtp_wsman_prop *p;
	char num[24];
	size_t i;
	int r;

	switch (j->pc) {
	case 0:
		j->nids = 0;
		memset(in, 0, sizeof(in));
		in[0].name = "StartIndex";
		in[0].text = "1";
		j->pc = 1;
		return oobsp_invoke(j, AUTH_SVC, "EnumerateUserAclEntries", in,
		    1, NULL, 0);
	case 1:
		if ((r = oobsp_reply_ok(j, AUTH_SVC,
		    "EnumerateUserAclEntries")) != 0)
			return r;
		for (i = 0; (p = amtp_wsman_obj_prop(j->resp->body, "Handles",
		    i)) != NULL; i++) {
			if (p->text == NULL || strlen(p->text) >=
			    sizeof(j->ids[0]) || j->nids >= OOBSP_IDS_MAX)
				return oobsp_fail(j, OOBSP_FAIL_PERMANENT,
				    AMTP_E_PROTO, AUTH_SVC ": bad Handles");
			amtp_strlcpy(j->ids[j->nids++], p->text,
			    sizeof(j->ids[0]));
		}
		j->idx = 0;
		j->pc = 2;
		/* FALLTHROUGH */
	case 2:
		if (j->idx < j->nids) {
			memset(in, 0, sizeof(in));
			in[0].name = "Handle";
			in[0].text = j->ids[j->idx];
			j->pc = 3;
			return oobsp_invoke(j, AUTH_SVC, "RemoveUserAclEntry",
			    in, 1, NULL, 0);
		}
		j->idx = 0;
		j->pc = 4;
		goto add;
	case 3:
		if ((r = oobsp_reply_ok(j, AUTH_SVC, "RemoveUserAclEntry")) != 0)
			return r;
		j->idx++;
		j->pc = 2;
		return oobsp_step_user_acls(j);
	case 4:
		if ((r = oobsp_reply_ok(j, AUTH_SVC, "AddUserAclEntryEx")) != 0)
			return r;
		j->idx++;
 add:
		if (j->idx < pol->nacls) {
			j->pc = 4;
			return acl_add(j);
		}
		snprintf(num, sizeof(num), "%zu", j->nids);
		oobsp_detail(j, "%s user entries removed, %zu added", num,
		    pol->nacls);
		return OOBSP_OK;
	}
	return bad_pc(j);
}

/* ------------------------------------------------------------------ */
/* kerberos                                                             */
/* ------------------------------------------------------------------ */

/*
 * The RC4-HMAC key of a password, as Active Directory and AMT derive it:
 * MD4 of the password in UTF-16LE.  MD4 lives in OpenSSL's legacy provider,
 * loaded in a library context of its own so that nothing else in the
 * process can pick a legacy algorithm by accident.  ASCII passwords only
 * (ours are: amtp_rand_password); others are refused.
 */
static int
rc4_hmac_key(const struct amtp_secret *pw, uint8_t key[16])
{
	OSSL_LIB_CTX *ctx = NULL;
	OSSL_PROVIDER *prov = NULL;
	EVP_MD *md = NULL;
	uint8_t *u = NULL;
	const uint8_t *p = amtp_secret_reveal(pw);
	size_t i, n = amtp_secret_len(pw);
	unsigned len = 0;
	int r = AMTP_E_CRYPTO;

	for (i = 0; i < n; i++)
		if (p[i] == 0 || p[i] > 0x7e)
			return AMTP_E_UNSUPPORTED;
	if ((u = calloc(2 * n + 1, 1)) == NULL)
		return AMTP_E_NOMEM;
	for (i = 0; i < n; i++)
		u[2 * i] = p[i];
	if ((ctx = OSSL_LIB_CTX_new()) == NULL ||
	    (prov = OSSL_PROVIDER_load(ctx, "legacy")) == NULL ||
	    (md = EVP_MD_fetch(ctx, "MD4", NULL)) == NULL)
		goto out;
	if (EVP_Digest(u, 2 * n, key, &len, md, NULL) == 1 && len == 16)
		r = 0;
 out:
	EVP_MD_free(md);
	OSSL_PROVIDER_unload(prov);
	OSSL_LIB_CTX_free(ctx);
	explicit_bzero(u, 2 * n + 1);
	free(u);
	return r;
}

/* ServicePrincipalProtocol of an SPN by its port (spec 5.4: 0 HTTP). */
static const char *
spn_protocol(const char *spn)
{
	const char *c = strrchr(spn, ':');

	if (c == NULL)
		return "0";
	if (strcmp(c, ":16993") == 0)
		return "1";
	if (strcmp(c, ":16994") == 0)
		return "2";
	if (strcmp(c, ":16995") == 0)
		return "3";
	return "0";
}

static int
kerberos_put(struct oobsp_job *j)
{
	static const char *const ours[] = { "RealmName", "ServicePrincipalName",
	    "ServicePrincipalProtocol", "KeyVersion", "EncryptionAlgorithm",
	    "MasterKey", "MaximumClockTolerance", "KrbEnabled", "Passphrase",
	    "Salt", "IterationCount" };
	const struct oobsp_policy *pol = j->e->pol;
	const struct amtp_wsman_obj *o = j->saved != NULL ? j->saved->body :
	    NULL;
	struct amtp_diracct_rec acct;
	struct amtp_wsman_prop props[AMTP_WSMAN_MAX_PROPS];
	struct amtp_wsman_obj body;
	struct amtp_secret *pw = NULL;
	struct amtp_buf *mk = NULL;
	char realm[AMTP_STORE_FQDN_MAX + 1], tol[16];
	uint8_t key[16];
	size_t i, k, np = 0;
	int r, skip;

	if (o == NULL)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_PROTO,
		    "AMT_KerberosSettingData: no instance");
	if ((r = amtp_store_diracct_get_device(j->e->st, j->dev.id,
	    &acct)) != 0)
		return oobsp_fail(j, r == AMTP_E_NOTFOUND ?
		    OOBSP_FAIL_PERMANENT : OOBSP_FAIL_TRANSIENT, r,
		    "no directory account for the device (flow step 4)");
	if (acct.n_spns == 0)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_STATE,
		    "directory account %s has no SPN", acct.name);
	if ((r = amtp_store_diracct_get_password(j->e->st, acct.name,
	    &pw)) != 0)
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r,
		    "directory account %s: password: %s", acct.name,
		    amtp_strerror(r));
	r = rc4_hmac_key(pw, key);
	amtp_secret_free(pw);
	if (r != 0)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, r,
		    "Kerberos key of %s: %s", acct.name, amtp_strerror(r));
	if ((mk = amtp_buf_new(64)) == NULL ||
	    amtp_b64_encode(mk, key, sizeof(key)) != 0) {
		explicit_bzero(key, sizeof(key));
		amtp_buf_free(mk);
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, AMTP_E_NOMEM,
		    "out of memory");
	}
	explicit_bzero(key, sizeof(key));
	/* the realm: configured, else the device's domain in upper case */
	amtp_strlcpy(realm, pol->krb_realm[0] != '\0' ? pol->krb_realm :
	    j->domain, sizeof(realm));
	for (i = 0; realm[i] != '\0'; i++)
		if (realm[i] >= 'a' && realm[i] <= 'z')
			realm[i] = (char)(realm[i] - 'a' + 'A');
	snprintf(tol, sizeof(tol), "%d", pol->krb_tolerance > 0 ?
	    pol->krb_tolerance : 5);
	memset(props, 0, sizeof(props));
	for (i = 0; i < o->nprops && np < AMTP_WSMAN_MAX_PROPS - 40; i++) {
		if (o->props[i].text == NULL)
			continue;
		for (k = 0, skip = 0; k < sizeof(ours) / sizeof(ours[0]); k++)
			if (strcmp(o->props[i].name, ours[k]) == 0)
				skip = 1;
		if (skip)
			continue;
		props[np] = o->props[i];
		props[np++].ns = NULL;
	}
	props[np].name = "RealmName";
	props[np++].text = realm;
	for (i = 0; i < acct.n_spns; i++) {
		props[np].name = "ServicePrincipalName";
		props[np++].text = acct.spns[i];
	}
	for (i = 0; i < acct.n_spns; i++) {
		props[np].name = "ServicePrincipalProtocol";
		props[np++].text = spn_protocol(acct.spns[i]);
	}
	props[np].name = "KeyVersion";
	props[np++].text = "1";
	props[np].name = "EncryptionAlgorithm";
	props[np++].text = "0";		/* RC4-HMAC */
	props[np].name = "MasterKey";
	props[np++].text = amtp_buf_str(mk);
	props[np].name = "MaximumClockTolerance";
	props[np++].text = tol;
	props[np].name = "KrbEnabled";
	props[np++].text = "true";
	memset(&body, 0, sizeof(body));
	body.props = props;
	body.nprops = np;
	snprintf(j->key_id, sizeof(j->key_id), "%s", acct.name);
	r = oobsp_put(j, KERBEROS, &body, NULL, 0);
	amtp_buf_free(mk);	/* wipes the key */
	return r;
}

int
oobsp_step_kerberos(struct oobsp_job *j)
{
	int r;

	switch (j->pc) {
	case 0:
		if (!j->e->pol->kerberos) {
			oobsp_detail(j, "Kerberos not enabled by policy");
			return OOBSP_SKIPPED;
		}
		j->pc = 1;
		return oobsp_get(j, KERBEROS, NULL, 0);
	case 1:
		if ((r = oobsp_reply_ok(j, KERBEROS, NULL)) != 0)
			return r;
		amtp_wsman_response_free(j->saved);
		j->saved = j->resp;
		j->resp = NULL;
		j->pc = 2;
		return kerberos_put(j);
	case 2:
		if ((r = oobsp_reply_ok(j, KERBEROS, NULL)) != 0)
			return r;
		amtp_wsman_response_free(j->saved);
		j->saved = NULL;
		oobsp_detail(j, "Kerberos enabled for directory account %s "
		    "(RC4-HMAC key, key version 1)", j->key_id);
		return OOBSP_OK;
	}
	return bad_pc(j);
}

/* ------------------------------------------------------------------ */
/* power                                                                */
/* ------------------------------------------------------------------ */

/*
 * Which scheme a policy wants, from the scheme's Description/ElementName:
 * real firmware names them for people ("Desktop: ON in S0, S3, S4-5",
 * "Desktop: ON in S0, ME Wake in S3, S4-5"), so only the states after
 * "ON in" and before any "Wake" count as "manageability on".  XXX a
 * heuristic over text; SchemeGUIDs differ between firmware generations.
 */
static int
scheme_matches(const struct amtp_wsman_obj *o, int want)
{
	const char *n = amtp_wsman_obj_text(o, "ElementName");
	const char *d = amtp_wsman_obj_text(o, "Description");
	char buf[512], *on, *wake;
	int s3, s5;

	snprintf(buf, sizeof(buf), "%s | %s", d != NULL ? d : "",
	    n != NULL ? n : "");
	if ((on = strstr(buf, "ON in")) == NULL)
		return 0;
	if ((wake = strstr(on, "Wake")) != NULL)
		*wake = '\0';
	s3 = strstr(on, "S3") != NULL;
	s5 = strstr(on, "S5") != NULL || strstr(on, "S4-5") != NULL;
	switch (want) {
	case 0:
		return !s3 && !s5;
	case 1:
		return s3 && !s5;
	default:
		return s3 && s5;
	}
}

int
oobsp_step_power(struct oobsp_job *j)
{
	struct amtp_wsman_selector sel[1];
	const char *id;
	size_t i;
	int r;

	switch (j->pc) {
	case 0:
		j->pc = 1;
		return oobsp_enumerate(j, POWER);
	case 1:
		return oobsp_pull_next(j, POWER, 2);
	case 2:
		if ((r = oobsp_reply_ok(j, POWER, NULL)) != 0)
			return r;
		if (j->resp->nitems == 0) {
			oobsp_detail(j, "the device lists no power schemes");
			return OOBSP_SKIPPED;
		}
		id = NULL;
		for (i = 0; i < j->resp->nitems && id == NULL; i++)
			if (scheme_matches(&j->resp->items[i],
			    j->e->pol->power_scheme))
				id = amtp_wsman_obj_text(&j->resp->items[i],
				    "InstanceID");
		if (id == NULL || strlen(id) >= sizeof(j->key_id))
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT,
			    AMTP_E_UNSUPPORTED, "no power scheme of the device "
			    "matches the policy (%d schemes)",
			    (int)j->resp->nitems);
		amtp_strlcpy(j->key_id, id, sizeof(j->key_id));
		memset(sel, 0, sizeof(sel));
		sel[0].name = "InstanceID";
		sel[0].value = j->key_id;
		j->pc = 3;
		return oobsp_invoke(j, POWER, "SetPowerScheme", NULL, 0, sel,
		    1);
	case 3:
		if ((r = oobsp_reply_ok(j, POWER, "SetPowerScheme")) != 0)
			return r;
		oobsp_detail(j, "power scheme \"%s\"", j->key_id);
		return OOBSP_OK;
	}
	return bad_pc(j);
}

/* ------------------------------------------------------------------ */
/* network-services: redirection, web UI, ping                          */
/* ------------------------------------------------------------------ */

int
oobsp_step_net_services(struct oobsp_job *j)
{
	static const char *const lnames[] = { "ListenerEnabled" };
	static const char *const pnames[] = { "PingResponseEnabled" };
	const struct oobsp_policy *pol = j->e->pol;
	struct amtp_wsman_prop in[1];
	const char *vals[1];
	char state[16];
	int r;

	switch (j->pc) {
	case 0:
		snprintf(state, sizeof(state), "%d", 32768 +
		    (pol->ider ? 1 : 0) + (pol->sol ? 2 : 0));
		memset(in, 0, sizeof(in));
		in[0].name = "RequestedState";
		in[0].text = state;
		j->pc = 1;
		return oobsp_invoke(j, REDIR_SVC, "RequestStateChange", in, 1,
		    NULL, 0);
	case 1:
		if ((r = oobsp_reply_ok(j, REDIR_SVC,
		    "RequestStateChange")) != 0)
			return r;
		j->pc = 2;
		return oobsp_get(j, REDIR_SVC, NULL, 0);
	case 2:
		if ((r = oobsp_reply_ok(j, REDIR_SVC, NULL)) != 0)
			return r;
		amtp_wsman_response_free(j->saved);
		j->saved = j->resp;
		j->resp = NULL;
		vals[0] = pol->sol || pol->ider ? "true" : "false";
		j->pc = 3;
		return oobsp_put_modified(j, REDIR_SVC, NULL, 0, lnames, vals,
		    1);
	case 3:
		if ((r = oobsp_reply_ok(j, REDIR_SVC, NULL)) != 0)
			return r;
		memset(in, 0, sizeof(in));
		in[0].name = "RequestedState";
		in[0].text = pol->web_ui ? "2" : "3";
		j->pc = 4;
		return oobsp_invoke(j, WEBUI_SVC, "RequestStateChange", in, 1,
		    NULL, 0);
	case 4:
		if ((r = oobsp_reply_ok(j, WEBUI_SVC,
		    "RequestStateChange")) != 0)
			return r;
		j->pc = 5;
		return oobsp_get(j, GENERAL, NULL, 0);
	case 5:
		if ((r = oobsp_reply_ok(j, GENERAL, NULL)) != 0)
			return r;
		amtp_wsman_response_free(j->saved);
		j->saved = j->resp;
		j->resp = NULL;
		vals[0] = pol->ping ? "true" : "false";
		j->pc = 6;
		return oobsp_put_modified(j, GENERAL, NULL, 0, pnames, vals, 1);
	case 6:
		if ((r = oobsp_reply_ok(j, GENERAL, NULL)) != 0)
			return r;
		amtp_wsman_response_free(j->saved);
		j->saved = NULL;
		oobsp_detail(j, "SOL %s, IDE-R %s, web UI %s, ping %s",
		    pol->sol ? "on" : "off", pol->ider ? "on" : "off",
		    pol->web_ui ? "on" : "off", pol->ping ? "on" : "off");
		return OOBSP_OK;
	}
	return bad_pc(j);
}

/* ------------------------------------------------------------------ */
/* wifi                                                                 */
/* ------------------------------------------------------------------ */

#define WIFIPORT	"CIM_WiFiPort"
#define WIFISET		"CIM_WiFiEndpointSettings"
#define WIFISVC		"AMT_WiFiPortConfigurationService"
/* pc ranges of the sub-steps (steps_8021x.c): certificates, the links of
 * the profiles being replaced, their deletion */
#define WIFI_XC		100
#define WIFI_LC		120
#define WIFI_PR		140

/* The 802.1X part of an enterprise profile: IEEE8021xSettingsInput and
 * the certificate references the certificates sub-step put on the device. */
static int
wifi_add_8021x(struct oobsp_job *j, struct amtp_wsman_prop *in,
    const struct oobsp_8021x *x)
{
	struct amtp_wsman_prop xp[6];
	struct amtp_wsman_obj xs;
	struct amtp_wsman_selector csel, rsel;
	struct amtp_wsman_epr cepr, repr;
	char x_uri[256], c_uri[256], r_uri[256], proto[8];
	size_t n = 2, k = 0;

	if (oobsp_class_uri("CIM_IEEE8021xSettings", x_uri,
	    sizeof(x_uri)) != 0)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL,
		    "class");
	snprintf(proto, sizeof(proto), "%d", x->protocol);
	memset(xp, 0, sizeof(xp));
	xp[k].name = "ElementName";
	xp[k++].text = x->name;
	xp[k].name = "AuthenticationProtocol";
	xp[k++].text = proto;
	if (x->server_name[0] != '\0') {
		xp[k].name = "ServerCertificateName";
		xp[k++].text = x->server_name;
		xp[k].name = "ServerCertificateNameComparison";
		xp[k++].text = "0";	/* full name */
	}
	if (x->protocol != 0) {
		xp[k].name = "Username";
		xp[k++].text = x->username;
		xp[k].name = "Password";
		xp[k++].text = amtp_secret_cstr(x->password);
	}
	memset(&xs, 0, sizeof(xs));
	xs.ns = x_uri;
	xs.props = xp;
	xs.nprops = k;
	in[n].name = "IEEE8021xSettingsInput";
	in[n++].obj = &xs;
	if (j->client_id[0] != '\0') {
		if (oobsp_epr(&cepr, &csel, c_uri, sizeof(c_uri),
		    "AMT_PublicKeyCertificate", "InstanceID", j->client_id) != 0)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT,
			    AMTP_E_INTERNAL, "class");
		in[n].name = "ClientCredential";
		in[n++].epr = &cepr;
	}
	if (j->root_id[0] != '\0') {
		if (oobsp_epr(&repr, &rsel, r_uri, sizeof(r_uri),
		    "AMT_PublicKeyCertificate", "InstanceID", j->root_id) != 0)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT,
			    AMTP_E_INTERNAL, "class");
		in[n].name = "CACredential";
		in[n++].epr = &repr;
	}
	return oobsp_invoke(j, WIFISVC, "AddWiFiSettings", in, n, NULL, 0);
}

static int
wifi_add(struct oobsp_job *j)
{
	const struct oobsp_wifi *w = &j->e->pol->wifi[j->idx];
	struct amtp_wsman_prop in[5], sp[7];
	struct amtp_wsman_selector sel[1];
	struct amtp_wsman_epr epr;
	struct amtp_wsman_obj set;
	char ep_uri[256], set_uri[256], id[128], auth[8], enc[8], prio[8];
	int r;

	if ((r = oobsp_epr(&epr, sel, ep_uri, sizeof(ep_uri),
	    "CIM_WiFiEndpoint", "Name", "WiFi Endpoint 0")) != 0 ||
	    (r = oobsp_class_uri(WIFISET, set_uri, sizeof(set_uri))) != 0)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, r, "class");
	snprintf(id, sizeof(id), "Intel(r) AMT:WiFi Endpoint Settings %s",
	    w->name);
	snprintf(auth, sizeof(auth), "%d", w->auth);
	snprintf(enc, sizeof(enc), "%d", w->enc);
	snprintf(prio, sizeof(prio), "%d", w->priority);
	memset(sp, 0, sizeof(sp));
	sp[0].name = "ElementName";
	sp[0].text = w->name;
	sp[1].name = "InstanceID";
	sp[1].text = id;
	sp[2].name = "AuthenticationMethod";
	sp[2].text = auth;
	sp[3].name = "EncryptionMethod";
	sp[3].text = enc;
	sp[4].name = "SSID";
	sp[4].text = w->ssid;
	sp[5].name = "Priority";
	sp[5].text = prio;
	sp[6].name = "PSKPassPhrase";
	sp[6].text = w->psk != NULL ? amtp_secret_cstr(w->psk) : NULL;
	memset(&set, 0, sizeof(set));
	set.ns = set_uri;
	set.props = sp;
	set.nprops = w->psk != NULL ? 7 : 6;
	memset(in, 0, sizeof(in));
	in[0].name = "WiFiEndpoint";
	in[0].epr = &epr;
	in[1].name = "WiFiEndpointSettingsInput";
	in[1].obj = &set;
	if (w->psk != NULL)
		return oobsp_invoke(j, WIFISVC, "AddWiFiSettings", in, 2, NULL,
		    0);
	return wifi_add_8021x(j, in, &j->e->pol->x8021[w->x8021]);
}

/* Writes profile j->idx: PSK at once; 802.1X after its certificates. */
static int
wifi_next(struct oobsp_job *j)
{
	const struct oobsp_wifi *w = &j->e->pol->wifi[j->idx];
	int r;

	if (w->psk != NULL) {
		j->pc = 7;
		return wifi_add(j);
	}
	j->pc = WIFI_XC;
	if ((r = oobsp_8021x_certs(j, w->x8021, WIFI_XC)) != OOBSP_OK)
		return r;
	j->pc = 7;
	return wifi_add(j);
}

int
oobsp_step_wifi(struct oobsp_job *j)
{
	const struct oobsp_policy *pol = j->e->pol;
	struct amtp_wsman_selector sel[1];
	const char *id;
	size_t i;
	int r;

	switch (j->pc) {
	case 0:
		if (pol->nwifi == 0) {
			oobsp_detail(j, "no Wi-Fi profile configured");
			return OOBSP_SKIPPED;
		}
		/* the candidates a failed try of this step noted stay: the
		 * profiles may be gone already, and with them the links */
		if (j->step_tries == 0) {
			j->nprune = 0;
			j->pruned = j->prune_kept = 0;
		}
		j->pc = 1;
		return oobsp_enumerate(j, WIFIPORT);
	case 1:
		/* a platform without wireless has no such class: AMT
		 * answers DestinationUnreachable */
		if (oobsp_reply_unreachable(j)) {
			oobsp_detail(j, "the device has no wireless interface: "
			    "%zu profiles not written", pol->nwifi);
			return OOBSP_SKIPPED;
		}
		return oobsp_pull_next(j, WIFIPORT, 2);
	case 2:
		if ((r = oobsp_reply_ok(j, WIFIPORT, NULL)) != 0)
			return r;
		if (j->resp->nitems == 0) {
			oobsp_detail(j, "the device has no wireless interface: "
			    "%zu profiles not written", pol->nwifi);
			return OOBSP_SKIPPED;
		}
		/* the certificates the existing profiles use, before the
		 * profiles (and so their links) go */
		j->pc = WIFI_LC;
		if ((r = oobsp_8021x_links(j, OOBSP_LINKS_WIFI, WIFI_LC)) !=
		    OOBSP_OK)
			return r;
		j->pc = 3;
		return oobsp_enumerate(j, WIFISET);
	case 3:
		return oobsp_pull_next(j, WIFISET, 4);
	case 4:
		if ((r = oobsp_reply_ok(j, WIFISET, NULL)) != 0)
			return r;
		j->nids = 0;
		for (i = 0; i < j->resp->nitems; i++) {
			/* entries without InstanceID cannot be deleted */
			id = amtp_wsman_obj_text(&j->resp->items[i],
			    "InstanceID");
			if (id == NULL || id[0] == '\0' ||
			    strlen(id) >= sizeof(j->ids[0]) ||
			    j->nids >= OOBSP_IDS_MAX)
				continue;
			amtp_strlcpy(j->ids[j->nids++], id, sizeof(j->ids[0]));
		}
		j->idx = 0;
		j->pc = 5;
		/* FALLTHROUGH */
	case 5:
		if (j->idx < j->nids) {
			memset(sel, 0, sizeof(sel));
			sel[0].name = "InstanceID";
			sel[0].value = j->ids[j->idx];
			j->pc = 6;
			return oobsp_delete(j, WIFISET, sel, 1);
		}
		/* then their certificates and keys, those nothing else
		 * uses, before the new profiles take space */
		j->pc = WIFI_PR;
		if ((r = oobsp_8021x_prune(j, WIFI_PR)) != OOBSP_OK)
			return r;
		j->idx = 0;
		return wifi_next(j);
	case 6:
		if ((r = oobsp_reply_ok(j, WIFISET, NULL)) != 0)
			return r;
		j->idx++;
		j->pc = 5;
		return oobsp_step_wifi(j);
	case 7:
		if ((r = oobsp_reply_ok(j, WIFISVC, "AddWiFiSettings")) != 0)
			return r;
		if (++j->idx < pol->nwifi)
			return wifi_next(j);
		oobsp_detail(j, "%zu Wi-Fi profiles deleted (their "
		    "certificates and keys: %d deleted, %d kept in use), %zu "
		    "added", j->nids, j->pruned, j->prune_kept, pol->nwifi);
		return OOBSP_OK;
	default:
		if (j->pc >= WIFI_LC && j->pc < WIFI_LC + OOBSP_LC_PCS) {
			if ((r = oobsp_8021x_links(j, OOBSP_LINKS_WIFI,
			    WIFI_LC)) != OOBSP_OK)
				return r;
			j->pc = 3;
			return oobsp_enumerate(j, WIFISET);
		}
		if (j->pc >= WIFI_PR && j->pc < WIFI_PR + OOBSP_PR_PCS) {
			if ((r = oobsp_8021x_prune(j, WIFI_PR)) != OOBSP_OK)
				return r;
			j->idx = 0;
			return wifi_next(j);
		}
		if (j->pc >= WIFI_XC && j->pc < WIFI_XC + OOBSP_XC_PCS) {
			r = oobsp_8021x_certs(j,
			    pol->wifi[j->idx].x8021, WIFI_XC);
			if (r != OOBSP_OK)
				return r;
			j->pc = 7;
			return wifi_add(j);
		}
	}
	return bad_pc(j);
}

/* ------------------------------------------------------------------ */
/* wired-8021x                                                          */
/* ------------------------------------------------------------------ */

#define X8021		"AMT_8021XProfile"
#define IPSX		"IPS_IEEE8021xSettings"

static int
wired_detail(struct oobsp_job *j, const struct oobsp_8021x *x,
    const char *how)
{
	oobsp_detail(j, "wired 802.1X profile %s enabled%s%s%s%s; %s",
	    x->name, j->root_id[0] != '\0' ? "; root " : "", j->root_id,
	    j->client_id[0] != '\0' ? "; client certificate " : "",
	    j->client_id, how);
	return OOBSP_OK;
}

/* IPS_IEEE8021xSettings.SetCertificates with the references the
 * certificates sub-step made (an absent one is left out). */
static int
wired_set_certs(struct oobsp_job *j)
{
	struct amtp_wsman_prop in[2];
	struct amtp_wsman_selector rsel, csel;
	struct amtp_wsman_epr repr, cepr;
	char r_uri[256], c_uri[256];
	size_t n = 0;

	memset(in, 0, sizeof(in));
	if (j->root_id[0] != '\0') {
		if (oobsp_epr(&repr, &rsel, r_uri, sizeof(r_uri),
		    "AMT_PublicKeyCertificate", "InstanceID", j->root_id) != 0)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT,
			    AMTP_E_INTERNAL, "class");
		in[n].name = "ServerCertificateIssuer";
		in[n++].epr = &repr;
	}
	if (j->client_id[0] != '\0') {
		if (oobsp_epr(&cepr, &csel, c_uri, sizeof(c_uri),
		    "AMT_PublicKeyCertificate", "InstanceID", j->client_id) != 0)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT,
			    AMTP_E_INTERNAL, "class");
		in[n].name = "ClientCertificate";
		in[n++].epr = &cepr;
	}
	j->pc = 6;
	return oobsp_invoke(j, IPSX, "SetCertificates", in, n, NULL, 0);
}

/*
 * The wired interface: the profile's certificates (steps_8021x.c), the
 * profile's fields Put on AMT_8021XProfile (AMT 6 and later) and, where
 * the device has it, on IPS_IEEE8021xSettings (newer AMT; Enabled 2 with
 * certificates, 6 without), then the certificates linked to it with
 * IPS_IEEE8021xSettings.SetCertificates (the link AMT shows as an
 * IPS_8021xCredentialContext), and the certificates the settings were
 * linked to before deleted when nothing uses them any more.
 */
int
oobsp_step_wired_8021x(struct oobsp_job *j)
{
	static const char *const names[] = { "Enabled", "ActiveInS0",
	    "AuthenticationProtocol", "ServerCertificateName",
	    "ServerCertificateNameComparison", "Username", "Password" };
	static const char *const inames[] = { "Enabled", "AvailableInS0",
	    "AuthenticationProtocol", "ServerCertificateName",
	    "ServerCertificateNameComparison", "Username", "Password" };
	const struct oobsp_policy *pol = j->e->pol;
	const struct oobsp_8021x *x;
	const char *values[7];
	char proto[8], how[160];
	size_t n;
	int r;

	if (!pol->wired_8021x || pol->wired < 0) {
		oobsp_detail(j, "no wired 802.1X profile configured");
		return OOBSP_SKIPPED;
	}
	x = &pol->x8021[pol->wired];
	snprintf(proto, sizeof(proto), "%d", x->protocol);
	values[1] = "true";
	values[2] = proto;
	values[3] = x->server_name;
	values[4] = "0";
	values[5] = x->username;
	values[6] = x->password != NULL ? amtp_secret_cstr(x->password) : "";
	/* EAP-TLS has no user password */
	n = x->protocol != 0 ? 7 : x->username[0] != '\0' ? 6 : 5;
	switch (j->pc) {
	case 0:
		if (j->step_tries == 0) {	/* as in the wifi step */
			j->nprune = 0;
			j->pruned = j->prune_kept = 0;
		}
		j->pc = WIFI_XC;
		if ((r = oobsp_8021x_certs(j, pol->wired, WIFI_XC)) !=
		    OOBSP_OK)
			return r;
		j->pc = 1;
		return oobsp_get(j, X8021, NULL, 0);
	case 1:
		if ((r = oobsp_reply_ok(j, X8021, NULL)) != 0)
			return r;
		amtp_wsman_response_free(j->saved);
		j->saved = j->resp;
		j->resp = NULL;
		values[0] = "true";
		j->pc = 2;
		return oobsp_put_modified(j, X8021, NULL, 0, names, values, n);
	case 2:
		if ((r = oobsp_reply_ok(j, X8021, NULL)) != 0)
			return r;
		amtp_wsman_response_free(j->saved);
		j->saved = NULL;
		j->pc = 3;
		return oobsp_get(j, IPSX, NULL, 0);
	case 3:
		if (oobsp_reply_unreachable(j))
			/* XXX an AMT without IPS_IEEE8021xSettings: the
			 * certificates are on the device but not linked */
			return wired_detail(j, x, "the device has no "
			    IPSX ": certificates not linked");
		if ((r = oobsp_reply_ok(j, IPSX, NULL)) != 0)
			return r;
		amtp_wsman_response_free(j->saved);
		j->saved = j->resp;
		j->resp = NULL;
		values[0] = j->root_id[0] != '\0' || j->client_id[0] != '\0' ?
		    "2" : "6";
		j->pc = 4;
		return oobsp_put_modified(j, IPSX, NULL, 0, inames, values, n);
	case 4:
		if ((r = oobsp_reply_ok(j, IPSX, NULL)) != 0)
			return r;
		amtp_wsman_response_free(j->saved);
		j->saved = NULL;
		/* what the settings were linked to, before the new link */
		j->pc = WIFI_LC;
		if ((r = oobsp_8021x_links(j, OOBSP_LINKS_WIRED, WIFI_LC)) !=
		    OOBSP_OK)
			return r;
		/* FALLTHROUGH */
	case 5:
		if (j->root_id[0] == '\0' && j->client_id[0] == '\0') {
			j->pc = WIFI_PR;
			goto prune;
		}
		return wired_set_certs(j);
	case 6:
		if ((r = oobsp_reply_ok(j, IPSX, "SetCertificates")) != 0)
			return r;
		j->pc = WIFI_PR;
		goto prune;
	default:
		if (j->pc >= WIFI_XC && j->pc < WIFI_XC + OOBSP_XC_PCS) {
			if ((r = oobsp_8021x_certs(j, pol->wired, WIFI_XC)) !=
			    OOBSP_OK)
				return r;
			j->pc = 1;
			return oobsp_get(j, X8021, NULL, 0);
		}
		if (j->pc >= WIFI_LC && j->pc < WIFI_LC + OOBSP_LC_PCS) {
			if ((r = oobsp_8021x_links(j, OOBSP_LINKS_WIRED,
			    WIFI_LC)) != OOBSP_OK)
				return r;
			j->pc = 5;
			return oobsp_step_wired_8021x(j);
		}
		if (j->pc >= WIFI_PR && j->pc < WIFI_PR + OOBSP_PR_PCS)
			goto prune;
	}
	return bad_pc(j);
 prune:
	if ((r = oobsp_8021x_prune(j, WIFI_PR)) != OOBSP_OK)
		return r;
	snprintf(how, sizeof(how), "%s; the former link's certificates and "
	    "keys: %d deleted, %d kept in use", j->root_id[0] != '\0' ||
	    j->client_id[0] != '\0' ? "linked with " IPSX ".SetCertificates" :
	    "no certificate to link", j->pruned, j->prune_kept);
	return wired_detail(j, x, how);
}
