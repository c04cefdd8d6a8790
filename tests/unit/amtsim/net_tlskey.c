/* Unit tests for the OpenSSL-backed GnuTLS keys of amtsim's TLS server
 * (simnet_tls_gkey, src/amtsim/net/tls.c): the key is a GnuTLS external key
 * whose signatures OpenSSL makes (counted), PKCS#1 v1.5 signatures equal
 * GnuTLS's own (they are deterministic), RSA-PSS ones verify with the salt
 * TLS requires, and real handshakes over a socketpair with a GnuTLS client
 * that verifies the server's signature: TLS 1.3, TLS 1.2 with PKCS#1 and
 * with RSA-PSS, TLS 1.2 RSA key exchange (the decryption); a key that is not
 * the certificate's makes the client refuse the handshake. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "amtprov/err.h"
#include "net/simnet.h"

struct keys {
	EVP_PKEY	*k, *other;
	X509		*cert;		/* self-signed, k's public key */
};

static X509 *
self_signed(EVP_PKEY *k)
{
	X509 *x;

	assert_non_null(x = X509_new());
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_set_pubkey(x, k), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x),
	    "CN", MBSTRING_ASC, (const unsigned char *)"tlskey.test", -1, -1,
	    0), 1);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(x)),
	    1);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	return x;
}

static int
setup(void **state)
{
	struct keys *ks = calloc(1, sizeof(*ks));

	assert_non_null(ks);
	/* simnet_key_take without a pool makes an RSA-2048 key now */
	assert_int_equal(simnet_key_take(NULL, &ks->k), 0);
	assert_int_equal(simnet_key_take(NULL, &ks->other), 0);
	ks->cert = self_signed(ks->k);
	*state = ks;
	return 0;
}

static int
teardown(void **state)
{
	struct keys *ks = *state;

	X509_free(ks->cert);
	EVP_PKEY_free(ks->k);
	EVP_PKEY_free(ks->other);
	free(ks);
	return 0;
}

/* k as a GnuTLS key of its own (Nettle), for reference. */
static gnutls_privkey_t
native_key(EVP_PKEY *k)
{
	gnutls_privkey_t gk;
	gnutls_datum_t dt;
	unsigned char *der = NULL;
	int len;

	assert_true((len = i2d_PrivateKey(k, &der)) > 0);
	dt.data = der;
	dt.size = (unsigned)len;
	assert_int_equal(gnutls_privkey_init(&gk), 0);
	assert_int_equal(gnutls_privkey_import_x509_raw(gk, &dt,
	    GNUTLS_X509_FMT_DER, NULL, 0), 0);
	OPENSSL_clear_free(der, (size_t)len);
	return gk;
}

static gnutls_pubkey_t
pubkey_of(EVP_PKEY *k)
{
	gnutls_privkey_t gk = native_key(k);
	gnutls_pubkey_t pub;

	assert_int_equal(gnutls_pubkey_init(&pub), 0);
	assert_int_equal(gnutls_pubkey_import_privkey(pub, gk, 0, 0), 0);
	gnutls_privkey_deinit(gk);
	return pub;
}

static void
test_key_info(void **state)
{
	struct keys *ks = *state;
	gnutls_privkey_t gk;
	EVP_PKEY *ec;

	assert_int_equal(simnet_tls_gkey(ks->k, &gk), 0);
	assert_int_equal(gnutls_privkey_get_type(gk), GNUTLS_PRIVKEY_EXT);
	assert_int_equal(gnutls_privkey_get_pk_algorithm(gk, NULL),
	    GNUTLS_PK_RSA);
	gnutls_privkey_deinit(gk);
	/* RSA only (amtsim stores no other kind of key) */
	assert_non_null(ec = EVP_EC_gen("P-256"));
	gk = (gnutls_privkey_t)1;
	assert_int_equal(simnet_tls_gkey(ec, &gk), AMTP_E_INVAL);
	assert_null(gk);
	EVP_PKEY_free(ec);
	assert_int_equal(simnet_tls_gkey(NULL, &gk), AMTP_E_INVAL);
}

/* PKCS#1 v1.5 (deterministic): the same bytes as GnuTLS's own key makes,
 * made by OpenSSL (the counter moves), for SHA-256/384/512; the key
 * outlives the caller's reference to the EVP_PKEY. */
static void
test_sign_pkcs1(void **state)
{
	static const gnutls_sign_algorithm_t algs[] = {
		GNUTLS_SIGN_RSA_SHA256, GNUTLS_SIGN_RSA_SHA384,
		GNUTLS_SIGN_RSA_SHA512,
	};
	struct simnet_tls_ops o0, o1;
	gnutls_privkey_t gk, ref;
	gnutls_pubkey_t pub;
	gnutls_datum_t data = { (unsigned char *)"to be signed", 12 };
	gnutls_datum_t s1, s2;
	EVP_PKEY *k;
	size_t i;

	(void)state;
	assert_int_equal(simnet_key_take(NULL, &k), 0);
	assert_int_equal(simnet_tls_gkey(k, &gk), 0);
	ref = native_key(k);
	pub = pubkey_of(k);
	EVP_PKEY_free(k);	/* gk keeps its own reference */
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		simnet_tls_ops_get(&o0);
		assert_int_equal(gnutls_privkey_sign_data2(gk, algs[i], 0,
		    &data, &s1), 0);
		simnet_tls_ops_get(&o1);
		assert_int_equal(o1.signs, o0.signs + 1);
		assert_int_equal(gnutls_privkey_sign_data2(ref, algs[i], 0,
		    &data, &s2), 0);
		assert_int_equal(s1.size, 256);
		assert_int_equal(s1.size, s2.size);
		assert_memory_equal(s1.data, s2.data, s1.size);
		assert_int_equal(gnutls_pubkey_verify_data2(pub, algs[i], 0,
		    &data, &s1), 0);
		gnutls_free(s1.data);
		gnutls_free(s2.data);
	}
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(ref);
	gnutls_privkey_deinit(gk);
}

/* RSA-PSS (RSAE): verifies with the salt as long as the hash (TLS 1.3's
 * rule), is randomised, and a changed message does not verify. */
static void
test_sign_pss(void **state)
{
	static const gnutls_sign_algorithm_t algs[] = {
		GNUTLS_SIGN_RSA_PSS_RSAE_SHA256, GNUTLS_SIGN_RSA_PSS_RSAE_SHA384,
		GNUTLS_SIGN_RSA_PSS_RSAE_SHA512,
	};
	struct keys *ks = *state;
	struct simnet_tls_ops o0, o1;
	gnutls_privkey_t gk;
	gnutls_pubkey_t pub = pubkey_of(ks->k);
	gnutls_datum_t data = { (unsigned char *)"to be signed", 12 };
	gnutls_datum_t other = { (unsigned char *)"to be signeD", 12 };
	gnutls_datum_t s1, s2;
	size_t i;

	assert_int_equal(simnet_tls_gkey(ks->k, &gk), 0);
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		simnet_tls_ops_get(&o0);
		assert_int_equal(gnutls_privkey_sign_data2(gk, algs[i], 0,
		    &data, &s1), 0);
		assert_int_equal(gnutls_privkey_sign_data2(gk, algs[i], 0,
		    &data, &s2), 0);
		simnet_tls_ops_get(&o1);
		assert_int_equal(o1.signs, o0.signs + 2);
		assert_int_equal(s1.size, 256);
		assert_memory_not_equal(s1.data, s2.data, s1.size);
		assert_int_equal(gnutls_pubkey_verify_data2(pub, algs[i],
		    GNUTLS_VERIFY_RSA_PSS_FIXED_SALT_LENGTH, &data, &s1), 0);
		assert_int_equal(gnutls_pubkey_verify_data2(pub, algs[i],
		    GNUTLS_VERIFY_RSA_PSS_FIXED_SALT_LENGTH, &data, &s2), 0);
		assert_int_equal(gnutls_pubkey_verify_data2(pub, algs[i], 0,
		    &other, &s1), GNUTLS_E_PK_SIG_VERIFY_FAILED);
		gnutls_free(s1.data);
		gnutls_free(s2.data);
	}
	/* a scheme the key does not offer */
	assert_true(gnutls_privkey_sign_data2(gk, GNUTLS_SIGN_RSA_PSS_SHA256,
	    0, &data, &s1) < 0);
	gnutls_pubkey_deinit(pub);
	gnutls_privkey_deinit(gk);
}

/* ---- handshakes ---- */

struct hs {
	int			 sv[2];
	gnutls_session_t	 server, client;
	gnutls_certificate_credentials_t scred, ccred;
	gnutls_pcert_st		 pcert;
	int			 sr, cr;	/* last handshake results */
};

/* A server with cert and gk (which the server's credentials take; checked
 * to match unless mismatch) and a client with the priorities cprio, over
 * a socketpair. */
static void
hs_start(struct hs *h, X509 *cert, gnutls_privkey_t gk, const char *cprio,
    int mismatch)
{
	gnutls_datum_t dt;
	unsigned char *der = NULL;
	int len;

	memset(h, 0, sizeof(*h));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, h->sv), 0);
	assert_int_equal(fcntl(h->sv[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(h->sv[1], F_SETFL, O_NONBLOCK), 0);
	assert_true((len = i2d_X509(cert, &der)) > 0);
	dt.data = der;
	dt.size = (unsigned)len;
	assert_int_equal(gnutls_pcert_import_x509_raw(&h->pcert, &dt,
	    GNUTLS_X509_FMT_DER, 0), 0);
	OPENSSL_free(der);
	assert_int_equal(gnutls_certificate_allocate_credentials(&h->scred),
	    0);
	if (mismatch)
		gnutls_certificate_set_flags(h->scred,
		    GNUTLS_CERTIFICATE_SKIP_KEY_CERT_MATCH);
	/* the credentials own the pcert's contents and gk from here on */
	assert_int_equal(gnutls_certificate_set_key(h->scred, NULL, 0,
	    &h->pcert, 1, gk), 0);
	assert_int_equal(gnutls_certificate_allocate_credentials(&h->ccred),
	    0);
	assert_int_equal(gnutls_init(&h->server, GNUTLS_SERVER |
	    GNUTLS_NONBLOCK), 0);
	assert_int_equal(gnutls_priority_set_direct(h->server,
	    SIMNET_TLS_PRIORITIES, NULL), 0);
	assert_int_equal(gnutls_credentials_set(h->server,
	    GNUTLS_CRD_CERTIFICATE, h->scred), 0);
	gnutls_transport_set_int(h->server, h->sv[0]);
	assert_int_equal(gnutls_init(&h->client, GNUTLS_CLIENT |
	    GNUTLS_NONBLOCK), 0);
	assert_int_equal(gnutls_priority_set_direct(h->client, cprio, NULL),
	    0);
	assert_int_equal(gnutls_credentials_set(h->client,
	    GNUTLS_CRD_CERTIFICATE, h->ccred), 0);
	gnutls_transport_set_int(h->client, h->sv[1]);
}

/* Both sides' handshakes, in turns, until both are done or one failed. */
static void
hs_run(struct hs *h)
{
	int i, sdone = 0, cdone = 0;

	h->sr = h->cr = GNUTLS_E_AGAIN;
	for (i = 0; i < 10000 && !(sdone && cdone); i++) {
		if (!sdone) {
			h->sr = gnutls_handshake(h->server);
			sdone = h->sr == 0 || gnutls_error_is_fatal(h->sr);
		}
		if (!cdone) {
			h->cr = gnutls_handshake(h->client);
			cdone = h->cr == 0 || gnutls_error_is_fatal(h->cr);
		}
		if ((sdone && h->sr < 0) || (cdone && h->cr < 0))
			break;
	}
}

/* Application data both ways after the handshake. */
static void
hs_data(struct hs *h)
{
	char buf[16];
	ssize_t n;
	int i;

	assert_int_equal(gnutls_record_send(h->client, "ping", 4), 4);
	n = GNUTLS_E_AGAIN;
	for (i = 0; i < 100 && n == GNUTLS_E_AGAIN; i++)
		n = gnutls_record_recv(h->server, buf, sizeof(buf));
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(gnutls_record_send(h->server, "pong", 4), 4);
	n = GNUTLS_E_AGAIN;
	for (i = 0; i < 100 && n == GNUTLS_E_AGAIN; i++)
		n = gnutls_record_recv(h->client, buf, sizeof(buf));
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "pong", 4);
}

static void
hs_end(struct hs *h)
{
	gnutls_deinit(h->server);
	gnutls_deinit(h->client);
	gnutls_certificate_free_credentials(h->scred);
	gnutls_certificate_free_credentials(h->ccred);
	(void)close(h->sv[0]);
	(void)close(h->sv[1]);
}

/*
 * One handshake with the client's priorities: it succeeds, the client
 * saw version and signature algorithm want_sig (0: none, RSA key
 * exchange), and OpenSSL made exactly one signature (or one decryption).
 */
static void
handshake_ok(struct keys *ks, const char *cprio, gnutls_protocol_t want_ver,
    gnutls_sign_algorithm_t want_sig)
{
	struct simnet_tls_ops o0, o1;
	gnutls_privkey_t gk;
	struct hs h;

	assert_int_equal(simnet_tls_gkey(ks->k, &gk), 0);
	hs_start(&h, ks->cert, gk, cprio, 0);
	simnet_tls_ops_get(&o0);
	hs_run(&h);
	simnet_tls_ops_get(&o1);
	if (h.sr != 0 || h.cr != 0)
		fail_msg("%s: server %s, client %s", cprio,
		    gnutls_strerror(h.sr), gnutls_strerror(h.cr));
	assert_int_equal(gnutls_protocol_get_version(h.client), want_ver);
	if (want_sig != 0) {
		assert_int_equal(gnutls_sign_algorithm_get(h.client),
		    want_sig);
		assert_int_equal(o1.signs, o0.signs + 1);
		assert_int_equal(o1.decrypts, o0.decrypts);
	} else {
		assert_int_equal(gnutls_kx_get(h.client), GNUTLS_KX_RSA);
		assert_int_equal(o1.signs, o0.signs);
		assert_int_equal(o1.decrypts, o0.decrypts + 1);
	}
	hs_data(&h);
	hs_end(&h);
}

static void
test_tls13(void **state)
{
	handshake_ok(*state, "NORMAL:-VERS-ALL:+VERS-TLS1.3", GNUTLS_TLS1_3,
	    GNUTLS_SIGN_RSA_PSS_RSAE_SHA256);
	handshake_ok(*state, "NORMAL:-VERS-ALL:+VERS-TLS1.3:-SIGN-ALL:"
	    "+SIGN-RSA-PSS-RSAE-SHA512", GNUTLS_TLS1_3,
	    GNUTLS_SIGN_RSA_PSS_RSAE_SHA512);
}

static void
test_tls12_pkcs1(void **state)
{
	handshake_ok(*state, "NORMAL:-VERS-ALL:+VERS-TLS1.2:-SIGN-ALL:"
	    "+SIGN-RSA-SHA256", GNUTLS_TLS1_2, GNUTLS_SIGN_RSA_SHA256);
	handshake_ok(*state, "NORMAL:-VERS-ALL:+VERS-TLS1.2:-SIGN-ALL:"
	    "+SIGN-RSA-SHA384", GNUTLS_TLS1_2, GNUTLS_SIGN_RSA_SHA384);
}

static void
test_tls12_pss(void **state)
{
	handshake_ok(*state, "NORMAL:-VERS-ALL:+VERS-TLS1.2:-SIGN-ALL:"
	    "+SIGN-RSA-PSS-RSAE-SHA256", GNUTLS_TLS1_2,
	    GNUTLS_SIGN_RSA_PSS_RSAE_SHA256);
}

static void
test_tls12_rsa_kx(void **state)
{
	handshake_ok(*state, "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA",
	    GNUTLS_TLS1_2, 0);
}

/* c = m^e mod n of a whole block em (raw RSA, no padding): *clen bytes. */
static void
rsa_raw_encrypt(EVP_PKEY *k, const unsigned char *em, size_t emlen,
    unsigned char *c, size_t *clen)
{
	EVP_PKEY_CTX *ctx;

	assert_non_null(ctx = EVP_PKEY_CTX_new(k, NULL));
	assert_true(EVP_PKEY_encrypt_init(ctx) > 0);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) > 0);
	assert_true(EVP_PKEY_encrypt(ctx, c, clen, em, emlen) > 0);
	EVP_PKEY_CTX_free(ctx);
}

/* The 48 bytes the key gives for the block em, through the call GnuTLS's
 * RSA key exchange makes (gnutls_privkey_decrypt_data2); 0 or an error. */
static int
pms_of(gnutls_privkey_t gk, EVP_PKEY *k, const unsigned char *em,
    unsigned char out[48])
{
	unsigned char c[256];
	gnutls_datum_t dc;
	size_t clen = sizeof(c);

	rsa_raw_encrypt(k, em, 256, c, &clen);
	assert_int_equal(clen, 256);
	dc.data = c;
	dc.size = (unsigned)clen;
	memset(out, 0, 48);
	return gnutls_privkey_decrypt_data2(gk, 0, &dc, out, 48);
}

/*
 * RSA key exchange as RFC 5246 7.4.7.1 asks of a server: a block whose
 * PKCS#1 v1.5 type 2 padding is wrong, or whose message is not 48 bytes,
 * is no error: the key gives 48 random bytes instead (and GnuTLS's
 * handshake fails at Finished), so that no answer tells a good padding
 * from a bad one (Bleichenbacher).  A good block gives its message.
 */
static void
test_decrypt_no_padding_oracle(void **state)
{
	struct keys *ks = *state;
	unsigned char good[256], em[256], pms[48], out[48], out2[48];
	gnutls_privkey_t gk;
	gnutls_datum_t dc, dp;
	unsigned char c[256];
	size_t i, clen = sizeof(c);

	assert_int_equal(EVP_PKEY_get_size(ks->k), 256);
	assert_int_equal(simnet_tls_gkey(ks->k, &gk), 0);
	/* 00 02 <205 nonzero bytes> 00 <48-byte premaster secret> */
	for (i = 0; i < 48; i++)
		pms[i] = (unsigned char)(i * 7 + 3);
	pms[0] = 3;
	pms[1] = 3;
	good[0] = 0;
	good[1] = 2;
	for (i = 2; i < 207; i++)
		good[i] = (unsigned char)(0x11 + i % 200);
	good[207] = 0;
	memcpy(good + 208, pms, 48);
	assert_int_equal(pms_of(gk, ks->k, good, out), 0);
	assert_memory_equal(out, pms, 48);
	/* the same through OpenSSL's own PKCS#1 padding (random bytes) */
	{
		EVP_PKEY_CTX *ctx;

		assert_non_null(ctx = EVP_PKEY_CTX_new(ks->k, NULL));
		assert_true(EVP_PKEY_encrypt_init(ctx) > 0);
		assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx,
		    RSA_PKCS1_PADDING) > 0);
		assert_true(EVP_PKEY_encrypt(ctx, c, &clen, pms, 48) > 0);
		EVP_PKEY_CTX_free(ctx);
		dc.data = c;
		dc.size = (unsigned)clen;
		assert_int_equal(gnutls_privkey_decrypt_data2(gk, 0, &dc, out,
		    48), 0);
		assert_memory_equal(out, pms, 48);
	}
	/* wrong blocks, each with the premaster secret at its end: 48
	 * bytes (not the secret, and not the same twice), no error */
	for (i = 0; i < 5; i++) {
		memcpy(em, good, sizeof(em));
		switch (i) {
		case 0:		/* block type 1 */
			em[1] = 1;
			break;
		case 1:		/* first byte not 0 */
			em[0] = 1;
			break;
		case 2:		/* no zero before the message: 48 bytes */
			em[207] = 0x55;
			em[100] = 0;	/* a 155-byte message */
			break;
		case 3:		/* a 47-byte message */
			em[207] = 0x55;
			em[208] = 0;
			break;
		case 4:		/* a zero in the first eight padding bytes */
			em[5] = 0;
			break;
		}
		assert_int_equal(pms_of(gk, ks->k, em, out), 0);
		assert_int_equal(pms_of(gk, ks->k, em, out2), 0);
		if (memcmp(out, pms, 48) == 0 || memcmp(out, em + 208, 48) ==
		    0 || memcmp(out, out2, 48) == 0)
			fail_msg("block %zu: not 48 random bytes", i);
	}
	/* the older call gives the same: 48 bytes, no error */
	memcpy(em, good, sizeof(em));
	em[1] = 1;
	clen = sizeof(c);
	rsa_raw_encrypt(ks->k, em, sizeof(em), c, &clen);
	dc.data = c;
	dc.size = (unsigned)clen;
	assert_int_equal(gnutls_privkey_decrypt_data(gk, 0, &dc, &dp), 0);
	assert_int_equal(dp.size, 48);
	assert_memory_not_equal(dp.data, pms, 48);
	gnutls_free(dp.data);
	/* a ciphertext of the wrong length is refused (a public fact) */
	dc.size = 255;
	assert_true(gnutls_privkey_decrypt_data2(gk, 0, &dc, out, 48) < 0);
	gnutls_privkey_deinit(gk);
}

/* The server signs with a key that is not its certificate's: the client
 * finds the signature wrong and ends the handshake (TLS 1.3 and 1.2), and
 * with RSA key exchange the decryption gives no premaster secret both
 * sides share. */
static void
test_wrong_key(void **state)
{
	static const char *prios[] = {
		"NORMAL:-VERS-ALL:+VERS-TLS1.3",
		"NORMAL:-VERS-ALL:+VERS-TLS1.2:-SIGN-ALL:+SIGN-RSA-SHA256",
		"NORMAL:-VERS-ALL:+VERS-TLS1.2:-SIGN-ALL:"
		    "+SIGN-RSA-PSS-RSAE-SHA256",
		"NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA",
	};
	struct keys *ks = *state;
	gnutls_privkey_t gk;
	struct hs h;
	size_t i;

	for (i = 0; i < sizeof(prios) / sizeof(prios[0]); i++) {
		assert_int_equal(simnet_tls_gkey(ks->other, &gk), 0);
		hs_start(&h, ks->cert, gk, prios[i], 1);
		hs_run(&h);
		if (h.sr == 0 && h.cr == 0)
			fail_msg("%s: handshake with the wrong key", prios[i]);
		if (i < 3)
			assert_int_equal(h.cr, GNUTLS_E_PK_SIG_VERIFY_FAILED);
		hs_end(&h);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_info),
		cmocka_unit_test(test_sign_pkcs1),
		cmocka_unit_test(test_sign_pss),
		cmocka_unit_test(test_tls13),
		cmocka_unit_test(test_tls12_pkcs1),
		cmocka_unit_test(test_tls12_pss),
		cmocka_unit_test(test_tls12_rsa_kx),
		cmocka_unit_test(test_decrypt_no_padding_oracle),
		cmocka_unit_test(test_wrong_key),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
