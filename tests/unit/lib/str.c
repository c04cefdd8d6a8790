/* Unit tests for src/lib/str.c and src/lib/err.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/str.h"

static void
test_parse_int(void **state)
{
	long long v = 42;

	(void)state;
	assert_int_equal(amtp_parse_int("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(amtp_parse_int("10", 0, 10, &v), 0);	/* at max */
	assert_int_equal(v, 10);
	v = 7;
	assert_int_equal(amtp_parse_int("11", 0, 10, &v), AMTP_E_RANGE);
	assert_int_equal(v, 7);	/* untouched on failure */
	assert_int_equal(amtp_parse_int("-1", 0, 10, &v), AMTP_E_RANGE);
	assert_int_equal(amtp_parse_int("-5", -5, 10, &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(amtp_parse_int("", 0, 10, &v), AMTP_E_PARSE);
	assert_int_equal(amtp_parse_int(NULL, 0, 10, &v), AMTP_E_PARSE);
	assert_int_equal(amtp_parse_int("-", 0, 10, &v), AMTP_E_PARSE);
	assert_int_equal(amtp_parse_int(" 1", 0, 10, &v), AMTP_E_PARSE);
	assert_int_equal(amtp_parse_int("1 ", 0, 10, &v), AMTP_E_PARSE);
	assert_int_equal(amtp_parse_int("0x1", 0, 10, &v), AMTP_E_PARSE);
	assert_int_equal(amtp_parse_int("+1", 0, 10, &v), AMTP_E_PARSE);
	assert_int_equal(amtp_parse_int("9223372036854775807", 0, LLONG_MAX, &v), 0);
	assert_true(v == LLONG_MAX);
	assert_int_equal(amtp_parse_int("9223372036854775808", 0, LLONG_MAX, &v),
	    AMTP_E_RANGE);
	assert_int_equal(amtp_parse_int("-9223372036854775808", LLONG_MIN, 0, &v), 0);
	assert_true(v == LLONG_MIN);
	assert_int_equal(amtp_parse_int("000000000000000000000000000000001", 0, 10,
	    &v), AMTP_E_RANGE);	/* 33 chars: over AMTP_INT_TEXT_MAX */
}

static void
test_hex(void **state)
{
	const uint8_t in[] = { 0x00, 0x9f, 0xab };
	uint8_t out[3];
	char s[7];

	(void)state;
	assert_int_equal(amtp_hex_encode(s, sizeof(s), in, 3, 0), 0);
	assert_string_equal(s, "009fab");
	assert_int_equal(amtp_hex_encode(s, sizeof(s), in, 3, 1), 0);
	assert_string_equal(s, "009FAB");
	assert_int_equal(amtp_hex_encode(s, 6, in, 3, 1), AMTP_E_TOOBIG);
	assert_int_equal(amtp_hex_decode("009FaB", 6, out, 3), 0);
	assert_memory_equal(out, in, 3);
	assert_int_equal(amtp_hex_decode("009FaB", 5, out, 3), AMTP_E_PARSE);
	assert_int_equal(amtp_hex_decode("009FgB", 6, out, 3), AMTP_E_PARSE);
	assert_int_equal(amtp_hex_decode("", 0, out, 0), 0);
}

static void
test_b64(void **state)
{
	struct amtp_buf *b = amtp_buf_new(64);
	const char *v[][2] = {	/* RFC 4648 section 10 */
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		amtp_buf_reset(b);
		assert_int_equal(amtp_b64_encode(b, v[i][0], strlen(v[i][0])), 0);
		assert_string_equal(amtp_buf_str(b), v[i][1]);
		amtp_buf_reset(b);
		assert_int_equal(amtp_b64_decode(b, v[i][1], strlen(v[i][1])), 0);
		assert_int_equal(amtp_buf_len(b), strlen(v[i][0]));
		assert_memory_equal(amtp_buf_ptr(b), v[i][0], strlen(v[i][0]));
	}
	amtp_buf_reset(b);
	assert_int_equal(amtp_b64_decode(b, "Zm9v\nYmFy", 9), 0);
	assert_string_equal(amtp_buf_str(b), "foobar");
	assert_int_equal(amtp_b64_decode(b, "Zg=", 3), AMTP_E_PARSE);
	assert_int_equal(amtp_b64_decode(b, "Z===", 4), AMTP_E_PARSE);
	assert_int_equal(amtp_b64_decode(b, "Zg==Zg==", 8), AMTP_E_PARSE);
	assert_int_equal(amtp_b64_decode(b, "Zm9*", 4), AMTP_E_PARSE);
	assert_int_equal(amtp_b64_decode(b, "Zm=v", 4), AMTP_E_PARSE);
	amtp_buf_free(b);
}

static void
test_misc(void **state)
{
	char d[4];

	(void)state;
	assert_int_equal(amtp_strlcpy(d, "abcdef", sizeof(d)), 6);
	assert_string_equal(d, "abc");
	assert_true(amtp_str_eq_ci("Fleet.Example", 13, "fleet.example", 13));
	assert_false(amtp_str_eq_ci("fleet", 5, "fleets", 6));
	assert_false(amtp_str_eq_ci("fleeu", 5, "fleet", 5));
}

static void
test_err_names(void **state)
{
	int r;

	(void)state;
	assert_string_equal(amtp_errname(0), "OK");
	assert_string_equal(amtp_errname(AMTP_E_NOMEM), "NOMEM");
	assert_string_equal(amtp_strerror(AMTP_E_TOOBIG), "size limit exceeded");
	assert_string_equal(amtp_errname(AMTP_E__MAX), "UNKNOWN");
	assert_string_equal(amtp_strerror(12345), "unknown error code");
	/* every code has its own name and a message */
	for (r = -1; r > AMTP_E__MAX; r--) {
		assert_string_not_equal(amtp_errname(r), "UNKNOWN");
		assert_string_not_equal(amtp_strerror(r), "unknown error code");
	}
}

static void
test_utf8_seq(void **state)
{
	static const struct {
		const char	*s;
		size_t		 avail, n;
		uint32_t	 cp;
	} t[] = {
		{ "\xc3\xa9", 2, 2, 0xe9 },
		{ "\xe2\x82\xac", 3, 3, 0x20ac },
		{ "\xf0\x9f\x98\x80", 4, 4, 0x1f600 },
		{ "\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff },	/* the last */
		{ "\xef\xbf\xbf", 3, 3, 0xffff },	/* XML refuses it */
		{ "\xf4\x90\x80\x80", 4, 0, 0 },	/* past U+10FFFF */
		{ "\xc0\x80", 2, 0, 0 },		/* overlong */
		{ "\xe0\x80\x80", 3, 0, 0 },		/* overlong */
		{ "\xf0\x80\x80\x80", 4, 0, 0 },	/* overlong */
		{ "\xed\xa0\x80", 3, 0, 0 },		/* a surrogate */
		{ "\xe2\x82\xac", 2, 0, 0 },		/* cut by avail */
		{ "\xe2\x82", 4, 0, 0 },		/* cut by the NUL */
		{ "\x80", 1, 0, 0 },			/* no lead byte */
		{ "\xc3\xa9", 0, 0, 0 },
	};
	uint32_t cp;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cp = 1;
		assert_int_equal(amtp_utf8_seq((const unsigned char *)t[i].s,
		    t[i].avail, &cp), t[i].n);
		assert_int_equal(cp, t[i].cp);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_int),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_misc),
		cmocka_unit_test(test_err_names),
		cmocka_unit_test(test_utf8_seq),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
