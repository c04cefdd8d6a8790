/*
 * amtprov - http.c: one HTTP request to a simulated AMT device (amtsim):
 * bounds before authentication, HTTP Digest as AMT does it (libamtp's
 * digest.h, one nonce manager for the fleet), the WS-Management call, the
 * fault knobs, and the answer with AMT's headers.
 *
 * Order: when the headers are in, the port and setup-session state, the
 * method and path, the header count, the announced length and the
 * Authorization are checked (so an unauthenticated body is only counted,
 * never kept, and at most AMTP_SIM_NET_PREAUTH_BODY_MAX of it is read);
 * the body follows (Content-Length or chunked, MHD de-chunks it); the
 * answer is a 401 challenge or the WS-Management reply, always with
 * Content-Length.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "amtprov/buf.h"
#include "amtprov/digest.h"
#include "amtprov/err.h"
#include "amtprov/log.h"
#include "amtprov/str.h"
#include "device.h"
#include "loop.h"
#include "simnet.h"

/* A "timeout" fault keeps the request unanswered this long (ms), then
 * closes the connection. */
#define TIMEOUT_FAULT_MS	120000
#define CT_SOAP			"application/soap+xml;charset=UTF-8"


struct simnet_req {
	struct simnet_daemon	*dm;
	struct simnet_conn	*c;
	struct MHD_Connection	*mc;
	struct amtp_buf		*body;		/* NULL: thrown away */
	size_t			 received;
	int			 auth;
	unsigned		 early;		/* status decided early */
	struct MHD_Response	*pending;	/* delayed answer */
	unsigned		 pending_status;
	int			 close;		/* close instead of answer */
	int			 suspended;
	struct amtsim_timer	*timer;
	struct simnet_req	*next;		/* dm->suspended */
	int			 stop_after;	/* reboot: ms, or -1 */
	int			 after;
};

int
simnet_http_port_open(const struct simnet_daemon *dm)
{
	struct amtsim_device *d = dm->sd->d;

	if (!amtsim_device_net_active(d))
		return 0;
	if (dm->tls)
		return 1;
	/* 16992: closed during the TLS-PKI setup session (IN); after,
	 * open unless TLS is on and non-secure connections are refused. */
	if (d->state != AMTSIM_POST)
		return 0;
	return !simnet_tls_enabled(d) || simnet_accept_non_secure(d);
}

static struct MHD_Response *
make_response(struct simnet_dev *sd, const void *body, size_t len,
    const char *ctype, const char *www_auth)
{
	struct MHD_Response *r;
	char server[96];

	if ((r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	    MHD_RESPMEM_MUST_COPY)) == NULL)
		return NULL;
	(void)snprintf(server, sizeof(server),
	    "Intel(R) Active Management Technology %s", sd->d->amt_version);
	if (MHD_add_response_header(r, "Server", server) != MHD_YES ||
	    (ctype != NULL && MHD_add_response_header(r, "Content-Type",
	    ctype) != MHD_YES) || (www_auth != NULL &&
	    MHD_add_response_header(r, "WWW-Authenticate", www_auth) !=
	    MHD_YES)) {
		MHD_destroy_response(r);
		return NULL;
	}
	return r;
}

static int
queue(struct simnet_req *q, unsigned status, struct MHD_Response *r)
{
	enum MHD_Result ok;

	if (r == NULL)
		return 0;
	ok = MHD_queue_response(q->mc, status, r);
	MHD_destroy_response(r);
	return ok == MHD_YES;
}

static int
queue_text(struct simnet_req *q, unsigned status, const char *text)
{
	return queue(q, status, make_response(q->dm->sd, text, strlen(text),
	    "text/html", NULL));
}

static int
send_challenge(struct simnet_req *q, int stale)
{
	struct simnet_dev *sd = q->dm->sd;
	char nonce[AMTP_DIGEST_NONCE_HEXLEN + 1];
	struct amtp_buf *b;
	int ok = 0;

	if ((b = amtp_buf_new(AMTP_DIGEST_HEADER_MAX)) == NULL)
		return 0;
	if (amtp_digest_nonce_issue(sd->net->nonces, sd->d->realm, nonce) ==
	    0 && amtp_digest_challenge_build(sd->d->realm, nonce, stale, b) ==
	    0)
		ok = queue(q, 401, make_response(sd, "<html><body>"
		    "401 Unauthorized</body></html>", 39, "text/html",
		    amtp_buf_str(b)));
	amtp_buf_free(b);
	return ok;
}

/* The setup-session HA1s, from the realm and the MEBx password now (two
 * MD5s: cheaper than keeping them in step with SetMEBxPassword). */
static void
setup_ha1s(struct simnet_dev *sd)
{
	struct amtsim_device *d = sd->d;

	(void)amtp_digest_ha1_raw("admin", d->realm, "", 0, sd->ha1_empty);
	(void)amtp_digest_ha1_raw("admin", d->realm, d->mebx_password,
	    strlen(d->mebx_password), sd->ha1_mebx);
}

/* Tries one HA1: 0 when it authenticates, else the verify error. */
static int
try_ha1(struct simnet_dev *sd, const struct amtp_digest_auth *a,
    const char *url, const uint8_t ha1[16])
{
	return amtp_digest_verify(sd->net->nonces, a, sd->d->realm, "POST",
	    url, ha1);
}

static int
try_hex(struct simnet_dev *sd, const struct amtp_digest_auth *a,
    const char *url, const char *hex)
{
	uint8_t ha1[16];
	int r;

	if (hex == NULL || amtp_hex_decode(hex, strlen(hex), ha1, 16) != 0)
		return AMTP_E_AUTH;
	r = try_ha1(sd, a, url, ha1);
	explicit_bzero(ha1, sizeof(ha1));
	return r;
}

/*
 * Who may log in (DESIGN "Setup-session Digest account"): in IN, "admin"
 * with the empty password or the MEBx password (the mutual TLS is the
 * proof), and the admin account once SetAdminAclEntryEx has set it; in
 * POST, the admin account and user ACL entries with network access.
 */
static int
check_auth(struct simnet_dev *sd, const char *hdr, const char *url)
{
	struct amtsim_device *d = sd->d;
	struct amtp_digest_auth a;
	json_t *root = simnet_flash(d), *admin, *e;
	size_t i;
	int r = AMTP_E_AUTH;

	if (hdr == NULL)
		return AUTH_NONE;
	if (amtp_digest_auth_parse(hdr, strlen(hdr), &a) != 0)
		return AUTH_BAD;
	admin = json_object_get(root, "admin");
	if (d->state == AMTSIM_IN && strcmp(a.username, "admin") == 0) {
		setup_ha1s(sd);
		if ((r = try_ha1(sd, &a, url, sd->ha1_empty)) == AMTP_E_AUTH)
			r = try_ha1(sd, &a, url, sd->ha1_mebx);
	}
	if (r == AMTP_E_AUTH && admin != NULL &&
	    strcmp(a.username, simnet_str(admin, "user", "")) == 0)
		r = try_hex(sd, &a, url, simnet_str(admin, "ha1", NULL));
	if (r == AMTP_E_AUTH && d->state == AMTSIM_POST) {
		json_array_foreach(json_object_get(root, "users"), i, e) {
			if (strcmp(simnet_str(e, "user", ""), a.username) != 0 ||
			    simnet_int(e, "access", 0) == 0)
				continue;
			r = try_hex(sd, &a, url, simnet_str(e, "ha1", NULL));
			break;
		}
	}
	explicit_bzero(&a, sizeof(a));
	if (r == 0)
		return AUTH_OK;
	if (r == AMTP_E_STALE)
		return AUTH_STALE;
	log_info("dev %u: digest authentication failed: %s", d->index,
	    amtp_strerror(r));
	return AUTH_BAD;
}

static enum MHD_Result
count_header(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	(void)kind;
	(void)key;
	(void)value;
	(*(unsigned *)cls)++;
	return MHD_YES;
}

int
simnet_http_headers(struct simnet_dev *sd, int tls, int tls_ok,
    const char *method, const char *url, unsigned nheaders, const char *auth,
    const char *content_length, struct simnet_http_decision *out)
{
	struct simnet_daemon dm;
	long long len = -1;
	size_t cap;

	memset(out, 0, sizeof(*out));
	memset(&dm, 0, sizeof(dm));
	dm.sd = sd;
	dm.tls = tls;
	if (!simnet_http_port_open(&dm))
		return 0;
	/* The setup session: only after the handshake check accepted. */
	if (tls && sd->d->state == AMTSIM_IN && !tls_ok)
		return 0;
	if (nheaders > AMTP_SIM_NET_HEADERS_MAX) {
		out->early = 431;
		return 1;
	}
	if (strcmp(method, "POST") != 0)
		out->early = 405;
	else if (strcmp(url, "/wsman") != 0)
		out->early = 404;
	else
		out->auth = check_auth(sd, auth, url);
	cap = out->auth == AUTH_OK ? AMTP_SIM_NET_BODY_MAX :
	    AMTP_SIM_NET_PREAUTH_BODY_MAX;
	out->body_max = cap;
	if (content_length != NULL && (amtp_parse_int(content_length, 0,
	    INT64_MAX, &len) != 0 || (size_t)len > cap))
		return 0;	/* too big: close, read nothing */
	return 1;
}

static int
headers_in(struct simnet_req *q, const char *url, const char *method)
{
	struct simnet_http_decision dec;
	unsigned nh = 0;

	(void)MHD_get_connection_values(q->mc, MHD_HEADER_KIND, count_header,
	    &nh);
	if (!simnet_http_headers(q->dm->sd, q->dm->tls, q->c != NULL &&
	    q->c->tls_ok, method, url, nh, MHD_lookup_connection_value(q->mc,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
	    MHD_lookup_connection_value(q->mc, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH), &dec))
		return 0;
	q->early = dec.early;
	q->auth = dec.auth;
	if (q->auth == AUTH_OK && q->c != NULL) {
		q->c->authed = 1;
		q->c->requests++;
	}
	if (q->auth == AUTH_OK && q->early == 0 && (q->body = amtp_buf_new(
	    AMTP_SIM_NET_BODY_MAX)) == NULL)
		return 0;
	return 1;
}

static void
resume_cb(struct amtsim_loop *loop, struct amtsim_timer *t, void *arg)
{
	struct simnet_req *q = arg, **pp;

	(void)loop;
	(void)t;
	if (!q->suspended)
		return;
	for (pp = &q->dm->suspended; *pp != NULL; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	q->suspended = 0;
	log_debug("dev %u: answering a delayed request", q->dm->sd->d->index);
	MHD_resume_connection(q->mc);
	simnet_daemon_run(q->dm);
}

void
simnet_http_resume_all(struct simnet_daemon *dm)
{
	struct simnet_req *q;

	while ((q = dm->suspended) != NULL) {
		dm->suspended = q->next;
		q->suspended = 0;
		q->close = 1;
		amtsim_timer_disarm(q->timer);
		MHD_resume_connection(q->mc);
	}
}

/* Answers later (latency, key generation, timeout fault). */
static int
defer(struct simnet_req *q, uint64_t ms)
{
	if (q->dm->sd->net == NULL ||
	    !simnet_can_delay(&q->dm->sd->net->opts.faults) ||
	    (q->timer == NULL && (q->timer =
	    amtsim_timer_new(q->dm->sd->net->loop, resume_cb, q)) == NULL))
		return 0;
	MHD_suspend_connection(q->mc);
	q->suspended = 1;
	q->next = q->dm->suspended;
	q->dm->suspended = q;
	amtsim_timer_arm(q->timer, ms);
	return 1;
}

static void
after_reply(struct simnet_req *q)
{
	struct simnet_dev *sd = q->dm->sd;

	if (q->after == SIMNET_AFTER_RELOAD)
		(void)simnet_tls_prov_load(sd);
	else if (q->after == SIMNET_AFTER_STOP)
		simnet_dev_stop_later(sd, 0);
	if (q->stop_after >= 0)
		simnet_dev_stop_later(sd, (uint32_t)q->stop_after);
}

static int
serve(struct simnet_req *q)
{
	struct simnet_dev *sd = q->dm->sd;
	struct amtsim_net *net = sd->net;
	const struct amtsim_net_faults *f = &net->opts.faults;
	struct simnet_reply rep;
	int faulty = simnet_faults_for(f, sd->d->index), ok;
	size_t len;
	uint64_t delay = 0;

	sd->requests++;
	if (faulty && f->reset_after > 0 && q->c != NULL &&
	    q->c->requests >= f->reset_after) {
		log_info("dev %u: fault: connection reset on request %u",
		    sd->d->index, q->c->requests);
		return 0;
	}
	if (simnet_ws_handle(sd, amtp_buf_ptr(q->body), amtp_buf_len(q->body),
	    &rep) != 0 || rep.body == NULL) {
		simnet_reply_reset(&rep);
		return queue_text(q, 500, "internal error");
	}
	q->after = rep.after;
	len = amtp_buf_len(rep.body);
	if (faulty && f->fail_call != NULL && simnet_faults_match(f->fail_call,
	    rep.call) && (f->fail_count == 0 || sd->fails_done <
	    f->fail_count)) {
		sd->fails_done++;
		log_info("dev %u: fault on %s", sd->d->index, rep.call);
		/* The call was carried out; only its answer is lost. */
		if (f->fail_timeout) {
			q->close = 1;
			simnet_reply_reset(&rep);
			after_reply(q);
			return defer(q, TIMEOUT_FAULT_MS);
		}
		if (f->fail_malformed)
			len /= 2;	/* cut mid-element */
		else {
			simnet_reply_reset(&rep);
			after_reply(q);
			return queue_text(q, f->fail_status, "service "
			    "unavailable");
		}
	}
	if (faulty && f->reboot_on != NULL && simnet_faults_match(f->reboot_on,
	    rep.call))
		q->stop_after = (int)(f->reboot_ms > 0 ? f->reboot_ms : 1);
	q->pending = make_response(sd, amtp_buf_ptr(rep.body), len, CT_SOAP,
	    NULL);
	q->pending_status = (unsigned)rep.http_status;
	if (faulty)
		delay = simnet_faults_latency(net);
	delay += rep.delay_ms;
	simnet_reply_reset(&rep);
	if (q->pending == NULL)
		return 0;
	if (delay > 0)
		return defer(q, delay);
	ok = queue(q, q->pending_status, q->pending);
	q->pending = NULL;
	after_reply(q);
	return ok;
}

int
simnet_http_access(void *cls, struct MHD_Connection *mc, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct simnet_daemon *dm = cls;
	struct simnet_req *q = *con_cls;
	const union MHD_ConnectionInfo *ci;
	size_t n;
	int ok;

	(void)version;
	if (q == NULL) {
		if ((q = calloc(1, sizeof(*q))) == NULL)
			return 0;
		q->dm = dm;
		q->mc = mc;
		q->stop_after = -1;
		ci = MHD_get_connection_info(mc,
		    MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		q->c = ci != NULL ? ci->socket_context : NULL;
		*con_cls = q;
		return headers_in(q, url, method);
	}
	if (q->pending != NULL || q->close) {
		/* Resumed after a delay. */
		if (q->close)
			return 0;
		ok = queue(q, q->pending_status, q->pending);
		q->pending = NULL;
		after_reply(q);
		return ok;
	}
	if (*upload_data_size > 0) {
		n = *upload_data_size;
		q->received += n;
		if (q->body != NULL) {
			if (amtp_buf_put(q->body, upload_data, n) != 0)
				return 0;	/* over the cap: close */
		} else if (q->received > AMTP_SIM_NET_PREAUTH_BODY_MAX)
			return 0;
		*upload_data_size = 0;
		return 1;
	}
	if (q->early != 0)
		return queue_text(q, q->early, q->early == 404 ? "not found" :
		    q->early == 405 ? "method not allowed" :
		    "too many headers");
	if (q->auth != AUTH_OK)
		return send_challenge(q, q->auth == AUTH_STALE);
	return serve(q);
}

void
simnet_http_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
    int toe)
{
	struct simnet_req *q = *con_cls, **pp;

	(void)cls;
	(void)mc;
	(void)toe;
	if (q == NULL)
		return;
	if (q->suspended) {
		for (pp = &q->dm->suspended; *pp != NULL; pp = &(*pp)->next)
			if (*pp == q) {
				*pp = q->next;
				break;
			}
	}
	amtsim_timer_free(q->timer);
	if (q->pending != NULL)
		MHD_destroy_response(q->pending);
	amtp_buf_free(q->body);
	free(q);
	*con_cls = NULL;
}
