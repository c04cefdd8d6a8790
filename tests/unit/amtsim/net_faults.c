/* Unit tests for src/amtsim/net/faults.c: the --faults specification
 * (every knob, bad values, defaults), latency in its range, call matching
 * and the per-device filter. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "amtprov/err.h"
#include "net/simnet.h"

static void
test_parse(void **state)
{
	struct amtsim_net_faults f;
	char err[256];

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_int_equal(amtsim_net_faults_parse("latency=10-200,keygen=3000,"
	    "reset-after=3,fail=AMT_SetupAndConfigurationService.CommitChanges,"
	    "count=2,reboot=AMT_GeneralSettings.Put,device=7", &f, err,
	    sizeof(err)), 0);
	assert_int_equal(f.latency_min_ms, 10);
	assert_int_equal(f.latency_max_ms, 200);
	assert_int_equal(f.keygen_ms, 3000);
	assert_int_equal(f.reset_after, 3);
	assert_string_equal(f.fail_call,
	    "AMT_SetupAndConfigurationService.CommitChanges");
	assert_int_equal(f.fail_status, 500);	/* default */
	assert_int_equal(f.fail_count, 2);
	assert_string_equal(f.reboot_on, "AMT_GeneralSettings.Put");
	assert_int_equal(f.reboot_ms, 2000);	/* default */
	assert_int_equal(f.device, 7);
	assert_true(simnet_faults_for(&f, 7));
	assert_false(simnet_faults_for(&f, 6));
	assert_true(simnet_can_delay(&f));
	amtsim_net_faults_reset(&f);
	assert_null(f.fail_call);
	assert_false(simnet_can_delay(&f));
	assert_true(simnet_faults_for(&f, 6));	/* device 0: all */

	assert_int_equal(amtsim_net_faults_parse("latency=50,fail=*,timeout",
	    &f, err, sizeof(err)), 0);
	assert_int_equal(f.latency_min_ms, 50);
	assert_int_equal(f.latency_max_ms, 50);
	assert_true(f.fail_timeout);
	assert_int_equal(f.fail_status, 0);
	amtsim_net_faults_reset(&f);
	assert_int_equal(amtsim_net_faults_parse("fail=X.Get,status=503,"
	    "malformed", &f, err, sizeof(err)), 0);
	assert_int_equal(f.fail_status, 503);
	assert_true(f.fail_malformed);
	amtsim_net_faults_reset(&f);
}

static void
test_parse_bad(void **state)
{
	static const char *bad[] = {
		"latency", "latency=x", "latency=200-10", "latency=600001",
		"keygen=-1", "reset-after=0", "fail=", "fail=a b", "fail=a/b",
		"status=404", "status=600", "count=0", "timeout=1",
		"malformed=yes", "device=0", "device=65536", "nosuch=1", "=1",
		"reboot-ms=x",
	};
	struct amtsim_net_faults f;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&f, 0, sizeof(f));
		err[0] = '\0';
		if (amtsim_net_faults_parse(bad[i], &f, err, sizeof(err)) !=
		    AMTP_E_PARSE)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0] != '\0');
		amtsim_net_faults_reset(&f);
	}
	{
		char big[2048];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		memset(&f, 0, sizeof(f));
		assert_int_equal(amtsim_net_faults_parse(big, &f, err,
		    sizeof(err)), AMTP_E_PARSE);
	}
}

static void
test_latency_and_match(void **state)
{
	struct amtsim_net net;
	uint32_t v, lo = UINT32_MAX, hi = 0;
	int i;

	(void)state;
	memset(&net, 0, sizeof(net));
	net.opts.faults.latency_min_ms = 10;
	net.opts.faults.latency_max_ms = 13;
	for (i = 0; i < 2000; i++) {
		v = simnet_faults_latency(&net);
		assert_true(v >= 10 && v <= 13);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	assert_int_equal(lo, 10);
	assert_int_equal(hi, 13);
	assert_true(simnet_faults_match("*", "AMT_GeneralSettings.Get"));
	assert_true(simnet_faults_match("AMT_GeneralSettings.Get",
	    "AMT_GeneralSettings.Get"));
	assert_false(simnet_faults_match("AMT_GeneralSettings.Get",
	    "AMT_GeneralSettings.Put"));
	assert_false(simnet_faults_match(NULL, "x"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_latency_and_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
