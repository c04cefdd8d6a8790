/* Unit tests for src/amtprovd/site/httpd.c routing, site/metrics.c and
 * src/amtprovd/config.c (the amtprovd.conf schema and its checks). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "amtprov/conf.h"
#include "amtprov/err.h"

#include "config.h"
#include "site/httpd.h"
#include "site/metrics.h"
#include "store/store.h"

static int
match(enum site_method m, const char *path, const char **name,
    struct site_req *req)
{
	const struct site_route *rt;
	int r;

	memset(req, 0, sizeof(*req));
	r = site_route_match(site_routes, m, path, &rt, req);
	*name = rt != NULL ? rt->name : NULL;
	return r;
}

static void
test_routes(void **state)
{
	struct site_req req;
	const char *n;

	(void)state;
	assert_int_equal(match(SITE_POST, "/api/v1/agents/register", &n, &req),
	    0);
	assert_string_equal(n, "agent_register");
	assert_int_equal(match(SITE_GET, "/api/v1/agents/register", &n, &req),
	    AMTP_E_DENIED);
	assert_null(n);
	assert_int_equal(match(SITE_GET, "/api/v1/devices/42", &n, &req), 0);
	assert_string_equal(n, "device");
	assert_int_equal(req.id, 42);
	assert_int_equal(match(SITE_POST,
	    "/api/v1/devices/7/passwords/mebx/reveal", &n, &req), 0);
	assert_string_equal(n, "password_reveal");
	assert_int_equal(req.id, 7);
	assert_string_equal(req.kind, "mebx");
	assert_int_equal(match(SITE_GET, "/api/v1/devices/0", &n, &req),
	    AMTP_E_NOTFOUND);
	assert_int_equal(match(SITE_GET, "/api/v1/devices/-1", &n, &req),
	    AMTP_E_NOTFOUND);
	assert_int_equal(match(SITE_GET, "/api/v1/devices/1x", &n, &req),
	    AMTP_E_NOTFOUND);
	assert_int_equal(match(SITE_GET,
	    "/api/v1/devices/99999999999999999999", &n, &req), AMTP_E_NOTFOUND);
	assert_int_equal(match(SITE_GET, "/api/v1/devices/", &n, &req),
	    AMTP_E_NOTFOUND);
	assert_int_equal(match(SITE_GET, "/api/v1/devices//", &n, &req),
	    AMTP_E_NOTFOUND);
	assert_int_equal(match(SITE_GET, "/api/v1/devices", &n, &req), 0);
	assert_string_equal(n, "devices");
	assert_int_equal(match(SITE_POST,
	    "/api/v1/devices/7/passwords/MEBX/reveal", &n, &req),
	    AMTP_E_NOTFOUND);
	assert_int_equal(match(SITE_GET, "/metrics", &n, &req), 0);
	assert_int_equal(match(SITE_GET, "/", &n, &req), AMTP_E_NOTFOUND);
	assert_int_equal(match(SITE_GET, "", &n, &req), AMTP_E_NOTFOUND);
	assert_int_equal(match(SITE_GET, "/healthz/x", &n, &req),
	    AMTP_E_NOTFOUND);
}

static void
test_metrics(void **state)
{
	struct site_metrics *m;
	struct amtp_store *st;
	char lab[64], err[256], *text = NULL;

	(void)state;
	site_metrics_label(lab, sizeof(lab), "a\"b\\c\nd\x01");
	assert_string_equal(lab, "a\\\"b\\\\c\\nd?");
	site_metrics_label(lab, 4, "abcdef");
	assert_string_equal(lab, "ab");
	assert_int_equal(site_metrics_new(&m), 0);
	site_metrics_http(m, "devices", 200, 3000000);		/* 3 ms */
	site_metrics_http(m, "devices", 200, 2000000000);	/* 2 s */
	site_metrics_http(m, "devices", 404, 1000);
	assert_int_equal(amtp_store_open("sqlite::memory:", NULL, &st, err,
	    sizeof(err)), 0);
	assert_int_equal(site_metrics_render(m, st, &text), 0);
	assert_non_null(strstr(text, "amtprov_devices{status=\"not "
	    "provisioned\"} 0\n"));
	assert_non_null(strstr(text, "amtprov_jobs{state=\"queued\"} 0\n"));
	assert_non_null(strstr(text, "amtprov_http_requests_total{route="
	    "\"devices\",code=\"200\"} 2\n"));
	assert_non_null(strstr(text, "amtprov_http_request_duration_seconds_"
	    "bucket{route=\"devices\",code=\"200\",le=\"0.005\"} 1\n"));
	assert_non_null(strstr(text, "amtprov_http_request_duration_seconds_"
	    "bucket{route=\"devices\",code=\"200\",le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(text, "code=\"404\"} 1\n"));
	free(text);
	amtp_store_close(st);
	site_metrics_free(m);
}

/* Step histograms and failures come from the job step logs in the store,
 * folded in once per step. */
static void
test_metrics_steps(void **state)
{
	struct site_metrics *m;
	struct amtp_store *st;
	struct amtp_device_in di;
	struct amtp_job_rec j;
	char err[256], *text = NULL;
	int64_t dev, job, s1, s2;

	(void)state;
	assert_int_equal(site_metrics_new(&m), 0);
	assert_int_equal(amtp_store_open("sqlite::memory:", NULL, &st, err,
	    sizeof(err)), 0);
	memset(&di, 0, sizeof(di));
	di.uuid = "4c4c4544-0000-1111-8888-000000000001";
	assert_int_equal(amtp_store_device_upsert(st, &di, &dev, NULL), 0);
	assert_int_equal(amtp_store_job_enqueue(st, dev, AMTP_JOB_PROVISION,
	    &job, NULL), 0);
	assert_int_equal(amtp_store_job_claim(st, "oobsp-test", 60, &j), 0);
	assert_int_equal(j.id, job);
	assert_int_equal(amtp_store_job_step_start(st, job, "oobsp-test",
	    "otp-check", &s1), 0);
	assert_int_equal(amtp_store_job_step_end(st, job, "oobsp-test", s1,
	    AMTP_STEP_OK, "match"), 0);
	assert_int_equal(amtp_store_job_step_start(st, job, "oobsp-test",
	    "tls-session", &s2), 0);
	assert_int_equal(amtp_store_job_step_end(st, job, "oobsp-test", s2,
	    AMTP_STEP_FAILED, "root hash not in firmware: 3 hashes tried"), 0);
	assert_int_equal(amtp_store_job_finish(st, job, "oobsp-test",
	    AMTP_JOB_FAILED, "tls"), 0);
	assert_int_equal(site_metrics_render(m, st, &text), 0);
	assert_non_null(strstr(text, "amtprov_jobs{state=\"failed\"} 1\n"));
	assert_non_null(strstr(text, "amtprov_step_duration_seconds_count"
	    "{step=\"otp-check\"} 1\n"));
	assert_non_null(strstr(text, "amtprov_step_duration_seconds_bucket"
	    "{step=\"tls-session\",le=\"+Inf\"} 1\n"));
	assert_non_null(strstr(text, "amtprov_step_failures_total{step="
	    "\"tls-session\",reason=\"root hash not in firmware\"} 1\n"));
	assert_null(strstr(text, "3 hashes tried"));
	free(text);
	/* retry timings do not make a series of their own */
	di.uuid = "4c4c4544-0000-1111-8888-000000000003";
	assert_int_equal(amtp_store_device_upsert(st, &di, &dev, NULL), 0);
	assert_int_equal(amtp_store_job_enqueue(st, dev, AMTP_JOB_PROVISION,
	    &job, NULL), 0);
	assert_int_equal(amtp_store_job_claim(st, "oobsp-test", 60, &j), 0);
	assert_int_equal(amtp_store_job_step_start(st, job, "oobsp-test",
	    "connect", &s1), 0);
	assert_int_equal(amtp_store_job_step_end(st, job, "oobsp-test", s1,
	    AMTP_STEP_FAILED, "connection refused (transient, try 1, again in "
	    "500 ms)"), 0);
	assert_int_equal(amtp_store_job_finish(st, job, "oobsp-test",
	    AMTP_JOB_FAILED, "connect"), 0);
	site_metrics_expire(m);
	assert_int_equal(site_metrics_render(m, st, &text), 0);
	assert_non_null(strstr(text, "amtprov_step_failures_total{step="
	    "\"connect\",reason=\"connection refused\"} 1\n"));
	free(text);
	/* a second scrape does not count the finished job again */
	site_metrics_expire(m);
	assert_int_equal(site_metrics_render(m, st, &text), 0);
	assert_non_null(strstr(text, "amtprov_step_duration_seconds_count"
	    "{step=\"otp-check\"} 1\n"));
	free(text);
	/* a running job: a started step is counted once it has ended */
	di.uuid = "4c4c4544-0000-1111-8888-000000000002";
	assert_int_equal(amtp_store_device_upsert(st, &di, &dev, NULL), 0);
	assert_int_equal(amtp_store_job_enqueue(st, dev, AMTP_JOB_PROVISION,
	    &job, NULL), 0);
	assert_int_equal(amtp_store_job_claim(st, "oobsp-test", 60, &j), 0);
	assert_int_equal(amtp_store_job_step_start(st, job, "oobsp-test",
	    "otp-check", &s1), 0);
	site_metrics_expire(m);
	assert_int_equal(site_metrics_render(m, st, &text), 0);
	assert_non_null(strstr(text, "amtprov_step_duration_seconds_count"
	    "{step=\"otp-check\"} 1\n"));
	free(text);
	assert_int_equal(amtp_store_job_step_end(st, job, "oobsp-test", s1,
	    AMTP_STEP_OK, "match"), 0);
	site_metrics_expire(m);
	assert_int_equal(site_metrics_render(m, st, &text), 0);
	assert_non_null(strstr(text, "amtprov_step_duration_seconds_count"
	    "{step=\"otp-check\"} 2\n"));
	free(text);
	site_metrics_expire(m);
	assert_int_equal(site_metrics_render(m, st, &text), 0);
	assert_non_null(strstr(text, "amtprov_step_duration_seconds_count"
	    "{step=\"otp-check\"} 2\n"));
	free(text);
	amtp_store_close(st);
	site_metrics_free(m);
}

static int
conf(const char *text, char *err, size_t errlen)
{
	struct amtp_conf *c = NULL;
	int r;

	err[0] = '\0';
	r = amtpd_config_load_mem(text, strlen(text), &c, err, errlen);
	amtp_conf_free(c);
	return r;
}

#define BASE	"[site]\ndatabase = sqlite:/tmp/x.db\n" \
		"master_key_file = /tmp/mk\n"
#define TLS	"tls_cert = /tmp/c.pem\ntls_key = /tmp/k.pem\n" \
		"enrolment_secret_file = /tmp/e\n"

static void
test_config(void **state)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char err[512];

	(void)state;
	assert_int_equal(conf(BASE TLS, err, sizeof(err)), 0);
	assert_int_equal(conf(BASE TLS "roles = site,oobsp,enroll\n", err,
	    sizeof(err)), 0);
	assert_int_equal(conf(BASE TLS "roles = site,web\n", err, sizeof(err)),
	    AMTP_E_CONFIG);
	assert_non_null(strstr(err, "unknown role \"web\""));
	/* role site needs its TLS files and the enrolment secret */
	assert_int_equal(conf(BASE, err, sizeof(err)), AMTP_E_CONFIG);
	assert_non_null(strstr(err, "tls_cert"));
	assert_int_equal(conf(BASE "roles = oobsp\n", err, sizeof(err)), 0);
	assert_int_equal(conf(BASE TLS "listen = localhost:8443\n", err,
	    sizeof(err)), AMTP_E_CONFIG);
	assert_non_null(strstr(err, "site.listen"));
	assert_int_equal(conf("[site]\ndatabase = mysql://x\n"
	    "master_key_file = /tmp/mk\n" TLS, err, sizeof(err)),
	    AMTP_E_CONFIG);
	assert_non_null(strstr(err, "site.database"));
	assert_int_equal(conf("[site]\nmaster_key_file = /tmp/mk\n" TLS, err,
	    sizeof(err)), AMTP_E_CONFIG);		/* database required */
	assert_int_equal(conf(BASE TLS "threads = 0\n", err, sizeof(err)),
	    AMTP_E_CONFIG);
	assert_int_equal(conf(BASE TLS "[oob]\npower_scheme = s5\n", err,
	    sizeof(err)), AMTP_E_CONFIG);
	assert_int_equal(conf(BASE TLS "[wifi.office]\nssid = corp\n"
	    "security = wpa2_enterprise\nieee8021x = tls\n"
	    "[ieee8021x.tls]\nmethod = eap_tls\n[admin_acl.ops]\n"
	    "account = CORP\\\\amt-admins\n", err, sizeof(err)), 0);
	assert_int_equal(conf(BASE TLS "[bogus]\nx = 1\n", err, sizeof(err)),
	    AMTP_E_CONFIG);
	assert_int_equal(conf(BASE TLS "[oob]\ndns_domain = fleet..test\n",
	    err, sizeof(err)), AMTP_E_CONFIG);
	assert_non_null(strstr(err, "oob.dns_domain"));
	assert_int_equal(conf(BASE TLS "[oob]\ndns_domain = fleet.test\n",
	    err, sizeof(err)), 0);
	assert_int_equal(conf(BASE TLS "[directory]\ntype = ldap\n", err,
	    sizeof(err)), AMTP_E_CONFIG);
	assert_non_null(strstr(err, "directory.ldap_uri"));
	assert_int_equal(conf(BASE TLS "[directory]\ntype = ldap\n"
	    "ldap_uri = ldaps://dc.corp.test\naccount_attr =\n", err,
	    sizeof(err)), 0);
	/* listen addresses */
	assert_int_equal(amtpd_config_parse_listen("127.0.0.1:8443", &ss, &sl),
	    0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 8443);
	assert_int_equal(amtpd_config_parse_listen("[::1]:443", &ss, &sl), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(amtpd_config_parse_listen("127.0.0.1:0", &ss, &sl),
	    0);
	assert_int_equal(amtpd_config_parse_listen("127.0.0.1:-1", &ss, &sl),
	    AMTP_E_RANGE);
	assert_int_equal(amtpd_config_parse_listen("127.0.0.1:65536", &ss, &sl),
	    AMTP_E_RANGE);
	assert_int_equal(amtpd_config_parse_listen("127.0.0.1", &ss, &sl),
	    AMTP_E_PARSE);
	assert_int_equal(amtpd_config_parse_listen("[::1:443", &ss, &sl),
	    AMTP_E_PARSE);
	assert_int_equal(amtpd_config_parse_listen(":443", &ss, &sl),
	    AMTP_E_PARSE);
	assert_int_equal(amtpd_config_role_parse("site"), AMTPD_ROLE_SITE);
	assert_int_equal(amtpd_config_role_parse("Site"), -1);
	assert_string_equal(amtpd_config_role_name(AMTPD_ROLE_ENROLL),
	    "enroll");
	assert_string_equal(amtpd_config_role_name(99), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_metrics_steps),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
