/*
 * amtprov - store_escrow.c: sealed secrets in the site database: device
 * credentials (two-phase escrow), issued certificates with their private
 * keys, and the accounts of the built-in directory (roles site, oobsp and
 * enroll).
 *
 * Every secret is sealed with AES-256-GCM under the site master key before
 * it reaches SQL, with an AAD naming its row, so that the database holds no
 * secret in clear and a sealed value copied to another row does not open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/secret.h"

#include "store/store.h"
#include "store/store_int.h"

/* Longest AAD we build: "diracct:" + a name, or "cert:" + a serial. */
#define AAD_MAX		(16 + AMTP_STORE_NAME_MAX + AMTP_STORE_SERIAL_MAX)

static int
cred_aad(char *dst, size_t dstsz, int64_t dev, const char *kname, int64_t ver)
{
	int n;

	n = snprintf(dst, dstsz, "device:%lld:%s:v%lld", (long long)dev,
	    kname, (long long)ver);
	return (n < 0 || (size_t)n >= dstsz) ? AMTP_E_INTERNAL : 0;
}

/* Inside a transaction: the device exists (and is locked on PostgreSQL, so
 * that escrow changes of one device are serialised). */
static int
lock_device(struct amtp_store *st, int64_t dev)
{
	struct sqlres *res = NULL;
	int r;

	if ((r = store_q(st, "escrow", "SELECT id FROM devices WHERE id = $1"
	    " @FORUPDATE@", PARAMS(INT(dev)), &res)) != 0)
		return r;
	r = res->nrows == 0 ? AMTP_E_NOTFOUND : 0;
	store_res_free(res);
	return r;
}

int
amtp_store_cred_put_pending(struct amtp_store *st, int64_t device_id,
    enum amtp_cred_kind kind, const struct amtp_secret *secret, int *version)
{
	struct sqlres *res = NULL;
	char aad[AAD_MAX], *sealed = NULL;
	const char *kname;
	int64_t ver = 0;
	int r;

	*version = 0;
	if ((kname = amtp_store_cred_kind_name(kind)) == NULL ||
	    secret == NULL || amtp_secret_len(secret) == 0)
		return AMTP_E_INVAL;
	if (st->key == NULL)
		return AMTP_E_STATE;
	if ((r = store_tx_begin(st)) != 0)
		return r;
	if ((r = lock_device(st, device_id)) != 0)
		goto out;
	if ((r = store_q(st, "cred put", "SELECT COALESCE(MAX(version), 0),"
	    " SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END)"
	    " FROM credentials WHERE device_id = $1 AND kind = $2",
	    PARAMS(INT(device_id), TXT(kname)), &res)) != 0)
		goto out;
	if ((r = store_cell_int(res, 0, 0, &ver)) != 0)
		goto out;
	if (store_cell(res, 0, 1) != NULL &&
	    strcmp(store_cell(res, 0, 1), "0") != 0) {
		r = AMTP_E_EXISTS;
		goto out;
	}
	if (ver >= INT32_MAX) {
		r = AMTP_E_RANGE;
		goto out;
	}
	ver++;
	if ((r = cred_aad(aad, sizeof(aad), device_id, kname, ver)) != 0 ||
	    (r = store_seal(st, secret, aad, &sealed)) != 0)
		goto out;
	if ((r = store_q(st, "cred put", "INSERT INTO credentials (device_id,"
	    " kind, version, state, sealed, created, changed) VALUES ($1, $2,"
	    " $3, 'pending', $4, @NOW@, @NOW@)", PARAMS(INT(device_id),
	    TXT(kname), INT(ver), TXT(sealed)), NULL)) != 0)
		goto out;
	r = 0;
 out:
	free(sealed);
	store_res_free(res);
	if ((r = store_tx_end(st, r)) == 0)
		*version = (int)ver;
	return r;
}

/* The state of one version, inside a transaction. */
static int
cred_state(struct amtp_store *st, int64_t dev, const char *kname, int ver,
    enum amtp_cred_state *state)
{
	struct sqlres *res = NULL;
	int r;

	if ((r = store_q(st, "cred", "SELECT state FROM credentials"
	    " WHERE device_id = $1 AND kind = $2 AND version = $3",
	    PARAMS(INT(dev), TXT(kname), INT(ver)), &res)) != 0)
		return r;
	if (res->nrows == 0)
		r = AMTP_E_NOTFOUND;
	else if (amtp_store_cred_state_parse(store_cell(res, 0, 0), state) != 0)
		r = AMTP_E_PARSE;
	store_res_free(res);
	return r;
}

int
amtp_store_cred_promote(struct amtp_store *st, int64_t device_id,
    enum amtp_cred_kind kind, int version)
{
	enum amtp_cred_state cs;
	const char *kname;
	int r;

	if ((kname = amtp_store_cred_kind_name(kind)) == NULL || version < 1)
		return AMTP_E_INVAL;
	if ((r = store_tx_begin(st)) != 0)
		return r;
	if ((r = lock_device(st, device_id)) != 0 ||
	    (r = cred_state(st, device_id, kname, version, &cs)) != 0)
		goto out;
	if (cs == AMTP_CRED_CURRENT) {
		r = 0;		/* promoted already: a resumed job */
		goto out;
	}
	if (cs != AMTP_CRED_PENDING) {
		r = AMTP_E_STATE;
		goto out;
	}
	if ((r = store_q(st, "cred promote", "UPDATE credentials SET state ="
	    " 'retired', changed = @NOW@ WHERE device_id = $1 AND kind = $2"
	    " AND state = 'current'", PARAMS(INT(device_id), TXT(kname)),
	    NULL)) != 0)
		goto out;
	if ((r = store_q(st, "cred promote", "UPDATE credentials SET state ="
	    " 'current', changed = @NOW@ WHERE device_id = $1 AND kind = $2"
	    " AND version = $3", PARAMS(INT(device_id), TXT(kname),
	    INT(version)), NULL)) != 0)
		goto out;
	r = 0;
 out:
	return store_tx_end(st, r);
}

int
amtp_store_cred_abandon(struct amtp_store *st, int64_t device_id,
    enum amtp_cred_kind kind, int version)
{
	enum amtp_cred_state cs;
	const char *kname;
	int r;

	if ((kname = amtp_store_cred_kind_name(kind)) == NULL || version < 1)
		return AMTP_E_INVAL;
	if ((r = store_tx_begin(st)) != 0)
		return r;
	if ((r = lock_device(st, device_id)) != 0 ||
	    (r = cred_state(st, device_id, kname, version, &cs)) != 0)
		goto out;
	if (cs != AMTP_CRED_PENDING) {
		r = AMTP_E_STATE;
		goto out;
	}
	if ((r = store_q(st, "cred abandon", "UPDATE credentials SET state ="
	    " 'retired', changed = @NOW@ WHERE device_id = $1 AND kind = $2"
	    " AND version = $3", PARAMS(INT(device_id), TXT(kname),
	    INT(version)), NULL)) != 0)
		goto out;
	r = 0;
 out:
	return store_tx_end(st, r);
}

int
amtp_store_cred_retire(struct amtp_store *st, int64_t device_id,
    enum amtp_cred_kind kind, const char *actor, const char *why, int *n)
{
	struct sqlres *res = NULL;
	char detail[AMTP_STORE_TEXT_MAX + 1], part[48];
	const char *kname;
	int64_t ver;
	size_t i, len;
	int r, k;

	if (n != NULL)
		*n = 0;
	if ((kname = amtp_store_cred_kind_name(kind)) == NULL ||
	    (r = store_check_text(actor, AMTP_STORE_NAME_MAX, 1)) != 0 ||
	    (r = store_check_text(why, AMTP_STORE_TEXT_MAX / 2, 0)) != 0)
		return AMTP_E_INVAL;
	if ((r = store_tx_begin(st)) != 0)
		return r;
	if ((r = lock_device(st, device_id)) != 0)
		goto out;
	if ((r = store_q(st, "cred retire", "SELECT version, state FROM"
	    " credentials WHERE device_id = $1 AND kind = $2 AND state IN"
	    " ('pending', 'current') ORDER BY version",
	    PARAMS(INT(device_id), TXT(kname)), &res)) != 0)
		goto out;
	if (res->nrows == 0) {
		r = 0;		/* nothing held: retired already, or never */
		goto out;
	}
	k = snprintf(detail, sizeof(detail), "kind %s:", kname);
	if (k < 0 || (size_t)k >= sizeof(detail)) {
		r = AMTP_E_INTERNAL;
		goto out;
	}
	for (i = 0; i < res->nrows; i++) {
		if ((r = store_cell_int(res, i, 0, &ver)) != 0)
			goto out;
		k = snprintf(part, sizeof(part), "%s v%lld (%s)",
		    i > 0 ? "," : "", (long long)ver,
		    store_cell(res, i, 1) != NULL ? store_cell(res, i, 1) : "");
		len = strlen(detail);
		if (k < 0 || len + (size_t)k >= sizeof(detail)) {
			r = AMTP_E_INTERNAL;
			goto out;
		}
		memcpy(detail + len, part, (size_t)k + 1);
	}
	len = strlen(detail);
	k = snprintf(detail + len, sizeof(detail) - len, " retired%s%s",
	    why != NULL && why[0] != '\0' ? ": " : "", why != NULL ? why : "");
	if (k < 0 || len + (size_t)k >= sizeof(detail)) {
		r = AMTP_E_INTERNAL;
		goto out;
	}
	if ((r = store_q(st, "cred retire", "UPDATE credentials SET state ="
	    " 'retired', changed = @NOW@ WHERE device_id = $1 AND kind = $2"
	    " AND state IN ('pending', 'current')", PARAMS(INT(device_id),
	    TXT(kname)), NULL)) != 0)
		goto out;
	/* in the same transaction: the change and its record go together */
	if ((r = amtp_store_audit_append(st, actor, "device.password.retired",
	    device_id, detail, NULL)) != 0)
		goto out;
	if (n != NULL)
		*n = (int)res->nrows;
	r = 0;
 out:
	store_res_free(res);
	r = store_tx_end(st, r);
	if (r != 0 && n != NULL)
		*n = 0;
	return r;
}

static int
cred_open_row(struct amtp_store *st, int64_t dev, const char *kname,
    struct sqlres *res, int *version, struct amtp_secret **out)
{
	char aad[AAD_MAX];
	int64_t ver;
	int r;

	if (res->nrows == 0)
		return AMTP_E_NOTFOUND;
	if ((r = store_cell_int(res, 0, 0, &ver)) != 0)
		return r;
	if (ver < 1 || ver > INT32_MAX)
		return AMTP_E_PARSE;
	if ((r = cred_aad(aad, sizeof(aad), dev, kname, ver)) != 0)
		return r;
	if ((r = store_open_sealed(st, store_cell(res, 0, 1), aad, out)) != 0)
		return r;
	if (version != NULL)
		*version = (int)ver;
	return 0;
}

int
amtp_store_cred_get(struct amtp_store *st, int64_t device_id,
    enum amtp_cred_kind kind, enum amtp_cred_state state, int *version,
    struct amtp_secret **out)
{
	struct sqlres *res = NULL;
	const char *kname, *sname;
	int r;

	*out = NULL;
	if (version != NULL)
		*version = 0;
	if ((kname = amtp_store_cred_kind_name(kind)) == NULL ||
	    (sname = amtp_store_cred_state_name(state)) == NULL)
		return AMTP_E_INVAL;
	if (st->key == NULL)
		return AMTP_E_STATE;
	if ((r = store_q(st, "cred get", "SELECT version, sealed FROM"
	    " credentials WHERE device_id = $1 AND kind = $2 AND state = $3"
	    " ORDER BY version DESC LIMIT 1", PARAMS(INT(device_id),
	    TXT(kname), TXT(sname)), &res)) != 0)
		goto out;
	r = cred_open_row(st, device_id, kname, res, version, out);
 out:
	store_res_free(res);
	return r;
}

int
amtp_store_cred_get_version(struct amtp_store *st, int64_t device_id,
    enum amtp_cred_kind kind, int version, struct amtp_secret **out)
{
	struct sqlres *res = NULL;
	const char *kname;
	int r;

	*out = NULL;
	if ((kname = amtp_store_cred_kind_name(kind)) == NULL || version < 1)
		return AMTP_E_INVAL;
	if (st->key == NULL)
		return AMTP_E_STATE;
	if ((r = store_q(st, "cred get", "SELECT version, sealed FROM"
	    " credentials WHERE device_id = $1 AND kind = $2 AND version = $3",
	    PARAMS(INT(device_id), TXT(kname), INT(version)), &res)) != 0)
		goto out;
	r = cred_open_row(st, device_id, kname, res, NULL, out);
 out:
	store_res_free(res);
	return r;
}

int
amtp_store_cred_list(struct amtp_store *st, int64_t device_id,
    struct amtp_cred_rec **out, size_t *n)
{
	struct sqlres *res = NULL;
	struct amtp_cred_rec *v = NULL;
	int64_t ver;
	size_t i;
	int r;

	*out = NULL;
	*n = 0;
	/* kind order: admin, mebx, directory (the enum's order) */
	if ((r = store_q(st, "cred list", "SELECT kind, version, state,"
	    " created, changed FROM credentials WHERE device_id = $1"
	    " ORDER BY CASE kind WHEN 'admin' THEN 0 WHEN 'mebx' THEN 1"
	    " ELSE 2 END, version LIMIT $2", PARAMS(INT(device_id),
	    INT(AMTP_STORE_LIST_MAX)), &res)) != 0)
		goto out;
	if (res->nrows > 0 && (v = calloc(res->nrows, sizeof(*v))) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	for (i = 0; i < res->nrows; i++) {
		v[i].device_id = device_id;
		if (amtp_store_cred_kind_parse(store_cell(res, i, 0),
		    &v[i].kind) != 0 ||
		    amtp_store_cred_state_parse(store_cell(res, i, 2),
		    &v[i].state) != 0 ||
		    store_cell_int(res, i, 1, &ver) != 0 ||
		    ver < 1 || ver > INT32_MAX ||
		    store_cell_int(res, i, 3, &v[i].created) != 0 ||
		    store_cell_int(res, i, 4, &v[i].changed) != 0) {
			r = AMTP_E_PARSE;
			goto out;
		}
		v[i].version = (int)ver;
	}
	*out = v;
	v = NULL;
	*n = res->nrows;
	r = 0;
 out:
	free(v);
	store_res_free(res);
	return r;
}

/* ------------------------------------------------------------------ */
/* Certificates                                                         */
/* ------------------------------------------------------------------ */

/* Serial: hex digits (either case) into lower case. */
static int
norm_serial(const char *s, char *dst, size_t dstsz)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return AMTP_E_INVAL;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (i >= AMTP_STORE_SERIAL_MAX || i + 1 >= dstsz)
			return AMTP_E_TOOBIG;
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return AMTP_E_INVAL;
		dst[i] = c;
	}
	dst[i] = '\0';
	return 0;
}

#define CERT_COLS							\
    "id, COALESCE(device_id, 0), serial, profile, subject, not_before,"	\
    " not_after, issued, revoked,"					\
    " CASE WHEN key_sealed IS NULL THEN 0 ELSE 1 END"

static int
cert_from_row(const struct sqlres *res, size_t row, struct amtp_cert_rec *c)
{
	int64_t v;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = store_cell_int(res, row, 0, &c->id)) != 0 ||
	    (r = store_cell_int(res, row, 1, &c->device_id)) != 0 ||
	    (r = store_cell_text(res, row, 2, c->serial,
	    sizeof(c->serial))) != 0 ||
	    (r = store_cell_text(res, row, 3, c->profile,
	    sizeof(c->profile))) != 0 ||
	    (r = store_cell_text(res, row, 4, c->subject,
	    sizeof(c->subject))) != 0 ||
	    (r = store_cell_int(res, row, 5, &c->not_before)) != 0 ||
	    (r = store_cell_int(res, row, 6, &c->not_after)) != 0 ||
	    (r = store_cell_int(res, row, 7, &c->issued)) != 0 ||
	    (r = store_cell_int(res, row, 8, &c->revoked)) != 0 ||
	    (r = store_cell_int(res, row, 9, &v)) != 0)
		return r;
	c->has_key = v != 0;
	return 0;
}

/* The row converter for store_rows. */
static int
cert_row(const struct sqlres *res, size_t row, void *dst)
{
	return cert_from_row(res, row, (struct amtp_cert_rec *)dst);
}

int
amtp_store_cert_add(struct amtp_store *st, const struct amtp_cert_rec *rec,
    const char *pem, const struct amtp_secret *key, int64_t *id)
{
	struct sqlres *res = NULL;
	char serial[AMTP_STORE_SERIAL_MAX + 1], aad[AAD_MAX];
	char *sealed = NULL;
	int64_t v;
	int r;

	*id = 0;
	if (rec == NULL || pem == NULL || pem[0] == '\0')
		return AMTP_E_INVAL;
	if (strnlen(pem, AMTP_STORE_PEM_MAX + 1) > AMTP_STORE_PEM_MAX)
		return AMTP_E_TOOBIG;
	if (strncmp(pem, "-----BEGIN CERTIFICATE-----", 27) != 0)
		return AMTP_E_INVAL;
	if (memchr(rec->serial, '\0', sizeof(rec->serial)) == NULL ||
	    memchr(rec->profile, '\0', sizeof(rec->profile)) == NULL ||
	    memchr(rec->subject, '\0', sizeof(rec->subject)) == NULL)
		return AMTP_E_INVAL;
	if ((r = norm_serial(rec->serial, serial, sizeof(serial))) != 0 ||
	    (r = store_check_text(rec->profile, AMTP_STORE_NAME_MAX, 1)) != 0 ||
	    (r = store_check_text(rec->subject, AMTP_STORE_TEXT_MAX, 1)) != 0)
		return r;
	if (rec->not_after < rec->not_before || rec->device_id < 0)
		return AMTP_E_INVAL;
	if (key != NULL) {
		(void)snprintf(aad, sizeof(aad), "cert:%s", serial);
		if ((r = store_seal(st, key, aad, &sealed)) != 0)
			return r;
	}
	if ((r = store_q(st, "cert add", "INSERT INTO certificates (device_id,"
	    " serial, profile, subject, not_before, not_after, issued, pem,"
	    " key_sealed) VALUES (CASE WHEN $1 = 0 THEN NULL ELSE $1 END,"
	    " $2, $3, $4, $5, $6, @NOW@, $7, $8) RETURNING id",
	    PARAMS(INT(rec->device_id), TXT(serial), TXT(rec->profile),
	    TXT(rec->subject), INT(rec->not_before), INT(rec->not_after),
	    TXT(pem), TXT(sealed)), &res)) != 0)
		goto out;
	if ((r = store_cell_int(res, 0, 0, &v)) != 0)
		goto out;
	*id = v;
	r = 0;
 out:
	free(sealed);
	store_res_free(res);
	return r;
}

int
amtp_store_cert_get(struct amtp_store *st, const char *serial_in,
    struct amtp_cert_rec *out, char **pem)
{
	struct sqlres *res = NULL;
	struct amtp_cert_rec c;
	char serial[AMTP_STORE_SERIAL_MAX + 1];
	char *p = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	if (pem != NULL)
		*pem = NULL;
	if ((r = norm_serial(serial_in, serial, sizeof(serial))) != 0)
		return r;
	if ((r = store_q(st, "cert get", "SELECT " CERT_COLS ", pem FROM"
	    " certificates WHERE serial = $1", PARAMS(TXT(serial)), &res)) != 0)
		goto out;
	if (res->nrows == 0) {
		r = AMTP_E_NOTFOUND;
		goto out;
	}
	if ((r = cert_from_row(res, 0, &c)) != 0)
		goto out;
	if (pem != NULL) {
		const char *s = store_cell(res, 0, 10);

		if (s == NULL || strnlen(s, AMTP_STORE_PEM_MAX + 1) >
		    AMTP_STORE_PEM_MAX) {
			r = AMTP_E_PARSE;
			goto out;
		}
		if ((p = strdup(s)) == NULL) {
			r = AMTP_E_NOMEM;
			goto out;
		}
	}
	*out = c;
	if (pem != NULL)
		*pem = p;
	p = NULL;
	r = 0;
 out:
	free(p);
	store_res_free(res);
	return r;
}

int
amtp_store_cert_get_key(struct amtp_store *st, const char *serial_in,
    struct amtp_secret **out)
{
	struct sqlres *res = NULL;
	char serial[AMTP_STORE_SERIAL_MAX + 1], aad[AAD_MAX];
	int r;

	*out = NULL;
	if ((r = norm_serial(serial_in, serial, sizeof(serial))) != 0)
		return r;
	if (st->key == NULL)
		return AMTP_E_STATE;
	if ((r = store_q(st, "cert key", "SELECT key_sealed FROM certificates"
	    " WHERE serial = $1", PARAMS(TXT(serial)), &res)) != 0)
		goto out;
	if (res->nrows == 0 || store_cell(res, 0, 0) == NULL) {
		r = AMTP_E_NOTFOUND;
		goto out;
	}
	(void)snprintf(aad, sizeof(aad), "cert:%s", serial);
	r = store_open_sealed(st, store_cell(res, 0, 0), aad, out);
 out:
	store_res_free(res);
	return r;
}

int
amtp_store_cert_revoke(struct amtp_store *st, const char *serial_in,
    int64_t at)
{
	struct sqlres *res = NULL;
	char serial[AMTP_STORE_SERIAL_MAX + 1];
	int r;

	if ((r = norm_serial(serial_in, serial, sizeof(serial))) != 0)
		return r;
	if (at < 0)
		return AMTP_E_INVAL;
	if ((r = store_q(st, "cert revoke", "UPDATE certificates SET revoked ="
	    " CASE WHEN $2 = 0 THEN @NOW@ ELSE $2 END WHERE serial = $1"
	    " AND revoked = 0 RETURNING id", PARAMS(TXT(serial), INT(at)),
	    &res)) != 0)
		goto out;
	if (res->nrows == 0) {
		store_res_free(res);
		res = NULL;
		if ((r = store_q(st, "cert revoke", "SELECT id FROM"
		    " certificates WHERE serial = $1", PARAMS(TXT(serial)),
		    &res)) != 0)
			goto out;
		r = res->nrows == 0 ? AMTP_E_NOTFOUND : AMTP_E_STATE;
		goto out;
	}
	r = 0;
 out:
	store_res_free(res);
	return r;
}

int
amtp_store_cert_list(struct amtp_store *st, int64_t device_id,
    size_t offset, size_t limit, struct amtp_cert_rec **out, size_t *n,
    size_t *total)
{
	struct sqlres *res = NULL;
	void *rows = NULL;
	int64_t cnt = 0;
	int r;

	*out = NULL;
	*n = 0;
	if (total != NULL)
		*total = 0;
	if ((r = store_check_limit(&limit)) != 0)
		return r;
	if (total != NULL) {
		if ((r = store_q(st, "cert list", "SELECT COUNT(*) FROM"
		    " certificates WHERE ($1 = 0 OR device_id = $1)",
		    PARAMS(INT(device_id)), &res)) != 0 ||
		    (r = store_cell_int(res, 0, 0, &cnt)) != 0)
			goto out;
		store_res_free(res);
		res = NULL;
	}
	if ((r = store_q(st, "cert list", "SELECT " CERT_COLS " FROM"
	    " certificates WHERE ($1 = 0 OR device_id = $1) ORDER BY id DESC"
	    " LIMIT $2 OFFSET $3", PARAMS(INT(device_id), INT(limit),
	    INT(offset)), &res)) != 0)
		goto out;
	if ((r = store_rows(res, sizeof(**out), cert_row, &rows, n)) != 0)
		goto out;
	*out = rows;
	if (total != NULL)
		*total = (size_t)cnt;
	r = 0;
 out:
	store_res_free(res);
	return r;
}

/* ------------------------------------------------------------------ */
/* Built-in directory accounts                                          */
/* ------------------------------------------------------------------ */

static int
diracct_aad(char *dst, size_t dstsz, const char *name_lc)
{
	int n = snprintf(dst, dstsz, "diracct:%s", name_lc);

	return (n < 0 || (size_t)n >= dstsz) ? AMTP_E_INTERNAL : 0;
}

#define DIRACCT_COLS							\
    "id, name, container, COALESCE(device_id, 0), enabled, created,"	\
    " updated, pw_changed"

/* Fills rec from a row of DIRACCT_COLS, then its SPNs. */
static int
diracct_load(struct amtp_store *st, const struct sqlres *res,
    struct amtp_diracct_rec *a)
{
	struct sqlres *sp = NULL;
	int64_t v;
	size_t i;
	int r;

	memset(a, 0, sizeof(*a));
	if ((r = store_cell_int(res, 0, 0, &a->id)) != 0 ||
	    (r = store_cell_text(res, 0, 1, a->name, sizeof(a->name))) != 0 ||
	    (r = store_cell_text(res, 0, 2, a->container,
	    sizeof(a->container))) != 0 ||
	    (r = store_cell_int(res, 0, 3, &a->device_id)) != 0 ||
	    (r = store_cell_int(res, 0, 4, &v)) != 0 ||
	    (r = store_cell_int(res, 0, 5, &a->created)) != 0 ||
	    (r = store_cell_int(res, 0, 6, &a->updated)) != 0 ||
	    (r = store_cell_int(res, 0, 7, &a->pw_changed)) != 0)
		goto out;
	a->enabled = v != 0;
	if ((r = store_q(st, "diracct", "SELECT spn FROM dir_spns WHERE"
	    " account_id = $1 ORDER BY idx", PARAMS(INT(a->id)), &sp)) != 0)
		goto out;
	if (sp->nrows > AMTP_STORE_SPNS_MAX) {
		r = AMTP_E_PARSE;
		goto out;
	}
	for (i = 0; i < sp->nrows; i++)
		if ((r = store_cell_text(sp, i, 0, a->spns[i],
		    sizeof(a->spns[i]))) != 0)
			goto out;
	a->n_spns = sp->nrows;
	r = 0;
 out:
	store_res_free(sp);
	return r;
}

static int
diracct_get_by(struct amtp_store *st, const char *sql, const struct sqlv *p,
    int np, struct amtp_diracct_rec *out)
{
	struct sqlres *res = NULL;
	struct amtp_diracct_rec *a = NULL;
	int r;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return AMTP_E_NOMEM;
	if ((r = store_q(st, "diracct get", sql, p, np, &res)) != 0)
		goto out;
	if (res->nrows == 0) {
		r = AMTP_E_NOTFOUND;
		goto out;
	}
	if ((r = diracct_load(st, res, a)) != 0)
		goto out;
	*out = *a;
	r = 0;
 out:
	free(a);
	store_res_free(res);
	return r;
}

int
amtp_store_diracct_put(struct amtp_store *st,
    const struct amtp_diracct_rec *rec, const struct amtp_secret *password,
    int64_t *id, int *created)
{
	struct sqlres *res = NULL;
	char name_lc[AMTP_STORE_NAME_MAX + 1], cont_lc[AMTP_STORE_DN_MAX + 1];
	char spn_lc[AMTP_STORE_SPN_MAX + 1], aad[AAD_MAX];
	char *sealed = NULL;
	int64_t aid = 0;
	size_t i, j;
	int r, isnew = 0;

	if (id != NULL)
		*id = 0;
	if (created != NULL)
		*created = 0;
	if (rec == NULL || rec->n_spns > AMTP_STORE_SPNS_MAX ||
	    rec->device_id < 0 ||
	    memchr(rec->name, '\0', sizeof(rec->name)) == NULL ||
	    memchr(rec->container, '\0', sizeof(rec->container)) == NULL)
		return AMTP_E_INVAL;
	if ((r = store_check_text(rec->name, AMTP_STORE_NAME_MAX, 1)) != 0 ||
	    (r = store_check_text(rec->container, AMTP_STORE_DN_MAX, 1)) != 0)
		return r;
	for (i = 0; i < rec->n_spns; i++) {
		if (memchr(rec->spns[i], '\0', sizeof(rec->spns[i])) == NULL)
			return AMTP_E_INVAL;
		if ((r = store_check_text(rec->spns[i], AMTP_STORE_SPN_MAX,
		    1)) != 0)
			return r;
		for (j = 0; j < i; j++)
			if (strcasecmp(rec->spns[i], rec->spns[j]) == 0)
				return AMTP_E_INVAL;	/* listed twice */
	}
	if ((r = store_lower(name_lc, sizeof(name_lc), rec->name)) != 0 ||
	    (r = store_lower(cont_lc, sizeof(cont_lc), rec->container)) != 0 ||
	    (r = diracct_aad(aad, sizeof(aad), name_lc)) != 0)
		return r;
	if (password != NULL) {
		if (amtp_secret_len(password) == 0)
			return AMTP_E_INVAL;
		if ((r = store_seal(st, password, aad, &sealed)) != 0)
			return r;
	}
	if ((r = store_tx_begin(st)) != 0)
		goto out;
	if ((r = store_q(st, "diracct put", "SELECT id FROM dir_accounts"
	    " WHERE name_lc = $1 @FORUPDATE@", PARAMS(TXT(name_lc)),
	    &res)) != 0)
		goto out;
	if (res->nrows == 0) {
		if (sealed == NULL) {
			r = AMTP_E_INVAL;	/* a new account needs one */
			goto out;
		}
		store_res_free(res);
		res = NULL;
		if ((r = store_q(st, "diracct put", "INSERT INTO dir_accounts"
		    " (name, name_lc, container, container_lc, device_id,"
		    " enabled, pw_sealed, created, updated, pw_changed)"
		    " VALUES ($1, $2, $3, $4, CASE WHEN $5 = 0 THEN NULL"
		    " ELSE $5 END, $6, $7, @NOW@, @NOW@, @NOW@) RETURNING id",
		    PARAMS(TXT(rec->name), TXT(name_lc), TXT(rec->container),
		    TXT(cont_lc), INT(rec->device_id), INT(rec->enabled ? 1 : 0),
		    TXT(sealed)), &res)) != 0)
			goto out;
		isnew = 1;
	} else {
		if ((r = store_cell_int(res, 0, 0, &aid)) != 0)
			goto out;
		store_res_free(res);
		res = NULL;
		if ((r = store_q(st, "diracct put", "UPDATE dir_accounts SET"
		    " name = $2, container = $3, container_lc = $4,"
		    " device_id = CASE WHEN $5 = 0 THEN NULL ELSE $5 END,"
		    " enabled = $6, pw_sealed = COALESCE($7, pw_sealed),"
		    " pw_changed = CASE WHEN $7 IS NULL THEN pw_changed"
		    " ELSE @NOW@ END, updated = @NOW@ WHERE id = $1"
		    " RETURNING id", PARAMS(INT(aid), TXT(rec->name),
		    TXT(rec->container), TXT(cont_lc), INT(rec->device_id),
		    INT(rec->enabled ? 1 : 0), TXT(sealed)), &res)) != 0)
			goto out;
	}
	if ((r = store_cell_int(res, 0, 0, &aid)) != 0)
		goto out;
	if ((r = store_q(st, "diracct put", "DELETE FROM dir_spns WHERE"
	    " account_id = $1", PARAMS(INT(aid)), NULL)) != 0)
		goto out;
	for (i = 0; i < rec->n_spns; i++) {
		if ((r = store_lower(spn_lc, sizeof(spn_lc), rec->spns[i])) != 0)
			goto out;
		r = store_q(st, "diracct put", "INSERT INTO dir_spns"
		    " (account_id, idx, spn, spn_lc) VALUES ($1, $2, $3, $4)",
		    PARAMS(INT(aid), INT(i), TXT(rec->spns[i]), TXT(spn_lc)),
		    NULL);
		if (r == AMTP_E_EXISTS)
			r = AMTP_E_CONFLICT;	/* another account has it */
		if (r != 0)
			goto out;
	}
	r = 0;
 out:
	r = store_tx_end(st, r);
	if (r == 0) {
		if (id != NULL)
			*id = aid;
		if (created != NULL)
			*created = isnew;
	}
	free(sealed);
	store_res_free(res);
	return r;
}

int
amtp_store_diracct_get(struct amtp_store *st, const char *name,
    struct amtp_diracct_rec *out)
{
	char lc[AMTP_STORE_NAME_MAX + 1];
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = store_check_text(name, AMTP_STORE_NAME_MAX, 1)) != 0 ||
	    (r = store_lower(lc, sizeof(lc), name)) != 0)
		return r;
	return diracct_get_by(st, "SELECT " DIRACCT_COLS " FROM dir_accounts"
	    " WHERE name_lc = $1", PARAMS(TXT(lc)), out);
}

int
amtp_store_diracct_find_spn(struct amtp_store *st, const char *spn,
    struct amtp_diracct_rec *out)
{
	char lc[AMTP_STORE_SPN_MAX + 1];
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = store_check_text(spn, AMTP_STORE_SPN_MAX, 1)) != 0 ||
	    (r = store_lower(lc, sizeof(lc), spn)) != 0)
		return r;
	return diracct_get_by(st, "SELECT " DIRACCT_COLS " FROM dir_accounts"
	    " WHERE id = (SELECT account_id FROM dir_spns WHERE spn_lc = $1)",
	    PARAMS(TXT(lc)), out);
}

int
amtp_store_diracct_get_device(struct amtp_store *st, int64_t device_id,
    struct amtp_diracct_rec *out)
{
	memset(out, 0, sizeof(*out));
	if (device_id <= 0)
		return AMTP_E_INVAL;
	return diracct_get_by(st, "SELECT " DIRACCT_COLS " FROM dir_accounts"
	    " WHERE device_id = $1 ORDER BY id DESC LIMIT 1",
	    PARAMS(INT(device_id)), out);
}

int
amtp_store_diracct_get_password(struct amtp_store *st, const char *name,
    struct amtp_secret **out)
{
	struct sqlres *res = NULL;
	char lc[AMTP_STORE_NAME_MAX + 1], aad[AAD_MAX];
	int r;

	*out = NULL;
	if ((r = store_check_text(name, AMTP_STORE_NAME_MAX, 1)) != 0 ||
	    (r = store_lower(lc, sizeof(lc), name)) != 0 ||
	    (r = diracct_aad(aad, sizeof(aad), lc)) != 0)
		return r;
	if (st->key == NULL)
		return AMTP_E_STATE;
	if ((r = store_q(st, "diracct password", "SELECT pw_sealed FROM"
	    " dir_accounts WHERE name_lc = $1", PARAMS(TXT(lc)), &res)) != 0)
		goto out;
	if (res->nrows == 0) {
		r = AMTP_E_NOTFOUND;
		goto out;
	}
	r = store_open_sealed(st, store_cell(res, 0, 0), aad, out);
 out:
	store_res_free(res);
	return r;
}

int
amtp_store_diracct_set_enabled(struct amtp_store *st, const char *name,
    int enabled)
{
	struct sqlres *res = NULL;
	char lc[AMTP_STORE_NAME_MAX + 1];
	int r;

	if ((r = store_check_text(name, AMTP_STORE_NAME_MAX, 1)) != 0 ||
	    (r = store_lower(lc, sizeof(lc), name)) != 0)
		return r;
	if ((r = store_q(st, "diracct enable", "UPDATE dir_accounts SET"
	    " enabled = $2, updated = @NOW@ WHERE name_lc = $1 RETURNING id",
	    PARAMS(TXT(lc), INT(enabled ? 1 : 0)), &res)) != 0)
		return r;
	r = res->nrows == 0 ? AMTP_E_NOTFOUND : 0;
	store_res_free(res);
	return r;
}

int
amtp_store_diracct_delete(struct amtp_store *st, const char *name)
{
	struct sqlres *res = NULL;
	char lc[AMTP_STORE_NAME_MAX + 1];
	int r;

	if ((r = store_check_text(name, AMTP_STORE_NAME_MAX, 1)) != 0 ||
	    (r = store_lower(lc, sizeof(lc), name)) != 0)
		return r;
	if ((r = store_q(st, "diracct delete", "DELETE FROM dir_accounts"
	    " WHERE name_lc = $1 RETURNING id", PARAMS(TXT(lc)), &res)) != 0)
		return r;
	r = res->nrows == 0 ? AMTP_E_NOTFOUND : 0;
	store_res_free(res);
	return r;
}

int
amtp_store_diracct_list(struct amtp_store *st, const char *container,
    size_t offset, size_t limit, struct amtp_diracct_rec **out, size_t *n,
    size_t *total)
{
	struct sqlres *res = NULL, *one = NULL;
	struct amtp_diracct_rec *v = NULL;
	char lc[AMTP_STORE_DN_MAX + 1] = "";
	int64_t cnt = 0;
	size_t i, k;
	int r;

	*out = NULL;
	*n = 0;
	if (total != NULL)
		*total = 0;
	if ((r = store_check_limit(&limit)) != 0)
		return r;
	if (container != NULL &&
	    ((r = store_check_text(container, AMTP_STORE_DN_MAX, 0)) != 0 ||
	    (r = store_lower(lc, sizeof(lc), container)) != 0))
		return r;
	if (total != NULL) {
		if ((r = store_q(st, "diracct list", "SELECT COUNT(*) FROM"
		    " dir_accounts WHERE ($1 = '' OR container_lc = $1)",
		    PARAMS(TXT(lc)), &res)) != 0 ||
		    (r = store_cell_int(res, 0, 0, &cnt)) != 0)
			goto out;
		store_res_free(res);
		res = NULL;
	}
	if ((r = store_q(st, "diracct list", "SELECT " DIRACCT_COLS " FROM"
	    " dir_accounts WHERE ($1 = '' OR container_lc = $1)"
	    " ORDER BY name_lc LIMIT $2 OFFSET $3", PARAMS(TXT(lc), INT(limit),
	    INT(offset)), &res)) != 0)
		goto out;
	if (res->nrows > 0 && (v = calloc(res->nrows, sizeof(*v))) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	if ((one = store_res_new(res->ncols)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	for (i = 0; i < res->nrows; i++) {
		const char *vals[8];
		size_t lens[8];

		if (res->ncols != 8) {
			r = AMTP_E_INTERNAL;
			goto out;
		}
		for (k = 0; k < 8; k++) {
			vals[k] = store_cell(res, i, k);
			lens[k] = vals[k] ? strlen(vals[k]) : 0;
		}
		store_res_free(one);
		if ((one = store_res_new(8)) == NULL) {
			r = AMTP_E_NOMEM;
			goto out;
		}
		if ((r = store_res_add_row(one, vals, lens, 8)) != 0 ||
		    (r = diracct_load(st, one, &v[i])) != 0)
			goto out;
	}
	*out = v;
	v = NULL;
	*n = res->nrows;
	if (total != NULL)
		*total = (size_t)cnt;
	r = 0;
 out:
	free(v);
	store_res_free(one);
	store_res_free(res);
	return r;
}
