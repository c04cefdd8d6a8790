/* Unit tests for src/lib/wsman.c: every recorded AMT response and every RPS
 * request parses with the expected Action/body/properties; the request
 * builder reproduces each RPS request byte for byte; responses round-trip
 * through the response builder; hostile and malformed envelopes are
 * refused with the right code. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include <jansson.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/wsman.h"

#define FIX	AMTP_SRC_DIR "/tests/fixtures/xml/"
#define AMT	AMTP_WSMAN_URI_AMT

static struct amtp_buf *
load(const char *dir, const char *name)
{
	struct amtp_buf *b = NULL;
	char path[512];

	snprintf(path, sizeof(path), FIX "%s/%s", dir, name);
	assert_int_equal(amtp_buf_load_file(path, AMTP_MAX_SOAP_SIZE, &b), 0);
	return b;
}

static int
resp_file(const char *name, struct amtp_wsman_response **p)
{
	struct amtp_buf *b = load("golden", name);
	char err[256];
	int r;

	r = amtp_wsman_response_parse(amtp_buf_ptr(b), amtp_buf_len(b), p, err,
	    sizeof(err));
	if (r != 0 && r != AMTP_E_SOAP_FAULT)
		print_message("%s: %s\n", name, err);
	amtp_buf_free(b);
	return r;
}

static int
req_str(const char *s, struct amtp_wsman_request **q, char *err,
    size_t errlen)
{
	return amtp_wsman_request_parse(s, strlen(s), q, err, errlen);
}

static int
ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

static const char *
last_seg(const char *s)
{
	const char *p = strrchr(s, '/');

	return p != NULL ? p + 1 : s;
}

/* ------------------------------------------------------------------ */

/* Every recorded response: Action, RelatesTo and a body that fits the
 * operation the Action names. */
static void
test_golden_walk(void **state)
{
	struct amtp_wsman_response *p;
	struct dirent *de;
	DIR *d;
	char method[128];
	const char *a;
	size_t n = 0, len;
	int r;

	(void)state;
	assert_non_null(d = opendir(FIX "golden"));
	while ((de = readdir(d)) != NULL) {
		if (!ends_with(de->d_name, ".xml"))
			continue;
		n++;
		r = resp_file(de->d_name, &p);
		if (strncmp(de->d_name, "fault_", 6) == 0) {
			assert_int_equal(r, AMTP_E_SOAP_FAULT);
			assert_true(p->is_fault);
			assert_non_null(p->fault.reason);
			amtp_wsman_response_free(p);
			continue;
		}
		assert_int_equal(r, 0);
		assert_non_null(p->action);
		assert_non_null(p->relates_to);
		assert_non_null(p->message_id);
		assert_non_null(p->resource_uri);
		assert_non_null(p->body);
		assert_false(p->is_fault);
		a = p->action;
		if (ends_with(a, "transfer/GetResponse") ||
		    ends_with(a, "transfer/PutResponse")) {
			assert_string_equal(p->body->name,
			    last_seg(p->resource_uri));
			assert_string_equal(p->body->ns, p->resource_uri);
			assert_true(p->body->nprops > 0);
		} else if (ends_with(a, "enumeration/EnumerateResponse")) {
			assert_string_equal(p->body->name, "EnumerateResponse");
			assert_non_null(p->enum_context);
		} else if (ends_with(a, "enumeration/PullResponse")) {
			assert_string_equal(p->body->name, "PullResponse");
			assert_true(p->nitems > 0);
			assert_true(p->end_of_sequence);
			assert_string_equal(p->items[0].name,
			    last_seg(p->resource_uri));
		} else if (ends_with(a, "transfer/CreateResponse")) {
			assert_string_equal(p->body->name, "ResourceCreated");
			assert_non_null(p->created);
		} else {
			/* A method: <ResourceURI>/<Method>[Response]. */
			len = strlen(p->resource_uri);
			assert_int_equal(strncmp(a, p->resource_uri, len), 0);
			snprintf(method, sizeof(method), "%s", a + len + 1);
			if (ends_with(method, "Response"))
				method[strlen(method) - 8] = '\0';
			assert_true(ends_with(p->body->name, "_OUTPUT"));
			assert_int_equal(strncmp(p->body->name, method,
			    strlen(method)), 0);
			assert_true(p->has_return_value);
		}
		amtp_wsman_response_free(p);
	}
	closedir(d);
	assert_int_equal(n, 33);
}

static void
test_golden_specific(void **state)
{
	struct amtp_wsman_response *p;
	const struct amtp_wsman_prop *pr;
	const struct amtp_wsman_epr *e;
	char msg[256];

	(void)state;
	assert_int_equal(resp_file("amt_general_get.xml", &p), 0);
	assert_string_equal(p->action,
	    "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse");
	assert_string_equal(p->relates_to, "1");
	assert_string_equal(p->message_id,
	    "uuid:00000000-8086-8086-8086-0000000002E4");
	assert_string_equal(amtp_wsman_obj_text(p->body, "DigestRealm"),
	    "Digest:F3EB554784E729164447A89F60B641C5");
	assert_string_equal(amtp_wsman_obj_text(p->body, "HostName"),
	    "Test Host Name");
	assert_int_equal(p->body->nprops, 24);
	assert_string_equal(p->body->props[0].name, "AMTNetworkEnabled");
	assert_string_equal(p->body->props[23].name, "WsmanOnlyMode");
	assert_null(amtp_wsman_obj_text(p->body, "NoSuchProperty"));
	assert_int_equal(amtp_wsman_check_return(p, "AMT_GeneralSettings", "Get",
	    msg, sizeof(msg)), AMTP_E_PROTO);
	amtp_wsman_response_free(p);

	assert_int_equal(resp_file("amt_setupandconfiguration_get.xml", &p), 0);
	assert_non_null(amtp_wsman_obj_text(p->body, "ProvisioningState"));
	assert_string_equal(amtp_wsman_obj_text(p->body, "ProvisioningState"),
	    "2");
	amtp_wsman_response_free(p);

	assert_int_equal(resp_file("amt_publickey_management_generatekeypair.xml",
	    &p), 0);
	assert_string_equal(p->body->name, "GenerateKeyPair_OUTPUT");
	assert_non_null(pr = amtp_wsman_obj_prop(p->body, "KeyPair", 0));
	assert_non_null(e = pr->epr);
	assert_null(pr->text);
	assert_string_equal(e->address, AMTP_WSMAN_ANONYMOUS);
	assert_string_equal(e->resource_uri, AMT "AMT_PublicPrivateKeyPair");
	assert_string_equal(amtp_wsman_epr_selector(e, "InstanceID"),
	    "Intel(r) AMT Key: Handle: 0");
	assert_true(p->has_return_value);
	assert_int_equal(p->return_value, 0);
	assert_int_equal(amtp_wsman_check_return(p, "x", "y", msg, sizeof(msg)),
	    0);
	amtp_wsman_response_free(p);

	assert_int_equal(resp_file("amt_general_pull.xml", &p), 0);
	assert_int_equal(p->nitems, 1);
	assert_true(p->end_of_sequence);
	assert_string_equal(p->items[0].name, "AMT_GeneralSettings");
	assert_string_equal(amtp_wsman_obj_text(&p->items[0], "DigestRealm"),
	    "Digest:6EE8C61BA74893E059F032EA919D699E");
	assert_string_equal(amtp_wsman_obj_text(&p->items[0], "HostName"), "");
	amtp_wsman_response_free(p);

	assert_int_equal(resp_file("amt_publickey_certificate_pull.xml", &p), 0);
	assert_int_equal(p->nitems, 3);
	assert_string_equal(amtp_wsman_obj_text(&p->items[2], "InstanceID"),
	    "Intel(r) AMT Certificate: Handle: 2");
	assert_true(strncmp(amtp_wsman_obj_text(&p->items[0],
	    "X509Certificate"), "MIIEOzCC", 8) == 0);
	amtp_wsman_response_free(p);

	assert_int_equal(resp_file("amt_kerberos_get.xml", &p), 0);
	assert_int_equal(amtp_wsman_obj_count(p->body,
	    "SupportedEncryptionAlgorithms"), 3);
	assert_string_equal(amtp_wsman_obj_prop(p->body,
	    "SupportedEncryptionAlgorithms", 2)->text, "2");
	assert_null(amtp_wsman_obj_prop(p->body,
	    "SupportedEncryptionAlgorithms", 3));
	amtp_wsman_response_free(p);

	assert_int_equal(resp_file("amt_ethernetport_pull.xml", &p), 0);
	assert_int_equal(p->nitems, 2);
	assert_int_equal(amtp_wsman_obj_count(&p->items[0], "LinkPolicy"), 2);
	assert_string_equal(amtp_wsman_obj_prop(&p->items[0], "LinkPolicy",
	    1)->text, "14");
	amtp_wsman_response_free(p);

	assert_int_equal(resp_file("amt_general_enumerate.xml", &p), 0);
	assert_string_equal(p->enum_context,
	    "14000000-0000-0000-0000-000000000000");
	amtp_wsman_response_free(p);

	assert_int_equal(resp_file("amt_tls_credentialcontext_create.xml", &p),
	    0);
	assert_non_null(e = p->created);
	assert_string_equal(e->resource_uri, AMT "AMT_TLSCredentialContext");
	assert_int_equal(e->nselectors, 2);
	assert_string_equal(e->selectors[0].name, "ElementInContext");
	assert_null(e->selectors[0].value);
	assert_string_equal(e->selectors[0].epr->resource_uri,
	    AMT "AMT_PublicKeyCertificate");
	assert_string_equal(amtp_wsman_epr_selector(e->selectors[0].epr,
	    "InstanceID"), "testCertificate");
	assert_string_equal(amtp_wsman_epr_selector(e->selectors[1].epr,
	    "ElementName"), "TLSProtocolEndpoint Instances Collection");
	amtp_wsman_response_free(p);

	/* Edited file: the Action has leading white space and no Response
	 * suffix; the text is trimmed. */
	assert_int_equal(resp_file("amt_setupandconfiguration_commitchanges.xml",
	    &p), 0);
	assert_string_equal(p->action,
	    AMT "AMT_SetupAndConfigurationService/CommitChanges");
	assert_int_equal(p->return_value, 0);
	amtp_wsman_response_free(p);

	assert_int_equal(resp_file("fault_destinationunreachable.xml", &p),
	    AMTP_E_SOAP_FAULT);
	assert_non_null(p);
	assert_true(p->is_fault);
	assert_string_equal(p->action, AMTP_WSMAN_NS_ADDR "/fault");
	assert_string_equal(p->relates_to, "0");
	assert_string_equal(p->fault.code, "Sender");
	assert_string_equal(p->fault.subcode, "DestinationUnreachable");
	assert_string_equal(p->fault.reason, "No route can be determined to "
	    "reach the destination role defined by the WSAddressing To.");
	assert_null(p->fault.detail);
	amtp_wsman_fault_describe(p, msg, sizeof(msg));
	assert_string_equal(msg, "Sender/DestinationUnreachable: No route can "
	    "be determined to reach the destination role defined by the "
	    "WSAddressing To.");
	amtp_wsman_response_free(p);
}

/* ------------------------------------------------------------------ */

/* What a request file's index name says: class, then operation or method
 * ("AMT_GeneralSettings_Get", "CIM_SoftwareIdentity_Get_AMT"). */
static void
check_request_file(const char *file, const char *name)
{
	static const struct {
		const char *word;
		enum amtp_wsman_op op;
	} ops[] = {
		{ "Get", AMTP_WSMAN_OP_GET }, { "Put", AMTP_WSMAN_OP_PUT },
		{ "Create", AMTP_WSMAN_OP_CREATE },
		{ "Delete", AMTP_WSMAN_OP_DELETE },
		{ "Enumerate", AMTP_WSMAN_OP_ENUMERATE },
		{ "Pull", AMTP_WSMAN_OP_PULL },
	};
	struct amtp_wsman_request *q;
	struct amtp_wsman_req_build rb;
	struct amtp_buf *b = load("requests", file), *out;
	char cls[128], rest[128], err[256], exp_in[160];
	const char *u;
	size_t i, flen;
	int found = 0;

	u = strchr(strchr(name, '_') + 1, '_');
	assert_non_null(u);
	snprintf(cls, sizeof(cls), "%.*s", (int)(u - name), name);
	snprintf(rest, sizeof(rest), "%s", u + 1);
	assert_int_equal(amtp_wsman_request_parse(amtp_buf_ptr(b),
	    amtp_buf_len(b), &q, err, sizeof(err)), 0);
	assert_string_equal(last_seg(q->resource_uri), cls);
	assert_string_equal(q->to, "/wsman");
	assert_string_equal(q->reply_to, AMTP_WSMAN_ANONYMOUS);
	assert_string_equal(q->operation_timeout, "PT60S");
	assert_non_null(q->message_id);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strncmp(rest, ops[i].word, strlen(ops[i].word)) == 0 &&
		    (rest[strlen(ops[i].word)] == '\0' ||
		    rest[strlen(ops[i].word)] == '_')) {
			assert_int_equal(q->op, ops[i].op);
			found = 1;
		}
	}
	if (!found) {
		assert_int_equal(q->op, AMTP_WSMAN_OP_INVOKE);
		assert_int_equal(strcasecmp(q->method, rest), 0);
		snprintf(exp_in, sizeof(exp_in), "%s_INPUT", q->method);
		assert_non_null(q->body);
		assert_string_equal(q->body->name, exp_in);
		assert_string_equal(q->body->ns, q->resource_uri);
	}
	if (q->op == AMTP_WSMAN_OP_PUT) {
		assert_string_equal(q->body->name, cls);
		assert_true(q->body->nprops > 0);
	}
	if (q->op == AMTP_WSMAN_OP_GET || q->op == AMTP_WSMAN_OP_DELETE)
		assert_null(q->body);

	/* The builder, fed with what was parsed, writes the same bytes. */
	memset(&rb, 0, sizeof(rb));
	rb.op = q->op;
	rb.resource_uri = q->resource_uri;
	rb.method = q->method;
	rb.message_id = q->message_id;
	rb.selectors = q->selectors;
	rb.nselectors = q->nselectors;
	rb.body = q->op == AMTP_WSMAN_OP_PUT || q->op == AMTP_WSMAN_OP_CREATE ||
	    q->op == AMTP_WSMAN_OP_INVOKE ? q->body : NULL;
	rb.enum_context = q->enum_context;
	rb.max_elements = (unsigned)q->max_elements;
	rb.max_characters = (unsigned)q->max_characters;
	out = amtp_buf_new(AMTP_MAX_SOAP_SIZE);
	assert_int_equal(amtp_wsman_request_build(&rb, out), 0);
	flen = amtp_buf_len(b);
	while (flen > 0 && amtp_buf_ptr(b)[flen - 1] == '\n')
		flen--;
	if (amtp_buf_len(out) != flen ||
	    memcmp(amtp_buf_ptr(out), amtp_buf_ptr(b), flen) != 0)
		fail_msg("%s: built request differs:\n%s\n", file,
		    amtp_buf_str(out));
	amtp_buf_free(out);
	amtp_wsman_request_free(q);
	amtp_buf_free(b);
}

static void
test_requests_walk(void **state)
{
	json_t *idx, *files, *f;
	json_error_t jerr;
	size_t i;

	(void)state;
	idx = json_load_file(FIX "requests/index.json", JSON_REJECT_DUPLICATES,
	    &jerr);
	assert_non_null(idx);
	files = json_object_get(idx, "files");
	assert_true(json_is_array(files));
	assert_true(json_array_size(files) >= 48);
	json_array_foreach(files, i, f) {
		assert_true(json_is_string(json_object_get(f, "file")));
		assert_true(json_is_string(json_object_get(f, "name")));
		check_request_file(json_string_value(json_object_get(f, "file")),
		    json_string_value(json_object_get(f, "name")));
	}
	json_decref(idx);
}

static struct amtp_wsman_request *
req_file(const char *name)
{
	struct amtp_wsman_request *q;
	struct amtp_buf *b = load("requests", name);

	assert_int_equal(amtp_wsman_request_parse(amtp_buf_ptr(b),
	    amtp_buf_len(b), &q, NULL, 0), 0);
	amtp_buf_free(b);
	return q;
}

static void
test_requests_specific(void **state)
{
	struct amtp_wsman_request *q;
	const struct amtp_wsman_prop *p;
	const struct amtp_wsman_obj *o;

	(void)state;
	q = req_file("43_CIM_SoftwareIdentity_Get_AMT.xml");
	assert_int_equal(q->nselectors, 1);
	assert_string_equal(q->selectors[0].name, "InstanceID");
	assert_string_equal(q->selectors[0].value, "AMT");
	assert_string_equal(q->message_id, "5");
	amtp_wsman_request_free(q);

	q = req_file("03_AMT_GeneralSettings_Pull.xml");
	assert_string_equal(q->enum_context,
	    "14000000-0000-0000-0000-000000000000");
	assert_int_equal(q->max_elements, 999);
	assert_int_equal(q->max_characters, 99999);
	assert_string_equal(q->body->name, "Pull");
	assert_string_equal(q->body->ns, AMTP_WSMAN_NS_ENUM);
	amtp_wsman_request_free(q);

	q = req_file("02_AMT_GeneralSettings_Enumerate.xml");
	assert_string_equal(q->body->name, "Enumerate");
	assert_int_equal(q->body->nprops, 0);
	amtp_wsman_request_free(q);

	q = req_file("16_AMT_PublicKeyManagementService_GeneratePKCS10RequestEx.xml");
	assert_string_equal(q->method, "GeneratePKCS10RequestEx");
	p = amtp_wsman_obj_prop(q->body, "KeyPair", 0);
	assert_non_null(p->epr);
	assert_string_equal(p->epr->address, "/wsman");
	assert_string_equal(p->epr->resource_uri, AMT "AMT_PublicPrivateKeyPair");
	assert_string_equal(amtp_wsman_epr_selector(p->epr, "InstanceID"),
	    "Intel(r) AMT Key: Handle: 0");
	assert_string_equal(amtp_wsman_obj_text(q->body, "SigningAlgorithm"),
	    "1");
	amtp_wsman_request_free(q);

	q = req_file("22_AMT_TLSCredentialContext_Create.xml");
	assert_int_equal(q->op, AMTP_WSMAN_OP_CREATE);
	assert_string_equal(amtp_wsman_epr_selector(amtp_wsman_obj_prop(q->body,
	    "ElementInContext", 0)->epr, "InstanceID"),
	    "Intel(r) AMT Certificate: Handle: 1");
	assert_string_equal(amtp_wsman_epr_selector(amtp_wsman_obj_prop(q->body,
	    "ElementProvidingContext", 0)->epr, "ElementName"),
	    "TLSProtocolEndpointInstances Collection");
	amtp_wsman_request_free(q);

	q = req_file("24_AMT_AuthorizationService_AddUserAclEntryEx.xml");
	assert_int_equal(amtp_wsman_obj_count(q->body, "Realms"), 2);
	assert_string_equal(amtp_wsman_obj_prop(q->body, "Realms", 0)->text,
	    "24");
	assert_string_equal(amtp_wsman_obj_prop(q->body, "Realms", 1)->text,
	    "25");
	amtp_wsman_request_free(q);

	q = req_file("37_AMT_WiFiPortConfigurationService_AddWiFiSettings.xml");
	p = amtp_wsman_obj_prop(q->body, "WiFiEndpoint", 0);
	assert_string_equal(amtp_wsman_epr_selector(p->epr, "Name"),
	    "WiFi Endpoint 0");
	p = amtp_wsman_obj_prop(q->body, "WiFiEndpointSettingsInput", 0);
	assert_non_null(o = p->obj);
	assert_string_equal(o->ns, AMTP_WSMAN_URI_CIM "CIM_WiFiEndpointSettings");
	assert_string_equal(amtp_wsman_obj_text(o, "SSID"), "simssid");
	assert_string_equal(amtp_wsman_obj_text(o, "PSKPassPhrase"),
	    "P@ssw0rd123");
	amtp_wsman_request_free(q);

	q = req_file("11_AMT_TimeSynchronizationService_SetHighAccuracyTimeSynch.xml");
	assert_int_equal(q->body->nprops, 3);
	assert_string_equal(q->body->props[0].name, "Ta0");
	assert_string_equal(q->body->props[1].name, "Tm1");
	assert_string_equal(q->body->props[2].name, "Tm2");
	amtp_wsman_request_free(q);
}

/* ------------------------------------------------------------------ */

static void
assert_epr_equal(const struct amtp_wsman_epr *a, const struct amtp_wsman_epr *b,
    const char *addr_b);

static void
assert_obj_equal(const struct amtp_wsman_obj *a, const struct amtp_wsman_obj *b)
{
	size_t i;

	assert_string_equal(a->name, b->name);
	assert_string_equal(a->ns, b->ns);
	assert_int_equal(a->nprops, b->nprops);
	for (i = 0; i < a->nprops; i++) {
		assert_string_equal(a->props[i].name, b->props[i].name);
		assert_string_equal(a->props[i].ns, b->props[i].ns);
		assert_int_equal(a->props[i].nil, b->props[i].nil);
		if (a->props[i].text != NULL)
			assert_string_equal(a->props[i].text, b->props[i].text);
		else
			assert_null(b->props[i].text);
		if (a->props[i].obj != NULL)
			assert_obj_equal(a->props[i].obj, b->props[i].obj);
		if (a->props[i].epr != NULL)
			assert_epr_equal(a->props[i].epr, b->props[i].epr, NULL);
	}
}

static void
assert_epr_equal(const struct amtp_wsman_epr *a, const struct amtp_wsman_epr *b,
    const char *addr_b)
{
	size_t i;

	assert_non_null(b);
	assert_string_equal(addr_b != NULL ? addr_b : a->address, b->address);
	assert_string_equal(a->resource_uri, b->resource_uri);
	assert_int_equal(a->nselectors, b->nselectors);
	for (i = 0; i < a->nselectors; i++) {
		assert_string_equal(a->selectors[i].name, b->selectors[i].name);
		if (a->selectors[i].value != NULL)
			assert_string_equal(a->selectors[i].value,
			    b->selectors[i].value);
		else
			assert_epr_equal(a->selectors[i].epr,
			    b->selectors[i].epr, NULL);
	}
}

/* Every recorded response, rebuilt by the response builder (as the
 * simulator would send it), parses back to the same tree. */
static void
test_response_roundtrip(void **state)
{
	struct amtp_wsman_response *p, *p2;
	struct amtp_wsman_resp_build rb;
	struct amtp_buf *out = amtp_buf_new(AMTP_MAX_SOAP_SIZE);
	struct dirent *de;
	char method[128], err[256];
	const char *a;
	size_t i, n = 0;
	DIR *d;

	(void)state;
	assert_non_null(d = opendir(FIX "golden"));
	while ((de = readdir(d)) != NULL) {
		if (!ends_with(de->d_name, ".xml") ||
		    strncmp(de->d_name, "fault_", 6) == 0)
			continue;
		assert_int_equal(resp_file(de->d_name, &p), 0);
		memset(&rb, 0, sizeof(rb));
		a = p->action;
		rb.resource_uri = p->resource_uri;
		rb.relates_to = p->relates_to;
		rb.message_id = p->message_id;
		if (ends_with(a, "/GetResponse"))
			rb.op = AMTP_WSMAN_OP_GET;
		else if (ends_with(a, "/PutResponse"))
			rb.op = AMTP_WSMAN_OP_PUT;
		else if (ends_with(a, "/CreateResponse"))
			rb.op = AMTP_WSMAN_OP_CREATE;
		else if (ends_with(a, "/EnumerateResponse"))
			rb.op = AMTP_WSMAN_OP_ENUMERATE;
		else if (ends_with(a, "/PullResponse"))
			rb.op = AMTP_WSMAN_OP_PULL;
		else {
			rb.op = AMTP_WSMAN_OP_INVOKE;
			snprintf(method, sizeof(method), "%s", last_seg(a));
			if (ends_with(method, "Response"))
				method[strlen(method) - 8] = '\0';
			rb.method = method;
		}
		rb.body = p->body;
		rb.created = p->created;
		rb.enum_context = p->enum_context;
		rb.items = p->items;
		rb.nitems = p->nitems;
		rb.end_of_sequence = p->end_of_sequence;
		amtp_buf_reset(out);
		assert_int_equal(amtp_wsman_response_build(&rb, out), 0);
		assert_int_equal(amtp_wsman_response_parse(amtp_buf_ptr(out),
		    amtp_buf_len(out), &p2, err, sizeof(err)), 0);
		if (rb.op == AMTP_WSMAN_OP_INVOKE) {
			assert_true(ends_with(p2->action, "Response"));
			assert_int_equal(p2->return_value, p->return_value);
		} else
			assert_string_equal(p2->action, p->action);
		assert_string_equal(p2->relates_to, p->relates_to);
		assert_string_equal(p2->message_id, p->message_id);
		assert_string_equal(p2->resource_uri, p->resource_uri);
		assert_obj_equal(p->body, p2->body);
		assert_int_equal(p2->nitems, p->nitems);
		for (i = 0; i < p->nitems; i++)
			assert_obj_equal(&p->items[i], &p2->items[i]);
		assert_int_equal(p2->end_of_sequence, p->end_of_sequence);
		if (p->enum_context != NULL)
			assert_string_equal(p2->enum_context, p->enum_context);
		if (p->created != NULL)
			assert_epr_equal(p->created, p2->created, NULL);
		amtp_wsman_response_free(p2);
		amtp_wsman_response_free(p);
		n++;
	}
	closedir(d);
	assert_int_equal(n, 32);
	amtp_buf_free(out);
}

/* A device-shaped reply, byte for byte (the golden files are
 * pretty-printed, so the exact layout is written out here). */
static void
test_response_build_exact(void **state)
{
	static const struct amtp_wsman_prop props[] = {
		{ .name = "ReturnValue", .text = "0" },
	};
	static const struct amtp_wsman_obj body = { .props = props, .nprops = 1 };
	struct amtp_wsman_resp_build rb;
	struct amtp_buf *out = amtp_buf_new(8192);

	(void)state;
	memset(&rb, 0, sizeof(rb));
	rb.op = AMTP_WSMAN_OP_INVOKE;
	rb.resource_uri = AMT "AMT_SetupAndConfigurationService";
	rb.method = "CommitChanges";
	rb.relates_to = "7";
	rb.message_id = "uuid:00000000-8086-8086-8086-000000000001";
	rb.body = &body;
	assert_int_equal(amtp_wsman_response_build(&rb, out), 0);
	assert_string_equal(amtp_buf_str(out),
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a:Envelope "
	    "xmlns:a=\"http://www.w3.org/2003/05/soap-envelope\" "
	    "xmlns:b=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "
	    "xmlns:c=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\" "
	    "xmlns:d=\"http://schemas.xmlsoap.org/ws/2005/02/trust\" "
	    "xmlns:e=\"http://docs.oasis-open.org/wss/2004/01/"
	    "oasis-200401-wss-wssecurity-secext-1.0.xsd\" "
	    "xmlns:f=\"http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd\" "
	    "xmlns:g=\"" AMT "AMT_SetupAndConfigurationService\" "
	    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
	    "<a:Header><b:To>" AMTP_WSMAN_ANONYMOUS "</b:To>"
	    "<b:RelatesTo>7</b:RelatesTo>"
	    "<b:Action a:mustUnderstand=\"true\">" AMT
	    "AMT_SetupAndConfigurationService/CommitChangesResponse</b:Action>"
	    "<b:MessageID>uuid:00000000-8086-8086-8086-000000000001</b:MessageID>"
	    "<c:ResourceURI>" AMT "AMT_SetupAndConfigurationService"
	    "</c:ResourceURI></a:Header><a:Body><g:CommitChanges_OUTPUT>"
	    "<g:ReturnValue>0</g:ReturnValue></g:CommitChanges_OUTPUT>"
	    "</a:Body></a:Envelope>");
	amtp_buf_free(out);
}

static void
test_response_build_empty(void **state)
{
	static const enum amtp_wsman_op ops[] = { AMTP_WSMAN_OP_DELETE,
	    AMTP_WSMAN_OP_RELEASE };
	static const char *actions[] = {
	    AMTP_WSMAN_NS_TRANSFER "/DeleteResponse",
	    AMTP_WSMAN_NS_ENUM "/ReleaseResponse" };
	struct amtp_wsman_resp_build rb;
	struct amtp_wsman_response *p;
	struct amtp_buf *out = amtp_buf_new(8192);
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		memset(&rb, 0, sizeof(rb));
		rb.op = ops[i];
		rb.resource_uri = AMT "AMT_PublicKeyCertificate";
		rb.relates_to = "5";
		rb.message_id = "uuid:9";
		amtp_buf_reset(out);
		assert_int_equal(amtp_wsman_response_build(&rb, out), 0);
		assert_non_null(strstr(amtp_buf_str(out), "<a:Body></a:Body>"));
		assert_int_equal(amtp_wsman_response_parse(amtp_buf_ptr(out),
		    amtp_buf_len(out), &p, NULL, 0), 0);
		assert_string_equal(p->action, actions[i]);
		assert_null(p->body);
		amtp_wsman_response_free(p);
	}
	/* What each kind needs. */
	memset(&rb, 0, sizeof(rb));
	rb.resource_uri = AMT "AMT_GeneralSettings";
	rb.message_id = "1";
	rb.op = AMTP_WSMAN_OP_GET;		/* no instance */
	assert_int_equal(amtp_wsman_response_build(&rb, out), AMTP_E_INVAL);
	rb.op = AMTP_WSMAN_OP_CREATE;		/* no EPR */
	assert_int_equal(amtp_wsman_response_build(&rb, out), AMTP_E_INVAL);
	rb.op = AMTP_WSMAN_OP_ENUMERATE;	/* no context */
	assert_int_equal(amtp_wsman_response_build(&rb, out), AMTP_E_INVAL);
	rb.op = AMTP_WSMAN_OP_PULL;
	rb.nitems = 1;				/* no items array */
	assert_int_equal(amtp_wsman_response_build(&rb, out), AMTP_E_INVAL);
	rb.nitems = 0;
	rb.op = AMTP_WSMAN_OP_INVOKE;		/* no method */
	assert_int_equal(amtp_wsman_response_build(&rb, out), AMTP_E_INVAL);
	amtp_buf_free(out);
}

static void
test_fault_build(void **state)
{
	struct amtp_buf *out = amtp_buf_new(8192);
	struct amtp_wsman_response *p;
	char err[256];

	(void)state;
	assert_int_equal(amtp_wsman_fault_build("3", "uuid:1", NULL, "Sender",
	    AMTP_WSMAN_NS_ADDR, "DestinationUnreachable", "No route <to> it",
	    NULL, out), 0);
	assert_non_null(strstr(amtp_buf_str(out), "<a:Subcode><a:Value>"
	    "b:DestinationUnreachable</a:Value></a:Subcode>"));
	assert_non_null(strstr(amtp_buf_str(out), "No route &lt;to&gt; it"));
	assert_int_equal(amtp_wsman_response_parse(amtp_buf_ptr(out),
	    amtp_buf_len(out), &p, err, sizeof(err)), AMTP_E_SOAP_FAULT);
	assert_string_equal(err, "Sender/DestinationUnreachable: No route <to> it");
	assert_string_equal(p->relates_to, "3");
	assert_string_equal(p->fault.reason, "No route <to> it");
	amtp_wsman_response_free(p);

	amtp_buf_reset(out);
	assert_int_equal(amtp_wsman_fault_build("4", "uuid:2",
	    AMTP_WSMAN_NS_WSMAN "/fault", "Receiver", "urn:x", "Busy", "busy",
	    "try later", out), 0);
	assert_non_null(strstr(amtp_buf_str(out), "xmlns:g=\"urn:x\""));
	assert_int_equal(amtp_wsman_response_parse(amtp_buf_ptr(out),
	    amtp_buf_len(out), &p, NULL, 0), AMTP_E_SOAP_FAULT);
	assert_string_equal(p->fault.code, "Receiver");
	assert_string_equal(p->fault.subcode, "Busy");
	assert_string_equal(p->fault.detail, "try later");
	amtp_wsman_response_free(p);

	amtp_buf_reset(out);
	assert_int_equal(amtp_wsman_fault_build("4", "uuid:2", NULL, "Sen der",
	    NULL, NULL, "r", NULL, out), AMTP_E_INVAL);
	assert_int_equal(amtp_wsman_fault_build("4", "uuid:2", NULL, "Sender",
	    NULL, "Sub", "r", NULL, out), AMTP_E_INVAL);
	assert_int_equal(amtp_wsman_fault_build("4", NULL, NULL, "Sender",
	    NULL, NULL, "r", NULL, out), AMTP_E_INVAL);
	assert_int_equal(amtp_buf_len(out), 0);
	amtp_buf_free(out);
}

/* Build a request with every kind of value, parse it back. */
static void
test_request_roundtrip(void **state)
{
	static const struct amtp_wsman_selector ksel[] = {
		{ .name = "InstanceID", .value = "Intel(r) AMT Key: Handle: 0" },
	};
	static const struct amtp_wsman_epr kp = {
		.resource_uri = AMT "AMT_PublicPrivateKeyPair",
		.selectors = ksel, .nselectors = 1,
	};
	static const struct amtp_wsman_prop inner[] = {
		{ .name = "SSID", .text = "lab & <test>" },
		{ .name = "Priority", .text = "1" },
	};
	static const struct amtp_wsman_obj wifi = {
		.ns = AMTP_WSMAN_URI_CIM "CIM_WiFiEndpointSettings",
		.props = inner, .nprops = 2,
	};
	static const struct amtp_wsman_prop props[] = {
		{ .name = "KeyPair", .epr = &kp },
		{ .name = "Realms", .text = "3" },
		{ .name = "Realms", .text = "\"quoted\" 'x' caf\xc3\xa9" },
		{ .name = "Settings", .obj = &wifi },
		{ .name = "Empty", .text = "" },
		{ .name = "Nothing", .nil = 1 },
	};
	static const struct amtp_wsman_obj in = { .props = props, .nprops = 6 };
	static const struct amtp_wsman_selector hsel[] = {
		{ .name = "Name", .value = "a<b" },
	};
	struct amtp_wsman_req_build rb;
	struct amtp_wsman_request *q;
	struct amtp_buf *out = amtp_buf_new(AMTP_MAX_SOAP_SIZE);
	struct amtp_buf *tiny = amtp_buf_new(100);
	const struct amtp_wsman_prop *p;
	char err[256];

	(void)state;
	memset(&rb, 0, sizeof(rb));
	rb.op = AMTP_WSMAN_OP_INVOKE;
	rb.resource_uri = AMT "AMT_Test";
	rb.method = "DoIt";
	rb.message_id = "uuid:42";
	rb.timeout = "PT60.000S";
	rb.selectors = hsel;
	rb.nselectors = 1;
	rb.body = &in;
	assert_int_equal(amtp_wsman_request_build(&rb, out), 0);
	assert_int_equal(amtp_wsman_request_parse(amtp_buf_ptr(out),
	    amtp_buf_len(out), &q, err, sizeof(err)), 0);
	assert_int_equal(q->op, AMTP_WSMAN_OP_INVOKE);
	assert_string_equal(q->method, "DoIt");
	assert_string_equal(q->action, AMT "AMT_Test/DoIt");
	assert_string_equal(q->operation_timeout, "PT60.000S");
	assert_string_equal(q->selectors[0].value, "a<b");
	assert_string_equal(q->body->name, "DoIt_INPUT");
	assert_string_equal(amtp_wsman_epr_selector(amtp_wsman_obj_prop(q->body,
	    "KeyPair", 0)->epr, "InstanceID"), "Intel(r) AMT Key: Handle: 0");
	assert_string_equal(amtp_wsman_obj_prop(q->body, "KeyPair", 0)->epr->
	    address, "/wsman");
	assert_int_equal(amtp_wsman_obj_count(q->body, "Realms"), 2);
	assert_string_equal(amtp_wsman_obj_prop(q->body, "Realms", 1)->text,
	    "\"quoted\" 'x' caf\xc3\xa9");
	p = amtp_wsman_obj_prop(q->body, "Settings", 0);
	assert_string_equal(p->obj->ns, wifi.ns);
	assert_string_equal(p->ns, rb.resource_uri);
	assert_string_equal(amtp_wsman_obj_text(p->obj, "SSID"), "lab & <test>");
	assert_string_equal(amtp_wsman_obj_text(q->body, "Empty"), "");
	assert_true(amtp_wsman_obj_prop(q->body, "Nothing", 0)->nil);
	amtp_wsman_request_free(q);

	/* A too small output buffer is left as it was. */
	assert_int_equal(amtp_wsman_request_build(&rb, tiny), AMTP_E_TOOBIG);
	assert_int_equal(amtp_buf_len(tiny), 0);

	/* Refused values. */
	amtp_buf_reset(out);
	rb.method = "Do It";
	assert_int_equal(amtp_wsman_request_build(&rb, out), AMTP_E_INVAL);
	rb.method = "DoIt";
	rb.message_id = "a\x01";
	assert_int_equal(amtp_wsman_request_build(&rb, out), AMTP_E_INVAL);
	rb.message_id = "1";
	rb.op = AMTP_WSMAN_OP_PULL;
	assert_int_equal(amtp_wsman_request_build(&rb, out), AMTP_E_INVAL);
	rb.op = AMTP_WSMAN_OP_PUT;
	rb.body = NULL;
	assert_int_equal(amtp_wsman_request_build(&rb, out), AMTP_E_INVAL);
	rb.op = AMTP_WSMAN_OP_UNKNOWN;
	assert_int_equal(amtp_wsman_request_build(&rb, out), AMTP_E_INVAL);
	rb.op = AMTP_WSMAN_OP__MAX;
	assert_int_equal(amtp_wsman_request_build(&rb, out), AMTP_E_INVAL);
	assert_int_equal(amtp_buf_len(out), 0);
	amtp_buf_free(out);
	amtp_buf_free(tiny);
}

/* ------------------------------------------------------------------ */

#define ENV_OPEN "<s:Envelope xmlns:s=\"" AMTP_WSMAN_NS_SOAP "\" " \
	"xmlns:wsa=\"" AMTP_WSMAN_NS_ADDR "\" " \
	"xmlns:wsman=\"" AMTP_WSMAN_NS_WSMAN "\">"
#define HDR_GET "<wsa:Action>" AMTP_WSMAN_NS_TRANSFER "/Get</wsa:Action>" \
	"<wsman:ResourceURI>" AMT "AMT_GeneralSettings</wsman:ResourceURI>" \
	"<wsa:MessageID>9</wsa:MessageID>"

static void
test_prefix_independence(void **state)
{
	struct amtp_wsman_request *q;

	(void)state;
	/* Other prefixes, <Body/> self-closed, unknown headers skipped. */
	assert_int_equal(req_str(ENV_OPEN "<s:Header>" HDR_GET
	    "<wsman:OptionSet><wsman:Option Name='x'>1</wsman:Option>"
	    "</wsman:OptionSet></s:Header><s:Body/></s:Envelope>", &q, NULL, 0),
	    0);
	assert_int_equal(q->op, AMTP_WSMAN_OP_GET);
	assert_string_equal(q->message_id, "9");
	assert_null(q->body);
	amtp_wsman_request_free(q);
	/* An association Enumerate with a Filter (MeshCentral sends these). */
	assert_int_equal(req_str(ENV_OPEN "<s:Header><wsa:Action>"
	    AMTP_WSMAN_NS_ENUM "/Enumerate</wsa:Action><wsman:ResourceURI>"
	    AMTP_WSMAN_URI_CIM "CIM_ElementSettingData</wsman:ResourceURI>"
	    "<wsa:MessageID>3</wsa:MessageID></s:Header><s:Body>"
	    "<Enumerate xmlns='" AMTP_WSMAN_NS_ENUM "'><wsman:Filter "
	    "Dialect='http://schemas.dmtf.org/wbem/wsman/1/cimbinding/"
	    "associationFilter'><b:AssociatedInstances xmlns:b="
	    "'http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd'>"
	    "<b:Object><wsa:Address>/wsman</wsa:Address>"
	    "<wsa:ReferenceParameters><wsman:ResourceURI>" AMT
	    "AMT_SystemPowerScheme</wsman:ResourceURI></wsa:ReferenceParameters>"
	    "</b:Object></b:AssociatedInstances></wsman:Filter></Enumerate>"
	    "</s:Body></s:Envelope>", &q, NULL, 0), 0);
	assert_int_equal(q->op, AMTP_WSMAN_OP_ENUMERATE);
	assert_non_null(amtp_wsman_obj_prop(q->body, "Filter", 0)->obj);
	amtp_wsman_request_free(q);
	/* The same names in the wrong namespace are not the header. */
	assert_int_equal(req_str(ENV_OPEN "<s:Header><x:Action xmlns:x='urn:x'>"
	    AMTP_WSMAN_NS_TRANSFER "/Get</x:Action><wsman:ResourceURI>u"
	    "</wsman:ResourceURI><wsa:MessageID>9</wsa:MessageID></s:Header>"
	    "<s:Body></s:Body></s:Envelope>", &q, NULL, 0), AMTP_E_PROTO);
	assert_null(q);
}

static void
test_request_errors(void **state)
{
	static const struct {
		const char *xml;
		int r;
		const char *err;
	} t[] = {
		{ "<Envelope xmlns='http://schemas.xmlsoap.org/soap/envelope/'>"
		    "<Header/><Body/></Envelope>", AMTP_E_PROTO,
		    "root is not a SOAP 1.2 Envelope" },
		{ ENV_OPEN "<s:Body/></s:Envelope>", AMTP_E_PROTO,
		    "no SOAP Header" },
		{ ENV_OPEN "<s:Header>" HDR_GET "</s:Header></s:Envelope>",
		    AMTP_E_PROTO, "no SOAP Body" },
		{ ENV_OPEN "<s:Header>" HDR_GET "</s:Header><s:Body/><s:Body/>"
		    "</s:Envelope>", AMTP_E_PROTO,
		    "unexpected element in Envelope: Body" },
		{ ENV_OPEN "<s:Header>" HDR_GET "<wsa:MessageID>2</wsa:MessageID>"
		    "</s:Header><s:Body/></s:Envelope>", AMTP_E_PROTO,
		    "repeated header: MessageID" },
		{ ENV_OPEN "<s:Header><wsa:MessageID>2</wsa:MessageID>"
		    "</s:Header><s:Body/></s:Envelope>", AMTP_E_PROTO,
		    "no Action header" },
		{ ENV_OPEN "<s:Header><wsa:Action>" AMTP_WSMAN_NS_TRANSFER
		    "/Get</wsa:Action></s:Header><s:Body/></s:Envelope>",
		    AMTP_E_PROTO, "no MessageID header" },
		{ ENV_OPEN "<s:Header><wsa:Action>" AMTP_WSMAN_NS_TRANSFER
		    "/Get</wsa:Action><wsa:MessageID>1</wsa:MessageID></s:Header>"
		    "<s:Body/></s:Envelope>", AMTP_E_PROTO,
		    "no ResourceURI header" },
		{ ENV_OPEN "<s:Header><wsa:Action>" AMTP_WSMAN_NS_ENUM
		    "/Pull</wsa:Action><wsa:MessageID>1</wsa:MessageID></s:Header>"
		    "<s:Body/></s:Envelope>", AMTP_E_PROTO,
		    "no EnumerationContext" },
		{ ENV_OPEN "<s:Header><wsa:Action>" AMTP_WSMAN_NS_ENUM
		    "/Pull</wsa:Action><wsa:MessageID>1</wsa:MessageID></s:Header>"
		    "<s:Body><e:Pull xmlns:e='" AMTP_WSMAN_NS_ENUM "'>"
		    "<e:EnumerationContext>1</e:EnumerationContext>"
		    "<e:MaxElements>lots</e:MaxElements></e:Pull></s:Body>"
		    "</s:Envelope>", AMTP_E_PROTO, "bad number in: MaxElements" },
		{ ENV_OPEN "<s:Header>" HDR_GET "<wsman:SelectorSet>"
		    "<wsman:Selector>x</wsman:Selector></wsman:SelectorSet>"
		    "</s:Header><s:Body/></s:Envelope>", AMTP_E_PROTO,
		    "Selector without Name" },
		{ ENV_OPEN "<s:Header>" HDR_GET "<wsman:SelectorSet>"
		    "<wsman:Selector Name='a' Evil='1'>x</wsman:Selector>"
		    "</wsman:SelectorSet></s:Header><s:Body/></s:Envelope>",
		    AMTP_E_PROTO, "unexpected attribute: Evil" },
		{ ENV_OPEN "<s:Header>" HDR_GET "<wsman:SelectorSet>"
		    "<wsman:Other/></wsman:SelectorSet></s:Header><s:Body/>"
		    "</s:Envelope>", AMTP_E_PROTO,
		    "unexpected element in SelectorSet: Other" },
		{ ENV_OPEN "<s:Header>" HDR_GET "</s:Header><s:Body><h:X "
		    "xmlns:h='urn:h'><h:A>text<h:B/></h:A></h:X></s:Body>"
		    "</s:Envelope>", AMTP_E_PROTO, "text mixed with elements: A" },
		{ ENV_OPEN "<s:Header>" HDR_GET "</s:Header><s:Body><h:X "
		    "xmlns:h='urn:h'/><h:Y xmlns:h='urn:h'/></s:Body>"
		    "</s:Envelope>", AMTP_E_PROTO,
		    "more than one element in Body" },
		{ ENV_OPEN "<s:Header>" HDR_GET "</s:Header><s:Body><h:X "
		    "xmlns:h='urn:h'><h:A onload='x'>1</h:A></h:X></s:Body>"
		    "</s:Envelope>", AMTP_E_PROTO, "unexpected attribute: onload" },
		{ ENV_OPEN "<s:Header>" HDR_GET "</s:Header><s:Body>junk"
		    "</s:Body></s:Envelope>", AMTP_E_PROTO,
		    "text outside elements" },
		{ ENV_OPEN "<s:Header><wsa:Action><x/>" AMTP_WSMAN_NS_TRANSFER
		    "/Get</wsa:Action></s:Header><s:Body/></s:Envelope>",
		    AMTP_E_PROTO, "element inside a text field: Action" },
		{ "<!DOCTYPE x []>" ENV_OPEN "</s:Envelope>", AMTP_E_XML,
		    "DOCTYPE not allowed" },
		{ ENV_OPEN "<s:Header>", AMTP_E_XML, NULL },
	};
	struct amtp_wsman_request *q = (struct amtp_wsman_request *)1;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (req_str(t[i].xml, &q, err, sizeof(err)) != t[i].r)
			fail_msg("case %zu: got \"%s\"", i, err);
		assert_null(q);
		if (t[i].err != NULL)
			assert_string_equal(err, t[i].err);
		else
			assert_true(err[0] != '\0');
	}
	assert_int_equal(amtp_wsman_request_parse("x", 1, NULL, NULL, 0),
	    AMTP_E_INVAL);
}

static void
test_selector_limit(void **state)
{
	struct amtp_buf *b = amtp_buf_new(65536);
	struct amtp_wsman_request *q;
	int i;

	(void)state;
	for (i = 0; i <= AMTP_WSMAN_MAX_SELECTORS; i++) {
		int k;

		amtp_buf_reset(b);
		assert_int_equal(amtp_buf_put_cstring(b, ENV_OPEN "<s:Header>"
		    HDR_GET "<wsman:SelectorSet>"), 0);
		for (k = 0; k <= i; k++)
			assert_int_equal(amtp_buf_putf(b, "<wsman:Selector "
			    "Name='n%d'>v</wsman:Selector>", k), 0);
		assert_int_equal(amtp_buf_put_cstring(b, "</wsman:SelectorSet>"
		    "</s:Header><s:Body/></s:Envelope>"), 0);
		if (i + 1 <= AMTP_WSMAN_MAX_SELECTORS) {
			assert_int_equal(amtp_wsman_request_parse(amtp_buf_ptr(b),
			    amtp_buf_len(b), &q, NULL, 0), 0);
			assert_int_equal(q->nselectors, (size_t)i + 1);
			amtp_wsman_request_free(q);
		} else
			assert_int_equal(amtp_wsman_request_parse(amtp_buf_ptr(b),
			    amtp_buf_len(b), &q, NULL, 0), AMTP_E_PROTO);
	}
	amtp_buf_free(b);
}

static void
test_hostile_fixtures(void **state)
{
	static const struct {
		const char *file;
		int r;
	} t[] = {
		{ "xxe.xml", AMTP_E_XML },
		{ "billion-laughs.xml", AMTP_E_XML },
		{ "external-dtd.xml", AMTP_E_XML },
		{ "deep-nesting.xml", AMTP_E_DEPTH },
		{ "huge-text.xml", AMTP_E_TOOBIG },
	};
	struct amtp_wsman_request *q;
	struct amtp_wsman_response *p;
	struct amtp_buf *b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		b = load(".", t[i].file);
		assert_int_equal(amtp_wsman_request_parse(amtp_buf_ptr(b),
		    amtp_buf_len(b), &q, NULL, 0), t[i].r);
		assert_int_equal(amtp_wsman_response_parse(amtp_buf_ptr(b),
		    amtp_buf_len(b), &p, NULL, 0), t[i].r);
		assert_null(p);
		amtp_buf_free(b);
	}
}

static void
test_response_errors(void **state)
{
	struct amtp_wsman_response *p;
	char msg[256];

	(void)state;
	/* A bad ReturnValue is a protocol error, not a guess. */
	assert_int_equal(amtp_wsman_response_parse(ENV_OPEN "<s:Header/><s:Body>"
	    "<g:X_OUTPUT xmlns:g='urn:g'><g:ReturnValue>zero</g:ReturnValue>"
	    "</g:X_OUTPUT></s:Body></s:Envelope>", strlen(ENV_OPEN
	    "<s:Header/><s:Body><g:X_OUTPUT xmlns:g='urn:g'><g:ReturnValue>zero"
	    "</g:ReturnValue></g:X_OUTPUT></s:Body></s:Envelope>"), &p, msg,
	    sizeof(msg)), AMTP_E_PROTO);
	assert_null(p);
	assert_string_equal(msg, "bad ReturnValue");
	/* A non-zero ReturnValue is named. */
	{
		const char *s = ENV_OPEN "<s:Header/><s:Body><g:CommitChanges_OUTPUT"
		    " xmlns:g='urn:g'><g:ReturnValue>2057</g:ReturnValue>"
		    "</g:CommitChanges_OUTPUT></s:Body></s:Envelope>";

		assert_int_equal(amtp_wsman_response_parse(s, strlen(s), &p, NULL,
		    0), 0);
		assert_int_equal(amtp_wsman_check_return(p,
		    "AMT_SetupAndConfigurationService", "CommitChanges", msg,
		    sizeof(msg)), AMTP_E_AMT_STATUS);
		assert_string_equal(msg, "AMT_SetupAndConfigurationService."
		    "CommitChanges: ReturnValue 2057 (DATA_MISSING)");
		amtp_wsman_response_free(p);
	}
	/* An empty Body (DeleteResponse) is fine. */
	{
		const char *s = ENV_OPEN "<s:Header><wsa:RelatesTo>1</wsa:RelatesTo>"
		    "</s:Header><s:Body></s:Body></s:Envelope>";

		assert_int_equal(amtp_wsman_response_parse(s, strlen(s), &p, NULL,
		    0), 0);
		assert_null(p->body);
		assert_string_equal(p->relates_to, "1");
		amtp_wsman_response_free(p);
	}
	assert_int_equal(amtp_wsman_response_parse("x", 1, NULL, NULL, 0),
	    AMTP_E_INVAL);
}

static void
test_status_names(void **state)
{
	(void)state;
	assert_string_equal(amtp_wsman_status_name(0), "SUCCESS");
	assert_string_equal(amtp_wsman_status_name(1), "INTERNAL_ERROR");
	assert_string_equal(amtp_wsman_status_name(36), "INVALID_PARAMETER");
	assert_string_equal(amtp_wsman_status_name(38),
	    "FLASH_WRITE_LIMIT_EXCEEDED");
	assert_string_equal(amtp_wsman_status_name(2054), "INVALID_PASSWORD");
	assert_string_equal(amtp_wsman_status_name(2058), "DUPLICATE");
	assert_string_equal(amtp_wsman_status_name(2076), "BLOCKING_COMPONENT");
	assert_string_equal(amtp_wsman_status_name(2082),
	    "OPERATION_IN_PROGRESS");
	assert_string_equal(amtp_wsman_status_name(2073), "UNKNOWN");
	assert_string_equal(amtp_wsman_status_name(-1), "UNKNOWN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_walk),
		cmocka_unit_test(test_golden_specific),
		cmocka_unit_test(test_requests_walk),
		cmocka_unit_test(test_requests_specific),
		cmocka_unit_test(test_response_roundtrip),
		cmocka_unit_test(test_response_build_exact),
		cmocka_unit_test(test_response_build_empty),
		cmocka_unit_test(test_fault_build),
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_prefix_independence),
		cmocka_unit_test(test_request_errors),
		cmocka_unit_test(test_selector_limit),
		cmocka_unit_test(test_hostile_fixtures),
		cmocka_unit_test(test_response_errors),
		cmocka_unit_test(test_status_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
