/*
 * amtprov - oobsp/engine.c: the job runner of the service point (role
 * oobsp).
 *
 * The engine claims provisioning jobs from the site database with a lease,
 * walks each job through the plan (plan.c), and records every step in the
 * job's log.  Jobs advance independently: a step sends one WS-Management
 * request and returns OOBSP_WAIT; the transport calls back when the reply
 * is there, and the step runs again from where it stopped (j->pc).  One
 * thread drives every job; nothing blocks except the database calls.
 *
 * Resume: when a job is claimed, its step log tells which steps ended "ok"
 * or "skipped" in earlier attempts; those are not run again (a "skipped"
 * row says so), except the session steps, which open the device session
 * and find out which escrowed password the device holds.
 *
 * Failures: a step that fails transiently (reset, timeout, 5xx, a device
 * that reboots) is retried with backoff; when its retries are spent the job
 * goes back to the queue.  A permanent failure (wrong OTP, certificate
 * refused, credentials spent, unsupported device) fails the job at once
 * with "<step>: <reason>".  Any store call answering AMTP_E_CONFLICT means
 * the job is not ours any more: it is dropped at once, and nothing more is
 * sent to the device.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"
#include "amtprov/wsman.h"

#include "oobsp/oobsp.h"
#include "oobsp/oobsp_int.h"
#include "store/store.h"

/* Largest request envelope we build (a certificate blob is the largest). */
#define REQUEST_MAX	(64 * 1024)

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* Failures and details                                                 */
/* ------------------------------------------------------------------ */

int
oobsp_fail(struct oobsp_job *j, enum oobsp_fail kind, int r,
    const char *fmt, ...)
{
	va_list ap;

	j->fail = kind;
	va_start(ap, fmt);
	vsnprintf(j->detail, sizeof(j->detail), fmt, ap);
	va_end(ap);
	return r < 0 ? r : AMTP_E_INTERNAL;
}

void
oobsp_detail(struct oobsp_job *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->detail, sizeof(j->detail), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Requests                                                             */
/* ------------------------------------------------------------------ */

int
oobsp_class_uri(const char *cls, char *dst, size_t dstsz)
{
	const char *base;
	int n;

	if (strncmp(cls, "AMT_", 4) == 0)
		base = AMTP_WSMAN_URI_AMT;
	else if (strncmp(cls, "CIM_", 4) == 0)
		base = AMTP_WSMAN_URI_CIM;
	else if (strncmp(cls, "IPS_", 4) == 0)
		base = AMTP_WSMAN_URI_IPS;
	else
		return AMTP_E_INVAL;
	n = snprintf(dst, dstsz, "%s%s", base, cls);
	if (n < 0 || (size_t)n >= dstsz)
		return AMTP_E_TOOBIG;
	return 0;
}

/*
 * The session's read cache.  Three Gets of a provisioning re-read an
 * instance the job read a moment before on the same session: otp-check
 * (AMT_SetupAndConfigurationService, read by connect), host-name and
 * network-services (AMT_GeneralSettings, read by read-facts and verify).
 * Such a Get is answered from the earlier reply when nothing since could
 * have changed the instance: the cache is emptied by a new session (a
 * reconnect, a retry), by any write to the class itself, by any write to
 * AMT_SetupAndConfigurationService (CommitChanges, Unprovision, passwords
 * change what both say), and, for AMT_SetupAndConfigurationService, by any
 * write at all.  The first Get of a session always goes to the device (it
 * is what proves the credentials).
 */
static const char *const rcache_class[OOBSP_RCACHE_N] = {
	"AMT_GeneralSettings",
	"AMT_SetupAndConfigurationService",
};
#define RC_SETUP	1

static int
rcache_slot(const char *cls)
{
	int i;

	for (i = 0; i < OOBSP_RCACHE_N; i++)
		if (strcmp(cls, rcache_class[i]) == 0)
			return i;
	return -1;
}

static void
rcache_drop(struct oobsp_job *j, int slot)
{
	amtp_buf_free(j->rcache[slot]);
	j->rcache[slot] = NULL;
}

static void
rcache_clear(struct oobsp_job *j)
{
	int i;

	for (i = 0; i < OOBSP_RCACHE_N; i++)
		rcache_drop(j, i);
	j->rc_fill = -1;
}

/* A write (any request but a Get) to the class of uri is on its way. */
static void
rcache_written(struct oobsp_job *j, const char *uri)
{
	const char *cls = strrchr(uri, '/');
	int slot = rcache_slot(cls != NULL ? cls + 1 : uri);

	rcache_drop(j, RC_SETUP);
	if (slot == RC_SETUP)
		rcache_clear(j);
	else if (slot >= 0)
		rcache_drop(j, slot);
}

static void
rcache_keep(struct oobsp_job *j, int slot, const char *body, size_t len)
{
	rcache_drop(j, slot);
	if ((j->rcache[slot] = amtp_buf_new(len)) != NULL &&
	    amtp_buf_put(j->rcache[slot], body, len) != 0)
		rcache_drop(j, slot);	/* not kept: read again next time */
}

static void
job_reply(void *arg, const struct oobsp_reply *rep)
{
	struct oobsp_job *j = arg;
	char err[160] = "";
	int r;

	amtp_wsman_response_free(j->resp);
	j->resp = NULL;
	j->rstatus = rep->status;
	j->rhttp = rep->http;
	amtp_strlcpy(j->rdetail, rep->detail, sizeof(j->rdetail));
	/* a SOAP fault comes with HTTP 400/500 and a body: parse it too */
	if (rep->body != NULL && rep->len > 0 &&
	    (rep->status == 0 || rep->status == AMTP_E_HTTP)) {
		r = amtp_wsman_response_parse(rep->body, rep->len, &j->resp,
		    err, sizeof(err));
		if (r == AMTP_E_SOAP_FAULT)
			j->rstatus = AMTP_E_SOAP_FAULT;
		else if (r != 0 && rep->status == 0) {
			j->rstatus = r;
			snprintf(j->rdetail, sizeof(j->rdetail),
			    "unreadable reply: %s", err);
		}
		/* an error page that is not SOAP keeps its HTTP status */
	}
	if (j->rc_fill >= 0 && j->rstatus == 0 && j->resp != NULL)
		rcache_keep(j, j->rc_fill, rep->body, rep->len);
	j->rc_fill = -1;
	if (j->state == OOBSP_JS_WAITING)
		j->state = OOBSP_JS_RUNNABLE;
}

/* For the debug log. */
static const char *
op_name(enum amtp_wsman_op op)
{
	static const char *const names[AMTP_WSMAN_OP__MAX] = {
		[AMTP_WSMAN_OP_GET] = "Get", [AMTP_WSMAN_OP_PUT] = "Put",
		[AMTP_WSMAN_OP_CREATE] = "Create",
		[AMTP_WSMAN_OP_DELETE] = "Delete",
		[AMTP_WSMAN_OP_ENUMERATE] = "Enumerate",
		[AMTP_WSMAN_OP_PULL] = "Pull",
		[AMTP_WSMAN_OP_RELEASE] = "Release",
		[AMTP_WSMAN_OP_INVOKE] = "Invoke",
	};

	return op < AMTP_WSMAN_OP__MAX && names[op] != NULL ? names[op] : "?";
}

int
oobsp_call(struct oobsp_job *j, struct amtp_wsman_req_build *rb)
{
	struct oobsp_engine *e = j->e;
	struct amtp_buf *b = NULL;
	const char *cls;
	char mid[32];
	int r;

	if (j->conn == NULL)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_STATE,
		    "no device session");
	if (e->cfg.die_after_requests != 0 &&
	    e->stats.requests >= e->cfg.die_after_requests) {
		e->dead = 1;
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL,
		    "service point stopping (test)");
	}
	snprintf(mid, sizeof(mid), "%lu", e->msgid++);
	rb->message_id = mid;
	if ((b = amtp_buf_new(REQUEST_MAX)) == NULL) {
		r = oobsp_fail(j, OOBSP_FAIL_TRANSIENT, AMTP_E_NOMEM,
		    "out of memory");
		goto out;
	}
	if ((r = amtp_wsman_request_build(rb, b)) != 0) {
		r = oobsp_fail(j, OOBSP_FAIL_PERMANENT, r,
		    "cannot build request for %s: %s", rb->resource_uri,
		    amtp_strerror(r));
		goto out;
	}
	amtp_wsman_response_free(j->resp);
	j->resp = NULL;
	j->rstatus = 0;
	j->rhttp = 0;
	j->rdetail[0] = '\0';
	j->rc_fill = -1;
	if (rb->op != AMTP_WSMAN_OP_GET)
		rcache_written(j, rb->resource_uri);
	else if (rb->nselectors == 0 && (cls = strrchr(rb->resource_uri,
	    '/')) != NULL)
		j->rc_fill = rcache_slot(cls + 1);
	if ((r = e->tr->ops->send(e->tr, j->conn, amtp_buf_ptr(b),
	    amtp_buf_len(b), job_reply, j)) != 0) {
		r = oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r, "send: %s",
		    amtp_strerror(r));
		goto out;
	}
	e->stats.requests++;
	log_debug("job %lld: %s: %s %s%s%s", (long long)j->rec.id,
	    j->plan->steps[j->step].name, op_name(rb->op),
	    (cls = strrchr(rb->resource_uri, '/')) != NULL ? cls + 1 :
	    rb->resource_uri, rb->method != NULL ? "." : "",
	    rb->method != NULL ? rb->method : "");
	j->state = OOBSP_JS_WAITING;
	r = OOBSP_WAIT;
 out:
	amtp_buf_free(b);
	return r;
}

static int
call_simple(struct oobsp_job *j, enum amtp_wsman_op op, const char *cls,
    const char *method, const struct amtp_wsman_obj *body,
    const struct amtp_wsman_selector *sel, size_t nsel)
{
	struct amtp_wsman_req_build rb;
	char uri[256];
	int r;

	if ((r = oobsp_class_uri(cls, uri, sizeof(uri))) != 0)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, r, "class %s", cls);
	memset(&rb, 0, sizeof(rb));
	rb.op = op;
	rb.resource_uri = uri;
	rb.method = method;
	rb.selectors = sel;
	rb.nselectors = nsel;
	rb.body = body;
	if (op == AMTP_WSMAN_OP_PULL)
		rb.enum_context = j->enum_ctx;
	return oobsp_call(j, &rb);
}

int
oobsp_get(struct oobsp_job *j, const char *cls,
    const struct amtp_wsman_selector *sel, size_t nsel)
{
	struct oobsp_reply rep;
	int slot;

	if (nsel == 0 && j->conn != NULL && (slot = rcache_slot(cls)) >= 0 &&
	    j->rcache[slot] != NULL) {
		/* read on this session, unchanged since: answered here (the
		 * job runs on at once, see job_advance) */
		memset(&rep, 0, sizeof(rep));
		rep.http = 200;
		rep.body = (const char *)amtp_buf_ptr(j->rcache[slot]);
		rep.len = amtp_buf_len(j->rcache[slot]);
		j->rc_fill = -1;
		j->state = OOBSP_JS_WAITING;
		job_reply(j, &rep);
		j->e->stats.reads_reused++;
		log_debug("job %lld: %s: Get %s: this session's earlier read",
		    (long long)j->rec.id, j->plan->steps[j->step].name, cls);
		return OOBSP_WAIT;
	}
	return call_simple(j, AMTP_WSMAN_OP_GET, cls, NULL, NULL, sel, nsel);
}

int
oobsp_enumerate(struct oobsp_job *j, const char *cls)
{
	return call_simple(j, AMTP_WSMAN_OP_ENUMERATE, cls, NULL, NULL, NULL,
	    0);
}

int
oobsp_pull(struct oobsp_job *j, const char *cls)
{
	return call_simple(j, AMTP_WSMAN_OP_PULL, cls, NULL, NULL, NULL, 0);
}

int
oobsp_pull_next(struct oobsp_job *j, const char *cls, int pc)
{
	const char *ctx;
	int r;

	if ((r = oobsp_reply_ok(j, cls, NULL)) != 0)
		return r;
	if ((ctx = j->resp->enum_context) == NULL ||
	    strlen(ctx) >= sizeof(j->enum_ctx))
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_PROTO,
		    "%s Enumerate: %s EnumerationContext", cls, ctx == NULL ?
		    "no" : "an over-long");
	amtp_strlcpy(j->enum_ctx, ctx, sizeof(j->enum_ctx));
	j->pc = pc;
	return oobsp_pull(j, cls);
}

int
oobsp_invoke(struct oobsp_job *j, const char *cls, const char *method,
    const struct amtp_wsman_prop *props, size_t nprops,
    const struct amtp_wsman_selector *sel, size_t nsel)
{
	struct amtp_wsman_obj in;

	memset(&in, 0, sizeof(in));
	in.props = props;
	in.nprops = nprops;
	return call_simple(j, AMTP_WSMAN_OP_INVOKE, cls, method, &in, sel,
	    nsel);
}

int
oobsp_put(struct oobsp_job *j, const char *cls,
    const struct amtp_wsman_obj *body, const struct amtp_wsman_selector *sel,
    size_t nsel)
{
	return call_simple(j, AMTP_WSMAN_OP_PUT, cls, NULL, body, sel, nsel);
}

int
oobsp_delete(struct oobsp_job *j, const char *cls,
    const struct amtp_wsman_selector *sel, size_t nsel)
{
	return call_simple(j, AMTP_WSMAN_OP_DELETE, cls, NULL, NULL, sel, nsel);
}

int
oobsp_create(struct oobsp_job *j, const char *cls,
    const struct amtp_wsman_obj *body)
{
	return call_simple(j, AMTP_WSMAN_OP_CREATE, cls, NULL, body, NULL, 0);
}

int
oobsp_reply_unreachable(const struct oobsp_job *j)
{
	return j->rstatus == AMTP_E_SOAP_FAULT && j->resp != NULL &&
	    j->resp->fault.subcode != NULL &&
	    strcmp(j->resp->fault.subcode, "DestinationUnreachable") == 0;
}

long long
oobsp_reply_rv(const struct oobsp_job *j)
{
	if (j->resp == NULL || !j->resp->has_return_value)
		return -1;
	return j->resp->return_value;
}

/* Transport failures that may pass by themselves. */
static int
is_transient(int status, long http)
{
	switch (status) {
	case AMTP_E_TIMEOUT:
	case AMTP_E_CLOSED:
	case AMTP_E_IO:
	case AMTP_E_AGAIN:
	case AMTP_E_BUSY:
	case AMTP_E_NOMEM:
		return 1;
	case AMTP_E_HTTP:
		return http >= 500 || http == 0;
	default:
		return 0;
	}
}

int
oobsp_reply_ok(struct oobsp_job *j, const char *cls, const char *method)
{
	char fault[256], esc[AMTP_LOG_ESCAPE_SIZE], msg[256];
	const char *what = method != NULL ? method : "request";
	long long rv;
	int r;

	if (j->rstatus == AMTP_E_SOAP_FAULT && j->resp != NULL) {
		/* the device's words: escaped and cut before they reach the
		 * job log and our log */
		amtp_wsman_fault_describe(j->resp, fault, sizeof(fault));
		amtp_log_escape(esc, sizeof(esc), fault, strlen(fault));
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_SOAP_FAULT,
		    "%s.%s: fault %s", cls, what, esc);
	}
	if (j->rstatus == AMTP_E_AUTH)
		/* the session authenticated before: a replayed nonce count
		 * (a request resent after a reset) or a device that forgot
		 * its nonces.  Retried on a fresh connection; the connect
		 * step of the next attempt decides if it persists. */
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, j->rstatus,
		    "%s.%s: Digest refused on an authenticated session", cls,
		    what);
	if (j->rstatus != 0) {
		if (j->rstatus == AMTP_E_HTTP)
			return oobsp_fail(j, is_transient(j->rstatus,
			    j->rhttp) ? OOBSP_FAIL_TRANSIENT :
			    OOBSP_FAIL_PERMANENT, j->rstatus,
			    "%s.%s: HTTP %ld", cls, what, j->rhttp);
		return oobsp_fail(j, is_transient(j->rstatus, j->rhttp) ?
		    OOBSP_FAIL_TRANSIENT : OOBSP_FAIL_PERMANENT, j->rstatus,
		    "%s.%s: %s%s%s", cls, what, amtp_strerror(j->rstatus),
		    j->rdetail[0] != '\0' ? ": " : "", j->rdetail);
	}
	if (j->resp == NULL)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_PROTO,
		    "%s.%s: empty reply", cls, what);
	if (method == NULL)
		return 0;
	if ((r = amtp_wsman_check_return(j->resp, cls, method, msg,
	    sizeof(msg))) != 0) {
		rv = oobsp_reply_rv(j);
		/* "busy, try again": keys still being generated, or an
		 * operation in progress */
		return oobsp_fail(j, rv == 2061 || rv == 2082 || rv == 2 ?
		    OOBSP_FAIL_TRANSIENT : OOBSP_FAIL_PERMANENT, r, "%s",
		    r == AMTP_E_PROTO ? "no ReturnValue in reply" : msg);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Device sessions                                                      */
/* ------------------------------------------------------------------ */

int
oobsp_reconnect(struct oobsp_job *j)
{
	struct amtp_secret *pw = NULL;
	char user[sizeof(j->sess_user)], pin[sizeof(j->sess_pin)];
	int client = j->sess_client, r;

	if (j->sess_pw == NULL)
		return AMTP_E_STATE;
	if ((r = amtp_secret_dup(j->sess_pw, &pw)) != 0)
		return r;
	amtp_strlcpy(user, j->sess_user, sizeof(user));
	amtp_strlcpy(pin, j->sess_pin, sizeof(pin));
	r = oobsp_connect(j, user, pw, pin[0] != '\0' ? pin : NULL, client);
	amtp_secret_free(pw);
	return r;
}

void
oobsp_disconnect(struct oobsp_job *j)
{
	if (j->conn != NULL)
		j->e->tr->ops->close(j->e->tr, j->conn);
	j->conn = NULL;
	amtp_secret_free(j->sess_pw);
	j->sess_pw = NULL;
	j->sess_user[0] = '\0';
	j->sess_pin[0] = '\0';
	j->sess_client = 0;
	rcache_clear(j);
}

int
oobsp_connect(struct oobsp_job *j, const char *user,
    const struct amtp_secret *pw, const char *pin, int client)
{
	struct oobsp_engine *e = j->e;
	struct oobsp_target tg;
	int r;

	oobsp_disconnect(j);
	if (j->dev.amt_addr[0] == '\0')
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_STATE,
		    "the device's AMT address is unknown (the agent has not "
		    "reported it)");
	memset(&tg, 0, sizeof(tg));
	tg.addr = j->dev.amt_addr;
	tg.port = e->cfg.port != 0 ? e->cfg.port : 16993;
	tg.tls = 1;
	if (client) {
		tg.client_chain_pem = e->prov_chain_pem;
		tg.client_key_pem = e->prov_key_pem;
	}
	tg.pin = pin;
	tg.user = user;
	tg.password = pw;
	tg.connect_timeout_ms = e->cfg.connect_timeout_ms != 0 ?
	    e->cfg.connect_timeout_ms : OOBSP_CONNECT_TIMEOUT_MS;
	tg.request_timeout_ms = e->cfg.request_timeout_ms != 0 ?
	    e->cfg.request_timeout_ms : OOBSP_REQUEST_TIMEOUT_MS;
	if ((r = amtp_secret_dup(pw, &j->sess_pw)) != 0)
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r, "out of memory");
	amtp_strlcpy(j->sess_user, user, sizeof(j->sess_user));
	if (pin != NULL && amtp_strlcpy(j->sess_pin, pin, sizeof(j->sess_pin)) >=
	    sizeof(j->sess_pin))
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_TOOBIG,
		    "too many certificate pins");
	j->sess_client = client;
	if ((r = e->tr->ops->open(e->tr, &tg, &j->conn)) != 0) {
		j->conn = NULL;
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r,
		    "cannot open a connection to %s: %s", j->dev.amt_addr,
		    amtp_strerror(r));
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Jobs                                                                 */
/* ------------------------------------------------------------------ */

static unsigned
flush_interval(const struct oobsp_engine *e)
{
	return e->cfg.log_flush_ms != 0 ? e->cfg.log_flush_ms :
	    OOBSP_LOG_FLUSH_MS;
}

static int
requeue_delay(const struct oobsp_engine *e)
{
	return e->cfg.requeue_secs != 0 ? e->cfg.requeue_secs :
	    OOBSP_REQUEUE_SECS;
}

/* Forgets what the job has queued for the log. */
static void
logq_clear(struct oobsp_job *j)
{
	struct oobsp_logop *op;

	while ((op = STAILQ_FIRST(&j->logq)) != NULL) {
		STAILQ_REMOVE_HEAD(&j->logq, entry);
		explicit_bzero(op, sizeof(*op));
		free(op);
	}
	j->open_op = NULL;
}

static struct oobsp_logop *
logop_new(struct oobsp_job *j, enum oobsp_logop_kind kind)
{
	struct oobsp_logop *op;

	if ((op = calloc(1, sizeof(*op))) == NULL)
		return NULL;
	op->kind = kind;
	STAILQ_INSERT_TAIL(&j->logq, op, entry);
	return op;
}

static void
job_free(struct oobsp_job *j)
{
	if (j == NULL)
		return;
	oobsp_disconnect(j);
	logq_clear(j);
	amtp_secret_free(j->escrow_pw);
	amtp_wsman_response_free(j->resp);
	amtp_wsman_response_free(j->saved);
	X509_free(j->web_cert);
	EVP_PKEY_free(j->web_key);
	explicit_bzero(j, sizeof(*j));
	free(j);
}

/* The job is not ours any more (or done): forget it. */
static void
job_drop(struct oobsp_job *j)
{
	oobsp_disconnect(j);
	j->state = OOBSP_JS_GONE;
}

static void
job_lost(struct oobsp_job *j, int r, const char *what)
{
	if (r == AMTP_E_CONFLICT)
		log_warnx("job %lld: %s: the job is not ours any more "
		    "(taken over, cancelled or finished): dropped",
		    (long long)j->rec.id, what);
	else
		log_warn_r(r, "job %lld: %s: %s", (long long)j->rec.id, what,
		    amtp_store_errmsg(j->e->st));
	job_drop(j);
}

/*
 * Ends the job (done or failed): queued for the next flush, which writes it
 * after the job's step rows, under the same commit; the job stops here.
 */
static void
job_finish(struct oobsp_job *j, enum amtp_job_state state, const char *why)
{
	struct oobsp_logop *op;

	if ((op = logop_new(j, OOBSP_LOG_FINISH)) == NULL) {
		job_lost(j, AMTP_E_NOMEM, "finish");
		return;
	}
	op->state = state;
	if (state == AMTP_JOB_FAILED && j->dev.id != 0) {
		/* the device record says why, too (never a secret) */
		op->set_status = 1;
		op->status = j->prov_state == 2 ? AMTP_AMT_PROVISIONED :
		    AMTP_AMT_NOT_PROVISIONED;
	}
	amtp_strlcpy(op->text, why != NULL ? why : "", sizeof(op->text));
	j->closing = 1;
	job_drop(j);
}

/* Gives the job back to the queue (a transient fault): queued, as above. */
static void
job_requeue(struct oobsp_job *j, const char *why)
{
	struct oobsp_logop *op;

	if ((op = logop_new(j, OOBSP_LOG_REQUEUE)) == NULL) {
		job_lost(j, AMTP_E_NOMEM, "requeue");
		return;
	}
	amtp_strlcpy(op->text, why, sizeof(op->text));
	j->closing = 1;
	job_drop(j);
}

int
oobsp_store_later(struct oobsp_job *j, oobsp_store_fn fn, int arg, int arg2,
    int wait)
{
	struct oobsp_logop *op;

	if ((op = logop_new(j, OOBSP_LOG_CALL)) == NULL) {
		job_lost(j, AMTP_E_NOMEM, "store write");
		return AMTP_E_NOMEM;
	}
	op->fn = fn;
	op->arg = arg;
	op->arg2 = arg2;
	op->wait = wait;
	if (!wait)
		return 0;
	j->state = OOBSP_JS_DURABLE;
	j->durable_ms = now_ms();
	return OOBSP_WAIT;
}

/* Inside the flush's batch: the job's queued writes, in order. */
static int
logq_write(struct oobsp_job *j)
{
	struct oobsp_engine *e = j->e;
	struct oobsp_logop *op;
	int64_t id;
	int r;

	STAILQ_FOREACH(op, &j->logq, entry) {
		switch (op->kind) {
		case OOBSP_LOG_STEP:
			id = op->step_id;
			if ((r = amtp_store_job_step_log(e->st, j->rec.id,
			    e->owner, op->name, &id, op->outcome,
			    op->text)) != 0)
				return r;
			op->row_id = id;	/* taken once committed */
			break;
		case OOBSP_LOG_FINISH:
			if (op->set_status &&
			    (r = amtp_store_device_set_status(e->st,
			    j->dev.id, op->status, op->text)) != 0 &&
			    r != AMTP_E_NOTFOUND)
				return r;
			if ((r = amtp_store_job_finish(e->st, j->rec.id,
			    e->owner, op->state, op->text[0] != '\0' ?
			    op->text : NULL)) != 0)
				return r;
			break;
		case OOBSP_LOG_REQUEUE:
			if ((r = amtp_store_job_requeue(e->st, j->rec.id,
			    e->owner, requeue_delay(e), op->text)) != 0)
				return r;
			break;
		case OOBSP_LOG_CALL:
			if ((r = op->fn(j, op)) != 0)
				return r;
			break;
		}
	}
	return 0;
}

/* After the flush's commit (r its outcome for this job). */
static void
logq_done(struct oobsp_job *j, int r)
{
	struct oobsp_engine *e = j->e;
	struct oobsp_logop *op;
	const char *what = "step log";

	if (r != 0) {
		STAILQ_FOREACH(op, &j->logq, entry)
			if (op->kind == OOBSP_LOG_FINISH)
				what = "finish";
			else if (op->kind == OOBSP_LOG_REQUEUE)
				what = "requeue";
		logq_clear(j);
		job_lost(j, r, what);
		return;
	}
	STAILQ_FOREACH(op, &j->logq, entry) {
		if (op->kind == OOBSP_LOG_CALL && op->wait &&
		    j->state == OOBSP_JS_DURABLE)
			j->state = OOBSP_JS_RUNNABLE;	/* it is durable */
		if (op == j->open_op)
			j->step_id = op->row_id;	/* the open row */
		if (op->kind == OOBSP_LOG_FINISH &&
		    op->state == AMTP_JOB_DONE) {
			e->stats.jobs_done++;
			log_info("job %lld: dev %lld provisioned",
			    (long long)j->rec.id, (long long)j->dev.id);
		} else if (op->kind == OOBSP_LOG_FINISH) {
			e->stats.jobs_failed++;
			log_warnx("job %lld: dev %lld: failed: %s",
			    (long long)j->rec.id, (long long)j->dev.id,
			    op->text);
		} else if (op->kind == OOBSP_LOG_REQUEUE) {
			e->stats.jobs_requeued++;
			log_info("job %lld: requeued for %d s: %s",
			    (long long)j->rec.id, requeue_delay(e), op->text);
		}
	}
	logq_clear(j);
}

static int job_setup(struct oobsp_engine *, const struct amtp_job_rec *);
static void claim_backoff(struct oobsp_engine *, int);

/*
 * Writes what the jobs have queued (step rows, finishes, requeues, store
 * writes) in one transaction, each job's writes under its own savepoint: a
 * job that lost its lease is dropped alone.  With claim, the same commit
 * also claims a job for each place the finished ones leave (a claim of its
 * own would cost a commit per device).  When the transaction itself fails
 * (begin or commit: nothing was written, nothing claimed), the writes stay
 * queued for the next flush; after OOBSP_LOG_FLUSH_TRIES such failures in a
 * row the jobs that wait on them are dropped (their leases expire and they
 * resume from the log).
 */
static void
engine_flush(struct oobsp_engine *e, int claim)
{
	struct amtp_job_rec *recs = NULL;
	struct oobsp_job *j;
	int r, rc, any = 0, places = 0, nrec = 0, claim_r = 0, k;

	e->last_flush_ms = now_ms();
	e->next_flush_ms = e->last_flush_ms + flush_interval(e);

	TAILQ_FOREACH(j, &e->jobs, entry)
		if (!STAILQ_EMPTY(&j->logq)) {
			any = 1;
			break;
		}
	if (!any)
		return;
	if (claim && e->last_flush_ms >= e->next_claim_ms) {
		/* the places left once this flush's finished jobs go */
		places = e->cfg.max_jobs - e->njobs;
		TAILQ_FOREACH(j, &e->jobs, entry)
			if (j->state == OOBSP_JS_GONE)
				places++;
		if (places > OOBSP_CLAIM_BATCH)
			places = OOBSP_CLAIM_BATCH;
		if (places > 0 && (recs = calloc((size_t)places,
		    sizeof(*recs))) == NULL)
			places = 0;	/* the poll claims them later */
	}
	if (e->flush_faked < e->cfg.fail_flushes) {
		e->flush_faked++;
		rc = AMTP_E_BUSY;	/* a test: as if the database were busy */
	} else if ((rc = amtp_store_batch_begin(e->st)) == 0) {
		amtp_store_batch_nest(e->st, 1);	/* step rows, requeues */
		TAILQ_FOREACH(j, &e->jobs, entry) {
			if (STAILQ_EMPTY(&j->logq))
				continue;
			if ((r = amtp_store_batch_unit_begin(e->st)) == 0)
				r = logq_write(j);
			j->flush_r = amtp_store_batch_unit_end(e->st, r);
		}
		while (nrec < places) {
			if ((r = amtp_store_batch_unit_begin(e->st)) == 0)
				r = amtp_store_job_claim(e->st, e->owner,
				    e->cfg.lease_secs, &recs[nrec]);
			if ((r = amtp_store_batch_unit_end(e->st, r)) != 0) {
				claim_r = r;
				break;
			}
			nrec++;
		}
		amtp_store_batch_nest(e->st, 0);
		rc = amtp_store_batch_end(e->st, 0);
	}
	e->stats.log_commits++;
	if (rc != 0) {
		e->flush_fails++;
		log_warn_r(rc, "step log: commit (%d of %d): %s",
		    e->flush_fails, OOBSP_LOG_FLUSH_TRIES,
		    amtp_store_errmsg(e->st));
		if (e->flush_fails < OOBSP_LOG_FLUSH_TRIES)
			goto out;	/* kept: the next flush tries again */
	} else
		e->flush_fails = 0;
	TAILQ_FOREACH(j, &e->jobs, entry)
		if (!STAILQ_EMPTY(&j->logq))
			logq_done(j, rc != 0 ? rc : j->flush_r);
	if (rc != 0)
		goto out;	/* nothing was claimed */
	e->stats.claims_flushed += (unsigned long)nrec;
	for (k = 0; k < nrec; k++)
		if ((r = job_setup(e, &recs[k])) != 0)
			log_warn_r(r, "job %lld: claimed, not started (its lease "
			    "will lapse)", (long long)recs[k].id);
	if (claim_r != 0)
		claim_backoff(e, claim_r);
 out:
	free(recs);
}

/* Reads the step log: which steps are done from earlier attempts. */
static int
job_load_log(struct oobsp_job *j)
{
	struct amtp_step_rec *steps = NULL;
	size_t i, n = 0;
	int idx, r;

	memset(j->done, 0, sizeof(j->done));
	memset(j->logged, 0, sizeof(j->logged));
	if ((r = amtp_store_job_steps(j->e->st, j->rec.id, &steps, &n)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		if ((idx = oobsp_plan_index(j->plan, steps[i].step)) < 0)
			continue;
		/* whatever its outcome: the request may have reached the
		 * device */
		j->logged[idx] = 1;
		if (steps[i].outcome == AMTP_STEP_OK ||
		    steps[i].outcome == AMTP_STEP_SKIPPED)
			j->done[idx] = 1;
	}
	free(steps);
	return 0;
}

/* Device record, names. */
static int
job_load_device(struct oobsp_job *j)
{
	const struct oobsp_policy *pol = j->e->pol;
	const char *dot;
	size_t hl;
	int r;

	if ((r = amtp_store_device_get(j->e->st, j->rec.device_id,
	    &j->dev)) != 0)
		return r;
	if (j->dev.fqdn[0] != '\0') {
		amtp_strlcpy(j->fqdn, j->dev.fqdn, sizeof(j->fqdn));
		if ((dot = strchr(j->fqdn, '.')) != NULL) {
			hl = (size_t)(dot - j->fqdn);
			if (hl >= sizeof(j->host))
				hl = sizeof(j->host) - 1;
			memcpy(j->host, j->fqdn, hl);
			j->host[hl] = '\0';
			amtp_strlcpy(j->domain, dot + 1, sizeof(j->domain));
		} else
			amtp_strlcpy(j->host, j->fqdn, sizeof(j->host));
	} else if (j->dev.hostname[0] != '\0' && pol->dns_domain[0] != '\0') {
		amtp_strlcpy(j->host, j->dev.hostname, sizeof(j->host));
		amtp_strlcpy(j->domain, pol->dns_domain, sizeof(j->domain));
		if ((size_t)snprintf(j->fqdn, sizeof(j->fqdn), "%s.%s",
		    j->host, j->domain) >= sizeof(j->fqdn))
			return AMTP_E_TOOBIG;
	}
	return 0;
}

/* A job claimed (rec): into the engine, its device and log read. */
static int
job_setup(struct oobsp_engine *e, const struct amtp_job_rec *rec)
{
	struct oobsp_job *j = NULL;
	char why[AMTP_STORE_TEXT_MAX + 64];
	int r;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return AMTP_E_NOMEM;	/* its lease lapses: claimed again */
	j->e = e;
	j->prov_state = -1;
	j->rc_fill = -1;
	STAILQ_INIT(&j->logq);
	j->rec = *rec;
	e->stats.jobs_claimed++;
	TAILQ_INSERT_TAIL(&e->jobs, j, entry);
	e->njobs++;
	j->renew_ms = now_ms() + (int64_t)e->cfg.lease_secs * 1000 / 3;
	log_info("job %lld: claimed (dev %lld, attempt %d)",
	    (long long)j->rec.id, (long long)j->rec.device_id,
	    j->rec.attempts);
	if ((j->plan = oobsp_plan_for(j->rec.kind)) == NULL) {
		job_finish(j, AMTP_JOB_FAILED, "job kind not supported by this "
		    "service point");
		return 0;
	}
	if ((r = job_load_device(j)) != 0 || (r = job_load_log(j)) != 0) {
		if (r == AMTP_E_CONFLICT)
			job_lost(j, r, "load");
		else if (r == AMTP_E_NOTFOUND)
			job_finish(j, AMTP_JOB_FAILED, "the device is gone");
		else
			job_requeue(j, "cannot read the device or the job log");
		return 0;
	}
	if (j->rec.attempts > e->cfg.max_attempts) {
		snprintf(why, sizeof(why), "too many attempts (%d); last: %s",
		    j->rec.attempts - 1, j->rec.last_error);
		job_finish(j, AMTP_JOB_FAILED, why);
		return 0;
	}
	j->state = OOBSP_JS_RUNNABLE;
	return 0;
}

static int
engine_claim(struct oobsp_engine *e)
{
	struct amtp_job_rec rec;
	int r;

	memset(&rec, 0, sizeof(rec));
	if ((r = amtp_store_job_claim(e->st, e->owner, e->cfg.lease_secs,
	    &rec)) != 0)
		return r;
	return job_setup(e, &rec);
}

/* Nothing (more) to claim, or the claim failed: claims wait a while. */
static void
claim_backoff(struct oobsp_engine *e, int r)
{
	if (r != AMTP_E_NOTFOUND && r != AMTP_E_AGAIN && r != AMTP_E_BUSY)
		log_warn_r(r, "claim: %s", amtp_store_errmsg(e->st));
	e->next_claim_ms = now_ms() + (e->cfg.idle_claim_ms != 0 ?
	    e->cfg.idle_claim_ms : OOBSP_IDLE_CLAIM_MS);
}

/* Opens a step row (queued). */
static int
step_begin(struct oobsp_job *j, const char *name)
{
	struct oobsp_logop *op;

	if ((op = logop_new(j, OOBSP_LOG_STEP)) == NULL) {
		job_lost(j, AMTP_E_NOMEM, "step start");
		return AMTP_E_NOMEM;
	}
	op->outcome = AMTP_STEP_STARTED;
	amtp_strlcpy(op->name, name, sizeof(op->name));
	j->step_open = 1;
	j->step_id = 0;
	j->open_op = op;
	return 0;
}

/* Closes the open step row (queued: a whole row when its start is still
 * queued, else the end of the written row). */
static int
step_end(struct oobsp_job *j, enum amtp_step_outcome o)
{
	struct oobsp_logop *op;

	if (!j->step_open)
		return 0;
	j->step_open = 0;
	if ((op = j->open_op) != NULL)
		j->open_op = NULL;
	else if ((op = logop_new(j, OOBSP_LOG_STEP)) == NULL) {
		job_lost(j, AMTP_E_NOMEM, "step end");
		return AMTP_E_NOMEM;
	} else
		op->step_id = j->step_id;
	op->outcome = o;
	amtp_strlcpy(op->text, j->detail, sizeof(op->text));
	j->step_id = 0;
	return 0;
}

/* Records a step that is not run, with a reason. */
static int
step_skip(struct oobsp_job *j, const char *why)
{
	const struct oobsp_step *s = &j->plan->steps[j->step];
	int r;

	if ((r = step_begin(j, s->name)) != 0)
		return r;
	amtp_strlcpy(j->detail, why, sizeof(j->detail));
	return step_end(j, AMTP_STEP_SKIPPED);
}

/* Runs the job as far as it goes without waiting. */
static void
job_advance(struct oobsp_job *j)
{
	struct oobsp_engine *e = j->e;
	const struct oobsp_step *s;
	char why[2 * AMTP_STORE_TEXT_MAX + 128];
	unsigned backoff;
	int v;

	while (j->state == OOBSP_JS_RUNNABLE) {
		if (j->step >= j->plan->n) {
			job_finish(j, AMTP_JOB_DONE, NULL);
			return;
		}
		s = &j->plan->steps[j->step];
		if (!j->step_open && j->pc == 0) {
			/* decide whether the step runs at all */
			if ((s->flags & OOBSP_F_SESSION) == 0 &&
			    j->done[j->step]) {
				if (step_skip(j, "done in an earlier attempt")
				    != 0)
					return;
				j->step++;
				continue;
			}
			if ((s->flags & OOBSP_F_STAGE1) && j->prov_state == 2) {
				if (step_skip(j, "device already committed "
				    "(POST)") != 0)
					return;
				j->step++;
				continue;
			}
			if (step_begin(j, s->name) != 0)
				return;
			/* ran before: a row of an earlier attempt, or an
			 * earlier try of this one */
			j->rerun = j->logged[j->step];
			j->logged[j->step] = 1;
			j->step_t0_ms = now_ms();
			j->detail[0] = '\0';
			j->fail = OOBSP_FAIL_NONE;
		}
		if ((s->flags & OOBSP_F_LOGFIRST) && j->open_op != NULL) {
			/* its start must be in the log before it runs */
			engine_flush(e, 0);
			if (j->state == OOBSP_JS_GONE)
				return;
			if (j->open_op != NULL) {
				/* the commit failed: wait for the next try */
				j->state = OOBSP_JS_SLEEPING;
				j->wake_ms = now_ms() + flush_interval(e);
				return;
			}
		}
		v = s->run(j);
		if (j->state == OOBSP_JS_GONE)
			return;
		if (v == OOBSP_WAIT && j->state == OOBSP_JS_RUNNABLE)
			continue;	/* answered at once (read cache) */
		if (v == OOBSP_WAIT)
			return;
		if (v == OOBSP_OK || v == OOBSP_SKIPPED) {
			if (j->detail[0] == '\0')
				snprintf(j->detail, sizeof(j->detail), "%lld ms",
				    (long long)(now_ms() - j->step_t0_ms));
			if (step_end(j, v == OOBSP_OK ? AMTP_STEP_OK :
			    AMTP_STEP_SKIPPED) != 0)
				return;
			j->done[j->step] = 1;
			j->step++;
			j->pc = 0;
			j->step_tries = 0;
			continue;
		}
		/* failed */
		if (e->dead)
			return;
		if (j->detail[0] == '\0')
			oobsp_detail(j, "%s", amtp_strerror(v));
		if (j->fail == OOBSP_FAIL_TRANSIENT &&
		    j->step_tries < (e->cfg.step_retries != 0 ?
		    e->cfg.step_retries : OOBSP_STEP_RETRIES)) {
			backoff = (e->cfg.backoff_ms != 0 ? e->cfg.backoff_ms :
			    OOBSP_BACKOFF_MS) << j->step_tries;
			j->step_tries++;
			e->stats.step_retries++;
			snprintf(why, sizeof(why), "%s (transient, try %d, "
			    "again in %u ms)", j->detail, j->step_tries,
			    backoff);
			amtp_strlcpy(j->detail, why, sizeof(j->detail));
			if (step_end(j, AMTP_STEP_FAILED) != 0)
				return;
			/* the request may have reached the device (and used a
			 * Digest nonce count): start the retry on a fresh
			 * connection with a fresh Digest state */
			if (j->conn != NULL && oobsp_reconnect(j) != 0) {
				job_requeue(j, "cannot reopen the connection");
				return;
			}
			j->pc = 0;
			j->state = OOBSP_JS_SLEEPING;
			j->wake_ms = now_ms() + backoff;
			return;
		}
		snprintf(why, sizeof(why), "%s: %s", s->name, j->detail);
		if (step_end(j, AMTP_STEP_FAILED) != 0)
			return;
		if (j->fail == OOBSP_FAIL_TRANSIENT)
			job_requeue(j, why);
		else
			job_finish(j, AMTP_JOB_FAILED, why);
		return;
	}
}

/* ------------------------------------------------------------------ */
/* The engine                                                           */
/* ------------------------------------------------------------------ */

int
oobsp_engine_new(const struct oobsp_engine_cfg *cfg, struct amtp_store *st,
    struct oobsp_transport *tr, const struct oobsp_policy *pol,
    struct amtp_signer *signer, const char *prov_chain_pem,
    const struct amtp_secret *prov_key_pem, struct oobsp_engine **out)
{
	struct oobsp_engine *e;

	*out = NULL;
	if (cfg->owner == NULL || cfg->owner[0] == '\0' ||
	    strlen(cfg->owner) > AMTP_STORE_OWNER_MAX ||
	    cfg->lease_secs < 1 || cfg->lease_secs > AMTP_STORE_LEASE_MAX ||
	    cfg->max_jobs < 1 || cfg->max_attempts < 1)
		return AMTP_E_INVAL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return AMTP_E_NOMEM;
	e->cfg = *cfg;
	amtp_strlcpy(e->owner, cfg->owner, sizeof(e->owner));
	e->cfg.owner = e->owner;
	e->st = st;
	e->tr = tr;
	e->pol = pol;
	e->via.sg = signer;
	e->via.st = st;
	/* its certificates are recorded in the batched flush (steps_tls.c) */
	e->via.web_record_later = 1;
	e->prov_chain_pem = prov_chain_pem;
	e->prov_key_pem = prov_key_pem;
	e->msgid = 1;
	TAILQ_INIT(&e->jobs);
	*out = e;
	return 0;
}

void
oobsp_engine_use_dir(struct oobsp_engine *e, struct amtp_dir *dir,
    const char *container)
{
	e->dir = dir;
	e->dir_container = container;
}

void
oobsp_engine_use_enroll(struct oobsp_engine *e,
    struct amtp_enroll_client *cl)
{
	e->via.cl = cl;
	e->via.sg = NULL;
	e->via.st = NULL;
}

void
oobsp_engine_free(struct oobsp_engine *e)
{
	struct oobsp_job *j;

	if (e == NULL)
		return;
	/* what the jobs did is in the log (not after a simulated crash) */
	if (!e->dead)
		engine_flush(e, 0);
	while ((j = TAILQ_FIRST(&e->jobs)) != NULL) {
		TAILQ_REMOVE(&e->jobs, j, entry);
		job_free(j);
	}
	free(e);
}

void
oobsp_engine_stats(const struct oobsp_engine *e, struct oobsp_stats *s)
{
	*s = e->stats;
}

/*
 * When the next flush is due: at the end of its interval, or sooner for a
 * finished job's last writes (OOBSP_LOG_FLUSH_MS after the last flush,
 * whatever the interval), or at once for a job that waits for its write to
 * be durable; INT64_MAX when nothing is queued.
 */
static int64_t
flush_at(const struct oobsp_engine *e)
{
	const struct oobsp_job *j;
	int64_t at = INT64_MAX, soon = e->last_flush_ms + OOBSP_LOG_FLUSH_MS;

	TAILQ_FOREACH(j, &e->jobs, entry) {
		if (STAILQ_EMPTY(&j->logq))
			continue;
		if (at > e->next_flush_ms)
			at = e->next_flush_ms;
		if (j->closing && soon < at)
			at = soon;
		/* a job waits for it: soon (after a failed commit, the
		 * retry waits OOBSP_LOG_FLUSH_MS, whatever the interval) */
		if (j->state == OOBSP_JS_DURABLE && e->flush_fails == 0 &&
		    j->durable_ms + OOBSP_DURABLE_GATHER_MS < at)
			at = j->durable_ms + OOBSP_DURABLE_GATHER_MS;
		else if (j->state == OOBSP_JS_DURABLE && soon < at)
			at = soon;
	}
	return at;
}

int
oobsp_engine_poll(struct oobsp_engine *e, int timeout_ms, int *busy)
{
	struct oobsp_job *j, *tmp;
	int64_t now, wait, at;
	int r, claimed = 0, inflight;

	if (busy != NULL)
		*busy = 0;
	if (e->dead)
		return AMTP_E_INTERNAL;
	now = now_ms();
	/* take new work (as jobs finish, their places are filled by the
	 * flush that writes their end: engine_flush) */
	while (e->njobs < e->cfg.max_jobs && now >= e->next_claim_ms) {
		if ((r = engine_claim(e)) != 0) {
			claim_backoff(e, r);
			break;
		}
		claimed++;
	}
	/* advance what can move, renew leases */
	TAILQ_FOREACH(j, &e->jobs, entry) {
		if (j->state == OOBSP_JS_GONE)
			continue;
		if (now >= j->renew_ms) {
			r = amtp_store_job_renew(e->st, j->rec.id, e->owner,
			    e->cfg.lease_secs, NULL);
			if (r != 0) {
				job_lost(j, r, "renew");
				continue;
			}
			j->renew_ms = now + (int64_t)e->cfg.lease_secs * 1000 / 3;
		}
		if (j->state == OOBSP_JS_SLEEPING && now >= j->wake_ms)
			j->state = OOBSP_JS_RUNNABLE;
		if (j->state == OOBSP_JS_RUNNABLE)
			job_advance(j);
		if (e->dead)
			return AMTP_E_INTERNAL;
	}
	if (now_ms() >= flush_at(e))
		engine_flush(e, 1);
	/* how long may we wait for I/O */
	wait = timeout_ms;
	at = flush_at(e);
	if (at - now < wait)
		wait = at - now < 0 ? 0 : at - now;
	TAILQ_FOREACH(j, &e->jobs, entry) {
		if (j->state == OOBSP_JS_RUNNABLE)
			wait = 0;
		else if (j->state == OOBSP_JS_SLEEPING && j->wake_ms - now < wait)
			wait = j->wake_ms - now < 0 ? 0 : j->wake_ms - now;
	}
	if (claimed > 0 && e->njobs < e->cfg.max_jobs)
		wait = 0;	/* there may be more to claim */
	inflight = 0;
	TAILQ_FOREACH(j, &e->jobs, entry)
		if (j->state == OOBSP_JS_WAITING)
			inflight++;
	if (inflight > 0 || wait == 0) {
		if ((r = e->tr->ops->run(e->tr, (int)wait)) != 0)
			return r;
	} else if (wait > 0)
		/* nothing on the wire: the transport would not wait */
		(void)poll(NULL, 0, (int)wait);
	/* replies came in: advance those jobs */
	TAILQ_FOREACH(j, &e->jobs, entry)
		if (j->state == OOBSP_JS_RUNNABLE)
			job_advance(j);
	if (e->dead)
		return AMTP_E_INTERNAL;
	if (now_ms() >= flush_at(e))
		engine_flush(e, 1);
	for (j = TAILQ_FIRST(&e->jobs); j != NULL; j = tmp) {
		tmp = TAILQ_NEXT(j, entry);
		/* a finished job stays until its last writes are in */
		if (j->state != OOBSP_JS_GONE || !STAILQ_EMPTY(&j->logq))
			continue;
		TAILQ_REMOVE(&e->jobs, j, entry);
		e->njobs--;
		job_free(j);
	}
	if (busy != NULL)
		*busy = e->njobs;
	return 0;
}
