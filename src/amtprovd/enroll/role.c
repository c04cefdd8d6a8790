/*
 * amtprov - enroll/role.c: the enrollment point role of amtprovd (role
 * enroll): one key-holding signer process for a whole site, reached by every
 * service point on this machine through a local socket.
 *
 * Setup: the site master key, the site CA (handed at once to a signer
 * process of our own, signer.c: the CA key then lives only there, in a
 * process that parses nothing), the site database, and an AF_UNIX stream
 * socket (enroll.socket, made under umask 077, mode 0600).  Then one thread
 * serves every connection with poll() until SIGTERM or SIGINT.
 *
 * Each peer is checked with SO_PEERCRED (the uid amtprovd runs as, or
 * enroll.allowed_uid) and may then ask the fixed table of requests of
 * client.h, after OpenSSH's monitor: a request type not in the table, an
 * entry that is not permitted, a malformed request, bad framing, a frame
 * that takes longer than AMTP_ENROLL_FRAME_MS or a connection idle longer
 * than enroll.idle_timeout drops that peer (logged), and the role goes on
 * serving the others.  After enroll.max_requests answers the connection is
 * closed (the client reconnects).  The peer names a device by its id; the
 * names in the certificate come from the site database, and every CSR rule
 * of amtp_pki_csr_check applies (enroll.c).
 *
 * XXX one request at a time: a key generation (tens of ms) delays every
 * other peer by as much.  The signer is one process anyway.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "amtprov/buf.h"
#include "amtprov/conf.h"
#include "amtprov/err.h"
#include "amtprov/ipc.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/pki.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "enroll/ca.h"
#include "enroll/client.h"
#include "enroll/enroll.h"
#include "enroll/signer.h"
#include "store/store.h"

/* How long one poll may wait (ms): also how quickly a stop is noticed. */
#define ENROLL_POLL_MS	200

#define REQ_PERMITTED	0x01	/* may be asked at all */

struct conn {
	int			 fd;
	pid_t			 pid;
	uid_t			 uid;
	uint8_t			*in;	/* AMTP_IPC_HDR_LEN + REQ_MAX */
	size_t			 inlen;
	struct amtp_buf		*out;	/* the answer being sent, or NULL */
	size_t			 outoff;
	unsigned long		 nreq;
	int64_t			 deadline;	/* ms, monotonic */
	int			 closing;	/* close once out is sent */
};

struct srv {
	const struct enroll_serve_cfg	*cfg;
	struct amtp_signer		*sg;
	struct amtp_store		*st;
	struct conn			*conns[AMTP_ENROLL_CONN_MAX];
	size_t				 nconns;
	int				 frame_ms;	/* cfg's, or the default */
	int				 signer_gone;
};

struct enroll_req_ent {
	uint32_t	type;
	unsigned	flags;
	int		(*answer)(struct srv *, struct conn *,
			    const struct amtp_enroll_req *);
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
stop_requested(void)
{
	sigset_t pend;

	if (sigpending(&pend) != 0)
		return 0;
	return sigismember(&pend, SIGTERM) == 1 ||
	    sigismember(&pend, SIGINT) == 1;
}

/* ---- answers ---------------------------------------------------------- */

/* Queues one frame (type, payload) as the connection's answer. */
static int
queue(struct conn *c, uint32_t type, const struct amtp_buf *payload)
{
	size_t len = payload != NULL ? amtp_buf_len(payload) : 0;
	int r;

	if (len > AMTP_IPC_FRAME_MAX)
		return AMTP_E_TOOBIG;
	if ((c->out = amtp_buf_new(AMTP_IPC_HDR_LEN + len + 1)) == NULL)
		return AMTP_E_NOMEM;
	c->outoff = 0;
	if ((r = amtp_buf_put_u32le(c->out, type)) != 0 ||
	    (r = amtp_buf_put_u32le(c->out, (uint32_t)len)) != 0 ||
	    (len > 0 && (r = amtp_buf_put(c->out, amtp_buf_ptr(payload),
	    len)) != 0)) {
		amtp_buf_free(c->out);
		c->out = NULL;
		return r;
	}
	return 0;
}

static int
queue_error(struct conn *c, int code)
{
	struct amtp_buf *b;
	int r;

	if ((b = amtp_buf_new(8)) == NULL)
		return AMTP_E_NOMEM;
	if ((r = amtp_buf_put_u32le(b, (uint32_t)code)) == 0)
		r = queue(c, AMTP_IPC_ENROLL_ERROR, b);
	amtp_buf_free(b);
	return r;
}

/* REFUSED: the reason and the detail, made printable and cut. */
static int
queue_refused(struct conn *c, enum amtp_pki_reason why, const char *detail)
{
	struct amtp_buf *b;
	size_t i, n;
	int r;

	if ((b = amtp_buf_new(1 + AMTP_ENROLL_DETAIL_MAX + 1)) == NULL)
		return AMTP_E_NOMEM;
	r = amtp_buf_put_u8(b, (uint8_t)why);
	n = strlen(detail);
	if (n > AMTP_ENROLL_DETAIL_MAX)
		n = AMTP_ENROLL_DETAIL_MAX;
	for (i = 0; r == 0 && i < n; i++)
		r = amtp_buf_put_u8(b, detail[i] >= 0x20 && detail[i] <= 0x7e ?
		    (uint8_t)detail[i] : '?');
	if (r == 0)
		r = queue(c, AMTP_IPC_ENROLL_REFUSED, b);
	amtp_buf_free(b);
	return r;
}

/*
 * The names of device id, as the service point derives them: the FQDN the
 * site database holds (host = its first label), else the host name and
 * oob.dns_domain.  AMTP_E_NOTFOUND, or AMTP_E_STATE when there is no FQDN.
 */
static int
device_names(struct srv *s, int64_t id, char *fqdn, size_t fqdnsz,
    char *host, size_t hostsz)
{
	struct amtp_device_rec d;
	const char *dot, *dom = s->cfg->dns_domain;
	size_t hl;
	int r;

	fqdn[0] = '\0';
	host[0] = '\0';
	if ((r = amtp_store_device_get(s->st, id, &d)) != 0)
		return r;
	if (d.fqdn[0] != '\0') {
		if (amtp_strlcpy(fqdn, d.fqdn, fqdnsz) >= fqdnsz)
			return AMTP_E_TOOBIG;
		if ((dot = strchr(fqdn, '.')) != NULL) {
			hl = (size_t)(dot - fqdn);
			if (hl >= hostsz)
				return AMTP_E_TOOBIG;
			memcpy(host, fqdn, hl);
			host[hl] = '\0';
		} else
			amtp_strlcpy(host, fqdn, hostsz);
		return 0;
	}
	if (d.hostname[0] == '\0' || dom == NULL || *dom == '\0')
		return AMTP_E_STATE;
	amtp_strlcpy(host, d.hostname, hostsz);
	if ((size_t)snprintf(fqdn, fqdnsz, "%s.%s", d.hostname, dom) >=
	    fqdnsz)
		return AMTP_E_TOOBIG;
	return 0;
}

/* An error from the enroll calls: the signer gone ends the role. */
static int
answer_failure(struct srv *s, struct conn *c, const char *what, int64_t id,
    int r)
{
	if (r == AMTP_E_CLOSED || r == AMTP_E_PROTO) {
		log_warn_r(r, "dev %lld: %s: the signer process is gone",
		    (long long)id, what);
		s->signer_gone = 1;
	} else
		log_warn_r(r, "dev %lld: %s (peer pid %ld)", (long long)id,
		    what, (long)c->pid);
	return queue_error(c, r == AMTP_E_CLOSED || r == AMTP_E_PROTO ?
	    AMTP_E_INTERNAL : r);
}

static void
log_issued(struct conn *c, X509 *cert, const char *what, int64_t id,
    const char *fqdn)
{
	char serial[AMTP_CA_SERIAL_HEX] = "?";

	(void)amtp_ca_serial_hex(cert, serial, sizeof(serial));
	log_info("dev %lld: %s certificate %s for %s issued (peer pid %ld "
	    "uid %lu)", (long long)id, what, serial, fqdn, (long)c->pid,
	    (unsigned long)c->uid);
}

static int
cert_der(X509 *cert, struct amtp_buf *b)
{
	unsigned char *der = NULL;
	int len, r;

	if ((len = i2d_X509(cert, &der)) <= 0) {
		ERR_clear_error();
		return AMTP_E_CRYPTO;
	}
	r = amtp_buf_put(b, der, (size_t)len);
	OPENSSL_free(der);
	return r;
}

static int
answer_csr(struct srv *s, struct conn *c, const struct amtp_enroll_req *req)
{
	char fqdn[AMTP_STORE_FQDN_MAX + 1], host[AMTP_STORE_HOSTNAME_MAX + 1];
	char detail[AMTP_ENROLL_DETAIL_MAX];
	enum amtp_pki_reason why = AMTP_PKI_OK;
	struct amtp_buf *b = NULL;
	const char *what;
	X509 *cert = NULL;
	int r;

	detail[0] = '\0';
	what = req->type == AMTP_IPC_ENROLL_AMT_WEB_CSR ? "amt-web" : "802.1x";
	if ((r = device_names(s, req->device_id, fqdn, sizeof(fqdn), host,
	    sizeof(host))) != 0) {
		log_warn_r(r, "dev %lld: %s request: no such device or no "
		    "FQDN (peer pid %ld)", (long long)req->device_id, what,
		    (long)c->pid);
		return queue_error(c, r);
	}
	if (req->type == AMTP_IPC_ENROLL_AMT_WEB_CSR)
		r = amtp_enroll_amt_web_csr(s->sg, s->st, req->device_id,
		    req->csr, req->csrlen, fqdn, host, &cert, &why, detail,
		    sizeof(detail));
	else
		r = amtp_enroll_8021x_csr(s->sg, s->st, req->device_id,
		    req->csr, req->csrlen, fqdn, &cert, &why, detail,
		    sizeof(detail));
	if (r == AMTP_E_CERT) {
		log_warnx("dev %lld: %s request for %s refused: %s (peer pid "
		    "%ld)", (long long)req->device_id, what, fqdn,
		    amtp_pki_reason_name(why), (long)c->pid);
		return queue_refused(c, why, detail);
	}
	if (r != 0)
		return answer_failure(s, c, what, req->device_id, r);
	log_issued(c, cert, what, req->device_id, fqdn);
	if ((b = amtp_buf_new(AMTP_IPC_FRAME_MAX)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	if ((r = cert_der(cert, b)) != 0 ||
	    (r = queue(c, AMTP_IPC_ENROLL_CERT, b)) != 0)
		goto out;
	r = 0;
 out:
	amtp_buf_free(b);
	X509_free(cert);
	return r;
}

/*
 * A certificate with a key made here.  The key goes back to the peer in
 * clear over the socket: the peer runs as the uid that may read the master
 * key anyway (SO_PEERCRED), and it is stored sealed with the certificate.
 */
static int
answer_keygen(struct srv *s, struct conn *c,
    const struct amtp_enroll_req *req)
{
	char fqdn[AMTP_STORE_FQDN_MAX + 1], host[AMTP_STORE_HOSTNAME_MAX + 1];
	struct amtp_secret *pem = NULL;
	struct amtp_buf *b = NULL, *der = NULL;
	const char *what;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int r;

	what = req->type == AMTP_IPC_ENROLL_AMT_WEB_KEYGEN ? "amt-web" :
	    "802.1x";
	if ((r = device_names(s, req->device_id, fqdn, sizeof(fqdn), host,
	    sizeof(host))) != 0) {
		log_warn_r(r, "dev %lld: %s key request: no such device or "
		    "no FQDN (peer pid %ld)", (long long)req->device_id, what,
		    (long)c->pid);
		return queue_error(c, r);
	}
	if (req->type == AMTP_IPC_ENROLL_AMT_WEB_KEYGEN)
		r = amtp_enroll_amt_web_keygen(s->sg, s->st, req->device_id,
		    fqdn, host, &cert, &key);
	else
		r = amtp_enroll_8021x_keygen(s->sg, s->st, req->device_id,
		    fqdn, &cert, &key);
	if (r != 0)
		return answer_failure(s, c, what, req->device_id, r);
	log_issued(c, cert, what, req->device_id, fqdn);
	if ((der = amtp_buf_new(AMTP_IPC_FRAME_MAX)) == NULL ||
	    (b = amtp_buf_new(AMTP_IPC_FRAME_MAX)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	if ((r = cert_der(cert, der)) != 0 ||
	    (r = amtp_pki_key_to_secret(key, &pem)) != 0 ||
	    (r = amtp_buf_put_u32le(b, (uint32_t)amtp_buf_len(der))) != 0 ||
	    (r = amtp_buf_put(b, amtp_buf_ptr(der), amtp_buf_len(der))) != 0 ||
	    (r = amtp_buf_put(b, amtp_secret_reveal(pem),
	    amtp_secret_len(pem))) != 0 ||
	    (r = queue(c, AMTP_IPC_ENROLL_CERT_KEY, b)) != 0)
		goto out;
	r = 0;
 out:
	amtp_buf_free(b);	/* wiped */
	amtp_buf_free(der);
	amtp_secret_free(pem);
	EVP_PKEY_free(key);
	X509_free(cert);
	return r;
}

static int
answer_chain(struct srv *s, struct conn *c, const struct amtp_enroll_req *req)
{
	STACK_OF(X509) *sk = NULL;
	struct amtp_buf *b = NULL;
	int r;

	(void)req;
	if ((r = amtp_signer_chain(s->sg, &sk)) != 0)
		return answer_failure(s, c, "chain", 0, r);
	if ((b = amtp_buf_new(AMTP_IPC_FRAME_MAX)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	if ((r = amtp_pki_chain_to_pem(sk, b)) != 0 ||
	    (r = queue(c, AMTP_IPC_ENROLL_CHAIN_PEM, b)) != 0)
		goto out;
	r = 0;
 out:
	amtp_buf_free(b);
	amtp_pki_chain_free(sk);
	return r;
}

/*
 * The fixed table of requests.  PROV_KEY is listed and never permitted: a
 * service point opens prov-key.sealed itself (it holds the master key for
 * the escrow anyway, and libcurl needs the key in its memory), so serving
 * the key here would add a path to it and no capability.
 */
static const struct enroll_req_ent enroll_reqs[] = {
	{ AMTP_IPC_ENROLL_AMT_WEB_CSR,	  REQ_PERMITTED, answer_csr },
	{ AMTP_IPC_ENROLL_AMT_WEB_KEYGEN, REQ_PERMITTED, answer_keygen },
	{ AMTP_IPC_ENROLL_8021X_CSR,	  REQ_PERMITTED, answer_csr },
	{ AMTP_IPC_ENROLL_8021X_KEYGEN,	  REQ_PERMITTED, answer_keygen },
	{ AMTP_IPC_ENROLL_CHAIN,	  REQ_PERMITTED, answer_chain },
	{ AMTP_IPC_ENROLL_PROV_KEY,	  0,		 NULL },
};

/* ---- connections -------------------------------------------------------- */

static void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		(void)close(c->fd);
	if (c->in != NULL) {
		explicit_bzero(c->in, AMTP_IPC_HDR_LEN + AMTP_ENROLL_REQ_MAX);
		free(c->in);
	}
	amtp_buf_free(c->out);
	free(c);
}

static void
conn_drop(struct srv *s, size_t i, const char *why)
{
	struct conn *c = s->conns[i];

	if (why != NULL)
		log_warnx("peer pid %ld uid %lu: %s; dropped", (long)c->pid,
		    (unsigned long)c->uid, why);
	conn_free(c);
	s->conns[i] = s->conns[--s->nconns];
	s->conns[s->nconns] = NULL;
}

/* Decodes and answers one request frame; 0, or a reason to drop. */
static const char *
conn_request(struct srv *s, struct conn *c, uint32_t type,
    struct amtp_buf *body)
{
	static char why[96];
	struct amtp_enroll_req req;
	size_t i, n = sizeof(enroll_reqs) / sizeof(enroll_reqs[0]);

	for (i = 0; i < n; i++)
		if (enroll_reqs[i].type == type)
			break;
	if (i == n) {
		snprintf(why, sizeof(why), "request type %u not in the table",
		    type);
		return why;
	}
	if (!(enroll_reqs[i].flags & REQ_PERMITTED)) {
		snprintf(why, sizeof(why), "unpermitted request %s",
		    amtp_enroll_req_name(type));
		return why;
	}
	if (amtp_enroll_decode_req(type, body, &req) != 0) {
		snprintf(why, sizeof(why), "malformed %s request",
		    amtp_enroll_req_name(type));
		return why;
	}
	if (enroll_reqs[i].answer(s, c, &req) != 0 || c->out == NULL)
		return "no answer could be made (out of memory?)";
	return NULL;
}

/*
 * Moves a connection on: sends what is queued, then takes the next whole
 * request from the input, while it can without waiting.  NULL to keep it,
 * "" to close it quietly, else why it is dropped.
 */
static const char *
conn_progress(struct srv *s, struct conn *c, int64_t now)
{
	struct amtp_buf *body = NULL;
	const char *why;
	uint32_t type;
	size_t used;
	ssize_t w;
	int r;

	for (;;) {
		while (c->out != NULL) {
			w = send(c->fd, amtp_buf_ptr(c->out) + c->outoff,
			    amtp_buf_len(c->out) - c->outoff,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w == -1) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN)
					return NULL;
				return "";	/* gone */
			}
			c->outoff += (size_t)w;
			if (c->outoff == amtp_buf_len(c->out)) {
				amtp_buf_free(c->out);
				c->out = NULL;
				c->deadline = now + s->cfg->idle_ms;
			}
		}
		if (c->closing) {
			log_info("peer pid %ld: %lu requests answered: "
			    "closed (enroll.max_requests)", (long)c->pid,
			    c->nreq);
			return "";
		}
		if (s->signer_gone)
			return "";
		r = amtp_ipc_decode(c->in, c->inlen, AMTP_ENROLL_REQ_MAX,
		    AMTP_IPC_ENROLL__MAX, &type, &body, &used);
		if (r == AMTP_E_INCOMPLETE) {
			if (c->inlen > 0 && c->deadline > now +
			    s->frame_ms)
				c->deadline = now + s->frame_ms;
			return NULL;
		}
		if (r != 0)
			return "bad framing (type or length out of range)";
		why = conn_request(s, c, type, body);
		amtp_buf_free(body);
		body = NULL;
		memmove(c->in, c->in + used, c->inlen - used);
		c->inlen -= used;
		if (why != NULL)
			return why;
		c->deadline = now + s->frame_ms;
		if (++c->nreq >= (unsigned long)s->cfg->max_requests)
			c->closing = 1;
	}
}

static int
peer_allowed(const struct enroll_serve_cfg *cfg, uid_t uid)
{
	return uid == cfg->uid ||
	    (cfg->allowed_uid >= 0 && (long long)uid == cfg->allowed_uid);
}

static void
srv_accept(struct srv *s, int lfd, int64_t now)
{
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	struct conn *c;
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) == -1 ||
	    crlen != sizeof(cr)) {
		log_warn("peer credentials");
		(void)close(fd);
		return;
	}
	if (!peer_allowed(s->cfg, cr.uid)) {
		log_warnx("peer pid %ld uid %lu: uid not allowed (amtprovd "
		    "runs as %lu; enroll.allowed_uid); dropped", (long)cr.pid,
		    (unsigned long)cr.uid, (unsigned long)s->cfg->uid);
		(void)close(fd);
		return;
	}
	if (s->nconns >= (size_t)s->cfg->max_conns ||
	    s->nconns >= AMTP_ENROLL_CONN_MAX) {
		log_warnx("peer pid %ld: %zu connections already; dropped",
		    (long)cr.pid, s->nconns);
		(void)close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->in = malloc(AMTP_IPC_HDR_LEN + AMTP_ENROLL_REQ_MAX)) == NULL) {
		log_warnx("peer pid %ld: out of memory; dropped",
		    (long)cr.pid);
		free(c);
		(void)close(fd);
		return;
	}
	c->fd = fd;
	c->pid = cr.pid;
	c->uid = cr.uid;
	c->deadline = now + s->cfg->idle_ms;
	s->conns[s->nconns++] = c;
	log_debug("peer pid %ld uid %lu: connected", (long)c->pid,
	    (unsigned long)c->uid);
}

/* Reads what the peer sent; NULL, "" (closed) or why it is dropped. */
static const char *
conn_read(struct srv *s, struct conn *c, int64_t now)
{
	size_t cap = AMTP_IPC_HDR_LEN + AMTP_ENROLL_REQ_MAX;
	ssize_t n;

	if (c->inlen == cap)
		return "input buffer full";	/* cannot happen: decode
						 * refuses longer frames */
	if ((n = recv(c->fd, c->in + c->inlen, cap - c->inlen,
	    MSG_DONTWAIT)) == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return NULL;
		return "";
	}
	if (n == 0)
		return c->inlen > 0 ? "closed in the middle of a frame" : "";
	c->inlen += (size_t)n;
	return conn_progress(s, c, now);
}

int
enroll_serve(int lfd, const struct enroll_serve_cfg *cfg,
    struct amtp_signer *sg, struct amtp_store *st)
{
	struct pollfd pfd[AMTP_ENROLL_CONN_MAX + 1];
	struct srv s;
	const char *why;
	int64_t now, wait;
	size_t i, n;
	int r, status = 0;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.sg = sg;
	s.st = st;
	s.frame_ms = cfg->frame_ms > 0 ? cfg->frame_ms : AMTP_ENROLL_FRAME_MS;
	while (!stop_requested() && !s.signer_gone) {
		now = now_ms();
		wait = ENROLL_POLL_MS;
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		for (i = 0; i < s.nconns; i++) {
			pfd[i + 1].fd = s.conns[i]->fd;
			pfd[i + 1].events = s.conns[i]->out != NULL ?
			    POLLOUT : POLLIN;
			pfd[i + 1].revents = 0;
			if (s.conns[i]->deadline - now < wait)
				wait = s.conns[i]->deadline - now;
		}
		if (wait < 0)
			wait = 0;
		n = s.nconns;
		if ((r = poll(pfd, n + 1, (int)wait)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			status = -1;
			break;
		}
		now = now_ms();
		/* Back to front: conn_drop moves the last one into i. */
		for (i = n; i-- > 0;) {
			why = NULL;
			if (pfd[i + 1].revents & POLLOUT)
				why = conn_progress(&s, s.conns[i], now);
			else if (pfd[i + 1].revents & (POLLIN | POLLHUP |
			    POLLERR))
				why = conn_read(&s, s.conns[i], now);
			else if (pfd[i + 1].revents & POLLNVAL)
				why = "invalid descriptor";
			/* also for a peer that trickles a frame byte by
			 * byte: the deadline holds whatever it sends */
			if (why == NULL && now >= s.conns[i]->deadline)
				why = s.conns[i]->inlen > 0 ||
				    s.conns[i]->out != NULL ?
				    "frame not complete in time" :
				    "idle too long (enroll.idle_timeout)";
			if (why != NULL)
				conn_drop(&s, i, *why != '\0' ? why : NULL);
		}
		if (pfd[0].revents & POLLIN)
			srv_accept(&s, lfd, now);
	}
	if (s.signer_gone)
		status = -1;
	while (s.nconns > 0)
		conn_drop(&s, s.nconns - 1, NULL);
	return status;
}

/* ---- the socket --------------------------------------------------------- */

int
enroll_listen(const char *path, int *fd)
{
	struct sockaddr_un sun;
	struct stat sb;
	mode_t old;
	int s = -1, t, r;

	*fd = -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (amtp_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return AMTP_E_TOOBIG;
	if (lstat(path, &sb) == 0) {
		/* A socket left by an earlier run is removed; a running
		 * enrollment point or anything else there is refused. */
		if (!S_ISSOCK(sb.st_mode))
			return AMTP_E_EXISTS;
		if ((t = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			return AMTP_E_IO;
		r = connect(t, (struct sockaddr *)&sun, sizeof(sun));
		(void)close(t);
		if (r == 0)
			return AMTP_E_BUSY;
		if (unlink(path) == -1)
			return AMTP_E_IO;
	}
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return AMTP_E_IO;
	old = umask(077);
	r = bind(s, (struct sockaddr *)&sun, sizeof(sun));
	(void)umask(old);
	if (r == -1 || chmod(path, 0600) == -1 ||
	    listen(s, AMTP_ENROLL_CONN_MAX) == -1) {
		r = errno == EACCES ? AMTP_E_PERM : AMTP_E_IO;
		(void)close(s);
		return r;
	}
	*fd = s;
	return 0;
}

/* ---- the role ----------------------------------------------------------- */

int
enroll_main(const struct amtp_conf *c)
{
	struct amtp_master_key *mk = NULL;
	struct amtp_store *st = NULL;
	struct amtp_ca *ca = NULL;
	struct amtp_signer *sg = NULL;
	struct enroll_serve_cfg cfg;
	char err[512] = "", sockpath[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *dir, *path;
	sigset_t sigs;
	pid_t signer_pid = -1;
	int fd = -1, lfd = -1, r, status = 1, bound = 0;

	/* TERM/INT/HUP stay blocked (main.c): looked for between polls */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	if ((dir = amtp_conf_str(c, "enroll", "pki_dir")) == NULL &&
	    (dir = amtp_conf_str(c, "oobsp", "pki_dir")) == NULL) {
		log_errx("enroll.pki_dir (or oobsp.pki_dir): required by role "
		    "enroll (the site directory with the CA files)");
		goto out;
	}
	if ((path = amtp_conf_str(c, "enroll", "socket")) == NULL) {
		if ((size_t)snprintf(sockpath, sizeof(sockpath),
		    "%s/enroll.sock", dir) >= sizeof(sockpath)) {
			log_errx("%s/enroll.sock: path too long for a socket "
			    "(set enroll.socket)", dir);
			goto out;
		}
		path = sockpath;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.dns_domain = amtp_conf_str(c, "oob", "dns_domain");
	cfg.uid = geteuid();
	cfg.allowed_uid = amtp_conf_int(c, "enroll", "allowed_uid");
	cfg.max_requests = (int)amtp_conf_int(c, "enroll", "max_requests");
	cfg.idle_ms = (int)amtp_conf_int(c, "enroll", "idle_timeout") * 1000;
	cfg.max_conns = AMTP_ENROLL_CONN_MAX;

	if ((r = amtp_master_key_load(amtp_conf_str(c, "site",
	    "master_key_file"), &mk, err, sizeof(err))) != 0) {
		log_err_r(r, "master key: %s", err);
		goto out;
	}
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
		(void)close(fd);
		goto out;
	}
	if ((r = amtp_store_open(amtp_conf_str(c, "site", "database"), mk,
	    &st, err, sizeof(err))) != 0) {
		log_err_r(r, "database: %s", err);
		goto out;
	}
	if ((r = enroll_listen(path, &lfd)) != 0) {
		log_err_r(r, "%s: enroll socket%s", path, r == AMTP_E_BUSY ?
		    " (another enrollment point listens there)" :
		    r == AMTP_E_EXISTS ? " (a file that is no socket is "
		    "there)" : "");
		goto out;
	}
	bound = 1;
	log_info("enrollment point: listening on %s (uid %lu%s)", path,
	    (unsigned long)cfg.uid, cfg.allowed_uid >= 0 ?
	    " and enroll.allowed_uid" : "");
	if (enroll_serve(lfd, &cfg, sg, st) != 0) {
		log_errx("enrollment point: stopped on an error");
		goto out;
	}
	log_info("enrollment point: stopping");
	status = 0;
 out:
	if (lfd >= 0)
		(void)close(lfd);
	if (bound && unlink(path) == -1)
		log_warn("%s", path);
	amtp_store_close(st);
	amtp_signer_free(sg);	/* the signer sees EOF and exits */
	if (signer_pid > 0)
		while (waitpid(signer_pid, NULL, 0) == -1 && errno == EINTR)
			;
	amtp_ca_free(ca);
	amtp_master_key_free(mk);
	return status;
}
