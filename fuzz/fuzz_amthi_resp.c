/* Fuzz target: AMTHI response decoding (amtp_amthi_resp_decode), which the
 * agent runs on every message the firmware (or anything pretending to be it)
 * sends back.  The command the response must answer is taken from the
 * message's own header (minus the response bit), so every decoder is
 * reached.  Invariant: an accepted response re-encodes to one that decodes
 * to the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/amthi.h"
#include "amtprov/buf.h"
#include "amtprov/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amtp_amthi_resp resp, again;
	struct amtp_buf *b;
	uint32_t cmd;

	if (size < 8)
		return 0;
	cmd = ((uint32_t)data[4] | (uint32_t)data[5] << 8 |
	    (uint32_t)data[6] << 16 | (uint32_t)data[7] << 24) &
	    ~AMTP_AMTHI_RESPONSE_BIT;
	if (amtp_amthi_resp_decode(cmd, data, size, &resp) != 0)
		return 0;
	if ((b = amtp_buf_new(AMTP_MEI_MSG_CAP)) == NULL)
		return 0;
	if (amtp_amthi_resp_encode(&resp, b) != 0 ||
	    amtp_amthi_resp_decode(cmd, amtp_buf_ptr(b), amtp_buf_len(b),
	    &again) != 0 || again.status != resp.status ||
	    (cmd != AMTP_AMTHI_GET_PKI_FQDN_SUFFIX &&
	    memcmp(&again.u, &resp.u, sizeof(resp.u)) != 0))
		abort();
	amtp_buf_free(b);
	return 0;
}
