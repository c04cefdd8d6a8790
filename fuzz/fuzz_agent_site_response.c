/* Fuzz target: the agent's parser of the site server's answers
 * (agent_site_parse, src/agent/site.c), which reads whatever comes back
 * over HTTPS before the agent acts on it.  Input: byte 0 picks the call
 * (register, policy, otp, state), byte 1 the HTTP status class (200, 201,
 * 401, 409, 400, 503, 302), the rest is the body.  Invariants: an accepted
 * answer has the fields its call promises (a UUID agent id and a token for
 * register, a status for the others) and every failure names an exit code
 * and a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/amt.h"
#include "agent/site.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const long statuses[] = { 200, 201, 401, 409, 400, 503, 302 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_answer a;
	struct agent_err e;
	enum agent_call call;
	long status;
	int r;

	if (size < 2)
		return 0;
	call = (enum agent_call)(data[0] % AGENT_CALL__MAX);
	status = statuses[data[1] % (sizeof(statuses) / sizeof(statuses[0]))];
	agent_err_init(&e);
	r = agent_site_parse(call, status, data + 2, size - 2, &a, &e);
	if (r == 0) {
		if (e.set || status < 200 || status > 299)
			abort();
		if (call == AGENT_CALL_REGISTER && (!agent_is_uuid(a.agent_id) ||
		    a.token[0] == '\0'))
			abort();
		if (call != AGENT_CALL_REGISTER && a.status[0] == '\0')
			abort();
		if (memchr(a.status, '\0', sizeof(a.status)) == NULL ||
		    memchr(a.reason, '\0', sizeof(a.reason)) == NULL)
			abort();
	} else if (!e.set || e.msg[0] == '\0' || e.exit == AGENT_EXIT_OK)
		abort();
	agent_answer_wipe(&a);
	return 0;
}
