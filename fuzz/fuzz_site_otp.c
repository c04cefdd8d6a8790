/* Fuzz target: the site API's OTP body parser (site_parse_otp).
 * Invariants: success gives 64 lower-case hex digits and an IP address;
 * failure gives a 4xx error with a code. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "site/body.h"
#include "site/requests.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct site_otp_req r;
	struct site_err e;

	memset(&e, 0, sizeof(e));
	if (site_parse_otp(data, size, &r, &e) == 0) {
		if (site_check_sha256_hex(r.otp_sha256,
		    strlen(r.otp_sha256)) != NULL ||
		    site_check_ip(r.amt_address, strlen(r.amt_address)) != NULL)
			abort();
	} else if (e.status < 400 || e.status > 499 || e.code[0] == '\0' ||
	    r.otp_sha256[0] != '\0')
		abort();
	return 0;
}
