/*
 * amtprov - cli/cli.h: the admin command-line tool amtprov (program
 * amtprov).
 *
 * amtprov sets up a site (init: the files of a site directory, made
 * locally) and, for everything else, is a client of the site's HTTPS API
 * with an admin token (Bearer), so that it works the same against a remote
 * site and on PostgreSQL.  The modules:
 *
 *   clicfg.c   the client settings: site URL, pinned CA file, token file
 *              (amtprov.conf in the site directory, or flags)
 *   client.c   the API client: libcurl, pinned CA, bounded answers,
 *              jansson with duplicate members refused
 *   fmt.c      tables, ages, durations, progress bars (pure functions)
 *   init.c     `amtprov init`: the site directory
 *   views.c    devices, device show, jobs, audit
 *   actions.c  requeue, cancel, unprovision, rotate, password reveal
 *   watch.c    the live fleet view and its summary
 *   explain.c  a sentence about why a job failed
 */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

/*
 * Limits of the CLI (kept here, next to their only users, each with its
 * reason).
 */
/* Largest API answer read: a page of 1000 devices or jobs is ~500 KiB. */
#define CLI_ANSWER_MAX		(8 * 1024 * 1024)
/* Deepest JSON nesting accepted in an answer (device detail: 4). */
#define CLI_JSON_DEPTH_MAX	8
/* Site URL, file paths, admin token file. */
#define CLI_URL_MAX		512
#define CLI_PATH_MAX		1024
#define CLI_TOKEN_FILE_MAX	512
/* A request path with its query. */
#define CLI_REQPATH_MAX		2048
/* HTTP: connect (TLS included) and a whole request, seconds. */
#define CLI_CONNECT_TIMEOUT	10
#define CLI_REQUEST_TIMEOUT	60
/* Page size of list calls (the API's maximum) and the most rows one
 * listing fetches in all (--all). */
#define CLI_PAGE		1000
#define CLI_ROWS_MAX		1000000
/* Reason text of an admin action (the API keeps 256 bytes). */
#define CLI_REASON_MAX		256
/* Widest table cell (longer text is cut with "..."). */
#define CLI_CELL_MAX		60
/* Columns of a table. */
#define CLI_COLS_MAX		12
/* Server names in the site TLS certificate (init --server-name). */
#define CLI_SERVER_NAMES_MAX	8

/* Exit statuses of amtprov (amtprov(1)). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAIL = 1,	/* the operation failed (message on stderr) */
	CLI_EXIT_USAGE = 2,	/* bad command line or client settings */
	CLI_EXIT_UNREACHABLE = 3, /* the site did not answer */
	CLI_EXIT_REFUSED = 4,	/* the site refused (401/403/4xx) */
	CLI_EXIT_NOTFOUND = 5,	/* no such device, job or password */
	CLI_EXIT_INCOMPLETE = 6, /* watch: jobs failed or timed out */
	CLI_EXIT_UNSUPPORTED = 7 /* the site does not offer this yet */
};

/* ------------------------------------------------------------------ */
/* Client settings (clicfg.c)                                           */
/* ------------------------------------------------------------------ */

struct cli_cfg {
	char	url[CLI_URL_MAX + 1];		/* https://HOST:PORT */
	char	ca_file[CLI_PATH_MAX + 1];	/* pinned CA (PEM) */
	char	token_file[CLI_PATH_MAX + 1];	/* admin token, mode 0600 */
};

/*
 * Reads the client settings file (INI, section [amtprov]: site, ca_file,
 * token_file; relative paths are taken from the file's folder).  0,
 * AMTP_E_NOTFOUND, AMTP_E_CONFIG (err names the file, line and key).
 */
int cli_cfg_load(const char *path, struct cli_cfg *cfg, char *err,
    size_t errlen);
/* Writes the settings file for a site made by init (mode 0644). */
int cli_cfg_write(const char *path, const struct cli_cfg *cfg);

/* ------------------------------------------------------------------ */
/* API client (client.c)                                                */
/* ------------------------------------------------------------------ */

struct cli_client;

/* A finished call: the HTTP status and the parsed JSON body (NULL when the
 * answer was not JSON).  On a 4xx/5xx, error/message/field come from the
 * API's Error body when it had one. */
struct cli_answer {
	long	 status;
	json_t	*body;
	char	 error[64];
	char	 message[256];
	char	 field[64];
};
void cli_answer_reset(struct cli_answer *a);

/*
 * A client of the site at cfg->url, trusting only cfg->ca_file, with the
 * admin token read from cfg->token_file (file rules: regular, owned by
 * the user, no group/other bits, 16..256 b64token characters).  0,
 * AMTP_E_NOTFOUND/PERM/PARSE (token file; err says which rule),
 * AMTP_E_INVAL (URL not https://), AMTP_E_NOMEM.
 */
int cli_client_new(const struct cli_cfg *cfg, struct cli_client **out,
    char *err, size_t errlen);
void cli_client_free(struct cli_client *c);

/*
 * One request: method "GET" or "POST", path with its query (already
 * escaped), body (JSON, may be NULL for an empty POST).  0 with a->status
 * set whatever the HTTP status; AMTP_E_CLOSED (not reachable: refused,
 * timeout, TLS failure; err says which), AMTP_E_TOOBIG (answer over
 * CLI_ANSWER_MAX), AMTP_E_JSON (a 2xx answer that is not a JSON object).
 */
int cli_client_call(struct cli_client *c, const char *method,
    const char *path, const json_t *body, struct cli_answer *a, char *err,
    size_t errlen);
/*
 * Parses an answer body (untrusted: nesting bounded before jansson runs,
 * duplicate members refused, a non-object ignored) into a, with the HTTP
 * status; for a status of 300 and more, the API's Error members (cleaned of
 * control characters).  0, AMTP_E_JSON (a 2xx answer that is not a JSON
 * object), AMTP_E_TOOBIG.  Used by cli_client_call() and the fuzz target.
 */
int cli_answer_parse(const char *body, size_t len, long status,
    struct cli_answer *a, char *err, size_t errlen);
/* GET of a text answer (/metrics) into a new NUL-terminated string. */
int cli_client_get_text(struct cli_client *c, const char *path, long *status,
    char **text, char *err, size_t errlen);
/* The base URL. */
const char *cli_client_url(const struct cli_client *c);

/* Query-escapes s into dst ("a b" -> "a%20b").  AMTP_E_TOOBIG. */
int cli_query_escape(const char *s, char *dst, size_t dstsz);

/* JSON helpers that check types: the member as text ("" when missing or
 * not a string), integer (0 when missing or not an integer), boolean. */
const char *cli_json_str(const json_t *o, const char *key);
long long cli_json_int(const json_t *o, const char *key);
int cli_json_bool(const json_t *o, const char *key);

/* ------------------------------------------------------------------ */
/* Formatting (fmt.c)                                                   */
/* ------------------------------------------------------------------ */

/* A text table: header, rows of cells, printed with aligned columns.
 * Cells longer than CLI_CELL_MAX are cut with "...", control characters
 * are shown as '?', so untrusted text cannot move the cursor. */
struct cli_table;
int cli_table_new(size_t ncols, const char *const *header,
    struct cli_table **out);
int cli_table_add(struct cli_table *t, const char *const *cells);
size_t cli_table_rows(const struct cli_table *t);
int cli_table_print(const struct cli_table *t, FILE *f);
void cli_table_free(struct cli_table *t);

/* "45s", "12m", "3h", "5d" for an age (now - then); "-" when then is 0
 * or in the future by more than a minute. */
void cli_fmt_age(time_t now, int64_t then, char *dst, size_t dstsz);
/* "0.8s", "12s", "3m05s", "2h10m" for a duration in seconds; "-" when
 * the end is 0 (still running: then now - start with a '+'). */
void cli_fmt_duration(int64_t start, int64_t end, time_t now, char *dst,
    size_t dstsz);
/* "2026-11-28 07:49:05" (UTC); "-" for 0. */
void cli_fmt_time(int64_t t, char *dst, size_t dstsz);
/* A progress bar of width cells (done of total, '#' and '.'), bracketed. */
void cli_fmt_bar(size_t done, size_t total, size_t width, char *dst,
    size_t dstsz);
/* Copies s into dst, control characters and non-ASCII bytes as '?', cut
 * with "..." past max bytes. */
void cli_fmt_clean(const char *s, size_t max, char *dst, size_t dstsz);

/* ------------------------------------------------------------------ */
/* Commands                                                             */
/* ------------------------------------------------------------------ */

/* Common options of the client commands. */
struct cli_opts {
	int		 json;		/* --json */
	const char	*reason;	/* --reason */
};

/* init.c: `amtprov init ...`; argv[0] is "init".  Returns an exit
 * status. */
int cli_init_main(int argc, char *argv[]);

/* views.c */
int cli_devices(struct cli_client *c, int argc, char *argv[]);
int cli_device_show(struct cli_client *c, int argc, char *argv[]);
int cli_jobs(struct cli_client *c, int argc, char *argv[]);
int cli_audit(struct cli_client *c, int argc, char *argv[]);

/* actions.c: requeue, cancel, unprovision, rotate, password */
int cli_action(struct cli_client *c, const char *action, int argc,
    char *argv[]);
int cli_password(struct cli_client *c, int argc, char *argv[]);

/* watch.c: the live view, and the summary alone */
int cli_watch(struct cli_client *c, int argc, char *argv[]);
int cli_summary(struct cli_client *c, int argc, char *argv[]);

/* explain.c */
/*
 * The SHA-256 (64 lower-case hex digits) of the site's provisioning root,
 * from prov-root.sha256 in the folder of ca_file (init puts both in the
 * site directory).  0, AMTP_E_NOTFOUND (not there: a remote admin),
 * AMTP_E_PARSE.
 */
int cli_prov_root_load(const char *ca_file, char *hex, size_t hexsz);
/*
 * A sentence about last_error (a job's "<step>: <detail>") for an admin,
 * using the device's facts (may be NULL) and the provisioning root hash
 * (may be NULL or "").  1 when dst got one, 0 when there is nothing to add.
 */
int cli_explain(const char *last_error, const json_t *facts,
    const char *prov_root, char *dst, size_t dstsz);
/* The client's CA file (to find prov-root.sha256). */
const char *cli_client_ca_file(const struct cli_client *c);

/* Shared by the commands: maps a failed call to a message on stderr and an
 * exit status (enum cli_exit). */
int cli_report_failure(const char *what, int r, const struct cli_answer *a,
    const char *err);
/* Parses a device or job id (1..INT64_MAX); -1 when bad (message). */
int cli_parse_id(const char *s, long long *id);

#endif
