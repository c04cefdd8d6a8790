/*
 * amtprov - faults.c: fault and realism knobs of amtsim's network side,
 * for tests and benchmarks: response latency (fixed or a random range),
 * key generation time, a connection reset after N requests, a 5xx, a
 * timeout or a malformed answer on a chosen call, and a reboot (dropped
 * connections, flash kept) after a chosen call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/rand.h"
#include "amtprov/str.h"
#include "simnet.h"

#define FAULT_SPEC_MAX	1024
#define FAULT_MS_MAX	600000

void
amtsim_net_faults_reset(struct amtsim_net_faults *f)
{
	free(f->fail_call);
	free(f->reboot_on);
	memset(f, 0, sizeof(*f));
}

static int
num(const char *v, long long lo, long long hi, uint32_t *out)
{
	long long n;

	if (v == NULL || amtp_parse_int(v, lo, hi, &n) != 0)
		return -1;
	*out = (uint32_t)n;
	return 0;
}

static int
call_name(const char *v, char **dst)
{
	size_t i;

	if (v == NULL || v[0] == '\0' || strlen(v) >= SIMNET_CALL_MAX)
		return -1;
	for (i = 0; v[i] != '\0'; i++)
		if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' &&
		    v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9') ||
		    v[i] == '_' || v[i] == '.' || v[i] == '*'))
			return -1;
	free(*dst);
	if ((*dst = strdup(v)) == NULL)
		return -1;
	return 0;
}

int
amtsim_net_faults_parse(const char *spec, struct amtsim_net_faults *f,
    char *err, size_t errlen)
{
	char buf[FAULT_SPEC_MAX], *save = NULL, *tok, *v, *dash;
	uint32_t u = 0;
	int bad = 0;

	if (strlen(spec) >= sizeof(buf)) {
		(void)snprintf(err, errlen, "fault specification too long");
		return AMTP_E_PARSE;
	}
	(void)amtp_strlcpy(buf, spec, sizeof(buf));
	for (tok = strtok_r(buf, ",", &save); tok != NULL && !bad;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((v = strchr(tok, '=')) != NULL)
			*v++ = '\0';
		if (strcmp(tok, "latency") == 0) {
			if (v != NULL && (dash = strchr(v, '-')) != NULL) {
				*dash++ = '\0';
				bad = num(v, 0, FAULT_MS_MAX,
				    &f->latency_min_ms) != 0 ||
				    num(dash, 0, FAULT_MS_MAX,
				    &f->latency_max_ms) != 0 ||
				    f->latency_max_ms < f->latency_min_ms;
			} else {
				bad = num(v, 0, FAULT_MS_MAX,
				    &f->latency_min_ms) != 0;
				f->latency_max_ms = f->latency_min_ms;
			}
		} else if (strcmp(tok, "keygen") == 0)
			bad = num(v, 0, FAULT_MS_MAX, &f->keygen_ms) != 0;
		else if (strcmp(tok, "reset-after") == 0)
			bad = num(v, 1, UINT32_MAX, &f->reset_after) != 0;
		else if (strcmp(tok, "fail") == 0)
			bad = call_name(v, &f->fail_call) != 0;
		else if (strcmp(tok, "status") == 0)
			bad = num(v, 500, 599, &f->fail_status) != 0;
		else if (strcmp(tok, "timeout") == 0 && v == NULL)
			f->fail_timeout = 1;
		else if (strcmp(tok, "malformed") == 0 && v == NULL)
			f->fail_malformed = 1;
		else if (strcmp(tok, "count") == 0)
			bad = num(v, 1, UINT32_MAX, &f->fail_count) != 0;
		else if (strcmp(tok, "reboot") == 0)
			bad = call_name(v, &f->reboot_on) != 0;
		else if (strcmp(tok, "reboot-ms") == 0)
			bad = num(v, 0, FAULT_MS_MAX, &f->reboot_ms) != 0;
		else if (strcmp(tok, "device") == 0) {
			bad = num(v, 1, AMTP_SIM_DEVICES_MAX, &u) != 0;
			f->device = u;
		} else
			bad = 1;
		if (bad)
			(void)snprintf(err, errlen, "fault knob \"%.32s\": "
			    "unknown or bad value", tok);
	}
	if (!bad && f->fail_call != NULL && f->fail_status == 0 &&
	    !f->fail_timeout && !f->fail_malformed)
		f->fail_status = 500;
	if (!bad && f->reboot_on != NULL && f->reboot_ms == 0)
		f->reboot_ms = 2000;
	return bad ? AMTP_E_PARSE : 0;
}

int
simnet_faults_for(const struct amtsim_net_faults *f, unsigned index)
{
	return f->device == 0 || f->device == index;
}

uint32_t
simnet_faults_latency(struct amtsim_net *net)
{
	const struct amtsim_net_faults *f = &net->opts.faults;
	uint32_t r;

	if (f->latency_max_ms <= f->latency_min_ms)
		return f->latency_min_ms;
	if (amtp_rand_uniform(f->latency_max_ms - f->latency_min_ms + 1,
	    &r) != 0)
		r = 0;
	return f->latency_min_ms + r;
}

int
simnet_can_delay(const struct amtsim_net_faults *f)
{
	return f->latency_min_ms > 0 || f->latency_max_ms > 0 ||
	    f->keygen_ms > 0 || f->fail_timeout;
}

int
simnet_faults_match(const char *pattern, const char *call)
{
	if (pattern == NULL || call == NULL)
		return 0;
	return strcmp(pattern, "*") == 0 || strcmp(pattern, call) == 0;
}
