/*
 * amtprov - dir/dir_builtin.c: the built-in directory, a table in the site
 * database (role site; the embedded default).
 *
 * Account names are unique in the site; an account is found in a container
 * only when it lives there.  The password is sealed by the store (AAD
 * "diracct:<name>").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/str.h"

#include "dir/dir.h"
#include "store/store.h"

static int
same_container(const char *a, const char *b)
{
	return amtp_str_eq_ci(a, strlen(a), b, strlen(b));
}

static void
set_err(struct amtp_dir *d, const char *what)
{
	struct amtp_store *st = d->be;

	(void)snprintf(d->errmsg, sizeof(d->errmsg), "%s: %s", what,
	    amtp_store_errmsg(st));	/* a cut message is still useful */
}

static int
b_create(struct amtp_dir *d, const char *container, const char *fqdn,
    const char *host, int64_t device_id, const struct amtp_secret *pw,
    int *created, char spns[AMTP_DIR_SPN_COUNT][AMTP_DIR_SPN_MAX + 1])
{
	struct amtp_diracct_rec rec;
	size_t i;
	int r;

	(void)fqdn;
	memset(&rec, 0, sizeof(rec));
	if (amtp_strlcpy(rec.name, host, sizeof(rec.name)) >= sizeof(rec.name) ||
	    amtp_strlcpy(rec.container, container, sizeof(rec.container)) >=
	    sizeof(rec.container))
		return AMTP_E_TOOBIG;
	rec.device_id = device_id;
	rec.enabled = 1;
	rec.n_spns = AMTP_DIR_SPN_COUNT;
	for (i = 0; i < AMTP_DIR_SPN_COUNT; i++)
		if (amtp_strlcpy(rec.spns[i], spns[i], sizeof(rec.spns[i])) >=
		    sizeof(rec.spns[i]))
			return AMTP_E_TOOBIG;
	if ((r = amtp_store_diracct_put(d->be, &rec, pw, NULL, created)) != 0)
		set_err(d, "diracct put");
	return r;
}

static int
b_lookup(struct amtp_dir *d, const char *container, const char *host,
    struct amtp_diracct_rec *rec)
{
	int r;

	if ((r = amtp_store_diracct_get(d->be, host, rec)) != 0) {
		if (r != AMTP_E_NOTFOUND)
			set_err(d, "diracct get");
		return r;
	}
	if (!same_container(rec->container, container))
		return AMTP_E_NOTFOUND;
	return 0;
}

static int
b_get(struct amtp_dir *d, const char *container, const char *host,
    struct amtp_dir_account *out)
{
	struct amtp_diracct_rec rec;
	size_t i;
	int r, n;

	if ((r = b_lookup(d, container, host, &rec)) != 0)
		return r;
	(void)amtp_strlcpy(out->name, rec.name, sizeof(out->name));
	n = snprintf(out->dn, sizeof(out->dn), "cn=%s,%s", rec.name,
	    rec.container);
	if (n < 0 || (size_t)n >= sizeof(out->dn))
		return AMTP_E_TOOBIG;
	out->enabled = rec.enabled;
	out->n_spns = rec.n_spns;
	for (i = 0; i < rec.n_spns && i < AMTP_STORE_SPNS_MAX; i++)
		if (amtp_strlcpy(out->spns[i], rec.spns[i],
		    sizeof(out->spns[i])) >= sizeof(out->spns[i]))
			return AMTP_E_TOOBIG;
	return 0;
}

static int
b_set_enabled(struct amtp_dir *d, const char *container, const char *host,
    int enabled)
{
	struct amtp_diracct_rec rec;
	int r;

	if ((r = b_lookup(d, container, host, &rec)) != 0)
		return r;
	if ((r = amtp_store_diracct_set_enabled(d->be, rec.name,
	    enabled)) != 0)
		set_err(d, "diracct set enabled");
	return r;
}

static int
b_del(struct amtp_dir *d, const char *container, const char *host)
{
	struct amtp_diracct_rec rec;
	int r;

	if ((r = b_lookup(d, container, host, &rec)) != 0)
		return r;
	if ((r = amtp_store_diracct_delete(d->be, rec.name)) != 0)
		set_err(d, "diracct delete");
	return r;
}

static const struct amtp_dir_ops builtin_ops = {
	"builtin", b_create, b_get, b_set_enabled, b_del, NULL
};

int
amtp_dir_open_builtin(struct amtp_store *st, struct amtp_dir **out)
{
	struct amtp_dir *d;

	*out = NULL;
	if (st == NULL)
		return AMTP_E_INVAL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return AMTP_E_NOMEM;
	d->ops = &builtin_ops;
	d->be = st;
	*out = d;
	return 0;
}
