/*
 * amtprov - pki.h: X.509 helpers and the AMT provisioning-certificate rules.
 *
 * Two parties need the same rules: the simulator checks the client chain that
 * a service point presents on the TLS setup session (spec 3.1, 3.2), and the
 * enrollment point checks a provisioning certificate when an administrator
 * imports one.  Both call amtp_pki_check_provisioning_chain(), which names the
 * one rule that failed as an enum amtp_pki_reason.
 *
 * The enrollment point also checks certificate requests (PKCS#10) before it
 * signs them: amtp_pki_csr_check().  Its reasons share the same enum.
 *
 * Chains are OpenSSL STACK_OF(X509), ordered as presented on the wire: the
 * leaf first, then each issuer, the root last.  Functions that return a stack
 * or a key give the caller ownership (free with amtp_pki_chain_free() /
 * EVP_PKEY_free()).  All functions return 0 or a negative AMTP_E_* code.
 */
#ifndef AMTPROV_PKI_H
#define AMTPROV_PKI_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct amtp_secret;
struct amtp_buf;

/* The AMT provisioning OID (EKU) and the subject OU that stands for it. */
#define AMTP_PKI_AMT_OID	"2.16.840.1.113741.1.2.3"
#define AMTP_PKI_AMT_OU		"Intel(R) Client Setup Certificate"

/*
 * Why a chain or a request was refused.  The first group is the provisioning
 * chain rules (spec 3.1), the second the request (CSR) rules.  Each has a
 * name (amtp_pki_reason_name: "ROOT_NOT_TRUSTED") and a sentence
 * (amtp_pki_reason_str: "root certificate hash not in firmware").
 */
#define AMTP_PKI_REASONS(X)						\
	X(OK,               "accepted")						\
	X(NO_CERT,          "no certificate presented")				\
	X(CHAIN_TOO_LONG,   "certificate chain longer than allowed")		\
	X(CHAIN_INCOMPLETE, "chain incomplete: it does not end in a self-signed root")	\
	X(CHAIN_INVALID,    "certificate chain does not verify")		\
	X(EXPIRED,          "a certificate in the chain has expired")		\
	X(NOT_YET_VALID,    "a certificate in the chain is not yet valid")	\
	X(ROOT_NOT_TRUSTED, "root certificate hash not in firmware")		\
	X(ROOT_INACTIVE,    "root certificate hash is in firmware but not active")	\
	X(NO_SERVER_AUTH,   "extended key usage lacks Server Authentication")	\
	X(NO_AMT_OID,       "AMT provisioning OID missing (neither EKU 2.16.840.1.113741.1.2.3 nor OU \"Intel(R) Client Setup Certificate\")") \
	X(CN_MISSING,       "leaf certificate has no single, printable common name")	\
	X(CN_OUTSIDE_SUFFIX,"leaf common name is outside the device's DNS suffix")	\
	X(NO_KEY,           "private key missing or does not match the leaf certificate")	\
	X(CSR_PARSE,        "not a PKCS#10 certificate request")		\
	X(CSR_TOO_BIG,      "certificate request larger than allowed")		\
	X(CSR_BAD_SIGNATURE,"certificate request signature does not verify")	\
	X(CSR_WEAK_DIGEST,  "certificate request signed with a refused digest (MD5 or unknown)")	\
	X(CSR_KEY_TYPE,     "certificate request key is not RSA")		\
	X(CSR_KEY_SIZE,     "certificate request key size not allowed")		\
	X(CSR_WRONG_SUBJECT,"certificate request subject does not name the device of the job")	\
	X(CSR_BAD_EXTENSION,"certificate request asks for an extension that is not allowed")

enum amtp_pki_reason {
#define AMTP_PKI_REASON_ENUM(name, msg) AMTP_PKI_##name,
	AMTP_PKI_REASONS(AMTP_PKI_REASON_ENUM)
#undef AMTP_PKI_REASON_ENUM
	AMTP_PKI__MAX
};

/* "ROOT_NOT_TRUSTED" / "root certificate hash not in firmware"; never NULL
 * ("UNKNOWN" / "unknown reason" for a value out of range). */
const char *amtp_pki_reason_name(enum amtp_pki_reason r);
const char *amtp_pki_reason_str(enum amtp_pki_reason r);

/* Hash algorithms of firmware root-hash entries (our numbering; the MEI
 * numbering is mapped by its users, see spec 1.7). */
enum amtp_pki_hash_alg {
	AMTP_PKI_SHA1 = 0,
	AMTP_PKI_SHA256,
	AMTP_PKI_SHA384,
	AMTP_PKI_SHA512,
	AMTP_PKI_HASH__MAX
};
#define AMTP_PKI_HASH_MAXLEN	64

/* One entry of the firmware's trusted root hash table. */
struct amtp_pki_hash {
	enum amtp_pki_hash_alg alg;
	uint8_t hash[AMTP_PKI_HASH_MAXLEN];	/* first amtp_pki_hash_len(alg) used */
	int active;
};

/* Bytes of a digest of alg (20, 32, 48, 64); 0 for a bad alg. */
size_t amtp_pki_hash_len(enum amtp_pki_hash_alg alg);

/*
 * A table entry from hex text (either case), its algorithm told by its
 * length: 40 digits SHA-1, 64 SHA-256, 96 SHA-384, 128 SHA-512 (the form the
 * site database keeps firmware hashes in).  AMTP_E_PARSE otherwise.
 */
int amtp_pki_hash_from_hex(const char *hex, int active,
    struct amtp_pki_hash *out);

/* The alg digest of the certificate's DER encoding into out (which holds
 * AMTP_PKI_HASH_MAXLEN bytes); *outlen gets its length. */
int amtp_pki_cert_hash(X509 *cert, enum amtp_pki_hash_alg alg,
    uint8_t out[AMTP_PKI_HASH_MAXLEN], size_t *outlen);
/* The same as lower-case hex (hexsz >= 2 * AMTP_PKI_HASH_MAXLEN + 1). */
int amtp_pki_cert_hash_hex(X509 *cert, enum amtp_pki_hash_alg alg, char *hex,
    size_t hexsz);

/*
 * The DNS suffix rule (DESIGN.md "DNS suffix match"): let D be cn without its
 * first label.  1 when cn equals suffix, or when D has at least two labels and
 * suffix equals D or ends with "." + D, compared case-insensitively; else 0.
 */
int amtp_pki_cn_matches_suffix(const char *cn, const char *suffix);

/* Flags for amtp_pki_check_provisioning_chain(). */
#define AMTP_PKI_SKIP_ROOT_HASH		0x01	/* no firmware table (import) */
#define AMTP_PKI_SKIP_DNS_SUFFIX	0x02	/* no device suffix (import) */

/*
 * Checks a provisioning chain (leaf first, root last) against the rules of
 * spec 3.1, in this order: a certificate is there; at most
 * AMTP_MAX_CHAIN_DEPTH certificates; each is issued by the next and the last is
 * self-signed; the chain verifies (signatures, CA constraints) with the last as
 * the trust anchor; every certificate is valid at now; the root's hash, in the
 * algorithm of a table entry, matches an entry that is active (an inactive
 * match gives ROOT_INACTIVE); the leaf's EKU, if present, has serverAuth; the
 * leaf has the AMT OID in its EKU or the OU AMTP_PKI_AMT_OU in its subject; the
 * leaf has exactly one CN, which matches dns_suffix by
 * amtp_pki_cn_matches_suffix().
 *
 * Returns 0 when accepted (*reason = AMTP_PKI_OK), AMTP_E_CERT when a rule
 * fails (*reason names it), or AMTP_E_NOMEM/AMTP_E_CRYPTO/AMTP_E_INVAL.
 * detail (may be NULL) gets a sentence for a person with the specifics (the
 * CN and suffix, the OpenSSL verify error, the certificate's position).
 */
int amtp_pki_check_provisioning_chain(STACK_OF(X509) *chain,
    const struct amtp_pki_hash *hashes, size_t nhashes, const char *dns_suffix,
    time_t now, unsigned flags, enum amtp_pki_reason *reason, char *detail,
    size_t detailsz);

/*
 * Parses every PEM certificate in pem[0..len) into a new stack, in file order.
 * AMTP_E_PARSE when there is none or a block is bad, AMTP_E_TOOBIG over
 * AMTP_MAX_CHAIN_DEPTH certificates or AMTP_PKI_PEM_MAX bytes.
 */
int amtp_pki_chain_from_pem(const void *pem, size_t len, STACK_OF(X509) **out);
/* The same from a file. */
int amtp_pki_chain_load(const char *path, STACK_OF(X509) **out);
/* Appends the PEM of every certificate of chain to b. */
int amtp_pki_chain_to_pem(STACK_OF(X509) *chain, struct amtp_buf *b);
/* Frees a stack and its certificates; NULL does nothing. */
void amtp_pki_chain_free(STACK_OF(X509) *chain);

/*
 * Reorders a set of certificates into a chain starting at leaf: leaf, its
 * issuer, that one's issuer, ... Certificates that are not part of the path are
 * dropped.  The new stack holds new references.
 */
int amtp_pki_chain_order(X509 *leaf, STACK_OF(X509) *others,
    STACK_OF(X509) **out);

/*
 * Opens a PKCS#12 file (at most AMTP_PKI_P12_MAX bytes) with password (may be
 * NULL for none) and returns its key and its chain ordered leaf first.
 * Files encrypted with old algorithms (RC2-40 of old exports) are opened
 * with OpenSSL's legacy provider in a private library context.
 * AMTP_E_AUTH for a wrong password, AMTP_E_PARSE for a bad file, AMTP_E_CERT
 * when it holds no certificate or no key.
 */
int amtp_pki_p12_load(const char *path, const struct amtp_secret *password,
    EVP_PKEY **key, STACK_OF(X509) **chain);

/* A new RSA key of bits bits (2048..4096). */
int amtp_pki_rsa_generate(unsigned bits, EVP_PKEY **out);

/* The private key as unencrypted PKCS#8 PEM in a secret; and back. */
int amtp_pki_key_to_secret(EVP_PKEY *key, struct amtp_secret **out);
int amtp_pki_key_from_secret(const struct amtp_secret *s, EVP_PKEY **out);

/* Subject common name of cert into cn (exactly one CN, printable ASCII, no
 * NUL).  AMTP_E_NOTFOUND when none, AMTP_E_PARSE when several or unprintable,
 * AMTP_E_TOOBIG when it does not fit. */
int amtp_pki_cert_cn(X509 *cert, char *cn, size_t cnsz);

/* What a request may contain, for amtp_pki_csr_check(). */
struct amtp_csr_policy {
	unsigned min_bits;		/* smallest RSA modulus accepted */
	unsigned max_bits;		/* largest RSA modulus accepted */
	const char *cn;			/* required subject CN (case-insensitive) */
	const char *alt_name;		/* another DNS name allowed in a SAN
					 * (the host name), or NULL */
};

/*
 * Parses a PKCS#10 request (DER, or PEM "CERTIFICATE REQUEST") of at most
 * AMTP_CSR_MAX bytes and checks it: the signature verifies with the request's
 * own key and its digest is SHA-1 or SHA-2 (AMT firmware signs with either);
 * the key is RSA of min_bits..max_bits; the subject has exactly one CN, equal
 * to policy->cn, and nothing but CN, O, OU, C, ST, L; requested extensions
 * are only subjectAltName (DNS names equal to cn or alt_name), keyUsage and
 * extendedKeyUsage (the CA sets its own, whatever is asked).
 * Returns 0 and the request in *out (may be NULL when not wanted), or
 * AMTP_E_CERT with *reason set (detail, may be NULL, gets the specifics).
 */
int amtp_pki_csr_check(const void *data, size_t len,
    const struct amtp_csr_policy *policy, X509_REQ **out,
    enum amtp_pki_reason *reason, char *detail, size_t detailsz);

#endif
