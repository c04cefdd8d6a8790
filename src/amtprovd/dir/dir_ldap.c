/*
 * amtprov - dir/dir_ldap.c: the directory on LDAP (Active Directory, Samba
 * AD, OpenLDAP) through OpenLDAP's libldap (role site).
 *
 * An account is the entry <naming_attr>=<host>,<container> with the
 * configured object classes; see dir.h for the attributes.  Every value we
 * put in a DN or an entry is a checked DNS name (letters, digits, '-', '.'),
 * so nothing needs DN or filter escaping; the container comes from the
 * administrator's configuration and is passed as given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <ldap.h>
#include <openssl/evp.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/rand.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "dir/dir.h"

/* userAccountControl values (Active Directory): a workstation trust
 * account, and the ACCOUNTDISABLE bit. */
#define UAC_WORKSTATION		4096
#define UAC_DISABLED		0x2

#define DEFAULT_TIMEOUT		10

struct ldap_be {
	LDAP	*ld;
	char	 classes[AMTP_DIR_CLASSES_MAX][AMTP_DIR_NAME_MAX + 1];
	size_t	 nclasses;
	char	 naming[AMTP_DIR_NAME_MAX + 1];
	char	 account[AMTP_DIR_NAME_MAX + 1];
	char	 spn[AMTP_DIR_NAME_MAX + 1];
	char	 dns[AMTP_DIR_NAME_MAX + 1];
	char	 password[AMTP_DIR_NAME_MAX + 1];
	char	 uac[AMTP_DIR_NAME_MAX + 1];
	int	 unicodepwd;		/* AD password encoding */
	int	 ssha;			/* userPassword: stored as {SSHA} */
	int	 timeout;
	/* What connecting takes, kept to connect again when the server
	 * dropped the connection (AD closes idle ones after 15 minutes). */
	char	 uri[AMTP_DIR_URI_MAX + 1];
	char	 ca_file[AMTP_DIR_DN_MAX + 1];		/* "" none */
	char	 bind_dn[AMTP_DIR_DN_MAX + 1];		/* "" none */
	char	 sasl_mech[AMTP_DIR_NAME_MAX + 1];	/* "" simple bind */
	int	 starttls;
	struct amtp_secret *bind_pw;			/* NULL none */
	int	 reconnects;		/* times the connection was made again */
};

/* 1 when rc says the connection is gone (try once more on a new one). */
static int
conn_lost(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_UNAVAILABLE ||
	    rc == LDAP_CONNECT_ERROR;
}

static int l_connect(struct amtp_dir *);

/* Connects when an earlier reconnect failed (be->ld is NULL then). */
static int
ensure(struct amtp_dir *d)
{
	struct ldap_be *be = d->be;

	return be->ld != NULL ? 0 : l_connect(d);
}

/* Drops the dead connection and makes a new one. */
static int
reconnect(struct amtp_dir *d)
{
	struct ldap_be *be = d->be;

	if (be->ld != NULL)
		(void)ldap_unbind_ext_s(be->ld, NULL, NULL);
	be->ld = NULL;
	be->reconnects++;
	return l_connect(d);
}

/* An attribute or class name: a letter then letters, digits, '-', or a
 * numeric OID. */
static int
valid_attr(const char *s, int allow_empty)
{
	size_t i, n = strnlen(s, AMTP_DIR_NAME_MAX + 1);

	if (n == 0)
		return allow_empty;
	if (n > AMTP_DIR_NAME_MAX)
		return 0;
	if (s[0] >= '0' && s[0] <= '9') {
		for (i = 0; i < n; i++)
			if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
				return 0;
		return 1;
	}
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (i > 0 && ((s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-'))))
			return 0;
	return 1;
}

static int
set_name(char *dst, const char *v, const char *def, int allow_empty)
{
	if (v == NULL)
		v = def;
	if (!valid_attr(v, allow_empty))
		return AMTP_E_CONFIG;
	(void)amtp_strlcpy(dst, v, AMTP_DIR_NAME_MAX + 1);
	return 0;
}

static int
set_classes(struct ldap_be *be, const char *list)
{
	const char *p, *e;
	size_t n;

	if (list == NULL)
		list = "computer";
	for (p = list; *p != '\0'; p = *e ? e + 1 : e) {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		if (n == 0 || n > AMTP_DIR_NAME_MAX ||
		    be->nclasses == AMTP_DIR_CLASSES_MAX)
			return AMTP_E_CONFIG;
		memcpy(be->classes[be->nclasses], p, n);
		be->classes[be->nclasses][n] = '\0';
		if (!valid_attr(be->classes[be->nclasses], 0))
			return AMTP_E_CONFIG;
		be->nclasses++;
	}
	return be->nclasses > 0 ? 0 : AMTP_E_CONFIG;
}

/* Describes an LDAP failure in d->errmsg and maps it to an AMTP_E_*. */
static int
ldap_fail(struct amtp_dir *d, const char *what, int rc)
{
	struct ldap_be *be = d->be;
	char *diag = NULL;

	if (be != NULL && be->ld != NULL)
		(void)ldap_get_option(be->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	/* A cut message is still useful. */
	(void)snprintf(d->errmsg, sizeof(d->errmsg), "%s: %s%s%s", what,
	    ldap_err2string(rc), diag && *diag ? ": " : "", diag ? diag : "");
	ldap_memfree(diag);
	switch (rc) {
	case LDAP_NO_SUCH_OBJECT:
		return AMTP_E_NOTFOUND;
	case LDAP_ALREADY_EXISTS:
		return AMTP_E_EXISTS;
	case LDAP_TIMEOUT:
	case LDAP_TIMELIMIT_EXCEEDED:
		return AMTP_E_TIMEOUT;
	case LDAP_INVALID_CREDENTIALS:
	case LDAP_INAPPROPRIATE_AUTH:
		return AMTP_E_AUTH;
	case LDAP_INSUFFICIENT_ACCESS:
		return AMTP_E_PERM;
	case LDAP_CONNECT_ERROR:
		return AMTP_E_TLS;
	default:
		return AMTP_E_LDAP;
	}
}

static int
make_dn(const struct ldap_be *be, const char *container, const char *host,
    char *dn, size_t dnsz)
{
	int n = snprintf(dn, dnsz, "%s=%s,%s", be->naming, host, container);

	if (n < 0 || (size_t)n >= dnsz)
		return AMTP_E_TOOBIG;
	return 0;
}

/*
 * OpenLDAP's userPassword: "{SSHA}" + base64(SHA-1(password || salt) || salt)
 * with an 8-byte random salt.  Stored hashed, the directory holds no clear
 * password; and a clear value that happens to start with "{" would be taken
 * by slapd for a scheme name, so such a password could never bind.
 */
static int
ssha_value(const uint8_t *p, size_t n, struct berval *bv)
{
	uint8_t raw[20 + 8];
	unsigned int dlen = 0;
	struct amtp_buf *b = NULL;
	EVP_MD_CTX *ctx = NULL;
	char *v = NULL;
	int r;

	if ((r = amtp_rand_bytes(raw + 20, 8)) != 0)
		goto out;
	r = AMTP_E_CRYPTO;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, p, n) != 1 ||
	    EVP_DigestUpdate(ctx, raw + 20, 8) != 1 ||
	    EVP_DigestFinal_ex(ctx, raw, &dlen) != 1 || dlen != 20)
		goto out;
	r = AMTP_E_NOMEM;
	if ((b = amtp_buf_new(64)) == NULL)
		goto out;
	if ((r = amtp_buf_put_cstring(b, "{SSHA}")) != 0 ||
	    (r = amtp_b64_encode(b, raw, sizeof(raw))) != 0 ||
	    (r = amtp_buf_dup_cstring(b, &v)) != 0)
		goto out;
	bv->bv_val = v;
	bv->bv_len = strlen(v);
	v = NULL;
	r = 0;
 out:
	explicit_bzero(raw, sizeof(raw));
	EVP_MD_CTX_free(ctx);
	amtp_buf_free(b);
	free(v);
	return r;
}

/*
 * The password as the attribute wants it, in a new buffer the caller wipes:
 * AD's unicodePwd is the password in double quotes, UTF-16LE.
 */
static int
password_value(const struct ldap_be *be, const struct amtp_secret *pw,
    struct berval *bv)
{
	const uint8_t *p = amtp_secret_reveal(pw);
	size_t n = amtp_secret_len(pw), i;
	uint8_t *v;

	bv->bv_val = NULL;
	bv->bv_len = 0;
	if (n == 0 || n > AMTP_SECRET_MAX / 2)
		return AMTP_E_INVAL;
	if (be->ssha)
		return ssha_value(p, n, bv);
	if (!be->unicodepwd) {
		if ((v = malloc(n)) == NULL)
			return AMTP_E_NOMEM;
		memcpy(v, p, n);
		bv->bv_val = (char *)v;
		bv->bv_len = n;
		return 0;
	}
	if ((v = calloc(2, n + 2)) == NULL)
		return AMTP_E_NOMEM;
	v[0] = '"';
	for (i = 0; i < n; i++) {
		if (p[i] > 0x7e || p[i] < 0x20) {	/* ASCII passwords only */
			explicit_bzero(v, 2 * (n + 2));
			free(v);
			return AMTP_E_INVAL;
		}
		v[2 * (i + 1)] = p[i];
	}
	v[2 * (n + 1)] = '"';
	bv->bv_val = (char *)v;
	bv->bv_len = 2 * (n + 2);
	return 0;
}

static void
wipe_bv(struct berval *bv)
{
	if (bv->bv_val != NULL) {
		explicit_bzero(bv->bv_val, bv->bv_len);
		free(bv->bv_val);
	}
	bv->bv_val = NULL;
	bv->bv_len = 0;
}

/* Fills one LDAPMod with string values (NULL-terminated list). */
static void
mod_strings(LDAPMod *m, int op, char *type, char **values)
{
	memset(m, 0, sizeof(*m));
	m->mod_op = op;
	m->mod_type = type;
	m->mod_values = values;
}

static void
mod_binary(LDAPMod *m, int op, char *type, struct berval **bvals)
{
	memset(m, 0, sizeof(*m));
	m->mod_op = op | LDAP_MOD_BVALUES;
	m->mod_type = type;
	m->mod_bvalues = bvals;
}

static int
l_create(struct amtp_dir *d, const char *container, const char *fqdn,
    const char *host, int64_t device_id, const struct amtp_secret *pw,
    int *created, char spns[AMTP_DIR_SPN_COUNT][AMTP_DIR_SPN_MAX + 1])
{
	struct ldap_be *be = d->be;
	char dn[AMTP_DIR_DN_MAX + 1], acct[AMTP_DIR_NAME_MAX + 2];
	char uacv[16], *hostv[2], *classv[AMTP_DIR_CLASSES_MAX + 1];
	char *spnv[AMTP_DIR_SPN_COUNT + 1], *acctv[2], *dnsv[2], *uacvv[2];
	struct berval pwbv, *pwv[2];
	LDAPMod mods[8], *mp[9];
	size_t i, nm;
	int r, rc, add;

	(void)device_id;
	*created = 0;
	memset(&pwbv, 0, sizeof(pwbv));
	if ((r = make_dn(be, container, host, dn, sizeof(dn))) != 0 ||
	    (r = ensure(d)) != 0)
		return r;
	/* AD computer accounts: sAMAccountName is the upper-case host name
	 * and a '$'. */
	for (i = 0; host[i] != '\0' && i < AMTP_DIR_NAME_MAX; i++)
		acct[i] = (host[i] >= 'a' && host[i] <= 'z') ?
		    (char)(host[i] - 'a' + 'A') : host[i];
	acct[i++] = '$';
	acct[i] = '\0';
	(void)snprintf(uacv, sizeof(uacv), "%d", UAC_WORKSTATION);
	if ((r = password_value(be, pw, &pwbv)) != 0)
		return r;
	hostv[0] = (char *)(uintptr_t)host;
	hostv[1] = NULL;
	for (i = 0; i < be->nclasses; i++)
		classv[i] = be->classes[i];
	classv[i] = NULL;
	for (i = 0; i < AMTP_DIR_SPN_COUNT; i++)
		spnv[i] = spns[i];
	spnv[i] = NULL;
	acctv[0] = acct;
	acctv[1] = NULL;
	dnsv[0] = (char *)(uintptr_t)fqdn;
	dnsv[1] = NULL;
	uacvv[0] = uacv;
	uacvv[1] = NULL;
	pwv[0] = &pwbv;
	pwv[1] = NULL;

	/* Try to add; an entry that exists is updated instead (idempotent,
	 * and safe against two site servers racing). */
	for (add = 1; add >= 0; add--) {
		int op = add ? LDAP_MOD_ADD : LDAP_MOD_REPLACE;

		nm = 0;
		if (add) {
			mod_strings(&mods[nm++], op, (char *)"objectClass",
			    classv);
			mod_strings(&mods[nm++], op, be->naming, hostv);
		}
		mod_strings(&mods[nm++], op, be->spn, spnv);
		if (be->account[0] != '\0')
			mod_strings(&mods[nm++], op, be->account, acctv);
		if (be->dns[0] != '\0')
			mod_strings(&mods[nm++], op, be->dns, dnsv);
		if (be->uac[0] != '\0')
			mod_strings(&mods[nm++], op, be->uac, uacvv);
		mod_binary(&mods[nm++], op, be->password, pwv);
		for (i = 0; i < nm; i++)
			mp[i] = &mods[i];
		mp[nm] = NULL;
		for (i = 0; i < 2; i++) {
			if (add)
				rc = ldap_add_ext_s(be->ld, dn, mp, NULL, NULL);
			else
				rc = ldap_modify_ext_s(be->ld, dn, mp, NULL,
				    NULL);
			if (i > 0 || !conn_lost(rc) || reconnect(d) != 0)
				break;
		}
		if (rc == LDAP_SUCCESS) {
			*created = add;
			r = 0;
			goto out;
		}
		if (!(add && rc == LDAP_ALREADY_EXISTS))
			break;
	}
	r = ldap_fail(d, add ? "add" : "modify", rc);
 out:
	wipe_bv(&pwbv);
	return r;
}

/* Reads the entry of host: its SPNs and userAccountControl. */
static int
l_read(struct amtp_dir *d, const char *dn, struct amtp_dir_account *out,
    long long *uac)
{
	struct ldap_be *be = d->be;
	char *attrs[3];
	LDAPMessage *res = NULL, *e;
	struct berval **v = NULL;
	struct timeval tv;
	int rc, r, i, n;

	*uac = -1;
	if ((r = ensure(d)) != 0)
		return r;
	attrs[0] = be->spn;
	attrs[1] = be->uac[0] != '\0' ? be->uac : NULL;
	attrs[2] = NULL;
	tv.tv_sec = be->timeout;
	tv.tv_usec = 0;
	for (i = 0; i < 2; i++) {
		rc = ldap_search_ext_s(be->ld, dn, LDAP_SCOPE_BASE,
		    "(objectClass=*)", attrs, 0, NULL, NULL, &tv, 2, &res);
		if (i > 0 || !conn_lost(rc) || reconnect(d) != 0)
			break;
		ldap_msgfree(res);
		res = NULL;
	}
	if (rc != LDAP_SUCCESS) {
		r = ldap_fail(d, "search", rc);
		goto out;
	}
	r = AMTP_E_NOTFOUND;
	if ((e = ldap_first_entry(be->ld, res)) == NULL)
		goto out;
	r = AMTP_E_PROTO;
	if (out != NULL) {
		out->n_spns = 0;
		if ((v = ldap_get_values_len(be->ld, e, be->spn)) != NULL) {
			n = ldap_count_values_len(v);
			for (i = 0; i < n && out->n_spns < AMTP_STORE_SPNS_MAX;
			    i++) {
				if (v[i]->bv_len > AMTP_DIR_SPN_MAX ||
				    memchr(v[i]->bv_val, '\0', v[i]->bv_len))
					goto out;
				memcpy(out->spns[out->n_spns], v[i]->bv_val,
				    v[i]->bv_len);
				out->spns[out->n_spns++][v[i]->bv_len] = '\0';
			}
			ldap_value_free_len(v);
			v = NULL;
		}
	}
	if (be->uac[0] != '\0' &&
	    (v = ldap_get_values_len(be->ld, e, be->uac)) != NULL &&
	    ldap_count_values_len(v) == 1) {
		char num[AMTP_INT_TEXT_MAX + 1];

		if (v[0]->bv_len == 0 || v[0]->bv_len > AMTP_INT_TEXT_MAX)
			goto out;
		memcpy(num, v[0]->bv_val, v[0]->bv_len);
		num[v[0]->bv_len] = '\0';
		if (amtp_parse_int(num, -2147483648LL, 4294967295LL, uac) != 0)
			goto out;
	}
	r = 0;
 out:
	if (v != NULL)
		ldap_value_free_len(v);
	ldap_msgfree(res);
	return r;
}

static int
l_get(struct amtp_dir *d, const char *container, const char *host,
    struct amtp_dir_account *out)
{
	long long uac;
	int r;

	if ((r = make_dn(d->be, container, host, out->dn, sizeof(out->dn))) != 0)
		return r;
	if ((r = l_read(d, out->dn, out, &uac)) != 0)
		return r;
	(void)amtp_strlcpy(out->name, host, sizeof(out->name));
	out->enabled = uac < 0 ? 1 : !(uac & UAC_DISABLED);
	return 0;
}

static int
l_set_enabled(struct amtp_dir *d, const char *container, const char *host,
    int enabled)
{
	struct ldap_be *be = d->be;
	char dn[AMTP_DIR_DN_MAX + 1], num[24], *vals[2];
	LDAPMod mod, *mp[2];
	long long uac;
	int r, rc, i;

	if (be->uac[0] == '\0') {
		(void)snprintf(d->errmsg, sizeof(d->errmsg), "no account "
		    "control attribute configured: delete the account instead");
		return AMTP_E_UNSUPPORTED;
	}
	if ((r = make_dn(be, container, host, dn, sizeof(dn))) != 0 ||
	    (r = l_read(d, dn, NULL, &uac)) != 0)
		return r;
	if (uac < 0)
		uac = UAC_WORKSTATION;
	uac = enabled ? (uac & ~(long long)UAC_DISABLED) :
	    (uac | UAC_DISABLED);
	(void)snprintf(num, sizeof(num), "%lld", uac);
	vals[0] = num;
	vals[1] = NULL;
	mod_strings(&mod, LDAP_MOD_REPLACE, be->uac, vals);
	mp[0] = &mod;
	mp[1] = NULL;
	for (i = 0; i < 2; i++) {
		rc = ldap_modify_ext_s(be->ld, dn, mp, NULL, NULL);
		if (i > 0 || !conn_lost(rc) || reconnect(d) != 0)
			break;
	}
	if (rc != LDAP_SUCCESS)
		return ldap_fail(d, "modify", rc);
	return 0;
}

static int
l_del(struct amtp_dir *d, const char *container, const char *host)
{
	struct ldap_be *be = d->be;
	char dn[AMTP_DIR_DN_MAX + 1];
	int r, rc, i;

	if ((r = make_dn(be, container, host, dn, sizeof(dn))) != 0 ||
	    (r = ensure(d)) != 0)
		return r;
	for (i = 0; i < 2; i++) {
		rc = ldap_delete_ext_s(be->ld, dn, NULL, NULL);
		if (i > 0 || !conn_lost(rc) || reconnect(d) != 0)
			break;
	}
	if (rc != LDAP_SUCCESS)
		return ldap_fail(d, "delete", rc);
	return 0;
}

static void
l_close(struct amtp_dir *d)
{
	struct ldap_be *be = d->be;

	if (be == NULL)
		return;
	if (be->ld != NULL)
		(void)ldap_unbind_ext_s(be->ld, NULL, NULL);
	amtp_secret_free(be->bind_pw);
	free(be);
	d->be = NULL;
}

static const struct amtp_dir_ops ldap_ops = {
	"ldap", l_create, l_get, l_set_enabled, l_del, l_close
};

/* SASL interaction: none.  Mechanisms that need no prompt (EXTERNAL, GSSAPI
 * with a ticket cache) work; others fail at bind. */
static int
sasl_quiet(LDAP *ld, unsigned flags, void *defaults, void *interact)
{
	(void)ld;
	(void)flags;
	(void)defaults;
	(void)interact;
	return LDAP_SUCCESS;
}

/* Connects and binds with the kept settings (be->ld must be NULL). */
static int
l_connect(struct amtp_dir *d)
{
	struct ldap_be *be = d->be;
	struct berval cred;
	struct timeval tv;
	int r, rc, v;

	r = AMTP_E_LDAP;
	if ((rc = ldap_initialize(&be->ld, be->uri)) != LDAP_SUCCESS) {
		r = ldap_fail(d, "initialize", rc);
		goto out;
	}
	v = LDAP_VERSION3;
	tv.tv_sec = be->timeout;
	tv.tv_usec = 0;
	if (ldap_set_option(be->ld, LDAP_OPT_PROTOCOL_VERSION, &v) !=
	    LDAP_OPT_SUCCESS ||
	    ldap_set_option(be->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) !=
	    LDAP_OPT_SUCCESS ||
	    ldap_set_option(be->ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(be->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) !=
	    LDAP_OPT_SUCCESS)
		goto out;
	if (be->ca_file[0] != '\0') {
		v = LDAP_OPT_X_TLS_DEMAND;
		if (ldap_set_option(be->ld, LDAP_OPT_X_TLS_CACERTFILE,
		    be->ca_file) != LDAP_OPT_SUCCESS ||
		    ldap_set_option(be->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &v) !=
		    LDAP_OPT_SUCCESS)
			goto out;
		v = 0;
		if (ldap_set_option(be->ld, LDAP_OPT_X_TLS_NEWCTX, &v) !=
		    LDAP_OPT_SUCCESS) {
			r = AMTP_E_TLS;
			(void)snprintf(d->errmsg, sizeof(d->errmsg), "cannot "
			    "load the TLS CA file");
			goto out;
		}
	}
	if (be->starttls && strncmp(be->uri, "ldap://", 7) == 0 &&
	    (rc = ldap_start_tls_s(be->ld, NULL, NULL)) != LDAP_SUCCESS) {
		(void)ldap_fail(d, "StartTLS", rc);
		r = AMTP_E_TLS;
		goto out;
	}
	if (be->sasl_mech[0] != '\0') {
		rc = ldap_sasl_interactive_bind_s(be->ld, NULL, be->sasl_mech,
		    NULL, NULL, LDAP_SASL_QUIET, sasl_quiet, NULL);
	} else {
		cred.bv_val = be->bind_pw != NULL ?
		    (char *)(uintptr_t)amtp_secret_cstr(be->bind_pw) : NULL;
		cred.bv_len = be->bind_pw != NULL ? amtp_secret_len(be->bind_pw) :
		    0;
		rc = ldap_sasl_bind_s(be->ld, be->bind_dn[0] != '\0' ?
		    be->bind_dn : NULL, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	}
	if (rc != LDAP_SUCCESS) {
		r = ldap_fail(d, "bind", rc);
		goto out;
	}
	r = 0;
 out:
	if (r != 0 && be->ld != NULL) {
		(void)ldap_unbind_ext_s(be->ld, NULL, NULL);
		be->ld = NULL;
	}
	return r;
}

int
amtp_dir_open_ldap(const struct amtp_dir_ldap_conf *c, struct amtp_dir **out,
    char *err, size_t errlen)
{
	struct amtp_dir *d = NULL;
	struct ldap_be *be;
	int r, tls;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->be = calloc(1, sizeof(struct ldap_be))) == NULL) {
		free(d);
		return AMTP_E_NOMEM;
	}
	d->ops = &ldap_ops;
	be = d->be;
	r = AMTP_E_CONFIG;
	if (c == NULL || c->uri == NULL ||
	    strnlen(c->uri, AMTP_DIR_URI_MAX + 1) > AMTP_DIR_URI_MAX ||
	    (strncmp(c->uri, "ldap://", 7) != 0 &&
	    strncmp(c->uri, "ldaps://", 8) != 0 &&
	    strncmp(c->uri, "ldapi://", 8) != 0)) {
		(void)snprintf(d->errmsg, sizeof(d->errmsg), "LDAP URI must be "
		    "ldap://, ldaps:// or ldapi://");
		goto out;
	}
	tls = c->starttls || strncmp(c->uri, "ldaps://", 8) == 0;
	if (set_classes(be, c->object_classes) != 0 ||
	    set_name(be->naming, c->naming_attr, "cn", 0) != 0 ||
	    set_name(be->account, c->account_attr, "sAMAccountName", 1) != 0 ||
	    set_name(be->spn, c->spn_attr, "servicePrincipalName", 0) != 0 ||
	    set_name(be->dns, c->dns_attr, "dNSHostName", 1) != 0 ||
	    set_name(be->password, c->password_attr, "unicodePwd", 0) != 0 ||
	    set_name(be->uac, c->uac_attr, "userAccountControl", 1) != 0) {
		(void)snprintf(d->errmsg, sizeof(d->errmsg), "a directory "
		    "attribute or class name is not valid");
		goto out;
	}
	be->unicodepwd = amtp_str_eq_ci(be->password, strlen(be->password),
	    "unicodePwd", 10);
	be->ssha = amtp_str_eq_ci(be->password, strlen(be->password),
	    "userPassword", 12);
	if (be->unicodepwd && !tls && strncmp(c->uri, "ldapi://", 8) != 0) {
		(void)snprintf(d->errmsg, sizeof(d->errmsg), "unicodePwd can "
		    "only be set over TLS: use ldaps:// or StartTLS");
		goto out;
	}
	if (c->sasl_mech == NULL && c->bind_dn != NULL && c->bind_pw == NULL) {
		(void)snprintf(d->errmsg, sizeof(d->errmsg), "a bind DN needs a "
		    "password");
		goto out;
	}
	be->timeout = c->timeout_secs > 0 ? c->timeout_secs : DEFAULT_TIMEOUT;

	if (amtp_strlcpy(be->uri, c->uri, sizeof(be->uri)) >= sizeof(be->uri) ||
	    (c->ca_file != NULL && amtp_strlcpy(be->ca_file, c->ca_file,
	    sizeof(be->ca_file)) >= sizeof(be->ca_file)) ||
	    (c->bind_dn != NULL && amtp_strlcpy(be->bind_dn, c->bind_dn,
	    sizeof(be->bind_dn)) >= sizeof(be->bind_dn)) ||
	    (c->sasl_mech != NULL && amtp_strlcpy(be->sasl_mech, c->sasl_mech,
	    sizeof(be->sasl_mech)) >= sizeof(be->sasl_mech))) {
		(void)snprintf(d->errmsg, sizeof(d->errmsg), "a directory "
		    "setting is too long");
		goto out;
	}
	be->starttls = c->starttls;
	if (c->bind_pw != NULL && (r = amtp_secret_dup(c->bind_pw,
	    &be->bind_pw)) != 0)
		goto out;
	if ((r = l_connect(d)) != 0)
		goto out;
	*out = d;
	d = NULL;
	r = 0;
 out:
	if (d != NULL && err != NULL && errlen > 0)
		(void)amtp_strlcpy(err, d->errmsg, errlen);
	amtp_dir_close(d);
	return r;
}
