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

struct fw {
	char		path[108];
	int		lfd;
	pthread_t	th;
	/* device */
	uint32_t	state, control;
	const char	*version;
	uint8_t		uuid[16];
	uint32_t	ipv4;
	int		wireless;
	char		otp[64];
	uint32_t	started_with;	/* command that activated */
	/* faults */
	int		refuse_guid;	/* close at the handshake */
	long		close_after;	/* answered requests before a cut */
	uint32_t	fail_cmd, fail_status;
	uint32_t	garble_cmd;	/* answer with another command code */
	uint32_t	stall_cmd;	/* never answer */
	long		answered;
};

static void
answer(struct fw *f, const struct amtp_amthi_req *q,
    struct amtp_amthi_resp *p)
{
	struct amtp_amthi_version *v;

	amtp_amthi_resp_init(p, q->command, AMTP_AMT_STATUS_SUCCESS);
	switch (q->command) {
	case AMTP_AMTHI_GET_PROVISIONING_STATE:
		p->u.provisioning_state = f->state;
		break;
	case AMTP_AMTHI_GET_CODE_VERSIONS:
		amtp_strlcpy(p->u.code_versions.bios, "BIOS 1.2",
		    sizeof(p->u.code_versions.bios));
		v = p->u.code_versions.v;
		amtp_strlcpy(v[0].desc, "Flash", sizeof(v[0].desc));
		amtp_strlcpy(v[0].ver, f->version, sizeof(v[0].ver));
		amtp_strlcpy(v[1].desc, "AMT", sizeof(v[1].desc));
		amtp_strlcpy(v[1].ver, f->version, sizeof(v[1].ver));
		amtp_strlcpy(v[2].desc, "Build Number", sizeof(v[2].desc));
		amtp_strlcpy(v[2].ver, "3425", sizeof(v[2].ver));
		amtp_strlcpy(v[3].desc, "Sku", sizeof(v[3].desc));
		amtp_strlcpy(v[3].ver, "16392", sizeof(v[3].ver));
		p->u.code_versions.count = 4;
		break;
	case AMTP_AMTHI_GET_UUID:
		memcpy(p->u.uuid, f->uuid, 16);
		break;
	case AMTP_AMTHI_GET_PKI_FQDN_SUFFIX:
		p->u.dns_suffix.len = amtp_strlcpy(p->u.dns_suffix.s,
		    "fleet.example.test", sizeof(p->u.dns_suffix.s));
		break;
	case AMTP_AMTHI_GET_CONTROL_MODE:
		p->u.control_mode = f->control;
		break;
	case AMTP_AMTHI_GET_LAN_INTERFACE_SETTINGS:
		if (q->arg == 1 && !f->wireless) {
			p->status = AMTP_AMT_STATUS_INTERFACE_DOES_NOT_EXIST;
			break;
		}
		p->u.lan.enabled = 1;
		p->u.lan.ipv4 = q->arg == 0 ? f->ipv4 : 0;
		p->u.lan.mac[5] = 7;
		break;
	case AMTP_AMTHI_ENUMERATE_HASH_HANDLES:
		p->u.hash_handles.count = 3;
		p->u.hash_handles.handles[0] = 1;
		p->u.hash_handles.handles[1] = 2;
		p->u.hash_handles.handles[2] = 3;
		break;
	case AMTP_AMTHI_GET_CERTIFICATE_HASH_ENTRY:
		p->u.hash_entry.is_active = 1;
		p->u.hash_entry.is_default = q->arg != 3;
		p->u.hash_entry.algorithm = q->arg == 1 ? AMTP_AMT_HASH_SHA256 :
		    q->arg == 2 ? AMTP_AMT_HASH_MD5 : AMTP_AMT_HASH_SHA384;
		memset(p->u.hash_entry.hash, (int)q->arg, 64);
		snprintf(p->u.hash_entry.name, sizeof(p->u.hash_entry.name),
		    "Root %u\x01", q->arg);
		break;
	case AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP:
		memcpy(f->otp, q->str, q->str_len);
		f->otp[q->str_len] = '\0';
		break;
	case AMTP_AMTHI_START_CONFIGURATION:
	case AMTP_AMTHI_START_CONFIGURATION_EX:
		if (f->state != AMTP_AMT_STATE_PRE) {
			p->status = AMTP_AMT_STATUS_INVALID_AMT_MODE;
			break;
		}
		f->state = AMTP_AMT_STATE_IN;
		f->started_with = q->command;
		break;
	default:
		p->status = AMTP_AMT_STATUS_INVALID_COMMAND;
	}
	if (q->command == f->fail_cmd)
		p->status = f->fail_status;
}

static void *
fw_main(void *arg)
{
	struct fw *f = arg;
	struct amtp_amthi_req q;
	struct amtp_amthi_resp p;
	struct amtp_buf *out = amtp_buf_new(AMTP_MEI_MSG_CAP);
	uint8_t in[AMTP_MEI_MSG_CAP], hello[8] = { 0x40, 0x10, 0, 0, 1 };
	uint32_t st;
	ssize_t n;
	int cfd;

	if ((cfd = accept(f->lfd, NULL, NULL)) == -1)
		goto out;
	if (recv(cfd, in, sizeof(in), 0) != 16 || f->refuse_guid ||
	    memcmp(in, amtp_mei_guid_amthi, 16) != 0)
		goto done;
	if (send(cfd, hello, sizeof(hello), 0) != sizeof(hello))
		goto done;
	while ((n = recv(cfd, in, sizeof(in), 0)) > 0) {
		if (f->close_after >= 0 && f->answered >= f->close_after)
			break;
		if (amtp_amthi_req_decode(in, (size_t)n, &q, &st) != 0)
			break;
		if (q.command == f->stall_cmd) {
			sleep(1);
			break;
		}
		answer(f, &q, &p);
		if (q.command == f->garble_cmd)
			p.command = AMTP_AMTHI_GET_UUID;
		amtp_buf_reset(out);
		if (amtp_amthi_resp_encode(&p, out) != 0)
			break;
		if (send(cfd, amtp_buf_ptr(out), amtp_buf_len(out), 0) !=
		    (ssize_t)amtp_buf_len(out))
			break;
		f->answered++;
	}
 done:
	close(cfd);
 out:
	amtp_buf_free(out);
	return NULL;
}

static int
fw_setup(void **state)
{
	struct fw *f = calloc(1, sizeof(*f));
	struct sockaddr_un sun;
	int i;

	assert_non_null(f);
	snprintf(f->path, sizeof(f->path), "/tmp/amtp_agent_fw.%d.mei",
	    (int)getpid());
	unlink(f->path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, f->path, strlen(f->path));
	f->lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	assert_int_equal(listen(f->lfd, 4), 0);
	f->state = AMTP_AMT_STATE_PRE;
	f->version = "11.8.50";
	for (i = 0; i < 16; i++)
		f->uuid[i] = (uint8_t)i;
	f->ipv4 = 0x7f140005;	/* 127.20.0.5 */
	f->close_after = -1;
	assert_int_equal(pthread_create(&f->th, NULL, fw_main, f), 0);
	*state = f;
	return 0;
}

static int
fw_teardown(void **state)
{
	struct fw *f = *state;

	struct sockaddr_un sun;
	int fd;

	/* wake an accept() still waiting: one connection that says nothing */
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, f->path, strlen(f->path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	(void)connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	pthread_join(f->th, NULL);
	close(f->lfd);
	unlink(f->path);
	free(f);
	return 0;
}

static struct amtp_mei *
open_fw(struct fw *f, int timeout_ms)
{
	struct amtp_mei *m = NULL;
	struct agent_err e;
	char uri[128];

	snprintf(uri, sizeof(uri), "unix:%s", f->path);
	agent_err_init(&e);
	assert_int_equal(agent_amt_open(uri, timeout_ms, &m, &e), 0);
	return m;
}

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
