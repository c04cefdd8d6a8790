/*
 * amtprov - store.c: the common layer of the site database (role site, and
 * every service point): opening by URI, migrations, the vocabulary, shared
 * helpers, and devices.  The SQL is written once in the portable dialect of
 * store_int.h; store_sqlite.c and store_pg.c run it.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "store/store.h"
#include "store/store_int.h"

/* ------------------------------------------------------------------ */
/* Vocabulary                                                           */
/* ------------------------------------------------------------------ */

static const char *const status_names[AMTP_AMT__MAX] = {
	"unknown", "not supported", "detected", "not provisioned",
	"provisioned", "externally provisioned"
};
static const char *const kind_names[AMTP_JOB_KIND__MAX] = {
	"provision", "rotate", "unprovision"
};
static const char *const state_names[AMTP_JOB_STATE__MAX] = {
	"queued", "running", "done", "failed", "cancelled"
};
static const char *const outcome_names[AMTP_STEP_OUTCOME__MAX] = {
	"started", "ok", "failed", "skipped"
};
static const char *const cred_kind_names[AMTP_CRED_KIND__MAX] = {
	"admin", "mebx", "directory"
};
static const char *const cred_state_names[AMTP_CRED_STATE__MAX] = {
	"pending", "current", "retired"
};
static const char *const role_names[AMTP_ROLE__MAX] = {
	"admin", "readonly"
};

static const char *
name_of(const char *const *names, int n, int v)
{
	if (v < 0 || v >= n)
		return NULL;
	return names[v];
}

static int
parse_name(const char *const *names, int n, const char *s, int *out)
{
	int i;

	if (s == NULL)
		return AMTP_E_INVAL;
	for (i = 0; i < n; i++) {
		if (strcmp(names[i], s) == 0) {
			*out = i;
			return 0;
		}
	}
	return AMTP_E_INVAL;
}

#define VOCAB(fn, type, names, max)					\
const char *								\
amtp_store_##fn##_name(type v)						\
{									\
	return name_of(names, max, (int)v);				\
}									\
int									\
amtp_store_##fn##_parse(const char *name, type *out)			\
{									\
	int v, r;							\
									\
	if ((r = parse_name(names, max, name, &v)) != 0)		\
		return r;						\
	*out = (type)v;							\
	return 0;							\
}

VOCAB(status, enum amtp_amt_status, status_names, AMTP_AMT__MAX)
VOCAB(job_kind, enum amtp_job_kind, kind_names, AMTP_JOB_KIND__MAX)
VOCAB(job_state, enum amtp_job_state, state_names, AMTP_JOB_STATE__MAX)
VOCAB(step_outcome, enum amtp_step_outcome, outcome_names,
    AMTP_STEP_OUTCOME__MAX)
VOCAB(cred_kind, enum amtp_cred_kind, cred_kind_names, AMTP_CRED_KIND__MAX)
VOCAB(cred_state, enum amtp_cred_state, cred_state_names,
    AMTP_CRED_STATE__MAX)
VOCAB(role, enum amtp_token_role, role_names, AMTP_ROLE__MAX)

/* ------------------------------------------------------------------ */
/* Results, rewriting, helpers                                          */
/* ------------------------------------------------------------------ */

struct sqlres *
store_res_new(size_t ncols)
{
	struct sqlres *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->ncols = ncols;
	return r;
}

void
store_res_free(struct sqlres *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nrows * r->ncols; i++)
		free(r->cells[i]);
	free(r->cells);
	free(r);
}

int
store_res_add_row(struct sqlres *r, const char *const *vals,
    const size_t *lens, size_t ncols)
{
	size_t need, i, base;
	char **nc;

	if (ncols != r->ncols)
		return AMTP_E_INTERNAL;
	need = (r->nrows + 1) * r->ncols;
	if (need > r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 16 * (r->ncols ? r->ncols : 1);

		while (ncap < need)
			ncap *= 2;
		if ((nc = reallocarray(r->cells, ncap, sizeof(*nc))) == NULL)
			return AMTP_E_NOMEM;
		r->cells = nc;
		r->cap = ncap;
	}
	base = r->nrows * r->ncols;
	for (i = 0; i < ncols; i++) {
		r->cells[base + i] = NULL;
		if (vals[i] == NULL)
			continue;
		if ((r->cells[base + i] = malloc(lens[i] + 1)) == NULL) {
			while (i-- > 0)
				free(r->cells[base + i]);
			return AMTP_E_NOMEM;
		}
		memcpy(r->cells[base + i], vals[i], lens[i]);
		r->cells[base + i][lens[i]] = '\0';
	}
	r->nrows++;
	return 0;
}

int
store_sql_rewrite(const char *sql, const struct store_dialect *d, char **out)
{
	static const struct {
		const char *tok;
		size_t off;
	} toks[] = {
		{ "@NOW@", offsetof(struct store_dialect, now) },
		{ "@SKIPLOCKED@", offsetof(struct store_dialect, skiplocked) },
		{ "@FORUPDATE@", offsetof(struct store_dialect, forupdate) },
		{ "@ID@", offsetof(struct store_dialect, id) },
	};
	struct amtp_buf *b = NULL;
	const char *p;
	size_t i;
	int r = AMTP_E_NOMEM;

	*out = NULL;
	if ((b = amtp_buf_new(64 * 1024)) == NULL)
		goto out;
	for (p = sql; *p != '\0'; p++) {
		if (*p == '@') {
			for (i = 0; i < sizeof(toks) / sizeof(toks[0]); i++) {
				size_t tl = strlen(toks[i].tok);
				const char *rep;

				if (strncmp(p, toks[i].tok, tl) != 0)
					continue;
				rep = *(const char *const *)(const void *)
				    ((const char *)d + toks[i].off);
				if ((r = amtp_buf_put(b, rep, strlen(rep))) != 0)
					goto out;
				p += tl - 1;
				break;
			}
			if (i < sizeof(toks) / sizeof(toks[0]))
				continue;
			r = AMTP_E_INTERNAL;	/* unknown token */
			goto out;
		}
		if (*p == '$' && d->placeholder != '$') {
			if ((r = amtp_buf_put_u8(b, (uint8_t)d->placeholder)) != 0)
				goto out;
			continue;
		}
		if ((r = amtp_buf_put_u8(b, (uint8_t)*p)) != 0)
			goto out;
	}
	if ((r = amtp_buf_dup_cstring(b, out)) != 0)
		goto out;
	r = 0;
 out:
	amtp_buf_free(b);
	return r;
}

void
store_set_err(struct amtp_store *st, const char *what, const char *msg)
{
	char *nl;

	if (st == NULL)
		return;
	/* Cut both parts to fit (a cut message is still useful). */
	(void)snprintf(st->errmsg, sizeof(st->errmsg), "%.48s: %.200s",
	    what ? what : "store", msg ? msg : "");
	/* Keep it one line. */
	while ((nl = strpbrk(st->errmsg, "\r\n")) != NULL)
		*nl = ' ';
}

int
store_q(struct amtp_store *st, const char *what, const char *sql,
    const struct sqlv *p, int np, struct sqlres **res)
{
	struct sqlres *tmp = NULL;
	int r;

	if (res != NULL)
		*res = NULL;
	r = st->ops->exec(st, sql, p, np, &tmp);
	if (r != 0) {
		char msg[sizeof(st->errmsg)];

		(void)snprintf(msg, sizeof(msg), "%s", st->errmsg);
		store_set_err(st, what, msg);
		store_res_free(tmp);
		return r;
	}
	if (res != NULL)
		*res = tmp;
	else
		store_res_free(tmp);
	return 0;
}

int
store_tx_begin(struct amtp_store *st)
{
	char sp[32];
	int r;

	if (st->in_tx) {
		/* inside a batch: a nested savepoint when the batch allows
		 * it, else a misuse (see amtp_store_batch_nest) */
		if (!st->nest_ok || st->nest >= STORE_NEST_MAX)
			return AMTP_E_INTERNAL;
		(void)snprintf(sp, sizeof(sp), "SAVEPOINT amtp_nest%d",
		    st->nest + 1);
		if ((r = st->ops->script(st, sp)) != 0)
			return r;
		st->nest++;
		return 0;
	}
	if ((r = st->ops->begin(st)) != 0)
		return r;
	st->in_tx = 1;
	return 0;
}

int
store_tx_end(struct amtp_store *st, int r)
{
	char sp[64];
	int r2, n;

	if (!st->in_tx)
		return r;
	if (st->nest > 0) {
		n = st->nest--;
		if (r != 0) {
			(void)snprintf(sp, sizeof(sp),
			    "ROLLBACK TO SAVEPOINT amtp_nest%d", n);
			(void)st->ops->script(st, sp);
		}
		(void)snprintf(sp, sizeof(sp), "RELEASE SAVEPOINT amtp_nest%d",
		    n);
		r2 = st->ops->script(st, sp);
		return r != 0 ? r : r2;
	}
	st->in_tx = 0;
	if (r != 0) {
		(void)st->ops->rollback(st);
		return r;
	}
	if ((r2 = st->ops->commit(st)) != 0) {
		(void)st->ops->rollback(st);
		return r2;
	}
	return 0;
}

const char *
store_cell(const struct sqlres *r, size_t row, size_t col)
{
	if (r == NULL || row >= r->nrows || col >= r->ncols)
		return NULL;
	return r->cells[row * r->ncols + col];
}

int
store_cell_int(const struct sqlres *r, size_t row, size_t col, int64_t *v)
{
	const char *s;
	long long ll;
	int rc;

	if ((s = store_cell(r, row, col)) == NULL)
		return AMTP_E_PARSE;
	if ((rc = amtp_parse_int(s, INT64_MIN, INT64_MAX, &ll)) != 0)
		return AMTP_E_PARSE;
	*v = ll;
	return 0;
}

int
store_cell_text(const struct sqlres *r, size_t row, size_t col, char *dst,
    size_t dstsz)
{
	const char *s;

	if (dstsz == 0)
		return AMTP_E_INTERNAL;
	if ((s = store_cell(r, row, col)) == NULL) {
		dst[0] = '\0';
		return 0;
	}
	if (amtp_strlcpy(dst, s, dstsz) >= dstsz) {
		dst[0] = '\0';
		return AMTP_E_PARSE;
	}
	return 0;
}

int
store_check_text(const char *s, size_t max, int required)
{
	size_t i;

	if (s == NULL)
		return required ? AMTP_E_INVAL : 0;
	if (required && s[0] == '\0')
		return AMTP_E_INVAL;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= max)
			return AMTP_E_TOOBIG;
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return AMTP_E_INVAL;
	}
	return 0;
}

int
store_rows(const struct sqlres *res, size_t elem_size,
    int (*from_row)(const struct sqlres *, size_t, void *), void **out,
    size_t *n)
{
	unsigned char *v = NULL;
	size_t i;
	int r;

	*out = NULL;
	*n = 0;
	if (res->nrows > 0 && (v = calloc(res->nrows, elem_size)) == NULL)
		return AMTP_E_NOMEM;
	for (i = 0; i < res->nrows; i++)
		if ((r = from_row(res, i, v + i * elem_size)) != 0)
			goto out;
	*out = v;
	v = NULL;
	*n = res->nrows;
	r = 0;
 out:
	free(v);
	return r;
}

int
store_check_limit(size_t *limit)
{
	if (*limit == 0)
		*limit = AMTP_STORE_LIST_DEFAULT;
	if (*limit > AMTP_STORE_LIST_MAX)
		return AMTP_E_RANGE;
	return 0;
}

int
store_lower(char *dst, size_t dstsz, const char *src)
{
	size_t i;

	for (i = 0; src[i] != '\0'; i++) {
		if (i + 1 >= dstsz)
			return AMTP_E_TOOBIG;
		dst[i] = (char)tolower((unsigned char)src[i]);
	}
	if (dstsz == 0)
		return AMTP_E_TOOBIG;
	dst[i] = '\0';
	return 0;
}

int
store_like_pattern(const char *text, char *dst, size_t dstsz)
{
	size_t i, o = 0;

	if (dstsz < 3)
		return AMTP_E_TOOBIG;
	dst[o++] = '%';
	for (i = 0; text[i] != '\0'; i++) {
		char c = (char)tolower((unsigned char)text[i]);

		if (o + 3 >= dstsz)
			return AMTP_E_TOOBIG;
		if (c == '%' || c == '_' || c == '!')
			dst[o++] = '!';
		dst[o++] = c;
	}
	dst[o++] = '%';
	dst[o] = '\0';
	return 0;
}

int
store_seal(struct amtp_store *st, const struct amtp_secret *s,
    const char *aad, char **out)
{
	struct amtp_buf *b = NULL;
	int r;

	*out = NULL;
	if (st->key == NULL)
		return AMTP_E_STATE;
	/* base64 of 'AS' 1 | nonce | ct | tag: 4/3 of (len + 31), plus slack */
	if ((b = amtp_buf_new((AMTP_SECRET_MAX + 64) * 4 / 3 + 16)) == NULL)
		return AMTP_E_NOMEM;
	if ((r = amtp_secret_seal_b64(st->key, s, aad, b)) != 0)
		goto out;
	if ((r = amtp_buf_dup_cstring(b, out)) != 0)
		goto out;
	r = 0;
 out:
	amtp_buf_free(b);
	return r;
}

int
store_open_sealed(struct amtp_store *st, const char *b64, const char *aad,
    struct amtp_secret **out)
{
	*out = NULL;
	if (st->key == NULL)
		return AMTP_E_STATE;
	if (b64 == NULL)
		return AMTP_E_PARSE;
	return amtp_secret_open_b64(st->key, b64, aad, out);
}

/* ------------------------------------------------------------------ */
/* Open, migrate, close                                                 */
/* ------------------------------------------------------------------ */

static void
errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char SQL_MIG_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version BIGINT PRIMARY KEY,"
    " applied BIGINT NOT NULL)";
static const char SQL_MIG_MAX[] =
    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
static const char SQL_MIG_ADD[] =
    "INSERT INTO schema_migrations (version, applied) VALUES ($1, @NOW@)";

static int
migrate(struct amtp_store *st)
{
	struct sqlres *res = NULL;
	int64_t have = 0;
	int r, i, locked = 0;

	if ((r = st->ops->migrate_lock(st, 1)) != 0)
		goto out;
	locked = 1;
	if ((r = store_tx_begin(st)) != 0)
		goto out;
	if ((r = st->ops->script(st, SQL_MIG_TABLE)) != 0)
		goto out;
	if ((r = store_q(st, "migrate", SQL_MIG_MAX, NOPARAMS, &res)) != 0)
		goto out;
	if ((r = store_cell_int(res, 0, 0, &have)) != 0)
		goto out;
	if (have > store_nmigrations) {
		store_set_err(st, "migrate", "database schema is newer than "
		    "this program");
		r = AMTP_E_STATE;
		goto out;
	}
	for (i = (int)have; i < store_nmigrations; i++) {
		if ((r = st->ops->script(st, store_migrations[i])) != 0)
			goto out;
		if ((r = store_q(st, "migrate", SQL_MIG_ADD,
		    PARAMS(INT(i + 1)), NULL)) != 0)
			goto out;
	}
	r = 0;
 out:
	r = store_tx_end(st, r);
	if (r == 0)
		st->schema_version = store_nmigrations;
	if (locked) {
		int r2 = st->ops->migrate_lock(st, 0);

		if (r == 0)
			r = r2;
	}
	store_res_free(res);
	return r;
}

int
amtp_store_open(const char *uri, const struct amtp_master_key *key,
    struct amtp_store **out, char *err, size_t errlen)
{
	struct amtp_store *st = NULL;
	int r;

	*out = NULL;
	errf(err, errlen, "%s", "");
	if (uri == NULL || uri[0] == '\0') {
		errf(err, errlen, "no database URI");
		return AMTP_E_INVAL;
	}
	if (strnlen(uri, AMTP_STORE_URI_MAX + 1) > AMTP_STORE_URI_MAX) {
		errf(err, errlen, "database URI longer than %d bytes",
		    AMTP_STORE_URI_MAX);
		return AMTP_E_TOOBIG;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return AMTP_E_NOMEM;
	st->key = key;
	if (strncmp(uri, "sqlite:", 7) == 0)
		r = store_sqlite_open(st, uri + 7, err, errlen);
	else if (strncmp(uri, "postgresql://", 13) == 0 ||
	    strncmp(uri, "postgres://", 11) == 0)
		r = store_pg_open(st, uri, err, errlen);
	else {
		errf(err, errlen, "database URI must start with sqlite: or "
		    "postgresql://");
		r = AMTP_E_UNSUPPORTED;
	}
	if (r != 0) {
		free(st);
		return r;
	}
	if ((r = migrate(st)) != 0) {
		errf(err, errlen, "schema migration failed: %s (%s)",
		    st->errmsg, amtp_strerror(r));
		amtp_store_close(st);
		return r;
	}
	*out = st;
	return 0;
}

void
amtp_store_close(struct amtp_store *st)
{
	if (st == NULL)
		return;
	if (st->in_tx)
		(void)st->ops->rollback(st);
	st->ops->close(st);
	free(st);
}

const char *
amtp_store_backend(const struct amtp_store *st)
{
	return st->ops->name;
}

int
amtp_store_schema_version(const struct amtp_store *st)
{
	return st->schema_version;
}

int
amtp_store_schema_latest(void)
{
	return store_nmigrations;
}

const char *
amtp_store_errmsg(const struct amtp_store *st)
{
	return st ? st->errmsg : "";
}

int
amtp_store_now(struct amtp_store *st, int64_t *now)
{
	struct sqlres *res = NULL;
	int64_t v;
	int r;

	*now = 0;
	if ((r = store_q(st, "now", "SELECT @NOW@", NOPARAMS, &res)) != 0)
		goto out;
	if ((r = store_cell_int(res, 0, 0, &v)) != 0)
		goto out;
	*now = v;
	r = 0;
 out:
	store_res_free(res);
	return r;
}

/* ------------------------------------------------------------------ */
/* Devices                                                              */
/* ------------------------------------------------------------------ */

static int
valid_uuid(const char *s, char *lc, size_t lcsz)
{
	size_t i;

	if (s == NULL || lcsz < AMTP_STORE_UUID_LEN + 1)
		return 0;
	for (i = 0; i < AMTP_STORE_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]))
			return 0;
		lc[i] = (char)tolower((unsigned char)s[i]);
	}
	if (s[i] != '\0')
		return 0;
	lc[i] = '\0';
	return 1;
}

static int
valid_sha256_hex(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

static int
valid_hash_hex(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 40 || i == 64 || i == 96 || i == 128;
}

/* "" becomes NULL: "leave as it is". */
static const char *
opt(const char *s)
{
	return (s == NULL || s[0] == '\0') ? NULL : s;
}

#define DEVICE_COLS							\
    "d.id, d.uuid, d.hostname, d.fqdn, d.amt_addr, d.status,"		\
    " d.status_reason,"							\
    " (SELECT COUNT(*) FROM otp_hashes o WHERE o.device_id = d.id),"	\
    " d.created, d.updated, d.last_seen"

static int
device_from_row(const struct sqlres *res, size_t row,
    struct amtp_device_rec *d)
{
	int64_t v;
	int r;

	memset(d, 0, sizeof(*d));
	if ((r = store_cell_int(res, row, 0, &d->id)) != 0 ||
	    (r = store_cell_text(res, row, 1, d->uuid, sizeof(d->uuid))) != 0 ||
	    (r = store_cell_text(res, row, 2, d->hostname,
	    sizeof(d->hostname))) != 0 ||
	    (r = store_cell_text(res, row, 3, d->fqdn, sizeof(d->fqdn))) != 0 ||
	    (r = store_cell_text(res, row, 4, d->amt_addr,
	    sizeof(d->amt_addr))) != 0 ||
	    (r = amtp_store_status_parse(store_cell(res, row, 5),
	    &d->status)) != 0 ||
	    (r = store_cell_text(res, row, 6, d->status_reason,
	    sizeof(d->status_reason))) != 0 ||
	    (r = store_cell_int(res, row, 7, &v)) != 0 ||
	    (r = store_cell_int(res, row, 8, &d->created)) != 0 ||
	    (r = store_cell_int(res, row, 9, &d->updated)) != 0 ||
	    (r = store_cell_int(res, row, 10, &d->last_seen)) != 0)
		return r == AMTP_E_INVAL ? AMTP_E_PARSE : r;
	d->has_otp = v > 0;
	return 0;
}

/* The row converter for store_rows. */
static int
device_row(const struct sqlres *res, size_t row, void *dst)
{
	return device_from_row(res, row, (struct amtp_device_rec *)dst);
}

static const char SQL_DEV_INSERT[] =
    "INSERT INTO devices (uuid, hostname, fqdn, amt_addr, status,"
    " status_reason, created, updated, last_seen)"
    " VALUES ($1, COALESCE($2, ''), COALESCE($3, ''), COALESCE($4, ''),"
    " 'unknown', '', @NOW@, @NOW@, @NOW@)"
    " ON CONFLICT (uuid) DO NOTHING RETURNING id";
static const char SQL_DEV_UPDATE[] =
    "UPDATE devices SET hostname = COALESCE($2, hostname),"
    " fqdn = COALESCE($3, fqdn), amt_addr = COALESCE($4, amt_addr),"
    " updated = @NOW@, last_seen = @NOW@ WHERE uuid = $1 RETURNING id";

int
amtp_store_device_upsert(struct amtp_store *st,
    const struct amtp_device_in *in, int64_t *id, int *created)
{
	struct sqlres *res = NULL;
	char uuid[AMTP_STORE_UUID_LEN + 1];
	int64_t v;
	int r, isnew = 0;

	*id = 0;
	if (created != NULL)
		*created = 0;
	if (in == NULL || !valid_uuid(in->uuid, uuid, sizeof(uuid)))
		return AMTP_E_INVAL;
	if ((r = store_check_text(in->hostname, AMTP_STORE_HOSTNAME_MAX, 0)) != 0 ||
	    (r = store_check_text(in->fqdn, AMTP_STORE_FQDN_MAX, 0)) != 0 ||
	    (r = store_check_text(in->amt_addr, AMTP_STORE_ADDR_MAX, 0)) != 0)
		return r;
	if ((r = store_q(st, "device upsert", SQL_DEV_INSERT,
	    PARAMS(TXT(uuid), TXT(opt(in->hostname)), TXT(opt(in->fqdn)),
	    TXT(opt(in->amt_addr))), &res)) != 0)
		goto out;
	if (res->nrows == 1)
		isnew = 1;
	else {
		store_res_free(res);
		res = NULL;
		if ((r = store_q(st, "device upsert", SQL_DEV_UPDATE,
		    PARAMS(TXT(uuid), TXT(opt(in->hostname)),
		    TXT(opt(in->fqdn)), TXT(opt(in->amt_addr))), &res)) != 0)
			goto out;
		if (res->nrows != 1) {
			r = AMTP_E_AGAIN;	/* deleted meanwhile */
			goto out;
		}
	}
	if ((r = store_cell_int(res, 0, 0, &v)) != 0)
		goto out;
	*id = v;
	if (created != NULL)
		*created = isnew;
	r = 0;
 out:
	store_res_free(res);
	return r;
}

static int
device_get_by(struct amtp_store *st, const char *sql, const struct sqlv *p,
    int np, struct amtp_device_rec *out)
{
	struct sqlres *res = NULL;
	struct amtp_device_rec d;
	int r;

	if ((r = store_q(st, "device get", sql, p, np, &res)) != 0)
		goto out;
	if (res->nrows == 0) {
		r = AMTP_E_NOTFOUND;
		goto out;
	}
	if ((r = device_from_row(res, 0, &d)) != 0)
		goto out;
	*out = d;
	r = 0;
 out:
	store_res_free(res);
	return r;
}

int
amtp_store_device_get(struct amtp_store *st, int64_t id,
    struct amtp_device_rec *out)
{
	memset(out, 0, sizeof(*out));
	return device_get_by(st, "SELECT " DEVICE_COLS
	    " FROM devices d WHERE d.id = $1", PARAMS(INT(id)), out);
}

int
amtp_store_device_get_uuid(struct amtp_store *st, const char *uuid,
    struct amtp_device_rec *out)
{
	char lc[AMTP_STORE_UUID_LEN + 1];

	memset(out, 0, sizeof(*out));
	if (!valid_uuid(uuid, lc, sizeof(lc)))
		return AMTP_E_INVAL;
	return device_get_by(st, "SELECT " DEVICE_COLS
	    " FROM devices d WHERE d.uuid = $1", PARAMS(TXT(lc)), out);
}

/* Runs an UPDATE ... RETURNING id on one row; AMTP_E_NOTFOUND on none. */
static int
update_one(struct amtp_store *st, const char *what, const char *sql,
    const struct sqlv *p, int np)
{
	struct sqlres *res = NULL;
	int r;

	if ((r = store_q(st, what, sql, p, np, &res)) != 0)
		return r;
	r = res->nrows == 0 ? AMTP_E_NOTFOUND : 0;
	store_res_free(res);
	return r;
}

int
amtp_store_device_set_status(struct amtp_store *st, int64_t id,
    enum amtp_amt_status status, const char *reason)
{
	const char *name;
	int r;

	if ((name = amtp_store_status_name(status)) == NULL)
		return AMTP_E_INVAL;
	if ((r = store_check_text(reason, AMTP_STORE_TEXT_MAX, 0)) != 0)
		return r;
	return update_one(st, "device set status",
	    "UPDATE devices SET status = $2, status_reason = $3,"
	    " updated = @NOW@ WHERE id = $1 RETURNING id",
	    PARAMS(INT(id), TXT(name), TXT(reason ? reason : "")));
}

static const char SQL_FACTS_PUT[] =
    "INSERT INTO device_facts (device_id, amt_version, amt_build, sku,"
    " fw_uuid, dns_suffix, wireless, reported)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, @NOW@)"
    " ON CONFLICT (device_id) DO UPDATE SET amt_version = excluded.amt_version,"
    " amt_build = excluded.amt_build, sku = excluded.sku,"
    " fw_uuid = excluded.fw_uuid, dns_suffix = excluded.dns_suffix,"
    " wireless = excluded.wireless, reported = excluded.reported";
static const char SQL_HASH_DEL[] =
    "DELETE FROM device_root_hashes WHERE device_id = $1";
static const char SQL_HASH_ADD[] =
    "INSERT INTO device_root_hashes (device_id, idx, name, hex, is_default,"
    " is_active) VALUES ($1, $2, $3, $4, $5, $6)";

int
amtp_store_device_set_facts(struct amtp_store *st, int64_t id,
    const struct amtp_device_facts *f)
{
	char fwuuid[AMTP_STORE_UUID_LEN + 1] = "";
	size_t i;
	int r;

	if (f == NULL || f->n_root_hashes > AMTP_STORE_FW_HASHES_MAX)
		return AMTP_E_INVAL;
	/* The arrays are ours: make sure each string ends inside it. */
	if (memchr(f->amt_version, '\0', sizeof(f->amt_version)) == NULL ||
	    memchr(f->amt_build, '\0', sizeof(f->amt_build)) == NULL ||
	    memchr(f->sku, '\0', sizeof(f->sku)) == NULL ||
	    memchr(f->fw_uuid, '\0', sizeof(f->fw_uuid)) == NULL ||
	    memchr(f->dns_suffix, '\0', sizeof(f->dns_suffix)) == NULL)
		return AMTP_E_INVAL;
	if ((r = store_check_text(f->amt_version, AMTP_STORE_VERSION_MAX, 0)) ||
	    (r = store_check_text(f->amt_build, AMTP_STORE_VERSION_MAX, 0)) ||
	    (r = store_check_text(f->sku, AMTP_STORE_VERSION_MAX, 0)) ||
	    (r = store_check_text(f->dns_suffix, AMTP_STORE_FQDN_MAX, 0)))
		return r;
	if (f->fw_uuid[0] != '\0' && !valid_uuid(f->fw_uuid, fwuuid,
	    sizeof(fwuuid)))
		return AMTP_E_INVAL;
	for (i = 0; i < f->n_root_hashes; i++) {
		const struct amtp_fw_hash *h = &f->root_hashes[i];

		if (memchr(h->name, '\0', sizeof(h->name)) == NULL ||
		    memchr(h->hex, '\0', sizeof(h->hex)) == NULL ||
		    !valid_hash_hex(h->hex))
			return AMTP_E_INVAL;
		if ((r = store_check_text(h->name, AMTP_STORE_NAME_MAX, 0)) != 0)
			return r;
	}
	if ((r = store_tx_begin(st)) != 0)
		return r;
	if ((r = update_one(st, "device facts", "SELECT id FROM devices"
	    " WHERE id = $1 @FORUPDATE@", PARAMS(INT(id)))) != 0)
		goto out;
	if ((r = store_q(st, "device facts", SQL_FACTS_PUT,
	    PARAMS(INT(id), TXT(f->amt_version), TXT(f->amt_build),
	    TXT(f->sku), TXT(fwuuid), TXT(f->dns_suffix),
	    INT(f->wireless ? 1 : 0)), NULL)) != 0)
		goto out;
	if ((r = store_q(st, "device facts", SQL_HASH_DEL, PARAMS(INT(id)),
	    NULL)) != 0)
		goto out;
	for (i = 0; i < f->n_root_hashes; i++) {
		const struct amtp_fw_hash *h = &f->root_hashes[i];

		if ((r = store_q(st, "device facts", SQL_HASH_ADD,
		    PARAMS(INT(id), INT(i), TXT(h->name), TXT(h->hex),
		    INT(h->is_default ? 1 : 0), INT(h->is_active ? 1 : 0)),
		    NULL)) != 0)
			goto out;
	}
	r = 0;
 out:
	return store_tx_end(st, r);
}

int
amtp_store_device_get_facts(struct amtp_store *st, int64_t id,
    struct amtp_device_facts *out)
{
	struct sqlres *res = NULL;
	struct amtp_device_facts *f = NULL;
	int64_t v;
	size_t i;
	int r;

	memset(out, 0, sizeof(*out));
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return AMTP_E_NOMEM;
	if ((r = store_q(st, "device facts", "SELECT amt_version, amt_build,"
	    " sku, fw_uuid, dns_suffix, wireless, reported FROM device_facts"
	    " WHERE device_id = $1", PARAMS(INT(id)), &res)) != 0)
		goto out;
	if (res->nrows == 0) {
		r = AMTP_E_NOTFOUND;
		goto out;
	}
	if ((r = store_cell_text(res, 0, 0, f->amt_version,
	    sizeof(f->amt_version))) != 0 ||
	    (r = store_cell_text(res, 0, 1, f->amt_build,
	    sizeof(f->amt_build))) != 0 ||
	    (r = store_cell_text(res, 0, 2, f->sku, sizeof(f->sku))) != 0 ||
	    (r = store_cell_text(res, 0, 3, f->fw_uuid,
	    sizeof(f->fw_uuid))) != 0 ||
	    (r = store_cell_text(res, 0, 4, f->dns_suffix,
	    sizeof(f->dns_suffix))) != 0 ||
	    (r = store_cell_int(res, 0, 5, &v)) != 0 ||
	    (r = store_cell_int(res, 0, 6, &f->reported)) != 0)
		goto out;
	f->wireless = v != 0;
	store_res_free(res);
	res = NULL;
	if ((r = store_q(st, "device facts", "SELECT name, hex, is_default,"
	    " is_active FROM device_root_hashes WHERE device_id = $1"
	    " ORDER BY idx LIMIT $2",
	    PARAMS(INT(id), INT(AMTP_STORE_FW_HASHES_MAX)), &res)) != 0)
		goto out;
	for (i = 0; i < res->nrows; i++) {
		struct amtp_fw_hash *h = &f->root_hashes[i];

		if ((r = store_cell_text(res, i, 0, h->name,
		    sizeof(h->name))) != 0 ||
		    (r = store_cell_text(res, i, 1, h->hex, sizeof(h->hex))) != 0)
			goto out;
		if ((r = store_cell_int(res, i, 2, &v)) != 0)
			goto out;
		h->is_default = v != 0;
		if ((r = store_cell_int(res, i, 3, &v)) != 0)
			goto out;
		h->is_active = v != 0;
	}
	f->n_root_hashes = res->nrows;
	*out = *f;
	r = 0;
 out:
	free(f);
	store_res_free(res);
	return r;
}

int
amtp_store_device_set_otp_hash(struct amtp_store *st, int64_t id,
    const char *hex)
{
	if (!valid_sha256_hex(hex))
		return AMTP_E_INVAL;
	return store_q(st, "otp hash", "INSERT INTO otp_hashes (device_id,"
	    " sha256, created) VALUES ($1, $2, @NOW@) ON CONFLICT (device_id)"
	    " DO UPDATE SET sha256 = excluded.sha256, created = excluded.created",
	    PARAMS(INT(id), TXT(hex)), NULL);
}

int
amtp_store_device_get_otp_hash(struct amtp_store *st, int64_t id, char *out,
    size_t outsz)
{
	struct sqlres *res = NULL;
	const char *h;
	int r;

	if (outsz > 0)
		out[0] = '\0';
	if (outsz < 65)
		return AMTP_E_TOOBIG;
	if ((r = store_q(st, "otp hash", "SELECT sha256 FROM otp_hashes"
	    " WHERE device_id = $1", PARAMS(INT(id)), &res)) != 0)
		goto out;
	if (res->nrows == 0) {
		r = AMTP_E_NOTFOUND;
		goto out;
	}
	h = store_cell(res, 0, 0);
	if (!valid_sha256_hex(h)) {
		r = AMTP_E_PARSE;
		goto out;
	}
	memcpy(out, h, 65);
	r = 0;
 out:
	store_res_free(res);
	return r;
}

int
amtp_store_device_clear_otp_hash(struct amtp_store *st, int64_t id)
{
	return update_one(st, "otp hash", "DELETE FROM otp_hashes"
	    " WHERE device_id = $1 RETURNING device_id", PARAMS(INT(id)));
}

#define SQL_DEV_WHERE	\
    " FROM devices d WHERE ($1 = '' OR d.status = $1) AND ($2 = '' OR"	\
    " LOWER(d.uuid) LIKE $2 ESCAPE '!' OR LOWER(d.hostname) LIKE $2 ESCAPE '!'"	\
    " OR LOWER(d.fqdn) LIKE $2 ESCAPE '!' OR LOWER(d.amt_addr) LIKE $2"	\
    " ESCAPE '!')"

int
amtp_store_device_list(struct amtp_store *st,
    const struct amtp_device_filter *f, struct amtp_device_rec **out,
    size_t *n, size_t *total)
{
	struct sqlres *res = NULL;
	void *rows = NULL;
	char pat[2 * AMTP_STORE_TEXT_MAX + 3] = "";
	const char *status = "";
	size_t limit = 0, offset = 0;
	int64_t cnt = 0;
	int r;

	*out = NULL;
	*n = 0;
	if (total != NULL)
		*total = 0;
	if (f != NULL) {
		if (f->status != -1 &&
		    (status = amtp_store_status_name(f->status)) == NULL)
			return AMTP_E_INVAL;
		if ((r = store_check_text(f->text, AMTP_STORE_TEXT_MAX, 0)) != 0)
			return r;
		if (f->text != NULL && f->text[0] != '\0' &&
		    (r = store_like_pattern(f->text, pat, sizeof(pat))) != 0)
			return r;
		limit = f->limit;
		offset = f->offset;
	}
	if ((r = store_check_limit(&limit)) != 0)
		return r;
	if (total != NULL) {
		if ((r = store_q(st, "device list", "SELECT COUNT(*)"
		    " FROM (SELECT d.id" SQL_DEV_WHERE ") x",
		    PARAMS(TXT(status), TXT(pat)), &res)) != 0)
			goto out;
		if ((r = store_cell_int(res, 0, 0, &cnt)) != 0)
			goto out;
		store_res_free(res);
		res = NULL;
	}
	if ((r = store_q(st, "device list", "SELECT " DEVICE_COLS SQL_DEV_WHERE
	    " ORDER BY d.id LIMIT $3 OFFSET $4", PARAMS(TXT(status), TXT(pat),
	    INT(limit), INT(offset)), &res)) != 0)
		goto out;
	if ((r = store_rows(res, sizeof(**out), device_row, &rows, n)) != 0)
		goto out;
	*out = rows;
	if (total != NULL)
		*total = (size_t)cnt;
	r = 0;
 out:
	store_res_free(res);
	return r;
}

int
amtp_store_device_delete(struct amtp_store *st, int64_t id)
{
	return update_one(st, "device delete", "DELETE FROM devices"
	    " WHERE id = $1 RETURNING id", PARAMS(INT(id)));
}

/* ------------------------------------------------------------------ */
/* Settings                                                             */
/* ------------------------------------------------------------------ */

int
amtp_store_setting_set(struct amtp_store *st, const char *key,
    const char *value)
{
	int r;

	if ((r = store_check_text(key, AMTP_STORE_NAME_MAX, 1)) != 0 ||
	    (r = store_check_text(value, AMTP_STORE_TEXT_MAX, 0)) != 0)
		return r;
	if (value == NULL)
		return AMTP_E_INVAL;
	return store_q(st, "setting set", "INSERT INTO settings (key, value,"
	    " updated) VALUES ($1, $2, @NOW@) ON CONFLICT (key) DO UPDATE"
	    " SET value = excluded.value, updated = excluded.updated",
	    PARAMS(TXT(key), TXT(value)), NULL);
}

int
amtp_store_setting_get(struct amtp_store *st, const char *key, char *out,
    size_t outsz)
{
	struct sqlres *res = NULL;
	const char *v;
	int r;

	if (outsz > 0)
		out[0] = '\0';
	if ((r = store_check_text(key, AMTP_STORE_NAME_MAX, 1)) != 0)
		return r;
	if ((r = store_q(st, "setting get", "SELECT value FROM settings"
	    " WHERE key = $1", PARAMS(TXT(key)), &res)) != 0)
		goto out;
	if (res->nrows == 0) {
		r = AMTP_E_NOTFOUND;
		goto out;
	}
	v = store_cell(res, 0, 0);
	if (v == NULL || amtp_strlcpy(out, v, outsz) >= outsz) {
		if (outsz > 0)
			out[0] = '\0';
		r = AMTP_E_TOOBIG;
		goto out;
	}
	r = 0;
 out:
	store_res_free(res);
	return r;
}
