/*
 * amtprov - str.h: string views, bounded number parsing, hex and base64.
 */
#ifndef AMTPROV_STR_H
#define AMTPROV_STR_H

#include <stddef.h>
#include <stdint.h>

struct amtp_buf;

/* A view of bytes that it does not own (not NUL-terminated). */
struct amtp_str {
	const char *p;
	size_t len;
};

/*
 * Parses a decimal integer, in the spirit of strtonum(3): optional '-', digits
 * only, no spaces, at most AMTP_INT_TEXT_MAX characters, and min <= v <= max.
 * Returns 0, AMTP_E_PARSE (not a number) or AMTP_E_RANGE; *out is set only on
 * success.
 */
int amtp_parse_int(const char *s, long long min, long long max, long long *out);

/* Bounded strlcpy: copies at most dstsz-1 bytes, always terminates; returns
 * strlen(src) so that truncation can be detected (>= dstsz). */
size_t amtp_strlcpy(char *dst, const char *src, size_t dstsz);

/*
 * Length (2 to 4) of the well-formed UTF-8 sequence at s, whose first byte
 * is >= 0x80, within avail bytes (reading stops at the first byte that does
 * not fit, so a NUL-terminated string may pass 4), and its code point in
 * *cp; 0 when it is not one: overlong, a surrogate, past U+10FFFF or cut.
 */
size_t amtp_utf8_seq(const unsigned char *s, size_t avail, uint32_t *cp);

/* Case-insensitive ASCII compare of two views. 1 when equal. */
int amtp_str_eq_ci(const char *a, size_t alen, const char *b, size_t blen);

/* Writes 2*len hex digits and a NUL into dst (dstsz >= 2*len+1).  upper
 * selects A-F.  AMTP_E_TOOBIG when dst is too small. */
int amtp_hex_encode(char *dst, size_t dstsz, const void *src, size_t len,
    int upper);

/* Decodes exactly 2*outlen hex digits (either case) from src[0..srclen) into
 * out.  AMTP_E_PARSE on a bad digit or a length other than 2*outlen. */
int amtp_hex_decode(const char *src, size_t srclen, uint8_t *out, size_t outlen);

/* Appends the base64 (RFC 4648, padded, one line) of src to b. */
int amtp_b64_encode(struct amtp_buf *b, const void *src, size_t len);

/* Decodes base64 text (whitespace allowed between groups, padding required)
 * and appends the bytes to b.  AMTP_E_PARSE on bad input. */
int amtp_b64_decode(struct amtp_buf *b, const char *src, size_t len);

#endif
