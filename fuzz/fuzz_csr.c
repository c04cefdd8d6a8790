/* Fuzz target: the enrollment point's certificate request checks
 * (amtp_pki_csr_check), which read a PKCS#10 request made by a device.
 * Invariants: the result agrees with the reason, and an accepted request
 * names the expected device and verifies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amtp_csr_policy pol = { AMTP_RSA_AMT_BITS, AMTP_RSA_AMT_BITS,
	    "dev1.fleet.example.test", "dev1" };
	enum amtp_pki_reason why;
	X509_REQ *req = NULL;
	char detail[128];
	int r;

	r = amtp_pki_csr_check(data, size, &pol, &req, &why, detail,
	    sizeof(detail));
	if ((r == 0) != (why == AMTP_PKI_OK) || (r == 0) != (req != NULL))
		abort();
	if (r != 0 && r != AMTP_E_CERT && r != AMTP_E_NOMEM)
		abort();
	if (r == 0) {
		X509_NAME *n = X509_REQ_get_subject_name(req);
		int i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
		const ASN1_STRING *s = X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(n, i));

		if (i < 0 || ASN1_STRING_length(s) != (int)strlen(pol.cn) ||
		    X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) != 1)
			abort();
	}
	X509_REQ_free(req);
	return 0;
}
