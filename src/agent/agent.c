/*
 * amtprov - agent.c: the small things every part of the agent shares
 * (program amtprov-agent): settings defaults, the error record, exit code
 * names.  See agent.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "amtprov/limits.h"
#include "amtprov/mei.h"
#include "amtprov/str.h"

#include "agent.h"

static const char *const exit_names[AGENT_EXIT__MAX] = {
	"done",
	"internal error",
	"usage or configuration error",
	"site unreachable",
	"site refused the request",
	"MEI device missing or not answering",
	"AMT not in pre-provisioning",
	"firmware error",
};

const char *
agent_exit_name(int exit_code)
{
	if (exit_code < 0 || exit_code >= AGENT_EXIT__MAX)
		return "unknown";
	return exit_names[exit_code];
}

void
agent_opts_init(struct agent_opts *o)
{
	memset(o, 0, sizeof(*o));
	amtp_strlcpy(o->mei_uri, AMTP_MEI_DEFAULT_URI, sizeof(o->mei_uri));
	amtp_strlcpy(o->state_dir, AGENT_DEFAULT_STATE_DIR,
	    sizeof(o->state_dir));
	amtp_strlcpy(o->dmi_uuid_path, AGENT_DMI_UUID_PATH,
	    sizeof(o->dmi_uuid_path));
	o->mei_timeout_ms = AMTP_MEI_TIMEOUT_MS;
	o->retries = AMTP_AGENT_RETRIES_DEFAULT;
	o->retry_delay_ms = AMTP_AGENT_RETRY_DELAY_MS;
	o->connect_timeout = AMTP_AGENT_CONNECT_TIMEOUT;
	o->request_timeout = AMTP_AGENT_REQUEST_TIMEOUT;
	o->lock_wait_ms = AGENT_LOCK_WAIT_MS;
}

void
agent_err_init(struct agent_err *e)
{
	memset(e, 0, sizeof(*e));
}

int
agent_err_set(struct agent_err *e, int r, int exit_code, const char *code,
    const char *fmt, ...)
{
	va_list ap;

	if (e == NULL || e->set)
		return r;
	e->set = 1;
	e->exit = exit_code;
	amtp_strlcpy(e->code, code, sizeof(e->code));
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return r;
}
