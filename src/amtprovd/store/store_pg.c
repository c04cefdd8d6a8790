/*
 * amtprov - store_pg.c: the PostgreSQL back end of the site database (for
 * sites whose service points run on several machines).
 *
 * libpq, parameterised queries only (PQexecParams, with the parameter types
 * given: int8 or text), results in text form.  The tables live in one
 * schema (default "amtprov", or ?schema=NAME in the URI), created when
 * missing; migrations run under a session advisory lock keyed on the schema
 * name, so that service points starting at once do not race.  libpq's
 * notices are swallowed: a library does not print.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/str.h"

#include "store/store.h"
#include "store/store_int.h"

/* Parameters of one statement: more than any statement of the store. */
#define PG_MAX_PARAMS		16
/* Rewritten statements kept per connection (keyed by the SQL address). */
#define PG_SQL_CACHE		160

/* PostgreSQL type OIDs (pg_type.h; stable). */
#define PG_OID_INT8		20
#define PG_OID_TEXT		25

struct sql_slot {
	const char	*key;
	char		*text;
};

struct pg_be {
	PGconn		*conn;
	char		schema[AMTP_STORE_SCHEMA_MAX + 1];
	struct sql_slot	cache[PG_SQL_CACHE];
	size_t		ncache;
};

static const struct store_dialect pg_dialect = {
	'$',
	"CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)",
	"FOR UPDATE SKIP LOCKED",
	"FOR UPDATE",
	"BIGSERIAL PRIMARY KEY",
};

static void
pg_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static int
valid_schema(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= AMTP_STORE_SCHEMA_MAX)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	}
	return 1;
}

/* Maps a failed result; PQclear is the caller's. */
static int
map_result(struct amtp_store *st, PGresult *res, const char *what)
{
	struct pg_be *be = st->be;
	const char *state, *msg;

	msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (msg == NULL)
		msg = PQerrorMessage(be->conn);
	store_set_err(st, what, msg);
	if (PQstatus(be->conn) == CONNECTION_BAD)
		return AMTP_E_DB;
	state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state == NULL)
		return AMTP_E_DB;
	if (strcmp(state, "23505") == 0)	/* unique_violation */
		return AMTP_E_EXISTS;
	if (strcmp(state, "23503") == 0)	/* foreign_key_violation */
		return AMTP_E_NOTFOUND;
	if (strcmp(state, "23514") == 0 ||	/* check_violation */
	    strcmp(state, "23502") == 0 ||	/* not_null_violation */
	    strcmp(state, "22P02") == 0 ||	/* invalid_text_representation */
	    strcmp(state, "22021") == 0)	/* character_not_in_repertoire */
		return AMTP_E_INVAL;
	if (strcmp(state, "40001") == 0 ||	/* serialization_failure */
	    strcmp(state, "40P01") == 0)	/* deadlock_detected */
		return AMTP_E_AGAIN;
	if (strcmp(state, "55P03") == 0)	/* lock_not_available */
		return AMTP_E_BUSY;
	return AMTP_E_DB;
}

/* A broken connection is reset before the next statement, outside of a
 * transaction (inside one, the transaction is lost anyway: the caller gets
 * AMTP_E_DB and retries from the start). */
static void
pg_revive(struct amtp_store *st)
{
	struct pg_be *be = st->be;

	if (PQstatus(be->conn) == CONNECTION_BAD && !st->in_tx) {
		PQreset(be->conn);
		if (PQstatus(be->conn) == CONNECTION_OK) {
			char sql[AMTP_STORE_SCHEMA_MAX + 32];
			PGresult *res;

			(void)snprintf(sql, sizeof(sql), "SET search_path TO \"%s\"",
			    be->schema);
			res = PQexec(be->conn, sql);
			PQclear(res);
		}
	}
}

/*
 * The rewritten text of sql: from the cache, or rewritten and cached.  When
 * the cache is full, *owned gets a copy for this call only (free()).
 */
static int
get_sql(struct amtp_store *st, const char *sql, const char **out,
    char **owned)
{
	struct pg_be *be = st->be;
	char *text = NULL;
	size_t i;
	int r;

	*out = NULL;
	*owned = NULL;
	for (i = 0; i < be->ncache; i++) {
		if (be->cache[i].key == sql) {
			*out = be->cache[i].text;
			return 0;
		}
	}
	if ((r = store_sql_rewrite(sql, &pg_dialect, &text)) != 0)
		return r;
	if (be->ncache >= PG_SQL_CACHE)
		*owned = text;
	else {
		be->cache[be->ncache].key = sql;
		be->cache[be->ncache].text = text;
		be->ncache++;
	}
	*out = text;
	return 0;
}

static int
pg_exec(struct amtp_store *st, const char *sql, const struct sqlv *p, int np,
    struct sqlres **out)
{
	struct pg_be *be = st->be;
	Oid types[PG_MAX_PARAMS];
	const char *vals[PG_MAX_PARAMS];
	char nums[PG_MAX_PARAMS][24];
	const char **row = NULL;
	size_t *lens = NULL;
	struct sqlres *rs = NULL;
	PGresult *res = NULL;
	const char *text;
	char *owned = NULL;
	int i, j, nrows, ncols, r;

	*out = NULL;
	if (np < 0 || np > PG_MAX_PARAMS)
		return AMTP_E_INTERNAL;
	if ((r = get_sql(st, sql, &text, &owned)) != 0)
		return r;
	for (i = 0; i < np; i++) {
		if (p[i].type == SQLV_INT) {
			types[i] = PG_OID_INT8;
			(void)snprintf(nums[i], sizeof(nums[i]), "%lld",
			    (long long)p[i].i);
			vals[i] = nums[i];
		} else {
			types[i] = PG_OID_TEXT;
			vals[i] = p[i].s;	/* NULL is SQL NULL */
		}
	}
	pg_revive(st);
	res = PQexecParams(be->conn, text, np, types, vals, NULL, NULL, 0);
	if (res == NULL || (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)) {
		r = map_result(st, res, "exec");
		goto out;
	}
	nrows = PQntuples(res);
	ncols = PQnfields(res);
	if ((rs = store_res_new((size_t)ncols)) == NULL ||
	    (row = calloc((size_t)ncols + 1, sizeof(*row))) == NULL ||
	    (lens = calloc((size_t)ncols + 1, sizeof(*lens))) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	for (i = 0; i < nrows; i++) {
		for (j = 0; j < ncols; j++) {
			if (PQgetisnull(res, i, j)) {
				row[j] = NULL;
				lens[j] = 0;
			} else {
				row[j] = PQgetvalue(res, i, j);
				lens[j] = (size_t)PQgetlength(res, i, j);
			}
		}
		if ((r = store_res_add_row(rs, row, lens, (size_t)ncols)) != 0)
			goto out;
	}
	*out = rs;
	rs = NULL;
	r = 0;
 out:
	free(owned);
	PQclear(res);
	free(row);
	free(lens);
	store_res_free(rs);
	return r;
}

static int
simple(struct amtp_store *st, const char *sql, const char *what)
{
	struct pg_be *be = st->be;
	PGresult *res;
	int r = 0;

	res = PQexec(be->conn, sql);
	if (res == NULL || (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK))
		r = map_result(st, res, what);
	PQclear(res);
	return r;
}

static int
pg_script(struct amtp_store *st, const char *sql)
{
	char *text = NULL;
	int r;

	if ((r = store_sql_rewrite(sql, &pg_dialect, &text)) != 0)
		return r;
	r = simple(st, text, "script");
	free(text);
	return r;
}

static int
pg_begin(struct amtp_store *st)
{
	pg_revive(st);
	return simple(st, "BEGIN", "begin");
}

static int
pg_commit(struct amtp_store *st)
{
	return simple(st, "COMMIT", "commit");
}

static int
pg_rollback(struct amtp_store *st)
{
	struct pg_be *be = st->be;

	if (PQtransactionStatus(be->conn) == PQTRANS_IDLE)
		return 0;
	return simple(st, "ROLLBACK", "rollback");
}

/*
 * The migration lock is a session advisory lock on a key derived from the
 * schema name; under it the schema is created (CREATE SCHEMA IF NOT EXISTS
 * itself races between sessions) and search_path set.
 */
static int
pg_migrate_lock(struct amtp_store *st, int lock)
{
	struct pg_be *be = st->be;
	char key[AMTP_STORE_SCHEMA_MAX + 32];
	char sql[2 * AMTP_STORE_SCHEMA_MAX + 64];
	const char *vals[1];
	PGresult *res;
	int r;

	(void)snprintf(key, sizeof(key), "amtprov-migrate:%s", be->schema);
	vals[0] = key;
	res = PQexecParams(be->conn, lock ?
	    "SELECT pg_advisory_lock(hashtext($1::text))" :
	    "SELECT pg_advisory_unlock(hashtext($1::text))",
	    1, NULL, vals, NULL, NULL, 0);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		r = map_result(st, res, "migration lock");
		PQclear(res);
		return r;
	}
	PQclear(res);
	if (!lock)
		return 0;
	/* The schema name was checked by valid_schema(): an identifier of
	 * [a-z0-9_], quoted; it is not a value. */
	(void)snprintf(sql, sizeof(sql), "CREATE SCHEMA IF NOT EXISTS \"%s\"",
	    be->schema);
	if ((r = simple(st, sql, "create schema")) != 0)
		return r;
	(void)snprintf(sql, sizeof(sql), "SET search_path TO \"%s\"",
	    be->schema);
	return simple(st, sql, "search_path");
}

static void
pg_close(struct amtp_store *st)
{
	struct pg_be *be = st->be;
	size_t i;

	if (be == NULL)
		return;
	for (i = 0; i < be->ncache; i++)
		free(be->cache[i].text);
	if (be->conn != NULL)
		PQfinish(be->conn);
	free(be);
	st->be = NULL;
}

static const struct store_ops pg_ops = {
	"postgresql",
	pg_exec,
	pg_script,
	pg_begin,
	pg_commit,
	pg_rollback,
	pg_migrate_lock,
	pg_close,
};

/*
 * Splits the URI: takes schema=NAME out of the query (libpq refuses
 * unknown parameters) and gives the rest to libpq.
 */
static int
split_uri(const char *uri, char *conninfo, size_t csz, char *schema,
    size_t ssz)
{
	const char *q, *p, *amp;
	size_t len, o;
	int first = 1;

	if (amtp_strlcpy(schema, "amtprov", ssz) >= ssz)
		return AMTP_E_INTERNAL;
	if ((q = strchr(uri, '?')) == NULL) {
		if (amtp_strlcpy(conninfo, uri, csz) >= csz)
			return AMTP_E_TOOBIG;
		return 0;
	}
	len = (size_t)(q - uri);
	if (len + 1 >= csz)
		return AMTP_E_TOOBIG;
	memcpy(conninfo, uri, len);
	o = len;
	for (p = q + 1; *p != '\0'; p = amp + 1) {
		size_t plen;

		if ((amp = strchr(p, '&')) == NULL)
			amp = p + strlen(p);
		plen = (size_t)(amp - p);
		if (plen >= 7 && strncmp(p, "schema=", 7) == 0) {
			if (plen - 7 >= ssz)
				return AMTP_E_INVAL;
			memcpy(schema, p + 7, plen - 7);
			schema[plen - 7] = '\0';
		} else if (plen > 0) {
			if (o + plen + 2 >= csz)
				return AMTP_E_TOOBIG;
			conninfo[o++] = first ? '?' : '&';
			first = 0;
			memcpy(conninfo + o, p, plen);
			o += plen;
		}
		if (*amp == '\0')
			break;
	}
	conninfo[o] = '\0';
	return 0;
}

int
store_pg_open(struct amtp_store *st, const char *uri, char *err,
    size_t errlen)
{
	struct pg_be *be = NULL;
	char conninfo[AMTP_STORE_URI_MAX + 1];
	const char *msg;
	int r;

	if ((be = calloc(1, sizeof(*be))) == NULL)
		return AMTP_E_NOMEM;
	st->be = be;
	st->ops = &pg_ops;
	if ((r = split_uri(uri, conninfo, sizeof(conninfo), be->schema,
	    sizeof(be->schema))) != 0 || !valid_schema(be->schema)) {
		if (err != NULL)
			(void)snprintf(err, errlen, "postgresql: bad URI or "
			    "schema name (schema must match [a-z_][a-z0-9_]*, "
			    "at most %d characters)", AMTP_STORE_SCHEMA_MAX);
		r = r ? r : AMTP_E_INVAL;
		goto fail;
	}
	be->conn = PQconnectdb(conninfo);
	explicit_bzero(conninfo, sizeof(conninfo));	/* holds a password */
	if (be->conn == NULL) {
		r = AMTP_E_NOMEM;
		goto fail;
	}
	if (PQstatus(be->conn) != CONNECTION_OK) {
		msg = PQerrorMessage(be->conn);
		if (err != NULL)
			(void)snprintf(err, errlen, "postgresql: cannot connect: "
			    "%.*s", (int)strcspn(msg, "\n"), msg);
		r = AMTP_E_DB;
		goto fail;
	}
	(void)PQsetNoticeProcessor(be->conn, pg_notice, NULL);
	if ((r = simple(st, "SET client_min_messages TO warning",
	    "settings")) != 0) {
		if (err != NULL)
			(void)snprintf(err, errlen, "postgresql: %s", st->errmsg);
		goto fail;
	}
	return 0;
 fail:
	explicit_bzero(conninfo, sizeof(conninfo));	/* a bad URI too */
	pg_close(st);
	st->ops = NULL;
	return r;
}
