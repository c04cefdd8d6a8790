/*
 * amtprov - site/httpd.c: libmicrohttpd wrapper of the site API (role
 * site).  See httpd.h for the request life cycle.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "amtprov/buf.h"
#include "amtprov/conf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/str.h"

#include "config.h"
#include "site/access.h"
#include "site/httpd.h"
#include "site/metrics.h"
#include "site/pool.h"
#include "site/site.h"
#include "store/store.h"

struct site_httpd {
	struct MHD_Daemon	*d;
	struct site		*site;
	char			*cert;
	char			*key;		/* wiped on stop */
	size_t			 keylen;
	unsigned		 port;
};

static const char *const method_names[SITE_METHOD__MAX] = { "GET", "POST" };

uint64_t
site_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Path parameter: "{id}" a decimal 1..INT64_MAX, "{kind}" a short word. */
static int
match_param(const char *pat, size_t plen, const char *seg, size_t slen,
    struct site_req *req)
{
	char tmp[AMTP_INT_TEXT_MAX + 1];
	long long v;
	size_t i;

	if (plen == 4 && memcmp(pat, "{id}", 4) == 0) {
		if (slen == 0 || slen > AMTP_INT_TEXT_MAX || seg[0] == '-')
			return 0;
		memcpy(tmp, seg, slen);
		tmp[slen] = '\0';
		if (amtp_parse_int(tmp, 1, INT64_MAX, &v) != 0)
			return 0;
		if (req != NULL)
			req->id = v;
		return 1;
	}
	if (plen == 6 && memcmp(pat, "{kind}", 6) == 0) {
		if (slen == 0 || slen >= SITE_KIND_MAX)
			return 0;
		for (i = 0; i < slen; i++)
			if (!((seg[i] >= 'a' && seg[i] <= 'z') ||
			    seg[i] == '_'))
				return 0;
		if (req != NULL) {
			memcpy(req->kind, seg, slen);
			req->kind[slen] = '\0';
		}
		return 1;
	}
	return plen == slen && memcmp(pat, seg, slen) == 0;
}

static int
path_matches(const char *pattern, const char *path, struct site_req *req)
{
	const char *p = pattern, *s = path;

	for (;;) {
		const char *pe, *se;

		if (*p != '/' || *s != '/')
			return 0;
		p++;
		s++;
		pe = strchrnul(p, '/');
		se = strchrnul(s, '/');
		if (!match_param(p, (size_t)(pe - p), s, (size_t)(se - s), req))
			return 0;
		p = pe;
		s = se;
		if (*p == '\0' || *s == '\0')
			return *p == '\0' && *s == '\0';
	}
}

int
site_route_match(const struct site_route *routes, enum site_method m,
    const char *path, const struct site_route **route, struct site_req *req)
{
	size_t i;
	int seen = 0;

	*route = NULL;
	for (i = 0; routes[i].pattern != NULL; i++) {
		if (!path_matches(routes[i].pattern, path, NULL))
			continue;
		if (routes[i].method != m) {
			seen = 1;
			continue;
		}
		path_matches(routes[i].pattern, path, req);
		*route = &routes[i];
		return 0;
	}
	return seen ? AMTP_E_DENIED : AMTP_E_NOTFOUND;
}

void
site_json_wipe(json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_string(j))
		explicit_bzero((char *)(uintptr_t)json_string_value(j),
		    json_string_length(j));
	else if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			site_json_wipe(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			site_json_wipe(v);
	}
}

void
site_reply_json(struct site_req *req, int status, json_t *j)
{
	json_decref(req->json);
	req->json = j;
	req->status = j != NULL ? status : 500;
}

void
site_reply_err(struct site_req *req, const struct site_err *e)
{
	site_reply_json(req, e->status, site_err_json(e));
}

void
site_reply_errf(struct site_req *req, int status, const char *code,
    const char *field, const char *fmt, ...)
{
	struct site_err e;
	va_list ap;

	memset(&e, 0, sizeof(e));
	e.status = status;
	amtp_strlcpy(e.code, code, sizeof(e.code));
	amtp_strlcpy(e.field, field != NULL ? field : "", sizeof(e.field));
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	site_reply_err(req, &e);
}

void
site_reply_store_err(struct site_req *req, int r, const char *what)
{
	switch (r) {
	case AMTP_E_NOTFOUND:
		site_reply_errf(req, 404, "not_found", NULL, "%s: not found",
		    what);
		break;
	case AMTP_E_CONFLICT:
	case AMTP_E_STATE:
	case AMTP_E_EXISTS:
		site_reply_errf(req, 409, "conflict", NULL, "%s: %s", what,
		    amtp_strerror(r));
		break;
	case AMTP_E_BUSY:
		log_warn_r(r, "%s: %s", req->peer, what);
		site_reply_errf(req, 503, "busy", NULL,
		    "database busy, try again");
		break;
	default:
		log_warn_r(r, "%s: %s", req->peer, what);
		site_reply_errf(req, 500, "internal", NULL,
		    "internal error (%s)", amtp_errname(r));
		break;
	}
}

void
site_reply_text(struct site_req *req, int status, const char *ctype,
    char *text)
{
	free(req->text);
	req->text = text;
	req->ctype = ctype;
	req->status = text != NULL ? status : 500;
}

const char *
site_req_arg(struct site_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
	    name);
}

struct amtp_store *
site_req_store(struct site_req *req)
{
	return site_pool_get(req->site->pool);
}

void
site_req_store_put(struct site_req *req, struct amtp_store *st)
{
	site_pool_put(req->site->pool, st);
}

static void
wipe_free(void *p)
{
	if (p != NULL) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}

/* Sends what the handler left in req. */
static enum MHD_Result
send_reply(struct site_req *req)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	const char *ctype;
	char *txt;

	if (req->json == NULL && req->text == NULL)
		site_reply_errf(req, 500, "internal", NULL,
		    "no answer produced");
	if (req->text != NULL) {
		txt = req->text;
		req->text = NULL;
		ctype = req->ctype;
	} else {
		txt = json_dumps(req->json, JSON_COMPACT);
		ctype = "application/json";
		if (txt == NULL)
			return MHD_NO;
	}
	resp = MHD_create_response_from_buffer_with_free_callback(strlen(txt),
	    txt, req->sensitive ? wipe_free : free);
	if (resp == NULL) {
		wipe_free(txt);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	if (req->status == 401)
		MHD_add_response_header(resp,
		    MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"amtprov\"");
	ret = MHD_queue_response(req->conn, (unsigned)req->status, resp);
	MHD_destroy_response(resp);
	req->responded = 1;
	return ret;
}

static void
peer_name(struct MHD_Connection *c, char *dst, size_t dstsz)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	char a[INET6_ADDRSTRLEN] = "?";

	dst[0] = '\0';
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL) {
		amtp_strlcpy(dst, "?", dstsz);
		return;
	}
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(dst, dstsz, "%s:%u", a, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(dst, dstsz, "[%s]:%u", a, ntohs(in6->sin6_port));
	} else
		amtp_strlcpy(dst, "?", dstsz);
}

/* First call of a request: route, size and authentication, before any
 * byte of the body is read.  Returns 1 when an answer is ready. */
static int
request_begin(struct site_req *req, const char *url, const char *method)
{
	const char *cl, *authz;
	long long n = 0;
	int r;

	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		req->method = SITE_GET;
	else if (strcmp(method, "POST") == 0)
		req->method = SITE_POST;
	else {
		site_reply_errf(req, 405, "method_not_allowed", NULL,
		    "only GET and POST are served");
		return 1;
	}
	if (strnlen(url, AMTP_SITE_URL_MAX + 1) > AMTP_SITE_URL_MAX) {
		site_reply_errf(req, 414, "uri_too_long", NULL,
		    "request path longer than %d bytes", AMTP_SITE_URL_MAX);
		return 1;
	}
	if ((r = site_route_match(site_routes, req->method, url, &req->route,
	    req)) != 0) {
		if (r == AMTP_E_DENIED)
			site_reply_errf(req, 405, "method_not_allowed", NULL,
			    "%s is not allowed on this path",
			    method_names[req->method]);
		else
			site_reply_errf(req, 404, "not_found", NULL,
			    "no such endpoint");
		return 1;
	}
	cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && (amtp_parse_int(cl, 0, INT64_MAX, &n) != 0 ||
	    (size_t)n > req->route->body_max)) {
		if (req->route->body_max == 0 && n > 0)
			site_reply_errf(req, 413, "body_not_allowed", NULL,
			    "this endpoint takes no request body");
		else
			site_reply_errf(req, 413, "body_too_large", NULL,
			    "request body is larger than %zu bytes",
			    req->route->body_max);
		return 1;
	}
	authz = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (site_access_check(req, authz) != 0)
		return 1;	/* the answer is set */
	if (req->route->body_max > 0 &&
	    (req->buf = amtp_buf_new(req->route->body_max)) == NULL) {
		site_reply_errf(req, 500, "internal", NULL, "out of memory");
		return 1;
	}
	return 0;
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct site_httpd *h = cls;
	struct site_req *req = *con_cls;

	(void)version;
	if (req == NULL) {
		if ((req = calloc(1, sizeof(*req))) == NULL)
			return MHD_NO;
		req->t0_ns = site_now_ns();
		req->site = h->site;
		req->conn = c;
		peer_name(c, req->peer, sizeof(req->peer));
		*con_cls = req;
		if (request_begin(req, url, method))
			return send_reply(req);
		return MHD_YES;
	}
	if (req->responded) {
		*upload_size = 0;	/* answered early: drop the rest */
		return MHD_YES;
	}
	if (*upload_size > 0) {
		/*
		 * A chunked body past its limit: MHD cannot answer before the
		 * body has been read, so drop the rest and answer 413 at the
		 * end; past AMTP_SITE_BODY_DISCARD_MAX, close the connection.
		 */
		if (!req->overflow && (req->buf == NULL ||
		    amtp_buf_put(req->buf, upload, *upload_size) != 0))
			req->overflow = 1;
		if (req->overflow) {
			req->dropped += *upload_size;
			if (req->dropped > AMTP_SITE_BODY_DISCARD_MAX) {
				log_info("%s: %s: body far over its limit, "
				    "connection closed", req->peer,
				    req->route->name);
				req->status = 413;
				return MHD_NO;
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (req->overflow) {
		site_reply_errf(req, 413, "body_too_large", NULL,
		    "request body is larger than %zu bytes",
		    req->route->body_max);
		return send_reply(req);
	}
	if (req->buf != NULL) {
		req->body = amtp_buf_ptr(req->buf);
		req->body_len = amtp_buf_len(req->buf);
	} else {
		req->body = (const uint8_t *)"";
		req->body_len = 0;
	}
	req->route->fn(req);
	return send_reply(req);
}

static void
completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct site_httpd *h = cls;
	struct site_req *req = *con_cls;
	uint64_t dt;

	(void)c;
	if (req == NULL)
		return;
	dt = site_now_ns() - req->t0_ns;
	site_metrics_http(h->site->metrics, req->route != NULL ?
	    req->route->name : "unknown", req->status, dt);
	if (amtp_log_level() >= AMTP_LOG_DEBUG)
		log_debug("%s: %s %s -> %d in %.1f ms%s", req->peer,
		    method_names[req->method], req->route != NULL ?
		    req->route->name : "unknown", req->status, dt / 1e6,
		    toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" :
		    " (not completed)");
	if (req->sensitive)
		site_json_wipe(req->json);	/* a password or a token */
	json_decref(req->json);
	free(req->text);
	amtp_buf_free(req->buf);
	free(req);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[AMTP_LOG_LINE_MAX];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	log_debug("httpd: %s", line);
}

int
site_httpd_start(struct site *s, const char *cert_pem, const char *key_pem,
    struct site_httpd **out)
{
	struct site_httpd *h = NULL;
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *di;
	socklen_t sl;
	const char *listen;
	long long threads, maxconn, timeout;
	int r;

	*out = NULL;
	listen = amtp_conf_str(s->conf, "site", "listen");
	if (listen == NULL ||
	    (r = amtpd_config_parse_listen(listen, &ss, &sl)) != 0) {
		log_errx("site.listen: not ADDRESS:PORT");
		return AMTP_E_CONFIG;
	}
	threads = amtp_conf_int(s->conf, "site", "threads");
	maxconn = amtp_conf_int(s->conf, "site", "max_connections");
	timeout = amtp_conf_int(s->conf, "site", "connection_timeout");
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return AMTP_E_NOMEM;
	h->site = s;
	h->keylen = strlen(key_pem);
	if ((h->cert = strdup(cert_pem)) == NULL ||
	    (h->key = strdup(key_pem)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	/*
	 * poll, not epoll: libmicrohttpd 0.9.75's epoll loop calls
	 * gnutls_handshake() again for every connection still in its TLS
	 * handshake at each wake-up of its thread, and GnuTLS rehashes the
	 * transcript on each call.  In a burst of 1,000 agents that was
	 * about 400 calls per connection and half the site's CPU; with poll
	 * it is one or two (bench/site_load.sh, docs/configuration.md).
	 */
	h->d = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_TLS |
	    MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	    0, NULL, NULL, access_cb, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_HTTPS_MEM_CERT, h->cert,
	    MHD_OPTION_HTTPS_MEM_KEY, h->key,
	    MHD_OPTION_HTTPS_PRIORITIES,
	    amtp_conf_str(s->conf, "site", "tls_priorities"),
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)maxconn,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)AMTP_SITE_CONN_MEMORY,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)AMTP_SITE_LISTEN_BACKLOG,
	    MHD_OPTION_NOTIFY_COMPLETED, completed_cb, h,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		log_errx("site: cannot start the HTTPS API on %s (address in "
		    "use, bad TLS certificate or key, or bad "
		    "site.tls_priorities)", listen);
		r = AMTP_E_IO;
		goto out;
	}
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di != NULL ? di->port : 0;
	*out = h;
	h = NULL;
	r = 0;
 out:
	site_httpd_stop(h);
	return r;
}

void
site_httpd_stop(struct site_httpd *h)
{
	if (h == NULL)
		return;
	if (h->d != NULL)
		MHD_stop_daemon(h->d);
	free(h->cert);
	if (h->key != NULL) {
		explicit_bzero(h->key, h->keylen);
		free(h->key);
	}
	free(h);
}

unsigned
site_httpd_port(const struct site_httpd *h)
{
	return h->port;
}
