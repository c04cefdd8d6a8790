/* Unit tests for the provisioning certificate in src/amtprovd/enroll/ca.c:
 * the lab chain (it passes every rule a device applies, and openssl verify),
 * and the import of a PKCS#12 provisioning certificate (one test per rule).
 *
 * Also a driver for tests/integration/ca_lab_amtsim.sh:
 *	unit_amtprovd_ca_import lab DIR DOMAIN
 * makes the lab chain in DIR (with a fixed test master key), writes its key
 * opened to DIR/prov-key.pem (mode 0600, for curl; tests only) and prints
 * the root's SHA-256. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/pki.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "enroll/ca.h"

#include "../../fixtures/pki/mkcert.h"

#define DOMAIN	"fleet.example.test"
#define AMT_EKU	"serverAuth,2.16.840.1.113741.1.2.3"

static struct amtp_master_key *mk;
static EVP_PKEY *rootk, *interk, *leafk;
static X509 *root, *inter;

static int
setup(void **state)
{
	struct mk mroot = { "Vendor Root", NULL, 1, NULL, -MK_DAY, 3650 * MK_DAY, 0 };
	struct mk minter = { "Vendor CA", NULL, 1, NULL, -MK_DAY, 3000 * MK_DAY, 0 };
	uint8_t key[32];

	(void)state;
	memset(key, 0x42, sizeof(key));
	if (amtp_master_key_from_bytes(key, &mk) != 0)
		return -1;
	rootk = mk_key();
	interk = mk_key();
	leafk = mk_key();
	root = mk_cert(&mroot, rootk, NULL, rootk);
	inter = mk_cert(&minter, interk, root, rootk);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	X509_free(root);
	X509_free(inter);
	EVP_PKEY_free(rootk);
	EVP_PKEY_free(interk);
	EVP_PKEY_free(leafk);
	amtp_master_key_free(mk);
	return 0;
}

static void
newdir(char *d, size_t sz)
{
	snprintf(d, sz, "/tmp/amtp-prov-XXXXXX");
	assert_non_null(mkdtemp(d));
}

static void
rmtree(const char *d)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
}

static void
test_lab_chain(void **state)
{
	char d[64], hex[65], err[256], path[128], cmd[512];
	STACK_OF(X509) *chain = NULL;
	struct amtp_secret *kp = NULL;
	struct amtp_buf *b = NULL;
	struct amtp_pki_hash h;
	enum amtp_pki_reason why;
	EVP_PKEY *k = NULL;
	struct stat st;
	char cn[256];

	(void)state;
	newdir(d, sizeof(d));
	assert_int_equal(amtp_ca_make_lab_provisioning_chain(d, mk, DOMAIN, hex,
	    err, sizeof(err)), 0);
	assert_int_equal(strlen(hex), 64);
	/* The printed hash is the one in the files. */
	snprintf(path, sizeof(path), "%s/lab-root.sha256", d);
	assert_int_equal(amtp_buf_load_file(path, 256, &b), 0);
	assert_int_equal(amtp_buf_len(b), 65);
	assert_memory_equal(amtp_buf_ptr(b), hex, 64);
	amtp_buf_free(b);
	snprintf(path, sizeof(path), "%s/prov-key.sealed", d);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* What the service point loads passes every rule of the setup
	 * session, for a device in the domain and in a subdomain. */
	assert_int_equal(amtp_ca_load_provisioning(d, mk, &kp, &chain), 0);
	assert_int_equal(sk_X509_num(chain), 3);
	assert_int_equal(amtp_pki_key_from_secret(kp, &k), 0);
	assert_int_equal(X509_check_private_key(sk_X509_value(chain, 0), k), 1);
	assert_int_equal(amtp_pki_cert_cn(sk_X509_value(chain, 0), cn,
	    sizeof(cn)), 0);
	assert_string_equal(cn, "amtprov-prov." DOMAIN);
	memset(&h, 0, sizeof(h));
	h.alg = AMTP_PKI_SHA256;
	h.active = 1;
	assert_int_equal(amtp_hex_decode(hex, 64, h.hash, 32), 0);
	assert_int_equal(amtp_pki_check_provisioning_chain(chain, &h, 1,
	    DOMAIN, time(NULL), 0, &why, NULL, 0), 0);
	assert_int_equal(amtp_pki_check_provisioning_chain(chain, &h, 1,
	    "site7." DOMAIN, time(NULL), 0, &why, NULL, 0), 0);
	assert_int_equal(amtp_pki_check_provisioning_chain(chain, &h, 1,
	    "other.example.test", time(NULL), 0, &why, NULL, 0), AMTP_E_CERT);
	assert_int_equal(why, AMTP_PKI_CN_OUTSIDE_SUFFIX);
	EVP_PKEY_free(k);
	amtp_secret_free(kp);
	amtp_pki_chain_free(chain);

	/* openssl agrees that the chain verifies, for a TLS server cert. */
	snprintf(cmd, sizeof(cmd), "openssl verify -x509_strict -purpose "
	    "sslserver -CAfile '%s/lab-root.pem' -untrusted '%s/prov-chain.pem' "
	    "'%s/prov-chain.pem' >/dev/null", d, d, d);
	assert_int_equal(system(cmd), 0);
	/* And its SHA-256 of the root is the printed one. */
	snprintf(cmd, sizeof(cmd), "openssl x509 -in '%s/lab-root.pem' "
	    "-noout -fingerprint -sha256 | tr -d : | tr A-F a-f | "
	    "grep -q '=%s$'", d, hex);
	assert_int_equal(system(cmd), 0);

	/* Never overwritten; a bad domain is refused. */
	assert_int_equal(amtp_ca_make_lab_provisioning_chain(d, mk, DOMAIN,
	    NULL, err, sizeof(err)), AMTP_E_EXISTS);
	rmtree(d);
	/* Failing half-way (a file of the set is there already) removes what
	 * this call made, and keeps what was there. */
	newdir(d, sizeof(d));
	snprintf(path, sizeof(path), "%s/lab-root.sha256", d);
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fclose(f);
	}
	assert_int_equal(amtp_ca_make_lab_provisioning_chain(d, mk, DOMAIN,
	    NULL, err, sizeof(err)), AMTP_E_EXISTS);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/prov-key.sealed", d);
	assert_int_not_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/prov-chain.pem", d);
	assert_int_not_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/lab-root.sha256", d);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(amtp_ca_make_lab_provisioning_chain(d, mk, DOMAIN,
	    NULL, err, sizeof(err)), 0);
	rmtree(d);
	newdir(d, sizeof(d));
	assert_int_equal(amtp_ca_make_lab_provisioning_chain(d, mk, "test",
	    NULL, err, sizeof(err)), AMTP_E_INVAL);
	assert_int_equal(amtp_ca_make_lab_provisioning_chain(d, mk,
	    "bad_name.test", NULL, err, sizeof(err)), AMTP_E_INVAL);
	rmtree(d);
}

/* Writes a PKCS#12 with leaf (made from m under inter) and the CA certs
 * given; with_key 0 leaves the key out. */
static void
write_p12(const char *path, const struct mk *m, int with_root, int with_key)
{
	STACK_OF(X509) *ca = mk_chain(inter, with_root ? root : NULL, NULL);
	X509 *leaf = mk_cert(m, leafk, inter, interk);
	PKCS12 *p12 = PKCS12_create("secret-pw", "prov", with_key ? leafk :
	    NULL, leaf, ca, 0, 0, 0, 0, 0);
	BIO *bio;

	assert_non_null(p12);
	bio = BIO_new_file(path, "wb");
	assert_non_null(bio);
	assert_int_equal(i2d_PKCS12_bio(bio, p12), 1);
	BIO_free(bio);
	PKCS12_free(p12);
	X509_free(leaf);
	amtp_pki_chain_free(ca);
}

/* Imports a p12 made from m into a fresh folder; returns the code and sets
 * *why; checks that a refusal writes no file. */
static int
import(const struct mk *m, int with_root, int with_key, const char *pw,
    const char *domain, time_t now, enum amtp_pki_reason *why, char *err,
    size_t errlen)
{
	struct amtp_secret *s = NULL;
	char d[64], p12[128], path[160];
	struct stat st;
	int r;

	newdir(d, sizeof(d));
	snprintf(p12, sizeof(p12), "%s/in.p12", d);
	write_p12(p12, m, with_root, with_key);
	assert_int_equal(amtp_secret_from_cstr(pw, &s), 0);
	r = amtp_ca_import_provisioning_p12(d, mk, p12, s, domain, now, why,
	    err, errlen);
	snprintf(path, sizeof(path), "%s/prov-chain.pem", d);
	assert_int_equal(stat(path, &st) == 0, r == 0);
	snprintf(path, sizeof(path), "%s/prov-key.sealed", d);
	assert_int_equal(stat(path, &st) == 0, r == 0);
	if (r == 0) {
		STACK_OF(X509) *chain = NULL;
		struct amtp_secret *kp = NULL;

		assert_int_equal(amtp_ca_load_provisioning(d, mk, &kp, &chain),
		    0);
		assert_int_equal(sk_X509_num(chain), 3);
		assert_int_equal(X509_cmp(sk_X509_value(chain, 2), root), 0);
		amtp_secret_free(kp);
		amtp_pki_chain_free(chain);
		/* A second import is refused: never overwritten. */
		assert_int_equal(amtp_ca_import_provisioning_p12(d, mk, p12, s,
		    domain, now, why, err, errlen), AMTP_E_EXISTS);
		*why = AMTP_PKI_OK;
	}
	amtp_secret_free(s);
	rmtree(d);
	return r;
}

static void
test_import_rules(void **state)
{
	struct mk m = { "prov.example.test", NULL, 0, AMT_EKU, -MK_DAY,
	    365 * MK_DAY, 0 };
	enum amtp_pki_reason why;
	char err[512];
	time_t now = time(NULL);

	(void)state;
	/* Good: the chain, the OID, the CN (for example.test's subdomains). */
	assert_int_equal(import(&m, 1, 1, "secret-pw", DOMAIN, now, &why, err,
	    sizeof(err)), 0);
	assert_int_equal(import(&m, 1, 1, "secret-pw", NULL, now, &why, err,
	    sizeof(err)), 0);
	/* Wrong password. */
	assert_int_equal(import(&m, 1, 1, "nope", DOMAIN, now, &why, err,
	    sizeof(err)), AMTP_E_AUTH);
	assert_non_null(strstr(err, "password"));
	/* No private key. */
	assert_int_equal(import(&m, 1, 0, "secret-pw", DOMAIN, now, &why, err,
	    sizeof(err)), AMTP_E_CERT);
	assert_int_equal(why, AMTP_PKI_NO_KEY);
	/* Chain without its root. */
	assert_int_equal(import(&m, 0, 1, "secret-pw", DOMAIN, now, &why, err,
	    sizeof(err)), AMTP_E_CERT);
	assert_int_equal(why, AMTP_PKI_CHAIN_INCOMPLETE);
	assert_non_null(strstr(err, "chain incomplete"));
	/* Expired, and not yet valid. */
	assert_int_equal(import(&m, 1, 1, "secret-pw", DOMAIN,
	    now + 400 * MK_DAY, &why, err, sizeof(err)), AMTP_E_CERT);
	assert_int_equal(why, AMTP_PKI_EXPIRED);
	assert_non_null(strstr(err, "expired"));
	assert_int_equal(import(&m, 1, 1, "secret-pw", DOMAIN,
	    now - 2 * MK_DAY, &why, err, sizeof(err)), AMTP_E_CERT);
	assert_int_equal(why, AMTP_PKI_NOT_YET_VALID);
	/* CN outside the site's domain. */
	assert_int_equal(import(&m, 1, 1, "secret-pw", "fleet.other.test",
	    now, &why, err, sizeof(err)), AMTP_E_CERT);
	assert_int_equal(why, AMTP_PKI_CN_OUTSIDE_SUFFIX);
	assert_non_null(strstr(err, "prov.example.test"));
	/* Neither the OID nor the OU; then the OU alone is enough. */
	m.eku = "serverAuth";
	assert_int_equal(import(&m, 1, 1, "secret-pw", DOMAIN, now, &why, err,
	    sizeof(err)), AMTP_E_CERT);
	assert_int_equal(why, AMTP_PKI_NO_AMT_OID);
	assert_non_null(strstr(err, "OID"));
	m.ou = AMTP_PKI_AMT_OU;
	assert_int_equal(import(&m, 1, 1, "secret-pw", DOMAIN, now, &why, err,
	    sizeof(err)), 0);
	/* The OID without serverAuth. */
	m.ou = NULL;
	m.eku = "clientAuth,2.16.840.1.113741.1.2.3";
	assert_int_equal(import(&m, 1, 1, "secret-pw", DOMAIN, now, &why, err,
	    sizeof(err)), AMTP_E_CERT);
	assert_int_equal(why, AMTP_PKI_NO_SERVER_AUTH);
	/* No CN. */
	m.eku = AMT_EKU;
	m.cn = NULL;
	assert_int_equal(import(&m, 1, 1, "secret-pw", DOMAIN, now, &why, err,
	    sizeof(err)), AMTP_E_CERT);
	assert_int_equal(why, AMTP_PKI_CN_MISSING);
	/* Not a PKCS#12 file at all. */
	{
		struct amtp_secret *s = NULL;
		char d[64], p[128];
		FILE *f;

		newdir(d, sizeof(d));
		snprintf(p, sizeof(p), "%s/junk.p12", d);
		f = fopen(p, "w");
		assert_non_null(f);
		fputs("junk", f);
		fclose(f);
		assert_int_equal(amtp_secret_from_cstr("x", &s), 0);
		assert_int_equal(amtp_ca_import_provisioning_p12(d, mk, p, s,
		    DOMAIN, now, &why, err, sizeof(err)), AMTP_E_PARSE);
		amtp_secret_free(s);
		rmtree(d);
	}
}

static int
drive_lab(const char *d, const char *domain)
{
	struct amtp_master_key *k = NULL;
	struct amtp_secret *kp = NULL;
	STACK_OF(X509) *chain = NULL;
	char hex[65], err[256], path[512];
	uint8_t key[32];
	FILE *f;
	int r;

	memset(key, 0x42, sizeof(key));
	if ((r = amtp_master_key_from_bytes(key, &k)) != 0 ||
	    (r = amtp_ca_make_lab_provisioning_chain(d, k, domain, hex, err,
	    sizeof(err))) != 0 ||
	    (r = amtp_ca_load_provisioning(d, k, &kp, &chain)) != 0) {
		fprintf(stderr, "lab: %s: %s\n", amtp_strerror(r), err);
		amtp_master_key_free(k);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/prov-key.pem", d);
	umask(077);
	if ((f = fopen(path, "wx")) == NULL ||
	    fwrite(amtp_secret_reveal(kp), 1, amtp_secret_len(kp), f) !=
	    amtp_secret_len(kp) || fclose(f) != 0) {
		perror(path);
		r = 1;
	}
	printf("%s\n", hex);
	amtp_secret_free(kp);
	amtp_pki_chain_free(chain);
	amtp_master_key_free(k);
	return r == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lab_chain),
		cmocka_unit_test(test_import_rules),
	};

	if (argc == 4 && strcmp(argv[1], "lab") == 0)
		return drive_lab(argv[2], argv[3]);
	return cmocka_run_group_tests(tests, setup, teardown);
}
