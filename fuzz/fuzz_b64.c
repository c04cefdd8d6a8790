/* Fuzz target: base64 decoding (amtp_b64_decode), which reads untrusted SOAP
 * blobs.  Invariant: whatever decodes re-encodes to a decodable string of the
 * same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/buf.h"
#include "amtprov/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amtp_buf *b = amtp_buf_new(size + 16), *e, *d;

	if (b == NULL)
		return 0;
	if (amtp_b64_decode(b, (const char *)data, size) == 0) {
		e = amtp_buf_new(size * 2 + 16);
		d = amtp_buf_new(size + 16);
		if (e == NULL || d == NULL ||
		    amtp_b64_encode(e, amtp_buf_ptr(b), amtp_buf_len(b)) != 0 ||
		    amtp_b64_decode(d, amtp_buf_str(e), amtp_buf_len(e)) != 0 ||
		    amtp_buf_len(d) != amtp_buf_len(b) ||
		    memcmp(amtp_buf_ptr(d), amtp_buf_ptr(b), amtp_buf_len(b)) != 0)
			abort();
		amtp_buf_free(e);
		amtp_buf_free(d);
	}
	amtp_buf_free(b);
	return 0;
}
