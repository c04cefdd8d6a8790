/*
 * amtprov - site/httpd.h: the HTTPS server of the site API over
 * libmicrohttpd with GnuTLS (role site).
 *
 * One MHD daemon, poll (see httpd.c), an internal pool of worker threads
 * (site.threads), keep-alive, a connection limit, per-connection memory
 * and idle timeout.
 * For each request the wrapper finds the route, checks the declared body
 * size (Content-Length) and the caller's token *before* the body is read,
 * collects the body up to the route's limit, then calls the handler once
 * with the whole body.  Handlers fill req->status and req->json (or call
 * site_reply_*); the wrapper sends it, counts it in the metrics and frees
 * the request.  Nothing here logs a header value or a body.
 */
#ifndef SITE_HTTPD_H
#define SITE_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "site/body.h"

struct MHD_Connection;
struct amtp_store;
struct site;
struct site_httpd;

enum site_method {
	SITE_GET = 0,
	SITE_POST,
	SITE_METHOD__MAX
};

/* Who may call a route. */
enum site_auth_kind {
	SITE_AUTH_NONE = 0,	/* anyone: /healthz, /metrics */
	SITE_AUTH_ENROL,	/* Bearer <enrolment secret> */
	SITE_AUTH_AGENT,	/* Bearer <agent token> */
	SITE_AUTH_READ,		/* Bearer <admin token>, role admin or readonly */
	SITE_AUTH_WRITE,	/* Bearer <admin token>, role admin */
	SITE_AUTH__MAX
};

#define SITE_ACTOR_MAX		96
#define SITE_KIND_MAX		16

struct site_req;
typedef void (*site_handler_fn)(struct site_req *req);

struct site_route {
	enum site_method	 method;
	const char		*pattern;	/* "/api/v1/devices/{id}/cancel" */
	enum site_auth_kind	 auth;
	size_t			 body_max;	/* 0: no body allowed */
	site_handler_fn		 fn;
	const char		*name;		/* metrics label: "device_cancel" */
};

struct site_req {
	struct site		*site;
	struct MHD_Connection	*conn;
	const struct site_route	*route;
	enum site_method	 method;
	int64_t			 id;		/* {id} in the path, else 0 */
	char			 kind[SITE_KIND_MAX];	/* {kind} in the path */
	const uint8_t		*body;		/* the whole body (NUL-terminated) */
	size_t			 body_len;
	char			 peer[64];	/* caller's address, for logs */
	/* set by the authentication step */
	char			 actor[SITE_ACTOR_MAX];	/* "admin:alice", "agent:<uuid>" */
	int			 is_admin;	/* role admin (not readonly) */
	int64_t			 agent_id;	/* the agent's row */
	int64_t			 device_id;	/* the agent's device, 0 none */
	/* the answer */
	int			 status;
	json_t			*json;		/* owned */
	char			*text;		/* owned (malloc), when not json */
	const char		*ctype;		/* for text */
	int			 sensitive;	/* wipe the answer after sending */
	/* internal */
	struct amtp_buf		*buf;
	int			 responded;
	int			 overflow;
	size_t			 dropped;	/* body bytes past the limit */
	uint64_t		 t0_ns;
};

/* The routes of the API (site/routes.c), terminated by a NULL pattern. */
extern const struct site_route site_routes[];

/*
 * Starts the daemon for s on the listen address of s->conf, with the
 * certificate and key PEM texts (copied).  0 or AMTP_E_CONFIG/AMTP_E_IO
 * (logged).
 */
int site_httpd_start(struct site *s, const char *cert_pem,
    const char *key_pem, struct site_httpd **out);
/* Stops the daemon (waits for the workers) and frees h; NULL is a no-op. */
void site_httpd_stop(struct site_httpd *h);
/* The port the daemon listens on (useful with port 0). */
unsigned site_httpd_port(const struct site_httpd *h);

/*
 * Matches method and path against routes: 0 and *route set, with the path
 * parameters stored in req (id, kind); AMTP_E_NOTFOUND (no such path) or
 * AMTP_E_DENIED (path known, method not allowed).
 */
int site_route_match(const struct site_route *routes, enum site_method m,
    const char *path, const struct site_route **route, struct site_req *req);

/* Wipes every string value in j, nested ones too (a sensitive answer's
 * password or token, before the answer is freed); NULL is a no-op. */
void site_json_wipe(json_t *j);
/* Answers: set status and body (takes the reference of j; j NULL is a 500). */
void site_reply_json(struct site_req *req, int status, json_t *j);
void site_reply_err(struct site_req *req, const struct site_err *e);
void site_reply_errf(struct site_req *req, int status, const char *code,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* A store failure: 404 for NOTFOUND, 409 for CONFLICT/STATE/EXISTS, 503 for
 * BUSY, else 500; what names the operation in the log line. */
void site_reply_store_err(struct site_req *req, int r, const char *what);
/* text is taken (malloc'ed). */
void site_reply_text(struct site_req *req, int status, const char *ctype,
    char *text);

/* A query argument of the request (NULL when absent). */
const char *site_req_arg(struct site_req *req, const char *name);

/* Borrows a store connection for the current callback. */
struct amtp_store *site_req_store(struct site_req *req);
void site_req_store_put(struct site_req *req, struct amtp_store *st);

/* Monotonic nanoseconds. */
uint64_t site_now_ns(void);

#endif
