/*
 * amtprov - jsondump.c: the flash file's text (amtsim).  See jsondump.h.
 *
 * jansson's json_dumps() decodes every character of every string as UTF-8
 * and hands the text over in small pieces, and it records each array and
 * object in a hash table to find loops: it was a fifth of the simulator's
 * CPU in a provisioning run, since a device writes its whole flash (about
 * 12 KB, mostly PEM keys and base64 certificates) at every change.  This
 * writer gives the same bytes: it copies runs of characters that need no
 * escape at once and looks at a byte >= 0x80 only to check its UTF-8
 * sequence; reals (none in the flash today) are left to jansson.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/str.h"
#include "jsondump.h"

struct jw {
	char	*p;
	size_t	 len;
	size_t	 cap;		/* allocated, > len */
	size_t	 max;
};

/* Grows w for n more bytes and the NUL (never past max + 1 bytes).  0,
 * AMTP_E_TOOBIG or AMTP_E_NOMEM. */
static int
jw_grow(struct jw *w, size_t n)
{
	size_t need, ncap;
	char *np;

	if (n > w->max - w->len)
		return AMTP_E_TOOBIG;
	need = w->len + n + 1;
	if (need <= w->cap)
		return 0;
	ncap = w->cap;
	while (ncap < need)
		ncap *= 2;
	if (ncap > w->max + 1)
		ncap = w->max + 1;
	if ((np = malloc(ncap)) == NULL)
		return AMTP_E_NOMEM;
	/* the text may hold secrets: the old block is wiped */
	memcpy(np, w->p, w->len);
	explicit_bzero(w->p, w->cap);
	free(w->p);
	w->p = np;
	w->cap = ncap;
	return 0;
}

/* Appends n bytes (the cap never passes max + 1: room means in bounds). */
static inline int
jw_put(struct jw *w, const void *s, size_t n)
{
	int r;

	if (n >= w->cap - w->len && (r = jw_grow(w, n)) != 0)
		return r;
	memcpy(w->p + w->len, s, n);
	w->len += n;
	return 0;
}

static inline int
jw_ch(struct jw *w, char c)
{
	int r;

	if (w->cap - w->len <= 1 && (r = jw_grow(w, 1)) != 0)
		return r;
	w->p[w->len++] = c;
	return 0;
}

/*
 * The length of the run at s that goes out as it is: printable ASCII but
 * '"' and '\\', and well-formed UTF-8.  Eight bytes at a time while none
 * of them is a control character, '"', '\\' or >= 0x80.  *bad: the run
 * ends at a byte that is not UTF-8.
 */
static size_t
plain_run(const unsigned char *s, size_t len, int *bad)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t high = 0x8080808080808080ULL;
	uint64_t x, t;
	uint32_t cp;
	size_t i = 0, n;

	*bad = 0;
	for (;;) {
		while (len - i >= 8) {
			memcpy(&x, s + i, 8);
			/* a byte < 0x20, == '"', == '\\' or >= 0x80 */
			t = ((x - ones * 0x20) | ((x ^ (ones * '"')) - ones) |
			    ((x ^ (ones * '\\')) - ones) | x) & high;
			if (t != 0)
				break;
			i += 8;
		}
		while (i < len && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' &&
		    s[i] != '\\')
			i++;
		if (i >= len || s[i] < 0x80)
			return i;
		/* what jansson accepts in a string and would refuse to
		 * dump is what amtp_utf8_seq refuses */
		if ((n = amtp_utf8_seq(s + i, len - i, &cp)) == 0) {
			*bad = 1;
			return i;
		}
		i += n;
	}
}

static int
jw_string(struct jw *w, const char *str, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)str;
	char esc[6];
	size_t i = 0, run, el;
	int r, bad;

	if ((r = jw_ch(w, '"')) != 0)
		return r;
	while (i < len) {
		run = plain_run(s + i, len - i, &bad);
		if (bad)
			return AMTP_E_JSON;
		if (run > 0 && (r = jw_put(w, s + i, run)) != 0)
			return r;
		if ((i += run) >= len)
			break;
		esc[0] = '\\';
		el = 2;
		switch (s[i]) {
		case '"':
		case '\\':
			esc[1] = (char)s[i];
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:	/* another control character */
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[s[i] >> 4];
			esc[5] = hex[s[i] & 0xf];
			el = 6;
			break;
		}
		if ((r = jw_put(w, esc, el)) != 0)
			return r;
		i++;
	}
	return jw_ch(w, '"');
}

static int
jw_value(struct jw *w, const json_t *v, unsigned depth)
{
	char num[32], *t;
	const char *key;
	json_t *e;
	size_t i;
	void *it;
	int n, r = 0;

	switch (json_typeof(v)) {
	case JSON_NULL:
		return jw_put(w, "null", 4);
	case JSON_TRUE:
		return jw_put(w, "true", 4);
	case JSON_FALSE:
		return jw_put(w, "false", 5);
	case JSON_INTEGER:
		n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		if (n < 0 || (size_t)n >= sizeof(num))
			return AMTP_E_JSON;
		return jw_put(w, num, (size_t)n);
	case JSON_REAL:
		/* jansson's own shortest round-trip text of a double */
		if ((t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT)) ==
		    NULL)
			return AMTP_E_NOMEM;
		r = jw_put(w, t, strlen(t));
		free(t);
		return r;
	case JSON_STRING:
		return jw_string(w, json_string_value(v),
		    json_string_length(v));
	case JSON_ARRAY:
		if (depth >= AMTP_SIM_FLASH_DEPTH_MAX)
			return AMTP_E_JSON;
		if ((r = jw_ch(w, '[')) != 0)
			return r;
		json_array_foreach(v, i, e) {
			if ((i > 0 && (r = jw_ch(w, ',')) != 0) ||
			    (r = jw_value(w, e, depth + 1)) != 0)
				return r;
		}
		return jw_ch(w, ']');
	case JSON_OBJECT:
		if (depth >= AMTP_SIM_FLASH_DEPTH_MAX)
			return AMTP_E_JSON;
		if ((r = jw_ch(w, '{')) != 0)
			return r;
		/* insertion order, as json_dumps without JSON_SORT_KEYS */
		for (it = json_object_iter((json_t *)(uintptr_t)v), i = 0;
		    it != NULL; it = json_object_iter_next(
		    (json_t *)(uintptr_t)v, it), i++) {
			key = json_object_iter_key(it);
			if ((i > 0 && (r = jw_ch(w, ',')) != 0) ||
			    (r = jw_string(w, key,
			    json_object_iter_key_len(it))) != 0 ||
			    (r = jw_ch(w, ':')) != 0 ||
			    (r = jw_value(w, json_object_iter_value(it),
			    depth + 1)) != 0)
				return r;
		}
		return jw_ch(w, '}');
	default:
		return AMTP_E_JSON;
	}
}

int
amtsim_json_dump(const json_t *v, size_t max, size_t hint, char **out,
    size_t *outlen)
{
	struct jw w;
	int r;

	*out = NULL;
	*outlen = 0;
	if (v == NULL || (!json_is_object(v) && !json_is_array(v)) ||
	    max == 0 || max > SIZE_MAX / 4)
		return AMTP_E_INVAL;
	memset(&w, 0, sizeof(w));
	w.max = max;
	/* at least 64 bytes, at most max + 1 (hint + 1 may wrap to 0) */
	w.cap = hint < 64 ? 64 : hint >= max ? max + 1 : hint + 1;
	if (w.cap > max + 1)
		w.cap = max + 1;
	if ((w.p = malloc(w.cap)) == NULL)
		return AMTP_E_NOMEM;
	if ((r = jw_value(&w, v, 0)) != 0) {
		explicit_bzero(w.p, w.cap);
		free(w.p);
		return r;
	}
	w.p[w.len] = '\0';
	*out = w.p;
	*outlen = w.len;
	return 0;
}
