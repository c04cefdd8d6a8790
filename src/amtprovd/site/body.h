/*
 * amtprov - site/body.h: bounded JSON request bodies and the API's error
 * answer (role site).
 *
 * Every request body goes through site_body_load(): the size is checked
 * before jansson sees a byte, the nesting depth is checked by a scan before
 * the parse (jansson's own limit is 2048), duplicate members are refused
 * (JSON_REJECT_DUPLICATES), NUL in strings is refused, and the top level
 * must be an object.  Then the site_body_get_* helpers check each member's
 * type and bounds, and site_body_only() refuses members the API does not
 * know.  A failure fills a struct site_err, which becomes the 4xx answer
 *   {"error": "<code>", "field": "<member>", "message": "<sentence>"}
 * naming the offending member.
 */
#ifndef SITE_BODY_H
#define SITE_BODY_H

#include <stddef.h>

#include <jansson.h>

#define SITE_ERR_CODE_MAX	32
#define SITE_ERR_FIELD_MAX	64
#define SITE_ERR_MSG_MAX	192

struct site_err {
	int	status;				/* HTTP status, 4xx/5xx */
	char	code[SITE_ERR_CODE_MAX];	/* "invalid_field", ... */
	char	field[SITE_ERR_FIELD_MAX];	/* "" when not about a member */
	char	msg[SITE_ERR_MSG_MAX];
};

/* Sets e (field may be NULL) and returns AMTP_E_INVAL. */
int site_err_set(struct site_err *e, int status, const char *code,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The error answer as a new JSON object (NULL when out of memory). */
json_t *site_err_json(const struct site_err *e);

/*
 * Parses len bytes as a JSON object of at most max bytes and
 * AMTP_SITE_JSON_DEPTH_MAX levels.  *out is a new reference on success.
 * Errors: 413 body_too_large, 400 empty_body, too_deep, malformed_json,
 * not_an_object, too_many_members.  Returns 0 or AMTP_E_INVAL/AMTP_E_TOOBIG/
 * AMTP_E_DEPTH/AMTP_E_JSON/AMTP_E_NOMEM with e filled.
 */
int site_body_load(const void *data, size_t len, size_t max, json_t **out,
    struct site_err *e);

/* The deepest nesting of arrays/objects in data (strings are skipped);
 * stops counting at limit + 1. */
size_t site_body_depth(const char *data, size_t len, size_t limit);

/* Refuses (400 unknown_field) any member of o not in the NULL-terminated
 * list allowed. */
int site_body_only(json_t *o, const char *const *allowed, struct site_err *e);

/* A member check: NULL when the member's text is fine, else a sentence
 * saying what is wrong ("not a DNS name"). */
typedef const char *(*site_body_check_fn)(const char *s, size_t len);

/*
 * A string member: required (400 missing_field when absent or null) or
 * optional (*out stays NULL, 0 returned); must be a JSON string
 * (400 wrong_type) of min..max bytes (400 invalid_field) without control
 * characters, and pass check when given.  *out points into o.
 */
int site_body_get_str(json_t *o, const char *name, int required, size_t min,
    size_t max, site_body_check_fn check, const char **out,
    struct site_err *e);
/* The same, copied into dst (dstsz > max); "" when optional and absent. */
int site_body_copy_str(json_t *o, const char *name, int required, size_t min,
    size_t max, site_body_check_fn check, char *dst, size_t dstsz,
    struct site_err *e);
/* A boolean member; *out = def when optional and absent. */
int site_body_get_bool(json_t *o, const char *name, int required, int def,
    int *out, struct site_err *e);
/* An integer member in min..max; *out = def when optional and absent. */
int site_body_get_int(json_t *o, const char *name, int required,
    long long min, long long max, long long def, long long *out,
    struct site_err *e);
/* An array member of at most max elements (*out NULL when optional and
 * absent, borrowed). */
int site_body_get_array(json_t *o, const char *name, int required,
    size_t max, json_t **out, struct site_err *e);

/* Checks used by the API (site_body_check_fn). */
const char *site_check_hostname(const char *s, size_t len);
const char *site_check_dns_name(const char *s, size_t len);
const char *site_check_uuid(const char *s, size_t len);
const char *site_check_sha256_hex(const char *s, size_t len);
const char *site_check_ip(const char *s, size_t len);
const char *site_check_version(const char *s, size_t len);
const char *site_check_word(const char *s, size_t len);
const char *site_check_hex(const char *s, size_t len);
const char *site_check_text(const char *s, size_t len);

#endif
