/* Fuzz target: WS-Management response parsing (amtp_wsman_response_parse),
 * which the service point runs on bytes from a device.  Invariants: a fault
 * comes back with is_fault set and a description; a method response with a
 * ReturnValue is checked without crashing; every Pull item has a name. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/err.h"
#include "amtprov/wsman.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amtp_wsman_response *p = NULL;
	char msg[256];
	size_t i;
	int r;

	r = amtp_wsman_response_parse(data, size, &p, msg, sizeof(msg));
	if (r == AMTP_E_SOAP_FAULT) {
		if (p == NULL || !p->is_fault)
			abort();
		amtp_wsman_fault_describe(p, msg, sizeof(msg));
	} else if (r == 0) {
		if (p == NULL || p->is_fault)
			abort();
		for (i = 0; i < p->nitems; i++)
			if (p->items[i].name == NULL)
				abort();
		r = amtp_wsman_check_return(p, "C", "M", msg, sizeof(msg));
		if (r != 0 && r != AMTP_E_AMT_STATUS && r != AMTP_E_PROTO)
			abort();
		(void)amtp_wsman_obj_text(p->body, "ReturnValue");
	} else if (p != NULL)
		abort();
	amtp_wsman_response_free(p);
	return 0;
}
