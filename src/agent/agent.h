/*
 * amtprov - agent.h: what every part of the client agent shares (program
 * amtprov-agent): its settings, its exit codes and the error record each
 * step fills in for the person or script that runs it.
 *
 * The agent runs steps 1-3 of DESIGN.md on a managed computer: policy and
 * checks, the one-time password, the manufacturing facts.  docs/agent.md is
 * the user's page; the exit codes below are documented there too.
 */
#ifndef AGENT_AGENT_H
#define AGENT_AGENT_H

#include <stddef.h>

#include "amtprov/limits.h"

/* Exit codes (docs/agent.md, amtprov-agent(8)). */
enum agent_exit {
	AGENT_EXIT_OK = 0,		/* done: job queued, or nothing to do */
	AGENT_EXIT_INTERNAL = 1,	/* out of memory, a bug */
	AGENT_EXIT_USAGE = 2,		/* bad flag or configuration */
	AGENT_EXIT_SITE_DOWN = 3,	/* site unreachable after retries */
	AGENT_EXIT_SITE_REFUSED = 4,	/* site refused, or answered badly */
	AGENT_EXIT_MEI = 5,		/* no MEI device, or it stopped answering */
	AGENT_EXIT_NOT_PRE = 6,		/* AMT not in PRE (reported to the site) */
	AGENT_EXIT_FIRMWARE = 7,	/* the firmware answered with an error */
	AGENT_EXIT__MAX
};

/* Default places (docs/agent.md). */
#define AGENT_DEFAULT_CONFIG	"/etc/amtprov/agent.conf"
#define AGENT_DEFAULT_STATE_DIR	"/var/lib/amtprov-agent"
#define AGENT_DMI_UUID_PATH	"/sys/class/dmi/id/product_uuid"

/* How long a run waits for another run's lock on the state folder (ms). */
#define AGENT_LOCK_WAIT_MS	120000

#define AGENT_UUID_LEN		36	/* 8-4-4-4-12 */
#define AGENT_LABEL_MAX		63	/* one DNS label */

/* Everything the agent is told: config file first, then flags. */
struct agent_opts {
	char	site_url[AMTP_AGENT_URL_MAX + 1];
	char	ca_file[AMTP_AGENT_PATH_MAX + 1];
	char	enrol_secret_file[AMTP_AGENT_PATH_MAX + 1];
	char	mei_uri[AMTP_AGENT_PATH_MAX + 1];
	char	state_dir[AMTP_AGENT_PATH_MAX + 1];
	char	smbios_uuid[AGENT_UUID_LEN + 1];	/* "" = from DMI/AMT */
	char	hostname[AGENT_LABEL_MAX + 1];		/* "" = gethostname */
	char	fqdn[AMTP_DNS_NAME_MAX + 1];		/* "" = not sent */
	char	dmi_uuid_path[AMTP_AGENT_PATH_MAX + 1];
	int	mei_timeout_ms;		/* 0: blocking reads (umockdev) */
	int	retries;
	int	retry_delay_ms;
	int	connect_timeout;	/* seconds */
	int	request_timeout;	/* seconds */
	int	lock_wait_ms;		/* for another run's lock */
	int	json;
	int	verbose;
};

/* Sets the defaults of every setting. */
void agent_opts_init(struct agent_opts *o);

/*
 * What went wrong, for the person (msg) and for scripts (code, a short
 * word that --json prints, and exit).  The first failure wins: later
 * calls to agent_err_set() on a set record do nothing.
 */
#define AGENT_ERR_CODE_MAX	32
#define AGENT_ERR_MSG_MAX	512
struct agent_err {
	int	set;
	int	exit;				/* enum agent_exit */
	char	code[AGENT_ERR_CODE_MAX];	/* "site_down", "mei_missing" */
	char	msg[AGENT_ERR_MSG_MAX];
};

void agent_err_init(struct agent_err *e);
/* Fills e (once) and returns r, so that a caller can write
 * `return agent_err_set(e, r, AGENT_EXIT_MEI, "mei_missing", "...")`. */
int agent_err_set(struct agent_err *e, int r, int exit_code,
    const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* A person's name for an exit code ("site unreachable"). */
const char *agent_exit_name(int exit_code);

#endif
