/*
 * amtprov - amt.c: the agent's questions to the AMT firmware over MEI
 * (program amtprov-agent).  See amt.h.  The bytes are the shared codec's
 * (src/lib/amthi.c); this file picks the commands, reads the answers and
 * says, for each failure, which command failed and why.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amtprov/amthi.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/mei.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "agent.h"
#include "amt.h"

const char *
agent_amt_state_name(uint32_t state)
{
	switch (state) {
	case AMTP_AMT_STATE_PRE:
		return "pre";
	case AMTP_AMT_STATE_IN:
		return "in";
	case AMTP_AMT_STATE_POST:
		return "post";
	default:
		return "unknown";
	}
}

const char *
agent_amt_control_name(uint32_t mode)
{
	switch (mode) {
	case AMTP_AMT_CONTROL_NONE:
		return "none";
	case AMTP_AMT_CONTROL_CCM:
		return "client";
	case AMTP_AMT_CONTROL_ACM:
		return "admin";
	default:
		return "unknown";
	}
}

void
agent_amt_uuid_format(const uint8_t b[16], char *dst)
{
	/* SMBIOS order: time_low, time_mid, time_hi little endian */
	snprintf(dst, AGENT_UUID_LEN + 1,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9],
	    b[10], b[11], b[12], b[13], b[14], b[15]);
}

int
agent_is_uuid(const char *s)
{
	size_t i;

	if (strlen(s) != AGENT_UUID_LEN)
		return 0;
	for (i = 0; i < AGENT_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') ||
		    (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	}
	return 1;
}

/* Firmware text goes to JSON and to a terminal: printable ASCII only. */
static void
printable(char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			*s = '?';
}

/* Maps a failed exchange to the person's sentence and the exit code. */
static int
call_failed(uint32_t cmd, int r, const struct amtp_amthi_resp *resp,
    struct agent_err *e)
{
	const char *name = amtp_amthi_cmd_name(cmd);

	if (name == NULL)
		name = "AMTHI command";
	switch (r) {
	case AMTP_E_AMT_STATUS:
		return agent_err_set(e, r, AGENT_EXIT_FIRMWARE,
		    "firmware_status", "AMT: %s failed with status %u (%s)",
		    name, resp->status, amtp_amthi_status_name(resp->status));
	case AMTP_E_PROTO:
	case AMTP_E_INCOMPLETE:
	case AMTP_E_PARSE:
	case AMTP_E_EMBEDDED_NUL:
	case AMTP_E_RANGE:
		return agent_err_set(e, r, AGENT_EXIT_FIRMWARE,
		    "firmware_bad_answer", "AMT: malformed answer to %s: %s",
		    name, amtp_strerror(r));
	case AMTP_E_CLOSED:
		return agent_err_set(e, r, AGENT_EXIT_MEI, "mei_closed",
		    "MEI: the device closed the connection during %s "
		    "(firmware reset or simulator gone)", name);
	case AMTP_E_NOTFOUND:
		/* the driver fails reads with ENODEV once the ME resets */
		return agent_err_set(e, r, AGENT_EXIT_MEI, "mei_closed",
		    "MEI: the device went away during %s (firmware reset, "
		    "driver unloaded or simulator gone)", name);
	case AMTP_E_TIMEOUT:
		return agent_err_set(e, r, AGENT_EXIT_MEI, "mei_timeout",
		    "MEI: no answer to %s in time", name);
	case AMTP_E_NOMEM:
		return agent_err_set(e, r, AGENT_EXIT_INTERNAL, "internal",
		    "out of memory");
	default:
		return agent_err_set(e, r, AGENT_EXIT_MEI, "mei_failed",
		    "MEI: %s failed: %s", name, amtp_strerror(r));
	}
}

/* One command with at most one u32 argument. */
static int
call(struct amtp_mei *mei, uint32_t cmd, uint32_t arg,
    struct amtp_amthi_resp *resp, struct agent_err *e)
{
	struct amtp_amthi_req req;
	int r;

	amtp_amthi_req_init(&req, cmd);
	req.arg = arg;
	r = amtp_amthi_call(mei, &req, resp);
	amtp_amthi_req_wipe(&req);
	if (r != 0 && e != NULL)
		return call_failed(cmd, r, resp, e);
	return r;
}

int
agent_amt_open(const char *uri, int timeout_ms, struct amtp_mei **out,
    struct agent_err *e)
{
	int r, saved;

	*out = NULL;
	r = amtp_mei_open(uri, amtp_mei_guid_amthi, timeout_ms, out);
	/* the simulator closes at the handshake for an unknown client, and
	 * the close may come before the GUID is written: the same answer */
	if (r == AMTP_E_CLOSED && strncmp(uri, AMTP_MEI_UNIX_PREFIX,
	    strlen(AMTP_MEI_UNIX_PREFIX)) == 0)
		r = AMTP_E_NOTFOUND;
	switch (r) {
	case 0:
		return 0;
	case AMTP_E_NOTFOUND:
		/*
		 * The driver answers the connect for a client the firmware
		 * does not have with ENOTTY, and ENODEV while the ME is not
		 * ready; the simulator closes.  (mei.c keeps errno.)  Tell
		 * a missing device from a missing AMTHI client by the path.
		 */
		saved = errno;
		if (strncmp(uri, AMTP_MEI_UNIX_PREFIX,
		    strlen(AMTP_MEI_UNIX_PREFIX)) != 0 &&
		    access(uri, F_OK) == 0) {
			if (saved != ENOTTY)
				return agent_err_set(e, r, AGENT_EXIT_MEI,
				    "mei_failed", "%s: the MEI device does not "
				    "answer the AMTHI connect (%s)", uri,
				    strerror(saved));
			return agent_err_set(e, AMTP_E_UNSUPPORTED,
			    AGENT_EXIT_NOT_PRE, "amt_disabled",
			    "%s: the MEI device has no AMT (AMTHI) client: "
			    "AMT is disabled or not present", uri);
		}
		if (strncmp(uri, AMTP_MEI_UNIX_PREFIX,
		    strlen(AMTP_MEI_UNIX_PREFIX)) == 0 &&
		    access(uri + strlen(AMTP_MEI_UNIX_PREFIX), F_OK) == 0)
			return agent_err_set(e, AMTP_E_UNSUPPORTED,
			    AGENT_EXIT_NOT_PRE, "amt_disabled",
			    "%s: the MEI device refused the AMT (AMTHI) "
			    "client: AMT is disabled or not present", uri);
		return agent_err_set(e, r, AGENT_EXIT_MEI, "mei_missing",
		    "%s: no MEI device (is the mei_me driver loaded? is "
		    "the simulator running?)", uri);
	case AMTP_E_PERM:
		return agent_err_set(e, r, AGENT_EXIT_MEI, "mei_permission",
		    "%s: permission denied (the agent must run as root or "
		    "a user allowed to open the MEI device)", uri);
	case AMTP_E_BUSY:
		return agent_err_set(e, r, AGENT_EXIT_MEI, "mei_busy",
		    "%s: the AMTHI client stayed busy (another tool, such "
		    "as lms, may hold it)", uri);
	case AMTP_E_TIMEOUT:
		return agent_err_set(e, r, AGENT_EXIT_MEI, "mei_timeout",
		    "%s: no answer to the MEI connect", uri);
	case AMTP_E_INVAL:
		return agent_err_set(e, r, AGENT_EXIT_USAGE, "usage",
		    "%s: not a usable MEI device URI (a path or unix:PATH)",
		    uri);
	default:
		return agent_err_set(e, r, AGENT_EXIT_MEI, "mei_failed",
		    "%s: MEI connect failed: %s", uri, amtp_strerror(r));
	}
}

int
agent_amt_state(struct amtp_mei *mei, uint32_t *state, struct agent_err *e)
{
	struct amtp_amthi_resp resp;
	int r;

	*state = 0;
	if ((r = call(mei, AMTP_AMTHI_GET_PROVISIONING_STATE, 0, &resp,
	    e)) != 0)
		return r;
	if (resp.u.provisioning_state > AMTP_AMT_STATE_POST)
		return agent_err_set(e, AMTP_E_RANGE, AGENT_EXIT_FIRMWARE,
		    "firmware_bad_answer", "AMT: GetProvisioningState "
		    "answered %u, which is no state", resp.u.provisioning_state);
	*state = resp.u.provisioning_state;
	return 0;
}

int
agent_amt_uuid(struct amtp_mei *mei, char *uuid, struct agent_err *e)
{
	struct amtp_amthi_resp resp;
	int r;

	uuid[0] = '\0';
	if ((r = call(mei, AMTP_AMTHI_GET_UUID, 0, &resp, e)) != 0)
		return r;
	agent_amt_uuid_format(resp.u.uuid, uuid);
	return 0;
}

static int
versions(struct amtp_mei *mei, struct agent_amt_facts *f, struct agent_err *e)
{
	struct amtp_amthi_resp *resp;
	const struct amtp_amthi_version *v;
	uint32_t i;
	int r;

	/* the reply holds 50 versions: keep it off the stack */
	if ((resp = calloc(1, sizeof(*resp))) == NULL)
		return agent_err_set(e, AMTP_E_NOMEM, AGENT_EXIT_INTERNAL,
		    "internal", "out of memory");
	if ((r = call(mei, AMTP_AMTHI_GET_CODE_VERSIONS, 0, resp, e)) != 0)
		goto out;
	amtp_strlcpy(f->bios, resp->u.code_versions.bios, sizeof(f->bios));
	for (i = 0; i < resp->u.code_versions.count &&
	    i < AMTP_AMTHI_VERSIONS_MAX; i++) {
		v = &resp->u.code_versions.v[i];
		if (strcmp(v->desc, "AMT") == 0)
			amtp_strlcpy(f->amt_version, v->ver,
			    sizeof(f->amt_version));
		else if (strcmp(v->desc, "Build Number") == 0)
			amtp_strlcpy(f->build, v->ver, sizeof(f->build));
		else if (strcmp(v->desc, "Sku") == 0)
			amtp_strlcpy(f->sku, v->ver, sizeof(f->sku));
	}
	printable(f->bios);
	printable(f->amt_version);
	printable(f->build);
	printable(f->sku);
	if (f->amt_version[0] < '0' || f->amt_version[0] > '9') {
		r = agent_err_set(e, AMTP_E_PARSE, AGENT_EXIT_FIRMWARE,
		    "firmware_bad_answer", "AMT: GetCodeVersions has no "
		    "usable \"AMT\" version entry");
		goto out;
	}
	for (i = 0, f->ver_major = 0; f->amt_version[i] >= '0' &&
	    f->amt_version[i] <= '9' && f->ver_major < 1000; i++)
		f->ver_major = f->ver_major * 10 +
		    (unsigned)(f->amt_version[i] - '0');
	r = 0;
 out:
	free(resp);
	return r;
}

static int
hashes(struct amtp_mei *mei, struct agent_amt_facts *f, struct agent_err *e)
{
	struct amtp_amthi_resp handles, resp;
	const struct amtp_amthi_hash_entry *h;
	struct agent_amt_hash *out;
	size_t hlen;
	uint32_t i;
	int r;

	if ((r = call(mei, AMTP_AMTHI_ENUMERATE_HASH_HANDLES, 0, &handles,
	    e)) != 0)
		return r;
	for (i = 0; i < handles.u.hash_handles.count &&
	    i < AMTP_AMTHI_HASH_HANDLES_MAX; i++) {
		if ((r = call(mei, AMTP_AMTHI_GET_CERTIFICATE_HASH_ENTRY,
		    handles.u.hash_handles.handles[i], &resp, e)) != 0)
			return r;
		h = &resp.u.hash_entry;
		hlen = amtp_amthi_hash_len(h->algorithm);
		/* the site keeps SHA-1/256/384/512 (40..128 hex digits) */
		if (hlen != 20 && hlen != 32 && hlen != 48 && hlen != 64) {
			f->hashes_skipped++;
			continue;
		}
		out = &f->hashes[f->nhashes++];
		if ((r = amtp_hex_encode(out->hex, sizeof(out->hex), h->hash,
		    hlen, 0)) != 0)
			return agent_err_set(e, r, AGENT_EXIT_INTERNAL,
			    "internal", "hash of %zu bytes", hlen);
		amtp_strlcpy(out->name, h->name, sizeof(out->name));
		printable(out->name);
		out->algorithm = h->algorithm;
		out->is_default = h->is_default != 0;
		out->is_active = h->is_active != 0;
	}
	return 0;
}

static int
lan(struct amtp_mei *mei, struct agent_amt_facts *f, struct agent_err *e)
{
	struct amtp_amthi_resp resp;
	uint32_t a;
	int r;

	if ((r = call(mei, AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS, 0, &resp,
	    e)) != 0)
		return r;
	a = f->wired_ipv4 = resp.u.lan.ipv4;
	memcpy(f->wired_mac, resp.u.lan.mac, sizeof(f->wired_mac));
	f->wired_addr[0] = '\0';
	if (a != 0)
		snprintf(f->wired_addr, sizeof(f->wired_addr), "%u.%u.%u.%u",
		    a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	/* the wireless interface answers with an error status when absent
	 * (spec 1.8: the code differs between generations) */
	r = call(mei, AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS, 1, &resp, NULL);
	if (r == 0)
		f->wireless = 1;
	else if (r == AMTP_E_AMT_STATUS)
		f->wireless = 0;
	else
		return call_failed(AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS, r,
		    &resp, e);
	return 0;
}

int
agent_amt_facts(struct amtp_mei *mei, struct agent_amt_facts *f,
    struct agent_err *e)
{
	struct amtp_amthi_resp resp;
	int r;

	memset(f, 0, sizeof(*f));
	if ((r = agent_amt_state(mei, &f->state, e)) != 0 ||
	    (r = versions(mei, f, e)) != 0 ||
	    (r = agent_amt_uuid(mei, f->uuid, e)) != 0)
		return r;
	if ((r = call(mei, AMTP_AMTHI_GET_PKI_FQDN_SUFFIX, 0, &resp, e)) != 0)
		return r;
	amtp_strlcpy(f->dns_suffix, resp.u.dns_suffix.s,
	    sizeof(f->dns_suffix));
	printable(f->dns_suffix);
	if ((r = call(mei, AMTP_AMTHI_GET_CONTROL_MODE, 0, &resp, e)) != 0)
		return r;
	f->control_mode = resp.u.control_mode;
	if (f->control_mode > AMTP_AMT_CONTROL_ACM)
		return agent_err_set(e, AMTP_E_RANGE, AGENT_EXIT_FIRMWARE,
		    "firmware_bad_answer", "AMT: GetControlMode answered %u, "
		    "which is no control mode", f->control_mode);
	if ((r = lan(mei, f, e)) != 0 || (r = hashes(mei, f, e)) != 0)
		return r;
	return 0;
}

int
agent_amt_set_otp(struct amtp_mei *mei, const struct amtp_secret *otp,
    struct agent_err *e)
{
	struct amtp_amthi_req req;
	struct amtp_amthi_resp resp;
	size_t len = amtp_secret_len(otp);
	int r;

	if (len < AMTP_OTP_MIN || len > AMTP_OTP_MAX)
		return agent_err_set(e, AMTP_E_RANGE, AGENT_EXIT_INTERNAL,
		    "internal", "OTP of %zu characters", len);
	amtp_amthi_req_init(&req, AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP);
	memcpy(req.str, amtp_secret_reveal(otp), len);
	req.str_len = len;
	req.str_nul = 0;
	r = amtp_amthi_call(mei, &req, &resp);
	amtp_amthi_req_wipe(&req);
	if (r != 0)
		return call_failed(AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP, r,
		    &resp, e);
	return 0;
}

int
agent_amt_activate(struct amtp_mei *mei, unsigned ver_major,
    const char **which, struct agent_err *e)
{
	struct amtp_amthi_resp resp;
	uint32_t cmd;

	cmd = ver_major >= 6 ? AMTP_AMTHI_START_CONFIGURATION_EX :
	    AMTP_AMTHI_START_CONFIGURATION;
	*which = amtp_amthi_cmd_name(cmd);
	/* StartConfigurationEx's argument: IPv6 off (the site gets IPv4) */
	return call(mei, cmd, 0, &resp, e);
}
