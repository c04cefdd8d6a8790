/*
 * amtprov - statedir.h: the agent's state folder (program amtprov-agent).
 *
 *   DIR/agent.token        the token the site issued at registration, mode
 *                          0600; a second run uses it instead of
 *                          registering again
 *   DIR/lock               held (flock) by a run, so runs never interleave
 *   DIR/provisioned.json   the record that this agent set an OTP in the
 *                          firmware with this AMT UUID and activated its
 *                          network interface (so that a later run that finds
 *                          AMT in IN or POST knows the site's own flow put
 *                          it there, and is not "externally provisioned")
 *
 * Both are written atomically (temp file, fsync, rename).  The folder is
 * made with mode 0700 when missing (its parent must exist).
 */
#ifndef AGENT_STATEDIR_H
#define AGENT_STATEDIR_H

#include <stdint.h>
#include <time.h>

#include "agent.h"

struct amtp_secret;

/* Makes dir (0700) when missing; refuses something that is not a folder. */
int agent_statedir_prepare(const char *dir, struct agent_err *e);

/*
 * The stored token for the agent named uuid: *out is NULL (and 0 is
 * returned) when there is none, or when the stored one names another UUID
 * (the computer's identity changed: register again).  A token file with
 * loose permissions or bad content is an error (exit AGENT_EXIT_USAGE).
 */
int agent_statedir_load_token(const char *dir, const char *uuid,
    struct amtp_secret **out, struct agent_err *e);
int agent_statedir_save_token(const char *dir, const char *token,
    struct agent_err *e);

/*
 * Takes DIR/lock (flock, exclusive) so that two runs on one computer (a
 * timer and a person, say) never interleave their OTPs: the site would hold
 * one run's hash while the firmware holds the other's OTP.  Waits up to
 * wait_ms for a run that holds it, then fails with AMTP_E_BUSY (code
 * "state_busy").  *fd is the lock to give to agent_statedir_unlock().
 */
int agent_statedir_lock(const char *dir, int wait_ms, int *fd,
    struct agent_err *e);
void agent_statedir_unlock(int fd);

/* The provisioning record. */
struct agent_record {
	char		amt_uuid[AGENT_UUID_LEN + 1];
	char		command[40];	/* StartConfigurationEx */
	char		site[AMTP_AGENT_URL_MAX + 1];
	int64_t		activated_at;	/* unix time */
};

/* *found is 1 and *rec filled when a record for amt_uuid exists. */
int agent_statedir_load_record(const char *dir, const char *amt_uuid,
    struct agent_record *rec, int *found, struct agent_err *e);
int agent_statedir_save_record(const char *dir,
    const struct agent_record *rec, struct agent_err *e);

#endif
