/*
 * amtprov - oobsp/steps_util.c: small encoders the service point's steps
 * need (role oobsp): AMT's DigestPassword, public-key pins, and the
 * null-signed certificate request that GeneratePKCS10RequestEx signs in the
 * device.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "amtprov/buf.h"
#include "amtprov/digest.h"
#include "amtprov/err.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "oobsp/oobsp.h"
#include "oobsp/oobsp_int.h"

/* RSA-2048 signature size: the zero signature of the null-signed CSR. */
#define NULL_SIG_LEN	256

int
oobsp_digest_password_b64(const char *user, const char *realm,
    const struct amtp_secret *pw, char *dst, size_t dstsz)
{
	uint8_t ha1[AMTP_DIGEST_HA1_LEN];
	struct amtp_buf *b = NULL;
	int r;

	if (dstsz > 0)
		dst[0] = '\0';
	if ((r = amtp_digest_ha1(user, realm, pw, ha1)) != 0)
		goto out;
	if ((b = amtp_buf_new(64)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	if ((r = amtp_b64_encode(b, ha1, sizeof(ha1))) != 0)
		goto out;
	if (amtp_strlcpy(dst, amtp_buf_str(b), dstsz) >= dstsz) {
		r = AMTP_E_TOOBIG;
		goto out;
	}
	r = 0;
 out:
	explicit_bzero(ha1, sizeof(ha1));
	amtp_buf_free(b);
	return r;
}

int
oobsp_pin_append(X509 *cert, char *dst, size_t dstsz)
{
	unsigned char *der = NULL, md[32];
	unsigned mdlen = 0;
	struct amtp_buf *b = NULL;
	size_t used = strlen(dst);
	int len, r;

	/* the certificate's own SubjectPublicKeyInfo: no key decoding */
	if ((len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der)) <= 0)
		return AMTP_E_CRYPTO;
	if (EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) != 1) {
		r = AMTP_E_CRYPTO;
		goto out;
	}
	if ((b = amtp_buf_new(128)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	if ((r = amtp_buf_putf(b, "%ssha256//", used > 0 ? ";" : "")) != 0 ||
	    (r = amtp_b64_encode(b, md, mdlen)) != 0)
		goto out;
	if (used + amtp_buf_len(b) + 1 > dstsz) {
		r = AMTP_E_TOOBIG;
		goto out;
	}
	memcpy(dst + used, amtp_buf_ptr(b), amtp_buf_len(b) + 1);
	r = 0;
 out:
	OPENSSL_free(der);
	amtp_buf_free(b);
	return r;
}

int
oobsp_null_signed_csr_b64(const void *der, size_t len, const char *cn,
    struct amtp_buf *out)
{
	static const unsigned char zeros[NULL_SIG_LEN];
	const unsigned char *p;
	EVP_PKEY *pk = NULL;
	X509_REQ *req = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_BIT_STRING *sig = NULL;
	unsigned char *enc = NULL;
	int n, r = AMTP_E_CRYPTO;

	/* AMT's DERKey is a PKCS#1 RSAPublicKey; accept an SPKI too */
	p = der;
	if ((pk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len)) == NULL) {
		p = der;
		if ((pk = d2i_PUBKEY(NULL, &p, (long)len)) == NULL ||
		    EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
			r = AMTP_E_PARSE;
			goto out;
		}
	}
	if ((req = X509_REQ_new()) == NULL ||
	    X509_REQ_set_version(req, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN",
	    MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_REQ_set_pubkey(req, pk) != 1)
		goto out;
	if ((alg = X509_ALGOR_new()) == NULL ||
	    X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256WithRSAEncryption),
	    V_ASN1_NULL, NULL) != 1 ||
	    X509_REQ_set1_signature_algo(req, alg) != 1)
		goto out;
	if ((sig = ASN1_BIT_STRING_new()) == NULL ||
	    ASN1_BIT_STRING_set(sig, (unsigned char *)zeros,
	    sizeof(zeros)) != 1)
		goto out;
	X509_REQ_set0_signature(req, sig);
	sig = NULL;	/* owned by req */
	if ((n = i2d_X509_REQ(req, &enc)) <= 0)
		goto out;
	r = amtp_b64_encode(out, enc, (size_t)n);
 out:
	OPENSSL_free(enc);
	ASN1_BIT_STRING_free(sig);
	X509_ALGOR_free(alg);
	X509_REQ_free(req);
	EVP_PKEY_free(pk);
	return r;
}

const char *
oobsp_epr_instance(const struct amtp_wsman_obj *o, const char *name)
{
	const struct amtp_wsman_prop *p;

	if (o == NULL || (p = amtp_wsman_obj_prop(o, name, 0)) == NULL ||
	    p->epr == NULL)
		return NULL;
	return amtp_wsman_epr_selector(p->epr, "InstanceID");
}
