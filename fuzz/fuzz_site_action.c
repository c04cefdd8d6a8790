/* Fuzz target: the optional {"reason": ...} body of the admin actions
 * (site_parse_action).  Invariant: the reason fits and holds no control
 * character. */
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
	struct site_action_req a;
	struct site_err e;
	size_t i, n;

	memset(&e, 0, sizeof(e));
	if (site_parse_action(data, size, &a, &e) == 0) {
		n = strlen(a.reason);
		if (n > AMTP_SITE_REASON_MAX)
			abort();
		for (i = 0; i < n; i++)
			if ((unsigned char)a.reason[i] < 0x20)
				abort();
	} else if (e.status < 400 || e.status > 499 || e.code[0] == '\0')
		abort();
	return 0;
}
