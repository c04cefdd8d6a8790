/* Fuzz target: IPC frames (amtp_ipc_decode) and the signer's request
 * decoder (amtp_signer_decode_req), which read what another process sends.
 * Invariants: a decoded frame is no larger than the input and its payload is
 * within the limit; a decoded sign request re-encodes to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/ipc.h"
#include "amtprov/limits.h"

#include "enroll/ca.h"
#include "enroll/signer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amtp_signer_names names;
	struct amtp_ca_req req;
	struct amtp_buf *body = NULL, *again = NULL;
	uint32_t type;
	size_t used, plen;

	while (size > 0) {
		if (amtp_ipc_decode(data, size, AMTP_IPC_FRAME_MAX,
		    AMTP_IPC_SIGNER__MAX, &type, &body, &used) != 0)
			break;
		plen = amtp_buf_len(body);
		if (used > size || plen > AMTP_IPC_FRAME_MAX ||
		    used != plen + AMTP_IPC_HDR_LEN)
			abort();
		if (type == AMTP_IPC_SIGNER_SIGN &&
		    amtp_signer_decode_req(body, &names, &req) == 0) {
			if ((again = amtp_buf_new(AMTP_IPC_FRAME_MAX)) == NULL)
				abort();
			/* The key re-encodes canonically; only the prefix of
			 * names must match byte for byte. */
			if (amtp_signer_encode_req(&req, again) != 0 ||
			    memcmp(amtp_buf_ptr(again), data + AMTP_IPC_HDR_LEN,
			    3) != 0)
				abort();
			amtp_buf_free(again);
			EVP_PKEY_free(req.pub);
		}
		amtp_buf_free(body);
		body = NULL;
		data += used;
		size -= used;
	}
	return 0;
}
