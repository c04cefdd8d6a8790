/* Unit tests for src/amtsim/net/tls.c: the setup-session check on chains
 * as a client sends them (DER, leaf first), against a device's hash table
 * (SHA-256 and SHA-384 entries, active or not) and trusted DNS suffix (the
 * PKI suffix, else the DHCP one), one reason per rule; and the fleet-wide
 * self-signed key and per-device certificate cached in flash. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <gnutls/gnutls.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "amtprov/amthi.h"
#include "amtprov/err.h"
#include "amtprov/pki.h"
#include "device.h"
#include "net/simnet.h"

struct fixture {
	char			 dir[64];
	struct amtsim_fleet_ctx	 ctx;
	struct amtsim_device	*d;
};

static const char *
path(const char *name)
{
	static char p[1024];

	(void)snprintf(p, sizeof(p), "%s/tests/fixtures/simnet/%s",
	    getenv("AMTP_SRC_DIR") != NULL ? getenv("AMTP_SRC_DIR") :
	    AMTP_SRC_DIR, name);
	return p;
}

/* The chain file as DER datums (leaf first). */
static unsigned
chain(const char *name, gnutls_datum_t *out, unsigned max)
{
	FILE *fp;
	X509 *x;
	unsigned n = 0;
	unsigned char *der;
	int len;

	assert_non_null(fp = fopen(path(name), "r"));
	while (n < max && (x = PEM_read_X509(fp, NULL, NULL, NULL)) != NULL) {
		der = NULL;
		assert_true((len = i2d_X509(x, &der)) > 0);
		out[n].data = der;
		out[n].size = (unsigned)len;
		n++;
		X509_free(x);
	}
	(void)fclose(fp);
	return n;
}

static void
free_chain(gnutls_datum_t *c, unsigned n)
{
	while (n-- > 0)
		OPENSSL_free(c[n].data);
}

static void
root_hash(const gnutls_datum_t *root, const EVP_MD *md, uint8_t *out)
{
	unsigned len;

	assert_int_equal(EVP_Digest(root->data, root->size, out, &len, md,
	    NULL), 1);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct amtsim_device_spec spec;

	assert_non_null(f);
	assert_int_equal(simnet_state_register(), 0);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/amtsim-tls-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->ctx.dir = f->dir;
	f->ctx.no_fsync = 1;
	f->ctx.prov_period = 3600;
	memset(&spec, 0, sizeof(spec));
	spec.index = 1;
	spec.amt_version = "11.8.50";
	spec.ipv4 = 0x7f140001u;
	spec.dhcp_dns_suffix = "corp.example";
	spec.pki_dns_suffix = "";
	assert_int_equal(amtsim_device_create(&spec, NULL, &f->d), 0);
	amtsim_device_set_ctx(f->d, &f->ctx);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	amtsim_device_free(f->d);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Adds the test root's hash to the table (SHA-256 or SHA-384). */
static struct amtsim_hash *
add_root(struct fixture *f, uint8_t alg, int active)
{
	gnutls_datum_t c[4];
	unsigned n = chain("good.pem", c, 4);
	struct amtsim_hash *h;

	f->d->hashes = realloc(f->d->hashes, (f->d->nhashes + 1) *
	    sizeof(*f->d->hashes));
	assert_non_null(f->d->hashes);
	h = &f->d->hashes[f->d->nhashes++];
	memset(h, 0, sizeof(*h));
	h->handle = 99;
	h->algorithm = alg;
	h->is_active = active;
	root_hash(&c[n - 1], alg == AMTP_AMT_HASH_SHA384 ? EVP_sha384() :
	    EVP_sha256(), h->hash);
	free_chain(c, n);
	return h;
}

static enum amtp_pki_reason
check(struct fixture *f, const char *file, unsigned drop_last)
{
	gnutls_datum_t c[8];
	enum amtp_pki_reason why;
	char detail[512];
	unsigned n = chain(file, c, 8);
	int r;

	r = simnet_tls_check_chain(f->d, c, n - drop_last, &why, detail,
	    sizeof(detail));
	free_chain(c, n);
	assert_int_equal(r == 0, why == AMTP_PKI_OK);
	return why;
}

static void
test_rules(void **state)
{
	struct fixture *f = *state;
	struct amtsim_hash *h;

	/* Not in the table yet. */
	assert_int_equal(check(f, "good.pem", 0), AMTP_PKI_ROOT_NOT_TRUSTED);
	h = add_root(f, AMTP_AMT_HASH_SHA256, 0);
	assert_int_equal(check(f, "good.pem", 0), AMTP_PKI_ROOT_INACTIVE);
	h->is_active = 1;
	assert_int_equal(check(f, "good.pem", 0), AMTP_PKI_OK);
	assert_int_equal(check(f, "good-ou.pem", 0), AMTP_PKI_OK);
	assert_int_equal(check(f, "no-oid.pem", 0), AMTP_PKI_NO_AMT_OID);
	assert_int_equal(check(f, "bad-cn.pem", 0),
	    AMTP_PKI_CN_OUTSIDE_SUFFIX);
	assert_int_equal(check(f, "expired.pem", 0), AMTP_PKI_EXPIRED);
	assert_int_equal(check(f, "incomplete.pem", 0),
	    AMTP_PKI_CHAIN_INCOMPLETE);
	assert_int_equal(check(f, "good.pem", 1), AMTP_PKI_CHAIN_INCOMPLETE);
	assert_int_equal(check(f, "other-root.pem", 0),
	    AMTP_PKI_ROOT_NOT_TRUSTED);
	{
		enum amtp_pki_reason why;

		assert_int_equal(simnet_tls_check_chain(f->d, NULL, 0, &why,
		    NULL, 0), AMTP_E_CERT);
		assert_int_equal(why, AMTP_PKI_NO_CERT);
	}
	{
		/* Bytes that are not a certificate. */
		gnutls_datum_t junk = { (unsigned char *)"junk", 4 };
		enum amtp_pki_reason why;

		assert_int_equal(simnet_tls_check_chain(f->d, &junk, 1, &why,
		    NULL, 0), AMTP_E_CERT);
		assert_int_equal(why, AMTP_PKI_CHAIN_INVALID);
	}
}

static void
test_sha384_entry(void **state)
{
	struct fixture *f = *state;

	add_root(f, AMTP_AMT_HASH_SHA384, 1);
	assert_int_equal(check(f, "good.pem", 0), AMTP_PKI_OK);
}

static void
test_suffix_choice(void **state)
{
	struct fixture *f = *state;

	add_root(f, AMTP_AMT_HASH_SHA256, 1);
	/* The DHCP suffix serves when no PKI suffix is set. */
	assert_string_equal(simnet_trusted_suffix(f->d), "corp.example");
	/* A subdomain suffix: prov.corp.example serves fleet.corp.example. */
	(void)snprintf(f->d->pki_dns_suffix, sizeof(f->d->pki_dns_suffix),
	    "fleet.corp.example");
	assert_string_equal(simnet_trusted_suffix(f->d), "fleet.corp.example");
	assert_int_equal(check(f, "good.pem", 0), AMTP_PKI_OK);
	/* Another domain: refused even though the DHCP one would match. */
	(void)snprintf(f->d->pki_dns_suffix, sizeof(f->d->pki_dns_suffix),
	    "other.test");
	assert_int_equal(check(f, "good.pem", 0), AMTP_PKI_CN_OUTSIDE_SUFFIX);
}

static void
test_self_cert(void **state)
{
	struct fixture *f = *state;
	struct amtsim_net net;
	struct simnet_dev *sd;
	const char *cached;
	char *copy;

	memset(&net, 0, sizeof(net));
	net.opts.state_dir = f->dir;
	assert_int_equal(simnet_tls_self_key(&net), 0);
	/* its TLS operations are OpenSSL's (simnet_tls_gkey) */
	assert_int_equal(gnutls_privkey_get_type(net.self_gkey),
	    GNUTLS_PRIVKEY_EXT);
	sd = simnet_dev_get(&net, f->d);
	assert_int_equal(simnet_tls_self_cert(sd), 0);
	assert_int_equal(sd->have_self, 1);
	cached = simnet_str(simnet_flash(f->d), "self_cert", NULL);
	assert_non_null(cached);
	copy = strdup(cached);
	/* A second start reuses the key file and the cached certificate. */
	sd->net = NULL;
	simnet_dev_free(sd);
	gnutls_privkey_deinit(net.self_gkey);
	EVP_PKEY_free(net.self_key);
	memset(&net, 0, sizeof(net));
	net.opts.state_dir = f->dir;
	assert_int_equal(simnet_tls_self_key(&net), 0);
	sd = simnet_dev_get(&net, f->d);
	assert_int_equal(simnet_tls_self_cert(sd), 0);
	assert_string_equal(simnet_str(simnet_flash(f->d), "self_cert", ""),
	    copy);
	free(copy);
	sd->net = NULL;
	simnet_dev_free(sd);
	gnutls_privkey_deinit(net.self_gkey);
	EVP_PKEY_free(net.self_key);
}

/* A certificate (EC P-256, self-signed) with serial and, when pad > 0, an
 * extension of pad bytes; DER in *der (OPENSSL_free). */
static int
make_cert(EVP_PKEY *k, long serial, size_t pad, unsigned char **der)
{
	X509 *x;
	X509_EXTENSION *ext;
	ASN1_OBJECT *obj;
	ASN1_OCTET_STRING *os;
	unsigned char *junk;
	int len;

	assert_non_null(x = X509_new());
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial),
	    1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_pubkey(x, k), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x),
	    "CN", MBSTRING_ASC, (const unsigned char *)"cache.test", -1, -1,
	    0), 1);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(x)),
	    1);
	if (pad > 0) {
		assert_non_null(junk = calloc(1, pad));
		assert_non_null(os = ASN1_OCTET_STRING_new());
		assert_int_equal(ASN1_OCTET_STRING_set(os, junk, (int)pad), 1);
		assert_non_null(obj = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1));
		assert_non_null(ext = X509_EXTENSION_create_by_OBJ(NULL, obj,
		    0, os));
		assert_int_equal(X509_add_ext(x, ext, -1), 1);
		X509_EXTENSION_free(ext);
		ASN1_OBJECT_free(obj);
		ASN1_OCTET_STRING_free(os);
		free(junk);
	}
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	*der = NULL;
	assert_true((len = i2d_X509(x, der)) > 0);
	X509_free(x);
	return len;
}

/*
 * simnet_x509_parse: the certificate d2i_X509 gives, the same object
 * again for the same bytes (kept), the bytes it took (trailing bytes are
 * not part of it), NULL for what is not a certificate; the least recently
 * used of AMTP_SIM_NET_X509_CACHE is dropped for a new one; DER over
 * AMTP_SIM_NET_X509_CACHE_DER_MAX is parsed every time.
 */
static void
test_x509_cache(void **state)
{
	EVP_PKEY *k;
	unsigned char *der[AMTP_SIM_NET_X509_CACHE + 1], *big, *tail;
	const unsigned char *p;
	X509 *x, *y, *ref, *keep;
	size_t used, i;
	int len[AMTP_SIM_NET_X509_CACHE + 1], blen;

	(void)state;
	simnet_x509_cache_clear();
	assert_non_null(k = EVP_EC_gen("P-256"));
	for (i = 0; i <= AMTP_SIM_NET_X509_CACHE; i++)
		len[i] = make_cert(k, (long)i + 1, 0, &der[i]);
	x = simnet_x509_parse(der[0], (size_t)len[0], &used);
	assert_non_null(x);
	assert_int_equal(used, len[0]);
	p = der[0];
	assert_non_null(ref = d2i_X509(NULL, &p, len[0]));
	assert_int_equal(X509_cmp(x, ref), 0);
	X509_free(ref);
	y = simnet_x509_parse(der[0], (size_t)len[0], &used);
	assert_ptr_equal(x, y);		/* kept */
	assert_int_equal(used, len[0]);
	X509_free(y);
	/* trailing bytes: another key, and what the certificate took */
	assert_non_null(tail = malloc((size_t)len[0] + 3));
	memcpy(tail, der[0], (size_t)len[0]);
	memcpy(tail + len[0], "xyz", 3);
	assert_non_null(y = simnet_x509_parse(tail, (size_t)len[0] + 3,
	    &used));
	assert_int_equal(used, len[0]);
	assert_int_equal(X509_cmp(x, y), 0);
	X509_free(y);
	free(tail);
	/* not a certificate; a certificate cut short */
	assert_null(simnet_x509_parse((const uint8_t *)"junk", 4, &used));
	assert_int_equal(used, 0);
	assert_null(simnet_x509_parse(der[1], (size_t)len[1] - 1, &used));
	assert_null(simnet_x509_parse(der[1], 0, &used));
	/* fill it: der[0] stays while it is used, der[1] goes first */
	assert_non_null(keep = simnet_x509_parse(der[1], (size_t)len[1],
	    &used));
	for (i = 2; i <= AMTP_SIM_NET_X509_CACHE; i++) {
		X509_free(simnet_x509_parse(der[0], (size_t)len[0], &used));
		assert_non_null(y = simnet_x509_parse(der[i], (size_t)len[i],
		    &used));
		X509_free(y);
	}
	assert_non_null(y = simnet_x509_parse(der[0], (size_t)len[0], &used));
	assert_ptr_equal(x, y);
	X509_free(y);
	assert_non_null(y = simnet_x509_parse(der[1], (size_t)len[1], &used));
	assert_ptr_not_equal(y, keep);	/* parsed again */
	assert_int_equal(X509_cmp(y, keep), 0);
	X509_free(y);
	X509_free(keep);
	/* too big to keep */
	blen = make_cert(k, 9999, AMTP_SIM_NET_X509_CACHE_DER_MAX, &big);
	assert_true(blen > AMTP_SIM_NET_X509_CACHE_DER_MAX);
	assert_non_null(y = simnet_x509_parse(big, (size_t)blen, &used));
	assert_non_null(keep = simnet_x509_parse(big, (size_t)blen, &used));
	assert_ptr_not_equal(y, keep);
	X509_free(y);
	X509_free(keep);
	/* emptied: parsed anew */
	simnet_x509_cache_clear();
	assert_non_null(y = simnet_x509_parse(der[0], (size_t)len[0], &used));
	assert_ptr_not_equal(x, y);
	X509_free(y);
	X509_free(x);
	simnet_x509_cache_clear();
	OPENSSL_free(big);
	for (i = 0; i <= AMTP_SIM_NET_X509_CACHE; i++)
		OPENSSL_free(der[i]);
	EVP_PKEY_free(k);
}

/* The GenerateKeyPair pool: filled only while the network is idle; keys
 * are RSA-2048 with e = 65537, distinct; an empty pool makes one now. */
static void
test_keypool(void **state)
{
	struct amtsim_net net;
	EVP_PKEY *pool[2], *k = NULL, *k2 = NULL;
	BIGNUM *e = NULL;

	(void)state;
	memset(&net, 0, sizeof(net));
	net.opts.keypool = 2;
	net.pool = pool;
	/* busy a moment ago: nothing is made */
	net.busy_ms = simnet_now_ms();
	simnet_keypool_fill(&net, 0);
	assert_int_equal(net.npool, 0);
	/* idle for longer than AMTP_SIM_NET_KEYPOOL_IDLE_MS: one key a turn */
	net.busy_ms = simnet_now_ms() - AMTP_SIM_NET_KEYPOOL_IDLE_MS - 1;
	simnet_keypool_fill(&net, 0);
	assert_int_equal(net.npool, 1);
	/* all: fills up, and no further */
	simnet_keypool_fill(&net, 1);
	assert_int_equal(net.npool, 2);
	simnet_keypool_fill(&net, 1);
	assert_int_equal(net.npool, 2);
	assert_int_equal(simnet_key_take(&net, &k), 0);
	assert_int_equal(net.npool, 1);
	assert_int_equal(EVP_PKEY_get_base_id(k), EVP_PKEY_RSA);
	assert_int_equal(EVP_PKEY_get_bits(k), AMTP_RSA_AMT_BITS);
	assert_int_equal(EVP_PKEY_get_bn_param(k, "e", &e), 1);
	assert_true(BN_is_word(e, 65537));
	BN_free(e);
	assert_int_equal(simnet_key_take(&net, &k2), 0);
	assert_int_equal(net.npool, 0);
	assert_int_not_equal(EVP_PKEY_eq(k, k2), 1);
	EVP_PKEY_free(k2);
	/* empty: made on the spot */
	assert_int_equal(simnet_key_take(&net, &k2), 0);
	assert_non_null(k2);
	assert_int_not_equal(EVP_PKEY_eq(k, k2), 1);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sha384_entry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_suffix_choice, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_self_cert, setup,
		    teardown),
		cmocka_unit_test(test_keypool),
		cmocka_unit_test(test_x509_cache),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
