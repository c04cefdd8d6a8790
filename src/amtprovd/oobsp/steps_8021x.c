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
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/log.h"
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
		    oobsp_epr_instance(j->resp->body,
		    "CreatedCertificate"),
		    "AddTrustedRootCertificate")) != 0)
			return r;
		goto client;
	case 2:
		return oobsp_pull_next(j, PKCERT, base + 3);
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
		    oobsp_epr_instance(j->resp->body,
		    "CreatedCertificate"), "AddCertificate")) != 0)
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

/* ------------------------------------------------------------------ */
/* the certificates of replaced profiles                                */
/* ------------------------------------------------------------------ */

#define CREDCTX		"CIM_CredentialContext"
#define KEYPAIR		"AMT_PublicPrivateKeyPair"
#define KEY_PFX		"Intel(r) AMT Key:"

static int
is_true(const char *v)
{
	return v != NULL && strcasecmp(v, "true") == 0;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n, m;

	if (s == NULL)
		return 0;
	n = strlen(s);
	m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void
prune_add(struct oobsp_job *j, const char *id)
{
	size_t i;

	if (id == NULL || id[0] == '\0' || strlen(id) >= sizeof(j->prune[0]))
		return;
	for (i = 0; i < j->nprune; i++)
		if (strcmp(j->prune[i], id) == 0)
			return;
	if (j->nprune >= OOBSP_IDS_MAX) {
		/* not silent: it stays on the device */
		log_warnx("job %lld: more than %d certificates and keys to "
		    "delete: \"%s\" is kept", (long long)j->rec.id,
		    OOBSP_IDS_MAX, id);
		return;
	}
	amtp_strlcpy(j->prune[j->nprune++], id, sizeof(j->prune[0]));
}

/* Removes id from the candidates; 1 when it was one. */
static int
prune_drop(struct oobsp_job *j, const char *id)
{
	size_t i;

	for (i = 0; i < j->nprune; i++)
		if (id != NULL && strcmp(j->prune[i], id) == 0) {
			if (i + 1 < j->nprune)
				memmove(j->prune[i], j->prune[i + 1],
				    (j->nprune - i - 1) * sizeof(j->prune[0]));
			j->nprune--;
			return 1;
		}
	return 0;
}

static int
is_candidate(const struct oobsp_job *j, const char *id)
{
	size_t i;

	for (i = 0; i < j->nprune; i++)
		if (id != NULL && strcmp(j->prune[i], id) == 0)
			return 1;
	return 0;
}

/* A credential context's certificate (ElementInContext, a reference to
 * AMT_PublicKeyCertificate) and the resource URI of what it serves. */
static const char *
ctx_cert(const struct amtp_wsman_obj *it, const char **pc_uri)
{
	const struct amtp_wsman_prop *eic, *epc;

	*pc_uri = NULL;
	eic = amtp_wsman_obj_prop(it, "ElementInContext", 0);
	epc = amtp_wsman_obj_prop(it, "ElementProvidingContext", 0);
	if (eic == NULL || eic->epr == NULL ||
	    !ends_with(eic->epr->resource_uri, "/" PKCERT))
		return NULL;
	if (epc != NULL && epc->epr != NULL)
		*pc_uri = epc->epr->resource_uri;
	return amtp_wsman_epr_selector(eic->epr, "InstanceID");
}

/* The public key of a certificate given as base64 DER. */
static EVP_PKEY *
b64_cert_key(const char *blob)
{
	struct amtp_buf *b;
	const unsigned char *p;
	EVP_PKEY *k = NULL;
	X509 *x;

	if (blob == NULL || (b = amtp_buf_new(BLOB_MAX)) == NULL)
		return NULL;
	if (amtp_b64_decode(b, blob, strlen(blob)) == 0) {
		p = amtp_buf_ptr(b);
		if ((x = d2i_X509(NULL, &p, (long)amtp_buf_len(b))) != NULL) {
			if ((k = X509_get0_pubkey(x)) != NULL &&
			    EVP_PKEY_up_ref(k) != 1)
				k = NULL;
			X509_free(x);
		}
	}
	amtp_buf_free(b);
	return k;
}

/* 1 when a key pair's DERKey (PKCS#1 RSAPublicKey, or SPKI) is k. */
static int
derkey_is(const char *derkey, EVP_PKEY *k)
{
	struct amtp_buf *b;
	const unsigned char *p;
	EVP_PKEY *dk = NULL;
	int eq = 0;

	if (derkey == NULL || (b = amtp_buf_new(BLOB_MAX)) == NULL)
		return 0;
	if (amtp_b64_decode(b, derkey, strlen(derkey)) == 0) {
		p = amtp_buf_ptr(b);
		dk = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p,
		    (long)amtp_buf_len(b));
		if (dk == NULL) {
			p = amtp_buf_ptr(b);
			dk = d2i_PUBKEY(NULL, &p, (long)amtp_buf_len(b));
		}
		eq = dk != NULL && EVP_PKEY_eq(dk, k) == 1;
	}
	EVP_PKEY_free(dk);
	amtp_buf_free(b);
	return eq;
}

int
oobsp_8021x_links(struct oobsp_job *j, enum oobsp_links which, int base)
{
	const char *id, *uri;
	size_t i;
	int r;

	switch (j->pc - base) {
	case 0:
		j->pc = base + 1;
		return oobsp_enumerate(j, CREDCTX);
	case 1:
		if (oobsp_reply_unreachable(j))
			return OOBSP_OK;	/* no associations: no links */
		return oobsp_pull_next(j, CREDCTX, base + 2);
	case 2:
		if ((r = oobsp_reply_ok(j, CREDCTX, NULL)) != 0)
			return r;
		for (i = 0; i < j->resp->nitems; i++) {
			if ((id = ctx_cert(&j->resp->items[i], &uri)) == NULL)
				continue;
			if (which == OOBSP_LINKS_WIFI ?
			    ends_with(uri, "/CIM_IEEE8021xSettings") :
			    (ends_with(uri, "/IPS_IEEE8021xSettings") ||
			    ends_with(uri, "/AMT_8021XProfile")))
				prune_add(j, id);
		}
		return OOBSP_OK;
	}
	return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL, "bad pc");
}

/* After the Pull of the key pairs (j->resp), with the certificates in
 * j->saved: adds the keys of the candidate client certificates that no
 * other (kept) certificate shares. */
static void
prune_add_keys(struct oobsp_job *j)
{
	const struct amtp_wsman_obj *c, *o;
	const char *id;
	EVP_PKEY *k, *ok;
	size_t n0 = j->nprune, i, m, kk;
	int shared;

	for (i = 0; i < n0; i++)
		for (m = 0; m < j->saved->nitems; m++) {
			c = &j->saved->items[m];
			id = amtp_wsman_obj_text(c, "InstanceID");
			if (id == NULL || strcmp(id, j->prune[i]) != 0)
				continue;
			if (is_true(amtp_wsman_obj_text(c,
			    "TrustedRootCertficate")) ||
			    is_true(amtp_wsman_obj_text(c,
			    "TrustedRootCertificate")) ||
			    (k = b64_cert_key(amtp_wsman_obj_text(c,
			    "X509Certificate"))) == NULL)
				break;
			shared = 0;
			for (kk = 0; kk < j->saved->nitems && !shared; kk++) {
				o = &j->saved->items[kk];
				if (is_candidate(j, amtp_wsman_obj_text(o,
				    "InstanceID")))
					continue;
				ok = b64_cert_key(amtp_wsman_obj_text(o,
				    "X509Certificate"));
				shared = ok != NULL && EVP_PKEY_eq(ok, k) == 1;
				EVP_PKEY_free(ok);
			}
			for (kk = 0; kk < j->resp->nitems && !shared; kk++)
				if (derkey_is(amtp_wsman_obj_text(
				    &j->resp->items[kk], "DERKey"), k))
					prune_add(j, amtp_wsman_obj_text(
					    &j->resp->items[kk], "InstanceID"));
			EVP_PKEY_free(k);
			break;
		}
}

/*
 * After the Pull of the key pairs (j->resp): drops the key candidates the
 * device no longer has, and puts the keys before the certificates, so that
 * a try cut short after a certificate went (its answer lost) has deleted
 * its key already: the key is found through its certificate only.
 */
static void
prune_keys_first(struct oobsp_job *j)
{
	char tmp[OOBSP_ID_MAX + 1];
	size_t i, k, m;
	int found;

	for (i = j->nprune; i-- > 0; ) {
		if (strncmp(j->prune[i], KEY_PFX, sizeof(KEY_PFX) - 1) != 0)
			continue;
		found = 0;
		for (m = 0; m < j->resp->nitems && !found; m++) {
			const char *id = amtp_wsman_obj_text(&j->resp->items[m],
			    "InstanceID");

			found = id != NULL && strcmp(id, j->prune[i]) == 0;
		}
		if (!found)
			(void)prune_drop(j, j->prune[i]);
	}
	for (i = 0, k = 0; i < j->nprune; i++) {
		if (strncmp(j->prune[i], KEY_PFX, sizeof(KEY_PFX) - 1) != 0)
			continue;
		if (i != k) {
			/* stable: shift the certificates k..i-1 up by one */
			memcpy(tmp, j->prune[i], sizeof(tmp));
			memmove(j->prune[k + 1], j->prune[k],
			    (i - k) * sizeof(j->prune[0]));
			memcpy(j->prune[k], tmp, sizeof(tmp));
		}
		k++;
	}
}

int
oobsp_8021x_prune(struct oobsp_job *j, int base)
{
	struct amtp_wsman_selector sel[1];
	const struct amtp_wsman_obj *it;
	const char *id, *uri, *cls;
	size_t i, m;
	int r, found;

	switch (j->pc - base) {
	case 0:
		j->pruned = j->prune_kept = 0;
		if (j->nprune == 0)
			return OOBSP_OK;
		j->pc = base + 1;
		return oobsp_enumerate(j, CREDCTX);
	case 1:
		if (oobsp_reply_unreachable(j)) {
			j->nprune = 0;	/* cannot tell what is in use */
			return OOBSP_OK;
		}
		return oobsp_pull_next(j, CREDCTX, base + 2);
	case 2:
		if ((r = oobsp_reply_ok(j, CREDCTX, NULL)) != 0)
			return r;
		/* still linked (TLS, another profile, the new ones): kept */
		for (i = 0; i < j->resp->nitems; i++)
			if (prune_drop(j, ctx_cert(&j->resp->items[i], &uri)))
				j->prune_kept++;
		if (j->nprune == 0)
			return OOBSP_OK;
		j->pc = base + 3;
		return oobsp_enumerate(j, PKCERT);
	case 3:
		return oobsp_pull_next(j, PKCERT, base + 4);
	case 4:
		if ((r = oobsp_reply_ok(j, PKCERT, NULL)) != 0)
			return r;
		amtp_wsman_response_free(j->saved);
		j->saved = j->resp;
		j->resp = NULL;
		/* gone already, or read-only (AMT's own): not ours to delete
		 * (key candidates, left by a failed try, are checked with the
		 * key pairs) */
		for (i = j->nprune; i-- > 0; ) {
			if (strncmp(j->prune[i], KEY_PFX,
			    sizeof(KEY_PFX) - 1) == 0)
				continue;
			found = 0;
			for (m = 0; m < j->saved->nitems && !found; m++) {
				it = &j->saved->items[m];
				id = amtp_wsman_obj_text(it, "InstanceID");
				if (id == NULL || strcmp(id, j->prune[i]) != 0)
					continue;
				found = is_true(amtp_wsman_obj_text(it,
				    "ReadOnlyCertificate")) ? 2 : 1;
			}
			if (found != 1) {
				if (found == 2)
					j->prune_kept++;
				(void)prune_drop(j, j->prune[i]);
			}
		}
		if (j->nprune == 0) {
			amtp_wsman_response_free(j->saved);
			j->saved = NULL;
			return OOBSP_OK;
		}
		j->pc = base + 5;
		return oobsp_enumerate(j, KEYPAIR);
	case 5:
		return oobsp_pull_next(j, KEYPAIR, base + 6);
	case 6:
		if ((r = oobsp_reply_ok(j, KEYPAIR, NULL)) != 0)
			return r;
		if (j->saved != NULL)
			prune_add_keys(j);
		amtp_wsman_response_free(j->saved);
		j->saved = NULL;
		prune_keys_first(j);
		j->pidx = 0;
		/* FALLTHROUGH */
	case 7:
		if (j->pidx >= j->nprune) {
			j->nprune = 0;
			return OOBSP_OK;
		}
		cls = strncmp(j->prune[j->pidx], KEY_PFX,
		    sizeof(KEY_PFX) - 1) == 0 ? KEYPAIR : PKCERT;
		memset(sel, 0, sizeof(sel));
		sel[0].name = "InstanceID";
		sel[0].value = j->prune[j->pidx];
		j->pc = base + 8;
		return oobsp_delete(j, cls, sel, 1);
	case 8:
		cls = strncmp(j->prune[j->pidx], KEY_PFX,
		    sizeof(KEY_PFX) - 1) == 0 ? KEYPAIR : PKCERT;
		if (j->rstatus == AMTP_E_SOAP_FAULT && j->resp != NULL)
			j->prune_kept++;	/* AMT refuses: in use */
		else if ((r = oobsp_reply_ok(j, cls, NULL)) != 0)
			return r;
		else
			j->pruned++;
		j->pidx++;
		j->pc = base + 7;
		return oobsp_8021x_prune(j, base);
	}
	return oobsp_fail(j, OOBSP_FAIL_PERMANENT, AMTP_E_INTERNAL, "bad pc");
}
