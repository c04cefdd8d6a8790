/* Fuzz target: AMTHI request decoding (amtp_amthi_req_decode), which the
 * simulator runs on every MEI packet a client sends.  Invariants: a refused
 * request names a status other than SUCCESS; an accepted one re-encodes to
 * a request that decodes to the same fields. */
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
	struct amtp_amthi_req req, again;
	struct amtp_buf *b;
	uint32_t st, st2;

	if (amtp_amthi_req_decode(data, size, &req, &st) != 0) {
		if (st == 0)
			abort();
		return 0;
	}
	if (st != 0 || req.str_len > AMTP_AMTHI_FQDN_MAX ||
	    strlen(req.str) != req.str_len)
		abort();
	if ((b = amtp_buf_new(AMTP_MEI_MSG_CAP)) == NULL)
		return 0;
	if (amtp_amthi_req_encode(&req, b) != 0 ||
	    amtp_amthi_req_decode(amtp_buf_ptr(b), amtp_buf_len(b), &again,
	    &st2) != 0 || again.command != req.command ||
	    again.arg != req.arg || again.str_len != req.str_len ||
	    again.str_nul != req.str_nul ||
	    memcmp(again.str, req.str, req.str_len) != 0)
		abort();
	amtp_buf_free(b);
	return 0;
}
