/*
 * amtprov - oobsp/transport_ws.c: the service point's transport (role
 * oobsp) over libamtp's WS-Management client (wsclient.h: libcurl multi,
 * our Digest, keep-alive).  One struct amtp_wsclient drives every device
 * connection from the engine's thread.
 *
 * What wsclient does not offer, done here:
 *  - The provisioning key is handed to libcurl without touching the disk:
 *    the chain and the opened key are written to anonymous memory files
 *    (memfd_create) and named /proc/self/fd/N; they live as long as the
 *    transport and are never linked into a file system.
 *  - Public-key pinning (the second stage must talk to the device holding
 *    the certificate we issued): before the first request of a pinned
 *    connection, one TLS handshake with CURLOPT_PINNEDPUBLICKEY checks the
 *    server's key.  XXX it blocks the thread for one handshake per device;
 *    wsclient should take the pin itself.
 *  - The reason of a refused TLS session: after a TLS or connection
 *    failure on a connection that presents a client certificate, one
 *    TLS 1.2 handshake (where AMT's refusal arrives as a handshake alert)
 *    gives libcurl's error text for the job log.
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"
#include "amtprov/wsclient.h"

#include "oobsp/oobsp.h"

/* /proc/self/fd/<int> */
#define FDPATH_MAX	32
/* "https://[<ipv6>]:65535/wsman" */
#define URL_MAX		96
/* Connections with a failure or a pin result waiting for run(). */
#define PENDING_MAX	OOBSP_IDS_MAX

struct ws_transport;

struct oobsp_conn {
	struct ws_transport		*t;
	struct amtp_wsclient_dev	*d;
	char				 url[URL_MAX];
	char				*pin;
	int				 client;
	int				 pin_checked;
	unsigned			 connect_timeout_ms;
	oobsp_reply_fn			 cb;
	void				*arg;
	int				 busy;
	/* a reply decided here (pin refused), delivered by run() */
	int				 queued;
	struct oobsp_reply		 rep;
	struct oobsp_conn		*qnext;
};

struct ws_transport {
	struct oobsp_transport		 base;
	struct amtp_wsclient		*c;
	/* the provisioning chain and key, as memory files */
	const char			*chain_src;
	const struct amtp_secret	*key_src;
	int				 chain_fd, key_fd;
	char				 chain_path[FDPATH_MAX];
	char				 key_path[FDPATH_MAX];
	struct oobsp_conn		*queue;		/* decided replies */
};

static int
memfile(const char *name, const void *data, size_t len, int *fd, char *path,
    size_t pathsz)
{
	const char *p = data;
	ssize_t w;
	size_t off = 0;
	int f;

	if ((f = memfd_create(name, MFD_CLOEXEC)) == -1)
		return AMTP_E_IO;
	while (off < len) {
		if ((w = write(f, p + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			close(f);
			return AMTP_E_IO;
		}
		off += (size_t)w;
	}
	*fd = f;
	snprintf(path, pathsz, "/proc/self/fd/%d", f);
	return 0;
}

/* The memory files of the provisioning chain and key, made once. */
static int
client_files(struct ws_transport *t, const char *chain,
    const struct amtp_secret *key)
{
	int r;

	if (t->chain_fd != -1) {
		if (t->chain_src != chain || t->key_src != key)
			return AMTP_E_INVAL;	/* one chain per transport */
		return 0;
	}
	if ((r = memfile("amtprov-prov-chain", chain, strlen(chain),
	    &t->chain_fd, t->chain_path, sizeof(t->chain_path))) != 0)
		return r;
	if ((r = memfile("amtprov-prov-key", amtp_secret_reveal(key),
	    amtp_secret_len(key), &t->key_fd, t->key_path,
	    sizeof(t->key_path))) != 0) {
		close(t->chain_fd);
		t->chain_fd = -1;
		return r;
	}
	t->chain_src = chain;
	t->key_src = key;
	return 0;
}

static int
ws_open(struct oobsp_transport *base, const struct oobsp_target *tg,
    struct oobsp_conn **out)
{
	struct ws_transport *t = (struct ws_transport *)base;
	struct amtp_wsclient_tls tls;
	struct oobsp_conn *c = NULL;
	int r, n;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return AMTP_E_NOMEM;
	c->t = t;
	n = snprintf(c->url, sizeof(c->url), strchr(tg->addr, ':') != NULL ?
	    "%s://[%s]:%u/wsman" : "%s://%s:%u/wsman", tg->tls ? "https" :
	    "http", tg->addr, tg->port);
	if (n < 0 || (size_t)n >= sizeof(c->url)) {
		r = AMTP_E_TOOBIG;
		goto out;
	}
	memset(&tls, 0, sizeof(tls));
	if (tg->client_chain_pem != NULL && tg->client_key_pem != NULL) {
		if ((r = client_files(t, tg->client_chain_pem,
		    tg->client_key_pem)) != 0)
			goto out;
		tls.client_cert = t->chain_path;
		tls.client_key = t->key_path;
		c->client = 1;
	}
	if (tg->pin != NULL && (c->pin = strdup(tg->pin)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	c->connect_timeout_ms = tg->connect_timeout_ms;
	if ((r = amtp_wsclient_dev_new(t->c, c->url, tg->tls ? &tls : NULL,
	    tg->user, tg->password, &c->d)) != 0)
		goto out;
	*out = c;
	c = NULL;
	r = 0;
 out:
	if (c != NULL) {
		free(c->pin);
		free(c);
	}
	return r;
}

static void
unqueue(struct ws_transport *t, struct oobsp_conn *c)
{
	struct oobsp_conn **pp;

	for (pp = &t->queue; *pp != NULL; pp = &(*pp)->qnext)
		if (*pp == c) {
			*pp = c->qnext;
			break;
		}
	c->queued = 0;
}

static void
ws_close(struct oobsp_transport *base, struct oobsp_conn *c)
{
	struct ws_transport *t = (struct ws_transport *)base;

	if (c == NULL)
		return;
	if (c->queued)
		unqueue(t, c);
	amtp_wsclient_dev_free(c->d);
	free(c->pin);
	free(c);
}

/*
 * One blocking TLS handshake to the device: with the pin (pin != NULL), or
 * with the client chain capped at TLS 1.2 (to read why the device refuses
 * it).  0 when it completes; else AMTP_E_TLS / AMTP_E_CLOSED with libcurl's
 * text in detail.
 */
static int
handshake(struct oobsp_conn *c, const char *pin, char *detail,
    size_t detailsz)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *e;
	CURLcode cc;
	int r;

	if ((e = curl_easy_init()) == NULL)
		return AMTP_E_NOMEM;
	curl_easy_setopt(e, CURLOPT_URL, c->url);
	curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(c->connect_timeout_ms != 0 ? c->connect_timeout_ms :
	    OOBSP_CONNECT_TIMEOUT_MS));
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	if (pin != NULL)
		curl_easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, pin);
	else {
		curl_easy_setopt(e, CURLOPT_SSLVERSION,
		    (long)(CURL_SSLVERSION_TLSv1_2 |
		    CURL_SSLVERSION_MAX_TLSv1_2));
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->t->chain_path);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->t->key_path);
	}
	cc = curl_easy_perform(e);
	switch (cc) {
	case CURLE_OK:
		r = 0;
		break;
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
		r = AMTP_E_TLS;
		break;
	case CURLE_OPERATION_TIMEDOUT:
		r = AMTP_E_TIMEOUT;
		break;
	default:
		r = AMTP_E_CLOSED;
		break;
	}
	if (r != 0)
		snprintf(detail, detailsz, "%s", errbuf[0] != '\0' ? errbuf :
		    curl_easy_strerror(cc));
	curl_easy_cleanup(e);
	return r;
}

static void
deliver_later(struct oobsp_conn *c, int status, const char *detail)
{
	memset(&c->rep, 0, sizeof(c->rep));
	c->rep.status = status;
	amtp_strlcpy(c->rep.detail, detail, sizeof(c->rep.detail));
	c->queued = 1;
	c->qnext = c->t->queue;
	c->t->queue = c;
}

static void
on_reply(void *arg, int result, long http, const char *body, size_t len)
{
	struct oobsp_conn *c = arg;
	struct oobsp_reply rep;
	oobsp_reply_fn cb = c->cb;
	void *cbarg = c->arg;
	int r;

	memset(&rep, 0, sizeof(rep));
	rep.status = result;
	rep.http = http;
	rep.body = body;
	rep.len = len;
	if (result == AMTP_E_HTTP && http == 401)
		rep.status = AMTP_E_AUTH;
	if ((result == AMTP_E_TLS || result == AMTP_E_CLOSED) && c->client) {
		/* why? (TLS 1.3 refusals arrive after the handshake) */
		r = handshake(c, NULL, rep.detail, sizeof(rep.detail));
		if (r == AMTP_E_TLS)
			rep.status = AMTP_E_TLS;
	}
	c->busy = 0;
	c->cb = NULL;
	c->arg = NULL;
	cb(cbarg, &rep);
}

static int
ws_send(struct oobsp_transport *base, struct oobsp_conn *c, const void *body,
    size_t len, oobsp_reply_fn cb, void *arg)
{
	char detail[256];
	int r;

	(void)base;
	if (c->busy)
		return AMTP_E_BUSY;
	c->cb = cb;
	c->arg = arg;
	c->busy = 1;
	if (c->pin != NULL && !c->pin_checked) {
		r = handshake(c, c->pin, detail, sizeof(detail));
		if (r != 0) {
			deliver_later(c, r, r == AMTP_E_TLS ?
			    "server key does not match the pinned certificate"
			    : detail);
			return 0;
		}
		c->pin_checked = 1;
	}
	if ((r = amtp_wsclient_submit(c->d, body, len, on_reply, c)) != 0) {
		c->busy = 0;
		c->cb = NULL;
		return r;
	}
	return 0;
}

static int
ws_run(struct oobsp_transport *base, int timeout_ms)
{
	struct ws_transport *t = (struct ws_transport *)base;
	struct oobsp_conn *c;
	oobsp_reply_fn cb;
	void *arg;
	int r;

	/* replies decided without I/O first */
	while ((c = t->queue) != NULL) {
		unqueue(t, c);
		cb = c->cb;
		arg = c->arg;
		c->busy = 0;
		c->cb = NULL;
		c->arg = NULL;
		cb(arg, &c->rep);
		timeout_ms = 0;
	}
	r = amtp_wsclient_run(t->c, timeout_ms);
	return r < 0 ? r : 0;
}

static void
ws_free(struct oobsp_transport *base)
{
	struct ws_transport *t = (struct ws_transport *)base;

	if (t == NULL)
		return;
	amtp_wsclient_free(t->c);
	if (t->chain_fd != -1)
		close(t->chain_fd);
	if (t->key_fd != -1)
		close(t->key_fd);
	free(t);
}

static const struct oobsp_transport_ops ws_ops = {
	.open = ws_open,
	.close = ws_close,
	.send = ws_send,
	.run = ws_run,
	.free = ws_free,
};

int
oobsp_ws_transport_new(size_t max_conns, unsigned connect_timeout_ms,
    unsigned request_timeout_ms, struct oobsp_transport **out)
{
	struct amtp_wsclient_opts o;
	struct ws_transport *t;
	int r;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return AMTP_E_NOMEM;
	t->base.ops = &ws_ops;
	t->chain_fd = t->key_fd = -1;
	memset(&o, 0, sizeof(o));
	o.connect_timeout_ms = connect_timeout_ms;
	o.request_timeout_ms = request_timeout_ms;
	o.max_connections = (long)max_conns;
	if ((r = amtp_wsclient_new(&o, &t->c)) != 0) {
		free(t);
		return r;
	}
	*out = &t->base;
	return 0;
}
