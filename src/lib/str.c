/*
 * amtprov - str.c: number parsing, hex and base64 (libamtp, all roles).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/str.h"

int
amtp_parse_int(const char *s, long long min, long long max, long long *out)
{
	unsigned long long acc = 0, lim;
	size_t i = 0, n;
	int neg = 0;

	if (s == NULL)
		return AMTP_E_PARSE;
	n = strnlen(s, AMTP_INT_TEXT_MAX + 1);
	if (n == 0 || n > AMTP_INT_TEXT_MAX)
		return n == 0 ? AMTP_E_PARSE : AMTP_E_RANGE;
	if (s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == n)
		return AMTP_E_PARSE;
	lim = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
	for (; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return AMTP_E_PARSE;
		d = (unsigned)(s[i] - '0');
		if (acc > (lim - d) / 10)
			return AMTP_E_RANGE;
		acc = acc * 10 + d;
	}
	if (neg) {
		long long v = acc == (unsigned long long)LLONG_MAX + 1 ?
		    LLONG_MIN : -(long long)acc;
		if (v < min || v > max)
			return AMTP_E_RANGE;
		*out = v;
	} else {
		if ((long long)acc < min || (long long)acc > max)
			return AMTP_E_RANGE;
		*out = (long long)acc;
	}
	return 0;
}

size_t
amtp_strlcpy(char *dst, const char *src, size_t dstsz)
{
	size_t n = strlen(src);

	if (dstsz > 0) {
		size_t c = n < dstsz - 1 ? n : dstsz - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int
amtp_str_eq_ci(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i;

	if (alen != blen)
		return 0;
	for (i = 0; i < alen; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

int
amtp_hex_encode(char *dst, size_t dstsz, const void *src, size_t len, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	const uint8_t *s = src;
	size_t i;

	if (len > (SIZE_MAX - 1) / 2 || dstsz < 2 * len + 1)
		return AMTP_E_TOOBIG;
	for (i = 0; i < len; i++) {
		dst[2 * i] = digits[s[i] >> 4];
		dst[2 * i + 1] = digits[s[i] & 0xf];
	}
	dst[2 * len] = '\0';
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
amtp_hex_decode(const char *src, size_t srclen, uint8_t *out, size_t outlen)
{
	size_t i;

	if (outlen > SIZE_MAX / 2 || srclen != 2 * outlen)
		return AMTP_E_PARSE;
	for (i = 0; i < outlen; i++) {
		int hi = hexval(src[2 * i]), lo = hexval(src[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return AMTP_E_PARSE;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
amtp_b64_encode(struct amtp_buf *b, const void *src, size_t len)
{
	const uint8_t *s = src;
	uint8_t *o;
	size_t i, olen;
	int r;

	if (len > (SIZE_MAX / 4) * 3 - 3)
		return AMTP_E_TOOBIG;
	olen = (len + 2) / 3 * 4;
	if ((r = amtp_buf_reserve(b, olen, &o)) != 0)
		return r;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];

		*o++ = (uint8_t)b64chars[v >> 18];
		*o++ = (uint8_t)b64chars[(v >> 12) & 63];
		*o++ = (uint8_t)b64chars[(v >> 6) & 63];
		*o++ = (uint8_t)b64chars[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)s[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)s[i + 1] << 8;
		*o++ = (uint8_t)b64chars[v >> 18];
		*o++ = (uint8_t)b64chars[(v >> 12) & 63];
		*o++ = i + 1 < len ? (uint8_t)b64chars[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	return 0;
}

static int
b64val(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(b64chars, c);
	return p != NULL ? (int)(p - b64chars) : -1;
}

int
amtp_b64_decode(struct amtp_buf *b, const char *src, size_t len)
{
	uint8_t q[4], out[3];
	size_t i, nq = 0, pad = 0, start;
	int r, v;

	start = amtp_buf_len(b);
	(void)start;
	for (i = 0; i < len; i++) {
		char c = src[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (pad > 0 && c != '=')
			return AMTP_E_PARSE;	/* data after padding */
		if (c == '=') {
			if (nq < 2)
				return AMTP_E_PARSE;
			pad++;
			q[nq++] = 0;
		} else {
			if ((v = b64val(c)) < 0)
				return AMTP_E_PARSE;
			q[nq++] = (uint8_t)v;
		}
		if (nq == 4) {
			if (pad > 2)
				return AMTP_E_PARSE;
			out[0] = (uint8_t)(q[0] << 2 | q[1] >> 4);
			out[1] = (uint8_t)(q[1] << 4 | q[2] >> 2);
			out[2] = (uint8_t)(q[2] << 6 | q[3]);
			if ((r = amtp_buf_put(b, out, 3 - pad)) != 0)
				return r;
			nq = 0;
			if (pad > 0)
				pad = 3;	/* nothing but '=' may follow */
		}
	}
	if (nq != 0)
		return AMTP_E_PARSE;
	return 0;
}

size_t
amtp_utf8_seq(const unsigned char *s, size_t avail, uint32_t *cp)
{
	uint32_t c;
	size_t n, i;

	*cp = 0;
	if (avail == 0)
		return 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if (i >= avail || (s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}
