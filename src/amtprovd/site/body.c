/*
 * amtprov - site/body.c: bounded JSON request bodies and field checks (role
 * site).  Nothing here logs: a body is a payload, and payloads are not
 * logged (STYLE.md section 7).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/str.h"

#include "site/body.h"

int
site_err_set(struct site_err *e, int status, const char *code,
    const char *field, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	amtp_strlcpy(e->code, code, sizeof(e->code));
	amtp_strlcpy(e->field, field != NULL ? field : "", sizeof(e->field));
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return AMTP_E_INVAL;
}

json_t *
site_err_json(const struct site_err *e)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(o, "error", json_string(e->code)) != 0 ||
	    (e->field[0] != '\0' && json_object_set_new(o, "field",
	    json_string(e->field)) != 0) ||
	    json_object_set_new(o, "message", json_string(e->msg)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

size_t
site_body_depth(const char *data, size_t len, size_t limit)
{
	size_t i, depth = 0, deepest = 0;
	int instr = 0, esc = 0;

	for (i = 0; i < len; i++) {
		char c = data[i];

		if (instr) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				instr = 0;
			continue;
		}
		if (c == '"')
			instr = 1;
		else if (c == '{' || c == '[') {
			if (++depth > deepest)
				deepest = depth;
			if (deepest > limit)
				break;
		} else if ((c == '}' || c == ']') && depth > 0)
			depth--;
	}
	return deepest;
}

int
site_body_load(const void *data, size_t len, size_t max, json_t **out,
    struct site_err *e)
{
	json_error_t jerr;
	json_t *root = NULL;
	int r;

	*out = NULL;
	if (len > max) {
		site_err_set(e, 413, "body_too_large", NULL,
		    "request body is larger than %zu bytes", max);
		r = AMTP_E_TOOBIG;
		goto out;
	}
	if (len == 0) {
		r = site_err_set(e, 400, "empty_body", NULL,
		    "request body is empty; a JSON object is expected");
		goto out;
	}
	if (site_body_depth(data, len, AMTP_SITE_JSON_DEPTH_MAX) >
	    AMTP_SITE_JSON_DEPTH_MAX) {
		site_err_set(e, 400, "too_deep", NULL,
		    "JSON nested deeper than %d levels",
		    AMTP_SITE_JSON_DEPTH_MAX);
		r = AMTP_E_DEPTH;
		goto out;
	}
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		site_err_set(e, 400, "malformed_json", NULL,
		    "malformed JSON at line %d column %d: %.100s", jerr.line,
		    jerr.column, jerr.text);
		r = AMTP_E_JSON;
		goto out;
	}
	if (!json_is_object(root)) {
		r = site_err_set(e, 400, "not_an_object", NULL,
		    "request body must be a JSON object");
		goto out;
	}
	if (json_object_size(root) > AMTP_SITE_JSON_MEMBERS_MAX) {
		r = site_err_set(e, 400, "too_many_members", NULL,
		    "more than %d members", AMTP_SITE_JSON_MEMBERS_MAX);
		goto out;
	}
	*out = root;
	root = NULL;
	r = 0;
 out:
	json_decref(root);
	return r;
}

int
site_body_only(json_t *o, const char *const *allowed, struct site_err *e)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(o, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			char esc[SITE_ERR_FIELD_MAX];
			size_t j, n = 0;

			/* echo only a safe prefix of the unknown name */
			for (j = 0; key[j] != '\0' && n < 32; j++)
				esc[n++] = (key[j] >= 0x20 && key[j] < 0x7f &&
				    key[j] != '"') ? key[j] : '?';
			esc[n] = '\0';
			(void)v;
			return site_err_set(e, 400, "unknown_field", esc,
			    "%s: unknown field", esc);
		}
	}
	return 0;
}

static json_t *
member(json_t *o, const char *name, int required, int *absent,
    struct site_err *e)
{
	json_t *v = json_object_get(o, name);

	*absent = 0;
	if (v == NULL || json_is_null(v)) {
		*absent = 1;
		if (required)
			site_err_set(e, 400, "missing_field", name,
			    "%s: required field is missing", name);
		return NULL;
	}
	return v;
}

int
site_body_get_str(json_t *o, const char *name, int required, size_t min,
    size_t max, site_body_check_fn check, const char **out,
    struct site_err *e)
{
	const char *s, *why;
	size_t len, i;
	json_t *v;
	int absent;

	*out = NULL;
	if ((v = member(o, name, required, &absent, e)) == NULL)
		return absent && !required ? 0 : AMTP_E_INVAL;
	if (!json_is_string(v))
		return site_err_set(e, 400, "wrong_type", name,
		    "%s: must be a string", name);
	s = json_string_value(v);
	len = json_string_length(v);
	if (len < min || len > max)
		return site_err_set(e, 400, "invalid_field", name,
		    "%s: length must be %zu to %zu bytes", name, min, max);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return site_err_set(e, 400, "invalid_field", name,
			    "%s: control characters are not allowed", name);
	if (check != NULL && (why = check(s, len)) != NULL)
		return site_err_set(e, 400, "invalid_field", name, "%s: %s",
		    name, why);
	*out = s;
	return 0;
}

int
site_body_copy_str(json_t *o, const char *name, int required, size_t min,
    size_t max, site_body_check_fn check, char *dst, size_t dstsz,
    struct site_err *e)
{
	const char *s;
	int r;

	dst[0] = '\0';
	if (max >= dstsz)
		return site_err_set(e, 500, "internal", name,
		    "%s: field buffer too small", name);
	if ((r = site_body_get_str(o, name, required, min, max, check, &s,
	    e)) != 0)
		return r;
	if (s != NULL)
		amtp_strlcpy(dst, s, dstsz);
	return 0;
}

int
site_body_get_bool(json_t *o, const char *name, int required, int def,
    int *out, struct site_err *e)
{
	json_t *v;
	int absent;

	*out = def;
	if ((v = member(o, name, required, &absent, e)) == NULL)
		return absent && !required ? 0 : AMTP_E_INVAL;
	if (!json_is_boolean(v))
		return site_err_set(e, 400, "wrong_type", name,
		    "%s: must be true or false", name);
	*out = json_is_true(v);
	return 0;
}

int
site_body_get_int(json_t *o, const char *name, int required, long long min,
    long long max, long long def, long long *out, struct site_err *e)
{
	json_int_t n;
	json_t *v;
	int absent;

	*out = def;
	if ((v = member(o, name, required, &absent, e)) == NULL)
		return absent && !required ? 0 : AMTP_E_INVAL;
	if (!json_is_integer(v))
		return site_err_set(e, 400, "wrong_type", name,
		    "%s: must be an integer", name);
	n = json_integer_value(v);
	if (n < min || n > max)
		return site_err_set(e, 400, "invalid_field", name,
		    "%s: must be %lld to %lld", name, min, max);
	*out = n;
	return 0;
}

int
site_body_get_array(json_t *o, const char *name, int required, size_t max,
    json_t **out, struct site_err *e)
{
	json_t *v;
	int absent;

	*out = NULL;
	if ((v = member(o, name, required, &absent, e)) == NULL)
		return absent && !required ? 0 : AMTP_E_INVAL;
	if (!json_is_array(v))
		return site_err_set(e, 400, "wrong_type", name,
		    "%s: must be an array", name);
	if (json_array_size(v) > max)
		return site_err_set(e, 400, "invalid_field", name,
		    "%s: at most %zu elements", name, max);
	*out = v;
	return 0;
}

static int
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* RFC 1123 label: 1..63 letters, digits and '-', not at either end. */
static int
valid_label(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

const char *
site_check_hostname(const char *s, size_t len)
{
	return valid_label(s, len) ? NULL : "not a host name (letters, "
	    "digits and '-', 1 to 63 characters)";
}

const char *
site_check_dns_name(const char *s, size_t len)
{
	size_t i, start = 0;

	if (len == 0 || len > AMTP_DNS_NAME_MAX)
		return "not a DNS name";
	for (i = 0; i <= len; i++)
		if (i == len || s[i] == '.') {
			if (!valid_label(s + start, i - start))
				return "not a DNS name (dot-separated "
				    "labels of letters, digits and '-')";
			start = i + 1;
		}
	return NULL;
}

const char *
site_check_uuid(const char *s, size_t len)
{
	size_t i;

	if (len != 36)
		return "not a UUID (8-4-4-4-12 hex digits)";
	for (i = 0; i < len; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return "not a UUID (8-4-4-4-12 hex digits)";
		} else if (!is_hex(s[i]))
			return "not a UUID (8-4-4-4-12 hex digits)";
	}
	return NULL;
}

const char *
site_check_sha256_hex(const char *s, size_t len)
{
	size_t i;

	if (len != 64)
		return "not 64 lower-case hex digits";
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return "not 64 lower-case hex digits";
	return NULL;
}

const char *
site_check_hex(const char *s, size_t len)
{
	size_t i;

	if (len != 40 && len != 64 && len != 96 && len != 128)
		return "not a SHA-1/256/384/512 hash (40, 64, 96 or 128 "
		    "hex digits)";
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return "not lower-case hex digits";
	return NULL;
}

const char *
site_check_ip(const char *s, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];
	unsigned char a[sizeof(struct in6_addr)];

	if (len == 0 || len >= sizeof(tmp))
		return "not an IPv4 or IPv6 address";
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (inet_pton(AF_INET, tmp, a) != 1 && inet_pton(AF_INET6, tmp, a) != 1)
		return "not an IPv4 or IPv6 address";
	return NULL;
}

const char *
site_check_version(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return "not a version (digits and dots)";
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
			return "not a version (digits and dots)";
	return NULL;
}

const char *
site_check_word(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' &&
		    s[i] != '.')
			return "only letters, digits, '-', '_' and '.' "
			    "are allowed";
	return NULL;
}

/* Printable text: controls are already refused by site_body_get_str. */
const char *
site_check_text(const char *s, size_t len)
{
	(void)s;
	(void)len;
	return NULL;
}
