/* Unit tests for src/amtprovd/site/auth.c: Bearer parsing, tokens, hashes
 * and the enrolment secret file. */
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

#include "amtprov/err.h"
#include "amtprov/limits.h"

#include "site/auth.h"

static void
test_bearer(void **state)
{
	const char *t;
	size_t n;
	char big[AMTP_SITE_TOKEN_MAX + 16];

	(void)state;
	assert_int_equal(site_auth_bearer("Bearer abc.DEF-_~+/==", &t, &n), 0);
	assert_int_equal(n, 14);
	assert_memory_equal(t, "abc.DEF-_~+/==", 14);
	assert_int_equal(site_auth_bearer("bearer   xyz  ", &t, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(site_auth_bearer(NULL, &t, &n), AMTP_E_AUTH);
	assert_null(t);
	assert_int_equal(site_auth_bearer("", &t, &n), AMTP_E_AUTH);
	assert_int_equal(site_auth_bearer("Bearer", &t, &n), AMTP_E_AUTH);
	assert_int_equal(site_auth_bearer("Bearer ", &t, &n), AMTP_E_AUTH);
	assert_int_equal(site_auth_bearer("Basic YWxhZGRpbjpvcGVu", &t, &n),
	    AMTP_E_AUTH);
	assert_int_equal(site_auth_bearer("Bearerxyz", &t, &n), AMTP_E_AUTH);
	assert_int_equal(site_auth_bearer("Bearer a b", &t, &n), AMTP_E_AUTH);
	assert_int_equal(site_auth_bearer("Bearer a=b", &t, &n), AMTP_E_AUTH);
	assert_int_equal(site_auth_bearer("Bearer a\"b", &t, &n), AMTP_E_AUTH);
	/* length: at the limit passes, one over fails */
	memcpy(big, "Bearer ", 7);
	memset(big + 7, 'a', AMTP_SITE_TOKEN_MAX);
	big[7 + AMTP_SITE_TOKEN_MAX] = '\0';
	assert_int_equal(site_auth_bearer(big, &t, &n), 0);
	assert_int_equal(n, AMTP_SITE_TOKEN_MAX);
	big[7 + AMTP_SITE_TOKEN_MAX] = 'a';
	big[8 + AMTP_SITE_TOKEN_MAX] = '\0';
	assert_int_equal(site_auth_bearer(big, &t, &n), AMTP_E_AUTH);
}

static void
test_tokens(void **state)
{
	char a[SITE_TOKEN_RANDOM_SIZE], b[SITE_TOKEN_RANDOM_SIZE];
	char tok[128], name[65], h[SITE_CRED_HASH_SIZE];
	char hex[SITE_SHA256_HEX_SIZE];
	size_t i;

	(void)state;
	assert_int_equal(site_auth_token_random(a, 10), AMTP_E_TOOBIG);
	assert_int_equal(site_auth_token_random(a, sizeof(a)), 0);
	assert_int_equal(site_auth_token_random(b, sizeof(b)), 0);
	assert_int_equal(strlen(a), 43);
	assert_string_not_equal(a, b);
	for (i = 0; i < 43; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl"
		    "mnopqrstuvwxyz0123456789-_", a[i]));
	snprintf(tok, sizeof(tok), "my-agent.%s", a);
	assert_int_equal(site_auth_agent_token_name(tok, strlen(tok), name,
	    sizeof(name)), 0);
	assert_string_equal(name, "my-agent");
	assert_int_equal(site_auth_agent_token_name(a, strlen(a), name,
	    sizeof(name)), AMTP_E_AUTH);		/* no name */
	assert_int_equal(site_auth_agent_token_name(tok, strlen(tok) - 1, name,
	    sizeof(name)), AMTP_E_AUTH);		/* 42 random chars */
	assert_int_equal(site_auth_agent_token_name(tok, strlen(tok), name, 5),
	    AMTP_E_AUTH);			/* name too long */
	snprintf(tok, sizeof(tok), ".%s", a);
	assert_int_equal(site_auth_agent_token_name(tok, strlen(tok), name,
	    sizeof(name)), AMTP_E_AUTH);
	/* SHA-256("abc") */
	assert_int_equal(site_auth_sha256_hex("abc", 3, hex), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a3"
	    "96177a9cb410ff61f20015ad");
	assert_int_equal(site_auth_agent_cred_hash("abc", 3, h), 0);
	assert_string_equal(h, "sha256:ba7816bf8f01cfea414140de5dae2223b0036"
	    "1a396177a9cb410ff61f20015ad");
}

static char dir[] = "/tmp/amtp_site_auth_XXXXXX";

static const char *
write_secret(const char *content, mode_t mode)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/enrol", dir);
	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void
test_enrol(void **state)
{
	uint8_t h[32];
	char err[256], big[AMTP_SITE_ENROL_SECRET_MAX + 8];
	const char *p;

	(void)state;
	assert_non_null(mkdtemp(dir));
	p = write_secret("0123456789abcdef0123\n", 0600);
	assert_int_equal(site_auth_enrol_load(p, h, err, sizeof(err)), 0);
	assert_true(site_auth_enrol_check(h, "0123456789abcdef0123", 20));
	assert_false(site_auth_enrol_check(h, "0123456789abcdef012", 19));
	assert_false(site_auth_enrol_check(h, "0123456789abcdef0124", 20));
	/* group or other may read: refused */
	p = write_secret("0123456789abcdef0123\n", 0640);
	assert_int_equal(site_auth_enrol_load(p, h, err, sizeof(err)),
	    AMTP_E_PERM);
	assert_non_null(strstr(err, "chmod 600"));
	/* 16 characters pass, 15 do not */
	p = write_secret("0123456789abcdef", 0600);
	assert_int_equal(site_auth_enrol_load(p, h, err, sizeof(err)), 0);
	p = write_secret("0123456789abcde\n", 0600);
	assert_int_equal(site_auth_enrol_load(p, h, err, sizeof(err)),
	    AMTP_E_RANGE);
	memset(big, 'x', AMTP_SITE_ENROL_SECRET_MAX);
	big[AMTP_SITE_ENROL_SECRET_MAX] = '\0';
	p = write_secret(big, 0600);
	assert_int_equal(site_auth_enrol_load(p, h, err, sizeof(err)), 0);
	big[AMTP_SITE_ENROL_SECRET_MAX] = 'x';
	big[AMTP_SITE_ENROL_SECRET_MAX + 1] = '\0';
	p = write_secret(big, 0600);
	assert_int_equal(site_auth_enrol_load(p, h, err, sizeof(err)),
	    AMTP_E_RANGE);
	p = write_secret("0123456789 abcdef0123", 0600);
	assert_int_equal(site_auth_enrol_load(p, h, err, sizeof(err)),
	    AMTP_E_PARSE);
	unlink(p);
	assert_int_equal(site_auth_enrol_load(p, h, err, sizeof(err)),
	    AMTP_E_NOTFOUND);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_enrol),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
