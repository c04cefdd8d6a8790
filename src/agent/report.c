/*
 * amtprov - report.c: the agent's output for people and for scripts
 * (program amtprov-agent).  See report.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "amtprov/amthi.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/str.h"

#include "agent.h"
#include "amt.h"
#include "report.h"

void
agent_report_init(struct agent_report *rep, const char *mode)
{
	memset(rep, 0, sizeof(*rep));
	rep->mode = mode;
	rep->result = "error";
	agent_err_init(&rep->err);
}

void
agent_report_did(struct agent_report *rep, const char *fmt, ...)
{
	va_list ap;

	if (rep->ndid >= AGENT_REPORT_DID_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(rep->did[rep->ndid++], AGENT_REPORT_LINE_MAX, fmt, ap);
	va_end(ap);
}

void
agent_report_result(struct agent_report *rep, const char *result,
    const char *fmt, ...)
{
	va_list ap;

	rep->result = result;
	va_start(ap, fmt);
	vsnprintf(rep->result_text, sizeof(rep->result_text), fmt, ap);
	va_end(ap);
}

int
agent_report_exit(const struct agent_report *rep)
{
	return rep->err.set ? rep->err.exit : AGENT_EXIT_OK;
}

static const char *
algo_name(uint8_t a)
{
	switch (a) {
	case AMTP_AMT_HASH_SHA1:
		return "sha1";
	case AMTP_AMT_HASH_SHA256:
		return "sha256";
	case AMTP_AMT_HASH_SHA384:
		return "sha384";
	case AMTP_AMT_HASH_SHA512:
		return "sha512";
	default:
		return "other";
	}
}

static json_t *
facts_json(const struct agent_amt_facts *f)
{
	json_t *o, *arr, *h;
	size_t i;

	if ((arr = json_array()) == NULL)
		return NULL;
	for (i = 0; i < f->nhashes; i++) {
		h = json_pack("{s:s, s:s, s:s, s:b, s:b}", "name",
		    f->hashes[i].name, "algorithm",
		    algo_name(f->hashes[i].algorithm), "hash", f->hashes[i].hex,
		    "is_default", f->hashes[i].is_default, "is_active",
		    f->hashes[i].is_active);
		if (h == NULL || json_array_append_new(arr, h) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, "
	    "s:o, s:I}",
	    "provisioning_state", agent_amt_state_name(f->state),
	    "control_mode", agent_amt_control_name(f->control_mode),
	    "amt_version", f->amt_version, "build", f->build, "sku", f->sku,
	    "bios", f->bios, "uuid", f->uuid, "dns_suffix", f->dns_suffix,
	    "wired_ipv4", f->wired_addr, "wireless", f->wireless,
	    "cert_hashes", arr, "cert_hashes_skipped",
	    (json_int_t)f->hashes_skipped);
	return o;
}

static int
print_json(FILE *f, const struct agent_report *rep)
{
	json_t *o = NULL, *did = NULL, *v;
	char *text = NULL;
	size_t i;
	int r = AMTP_E_NOMEM;

	if ((o = json_pack("{s:s, s:i, s:s, s:s}", "mode", rep->mode,
	    "exit_code", agent_report_exit(rep), "result", rep->result,
	    "message", rep->err.set && (strcmp(rep->result, "error") == 0 ||
	    rep->result_text[0] == '\0') ? rep->err.msg : rep->result_text)) ==
	    NULL || (did = json_array()) == NULL)
		goto out;
	for (i = 0; i < rep->ndid; i++)
		if (json_array_append_new(did, json_string(rep->did[i])) != 0)
			goto out;
	if (json_object_set_new(o, "did", did) != 0) {
		did = NULL;
		goto out;
	}
	did = NULL;
	if (rep->err.set && ((v = json_pack("{s:s, s:s, s:i}", "code",
	    rep->err.code, "message", rep->err.msg, "exit_code",
	    rep->err.exit)) == NULL || json_object_set_new(o, "error", v) != 0))
		goto out;
	if (rep->smbios_uuid[0] != '\0' && ((v = json_pack("{s:s, s:s, s:s, "
	    "s:s}", "smbios_uuid", rep->smbios_uuid, "uuid_source",
	    rep->uuid_source != NULL ? rep->uuid_source : "", "hostname",
	    rep->hostname, "fqdn", rep->fqdn)) == NULL ||
	    json_object_set_new(o, "identity", v) != 0))
		goto out;
	if (rep->site[0] != '\0' && ((v = json_pack("{s:s, s:b, s:I, s:s, "
	    "s:o, s:o, s:o}", "url", rep->site, "registered",
	    rep->registered, "device_id", (json_int_t)rep->device_id,
	    "status", rep->site_status,
	    "provision", rep->have_policy ? json_boolean(rep->provision) :
	    json_null(),
	    "policy_reason", rep->have_policy ?
	    json_string(rep->policy_reason) : json_null(),
	    "job_id", rep->job_id != 0 ? json_integer(rep->job_id) :
	    json_null())) == NULL || json_object_set_new(o, "site", v) != 0))
		goto out;
	if (rep->mei_uri[0] != '\0' && json_object_set_new(o, "mei",
	    json_string(rep->mei_uri)) != 0)
		goto out;
	if (rep->have_facts && ((v = facts_json(&rep->facts)) == NULL ||
	    json_object_set_new(o, "amt", v) != 0))
		goto out;
	if ((text = json_dumps(o, JSON_INDENT(2))) == NULL)
		goto out;
	r = fprintf(f, "%s\n", text) < 0 ? AMTP_E_IO : 0;
 out:
	free(text);
	json_decref(did);
	json_decref(o);
	return r;
}

static void
print_facts(FILE *f, const struct agent_amt_facts *a)
{
	size_t i;

	fprintf(f, "  AMT version:        %s (build %s, SKU %s)\n",
	    a->amt_version, a->build[0] != '\0' ? a->build : "?",
	    a->sku[0] != '\0' ? a->sku : "?");
	fprintf(f, "  provisioning state: %s\n",
	    a->state == AMTP_AMT_STATE_PRE ? "PRE (not provisioned)" :
	    a->state == AMTP_AMT_STATE_IN ? "IN (provisioning)" :
	    "POST (provisioned)");
	fprintf(f, "  control mode:       %s\n",
	    agent_amt_control_name(a->control_mode));
	fprintf(f, "  UUID:               %s\n", a->uuid);
	fprintf(f, "  DNS suffix:         %s\n",
	    a->dns_suffix[0] != '\0' ? a->dns_suffix : "(none)");
	fprintf(f, "  wired IPv4:         %s\n",
	    a->wired_addr[0] != '\0' ? a->wired_addr : "(none)");
	fprintf(f, "  wireless:           %s\n", a->wireless ? "yes" : "no");
	if (a->bios[0] != '\0')
		fprintf(f, "  BIOS:               %s\n", a->bios);
	fprintf(f, "  certificate hashes: %zu", a->nhashes);
	if (a->hashes_skipped != 0)
		fprintf(f, " (and %zu MD5/SHA-224 not listed)",
		    a->hashes_skipped);
	fprintf(f, "\n");
	for (i = 0; i < a->nhashes; i++)
		fprintf(f, "    %s %s%s%s %.16s... %s\n",
		    algo_name(a->hashes[i].algorithm),
		    a->hashes[i].is_active ? "active" : "inactive",
		    a->hashes[i].is_default ? "," : "",
		    a->hashes[i].is_default ? "default" : "",
		    a->hashes[i].hex, a->hashes[i].name);
}

static int
print_text(FILE *f, const struct agent_report *rep)
{
	const char *what;
	size_t i;

	if (rep->smbios_uuid[0] != '\0')
		fprintf(f, "computer: %s, SMBIOS UUID %s (from %s)\n",
		    rep->fqdn[0] != '\0' ? rep->fqdn : rep->hostname,
		    rep->smbios_uuid, rep->uuid_source != NULL ?
		    rep->uuid_source : "?");
	if (rep->site[0] != '\0' && rep->device_id != 0)
		fprintf(f, "site: %s, device %lld%s\n", rep->site,
		    (long long)rep->device_id,
		    rep->registered ? " (registered now)" : "");
	if (rep->have_policy) {
		what = rep->provision ? "provision AMT" : "do not provision";
		if (rep->policy_reason[0] == '\0' ||
		    strcmp(rep->policy_reason, what) == 0)
			fprintf(f, "policy: %s\n", what);
		else
			fprintf(f, "policy: %s (%s)\n", what,
			    rep->policy_reason);
	}
	if (rep->have_facts) {
		fprintf(f, "found AMT on %s:\n", rep->mei_uri);
		print_facts(f, &rep->facts);
	}
	for (i = 0; i < rep->ndid; i++)
		fprintf(f, "did: %s\n", rep->did[i]);
	if (rep->err.set)
		fprintf(f, "error: %s\n", rep->err.msg);
	if (rep->result_text[0] != '\0')
		fprintf(f, "result: %s\n", rep->result_text);
	fprintf(f, "exit %d: %s\n", agent_report_exit(rep),
	    agent_exit_name(agent_report_exit(rep)));
	return ferror(f) ? AMTP_E_IO : 0;
}

int
agent_report_print(FILE *f, const struct agent_report *rep, int json)
{
	return json ? print_json(f, rep) : print_text(f, rep);
}
