/* Unit tests for src/amtsim/net (ws.c, classes.c, methods.c, state.c): the
 * WS-Management engine of a simulated device, driven with real envelopes:
 * every request of Intel's RPS (tests/fixtures/simnet/requests) is
 * accepted; replies have the shape of real AMT's (golden/); each class's
 * Get/Put/Enumerate/Pull and each method's behaviour and return codes;
 * faults for unknown resources, bad selectors and hostile input; flash
 * persistence. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "amtprov/amthi.h"
#include "amtprov/buf.h"
#include "amtprov/digest.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/str.h"
#include "amtprov/wsman.h"
#include "device.h"
#include "net/simnet.h"

#define AMT	AMTP_WSMAN_URI_AMT
#define CIM	AMTP_WSMAN_URI_CIM
#define IPS	AMTP_WSMAN_URI_IPS

struct fixture {
	char			 dir[64];
	struct amtsim_fleet_ctx	 ctx;
	struct amtsim_device	*d;
	struct simnet_dev	*sd;
	unsigned		 msgid;
	int			 status;
};

static char *
fixture_path(const char *name)
{
	static char p[1024];

	(void)snprintf(p, sizeof(p), "%s/tests/fixtures/simnet/%s",
	    getenv("AMTP_SRC_DIR") != NULL ? getenv("AMTP_SRC_DIR") :
	    AMTP_SRC_DIR, name);
	return p;
}

static struct amtp_buf *
load(const char *name)
{
	struct amtp_buf *b = NULL;

	assert_int_equal(amtp_buf_load_file(fixture_path(name),
	    AMTP_MAX_SOAP_SIZE, &b), 0);
	return b;
}

static struct amtsim_device *
make(struct fixture *f, unsigned index, int wireless)
{
	struct amtsim_device_spec spec;
	struct amtsim_device *d = NULL;

	memset(&spec, 0, sizeof(spec));
	spec.index = index;
	spec.amt_version = "16.1.25";
	spec.ipv4 = 0x7f140000u + index;
	spec.wireless = wireless;
	spec.dhcp_dns_suffix = "corp.example";
	spec.pki_dns_suffix = "corp.example";
	spec.mebx_password = "admin";
	assert_int_equal(amtsim_device_create(&spec, NULL, &d), 0);
	amtsim_device_set_ctx(d, &f->ctx);
	assert_int_equal(amtsim_device_save(d), 0);
	return d;
}

static int
setup_dev(void **state, int wireless)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(simnet_state_register(), 0);
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/amtsim-net-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->ctx.dir = f->dir;
	f->ctx.no_fsync = 1;
	f->ctx.prov_period = 3600;
	f->d = make(f, 1, wireless);
	assert_int_equal(amtsim_device_event(f->d, AMTSIM_EV_START_CONFIG, 0),
	    0);
	memcpy(f->d->otp, "Otp-Test-0123456", 16);
	f->d->otp_len = 16;
	f->sd = simnet_dev_get(NULL, f->d);
	assert_non_null(f->sd);
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	return setup_dev(state, 1);
}

static int
setup_wired(void **state)
{
	return setup_dev(state, 0);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	simnet_dev_free(f->sd);
	amtsim_device_free(f->d);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Sends raw bytes; returns the parsed reply (faults included). */
static struct amtp_wsman_response *
send_raw(struct fixture *f, const void *xml, size_t len)
{
	struct amtp_wsman_response *resp = NULL;
	struct simnet_reply rep;
	char err[256];
	int r;

	assert_int_equal(simnet_ws_handle(f->sd, xml, len, &rep), 0);
	assert_non_null(rep.body);
	f->status = rep.http_status;
	r = amtp_wsman_response_parse(amtp_buf_ptr(rep.body),
	    amtp_buf_len(rep.body), &resp, err, sizeof(err));
	if (r != 0 && r != AMTP_E_SOAP_FAULT)
		fail_msg("reply does not parse: %s: %.300s", err,
		    amtp_buf_str(rep.body));
	simnet_reply_reset(&rep);
	return resp;
}

/* An envelope in RPS's layout. */
static struct amtp_wsman_response *
req(struct fixture *f, const char *uri, const char *action,
    const char *selectors, const char *body)
{
	char *x = NULL;
	struct amtp_wsman_response *r;
	int n;

	n = asprintf(&x, "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
	    "<Envelope xmlns=\"http://www.w3.org/2003/05/soap-envelope\" "
	    "xmlns:a=\"" AMTP_WSMAN_NS_ADDR "\" xmlns:w=\"" AMTP_WSMAN_NS_WSMAN
	    "\" xmlns:h=\"%s\"><Header><a:Action>%s</a:Action>"
	    "<a:To>/wsman</a:To><w:ResourceURI>%s</w:ResourceURI>"
	    "<a:MessageID>%u</a:MessageID><a:ReplyTo><a:Address>"
	    AMTP_WSMAN_ANONYMOUS "</a:Address></a:ReplyTo>"
	    "<w:OperationTimeout>PT60S</w:OperationTimeout>%s%s%s</Header>"
	    "<Body>%s</Body></Envelope>", uri, action, uri, ++f->msgid,
	    selectors != NULL ? "<w:SelectorSet>" : "",
	    selectors != NULL ? selectors : "",
	    selectors != NULL ? "</w:SelectorSet>" : "", body != NULL ? body :
	    "");
	assert_true(n > 0);
	r = send_raw(f, x, (size_t)n);
	free(x);
	return r;
}

static struct amtp_wsman_response *
get(struct fixture *f, const char *uri, const char *sel)
{
	return req(f, uri, AMTP_WSMAN_NS_TRANSFER "/Get", sel, NULL);
}

/* Invokes cls.method (cls's URI from its prefix) with parameters. */
static struct amtp_wsman_response *
inv(struct fixture *f, const char *cls, const char *method,
    const char *params)
{
	char uri[256], action[320], *body = NULL;
	struct amtp_wsman_response *r;

	(void)snprintf(uri, sizeof(uri), "%s%s", strncmp(cls, "CIM_", 4) == 0 ?
	    CIM : strncmp(cls, "IPS_", 4) == 0 ? IPS : AMT, cls);
	(void)snprintf(action, sizeof(action), "%s/%s", uri, method);
	assert_true(asprintf(&body, "<h:%s_INPUT>%s</h:%s_INPUT>", method,
	    params != NULL ? params : "", method) > 0);
	r = req(f, uri, action, NULL, body);
	free(body);
	return r;
}

static long long
rv(struct amtp_wsman_response *r)
{
	long long v;

	assert_non_null(r);
	assert_false(r->is_fault);
	assert_true(r->has_return_value);
	v = r->return_value;
	return v;
}

/*
 * The flash file as the device wrote it last: jansson's compact text of
 * amtsim_device_to_json() and a newline (amtsim_json_dump writes it), and
 * a device loaded from it is the same device.
 */
static void
assert_flash_text(struct fixture *f)
{
	struct amtsim_device *d2 = NULL;
	struct amtp_buf *b = NULL;
	json_t *a, *c;
	char path[1024], err[256], *want;
	size_t n;

	assert_int_equal(amtsim_device_flash_path(f->dir, f->d->index, path,
	    sizeof(path)), 0);
	assert_int_equal(amtp_buf_load_file(path, AMTP_SIM_FLASH_MAX, &b), 0);
	assert_non_null(a = amtsim_device_to_json(f->d, 1));
	assert_non_null(want = json_dumps(a, JSON_COMPACT));
	n = strlen(want);
	assert_true(n > 4000);	/* keys, certificates, instances */
	assert_int_equal(amtp_buf_len(b), n + 1);
	assert_memory_equal(amtp_buf_ptr(b), want, n);
	assert_int_equal(amtp_buf_ptr(b)[n], '\n');
	assert_int_equal(amtsim_device_load(&f->ctx, f->d->index, NULL, &d2,
	    err, sizeof(err)), 0);
	assert_non_null(c = amtsim_device_to_json(d2, 1));
	assert_true(json_equal(a, c));
	json_decref(c);
	json_decref(a);
	free(want);
	amtsim_device_free(d2);
	amtp_buf_free(b);
}

/*
 * The TLS credential loaded for POST: its key is an OpenSSL-backed GnuTLS
 * key (simnet_tls_gkey) whose TLS signatures (RSA-PSS and PKCS#1 v1.5)
 * verify with the certificate's public key, made by OpenSSL.
 */
static void
assert_prov_key_signs(struct simnet_dev *sd)
{
	static const gnutls_sign_algorithm_t algs[] = {
		GNUTLS_SIGN_RSA_PSS_RSAE_SHA256, GNUTLS_SIGN_RSA_SHA256,
	};
	gnutls_datum_t data = { (unsigned char *)"handshake", 9 }, sig;
	struct simnet_tls_ops o0, o1;
	size_t i;

	assert_int_equal(gnutls_privkey_get_type(sd->prov_key),
	    GNUTLS_PRIVKEY_EXT);
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		simnet_tls_ops_get(&o0);
		assert_int_equal(gnutls_privkey_sign_data2(sd->prov_key,
		    algs[i], 0, &data, &sig), 0);
		simnet_tls_ops_get(&o1);
		assert_int_equal(o1.signs, o0.signs + 1);
		assert_int_equal(gnutls_pubkey_verify_data2(sd->prov_pcert.pubkey,
		    algs[i], 0, &data, &sig), 0);
		gnutls_free(sig.data);
	}
}

/* ReturnValue of a call; frees the reply. */
static long long
inv_rv(struct fixture *f, const char *cls, const char *method,
    const char *params)
{
	struct amtp_wsman_response *r = inv(f, cls, method, params);
	long long v = rv(r);

	amtp_wsman_response_free(r);
	return v;
}

static void
assert_fault(struct amtp_wsman_response *r, const char *sub, int status,
    struct fixture *f)
{
	assert_non_null(r);
	assert_true(r->is_fault);
	assert_non_null(r->fault.subcode);
	assert_string_equal(r->fault.subcode, sub);
	assert_int_equal(f->status, status);
	amtp_wsman_response_free(r);
}

/* Enumerate + one Pull of everything: the reply (items). */
static struct amtp_wsman_response *
enum_all(struct fixture *f, const char *uri)
{
	struct amtp_wsman_response *r;
	char body[512];

	r = req(f, uri, AMTP_WSMAN_NS_ENUM "/Enumerate", NULL,
	    "<Enumerate xmlns=\"" AMTP_WSMAN_NS_ENUM "\"/>");
	assert_non_null(r);
	assert_false(r->is_fault);
	assert_non_null(r->enum_context);
	(void)snprintf(body, sizeof(body), "<Pull xmlns=\"" AMTP_WSMAN_NS_ENUM
	    "\"><EnumerationContext>%s</EnumerationContext><MaxElements>999"
	    "</MaxElements></Pull>", r->enum_context);
	amtp_wsman_response_free(r);
	r = req(f, uri, AMTP_WSMAN_NS_ENUM "/Pull", NULL, body);
	assert_non_null(r);
	assert_false(r->is_fault);
	assert_true(r->end_of_sequence);
	return r;
}

static char *
b64_file_der(const char *pemname, int idx)
{
	static char out[8192];
	struct amtp_buf *b;
	unsigned char *der = NULL;
	X509 *x = NULL;
	FILE *fp;
	int n, i;

	assert_non_null(fp = fopen(fixture_path(pemname), "r"));
	for (i = 0; i <= idx; i++) {
		X509_free(x);
		assert_non_null(x = PEM_read_X509(fp, NULL, NULL, NULL));
	}
	(void)fclose(fp);
	assert_true((n = i2d_X509(x, &der)) > 0);
	assert_non_null(b = amtp_buf_new(8192));
	assert_int_equal(amtp_b64_encode(b, der, (size_t)n), 0);
	(void)amtp_strlcpy(out, amtp_buf_str(b), sizeof(out));
	amtp_buf_free(b);
	OPENSSL_free(der);
	X509_free(x);
	return out;
}

static char *
b64_key_der(void)
{
	static char out[8192];
	struct amtp_buf *b;
	unsigned char *der = NULL;
	EVP_PKEY *k;
	FILE *fp;
	int n;

	assert_non_null(fp = fopen(fixture_path("leaf.key"), "r"));
	assert_non_null(k = PEM_read_PrivateKey(fp, NULL, NULL, NULL));
	(void)fclose(fp);
	assert_true((n = i2d_PrivateKey(k, &der)) > 0);
	assert_non_null(b = amtp_buf_new(8192));
	assert_int_equal(amtp_b64_encode(b, der, (size_t)n), 0);
	(void)amtp_strlcpy(out, amtp_buf_str(b), sizeof(out));
	amtp_buf_free(b);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	return out;
}

/* Root (handle 0) then the leaf with its key (handle 1, key 0). */
static void
load_certs(struct fixture *f)
{
	char p[9000];

	(void)snprintf(p, sizeof(p), "<h:CertificateBlob>%s</h:CertificateBlob>",
	    b64_file_der("good.pem", 2));
	assert_int_equal(inv_rv(f, "AMT_PublicKeyManagementService",
	    "AddTrustedRootCertificate", p), 0);
	(void)snprintf(p, sizeof(p), "<h:KeyBlob>%s</h:KeyBlob>",
	    b64_key_der());
	assert_int_equal(inv_rv(f, "AMT_PublicKeyManagementService", "AddKey",
	    p), 0);
	(void)snprintf(p, sizeof(p), "<h:CertificateBlob>%s</h:CertificateBlob>",
	    b64_file_der("good.pem", 0));
	assert_int_equal(inv_rv(f, "AMT_PublicKeyManagementService",
	    "AddCertificate", p), 0);
}

/* ---- the RPS requests ---- */

/* Replaces the EnumerationContext of a Pull with ctx. */
static char *
with_context(const char *xml, const char *ctx)
{
	const char *a = strstr(xml, "<EnumerationContext>"), *b;
	char *out = NULL;

	assert_non_null(a);
	a += strlen("<EnumerationContext>");
	assert_non_null(b = strstr(a, "</EnumerationContext>"));
	assert_true(asprintf(&out, "%.*s%s%s", (int)(a - xml), xml, ctx, b) >
	    0);
	return out;
}

static void
test_rps_requests_accepted(void **state)
{
	struct fixture *f = *state;
	struct amtp_buf *idx = load("requests/index.json"), *b;
	struct amtp_wsman_response *r;
	json_error_t je;
	json_t *root, *e;
	char name[256], ctx[64] = "", enum_uri[256] = "", *x;
	int unprovisions = 0;
	const char *file, *mid;
	size_t i;

	load_certs(f);
	root = json_loadb((const char *)amtp_buf_ptr(idx), amtp_buf_len(idx), 0,
	    &je);
	assert_non_null(root);
	json_array_foreach(json_object_get(root, "files"), i, e) {
		file = json_string_value(json_object_get(e, "file"));
		(void)snprintf(name, sizeof(name), "requests/%s", file);
		b = load(name);
		if (strstr(file, "_Pull") != NULL) {
			/* A Pull continues the Enumerate of its class; when the
			 * list has none just before, enumerate it first. */
			const char *u = strstr(amtp_buf_str(b), "<w:ResourceURI>");
			char uri[256];

			assert_non_null(u);
			u += strlen("<w:ResourceURI>");
			(void)snprintf(uri, sizeof(uri), "%.*s",
			    (int)(strchr(u, '<') - u), u);
			if (strcmp(uri, enum_uri) != 0) {
				r = req(f, uri, AMTP_WSMAN_NS_ENUM "/Enumerate",
				    NULL, "<Enumerate xmlns=\""
				    AMTP_WSMAN_NS_ENUM "\"/>");
				assert_false(r->is_fault);
				(void)amtp_strlcpy(ctx, r->enum_context,
				    sizeof(ctx));
				amtp_wsman_response_free(r);
			}
			x = with_context(amtp_buf_str(b), ctx);
			r = send_raw(f, x, strlen(x));
			free(x);
		} else
			r = send_raw(f, amtp_buf_ptr(b), amtp_buf_len(b));
		if (r == NULL || r->is_fault)
			fail_msg("%s: fault %s", file, r != NULL &&
			    r->fault.subcode != NULL ? r->fault.subcode : "?");
		assert_int_equal(f->status, 200);
		/* RelatesTo is the request's MessageID. */
		mid = strstr(amtp_buf_str(b), "<a:MessageID>");
		assert_non_null(mid);
		assert_non_null(r->relates_to);
		assert_int_equal(strncmp(mid + 13, r->relates_to,
		    strlen(r->relates_to)), 0);
		assert_non_null(r->action);
		if (strstr(file, "_Enumerate") != NULL) {
			assert_non_null(r->enum_context);
			(void)amtp_strlcpy(ctx, r->enum_context, sizeof(ctx));
			(void)amtp_strlcpy(enum_uri, r->resource_uri,
			    sizeof(enum_uri));
		}
		amtp_wsman_response_free(r);
		amtp_buf_free(b);
		/* Unprovision (08) sends the device back to PRE: the agent
		 * activates it again, and the certificates come back. */
		if (f->d->state == AMTSIM_PRE) {
			unprovisions++;
			assert_int_equal(amtsim_device_event(f->d,
			    AMTSIM_EV_START_CONFIG, 0), 0);
			load_certs(f);
		}
	}
	json_decref(root);
	amtp_buf_free(idx);
	assert_int_equal(unprovisions, 1);
	assert_int_equal(i, 48);
}

/* ---- golden shapes ---- */

/* Every golden property name appears in ours, in the same order. */
static void
same_shape(const struct amtp_wsman_obj *gold, const struct amtp_wsman_obj
    *ours, const char *what, const char *const *may_lack)
{
	size_t i, j = 0, k;
	int skip;

	assert_non_null(gold);
	assert_non_null(ours);
	assert_string_equal(gold->name, ours->name);
	assert_string_equal(gold->ns, ours->ns);
	for (i = 0; i < gold->nprops; i++) {
		skip = 0;
		for (k = 0; may_lack != NULL && may_lack[k] != NULL; k++)
			if (strcmp(may_lack[k], gold->props[i].name) == 0)
				skip = 1;
		if (skip)
			continue;
		while (j < ours->nprops && strcmp(ours->props[j].name,
		    gold->props[i].name) != 0)
			j++;
		if (j == ours->nprops)
			fail_msg("%s: %s missing or out of order", what,
			    gold->props[i].name);
		/* Arrays: skip our repeated elements too. */
		while (j + 1 < ours->nprops && strcmp(ours->props[j + 1].name,
		    gold->props[i].name) == 0 && !(i + 1 < gold->nprops &&
		    strcmp(gold->props[i + 1].name, gold->props[i].name) == 0))
			j++;
		if (!(i + 1 < gold->nprops && strcmp(gold->props[i + 1].name,
		    gold->props[i].name) == 0))
			j++;
	}
}

static struct amtp_wsman_response *
golden(const char *name)
{
	struct amtp_wsman_response *r = NULL;
	struct amtp_buf *b;
	char p[256];
	int rc;

	(void)snprintf(p, sizeof(p), "golden/%s", name);
	b = load(p);
	rc = amtp_wsman_response_parse(amtp_buf_ptr(b), amtp_buf_len(b), &r,
	    NULL, 0);
	assert_true(rc == 0 || rc == AMTP_E_SOAP_FAULT);
	amtp_buf_free(b);
	return r;
}

/* Real AMT answers <ResourceURI>/<Method>Response (README: "edited"). */
static void
same_action(const struct amtp_wsman_response *g,
    const struct amtp_wsman_response *o)
{
	size_t n = strlen(g->action);

	if (strcmp(g->action, o->action) == 0)
		return;
	assert_true(strncmp(g->action, o->action, n) == 0 &&
	    strcmp(o->action + n, "Response") == 0);
}

static void
check_golden(const char *gname, struct amtp_wsman_response *ours,
    const char *const *may_lack)
{
	struct amtp_wsman_response *g = golden(gname);

	same_action(g, ours);
	if (g->nitems > 0) {
		assert_true(ours->nitems > 0);
		same_shape(&g->items[0], &ours->items[0], gname, may_lack);
		assert_true(ours->end_of_sequence);
	} else if (g->created != NULL) {
		assert_non_null(ours->created);
		assert_string_equal(g->created->resource_uri,
		    ours->created->resource_uri);
		assert_int_equal(g->created->nselectors,
		    ours->created->nselectors);
	} else if (g->enum_context != NULL)
		assert_non_null(ours->enum_context);
	else if (g->body != NULL) {
		same_shape(g->body, ours->body, gname, may_lack);
		/* EPR-valued outputs keep their reference shape. */
		if (g->body->nprops > 0 && g->body->props[0].epr != NULL) {
			assert_non_null(ours->body->props[0].epr);
			assert_string_equal(g->body->props[0].epr->resource_uri,
			    ours->body->props[0].epr->resource_uri);
		}
	}
	amtp_wsman_response_free(g);
	amtp_wsman_response_free(ours);
}

static void
test_golden_shapes(void **state)
{
	struct fixture *f = *state;
	static const char *const gen_pull_lack[] = { NULL };
	static const char *const setup_lack[] = { "ProvisioningServerOTP",
	    NULL };
	static const char *const ether_lack[] = { "DefaultGateway",
	    "PrimaryDNS", NULL };
	static const char *const redir_lack[] = { NULL };
	struct amtp_wsman_response *r;
	char p[2048];

	load_certs(f);
	check_golden("amt_general_get.xml", get(f, AMT "AMT_GeneralSettings",
	    NULL), NULL);
	check_golden("amt_general_pull.xml", enum_all(f,
	    AMT "AMT_GeneralSettings"), gen_pull_lack);
	check_golden("amt_general_enumerate.xml", req(f,
	    AMT "AMT_GeneralSettings", AMTP_WSMAN_NS_ENUM "/Enumerate", NULL,
	    "<Enumerate xmlns=\"" AMTP_WSMAN_NS_ENUM "\"/>"), NULL);
	check_golden("amt_setupandconfiguration_get.xml", get(f,
	    AMT "AMT_SetupAndConfigurationService", NULL), setup_lack);
	check_golden("cim_software_identity_pull.xml", enum_all(f,
	    CIM "CIM_SoftwareIdentity"), NULL);
	check_golden("amt_kerberos_get.xml", get(f,
	    AMT "AMT_KerberosSettingData", NULL), NULL);
	check_golden("amt_redirectionservice_get.xml", get(f,
	    AMT "AMT_RedirectionService", NULL), redir_lack);
	check_golden("amt_ethernetport_pull.xml", enum_all(f,
	    AMT "AMT_EthernetPortSettings"), ether_lack);
	check_golden("cim_wifi_port_pull.xml", enum_all(f,
	    CIM "CIM_WiFiPort"), NULL);
	check_golden("amt_tls_settingdata_pull.xml", enum_all(f,
	    AMT "AMT_TLSSettingData"), NULL);
	check_golden("amt_publickey_certificate_pull.xml", enum_all(f,
	    AMT "AMT_PublicKeyCertificate"), NULL);
	check_golden("amt_publicprivate_pull.xml", enum_all(f,
	    AMT "AMT_PublicPrivateKeyPair"), NULL);
	check_golden("ips_hostbasedsetup_get.xml", get(f,
	    IPS "IPS_HostBasedSetupService", NULL), NULL);
	check_golden("amt_timesynchronization_getlowaccuracytimesynch.xml",
	    inv(f, "AMT_TimeSynchronizationService", "GetLowAccuracyTimeSynch",
	    NULL), NULL);
	(void)snprintf(p, sizeof(p), "<h:Ta0>%lld</h:Ta0><h:Tm1>%lld</h:Tm1>"
	    "<h:Tm2>%lld</h:Tm2>", (long long)time(NULL) - 5,
	    (long long)time(NULL), (long long)time(NULL));
	check_golden("amt_timesynchronization_sethighaccuracytimesynch.xml",
	    inv(f, "AMT_TimeSynchronizationService", "SetHighAccuracyTimeSynch",
	    p), NULL);
	check_golden("amt_authorization_setadminaclentryex.xml", inv(f,
	    "AMT_AuthorizationService", "SetAdminAclEntryEx",
	    "<h:Username>admin</h:Username><h:DigestPassword>"
	    "8d5c7bdcab0a4ca5a4df2ef8a7a9d91f</h:DigestPassword>"), NULL);
	check_golden("amt_authorization_getadminaclentry.xml", inv(f,
	    "AMT_AuthorizationService", "GetAdminAclEntry", NULL), NULL);
	check_golden("amt_publickey_management_generatekeypair.xml", inv(f,
	    "AMT_PublicKeyManagementService", "GenerateKeyPair",
	    "<h:KeyAlgorithm>0</h:KeyAlgorithm><h:KeyLength>2048</h:KeyLength>"),
	    NULL);
	(void)snprintf(p, sizeof(p), "<h:CertificateBlob>%s</h:CertificateBlob>",
	    b64_file_der("good-ou.pem", 0));
	check_golden("amt_publickey_management_addcertificate.xml", inv(f,
	    "AMT_PublicKeyManagementService", "AddCertificate", p), NULL);
	(void)snprintf(p, sizeof(p), "<h:CertificateBlob>%s</h:CertificateBlob>",
	    b64_file_der("other-root.pem", 1));
	check_golden("amt_publickey_management_addtrustedrootcertificate.xml",
	    inv(f, "AMT_PublicKeyManagementService",
	    "AddTrustedRootCertificate", p), NULL);
	check_golden("amt_tls_credentialcontext_create.xml", req(f,
	    AMT "AMT_TLSCredentialContext", AMTP_WSMAN_NS_TRANSFER "/Create",
	    NULL, "<h:AMT_TLSCredentialContext><h:ElementInContext>"
	    "<a:Address>/wsman</a:Address><a:ReferenceParameters>"
	    "<w:ResourceURI>" AMT "AMT_PublicKeyCertificate</w:ResourceURI>"
	    "<w:SelectorSet><w:Selector Name=\"InstanceID\">Intel(r) AMT "
	    "Certificate: Handle: 1</w:Selector></w:SelectorSet>"
	    "</a:ReferenceParameters></h:ElementInContext>"
	    "<h:ElementProvidingContext><a:Address>/wsman</a:Address>"
	    "<a:ReferenceParameters><w:ResourceURI>"
	    AMT "AMT_TLSProtocolEndpointCollection</w:ResourceURI>"
	    "<w:SelectorSet><w:Selector Name=\"ElementName\">"
	    "TLSProtocolEndpointInstances Collection</w:Selector>"
	    "</w:SelectorSet></a:ReferenceParameters>"
	    "</h:ElementProvidingContext></h:AMT_TLSCredentialContext>"),
	    NULL);
	check_golden("amt_tls_settingdata_put.xml", req(f,
	    AMT "AMT_TLSSettingData", AMTP_WSMAN_NS_TRANSFER "/Put",
	    "<w:Selector Name=\"InstanceID\">Intel(r) AMT 802.3 TLS Settings"
	    "</w:Selector>", "<h:AMT_TLSSettingData><h:ElementName>Intel(r) "
	    "AMT 802.3 TLS Settings</h:ElementName><h:InstanceID>Intel(r) AMT "
	    "802.3 TLS Settings</h:InstanceID><h:MutualAuthentication>false"
	    "</h:MutualAuthentication><h:Enabled>true</h:Enabled>"
	    "<h:AcceptNonSecureConnections>false</h:AcceptNonSecureConnections>"
	    "</h:AMT_TLSSettingData>"), NULL);
	check_golden("amt_wifiportconfiguration_addwifisettings.xml", inv(f,
	    "AMT_WiFiPortConfigurationService", "AddWiFiSettings",
	    "<h:WiFiEndpointSettingsInput xmlns:q=\"" CIM
	    "CIM_WiFiEndpointSettings\"><q:ElementName>home</q:ElementName>"
	    "<q:AuthenticationMethod>6</q:AuthenticationMethod>"
	    "<q:EncryptionMethod>4</q:EncryptionMethod><q:SSID>s</q:SSID>"
	    "<q:Priority>1</q:Priority><q:PSKPassPhrase>P@ssw0rd123"
	    "</q:PSKPassPhrase></h:WiFiEndpointSettingsInput>"), NULL);
	check_golden("amt_setupandconfiguration_setmebxpassword.xml", inv(f,
	    "AMT_SetupAndConfigurationService", "SetMEBxPassword",
	    "<h:Password>Mebx@Pass1</h:Password>"), NULL);
	check_golden("amt_setupandconfiguration_commitchanges.xml", inv(f,
	    "AMT_SetupAndConfigurationService", "CommitChanges", NULL), NULL);
	check_golden("amt_setupandconfiguration_unprovision.xml", inv(f,
	    "AMT_SetupAndConfigurationService", "Unprovision",
	    "<h:ProvisioningMode>1</h:ProvisioningMode>"), NULL);
	check_golden("ips_hostbasedsetup_setup.xml", inv(f,
	    "IPS_HostBasedSetupService", "Setup", NULL), NULL);
	/* The fault for an unknown resource. */
	r = get(f, AMT "AMT_NoSuchClass", NULL);
	{
		struct amtp_wsman_response *g = golden(
		    "fault_destinationunreachable.xml");

		assert_true(r->is_fault);
		assert_string_equal(g->fault.code, r->fault.code);
		assert_string_equal(g->fault.subcode, r->fault.subcode);
		assert_string_equal(g->fault.reason, r->fault.reason);
		amtp_wsman_response_free(g);
	}
	amtp_wsman_response_free(r);
}

/* ---- classes ---- */

static void
test_tables_sorted(void **state)
{
	struct simnet_arena a = { NULL };
	const struct simnet_class *c;
	size_t i, k;

	(void)state;
	for (i = 0; i < simnet_nclasses; i++) {
		c = simnet_classes[i];
		assert_ptr_equal(simnet_class_find(simnet_class_uri(&a, c)), c);
		for (k = 1; k < c->nprops; k++)
			if (strcmp(c->props[k - 1].name, c->props[k].name) >= 0)
				fail_msg("%s: %s before %s", c->name,
				    c->props[k - 1].name, c->props[k].name);
	}
	simnet_arena_free(&a);
}

static const char *
text(struct amtp_wsman_response *r, const char *name)
{
	assert_non_null(r);
	assert_false(r->is_fault);
	return amtp_wsman_obj_text(r->body, name);
}

static void
test_general_put(void **state)
{
	struct fixture *f = *state;
	struct amtp_wsman_response *r;
	struct amtsim_device *d2 = NULL;
	char err[256], realm[64];
	json_t *inst;

	(void)amtp_strlcpy(realm, f->d->realm, sizeof(realm));
	r = req(f, AMT "AMT_GeneralSettings", AMTP_WSMAN_NS_TRANSFER "/Put",
	    NULL, "<h:AMT_GeneralSettings><h:InstanceID>Intel(r) AMT: General "
	    "Settings</h:InstanceID><h:HostName>simhost</h:HostName>"
	    "<h:DomainName>example.test</h:DomainName><h:DigestRealm>Digest:0"
	    "</h:DigestRealm><h:PingResponseEnabled>false"
	    "</h:PingResponseEnabled><h:Unknown>1</h:Unknown>"
	    "</h:AMT_GeneralSettings>");
	assert_string_equal(text(r, "HostName"), "simhost");
	assert_string_equal(text(r, "DigestRealm"), realm);	/* read-only */
	amtp_wsman_response_free(r);
	/* Persisted before the answer: read the flash back. */
	assert_int_equal(amtsim_device_load(&f->ctx, 1, NULL, &d2, err,
	    sizeof(err)), 0);
	inst = json_array_get(json_object_get(json_object_get(
	    d2->sections[simnet_section_id()], "inst"), "AMT_GeneralSettings"),
	    0);
	assert_string_equal(json_string_value(json_object_get(inst,
	    "DomainName")), "example.test");
	assert_string_equal(json_string_value(json_object_get(inst,
	    "PingResponseEnabled")), "false");
	amtsim_device_free(d2);
	/* Bad values: a host name with a space, a boolean that is not. */
	assert_fault(req(f, AMT "AMT_GeneralSettings", AMTP_WSMAN_NS_TRANSFER
	    "/Put", NULL, "<h:AMT_GeneralSettings><h:HostName>a b</h:HostName>"
	    "</h:AMT_GeneralSettings>"), "InvalidRepresentation", 400, f);
	assert_fault(req(f, AMT "AMT_GeneralSettings", AMTP_WSMAN_NS_TRANSFER
	    "/Put", NULL, "<h:AMT_GeneralSettings><h:SharedFQDN>yes"
	    "</h:SharedFQDN></h:AMT_GeneralSettings>"),
	    "InvalidRepresentation", 400, f);
	assert_fault(req(f, AMT "AMT_GeneralSettings", AMTP_WSMAN_NS_TRANSFER
	    "/Put", NULL, "<h:AMT_Other/>"), "InvalidRepresentation", 400, f);
	/* Put on a read-only class. */
	assert_fault(req(f, CIM "CIM_SoftwareIdentity", AMTP_WSMAN_NS_TRANSFER
	    "/Put", NULL, "<h:CIM_SoftwareIdentity/>"), "ActionNotSupported",
	    400, f);
}

static void
test_setup_service(void **state)
{
	struct fixture *f = *state;
	struct amtp_wsman_response *r;

	r = get(f, AMT "AMT_SetupAndConfigurationService", NULL);
	assert_string_equal(text(r, "ProvisioningState"), "1");
	/* base64("Otp-Test-0123456") */
	assert_string_equal(text(r, "ProvisioningServerOTP"),
	    "T3RwLVRlc3QtMDEyMzQ1Ng==");
	assert_string_equal(text(r, "TrustedDNSSuffix"), "corp.example");
	amtp_wsman_response_free(r);
	/* The otp_mismatch fault knob: another OTP over the network (last
	 * character changed: "...345x", and "...345y" for one ending in x),
	 * the one the host set kept. */
	f->d->otp_mismatch = 1;
	r = get(f, AMT "AMT_SetupAndConfigurationService", NULL);
	assert_string_equal(text(r, "ProvisioningServerOTP"),
	    "T3RwLVRlc3QtMDEyMzQ1eA==");
	amtp_wsman_response_free(r);
	assert_memory_equal(f->d->otp, "Otp-Test-0123456", 16);
	f->d->otp[15] = 'x';
	r = get(f, AMT "AMT_SetupAndConfigurationService", NULL);
	assert_string_equal(text(r, "ProvisioningServerOTP"),
	    "T3RwLVRlc3QtMDEyMzQ1eQ==");
	amtp_wsman_response_free(r);
	f->d->otp[15] = '6';
	f->d->otp_mismatch = 0;
	/* CommitChanges needs an admin password first. */
	assert_int_equal(inv_rv(f, "AMT_SetupAndConfigurationService",
	    "CommitChanges", NULL), 2057);
	assert_int_equal(f->d->state, AMTSIM_IN);
	/* MEBx password: weak refused, strong kept. */
	assert_int_equal(inv_rv(f, "AMT_SetupAndConfigurationService",
	    "SetMEBxPassword", "<h:Password>weak</h:Password>"), 2054);
	assert_int_equal(inv_rv(f, "AMT_SetupAndConfigurationService",
	    "SetMEBxPassword", "<h:Password>Mebx@Pass1</h:Password>"), 0);
	assert_string_equal(f->d->mebx_password, "Mebx@Pass1");
	/* The admin password, base64 of the 16 bytes (rpc-go's form). */
	assert_int_equal(inv_rv(f, "AMT_AuthorizationService",
	    "SetAdminAclEntryEx", "<h:Username>admin</h:Username>"
	    "<h:DigestPassword>not-a-hash</h:DigestPassword>"), 2054);
	assert_int_equal(inv_rv(f, "AMT_AuthorizationService",
	    "SetAdminAclEntryEx", "<h:Username>a:b</h:Username>"
	    "<h:DigestPassword>jVx73KsKTKWk3y74p6nZHw==</h:DigestPassword>"), 12);
	assert_int_equal(inv_rv(f, "AMT_AuthorizationService",
	    "SetAdminAclEntryEx", "<h:Username>admin</h:Username>"
	    "<h:DigestPassword>jVx73KsKTKWk3y74p6nZHw==</h:DigestPassword>"), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    simnet_flash(f->d), "admin"), "ha1")),
	    "8d5c7bdcab0a4ca5a4df2ef8a7a9d91f");
	r = inv(f, "AMT_AuthorizationService", "GetAdminAclEntryStatus", NULL);
	assert_string_equal(text(r, "IsDefault"), "false");
	amtp_wsman_response_free(r);
	assert_int_equal(inv_rv(f, "AMT_SetupAndConfigurationService",
	    "CommitChanges", NULL), 0);
	assert_int_equal(f->d->state, AMTSIM_POST);
	assert_int_equal(f->d->control_mode, AMTP_AMT_CONTROL_ACM);
	/* The OTP is readable in IN only; MEBx password now refused. */
	r = get(f, AMT "AMT_SetupAndConfigurationService", NULL);
	assert_string_equal(text(r, "ProvisioningState"), "2");
	assert_null(text(r, "ProvisioningServerOTP"));
	amtp_wsman_response_free(r);
	assert_int_equal(inv_rv(f, "AMT_SetupAndConfigurationService",
	    "SetMEBxPassword", "<h:Password>Mebx@Pass2</h:Password>"), 16);
	assert_int_equal(inv_rv(f, "AMT_SetupAndConfigurationService",
	    "CommitChanges", NULL), 0);
	r = inv(f, "AMT_SetupAndConfigurationService", "GetUuid", NULL);
	assert_non_null(text(r, "UUID"));
	amtp_wsman_response_free(r);
	/* Unprovision: a bad mode, then back to PRE with sections reset. */
	assert_int_equal(inv_rv(f, "AMT_SetupAndConfigurationService",
	    "Unprovision", "<h:ProvisioningMode>3</h:ProvisioningMode>"), 36);
	assert_int_equal(inv_rv(f, "AMT_SetupAndConfigurationService",
	    "Unprovision", "<h:ProvisioningMode>1</h:ProvisioningMode>"), 0);
	assert_int_equal(f->d->state, AMTSIM_PRE);
	assert_null(json_object_get(simnet_flash(f->d), "admin"));
	assert_int_equal(inv_rv(f, "AMT_SetupAndConfigurationService",
	    "Unprovision", "<h:ProvisioningMode>1</h:ProvisioningMode>"), 16);
}

static void
test_time_sync(void **state)
{
	struct fixture *f = *state;
	struct amtp_wsman_response *r;
	long long ta0, now = (long long)time(NULL);
	char p[256];

	r = inv(f, "AMT_TimeSynchronizationService", "GetLowAccuracyTimeSynch",
	    NULL);
	assert_int_equal(amtp_parse_int(text(r, "Ta0"), 0, INT64_MAX, &ta0), 0);
	assert_true(ta0 >= now - 2 && ta0 <= now + 2);
	amtp_wsman_response_free(r);
	(void)snprintf(p, sizeof(p), "<h:Ta0>%lld</h:Ta0><h:Tm1>%lld</h:Tm1>"
	    "<h:Tm2>%lld</h:Tm2>", ta0, now + 1000, now + 999);
	assert_int_equal(inv_rv(f, "AMT_TimeSynchronizationService",
	    "SetHighAccuracyTimeSynch", p), 36);
	assert_int_equal(inv_rv(f, "AMT_TimeSynchronizationService",
	    "SetHighAccuracyTimeSynch", "<h:Ta0>1</h:Ta0>"), 36);
	(void)snprintf(p, sizeof(p), "<h:Ta0>%lld</h:Ta0><h:Tm1>%lld</h:Tm1>"
	    "<h:Tm2>%lld</h:Tm2>", ta0, now + 1000, now + 1000);
	assert_int_equal(inv_rv(f, "AMT_TimeSynchronizationService",
	    "SetHighAccuracyTimeSynch", p), 0);
	r = inv(f, "AMT_TimeSynchronizationService", "GetLowAccuracyTimeSynch",
	    NULL);
	assert_int_equal(amtp_parse_int(text(r, "Ta0"), 0, INT64_MAX, &ta0), 0);
	assert_true(ta0 >= now + 998 && ta0 <= now + 1003);
	amtp_wsman_response_free(r);
}

static void
test_pki_and_tls(void **state)
{
	struct fixture *f = *state;
	struct amtp_wsman_response *r;
	struct amtp_buf *b;
	X509_REQ *csr;
	EVP_PKEY *pub;
	const unsigned char *cp;
	unsigned char *der = NULL;
	char p[9000], key_id[64];
	int n;
	size_t i;

	assert_int_equal(inv_rv(f, "AMT_PublicKeyManagementService",
	    "AddCertificate", "<h:CertificateBlob>AAAA</h:CertificateBlob>"),
	    2063);
	assert_int_equal(inv_rv(f, "AMT_PublicKeyManagementService",
	    "AddKey", "<h:KeyBlob>AAAA</h:KeyBlob>"), 2062);
	/* A certificate that is not self-signed is no trusted root. */
	(void)snprintf(p, sizeof(p), "<h:CertificateBlob>%s</h:CertificateBlob>",
	    b64_file_der("good.pem", 0));
	assert_int_equal(inv_rv(f, "AMT_PublicKeyManagementService",
	    "AddTrustedRootCertificate", p), 2063);
	load_certs(f);
	(void)snprintf(p, sizeof(p), "<h:CertificateBlob>%s</h:CertificateBlob>",
	    b64_file_der("good.pem", 0));
	assert_int_equal(inv_rv(f, "AMT_PublicKeyManagementService",
	    "AddCertificate", p), 2058);
	(void)snprintf(p, sizeof(p), "<h:KeyBlob>%s</h:KeyBlob>",
	    b64_key_der());
	assert_int_equal(inv_rv(f, "AMT_PublicKeyManagementService", "AddKey",
	    p), 2058);
	r = enum_all(f, AMT "AMT_PublicKeyCertificate");
	assert_int_equal(r->nitems, 2);
	assert_string_equal(amtp_wsman_obj_text(&r->items[0],
	    "TrustedRootCertficate"), "true");
	assert_string_equal(amtp_wsman_obj_text(&r->items[1], "InstanceID"),
	    "Intel(r) AMT Certificate: Handle: 1");
	assert_non_null(strstr(amtp_wsman_obj_text(&r->items[1], "Subject"),
	    "CN=prov.corp.example"));
	amtp_wsman_response_free(r);
	/* GenerateKeyPair: unsupported sizes, then RSA-2048. */
	assert_int_equal(inv_rv(f, "AMT_PublicKeyManagementService",
	    "GenerateKeyPair", "<h:KeyAlgorithm>0</h:KeyAlgorithm>"
	    "<h:KeyLength>1024</h:KeyLength>"), 2066);
	r = inv(f, "AMT_PublicKeyManagementService", "GenerateKeyPair",
	    "<h:KeyAlgorithm>0</h:KeyAlgorithm><h:KeyLength>2048</h:KeyLength>");
	assert_int_equal(rv(r), 0);
	(void)amtp_strlcpy(key_id, amtp_wsman_epr_selector(
	    r->body->props[0].epr, "InstanceID"), sizeof(key_id));
	assert_string_equal(key_id, "Intel(r) AMT Key: Handle: 1");
	amtp_wsman_response_free(r);
	/* DERKey is PKCS#1: build a null-signed CSR with it. */
	r = enum_all(f, AMT "AMT_PublicPrivateKeyPair");
	assert_int_equal(r->nitems, 2);
	assert_non_null(b = amtp_buf_new(4096));
	assert_int_equal(amtp_b64_decode(b, amtp_wsman_obj_text(&r->items[1],
	    "DERKey"), strlen(amtp_wsman_obj_text(&r->items[1], "DERKey"))),
	    0);
	amtp_wsman_response_free(r);
	cp = amtp_buf_ptr(b);
	assert_non_null(pub = d2i_PublicKey(EVP_PKEY_RSA, NULL, &cp,
	    (long)amtp_buf_len(b)));
	amtp_buf_free(b);
	assert_non_null(csr = X509_REQ_new());
	assert_int_equal(X509_REQ_set_pubkey(csr, pub), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(
	    csr), "CN", MBSTRING_ASC, (const unsigned char *)"dev.corp.example",
	    -1, -1, 0), 1);
	/* Signed with some other key: only its public key matters. */
	{
		EVP_PKEY *ok;
		FILE *fp;

		assert_non_null(fp = fopen(fixture_path("leaf.key"), "r"));
		assert_non_null(ok = PEM_read_PrivateKey(fp, NULL, NULL, NULL));
		(void)fclose(fp);
		assert_true(X509_REQ_sign(csr, ok, EVP_sha256()) > 0);
		EVP_PKEY_free(ok);
	}
	assert_true((n = i2d_X509_REQ(csr, &der)) > 0);
	assert_non_null(b = amtp_buf_new(8192));
	assert_int_equal(amtp_b64_encode(b, der, (size_t)n), 0);
	OPENSSL_free(der);
	X509_REQ_free(csr);
	(void)snprintf(p, sizeof(p), "<h:KeyPair><a:Address>/wsman</a:Address>"
	    "<a:ReferenceParameters><w:ResourceURI>" AMT
	    "AMT_PublicPrivateKeyPair</w:ResourceURI><w:SelectorSet>"
	    "<w:Selector Name=\"InstanceID\">%s</w:Selector></w:SelectorSet>"
	    "</a:ReferenceParameters></h:KeyPair><h:SigningAlgorithm>1"
	    "</h:SigningAlgorithm><h:NullSignedCertificateRequest>%s"
	    "</h:NullSignedCertificateRequest>", key_id, amtp_buf_str(b));
	r = inv(f, "AMT_PublicKeyManagementService", "GeneratePKCS10RequestEx",
	    p);
	assert_int_equal(rv(r), 0);
	{
		struct amtp_buf *sb = amtp_buf_new(8192);
		const char *s = text(r, "SignedCertificateRequest");

		assert_non_null(s);
		assert_int_equal(amtp_b64_decode(sb, s, strlen(s)), 0);
		cp = amtp_buf_ptr(sb);
		assert_non_null(csr = d2i_X509_REQ(NULL, &cp,
		    (long)amtp_buf_len(sb)));
		assert_int_equal(X509_REQ_verify(csr, pub), 1);
		X509_REQ_free(csr);
		amtp_buf_free(sb);
	}
	amtp_wsman_response_free(r);
	/* The same request naming the other key: key mismatch. */
	for (i = 0; p[i] != '\0'; i++)
		if (strncmp(p + i, "Handle: 1<", 10) == 0)
			p[i + 8] = '0';
	assert_int_equal(inv_rv(f, "AMT_PublicKeyManagementService",
	    "GeneratePKCS10RequestEx", p), 2064);
	amtp_buf_free(b);
	EVP_PKEY_free(pub);
	/* TLS credential context: not for a root; once; then TLS on. */
	assert_int_equal(simnet_tls_enabled(f->d), 0);
#define TLSCTX(h) "<h:AMT_TLSCredentialContext><h:ElementInContext>"	\
	    "<a:Address>/wsman</a:Address><a:ReferenceParameters>"	\
	    "<w:ResourceURI>" AMT "AMT_PublicKeyCertificate</w:ResourceURI>" \
	    "<w:SelectorSet><w:Selector Name=\"InstanceID\">Intel(r) AMT " \
	    "Certificate: Handle: " h "</w:Selector></w:SelectorSet>"	\
	    "</a:ReferenceParameters></h:ElementInContext>"		\
	    "<h:ElementProvidingContext><a:ReferenceParameters>"	\
	    "<w:ResourceURI>" AMT "AMT_TLSProtocolEndpointCollection"	\
	    "</w:ResourceURI></a:ReferenceParameters>"			\
	    "</h:ElementProvidingContext></h:AMT_TLSCredentialContext>"
	assert_fault(req(f, AMT "AMT_TLSCredentialContext",
	    AMTP_WSMAN_NS_TRANSFER "/Create", NULL, TLSCTX("0")),
	    "InvalidRepresentation", 400, f);
	r = req(f, AMT "AMT_TLSCredentialContext", AMTP_WSMAN_NS_TRANSFER
	    "/Create", NULL, TLSCTX("1"));
	assert_false(r->is_fault);
	assert_non_null(r->created);
	amtp_wsman_response_free(r);
	assert_fault(req(f, AMT "AMT_TLSCredentialContext",
	    AMTP_WSMAN_NS_TRANSFER "/Create", NULL, TLSCTX("1")),
	    "AlreadyExists", 400, f);
	/* The certificate in use cannot be deleted. */
	assert_fault(req(f, AMT "AMT_PublicKeyCertificate",
	    AMTP_WSMAN_NS_TRANSFER "/Delete", "<w:Selector Name=\"InstanceID\">"
	    "Intel(r) AMT Certificate: Handle: 1</w:Selector>", NULL),
	    "AccessDenied", 400, f);
	r = req(f, AMT "AMT_TLSSettingData", AMTP_WSMAN_NS_TRANSFER "/Put",
	    "<w:Selector Name=\"InstanceID\">Intel(r) AMT 802.3 TLS Settings"
	    "</w:Selector>", "<h:AMT_TLSSettingData><h:Enabled>true</h:Enabled>"
	    "<h:AcceptNonSecureConnections>false</h:AcceptNonSecureConnections>"
	    "<h:TrustedCN>a.example</h:TrustedCN><h:TrustedCN>b.example"
	    "</h:TrustedCN></h:AMT_TLSSettingData>");
	assert_int_equal(amtp_wsman_obj_count(r->body, "TrustedCN"), 2);
	amtp_wsman_response_free(r);
	/* Not in force before CommitChanges. */
	assert_int_equal(simnet_tls_enabled(f->d), 0);
	assert_int_equal(inv_rv(f, "AMT_AuthorizationService",
	    "SetAdminAclEntryEx", "<h:Username>admin</h:Username>"
	    "<h:DigestPassword>8d5c7bdcab0a4ca5a4df2ef8a7a9d91f"
	    "</h:DigestPassword>"), 0);
	assert_int_equal(inv_rv(f, "AMT_SetupAndConfigurationService",
	    "CommitChanges", NULL), 0);
	assert_int_equal(simnet_tls_enabled(f->d), 1);
	assert_int_equal(simnet_accept_non_secure(f->d), 0);
	/* The stored certificate and its key load for TLS. */
	assert_int_equal(simnet_tls_prov_load(f->sd), 0);
	assert_int_equal(f->sd->have_prov, 1);
	assert_int_equal(f->sd->prov_handle, 1);
	assert_prov_key_signs(f->sd);
	assert_flash_text(f);
}

/* The path where the key never leaves the device: GenerateKeyPair, a
 * certificate for its DERKey signed outside, AddCertificate, the TLS
 * credential context, CommitChanges; TLS then loads that key. */
static void
test_generated_key_tls(void **state)
{
	struct fixture *f = *state;
	struct amtp_wsman_response *r;
	struct amtp_buf *b;
	const unsigned char *cp;
	unsigned char *der = NULL;
	EVP_PKEY *pub, *ca;
	X509 *x;
	X509_NAME *nm;
	char p[9000];
	int n;

	r = inv(f, "AMT_PublicKeyManagementService", "GenerateKeyPair",
	    "<h:KeyAlgorithm>0</h:KeyAlgorithm><h:KeyLength>2048</h:KeyLength>");
	assert_int_equal(rv(r), 0);
	amtp_wsman_response_free(r);
	r = enum_all(f, AMT "AMT_PublicPrivateKeyPair");
	assert_int_equal(r->nitems, 1);
	assert_non_null(b = amtp_buf_new(4096));
	assert_int_equal(amtp_b64_decode(b, amtp_wsman_obj_text(&r->items[0],
	    "DERKey"), strlen(amtp_wsman_obj_text(&r->items[0], "DERKey"))),
	    0);
	amtp_wsman_response_free(r);
	cp = amtp_buf_ptr(b);
	assert_non_null(pub = d2i_PublicKey(EVP_PKEY_RSA, NULL, &cp,
	    (long)amtp_buf_len(b)));
	amtp_buf_free(b);
	assert_non_null(ca = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048));
	assert_non_null(x = X509_new());
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_set_pubkey(x, pub), 1);
	nm = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)"dev.corp.example", -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, nm), 1);
	assert_true(X509_sign(x, ca, EVP_sha256()) > 0);
	assert_true((n = i2d_X509(x, &der)) > 0);
	assert_non_null(b = amtp_buf_new(8192));
	assert_int_equal(amtp_b64_encode(b, der, (size_t)n), 0);
	(void)snprintf(p, sizeof(p), "<h:CertificateBlob>%s</h:CertificateBlob>",
	    amtp_buf_str(b));
	amtp_buf_free(b);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(ca);
	EVP_PKEY_free(pub);
	assert_int_equal(inv_rv(f, "AMT_PublicKeyManagementService",
	    "AddCertificate", p), 0);
	r = req(f, AMT "AMT_TLSCredentialContext", AMTP_WSMAN_NS_TRANSFER
	    "/Create", NULL, TLSCTX("0"));
	assert_false(r->is_fault);
	amtp_wsman_response_free(r);
	amtp_wsman_response_free(req(f, AMT "AMT_TLSSettingData",
	    AMTP_WSMAN_NS_TRANSFER "/Put", "<w:Selector Name=\"InstanceID\">"
	    "Intel(r) AMT 802.3 TLS Settings</w:Selector>",
	    "<h:AMT_TLSSettingData><h:Enabled>true</h:Enabled>"
	    "</h:AMT_TLSSettingData>"));
	assert_int_equal(inv_rv(f, "AMT_AuthorizationService",
	    "SetAdminAclEntryEx", "<h:Username>admin</h:Username>"
	    "<h:DigestPassword>8d5c7bdcab0a4ca5a4df2ef8a7a9d91f"
	    "</h:DigestPassword>"), 0);
	assert_int_equal(inv_rv(f, "AMT_SetupAndConfigurationService",
	    "CommitChanges", NULL), 0);
	assert_int_equal(simnet_tls_prov_load(f->sd), 0);
	assert_int_equal(f->sd->have_prov, 1);
	assert_int_equal(f->sd->prov_handle, 0);
	/* the key GenerateKeyPair made, used without parsing its PEM, and
	 * found by its stored "pub" without encoding it again */
	assert_non_null(f->sd->key_cache);
	assert_non_null(f->sd->key_cache_pub);
	assert_non_null(f->sd->prov_pub);
	assert_string_equal(f->sd->prov_pub, f->sd->key_cache_pub);
	assert_prov_key_signs(f->sd);
	assert_flash_text(f);
}

static void
test_user_acl(void **state)
{
	struct fixture *f = *state;
	struct amtp_wsman_response *r;
	char p[512];
	int i;

#define USER(u, realms) "<h:DigestUsername>" u "</h:DigestUsername>"	\
	"<h:DigestPassword>8d5c7bdcab0a4ca5a4df2ef8a7a9d91f</h:DigestPassword>" \
	"<h:AccessPermission>2</h:AccessPermission>" realms		\
	"<h:KerberosUserSid></h:KerberosUserSid>"
	r = inv(f, "AMT_AuthorizationService", "AddUserAclEntryEx",
	    USER("operator", "<h:Realms>2</h:Realms><h:Realms>24</h:Realms>"));
	assert_int_equal(rv(r), 0);
	assert_string_equal(text(r, "Handle"), "1");
	amtp_wsman_response_free(r);
	assert_int_equal(inv_rv(f, "AMT_AuthorizationService",
	    "AddUserAclEntryEx", USER("operator", "<h:Realms>3</h:Realms>")),
	    2058);
	assert_int_equal(inv_rv(f, "AMT_AuthorizationService",
	    "AddUserAclEntryEx", USER("admin", "<h:Realms>3</h:Realms>")),
	    12);
	assert_int_equal(inv_rv(f, "AMT_AuthorizationService",
	    "AddUserAclEntryEx", USER("op2", "<h:Realms>25</h:Realms>")),
	    2055);
	assert_int_equal(inv_rv(f, "AMT_AuthorizationService",
	    "AddUserAclEntryEx", USER("op2", "")), 2055);
	/* go-wsman-messages' nested RealmValue form. */
	assert_int_equal(inv_rv(f, "AMT_AuthorizationService",
	    "AddUserAclEntryEx", USER("op2", "<h:Realms><h:RealmValue>3"
	    "</h:RealmValue><h:RealmValue>5</h:RealmValue></h:Realms>")), 0);
	/* Both a digest user and a SID, neither: invalid. */
	assert_int_equal(inv_rv(f, "AMT_AuthorizationService",
	    "AddUserAclEntryEx", "<h:DigestUsername>x</h:DigestUsername>"
	    "<h:KerberosUserSid>S-1-5-21</h:KerberosUserSid>"
	    "<h:AccessPermission>2</h:AccessPermission><h:Realms>3</h:Realms>"),
	    36);
	assert_int_equal(inv_rv(f, "AMT_AuthorizationService",
	    "AddUserAclEntryEx", "<h:AccessPermission>2</h:AccessPermission>"
	    "<h:Realms>3</h:Realms>"), 36);
	assert_int_equal(inv_rv(f, "AMT_AuthorizationService",
	    "AddUserAclEntryEx", "<h:KerberosUserSid>S-1-5-21-1</h:KerberosUserSid>"
	    "<h:AccessPermission>1</h:AccessPermission><h:Realms>3</h:Realms>"),
	    0);
	r = inv(f, "AMT_AuthorizationService", "EnumerateUserAclEntries",
	    "<h:StartIndex>1</h:StartIndex>");
	assert_string_equal(text(r, "TotalCount"), "3");
	assert_int_equal(amtp_wsman_obj_count(r->body, "Handles"), 3);
	amtp_wsman_response_free(r);
	r = inv(f, "AMT_AuthorizationService", "GetUserAclEntryEx",
	    "<h:Handle>2</h:Handle>");
	assert_string_equal(text(r, "DigestUsername"), "op2");
	assert_int_equal(amtp_wsman_obj_count(r->body, "Realms"), 2);
	amtp_wsman_response_free(r);
	assert_int_equal(inv_rv(f, "AMT_AuthorizationService",
	    "UpdateUserAclEntryEx", "<h:Handle>2</h:Handle>" USER("op3",
	    "<h:Realms>7</h:Realms>")), 0);
	assert_int_equal(inv_rv(f, "AMT_AuthorizationService",
	    "RemoveUserAclEntry", "<h:Handle>2</h:Handle>"), 0);
	assert_int_equal(inv_rv(f, "AMT_AuthorizationService",
	    "RemoveUserAclEntry", "<h:Handle>2</h:Handle>"), 2053);
	assert_int_equal(inv_rv(f, "AMT_AuthorizationService",
	    "GetUserAclEntryEx", "<h:Handle>99</h:Handle>"), 2053);
	/* The table fills up. */
	for (i = 0; i < AMTP_SIM_NET_USERS_MAX; i++) {
		(void)snprintf(p, sizeof(p), "<h:KerberosUserSid>S-1-5-%d"
		    "</h:KerberosUserSid><h:AccessPermission>2"
		    "</h:AccessPermission><h:Realms>3</h:Realms>", i);
		if (inv_rv(f, "AMT_AuthorizationService", "AddUserAclEntryEx",
		    p) == 23)
			break;
	}
	assert_int_equal(i, AMTP_SIM_NET_USERS_MAX - 2);
}

static void
test_stage2(void **state)
{
	struct fixture *f = *state;
	struct amtp_wsman_response *r;
	size_t i;

	/* Kerberos: enabling needs a realm and a key; secrets hidden. */
	assert_fault(req(f, AMT "AMT_KerberosSettingData",
	    AMTP_WSMAN_NS_TRANSFER "/Put", NULL, "<h:AMT_KerberosSettingData>"
	    "<h:KrbEnabled>true</h:KrbEnabled></h:AMT_KerberosSettingData>"),
	    "InvalidRepresentation", 400, f);
	r = req(f, AMT "AMT_KerberosSettingData", AMTP_WSMAN_NS_TRANSFER "/Put",
	    NULL, "<h:AMT_KerberosSettingData><h:KrbEnabled>true</h:KrbEnabled>"
	    "<h:RealmName>CORP.EXAMPLE</h:RealmName><h:Passphrase>secret"
	    "</h:Passphrase><h:ServicePrincipalName>HTTP/a:16992"
	    "</h:ServicePrincipalName><h:ServicePrincipalName>HTTP/a:16993"
	    "</h:ServicePrincipalName></h:AMT_KerberosSettingData>");
	assert_string_equal(text(r, "KrbEnabled"), "true");
	assert_null(text(r, "Passphrase"));
	assert_int_equal(amtp_wsman_obj_count(r->body, "ServicePrincipalName"),
	    2);
	amtp_wsman_response_free(r);
	assert_int_equal(inv_rv(f, "AMT_KerberosSettingData",
	    "SetCredentialCacheState", "<h:Enabled>true</h:Enabled>"), 0);
	r = inv(f, "AMT_KerberosSettingData", "GetCredentialCacheState", NULL);
	assert_string_equal(text(r, "Enabled"), "true");
	amtp_wsman_response_free(r);
	/* Redirection and web UI state changes. */
	assert_int_equal(inv_rv(f, "AMT_RedirectionService",
	    "RequestStateChange", "<h:RequestedState>32771</h:RequestedState>"),
	    0);
	assert_true(f->d->features.sol && f->d->features.ider);
	assert_int_equal(inv_rv(f, "AMT_RedirectionService",
	    "RequestStateChange", "<h:RequestedState>7</h:RequestedState>"), 5);
	r = get(f, AMT "AMT_RedirectionService", NULL);
	assert_string_equal(text(r, "EnabledState"), "32771");
	amtp_wsman_response_free(r);
	assert_int_equal(inv_rv(f, "AMT_WebUIService", "RequestStateChange",
	    "<h:RequestedState>3</h:RequestedState>"), 0);
	assert_false(f->d->features.web_ui);
	/* Power scheme by selector. */
	assert_fault(req(f, AMT "AMT_SystemPowerScheme", AMT
	    "AMT_SystemPowerScheme/SetPowerScheme", "<w:Selector Name=\""
	    "InstanceID\">nope</w:Selector>", "<h:SetPowerScheme_INPUT/>"),
	    "InvalidSelectors", 400, f);
	r = req(f, AMT "AMT_SystemPowerScheme", AMT
	    "AMT_SystemPowerScheme/SetPowerScheme", "<w:Selector Name=\""
	    "InstanceID\">Intel(r) AMT Power Scheme 2</w:Selector>",
	    "<h:SetPowerScheme_INPUT/>");
	assert_int_equal(rv(r), 0);
	amtp_wsman_response_free(r);
	r = enum_all(f, CIM "CIM_ElementSettingData");
	assert_int_equal(r->nitems, 3);
	for (i = 0; i < r->nitems; i++) {
		const struct amtp_wsman_prop *sdp = amtp_wsman_obj_prop(
		    &r->items[i], "SettingData", 0);

		assert_non_null(sdp);
		assert_non_null(sdp->epr);
		assert_string_equal(amtp_wsman_obj_text(&r->items[i],
		    "IsCurrent"), strcmp(amtp_wsman_epr_selector(sdp->epr,
		    "InstanceID"), "Intel(r) AMT Power Scheme 2") == 0 ? "1" :
		    "2");
	}
	amtp_wsman_response_free(r);
	/* Wi-Fi profiles. */
#define WIFI(name, prio, psk) "<h:WiFiEndpointSettingsInput><h:ElementName>" \
	name "</h:ElementName><h:AuthenticationMethod>6"		\
	"</h:AuthenticationMethod><h:EncryptionMethod>4</h:EncryptionMethod>" \
	"<h:SSID>net</h:SSID><h:Priority>" prio "</h:Priority>"		\
	"<h:PSKPassPhrase>" psk "</h:PSKPassPhrase>"			\
	"</h:WiFiEndpointSettingsInput>"
	assert_int_equal(inv_rv(f, "AMT_WiFiPortConfigurationService",
	    "AddWiFiSettings", WIFI("home", "1", "P@ssw0rd123")), 0);
	assert_int_equal(inv_rv(f, "AMT_WiFiPortConfigurationService",
	    "AddWiFiSettings", WIFI("home", "2", "P@ssw0rd123")), 2058);
	assert_int_equal(inv_rv(f, "AMT_WiFiPortConfigurationService",
	    "AddWiFiSettings", WIFI("work", "1", "P@ssw0rd123")), 2067);
	assert_int_equal(inv_rv(f, "AMT_WiFiPortConfigurationService",
	    "AddWiFiSettings", WIFI("work", "2", "short")), 2070);
	assert_int_equal(inv_rv(f, "AMT_WiFiPortConfigurationService",
	    "AddWiFiSettings", NULL), 36);
	r = enum_all(f, CIM "CIM_WiFiEndpointSettings");
	assert_int_equal(r->nitems, 1);
	assert_null(amtp_wsman_obj_text(&r->items[0], "PSKPassPhrase"));
	amtp_wsman_response_free(r);
	r = req(f, CIM "CIM_WiFiEndpointSettings", AMTP_WSMAN_NS_TRANSFER
	    "/Delete", "<w:Selector Name=\"InstanceID\">Intel(r) AMT:WiFi "
	    "Endpoint Settings home</w:Selector>", NULL);
	assert_false(r->is_fault);
	amtp_wsman_response_free(r);
	r = enum_all(f, CIM "CIM_WiFiEndpointSettings");
	assert_int_equal(r->nitems, 0);
	amtp_wsman_response_free(r);
	assert_int_equal(inv_rv(f, "CIM_WiFiPort", "RequestStateChange",
	    "<h:RequestedState>32769</h:RequestedState>"), 0);
	r = enum_all(f, CIM "CIM_WiFiPort");
	assert_string_equal(amtp_wsman_obj_text(&r->items[0], "EnabledState"),
	    "32769");
	amtp_wsman_response_free(r);
	/* Ethernet: static addressing needs an address. */
	assert_fault(req(f, AMT "AMT_EthernetPortSettings",
	    AMTP_WSMAN_NS_TRANSFER "/Put", "<w:Selector Name=\"InstanceID\">"
	    "Intel(r) AMT Ethernet Port Settings 0</w:Selector>",
	    "<h:AMT_EthernetPortSettings><h:DHCPEnabled>false</h:DHCPEnabled>"
	    "<h:IPAddress></h:IPAddress></h:AMT_EthernetPortSettings>"),
	    "InvalidRepresentation", 400, f);
	/* 802.1X profile. */
	r = req(f, AMT "AMT_8021XProfile", AMTP_WSMAN_NS_TRANSFER "/Put", NULL,
	    "<h:AMT_8021XProfile><h:Enabled>true</h:Enabled><h:Username>u"
	    "</h:Username><h:Password>pw</h:Password></h:AMT_8021XProfile>");
	assert_string_equal(text(r, "Enabled"), "true");
	assert_null(text(r, "Password"));
	amtp_wsman_response_free(r);
}

static void
test_wired_has_no_wifi(void **state)
{
	struct fixture *f = *state;

	assert_fault(get(f, CIM "CIM_WiFiPort", NULL), "DestinationUnreachable",
	    400, f);
	assert_fault(inv(f, "AMT_WiFiPortConfigurationService",
	    "AddWiFiSettings", NULL), "DestinationUnreachable", 400, f);
}

/* ---- enumeration ---- */

static void
test_enum_paging(void **state)
{
	struct fixture *f = *state;
	struct amtp_wsman_response *r;
	char ctx[64], body[512];
	size_t got = 0;
	int i, pulls = 0;

	r = req(f, CIM "CIM_SoftwareIdentity", AMTP_WSMAN_NS_ENUM "/Enumerate",
	    NULL, "<Enumerate xmlns=\"" AMTP_WSMAN_NS_ENUM "\"/>");
	(void)amtp_strlcpy(ctx, r->enum_context, sizeof(ctx));
	amtp_wsman_response_free(r);
	for (;;) {
		(void)snprintf(body, sizeof(body), "<Pull xmlns=\""
		    AMTP_WSMAN_NS_ENUM "\"><EnumerationContext>%s"
		    "</EnumerationContext><MaxElements>4</MaxElements></Pull>",
		    ctx);
		r = req(f, CIM "CIM_SoftwareIdentity", AMTP_WSMAN_NS_ENUM
		    "/Pull", NULL, body);
		assert_false(r->is_fault);
		got += r->nitems;
		pulls++;
		if (r->end_of_sequence) {
			assert_null(r->enum_context);
			amtp_wsman_response_free(r);
			break;
		}
		assert_int_equal(r->nitems, 4);
		amtp_wsman_response_free(r);
	}
	assert_int_equal(got, 11);
	assert_int_equal(pulls, 3);
	/* The context is gone after the end. */
	assert_fault(req(f, CIM "CIM_SoftwareIdentity", AMTP_WSMAN_NS_ENUM
	    "/Pull", NULL, body), "InvalidEnumerationContext", 500, f);
	/* Expiry. */
	r = req(f, CIM "CIM_SoftwareIdentity", AMTP_WSMAN_NS_ENUM "/Enumerate",
	    NULL, "<Enumerate xmlns=\"" AMTP_WSMAN_NS_ENUM "\"/>");
	(void)snprintf(body, sizeof(body), "<Pull xmlns=\"" AMTP_WSMAN_NS_ENUM
	    "\"><EnumerationContext>%s</EnumerationContext></Pull>",
	    r->enum_context);
	amtp_wsman_response_free(r);
	simnet_ws_expire(f->sd, simnet_now_ms() + AMTP_SIM_NET_ENUM_LIFE_MS +
	    1);
	assert_fault(req(f, CIM "CIM_SoftwareIdentity", AMTP_WSMAN_NS_ENUM
	    "/Pull", NULL, body), "InvalidEnumerationContext", 500, f);
	/* At most AMTP_SIM_NET_ENUMS_MAX open: the oldest goes. */
	r = req(f, CIM "CIM_SoftwareIdentity", AMTP_WSMAN_NS_ENUM "/Enumerate",
	    NULL, "<Enumerate xmlns=\"" AMTP_WSMAN_NS_ENUM "\"/>");
	(void)snprintf(body, sizeof(body), "<Pull xmlns=\"" AMTP_WSMAN_NS_ENUM
	    "\"><EnumerationContext>%s</EnumerationContext></Pull>",
	    r->enum_context);
	amtp_wsman_response_free(r);
	for (i = 0; i < AMTP_SIM_NET_ENUMS_MAX; i++)
		amtp_wsman_response_free(req(f, CIM "CIM_SoftwareIdentity",
		    AMTP_WSMAN_NS_ENUM "/Enumerate", NULL, "<Enumerate xmlns=\""
		    AMTP_WSMAN_NS_ENUM "\"/>"));
	assert_fault(req(f, CIM "CIM_SoftwareIdentity", AMTP_WSMAN_NS_ENUM
	    "/Pull", NULL, body), "InvalidEnumerationContext", 500, f);
}

/* ---- faults and hostile input ---- */

static void
test_faults(void **state)
{
	struct fixture *f = *state;

	assert_fault(get(f, AMT "AMT_NoSuchClass", NULL),
	    "DestinationUnreachable", 400, f);
	assert_fault(inv(f, "AMT_SetupAndConfigurationService", "NoSuchMethod",
	    NULL), "ActionNotSupported", 400, f);
	assert_fault(req(f, AMT "AMT_GeneralSettings", "urn:nothing", NULL,
	    NULL), "ActionNotSupported", 400, f);
	assert_fault(get(f, CIM "CIM_SoftwareIdentity", "<w:Selector Name=\""
	    "InstanceID\">NoSuch</w:Selector>"), "InvalidSelectors", 400, f);
	assert_fault(get(f, CIM "CIM_SoftwareIdentity", "<w:Selector Name=\""
	    "Bogus\">AMT</w:Selector>"), "InvalidSelectors", 400, f);
	assert_fault(req(f, AMT "AMT_GeneralSettings", AMTP_WSMAN_NS_TRANSFER
	    "/Delete", NULL, NULL), "ActionNotSupported", 400, f);
	/* A method body that is not <Method>_INPUT. */
	assert_fault(req(f, AMT "AMT_SetupAndConfigurationService", AMT
	    "AMT_SetupAndConfigurationService/CommitChanges", NULL,
	    "<h:Unprovision_INPUT/>"), "InvalidRepresentation", 400, f);
	/* Pull without a context the device gave. */
	assert_fault(req(f, AMT "AMT_GeneralSettings", AMTP_WSMAN_NS_ENUM
	    "/Pull", NULL, "<Pull xmlns=\"" AMTP_WSMAN_NS_ENUM "\">"
	    "<EnumerationContext>14000000-0000-0000-0000-000000000000"
	    "</EnumerationContext></Pull>"), "InvalidEnumerationContext", 500,
	    f);
}

static const char *const hostile[] = {
	"",
	"not xml",
	"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM "
	    "\"file:///etc/passwd\">]><x>&e;</x>",
	"<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaa\">"
	    "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><l>&b;</l>",
	/* No Header, no Action, no MessageID. */
	"<Envelope xmlns=\"http://www.w3.org/2003/05/soap-envelope\"><Body/>"
	    "</Envelope>",
	"<Envelope xmlns=\"http://www.w3.org/2003/05/soap-envelope\"><Header>"
	    "</Header><Body/></Envelope>",
	"<Envelope xmlns=\"http://www.w3.org/2003/05/soap-envelope\" "
	    "xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\">"
	    "<Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/"
	    "Get</a:Action></Header><Body/></Envelope>",
	"<Envelope xmlns=\"urn:soap11\"><Header/><Body/></Envelope>",
};

static void
test_hostile(void **state)
{
	struct fixture *f = *state;
	struct amtp_wsman_response *r;
	size_t i, n;
	char *x;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		r = send_raw(f, hostile[i], strlen(hostile[i]));
		assert_fault(r, "SchemaValidationError", 400, f);
	}
	/* Deep nesting. */
	n = 200;
	assert_non_null(x = calloc(1, n * 7 + 64));
	for (i = 0; i < n; i++)
		memcpy(x + 3 * i, "<a>", 3);
	assert_fault(send_raw(f, x, strlen(x)), "SchemaValidationError", 400,
	    f);
	free(x);
	/* Huge text inside an otherwise good Put. */
	n = AMTP_MAX_XML_TEXT + 10;
	assert_non_null(x = malloc(n + 1));
	memset(x, 'A', n);
	x[n] = '\0';
	{
		char *body = NULL;

		assert_true(asprintf(&body, "<h:AMT_GeneralSettings><h:HostName>"
		    "%s</h:HostName></h:AMT_GeneralSettings>", x) > 0);
		assert_fault(req(f, AMT "AMT_GeneralSettings",
		    AMTP_WSMAN_NS_TRANSFER "/Put", NULL, body),
		    "SchemaValidationError", 400, f);
		free(body);
	}
	free(x);
}

/* ---- 802.1X certificate links ---- */

#define CREF(h) "<a:Address>/wsman</a:Address><a:ReferenceParameters>"	\
	"<w:ResourceURI>" AMT "AMT_PublicKeyCertificate</w:ResourceURI>"	\
	"<w:SelectorSet><w:Selector Name=\"InstanceID\">Intel(r) AMT "	\
	"Certificate: Handle: " h "</w:Selector></w:SelectorSet>"		\
	"</a:ReferenceParameters>"
#define XWIFI(client, ca) "<h:WiFiEndpointSettingsInput><h:ElementName>corp" \
	"</h:ElementName><h:AuthenticationMethod>7</h:AuthenticationMethod>" \
	"<h:EncryptionMethod>4</h:EncryptionMethod><h:SSID>CorpNet</h:SSID>" \
	"<h:Priority>1</h:Priority></h:WiFiEndpointSettingsInput>"	\
	"<h:IEEE8021xSettingsInput><h:ElementName>corp</h:ElementName>"	\
	"<h:AuthenticationProtocol>0</h:AuthenticationProtocol>"		\
	"</h:IEEE8021xSettingsInput><h:ClientCredential>" CREF(client)	\
	"</h:ClientCredential><h:CACredential>" CREF(ca) "</h:CACredential>"

static void
assert_ctx(struct amtp_wsman_response *r, size_t i, const char *cls,
    const char *cert, const char *pc_uri, const char *pc_val)
{
	const struct amtp_wsman_prop *eic, *epc;

	assert_true(i < r->nitems);
	assert_string_equal(r->items[i].name, cls);
	eic = amtp_wsman_obj_prop(&r->items[i], "ElementInContext", 0);
	epc = amtp_wsman_obj_prop(&r->items[i], "ElementProvidingContext", 0);
	assert_non_null(eic);
	assert_non_null(eic->epr);
	assert_non_null(epc);
	assert_non_null(epc->epr);
	assert_string_equal(eic->epr->resource_uri,
	    AMT "AMT_PublicKeyCertificate");
	assert_string_equal(amtp_wsman_epr_selector(eic->epr, "InstanceID"),
	    cert);
	assert_string_equal(epc->epr->resource_uri, pc_uri);
	assert_string_equal(amtp_wsman_epr_selector(epc->epr, "InstanceID"),
	    pc_val);
}

static void
assert_delete(struct fixture *f, const char *cls, const char *id,
    int refused)
{
	char sel[256];
	struct amtp_wsman_response *r;

	(void)snprintf(sel, sizeof(sel), "<w:Selector Name=\"InstanceID\">%s"
	    "</w:Selector>", id);
	r = req(f, strcmp(cls, "AMT_PublicKeyCertificate") == 0 ?
	    AMT "AMT_PublicKeyCertificate" : AMT "AMT_PublicPrivateKeyPair",
	    AMTP_WSMAN_NS_TRANSFER "/Delete", sel, NULL);
	if (refused) {
		assert_fault(r, "AccessDenied", 400, f);
		return;
	}
	assert_non_null(r);
	assert_false(r->is_fault);
	amtp_wsman_response_free(r);
}

/*
 * A Wi-Fi 802.1X profile's ClientCredential/CACredential and the wired
 * settings' SetCertificates are kept as links, shown by an Enumerate of
 * CIM_CredentialContext (items named after the association's class) and
 * of IPS_8021xCredentialContext; a linked certificate, and the key of a
 * linked client certificate, cannot be deleted; the links go with the
 * profile, or with a SetCertificates naming nothing; then they can.
 */
static void
test_8021x_links(void **state)
{
	static const char wifi_pc[] = "Intel(r) AMT:IEEE 802.1x Settings corp";
	static const char wired_pc[] = "Intel(r) AMT: 8021X Settings";
	struct fixture *f = *state;
	struct amtp_wsman_response *r;
	json_t *x;

	load_certs(f);	/* root 0; key 0; its certificate 1 */
	/* nothing linked yet */
	r = enum_all(f, CIM "CIM_CredentialContext");
	assert_int_equal(r->nitems, 0);
	amtp_wsman_response_free(r);
	/* references of the wrong kind or to nothing: 36, nothing stored */
	assert_int_equal(inv_rv(f, "AMT_WiFiPortConfigurationService",
	    "AddWiFiSettings", XWIFI("1", "1")), 36);
	assert_int_equal(inv_rv(f, "AMT_WiFiPortConfigurationService",
	    "AddWiFiSettings", XWIFI("0", "0")), 36);
	assert_int_equal(inv_rv(f, "AMT_WiFiPortConfigurationService",
	    "AddWiFiSettings", XWIFI("9", "0")), 36);
	r = enum_all(f, CIM "CIM_WiFiEndpointSettings");
	assert_int_equal(r->nitems, 0);
	amtp_wsman_response_free(r);
	assert_int_equal(inv_rv(f, "AMT_WiFiPortConfigurationService",
	    "AddWiFiSettings", XWIFI("1", "0")), 0);
	r = enum_all(f, CIM "CIM_CredentialContext");
	assert_int_equal(r->nitems, 2);
	assert_ctx(r, 0, "CIM_CredentialContext",
	    "Intel(r) AMT Certificate: Handle: 0", CIM "CIM_IEEE8021xSettings",
	    wifi_pc);
	assert_ctx(r, 1, "CIM_CredentialContext",
	    "Intel(r) AMT Certificate: Handle: 1", CIM "CIM_IEEE8021xSettings",
	    wifi_pc);
	amtp_wsman_response_free(r);
	assert_delete(f, "AMT_PublicKeyCertificate",
	    "Intel(r) AMT Certificate: Handle: 1", 1);
	assert_delete(f, "AMT_PublicKeyCertificate",
	    "Intel(r) AMT Certificate: Handle: 0", 1);
	assert_delete(f, "AMT_PublicPrivateKeyPair",
	    "Intel(r) AMT Key: Handle: 0", 1);

	/* the wired settings */
	r = get(f, IPS "IPS_IEEE8021xSettings", NULL);
	assert_string_equal(text(r, "InstanceID"), wired_pc);
	assert_string_equal(text(r, "Enabled"), "3");
	amtp_wsman_response_free(r);
	r = req(f, IPS "IPS_IEEE8021xSettings", AMTP_WSMAN_NS_TRANSFER "/Put",
	    NULL, "<h:IPS_IEEE8021xSettings><h:Enabled>2</h:Enabled>"
	    "<h:AuthenticationProtocol>0</h:AuthenticationProtocol>"
	    "<h:Password>pw</h:Password></h:IPS_IEEE8021xSettings>");
	assert_string_equal(text(r, "Enabled"), "2");
	assert_null(text(r, "Password"));
	amtp_wsman_response_free(r);
	assert_int_equal(inv_rv(f, "IPS_IEEE8021xSettings", "SetCertificates",
	    "<h:ServerCertificateIssuer>" CREF("1") "</h:ServerCertificateIssuer>"),
	    36);
	assert_int_equal(inv_rv(f, "IPS_IEEE8021xSettings", "SetCertificates",
	    "<h:ClientCertificate>" CREF("7") "</h:ClientCertificate>"), 36);
	r = enum_all(f, IPS "IPS_8021xCredentialContext");
	assert_int_equal(r->nitems, 0);
	amtp_wsman_response_free(r);
	assert_int_equal(inv_rv(f, "IPS_IEEE8021xSettings", "SetCertificates",
	    "<h:ServerCertificateIssuer>" CREF("0") "</h:ServerCertificateIssuer>"
	    "<h:ClientCertificate>" CREF("1") "</h:ClientCertificate>"), 0);
	r = enum_all(f, IPS "IPS_8021xCredentialContext");
	assert_int_equal(r->nitems, 2);
	assert_ctx(r, 0, "IPS_8021xCredentialContext",
	    "Intel(r) AMT Certificate: Handle: 0", IPS "IPS_IEEE8021xSettings",
	    wired_pc);
	assert_ctx(r, 1, "IPS_8021xCredentialContext",
	    "Intel(r) AMT Certificate: Handle: 1", IPS "IPS_IEEE8021xSettings",
	    wired_pc);
	amtp_wsman_response_free(r);
	/* the links are in flash (the state --show prints) */
	x = json_array_get(json_object_get(json_object_get(simnet_flash(f->d),
	    "inst"), "IPS_IEEE8021xSettings"), 0);
	assert_int_equal(json_integer_value(json_object_get(x, "_ca")), 0);
	assert_int_equal(json_integer_value(json_object_get(x, "_client")), 1);

	/* the Wi-Fi profile goes, its links with it; the wired ones stay */
	r = req(f, CIM "CIM_WiFiEndpointSettings", AMTP_WSMAN_NS_TRANSFER
	    "/Delete", "<w:Selector Name=\"InstanceID\">Intel(r) AMT:WiFi "
	    "Endpoint Settings corp</w:Selector>", NULL);
	assert_false(r->is_fault);
	amtp_wsman_response_free(r);
	r = enum_all(f, CIM "CIM_CredentialContext");
	assert_int_equal(r->nitems, 2);
	assert_string_equal(r->items[0].name, "IPS_8021xCredentialContext");
	amtp_wsman_response_free(r);
	assert_delete(f, "AMT_PublicKeyCertificate",
	    "Intel(r) AMT Certificate: Handle: 1", 1);
	/* unlinked: now they may go, the key once its certificate is not
	 * in use */
	assert_int_equal(inv_rv(f, "IPS_IEEE8021xSettings", "SetCertificates",
	    NULL), 0);
	r = enum_all(f, CIM "CIM_CredentialContext");
	assert_int_equal(r->nitems, 0);
	amtp_wsman_response_free(r);
	assert_delete(f, "AMT_PublicPrivateKeyPair",
	    "Intel(r) AMT Key: Handle: 0", 0);
	assert_delete(f, "AMT_PublicKeyCertificate",
	    "Intel(r) AMT Certificate: Handle: 1", 0);
	assert_delete(f, "AMT_PublicKeyCertificate",
	    "Intel(r) AMT Certificate: Handle: 0", 0);
	r = enum_all(f, AMT "AMT_PublicKeyCertificate");
	assert_int_equal(r->nitems, 0);
	amtp_wsman_response_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_sorted),
		cmocka_unit_test_setup_teardown(test_rps_requests_accepted,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_golden_shapes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_general_put, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_setup_service, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_time_sync, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pki_and_tls, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_generated_key_tls, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_user_acl, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stage2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wired_has_no_wifi,
		    setup_wired, teardown),
		cmocka_unit_test_setup_teardown(test_enum_paging, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_8021x_links, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
