/*
 * amtprov - enroll/client.h: the enrollment point's local socket, its fixed
 * request table and the client the other roles use to reach it (role
 * enroll and its clients, e.g. the service point).
 *
 * The enroll role (role.c, enroll_main) listens on an AF_UNIX stream socket
 * (enroll.socket, mode 0600, peers checked with SO_PEERCRED).  Frames are
 * those of ipc.h (u32 type | u32 length | payload, little-endian); a request
 * is at most AMTP_ENROLL_REQ_MAX bytes, an answer at most
 * AMTP_IPC_FRAME_MAX.  Requests (everything else drops the peer):
 *
 *   AMT_WEB_CSR     i64 device | u32 n | n bytes CSR (DER or PEM, 1..16 KiB)
 *                   -> CERT | REFUSED | ERROR
 *   AMT_WEB_KEYGEN  i64 device                      -> CERT_KEY | ERROR
 *   8021X_CSR       i64 device | u32 n | n bytes CSR -> CERT | REFUSED | ERROR
 *   8021X_KEYGEN    i64 device                      -> CERT_KEY | ERROR
 *   CHAIN           (empty)                         -> CHAIN_PEM | ERROR
 *   PROV_KEY        in the table, never permitted: asking drops the peer
 *
 * The peer names only the device (its id in the site database) and, for the
 * CSR requests, gives the device's CSR: the names in the certificate come
 * from the site database, never from the peer.  Answers:
 *
 *   CERT       the certificate, DER
 *   CERT_KEY   u32 n | n bytes certificate DER | the key, PKCS#8 PEM
 *   CHAIN_PEM  the CA chain (intermediate, root), PEM
 *   REFUSED    u8 enum amtp_pki_reason | the detail, printable text
 *   ERROR      i32 AMTP_E_* code (no such device, no FQDN, signer gone ...)
 */
#ifndef AMTPROVD_ENROLL_CLIENT_H
#define AMTPROVD_ENROLL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "amtprov/limits.h"
#include "amtprov/pki.h"

struct amtp_buf;
struct amtp_enroll_client;
struct amtp_signer;
struct amtp_store;

/* The enroll socket channel (see ipc.h for the frame). */
enum amtp_ipc_enroll {
	AMTP_IPC_ENROLL_NONE = 0,
	AMTP_IPC_ENROLL_AMT_WEB_CSR,	/* request */
	AMTP_IPC_ENROLL_AMT_WEB_KEYGEN,	/* request */
	AMTP_IPC_ENROLL_8021X_CSR,	/* request */
	AMTP_IPC_ENROLL_8021X_KEYGEN,	/* request */
	AMTP_IPC_ENROLL_CHAIN,		/* request */
	AMTP_IPC_ENROLL_PROV_KEY,	/* request, never permitted */
	AMTP_IPC_ENROLL_CERT,		/* answer */
	AMTP_IPC_ENROLL_CERT_KEY,	/* answer */
	AMTP_IPC_ENROLL_CHAIN_PEM,	/* answer */
	AMTP_IPC_ENROLL_REFUSED,	/* answer */
	AMTP_IPC_ENROLL_ERROR,		/* answer */
	AMTP_IPC_ENROLL__MAX
};


/* A decoded request; csr points into the frame it was decoded from. */
struct amtp_enroll_req {
	uint32_t	 type;
	int64_t		 device_id;
	const uint8_t	*csr;
	size_t		 csrlen;
};

/* "amt-web-csr", ... for type; "unknown" out of range. */
const char *amtp_enroll_req_name(uint32_t type);

/*
 * Decodes the payload of a request frame of type type (the whole of b must
 * be the request; b is consumed).  0, or AMTP_E_PROTO for a malformed
 * request or a type that is no request (answers included).  Matched by
 * amtp_enroll_encode_req().
 */
int amtp_enroll_decode_req(uint32_t type, struct amtp_buf *b,
    struct amtp_enroll_req *out);
/* Appends the payload of req to b.  AMTP_E_INVAL for a bad request. */
int amtp_enroll_encode_req(const struct amtp_enroll_req *req,
    struct amtp_buf *b);

/*
 * Connects to the enroll socket path; every later call waits at most
 * timeout_ms for the socket (0: 30 s).  AMTP_E_NOTFOUND when nothing
 * listens there (no socket file, or connection refused), AMTP_E_PERM when
 * it may not be opened, AMTP_E_TOOBIG when path does not fit a sockaddr_un.
 */
int amtp_enroll_connect(const char *path, int timeout_ms,
    struct amtp_enroll_client **out);
void amtp_enroll_client_free(struct amtp_enroll_client *cl);

/*
 * The requests, mirroring enroll.h: the enrollment point checks the CSR with
 * every rule of amtp_pki_csr_check against the device's FQDN in the site
 * database, issues, records the certificate and answers.  AMTP_E_CERT with
 * *reason and detail when it refuses the CSR; the AMTP_E_* code of its
 * ERROR answer (AMTP_E_NOTFOUND: no such device; AMTP_E_STATE: the device
 * has no FQDN); AMTP_E_CLOSED, AMTP_E_TIMEOUT, AMTP_E_PROTO when the
 * channel fails (the client is then closed; the next call reconnects).
 * A connection the enrollment point closed while idle (timeout, request
 * limit) is reopened once and the request sent again.
 */
int amtp_enroll_client_amt_web_csr(struct amtp_enroll_client *cl,
    int64_t device_id, const void *csr, size_t len, X509 **out,
    enum amtp_pki_reason *reason, char *detail, size_t detailsz);
int amtp_enroll_client_amt_web_keygen(struct amtp_enroll_client *cl,
    int64_t device_id, X509 **out, EVP_PKEY **key);
int amtp_enroll_client_8021x_csr(struct amtp_enroll_client *cl,
    int64_t device_id, const void *csr, size_t len, X509 **out,
    enum amtp_pki_reason *reason, char *detail, size_t detailsz);
int amtp_enroll_client_8021x_keygen(struct amtp_enroll_client *cl,
    int64_t device_id, X509 **out, EVP_PKEY **key);
/* The site CA chain (intermediate, root), a new stack. */
int amtp_enroll_client_chain(struct amtp_enroll_client *cl,
    STACK_OF(X509) **out);

/*
 * Either way to certificates, so that a role (the service point) makes the
 * same calls whether it has a signer of its own or shares the site's
 * enrollment point: set sg and st (enroll.h checks and records here), or cl
 * (the enrollment point checks and records; the names come from its site
 * database, and the certificate's CN must equal fqdn/identity here too:
 * AMTP_E_MISMATCH when the two disagree).  The calls mirror enroll.h:
 *
 *	r = amtp_enroll_via_amt_web_csr(&via, dev, csr, len, fqdn, host,
 *	    &cert, &why, detail, sizeof(detail));
 */
struct amtp_enroll_via {
	struct amtp_signer		*sg;	/* own signer ... */
	struct amtp_store		*st;	/* ... and the site database */
	struct amtp_enroll_client	*cl;	/* or the enrollment point */
	int				 web_record_later;	/* with sg:
					 * the AMT web calls do not record
					 * (enroll.h, *_unrecorded: the caller
					 * does) */
};

int amtp_enroll_via_amt_web_csr(const struct amtp_enroll_via *v,
    int64_t device_id, const void *csr, size_t len, const char *fqdn,
    const char *host, X509 **out, enum amtp_pki_reason *reason,
    char *detail, size_t detailsz);
int amtp_enroll_via_amt_web_keygen(const struct amtp_enroll_via *v,
    int64_t device_id, const char *fqdn, const char *host, X509 **out,
    EVP_PKEY **key);
int amtp_enroll_via_8021x_csr(const struct amtp_enroll_via *v,
    int64_t device_id, const void *csr, size_t len, const char *identity,
    X509 **out, enum amtp_pki_reason *reason, char *detail,
    size_t detailsz);
int amtp_enroll_via_8021x_keygen(const struct amtp_enroll_via *v,
    int64_t device_id, const char *identity, X509 **out, EVP_PKEY **key);

/*
 * One frame out, one frame in, as given (tests and tools that check how the
 * enrollment point treats a bad peer).  *ans is the answer's payload;
 * AMTP_E_CLOSED when the enrollment point dropped us.
 */
int amtp_enroll_client_raw(struct amtp_enroll_client *cl, uint32_t type,
    const void *data, size_t len, uint32_t *atype, struct amtp_buf **ans);

#endif
