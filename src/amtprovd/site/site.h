/*
 * amtprov - site/site.h: the site server role (role site).
 *
 * site_main() is the role's entry point, forked by amtprovd's main.c: it
 * loads what the role needs (TLS files, enrolment secret, master key), opens
 * a pool of store connections, starts the HTTPS API and serves until
 * SIGTERM or SIGINT.  struct site is the state every handler sees.
 */
#ifndef SITE_SITE_H
#define SITE_SITE_H

#include <stddef.h>
#include <stdint.h>

struct amtp_conf;
struct amtp_master_key;
struct amtp_store;
struct site_metrics;
struct site_pool;
struct site_httpd;
struct site_wgroup;

struct site {
	const struct amtp_conf	*conf;
	struct amtp_master_key	*mk;
	uint8_t			 enrol_hash[32];	/* SHA-256 of the secret */
	struct site_pool	*pool;
	struct site_wgroup	*wg;		/* group commit of agent writes */
	struct site_metrics	*metrics;
	struct site_httpd	*httpd;
};

/*
 * Runs the site role with the loaded configuration until SIGTERM/SIGINT
 * (which the caller has blocked, so that every thread inherits the mask).
 * Returns the process exit status: 0 after a clean stop, 1 on a setup
 * failure (logged).
 */
int site_main(const struct amtp_conf *conf);

/*
 * Sets up s from conf without starting the HTTPS API (tests use it): master
 * key, enrolment secret, store pool of nconn connections, the write
 * group's own connection, metrics.
 * 0 or a negative AMTP_E_* code (logged with the file or key at fault).
 * site_cleanup() releases everything site_setup() or the API took.
 */
int site_setup(struct site *s, const struct amtp_conf *conf, size_t nconn);
void site_cleanup(struct site *s);

#endif
