/* Unit tests for src/lib/amthi.c: every command both ways, every length
 * error, the header checks and the exact bytes of the spec's examples. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "amtprov/amthi.h"
#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"

/* Every command the codec knows, with its request payload size (-1 for a
 * string) and a response prepared by fill_resp(). */
static const struct {
	uint32_t cmd;
	int req_len;
} all_cmds[] = {
	{ AMTP_AMTHI_GET_PROVISIONING_MODE, 0 },
	{ AMTP_AMTHI_UNPROVISION, 4 },
	{ AMTP_AMTHI_GET_PROVISIONING_STATE, 0 },
	{ AMTP_AMTHI_GET_CODE_VERSIONS, 0 },
	{ AMTP_AMTHI_GET_SECURITY_PARAMETERS, 0 },
	{ AMTP_AMTHI_GET_MAC_ADDRESSES, 0 },
	{ AMTP_AMTHI_START_CONFIGURATION, 0 },
	{ AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP, -1 },
	{ AMTP_AMTHI_GET_PROVISIONING_TLS_MODE, 0 },
	{ AMTP_AMTHI_ENUMERATE_HASH_HANDLES, 0 },
	{ AMTP_AMTHI_GET_CERTIFICATE_HASH_ENTRY, 4 },
	{ AMTP_AMTHI_SET_DNS_SUFFIX, -1 },
	{ AMTP_AMTHI_GET_ZERO_TOUCH_ENABLED, 0 },
	{ AMTP_AMTHI_GET_PKI_FQDN_SUFFIX, 0 },
	{ AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS, 4 },
	{ AMTP_AMTHI_GET_FEATURES_STATE, 4 },
	{ AMTP_AMTHI_GET_UUID, 0 },
	{ AMTP_AMTHI_STOP_CONFIGURATION, 0 },
	{ AMTP_AMTHI_START_CONFIGURATION_EX, 4 },
	{ AMTP_AMTHI_GET_LOCAL_SYSTEM_ACCOUNT, 40 },
	{ AMTP_AMTHI_GET_CONTROL_MODE, 0 },
};
#define NCMDS (sizeof(all_cmds) / sizeof(all_cmds[0]))

static struct amtp_buf *
encode_req(const struct amtp_amthi_req *req)
{
	struct amtp_buf *b = amtp_buf_new(AMTP_MEI_MSG_CAP);

	assert_non_null(b);
	assert_int_equal(amtp_amthi_req_encode(req, b), 0);
	return b;
}

static void
set_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
test_request_bytes(void **state)
{
	static const uint8_t want[] = { 0x01, 0x01, 0x00, 0x00, 0x11, 0x00,
	    0x00, 0x04, 0x00, 0x00, 0x00, 0x00 };
	static const uint8_t want_ex[] = { 0x01, 0x01, 0x00, 0x00, 0x62, 0x00,
	    0x00, 0x04, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00 };
	struct amtp_amthi_req req;
	struct amtp_buf *b;

	(void)state;
	amtp_amthi_req_init(&req, AMTP_AMTHI_GET_PROVISIONING_STATE);
	b = encode_req(&req);
	assert_int_equal(amtp_buf_len(b), sizeof(want));
	assert_memory_equal(amtp_buf_ptr(b), want, sizeof(want));
	amtp_buf_free(b);

	amtp_amthi_req_init(&req, AMTP_AMTHI_START_CONFIGURATION_EX);
	req.arg = 1;
	b = encode_req(&req);
	assert_int_equal(amtp_buf_len(b), sizeof(want_ex));
	assert_memory_equal(amtp_buf_ptr(b), want_ex, sizeof(want_ex));
	amtp_buf_free(b);
}

static void
test_request_roundtrip_all(void **state)
{
	struct amtp_amthi_req req, got;
	struct amtp_buf *b;
	uint32_t st;
	size_t i;

	(void)state;
	for (i = 0; i < NCMDS; i++) {
		amtp_amthi_req_init(&req, all_cmds[i].cmd);
		if (all_cmds[i].req_len == 4)
			req.arg = 1;
		if (all_cmds[i].req_len == -1) {
			req.str_len = (size_t)snprintf(req.str, sizeof(req.str),
			    "%s", all_cmds[i].cmd == AMTP_AMTHI_SET_DNS_SUFFIX ?
			    "fleet.example.test" : "Abcdefgh12345678");
		}
		b = encode_req(&req);
		assert_int_equal(amtp_buf_len(b), AMTP_AMTHI_HDR_LEN +
		    (all_cmds[i].req_len >= 0 ? (size_t)all_cmds[i].req_len :
		    2 + req.str_len));
		assert_int_equal(amtp_amthi_req_decode(amtp_buf_ptr(b),
		    amtp_buf_len(b), &got, &st), 0);
		assert_int_equal(st, AMTP_AMT_STATUS_SUCCESS);
		assert_int_equal(got.command, all_cmds[i].cmd);
		assert_int_equal(got.arg, req.arg);
		assert_int_equal(got.str_len, req.str_len);
		assert_string_equal(got.str, req.str);
		assert_non_null(amtp_amthi_cmd_name(all_cmds[i].cmd));
		amtp_buf_free(b);
	}
}

/* One byte more or less than the layout of each command, with the header
 * Length kept consistent: INVALID_MESSAGE_LENGTH every time.  A header
 * Length that disagrees with the bytes: the same. */
static void
test_request_length_errors_all(void **state)
{
	struct amtp_amthi_req req, got;
	uint8_t msg[AMTP_AMTHI_HDR_LEN + 64];
	uint32_t st;
	size_t i, plen;
	int d;

	(void)state;
	for (i = 0; i < NCMDS; i++) {
		if (all_cmds[i].req_len < 0)
			continue;
		for (d = -1; d <= 1; d += 2) {
			if (all_cmds[i].req_len == 0 && d < 0)
				continue;
			plen = (size_t)(all_cmds[i].req_len + d);
			memset(msg, 0, sizeof(msg));
			msg[0] = 1;
			msg[1] = 1;
			set_le32(msg + 4, all_cmds[i].cmd);
			set_le32(msg + 8, (uint32_t)plen);
			assert_int_not_equal(amtp_amthi_req_decode(msg,
			    AMTP_AMTHI_HDR_LEN + plen, &got, &st), 0);
			assert_int_equal(st,
			    AMTP_AMT_STATUS_INVALID_MESSAGE_LENGTH);
			assert_int_equal(got.command, all_cmds[i].cmd);
		}
		/* header says one thing, the message another */
		amtp_amthi_req_init(&req, all_cmds[i].cmd);
		memset(msg, 0, sizeof(msg));
		msg[0] = 1;
		msg[1] = 1;
		set_le32(msg + 4, all_cmds[i].cmd);
		set_le32(msg + 8, (uint32_t)all_cmds[i].req_len + 1);
		assert_int_not_equal(amtp_amthi_req_decode(msg,
		    AMTP_AMTHI_HDR_LEN + (size_t)all_cmds[i].req_len, &got,
		    &st), 0);
		assert_int_equal(st, AMTP_AMT_STATUS_INVALID_MESSAGE_LENGTH);
	}
}

static void
test_request_header_errors(void **state)
{
	uint8_t msg[AMTP_AMTHI_HDR_LEN] = { 1, 1, 0, 0, 0x11, 0, 0, 4,
	    0, 0, 0, 0 };
	struct amtp_amthi_req got;
	uint32_t st;
	size_t n;

	(void)state;
	/* every short message: no header */
	for (n = 0; n < AMTP_AMTHI_HDR_LEN; n++) {
		assert_int_equal(amtp_amthi_req_decode(msg, n, &got, &st),
		    AMTP_E_INCOMPLETE);
		assert_int_equal(st, AMTP_AMT_STATUS_INVALID_MESSAGE_LENGTH);
		assert_int_equal(got.command, n >= 8 ?
		    AMTP_AMTHI_GET_PROVISIONING_STATE : 0);
	}
	assert_int_equal(amtp_amthi_req_decode(msg, sizeof(msg), &got, &st), 0);
	msg[0] = 2;
	assert_int_equal(amtp_amthi_req_decode(msg, sizeof(msg), &got, &st),
	    AMTP_E_PROTO);
	assert_int_equal(st, AMTP_AMT_STATUS_UNSUPPORTED_VERSION);
	msg[0] = 1;
	msg[1] = 0;
	assert_int_equal(amtp_amthi_req_decode(msg, sizeof(msg), &got, &st),
	    AMTP_E_PROTO);
	assert_int_equal(st, AMTP_AMT_STATUS_UNSUPPORTED_VERSION);
	msg[1] = 2;	/* a newer minor is fine */
	assert_int_equal(amtp_amthi_req_decode(msg, sizeof(msg), &got, &st), 0);
	msg[1] = 1;
	msg[3] = 1;
	assert_int_equal(amtp_amthi_req_decode(msg, sizeof(msg), &got, &st),
	    AMTP_E_PROTO);
	assert_int_equal(st, AMTP_AMT_STATUS_INVALID_PARAMETER);
	msg[3] = 0;
	msg[6] = 0x80;	/* the response bit in a request */
	assert_int_equal(amtp_amthi_req_decode(msg, sizeof(msg), &got, &st),
	    AMTP_E_PROTO);
	assert_int_equal(st, AMTP_AMT_STATUS_INVALID_PARAMETER);
	msg[6] = 0;
	msg[4] = 0x99;	/* 0x04000099: unknown */
	assert_int_equal(amtp_amthi_req_decode(msg, sizeof(msg), &got, &st),
	    AMTP_E_UNSUPPORTED);
	assert_int_equal(st, AMTP_AMT_STATUS_INVALID_COMMAND);
	assert_int_equal(got.command, 0x04000099u);
	assert_null(amtp_amthi_cmd_name(0x04000099u));
}

/* OTP: both clients' forms, the 8..32 wire limits, NUL inside. */
static void
test_request_otp(void **state)
{
	struct amtp_amthi_req req, got;
	struct amtp_buf *b;
	uint8_t msg[AMTP_AMTHI_HDR_LEN + 2 + 40];
	uint32_t st;
	size_t n;

	(void)state;
	/* Intel LMS form: NUL counted */
	amtp_amthi_req_init(&req, AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP);
	req.str_len = 24;
	memset(req.str, 'A', 24);
	req.str_nul = 1;
	b = encode_req(&req);
	assert_int_equal(amtp_buf_len(b), 12 + 2 + 25);
	assert_int_equal(amtp_buf_ptr(b)[12], 25);
	assert_int_equal(amtp_buf_ptr(b)[12 + 2 + 24], 0);
	assert_int_equal(amtp_amthi_req_decode(amtp_buf_ptr(b), amtp_buf_len(b),
	    &got, &st), 0);
	assert_int_equal(got.str_len, 24);
	assert_int_equal(got.str_nul, 1);
	assert_memory_equal(got.str, req.str, 24);
	amtp_buf_free(b);
	/* old SDK form: no NUL */
	req.str_nul = 0;
	b = encode_req(&req);
	assert_int_equal(amtp_buf_len(b), 12 + 2 + 24);
	assert_int_equal(amtp_amthi_req_decode(amtp_buf_ptr(b), amtp_buf_len(b),
	    &got, &st), 0);
	assert_int_equal(got.str_len, 24);
	assert_int_equal(got.str_nul, 0);
	amtp_buf_free(b);

	/* wire lengths 7 and 33 are refused both ways; 8 and 32 pass */
	for (n = 6; n <= 34; n++) {
		int ok = n >= AMTP_OTP_MIN && n <= AMTP_OTP_MAX;

		memset(msg, 0, sizeof(msg));
		msg[0] = 1;
		msg[1] = 1;
		set_le32(msg + 4, AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP);
		set_le32(msg + 8, (uint32_t)(2 + n));
		msg[12] = (uint8_t)n;
		memset(msg + 14, 'x', n);
		assert_int_equal(amtp_amthi_req_decode(msg, 14 + n, &got,
		    &st) == 0, ok);
		assert_int_equal(st, ok ? AMTP_AMT_STATUS_SUCCESS :
		    AMTP_AMT_STATUS_INVALID_PARAMETER);
		/* with the NUL counted: wire n, visible n-1 */
		msg[14 + n - 1] = 0;
		assert_int_equal(amtp_amthi_req_decode(msg, 14 + n, &got,
		    &st) == 0, ok);
		if (ok)
			assert_int_equal(got.str_len, n - 1);

		amtp_amthi_req_init(&req,
		    AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP);
		memset(req.str, 'y', n);
		req.str_len = n;
		b = amtp_buf_new(256);
		assert_int_equal(amtp_amthi_req_encode(&req, b),
		    ok ? 0 : AMTP_E_RANGE);
		assert_int_equal(amtp_buf_len(b), ok ? 14 + n : 0);
		amtp_buf_free(b);
	}
	/* NUL inside */
	memset(msg, 0, sizeof(msg));
	msg[0] = 1;
	msg[1] = 1;
	set_le32(msg + 4, AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP);
	set_le32(msg + 8, 2 + 10);
	msg[12] = 10;
	memset(msg + 14, 'x', 10);
	msg[18] = 0;
	assert_int_equal(amtp_amthi_req_decode(msg, 24, &got, &st),
	    AMTP_E_EMBEDDED_NUL);
	assert_int_equal(st, AMTP_AMT_STATUS_INVALID_PARAMETER);
	/* u16 Length disagrees with the header */
	msg[18] = 'x';
	msg[12] = 9;
	assert_int_equal(amtp_amthi_req_decode(msg, 24, &got, &st),
	    AMTP_E_PROTO);
	assert_int_equal(st, AMTP_AMT_STATUS_INVALID_MESSAGE_LENGTH);
	/* header Length 1: not even the u16 */
	set_le32(msg + 8, 1);
	assert_int_equal(amtp_amthi_req_decode(msg, 13, &got, &st),
	    AMTP_E_INCOMPLETE);
	assert_int_equal(st, AMTP_AMT_STATUS_INVALID_MESSAGE_LENGTH);
	/* embedded NUL on encode */
	amtp_amthi_req_init(&req, AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP);
	memcpy(req.str, "abcd\0efgh", 9);
	req.str_len = 9;
	b = amtp_buf_new(256);
	assert_int_equal(amtp_amthi_req_encode(&req, b), AMTP_E_EMBEDDED_NUL);
	amtp_buf_free(b);
	amtp_amthi_req_wipe(&req);
	assert_int_equal(req.str_len, 0);
}

static void
dns_req(uint8_t *msg, size_t *len, const char *s, size_t n)
{
	memset(msg, 0, AMTP_AMTHI_HDR_LEN + 2);
	msg[0] = 1;
	msg[1] = 1;
	set_le32(msg + 4, AMTP_AMTHI_SET_DNS_SUFFIX);
	set_le32(msg + 8, (uint32_t)(2 + n));
	msg[12] = (uint8_t)n;
	msg[13] = (uint8_t)(n >> 8);
	memcpy(msg + 14, s, n);
	*len = 14 + n;
}

static void
test_request_dns_suffix(void **state)
{
	uint8_t msg[AMTP_AMTHI_HDR_LEN + 2 + 300];
	char big[300];
	struct amtp_amthi_req got, req;
	struct amtp_buf *b;
	uint32_t st;
	size_t len;

	(void)state;
	dns_req(msg, &len, "corp.example", 12);
	assert_int_equal(amtp_amthi_req_decode(msg, len, &got, &st), 0);
	assert_string_equal(got.str, "corp.example");
	/* a counted NUL is accepted too */
	dns_req(msg, &len, "corp.example", 13);
	assert_int_equal(amtp_amthi_req_decode(msg, len, &got, &st), 0);
	assert_string_equal(got.str, "corp.example");
	assert_int_equal(got.str_nul, 1);
	/* empty clears */
	dns_req(msg, &len, "", 0);
	assert_int_equal(amtp_amthi_req_decode(msg, len, &got, &st), 0);
	assert_int_equal(got.str_len, 0);
	/* bad names */
	dns_req(msg, &len, "a..b", 4);
	assert_int_equal(amtp_amthi_req_decode(msg, len, &got, &st),
	    AMTP_E_PARSE);
	assert_int_equal(st, AMTP_AMT_STATUS_INVALID_DOMAIN_NAME);
	dns_req(msg, &len, "a b", 3);
	assert_int_not_equal(amtp_amthi_req_decode(msg, len, &got, &st), 0);
	assert_int_equal(st, AMTP_AMT_STATUS_INVALID_DOMAIN_NAME);
	dns_req(msg, &len, "x.", 2);
	assert_int_not_equal(amtp_amthi_req_decode(msg, len, &got, &st), 0);
	/* at the limit and one over */
	memset(big, 'a', sizeof(big));
	for (len = 63; len < AMTP_AMTHI_FQDN_MAX; len += 64)
		big[len] = '.';
	dns_req(msg, &len, big, AMTP_AMTHI_FQDN_MAX);
	assert_int_equal(amtp_amthi_req_decode(msg, len, &got, &st), 0);
	assert_int_equal(got.str_len, AMTP_AMTHI_FQDN_MAX);
	dns_req(msg, &len, big, AMTP_AMTHI_FQDN_MAX + 1);
	assert_int_equal(amtp_amthi_req_decode(msg, len, &got, &st),
	    AMTP_E_RANGE);
	assert_int_equal(st, AMTP_AMT_STATUS_INVALID_DOMAIN_NAME);
	/* a 64-character label */
	dns_req(msg, &len, big, 64 + 1);
	msg[14 + 63] = 'a';
	msg[14 + 64] = 'a';
	assert_int_not_equal(amtp_amthi_req_decode(msg, len, &got, &st), 0);
	/* encoder limit */
	amtp_amthi_req_init(&req, AMTP_AMTHI_SET_DNS_SUFFIX);
	req.str_len = AMTP_AMTHI_FQDN_MAX + 1;
	b = amtp_buf_new(1024);
	assert_int_equal(amtp_amthi_req_encode(&req, b), AMTP_E_RANGE);
	req.str_len = 0;
	assert_int_equal(amtp_amthi_req_encode(&req, b), 0);
	assert_int_equal(amtp_buf_len(b), 14);
	amtp_buf_free(b);
	/* unknown command on encode; too small an output buffer */
	amtp_amthi_req_init(&req, 0x04000099u);
	b = amtp_buf_new(8);
	assert_int_equal(amtp_amthi_req_encode(&req, b), AMTP_E_UNSUPPORTED);
	amtp_amthi_req_init(&req, AMTP_AMTHI_GET_UUID);
	assert_int_equal(amtp_amthi_req_encode(&req, b), AMTP_E_TOOBIG);
	assert_int_equal(amtp_buf_len(b), 0);
	amtp_buf_free(b);
}

/* A response with a filled payload for every command. */
static void
fill_resp(struct amtp_amthi_resp *r, uint32_t cmd)
{
	size_t i;

	amtp_amthi_resp_init(r, cmd, AMTP_AMT_STATUS_SUCCESS);
	switch (cmd) {
	case AMTP_AMTHI_GET_PROVISIONING_STATE:
		r->u.provisioning_state = AMTP_AMT_STATE_IN;
		break;
	case AMTP_AMTHI_GET_CONTROL_MODE:
		r->u.control_mode = AMTP_AMT_CONTROL_ACM;
		break;
	case AMTP_AMTHI_GET_PROVISIONING_TLS_MODE:
		r->u.tls_mode = 2;
		break;
	case AMTP_AMTHI_GET_ZERO_TOUCH_ENABLED:
		r->u.zero_touch = 1;
		break;
	case AMTP_AMTHI_GET_PROVISIONING_MODE:
		r->u.provisioning_mode.mode = 1;
		r->u.provisioning_mode.legacy = 0;
		break;
	case AMTP_AMTHI_GET_CODE_VERSIONS:
		snprintf(r->u.code_versions.bios, sizeof(r->u.code_versions.bios),
		    "%s", "SIM.BIOS.0001");
		r->u.code_versions.count = 3;
		snprintf(r->u.code_versions.v[0].desc, 21, "AMT");
		snprintf(r->u.code_versions.v[0].ver, 21, "11.8.50");
		snprintf(r->u.code_versions.v[1].desc, 21, "Build Number");
		snprintf(r->u.code_versions.v[1].ver, 21, "3425");
		snprintf(r->u.code_versions.v[2].desc, 21, "Sku");
		snprintf(r->u.code_versions.v[2].ver, 21, "16392");
		break;
	case AMTP_AMTHI_GET_UUID:
		for (i = 0; i < 16; i++)
			r->u.uuid[i] = (uint8_t)(i * 7);
		break;
	case AMTP_AMTHI_GET_PKI_FQDN_SUFFIX:
		r->u.dns_suffix.len = (size_t)snprintf(r->u.dns_suffix.s,
		    sizeof(r->u.dns_suffix.s), "fleet.example.test");
		break;
	case AMTP_AMTHI_ENUMERATE_HASH_HANDLES:
		r->u.hash_handles.count = 3;
		r->u.hash_handles.handles[0] = 1;
		r->u.hash_handles.handles[1] = 2;
		r->u.hash_handles.handles[2] = 40;
		break;
	case AMTP_AMTHI_GET_CERTIFICATE_HASH_ENTRY:
		r->u.hash_entry.is_default = 1;
		r->u.hash_entry.is_active = 1;
		memset(r->u.hash_entry.hash, 0xab, 32);
		r->u.hash_entry.algorithm = AMTP_AMT_HASH_SHA256;
		snprintf(r->u.hash_entry.name, sizeof(r->u.hash_entry.name),
		    "Lab Root");
		break;
	case AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS:
		r->u.lan.enabled = 1;
		r->u.lan.ipv4 = 0xC0A80105;
		r->u.lan.dhcp_enabled = 1;
		r->u.lan.dhcp_ip_mode = 2;
		r->u.lan.link_status = 1;
		memcpy(r->u.lan.mac, "\x02\x00\x00\x00\x00\x07", 6);
		break;
	case AMTP_AMTHI_GET_SECURITY_PARAMETERS:
		for (i = 0; i < AMTP_AMTHI_SECURITY_WORDS; i++)
			r->u.security[i] = (uint32_t)(i & 1);
		break;
	case AMTP_AMTHI_GET_MAC_ADDRESSES:
		memcpy(r->u.macs.dedicated, "\x02\x00\x00\x00\x00\x01", 6);
		memcpy(r->u.macs.host, "\x02\x00\x00\x00\x00\x02", 6);
		break;
	case AMTP_AMTHI_GET_FEATURES_STATE:
		r->u.features.request_id = AMTP_AMT_FEATURE_REDIRECTION;
		r->u.features.count = 3;
		r->u.features.values[1] = 1;
		break;
	case AMTP_AMTHI_GET_LOCAL_SYSTEM_ACCOUNT:
		snprintf(r->u.account.user, sizeof(r->u.account.user),
		    "$$OsAdmin");
		snprintf(r->u.account.pass, sizeof(r->u.account.pass),
		    "P@ssw0rd-local-account");
		break;
	default:
		break;
	}
}

/* Payload size each command's success response has on the wire. */
static size_t
resp_payload_len(uint32_t cmd)
{
	switch (cmd) {
	case AMTP_AMTHI_GET_PROVISIONING_STATE:
	case AMTP_AMTHI_GET_CONTROL_MODE:
	case AMTP_AMTHI_GET_PROVISIONING_TLS_MODE:
	case AMTP_AMTHI_GET_ZERO_TOUCH_ENABLED:
		return 4;
	case AMTP_AMTHI_GET_PROVISIONING_MODE:
		return 8;
	case AMTP_AMTHI_GET_CODE_VERSIONS:
		return 65 + 4 + 3 * 44;
	case AMTP_AMTHI_GET_UUID:
		return 16;
	case AMTP_AMTHI_GET_PKI_FQDN_SUFFIX:
		return 2 + 18;
	case AMTP_AMTHI_ENUMERATE_HASH_HANDLES:
		return 4 + 12;
	case AMTP_AMTHI_GET_CERTIFICATE_HASH_ENTRY:
		return 75 + 8;
	case AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS:
		return 20;
	case AMTP_AMTHI_GET_SECURITY_PARAMETERS:
		return 68;
	case AMTP_AMTHI_GET_MAC_ADDRESSES:
		return 12;
	case AMTP_AMTHI_GET_FEATURES_STATE:
		return 16;
	case AMTP_AMTHI_GET_LOCAL_SYSTEM_ACCOUNT:
		return 68;
	default:
		return 0;
	}
}

static void
test_response_roundtrip_all(void **state)
{
	struct amtp_amthi_resp in, out;
	struct amtp_buf *b;
	size_t i;

	(void)state;
	for (i = 0; i < NCMDS; i++) {
		fill_resp(&in, all_cmds[i].cmd);
		b = amtp_buf_new(AMTP_MEI_MSG_CAP);
		assert_int_equal(amtp_amthi_resp_encode(&in, b), 0);
		assert_int_equal(amtp_buf_len(b), 16 +
		    resp_payload_len(all_cmds[i].cmd));
		assert_int_equal(amtp_amthi_resp_decode(all_cmds[i].cmd,
		    amtp_buf_ptr(b), amtp_buf_len(b), &out), 0);
		assert_int_equal(out.command, all_cmds[i].cmd);
		assert_int_equal(out.status, 0);
		if (all_cmds[i].cmd == AMTP_AMTHI_GET_PKI_FQDN_SUFFIX) {
			assert_string_equal(out.u.dns_suffix.s,
			    in.u.dns_suffix.s);
			assert_int_equal(out.u.dns_suffix.len, 18);
		} else
			assert_memory_equal(&in.u, &out.u, sizeof(in.u));
		amtp_buf_free(b);
	}
}

/* For each command: the success response with one payload byte removed or
 * added (header Length kept consistent) is refused. */
static void
test_response_length_errors_all(void **state)
{
	struct amtp_amthi_resp in, out;
	struct amtp_buf *b;
	uint8_t msg[AMTP_AMTHI_RESP_HDR_LEN + 512];
	size_t i, len;
	int r;

	(void)state;
	for (i = 0; i < NCMDS; i++) {
		uint32_t c = all_cmds[i].cmd;

		fill_resp(&in, c);
		b = amtp_buf_new(AMTP_MEI_MSG_CAP);
		assert_int_equal(amtp_amthi_resp_encode(&in, b), 0);
		len = amtp_buf_len(b);
		memset(msg, 0, sizeof(msg));
		memcpy(msg, amtp_buf_ptr(b), len);
		amtp_buf_free(b);
		/* one byte more */
		set_le32(msg + 8, (uint32_t)(len + 1 - 12));
		r = amtp_amthi_resp_decode(c, msg, len + 1, &out);
		if (c == AMTP_AMTHI_UNPROVISION)
			assert_int_equal(r, AMTP_E_PARSE);
		else
			assert_true(r == AMTP_E_PARSE ||
			    r == AMTP_E_INCOMPLETE);
		/* one byte fewer (when there is a payload) */
		if (len > 16) {
			set_le32(msg + 8, (uint32_t)(len - 1 - 12));
			r = amtp_amthi_resp_decode(c, msg, len - 1, &out);
			assert_true(r == AMTP_E_PARSE ||
			    r == AMTP_E_INCOMPLETE);
		}
		/* header Length disagreeing with the bytes read */
		set_le32(msg + 8, (uint32_t)(len - 12 + 4));
		assert_int_equal(amtp_amthi_resp_decode(c, msg, len, &out),
		    AMTP_E_PROTO);
		/* truncated below the status */
		assert_int_equal(amtp_amthi_resp_decode(c, msg, 15, &out),
		    AMTP_E_INCOMPLETE);
	}
}

static void
test_response_header_checks(void **state)
{
	struct amtp_amthi_resp in, out;
	struct amtp_buf *b = amtp_buf_new(256);
	uint8_t msg[32];
	size_t len;

	(void)state;
	fill_resp(&in, AMTP_AMTHI_GET_PROVISIONING_STATE);
	assert_int_equal(amtp_amthi_resp_encode(&in, b), 0);
	len = amtp_buf_len(b);
	assert_int_equal(len, 20);
	memcpy(msg, amtp_buf_ptr(b), len);
	/* exact bytes: 01 01 00 00 | 11 00 80 04 | 08 00 00 00 | 0 | 1 */
	assert_memory_equal(msg, "\x01\x01\x00\x00\x11\x00\x80\x04"
	    "\x08\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00", 20);
	amtp_buf_free(b);
	assert_int_equal(amtp_amthi_resp_decode(AMTP_AMTHI_GET_CONTROL_MODE,
	    msg, len, &out), AMTP_E_PROTO);	/* another command */
	msg[0] = 2;
	assert_int_equal(amtp_amthi_resp_decode(
	    AMTP_AMTHI_GET_PROVISIONING_STATE, msg, len, &out), AMTP_E_PROTO);
	msg[0] = 1;
	msg[1] = 0;
	assert_int_equal(amtp_amthi_resp_decode(
	    AMTP_AMTHI_GET_PROVISIONING_STATE, msg, len, &out), AMTP_E_PROTO);
	msg[1] = 1;
	msg[2] = 1;
	assert_int_equal(amtp_amthi_resp_decode(
	    AMTP_AMTHI_GET_PROVISIONING_STATE, msg, len, &out), AMTP_E_PROTO);
	msg[2] = 0;
	msg[6] = 0;	/* response bit missing */
	assert_int_equal(amtp_amthi_resp_decode(
	    AMTP_AMTHI_GET_PROVISIONING_STATE, msg, len, &out), AMTP_E_PROTO);
	msg[6] = 0x80;
	assert_int_equal(amtp_amthi_resp_decode(
	    AMTP_AMTHI_GET_PROVISIONING_STATE, msg, len, &out), 0);
	assert_int_equal(out.u.provisioning_state, 1);
	assert_int_equal(amtp_amthi_resp_decode(0x04000099u, msg, len, &out),
	    AMTP_E_UNSUPPORTED);
}

static void
test_response_status(void **state)
{
	struct amtp_amthi_resp in, out;
	struct amtp_buf *b = amtp_buf_new(256);

	(void)state;
	amtp_amthi_resp_init(&in, AMTP_AMTHI_STOP_CONFIGURATION,
	    AMTP_AMT_STATUS_INVALID_AMT_MODE);
	assert_int_equal(amtp_amthi_resp_encode(&in, b), 0);
	assert_int_equal(amtp_buf_len(b), 16);
	assert_int_equal(amtp_amthi_resp_decode(AMTP_AMTHI_STOP_CONFIGURATION,
	    amtp_buf_ptr(b), amtp_buf_len(b), &out), AMTP_E_AMT_STATUS);
	assert_int_equal(out.status, AMTP_AMT_STATUS_INVALID_AMT_MODE);
	assert_string_equal(amtp_amthi_status_name(out.status),
	    "INVALID_AMT_MODE");
	/* an error status with a payload of garbage: the status wins */
	amtp_buf_reset(b);
	fill_resp(&in, AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS);
	in.status = AMTP_AMT_STATUS_INTERFACE_DOES_NOT_EXIST;
	assert_int_equal(amtp_amthi_resp_encode(&in, b), 0);
	assert_int_equal(amtp_buf_len(b), 16);
	assert_int_equal(amtp_amthi_resp_decode(
	    AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS, amtp_buf_ptr(b),
	    amtp_buf_len(b), &out), AMTP_E_AMT_STATUS);
	assert_int_equal(out.status, 2501);
	/* CERTIFICATE_NOT_READY means started for StartConfiguration[Ex] */
	amtp_buf_reset(b);
	amtp_amthi_resp_init(&in, AMTP_AMTHI_START_CONFIGURATION_EX,
	    AMTP_AMT_STATUS_CERTIFICATE_NOT_READY);
	assert_int_equal(amtp_amthi_resp_encode(&in, b), 0);
	assert_int_equal(amtp_amthi_resp_decode(
	    AMTP_AMTHI_START_CONFIGURATION_EX, amtp_buf_ptr(b),
	    amtp_buf_len(b), &out), 0);
	assert_int_equal(out.status, 49);
	/* but not for another command */
	amtp_buf_reset(b);
	amtp_amthi_resp_init(&in, AMTP_AMTHI_STOP_CONFIGURATION,
	    AMTP_AMT_STATUS_CERTIFICATE_NOT_READY);
	assert_int_equal(amtp_amthi_resp_encode(&in, b), 0);
	assert_int_equal(amtp_amthi_resp_decode(AMTP_AMTHI_STOP_CONFIGURATION,
	    amtp_buf_ptr(b), amtp_buf_len(b), &out), AMTP_E_AMT_STATUS);
	assert_string_equal(amtp_amthi_status_name(0x12345), "UNKNOWN");
	amtp_buf_free(b);
}

/* Content checks beyond the size: counts over the limit, strings that
 * overflow their field, the 66-byte account reply, Unprovision's u32. */
static void
test_response_content(void **state)
{
	struct amtp_amthi_resp in, out;
	struct amtp_buf *b = amtp_buf_new(AMTP_MEI_MSG_CAP);
	uint8_t msg[1024];
	size_t len;

	(void)state;
	/* code versions: VersionsCount 51 */
	fill_resp(&in, AMTP_AMTHI_GET_CODE_VERSIONS);
	in.u.code_versions.count = AMTP_AMTHI_VERSIONS_MAX + 1;
	assert_int_equal(amtp_amthi_resp_encode(&in, b), AMTP_E_RANGE);
	in.u.code_versions.count = 3;
	assert_int_equal(amtp_amthi_resp_encode(&in, b), 0);
	len = amtp_buf_len(b);
	memcpy(msg, amtp_buf_ptr(b), len);
	set_le32(msg + 16 + 65, 51);
	assert_int_equal(amtp_amthi_resp_decode(AMTP_AMTHI_GET_CODE_VERSIONS,
	    msg, len, &out), AMTP_E_PARSE);
	set_le32(msg + 16 + 65, 3);
	msg[16 + 69] = 21;	/* DescLen over 20 */
	assert_int_equal(amtp_amthi_resp_decode(AMTP_AMTHI_GET_CODE_VERSIONS,
	    msg, len, &out), AMTP_E_PARSE);
	/* a version that fills all 20 bytes has no NUL: refused on encode */
	memset(in.u.code_versions.v[0].ver, '9', 20);
	in.u.code_versions.v[0].ver[20] = '\0';
	amtp_buf_reset(b);
	assert_int_equal(amtp_amthi_resp_encode(&in, b), AMTP_E_RANGE);

	/* hash handles: 65 */
	amtp_buf_reset(b);
	fill_resp(&in, AMTP_AMTHI_ENUMERATE_HASH_HANDLES);
	in.u.hash_handles.count = AMTP_AMTHI_HASH_HANDLES_MAX + 1;
	assert_int_equal(amtp_amthi_resp_encode(&in, b), AMTP_E_RANGE);
	in.u.hash_handles.count = AMTP_AMTHI_HASH_HANDLES_MAX;
	assert_int_equal(amtp_amthi_resp_encode(&in, b), 0);
	assert_int_equal(amtp_amthi_resp_decode(
	    AMTP_AMTHI_ENUMERATE_HASH_HANDLES, amtp_buf_ptr(b),
	    amtp_buf_len(b), &out), 0);
	assert_int_equal(out.u.hash_handles.count, 64);

	/* hash entry: name with a trailing NUL is read, NUL inside is not */
	amtp_buf_reset(b);
	fill_resp(&in, AMTP_AMTHI_GET_CERTIFICATE_HASH_ENTRY);
	assert_int_equal(amtp_amthi_resp_encode(&in, b), 0);
	len = amtp_buf_len(b);
	memcpy(msg, amtp_buf_ptr(b), len);
	msg[len] = 0;
	msg[16 + 73] = 9;
	set_le32(msg + 8, (uint32_t)(len + 1 - 12));
	assert_int_equal(amtp_amthi_resp_decode(
	    AMTP_AMTHI_GET_CERTIFICATE_HASH_ENTRY, msg, len + 1, &out), 0);
	assert_string_equal(out.u.hash_entry.name, "Lab Root");
	msg[16 + 75 + 2] = 0;
	assert_int_equal(amtp_amthi_resp_decode(
	    AMTP_AMTHI_GET_CERTIFICATE_HASH_ENTRY, msg, len + 1, &out),
	    AMTP_E_EMBEDDED_NUL);
	memset(in.u.hash_entry.name, 'n', sizeof(in.u.hash_entry.name));
	amtp_buf_reset(b);
	assert_int_equal(amtp_amthi_resp_encode(&in, b), AMTP_E_RANGE);

	/* the 66-byte account reply of Intel's clients is read */
	amtp_buf_reset(b);
	fill_resp(&in, AMTP_AMTHI_GET_LOCAL_SYSTEM_ACCOUNT);
	assert_int_equal(amtp_amthi_resp_encode(&in, b), 0);
	len = amtp_buf_len(b);
	memcpy(msg, amtp_buf_ptr(b), len);
	set_le32(msg + 8, (uint32_t)(len - 2 - 12));
	assert_int_equal(amtp_amthi_resp_decode(
	    AMTP_AMTHI_GET_LOCAL_SYSTEM_ACCOUNT, msg, len - 2, &out), 0);
	assert_string_equal(out.u.account.user, "$$OsAdmin");
	set_le32(msg + 8, (uint32_t)(len - 12));
	memset(msg + 16, 'u', 33);	/* user without its NUL */
	assert_int_equal(amtp_amthi_resp_decode(
	    AMTP_AMTHI_GET_LOCAL_SYSTEM_ACCOUNT, msg, len, &out), AMTP_E_PARSE);
	amtp_amthi_resp_wipe(&out);

	/* Unprovision: nothing, or rpc-go's trailing u32 */
	amtp_buf_reset(b);
	amtp_amthi_resp_init(&in, AMTP_AMTHI_UNPROVISION, 0);
	assert_int_equal(amtp_amthi_resp_encode(&in, b), 0);
	len = amtp_buf_len(b);
	assert_int_equal(len, 16);
	memcpy(msg, amtp_buf_ptr(b), len);
	memset(msg + 16, 0, 4);
	set_le32(msg + 8, 8);
	assert_int_equal(amtp_amthi_resp_decode(AMTP_AMTHI_UNPROVISION, msg,
	    20, &out), 0);

	/* suffix: u16 Length larger than the bytes */
	amtp_buf_reset(b);
	fill_resp(&in, AMTP_AMTHI_GET_PKI_FQDN_SUFFIX);
	assert_int_equal(amtp_amthi_resp_encode(&in, b), 0);
	len = amtp_buf_len(b);
	memcpy(msg, amtp_buf_ptr(b), len);
	msg[16] = 200;
	assert_int_equal(amtp_amthi_resp_decode(AMTP_AMTHI_GET_PKI_FQDN_SUFFIX,
	    msg, len, &out), AMTP_E_INCOMPLETE);
	in.u.dns_suffix.len = AMTP_AMTHI_FQDN_MAX + 1;
	amtp_buf_reset(b);
	assert_int_equal(amtp_amthi_resp_encode(&in, b), AMTP_E_RANGE);

	/* features: system defense has one boolean */
	amtp_buf_reset(b);
	amtp_amthi_resp_init(&in, AMTP_AMTHI_GET_FEATURES_STATE, 0);
	in.u.features.request_id = AMTP_AMT_FEATURE_WEB_UI;
	in.u.features.values[0] = 1;
	assert_int_equal(amtp_amthi_resp_encode(&in, b), 0);
	assert_int_equal(amtp_buf_len(b), 16 + 8);
	assert_int_equal(amtp_amthi_resp_decode(AMTP_AMTHI_GET_FEATURES_STATE,
	    amtp_buf_ptr(b), amtp_buf_len(b), &out), 0);
	assert_int_equal(out.u.features.count, 1);
	assert_int_equal(out.u.features.values[0], 1);

	/* output too small: nothing written */
	amtp_buf_free(b);
	b = amtp_buf_new(20);
	fill_resp(&in, AMTP_AMTHI_GET_CODE_VERSIONS);
	assert_int_equal(amtp_amthi_resp_encode(&in, b), AMTP_E_TOOBIG);
	assert_int_equal(amtp_buf_len(b), 0);
	in.command = 0x04000099u;
	assert_int_equal(amtp_amthi_resp_encode(&in, b), AMTP_E_UNSUPPORTED);
	amtp_buf_free(b);
}

static void
test_hash_len(void **state)
{
	(void)state;
	assert_int_equal(amtp_amthi_hash_len(AMTP_AMT_HASH_MD5), 16);
	assert_int_equal(amtp_amthi_hash_len(AMTP_AMT_HASH_SHA1), 20);
	assert_int_equal(amtp_amthi_hash_len(AMTP_AMT_HASH_SHA256), 32);
	assert_int_equal(amtp_amthi_hash_len(AMTP_AMT_HASH_SHA384), 48);
	assert_int_equal(amtp_amthi_hash_len(AMTP_AMT_HASH_SHA512), 64);
	assert_int_equal(amtp_amthi_hash_len(6), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_bytes),
		cmocka_unit_test(test_request_roundtrip_all),
		cmocka_unit_test(test_request_length_errors_all),
		cmocka_unit_test(test_request_header_errors),
		cmocka_unit_test(test_request_otp),
		cmocka_unit_test(test_request_dns_suffix),
		cmocka_unit_test(test_response_roundtrip_all),
		cmocka_unit_test(test_response_length_errors_all),
		cmocka_unit_test(test_response_header_checks),
		cmocka_unit_test(test_response_status),
		cmocka_unit_test(test_response_content),
		cmocka_unit_test(test_hash_len),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
