/*
 * bench_store_queue: figures for the site database (src/amtprovd/store).
 *
 * For SQLite (a WAL file in a temporary folder) and, when AMTP_TEST_PG is
 * set, PostgreSQL (a schema of its own, dropped at the end):
 *   - device upserts per second (one process);
 *   - job enqueues per second;
 *   - jobs run per second (claim, step start, step end, finish) by
 *     1 and by 4 service-point processes;
 *   - escrow rounds per second (put_pending + promote, sealing included).
 *
 * Usage: bench_store_queue [devices]   (default 400)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "store/store.h"
#include "store/store_int.h"

static double
now_s(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct amtp_master_key *
bench_key(void)
{
	struct amtp_master_key *k = NULL;
	uint8_t raw[32];

	memset(raw, 0x5a, sizeof(raw));
	if (amtp_master_key_from_bytes(raw, &k) != 0) {
		fprintf(stderr, "master key\n");
		exit(1);
	}
	return k;
}

static struct amtp_store *
open_or_die(const char *uri, const struct amtp_master_key *k)
{
	struct amtp_store *st = NULL;
	char err[256];
	int r;

	if ((r = amtp_store_open(uri, k, &st, err, sizeof(err))) != 0) {
		fprintf(stderr, "open: %s (%s)\n", err, amtp_strerror(r));
		exit(1);
	}
	return st;
}

/* A service point: runs jobs until none is left. */
static void
worker(const char *uri, int idx)
{
	struct amtp_store *st;
	struct amtp_job_rec j;
	char owner[64];
	int64_t sid;
	int r, idle = 0;

	(void)snprintf(owner, sizeof(owner), "bench-%d:%ld", idx,
	    (long)getpid());
	st = open_or_die(uri, NULL);
	for (;;) {
		r = amtp_store_job_claim(st, owner, 30, &j);
		if (r == AMTP_E_NOTFOUND) {
			if (++idle > 3)
				break;
			(void)usleep(10 * 1000);
			continue;
		}
		if (r == AMTP_E_BUSY || r == AMTP_E_AGAIN)
			continue;
		if (r != 0 ||
		    amtp_store_job_step_start(st, j.id, owner, "work",
		    &sid) != 0 ||
		    amtp_store_job_step_end(st, j.id, owner, sid, AMTP_STEP_OK,
		    NULL) != 0 ||
		    amtp_store_job_finish(st, j.id, owner, AMTP_JOB_DONE,
		    NULL) != 0)
			_exit(2);
		idle = 0;
	}
	amtp_store_close(st);
	_exit(0);
}

static double
run_workers(const char *uri, int nproc)
{
	pid_t pids[8];
	double t0;
	int i, status, bad = 0;

	fflush(NULL);
	t0 = now_s();
	for (i = 0; i < nproc; i++) {
		if ((pids[i] = fork()) == -1) {
			perror("fork");
			exit(1);
		}
		if (pids[i] == 0)
			worker(uri, i);
	}
	for (i = 0; i < nproc; i++) {
		if (waitpid(pids[i], &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			bad = 1;
	}
	if (bad) {
		fprintf(stderr, "a worker failed\n");
		exit(1);
	}
	/* the workers idle ~40 ms before they stop */
	return now_s() - t0 - 0.04;
}

static void
bench(const char *label, const char *uri, int ndev)
{
	struct amtp_master_key *k = bench_key();
	struct amtp_store *st = open_or_die(uri, k);
	struct amtp_device_in in;
	struct amtp_secret *pw = NULL;
	int64_t *ids, jid;
	char uuid[40];
	double t0, t;
	int i, round, ver;

	if ((ids = calloc((size_t)ndev, sizeof(*ids))) == NULL)
		exit(1);
	memset(&in, 0, sizeof(in));
	t0 = now_s();
	for (i = 0; i < ndev; i++) {
		(void)snprintf(uuid, sizeof(uuid),
		    "22222222-0000-4000-8000-%012d", i);
		in.uuid = uuid;
		in.hostname = "bench";
		if (amtp_store_device_upsert(st, &in, &ids[i], NULL) != 0)
			exit(1);
	}
	t = now_s() - t0;
	printf("%-10s device upsert      %8.0f /s  (%d)\n", label, ndev / t,
	    ndev);

	for (round = 0; round < 2; round++) {
		int nproc = round == 0 ? 1 : 4;

		t0 = now_s();
		for (i = 0; i < ndev; i++)
			if (amtp_store_job_enqueue(st, ids[i],
			    round == 0 ? AMTP_JOB_PROVISION : AMTP_JOB_ROTATE,
			    &jid, NULL) != 0)
				exit(1);
		t = now_s() - t0;
		if (round == 0)
			printf("%-10s job enqueue        %8.0f /s\n", label,
			    ndev / t);
		t = run_workers(uri, nproc);
		printf("%-10s jobs run, %d proc   %8.0f /s  (claim, 2 step "
		    "writes, finish)\n", label, nproc, ndev / t);
	}

	if (amtp_secret_from_cstr("Bench!Pass-12345", &pw) != 0)
		exit(1);
	t0 = now_s();
	for (i = 0; i < ndev; i++) {
		if (amtp_store_cred_put_pending(st, ids[i], AMTP_CRED_ADMIN, pw,
		    &ver) != 0 ||
		    amtp_store_cred_promote(st, ids[i], AMTP_CRED_ADMIN,
		    ver) != 0)
			exit(1);
	}
	t = now_s() - t0;
	printf("%-10s escrow put+promote %8.0f /s\n", label, ndev / t);
	amtp_secret_free(pw);
	free(ids);
	amtp_store_close(st);
	amtp_master_key_free(k);
}

int
main(int argc, char **argv)
{
	struct amtp_store *st;
	char dir[] = "/tmp/amtp-bench-XXXXXX";
	char uri[AMTP_STORE_URI_MAX + 1], path[64], sql[96];
	const char *pg;
	long long ndev = 400;

	if (argc > 1 && amtp_parse_int(argv[1], 1, 8000, &ndev) != 0) {
		fprintf(stderr, "usage: bench_store_queue [devices 1..8000]\n");
		return 2;
	}
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	(void)snprintf(uri, sizeof(uri), "sqlite:%s/site.db", dir);
	bench("sqlite", uri, (int)ndev);
	(void)snprintf(path, sizeof(path), "%s/site.db", dir);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/site.db-wal", dir);
	(void)unlink(path);
	(void)snprintf(path, sizeof(path), "%s/site.db-shm", dir);
	(void)unlink(path);
	(void)rmdir(dir);

	if ((pg = getenv("AMTP_TEST_PG")) == NULL || pg[0] == '\0') {
		printf("postgresql: AMTP_TEST_PG not set, not measured\n");
		return 0;
	}
	(void)snprintf(uri, sizeof(uri), "%s%sschema=bench_%ld", pg,
	    strchr(pg, '?') ? "&" : "?", (long)getpid());
	bench("postgresql", uri, (int)ndev);
	st = open_or_die(uri, NULL);
	(void)snprintf(sql, sizeof(sql), "DROP SCHEMA bench_%ld CASCADE",
	    (long)getpid());
	(void)st->ops->script(st, sql);
	amtp_store_close(st);
	return 0;
}
