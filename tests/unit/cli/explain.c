/* Unit tests for src/cli/explain.c: the sentence about a failed job, and
 * reading the provisioning root hash next to the CA file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "amtprov/err.h"
#include "cli.h"

#define ROOT "485882854c8ed1d4f64c905acd270218e17d1a7f9353ad8887a4a9230efa7211"
#define TLS_REFUSED "connect: the device refused the provisioning TLS " \
	"session: OpenSSL/3.0.19: error:0A000412:SSL routines::sslv3 alert " \
	"bad certificate"

static json_t *
facts(const char *hash, int active)
{
	return json_pack("{s:s, s:[{s:s, s:b}, {s:s, s:b}]}", "dns_suffix",
	    "fleet.example.test", "cert_hashes", "hash",
	    "d32b8a7605415a329352141e4854e8ca262eb8a76e4ca1f4891324be73e4665a",
	    "is_active", 1, "hash", hash, "is_active", active);
}

static void
test_tls_refused(void **state)
{
	char d[1024];
	json_t *f;

	(void)state;
	/* the root is not in the firmware */
	f = facts("00", 1);
	assert_int_equal(cli_explain(TLS_REFUSED, f, ROOT, d, sizeof(d)), 1);
	assert_non_null(strstr(d, "root hash not in firmware"));
	assert_non_null(strstr(d, "among the 2 root hashes"));
	json_decref(f);
	/* there, upper case, inactive */
	f = facts("485882854C8ED1D4F64C905ACD270218E17D1A7F9353AD8887A4A9230EFA7211", 0);
	assert_int_equal(cli_explain(TLS_REFUSED, f, ROOT, d, sizeof(d)), 1);
	assert_non_null(strstr(d, "root hash inactive"));
	json_decref(f);
	/* there and active: another rule, naming the suffix */
	f = facts(ROOT, 1);
	assert_int_equal(cli_explain(TLS_REFUSED, f, ROOT, d, sizeof(d)), 1);
	assert_non_null(strstr(d, "\"fleet.example.test\""));
	/* without the root hash (a remote admin): the three possibilities */
	assert_int_equal(cli_explain(TLS_REFUSED, f, "", d, sizeof(d)), 1);
	assert_non_null(strstr(d, "not in the firmware's hash table, or"));
	assert_int_equal(cli_explain(TLS_REFUSED, NULL, ROOT, d, sizeof(d)),
	    1);
	assert_non_null(strstr(d, "not in the firmware's hash table, or"));
	json_decref(f);
}

static void
test_other_reasons(void **state)
{
	char d[1024];

	(void)state;
	assert_int_equal(cli_explain("otp-check: OTP mismatch: the device's "
	    "one-time password does not hash", NULL, NULL, d, sizeof(d)), 1);
	assert_non_null(strstr(d, "not the one this device's agent reported"));
	assert_int_equal(cli_explain("otp-check: the site holds no OTP hash",
	    NULL, NULL, d, sizeof(d)), 1);
	assert_non_null(strstr(d, "identity check could not run"));
	assert_int_equal(cli_explain("connect: Connection timed out", NULL,
	    NULL, d, sizeof(d)), 1);
	assert_non_null(strstr(d, "could not reach"));
	assert_int_equal(cli_explain("tls-enable: unreadable reply", NULL,
	    NULL, d, sizeof(d)), 0);
	assert_string_equal(d, "");
	assert_int_equal(cli_explain("", NULL, NULL, d, sizeof(d)), 0);
	assert_int_equal(cli_explain(NULL, NULL, NULL, d, sizeof(d)), 0);
	/* a small buffer is cut, still terminated */
	assert_int_equal(cli_explain(TLS_REFUSED, NULL, NULL, d, 10), 1);
	assert_int_equal(strlen(d), 9);
}

static void
test_prov_root_load(void **state)
{
	char dir[64], ca[96], path[96], hex[65];
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/amtp_cli_explain_%d", (int)getpid());
	snprintf(ca, sizeof(ca), "%s/ca-chain.pem", dir);
	snprintf(path, sizeof(path), "%s/prov-root.sha256", dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(cli_prov_root_load(ca, hex, sizeof(hex)),
	    AMTP_E_NOTFOUND);
	assert_string_equal(hex, "");
	assert_non_null(f = fopen(path, "w"));
	fputs("485882854C8ED1D4F64C905ACD270218E17D1A7F9353AD8887A4A9230EFA7211\n", f);
	fclose(f);
	assert_int_equal(cli_prov_root_load(ca, hex, sizeof(hex)), 0);
	assert_string_equal(hex, ROOT);
	assert_int_equal(cli_prov_root_load(ca, hex, 64), AMTP_E_TOOBIG);
	assert_non_null(f = fopen(path, "w"));
	fputs("485882854c8ed1d4f64c905acd270218e17d1a7f9353ad8887a4a9230efa72\n", f);
	fclose(f);	/* 62 digits */
	assert_int_equal(cli_prov_root_load(ca, hex, sizeof(hex)),
	    AMTP_E_PARSE);
	assert_non_null(f = fopen(path, "w"));
	fputs(ROOT "00\n", f);	/* 66 digits */
	fclose(f);
	assert_int_equal(cli_prov_root_load(ca, hex, sizeof(hex)),
	    AMTP_E_PARSE);
	assert_non_null(f = fopen(path, "w"));
	fputs("z85882854c8ed1d4f64c905acd270218e17d1a7f9353ad8887a4a9230efa7211", f);
	fclose(f);
	assert_int_equal(cli_prov_root_load(ca, hex, sizeof(hex)),
	    AMTP_E_PARSE);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_refused),
		cmocka_unit_test(test_other_reasons),
		cmocka_unit_test(test_prov_root_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
