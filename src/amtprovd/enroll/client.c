/*
 * amtprov - enroll/client.c: the request encoding of the enroll socket and
 * the client that the other roles (the service point) use to ask the
 * enrollment point for certificates (see client.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/ipc.h"
#include "amtprov/limits.h"
#include "amtprov/pki.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "enroll/client.h"
#include "enroll/enroll.h"

#define CLIENT_TIMEOUT_MS	30000

struct amtp_enroll_client {
	char		 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int		 timeout_ms;
	int		 fd;		/* -1 after a failure: reconnect */
	unsigned long	 nreq;		/* answered on this connection */
};

/* ---- request encoding ---------------------------------------------- */

const char *
amtp_enroll_req_name(uint32_t type)
{
	switch (type) {
	case AMTP_IPC_ENROLL_AMT_WEB_CSR:
		return "amt-web-csr";
	case AMTP_IPC_ENROLL_AMT_WEB_KEYGEN:
		return "amt-web-keygen";
	case AMTP_IPC_ENROLL_8021X_CSR:
		return "802.1x-csr";
	case AMTP_IPC_ENROLL_8021X_KEYGEN:
		return "802.1x-keygen";
	case AMTP_IPC_ENROLL_CHAIN:
		return "chain";
	case AMTP_IPC_ENROLL_PROV_KEY:
		return "prov-key";
	default:
		return "unknown";
	}
}

static int
is_csr_req(uint32_t type)
{
	return type == AMTP_IPC_ENROLL_AMT_WEB_CSR ||
	    type == AMTP_IPC_ENROLL_8021X_CSR;
}

static int
is_dev_req(uint32_t type)
{
	return is_csr_req(type) || type == AMTP_IPC_ENROLL_AMT_WEB_KEYGEN ||
	    type == AMTP_IPC_ENROLL_8021X_KEYGEN;
}

int
amtp_enroll_decode_req(uint32_t type, struct amtp_buf *b,
    struct amtp_enroll_req *out)
{
	uint64_t id;
	uint32_t n;

	memset(out, 0, sizeof(out[0]));
	if (amtp_buf_len(b) > AMTP_ENROLL_REQ_MAX)
		return AMTP_E_PROTO;
	if (type == AMTP_IPC_ENROLL_CHAIN || type == AMTP_IPC_ENROLL_PROV_KEY) {
		if (amtp_buf_len(b) != 0)
			return AMTP_E_PROTO;
		out->type = type;
		return 0;
	}
	if (!is_dev_req(type))
		return AMTP_E_PROTO;
	if (amtp_buf_get_u64le(b, &id) != 0 || id == 0 || id > INT64_MAX)
		return AMTP_E_PROTO;
	if (is_csr_req(type)) {
		if (amtp_buf_get_u32le(b, &n) != 0 || n == 0 ||
		    n > AMTP_CSR_MAX || n != amtp_buf_len(b))
			return AMTP_E_PROTO;
		out->csr = amtp_buf_ptr(b);
		out->csrlen = n;
		(void)amtp_buf_consume(b, n);
	} else if (amtp_buf_len(b) != 0)
		return AMTP_E_PROTO;
	out->type = type;
	out->device_id = (int64_t)id;
	return 0;
}

int
amtp_enroll_encode_req(const struct amtp_enroll_req *req, struct amtp_buf *b)
{
	int r;

	if (req->type == AMTP_IPC_ENROLL_CHAIN ||
	    req->type == AMTP_IPC_ENROLL_PROV_KEY)
		return 0;
	if (!is_dev_req(req->type) || req->device_id <= 0)
		return AMTP_E_INVAL;
	if ((r = amtp_buf_put_u64le(b, (uint64_t)req->device_id)) != 0)
		return r;
	if (!is_csr_req(req->type))
		return 0;
	if (req->csr == NULL || req->csrlen == 0 || req->csrlen > AMTP_CSR_MAX)
		return AMTP_E_INVAL;
	if ((r = amtp_buf_put_u32le(b, (uint32_t)req->csrlen)) != 0)
		return r;
	return amtp_buf_put(b, req->csr, req->csrlen);
}

/* ---- the connection -------------------------------------------------- */

static int
client_open(struct amtp_enroll_client *cl)
{
	struct sockaddr_un sun;
	struct timeval tv;
	int fd, r;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return AMTP_E_IO;
	tv.tv_sec = cl->timeout_ms / 1000;
	tv.tv_usec = (cl->timeout_ms % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1) {
		r = AMTP_E_IO;
		goto fail;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	amtp_strlcpy(sun.sun_path, cl->path, sizeof(sun.sun_path));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			r = AMTP_E_NOTFOUND;
		else if (errno == EACCES || errno == EPERM)
			r = AMTP_E_PERM;
		else if (errno == EAGAIN || errno == EINPROGRESS)
			r = AMTP_E_TIMEOUT;
		else
			r = AMTP_E_IO;
		goto fail;
	}
	cl->fd = fd;
	cl->nreq = 0;
	return 0;
 fail:
	(void)close(fd);
	return r;
}

static void
client_drop(struct amtp_enroll_client *cl)
{
	if (cl->fd >= 0)
		(void)close(cl->fd);
	cl->fd = -1;
}

int
amtp_enroll_connect(const char *path, int timeout_ms,
    struct amtp_enroll_client **out)
{
	struct amtp_enroll_client *cl = NULL;
	int r;

	*out = NULL;
	if (path == NULL || *path == '\0' || timeout_ms < 0)
		return AMTP_E_INVAL;
	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return AMTP_E_NOMEM;
	cl->fd = -1;
	cl->timeout_ms = timeout_ms == 0 ? CLIENT_TIMEOUT_MS : timeout_ms;
	if (amtp_strlcpy(cl->path, path, sizeof(cl->path)) >=
	    sizeof(cl->path)) {
		r = AMTP_E_TOOBIG;
		goto out;
	}
	if ((r = client_open(cl)) != 0)
		goto out;
	*out = cl;
	cl = NULL;
	r = 0;
 out:
	free(cl);
	return r;
}

void
amtp_enroll_client_free(struct amtp_enroll_client *cl)
{
	if (cl == NULL)
		return;
	client_drop(cl);
	free(cl);
}

/* One frame out, one in, on the open connection. */
static int
exchange(struct amtp_enroll_client *cl, uint32_t type, const void *data,
    size_t len, uint32_t *atype, struct amtp_buf **ans)
{
	int r;

	if ((r = amtp_ipc_send(cl->fd, type, data, len)) != 0)
		return r;
	errno = 0;
	r = amtp_ipc_recv(cl->fd, AMTP_IPC_FRAME_MAX, AMTP_IPC_ENROLL__MAX,
	    atype, ans);
	if (r == AMTP_E_IO && errno == EAGAIN)
		r = AMTP_E_TIMEOUT;
	return r;
}

int
amtp_enroll_client_raw(struct amtp_enroll_client *cl, uint32_t type,
    const void *data, size_t len, uint32_t *atype, struct amtp_buf **ans)
{
	int r;

	*atype = 0;
	*ans = NULL;
	if (cl->fd < 0 && (r = client_open(cl)) != 0)
		return r;
	if ((r = exchange(cl, type, data, len, atype, ans)) != 0) {
		client_drop(cl);
		return r;
	}
	cl->nreq++;
	return 0;
}

/*
 * Sends a request and reads its answer.  When a connection that has been
 * used already turns out closed (the enrollment point ended it as idle or
 * at its request limit), it is reopened and the request sent once more:
 * at worst a certificate is issued twice, and both are recorded.
 */
static int
roundtrip(struct amtp_enroll_client *cl, const struct amtp_enroll_req *req,
    uint32_t *atype, struct amtp_buf **ans)
{
	struct amtp_buf *b = NULL;
	unsigned long used;
	int r;

	*atype = 0;
	*ans = NULL;
	if ((b = amtp_buf_new(AMTP_ENROLL_REQ_MAX)) == NULL)
		return AMTP_E_NOMEM;
	if ((r = amtp_enroll_encode_req(req, b)) != 0)
		goto out;
	used = cl->fd >= 0 ? cl->nreq : 0;
	r = amtp_enroll_client_raw(cl, req->type, amtp_buf_ptr(b),
	    amtp_buf_len(b), atype, ans);
	if (r == AMTP_E_CLOSED && used > 0)
		r = amtp_enroll_client_raw(cl, req->type, amtp_buf_ptr(b),
		    amtp_buf_len(b), atype, ans);
 out:
	amtp_buf_free(b);
	return r;
}

/* The code of an ERROR answer (a negative AMTP_E_*), else AMTP_E_PROTO. */
static int
error_code(struct amtp_buf *ans)
{
	uint32_t code;

	if (amtp_buf_get_u32le(ans, &code) == 0 && amtp_buf_len(ans) == 0 &&
	    (int32_t)code < 0 && (int32_t)code > AMTP_E__MAX)
		return (int32_t)code;
	return AMTP_E_PROTO;
}

static int
parse_cert(const uint8_t *p, size_t len, X509 **out)
{
	const unsigned char *q = p;
	X509 *x;

	*out = NULL;
	if (len == 0 || len > AMTP_IPC_FRAME_MAX)
		return AMTP_E_PROTO;
	if ((x = d2i_X509(NULL, &q, (long)len)) == NULL || q != p + len) {
		X509_free(x);
		ERR_clear_error();
		return AMTP_E_PROTO;
	}
	*out = x;
	return 0;
}

/* REFUSED: u8 reason | printable detail. */
static int
parse_refused(struct amtp_buf *ans, enum amtp_pki_reason *reason,
    char *detail, size_t detailsz)
{
	uint8_t why;
	size_t i, n;
	const uint8_t *p;

	if (amtp_buf_get_u8(ans, &why) != 0 || why == AMTP_PKI_OK ||
	    why >= AMTP_PKI__MAX ||
	    (n = amtp_buf_len(ans)) > AMTP_ENROLL_DETAIL_MAX)
		return AMTP_E_PROTO;
	p = amtp_buf_ptr(ans);
	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return AMTP_E_PROTO;
	*reason = (enum amtp_pki_reason)why;
	if (detail != NULL && detailsz > 0) {
		if (n >= detailsz)
			n = detailsz - 1;
		memcpy(detail, p, n);
		detail[n] = '\0';
	}
	return AMTP_E_CERT;
}

static int
csr_request(struct amtp_enroll_client *cl, uint32_t type, int64_t device_id,
    const void *csr, size_t len, X509 **out, enum amtp_pki_reason *reason,
    char *detail, size_t detailsz)
{
	struct amtp_enroll_req req;
	struct amtp_buf *ans = NULL;
	uint32_t atype;
	int r;

	*out = NULL;
	*reason = AMTP_PKI_OK;
	if (detail != NULL && detailsz > 0)
		detail[0] = '\0';
	if (csr == NULL || len == 0 || device_id <= 0)
		return AMTP_E_INVAL;
	if (len > AMTP_CSR_MAX) {
		*reason = AMTP_PKI_CSR_TOO_BIG;
		return AMTP_E_CERT;
	}
	memset(&req, 0, sizeof(req));
	req.type = type;
	req.device_id = device_id;
	req.csr = csr;
	req.csrlen = len;
	if ((r = roundtrip(cl, &req, &atype, &ans)) != 0)
		return r;
	switch (atype) {
	case AMTP_IPC_ENROLL_CERT:
		r = parse_cert(amtp_buf_ptr(ans), amtp_buf_len(ans), out);
		break;
	case AMTP_IPC_ENROLL_REFUSED:
		r = parse_refused(ans, reason, detail, detailsz);
		break;
	case AMTP_IPC_ENROLL_ERROR:
		r = error_code(ans);
		break;
	default:
		r = AMTP_E_PROTO;
	}
	if (r == AMTP_E_PROTO)
		client_drop(cl);
	amtp_buf_free(ans);
	return r;
}

static int
keygen_request(struct amtp_enroll_client *cl, uint32_t type,
    int64_t device_id, X509 **out, EVP_PKEY **key)
{
	struct amtp_enroll_req req;
	struct amtp_buf *ans = NULL;
	struct amtp_secret *pem = NULL;
	X509 *cert = NULL;
	uint32_t atype, n;
	int r;

	*out = NULL;
	*key = NULL;
	if (device_id <= 0)
		return AMTP_E_INVAL;
	memset(&req, 0, sizeof(req));
	req.type = type;
	req.device_id = device_id;
	if ((r = roundtrip(cl, &req, &atype, &ans)) != 0)
		return r;
	if (atype == AMTP_IPC_ENROLL_ERROR) {
		r = error_code(ans);
		goto out;
	}
	r = AMTP_E_PROTO;
	if (atype != AMTP_IPC_ENROLL_CERT_KEY ||
	    amtp_buf_get_u32le(ans, &n) != 0 || n == 0 ||
	    n >= amtp_buf_len(ans))
		goto out;
	if ((r = parse_cert(amtp_buf_ptr(ans), n, &cert)) != 0)
		goto out;
	(void)amtp_buf_consume(ans, n);
	if ((r = amtp_secret_new(amtp_buf_ptr(ans), amtp_buf_len(ans),
	    &pem)) != 0)
		goto out;
	if (amtp_pki_key_from_secret(pem, key) != 0) {
		r = AMTP_E_PROTO;
		goto out;
	}
	if (X509_check_private_key(cert, *key) != 1) {
		ERR_clear_error();
		EVP_PKEY_free(*key);
		*key = NULL;
		r = AMTP_E_PROTO;
		goto out;
	}
	*out = cert;
	cert = NULL;
	r = 0;
 out:
	if (r == AMTP_E_PROTO)
		client_drop(cl);
	X509_free(cert);
	amtp_secret_free(pem);
	amtp_buf_free(ans);	/* wiped: it held the key */
	return r;
}

int
amtp_enroll_client_amt_web_csr(struct amtp_enroll_client *cl,
    int64_t device_id, const void *csr, size_t len, X509 **out,
    enum amtp_pki_reason *reason, char *detail, size_t detailsz)
{
	return csr_request(cl, AMTP_IPC_ENROLL_AMT_WEB_CSR, device_id, csr,
	    len, out, reason, detail, detailsz);
}

int
amtp_enroll_client_8021x_csr(struct amtp_enroll_client *cl,
    int64_t device_id, const void *csr, size_t len, X509 **out,
    enum amtp_pki_reason *reason, char *detail, size_t detailsz)
{
	return csr_request(cl, AMTP_IPC_ENROLL_8021X_CSR, device_id, csr,
	    len, out, reason, detail, detailsz);
}

int
amtp_enroll_client_amt_web_keygen(struct amtp_enroll_client *cl,
    int64_t device_id, X509 **out, EVP_PKEY **key)
{
	return keygen_request(cl, AMTP_IPC_ENROLL_AMT_WEB_KEYGEN, device_id,
	    out, key);
}

int
amtp_enroll_client_8021x_keygen(struct amtp_enroll_client *cl,
    int64_t device_id, X509 **out, EVP_PKEY **key)
{
	return keygen_request(cl, AMTP_IPC_ENROLL_8021X_KEYGEN, device_id,
	    out, key);
}

int
amtp_enroll_client_chain(struct amtp_enroll_client *cl, STACK_OF(X509) **out)
{
	struct amtp_enroll_req req;
	struct amtp_buf *ans = NULL;
	uint32_t atype;
	int r;

	*out = NULL;
	memset(&req, 0, sizeof(req));
	req.type = AMTP_IPC_ENROLL_CHAIN;
	if ((r = roundtrip(cl, &req, &atype, &ans)) != 0)
		return r;
	if (atype == AMTP_IPC_ENROLL_ERROR)
		r = error_code(ans);
	else if (atype != AMTP_IPC_ENROLL_CHAIN_PEM ||
	    amtp_pki_chain_from_pem(amtp_buf_ptr(ans), amtp_buf_len(ans),
	    out) != 0)
		r = AMTP_E_PROTO;
	if (r == AMTP_E_PROTO)
		client_drop(cl);
	amtp_buf_free(ans);
	return r;
}

/* ---- either way ---------------------------------------------------------- */

/* The enrollment point's certificate must name what the caller expects. */
static int
check_cn(X509 **cert, EVP_PKEY **key, const char *want)
{
	char cn[AMTP_DNS_NAME_MAX + 1];

	if (amtp_pki_cert_cn(*cert, cn, sizeof(cn)) == 0 &&
	    amtp_str_eq_ci(cn, strlen(cn), want, strlen(want)))
		return 0;
	X509_free(*cert);
	*cert = NULL;
	if (key != NULL) {
		EVP_PKEY_free(*key);
		*key = NULL;
	}
	return AMTP_E_MISMATCH;
}

int
amtp_enroll_via_amt_web_csr(const struct amtp_enroll_via *v,
    int64_t device_id, const void *csr, size_t len, const char *fqdn,
    const char *host, X509 **out, enum amtp_pki_reason *reason,
    char *detail, size_t detailsz)
{
	int r;

	*out = NULL;
	*reason = AMTP_PKI_OK;
	if (v->cl == NULL && v->web_record_later)
		return amtp_enroll_amt_web_csr_unrecorded(v->sg, device_id,
		    csr, len, fqdn, host, out, reason, detail, detailsz);
	if (v->cl == NULL)
		return amtp_enroll_amt_web_csr(v->sg, v->st, device_id, csr,
		    len, fqdn, host, out, reason, detail, detailsz);
	if (fqdn == NULL)
		return AMTP_E_INVAL;
	if ((r = amtp_enroll_client_amt_web_csr(v->cl, device_id, csr, len,
	    out, reason, detail, detailsz)) != 0)
		return r;
	return check_cn(out, NULL, fqdn);
}

int
amtp_enroll_via_amt_web_keygen(const struct amtp_enroll_via *v,
    int64_t device_id, const char *fqdn, const char *host, X509 **out,
    EVP_PKEY **key)
{
	int r;

	*out = NULL;
	*key = NULL;
	if (v->cl == NULL && v->web_record_later)
		return amtp_enroll_amt_web_keygen_unrecorded(v->sg, device_id,
		    fqdn, host, out, key);
	if (v->cl == NULL)
		return amtp_enroll_amt_web_keygen(v->sg, v->st, device_id,
		    fqdn, host, out, key);
	if (fqdn == NULL)
		return AMTP_E_INVAL;
	if ((r = amtp_enroll_client_amt_web_keygen(v->cl, device_id, out,
	    key)) != 0)
		return r;
	return check_cn(out, key, fqdn);
}

int
amtp_enroll_via_8021x_csr(const struct amtp_enroll_via *v,
    int64_t device_id, const void *csr, size_t len, const char *identity,
    X509 **out, enum amtp_pki_reason *reason, char *detail, size_t detailsz)
{
	int r;

	*out = NULL;
	*reason = AMTP_PKI_OK;
	if (v->cl == NULL)
		return amtp_enroll_8021x_csr(v->sg, v->st, device_id, csr, len,
		    identity, out, reason, detail, detailsz);
	if (identity == NULL)
		return AMTP_E_INVAL;
	if ((r = amtp_enroll_client_8021x_csr(v->cl, device_id, csr, len,
	    out, reason, detail, detailsz)) != 0)
		return r;
	return check_cn(out, NULL, identity);
}

int
amtp_enroll_via_8021x_keygen(const struct amtp_enroll_via *v,
    int64_t device_id, const char *identity, X509 **out, EVP_PKEY **key)
{
	int r;

	*out = NULL;
	*key = NULL;
	if (v->cl == NULL)
		return amtp_enroll_8021x_keygen(v->sg, v->st, device_id,
		    identity, out, key);
	if (identity == NULL)
		return AMTP_E_INVAL;
	if ((r = amtp_enroll_client_8021x_keygen(v->cl, device_id, out,
	    key)) != 0)
		return r;
	return check_cn(out, key, identity);
}
