/* Unit tests for src/amtprovd/dir/: the SPNs, and one suite of account
 * cases run against the built-in directory (a real SQLite store) and, when
 * AMTP_TEST_LDAP_URI is set (tests/integration/dir_ldap.sh sets it and starts
 * slapd), against LDAP.
 *
 * Also a driver for that script:
 *	unit_amtprovd_dir drive create|disable|delete|reconnect FQDN
 * acts once on the LDAP directory named by the environment and exits 0 on
 * success, so that the script can check the result with ldapsearch
 * ("reconnect" creates, waits for a line on stdin while the script restarts
 * slapd, then disables through the same, now dead, connection). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/rand.h"
#include "amtprov/secret.h"

#include "dir/dir.h"
#include "store/store.h"

#define FQDN	"amt-dev1.fleet.example.test"
#define HOST	"amt-dev1"

struct fixture {
	struct amtp_master_key *mk;
	struct amtp_store *st;
	struct amtp_dir *d;
	struct amtp_secret *bind_pw;
	const char *container;
	int ldap;
};

static const char *
env(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : def;
}

/* The LDAP directory of the environment; 0, or an error with err set. */
static int
open_ldap_env(struct amtp_dir **d, struct amtp_secret **pw, char *err,
    size_t errlen)
{
	struct amtp_dir_ldap_conf c;
	int r;

	memset(&c, 0, sizeof(c));
	c.uri = env("AMTP_TEST_LDAP_URI", NULL);
	c.bind_dn = env("AMTP_TEST_LDAP_BIND_DN", NULL);
	c.sasl_mech = env("AMTP_TEST_LDAP_SASL", NULL);
	c.ca_file = env("AMTP_TEST_LDAP_CA", NULL);
	c.starttls = strcmp(env("AMTP_TEST_LDAP_STARTTLS", "0"), "1") == 0;
	c.password_attr = "userPassword";
	*pw = NULL;
	if (c.bind_dn != NULL && (r = amtp_secret_from_cstr(
	    env("AMTP_TEST_LDAP_BIND_PW", ""), pw)) != 0)
		return r;
	c.bind_pw = *pw;
	return amtp_dir_open_ldap(&c, d, err, errlen);
}

static int
setup_builtin(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	uint8_t key[32];
	char err[256];

	memset(key, 7, sizeof(key));
	if (f == NULL || amtp_master_key_from_bytes(key, &f->mk) != 0 ||
	    amtp_store_open("sqlite::memory:", f->mk, &f->st, err,
	    sizeof(err)) != 0 || amtp_dir_open_builtin(f->st, &f->d) != 0)
		return -1;
	f->container = "ou=AMT,dc=fleet,dc=example,dc=test";
	*state = f;
	return 0;
}

static int
setup_ldap(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	if (f == NULL)
		return -1;
	f->ldap = 1;
	f->container = env("AMTP_TEST_LDAP_CONTAINER",
	    "ou=AMT,dc=fleet,dc=example,dc=test");
	*state = f;
	if (getenv("AMTP_TEST_LDAP_URI") == NULL)
		return 0;	/* the cases skip */
	if (open_ldap_env(&f->d, &f->bind_pw, err, sizeof(err)) != 0) {
		fprintf(stderr, "ldap: %s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	amtp_dir_close(f->d);
	amtp_store_close(f->st);
	amtp_master_key_free(f->mk);
	amtp_secret_free(f->bind_pw);
	free(f);
	return 0;
}

static struct fixture *
fx(void **state)
{
	struct fixture *f = *state;

	if (f->d == NULL)
		skip();		/* LDAP without a server: not this run */
	return f;
}

static int
has_spn(const struct amtp_dir_account *a, const char *spn)
{
	size_t i;

	for (i = 0; i < a->n_spns; i++)
		if (strcmp(a->spns[i], spn) == 0)
			return 1;
	return 0;
}

static void
assert_spns(const struct amtp_dir_account *a)
{
	assert_int_equal(a->n_spns, 4);
	assert_true(has_spn(a, "HTTP/" FQDN ":16992"));
	assert_true(has_spn(a, "HTTP/" FQDN ":16993"));
	assert_true(has_spn(a, "HTTP/" HOST ":16992"));
	assert_true(has_spn(a, "HTTP/" HOST ":16993"));
}

static void
test_spns(void **state)
{
	char s[AMTP_DIR_SPN_COUNT][AMTP_DIR_SPN_MAX + 1];

	(void)state;
	assert_int_equal(amtp_dir_spns(FQDN, NULL, s), 0);
	assert_string_equal(s[0], "HTTP/" FQDN ":16992");
	assert_string_equal(s[1], "HTTP/" FQDN ":16993");
	assert_string_equal(s[2], "HTTP/" HOST ":16992");
	assert_string_equal(s[3], "HTTP/" HOST ":16993");
	assert_int_equal(amtp_dir_spns(FQDN, "other", s), 0);
	assert_string_equal(s[3], "HTTP/other:16993");
	assert_int_equal(amtp_dir_spns("bad name.test", NULL, s), AMTP_E_INVAL);
	assert_int_equal(amtp_dir_spns(FQDN, "a.b", s), AMTP_E_INVAL);
	assert_int_equal(amtp_dir_spns("", NULL, s), AMTP_E_INVAL);
	assert_int_equal(amtp_dir_spns("x,cn=evil", NULL, s), AMTP_E_INVAL);
}

/* The suite both back ends pass. */
static void
test_account_lifecycle(void **state)
{
	struct fixture *f = fx(state);
	struct amtp_secret *pw = NULL, *pw2 = NULL;
	struct amtp_dir_account a;
	int created = -1;

	assert_int_equal(amtp_rand_password(AMTP_DIR_PASSWORD_LEN, &pw), 0);
	assert_int_equal(amtp_rand_password(AMTP_DIR_PASSWORD_LEN, &pw2), 0);
	/* Clean slate (an earlier run may have left it). */
	(void)amtp_dir_delete_account(f->d, f->container, HOST);
	assert_int_equal(amtp_dir_get_account(f->d, f->container, HOST, &a),
	    AMTP_E_NOTFOUND);

	assert_int_equal(amtp_dir_create_account(f->d, f->container, FQDN,
	    NULL, 0, pw, &created, &a), 0);
	assert_int_equal(created, 1);
	assert_string_equal(a.name, HOST);
	assert_true(a.enabled);
	assert_spns(&a);
	assert_non_null(strstr(a.dn, f->container));

	/* Idempotent: the same account, the same four SPNs, a new password. */
	assert_int_equal(amtp_dir_create_account(f->d, f->container, FQDN,
	    HOST, 0, pw2, &created, &a), 0);
	assert_int_equal(created, 0);
	assert_spns(&a);
	memset(&a, 0, sizeof(a));
	assert_int_equal(amtp_dir_get_account(f->d, f->container, HOST, &a), 0);
	assert_spns(&a);

	/* Not in another container, not under another name. */
	assert_int_equal(amtp_dir_get_account(f->d,
	    "ou=Other,dc=fleet,dc=example,dc=test", HOST, &a), AMTP_E_NOTFOUND);
	assert_int_equal(amtp_dir_get_account(f->d, f->container, "amt-dev2",
	    &a), AMTP_E_NOTFOUND);

	/* Disable (unprovisioned), re-enable by creating again. */
	assert_int_equal(amtp_dir_disable_account(f->d, f->container, HOST), 0);
	assert_int_equal(amtp_dir_get_account(f->d, f->container, HOST, &a), 0);
	assert_false(a.enabled);
	assert_int_equal(amtp_dir_create_account(f->d, f->container, FQDN,
	    HOST, 0, pw, &created, &a), 0);
	assert_int_equal(created, 0);
	assert_true(a.enabled);

	/* Delete; then everything says not found. */
	assert_int_equal(amtp_dir_delete_account(f->d, f->container, HOST), 0);
	assert_int_equal(amtp_dir_get_account(f->d, f->container, HOST, &a),
	    AMTP_E_NOTFOUND);
	assert_int_equal(amtp_dir_delete_account(f->d, f->container, HOST),
	    AMTP_E_NOTFOUND);
	assert_int_equal(amtp_dir_disable_account(f->d, f->container, HOST),
	    AMTP_E_NOTFOUND);
	amtp_secret_free(pw);
	amtp_secret_free(pw2);
}

static void
test_bad_input(void **state)
{
	struct fixture *f = fx(state);
	struct amtp_secret *pw = NULL;
	struct amtp_dir_account a;
	char longc[AMTP_DIR_DN_MAX + 2];

	assert_int_equal(amtp_secret_from_cstr("Aa1!aaaa", &pw), 0);
	assert_int_equal(amtp_dir_create_account(f->d, "", FQDN, NULL, 0, pw,
	    NULL, NULL), AMTP_E_INVAL);
	assert_int_equal(amtp_dir_create_account(f->d, f->container,
	    "x,cn=admin", NULL, 0, pw, NULL, NULL), AMTP_E_INVAL);
	assert_int_equal(amtp_dir_create_account(f->d, f->container, FQDN,
	    "h.x", 0, pw, NULL, NULL), AMTP_E_INVAL);
	assert_int_equal(amtp_dir_create_account(f->d, f->container, FQDN,
	    NULL, 0, NULL, NULL, NULL), AMTP_E_INVAL);
	memset(longc, 'a', sizeof(longc) - 1);
	longc[sizeof(longc) - 1] = '\0';
	assert_int_equal(amtp_dir_create_account(f->d, longc, FQDN, NULL, 0,
	    pw, NULL, NULL), AMTP_E_INVAL);
	assert_int_equal(amtp_dir_get_account(f->d, f->container, "a*", &a),
	    AMTP_E_INVAL);
	assert_int_equal(amtp_dir_delete_account(f->d, f->container, "a)("),
	    AMTP_E_INVAL);
	amtp_secret_free(pw);
}

/* Built-in only: the password is escrowed in the store, and an SPN cannot
 * belong to two accounts. */
static void
test_builtin_store(void **state)
{
	struct fixture *f = fx(state);
	struct amtp_secret *pw = NULL, *back = NULL;

	assert_string_equal(amtp_dir_backend(f->d), "builtin");
	assert_int_equal(amtp_rand_password(AMTP_DIR_PASSWORD_LEN, &pw), 0);
	assert_int_equal(amtp_dir_create_account(f->d, f->container, FQDN,
	    NULL, 0, pw, NULL, NULL), 0);
	assert_int_equal(amtp_store_diracct_get_password(f->st, HOST, &back), 0);
	assert_true(amtp_secret_equal(pw, back));
	amtp_secret_free(back);
	assert_int_equal(amtp_dir_create_account(f->d, f->container, FQDN,
	    "amt-dev1b", 0, pw, NULL, NULL), AMTP_E_CONFLICT);
	assert_int_equal(amtp_dir_delete_account(f->d, f->container, HOST), 0);
	amtp_secret_free(pw);
}

/* LDAP only: the account can bind with its password (OpenLDAP's
 * userPassword), and a wrong bind password is refused. */
static void
test_ldap_bind(void **state)
{
	struct fixture *f = fx(state);
	struct amtp_dir_ldap_conf c;
	struct amtp_secret *pw = NULL, *bad = NULL, *brace = NULL;
	struct amtp_dir_account a;
	struct amtp_dir *d2 = NULL;
	char err[256];

	assert_string_equal(amtp_dir_backend(f->d), "ldap");
	assert_int_equal(amtp_rand_password(AMTP_DIR_PASSWORD_LEN, &pw), 0);
	assert_int_equal(amtp_dir_create_account(f->d, f->container, FQDN,
	    NULL, 0, pw, NULL, &a), 0);
	memset(&c, 0, sizeof(c));
	c.uri = getenv("AMTP_TEST_LDAP_URI");
	c.ca_file = env("AMTP_TEST_LDAP_CA", NULL);
	c.starttls = strcmp(env("AMTP_TEST_LDAP_STARTTLS", "0"), "1") == 0;
	c.password_attr = "userPassword";
	c.bind_dn = a.dn;
	c.bind_pw = pw;
	if (strncmp(c.uri, "ldapi://", 8) != 0) {
		assert_int_equal(amtp_dir_open_ldap(&c, &d2, err, sizeof(err)),
		    0);
		amtp_dir_close(d2);
		d2 = NULL;
		assert_int_equal(amtp_secret_from_cstr("wrong-password", &bad),
		    0);
		c.bind_pw = bad;
		assert_int_equal(amtp_dir_open_ldap(&c, &d2, err, sizeof(err)),
		    AMTP_E_AUTH);
		assert_null(d2);
		assert_true(strlen(err) > 0);
		/* A password that looks like a scheme name still binds: slapd
		 * would take a clear "{SHA}..." value for a hash, so
		 * userPassword is stored as {SSHA} (a random password starts
		 * with '{' about once in 80). */
		assert_int_equal(amtp_secret_from_cstr("{SHA}x9-Abc!q", &brace),
		    0);
		assert_int_equal(amtp_dir_create_account(f->d, f->container,
		    FQDN, NULL, 0, brace, NULL, &a), 0);
		c.bind_pw = brace;
		assert_int_equal(amtp_dir_open_ldap(&c, &d2, err, sizeof(err)),
		    0);
		amtp_dir_close(d2);
		d2 = NULL;
	}
	/* Settings errors are found before connecting. */
	c.bind_pw = pw;
	c.spn_attr = "bad attr";
	assert_int_equal(amtp_dir_open_ldap(&c, &d2, err, sizeof(err)),
	    AMTP_E_CONFIG);
	c.spn_attr = NULL;
	c.password_attr = NULL;		/* unicodePwd without TLS */
	c.starttls = 0;
	if (strncmp(c.uri, "ldap://", 7) == 0)
		assert_int_equal(amtp_dir_open_ldap(&c, &d2, err, sizeof(err)),
		    AMTP_E_CONFIG);
	assert_int_equal(amtp_dir_delete_account(f->d, f->container, HOST), 0);
	amtp_secret_free(pw);
	amtp_secret_free(bad);
	amtp_secret_free(brace);
}

static int
drive(int argc, char **argv)
{
	struct amtp_secret *bpw = NULL, *pw = NULL;
	struct amtp_dir *d = NULL;
	const char *container = env("AMTP_TEST_LDAP_CONTAINER",
	    "ou=AMT,dc=fleet,dc=example,dc=test");
	char err[256], host[AMTP_DIR_NAME_MAX + 1];
	const char *dot;
	int r, created = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: %s drive create|disable|delete|reconnect FQDN\n",
		    argv[0]);
		return 2;
	}
	if ((r = open_ldap_env(&d, &bpw, err, sizeof(err))) != 0) {
		fprintf(stderr, "open: %s: %s\n", amtp_strerror(r), err);
		return 1;
	}
	dot = strchr(argv[3], '.');
	snprintf(host, sizeof(host), "%.*s", dot ? (int)(dot - argv[3]) :
	    (int)strlen(argv[3]), argv[3]);
	if (strcmp(argv[2], "create") == 0) {
		if ((r = amtp_rand_password(AMTP_DIR_PASSWORD_LEN, &pw)) == 0)
			r = amtp_dir_create_account(d, container, argv[3], NULL,
			    0, pw, &created, NULL);
		if (r == 0)
			printf("%s\n", created ? "created" : "updated");
	} else if (strcmp(argv[2], "reconnect") == 0) {
		/* Create, wait while the script restarts the server, then
		 * disable on the same handle: it must connect again. */
		char line[16];

		if ((r = amtp_rand_password(AMTP_DIR_PASSWORD_LEN, &pw)) == 0)
			r = amtp_dir_create_account(d, container, argv[3], NULL,
			    0, pw, &created, NULL);
		if (r == 0) {
			printf("ready\n");
			fflush(stdout);
			if (fgets(line, sizeof(line), stdin) == NULL)
				r = AMTP_E_IO;
		}
		/* "down": the server is away; the operation fails cleanly,
		 * and the next one, once it is back, connects again. */
		if (r == 0 && strcmp(line, "down\n") == 0) {
			struct amtp_dir_account a;

			if (amtp_dir_get_account(d, container, host, &a) == 0)
				r = AMTP_E_STATE;
			else {
				printf("refused\n");
				fflush(stdout);
				if (fgets(line, sizeof(line), stdin) == NULL)
					r = AMTP_E_IO;
			}
		}
		if (r == 0)
			r = amtp_dir_disable_account(d, container, host);
		if (r == 0)
			printf("disabled\n");
	} else if (strcmp(argv[2], "disable") == 0)
		r = amtp_dir_disable_account(d, container, host);
	else if (strcmp(argv[2], "delete") == 0)
		r = amtp_dir_delete_account(d, container, host);
	else
		r = AMTP_E_INVAL;
	if (r != 0)
		fprintf(stderr, "%s: %s: %s\n", argv[2], amtp_strerror(r),
		    amtp_dir_errmsg(d));
	amtp_secret_free(pw);
	amtp_secret_free(bpw);
	amtp_dir_close(d);
	return r == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_spns),
	};
	const struct CMUnitTest builtin[] = {
		cmocka_unit_test(test_account_lifecycle),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_builtin_store),
	};
	const struct CMUnitTest ldap[] = {
		cmocka_unit_test(test_account_lifecycle),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_ldap_bind),
	};
	int fails = 0;

	if (argc > 1 && strcmp(argv[1], "drive") == 0)
		return drive(argc, argv);
	fails += cmocka_run_group_tests_name("spns", plain, NULL, NULL);
	fails += cmocka_run_group_tests_name("builtin", builtin, setup_builtin,
	    teardown);
	fails += cmocka_run_group_tests_name("ldap", ldap, setup_ldap,
	    teardown);
	return fails;
}
