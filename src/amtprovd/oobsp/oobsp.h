/*
 * amtprov - oobsp/oobsp.h: the out-of-band service point (role oobsp), the
 * provisioning engine.
 *
 * A provisioning job is run as an explicit plan: a table of steps (data),
 * each a small re-entrant state machine that sends at most one WS-Management
 * request at a time and is called again with the reply.  The engine claims
 * jobs from the site database with leases, records every step (start, end,
 * outcome, detail) in the job's log, renews the lease while it works, and
 * resumes a job from its log after a crash, on this or another service
 * point.  docs/service-point.md describes the plan, the retry table, the
 * failure reasons and the resume rules.
 *
 * The network is behind a narrow seam, struct oobsp_transport: "send this
 * envelope on this device connection and call me back with the reply".  The
 * real one (oobsp_ws_transport_new, transport_ws.c) drives every device of the
 * service point from one thread with the curl multi interface: TLS with the
 * provisioning certificate chain, our own Digest (digest.h) with nonce reuse
 * on keep-alive connections, bounded timeouts.  Unit tests plug in a fake.
 */
#ifndef AMTPROVD_OOBSP_OOBSP_H
#define AMTPROVD_OOBSP_OOBSP_H

#include <stddef.h>
#include <stdint.h>

#include "amtprov/limits.h"
#include "amtprov/wsman.h"

#include <openssl/x509.h>

/*
 * Limits of the service point (kept here, next to their only users; each
 * with its reason).
 */
/* Steps in one plan (the provisioning plan has 18). */
#define OOBSP_PLAN_MAX			32
/* Setup credentials tried on the setup session, user ACL entries written in
 * the second stage, realms in one ACL entry (AMT defines 24). */
#define OOBSP_SETUP_CREDS_MAX		16
#define OOBSP_ACLS_MAX			16
#define OOBSP_ACL_REALMS_MAX		24
/* An instance id or enumeration context copied from a reply
 * ("Intel(r) AMT Certificate: Handle: 12" and friends are ~40 bytes). */
#define OOBSP_ID_MAX			127
/* Instance ids collected from one Pull (ACL handles, Wi-Fi profiles,
 * certificates on a device: AMT keeps at most a few dozen). */
#define OOBSP_IDS_MAX			64
/* Instances a job keeps from one Get to the next on the same session
 * (AMT_GeneralSettings, AMT_SetupAndConfigurationService: engine.c). */
#define OOBSP_RCACHE_N			2
/* Time to connect (TCP + TLS) and for one request; AMT answers most
 * requests within a second, GenerateKeyPair within ~10 s on old parts. */
#define OOBSP_CONNECT_TIMEOUT_MS	10000
#define OOBSP_REQUEST_TIMEOUT_MS	60000
/* Transient failures of one step before the job goes back to the queue,
 * the first backoff (doubled each time: 0.5, 1, 2, 4, 8 s: enough for a
 * device that reboots after CommitChanges), and the requeue delay. */
#define OOBSP_STEP_RETRIES		5
#define OOBSP_BACKOFF_MS		500
#define OOBSP_REQUEUE_SECS		30
/* Largest reply body the transport keeps (AMTP_MAX_SOAP_SIZE is what the
 * parser takes). */
#define OOBSP_REPLY_MAX			AMTP_MAX_SOAP_SIZE
/* 802.1X profiles of a site. */
#define OOBSP_8021X_MAX			8
/* Wi-Fi profiles written to one device (AMT keeps a few dozen). */
#define OOBSP_WIFI_MAX			16
/* Certificate pins of one connection: up to 4 "sha256//<44 base64>" and
 * separators. */
#define OOBSP_PINS_MAX			256
/* Time between two claims of a service point that found nothing to do
 * (ms): an idle service point polls the queue at this pace. */
#define OOBSP_IDLE_CLAIM_MS		500
/* Jobs one step-log flush may claim for the places its finished jobs
 * leave (engine.c: in the same commit). */
#define OOBSP_CLAIM_BATCH		64
/* The step-log writes of all jobs are committed together at most this
 * often (each commit waits for the disk): the log is at most this late,
 * and a finished job leaves the engine after its last write. */
#define OOBSP_LOG_FLUSH_MS		25
/* Failed commits of the step log in a row (the database busy or gone)
 * before the jobs waiting on it are dropped (their leases expire and they
 * resume from the log); until then the writes are kept and tried again. */
#define OOBSP_LOG_FLUSH_TRIES		8
/* How long a job that waits for a durable write (the escrow) lets others
 * join its flush (ms): they share one commit. */
#define OOBSP_DURABLE_GATHER_MS		3

struct amtp_conf;
struct amtp_secret;
struct amtp_store;
struct amtp_signer;
struct amtp_enroll_client;
struct amtp_dir;
struct amtp_master_key;

/* ------------------------------------------------------------------ */
/* Transport seam                                                       */
/* ------------------------------------------------------------------ */

/* Where and how to reach one AMT device.  Strings and secrets are borrowed
 * for the duration of oobsp_transport_ops.open(); the transport copies what
 * it keeps. */
struct oobsp_target {
	const char		*addr;		/* IPv4/IPv6 literal */
	unsigned		 port;		/* 16993 (TLS) or 16992 */
	int			 tls;
	/* client certificate chain (PEM, leaf first) and its key (PEM);
	 * NULL: no client certificate */
	const char		*client_chain_pem;
	const struct amtp_secret *client_key_pem;
	/* "sha256//<base64>" of the server's public key, or NULL to accept
	 * any server certificate (the setup session: AMT's own self-signed
	 * certificate cannot be verified) */
	const char		*pin;
	const char		*user;		/* Digest user */
	const struct amtp_secret *password;	/* Digest password ("" allowed) */
	unsigned		 connect_timeout_ms;
	unsigned		 request_timeout_ms;
};

/* The result of one request. */
struct oobsp_reply {
	/*
	 * 0: an HTTP 200 with a body; else AMTP_E_TLS (handshake refused:
	 * detail says why), AMTP_E_AUTH (Digest refused the credentials),
	 * AMTP_E_TIMEOUT, AMTP_E_CLOSED (reset, refused, closed), AMTP_E_HTTP
	 * (another status: http holds it; a SOAP fault comes with 400 or 500
	 * and a body, which is given too), AMTP_E_TOOBIG, AMTP_E_IO.
	 */
	int		 status;
	long		 http;
	const char	*body;		/* valid during the callback only */
	size_t		 len;
	char		 detail[256];	/* never a secret */
};

struct oobsp_conn;
struct oobsp_transport;

typedef void (*oobsp_reply_fn)(void *arg, const struct oobsp_reply *rep);

struct oobsp_transport_ops {
	/* Makes a connection object for a device (no I/O yet). */
	int	(*open)(struct oobsp_transport *t, const struct oobsp_target *tg,
		    struct oobsp_conn **out);
	/* Closes it; a request in flight is dropped without a callback. */
	void	(*close)(struct oobsp_transport *t, struct oobsp_conn *c);
	/* Queues POST /wsman of body (copied); cb is called exactly once,
	 * from run(), never from send() itself.  One request per connection
	 * at a time (AMT answers in order). */
	int	(*send)(struct oobsp_transport *t, struct oobsp_conn *c,
		    const void *body, size_t len, oobsp_reply_fn cb, void *arg);
	/* Waits at most timeout_ms for I/O and delivers the replies that are
	 * complete.  Returns 0 or a negative AMTP_E_* (the transport broke). */
	int	(*run)(struct oobsp_transport *t, int timeout_ms);
	void	(*free)(struct oobsp_transport *t);
};

struct oobsp_transport {
	const struct oobsp_transport_ops *ops;
};

/*
 * The real transport (transport_ws.c) over libamtp's WS-Management client
 * (wsclient.h): one curl multi handle for every device, Digest by digest.h
 * (the first request without credentials, the 401's challenge, the same
 * body again; then the nonce reused with nc+1), connections kept alive.
 * max_conns caps live connections (0: the client's default); timeouts 0:
 * the client's defaults.
 */
int oobsp_ws_transport_new(size_t max_conns, unsigned connect_timeout_ms,
    unsigned request_timeout_ms, struct oobsp_transport **out);

/* ------------------------------------------------------------------ */
/* Policy: what every device receives, from amtprovd.conf              */
/* ------------------------------------------------------------------ */

struct oobsp_setup_cred {
	char			 name[AMTP_CONF_NAME_MAX + 1];
	char			 user[33];
	struct amtp_secret	*password;	/* "" when unset */
};

enum oobsp_mebx_policy {
	OOBSP_MEBX_RANDOM = 0,
	OOBSP_MEBX_FIXED,
	OOBSP_MEBX_KEEP,
	OOBSP_MEBX__MAX
};

struct oobsp_acl {
	char			 name[AMTP_CONF_NAME_MAX + 1];
	int			 kerberos;	/* 0: digest user */
	char			 account[257];	/* user, or DOMAIN\account / SID */
	struct amtp_secret	*password;	/* digest */
	int			 access;	/* AMT AccessPermission 0/1/2 */
	size_t			 nrealms;
	int			 realms[OOBSP_ACL_REALMS_MAX];
};

/* An 802.1X profile ([ieee8021x.NAME]). */
struct oobsp_8021x {
	char			 name[AMTP_CONF_NAME_MAX + 1];
	int			 protocol;	/* 0 EAP-TLS, 1 EAP-TTLS/MSCHAPv2,
						 * 2 PEAP/MSCHAPv2 */
	char			 server_name[257];	/* "" none */
	X509			*ca;		/* RADIUS server root, or NULL */
	char			 username[257];
	struct amtp_secret	*password;	/* password methods */
	int			 client_cert;	/* enrol one (EAP-TLS) */
};

/* A Wi-Fi profile ([wifi.NAME]). */
struct oobsp_wifi {
	char			 name[AMTP_CONF_NAME_MAX + 1];
	char			 ssid[33];
	int			 auth;		/* AuthenticationMethod: 4 WPA-PSK,
						 * 5 WPA-802.1X, 6 WPA2-PSK,
						 * 7 WPA2-802.1X */
	int			 enc;		/* EncryptionMethod: 3 TKIP, 4 CCMP */
	int			 priority;
	struct amtp_secret	*psk;		/* PSK profiles */
	int			 x8021;		/* enterprise: index in
						 * policy.x8021, else -1 */
};

struct oobsp_policy {
	char			 dns_domain[AMTP_STORE_FQDN_MAX + 1];
	size_t			 admin_pw_len;
	enum oobsp_mebx_policy	 mebx;
	struct amtp_secret	*mebx_fixed;
	size_t			 mebx_pw_len;
	size_t			 ncreds;
	struct oobsp_setup_cred	 creds[OOBSP_SETUP_CREDS_MAX];
	size_t			 nacls;
	struct oobsp_acl	 acls[OOBSP_ACLS_MAX];
	int			 kerberos;
	char			 krb_realm[AMTP_STORE_FQDN_MAX + 1];
	int			 krb_tolerance;
	int			 power_scheme;	/* 0 s0, 1 s0_s3, 2 s0_s3_s4_s5 */
	int			 web_ui;
	int			 sol;
	int			 ider;
	int			 ping;
	size_t			 nwifi;		/* [wifi.*] profiles */
	struct oobsp_wifi	 wifi[OOBSP_WIFI_MAX];
	int			 wired_8021x;	/* oob.wired_8021x set */
	int			 wired;		/* its index in x8021, or -1 */
	size_t			 nx8021;	/* [ieee8021x.*] profiles */
	struct oobsp_8021x	 x8021[OOBSP_8021X_MAX];
};

/* Reads the policy from a loaded amtprovd.conf (secret files are read now).
 * err names the key.  0, AMTP_E_CONFIG, AMTP_E_NOMEM, or a secret file's
 * error. */
int oobsp_policy_load(const struct amtp_conf *c, struct oobsp_policy *p,
    char *err, size_t errlen);
/* Wipes and frees what the policy holds (not p itself). */
void oobsp_policy_reset(struct oobsp_policy *p);
/* The AMT realm number of a configured realm name ("pt_administration":
 * 3), or -1. */
int oobsp_realm_parse(const char *name);

/* ------------------------------------------------------------------ */
/* The plan                                                             */
/* ------------------------------------------------------------------ */

struct oobsp_job;

/* What a step function returns. */
#define OOBSP_WAIT	1	/* a request is out: call again with its reply */
#define OOBSP_OK	0	/* the step is done */
#define OOBSP_SKIPPED	2	/* nothing to do: already done on the device */
/* anything negative: failed; oobsp_job_fail*() said why and how */

/* Step flags. */
#define OOBSP_F_SESSION	0x01	/* runs on every attempt (opens the session) */
#define OOBSP_F_STAGE1	0x02	/* first stage: not run once the device is POST */
#define OOBSP_F_STAGE2	0x04	/* second stage */
#define OOBSP_F_LOGFIRST 0x08	/* its start is in the log (committed) before
				 * it runs: a later attempt must know it was
				 * tried (step rows are otherwise written at
				 * the engine's next flush) */

struct oobsp_step {
	const char	*name;		/* as in the step log */
	int		(*run)(struct oobsp_job *j);
	unsigned	 flags;
	const char	*what;		/* one line for docs and --plan */
};

/* The plan of a provisioning job, and its length. */
extern const struct oobsp_step oobsp_plan_provision[];
extern const size_t oobsp_plan_provision_len;
/* The plan of a rotate job (a new admin password on a provisioned
 * device), and its length. */
extern const struct oobsp_step oobsp_plan_rotate[];
extern const size_t oobsp_plan_rotate_len;
/* The plan of an unprovision job (back to PRE), and its length. */
extern const struct oobsp_step oobsp_plan_unprovision[];
extern const size_t oobsp_plan_unprovision_len;

/* Index of the step called name in the provisioning plan, or -1. */
int oobsp_plan_find(const char *name);

struct oobsp_plan {
	const struct oobsp_step	*steps;
	size_t			 n;
};
/* The plan of a job kind (enum amtp_job_kind), or NULL when this service
 * point does not run that kind. */
const struct oobsp_plan *oobsp_plan_for(int kind);
/* Index of the step called name in plan, or -1. */
int oobsp_plan_index(const struct oobsp_plan *plan, const char *name);

/* ------------------------------------------------------------------ */
/* The engine                                                           */
/* ------------------------------------------------------------------ */

struct oobsp_engine;

struct oobsp_engine_cfg {
	const char	*owner;		/* unique per process run */
	int		 lease_secs;
	int		 max_jobs;	/* jobs in progress at once */
	int		 max_attempts;	/* claims of one job before it fails */
	unsigned	 port;		/* device port; 0: 16993 */
	unsigned	 connect_timeout_ms;	/* 0: OOBSP_CONNECT_TIMEOUT_MS */
	unsigned	 request_timeout_ms;	/* 0: OOBSP_REQUEST_TIMEOUT_MS */
	/* transient failures of one step before the job is requeued, and
	 * the first backoff (ms, doubled each time) */
	int		 step_retries;		/* 0: OOBSP_STEP_RETRIES */
	unsigned	 backoff_ms;		/* 0: OOBSP_BACKOFF_MS */
	int		 requeue_secs;		/* 0: OOBSP_REQUEUE_SECS */
	unsigned	 idle_claim_ms;		/* 0: OOBSP_IDLE_CLAIM_MS */
	unsigned	 log_flush_ms;		/* 0: OOBSP_LOG_FLUSH_MS */
	/* for tests: stop (as if killed) after this many requests; 0: never */
	unsigned long	 die_after_requests;
	/* for tests: the first this many step-log flushes fail as if the
	 * database were busy (nothing written); 0: none */
	unsigned	 fail_flushes;
};

/*
 * A new engine.  Everything is borrowed and must outlive it: st (used from
 * the engine's thread only), tr, pol, signer (issues the AMT web-server
 * certificates; NULL when oobsp_engine_use_enroll() follows), the provisioning chain (PEM, leaf first) and its key.
 */
int oobsp_engine_new(const struct oobsp_engine_cfg *cfg,
    struct amtp_store *st, struct oobsp_transport *tr,
    const struct oobsp_policy *pol, struct amtp_signer *signer,
    const char *prov_chain_pem, const struct amtp_secret *prov_key_pem,
    struct oobsp_engine **out);
/*
 * Issue certificates through the site's shared enrollment point (role
 * enroll, docs/enrollment.md) instead of the signer given to
 * oobsp_engine_new: cl is borrowed and must outlive the engine.  Call
 * before the first poll.
 */
void oobsp_engine_use_enroll(struct oobsp_engine *e,
    struct amtp_enroll_client *cl);
/*
 * The directory whose device accounts unprovision jobs disable (accounts
 * named by the device's host name in container); dir and container are
 * borrowed.  Without it the step is recorded skipped.
 */
void oobsp_engine_use_dir(struct oobsp_engine *e, struct amtp_dir *dir,
    const char *container);
/* Frees the engine.  Jobs in progress are left as they are in the database
 * (their leases run out and another service point resumes them). */
void oobsp_engine_free(struct oobsp_engine *e);

/*
 * One turn: claims jobs up to max_jobs, renews leases, waits at most
 * timeout_ms for device I/O, advances every job whose reply came or whose
 * backoff ended.  *busy (may be NULL) gets the number of jobs in progress.
 * 0, or a negative AMTP_E_* when the database or the transport broke.
 * AMTP_E_CANCELLED-like stops for tests: AMTP_E_INTERNAL once
 * die_after_requests is reached (the engine must then be freed).
 */
int oobsp_engine_poll(struct oobsp_engine *e, int timeout_ms, int *busy);

/* Counters. */
struct oobsp_stats {
	unsigned long	jobs_claimed;
	unsigned long	jobs_done;
	unsigned long	jobs_failed;
	unsigned long	jobs_requeued;
	unsigned long	requests;
	unsigned long	reads_reused;	/* Gets answered from the session's
					 * earlier read (not sent) */
	unsigned long	claims_flushed;	/* jobs claimed in a step-log flush
					 * (of jobs_claimed) */
	unsigned long	step_retries;
	unsigned long	log_commits;	/* step-log flushes (one commit each) */
};
void oobsp_engine_stats(const struct oobsp_engine *e, struct oobsp_stats *s);

/* ------------------------------------------------------------------ */
/* The role                                                             */
/* ------------------------------------------------------------------ */

/* The role's main: runs the engine until SIGTERM/SIGINT.  Exit status. */
int oobsp_main(const struct amtp_conf *c);

#endif
