/*
 * amtprov - site/site.c: the site server role (role site).
 *
 * XXX The site master key lives in this process, which parses requests
 * from the network (libmicrohttpd, GnuTLS and jansson share its address
 * space); STYLE.md section 6 wants it in a process that parses nothing.
 * site_setup() loads it, and every store connection (the pool's and the
 * write group's) borrows it: the store seals each directory password
 * escrowed in step 4 (site/diracct.c) and opens escrowed passwords for the
 * audited reveal (api_admin.c).  A memory-disclosure bug in any of those
 * parsers could leak it, and with it every password in the database.  Not
 * done: a key process forked before the API starts that holds the key and
 * answers a fixed table of seal/open requests over a socketpair, as the
 * enroll role's signer (enroll/signer.c) does for the CA key, with the
 * store asking it instead of holding the key.  (The CA key is not in this
 * process: only the enroll role's signer holds it.)
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "amtprov/buf.h"
#include "amtprov/conf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/secret.h"

#include "site/auth.h"
#include "site/httpd.h"
#include "site/metrics.h"
#include "site/pool.h"
#include "site/site.h"
#include "site/wgroup.h"

#define TLS_FILE_MAX	(256 * 1024)	/* PEM certificate chain or key */

/* jansson's memory may hold passwords and tokens: wipe what it frees. */
static void
json_wipe_free(void *p)
{
	if (p != NULL) {
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

int
site_setup(struct site *s, const struct amtp_conf *conf, size_t nconn)
{
	char err[AMTP_LOG_LINE_MAX / 2] = "";
	const char *path, *uri;
	int r;

	memset(s, 0, sizeof(*s));
	s->conf = conf;
	json_set_alloc_funcs(malloc, json_wipe_free);
	path = amtp_conf_str(conf, "site", "master_key_file");
	if ((r = amtp_master_key_load(path, &s->mk, err, sizeof(err))) != 0) {
		log_err_r(r, "site: master key: %s", err);
		goto out;
	}
	path = amtp_conf_str(conf, "site", "enrolment_secret_file");
	if (path == NULL) {
		r = AMTP_E_CONFIG;
		log_errx("site: site.enrolment_secret_file is not set");
		goto out;
	}
	if ((r = site_auth_enrol_load(path, s->enrol_hash, err,
	    sizeof(err))) != 0) {
		log_err_r(r, "site: %s", err);
		goto out;
	}
	/*
	 * SQLite too gets nconn connections: WAL lets them read at once, and
	 * writers take the database lock in turn (busy timeout).  The agent
	 * reports, the bulk of the writes, go through the write group's own
	 * connection, which commits the reports that arrive together in one
	 * transaction (site/wgroup.c).
	 */
	uri = amtp_conf_str(conf, "site", "database");
	if ((r = site_pool_new(uri, s->mk, nconn, &s->pool, err,
	    sizeof(err))) != 0) {
		log_err_r(r, "site: database: %s", err);
		goto out;
	}
	if ((r = site_wgroup_new(uri, s->mk, &s->wg, err,
	    sizeof(err))) != 0) {
		log_err_r(r, "site: database (write group): %s", err);
		goto out;
	}
	if ((r = site_metrics_new(&s->metrics)) != 0)
		goto out;
	r = 0;
 out:
	if (r != 0)
		site_cleanup(s);
	return r;
}

void
site_cleanup(struct site *s)
{
	site_httpd_stop(s->httpd);
	s->httpd = NULL;
	site_metrics_free(s->metrics);
	s->metrics = NULL;
	site_wgroup_free(s->wg);
	s->wg = NULL;
	site_pool_free(s->pool);
	s->pool = NULL;
	amtp_master_key_free(s->mk);
	s->mk = NULL;
	explicit_bzero(s->enrol_hash, sizeof(s->enrol_hash));
}

static int
load_pem(const char *key, const char *path, struct amtp_buf **out)
{
	int r;

	if (path == NULL) {
		log_errx("site: site.%s is not set", key);
		return AMTP_E_CONFIG;
	}
	if ((r = amtp_buf_load_file(path, TLS_FILE_MAX, out)) != 0)
		log_err_r(r, "site: %s (site.%s)", path, key);
	return r;
}

int
site_main(const struct amtp_conf *conf)
{
	struct site s;
	struct amtp_buf *cert = NULL, *key = NULL;
	sigset_t set;
	long long threads;
	int sig, r, status = 1;

	/* block the stop signals before any thread starts: every MHD worker
	 * inherits the mask, and only sigwait() below sees them */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	threads = amtp_conf_int(conf, "site", "threads");
	if ((r = site_setup(&s, conf, (size_t)threads + 1)) != 0)
		return 1;
	if ((r = load_pem("tls_cert", amtp_conf_str(conf, "site", "tls_cert"),
	    &cert)) != 0 ||
	    (r = load_pem("tls_key", amtp_conf_str(conf, "site", "tls_key"),
	    &key)) != 0)
		goto out;
	if ((r = site_httpd_start(&s, amtp_buf_str(cert), amtp_buf_str(key),
	    &s.httpd)) != 0)
		goto out;
	amtp_buf_free(key);	/* wipes it; the daemon has its copy */
	key = NULL;
	log_info("site: serving https on %s (port %u, %lld threads)",
	    amtp_conf_str(conf, "site", "listen"), site_httpd_port(s.httpd),
	    threads);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_info("site: SIGHUP ignored (restart to reload)");
			continue;
		}
		break;
	}
	log_info("site: stopping (signal %d)", sig);
	status = 0;
 out:
	amtp_buf_free(cert);
	amtp_buf_free(key);
	site_cleanup(&s);
	return status;
}
