/* Unit tests for src/amtsim/fleet.c: fleet descriptions (file and
 * trust-root parsing with their errors), creation with overrides and
 * addresses across octets, and opening a fleet. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "amtprov/amthi.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "device.h"
#include "fleet.h"

struct fixture {
	char	dir[64];
	char	state[96];
	char	file[96];
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/amtsim-fleet-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	(void)snprintf(f->state, sizeof(f->state), "%s/s", f->dir);
	(void)snprintf(f->file, sizeof(f->file), "%s/in.txt", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void
put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

#define LAB_HEX "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a" \
		"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"

static void
test_roots_file(void **state)
{
	struct fixture *f = *state;
	struct amtsim_fleet_desc d;
	char err[512], line[256], big[4096];
	int i;

	amtsim_fleet_desc_init(&d);
	/* sha256sum output, a commented line, colons, a SHA-384 */
	put(f->file, "# lab roots\n"
	    LAB_HEX "  lab-root.pem\n"
	    "\n"
	    "5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:"
	    "5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5A:5B Second Root\n"
	    LAB_HEX "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a\n");
	assert_int_equal(amtsim_fleet_desc_roots(&d, f->file, err,
	    sizeof(err)), 0);
	assert_int_equal(d.nroots, 3);
	assert_int_equal(d.roots[0].algorithm, AMTP_AMT_HASH_SHA256);
	assert_string_equal(d.roots[0].name, "lab-root.pem");
	assert_int_equal(d.roots[1].hash[31], 0x5b);
	assert_string_equal(d.roots[1].name, "Second Root");
	assert_int_equal(d.roots[2].algorithm, AMTP_AMT_HASH_SHA384);
	assert_string_equal(d.roots[2].name, "Custom Root");
	amtsim_fleet_desc_reset(&d);
	/* errors name the file and line */
	put(f->file, LAB_HEX "\nnot-hex\n");
	assert_int_equal(amtsim_fleet_desc_roots(&d, f->file, err,
	    sizeof(err)), AMTP_E_PARSE);
	assert_non_null(strstr(err, ":2:"));
	put(f->file, "abcd\n");	/* wrong length */
	assert_int_equal(amtsim_fleet_desc_roots(&d, f->file, err,
	    sizeof(err)), AMTP_E_PARSE);
	/* too many */
	big[0] = '\0';
	for (i = 0; i <= AMTP_SIM_TRUST_ROOTS_MAX; i++) {
		(void)snprintf(line, sizeof(line), "%s\n", LAB_HEX);
		(void)strncat(big, line, sizeof(big) - strlen(big) - 1);
	}
	put(f->file, big);
	amtsim_fleet_desc_reset(&d);
	assert_int_equal(amtsim_fleet_desc_roots(&d, f->file, err,
	    sizeof(err)), AMTP_E_TOOBIG);
	assert_int_equal(amtsim_fleet_desc_roots(&d, "/nonexistent", err,
	    sizeof(err)), AMTP_E_NOTFOUND);
	amtsim_fleet_desc_reset(&d);
}

/* A description cut inside the MEBx password: the error never quotes it. */
static void
test_desc_error_hides_password(void **state)
{
	static const char *texts[] = {
		"{\"mebx_password\": \"Zq7P@ssw0rd",
		"{\"mebx_password\": Zq7P@ssw0rd}",
		"{\"overrides\": [{\"device\": 1, \"mebx_password\": "
		    "\"Zq7P@ss\x01\"}]}",
	};
	struct amtsim_fleet_desc d;
	char err[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		amtsim_fleet_desc_init(&d);
		assert_int_equal(amtsim_fleet_desc_parse(texts[i],
		    strlen(texts[i]), "f.json", &d, err, sizeof(err)),
		    AMTP_E_JSON);
		assert_non_null(strstr(err, "f.json: line 1"));
		assert_null(strstr(err, "Zq7"));
		amtsim_fleet_desc_reset(&d);
	}
}

static void
test_desc_file(void **state)
{
	struct fixture *f = *state;
	struct amtsim_fleet_desc d;
	char err[512];

	amtsim_fleet_desc_init(&d);
	put(f->file, "{\"devices\": 300, \"address\": \"127.20.0.250\","
	    " \"amt_versions\": [\"8.1.40\", \"16.1.25\"],"
	    " \"dns_suffix\": \"fleet.example.test\", \"wireless_every\": 3,"
	    " \"mebx_password\": \"Mebx!Pass1\","
	    " \"trust_roots\": [{\"sha256\": \"" LAB_HEX "\","
	    " \"name\": \"Lab Root\"}],"
	    " \"overrides\": [{\"device\": 2, \"untrusted\": true},"
	    " {\"device\": 3, \"amt_version\": \"11.8.50\", \"wireless\": false,"
	    " \"pki_dns_suffix\": \"\", \"otp_mismatch\": true}]}");
	assert_int_equal(amtsim_fleet_desc_load(f->file, &d, err,
	    sizeof(err)), 0);
	assert_int_equal(d.count, 300);
	assert_int_equal(d.first_address, 0x7f1400fau);
	assert_int_equal(d.nversions, 2);
	assert_string_equal(d.versions[1], "16.1.25");
	assert_int_equal(d.nroots, 1);
	assert_int_equal(d.noverrides, 2);
	assert_int_equal(d.overrides[0].untrusted, 1);
	assert_int_equal(d.overrides[0].otp_mismatch, -1);
	assert_int_equal(d.overrides[1].otp_mismatch, 1);
	assert_int_equal(d.overrides[1].wireless, 0);
	assert_string_equal(d.overrides[1].pki_dns_suffix, "");
	amtsim_fleet_desc_reset(&d);

	put(f->file, "{\"devices\": 3, \"colour\": \"blue\"}");
	assert_int_equal(amtsim_fleet_desc_load(f->file, &d, err,
	    sizeof(err)), AMTP_E_PARSE);
	assert_non_null(strstr(err, "colour"));
	put(f->file, "{\"devices\": 0}");
	assert_int_equal(amtsim_fleet_desc_load(f->file, &d, err,
	    sizeof(err)), AMTP_E_PARSE);
	put(f->file, "{\"amt_versions\": [\"5.0.1\"]}");
	assert_int_equal(amtsim_fleet_desc_load(f->file, &d, err,
	    sizeof(err)), AMTP_E_RANGE);
	put(f->file, "{\"overrides\": [{\"device\": 2, \"amt_version\": "
	    "\"x\"}]}");
	assert_int_equal(amtsim_fleet_desc_load(f->file, &d, err,
	    sizeof(err)), AMTP_E_PARSE);
	put(f->file, "{\"address\": \"300.1.1.1\"}");
	assert_int_equal(amtsim_fleet_desc_load(f->file, &d, err,
	    sizeof(err)), AMTP_E_PARSE);
	put(f->file, "{\"devices\": 3, \"devices\": 4}");
	assert_int_equal(amtsim_fleet_desc_load(f->file, &d, err,
	    sizeof(err)), AMTP_E_JSON);
	put(f->file, "[1, 2]");
	assert_int_equal(amtsim_fleet_desc_load(f->file, &d, err,
	    sizeof(err)), AMTP_E_JSON);
	put(f->file, "{\"trust_roots\": [{\"sha256\": \"abc\"}]}");
	assert_int_equal(amtsim_fleet_desc_load(f->file, &d, err,
	    sizeof(err)), AMTP_E_PARSE);
	assert_int_equal(amtsim_fleet_desc_versions(&d, "11.8.50,4.0.0", err,
	    sizeof(err)), AMTP_E_RANGE);
	amtsim_fleet_desc_reset(&d);
}

static void
test_create_and_open(void **state)
{
	struct fixture *f = *state;
	struct amtsim_fleet_desc d;
	struct amtsim_fleet_ctx ctx;
	struct amtsim_fleet *fl = NULL;
	struct amtsim_device *dev;
	struct amtsim_override *ov;
	char err[512];

	amtsim_fleet_desc_init(&d);
	d.count = 8;
	d.first_address = 0x7f1400feu;	/* 127.20.0.254 */
	assert_int_equal(amtsim_fleet_desc_versions(&d, "11.8.50,16.1.25",
	    err, sizeof(err)), 0);
	d.dns_suffix = strdup("fleet.example.test");
	d.wireless_every = 3;
	d.roots[0].algorithm = AMTP_AMT_HASH_SHA256;
	d.roots[0].is_active = 1;
	memset(d.roots[0].hash, 0x5a, 32);
	(void)snprintf(d.roots[0].name, sizeof(d.roots[0].name), "Lab Root");
	d.nroots = 1;
	ov = amtsim_fleet_desc_override(&d, 5);
	ov->untrusted = 1;
	ov = amtsim_fleet_desc_override(&d, 6);
	ov->amt_version = strdup("8.1.40");
	ov->otp_mismatch = 1;
	ov->pki_dns_suffix = strdup("");
	assert_false(amtsim_fleet_exists(f->state));
	assert_int_equal(amtsim_fleet_create(f->state, &d, 1, err,
	    sizeof(err)), 0);
	assert_true(amtsim_fleet_exists(f->state));
	assert_int_equal(amtsim_fleet_create(f->state, &d, 1, err,
	    sizeof(err)), AMTP_E_EXISTS);

	memset(&ctx, 0, sizeof(ctx));
	ctx.no_fsync = 1;
	assert_int_equal(amtsim_fleet_open(f->state, &ctx, &fl, err,
	    sizeof(err)), 0);
	assert_int_equal(fl->count, 8);
	assert_null(amtsim_fleet_device(fl, 0));
	assert_null(amtsim_fleet_device(fl, 9));
	dev = amtsim_fleet_device(fl, 1);
	assert_int_equal(dev->ipv4, 0x7f1400feu);
	assert_string_equal(dev->amt_version, "11.8.50");
	assert_string_equal(dev->pki_dns_suffix, "fleet.example.test");
	assert_int_equal(dev->nhashes, 9);
	dev = amtsim_fleet_device(fl, 3);	/* across the octet */
	assert_int_equal(dev->ipv4, 0x7f140100u);
	assert_true(dev->wireless);
	assert_string_equal(dev->amt_version, "11.8.50");
	dev = amtsim_fleet_device(fl, 2);
	assert_string_equal(dev->amt_version, "16.1.25");
	assert_false(dev->wireless);
	dev = amtsim_fleet_device(fl, 5);	/* untrusted */
	assert_int_equal(dev->nhashes, 8);
	assert_int_equal(dev->otp_mismatch, 0);
	dev = amtsim_fleet_device(fl, 6);
	assert_string_equal(dev->amt_version, "8.1.40");
	assert_int_equal(dev->otp_mismatch, 1);	/* kept in flash */
	assert_string_equal(dev->pki_dns_suffix, "");
	assert_string_equal(dev->dhcp_dns_suffix, "fleet.example.test");
	assert_true(dev->wireless);
	amtsim_fleet_free(fl);
	amtsim_fleet_free(NULL);
	amtsim_fleet_desc_reset(&d);

	/* no fleet there */
	assert_int_not_equal(amtsim_fleet_open(f->dir, &ctx, &fl, err,
	    sizeof(err)), 0);
	assert_null(fl);
	assert_non_null(strstr(err, "fleet.json"));
}

static void
test_create_limits(void **state)
{
	struct fixture *f = *state;
	struct amtsim_fleet_desc d;
	struct amtsim_override *ov;
	char err[512];

	amtsim_fleet_desc_init(&d);
	assert_int_equal(amtsim_fleet_create(f->state, &d, 1, err,
	    sizeof(err)), AMTP_E_RANGE);	/* no devices */
	d.count = 3;
	d.first_address = 0xfffffffeu;
	assert_int_equal(amtsim_fleet_create(f->state, &d, 1, err,
	    sizeof(err)), AMTP_E_RANGE);
	assert_non_null(strstr(err, "255.255.255.255"));
	d.first_address = 0xfffffffdu;	/* exactly fits */
	ov = amtsim_fleet_desc_override(&d, 4);
	ov->untrusted = 1;
	assert_int_equal(amtsim_fleet_create(f->state, &d, 1, err,
	    sizeof(err)), AMTP_E_RANGE);	/* override past the end */
	ov->index = 3;
	assert_int_equal(amtsim_fleet_create(f->state, &d, 1, err,
	    sizeof(err)), 0);
	amtsim_fleet_desc_reset(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roots_file, setup,
		    teardown),
		cmocka_unit_test(test_desc_error_hides_password),
		cmocka_unit_test_setup_teardown(test_desc_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_create_and_open, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_create_limits, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
