/*
 * amtprov - oobsp/steps_8021x.c: the certificates of an 802.1X profile on
 * an AMT device (role oobsp, second stage): the RADIUS server's root with
 * AddTrustedRootCertificate (found among the device's certificates when it
 * is there already: DUPLICATE), and for EAP-TLS a client certificate whose
 * key the device makes (GenerateKeyPair, GeneratePKCS10RequestEx), issued
 * by the enrollment point for the device's FQDN (amtp_enroll_8021x_csr) and
 * stored with AddCertificate.  Used by the wifi and wired-8021x steps.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/pki.h"
#include "amtprov/str.h"
#include "amtprov/wsman.h"

#include "enroll/client.h"
#include "enroll/enroll.h"
#include "oobsp/oobsp.h"
#include "oobsp/oobsp_int.h"

#define PK_SVC		"AMT_PublicKeyManagementService"
#define PKCERT		"AMT_PublicKeyCertificate"
/* Where the sub-steps sit in the pc range: the root 0..3, the device's
 * key and request 4..8 (oobsp_device_csr), AddCertificate's reply 9. */
#define XC_DK		(base + 4)
#define BLOB_MAX	(16 * 1024)
#define XC_ADD		9

static const char *
created_id(const struct oobsp_job *j, const char *name)
{
	const struct amtp_wsman_prop *p;

	if (j->resp == NULL || j->resp->body == NULL ||
	    (p = amtp_wsman_obj_prop(j->resp->body, name, 0)) == NULL ||
	    p->epr == NULL)
		return NULL;
	return amtp_wsman_epr_selector(p->epr, "InstanceID");
}

static int
copy_id(struct oobsp_job *j, char *dst, size_t dstsz, const char *id,
    const char *what)
{
	if (id == NULL || strlen(id) >= dstsz)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_PROTO,
		    "%s: no certificate reference in the reply", what);
	amtp_strlcpy(dst, id, dstsz);
	return 0;
}

static int
invoke_blob(struct oobsp_job *j, const char *method, const char *name,
    const unsigned char *der, int len)
{
	struct amtp_wsman_prop in[1];
	struct amtp_buf *b;
	int r;

	if ((b = amtp_buf_new((size_t)len * 2 + 16)) == NULL ||
	    amtp_b64_encode(b, der, (size_t)len) != 0) {
		amtp_buf_free(b);
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, AMTP_E_NOMEM,
		    "out of memory");
	}
	memset(in, 0, sizeof(in));
	in[0].name = name;
	in[0].text = amtp_buf_str(b);
	r = oobsp_invoke(j, PK_SVC, method, in, 1, NULL, 0);
	amtp_buf_free(b);
	return r;
}

static int
cert_invoke(struct oobsp_job *j, const char *method, X509 *x)
{
	unsigned char *der = NULL;
	int len, r;

	if ((len = i2d_X509(x, &der)) <= 0)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_CRYPTO,
		    "certificate encoding");
	r = invoke_blob(j, method, "CertificateBlob", der, len);
	OPENSSL_free(der);
	return r;
}

/* The device's certificate equal to x, from a Pull of PKCERT. */
static const char *
find_on_device(const struct oobsp_job *j, X509 *x)
{
	const struct amtp_wsman_obj *it;
	struct amtp_buf *b = NULL;
	const unsigned char *p;
	const char *blob, *id, *found = NULL;
	X509 *dc;
	size_t i;

	for (i = 0; i < j->resp->nitems && found == NULL; i++) {
		it = &j->resp->items[i];
		blob = amtp_wsman_obj_text(it, "X509Certificate");
		id = amtp_wsman_obj_text(it, "InstanceID");
		if (blob == NULL || id == NULL)
			continue;
		amtp_buf_free(b);
		if ((b = amtp_buf_new(BLOB_MAX)) == NULL)
			break;
		if (amtp_b64_decode(b, blob, strlen(blob)) != 0)
			continue;
		p = amtp_buf_ptr(b);
		if ((dc = d2i_X509(NULL, &p, (long)amtp_buf_len(b))) == NULL)
			continue;
		if (X509_cmp(dc, x) == 0)
			found = id;
		X509_free(dc);
	}
	amtp_buf_free(b);
	return found;
}

int
oobsp_8021x_certs(struct oobsp_job *j, int k, int base)
{
	const struct oobsp_8021x *x = &j->e->pol->x8021[k];
	struct amtp_buf *csr = NULL;
	enum amtp_pki_reason why = AMTP_PKI_OK;
	char detail[256] = "";
	X509 *cert = NULL;
	long long rv;
	int r;

	switch (j->pc - base) {
	case 0:
		j->root_id[0] = j->client_id[0] = '\0';
		if (x->ca != NULL) {
			j->pc = base + 1;
			return cert_invoke(j, "AddTrustedRootCertificate", x->ca);
		}
		goto client;
	case 1:
		rv = oobsp_reply_rv(j);
		if (j->rstatus == 0 && rv == 2058) {	/* DUPLICATE */
			j->pc = base + 2;
			return oobsp_enumerate(j, PKCERT);
		}
		if ((r = oobsp_reply_ok(j, PK_SVC,
		    "AddTrustedRootCertificate")) != 0)
			return r;
		if ((r = copy_id(j, j->root_id, sizeof(j->root_id),
		    created_id(j, "CreatedCertificate"),
		    "AddTrustedRootCertificate")) != 0)
			return r;
		goto client;
	case 2:
		if ((r = oobsp_reply_ok(j, PKCERT, NULL)) != 0)
			return r;
		amtp_strlcpy(j->enum_ctx, j->resp->enum_context != NULL ?
		    j->resp->enum_context : "", sizeof(j->enum_ctx));
		j->pc = base + 3;
		return oobsp_pull(j, PKCERT);
	case 3:
		if ((r = oobsp_reply_ok(j, PKCERT, NULL)) != 0)
			return r;
		if ((r = copy_id(j, j->root_id, sizeof(j->root_id),
		    find_on_device(j, x->ca), "802.1X root (DUPLICATE)")) != 0)
			return r;
 client:
		if (!x->client_cert)
			return OOBSP_OK;
		j->pc = XC_DK;
		return oobsp_device_csr(j, XC_DK, &csr);
	case XC_ADD:
		if ((r = oobsp_reply_ok(j, PK_SVC, "AddCertificate")) != 0)
			return r;
		if ((r = copy_id(j, j->client_id, sizeof(j->client_id),
		    created_id(j, "CreatedCertificate"), "AddCertificate")) != 0)
			return r;
		return OOBSP_OK;
	}
	if (j->pc < XC_DK || j->pc >= XC_DK + OOBSP_DK_PCS)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL,
		    "bad pc");
	if ((r = oobsp_device_csr(j, XC_DK, &csr)) != OOBSP_OK)
		return r;
	r = amtp_enroll_via_8021x_csr(&j->e->via, j->dev.id,
	    amtp_buf_ptr(csr), amtp_buf_len(csr), j->fqdn, &cert, &why, detail,
	    sizeof(detail));
	amtp_buf_free(csr);
	if (r == AMTP_E_CERT)
		return oobsp_fail(j, OOBSP_FAIL_PERMANENT, r, "the enrollment "
		    "point refused the device's 802.1X request: %s%s%s",
		    amtp_pki_reason_str(why), detail[0] != '\0' ? ": " : "",
		    detail);
	if (r != 0)
		return oobsp_fail(j, OOBSP_FAIL_TRANSIENT, r,
		    "enrollment point: %s", amtp_strerror(r));
	j->pc = base + XC_ADD;
	r = cert_invoke(j, "AddCertificate", cert);
	X509_free(cert);
	return r;
}
