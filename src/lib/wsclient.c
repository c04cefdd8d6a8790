/*
 * amtprov - wsclient.c: WS-Management over HTTP(S) with libcurl's multi
 * interface and our own Digest (libamtp; the out-of-band service point).
 * See wsclient.h.
 *
 * Per device: one easy handle (kept, so its connection is reused), the last
 * Digest challenge, the nonce count, and HA1 for the challenge's realm.  A
 * request's body is kept until it finishes, because a 401 makes us send it
 * again with an Authorization header.
 */
#include <sys/epoll.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "amtprov/buf.h"
#include "amtprov/digest.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"
#include "amtprov/wsclient.h"

/*
 * libcurl's multi "socket" interface: libcurl says which sockets to watch
 * (on_socket, into our epoll set) and when to call it back (on_timer), and
 * we hand it only the sockets that are ready.  curl_multi_perform() would
 * walk every transfer on each call: with thousands of devices at once that
 * walk is most of the work.
 */
struct amtp_wsclient {
	CURLM				*multi;
	struct amtp_wsclient_opts	 opts;
	size_t				 ndevs;
	int				 active;	/* devices with a request */
	int				 epfd;
	int64_t				 timer_ms;	/* libcurl's deadline;
							 * -1 none */
};

#define WS_EVENTS_MAX	256

static int64_t
ws_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* CURLMOPT_SOCKETFUNCTION */
static int
on_socket(CURL *e, curl_socket_t s, int what, void *ud, void *sockp)
{
	struct amtp_wsclient *c = ud;
	struct epoll_event ev;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		(void)epoll_ctl(c->epfd, EPOLL_CTL_DEL, s, NULL);
		(void)curl_multi_assign(c->multi, s, NULL);
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.data.fd = s;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev.events |= EPOLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev.events |= EPOLLOUT;
	if (sockp == NULL) {
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, s, &ev) == -1 &&
		    (errno != EEXIST ||
		    epoll_ctl(c->epfd, EPOLL_CTL_MOD, s, &ev) == -1))
			return -1;
		(void)curl_multi_assign(c->multi, s, c);
	} else if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, s, &ev) == -1 &&
	    (errno != ENOENT || epoll_ctl(c->epfd, EPOLL_CTL_ADD, s,
	    &ev) == -1))
		return -1;
	return 0;
}

/* CURLMOPT_TIMERFUNCTION */
static int
on_timer(CURLM *m, long timeout_ms, void *ud)
{
	struct amtp_wsclient *c = ud;

	(void)m;
	c->timer_ms = timeout_ms < 0 ? -1 : ws_now_ms() + timeout_ms;
	return 0;
}

struct amtp_wsclient_ident {
	X509			*leaf;
	STACK_OF(X509)		*chain;		/* sent after the leaf */
	EVP_PKEY		*key;
};

struct amtp_wsclient_dev {
	struct amtp_wsclient		*c;
	const struct amtp_wsclient_ident	*ident;
	CURL				*easy;
	char				*url;
	char				*path;		/* digest uri */
	char				*cert, *key, *ca, *pin;
	char				*cert_pem;	/* blob: chain */
	struct amtp_secret		*key_pem;	/* blob: key */
	char				 errbuf[CURL_ERROR_SIZE];
	char				*user;
	struct amtp_secret		*pw;

	/* Digest state. */
	struct amtp_digest_challenge	 chal;
	int				 has_chal;
	uint32_t			 nc;
	uint8_t				 ha1[AMTP_DIGEST_HA1_LEN];
	int				 have_ha1;

	/* The request in flight. */
	int				 busy;
	int				 in_multi;
	uint8_t				*body;
	size_t				 blen;
	amtp_wsclient_cb		 cb;
	void				*arg;
	int				 sent_auth;
	int				 resends;
	int				 prereqs;	/* requests libcurl began */
	int				 resent_dead;	/* libcurl's resend stopped */
	struct amtp_buf			*resp;
	int				 too_big;
	struct curl_slist		*hdrs;
	char				 wwwauth[AMTP_DIGEST_HEADER_MAX + 1];
	int				 have_wwwauth;

	struct amtp_wsclient_stats	 st;
};

int
amtp_wsclient_new(const struct amtp_wsclient_opts *opts,
    struct amtp_wsclient **out)
{
	struct amtp_wsclient *c = NULL;
	int r = AMTP_E_INVAL;

	if (out == NULL)
		return AMTP_E_INVAL;
	*out = NULL;
	r = AMTP_E_INTERNAL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto out;
	r = AMTP_E_NOMEM;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		curl_global_cleanup();
		goto out;
	}
	c->timer_ms = -1;
	if ((c->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		r = AMTP_E_IO;
		goto out;
	}
	if (opts != NULL)
		c->opts = *opts;
	if (c->opts.connect_timeout_ms <= 0)
		c->opts.connect_timeout_ms = AMTP_WSCLIENT_CONNECT_TIMEOUT_MS;
	if (c->opts.request_timeout_ms <= 0)
		c->opts.request_timeout_ms = AMTP_WSCLIENT_REQUEST_TIMEOUT_MS;
	if (c->opts.max_response == 0 ||
	    c->opts.max_response > AMTP_MAX_SOAP_SIZE)
		c->opts.max_response = AMTP_MAX_SOAP_SIZE;
	if (c->opts.max_connections <= 0)
		c->opts.max_connections = AMTP_WSCLIENT_MAX_CONNECTIONS;
	if ((c->multi = curl_multi_init()) == NULL)
		goto out;
	if (curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket) !=
	    CURLM_OK ||
	    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK ||
	    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer) !=
	    CURLM_OK ||
	    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK ||
	    curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    c->opts.max_connections) != CURLM_OK ||
	    curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS,
	    c->opts.max_connections) != CURLM_OK) {
		r = AMTP_E_INTERNAL;
		goto out;
	}
	*out = c;
	c = NULL;
	r = 0;
 out:
	amtp_wsclient_free(c);
	return r;
}

int
amtp_wsclient_ident_new(const char *chain_pem,
    const struct amtp_secret *key_pem, struct amtp_wsclient_ident **out)
{
	struct amtp_wsclient_ident *id = NULL;
	BIO *b = NULL;
	X509 *x;
	int r = AMTP_E_INVAL, n = 0;

	if (out == NULL)
		return AMTP_E_INVAL;
	*out = NULL;
	if (chain_pem == NULL || key_pem == NULL)
		goto out;
	r = AMTP_E_NOMEM;
	if ((id = calloc(1, sizeof(*id))) == NULL ||
	    (id->chain = sk_X509_new_null()) == NULL ||
	    (b = BIO_new_mem_buf(chain_pem, -1)) == NULL)
		goto out;
	r = AMTP_E_PARSE;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (++n > AMTP_MAX_CHAIN_DEPTH) {
			X509_free(x);
			goto out;
		}
		if (id->leaf == NULL)
			id->leaf = x;
		else if (sk_X509_push(id->chain, x) == 0) {
			X509_free(x);
			r = AMTP_E_NOMEM;
			goto out;
		}
	}
	if (id->leaf == NULL)
		goto out;
	BIO_free(b);
	if ((b = BIO_new_mem_buf(amtp_secret_reveal(key_pem),
	    (int)amtp_secret_len(key_pem))) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	if ((id->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL)
		goto out;
	r = AMTP_E_CERT;
	if (X509_check_private_key(id->leaf, id->key) != 1)
		goto out;
	*out = id;
	id = NULL;
	r = 0;
 out:
	BIO_free(b);	/* a mem buf on our data: nothing of its own */
	amtp_wsclient_ident_free(id);
	return r;
}

void
amtp_wsclient_ident_free(struct amtp_wsclient_ident *id)
{
	if (id == NULL)
		return;
	X509_free(id->leaf);
	sk_X509_pop_free(id->chain, X509_free);
	EVP_PKEY_free(id->key);
	free(id);
}

/* CURLOPT_SSL_CTX_FUNCTION: the parsed identity into a new TLS context
 * (libcurl makes one per connection). */
static CURLcode
on_ssl_ctx(CURL *e, void *sslctx, void *ud)
{
	const struct amtp_wsclient_ident *id = ud;

	(void)e;
	if (SSL_CTX_use_cert_and_key(sslctx, id->leaf, id->key, id->chain,
	    1) != 1)
		return CURLE_SSL_CERTPROBLEM;
	return CURLE_OK;
}

void
amtp_wsclient_free(struct amtp_wsclient *c)
{
	if (c == NULL)
		return;
	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);
	if (c->epfd >= 0)
		close(c->epfd);
	free(c);
	curl_global_cleanup();
}

static size_t
on_body(char *p, size_t size, size_t n, void *ud)
{
	struct amtp_wsclient_dev *d = ud;
	size_t len = size * n;

	if (amtp_buf_put(d->resp, p, len) != 0) {
		d->too_big = 1;
		return 0;	/* makes curl stop with CURLE_WRITE_ERROR */
	}
	return len;
}

/* Keeps the first WWW-Authenticate: Digest value of the last response. */
static size_t
on_header(char *p, size_t size, size_t n, void *ud)
{
	static const char name[] = "WWW-Authenticate:";
	struct amtp_wsclient_dev *d = ud;
	size_t len = size * n, nl = sizeof(name) - 1;
	const char *v;
	size_t vlen;

	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		d->have_wwwauth = 0;	/* a new response (after 100, 401...) */
		return len;
	}
	if (len <= nl || !amtp_str_eq_ci(p, nl, name, nl) || d->have_wwwauth)
		return len;
	v = p + nl;
	vlen = len - nl;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
	    v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (vlen < 6 || vlen > AMTP_DIGEST_HEADER_MAX ||
	    !amtp_str_eq_ci(v, 6, "Digest", 6))
		return len;		/* Negotiate, Basic, or too long */
	memcpy(d->wwwauth, v, vlen);
	d->wwwauth[vlen] = '\0';
	d->have_wwwauth = 1;
	return len;
}

/*
 * Called by libcurl before each request it sends on a connection.  A
 * second call within one transfer is libcurl resending the request because
 * the kept-alive connection died: with an Authorization header that would
 * repeat the nonce count the device may have seen already (a "replay", a
 * plain 401 on AMT).  Stopped here; on_done sends it again with nc+1.
 */
static int
on_prereq(void *ud, char *conn_primary_ip, char *conn_local_ip,
    int conn_primary_port, int conn_local_port)
{
	struct amtp_wsclient_dev *d = ud;

	(void)conn_primary_ip;
	(void)conn_local_ip;
	(void)conn_primary_port;
	(void)conn_local_port;
	if (++d->prereqs > 1 && d->sent_auth) {
		d->resent_dead = 1;
		return CURL_PREREQFUNC_ABORT;
	}
	return CURL_PREREQFUNC_OK;
}

static char *
dupnull(const char *s, int *bad)
{
	char *p;

	if (s == NULL)
		return NULL;
	if ((p = strdup(s)) == NULL)
		*bad = 1;
	return p;
}

static int
set_creds(struct amtp_wsclient_dev *d, const char *user,
    const struct amtp_secret *pw)
{
	char *u = NULL;
	struct amtp_secret *p = NULL;
	int r = AMTP_E_INVAL;

	if (user == NULL || strlen(user) > AMTP_DIGEST_VALUE_MAX)
		goto out;
	r = AMTP_E_NOMEM;
	if ((u = strdup(user)) == NULL)
		goto out;
	if (pw != NULL && (r = amtp_secret_dup(pw, &p)) != 0)
		goto out;
	free(d->user);
	amtp_secret_free(d->pw);
	d->user = u;
	d->pw = p;
	u = NULL;
	p = NULL;
	explicit_bzero(d->ha1, sizeof(d->ha1));
	d->have_ha1 = 0;
	r = 0;
 out:
	free(u);
	amtp_secret_free(p);
	return r;
}

int
amtp_wsclient_dev_new(struct amtp_wsclient *c, const char *url,
    const struct amtp_wsclient_tls *tls, const char *user,
    const struct amtp_secret *pw, struct amtp_wsclient_dev **out)
{
	struct amtp_wsclient_dev *d = NULL;
	const char *h, *slash;
	int https, bad = 0, r = AMTP_E_INVAL;
	CURL *e;

	if (out == NULL)
		return AMTP_E_INVAL;
	*out = NULL;
	if (c == NULL || url == NULL || user == NULL ||
	    strlen(url) > AMTP_WSCLIENT_URL_MAX)
		goto out;
	if (strncmp(url, "https://", 8) == 0)
		https = 1;
	else if (strncmp(url, "http://", 7) == 0)
		https = 0;
	else
		goto out;
	h = url + (https ? 8 : 7);
	if ((slash = strchr(h, '/')) == NULL || slash == h)
		goto out;
	r = AMTP_E_NOMEM;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		goto out;
	d->c = c;
	d->url = dupnull(url, &bad);
	d->path = dupnull(slash, &bad);
	if (tls != NULL) {
		d->cert = dupnull(tls->client_cert, &bad);
		d->key = dupnull(tls->client_key, &bad);
		d->ca = dupnull(tls->ca_file, &bad);
		d->pin = dupnull(tls->pin, &bad);
		d->ident = tls->ident;
		d->cert_pem = dupnull(tls->client_cert_pem, &bad);
		if (tls->client_key_pem != NULL &&
		    amtp_secret_dup(tls->client_key_pem, &d->key_pem) != 0)
			bad = 1;
	}
	if (bad)
		goto out;
	if ((r = set_creds(d, user, pw)) != 0)
		goto out;
	r = AMTP_E_NOMEM;
	if ((d->easy = e = curl_easy_init()) == NULL)
		goto out;
	r = AMTP_E_INTERNAL;
	if (curl_easy_setopt(e, CURLOPT_URL, d->url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PRIVATE, d) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_1_1) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    c->opts.connect_timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
	    c->opts.request_timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, d) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HEADERDATA, d) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, d->errbuf) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq) !=
	    CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PREREQDATA, d) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT, "amtprov/" AMTP_VERSION) !=
	    CURLE_OK)
		goto out;
	if (https) {
		long v = tls != NULL && tls->verify_peer ? 1L : 0L;

		if (curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, v) != CURLE_OK ||
		    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, v ? 2L : 0L) !=
		    CURLE_OK)
			goto out;
		if (d->ident != NULL) {
			if (curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION,
			    on_ssl_ctx) != CURLE_OK || curl_easy_setopt(e,
			    CURLOPT_SSL_CTX_DATA, (void *)(uintptr_t)d->ident) !=
			    CURLE_OK)
				goto out;
		} else if (d->cert_pem != NULL) {
			struct curl_blob b;

			b.data = d->cert_pem;
			b.len = strlen(d->cert_pem);
			b.flags = CURL_BLOB_COPY;
			if (curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b) !=
			    CURLE_OK || curl_easy_setopt(e,
			    CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK)
				goto out;
		} else if (d->cert != NULL && (curl_easy_setopt(e,
		    CURLOPT_SSLCERT, d->cert) != CURLE_OK || curl_easy_setopt(e,
		    CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK))
			goto out;
		/* with an identity, the key comes with it */
		if (d->ident == NULL && d->key_pem != NULL) {
			struct curl_blob b;

			/* NOCOPY: libcurl reads our wiped-on-free copy */
			b.data = (void *)(uintptr_t)amtp_secret_reveal(
			    d->key_pem);
			b.len = amtp_secret_len(d->key_pem);
			b.flags = CURL_BLOB_NOCOPY;
			if (curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b) !=
			    CURLE_OK || curl_easy_setopt(e,
			    CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK)
				goto out;
		} else if (d->ident == NULL && d->key != NULL &&
		    curl_easy_setopt(e, CURLOPT_SSLKEY, d->key) != CURLE_OK)
			goto out;
		if (d->pin != NULL && curl_easy_setopt(e,
		    CURLOPT_PINNEDPUBLICKEY, d->pin) != CURLE_OK)
			goto out;
		if (d->ca != NULL && curl_easy_setopt(e, CURLOPT_CAINFO,
		    d->ca) != CURLE_OK)
			goto out;
	}
	c->ndevs++;
	*out = d;
	d = NULL;
	r = 0;
 out:
	if (d != NULL) {
		d->c = NULL;	/* not counted yet */
		amtp_wsclient_dev_free(d);
	}
	return r;
}

/* Wipes the strings of a header list (the Authorization line) before
 * curl frees it. */
static void
wipe_slist(struct curl_slist *l)
{
	for (; l != NULL; l = l->next)
		if (l->data != NULL)
			explicit_bzero(l->data, strlen(l->data));
}

static void
end_request(struct amtp_wsclient_dev *d)
{
	if (d->in_multi) {
		curl_multi_remove_handle(d->c->multi, d->easy);
		d->in_multi = 0;
	}
	if (d->busy) {
		d->busy = 0;
		d->c->active--;
	}
	/* The body may carry passwords (SetAdminAclEntryEx, MEBx). */
	if (d->body != NULL)
		explicit_bzero(d->body, d->blen);
	free(d->body);
	d->body = NULL;
	d->blen = 0;
	wipe_slist(d->hdrs);
	curl_slist_free_all(d->hdrs);
	d->hdrs = NULL;
}

void
amtp_wsclient_dev_free(struct amtp_wsclient_dev *d)
{
	if (d == NULL)
		return;
	if (d->c != NULL) {
		end_request(d);
		d->c->ndevs--;
	}
	if (d->easy != NULL)
		curl_easy_cleanup(d->easy);
	amtp_buf_free(d->resp);
	free(d->url);
	free(d->path);
	free(d->cert);
	free(d->key);
	free(d->ca);
	free(d->pin);
	free(d->cert_pem);
	amtp_secret_free(d->key_pem);
	free(d->user);
	amtp_secret_free(d->pw);
	explicit_bzero(d, sizeof(*d));
	free(d);
}

int
amtp_wsclient_dev_set_credentials(struct amtp_wsclient_dev *d,
    const char *user, const struct amtp_secret *pw)
{
	if (d == NULL)
		return AMTP_E_INVAL;
	if (d->busy)
		return AMTP_E_BUSY;
	return set_creds(d, user, pw);
}

const char *
amtp_wsclient_dev_error(const struct amtp_wsclient_dev *d)
{
	return d != NULL ? d->errbuf : "";
}

void
amtp_wsclient_dev_stats(const struct amtp_wsclient_dev *d,
    struct amtp_wsclient_stats *st)
{
	*st = d->st;
}

/* Sends the kept body, with an Authorization header when we hold a
 * challenge and a password. */
static int
dev_send(struct amtp_wsclient_dev *d)
{
	struct amtp_buf *auth = NULL;
	struct curl_slist *h = NULL, *t;
	int r = AMTP_E_NOMEM;

	if ((h = curl_slist_append(NULL,
	    "Content-Type: application/soap+xml;charset=UTF-8")) == NULL)
		goto out;
	if ((t = curl_slist_append(h, "Expect:")) == NULL)
		goto out;
	h = t;
	d->sent_auth = 0;
	d->prereqs = 0;
	d->resent_dead = 0;
	d->errbuf[0] = '\0';
	if (d->has_chal && d->pw != NULL) {
		if (!d->have_ha1) {
			if ((r = amtp_digest_ha1(d->user, d->chal.realm, d->pw,
			    d->ha1)) != 0)
				goto out;
			d->have_ha1 = 1;
		}
		r = AMTP_E_NOMEM;
		if ((auth = amtp_buf_new(AMTP_DIGEST_HEADER_MAX + 32)) == NULL)
			goto out;
		if ((r = amtp_buf_put_cstring(auth, "Authorization: ")) != 0 ||
		    (r = amtp_digest_client_answer(&d->chal, d->user, d->ha1,
		    "POST", d->path, d->nc + 1, NULL, auth)) != 0)
			goto out;
		d->nc++;
		r = AMTP_E_NOMEM;
		if ((t = curl_slist_append(h, amtp_buf_str(auth))) == NULL)
			goto out;
		h = t;
		d->sent_auth = 1;
	}
	r = AMTP_E_NOMEM;
	if (d->resp == NULL &&
	    (d->resp = amtp_buf_new(d->c->opts.max_response)) == NULL)
		goto out;
	amtp_buf_reset(d->resp);
	d->too_big = 0;
	d->have_wwwauth = 0;
	r = AMTP_E_INTERNAL;
	if (curl_easy_setopt(d->easy, CURLOPT_HTTPHEADER, h) != CURLE_OK ||
	    curl_easy_setopt(d->easy, CURLOPT_POSTFIELDS, d->body) !=
	    CURLE_OK ||
	    curl_easy_setopt(d->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)d->blen) != CURLE_OK)
		goto out;
	curl_slist_free_all(d->hdrs);
	d->hdrs = h;
	h = NULL;
	if (curl_multi_add_handle(d->c->multi, d->easy) != CURLM_OK)
		goto out;
	d->in_multi = 1;
	d->st.sends++;
	r = 0;
 out:
	wipe_slist(h);
	curl_slist_free_all(h);
	amtp_buf_free(auth);	/* wipes the header text */
	return r;
}

int
amtp_wsclient_submit(struct amtp_wsclient_dev *d, const void *body,
    size_t len, amtp_wsclient_cb cb, void *arg)
{
	int r;

	if (d == NULL || cb == NULL || (body == NULL && len > 0))
		return AMTP_E_INVAL;
	if (d->busy)
		return AMTP_E_BUSY;
	if (len > AMTP_MAX_SOAP_SIZE)
		return AMTP_E_TOOBIG;
	if ((d->body = malloc(len + 1)) == NULL)
		return AMTP_E_NOMEM;
	if (len > 0)
		memcpy(d->body, body, len);
	d->body[len] = '\0';
	d->blen = len;
	d->cb = cb;
	d->arg = arg;
	d->resends = 0;
	d->busy = 1;
	d->c->active++;
	d->st.requests++;
	if ((r = dev_send(d)) != 0) {
		end_request(d);
		return r;
	}
	return 0;
}

/* Ends the request and runs its callback last: the callback may submit
 * again, or free the device. */
static void
finish(struct amtp_wsclient_dev *d, int result, long status)
{
	struct amtp_buf *resp = d->resp;
	amtp_wsclient_cb cb = d->cb;
	void *arg = d->arg;

	d->resp = NULL;
	end_request(d);
	if (status == 0) {
		/* No HTTP response (transport error, or a reply cut off at
		 * max_response): no body to hand over. */
		amtp_buf_free(resp);
		resp = NULL;
	}
	cb(arg, result, status, resp != NULL ? amtp_buf_str(resp) : NULL,
	    resp != NULL ? amtp_buf_len(resp) : 0);
	amtp_buf_free(resp);
}

static int
map_curl(struct amtp_wsclient_dev *d, CURLcode code)
{
	switch (code) {
	case CURLE_OPERATION_TIMEDOUT:
		return AMTP_E_TIMEOUT;
	case CURLE_WRITE_ERROR:
		return d->too_big ? AMTP_E_TOOBIG : AMTP_E_INTERNAL;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return AMTP_E_TLS;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		/* TLS 1.3: a server refuses the client certificate after
		 * the handshake; its alert ends the first read */
		if (strstr(d->errbuf, " alert ") != NULL)
			return AMTP_E_TLS;
		return AMTP_E_CLOSED;
	default:
		return AMTP_E_CLOSED;
	}
}

static void
on_done(struct amtp_wsclient_dev *d, CURLcode code)
{
	struct amtp_digest_challenge ch;
	long status = 0, conns = 0;

	curl_multi_remove_handle(d->c->multi, d->easy);
	d->in_multi = 0;
	if (curl_easy_getinfo(d->easy, CURLINFO_NUM_CONNECTS, &conns) ==
	    CURLE_OK)
		d->st.connects += conns;
	if (code == CURLE_ABORTED_BY_CALLBACK && d->resent_dead &&
	    d->resends < AMTP_WSCLIENT_AUTH_RESENDS) {
		/* the kept-alive connection died under an authenticated
		 * request: again, on a new connection, with the next nc */
		d->st.dead_resends++;
		d->resends++;
		if (dev_send(d) != 0)
			finish(d, AMTP_E_INTERNAL, 0);
		return;
	}
	if (code != CURLE_OK) {
		finish(d, map_curl(d, code), 0);
		return;
	}
	if (curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &status) !=
	    CURLE_OK)
		status = 0;
	if (status >= 200 && status < 300) {
		finish(d, 0, status);
		return;
	}
	if (status != 401) {
		finish(d, AMTP_E_HTTP, status);
		return;
	}
	if (!d->have_wwwauth || amtp_digest_challenge_parse(d->wwwauth,
	    strlen(d->wwwauth), &ch) != 0) {
		finish(d, AMTP_E_PROTO, status);
		return;
	}
	d->st.challenges++;
	if (ch.stale)
		d->st.stale++;
	/* Keep the newest challenge: a new nonce, maybe a new realm. */
	if (strcmp(ch.realm, d->chal.realm) != 0 || !d->has_chal) {
		explicit_bzero(d->ha1, sizeof(d->ha1));
		d->have_ha1 = 0;
	}
	d->chal = ch;
	d->has_chal = 1;
	d->nc = 0;
	if (d->pw == NULL || (d->sent_auth && !ch.stale) ||
	    d->resends >= AMTP_WSCLIENT_AUTH_RESENDS) {
		finish(d, AMTP_E_AUTH, status);
		return;
	}
	d->resends++;
	if (dev_send(d) != 0)
		finish(d, AMTP_E_INTERNAL, status);
}

static void
process(struct amtp_wsclient *c)
{
	struct amtp_wsclient_dev *d;
	CURLMsg *m;
	int left;
	char *priv;

	while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv) !=
		    CURLE_OK || priv == NULL)
			continue;
		d = (struct amtp_wsclient_dev *)(void *)priv;
		on_done(d, m->data.result);
	}
}

/* Lets libcurl act on its deadline when it is due. */
static int
ws_timeouts(struct amtp_wsclient *c)
{
	int running, n;

	/* a finished request may start another (Digest): a few rounds */
	for (n = 0; n < 4 && c->timer_ms >= 0 && c->timer_ms <= ws_now_ms();
	    n++) {
		c->timer_ms = -1;
		if (curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0,
		    &running) != CURLM_OK)
			return AMTP_E_INTERNAL;
		process(c);
	}
	return 0;
}

int
amtp_wsclient_run(struct amtp_wsclient *c, int timeout_ms)
{
	struct epoll_event ev[WS_EVENTS_MAX];
	int64_t now;
	int i, n, running, flags, wait;

	if (c == NULL)
		return AMTP_E_INVAL;
	if (ws_timeouts(c) != 0)
		return AMTP_E_INTERNAL;
	if (c->active == 0)
		return 0;
	wait = timeout_ms < 0 ? 0 : timeout_ms;
	if (c->timer_ms >= 0) {
		now = ws_now_ms();
		if (c->timer_ms - now < wait)
			wait = c->timer_ms <= now ? 0 : (int)(c->timer_ms - now);
	}
	n = epoll_wait(c->epfd, ev, WS_EVENTS_MAX, wait);
	if (n == -1 && errno != EINTR)
		return AMTP_E_IO;
	for (i = 0; i < n; i++) {
		flags = 0;
		if (ev[i].events & EPOLLIN)
			flags |= CURL_CSELECT_IN;
		if (ev[i].events & EPOLLOUT)
			flags |= CURL_CSELECT_OUT;
		if (ev[i].events & (EPOLLERR | EPOLLHUP))
			flags |= CURL_CSELECT_ERR;
		if (curl_multi_socket_action(c->multi, ev[i].data.fd, flags,
		    &running) != CURLM_OK)
			return AMTP_E_INTERNAL;
	}
	process(c);
	if (ws_timeouts(c) != 0)
		return AMTP_E_INTERNAL;
	return c->active;
}

struct call_state {
	int		 done;
	int		 result;
	long		 status;
	struct amtp_buf	*resp;
};

static void
call_cb(void *arg, int result, long status, const char *body, size_t len)
{
	struct call_state *s = arg;

	s->done = 1;
	s->result = result;
	s->status = status;
	if (body != NULL && (s->resp = amtp_buf_from(body, len,
	    len > 0 ? len : 1)) == NULL)
		s->result = AMTP_E_NOMEM;
}

int
amtp_wsclient_call(struct amtp_wsclient_dev *d, const void *body, size_t len,
    struct amtp_buf **resp, long *http_status)
{
	struct call_state s;
	int r;

	if (resp != NULL)
		*resp = NULL;
	if (http_status != NULL)
		*http_status = 0;
	memset(&s, 0, sizeof(s));
	if ((r = amtp_wsclient_submit(d, body, len, call_cb, &s)) != 0)
		return r;
	while (!s.done)
		if ((r = amtp_wsclient_run(d->c, 1000)) < 0)
			break;
	if (!s.done) {
		end_request(d);		/* the loop failed: cancel */
		return r;
	}
	if (http_status != NULL)
		*http_status = s.status;
	if (resp != NULL)
		*resp = s.resp;
	else
		amtp_buf_free(s.resp);
	return s.result;
}
