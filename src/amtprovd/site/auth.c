/*
 * amtprov - site/auth.c: Bearer token parsing, hashing and checks (role
 * site).  No token is ever logged; callers log the caller's address and, for
 * agents and admins, the name the token maps to.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/rand.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "site/auth.h"

/* RFC 6750 b64token characters (the trailing '=' run is checked apart). */
static int
is_b64token_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~' || c == '+' || c == '/';
}

static int
is_b64url_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static int
valid_b64token(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && is_b64token_char((unsigned char)p[i]))
		i++;
	if (i == 0)
		return 0;
	while (i < len && p[i] == '=')
		i++;
	return i == len;
}

int
site_auth_bearer(const char *hdr, const char **tok, size_t *len)
{
	const char *p;
	size_t n;

	*tok = NULL;
	*len = 0;
	if (hdr == NULL || strlen(hdr) < 7 ||
	    !amtp_str_eq_ci(hdr, 6, "Bearer", 6) || hdr[6] != ' ')
		return AMTP_E_AUTH;
	p = hdr + 6;
	while (*p == ' ')
		p++;
	n = strnlen(p, AMTP_SITE_TOKEN_MAX + 1);
	/* trailing spaces are tolerated, nothing else is */
	while (n > 0 && p[n - 1] == ' ')
		n--;
	if (n == 0 || n > AMTP_SITE_TOKEN_MAX || !valid_b64token(p, n))
		return AMTP_E_AUTH;
	*tok = p;
	*len = n;
	return 0;
}

int
site_auth_token_random(char *dst, size_t dstsz)
{
	uint8_t raw[AMTP_SITE_TOKEN_BYTES];
	struct amtp_buf *b = NULL;
	const char *s;
	size_t i, o = 0;
	int r;

	if (dstsz < SITE_TOKEN_RANDOM_SIZE)
		return AMTP_E_TOOBIG;
	dst[0] = '\0';
	if ((r = amtp_rand_bytes(raw, sizeof(raw))) != 0)
		goto out;
	if ((b = amtp_buf_new(2 * sizeof(raw) + 8)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	if ((r = amtp_b64_encode(b, raw, sizeof(raw))) != 0)
		goto out;
	s = amtp_buf_str(b);
	for (i = 0; s[i] != '\0' && s[i] != '=' &&
	    o < SITE_TOKEN_RANDOM_SIZE - 1; i++)
		dst[o++] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
	dst[o] = '\0';
	r = o == SITE_TOKEN_RANDOM_SIZE - 1 ? 0 : AMTP_E_INTERNAL;
 out:
	explicit_bzero(raw, sizeof(raw));
	amtp_buf_free(b);
	return r;
}

int
site_auth_sha256(const void *p, size_t len, uint8_t out[32])
{
	unsigned int mdlen = 0;

	if (EVP_Digest(p, len, out, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		return AMTP_E_CRYPTO;
	return 0;
}

int
site_auth_sha256_hex(const void *p, size_t len, char *out)
{
	uint8_t md[32];
	int r;

	out[0] = '\0';
	if ((r = site_auth_sha256(p, len, md)) != 0)
		return r;
	return amtp_hex_encode(out, SITE_SHA256_HEX_SIZE, md, sizeof(md), 0);
}

int
site_auth_enrol_load(const char *path, uint8_t hash[32], char *err,
    size_t errlen)
{
	struct amtp_buf *b = NULL;
	struct stat st;
	const char *s;
	size_t n;
	int r;

	memset(hash, 0, 32);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (stat(path, &st) == -1) {
		r = errno == ENOENT ? AMTP_E_NOTFOUND : AMTP_E_IO;
		snprintf(err, errlen, "%s: enrolment secret file: %s", path,
		    strerror(errno));
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		r = AMTP_E_PERM;
		snprintf(err, errlen, "%s: enrolment secret file must not be "
		    "readable by group or other (chmod 600)", path);
		goto out;
	}
	if ((r = amtp_buf_load_file(path, AMTP_SITE_ENROL_SECRET_MAX + 2,
	    &b)) != 0) {
		snprintf(err, errlen, "%s: enrolment secret file: %s%s", path,
		    amtp_strerror(r), r == AMTP_E_TOOBIG ? " (at most 256 "
		    "characters)" : "");
		if (r == AMTP_E_TOOBIG)
			r = AMTP_E_RANGE;
		goto out;
	}
	s = amtp_buf_str(b);
	n = amtp_buf_len(b);
	if (n > 0 && s[n - 1] == '\n')
		n--;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n < AMTP_SITE_ENROL_SECRET_MIN || n > AMTP_SITE_ENROL_SECRET_MAX) {
		r = AMTP_E_RANGE;
		snprintf(err, errlen, "%s: enrolment secret must have %d to %d "
		    "characters", path, AMTP_SITE_ENROL_SECRET_MIN,
		    AMTP_SITE_ENROL_SECRET_MAX);
		goto out;
	}
	if (!valid_b64token(s, n)) {
		r = AMTP_E_PARSE;
		snprintf(err, errlen, "%s: enrolment secret may hold only "
		    "letters, digits and - . _ ~ + / (then =)", path);
		goto out;
	}
	if ((r = site_auth_sha256(s, n, hash)) != 0)
		goto out;
	r = 0;
 out:
	amtp_buf_free(b);	/* wipes the secret */
	return r;
}

int
site_auth_enrol_check(const uint8_t hash[32], const char *tok, size_t len)
{
	uint8_t md[32];
	int ok;

	if (site_auth_sha256(tok, len, md) != 0)
		return 0;
	ok = amtp_ct_equal(md, sizeof(md), hash, 32);
	explicit_bzero(md, sizeof(md));
	return ok;
}

int
site_auth_agent_token_name(const char *tok, size_t len, char *name,
    size_t namesz)
{
	const char *dot = NULL;
	size_t i, nl;

	if (namesz > 0)
		name[0] = '\0';
	for (i = len; i > 0; i--)
		if (tok[i - 1] == '.') {
			dot = tok + i - 1;
			break;
		}
	if (dot == NULL)
		return AMTP_E_AUTH;
	nl = (size_t)(dot - tok);
	if (nl == 0 || nl >= namesz ||
	    len - nl - 1 != SITE_TOKEN_RANDOM_SIZE - 1)
		return AMTP_E_AUTH;
	for (i = nl + 1; i < len; i++)
		if (!is_b64url_char((unsigned char)tok[i]))
			return AMTP_E_AUTH;
	memcpy(name, tok, nl);
	name[nl] = '\0';
	return 0;
}

int
site_auth_agent_cred_hash(const char *tok, size_t len, char *out)
{
	char hex[SITE_SHA256_HEX_SIZE];
	int r;

	out[0] = '\0';
	if ((r = site_auth_sha256_hex(tok, len, hex)) != 0)
		return r;
	if (snprintf(out, SITE_CRED_HASH_SIZE, "sha256:%s", hex) !=
	    SITE_CRED_HASH_SIZE - 1)
		return AMTP_E_INTERNAL;
	return 0;
}
