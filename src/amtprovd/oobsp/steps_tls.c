/*
 * amtprov - oobsp/steps_tls.c: first-stage steps of the service point (role
 * oobsp) that configure the device before the admin password: time-sync,
 * host-name, tls-certificate (key pair made in the device, CSR from the
 * device, certificate from the enrollment point, AddCertificate; or, for a
 * device that cannot make keys, a key from the enrollment point and AddKey)
 * and tls-enable (TLS credential context, TLS settings).
 *
 * Each step may run again after a crash or a transient failure: time-sync
 * and host-name rewrite the same values; tls-certificate makes a new key and
 * certificate (the old ones stay unused); tls-enable finds the newest
 * certificate this site issued for the device among the device's
 * certificates and binds it, skipping the Create when the binding exists.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/pki.h"
#include "amtprov/str.h"
#include "amtprov/wsman.h"

#include "enroll/ca.h"
#include "enroll/client.h"
#include "enroll/enroll.h"
#include "oobsp/oobsp.h"
#include "oobsp/oobsp_int.h"
#include "store/store.h"

#define TIME_SVC	"AMT_TimeSynchronizationService"
#define GENERAL		"AMT_GeneralSettings"
#define PK_SVC		"AMT_PublicKeyManagementService"
#define KEYPAIR		"AMT_PublicPrivateKeyPair"
#define PKCERT		"AMT_PublicKeyCertificate"
#define TLSCTX		"AMT_TLSCredentialContext"
#define TLSSET		"AMT_TLSSettingData"
#define TLS_REMOTE	"Intel(r) AMT 802.3 TLS Settings"
#define TLS_COLLECTION	"TLSProtocolEndpointInstances Collection"

/* Largest DER blob we decode from a reply (a CSR or a certificate). */
#define BLOB_MAX	(16 * 1024)

static int
bad_pc(struct oobsp_job *j)
{
	return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL, "bad pc");
}

/* ------------------------------------------------------------------ */
/* time-sync                                                            */
/* ------------------------------------------------------------------ */

int
oobsp_step_time_sync(struct oobsp_job *j)
{
	struct amtp_wsman_prop in[3];
	char ta0[32], tm[32];
	const char *s;
	long long v;
	int r;

	switch (j->pc) {
	case 0:
		j->pc = 1;
		return oobsp_invoke(j, TIME_SVC, "GetLowAccuracyTimeSynch",
		    NULL, 0, NULL, 0);
	case 1:
		if ((r = oobsp_reply_ok(j, TIME_SVC,
		    "GetLowAccuracyTimeSynch")) != 0)
			return r;
		s = j->resp->body != NULL ?
		    amtp_wsman_obj_text(j->resp->body, "Ta0") : NULL;
		if (s == NULL || amtp_parse_int(s, 0, INT64_MAX, &v) != 0)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_PROTO,
			    TIME_SVC ".GetLowAccuracyTimeSynch: no Ta0");
		j->ta0 = v;
		snprintf(ta0, sizeof(ta0), "%lld", v);
		snprintf(tm, sizeof(tm), "%lld", (long long)time(NULL));
		memset(in, 0, sizeof(in));
		in[0].name = "Ta0";
		in[0].text = ta0;
		in[1].name = "Tm1";
		in[1].text = tm;
		in[2].name = "Tm2";
		in[2].text = tm;
		j->pc = 2;
		return oobsp_invoke(j, TIME_SVC, "SetHighAccuracyTimeSynch",
		    in, 3, NULL, 0);
	case 2:
		if ((r = oobsp_reply_ok(j, TIME_SVC,
		    "SetHighAccuracyTimeSynch")) != 0)
			return r;
		oobsp_detail(j, "device clock was %+lld s off",
		    j->ta0 - (long long)time(NULL));
		return OOBSP_OK;
	}
	return bad_pc(j);
}

/* ------------------------------------------------------------------ */
/* host-name: Get, then Put with HostName and DomainName                */
/* ------------------------------------------------------------------ */

int
oobsp_put_modified(struct oobsp_job *j, const char *cls,
    const struct amtp_wsman_selector *sel, size_t nsel,
    const char *const *names, const char *const *values, size_t n)
{
	const struct amtp_wsman_obj *o;
	struct amtp_wsman_prop *props = NULL;
	struct amtp_wsman_obj body;
	size_t i, k, np = 0;
	int r;

	if (j->saved == NULL || (o = j->saved->body) == NULL)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_PROTO,
		    "%s: no instance in the Get reply", cls);
	if ((props = calloc(o->nprops + n, sizeof(*props))) == NULL)
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, AMTP_E_NOMEM,
		    "out of memory");
	for (i = 0; i < o->nprops; i++) {
		if (o->props[i].text == NULL)
			continue;	/* references are read-only here */
		props[np] = o->props[i];
		props[np].ns = NULL;
		for (k = 0; k < n; k++)
			if (strcmp(o->props[i].name, names[k]) == 0)
				props[np].text = values[k];
		np++;
	}
	for (k = 0; k < n; k++) {
		if (amtp_wsman_obj_prop(o, names[k], 0) != NULL)
			continue;
		memset(&props[np], 0, sizeof(props[np]));
		props[np].name = names[k];
		props[np].text = values[k];
		np++;
	}
	memset(&body, 0, sizeof(body));
	body.props = props;
	body.nprops = np;
	r = oobsp_put(j, cls, &body, sel, nsel);
	free(props);
	return r;
}

int
oobsp_step_host_name(struct oobsp_job *j)
{
	static const char *const names[] = { "HostName", "DomainName" };
	const char *values[2];
	int r;

	switch (j->pc) {
	case 0:
		if (j->host[0] == '\0')
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_STATE,
			    "the device's host name is unknown");
		j->pc = 1;
		return oobsp_get(j, GENERAL, NULL, 0);
	case 1:
		if ((r = oobsp_reply_ok(j, GENERAL, NULL)) != 0)
			return r;
		amtp_wsman_response_free(j->saved);
		j->saved = j->resp;
		j->resp = NULL;
		values[0] = j->host;
		values[1] = j->domain;
		j->pc = 2;
		return oobsp_put_modified(j, GENERAL, NULL, 0, names, values,
		    2);
	case 2:
		if ((r = oobsp_reply_ok(j, GENERAL, NULL)) != 0)
			return r;
		amtp_wsman_response_free(j->saved);
		j->saved = NULL;
		oobsp_detail(j, "host %s, domain %s", j->host, j->domain);
		return OOBSP_OK;
	}
	return bad_pc(j);
}

/* ------------------------------------------------------------------ */
/* tls-certificate                                                      */
/* ------------------------------------------------------------------ */

/* base64 of a DER blob into a new buffer. */
static int
der_b64(const unsigned char *der, size_t len, struct amtp_buf **out)
{
	struct amtp_buf *b;
	int r;

	*out = NULL;
	if ((b = amtp_buf_new(len * 2 + 16)) == NULL)
		return AMTP_E_NOMEM;
	if ((r = amtp_b64_encode(b, der, len)) != 0) {
		amtp_buf_free(b);
		return r;
	}
	*out = b;
	return 0;
}

static int
cert_b64(X509 *cert, struct amtp_buf **out)
{
	unsigned char *der = NULL;
	int len, r;

	*out = NULL;
	if ((len = i2d_X509(cert, &der)) <= 0)
		return AMTP_E_CRYPTO;
	r = der_b64(der, (size_t)len, out);
	OPENSSL_free(der);
	return r;
}

static int
add_certificate(struct oobsp_job *j)
{
	struct amtp_buf *b = NULL;
	struct amtp_wsman_prop in[1];
	int r;

	if ((r = cert_b64(j->web_cert, &b)) != 0)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, r, "certificate");
	memset(in, 0, sizeof(in));
	in[0].name = "CertificateBlob";
	in[0].text = amtp_buf_str(b);
	j->pc = 5;
	r = oobsp_invoke(j, PK_SVC, "AddCertificate", in, 1, NULL, 0);
	amtp_buf_free(b);
	return r;
}

static int add_key(struct oobsp_job *);

/* In the flush: the certificate issued by the engine's own signer (and
 * the key it made, op->arg set), recorded before the device gets it (the
 * enrollment point, when the engine uses one, has recorded it). */
static int
record_web_fn(struct oobsp_job *j, struct oobsp_logop *op)
{
	return amtp_ca_record(j->e->st, j->web_cert, AMTP_CA_AMT_WEB,
	    j->dev.id, op->arg ? j->web_key : NULL);
}

/* pcs of tls-certificate: the certificate is recorded, then AddCertificate
 * (5) or AddKey (10) */
#define TLS_RECORDED		30
#define TLS_KEY_RECORDED	31

/* The fallback: a key made by the enrollment point, added with AddKey. */
static int
keygen_fallback(struct oobsp_job *j)
{
	int r;

	X509_free(j->web_cert);
	j->web_cert = NULL;
	EVP_PKEY_free(j->web_key);
	j->web_key = NULL;
	if ((r = amtp_enroll_via_amt_web_keygen(&j->e->via, j->dev.id,
	    j->fqdn, j->host, &j->web_cert, &j->web_key)) != 0)
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r,
		    "enrollment point: %s", amtp_strerror(r));
	j->keygen_fallback = 1;
	j->pc = TLS_KEY_RECORDED;
	if (j->e->via.cl == NULL && j->e->via.web_record_later)
		return oobsp_store_later(j, record_web_fn, 1, 0, 1);
	return add_key(j);
}

static int
add_key(struct oobsp_job *j)
{
	struct amtp_buf *b = NULL;
	struct amtp_wsman_prop in[1];
	unsigned char *der = NULL;
	int len, r;

	/* AddKey takes the RSA private key, DER (PKCS#1), base64 */
	if ((len = i2d_PrivateKey(j->web_key, &der)) <= 0)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_CRYPTO,
		    "key encoding");
	r = der_b64(der, (size_t)len, &b);
	OPENSSL_clear_free(der, (size_t)len);
	if (r != 0)
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r, "out of memory");
	memset(in, 0, sizeof(in));
	in[0].name = "KeyBlob";
	in[0].text = amtp_buf_str(b);
	j->pc = 10;
	r = oobsp_invoke(j, PK_SVC, "AddKey", in, 1, NULL, 0);
	amtp_buf_free(b);
	return r;
}

int
oobsp_epr(struct amtp_wsman_epr *e, struct amtp_wsman_selector *sel,
    char *uri, size_t urisz, const char *cls, const char *name,
    const char *value)
{
	int r;

	if ((r = oobsp_class_uri(cls, uri, urisz)) != 0)
		return r;
	memset(sel, 0, sizeof(*sel));
	sel->name = name;
	sel->value = value;
	memset(e, 0, sizeof(*e));
	e->resource_uri = uri;
	e->selectors = sel;
	e->nselectors = 1;
	return 0;
}

/* GeneratePKCS10RequestEx for the key j->key_id whose DERKey is der64. */
static int
pkcs10_invoke(struct oobsp_job *j, const char *der64)
{
	struct amtp_wsman_prop in[3];
	struct amtp_wsman_selector sel;
	struct amtp_wsman_epr epr;
	struct amtp_buf *b = NULL, *csr = NULL;
	char uri[256];
	int r;

	if ((b = amtp_buf_new(BLOB_MAX)) == NULL ||
	    (csr = amtp_buf_new(BLOB_MAX * 2)) == NULL) {
		r = oobsp_fail(j, OOBSP_FAIL_TRANSIENT, AMTP_E_NOMEM,
		    "out of memory");
		goto out;
	}
	if (amtp_b64_decode(b, der64, strlen(der64)) != 0 ||
	    oobsp_null_signed_csr_b64(amtp_buf_ptr(b), amtp_buf_len(b),
	    j->fqdn, csr) != 0) {
		r = oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_PROTO,
		    KEYPAIR ": DERKey is not an RSA public key");
		goto out;
	}
	if ((r = oobsp_epr(&epr, &sel, uri, sizeof(uri), KEYPAIR,
	    "InstanceID", j->key_id)) != 0) {
		r = oobsp_fail(j, OOBSP_FAIL_PERMANENT, r, "class");
		goto out;
	}
	memset(in, 0, sizeof(in));
	in[0].name = "KeyPair";
	in[0].epr = &epr;
	in[1].name = "SigningAlgorithm";
	in[1].text = "1";	/* SHA256-RSA */
	in[2].name = "NullSignedCertificateRequest";
	in[2].text = amtp_buf_str(csr);
	r = oobsp_invoke(j, PK_SVC, "GeneratePKCS10RequestEx", in, 3, NULL, 0);
 out:
	amtp_buf_free(b);
	amtp_buf_free(csr);
	return r;
}

int
oobsp_device_csr(struct oobsp_job *j, int base, struct amtp_buf **csr)
{
	struct amtp_wsman_prop in[2];
	const struct amtp_wsman_obj *it;
	const char *s;
	size_t i;
	int r;

	*csr = NULL;
	switch (j->pc - base) {
	case 0:
		j->key_id[0] = '\0';
		memset(in, 0, sizeof(in));
		in[0].name = "KeyAlgorithm";
		in[0].text = "0";	/* RSA */
		in[1].name = "KeyLength";
		in[1].text = "2048";
		j->pc = base + 1;
		return oobsp_invoke(j, PK_SVC, "GenerateKeyPair", in, 2, NULL,
		    0);
	case 1:
		if ((r = oobsp_reply_ok(j, PK_SVC, "GenerateKeyPair")) != 0)
			return r;
		if ((s = oobsp_epr_instance(j->resp->body, "KeyPair")) == NULL ||
		    strlen(s) >= sizeof(j->key_id))
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_PROTO,
			    PK_SVC ".GenerateKeyPair: no KeyPair reference");
		amtp_strlcpy(j->key_id, s, sizeof(j->key_id));
		j->pc = base + 2;
		return oobsp_enumerate(j, KEYPAIR);
	case 2:
	case 3:
		if ((r = oobsp_reply_ok(j, KEYPAIR, NULL)) != 0)
			return r;
		s = NULL;
		for (i = 0; j->pc - base == 3 && i < j->resp->nitems; i++) {
			it = &j->resp->items[i];
			if (amtp_wsman_obj_text(it, "InstanceID") != NULL &&
			    strcmp(amtp_wsman_obj_text(it, "InstanceID"),
			    j->key_id) == 0)
				s = amtp_wsman_obj_text(it, "DERKey");
		}
		if (s != NULL) {
			j->pc = base + 4;
			return pkcs10_invoke(j, s);
		}
		/* Enumerate's context, or the next page of a Pull */
		if ((j->pc - base == 3 && j->resp->end_of_sequence) ||
		    j->resp->enum_context == NULL ||
		    strlen(j->resp->enum_context) >= sizeof(j->enum_ctx))
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_PROTO,
			    KEYPAIR ": the new key %s is not listed",
			    j->key_id);
		amtp_strlcpy(j->enum_ctx, j->resp->enum_context,
		    sizeof(j->enum_ctx));
		j->pc = base + 3;
		return oobsp_pull(j, KEYPAIR);
	case 4:
		if ((r = oobsp_reply_ok(j, PK_SVC,
		    "GeneratePKCS10RequestEx")) != 0)
			return r;
		s = j->resp->body != NULL ? amtp_wsman_obj_text(j->resp->body,
		    "SignedCertificateRequest") : NULL;
		if (s == NULL || (*csr = amtp_buf_new(BLOB_MAX)) == NULL ||
		    amtp_b64_decode(*csr, s, strlen(s)) != 0) {
			amtp_buf_free(*csr);
			*csr = NULL;
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_PROTO,
			    PK_SVC ".GeneratePKCS10RequestEx: no usable "
			    "SignedCertificateRequest");
		}
		return OOBSP_OK;
	}
	return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL, "bad pc");
}

static int find_our_cert(struct oobsp_job *, const char *);

/* pc range of the device-CSR sub-step in tls-certificate */
#define TLS_DK	20
/* pcs of tls-certificate's look for an earlier attempt's certificate */
#define TLS_EARLIER	40

int
oobsp_step_tls_cert(struct oobsp_job *j)
{
	struct amtp_buf *csr = NULL;
	const char *s;
	enum amtp_pki_reason why = AMTP_PKI_OK;
	char detail[256] = "", serial[AMTP_CA_SERIAL_HEX];
	int r;

	switch (j->pc) {
	case 0:
		if (j->fqdn[0] == '\0')
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_STATE,
			    "the device's FQDN is unknown");
		j->cert_id[0] = '\0';
		j->keygen_fallback = 0;
		if (j->rerun) {
			/* an earlier attempt (or try) may have added its
			 * certificate (stopped before the step's end was
			 * logged, or its reply lost): look first, rather
			 * than leave a second one unused */
			j->pc = TLS_EARLIER;
			return oobsp_enumerate(j, PKCERT);
		}
		j->pc = TLS_DK;
		return oobsp_device_csr(j, TLS_DK, &csr);
	case TLS_EARLIER:
		return oobsp_pull_next(j, PKCERT, TLS_EARLIER + 1);
	case TLS_EARLIER + 1:
		if ((r = oobsp_reply_ok(j, PKCERT, NULL)) != 0)
			return r;
		if (find_our_cert(j, NULL) == 0 && j->web_cert != NULL &&
		    amtp_pki_cert_cn(j->web_cert, detail, sizeof(detail)) == 0 &&
		    amtp_str_eq_ci(detail, strlen(detail), j->fqdn,
		    strlen(j->fqdn))) {
			if (amtp_ca_serial_hex(j->web_cert, serial,
			    sizeof(serial)) != 0)
				amtp_strlcpy(serial, "?", sizeof(serial));
			oobsp_detail(j, "certificate %s for %s, added as \"%s\" "
			    "by an earlier attempt: kept", serial, j->fqdn,
			    j->cert_id);
			log_info("job %lld: tls-certificate: %s", (long long)
			    j->rec.id, j->detail);
			return OOBSP_OK;
		}
		j->cert_id[0] = '\0';
		X509_free(j->web_cert);
		j->web_cert = NULL;
		j->pc = TLS_DK;
		return oobsp_device_csr(j, TLS_DK, &csr);
	case 5:
		if ((r = oobsp_reply_ok(j, PK_SVC, "AddCertificate")) != 0)
			return r;
		if ((s = oobsp_epr_instance(j->resp->body, "CreatedCertificate")) ==
		    NULL || strlen(s) >= sizeof(j->cert_id))
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_PROTO,
			    PK_SVC ".AddCertificate: no CreatedCertificate");
		amtp_strlcpy(j->cert_id, s, sizeof(j->cert_id));
		if (amtp_ca_serial_hex(j->web_cert, serial,
		    sizeof(serial)) != 0)
			amtp_strlcpy(serial, "?", sizeof(serial));
		oobsp_detail(j, "certificate %s for %s added as \"%s\" (key "
		    "%s)", serial, j->fqdn, j->cert_id, j->keygen_fallback ?
		    "from the enrollment point (AddKey)" :
		    "made in the device");
		return OOBSP_OK;
	case 10:
		if ((r = oobsp_reply_ok(j, PK_SVC, "AddKey")) != 0)
			return r;
		return add_certificate(j);
	case TLS_RECORDED:
		return add_certificate(j);
	case TLS_KEY_RECORDED:
		return add_key(j);
	}
	if (j->pc < TLS_DK || j->pc >= TLS_DK + OOBSP_DK_PCS)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL,
		    "bad pc");
	/* a device that cannot make keys: the enrollment point makes one */
	if (j->pc == TLS_DK + 1 && j->rstatus == 0 &&
	    oobsp_reply_rv(j) == 2066)
		return keygen_fallback(j);
	if ((r = oobsp_device_csr(j, TLS_DK, &csr)) != OOBSP_OK)
		return r;
	X509_free(j->web_cert);
	j->web_cert = NULL;
	r = amtp_enroll_via_amt_web_csr(&j->e->via, j->dev.id,
	    amtp_buf_ptr(csr), amtp_buf_len(csr), j->fqdn, j->host,
	    &j->web_cert, &why, detail, sizeof(detail));
	amtp_buf_free(csr);
	if (r == AMTP_E_CERT)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, r, "the enrollment "
		    "point refused the device's request: %s%s%s",
		    amtp_pki_reason_str(why), detail[0] != '\0' ? ": " : "",
		    detail);
	if (r != 0)
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r,
		    "enrollment point: %s", amtp_strerror(r));
	if (j->e->via.cl == NULL && j->e->via.web_record_later) {
		j->pc = TLS_RECORDED;
		return oobsp_store_later(j, record_web_fn, 0, 0, 1);
	}
	return add_certificate(j);
}

/* ------------------------------------------------------------------ */
/* tls-enable                                                           */
/* ------------------------------------------------------------------ */

/* Finds which device certificate is ours: the newest amt-web certificate
 * the store holds for the device whose DER equals one on the device (only
 * the one with InstanceID only_id, unless NULL). */
static int
find_our_cert(struct oobsp_job *j, const char *only_id)
{
	struct amtp_cert_rec *recs = NULL, one;
	STACK_OF(X509) *chain = NULL;
	struct amtp_buf *b = NULL;
	const struct amtp_wsman_obj *it;
	const unsigned char *p;
	const char *blob, *id;
	X509 *dc;
	char *pem = NULL;
	size_t i, k, n = 0;
	int found = 0, r;

	if ((r = amtp_store_cert_list(j->e->st, j->dev.id, 0, 8, &recs, &n,
	    NULL)) != 0)
		return r;
	for (i = 0; i < n && !found; i++) {
		if (strcmp(recs[i].profile, "amt-web") != 0)
			continue;
		if (amtp_store_cert_get(j->e->st, recs[i].serial, &one,
		    &pem) != 0)
			continue;
		if (amtp_pki_chain_from_pem(pem, strlen(pem), &chain) != 0) {
			free(pem);
			pem = NULL;
			continue;
		}
		for (k = 0; k < j->resp->nitems && !found; k++) {
			it = &j->resp->items[k];
			blob = amtp_wsman_obj_text(it, "X509Certificate");
			id = amtp_wsman_obj_text(it, "InstanceID");
			if (blob == NULL || id == NULL ||
			    strlen(id) >= sizeof(j->cert_id) ||
			    (only_id != NULL && strcmp(id, only_id) != 0))
				continue;
			amtp_buf_free(b);
			if ((b = amtp_buf_new(BLOB_MAX)) == NULL)
				break;
			if (amtp_b64_decode(b, blob, strlen(blob)) != 0)
				continue;
			p = amtp_buf_ptr(b);
			if ((dc = d2i_X509(NULL, &p, (long)amtp_buf_len(b))) ==
			    NULL)
				continue;
			if (X509_cmp(dc, sk_X509_value(chain, 0)) == 0) {
				found = 1;
				amtp_strlcpy(j->cert_id, id, sizeof(j->cert_id));
				X509_free(j->web_cert);
				j->web_cert = X509_dup(sk_X509_value(chain, 0));
			}
			X509_free(dc);
		}
		amtp_pki_chain_free(chain);
		chain = NULL;
		free(pem);
		pem = NULL;
	}
	amtp_buf_free(b);
	free(recs);
	return found ? 0 : AMTP_E_NOTFOUND;
}

int
oobsp_step_tls_enable(struct oobsp_job *j)
{
	static const char *const names[] = { "Enabled",
	    "MutualAuthentication", "AcceptNonSecureConnections" };
	static const char *const values[] = { "true", "false", "false" };
	struct amtp_wsman_prop props[2];
	struct amtp_wsman_selector s1[1], s2[1], tsel[1];
	struct amtp_wsman_epr e1, e2;
	struct amtp_wsman_obj body;
	const struct amtp_wsman_obj *it;
	const char *id;
	char u1[256], u2[256];
	size_t i;
	int r;

	switch (j->pc) {
	case 0:
		j->pc = j->cert_id[0] != '\0' && j->web_cert != NULL ? 3 : 1;
		if (j->pc == 3)
			return oobsp_enumerate(j, TLSCTX);
		return oobsp_enumerate(j, PKCERT);
	case 1:
		return oobsp_pull_next(j, PKCERT, 2);
	case 2:
		if ((r = oobsp_reply_ok(j, PKCERT, NULL)) != 0)
			return r;
		if (find_our_cert(j, NULL) != 0)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT,
			    AMTP_E_NOTFOUND, "none of the device's "
			    "certificates is one this site issued for it");
		j->pc = 3;
		return oobsp_enumerate(j, TLSCTX);
	case 3:
		return oobsp_pull_next(j, TLSCTX, 4);
	case 4:
		if ((r = oobsp_reply_ok(j, TLSCTX, NULL)) != 0)
			return r;
		for (i = 0; i < j->resp->nitems; i++) {
			it = &j->resp->items[i];
			id = oobsp_epr_instance(it, "ElementInContext");
			if (id != NULL && strcmp(id, j->cert_id) == 0) {
				/* bound already (an earlier attempt) */
				j->pc = 6;
				goto settings;
			}
		}
		/*
		 * Bound to another certificate: an earlier attempt bound its
		 * own and was stopped before its end reached the log, so
		 * tls-certificate ran again and made a new one (AMT keeps one
		 * TLS context: Create would answer AlreadyExists).  Keep the
		 * bound one when this site issued it for this device.
		 */
		for (i = 0; i < j->resp->nitems; i++) {
			id = oobsp_epr_instance(&j->resp->items[i],
			    "ElementInContext");
			if (id == NULL || strlen(id) >= sizeof(j->ids[0]))
				continue;
			amtp_strlcpy(j->ids[0], id, sizeof(j->ids[0]));
			j->pc = 9;
			return oobsp_enumerate(j, PKCERT);
		}
		if ((r = oobsp_epr(&e1, s1, u1, sizeof(u1), PKCERT,
		    "InstanceID", j->cert_id)) != 0 ||
		    (r = oobsp_epr(&e2, s2, u2, sizeof(u2),
		    "AMT_TLSProtocolEndpointCollection", "ElementName",
		    TLS_COLLECTION)) != 0)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT, r, "class");
		memset(props, 0, sizeof(props));
		props[0].name = "ElementInContext";
		props[0].epr = &e1;
		props[1].name = "ElementProvidingContext";
		props[1].epr = &e2;
		memset(&body, 0, sizeof(body));
		body.props = props;
		body.nprops = 2;
		j->pc = 5;
		return oobsp_create(j, TLSCTX, &body);
	case 5:
		if ((r = oobsp_reply_ok(j, TLSCTX, NULL)) != 0)
			return r;
		j->pc = 6;
		/* FALLTHROUGH */
	case 6:
 settings:
		memset(tsel, 0, sizeof(tsel));
		tsel[0].name = "InstanceID";
		tsel[0].value = TLS_REMOTE;
		j->pc = 7;
		return oobsp_get(j, TLSSET, tsel, 1);
	case 7:
		if ((r = oobsp_reply_ok(j, TLSSET, NULL)) != 0)
			return r;
		amtp_wsman_response_free(j->saved);
		j->saved = j->resp;
		j->resp = NULL;
		j->pc = 8;
		memset(tsel, 0, sizeof(tsel));
		tsel[0].name = "InstanceID";
		tsel[0].value = TLS_REMOTE;
		return oobsp_put_modified(j, TLSSET, tsel, 1, names, values,
		    3);
	case 8:
		if ((r = oobsp_reply_ok(j, TLSSET, NULL)) != 0)
			return r;
		amtp_wsman_response_free(j->saved);
		j->saved = NULL;
		oobsp_detail(j, "TLS bound to \"%s\" and enabled (takes effect "
		    "at commit)", j->cert_id);
		return OOBSP_OK;
	case 9:
		return oobsp_pull_next(j, PKCERT, 10);
	case 10:
		if ((r = oobsp_reply_ok(j, PKCERT, NULL)) != 0)
			return r;
		if (find_our_cert(j, j->ids[0]) != 0)
			return oobsp_fail(j, OOBSP_FAIL_PERMANENT,
			    AMTP_E_CONFLICT, "the device's TLS context is bound "
			    "to \"%s\", which is not a certificate this site "
			    "issued for it", j->ids[0]);
		log_info("job %lld: TLS context already bound to \"%s\" (an "
		    "earlier attempt's certificate): kept",
		    (long long)j->rec.id, j->cert_id);
		j->pc = 6;
		goto settings;
	}
	return bad_pc(j);
}
