/* Unit tests for src/amtsim/host.c: every AMTHI command the simulated
 * firmware answers, in every state, and its answers to malformed, unknown
 * and ill-timed requests.  Requests and responses go through the shared
 * codec, as on the wire. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "amtprov/amthi.h"
#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "device.h"
#include "host.h"

struct fixture {
	char			 dir[64];
	struct amtsim_fleet_ctx	 ctx;
	struct amtsim_device	*dev;	/* AMT 11.8.50, wired only */
	struct amtsim_device	*wdev;	/* AMT 6.2.10, wireless */
};

static struct amtsim_device *
make(struct fixture *f, unsigned index, const char *version, int wireless)
{
	struct amtsim_device_spec spec;
	struct amtsim_device *d = NULL;

	memset(&spec, 0, sizeof(spec));
	spec.index = index;
	spec.amt_version = version;
	spec.ipv4 = 0xC0A80105u;
	spec.wireless = wireless;
	spec.dhcp_dns_suffix = "fleet.example.test";
	spec.pki_dns_suffix = "corp.example";
	assert_int_equal(amtsim_device_create(&spec, NULL, &d), 0);
	amtsim_device_set_ctx(d, &f->ctx);
	assert_int_equal(amtsim_device_save(d), 0);
	return d;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/amtsim-host-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->ctx.dir = f->dir;
	f->ctx.no_fsync = 1;
	f->ctx.prov_period = 3600;
	f->dev = make(f, 1, "11.8.50", 0);
	f->wdev = make(f, 2, "6.2.10", 1);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	amtsim_device_free(f->dev);
	amtsim_device_free(f->wdev);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Sends raw bytes; returns the decoded response's code (0 or negative). */
static int
raw(struct amtsim_device *d, const void *msg, size_t len, uint32_t cmd,
    struct amtp_amthi_resp *resp, struct amtp_buf **keep)
{
	struct amtp_buf *out = amtp_buf_new(AMTP_MEI_MSG_CAP);
	int r;

	assert_non_null(out);
	assert_int_equal(amtsim_host_handle(d, msg, len, out), 0);
	assert_true(amtp_buf_len(out) >= AMTP_AMTHI_RESP_HDR_LEN);
	assert_true(amtp_buf_len(out) <= AMTP_MEI_SIM_MAX_MSG);
	r = amtp_amthi_resp_decode(cmd, amtp_buf_ptr(out), amtp_buf_len(out),
	    resp);
	if (keep != NULL)
		*keep = out;
	else
		amtp_buf_free(out);
	return r;
}

/* One request through the codec; returns the AMT status. */
static uint32_t
call(struct amtsim_device *d, const struct amtp_amthi_req *req,
    struct amtp_amthi_resp *resp)
{
	struct amtp_buf *b = amtp_buf_new(AMTP_MEI_MSG_CAP);
	int r;

	assert_int_equal(amtp_amthi_req_encode(req, b), 0);
	r = raw(d, amtp_buf_ptr(b), amtp_buf_len(b), req->command, resp, NULL);
	amtp_buf_free(b);
	assert_true(r == 0 || r == AMTP_E_AMT_STATUS);
	return resp->status;
}

static uint32_t
simple(struct amtsim_device *d, uint32_t cmd, uint32_t arg,
    struct amtp_amthi_resp *resp)
{
	struct amtp_amthi_req req;

	amtp_amthi_req_init(&req, cmd);
	req.arg = arg;
	return call(d, &req, resp);
}

static uint32_t
with_str(struct amtsim_device *d, uint32_t cmd, const char *s, int nul,
    struct amtp_amthi_resp *resp)
{
	struct amtp_amthi_req req;

	amtp_amthi_req_init(&req, cmd);
	req.str_len = strlen(s);
	memcpy(req.str, s, req.str_len);
	req.str_nul = nul;
	return call(d, &req, resp);
}

static void
test_identity_commands(void **state)
{
	struct fixture *f = *state;
	struct amtp_amthi_resp r;
	struct amtsim_device *d = f->dev;
	size_t i;
	int amt = 0;

	assert_int_equal(simple(d, AMTP_AMTHI_GET_UUID, 0, &r), 0);
	assert_memory_equal(r.u.uuid, d->uuid, 16);
	assert_int_equal(simple(d, AMTP_AMTHI_GET_CODE_VERSIONS, 0, &r), 0);
	assert_string_equal(r.u.code_versions.bios, d->bios_version);
	for (i = 0; i < r.u.code_versions.count; i++) {
		if (strcmp(r.u.code_versions.v[i].desc, "AMT") == 0) {
			assert_string_equal(r.u.code_versions.v[i].ver,
			    "11.8.50");
			amt = 1;
		}
		if (strcmp(r.u.code_versions.v[i].desc, "Build Number") == 0)
			assert_string_equal(r.u.code_versions.v[i].ver,
			    d->build_number);
		if (strcmp(r.u.code_versions.v[i].desc, "Sku") == 0)
			assert_string_equal(r.u.code_versions.v[i].ver, d->sku);
	}
	assert_true(amt);
	assert_int_equal(simple(d, AMTP_AMTHI_GET_MAC_ADDRESSES, 0, &r), 0);
	assert_memory_equal(r.u.macs.host, d->mac_host, 6);
	assert_int_equal(simple(d, AMTP_AMTHI_GET_PKI_FQDN_SUFFIX, 0, &r), 0);
	assert_string_equal(r.u.dns_suffix.s, "corp.example");
	assert_int_equal(simple(d, AMTP_AMTHI_GET_PROVISIONING_TLS_MODE, 0,
	    &r), 0);
	assert_int_equal(r.u.tls_mode, 2);
	assert_int_equal(simple(d, AMTP_AMTHI_GET_ZERO_TOUCH_ENABLED, 0, &r),
	    0);
	assert_int_equal(simple(d, AMTP_AMTHI_GET_PROVISIONING_MODE, 0, &r),
	    0);
	assert_int_equal(r.u.provisioning_mode.mode, 0);
	assert_int_equal(simple(d, AMTP_AMTHI_GET_CONTROL_MODE, 0, &r), 0);
	assert_int_equal(r.u.control_mode, 0);
	assert_int_equal(simple(d, AMTP_AMTHI_GET_SECURITY_PARAMETERS, 0, &r),
	    0);
	assert_int_equal(r.u.security[3], 0);	/* ProvisioningState */
	assert_int_equal(r.u.security[4], 0);	/* interface not active */
}

static void
test_hash_table(void **state)
{
	struct fixture *f = *state;
	struct amtp_amthi_resp r, e;
	struct amtsim_device *d = f->dev;
	uint32_t i;

	assert_int_equal(simple(d, AMTP_AMTHI_ENUMERATE_HASH_HANDLES, 0, &r),
	    0);
	assert_int_equal(r.u.hash_handles.count, d->nhashes);
	for (i = 0; i < r.u.hash_handles.count; i++) {
		assert_int_equal(simple(d,
		    AMTP_AMTHI_GET_CERTIFICATE_HASH_ENTRY,
		    r.u.hash_handles.handles[i], &e), 0);
		assert_int_equal(e.u.hash_entry.algorithm,
		    d->hashes[i].algorithm);
		assert_memory_equal(e.u.hash_entry.hash, d->hashes[i].hash,
		    32);
		assert_string_equal(e.u.hash_entry.name, d->hashes[i].name);
		assert_int_equal(e.u.hash_entry.is_default, 1);
	}
	assert_int_equal(simple(d, AMTP_AMTHI_GET_CERTIFICATE_HASH_ENTRY,
	    9999, &e), AMTP_AMT_STATUS_INVALID_HANDLE);
}

static void
test_lan_settings(void **state)
{
	struct fixture *f = *state;
	struct amtp_amthi_resp r;

	assert_int_equal(simple(f->dev, AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS,
	    0, &r), 0);
	assert_int_equal(r.u.lan.ipv4, 0xC0A80105u);
	assert_int_equal(r.u.lan.link_status, 1);
	assert_memory_equal(r.u.lan.mac, f->dev->mac_host, 6);
	/* no wireless on this one */
	assert_int_equal(simple(f->dev, AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS,
	    1, &r), AMTP_AMT_STATUS_INTERFACE_DOES_NOT_EXIST);
	assert_int_equal(simple(f->dev, AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS,
	    2, &r), AMTP_AMT_STATUS_INVALID_PARAMETER);
	/* wireless present */
	assert_int_equal(simple(f->wdev, AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS,
	    1, &r), 0);
	assert_memory_equal(r.u.lan.mac, f->wdev->mac_wireless, 6);
}

static void
test_features(void **state)
{
	struct fixture *f = *state;
	struct amtp_amthi_resp r;

	assert_int_equal(simple(f->dev, AMTP_AMTHI_GET_FEATURES_STATE, 0, &r),
	    0);
	assert_int_equal(r.u.features.count, 3);
	assert_int_equal(simple(f->dev, AMTP_AMTHI_GET_FEATURES_STATE, 2, &r),
	    0);
	assert_int_equal(r.u.features.values[0], 1);	/* web UI on */
	assert_int_equal(simple(f->dev, AMTP_AMTHI_GET_FEATURES_STATE, 1, &r),
	    0);
	assert_int_equal(r.u.features.values[0], 0);
	assert_int_equal(simple(f->dev, AMTP_AMTHI_GET_FEATURES_STATE, 3, &r),
	    AMTP_AMT_STATUS_INVALID_PARAMETER);
}

static void
test_local_account(void **state)
{
	struct fixture *f = *state;
	struct amtp_amthi_resp r;
	struct amtp_amthi_req req;
	struct amtp_buf *b = amtp_buf_new(256), *out = NULL;

	amtp_amthi_req_init(&req, AMTP_AMTHI_GET_LOCAL_SYSTEM_ACCOUNT);
	assert_int_equal(amtp_amthi_req_encode(&req, b), 0);
	assert_int_equal(raw(f->dev, amtp_buf_ptr(b), amtp_buf_len(b),
	    req.command, &r, &out), 0);
	assert_int_equal(amtp_buf_len(out), 16 + 68);	/* spec 1.4 */
	assert_string_equal(r.u.account.user, "$$OsAdmin");
	assert_string_equal(r.u.account.pass, f->dev->local_pass);
	amtp_buf_free(out);
	/* AMT 6 has no host-based setup */
	assert_int_equal(simple(f->wdev, AMTP_AMTHI_GET_LOCAL_SYSTEM_ACCOUNT,
	    0, &r), AMTP_AMT_STATUS_INVALID_COMMAND);
	amtp_buf_free(b);
}

/* The agent's flow, then the illegal moves in each state. */
static void
test_provisioning_flow(void **state)
{
	struct fixture *f = *state;
	struct amtp_amthi_resp r;
	struct amtsim_device *d = f->dev;

	/* PRE: stop and unprovision are illegal */
	assert_int_equal(simple(d, AMTP_AMTHI_STOP_CONFIGURATION, 0, &r),
	    AMTP_AMT_STATUS_INVALID_AMT_MODE);
	assert_int_equal(simple(d, AMTP_AMTHI_UNPROVISION, 0, &r),
	    AMTP_AMT_STATUS_INVALID_AMT_MODE);
	/* OTP in the Intel LMS form (NUL counted) */
	assert_int_equal(with_str(d, AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP,
	    "Abcdefgh1234567890ABCDEF", 1, &r), 0);
	assert_string_equal(d->otp, "Abcdefgh1234567890ABCDEF");
	assert_int_equal(d->otp_len, 24);
	/* and the old SDK form */
	assert_int_equal(with_str(d, AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP,
	    "Zyxwvuts98765432", 0, &r), 0);
	assert_string_equal(d->otp, "Zyxwvuts98765432");
	assert_int_equal(d->otp_len, 16);
	assert_int_equal(with_str(d, AMTP_AMTHI_SET_DNS_SUFFIX,
	    "fleet.example.test", 0, &r), 0);
	assert_string_equal(d->pki_dns_suffix, "fleet.example.test");
	/* IPv6Enable must be a boolean */
	assert_int_equal(simple(d, AMTP_AMTHI_START_CONFIGURATION_EX, 2, &r),
	    AMTP_AMT_STATUS_INVALID_PARAMETER);
	assert_int_equal(d->state, AMTSIM_PRE);
	assert_int_equal(simple(d, AMTP_AMTHI_START_CONFIGURATION_EX, 1, &r),
	    0);
	assert_int_equal(d->state, AMTSIM_IN);
	assert_int_equal(d->ipv6_enabled, 1);
	assert_int_equal(simple(d, AMTP_AMTHI_GET_PROVISIONING_STATE, 0, &r),
	    0);
	assert_int_equal(r.u.provisioning_state, AMTP_AMT_STATE_IN);
	assert_int_equal(simple(d, AMTP_AMTHI_GET_SECURITY_PARAMETERS, 0, &r),
	    0);
	assert_int_equal(r.u.security[4], 1);
	/* IN: starting again is illegal, in both forms */
	assert_int_equal(simple(d, AMTP_AMTHI_START_CONFIGURATION, 0, &r),
	    AMTP_AMT_STATUS_INVALID_AMT_MODE);
	assert_int_equal(simple(d, AMTP_AMTHI_START_CONFIGURATION_EX, 0, &r),
	    AMTP_AMT_STATUS_INVALID_AMT_MODE);
	/* IN: OTP may still be set */
	assert_int_equal(with_str(d, AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP,
	    "Abcdefgh", 0, &r), 0);
	/* IN -> PRE -> IN with the legacy command */
	assert_int_equal(simple(d, AMTP_AMTHI_STOP_CONFIGURATION, 0, &r), 0);
	assert_int_equal(d->state, AMTSIM_PRE);
	assert_int_equal(d->otp_len, 0);
	assert_int_equal(simple(d, AMTP_AMTHI_START_CONFIGURATION, 0, &r), 0);
	assert_int_equal(d->state, AMTSIM_IN);
	/* POST (the network side commits): host-side settings are closed */
	assert_int_equal(amtsim_device_event(d, AMTSIM_EV_COMMIT,
	    AMTP_AMT_CONTROL_ACM), 0);
	assert_int_equal(with_str(d, AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP,
	    "Abcdefgh", 0, &r), AMTP_AMT_STATUS_INVALID_AMT_MODE);
	assert_int_equal(with_str(d, AMTP_AMTHI_SET_DNS_SUFFIX, "x.test", 0,
	    &r), AMTP_AMT_STATUS_INVALID_AMT_MODE);
	assert_int_equal(simple(d, AMTP_AMTHI_STOP_CONFIGURATION, 0, &r),
	    AMTP_AMT_STATUS_INVALID_AMT_MODE);
	assert_int_equal(simple(d, AMTP_AMTHI_START_CONFIGURATION_EX, 0, &r),
	    AMTP_AMT_STATUS_INVALID_AMT_MODE);
	assert_int_equal(simple(d, AMTP_AMTHI_GET_CONTROL_MODE, 0, &r), 0);
	assert_int_equal(r.u.control_mode, AMTP_AMT_CONTROL_ACM);
	assert_int_equal(simple(d, AMTP_AMTHI_GET_PROVISIONING_MODE, 0, &r),
	    0);
	assert_int_equal(r.u.provisioning_mode.mode, 1);
	/* ACM is not left from the host */
	assert_int_equal(simple(d, AMTP_AMTHI_UNPROVISION, 0, &r),
	    AMTP_AMT_STATUS_NOT_PERMITTED);
	assert_int_equal(simple(d, AMTP_AMTHI_UNPROVISION, 2, &r),
	    AMTP_AMT_STATUS_INVALID_PARAMETER);
	/* CCM is */
	d->control_mode = AMTP_AMT_CONTROL_CCM;
	assert_int_equal(simple(d, AMTP_AMTHI_UNPROVISION, 1, &r), 0);
	assert_int_equal(d->state, AMTSIM_PRE);
	assert_int_equal(d->control_mode, 0);
	assert_string_equal(d->pki_dns_suffix, "");
	/* IN can be unprovisioned too */
	assert_int_equal(simple(d, AMTP_AMTHI_START_CONFIGURATION_EX, 0, &r),
	    0);
	assert_int_equal(simple(d, AMTP_AMTHI_UNPROVISION, 0, &r), 0);
	assert_int_equal(d->state, AMTSIM_PRE);
}

static void
test_period_expired_at_request(void **state)
{
	struct fixture *f = *state;
	struct amtp_amthi_resp r;
	struct amtsim_device *d = f->dev;

	assert_int_equal(simple(d, AMTP_AMTHI_START_CONFIGURATION_EX, 0, &r),
	    0);
	d->prov_deadline = (int64_t)time(NULL) - 1;	/* no loop: no timer */
	assert_int_equal(simple(d, AMTP_AMTHI_STOP_CONFIGURATION, 0, &r),
	    AMTP_AMT_STATUS_INVALID_AMT_MODE);
	assert_int_equal(simple(d, AMTP_AMTHI_GET_PROVISIONING_STATE, 0, &r),
	    0);
	assert_int_equal(r.u.provisioning_state, AMTP_AMT_STATE_PRE);
}

static void
test_bad_otp_and_suffix(void **state)
{
	struct fixture *f = *state;
	struct amtp_amthi_resp r;
	uint8_t msg[64];

	assert_int_equal(with_str(f->dev, AMTP_AMTHI_SET_DNS_SUFFIX,
	    "bad..name", 0, &r), AMTP_AMT_STATUS_INVALID_DOMAIN_NAME);
	/* a 7-byte OTP on the wire, built by hand (the encoder refuses) */
	memset(msg, 0, sizeof(msg));
	msg[0] = 1;
	msg[1] = 1;
	msg[4] = 0x2a;
	msg[7] = 0x04;
	msg[8] = 9;
	msg[12] = 7;
	memcpy(msg + 14, "abcdefg", 7);
	assert_int_equal(raw(f->dev, msg, 21,
	    AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP, &r, NULL),
	    AMTP_E_AMT_STATUS);
	assert_int_equal(r.status, AMTP_AMT_STATUS_INVALID_PARAMETER);
	assert_int_equal(f->dev->otp_len, 0);
}

/* Malformed and unknown requests: the right status, a well-formed reply
 * naming the command, and no change to the device. */
static void
test_malformed_requests(void **state)
{
	struct fixture *f = *state;
	struct amtp_amthi_resp r;
	struct amtp_buf *out;
	uint8_t msg[64];

	/* unknown command */
	memset(msg, 0, sizeof(msg));
	msg[0] = 1;
	msg[1] = 1;
	msg[4] = 0x99;
	msg[7] = 0x04;
	assert_int_equal(raw(f->dev, msg, 12, 0x04000099u, &r, &out),
	    AMTP_E_UNSUPPORTED);	/* the codec does not know it either */
	assert_int_equal(amtp_buf_len(out), 16);
	assert_memory_equal(amtp_buf_ptr(out), "\x01\x01\x00\x00\x99\x00"
	    "\x80\x04\x04\x00\x00\x00\x03\x08\x00\x00", 16);
	amtp_buf_free(out);
	/* StartConfigurationEx without its u32 */
	msg[4] = 0x62;
	assert_int_equal(raw(f->dev, msg, 12,
	    AMTP_AMTHI_START_CONFIGURATION_EX, &r, NULL), AMTP_E_AMT_STATUS);
	assert_int_equal(r.status, AMTP_AMT_STATUS_INVALID_MESSAGE_LENGTH);
	assert_int_equal(f->dev->state, AMTSIM_PRE);
	/* GetProvisioningState with a stray byte */
	msg[4] = 0x11;
	msg[8] = 1;
	assert_int_equal(raw(f->dev, msg, 13,
	    AMTP_AMTHI_GET_PROVISIONING_STATE, &r, NULL), AMTP_E_AMT_STATUS);
	assert_int_equal(r.status, AMTP_AMT_STATUS_INVALID_MESSAGE_LENGTH);
	/* header Length that lies */
	msg[8] = 4;
	assert_int_equal(raw(f->dev, msg, 12,
	    AMTP_AMTHI_GET_PROVISIONING_STATE, &r, NULL), AMTP_E_AMT_STATUS);
	assert_int_equal(r.status, AMTP_AMT_STATUS_INVALID_MESSAGE_LENGTH);
	/* bad version */
	msg[8] = 0;
	msg[0] = 3;
	assert_int_equal(raw(f->dev, msg, 12,
	    AMTP_AMTHI_GET_PROVISIONING_STATE, &r, NULL), AMTP_E_AMT_STATUS);
	assert_int_equal(r.status, AMTP_AMT_STATUS_UNSUPPORTED_VERSION);
	/* too short to name a command: answered as command 0 */
	out = amtp_buf_new(256);
	assert_int_equal(amtsim_host_handle(f->dev, msg, 5, out), 0);
	assert_int_equal(amtp_buf_len(out), 16);
	assert_memory_equal(amtp_buf_ptr(out), "\x01\x01\x00\x00\x00\x00"
	    "\x80\x00\x04\x00\x00\x00\x04\x00\x00\x00", 16);
	amtp_buf_reset(out);
	assert_int_equal(amtsim_host_handle(f->dev, msg, 0, out), 0);
	assert_int_equal(amtp_buf_len(out), 16);
	amtp_buf_free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity_commands, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hash_table, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lan_settings, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_features, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_local_account, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_provisioning_flow, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_period_expired_at_request,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_otp_and_suffix, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_malformed_requests, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
