/*
 * amtprov - tls.c: TLS for amtsim's devices: the server certificates
 * (self-signed before provisioning, the one provisioning stored after),
 * the setup-session check of the client's chain during the handshake, and
 * the RSA keys GenerateKeyPair hands out.
 *
 * Decisions (docs/amtsim-network.md): the pre-provisioning self-signed
 * certificates of all devices share one fleet-wide RSA key (kept in the
 * state folder as simnet-tls.key, mode 0600), each device with its own
 * certificate (made when its interface is first activated, cached in its
 * flash) - a documented simulator shortcut, since making 10,000 RSA keys
 * would take minutes.  Keys provisioning asks for (GenerateKeyPair) are
 * per device, taken from a small pool refilled in the background.  The
 * servers' private-key operations are OpenSSL's (simnet_tls_gkey).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gnutls/x509.h>
#include <microhttpd.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "amtprov/amthi.h"
#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/log.h"
#include "amtprov/str.h"
#include "device.h"
#include "loop.h"
#include "simnet.h"

static int rsa_generate(EVP_PKEY **);

#define SELF_KEY_FILE	"simnet-tls.key"
#define SELF_DAYS	(20 * 365)

/* ---- helpers ---- */

static int
der_of_cert(X509 *x, uint8_t **der, int *len)
{
	*der = NULL;
	if ((*len = i2d_X509(x, der)) <= 0) {
		*der = NULL;
		return AMTP_E_CRYPTO;
	}
	return 0;
}

static int
pem_of_key(EVP_PKEY *k, char **pem, size_t *len)
{
	BIO *b;
	char *p;
	long n;
	int r = AMTP_E_CRYPTO;

	*pem = NULL;
	if ((b = BIO_new(BIO_s_secmem())) == NULL)
		return AMTP_E_NOMEM;
	if (PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (n = BIO_get_mem_data(b, &p)) <= 0)
		goto out;
	if ((*pem = malloc((size_t)n + 1)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	memcpy(*pem, p, (size_t)n);
	(*pem)[n] = '\0';
	*len = (size_t)n;
	r = 0;
 out:
	ERR_clear_error();
	BIO_free(b);
	return r;
}

/*
 * GnuTLS private keys whose operations OpenSSL does (GnuTLS "external"
 * keys, gnutls_privkey_import_ext4): the TLS server's signatures (and RSA
 * key-exchange decryptions) were about a quarter of the simulator's CPU in
 * a provisioning run with GnuTLS's own side-channel-silent RSA (Nettle,
 * GMP), three times OpenSSL's cost for the same RSA-2048 operation.  The
 * GnuTLS key holds a reference to the EVP_PKEY, dropped when the GnuTLS
 * key is freed.
 */
static struct simnet_tls_ops tls_ops;

void
simnet_tls_ops_get(struct simnet_tls_ops *out)
{
	*out = tls_ops;
}

/* The signature scheme of a GnuTLS algorithm: pss 0 (PKCS#1 v1.5 over the
 * DigestInfo GnuTLS hands over, GNUTLS_SIGN_RSA_RAW) or 1 (RSA-PSS, salt as
 * long as the hash, over the hash), *md the hash (NULL for raw).  0 or -1
 * when not supported. */
static int
sign_scheme(gnutls_sign_algorithm_t algo, int *pss, const EVP_MD **md)
{
	*pss = 0;
	*md = NULL;
	switch (algo) {
	case GNUTLS_SIGN_RSA_RAW:
		return 0;
	case GNUTLS_SIGN_RSA_PSS_RSAE_SHA256:
		*md = EVP_sha256();
		break;
	case GNUTLS_SIGN_RSA_PSS_RSAE_SHA384:
		*md = EVP_sha384();
		break;
	case GNUTLS_SIGN_RSA_PSS_RSAE_SHA512:
		*md = EVP_sha512();
		break;
	default:
		return -1;
	}
	*pss = 1;
	return 0;
}

static int
ext_info(gnutls_privkey_t gk, unsigned int flags, void *arg)
{
	gnutls_sign_algorithm_t algo;
	EVP_PKEY *k = arg;
	const EVP_MD *md;
	int pss;

	(void)gk;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO)
		return GNUTLS_PK_RSA;
	if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS)
		return EVP_PKEY_get_bits(k);
	if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO) {
		algo = (gnutls_sign_algorithm_t)GNUTLS_FLAGS_TO_SIGN_ALGO(flags);
		/* PKCS#1 v1.5 with any hash GnuTLS can make a DigestInfo of
		 * reaches ext_sign_hash as GNUTLS_SIGN_RSA_RAW. */
		switch (algo) {
		case GNUTLS_SIGN_RSA_SHA1:
		case GNUTLS_SIGN_RSA_SHA224:
		case GNUTLS_SIGN_RSA_SHA256:
		case GNUTLS_SIGN_RSA_SHA384:
		case GNUTLS_SIGN_RSA_SHA512:
			return 1;
		default:
			return sign_scheme(algo, &pss, &md) == 0;
		}
	}
	return -1;
}

static int
ext_sign_hash(gnutls_privkey_t gk, gnutls_sign_algorithm_t algo, void *arg,
    unsigned int flags, const gnutls_datum_t *hash, gnutls_datum_t *sig)
{
	EVP_PKEY *k = arg;
	EVP_PKEY_CTX *ctx = NULL;
	const EVP_MD *md;
	size_t len = 0;
	int pss, r = GNUTLS_E_PK_SIGN_FAILED;

	(void)gk;
	(void)flags;
	sig->data = NULL;
	sig->size = 0;
	if (sign_scheme(algo, &pss, &md) != 0)
		return GNUTLS_E_UNSUPPORTED_SIGNATURE_ALGORITHM;
	if (pss && hash->size != (unsigned)EVP_MD_get_size(md))
		return GNUTLS_E_INVALID_REQUEST;
	if ((ctx = EVP_PKEY_CTX_new(k, NULL)) == NULL ||
	    EVP_PKEY_sign_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, pss ? RSA_PKCS1_PSS_PADDING :
	    RSA_PKCS1_PADDING) <= 0)
		goto out;
	if (pss && (EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) <= 0))
		goto out;
	if (EVP_PKEY_sign(ctx, NULL, &len, hash->data, hash->size) <= 0)
		goto out;
	if ((sig->data = gnutls_malloc(len)) == NULL) {
		r = GNUTLS_E_MEMORY_ERROR;
		goto out;
	}
	if (EVP_PKEY_sign(ctx, sig->data, &len, hash->data, hash->size) <= 0) {
		gnutls_free(sig->data);
		sig->data = NULL;
		goto out;
	}
	sig->size = (unsigned)len;
	tls_ops.signs++;
	r = 0;
 out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/*
 * RSA key exchange (TLS 1.2 TLS_RSA_* suites): the 48-byte premaster
 * secret, the only decryption these keys do.  As RFC 5246 7.4.7.1 asks of
 * a server: when the PKCS#1 v1.5 type 2 padding is wrong or the message is
 * not 48 bytes long, 48 random bytes instead, with no error and no branch
 * on the padding, so that neither the answer nor the time tells a good
 * padding from a bad one (Bleichenbacher, Marvin).  GnuTLS reaches an
 * external key through its compatibility path (gnutls_privkey_decrypt_data2
 * branches on an error or on a length other than 48), so the padding is
 * checked here, on the raw RSA block, in constant time.  GnuTLS then checks
 * the version bytes (a random premaster secret of its own when they are
 * wrong) and the handshake fails at Finished.
 */
#define PMS_LEN	48

/* All ones when x is 0, else 0, without a branch. */
static unsigned
ct_zero_mask(unsigned x)
{
	return 0u - (((x | (0u - x)) >> (sizeof(x) * CHAR_BIT - 1)) ^ 1u);
}

static int
ext_decrypt(gnutls_privkey_t gk, void *arg, const gnutls_datum_t *ct,
    gnutls_datum_t *pt)
{
	EVP_PKEY *k = arg;
	EVP_PKEY_CTX *ctx = NULL;
	unsigned char *em = NULL, *out = NULL, rnd[PMS_LEN];
	size_t klen, len, i;
	unsigned good;
	int r = GNUTLS_E_DECRYPTION_FAILED;

	(void)gk;
	pt->data = NULL;
	pt->size = 0;
	/* public facts only: the lengths of the key and the ciphertext */
	klen = (size_t)EVP_PKEY_get_size(k);
	if (klen < PMS_LEN + 11 || ct->size != klen)
		return GNUTLS_E_DECRYPTION_FAILED;
	if ((em = malloc(klen)) == NULL ||
	    (out = gnutls_malloc(PMS_LEN)) == NULL) {
		r = GNUTLS_E_MEMORY_ERROR;
		goto out;
	}
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto out;
	/* raw RSA (blinded): fails only for a ciphertext >= the modulus */
	len = klen;
	if ((ctx = EVP_PKEY_CTX_new(k, NULL)) == NULL ||
	    EVP_PKEY_decrypt_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) <= 0 ||
	    EVP_PKEY_decrypt(ctx, em, &len, ct->data, ct->size) <= 0 ||
	    len != klen)
		goto out;
	/* 00 02 <at least 8 nonzero bytes> 00 <48 bytes> */
	good = ct_zero_mask(em[0]) & ct_zero_mask(em[1] ^ 2u) &
	    ct_zero_mask(em[klen - PMS_LEN - 1]);
	for (i = 2; i < klen - PMS_LEN - 1; i++)
		good &= ~ct_zero_mask(em[i]);
	for (i = 0; i < PMS_LEN; i++)
		out[i] = (unsigned char)((em[klen - PMS_LEN + i] & good) |
		    (rnd[i] & ~good));
	pt->data = out;
	pt->size = PMS_LEN;
	out = NULL;
	tls_ops.decrypts++;
	r = 0;
 out:
	explicit_bzero(rnd, sizeof(rnd));
	if (em != NULL) {
		explicit_bzero(em, klen);
		free(em);
	}
	if (out != NULL) {
		explicit_bzero(out, PMS_LEN);
		gnutls_free(out);
	}
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	return r;
}

static void
ext_deinit(gnutls_privkey_t gk, void *arg)
{
	(void)gk;
	EVP_PKEY_free(arg);
}

int
simnet_tls_gkey(EVP_PKEY *k, gnutls_privkey_t *out)
{
	gnutls_privkey_t gk = NULL;

	*out = NULL;
	if (k == NULL || EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA)
		return AMTP_E_INVAL;
	if (gnutls_privkey_init(&gk) < 0)
		return AMTP_E_NOMEM;
	if (EVP_PKEY_up_ref(k) != 1) {
		gnutls_privkey_deinit(gk);
		return AMTP_E_CRYPTO;
	}
	/* The reference is GnuTLS's once the import succeeded (it calls
	 * ext_deinit from gnutls_privkey_deinit), still ours if it failed. */
	if (gnutls_privkey_import_ext4(gk, k, NULL, ext_sign_hash, ext_decrypt,
	    ext_deinit, ext_info, 0) < 0) {
		gnutls_privkey_deinit(gk);
		EVP_PKEY_free(k);
		return AMTP_E_CRYPTO;
	}
	*out = gk;
	return 0;
}

/* ---- parsed certificates ---- */

/*
 * OpenSSL 3 parses a certificate in about 0.1 ms (most of it decoding the
 * public key), and the same bytes come again and again: the service
 * point's chain in every device's setup session, its root in every
 * AddTrustedRootCertificate, a device's certificate at AddCertificate and
 * again when TLS loads it.  A small process-wide cache (amtsim is one
 * thread) of the last AMTP_SIM_NET_X509_CACHE certificates parsed, keyed
 * by the exact bytes given.
 */
struct x509_entry {
	uint8_t		*der;		/* NULL: free */
	size_t		 len;
	size_t		 used;		/* bytes d2i_X509 took */
	X509		*x;
	uint64_t	 last;
};
static struct x509_entry x509_cache[AMTP_SIM_NET_X509_CACHE];
static uint64_t x509_tick;

X509 *
simnet_x509_parse(const uint8_t *der, size_t len, size_t *used)
{
	struct x509_entry *e, *victim = &x509_cache[0];
	const unsigned char *p = der;
	uint8_t *copy;
	X509 *x;
	size_t i;

	*used = 0;
	if (len == 0 || len > LONG_MAX)
		return NULL;
	for (i = 0; i < AMTP_SIM_NET_X509_CACHE; i++) {
		e = &x509_cache[i];
		if (e->der != NULL && e->len == len &&
		    memcmp(e->der, der, len) == 0 && X509_up_ref(e->x) == 1) {
			e->last = ++x509_tick;
			*used = e->used;
			return e->x;
		}
		if (e->der == NULL || (victim->der != NULL &&
		    e->last < victim->last))
			victim = e;
	}
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL) {
		ERR_clear_error();
		return NULL;
	}
	*used = (size_t)(p - der);
	/* kept when it fits; else (or out of memory) only handed out */
	if (len > AMTP_SIM_NET_X509_CACHE_DER_MAX ||
	    (copy = malloc(len)) == NULL)
		return x;
	if (X509_up_ref(x) != 1) {
		free(copy);
		return x;
	}
	memcpy(copy, der, len);
	free(victim->der);
	X509_free(victim->x);
	victim->der = copy;
	victim->len = len;
	victim->used = *used;
	victim->x = x;
	victim->last = ++x509_tick;
	return x;
}

void
simnet_x509_cache_clear(void)
{
	size_t i;

	for (i = 0; i < AMTP_SIM_NET_X509_CACHE; i++) {
		free(x509_cache[i].der);
		X509_free(x509_cache[i].x);
	}
	memset(x509_cache, 0, sizeof(x509_cache));
}

/* ---- the fleet-wide key ---- */

int
simnet_tls_self_key(struct amtsim_net *net)
{
	char path[4096];
	struct amtp_buf *b = NULL;
	char *pem = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	int r;

	if (net->self_key != NULL)
		return 0;
	if (net->opts.state_dir == NULL || snprintf(path, sizeof(path),
	    "%s/%s", net->opts.state_dir, SELF_KEY_FILE) >= (int)sizeof(path))
		path[0] = '\0';
	if (path[0] != '\0' && amtp_buf_load_file(path, AMTP_SECRET_MAX, &b) ==
	    0) {
		if ((bio = BIO_new_mem_buf(amtp_buf_ptr(b),
		    (int)amtp_buf_len(b))) != NULL)
			net->self_key = PEM_read_bio_PrivateKey(bio, NULL, NULL,
			    NULL);
		BIO_free(bio);
		ERR_clear_error();
		if (net->self_key == NULL)
			log_warnx("%s: unreadable key, making a new one", path);
	}
	if (net->self_key == NULL) {
		if ((r = rsa_generate(&net->self_key)) != 0)
			goto out;
		if (path[0] != '\0') {
			if ((r = pem_of_key(net->self_key, &pem, &len)) != 0)
				goto out;
			if ((r = amtp_write_file_atomic(path, pem, len, 0600,
			    0)) != 0) {
				log_warn_r(r, "%s", path);
				goto out;
			}
		}
	}
	r = simnet_tls_gkey(net->self_key, &net->self_gkey);
 out:
	if (pem != NULL)
		explicit_bzero(pem, len);
	free(pem);
	amtp_buf_free(b);
	return r;
}

/* ---- certificates ---- */

static int
make_self_cert(struct amtsim_device *d, EVP_PKEY *key, X509 **out)
{
	X509 *x = NULL;
	X509_NAME *n;
	BIGNUM *bn = NULL;
	char cn[64];
	int r = AMTP_E_CRYPTO;

	*out = NULL;
	(void)snprintf(cn, sizeof(cn), "iAMT-%02x%02x%02x%02x%02x%02x%02x%02x",
	    d->uuid[0], d->uuid[1], d->uuid[2], d->uuid[3], d->uuid[4],
	    d->uuid[5], d->uuid[6], d->uuid[7]);
	if ((x = X509_new()) == NULL || (bn = BN_new()) == NULL)
		goto out;
	if (!BN_rand(bn, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    !X509_set_version(x, 2) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -86400) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), SELF_DAYS, 0, NULL) ==
	    NULL || !X509_set_pubkey(x, key))
		goto out;
	n = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"Intel(R) Active Management Technology",
	    -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, n) ||
	    X509_sign(x, key, EVP_sha256()) <= 0)
		goto out;
	*out = x;
	x = NULL;
	r = 0;
 out:
	ERR_clear_error();
	BN_free(bn);
	X509_free(x);
	return r;
}

static int
pcert_from_der(const uint8_t *der, size_t len, gnutls_pcert_st *pc)
{
	gnutls_datum_t dt;

	dt.data = (unsigned char *)der;
	dt.size = (unsigned)len;
	if (gnutls_pcert_import_x509_raw(pc, &dt, GNUTLS_X509_FMT_DER, 0) < 0)
		return AMTP_E_CRYPTO;
	return 0;
}

static int
b64_decode_new(const char *s, struct amtp_buf **out)
{
	struct amtp_buf *b;
	int r;

	*out = NULL;
	if ((b = amtp_buf_new(strlen(s) + 16)) == NULL)
		return AMTP_E_NOMEM;
	if ((r = amtp_b64_decode(b, s, strlen(s))) != 0) {
		amtp_buf_free(b);
		return r;
	}
	*out = b;
	return 0;
}

int
simnet_tls_self_cert(struct simnet_dev *sd)
{
	struct amtsim_device *d = sd->d;
	struct amtp_buf *b = NULL, *enc = NULL;
	const unsigned char *p;
	const char *s;
	json_t *root;
	X509 *x = NULL;
	EVP_PKEY *pk = NULL;
	uint8_t *der = NULL;
	int len = 0, r;

	if (sd->have_self)
		return 0;
	if (sd->net == NULL || sd->net->self_key == NULL)
		return AMTP_E_STATE;
	if ((root = simnet_flash(d)) == NULL)
		return AMTP_E_NOMEM;
	/* The cached certificate, if it still belongs to the fleet key. */
	if ((s = simnet_str(root, "self_cert", NULL)) != NULL &&
	    b64_decode_new(s, &b) == 0) {
		p = amtp_buf_ptr(b);
		if ((x = d2i_X509(NULL, &p, (long)amtp_buf_len(b))) != NULL &&
		    ((pk = X509_get0_pubkey(x)) == NULL ||
		    EVP_PKEY_eq(pk, sd->net->self_key) != 1)) {
			X509_free(x);
			x = NULL;
		}
		ERR_clear_error();
	}
	if (x == NULL) {
		if ((r = make_self_cert(d, sd->net->self_key, &x)) != 0)
			goto out;
		if ((r = der_of_cert(x, &der, &len)) != 0)
			goto out;
		r = AMTP_E_NOMEM;
		if ((enc = amtp_buf_new((size_t)len * 2 + 16)) == NULL ||
		    amtp_b64_encode(enc, der, (size_t)len) != 0 ||
		    json_object_set_new(root, "self_cert",
		    json_string(amtp_buf_str(enc))) != 0)
			goto out;
		(void)simnet_save(d);
		OPENSSL_free(der);
		der = NULL;
	}
	if ((r = der_of_cert(x, &der, &len)) != 0 ||
	    (r = pcert_from_der(der, (size_t)len, &sd->self_pcert)) != 0)
		goto out;
	sd->have_self = 1;
	r = 0;
 out:
	OPENSSL_free(der);
	X509_free(x);
	amtp_buf_free(b);
	amtp_buf_free(enc);
	return r;
}

void
simnet_tls_free(struct simnet_dev *sd)
{
	if (sd->have_prov) {
		gnutls_pcert_deinit(&sd->prov_pcert);
		gnutls_privkey_deinit(sd->prov_key);
		sd->prov_key = NULL;
		sd->have_prov = 0;
	}
	free(sd->prov_pub);
	sd->prov_pub = NULL;
	sd->prov_handle = -1;
}

/*
 * The private key (PEM) stored with the public key of cert, or NULL.  The
 * keys are matched by their stored "pub" (PKCS#1 RSAPublicKey DER, base64,
 * as GenerateKeyPair and AddKey store it): parsing every stored private
 * key (OpenSSL 3's PEM decoder) cost about a tenth of the simulator's CPU
 * in a provisioning run.  An entry without "pub" is parsed.  *pubp: the
 * matching entry's "pub", or NULL.
 */
static const char *
key_for_cert(const struct simnet_dev *sd, json_t *root, X509 *cert,
    const char **pubp)
{
	EVP_PKEY *cpk = X509_get0_pubkey(cert), *k;
	struct amtp_buf *cpub = NULL;
	unsigned char *der = NULL;
	const char *pem, *pub, *found = NULL;
	json_t *e;
	size_t i;
	BIO *b;
	int n, eq;

	*pubp = NULL;
	if (cpk == NULL)
		return NULL;
	/* The key GenerateKeyPair made last, when it is the certificate's:
	 * its "pub" is known (OpenSSL 3's encoder is slow). */
	if (sd->key_cache != NULL && sd->key_cache_pub != NULL &&
	    EVP_PKEY_eq(sd->key_cache, cpk) == 1)
		json_array_foreach(json_object_get(root, "keys"), i, e)
			if ((pem = simnet_str(e, "key", NULL)) != NULL &&
			    strcmp(simnet_str(e, "pub", ""),
			    sd->key_cache_pub) == 0) {
				*pubp = simnet_str(e, "pub", NULL);
				return pem;
			}
	ERR_clear_error();
	if ((n = i2d_PublicKey(cpk, &der)) > 0 &&
	    (cpub = amtp_buf_new((size_t)n * 2 + 16)) != NULL &&
	    amtp_b64_encode(cpub, der, (size_t)n) != 0) {
		amtp_buf_free(cpub);
		cpub = NULL;
	}
	json_array_foreach(json_object_get(root, "keys"), i, e) {
		if ((pem = simnet_str(e, "key", NULL)) == NULL)
			continue;
		if ((pub = simnet_str(e, "pub", NULL)) != NULL && cpub != NULL) {
			if (strcmp(pub, amtp_buf_str(cpub)) == 0) {
				found = pem;
				*pubp = pub;
				break;
			}
			continue;
		}
		if ((b = BIO_new_mem_buf(pem, -1)) == NULL)
			continue;
		k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
		eq = k != NULL && EVP_PKEY_eq(k, cpk) == 1;
		EVP_PKEY_free(k);
		if (eq) {
			found = pem;
			break;
		}
	}
	ERR_clear_error();
	OPENSSL_free(der);
	amtp_buf_free(cpub);
	return found;
}

/* Whether the credential loaded in sd is still the one flash names:
 * the same certificate handle (certificates are never changed in place,
 * and unprovision frees the credential), and its key still stored. */
static int
is_loaded(const struct simnet_dev *sd, json_t *root, long long h)
{
	json_t *e;
	size_t i;
	int cert = 0, key = 0;

	if (!sd->have_prov || sd->prov_handle != h || sd->prov_pub == NULL)
		return 0;
	json_array_foreach(json_object_get(root, "certs"), i, e)
		if (simnet_int(e, "handle", -1) == h)
			cert = 1;
	json_array_foreach(json_object_get(root, "keys"), i, e)
		if (strcmp(simnet_str(e, "pub", ""), sd->prov_pub) == 0 &&
		    simnet_str(e, "key", NULL) != NULL)
			key = 1;
	return cert && key;
}

/*
 * The private key of cert, pem as stored with its public key: the key
 * GenerateKeyPair made last when it is this one (the usual case: the
 * certificate provisioning stores is for the key it just had made), else
 * the PEM parsed.
 */
static int
prov_evp(struct simnet_dev *sd, X509 *cert, const char *pem, EVP_PKEY **out)
{
	EVP_PKEY *cpk = X509_get0_pubkey(cert);
	BIO *b;

	*out = NULL;
	if (cpk == NULL)
		return AMTP_E_CRYPTO;
	if (sd->key_cache != NULL && EVP_PKEY_eq(sd->key_cache, cpk) == 1 &&
	    EVP_PKEY_up_ref(sd->key_cache) == 1) {
		*out = sd->key_cache;
		return 0;
	}
	if ((b = BIO_new_mem_buf(pem, -1)) == NULL)
		return AMTP_E_NOMEM;
	*out = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	return *out != NULL ? 0 : AMTP_E_CRYPTO;
}

int
simnet_tls_prov_load(struct simnet_dev *sd)
{
	struct amtp_buf *b = NULL;
	const char *der64, *pem, *pub;
	json_t *root, *e;
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	long long h;
	size_t i, used;
	int r = 0;

	if ((root = simnet_flash(sd->d)) == NULL) {
		simnet_tls_free(sd);
		return AMTP_E_NOMEM;
	}
	h = simnet_int(json_object_get(root, "tlsctx"), "cert", -1);
	/* Loaded already (TLSCredentialContext Create, then CommitChanges
	 * twice: its state change and its answer): parsing the certificate
	 * and the key again is most of the cost. */
	if (h >= 0 && is_loaded(sd, root, h))
		return 0;
	simnet_tls_free(sd);
	if (h < 0)
		return 0;
	der64 = NULL;
	json_array_foreach(json_object_get(root, "certs"), i, e)
		if (simnet_int(e, "handle", -1) == h)
			der64 = simnet_str(e, "der", NULL);
	if (der64 == NULL)
		return AMTP_E_NOTFOUND;
	if ((r = b64_decode_new(der64, &b)) != 0)
		goto out;
	r = AMTP_E_CRYPTO;
	if ((x = simnet_x509_parse(amtp_buf_ptr(b), amtp_buf_len(b),
	    &used)) == NULL)
		goto out;
	r = AMTP_E_NOTFOUND;
	if ((pem = key_for_cert(sd, root, x, &pub)) == NULL)
		goto out;
	if ((r = pcert_from_der(amtp_buf_ptr(b), amtp_buf_len(b),
	    &sd->prov_pcert)) != 0)
		goto out;
	if ((r = prov_evp(sd, x, pem, &k)) != 0 ||
	    (r = simnet_tls_gkey(k, &sd->prov_key)) != 0) {
		gnutls_pcert_deinit(&sd->prov_pcert);
		goto out;
	}
	sd->have_prov = 1;
	sd->prov_handle = (int)h;
	/* NULL (no shortcut next time) when out of memory or no "pub" */
	sd->prov_pub = pub != NULL ? strdup(pub) : NULL;
	r = 0;
 out:
	ERR_clear_error();
	EVP_PKEY_free(k);
	X509_free(x);
	amtp_buf_free(b);
	return r;
}

/* ---- sessions ---- */

static struct simnet_conn *
conn_of(gnutls_session_t s)
{
	struct MHD_Connection *mc = gnutls_session_get_ptr(s);
	const union MHD_ConnectionInfo *ci;

	if (mc == NULL)
		return NULL;
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

int
simnet_tls_cert_cb(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn,
    int nreqs, const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
    gnutls_pcert_st **pcert, unsigned int *pcert_length,
    gnutls_privkey_t *privkey)
{
	struct simnet_conn *c = conn_of(session);
	struct simnet_dev *sd;

	(void)req_ca_rdn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (c == NULL || (sd = c->sd) == NULL)
		return -1;
	if (sd->d->state == AMTSIM_POST && sd->have_prov &&
	    simnet_tls_enabled(sd->d)) {
		*pcert = &sd->prov_pcert;
		*pcert_length = 1;
		*privkey = sd->prov_key;
		return 0;
	}
	if (!sd->have_self && simnet_tls_self_cert(sd) != 0)
		return -1;
	*pcert = &sd->self_pcert;
	*pcert_length = 1;
	*privkey = sd->net->self_gkey;
	return 0;
}

const char *
simnet_trusted_suffix(const struct amtsim_device *d)
{
	return d->pki_dns_suffix[0] != '\0' ? d->pki_dns_suffix :
	    d->dhcp_dns_suffix;
}

int
simnet_tls_check_chain(struct amtsim_device *d, const gnutls_datum_t *certs,
    unsigned n, enum amtp_pki_reason *reason, char *detail, size_t detailsz)
{
	struct amtp_pki_hash hashes[AMTP_AMTHI_HASH_HANDLES_MAX];
	STACK_OF(X509) *chain = NULL;
	X509 *x;
	size_t nh = 0, i, hl, used;
	unsigned k;
	int r;

	*reason = AMTP_PKI_OK;
	if (detail != NULL && detailsz > 0)
		detail[0] = '\0';
	for (i = 0; i < d->nhashes && nh < AMTP_AMTHI_HASH_HANDLES_MAX; i++) {
		switch (d->hashes[i].algorithm) {
		case AMTP_AMT_HASH_SHA1:
			hashes[nh].alg = AMTP_PKI_SHA1;
			break;
		case AMTP_AMT_HASH_SHA256:
			hashes[nh].alg = AMTP_PKI_SHA256;
			break;
		case AMTP_AMT_HASH_SHA384:
			hashes[nh].alg = AMTP_PKI_SHA384;
			break;
		case AMTP_AMT_HASH_SHA512:
			hashes[nh].alg = AMTP_PKI_SHA512;
			break;
		default:
			continue;
		}
		hl = amtp_pki_hash_len(hashes[nh].alg);
		memset(hashes[nh].hash, 0, sizeof(hashes[nh].hash));
		memcpy(hashes[nh].hash, d->hashes[i].hash, hl);
		hashes[nh].active = d->hashes[i].is_active;
		nh++;
	}
	if ((chain = sk_X509_new_null()) == NULL)
		return AMTP_E_NOMEM;
	for (k = 0; k < n && k <= AMTP_MAX_CHAIN_DEPTH; k++) {
		if ((x = simnet_x509_parse(certs[k].data, certs[k].size,
		    &used)) == NULL) {
			*reason = AMTP_PKI_CHAIN_INVALID;
			if (detail != NULL)
				(void)snprintf(detail, detailsz, "certificate "
				    "%u is not X.509 DER", k);
			r = AMTP_E_CERT;
			goto out;
		}
		if (!sk_X509_push(chain, x)) {
			X509_free(x);
			r = AMTP_E_NOMEM;
			goto out;
		}
	}
	r = amtp_pki_check_provisioning_chain(chain, hashes, nh,
	    simnet_trusted_suffix(d), time(NULL), 0, reason, detail, detailsz);
 out:
	amtp_pki_chain_free(chain);
	return r;
}

static void
peer_text(int fd, char *dst, size_t dstsz)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	dst[0] = '\0';
	if (getpeername(fd, (struct sockaddr *)&sin, &sl) == 0 &&
	    sin.sin_family == AF_INET)
		(void)inet_ntop(AF_INET, &sin.sin_addr, dst, (socklen_t)dstsz);
}

static int
verify_cb(gnutls_session_t s)
{
	struct simnet_conn *c = conn_of(s);
	const gnutls_datum_t *peers;
	enum amtp_pki_reason reason = AMTP_PKI_NO_CERT;
	char detail[512], peer[64];
	unsigned n = 0;
	int r;

	if (c == NULL || c->sd == NULL)
		return -1;
	c->tls_checked = 1;
	peers = gnutls_certificate_get_peers(s, &n);
	detail[0] = '\0';
	if (peers == NULL || n == 0)
		r = AMTP_E_CERT;
	else
		r = simnet_tls_check_chain(c->sd->d, peers, n, &reason, detail,
		    sizeof(detail));
	peer_text(c->fd, peer, sizeof(peer));
	if (r == 0) {
		c->tls_ok = 1;
		log_info("dev %u: setup session from %s accepted",
		    c->sd->d->index, peer);
		simnet_audit_setup(c->sd->d, 1, "OK", detail, peer);
		return 0;
	}
	log_warnx("dev %u: setup session from %s refused: %s: %s%s%s",
	    c->sd->d->index, peer, amtp_pki_reason_name(reason),
	    r == AMTP_E_CERT ? amtp_pki_reason_str(reason) : amtp_strerror(r),
	    detail[0] != '\0' ? " - " : "", detail);
	simnet_audit_setup(c->sd->d, 0, r == AMTP_E_CERT ?
	    amtp_pki_reason_name(reason) : "ERROR", detail, peer);
	/* MHD sends no alert of its own (http-tls-notes 1.3). */
	(void)gnutls_alert_send(s, GNUTLS_AL_FATAL, reason ==
	    AMTP_PKI_NO_CERT ? GNUTLS_A_HANDSHAKE_FAILURE :
	    GNUTLS_A_BAD_CERTIFICATE);
	return -1;
}

void
simnet_tls_session_start(struct simnet_conn *c, gnutls_session_t s)
{
	/* The setup session (IN) needs the client's chain; later sessions
	 * do not check one (mutual TLS is not simulated). */
	if (c->sd->d->state != AMTSIM_IN)
		return;
	gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUEST);
	gnutls_session_set_verify_function(s, verify_cb);
}

/* ---- key pool ---- */

/*
 * A new RSA-2048 key (e = 65537) for GenerateKeyPair.  Made with GnuTLS
 * (Nettle/GMP) and handed over as an OpenSSL key through its PKCS#1 DER:
 * OpenSSL 3's own 2048-bit generation (SP 800-56B, constant-time GCDs)
 * costs about five times as much CPU, and key generation was most of the
 * simulator's CPU per provisioned device.  Returns 0 or AMTP_E_*.
 */
static int
rsa_generate(EVP_PKEY **out)
{
	gnutls_x509_privkey_t gk = NULL;
	gnutls_datum_t der = { NULL, 0 };
	const unsigned char *p;
	EVP_PKEY *k = NULL;
	int r = AMTP_E_CRYPTO;

	*out = NULL;
	if (gnutls_x509_privkey_init(&gk) < 0) {
		gk = NULL;
		goto out;
	}
	if (gnutls_x509_privkey_generate(gk, GNUTLS_PK_RSA, AMTP_RSA_AMT_BITS,
	    0) < 0 || gnutls_x509_privkey_export2(gk, GNUTLS_X509_FMT_DER,
	    &der) < 0)
		goto out;
	p = der.data;
	if ((k = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, (long)der.size)) ==
	    NULL || EVP_PKEY_get_bits(k) != AMTP_RSA_AMT_BITS) {
		ERR_clear_error();
		goto out;
	}
	*out = k;
	k = NULL;
	r = 0;
 out:
	EVP_PKEY_free(k);
	if (der.data != NULL) {
		explicit_bzero(der.data, der.size);
		gnutls_free(der.data);
	}
	if (gk != NULL)
		gnutls_x509_privkey_deinit(gk);
	return r;
}

int
simnet_key_take(struct amtsim_net *net, EVP_PKEY **out)
{
	*out = NULL;
	if (net != NULL && net->npool > 0) {
		*out = net->pool[--net->npool];
		if (net->pool_timer != NULL)
			amtsim_timer_arm(net->pool_timer,
			    AMTP_SIM_NET_KEYPOOL_IDLE_MS);
		return 0;
	}
	return rsa_generate(out);
}

/*
 * Adds keys to the pool: all that are missing (all != 0), or one, and then
 * only when no request came in for AMTP_SIM_NET_KEYPOOL_IDLE_MS (the timer
 * is re-armed until the pool is full).  A refill during a provisioning
 * burst would spend the CPU the burst needs: the pool is meant to be made
 * ahead, as a real device's own CPU makes its keys.
 */
void
simnet_keypool_fill(struct amtsim_net *net, int all)
{
	EVP_PKEY *k;
	uint64_t now, idle_at;

	while (net->pool != NULL && net->npool < net->opts.keypool) {
		if (!all) {
			now = simnet_now_ms();
			idle_at = net->busy_ms + AMTP_SIM_NET_KEYPOOL_IDLE_MS;
			if (net->busy_ms != 0 && now < idle_at) {
				if (net->pool_timer != NULL)
					amtsim_timer_arm(net->pool_timer,
					    idle_at - now);
				return;
			}
		}
		if (rsa_generate(&k) != 0)
			return;
		net->pool[net->npool++] = k;
		if (!all) {
			if (net->npool < net->opts.keypool &&
			    net->pool_timer != NULL)
				amtsim_timer_arm(net->pool_timer, 1);
			return;
		}
	}
}
