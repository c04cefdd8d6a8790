/*
 * amtprov - report.h: what the agent found and did, for a person (lines on
 * stdout) or a script (--json: one JSON object on stdout), in every mode
 * (program amtprov-agent).  Run and status fill one struct agent_report;
 * main.c prints it and exits with rep->err.exit (0 when nothing failed).
 */
#ifndef AGENT_REPORT_H
#define AGENT_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "agent.h"
#include "amt.h"

#define AGENT_REPORT_DID_MAX	16
#define AGENT_REPORT_LINE_MAX	256

struct agent_report {
	const char	*mode;			/* "run", "status" */
	/* identity */
	char		 smbios_uuid[AGENT_UUID_LEN + 1];
	const char	*uuid_source;		/* flag, dmi, amt */
	char		 hostname[AGENT_LABEL_MAX + 1];
	char		 fqdn[AMTP_DNS_NAME_MAX + 1];
	/* site */
	char		 site[AMTP_AGENT_URL_MAX + 1];
	int		 registered;		/* registered in this run */
	int64_t		 device_id;
	int		 have_policy;
	int		 provision;
	char		 policy_reason[AGENT_REPORT_LINE_MAX];
	char		 site_status[40];	/* the site's AMT status */
	int64_t		 job_id;
	/* firmware */
	char		 mei_uri[AMTP_AGENT_PATH_MAX + 1];
	int		 have_facts;
	struct agent_amt_facts facts;
	int		 have_record;
	/* outcome */
	char		 did[AGENT_REPORT_DID_MAX][AGENT_REPORT_LINE_MAX];
	size_t		 ndid;
	const char	*result;		/* job_queued, nothing_to_do ... */
	char		 result_text[AGENT_REPORT_LINE_MAX];
	struct agent_err err;
};

void agent_report_init(struct agent_report *rep, const char *mode);

/* Adds a line to "did" (what the agent changed or sent). */
void agent_report_did(struct agent_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sets the outcome word and sentence. */
void agent_report_result(struct agent_report *rep, const char *result,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The exit code: rep->err.exit when an error is set, else 0. */
int agent_report_exit(const struct agent_report *rep);

/* Prints rep to f as text or as one JSON object.  0 or AMTP_E_IO/NOMEM. */
int agent_report_print(FILE *f, const struct agent_report *rep, int json);

#endif
