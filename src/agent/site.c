/*
 * amtprov - site.c: the agent's client of the site API (program
 * amtprov-agent).  See site.h.  libcurl's easy interface moves the bytes;
 * jansson builds the requests and parses the answers, which are checked
 * member by member before anything uses them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "agent.h"
#include "amt.h"
#include "site.h"

#define BEARER_PREFIX	"Authorization: Bearer "
/* Longest text of the site's error message we repeat to the user. */
#define SITE_MSG_MAX	200

struct agent_site {
	char	url[AMTP_AGENT_URL_MAX + 1];
	char	ca_file[AMTP_AGENT_PATH_MAX + 1];
	int	retries;
	int	retry_delay_ms;
	int	connect_timeout;
	int	request_timeout;
	int	attempts;
};

static const char *const call_names[AGENT_CALL__MAX] = {
	"register", "policy", "otp", "state"
};

void
agent_answer_wipe(struct agent_answer *a)
{
	explicit_bzero(a, sizeof(*a));
}

/* ------------------------------------------------------------------ */
/* Parsing answers                                                      */
/* ------------------------------------------------------------------ */

/* Nesting depth of JSON text, counted outside strings; stops early once
 * past limit (jansson recurses, so the depth is bounded first). */
static size_t
json_depth(const char *p, size_t len, size_t limit)
{
	size_t i, depth = 0, deepest = 0;
	int instr = 0, esc = 0;

	for (i = 0; i < len; i++) {
		if (instr) {
			if (esc)
				esc = 0;
			else if (p[i] == '\\')
				esc = 1;
			else if (p[i] == '"')
				instr = 0;
			continue;
		}
		if (p[i] == '"')
			instr = 1;
		else if (p[i] == '{' || p[i] == '[') {
			if (++depth > deepest)
				deepest = depth;
			if (deepest > limit)
				break;
		} else if ((p[i] == '}' || p[i] == ']') && depth > 0)
			depth--;
	}
	return deepest;
}

/* Copies untrusted text for a message: printable ASCII, others as '?',
 * at most SITE_MSG_MAX characters. */
static void
clean_copy(char *dst, size_t dstsz, const char *src)
{
	size_t i, n = 0;

	for (i = 0; src[i] != '\0' && n + 1 < dstsz && i < SITE_MSG_MAX; i++)
		dst[n++] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[n] = '\0';
}

static int
bad(struct agent_err *e, enum agent_call call, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
bad(struct agent_err *e, enum agent_call call, int r, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return agent_err_set(e, r, AGENT_EXIT_SITE_REFUSED, "site_bad_answer",
	    "site: unusable answer to %s: %s", call_names[call], what);
}

/* A string member: required or not, min..max bytes, no control bytes. */
static int
get_str(json_t *o, const char *name, int required, size_t min, size_t max,
    char *dst, size_t dstsz, enum agent_call call, struct agent_err *e)
{
	json_t *v = json_object_get(o, name);
	const char *s;
	size_t len, i;

	dst[0] = '\0';
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return 0;
		return bad(e, call, AMTP_E_PARSE, "\"%s\" is missing", name);
	}
	if (!json_is_string(v))
		return bad(e, call, AMTP_E_PARSE, "\"%s\" is not a string",
		    name);
	s = json_string_value(v);
	len = json_string_length(v);
	if (len < min || len > max || len >= dstsz)
		return bad(e, call, AMTP_E_PARSE, "\"%s\" has %zu bytes "
		    "(%zu to %zu expected)", name, len, min, max);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return bad(e, call, AMTP_E_PARSE, "\"%s\" holds a "
			    "control character or NUL", name);
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

/* An integer member in min..max; nullable: null (or absent) gives 0. */
static int
get_int(json_t *o, const char *name, int nullable, int64_t min, int64_t max,
    int64_t *out, enum agent_call call, struct agent_err *e)
{
	json_t *v = json_object_get(o, name);

	*out = 0;
	if (v == NULL || json_is_null(v)) {
		if (nullable)
			return 0;
		return bad(e, call, AMTP_E_PARSE, "\"%s\" is missing", name);
	}
	if (!json_is_integer(v))
		return bad(e, call, AMTP_E_PARSE, "\"%s\" is not an integer",
		    name);
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return bad(e, call, AMTP_E_PARSE, "\"%s\" is out of range",
		    name);
	*out = json_integer_value(v);
	return 0;
}

static int
get_bool(json_t *o, const char *name, int required, int *out,
    enum agent_call call, struct agent_err *e)
{
	json_t *v = json_object_get(o, name);

	*out = 0;
	if (v == NULL) {
		if (!required)
			return 0;
		return bad(e, call, AMTP_E_PARSE, "\"%s\" is missing", name);
	}
	if (!json_is_boolean(v))
		return bad(e, call, AMTP_E_PARSE, "\"%s\" is not true or false",
		    name);
	*out = json_is_true(v);
	return 0;
}

/* RFC 6750 b64token characters: what an Authorization header can carry. */
static int
is_token(const char *s)
{
	size_t i;

	if (*s == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || strchr("-._~+/=",
		    s[i]) != NULL))
			return 0;
	return 1;
}

/* The answer to otp and state: the device, its status and the job. */
static int
parse_job(enum agent_call call, json_t *o, struct agent_answer *a,
    struct agent_err *e)
{
	int r;

	if ((r = get_int(o, "device_id", 0, 1, INT64_MAX, &a->device_id,
	    call, e)) != 0 ||
	    (r = get_str(o, "status", 1, 1, AGENT_STATUS_NAME_MAX, a->status,
	    sizeof(a->status), call, e)) != 0 ||
	    (r = get_int(o, "job_id", 1, 1, INT64_MAX, &a->job_id, call,
	    e)) != 0)
		return r;
	return 0;
}

static int
parse_ok(enum agent_call call, json_t *o, struct agent_answer *a,
    struct agent_err *e)
{
	int r;

	switch (call) {
	case AGENT_CALL_REGISTER:
		if ((r = get_str(o, "agent_id", 1, 1, AGENT_UUID_LEN,
		    a->agent_id, sizeof(a->agent_id), call, e)) != 0 ||
		    (r = get_int(o, "device_id", 0, 1, INT64_MAX,
		    &a->device_id, call, e)) != 0 ||
		    (r = get_str(o, "agent_token", 1, 1,
		    AMTP_AGENT_TOKEN_FILE_MAX, a->token, sizeof(a->token), call,
		    e)) != 0 ||
		    (r = get_bool(o, "new_device", 0, &a->new_device, call,
		    e)) != 0)
			return r;
		if (!agent_is_uuid(a->agent_id))
			return bad(e, call, AMTP_E_PARSE,
			    "\"agent_id\" is not a UUID");
		if (!is_token(a->token))
			return bad(e, call, AMTP_E_PARSE, "\"agent_token\" "
			    "holds characters a Bearer token cannot have");
		return 0;
	case AGENT_CALL_POLICY:
		if ((r = get_bool(o, "provision", 1, &a->provision, call,
		    e)) != 0 ||
		    (r = get_str(o, "reason", 0, 0, AGENT_REASON_MAX,
		    a->reason, sizeof(a->reason), call, e)) != 0 ||
		    (r = get_int(o, "device_id", 0, 1, INT64_MAX,
		    &a->device_id, call, e)) != 0 ||
		    (r = get_str(o, "status", 1, 1, AGENT_STATUS_NAME_MAX,
		    a->status, sizeof(a->status), call, e)) != 0 ||
		    (r = get_str(o, "dns_domain", 0, 0, AMTP_DNS_NAME_MAX,
		    a->dns_domain, sizeof(a->dns_domain), call, e)) != 0)
			return r;
		return 0;
	case AGENT_CALL_OTP:
		if ((r = get_bool(o, "otp_recorded", 1, &a->otp_recorded,
		    call, e)) != 0)
			return r;
		if (!a->otp_recorded)
			return bad(e, call, AMTP_E_PARSE,
			    "the site did not record the OTP hash");
		return parse_job(call, o, a, e);
	case AGENT_CALL_STATE:
		return parse_job(call, o, a, e);
	default:
		return agent_err_set(e, AMTP_E_INVAL, AGENT_EXIT_INTERNAL,
		    "internal", "unknown site call %d", (int)call);
	}
}

/* The site's error object, for the message; anything else is ignored. */
static void
error_text(const void *data, size_t len, char *code, size_t codesz,
    char *text, size_t textsz)
{
	json_t *o, *v;
	char field[64];

	code[0] = text[0] = field[0] = '\0';
	if (len == 0 || len > AMTP_AGENT_RESPONSE_MAX ||
	    json_depth(data, len, AMTP_AGENT_JSON_DEPTH_MAX) >
	    AMTP_AGENT_JSON_DEPTH_MAX)
		return;
	if ((o = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return;
	if (json_is_object(o)) {
		if ((v = json_object_get(o, "error")) != NULL &&
		    json_is_string(v))
			clean_copy(code, codesz, json_string_value(v));
		if ((v = json_object_get(o, "field")) != NULL &&
		    json_is_string(v))
			clean_copy(field, sizeof(field), json_string_value(v));
		if ((v = json_object_get(o, "message")) != NULL &&
		    json_is_string(v))
			clean_copy(text, textsz, json_string_value(v));
		if (text[0] == '\0' && field[0] != '\0')
			snprintf(text, textsz, "field %s", field);
	}
	json_decref(o);
}

int
agent_site_parse(enum agent_call call, long http_status, const void *data,
    size_t len, struct agent_answer *out, struct agent_err *e)
{
	json_error_t jerr;
	json_t *o = NULL, *v;
	char code[64], text[SITE_MSG_MAX + 1];
	int r;

	memset(out, 0, sizeof(*out));
	out->call = call;
	if ((unsigned)call >= AGENT_CALL__MAX)
		return agent_err_set(e, AMTP_E_INVAL, AGENT_EXIT_INTERNAL,
		    "internal", "unknown site call %d", (int)call);
	if (http_status < 200 || http_status > 299) {
		error_text(data, len, code, sizeof(code), text, sizeof(text));
		if (http_status == 401)
			return agent_err_set(e, AMTP_E_AUTH,
			    AGENT_EXIT_SITE_REFUSED, "site_auth",
			    "site: %s refused (HTTP 401): %s", call_names[call],
			    text[0] != '\0' ? text : "not authorised");
		if (http_status == 409 && strcmp(code, "not_registered") == 0)
			return agent_err_set(e, AMTP_E_STATE,
			    AGENT_EXIT_SITE_REFUSED, "site_not_registered",
			    "site: %s refused: %s", call_names[call], text);
		if (http_status >= 400 && http_status <= 499)
			return agent_err_set(e, AMTP_E_DENIED,
			    AGENT_EXIT_SITE_REFUSED, "site_refused",
			    "site: %s refused (HTTP %ld%s%s): %s",
			    call_names[call], http_status,
			    code[0] != '\0' ? " " : "", code,
			    text[0] != '\0' ? text : "no reason given");
		if (http_status >= 500 && http_status <= 599)
			return agent_err_set(e, AMTP_E_AGAIN,
			    AGENT_EXIT_SITE_DOWN, "site_error",
			    "site: %s failed (HTTP %ld%s%s): %s",
			    call_names[call], http_status,
			    code[0] != '\0' ? " " : "", code,
			    text[0] != '\0' ? text : "server error");
		return bad(e, call, AMTP_E_PROTO, "unexpected HTTP status %ld",
		    http_status);
	}
	if (len > AMTP_AGENT_RESPONSE_MAX) {
		r = bad(e, call, AMTP_E_TOOBIG, "larger than %d bytes",
		    AMTP_AGENT_RESPONSE_MAX);
		goto out;
	}
	if (len == 0) {
		r = bad(e, call, AMTP_E_PARSE, "empty body");
		goto out;
	}
	if (json_depth(data, len, AMTP_AGENT_JSON_DEPTH_MAX) >
	    AMTP_AGENT_JSON_DEPTH_MAX) {
		r = bad(e, call, AMTP_E_DEPTH, "JSON nested deeper than %d",
		    AMTP_AGENT_JSON_DEPTH_MAX);
		goto out;
	}
	if ((o = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		clean_copy(text, sizeof(text), jerr.text);
		r = bad(e, call, AMTP_E_JSON, "malformed JSON at line %d "
		    "column %d: %s", jerr.line, jerr.column, text);
		goto out;
	}
	if (!json_is_object(o)) {
		r = bad(e, call, AMTP_E_PARSE, "not a JSON object");
		goto out;
	}
	if ((r = parse_ok(call, o, out, e)) != 0)
		goto out;
	r = 0;
 out:
	if ((v = json_object_get(o, "agent_token")) != NULL &&
	    json_is_string(v))	/* the tree's copy of the token */
		explicit_bzero((char *)(uintptr_t)json_string_value(v),
		    json_string_length(v));
	json_decref(o);
	if (r != 0) {
		agent_answer_wipe(out);
		out->call = call;
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* Transport                                                            */
/* ------------------------------------------------------------------ */

int
agent_site_new(const struct agent_site_cfg *cfg, struct agent_site **out,
    struct agent_err *e)
{
	struct agent_site *s = NULL;
	FILE *f;
	int r;

	*out = NULL;
	if (cfg->url == NULL || strncmp(cfg->url, "https://", 8) != 0 ||
	    cfg->url[8] == '\0') {
		r = agent_err_set(e, AMTP_E_CONFIG, AGENT_EXIT_USAGE,
		    "usage", "site URL must start with https:// (got \"%s\")",
		    cfg->url != NULL ? cfg->url : "");
		goto out;
	}
	if (strlen(cfg->url) > AMTP_AGENT_URL_MAX) {
		r = agent_err_set(e, AMTP_E_CONFIG, AGENT_EXIT_USAGE, "usage",
		    "site URL longer than %d bytes", AMTP_AGENT_URL_MAX);
		goto out;
	}
	if (cfg->ca_file == NULL || cfg->ca_file[0] == '\0') {
		r = agent_err_set(e, AMTP_E_CONFIG, AGENT_EXIT_USAGE, "usage",
		    "no CA file for the site (--ca or ca_file): the site's "
		    "certificate authority must be pinned");
		goto out;
	}
	if (strlen(cfg->ca_file) > AMTP_AGENT_PATH_MAX) {
		r = agent_err_set(e, AMTP_E_CONFIG, AGENT_EXIT_USAGE, "usage",
		    "CA file path too long");
		goto out;
	}
	if ((f = fopen(cfg->ca_file, "r")) == NULL) {
		r = agent_err_set(e, AMTP_E_CONFIG, AGENT_EXIT_USAGE, "usage",
		    "%s: cannot read the site CA file: %s", cfg->ca_file,
		    strerror(errno));
		goto out;
	}
	fclose(f);
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		r = agent_err_set(e, AMTP_E_NOMEM, AGENT_EXIT_INTERNAL,
		    "internal", "out of memory");
		goto out;
	}
	amtp_strlcpy(s->url, cfg->url, sizeof(s->url));
	/* "https://site:8443/" and "https://site:8443" are the same site */
	if (s->url[strlen(s->url) - 1] == '/')
		s->url[strlen(s->url) - 1] = '\0';
	amtp_strlcpy(s->ca_file, cfg->ca_file, sizeof(s->ca_file));
	s->retries = cfg->retries < 0 ? 0 : cfg->retries;
	s->retry_delay_ms = cfg->retry_delay_ms;
	s->connect_timeout = cfg->connect_timeout > 0 ? cfg->connect_timeout :
	    AMTP_AGENT_CONNECT_TIMEOUT;
	s->request_timeout = cfg->request_timeout > 0 ? cfg->request_timeout :
	    AMTP_AGENT_REQUEST_TIMEOUT;
	*out = s;
	s = NULL;
	r = 0;
 out:
	free(s);
	return r;
}

void
agent_site_free(struct agent_site *s)
{
	free(s);
}

int
agent_site_attempts(const struct agent_site *s)
{
	return s->attempts;
}

/* The body collector: refuses to grow past its buffer's maximum. */
struct sink {
	struct amtp_buf	*b;
	int		 toobig;
};

static size_t
sink_write(char *p, size_t size, size_t n, void *arg)
{
	struct sink *k = arg;

	if (n != 0 && size > SIZE_MAX / n)
		return 0;
	if (amtp_buf_put(k->b, p, size * n) != 0) {
		k->toobig = 1;
		return 0;	/* makes curl stop with CURLE_WRITE_ERROR */
	}
	return size * n;
}

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Errors where the site may come back: try again. */
static int
is_transient(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PARTIAL_FILE:
		return 1;
	default:
		return 0;
	}
}

/* Errors that say the site is not the one whose CA we pinned. */
static int
is_trust(CURLcode c)
{
	return c == CURLE_PEER_FAILED_VERIFICATION ||
	    c == CURLE_SSL_CACERT_BADFILE || c == CURLE_SSL_CERTPROBLEM ||
	    c == CURLE_SSL_ISSUER_ERROR || c == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

/*
 * One HTTP exchange: sets every option (TLS pinned, bounded), performs it,
 * and gives the status and the body.  Returns the curl code.
 */
static CURLcode
perform(struct agent_site *s, const char *method, const char *path,
    const struct amtp_secret *secret, const char *body, struct sink *k,
    long *status, char *cerr)
{
	CURL *c = NULL;
	struct curl_slist *hdrs = NULL, *tmp;
	char url[AMTP_AGENT_URL_MAX + 64];
	struct amtp_buf *auth = NULL;
	CURLcode cc = CURLE_OUT_OF_MEMORY;

	*status = 0;
	cerr[0] = '\0';
	if ((size_t)snprintf(url, sizeof(url), "%s%s", s->url, path) >=
	    sizeof(url))
		return CURLE_URL_MALFORMAT;
	if ((c = curl_easy_init()) == NULL)
		goto out;
	if ((auth = amtp_buf_new(sizeof(BEARER_PREFIX) +
	    AMTP_SECRET_MAX)) == NULL ||
	    amtp_buf_put_cstring(auth, BEARER_PREFIX) != 0 ||
	    amtp_buf_put(auth, amtp_secret_reveal(secret),
	    amtp_secret_len(secret)) != 0)
		goto out;
	/* XXX curl keeps its own copy of this header and frees it without
	 * wiping; the token stays in freed heap until reused. */
	if ((tmp = curl_slist_append(hdrs, amtp_buf_str(auth))) == NULL)
		goto out;
	hdrs = tmp;
	if ((tmp = curl_slist_append(hdrs, "Accept: application/json")) ==
	    NULL)
		goto out;
	hdrs = tmp;
	if (body != NULL) {
		if ((tmp = curl_slist_append(hdrs,
		    "Content-Type: application/json")) == NULL)
			goto out;
		hdrs = tmp;
	}
	if ((cc = curl_easy_setopt(c, CURLOPT_URL, url)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https")) !=
	    CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file)) !=
	    CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_CAPATH, NULL)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L)) !=
	    CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L)) !=
	    CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L)) !=
	    CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
	    (long)s->connect_timeout)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_TIMEOUT,
	    (long)s->request_timeout)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)AMTP_AGENT_RESPONSE_MAX)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs)) !=
	    CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_USERAGENT,
	    "amtprov-agent/" AMTP_VERSION)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write)) !=
	    CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_WRITEDATA, k)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr)) != CURLE_OK)
		goto out;
	if (body != NULL) {
		if ((cc = curl_easy_setopt(c, CURLOPT_POSTFIELDS, body)) !=
		    CURLE_OK ||
		    (cc = curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(body))) != CURLE_OK)
			goto out;
	} else if ((cc = curl_easy_setopt(c, CURLOPT_HTTPGET, 1L)) != CURLE_OK)
		goto out;
	log_debug("%s %s", method, url);
	if ((cc = curl_easy_perform(c)) != CURLE_OK)
		goto out;
	if ((cc = curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status)) !=
	    CURLE_OK)
		goto out;
	cc = CURLE_OK;
 out:
	if (c != NULL)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	amtp_buf_free(auth);	/* wiped */
	return cc;
}

/* An exchange with retries while the site is down, then the parse. */
static int
request(struct agent_site *s, enum agent_call call, const char *method,
    const char *path, const struct amtp_secret *secret, const char *body,
    struct agent_answer *out, struct agent_err *e)
{
	struct agent_err pe;
	struct sink k;
	char cerr[CURL_ERROR_SIZE];
	long status = 0, delay = s->retry_delay_ms;
	CURLcode cc;
	int r;

	memset(out, 0, sizeof(*out));
	out->call = call;
	k.b = NULL;
	s->attempts = 0;
	if ((k.b = amtp_buf_new(AMTP_AGENT_RESPONSE_MAX)) == NULL)
		return agent_err_set(e, AMTP_E_NOMEM, AGENT_EXIT_INTERNAL,
		    "internal", "out of memory");
	for (;;) {
		amtp_buf_reset(k.b);
		k.toobig = 0;
		s->attempts++;
		cc = perform(s, method, path, secret, body, &k, &status, cerr);
		if (cc == CURLE_OK) {
			agent_err_init(&pe);
			r = agent_site_parse(call, status, amtp_buf_ptr(k.b),
			    amtp_buf_len(k.b), out, &pe);
			if (r != AMTP_E_AGAIN || s->attempts > s->retries) {
				if (r != 0 && !e->set)
					*e = pe;
				break;
			}
			log_warnx("%s: %s: %s; trying again in %ld ms", s->url,
			    call_names[call], pe.msg, delay);
		} else if (k.toobig || cc == CURLE_FILESIZE_EXCEEDED) {
			r = agent_err_set(e, AMTP_E_TOOBIG,
			    AGENT_EXIT_SITE_REFUSED, "site_bad_answer",
			    "site: answer to %s larger than %d bytes",
			    call_names[call], AMTP_AGENT_RESPONSE_MAX);
			break;
		} else if (is_trust(cc)) {
			r = agent_err_set(e, AMTP_E_TLS,
			    AGENT_EXIT_SITE_REFUSED, "site_tls",
			    "site %s: TLS: the server is not trusted by the "
			    "CA in %s: %s", s->url, s->ca_file,
			    cerr[0] != '\0' ? cerr : curl_easy_strerror(cc));
			break;
		} else if (!is_transient(cc)) {
			r = agent_err_set(e, AMTP_E_HTTP,
			    AGENT_EXIT_SITE_REFUSED, "site_http",
			    "site %s: %s: %s", s->url, call_names[call],
			    cerr[0] != '\0' ? cerr : curl_easy_strerror(cc));
			break;
		} else if (s->attempts > s->retries) {
			r = agent_err_set(e, AMTP_E_AGAIN,
			    AGENT_EXIT_SITE_DOWN, "site_down",
			    "site %s unreachable after %d attempt%s: %s",
			    s->url, s->attempts, s->attempts == 1 ? "" : "s",
			    cerr[0] != '\0' ? cerr : curl_easy_strerror(cc));
			break;
		} else
			log_warnx("%s: %s: %s; trying again in %ld ms", s->url,
			    call_names[call], cerr[0] != '\0' ? cerr :
			    curl_easy_strerror(cc), delay);
		sleep_ms(delay);
		delay = delay * 2 > AMTP_AGENT_RETRY_DELAY_MAX_MS ?
		    AMTP_AGENT_RETRY_DELAY_MAX_MS : delay * 2;
	}
	if (r == 0 && s->attempts > 1)
		log_info("%s: %s: answered after %d attempts", s->url,
		    call_names[call], s->attempts);
	amtp_buf_free(k.b);	/* wiped: it may hold the agent token */
	return r;
}

/* Serialises a request body; NULL when out of memory. */
static char *
dump(json_t *o)
{
	char *s;

	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

int
agent_site_register(struct agent_site *s, const struct amtp_secret *secret,
    const struct agent_register_in *in, struct agent_answer *out,
    struct agent_err *e)
{
	json_t *o;
	char *body = NULL;
	int r;

	if ((o = json_pack("{s:s, s:s}", "hostname", in->hostname,
	    "smbios_uuid", in->smbios_uuid)) != NULL && in->fqdn != NULL &&
	    in->fqdn[0] != '\0' && json_object_set_new(o, "fqdn",
	    json_string(in->fqdn)) != 0) {
		json_decref(o);
		o = NULL;
	}
	if ((body = dump(o)) == NULL)
		return agent_err_set(e, AMTP_E_NOMEM, AGENT_EXIT_INTERNAL,
		    "internal", "out of memory");
	r = request(s, AGENT_CALL_REGISTER, "POST", "/api/v1/agents/register",
	    secret, body, out, e);
	free(body);
	return r;
}

int
agent_site_policy(struct agent_site *s, const struct amtp_secret *token,
    struct agent_answer *out, struct agent_err *e)
{
	return request(s, AGENT_CALL_POLICY, "GET", "/api/v1/agents/policy",
	    token, NULL, out, e);
}

int
agent_site_otp(struct agent_site *s, const struct amtp_secret *token,
    const char *otp_sha256_hex, const char *amt_address,
    struct agent_answer *out, struct agent_err *e)
{
	char *body;
	int r;

	if ((body = dump(json_pack("{s:s, s:s}", "otp_sha256", otp_sha256_hex,
	    "amt_address", amt_address))) == NULL)
		return agent_err_set(e, AMTP_E_NOMEM, AGENT_EXIT_INTERNAL,
		    "internal", "out of memory");
	r = request(s, AGENT_CALL_OTP, "POST", "/api/v1/agents/otp", token,
	    body, out, e);
	free(body);
	return r;
}

static json_t *
state_json(const struct agent_state_msg *m)
{
	json_t *o, *arr = NULL, *h;
	size_t i;

	if ((o = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(o, "amt_supported",
	    json_boolean(m->amt_supported)) != 0)
		goto fail;
	if (m->reason != NULL && m->reason[0] != '\0' &&
	    json_object_set_new(o, "reason", json_string(m->reason)) != 0)
		goto fail;
	if (!m->amt_supported)
		return o;
	if (json_object_set_new(o, "amt_version",
	    json_string(m->amt_version)) != 0 ||
	    json_object_set_new(o, "build", json_string(m->build)) != 0 ||
	    json_object_set_new(o, "sku", json_string(m->sku)) != 0 ||
	    json_object_set_new(o, "uuid", json_string(m->uuid)) != 0 ||
	    json_object_set_new(o, "dns_suffix",
	    json_string(m->dns_suffix)) != 0 ||
	    json_object_set_new(o, "control_mode",
	    json_string(m->control_mode)) != 0 ||
	    json_object_set_new(o, "provisioning_state",
	    json_string(m->provisioning_state)) != 0 ||
	    json_object_set_new(o, "wireless",
	    json_boolean(m->wireless)) != 0 ||
	    (arr = json_array()) == NULL)
		goto fail;
	for (i = 0; i < m->nhashes; i++) {
		h = json_pack("{s:s, s:s, s:b, s:b}", "name",
		    m->hashes[i].name, "hash", m->hashes[i].hex, "is_default",
		    m->hashes[i].is_default, "is_active",
		    m->hashes[i].is_active);
		if (h == NULL || json_array_append_new(arr, h) != 0)
			goto fail;
	}
	if (json_object_set_new(o, "cert_hashes", arr) != 0) {
		arr = NULL;
		goto fail;
	}
	return o;
 fail:
	json_decref(arr);
	json_decref(o);
	return NULL;
}

int
agent_site_state(struct agent_site *s, const struct amtp_secret *token,
    const struct agent_state_msg *msg, struct agent_answer *out,
    struct agent_err *e)
{
	char *body;
	int r;

	if ((body = dump(state_json(msg))) == NULL)
		return agent_err_set(e, AMTP_E_NOMEM, AGENT_EXIT_INTERNAL,
		    "internal", "out of memory (or a fact that is not UTF-8)");
	r = request(s, AGENT_CALL_STATE, "POST", "/api/v1/agents/state", token,
	    body, out, e);
	free(body);
	return r;
}
