/*
 * amtprov - store_admin.c: who may do what, and what was done: the audit
 * trail, agent credentials and admin API tokens in the site database (role
 * site).  Credentials and tokens are stored as hashes only.
 */
#include <stdlib.h>
#include <string.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"

#include "store/store.h"
#include "store/store_int.h"

/* ------------------------------------------------------------------ */
/* Audit                                                                */
/* ------------------------------------------------------------------ */

int
amtp_store_audit_append(struct amtp_store *st, const char *actor,
    const char *action, int64_t device_id, const char *detail, int64_t *id)
{
	struct sqlres *res = NULL;
	int64_t v;
	int r;

	if (id != NULL)
		*id = 0;
	if ((r = store_check_text(actor, AMTP_STORE_NAME_MAX, 1)) != 0 ||
	    (r = store_check_text(action, AMTP_STORE_NAME_MAX, 1)) != 0 ||
	    (r = store_check_text(detail, AMTP_STORE_TEXT_MAX, 0)) != 0)
		return r;
	if (device_id < 0)
		return AMTP_E_INVAL;
	if ((r = store_q(st, "audit append", "INSERT INTO audit (at, actor,"
	    " action, device_id, detail) VALUES (@NOW@, $1, $2, $3, $4)"
	    " RETURNING id", PARAMS(TXT(actor), TXT(action), INT(device_id),
	    TXT(detail ? detail : "")), &res)) != 0)
		goto out;
	if ((r = store_cell_int(res, 0, 0, &v)) != 0)
		goto out;
	if (id != NULL)
		*id = v;
	r = 0;
 out:
	store_res_free(res);
	return r;
}

#define SQL_AUDIT_WHERE	\
    " FROM audit WHERE ($1 = 0 OR device_id = $1) AND ($2 = '' OR actor = $2)"	\
    " AND at >= $3"

int
amtp_store_audit_list(struct amtp_store *st,
    const struct amtp_audit_filter *f, struct amtp_audit_rec **out,
    size_t *n, size_t *total)
{
	struct sqlres *res = NULL;
	struct amtp_audit_rec *v = NULL;
	const char *actor = "";
	size_t limit = 0, offset = 0, i;
	int64_t dev = 0, since = 0, cnt = 0;
	int r;

	*out = NULL;
	*n = 0;
	if (total != NULL)
		*total = 0;
	if (f != NULL) {
		if ((r = store_check_text(f->actor, AMTP_STORE_NAME_MAX, 0)) != 0)
			return r;
		if (f->actor != NULL)
			actor = f->actor;
		dev = f->device_id;
		since = f->since;
		limit = f->limit;
		offset = f->offset;
	}
	if ((r = store_check_limit(&limit)) != 0)
		return r;
	if (total != NULL) {
		if ((r = store_q(st, "audit list", "SELECT COUNT(*)"
		    SQL_AUDIT_WHERE, PARAMS(INT(dev), TXT(actor), INT(since)),
		    &res)) != 0 || (r = store_cell_int(res, 0, 0, &cnt)) != 0)
			goto out;
		store_res_free(res);
		res = NULL;
	}
	if ((r = store_q(st, "audit list", "SELECT id, at, actor, action,"
	    " device_id, detail" SQL_AUDIT_WHERE " ORDER BY id DESC"
	    " LIMIT $4 OFFSET $5", PARAMS(INT(dev), TXT(actor), INT(since),
	    INT(limit), INT(offset)), &res)) != 0)
		goto out;
	if (res->nrows > 0 && (v = calloc(res->nrows, sizeof(*v))) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	for (i = 0; i < res->nrows; i++) {
		struct amtp_audit_rec *a = &v[i];

		if ((r = store_cell_int(res, i, 0, &a->id)) != 0 ||
		    (r = store_cell_int(res, i, 1, &a->at)) != 0 ||
		    (r = store_cell_text(res, i, 2, a->actor,
		    sizeof(a->actor))) != 0 ||
		    (r = store_cell_text(res, i, 3, a->action,
		    sizeof(a->action))) != 0 ||
		    (r = store_cell_int(res, i, 4, &a->device_id)) != 0 ||
		    (r = store_cell_text(res, i, 5, a->detail,
		    sizeof(a->detail))) != 0)
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
	store_res_free(res);
	return r;
}

/* ------------------------------------------------------------------ */
/* Agents                                                               */
/* ------------------------------------------------------------------ */

#define AGENT_COLS							\
    "id, name, COALESCE(device_id, 0), cred_hash, enabled, created,"	\
    " last_seen"

static int
agent_from_row(const struct sqlres *res, size_t row, struct amtp_agent_rec *a)
{
	int64_t v;
	int r;

	memset(a, 0, sizeof(*a));
	if ((r = store_cell_int(res, row, 0, &a->id)) != 0 ||
	    (r = store_cell_text(res, row, 1, a->name, sizeof(a->name))) != 0 ||
	    (r = store_cell_int(res, row, 2, &a->device_id)) != 0 ||
	    (r = store_cell_text(res, row, 3, a->cred_hash,
	    sizeof(a->cred_hash))) != 0 ||
	    (r = store_cell_int(res, row, 4, &v)) != 0 ||
	    (r = store_cell_int(res, row, 5, &a->created)) != 0 ||
	    (r = store_cell_int(res, row, 6, &a->last_seen)) != 0)
		return r;
	a->enabled = v != 0;
	return 0;
}

/* The row converter for store_rows. */
static int
agent_row(const struct sqlres *res, size_t row, void *dst)
{
	return agent_from_row(res, row, (struct amtp_agent_rec *)dst);
}

int
amtp_store_agent_put(struct amtp_store *st, const char *name,
    const char *cred_hash, int64_t device_id, int64_t *id)
{
	struct sqlres *res = NULL;
	int64_t v;
	int r;

	if (id != NULL)
		*id = 0;
	if ((r = store_check_text(name, AMTP_STORE_NAME_MAX, 1)) != 0 ||
	    (r = store_check_text(cred_hash, AMTP_STORE_HASH_MAX, 1)) != 0)
		return r;
	if (device_id < 0)
		return AMTP_E_INVAL;
	if ((r = store_q(st, "agent put", "INSERT INTO agents (name,"
	    " device_id, cred_hash, enabled, created) VALUES ($1,"
	    " CASE WHEN $2 = 0 THEN NULL ELSE $2 END, $3, 1, @NOW@)"
	    " ON CONFLICT (name) DO UPDATE SET device_id = excluded.device_id,"
	    " cred_hash = excluded.cred_hash, enabled = 1 RETURNING id",
	    PARAMS(TXT(name), INT(device_id), TXT(cred_hash)), &res)) != 0)
		goto out;
	if ((r = store_cell_int(res, 0, 0, &v)) != 0)
		goto out;
	if (id != NULL)
		*id = v;
	r = 0;
 out:
	store_res_free(res);
	return r;
}

int
amtp_store_agent_get(struct amtp_store *st, const char *name,
    struct amtp_agent_rec *out)
{
	struct sqlres *res = NULL;
	struct amtp_agent_rec a;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = store_check_text(name, AMTP_STORE_NAME_MAX, 1)) != 0)
		return r;
	if ((r = store_q(st, "agent get", "SELECT " AGENT_COLS " FROM agents"
	    " WHERE name = $1", PARAMS(TXT(name)), &res)) != 0)
		goto out;
	if (res->nrows == 0) {
		r = AMTP_E_NOTFOUND;
		goto out;
	}
	if ((r = agent_from_row(res, 0, &a)) != 0)
		goto out;
	*out = a;
	r = 0;
 out:
	store_res_free(res);
	return r;
}

static int
update_id(struct amtp_store *st, const char *what, const char *sql,
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
amtp_store_agent_touch(struct amtp_store *st, int64_t id)
{
	return update_id(st, "agent touch", "UPDATE agents SET last_seen ="
	    " @NOW@ WHERE id = $1 RETURNING id", PARAMS(INT(id)));
}

int
amtp_store_agent_set_enabled(struct amtp_store *st, int64_t id, int enabled)
{
	return update_id(st, "agent enable", "UPDATE agents SET enabled = $2"
	    " WHERE id = $1 RETURNING id", PARAMS(INT(id),
	    INT(enabled ? 1 : 0)));
}

int
amtp_store_agent_list(struct amtp_store *st, size_t offset, size_t limit,
    struct amtp_agent_rec **out, size_t *n, size_t *total)
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
		if ((r = store_q(st, "agent list", "SELECT COUNT(*) FROM agents",
		    NOPARAMS, &res)) != 0 ||
		    (r = store_cell_int(res, 0, 0, &cnt)) != 0)
			goto out;
		store_res_free(res);
		res = NULL;
	}
	if ((r = store_q(st, "agent list", "SELECT " AGENT_COLS " FROM agents"
	    " ORDER BY id LIMIT $1 OFFSET $2", PARAMS(INT(limit), INT(offset)),
	    &res)) != 0)
		goto out;
	if ((r = store_rows(res, sizeof(**out), agent_row, &rows, n)) != 0)
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
/* Admin tokens                                                         */
/* ------------------------------------------------------------------ */

#define TOKEN_COLS "id, name, role, created, expires, last_used, revoked"

static int
token_from_row(const struct sqlres *res, size_t row, struct amtp_token_rec *t)
{
	int r;

	memset(t, 0, sizeof(*t));
	if ((r = store_cell_int(res, row, 0, &t->id)) != 0 ||
	    (r = store_cell_text(res, row, 1, t->name, sizeof(t->name))) != 0 ||
	    (r = store_cell_int(res, row, 3, &t->created)) != 0 ||
	    (r = store_cell_int(res, row, 4, &t->expires)) != 0 ||
	    (r = store_cell_int(res, row, 5, &t->last_used)) != 0 ||
	    (r = store_cell_int(res, row, 6, &t->revoked)) != 0)
		return r;
	if (amtp_store_role_parse(store_cell(res, row, 2), &t->role) != 0)
		return AMTP_E_PARSE;
	return 0;
}

/* The row converter for store_rows. */
static int
token_row(const struct sqlres *res, size_t row, void *dst)
{
	return token_from_row(res, row, (struct amtp_token_rec *)dst);
}

int
amtp_store_token_add(struct amtp_store *st, const char *name,
    const char *token_hash, enum amtp_token_role role, int64_t expires,
    int64_t *id)
{
	struct sqlres *res = NULL;
	const char *rname;
	int64_t v;
	int r;

	if (id != NULL)
		*id = 0;
	if ((rname = amtp_store_role_name(role)) == NULL || expires < 0)
		return AMTP_E_INVAL;
	if ((r = store_check_text(name, AMTP_STORE_NAME_MAX, 1)) != 0 ||
	    (r = store_check_text(token_hash, AMTP_STORE_HASH_MAX, 1)) != 0)
		return r;
	if ((r = store_q(st, "token add", "INSERT INTO admin_tokens (name,"
	    " token_hash, role, created, expires) VALUES ($1, $2, $3, @NOW@,"
	    " $4) RETURNING id", PARAMS(TXT(name), TXT(token_hash),
	    TXT(rname), INT(expires)), &res)) != 0)
		goto out;
	if ((r = store_cell_int(res, 0, 0, &v)) != 0)
		goto out;
	if (id != NULL)
		*id = v;
	r = 0;
 out:
	store_res_free(res);
	return r;
}

int
amtp_store_token_find(struct amtp_store *st, const char *token_hash,
    struct amtp_token_rec *out)
{
	struct sqlres *res = NULL;
	struct amtp_token_rec t;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = store_check_text(token_hash, AMTP_STORE_HASH_MAX, 1)) != 0)
		return r;
	if ((r = store_q(st, "token find", "UPDATE admin_tokens SET"
	    " last_used = @NOW@ WHERE token_hash = $1 AND revoked = 0"
	    " AND (expires = 0 OR expires > @NOW@) RETURNING " TOKEN_COLS,
	    PARAMS(TXT(token_hash)), &res)) != 0)
		goto out;
	if (res->nrows == 0) {
		r = AMTP_E_NOTFOUND;
		goto out;
	}
	if ((r = token_from_row(res, 0, &t)) != 0)
		goto out;
	*out = t;
	r = 0;
 out:
	store_res_free(res);
	return r;
}

int
amtp_store_token_revoke(struct amtp_store *st, int64_t id)
{
	return update_id(st, "token revoke", "UPDATE admin_tokens SET"
	    " revoked = @NOW@ WHERE id = $1 AND revoked = 0 RETURNING id",
	    PARAMS(INT(id)));
}

int
amtp_store_token_list(struct amtp_store *st, struct amtp_token_rec **out,
    size_t *n)
{
	struct sqlres *res = NULL;
	void *rows = NULL;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = store_q(st, "token list", "SELECT " TOKEN_COLS " FROM"
	    " admin_tokens ORDER BY id LIMIT $1",
	    PARAMS(INT(AMTP_STORE_LIST_MAX)), &res)) != 0)
		goto out;
	if ((r = store_rows(res, sizeof(**out), token_row, &rows, n)) != 0)
		goto out;
	*out = rows;
	r = 0;
 out:
	store_res_free(res);
	return r;
}
