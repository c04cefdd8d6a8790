/*
 * amtprov - cli/client.c: the admin CLI's client of the site HTTPS API
 * (program amtprov).  See cli.h.
 *
 * libcurl's easy interface, one handle kept for the whole run so that the
 * TLS connection is reused; only https:// URLs; the server certificate is
 * checked against the site's CA file and nothing else (no system CAs);
 * answers are capped at CLI_ANSWER_MAX and parsed with jansson, duplicate
 * members refused, nesting bounded before the parser runs.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "cli.h"

#define BEARER		"Authorization: Bearer "

struct cli_client {
	CURL			*curl;
	struct curl_slist	*hdrs;		/* holds the token: wiped */
	char			 url[CLI_URL_MAX + 1];
	char			 ca_file[CLI_PATH_MAX + 1];
};

/* Where an answer's bytes go. */
struct sink {
	struct amtp_buf	*b;
	int		 toobig;
};

void
cli_answer_reset(struct cli_answer *a)
{
	json_decref(a->body);
	memset(a, 0, sizeof(*a));
}

static int
is_b64token(int ch)
{
	return isalnum(ch) || ch == '-' || ch == '.' || ch == '_' ||
	    ch == '~' || ch == '+' || ch == '/';
}

/* Frees a header list after wiping every string in it (the token). */
static void
slist_wipe_free(struct curl_slist *l)
{
	struct curl_slist *p;

	for (p = l; p != NULL; p = p->next)
		if (p->data != NULL)
			explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

int
cli_client_new(const struct cli_cfg *cfg, struct cli_client **out, char *err,
    size_t errlen)
{
	struct cli_client *c = NULL;
	struct amtp_secret *tok = NULL;
	struct curl_slist *l = NULL;
	char *hdr = NULL;
	const char *t;
	size_t i, n, hlen;
	int r = AMTP_E_INVAL;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (strncmp(cfg->url, "https://", 8) != 0 || cfg->url[8] == '\0') {
		snprintf(err, errlen, "site URL \"%.100s\": must start with "
		    "https://", cfg->url);
		goto out;
	}
	if (cfg->ca_file[0] == '\0') {
		snprintf(err, errlen, "no CA file for the site (ca_file or "
		    "--ca)");
		goto out;
	}
	if (cfg->token_file[0] == '\0') {
		snprintf(err, errlen, "no admin token file (token_file or "
		    "--token-file)");
		goto out;
	}
	if ((r = amtp_secret_load_file(cfg->token_file, CLI_TOKEN_FILE_MAX,
	    &tok, err, errlen)) != 0)
		goto out;
	t = amtp_secret_cstr(tok);
	n = amtp_secret_len(tok);
	r = AMTP_E_PARSE;
	if (n < 16 || n > 256) {
		snprintf(err, errlen, "%s: an admin token is 16 to 256 "
		    "characters", cfg->token_file);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (!is_b64token((unsigned char)t[i]))
			break;
	if (i != n) {
		snprintf(err, errlen, "%s: not an admin token (character %zu "
		    "is not allowed)", cfg->token_file, i + 1);
		goto out;
	}
	r = AMTP_E_NOMEM;
	hlen = strlen(BEARER) + n + 1;
	if ((hdr = malloc(hlen)) == NULL)
		goto out;
	memcpy(hdr, BEARER, strlen(BEARER));
	memcpy(hdr + strlen(BEARER), t, n + 1);
	if ((l = curl_slist_append(NULL, hdr)) == NULL)
		goto out;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto out;
	c->hdrs = l;
	l = NULL;
	if ((l = curl_slist_append(c->hdrs, "Accept: application/json")) ==
	    NULL || (c->curl = curl_easy_init()) == NULL) {
		l = NULL;
		goto out;
	}
	l = NULL;	/* the same list as c->hdrs */
	r = AMTP_E_TOOBIG;
	if (amtp_strlcpy(c->url, cfg->url, sizeof(c->url)) >= sizeof(c->url) ||
	    amtp_strlcpy(c->ca_file, cfg->ca_file, sizeof(c->ca_file)) >=
	    sizeof(c->ca_file))
		goto out;
	/* no trailing slash: paths start with one */
	n = strlen(c->url);
	while (n > 8 && c->url[n - 1] == '/')
		c->url[--n] = '\0';
	*out = c;
	c = NULL;
	r = 0;
 out:
	if (hdr != NULL) {
		explicit_bzero(hdr, hlen);
		free(hdr);
	}
	slist_wipe_free(l);
	amtp_secret_free(tok);
	cli_client_free(c);
	return r;
}

void
cli_client_free(struct cli_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	slist_wipe_free(c->hdrs);
	free(c);
}

const char *
cli_client_ca_file(const struct cli_client *c)
{
	return c->ca_file;
}

const char *
cli_client_url(const struct cli_client *c)
{
	return c->url;
}

static size_t
sink_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct sink *k = arg;
	size_t n = size * nmemb;

	if (amtp_buf_put(k->b, p, n) != 0) {
		k->toobig = 1;
		return 0;	/* curl stops with CURLE_WRITE_ERROR */
	}
	return n;
}

/* Nesting depth of JSON text outside strings; stops once past limit. */
static size_t
json_depth(const char *p, size_t len, size_t limit)
{
	size_t i, depth = 0, deepest = 0;
	int instr = 0, esc = 0;

	for (i = 0; i < len && deepest <= limit; i++) {
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
		} else if ((p[i] == '}' || p[i] == ']') && depth > 0)
			depth--;
	}
	return deepest;
}

/* Runs one transfer on c->curl into b.  0, AMTP_E_CLOSED, AMTP_E_TOOBIG. */
static int
perform(struct cli_client *c, const char *method, const char *path,
    const char *body, struct amtp_buf *b, long *status, char *err,
    size_t errlen)
{
	char url[CLI_URL_MAX + CLI_REQPATH_MAX + 1];
	char cerr[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = NULL;
	struct sink k = { b, 0 };
	CURLcode cc;
	int r = AMTP_E_INTERNAL;

	*status = 0;
	if (snprintf(url, sizeof(url), "%s%s", c->url, path) >=
	    (int)sizeof(url))
		return AMTP_E_TOOBIG;
	curl_easy_reset(c->curl);
	if ((cc = curl_easy_setopt(c->curl, CURLOPT_URL, url)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR,
	    "https")) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->ca_file)) !=
	    CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_CAPATH, NULL)) !=
	    CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 1L)) !=
	    CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 2L)) !=
	    CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L)) !=
	    CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L)) !=
	    CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT,
	    (long)CLI_CONNECT_TIMEOUT)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_TIMEOUT,
	    (long)CLI_REQUEST_TIMEOUT)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_USERAGENT,
	    "amtprov/" AMTP_VERSION)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION,
	    sink_write)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &k)) !=
	    CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, cerr)) !=
	    CURLE_OK)
		goto curlfail;
	if (strcmp(method, "POST") == 0) {
		/* the token header list plus a content type, for this call */
		if ((h = curl_slist_append(NULL,
		    "Content-Type: application/json")) == NULL) {
			r = AMTP_E_NOMEM;
			goto out;
		}
		h->next = c->hdrs;	/* borrowed: unlinked before free */
		if (body == NULL)
			body = "{}";
		if ((cc = curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h)) !=
		    CURLE_OK ||
		    (cc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS,
		    body)) != CURLE_OK ||
		    (cc = curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(body))) != CURLE_OK)
			goto curlfail;
	} else if ((cc = curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER,
	    c->hdrs)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L)) != CURLE_OK)
		goto curlfail;
	cc = curl_easy_perform(c->curl);
	if (k.toobig) {
		snprintf(err, errlen, "%s: answer larger than %d bytes", path,
		    CLI_ANSWER_MAX);
		r = AMTP_E_TOOBIG;
		goto out;
	}
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", c->url, cerr[0] != '\0' ?
		    cerr : curl_easy_strerror(cc));
		r = AMTP_E_CLOSED;
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
	r = 0;
	goto out;
 curlfail:
	snprintf(err, errlen, "libcurl: %s", curl_easy_strerror(cc));
	r = AMTP_E_INTERNAL;
 out:
	if (h != NULL) {
		h->next = NULL;
		curl_slist_free_all(h);
	}
	/* the handle must not keep pointers to what goes away */
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
	return r;
}

int
cli_answer_parse(const char *body, size_t len, long status,
    struct cli_answer *a, char *err, size_t errlen)
{
	json_error_t je;
	json_t *e;

	cli_answer_reset(a);
	a->status = status;
	if (len > CLI_ANSWER_MAX)
		return AMTP_E_TOOBIG;
	if (len > 0 && json_depth(body, len, CLI_JSON_DEPTH_MAX) <=
	    CLI_JSON_DEPTH_MAX)
		a->body = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (a->body != NULL && !json_is_object(a->body)) {
		json_decref(a->body);
		a->body = NULL;
	}
	if (status >= 200 && status < 300 && a->body == NULL) {
		snprintf(err, errlen, "the site's answer (HTTP %ld) is not a "
		    "JSON object", status);
		return AMTP_E_JSON;
	}
	if (status >= 300 && a->body != NULL) {
		e = a->body;
		cli_fmt_clean(cli_json_str(e, "error"), sizeof(a->error) - 4,
		    a->error, sizeof(a->error));
		cli_fmt_clean(cli_json_str(e, "message"), sizeof(a->message) - 4,
		    a->message, sizeof(a->message));
		cli_fmt_clean(cli_json_str(e, "field"), sizeof(a->field) - 4,
		    a->field, sizeof(a->field));
	}
	return 0;
}

int
cli_client_call(struct cli_client *c, const char *method, const char *path,
    const json_t *body, struct cli_answer *a, char *err, size_t errlen)
{
	struct amtp_buf *b = NULL;
	char *text = NULL, sub[256] = "";
	long status = 0;
	int r;

	cli_answer_reset(a);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL)
		return AMTP_E_NOMEM;
	if ((b = amtp_buf_new(CLI_ANSWER_MAX)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	if ((r = perform(c, method, path, text, b, &status, err,
	    errlen)) != 0)
		goto out;
	if ((r = cli_answer_parse(amtp_buf_str(b), amtp_buf_len(b), status, a,
	    sub, sizeof(sub))) != 0)
		snprintf(err, errlen, "%.200s: %s", path, sub);
 out:
	if (text != NULL) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	amtp_buf_free(b);
	return r;
}

int
cli_client_get_text(struct cli_client *c, const char *path, long *status,
    char **text, char *err, size_t errlen)
{
	struct amtp_buf *b = NULL;
	int r;

	*text = NULL;
	*status = 0;
	if ((b = amtp_buf_new(CLI_ANSWER_MAX)) == NULL)
		return AMTP_E_NOMEM;
	if ((r = perform(c, "GET", path, NULL, b, status, err, errlen)) != 0)
		goto out;
	if ((r = amtp_buf_dup_cstring(b, text)) != 0) {
		snprintf(err, errlen, "%s: answer holds a NUL byte", path);
		goto out;
	}
 out:
	amtp_buf_free(b);
	return r;
}

int
cli_query_escape(const char *s, char *dst, size_t dstsz)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	unsigned char ch;

	for (; *s != '\0'; s++) {
		ch = (unsigned char)*s;
		if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' ||
		    ch == '~') {
			if (o + 1 >= dstsz)
				return AMTP_E_TOOBIG;
			dst[o++] = (char)ch;
		} else {
			if (o + 3 >= dstsz)
				return AMTP_E_TOOBIG;
			dst[o++] = '%';
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 15];
		}
	}
	if (o >= dstsz)
		return AMTP_E_TOOBIG;
	dst[o] = '\0';
	return 0;
}

const char *
cli_json_str(const json_t *o, const char *key)
{
	const json_t *v;

	if (o == NULL || (v = json_object_get(o, key)) == NULL ||
	    !json_is_string(v))
		return "";
	return json_string_value(v);
}

long long
cli_json_int(const json_t *o, const char *key)
{
	const json_t *v;

	if (o == NULL || (v = json_object_get(o, key)) == NULL ||
	    !json_is_integer(v))
		return 0;
	return (long long)json_integer_value(v);
}

int
cli_json_bool(const json_t *o, const char *key)
{
	const json_t *v;

	if (o == NULL || (v = json_object_get(o, key)) == NULL)
		return 0;
	return json_is_true(v);
}
