/* Unit tests for src/amtsim/jsondump.c: amtsim_json_dump gives the bytes
 * json_dumps(v, JSON_COMPACT) gives (the flash file's text before it), for
 * every escape, UTF-8 of every length, embedded NULs, keys in insertion
 * order, integers at their limits, reals, empty and nested containers and
 * a thousand random trees; text jansson loads back to an equal tree; the
 * limits (max exactly, one over; nesting at AMTP_SIM_FLASH_DEPTH_MAX and
 * one deeper) and every error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "jsondump.h"

/* amtsim_json_dump(v) == json_dumps(v, JSON_COMPACT), and loads back. */
static void
same_as_jansson(const json_t *v)
{
	char *want, *got = NULL;
	json_error_t je;
	json_t *back;
	size_t len = 0;

	assert_non_null(want = json_dumps(v, JSON_COMPACT));
	assert_int_equal(amtsim_json_dump(v, AMTP_SIM_FLASH_MAX, 0, &got,
	    &len), 0);
	assert_non_null(got);
	assert_int_equal(len, strlen(want));
	if (strcmp(got, want) != 0)
		fail_msg("differs:\n got  %s\n want %s", got, want);
	assert_non_null(back = json_loadb(got, len, JSON_ALLOW_NUL, &je));
	assert_true(json_equal(back, (json_t *)(uintptr_t)v));
	json_decref(back);
	free(got);
	free(want);
}

static void
test_escapes(void **state)
{
	char all[128];
	json_t *o;
	int c;

	(void)state;
	/* every ASCII character but NUL, as a value and as a key */
	for (c = 1; c < 128; c++)
		all[c - 1] = (char)c;
	all[127] = '\0';
	assert_non_null(o = json_object());
	assert_int_equal(json_object_set_new(o, all, json_string(all)), 0);
	assert_int_equal(json_object_set_new(o, "pem", json_string(
	    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
	    "-----END PRIVATE KEY-----\n")), 0);
	assert_int_equal(json_object_set_new(o, "quotes", json_string(
	    "\"\\\"/\\/")), 0);
	assert_int_equal(json_object_set_new(o, "", json_string("")), 0);
	same_as_jansson(o);
	json_decref(o);
}

static void
test_utf8_and_nul(void **state)
{
	json_t *o;

	(void)state;
	assert_non_null(o = json_pack("{s:s, s:s, s:s, s:s, s:s%}",
	    "two", "caf\xc3\xa9 \xc2\x80\xdf\xbf",
	    "three", "\xe0\xa0\x80 \xe2\x82\xac \xef\xbf\xbf \xed\x9f\xbf",
	    "four", "\xf0\x90\x80\x80 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf",
	    "k\xc3\xa9y \xe2\x82\xac", "mixed \x7f\x01 a\xc3\xa9\"b",
	    "nul", "a\0b\0", (size_t)4));
	/* long runs on both sides of a multi-byte sequence */
	assert_int_equal(json_object_set_new(o, "long", json_string(
	    "0123456789abcdef0123456789\xc3\xa9" "0123456789abcdef0123\n"
	    "\xf0\x9f\x98\x80\xf0\x9f\x98\x80" "0123456789abcdef")), 0);
	same_as_jansson(o);
	json_decref(o);
}

static void
test_scalars_and_containers(void **state)
{
	json_t *a;

	(void)state;
	assert_non_null(a = json_pack("[I, I, I, I, I, b, b, n, {}, [], [[]],"
	    "{s:{s:[]}}, f, f, f, f, f, f]",
	    (json_int_t)0, (json_int_t)-1, (json_int_t)1234567890123LL,
	    (json_int_t)INT64_MAX, (json_int_t)INT64_MIN, 1, 0, "a", "b",
	    1.5, -0.0, 3.0, 1e300, 0.1, -2.5e-7));
	same_as_jansson(a);
	json_decref(a);
	/* the top level: an empty object and an empty array */
	assert_non_null(a = json_object());
	same_as_jansson(a);
	json_decref(a);
	assert_non_null(a = json_array());
	same_as_jansson(a);
	json_decref(a);
}

/* Keys come in insertion order, also after a delete and a re-insert. */
static void
test_key_order(void **state)
{
	json_t *o;

	(void)state;
	assert_non_null(o = json_pack("{s:i, s:i, s:i, s:i}", "z", 1, "a", 2,
	    "m", 3, "b", 4));
	assert_int_equal(json_object_del(o, "a"), 0);
	assert_int_equal(json_object_set_new(o, "a", json_integer(5)), 0);
	assert_int_equal(json_object_set_new(o, "z", json_integer(6)), 0);
	same_as_jansson(o);
	json_decref(o);
}

/* A small PRNG (xorshift) so that a failure repeats. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* A string of random pieces; nul: maybe with an embedded NUL (not in
 * keys: jansson does not load a key with one). */
static json_t *
rnd_string(int nul)
{
	static const char *const pieces[] = {
		"a", "Z9", "\"", "\\", "/", "\n", "\r\t", "\x01", "\x1f", "\x7f",
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", " ",
		"0123456789abcdefghij", "-----BEGIN CERTIFICATE-----",
	};
	const char *p;
	char buf[512];
	size_t len = 0, pl;
	unsigned n = rnd(40), i;

	for (i = 0; i < n; i++) {
		p = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];
		pl = strlen(p);
		if (len + pl >= sizeof(buf))
			break;
		memcpy(buf + len, p, pl);
		len += pl;
	}
	if (nul && rnd(10) == 0 && len + 1 < sizeof(buf))
		buf[len++] = '\0';	/* an embedded NUL */
	return json_stringn(buf, len);
}

static json_t *
rnd_tree(unsigned depth)
{
	json_t *v, *k;
	unsigned n, i;

	switch (depth >= 5 ? rnd(5) : rnd(7)) {
	case 0:
		return json_integer((json_int_t)rnd(2000000) - 1000000);
	case 1:
		return rnd_string(1);
	case 2:
		return rnd(3) == 0 ? json_null() : json_boolean(rnd(2));
	case 3:
		return json_real((double)rnd(100000) / 64.0);
	case 4:
		return json_integer(rnd(2) ? INT64_MAX - rnd(10) :
		    INT64_MIN + rnd(10));
	case 5:
		v = json_array();
		n = rnd(6);
		for (i = 0; i < n; i++)
			assert_int_equal(json_array_append_new(v,
			    rnd_tree(depth + 1)), 0);
		return v;
	default:
		v = json_object();
		n = rnd(6);
		for (i = 0; i < n; i++) {
			k = rnd_string(0);
			assert_int_equal(json_object_setn_new(v,
			    json_string_value(k), json_string_length(k),
			    rnd_tree(depth + 1)), 0);
			json_decref(k);
		}
		return v;
	}
}

static void
test_random_trees(void **state)
{
	json_t *o;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		assert_non_null(o = json_object());
		assert_int_equal(json_object_set_new(o, "t", rnd_tree(0)), 0);
		same_as_jansson(o);
		json_decref(o);
	}
}

/* max: the exact length fits, one byte less is AMTP_E_TOOBIG; a hint
 * smaller or larger than the text changes nothing. */
static void
test_max_and_hint(void **state)
{
	json_t *o;
	char *want, *got = (char *)1;
	size_t len = 9, n, hints[] = { 0, 1, 63, 64, 65, 1000, 1u << 20 };
	size_t i;

	(void)state;
	assert_non_null(o = json_pack("{s:s, s:[i, i]}", "key",
	    "0123456789abcdef0123456789abcdef0123456789abcdef\n0123", "a", 1,
	    2));
	assert_non_null(want = json_dumps(o, JSON_COMPACT));
	n = strlen(want);
	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		assert_int_equal(amtsim_json_dump(o, n, hints[i], &got, &len),
		    0);
		assert_int_equal(len, n);
		assert_string_equal(got, want);
		free(got);
		got = (char *)1;
		assert_int_equal(amtsim_json_dump(o, n - 1, hints[i], &got,
		    &len), AMTP_E_TOOBIG);
		assert_null(got);
		assert_int_equal(len, 0);
	}
	free(want);
	json_decref(o);
	/* "{}": two bytes fit, one does not */
	assert_non_null(o = json_object());
	assert_int_equal(amtsim_json_dump(o, 2, 0, &got, &len), 0);
	assert_string_equal(got, "{}");
	free(got);
	assert_int_equal(amtsim_json_dump(o, 1, 0, &got, &len),
	    AMTP_E_TOOBIG);
	json_decref(o);
}

/* A hint of SIZE_MAX (hint + 1 wraps to 0) is as good as any other: the
 * buffer starts at max + 1 bytes (it looped for ever doubling 0). */
static void
test_hint_huge(void **state)
{
	json_t *o;
	char *got = NULL;
	size_t len = 0;

	(void)state;
	assert_non_null(o = json_pack("{s:s}", "k", "v"));
	(void)alarm(10);	/* a hang fails the test */
	assert_int_equal(amtsim_json_dump(o, 100, SIZE_MAX, &got, &len), 0);
	assert_string_equal(got, "{\"k\":\"v\"}");
	assert_int_equal(len, 9);
	free(got);
	got = NULL;
	assert_int_equal(amtsim_json_dump(o, 8, SIZE_MAX - 1, &got, &len),
	    AMTP_E_TOOBIG);
	assert_null(got);
	(void)alarm(0);
	json_decref(o);
}

static json_t *
nest(unsigned levels)
{
	json_t *top, *cur, *a;
	unsigned i;

	assert_non_null(top = cur = json_array());
	for (i = 1; i < levels; i++) {
		assert_non_null(a = json_array());
		assert_int_equal(json_array_append_new(cur, a), 0);
		cur = a;
	}
	return top;
}

/* AMTP_SIM_FLASH_DEPTH_MAX nested arrays are written (and jansson reads
 * them back); one more is AMTP_E_JSON. */
static void
test_depth(void **state)
{
	json_t *v;
	char *got = NULL;
	size_t len = 0;

	(void)state;
	v = nest(AMTP_SIM_FLASH_DEPTH_MAX);
	same_as_jansson(v);
	json_decref(v);
	v = nest(AMTP_SIM_FLASH_DEPTH_MAX + 1);
	assert_int_equal(amtsim_json_dump(v, AMTP_SIM_FLASH_MAX, 0, &got,
	    &len), AMTP_E_JSON);
	assert_null(got);
	json_decref(v);
}

static void
test_errors(void **state)
{
	json_t *o, *s;
	char *got = (char *)1;
	size_t len = 3;

	(void)state;
	/* not a container at the top, NULL, max 0 or absurd */
	assert_non_null(s = json_string("x"));
	assert_int_equal(amtsim_json_dump(s, 100, 0, &got, &len),
	    AMTP_E_INVAL);
	assert_null(got);
	assert_int_equal(len, 0);
	assert_int_equal(amtsim_json_dump(NULL, 100, 0, &got, &len),
	    AMTP_E_INVAL);
	assert_non_null(o = json_object());
	assert_int_equal(amtsim_json_dump(o, 0, 0, &got, &len),
	    AMTP_E_INVAL);
	assert_int_equal(amtsim_json_dump(o, SIZE_MAX, 0, &got, &len),
	    AMTP_E_INVAL);
	json_decref(s);
	/* a string that is not UTF-8 (made without jansson's check): jansson
	 * refuses to dump it, and so does the writer */
	assert_int_equal(json_object_set_new(o, "bad",
	    json_stringn_nocheck("ab\xc3", 3)), 0);
	assert_null(json_dumps(o, JSON_COMPACT));
	assert_int_equal(amtsim_json_dump(o, 100, 0, &got, &len),
	    AMTP_E_JSON);
	assert_null(got);
	assert_int_equal(json_object_set_new(o, "bad",
	    json_stringn_nocheck("\xed\xa0\x80", 3)), 0);	/* surrogate */
	assert_int_equal(amtsim_json_dump(o, 100, 0, &got, &len),
	    AMTP_E_JSON);
	assert_int_equal(json_object_set_new(o, "bad",
	    json_stringn_nocheck("\xc0\xaf", 2)), 0);	/* overlong '/' */
	assert_int_equal(amtsim_json_dump(o, 100, 0, &got, &len),
	    AMTP_E_JSON);
	assert_int_equal(json_object_set_new(o, "bad",
	    json_stringn_nocheck("\xf4\x90\x80\x80", 4)), 0); /* > 10FFFF */
	assert_int_equal(amtsim_json_dump(o, 100, 0, &got, &len),
	    AMTP_E_JSON);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_utf8_and_nul),
		cmocka_unit_test(test_scalars_and_containers),
		cmocka_unit_test(test_key_order),
		cmocka_unit_test(test_random_trees),
		cmocka_unit_test(test_max_and_hint),
		cmocka_unit_test(test_hint_huge),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
