/* Fuzz target: amtsim's fleet description parser
 * (amtsim_fleet_desc_parse), which reads the --fleet JSON file.
 * Invariants: a refused file leaves a message; an accepted one stays within
 * the limits (roots, versions, device numbers). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/limits.h"
#include "amtsim/fleet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amtsim_fleet_desc d;
	char err[512];
	size_t i;

	amtsim_fleet_desc_init(&d);
	err[0] = '\0';
	if (amtsim_fleet_desc_parse(data, size, "fuzz", &d, err,
	    sizeof(err)) != 0) {
		if (err[0] == '\0')
			abort();
	} else {
		if (d.nroots > AMTP_SIM_TRUST_ROOTS_MAX ||
		    d.nversions > AMTSIM_VERSIONS_MAX ||
		    d.count > AMTP_SIM_DEVICES_MAX)
			abort();
		for (i = 0; i < d.noverrides; i++)
			if (d.overrides[i].index < 1 ||
			    d.overrides[i].index > AMTP_SIM_DEVICES_MAX)
				abort();
	}
	amtsim_fleet_desc_reset(&d);
	return 0;
}
