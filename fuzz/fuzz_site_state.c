/* Fuzz target: the site API's state message parser (site_parse_state), the
 * largest body an agent sends.  Invariants: the hash count stays within
 * AMTP_SITE_CERT_HASHES_MAX and every hash passes its check; failure gives
 * a 4xx error that names a field or a body-level code. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/limits.h"

#include "site/body.h"
#include "site/requests.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct site_state_req *r;
	struct site_err e;
	size_t i;

	if ((r = malloc(sizeof(*r))) == NULL)
		return 0;
	memset(&e, 0, sizeof(e));
	if (site_parse_state(data, size, r, &e) == 0) {
		if (r->n_cert_hashes > AMTP_SITE_CERT_HASHES_MAX ||
		    (unsigned)r->provisioning_state >= SITE_PROV__MAX)
			abort();
		for (i = 0; i < r->n_cert_hashes; i++)
			if (site_check_hex(r->cert_hashes[i].hash,
			    strlen(r->cert_hashes[i].hash)) != NULL)
				abort();
		if (r->amt_supported &&
		    site_check_uuid(r->uuid, strlen(r->uuid)) != NULL)
			abort();
	} else if (e.status < 400 || e.status > 499 || e.code[0] == '\0' ||
	    r->n_cert_hashes != 0)
		abort();
	free(r);
	return 0;
}
