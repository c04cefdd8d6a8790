/*
 * Unit tests for src/amtprovd/store: the same suite runs on SQLite (a real
 * WAL file in a temporary directory) and on PostgreSQL (the server named by
 * AMTP_TEST_PG, one fresh schema per test).  Without AMTP_TEST_PG the
 * PostgreSQL group FAILS, unless AMTP_ALLOW_NO_PG=1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/secret.h"

#include "store/store.h"
#include "store/store_int.h"

enum backend { BE_SQLITE, BE_PG };

static enum backend g_be;
static char g_dir[PATH_MAX];
static char g_uri[AMTP_STORE_URI_MAX + 1];
static char g_schema[64];
static int g_seq;
static struct amtp_master_key *g_key;
static struct amtp_store *g_st;

static const char UUID1[] = "0a1b2c3d-0000-4000-8000-00000000aa01";
static const char UUID2[] = "0a1b2c3d-0000-4000-8000-00000000aa02";
static const char UUID3[] = "0a1b2c3d-0000-4000-8000-00000000aa03";
static const char OTPH[] =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/* ------------------------------------------------------------------ */

static int
make_key(struct amtp_master_key **k, uint8_t fill)
{
	uint8_t raw[32];

	memset(raw, fill, sizeof(raw));
	return amtp_master_key_from_bytes(raw, k);
}

/* The URI of the current test's database. */
static int
test_uri(char *dst, size_t dstsz)
{
	const char *pg;
	int n;

	if (g_be == BE_SQLITE)
		n = snprintf(dst, dstsz, "sqlite:%s/site.db", g_dir);
	else {
		pg = getenv("AMTP_TEST_PG");
		n = snprintf(dst, dstsz, "%s%sschema=%s", pg,
		    strchr(pg, '?') ? "&" : "?", g_schema);
	}
	return (n < 0 || (size_t)n >= dstsz) ? -1 : 0;
}

/* Skips a PostgreSQL test when the group was allowed to run without one. */
static int
pg_missing(void)
{
	const char *pg = getenv("AMTP_TEST_PG");

	return g_be == BE_PG && (pg == NULL || pg[0] == '\0');
}

static int
setup(void **state)
{
	char err[256];
	int r;

	(void)state;
	g_seq++;
	if (pg_missing())
		return 0;
	if (g_be == BE_SQLITE) {
		(void)snprintf(g_dir, sizeof(g_dir), "%s/amtp-store-XXXXXX",
		    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (mkdtemp(g_dir) == NULL)
			return -1;
	}
	if (test_uri(g_uri, sizeof(g_uri)) != 0)
		return -1;
	if (make_key(&g_key, 0x42) != 0)
		return -1;
	r = amtp_store_open(g_uri, g_key, &g_st, err, sizeof(err));
	if (r != 0) {
		fprintf(stderr, "open %s: %s (%s)\n", g_be == BE_SQLITE ?
		    "sqlite" : "postgresql", err, amtp_strerror(r));
		return -1;
	}
	/* PostgreSQL: one schema per run (creating one per test costs a
	 * quarter of a second); each test starts from empty tables. */
	if (g_be == BE_PG && g_st->ops->script(g_st, "TRUNCATE devices,"
	    " device_facts, device_root_hashes, otp_hashes, jobs, job_steps,"
	    " credentials, certificates, audit, agents, admin_tokens,"
	    " dir_accounts, dir_spns, settings RESTART IDENTITY CASCADE") != 0) {
		fprintf(stderr, "truncate: %s\n", amtp_store_errmsg(g_st));
		return -1;
	}
	return 0;
}

static void
rm_dir(void)
{
	static const char *const files[] = { "site.db", "site.db-wal",
	    "site.db-shm", "site.db-journal", "other.db", "other.db-wal",
	    "other.db-shm" };
	char p[PATH_MAX + 32];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		(void)snprintf(p, sizeof(p), "%s/%s", g_dir, files[i]);
		(void)unlink(p);
	}
	(void)rmdir(g_dir);
}

static int
teardown(void **state)
{
	char sql[128];

	(void)state;
	if (g_be == BE_PG && g_st != NULL) {
		/* test_open_newer_schema's fake future version */
		(void)snprintf(sql, sizeof(sql), "DELETE FROM schema_migrations"
		    " WHERE version > %d", amtp_store_schema_latest());
		(void)g_st->ops->script(g_st, sql);
	}
	amtp_store_close(g_st);
	g_st = NULL;
	amtp_master_key_free(g_key);
	g_key = NULL;
	if (g_be == BE_SQLITE)
		rm_dir();
	return 0;
}

static int
group_sqlite(void **state)
{
	(void)state;
	g_be = BE_SQLITE;
	return 0;
}

static int
group_pg(void **state)
{
	const char *pg = getenv("AMTP_TEST_PG");
	const char *allow = getenv("AMTP_ALLOW_NO_PG");

	(void)state;
	g_be = BE_PG;
	if (pg == NULL || pg[0] == '\0') {
		if (allow != NULL && strcmp(allow, "1") == 0) {
			fprintf(stderr, "AMTP_TEST_PG unset and AMTP_ALLOW_NO_PG=1:"
			    " PostgreSQL tests NOT RUN\n");
			return 0;
		}
		fprintf(stderr, "AMTP_TEST_PG is not set: the PostgreSQL half "
		    "of the store tests cannot run (set AMTP_ALLOW_NO_PG=1 to "
		    "skip it knowingly)\n");
		return -1;
	}
	(void)snprintf(g_schema, sizeof(g_schema), "t_store_%ld",
	    (long)getpid());
	return 0;
}

static int
group_pg_end(void **state)
{
	struct amtp_store *st = NULL;
	char sql[128];

	(void)state;
	if (pg_missing() || test_uri(g_uri, sizeof(g_uri)) != 0)
		return 0;
	if (amtp_store_open(g_uri, NULL, &st, NULL, 0) != 0)
		return -1;
	(void)snprintf(sql, sizeof(sql), "DROP SCHEMA \"%s\" CASCADE",
	    g_schema);
	if (st->ops->script(st, sql) != 0) {
		amtp_store_close(st);
		return -1;
	}
	amtp_store_close(st);
	return 0;
}

#define NEED_DB() do {							\
	if (pg_missing())						\
		skip();							\
	assert_non_null(g_st);						\
} while (0)

static int64_t
add_device(const char *uuid)
{
	struct amtp_device_in in;
	int64_t id = 0;

	memset(&in, 0, sizeof(in));
	in.uuid = uuid;
	in.hostname = "pc1";
	in.fqdn = "pc1.fleet.example.test";
	in.amt_addr = "127.20.0.1";
	assert_int_equal(amtp_store_device_upsert(g_st, &in, &id, NULL), 0);
	assert_true(id > 0);
	return id;
}

static struct amtp_secret *
secret(const char *s)
{
	struct amtp_secret *x = NULL;

	assert_int_equal(amtp_secret_from_cstr(s, &x), 0);
	return x;
}

/* ------------------------------------------------------------------ */
/* Opening                                                              */
/* ------------------------------------------------------------------ */

static void
test_open_migrate(void **state)
{
	struct amtp_store *st2 = NULL;
	struct amtp_device_rec d;
	char err[256];

	(void)state;
	NEED_DB();
	assert_int_equal(amtp_store_schema_version(g_st),
	    amtp_store_schema_latest());
	assert_true(amtp_store_schema_latest() >= 1);
	assert_string_equal(amtp_store_backend(g_st),
	    g_be == BE_SQLITE ? "sqlite" : "postgresql");
	/* A second open of the same database migrates nothing and works. */
	assert_int_equal(amtp_store_open(g_uri, g_key, &st2, err,
	    sizeof(err)), 0);
	assert_int_equal(amtp_store_schema_version(st2),
	    amtp_store_schema_latest());
	add_device(UUID1);
	assert_int_equal(amtp_store_device_get_uuid(st2, UUID1, &d), 0);
	amtp_store_close(st2);
	amtp_store_close(NULL);
	if (g_be == BE_PG) {
		/* Other query parameters go to libpq, around schema=. */
		char uri[AMTP_STORE_URI_MAX + 1];
		const char *pg = getenv("AMTP_TEST_PG");

		assert_true(strchr(pg, '?') == NULL);
		(void)snprintf(uri, sizeof(uri), "%s?connect_timeout=5&schema=%s"
		    "&application_name=amtprov_test", pg, g_schema);
		assert_int_equal(amtp_store_open(uri, g_key, &st2, err,
		    sizeof(err)), 0);
		assert_int_equal(amtp_store_device_get_uuid(st2, UUID1, &d), 0);
		amtp_store_close(st2);
		(void)snprintf(uri, sizeof(uri), "%s?schema=%s&no_such_param=1",
		    pg, g_schema);
		assert_int_equal(amtp_store_open(uri, g_key, &st2, err,
		    sizeof(err)), AMTP_E_DB);
		assert_non_null(strstr(err, "no_such_param"));
	}
}

static void
test_open_newer_schema(void **state)
{
	struct amtp_store *st2 = NULL;
	char err[256];

	(void)state;
	NEED_DB();
	assert_int_equal(store_q(g_st, "test", "INSERT INTO schema_migrations"
	    " (version, applied) VALUES (999, 0)", NOPARAMS, NULL), 0);
	assert_int_equal(amtp_store_open(g_uri, g_key, &st2, err,
	    sizeof(err)), AMTP_E_STATE);
	assert_null(st2);
	assert_non_null(strstr(err, "newer"));
}

static void
test_open_bad_uri(void **state)
{
	struct amtp_store *st = (struct amtp_store *)1;
	char err[256], big[AMTP_STORE_URI_MAX + 16];

	(void)state;
	if (g_be != BE_SQLITE)
		skip();
	assert_int_equal(amtp_store_open("", g_key, &st, err, sizeof(err)),
	    AMTP_E_INVAL);
	assert_null(st);
	assert_int_equal(amtp_store_open(NULL, g_key, &st, NULL, 0),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_store_open("mysql://x/y", g_key, &st, err,
	    sizeof(err)), AMTP_E_UNSUPPORTED);
	assert_int_equal(amtp_store_open("sqlite:", g_key, &st, err,
	    sizeof(err)), AMTP_E_INVAL);
	assert_int_equal(amtp_store_open("sqlite:/nonexistent-dir/x/site.db",
	    g_key, &st, err, sizeof(err)), AMTP_E_IO);
	assert_non_null(strstr(err, "/nonexistent-dir/x/site.db"));
	assert_int_equal(amtp_store_open("postgresql://u:pw@127.0.0.1:1/db"
	    "?schema=Bad-Name", g_key, &st, err, sizeof(err)), AMTP_E_INVAL);
	assert_non_null(strstr(err, "schema"));
	assert_int_equal(amtp_store_open("postgresql://u:hunter2@127.0.0.1:1/db",
	    g_key, &st, err, sizeof(err)), AMTP_E_DB);
	assert_null(strstr(err, "hunter2"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "sqlite:", 7);
	assert_int_equal(amtp_store_open(big, g_key, &st, err, sizeof(err)),
	    AMTP_E_TOOBIG);
	assert_null(st);
}

static void
test_sqlite_memory(void **state)
{
	struct amtp_store *st = NULL;
	struct amtp_device_in in;
	struct amtp_device_rec d;
	int64_t id;

	(void)state;
	if (g_be != BE_SQLITE)
		skip();
	assert_int_equal(amtp_store_open("sqlite::memory:", g_key, &st, NULL,
	    0), 0);
	assert_int_equal(amtp_store_schema_version(st),
	    amtp_store_schema_latest());
	memset(&in, 0, sizeof(in));
	in.uuid = UUID3;
	assert_int_equal(amtp_store_device_upsert(st, &in, &id, NULL), 0);
	assert_int_equal(amtp_store_device_get(st, id, &d), 0);
	amtp_store_close(st);
	/* a private database: the file-backed one does not see it */
	assert_int_equal(amtp_store_device_get_uuid(g_st, UUID3, &d),
	    AMTP_E_NOTFOUND);
}

static void
test_sqlite_file_mode(void **state)
{
	char p[PATH_MAX + 16];
	struct stat sb;

	(void)state;
	if (g_be != BE_SQLITE)
		skip();
	(void)snprintf(p, sizeof(p), "%s/site.db", g_dir);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	(void)snprintf(p, sizeof(p), "%s/site.db-wal", g_dir);
	assert_int_equal(stat(p, &sb), 0);	/* WAL mode */
	assert_int_equal(sb.st_mode & 0077, 0);
}

/* PostgreSQL restarted under us: the failing call says AMTP_E_DB, the next
 * one reconnects (and finds its schema again). */
static void
test_pg_reconnect(void **state)
{
	struct amtp_store *other = NULL;
	struct amtp_device_rec d;
	struct sqlres *res = NULL;
	int64_t pid;
	int r;

	(void)state;
	NEED_DB();
	if (g_be != BE_PG)
		skip();
	add_device(UUID1);
	assert_int_equal(store_q(g_st, "test", "SELECT pg_backend_pid()",
	    NOPARAMS, &res), 0);
	assert_int_equal(store_cell_int(res, 0, 0, &pid), 0);
	store_res_free(res);
	res = NULL;
	assert_int_equal(amtp_store_open(g_uri, g_key, &other, NULL, 0), 0);
	assert_int_equal(store_q(other, "test", "SELECT pg_terminate_backend("
	    "CAST($1 AS INTEGER))", PARAMS(INT(pid)), &res), 0);
	assert_string_equal(store_cell(res, 0, 0), "t");
	store_res_free(res);
	amtp_store_close(other);
	r = amtp_store_device_get_uuid(g_st, UUID1, &d);
	assert_int_equal(r, AMTP_E_DB);
	assert_int_equal(amtp_store_device_get_uuid(g_st, UUID1, &d), 0);
	assert_int_equal(amtp_store_device_get_uuid(g_st, UUID2, &d),
	    AMTP_E_NOTFOUND);
}

/* ------------------------------------------------------------------ */
/* Vocabulary                                                           */
/* ------------------------------------------------------------------ */

static void
test_vocabulary(void **state)
{
	enum amtp_amt_status s;
	enum amtp_job_state js;
	enum amtp_cred_kind ck;
	int i;

	(void)state;
	if (g_be != BE_SQLITE)
		skip();
	assert_string_equal(amtp_store_status_name(AMTP_AMT_NOT_SUPPORTED),
	    "not supported");
	assert_string_equal(amtp_store_status_name(
	    AMTP_AMT_EXTERNALLY_PROVISIONED), "externally provisioned");
	for (i = 0; i < AMTP_AMT__MAX; i++) {
		assert_int_equal(amtp_store_status_parse(
		    amtp_store_status_name(i), &s), 0);
		assert_int_equal((int)s, i);
	}
	assert_null(amtp_store_status_name(AMTP_AMT__MAX));
	assert_null(amtp_store_status_name((enum amtp_amt_status)-1));
	assert_int_equal(amtp_store_status_parse("Provisioned", &s),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_store_status_parse(NULL, &s), AMTP_E_INVAL);
	assert_int_equal(amtp_store_job_state_parse("cancelled", &js), 0);
	assert_int_equal(js, AMTP_JOB_CANCELLED);
	assert_int_equal(amtp_store_cred_kind_parse("mebx", &ck), 0);
	assert_int_equal(ck, AMTP_CRED_MEBX);
	assert_string_equal(amtp_store_cred_state_name(AMTP_CRED_RETIRED),
	    "retired");
	assert_string_equal(amtp_store_role_name(AMTP_ROLE_READONLY),
	    "readonly");
	assert_string_equal(amtp_store_step_outcome_name(AMTP_STEP_SKIPPED),
	    "skipped");
	assert_string_equal(amtp_store_job_kind_name(AMTP_JOB_UNPROVISION),
	    "unprovision");
}

/* ------------------------------------------------------------------ */
/* Devices                                                              */
/* ------------------------------------------------------------------ */

static void
test_device_upsert(void **state)
{
	struct amtp_device_in in;
	struct amtp_device_rec d;
	char host[AMTP_STORE_HOSTNAME_MAX + 2];
	int64_t id = -1, id2 = -1;
	int created = -1;

	(void)state;
	NEED_DB();
	memset(&in, 0, sizeof(in));
	in.uuid = "0A1B2C3D-0000-4000-8000-00000000AA01";	/* upper case */
	in.hostname = "pc1";
	assert_int_equal(amtp_store_device_upsert(g_st, &in, &id, &created), 0);
	assert_int_equal(created, 1);
	assert_int_equal(amtp_store_device_get(g_st, id, &d), 0);
	assert_string_equal(d.uuid, UUID1);		/* stored lower-case */
	assert_string_equal(d.hostname, "pc1");
	assert_string_equal(d.fqdn, "");
	assert_int_equal(d.status, AMTP_AMT_UNKNOWN);
	assert_false(d.has_otp);
	assert_true(d.created > 1700000000);
	assert_true(d.last_seen >= d.created);

	/* Idempotent; NULL and "" keep what is there. */
	in.uuid = UUID1;
	in.hostname = "";
	in.fqdn = "pc1.fleet.example.test";
	assert_int_equal(amtp_store_device_upsert(g_st, &in, &id2, &created),
	    0);
	assert_int_equal(created, 0);
	assert_int_equal(id2, id);
	assert_int_equal(amtp_store_device_get_uuid(g_st, UUID1, &d), 0);
	assert_int_equal(d.id, id);
	assert_string_equal(d.hostname, "pc1");
	assert_string_equal(d.fqdn, "pc1.fleet.example.test");

	/* Bad UUIDs */
	in.uuid = "0a1b2c3d-0000-4000-8000-00000000aa0";	/* short */
	assert_int_equal(amtp_store_device_upsert(g_st, &in, &id, NULL),
	    AMTP_E_INVAL);
	assert_int_equal(id, 0);
	in.uuid = "0a1b2c3d-0000-4000-8000-00000000aa011";	/* long */
	assert_int_equal(amtp_store_device_upsert(g_st, &in, &id, NULL),
	    AMTP_E_INVAL);
	in.uuid = "0a1b2c3d_0000-4000-8000-00000000aa01";
	assert_int_equal(amtp_store_device_upsert(g_st, &in, &id, NULL),
	    AMTP_E_INVAL);
	in.uuid = "0a1b2c3d-0000-4000-8000-00000000aa0g";
	assert_int_equal(amtp_store_device_upsert(g_st, &in, &id, NULL),
	    AMTP_E_INVAL);
	in.uuid = NULL;
	assert_int_equal(amtp_store_device_upsert(g_st, &in, &id, NULL),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_store_device_upsert(g_st, NULL, &id, NULL),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_store_device_get_uuid(g_st, "x", &d),
	    AMTP_E_INVAL);

	/* Host name exactly at the limit, then one over. */
	in.uuid = UUID2;
	memset(host, 'h', sizeof(host));
	host[AMTP_STORE_HOSTNAME_MAX] = '\0';
	in.hostname = host;
	in.fqdn = NULL;
	assert_int_equal(amtp_store_device_upsert(g_st, &in, &id, NULL), 0);
	assert_int_equal(amtp_store_device_get(g_st, id, &d), 0);
	assert_int_equal(strlen(d.hostname), AMTP_STORE_HOSTNAME_MAX);
	host[AMTP_STORE_HOSTNAME_MAX] = 'h';
	host[AMTP_STORE_HOSTNAME_MAX + 1] = '\0';
	assert_int_equal(amtp_store_device_upsert(g_st, &in, &id, NULL),
	    AMTP_E_TOOBIG);
	in.hostname = "bad\nname";
	assert_int_equal(amtp_store_device_upsert(g_st, &in, &id, NULL),
	    AMTP_E_INVAL);

	assert_int_equal(amtp_store_device_get(g_st, 999999, &d),
	    AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_device_get_uuid(g_st, UUID3, &d),
	    AMTP_E_NOTFOUND);
}

static void
test_device_status_facts(void **state)
{
	struct amtp_device_facts *f, *g;
	struct amtp_device_rec d;
	int64_t id;
	size_t i;

	(void)state;
	NEED_DB();
	id = add_device(UUID1);
	assert_int_equal(amtp_store_device_set_status(g_st, id,
	    AMTP_AMT_NOT_PROVISIONED, "pre-provisioning"), 0);
	assert_int_equal(amtp_store_device_get(g_st, id, &d), 0);
	assert_int_equal(d.status, AMTP_AMT_NOT_PROVISIONED);
	assert_string_equal(d.status_reason, "pre-provisioning");
	assert_int_equal(amtp_store_device_set_status(g_st, id,
	    AMTP_AMT_PROVISIONED, NULL), 0);
	assert_int_equal(amtp_store_device_get(g_st, id, &d), 0);
	assert_string_equal(d.status_reason, "");
	assert_int_equal(amtp_store_device_set_status(g_st, id, AMTP_AMT__MAX,
	    NULL), AMTP_E_INVAL);
	assert_int_equal(amtp_store_device_set_status(g_st, id + 1000,
	    AMTP_AMT_DETECTED, NULL), AMTP_E_NOTFOUND);

	f = calloc(1, sizeof(*f));
	g = calloc(1, sizeof(*g));
	assert_non_null(f);
	assert_non_null(g);
	assert_int_equal(amtp_store_device_get_facts(g_st, id, g),
	    AMTP_E_NOTFOUND);
	(void)snprintf(f->amt_version, sizeof(f->amt_version), "16.1.25");
	(void)snprintf(f->amt_build, sizeof(f->amt_build), "2049");
	(void)snprintf(f->sku, sizeof(f->sku), "Corporate");
	(void)snprintf(f->fw_uuid, sizeof(f->fw_uuid), "%s", UUID1);
	(void)snprintf(f->dns_suffix, sizeof(f->dns_suffix),
	    "fleet.example.test");
	f->wireless = 1;
	f->n_root_hashes = AMTP_STORE_FW_HASHES_MAX;	/* exactly the limit */
	for (i = 0; i < f->n_root_hashes; i++) {
		(void)snprintf(f->root_hashes[i].name,
		    sizeof(f->root_hashes[i].name), "Root %zu", i);
		memset(f->root_hashes[i].hex, 'a' + (char)(i % 6), 64);
		f->root_hashes[i].hex[64] = '\0';
		f->root_hashes[i].is_default = i < 30;
		f->root_hashes[i].is_active = 1;
	}
	memset(f->root_hashes[1].hex, 'b', 96);		/* SHA-384 */
	f->root_hashes[1].hex[96] = '\0';
	assert_int_equal(amtp_store_device_set_facts(g_st, id, f), 0);
	assert_int_equal(amtp_store_device_get_facts(g_st, id, g), 0);
	assert_string_equal(g->amt_version, "16.1.25");
	assert_string_equal(g->amt_build, "2049");
	assert_string_equal(g->sku, "Corporate");
	assert_string_equal(g->fw_uuid, UUID1);
	assert_string_equal(g->dns_suffix, "fleet.example.test");
	assert_int_equal(g->wireless, 1);
	assert_true(g->reported > 0);
	assert_int_equal(g->n_root_hashes, AMTP_STORE_FW_HASHES_MAX);
	assert_string_equal(g->root_hashes[5].name, "Root 5");
	assert_string_equal(g->root_hashes[5].hex, f->root_hashes[5].hex);
	assert_int_equal(strlen(g->root_hashes[1].hex), 96);
	assert_int_equal(g->root_hashes[35].is_default, 0);
	assert_int_equal(g->root_hashes[3].is_default, 1);

	/* Replacing drops the old hashes. */
	f->n_root_hashes = 1;
	f->wireless = 0;
	assert_int_equal(amtp_store_device_set_facts(g_st, id, f), 0);
	assert_int_equal(amtp_store_device_get_facts(g_st, id, g), 0);
	assert_int_equal(g->n_root_hashes, 1);
	assert_int_equal(g->wireless, 0);

	/* One over the limit; bad hex; unknown device. */
	f->n_root_hashes = AMTP_STORE_FW_HASHES_MAX + 1;
	assert_int_equal(amtp_store_device_set_facts(g_st, id, f),
	    AMTP_E_INVAL);
	f->n_root_hashes = 1;
	f->root_hashes[0].hex[10] = 'A';	/* upper case refused */
	assert_int_equal(amtp_store_device_set_facts(g_st, id, f),
	    AMTP_E_INVAL);
	f->root_hashes[0].hex[10] = 'a';
	f->root_hashes[0].hex[63] = '\0';	/* 63 digits */
	assert_int_equal(amtp_store_device_set_facts(g_st, id, f),
	    AMTP_E_INVAL);
	f->root_hashes[0].hex[63] = 'a';
	assert_int_equal(amtp_store_device_set_facts(g_st, id + 1000, f),
	    AMTP_E_NOTFOUND);
	/* unchanged by the failures */
	assert_int_equal(amtp_store_device_get_facts(g_st, id, g), 0);
	assert_int_equal(g->n_root_hashes, 1);
	free(f);
	free(g);
}

static void
test_device_otp(void **state)
{
	struct amtp_device_rec d;
	char h[65], small[64];
	int64_t id;

	(void)state;
	NEED_DB();
	id = add_device(UUID1);
	assert_int_equal(amtp_store_device_get_otp_hash(g_st, id, h,
	    sizeof(h)), AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_device_set_otp_hash(g_st, id, OTPH), 0);
	assert_int_equal(amtp_store_device_get_otp_hash(g_st, id, h,
	    sizeof(h)), 0);
	assert_string_equal(h, OTPH);
	assert_int_equal(amtp_store_device_get_otp_hash(g_st, id, small,
	    sizeof(small)), AMTP_E_TOOBIG);
	assert_int_equal(amtp_store_device_get(g_st, id, &d), 0);
	assert_true(d.has_otp);
	/* Replaced */
	assert_int_equal(amtp_store_device_set_otp_hash(g_st, id,
	    "0000000000000000000000000000000000000000000000000000000000000000"),
	    0);
	assert_int_equal(amtp_store_device_get_otp_hash(g_st, id, h,
	    sizeof(h)), 0);
	assert_int_equal(h[0], '0');
	/* Only 64 lower-case hex digits */
	assert_int_equal(amtp_store_device_set_otp_hash(g_st, id,
	    "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_store_device_set_otp_hash(g_st, id, OTPH + 1),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_store_device_set_otp_hash(g_st, id, NULL),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_store_device_set_otp_hash(g_st, id + 1000, OTPH),
	    AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_device_clear_otp_hash(g_st, id), 0);
	assert_int_equal(amtp_store_device_clear_otp_hash(g_st, id),
	    AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_device_get(g_st, id, &d), 0);
	assert_false(d.has_otp);
}

static void
test_device_list(void **state)
{
	struct amtp_device_filter f;
	struct amtp_device_rec *v = NULL;
	struct amtp_device_in in;
	char uuid[40];
	size_t n, total;
	int64_t id;
	int i;

	(void)state;
	NEED_DB();
	/* empty */
	assert_int_equal(amtp_store_device_list(g_st, NULL, &v, &n, &total), 0);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_int_equal(total, 0);
	memset(&in, 0, sizeof(in));
	for (i = 0; i < 25; i++) {
		(void)snprintf(uuid, sizeof(uuid),
		    "00000000-0000-4000-8000-0000000000%02d", i);
		in.uuid = uuid;
		in.hostname = i == 7 ? "Lab_100%" : "pc";
		in.fqdn = i == 3 ? "special.Fleet.example.test" : "";
		assert_int_equal(amtp_store_device_upsert(g_st, &in, &id, NULL),
		    0);
		if (i % 5 == 0)
			assert_int_equal(amtp_store_device_set_status(g_st, id,
			    AMTP_AMT_PROVISIONED, NULL), 0);
	}
	memset(&f, 0, sizeof(f));
	f.status = -1;
	f.limit = 10;
	assert_int_equal(amtp_store_device_list(g_st, &f, &v, &n, &total), 0);
	assert_int_equal(n, 10);
	assert_int_equal(total, 25);
	assert_string_equal(v[0].uuid, "00000000-0000-4000-8000-000000000000");
	free(v);
	f.offset = 20;
	assert_int_equal(amtp_store_device_list(g_st, &f, &v, &n, NULL), 0);
	assert_int_equal(n, 5);
	assert_string_equal(v[4].uuid, "00000000-0000-4000-8000-000000000024");
	free(v);
	f.offset = 25;
	assert_int_equal(amtp_store_device_list(g_st, &f, &v, &n, &total), 0);
	assert_int_equal(n, 0);
	assert_int_equal(total, 25);
	assert_null(v);

	f.offset = 0;
	f.status = AMTP_AMT_PROVISIONED;
	assert_int_equal(amtp_store_device_list(g_st, &f, &v, &n, &total), 0);
	assert_int_equal(n, 5);
	assert_int_equal(total, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(v[i].status, AMTP_AMT_PROVISIONED);
	free(v);

	/* text: case-insensitive substring over fqdn */
	f.status = -1;
	f.text = "FLEET.example";
	assert_int_equal(amtp_store_device_list(g_st, &f, &v, &n, &total), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].fqdn, "special.Fleet.example.test");
	free(v);
	/* LIKE characters are literal */
	f.text = "_100%";
	assert_int_equal(amtp_store_device_list(g_st, &f, &v, &n, &total), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].hostname, "Lab_100%");
	free(v);
	f.text = "%";
	assert_int_equal(amtp_store_device_list(g_st, &f, &v, &n, &total), 0);
	assert_int_equal(n, 1);
	free(v);
	f.text = "000000000024";
	assert_int_equal(amtp_store_device_list(g_st, &f, &v, &n, &total), 0);
	assert_int_equal(n, 1);
	free(v);
	f.text = "nothing-like-this";
	assert_int_equal(amtp_store_device_list(g_st, &f, &v, &n, &total), 0);
	assert_int_equal(n, 0);
	assert_int_equal(total, 0);

	/* limits */
	f.text = NULL;
	f.limit = AMTP_STORE_LIST_MAX;
	assert_int_equal(amtp_store_device_list(g_st, &f, &v, &n, NULL), 0);
	assert_int_equal(n, 25);
	free(v);
	f.limit = AMTP_STORE_LIST_MAX + 1;
	assert_int_equal(amtp_store_device_list(g_st, &f, &v, &n, &total),
	    AMTP_E_RANGE);
	assert_null(v);
	f.limit = 0;
	f.status = AMTP_AMT__MAX;
	assert_int_equal(amtp_store_device_list(g_st, &f, &v, &n, &total),
	    AMTP_E_INVAL);
}

/* ------------------------------------------------------------------ */
/* Jobs                                                                 */
/* ------------------------------------------------------------------ */

static void
test_job_enqueue_claim(void **state)
{
	struct amtp_job_rec j, k;
	struct amtp_step_rec *steps = NULL;
	int64_t dev, jid, jid2, sid, exp;
	size_t n;
	int created;

	(void)state;
	NEED_DB();
	dev = add_device(UUID1);
	assert_int_equal(amtp_store_job_claim(g_st, "sp1", 30, &j),
	    AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_job_enqueue(g_st, dev, AMTP_JOB_PROVISION,
	    &jid, &created), 0);
	assert_int_equal(created, 1);
	/* Idempotent: one open job per device and kind. */
	assert_int_equal(amtp_store_job_enqueue(g_st, dev, AMTP_JOB_PROVISION,
	    &jid2, &created), 0);
	assert_int_equal(created, 0);
	assert_int_equal(jid2, jid);
	assert_int_equal(amtp_store_job_enqueue(g_st, dev + 1000,
	    AMTP_JOB_PROVISION, &jid2, &created), AMTP_E_NOTFOUND);
	assert_int_equal(jid2, 0);
	assert_int_equal(amtp_store_job_enqueue(g_st, dev, AMTP_JOB_KIND__MAX,
	    &jid2, NULL), AMTP_E_INVAL);

	assert_int_equal(amtp_store_job_get(g_st, jid, &j), 0);
	assert_int_equal(j.state, AMTP_JOB_QUEUED);
	assert_int_equal(j.attempts, 0);
	assert_int_equal(j.device_id, dev);
	assert_int_equal(j.kind, AMTP_JOB_PROVISION);

	/* bad arguments */
	assert_int_equal(amtp_store_job_claim(g_st, "", 30, &j), AMTP_E_INVAL);
	assert_int_equal(amtp_store_job_claim(g_st, NULL, 30, &j),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_store_job_claim(g_st, "sp1", 0, &j),
	    AMTP_E_RANGE);
	assert_int_equal(amtp_store_job_claim(g_st, "sp1",
	    AMTP_STORE_LEASE_MAX + 1, &j), AMTP_E_RANGE);

	assert_int_equal(amtp_store_job_claim(g_st, "sp1", 30, &j), 0);
	assert_int_equal(j.id, jid);
	assert_int_equal(j.state, AMTP_JOB_RUNNING);
	assert_int_equal(j.attempts, 1);
	assert_string_equal(j.lease_owner, "sp1");
	assert_true(j.lease_expires >= j.updated + 29);
	/* While running, still the same open job. */
	assert_int_equal(amtp_store_job_enqueue(g_st, dev, AMTP_JOB_PROVISION,
	    &jid2, &created), 0);
	assert_int_equal(jid2, jid);
	assert_int_equal(created, 0);
	/* Another service point finds nothing: the lease is alive. */
	assert_int_equal(amtp_store_job_claim(g_st, "sp2", 30, &k),
	    AMTP_E_NOTFOUND);

	assert_int_equal(amtp_store_job_renew(g_st, jid, "sp1", 60, &exp), 0);
	assert_true(exp >= j.lease_expires + 29);
	assert_int_equal(amtp_store_job_renew(g_st, jid, "sp2", 60, &exp),
	    AMTP_E_CONFLICT);
	assert_int_equal(exp, 0);
	assert_int_equal(amtp_store_job_renew(g_st, jid + 1000, "sp1", 60,
	    NULL), AMTP_E_NOTFOUND);

	/* Step log */
	assert_int_equal(amtp_store_job_step_start(g_st, jid, "sp1",
	    "otp-check", &sid), 0);
	assert_true(sid > 0);
	assert_int_equal(amtp_store_job_step_start(g_st, jid, "sp2",
	    "otp-check", &sid), AMTP_E_CONFLICT);
	assert_int_equal(sid, 0);
	assert_int_equal(amtp_store_job_step_start(g_st, jid, "sp1", "", &sid),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_store_job_step_start(g_st, jid, "sp1",
	    "otp-check", &sid), 0);
	assert_int_equal(amtp_store_job_step_end(g_st, jid, "sp1", sid,
	    AMTP_STEP_OK, "hash matches"), 0);
	assert_int_equal(amtp_store_job_step_end(g_st, jid, "sp1", sid,
	    AMTP_STEP_OK, NULL), AMTP_E_STATE);
	assert_int_equal(amtp_store_job_step_end(g_st, jid, "sp1", sid + 100,
	    AMTP_STEP_OK, NULL), AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_job_step_end(g_st, jid, "sp1", sid,
	    AMTP_STEP_STARTED, NULL), AMTP_E_INVAL);
	assert_int_equal(amtp_store_job_step_start(g_st, jid, "sp1",
	    "tls-setup", &sid), 0);
	assert_int_equal(amtp_store_job_step_end(g_st, jid, "sp1", sid,
	    AMTP_STEP_FAILED, "root hash not in firmware"), 0);
	assert_int_equal(amtp_store_job_get(g_st, jid, &j), 0);
	assert_string_equal(j.step, "tls-setup");
	assert_string_equal(j.last_error,
	    "tls-setup: root hash not in firmware");
	assert_int_equal(amtp_store_job_steps(g_st, jid, &steps, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(steps[0].step, "otp-check");
	assert_int_equal(steps[0].outcome, AMTP_STEP_STARTED);	/* not ended */
	assert_int_equal(steps[0].ended, 0);
	assert_int_equal(steps[1].outcome, AMTP_STEP_OK);
	assert_string_equal(steps[1].detail, "hash matches");
	assert_true(steps[1].ended >= steps[1].started);
	assert_int_equal(steps[1].attempt, 1);
	assert_string_equal(steps[1].owner, "sp1");
	assert_int_equal(steps[2].outcome, AMTP_STEP_FAILED);
	free(steps);

	/* Finish: others cannot; bad state; then done. */
	assert_int_equal(amtp_store_job_finish(g_st, jid, "sp2",
	    AMTP_JOB_DONE, NULL), AMTP_E_CONFLICT);
	assert_int_equal(amtp_store_job_finish(g_st, jid, "sp1",
	    AMTP_JOB_CANCELLED, NULL), AMTP_E_INVAL);
	assert_int_equal(amtp_store_job_finish(g_st, jid, "sp1",
	    AMTP_JOB_DONE, NULL), 0);
	assert_int_equal(amtp_store_job_get(g_st, jid, &j), 0);
	assert_int_equal(j.state, AMTP_JOB_DONE);
	assert_string_equal(j.lease_owner, "");
	assert_true(j.finished > 0);
	/* finished: no more writes by the former holder */
	assert_int_equal(amtp_store_job_finish(g_st, jid, "sp1",
	    AMTP_JOB_DONE, NULL), AMTP_E_CONFLICT);
	assert_int_equal(amtp_store_job_renew(g_st, jid, "sp1", 10, NULL),
	    AMTP_E_CONFLICT);
	/* A done job cannot be cancelled or retried; a new one may be queued */
	assert_int_equal(amtp_store_job_cancel(g_st, jid, NULL), AMTP_E_STATE);
	assert_int_equal(amtp_store_job_retry(g_st, jid), AMTP_E_STATE);
	assert_int_equal(amtp_store_job_enqueue(g_st, dev, AMTP_JOB_PROVISION,
	    &jid2, &created), 0);
	assert_int_equal(created, 1);
	assert_true(jid2 != jid);
}

static void
test_job_requeue_cancel_retry(void **state)
{
	struct amtp_job_rec j, *v = NULL;
	struct amtp_step_rec *steps = NULL;
	struct amtp_job_filter f;
	int64_t dev, dev2, jid, jid2, jid3, sid;
	size_t n, total;

	(void)state;
	NEED_DB();
	dev = add_device(UUID1);
	dev2 = add_device(UUID2);
	assert_int_equal(amtp_store_job_enqueue(g_st, dev, AMTP_JOB_PROVISION,
	    &jid, NULL), 0);
	assert_int_equal(amtp_store_job_enqueue(g_st, dev2, AMTP_JOB_PROVISION,
	    &jid2, NULL), 0);
	assert_int_equal(amtp_store_job_enqueue(g_st, dev, AMTP_JOB_ROTATE,
	    &jid3, NULL), 0);
	/* oldest first */
	assert_int_equal(amtp_store_job_claim(g_st, "sp1", 30, &j), 0);
	assert_int_equal(j.id, jid);
	/* Requeue with a delay: not claimable before it. */
	assert_int_equal(amtp_store_job_requeue(g_st, jid, "sp2", 0, NULL),
	    AMTP_E_CONFLICT);
	assert_int_equal(amtp_store_job_requeue(g_st, jid, "sp1", -1, NULL),
	    AMTP_E_RANGE);
	assert_int_equal(amtp_store_job_step_start(g_st, jid, "sp1", "connect",
	    &sid), 0);
	assert_int_equal(amtp_store_job_requeue(g_st, jid, "sp1", 3600,
	    "device unreachable"), 0);
	assert_int_equal(amtp_store_job_steps(g_st, jid, &steps, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(steps[0].outcome, AMTP_STEP_FAILED);
	assert_string_equal(steps[0].detail, "abandoned: job requeued");
	free(steps);
	assert_int_equal(amtp_store_job_get(g_st, jid, &j), 0);
	assert_int_equal(j.state, AMTP_JOB_QUEUED);
	assert_string_equal(j.last_error, "device unreachable");
	assert_true(j.not_before >= j.updated + 3599);
	assert_int_equal(amtp_store_job_claim(g_st, "sp1", 30, &j), 0);
	assert_int_equal(j.id, jid2);
	assert_int_equal(amtp_store_job_claim(g_st, "sp1", 30, &j), 0);
	assert_int_equal(j.id, jid3);
	assert_int_equal(amtp_store_job_claim(g_st, "sp1", 30, &j),
	    AMTP_E_NOTFOUND);

	/* Cancel a running job: the holder learns on its next write. */
	assert_int_equal(amtp_store_job_step_start(g_st, jid2, "sp1", "connect",
	    &sid), 0);
	assert_int_equal(amtp_store_job_cancel(g_st, jid2, "admin says no"), 0);
	assert_int_equal(amtp_store_job_step_end(g_st, jid2, "sp1", sid,
	    AMTP_STEP_OK, NULL), AMTP_E_CONFLICT);
	assert_int_equal(amtp_store_job_steps(g_st, jid2, &steps, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(steps[0].outcome, AMTP_STEP_FAILED);
	assert_string_equal(steps[0].detail, "abandoned: job cancelled");
	free(steps);
	assert_int_equal(amtp_store_job_renew(g_st, jid2, "sp1", 30, NULL),
	    AMTP_E_CONFLICT);
	assert_int_equal(amtp_store_job_get(g_st, jid2, &j), 0);
	assert_int_equal(j.state, AMTP_JOB_CANCELLED);
	assert_string_equal(j.last_error, "admin says no");
	assert_int_equal(amtp_store_job_cancel(g_st, jid2, NULL), AMTP_E_STATE);
	assert_int_equal(amtp_store_job_cancel(g_st, jid2 + 1000, NULL),
	    AMTP_E_NOTFOUND);
	/* Cancel a queued (delayed) one too. */
	assert_int_equal(amtp_store_job_cancel(g_st, jid, NULL), 0);
	/* Fail the third. */
	assert_int_equal(amtp_store_job_finish(g_st, jid3, "sp1",
	    AMTP_JOB_FAILED, "digest auth failed (user 3 of 3)"), 0);
	assert_int_equal(amtp_store_job_get(g_st, jid3, &j), 0);
	assert_int_equal(j.state, AMTP_JOB_FAILED);
	assert_string_equal(j.last_error, "digest auth failed (user 3 of 3)");

	/* Retry the cancelled one; not while another is open. */
	assert_int_equal(amtp_store_job_retry(g_st, jid2), 0);
	assert_int_equal(amtp_store_job_get(g_st, jid2, &j), 0);
	assert_int_equal(j.state, AMTP_JOB_QUEUED);
	assert_int_equal(j.attempts, 0);
	assert_int_equal(amtp_store_job_enqueue(g_st, dev, AMTP_JOB_PROVISION,
	    &jid3, NULL), 0);
	assert_true(jid3 != jid);
	assert_int_equal(amtp_store_job_retry(g_st, jid), AMTP_E_EXISTS);
	assert_int_equal(amtp_store_job_retry(g_st, jid + 1000),
	    AMTP_E_NOTFOUND);

	/* Listing: newest first, filters, total */
	assert_int_equal(amtp_store_job_list(g_st, NULL, &v, &n, &total), 0);
	assert_int_equal(n, 4);
	assert_int_equal(total, 4);
	assert_int_equal(v[0].id, jid3);
	free(v);
	memset(&f, 0, sizeof(f));
	f.device_id = dev;
	f.state = -1;
	f.kind = -1;
	assert_int_equal(amtp_store_job_list(g_st, &f, &v, &n, &total), 0);
	assert_int_equal(n, 3);
	free(v);
	f.state = AMTP_JOB_QUEUED;
	assert_int_equal(amtp_store_job_list(g_st, &f, &v, &n, &total), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].id, jid3);
	free(v);
	f.device_id = 0;
	f.state = -1;
	f.kind = AMTP_JOB_ROTATE;
	assert_int_equal(amtp_store_job_list(g_st, &f, &v, &n, &total), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].state, AMTP_JOB_FAILED);
	free(v);
	f.kind = 99;
	assert_int_equal(amtp_store_job_list(g_st, &f, &v, &n, &total),
	    AMTP_E_INVAL);
	f.kind = -1;
	f.limit = 1;
	f.offset = 1;
	assert_int_equal(amtp_store_job_list(g_st, &f, &v, &n, &total), 0);
	assert_int_equal(n, 1);
	assert_int_equal(total, 4);
	free(v);
}

static void
test_job_lease_takeover(void **state)
{
	struct amtp_step_rec *steps = NULL;
	struct amtp_job_rec j, k;
	int64_t dev, jid, sid, sid2, now;
	size_t n;

	(void)state;
	NEED_DB();
	dev = add_device(UUID1);
	assert_int_equal(amtp_store_job_enqueue(g_st, dev, AMTP_JOB_PROVISION,
	    &jid, NULL), 0);
	assert_int_equal(amtp_store_job_claim(g_st, "sp1", 1, &j), 0);
	assert_int_equal(amtp_store_job_step_start(g_st, jid, "sp1",
	    "stage1-password", &sid), 0);
	/* Not yet expired */
	assert_int_equal(amtp_store_job_claim(g_st, "sp2", 30, &k),
	    AMTP_E_NOTFOUND);
	/* Still not expired a second before lease_expires... */
	assert_int_equal(amtp_store_now(g_st, &now), 0);
	assert_int_equal(store_q(g_st, "test", "UPDATE jobs SET lease_expires"
	    " = $2 WHERE id = $1", PARAMS(INT(jid), INT(now + 1)), NULL), 0);
	assert_int_equal(amtp_store_job_claim(g_st, "sp2", 30, &k),
	    AMTP_E_NOTFOUND);
	/* ...expired one second before now (the real clock is exercised by
	 * tests/unit/amtprovd/store_lease.c). */
	assert_int_equal(store_q(g_st, "test", "UPDATE jobs SET lease_expires"
	    " = $2 WHERE id = $1", PARAMS(INT(jid), INT(now - 1)), NULL), 0);
	assert_int_equal(amtp_store_job_claim(g_st, "sp2", 30, &k), 0);
	assert_int_equal(k.id, jid);
	assert_int_equal(k.attempts, 2);
	assert_string_equal(k.lease_owner, "sp2");
	assert_string_equal(k.last_error, "lease of sp1 expired");
	/* The first holder is fenced off. */
	assert_int_equal(amtp_store_job_renew(g_st, jid, "sp1", 30, NULL),
	    AMTP_E_CONFLICT);
	assert_int_equal(amtp_store_job_step_end(g_st, jid, "sp1", sid,
	    AMTP_STEP_OK, NULL), AMTP_E_CONFLICT);
	assert_int_equal(amtp_store_job_finish(g_st, jid, "sp1",
	    AMTP_JOB_DONE, NULL), AMTP_E_CONFLICT);
	assert_int_equal(amtp_store_job_requeue(g_st, jid, "sp1", 0, NULL),
	    AMTP_E_CONFLICT);
	/* The new holder resumes. */
	assert_int_equal(amtp_store_job_step_start(g_st, jid, "sp2",
	    "stage1-password", &sid2), 0);
	assert_int_equal(amtp_store_job_step_end(g_st, jid, "sp2", sid2,
	    AMTP_STEP_SKIPPED, "pending password works"), 0);
	assert_int_equal(amtp_store_job_finish(g_st, jid, "sp2",
	    AMTP_JOB_DONE, NULL), 0);
	assert_int_equal(amtp_store_job_steps(g_st, jid, &steps, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(steps[0].outcome, AMTP_STEP_FAILED);
	assert_int_equal(steps[0].attempt, 1);
	assert_string_equal(steps[0].detail, "abandoned: lease of sp1 expired");
	assert_int_equal(steps[1].attempt, 2);
	assert_int_equal(steps[1].outcome, AMTP_STEP_SKIPPED);
	free(steps);
}

/* ------------------------------------------------------------------ */
/* Credentials                                                          */
/* ------------------------------------------------------------------ */

static void
test_cred_escrow(void **state)
{
	struct amtp_secret *s1, *s2, *s3, *o = NULL;
	struct amtp_cred_rec *v = NULL;
	int64_t dev, dev2;
	int ver = -1, ver2, got;
	size_t n;

	(void)state;
	NEED_DB();
	dev = add_device(UUID1);
	dev2 = add_device(UUID2);
	s1 = secret("Adm1n!first-Pass");
	s2 = secret("Adm1n!second-Pass");
	s3 = secret("Mebx#Pass-0001");

	assert_int_equal(amtp_store_cred_get(g_st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_CURRENT, &got, &o), AMTP_E_NOTFOUND);
	assert_null(o);
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev,
	    AMTP_CRED_ADMIN, s1, &ver), 0);
	assert_int_equal(ver, 1);
	/* One pending at a time */
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev,
	    AMTP_CRED_ADMIN, s2, &ver2), AMTP_E_EXISTS);
	assert_int_equal(ver2, 0);
	/* pending opens */
	assert_int_equal(amtp_store_cred_get(g_st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_PENDING, &got, &o), 0);
	assert_int_equal(got, 1);
	assert_string_equal(amtp_secret_cstr(o), "Adm1n!first-Pass");
	amtp_secret_free(o);
	assert_int_equal(amtp_store_cred_get(g_st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_CURRENT, &got, &o), AMTP_E_NOTFOUND);
	/* promote, twice (resumed job) */
	assert_int_equal(amtp_store_cred_promote(g_st, dev, AMTP_CRED_ADMIN,
	    1), 0);
	assert_int_equal(amtp_store_cred_promote(g_st, dev, AMTP_CRED_ADMIN,
	    1), 0);
	assert_int_equal(amtp_store_cred_get(g_st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_CURRENT, &got, &o), 0);
	assert_int_equal(got, 1);
	amtp_secret_free(o);
	assert_int_equal(amtp_store_cred_get(g_st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_PENDING, &got, &o), AMTP_E_NOTFOUND);
	/* rotation: v2 pending -> current, v1 retired */
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev,
	    AMTP_CRED_ADMIN, s2, &ver2), 0);
	assert_int_equal(ver2, 2);
	assert_int_equal(amtp_store_cred_promote(g_st, dev, AMTP_CRED_ADMIN,
	    2), 0);
	assert_int_equal(amtp_store_cred_get(g_st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_CURRENT, &got, &o), 0);
	assert_int_equal(got, 2);
	assert_string_equal(amtp_secret_cstr(o), "Adm1n!second-Pass");
	amtp_secret_free(o);
	assert_int_equal(amtp_store_cred_get(g_st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_RETIRED, &got, &o), 0);
	assert_int_equal(got, 1);
	assert_string_equal(amtp_secret_cstr(o), "Adm1n!first-Pass");
	amtp_secret_free(o);
	assert_int_equal(amtp_store_cred_get_version(g_st, dev,
	    AMTP_CRED_ADMIN, 1, &o), 0);
	assert_string_equal(amtp_secret_cstr(o), "Adm1n!first-Pass");
	amtp_secret_free(o);
	assert_int_equal(amtp_store_cred_get_version(g_st, dev,
	    AMTP_CRED_ADMIN, 3, &o), AMTP_E_NOTFOUND);
	/* a retired version cannot come back */
	assert_int_equal(amtp_store_cred_promote(g_st, dev, AMTP_CRED_ADMIN,
	    1), AMTP_E_STATE);
	assert_int_equal(amtp_store_cred_promote(g_st, dev, AMTP_CRED_ADMIN,
	    9), AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_cred_promote(g_st, dev, AMTP_CRED_ADMIN,
	    0), AMTP_E_INVAL);
	/* abandon a pending one */
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev,
	    AMTP_CRED_ADMIN, s1, &ver), 0);
	assert_int_equal(ver, 3);
	assert_int_equal(amtp_store_cred_abandon(g_st, dev, AMTP_CRED_ADMIN,
	    2), AMTP_E_STATE);	/* current, not pending */
	assert_int_equal(amtp_store_cred_abandon(g_st, dev, AMTP_CRED_ADMIN,
	    3), 0);
	assert_int_equal(amtp_store_cred_promote(g_st, dev, AMTP_CRED_ADMIN,
	    3), AMTP_E_STATE);
	assert_int_equal(amtp_store_cred_get(g_st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_CURRENT, &got, &o), 0);
	assert_int_equal(got, 2);	/* untouched */
	amtp_secret_free(o);
	/* kinds and devices are separate */
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev,
	    AMTP_CRED_MEBX, s3, &ver), 0);
	assert_int_equal(ver, 1);
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev2,
	    AMTP_CRED_ADMIN, s3, &ver), 0);
	assert_int_equal(ver, 1);
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev + 1000,
	    AMTP_CRED_ADMIN, s3, &ver), AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev,
	    AMTP_CRED_KIND__MAX, s3, &ver), AMTP_E_INVAL);
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev,
	    AMTP_CRED_DIRECTORY, NULL, &ver), AMTP_E_INVAL);

	assert_int_equal(amtp_store_cred_list(g_st, dev, &v, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(v[0].kind, AMTP_CRED_ADMIN);
	assert_int_equal(v[0].version, 1);
	assert_int_equal(v[0].state, AMTP_CRED_RETIRED);
	assert_int_equal(v[1].state, AMTP_CRED_CURRENT);
	assert_int_equal(v[2].state, AMTP_CRED_RETIRED);
	assert_int_equal(v[3].kind, AMTP_CRED_MEBX);
	assert_int_equal(v[3].state, AMTP_CRED_PENDING);
	free(v);
	amtp_secret_free(s1);
	amtp_secret_free(s2);
	amtp_secret_free(s3);
}

static void
test_cred_sealing(void **state)
{
	struct amtp_master_key *k2 = NULL;
	struct amtp_store *st2 = NULL;
	struct amtp_secret *s, *o = NULL;
	struct sqlres *res = NULL;
	char err[256];
	int64_t dev, dev2;
	int ver;

	(void)state;
	NEED_DB();
	dev = add_device(UUID1);
	dev2 = add_device(UUID2);
	s = secret("Sealed!Pass-42");
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev,
	    AMTP_CRED_ADMIN, s, &ver), 0);
	/* The column holds no clear text. */
	assert_int_equal(store_q(g_st, "test", "SELECT sealed FROM credentials",
	    NOPARAMS, &res), 0);
	assert_int_equal(res->nrows, 1);
	assert_null(strstr(store_cell(res, 0, 0), "Sealed!Pass-42"));
	assert_true(strlen(store_cell(res, 0, 0)) > 40);
	store_res_free(res);
	/* A sealed value copied to another row (other device) does not open:
	 * the AAD names the row. */
	assert_int_equal(store_q(g_st, "test", "INSERT INTO credentials"
	    " (device_id, kind, version, state, sealed, created, changed)"
	    " SELECT $1, kind, version, 'current', sealed, created, changed"
	    " FROM credentials WHERE device_id = $2",
	    PARAMS(INT(dev2), INT(dev)), NULL), 0);
	assert_int_equal(amtp_store_cred_get(g_st, dev2, AMTP_CRED_ADMIN,
	    AMTP_CRED_CURRENT, NULL, &o), AMTP_E_CRYPTO);
	assert_null(o);
	/* ... nor under another kind */
	assert_int_equal(store_q(g_st, "test", "UPDATE credentials SET kind ="
	    " 'mebx' WHERE device_id = $1", PARAMS(INT(dev2)), NULL), 0);
	assert_int_equal(amtp_store_cred_get(g_st, dev2, AMTP_CRED_MEBX,
	    AMTP_CRED_CURRENT, NULL, &o), AMTP_E_CRYPTO);
	/* Another master key cannot open it; no key: AMTP_E_STATE. */
	assert_int_equal(make_key(&k2, 0x43), 0);
	assert_int_equal(amtp_store_open(g_uri, k2, &st2, err, sizeof(err)), 0);
	assert_int_equal(amtp_store_cred_get(st2, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_PENDING, NULL, &o), AMTP_E_CRYPTO);
	amtp_store_close(st2);
	assert_int_equal(amtp_store_open(g_uri, NULL, &st2, err, sizeof(err)),
	    0);
	assert_int_equal(amtp_store_cred_get(st2, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_PENDING, NULL, &o), AMTP_E_STATE);
	assert_int_equal(amtp_store_cred_put_pending(st2, dev,
	    AMTP_CRED_MEBX, s, &ver), AMTP_E_STATE);
	amtp_store_close(st2);
	amtp_master_key_free(k2);
	amtp_secret_free(s);
}

/* Does the file contain needle? */
static int
file_has(const char *path, const char *needle)
{
	struct amtp_buf *b = NULL;
	const uint8_t *p;
	size_t len, nl = strlen(needle), i;
	int found = 0;

	if (amtp_buf_load_file(path, 64 * 1024 * 1024, &b) != 0)
		return 0;	/* missing file: nothing in it */
	p = amtp_buf_ptr(b);
	len = amtp_buf_len(b);
	for (i = 0; i + nl <= len; i++)
		if (memcmp(p + i, needle, nl) == 0) {
			found = 1;
			break;
		}
	amtp_buf_free(b);
	return found;
}

static void
test_no_secret_in_clear(void **state)
{
	static const char *const pws[] = { "Zq7!admin-Clear-Text",
	    "Zq7!mebx-Clear-Text", "Zq7!dir-Clear-Text", "Zq7!key-Clear-Text" };
	struct amtp_diracct_rec *a;
	struct amtp_cert_rec c;
	struct amtp_secret *s;
	char p[PATH_MAX + 32];
	int64_t dev, id;
	size_t i;
	int ver;
	static const char *const files[] = { "site.db", "site.db-wal" };
	size_t fi;

	(void)state;
	NEED_DB();
	dev = add_device(UUID1);
	s = secret(pws[0]);
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev,
	    AMTP_CRED_ADMIN, s, &ver), 0);
	assert_int_equal(amtp_store_cred_promote(g_st, dev, AMTP_CRED_ADMIN,
	    ver), 0);
	amtp_secret_free(s);
	s = secret(pws[1]);
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev,
	    AMTP_CRED_MEBX, s, &ver), 0);
	amtp_secret_free(s);
	a = calloc(1, sizeof(*a));
	assert_non_null(a);
	(void)snprintf(a->name, sizeof(a->name), "amt-pc1");
	(void)snprintf(a->container, sizeof(a->container),
	    "OU=AMT,DC=fleet,DC=example,DC=test");
	a->enabled = 1;
	s = secret(pws[2]);
	assert_int_equal(amtp_store_diracct_put(g_st, a, s, &id, NULL), 0);
	amtp_secret_free(s);
	free(a);
	memset(&c, 0, sizeof(c));
	(void)snprintf(c.serial, sizeof(c.serial), "01ab");
	(void)snprintf(c.profile, sizeof(c.profile), "amt-web");
	(void)snprintf(c.subject, sizeof(c.subject), "CN=pc1");
	c.not_after = 1;
	s = secret(pws[3]);
	assert_int_equal(amtp_store_cert_add(g_st, &c,
	    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
	    s, &id), 0);
	amtp_secret_free(s);
	if (g_be == BE_PG) {
		struct sqlres *res = NULL;
		const char *all;

		/* Everything in the test's schema, as one text. */
		assert_int_equal(store_q(g_st, "test", "SELECT CAST(schema_to_xml("
		    "$1, true, false, '') AS TEXT)", PARAMS(TXT(g_schema)),
		    &res), 0);
		all = store_cell(res, 0, 0);
		assert_non_null(all);
		for (i = 0; i < sizeof(pws) / sizeof(pws[0]); i++)
			assert_null(strstr(all, pws[i]));
		/* and the search can see a clear value */
		assert_non_null(strstr(all, "OU=AMT,DC=fleet"));
		assert_non_null(strstr(all, "credentials"));
		store_res_free(res);
		return;
	}
	/* The WAL holds the recent pages; then checkpoint into the file. */
	for (fi = 0; fi < 2; fi++) {
		for (i = 0; i < sizeof(pws) / sizeof(pws[0]); i++) {
			(void)snprintf(p, sizeof(p), "%s/%s", g_dir, files[fi]);
			assert_false(file_has(p, pws[i]));
		}
	}
	assert_int_equal(g_st->ops->script(g_st,
	    "PRAGMA wal_checkpoint(TRUNCATE)"), 0);
	(void)snprintf(p, sizeof(p), "%s/site.db", g_dir);
	for (i = 0; i < sizeof(pws) / sizeof(pws[0]); i++)
		assert_false(file_has(p, pws[i]));
	/* and the test can see a clear value: the search works */
	assert_true(file_has(p, "OU=AMT,DC=fleet"));
}

/* ------------------------------------------------------------------ */
/* Certificates, audit, agents, tokens, directory, settings             */
/* ------------------------------------------------------------------ */

static const char PEM[] =
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n"
    "-----END CERTIFICATE-----\n";

static void
test_certs(void **state)
{
	struct amtp_cert_rec c, g, *v = NULL;
	struct amtp_secret *key, *o = NULL;
	char *pem = NULL, *big;
	int64_t dev, id, id2;
	size_t n, total;

	(void)state;
	NEED_DB();
	dev = add_device(UUID1);
	memset(&c, 0, sizeof(c));
	c.device_id = dev;
	(void)snprintf(c.serial, sizeof(c.serial), "7F3A00");
	(void)snprintf(c.profile, sizeof(c.profile), "amt-web");
	(void)snprintf(c.subject, sizeof(c.subject),
	    "CN=pc1.fleet.example.test");
	c.not_before = 1700000000;
	c.not_after = 1800000000;
	key = secret("-----BEGIN PRIVATE KEY-----\nxyz\n");
	assert_int_equal(amtp_store_cert_add(g_st, &c, PEM, key, &id), 0);
	assert_true(id > 0);
	assert_int_equal(amtp_store_cert_add(g_st, &c, PEM, NULL, &id2),
	    AMTP_E_EXISTS);
	assert_int_equal(id2, 0);
	assert_int_equal(amtp_store_cert_get(g_st, "7f3a00", &g, &pem), 0);
	assert_string_equal(g.serial, "7f3a00");
	assert_int_equal(g.device_id, dev);
	assert_int_equal(g.not_after, 1800000000);
	assert_true(g.has_key);
	assert_int_equal(g.revoked, 0);
	assert_string_equal(pem, PEM);
	free(pem);
	assert_int_equal(amtp_store_cert_get_key(g_st, "7F3A00", &o), 0);
	assert_string_equal(amtp_secret_cstr(o),
	    "-----BEGIN PRIVATE KEY-----\nxyz\n");
	amtp_secret_free(o);
	amtp_secret_free(key);

	/* Without key, without device */
	c.device_id = 0;
	(void)snprintf(c.serial, sizeof(c.serial), "02");
	(void)snprintf(c.profile, sizeof(c.profile), "802.1x");
	assert_int_equal(amtp_store_cert_add(g_st, &c, PEM, NULL, &id2), 0);
	assert_int_equal(amtp_store_cert_get(g_st, "02", &g, NULL), 0);
	assert_false(g.has_key);
	assert_int_equal(g.device_id, 0);
	assert_int_equal(amtp_store_cert_get_key(g_st, "02", &o),
	    AMTP_E_NOTFOUND);

	/* Bad input */
	(void)snprintf(c.serial, sizeof(c.serial), "xyz");
	assert_int_equal(amtp_store_cert_add(g_st, &c, PEM, NULL, &id2),
	    AMTP_E_INVAL);
	(void)snprintf(c.serial, sizeof(c.serial), "03");
	assert_int_equal(amtp_store_cert_add(g_st, &c, "not a pem", NULL,
	    &id2), AMTP_E_INVAL);
	c.not_after = c.not_before - 1;
	assert_int_equal(amtp_store_cert_add(g_st, &c, PEM, NULL, &id2),
	    AMTP_E_INVAL);
	c.not_after = c.not_before;
	big = malloc(AMTP_STORE_PEM_MAX + 2);
	assert_non_null(big);
	memset(big, 'A', AMTP_STORE_PEM_MAX + 1);
	memcpy(big, PEM, strlen(PEM));
	big[AMTP_STORE_PEM_MAX + 1] = '\0';
	assert_int_equal(amtp_store_cert_add(g_st, &c, big, NULL, &id2),
	    AMTP_E_TOOBIG);
	big[AMTP_STORE_PEM_MAX] = '\0';			/* exactly the limit */
	assert_int_equal(amtp_store_cert_add(g_st, &c, big, NULL, &id2), 0);
	free(big);
	c.device_id = dev + 1000;
	(void)snprintf(c.serial, sizeof(c.serial), "04");
	assert_int_equal(amtp_store_cert_add(g_st, &c, PEM, NULL, &id2),
	    AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_cert_get(g_st, "05", &g, NULL),
	    AMTP_E_NOTFOUND);

	/* Revoke */
	assert_int_equal(amtp_store_cert_revoke(g_st, "7f3a00", 0), 0);
	assert_int_equal(amtp_store_cert_revoke(g_st, "7f3a00", 0),
	    AMTP_E_STATE);
	assert_int_equal(amtp_store_cert_revoke(g_st, "05", 0),
	    AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_cert_revoke(g_st, "02", 1750000000), 0);
	assert_int_equal(amtp_store_cert_get(g_st, "02", &g, NULL), 0);
	assert_int_equal(g.revoked, 1750000000);

	/* List */
	assert_int_equal(amtp_store_cert_list(g_st, 0, 0, 0, &v, &n, &total),
	    0);
	assert_int_equal(n, 3);
	assert_int_equal(total, 3);
	assert_string_equal(v[0].serial, "03");	/* newest first */
	free(v);
	assert_int_equal(amtp_store_cert_list(g_st, dev, 0, 0, &v, &n, &total),
	    0);
	assert_int_equal(n, 1);
	assert_true(v[0].revoked > 0);
	free(v);
	/* The CA's record outlives the device. */
	assert_int_equal(amtp_store_device_delete(g_st, dev), 0);
	assert_int_equal(amtp_store_cert_get(g_st, "7f3a00", &g, NULL), 0);
	assert_int_equal(g.device_id, 0);
}

static void
test_audit(void **state)
{
	struct amtp_audit_filter f;
	struct amtp_audit_rec *v = NULL;
	int64_t dev, id;
	size_t n, total;
	int i;

	(void)state;
	NEED_DB();
	dev = add_device(UUID1);
	assert_int_equal(amtp_store_audit_append(g_st, "admin:alice",
	    "device.password.reveal", dev, "kind admin v1", &id), 0);
	assert_true(id > 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(amtp_store_audit_append(g_st, "oobsp-1",
		    "job.done", dev, NULL, NULL), 0);
	assert_int_equal(amtp_store_audit_append(g_st, "admin:bob",
	    "site.init", 0, "", NULL), 0);
	assert_int_equal(amtp_store_audit_append(g_st, "", "x", 0, NULL, NULL),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_store_audit_append(g_st, "a", NULL, 0, NULL,
	    NULL), AMTP_E_INVAL);
	assert_int_equal(amtp_store_audit_append(g_st, "a", "b", -1, NULL,
	    NULL), AMTP_E_INVAL);
	assert_int_equal(amtp_store_audit_list(g_st, NULL, &v, &n, &total), 0);
	assert_int_equal(n, 7);
	assert_int_equal(total, 7);
	assert_string_equal(v[0].action, "site.init");	/* newest first */
	assert_int_equal(v[0].device_id, 0);
	assert_string_equal(v[6].actor, "admin:alice");
	assert_string_equal(v[6].detail, "kind admin v1");
	assert_true(v[6].at > 1700000000);
	free(v);
	memset(&f, 0, sizeof(f));
	f.actor = "admin:alice";
	assert_int_equal(amtp_store_audit_list(g_st, &f, &v, &n, &total), 0);
	assert_int_equal(n, 1);
	free(v);
	f.actor = NULL;
	f.device_id = dev;
	f.limit = 2;
	assert_int_equal(amtp_store_audit_list(g_st, &f, &v, &n, &total), 0);
	assert_int_equal(n, 2);
	assert_int_equal(total, 6);
	free(v);
	f.since = INT64_C(4000000000);
	assert_int_equal(amtp_store_audit_list(g_st, &f, &v, &n, &total), 0);
	assert_int_equal(n, 0);
	/* Audit survives the device. */
	assert_int_equal(amtp_store_device_delete(g_st, dev), 0);
	assert_int_equal(amtp_store_audit_list(g_st, NULL, &v, &n, &total), 0);
	assert_int_equal(n, 7);
	free(v);
}

static void
test_agents_tokens(void **state)
{
	struct amtp_agent_rec a, *av = NULL;
	struct amtp_token_rec t, *tv = NULL;
	int64_t dev, id, id2, tid, now;
	size_t n, total;

	(void)state;
	NEED_DB();
	dev = add_device(UUID1);
	assert_int_equal(amtp_store_agent_put(g_st, UUID1, "sha256:aa", 0,
	    &id), 0);
	assert_int_equal(amtp_store_agent_get(g_st, UUID1, &a), 0);
	assert_int_equal(a.device_id, 0);
	assert_string_equal(a.cred_hash, "sha256:aa");
	assert_true(a.enabled);
	assert_int_equal(a.last_seen, 0);
	assert_int_equal(amtp_store_agent_set_enabled(g_st, id, 0), 0);
	assert_int_equal(amtp_store_agent_get(g_st, UUID1, &a), 0);
	assert_false(a.enabled);
	/* replacing re-enables and binds */
	assert_int_equal(amtp_store_agent_put(g_st, UUID1, "sha256:bb", dev,
	    &id2), 0);
	assert_int_equal(id2, id);
	assert_int_equal(amtp_store_agent_touch(g_st, id), 0);
	assert_int_equal(amtp_store_agent_get(g_st, UUID1, &a), 0);
	assert_true(a.enabled);
	assert_int_equal(a.device_id, dev);
	assert_string_equal(a.cred_hash, "sha256:bb");
	assert_true(a.last_seen > 0);
	assert_int_equal(amtp_store_agent_get(g_st, "nobody", &a),
	    AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_agent_touch(g_st, id + 100),
	    AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_agent_put(g_st, "x", "", 0, NULL),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_store_agent_put(g_st, "x", "h", dev + 1000,
	    NULL), AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_agent_list(g_st, 0, 0, &av, &n, &total),
	    0);
	assert_int_equal(n, 1);
	assert_int_equal(total, 1);
	free(av);

	assert_int_equal(amtp_store_now(g_st, &now), 0);
	assert_int_equal(amtp_store_token_add(g_st, "alice", OTPH,
	    AMTP_ROLE_ADMIN, 0, &tid), 0);
	assert_int_equal(amtp_store_token_add(g_st, "again", OTPH,
	    AMTP_ROLE_READONLY, 0, NULL), AMTP_E_EXISTS);
	assert_int_equal(amtp_store_token_add(g_st, "bad", "h", AMTP_ROLE__MAX,
	    0, NULL), AMTP_E_INVAL);
	assert_int_equal(amtp_store_token_add(g_st, "old", "hash-old",
	    AMTP_ROLE_READONLY, now - 10, NULL), 0);
	assert_int_equal(amtp_store_token_add(g_st, "later", "hash-later",
	    AMTP_ROLE_READONLY, now + 3600, NULL), 0);
	assert_int_equal(amtp_store_token_find(g_st, OTPH, &t), 0);
	assert_int_equal(t.id, tid);
	assert_int_equal(t.role, AMTP_ROLE_ADMIN);
	assert_string_equal(t.name, "alice");
	assert_true(t.last_used >= now);
	assert_int_equal(amtp_store_token_find(g_st, "hash-old", &t),
	    AMTP_E_NOTFOUND);	/* expired */
	assert_int_equal(amtp_store_token_find(g_st, "hash-later", &t), 0);
	assert_int_equal(t.role, AMTP_ROLE_READONLY);
	assert_int_equal(amtp_store_token_find(g_st, "unknown", &t),
	    AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_token_revoke(g_st, tid), 0);
	assert_int_equal(amtp_store_token_revoke(g_st, tid), AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_token_find(g_st, OTPH, &t),
	    AMTP_E_NOTFOUND);	/* revoked */
	assert_int_equal(amtp_store_token_list(g_st, &tv, &n), 0);
	assert_int_equal(n, 3);
	assert_true(tv[0].revoked > 0);
	free(tv);
}

static void
test_diracct(void **state)
{
	struct amtp_diracct_rec *a, *b, *v = NULL;
	struct amtp_secret *pw, *pw2, *o = NULL;
	int64_t dev, id, id2;
	size_t n, total;
	int created;

	(void)state;
	NEED_DB();
	dev = add_device(UUID1);
	a = calloc(1, sizeof(*a));
	b = calloc(1, sizeof(*b));
	assert_non_null(a);
	assert_non_null(b);
	(void)snprintf(a->name, sizeof(a->name), "AMT-PC1");
	(void)snprintf(a->container, sizeof(a->container),
	    "OU=AMT,DC=fleet,DC=example,DC=test");
	a->device_id = dev;
	a->enabled = 1;
	a->n_spns = 4;
	(void)snprintf(a->spns[0], sizeof(a->spns[0]),
	    "HTTP/pc1.fleet.example.test:16992");
	(void)snprintf(a->spns[1], sizeof(a->spns[1]),
	    "HTTP/pc1.fleet.example.test:16993");
	(void)snprintf(a->spns[2], sizeof(a->spns[2]), "HTTP/pc1:16992");
	(void)snprintf(a->spns[3], sizeof(a->spns[3]), "HTTP/pc1:16993");
	pw = secret("Dir!Pass-0001");
	pw2 = secret("Dir!Pass-0002");
	/* a new account needs a password */
	assert_int_equal(amtp_store_diracct_put(g_st, a, NULL, &id, &created),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_store_diracct_put(g_st, a, pw, &id, &created), 0);
	assert_int_equal(created, 1);
	assert_int_equal(amtp_store_diracct_get(g_st, "amt-pc1", b), 0);
	assert_int_equal(b->id, id);
	assert_string_equal(b->name, "AMT-PC1");
	assert_int_equal(b->n_spns, 4);
	assert_string_equal(b->spns[2], "HTTP/pc1:16992");
	assert_int_equal(b->device_id, dev);
	assert_true(b->enabled);
	assert_int_equal(amtp_store_diracct_get_password(g_st, "Amt-Pc1", &o),
	    0);
	assert_string_equal(amtp_secret_cstr(o), "Dir!Pass-0001");
	amtp_secret_free(o);
	assert_int_equal(amtp_store_diracct_find_spn(g_st,
	    "http/PC1.fleet.example.test:16993", b), 0);
	assert_int_equal(b->id, id);
	assert_int_equal(amtp_store_diracct_get_device(g_st, dev, b), 0);
	assert_int_equal(b->id, id);

	/* Update without a password keeps it; SPN list replaced. */
	a->n_spns = 1;
	a->enabled = 0;
	assert_int_equal(amtp_store_diracct_put(g_st, a, NULL, &id2, &created),
	    0);
	assert_int_equal(created, 0);
	assert_int_equal(id2, id);
	assert_int_equal(amtp_store_diracct_get(g_st, "AMT-PC1", b), 0);
	assert_int_equal(b->n_spns, 1);
	assert_false(b->enabled);
	assert_int_equal(amtp_store_diracct_find_spn(g_st, "HTTP/pc1:16992",
	    b), AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_diracct_get_password(g_st, "amt-pc1", &o),
	    0);
	assert_string_equal(amtp_secret_cstr(o), "Dir!Pass-0001");
	amtp_secret_free(o);
	assert_int_equal(amtp_store_diracct_put(g_st, a, pw2, NULL, NULL), 0);
	assert_int_equal(amtp_store_diracct_get_password(g_st, "amt-pc1", &o),
	    0);
	assert_string_equal(amtp_secret_cstr(o), "Dir!Pass-0002");
	amtp_secret_free(o);

	/* An SPN belongs to one account only. */
	(void)snprintf(a->name, sizeof(a->name), "amt-pc2");
	(void)snprintf(a->container, sizeof(a->container), "OU=Other");
	a->device_id = 0;
	a->n_spns = 1;	/* spns[0] is AMT-PC1's */
	assert_int_equal(amtp_store_diracct_put(g_st, a, pw, &id2, &created),
	    AMTP_E_CONFLICT);
	assert_int_equal(amtp_store_diracct_get(g_st, "amt-pc2", b),
	    AMTP_E_NOTFOUND);	/* rolled back */
	/* the same SPN twice in one list */
	a->n_spns = 2;
	(void)snprintf(a->spns[0], sizeof(a->spns[0]), "HTTP/pc2:16992");
	(void)snprintf(a->spns[1], sizeof(a->spns[1]), "http/PC2:16992");
	assert_int_equal(amtp_store_diracct_put(g_st, a, pw, &id2, &created),
	    AMTP_E_INVAL);
	a->n_spns = AMTP_STORE_SPNS_MAX + 1;
	assert_int_equal(amtp_store_diracct_put(g_st, a, pw, &id2, &created),
	    AMTP_E_INVAL);
	a->n_spns = 1;
	assert_int_equal(amtp_store_diracct_put(g_st, a, pw, &id2, &created),
	    0);
	assert_int_equal(created, 1);

	/* List by container (case-insensitive) */
	assert_int_equal(amtp_store_diracct_list(g_st, NULL, 0, 0, &v, &n,
	    &total), 0);
	assert_int_equal(n, 2);
	assert_int_equal(total, 2);
	assert_string_equal(v[0].name, "AMT-PC1");
	assert_int_equal(v[0].n_spns, 1);
	assert_string_equal(v[1].spns[0], "HTTP/pc2:16992");
	free(v);
	assert_int_equal(amtp_store_diracct_list(g_st, "ou=other", 0, 0, &v,
	    &n, &total), 0);
	assert_int_equal(n, 1);
	assert_int_equal(total, 1);
	assert_string_equal(v[0].name, "amt-pc2");
	free(v);

	assert_int_equal(amtp_store_diracct_set_enabled(g_st, "amt-pc2", 0),
	    0);
	assert_int_equal(amtp_store_diracct_set_enabled(g_st, "none", 0),
	    AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_diracct_delete(g_st, "AMT-PC2"), 0);
	assert_int_equal(amtp_store_diracct_delete(g_st, "AMT-PC2"),
	    AMTP_E_NOTFOUND);
	/* its SPN is free again */
	assert_int_equal(amtp_store_diracct_find_spn(g_st, "HTTP/pc2:16992",
	    b), AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_diracct_get_device(g_st, 0, b),
	    AMTP_E_INVAL);
	amtp_secret_free(pw);
	amtp_secret_free(pw2);
	free(a);
	free(b);
}

static void
test_settings_delete(void **state)
{
	struct amtp_cred_rec *cv = NULL;
	struct amtp_job_rec j;
	struct amtp_secret *s;
	char v[32], tiny[4];
	int64_t dev, jid;
	size_t n;
	int ver;

	(void)state;
	NEED_DB();
	assert_int_equal(amtp_store_setting_get(g_st, "domain", v, sizeof(v)),
	    AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_setting_set(g_st, "domain",
	    "fleet.example.test"), 0);
	assert_int_equal(amtp_store_setting_set(g_st, "domain",
	    "corp.example.test"), 0);
	assert_int_equal(amtp_store_setting_get(g_st, "domain", v, sizeof(v)),
	    0);
	assert_string_equal(v, "corp.example.test");
	assert_int_equal(amtp_store_setting_get(g_st, "domain", tiny,
	    sizeof(tiny)), AMTP_E_TOOBIG);
	assert_int_equal(amtp_store_setting_set(g_st, "", "x"), AMTP_E_INVAL);
	assert_int_equal(amtp_store_setting_set(g_st, "k", NULL), AMTP_E_INVAL);

	/* Deleting a device removes its jobs and credentials. */
	dev = add_device(UUID1);
	assert_int_equal(amtp_store_job_enqueue(g_st, dev, AMTP_JOB_PROVISION,
	    &jid, NULL), 0);
	s = secret("Del!Pass-1234");
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev,
	    AMTP_CRED_ADMIN, s, &ver), 0);
	amtp_secret_free(s);
	assert_int_equal(amtp_store_device_delete(g_st, dev), 0);
	assert_int_equal(amtp_store_device_delete(g_st, dev), AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_job_get(g_st, jid, &j), AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_cred_list(g_st, dev, &cv, &n), 0);
	assert_int_equal(n, 0);
	/* Ids are not reused: AAD of a new device's rows never matches an
	 * old one's. */
	assert_true(add_device(UUID2) > dev);
}

/*
 * The service point's batched step log: the rows of several jobs under one
 * commit, whole rows (start and end at once), ends of written rows, a
 * finish and a requeue joining the batch; a job whose lease was taken rolls
 * back alone (its unit) while the others are written.
 */
static void
test_job_step_log_batch(void **state)
{
	struct amtp_job_rec j;
	struct amtp_step_rec *steps = NULL;
	int64_t d1, d2, j1, j2, open1 = 0, whole = 0;
	size_t n;

	(void)state;
	NEED_DB();
	d1 = add_device(UUID1);
	d2 = add_device(UUID2);
	assert_int_equal(amtp_store_job_enqueue(g_st, d1, AMTP_JOB_PROVISION,
	    &j1, NULL), 0);
	assert_int_equal(amtp_store_job_enqueue(g_st, d2, AMTP_JOB_PROVISION,
	    &j2, NULL), 0);
	assert_int_equal(amtp_store_job_claim(g_st, "sp1", 30, &j), 0);
	assert_int_equal(amtp_store_job_claim(g_st, "sp1", 30, &j), 0);

	/* bad arguments */
	assert_int_equal(amtp_store_job_step_log(g_st, j1, "sp1", "connect",
	    &whole, AMTP_STEP_OUTCOME__MAX, NULL), AMTP_E_INVAL);
	open1 = 5;
	assert_int_equal(amtp_store_job_step_log(g_st, j1, "sp1", NULL,
	    &open1, AMTP_STEP_STARTED, NULL), AMTP_E_INVAL);
	open1 = 0;

	assert_int_equal(amtp_store_batch_begin(g_st), 0);
	/* job 1: a whole row, then an open one (refused in a batch that
	 * does not allow nesting) */
	assert_int_equal(amtp_store_batch_unit_begin(g_st), 0);
	assert_int_equal(amtp_store_job_step_log(g_st, j1, "sp1", "connect",
	    &whole, AMTP_STEP_OK, "12 ms"), AMTP_E_INTERNAL);
	amtp_store_batch_nest(g_st, 1);
	assert_int_equal(amtp_store_job_step_log(g_st, j1, "sp1", "connect",
	    &whole, AMTP_STEP_OK, "12 ms"), 0);
	assert_int_equal(whole, 0);	/* a whole row gives no id */
	assert_int_equal(amtp_store_job_step_log(g_st, j1, "sp1",
	    "read-facts", &open1, AMTP_STEP_STARTED, NULL), 0);
	assert_int_equal(amtp_store_batch_unit_end(g_st, 0), 0);
	/* job 2: held by sp1, written as sp2: its unit fails alone */
	assert_int_equal(amtp_store_batch_unit_begin(g_st), 0);
	whole = 0;
	assert_int_equal(amtp_store_batch_unit_end(g_st,
	    amtp_store_job_step_log(g_st, j2, "sp2", "connect", &whole,
	    AMTP_STEP_OK, NULL)), AMTP_E_CONFLICT);
	amtp_store_batch_nest(g_st, 0);
	assert_int_equal(amtp_store_batch_end(g_st, 0), 0);
	assert_true(open1 > 0);

	assert_int_equal(amtp_store_job_steps(g_st, j1, &steps, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(steps[0].step, "connect");
	assert_int_equal(steps[0].outcome, AMTP_STEP_OK);
	assert_true(steps[0].ended >= steps[0].started && steps[0].ended > 0);
	assert_string_equal(steps[0].detail, "12 ms");
	assert_string_equal(steps[1].step, "read-facts");
	assert_int_equal(steps[1].outcome, AMTP_STEP_STARTED);
	assert_int_equal(steps[1].ended, 0);
	free(steps);
	assert_int_equal(amtp_store_job_steps(g_st, j2, &steps, &n), 0);
	assert_int_equal(n, 0);
	free(steps);

	/* next flush: the open row ends failed, job 1 finishes, job 2 is
	 * requeued (which closes nothing: it has no open row) */
	assert_int_equal(amtp_store_batch_begin(g_st), 0);
	amtp_store_batch_nest(g_st, 1);
	assert_int_equal(amtp_store_batch_unit_begin(g_st), 0);
	assert_int_equal(amtp_store_job_step_log(g_st, j1, "sp1", NULL,
	    &open1, AMTP_STEP_FAILED, "no answer"), 0);
	assert_int_equal(amtp_store_job_finish(g_st, j1, "sp1",
	    AMTP_JOB_FAILED, "read-facts: no answer"), 0);
	assert_int_equal(amtp_store_batch_unit_end(g_st, 0), 0);
	assert_int_equal(amtp_store_batch_unit_begin(g_st), 0);
	assert_int_equal(amtp_store_job_requeue(g_st, j2, "sp1", 0,
	    "device reset"), 0);
	assert_int_equal(amtp_store_batch_unit_end(g_st, 0), 0);
	amtp_store_batch_nest(g_st, 0);
	assert_int_equal(amtp_store_batch_end(g_st, 0), 0);

	assert_int_equal(amtp_store_job_get(g_st, j1, &j), 0);
	assert_int_equal(j.state, AMTP_JOB_FAILED);
	assert_string_equal(j.step, "read-facts");
	assert_string_equal(j.last_error, "read-facts: no answer");
	assert_int_equal(amtp_store_job_steps(g_st, j1, &steps, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(steps[1].outcome, AMTP_STEP_FAILED);
	assert_string_equal(steps[1].detail, "no answer");
	free(steps);
	assert_int_equal(amtp_store_job_get(g_st, j2, &j), 0);
	assert_int_equal(j.state, AMTP_JOB_QUEUED);
	assert_string_equal(j.last_error, "device reset");
	/* a row ends once */
	assert_int_equal(amtp_store_job_claim(g_st, "sp1", 30, &j), 0);
	assert_int_equal(amtp_store_job_step_log(g_st, j1, "sp1", NULL,
	    &open1, AMTP_STEP_OK, NULL), AMTP_E_CONFLICT);
}

/* Unprovision: the pending and current versions retired, with a record;
 * the retired values still open; other kinds and devices untouched. */
static void
test_cred_retire(void **state)
{
	struct amtp_secret *s1, *s2, *s3, *o = NULL;
	struct amtp_cred_rec *v = NULL;
	struct amtp_audit_filter f;
	struct amtp_audit_rec *a = NULL;
	int64_t dev, dev2;
	int ver, got, n = -1;
	size_t nv, na, total, i;

	(void)state;
	NEED_DB();
	dev = add_device(UUID1);
	dev2 = add_device(UUID2);
	s1 = secret("Adm1n!first-Pass");
	s2 = secret("Adm1n!second-Pass");
	s3 = secret("Mebx#Pass-0001");
	/* admin: v1 current, v2 pending; mebx v1 current; dev2 admin v1 */
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev,
	    AMTP_CRED_ADMIN, s1, &ver), 0);
	assert_int_equal(amtp_store_cred_promote(g_st, dev, AMTP_CRED_ADMIN,
	    ver), 0);
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev,
	    AMTP_CRED_ADMIN, s2, &ver), 0);
	assert_int_equal(ver, 2);
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev,
	    AMTP_CRED_MEBX, s3, &ver), 0);
	assert_int_equal(amtp_store_cred_promote(g_st, dev, AMTP_CRED_MEBX,
	    ver), 0);
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev2,
	    AMTP_CRED_ADMIN, s1, &ver), 0);
	assert_int_equal(amtp_store_cred_promote(g_st, dev2, AMTP_CRED_ADMIN,
	    ver), 0);

	/* bad arguments change nothing */
	assert_int_equal(amtp_store_cred_retire(g_st, dev,
	    AMTP_CRED_KIND__MAX, "oobsp-1", NULL, &n), AMTP_E_INVAL);
	assert_int_equal(n, 0);
	assert_int_equal(amtp_store_cred_retire(g_st, dev, AMTP_CRED_ADMIN,
	    "", NULL, &n), AMTP_E_INVAL);
	assert_int_equal(amtp_store_cred_retire(g_st, dev, AMTP_CRED_ADMIN,
	    NULL, NULL, &n), AMTP_E_INVAL);
	assert_int_equal(amtp_store_cred_retire(g_st, dev + 1000,
	    AMTP_CRED_ADMIN, "oobsp-1", NULL, &n), AMTP_E_NOTFOUND);
	assert_int_equal(n, 0);
	assert_int_equal(amtp_store_cred_get(g_st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_CURRENT, &got, &o), 0);
	assert_int_equal(got, 1);
	amtp_secret_free(o);

	/* admin: both versions go */
	assert_int_equal(amtp_store_cred_retire(g_st, dev, AMTP_CRED_ADMIN,
	    "oobsp-1", "unprovisioned by job 7", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(amtp_store_cred_get(g_st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_CURRENT, &got, &o), AMTP_E_NOTFOUND);
	assert_null(o);
	assert_int_equal(amtp_store_cred_get(g_st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_PENDING, &got, &o), AMTP_E_NOTFOUND);
	/* ... still readable for an admin's audit */
	assert_int_equal(amtp_store_cred_get(g_st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_RETIRED, &got, &o), 0);
	assert_int_equal(got, 2);
	assert_string_equal(amtp_secret_cstr(o), "Adm1n!second-Pass");
	amtp_secret_free(o);
	assert_int_equal(amtp_store_cred_get_version(g_st, dev,
	    AMTP_CRED_ADMIN, 1, &o), 0);
	assert_string_equal(amtp_secret_cstr(o), "Adm1n!first-Pass");
	amtp_secret_free(o);
	/* a retired version cannot come back */
	assert_int_equal(amtp_store_cred_promote(g_st, dev, AMTP_CRED_ADMIN,
	    2), AMTP_E_STATE);
	/* the other kind and the other device are untouched */
	assert_int_equal(amtp_store_cred_get(g_st, dev, AMTP_CRED_MEBX,
	    AMTP_CRED_CURRENT, &got, &o), 0);
	amtp_secret_free(o);
	assert_int_equal(amtp_store_cred_get(g_st, dev2, AMTP_CRED_ADMIN,
	    AMTP_CRED_CURRENT, &got, &o), 0);
	amtp_secret_free(o);
	/* twice: nothing to do, no second record */
	assert_int_equal(amtp_store_cred_retire(g_st, dev, AMTP_CRED_ADMIN,
	    "oobsp-1", "unprovisioned by job 7", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(amtp_store_cred_retire(g_st, dev, AMTP_CRED_MEBX,
	    "oobsp-1", NULL, NULL), 0);
	assert_int_equal(amtp_store_cred_retire(g_st, dev,
	    AMTP_CRED_DIRECTORY, "oobsp-1", NULL, &n), 0);
	assert_int_equal(n, 0);

	/* a new provisioning starts at the next version */
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev,
	    AMTP_CRED_ADMIN, s3, &ver), 0);
	assert_int_equal(ver, 3);

	assert_int_equal(amtp_store_cred_list(g_st, dev, &v, &nv), 0);
	assert_int_equal(nv, 4);
	assert_int_equal(v[0].state, AMTP_CRED_RETIRED);
	assert_int_equal(v[1].state, AMTP_CRED_RETIRED);
	assert_int_equal(v[2].state, AMTP_CRED_PENDING);
	assert_int_equal(v[3].kind, AMTP_CRED_MEBX);
	assert_int_equal(v[3].state, AMTP_CRED_RETIRED);
	free(v);

	/* the records: one per retire that retired something */
	memset(&f, 0, sizeof(f));
	f.device_id = dev;
	assert_int_equal(amtp_store_audit_list(g_st, &f, &a, &na, &total), 0);
	assert_int_equal(na, 2);
	for (i = 0; i < na; i++) {
		assert_string_equal(a[i].action, "device.password.retired");
		assert_string_equal(a[i].actor, "oobsp-1");
	}
	assert_string_equal(a[0].detail, "kind mebx: v1 (current) retired");
	assert_string_equal(a[1].detail, "kind admin: v1 (current), v2 "
	    "(pending) retired: unprovisioned by job 7");
	free(a);
	f.device_id = dev2;
	assert_int_equal(amtp_store_audit_list(g_st, &f, &a, &na, &total), 0);
	assert_int_equal(na, 0);
	free(a);
	amtp_secret_free(s1);
	amtp_secret_free(s2);
	amtp_secret_free(s3);
}

/*
 * Nested transactions inside a batch (amtp_store_batch_nest), as the site's
 * group commit uses them for the built-in directory: without the switch a
 * credential write inside a batch is refused; with it, escrow and promotion
 * run under nested savepoints, a failing one is undone alone, and nothing
 * is visible to another connection before the batch commits.
 */
static void
test_batch_nested(void **state)
{
	struct amtp_store *other = NULL;
	struct amtp_secret *pw = NULL, *got = NULL;
	struct amtp_cred_rec *cv = NULL;
	char err[256];
	int64_t dev;
	int v = 0, v2 = 0;
	size_t n;

	(void)state;
	NEED_DB();
	dev = add_device(UUID1);
	pw = secret("Dir-Acct-Pw-01!");
	assert_int_equal(amtp_store_open(g_uri, g_key, &other, err,
	    sizeof(err)), 0);
	assert_int_equal(amtp_store_batch_begin(g_st), 0);
	assert_int_equal(amtp_store_batch_unit_begin(g_st), 0);
	/* not allowed: the old rule */
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev,
	    AMTP_CRED_DIRECTORY, pw, &v), AMTP_E_INTERNAL);
	amtp_store_batch_nest(g_st, 1);
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev,
	    AMTP_CRED_DIRECTORY, pw, &v), 0);
	assert_true(v > 0);
	/* a nested write that fails is undone alone (no such version) */
	assert_int_equal(amtp_store_cred_promote(g_st, dev,
	    AMTP_CRED_DIRECTORY, v + 7), AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_cred_promote(g_st, dev,
	    AMTP_CRED_DIRECTORY, v), 0);
	amtp_store_batch_nest(g_st, 0);
	assert_int_equal(amtp_store_batch_unit_end(g_st, 0), 0);
	/* another connection sees nothing before the commit */
	assert_int_equal(amtp_store_cred_list(other, dev, &cv, &n), 0);
	assert_int_equal(n, 0);
	free(cv);
	cv = NULL;
	assert_int_equal(amtp_store_batch_end(g_st, 0), 0);
	assert_int_equal(amtp_store_cred_get(other, dev, AMTP_CRED_DIRECTORY,
	    AMTP_CRED_CURRENT, &v2, &got), 0);
	assert_int_equal(v2, v);
	assert_string_equal(amtp_secret_cstr(got), "Dir-Acct-Pw-01!");
	amtp_secret_free(got);
	got = NULL;

	/* a unit whose nested write fails, returned as the unit's error:
	 * the whole unit is undone, the batch goes on */
	assert_int_equal(amtp_store_batch_begin(g_st), 0);
	assert_int_equal(amtp_store_batch_unit_begin(g_st), 0);
	amtp_store_batch_nest(g_st, 1);
	assert_int_equal(amtp_store_cred_put_pending(g_st, dev,
	    AMTP_CRED_DIRECTORY, pw, &v2), 0);
	amtp_store_batch_nest(g_st, 0);
	assert_int_equal(amtp_store_batch_unit_end(g_st, AMTP_E_IO),
	    AMTP_E_IO);
	assert_int_equal(amtp_store_batch_end(g_st, 0), 0);
	assert_int_equal(amtp_store_cred_get(other, dev, AMTP_CRED_DIRECTORY,
	    AMTP_CRED_PENDING, &v2, &got), AMTP_E_NOTFOUND);
	amtp_store_close(other);
	amtp_secret_free(pw);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	/* Run on both back ends. */
	const struct CMUnitTest tests[] = {
		T(test_open_migrate),
		T(test_open_newer_schema),
		T(test_device_upsert),
		T(test_device_status_facts),
		T(test_device_otp),
		T(test_device_list),
		T(test_job_enqueue_claim),
		T(test_job_requeue_cancel_retry),
		T(test_job_step_log_batch),
		T(test_batch_nested),
		T(test_job_lease_takeover),
		T(test_cred_escrow),
		T(test_cred_sealing),
		T(test_no_secret_in_clear),
		T(test_certs),
		T(test_audit),
		T(test_agents_tokens),
		T(test_diracct),
		T(test_settings_delete),
		T(test_cred_retire),
	};
	/* Independent of the back end, or about the SQLite file. */
	const struct CMUnitTest once[] = {
		T(test_open_bad_uri),
		T(test_sqlite_file_mode),
		T(test_sqlite_memory),
		T(test_vocabulary),
	};
	/* About the PostgreSQL connection. */
	const struct CMUnitTest pg_only[] = {
		T(test_pg_reconnect),
	};
	int fails = 0;

	fails += cmocka_run_group_tests_name("store_sqlite", tests,
	    group_sqlite, NULL);
	fails += cmocka_run_group_tests_name("store_sqlite_only", once,
	    group_sqlite, NULL);
	fails += cmocka_run_group_tests_name("store_postgresql", tests,
	    group_pg, group_pg_end);
	fails += cmocka_run_group_tests_name("store_postgresql_only", pg_only,
	    group_pg, group_pg_end);
	return fails;
}
