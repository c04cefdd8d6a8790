/*
 * amtprov - bench/oobsp_fleet.c: drives the service point (role oobsp)
 * against a simulated fleet, for the benchmark (bench/oobsp_bench.sh) and
 * the integration tests (tests/integration/oobsp_*.sh).
 *
 *   oobsp_fleet init DIR DOMAIN
 *	a site in DIR: master key, site CA, lab provisioning chain; prints
 *	the lab root's SHA-256 (amtsim --trust-root DIR/lab-root.sha256)
 *   oobsp_fleet enqueue DIR DOMAIN N ADDR1 OTPPREFIX [FIRST]
 *	N devices pcF..pc(F+N-1) (F = FIRST, default 1) at ADDR1, ADDR1+1,
 *	... whose agents reported the OTP OTPPREFIX<i> (its SHA-256), each
 *	with a queued provisioning job
 *   oobsp_fleet rotate DIR DEVICE-ID
 *	queues a rotate job (a new admin password) for the device
 *   oobsp_fleet serve DIR [WORKERS]
 *	runs the engine (real transport: TLS, Digest, wsclient) until no job
 *	is queued or running; prints devices/s and CPU ms per device
 *   oobsp_fleet status DIR
 *	one line per job: id device state last_error; exit 0 when all done
 *   oobsp_fleet password DIR DEVICE-ID
 *	prints the escrowed current admin password (a test helper: an admin
 *	would use `amtprov device password --reveal`, which audits)
 *
 * The site database is DIR/site.db (SQLite).  Not installed.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/pki.h"
#include "amtprov/rand.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "amtprovd/enroll/ca.h"
#include "amtprovd/enroll/signer.h"
#include "amtprovd/oobsp/oobsp.h"
#include "amtprovd/store/store.h"

static char keypath[1024], dburi[1100];

static void
paths(const char *dir)
{
	snprintf(keypath, sizeof(keypath), "%s/master.key", dir);
	snprintf(dburi, sizeof(dburi), "sqlite:%s/site.db", dir);
}

static int
open_site(const char *dir, struct amtp_master_key **mk,
    struct amtp_store **st)
{
	char err[512];
	int r;

	paths(dir);
	if ((r = amtp_master_key_load(keypath, mk, err, sizeof(err))) != 0) {
		fprintf(stderr, "master key: %s\n", err);
		return r;
	}
	if ((r = amtp_store_open(dburi, *mk, st, err, sizeof(err))) != 0) {
		fprintf(stderr, "store: %s\n", err);
		return r;
	}
	return 0;
}

static int
cmd_init(const char *dir, const char *domain)
{
	struct amtp_master_key *mk = NULL;
	char err[512], hex[65];
	int r;

	paths(dir);
	if ((r = amtp_master_key_create(keypath, err, sizeof(err))) != 0 ||
	    (r = amtp_master_key_load(keypath, &mk, err, sizeof(err))) != 0 ||
	    (r = amtp_ca_create(dir, mk, "oobsp fleet", err,
	    sizeof(err))) != 0 ||
	    (r = amtp_ca_make_lab_provisioning_chain(dir, mk, domain, hex,
	    err, sizeof(err))) != 0) {
		fprintf(stderr, "init: %s (%s)\n", err, amtp_strerror(r));
		amtp_master_key_free(mk);
		return 1;
	}
	printf("%s\n", hex);
	amtp_master_key_free(mk);
	return 0;
}

static int
next_addr(const char *a0, int i, char *out, size_t outsz)
{
	unsigned a, b, c, d, v;

	if (sscanf(a0, "%u.%u.%u.%u", &a, &b, &c, &d) != 4)
		return -1;
	v = (a << 24 | b << 16 | c << 8 | d) + (unsigned)i;
	snprintf(out, outsz, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255,
	    (v >> 8) & 255, v & 255);
	return 0;
}

/* OOBSP_DIRACCT: the directory account the site would make (step 4). */
static int
add_diracct(struct amtp_store *st, int64_t id, const char *host,
    const char *fqdn)
{
	struct amtp_diracct_rec a;
	struct amtp_secret *pw = NULL;
	int r;

	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "%s", host);
	snprintf(a.container, sizeof(a.container), "OU=AMT");
	a.device_id = id;
	a.enabled = 1;
	a.n_spns = 2;
	if (strlen(fqdn) > 280)
		return AMTP_E_TOOBIG;
	if (snprintf(a.spns[0], sizeof(a.spns[0]), "HTTP/%.280s:16992", fqdn) >=
	    (int)sizeof(a.spns[0]) || snprintf(a.spns[1], sizeof(a.spns[1]),
	    "HTTP/%.280s:16993", fqdn) >= (int)sizeof(a.spns[1]))
		return AMTP_E_TOOBIG;
	if ((r = amtp_rand_password(AMTP_DIR_PASSWORD_LEN, &pw)) != 0)
		return r;
	r = amtp_store_diracct_put(st, &a, pw, NULL, NULL);
	amtp_secret_free(pw);
	return r;
}

static int
cmd_enqueue(const char *dir, const char *domain, int n, const char *a0,
    const char *prefix, int first)
{
	struct amtp_master_key *mk = NULL;
	struct amtp_store *st = NULL;
	struct amtp_device_in in;
	char uuid[40], host[32], fqdn[300], addr[32], otp[64], hex[65];
	unsigned char md[32];
	unsigned mdlen;
	int64_t id, job;
	int i, r, status = 1;

	if (open_site(dir, &mk, &st) != 0)
		goto out;
	for (i = first; i < first + n; i++) {
		snprintf(uuid, sizeof(uuid), "00000000-0000-4000-8000-%012d",
		    i);
		snprintf(host, sizeof(host), "pc%d", i);
		snprintf(fqdn, sizeof(fqdn), "pc%d.%s", i, domain);
		if (next_addr(a0, i - first, addr, sizeof(addr)) != 0)
			goto out;
		snprintf(otp, sizeof(otp), "%s%d", prefix, i);
		if (EVP_Digest(otp, strlen(otp), md, &mdlen, EVP_sha256(),
		    NULL) != 1 || amtp_hex_encode(hex, sizeof(hex), md, 32,
		    0) != 0)
			goto out;
		memset(&in, 0, sizeof(in));
		in.uuid = uuid;
		in.hostname = host;
		in.fqdn = fqdn;
		in.amt_addr = addr;
		if ((r = amtp_store_device_upsert(st, &in, &id, NULL)) != 0 ||
		    (r = amtp_store_device_set_otp_hash(st, id, hex)) != 0 ||
		    (getenv("OOBSP_DIRACCT") != NULL &&
		    (r = add_diracct(st, id, host, fqdn)) != 0) ||
		    (r = amtp_store_job_enqueue(st, id, AMTP_JOB_PROVISION,
		    &job, NULL)) != 0) {
			fprintf(stderr, "device %d: %s: %s\n", i,
			    amtp_strerror(r), amtp_store_errmsg(st));
			goto out;
		}
	}
	status = 0;
 out:
	amtp_store_close(st);
	amtp_master_key_free(mk);
	return status;
}

static int
open_jobs(struct amtp_store *st, size_t *open)
{
	struct amtp_job_filter f;
	struct amtp_job_rec *jobs = NULL;
	size_t n = 0, total = 0;
	int r;

	*open = 0;
	memset(&f, 0, sizeof(f));
	f.kind = -1;
	f.limit = 1;
	f.state = AMTP_JOB_QUEUED;
	if ((r = amtp_store_job_list(st, &f, &jobs, &n, &total)) != 0)
		return r;
	free(jobs);
	jobs = NULL;
	*open += total;
	f.state = AMTP_JOB_RUNNING;
	if ((r = amtp_store_job_list(st, &f, &jobs, &n, &total)) != 0)
		return r;
	free(jobs);
	*open += total;
	return 0;
}

static double
cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
	    ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
}

static double
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmd_serve(const char *dir, int workers)
{
	struct amtp_master_key *mk = NULL;
	struct amtp_store *st = NULL;
	struct amtp_ca *ca = NULL;
	struct amtp_signer *sg = NULL;
	struct amtp_secret *key = NULL;
	STACK_OF(X509) *chain = NULL;
	struct amtp_buf *pem = NULL;
	struct oobsp_transport *tr = NULL;
	struct oobsp_engine *e = NULL;
	struct oobsp_engine_cfg cfg;
	struct oobsp_policy pol;
	struct oobsp_stats s;
	char err[512], owner[128];
	const char *v;
	long long lease, num;
	double w0, c0, w, c, sgc;
	size_t open = 1;
	pid_t signer_pid = -1;
	int busy = 0, r, status = 1, idle = 0, fd;

	memset(&pol, 0, sizeof(pol));
	if (open_site(dir, &mk, &st) != 0)
		goto out;
	/*
	 * OOBSP_PROV_CHAIN and OOBSP_PROV_KEY (tests of the certificate
	 * rules only): present this PEM chain and key instead of the site's
	 * provisioning certificate, which could not hold a broken chain.
	 */
	if (getenv("OOBSP_PROV_CHAIN") != NULL &&
	    getenv("OOBSP_PROV_KEY") != NULL) {
		struct amtp_buf *kb = NULL;

		if (amtp_buf_load_file(getenv("OOBSP_PROV_CHAIN"),
		    AMTP_PKI_PEM_MAX, &pem) != 0 ||
		    amtp_buf_load_file(getenv("OOBSP_PROV_KEY"),
		    AMTP_SECRET_MAX, &kb) != 0 ||
		    amtp_secret_new(amtp_buf_ptr(kb), amtp_buf_len(kb),
		    &key) != 0) {
			amtp_buf_free(kb);
			fprintf(stderr, "OOBSP_PROV_CHAIN/KEY\n");
			goto out;
		}
		amtp_buf_free(kb);
	} else if ((r = amtp_ca_load_provisioning(dir, mk, &key,
	    &chain)) != 0 || (pem = amtp_buf_new(AMTP_PKI_PEM_MAX)) == NULL ||
	    amtp_pki_chain_to_pem(chain, pem) != 0) {
		fprintf(stderr, "provisioning chain\n");
		goto out;
	}
	/*
	 * The certificates are signed as the role does it: by a signer
	 * process of its own (its CPU is counted apart, as the enrollment
	 * point's).  OOBSP_SIGNER=local signs in this process.
	 */
	if ((r = amtp_ca_load(dir, mk, &ca, err, sizeof(err))) != 0) {
		fprintf(stderr, "CA: %s\n", err);
		goto out;
	}
	if ((v = getenv("OOBSP_SIGNER")) != NULL && strcmp(v, "local") == 0)
		r = amtp_signer_local(ca, &sg);
	else if ((r = amtp_signer_spawn(ca, &signer_pid, &fd)) == 0 &&
	    (r = amtp_signer_remote(fd, &sg)) != 0)
		close(fd);
	if (r != 0) {
		fprintf(stderr, "signer: %s\n", amtp_strerror(r));
		goto out;
	}
	/* the site's defaults: admin with "", random MEBx, no ACLs */
	snprintf(pol.dns_domain, sizeof(pol.dns_domain), "unused");
	pol.admin_pw_len = 16;
	pol.mebx = OOBSP_MEBX_RANDOM;
	pol.mebx_pw_len = 16;
	pol.ncreds = 1;
	snprintf(pol.creds[0].name, sizeof(pol.creds[0].name), "default");
	snprintf(pol.creds[0].user, sizeof(pol.creds[0].user), "admin");
	if (amtp_secret_new("", 0, &pol.creds[0].password) != 0)
		goto out;
	/* OOBSP_SETUP_PASSWORDS=P1,P2,...: the setup credential list (user
	 * admin) instead of the empty password */
	if ((v = getenv("OOBSP_SETUP_PASSWORDS")) != NULL) {
		const char *cur = v, *comma;
		size_t len;

		amtp_secret_free(pol.creds[0].password);
		pol.creds[0].password = NULL;
		pol.ncreds = 0;
		while (*cur != '\0' && pol.ncreds < OOBSP_SETUP_CREDS_MAX) {
			struct oobsp_setup_cred *sc = &pol.creds[pol.ncreds];

			comma = strchr(cur, ',');
			len = comma != NULL ? (size_t)(comma - cur) :
			    strlen(cur);
			snprintf(sc->name, sizeof(sc->name), "c%zu",
			    pol.ncreds + 1);
			snprintf(sc->user, sizeof(sc->user), "admin");
			if (amtp_secret_new(cur, len, &sc->password) != 0)
				goto out;
			pol.ncreds++;
			cur += len + (comma != NULL ? 1 : 0);
		}
	}
	pol.power_scheme = 2;
	pol.sol = pol.ider = pol.ping = 1;
	/* OOBSP_WIFI_SSID: one WPA2-PSK profile "office" for wireless
	 * devices (the passphrase is a test value) */
	if ((v = getenv("OOBSP_WIFI_SSID")) != NULL) {
		snprintf(pol.wifi[0].name, sizeof(pol.wifi[0].name), "office");
		snprintf(pol.wifi[0].ssid, sizeof(pol.wifi[0].ssid), "%s", v);
		pol.wifi[0].auth = 6;
		pol.wifi[0].enc = 4;
		pol.wifi[0].priority = 1;
		if (amtp_secret_from_cstr("Office-PSK-123", &pol.wifi[0].psk) !=
		    0)
			goto out;
		pol.nwifi = 1;
	}
	/* OOBSP_KERBEROS=REALM: Kerberos from the directory accounts;
	 * OOBSP_ACL_USER=NAME: a digest user ACL entry (test password) */
	if ((v = getenv("OOBSP_KERBEROS")) != NULL) {
		pol.kerberos = 1;
		snprintf(pol.krb_realm, sizeof(pol.krb_realm), "%s", v);
		pol.krb_tolerance = 5;
	}
	if ((v = getenv("OOBSP_ACL_USER")) != NULL) {
		snprintf(pol.acls[0].name, sizeof(pol.acls[0].name), "ops");
		snprintf(pol.acls[0].account, sizeof(pol.acls[0].account), "%s",
		    v);
		if (amtp_secret_from_cstr("Op3rator!pw",
		    &pol.acls[0].password) != 0)
			goto out;
		pol.acls[0].access = 2;
		pol.acls[0].nrealms = 2;
		pol.acls[0].realms[0] = 3;
		pol.acls[0].realms[1] = 2;
		pol.nacls = 1;
	}
	/* OOBSP_8021X_ROOT=FILE: an EAP-TLS profile (that root, a client
	 * certificate per device) used by a Wi-Fi profile "corp" and by the
	 * wired interface */
	pol.wired = -1;
	if ((v = getenv("OOBSP_8021X_ROOT")) != NULL) {
		STACK_OF(X509) *roots = NULL;
		struct oobsp_8021x *x = &pol.x8021[0];

		if (amtp_pki_chain_load(v, &roots) != 0)
			goto out;
		x->ca = X509_dup(sk_X509_value(roots, sk_X509_num(roots) - 1));
		amtp_pki_chain_free(roots);
		snprintf(x->name, sizeof(x->name), "corp-tls");
		snprintf(x->server_name, sizeof(x->server_name),
		    "radius.example.test");
		x->protocol = 0;
		x->client_cert = 1;
		pol.nx8021 = 1;
		snprintf(pol.wifi[pol.nwifi].name, sizeof(pol.wifi[0].name),
		    "corp");
		snprintf(pol.wifi[pol.nwifi].ssid, sizeof(pol.wifi[0].ssid),
		    "CorpNet");
		pol.wifi[pol.nwifi].auth = 7;
		pol.wifi[pol.nwifi].enc = 4;
		pol.wifi[pol.nwifi].priority = 2;
		pol.wifi[pol.nwifi].x8021 = 0;
		pol.nwifi++;
		pol.wired_8021x = 1;
		pol.wired = 0;
	}
	if ((r = oobsp_ws_transport_new((size_t)workers * 2, 0, 0,
	    &tr)) != 0)
		goto out;
	snprintf(owner, sizeof(owner), "oobsp-fleet:%ld:%lld", (long)getpid(),
	    (long long)time(NULL));
	memset(&cfg, 0, sizeof(cfg));
	cfg.owner = owner;
	/* OOBSP_LEASE: the crash test uses 1 s so that a killed service
	 * point's jobs are taken over quickly */
	cfg.lease_secs = 5;
	if ((v = getenv("OOBSP_LEASE")) != NULL &&
	    amtp_parse_int(v, 1, 3600, &lease) == 0)
		cfg.lease_secs = (int)lease;
	/* OOBSP_DIE_AFTER=N: stop as if killed before request N+1 (nothing
	 * more written); OOBSP_LOG_FLUSH_MS: the step log's commit interval
	 * (a test sets it long so that a stop loses the rows since the
	 * first turn) */
	if ((v = getenv("OOBSP_DIE_AFTER")) != NULL &&
	    amtp_parse_int(v, 1, 1000000, &num) == 0)
		cfg.die_after_requests = (unsigned long)num;
	if ((v = getenv("OOBSP_LOG_FLUSH_MS")) != NULL &&
	    amtp_parse_int(v, 1, 3600000, &num) == 0)
		cfg.log_flush_ms = (unsigned)num;
	cfg.max_jobs = workers;
	cfg.max_attempts = 50;
	cfg.backoff_ms = 200;
	cfg.requeue_secs = 1;
	cfg.idle_claim_ms = 50;
	if ((r = oobsp_engine_new(&cfg, st, tr, &pol, sg, amtp_buf_str(pem),
	    key, &e)) != 0)
		goto out;
	w0 = wall_ms();
	c0 = cpu_ms();
	while (open > 0 || busy > 0) {
		if ((r = oobsp_engine_poll(e, 50, &busy)) != 0) {
			fprintf(stderr, "engine: %s\n", amtp_strerror(r));
			goto out;
		}
		if (busy == 0 && ++idle % 10 == 0 &&
		    open_jobs(st, &open) != 0)
			goto out;
		if (busy > 0)
			idle = 0;
	}
	w = wall_ms() - w0;
	c = cpu_ms() - c0;
	oobsp_engine_stats(e, &s);
	/* the signer ends when its socket closes: then its CPU is known */
	amtp_signer_free(sg);
	sg = NULL;
	sgc = 0;
	if (signer_pid > 0) {
		struct rusage ru;

		while (waitpid(signer_pid, NULL, 0) == -1 && errno == EINTR)
			;
		signer_pid = -1;
		getrusage(RUSAGE_CHILDREN, &ru);
		sgc = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
		    ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
	}
	printf("jobs %lu done %lu failed %lu requeued %lu requests %lu "
	    "reads-reused %lu retries %lu log-commits %lu (claims in them "
	    "%lu)\n", s.jobs_claimed, s.jobs_done, s.jobs_failed,
	    s.jobs_requeued, s.requests, s.reads_reused, s.step_retries,
	    s.log_commits, s.claims_flushed);
	if (s.jobs_done > 0)
		printf("devices/s %.1f  cpu-ms/device %.2f  wall %.0f ms  "
		    "(signer process: cpu-ms/device %.2f)\n",
		    s.jobs_done * 1000.0 / w, c / (double)s.jobs_done, w,
		    sgc / (double)s.jobs_done);
	status = 0;
 out:
	oobsp_engine_free(e);
	if (tr != NULL)
		tr->ops->free(tr);
	oobsp_policy_reset(&pol);
	amtp_signer_free(sg);
	if (signer_pid > 0)
		while (waitpid(signer_pid, NULL, 0) == -1 && errno == EINTR)
			;
	amtp_ca_free(ca);
	amtp_buf_free(pem);
	amtp_pki_chain_free(chain);
	amtp_secret_free(key);
	amtp_store_close(st);
	amtp_master_key_free(mk);
	return status;
}

static int
cmd_status(const char *dir)
{
	struct amtp_master_key *mk = NULL;
	struct amtp_store *st = NULL;
	struct amtp_job_filter f;
	struct amtp_job_rec *jobs = NULL;
	size_t i, n = 0;
	int status = 1;

	if (open_site(dir, &mk, &st) != 0)
		goto out;
	memset(&f, 0, sizeof(f));
	f.kind = -1;
	f.state = -1;
	f.limit = AMTP_STORE_LIST_MAX;
	if (amtp_store_job_list(st, &f, &jobs, &n, NULL) != 0)
		goto out;
	status = 0;
	for (i = 0; i < n; i++) {
		printf("%lld %lld %s %d %s\n", (long long)jobs[i].id,
		    (long long)jobs[i].device_id,
		    amtp_store_job_state_name(jobs[i].state),
		    jobs[i].attempts, jobs[i].last_error);
		if (jobs[i].state != AMTP_JOB_DONE)
			status = 1;
	}
 out:
	free(jobs);
	amtp_store_close(st);
	amtp_master_key_free(mk);
	return status;
}

static int
cmd_job(const char *dir, const char *dev, enum amtp_job_kind kind)
{
	struct amtp_master_key *mk = NULL;
	struct amtp_store *st = NULL;
	long long id;
	int64_t job;
	int status = 1;

	if (amtp_parse_int(dev, 1, INT64_MAX, &id) != 0 ||
	    open_site(dir, &mk, &st) != 0)
		goto out;
	if (amtp_store_job_enqueue(st, id, kind, &job, NULL) != 0)
		goto out;
	printf("%lld\n", (long long)job);
	status = 0;
 out:
	amtp_store_close(st);
	amtp_master_key_free(mk);
	return status;
}

/* The device's status as the site database has it. */
static int
cmd_devstatus(const char *dir, const char *dev)
{
	struct amtp_master_key *mk = NULL;
	struct amtp_store *st = NULL;
	struct amtp_device_rec d;
	long long id;
	int status = 1;

	if (amtp_parse_int(dev, 1, INT64_MAX, &id) != 0 ||
	    open_site(dir, &mk, &st) != 0)
		goto out;
	if (amtp_store_device_get(st, id, &d) != 0)
		goto out;
	printf("%s\n", amtp_store_status_name(d.status));
	status = 0;
 out:
	amtp_store_close(st);
	amtp_master_key_free(mk);
	return status;
}

static int
cmd_password(const char *dir, const char *dev)
{
	struct amtp_master_key *mk = NULL;
	struct amtp_store *st = NULL;
	struct amtp_secret *pw = NULL;
	long long id;
	int status = 1;

	if (amtp_parse_int(dev, 1, INT64_MAX, &id) != 0 ||
	    open_site(dir, &mk, &st) != 0)
		goto out;
	if (amtp_store_cred_get(st, id, AMTP_CRED_ADMIN, AMTP_CRED_CURRENT,
	    NULL, &pw) != 0)
		goto out;
	printf("%s\n", amtp_secret_cstr(pw));
	status = 0;
 out:
	amtp_secret_free(pw);
	amtp_store_close(st);
	amtp_master_key_free(mk);
	return status;
}

int
main(int argc, char *argv[])
{
	long long n, w = 16, first = 1;

	amtp_log_init("oobsp_fleet", getenv("OOBSP_DEBUG") != NULL ?
	    AMTP_LOG_DEBUG : AMTP_LOG_WARN, AMTP_LOG_TO_STDERR |
	    AMTP_LOG_WITH_TIME);
	if (argc == 4 && strcmp(argv[1], "init") == 0)
		return cmd_init(argv[2], argv[3]);
	if ((argc == 7 || argc == 8) && strcmp(argv[1], "enqueue") == 0 &&
	    amtp_parse_int(argv[4], 1, 65535, &n) == 0 &&
	    (argc == 7 || amtp_parse_int(argv[7], 1, 65535, &first) == 0))
		return cmd_enqueue(argv[2], argv[3], (int)n, argv[5], argv[6],
		    (int)first);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "serve") == 0 &&
	    (argc == 3 || amtp_parse_int(argv[3], 1, 4096, &w) == 0))
		return cmd_serve(argv[2], (int)w);
	if (argc == 3 && strcmp(argv[1], "status") == 0)
		return cmd_status(argv[2]);
	if (argc == 4 && strcmp(argv[1], "rotate") == 0)
		return cmd_job(argv[2], argv[3], AMTP_JOB_ROTATE);
	if (argc == 4 && strcmp(argv[1], "unprovision") == 0)
		return cmd_job(argv[2], argv[3], AMTP_JOB_UNPROVISION);
	if (argc == 4 && strcmp(argv[1], "devstatus") == 0)
		return cmd_devstatus(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "password") == 0)
		return cmd_password(argv[2], argv[3]);
	fprintf(stderr, "usage: oobsp_fleet init DIR DOMAIN | enqueue DIR "
	    "DOMAIN N ADDR1 OTPPREFIX [FIRST] | serve DIR [WORKERS] | status DIR | "
	    "rotate DIR DEVICE-ID | unprovision DIR DEVICE-ID | "
	    "devstatus DIR DEVICE-ID | password DIR DEVICE-ID\n");
	return 2;
}
