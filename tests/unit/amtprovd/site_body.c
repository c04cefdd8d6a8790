/* Unit tests for src/amtprovd/site/body.c and site/requests.c: bounded JSON
 * bodies, field checks and the request parsers of the site API. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"

#include "site/api.h"
#include "site/body.h"
#include "site/requests.h"

#define UUID	"4C4C4544-0000-1111-8888-000000000001"
#define SHA	"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"

static int
load(const char *s, size_t max, struct site_err *e)
{
	json_t *o = NULL;
	int r;

	memset(e, 0, sizeof(*e));
	r = site_body_load(s, strlen(s), max, &o, e);
	if (r == 0)
		assert_non_null(o);
	else
		assert_null(o);
	json_decref(o);
	return r;
}

static void
test_load_limits(void **state)
{
	struct site_err e;
	char big[300];

	(void)state;
	assert_int_equal(load("{}", 2, &e), 0);		/* exactly at max */
	assert_int_equal(load("{} ", 2, &e), AMTP_E_TOOBIG);	/* one over */
	assert_int_equal(e.status, 413);
	assert_string_equal(e.code, "body_too_large");
	assert_int_equal(load("", 10, &e), AMTP_E_INVAL);
	assert_string_equal(e.code, "empty_body");
	assert_int_equal(load("[1]", 10, &e), AMTP_E_INVAL);
	assert_string_equal(e.code, "not_an_object");
	assert_int_equal(load("{\"a\":1,\"a\":2}", 100, &e), AMTP_E_JSON);
	assert_string_equal(e.code, "malformed_json");
	assert_non_null(strstr(e.msg, "duplicate"));
	assert_int_equal(load("{\"a\":", 100, &e), AMTP_E_JSON);
	assert_int_equal(e.status, 400);
	assert_int_equal(load("{\"a\":\"x\\u0000y\"}", 100, &e), AMTP_E_JSON);
	/* depth: 4 levels pass, 5 do not; brackets in strings do not count */
	assert_int_equal(load("{\"a\":[{\"b\":[1]}]}", 100, &e), 0);
	assert_int_equal(load("{\"a\":[{\"b\":[[1]]}]}", 100, &e),
	    AMTP_E_DEPTH);
	assert_string_equal(e.code, "too_deep");
	assert_int_equal(load("{\"a\":\"[[[[[[[[\\\"[[[[\"}", 100, &e), 0);
	memset(big, '[', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(load(big, sizeof(big), &e), AMTP_E_DEPTH);
	assert_int_equal(site_body_depth("[[", 2, 10), 2);
	assert_int_equal(site_body_depth("\"[\"", 3, 10), 0);
	/* members */
	{
		char many[2048];
		size_t o = 0;
		int i;

		o += (size_t)snprintf(many + o, sizeof(many) - o, "{");
		for (i = 0; i <= AMTP_SITE_JSON_MEMBERS_MAX; i++)
			o += (size_t)snprintf(many + o, sizeof(many) - o,
			    "%s\"k%d\":1", i ? "," : "", i);
		snprintf(many + o, sizeof(many) - o, "}");
		assert_int_equal(load(many, sizeof(many), &e), AMTP_E_INVAL);
		assert_string_equal(e.code, "too_many_members");
	}
}

static void
test_fields(void **state)
{
	struct site_err e;
	const char *s;
	long long n;
	int b;
	json_t *o, *a;

	(void)state;
	memset(&e, 0, sizeof(e));
	o = json_loads("{\"s\":\"abc\",\"n\":5,\"b\":true,\"a\":[1,2],"
	    "\"c\":\"a\\u0001\",\"z\":null}", 0, NULL);
	assert_non_null(o);
	assert_int_equal(site_body_get_str(o, "s", 1, 3, 3, NULL, &s, &e), 0);
	assert_string_equal(s, "abc");
	assert_int_equal(site_body_get_str(o, "s", 1, 4, 9, NULL, &s, &e),
	    AMTP_E_INVAL);
	assert_null(s);
	assert_string_equal(e.field, "s");
	assert_string_equal(e.code, "invalid_field");
	assert_int_equal(site_body_get_str(o, "s", 1, 0, 2, NULL, &s, &e),
	    AMTP_E_INVAL);
	assert_int_equal(site_body_get_str(o, "n", 1, 0, 9, NULL, &s, &e),
	    AMTP_E_INVAL);
	assert_string_equal(e.code, "wrong_type");
	assert_string_equal(e.field, "n");
	assert_int_equal(site_body_get_str(o, "x", 1, 0, 9, NULL, &s, &e),
	    AMTP_E_INVAL);
	assert_string_equal(e.code, "missing_field");
	assert_string_equal(e.field, "x");
	assert_int_equal(site_body_get_str(o, "x", 0, 0, 9, NULL, &s, &e), 0);
	assert_null(s);
	assert_int_equal(site_body_get_str(o, "z", 0, 0, 9, NULL, &s, &e), 0);
	assert_int_equal(site_body_get_str(o, "c", 1, 0, 9, NULL, &s, &e),
	    AMTP_E_INVAL);
	assert_non_null(strstr(e.msg, "control"));
	assert_int_equal(site_body_get_int(o, "n", 1, 0, 5, 0, &n, &e), 0);
	assert_int_equal(n, 5);
	assert_int_equal(site_body_get_int(o, "n", 1, 0, 4, 0, &n, &e),
	    AMTP_E_INVAL);
	assert_int_equal(site_body_get_int(o, "s", 1, 0, 4, 0, &n, &e),
	    AMTP_E_INVAL);
	assert_int_equal(site_body_get_bool(o, "b", 1, 0, &b, &e), 0);
	assert_true(b);
	assert_int_equal(site_body_get_bool(o, "n", 1, 0, &b, &e),
	    AMTP_E_INVAL);
	assert_int_equal(site_body_get_bool(o, "x", 0, 1, &b, &e), 0);
	assert_true(b);
	assert_int_equal(site_body_get_array(o, "a", 1, 2, &a, &e), 0);
	assert_int_equal(site_body_get_array(o, "a", 1, 1, &a, &e),
	    AMTP_E_INVAL);
	{
		static const char *const ok[] = { "s", "n", "b", "a", "c",
		    NULL };

		assert_int_equal(site_body_only(o, ok, &e), AMTP_E_INVAL);
		assert_string_equal(e.code, "unknown_field");
		assert_string_equal(e.field, "z");
	}
	json_decref(o);
}

static void
test_checks(void **state)
{
	(void)state;
	assert_null(site_check_hostname("pc-1", 4));
	assert_non_null(site_check_hostname("-pc", 3));
	assert_non_null(site_check_hostname("pc_1", 4));
	assert_null(site_check_dns_name("a.b-c.example", 13));
	assert_non_null(site_check_dns_name("a..b", 4));
	assert_non_null(site_check_dns_name("a.", 2));
	assert_null(site_check_uuid(UUID, 36));
	assert_non_null(site_check_uuid("4C4C4544x0000-1111-8888-000000000001",
	    36));
	assert_null(site_check_sha256_hex(SHA, 64));
	assert_non_null(site_check_sha256_hex("2D711642b726b04401627ca9fbac32f5"
	    "c8530fb1903cc4db02258717921a4881", 64));	/* upper case */
	assert_null(site_check_ip("127.20.0.1", 10));
	assert_null(site_check_ip("fe80::1", 7));
	assert_non_null(site_check_ip("127.20.0.256", 12));
	assert_non_null(site_check_ip("host.example", 12));
	assert_null(site_check_version("16.1.25", 7));
	assert_non_null(site_check_version("16.1.", 5));
	assert_null(site_check_hex("da39a3ee5e6b4b0d3255bfef95601890afd80709",
	    40));
	assert_non_null(site_check_hex("abc", 3));
}

static int
reg(const char *body, struct site_register_req *r, struct site_err *e)
{
	memset(e, 0, sizeof(*e));
	return site_parse_register(body, strlen(body), r, e);
}

static void
test_register(void **state)
{
	struct site_register_req r;
	struct site_err e;
	char body[8192];

	(void)state;
	assert_int_equal(reg("{\"hostname\":\"pc1\",\"fqdn\":\"pc1.corp.test\","
	    "\"domain\":\"corp.test\",\"smbios_uuid\":\"" UUID "\"}", &r, &e), 0);
	assert_string_equal(r.hostname, "pc1");
	assert_string_equal(r.fqdn, "pc1.corp.test");
	assert_string_equal(r.smbios_uuid, "4c4c4544-0000-1111-8888-000000000001");
	assert_int_equal(reg("{\"hostname\":\"pc1\"}", &r, &e), AMTP_E_INVAL);
	assert_string_equal(e.field, "smbios_uuid");
	assert_string_equal(e.code, "missing_field");
	assert_string_equal(r.hostname, "");	/* cleared on failure */
	assert_int_equal(reg("{\"hostname\":7,\"smbios_uuid\":\"" UUID "\"}",
	    &r, &e), AMTP_E_INVAL);
	assert_string_equal(e.field, "hostname");
	assert_string_equal(e.code, "wrong_type");
	assert_int_equal(reg("{\"hostname\":\"pc1\",\"smbios_uuid\":\"" UUID
	    "\",\"extra\":1}", &r, &e), AMTP_E_INVAL);
	assert_string_equal(e.field, "extra");
	/* host name: 63 characters pass, 64 do not */
	snprintf(body, sizeof(body), "{\"hostname\":\"%063d\","
	    "\"smbios_uuid\":\"" UUID "\"}", 0);
	assert_int_equal(reg(body, &r, &e), 0);
	snprintf(body, sizeof(body), "{\"hostname\":\"%064d\","
	    "\"smbios_uuid\":\"" UUID "\"}", 0);
	assert_int_equal(reg(body, &r, &e), AMTP_E_INVAL);
	assert_string_equal(e.field, "hostname");
	/* the pre-auth body cap */
	memset(body, ' ', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	body[0] = '{';
	body[sizeof(body) - 2] = '}';
	assert_int_equal(reg(body, &r, &e), AMTP_E_TOOBIG);
	assert_int_equal(e.status, 413);
}

static void
test_otp(void **state)
{
	struct site_otp_req r;
	struct site_err e;
	const char *ok = "{\"otp_sha256\":\"" SHA "\",\"amt_address\":"
	    "\"127.20.0.1\"}";

	(void)state;
	memset(&e, 0, sizeof(e));
	assert_int_equal(site_parse_otp(ok, strlen(ok), &r, &e), 0);
	assert_string_equal(r.otp_sha256, SHA);
	assert_string_equal(r.amt_address, "127.20.0.1");
	ok = "{\"otp_sha256\":\"abc\",\"amt_address\":\"127.20.0.1\"}";
	assert_int_equal(site_parse_otp(ok, strlen(ok), &r, &e), AMTP_E_INVAL);
	assert_string_equal(e.field, "otp_sha256");
	ok = "{\"otp_sha256\":\"" SHA "\",\"amt_address\":\"nowhere\"}";
	assert_int_equal(site_parse_otp(ok, strlen(ok), &r, &e), AMTP_E_INVAL);
	assert_string_equal(e.field, "amt_address");
	assert_non_null(strstr(e.msg, "amt_address"));
}

static int
state_parse(const char *body, struct site_state_req *r, struct site_err *e)
{
	memset(e, 0, sizeof(*e));
	return site_parse_state(body, strlen(body), r, e);
}

static void
test_state(void **state)
{
	struct site_state_req *r = calloc(1, sizeof(*r));
	struct site_err e;
	char *body;
	size_t o, i;

	(void)state;
	assert_non_null(r);
	assert_int_equal(state_parse("{\"amt_version\":\"16.1.25\",\"build\":"
	    "\"2049\",\"sku\":\"16392\",\"uuid\":\"" UUID "\",\"dns_suffix\":"
	    "\"corp.test\",\"control_mode\":\"none\",\"provisioning_state\":"
	    "\"pre\",\"wireless\":true,\"cert_hashes\":[{\"name\":\"Root A\","
	    "\"hash\":\"" SHA "\",\"is_default\":true,\"is_active\":false}]}",
	    r, &e), 0);
	assert_string_equal(r->amt_version, "16.1.25");
	assert_int_equal(r->provisioning_state, SITE_PROV_PRE);
	assert_true(r->wireless);
	assert_int_equal(r->n_cert_hashes, 1);
	assert_string_equal(r->cert_hashes[0].name, "Root A");
	assert_false(r->cert_hashes[0].is_active);
	/* no AMT: only the reason is needed */
	assert_int_equal(state_parse("{\"amt_supported\":false,\"reason\":"
	    "\"no MEI driver\"}", r, &e), 0);
	assert_false(r->amt_supported);
	assert_false(r->amt_detected);
	assert_string_equal(r->reason, "no MEI driver");
	/* "detected": an MEI device, AMT not usable */
	assert_int_equal(state_parse("{\"amt_supported\":false,"
	    "\"amt_detected\":true,\"reason\":\"no AMTHI client\"}", r, &e),
	    0);
	assert_false(r->amt_supported);
	assert_true(r->amt_detected);
	assert_int_equal(state_parse("{\"amt_supported\":false,"
	    "\"amt_detected\":1}", r, &e), AMTP_E_INVAL);
	assert_string_equal(e.field, "amt_detected");
	/* usable AMT is detected: true is redundant, false contradicts */
	assert_int_equal(state_parse("{\"amt_detected\":true,\"amt_version\":"
	    "\"16\",\"uuid\":\"" UUID "\",\"provisioning_state\":\"pre\"}",
	    r, &e), 0);
	assert_true(r->amt_supported);
	assert_int_equal(state_parse("{\"amt_detected\":false,"
	    "\"amt_version\":\"16\",\"uuid\":\"" UUID "\","
	    "\"provisioning_state\":\"pre\"}", r, &e), AMTP_E_INVAL);
	assert_string_equal(e.field, "amt_detected");
	assert_false(r->amt_supported);		/* cleared on failure */
	/* a bad element is named with its index */
	assert_int_equal(state_parse("{\"amt_version\":\"16\",\"uuid\":\"" UUID
	    "\",\"provisioning_state\":\"in\",\"cert_hashes\":[{\"hash\":\""
	    SHA "\"},{\"hash\":\"xyz\"}]}", r, &e), AMTP_E_INVAL);
	assert_string_equal(e.field, "cert_hashes[1].hash");
	assert_int_equal(state_parse("{\"amt_version\":\"16\",\"uuid\":\"" UUID
	    "\",\"provisioning_state\":\"in\",\"cert_hashes\":[7]}", r, &e),
	    AMTP_E_INVAL);
	assert_string_equal(e.field, "cert_hashes[0]");
	assert_int_equal(state_parse("{\"amt_version\":\"16\",\"uuid\":\"" UUID
	    "\",\"provisioning_state\":\"done\"}", r, &e), AMTP_E_INVAL);
	assert_string_equal(e.field, "provisioning_state");
	assert_int_equal(state_parse("{\"amt_version\":\"16\",\"uuid\":\"" UUID
	    "\",\"provisioning_state\":\"in\",\"control_mode\":\"root\"}", r,
	    &e), AMTP_E_INVAL);
	assert_string_equal(e.field, "control_mode");
	/* hash count: at the limit passes, one over fails */
	body = malloc(AMTP_SITE_BODY_MAX);
	assert_non_null(body);
	for (int extra = 0; extra <= 1; extra++) {
		o = (size_t)snprintf(body, AMTP_SITE_BODY_MAX,
		    "{\"amt_version\":\"16\",\"uuid\":\"" UUID "\","
		    "\"provisioning_state\":\"in\",\"cert_hashes\":[");
		for (i = 0; i < (size_t)AMTP_SITE_CERT_HASHES_MAX + extra; i++)
			o += (size_t)snprintf(body + o, AMTP_SITE_BODY_MAX - o,
			    "%s{\"hash\":\"" SHA "\"}", i ? "," : "");
		snprintf(body + o, AMTP_SITE_BODY_MAX - o, "]}");
		assert_int_equal(state_parse(body, r, &e),
		    extra ? AMTP_E_INVAL : 0);
		if (extra)
			assert_string_equal(e.field, "cert_hashes");
		else
			assert_int_equal(r->n_cert_hashes,
			    AMTP_SITE_CERT_HASHES_MAX);
	}
	free(body);
	free(r);
}

/* What a state message does to the device's status (agent needs 1-3). */
static void
test_state_status(void **state)
{
	struct site_state_req *r = calloc(1, sizeof(*r));
	char why[AMTP_STORE_TEXT_MAX + 1];
	int q;

	(void)state;
	assert_non_null(r);
	/* no AMT, with and without a reason */
	r->amt_supported = 0;
	assert_int_equal(site_api_state_status(r, AMTP_AMT_UNKNOWN, why,
	    sizeof(why), &q), AMTP_AMT_NOT_SUPPORTED);
	assert_string_equal(why, "agent reports no AMT");
	assert_true(q);
	snprintf(r->reason, sizeof(r->reason), "no MEI device");
	assert_int_equal(site_api_state_status(r, AMTP_AMT_UNKNOWN, why,
	    sizeof(why), &q), AMTP_AMT_NOT_SUPPORTED);
	assert_string_equal(why, "no MEI device");
	/* need 3: detected */
	r->amt_detected = 1;
	snprintf(r->reason, sizeof(r->reason), "AMT disabled (no AMTHI "
	    "client)");
	assert_int_equal(site_api_state_status(r, AMTP_AMT_NOT_SUPPORTED,
	    why, sizeof(why), &q), AMTP_AMT_DETECTED);
	assert_string_equal(why, "AMT disabled (no AMTHI client)");
	r->reason[0] = '\0';
	assert_int_equal(site_api_state_status(r, AMTP_AMT_UNKNOWN, why,
	    sizeof(why), &q), AMTP_AMT_DETECTED);
	assert_non_null(strstr(why, "not usable"));
	/* PRE without a reason: ready, may queue, reason cleared */
	memset(r, 0, sizeof(*r));
	r->amt_supported = 1;
	r->provisioning_state = SITE_PROV_PRE;
	snprintf(r->control_mode, sizeof(r->control_mode), "none");
	assert_int_equal(site_api_state_status(r, AMTP_AMT_NOT_SUPPORTED,
	    why, sizeof(why), &q), AMTP_AMT_NOT_PROVISIONED);
	assert_string_equal(why, "");
	assert_true(q);
	/* IN without a reason: the agent activated it itself, may queue */
	r->provisioning_state = SITE_PROV_IN;
	assert_int_equal(site_api_state_status(r, AMTP_AMT_NOT_PROVISIONED,
	    why, sizeof(why), &q), AMTP_AMT_NOT_PROVISIONED);
	assert_true(q);
	/* needs 1 and 2: IN with a reason (stopped) keeps it, no job */
	snprintf(r->reason, sizeof(r->reason), "AMT is in IN state "
	    "(provisioning started by another tool); not touched");
	assert_int_equal(site_api_state_status(r, AMTP_AMT_NOT_PROVISIONED,
	    why, sizeof(why), &q), AMTP_AMT_NOT_PROVISIONED);
	assert_string_equal(why, r->reason);
	assert_false(q);
	/* POST with the agent's reason keeps it; without, the site's */
	r->provisioning_state = SITE_PROV_POST;
	snprintf(r->control_mode, sizeof(r->control_mode), "admin");
	assert_int_equal(site_api_state_status(r, AMTP_AMT_UNKNOWN, why,
	    sizeof(why), &q), AMTP_AMT_EXTERNALLY_PROVISIONED);
	assert_string_equal(why, r->reason);
	r->reason[0] = '\0';
	assert_int_equal(site_api_state_status(r, AMTP_AMT_UNKNOWN, why,
	    sizeof(why), &q), AMTP_AMT_EXTERNALLY_PROVISIONED);
	assert_string_equal(why, "AMT already provisioned (control mode "
	    "admin) by another server");
	/* POST of a device amtprov provisioned stays provisioned */
	assert_int_equal(site_api_state_status(r, AMTP_AMT_PROVISIONED, why,
	    sizeof(why), &q), AMTP_AMT_PROVISIONED);
	assert_string_equal(why, "");
	/* a reason longer than the room is cut, still terminated */
	memset(r->reason, 'x', AMTP_SITE_REASON_MAX);
	r->reason[AMTP_SITE_REASON_MAX] = '\0';
	r->provisioning_state = SITE_PROV_IN;
	site_api_state_status(r, AMTP_AMT_UNKNOWN, why, 10, &q);
	assert_string_equal(why, "xxxxxxxxx");
	free(r);
}

/* need 5: "not supported" is asked again; done or foreign ones are not */
static void
test_policy_status(void **state)
{
	(void)state;
	assert_true(site_api_is_provisionable(AMTP_AMT_UNKNOWN));
	assert_true(site_api_is_provisionable(AMTP_AMT_NOT_SUPPORTED));
	assert_true(site_api_is_provisionable(AMTP_AMT_DETECTED));
	assert_true(site_api_is_provisionable(AMTP_AMT_NOT_PROVISIONED));
	assert_false(site_api_is_provisionable(AMTP_AMT_PROVISIONED));
	assert_false(site_api_is_provisionable(
	    AMTP_AMT_EXTERNALLY_PROVISIONED));
}

static void
test_action(void **state)
{
	struct site_action_req a;
	struct site_err e;

	(void)state;
	memset(&e, 0, sizeof(e));
	assert_int_equal(site_parse_action("", 0, &a, &e), 0);
	assert_string_equal(a.reason, "");
	assert_int_equal(site_parse_action("{\"reason\":\"ticket 7\"}", 21, &a,
	    &e), 0);
	assert_string_equal(a.reason, "ticket 7");
	assert_int_equal(site_parse_action("{\"why\":1}", 9, &a, &e),
	    AMTP_E_INVAL);
	assert_string_equal(e.field, "why");
}

static void
test_err_json(void **state)
{
	struct site_err e;
	json_t *j;

	(void)state;
	site_err_set(&e, 400, "invalid_field", "hostname", "hostname: %s",
	    "bad");
	j = site_err_json(&e);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "error")),
	    "invalid_field");
	assert_string_equal(json_string_value(json_object_get(j, "field")),
	    "hostname");
	assert_string_equal(json_string_value(json_object_get(j, "message")),
	    "hostname: bad");
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_limits),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_otp),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_state_status),
		cmocka_unit_test(test_policy_status),
		cmocka_unit_test(test_action),
		cmocka_unit_test(test_err_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
