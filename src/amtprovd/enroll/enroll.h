/*
 * amtprov - enroll/enroll.h: what the enrollment point does for the other
 * roles (role enroll, outside the key process).
 *
 * Each call checks its input (a device's CSR is untrusted: every rule of
 * amtp_pki_csr_check applies), asks the signer for the certificate, and
 * records it in the site database st (amtp_ca_record; a generated key is
 * stored with it, sealed by the store) before handing it out: a certificate
 * that could not be recorded is not returned.  device_id binds the record to
 * a device (0: none).
 *
 * Usage (service point, step 6):
 *	r = amtp_enroll_amt_web_csr(sg, st, dev, csr, csrlen, fqdn, host,
 *	    &cert, &why, detail, sizeof(detail));
 *	if (r == AMTP_E_CERT) refuse: amtp_pki_reason_str(why), detail
 */
#ifndef AMTPROVD_ENROLL_ENROLL_H
#define AMTPROVD_ENROLL_ENROLL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "amtprov/pki.h"

struct amtp_signer;
struct amtp_store;

/*
 * AMT web-server certificate from a CSR the device made
 * (GeneratePKCS10RequestEx): RSA-2048 exactly, subject CN = fqdn, SAN may
 * name fqdn and host.  The certificate gets CN fqdn and SAN DNS fqdn (and
 * host when not NULL).  AMTP_E_CERT with *reason when the request breaks a
 * rule.
 */
int amtp_enroll_amt_web_csr(struct amtp_signer *sg, struct amtp_store *st,
    int64_t device_id, const void *csr,
    size_t len, const char *fqdn, const char *host, X509 **out,
    enum amtp_pki_reason *reason, char *detail, size_t detailsz);

/* The same for a device that cannot make keys: a new RSA-2048 key is made
 * here and returned in *key. */
int amtp_enroll_amt_web_keygen(struct amtp_signer *sg, struct amtp_store *st,
    int64_t device_id, const char *fqdn,
    const char *host, X509 **out, EVP_PKEY **key);

/* The two above without the record: the caller must record the certificate
 * (and the key) with amtp_ca_record() before it hands the certificate out
 * (the service point does, in its batched commit, before AddCertificate). */
int amtp_enroll_amt_web_csr_unrecorded(struct amtp_signer *sg,
    int64_t device_id, const void *csr, size_t len, const char *fqdn,
    const char *host, X509 **out, enum amtp_pki_reason *reason,
    char *detail, size_t detailsz);
int amtp_enroll_amt_web_keygen_unrecorded(struct amtp_signer *sg,
    int64_t device_id, const char *fqdn, const char *host, X509 **out,
    EVP_PKEY **key);

/* 802.1X client certificate for identity (the device FQDN) from a CSR
 * (RSA 2048..4096) or with a new key. */
int amtp_enroll_8021x_csr(struct amtp_signer *sg, struct amtp_store *st,
    int64_t device_id, const void *csr,
    size_t len, const char *identity, X509 **out,
    enum amtp_pki_reason *reason, char *detail, size_t detailsz);
int amtp_enroll_8021x_keygen(struct amtp_signer *sg, struct amtp_store *st,
    int64_t device_id, const char *identity,
    X509 **out, EVP_PKEY **key);

/* The site server's TLS certificate: CN names[0], SAN every name (DNS names
 * and IP addresses are told apart), a new RSA-2048 key. */
int amtp_enroll_server(struct amtp_signer *sg, struct amtp_store *st,
    int64_t device_id, const char *const *names,
    size_t n, X509 **out, EVP_PKEY **key);

/*
 * The enrollment point role (role.c): serves the requests of client.h on a
 * local socket for every service point of the site.  enroll_main() is the
 * role's entry (amtprovd main.c); 0 after SIGTERM/SIGINT, 1 on a setup
 * failure or when the signer process is gone.
 */
struct amtp_conf;
int enroll_main(const struct amtp_conf *c);

/* What enroll_serve() needs besides its descriptors. */
struct enroll_serve_cfg {
	const char	*dns_domain;	/* oob.dns_domain (FQDN of a device
					 * recorded with a host name only) */
	uid_t		 uid;		/* peers of this uid are allowed */
	long long	 allowed_uid;	/* and of this one; -1: none */
	int		 max_requests;	/* answers per connection */
	int		 idle_ms;	/* idle connection closed after */
	int		 max_conns;	/* <= AMTP_ENROLL_CONN_MAX */
	int		 frame_ms;	/* a begun frame or a queued answer
					 * must be through within (0:
					 * AMTP_ENROLL_FRAME_MS) */
};

/*
 * Creates the listening socket at path: made under umask 077, mode 0600;
 * a socket left by an earlier run is replaced.  AMTP_E_BUSY when an
 * enrollment point answers there, AMTP_E_EXISTS when a file that is no
 * socket is there, AMTP_E_TOOBIG for a path longer than sun_path.
 */
int enroll_listen(const char *path, int *fd);

/*
 * Serves lfd until SIGTERM or SIGINT is pending (the caller blocks them):
 * checks each peer's uid, answers the fixed request table with sg and st,
 * drops a misbehaving peer and goes on.  0, or -1 when the signer is gone
 * or poll fails.
 */
int enroll_serve(int lfd, const struct enroll_serve_cfg *cfg,
    struct amtp_signer *sg, struct amtp_store *st);

#endif
