/*
 * amtprov - oobsp/oobsp.c: the out-of-band service point role of amtprovd
 * (role oobsp).
 *
 * Setup, in this order, while the role still may read every file: the site
 * master key, the policy (secret files of the setup credentials, ACL
 * accounts, MEBx), the provisioning certificate chain and its key (opened
 * in memory, never written in clear), the site CA, which is handed at once
 * to a signer process of our own (the CA key then lives only there, in a
 * process that parses nothing from the network), the site database and the
 * transport.  Then one thread runs the engine until SIGTERM or SIGINT.
 *
 * The owner id that fences every job write is "oobsp:<host>:<pid>:<start>",
 * unique per process run, so a restarted service point never writes with
 * the id of its dead predecessor (docs/job-and-escrow.md).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "amtprov/buf.h"
#include "amtprov/conf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/pki.h"
#include "amtprov/secret.h"

#include "dir/dir.h"
#include "enroll/ca.h"
#include "enroll/client.h"
#include "enroll/signer.h"
#include "oobsp/oobsp.h"
#include "store/store.h"

/* How long one engine turn may wait for device I/O (ms): also how quickly
 * a stop signal is noticed. */
#define OOBSP_POLL_MS	200
/* How long the role waits for the enrollment point of its own process
 * (site.roles names enroll: forked at the same moment) to listen (ms). */
#define OOBSP_ENROLL_WAIT_MS	10000
#define OOBSP_ENROLL_STEP_MS	50

static int
stop_requested(void)
{
	sigset_t pend;

	if (sigpending(&pend) != 0)
		return 0;
	return sigismember(&pend, SIGTERM) == 1 ||
	    sigismember(&pend, SIGINT) == 1;
}

/* 1 when site.roles names role enroll. */
static int
enroll_role_selected(const struct amtp_conf *c)
{
	const char *name;
	size_t i, n;

	n = amtp_conf_list_len(c, "site", "roles");
	for (i = 0; i < n; i++)
		if ((name = amtp_conf_list_item(c, "site", "roles", i)) !=
		    NULL && strcmp(name, "enroll") == 0)
			return 1;
	return 0;
}

/*
 * The shared enrollment point, when the site runs one: site.roles names
 * enroll (then it must answer within OOBSP_ENROLL_WAIT_MS: it was forked
 * with us), or enroll.socket is set and answers now.  *out stays NULL when
 * the service point is to use a signer of its own.  0, or an AMTP_E_* code
 * that stops the role.
 */
static int
enroll_shared(const struct amtp_conf *c, const char *dir,
    struct amtp_enroll_client **out)
{
	struct timespec ts = { 0, OOBSP_ENROLL_STEP_MS * 1000000L };
	char path[PATH_MAX];
	const char *sock, *edir;
	int r, selected, waited = 0;

	*out = NULL;
	selected = enroll_role_selected(c);
	sock = amtp_conf_str(c, "enroll", "socket");
	if (!selected && sock == NULL)
		return 0;
	if (sock == NULL) {
		if ((edir = amtp_conf_str(c, "enroll", "pki_dir")) == NULL)
			edir = dir;
		if (snprintf(path, sizeof(path), "%s/enroll.sock", edir) >=
		    (int)sizeof(path))
			return AMTP_E_TOOBIG;
		sock = path;
	}
	for (;;) {
		r = amtp_enroll_connect(sock, 0, out);
		if (r == 0) {
			log_info("%s: certificates from the site's "
			    "enrollment point", sock);
			return 0;
		}
		if (!selected) {
			log_warn_r(r, "%s: enrollment point not reachable; "
			    "certificates from a signer of our own", sock);
			return 0;
		}
		if (r != AMTP_E_NOTFOUND || waited >= OOBSP_ENROLL_WAIT_MS) {
			log_err_r(r, "%s: enrollment point (role enroll)",
			    sock);
			return r;
		}
		nanosleep(&ts, NULL);
		waited += OOBSP_ENROLL_STEP_MS;
	}
}

/* A secret from a file (one trailing newline dropped). */
static int
load_secret_file(const char *path, struct amtp_secret **out)
{
	struct amtp_buf *b = NULL;
	size_t n;
	int r;

	*out = NULL;
	if ((r = amtp_buf_load_file(path, AMTP_SECRET_MAX + 1, &b)) != 0)
		return r;
	n = amtp_buf_len(b);
	if (n > 0 && amtp_buf_ptr(b)[n - 1] == '\n')
		n--;
	r = amtp_secret_new(amtp_buf_ptr(b), n, out);
	amtp_buf_free(b);
	return r;
}

/*
 * The site's directory ([directory], as the site role opens it), for the
 * accounts that unprovision jobs disable.  LDAP is bound once at start.
 * XXX: a long-lived LDAP connection the server drops makes the directory
 * step fail (transient: retried, then requeued) until the role restarts.
 */
static int
open_dir(const struct amtp_conf *c, struct amtp_store *st,
    struct amtp_dir **d, struct amtp_secret **bindpw, char *why,
    size_t whylen)
{
	struct amtp_dir_ldap_conf lc;
	const char *type, *pwfile;
	int r;

	*d = NULL;
	*bindpw = NULL;
	type = amtp_conf_str(c, "directory", "type");
	if (type == NULL || strcmp(type, "builtin") == 0)
		return amtp_dir_open_builtin(st, d);
	memset(&lc, 0, sizeof(lc));
	lc.uri = amtp_conf_str(c, "directory", "ldap_uri");
	lc.starttls = amtp_conf_bool(c, "directory", "starttls");
	lc.ca_file = amtp_conf_str(c, "directory", "ca_file");
	lc.bind_dn = amtp_conf_str(c, "directory", "bind_dn");
	lc.sasl_mech = amtp_conf_str(c, "directory", "sasl_mech");
	lc.object_classes = amtp_conf_str(c, "directory", "object_classes");
	lc.naming_attr = amtp_conf_str(c, "directory", "naming_attr");
	lc.account_attr = amtp_conf_str(c, "directory", "account_attr");
	lc.spn_attr = amtp_conf_str(c, "directory", "spn_attr");
	lc.dns_attr = amtp_conf_str(c, "directory", "dns_attr");
	lc.password_attr = amtp_conf_str(c, "directory", "password_attr");
	lc.uac_attr = amtp_conf_str(c, "directory", "uac_attr");
	lc.timeout_secs = (int)amtp_conf_int(c, "directory", "timeout");
	if ((pwfile = amtp_conf_str(c, "directory", "bind_password_file")) !=
	    NULL) {
		if ((r = load_secret_file(pwfile, bindpw)) != 0) {
			snprintf(why, whylen, "directory.bind_password_file "
			    "%s: %s", pwfile, amtp_strerror(r));
			return r;
		}
		lc.bind_pw = *bindpw;
	}
	return amtp_dir_open_ldap(&lc, d, why, whylen);
}

int
oobsp_main(const struct amtp_conf *c)
{
	struct amtp_master_key *mk = NULL;
	struct amtp_store *st = NULL;
	struct amtp_ca *ca = NULL;
	struct amtp_signer *sg = NULL;
	struct amtp_enroll_client *ecl = NULL;
	struct amtp_dir *adir = NULL;
	struct amtp_secret *bindpw = NULL;
	struct amtp_secret *key_pem = NULL;
	STACK_OF(X509) *chain = NULL;
	struct amtp_buf *chain_pem = NULL;
	struct oobsp_transport *tr = NULL;
	struct oobsp_engine *e = NULL;
	struct oobsp_engine_cfg cfg;
	struct oobsp_policy pol;
	struct oobsp_stats stats;
	char err[512] = "", host[64] = "", owner[AMTP_STORE_OWNER_MAX + 1];
	const char *dir;
	sigset_t sigs;
	pid_t signer_pid = -1;
	int fd = -1, r, status = 1, have_pol = 0;

	/* TERM/INT/HUP stay blocked (main.c): we look for them between
	 * turns with sigpending() */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	if ((dir = amtp_conf_str(c, "oobsp", "pki_dir")) == NULL) {
		log_errx("oobsp.pki_dir: required by role oobsp (the site "
		    "directory with prov-chain.pem and the CA files)");
		goto out;
	}
	if ((r = amtp_master_key_load(amtp_conf_str(c, "site",
	    "master_key_file"), &mk, err, sizeof(err))) != 0) {
		log_err_r(r, "master key: %s", err);
		goto out;
	}
	if ((r = oobsp_policy_load(c, &pol, err, sizeof(err))) != 0) {
		log_err_r(r, "policy: %s", err);
		goto out;
	}
	have_pol = 1;
	if ((r = amtp_ca_load_provisioning(dir, mk, &key_pem, &chain)) != 0) {
		log_err_r(r, "%s: provisioning certificate", dir);
		goto out;
	}
	if ((chain_pem = amtp_buf_new(AMTP_PKI_PEM_MAX)) == NULL ||
	    amtp_pki_chain_to_pem(chain, chain_pem) != 0) {
		log_errx("%s: provisioning chain", dir);
		goto out;
	}
	if ((r = enroll_shared(c, dir, &ecl)) != 0)
		goto out;
	if (ecl == NULL) {
		if ((r = amtp_ca_load(dir, mk, &ca, err, sizeof(err))) != 0) {
			log_err_r(r, "site CA: %s", err);
			goto out;
		}
		if ((r = amtp_signer_spawn(ca, &signer_pid, &fd)) != 0) {
			log_err_r(r, "signer process");
			goto out;
		}
		amtp_ca_free(ca);	/* only the signer keeps the key */
		ca = NULL;
		if ((r = amtp_signer_remote(fd, &sg)) != 0) {
			log_err_r(r, "signer channel");
			close(fd);
			goto out;
		}
	}
	if ((r = amtp_store_open(amtp_conf_str(c, "site", "database"), mk,
	    &st, err, sizeof(err))) != 0) {
		log_err_r(r, "database: %s", err);
		goto out;
	}
	if ((r = oobsp_ws_transport_new((size_t)amtp_conf_int(c, "oobsp",
	    "workers") * 2, 0, 0, &tr)) != 0) {
		log_err_r(r, "transport");
		goto out;
	}
	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "localhost");
	snprintf(owner, sizeof(owner), "oobsp:%s:%ld:%lld", host,
	    (long)getpid(), (long long)time(NULL));
	memset(&cfg, 0, sizeof(cfg));
	cfg.owner = owner;
	cfg.lease_secs = (int)amtp_conf_int(c, "oobsp", "lease_seconds");
	cfg.max_jobs = (int)amtp_conf_int(c, "oobsp", "workers");
	cfg.max_attempts = (int)amtp_conf_int(c, "oobsp", "max_attempts");
	if ((r = oobsp_engine_new(&cfg, st, tr, &pol, sg,
	    amtp_buf_str(chain_pem), key_pem, &e)) != 0) {
		log_err_r(r, "engine");
		goto out;
	}
	if (ecl != NULL)
		oobsp_engine_use_enroll(e, ecl);
	if ((r = open_dir(c, st, &adir, &bindpw, err, sizeof(err))) != 0) {
		log_err_r(r, "directory: %s", err);
		goto out;
	}
	oobsp_engine_use_dir(e, adir, amtp_conf_str(c, "directory",
	    "container"));
	log_info("service point %s: running (%d jobs at once, lease %d s)",
	    owner, cfg.max_jobs, cfg.lease_secs);
	while (!stop_requested()) {
		if ((r = oobsp_engine_poll(e, OOBSP_POLL_MS, NULL)) != 0) {
			log_err_r(r, "engine");
			goto out;
		}
	}
	oobsp_engine_stats(e, &stats);
	log_info("service point %s: stopping: %lu jobs claimed, %lu done, "
	    "%lu failed, %lu requeued, %lu requests (and %lu reads reused)",
	    owner, stats.jobs_claimed, stats.jobs_done, stats.jobs_failed,
	    stats.jobs_requeued, stats.requests, stats.reads_reused);
	status = 0;
 out:
	/* jobs in progress keep their leases: another service point (or
	 * this one, restarted) resumes them when the leases run out */
	oobsp_engine_free(e);
	amtp_dir_close(adir);
	amtp_secret_free(bindpw);
	if (tr != NULL)
		tr->ops->free(tr);
	amtp_store_close(st);
	amtp_enroll_client_free(ecl);
	amtp_signer_free(sg);
	if (signer_pid > 0)
		while (waitpid(signer_pid, NULL, 0) == -1 && errno == EINTR)
			;
	amtp_ca_free(ca);
	amtp_buf_free(chain_pem);
	amtp_pki_chain_free(chain);
	amtp_secret_free(key_pem);
	if (have_pol)
		oobsp_policy_reset(&pol);
	amtp_master_key_free(mk);
	return status;
}
