/* Fuzz target: WS-Management request parsing (amtp_wsman_request_parse),
 * which the simulator runs on bytes from any peer.  Invariant: whatever
 * parses and can be rebuilt by amtp_wsman_request_build() parses again to
 * the same operation, resource and message ID. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/buf.h"
#include "amtprov/limits.h"
#include "amtprov/wsman.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amtp_wsman_request *q = NULL, *q2 = NULL;
	struct amtp_wsman_req_build rb;
	struct amtp_buf *b = NULL;

	if (amtp_wsman_request_parse(data, size, &q, NULL, 0) != 0)
		return 0;
	if (q->op == AMTP_WSMAN_OP_UNKNOWN || q->resource_uri == NULL)
		goto out;
	memset(&rb, 0, sizeof(rb));
	rb.op = q->op;
	rb.resource_uri = q->resource_uri;
	rb.method = q->method;
	rb.message_id = q->message_id;
	rb.selectors = q->selectors;
	rb.nselectors = q->nselectors;
	if (q->op == AMTP_WSMAN_OP_PUT || q->op == AMTP_WSMAN_OP_CREATE ||
	    q->op == AMTP_WSMAN_OP_INVOKE)
		rb.body = q->body;
	rb.enum_context = q->enum_context;
	rb.max_elements = (unsigned)q->max_elements;
	rb.max_characters = (unsigned)q->max_characters;
	if ((b = amtp_buf_new(AMTP_MAX_SOAP_SIZE)) == NULL)
		goto out;
	if (amtp_wsman_request_build(&rb, b) != 0)
		goto out;
	if (amtp_wsman_request_parse(amtp_buf_ptr(b), amtp_buf_len(b), &q2,
	    NULL, 0) != 0)
		abort();
	if (q2->op != q->op || strcmp(q2->resource_uri, q->resource_uri) != 0 ||
	    strcmp(q2->message_id, q->message_id) != 0)
		abort();
 out:
	amtp_wsman_request_free(q2);
	amtp_wsman_request_free(q);
	amtp_buf_free(b);
	return 0;
}
