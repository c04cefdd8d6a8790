/*
 * amtprov - enroll/enroll.c: certificate requests of the other roles, checked
 * and passed to the signer (role enroll).
 */
#include <arpa/inet.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/pki.h"

#include "enroll/ca.h"
#include "enroll/enroll.h"
#include "enroll/signer.h"
#include "store/store.h"

/* Checks csr with pol, then signs its key for req (names already set). */
static int
sign_csr(struct amtp_signer *sg, struct amtp_store *st,
    int64_t device_id, const void *csr, size_t len,
    const struct amtp_csr_policy *pol, struct amtp_ca_req *req, X509 **out,
    enum amtp_pki_reason *reason, char *detail, size_t detailsz)
{
	X509_REQ *x = NULL;
	int r;

	if ((r = amtp_pki_csr_check(csr, len, pol, &x, reason, detail,
	    detailsz)) != 0)
		return r;
	/* A reference the request keeps; freed with it. */
	req->pub = X509_REQ_get0_pubkey(x);
	req->spki = X509_REQ_get_X509_PUBKEY(x);
	if ((r = amtp_signer_sign(sg, req, out)) == 0 && st != NULL &&
	    (r = amtp_ca_record(st, *out, req->profile, device_id, NULL)) != 0) {
		X509_free(*out);
		*out = NULL;
	}
	X509_REQ_free(x);
	req->pub = NULL;
	req->spki = NULL;
	return r;
}

static void
amt_names(struct amtp_ca_req *req, enum amtp_ca_profile p, const char *fqdn,
    const char *host)
{
	memset(req, 0, sizeof(*req));
	req->profile = p;
	req->cn = fqdn;
	req->dns[req->ndns++] = fqdn;
	if (host != NULL && *host != '\0')
		req->dns[req->ndns++] = host;
}

/* st NULL: not recorded (the *_unrecorded calls). */
static int
web_csr(struct amtp_signer *sg, struct amtp_store *st, int64_t device_id,
    const void *csr, size_t len, const char *fqdn, const char *host,
    X509 **out, enum amtp_pki_reason *reason, char *detail, size_t detailsz)
{
	struct amtp_csr_policy pol = { AMTP_RSA_AMT_BITS, AMTP_RSA_AMT_BITS,
	    fqdn, host };
	struct amtp_ca_req req;

	*out = NULL;
	*reason = AMTP_PKI_OK;
	if (fqdn == NULL)
		return AMTP_E_INVAL;
	amt_names(&req, AMTP_CA_AMT_WEB, fqdn, host);
	return sign_csr(sg, st, device_id, csr, len, &pol, &req, out, reason,
	    detail, detailsz);
}

int
amtp_enroll_amt_web_csr(struct amtp_signer *sg, struct amtp_store *st,
    int64_t device_id, const void *csr, size_t len,
    const char *fqdn, const char *host, X509 **out,
    enum amtp_pki_reason *reason, char *detail, size_t detailsz)
{
	if (st == NULL) {
		*out = NULL;
		*reason = AMTP_PKI_OK;
		return AMTP_E_INVAL;
	}
	return web_csr(sg, st, device_id, csr, len, fqdn, host, out, reason,
	    detail, detailsz);
}

int
amtp_enroll_amt_web_csr_unrecorded(struct amtp_signer *sg, int64_t device_id,
    const void *csr, size_t len, const char *fqdn, const char *host,
    X509 **out, enum amtp_pki_reason *reason, char *detail, size_t detailsz)
{
	return web_csr(sg, NULL, device_id, csr, len, fqdn, host, out, reason,
	    detail, detailsz);
}

static int
keygen_sign(struct amtp_signer *sg, struct amtp_store *st,
    int64_t device_id, struct amtp_ca_req *req, X509 **out,
    EVP_PKEY **key)
{
	EVP_PKEY *k = NULL;
	int r;

	*out = NULL;
	*key = NULL;
	if ((r = amtp_pki_rsa_generate(AMTP_RSA_AMT_BITS, &k)) != 0)
		return r;
	req->pub = k;
	if ((r = amtp_signer_sign(sg, req, out)) != 0 || (st != NULL &&
	    (r = amtp_ca_record(st, *out, req->profile, device_id, k)) != 0)) {
		X509_free(*out);
		*out = NULL;
		EVP_PKEY_free(k);
		return r;
	}
	*key = k;
	return 0;
}

/* st NULL: not recorded (the *_unrecorded call). */
static int
web_keygen(struct amtp_signer *sg, struct amtp_store *st, int64_t device_id,
    const char *fqdn, const char *host, X509 **out, EVP_PKEY **key)
{
	struct amtp_ca_req req;

	*out = NULL;
	*key = NULL;
	if (fqdn == NULL)
		return AMTP_E_INVAL;
	amt_names(&req, AMTP_CA_AMT_WEB, fqdn, host);
	return keygen_sign(sg, st, device_id, &req, out, key);
}

int
amtp_enroll_amt_web_keygen(struct amtp_signer *sg, struct amtp_store *st,
    int64_t device_id, const char *fqdn,
    const char *host, X509 **out, EVP_PKEY **key)
{
	if (st == NULL) {
		*out = NULL;
		*key = NULL;
		return AMTP_E_INVAL;
	}
	return web_keygen(sg, st, device_id, fqdn, host, out, key);
}

int
amtp_enroll_amt_web_keygen_unrecorded(struct amtp_signer *sg,
    int64_t device_id, const char *fqdn, const char *host, X509 **out,
    EVP_PKEY **key)
{
	return web_keygen(sg, NULL, device_id, fqdn, host, out, key);
}

int
amtp_enroll_8021x_csr(struct amtp_signer *sg, struct amtp_store *st,
    int64_t device_id, const void *csr, size_t len,
    const char *identity, X509 **out, enum amtp_pki_reason *reason,
    char *detail, size_t detailsz)
{
	struct amtp_csr_policy pol = { AMTP_RSA_AMT_BITS, AMTP_RSA_MAX_BITS,
	    identity, NULL };
	struct amtp_ca_req req;

	*out = NULL;
	*reason = AMTP_PKI_OK;
	if (identity == NULL || st == NULL)
		return AMTP_E_INVAL;
	amt_names(&req, AMTP_CA_8021X, identity, NULL);
	return sign_csr(sg, st, device_id, csr, len, &pol, &req, out, reason, detail,
	    detailsz);
}

int
amtp_enroll_8021x_keygen(struct amtp_signer *sg, struct amtp_store *st,
    int64_t device_id, const char *identity,
    X509 **out, EVP_PKEY **key)
{
	struct amtp_ca_req req;

	*out = NULL;
	*key = NULL;
	if (identity == NULL || st == NULL)
		return AMTP_E_INVAL;
	amt_names(&req, AMTP_CA_8021X, identity, NULL);
	return keygen_sign(sg, st, device_id, &req, out, key);
}

int
amtp_enroll_server(struct amtp_signer *sg, struct amtp_store *st,
    int64_t device_id, const char *const *names, size_t n,
    X509 **out, EVP_PKEY **key)
{
	struct amtp_ca_req req;
	uint8_t a[16];
	size_t i;

	*out = NULL;
	*key = NULL;
	if (names == NULL || n == 0 || n > AMTP_CA_NAMES_MAX || st == NULL)
		return AMTP_E_INVAL;
	memset(&req, 0, sizeof(req));
	req.profile = AMTP_CA_SERVER;
	req.cn = names[0];
	for (i = 0; i < n; i++) {
		if (inet_pton(AF_INET, names[i], a) == 1 ||
		    inet_pton(AF_INET6, names[i], a) == 1)
			req.ips[req.nips++] = names[i];
		else
			req.dns[req.ndns++] = names[i];
	}
	/* An IP address is no CN: use the first DNS name when there is one,
	 * else "localhost" keeps the CN a host name. */
	if (req.ndns > 0)
		req.cn = req.dns[0];
	else
		req.cn = "localhost";
	return keygen_sign(sg, st, device_id, &req, out, key);
}
