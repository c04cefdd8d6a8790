/* Fuzz target: amtsim's flash file parser (amtsim_device_parse), which
 * reads every device's JSON at start.  Invariant: a file that parses
 * re-serializes to JSON that parses to the same device. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "amtsim/device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct amtsim_fleet_ctx ctx;
	struct amtsim_device *d = NULL, *e = NULL;
	char err[512];
	json_t *a, *b;
	char *text;

	memset(&ctx, 0, sizeof(ctx));
	ctx.dir = "/nonexistent";
	if (amtsim_device_parse(&ctx, 1, data, size, NULL, &d, err,
	    sizeof(err)) != 0) {
		if (d != NULL || err[0] == '\0')
			abort();
		return 0;
	}
	if ((a = amtsim_device_to_json(d, 1)) == NULL ||
	    (text = json_dumps(a, 0)) == NULL)
		abort();
	if (amtsim_device_parse(&ctx, 1, text, strlen(text), NULL, &e, err,
	    sizeof(err)) != 0 || (b = amtsim_device_to_json(e, 1)) == NULL ||
	    !json_equal(a, b))
		abort();
	json_decref(a);
	json_decref(b);
	free(text);
	amtsim_device_free(d);
	amtsim_device_free(e);
	return 0;
}
