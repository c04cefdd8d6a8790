/* Fuzz target: the WWW-Authenticate Digest challenge parser (client side,
 * amtp_digest_challenge_parse), fed by the device over the network.
 * Invariants: a parsed challenge has a realm and a nonce, offers auth when it
 * lists a qop, and can always be answered. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/buf.h"
#include "amtprov/digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amtp_digest_challenge c;
	struct amtp_buf *b;
	uint8_t ha1[AMTP_DIGEST_HA1_LEN];

	if (amtp_digest_challenge_parse((const char *)data, size, &c) != 0)
		return 0;
	if (c.nonce[0] == '\0' || (c.has_qop && !c.qop_auth))
		abort();
	if (strlen(c.realm) > AMTP_DIGEST_VALUE_MAX)
		abort();
	memset(ha1, 0x5a, sizeof(ha1));
	if ((b = amtp_buf_new(AMTP_DIGEST_HEADER_MAX)) == NULL)
		return 0;
	if (amtp_digest_client_answer(&c, "admin", ha1, "POST", "/wsman", 1,
	    "0a4f113b", b) != 0)
		abort();
	amtp_buf_free(b);
	return 0;
}
