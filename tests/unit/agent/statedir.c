/*
 * amtprov - tests/unit/agent/statedir.c: the agent's state folder
 * (src/agent/statedir.c), its configuration file (config.c) and the DMI
 * UUID reader (run.c), on real files in a temporary folder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "agent.h"
#include "config.h"
#include "run.h"
#include "statedir.h"

#define UUID	"4c4c4544-0000-1111-8888-00000000000a"
#define TOKEN	UUID ".AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd"

static char dir[64];

static void
put(const char *name, const char *text, mode_t mode)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, mode), 0);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/amtp_agent_sd.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_token(void **state)
{
	struct amtp_secret *t = NULL;
	struct agent_err e;
	char sub[128], p[160];
	struct stat st;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/state", dir);
	agent_err_init(&e);
	assert_int_equal(agent_statedir_prepare(sub, &e), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(agent_statedir_prepare(sub, &e), 0);
	/* none yet */
	assert_int_equal(agent_statedir_load_token(sub, UUID, &t, &e), 0);
	assert_null(t);
	assert_int_equal(agent_statedir_save_token(sub, TOKEN, &e), 0);
	snprintf(p, sizeof(p), "%s/agent.token", sub);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(agent_statedir_load_token(sub, UUID, &t, &e), 0);
	assert_non_null(t);
	assert_string_equal(amtp_secret_cstr(t), TOKEN);
	amtp_secret_free(t);
	/* upper-case UUID given: the same agent */
	assert_int_equal(agent_statedir_load_token(sub,
	    "4C4C4544-0000-1111-8888-00000000000A", &t, &e), 0);
	assert_non_null(t);
	amtp_secret_free(t);
	/* another identity: register again (no token, no error) */
	assert_int_equal(agent_statedir_load_token(sub,
	    "4c4c4544-0000-1111-8888-00000000000b", &t, &e), 0);
	assert_null(t);
	assert_false(e.set);
	/* a token file others can read is refused, with the file named */
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(agent_statedir_load_token(sub, UUID, &t, &e),
	    AMTP_E_PERM);
	assert_int_equal(e.exit, AGENT_EXIT_USAGE);
	assert_non_null(strstr(e.msg, "agent.token"));
	assert_null(t);
	/* a state folder that is a file */
	put("file", "x", 0600);
	snprintf(sub, sizeof(sub), "%s/file", dir);
	agent_err_init(&e);
	assert_int_equal(agent_statedir_prepare(sub, &e), AMTP_E_IO);
	agent_err_init(&e);
	assert_int_equal(agent_statedir_prepare("", &e), AMTP_E_CONFIG);
}

static void
test_lock(void **state)
{
	struct agent_err e;
	int fd1 = -1, fd2 = -1;
	struct timespec t0, t1;
	long ms;

	(void)state;
	agent_err_init(&e);
	assert_int_equal(agent_statedir_lock(dir, 0, &fd1, &e), 0);
	assert_true(fd1 >= 0);
	/* a second run waits, then gives up with its own code */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(agent_statedir_lock(dir, 300, &fd2, &e), AMTP_E_BUSY);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
	assert_true(ms >= 300);
	assert_int_equal(fd2, -1);
	assert_string_equal(e.code, "state_busy");
	assert_non_null(strstr(e.msg, "another amtprov-agent run"));
	agent_statedir_unlock(fd1);
	agent_err_init(&e);
	assert_int_equal(agent_statedir_lock(dir, 0, &fd2, &e), 0);
	agent_statedir_unlock(fd2);
	agent_statedir_unlock(-1);
}

static void
test_record(void **state)
{
	struct agent_record r, back;
	struct agent_err e;
	int found;

	(void)state;
	agent_err_init(&e);
	assert_int_equal(agent_statedir_load_record(dir, UUID, &back, &found,
	    &e), 0);
	assert_int_equal(found, 0);
	memset(&r, 0, sizeof(r));
	amtp_strlcpy(r.amt_uuid, UUID, sizeof(r.amt_uuid));
	amtp_strlcpy(r.command, "StartConfigurationEx", sizeof(r.command));
	amtp_strlcpy(r.site, "https://127.0.0.1:8443", sizeof(r.site));
	r.activated_at = 1790000000;
	assert_int_equal(agent_statedir_save_record(dir, &r, &e), 0);
	assert_int_equal(agent_statedir_load_record(dir, UUID, &back, &found,
	    &e), 0);
	assert_int_equal(found, 1);
	assert_string_equal(back.command, "StartConfigurationEx");
	assert_string_equal(back.site, "https://127.0.0.1:8443");
	assert_int_equal(back.activated_at, 1790000000);
	/* a record for another firmware (the board was swapped) */
	assert_int_equal(agent_statedir_load_record(dir,
	    "4c4c4544-0000-1111-8888-00000000000b", &back, &found, &e), 0);
	assert_int_equal(found, 0);
	assert_string_equal(back.amt_uuid, "");
	/* damaged: ignored, not fatal */
	put("provisioned.json", "{\"amt_uuid\":", 0600);
	assert_int_equal(agent_statedir_load_record(dir, UUID, &back, &found,
	    &e), 0);
	assert_int_equal(found, 0);
	put("provisioned.json", "{\"amt_uuid\":\"" UUID "\",\"amt_uuid\":\""
	    UUID "\"}", 0600);
	assert_int_equal(agent_statedir_load_record(dir, UUID, &back, &found,
	    &e), 0);
	assert_int_equal(found, 0);
	assert_false(e.set);
}

static void
test_dmi(void **state)
{
	char u[AGENT_UUID_LEN + 1], p[128];

	(void)state;
	snprintf(p, sizeof(p), "%s/product_uuid", dir);
	put("product_uuid", "4C4C4544-0000-1111-8888-00000000000A\n", 0400);
	assert_int_equal(agent_read_dmi_uuid(p, u), 0);
	assert_string_equal(u, UUID);
	put("product_uuid", "00000000-0000-0000-0000-000000000000\n", 0600);
	assert_int_equal(agent_read_dmi_uuid(p, u), AMTP_E_NOTFOUND);
	put("product_uuid", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", 0600);
	assert_int_equal(agent_read_dmi_uuid(p, u), AMTP_E_NOTFOUND);
	put("product_uuid", "not a uuid\n", 0600);
	assert_int_equal(agent_read_dmi_uuid(p, u), AMTP_E_NOTFOUND);
	assert_string_equal(u, "");
	assert_int_equal(agent_read_dmi_uuid("/nonexistent/product_uuid", u),
	    AMTP_E_NOTFOUND);
}

static void
test_config(void **state)
{
	struct agent_opts o;
	char p[128], err[512];

	(void)state;
	snprintf(p, sizeof(p), "%s/agent.conf", dir);
	agent_opts_init(&o);
	/* the default path may be missing; a given one may not */
	assert_int_equal(agent_config_load(p, 0, &o, err, sizeof(err)), 0);
	assert_string_equal(o.mei_uri, "/dev/mei0");
	assert_int_equal(agent_config_load(p, 1, &o, err, sizeof(err)),
	    AMTP_E_NOTFOUND);
	put("agent.conf", "[agent]\nsite_url = https://site:8443\n"
	    "ca_file = /etc/amtprov/ca.pem\n"
	    "enrolment_secret_file = /etc/amtprov/enrol.secret\n"
	    "mei = unix:/tmp/sim/0001.mei\nretries = 0\n"
	    "retry_delay_ms = 50\n", 0600);
	assert_int_equal(agent_config_load(p, 1, &o, err, sizeof(err)), 0);
	assert_string_equal(o.site_url, "https://site:8443");
	assert_string_equal(o.mei_uri, "unix:/tmp/sim/0001.mei");
	assert_string_equal(o.enrol_secret_file, "/etc/amtprov/enrol.secret");
	assert_string_equal(o.state_dir, AGENT_DEFAULT_STATE_DIR);
	assert_int_equal(o.retries, 0);
	assert_int_equal(o.retry_delay_ms, 50);
	assert_int_equal(o.mei_timeout_ms, AMTP_MEI_TIMEOUT_MS);
	/* the secret itself instead of a file, an unknown key, a range */
	put("agent.conf", "[agent]\nenrolment_secret_file = hunter2hunter2\n",
	    0600);
	assert_int_equal(agent_config_load(p, 1, &o, err, sizeof(err)),
	    AMTP_E_CONFIG);
	assert_non_null(strstr(err, "enrolment_secret_file"));
	assert_null(strstr(err, "hunter2"));
	put("agent.conf", "[agent]\nsite = x\n", 0600);
	assert_int_equal(agent_config_load(p, 1, &o, err, sizeof(err)),
	    AMTP_E_CONFIG);
	assert_non_null(strstr(err, "site"));
	put("agent.conf", "[agent]\nretries = 101\n", 0600);
	assert_int_equal(agent_config_load(p, 1, &o, err, sizeof(err)),
	    AMTP_E_CONFIG);
	put("agent.conf", "[agent]\nretries = 100\n", 0600);
	assert_int_equal(agent_config_load(p, 1, &o, err, sizeof(err)), 0);
	assert_int_equal(o.retries, 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_dmi),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
