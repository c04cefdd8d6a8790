/*
 * amtprov - run.h: the agent's two modes (program amtprov-agent).
 *
 * agent_run(): steps 1-3 of DESIGN.md.  Fetch the policy (registering
 * first when the state folder holds no token); when it says "provision
 * AMT", check the MEI device and that AMT is in PRE; set a fresh OTP in the
 * firmware, send its SHA-256 and the wired address to the site, activate
 * the network interface; send the manufacturing facts.  A device found in
 * another state is reported to the site and left alone.  Running it again
 * is safe: the token is reused, and a device this agent already activated
 * (the state folder's record) only gets its facts sent again.
 *
 * agent_status(): reads and prints the local AMT facts; changes nothing
 * and talks to no site.
 *
 * Both fill rep (whose err.exit is the exit code) and return that code.
 */
#ifndef AGENT_RUN_H
#define AGENT_RUN_H

#include "agent.h"
#include "report.h"

int agent_run(const struct agent_opts *o, struct agent_report *rep);
int agent_status(const struct agent_opts *o, struct agent_report *rep);

/* Reads an SMBIOS UUID from a DMI file (product_uuid): trimmed, checked,
 * lower case; AMTP_E_NOTFOUND when missing, unreadable or a placeholder
 * (all zeros or all ones). */
int agent_read_dmi_uuid(const char *path, char *uuid);

#endif
