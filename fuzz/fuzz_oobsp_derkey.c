/*
 * amtprov - fuzz_oobsp_derkey.c: the device's public key as the service
 * point reads it (AMT_PublicPrivateKeyPair.DERKey, untrusted bytes from the
 * device) turned into the null-signed certificate request that
 * GeneratePKCS10RequestEx signs (oobsp_null_signed_csr_b64).
 *
 * Invariant: when it succeeds, the output is base64 of a DER PKCS#10
 * request carrying an RSA key and the CN asked for.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "amtprov/buf.h"
#include "amtprov/str.h"
#include "amtprovd/oobsp/oobsp.h"
#include "amtprovd/oobsp/oobsp_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amtp_buf *b64 = amtp_buf_new(64 * 1024);
	struct amtp_buf *der = amtp_buf_new(64 * 1024);
	const unsigned char *p;
	X509_REQ *req = NULL;
	EVP_PKEY *pk;
	char cn[64];

	if (b64 == NULL || der == NULL)
		abort();
	if (size <= 16 * 1024 && oobsp_null_signed_csr_b64(data, size,
	    "pc1.fleet.example.test", b64) == 0) {
		if (amtp_b64_decode(der, amtp_buf_str(b64),
		    amtp_buf_len(b64)) != 0)
			abort();
		p = amtp_buf_ptr(der);
		if ((req = d2i_X509_REQ(NULL, &p, (long)amtp_buf_len(der))) ==
		    NULL)
			abort();
		if ((pk = X509_REQ_get0_pubkey(req)) == NULL ||
		    EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)
			abort();
		if (X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req),
		    NID_commonName, cn, sizeof(cn)) <= 0 ||
		    strcmp(cn, "pc1.fleet.example.test") != 0)
			abort();
		X509_REQ_free(req);
	}
	amtp_buf_free(b64);
	amtp_buf_free(der);
	return 0;
}
