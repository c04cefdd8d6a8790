/*
 * Fuzz target: the admin CLI's parsing of a site API answer
 * (src/cli/client.c cli_answer_parse), as 2xx and as an error, and the
 * typed getters and explanation on what it parsed.  Invariants: a 2xx
 * answer either parses to an object or is refused; error texts are
 * NUL-terminated and free of control characters.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cli_answer a;
	char err[256], why[512];
	const json_t *j;
	size_t i;
	int r;

	memset(&a, 0, sizeof(a));
	r = cli_answer_parse((const char *)data, size, 200, &a, err,
	    sizeof(err));
	if (r == 0 && !json_is_object(a.body))
		abort();
	if (r == 0) {
		j = json_object_get(a.body, "device");
		(void)cli_json_int(j, "id");
		(void)cli_json_str(j, "hostname");
		(void)cli_explain(cli_json_str(a.body, "last_error"),
		    json_object_get(a.body, "facts"),
		    "485882854c8ed1d4f64c905acd270218e17d1a7f9353ad8887a4a9230efa7211",
		    why, sizeof(why));
	}
	cli_answer_reset(&a);
	(void)cli_answer_parse((const char *)data, size, 409, &a, err,
	    sizeof(err));
	for (i = 0; a.message[i] != '\0'; i++)
		if ((unsigned char)a.message[i] < 0x20)
			abort();
	for (i = 0; a.error[i] != '\0'; i++)
		if ((unsigned char)a.error[i] < 0x20)
			abort();
	cli_answer_reset(&a);
	return 0;
}
