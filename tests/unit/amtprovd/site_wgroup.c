/* Unit tests for src/amtprovd/site/wgroup.c (group commit) and
 * src/amtprovd/store/store_batch.c, on a real SQLite file
 * (synchronous=FULL, WAL) and, with AMTP_TEST_PG set, on PostgreSQL. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "amtprov/err.h"
#include "amtprov/secret.h"

#include "site/wgroup.h"
#include "store/store.h"

#define THREADS		8
#define PER_THREAD	40
#define FAIL_EVERY	5	/* every 5th unit fails after writing */

static struct amtp_master_key *g_key;
static char g_dir[64];
static char g_uri[512];

static int
setup(void **state)
{
	uint8_t k[32];

	(void)state;
	memset(k, 7, sizeof(k));
	if (amtp_master_key_from_bytes(k, &g_key) != 0)
		return -1;
	snprintf(g_dir, sizeof(g_dir), "/tmp/amtp_wgroup.XXXXXX");
	if (mkdtemp(g_dir) == NULL)
		return -1;
	snprintf(g_uri, sizeof(g_uri), "sqlite:%s/site.db", g_dir);
	return 0;
}

static int
teardown(void **state)
{
	char p[128];

	(void)state;
	snprintf(p, sizeof(p), "%s/site.db", g_dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/site.db-wal", g_dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/site.db-shm", g_dir);
	unlink(p);
	rmdir(g_dir);
	amtp_master_key_free(g_key);
	return 0;
}

static void
uuid_of(unsigned n, char *dst, size_t dstsz)
{
	snprintf(dst, dstsz, "00000000-0000-4000-8000-%012u", n);
}

struct unit_arg {
	unsigned	n;
	int		fail;		/* write, then fail */
	int		nested;		/* call a tx-opening function */
	int64_t		id;
};

static int
unit(struct amtp_store *st, void *arg)
{
	struct unit_arg *a = arg;
	struct amtp_device_in di;
	struct amtp_device_facts f;
	char uuid[40];
	int r;

	uuid_of(a->n, uuid, sizeof(uuid));
	memset(&di, 0, sizeof(di));
	di.uuid = uuid;
	di.hostname = "pc";
	if ((r = amtp_store_device_upsert(st, &di, &a->id, NULL)) != 0)
		return r;
	if (a->nested) {
		memset(&f, 0, sizeof(f));
		return amtp_store_device_set_facts(st, a->id, &f);
	}
	if ((r = amtp_store_device_set_status(st, a->id,
	    AMTP_AMT_NOT_PROVISIONED, "grouped")) != 0)
		return r;
	return a->fail ? AMTP_E_INVAL : 0;
}

struct worker {
	struct site_wgroup *g;
	unsigned	 base;
	int		 bad;		/* unexpected answers */
};

static void *
worker_main(void *p)
{
	struct worker *w = p;
	struct unit_arg a;
	unsigned i;
	int r;

	for (i = 0; i < PER_THREAD; i++) {
		memset(&a, 0, sizeof(a));
		a.n = w->base + i;
		a.fail = a.n % FAIL_EVERY == 0;
		r = site_wgroup_run(w->g, unit, &a);
		if (r != (a.fail ? AMTP_E_INVAL : 0))
			w->bad++;
	}
	return NULL;
}

/* Every unit that succeeded is in the database, every failed one left
 * nothing, and concurrent units shared commits. */
static void
test_group_commit(void **state)
{
	struct site_wgroup *g = NULL;
	struct amtp_store *st = NULL;
	struct amtp_device_rec d;
	struct worker w[THREADS];
	pthread_t t[THREADS];
	uint64_t commits, units;
	char err[256], uuid[40];
	unsigned i, n, present = 0;
	int r;

	(void)state;
	assert_int_equal(site_wgroup_new(g_uri, g_key, &g, err, sizeof(err)),
	    0);
	for (i = 0; i < THREADS; i++) {
		w[i].g = g;
		w[i].base = 1 + i * PER_THREAD;
		w[i].bad = 0;
		assert_int_equal(pthread_create(&t[i], NULL, worker_main,
		    &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].bad, 0);
	}
	site_wgroup_stats(g, &commits, &units);
	assert_int_equal(units, THREADS * PER_THREAD);
	assert_true(commits >= 1);
	assert_true(commits < units);	/* some commits carried several */
	print_message("group commit: %llu units in %llu commits\n",
	    (unsigned long long)units, (unsigned long long)commits);
	/* read back through another connection */
	assert_int_equal(amtp_store_open(g_uri, g_key, &st, err, sizeof(err)),
	    0);
	for (n = 1; n <= THREADS * PER_THREAD; n++) {
		uuid_of(n, uuid, sizeof(uuid));
		r = amtp_store_device_get_uuid(st, uuid, &d);
		if (n % FAIL_EVERY == 0)
			assert_int_equal(r, AMTP_E_NOTFOUND);
		else {
			assert_int_equal(r, 0);
			assert_int_equal(d.status, AMTP_AMT_NOT_PROVISIONED);
			assert_string_equal(d.status_reason, "grouped");
			present++;
		}
	}
	assert_int_equal(present, THREADS * PER_THREAD -
	    THREADS * PER_THREAD / FAIL_EVERY);
	amtp_store_close(st);
	site_wgroup_free(g);
}

/* A solo: a device, then its facts through a function that opens its own
 * transaction (refused inside a batch, fine alone). */
static int
solo(struct amtp_store *st, void *arg)
{
	struct unit_arg *a = arg;
	struct amtp_device_in di;
	struct amtp_device_facts *f;
	char uuid[40];
	int r;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return AMTP_E_NOMEM;
	uuid_of(a->n, uuid, sizeof(uuid));
	memset(&di, 0, sizeof(di));
	di.uuid = uuid;
	snprintf(f->amt_version, sizeof(f->amt_version), "%u", a->n);
	if ((r = amtp_store_device_upsert(st, &di, &a->id, NULL)) == 0)
		r = amtp_store_device_set_facts(st, a->id, f);
	free(f);
	return r;
}

static void *
solo_main(void *p)
{
	struct worker *w = p;
	struct unit_arg a;
	unsigned i;

	for (i = 0; i < PER_THREAD; i++) {
		memset(&a, 0, sizeof(a));
		a.n = w->base + i;
		if (site_wgroup_solo(w->g, solo, &a) != 0)
			w->bad++;
	}
	return NULL;
}

/* Solos take turns with batches: all of both are there at the end. */
static void
test_solo_with_batches(void **state)
{
	struct site_wgroup *g = NULL;
	struct amtp_store *st = NULL;
	struct amtp_device_facts *f;
	struct amtp_device_rec d;
	struct worker w[4];
	pthread_t t[4];
	char err[256], uuid[40], want[16];
	unsigned i, n;

	(void)state;
	assert_non_null(f = calloc(1, sizeof(*f)));
	assert_int_equal(site_wgroup_new(g_uri, g_key, &g, err, sizeof(err)),
	    0);
	for (i = 0; i < 4; i++) {
		w[i].g = g;
		w[i].base = 200001 + i * PER_THREAD;
		w[i].bad = 0;
		assert_int_equal(pthread_create(&t[i], NULL, i == 0 ?
		    solo_main : worker_main, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].bad, 0);
	}
	assert_int_equal(amtp_store_open(g_uri, g_key, &st, err, sizeof(err)),
	    0);
	for (n = 200001; n < 200001 + PER_THREAD; n++) {
		uuid_of(n, uuid, sizeof(uuid));
		assert_int_equal(amtp_store_device_get_uuid(st, uuid, &d), 0);
		assert_int_equal(amtp_store_device_get_facts(st, d.id, f), 0);
		snprintf(want, sizeof(want), "%u", n);
		assert_string_equal(f->amt_version, want);
	}
	for (; n < 200001 + 4 * PER_THREAD; n++) {
		uuid_of(n, uuid, sizeof(uuid));
		assert_int_equal(amtp_store_device_get_uuid(st, uuid, &d),
		    n % FAIL_EVERY == 0 ? AMTP_E_NOTFOUND : 0);
	}
	amtp_store_close(st);
	site_wgroup_free(g);
	free(f);
}

/* A unit that calls a function with its own transaction fails alone. */
static void
test_nested_refused(void **state)
{
	struct site_wgroup *g = NULL;
	struct unit_arg a;
	char err[256];

	(void)state;
	assert_int_equal(site_wgroup_new(g_uri, g_key, &g, err, sizeof(err)),
	    0);
	memset(&a, 0, sizeof(a));
	a.n = 100001;
	a.nested = 1;
	assert_int_equal(site_wgroup_run(g, unit, &a), AMTP_E_INTERNAL);
	memset(&a, 0, sizeof(a));
	a.n = 100002;
	assert_int_equal(site_wgroup_run(g, unit, &a), 0);
	assert_true(a.id > 0);
	site_wgroup_free(g);
	/* a database that cannot be opened: an error and no group */
	g = (struct site_wgroup *)&a;
	assert_int_not_equal(site_wgroup_new("sqlite:/nonexistent/dir/x.db",
	    g_key, &g, err, sizeof(err)), 0);
	assert_null(g);
}

/* store_batch.c: the calls that need a batch refuse to run outside one;
 * set_facts inside one writes the facts, or NOTFOUND for no device. */
static void
test_batch_calls(void **state)
{
	struct amtp_store *st = NULL;
	struct amtp_device_facts *f, *got;
	struct amtp_device_in di;
	int64_t id = 0;
	char err[256];

	(void)state;
	f = calloc(1, sizeof(*f));
	got = calloc(1, sizeof(*got));
	assert_non_null(f);
	assert_non_null(got);
	assert_int_equal(amtp_store_open(g_uri, g_key, &st, err, sizeof(err)),
	    0);
	snprintf(f->amt_version, sizeof(f->amt_version), "16.1.25");
	snprintf(f->fw_uuid, sizeof(f->fw_uuid),
	    "4C4C4544-0000-1111-8888-00000000000A");
	f->n_root_hashes = 1;
	memset(f->root_hashes[0].hex, 'a', 64);
	assert_int_equal(amtp_store_batch_active(st), 0);
	assert_int_equal(amtp_store_batch_set_facts(st, 1, f), AMTP_E_STATE);
	assert_int_equal(amtp_store_batch_unit_begin(st), AMTP_E_STATE);
	assert_int_equal(amtp_store_batch_unit_end(st, 0), AMTP_E_STATE);
	assert_int_equal(amtp_store_batch_end(st, 0), AMTP_E_STATE);
	memset(&di, 0, sizeof(di));
	di.uuid = "00000000-0000-4000-8000-999999999999";
	assert_int_equal(amtp_store_batch_begin(st), 0);
	assert_int_equal(amtp_store_batch_active(st), 1);
	assert_int_equal(amtp_store_batch_begin(st), AMTP_E_INTERNAL);
	assert_int_equal(amtp_store_device_upsert(st, &di, &id, NULL), 0);
	assert_int_equal(amtp_store_batch_set_facts(st, id + 1000, f),
	    AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_batch_set_facts(st, id, f), 0);
	/* a bad hash is refused before any SQL */
	f->root_hashes[0].hex[3] = 'G';
	assert_int_equal(amtp_store_batch_set_facts(st, id, f),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_store_batch_end(st, 0), 0);
	assert_int_equal(amtp_store_device_get_facts(st, id, got), 0);
	assert_string_equal(got->amt_version, "16.1.25");
	assert_string_equal(got->fw_uuid,
	    "4c4c4544-0000-1111-8888-00000000000a");
	assert_int_equal(got->n_root_hashes, 1);
	/* a batch rolled back leaves nothing */
	di.uuid = "00000000-0000-4000-8000-999999999998";
	assert_int_equal(amtp_store_batch_begin(st), 0);
	assert_int_equal(amtp_store_device_upsert(st, &di, &id, NULL), 0);
	assert_int_equal(amtp_store_batch_end(st, AMTP_E_IO), AMTP_E_IO);
	assert_int_equal(amtp_store_batch_active(st), 0);
	assert_int_equal(amtp_store_device_get_uuid(st, di.uuid,
	    &(struct amtp_device_rec){ 0 }), AMTP_E_NOTFOUND);
	amtp_store_close(st);
	free(f);
	free(got);
}

/* The same on PostgreSQL (AMTP_TEST_PG), in a schema of its own that is
 * dropped at the end (psql). */
static char g_schema[64];

static int
setup_pg(void **state)
{
	const char *pg = getenv("AMTP_TEST_PG");
	uint8_t k[32];

	(void)state;
	memset(k, 7, sizeof(k));
	if (pg == NULL || amtp_master_key_from_bytes(k, &g_key) != 0)
		return -1;
	snprintf(g_schema, sizeof(g_schema), "site_wgroup_%ld",
	    (long)getpid());
	if ((size_t)snprintf(g_uri, sizeof(g_uri), "%s%cschema=%s", pg,
	    strchr(pg, '?') != NULL ? '&' : '?', g_schema) >= sizeof(g_uri))
		return -1;
	return 0;
}

static int
teardown_pg(void **state)
{
	char cmd[512];
	int r;

	(void)state;
	amtp_master_key_free(g_key);
	snprintf(cmd, sizeof(cmd), "psql '%s' -qc 'DROP SCHEMA IF EXISTS %s "
	    "CASCADE' >/dev/null 2>&1", getenv("AMTP_TEST_PG"), g_schema);
	r = system(cmd);
	return r == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_calls),
		cmocka_unit_test(test_group_commit),
		cmocka_unit_test(test_solo_with_batches),
		cmocka_unit_test(test_nested_refused),
	};
	const struct CMUnitTest pg_tests[] = {
		cmocka_unit_test(test_batch_calls),
		cmocka_unit_test(test_group_commit),
		cmocka_unit_test(test_solo_with_batches),
	};
	int fails;

	fails = cmocka_run_group_tests_name("sqlite", tests, setup, teardown);
	if (getenv("AMTP_TEST_PG") != NULL &&
	    getenv("AMTP_TEST_PG")[0] != '\0')
		fails += cmocka_run_group_tests_name("postgresql", pg_tests,
		    setup_pg, teardown_pg);
	return fails;
}
