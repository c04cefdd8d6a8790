/* Fuzz target: the Authorization Digest parser and verifier (server side,
 * amtp_digest_auth_parse + amtp_digest_verify), fed by any peer before it is
 * authenticated.  Invariants: a parsed header has a 32-digit lower-case
 * response and an nc of at least 1; a nonce we did not issue never
 * authenticates. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/digest.h"
#include "amtprov/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct amtp_digest_nonces *nonces;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amtp_digest_auth a;
	uint8_t ha1[AMTP_DIGEST_HA1_LEN];
	size_t i;

	if (nonces == NULL &&
	    amtp_digest_nonces_new(64, 0, NULL, &nonces) != 0)
		abort();
	if (amtp_digest_auth_parse((const char *)data, size, &a) != 0)
		return 0;
	if (strlen(a.response) != 32 || a.nc_value == 0)
		abort();
	for (i = 0; i < 32; i++)
		if (!((a.response[i] >= '0' && a.response[i] <= '9') ||
		    (a.response[i] >= 'a' && a.response[i] <= 'f')))
			abort();
	memset(ha1, 0x5a, sizeof(ha1));
	if (amtp_digest_verify(nonces, &a, a.realm, "POST", a.uri, ha1) == 0)
		abort();
	return 0;
}
