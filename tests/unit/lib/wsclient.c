/* Unit tests for src/lib/wsclient.c against a real HTTP(S) server on
 * 127.0.0.1 (libmicrohttpd) that checks Digest with our own server code:
 * the 401-then-resend dance, nonce reuse with a rising nc on one kept-alive
 * connection, stale re-challenges, wrong credentials then the next ones,
 * many devices at once on the multi interface, timeouts, size limits, TLS
 * with a client certificate chain. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <openssl/ec.h>
#include <openssl/sha.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "amtprov/buf.h"
#include "amtprov/digest.h"
#include "amtprov/err.h"
#include "amtprov/secret.h"
#include "amtprov/wsclient.h"

#define REALM	"Digest:0123456789ABCDEF0123456789ABCDEF"
#define PASS	"P@ssw0rd!"

/* ------------------------------------------------------------------ */
/* The test server                                                    */

struct srv {
	struct MHD_Daemon		*d;
	int				 port;
	pthread_mutex_t			 mu;
	struct amtp_digest_nonces	*nonces;
	uint8_t				 ha1[16];
	/* counters */
	int				 requests, challenges, stale_sent, ok;
	int				 connections, peer_certs;
	char				 last_nc[AMTP_DIGEST_VALUE_MAX + 1];
	/* behaviour */
	int				 force_stale;	/* next good answer: stale */
	int				 delay_ms;
	size_t				 reply_pad;	/* extra reply bytes */
	int				 close_on_401;	/* as MeshCentral's peer */
	int				 drop_next_ok;	/* verified: close, no reply */
	int				 plain_replay;	/* replay: 401 stale=false (AMT) */
	int				 replays;	/* replayed nc seen */
	int				 bare_401;	/* 401 without a challenge */
};

struct upload {
	char	*data;
	size_t	 len;
};

static void
on_conn(void *cls, struct MHD_Connection *c, void **socket_ctx,
    enum MHD_ConnectionNotificationCode code)
{
	struct srv *s = cls;
	const union MHD_ConnectionInfo *ci;

	(void)socket_ctx;
	if (code != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	pthread_mutex_lock(&s->mu);
	s->connections++;
	pthread_mutex_unlock(&s->mu);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci != NULL && ci->tls_session != NULL)
		gnutls_certificate_server_set_request(
		    (gnutls_session_t)ci->tls_session, GNUTLS_CERT_REQUEST);
}

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned code, const char *body, size_t len,
    const char *wwwauth)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type",
	    "application/soap+xml;charset=UTF-8");
	if (wwwauth != NULL)
		MHD_add_response_header(r, "WWW-Authenticate", wwwauth);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
challenge(struct srv *s, struct MHD_Connection *c, int stale)
{
	struct amtp_buf *b = amtp_buf_new(512);
	char nonce[AMTP_DIGEST_NONCE_HEXLEN + 1];
	enum MHD_Result ret;

	/* Runs in the server's thread: no cmocka assertions here. */
	if (b == NULL || amtp_digest_nonce_issue(s->nonces, REALM, nonce) != 0 ||
	    amtp_digest_challenge_build(REALM, nonce, stale, b) != 0)
		abort();
	s->challenges++;
	if (stale)
		s->stale_sent++;
	if (s->bare_401)
		ret = reply(c, 401, "", 0, NULL);
	else if (s->close_on_401) {
		struct MHD_Response *r;

		r = MHD_create_response_from_buffer(0, (void *)(uintptr_t)"",
		    MHD_RESPMEM_PERSISTENT);
		if (r == NULL)
			abort();
		MHD_add_response_header(r, "WWW-Authenticate", amtp_buf_str(b));
		MHD_add_response_header(r, "Connection", "close");
		ret = MHD_queue_response(c, 401, r);
		MHD_destroy_response(r);
	} else
		ret = reply(c, 401, "", 0, amtp_buf_str(b));
	amtp_buf_free(b);
	return ret;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_size, void **con_cls)
{
	struct srv *s = cls;
	struct upload *u = *con_cls;
	struct amtp_digest_auth a;
	const union MHD_ConnectionInfo *ci;
	const char *hdr;
	char *body;
	size_t blen;
	enum MHD_Result ret;
	int r;

	(void)version;
	if (u == NULL) {
		u = calloc(1, sizeof(*u));
		*con_cls = u;
		return u != NULL ? MHD_YES : MHD_NO;
	}
	if (*upload_size > 0) {
		u->data = realloc(u->data, u->len + *upload_size + 1);
		memcpy(u->data + u->len, upload_data, *upload_size);
		u->len += *upload_size;
		u->data[u->len] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "POST") != 0 || strcmp(url, "/wsman") != 0)
		return reply(c, 404, "", 0, NULL);
	if (s->delay_ms > 0)
		usleep((useconds_t)s->delay_ms * 1000);
	pthread_mutex_lock(&s->mu);
	s->requests++;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (ci != NULL && ci->tls_session != NULL) {
		unsigned n = 0;

		(void)gnutls_certificate_get_peers(
		    (gnutls_session_t)ci->tls_session, &n);
		s->peer_certs = (int)n;
	}
	hdr = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (hdr == NULL) {
		ret = challenge(s, c, 0);
		goto out;
	}
	if (amtp_digest_auth_parse(hdr, strlen(hdr), &a) != 0 ||
	    strcmp(a.username, "admin") != 0) {
		ret = challenge(s, c, 0);
		goto out;
	}
	snprintf(s->last_nc, sizeof(s->last_nc), "%s", a.nc);
	r = amtp_digest_verify(s->nonces, &a, REALM, "POST", "/wsman", s->ha1);
	if (r == 0 && s->force_stale) {
		s->force_stale = 0;
		r = AMTP_E_STALE;
	}
	if (r == AMTP_E_REPLAY)
		s->replays++;
	if (r == AMTP_E_REPLAY && s->plain_replay) {
		ret = challenge(s, c, 0);
		goto out;
	}
	if (r == AMTP_E_STALE || r == AMTP_E_REPLAY) {
		ret = challenge(s, c, 1);
		goto out;
	}
	if (r == 0 && s->drop_next_ok) {
		/* processed (its nc recorded), then the connection dies
		 * before the reply */
		s->drop_next_ok = 0;
		ret = MHD_NO;
		goto out;
	}
	if (r != 0) {
		ret = challenge(s, c, 0);
		goto out;
	}
	s->ok++;
	if (u->data != NULL && strstr(u->data, "FAIL500") != NULL) {
		ret = reply(c, 500, "<fault/>", 8, NULL);
		goto out;
	}
	/* Echo the request, padded when asked. */
	blen = u->len + s->reply_pad;
	body = malloc(blen + 1);
	memset(body, ' ', blen);
	if (u->len > 0)
		memcpy(body, u->data, u->len);
	ret = reply(c, 200, body, blen, NULL);
	free(body);
 out:
	pthread_mutex_unlock(&s->mu);
	return ret;
}

static void
on_done_req(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct upload *u = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (u != NULL) {
		free(u->data);
		free(u);
		*con_cls = NULL;
	}
}

static void
srv_start(struct srv *s, const char *cert_pem, const char *key_pem)
{
	struct sockaddr_in sin;
	const union MHD_DaemonInfo *di;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	assert_int_equal(amtp_digest_nonces_new(0, 0, NULL, &s->nonces), 0);
	assert_int_equal(amtp_digest_ha1_raw("admin", REALM, PASS, strlen(PASS),
	    s->ha1), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (cert_pem != NULL) {
		flags |= MHD_USE_TLS;
		s->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, s,
		    MHD_OPTION_SOCK_ADDR, &sin,
		    MHD_OPTION_NOTIFY_CONNECTION, on_conn, s,
		    MHD_OPTION_NOTIFY_COMPLETED, on_done_req, NULL,
		    MHD_OPTION_HTTPS_MEM_CERT, cert_pem,
		    MHD_OPTION_HTTPS_MEM_KEY, key_pem,
		    MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:+SHA256",
		    MHD_OPTION_END);
	} else
		s->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, s,
		    MHD_OPTION_SOCK_ADDR, &sin,
		    MHD_OPTION_NOTIFY_CONNECTION, on_conn, s,
		    MHD_OPTION_NOTIFY_COMPLETED, on_done_req, NULL,
		    MHD_OPTION_END);
	assert_non_null(s->d);
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(di);
	s->port = di->port;
}

static void
srv_stop(struct srv *s)
{
	MHD_stop_daemon(s->d);
	amtp_digest_nonces_free(s->nonces);
	pthread_mutex_destroy(&s->mu);
}

static void
url_of(const struct srv *s, const char *scheme, char *dst, size_t len)
{
	snprintf(dst, len, "%s://127.0.0.1:%d/wsman", scheme, s->port);
}

static struct amtp_secret *
secret(const char *s)
{
	struct amtp_secret *p;

	assert_int_equal(amtp_secret_from_cstr(s, &p), 0);
	return p;
}

/* ------------------------------------------------------------------ */

static void
test_digest_dance(void **state)
{
	struct srv s;
	struct amtp_wsclient *c;
	struct amtp_wsclient_dev *d;
	struct amtp_wsclient_stats st;
	struct amtp_secret *pw = secret(PASS);
	struct amtp_buf *resp;
	char url[128], body[64];
	long status;
	int i;

	(void)state;
	srv_start(&s, NULL, NULL);
	url_of(&s, "http", url, sizeof(url));
	assert_int_equal(amtp_wsclient_new(NULL, &c), 0);
	assert_int_equal(amtp_wsclient_dev_new(c, url, NULL, "admin", pw, &d), 0);
	for (i = 1; i <= 5; i++) {
		snprintf(body, sizeof(body), "<Envelope n=\"%d\"/>", i);
		assert_int_equal(amtp_wsclient_call(d, body, strlen(body), &resp,
		    &status), 0);
		assert_int_equal(status, 200);
		assert_string_equal(amtp_buf_str(resp), body);	/* echoed */
		amtp_buf_free(resp);
	}
	/* One 401 in all; then the nonce was reused with nc 1..5 on one
	 * kept-alive connection. */
	assert_int_equal(s.challenges, 1);
	assert_int_equal(s.requests, 6);
	assert_int_equal(s.ok, 5);
	assert_string_equal(s.last_nc, "00000005");
	assert_int_equal(s.connections, 1);
	amtp_wsclient_dev_stats(d, &st);
	assert_int_equal(st.requests, 5);
	assert_int_equal(st.sends, 6);
	assert_int_equal(st.challenges, 1);
	assert_int_equal(st.connects, 1);

	/* The server says stale: a new nonce, the same body again, no error. */
	s.force_stale = 1;
	assert_int_equal(amtp_wsclient_call(d, "<x/>", 4, &resp, &status), 0);
	amtp_buf_free(resp);
	assert_int_equal(s.stale_sent, 1);
	assert_string_equal(s.last_nc, "00000001");
	amtp_wsclient_dev_stats(d, &st);
	assert_int_equal(st.stale, 1);

	/* Another status: the body is handed over. */
	assert_int_equal(amtp_wsclient_call(d, "FAIL500", 7, &resp, &status),
	    AMTP_E_HTTP);
	assert_int_equal(status, 500);
	assert_string_equal(amtp_buf_str(resp), "<fault/>");
	amtp_buf_free(resp);

	amtp_wsclient_dev_free(d);
	amtp_wsclient_free(c);
	amtp_secret_free(pw);
	srv_stop(&s);
}

static void
test_credentials(void **state)
{
	struct srv s;
	struct amtp_wsclient *c;
	struct amtp_wsclient_dev *d;
	struct amtp_wsclient_stats st;
	struct amtp_secret *bad = secret("wrong-one"), *good = secret(PASS);
	struct amtp_buf *resp;
	char url[128];
	long status;

	(void)state;
	srv_start(&s, NULL, NULL);
	url_of(&s, "http", url, sizeof(url));
	assert_int_equal(amtp_wsclient_new(NULL, &c), 0);
	/* No password: the first 401 ends it. */
	assert_int_equal(amtp_wsclient_dev_new(c, url, NULL, "admin", NULL, &d),
	    0);
	assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, &resp, &status),
	    AMTP_E_AUTH);
	assert_int_equal(status, 401);
	amtp_buf_free(resp);
	amtp_wsclient_dev_free(d);

	/* Wrong password: 401 twice (first challenge, then refusal). */
	assert_int_equal(amtp_wsclient_dev_new(c, url, NULL, "admin", bad, &d), 0);
	assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, NULL, &status),
	    AMTP_E_AUTH);
	amtp_wsclient_dev_stats(d, &st);
	assert_int_equal(st.sends, 2);
	assert_int_equal(st.challenges, 2);
	/* The next credentials answer the kept challenge at once. */
	assert_int_equal(amtp_wsclient_dev_set_credentials(d, "admin", good), 0);
	assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, NULL, &status), 0);
	assert_int_equal(status, 200);
	amtp_wsclient_dev_stats(d, &st);
	assert_int_equal(st.sends, 3);
	assert_int_equal(st.challenges, 2);
	amtp_wsclient_dev_free(d);

	/* Bad arguments. */
	assert_int_equal(amtp_wsclient_dev_new(c, "ftp://x/wsman", NULL, "admin",
	    good, &d), AMTP_E_INVAL);
	assert_null(d);
	assert_int_equal(amtp_wsclient_dev_new(c, "http://hostonly", NULL,
	    "admin", good, &d), AMTP_E_INVAL);
	assert_int_equal(amtp_wsclient_dev_new(c, url, NULL, NULL, good, &d),
	    AMTP_E_INVAL);
	amtp_wsclient_free(c);
	amtp_secret_free(bad);
	amtp_secret_free(good);
	srv_stop(&s);
}

/* A device that closes the connection after each 401, and one whose 401
 * carries no Digest challenge. */
static void
test_peer_quirks(void **state)
{
	struct srv s;
	struct amtp_wsclient *c;
	struct amtp_wsclient_dev *d;
	struct amtp_wsclient_stats st;
	struct amtp_secret *pw = secret(PASS);
	char url[128];
	long status;

	(void)state;
	srv_start(&s, NULL, NULL);
	url_of(&s, "http", url, sizeof(url));
	assert_int_equal(amtp_wsclient_new(NULL, &c), 0);
	s.close_on_401 = 1;
	assert_int_equal(amtp_wsclient_dev_new(c, url, NULL, "admin", pw, &d), 0);
	assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, NULL, &status), 0);
	assert_int_equal(amtp_wsclient_call(d, "<b/>", 4, NULL, &status), 0);
	assert_int_equal(s.connections, 2);	/* the resend reconnected */
	amtp_wsclient_dev_stats(d, &st);
	assert_int_equal(st.connects, 2);
	assert_int_equal(st.sends, 3);
	amtp_wsclient_dev_free(d);
	s.close_on_401 = 0;
	s.bare_401 = 1;
	assert_int_equal(amtp_wsclient_dev_new(c, url, NULL, "admin", pw, &d), 0);
	assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, NULL, &status),
	    AMTP_E_PROTO);
	assert_int_equal(status, 401);
	amtp_wsclient_dev_free(d);
	amtp_wsclient_free(c);
	amtp_secret_free(pw);
	srv_stop(&s);
}

struct many {
	int	done, ok;
};

static void
many_cb(void *arg, int result, long status, const char *body, size_t len)
{
	struct many *m = arg;

	m->done++;
	if (result == 0 && status == 200 && len == 9 &&
	    memcmp(body, "<Get n=\"\"", 9) == 0)
		m->ok++;
}

static void
test_many_devices(void **state)
{
	enum { N = 40 };
	struct srv s;
	struct amtp_wsclient *c;
	struct amtp_wsclient_dev *d[N];
	struct amtp_secret *pw = secret(PASS);
	struct many m;
	char url[128];
	int i, round, n;

	(void)state;
	srv_start(&s, NULL, NULL);
	url_of(&s, "http", url, sizeof(url));
	assert_int_equal(amtp_wsclient_new(NULL, &c), 0);
	for (i = 0; i < N; i++)
		assert_int_equal(amtp_wsclient_dev_new(c, url, NULL, "admin", pw,
		    &d[i]), 0);
	for (round = 0; round < 2; round++) {
		memset(&m, 0, sizeof(m));
		for (i = 0; i < N; i++)
			assert_int_equal(amtp_wsclient_submit(d[i], "<Get n=\"\"",
			    9, many_cb, &m), 0);
		/* One request at a time per device. */
		assert_int_equal(amtp_wsclient_submit(d[0], "x", 1, many_cb, &m),
		    AMTP_E_BUSY);
		while ((n = amtp_wsclient_run(c, 1000)) > 0)
			;
		assert_int_equal(n, 0);
		assert_int_equal(m.done, N);
		assert_int_equal(m.ok, N);
	}
	/* One challenge per device, none in the second round. */
	assert_int_equal(s.challenges, N);
	assert_int_equal(s.ok, 2 * N);
	assert_true(s.connections <= N);
	for (i = 0; i < N; i++)
		amtp_wsclient_dev_free(d[i]);
	amtp_wsclient_free(c);
	amtp_secret_free(pw);
	srv_stop(&s);
}

static void
test_limits(void **state)
{
	struct srv s;
	struct amtp_wsclient_opts o;
	struct amtp_wsclient *c;
	struct amtp_wsclient_dev *d;
	struct amtp_secret *pw = secret(PASS);
	struct amtp_buf *resp;
	char url[128];
	long status;

	(void)state;
	srv_start(&s, NULL, NULL);
	url_of(&s, "http", url, sizeof(url));
	memset(&o, 0, sizeof(o));
	o.request_timeout_ms = 400;
	o.max_response = 1024;
	assert_int_equal(amtp_wsclient_new(&o, &c), 0);
	assert_int_equal(amtp_wsclient_dev_new(c, url, NULL, "admin", pw, &d), 0);
	/* A reply exactly at the limit, then one byte over. */
	s.reply_pad = 1024 - 4;
	assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, &resp, &status), 0);
	assert_int_equal(amtp_buf_len(resp), 1024);
	amtp_buf_free(resp);
	s.reply_pad = 1024 - 3;
	assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, &resp, &status),
	    AMTP_E_TOOBIG);
	assert_null(resp);
	s.reply_pad = 0;
	/* A device that does not answer in time. */
	s.delay_ms = 1000;
	assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, &resp, &status),
	    AMTP_E_TIMEOUT);
	assert_null(resp);
	s.delay_ms = 0;
	amtp_wsclient_dev_free(d);
	/* Nobody listening. */
	assert_int_equal(amtp_wsclient_dev_new(c, "http://127.0.0.1:1/wsman",
	    NULL, "admin", pw, &d), 0);
	assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, NULL, &status),
	    AMTP_E_CLOSED);
	assert_int_equal(status, 0);
	amtp_wsclient_dev_free(d);
	amtp_wsclient_free(c);
	amtp_secret_free(pw);
	srv_stop(&s);
}

/* ------------------------------------------------------------------ */
/* TLS                                                                */

static EVP_PKEY *
genkey(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

static X509 *
mkcert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, int ca)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *n;
	X509_EXTENSION *ext;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) :
	    n);
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints,
	    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, ikey != NULL ? ikey : key, EVP_sha256()) > 0);
	return x;
}

static void
write_pem(const char *path, X509 *a, X509 *b, EVP_PKEY *k)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	if (a != NULL)
		assert_int_equal(PEM_write_X509(f, a), 1);
	if (b != NULL)
		assert_int_equal(PEM_write_X509(f, b), 1);
	if (k != NULL)
		assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL,
		    NULL), 1);
	assert_int_equal(fclose(f), 0);
}

static char *
pem_str(X509 *x, EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *s;
	long n;

	if (x != NULL)
		PEM_write_bio_X509(b, x);
	else
		PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(b, &p);
	s = strndup(p, (size_t)n);
	BIO_free(b);
	return s;
}

static void
test_tls_client_chain(void **state)
{
	struct srv s;
	struct amtp_wsclient *c;
	struct amtp_wsclient_dev *d;
	struct amtp_wsclient_tls tls;
	struct amtp_secret *pw = secret(PASS);
	EVP_PKEY *rk = genkey(), *lk = genkey(), *sk = genkey(), *ok = genkey();
	X509 *root, *leaf, *srvc, *other;
	char dir[] = "/tmp/amtp_wsclient_XXXXXX", chain[256], key[256], ca[256];
	char url[128], *cert_pem, *key_pem;
	long status;

	(void)state;
	assert_non_null(mkdtemp(dir));
	root = mkcert(rk, "Test Root", NULL, NULL, 1);
	leaf = mkcert(lk, "prov.example.test", root, rk, 0);
	srvc = mkcert(sk, "amt-device", NULL, NULL, 0);	/* self-signed */
	other = mkcert(ok, "Other CA", NULL, NULL, 1);
	snprintf(chain, sizeof(chain), "%s/chain.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	write_pem(chain, leaf, root, NULL);
	write_pem(key, NULL, NULL, lk);
	write_pem(ca, other, NULL, NULL);
	cert_pem = pem_str(srvc, NULL);
	key_pem = pem_str(NULL, sk);
	srv_start(&s, cert_pem, key_pem);
	url_of(&s, "https", url, sizeof(url));
	assert_int_equal(amtp_wsclient_new(NULL, &c), 0);

	/* Setup session: the device's self-signed certificate is accepted,
	 * and our leaf and root both reach the device. */
	memset(&tls, 0, sizeof(tls));
	tls.client_cert = chain;
	tls.client_key = key;
	assert_int_equal(amtp_wsclient_dev_new(c, url, &tls, "admin", pw, &d), 0);
	assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, NULL, &status), 0);
	assert_int_equal(status, 200);
	assert_int_equal(s.peer_certs, 2);
	assert_int_equal(amtp_wsclient_call(d, "<b/>", 4, NULL, &status), 0);
	assert_int_equal(s.connections, 1);
	amtp_wsclient_dev_free(d);

	/* Verification on, with a CA that did not sign the device. */
	tls.ca_file = ca;
	tls.verify_peer = 1;
	assert_int_equal(amtp_wsclient_dev_new(c, url, &tls, "admin", pw, &d), 0);
	assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, NULL, &status),
	    AMTP_E_TLS);
	amtp_wsclient_dev_free(d);

	amtp_wsclient_free(c);
	srv_stop(&s);
	unlink(chain);
	unlink(key);
	unlink(ca);
	rmdir(dir);
	free(cert_pem);
	free(key_pem);
	X509_free(root);
	X509_free(leaf);
	X509_free(srvc);
	X509_free(other);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(lk);
	EVP_PKEY_free(sk);
	EVP_PKEY_free(ok);
	amtp_secret_free(pw);
}

/*
 * A kept-alive connection dies after the device processed an authenticated
 * request (its nc recorded) and before the reply: the request goes again on
 * a new connection with the next nc, never with the same one (the device
 * would answer "replayed", a plain 401 on AMT).
 */
static void
test_dead_connection_next_nc(void **state)
{
	struct srv s;
	struct amtp_wsclient *c;
	struct amtp_wsclient_dev *d;
	struct amtp_wsclient_stats st;
	struct amtp_secret *pw = secret(PASS);
	char url[128];
	long status;
	int i;

	(void)state;
	srv_start(&s, NULL, NULL);
	s.plain_replay = 1;
	url_of(&s, "http", url, sizeof(url));
	assert_int_equal(amtp_wsclient_new(NULL, &c), 0);
	assert_int_equal(amtp_wsclient_dev_new(c, url, NULL, "admin", pw, &d), 0);
	assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, NULL, &status), 0);
	assert_int_equal(s.connections, 1);
	for (i = 0; i < 3; i++) {
		s.drop_next_ok = 1;
		assert_int_equal(amtp_wsclient_call(d, "<b/>", 4, NULL,
		    &status), 0);
		assert_int_equal(status, 200);
		assert_int_equal(s.replays, 0);
		/* libcurl's own new connection (the resend stopped before
		 * a byte is sent), then ours */
		assert_int_equal(s.connections, 1 + 2 * (i + 1));
	}
	amtp_wsclient_dev_stats(d, &st);
	assert_int_equal(st.dead_resends, 3);
	assert_int_equal(st.challenges, 1);	/* the nonce lives on */
	assert_string_equal(amtp_wsclient_dev_error(d), "");
	/* and the session goes on as before */
	assert_int_equal(amtp_wsclient_call(d, "<c/>", 4, NULL, &status), 0);
	amtp_wsclient_dev_free(d);

	/* a connection that dies after the 401: the challenge is answered
	 * on a new connection */
	s.close_on_401 = 1;
	assert_int_equal(amtp_wsclient_dev_new(c, url, NULL, "admin", pw, &d), 0);
	assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, NULL, &status), 0);
	assert_int_equal(s.replays, 0);
	amtp_wsclient_dev_free(d);

	/* nothing listens: the error text says why */
	srv_stop(&s);
	assert_int_equal(amtp_wsclient_dev_new(c, url, NULL, "admin", pw, &d), 0);
	assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, NULL, &status),
	    AMTP_E_CLOSED);
	assert_non_null(strstr(amtp_wsclient_dev_error(d), "onnect"));
	amtp_wsclient_dev_free(d);
	amtp_wsclient_free(c);
	amtp_secret_free(pw);
}

/* "sha256//<base64 of SHA-256(SubjectPublicKeyInfo DER)>" */
static void
pin_of(EVP_PKEY *k, char *dst, size_t len)
{
	unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
	unsigned char b64[64];
	int n;

	n = i2d_PUBKEY(k, &der);
	assert_true(n > 0);
	SHA256(der, (size_t)n, md);
	OPENSSL_free(der);
	assert_int_equal(EVP_EncodeBlock(b64, md, sizeof(md)), 44);
	snprintf(dst, len, "sha256//%s", b64);
}

/*
 * The chain and key as memory blobs (no files), and a server key pin
 * checked on the session itself: the right pin (also second in a list)
 * talks, a wrong one is AMTP_E_TLS with libcurl's reason, no request
 * reaches the server.
 */
static void
test_tls_blobs_and_pin(void **state)
{
	struct srv s;
	struct amtp_wsclient *c;
	struct amtp_wsclient_dev *d;
	struct amtp_wsclient_tls tls;
	struct amtp_secret *pw = secret(PASS), *kp;
	EVP_PKEY *rk = genkey(), *lk = genkey(), *sk = genkey(), *ok = genkey();
	X509 *root, *leaf, *srvc;
	char url[128], *cert_pem, *key_pem, *lpem, *rpem, *lkpem, *chain;
	char pin[80], wrong[80], two[200];
	long status;
	int before;

	(void)state;
	root = mkcert(rk, "Test Root", NULL, NULL, 1);
	leaf = mkcert(lk, "prov.example.test", root, rk, 0);
	srvc = mkcert(sk, "amt-device", NULL, NULL, 0);
	cert_pem = pem_str(srvc, NULL);
	key_pem = pem_str(NULL, sk);
	lpem = pem_str(leaf, NULL);
	rpem = pem_str(root, NULL);
	lkpem = pem_str(NULL, lk);
	assert_int_equal(asprintf(&chain, "%s%s", lpem, rpem) > 0, 1);
	assert_int_equal(amtp_secret_from_cstr(lkpem, &kp), 0);
	pin_of(sk, pin, sizeof(pin));
	pin_of(ok, wrong, sizeof(wrong));
	snprintf(two, sizeof(two), "%s;%s", wrong, pin);
	srv_start(&s, cert_pem, key_pem);
	url_of(&s, "https", url, sizeof(url));
	assert_int_equal(amtp_wsclient_new(NULL, &c), 0);

	/* blobs: the whole chain reaches the device */
	memset(&tls, 0, sizeof(tls));
	tls.client_cert_pem = chain;
	tls.client_key_pem = kp;
	tls.pin = pin;
	assert_int_equal(amtp_wsclient_dev_new(c, url, &tls, "admin", pw, &d), 0);
	assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, NULL, &status), 0);
	assert_int_equal(status, 200);
	assert_int_equal(s.peer_certs, 2);
	assert_int_equal(s.connections, 1);
	amtp_wsclient_dev_free(d);

	/* the pin second in a list, no client certificate */
	memset(&tls, 0, sizeof(tls));
	tls.pin = two;
	assert_int_equal(amtp_wsclient_dev_new(c, url, &tls, "admin", pw, &d), 0);
	assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, NULL, &status), 0);
	amtp_wsclient_dev_free(d);

	/* a wrong pin: refused before any request */
	before = s.requests;
	tls.pin = wrong;
	assert_int_equal(amtp_wsclient_dev_new(c, url, &tls, "admin", pw, &d), 0);
	assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, NULL, &status),
	    AMTP_E_TLS);
	assert_int_equal(status, 0);
	assert_int_equal(s.requests, before);
	assert_true(strlen(amtp_wsclient_dev_error(d)) > 0);
	amtp_wsclient_dev_free(d);

	/* a parsed identity shared by two devices (two TLS sessions) */
	{
		struct amtp_wsclient_ident *id = NULL;
		struct amtp_wsclient_dev *d2;
		struct amtp_secret *other = NULL;
		char *okpem = pem_str(NULL, ok), *nine;
		size_t k, nl = strlen(lpem);

		assert_int_equal(amtp_wsclient_ident_new(chain, kp, &id), 0);
		memset(&tls, 0, sizeof(tls));
		tls.ident = id;
		tls.pin = pin;
		assert_int_equal(amtp_wsclient_dev_new(c, url, &tls, "admin", pw,
		    &d), 0);
		assert_int_equal(amtp_wsclient_dev_new(c, url, &tls, "admin", pw,
		    &d2), 0);
		s.peer_certs = 0;
		assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, NULL,
		    &status), 0);
		assert_int_equal(s.peer_certs, 2);
		s.peer_certs = 0;
		assert_int_equal(amtp_wsclient_call(d2, "<a/>", 4, NULL,
		    &status), 0);
		assert_int_equal(s.peer_certs, 2);
		amtp_wsclient_dev_free(d);
		amtp_wsclient_dev_free(d2);
		amtp_wsclient_ident_free(id);
		/* refusals: no certificate, a key that is not the leaf's,
		 * no key, AMTP_MAX_CHAIN_DEPTH + 1 certificates */
		assert_int_equal(amtp_wsclient_ident_new("", kp, &id),
		    AMTP_E_PARSE);
		assert_null(id);
		assert_int_equal(amtp_secret_from_cstr(okpem, &other), 0);
		assert_int_equal(amtp_wsclient_ident_new(chain, other, &id),
		    AMTP_E_CERT);
		amtp_secret_free(other);
		assert_int_equal(amtp_secret_from_cstr("no key", &other), 0);
		assert_int_equal(amtp_wsclient_ident_new(chain, other, &id),
		    AMTP_E_PARSE);
		amtp_secret_free(other);
		nine = calloc(9, nl + 1);
		assert_non_null(nine);
		for (k = 0; k < 9; k++)
			memcpy(nine + k * nl, lpem, nl);
		assert_int_equal(amtp_wsclient_ident_new(nine, kp, &id),
		    AMTP_E_PARSE);
		nine[8 * nl] = '\0';	/* exactly 8: fine */
		assert_int_equal(amtp_wsclient_ident_new(nine, kp, &id), 0);
		amtp_wsclient_ident_free(id);
		amtp_wsclient_ident_free(NULL);
		free(nine);
		free(okpem);
	}

	/* a key blob that is no key */
	amtp_secret_free(kp);
	assert_int_equal(amtp_secret_from_cstr("not a key", &kp), 0);
	memset(&tls, 0, sizeof(tls));
	tls.client_cert_pem = chain;
	tls.client_key_pem = kp;
	assert_int_equal(amtp_wsclient_dev_new(c, url, &tls, "admin", pw, &d), 0);
	assert_int_equal(amtp_wsclient_call(d, "<a/>", 4, NULL, &status),
	    AMTP_E_TLS);
	assert_true(strlen(amtp_wsclient_dev_error(d)) > 0);
	amtp_wsclient_dev_free(d);

	amtp_wsclient_free(c);
	srv_stop(&s);
	free(cert_pem);
	free(key_pem);
	free(lpem);
	free(rpem);
	free(lkpem);
	free(chain);
	amtp_secret_free(kp);
	X509_free(root);
	X509_free(leaf);
	X509_free(srvc);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(lk);
	EVP_PKEY_free(sk);
	EVP_PKEY_free(ok);
	amtp_secret_free(pw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_dance),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_peer_quirks),
		cmocka_unit_test(test_many_devices),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_tls_client_chain),
		cmocka_unit_test(test_dead_connection_next_nc),
		cmocka_unit_test(test_tls_blobs_and_pin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
