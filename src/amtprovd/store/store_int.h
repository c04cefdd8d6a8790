/*
 * amtprov - store_int.h: what the common store layer (store.c) and its two
 * back ends (store_sqlite.c, store_pg.c) share.  Not for other modules.
 *
 * The common layer holds all the logic and writes its SQL once, in a small
 * portable dialect: parameters are $1..$N, and four tokens are replaced by
 * each back end:
 *   @NOW@         the current time as integer UNIX seconds
 *   @SKIPLOCKED@  "FOR UPDATE SKIP LOCKED" (PostgreSQL) or nothing (SQLite,
 *                 where a write transaction locks the whole database)
 *   @FORUPDATE@   "FOR UPDATE" or nothing
 *   @ID@          an auto-increment 64-bit primary key column type
 * Values never enter SQL text: they travel as parameters only.
 */
#ifndef AMTPROVD_STORE_INT_H
#define AMTPROVD_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

struct amtp_store;
struct amtp_master_key;
struct amtp_secret;

enum sqlv_type {
	SQLV_INT = 1,		/* 64-bit integer */
	SQLV_TEXT		/* text; s == NULL means SQL NULL */
};

struct sqlv {
	enum sqlv_type	type;
	int64_t		i;
	const char	*s;
};

/* A result: nrows x ncols cells of text, NULL for SQL NULL. */
struct sqlres {
	size_t		nrows;
	size_t		ncols;
	size_t		cap;		/* cells allocated */
	char		**cells;
};

/* The replacements of the dialect tokens for one back end. */
struct store_dialect {
	char		placeholder;	/* '?' (SQLite: ?N) or '$' (PostgreSQL) */
	const char	*now;
	const char	*skiplocked;
	const char	*forupdate;
	const char	*id;
};

struct store_ops {
	const char	*name;
	/* Runs one statement with parameters; *res (when res is not NULL)
	 * gets the rows.  Errors: AMTP_E_EXISTS (unique violation),
	 * AMTP_E_NOTFOUND (foreign key violation), AMTP_E_INVAL (check
	 * violation), AMTP_E_BUSY, AMTP_E_AGAIN (serialization failure),
	 * AMTP_E_DB. */
	int		(*exec)(struct amtp_store *, const char *sql,
			    const struct sqlv *p, int np, struct sqlres **res);
	/* Runs a parameterless script of several statements (migrations). */
	int		(*script)(struct amtp_store *, const char *sql);
	int		(*begin)(struct amtp_store *);	/* a write transaction */
	int		(*commit)(struct amtp_store *);
	int		(*rollback)(struct amtp_store *);
	/* Takes (lock 1) or releases (lock 0) the migration lock. */
	int		(*migrate_lock)(struct amtp_store *, int lock);
	void		(*close)(struct amtp_store *);
};

struct amtp_store {
	const struct store_ops	*ops;
	void			*be;		/* back end state */
	const struct amtp_master_key *key;	/* borrowed */
	int			schema_version;
	int			in_tx;
	int			nest_ok;	/* amtp_store_batch_nest() */
	int			nest;		/* nested savepoints open */
	char			errmsg[256];
};

/* Transactions opened inside a batch that allows it (nested savepoints). */
#define STORE_NEST_MAX	8

/* Back end openers: rest is the URI after its scheme prefix. */
int store_sqlite_open(struct amtp_store *st, const char *path, char *err,
    size_t errlen);
int store_pg_open(struct amtp_store *st, const char *uri, char *err,
    size_t errlen);

/* Rewrites portable SQL for dialect d into a new string (*out, free()). */
int store_sql_rewrite(const char *sql, const struct store_dialect *d,
    char **out);

/* Appends a row of ncols cells to r (cells copied; vals[i] NULL for NULL). */
int store_res_add_row(struct sqlres *r, const char *const *vals,
    const size_t *lens, size_t ncols);
struct sqlres *store_res_new(size_t ncols);
void store_res_free(struct sqlres *r);

/* Sets st->errmsg ("what: msg"). */
void store_set_err(struct amtp_store *st, const char *what, const char *msg);

/* The schema migrations, in order: version i + 1 is migrations[i]. */
extern const char *const store_migrations[];
extern const int store_nmigrations;

/* Parameter literals: store_q(st, what, sql, PARAMS(TXT(a), INT(b)), &res). */
#define TXT(v)		{ SQLV_TEXT, 0, (v) }
#define INT(v)		{ SQLV_INT, (int64_t)(v), NULL }
#define PARAMS(...)	(const struct sqlv[]){ __VA_ARGS__ },		\
	(int)(sizeof((const struct sqlv[]){ __VA_ARGS__ }) /		\
	sizeof(struct sqlv))
#define NOPARAMS	NULL, 0

/* Runs one statement (see store_ops.exec); what names the operation in
 * st->errmsg.  res may be NULL.  The back ends cache prepared statements by
 * the ADDRESS of sql: pass constant strings only (string literals or static
 * arrays), never text built at run time. */
int store_q(struct amtp_store *st, const char *what, const char *sql,
    const struct sqlv *p, int np, struct sqlres **res);
/* Opens a write transaction. */
int store_tx_begin(struct amtp_store *st);
/* Commits when r is 0, else rolls back; returns r, or the commit's error. */
int store_tx_end(struct amtp_store *st, int r);

/* Row access: the cell (NULL for SQL NULL), an integer cell (AMTP_E_PARSE
 * when not one), a text cell copied into dst (NULL gives ""; AMTP_E_PARSE
 * when it does not fit: rows are input too). */
const char *store_cell(const struct sqlres *r, size_t row, size_t col);
int store_cell_int(const struct sqlres *r, size_t row, size_t col,
    int64_t *v);
int store_cell_text(const struct sqlres *r, size_t row, size_t col,
    char *dst, size_t dstsz);

/* Converts every row of res with from_row into a new array of res->nrows
 * elements of elem_size bytes each (zeroed first): *out (free(); NULL when
 * there are no rows) and *n.  On error *out is NULL, *n is 0, and the error
 * of from_row (or AMTP_E_NOMEM) is returned. */
int store_rows(const struct sqlres *res, size_t elem_size,
    int (*from_row)(const struct sqlres *, size_t, void *), void **out,
    size_t *n);

/* Checks a text argument: NULL allowed unless required (AMTP_E_INVAL), at
 * most max bytes (AMTP_E_TOOBIG), no control characters (AMTP_E_INVAL). */
int store_check_text(const char *s, size_t max, int required);
/* Checks and normalises a page size (0: default; > max: AMTP_E_RANGE). */
int store_check_limit(size_t *limit);
/* ASCII lower-case copy; AMTP_E_TOOBIG when it does not fit. */
int store_lower(char *dst, size_t dstsz, const char *src);
/* A LIKE pattern "%text%" with ! as the escape character. */
int store_like_pattern(const char *text, char *dst, size_t dstsz);
/* Seals a secret under st's key with aad into a new base64 string. */
int store_seal(struct amtp_store *st, const struct amtp_secret *s,
    const char *aad, char **out);
/* Opens a base64 sealed value. */
int store_open_sealed(struct amtp_store *st, const char *b64, const char *aad,
    struct amtp_secret **out);

#endif
