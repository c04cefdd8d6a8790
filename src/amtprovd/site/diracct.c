/*
 * amtprov - site/diracct.c: the device's directory account (role site,
 * step 4 of DESIGN.md), on the interface of src/amtprovd/dir/dir.h.
 *
 * Order (docs/directory.md): escrow the password, create the account,
 * promote the escrowed version.  LDAP is opened for each account (connect
 * and bind); an account is made once per device, so the cost is one bind
 * per provisioned device.
 */
#include <string.h>

#include "amtprov/buf.h"
#include "amtprov/conf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/rand.h"
#include "amtprov/secret.h"

#include "dir/dir.h"
#include "site/diracct.h"
#include "site/site.h"
#include "store/store.h"

#define BIND_PW_FILE_MAX	1024

/* A secret from a file (one trailing newline dropped). */
static int
load_secret_file(const char *path, struct amtp_secret **out)
{
	struct amtp_buf *b = NULL;
	size_t n;
	int r;

	*out = NULL;
	if ((r = amtp_buf_load_file(path, BIND_PW_FILE_MAX, &b)) != 0)
		return r;
	n = amtp_buf_len(b);
	if (n > 0 && amtp_buf_ptr(b)[n - 1] == '\n')
		n--;
	r = amtp_secret_new(amtp_buf_ptr(b), n, out);
	amtp_buf_free(b);
	return r;
}

static int
open_dir(struct site *s, struct amtp_store *st, struct amtp_dir **d,
    struct amtp_secret **bindpw, char *why, size_t whylen)
{
	const struct amtp_conf *c = s->conf;
	struct amtp_dir_ldap_conf lc;
	const char *type, *pwfile;
	int r;

	*d = NULL;
	*bindpw = NULL;
	type = amtp_conf_str(c, "directory", "type");
	if (type == NULL || strcmp(type, "builtin") == 0)
		return amtp_dir_open_builtin(st, d);
	memset(&lc, 0, sizeof(lc));
	lc.uri = amtp_conf_str(c, "directory", "ldap_uri");
	lc.starttls = amtp_conf_bool(c, "directory", "starttls");
	lc.ca_file = amtp_conf_str(c, "directory", "ca_file");
	lc.bind_dn = amtp_conf_str(c, "directory", "bind_dn");
	lc.sasl_mech = amtp_conf_str(c, "directory", "sasl_mech");
	lc.object_classes = amtp_conf_str(c, "directory", "object_classes");
	lc.naming_attr = amtp_conf_str(c, "directory", "naming_attr");
	lc.account_attr = amtp_conf_str(c, "directory", "account_attr");
	lc.spn_attr = amtp_conf_str(c, "directory", "spn_attr");
	lc.dns_attr = amtp_conf_str(c, "directory", "dns_attr");
	lc.password_attr = amtp_conf_str(c, "directory", "password_attr");
	lc.uac_attr = amtp_conf_str(c, "directory", "uac_attr");
	lc.timeout_secs = (int)amtp_conf_int(c, "directory", "timeout");
	pwfile = amtp_conf_str(c, "directory", "bind_password_file");
	if (pwfile != NULL) {
		if ((r = load_secret_file(pwfile, bindpw)) != 0) {
			snprintf(why, whylen, "directory.bind_password_file %s: "
			    "%s", pwfile, amtp_strerror(r));
			return r;
		}
		lc.bind_pw = *bindpw;
	}
	if ((r = amtp_dir_open_ldap(&lc, d, why, whylen)) != 0) {
		amtp_secret_free(*bindpw);
		*bindpw = NULL;
	}
	return r;
}

int
site_diracct_ensure(struct site *s, struct amtp_store *st,
    const struct amtp_device_rec *d, char *why, size_t whylen)
{
	struct amtp_dir *dir = NULL;
	struct amtp_secret *pw = NULL, *bindpw = NULL;
	const char *container;
	int version = 0, created = 0, r;

	why[0] = '\0';
	if (d->fqdn[0] == '\0') {
		snprintf(why, whylen, "no FQDN (set oob.dns_domain, or let the "
		    "agent send domain or fqdn)");
		return AMTP_E_STATE;
	}
	container = amtp_conf_str(s->conf, "directory", "container");
	/* a pending version from an interrupted attempt is set again */
	r = amtp_store_cred_get(st, d->id, AMTP_CRED_DIRECTORY,
	    AMTP_CRED_PENDING, &version, &pw);
	if (r == AMTP_E_NOTFOUND) {
		if ((r = amtp_rand_password(AMTP_DIR_PASSWORD_LEN, &pw)) != 0 ||
		    (r = amtp_store_cred_put_pending(st, d->id,
		    AMTP_CRED_DIRECTORY, pw, &version)) != 0) {
			snprintf(why, whylen, "escrow of the directory "
			    "password: %s", amtp_strerror(r));
			goto out;
		}
	} else if (r != 0) {
		snprintf(why, whylen, "pending directory password: %s",
		    amtp_strerror(r));
		goto out;
	}
	if ((r = open_dir(s, st, &dir, &bindpw, why, whylen)) != 0) {
		if (why[0] == '\0')
			snprintf(why, whylen, "directory: %s",
			    amtp_strerror(r));
		goto out;
	}
	if ((r = amtp_dir_create_account(dir, container, d->fqdn,
	    d->hostname[0] != '\0' ? d->hostname : NULL, d->id, pw, &created,
	    NULL)) != 0) {
		snprintf(why, whylen, "directory account in %s: %s%s%s",
		    container, amtp_strerror(r),
		    amtp_dir_errmsg(dir)[0] != '\0' ? ": " : "",
		    amtp_dir_errmsg(dir));
		goto out;
	}
	if ((r = amtp_store_cred_promote(st, d->id, AMTP_CRED_DIRECTORY,
	    version)) != 0) {
		snprintf(why, whylen, "promote directory password v%d: %s",
		    version, amtp_strerror(r));
		goto out;
	}
	log_info("dev %lld: directory account %s (%s, %s), password v%d",
	    (long long)d->id, d->hostname[0] != '\0' ? d->hostname : d->fqdn,
	    created ? "created" : "updated", amtp_dir_backend(dir), version);
	r = 0;
 out:
	amtp_dir_close(dir);
	amtp_secret_free(pw);
	amtp_secret_free(bindpw);
	return r;
}
