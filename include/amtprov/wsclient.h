/*
 * amtprov - wsclient.h: the WS-Management HTTP client of the service point
 * (libcurl, multi interface), with our own Digest (digest.h).
 *
 * One struct amtp_wsclient drives many devices at once on one curl multi
 * handle (one thread, curl_multi_poll).  Each device (struct
 * amtp_wsclient_dev) has its URL, TLS settings, Digest credentials and
 * Digest state, and at most one request in flight (AMT answers one at a
 * time, and the nonce count must rise in order).  Digest is ours: the first
 * request goes without credentials; a 401 carries the challenge and the same
 * body is sent again with an Authorization header; later requests reuse the
 * nonce with nc+1 (no extra 401); stale="true" re-challenges silently.
 * Connections are kept alive and reused by libcurl.  When a kept-alive
 * connection turns out dead and libcurl would resend the request on a new
 * one, the resend is stopped and the request sent again by us with the next
 * nc, so that the device never sees a nonce count twice ("replayed").
 *
 *	c = amtp_wsclient_new(&opts);
 *	d = amtp_wsclient_dev_new(c, "https://127.20.0.1:16993/wsman", &tls, ...);
 *	amtp_wsclient_submit(d, xml, len, done_cb, job);	(async)
 *	while (amtp_wsclient_run(c, 1000) > 0) ;		(drive)
 *	amtp_wsclient_call(d, xml, len, &resp, &status);	(blocking)
 *
 * Not thread-safe: one client per thread.
 */
#ifndef AMTPROV_WSCLIENT_H
#define AMTPROV_WSCLIENT_H

#include <stddef.h>

struct amtp_buf;
struct amtp_secret;
struct amtp_wsclient;
struct amtp_wsclient_dev;

/* Client-wide settings; zero fields take the defaults from limits.h. */
struct amtp_wsclient_opts {
	long	connect_timeout_ms;	/* AMTP_WSCLIENT_CONNECT_TIMEOUT_MS */
	long	request_timeout_ms;	/* AMTP_WSCLIENT_REQUEST_TIMEOUT_MS */
	size_t	max_response;		/* AMTP_MAX_SOAP_SIZE */
	long	max_connections;	/* AMTP_WSCLIENT_MAX_CONNECTIONS */
};

/*
 * TLS for an https:// device.  client_cert: PEM file with the leaf first and
 * the rest of the chain after it (libcurl sends the whole chain); client_key:
 * its PEM key.  verify_peer 0 accepts the device's self-signed certificate
 * (AMT during setup); 1 checks it against ca_file and the host name.
 */
struct amtp_wsclient_tls {
	const char	*client_cert;
	const char	*client_key;
	const char	*ca_file;
	int		 verify_peer;
	/*
	 * Added fields (zero: unused).  The client chain and key in memory
	 * instead of files (CURLOPT_SSLCERT_BLOB / CURLOPT_SSLKEY_BLOB; copied
	 * at dev_new, the key copy wiped when the device is freed): PEM text,
	 * leaf first, the whole chain is sent.  A blob wins over the file.
	 */
	const char			*client_cert_pem;
	const struct amtp_secret	*client_key_pem;
	/*
	 * Server public-key pin(s), "sha256//<base64>[;sha256//<base64>...]"
	 * (CURLOPT_PINNEDPUBLICKEY): checked on the session itself, without
	 * verify_peer; a key that matches none fails the request with
	 * AMTP_E_TLS.
	 */
	const char			*pin;
	/*
	 * A client identity parsed once (amtp_wsclient_ident_new), borrowed:
	 * it must outlive the device.  Installed into each new TLS session
	 * through CURLOPT_SSL_CTX_FUNCTION, so the key is not decoded again
	 * for every connection (as files and blobs are).  Wins over both.
	 */
	const struct amtp_wsclient_ident	*ident;
};

struct amtp_wsclient_ident;

/*
 * Parses a client chain (PEM, leaf first, then the rest of the chain sent
 * with it) and its PEM key once, for amtp_wsclient_tls.ident.  0,
 * AMTP_E_PARSE (no certificate, no key, or more than AMTP_MAX_CHAIN_DEPTH
 * certificates), AMTP_E_CERT (the key is not the leaf's), AMTP_E_NOMEM.
 */
int amtp_wsclient_ident_new(const char *chain_pem,
    const struct amtp_secret *key_pem, struct amtp_wsclient_ident **out);
/* Frees (the key wiped by OpenSSL); NULL does nothing. */
void amtp_wsclient_ident_free(struct amtp_wsclient_ident *id);

int amtp_wsclient_new(const struct amtp_wsclient_opts *opts,
    struct amtp_wsclient **out);
/* Frees the client; every device must have been freed first. */
void amtp_wsclient_free(struct amtp_wsclient *c);

/*
 * A device at url ("http://host:16992/wsman" or "https://host:16993/wsman";
 * other schemes are refused), with tls (may be NULL for http; copied) and
 * Digest credentials (user and a copy of pw; pw may be NULL for none).
 * 0, AMTP_E_INVAL, AMTP_E_NOMEM.
 */
int amtp_wsclient_dev_new(struct amtp_wsclient *c, const char *url,
    const struct amtp_wsclient_tls *tls, const char *user,
    const struct amtp_secret *pw, struct amtp_wsclient_dev **out);
/* Frees a device; a request in flight is cancelled without its callback. */
void amtp_wsclient_dev_free(struct amtp_wsclient_dev *d);

/*
 * Replaces the credentials (the next entry of a credential list).  The last
 * challenge is kept, so the next request answers it at once.  AMTP_E_BUSY
 * while a request is in flight.
 */
int amtp_wsclient_dev_set_credentials(struct amtp_wsclient_dev *d,
    const char *user, const struct amtp_secret *pw);

/* Counters of a device, for tests and metrics. */
struct amtp_wsclient_stats {
	unsigned long	requests;	/* submitted */
	unsigned long	sends;		/* HTTP requests sent, resends included */
	unsigned long	challenges;	/* 401s with a challenge received */
	unsigned long	stale;		/* of those, stale="true" */
	long		connects;	/* new connections libcurl opened */
	unsigned long	dead_resends;	/* sent again (next nc) after a
					 * kept-alive connection died */
};
void amtp_wsclient_dev_stats(const struct amtp_wsclient_dev *d,
    struct amtp_wsclient_stats *st);

/*
 * Called once per submitted request.  result: 0 (HTTP 2xx), AMTP_E_AUTH
 * (401 after our credentials: wrong user or password), AMTP_E_HTTP (any
 * other status; body holds what the device sent, often a SOAP fault),
 * AMTP_E_TIMEOUT, AMTP_E_TLS, AMTP_E_CLOSED (connection failed or closed),
 * AMTP_E_TOOBIG (reply over max_response), AMTP_E_PROTO (401 without a
 * usable Digest challenge).  body/len: the reply body (valid during the
 * call only).  The callback may submit the device's next request.
 */
typedef void (*amtp_wsclient_cb)(void *arg, int result, long http_status,
    const char *body, size_t len);

/*
 * libcurl's error text for the device's last finished request (why a TLS
 * session or a connection failed: "SSL certificate problem ...", "... alert
 * bad certificate", "Connection refused"), "" when it succeeded or gave no
 * text.  Valid in the callback and until the next submit on d.
 */
const char *amtp_wsclient_dev_error(const struct amtp_wsclient_dev *d);

/*
 * Queues one POST of body (copied) to the device.  0, AMTP_E_BUSY (the
 * device has a request in flight), AMTP_E_TOOBIG (over AMTP_MAX_SOAP_SIZE),
 * AMTP_E_NOMEM, AMTP_E_INTERNAL (libcurl refused).
 */
int amtp_wsclient_submit(struct amtp_wsclient_dev *d, const void *body,
    size_t len, amtp_wsclient_cb cb, void *arg);

/*
 * Drives every transfer for at most timeout_ms (waiting in curl_multi_poll
 * when nothing is ready), running callbacks as requests finish.  Returns the
 * number of requests still in flight (>= 0), or AMTP_E_INTERNAL.
 */
int amtp_wsclient_run(struct amtp_wsclient *c, int timeout_ms);

/*
 * Blocking: submits body and drives the client (other devices' transfers
 * too) until this one finishes.  *resp gets the reply body (NULL on
 * transport errors), *http_status the status (0 when none).  Returns the
 * callback's result.
 */
int amtp_wsclient_call(struct amtp_wsclient_dev *d, const void *body,
    size_t len, struct amtp_buf **resp, long *http_status);

#endif
