/*
 * amtprov - tests/unit/agent/run.c: the agent's flow (src/agent/run.c)
 * end to end in one process: agent_run() against a site on 127.0.0.1
 * (libmicrohttpd over TLS, routed by path, with answers the test sets) and
 * the scripted firmware of fakefw.h.  It checks the order of step 2 (the
 * OTP is in the firmware before its hash goes to the site, and the
 * interface is activated only after the site recorded it) and the paths
 * the integration test does not take: policy off, a revoked token, a site
 * that refuses the OTP, POST with this agent's record, no wired address, a
 * firmware error on SetProvisioningServerOTP.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/pem.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "agent.h"
#include "report.h"
#include "run.h"
#include "statedir.h"

#include "fakefw.h"
#include "../../fixtures/pki/mkcert.h"

#define UUID	"4c4c4544-0000-1111-8888-0000000000aa"
#define RAND	"AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd"

/* The site: answers per route, and what it saw. */
struct site {
	struct MHD_Daemon *d;
	unsigned	 port;
	char		*cert_pem, *key_pem;
	struct fw	*fw;
	int		 provision;
	int		 policy_401_once;
	int		 otp_status;
	int		 n_register, n_policy, n_otp, n_state;
	int		 otp_in_fw_before_hash;	/* ordering checks */
	int		 pre_when_hash_came;
	char		 token[160];		/* the last one issued */
	char		 state_body[8192];
};

static struct site S;
static char dir[64], ca_path[128], es_path[128], state_dir[128];

struct upload {
	char	buf[8192];
	size_t	len;
};

static enum MHD_Result
reply(struct MHD_Connection *c, int status, const char *body)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
route(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_size, void **con_cls)
{
	struct upload *u = *con_cls;
	const char *authz;
	char body[512], bearer[200];

	(void)cls;
	(void)method;
	(void)version;
	if (u == NULL) {
		*con_cls = calloc(1, sizeof(*u));
		return *con_cls != NULL ? MHD_YES : MHD_NO;
	}
	if (*upload_size != 0) {
		if (u->len + *upload_size < sizeof(u->buf)) {
			memcpy(u->buf + u->len, upload_data, *upload_size);
			u->len += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Authorization");
	snprintf(bearer, sizeof(bearer), "Bearer %s", S.token);
	if (strcmp(url, "/api/v1/agents/register") == 0) {
		S.n_register++;
		snprintf(S.token, sizeof(S.token), UUID ".%.40s%02d", RAND,
		    S.n_register);
		snprintf(body, sizeof(body), "{\"agent_id\":\"" UUID "\","
		    "\"device_id\":5,\"agent_token\":\"%s\","
		    "\"new_device\":%s}", S.token,
		    S.n_register == 1 ? "true" : "false");
		return reply(c, S.n_register == 1 ? 201 : 200, body);
	}
	if (authz == NULL || strcmp(authz, bearer) != 0)
		return reply(c, 401, "{\"error\":\"unauthorized\","
		    "\"message\":\"wrong agent token\"}");
	if (strcmp(url, "/api/v1/agents/policy") == 0) {
		S.n_policy++;
		if (S.policy_401_once) {
			S.policy_401_once = 0;
			return reply(c, 401, "{\"error\":\"unauthorized\","
			    "\"message\":\"agent disabled\"}");
		}
		snprintf(body, sizeof(body), "{\"provision\":%s,\"reason\":"
		    "\"%s\",\"device_id\":5,\"status\":\"not provisioned\"}",
		    S.provision ? "true" : "false", S.provision ?
		    "provision AMT" : "site policy: provisioning is off");
		return reply(c, 200, body);
	}
	if (strcmp(url, "/api/v1/agents/otp") == 0) {
		S.n_otp++;
		S.otp_in_fw_before_hash = S.fw->otp[0] != '\0';
		S.pre_when_hash_came = S.fw->state == AMTP_AMT_STATE_PRE;
		if (S.otp_status != 200)
			return reply(c, S.otp_status, "{\"error\":"
			    "\"invalid_field\",\"field\":\"amt_address\","
			    "\"message\":\"amt_address: refused\"}");
		return reply(c, 200, "{\"device_id\":5,\"status\":"
		    "\"not provisioned\",\"otp_recorded\":true,"
		    "\"job_id\":null}");
	}
	if (strcmp(url, "/api/v1/agents/state") == 0) {
		S.n_state++;
		memcpy(S.state_body, u->buf, u->len);
		S.state_body[u->len] = '\0';
		return reply(c, 200, "{\"device_id\":5,\"status\":"
		    "\"not provisioned\",\"job_id\":3}");
	}
	return reply(c, 404, "{\"error\":\"not_found\",\"message\":\"x\"}");
}

static void
done_cb(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

static char *
pem(int cert, void *obj)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *s;
	long n;

	assert_int_equal(cert ? PEM_write_bio_X509(b, obj) :
	    PEM_write_bio_PrivateKey(b, obj, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(b, &p);
	s = calloc(1, (size_t)n + 1);
	memcpy(s, p, (size_t)n);
	BIO_free(b);
	return s;
}

static void
put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
}

static int
group_setup(void **state)
{
	const union MHD_DaemonInfo *di;
	EVP_PKEY *k;
	X509 *c;
	X509_NAME *n;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/amtp_agent_run.XXXXXX");
	assert_non_null(mkdtemp(dir));
	k = mk_key();
	c = X509_new();
	X509_set_version(c, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c), 9);
	n = X509_get_subject_name(c);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"127.0.0.1", -1, -1, 0);
	X509_set_issuer_name(c, n);
	X509_gmtime_adj(X509_getm_notBefore(c), -60);
	X509_gmtime_adj(X509_getm_notAfter(c), MK_DAY);
	X509_set_pubkey(c, k);
	mk_ext(c, NULL, NID_basic_constraints, "critical,CA:TRUE");
	mk_ext(c, NULL, NID_key_usage,
	    "critical,digitalSignature,keyEncipherment,keyCertSign");
	mk_ext(c, NULL, NID_subject_alt_name, "IP:127.0.0.1");
	assert_true(X509_sign(c, k, EVP_sha256()) > 0);
	S.cert_pem = pem(1, c);
	S.key_pem = pem(0, k);
	X509_free(c);
	EVP_PKEY_free(k);
	snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", dir);
	put(ca_path, S.cert_pem);
	snprintf(es_path, sizeof(es_path), "%s/enrol.secret", dir);
	put(es_path, "enrolment-secret-0123456789\n");
	S.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_TLS, 0, NULL, NULL, route,
	    NULL, MHD_OPTION_HTTPS_MEM_CERT, S.cert_pem,
	    MHD_OPTION_HTTPS_MEM_KEY, S.key_pem, MHD_OPTION_NOTIFY_COMPLETED,
	    done_cb, NULL, MHD_OPTION_END);
	assert_non_null(S.d);
	di = MHD_get_daemon_info(S.d, MHD_DAEMON_INFO_BIND_PORT);
	S.port = di->port;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	MHD_stop_daemon(S.d);
	free(S.cert_pem);
	free(S.key_pem);
	curl_global_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int counter;

/* A fresh firmware, a fresh state folder, a site that says "provision". */
static int
each_setup(void **state)
{
	struct fw *f;

	fw_setup(state);
	f = *state;
	S.fw = f;
	S.provision = 1;
	S.policy_401_once = 0;
	S.otp_status = 200;
	S.n_register = S.n_policy = S.n_otp = S.n_state = 0;
	S.otp_in_fw_before_hash = S.pre_when_hash_came = 0;
	S.token[0] = S.state_body[0] = '\0';
	snprintf(state_dir, sizeof(state_dir), "%s/state%d", dir, ++counter);
	return 0;
}

static int
run(struct fw *f, struct agent_report *rep)
{
	struct agent_opts o;

	agent_opts_init(&o);
	snprintf(o.site_url, sizeof(o.site_url), "https://127.0.0.1:%u",
	    S.port);
	amtp_strlcpy(o.ca_file, ca_path, sizeof(o.ca_file));
	amtp_strlcpy(o.enrol_secret_file, es_path,
	    sizeof(o.enrol_secret_file));
	snprintf(o.mei_uri, sizeof(o.mei_uri), "unix:%s", f->path);
	amtp_strlcpy(o.state_dir, state_dir, sizeof(o.state_dir));
	amtp_strlcpy(o.smbios_uuid, UUID, sizeof(o.smbios_uuid));
	amtp_strlcpy(o.hostname, "pc7", sizeof(o.hostname));
	o.retries = 0;
	o.retry_delay_ms = 10;
	agent_report_init(rep, "run");
	return agent_run(&o, rep);
}

static void
test_provision_order(void **state)
{
	struct fw *f = *state;
	struct agent_report *rep = calloc(1, sizeof(*rep));
	struct agent_record rec;
	struct agent_err e;
	json_t *o;
	int found;

	assert_int_equal(run(f, rep), 0);
	assert_string_equal(rep->result, "job_queued");
	assert_int_equal(rep->job_id, 3);
	assert_int_equal(rep->registered, 1);
	/* step 2's order, seen from the site */
	assert_int_equal(S.otp_in_fw_before_hash, 1);
	assert_int_equal(S.pre_when_hash_came, 1);
	assert_int_equal(f->state, AMTP_AMT_STATE_IN);
	assert_int_equal(f->started_with, AMTP_AMTHI_START_CONFIGURATION_EX);
	assert_int_equal((int)strlen(f->otp), AMTP_OTP_LEN);
	/* step 3 carries the state after activation */
	o = json_loads(S.state_body, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o,
	    "provisioning_state")), "in");
	assert_string_equal(json_string_value(json_object_get(o, "uuid")),
	    "03020100-0504-0706-0809-0a0b0c0d0e0f");
	assert_null(json_object_get(o, "reason"));
	json_decref(o);
	agent_err_init(&e);
	assert_int_equal(agent_statedir_load_record(state_dir,
	    "03020100-0504-0706-0809-0a0b0c0d0e0f", &rec, &found, &e), 0);
	assert_int_equal(found, 1);
	assert_string_equal(rec.command, "StartConfigurationEx");
	free(rep);
}

static void
test_policy_off(void **state)
{
	struct fw *f = *state;
	struct agent_report *rep = calloc(1, sizeof(*rep));

	S.provision = 0;
	assert_int_equal(run(f, rep), 0);
	assert_string_equal(rep->result, "nothing_to_do");
	assert_non_null(strstr(rep->result_text, "provisioning is off"));
	assert_int_equal(f->answered, 0);	/* MEI never used */
	assert_int_equal(S.n_otp + S.n_state, 0);
	free(rep);
}

static void
test_token_revoked(void **state)
{
	struct fw *f = *state;
	struct agent_report *rep = calloc(1, sizeof(*rep));
	struct amtp_secret *t = NULL;
	struct agent_err e;

	/* a stored token the site no longer accepts */
	agent_err_init(&e);
	assert_int_equal(agent_statedir_prepare(state_dir, &e), 0);
	assert_int_equal(agent_statedir_save_token(state_dir,
	    UUID ".stale", &e), 0);
	S.provision = 0;
	assert_int_equal(run(f, rep), 0);
	assert_int_equal(S.n_register, 1);
	assert_int_equal(S.n_policy, 1);	/* the stale one never passed */
	assert_int_equal(rep->registered, 1);
	assert_int_equal(agent_statedir_load_token(state_dir, UUID, &t, &e),
	    0);
	assert_string_equal(amtp_secret_cstr(t), S.token);
	amtp_secret_free(t);
	/* a token refused right after registering: no loop, exit 4 */
	S.policy_401_once = 1;
	assert_int_equal(agent_statedir_save_token(state_dir, UUID ".stale2",
	    &e), 0);
	S.n_register = 0;
	free(rep);
	rep = calloc(1, sizeof(*rep));
	assert_int_equal(run(f, rep), AGENT_EXIT_SITE_REFUSED);
	assert_string_equal(rep->err.code, "site_auth");
	assert_int_equal(S.n_register, 1);
	free(rep);
}

static void
test_site_refuses_otp(void **state)
{
	struct fw *f = *state;
	struct agent_report *rep = calloc(1, sizeof(*rep));
	struct agent_record rec;
	struct agent_err e;
	int found = 1;

	S.otp_status = 400;
	assert_int_equal(run(f, rep), AGENT_EXIT_SITE_REFUSED);
	assert_string_equal(rep->err.code, "site_refused");
	assert_non_null(strstr(rep->err.msg, "amt_address: refused"));
	/* not activated: the site does not hold the hash */
	assert_int_equal(f->state, AMTP_AMT_STATE_PRE);
	assert_int_equal(f->started_with, 0);
	assert_int_equal(S.n_state, 0);
	agent_err_init(&e);
	assert_int_equal(agent_statedir_load_record(state_dir,
	    "03020100-0504-0706-0809-0a0b0c0d0e0f", &rec, &found, &e), 0);
	assert_int_equal(found, 0);
	free(rep);
}

static void
test_post_with_record(void **state)
{
	struct fw *f = *state;
	struct agent_report *rep = calloc(1, sizeof(*rep));
	struct agent_record rec;
	struct agent_err e;

	f->state = AMTP_AMT_STATE_POST;
	f->control = AMTP_AMT_CONTROL_ACM;
	memset(&rec, 0, sizeof(rec));
	amtp_strlcpy(rec.amt_uuid, "03020100-0504-0706-0809-0a0b0c0d0e0f",
	    sizeof(rec.amt_uuid));
	amtp_strlcpy(rec.command, "StartConfigurationEx", sizeof(rec.command));
	agent_err_init(&e);
	assert_int_equal(agent_statedir_prepare(state_dir, &e), 0);
	assert_int_equal(agent_statedir_save_record(state_dir, &rec, &e), 0);
	assert_int_equal(run(f, rep), 0);
	assert_string_equal(rep->result, "provisioned");
	assert_int_equal(S.n_otp, 0);
	assert_non_null(strstr(S.state_body, "\"provisioning_state\":\"post\""));
	assert_non_null(strstr(S.state_body, "\"control_mode\":\"admin\""));
	assert_string_equal(f->otp, "");
	free(rep);
}

static void
test_in_without_record(void **state)
{
	struct fw *f = *state;
	struct agent_report *rep = calloc(1, sizeof(*rep));

	f->state = AMTP_AMT_STATE_IN;
	assert_int_equal(run(f, rep), AGENT_EXIT_NOT_PRE);
	assert_string_equal(rep->err.code, "amt_in");
	assert_string_equal(rep->result, "stopped");
	assert_non_null(strstr(S.state_body, "\"reason\":\"AMT is in IN "
	    "state"));
	assert_int_equal(S.n_otp, 0);
	assert_string_equal(f->otp, "");
	free(rep);
}

static void
test_no_wired_address(void **state)
{
	struct fw *f = *state;
	struct agent_report *rep = calloc(1, sizeof(*rep));

	f->ipv4 = 0;
	assert_int_equal(run(f, rep), AGENT_EXIT_FIRMWARE);
	assert_string_equal(rep->err.code, "no_wired_address");
	assert_string_equal(f->otp, "");
	assert_int_equal(S.n_otp, 0);
	free(rep);
}

static void
test_set_otp_fails(void **state)
{
	struct fw *f = *state;
	struct agent_report *rep = calloc(1, sizeof(*rep));

	f->fail_cmd = AMTP_AMTHI_SET_PROVISIONING_SERVER_OTP;
	f->fail_status = AMTP_AMT_STATUS_FLASH_WRITE_LIMIT_EXCEEDED;
	assert_int_equal(run(f, rep), AGENT_EXIT_FIRMWARE);
	assert_string_equal(rep->err.code, "firmware_status");
	assert_non_null(strstr(rep->err.msg, "SetProvisioningServerOTP"));
	assert_int_equal(S.n_otp, 0);
	assert_int_equal(f->state, AMTP_AMT_STATE_PRE);
	free(rep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_provision_order,
		    each_setup, fw_teardown),
		cmocka_unit_test_setup_teardown(test_policy_off, each_setup,
		    fw_teardown),
		cmocka_unit_test_setup_teardown(test_token_revoked,
		    each_setup, fw_teardown),
		cmocka_unit_test_setup_teardown(test_site_refuses_otp,
		    each_setup, fw_teardown),
		cmocka_unit_test_setup_teardown(test_post_with_record,
		    each_setup, fw_teardown),
		cmocka_unit_test_setup_teardown(test_in_without_record,
		    each_setup, fw_teardown),
		cmocka_unit_test_setup_teardown(test_no_wired_address,
		    each_setup, fw_teardown),
		cmocka_unit_test_setup_teardown(test_set_otp_fails,
		    each_setup, fw_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
