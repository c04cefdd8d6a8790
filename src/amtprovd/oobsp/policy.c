/*
 * amtprov - oobsp/policy.c: what the service point (role oobsp) applies to
 * every device, read once from amtprovd.conf: the setup credential list,
 * password lengths and the MEBx policy, the user ACL entries, Kerberos,
 * power and network services.  Secret files are read at load time (before
 * the role narrows its privileges) and kept in struct amtp_secret.
 */
#include <stdio.h>
#include <string.h>

#include "amtprov/conf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/pki.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "oobsp/oobsp.h"

/* AMT realm (right) names of the configuration and their numbers (spec
 * 5.4, AMT_AuthorizationService RealmValue). */
static const struct {
	const char	*name;
	int		 value;
} realm_names[] = {
	{ "redirection", 2 }, { "pt_administration", 3 },
	{ "hardware_asset", 4 }, { "remote_control", 5 }, { "storage", 6 },
	{ "event_manager", 7 }, { "storage_admin", 8 },
	{ "agent_presence_local", 9 }, { "agent_presence_remote", 10 },
	{ "circuit_breaker", 11 }, { "network_time", 12 },
	{ "general_info", 13 }, { "firmware_update", 14 }, { "eit", 15 },
	{ "local_un", 16 }, { "endpoint_access_control", 17 },
	{ "endpoint_access_control_admin", 18 }, { "event_log_reader", 19 },
	{ "audit_log", 20 }, { "acl", 21 }, { "local_system", 24 },
};

/* The realm number of a configured name, or -1. */


int
oobsp_realm_parse(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(realm_names) / sizeof(realm_names[0]); i++)
		if (strcmp(realm_names[i].name, name) == 0)
			return realm_names[i].value;
	return -1;
}

static int
load_secret(const char *path, struct amtp_secret **out, char *err,
    size_t errlen)
{
	if (path == NULL)
		return amtp_secret_new("", 0, out);
	return amtp_secret_load_file(path, AMTP_AMT_PASSWORD_MAX, out, err,
	    errlen);
}

static int
find_8021x(const struct oobsp_policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nx8021; i++)
		if (strcmp(p->x8021[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* [ieee8021x.*]: method, server names, root, user and password. */
static int
load_8021x(const struct amtp_conf *c, struct oobsp_policy *p, char *err,
    size_t errlen)
{
	const char *names[OOBSP_8021X_MAX + 1], *v;
	STACK_OF(X509) *roots = NULL;
	char sub[256] = "";
	size_t i, n;
	int r;

	n = amtp_conf_sections(c, "ieee8021x.*", names, OOBSP_8021X_MAX + 1);
	if (n > OOBSP_8021X_MAX) {
		snprintf(err, errlen, "ieee8021x: at most %d sections",
		    OOBSP_8021X_MAX);
		return AMTP_E_CONFIG;
	}
	for (i = 0; i < n; i++) {
		struct oobsp_8021x *x = &p->x8021[i];

		p->nx8021++;
		amtp_strlcpy(x->name, names[i] + strlen("ieee8021x."),
		    sizeof(x->name));
		v = amtp_conf_str(c, names[i], "method");
		x->protocol = v == NULL || strcmp(v, "eap_tls") == 0 ? 0 :
		    strcmp(v, "eap_ttls_mschapv2") == 0 ? 1 : 2;
		if (amtp_conf_list_len(c, names[i], "server_names") > 0)
			amtp_strlcpy(x->server_name, amtp_conf_list_item(c,
			    names[i], "server_names", 0),
			    sizeof(x->server_name));
		if ((v = amtp_conf_str(c, names[i], "username")) != NULL)
			amtp_strlcpy(x->username, v, sizeof(x->username));
		x->client_cert = x->protocol == 0 &&
		    amtp_conf_bool(c, names[i], "client_certificate");
		if ((v = amtp_conf_str(c, names[i], "ca_cert_file")) != NULL) {
			if ((r = amtp_pki_chain_load(v, &roots)) != 0) {
				snprintf(err, errlen, "%s.ca_cert_file: %s",
				    names[i], amtp_strerror(r));
				return AMTP_E_CONFIG;
			}
			x->ca = X509_dup(sk_X509_value(roots,
			    sk_X509_num(roots) - 1));
			amtp_pki_chain_free(roots);
			roots = NULL;
			if (x->ca == NULL)
				return AMTP_E_NOMEM;
		}
		if (x->protocol != 0) {
			v = amtp_conf_str(c, names[i], "password_file");
			if (v == NULL || x->username[0] == '\0') {
				snprintf(err, errlen, "%s: username and "
				    "password_file are required by %s", names[i],
				    amtp_conf_str(c, names[i], "method"));
				return AMTP_E_CONFIG;
			}
			if ((r = amtp_secret_load_file(v, AMTP_AMT_PASSWORD_MAX,
			    &x->password, sub, sizeof(sub))) != 0) {
				snprintf(err, errlen, "%s.password_file: %s",
				    names[i], sub);
				return r;
			}
		}
	}
	return 0;
}

void
oobsp_policy_reset(struct oobsp_policy *p)
{
	size_t i;

	for (i = 0; i < p->ncreds; i++)
		amtp_secret_free(p->creds[i].password);
	for (i = 0; i < p->nacls; i++)
		amtp_secret_free(p->acls[i].password);
	for (i = 0; i < p->nwifi; i++)
		amtp_secret_free(p->wifi[i].psk);
	for (i = 0; i < p->nx8021; i++) {
		amtp_secret_free(p->x8021[i].password);
		X509_free(p->x8021[i].ca);
	}
	amtp_secret_free(p->mebx_fixed);
	explicit_bzero(p, sizeof(*p));
}

int
oobsp_policy_load(const struct amtp_conf *c, struct oobsp_policy *p,
    char *err, size_t errlen)
{
	const char *names[OOBSP_WIFI_MAX + OOBSP_ACLS_MAX + 1], *v, *item;
	char sub[256] = "";
	size_t i, k, n;
	int r, realm;

	memset(p, 0, sizeof(*p));
	if ((v = amtp_conf_str(c, "oob", "dns_domain")) != NULL)
		amtp_strlcpy(p->dns_domain, v, sizeof(p->dns_domain));
	p->admin_pw_len = (size_t)amtp_conf_int(c, "oob",
	    "admin_password_length");
	p->mebx_pw_len = (size_t)amtp_conf_int(c, "mebx", "password_length");
	v = amtp_conf_str(c, "mebx", "policy");
	p->mebx = v == NULL || strcmp(v, "random") == 0 ? OOBSP_MEBX_RANDOM :
	    strcmp(v, "fixed") == 0 ? OOBSP_MEBX_FIXED : OOBSP_MEBX_KEEP;
	if (p->mebx == OOBSP_MEBX_FIXED) {
		v = amtp_conf_str(c, "mebx", "password_file");
		if (v == NULL) {
			snprintf(err, errlen, "mebx.password_file: required by "
			    "policy fixed");
			r = AMTP_E_CONFIG;
			goto out;
		}
		if ((r = load_secret(v, &p->mebx_fixed, sub,
		    sizeof(sub))) != 0) {
			snprintf(err, errlen, "mebx.password_file: %s", sub);
			goto out;
		}
	}

	/* setup credentials, in file order; none: admin with "" */
	n = amtp_conf_sections(c, "setup_credential.*", names,
	    OOBSP_SETUP_CREDS_MAX + 1);
	if (n > OOBSP_SETUP_CREDS_MAX) {
		snprintf(err, errlen, "setup_credential: at most %d sections",
		    OOBSP_SETUP_CREDS_MAX);
		r = AMTP_E_CONFIG;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct oobsp_setup_cred *sc = &p->creds[i];

		amtp_strlcpy(sc->name, names[i] + strlen("setup_credential."),
		    sizeof(sc->name));
		amtp_strlcpy(sc->user, amtp_conf_str(c, names[i], "user"),
		    sizeof(sc->user));
		if ((r = load_secret(amtp_conf_str(c, names[i],
		    "password_file"), &sc->password, sub, sizeof(sub))) != 0) {
			snprintf(err, errlen, "%s.password_file: %s", names[i],
			    sub);
			goto out;
		}
		p->ncreds++;
	}
	if (p->ncreds == 0) {
		amtp_strlcpy(p->creds[0].name, "default (admin, empty "
		    "password)", sizeof(p->creds[0].name));
		amtp_strlcpy(p->creds[0].user, "admin", sizeof(p->creds[0].user));
		if ((r = amtp_secret_new("", 0, &p->creds[0].password)) != 0)
			goto out;
		p->ncreds = 1;
	}

	/* user ACL entries */
	n = amtp_conf_sections(c, "admin_acl.*", names, OOBSP_ACLS_MAX + 1);
	if (n > OOBSP_ACLS_MAX) {
		snprintf(err, errlen, "admin_acl: at most %d sections",
		    OOBSP_ACLS_MAX);
		r = AMTP_E_CONFIG;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct oobsp_acl *a = &p->acls[i];

		amtp_strlcpy(a->name, names[i] + strlen("admin_acl."),
		    sizeof(a->name));
		amtp_strlcpy(a->account, amtp_conf_str(c, names[i], "account"),
		    sizeof(a->account));
		v = amtp_conf_str(c, names[i], "type");
		a->kerberos = v != NULL && strcmp(v, "kerberos") == 0;
		v = amtp_conf_str(c, names[i], "access");
		a->access = v == NULL || strcmp(v, "any") == 0 ? 2 :
		    strcmp(v, "network") == 0 ? 1 : 0;
		if (!a->kerberos) {
			v = amtp_conf_str(c, names[i], "password_file");
			if (v == NULL) {
				snprintf(err, errlen, "%s.password_file: "
				    "required by type digest", names[i]);
				r = AMTP_E_CONFIG;
				goto out;
			}
			if ((r = load_secret(v, &a->password, sub,
			    sizeof(sub))) != 0) {
				snprintf(err, errlen, "%s.password_file: %s",
				    names[i], sub);
				goto out;
			}
		}
		k = amtp_conf_list_len(c, names[i], "realms");
		if (k > OOBSP_ACL_REALMS_MAX) {
			snprintf(err, errlen, "%s.realms: at most %d",
			    names[i], OOBSP_ACL_REALMS_MAX);
			r = AMTP_E_CONFIG;
			goto out;
		}
		for (a->nrealms = 0; a->nrealms < k; a->nrealms++) {
			item = amtp_conf_list_item(c, names[i], "realms",
			    a->nrealms);
			if ((realm = oobsp_realm_parse(item)) < 0) {
				snprintf(err, errlen, "%s.realms: unknown realm "
				    "\"%.32s\"", names[i], item);
				r = AMTP_E_CONFIG;
				goto out;
			}
			a->realms[a->nrealms] = realm;
		}
		p->nacls++;
	}

	p->kerberos = amtp_conf_bool(c, "kerberos", "enabled");
	if ((v = amtp_conf_str(c, "kerberos", "realm")) != NULL)
		amtp_strlcpy(p->krb_realm, v, sizeof(p->krb_realm));
	p->krb_tolerance = (int)amtp_conf_int(c, "kerberos",
	    "clock_tolerance");
	v = amtp_conf_str(c, "oob", "power_scheme");
	p->power_scheme = v == NULL ? 2 : strcmp(v, "s0") == 0 ? 0 :
	    strcmp(v, "s0_s3") == 0 ? 1 : 2;
	p->web_ui = amtp_conf_bool(c, "oob", "web_ui");
	p->sol = amtp_conf_bool(c, "oob", "serial_over_lan");
	p->ider = amtp_conf_bool(c, "oob", "ide_redirection");
	p->ping = amtp_conf_bool(c, "oob", "ping_response");
	if ((r = load_8021x(c, p, err, errlen)) != 0)
		goto out;
	n = amtp_conf_sections(c, "wifi.*", names, OOBSP_WIFI_MAX + 1);
	if (n > OOBSP_WIFI_MAX) {
		snprintf(err, errlen, "wifi: at most %d sections",
		    OOBSP_WIFI_MAX);
		r = AMTP_E_CONFIG;
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct oobsp_wifi *w = &p->wifi[i];
		int psk;

		amtp_strlcpy(w->name, names[i] + strlen("wifi."),
		    sizeof(w->name));
		amtp_strlcpy(w->ssid, amtp_conf_str(c, names[i], "ssid"),
		    sizeof(w->ssid));
		v = amtp_conf_str(c, names[i], "security");
		w->auth = v == NULL || strcmp(v, "wpa2_psk") == 0 ? 6 :
		    strcmp(v, "wpa_psk") == 0 ? 4 :
		    strcmp(v, "wpa2_enterprise") == 0 ? 7 : 5;
		v = amtp_conf_str(c, names[i], "encryption");
		w->enc = v != NULL && strcmp(v, "tkip") == 0 ? 3 : 4;
		w->priority = (int)amtp_conf_int(c, names[i], "priority");
		psk = w->auth == 4 || w->auth == 6;
		w->x8021 = -1;
		if (!psk) {
			v = amtp_conf_str(c, names[i], "ieee8021x");
			if (v == NULL || (w->x8021 = find_8021x(p, v)) < 0) {
				snprintf(err, errlen, "%s.ieee8021x: an enterprise "
				    "profile names an [ieee8021x.NAME] section",
				    names[i]);
				r = AMTP_E_CONFIG;
				p->nwifi++;
				goto out;
			}
		}
		v = amtp_conf_str(c, names[i], "psk_file");
		if (psk && v == NULL) {
			snprintf(err, errlen, "%s.psk_file: required by a PSK "
			    "profile", names[i]);
			r = AMTP_E_CONFIG;
			goto out;
		}
		if (psk) {
			if ((r = amtp_secret_load_file(v, 63, &w->psk, sub,
			    sizeof(sub))) != 0) {
				snprintf(err, errlen, "%s.psk_file: %s",
				    names[i], sub);
				goto out;
			}
			if (amtp_secret_len(w->psk) < 8) {
				snprintf(err, errlen, "%s.psk_file: a passphrase "
				    "has 8 to 63 characters", names[i]);
				r = AMTP_E_CONFIG;
				p->nwifi++;
				goto out;
			}
		}
		p->nwifi++;
	}
	p->wired = -1;
	if ((v = amtp_conf_str(c, "oob", "wired_8021x")) != NULL) {
		p->wired_8021x = 1;
		if ((p->wired = find_8021x(p, v)) < 0) {
			snprintf(err, errlen, "oob.wired_8021x: no section "
			    "[ieee8021x.%.64s]", v);
			r = AMTP_E_CONFIG;
			goto out;
		}
	}
	r = 0;
 out:
	if (r != 0)
		oobsp_policy_reset(p);
	return r;
}
