/*
 * amtprov - site.h: the agent's client of the site server's HTTPS API
 * (program amtprov-agent).
 *
 *   POST /api/v1/agents/register   Bearer <enrolment secret>
 *   GET  /api/v1/agents/policy     Bearer <agent token>
 *   POST /api/v1/agents/otp        Bearer <agent token>
 *   POST /api/v1/agents/state      Bearer <agent token>
 *
 * (request and answer shapes: src/amtprovd/site/requests.c, api_agent.c,
 * docs/api/openapi.yaml).  The transport is libcurl with the site's CA
 * pinned (CURLOPT_CAINFO, no system store), TLS verification on, HTTPS
 * only, bounded connect and request times, and answers cut off at
 * AMTP_AGENT_RESPONSE_MAX before any parsing.  A site that is down
 * (connection failure, timeout, HTTP 5xx) is tried again with a doubling
 * delay; every other failure is final.
 *
 * Answers are parsed by agent_site_parse(), which takes raw bytes so that
 * a fuzz target can call it (fuzz/fuzz_agent_site_response.c).
 */
#ifndef AGENT_SITE_H
#define AGENT_SITE_H

#include <stddef.h>
#include <stdint.h>

#include "agent.h"

struct amtp_secret;
struct agent_site;

enum agent_call {
	AGENT_CALL_REGISTER = 0,
	AGENT_CALL_POLICY,
	AGENT_CALL_OTP,
	AGENT_CALL_STATE,
	AGENT_CALL__MAX
};

#define AGENT_STATUS_NAME_MAX	32	/* "externally provisioned" */
#define AGENT_REASON_MAX	256

/* What the site answered (the members of the call's kind are set). */
struct agent_answer {
	enum agent_call	call;
	int64_t		device_id;
	/* register */
	char		agent_id[AGENT_UUID_LEN + 1];
	char		token[AMTP_AGENT_TOKEN_FILE_MAX + 1];	/* a secret */
	int		new_device;
	/* policy */
	int		provision;
	char		reason[AGENT_REASON_MAX + 1];
	char		dns_domain[AMTP_DNS_NAME_MAX + 1];
	/* policy, otp, state */
	char		status[AGENT_STATUS_NAME_MAX + 1];
	/* otp, state: 0 when no job */
	int64_t		job_id;
	int		otp_recorded;
};

/* Wipes a (it may hold the agent token). */
void agent_answer_wipe(struct agent_answer *a);

/*
 * Parses the site's answer to call: HTTP status http_status, body
 * data[0..len).  2xx: the body must be a JSON object (no duplicate keys,
 * at most AMTP_AGENT_JSON_DEPTH_MAX deep) with the members the call
 * returns, of the right types and within their lengths; unknown members
 * are ignored.  Any other status: the site's error object
 * {"error","field","message"} becomes the error text.  Returns 0 with *out
 * filled, or:
 *   AMTP_E_AUTH     401 (the token or enrolment secret was refused)
 *   AMTP_E_STATE    409 "not_registered" (the agent must register again)
 *   AMTP_E_DENIED   another 4xx
 *   AMTP_E_AGAIN    5xx (the site may recover: try again later)
 *   AMTP_E_JSON, AMTP_E_PARSE, AMTP_E_TOOBIG, AMTP_E_DEPTH, AMTP_E_PROTO
 *                   a 2xx answer the agent cannot use
 * and e says why (exit AGENT_EXIT_SITE_REFUSED or _SITE_DOWN).
 */
int agent_site_parse(enum agent_call call, long http_status,
    const void *data, size_t len, struct agent_answer *out,
    struct agent_err *e);

/* How to talk to the site. */
struct agent_site_cfg {
	const char	*url;		/* https://host:port, no trailing path */
	const char	*ca_file;	/* PEM: the site's CA, pinned */
	int		 retries;	/* further attempts when the site is down */
	int		 retry_delay_ms;	/* first delay, doubled each time */
	int		 connect_timeout;	/* seconds */
	int		 request_timeout;	/* seconds */
};

/*
 * A client for cfg (the strings are copied).  AMTP_E_CONFIG with e set for
 * a URL that is not https:// or too long, a CA file that cannot be read;
 * AMTP_E_NOMEM.
 */
int agent_site_new(const struct agent_site_cfg *cfg, struct agent_site **out,
    struct agent_err *e);
void agent_site_free(struct agent_site *s);

/* Attempts made by the last call (1 when it worked at once). */
int agent_site_attempts(const struct agent_site *s);

/* The register request. */
struct agent_register_in {
	const char	*hostname;	/* one label */
	const char	*fqdn;		/* NULL or "": not sent */
	const char	*smbios_uuid;	/* canonical */
};

/* The state message (steps 1 and 3). */
struct agent_state_hash {
	char		name[AMTP_AMTHI_HASH_NAME_MAX + 1];
	char		hex[2 * AMTP_AMTHI_HASH_LEN_MAX + 1];
	int		is_default;
	int		is_active;
};

struct agent_state_msg {
	int		amt_supported;
	const char	*reason;		/* NULL: not sent */
	const char	*amt_version;
	const char	*build;
	const char	*sku;
	const char	*uuid;
	const char	*dns_suffix;
	const char	*control_mode;		/* none, client, admin */
	const char	*provisioning_state;	/* pre, in, post */
	int		wireless;
	const struct agent_state_hash *hashes;
	size_t		nhashes;
};

/*
 * The four calls.  Each returns 0 with *out filled, or the codes of
 * agent_site_parse(), or AMTP_E_AGAIN when the site stayed unreachable
 * through every retry (e: exit AGENT_EXIT_SITE_DOWN).  secret is the
 * enrolment secret (register) or the agent token (the others).
 */
int agent_site_register(struct agent_site *s, const struct amtp_secret *secret,
    const struct agent_register_in *in, struct agent_answer *out,
    struct agent_err *e);
int agent_site_policy(struct agent_site *s, const struct amtp_secret *token,
    struct agent_answer *out, struct agent_err *e);
int agent_site_otp(struct agent_site *s, const struct amtp_secret *token,
    const char *otp_sha256_hex, const char *amt_address,
    struct agent_answer *out, struct agent_err *e);
int agent_site_state(struct agent_site *s, const struct amtp_secret *token,
    const struct agent_state_msg *msg, struct agent_answer *out,
    struct agent_err *e);

#endif
