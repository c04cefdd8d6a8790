/* Unit tests for src/lib/conf.c: INI files against a schema. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "amtprov/conf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"

static const char *const modes[] = { "tls", "plain", NULL };

static const struct amtp_conf_key schema[] = {
	{ "site", "name", AMTP_CONF_STR, NULL, 0, 16, NULL, 1,
	    "Name of the site" },
	{ "site", "port", AMTP_CONF_INT, "8443", 1, 65535, NULL, 0,
	    "TCP port of the site API" },
	{ "site", "debug", AMTP_CONF_BOOL, "false", 0, 0, NULL, 0,
	    "Log debug lines" },
	{ "site", "mode", AMTP_CONF_ENUM, "tls", 0, 0, modes, 0,
	    "Transport" },
	{ "site", "roles", AMTP_CONF_LIST, "site, oobsp", 0, 0, NULL, 0,
	    "Roles this process runs" },
	{ "site", "key_file", AMTP_CONF_SECRET_FILE, NULL, 0, 0, NULL, 0,
	    "TLS private key" },
	{ "site", "comment", AMTP_CONF_STR, NULL, 0, 0, NULL, 0,
	    "Free text" },
	{ "wifi.*", "ssid", AMTP_CONF_STR, NULL, 0, 32, NULL, 1,
	    "Network name" },
	{ "wifi.*", "priority", AMTP_CONF_INT, "1", 1, 255, NULL, 0,
	    "Profile priority" },
	{ "db", "path", AMTP_CONF_STR, "/var/lib/amtprov/site.db", 0, 0, NULL,
	    0, "SQLite file" },
	{ NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL },
};

static char errbuf[1024];

/* Loads text (NUL-terminated) against schema; returns the code. */
static int
load(const char *text, struct amtp_conf **c)
{
	return amtp_conf_load_mem("t.conf", text, strlen(text), schema, c,
	    errbuf, sizeof(errbuf));
}

/* Asserts that text fails at line (0: no line) with why in the message. */
static void
expect_fail(const char *text, int line, const char *why)
{
	struct amtp_conf *c = (void *)1;
	char prefix[32];
	int r;

	r = load(text, &c);
	if (r != AMTP_E_CONFIG)
		fail_msg("expected CONFIG, got %d (%s) for <<%s>>", r, errbuf,
		    text);
	assert_null(c);
	if (line > 0)
		snprintf(prefix, sizeof(prefix), "t.conf:%d: ", line);
	else
		snprintf(prefix, sizeof(prefix), "t.conf: ");
	if (strncmp(errbuf, prefix, strlen(prefix)) != 0 ||
	    strstr(errbuf, why) == NULL)
		fail_msg("error \"%s\", wanted prefix \"%s\" and \"%s\"",
		    errbuf, prefix, why);
}

static void
test_good_file(void **state)
{
	struct amtp_conf *c = (void *)1;
	const char *names[4];

	(void)state;
	assert_int_equal(amtp_conf_load(AMTP_SRC_DIR
	    "/tests/fixtures/conf/good.conf", schema, &c, errbuf,
	    sizeof(errbuf)), 0);
	assert_non_null(c);
	assert_string_equal(amtp_conf_str(c, "site", "name"), "Lab Site");
	assert_int_equal(amtp_conf_int(c, "site", "port"), 16993);
	assert_int_equal(amtp_conf_bool(c, "site", "debug"), 1);
	assert_string_equal(amtp_conf_str(c, "site", "mode"), "plain");
	assert_int_equal(amtp_conf_list_len(c, "site", "roles"), 3);
	assert_string_equal(amtp_conf_list_item(c, "site", "roles", 0), "site");
	assert_string_equal(amtp_conf_list_item(c, "site", "roles", 1), "oobsp");
	assert_string_equal(amtp_conf_list_item(c, "site", "roles", 2),
	    "enroll");
	assert_null(amtp_conf_list_item(c, "site", "roles", 3));
	assert_string_equal(amtp_conf_str(c, "site", "key_file"),
	    "/etc/amtprov/tls.key");
	/* No inline comments: the value is verbatim. */
	assert_string_equal(amtp_conf_str(c, "site", "comment"),
	    "a ; b # c = d");

	assert_int_equal(amtp_conf_sections(c, "wifi.*", names, 4), 2);
	assert_string_equal(names[0], "wifi.office");
	assert_string_equal(names[1], "wifi.lab-2");
	assert_int_equal(amtp_conf_sections(c, "wifi.*", names, 1), 2);
	assert_int_equal(amtp_conf_sections(c, "wifi.*", NULL, 0), 2);
	assert_int_equal(amtp_conf_sections(c, "nope.*", names, 4), 0);
	assert_string_equal(amtp_conf_str(c, "wifi.office", "ssid"),
	    "Office WLAN");
	assert_int_equal(amtp_conf_int(c, "wifi.office", "priority"), 5);
	assert_string_equal(amtp_conf_str(c, "wifi.lab-2", "ssid"), "lab");
	assert_int_equal(amtp_conf_int(c, "wifi.lab-2", "priority"), 1);
	/* A section the file does not have gives the defaults. */
	assert_int_equal(amtp_conf_int(c, "wifi.other", "priority"), 1);
	assert_null(amtp_conf_str(c, "wifi.other", "ssid"));
	assert_string_equal(amtp_conf_str(c, "db", "path"),
	    "/var/lib/amtprov/site.db");
	amtp_conf_free(c);
	amtp_conf_free(NULL);
}

static void
test_defaults_and_forms(void **state)
{
	struct amtp_conf *c;

	(void)state;
	/* Only the required key: everything else at its default. */
	assert_int_equal(load("[site]\nname=x\n", &c), 0);
	assert_int_equal(amtp_conf_int(c, "site", "port"), 8443);
	assert_int_equal(amtp_conf_bool(c, "site", "debug"), 0);
	assert_string_equal(amtp_conf_str(c, "site", "mode"), "tls");
	assert_int_equal(amtp_conf_list_len(c, "site", "roles"), 2);
	assert_string_equal(amtp_conf_list_item(c, "site", "roles", 1),
	    "oobsp");
	assert_null(amtp_conf_str(c, "site", "key_file"));
	assert_null(amtp_conf_str(c, "site", "comment"));
	assert_int_equal(amtp_conf_sections(c, "wifi.*", NULL, 0), 0);
	amtp_conf_free(c);

	/* CRLF, a BOM, no final newline, tabs. */
	assert_int_equal(load("\xef\xbb\xbf[site]\r\nname\t=\tx y\r\n"
	    "port = 1\r\ndebug = OFF", &c), 0);
	assert_string_equal(amtp_conf_str(c, "site", "name"), "x y");
	assert_int_equal(amtp_conf_int(c, "site", "port"), 1);
	assert_int_equal(amtp_conf_bool(c, "site", "debug"), 0);
	amtp_conf_free(c);

	/* Every boolean spelling. */
	{
		static const char *const t[] = { "true", "yes", "on", "1",
		    "TRUE", "Yes" };
		static const char *const f[] = { "false", "no", "off", "0",
		    "False" };
		char text[128];
		size_t i;

		for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			snprintf(text, sizeof(text), "[site]\nname=x\ndebug=%s\n",
			    t[i]);
			assert_int_equal(load(text, &c), 0);
			assert_int_equal(amtp_conf_bool(c, "site", "debug"), 1);
			amtp_conf_free(c);
		}
		for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
			snprintf(text, sizeof(text), "[site]\nname=x\ndebug=%s\n",
			    f[i]);
			assert_int_equal(load(text, &c), 0);
			assert_int_equal(amtp_conf_bool(c, "site", "debug"), 0);
			amtp_conf_free(c);
		}
	}

	/* An empty list; a list at AMTP_CONF_LIST_MAX items. */
	assert_int_equal(load("[site]\nname=x\nroles =\n", &c), 0);
	assert_int_equal(amtp_conf_list_len(c, "site", "roles"), 0);
	assert_null(amtp_conf_list_item(c, "site", "roles", 0));
	amtp_conf_free(c);
	{
		char text[512];
		size_t o, i;

		o = (size_t)snprintf(text, sizeof(text), "[site]\nname=x\n"
		    "roles=");
		for (i = 0; i < AMTP_CONF_LIST_MAX; i++)
			o += (size_t)snprintf(text + o, sizeof(text) - o, "%s%zu",
			    i ? "," : "", i % 10);
		assert_true(o < sizeof(text) - 4);
		assert_int_equal(load(text, &c), 0);
		assert_int_equal(amtp_conf_list_len(c, "site", "roles"),
		    AMTP_CONF_LIST_MAX);
		amtp_conf_free(c);
		memcpy(text + o, ",x\n", 4);	/* one item more */
		expect_fail(text, 3, "more than 64 list items");
	}

	/* Int limits: at both ends, and one past each. */
	assert_int_equal(load("[site]\nname=x\nport=65535\n", &c), 0);
	assert_int_equal(amtp_conf_int(c, "site", "port"), 65535);
	amtp_conf_free(c);
	expect_fail("[site]\nname=x\nport=65536\n", 3,
	    "[site] port: value out of range (1..65535)");
	expect_fail("[site]\nname=x\nport=0\n", 3, "out of range");
	expect_fail("[site]\nname=x\nport=-1\n", 3, "out of range");
}

static void
test_rejections(void **state)
{
	(void)state;
	expect_fail("[site]\nname=x\n[nope]\n", 3, "[nope]: unknown section");
	expect_fail("[wifi]\n", 1, "[wifi]: unknown section");
	expect_fail("[wifi.]\n", 1, "unknown section");
	expect_fail("[wifi.a.b]\n", 1, "unknown section");
	expect_fail("[site]\nname=x\nnope = 1\n", 3, "[site] nope: unknown key");
	expect_fail("[site]\nname=x\n[wifi.a]\nssid=s\nport=1\n", 5,
	    "[wifi.a] port: unknown key");
	expect_fail("[site]\nname=x\nport = abc\n", 3,
	    "[site] port: not a decimal integer");
	expect_fail("[site]\nname=x\nport = 1 2\n", 3, "not a decimal integer");
	expect_fail("[site]\nname=x\nport =\n", 3, "not a decimal integer");
	expect_fail("[site]\nname=x\ndebug = maybe\n", 3,
	    "[site] debug: not a boolean");
	expect_fail("[site]\nname=x\nmode = TLS\n", 3,
	    "[site] mode: must be one of: tls, plain");
	expect_fail("[site]\nname = 12345678901234567\n", 2,
	    "[site] name: value longer than 16 bytes");
	expect_fail("[site]\nname=x\nname=y\n", 3,
	    "[site] name: duplicate key (first set at line 2)");
	expect_fail("[site]\nname=x\n\n[site]\n", 4,
	    "[site]: section repeated (first at line 1)");
	expect_fail("[wifi.a]\nssid=1\n[wifi.a]\n", 3, "section repeated");
	expect_fail("[site]\nport=1\n", 1,
	    "[site] name: required key is missing");
	expect_fail("[site]\nname=\n", 1, "[site] name: required key must not "
	    "be empty");
	expect_fail("[site]\nname=x\n[wifi.a]\nssid=a\n[wifi.b]\n", 5,
	    "[wifi.b] ssid: required key is missing");
	expect_fail("", 0, "[site] name: required key is missing (and so is "
	    "the section)");
	expect_fail("# only a comment\n", 0, "required key is missing");
	expect_fail("name=x\n[site]\n", 1, "name: key outside any section");
	expect_fail("[site]\nname: x\n", 2, "expected key = value");
	expect_fail("[site]\nname\n", 2, "expected key = value");
	expect_fail("[site]\n= x\n", 2, "bad key name");
	expect_fail("[site]\nna me = x\n", 2, "bad key name");
	expect_fail("[site\nname=x\n", 1, "malformed section header");
	expect_fail("[site] x\nname=x\n", 1, "malformed section header");
	expect_fail("[si te]\n", 1, "malformed section header");
	expect_fail("[]\n", 1, "malformed section header");
	expect_fail("[site]\nname=x\nroles=a,,b\n", 3,
	    "[site] roles: list item 2 is empty");
	expect_fail("[site]\nname=x\nroles=a, \n", 3, "list item 2 is empty");
	expect_fail("[site]\nname=x\nkey_file=tls.key\n", 3,
	    "[site] key_file: must be the absolute path");
	expect_fail("[site]\nname=x\ncomment=a\x01z\n", 3,
	    "control character 0x01");
	expect_fail("[site]\nname=x\ncomment=a\rz\n", 3, "control character");
	expect_fail("[site]\n\x7f\n", 2, "control character 0x7f");
	/* The first error in the file wins, whichever pass finds it. */
	expect_fail("[site]\nname=x\nnope=1\n[nope]\n", 3, "unknown key");
	expect_fail("[site]\nname=x\n[nope]\nnope=1\n", 3, "unknown section");
	expect_fail("[site]\nname=x\nport=x\nname:y\n", 3, "port");
	expect_fail("[site]\nport=x\n", 2, "port");	/* before required */
}

static void
test_nul_byte(void **state)
{
	static const char text[] = "[site]\nname=x\ncomment=a\0b\n";
	struct amtp_conf *c = (void *)1;

	(void)state;
	assert_int_equal(amtp_conf_load_mem("t.conf", text, sizeof(text) - 1,
	    schema, &c, errbuf, sizeof(errbuf)), AMTP_E_CONFIG);
	assert_null(c);
	assert_string_equal(errbuf, "t.conf:3: NUL byte in line");
	/* A NUL at the very start. */
	assert_int_equal(amtp_conf_load_mem("t.conf", "\0[site]\n", 8,
	    schema, &c, errbuf, sizeof(errbuf)), AMTP_E_CONFIG);
	assert_string_equal(errbuf, "t.conf:1: NUL byte in line");
}

/* "[site]\nname=x\n" then a comment line of n bytes (plus newline). */
static char *
with_line(size_t n, int as_value)
{
	char *t = malloc(n + 64);
	size_t o;

	assert_non_null(t);
	o = (size_t)snprintf(t, 64, "[site]\nname=x\n%s",
	    as_value ? "comment=" : "#");
	memset(t + o, 'v', n - (o - 14));
	o += n - (o - 14);
	memcpy(t + o, "\nport=2\n", 9);
	return t;
}

static void
test_limits(void **state)
{
	struct amtp_conf *c;
	char *t;

	(void)state;
	/* A line of exactly AMTP_CONF_LINE_MAX bytes, then one more. */
	t = with_line(AMTP_CONF_LINE_MAX, 0);
	assert_int_equal(load(t, &c), 0);
	assert_int_equal(amtp_conf_int(c, "site", "port"), 2);
	amtp_conf_free(c);
	free(t);
	t = with_line(AMTP_CONF_LINE_MAX + 1, 0);
	expect_fail(t, 3, "line longer than 4096 bytes");
	free(t);

	/* A value of exactly AMTP_CONF_VALUE_MAX bytes, then one more
	 * (line = "comment=" + value). */
	t = with_line(8 + AMTP_CONF_VALUE_MAX, 1);
	assert_int_equal(load(t, &c), 0);
	assert_int_equal(strlen(amtp_conf_str(c, "site", "comment")),
	    AMTP_CONF_VALUE_MAX);
	amtp_conf_free(c);
	free(t);
	t = with_line(8 + AMTP_CONF_VALUE_MAX + 1, 1);
	expect_fail(t, 3, "[site] comment: value longer than 2048 bytes");
	free(t);

	/* A STR with max 16: exactly 16 is fine. */
	assert_int_equal(load("[site]\nname = 1234567890123456\n", &c), 0);
	amtp_conf_free(c);

	/* Section names: AMTP_CONF_SECTION_MAX long, and one more. */
	{
		char text[256];

		snprintf(text, sizeof(text), "[site]\nname=x\n[wifi.%0*d]\n"
		    "ssid=s\n", AMTP_CONF_SECTION_MAX - 5, 7);
		assert_int_equal(load(text, &c), 0);
		assert_int_equal(amtp_conf_sections(c, "wifi.*", NULL, 0), 1);
		amtp_conf_free(c);
		snprintf(text, sizeof(text), "[site]\nname=x\n[wifi.%0*d]\n"
		    "ssid=s\n", AMTP_CONF_SECTION_MAX - 4, 7);
		expect_fail(text, 3, "section name longer than 48 bytes");
	}

	/* Key names: AMTP_CONF_NAME_MAX + 1 is refused before lookup. */
	{
		char text[256];

		snprintf(text, sizeof(text), "[site]\n%0*d = 1\n",
		    AMTP_CONF_NAME_MAX + 1, 0);
		expect_fail(text, 2, "key name longer than 64 bytes");
	}
}

static void
test_many_sections(void **state)
{
	struct amtp_conf *c;
	char *t;
	size_t o = 0, i, cap = 64 * 1024;

	(void)state;
	assert_non_null(t = malloc(cap));
	o += (size_t)snprintf(t + o, cap - o, "[site]\nname=x\n");
	for (i = 0; i < AMTP_CONF_SECTIONS_MAX - 1; i++)
		o += (size_t)snprintf(t + o, cap - o, "[wifi.w%zu]\nssid=%zu\n",
		    i, i);
	assert_int_equal(load(t, &c), 0);
	assert_int_equal(amtp_conf_sections(c, "wifi.*", NULL, 0),
	    AMTP_CONF_SECTIONS_MAX - 1);
	assert_string_equal(amtp_conf_str(c, "wifi.w254", "ssid"), "254");
	amtp_conf_free(c);
	snprintf(t + o, cap - o, "[wifi.last]\nssid=1\n");
	expect_fail(t, 2 + 2 * (AMTP_CONF_SECTIONS_MAX - 1) + 1,
	    "more than 256 sections");
	free(t);
}

static void
test_file_errors(void **state)
{
	char dir[] = "/tmp/amtp-conf-XXXXXX", path[128];
	struct amtp_conf *c = (void *)1;
	FILE *f;
	char *big;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	assert_int_equal(amtp_conf_load(path, schema, &c, errbuf,
	    sizeof(errbuf)), AMTP_E_NOTFOUND);
	assert_null(c);
	assert_non_null(strstr(errbuf, "missing.conf: file does not exist"));
	assert_int_equal(amtp_conf_load(dir, schema, &c, errbuf,
	    sizeof(errbuf)), AMTP_E_CONFIG);
	assert_non_null(strstr(errbuf, "not a regular file"));

	/* One byte over AMTP_CONF_FILE_MAX; then exactly at it. */
	snprintf(path, sizeof(path), "%s/big.conf", dir);
	assert_non_null(big = malloc(AMTP_CONF_FILE_MAX + 1));
	memset(big, '\n', AMTP_CONF_FILE_MAX + 1);
	memcpy(big, "[site]\nname=x\n#", 15);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(big, 1, AMTP_CONF_FILE_MAX + 1, f),
	    AMTP_CONF_FILE_MAX + 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(amtp_conf_load(path, schema, &c, errbuf,
	    sizeof(errbuf)), AMTP_E_TOOBIG);
	assert_non_null(strstr(errbuf, "larger than"));
	assert_int_equal(amtp_conf_load_mem("m", big, AMTP_CONF_FILE_MAX + 1,
	    schema, &c, errbuf, sizeof(errbuf)), AMTP_E_TOOBIG);
	assert_int_equal(truncate(path, AMTP_CONF_FILE_MAX), 0);
	assert_int_equal(amtp_conf_load(path, schema, &c, errbuf,
	    sizeof(errbuf)), 0);
	assert_string_equal(amtp_conf_str(c, "site", "name"), "x");
	amtp_conf_free(c);

	if (geteuid() != 0) {
		assert_int_equal(chmod(path, 0), 0);
		assert_int_equal(amtp_conf_load(path, schema, &c, errbuf,
		    sizeof(errbuf)), AMTP_E_PERM);
	}
	unlink(path);
	rmdir(dir);
	free(big);

	/* err may be NULL. */
	assert_int_equal(amtp_conf_load_mem("m", "[x]", 3, schema, &c, NULL,
	    0), AMTP_E_CONFIG);
}

static void
test_bad_schema(void **state)
{
	static const struct amtp_conf_key bad_def[] = {
		{ "s", "n", AMTP_CONF_INT, "70000", 1, 65535, NULL, 0, "" },
		{ NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL },
	};
	static const struct amtp_conf_key no_choices[] = {
		{ "s", "n", AMTP_CONF_ENUM, NULL, 0, 0, NULL, 0, "" },
		{ NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL },
	};
	static const struct amtp_conf_key twice[] = {
		{ "s", "n", AMTP_CONF_STR, NULL, 0, 0, NULL, 0, "" },
		{ "s", "n", AMTP_CONF_STR, NULL, 0, 0, NULL, 0, "" },
		{ NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL },
	};
	struct amtp_conf *c = (void *)1;

	(void)state;
	assert_int_equal(amtp_conf_load_mem("m", "", 0, bad_def, &c, errbuf,
	    sizeof(errbuf)), AMTP_E_INVAL);
	assert_null(c);
	assert_non_null(strstr(errbuf, "[s] n: bad default"));
	assert_int_equal(amtp_conf_load_mem("m", "", 0, no_choices, &c, errbuf,
	    sizeof(errbuf)), AMTP_E_INVAL);
	assert_int_equal(amtp_conf_load_mem("m", "", 0, twice, &c, errbuf,
	    sizeof(errbuf)), AMTP_E_INVAL);
	assert_non_null(strstr(errbuf, "listed twice"));
	assert_int_equal(amtp_conf_load_mem("m", "", 0, NULL, &c, errbuf,
	    sizeof(errbuf)), AMTP_E_INVAL);
}

/* Runs fn in a child and asserts that it aborts. */
static void
expect_abort(void (*fn)(const struct amtp_conf *), const struct amtp_conf *c)
{
	pid_t pid;
	int st;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		/* Keep ASan from reporting the deliberate abort noisily. */
		fclose(stderr);
		fn(c);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}

static void
get_unknown_key(const struct amtp_conf *c)
{
	(void)amtp_conf_str(c, "site", "nope");
}

static void
get_unknown_section(const struct amtp_conf *c)
{
	(void)amtp_conf_str(c, "nope", "name");
}

static void
get_wrong_type(const struct amtp_conf *c)
{
	(void)amtp_conf_int(c, "site", "name");
}

static void
test_getter_misuse(void **state)
{
	struct amtp_conf *c;

	(void)state;
	assert_int_equal(load("[site]\nname=x\n", &c), 0);
	expect_abort(get_unknown_key, c);
	expect_abort(get_unknown_section, c);
	expect_abort(get_wrong_type, c);
	amtp_conf_free(c);
}

static void
test_write_defaults(void **state)
{
	static const struct amtp_conf_key rt[] = {
		{ "site", "name", AMTP_CONF_STR, "lab", 0, 16, NULL, 1,
		    "Name of the site" },
		{ "site", "port", AMTP_CONF_INT, "8443", 1, 65535, NULL, 0,
		    "TCP port of the site API" },
		{ "site", "mode", AMTP_CONF_ENUM, "tls", 0, 0, modes, 0,
		    "Transport" },
		{ "site", "roles", AMTP_CONF_LIST, "site, oobsp", 0, 0, NULL, 0,
		    "Roles" },
		{ "site", "debug", AMTP_CONF_BOOL, "no", 0, 0, NULL, 0,
		    "Debug" },
		{ "site", "key_file", AMTP_CONF_SECRET_FILE, NULL, 0, 0, NULL,
		    0, "Key" },
		{ "wifi.*", "ssid", AMTP_CONF_STR, NULL, 0, 32, NULL, 1,
		    "Network name" },
		{ "db", "path", AMTP_CONF_STR, "/x.db", 0, 0, NULL, 0, "DB" },
		{ NULL, NULL, 0, NULL, 0, 0, NULL, 0, NULL },
	};
	struct amtp_conf *c = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_non_null(f = open_memstream(&text, &len));
	assert_int_equal(amtp_conf_write_defaults(f, rt), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(text, "\n[site]\n"));
	assert_non_null(strstr(text, "# TCP port of the site API\n"
	    "# integer, 1..65535\n#port = 8443\n"));
	assert_non_null(strstr(text, "# choice, one of: tls plain\n"
	    "#mode = tls\n"));
	assert_non_null(strstr(text, "\nname = lab\n"));	/* required: live */
	assert_non_null(strstr(text, "#[wifi.NAME]\n"));
	assert_non_null(strstr(text, "#ssid = \n"));
	assert_non_null(strstr(text, "\n[db]\n"));
	/* The round trip: what it writes, it reads back, at the defaults. */
	assert_int_equal(amtp_conf_load_mem("defaults", text, len, rt, &c,
	    errbuf, sizeof(errbuf)), 0);
	assert_string_equal(amtp_conf_str(c, "site", "name"), "lab");
	assert_int_equal(amtp_conf_int(c, "site", "port"), 8443);
	assert_int_equal(amtp_conf_list_len(c, "site", "roles"), 2);
	assert_int_equal(amtp_conf_sections(c, "wifi.*", NULL, 0), 0);
	amtp_conf_free(c);
	free(text);

	/* A required key without a default cannot be written live: the
	 * file says so, and loading it names the key to set. */
	text = NULL;
	assert_non_null(f = open_memstream(&text, &len));
	assert_int_equal(amtp_conf_write_defaults(f, schema), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(text, "# text, at most 16 bytes; required\n#name = \n"));
	assert_int_equal(amtp_conf_load_mem("defaults", text, len, schema, &c,
	    errbuf, sizeof(errbuf)), AMTP_E_CONFIG);
	assert_non_null(strstr(errbuf, "[site] name: required key is missing"));
	/* Uncommenting it is all it takes. */
	{
		char *p = strstr(text, "#name = \n");
		char *fixed;

		assert_non_null(p);
		assert_true(asprintf(&fixed, "%.*sname = here\n%s",
		    (int)(p - text), text, p + strlen("#name = \n")) > 0);
		assert_int_equal(amtp_conf_load_mem("defaults", fixed,
		    strlen(fixed), schema, &c, errbuf, sizeof(errbuf)), 0);
		assert_string_equal(amtp_conf_str(c, "site", "name"), "here");
		amtp_conf_free(c);
		free(fixed);
	}
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_defaults_and_forms),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_many_sections),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_bad_schema),
		cmocka_unit_test(test_getter_misuse),
		cmocka_unit_test(test_write_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
