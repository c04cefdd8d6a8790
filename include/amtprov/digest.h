/*
 * amtprov - digest.h: HTTP Digest authentication as Intel AMT does it
 * (spec/amt-facts.md 5.2): MD5, qop=auth, realm "Digest:<32 hex>".
 *
 * Client side (service point): parse a WWW-Authenticate challenge, then
 * compute Authorization values from a user name and a password (or a
 * precomputed HA1), reusing the nonce with an increasing nc.
 *
 * Server side (simulator): parse an Authorization value (quoted or unquoted
 * qop/nc; nc as 8 hex digits or an unpadded decimal counter, hashed exactly
 * as received), verify it against the stored HA1 = MD5(user:realm:password)
 * in constant time, and manage nonces: a nonce carries its issue time and a
 * MAC, so issuing one stores nothing (a flood of 401s costs no memory); the
 * highest nc of each nonce that authenticated is kept in a bounded table
 * (LRU eviction).  One manager serves any number of realms (devices): the
 * realm is bound into the nonce's MAC.  Not thread-safe: one manager per
 * event loop.  docs/wsman-notes.md records the decisions.
 */
#ifndef AMTPROV_DIGEST_H
#define AMTPROV_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "amtprov/limits.h"

struct amtp_buf;
struct amtp_secret;
struct amtp_digest_nonces;

#define AMTP_DIGEST_HA1_LEN	16	/* MD5 */
/* Nonces we issue: 24 bytes (issue time in ms, 8 random, 8 MAC) as hex. */
#define AMTP_DIGEST_NONCE_HEXLEN	48

/* A parsed WWW-Authenticate: Digest challenge.  Strings are NUL-terminated;
 * absent ones are "" with their has_ flag 0. */
struct amtp_digest_challenge {
	char	realm[AMTP_DIGEST_VALUE_MAX + 1];
	char	nonce[AMTP_DIGEST_VALUE_MAX + 1];
	char	opaque[AMTP_DIGEST_VALUE_MAX + 1];
	char	domain[AMTP_DIGEST_VALUE_MAX + 1];
	char	algorithm[AMTP_DIGEST_VALUE_MAX + 1];	/* as sent, or "" */
	int	has_opaque;
	int	stale;		/* stale=true (case-insensitive) */
	int	qop_auth;	/* the qop list contains "auth" */
	int	qop_auth_int;	/* the qop list contains "auth-int" */
	int	has_qop;	/* a qop parameter was present */
};

/*
 * Parses a challenge value (what follows "WWW-Authenticate:"), which must
 * start with the scheme "Digest" (any case).  Values may be quoted or not;
 * unknown parameters are ignored (RFC 7616); a repeated parameter, an
 * unterminated quote, a missing realm or nonce, or bad syntax give
 * AMTP_E_PARSE; a value longer than AMTP_DIGEST_VALUE_MAX or a header longer
 * than AMTP_DIGEST_HEADER_MAX gives AMTP_E_TOOBIG; another scheme, an
 * algorithm other than MD5, or a qop list without "auth" gives
 * AMTP_E_UNSUPPORTED.  *out is cleared on entry.
 */
int amtp_digest_challenge_parse(const char *hdr, size_t len,
    struct amtp_digest_challenge *out);

/*
 * HA1 = MD5(user ":" realm ":" password), as AMT stores it.  The password
 * bytes are read from pw and not copied.  0 or AMTP_E_CRYPTO.
 */
int amtp_digest_ha1(const char *user, const char *realm,
    const struct amtp_secret *pw, uint8_t ha1[AMTP_DIGEST_HA1_LEN]);
/* The same from raw password bytes (tests, IPS NetworkAdminPassword). */
int amtp_digest_ha1_raw(const char *user, const char *realm,
    const void *pw, size_t pwlen, uint8_t ha1[AMTP_DIGEST_HA1_LEN]);

/*
 * Appends an Authorization value (starting with "Digest ") answering ch to
 * out: username, realm, nonce, uri, response, qop=auth, nc (8 hex digits),
 * cnonce and the opaque when the challenge had one, in RFC 7616 form (qop and
 * nc unquoted, as curl sends it; AMT accepts both forms).  cnonce may be NULL
 * to draw 16 random bytes (32 hex digits).  nc >= 1.  user must not contain
 * control characters.  0, AMTP_E_INVAL, AMTP_E_UNSUPPORTED (the challenge
 * offers a qop list without auth), AMTP_E_TOOBIG, AMTP_E_NOMEM, AMTP_E_CRYPTO.
 */
int amtp_digest_client_answer(const struct amtp_digest_challenge *ch,
    const char *user, const uint8_t ha1[AMTP_DIGEST_HA1_LEN],
    const char *method, const char *uri, uint32_t nc, const char *cnonce,
    struct amtp_buf *out);

/*
 * A parsed Authorization: Digest value (server side).  nc is kept as the
 * text received (the hash uses it); nc_value is its number: 8 hex digits are
 * read as hex, 1 to 10 decimal digits without a leading zero as decimal.
 */
struct amtp_digest_auth {
	char	username[AMTP_DIGEST_VALUE_MAX + 1];
	char	realm[AMTP_DIGEST_VALUE_MAX + 1];
	char	nonce[AMTP_DIGEST_VALUE_MAX + 1];
	char	uri[AMTP_DIGEST_VALUE_MAX + 1];
	char	response[AMTP_DIGEST_VALUE_MAX + 1];
	char	qop[AMTP_DIGEST_VALUE_MAX + 1];
	char	nc[AMTP_DIGEST_VALUE_MAX + 1];
	char	cnonce[AMTP_DIGEST_VALUE_MAX + 1];
	char	opaque[AMTP_DIGEST_VALUE_MAX + 1];
	char	algorithm[AMTP_DIGEST_VALUE_MAX + 1];
	uint64_t nc_value;
};

/*
 * Parses an Authorization value (what follows "Authorization:").  Required:
 * username, realm, nonce, uri, response (32 hex digits), qop (must be
 * "auth"), nc, cnonce.  AMTP_E_PARSE for bad syntax, a missing or repeated
 * field, a bad nc or response; AMTP_E_TOOBIG for an over-long value or
 * header; AMTP_E_UNSUPPORTED for another scheme, an algorithm other than
 * MD5, or a qop other than auth.  *out is cleared on entry.
 */
int amtp_digest_auth_parse(const char *hdr, size_t len,
    struct amtp_digest_auth *out);

/*
 * The nonce manager.  capacity: nonces whose highest nc is remembered
 * (0 = AMTP_DIGEST_NONCE_TABLE; at most AMTP_DIGEST_NONCE_TABLE_MAX);
 * lifetime_s: seconds a nonce stays fresh (0 = AMTP_DIGEST_NONCE_LIFETIME);
 * key: 32 bytes for the nonce MAC, or NULL for a random one (nonces from
 * another manager, or from before a restart, are then unknown).
 * 0, AMTP_E_INVAL, AMTP_E_NOMEM, AMTP_E_CRYPTO.
 */
int amtp_digest_nonces_new(size_t capacity, unsigned lifetime_s,
    const uint8_t *key, struct amtp_digest_nonces **out);
void amtp_digest_nonces_free(struct amtp_digest_nonces *n);
/* Replaces the clock (milliseconds since the epoch) for tests; NULL restores
 * CLOCK_REALTIME. */
void amtp_digest_nonces_set_clock(struct amtp_digest_nonces *n,
    uint64_t (*now_ms)(void *), void *arg);
/* Nonces in the table now, and evictions so far (for tests and metrics). */
size_t amtp_digest_nonces_count(const struct amtp_digest_nonces *n);
uint64_t amtp_digest_nonces_evictions(const struct amtp_digest_nonces *n);

/* Writes a new nonce for realm (AMTP_DIGEST_NONCE_HEXLEN upper-case hex
 * digits and a NUL) into out.  Stores nothing.  0 or AMTP_E_CRYPTO. */
int amtp_digest_nonce_issue(struct amtp_digest_nonces *n, const char *realm,
    char out[AMTP_DIGEST_NONCE_HEXLEN + 1]);

/*
 * Verifies a parsed Authorization for a request: realm is the device's
 * realm, method and uri the request's ("POST", "/wsman"; uri NULL skips the
 * check that the digest uri equals the request target), ha1 the stored
 * MD5(user:realm:password) of a->username.  Order of checks: realm, uri,
 * nonce MAC (AMTP_E_AUTH for a nonce we did not issue for this realm), the
 * response in constant time (AMTP_E_AUTH on a wrong password), then
 * freshness: AMTP_E_STALE when the nonce has expired or was forgotten
 * (evicted) - the client knows the password and must get a new nonce with
 * stale="true" - and AMTP_E_REPLAY when nc is not above the highest nc seen
 * for that nonce.  0 when authenticated (the nc is then recorded).
 */
int amtp_digest_verify(struct amtp_digest_nonces *n,
    const struct amtp_digest_auth *a, const char *realm, const char *method,
    const char *uri, const uint8_t ha1[AMTP_DIGEST_HA1_LEN]);

/*
 * Appends the challenge value exactly as real AMT sends it (spec 5.2), every
 * value quoted and no other parameter:
 *   Digest realm="<realm>", nonce="<nonce>",stale="false",qop="auth"
 * realm and nonce must not contain '"', '\\', ',' or control characters
 * (AMTP_E_INVAL).  0, AMTP_E_INVAL, AMTP_E_TOOBIG, AMTP_E_NOMEM.
 */
int amtp_digest_challenge_build(const char *realm, const char *nonce,
    int stale, struct amtp_buf *out);

#endif
