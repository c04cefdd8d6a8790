/*
 * amtprov - secret.h: secrets (passwords, OTPs, private keys) and sealing.
 *
 * A struct amtp_secret is opaque: it cannot be passed to a printf-style
 * function by accident (the format checker of every log call refuses it),
 * and its bytes are wiped when it is freed.  Reading the bytes takes an
 * explicit call, amtp_secret_reveal() or amtp_secret_cstr(), so a reviewer can
 * find every place a secret leaves its box.
 *
 * Sealing: AES-256-GCM under the site master key, with additional
 * authenticated data (AAD) that names what the secret is ("device 12 admin
 * v3"), so that a sealed value moved to another row fails to open.
 * Sealed form (bytes): 'A' 'S' 1 (version) | nonce[12] | ciphertext | tag[16].
 * The GCM additional data is the three header bytes followed by the AAD text,
 * so the version byte is authenticated too.  Lengths: AMTP_SEAL_* in limits.h.
 */
#ifndef AMTPROV_SECRET_H
#define AMTPROV_SECRET_H

#include <stddef.h>
#include <stdint.h>

struct amtp_buf;
struct amtp_secret;
struct amtp_master_key;

/* A new secret holding a copy of len bytes (len <= AMTP_SECRET_MAX).
 * The copy is always followed by a NUL so text secrets can be used as C
 * strings.  0, AMTP_E_TOOBIG or AMTP_E_NOMEM. */
int amtp_secret_new(const void *data, size_t len, struct amtp_secret **out);
/* The same from a C string (its bytes, without the NUL). */
int amtp_secret_from_cstr(const char *s, struct amtp_secret **out);
/* A copy of s. */
int amtp_secret_dup(const struct amtp_secret *s, struct amtp_secret **out);
/* Wipes and frees.  amtp_secret_free(NULL) does nothing. */
void amtp_secret_free(struct amtp_secret *s);

/* The bytes (NUL-terminated) and their count.  Every call is a place where
 * a secret leaves its box: keep the result's lifetime short. */
const uint8_t *amtp_secret_reveal(const struct amtp_secret *s);
const char *amtp_secret_cstr(const struct amtp_secret *s);
size_t amtp_secret_len(const struct amtp_secret *s);

/* Constant-time comparison of two byte strings: 1 when equal (lengths are
 * compared too, which leaks only the length). */
int amtp_ct_equal(const void *a, size_t alen, const void *b, size_t blen);
/* Constant-time equality of two secrets. */
int amtp_secret_equal(const struct amtp_secret *a, const struct amtp_secret *b);

/*
 * The site master key: 32 bytes, stored in a file as 64 hex digits (and an
 * optional newline), mode 0600 (or 0400), owned by the running user.
 * amtp_master_key_load(): AMTP_E_NOTFOUND when missing, AMTP_E_PERM when
 * unreadable or when group/other have any permission bit, AMTP_E_PARSE when
 * the content is not 64 hex digits.  err (may be NULL) gets a sentence for the
 * administrator that names the file and the rule.
 * amtp_master_key_create(): makes a new random key file with O_EXCL and mode
 * 0600; AMTP_E_EXISTS when the file exists.
 */
int amtp_master_key_load(const char *path, struct amtp_master_key **out,
    char *err, size_t errlen);
int amtp_master_key_create(const char *path, char *err, size_t errlen);
/*
 * Reads a secret from a file named by a configuration key of type
 * AMTP_CONF_SECRET_FILE (a password file): the whole file minus one trailing
 * newline (LF or CRLF), at most max bytes (0 or more than AMTP_SECRET_MAX:
 * AMTP_SECRET_MAX).  The file follows the master key's rules: a regular
 * file, owned by the running user, mode 0600 or 0400.  An empty file is the
 * empty secret.  0, AMTP_E_NOTFOUND, AMTP_E_PERM, AMTP_E_TOOBIG,
 * AMTP_E_EMBEDDED_NUL, AMTP_E_IO or AMTP_E_NOMEM; err (may be NULL) names
 * the file and the rule.
 */
int amtp_secret_load_file(const char *path, size_t max,
    struct amtp_secret **out, char *err, size_t errlen);
/* A key from 32 raw bytes (tests, and the signer process). */
int amtp_master_key_from_bytes(const uint8_t key[32], struct amtp_master_key **out);
void amtp_master_key_free(struct amtp_master_key *k);

/*
 * Seals s under k with the given AAD (a short text, may be ""), appending the
 * sealed bytes to out.  amtp_secret_seal_b64() appends them base64-encoded
 * instead (for text columns).  0, AMTP_E_TOOBIG, AMTP_E_CRYPTO, AMTP_E_NOMEM.
 */
int amtp_secret_seal(const struct amtp_master_key *k, const struct amtp_secret *s,
    const char *aad, struct amtp_buf *out);
int amtp_secret_seal_b64(const struct amtp_master_key *k,
    const struct amtp_secret *s, const char *aad, struct amtp_buf *out);

/*
 * Opens sealed bytes (or base64 text with _b64) with the same AAD.
 * AMTP_E_PARSE for a malformed blob, AMTP_E_CRYPTO when the tag does not
 * verify (wrong key, wrong AAD, tampered).  *out is NULL on failure.
 */
int amtp_secret_open(const struct amtp_master_key *k, const void *sealed,
    size_t len, const char *aad, struct amtp_secret **out);
int amtp_secret_open_b64(const struct amtp_master_key *k, const char *sealed,
    const char *aad, struct amtp_secret **out);

#endif
