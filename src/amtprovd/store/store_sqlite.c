/*
 * amtprov - store_sqlite.c: the SQLite back end of the site database (the
 * embedded default: one file in the site directory).
 *
 * WAL journal, synchronous=FULL (a commit is on disk when it returns: the
 * escrow rule needs that), foreign keys on, a busy timeout so that several
 * processes can share the file, and prepared statements only; statements
 * are prepared once per connection and kept (keyed by the address of their
 * constant SQL text).  One connection per struct amtp_store.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"

#include "store/store.h"
#include "store/store_int.h"

/* Prepared statements kept per connection: more than the store has. */
#define SQLITE_STMT_CACHE	160

struct stmt_slot {
	const char	*key;	/* the portable SQL text (constant) */
	sqlite3_stmt	*stmt;
};

struct sqlite_be {
	sqlite3			*db;
	struct stmt_slot	cache[SQLITE_STMT_CACHE];
	size_t			ncache;
};

static const struct store_dialect sqlite_dialect = {
	'?',
	"CAST(strftime('%s', 'now') AS INTEGER)",
	"",
	"",
	"INTEGER PRIMARY KEY AUTOINCREMENT",
};

static int
map_err(struct amtp_store *st, int rc, const char *what)
{
	struct sqlite_be *be = st->be;

	store_set_err(st, what, sqlite3_errmsg(be->db));
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return AMTP_E_BUSY;
	case SQLITE_NOMEM:
		return AMTP_E_NOMEM;
	case SQLITE_CONSTRAINT:
		switch (rc) {
		case SQLITE_CONSTRAINT_UNIQUE:
		case SQLITE_CONSTRAINT_PRIMARYKEY:
			return AMTP_E_EXISTS;
		case SQLITE_CONSTRAINT_FOREIGNKEY:
			return AMTP_E_NOTFOUND;
		default:
			return AMTP_E_INVAL;
		}
	default:
		return AMTP_E_DB;
	}
}

/*
 * The prepared statement for sql: from the cache, or prepared and cached.
 * When the cache is full the statement is prepared for this call only and
 * *owned is set: the caller finalizes it.
 */
static int
get_stmt(struct amtp_store *st, const char *sql, sqlite3_stmt **out,
    int *owned)
{
	struct sqlite_be *be = st->be;
	sqlite3_stmt *s = NULL;
	char *text = NULL;
	size_t i;
	int rc, r, cache;

	*out = NULL;
	*owned = 0;
	for (i = 0; i < be->ncache; i++) {
		if (be->cache[i].key == sql) {
			*out = be->cache[i].stmt;
			return 0;
		}
	}
	cache = be->ncache < SQLITE_STMT_CACHE;
	if ((r = store_sql_rewrite(sql, &sqlite_dialect, &text)) != 0)
		return r;
	rc = sqlite3_prepare_v3(be->db, text, -1,
	    cache ? SQLITE_PREPARE_PERSISTENT : 0, &s, NULL);
	free(text);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(s);
		return map_err(st, rc, "prepare");
	}
	if (cache) {
		be->cache[be->ncache].key = sql;
		be->cache[be->ncache].stmt = s;
		be->ncache++;
	} else
		*owned = 1;
	*out = s;
	return 0;
}

static int
sqlite_exec(struct amtp_store *st, const char *sql, const struct sqlv *p,
    int np, struct sqlres **res)
{
	struct sqlite_be *be = st->be;
	struct sqlres *rs = NULL;
	sqlite3_stmt *s;
	const char **vals = NULL;
	size_t *lens = NULL;
	int i, rc, r, ncols, owned;

	*res = NULL;
	if ((r = get_stmt(st, sql, &s, &owned)) != 0)
		return r;
	for (i = 0; i < np; i++) {
		if (p[i].type == SQLV_INT)
			rc = sqlite3_bind_int64(s, i + 1, p[i].i);
		else if (p[i].s == NULL)
			rc = sqlite3_bind_null(s, i + 1);
		else
			rc = sqlite3_bind_text(s, i + 1, p[i].s, -1,
			    SQLITE_STATIC);
		if (rc != SQLITE_OK) {
			r = map_err(st, rc, "bind");
			goto out;
		}
	}
	ncols = sqlite3_column_count(s);
	if ((rs = store_res_new((size_t)ncols)) == NULL ||
	    (vals = calloc((size_t)ncols + 1, sizeof(*vals))) == NULL ||
	    (lens = calloc((size_t)ncols + 1, sizeof(*lens))) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (i = 0; i < ncols; i++) {
			if (sqlite3_column_type(s, i) == SQLITE_NULL) {
				vals[i] = NULL;
				lens[i] = 0;
				continue;
			}
			vals[i] = (const char *)sqlite3_column_text(s, i);
			lens[i] = (size_t)sqlite3_column_bytes(s, i);
			if (vals[i] == NULL) {
				r = AMTP_E_NOMEM;
				goto out;
			}
		}
		if ((r = store_res_add_row(rs, vals, lens, (size_t)ncols)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		r = map_err(st, sqlite3_extended_errcode(be->db), "step");
		goto out;
	}
	*res = rs;
	rs = NULL;
	r = 0;
 out:
	if (owned)
		sqlite3_finalize(s);
	else {
		(void)sqlite3_reset(s);
		(void)sqlite3_clear_bindings(s);
	}
	free(vals);
	free(lens);
	store_res_free(rs);
	return r;
}

static int
sqlite_script(struct amtp_store *st, const char *sql)
{
	struct sqlite_be *be = st->be;
	char *text = NULL;
	int rc, r;

	if ((r = store_sql_rewrite(sql, &sqlite_dialect, &text)) != 0)
		return r;
	rc = sqlite3_exec(be->db, text, NULL, NULL, NULL);
	free(text);
	if (rc != SQLITE_OK)
		return map_err(st, sqlite3_extended_errcode(be->db), "script");
	return 0;
}

static int
simple(struct amtp_store *st, const char *sql)
{
	struct sqlite_be *be = st->be;
	int rc;

	rc = sqlite3_exec(be->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return map_err(st, sqlite3_extended_errcode(be->db), sql);
	return 0;
}

/* IMMEDIATE: take the write lock now (waiting up to the busy timeout), so
 * that a read-then-write transaction never fails half-way on an upgrade. */
static int
sqlite_begin(struct amtp_store *st)
{
	return simple(st, "BEGIN IMMEDIATE");
}

static int
sqlite_commit(struct amtp_store *st)
{
	return simple(st, "COMMIT");
}

static int
sqlite_rollback(struct amtp_store *st)
{
	struct sqlite_be *be = st->be;

	if (sqlite3_get_autocommit(be->db))
		return 0;	/* SQLite rolled back already */
	return simple(st, "ROLLBACK");
}

/* BEGIN IMMEDIATE serialises migrations between processes already. */
static int
sqlite_migrate_lock(struct amtp_store *st, int lock)
{
	(void)st;
	(void)lock;
	return 0;
}

static void
sqlite_close(struct amtp_store *st)
{
	struct sqlite_be *be = st->be;
	size_t i;

	if (be == NULL)
		return;
	for (i = 0; i < be->ncache; i++)
		sqlite3_finalize(be->cache[i].stmt);
	sqlite3_close(be->db);
	free(be);
	st->be = NULL;
}

/*
 * Switches a connection to WAL.  SQLite answers SQLITE_BUSY at once, without
 * calling the busy handler, when another connection holds a lock that the
 * switch waits for (several processes opening a new file together): retry
 * for up to AMTP_STORE_BUSY_TIMEOUT_MS, as the busy handler would.
 */
static int
set_wal(struct amtp_store *st)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };	/* 10 ms */
	unsigned waited = 0;
	int r;

	while ((r = simple(st, "PRAGMA journal_mode = WAL")) == AMTP_E_BUSY &&
	    waited < AMTP_STORE_BUSY_TIMEOUT_MS) {
		(void)nanosleep(&ts, NULL);
		waited += 10;
	}
	return r;
}

static const struct store_ops sqlite_ops = {
	"sqlite",
	sqlite_exec,
	sqlite_script,
	sqlite_begin,
	sqlite_commit,
	sqlite_rollback,
	sqlite_migrate_lock,
	sqlite_close,
};

int
store_sqlite_open(struct amtp_store *st, const char *path, char *err,
    size_t errlen)
{
	struct sqlite_be *be = NULL;
	int rc, r, fd;

	if (path[0] == '\0') {
		if (err != NULL)
			(void)snprintf(err, errlen, "sqlite: no file name");
		return AMTP_E_INVAL;
	}
	if ((be = calloc(1, sizeof(*be))) == NULL)
		return AMTP_E_NOMEM;
	st->be = be;
	st->ops = &sqlite_ops;
	if (strcmp(path, ":memory:") != 0) {
		/* Create the file ourselves so that it (and the -wal and
		 * -shm files SQLite makes with the same mode) is 0600.  Only
		 * when it is missing (O_EXCL): closing a descriptor of a file
		 * that this process already has open through another SQLite
		 * connection would drop that connection's POSIX locks, and a
		 * second process could then delete the live -wal/-shm. */
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
		if (fd == -1 && errno == EEXIST) {
			/* exists: SQLite opens it below; nothing to close */
		} else if (fd == -1) {
			if (err != NULL)
				(void)snprintf(err, errlen, "%s: %s", path,
				    strerror(errno));
			r = errno == EACCES ? AMTP_E_PERM : AMTP_E_IO;
			goto fail;
		} else
			(void)close(fd);
	}
	rc = sqlite3_open_v2(path, &be->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		if (err != NULL)
			(void)snprintf(err, errlen, "%s: %s", path,
			    be->db ? sqlite3_errmsg(be->db) :
			    sqlite3_errstr(rc));
		r = AMTP_E_DB;
		goto fail;
	}
	(void)sqlite3_extended_result_codes(be->db, 1);
	(void)sqlite3_busy_timeout(be->db, AMTP_STORE_BUSY_TIMEOUT_MS);
	if ((r = set_wal(st)) != 0 ||
	    (r = simple(st, "PRAGMA synchronous = FULL")) != 0 ||
	    /* statement journals (a write inside a savepoint, as every
	     * unit of a group commit is) and sorts in memory, not in a temp
	     * file created and unlinked each time */
	    (r = simple(st, "PRAGMA temp_store = MEMORY")) != 0 ||
	    (r = simple(st, "PRAGMA foreign_keys = ON")) != 0) {
		if (err != NULL)
			(void)snprintf(err, errlen, "%s: %s", path, st->errmsg);
		goto fail;
	}
	return 0;
 fail:
	sqlite_close(st);
	st->ops = NULL;
	return r;
}
