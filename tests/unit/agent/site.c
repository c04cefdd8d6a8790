/*
 * amtprov - tests/unit/agent/site.c: the agent's site client
 * (src/agent/site.c): the answer parser, case by case, and the transport
 * against a real HTTPS server on 127.0.0.1 (libmicrohttpd with GnuTLS and
 * a certificate made here), scripted to answer as a site would, fail,
 * stall, or send too much.
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
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
#include "site.h"

#include "../../fixtures/pki/mkcert.h"

#define UUID	"4c4c4544-0000-1111-8888-00000000000a"
#define TOKEN	UUID ".AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd"

/* ------------------------------------------------------------------ */
/* Parser                                                               */
/* ------------------------------------------------------------------ */

static int
parse(enum agent_call call, long status, const char *body,
    struct agent_answer *a, struct agent_err *e)
{
	agent_err_init(e);
	return agent_site_parse(call, status, body, strlen(body), a, e);
}

static void
test_parse_register(void **state)
{
	struct agent_answer a;
	struct agent_err e;

	(void)state;
	assert_int_equal(parse(AGENT_CALL_REGISTER, 201, "{\"agent_id\":\""
	    UUID "\",\"device_id\":12,\"agent_token\":\"" TOKEN "\","
	    "\"new_device\":true,\"later\":[1]}", &a, &e), 0);
	assert_string_equal(a.agent_id, UUID);
	assert_string_equal(a.token, TOKEN);
	assert_int_equal(a.device_id, 12);
	assert_int_equal(a.new_device, 1);
	assert_false(e.set);

	/* not a UUID; a token with a space; no token; device id 0 */
	assert_int_equal(parse(AGENT_CALL_REGISTER, 200, "{\"agent_id\":\"x\","
	    "\"device_id\":1,\"agent_token\":\"" TOKEN "\"}", &a, &e),
	    AMTP_E_PARSE);
	assert_string_equal(e.code, "site_bad_answer");
	assert_int_equal(e.exit, AGENT_EXIT_SITE_REFUSED);
	assert_non_null(strstr(e.msg, "agent_id"));
	assert_string_equal(a.token, "");
	assert_int_equal(parse(AGENT_CALL_REGISTER, 200, "{\"agent_id\":\""
	    UUID "\",\"device_id\":1,\"agent_token\":\"a b\"}", &a, &e),
	    AMTP_E_PARSE);
	assert_non_null(strstr(e.msg, "agent_token"));
	assert_int_equal(parse(AGENT_CALL_REGISTER, 200, "{\"agent_id\":\""
	    UUID "\",\"device_id\":1}", &a, &e), AMTP_E_PARSE);
	assert_non_null(strstr(e.msg, "\"agent_token\" is missing"));
	assert_int_equal(parse(AGENT_CALL_REGISTER, 200, "{\"agent_id\":\""
	    UUID "\",\"device_id\":0,\"agent_token\":\"t\"}", &a, &e),
	    AMTP_E_PARSE);
	assert_non_null(strstr(e.msg, "device_id"));
}

static void
test_parse_policy_otp_state(void **state)
{
	struct agent_answer a;
	struct agent_err e;

	(void)state;
	assert_int_equal(parse(AGENT_CALL_POLICY, 200, "{\"provision\":true,"
	    "\"reason\":\"provision AMT\",\"device_id\":3,\"status\":"
	    "\"not provisioned\",\"dns_domain\":null}", &a, &e), 0);
	assert_int_equal(a.provision, 1);
	assert_string_equal(a.status, "not provisioned");
	assert_string_equal(a.dns_domain, "");
	assert_int_equal(parse(AGENT_CALL_POLICY, 200, "{\"provision\":1,"
	    "\"status\":\"x\"}", &a, &e), AMTP_E_PARSE);
	assert_non_null(strstr(e.msg, "\"provision\" is not true or false"));

	assert_int_equal(parse(AGENT_CALL_OTP, 200, "{\"device_id\":3,"
	    "\"status\":\"not provisioned\",\"otp_recorded\":true,"
	    "\"job_id\":null}", &a, &e), 0);
	assert_int_equal(a.job_id, 0);
	assert_int_equal(parse(AGENT_CALL_OTP, 200, "{\"device_id\":3,"
	    "\"status\":\"x\",\"otp_recorded\":false,\"job_id\":null}", &a,
	    &e), AMTP_E_PARSE);
	assert_non_null(strstr(e.msg, "did not record"));

	assert_int_equal(parse(AGENT_CALL_STATE, 200, "{\"device_id\":3,"
	    "\"status\":\"externally provisioned\",\"job_id\":9}", &a, &e),
	    0);
	assert_int_equal(a.job_id, 9);
	assert_string_equal(a.status, "externally provisioned");
	/* a status one byte over the limit, then exactly at it */
	assert_int_equal(parse(AGENT_CALL_STATE, 200, "{\"device_id\":3,"
	    "\"status\":\"123456789012345678901234567890123\",\"job_id\":1}",
	    &a, &e), AMTP_E_PARSE);
	assert_int_equal(parse(AGENT_CALL_STATE, 200, "{\"device_id\":3,"
	    "\"status\":\"12345678901234567890123456789012\",\"job_id\":1}",
	    &a, &e), 0);
	assert_int_equal(parse(AGENT_CALL_STATE, 200, "{\"device_id\":3,"
	    "\"status\":\"a\\u0000b\",\"job_id\":1}", &a, &e), AMTP_E_JSON);
	assert_int_equal(parse(AGENT_CALL_STATE, 200, "{\"device_id\":3,"
	    "\"status\":\"a\",\"job_id\":-1}", &a, &e), AMTP_E_PARSE);
}

static void
test_parse_hostile(void **state)
{
	struct agent_answer a;
	struct agent_err e;
	char *big;

	(void)state;
	assert_int_equal(parse(AGENT_CALL_STATE, 200, "", &a, &e),
	    AMTP_E_PARSE);
	assert_int_equal(parse(AGENT_CALL_STATE, 200, "{\"status\":", &a, &e),
	    AMTP_E_JSON);
	assert_non_null(strstr(e.msg, "malformed JSON"));
	assert_int_equal(parse(AGENT_CALL_STATE, 200, "[1]", &a, &e),
	    AMTP_E_PARSE);
	assert_int_equal(parse(AGENT_CALL_POLICY, 200, "{\"provision\":true,"
	    "\"provision\":false,\"status\":\"x\"}", &a, &e), AMTP_E_JSON);
	/* depth: exactly at the limit parses (and fails on content), one
	 * over is refused before jansson sees it */
	assert_int_equal(parse(AGENT_CALL_STATE, 200,
	    "{\"a\":[[[1]]]}", &a, &e), AMTP_E_PARSE);
	assert_int_equal(parse(AGENT_CALL_STATE, 200,
	    "{\"a\":[[[[1]]]]}", &a, &e), AMTP_E_DEPTH);
	assert_int_equal(parse(AGENT_CALL_STATE, 200,
	    "{\"a\":\"[[[[[[[[\",\"device_id\":1,\"status\":\"s\","
	    "\"job_id\":null}", &a, &e), 0);
	big = calloc(1, AMTP_AGENT_RESPONSE_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', AMTP_AGENT_RESPONSE_MAX + 1);
	assert_int_equal(parse(AGENT_CALL_STATE, 200, big, &a, &e),
	    AMTP_E_TOOBIG);
	free(big);
	assert_int_equal(agent_site_parse(AGENT_CALL__MAX, 200, "{}", 2, &a,
	    &e), AMTP_E_INVAL);
}

static void
test_parse_errors(void **state)
{
	struct agent_answer a;
	struct agent_err e;

	(void)state;
	assert_int_equal(parse(AGENT_CALL_POLICY, 401, "{\"error\":"
	    "\"unauthorized\",\"message\":\"wrong agent token\"}", &a, &e),
	    AMTP_E_AUTH);
	assert_string_equal(e.code, "site_auth");
	assert_non_null(strstr(e.msg, "wrong agent token"));
	assert_int_equal(parse(AGENT_CALL_POLICY, 409, "{\"error\":"
	    "\"not_registered\",\"message\":\"register again\"}", &a, &e),
	    AMTP_E_STATE);
	assert_int_equal(parse(AGENT_CALL_OTP, 409, "{\"error\":\"conflict\","
	    "\"message\":\"x\"}", &a, &e), AMTP_E_DENIED);
	assert_int_equal(parse(AGENT_CALL_STATE, 400, "{\"error\":"
	    "\"invalid_field\",\"field\":\"uuid\",\"message\":\"uuid: not a "
	    "UUID\\u001b[31m\"}", &a, &e), AMTP_E_DENIED);
	assert_int_equal(e.exit, AGENT_EXIT_SITE_REFUSED);
	assert_non_null(strstr(e.msg, "HTTP 400 invalid_field"));
	assert_non_null(strstr(e.msg, "uuid: not a UUID?[31m"));
	assert_int_equal(parse(AGENT_CALL_STATE, 400, "not json", &a, &e),
	    AMTP_E_DENIED);
	assert_non_null(strstr(e.msg, "no reason given"));
	assert_int_equal(parse(AGENT_CALL_REGISTER, 503, "{\"error\":\"busy\","
	    "\"message\":\"database busy\"}", &a, &e), AMTP_E_AGAIN);
	assert_int_equal(e.exit, AGENT_EXIT_SITE_DOWN);
	assert_int_equal(parse(AGENT_CALL_REGISTER, 302, "", &a, &e),
	    AMTP_E_PROTO);
}

/* ------------------------------------------------------------------ */
/* A scripted HTTPS site                                                */
/* ------------------------------------------------------------------ */

#define SCRIPT_MAX	8

struct fake {
	struct MHD_Daemon *d;
	unsigned	 port;
	char		*cert_pem, *key_pem;
	char		 ca_path[64], other_ca_path[64];
	/* what to answer, in order; the last one repeats */
	int		 nstep, step;
	int		 status[SCRIPT_MAX];
	const char	*body[SCRIPT_MAX];
	size_t		 big;		/* > 0: answer this many bytes */
	int		 stall_ms;
	/* what came */
	pthread_mutex_t	 mu;
	int		 calls;
	char		 method[8], url[128], authz[512];
	char		 req_body[4096];
	size_t		 req_len;
};

struct upload {
	char	buf[4096];
	size_t	len;
};

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_size, void **con_cls)
{
	struct fake *f = cls;
	struct upload *u = *con_cls;
	struct MHD_Response *resp;
	const char *authz, *body;
	char *bigbody = NULL;
	enum MHD_Result ret;
	int status, i;

	(void)version;
	if (u == NULL) {
		if ((u = calloc(1, sizeof(*u))) == NULL)
			return MHD_NO;
		*con_cls = u;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		if (u->len + *upload_size < sizeof(u->buf)) {
			memcpy(u->buf + u->len, upload_data, *upload_size);
			u->len += *upload_size;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&f->mu);
	f->calls++;
	snprintf(f->method, sizeof(f->method), "%s", method);
	snprintf(f->url, sizeof(f->url), "%s", url);
	authz = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Authorization");
	snprintf(f->authz, sizeof(f->authz), "%s", authz != NULL ? authz : "");
	memcpy(f->req_body, u->buf, u->len);
	f->req_body[u->len] = '\0';
	f->req_len = u->len;
	i = f->step < f->nstep - 1 ? f->step++ : f->nstep - 1;
	status = f->status[i];
	body = f->body[i];
	pthread_mutex_unlock(&f->mu);
	if (f->stall_ms > 0)
		usleep((useconds_t)f->stall_ms * 1000);
	if (f->big > 0) {
		bigbody = malloc(f->big);
		memset(bigbody, ' ', f->big);
		resp = MHD_create_response_from_buffer(f->big, bigbody,
		    MHD_RESPMEM_MUST_FREE);
	} else
		resp = MHD_create_response_from_buffer(strlen(body),
		    (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

static char *
pem_of(int (*w)(BIO *, void *), void *obj)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *s;
	long n;

	assert_non_null(b);
	assert_int_equal(w(b, obj), 1);
	n = BIO_get_mem_data(b, &p);
	s = calloc(1, (size_t)n + 1);
	memcpy(s, p, (size_t)n);
	BIO_free(b);
	return s;
}

static int
w_cert(BIO *b, void *x)
{
	return PEM_write_bio_X509(b, x);
}

static int
w_key(BIO *b, void *k)
{
	return PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
}

/* A self-signed server certificate for 127.0.0.1 that is its own CA. */
static X509 *
server_cert(EVP_PKEY *k)
{
	X509 *c = X509_new();
	X509_NAME *n;

	assert_non_null(c);
	X509_set_version(c, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c), 7);
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
	return c;
}

static void
write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(s, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int
fake_setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	const union MHD_DaemonInfo *di;
	EVP_PKEY *k, *k2;
	X509 *c, *c2;
	char *other;

	assert_non_null(f);
	pthread_mutex_init(&f->mu, NULL);
	k = mk_key();
	c = server_cert(k);
	f->cert_pem = pem_of(w_cert, c);
	f->key_pem = pem_of(w_key, k);
	snprintf(f->ca_path, sizeof(f->ca_path), "/tmp/amtp_agent_ca.%d",
	    (int)getpid());
	write_file(f->ca_path, f->cert_pem);
	/* another CA with the same name: a site we must not trust */
	k2 = mk_key();
	c2 = server_cert(k2);
	other = pem_of(w_cert, c2);
	snprintf(f->other_ca_path, sizeof(f->other_ca_path),
	    "/tmp/amtp_agent_ca2.%d", (int)getpid());
	write_file(f->other_ca_path, other);
	free(other);
	X509_free(c);
	X509_free(c2);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
	f->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_TLS, 0, NULL, NULL,
	    access_cb, f, MHD_OPTION_HTTPS_MEM_CERT, f->cert_pem,
	    MHD_OPTION_HTTPS_MEM_KEY, f->key_pem,
	    MHD_OPTION_NOTIFY_COMPLETED, completed_cb, f,
	    MHD_OPTION_SOCK_ADDR, NULL, MHD_OPTION_END);
	assert_non_null(f->d);
	di = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(di);
	f->port = di->port;
	*state = f;
	return 0;
}

static int
fake_teardown(void **state)
{
	struct fake *f = *state;

	MHD_stop_daemon(f->d);
	unlink(f->ca_path);
	unlink(f->other_ca_path);
	free(f->cert_pem);
	free(f->key_pem);
	pthread_mutex_destroy(&f->mu);
	free(f);
	return 0;
}

static void
script(struct fake *f, int n, ...)
{
	va_list ap;
	int i;

	va_start(ap, n);
	for (i = 0; i < n; i++) {
		f->status[i] = va_arg(ap, int);
		f->body[i] = va_arg(ap, const char *);
	}
	va_end(ap);
	f->nstep = n;
	f->step = 0;
	f->calls = 0;
	f->big = 0;
	f->stall_ms = 0;
}

static struct agent_site *
client(struct fake *f, const char *ca, unsigned port, int retries)
{
	struct agent_site_cfg cfg;
	struct agent_site *s = NULL;
	struct agent_err e;
	char url[64];

	snprintf(url, sizeof(url), "https://127.0.0.1:%u/", port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.url = url;
	cfg.ca_file = ca != NULL ? ca : f->ca_path;
	cfg.retries = retries;
	cfg.retry_delay_ms = 10;
	cfg.connect_timeout = 2;
	cfg.request_timeout = 2;
	agent_err_init(&e);
	assert_int_equal(agent_site_new(&cfg, &s, &e), 0);
	return s;
}

static void
test_register_and_policy(void **state)
{
	struct fake *f = *state;
	struct agent_register_in in;
	struct agent_answer a;
	struct agent_err e;
	struct amtp_secret *sec;
	struct agent_site *s = client(f, NULL, f->port, 0);
	json_t *o;

	script(f, 1, 201, "{\"agent_id\":\"" UUID "\",\"device_id\":4,"
	    "\"agent_token\":\"" TOKEN "\",\"new_device\":true}");
	assert_int_equal(amtp_secret_from_cstr("enrol-secret-0123456789",
	    &sec), 0);
	memset(&in, 0, sizeof(in));
	in.hostname = "pc10";
	in.fqdn = "pc10.fleet.example.test";
	in.smbios_uuid = UUID;
	agent_err_init(&e);
	assert_int_equal(agent_site_register(s, sec, &in, &a, &e), 0);
	assert_string_equal(a.token, TOKEN);
	assert_string_equal(f->method, "POST");
	assert_string_equal(f->url, "/api/v1/agents/register");
	assert_string_equal(f->authz, "Bearer enrol-secret-0123456789");
	o = json_loads(f->req_body, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "hostname")),
	    "pc10");
	assert_string_equal(json_string_value(json_object_get(o, "fqdn")),
	    "pc10.fleet.example.test");
	assert_string_equal(json_string_value(json_object_get(o,
	    "smbios_uuid")), UUID);
	assert_int_equal(json_object_size(o), 3);
	json_decref(o);
	amtp_secret_free(sec);

	script(f, 1, 200, "{\"provision\":false,\"reason\":\"off\","
	    "\"device_id\":4,\"status\":\"unknown\"}");
	assert_int_equal(amtp_secret_from_cstr(TOKEN, &sec), 0);
	assert_int_equal(agent_site_policy(s, sec, &a, &e), 0);
	assert_string_equal(f->method, "GET");
	assert_string_equal(f->url, "/api/v1/agents/policy");
	assert_string_equal(f->authz, "Bearer " TOKEN);
	assert_int_equal(a.provision, 0);
	assert_int_equal(agent_site_attempts(s), 1);
	amtp_secret_free(sec);
	agent_site_free(s);
}

static void
test_otp_and_state_bodies(void **state)
{
	struct fake *f = *state;
	struct agent_answer a;
	struct agent_err e;
	struct amtp_secret *sec;
	struct agent_state_msg m;
	struct agent_state_hash h[2];
	struct agent_site *s = client(f, NULL, f->port, 0);
	json_t *o, *arr;

	assert_int_equal(amtp_secret_from_cstr(TOKEN, &sec), 0);
	script(f, 1, 200, "{\"device_id\":4,\"status\":\"not provisioned\","
	    "\"otp_recorded\":true,\"job_id\":null}");
	agent_err_init(&e);
	assert_int_equal(agent_site_otp(s, sec, "ab01", "127.20.0.1", &a, &e),
	    0);
	assert_string_equal(f->url, "/api/v1/agents/otp");
	assert_string_equal(f->req_body,
	    "{\"otp_sha256\":\"ab01\",\"amt_address\":\"127.20.0.1\"}");

	memset(h, 0, sizeof(h));
	amtp_strlcpy(h[0].name, "Root A", sizeof(h[0].name));
	amtp_strlcpy(h[0].hex, "00ff", sizeof(h[0].hex));
	h[0].is_default = 1;
	amtp_strlcpy(h[1].name, "Root B", sizeof(h[1].name));
	amtp_strlcpy(h[1].hex, "ff00", sizeof(h[1].hex));
	h[1].is_active = 1;
	memset(&m, 0, sizeof(m));
	m.amt_supported = 1;
	m.amt_version = "11.8.50";
	m.build = "3425";
	m.sku = "16392";
	m.uuid = UUID;
	m.dns_suffix = "";
	m.control_mode = "none";
	m.provisioning_state = "in";
	m.wireless = 1;
	m.hashes = h;
	m.nhashes = 2;
	script(f, 1, 200, "{\"device_id\":4,\"status\":\"not provisioned\","
	    "\"job_id\":17}");
	assert_int_equal(agent_site_state(s, sec, &m, &a, &e), 0);
	assert_int_equal(a.job_id, 17);
	o = json_loads(f->req_body, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(o);
	assert_true(json_is_true(json_object_get(o, "amt_supported")));
	assert_true(json_is_true(json_object_get(o, "wireless")));
	assert_null(json_object_get(o, "reason"));
	assert_string_equal(json_string_value(json_object_get(o,
	    "provisioning_state")), "in");
	arr = json_object_get(o, "cert_hashes");
	assert_int_equal(json_array_size(arr), 2);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(arr, 1), "hash")), "ff00");
	assert_true(json_is_false(json_object_get(json_array_get(arr, 1),
	    "is_default")));
	json_decref(o);

	/* no AMT: only the flag and the reason */
	memset(&m, 0, sizeof(m));
	m.reason = "no MEI device";
	assert_int_equal(agent_site_state(s, sec, &m, &a, &e), 0);
	assert_string_equal(f->req_body,
	    "{\"amt_supported\":false,\"reason\":\"no MEI device\"}");
	amtp_secret_free(sec);
	agent_site_free(s);
}

static void
test_retry_then_ok(void **state)
{
	struct fake *f = *state;
	struct agent_answer a;
	struct agent_err e;
	struct amtp_secret *sec;
	struct agent_site *s = client(f, NULL, f->port, 3);

	assert_int_equal(amtp_secret_from_cstr(TOKEN, &sec), 0);
	script(f, 3, 503, "{\"error\":\"busy\",\"message\":\"database busy\"}",
	    502, "", 200, "{\"provision\":true,\"device_id\":4,"
	    "\"status\":\"unknown\"}");
	agent_err_init(&e);
	assert_int_equal(agent_site_policy(s, sec, &a, &e), 0);
	assert_int_equal(agent_site_attempts(s), 3);
	assert_int_equal(f->calls, 3);
	assert_false(e.set);

	/* always 503: retries spent, exit 3 with the site's words */
	script(f, 1, 503, "{\"error\":\"busy\",\"message\":\"database busy\"}");
	agent_site_free(s);
	s = client(f, NULL, f->port, 2);
	assert_int_equal(agent_site_policy(s, sec, &a, &e), AMTP_E_AGAIN);
	assert_int_equal(f->calls, 3);
	assert_int_equal(e.exit, AGENT_EXIT_SITE_DOWN);
	assert_non_null(strstr(e.msg, "database busy"));

	/* a refusal is not retried */
	script(f, 1, 400, "{\"error\":\"invalid_field\",\"field\":\"x\","
	    "\"message\":\"x: bad\"}");
	agent_err_init(&e);
	assert_int_equal(agent_site_policy(s, sec, &a, &e), AMTP_E_DENIED);
	assert_int_equal(f->calls, 1);
	amtp_secret_free(sec);
	agent_site_free(s);
}

static void
test_site_down(void **state)
{
	struct fake *f = *state;
	struct agent_answer a;
	struct agent_err e;
	struct amtp_secret *sec;
	struct agent_site *s;
	unsigned port;
	int fd;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	/* a port nobody listens on: bind one, note it, close it */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	s = client(f, NULL, port, 2);
	assert_int_equal(amtp_secret_from_cstr(TOKEN, &sec), 0);
	agent_err_init(&e);
	assert_int_equal(agent_site_policy(s, sec, &a, &e), AMTP_E_AGAIN);
	assert_int_equal(agent_site_attempts(s), 3);
	assert_string_equal(e.code, "site_down");
	assert_int_equal(e.exit, AGENT_EXIT_SITE_DOWN);
	assert_non_null(strstr(e.msg, "unreachable after 3 attempts"));
	amtp_secret_free(sec);
	agent_site_free(s);
}

static void
test_tls_and_limits(void **state)
{
	struct fake *f = *state;
	struct agent_answer a;
	struct agent_err e;
	struct amtp_secret *sec;
	struct agent_site *s;
	struct agent_site_cfg cfg;

	assert_int_equal(amtp_secret_from_cstr(TOKEN, &sec), 0);
	/* another CA: refused at once, never retried, token never sent */
	script(f, 1, 200, "{\"provision\":true,\"status\":\"x\"}");
	s = client(f, f->other_ca_path, f->port, 3);
	agent_err_init(&e);
	assert_int_equal(agent_site_policy(s, sec, &a, &e), AMTP_E_TLS);
	assert_string_equal(e.code, "site_tls");
	assert_int_equal(agent_site_attempts(s), 1);
	assert_int_equal(f->calls, 0);
	agent_site_free(s);

	/* an answer one byte over the cap */
	s = client(f, NULL, f->port, 3);
	script(f, 1, 200, "");
	f->big = AMTP_AGENT_RESPONSE_MAX + 1;
	agent_err_init(&e);
	assert_int_equal(agent_site_policy(s, sec, &a, &e), AMTP_E_TOOBIG);
	assert_int_equal(e.exit, AGENT_EXIT_SITE_REFUSED);
	assert_int_equal(agent_site_attempts(s), 1);
	/* exactly at the cap: read, then refused as JSON (all spaces) */
	script(f, 1, 200, "");
	f->big = AMTP_AGENT_RESPONSE_MAX;
	agent_err_init(&e);
	assert_int_equal(agent_site_policy(s, sec, &a, &e), AMTP_E_JSON);
	agent_site_free(s);

	/* a site that stalls past the request timeout counts as down */
	s = client(f, NULL, f->port, 0);
	script(f, 1, 200, "{}");
	f->stall_ms = 2500;
	agent_err_init(&e);
	assert_int_equal(agent_site_policy(s, sec, &a, &e), AMTP_E_AGAIN);
	assert_string_equal(e.code, "site_down");
	f->stall_ms = 0;
	agent_site_free(s);

	/* configuration refused before any traffic */
	memset(&cfg, 0, sizeof(cfg));
	cfg.url = "http://127.0.0.1:1";
	cfg.ca_file = f->ca_path;
	agent_err_init(&e);
	assert_int_equal(agent_site_new(&cfg, &s, &e), AMTP_E_CONFIG);
	assert_int_equal(e.exit, AGENT_EXIT_USAGE);
	assert_null(s);
	cfg.url = "https://127.0.0.1:1";
	cfg.ca_file = "/nonexistent/ca.pem";
	agent_err_init(&e);
	assert_int_equal(agent_site_new(&cfg, &s, &e), AMTP_E_CONFIG);
	assert_non_null(strstr(e.msg, "/nonexistent/ca.pem"));
	cfg.ca_file = NULL;
	agent_err_init(&e);
	assert_int_equal(agent_site_new(&cfg, &s, &e), AMTP_E_CONFIG);
	amtp_secret_free(sec);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_register),
		cmocka_unit_test(test_parse_policy_otp_state),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_register_and_policy),
		cmocka_unit_test(test_otp_and_state_bodies),
		cmocka_unit_test(test_retry_then_ok),
		cmocka_unit_test(test_site_down),
		cmocka_unit_test(test_tls_and_limits),
	};
	int r;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, fake_setup, fake_teardown);
	curl_global_cleanup();
	return r;
}
