/*
 * amtprov - enroll/signer.h: the CA key process and how the other roles
 * reach it (role enroll).
 *
 * The intermediate CA key lives in a process of its own (STYLE.md sections 6
 * and 8) that parses nothing from the network: requests come from the enroll
 * role, which has already parsed and checked the device's CSR and sends only
 * what the signer needs, in a fixed form, over a socketpair:
 *
 *   AMTP_IPC_SIGNER_SIGN   u8 profile | u8 ndns | u8 nips |
 *                          str cn | ndns * str | nips * str |
 *                          u32 spki_len | spki (DER SubjectPublicKeyInfo)
 *                          (str = u16 LE length, bytes; no NUL; at most
 *                          AMTP_DNS_NAME_MAX)
 *                          -> AMTP_IPC_SIGNER_CERT (DER) or _ERROR (i32)
 *   AMTP_IPC_SIGNER_CHAIN  (empty) -> AMTP_IPC_SIGNER_CHAIN_PEM
 *
 * Anything else, or a malformed request, ends the signer: the peer is
 * broken, and a broken peer is not argued with.
 */
#ifndef AMTPROVD_ENROLL_SIGNER_H
#define AMTPROVD_ENROLL_SIGNER_H

#include <sys/types.h>

#include <openssl/x509.h>

#include "enroll/ca.h"

struct amtp_buf;
struct amtp_signer;

/*
 * The signer process: answers requests on fd with ca until the peer closes
 * fd (returns 0) or misbehaves (logs it and returns -1; the caller then
 * exits, e.g. _exit(1), without talking to the peer again).  ca is
 * borrowed.  Matched by the amtp_signer_* client calls below.
 */
int signer_main(int fd, struct amtp_ca *ca);

/*
 * Forks the signer: a socketpair, the child runs signer_main() on its end
 * and _exits; the parent gets the child's pid and its own end in *fd.  The
 * caller (the parent) should free its copy of ca afterwards: only the child
 * needs the key.
 */
int amtp_signer_spawn(struct amtp_ca *ca, pid_t *pid, int *fd);

/*
 * What the signer child does to itself before it serves (called by
 * amtp_signer_spawn; public for its test): keeps only *fd (moved to 3) and
 * stdio, not dumpable, no core files, no new privileges, and no filesystem
 * access through Landlock when the kernel has it.  0 or -1.
 */
int amtp_signer_narrow(int *fd);

/* A signer reached over fd (takes fd; closed by amtp_signer_free). */
int amtp_signer_remote(int fd, struct amtp_signer **out);
/* A signer in this process (tests, the CLI at site setup); ca is borrowed. */
int amtp_signer_local(struct amtp_ca *ca, struct amtp_signer **out);
void amtp_signer_free(struct amtp_signer *s);

/* Signs req (see ca.h); the answer is a new certificate.  Errors from the
 * signer come back as its AMTP_E_* code; AMTP_E_CLOSED when it is gone. */
int amtp_signer_sign(struct amtp_signer *s, const struct amtp_ca_req *req,
    X509 **out);
/* The CA chain (intermediate, root) as a new stack. */
int amtp_signer_chain(struct amtp_signer *s, STACK_OF(X509) **out);

/* The SIGN request encoding, shared by both sides (and the fuzz target).
 * Decoding fills req with pointers into names[] and a new key in req->pub
 * (free with EVP_PKEY_free).  AMTP_E_PROTO for a malformed request. */
struct amtp_signer_names {
	char cn[AMTP_DNS_NAME_MAX + 1];
	char dns[AMTP_CA_NAMES_MAX][AMTP_DNS_NAME_MAX + 1];
	char ips[AMTP_CA_NAMES_MAX][AMTP_DNS_NAME_MAX + 1];
};
int amtp_signer_encode_req(const struct amtp_ca_req *req, struct amtp_buf *b);
int amtp_signer_decode_req(struct amtp_buf *b, struct amtp_signer_names *names,
    struct amtp_ca_req *req);

#endif
