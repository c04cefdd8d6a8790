/*
 * amtprov - oobsp/transport_ws.c: the service point's transport (role
 * oobsp) over libamtp's WS-Management client (wsclient.h: libcurl multi,
 * our Digest, keep-alive).  One struct amtp_wsclient drives every device
 * connection from the engine's thread.
 *
 * The provisioning chain and key are parsed once (wsclient's identity) and
 * put into each new TLS session from memory (never a file, never decoded
 * again per connection), the public-key pin of a pinned connection is checked on the
 * session itself (CURLOPT_PINNEDPUBLICKEY), and the reason of a refused TLS
 * session is libcurl's error text for the request (wsclient.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"
#include "amtprov/wsclient.h"

#include "oobsp/oobsp.h"

/* "https://[<ipv6>]:65535/wsman" */
#define URL_MAX		96

struct ws_transport;

struct oobsp_conn {
	struct ws_transport		*t;
	struct amtp_wsclient_dev	*d;
	char				 url[URL_MAX];
	int				 client;
	oobsp_reply_fn			 cb;
	void				*arg;
	int				 busy;
};

struct ws_transport {
	struct oobsp_transport		 base;
	struct amtp_wsclient		*c;
	/* the provisioning chain and key, parsed once for every session */
	struct amtp_wsclient_ident	*ident;
	const char			*chain_src;
	const struct amtp_secret	*key_src;
};

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
		if (t->ident == NULL) {
			if ((r = amtp_wsclient_ident_new(tg->client_chain_pem,
			    tg->client_key_pem, &t->ident)) != 0)
				goto out;
			t->chain_src = tg->client_chain_pem;
			t->key_src = tg->client_key_pem;
		} else if (t->chain_src != tg->client_chain_pem ||
		    t->key_src != tg->client_key_pem) {
			r = AMTP_E_INVAL;	/* one chain per transport */
			goto out;
		}
		tls.ident = t->ident;
		c->client = 1;
	}
	tls.pin = tg->pin;
	if ((r = amtp_wsclient_dev_new(t->c, c->url, tg->tls ? &tls : NULL,
	    tg->user, tg->password, &c->d)) != 0)
		goto out;
	*out = c;
	c = NULL;
	r = 0;
 out:
	free(c);
	return r;
}

static void
ws_close(struct oobsp_transport *base, struct oobsp_conn *c)
{
	(void)base;
	if (c == NULL)
		return;
	amtp_wsclient_dev_free(c->d);
	free(c);
}

static void
on_reply(void *arg, int result, long http, const char *body, size_t len)
{
	struct oobsp_conn *c = arg;
	struct oobsp_reply rep;
	oobsp_reply_fn cb = c->cb;
	void *cbarg = c->arg;

	memset(&rep, 0, sizeof(rep));
	rep.status = result;
	rep.http = http;
	rep.body = body;
	rep.len = len;
	if (result == AMTP_E_HTTP && http == 401)
		rep.status = AMTP_E_AUTH;
	if (result != 0 && result != AMTP_E_HTTP)
		/* why: a TLS alert, a refused pin, a refused connection */
		amtp_strlcpy(rep.detail, amtp_wsclient_dev_error(c->d),
		    sizeof(rep.detail));
	c->busy = 0;
	c->cb = NULL;
	c->arg = NULL;
	cb(cbarg, &rep);
}

static int
ws_send(struct oobsp_transport *base, struct oobsp_conn *c, const void *body,
    size_t len, oobsp_reply_fn cb, void *arg)
{
	int r;

	(void)base;
	if (c->busy)
		return AMTP_E_BUSY;
	c->cb = cb;
	c->arg = arg;
	c->busy = 1;
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
	int r;

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
	amtp_wsclient_ident_free(t->ident);
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
