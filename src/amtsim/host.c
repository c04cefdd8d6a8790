/*
 * amtprov - host.c: the AMTHI command handlers of a simulated device
 * (amtsim).  See host.h.  Decoding and encoding are the shared codec's
 * (src/lib/amthi.c); this file only decides what the firmware answers.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "amtprov/amthi.h"
#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/str.h"
#include "device.h"
#include "host.h"

/* GetProvisioningTLSMode: this simulator does PKI only. */
#define TLS_MODE_PKI	2u
/* GetProvisioningMode: ENTERPRISE once provisioned. */
#define PROV_MODE_NONE		0u
#define PROV_MODE_ENTERPRISE	1u

static void
add_version(struct amtp_amthi_resp *resp, const char *desc, const char *ver)
{
	struct amtp_amthi_version *v;

	if (resp->u.code_versions.count >= AMTP_AMTHI_VERSIONS_MAX)
		return;
	v = &resp->u.code_versions.v[resp->u.code_versions.count++];
	(void)amtp_strlcpy(v->desc, desc, sizeof(v->desc));
	(void)amtp_strlcpy(v->ver, ver, sizeof(v->ver));
}

static void
code_versions(const struct amtsim_device *d, struct amtp_amthi_resp *resp)
{
	(void)amtp_strlcpy(resp->u.code_versions.bios, d->bios_version,
	    sizeof(resp->u.code_versions.bios));
	add_version(resp, "Flash", d->amt_version);
	add_version(resp, "Netstack", d->amt_version);
	add_version(resp, "AMTApps", d->amt_version);
	add_version(resp, "AMT", d->amt_version);
	add_version(resp, "Sku", d->sku);
	add_version(resp, "VendorID", "8086");
	add_version(resp, "Build Number", d->build_number);
	add_version(resp, "Recovery Version", d->amt_version);
	add_version(resp, "Recovery Build Num", d->build_number);
	add_version(resp, "Legacy Mode", "False");
}

/* Saves a change made by a Set command; undoes it with undo on failure. */
static uint32_t
save_or(struct amtsim_device *d, int ok)
{
	return ok && amtsim_device_save(d) == 0 ? AMTP_AMT_STATUS_SUCCESS :
	    AMTP_AMT_STATUS_INTERNAL_ERROR;
}

static uint32_t
set_otp(struct amtsim_device *d, const struct amtp_amthi_req *req)
{
	char old[sizeof(d->otp)];
	size_t oldlen = d->otp_len;
	uint32_t st;

	if (d->state == AMTSIM_POST)
		return AMTP_AMT_STATUS_INVALID_AMT_MODE;
	if (req->str_len == 0 || req->str_len >= sizeof(d->otp))
		return AMTP_AMT_STATUS_INVALID_PARAMETER;
	memcpy(old, d->otp, sizeof(old));
	memset(d->otp, 0, sizeof(d->otp));
	memcpy(d->otp, req->str, req->str_len);
	d->otp_len = req->str_len;
	if ((st = save_or(d, 1)) != AMTP_AMT_STATUS_SUCCESS) {
		memcpy(d->otp, old, sizeof(old));
		d->otp_len = oldlen;
	}
	explicit_bzero(old, sizeof(old));
	return st;
}

static uint32_t
set_dns_suffix(struct amtsim_device *d, const struct amtp_amthi_req *req)
{
	char old[sizeof(d->pki_dns_suffix)];
	uint32_t st;

	if (d->state == AMTSIM_POST)
		return AMTP_AMT_STATUS_INVALID_AMT_MODE;
	memcpy(old, d->pki_dns_suffix, sizeof(old));
	memset(d->pki_dns_suffix, 0, sizeof(d->pki_dns_suffix));
	memcpy(d->pki_dns_suffix, req->str, req->str_len);
	if ((st = save_or(d, 1)) != AMTP_AMT_STATUS_SUCCESS)
		memcpy(d->pki_dns_suffix, old, sizeof(old));
	return st;
}

/* An IN device whose period has passed falls back before anything else
 * looks at it (the timer may not have fired yet). */
static void
check_period(struct amtsim_device *d)
{
	if (d->state == AMTSIM_IN && d->prov_deadline != 0 &&
	    (int64_t)time(NULL) >= d->prov_deadline)
		(void)amtsim_device_event(d, AMTSIM_EV_PERIOD_EXPIRED, 0);
}

static uint32_t
start_configuration(struct amtsim_device *d, int ex, uint32_t ipv6)
{
	int old = d->ipv6_enabled;
	uint32_t st;

	if (ex && ipv6 > 1)
		return AMTP_AMT_STATUS_INVALID_PARAMETER;
	if (d->state != AMTSIM_PRE)
		return AMTP_AMT_STATUS_INVALID_AMT_MODE;
	d->ipv6_enabled = ex ? (int)ipv6 : 0;
	if ((st = amtsim_device_event(d, AMTSIM_EV_START_CONFIG, 0)) !=
	    AMTP_AMT_STATUS_SUCCESS)
		d->ipv6_enabled = old;
	return st;
}

static uint32_t
unprovision(struct amtsim_device *d, uint32_t mode)
{
	if (mode > 1)
		return AMTP_AMT_STATUS_INVALID_PARAMETER;
	if (d->state == AMTSIM_PRE)
		return AMTP_AMT_STATUS_INVALID_AMT_MODE;
	/* ACM can only be left from the network or MEBx (as rpc-go's local
	 * deactivation, which works for CCM only). */
	if (d->state == AMTSIM_POST && d->control_mode == AMTP_AMT_CONTROL_ACM)
		return AMTP_AMT_STATUS_NOT_PERMITTED;
	return amtsim_device_event(d, AMTSIM_EV_UNPROVISION, 0);
}

static void
lan_settings(const struct amtsim_device *d, uint32_t iface,
    struct amtp_amthi_resp *resp)
{
	struct amtp_amthi_lan *l = &resp->u.lan;

	if (iface > 1) {
		resp->status = AMTP_AMT_STATUS_INVALID_PARAMETER;
		return;
	}
	if (iface == 1 && !d->wireless) {
		resp->status = AMTP_AMT_STATUS_INTERFACE_DOES_NOT_EXIST;
		return;
	}
	l->enabled = 1;
	l->dhcp_enabled = 1;
	l->dhcp_ip_mode = 2;	/* passive: shares the host's lease */
	if (iface == 0) {
		l->ipv4 = d->ipv4;
		l->link_status = 1;
		memcpy(l->mac, d->mac_host, 6);
	} else {
		/* Wireless is present but not connected: the wired address
		 * is the one provisioning uses (DESIGN.md step 2). */
		l->ipv4 = 0;
		l->link_status = 0;
		memcpy(l->mac, d->mac_wireless, 6);
	}
}

static void
security_parameters(const struct amtsim_device *d,
    struct amtp_amthi_resp *resp)
{
	uint32_t *w = resp->u.security;

	w[0] = 1;				/* EnterpriseMode */
	w[1] = d->features.tls_enabled ? 1 : 0;
	w[2] = 1;				/* HWCryptoEnabled */
	w[3] = (uint32_t)d->state;		/* ProvisioningState */
	w[4] = amtsim_device_net_active(d) ? 1 : 0;
	w[5] = d->features.sol ? 1 : 0;
	w[6] = d->features.ider ? 1 : 0;
	w[7] = 1;				/* FWUpdateEnabled */
	w[8] = 1;				/* LinkIsUp */
	w[9] = d->caps.kvm && d->features.kvm ? 1 : 0;
}

static void
features_state(const struct amtsim_device *d, uint32_t id,
    struct amtp_amthi_resp *resp)
{
	resp->u.features.request_id = id;
	switch (id) {
	case AMTP_AMT_FEATURE_REDIRECTION:
		/* IDER open, SOL open, reserved: no session is ever open. */
		resp->u.features.count = 3;
		break;
	case AMTP_AMT_FEATURE_SYSTEM_DEFENSE:
		resp->u.features.count = 1;
		resp->u.features.values[0] = d->features.system_defense ? 1 : 0;
		break;
	case AMTP_AMT_FEATURE_WEB_UI:
		resp->u.features.count = 1;
		resp->u.features.values[0] = d->features.web_ui ? 1 : 0;
		break;
	default:
		resp->status = AMTP_AMT_STATUS_INVALID_PARAMETER;
		break;
	}
}

static void
dispatch(struct amtsim_device *d, const struct amtp_amthi_req *req,
    struct amtp_amthi_resp *resp)
{
	size_t i;

	switch (req->command) {
	case AMTP_AMTHI_GET_PROVISIONING_MODE:
		resp->u.provisioning_mode.mode = d->state == AMTSIM_POST ?
		    PROV_MODE_ENTERPRISE : PROV_MODE_NONE;
		break;
	case AMTP_AMTHI_UNPROVISION:
		resp->status = unprovision(d, req->arg);
		break;
	case AMTP_AMTHI_GET_PROVISIONING_STATE:
		resp->u.provisioning_state = (uint32_t)d->state;
		break;
	case AMTP_AMTHI_GET_CODE_VERSIONS:
		code_versions(d, resp);
		break;
	case AMTP_AMTHI_GET_SECURITY_PARAMETERS:
		security_parameters(d, resp);
		break;
	case AMTP_AMTHI_GET_MAC_ADDRESSES:
		memcpy(resp->u.macs.dedicated, d->mac_dedicated, 6);
		memcpy(resp->u.macs.host, d->mac_host, 6);
		break;
	case AMTP_AMTHI_START_CONFIGURATION:
		resp->status = start_configuration(d, 0, 0);
		break;
	case AMTP_AMTHI_START_CONFIGURATION_EX:
		resp->status = start_configuration(d, 1, req->arg);
		break;
	case AMTP_AMTHI_STOP_CONFIGURATION:
		resp->status = amtsim_device_event(d, AMTSIM_EV_STOP_CONFIG, 0);
		break;
	case AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP:
		resp->status = set_otp(d, req);
		break;
	case AMTP_AMTHI_GET_PROVISIONING_TLS_MODE:
		resp->u.tls_mode = TLS_MODE_PKI;
		break;
	case AMTP_AMTHI_ENUMERATE_HASH_HANDLES:
		for (i = 0; i < d->nhashes &&
		    i < AMTP_AMTHI_HASH_HANDLES_MAX; i++)
			resp->u.hash_handles.handles[i] = d->hashes[i].handle;
		resp->u.hash_handles.count = (uint32_t)i;
		break;
	case AMTP_AMTHI_GET_CERTIFICATE_HASH_ENTRY:
		resp->status = AMTP_AMT_STATUS_INVALID_HANDLE;
		for (i = 0; i < d->nhashes; i++) {
			const struct amtsim_hash *h = &d->hashes[i];

			if (h->handle != req->arg)
				continue;
			resp->status = AMTP_AMT_STATUS_SUCCESS;
			resp->u.hash_entry.is_default = h->is_default ? 1 : 0;
			resp->u.hash_entry.is_active = h->is_active ? 1 : 0;
			memcpy(resp->u.hash_entry.hash, h->hash,
			    sizeof(h->hash));
			resp->u.hash_entry.algorithm = h->algorithm;
			(void)amtp_strlcpy(resp->u.hash_entry.name, h->name,
			    sizeof(resp->u.hash_entry.name));
			break;
		}
		break;
	case AMTP_AMTHI_SET_DNS_SUFFIX:
		resp->status = set_dns_suffix(d, req);
		break;
	case AMTP_AMTHI_GET_ZERO_TOUCH_ENABLED:
		resp->u.zero_touch = 1;
		break;
	case AMTP_AMTHI_GET_PKI_FQDN_SUFFIX:
		resp->u.dns_suffix.len = amtp_strlcpy(resp->u.dns_suffix.s,
		    d->pki_dns_suffix, sizeof(resp->u.dns_suffix.s));
		break;
	case AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS:
		lan_settings(d, req->arg, resp);
		break;
	case AMTP_AMTHI_GET_FEATURES_STATE:
		features_state(d, req->arg, resp);
		break;
	case AMTP_AMTHI_GET_UUID:
		memcpy(resp->u.uuid, d->uuid, 16);
		break;
	case AMTP_AMTHI_GET_LOCAL_SYSTEM_ACCOUNT:
		if (!d->caps.local_account) {
			resp->status = AMTP_AMT_STATUS_INVALID_COMMAND;
			break;
		}
		(void)amtp_strlcpy(resp->u.account.user, d->local_user,
		    sizeof(resp->u.account.user));
		(void)amtp_strlcpy(resp->u.account.pass, d->local_pass,
		    sizeof(resp->u.account.pass));
		break;
	case AMTP_AMTHI_GET_CONTROL_MODE:
		resp->u.control_mode = d->control_mode;
		break;
	default:
		resp->status = AMTP_AMT_STATUS_INVALID_COMMAND;
		break;
	}
}

int
amtsim_host_handle(struct amtsim_device *d, const void *msg, size_t len,
    struct amtp_buf *out)
{
	struct amtp_amthi_req req;
	struct amtp_amthi_resp resp;
	uint32_t status;
	const char *name;
	int r;

	if (amtp_amthi_req_decode(msg, len, &req, &status) != 0) {
		amtp_amthi_resp_init(&resp,
		    req.command & ~AMTP_AMTHI_RESPONSE_BIT, status);
		name = amtp_amthi_cmd_name(req.command);
		log_debug("dev %u: request 0x%08x (%s, %zu bytes) refused: %s",
		    d->index, req.command, name != NULL ? name : "unknown",
		    len, amtp_amthi_status_name(status));
	} else {
		check_period(d);
		amtp_amthi_resp_init(&resp, req.command,
		    AMTP_AMT_STATUS_SUCCESS);
		dispatch(d, &req, &resp);
		log_debug("dev %u: %s -> %s", d->index,
		    amtp_amthi_cmd_name(req.command),
		    amtp_amthi_status_name(resp.status));
	}
	r = amtp_amthi_resp_encode(&resp, out);
	amtp_amthi_req_wipe(&req);
	amtp_amthi_resp_wipe(&resp);
	return r;
}
