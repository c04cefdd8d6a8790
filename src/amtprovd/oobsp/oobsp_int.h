/*
 * amtprov - oobsp/oobsp_int.h: what the engine (engine.c) and the steps
 * (steps_*.c) share inside the service point.  Not for other roles.
 */
#ifndef AMTPROVD_OOBSP_INT_H
#define AMTPROVD_OOBSP_INT_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "amtprov/wsman.h"
#include "dir/dir.h"
#include "enroll/client.h"
#include "oobsp/oobsp.h"
#include "store/store.h"

/* Where a job is. */
enum oobsp_job_state {
	OOBSP_JS_RUNNABLE = 0,	/* advance it now */
	OOBSP_JS_WAITING,	/* a request is out */
	OOBSP_JS_SLEEPING,	/* backoff: not before wake_ms */
	OOBSP_JS_DURABLE,	/* a store write must commit first */
	OOBSP_JS_GONE		/* finished or lost: to be freed */
};

/* How a failure counts. */
enum oobsp_fail {
	OOBSP_FAIL_NONE = 0,
	OOBSP_FAIL_TRANSIENT,	/* retry the step with backoff */
	OOBSP_FAIL_PERMANENT	/* the job fails at once */
};

/* Credentials the connect step tries, in order. */
enum oobsp_cand_kind {
	OOBSP_CAND_ADMIN_PENDING = 0,
	OOBSP_CAND_ADMIN_CURRENT,
	OOBSP_CAND_MEBX_PENDING,
	OOBSP_CAND_MEBX_CURRENT,
	OOBSP_CAND_SETUP,		/* the site's list, in order */
	OOBSP_CAND__MAX
};

/*
 * A write to a job's row, its step log or the site's records, queued until
 * the engine's next flush (engine.c), where the writes of all jobs share
 * one commit: the step log costs a commit per poll round, not two per step
 * and device.  Nothing in the log must be durable before the device is
 * touched, except a step marked OOBSP_F_LOGFIRST (the flush is then done
 * at once).  A write that must be durable before the job goes on (the
 * escrow of a password before it is sent) makes the job wait for the
 * flush, which is then due at the end of the poll round: the jobs that
 * wait in one round share one commit.
 */
enum oobsp_logop_kind {
	OOBSP_LOG_STEP = 0,	/* a row: new (step_id 0) or the end of one */
	OOBSP_LOG_FINISH,	/* the job is done or failed */
	OOBSP_LOG_REQUEUE,	/* the job goes back to the queue */
	OOBSP_LOG_CALL		/* fn(j, op), see oobsp_store_later() */
};

struct oobsp_logop;
struct oobsp_job;
/* A store write run inside the flush (st is in its transaction, under the
 * job's savepoint).  Returns 0 or an AMTP_E_* code (the job's writes of
 * this flush are then undone and the job is dropped). */
typedef int (*oobsp_store_fn)(struct oobsp_job *j, struct oobsp_logop *op);

struct oobsp_logop {
	STAILQ_ENTRY(oobsp_logop)	 entry;
	enum oobsp_logop_kind		 kind;
	int64_t				 step_id;	/* STEP: the row to end */
	int64_t				 row_id;	/* STEP: the new row's id
							 * (an open one), once
							 * committed */
	enum amtp_step_outcome		 outcome;	/* STEP */
	enum amtp_job_state		 state;		/* FINISH */
	int				 set_status;	/* FINISH: device too */
	enum amtp_amt_status		 status;
	char				 name[AMTP_STORE_NAME_MAX + 1];
	char				 text[AMTP_STORE_TEXT_MAX + 1];	/* detail,
							 * reason */
	oobsp_store_fn			 fn;		/* CALL */
	int				 arg;		/* CALL: fn's own */
	int				 arg2;
	int				 wait;		/* CALL: the job waits
							 * for the commit */
};

struct oobsp_engine {
	struct oobsp_engine_cfg		 cfg;
	char				 owner[AMTP_STORE_OWNER_MAX + 1];
	struct amtp_store		*st;
	struct oobsp_transport		*tr;
	const struct oobsp_policy	*pol;
	struct amtp_enroll_via		 via;	/* own signer or the enroll role */
	struct amtp_dir			*dir;	/* unprovision: accounts; NULL none */
	const char			*dir_container;
	const char			*prov_chain_pem;
	const struct amtp_secret	*prov_key_pem;
	TAILQ_HEAD(, oobsp_job)		 jobs;
	int				 njobs;
	int64_t				 next_claim_ms;	/* claim backoff */
	int64_t				 next_flush_ms;	/* step log */
	int64_t				 last_flush_ms;
	int				 flush_fails;	/* commits failed in a
							 * row */
	unsigned			 flush_faked;	/* cfg.fail_flushes */
	unsigned long			 msgid;
	int				 dead;		/* die_after reached */
	struct oobsp_stats		 stats;
};

struct oobsp_job {
	TAILQ_ENTRY(oobsp_job)		 entry;
	struct oobsp_engine		*e;
	struct amtp_job_rec		 rec;
	struct amtp_device_rec		 dev;
	char				 fqdn[AMTP_STORE_FQDN_MAX + 1];
	char				 host[AMTP_STORE_HOSTNAME_MAX + 1];
	char				 domain[AMTP_STORE_FQDN_MAX + 1];
	enum oobsp_job_state		 state;
	int64_t				 wake_ms;
	int64_t				 renew_ms;	/* next lease renewal */

	/* position in the plan */
	const struct oobsp_plan		*plan;
	size_t				 step;
	int				 pc;		/* inside the step */
	int				 step_open;	/* a step row is open */
	int64_t				 step_id;	/* its id once written */
	struct oobsp_logop		*open_op;	/* its queued start */
	STAILQ_HEAD(, oobsp_logop)	 logq;		/* not yet written */
	int				 closing;	/* finish/requeue queued */
	int				 flush_r;	/* its writes, last flush */
	int64_t				 step_t0_ms;
	int				 step_tries;	/* transient failures */
	uint8_t				 done[OOBSP_PLAN_MAX];	/* from the log */
	uint8_t				 logged[OOBSP_PLAN_MAX];	/* the step
							 * ran: a row in the
							 * log, or begun in
							 * this attempt */
	int				 rerun;		/* the current step
							 * ran before (an
							 * earlier attempt or
							 * try): it may find
							 * its work done */

	/* the last reply */
	struct amtp_wsman_response	*resp;
	int				 rstatus;
	long				 rhttp;
	char				 rdetail[256];

	/* the device session */
	struct oobsp_conn		*conn;
	/* instances read on this session that a later step reads again
	 * (engine.c, rcache_*): the reply bodies, NULL when not read or
	 * possibly changed since */
	struct amtp_buf			*rcache[OOBSP_RCACHE_N];
	int				 rc_fill;	/* slot the pending Get
							 * fills, -1 none */
	int				 prov_state;	/* -1 unknown, 0 PRE, 1 IN, 2 POST */
	char				 realm[AMTP_DIGEST_VALUE_MAX + 1];
	int				 cand;		/* connect: candidate index */
	int				 tried;		/* connect: candidates tried */
	char				 cand_name[AMTP_CONF_NAME_MAX + 16];
	struct amtp_secret		*sess_pw;	/* what the session uses */
	char				 sess_user[33];
	char				 sess_pin[OOBSP_PINS_MAX];	/* "" none */
	int				 sess_client;	/* presents the chain */

	/* escrow: the versions this job knows (0 none) */
	int				 admin_pending_v;
	int				 admin_current_v;
	int				 mebx_pending_v;
	int				 mebx_current_v;
	int				 settled_pending;	/* connect promoted one */
	struct amtp_secret		*escrow_pw;	/* the password being
							 * escrowed, then sent */
	int				 escrow_v;	/* its version */
	int64_t				 durable_ms;	/* since when it waits
							 * for a flush */

	/* stage 1 scratch */
	char				 key_id[OOBSP_ID_MAX + 1];
	char				 cert_id[OOBSP_ID_MAX + 1];
	char				 root_id[OOBSP_ID_MAX + 1];	/* 802.1X */
	char				 client_id[OOBSP_ID_MAX + 1];	/* 802.1X */
	X509				*web_cert;	/* issued for this device */
	EVP_PKEY			*web_key;	/* fallback: made by us */
	int				 keygen_fallback;
	long long			 ta0;
	char				 enum_ctx[OOBSP_ID_MAX + 1];
	size_t				 nids, idx;
	char				 ids[OOBSP_IDS_MAX][OOBSP_ID_MAX + 1];
	struct amtp_wsman_response	*saved;		/* an instance to Put back */

	/* failure of the current step */
	enum oobsp_fail			 fail;
	char				 detail[AMTP_STORE_TEXT_MAX + 1];

	/* 802.1X: certificates (then their keys) that profiles being
	 * replaced used, to delete once nothing uses them (steps_8021x.c) */
	char				 prune[OOBSP_IDS_MAX][OOBSP_ID_MAX + 1];
	size_t				 nprune, pidx;
	int				 pruned, prune_kept;
};

/* engine.c: what steps call */

/*
 * Sends one request built from rb (message id filled in) on the job's
 * connection.  Returns OOBSP_WAIT, or a failure (already described).
 */
int oobsp_call(struct oobsp_job *j, struct amtp_wsman_req_build *rb);
/* Shorthands: Get/Enumerate/Pull/Invoke/Put on class cls (an AMT_*,
 * CIM_* or IPS_* name: the resource URI is derived). */
int oobsp_get(struct oobsp_job *j, const char *cls,
    const struct amtp_wsman_selector *sel, size_t nsel);
int oobsp_enumerate(struct oobsp_job *j, const char *cls);
int oobsp_pull(struct oobsp_job *j, const char *cls);
/* After an Enumerate of cls: checks its reply (oobsp_reply_ok), keeps its
 * EnumerationContext (none, or one too long to keep, fails the step) and
 * sends the Pull; the step goes on at pc with the Pull's reply. */
int oobsp_pull_next(struct oobsp_job *j, const char *cls, int pc);
int oobsp_invoke(struct oobsp_job *j, const char *cls, const char *method,
    const struct amtp_wsman_prop *props, size_t nprops,
    const struct amtp_wsman_selector *sel, size_t nsel);
int oobsp_put(struct oobsp_job *j, const char *cls,
    const struct amtp_wsman_obj *body, const struct amtp_wsman_selector *sel,
    size_t nsel);
int oobsp_create(struct oobsp_job *j, const char *cls,
    const struct amtp_wsman_obj *body);
int oobsp_delete(struct oobsp_job *j, const char *cls,
    const struct amtp_wsman_selector *sel, size_t nsel);
/* The resource URI of a class into dst. */
int oobsp_class_uri(const char *cls, char *dst, size_t dstsz);

/*
 * Checks the last reply: 0 when it arrived and parsed (and, when method is
 * not NULL, its ReturnValue is 0).  Otherwise describes the failure in
 * j->detail ("<cls>.<method>: ..."), classifies it, and returns a negative
 * code.
 */
int oobsp_reply_ok(struct oobsp_job *j, const char *cls, const char *method);
/* The ReturnValue of the last reply, or -1 when it has none. */
long long oobsp_reply_rv(const struct oobsp_job *j);
/* The last reply is the fault AMT gives for a class the platform does not
 * have (DestinationUnreachable: no wireless, no IPS_IEEE8021xSettings). */
int oobsp_reply_unreachable(const struct oobsp_job *j);

/*
 * Queues fn(j, op) (op->arg, op->arg2 set from arg, arg2) for the engine's
 * next flush, after the job's earlier queued writes and under the same
 * commit.  With wait, the job waits for that commit: OOBSP_WAIT is
 * returned (return it from the step, whose pc says where to go on), and
 * the flush is due at the end of the poll round.  When fn or the commit
 * fails, the job is dropped: its lease lapses and it resumes from the log
 * (fn's writes are undone with the job's other writes of that flush).
 * Without wait, 0 is returned and the job goes on at once.  A negative
 * code when the write cannot be queued (the job is then dropped).
 */
int oobsp_store_later(struct oobsp_job *j, oobsp_store_fn fn, int arg,
    int arg2, int wait);

/* Marks the step failed: kind, and a detail (printf). Returns AMTP_E_*. */
int oobsp_fail(struct oobsp_job *j, enum oobsp_fail kind, int r,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Sets the step's detail for success. */
void oobsp_detail(struct oobsp_job *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Opens the job's connection (closing any previous one) for user/pw;
 * pin may be NULL; client 1 presents the provisioning chain. */
int oobsp_connect(struct oobsp_job *j, const char *user,
    const struct amtp_secret *pw, const char *pin, int client);
void oobsp_disconnect(struct oobsp_job *j);
/* The same connection again (user, password, pin, chain), fresh. */
int oobsp_reconnect(struct oobsp_job *j);

/* steps_*.c: the step functions */
int oobsp_step_connect(struct oobsp_job *j);
int oobsp_step_read_facts(struct oobsp_job *j);
int oobsp_step_otp_check(struct oobsp_job *j);
int oobsp_step_time_sync(struct oobsp_job *j);
int oobsp_step_host_name(struct oobsp_job *j);
int oobsp_step_tls_cert(struct oobsp_job *j);
int oobsp_step_tls_enable(struct oobsp_job *j);
int oobsp_step_admin_password(struct oobsp_job *j);
int oobsp_step_mebx_password(struct oobsp_job *j);
int oobsp_step_commit(struct oobsp_job *j);
int oobsp_step_verify(struct oobsp_job *j);
int oobsp_step_user_acls(struct oobsp_job *j);
int oobsp_step_kerberos(struct oobsp_job *j);
int oobsp_step_power(struct oobsp_job *j);
int oobsp_step_net_services(struct oobsp_job *j);
int oobsp_step_wifi(struct oobsp_job *j);
int oobsp_step_wired_8021x(struct oobsp_job *j);

/* steps_8021x.c: puts the root and (EAP-TLS) the client certificate of
 * 802.1X profile k on the device, using j->pc from base to base +
 * OOBSP_XC_PCS - 1; start it with j->pc = base.  OOBSP_WAIT while it works,
 * OOBSP_OK when done (j->root_id, j->client_id: "" when none), or a
 * failure. */
#define OOBSP_XC_PCS	10
int oobsp_8021x_certs(struct oobsp_job *j, int k, int base);
/* steps_8021x.c: which profiles' certificate links to collect */
enum oobsp_links {
	OOBSP_LINKS_WIFI = 0,	/* CIM_IEEE8021xSettings (Wi-Fi profiles) */
	OOBSP_LINKS_WIRED	/* IPS_IEEE8021xSettings, AMT_8021XProfile */
};
/* Adds to j->prune the certificates the credential contexts
 * (Enumerate CIM_CredentialContext) link to the profiles of kind which;
 * j->pc from base to base + OOBSP_LC_PCS - 1, start with j->pc = base.
 * OOBSP_WAIT, OOBSP_OK or a failure.  A device without that class adds
 * nothing. */
#define OOBSP_LC_PCS	3
int oobsp_8021x_links(struct oobsp_job *j, enum oobsp_links which, int base);
/* Deletes the certificates of j->prune that no credential context names
 * any more (and are not read-only), with the keys of those client
 * certificates (matched by public key) that no remaining certificate
 * uses, keys first; a Delete the device refuses with a fault (in use)
 * keeps that one.
 * Counts in j->pruned, j->prune_kept; empties j->prune.  j->pc from base
 * to base + OOBSP_PR_PCS - 1, start with j->pc = base. */
#define OOBSP_PR_PCS	9
int oobsp_8021x_prune(struct oobsp_job *j, int base);
int oobsp_step_report(struct oobsp_job *j);
int oobsp_step_rotate_admin(struct oobsp_job *j);
int oobsp_step_report_rotate(struct oobsp_job *j);
/* steps_unprov.c: job kind unprovision */
int oobsp_step_unprov_connect(struct oobsp_job *j);
int oobsp_step_unprovision(struct oobsp_job *j);
int oobsp_step_confirm_pre(struct oobsp_job *j);
int oobsp_step_dir_disable(struct oobsp_job *j);
int oobsp_step_report_unprov(struct oobsp_job *j);

/* steps_tls.c: puts back the instance saved in j->saved (a Get reply) with
 * the text properties names[] set to values[] (added when missing); the
 * references of the instance are left out. */
int oobsp_put_modified(struct oobsp_job *j, const char *cls,
    const struct amtp_wsman_selector *sel, size_t nsel,
    const char *const *names, const char *const *values, size_t n);

/* steps_tls.c: a reference to class cls with one selector name=value;
 * e, sel and uri (urisz bytes) are the caller's storage. */
int oobsp_epr(struct amtp_wsman_epr *e, struct amtp_wsman_selector *sel,
    char *uri, size_t urisz, const char *cls, const char *name,
    const char *value);
/*
 * steps_tls.c: the device makes an RSA-2048 key (GenerateKeyPair), its
 * DERKey is read (Enumerate/Pull AMT_PublicPrivateKeyPair), and the device
 * signs a request for it (GeneratePKCS10RequestEx of a null-signed request
 * with CN j->fqdn), using j->pc from base to base + OOBSP_DK_PCS - 1; start
 * with j->pc = base.  OOBSP_WAIT while it works; OOBSP_OK with the signed
 * request (DER) in a new buffer *csr; or a failure (a device that cannot
 * make keys: GenerateKeyPair's ReturnValue 2066 at j->pc == base + 1).
 */
#define OOBSP_DK_PCS	5
int oobsp_device_csr(struct oobsp_job *j, int base, struct amtp_buf **csr);

/* steps_util.c */
/* base64(MD5(user:realm:pw)): AMT's DigestPassword (base64Binary). */
int oobsp_digest_password_b64(const char *user, const char *realm,
    const struct amtp_secret *pw, char *dst, size_t dstsz);
/* "sha256//<base64>" of cert's public key, appended to dst (with ';' when
 * dst is not empty). */
int oobsp_pin_append(X509 *cert, char *dst, size_t dstsz);
/* The InstanceID selector of o's EPR property name ("KeyPair",
 * "CreatedCertificate", "ElementInContext"), or NULL. */
const char *oobsp_epr_instance(const struct amtp_wsman_obj *o,
    const char *name);
/* A CSR for the device's public key (DER RSAPublicKey or SPKI) with CN cn
 * and a zero signature, in base64, for GeneratePKCS10RequestEx. */
int oobsp_null_signed_csr_b64(const void *der, size_t len, const char *cn,
    struct amtp_buf *out);

#endif
