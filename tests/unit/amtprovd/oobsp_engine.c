/*
 * Unit tests for src/amtprovd/oobsp (role oobsp): the plan as data, the job
 * runner on a real SQLite site database (claim, lease, step log, resume
 * from the log after a kill), the two-phase password rule and the "which
 * password does the device hold" rule, the first and second stage against
 * a fake device (tests/unit/amtprovd/oobsp_fakedev.h) that reads the
 * engine's real WS-Management envelopes, the certificate issued by the real
 * site CA, and the failure rules (wrong OTP writes nothing, credentials
 * spent, TLS refused, resets, a reboot after the commit).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "amtprov/conf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/pki.h"
#include "amtprov/rand.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "config.h"
#include "enroll/ca.h"
#include "dir/dir.h"
#include "enroll/signer.h"
#include "oobsp/oobsp.h"
#include "oobsp/oobsp_int.h"
#include "store/store.h"

#include "oobsp_fakedev.h"

#if defined(OOBSP_TEST_PG)
#define TEST_A __attribute__((unused))
#define TEST_B __attribute__((unused))
#elif defined(OOBSP_TEST_RESUME)
#define TEST_A __attribute__((unused))
#define TEST_B
#else
#define TEST_A
#define TEST_B __attribute__((unused))
#endif

#ifdef OOBSP_TEST_PG
#include <libpq-fe.h>
#endif

static char g_dir[64];
static struct amtp_master_key *g_mk;
static struct amtp_ca *g_ca;
static struct amtp_signer *g_signer;
static EVP_PKEY *g_devkey;
static struct amtp_secret *g_provkey;
static int g_seq;

struct env {
	struct amtp_store	*st;
	struct fakenet		*net;
	struct oobsp_policy	 pol;
	struct oobsp_engine	*e;
	struct oobsp_engine_cfg	 cfg;
	char			 owner[64];
};

static int
group_setup(void **state)
{
	uint8_t key[32];
	char err[256];

	(void)state;
	amtp_log_init("oobsp-test", AMTP_LOG_WARN, AMTP_LOG_TO_STDERR);
	/* a real SQLite file (WAL, synchronous=FULL), on tmpfs when there is
	 * one: every step is a durable commit, and on a disk the fsyncs would
	 * make this test slow, not better */
	snprintf(g_dir, sizeof(g_dir), "%s/oobsp-test.XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(g_dir) == NULL)
		return -1;
	memset(key, 0x3c, sizeof(key));
	if (amtp_master_key_from_bytes(key, &g_mk) != 0)
		return -1;
	if (amtp_ca_create(g_dir, g_mk, "oobsp test", err, sizeof(err)) != 0 ||
	    amtp_ca_load(g_dir, g_mk, &g_ca, err, sizeof(err)) != 0 ||
	    amtp_signer_local(g_ca, &g_signer) != 0) {
		fprintf(stderr, "CA: %s\n", err);
		return -1;
	}
	if (amtp_pki_rsa_generate(2048, &g_devkey) != 0)
		return -1;
	return amtp_secret_from_cstr("not a real key", &g_provkey);
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	amtp_signer_free(g_signer);
	amtp_ca_free(g_ca);
	amtp_master_key_free(g_mk);
	EVP_PKEY_free(g_devkey);
	amtp_secret_free(g_provkey);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
default_policy(struct oobsp_policy *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->dns_domain, sizeof(p->dns_domain), "fleet.example.test");
	p->admin_pw_len = 16;
	p->mebx = OOBSP_MEBX_RANDOM;
	p->mebx_pw_len = 12;
	p->ncreds = 1;
	snprintf(p->creds[0].name, sizeof(p->creds[0].name), "empty");
	snprintf(p->creds[0].user, sizeof(p->creds[0].user), "admin");
	assert_int_equal(amtp_secret_new("", 0, &p->creds[0].password), 0);
	p->nacls = 1;
	snprintf(p->acls[0].name, sizeof(p->acls[0].name), "ops");
	snprintf(p->acls[0].account, sizeof(p->acls[0].account), "operator");
	assert_int_equal(amtp_secret_from_cstr("Op3rator!pw",
	    &p->acls[0].password), 0);
	p->acls[0].access = 2;
	p->acls[0].nrealms = 2;
	p->acls[0].realms[0] = 3;
	p->acls[0].realms[1] = 2;
	p->power_scheme = 2;
	p->sol = 1;
	p->ider = 1;
	p->ping = 1;
}

#ifdef OOBSP_TEST_PG
/* One PostgreSQL schema per test (AMTP_TEST_PG), dropped afterwards. */
static char g_schema[64];

static void
pg_drop_schema(void)
{
	char sql[256];
	PGconn *c;
	PGresult *res;

	if (g_schema[0] == '\0')
		return;
	if ((c = PQconnectdb(getenv("AMTP_TEST_PG"))) != NULL &&
	    PQstatus(c) == CONNECTION_OK) {
		snprintf(sql, sizeof(sql), "SET client_min_messages TO warning; "
		    "DROP SCHEMA IF EXISTS %s CASCADE",
		    g_schema);
		res = PQexec(c, sql);
		PQclear(res);
	}
	PQfinish(c);
	g_schema[0] = '\0';
}
#endif

static int
setup(void **state)
{
	struct env *v = calloc(1, sizeof(*v));
	char uri[AMTP_STORE_URI_MAX], err[256];

	if (v == NULL)
		return -1;
#ifdef OOBSP_TEST_PG
	{
		const char *pg = getenv("AMTP_TEST_PG");

		snprintf(g_schema, sizeof(g_schema), "oobsp_t%ld_%d",
		    (long)getpid(), ++g_seq);
		snprintf(uri, sizeof(uri), "%s%sschema=%s", pg,
		    strchr(pg, '?') != NULL ? "&" : "?", g_schema);
	}
#else
	snprintf(uri, sizeof(uri), "sqlite:%s/site-%d.db", g_dir, ++g_seq);
#endif
	if (amtp_store_open(uri, g_mk, &v->st, err, sizeof(err)) != 0) {
		fprintf(stderr, "store: %s\n", err);
		return -1;
	}
	if ((v->net = fakenet_new(g_devkey)) == NULL)
		return -1;
	default_policy(&v->pol);
	snprintf(v->owner, sizeof(v->owner), "oobsp-test:%d:a", g_seq);
	memset(&v->cfg, 0, sizeof(v->cfg));
	v->cfg.owner = v->owner;
	v->cfg.lease_secs = 60;
	v->cfg.max_jobs = 8;
	v->cfg.max_attempts = 5;
	v->cfg.backoff_ms = 5;
	v->cfg.requeue_secs = 1;
	v->cfg.idle_claim_ms = 5;
	*state = v;
	return 0;
}

static int
teardown(void **state)
{
	struct env *v = *state;

	if (getenv("OOBSP_TEST_TIMES") != NULL) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		fprintf(stderr, "teardown at %lld.%03ld\n", (long long)ts.tv_sec,
		    ts.tv_nsec / 1000000);
	}
	oobsp_engine_free(v->e);
	fakenet_free(v->net);
	oobsp_policy_reset(&v->pol);
	amtp_store_close(v->st);
	free(v);
#ifdef OOBSP_TEST_PG
	pg_drop_schema();
#endif
	return 0;
}

static void
engine_start(struct env *v)
{
	oobsp_engine_free(v->e);
	v->e = NULL;
	assert_int_equal(oobsp_engine_new(&v->cfg, v->st, &v->net->base,
	    &v->pol, g_signer, "chain", g_provkey, &v->e), 0);
}

static void
sha256_hex(const char *s, char hex[65])
{
	unsigned char md[32];
	unsigned len = 0;

	assert_int_equal(EVP_Digest(s, strlen(s), md, &len, EVP_sha256(),
	    NULL), 1);
	assert_int_equal(amtp_hex_encode(hex, 65, md, 32, 0), 0);
}

/* A device record with an OTP hash and a queued job; the fake device. */
static int64_t
add_device(struct env *v, int i, const char *otp, const char *dev_otp,
    struct fakedev **fd, int64_t *job)
{
	struct amtp_device_in in;
	char uuid[40], host[32], fqdn[96], addr[32], hex[65];
	int64_t id;

	snprintf(uuid, sizeof(uuid), "00000000-0000-4000-8000-%012d", i);
	snprintf(host, sizeof(host), "pc%d", i);
	snprintf(fqdn, sizeof(fqdn), "pc%d.fleet.example.test", i);
	snprintf(addr, sizeof(addr), "127.20.0.%d", i);
	memset(&in, 0, sizeof(in));
	in.uuid = uuid;
	in.hostname = host;
	in.fqdn = fqdn;
	in.amt_addr = addr;
	assert_int_equal(amtp_store_device_upsert(v->st, &in, &id, NULL), 0);
	sha256_hex(otp, hex);
	assert_int_equal(amtp_store_device_set_otp_hash(v->st, id, hex), 0);
	assert_non_null(*fd = fakenet_add(v->net, addr, dev_otp));
	assert_int_equal(amtp_store_job_enqueue(v->st, id, AMTP_JOB_PROVISION,
	    job, NULL), 0);
	return id;
}

/* Polls until no job is in progress and none is claimable (or killed). */
static int
run_engine(struct env *v, int max_ms)
{
	struct amtp_job_filter f;
	struct amtp_job_rec *jobs = NULL;
	size_t i, n = 0, ready;
	int64_t now = 0;
	struct timespec t0, t1;
	int busy = 0, r, waited = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		r = oobsp_engine_poll(v->e, 1, &busy);
		if (r != 0)
			return r;
		if (busy == 0) {
			memset(&f, 0, sizeof(f));
			f.state = AMTP_JOB_QUEUED;
			f.kind = -1;
			f.limit = AMTP_STORE_LIST_MAX;
			assert_int_equal(amtp_store_job_list(v->st, &f, &jobs,
			    &n, NULL), 0);
			assert_int_equal(amtp_store_now(v->st, &now), 0);
			for (i = 0, ready = 0; i < n; i++)
				if (jobs[i].not_before <= now)
					ready++;
			free(jobs);
			jobs = NULL;
			if (ready == 0)
				return 0;
			usleep(20000);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		waited = (int)((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (waited > max_ms)
			return AMTP_E_TIMEOUT;
	}
}

static void
assert_job(struct env *v, int64_t job, enum amtp_job_state want,
    const char *err_has)
{
	struct amtp_job_rec rec;

	assert_int_equal(amtp_store_job_get(v->st, job, &rec), 0);
	if (rec.state != want)
		fprintf(stderr, "job %lld: state %s, last_error \"%s\"\n",
		    (long long)job, amtp_store_job_state_name(rec.state),
		    rec.last_error);
	assert_int_equal(rec.state, want);
	if (err_has != NULL && strstr(rec.last_error, err_has) == NULL) {
		fprintf(stderr, "last_error \"%s\" lacks \"%s\"\n",
		    rec.last_error, err_has);
		fail();
	}
}

/* The step log holds step with outcome o (and detail containing has). */
static int
log_has(struct env *v, int64_t job, const char *step,
    enum amtp_step_outcome o, const char *has)
{
	struct amtp_step_rec *s = NULL;
	size_t i, n = 0;
	int found = 0;

	assert_int_equal(amtp_store_job_steps(v->st, job, &s, &n), 0);
	for (i = 0; i < n; i++)
		if ((step == NULL || strcmp(s[i].step, step) == 0) &&
		    s[i].outcome == o &&
		    (has == NULL || strstr(s[i].detail, has) != NULL))
			found = 1;
	free(s);
	return found;
}

static void
dump_log(struct env *v, int64_t job)
{
	struct amtp_step_rec *s = NULL;
	size_t i, n = 0;

	assert_int_equal(amtp_store_job_steps(v->st, job, &s, &n), 0);
	for (i = 0; i < n; i++)
		fprintf(stderr, "  %d %-16s %-8s %s\n", s[i].attempt,
		    s[i].step, amtp_store_step_outcome_name(s[i].outcome),
		    s[i].detail);
	free(s);
}

/* The escrowed current admin password is the one the device holds. */
static void
assert_escrow_matches(struct env *v, int64_t dev, struct fakedev *fd)
{
	struct amtp_secret *pw = NULL;
	char hash[64];
	int vers = 0;

	assert_int_equal(amtp_store_cred_get(v->st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_CURRENT, &vers, &pw), 0);
	assert_int_equal(oobsp_digest_password_b64("admin", fd->realm, pw,
	    hash, sizeof(hash)), 0);
	assert_string_equal(hash, fd->admin_hash);
	assert_true(amtp_password_is_strong(amtp_secret_cstr(pw),
	    amtp_secret_len(pw)));
	amtp_secret_free(pw);
	assert_int_equal(amtp_store_cred_get(v->st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_PENDING, NULL, &pw), AMTP_E_NOTFOUND);
}

/* ---- the plan ---- */

static void TEST_A
test_plan(void **state)
{
	size_t i, k;

	(void)state;
	assert_true(oobsp_plan_provision_len <= OOBSP_PLAN_MAX);
	for (i = 0; i < oobsp_plan_provision_len; i++) {
		assert_non_null(oobsp_plan_provision[i].run);
		assert_true(strlen(oobsp_plan_provision[i].name) <=
		    AMTP_STORE_NAME_MAX);
		assert_int_equal(oobsp_plan_find(oobsp_plan_provision[i].name),
		    (int)i);
		for (k = i + 1; k < oobsp_plan_provision_len; k++)
			assert_string_not_equal(oobsp_plan_provision[i].name,
			    oobsp_plan_provision[k].name);
	}
	assert_int_equal(oobsp_plan_find("no-such-step"), -1);
	/* the OTP is checked before anything is written */
	assert_true(oobsp_plan_find("otp-check") <
	    oobsp_plan_find("time-sync"));
	assert_true(oobsp_plan_find("admin-password") <
	    oobsp_plan_find("commit"));
	assert_true(oobsp_plan_find("commit") < oobsp_plan_find("verify"));
	/* kinds */
	assert_ptr_equal(oobsp_plan_for(AMTP_JOB_PROVISION)->steps,
	    oobsp_plan_provision);
	assert_int_equal(oobsp_plan_for(AMTP_JOB_ROTATE)->n,
	    oobsp_plan_rotate_len);
	assert_true(oobsp_plan_index(oobsp_plan_for(AMTP_JOB_ROTATE),
	    "connect") == 0);
	assert_int_equal(oobsp_plan_for(AMTP_JOB_UNPROVISION)->n,
	    oobsp_plan_unprovision_len);
	assert_true(oobsp_plan_index(oobsp_plan_for(AMTP_JOB_UNPROVISION),
	    "unprovision") == 1);
	assert_null(oobsp_plan_for(-1));
	assert_null(oobsp_plan_for(AMTP_JOB_KIND__MAX));
}

/* ---- a device provisioned through every step ---- */

static void TEST_A
test_provision_one(void **state)
{
	struct env *v = *state;
	struct amtp_device_rec d;
	struct amtp_secret *mebx = NULL;
	struct amtp_cert_rec *certs = NULL;
	struct fakedev *fd;
	struct oobsp_stats stats;
	char cn[256];
	size_t i, n = 0;
	int64_t dev, job;

	dev = add_device(v, 1, "OTPotp123456789012345678", "OTPotp123456789012345678",
	    &fd, &job);
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	for (i = 0; i < oobsp_plan_provision_len; i++) {
		const char *s = oobsp_plan_provision[i].name;

		if (strcmp(s, "kerberos") == 0 || strcmp(s, "wifi") == 0 ||
		    strcmp(s, "wired-8021x") == 0)
			assert_true(log_has(v, job, s, AMTP_STEP_SKIPPED, NULL));
		else if (!log_has(v, job, s, AMTP_STEP_OK, NULL)) {
			dump_log(v, job);
			fail_msg("step %s not ok", s);
		}
	}
	/* the device */
	assert_int_equal(fd->state, 2);
	assert_string_equal(fd->host, "pc1");
	assert_string_equal(fd->domain, "fleet.example.test");
	assert_true(fd->tls_enabled);
	assert_false(fd->nonsecure);
	assert_int_equal(fd->ncerts, 1);
	assert_int_equal(fd->ctx_cert, 0);
	assert_int_equal(amtp_pki_cert_cn(fd->certs[0], cn, sizeof(cn)), 0);
	assert_string_equal(cn, "pc1.fleet.example.test");
	assert_false(fd->added_key);
	assert_int_equal(fd->nacls, 1);
	assert_string_equal(fd->acl_user[0], "operator");
	assert_int_equal(fd->redir_state, 32771);
	assert_true(fd->listener);
	assert_int_equal(fd->webui_state, 3);
	assert_true(fd->ping);
	assert_string_equal(fd->power_id, "Intel(r) AMT Power Scheme 2");
	/* the site database */
	assert_escrow_matches(v, dev, fd);
	assert_int_equal(amtp_store_cred_get(v->st, dev, AMTP_CRED_MEBX,
	    AMTP_CRED_CURRENT, NULL, &mebx), 0);
	assert_string_equal(amtp_secret_cstr(mebx), fd->mebx);
	amtp_secret_free(mebx);
	assert_int_equal(amtp_store_device_get(v->st, dev, &d), 0);
	assert_int_equal(d.status, AMTP_AMT_PROVISIONED);
	assert_int_equal(d.has_otp, 0);
	assert_int_equal(amtp_store_cert_list(v->st, dev, 0, 10, &certs, &n,
	    NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(certs[0].profile, "amt-web");
	free(certs);
	assert_true(log_has(v, job, "connect", AMTP_STEP_OK,
	    "setup credential 1 of 1 (empty) works"));
	assert_true(log_has(v, job, "otp-check", AMTP_STEP_OK, "matches"));
	oobsp_engine_stats(v->e, &stats);
	assert_int_equal(stats.jobs_done, 1);
	assert_int_equal(stats.step_retries, 0);
}

/*
 * "Escrowed (durable) before it is sent": when a password reaches the
 * device, another connection to the site database already reads it as
 * pending (the escrow waits for the engine's batched commit); the same for
 * the record of the device's certificate; and the read cache saved the
 * three repeated Gets.
 */
struct seen {
	struct env	*v;
	int64_t		 dev;
	int		 admin, mebx, certs;
};

static void
check_escrowed(struct fakedev *fd, const char *meth, const char *value,
    void *arg)
{
	struct seen *sn = arg;
	struct amtp_store *other = NULL;
	struct amtp_secret *pw = NULL;
	struct amtp_cert_rec *certs = NULL;
	char uri[600], err[256], hash[64];
	int mebx = strcmp(meth, "SetMEBxPassword") == 0;
	size_t n = 0;

	assert_non_null(value);
	snprintf(uri, sizeof(uri), "sqlite:%s/site-%d.db", g_dir, g_seq);
	assert_int_equal(amtp_store_open(uri, g_mk, &other, err, sizeof(err)),
	    0);
	if (strcmp(meth, "AddCertificate") == 0) {
		/* the issued certificate is on record first */
		assert_int_equal(amtp_store_cert_list(other, sn->dev, 0, 10,
		    &certs, &n, NULL), 0);
		free(certs);
		assert_int_equal(n, 1);
		sn->certs++;
		amtp_store_close(other);
		return;
	}
	assert_int_equal(amtp_store_cred_get(other, sn->dev, mebx ?
	    AMTP_CRED_MEBX : AMTP_CRED_ADMIN, AMTP_CRED_PENDING, NULL, &pw), 0);
	if (mebx) {
		assert_string_equal(amtp_secret_cstr(pw), value);
		sn->mebx++;
	} else {
		assert_int_equal(oobsp_digest_password_b64("admin", fd->realm,
		    pw, hash, sizeof(hash)), 0);
		assert_string_equal(hash, value);
		sn->admin++;
	}
	amtp_secret_free(pw);
	amtp_store_close(other);
}

static void TEST_A
test_escrow_durable_first(void **state)
{
	struct env *v = *state;
	struct oobsp_stats stats;
	struct fakedev *fd;
	struct seen sn;
	int64_t job;

	memset(&sn, 0, sizeof(sn));
	sn.v = v;
	sn.dev = add_device(v, 3, "OTPdurable90123456789012",
	    "OTPdurable90123456789012", &fd, &job);
	fd->on_password = check_escrowed;
	fd->on_password_arg = &sn;
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	assert_int_equal(sn.admin, 1);
	assert_int_equal(sn.mebx, 1);
	assert_int_equal(sn.certs, 1);
	assert_escrow_matches(v, sn.dev, fd);
	oobsp_engine_stats(v->e, &stats);
	/* otp-check, host-name and network-services read again what connect,
	 * read-facts and verify read on the same session */
	assert_int_equal(stats.reads_reused, 3);
	assert_int_equal(fd->requests, stats.requests);
}

/* An Enumerate answered with a context too long to keep: the step fails
 * with the reason, no Pull with a cut context is sent. */
static void TEST_A
test_enumerate_long_context(void **state)
{
	struct env *v = *state;
	struct fakedev *fd;
	int64_t job;

	add_device(v, 7, "OTPnoctx1234567890123456",
	    "OTPnoctx1234567890123456", &fd, &job);
	fd->long_enum_ctx = "AMT_TLSCredentialContext";
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_FAILED, "tls-enable: "
	    "AMT_TLSCredentialContext Enumerate: an over-long "
	    "EnumerationContext");
	assert_false(fd->tls_enabled);
}

/* ---- step 5: a wrong OTP writes nothing ---- */

static void TEST_A
test_wrong_otp(void **state)
{
	struct env *v = *state;
	struct fakedev *fd;
	int64_t job;

	add_device(v, 2, "OTPright1234567890123456", "OTPwrong1234567890123456",
	    &fd, &job);
	engine_start(v);
	assert_int_equal(run_engine(v, 10000), 0);
	assert_job(v, job, AMTP_JOB_FAILED, "otp-check: OTP mismatch");
	assert_int_equal(fd->writes, 0);
	assert_int_equal(fd->state, 1);
	assert_string_equal(fd->admin_hash, "");
}

static void TEST_A
test_no_otp_on_device(void **state)
{
	struct env *v = *state;
	struct fakedev *fd;
	int64_t job;

	add_device(v, 3, "OTPright1234567890123456", "", &fd, &job);
	engine_start(v);
	assert_int_equal(run_engine(v, 10000), 0);
	assert_job(v, job, AMTP_JOB_FAILED, "reports no OTP");
	assert_int_equal(fd->writes, 0);
}

/* ---- step 9: the credential list ---- */

static void
set_creds(struct env *v, const char *const *pws, size_t n)
{
	size_t i;

	for (i = 0; i < v->pol.ncreds; i++)
		amtp_secret_free(v->pol.creds[i].password);
	for (i = 0; i < n; i++) {
		snprintf(v->pol.creds[i].name, sizeof(v->pol.creds[i].name),
		    "c%zu", i + 1);
		snprintf(v->pol.creds[i].user, sizeof(v->pol.creds[i].user),
		    "admin");
		assert_int_equal(amtp_secret_from_cstr(pws[i],
		    &v->pol.creds[i].password), 0);
	}
	v->pol.ncreds = n;
}

static void TEST_A
test_credentials_spent(void **state)
{
	static const char *const bad[] = { "Wrong1!pass", "Wrong2!pass" };
	struct env *v = *state;
	struct fakedev *fd;
	int64_t job;

	set_creds(v, bad, 2);
	add_device(v, 4, "OTP4abcdefghijklmnopqrst", "OTP4abcdefghijklmnopqrst",
	    &fd, &job);
	fd->accept_empty = 0;
	snprintf(fd->mebx, sizeof(fd->mebx), "Oem!Mebx1");
	engine_start(v);
	assert_int_equal(run_engine(v, 10000), 0);
	assert_job(v, job, AMTP_JOB_FAILED, "credentials spent");
	assert_true(log_has(v, job, "connect", AMTP_STEP_FAILED,
	    "setup credential 1 of 2 (c1): 401; setup credential 2 of 2 "
	    "(c2): 401"));
	assert_int_equal(fd->auth_fail, 2);
	assert_int_equal(fd->writes, 0);
}

static void TEST_A
test_credentials_second_works(void **state)
{
	static const char *const list[] = { "Wrong1!pass", "Oem!Mebx1" };
	struct env *v = *state;
	struct fakedev *fd;
	int64_t job, dev;

	set_creds(v, list, 2);
	dev = add_device(v, 5, "OTP5abcdefghijklmnopqrst",
	    "OTP5abcdefghijklmnopqrst", &fd, &job);
	fd->accept_empty = 0;
	snprintf(fd->mebx, sizeof(fd->mebx), "Oem!Mebx1");
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	assert_true(log_has(v, job, "connect", AMTP_STEP_OK,
	    "setup credential 1 of 2 (c1): 401; setup credential 2 of 2 "
	    "(c2) works"));
	assert_escrow_matches(v, dev, fd);
}

/* ---- unsupported AMT version ---- */

static void TEST_A
test_old_amt_version(void **state)
{
	struct env *v = *state;
	struct amtp_device_facts f;
	struct fakedev *fd;
	int64_t job, dev;

	dev = add_device(v, 70, "OTPverbcdefghijklmnopqrs",
	    "OTPverbcdefghijklmnopqrs", &fd, &job);
	memset(&f, 0, sizeof(f));
	snprintf(f.amt_version, sizeof(f.amt_version), "5.2.70");
	assert_int_equal(amtp_store_device_set_facts(v->st, dev, &f), 0);
	engine_start(v);
	assert_int_equal(run_engine(v, 10000), 0);
	assert_job(v, job, AMTP_JOB_FAILED,
	    "connect: AMT version 5.2.70 is not supported");
	assert_int_equal(fd->requests + fd->auth_fail, 0);	/* no I/O */

	/* 11.8.50 is fine */
	snprintf(f.amt_version, sizeof(f.amt_version), "11.8.50");
	assert_int_equal(amtp_store_device_set_facts(v->st, dev, &f), 0);
	assert_int_equal(amtp_store_job_enqueue(v->st, dev, AMTP_JOB_PROVISION,
	    &job, NULL), 0);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
}

/* ---- step 7: TLS refused ---- */

static void TEST_A
test_tls_refused(void **state)
{
	struct env *v = *state;
	struct fakedev *fd;
	int64_t job;

	add_device(v, 6, "OTP6abcdefghijklmnopqrst", "OTP6abcdefghijklmnopqrst",
	    &fd, &job);
	fd->refuse_tls = 1;
	engine_start(v);
	assert_int_equal(run_engine(v, 10000), 0);
	assert_job(v, job, AMTP_JOB_FAILED,
	    "refused the provisioning TLS session: alert bad certificate");
	assert_int_equal(fd->writes, 0);
}

/* ---- devices that cannot make keys ---- */

static void TEST_A
test_keygen_fallback(void **state)
{
	struct env *v = *state;
	struct amtp_cert_rec *certs = NULL;
	struct fakedev *fd;
	size_t n = 0;
	int64_t job, dev;

	dev = add_device(v, 7, "OTP7abcdefghijklmnopqrst",
	    "OTP7abcdefghijklmnopqrst", &fd, &job);
	fd->keygen_unsupported = 1;
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	assert_true(fd->added_key);
	assert_true(log_has(v, job, "tls-certificate", AMTP_STEP_OK,
	    "from the enrollment point (AddKey)"));
	assert_int_equal(amtp_store_cert_list(v->st, dev, 0, 10, &certs, &n,
	    NULL), 0);
	assert_int_equal(n, 1);
	assert_true(certs[0].has_key);	/* escrowed, sealed */
	free(certs);
}

/* ---- transient faults ---- */

static void TEST_A
test_reset_mid_stage1(void **state)
{
	struct env *v = *state;
	struct oobsp_stats stats;
	struct fakedev *fd;
	int64_t job, dev;

	dev = add_device(v, 8, "OTP8abcdefghijklmnopqrst",
	    "OTP8abcdefghijklmnopqrst", &fd, &job);
	/* inside host-name: its Put (its Get reuses read-facts' read) */
	fd->reset_at[0] = 5;
	fd->reset_at[1] = 12;	/* inside tls-certificate */
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	oobsp_engine_stats(v->e, &stats);
	assert_int_equal(stats.step_retries, 2);
	assert_true(log_has(v, job, "host-name", AMTP_STEP_FAILED,
	    "transient, try 1"));
	assert_escrow_matches(v, dev, fd);
}

static void TEST_A
test_reboot_after_commit(void **state)
{
	struct env *v = *state;
	struct fakedev *fd;
	int64_t job, dev;

	dev = add_device(v, 9, "OTP9abcdefghijklmnopqrst",
	    "OTP9abcdefghijklmnopqrst", &fd, &job);
	fd->down_after_commit = 3;
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	assert_true(log_has(v, job, "verify", AMTP_STEP_FAILED, "transient"));
	assert_true(log_has(v, job, "verify", AMTP_STEP_OK, NULL));
	assert_escrow_matches(v, dev, fd);
}

static void TEST_A
test_down_requeues(void **state)
{
	struct env *v = *state;
	struct fakedev *fd;
	int64_t job;

	add_device(v, 10, "OTPaabcdefghijklmnopqrst", "OTPaabcdefghijklmnopqrst",
	    &fd, &job);
	fd->down_runs = 1000000;	/* never answers */
	v->cfg.step_retries = 2;
	v->cfg.requeue_secs = 30;
	engine_start(v);
	assert_int_equal(run_engine(v, 10000), 0);
	/* transient: back in the queue, not failed */
	assert_job(v, job, AMTP_JOB_QUEUED, "connect:");
}

/* ---- crash and resume ---- */

/*
 * Kills the service point right after the device processed request k
 * (before the service point heard the answer), waits for the lease to run
 * out, and lets a second service point finish the job.
 */
static void TEST_B
kill_and_resume(struct env *v, unsigned long k, int accept_admin_in)
{
	struct amtp_job_rec rec;
	struct fakedev *fd;
	char owner2[80];
	int64_t job, dev;
	int i, r;

	dev = add_device(v, 20 + (int)k, "OTPkabcdefghijklmnopqrst",
	    "OTPkabcdefghijklmnopqrst", &fd, &job);
	fd->accept_admin_in = accept_admin_in;
	v->cfg.lease_secs = 1;
	v->net->kill_after = v->net->processed + k;
	engine_start(v);
	r = run_engine(v, 10000);
	assert_int_equal(r, AMTP_E_INTERNAL);	/* killed */
	oobsp_engine_free(v->e);		/* gone without a word */
	v->e = NULL;
	v->net->killed = 0;
	v->net->kill_after = 0;
	snprintf(owner2, sizeof(owner2), "%s-b%lu", v->owner, k);
	v->cfg.owner = owner2;
	v->cfg.lease_secs = 60;
	engine_start(v);
	/* the second service point takes the job once the lease is out
	 * (1 to 2 s) */
	for (i = 0; i < 100; i++) {
		assert_int_equal(run_engine(v, 20000), 0);
		assert_int_equal(amtp_store_job_get(v->st, job, &rec), 0);
		if (rec.state == AMTP_JOB_DONE)
			break;
		usleep(50000);
	}
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	assert_true(rec.attempts >= 2);
	assert_true(log_has(v, job, NULL, AMTP_STEP_FAILED,
	    "abandoned: lease of"));
	assert_true(log_has(v, job, "otp-check", AMTP_STEP_SKIPPED, NULL));
	assert_int_equal(fd->state, 2);
	assert_escrow_matches(v, dev, fd);
	assert_true(log_has(v, job, "connect", AMTP_STEP_OK, NULL));
	v->cfg.owner = v->owner;
}

static void TEST_B
test_kill_after_admin_password(void **state)
{
	/* requests: connect 1, read-facts 2, otp 3, time 4-5, host 6-7,
	 * certificate 8-12, tls-enable 13-17, SetAdminAclEntryEx 18 */
	kill_and_resume(*state, 18, 0);
}

static void TEST_B
test_kill_after_admin_password_admin_in(void **state)
{
	/* the device takes the new admin password in IN state too: the
	 * resumed job finds the pending one works */
	kill_and_resume(*state, 18, 1);
}

static void TEST_B
test_kill_after_commit(void **state)
{
	kill_and_resume(*state, 20, 0);
}

/* ---- which password does a committed device hold ---- */

static void TEST_B
test_post_pending_resolution(void **state)
{
	struct env *v = *state;
	struct amtp_secret *z = NULL, *w = NULL, *cur = NULL;
	struct fakedev *fd;
	char hash[64];
	int64_t job, dev;
	int vz = 0, vw = 0, vc = 0;

	dev = add_device(v, 40, "OTPpabcdefghijklmnopqrst",
	    "OTPpabcdefghijklmnopqrst", &fd, &job);
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);

	/* a password change that reached the device, then a crash */
	assert_int_equal(amtp_secret_from_cstr("Zz9!pendingA", &z), 0);
	assert_int_equal(amtp_store_cred_put_pending(v->st, dev,
	    AMTP_CRED_ADMIN, z, &vz), 0);
	assert_int_equal(oobsp_digest_password_b64("admin", fd->realm, z, hash,
	    sizeof(hash)), 0);
	snprintf(fd->admin_hash, sizeof(fd->admin_hash), "%s", hash);
	assert_int_equal(amtp_store_job_enqueue(v->st, dev, AMTP_JOB_PROVISION,
	    &job, NULL), 0);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	assert_true(log_has(v, job, "connect", AMTP_STEP_OK,
	    "pending admin password v2 works: promoted"));
	assert_true(log_has(v, job, "otp-check", AMTP_STEP_SKIPPED,
	    "device already committed"));
	assert_int_equal(amtp_store_cred_get(v->st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_CURRENT, &vc, &cur), 0);
	assert_int_equal(vc, vz);
	assert_true(amtp_secret_equal(cur, z));
	amtp_secret_free(cur);
	cur = NULL;

	/* a password change that never reached it */
	assert_int_equal(amtp_secret_from_cstr("Ww9!pendingB", &w), 0);
	assert_int_equal(amtp_store_cred_put_pending(v->st, dev,
	    AMTP_CRED_ADMIN, w, &vw), 0);
	assert_int_equal(amtp_store_job_enqueue(v->st, dev, AMTP_JOB_PROVISION,
	    &job, NULL), 0);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	assert_true(log_has(v, job, "connect", AMTP_STEP_OK,
	    "never reached the device: abandoned"));
	assert_int_equal(amtp_store_cred_get(v->st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_CURRENT, &vc, &cur), 0);
	assert_int_equal(vc, vz);
	assert_true(amtp_secret_equal(cur, z));
	assert_escrow_matches(v, dev, fd);
	amtp_secret_free(cur);
	amtp_secret_free(z);
	amtp_secret_free(w);
}

static void TEST_A
test_post_unknown_password(void **state)
{
	struct env *v = *state;
	struct amtp_device_rec d;
	struct fakedev *fd;
	int64_t job, dev;

	dev = add_device(v, 41, "OTPqabcdefghijklmnopqrst",
	    "OTPqabcdefghijklmnopqrst", &fd, &job);
	fd->state = 2;	/* provisioned by someone else */
	snprintf(fd->admin_hash, sizeof(fd->admin_hash), "AAAAAAAAAAAAAAAA"
	    "AAAAAA==");
	engine_start(v);
	assert_int_equal(run_engine(v, 10000), 0);
	assert_job(v, job, AMTP_JOB_FAILED, "credentials spent");
	assert_int_equal(fd->writes, 0);
	assert_int_equal(amtp_store_device_get(v->st, dev, &d), 0);
	assert_int_not_equal(d.status, AMTP_AMT_PROVISIONED);
}

/* ---- Kerberos from the directory account ---- */

static void TEST_A
test_kerberos(void **state)
{
	struct env *v = *state;
	struct amtp_diracct_rec acct;
	struct amtp_secret *pw = NULL;
	struct fakedev *fd;
	int64_t job, dev;

	dev = add_device(v, 50, "OTPkrbbcdefghijklmnopqrs",
	    "OTPkrbbcdefghijklmnopqrs", &fd, &job);
	memset(&acct, 0, sizeof(acct));
	snprintf(acct.name, sizeof(acct.name), "pc50");
	snprintf(acct.container, sizeof(acct.container), "OU=AMT");
	acct.device_id = dev;
	acct.enabled = 1;
	acct.n_spns = 2;
	snprintf(acct.spns[0], sizeof(acct.spns[0]),
	    "HTTP/pc50.fleet.example.test:16992");
	snprintf(acct.spns[1], sizeof(acct.spns[1]),
	    "HTTP/pc50.fleet.example.test:16993");
	/* "password": its NT hash is the well-known 8846f7ea...586c */
	assert_int_equal(amtp_secret_from_cstr("password", &pw), 0);
	assert_int_equal(amtp_store_diracct_put(v->st, &acct, pw, NULL, NULL),
	    0);
	amtp_secret_free(pw);
	v->pol.kerberos = 1;
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	assert_true(log_has(v, job, "kerberos", AMTP_STEP_OK, "pc50"));
	assert_true(fd->krb_enabled);
	assert_string_equal(fd->krb_realm, "FLEET.EXAMPLE.TEST");
	assert_string_equal(fd->krb_key, "iEb36u6PsRetBr3YMLdYbA==");
	assert_int_equal(fd->krb_nspn, 2);
	assert_string_equal(fd->krb_spn0, "HTTP/pc50.fleet.example.test:16992");
	assert_string_equal(fd->krb_proto, "01");
}

static void TEST_A
test_kerberos_no_account(void **state)
{
	struct env *v = *state;
	struct fakedev *fd;
	int64_t job;

	add_device(v, 51, "OTPkrb2cdefghijklmnopqrs",
	    "OTPkrb2cdefghijklmnopqrs", &fd, &job);
	v->pol.kerberos = 1;
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_FAILED, "kerberos: no directory account");
	assert_int_equal(fd->state, 2);	/* stage 1 stays done */
}

/* ---- Wi-Fi ---- */

static void
add_wifi(struct env *v, const char *name, const char *ssid, const char *psk,
    int prio)
{
	struct oobsp_wifi *w = &v->pol.wifi[v->pol.nwifi++];

	snprintf(w->name, sizeof(w->name), "%s", name);
	snprintf(w->ssid, sizeof(w->ssid), "%s", ssid);
	w->auth = psk != NULL ? 6 : 7;
	w->x8021 = -1;
	w->enc = 4;
	w->priority = prio;
	if (psk != NULL)
		assert_int_equal(amtp_secret_from_cstr(psk, &w->psk), 0);
}

static void TEST_A
test_wifi_profiles(void **state)
{
	struct env *v = *state;
	struct fakedev *fd;
	int64_t job;

	add_device(v, 60, "OTPwifibcdefghijklmnopqr",
	    "OTPwifibcdefghijklmnopqr", &fd, &job);
	fd->wireless = 1;
	fd->wifi_n = 2;	/* someone's old profiles */
	snprintf(fd->wifi_id[0], sizeof(fd->wifi_id[0]), "old-a");
	snprintf(fd->wifi_id[1], sizeof(fd->wifi_id[1]), "old-b");
	add_wifi(v, "office", "OfficeNet", "Office-PSK-123", 1);
	add_wifi(v, "lab", "LabNet", "Lab-PSK-4567", 2);
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	assert_true(log_has(v, job, "wifi", AMTP_STEP_OK,
	    "2 Wi-Fi profiles deleted (their certificates and keys: 0 "
	    "deleted, 0 kept in use), 2 added"));
	assert_int_equal(fd->wifi_n, 2);
	assert_string_equal(fd->wifi_id[0],
	    "Intel(r) AMT:WiFi Endpoint Settings office");
	assert_string_equal(fd->wifi_ssid[0], "OfficeNet");
	assert_string_equal(fd->wifi_psk[0], "Office-PSK-123");
	assert_string_equal(fd->wifi_ssid[1], "LabNet");
}

static void TEST_A
test_wifi_wired_device(void **state)
{
	struct env *v = *state;
	struct fakedev *fd;
	int64_t job;

	add_device(v, 61, "OTPwif2bcdefghijklmnopqr",
	    "OTPwif2bcdefghijklmnopqr", &fd, &job);
	add_wifi(v, "office", "OfficeNet", "Office-PSK-123", 1);
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	assert_true(log_has(v, job, "wifi", AMTP_STEP_SKIPPED,
	    "no wireless interface"));
}

static void TEST_A
test_wifi_enterprise(void **state)
{
	struct env *v = *state;
	struct oobsp_8021x *x = &v->pol.x8021[0];
	struct amtp_cert_rec *certs = NULL;
	STACK_OF(X509) *roots = NULL;
	struct fakedev *fd;
	char path[128];
	size_t i, n = 0, n8021 = 0;
	int64_t job, dev;

	dev = add_device(v, 62, "OTPwif3bcdefghijklmnopqr",
	    "OTPwif3bcdefghijklmnopqr", &fd, &job);
	fd->wireless = 1;
	/* an EAP-TLS profile: the RADIUS root (the site root will do) and a
	 * client certificate; used by a Wi-Fi profile and the wired one */
	snprintf(path, sizeof(path), "%s/ca-root.pem", g_dir);
	assert_int_equal(amtp_pki_chain_load(path, &roots), 0);
	x->ca = X509_dup(sk_X509_value(roots, 0));
	amtp_pki_chain_free(roots);
	snprintf(x->name, sizeof(x->name), "corp-tls");
	snprintf(x->server_name, sizeof(x->server_name), "radius.example.test");
	x->protocol = 0;
	x->client_cert = 1;
	v->pol.nx8021 = 1;
	add_wifi(v, "corp", "CorpNet", NULL, 1);
	v->pol.wifi[0].x8021 = 0;
	v->pol.wired_8021x = 1;
	v->pol.wired = 0;
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	assert_int_equal(fd->wifi_n, 1);
	assert_int_equal(fd->wifi_x[0], 3);	/* settings, client, root */
	assert_int_equal(fd->nroots, 1);	/* the second time: DUPLICATE */
	assert_true(fd->x_enabled);
	assert_int_equal(fd->x_proto, 0);
	/* the wired settings on IPS_IEEE8021xSettings, linked to both */
	assert_int_equal(fd->ips_enabled, 2);
	assert_int_equal(fd->x_linked, 2);
	assert_true(log_has(v, job, "wired-8021x", AMTP_STEP_OK,
	    "client certificate"));
	assert_true(log_has(v, job, "wired-8021x", AMTP_STEP_OK,
	    "linked with IPS_IEEE8021xSettings.SetCertificates"));
	/* web certificate, root, two client certificates */
	assert_int_equal(fd->ncerts, 4);
	assert_int_equal(amtp_store_cert_list(v->st, dev, 0, 10, &certs, &n,
	    NULL), 0);
	for (i = 0; i < n; i++)
		if (strcmp(certs[i].profile, "802.1x") == 0)
			n8021++;
	free(certs);
	assert_int_equal(n8021, 2);
}

/* ---- the step log's commit fails for a while ---- */

static void TEST_A
test_log_commit_fails(void **state)
{
	struct env *v = *state;
	struct oobsp_stats stats;
	struct amtp_step_rec *steps = NULL;
	struct fakedev *fd;
	int64_t dev, job;
	size_t i, n = 0;

	/* three flushes fail (nothing written): the writes are kept and go
	 * in with the next; the job is neither dropped nor requeued */
	dev = add_device(v, 5, "OTPflush1234567890123456",
	    "OTPflush1234567890123456", &fd, &job);
	v->cfg.fail_flushes = 3;
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	oobsp_engine_stats(v->e, &stats);
	assert_int_equal(stats.jobs_done, 1);
	assert_int_equal(stats.jobs_requeued, 0);
	assert_true(stats.log_commits >= 4);
	/* every step of the plan once, in order, none left open */
	assert_int_equal(amtp_store_job_steps(v->st, job, &steps, &n), 0);
	assert_int_equal(n, oobsp_plan_provision_len);
	for (i = 0; i < n; i++) {
		assert_string_equal(steps[i].step,
		    oobsp_plan_provision[i].name);
		assert_true(steps[i].outcome == AMTP_STEP_OK ||
		    steps[i].outcome == AMTP_STEP_SKIPPED);
	}
	free(steps);
	assert_escrow_matches(v, dev, fd);

	/* unprovision's step waits for its start to be committed: with
	 * five failed flushes it still sends Unprovision exactly once */
	assert_int_equal(amtp_store_job_enqueue(v->st, dev,
	    AMTP_JOB_UNPROVISION, &job, NULL), 0);
	v->cfg.fail_flushes = 5;
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	assert_int_equal(fd->unprovisions, 1);
	assert_int_equal(fd->state, 0);
	assert_true(log_has(v, job, "unprovision", AMTP_STEP_OK, NULL));
	oobsp_engine_stats(v->e, &stats);
	assert_true(stats.log_commits >= 6);
	v->cfg.fail_flushes = 0;
}

/* The escrow waits for its flush: with no interval flush before it, the
 * first three flushes are the ones it waits for, and they fail; it is
 * tried again 25 ms after each, then goes on (not dropped, no second
 * password). */
static void TEST_A
test_durable_flush_fails(void **state)
{
	struct env *v = *state;
	struct oobsp_stats stats;
	struct amtp_cred_rec *recs = NULL;
	struct fakedev *fd;
	struct timespec t0, t1;
	size_t n = 0;
	int64_t dev, job;

	dev = add_device(v, 6, "OTPdflush234567890123456",
	    "OTPdflush234567890123456", &fd, &job);
	v->cfg.log_flush_ms = 600000;
	v->cfg.fail_flushes = 3;
	engine_start(v);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(run_engine(v, 20000), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	oobsp_engine_stats(v->e, &stats);
	assert_int_equal(stats.jobs_requeued, 0);
	assert_true(stats.log_commits >= 4);
	assert_int_equal(fd->requests, stats.requests);
	assert_escrow_matches(v, dev, fd);
	/* one admin and one MEBx password: the failed flushes made no second
	 * one */
	assert_int_equal(amtp_store_cred_list(v->st, dev, &recs, &n), 0);
	free(recs);
	assert_int_equal(n, 2);
	/* retried at 25 ms, not at the 10-minute interval */
	assert_true(t1.tv_sec - t0.tv_sec < 10);
	v->cfg.log_flush_ms = 0;
	v->cfg.fail_flushes = 0;
}

/* ---- many devices at once ---- */

static void TEST_A
test_fleet(void **state)
{
	struct env *v = *state;
	struct oobsp_stats stats;
	struct fakedev *fd[30];
	int64_t job[30], dev[30];
	char otp[32];
	int i;

	for (i = 0; i < 30; i++) {
		snprintf(otp, sizeof(otp), "OTPfleet%016d", i);
		dev[i] = add_device(v, 100 + i, otp, otp, &fd[i], &job[i]);
	}
	fd[7]->reset_at[0] = 4;
	engine_start(v);
	assert_int_equal(run_engine(v, 30000), 0);
	for (i = 0; i < 30; i++) {
		assert_job(v, job[i], AMTP_JOB_DONE, NULL);
		assert_escrow_matches(v, dev[i], fd[i]);
	}
	/* 8 at once: most places were filled by the flush that wrote the
	 * end of the job before, in its commit */
	oobsp_engine_stats(v->e, &stats);
	assert_int_equal(stats.jobs_claimed, 30);
	assert_true(stats.claims_flushed >= 10);
}

#ifdef OOBSP_TEST_PG
static void
test_provision_one_pg(void **state)
{
	test_provision_one(state);
}

static void
test_fleet_pg(void **state)
{
	test_fleet(state);
}
#endif

/* ---- rotate jobs ---- */

static void TEST_A
test_rotate(void **state)
{
	struct env *v = *state;
	struct amtp_audit_filter af;
	struct amtp_audit_rec *au = NULL;
	struct fakedev *fd;
	size_t n = 0;
	int64_t job, dev;
	int vers = 0;
	struct amtp_secret *pw = NULL;

	dev = add_device(v, 80, "OTProtbcdefghijklmnopqrs",
	    "OTProtbcdefghijklmnopqrs", &fd, &job);
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	assert_int_equal(amtp_store_job_enqueue(v->st, dev, AMTP_JOB_ROTATE,
	    &job, NULL), 0);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	assert_true(log_has(v, job, "rotate-admin", AMTP_STEP_OK,
	    "admin password v2 set, escrowed and checked"));
	assert_int_equal(amtp_store_cred_get(v->st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_CURRENT, &vers, &pw), 0);
	assert_int_equal(vers, 2);
	amtp_secret_free(pw);
	assert_escrow_matches(v, dev, fd);
	memset(&af, 0, sizeof(af));
	af.device_id = dev;
	assert_int_equal(amtp_store_audit_list(v->st, &af, &au, &n, NULL), 0);
	assert_true(n >= 2);
	assert_string_equal(au[0].action, "device.password.rotated");
	free(au);
}

static void TEST_B
test_rotate_killed(void **state)
{
	struct env *v = *state;
	struct amtp_job_rec rec;
	struct fakedev *fd;
	char owner2[80];
	int64_t job, dev;
	int i, vers = 0;
	struct amtp_secret *pw = NULL;

	dev = add_device(v, 81, "OTProtbcdefghijklmnopqrs",
	    "OTProtbcdefghijklmnopqrs", &fd, &job);
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	assert_int_equal(amtp_store_job_enqueue(v->st, dev, AMTP_JOB_ROTATE,
	    &job, NULL), 0);
	/* killed right after the device took the new password: connect,
	 * read-facts, verify, SetAdminAclEntryEx */
	v->cfg.lease_secs = 1;
	v->net->kill_after = v->net->processed + 4;
	engine_start(v);
	assert_int_equal(run_engine(v, 10000), AMTP_E_INTERNAL);
	oobsp_engine_free(v->e);
	v->e = NULL;
	v->net->killed = 0;
	v->net->kill_after = 0;
	assert_int_equal(amtp_store_cred_get(v->st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_PENDING, &vers, &pw), 0);	/* in doubt */
	amtp_secret_free(pw);
	snprintf(owner2, sizeof(owner2), "%s-rot", v->owner);
	v->cfg.owner = owner2;
	v->cfg.lease_secs = 60;
	engine_start(v);
	for (i = 0; i < 100; i++) {
		assert_int_equal(run_engine(v, 20000), 0);
		assert_int_equal(amtp_store_job_get(v->st, job, &rec), 0);
		if (rec.state == AMTP_JOB_DONE)
			break;
		usleep(50000);
	}
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	assert_true(log_has(v, job, "connect", AMTP_STEP_OK,
	    "pending admin password v2 works: promoted"));
	assert_true(log_has(v, job, "rotate-admin", AMTP_STEP_SKIPPED,
	    "from an earlier attempt"));
	assert_escrow_matches(v, dev, fd);
	v->cfg.owner = v->owner;
}

/* ---- unprovision ---- */

/* A provisioned device with a built-in directory account (enabled). */
static int64_t
provisioned_with_account(struct env *v, int i, struct fakedev **fd)
{
	struct amtp_diracct_rec acct;
	struct amtp_secret *pw = NULL;
	char otp[32];
	int64_t job, dev;

	snprintf(otp, sizeof(otp), "OTPunp%02dcdefghijklmnopq", i);
	dev = add_device(v, i, otp, otp, fd, &job);
	memset(&acct, 0, sizeof(acct));
	snprintf(acct.name, sizeof(acct.name), "pc%d", i);
	snprintf(acct.container, sizeof(acct.container), "OU=AMT");
	acct.device_id = dev;
	acct.enabled = 1;
	assert_int_equal(amtp_secret_from_cstr("dir-password", &pw), 0);
	assert_int_equal(amtp_store_diracct_put(v->st, &acct, pw, NULL, NULL),
	    0);
	amtp_secret_free(pw);
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	assert_int_equal((*fd)->state, 2);
	return dev;
}

static void TEST_A
test_unprovision(void **state)
{
	struct env *v = *state;
	struct amtp_diracct_rec acct;
	struct amtp_device_rec d;
	struct amtp_audit_filter af;
	struct amtp_audit_rec *au = NULL;
	struct amtp_secret *pw = NULL;
	struct amtp_dir *dir = NULL;
	struct fakedev *fd;
	int64_t job, dev;
	size_t n = 0;
	int vers = 0;

	dev = provisioned_with_account(v, 91, &fd);
	assert_int_equal(amtp_dir_open_builtin(v->st, &dir), 0);
	oobsp_engine_use_dir(v->e, dir, "OU=AMT");
	assert_int_equal(amtp_store_job_enqueue(v->st, dev,
	    AMTP_JOB_UNPROVISION, &job, NULL), 0);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	if (!log_has(v, job, "connect", AMTP_STEP_OK, "escrowed admin"))
		dump_log(v, job);
	assert_true(log_has(v, job, "unprovision", AMTP_STEP_OK,
	    "Unprovision(ProvisioningMode 1): 0; device was POST"));
	assert_true(log_has(v, job, "confirm-pre", AMTP_STEP_OK,
	    "does not listen: the device is PRE"));
	assert_true(log_has(v, job, "directory", AMTP_STEP_OK,
	    "directory account pc91 disabled (builtin)"));
	assert_true(log_has(v, job, "report", AMTP_STEP_OK,
	    "status not provisioned"));
	/* the device */
	assert_int_equal(fd->state, 0);
	assert_int_equal(fd->unprovisions, 1);
	/* the site database: status, account, escrow kept, audit */
	assert_int_equal(amtp_store_device_get(v->st, dev, &d), 0);
	assert_int_equal(d.status, AMTP_AMT_NOT_PROVISIONED);
	assert_int_equal(amtp_store_diracct_get(v->st, "pc91", &acct), 0);
	assert_int_equal(acct.enabled, 0);
	/* the escrow retired (no current version), still readable */
	assert_int_equal(amtp_store_cred_get(v->st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_CURRENT, &vers, &pw), AMTP_E_NOTFOUND);
	assert_int_equal(amtp_store_cred_get(v->st, dev, AMTP_CRED_ADMIN,
	    AMTP_CRED_RETIRED, &vers, &pw), 0);
	assert_int_equal(vers, 1);
	amtp_secret_free(pw);
	assert_true(log_has(v, job, "report", AMTP_STEP_OK,
	    "escrow retired: 1 admin, 1 MEBx versions"));
	memset(&af, 0, sizeof(af));
	af.device_id = dev;
	assert_int_equal(amtp_store_audit_list(v->st, &af, &au, &n, NULL), 0);
	assert_true(n >= 2);
	assert_string_equal(au[0].action, "device.unprovisioned");
	free(au);
	/* a second unprovision job: the device no longer listens, and no
	 * earlier attempt of that job sent Unprovision: it is the device
	 * that is unreachable (requeued, not done) */
	assert_int_equal(amtp_store_job_enqueue(v->st, dev,
	    AMTP_JOB_UNPROVISION, &job, NULL), 0);
	v->cfg.step_retries = 1;
	v->cfg.backoff_ms = 10;
	engine_start(v);
	assert_int_equal(run_engine(v, 20000), 0);
	assert_job(v, job, AMTP_JOB_QUEUED, NULL);
	assert_int_equal(fd->unprovisions, 1);
	oobsp_engine_free(v->e);
	v->e = NULL;
	amtp_dir_close(dir);
}

static void TEST_B
test_unprovision_killed(void **state)
{
	struct env *v = *state;
	struct amtp_job_rec rec;
	struct amtp_device_rec d;
	struct fakedev *fd;
	char owner2[80];
	int64_t job, dev;
	int i;

	dev = provisioned_with_account(v, 92, &fd);
	assert_int_equal(amtp_store_job_enqueue(v->st, dev,
	    AMTP_JOB_UNPROVISION, &job, NULL), 0);
	/* killed right after the device took Unprovision: connect's Get,
	 * Unprovision */
	v->cfg.lease_secs = 1;
	v->net->kill_after = v->net->processed + 2;
	engine_start(v);
	assert_int_equal(run_engine(v, 10000), AMTP_E_INTERNAL);
	oobsp_engine_free(v->e);
	v->e = NULL;
	v->net->killed = 0;
	v->net->kill_after = 0;
	assert_int_equal(fd->state, 0);
	assert_int_equal(amtp_store_device_get(v->st, dev, &d), 0);
	assert_int_equal(d.status, AMTP_AMT_PROVISIONED);
	snprintf(owner2, sizeof(owner2), "%s-unp", v->owner);
	v->cfg.owner = owner2;
	v->cfg.lease_secs = 60;
	engine_start(v);	/* no directory: that step is skipped */
	for (i = 0; i < 100; i++) {
		assert_int_equal(run_engine(v, 20000), 0);
		assert_int_equal(amtp_store_job_get(v->st, job, &rec), 0);
		if (rec.state == AMTP_JOB_DONE)
			break;
		usleep(50000);
	}
	assert_job(v, job, AMTP_JOB_DONE, NULL);
	if (!log_has(v, job, "connect", AMTP_STEP_OK,
	    "does not listen: PRE (an earlier attempt's Unprovision)"))
		dump_log(v, job);
	assert_true(log_has(v, job, "connect", AMTP_STEP_OK,
	    "does not listen: PRE (an earlier attempt's Unprovision)"));
	assert_true(log_has(v, job, "unprovision", AMTP_STEP_SKIPPED,
	    "device PRE already"));
	assert_true(log_has(v, job, "confirm-pre", AMTP_STEP_OK,
	    "PRE (found at connect)"));
	assert_true(log_has(v, job, "directory", AMTP_STEP_SKIPPED,
	    "no directory configured"));
	assert_int_equal(fd->unprovisions, 1);
	assert_int_equal(amtp_store_device_get(v->st, dev, &d), 0);
	assert_int_equal(d.status, AMTP_AMT_NOT_PROVISIONED);
	v->cfg.owner = v->owner;
}

/* ---- the policy from amtprovd.conf ---- */

static void TEST_A
test_policy_load(void **state)
{
	static const char conf[] =
	    "[site]\nroles = oobsp\ndatabase = sqlite:/x.db\n"
	    "master_key_file = /x.key\n"
	    "[oob]\ndns_domain = fleet.example.test\npower_scheme = s0_s3\n"
	    "web_ui = true\nserial_over_lan = false\n"
	    "[mebx]\npolicy = keep\n"
	    "[admin_acl.k]\naccount = S-1-5-21-1-2-3-1001\ntype = kerberos\n"
	    "realms = pt_administration,redirection\naccess = network\n";
	struct oobsp_policy p;
	struct amtp_conf *c = NULL;
	char err[256], text[3072], pskpath[128];
	FILE *f;
	int n;

	(void)state;
	snprintf(pskpath, sizeof(pskpath), "%s/psk", g_dir);
	assert_non_null(f = fopen(pskpath, "w"));
	fputs("Office-PSK-123\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(pskpath, 0600), 0);
	n = snprintf(text, sizeof(text), "%s[wifi.office]\nssid = OfficeNet\n"
	    "security = wpa2_psk\npsk_file = %s\npriority = 3\n"
	    "[wifi.corp]\nssid = CorpNet\nsecurity = wpa2_enterprise\n"
	    "encryption = tkip\nieee8021x = peap\n"
	    "[ieee8021x.peap]\nmethod = peap_mschapv2\n"
	    "server_names = radius.example.test\nusername = amt\n"
	    "password_file = %s\n", conf, pskpath, pskpath);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	assert_int_equal(amtpd_config_load_mem(text, (size_t)n, &c,
	    err, sizeof(err)), 0);
	assert_int_equal(oobsp_policy_load(c, &p, err, sizeof(err)), 0);
	assert_string_equal(p.dns_domain, "fleet.example.test");
	assert_int_equal(p.power_scheme, 1);
	assert_true(p.web_ui);
	assert_false(p.sol);
	assert_int_equal(p.mebx, OOBSP_MEBX_KEEP);
	/* no setup credential: admin with the empty password */
	assert_int_equal(p.ncreds, 1);
	assert_string_equal(p.creds[0].user, "admin");
	assert_int_equal(amtp_secret_len(p.creds[0].password), 0);
	assert_int_equal(p.nacls, 1);
	assert_true(p.acls[0].kerberos);
	assert_int_equal(p.acls[0].access, 1);
	assert_int_equal(p.acls[0].nrealms, 2);
	assert_int_equal(p.acls[0].realms[0], 3);
	assert_int_equal(p.acls[0].realms[1], 2);
	assert_int_equal(p.nwifi, 2);
	assert_string_equal(p.wifi[0].name, "office");
	assert_string_equal(p.wifi[0].ssid, "OfficeNet");
	assert_int_equal(p.wifi[0].auth, 6);
	assert_int_equal(p.wifi[0].enc, 4);
	assert_int_equal(p.wifi[0].priority, 3);
	assert_string_equal(amtp_secret_cstr(p.wifi[0].psk), "Office-PSK-123");
	assert_int_equal(p.wifi[1].auth, 7);
	assert_int_equal(p.wifi[1].enc, 3);
	assert_null(p.wifi[1].psk);
	assert_int_equal(p.wifi[1].x8021, 0);
	assert_int_equal(p.nx8021, 1);
	assert_int_equal(p.x8021[0].protocol, 2);
	assert_string_equal(p.x8021[0].server_name, "radius.example.test");
	assert_string_equal(p.x8021[0].username, "amt");
	assert_non_null(p.x8021[0].password);
	assert_int_equal(p.wired, -1);
	oobsp_policy_reset(&p);
	amtp_conf_free(c);
	assert_int_equal(oobsp_realm_parse("storage_admin"), 8);
	assert_int_equal(oobsp_realm_parse("nope"), -1);
}

/*
 * Two programs share this file, so each stays under 10 s: this one, and
 * oobsp_resume.c, which defines OOBSP_TEST_RESUME and includes it to run the
 * kill-and-resume tests (each waits 1 to 2 s for a lease to run out).
 */
int
main(void)
{
#if !defined(OOBSP_TEST_RESUME) && !defined(OOBSP_TEST_PG)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_policy_load),
		cmocka_unit_test_setup_teardown(test_provision_one, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_escrow_durable_first,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_durable_flush_fails,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_enumerate_long_context,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_otp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_otp_on_device, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_credentials_spent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_credentials_second_works,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_old_amt_version, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_keygen_fallback, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reset_mid_stage1, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reboot_after_commit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_down_requeues, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_post_unknown_password,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_kerberos, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kerberos_no_account, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wifi_profiles, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wifi_wired_device, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wifi_enterprise, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rotate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unprovision, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_log_commit_fails, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fleet, setup, teardown),
	};
#elif defined(OOBSP_TEST_PG)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_provision_one_pg, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_post_pending_resolution,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_after_admin_password,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fleet_pg, setup, teardown),
	};

	if (getenv("AMTP_TEST_PG") == NULL || getenv("AMTP_TEST_PG")[0] ==
	    '\0') {
		fprintf(stderr, "AMTP_TEST_PG is not set: the service point's "
		    "PostgreSQL tests are skipped\n");
		return 0;
	}
#else
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_post_pending_resolution,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_after_admin_password,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_kill_after_admin_password_admin_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_after_commit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rotate_killed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unprovision_killed, setup,
		    teardown),
	};
#endif

	if (getenv("OOBSP_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("OOBSP_TEST_FILTER"));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
