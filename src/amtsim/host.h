/*
 * amtprov - host.h: the AMT host interface of a simulated device (amtsim):
 * AMTHI requests in, responses out, as the firmware behind /dev/mei0 does.
 */
#ifndef AMTSIM_HOST_H
#define AMTSIM_HOST_H

#include <stddef.h>
#include <stdint.h>

struct amtp_buf;
struct amtsim_device;

/*
 * Answers one AMTHI request message for d: appends exactly one response
 * message to out (its maximum must be at least AMTP_MEI_SIM_MAX_MSG).  A
 * malformed, unknown or ill-timed request gets a response with an error
 * status (spec 1.3, docs/decisions-mei.md), never silence.  Returns 0, or a
 * negative AMTP_E_* code when no response could be built (out of memory).
 */
int amtsim_host_handle(struct amtsim_device *d, const void *msg, size_t len,
    struct amtp_buf *out);

#endif
