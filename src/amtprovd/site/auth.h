/*
 * amtprov - site/auth.h: Bearer tokens of the site API (role site).
 *
 * Three kinds of caller present "Authorization: Bearer <token>":
 *  - an agent that registers, with the site enrolment secret (a file named
 *    by site.enrolment_secret_file; only its SHA-256 is kept in memory);
 *  - a registered agent, with the token it got at registration:
 *    "<agent name>.<43 base64url characters>"; the store keeps
 *    "sha256:<hex>" of the whole token;
 *  - an admin, with a token whose SHA-256 (lower-case hex) is in the store
 *    with role admin or readonly (amtprovd --add-admin-token makes one).
 * Every comparison of a secret value is constant-time.
 */
#ifndef SITE_AUTH_H
#define SITE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#define SITE_SHA256_HEX_SIZE	65	/* 64 hex digits and a NUL */
/* "sha256:" + 64 hex + NUL */
#define SITE_CRED_HASH_SIZE	(7 + SITE_SHA256_HEX_SIZE)
/* base64url of AMTP_SITE_TOKEN_BYTES without padding, and a NUL */
#define SITE_TOKEN_RANDOM_SIZE	44

/*
 * Finds the token in an Authorization header value: "Bearer" (any case),
 * one or more spaces, then 1..AMTP_SITE_TOKEN_MAX characters of the RFC 6750
 * b64token alphabet.  *tok points into hdr.  0, or AMTP_E_AUTH for a missing,
 * other-scheme or malformed header (hdr may be NULL).
 */
int site_auth_bearer(const char *hdr, const char **tok, size_t *len);

/* Writes SITE_TOKEN_RANDOM_SIZE-1 random base64url characters and a NUL
 * into dst (dstsz >= SITE_TOKEN_RANDOM_SIZE).  0, AMTP_E_TOOBIG, AMTP_E_IO. */
int site_auth_token_random(char *dst, size_t dstsz);

/* SHA-256 of len bytes as 64 lower-case hex digits (out has
 * SITE_SHA256_HEX_SIZE bytes).  0 or AMTP_E_CRYPTO. */
int site_auth_sha256_hex(const void *p, size_t len, char *out);
/* The raw 32-byte SHA-256. */
int site_auth_sha256(const void *p, size_t len, uint8_t out[32]);

/*
 * Loads the enrolment secret file: its text without one trailing newline,
 * AMTP_SITE_ENROL_SECRET_MIN..MAX bytes, only b64token characters, and a
 * mode that gives group and other nothing.  hash gets its SHA-256; the
 * secret itself is wiped.  AMTP_E_NOTFOUND, AMTP_E_PERM, AMTP_E_PARSE,
 * AMTP_E_RANGE; err gets a sentence naming the file and the rule.
 */
int site_auth_enrol_load(const char *path, uint8_t hash[32], char *err,
    size_t errlen);

/* 1 when the token's SHA-256 equals hash (constant time), else 0. */
int site_auth_enrol_check(const uint8_t hash[32], const char *tok,
    size_t len);

/*
 * Splits an agent token "<name>.<random>" into its name (copied into name,
 * namesz bytes).  0, or AMTP_E_AUTH when there is no '.', the name is empty
 * or too long, or the random part is not 43 base64url characters.
 */
int site_auth_agent_token_name(const char *tok, size_t len, char *name,
    size_t namesz);

/* "sha256:<hex>" of an agent token (out has SITE_CRED_HASH_SIZE bytes). */
int site_auth_agent_cred_hash(const char *tok, size_t len, char *out);

#endif
