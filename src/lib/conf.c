/*
 * amtprov - conf.c: INI configuration files checked against a schema
 * (libamtp; every program reads its configuration through it).  See conf.h
 * and docs/configuration-format.md.
 *
 * The text goes through two passes.  Our own scan comes first: it bounds the
 * file and every line, refuses NUL and control bytes, and checks the
 * structure that inih cannot report well (a section header it would cut or
 * half-accept, a "name: value" line, a key before any section, an unknown or
 * repeated section).  Then inih parses the same text, line by line through
 * our reader, which counts lines so that the handler knows where it is; the
 * handler checks each key and value against the schema.  The first error in
 * file order wins and is reported as "file:line: [section] key: reason".
 *
 * inih as packaged by Debian keeps its options in global variables (upstream
 * makes them compile-time macros).  We set them once, before the first parse:
 * a heap line buffer that holds AMTP_CONF_LINE_MAX bytes (the packaged default
 * is a 200-byte stack buffer that would split longer lines), no multi-line
 * values, no inline comments (a value is taken verbatim up to the end of the
 * line) and stop at the first error.  Nothing else in amtprov uses inih.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "amtprov/buf.h"
#include "amtprov/conf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/str.h"

/* A concrete section of the file: [site] or [wifi.office]. */
struct conf_sec {
	char	 name[AMTP_CONF_SECTION_MAX + 1];
	const char *pattern;	/* the schema section it matches */
	int	 line;		/* of its header */
};

/* A value: from the file, or a schema default. */
struct conf_val {
	char	*text;		/* NULL: not set */
	int	 line;		/* 0 for a default */
	long long num;		/* INT, BOOL */
	char	**items;	/* LIST */
	size_t	 nitems;
};

struct amtp_conf {
	const struct amtp_conf_key *schema;
	size_t	 nkeys;
	struct conf_val *defs;		/* nkeys defaults */
	struct conf_sec *secs;		/* in file order */
	size_t	 nsecs;
	struct conf_val *vals;		/* nsecs * nkeys, [sec * nkeys + key] */
};

/* State of one load, shared by the scan, the inih reader and the handler. */
struct conf_ctx {
	const char *name;	/* file name for errors */
	const char *text;
	size_t	 len;
	size_t	 pos;		/* reader position */
	int	 lineno;	/* line the reader handed out last */
	struct amtp_conf *c;
	int	 err_line;	/* first error found so far; 0 = none */
	int	 err_r;
	char	*err;
	size_t	 errlen;
};

static const char *const type_names[AMTP_CONF__MAX] = {
	"text", "integer", "boolean", "choice", "list", "secret file",
};

/* ---- inih options ---------------------------------------------------- */

static pthread_once_t ini_once = PTHREAD_ONCE_INIT;

static void
ini_setup(void)
{
	ini_use_stack = 0;
	/* Room for the longest line plus "\r\n" and the NUL (ini.h). */
	ini_initial_alloc = AMTP_CONF_LINE_MAX + 3;
	ini_max_line = AMTP_CONF_LINE_MAX + 3;
	ini_allow_realloc = 0;
	ini_allow_multiline = 0;
	ini_allow_inline_comments = 0;
	ini_allow_no_value = 0;
	ini_allow_bom = 1;
	ini_stop_on_first_error = 1;
}

/* ---- small helpers --------------------------------------------------- */

static void
errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	/* A cut message is still useful: truncation is accepted. */
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Records an error at line (0: no line) unless one at an earlier line is
 * already known.  The message is prefixed with "name:line: ".
 */
static void
ctx_error(struct conf_ctx *x, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
ctx_error(struct conf_ctx *x, int line, const char *fmt, ...)
{
	char msg[AMTP_LOG_LINE_MAX];
	va_list ap;

	if (x->err_r != 0 && (x->err_line == 0 || x->err_line <= line))
		return;	/* an earlier error is already known */
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		errf(x->err, x->errlen, "%s:%d: %s", x->name, line, msg);
	else
		errf(x->err, x->errlen, "%s: %s", x->name, msg);
	x->err_line = line;
	x->err_r = AMTP_E_CONFIG;
}

static int
is_pattern(const char *section)
{
	size_t n = strlen(section);

	return n >= 2 && section[n - 2] == '.' && section[n - 1] == '*';
}

static int
is_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/* 1 when s[0..n) is a non-empty run of name characters (dots allowed when
 * dots is set). */
static int
valid_name(const char *s, size_t n, int dots)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (!is_name_char((unsigned char)s[i]) ||
		    (!dots && s[i] == '.'))
			return 0;
	}
	return 1;
}

/* 1 when the concrete section name (n bytes) matches the schema section. */
static int
section_matches(const char *schema_sec, const char *name, size_t n)
{
	size_t plen;

	if (!is_pattern(schema_sec))
		return strlen(schema_sec) == n &&
		    memcmp(schema_sec, name, n) == 0;
	plen = strlen(schema_sec) - 1;	/* "wifi." */
	return n > plen && memcmp(schema_sec, name, plen) == 0 &&
	    valid_name(name + plen, n - plen, 0);
}

static void
val_clear(struct conf_val *v)
{
	size_t i;

	if (v->items != NULL) {
		for (i = 0; i < v->nitems; i++)
			free(v->items[i]);
		free(v->items);
	}
	free(v->text);
	memset(v, 0, sizeof(*v));
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Parses text as a value of key k into v (which must be clear).  On a bad
 * value returns AMTP_E_CONFIG with the reason in why; AMTP_E_NOMEM.
 */
static int
parse_value(const struct amtp_conf_key *k, const char *text,
    struct conf_val *v, char *why, size_t whylen)
{
	static const char *const yes[] = { "true", "yes", "on", "1", NULL };
	static const char *const no[] = { "false", "no", "off", "0", NULL };
	size_t len = strlen(text), max, i, start, end, n;
	long long num;
	int r;

	max = (size_t)AMTP_CONF_VALUE_MAX;
	if ((k->type == AMTP_CONF_STR || k->type == AMTP_CONF_LIST ||
	    k->type == AMTP_CONF_SECRET_FILE) && k->max > 0 &&
	    (unsigned long long)k->max < max)
		max = (size_t)k->max;
	if (len > max) {
		errf(why, whylen, "value longer than %zu bytes", max);
		return AMTP_E_CONFIG;
	}
	switch (k->type) {
	case AMTP_CONF_STR:
		break;
	case AMTP_CONF_INT:
		r = amtp_parse_int(text, k->min, k->max, &num);
		if (r == AMTP_E_RANGE) {
			errf(why, whylen, "value out of range (%lld..%lld)",
			    k->min, k->max);
			return AMTP_E_CONFIG;
		}
		if (r != 0) {
			errf(why, whylen, "not a decimal integer");
			return AMTP_E_CONFIG;
		}
		v->num = num;
		break;
	case AMTP_CONF_BOOL:
		for (i = 0; yes[i] != NULL; i++)
			if (amtp_str_eq_ci(text, len, yes[i], strlen(yes[i])))
				break;
		if (yes[i] != NULL) {
			v->num = 1;
			break;
		}
		for (i = 0; no[i] != NULL; i++)
			if (amtp_str_eq_ci(text, len, no[i], strlen(no[i])))
				break;
		if (no[i] == NULL) {
			errf(why, whylen, "not a boolean (use true or false)");
			return AMTP_E_CONFIG;
		}
		v->num = 0;
		break;
	case AMTP_CONF_ENUM:
		for (i = 0; k->choices[i] != NULL; i++)
			if (strcmp(text, k->choices[i]) == 0)
				break;
		if (k->choices[i] == NULL) {
			char list[512];
			size_t o = 0;

			list[0] = '\0';
			for (i = 0; k->choices[i] != NULL && o < sizeof(list);
			    i++) {
				int w = snprintf(list + o, sizeof(list) - o,
				    "%s%s", i > 0 ? ", " : "", k->choices[i]);
				if (w < 0)
					break;
				o += (size_t)w;
			}
			errf(why, whylen, "must be one of: %s", list);
			return AMTP_E_CONFIG;
		}
		v->num = (long long)i;
		break;
	case AMTP_CONF_LIST:
		/* Items between commas, blanks trimmed; "" is no items. */
		n = 0;
		if (len > 0) {
			n = 1;
			for (i = 0; i < len; i++)
				n += text[i] == ',';
		}
		if (n > AMTP_CONF_LIST_MAX) {
			errf(why, whylen, "more than %d list items",
			    AMTP_CONF_LIST_MAX);
			return AMTP_E_CONFIG;
		}
		if (n > 0 && (v->items = calloc(n, sizeof(char *))) == NULL)
			return AMTP_E_NOMEM;
		v->nitems = n;	/* unset items are NULL: freeing is safe */
		start = 0;
		for (i = 0; i < n; i++) {
			end = start;
			while (end < len && text[end] != ',')
				end++;
			{
				size_t a = start, b = end;

				while (a < b && is_blank(text[a]))
					a++;
				while (b > a && is_blank(text[b - 1]))
					b--;
				if (a == b) {
					errf(why, whylen, "list item %zu is "
					    "empty", i + 1);
					return AMTP_E_CONFIG;
				}
				if ((v->items[i] = strndup(text + a, b - a)) ==
				    NULL)
					return AMTP_E_NOMEM;
			}
			start = end + 1;
		}
		break;
	case AMTP_CONF_SECRET_FILE:
		if (text[0] != '/') {
			errf(why, whylen, "must be the absolute path of a file "
			    "holding the secret, never the secret itself");
			return AMTP_E_CONFIG;
		}
		break;
	default:
		errf(why, whylen, "unknown type");
		return AMTP_E_INVAL;
	}
	if ((v->text = strdup(text)) == NULL)
		return AMTP_E_NOMEM;
	return 0;
}

/* ---- schema ---------------------------------------------------------- */

/*
 * Checks the schema (a programming error gives AMTP_E_INVAL) and parses
 * the defaults into c->defs.
 */
static int
load_schema(struct amtp_conf *c, const struct amtp_conf_key *schema,
    struct conf_ctx *x)
{
	const struct amtp_conf_key *k;
	char why[512];
	size_t i, j, n;
	int r;

	for (n = 0; schema[n].section != NULL; n++) {
		if (n >= AMTP_CONF_SCHEMA_MAX) {
			errf(x->err, x->errlen, "schema: more than %d keys",
			    AMTP_CONF_SCHEMA_MAX);
			return AMTP_E_INVAL;
		}
	}
	c->schema = schema;
	c->nkeys = n;
	if (n > 0 && (c->defs = calloc(n, sizeof(*c->defs))) == NULL)
		return AMTP_E_NOMEM;
	for (i = 0; i < n; i++) {
		k = &schema[i];
		why[0] = '\0';
		if (k->name == NULL || !valid_name(k->name, strlen(k->name), 1) ||
		    strlen(k->name) > AMTP_CONF_NAME_MAX ||
		    strlen(k->section) > AMTP_CONF_SECTION_MAX ||
		    (!is_pattern(k->section) &&
		    !valid_name(k->section, strlen(k->section), 1)) ||
		    (is_pattern(k->section) && !valid_name(k->section,
		    strlen(k->section) - 2, 1))) {
			errf(x->err, x->errlen, "schema: entry %zu: bad section "
			    "or key name", i);
			return AMTP_E_INVAL;
		}
		if ((int)k->type < 0 || k->type >= AMTP_CONF__MAX ||
		    (k->type == AMTP_CONF_ENUM && k->choices == NULL) ||
		    (k->type == AMTP_CONF_INT && k->min > k->max)) {
			errf(x->err, x->errlen, "schema: [%s] %s: bad type, "
			    "choices or bounds", k->section, k->name);
			return AMTP_E_INVAL;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(schema[j].section, k->section) == 0 &&
			    strcmp(schema[j].name, k->name) == 0) {
				errf(x->err, x->errlen, "schema: [%s] %s: "
				    "listed twice", k->section, k->name);
				return AMTP_E_INVAL;
			}
		}
		if (k->def != NULL) {
			r = parse_value(k, k->def, &c->defs[i], why, sizeof(why));
			if (r == AMTP_E_NOMEM)
				return r;
			if (r != 0) {
				errf(x->err, x->errlen, "schema: [%s] %s: bad "
				    "default: %s", k->section, k->name, why);
				return AMTP_E_INVAL;
			}
		}
	}
	return 0;
}

/* ---- pass 1: our scan ------------------------------------------------- */

/* The schema section that a concrete name matches, or NULL. */
static const char *
find_section(const struct amtp_conf *c, const char *name, size_t n)
{
	size_t i;

	/* Exact names first, so [site.tls] can coexist with "site.*". */
	for (i = 0; i < c->nkeys; i++)
		if (!is_pattern(c->schema[i].section) &&
		    section_matches(c->schema[i].section, name, n))
			return c->schema[i].section;
	for (i = 0; i < c->nkeys; i++)
		if (is_pattern(c->schema[i].section) &&
		    section_matches(c->schema[i].section, name, n))
			return c->schema[i].section;
	return NULL;
}

/* Handles one section header line (trimmed, starting with '['). */
static int
scan_section(struct conf_ctx *x, const char *p, size_t n, int line)
{
	struct amtp_conf *c = x->c;
	struct conf_sec *s;
	const char *pat;
	char esc[AMTP_LOG_ESCAPE_SIZE];
	size_t i;

	if (n < 2 || p[n - 1] != ']' || !valid_name(p + 1, n - 2, 1)) {
		ctx_error(x, line, "malformed section header (expected "
		    "[name] with letters, digits, '.', '_' or '-')");
		return -1;
	}
	p++;
	n -= 2;
	amtp_log_escape(esc, sizeof(esc), p, n);
	if (n > AMTP_CONF_SECTION_MAX) {
		ctx_error(x, line, "[%s]: section name longer than %d bytes",
		    esc, AMTP_CONF_SECTION_MAX);
		return -1;
	}
	if ((pat = find_section(c, p, n)) == NULL) {
		ctx_error(x, line, "[%s]: unknown section", esc);
		return -1;
	}
	for (i = 0; i < c->nsecs; i++) {
		if (strlen(c->secs[i].name) == n &&
		    memcmp(c->secs[i].name, p, n) == 0) {
			ctx_error(x, line, "[%s]: section repeated (first at "
			    "line %d)", esc, c->secs[i].line);
			return -1;
		}
	}
	if (c->nsecs >= AMTP_CONF_SECTIONS_MAX) {
		ctx_error(x, line, "[%s]: more than %d sections", esc,
		    AMTP_CONF_SECTIONS_MAX);
		return -1;
	}
	s = &c->secs[c->nsecs++];
	memcpy(s->name, p, n);
	s->name[n] = '\0';
	s->pattern = pat;
	s->line = line;
	return 0;
}

/* Checks a key line (trimmed) for its form; the value is inih's job. */
static int
scan_key(struct conf_ctx *x, const char *p, size_t n, int line)
{
	char esc[AMTP_LOG_ESCAPE_SIZE];
	size_t i, klen;

	for (i = 0; i < n && p[i] != '=' && p[i] != ':'; i++)
		;
	if (i == n || p[i] != '=') {
		ctx_error(x, line, "expected key = value");
		return -1;
	}
	klen = i;
	while (klen > 0 && is_blank(p[klen - 1]))
		klen--;
	amtp_log_escape(esc, sizeof(esc), p, klen);
	if (!valid_name(p, klen, 1)) {
		ctx_error(x, line, "bad key name \"%s\"", esc);
		return -1;
	}
	if (klen > AMTP_CONF_NAME_MAX) {
		ctx_error(x, line, "key name longer than %d bytes",
		    AMTP_CONF_NAME_MAX);
		return -1;
	}
	if (x->c->nsecs == 0) {
		ctx_error(x, line, "%s: key outside any section", esc);
		return -1;
	}
	return 0;
}

/*
 * Pass 1 over the whole text: lines, bytes and structure.  Stops at the
 * first error (recorded in x); the sections it finds go to x->c->secs.
 */
static void
scan(struct conf_ctx *x)
{
	const char *t = x->text, *p, *e;
	size_t pos = 0, n, i;
	int line = 0;

	/* A UTF-8 byte order mark is allowed at the very start (as inih). */
	if (x->len >= 3 && memcmp(t, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < x->len) {
		line++;
		p = t + pos;
		e = memchr(p, '\n', x->len - pos);
		n = e != NULL ? (size_t)(e - p) : x->len - pos;
		pos += n + (e != NULL);
		if (n > AMTP_CONF_LINE_MAX) {
			ctx_error(x, line, "line longer than %d bytes",
			    AMTP_CONF_LINE_MAX);
			return;
		}
		if (n > 0 && p[n - 1] == '\r')
			n--;	/* CRLF */
		for (i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)p[i];

			if (ch == '\0') {
				ctx_error(x, line, "NUL byte in line");
				return;
			}
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
				ctx_error(x, line, "control character 0x%02x "
				    "in line", ch);
				return;
			}
		}
		while (n > 0 && isspace((unsigned char)*p)) {
			p++;
			n--;
		}
		while (n > 0 && isspace((unsigned char)p[n - 1]))
			n--;
		if (n == 0 || *p == ';' || *p == '#')
			continue;
		if (*p == '[') {
			if (scan_section(x, p, n, line) != 0)
				return;
		} else if (scan_key(x, p, n, line) != 0)
			return;
	}
}

/* ---- pass 2: inih ---------------------------------------------------- */

/* fgets-style reader over x->text that counts lines. */
static char *
reader(char *str, int num, void *stream)
{
	struct conf_ctx *x = stream;
	const char *p, *e;
	size_t n;

	if (x->pos >= x->len || num < 2)
		return NULL;
	/* inih sees only the lines before the first error found so far. */
	if (x->err_line != 0 && x->lineno + 1 >= x->err_line)
		return NULL;
	p = x->text + x->pos;
	e = memchr(p, '\n', x->len - x->pos);
	n = e != NULL ? (size_t)(e - p) + 1 : x->len - x->pos;
	x->lineno++;
	if (n > (size_t)num - 1) {
		/* The scan refuses such lines; never hand inih half a line. */
		ctx_error(x, x->lineno, "line longer than %d bytes",
		    AMTP_CONF_LINE_MAX);
		x->pos = x->len;
		return NULL;
	}
	memcpy(str, p, n);
	str[n] = '\0';
	x->pos += n;
	return str;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct conf_ctx *x = user;
	struct amtp_conf *c = x->c;
	const struct amtp_conf_key *k = NULL;
	struct conf_val *v;
	char why[600];
	size_t si, ki;
	int line = x->lineno, r;

	if (x->err_line != 0 && line >= x->err_line)
		return 0;	/* the scan found an error here or before */
	for (si = 0; si < c->nsecs; si++)
		if (strcmp(c->secs[si].name, section) == 0)
			break;
	if (si == c->nsecs) {
		/* The scan saw every header; inih disagrees with us. */
		ctx_error(x, line, "[%s] %s: section not understood", section,
		    name);
		return 0;
	}
	for (ki = 0; ki < c->nkeys; ki++) {
		if (strcmp(c->schema[ki].section, c->secs[si].pattern) == 0 &&
		    strcmp(c->schema[ki].name, name) == 0) {
			k = &c->schema[ki];
			break;
		}
	}
	if (k == NULL) {
		ctx_error(x, line, "[%s] %s: unknown key", section, name);
		return 0;
	}
	v = &c->vals[si * c->nkeys + ki];
	if (v->text != NULL) {
		ctx_error(x, line, "[%s] %s: duplicate key (first set at line "
		    "%d)", section, name, v->line);
		return 0;
	}
	why[0] = '\0';
	if ((r = parse_value(k, value, v, why, sizeof(why))) != 0) {
		val_clear(v);
		if (r == AMTP_E_NOMEM) {
			x->err_r = r;
			x->err_line = line;
			errf(x->err, x->errlen, "%s:%d: out of memory", x->name,
			    line);
			return 0;
		}
		ctx_error(x, line, "[%s] %s: %s", section, name, why);
		return 0;
	}
	v->line = line;
	return 1;
}

/* After both passes: every required key is set (and not empty). */
static void
check_required(struct conf_ctx *x)
{
	struct amtp_conf *c = x->c;
	const struct amtp_conf_key *k;
	const struct conf_val *v;
	size_t ki, si;
	int found;

	for (ki = 0; ki < c->nkeys; ki++) {
		k = &c->schema[ki];
		if (!k->required)
			continue;
		found = 0;
		for (si = 0; si < c->nsecs; si++) {
			if (strcmp(c->secs[si].pattern, k->section) != 0)
				continue;
			found = 1;
			v = &c->vals[si * c->nkeys + ki];
			if (v->text == NULL || v->text[0] == '\0') {
				ctx_error(x, c->secs[si].line, "[%s] %s: "
				    "required key %s", c->secs[si].name,
				    k->name, v->text == NULL ? "is missing" :
				    "must not be empty");
				return;
			}
		}
		if (!found && !is_pattern(k->section)) {
			ctx_error(x, 0, "[%s] %s: required key is missing (and "
			    "so is the section)", k->section, k->name);
			return;
		}
	}
}

/* ---- public ------------------------------------------------------------ */

void
amtp_conf_free(struct amtp_conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->defs != NULL) {
		for (i = 0; i < c->nkeys; i++)
			val_clear(&c->defs[i]);
		free(c->defs);
	}
	if (c->vals != NULL) {
		for (i = 0; i < c->nsecs * c->nkeys; i++)
			val_clear(&c->vals[i]);
		free(c->vals);
	}
	free(c->secs);
	free(c);
}

int
amtp_conf_load_mem(const char *name, const char *text, size_t len,
    const struct amtp_conf_key *schema, struct amtp_conf **out, char *err,
    size_t errlen)
{
	struct amtp_conf *c = NULL;
	struct conf_ctx x;
	int r = AMTP_E_INVAL, ir;

	*out = NULL;
	memset(&x, 0, sizeof(x));
	x.name = name != NULL ? name : "(config)";
	x.text = text;
	x.len = len;
	x.err = err;
	x.errlen = errlen;
	errf(err, errlen, "no error");
	if (schema == NULL || (text == NULL && len != 0)) {
		errf(err, errlen, "%s: no schema or no text", x.name);
		goto out;
	}
	if (len > AMTP_CONF_FILE_MAX) {
		r = AMTP_E_TOOBIG;
		errf(err, errlen, "%s: file larger than %d bytes", x.name,
		    AMTP_CONF_FILE_MAX);
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	x.c = c;
	if ((r = load_schema(c, schema, &x)) != 0)
		goto out;
	if ((c->secs = calloc(AMTP_CONF_SECTIONS_MAX, sizeof(*c->secs))) ==
	    NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}

	scan(&x);
	/* Values for the sections found (none when the scan failed early). */
	if (c->nsecs > 0 && c->nkeys > 0 &&
	    (c->vals = calloc(c->nsecs * c->nkeys, sizeof(*c->vals))) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	if (len > 0) {
		pthread_once(&ini_once, ini_setup);
		ir = ini_parse_stream(reader, &x, handler, &x);
		if (ir == -2) {
			r = AMTP_E_NOMEM;
			goto out;
		}
		if (ir > 0 && (x.err_line == 0 || ir < x.err_line))
			ctx_error(&x, ir, "syntax error");
		else if (ir < 0 && x.err_r == 0)
			ctx_error(&x, 0, "parser failed (%d)", ir);
	}
	if (x.err_r == 0)
		check_required(&x);
	if (x.err_r != 0) {
		r = x.err_r;
		goto out;
	}
	errf(err, errlen, "no error");
	*out = c;
	c = NULL;
	r = 0;
 out:
	amtp_conf_free(c);
	return r;
}

int
amtp_conf_load(const char *path, const struct amtp_conf_key *schema,
    struct amtp_conf **out, char *err, size_t errlen)
{
	struct amtp_buf *b = NULL;
	int r;

	*out = NULL;
	if (path == NULL) {
		errf(err, errlen, "no configuration file given");
		return AMTP_E_INVAL;
	}
	if ((r = amtp_buf_load_file(path, AMTP_CONF_FILE_MAX, &b)) != 0) {
		switch (r) {
		case AMTP_E_NOTFOUND:
			errf(err, errlen, "%s: file does not exist", path);
			break;
		case AMTP_E_PERM:
			errf(err, errlen, "%s: cannot be read by this user",
			    path);
			break;
		case AMTP_E_TOOBIG:
			errf(err, errlen, "%s: file larger than %d bytes", path,
			    AMTP_CONF_FILE_MAX);
			break;
		case AMTP_E_INVAL:
			r = AMTP_E_CONFIG;
			errf(err, errlen, "%s: not a regular file", path);
			break;
		default:
			errf(err, errlen, "%s: %s: %s", path, amtp_strerror(r),
			    strerror(errno));
			break;
		}
		goto out;
	}
	r = amtp_conf_load_mem(path, (const char *)amtp_buf_ptr(b),
	    amtp_buf_len(b), schema, out, err, errlen);
 out:
	amtp_buf_free(b);
	return r;
}

/* ---- getters ----------------------------------------------------------- */

/*
 * The value of (section, name): the file's, else the default.  A key that
 * the schema does not know, or of another type than want (-1: any), is a
 * programming error and aborts.
 */
static const struct conf_val *
lookup(const struct amtp_conf *c, const char *section, const char *name,
    int want)
{
	const char *sec;
	size_t ki, si;

	if (c == NULL || section == NULL || name == NULL)
		abort();
	/* The schema section, as the scan resolves it (exact names first). */
	if ((sec = find_section(c, section, strlen(section))) == NULL)
		abort();	/* not in the schema: a programming error */
	for (ki = 0; ki < c->nkeys; ki++)
		if (strcmp(c->schema[ki].section, sec) == 0 &&
		    strcmp(c->schema[ki].name, name) == 0)
			break;
	if (ki == c->nkeys)
		abort();	/* not in the schema: a programming error */
	if (want >= 0 && (int)c->schema[ki].type != want)
		abort();	/* wrong getter for the type */
	for (si = 0; si < c->nsecs; si++) {
		if (strcmp(c->secs[si].name, section) == 0 &&
		    c->vals[si * c->nkeys + ki].text != NULL)
			return &c->vals[si * c->nkeys + ki];
	}
	return &c->defs[ki];
}

const char *
amtp_conf_str(const struct amtp_conf *c, const char *section,
    const char *name)
{
	return lookup(c, section, name, -1)->text;
}

long long
amtp_conf_int(const struct amtp_conf *c, const char *section,
    const char *name)
{
	return lookup(c, section, name, AMTP_CONF_INT)->num;
}

int
amtp_conf_bool(const struct amtp_conf *c, const char *section,
    const char *name)
{
	return lookup(c, section, name, AMTP_CONF_BOOL)->num != 0;
}

size_t
amtp_conf_list_len(const struct amtp_conf *c, const char *section,
    const char *name)
{
	return lookup(c, section, name, AMTP_CONF_LIST)->nitems;
}

const char *
amtp_conf_list_item(const struct amtp_conf *c, const char *section,
    const char *name, size_t i)
{
	const struct conf_val *v = lookup(c, section, name, AMTP_CONF_LIST);

	return i < v->nitems ? v->items[i] : NULL;
}

size_t
amtp_conf_sections(const struct amtp_conf *c, const char *pattern,
    const char **names, size_t max)
{
	size_t i, n = 0;

	if (c == NULL || pattern == NULL)
		return 0;
	for (i = 0; i < c->nsecs; i++) {
		if (strcmp(c->secs[i].pattern, pattern) != 0)
			continue;
		if (names != NULL && n < max)
			names[n] = c->secs[i].name;
		n++;
	}
	return n;
}

/* ---- defaults file ----------------------------------------------------- */

static int
write_key(FILE *f, const struct amtp_conf_key *k, int in_pattern)
{
	const char *lead = "#";
	size_t i;

	if (fprintf(f, "\n") < 0)
		return -1;
	if (k->help != NULL && fprintf(f, "# %s\n", k->help) < 0)
		return -1;
	if (fprintf(f, "# %s", type_names[k->type]) < 0)
		return -1;
	switch (k->type) {
	case AMTP_CONF_INT:
		if (fprintf(f, ", %lld..%lld", k->min, k->max) < 0)
			return -1;
		break;
	case AMTP_CONF_ENUM:
		if (fprintf(f, ", one of:") < 0)
			return -1;
		for (i = 0; k->choices[i] != NULL; i++)
			if (fprintf(f, " %s", k->choices[i]) < 0)
				return -1;
		break;
	case AMTP_CONF_BOOL:
		if (fprintf(f, ", true or false") < 0)
			return -1;
		break;
	case AMTP_CONF_LIST:
		if (fprintf(f, ", comma-separated") < 0)
			return -1;
		break;
	default:
		break;
	}
	if ((k->type == AMTP_CONF_STR || k->type == AMTP_CONF_LIST) &&
	    k->max > 0 && k->max < AMTP_CONF_VALUE_MAX &&
	    fprintf(f, ", at most %lld bytes", k->max) < 0)
		return -1;
	if (k->required && fprintf(f, "; required") < 0)
		return -1;
	if (fprintf(f, "\n") < 0)
		return -1;
	/* Only a required key with a default is written live; everything
	 * else is a comment, so the file loads back as it is. */
	if (!in_pattern && k->required && k->def != NULL)
		lead = "";
	return fprintf(f, "%s%s = %s\n", lead, k->name,
	    k->def != NULL ? k->def : "") < 0 ? -1 : 0;
}

int
amtp_conf_write_defaults(FILE *f, const struct amtp_conf_key *schema)
{
	const char *sec;
	size_t i, j, n;
	int pat, seen;

	if (f == NULL || schema == NULL)
		return AMTP_E_INVAL;
	if (fprintf(f, "# amtprov configuration: every key at its default, "
	    "commented out.\n# Remove the leading '#' to change one.  "
	    "Format: docs/configuration-format.md\n") < 0)
		return AMTP_E_IO;
	for (n = 0; schema[n].section != NULL; n++)
		;
	/* Sections in schema order, each once, with all its keys. */
	for (i = 0; i < n; i++) {
		sec = schema[i].section;
		seen = 0;
		for (j = 0; j < i; j++)
			if (strcmp(schema[j].section, sec) == 0)
				seen = 1;
		if (seen)
			continue;
		pat = is_pattern(sec);
		if (pat) {
			if (fprintf(f, "\n# One section per item, named "
			    "[%.*sNAME]; NAME: letters, digits, '_' or '-'.\n"
			    "#[%.*sNAME]\n", (int)strlen(sec) - 1, sec,
			    (int)strlen(sec) - 1, sec) < 0)
				return AMTP_E_IO;
		} else if (fprintf(f, "\n[%s]\n", sec) < 0)
			return AMTP_E_IO;
		for (j = i; j < n; j++) {
			if (strcmp(schema[j].section, sec) != 0)
				continue;
			if ((int)schema[j].type < 0 ||
			    schema[j].type >= AMTP_CONF__MAX)
				return AMTP_E_INVAL;
			if (write_key(f, &schema[j], pat) != 0)
				return AMTP_E_IO;
		}
	}
	if (fflush(f) != 0 || ferror(f))
		return AMTP_E_IO;
	return 0;
}
