/* Unit tests for src/lib/log.c. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"

static char last[4096];
static int nlines;

static void
sink(enum amtp_log_level lvl, const char *line, void *arg)
{
	(void)lvl;
	(void)arg;
	snprintf(last, sizeof(last), "%s", line);
	nlines++;
}

static void
test_lines(void **state)
{
	(void)state;
	amtp_log_init("test", AMTP_LOG_ERR, AMTP_LOG_TO_STDERR);
	amtp_log_set_sink(sink, NULL);
	log_warnx("dev %d: digest auth failed (user %u of %u)", 3, 1u, 2u);
	assert_string_equal(last, "dev 3: digest auth failed (user 1 of 2)");
	log_warn_r(AMTP_E_TOOBIG, "%s: parse", "f.conf");
	assert_string_equal(last, "f.conf: parse: size limit exceeded");
	errno = ENOENT;
	log_warn("%s", "x");
	assert_string_equal(last, "x: No such file or directory");
	/* a newline in the message cannot split the line */
	log_info("a\nb\rc");
	assert_string_equal(last, "a b c");
	amtp_log_set_sink(NULL, NULL);
}

static void
test_escape(void **state)
{
	char out[AMTP_LOG_ESCAPE_SIZE];
	char big[200];
	char small[8];

	(void)state;
	assert_string_equal(amtp_log_escape(out, sizeof(out), "", 0), "");
	assert_string_equal(amtp_log_escape(out, sizeof(out), "a\"b\\\n\x01", 6),
	    "a\\\"b\\\\\\x0a\\x01");
	memset(big, 0xff, sizeof(big));
	amtp_log_escape(out, sizeof(out), big, sizeof(big));
	/* 64 bytes escaped as \xff each, then "..." */
	assert_int_equal(strlen(out), 64 * 4 + 3);
	assert_string_equal(out + 64 * 4, "...");
	memset(big, 'a', sizeof(big));
	amtp_log_escape(out, sizeof(out), big, AMTP_LOG_UNTRUSTED_MAX);
	assert_int_equal(strlen(out), AMTP_LOG_UNTRUSTED_MAX);	/* exactly at limit */
	amtp_log_escape(out, sizeof(out), big, AMTP_LOG_UNTRUSTED_MAX + 1);
	assert_int_equal(strlen(out), AMTP_LOG_UNTRUSTED_MAX + 3);
	/* a small destination is never overrun */
	amtp_log_escape(small, sizeof(small), "\x01\x02\x03", 3);
	assert_string_equal(small, "\\x01");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
