/*
 * Lease tests for src/amtprovd/store/store_job.c with real processes: two
 * service-point processes share one database (PostgreSQL from AMTP_TEST_PG,
 * and SQLite: one WAL file with busy timeouts) and work through a queue.
 *
 *  - every job is done exactly once, and no job is ever run by two
 *    processes at once (each run holds an O_EXCL marker file named after
 *    the job; a second holder would find it);
 *  - a service point killed with SIGKILL in the middle of a job: the other
 *    one finishes that job after the lease expires, and the step log shows
 *    the abandoned step.
 *
 * Without AMTP_TEST_PG the PostgreSQL group FAILS, unless AMTP_ALLOW_NO_PG=1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/secret.h"

#include "store/store.h"
#include "store/store_int.h"

enum backend { BE_SQLITE, BE_PG };

/* Jobs in the exactly-once test; work time per job (ms); how long a
 * worker keeps looking for work (s). */
#define NJOBS		30
#define WORK_MS		15
#define WORKER_MAX_S	20
/* Lease of the victim (s): short, so the take-over comes quickly. */
#define VICTIM_LEASE	1

static enum backend g_be;
/* Every child a test started, so that teardown can stop what a failed
 * assertion left running. */
static pid_t g_kids[16];
static int g_nkids;
static char g_dir[PATH_MAX];
static char g_uri[AMTP_STORE_URI_MAX + 1];
static char g_schema[64];
static int g_seq;

static int
pg_missing(void)
{
	const char *pg = getenv("AMTP_TEST_PG");

	return g_be == BE_PG && (pg == NULL || pg[0] == '\0');
}

static int
open_store(struct amtp_store **st)
{
	char err[256];
	int r;

	if ((r = amtp_store_open(g_uri, NULL, st, err, sizeof(err))) != 0)
		fprintf(stderr, "open: %s (%s)\n", err, amtp_strerror(r));
	return r;
}

static int
setup(void **state)
{
	struct amtp_store *st = NULL;
	const char *pg;
	int n;

	(void)state;
	g_seq++;
	if (pg_missing())
		return 0;
	(void)snprintf(g_dir, sizeof(g_dir), "%s/amtp-lease-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(g_dir) == NULL)
		return -1;
	if (g_be == BE_SQLITE)
		n = snprintf(g_uri, sizeof(g_uri), "sqlite:%s/site.db", g_dir);
	else {
		pg = getenv("AMTP_TEST_PG");
		(void)snprintf(g_schema, sizeof(g_schema), "t_lease_%ld_%d",
		    (long)getpid(), g_seq);
		n = snprintf(g_uri, sizeof(g_uri), "%s%sschema=%s", pg,
		    strchr(pg, '?') ? "&" : "?", g_schema);
	}
	if (n < 0 || (size_t)n >= sizeof(g_uri))
		return -1;
	if (open_store(&st) != 0)
		return -1;
	amtp_store_close(st);
	return 0;
}

static void
rm_dir(void)
{
	char p[PATH_MAX + 300];
	char name[64];
	int i;

	for (i = 0; i < 8; i++) {
		(void)snprintf(name, sizeof(name), "done-%d", i);
		(void)snprintf(p, sizeof(p), "%s/%s", g_dir, name);
		(void)unlink(p);
	}
	for (i = 0; i < NJOBS + 10; i++) {
		(void)snprintf(p, sizeof(p), "%s/run-%d", g_dir, i);
		(void)unlink(p);
	}
	(void)snprintf(p, sizeof(p), "%s/violation", g_dir);
	(void)unlink(p);
	(void)snprintf(p, sizeof(p), "%s/site.db", g_dir);
	(void)unlink(p);
	(void)snprintf(p, sizeof(p), "%s/site.db-wal", g_dir);
	(void)unlink(p);
	(void)snprintf(p, sizeof(p), "%s/site.db-shm", g_dir);
	(void)unlink(p);
	(void)snprintf(p, sizeof(p), "%s/fresh.db", g_dir);
	(void)unlink(p);
	(void)snprintf(p, sizeof(p), "%s/fresh.db-wal", g_dir);
	(void)unlink(p);
	(void)snprintf(p, sizeof(p), "%s/fresh.db-shm", g_dir);
	(void)unlink(p);
	(void)rmdir(g_dir);
}

static int
teardown(void **state)
{
	struct amtp_store *st = NULL;
	char sql[128];

	(void)state;
	while (g_nkids > 0) {
		pid_t pid = g_kids[--g_nkids];

		if (waitpid(pid, NULL, WNOHANG) == 0) {
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, NULL, 0);
		}
	}
	if (pg_missing())
		return 0;
	if (g_be == BE_PG && open_store(&st) == 0) {
		(void)snprintf(sql, sizeof(sql), "DROP SCHEMA \"%s\" CASCADE",
		    g_schema);
		(void)st->ops->script(st, sql);
		amtp_store_close(st);
	}
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
	const char *allow = getenv("AMTP_ALLOW_NO_PG");

	(void)state;
	g_be = BE_PG;
	if (!pg_missing())
		return 0;
	if (allow != NULL && strcmp(allow, "1") == 0) {
		fprintf(stderr, "AMTP_TEST_PG unset and AMTP_ALLOW_NO_PG=1:"
		    " PostgreSQL lease tests NOT RUN\n");
		return 0;
	}
	fprintf(stderr, "AMTP_TEST_PG is not set: the PostgreSQL lease tests "
	    "cannot run (set AMTP_ALLOW_NO_PG=1 to skip them knowingly)\n");
	return -1;
}

/* Queues n provisioning jobs on n new devices; returns the first job id. */
static int64_t
queue_jobs(int n)
{
	struct amtp_store *st = NULL;
	struct amtp_device_in in;
	char uuid[40];
	int64_t dev, jid, first = 0;
	int i;

	assert_int_equal(open_store(&st), 0);
	memset(&in, 0, sizeof(in));
	for (i = 0; i < n; i++) {
		(void)snprintf(uuid, sizeof(uuid),
		    "11111111-0000-4000-8000-%012d", i);
		in.uuid = uuid;
		assert_int_equal(amtp_store_device_upsert(st, &in, &dev, NULL),
		    0);
		assert_int_equal(amtp_store_job_enqueue(st, dev,
		    AMTP_JOB_PROVISION, &jid, NULL), 0);
		if (i == 0)
			first = jid;
	}
	amtp_store_close(st);
	return first;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Are there open (queued or running) jobs left? 1, 0, or -1 on error. */
static int
open_jobs(struct amtp_store *st)
{
	struct amtp_job_filter f;
	struct amtp_job_rec *v = NULL;
	size_t n, tq = 0, tr = 0;

	memset(&f, 0, sizeof(f));
	f.kind = -1;
	f.limit = 1;
	f.state = AMTP_JOB_QUEUED;
	if (amtp_store_job_list(st, &f, &v, &n, &tq) != 0)
		return -1;
	free(v);
	f.state = AMTP_JOB_RUNNING;
	if (amtp_store_job_list(st, &f, &v, &n, &tr) != 0)
		return -1;
	free(v);
	return tq + tr > 0;
}

/*
 * A service point: claims jobs until none is open, "works" on each (one
 * step, holding a marker file that no other process may hold at the same
 * time), and appends the id of each job it finished to done-<idx>.
 * victim_fd >= 0: after starting the step of its first job, writes the job
 * id there and waits to be killed.  Never returns.
 */
static void
worker(int idx, int lease, int victim_fd)
{
	struct amtp_store *st = NULL;
	struct amtp_job_rec j;
	char owner[64], path[PATH_MAX + 32], line[32];
	int64_t sid, deadline;
	int fd, out, r, len;

	(void)snprintf(owner, sizeof(owner), "sp%d:%ld", idx, (long)getpid());
	(void)snprintf(path, sizeof(path), "%s/done-%d", g_dir, idx);
	if ((out = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) == -1)
		_exit(10);
	if (open_store(&st) != 0)
		_exit(11);
	deadline = now_ms() + WORKER_MAX_S * 1000;
	while (now_ms() < deadline) {
		r = amtp_store_job_claim(st, owner, lease, &j);
		if (r == AMTP_E_NOTFOUND) {
			if ((r = open_jobs(st)) == 0)
				break;		/* all done */
			if (r < 0)
				_exit(12);
			(void)usleep(50 * 1000);
			continue;
		}
		if (r == AMTP_E_BUSY || r == AMTP_E_AGAIN)
			continue;
		if (r != 0) {
			fprintf(stderr, "%s: claim: %s: %s\n", owner,
			    amtp_strerror(r), amtp_store_errmsg(st));
			_exit(13);
		}
		(void)snprintf(path, sizeof(path), "%s/run-%lld", g_dir,
		    (long long)j.id);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd == -1) {
			/* Someone else is running this job right now. */
			(void)snprintf(path, sizeof(path), "%s/violation",
			    g_dir);
			(void)close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC,
			    0600));
			_exit(20);
		}
		(void)close(fd);
		if (amtp_store_job_step_start(st, j.id, owner, "work",
		    &sid) != 0)
			_exit(14);
		if (victim_fd >= 0) {
			len = snprintf(line, sizeof(line), "%lld\n",
			    (long long)j.id);
			if (write(victim_fd, line, (size_t)len) != len)
				_exit(15);
			for (;;)
				(void)pause();	/* until SIGKILL */
		}
		(void)usleep(WORK_MS * 1000);
		if (amtp_store_job_renew(st, j.id, owner, lease, NULL) != 0)
			_exit(16);
		if (amtp_store_job_step_end(st, j.id, owner, sid, AMTP_STEP_OK,
		    NULL) != 0)
			_exit(17);
		if (unlink(path) != 0)
			_exit(18);
		if ((r = amtp_store_job_finish(st, j.id, owner, AMTP_JOB_DONE,
		    NULL)) != 0) {
			fprintf(stderr, "%s: finish: %s\n", owner,
			    amtp_strerror(r));
			_exit(19);
		}
		len = snprintf(line, sizeof(line), "%lld\n", (long long)j.id);
		if (write(out, line, (size_t)len) != len)
			_exit(15);
	}
	amtp_store_close(st);
	(void)close(out);
	_exit(now_ms() < deadline ? 0 : 21);
}

static pid_t
spawn(int idx, int lease, int victim_fd)
{
	pid_t pid;

	fflush(NULL);
	assert_true(g_nkids < (int)(sizeof(g_kids) / sizeof(g_kids[0])));
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0)
		worker(idx, lease, victim_fd);
	g_kids[g_nkids++] = pid;
	return pid;
}

/* Waits for pid (killing it after timeout_s); its exit status. */
static int
reap(pid_t pid, int timeout_s)
{
	int64_t deadline = now_ms() + timeout_s * 1000;
	int status;
	pid_t w;

	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			return status;
		if (w == -1)
			return -1;
		if (now_ms() > deadline) {
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			return -1;
		}
		(void)usleep(20 * 1000);
	}
}

/* Counts, per job id (index id - first), how often a done-<idx> file lists
 * it; returns how many lines the file has. */
static int
tally(int idx, int64_t first, int *counts, int ncounts)
{
	char path[PATH_MAX + 32], line[64];
	long long id;
	FILE *f;
	int lines = 0;

	(void)snprintf(path, sizeof(path), "%s/done-%d", g_dir, idx);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		id = strtoll(line, NULL, 10);
		if (id >= first && id - first < ncounts)
			counts[id - first]++;
		else
			counts[0] += 1000;	/* an id we never queued */
		lines++;
	}
	(void)fclose(f);
	return lines;
}

static void
test_exactly_once(void **state)
{
	struct amtp_store *st = NULL;
	struct amtp_job_rec j;
	char path[PATH_MAX + 32];
	int counts[NJOBS];
	int64_t first;
	pid_t a, b;
	int sa, sb, na, nb, i;

	(void)state;
	if (pg_missing())
		skip();
	first = queue_jobs(NJOBS);
	a = spawn(0, 5, -1);
	b = spawn(1, 5, -1);
	sa = reap(a, WORKER_MAX_S + 5);
	sb = reap(b, WORKER_MAX_S + 5);
	assert_true(WIFEXITED(sa));
	assert_int_equal(WEXITSTATUS(sa), 0);
	assert_true(WIFEXITED(sb));
	assert_int_equal(WEXITSTATUS(sb), 0);
	(void)snprintf(path, sizeof(path), "%s/violation", g_dir);
	assert_int_equal(access(path, F_OK), -1);	/* never twice at once */

	memset(counts, 0, sizeof(counts));
	na = tally(0, first, counts, NJOBS);
	nb = tally(1, first, counts, NJOBS);
	assert_int_equal(na + nb, NJOBS);
	for (i = 0; i < NJOBS; i++)
		assert_int_equal(counts[i], 1);		/* exactly once */
	/* both service points took part */
	assert_true(na > 0);
	assert_true(nb > 0);
	fprintf(stderr, "  %s: %d jobs, service points did %d and %d\n",
	    g_be == BE_SQLITE ? "sqlite" : "postgresql", NJOBS, na, nb);

	assert_int_equal(open_store(&st), 0);
	for (i = 0; i < NJOBS; i++) {
		assert_int_equal(amtp_store_job_get(st, first + i, &j), 0);
		assert_int_equal(j.state, AMTP_JOB_DONE);
		assert_int_equal(j.attempts, 1);
	}
	amtp_store_close(st);
}

static void
test_killed_mid_job(void **state)
{
	struct amtp_store *st = NULL;
	struct amtp_step_rec *steps = NULL;
	struct amtp_job_rec j;
	char line[32];
	int counts[8];
	int64_t first, victim;
	int pfd[2], sb, i;
	size_t n;
	ssize_t got;
	pid_t a, b;

	(void)state;
	if (pg_missing())
		skip();
	first = queue_jobs(6);
	assert_int_equal(pipe(pfd), 0);
	a = spawn(0, VICTIM_LEASE, pfd[1]);
	(void)close(pfd[1]);
	got = read(pfd[0], line, sizeof(line) - 1);
	(void)close(pfd[0]);
	assert_true(got > 0);
	line[got] = '\0';
	victim = strtoll(line, NULL, 10);
	assert_int_equal(victim, first);	/* the oldest job */
	b = spawn(1, 5, -1);			/* the survivor starts... */
	(void)usleep(100 * 1000);
	assert_int_equal(kill(a, SIGKILL), 0);	/* ...the other dies */
	sb = reap(a, 5);
	assert_true(WIFSIGNALED(sb));
	assert_int_equal(WTERMSIG(sb), SIGKILL);
	/* The dead one's marker stays: remove it as a restarted host would
	 * find its scratch space gone. */
	{
		char path[PATH_MAX + 32];

		(void)snprintf(path, sizeof(path), "%s/run-%lld", g_dir,
		    (long long)victim);
		assert_int_equal(unlink(path), 0);
	}
	sb = reap(b, WORKER_MAX_S + 5);
	assert_true(WIFEXITED(sb));
	assert_int_equal(WEXITSTATUS(sb), 0);

	memset(counts, 0, sizeof(counts));
	assert_int_equal(tally(0, first, counts, 6), 0);	/* A did none */
	assert_int_equal(tally(1, first, counts, 6), 6);	/* B did all */
	for (i = 0; i < 6; i++)
		assert_int_equal(counts[i], 1);

	assert_int_equal(open_store(&st), 0);
	assert_int_equal(amtp_store_job_get(st, victim, &j), 0);
	assert_int_equal(j.state, AMTP_JOB_DONE);
	assert_int_equal(j.attempts, 2);
	assert_non_null(strstr(j.last_error, "expired"));
	assert_int_equal(amtp_store_job_steps(st, victim, &steps, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(steps[0].attempt, 1);
	assert_int_equal(steps[0].outcome, AMTP_STEP_FAILED);
	assert_non_null(strstr(steps[0].detail, "abandoned: lease of sp0:"));
	assert_int_equal(strncmp(steps[0].owner, "sp0:", 4), 0);
	assert_int_equal(steps[1].attempt, 2);
	assert_int_equal(steps[1].outcome, AMTP_STEP_OK);
	assert_int_equal(strncmp(steps[1].owner, "sp1:", 4), 0);
	free(steps);
	amtp_store_close(st);
}

/*
 * Four service points start at the same moment on a database nobody has
 * created yet: all open it, and each migration is applied exactly once
 * (PostgreSQL: advisory lock; SQLite: the write lock and busy timeout).
 */
static void
test_concurrent_first_open(void **state)
{
	struct amtp_store *st = NULL;
	struct sqlres *res = NULL;
	char uri[AMTP_STORE_URI_MAX + 1], sql[160];
	int64_t v;
	pid_t pids[4];
	int go[2], i, status, r;
	char c;

	(void)state;
	if (pg_missing())
		skip();
	/* A URI next to the test's own: a new file, or a new schema. */
	if (g_be == BE_SQLITE)
		r = snprintf(uri, sizeof(uri), "sqlite:%s/fresh.db", g_dir);
	else
		r = snprintf(uri, sizeof(uri), "%s_c", g_uri);
	assert_true(r > 0 && (size_t)r < sizeof(uri));
	assert_int_equal(pipe(go), 0);
	fflush(NULL);
	for (i = 0; i < 4; i++) {
		pids[i] = fork();
		assert_true(pids[i] != -1);
		if (pids[i] > 0)
			g_kids[g_nkids++] = pids[i];
		if (pids[i] == 0) {
			(void)close(go[1]);
			if (read(go[0], &c, 1) != 0)	/* EOF: everyone goes */
				_exit(2);
			if (amtp_store_open(uri, NULL, &st, NULL, 0) != 0)
				_exit(1);
			amtp_store_close(st);
			_exit(0);
		}
	}
	(void)close(go[0]);
	(void)close(go[1]);
	for (i = 0; i < 4; i++) {
		status = reap(pids[i], 30);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(amtp_store_open(uri, NULL, &st, NULL, 0), 0);
	assert_int_equal(store_q(st, "test", "SELECT COUNT(*), MAX(version)"
	    " FROM schema_migrations", NOPARAMS, &res), 0);
	assert_int_equal(store_cell_int(res, 0, 0, &v), 0);
	assert_int_equal(v, amtp_store_schema_latest());
	assert_int_equal(store_cell_int(res, 0, 1, &v), 0);
	assert_int_equal(v, amtp_store_schema_latest());
	store_res_free(res);
	if (g_be == BE_PG) {
		(void)snprintf(sql, sizeof(sql), "DROP SCHEMA \"%s_c\" CASCADE",
		    g_schema);
		assert_int_equal(st->ops->script(st, sql), 0);
	}
	amtp_store_close(st);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_exactly_once),
		T(test_killed_mid_job),
		T(test_concurrent_first_open),
	};
	int fails = 0;

	fails += cmocka_run_group_tests_name("store_lease_sqlite", tests,
	    group_sqlite, NULL);
	fails += cmocka_run_group_tests_name("store_lease_postgresql", tests,
	    group_pg, NULL);
	return fails;
}
