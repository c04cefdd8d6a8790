/*
 * amtprov - rand.c: random bytes from getrandom(2), unbiased integers, AMT
 * account passwords and one-time passwords (libamtp; the agent makes OTPs,
 * the service point makes admin and MEBx passwords).  See rand.h.
 *
 * Characters are drawn by rejection: a random byte is used only when it is
 * below the largest multiple of the alphabet size, so every character is
 * equally likely.  A password is drawn whole from the full alphabet and drawn
 * again until it has every class AMT asks for, which makes every valid
 * password equally likely (forcing one character per class into fixed slots
 * would not).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/rand.h"
#include "amtprov/secret.h"

/*
 * Symbols used in generated passwords.  AMT and ConfigMgr refuse ':' '"' ','
 * and do not count '_' as a symbol, so those never appear.  We also leave out
 * characters that need escaping or quoting somewhere a password travels or is
 * shown: '<' '>' '&' '\'' (XML/SOAP bodies and attributes), '\\' and '`' and
 * '$' (C and JSON escapes, shell expansion if an admin pastes it), '%' (URL
 * and printf encodings), ';' '#' (INI comments), '|' and space.  What is left
 * is safe verbatim in a WS-Management body, a JSON string and a Digest
 * response.
 */
static const char pw_symbols[] = "!()*+-./=?@[]^{}~";
static const char pw_upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char pw_lower[] = "abcdefghijklmnopqrstuvwxyz";
static const char pw_digits[] = "0123456789";

/* Characters AMT refuses in a password (or does not count as symbols). */
static const char pw_forbidden[] = ":\",_";

/* Random bytes are taken in batches of this size to keep syscalls few. */
#define RAND_BATCH	64
/* Draws of a whole password before giving up (the chance that a 8-char
 * password lacks a class is below 0.7, so 1000 draws never all fail). */
#define PW_TRIES	1000

int
amtp_rand_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t off = 0;
	ssize_t n;

	if (buf == NULL && len != 0)
		return AMTP_E_INVAL;
	while (off < len) {
		n = getrandom(p + off, len - off, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return AMTP_E_IO;
		off += (size_t)n;
	}
	return 0;
}

int
amtp_rand_uniform(uint32_t upper, uint32_t *out)
{
	uint32_t v, min;
	int r;

	*out = 0;
	if (upper == 0)
		return AMTP_E_INVAL;
	/* 2^32 mod upper: values below it are the biased remainder. */
	min = (uint32_t)(-upper) % upper;
	do {
		if ((r = amtp_rand_bytes(&v, sizeof(v))) != 0)
			return r;
	} while (v < min);
	*out = v % upper;
	explicit_bzero(&v, sizeof(v));
	return 0;
}

/*
 * Fills dst[0..len) with characters of alpha (alen <= 256) without bias.
 */
static int
fill_chars(char *dst, size_t len, const char *alpha, size_t alen)
{
	uint8_t pool[RAND_BATCH];
	size_t i = 0, used = sizeof(pool), limit;
	int r = 0;

	if (alen == 0 || alen > 256)
		return AMTP_E_INVAL;
	limit = 256 - (256 % alen);	/* bytes >= limit are thrown away */
	while (i < len) {
		if (used == sizeof(pool)) {
			if ((r = amtp_rand_bytes(pool, sizeof(pool))) != 0)
				goto out;
			used = 0;
		}
		if (pool[used] < limit)
			dst[i++] = alpha[pool[used] % alen];
		used++;
	}
 out:
	explicit_bzero(pool, sizeof(pool));
	return r;
}

static int
is_forbidden(char c)
{
	return c == '\0' || strchr(pw_forbidden, c) != NULL;
}

int
amtp_password_is_strong(const char *pw, size_t len)
{
	int up = 0, lo = 0, dig = 0, sym = 0;
	size_t i;
	unsigned char c;

	if (pw == NULL || len < AMTP_AMT_PASSWORD_MIN ||
	    len > AMTP_AMT_PASSWORD_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		c = (unsigned char)pw[i];
		if (c <= 0x20 || c >= 0x7f || is_forbidden((char)c))
			return 0;	/* control, space, non-ASCII, refused */
		if (c >= 'A' && c <= 'Z')
			up = 1;
		else if (c >= 'a' && c <= 'z')
			lo = 1;
		else if (c >= '0' && c <= '9')
			dig = 1;
		else
			sym = 1;
	}
	return up && lo && dig && sym;
}

int
amtp_rand_password(size_t len, struct amtp_secret **out)
{
	char alpha[sizeof(pw_upper) + sizeof(pw_lower) + sizeof(pw_digits) +
	    sizeof(pw_symbols)];
	char pw[AMTP_AMT_PASSWORD_MAX + 1];
	size_t alen = 0;
	int tries, r;

	*out = NULL;
	if (len < AMTP_AMT_PASSWORD_MIN || len > AMTP_AMT_PASSWORD_MAX)
		return AMTP_E_RANGE;
	memcpy(alpha + alen, pw_upper, sizeof(pw_upper) - 1);
	alen += sizeof(pw_upper) - 1;
	memcpy(alpha + alen, pw_lower, sizeof(pw_lower) - 1);
	alen += sizeof(pw_lower) - 1;
	memcpy(alpha + alen, pw_digits, sizeof(pw_digits) - 1);
	alen += sizeof(pw_digits) - 1;
	memcpy(alpha + alen, pw_symbols, sizeof(pw_symbols) - 1);
	alen += sizeof(pw_symbols) - 1;

	r = AMTP_E_INTERNAL;
	for (tries = 0; tries < PW_TRIES; tries++) {
		if ((r = fill_chars(pw, len, alpha, alen)) != 0)
			goto out;
		pw[len] = '\0';
		if (amtp_password_is_strong(pw, len)) {
			r = amtp_secret_new(pw, len, out);
			goto out;
		}
		r = AMTP_E_INTERNAL;
	}
 out:
	explicit_bzero(pw, sizeof(pw));
	return r;
}

int
amtp_rand_otp(struct amtp_secret **out)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	char otp[AMTP_OTP_LEN + 1];
	int r;

	*out = NULL;
	if ((r = fill_chars(otp, AMTP_OTP_LEN, alpha, sizeof(alpha) - 1)) != 0)
		goto out;
	otp[AMTP_OTP_LEN] = '\0';
	r = amtp_secret_new(otp, AMTP_OTP_LEN, out);
 out:
	explicit_bzero(otp, sizeof(otp));
	return r;
}
