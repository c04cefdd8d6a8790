/* Fuzz target: the site API's registration body parser
 * (site_parse_register), which reads bytes from callers who hold only the
 * enrolment secret.  Invariants: success gives fields that pass their own
 * checks; failure gives a 4xx error with a code and leaves the struct
 * cleared. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "site/body.h"
#include "site/requests.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct site_register_req r;
	struct site_err e;

	memset(&e, 0, sizeof(e));
	if (site_parse_register(data, size, &r, &e) == 0) {
		if (site_check_hostname(r.hostname, strlen(r.hostname)) != NULL ||
		    site_check_uuid(r.smbios_uuid, strlen(r.smbios_uuid)) != NULL ||
		    (r.fqdn[0] != '\0' &&
		    site_check_dns_name(r.fqdn, strlen(r.fqdn)) != NULL))
			abort();
	} else {
		if (e.status < 400 || e.status > 499 || e.code[0] == '\0' ||
		    r.hostname[0] != '\0' || r.smbios_uuid[0] != '\0')
			abort();
	}
	return 0;
}
