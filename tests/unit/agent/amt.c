/*
 * amtprov - tests/unit/agent/amt.c: the agent's questions to the firmware
 * (src/agent/amt.c) over the real MEI transport (src/lib/mei.c, socket back
 * end) against a small scripted firmware in a thread that speaks through
 * the shared AMTHI codec.  The firmware can answer with error statuses,
 * malformed replies, stall, or close mid-exchange.  (The integration tests
 * run the agent against amtsim itself.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>

#include "amtprov/amthi.h"
#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/mei.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "agent.h"
#include "amt.h"

#include "fakefw.h"

static void
test_facts(void **state)
{
	struct fw *f = *state;
	struct agent_amt_facts *a = calloc(1, sizeof(*a));
	struct agent_err e;
	struct amtp_mei *m = open_fw(f, 2000);

	agent_err_init(&e);
	assert_int_equal(agent_amt_facts(m, a, &e), 0);
	assert_false(e.set);
	assert_int_equal(a->state, AMTP_AMT_STATE_PRE);
	assert_string_equal(a->amt_version, "11.8.50");
	assert_int_equal(a->ver_major, 11);
	assert_string_equal(a->build, "3425");
	assert_string_equal(a->sku, "16392");
	assert_string_equal(a->bios, "BIOS 1.2");
	/* SMBIOS byte order: the first three fields are little endian */
	assert_string_equal(a->uuid, "03020100-0504-0706-0809-0a0b0c0d0e0f");
	assert_string_equal(a->dns_suffix, "fleet.example.test");
	assert_string_equal(a->wired_addr, "127.20.0.5");
	assert_int_equal(a->wireless, 0);
	assert_int_equal(a->control_mode, AMTP_AMT_CONTROL_NONE);
	/* the MD5 entry is not sent (the site keeps SHA-1 and up) */
	assert_int_equal(a->nhashes, 2);
	assert_int_equal(a->hashes_skipped, 1);
	assert_int_equal(strlen(a->hashes[0].hex), 64);
	assert_string_equal(a->hashes[0].hex, "0101010101010101010101010101"
	    "010101010101010101010101010101010101");
	assert_int_equal(strlen(a->hashes[1].hex), 96);
	assert_int_equal(a->hashes[1].is_default, 0);
	/* firmware text is made printable before it reaches JSON */
	assert_string_equal(a->hashes[0].name, "Root 1?");
	amtp_mei_close(m);
	free(a);
}

static void
test_otp_and_activate(void **state)
{
	struct fw *f = *state;
	struct agent_err e;
	struct amtp_secret *otp;
	struct amtp_mei *m;
	const char *which;
	uint32_t st;

	f->wireless = 1;
	m = open_fw(f, 2000);
	agent_err_init(&e);
	assert_int_equal(amtp_secret_from_cstr("Abcdefghijklmnop12345678",
	    &otp), 0);
	assert_int_equal(agent_amt_set_otp(m, otp, &e), 0);
	assert_int_equal(agent_amt_activate(m, 11, &which, &e), 0);
	assert_string_equal(which, "StartConfigurationEx");
	assert_int_equal(agent_amt_state(m, &st, &e), 0);
	assert_int_equal(st, AMTP_AMT_STATE_IN);
	/* a second activation: the firmware's INVALID_AMT_MODE, exit 7 */
	assert_int_equal(agent_amt_activate(m, 11, &which, &e),
	    AMTP_E_AMT_STATUS);
	assert_string_equal(e.code, "firmware_status");
	assert_int_equal(e.exit, AGENT_EXIT_FIRMWARE);
	assert_non_null(strstr(e.msg, "INVALID_AMT_MODE"));
	amtp_mei_close(m);
	assert_string_equal(f->otp, "Abcdefghijklmnop12345678");
	assert_int_equal(f->started_with, AMTP_AMTHI_START_CONFIGURATION_EX);
	amtp_secret_free(otp);
}

static void
test_legacy_activation(void **state)
{
	struct fw *f = *state;
	struct agent_err e;
	struct amtp_mei *m = open_fw(f, 2000);
	const char *which;

	agent_err_init(&e);
	assert_int_equal(agent_amt_activate(m, 5, &which, &e), 0);
	assert_string_equal(which, "StartConfiguration");
	amtp_mei_close(m);
	assert_int_equal(f->started_with, AMTP_AMTHI_START_CONFIGURATION);
}

static void
test_firmware_errors(void **state)
{
	struct fw *f = *state;
	struct agent_amt_facts *a = calloc(1, sizeof(*a));
	struct agent_err e;
	struct amtp_mei *m;

	f->fail_cmd = AMTP_AMTHI_GET_CODE_VERSIONS;
	f->fail_status = AMTP_AMT_STATUS_INTERNAL_ERROR;
	m = open_fw(f, 2000);
	agent_err_init(&e);
	assert_int_equal(agent_amt_facts(m, a, &e), AMTP_E_AMT_STATUS);
	assert_int_equal(e.exit, AGENT_EXIT_FIRMWARE);
	assert_non_null(strstr(e.msg, "GetCodeVersions failed with status 1 "
	    "(INTERNAL_ERROR)"));
	amtp_mei_close(m);
	free(a);
}

static void
test_garbled(void **state)
{
	struct fw *f = *state;
	struct agent_err e;
	struct amtp_mei *m;
	uint32_t st;

	f->garble_cmd = AMTP_AMTHI_GET_PROVISIONING_STATE;
	m = open_fw(f, 2000);
	agent_err_init(&e);
	assert_int_equal(agent_amt_state(m, &st, &e), AMTP_E_PROTO);
	assert_string_equal(e.code, "firmware_bad_answer");
	assert_int_equal(e.exit, AGENT_EXIT_FIRMWARE);
	assert_non_null(strstr(e.msg, "GetProvisioningState"));
	amtp_mei_close(m);
}

static void
test_closed_mid_exchange(void **state)
{
	struct fw *f = *state;
	struct agent_amt_facts *a = calloc(1, sizeof(*a));
	struct agent_err e;
	struct amtp_mei *m;

	f->close_after = 2;
	m = open_fw(f, 2000);
	agent_err_init(&e);
	assert_int_equal(agent_amt_facts(m, a, &e), AMTP_E_CLOSED);
	assert_string_equal(e.code, "mei_closed");
	assert_int_equal(e.exit, AGENT_EXIT_MEI);
	/* the third command: GetUUID after state and versions */
	assert_non_null(strstr(e.msg, "during GetUUID"));
	amtp_mei_close(m);
	free(a);
}

static void
test_stall(void **state)
{
	struct fw *f = *state;
	struct agent_err e;
	struct amtp_mei *m;
	uint32_t st;

	f->stall_cmd = AMTP_AMTHI_GET_PROVISIONING_STATE;
	m = open_fw(f, 200);
	agent_err_init(&e);
	assert_int_equal(agent_amt_state(m, &st, &e), AMTP_E_TIMEOUT);
	assert_string_equal(e.code, "mei_timeout");
	assert_int_equal(e.exit, AGENT_EXIT_MEI);
	amtp_mei_close(m);
}

static void
test_open_errors(void **state)
{
	struct fw *f = *state;
	struct amtp_mei *m = NULL;
	struct agent_err e;
	char uri[128];

	agent_err_init(&e);
	assert_int_equal(agent_amt_open("unix:/nonexistent/0001.mei", 1000,
	    &m, &e), AMTP_E_NOTFOUND);
	assert_string_equal(e.code, "mei_missing");
	assert_int_equal(e.exit, AGENT_EXIT_MEI);
	agent_err_init(&e);
	assert_int_equal(agent_amt_open("/nonexistent/mei0", 1000, &m, &e),
	    AMTP_E_NOTFOUND);
	assert_string_equal(e.code, "mei_missing");
	agent_err_init(&e);
	assert_int_equal(agent_amt_open("", 1000, &m, &e), AMTP_E_INVAL);
	assert_int_equal(e.exit, AGENT_EXIT_USAGE);

	/* the device is there but refuses the AMTHI client */
	f->refuse_guid = 1;
	snprintf(uri, sizeof(uri), "unix:%s", f->path);
	agent_err_init(&e);
	assert_int_equal(agent_amt_open(uri, 1000, &m, &e),
	    AMTP_E_UNSUPPORTED);
	assert_string_equal(e.code, "amt_disabled");
	assert_int_equal(e.exit, AGENT_EXIT_NOT_PRE);
	assert_null(m);
}

static void
test_names(void **state)
{
	char u[AGENT_UUID_LEN + 1];
	const uint8_t b[16] = { 0x44, 0x45, 0x4c, 0x4c, 0, 0, 0x11, 0x11,
	    0x88, 0x88, 0, 0, 0, 0, 0, 0x0a };

	(void)state;
	assert_string_equal(agent_amt_state_name(0), "pre");
	assert_string_equal(agent_amt_state_name(2), "post");
	assert_string_equal(agent_amt_state_name(3), "unknown");
	assert_string_equal(agent_amt_control_name(1), "client");
	assert_string_equal(agent_amt_control_name(2), "admin");
	agent_amt_uuid_format(b, u);
	assert_string_equal(u, "4c4c4544-0000-1111-8888-00000000000a");
	assert_true(agent_is_uuid(u));
	assert_true(agent_is_uuid("4C4C4544-0000-1111-8888-00000000000A"));
	assert_false(agent_is_uuid("4c4c4544-0000-1111-8888-00000000000"));
	assert_false(agent_is_uuid("4c4c4544x0000-1111-8888-00000000000a"));
	assert_false(agent_is_uuid("4c4c4544-0000-1111-8888-00000000000g"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_facts, fw_setup,
		    fw_teardown),
		cmocka_unit_test_setup_teardown(test_otp_and_activate,
		    fw_setup, fw_teardown),
		cmocka_unit_test_setup_teardown(test_legacy_activation,
		    fw_setup, fw_teardown),
		cmocka_unit_test_setup_teardown(test_firmware_errors,
		    fw_setup, fw_teardown),
		cmocka_unit_test_setup_teardown(test_garbled, fw_setup,
		    fw_teardown),
		cmocka_unit_test_setup_teardown(test_closed_mid_exchange,
		    fw_setup, fw_teardown),
		cmocka_unit_test_setup_teardown(test_stall, fw_setup,
		    fw_teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, fw_setup,
		    fw_teardown),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
