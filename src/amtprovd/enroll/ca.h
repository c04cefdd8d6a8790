/*
 * amtprov - enroll/ca.h: the built-in certificate authority (role enroll).
 *
 * A site has a root and an issuing intermediate, made once by site setup
 * (amtp_ca_create) in the site directory:
 *
 *   ca-root.pem            the site root certificate (20 years)
 *   ca-root.key.sealed     its key, sealed with the master key (AAD "ca:root")
 *   ca-inter.pem           the issuing intermediate (10 years, pathlen 0)
 *   ca-inter.key.sealed    its key (AAD "ca:inter")
 *   ca-chain.pem           intermediate then root: what verifiers trust
 *
 * The root key is used only by amtp_ca_create(); everything is issued by the
 * intermediate.  Keys are RSA-2048 (AMT rejects larger keys in its chains on
 * older firmware), signatures SHA-256, serials 127 random bits.
 *
 * Only the signer process (signer.c) holds a struct amtp_ca: the roles that
 * talk to the network reach it through struct amtp_signer (signer.h), which
 * is either that process over a socket or, in tests and in the CLI, a
 * struct amtp_ca in the same process.
 *
 * The provisioning certificate (what the service point presents on the TLS
 * setup session) lives next to it, made by one of two calls:
 *
 *   prov-chain.pem         leaf, intermediate(s), root (the order AMT wants)
 *   prov-key.sealed        the leaf key, sealed (AAD "prov:key"), base64
 *   prov-root.sha256       the root's SHA-256 (hex and a newline): the hash
 *                          devices must hold in firmware
 *
 * amtp_ca_make_lab_provisioning_chain() makes a lab chain of its own (a lab
 * root, an intermediate, a leaf with serverAuth and the AMT OID and CN
 * "amtprov-prov.<domain>") and writes lab-root.pem and lab-root.sha256 as
 * well, for simulated devices to trust.  amtp_ca_import_provisioning_p12()
 * imports a purchased certificate instead, after checking every rule.
 */
#ifndef AMTPROVD_ENROLL_CA_H
#define AMTPROVD_ENROLL_CA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "amtprov/pki.h"

struct amtp_ca;
struct amtp_master_key;
struct amtp_secret;
struct amtp_store;

/* What a certificate is for; fixes its extensions and validity. */
enum amtp_ca_profile {
	AMTP_CA_AMT_WEB = 0,	/* "amt-web": AMT TLS server, serverAuth */
	AMTP_CA_8021X,		/* "802.1x": client certificate, clientAuth */
	AMTP_CA_SERVER,		/* "server": the site server's own TLS */
	AMTP_CA_PROFILE__MAX
};

/* "amt-web", "802.1x", "server"; NULL out of range. */
const char *amtp_ca_profile_name(enum amtp_ca_profile p);

#define AMTP_CA_NAMES_MAX	8	/* DNS names (and IPs) in one request */

/*
 * A request to sign, after every check (the signer checks only the form).
 * pub is the subject's public key (RSA 2048 for AMT_WEB, 2048..4096 else).
 */
struct amtp_ca_req {
	enum amtp_ca_profile profile;
	const char *cn;				/* subject CN */
	const char *dns[AMTP_CA_NAMES_MAX];	/* SAN DNS names */
	size_t ndns;
	const char *ips[AMTP_CA_NAMES_MAX];	/* SAN IP addresses (text) */
	size_t nips;
	EVP_PKEY *pub;
	/* pub as parsed from a request (may be NULL): the signer's request
	 * carries its DER as it came (i2d_X509_PUBKEY), not pub encoded
	 * again through OpenSSL 3's encoders (~0.1 ms) */
	X509_PUBKEY *spki;
};

/*
 * Creates the site CA in dir (which must exist).  site names the
 * organisation in the subjects (may be NULL: "amtprov site").  AMTP_E_EXISTS
 * when ca-root.pem is there already (a CA is never overwritten).  err (may
 * be NULL) gets a sentence for the administrator.
 */
int amtp_ca_create(const char *dir, const struct amtp_master_key *mk,
    const char *site, char *err, size_t errlen);

/* Loads the CA of dir: both certificates and the intermediate's key. */
int amtp_ca_load(const char *dir, const struct amtp_master_key *mk,
    struct amtp_ca **out, char *err, size_t errlen);
void amtp_ca_free(struct amtp_ca *ca);

/* The chain verifiers trust: a new stack (intermediate, root). */
int amtp_ca_chain(const struct amtp_ca *ca, STACK_OF(X509) **out);

/* Checks the form of req (names are printable DNS names, IPs parse, key
 * size fits the profile) and issues the certificate.  0, AMTP_E_INVAL,
 * AMTP_E_RANGE (key size), AMTP_E_CRYPTO, AMTP_E_NOMEM. */
int amtp_ca_sign(struct amtp_ca *ca, const struct amtp_ca_req *req,
    X509 **out);

/* Lower-case hex serial of cert into hex (hexsz >= AMTP_CA_SERIAL_HEX). */
#define AMTP_CA_SERIAL_HEX	65
int amtp_ca_serial_hex(X509 *cert, char *hex, size_t hexsz);

/*
 * Writes the lab provisioning chain and key into dir (see above) and, when
 * sha256hex is not NULL, copies the lab root's SHA-256 there (65 bytes).
 * domain is the fleet's DNS domain (at least two labels).  AMTP_E_EXISTS when
 * a provisioning certificate is there already.
 */
int amtp_ca_make_lab_provisioning_chain(const char *dir,
    const struct amtp_master_key *mk, const char *domain, char *sha256hex,
    char *err, size_t errlen);

/*
 * Imports a PKCS#12 provisioning certificate (key and whole chain) into dir
 * after checking the rules that do not depend on a device: a chain that
 * ends in a self-signed root and verifies, validity at now, serverAuth,
 * the AMT OID or OU, a single CN, and, when domain is not NULL, the CN
 * against domain by the DNS suffix rule.  AMTP_E_CERT with *reason and a
 * sentence in err when a rule fails; AMTP_E_AUTH for a wrong password.
 */
int amtp_ca_import_provisioning_p12(const char *dir,
    const struct amtp_master_key *mk, const char *p12path,
    const struct amtp_secret *password, const char *domain, time_t now,
    enum amtp_pki_reason *reason, char *err, size_t errlen);

/*
 * Loads the provisioning key (opened) and chain of dir, for the service
 * point.  It hands them to libcurl as blobs (CURLOPT_SSLCERT_BLOB with the
 * chain PEM and CURLOPT_SSLKEY_BLOB with the key PEM), so that the key is
 * never written in clear to disk.
 */
int amtp_ca_load_provisioning(const char *dir, const struct amtp_master_key *mk,
    struct amtp_secret **key_pem, STACK_OF(X509) **chain);

/*
 * Records an issued certificate in the site database (profile name, subject,
 * validity, serial; key, when not NULL, is sealed by the store).
 * device_id 0 when the certificate is bound to no device.
 */
int amtp_ca_record(struct amtp_store *st, X509 *cert,
    enum amtp_ca_profile profile, int64_t device_id, EVP_PKEY *key);

#endif
