/* Unit tests for site_json_wipe() (src/amtprovd/site/httpd.c): a sensitive
 * answer's password or token is wiped in the JSON tree before it is freed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "site/httpd.h"

static int
all_zero(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != '\0')
			return 0;
	return 1;
}

static void
test_wipe_answer(void **state)
{
	const char *pw, *tok, *nested, *kind;
	json_t *j;

	(void)state;
	j = json_pack("{s:I, s:s, s:s, s:s, s:{s:[s]}}", "device_id",
	    (json_int_t)7, "kind", "admin", "password", "Xy9!secretPW",
	    "agent_token", "0f1e.abcdefghijklmnop", "more", "list",
	    "deepsecret");
	assert_non_null(j);
	pw = json_string_value(json_object_get(j, "password"));
	tok = json_string_value(json_object_get(j, "agent_token"));
	kind = json_string_value(json_object_get(j, "kind"));
	nested = json_string_value(json_array_get(json_object_get(
	    json_object_get(j, "more"), "list"), 0));
	assert_string_equal(pw, "Xy9!secretPW");
	site_json_wipe(j);
	assert_true(all_zero(pw, strlen("Xy9!secretPW")));
	assert_true(all_zero(tok, strlen("0f1e.abcdefghijklmnop")));
	assert_true(all_zero(nested, strlen("deepsecret")));
	assert_true(all_zero(kind, strlen("admin")));
	/* numbers and keys are left alone */
	assert_int_equal(json_integer_value(json_object_get(j, "device_id")),
	    7);
	assert_non_null(json_object_get(j, "password"));
	json_decref(j);
}

static void
test_wipe_edges(void **state)
{
	json_t *s;

	(void)state;
	site_json_wipe(NULL);			/* no-op */
	s = json_string("");
	site_json_wipe(s);			/* empty string */
	assert_int_equal(json_string_length(s), 0);
	json_decref(s);
	s = json_integer(3);
	site_json_wipe(s);
	assert_int_equal(json_integer_value(s), 3);
	json_decref(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wipe_answer),
		cmocka_unit_test(test_wipe_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
