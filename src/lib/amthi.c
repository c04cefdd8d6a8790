/*
 * amtprov - amthi.c: the AMTHI host-interface codec (libamtp; used by the
 * agent and by amtsim).  See amthi.h and spec amt-facts.md 1.2-1.8.
 *
 * Decoders walk the message with an amtp_buf cursor, so nothing reads past
 * the end; every size is checked against the exact layout of the command
 * before a field is read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "amtprov/amthi.h"
#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/mei.h"

/* Request payload sizes.  VARIABLE: a u16-prefixed string. */
#define VARIABLE	((size_t)-1)

struct cmd_info {
	uint32_t	 code;
	const char	*name;
	size_t		 req_len;	/* payload bytes of a request */
};

static const struct cmd_info cmds[] = {
	{ AMTP_AMTHI_GET_PROVISIONING_MODE, "GetProvisioningMode", 0 },
	{ AMTP_AMTHI_UNPROVISION, "Unprovision", 4 },
	{ AMTP_AMTHI_GET_PROVISIONING_STATE, "GetProvisioningState", 0 },
	{ AMTP_AMTHI_GET_CODE_VERSIONS, "GetCodeVersions", 0 },
	{ AMTP_AMTHI_GET_SECURITY_PARAMETERS, "GetSecurityParameters", 0 },
	{ AMTP_AMTHI_GET_MAC_ADDRESSES, "GetMACAddresses", 0 },
	{ AMTP_AMTHI_START_CONFIGURATION, "StartConfiguration", 0 },
	{ AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP, "SetProvisioningServerOTP",
	    VARIABLE },
	{ AMTP_AMTHI_GET_PROVISIONING_TLS_MODE, "GetProvisioningTLSMode", 0 },
	{ AMTP_AMTHI_ENUMERATE_HASH_HANDLES, "EnumerateHashHandles", 0 },
	{ AMTP_AMTHI_GET_CERTIFICATE_HASH_ENTRY, "GetCertificateHashEntry", 4 },
	{ AMTP_AMTHI_SET_DNS_SUFFIX, "SetDnsSuffix", VARIABLE },
	{ AMTP_AMTHI_GET_ZERO_TOUCH_ENABLED, "GetZeroTouchEnabled", 0 },
	{ AMTP_AMTHI_GET_PKI_FQDN_SUFFIX, "GetPKIFQDNSuffix", 0 },
	{ AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS, "GetLANInterfaceSettings", 4 },
	{ AMTP_AMTHI_GET_FEATURES_STATE, "GetFeaturesState", 4 },
	{ AMTP_AMTHI_GET_UUID, "GetUUID", 0 },
	{ AMTP_AMTHI_STOP_CONFIGURATION, "StopConfiguration", 0 },
	{ AMTP_AMTHI_START_CONFIGURATION_EX, "StartConfigurationEx", 4 },
	{ AMTP_AMTHI_GET_LOCAL_SYSTEM_ACCOUNT, "GetLocalSystemAccount", 40 },
	{ AMTP_AMTHI_GET_CONTROL_MODE, "GetControlMode", 0 },
};

/* GetLocalSystemAccount request: 40 reserved bytes (spec 1.4). */
#define LOCAL_ACCOUNT_REQ_LEN	40
/* GetCodeVersions: fixed part and one entry (spec 1.5). */
#define CODE_VERSIONS_FIXED	(AMTP_AMTHI_BIOS_LEN + 4)
#define CODE_VERSION_ENTRY	(2 + AMTP_AMTHI_VSTRING_LEN + 2 + \
				    AMTP_AMTHI_VSTRING_LEN)
/* GetCertificateHashEntry: fixed part before the name (spec 1.7). */
#define HASH_ENTRY_FIXED	(4 + 4 + AMTP_AMTHI_HASH_LEN_MAX + 1 + 2)
/* GetLANInterfaceSettings payload (spec 1.8). */
#define LAN_SETTINGS_LEN	20
/* GetLocalSystemAccount reply: two 33-byte fields and 2 zero bytes (spec
 * 1.4: MeshCentral needs 68, the other clients read the first 66). */
#define ACCOUNT_REPLY_LEN	68
#define ACCOUNT_REPLY_MIN	66

static const struct cmd_info *
find_cmd(uint32_t code)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].code == code)
			return &cmds[i];
	return NULL;
}

const char *
amtp_amthi_cmd_name(uint32_t command)
{
	const struct cmd_info *c;

	c = find_cmd(command & ~AMTP_AMTHI_RESPONSE_BIT);
	return c == NULL ? NULL : c->name;
}

const char *
amtp_amthi_status_name(uint32_t status)
{
	switch (status) {
	case AMTP_AMT_STATUS_SUCCESS:
		return "SUCCESS";
	case AMTP_AMT_STATUS_INTERNAL_ERROR:
		return "INTERNAL_ERROR";
	case AMTP_AMT_STATUS_NOT_READY:
		return "NOT_READY";
	case AMTP_AMT_STATUS_INVALID_AMT_MODE:
		return "INVALID_AMT_MODE";
	case AMTP_AMT_STATUS_INVALID_MESSAGE_LENGTH:
		return "INVALID_MESSAGE_LENGTH";
	case AMTP_AMT_STATUS_NOT_PERMITTED:
		return "NOT_PERMITTED";
	case AMTP_AMT_STATUS_INVALID_DOMAIN_NAME:
		return "INVALID_DOMAIN_NAME";
	case AMTP_AMT_STATUS_UNSUPPORTED_VERSION:
		return "UNSUPPORTED_VERSION";
	case AMTP_AMT_STATUS_INVALID_PROVISIONING_STATE:
		return "INVALID_PROVISIONING_STATE";
	case AMTP_AMT_STATUS_INVALID_INDEX:
		return "INVALID_INDEX";
	case AMTP_AMT_STATUS_INVALID_PARAMETER:
		return "INVALID_PARAMETER";
	case AMTP_AMT_STATUS_FLASH_WRITE_LIMIT_EXCEEDED:
		return "FLASH_WRITE_LIMIT_EXCEEDED";
	case AMTP_AMT_STATUS_CERTIFICATE_NOT_READY:
		return "CERTIFICATE_NOT_READY";
	case AMTP_AMT_STATUS_INVALID_COMMAND:
		return "INVALID_COMMAND";
	case AMTP_AMT_STATUS_INVALID_HANDLE:
		return "INVALID_HANDLE";
	case AMTP_AMT_STATUS_UNSUPPORTED:
		return "UNSUPPORTED";
	case AMTP_AMT_STATUS_NOT_FOUND:
		return "NOT_FOUND";
	case AMTP_AMT_STATUS_BLOCKING_COMPONENT:
		return "BLOCKING_COMPONENT";
	case AMTP_AMT_STATUS_INTERFACE_DOES_NOT_EXIST:
		return "INTERFACE_DOES_NOT_EXIST";
	default:
		return "UNKNOWN";
	}
}

size_t
amtp_amthi_hash_len(uint32_t algorithm)
{
	switch (algorithm) {
	case AMTP_AMT_HASH_MD5:
		return 16;
	case AMTP_AMT_HASH_SHA1:
		return 20;
	case AMTP_AMT_HASH_SHA256:
		return 32;
	case AMTP_AMT_HASH_SHA384:
		return 48;
	case AMTP_AMT_HASH_SHA224:
		return 28;
	case AMTP_AMT_HASH_SHA512:
		return 64;
	default:
		return 0;
	}
}

void
amtp_amthi_req_init(struct amtp_amthi_req *req, uint32_t command)
{
	memset(req, 0, sizeof(*req));
	req->command = command;
}

void
amtp_amthi_req_wipe(struct amtp_amthi_req *req)
{
	explicit_bzero(req, sizeof(*req));
}

void
amtp_amthi_resp_init(struct amtp_amthi_resp *resp, uint32_t command,
    uint32_t status)
{
	memset(resp, 0, sizeof(*resp));
	resp->command = command;
	resp->status = status;
}

void
amtp_amthi_resp_wipe(struct amtp_amthi_resp *resp)
{
	explicit_bzero(resp, sizeof(*resp));
}

static int
put_header(struct amtp_buf *out, uint32_t command, uint32_t length)
{
	int r;

	if ((r = amtp_buf_put_u8(out, AMTP_AMTHI_VERSION_MAJOR)) != 0 ||
	    (r = amtp_buf_put_u8(out, AMTP_AMTHI_VERSION_MINOR)) != 0 ||
	    (r = amtp_buf_put_u16le(out, 0)) != 0 ||
	    (r = amtp_buf_put_u32le(out, command)) != 0 ||
	    (r = amtp_buf_put_u32le(out, length)) != 0)
		return r;
	return 0;
}

static void
le32(uint8_t *d, uint32_t v)
{
	d[0] = (uint8_t)v;
	d[1] = (uint8_t)(v >> 8);
	d[2] = (uint8_t)(v >> 16);
	d[3] = (uint8_t)(v >> 24);
}

int
amtp_amthi_req_encode(const struct amtp_amthi_req *req, struct amtp_buf *out)
{
	const struct cmd_info *c;
	size_t wire = 0, plen;
	uint8_t *d;
	int r;

	if ((c = find_cmd(req->command)) == NULL)
		return AMTP_E_UNSUPPORTED;
	if (c->req_len == VARIABLE) {
		if (req->str_len > AMTP_AMTHI_FQDN_MAX)
			return AMTP_E_RANGE;
		if (memchr(req->str, 0, req->str_len) != NULL)
			return AMTP_E_EMBEDDED_NUL;
		wire = req->str_len + (req->str_nul ? 1 : 0);
		if (req->command == AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP &&
		    (wire < AMTP_OTP_MIN || wire > AMTP_OTP_MAX))
			return AMTP_E_RANGE;
		plen = 2 + wire;
	} else
		plen = c->req_len;

	/* One reservation: out gets the whole message or nothing. */
	if ((r = amtp_buf_reserve(out, AMTP_AMTHI_HDR_LEN + plen, &d)) != 0)
		return r;
	memset(d, 0, AMTP_AMTHI_HDR_LEN + plen);
	d[0] = AMTP_AMTHI_VERSION_MAJOR;
	d[1] = AMTP_AMTHI_VERSION_MINOR;
	le32(d + 4, req->command);
	le32(d + 8, (uint32_t)plen);
	d += AMTP_AMTHI_HDR_LEN;
	if (c->req_len == VARIABLE) {
		d[0] = (uint8_t)wire;
		d[1] = (uint8_t)(wire >> 8);
		memcpy(d + 2, req->str, req->str_len);
		/* the counted NUL, if any, is already zero */
	} else if (plen == 4)
		le32(d, req->arg);
	/* GetLocalSystemAccount: 40 reserved zero bytes, already zero. */
	return 0;
}

/* True when s[0..len) is a DNS suffix we store: labels of letters, digits
 * and '-', separated by single dots; empty is allowed (clears it). */
static int
valid_dns_suffix(const char *s, size_t len)
{
	size_t i, label = 0;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return len == 0 || label > 0;
}

int
amtp_amthi_req_decode(const void *msg, size_t len, struct amtp_amthi_req *req,
    uint32_t *status)
{
	const uint8_t *p = msg;
	const struct cmd_info *c;
	uint32_t command, length;
	uint16_t slen, reserved;
	size_t n;

	memset(req, 0, sizeof(*req));
	*status = AMTP_AMT_STATUS_INVALID_MESSAGE_LENGTH;
	if (len >= 8)
		req->command = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
		    (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
	if (len < AMTP_AMTHI_HDR_LEN)
		return AMTP_E_INCOMPLETE;
	command = req->command;
	reserved = (uint16_t)(p[2] | p[3] << 8);
	length = (uint32_t)p[8] | (uint32_t)p[9] << 8 | (uint32_t)p[10] << 16 |
	    (uint32_t)p[11] << 24;
	if (p[0] != AMTP_AMTHI_VERSION_MAJOR ||
	    p[1] < AMTP_AMTHI_VERSION_MINOR) {
		*status = AMTP_AMT_STATUS_UNSUPPORTED_VERSION;
		return AMTP_E_PROTO;
	}
	if (reserved != 0 || (command & AMTP_AMTHI_RESPONSE_BIT) != 0) {
		*status = AMTP_AMT_STATUS_INVALID_PARAMETER;
		return AMTP_E_PROTO;
	}
	if ((c = find_cmd(command)) == NULL) {
		*status = AMTP_AMT_STATUS_INVALID_COMMAND;
		return AMTP_E_UNSUPPORTED;
	}
	if ((size_t)length != len - AMTP_AMTHI_HDR_LEN) {
		*status = AMTP_AMT_STATUS_INVALID_MESSAGE_LENGTH;
		return AMTP_E_PROTO;
	}
	p += AMTP_AMTHI_HDR_LEN;
	if (c->req_len != VARIABLE) {
		if (length != c->req_len) {
			*status = AMTP_AMT_STATUS_INVALID_MESSAGE_LENGTH;
			return AMTP_E_PROTO;
		}
		if (length == 4)
			req->arg = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
			    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		*status = AMTP_AMT_STATUS_SUCCESS;
		return 0;
	}

	/* u16 Length + bytes; header Length == 2 + u16 Length (spec 1.6). */
	if (length < 2) {
		*status = AMTP_AMT_STATUS_INVALID_MESSAGE_LENGTH;
		return AMTP_E_INCOMPLETE;
	}
	slen = (uint16_t)(p[0] | p[1] << 8);
	if ((size_t)slen != length - 2) {
		*status = AMTP_AMT_STATUS_INVALID_MESSAGE_LENGTH;
		return AMTP_E_PROTO;
	}
	p += 2;
	n = slen;
	if (command == AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP &&
	    (n < AMTP_OTP_MIN || n > AMTP_OTP_MAX)) {
		*status = AMTP_AMT_STATUS_INVALID_PARAMETER;
		return AMTP_E_RANGE;
	}
	/* Both forms are in use: strip one terminating NUL (spec 1.6). */
	if (n > 0 && p[n - 1] == 0) {
		n--;
		req->str_nul = 1;
	}
	if (n > AMTP_AMTHI_FQDN_MAX) {
		*status = command == AMTP_AMTHI_SET_DNS_SUFFIX ?
		    AMTP_AMT_STATUS_INVALID_DOMAIN_NAME :
		    AMTP_AMT_STATUS_INVALID_PARAMETER;
		return AMTP_E_RANGE;
	}
	if (memchr(p, 0, n) != NULL) {
		*status = AMTP_AMT_STATUS_INVALID_PARAMETER;
		return AMTP_E_EMBEDDED_NUL;
	}
	if (command == AMTP_AMTHI_SET_DNS_SUFFIX &&
	    !valid_dns_suffix((const char *)p, n)) {
		*status = AMTP_AMT_STATUS_INVALID_DOMAIN_NAME;
		return AMTP_E_PARSE;
	}
	memcpy(req->str, p, n);
	req->str[n] = '\0';
	req->str_len = n;
	*status = AMTP_AMT_STATUS_SUCCESS;
	return 0;
}

/* Writes a fixed-size NUL-padded field of exactly size bytes from s. */
static int
put_fixed(struct amtp_buf *out, const char *s, size_t size)
{
	size_t n = strnlen(s, size);
	int r;

	if ((r = amtp_buf_put(out, s, n)) != 0)
		return r;
	return amtp_buf_put_zero(out, size - n);
}

/* The payload of a SUCCESS response. */
static int
put_payload(const struct amtp_amthi_resp *resp, struct amtp_buf *out)
{
	const struct amtp_amthi_hash_entry *h;
	const struct amtp_amthi_lan *l;
	size_t i, n;
	int r = 0;

	switch (resp->command) {
	case AMTP_AMTHI_GET_PROVISIONING_STATE:
		return amtp_buf_put_u32le(out, resp->u.provisioning_state);
	case AMTP_AMTHI_GET_CONTROL_MODE:
		return amtp_buf_put_u32le(out, resp->u.control_mode);
	case AMTP_AMTHI_GET_PROVISIONING_TLS_MODE:
		return amtp_buf_put_u32le(out, resp->u.tls_mode);
	case AMTP_AMTHI_GET_ZERO_TOUCH_ENABLED:
		return amtp_buf_put_u32le(out, resp->u.zero_touch);
	case AMTP_AMTHI_GET_PROVISIONING_MODE:
		if ((r = amtp_buf_put_u32le(out,
		    resp->u.provisioning_mode.mode)) != 0)
			return r;
		return amtp_buf_put_u32le(out, resp->u.provisioning_mode.legacy);
	case AMTP_AMTHI_GET_CODE_VERSIONS:
		if (resp->u.code_versions.count > AMTP_AMTHI_VERSIONS_MAX)
			return AMTP_E_RANGE;
		if ((r = put_fixed(out, resp->u.code_versions.bios,
		    AMTP_AMTHI_BIOS_LEN)) != 0 ||
		    (r = amtp_buf_put_u32le(out,
		    resp->u.code_versions.count)) != 0)
			return r;
		for (i = 0; i < resp->u.code_versions.count; i++) {
			const struct amtp_amthi_version *v =
			    &resp->u.code_versions.v[i];

			/* Lengths exclude the NUL, which must fit in the
			 * 20 bytes for the version (spec 1.5). */
			n = strnlen(v->desc, AMTP_AMTHI_VSTRING_LEN);
			if ((r = amtp_buf_put_u16le(out, (uint16_t)n)) != 0 ||
			    (r = put_fixed(out, v->desc,
			    AMTP_AMTHI_VSTRING_LEN)) != 0)
				return r;
			n = strnlen(v->ver, AMTP_AMTHI_VSTRING_LEN);
			if (n == AMTP_AMTHI_VSTRING_LEN)
				return AMTP_E_RANGE;
			if ((r = amtp_buf_put_u16le(out, (uint16_t)n)) != 0 ||
			    (r = put_fixed(out, v->ver,
			    AMTP_AMTHI_VSTRING_LEN)) != 0)
				return r;
		}
		return 0;
	case AMTP_AMTHI_GET_UUID:
		return amtp_buf_put(out, resp->u.uuid, 16);
	case AMTP_AMTHI_GET_PKI_FQDN_SUFFIX:
		n = resp->u.dns_suffix.len;
		if (n > AMTP_AMTHI_FQDN_MAX)
			return AMTP_E_RANGE;
		if ((r = amtp_buf_put_u16le(out, (uint16_t)n)) != 0)
			return r;
		return amtp_buf_put(out, resp->u.dns_suffix.s, n);
	case AMTP_AMTHI_ENUMERATE_HASH_HANDLES:
		if (resp->u.hash_handles.count > AMTP_AMTHI_HASH_HANDLES_MAX)
			return AMTP_E_RANGE;
		if ((r = amtp_buf_put_u32le(out,
		    resp->u.hash_handles.count)) != 0)
			return r;
		for (i = 0; i < resp->u.hash_handles.count; i++)
			if ((r = amtp_buf_put_u32le(out,
			    resp->u.hash_handles.handles[i])) != 0)
				return r;
		return 0;
	case AMTP_AMTHI_GET_CERTIFICATE_HASH_ENTRY:
		h = &resp->u.hash_entry;
		n = strnlen(h->name, AMTP_AMTHI_HASH_NAME_MAX + 1);
		if (n > AMTP_AMTHI_HASH_NAME_MAX)
			return AMTP_E_RANGE;
		/* Nothing after the name (spec 1.7: exact size). */
		if ((r = amtp_buf_put_u32le(out, h->is_default)) != 0 ||
		    (r = amtp_buf_put_u32le(out, h->is_active)) != 0 ||
		    (r = amtp_buf_put(out, h->hash,
		    AMTP_AMTHI_HASH_LEN_MAX)) != 0 ||
		    (r = amtp_buf_put_u8(out, h->algorithm)) != 0 ||
		    (r = amtp_buf_put_u16le(out, (uint16_t)n)) != 0)
			return r;
		return amtp_buf_put(out, h->name, n);
	case AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS:
		l = &resp->u.lan;
		if ((r = amtp_buf_put_u32le(out, l->enabled)) != 0 ||
		    (r = amtp_buf_put_u32le(out, l->ipv4)) != 0 ||
		    (r = amtp_buf_put_u32le(out, l->dhcp_enabled)) != 0 ||
		    (r = amtp_buf_put_u8(out, l->dhcp_ip_mode)) != 0 ||
		    (r = amtp_buf_put_u8(out, l->link_status)) != 0)
			return r;
		return amtp_buf_put(out, l->mac, 6);
	case AMTP_AMTHI_GET_SECURITY_PARAMETERS:
		for (i = 0; i < AMTP_AMTHI_SECURITY_WORDS; i++)
			if ((r = amtp_buf_put_u32le(out,
			    resp->u.security[i])) != 0)
				return r;
		return 0;
	case AMTP_AMTHI_GET_MAC_ADDRESSES:
		if ((r = amtp_buf_put(out, resp->u.macs.dedicated, 6)) != 0)
			return r;
		return amtp_buf_put(out, resp->u.macs.host, 6);
	case AMTP_AMTHI_GET_FEATURES_STATE:
		n = resp->u.features.request_id ==
		    AMTP_AMT_FEATURE_REDIRECTION ? 3 : 1;
		if ((r = amtp_buf_put_u32le(out,
		    resp->u.features.request_id)) != 0)
			return r;
		for (i = 0; i < n; i++)
			if ((r = amtp_buf_put_u32le(out,
			    resp->u.features.values[i])) != 0)
				return r;
		return 0;
	case AMTP_AMTHI_GET_LOCAL_SYSTEM_ACCOUNT:
		if (strnlen(resp->u.account.user, AMTP_AMTHI_ACCOUNT_FIELD) ==
		    AMTP_AMTHI_ACCOUNT_FIELD ||
		    strnlen(resp->u.account.pass, AMTP_AMTHI_ACCOUNT_FIELD) ==
		    AMTP_AMTHI_ACCOUNT_FIELD)
			return AMTP_E_RANGE;
		if ((r = put_fixed(out, resp->u.account.user,
		    AMTP_AMTHI_ACCOUNT_FIELD)) != 0 ||
		    (r = put_fixed(out, resp->u.account.pass,
		    AMTP_AMTHI_ACCOUNT_FIELD)) != 0)
			return r;
		return amtp_buf_put_zero(out,
		    ACCOUNT_REPLY_LEN - 2 * AMTP_AMTHI_ACCOUNT_FIELD);
	case AMTP_AMTHI_UNPROVISION:
	case AMTP_AMTHI_START_CONFIGURATION:
	case AMTP_AMTHI_START_CONFIGURATION_EX:
	case AMTP_AMTHI_STOP_CONFIGURATION:
	case AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP:
	case AMTP_AMTHI_SET_DNS_SUFFIX:
		return 0;
	default:
		return AMTP_E_UNSUPPORTED;
	}
}

int
amtp_amthi_resp_encode(const struct amtp_amthi_resp *resp,
    struct amtp_buf *out)
{
	struct amtp_buf *tmp = NULL;
	int r;

	/* Build into a scratch buffer so that out only ever receives a
	 * whole message (and the header Length is known). */
	if ((tmp = amtp_buf_new(AMTP_MEI_MSG_CAP)) == NULL)
		return AMTP_E_NOMEM;
	if (resp->status == AMTP_AMT_STATUS_SUCCESS &&
	    (r = put_payload(resp, tmp)) != 0)
		goto out;
	if (amtp_buf_len(tmp) > AMTP_MEI_MSG_CAP - AMTP_AMTHI_RESP_HDR_LEN) {
		r = AMTP_E_TOOBIG;
		goto out;
	}
	if (amtp_buf_avail(out) < AMTP_AMTHI_RESP_HDR_LEN + amtp_buf_len(tmp)) {
		r = AMTP_E_TOOBIG;
		goto out;
	}
	if ((r = put_header(out, resp->command | AMTP_AMTHI_RESPONSE_BIT,
	    (uint32_t)(4 + amtp_buf_len(tmp)))) != 0 ||
	    (r = amtp_buf_put_u32le(out, resp->status)) != 0 ||
	    (r = amtp_buf_put(out, amtp_buf_ptr(tmp), amtp_buf_len(tmp))) != 0)
		goto out;
	r = 0;
 out:
	amtp_buf_free(tmp);
	return r;
}

/* Reads exactly size bytes of a NUL-padded fixed field into dst (size+1),
 * stopping at the first NUL. */
static int
get_fixed(struct amtp_buf *b, char *dst, size_t size)
{
	size_t n;
	int r;

	if ((r = amtp_buf_get(b, dst, size)) != 0)
		return r;
	/* Nothing after the first NUL is kept: a string is its text. */
	n = strnlen(dst, size);
	memset(dst + n, 0, size + 1 - n);
	return 0;
}

/* A u16-length string at the end of a reply: no bytes may follow.  One
 * trailing NUL is tolerated and dropped; a NUL inside is refused. */
static int
get_tail_string(struct amtp_buf *b, char *dst, size_t max, size_t *outlen)
{
	uint16_t n;
	size_t len;
	int r;

	if ((r = amtp_buf_get_u16le(b, &n)) != 0)
		return r;
	if (n != amtp_buf_len(b))
		return n > amtp_buf_len(b) ? AMTP_E_INCOMPLETE : AMTP_E_PARSE;
	len = n;
	if (len > 0 && amtp_buf_ptr(b)[len - 1] == 0)
		len--;
	if (len > max)
		return AMTP_E_PARSE;
	if (memchr(amtp_buf_ptr(b), 0, len) != NULL)
		return AMTP_E_EMBEDDED_NUL;
	memcpy(dst, amtp_buf_ptr(b), len);
	dst[len] = '\0';
	if (outlen != NULL)
		*outlen = len;
	return amtp_buf_consume(b, n);
}

/* Requires exactly want payload bytes. */
static int
want_len(const struct amtp_buf *b, size_t want)
{
	if (amtp_buf_len(b) < want)
		return AMTP_E_INCOMPLETE;
	if (amtp_buf_len(b) > want)
		return AMTP_E_PARSE;
	return 0;
}

static int
get_payload(struct amtp_buf *b, struct amtp_amthi_resp *resp)
{
	struct amtp_amthi_hash_entry *h;
	struct amtp_amthi_lan *l;
	uint32_t count, i;
	uint16_t dl, vl;
	size_t len = amtp_buf_len(b);
	int r;

	switch (resp->command) {
	case AMTP_AMTHI_GET_PROVISIONING_STATE:
	case AMTP_AMTHI_GET_CONTROL_MODE:
	case AMTP_AMTHI_GET_PROVISIONING_TLS_MODE:
	case AMTP_AMTHI_GET_ZERO_TOUCH_ENABLED:
		if ((r = want_len(b, 4)) != 0)
			return r;
		/* The u32 members of the union share one place. */
		return amtp_buf_get_u32le(b, &resp->u.provisioning_state);
	case AMTP_AMTHI_GET_PROVISIONING_MODE:
		if ((r = want_len(b, 8)) != 0)
			return r;
		(void)amtp_buf_get_u32le(b, &resp->u.provisioning_mode.mode);
		return amtp_buf_get_u32le(b, &resp->u.provisioning_mode.legacy);
	case AMTP_AMTHI_GET_CODE_VERSIONS:
		if (len < CODE_VERSIONS_FIXED)
			return AMTP_E_INCOMPLETE;
		(void)get_fixed(b, resp->u.code_versions.bios,
		    AMTP_AMTHI_BIOS_LEN);
		(void)amtp_buf_get_u32le(b, &count);
		if (count > AMTP_AMTHI_VERSIONS_MAX)
			return AMTP_E_PARSE;
		if ((r = want_len(b, (size_t)count * CODE_VERSION_ENTRY)) != 0)
			return r;
		resp->u.code_versions.count = count;
		for (i = 0; i < count; i++) {
			struct amtp_amthi_version *v =
			    &resp->u.code_versions.v[i];

			(void)amtp_buf_get_u16le(b, &dl);
			(void)get_fixed(b, v->desc, AMTP_AMTHI_VSTRING_LEN);
			(void)amtp_buf_get_u16le(b, &vl);
			(void)get_fixed(b, v->ver, AMTP_AMTHI_VSTRING_LEN);
			if (dl > AMTP_AMTHI_VSTRING_LEN ||
			    vl > AMTP_AMTHI_VSTRING_LEN)
				return AMTP_E_PARSE;
			/* Lengths exclude the NUL; keep what they count. */
			memset(v->desc + dl, 0, sizeof(v->desc) - dl);
			memset(v->ver + vl, 0, sizeof(v->ver) - vl);
		}
		return 0;
	case AMTP_AMTHI_GET_UUID:
		if ((r = want_len(b, 16)) != 0)
			return r;
		return amtp_buf_get(b, resp->u.uuid, 16);
	case AMTP_AMTHI_GET_PKI_FQDN_SUFFIX:
		return get_tail_string(b, resp->u.dns_suffix.s,
		    AMTP_AMTHI_FQDN_MAX, &resp->u.dns_suffix.len);
	case AMTP_AMTHI_ENUMERATE_HASH_HANDLES:
		if ((r = amtp_buf_get_u32le(b, &count)) != 0)
			return r;
		if (count > AMTP_AMTHI_HASH_HANDLES_MAX)
			return AMTP_E_PARSE;
		if ((r = want_len(b, (size_t)count * 4)) != 0)
			return r;
		resp->u.hash_handles.count = count;
		for (i = 0; i < count; i++)
			(void)amtp_buf_get_u32le(b,
			    &resp->u.hash_handles.handles[i]);
		return 0;
	case AMTP_AMTHI_GET_CERTIFICATE_HASH_ENTRY:
		h = &resp->u.hash_entry;
		if (len < HASH_ENTRY_FIXED)
			return AMTP_E_INCOMPLETE;
		(void)amtp_buf_get_u32le(b, &h->is_default);
		(void)amtp_buf_get_u32le(b, &h->is_active);
		(void)amtp_buf_get(b, h->hash, AMTP_AMTHI_HASH_LEN_MAX);
		(void)amtp_buf_get_u8(b, &h->algorithm);
		return get_tail_string(b, h->name, AMTP_AMTHI_HASH_NAME_MAX,
		    NULL);
	case AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS:
		l = &resp->u.lan;
		if ((r = want_len(b, LAN_SETTINGS_LEN)) != 0)
			return r;
		(void)amtp_buf_get_u32le(b, &l->enabled);
		(void)amtp_buf_get_u32le(b, &l->ipv4);
		(void)amtp_buf_get_u32le(b, &l->dhcp_enabled);
		(void)amtp_buf_get_u8(b, &l->dhcp_ip_mode);
		(void)amtp_buf_get_u8(b, &l->link_status);
		return amtp_buf_get(b, l->mac, 6);
	case AMTP_AMTHI_GET_SECURITY_PARAMETERS:
		if ((r = want_len(b, 4 * AMTP_AMTHI_SECURITY_WORDS)) != 0)
			return r;
		for (i = 0; i < AMTP_AMTHI_SECURITY_WORDS; i++)
			(void)amtp_buf_get_u32le(b, &resp->u.security[i]);
		return 0;
	case AMTP_AMTHI_GET_MAC_ADDRESSES:
		if ((r = want_len(b, 12)) != 0)
			return r;
		(void)amtp_buf_get(b, resp->u.macs.dedicated, 6);
		return amtp_buf_get(b, resp->u.macs.host, 6);
	case AMTP_AMTHI_GET_FEATURES_STATE:
		if ((r = amtp_buf_get_u32le(b,
		    &resp->u.features.request_id)) != 0)
			return r;
		count = resp->u.features.request_id ==
		    AMTP_AMT_FEATURE_REDIRECTION ? 3 : 1;
		if ((r = want_len(b, (size_t)count * 4)) != 0)
			return r;
		resp->u.features.count = count;
		for (i = 0; i < count; i++)
			(void)amtp_buf_get_u32le(b,
			    &resp->u.features.values[i]);
		return 0;
	case AMTP_AMTHI_GET_LOCAL_SYSTEM_ACCOUNT:
		if (len != ACCOUNT_REPLY_LEN && len != ACCOUNT_REPLY_MIN)
			return len < ACCOUNT_REPLY_MIN ? AMTP_E_INCOMPLETE :
			    AMTP_E_PARSE;
		/* Each field must hold its NUL. */
		if (memchr(amtp_buf_ptr(b), 0, AMTP_AMTHI_ACCOUNT_FIELD) ==
		    NULL || memchr(amtp_buf_ptr(b) + AMTP_AMTHI_ACCOUNT_FIELD,
		    0, AMTP_AMTHI_ACCOUNT_FIELD) == NULL)
			return AMTP_E_PARSE;
		(void)get_fixed(b, resp->u.account.user,
		    AMTP_AMTHI_ACCOUNT_FIELD);
		(void)get_fixed(b, resp->u.account.pass,
		    AMTP_AMTHI_ACCOUNT_FIELD);
		return amtp_buf_consume(b, amtp_buf_len(b));
	case AMTP_AMTHI_UNPROVISION:
		/* Intel's parser expects nothing, rpc-go reads a u32. */
		if (len != 0 && len != 4)
			return AMTP_E_PARSE;
		return amtp_buf_consume(b, len);
	case AMTP_AMTHI_START_CONFIGURATION:
	case AMTP_AMTHI_START_CONFIGURATION_EX:
	case AMTP_AMTHI_STOP_CONFIGURATION:
	case AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP:
	case AMTP_AMTHI_SET_DNS_SUFFIX:
		return want_len(b, 0);
	default:
		return AMTP_E_UNSUPPORTED;
	}
}

int
amtp_amthi_resp_decode(uint32_t command, const void *msg, size_t len,
    struct amtp_amthi_resp *resp)
{
	const uint8_t *p = msg;
	struct amtp_buf *b = NULL;
	uint32_t code, length, status;
	int r;

	amtp_amthi_resp_init(resp, command, AMTP_AMT_STATUS_INTERNAL_ERROR);
	if (find_cmd(command) == NULL)
		return AMTP_E_UNSUPPORTED;
	if (len < AMTP_AMTHI_RESP_HDR_LEN)
		return AMTP_E_INCOMPLETE;
	if (len > AMTP_MEI_MSG_CAP)
		return AMTP_E_TOOBIG;
	code = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
	    (uint32_t)p[7] << 24;
	length = (uint32_t)p[8] | (uint32_t)p[9] << 8 |
	    (uint32_t)p[10] << 16 | (uint32_t)p[11] << 24;
	status = (uint32_t)p[12] | (uint32_t)p[13] << 8 |
	    (uint32_t)p[14] << 16 | (uint32_t)p[15] << 24;
	if (p[0] != AMTP_AMTHI_VERSION_MAJOR ||
	    p[1] < AMTP_AMTHI_VERSION_MINOR || p[2] != 0 || p[3] != 0 ||
	    code != (command | AMTP_AMTHI_RESPONSE_BIT) ||
	    (size_t)length != len - AMTP_AMTHI_HDR_LEN)
		return AMTP_E_PROTO;
	resp->status = status;
	if (status != AMTP_AMT_STATUS_SUCCESS &&
	    !(status == AMTP_AMT_STATUS_CERTIFICATE_NOT_READY &&
	    (command == AMTP_AMTHI_START_CONFIGURATION ||
	    command == AMTP_AMTHI_START_CONFIGURATION_EX)))
		return AMTP_E_AMT_STATUS;
	if ((b = amtp_buf_from(p + AMTP_AMTHI_RESP_HDR_LEN,
	    len - AMTP_AMTHI_RESP_HDR_LEN, AMTP_MEI_MSG_CAP)) == NULL)
		return AMTP_E_NOMEM;
	if ((r = get_payload(b, resp)) != 0)
		goto out;
	if (amtp_buf_len(b) != 0) {
		r = AMTP_E_PARSE;
		goto out;
	}
	r = 0;
 out:
	if (r != 0) {
		status = resp->status;
		amtp_amthi_resp_wipe(resp);
		resp->command = command;
		resp->status = status;
	}
	amtp_buf_free(b);
	return r;
}

int
amtp_amthi_call(struct amtp_mei *mei, const struct amtp_amthi_req *req,
    struct amtp_amthi_resp *resp)
{
	struct amtp_buf *out = NULL, *in = NULL;
	int r;

	amtp_amthi_resp_init(resp, req->command, AMTP_AMT_STATUS_INTERNAL_ERROR);
	if ((out = amtp_buf_new(AMTP_MEI_MSG_CAP)) == NULL ||
	    (in = amtp_buf_new(AMTP_MEI_MSG_CAP)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	if ((r = amtp_amthi_req_encode(req, out)) != 0)
		goto out;
	if ((r = amtp_mei_transact(mei, amtp_buf_ptr(out), amtp_buf_len(out),
	    in)) != 0)
		goto out;
	r = amtp_amthi_resp_decode(req->command, amtp_buf_ptr(in),
	    amtp_buf_len(in), resp);
 out:
	amtp_buf_free(out);	/* wiped: it held the OTP */
	amtp_buf_free(in);
	return r;
}
