/* Unit tests for src/cli/fmt.c, clicfg.c and the offline parts of
 * client.c (token file rules, query escaping, typed JSON getters). */
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

static char *
table_text(const struct cli_table *t)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(cli_table_print(t, f), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void
test_table_align(void **state)
{
	static const char *const head[] = { "ID", "HOST", "STATUS" };
	static const char *const r1[] = { "1", "pc-long-name", "provisioned" };
	static const char *const r2[] = { "12", "pc2", NULL };
	struct cli_table *t = NULL;
	char *text;

	(void)state;
	assert_int_equal(cli_table_new(3, head, &t), 0);
	assert_int_equal(cli_table_rows(t), 0);
	assert_int_equal(cli_table_add(t, r1), 0);
	assert_int_equal(cli_table_add(t, r2), 0);
	assert_int_equal(cli_table_rows(t), 2);
	text = table_text(t);
	assert_string_equal(text,
	    "ID  HOST          STATUS\n"
	    "1   pc-long-name  provisioned\n"
	    "12  pc2           \n");
	free(text);
	cli_table_free(t);
	cli_table_free(NULL);
}

static void
test_table_limits(void **state)
{
	static const char *const head[] = { "A" };
	struct cli_table *t = NULL;
	const char *row[1];
	char cell[CLI_CELL_MAX + 2], *text;
	size_t i;

	(void)state;
	assert_int_equal(cli_table_new(0, head, &t), AMTP_E_INVAL);
	assert_null(t);
	assert_int_equal(cli_table_new(CLI_COLS_MAX + 1, head, &t),
	    AMTP_E_INVAL);
	assert_int_equal(cli_table_new(1, head, &t), 0);
	/* exactly at the cell limit: kept whole; one over: cut with ... */
	memset(cell, 'x', CLI_CELL_MAX);
	cell[CLI_CELL_MAX] = '\0';
	row[0] = cell;
	assert_int_equal(cli_table_add(t, row), 0);
	cell[CLI_CELL_MAX] = 'y';
	cell[CLI_CELL_MAX + 1] = '\0';
	assert_int_equal(cli_table_add(t, row), 0);
	/* control characters never reach the terminal */
	row[0] = "a\033[2Jb\nc\x7f";
	assert_int_equal(cli_table_add(t, row), 0);
	/* many rows: the cell array grows */
	for (i = 0; i < 100; i++) {
		row[0] = "r";
		assert_int_equal(cli_table_add(t, row), 0);
	}
	text = table_text(t);
	assert_non_null(strstr(text, "\na?[2Jb?c?\n"));
	cell[CLI_CELL_MAX] = '\0';
	assert_non_null(strstr(text, cell));
	assert_null(strstr(text, "y"));
	assert_non_null(strstr(text, "xxx...\n"));
	free(text);
	cli_table_free(t);
}

static void
test_clean(void **state)
{
	char d[8];

	(void)state;
	cli_fmt_clean("abc", 10, d, sizeof(d));
	assert_string_equal(d, "abc");
	cli_fmt_clean(NULL, 10, d, sizeof(d));
	assert_string_equal(d, "");
	cli_fmt_clean("abcdef", 3, d, sizeof(d));	/* max 3: cut */
	assert_string_equal(d, "abc...");
	cli_fmt_clean("abcdefghijk", 100, d, sizeof(d));	/* dst bound */
	assert_string_equal(d, "abcdefg");
	cli_fmt_clean("\xc3\xa9t\xc3\xa9", 100, d, sizeof(d));
	assert_string_equal(d, "??t??");
}

static void
test_age(void **state)
{
	char d[16];
	time_t now = 1000000;

	(void)state;
	cli_fmt_age(now, 0, d, sizeof(d));
	assert_string_equal(d, "-");
	cli_fmt_age(now, now, d, sizeof(d));
	assert_string_equal(d, "0s");
	cli_fmt_age(now, now - 59, d, sizeof(d));
	assert_string_equal(d, "59s");
	cli_fmt_age(now, now - 60, d, sizeof(d));
	assert_string_equal(d, "1m");
	cli_fmt_age(now, now - 3599, d, sizeof(d));
	assert_string_equal(d, "59m");
	cli_fmt_age(now, now - 3600, d, sizeof(d));
	assert_string_equal(d, "1h");
	cli_fmt_age(now, now - 86400 * 3, d, sizeof(d));
	assert_string_equal(d, "3d");
	cli_fmt_age(now, now + 30, d, sizeof(d));	/* small skew: 0 */
	assert_string_equal(d, "0s");
	cli_fmt_age(now, now + 61, d, sizeof(d));	/* future: unknown */
	assert_string_equal(d, "-");
}

static void
test_duration(void **state)
{
	char d[24];

	(void)state;
	cli_fmt_duration(0, 0, 100, d, sizeof(d));
	assert_string_equal(d, "-");
	cli_fmt_duration(100, 100, 0, d, sizeof(d));
	assert_string_equal(d, "0s");
	cli_fmt_duration(100, 159, 0, d, sizeof(d));
	assert_string_equal(d, "59s");
	cli_fmt_duration(100, 285, 0, d, sizeof(d));
	assert_string_equal(d, "3m05s");
	cli_fmt_duration(100, 100 + 7800, 0, d, sizeof(d));
	assert_string_equal(d, "2h10m");
	cli_fmt_duration(100, 50, 0, d, sizeof(d));	/* end before start */
	assert_string_equal(d, "0s");
	cli_fmt_duration(100, 0, 112, d, sizeof(d));	/* still open */
	assert_string_equal(d, "+12s");
	cli_fmt_duration(100, 0, 90, d, sizeof(d));
	assert_string_equal(d, "+0s");
}

static void
test_time_and_bar(void **state)
{
	char d[40];

	(void)state;
	cli_fmt_time(0, d, sizeof(d));
	assert_string_equal(d, "-");
	cli_fmt_time(1795852614, d, sizeof(d));
	assert_string_equal(d, "2026-11-28 07:56:54");
	cli_fmt_bar(0, 0, 10, d, sizeof(d));
	assert_string_equal(d, "[..........]");
	cli_fmt_bar(5, 10, 10, d, sizeof(d));
	assert_string_equal(d, "[#####.....]");
	cli_fmt_bar(10, 10, 10, d, sizeof(d));
	assert_string_equal(d, "[##########]");
	cli_fmt_bar(12, 10, 10, d, sizeof(d));	/* over: full */
	assert_string_equal(d, "[##########]");
	cli_fmt_bar(1, 3, 4, d, sizeof(d));
	assert_string_equal(d, "[#...]");
	cli_fmt_bar(1, 2, 37, d, sizeof(d));	/* exactly fits (37+2+1) */
	assert_int_equal(strlen(d), 39);
	cli_fmt_bar(1, 2, 38, d, sizeof(d));	/* one over: empty */
	assert_string_equal(d, "");
}

static void
test_query_escape(void **state)
{
	char d[16], big[32];

	(void)state;
	assert_int_equal(cli_query_escape("not provisioned", big,
	    sizeof(big)), 0);
	assert_string_equal(big, "not%20provisioned");
	/* escaped it is 17 bytes: too long for 16 */
	assert_int_equal(cli_query_escape("not provisioned", d, sizeof(d)),
	    AMTP_E_TOOBIG);
	assert_int_equal(cli_query_escape("a&b=c", d, sizeof(d)), 0);
	assert_string_equal(d, "a%26b%3Dc");
	assert_int_equal(cli_query_escape("", d, sizeof(d)), 0);
	assert_string_equal(d, "");
	assert_int_equal(cli_query_escape("0123456789abcde", d, sizeof(d)),
	    0);	/* 15 bytes: exactly fits */
	assert_int_equal(cli_query_escape("0123456789abcdef", d, sizeof(d)),
	    AMTP_E_TOOBIG);
}

static void
test_json_getters(void **state)
{
	json_t *o;

	(void)state;
	o = json_pack("{s:s, s:i, s:b, s:i, s:s}", "s", "x", "i", 7, "b", 1,
	    "si", 3, "is", "9");
	assert_non_null(o);
	assert_string_equal(cli_json_str(o, "s"), "x");
	assert_string_equal(cli_json_str(o, "si"), "");	/* wrong type */
	assert_string_equal(cli_json_str(o, "missing"), "");
	assert_string_equal(cli_json_str(NULL, "s"), "");
	assert_int_equal(cli_json_int(o, "i"), 7);
	assert_int_equal(cli_json_int(o, "is"), 0);	/* wrong type */
	assert_int_equal(cli_json_bool(o, "b"), 1);
	assert_int_equal(cli_json_bool(o, "i"), 0);
	json_decref(o);
}

/* Writes a token file with mode; returns its path (static). */
static const char *
token_file(const char *text, mode_t mode)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/amtp_cli_unit_%d.token",
	    (int)getpid());
	unlink(path);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void
test_client_token_rules(void **state)
{
	struct cli_client *c = NULL;
	struct cli_cfg cfg;
	char err[512];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.url, sizeof(cfg.url), "%s", "https://127.0.0.1:8443/");
	snprintf(cfg.ca_file, sizeof(cfg.ca_file), "%s", "/nonexistent/ca.pem");
	snprintf(cfg.token_file, sizeof(cfg.token_file), "%s", token_file("AAAAAAAAAAAAAAAA\n", 0600));
	/* 16 characters: the shortest token */
	assert_int_equal(cli_client_new(&cfg, &c, err, sizeof(err)), 0);
	assert_string_equal(cli_client_url(c), "https://127.0.0.1:8443");
	cli_client_free(c);
	c = NULL;
	snprintf(cfg.token_file, sizeof(cfg.token_file), "%s", token_file("AAAAAAAAAAAAAAA", 0600));
	assert_int_equal(cli_client_new(&cfg, &c, err, sizeof(err)),
	    AMTP_E_PARSE);
	assert_null(c);
	assert_non_null(strstr(err, "16 to 256"));
	snprintf(cfg.token_file, sizeof(cfg.token_file), "%s", token_file("AAAAAAAA AAAAAAAAA", 0600));
	assert_int_equal(cli_client_new(&cfg, &c, err, sizeof(err)),
	    AMTP_E_PARSE);
	assert_non_null(strstr(err, "character 9"));
	snprintf(cfg.token_file, sizeof(cfg.token_file), "%s", token_file("AAAAAAAAAAAAAAAAAAAA", 0644));
	assert_int_equal(cli_client_new(&cfg, &c, err, sizeof(err)),
	    AMTP_E_PERM);
	unlink(cfg.token_file);
	assert_int_equal(cli_client_new(&cfg, &c, err, sizeof(err)),
	    AMTP_E_NOTFOUND);
	snprintf(cfg.url, sizeof(cfg.url), "%s", "http://127.0.0.1:8443");
	assert_int_equal(cli_client_new(&cfg, &c, err, sizeof(err)),
	    AMTP_E_INVAL);
	assert_non_null(strstr(err, "https://"));
	assert_null(c);
}

static void
test_cfg_roundtrip(void **state)
{
	struct cli_cfg in, out;
	char path[64], err[512];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/amtp_cli_unit_%d.conf",
	    (int)getpid());
	unlink(path);
	memset(&in, 0, sizeof(in));
	snprintf(in.url, sizeof(in.url), "%s", "https://site.example.test:8443");
	snprintf(in.ca_file, sizeof(in.ca_file), "%s", "ca-chain.pem");
	snprintf(in.token_file, sizeof(in.token_file), "%s", "/etc/amtprov/admin.token");
	assert_int_equal(cli_cfg_write(path, &in), 0);
	assert_int_equal(cli_cfg_load(path, &out, err, sizeof(err)), 0);
	assert_string_equal(out.url, in.url);
	assert_string_equal(out.ca_file, "/tmp/ca-chain.pem");	/* relative */
	assert_string_equal(out.token_file, "/etc/amtprov/admin.token");
	/* an unknown key is refused, naming it */
	assert_non_null(f = fopen(path, "a"));
	fputs("colour = blue\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(cli_cfg_load(path, &out, err, sizeof(err)),
	    AMTP_E_CONFIG);
	assert_non_null(strstr(err, "colour"));
	unlink(path);
	assert_int_equal(cli_cfg_load(path, &out, err, sizeof(err)),
	    AMTP_E_NOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_align),
		cmocka_unit_test(test_table_limits),
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_time_and_bar),
		cmocka_unit_test(test_query_escape),
		cmocka_unit_test(test_json_getters),
		cmocka_unit_test(test_client_token_rules),
		cmocka_unit_test(test_cfg_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
