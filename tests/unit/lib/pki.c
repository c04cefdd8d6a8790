/* Unit tests for src/lib/pki.c: the provisioning-certificate rules (one test
 * per rule), the DNS suffix rule, PEM/PKCS#12 loading and CSR checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/pki.h"
#include "amtprov/secret.h"

#include "../../fixtures/pki/mkcert.h"

#define LEAF_CN		"prov.fleet.example.test"
#define SUFFIX		"fleet.example.test"
#define AMT_EKU		"serverAuth,2.16.840.1.113741.1.2.3"

/* One site: root -> inter -> leaf (AMT OID), made once for all tests. */
static EVP_PKEY *rootk, *interk, *leafk;
static X509 *root, *inter, *leaf;
static struct amtp_pki_hash good[1];

static int
setup(void **state)
{
	struct mk mroot = { "Test Root", NULL, 1, NULL, -MK_DAY, 3650 * MK_DAY, 0 };
	struct mk minter = { "Test Inter", NULL, 1, NULL, -MK_DAY, 3000 * MK_DAY, 0 };
	struct mk mleaf = { LEAF_CN, NULL, 0, AMT_EKU, -MK_DAY, 365 * MK_DAY, 0 };
	size_t n;

	(void)state;
	rootk = mk_key();
	interk = mk_key();
	leafk = mk_key();
	root = mk_cert(&mroot, rootk, NULL, rootk);
	inter = mk_cert(&minter, interk, root, rootk);
	leaf = mk_cert(&mleaf, leafk, inter, interk);
	good[0].alg = AMTP_PKI_SHA256;
	good[0].active = 1;
	if (amtp_pki_cert_hash(root, AMTP_PKI_SHA256, good[0].hash, &n) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	X509_free(leaf);
	X509_free(inter);
	X509_free(root);
	EVP_PKEY_free(leafk);
	EVP_PKEY_free(interk);
	EVP_PKEY_free(rootk);
	return 0;
}

/* Checks chain with the good table and suffix; returns the reason. */
static enum amtp_pki_reason
check(STACK_OF(X509) *sk, const struct amtp_pki_hash *h, size_t nh,
    const char *suffix, time_t now)
{
	enum amtp_pki_reason why = AMTP_PKI__MAX;
	char detail[256];
	int r;

	r = amtp_pki_check_provisioning_chain(sk, h, nh, suffix, now, 0, &why,
	    detail, sizeof(detail));
	assert_true((r == 0) == (why == AMTP_PKI_OK));
	if (r != 0) {
		assert_int_equal(r, AMTP_E_CERT);
		assert_true(detail[0] != '\0' ||
		    strlen(amtp_pki_reason_str(why)) > 0);
	}
	return why;
}

/* A leaf under inter with the given contents, as a full chain. */
static STACK_OF(X509) *
chain_with(const struct mk *m)
{
	X509 *l = mk_cert(m, leafk, inter, interk);
	STACK_OF(X509) *sk = mk_chain(l, inter, root);

	X509_free(l);
	return sk;
}

static void
test_reason_names(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < AMTP_PKI__MAX; i++) {
		assert_true(strlen(amtp_pki_reason_name(i)) > 1);
		assert_true(strlen(amtp_pki_reason_str(i)) > 5);
	}
	assert_string_equal(amtp_pki_reason_name(AMTP_PKI_ROOT_NOT_TRUSTED),
	    "ROOT_NOT_TRUSTED");
	assert_string_equal(amtp_pki_reason_str(AMTP_PKI_ROOT_NOT_TRUSTED),
	    "root certificate hash not in firmware");
	assert_string_equal(amtp_pki_reason_name(AMTP_PKI__MAX), "UNKNOWN");
	assert_string_equal(amtp_pki_reason_name((enum amtp_pki_reason)-1),
	    "UNKNOWN");
}

static void
test_suffix_rule(void **state)
{
	(void)state;
	/* D = corp.example: suffix equal to D, or below it. */
	assert_int_equal(amtp_pki_cn_matches_suffix("prov.corp.example",
	    "corp.example"), 1);
	assert_int_equal(amtp_pki_cn_matches_suffix("prov.corp.example",
	    "fleet.corp.example"), 1);
	assert_int_equal(amtp_pki_cn_matches_suffix("prov.corp.example",
	    "a.b.corp.example"), 1);
	assert_int_equal(amtp_pki_cn_matches_suffix("PROV.Corp.Example",
	    "fleet.CORP.example"), 1);
	/* CN equal to the suffix. */
	assert_int_equal(amtp_pki_cn_matches_suffix("prov.corp.example",
	    "prov.corp.example"), 1);
	assert_int_equal(amtp_pki_cn_matches_suffix("corp.example",
	    "corp.example"), 1);
	/* Another domain; a look-alike that does not end in ".D". */
	assert_int_equal(amtp_pki_cn_matches_suffix("prov.corp.example",
	    "other.example"), 0);
	assert_int_equal(amtp_pki_cn_matches_suffix("prov.corp.example",
	    "xcorp.example"), 0);
	assert_int_equal(amtp_pki_cn_matches_suffix("prov.corp.example",
	    "example"), 0);
	/* D with a single label (a bare TLD) never matches. */
	assert_int_equal(amtp_pki_cn_matches_suffix("prov.example",
	    "fleet.example"), 0);
	assert_int_equal(amtp_pki_cn_matches_suffix("prov.example",
	    "example"), 0);
	assert_int_equal(amtp_pki_cn_matches_suffix("corp.example",
	    "fleet.example"), 0);
	/* Suffix a parent of D only: not accepted. */
	assert_int_equal(amtp_pki_cn_matches_suffix("prov.a.corp.example",
	    "corp.example"), 0);
	/* Malformed names. */
	assert_int_equal(amtp_pki_cn_matches_suffix("prov.corp.example", ""), 0);
	assert_int_equal(amtp_pki_cn_matches_suffix("", "corp.example"), 0);
	assert_int_equal(amtp_pki_cn_matches_suffix(NULL, "corp.example"), 0);
	assert_int_equal(amtp_pki_cn_matches_suffix("prov.corp.example", NULL), 0);
	assert_int_equal(amtp_pki_cn_matches_suffix("prov.corp.example.",
	    "corp.example"), 0);
	assert_int_equal(amtp_pki_cn_matches_suffix("prov..corp.example",
	    "corp.example"), 0);
	assert_int_equal(amtp_pki_cn_matches_suffix("prov.corp.example",
	    ".corp.example"), 0);
}

static void
test_chain_good(void **state)
{
	STACK_OF(X509) *sk = mk_chain(leaf, inter, root);
	struct amtp_pki_hash h[3];
	time_t now = time(NULL);
	size_t n;

	(void)state;
	assert_int_equal(check(sk, good, 1, SUFFIX, now), AMTP_PKI_OK);
	assert_int_equal(check(sk, good, 1, "dev.fleet.example.test", now),
	    AMTP_PKI_OK);
	assert_int_equal(check(sk, good, 1, LEAF_CN, now), AMTP_PKI_OK);
	/* The same root under other algorithms, behind a non-matching one. */
	memset(h, 0, sizeof(h));
	h[0].alg = AMTP_PKI_SHA256;
	h[0].active = 1;		/* all zero: no match */
	h[1].alg = AMTP_PKI_SHA1;
	h[1].active = 1;
	assert_int_equal(amtp_pki_cert_hash(root, AMTP_PKI_SHA1, h[1].hash, &n), 0);
	assert_int_equal(n, 20);
	assert_int_equal(check(sk, h, 2, SUFFIX, now), AMTP_PKI_OK);
	h[1].alg = AMTP_PKI_SHA384;
	assert_int_equal(amtp_pki_cert_hash(root, AMTP_PKI_SHA384, h[1].hash, &n), 0);
	assert_int_equal(n, 48);
	assert_int_equal(check(sk, h, 2, SUFFIX, now), AMTP_PKI_OK);
	/* Flags for the import check: no table, no suffix. */
	{
		enum amtp_pki_reason why;

		assert_int_equal(amtp_pki_check_provisioning_chain(sk, NULL, 0,
		    NULL, now, AMTP_PKI_SKIP_ROOT_HASH | AMTP_PKI_SKIP_DNS_SUFFIX,
		    &why, NULL, 0), 0);
		assert_int_equal(amtp_pki_check_provisioning_chain(sk, good, 1,
		    NULL, now, 0, &why, NULL, 0), AMTP_E_INVAL);
	}
	amtp_pki_chain_free(sk);
}

/* A vendor chain under an old-style root (no key usage, no key
 * identifiers), as some purchased provisioning certificates have: AMT
 * accepts it, and so does the check. */
static void
test_chain_legacy_root(void **state)
{
	struct mk mr = { "Old Vendor Root", NULL, 1, NULL, -MK_DAY,
	    3650 * MK_DAY, 1 };
	struct mk ml = { LEAF_CN, NULL, 0, AMT_EKU, -MK_DAY, 365 * MK_DAY, 0 };
	EVP_PKEY *rk = mk_key();
	X509 *r = mk_cert(&mr, rk, NULL, rk), *l;
	STACK_OF(X509) *sk;
	struct amtp_pki_hash h;
	size_t n;

	(void)state;
	/* The root has no SKID, so the leaf has no AKID: a name match. */
	l = mk_cert(&ml, leafk, r, rk);
	assert_int_equal(X509_get_ext_by_NID(l, NID_authority_key_identifier,
	    -1), -1);
	assert_int_equal(X509_get_ext_by_NID(r, NID_key_usage, -1), -1);
	sk = mk_chain(l, r, NULL);
	memset(&h, 0, sizeof(h));
	h.alg = AMTP_PKI_SHA256;
	h.active = 1;
	assert_int_equal(amtp_pki_cert_hash(r, AMTP_PKI_SHA256, h.hash, &n), 0);
	assert_int_equal(check(sk, &h, 1, SUFFIX, time(NULL)), AMTP_PKI_OK);
	amtp_pki_chain_free(sk);
	X509_free(l);
	X509_free(r);
	EVP_PKEY_free(rk);
}

static void
test_rule_no_cert(void **state)
{
	STACK_OF(X509) *sk = sk_X509_new_null();

	(void)state;
	assert_int_equal(check(NULL, good, 1, SUFFIX, time(NULL)),
	    AMTP_PKI_NO_CERT);
	assert_int_equal(check(sk, good, 1, SUFFIX, time(NULL)),
	    AMTP_PKI_NO_CERT);
	amtp_pki_chain_free(sk);
}

static void
test_rule_too_long(void **state)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	int i;

	(void)state;
	for (i = 0; i < AMTP_MAX_CHAIN_DEPTH + 1; i++) {
		X509_up_ref(root);
		sk_X509_push(sk, root);
	}
	assert_int_equal(check(sk, good, 1, SUFFIX, time(NULL)),
	    AMTP_PKI_CHAIN_TOO_LONG);
	/* Exactly at the limit: a chain of roots is not too long (a root
	 * issues itself), so it passes the structure checks. */
	X509_free(sk_X509_pop(sk));
	assert_int_not_equal(check(sk, good, 1, SUFFIX, time(NULL)),
	    AMTP_PKI_CHAIN_TOO_LONG);
	amtp_pki_chain_free(sk);
}

static void
test_rule_incomplete(void **state)
{
	STACK_OF(X509) *sk;

	(void)state;
	sk = mk_chain(leaf, inter, NULL);		/* root missing */
	assert_int_equal(check(sk, good, 1, SUFFIX, time(NULL)),
	    AMTP_PKI_CHAIN_INCOMPLETE);
	amtp_pki_chain_free(sk);
	sk = mk_chain(leaf, root, NULL);		/* intermediate missing */
	assert_int_equal(check(sk, good, 1, SUFFIX, time(NULL)),
	    AMTP_PKI_CHAIN_INCOMPLETE);
	amtp_pki_chain_free(sk);
	sk = mk_chain(leaf, NULL, NULL);		/* leaf alone */
	assert_int_equal(check(sk, good, 1, SUFFIX, time(NULL)),
	    AMTP_PKI_CHAIN_INCOMPLETE);
	amtp_pki_chain_free(sk);
	sk = mk_chain(inter, leaf, root);		/* wrong order */
	assert_int_equal(check(sk, good, 1, SUFFIX, time(NULL)),
	    AMTP_PKI_CHAIN_INCOMPLETE);
	amtp_pki_chain_free(sk);
}

static void
test_rule_invalid(void **state)
{
	struct mk mbad = { "Not A CA", NULL, 0, NULL, -MK_DAY, 300 * MK_DAY, 0 };
	struct mk mleaf = { LEAF_CN, NULL, 0, AMT_EKU, -MK_DAY, 200 * MK_DAY, 0 };
	STACK_OF(X509) *sk;
	unsigned char *der = NULL, *p;
	const unsigned char *cp;
	X509 *t, *badinter, *l;
	EVP_PKEY *k;
	int len;

	(void)state;
	/* A leaf whose signature was tampered with. */
	len = i2d_X509(leaf, &der);
	assert_true(len > 100);
	der[len - 5] ^= 0x01;
	cp = der;
	t = d2i_X509(NULL, &cp, len);
	assert_non_null(t);
	sk = mk_chain(t, inter, root);
	assert_int_equal(check(sk, good, 1, SUFFIX, time(NULL)),
	    AMTP_PKI_CHAIN_INVALID);
	amtp_pki_chain_free(sk);
	X509_free(t);
	OPENSSL_free(der);

	/* An issuer that is not a CA (no basicConstraints CA:TRUE, and its
	 * key usage allows no certificate signing: remove that). */
	k = mk_key();
	badinter = X509_new();
	p = NULL;
	{
		X509 *tmp = mk_cert(&mbad, k, root, rootk);

		/* Drop keyUsage so that issuance is structurally possible
		 * and only the CA constraint is wrong. */
		X509_EXTENSION_free(X509_delete_ext(tmp,
		    X509_get_ext_by_NID(tmp, NID_key_usage, -1)));
		X509_sign(tmp, rootk, EVP_sha256());
		X509_free(badinter);
		badinter = tmp;
	}
	l = mk_cert(&mleaf, leafk, badinter, k);
	sk = mk_chain(l, badinter, root);
	assert_int_equal(check(sk, good, 1, SUFFIX, time(NULL)),
	    AMTP_PKI_CHAIN_INVALID);
	amtp_pki_chain_free(sk);
	X509_free(l);
	X509_free(badinter);
	EVP_PKEY_free(k);
	(void)p;
}

static void
test_rule_validity(void **state)
{
	STACK_OF(X509) *sk = mk_chain(leaf, inter, root);
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(check(sk, good, 1, SUFFIX, now + 400 * MK_DAY),
	    AMTP_PKI_EXPIRED);
	assert_int_equal(check(sk, good, 1, SUFFIX, now - 2 * MK_DAY),
	    AMTP_PKI_NOT_YET_VALID);
	amtp_pki_chain_free(sk);
}

static void
test_rule_root_hash(void **state)
{
	STACK_OF(X509) *sk = mk_chain(leaf, inter, root);
	struct amtp_pki_hash h[2];

	(void)state;
	assert_int_equal(check(sk, NULL, 0, SUFFIX, time(NULL)),
	    AMTP_PKI_ROOT_NOT_TRUSTED);
	memcpy(&h[0], &good[0], sizeof(h[0]));
	h[0].hash[0] ^= 0xff;
	assert_int_equal(check(sk, h, 1, SUFFIX, time(NULL)),
	    AMTP_PKI_ROOT_NOT_TRUSTED);
	/* Hash of the intermediate, not the root: refused. */
	{
		size_t n;

		assert_int_equal(amtp_pki_cert_hash(inter, AMTP_PKI_SHA256,
		    h[0].hash, &n), 0);
		assert_int_equal(check(sk, h, 1, SUFFIX, time(NULL)),
		    AMTP_PKI_ROOT_NOT_TRUSTED);
	}
	/* The right hash, inactive; and next to an active wrong one. */
	memcpy(&h[0], &good[0], sizeof(h[0]));
	h[0].active = 0;
	assert_int_equal(check(sk, h, 1, SUFFIX, time(NULL)),
	    AMTP_PKI_ROOT_INACTIVE);
	memcpy(&h[1], &good[0], sizeof(h[1]));
	h[1].hash[3] ^= 1;
	assert_int_equal(check(sk, h, 2, SUFFIX, time(NULL)),
	    AMTP_PKI_ROOT_INACTIVE);
	/* A SHA-256 value stored as SHA-384 does not match. */
	memcpy(&h[0], &good[0], sizeof(h[0]));
	h[0].alg = AMTP_PKI_SHA384;
	assert_int_equal(check(sk, h, 1, SUFFIX, time(NULL)),
	    AMTP_PKI_ROOT_NOT_TRUSTED);
	amtp_pki_chain_free(sk);
}

static void
test_rule_oid_ou(void **state)
{
	struct mk m = { LEAF_CN, NULL, 0, "serverAuth", -MK_DAY, 100 * MK_DAY, 0 };
	STACK_OF(X509) *sk;

	(void)state;
	/* serverAuth only, no OU: refused. */
	sk = chain_with(&m);
	assert_int_equal(check(sk, good, 1, SUFFIX, time(NULL)),
	    AMTP_PKI_NO_AMT_OID);
	amtp_pki_chain_free(sk);
	/* The OU, exact: accepted without the OID; with no EKU at all too. */
	m.ou = AMTP_PKI_AMT_OU;
	sk = chain_with(&m);
	assert_int_equal(check(sk, good, 1, SUFFIX, time(NULL)), AMTP_PKI_OK);
	amtp_pki_chain_free(sk);
	m.eku = NULL;
	sk = chain_with(&m);
	assert_int_equal(check(sk, good, 1, SUFFIX, time(NULL)), AMTP_PKI_OK);
	amtp_pki_chain_free(sk);
	/* The OU compares case-sensitively. */
	m.ou = "intel(r) client setup certificate";
	sk = chain_with(&m);
	assert_int_equal(check(sk, good, 1, SUFFIX, time(NULL)),
	    AMTP_PKI_NO_AMT_OID);
	amtp_pki_chain_free(sk);
	/* The OID without serverAuth. */
	m.ou = NULL;
	m.eku = "clientAuth,2.16.840.1.113741.1.2.3";
	sk = chain_with(&m);
	assert_int_equal(check(sk, good, 1, SUFFIX, time(NULL)),
	    AMTP_PKI_NO_SERVER_AUTH);
	amtp_pki_chain_free(sk);
}

static void
test_rule_cn(void **state)
{
	struct mk m = { NULL, NULL, 0, AMT_EKU, -MK_DAY, 100 * MK_DAY, 0 };
	STACK_OF(X509) *sk = chain_with(&m);
	enum amtp_pki_reason why;
	char detail[256];

	(void)state;
	assert_int_equal(check(sk, good, 1, SUFFIX, time(NULL)),
	    AMTP_PKI_CN_MISSING);
	amtp_pki_chain_free(sk);
	sk = mk_chain(leaf, inter, root);
	assert_int_equal(check(sk, good, 1, "other.example.test", time(NULL)),
	    AMTP_PKI_CN_OUTSIDE_SUFFIX);
	assert_int_equal(check(sk, good, 1, "example.test", time(NULL)),
	    AMTP_PKI_CN_OUTSIDE_SUFFIX);
	assert_int_equal(amtp_pki_check_provisioning_chain(sk, good, 1,
	    "other.example.test", time(NULL), 0, &why, detail, sizeof(detail)),
	    AMTP_E_CERT);
	assert_non_null(strstr(detail, LEAF_CN));
	assert_non_null(strstr(detail, "other.example.test"));
	amtp_pki_chain_free(sk);
}

static void
test_pem(void **state)
{
	STACK_OF(X509) *sk = mk_chain(leaf, inter, root), *back = NULL;
	struct amtp_buf *b = amtp_buf_new(AMTP_PKI_PEM_MAX + 16);
	static const char bad[] = "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n";
	char path[] = "/tmp/amtp-pki-XXXXXX";
	int i, fd;

	(void)state;
	assert_non_null(b);
	assert_int_equal(amtp_pki_chain_to_pem(sk, b), 0);
	assert_int_equal(amtp_pki_chain_from_pem(amtp_buf_ptr(b),
	    amtp_buf_len(b), &back), 0);
	assert_int_equal(sk_X509_num(back), 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(X509_cmp(sk_X509_value(sk, i),
		    sk_X509_value(back, i)), 0);
	amtp_pki_chain_free(back);
	back = NULL;
	/* From a file. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, amtp_buf_ptr(b), amtp_buf_len(b)),
	    (ssize_t)amtp_buf_len(b));
	close(fd);
	assert_int_equal(amtp_pki_chain_load(path, &back), 0);
	assert_int_equal(sk_X509_num(back), 3);
	amtp_pki_chain_free(back);
	back = NULL;
	unlink(path);
	assert_int_equal(amtp_pki_chain_load(path, &back), AMTP_E_NOTFOUND);
	assert_null(back);
	/* Empty, garbage, a broken block after good ones. */
	assert_int_equal(amtp_pki_chain_from_pem("", 0, &back), AMTP_E_PARSE);
	assert_int_equal(amtp_pki_chain_from_pem("hello", 5, &back),
	    AMTP_E_PARSE);
	assert_int_equal(amtp_pki_chain_from_pem(bad, strlen(bad), &back),
	    AMTP_E_PARSE);
	assert_int_equal(amtp_buf_put(b, bad, strlen(bad)), 0);
	assert_int_equal(amtp_pki_chain_from_pem(amtp_buf_ptr(b),
	    amtp_buf_len(b), &back), AMTP_E_PARSE);
	assert_null(back);
	/* Certificate count: at the limit, and one over. */
	amtp_buf_reset(b);
	for (i = 0; i < AMTP_MAX_CHAIN_DEPTH - 3; i++)
		X509_up_ref(root), sk_X509_push(sk, root);
	assert_int_equal(amtp_pki_chain_to_pem(sk, b), 0);
	assert_int_equal(amtp_pki_chain_from_pem(amtp_buf_ptr(b),
	    amtp_buf_len(b), &back), 0);
	assert_int_equal(sk_X509_num(back), AMTP_MAX_CHAIN_DEPTH);
	amtp_pki_chain_free(back);
	back = NULL;
	X509_up_ref(root), sk_X509_push(sk, root);
	amtp_buf_reset(b);
	assert_int_equal(amtp_pki_chain_to_pem(sk, b), 0);
	assert_int_equal(amtp_pki_chain_from_pem(amtp_buf_ptr(b),
	    amtp_buf_len(b), &back), AMTP_E_TOOBIG);
	assert_int_equal(amtp_pki_chain_from_pem(amtp_buf_ptr(b),
	    AMTP_PKI_PEM_MAX + 1, &back), AMTP_E_TOOBIG);
	assert_null(back);
	amtp_buf_free(b);
	amtp_pki_chain_free(sk);
}

static void
test_order(void **state)
{
	STACK_OF(X509) *others = mk_chain(root, leaf, inter), *out = NULL;

	(void)state;
	assert_int_equal(amtp_pki_chain_order(leaf, others, &out), 0);
	assert_int_equal(sk_X509_num(out), 3);
	assert_ptr_equal(sk_X509_value(out, 0), leaf);
	assert_ptr_equal(sk_X509_value(out, 1), inter);
	assert_ptr_equal(sk_X509_value(out, 2), root);
	amtp_pki_chain_free(out);
	amtp_pki_chain_free(others);
	/* No issuers known: the leaf alone. */
	others = sk_X509_new_null();
	assert_int_equal(amtp_pki_chain_order(leaf, others, &out), 0);
	assert_int_equal(sk_X509_num(out), 1);
	amtp_pki_chain_free(out);
	amtp_pki_chain_free(others);
}

static void
write_p12(const char *path, const char *pass, EVP_PKEY *k, X509 *c,
    STACK_OF(X509) *ca)
{
	PKCS12 *p12 = PKCS12_create(pass, "amtp", k, c, ca, 0, 0, 0, 0, 0);
	BIO *bio;

	assert_non_null(p12);
	bio = BIO_new_file(path, "wb");
	assert_non_null(bio);
	assert_int_equal(i2d_PKCS12_bio(bio, p12), 1);
	BIO_free(bio);
	PKCS12_free(p12);
}

static void
test_p12(void **state)
{
	STACK_OF(X509) *ca = mk_chain(root, inter, NULL), *chain = NULL;
	struct amtp_secret *pw = NULL, *bad = NULL;
	char path[] = "/tmp/amtp-p12-XXXXXX";
	EVP_PKEY *k = NULL;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(amtp_secret_from_cstr("p12-pass", &pw), 0);
	assert_int_equal(amtp_secret_from_cstr("wrong", &bad), 0);
	write_p12(path, "p12-pass", leafk, leaf, ca);
	assert_int_equal(amtp_pki_p12_load(path, pw, &k, &chain), 0);
	assert_int_equal(sk_X509_num(chain), 3);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 0), leaf), 0);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 1), inter), 0);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 2), root), 0);
	assert_int_equal(EVP_PKEY_eq(k, leafk), 1);
	EVP_PKEY_free(k);
	amtp_pki_chain_free(chain);
	k = NULL;
	chain = NULL;
	/* An old export (RC2-40): opened through the legacy provider. */
	{
		char cmd[1024], pem[64];
		FILE *f;

		snprintf(pem, sizeof(pem), "%s.pem", path);
		f = fopen(pem, "w");
		assert_non_null(f);
		PEM_write_X509(f, leaf);
		PEM_write_PrivateKey(f, leafk, NULL, NULL, 0, NULL, NULL);
		PEM_write_X509(f, inter);
		PEM_write_X509(f, root);
		fclose(f);
		snprintf(cmd, sizeof(cmd), "openssl pkcs12 -export -legacy "
		    "-in '%s' -passout pass:p12-pass -out '%s' 2>/dev/null && "
		    "openssl pkcs12 -in '%s' -passin pass:p12-pass -info "
		    "-noout 2>&1 | grep -q 40BitRC2", pem, path, path);
		assert_int_equal(system(cmd), 0);
		unlink(pem);
		assert_int_equal(amtp_pki_p12_load(path, pw, &k, &chain), 0);
		assert_int_equal(sk_X509_num(chain), 3);
		assert_int_equal(X509_cmp(sk_X509_value(chain, 2), root), 0);
		assert_int_equal(EVP_PKEY_eq(k, leafk), 1);
		/* The key works in this (default) context. */
		assert_int_equal(X509_check_private_key(sk_X509_value(chain, 0),
		    k), 1);
		EVP_PKEY_free(k);
		amtp_pki_chain_free(chain);
		k = NULL;
		chain = NULL;
	}
	assert_int_equal(amtp_pki_p12_load(path, bad, &k, &chain), AMTP_E_AUTH);
	assert_int_equal(amtp_pki_p12_load(path, NULL, &k, &chain), AMTP_E_AUTH);
	assert_null(k);
	assert_null(chain);
	/* Without a key. */
	write_p12(path, "p12-pass", NULL, leaf, ca);
	assert_int_equal(amtp_pki_p12_load(path, pw, &k, &chain), AMTP_E_CERT);
	/* Not PKCS#12. */
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs("not pkcs#12", f);
		fclose(f);
	}
	assert_int_equal(amtp_pki_p12_load(path, pw, &k, &chain),
	    AMTP_E_PARSE);
	unlink(path);
	assert_int_equal(amtp_pki_p12_load(path, pw, &k, &chain),
	    AMTP_E_NOTFOUND);
	amtp_secret_free(pw);
	amtp_secret_free(bad);
	amtp_pki_chain_free(ca);
}

static void
test_keys_hashes(void **state)
{
	struct amtp_secret *s = NULL;
	EVP_PKEY *k = NULL, *k2 = NULL;
	unsigned char *der = NULL, md[64];
	uint8_t h[AMTP_PKI_HASH_MAXLEN];
	char hex[2 * AMTP_PKI_HASH_MAXLEN + 1], want[65];
	unsigned int mdlen;
	size_t n;
	int len;

	(void)state;
	assert_int_equal(amtp_pki_rsa_generate(1024, &k), AMTP_E_RANGE);
	assert_int_equal(amtp_pki_rsa_generate(8192, &k), AMTP_E_RANGE);
	assert_null(k);
	assert_int_equal(amtp_pki_rsa_generate(2048, &k), 0);
	assert_int_equal(EVP_PKEY_get_bits(k), 2048);
	assert_int_equal(amtp_pki_key_to_secret(k, &s), 0);
	assert_non_null(strstr(amtp_secret_cstr(s), "BEGIN PRIVATE KEY"));
	assert_int_equal(amtp_pki_key_from_secret(s, &k2), 0);
	assert_int_equal(EVP_PKEY_eq(k, k2), 1);
	EVP_PKEY_free(k2);
	amtp_secret_free(s);
	assert_int_equal(amtp_secret_from_cstr("not a key", &s), 0);
	assert_int_equal(amtp_pki_key_from_secret(s, &k2), AMTP_E_PARSE);
	amtp_secret_free(s);
	EVP_PKEY_free(k);

	/* The hash is over the DER. */
	len = i2d_X509(root, &der);
	assert_true(len > 0);
	assert_int_equal(EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(),
	    NULL), 1);
	OPENSSL_free(der);
	assert_int_equal(amtp_pki_cert_hash(root, AMTP_PKI_SHA256, h, &n), 0);
	assert_int_equal(n, 32);
	assert_memory_equal(h, md, 32);
	assert_int_equal(amtp_pki_cert_hash_hex(root, AMTP_PKI_SHA256, hex,
	    sizeof(hex)), 0);
	for (n = 0; n < 32; n++)
		snprintf(want + 2 * n, 3, "%02x", md[n]);
	assert_string_equal(hex, want);
	assert_int_equal(amtp_pki_cert_hash(root, AMTP_PKI_HASH__MAX, h, &n),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_pki_hash_len(AMTP_PKI_SHA512), 64);
	/* From hex, the algorithm told by the length. */
	{
		struct amtp_pki_hash e;
		char h96[97], h128[129];

		memset(&e, 0x55, sizeof(e));
		assert_int_equal(amtp_pki_hash_from_hex(want, 1, &e), 0);
		assert_int_equal(e.alg, AMTP_PKI_SHA256);
		assert_int_equal(e.active, 1);
		assert_memory_equal(e.hash, md, 32);
		assert_int_equal(amtp_pki_hash_from_hex(
		    "da39a3ee5e6b4b0d3255bfef95601890AFD80709", 0, &e), 0);
		assert_int_equal(e.alg, AMTP_PKI_SHA1);
		assert_int_equal(e.active, 0);
		memset(h96, 'a', 96);
		h96[96] = '\0';
		assert_int_equal(amtp_pki_hash_from_hex(h96, 1, &e), 0);
		assert_int_equal(e.alg, AMTP_PKI_SHA384);
		memset(h128, 'F', 128);
		h128[128] = '\0';
		assert_int_equal(amtp_pki_hash_from_hex(h128, 1, &e), 0);
		assert_int_equal(e.alg, AMTP_PKI_SHA512);
		e.alg = AMTP_PKI_SHA1;
		assert_int_equal(amtp_pki_hash_from_hex("abc", 1, &e),
		    AMTP_E_PARSE);
		assert_int_equal(e.alg, AMTP_PKI_SHA1);	/* untouched */
		h96[95] = 'g';
		assert_int_equal(amtp_pki_hash_from_hex(h96, 1, &e),
		    AMTP_E_PARSE);
		assert_int_equal(amtp_pki_hash_from_hex("", 1, &e),
		    AMTP_E_PARSE);
		assert_int_equal(amtp_pki_hash_from_hex(NULL, 1, &e),
		    AMTP_E_PARSE);
	}
	assert_int_equal(amtp_pki_hash_len(AMTP_PKI_HASH__MAX), 0);
}

/* A request for cn signed by k with md; extra subject attribute (txt=val)
 * and extension (nid, value) when given. */
static int
mk_req(EVP_PKEY *k, const char *cn, const char *cn2, const char *extra,
    int extnid, const char *extval, const EVP_MD *md, unsigned char **der)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_REQ_get_subject_name(req);
	STACK_OF(X509_EXTENSION) *exts;
	int len;

	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"amtprov", -1, -1, 0);
	if (cn != NULL)
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
		    (const unsigned char *)cn, -1, -1, 0);
	if (cn2 != NULL)
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
		    (const unsigned char *)cn2, -1, -1, 0);
	if (extra != NULL)
		X509_NAME_add_entry_by_txt(n, extra, MBSTRING_ASC,
		    (const unsigned char *)"x@example.test", -1, -1, 0);
	X509_REQ_set_pubkey(req, k);
	if (extnid != 0) {
		exts = sk_X509_EXTENSION_new_null();
		sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL,
		    extnid, extval));
		X509_REQ_add_extensions(req, exts);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	if (X509_REQ_sign(req, k, md) <= 0)
		len = -1;
	else {
		*der = NULL;
		len = i2d_X509_REQ(req, der);
	}
	X509_REQ_free(req);
	return len;
}

static enum amtp_pki_reason
csr(const void *d, size_t len)
{
	struct amtp_csr_policy pol = { 2048, 2048, "dev1.fleet.example.test",
	    "dev1" };
	enum amtp_pki_reason why = AMTP_PKI__MAX;
	X509_REQ *req = NULL;
	char detail[256];
	int r;

	r = amtp_pki_csr_check(d, len, &pol, &req, &why, detail,
	    sizeof(detail));
	assert_true((r == 0) == (why == AMTP_PKI_OK));
	assert_true((r == 0) == (req != NULL));
	if (r != 0)
		assert_int_equal(r, AMTP_E_CERT);
	X509_REQ_free(req);
	return why;
}

static void
test_csr(void **state)
{
	const char *fq = "dev1.fleet.example.test";
	unsigned char *der = NULL, *pos;
	uint8_t *big;
	EVP_PKEY *k3072, *k1024, *ec;
	X509_REQ *req;
	BIO *bio;
	char *pem;
	long pemlen;
	int len;

	(void)state;
	/* Good, DER and PEM; with SAN of both names and key usage. */
	len = mk_req(leafk, fq, NULL, NULL, 0, NULL, EVP_sha256(), &der);
	assert_true(len > 0);
	assert_int_equal(csr(der, (size_t)len), AMTP_PKI_OK);
	{
		const unsigned char *cp = der;

		req = d2i_X509_REQ(NULL, &cp, len);
		bio = BIO_new(BIO_s_mem());
		PEM_write_bio_X509_REQ(bio, req);
		pemlen = BIO_get_mem_data(bio, &pem);
		assert_int_equal(csr(pem, (size_t)pemlen), AMTP_PKI_OK);
		BIO_free(bio);
		X509_REQ_free(req);
	}
	/* Trailing byte after the DER. */
	{
		uint8_t *t = malloc((size_t)len + 1);

		memcpy(t, der, (size_t)len);
		t[len] = 0;
		assert_int_equal(csr(t, (size_t)len + 1), AMTP_PKI_CSR_PARSE);
		free(t);
	}
	/* Tampered: one letter of the subject changed after signing. */
	pos = memmem(der, (size_t)len, "dev1", 4);
	assert_non_null(pos);
	pos[3] = '2';
	assert_int_equal(csr(der, (size_t)len), AMTP_PKI_CSR_BAD_SIGNATURE);
	OPENSSL_free(der);
	len = mk_req(leafk, fq, NULL, NULL, NID_subject_alt_name,
	    "DNS:dev1.fleet.example.test,DNS:DEV1", EVP_sha256(), &der);
	assert_int_equal(csr(der, (size_t)len), AMTP_PKI_OK);
	OPENSSL_free(der);
	len = mk_req(leafk, fq, NULL, NULL, NID_key_usage,
	    "digitalSignature,keyEncipherment", EVP_sha1(), &der);
	assert_int_equal(csr(der, (size_t)len), AMTP_PKI_OK);	/* SHA-1: AMT */
	OPENSSL_free(der);

	/* Wrong subject, in each form. */
	len = mk_req(leafk, "dev2.fleet.example.test", NULL, NULL, 0, NULL,
	    EVP_sha256(), &der);
	assert_int_equal(csr(der, (size_t)len), AMTP_PKI_CSR_WRONG_SUBJECT);
	OPENSSL_free(der);
	len = mk_req(leafk, NULL, NULL, NULL, 0, NULL, EVP_sha256(), &der);
	assert_int_equal(csr(der, (size_t)len), AMTP_PKI_CSR_WRONG_SUBJECT);
	OPENSSL_free(der);
	len = mk_req(leafk, fq, fq, NULL, 0, NULL, EVP_sha256(), &der);
	assert_int_equal(csr(der, (size_t)len), AMTP_PKI_CSR_WRONG_SUBJECT);
	OPENSSL_free(der);
	len = mk_req(leafk, fq, NULL, "emailAddress", 0, NULL, EVP_sha256(),
	    &der);
	assert_int_equal(csr(der, (size_t)len), AMTP_PKI_CSR_WRONG_SUBJECT);
	OPENSSL_free(der);
	len = mk_req(leafk, fq, NULL, NULL, NID_subject_alt_name,
	    "DNS:dev1.fleet.example.test,DNS:evil.example.test", EVP_sha256(),
	    &der);
	assert_int_equal(csr(der, (size_t)len), AMTP_PKI_CSR_WRONG_SUBJECT);
	OPENSSL_free(der);
	len = mk_req(leafk, fq, NULL, NULL, NID_subject_alt_name,
	    "IP:127.0.0.1", EVP_sha256(), &der);
	assert_int_equal(csr(der, (size_t)len), AMTP_PKI_CSR_WRONG_SUBJECT);
	OPENSSL_free(der);

	/* Extensions that are not allowed. */
	len = mk_req(leafk, fq, NULL, NULL, NID_basic_constraints, "CA:TRUE",
	    EVP_sha256(), &der);
	assert_int_equal(csr(der, (size_t)len), AMTP_PKI_CSR_BAD_EXTENSION);
	OPENSSL_free(der);

	/* Key size and type. */
	k3072 = mk_key_bits(3072);
	len = mk_req(k3072, fq, NULL, NULL, 0, NULL, EVP_sha256(), &der);
	assert_int_equal(csr(der, (size_t)len), AMTP_PKI_CSR_KEY_SIZE);
	OPENSSL_free(der);
	EVP_PKEY_free(k3072);
	k1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	assert_non_null(k1024);
	len = mk_req(k1024, fq, NULL, NULL, 0, NULL, EVP_sha256(), &der);
	assert_int_equal(csr(der, (size_t)len), AMTP_PKI_CSR_KEY_SIZE);
	OPENSSL_free(der);
	EVP_PKEY_free(k1024);
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(ec);
	len = mk_req(ec, fq, NULL, NULL, 0, NULL, EVP_sha256(), &der);
	assert_int_equal(csr(der, (size_t)len), AMTP_PKI_CSR_KEY_TYPE);
	OPENSSL_free(der);
	EVP_PKEY_free(ec);

	/* MD5 signature (when this OpenSSL still signs with it). */
	len = mk_req(leafk, fq, NULL, NULL, 0, NULL, EVP_md5(), &der);
	if (len > 0) {
		assert_int_equal(csr(der, (size_t)len), AMTP_PKI_CSR_WEAK_DIGEST);
		OPENSSL_free(der);
	}

	/* Sizes: empty, at the limit (garbage), one over. */
	assert_int_equal(csr("", 0), AMTP_PKI_CSR_PARSE);
	big = calloc(1, AMTP_CSR_MAX + 1);
	assert_non_null(big);
	assert_int_equal(csr(big, AMTP_CSR_MAX), AMTP_PKI_CSR_PARSE);
	assert_int_equal(csr(big, AMTP_CSR_MAX + 1), AMTP_PKI_CSR_TOO_BIG);
	memcpy(big, "-----BEGIN CERTIFICATE REQUEST-----\n", 36);
	assert_int_equal(csr(big, 200), AMTP_PKI_CSR_PARSE);
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_suffix_rule),
		cmocka_unit_test(test_chain_good),
		cmocka_unit_test(test_chain_legacy_root),
		cmocka_unit_test(test_rule_no_cert),
		cmocka_unit_test(test_rule_too_long),
		cmocka_unit_test(test_rule_incomplete),
		cmocka_unit_test(test_rule_invalid),
		cmocka_unit_test(test_rule_validity),
		cmocka_unit_test(test_rule_root_hash),
		cmocka_unit_test(test_rule_oid_ou),
		cmocka_unit_test(test_rule_cn),
		cmocka_unit_test(test_pem),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_p12),
		cmocka_unit_test(test_keys_hashes),
		cmocka_unit_test(test_csr),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
