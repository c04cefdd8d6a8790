/* Unit tests for src/lib/rand.c: random bytes, unbiased integers, AMT
 * passwords and OTPs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/rand.h"
#include "amtprov/secret.h"

/* What the generator may use: letters, digits and these symbols. */
static const char gen_symbols[] = "!()*+-./=?@[]^{}~";

static void
test_bytes(void **state)
{
	uint8_t a[32], b[32], zero[32];

	(void)state;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(zero, 0, sizeof(zero));
	assert_int_equal(amtp_rand_bytes(NULL, 0), 0);
	assert_int_equal(amtp_rand_bytes(NULL, 1), AMTP_E_INVAL);
	assert_int_equal(amtp_rand_bytes(a, 0), 0);
	assert_memory_equal(a, zero, sizeof(a));	/* len 0 writes nothing */
	assert_int_equal(amtp_rand_bytes(a, sizeof(a)), 0);
	assert_int_equal(amtp_rand_bytes(b, sizeof(b)), 0);
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_memory_not_equal(a, b, sizeof(a));
}

static void
test_bytes_large(void **state)
{
	static uint8_t big[1 << 20];
	size_t i, zeros = 0;

	(void)state;
	/* More than one getrandom call may be needed: all must be filled. */
	memset(big, 0, sizeof(big));
	assert_int_equal(amtp_rand_bytes(big, sizeof(big)), 0);
	for (i = sizeof(big) - 4096; i < sizeof(big); i++)
		zeros += big[i] == 0;
	assert_true(zeros < 64);	/* expected 16 */
}

static void
test_uniform(void **state)
{
	uint32_t v = 99, counts[3] = { 0, 0, 0 };
	int i;

	(void)state;
	assert_int_equal(amtp_rand_uniform(0, &v), AMTP_E_INVAL);
	assert_int_equal(v, 0);	/* cleared on entry */
	for (i = 0; i < 100; i++) {
		assert_int_equal(amtp_rand_uniform(1, &v), 0);
		assert_int_equal(v, 0);
	}
	for (i = 0; i < 1000; i++) {
		assert_int_equal(amtp_rand_uniform(UINT32_MAX, &v), 0);
		assert_true(v < UINT32_MAX);
	}
	for (i = 0; i < 30000; i++) {
		assert_int_equal(amtp_rand_uniform(3, &v), 0);
		assert_true(v < 3);
		counts[v]++;
	}
	/* Each bucket expects 10000 with sd ~82: 9500..10500 is > 6 sd. */
	for (i = 0; i < 3; i++) {
		assert_in_range(counts[i], 9500, 10500);
	}
}

static int
gen_allowed(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr(gen_symbols, c));
}

/* Counts of characters first..last differ by less than 10%. */
static void
check_class(const int *seen, int first, int last)
{
	int c, lo = seen[first], hi = seen[first];

	for (c = first; c <= last; c++) {
		if (seen[c] < lo)
			lo = seen[c];
		if (seen[c] > hi)
			hi = seen[c];
	}
	if (hi * 10 >= lo * 11)
		fail_msg("class %c..%c: counts from %d to %d", first, last, lo,
		    hi);
}

static void
test_password_rules(void **state)
{
	struct amtp_secret *s = (void *)1;
	int seen[128];
	size_t len, i, n, count;
	const char *pw;
	clock_t t0;
	int up, lo, dig, sym;

	(void)state;
	memset(seen, 0, sizeof(seen));
	assert_int_equal(amtp_rand_password(AMTP_AMT_PASSWORD_MIN - 1, &s),
	    AMTP_E_RANGE);
	assert_null(s);
	assert_int_equal(amtp_rand_password(AMTP_AMT_PASSWORD_MAX + 1, &s),
	    AMTP_E_RANGE);
	assert_int_equal(amtp_rand_password(0, &s), AMTP_E_RANGE);

	t0 = clock();
	for (count = 0; count < 100000; count++) {
		/* Lengths cycle through 8..32, so both limits are covered. */
		len = AMTP_AMT_PASSWORD_MIN + count %
		    (AMTP_AMT_PASSWORD_MAX - AMTP_AMT_PASSWORD_MIN + 1);
		assert_int_equal(amtp_rand_password(len, &s), 0);
		assert_non_null(s);
		n = amtp_secret_len(s);
		pw = amtp_secret_cstr(s);
		assert_int_equal(n, len);
		assert_int_equal(strlen(pw), len);
		up = lo = dig = sym = 0;
		for (i = 0; i < n; i++) {
			char c = pw[i];

			if (!gen_allowed(c))
				fail_msg("password %zu has char 0x%02x", count,
				    (unsigned)(unsigned char)c);
			assert_null(strchr(":\",_<>&'\\`$% ;#", c));
			seen[(unsigned char)c]++;
			if (c >= 'A' && c <= 'Z')
				up = 1;
			else if (c >= 'a' && c <= 'z')
				lo = 1;
			else if (c >= '0' && c <= '9')
				dig = 1;
			else
				sym = 1;
		}
		assert_true(up && lo && dig && sym);
		assert_true(amtp_password_is_strong(pw, n));
		amtp_secret_free(s);
	}
	/* Every character of the alphabet shows up (79 chars, ~2M draws). */
	for (i = 0; i < 128; i++) {
		if (gen_allowed((char)i) && seen[i] == 0)
			fail_msg("character '%c' never generated", (char)i);
	}
	/* Within each class every character is equally likely (a modulo bias
	 * would make the first 256 % 79 characters a third more frequent):
	 * ~25000 draws per character, so 10% is more than 10 sd. */
	check_class(seen, 'A', 'Z');
	check_class(seen, 'a', 'z');
	check_class(seen, '0', '9');
	{
		int smin = -1, smax = 0;

		for (i = 0; gen_symbols[i] != '\0'; i++) {
			int v = seen[(unsigned char)gen_symbols[i]];

			if (smin < 0 || v < smin)
				smin = v;
			if (v > smax)
				smax = v;
		}
		assert_true(smax * 10 < smin * 11);
	}
	print_message("100000 passwords in %.2f s cpu\n",
	    (double)(clock() - t0) / CLOCKS_PER_SEC);
}

static void
test_password_distinct(void **state)
{
	struct amtp_secret *a, *b;

	(void)state;
	assert_int_equal(amtp_rand_password(8, &a), 0);
	assert_int_equal(amtp_rand_password(8, &b), 0);
	/* 79^8 possibilities, minus the ones without every class. */
	assert_false(amtp_secret_equal(a, b));
	amtp_secret_free(a);
	amtp_secret_free(b);
}

static void
test_is_strong(void **state)
{
	(void)state;
	assert_true(amtp_password_is_strong("Abcdef1!", 8));
	assert_true(amtp_password_is_strong("Abcdefgh1!Abcdefgh1!Abcdefgh1!Ab",
	    32));
	assert_false(amtp_password_is_strong("Abcdefgh1!Abcdefgh1!Abcdefgh1!Abc",
	    33));
	assert_false(amtp_password_is_strong("Abcde1!", 7));
	assert_false(amtp_password_is_strong(NULL, 8));
	assert_false(amtp_password_is_strong("", 0));
	assert_false(amtp_password_is_strong("abcdef1!", 8));	/* no upper */
	assert_false(amtp_password_is_strong("ABCDEF1!", 8));	/* no lower */
	assert_false(amtp_password_is_strong("Abcdefg!", 8));	/* no digit */
	assert_false(amtp_password_is_strong("Abcdefg1", 8));	/* no symbol */
	/* Refused characters, even when the rest is fine. */
	assert_false(amtp_password_is_strong("Abcdef1!:", 9));
	assert_false(amtp_password_is_strong("Abcdef1!\"", 9));
	assert_false(amtp_password_is_strong("Abcdef1!,", 9));
	assert_false(amtp_password_is_strong("Abcdef1!_", 9));
	assert_false(amtp_password_is_strong("Abcdef1_", 8));	/* _ no symbol */
	assert_false(amtp_password_is_strong("Abcdef1! ", 9));
	assert_false(amtp_password_is_strong("Abcdef1!\t", 9));
	assert_false(amtp_password_is_strong("Abcdef1!\xc3\xa9", 10));
	assert_false(amtp_password_is_strong("Abc\0ef1!", 8));	/* NUL */
	/* AMT accepts these; only our generator avoids them. */
	assert_true(amtp_password_is_strong("Abcdef1<", 8));
	assert_true(amtp_password_is_strong("Abcdef1&", 8));
}

static void
test_otp(void **state)
{
	struct amtp_secret *a = (void *)1, *b = NULL;
	const char *p;
	size_t i;

	(void)state;
	assert_int_equal(amtp_rand_otp(&a), 0);
	assert_int_equal(amtp_rand_otp(&b), 0);
	assert_int_equal(amtp_secret_len(a), AMTP_OTP_LEN);
	assert_true(AMTP_OTP_LEN >= AMTP_OTP_MIN && AMTP_OTP_LEN <= AMTP_OTP_MAX);
	p = amtp_secret_cstr(a);
	assert_int_equal(strlen(p), AMTP_OTP_LEN);
	for (i = 0; i < AMTP_OTP_LEN; i++)
		assert_true((p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9'));
	assert_false(amtp_secret_equal(a, b));
	amtp_secret_free(a);
	amtp_secret_free(b);
}

static void
test_otp_uniform(void **state)
{
	struct amtp_secret *s;
	int seen[128];
	size_t i, k;

	(void)state;
	memset(seen, 0, sizeof(seen));
	/* 480000 characters over 62: ~7700 each, sd ~90. */
	for (i = 0; i < 20000; i++) {
		assert_int_equal(amtp_rand_otp(&s), 0);
		for (k = 0; k < AMTP_OTP_LEN; k++)
			seen[(unsigned char)amtp_secret_cstr(s)[k]]++;
		amtp_secret_free(s);
	}
	check_class(seen, 'A', 'Z');
	check_class(seen, 'a', 'z');
	check_class(seen, '0', '9');
	/* And across classes: 'A' as often as 'z' and '9'. */
	assert_true(seen['A'] * 10 < seen['z'] * 11 &&
	    seen['z'] * 10 < seen['A'] * 11);
	assert_true(seen['9'] * 10 < seen['A'] * 11 &&
	    seen['A'] * 10 < seen['9'] * 11);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_bytes_large),
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_password_rules),
		cmocka_unit_test(test_password_distinct),
		cmocka_unit_test(test_is_strong),
		cmocka_unit_test(test_otp),
		cmocka_unit_test(test_otp_uniform),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
