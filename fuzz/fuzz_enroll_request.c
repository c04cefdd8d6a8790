/* Fuzz target: the enrollment point's request decoder (role enroll,
 * src/amtprovd/enroll/client.c amtp_enroll_decode_req) behind the frame
 * decoder, both as the role runs them on what a local peer sends.
 * Invariants: a decoded frame is no larger than the input and within
 * AMTP_ENROLL_REQ_MAX; a decoded request re-encodes to exactly the payload
 * it came from (the encoding is canonical), and its CSR lies inside it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/ipc.h"
#include "amtprov/limits.h"

#include "enroll/client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amtp_enroll_req req;
	struct amtp_buf *body = NULL, *again = NULL;
	const uint8_t *payload;
	uint32_t type;
	size_t used, plen;

	while (size > 0) {
		if (amtp_ipc_decode(data, size, AMTP_ENROLL_REQ_MAX,
		    AMTP_IPC_ENROLL__MAX, &type, &body, &used) != 0)
			break;
		plen = amtp_buf_len(body);
		if (used > size || plen > AMTP_ENROLL_REQ_MAX ||
		    used != plen + AMTP_IPC_HDR_LEN)
			abort();
		payload = data + AMTP_IPC_HDR_LEN;
		if (amtp_enroll_decode_req(type, body, &req) == 0) {
			if (req.type != type || amtp_buf_len(body) != 0)
				abort();
			if (req.csr != NULL && (req.csrlen == 0 ||
			    req.csrlen > AMTP_CSR_MAX))
				abort();
			if ((again = amtp_buf_new(AMTP_ENROLL_REQ_MAX + 1)) ==
			    NULL)
				abort();
			if (amtp_enroll_encode_req(&req, again) != 0 ||
			    amtp_buf_len(again) != plen ||
			    memcmp(amtp_buf_ptr(again), payload, plen) != 0)
				abort();
			amtp_buf_free(again);
			again = NULL;
		}
		amtp_buf_free(body);
		body = NULL;
		data += used;
		size -= used;
	}
	return 0;
}
