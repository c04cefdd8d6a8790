/*
 * amtprov - pki.c: X.509 helpers and the AMT provisioning-certificate rules
 * (libamtp; used by the enrollment point and by the simulator).
 *
 * The provisioning chain rules follow spec 3.1/3.2 and DESIGN.md "DNS suffix
 * match"; the request (CSR) rules are what the enrollment point checks before
 * it signs anything.  Every refusal names one rule (enum amtp_pki_reason).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509v3.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/pki.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

struct reasonent {
	const char *name;
	const char *msg;
};

static const struct reasonent reasontab[] = {
#define AMTP_PKI_REASON_ENT(name, msg) { #name, msg },
	AMTP_PKI_REASONS(AMTP_PKI_REASON_ENT)
#undef AMTP_PKI_REASON_ENT
};

const char *
amtp_pki_reason_name(enum amtp_pki_reason r)
{
	if ((unsigned)r >= AMTP_PKI__MAX)
		return "UNKNOWN";
	return reasontab[r].name;
}

const char *
amtp_pki_reason_str(enum amtp_pki_reason r)
{
	if ((unsigned)r >= AMTP_PKI__MAX)
		return "unknown reason";
	return reasontab[r].msg;
}

/* Writes a detail sentence; a truncated detail is still a useful one, so
 * truncation is accepted here (and only here). */
static void setdetail(char *detail, size_t sz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
setdetail(char *detail, size_t sz, const char *fmt, ...)
{
	va_list ap;

	if (detail == NULL || sz == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(detail, sz, fmt, ap);
	va_end(ap);
}

static const EVP_MD *
hash_md(enum amtp_pki_hash_alg alg)
{
	switch (alg) {
	case AMTP_PKI_SHA1:
		return EVP_sha1();
	case AMTP_PKI_SHA256:
		return EVP_sha256();
	case AMTP_PKI_SHA384:
		return EVP_sha384();
	case AMTP_PKI_SHA512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

size_t
amtp_pki_hash_len(enum amtp_pki_hash_alg alg)
{
	switch (alg) {
	case AMTP_PKI_SHA1:
		return 20;
	case AMTP_PKI_SHA256:
		return 32;
	case AMTP_PKI_SHA384:
		return 48;
	case AMTP_PKI_SHA512:
		return 64;
	default:
		return 0;
	}
}

int
amtp_pki_hash_from_hex(const char *hex, int active, struct amtp_pki_hash *out)
{
	struct amtp_pki_hash h;
	size_t n;
	int a;

	if (hex == NULL)
		return AMTP_E_PARSE;
	n = strnlen(hex, 2 * AMTP_PKI_HASH_MAXLEN + 1);
	memset(&h, 0, sizeof(h));
	for (a = 0; a < AMTP_PKI_HASH__MAX; a++)
		if (n == 2 * amtp_pki_hash_len((enum amtp_pki_hash_alg)a))
			break;
	if (a == AMTP_PKI_HASH__MAX ||
	    amtp_hex_decode(hex, n, h.hash, n / 2) != 0)
		return AMTP_E_PARSE;
	h.alg = (enum amtp_pki_hash_alg)a;
	h.active = active != 0;
	*out = h;
	return 0;
}

int
amtp_pki_cert_hash(X509 *cert, enum amtp_pki_hash_alg alg,
    uint8_t out[AMTP_PKI_HASH_MAXLEN], size_t *outlen)
{
	const EVP_MD *md;
	unsigned int n = 0;

	*outlen = 0;
	if (cert == NULL || (md = hash_md(alg)) == NULL)
		return AMTP_E_INVAL;
	if (X509_digest(cert, md, out, &n) != 1 || n != amtp_pki_hash_len(alg))
		return AMTP_E_CRYPTO;
	*outlen = n;
	return 0;
}

int
amtp_pki_cert_hash_hex(X509 *cert, enum amtp_pki_hash_alg alg, char *hex,
    size_t hexsz)
{
	uint8_t h[AMTP_PKI_HASH_MAXLEN];
	size_t n;
	int r;

	if (hexsz > 0)
		hex[0] = '\0';
	if ((r = amtp_pki_cert_hash(cert, alg, h, &n)) != 0)
		return r;
	return amtp_hex_encode(hex, hexsz, h, n, 0);
}

/* 1 when s[0..len) is a sequence of non-empty labels separated by dots. */
static int
valid_labels(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (i = 1; i < len; i++)
		if (s[i] == '.' && s[i - 1] == '.')
			return 0;
	return 1;
}

int
amtp_pki_cn_matches_suffix(const char *cn, const char *suffix)
{
	const char *d;
	size_t cnlen, slen, dlen;

	if (cn == NULL || suffix == NULL)
		return 0;
	cnlen = strnlen(cn, AMTP_DNS_NAME_MAX + 1);
	slen = strnlen(suffix, AMTP_DNS_NAME_MAX + 1);
	if (cnlen == 0 || slen == 0 || cnlen > AMTP_DNS_NAME_MAX ||
	    slen > AMTP_DNS_NAME_MAX)
		return 0;
	if (!valid_labels(cn, cnlen) || !valid_labels(suffix, slen))
		return 0;
	if (amtp_str_eq_ci(cn, cnlen, suffix, slen))
		return 1;
	if ((d = memchr(cn, '.', cnlen)) == NULL)
		return 0;
	d++;
	dlen = cnlen - (size_t)(d - cn);
	if (memchr(d, '.', dlen) == NULL)	/* D has a single label */
		return 0;
	if (amtp_str_eq_ci(suffix, slen, d, dlen))
		return 1;
	if (slen > dlen + 1 && suffix[slen - dlen - 1] == '.' &&
	    amtp_str_eq_ci(suffix + slen - dlen, dlen, d, dlen))
		return 1;
	return 0;
}

/* The one CN of a name: printable ASCII, no NUL. */
static int
name_cn(const X509_NAME *name, char *cn, size_t cnsz)
{
	const X509_NAME_ENTRY *e;
	const ASN1_STRING *s;
	unsigned char *u = NULL;
	int i, n, r;

	if (cnsz > 0)
		cn[0] = '\0';
	if (name == NULL)
		return AMTP_E_NOTFOUND;
	if ((i = X509_NAME_get_index_by_NID(name, NID_commonName, -1)) < 0)
		return AMTP_E_NOTFOUND;
	if (X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0)
		return AMTP_E_PARSE;
	if ((e = X509_NAME_get_entry(name, i)) == NULL ||
	    (s = X509_NAME_ENTRY_get_data(e)) == NULL)
		return AMTP_E_PARSE;
	if ((n = ASN1_STRING_to_UTF8(&u, s)) < 0)
		return AMTP_E_PARSE;
	r = AMTP_E_PARSE;
	if (n == 0)
		goto out;
	for (i = 0; i < n; i++)
		if (u[i] < 0x21 || u[i] > 0x7e)
			goto out;
	r = AMTP_E_TOOBIG;
	if ((size_t)n >= cnsz)
		goto out;
	memcpy(cn, u, (size_t)n);
	cn[n] = '\0';
	r = 0;
 out:
	OPENSSL_free(u);
	return r;
}

int
amtp_pki_cert_cn(X509 *cert, char *cn, size_t cnsz)
{
	if (cert == NULL)
		return AMTP_E_INVAL;
	return name_cn(X509_get_subject_name(cert), cn, cnsz);
}

/* 1 when the subject has OU exactly AMTP_PKI_AMT_OU (case-sensitive). */
static int
has_amt_ou(X509 *cert)
{
	const X509_NAME *name = X509_get_subject_name(cert);
	const ASN1_STRING *s;
	size_t oulen = strlen(AMTP_PKI_AMT_OU);
	int i = -1;

	while ((i = X509_NAME_get_index_by_NID(name, NID_organizationalUnitName,
	    i)) >= 0) {
		s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
		if (s != NULL && (size_t)ASN1_STRING_length(s) == oulen &&
		    memcmp(ASN1_STRING_get0_data(s), AMTP_PKI_AMT_OU, oulen) == 0)
			return 1;
	}
	return 0;
}

/*
 * Looks at the leaf's EKU: *present, *serverauth, *amtoid.  AMTP_E_PARSE
 * when the extension is there but malformed or repeated.
 */
static int
leaf_eku(X509 *leaf, int *present, int *serverauth, int *amtoid)
{
	EXTENDED_KEY_USAGE *eku;
	ASN1_OBJECT *amt = NULL;
	int crit = -1, i, r;

	*present = *serverauth = *amtoid = 0;
	eku = X509_get_ext_d2i(leaf, NID_ext_key_usage, &crit, NULL);
	if (eku == NULL)
		return crit == -1 ? 0 : AMTP_E_PARSE;
	r = AMTP_E_NOMEM;
	if ((amt = OBJ_txt2obj(AMTP_PKI_AMT_OID, 1)) == NULL)
		goto out;
	*present = 1;
	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);

		if (OBJ_obj2nid(o) == NID_server_auth)
			*serverauth = 1;
		if (OBJ_cmp(o, amt) == 0)
			*amtoid = 1;
	}
	r = 0;
 out:
	ASN1_OBJECT_free(amt);
	EXTENDED_KEY_USAGE_free(eku);
	return r;
}

/* Signatures and CA constraints, with the last certificate as the anchor.
 * Time is checked separately, so that expiry gets its own reason. */
static int
verify_chain(STACK_OF(X509) *chain, char *detail, size_t detailsz,
    enum amtp_pki_reason *reason)
{
	X509_STORE *st = NULL;
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *untrusted = NULL;
	int i, n = sk_X509_num(chain), r, err;

	r = AMTP_E_NOMEM;
	if ((st = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    (untrusted = sk_X509_new_null()) == NULL)
		goto out;
	if (X509_STORE_add_cert(st, sk_X509_value(chain, n - 1)) != 1)
		goto out;
	for (i = 1; i < n - 1; i++)
		if (!sk_X509_push(untrusted, sk_X509_value(chain, i)))
			goto out;
	if (X509_STORE_CTX_init(ctx, st, sk_X509_value(chain, 0),
	    untrusted) != 1)
		goto out;
	/* Not X509_V_FLAG_X509_STRICT: old vendor roots (no key usage, no
	 * key identifiers) would be refused, and AMT accepts them. */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME |
	    X509_V_FLAG_CHECK_SS_SIGNATURE);
	r = AMTP_E_CERT;
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		*reason = AMTP_PKI_CHAIN_INVALID;
		setdetail(detail, detailsz, "certificate %d: %s",
		    X509_STORE_CTX_get_error_depth(ctx),
		    X509_verify_cert_error_string(err));
		goto out;
	}
	r = 0;
 out:
	ERR_clear_error();
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return r;
}

static int
check_root_hash(X509 *root, const struct amtp_pki_hash *hashes, size_t nhashes,
    enum amtp_pki_reason *reason, char *detail, size_t detailsz)
{
	uint8_t h[AMTP_PKI_HASH__MAX][AMTP_PKI_HASH_MAXLEN];
	size_t hl[AMTP_PKI_HASH__MAX], i, len;
	int inactive = 0, r, a;
	char hex[2 * 32 + 1];

	for (a = 0; a < AMTP_PKI_HASH__MAX; a++)
		if ((r = amtp_pki_cert_hash(root, (enum amtp_pki_hash_alg)a, h[a],
		    &hl[a])) != 0)
			return r;
	for (i = 0; i < nhashes; i++) {
		a = hashes[i].alg;
		if (a < 0 || a >= AMTP_PKI_HASH__MAX)
			continue;
		len = amtp_pki_hash_len((enum amtp_pki_hash_alg)a);
		if (len != hl[a] || memcmp(h[a], hashes[i].hash, len) != 0)
			continue;
		if (hashes[i].active)
			return 0;
		inactive = 1;
	}
	if (amtp_hex_encode(hex, sizeof(hex), h[AMTP_PKI_SHA256], 32, 0) != 0)
		hex[0] = '\0';
	*reason = inactive ? AMTP_PKI_ROOT_INACTIVE : AMTP_PKI_ROOT_NOT_TRUSTED;
	setdetail(detail, detailsz, "root SHA-256 %s%s", hex, inactive ?
	    " is present but inactive" : " matches no firmware entry");
	return AMTP_E_CERT;
}

int
amtp_pki_check_provisioning_chain(STACK_OF(X509) *chain,
    const struct amtp_pki_hash *hashes, size_t nhashes, const char *dns_suffix,
    time_t now, unsigned flags, enum amtp_pki_reason *reason, char *detail,
    size_t detailsz)
{
	char cn[AMTP_DNS_NAME_MAX + 1];
	X509 *leaf, *c;
	int n, i, r, cmp, ekup, sa, oid;

	*reason = AMTP_PKI_OK;
	setdetail(detail, detailsz, "%s", "");
	if (!(flags & AMTP_PKI_SKIP_DNS_SUFFIX) && dns_suffix == NULL)
		return AMTP_E_INVAL;
	if (!(flags & AMTP_PKI_SKIP_ROOT_HASH) && hashes == NULL && nhashes > 0)
		return AMTP_E_INVAL;
	r = AMTP_E_CERT;
	n = chain == NULL ? 0 : sk_X509_num(chain);
	if (n <= 0) {
		*reason = AMTP_PKI_NO_CERT;
		goto out;
	}
	if (n > AMTP_MAX_CHAIN_DEPTH) {
		*reason = AMTP_PKI_CHAIN_TOO_LONG;
		setdetail(detail, detailsz, "%d certificates, at most %d", n,
		    AMTP_MAX_CHAIN_DEPTH);
		goto out;
	}
	leaf = sk_X509_value(chain, 0);
	for (i = 0; i + 1 < n; i++) {
		if (X509_check_issued(sk_X509_value(chain, i + 1),
		    sk_X509_value(chain, i)) != X509_V_OK) {
			*reason = AMTP_PKI_CHAIN_INCOMPLETE;
			setdetail(detail, detailsz, "certificate %d is not the "
			    "issuer of certificate %d", i + 1, i);
			goto out;
		}
	}
	if (X509_check_issued(sk_X509_value(chain, n - 1),
	    sk_X509_value(chain, n - 1)) != X509_V_OK) {
		*reason = AMTP_PKI_CHAIN_INCOMPLETE;
		setdetail(detail, detailsz, "certificate %d (the last) is not a "
		    "self-signed root", n - 1);
		goto out;
	}
	if ((r = verify_chain(chain, detail, detailsz, reason)) != 0)
		goto out;
	r = AMTP_E_CERT;
	for (i = 0; i < n; i++) {
		c = sk_X509_value(chain, i);
		if ((cmp = X509_cmp_time(X509_get0_notBefore(c), &now)) >= 0) {
			*reason = AMTP_PKI_NOT_YET_VALID;
			setdetail(detail, detailsz, "certificate %d%s", i,
			    cmp == 0 ? ": bad notBefore" : "");
			goto out;
		}
		if ((cmp = X509_cmp_time(X509_get0_notAfter(c), &now)) <= 0) {
			*reason = AMTP_PKI_EXPIRED;
			setdetail(detail, detailsz, "certificate %d%s", i,
			    cmp == 0 ? ": bad notAfter" : "");
			goto out;
		}
	}
	if (!(flags & AMTP_PKI_SKIP_ROOT_HASH) &&
	    (r = check_root_hash(sk_X509_value(chain, n - 1), hashes, nhashes,
	    reason, detail, detailsz)) != 0)
		goto out;
	r = AMTP_E_CERT;
	if (leaf_eku(leaf, &ekup, &sa, &oid) != 0) {
		*reason = AMTP_PKI_CHAIN_INVALID;
		setdetail(detail, detailsz, "leaf: malformed extended key usage");
		goto out;
	}
	if (ekup && !sa) {
		*reason = AMTP_PKI_NO_SERVER_AUTH;
		goto out;
	}
	if (!oid && !has_amt_ou(leaf)) {
		*reason = AMTP_PKI_NO_AMT_OID;
		goto out;
	}
	if (amtp_pki_cert_cn(leaf, cn, sizeof(cn)) != 0) {
		*reason = AMTP_PKI_CN_MISSING;
		goto out;
	}
	if (!(flags & AMTP_PKI_SKIP_DNS_SUFFIX) &&
	    !amtp_pki_cn_matches_suffix(cn, dns_suffix)) {
		char esc[AMTP_LOG_ESCAPE_SIZE];

		*reason = AMTP_PKI_CN_OUTSIDE_SUFFIX;
		amtp_log_escape(esc, sizeof(esc), dns_suffix,
		    strlen(dns_suffix));
		setdetail(detail, detailsz, "CN %s does not match DNS suffix "
		    "\"%s\"", cn, esc);
		goto out;
	}
	r = 0;
 out:
	ERR_clear_error();
	return r;
}

void
amtp_pki_chain_free(STACK_OF(X509) *chain)
{
	if (chain != NULL)
		sk_X509_pop_free(chain, X509_free);
}

int
amtp_pki_chain_from_pem(const void *pem, size_t len, STACK_OF(X509) **out)
{
	STACK_OF(X509) *sk = NULL;
	BIO *bio = NULL;
	X509 *x;
	unsigned long e;
	int r;

	*out = NULL;
	if (len > AMTP_PKI_PEM_MAX)
		return AMTP_E_TOOBIG;
	r = AMTP_E_NOMEM;
	if ((sk = sk_X509_new_null()) == NULL ||
	    (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		goto out;
	ERR_clear_error();
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_num(sk) >= AMTP_MAX_CHAIN_DEPTH) {
			X509_free(x);
			r = AMTP_E_TOOBIG;
			goto out;
		}
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			goto out;
		}
	}
	/* The loop ends at the end of the data (no more start lines) or at a
	 * bad block; only the first is fine. */
	e = ERR_peek_last_error();
	r = AMTP_E_PARSE;
	if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE))
		goto out;
	if (sk_X509_num(sk) == 0)
		goto out;
	*out = sk;
	sk = NULL;
	r = 0;
 out:
	ERR_clear_error();
	BIO_free(bio);
	amtp_pki_chain_free(sk);
	return r;
}

int
amtp_pki_chain_load(const char *path, STACK_OF(X509) **out)
{
	struct amtp_buf *b = NULL;
	int r;

	*out = NULL;
	if ((r = amtp_buf_load_file(path, AMTP_PKI_PEM_MAX, &b)) != 0)
		goto out;
	r = amtp_pki_chain_from_pem(amtp_buf_ptr(b), amtp_buf_len(b), out);
 out:
	amtp_buf_free(b);
	return r;
}

int
amtp_pki_chain_to_pem(STACK_OF(X509) *chain, struct amtp_buf *b)
{
	BIO *bio = NULL;
	char *p;
	long n;
	int i, r;

	r = AMTP_E_NOMEM;
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	for (i = 0; i < sk_X509_num(chain); i++)
		if (PEM_write_bio_X509(bio, sk_X509_value(chain, i)) != 1)
			goto out;
	if ((n = BIO_get_mem_data(bio, &p)) < 0)
		goto out;
	r = amtp_buf_put(b, p, (size_t)n);
 out:
	BIO_free(bio);
	return r;
}

/* 1 when c is already in sk (same object). */
static int
in_stack(STACK_OF(X509) *sk, const X509 *c)
{
	int i;

	for (i = 0; i < sk_X509_num(sk); i++)
		if (sk_X509_value(sk, i) == c)
			return 1;
	return 0;
}

int
amtp_pki_chain_order(X509 *leaf, STACK_OF(X509) *others, STACK_OF(X509) **out)
{
	STACK_OF(X509) *sk = NULL;
	X509 *cur = leaf, *c, *next;
	int i, r;

	*out = NULL;
	if (leaf == NULL)
		return AMTP_E_INVAL;
	r = AMTP_E_NOMEM;
	if ((sk = sk_X509_new_null()) == NULL)
		goto out;
	if (!X509_up_ref(leaf))
		goto out;
	if (!sk_X509_push(sk, leaf)) {
		X509_free(leaf);
		goto out;
	}
	while (sk_X509_num(sk) < AMTP_MAX_CHAIN_DEPTH &&
	    X509_check_issued(cur, cur) != X509_V_OK) {
		next = NULL;
		for (i = 0; i < sk_X509_num(others); i++) {
			c = sk_X509_value(others, i);
			if (c != cur && !in_stack(sk, c) &&
			    X509_cmp(c, cur) != 0 &&
			    X509_check_issued(c, cur) == X509_V_OK) {
				next = c;
				break;
			}
		}
		if (next == NULL)
			break;
		if (!X509_up_ref(next))
			goto out;
		if (!sk_X509_push(sk, next)) {
			X509_free(next);
			goto out;
		}
		cur = next;
	}
	*out = sk;
	sk = NULL;
	r = 0;
 out:
	ERR_clear_error();
	amtp_pki_chain_free(sk);
	return r;
}

/* A certificate made again in the default library context. */
static X509 *
cert_copy_default(X509 *c)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	X509 *n = NULL;
	int len;

	if ((len = i2d_X509(c, &der)) > 0) {
		p = der;
		n = d2i_X509(NULL, &p, len);
	}
	OPENSSL_free(der);
	return n;
}

/*
 * PKCS12_parse with OpenSSL's legacy provider (RC2-40 and other old
 * algorithms of old exports) in a private library context, so that the
 * process's default context keeps refusing them.  The results are encoded
 * and decoded again in the default context before the private one goes.
 * 1 on success.
 */
static int
p12_parse_legacy(PKCS12 *p12, const char *pass, EVP_PKEY **k, X509 **cert,
    STACK_OF(X509) **ca)
{
	OSSL_LIB_CTX *lc, *prev;
	OSSL_PROVIDER *pd = NULL, *pl = NULL;
	EVP_PKEY *lk = NULL;
	X509 *lcert = NULL, *c;
	STACK_OF(X509) *lca = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	int len = 0, i, ok = 0;

	if ((lc = OSSL_LIB_CTX_new()) == NULL)
		return 0;
	if ((pd = OSSL_PROVIDER_load(lc, "default")) == NULL ||
	    (pl = OSSL_PROVIDER_load(lc, "legacy")) == NULL)
		goto out;
	prev = OSSL_LIB_CTX_set0_default(lc);
	ok = PKCS12_parse(p12, pass, &lk, &lcert, &lca) == 1;
	if (ok && lk != NULL)
		len = i2d_PrivateKey(lk, &der);
	(void)OSSL_LIB_CTX_set0_default(prev);
	if (!ok || lcert == NULL || lk == NULL || len <= 0) {
		ok = 0;
		goto out;
	}
	ok = 0;
	p = der;
	if ((*k = d2i_AutoPrivateKey(NULL, &p, len)) == NULL ||
	    (*cert = cert_copy_default(lcert)) == NULL ||
	    (*ca = sk_X509_new_null()) == NULL)
		goto out;
	for (i = 0; i < sk_X509_num(lca); i++) {
		if ((c = cert_copy_default(sk_X509_value(lca, i))) == NULL)
			goto out;
		if (!sk_X509_push(*ca, c)) {
			X509_free(c);
			goto out;
		}
	}
	ok = 1;
 out:
	if (der != NULL)
		OPENSSL_clear_free(der, (size_t)len);
	EVP_PKEY_free(lk);
	X509_free(lcert);
	amtp_pki_chain_free(lca);
	if (!ok) {
		EVP_PKEY_free(*k);
		X509_free(*cert);
		amtp_pki_chain_free(*ca);
		*k = NULL;
		*cert = NULL;
		*ca = NULL;
	}
	OSSL_PROVIDER_unload(pl);
	OSSL_PROVIDER_unload(pd);
	OSSL_LIB_CTX_free(lc);
	return ok;
}

int
amtp_pki_p12_load(const char *path, const struct amtp_secret *password,
    EVP_PKEY **key, STACK_OF(X509) **chain)
{
	struct amtp_buf *b = NULL;
	PKCS12 *p12 = NULL;
	EVP_PKEY *k = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	const unsigned char *p;
	const char *pass;
	int r;

	*key = NULL;
	*chain = NULL;
	if ((r = amtp_buf_load_file(path, AMTP_PKI_P12_MAX, &b)) != 0)
		goto out;
	p = amtp_buf_ptr(b);
	r = AMTP_E_PARSE;
	if ((p12 = d2i_PKCS12(NULL, &p, (long)amtp_buf_len(b))) == NULL ||
	    p != amtp_buf_ptr(b) + amtp_buf_len(b))
		goto out;
	pass = password != NULL ? amtp_secret_cstr(password) : "";
	if (PKCS12_mac_present(p12)) {
		r = AMTP_E_AUTH;
		if (PKCS12_verify_mac(p12, pass, -1) != 1) {
			if (*pass != '\0' || PKCS12_verify_mac(p12, NULL, 0) != 1)
				goto out;
			pass = NULL;
		}
	}
	r = AMTP_E_PARSE;
	if (PKCS12_parse(p12, pass, &k, &cert, &ca) != 1) {
		EVP_PKEY_free(k);
		X509_free(cert);
		amtp_pki_chain_free(ca);
		k = NULL;
		cert = NULL;
		ca = NULL;
		ERR_clear_error();
		if (!p12_parse_legacy(p12, pass, &k, &cert, &ca))
			goto out;
	}
	r = AMTP_E_CERT;
	if (cert == NULL || k == NULL || X509_check_private_key(cert, k) != 1)
		goto out;
	if ((r = amtp_pki_chain_order(cert, ca, chain)) != 0)
		goto out;
	*key = k;
	k = NULL;
	r = 0;
 out:
	ERR_clear_error();
	EVP_PKEY_free(k);
	X509_free(cert);
	amtp_pki_chain_free(ca);
	PKCS12_free(p12);
	amtp_buf_free(b);
	return r;
}

int
amtp_pki_rsa_generate(unsigned bits, EVP_PKEY **out)
{
	*out = NULL;
	if (bits < AMTP_RSA_AMT_BITS || bits > AMTP_RSA_MAX_BITS)
		return AMTP_E_RANGE;
	if ((*out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits)) == NULL) {
		ERR_clear_error();
		return AMTP_E_CRYPTO;
	}
	return 0;
}

int
amtp_pki_key_to_secret(EVP_PKEY *key, struct amtp_secret **out)
{
	BIO *bio = NULL;
	char *p;
	long n;
	int r;

	*out = NULL;
	r = AMTP_E_NOMEM;
	/* A secure-memory BIO: its buffer is cleansed when freed. */
	if ((bio = BIO_new(BIO_s_secmem())) == NULL)
		goto out;
	r = AMTP_E_CRYPTO;
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	if ((n = BIO_get_mem_data(bio, &p)) <= 0)
		goto out;
	r = amtp_secret_new(p, (size_t)n, out);
 out:
	ERR_clear_error();
	BIO_free(bio);
	return r;
}

int
amtp_pki_key_from_secret(const struct amtp_secret *s, EVP_PKEY **out)
{
	BIO *bio;
	int r = AMTP_E_NOMEM;

	*out = NULL;
	if ((bio = BIO_new_mem_buf(amtp_secret_reveal(s),
	    (int)amtp_secret_len(s))) == NULL)
		goto out;
	r = AMTP_E_PARSE;
	if ((*out = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL)
		goto out;
	r = 0;
 out:
	ERR_clear_error();
	BIO_free(bio);
	return r;
}

/* Subject attributes a request may carry. */
static int
allowed_subject_nid(int nid)
{
	return nid == NID_commonName || nid == NID_organizationName ||
	    nid == NID_organizationalUnitName || nid == NID_countryName ||
	    nid == NID_stateOrProvinceName || nid == NID_localityName;
}

static int
csr_check_san(X509_EXTENSION *ext, const struct amtp_csr_policy *pol,
    enum amtp_pki_reason *reason, char *detail, size_t detailsz)
{
	GENERAL_NAMES *gens;
	const GENERAL_NAME *g;
	const unsigned char *d;
	int i, len, r = AMTP_E_CERT;

	if ((gens = X509V3_EXT_d2i(ext)) == NULL) {
		*reason = AMTP_PKI_CSR_PARSE;
		setdetail(detail, detailsz, "malformed subjectAltName");
		return AMTP_E_CERT;
	}
	*reason = AMTP_PKI_CSR_WRONG_SUBJECT;
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS) {
			setdetail(detail, detailsz, "subjectAltName %d is not a "
			    "DNS name", i);
			goto out;
		}
		d = ASN1_STRING_get0_data(g->d.dNSName);
		len = ASN1_STRING_length(g->d.dNSName);
		if (len <= 0 || memchr(d, '\0', (size_t)len) != NULL ||
		    (!amtp_str_eq_ci((const char *)d, (size_t)len, pol->cn,
		    strlen(pol->cn)) && (pol->alt_name == NULL ||
		    !amtp_str_eq_ci((const char *)d, (size_t)len, pol->alt_name,
		    strlen(pol->alt_name))))) {
			setdetail(detail, detailsz, "subjectAltName %d names "
			    "another host", i);
			goto out;
		}
	}
	*reason = AMTP_PKI_OK;
	r = 0;
 out:
	GENERAL_NAMES_free(gens);
	return r;
}

int
amtp_pki_csr_check(const void *data, size_t len,
    const struct amtp_csr_policy *pol, X509_REQ **out,
    enum amtp_pki_reason *reason, char *detail, size_t detailsz)
{
	static const char pemtag[] = "-----BEGIN";
	X509_REQ *req = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	const X509_NAME *subj;
	EVP_PKEY *pk;
	BIO *bio = NULL;
	const unsigned char *p;
	char cn[AMTP_DNS_NAME_MAX + 1];
	int i, nid, mdnid, pknid, bits, r;

	if (out != NULL)
		*out = NULL;
	*reason = AMTP_PKI_OK;
	setdetail(detail, detailsz, "%s", "");
	if (pol == NULL || pol->cn == NULL || data == NULL)
		return AMTP_E_INVAL;
	r = AMTP_E_CERT;
	if (len > AMTP_CSR_MAX) {
		*reason = AMTP_PKI_CSR_TOO_BIG;
		setdetail(detail, detailsz, "%zu bytes, at most %u", len,
		    (unsigned)AMTP_CSR_MAX);
		goto out;
	}
	*reason = AMTP_PKI_CSR_PARSE;
	if (len >= sizeof(pemtag) - 1 &&
	    memcmp(data, pemtag, sizeof(pemtag) - 1) == 0) {
		if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL) {
			r = AMTP_E_NOMEM;
			goto out;
		}
		if ((req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL)) == NULL)
			goto out;
	} else {
		p = data;
		if ((req = d2i_X509_REQ(NULL, &p, (long)len)) == NULL ||
		    p != (const unsigned char *)data + len) {
			setdetail(detail, detailsz, "bad DER or trailing bytes");
			goto out;
		}
	}
	/* The digest of the request's signature: SHA-1 or SHA-2 only. */
	nid = X509_REQ_get_signature_nid(req);
	if (!OBJ_find_sigid_algs(nid, &mdnid, &pknid) ||
	    (mdnid != NID_sha1 && mdnid != NID_sha224 && mdnid != NID_sha256 &&
	    mdnid != NID_sha384 && mdnid != NID_sha512)) {
		*reason = AMTP_PKI_CSR_WEAK_DIGEST;
		goto out;
	}
	/* Key type and size before the signature: a huge key is refused
	 * without spending time on it. */
	if ((pk = X509_REQ_get0_pubkey(req)) == NULL)
		goto out;
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
		*reason = AMTP_PKI_CSR_KEY_TYPE;
		goto out;
	}
	bits = EVP_PKEY_get_bits(pk);
	if (bits < 0 || (unsigned)bits < pol->min_bits ||
	    (unsigned)bits > pol->max_bits) {
		*reason = AMTP_PKI_CSR_KEY_SIZE;
		setdetail(detail, detailsz, "RSA-%d, allowed %u to %u bits",
		    bits, pol->min_bits, pol->max_bits);
		goto out;
	}
	if (X509_REQ_verify(req, pk) != 1) {
		*reason = AMTP_PKI_CSR_BAD_SIGNATURE;
		goto out;
	}
	subj = X509_REQ_get_subject_name(req);
	*reason = AMTP_PKI_CSR_WRONG_SUBJECT;
	for (i = 0; i < X509_NAME_entry_count(subj); i++) {
		nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(
		    X509_NAME_get_entry(subj, i)));
		if (!allowed_subject_nid(nid)) {
			setdetail(detail, detailsz, "subject attribute %d is "
			    "not allowed", i);
			goto out;
		}
	}
	if (name_cn(subj, cn, sizeof(cn)) != 0) {
		setdetail(detail, detailsz, "subject needs exactly one "
		    "printable CN");
		goto out;
	}
	if (!amtp_str_eq_ci(cn, strlen(cn), pol->cn, strlen(pol->cn))) {
		char esc[AMTP_LOG_ESCAPE_SIZE];

		amtp_log_escape(esc, sizeof(esc), pol->cn, strlen(pol->cn));
		setdetail(detail, detailsz, "CN %s, the job is for \"%s\"", cn,
		    esc);
		goto out;
	}
	if ((exts = X509_REQ_get_extensions(req)) == NULL) {
		*reason = AMTP_PKI_CSR_PARSE;
		setdetail(detail, detailsz, "malformed extension request");
		goto out;
	}
	for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);

		nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
		if (nid == NID_subject_alt_name) {
			if (csr_check_san(ext, pol, reason, detail,
			    detailsz) != 0)
				goto out;
		} else if (nid != NID_key_usage && nid != NID_ext_key_usage) {
			char oid[80];

			*reason = AMTP_PKI_CSR_BAD_EXTENSION;
			if (OBJ_obj2txt(oid, sizeof(oid),
			    X509_EXTENSION_get_object(ext), 1) < 0)
				oid[0] = '\0';
			setdetail(detail, detailsz, "extension %s", oid);
			goto out;
		}
	}
	*reason = AMTP_PKI_OK;
	if (out != NULL) {
		*out = req;
		req = NULL;
	}
	r = 0;
 out:
	ERR_clear_error();
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	BIO_free(bio);
	X509_REQ_free(req);
	return r;
}
