/*
 * amtprov - enroll/ca.c: the built-in certificate authority (role enroll;
 * its keys are used only in the signer process, see signer.c).
 *
 * Creates the site root and intermediate, issues certificates for the
 * profiles of enum amtp_ca_profile, makes the lab provisioning chain and
 * imports a purchased provisioning certificate.  See ca.h for the files.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/pki.h"
#include "amtprov/rand.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

#include "enroll/ca.h"
#include "store/store.h"

struct amtp_ca {
	X509		*root;
	X509		*inter;
	EVP_PKEY	*inter_key;
};

#define ONE_DAY		(24L * 3600)
/* Issued certificates start an hour back, for clocks that lag. */
#define BACKDATE	3600L
/* A sealed key file: base64 of a sealed PEM key. */
#define SEALED_FILE_MAX	(2 * AMTP_SECRET_MAX + 64)

static const char *const profile_names[AMTP_CA_PROFILE__MAX] = {
	"amt-web", "802.1x", "server"
};

const char *
amtp_ca_profile_name(enum amtp_ca_profile p)
{
	if ((unsigned)p >= AMTP_CA_PROFILE__MAX)
		return NULL;
	return profile_names[p];
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);	/* a cut sentence is fine */
	va_end(ap);
}

static int
path_join(char *dst, size_t dstsz, const char *dir, const char *name)
{
	int n = snprintf(dst, dstsz, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= dstsz)
		return AMTP_E_TOOBIG;
	return 0;
}

/* Creates path (which must not exist) with mode and writes data. */
static int
write_excl(const char *path, const void *data, size_t len, mode_t mode)
{
	const uint8_t *p = data;
	ssize_t w;
	int fd, r = AMTP_E_IO;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) == -1)
		return errno == EEXIST ? AMTP_E_EXISTS : AMTP_E_IO;
	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto out;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) == -1)
		goto out;
	r = 0;
 out:
	if (close(fd) == -1 && r == 0)
		r = AMTP_E_IO;
	if (r != 0)
		(void)unlink(path);
	return r;
}

static int
write_certs(const char *dir, const char *name, STACK_OF(X509) *sk)
{
	char path[PATH_MAX];
	struct amtp_buf *b = NULL;
	int r;

	if ((r = path_join(path, sizeof(path), dir, name)) != 0)
		return r;
	if ((b = amtp_buf_new(AMTP_PKI_PEM_MAX)) == NULL)
		return AMTP_E_NOMEM;
	if ((r = amtp_pki_chain_to_pem(sk, b)) == 0)
		r = write_excl(path, amtp_buf_ptr(b), amtp_buf_len(b), 0644);
	amtp_buf_free(b);
	return r;
}

static int
write_cert(const char *dir, const char *name, X509 *c)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	int r;

	if (sk == NULL || !sk_X509_push(sk, c)) {
		sk_X509_free(sk);
		return AMTP_E_NOMEM;
	}
	r = write_certs(dir, name, sk);
	sk_X509_free(sk);	/* borrowed c */
	return r;
}

static int
write_sealed_key(const char *dir, const char *name,
    const struct amtp_master_key *mk, EVP_PKEY *key, const char *aad)
{
	char path[PATH_MAX];
	struct amtp_secret *s = NULL;
	struct amtp_buf *b = NULL;
	mode_t old;
	int r;

	if ((r = path_join(path, sizeof(path), dir, name)) != 0)
		goto out;
	r = AMTP_E_NOMEM;
	if ((b = amtp_buf_new(SEALED_FILE_MAX)) == NULL)
		goto out;
	if ((r = amtp_pki_key_to_secret(key, &s)) != 0 ||
	    (r = amtp_secret_seal_b64(mk, s, aad, b)) != 0)
		goto out;
	old = umask(077);
	r = write_excl(path, amtp_buf_ptr(b), amtp_buf_len(b), 0600);
	umask(old);
 out:
	amtp_secret_free(s);
	amtp_buf_free(b);
	return r;
}

static int
open_sealed_key(const char *dir, const char *name,
    const struct amtp_master_key *mk, const char *aad, struct amtp_secret **out)
{
	char path[PATH_MAX];
	struct amtp_buf *b = NULL;
	int r;

	*out = NULL;
	if ((r = path_join(path, sizeof(path), dir, name)) != 0)
		return r;
	if ((r = amtp_buf_load_file(path, SEALED_FILE_MAX, &b)) != 0)
		return r;
	r = amtp_secret_open_b64(mk, amtp_buf_str(b), aad, out);
	amtp_buf_free(b);
	return r;
}

static int
load_sealed_key(const char *dir, const char *name,
    const struct amtp_master_key *mk, const char *aad, EVP_PKEY **out)
{
	struct amtp_secret *s = NULL;
	int r;

	*out = NULL;
	if ((r = open_sealed_key(dir, name, mk, aad, &s)) != 0)
		return r;
	r = amtp_pki_key_from_secret(s, out);
	amtp_secret_free(s);
	return r;
}

static int
load_cert(const char *dir, const char *name, X509 **out)
{
	char path[PATH_MAX];
	STACK_OF(X509) *sk = NULL;
	int r;

	*out = NULL;
	if ((r = path_join(path, sizeof(path), dir, name)) != 0)
		return r;
	if ((r = amtp_pki_chain_load(path, &sk)) != 0)
		return r;
	if (sk_X509_num(sk) != 1) {
		amtp_pki_chain_free(sk);
		return AMTP_E_PARSE;
	}
	*out = sk_X509_shift(sk);
	amtp_pki_chain_free(sk);
	return 0;
}

static int
write_text(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	int r;

	if ((r = path_join(path, sizeof(path), dir, name)) != 0)
		return r;
	return write_excl(path, text, strlen(text), 0644);
}

/* Files a setup call has made, removed again when the call fails, so that
 * it can simply be run again. */
#define MADE_MAX	6
struct made {
	const char	*names[MADE_MAX];
	size_t		 n;
};

/* Passes r through; remembers name when the write (r) succeeded. */
static int
track(int r, const char *name, struct made *m)
{
	if (r == 0 && m->n < MADE_MAX)
		m->names[m->n++] = name;
	return r;
}

static void
unmake(const char *dir, struct made *m)
{
	char path[PATH_MAX];

	while (m->n > 0)
		if (path_join(path, sizeof(path), dir, m->names[--m->n]) == 0)
			(void)unlink(path);
}

static int
set_serial(X509 *c)
{
	uint8_t b[16];
	BIGNUM *bn = NULL;
	int r;

	if ((r = amtp_rand_bytes(b, sizeof(b))) != 0)
		return r;
	b[0] = (uint8_t)((b[0] & 0x3f) | 0x40);	/* positive, 127 bits */
	r = AMTP_E_NOMEM;
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL)
		goto out;
	if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) == NULL)
		goto out;
	r = 0;
 out:
	BN_free(bn);
	return r;
}

static int
add_ext(X509 *c, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx_nodb(&v);
	X509V3_set_ctx(&v, issuer != NULL ? issuer : c, c, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &v, nid, value)) == NULL)
		return AMTP_E_CRYPTO;
	ok = X509_add_ext(c, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : AMTP_E_NOMEM;
}

/* One extension: its NID and its value in OpenSSL's config syntax. */
struct ext {
	int nid;
	const char *value;
};

/*
 * A certificate for pub with subject (O, OU may be NULL; CN), signed by
 * ikey as issuer (self-signed when issuer is NULL), valid for days, with
 * the given extensions (after SKID and AKID).
 */
static int
build_cert(X509 *issuer, EVP_PKEY *ikey, const char *org, const char *ou,
    const char *cn, EVP_PKEY *pub, long days, const struct ext *exts,
    size_t nexts, X509 **out)
{
	X509 *c = NULL;
	X509_NAME *n;
	size_t i;
	int r;

	*out = NULL;
	r = AMTP_E_NOMEM;
	if ((c = X509_new()) == NULL || !X509_set_version(c, 2))
		goto out;
	if ((r = set_serial(c)) != 0)
		goto out;
	r = AMTP_E_CRYPTO;
	n = X509_get_subject_name(c);
	if (org != NULL && !X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
	    (const unsigned char *)org, -1, -1, 0))
		goto out;
	if (ou != NULL && !X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8,
	    (const unsigned char *)ou, -1, -1, 0))
		goto out;
	if (!X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0))
		goto out;
	if (!X509_set_issuer_name(c, issuer != NULL ?
	    X509_get_subject_name(issuer) : n))
		goto out;
	if (X509_gmtime_adj(X509_getm_notBefore(c), -BACKDATE) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(c), (int)days, 0, NULL) == NULL)
		goto out;
	if (!X509_set_pubkey(c, pub))
		goto out;
	if ((r = add_ext(c, issuer, NID_subject_key_identifier, "hash")) != 0 ||
	    (r = add_ext(c, issuer, NID_authority_key_identifier,
	    "keyid:always")) != 0)
		goto out;
	for (i = 0; i < nexts; i++)
		if ((r = add_ext(c, issuer, exts[i].nid, exts[i].value)) != 0)
			goto out;
	r = AMTP_E_CRYPTO;
	if (X509_sign(c, ikey, EVP_sha256()) <= 0)
		goto out;
	*out = c;
	c = NULL;
	r = 0;
 out:
	ERR_clear_error();
	X509_free(c);
	return r;
}

static const struct ext root_exts[] = {
	{ NID_basic_constraints, "critical,CA:TRUE" },
	{ NID_key_usage, "critical,keyCertSign,cRLSign" },
};
static const struct ext inter_exts[] = {
	{ NID_basic_constraints, "critical,CA:TRUE,pathlen:0" },
	{ NID_key_usage, "critical,keyCertSign,cRLSign" },
};

/* Makes a root and an intermediate under it. */
static int
make_pair(const char *org, const char *rootcn, const char *intercn,
    EVP_PKEY **rootk, X509 **root, EVP_PKEY **interk, X509 **inter)
{
	int r;

	if ((r = amtp_pki_rsa_generate(AMTP_RSA_AMT_BITS, rootk)) != 0 ||
	    (r = amtp_pki_rsa_generate(AMTP_RSA_AMT_BITS, interk)) != 0)
		return r;
	if ((r = build_cert(NULL, *rootk, org, NULL, rootcn, *rootk,
	    AMTP_CA_ROOT_DAYS, root_exts, 2, root)) != 0)
		return r;
	return build_cert(*root, *rootk, org, NULL, intercn, *interk,
	    AMTP_CA_INTER_DAYS, inter_exts, 2, inter);
}

/* 1 when path exists. */
static int
exists(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if (path_join(path, sizeof(path), dir, name) != 0)
		return 0;
	return stat(path, &st) == 0;
}

int
amtp_ca_create(const char *dir, const struct amtp_master_key *mk,
    const char *site, char *err, size_t errlen)
{
	struct made made = { { NULL }, 0 };
	EVP_PKEY *rootk = NULL, *interk = NULL;
	X509 *root = NULL, *inter = NULL;
	STACK_OF(X509) *sk = NULL;
	char rootcn[128], intercn[128];
	int r;

	seterr(err, errlen, "%s", "");
	if (site == NULL)
		site = "amtprov site";
	r = AMTP_E_EXISTS;
	if (exists(dir, "ca-root.pem") || exists(dir, "ca-root.key.sealed")) {
		seterr(err, errlen, "%s: a site CA exists already; it is never "
		    "overwritten", dir);
		goto out;
	}
	r = AMTP_E_TOOBIG;
	if (strlen(site) > 64) {
		seterr(err, errlen, "site name longer than 64 characters");
		goto out;
	}
	(void)snprintf(rootcn, sizeof(rootcn), "%s root CA", site);
	(void)snprintf(intercn, sizeof(intercn), "%s issuing CA", site);
	if ((r = make_pair(site, rootcn, intercn, &rootk, &root, &interk,
	    &inter)) != 0) {
		seterr(err, errlen, "cannot make the CA keys and certificates");
		goto out;
	}
	r = AMTP_E_NOMEM;
	if ((sk = sk_X509_new_null()) == NULL || !sk_X509_push(sk, inter) ||
	    !sk_X509_push(sk, root))
		goto out;
	/* Keys first: a root certificate without its key is useless, and
	 * ca-root.pem is what marks the CA as made. */
	if ((r = track(write_sealed_key(dir, "ca-root.key.sealed", mk, rootk,
	    "ca:root"), "ca-root.key.sealed", &made)) != 0 ||
	    (r = track(write_sealed_key(dir, "ca-inter.key.sealed", mk, interk,
	    "ca:inter"), "ca-inter.key.sealed", &made)) != 0 ||
	    (r = track(write_cert(dir, "ca-inter.pem", inter),
	    "ca-inter.pem", &made)) != 0 ||
	    (r = track(write_certs(dir, "ca-chain.pem", sk),
	    "ca-chain.pem", &made)) != 0 ||
	    (r = track(write_cert(dir, "ca-root.pem", root),
	    "ca-root.pem", &made)) != 0) {
		seterr(err, errlen, "%s: cannot write the CA files: %s", dir,
		    amtp_strerror(r));
		goto out;
	}
	r = 0;
 out:
	if (r != 0)
		unmake(dir, &made);
	sk_X509_free(sk);	/* borrowed */
	X509_free(root);
	X509_free(inter);
	EVP_PKEY_free(rootk);
	EVP_PKEY_free(interk);
	return r;
}

void
amtp_ca_free(struct amtp_ca *ca)
{
	if (ca == NULL)
		return;
	X509_free(ca->root);
	X509_free(ca->inter);
	EVP_PKEY_free(ca->inter_key);
	free(ca);
}

int
amtp_ca_load(const char *dir, const struct amtp_master_key *mk,
    struct amtp_ca **out, char *err, size_t errlen)
{
	struct amtp_ca *ca;
	int r;

	*out = NULL;
	seterr(err, errlen, "%s", "");
	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return AMTP_E_NOMEM;
	if ((r = load_cert(dir, "ca-root.pem", &ca->root)) != 0 ||
	    (r = load_cert(dir, "ca-inter.pem", &ca->inter)) != 0) {
		seterr(err, errlen, "%s: CA certificates: %s", dir,
		    amtp_strerror(r));
		goto out;
	}
	if ((r = load_sealed_key(dir, "ca-inter.key.sealed", mk, "ca:inter",
	    &ca->inter_key)) != 0) {
		seterr(err, errlen, "%s: CA key: %s", dir, amtp_strerror(r));
		goto out;
	}
	r = AMTP_E_CERT;
	if (X509_check_private_key(ca->inter, ca->inter_key) != 1 ||
	    X509_check_issued(ca->root, ca->inter) != X509_V_OK) {
		seterr(err, errlen, "%s: CA key and certificates do not match",
		    dir);
		goto out;
	}
	*out = ca;
	ca = NULL;
	r = 0;
 out:
	ERR_clear_error();
	amtp_ca_free(ca);
	return r;
}

int
amtp_ca_chain(const struct amtp_ca *ca, STACK_OF(X509) **out)
{
	STACK_OF(X509) *sk;
	X509 *v[2];
	int i;

	*out = NULL;
	if ((sk = sk_X509_new_null()) == NULL)
		return AMTP_E_NOMEM;
	v[0] = ca->inter;
	v[1] = ca->root;
	for (i = 0; i < 2; i++) {
		if (!X509_up_ref(v[i]))
			goto fail;
		if (!sk_X509_push(sk, v[i])) {
			X509_free(v[i]);
			goto fail;
		}
	}
	*out = sk;
	return 0;
 fail:
	amtp_pki_chain_free(sk);
	return AMTP_E_NOMEM;
}

/* A DNS name we put in a certificate: labels of letters, digits and
 * hyphens, at most AMTP_DNS_NAME_MAX. */
static int
valid_dns_name(const char *s)
{
	size_t i, n, lab = 0;

	if (s == NULL || (n = strnlen(s, AMTP_DNS_NAME_MAX + 1)) == 0 ||
	    n > AMTP_DNS_NAME_MAX || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-') || ++lab > 63)
			return 0;
	}
	return 1;
}

static int
valid_ip(const char *s)
{
	uint8_t a[16];

	return s != NULL && (inet_pton(AF_INET, s, a) == 1 ||
	    inet_pton(AF_INET6, s, a) == 1);
}

int
amtp_ca_sign(struct amtp_ca *ca, const struct amtp_ca_req *req, X509 **out)
{
	struct amtp_buf *san = NULL;
	struct ext exts[4];
	size_t i;
	int bits, r;

	*out = NULL;
	r = AMTP_E_INVAL;
	if (ca == NULL || req == NULL || req->pub == NULL ||
	    (unsigned)req->profile >= AMTP_CA_PROFILE__MAX ||
	    req->ndns > AMTP_CA_NAMES_MAX || req->nips > AMTP_CA_NAMES_MAX ||
	    req->ndns + req->nips == 0)
		goto out;
	/* The CN is a DNS name too: AMT web and server certificates name a
	 * host, 802.1X identities are host FQDNs. */
	if (!valid_dns_name(req->cn))
		goto out;
	for (i = 0; i < req->ndns; i++)
		if (!valid_dns_name(req->dns[i]))
			goto out;
	for (i = 0; i < req->nips; i++)
		if (!valid_ip(req->ips[i]))
			goto out;
	if (EVP_PKEY_get_base_id(req->pub) != EVP_PKEY_RSA)
		goto out;
	bits = EVP_PKEY_get_bits(req->pub);
	r = AMTP_E_RANGE;
	if (req->profile == AMTP_CA_AMT_WEB ? bits != AMTP_RSA_AMT_BITS :
	    (bits < AMTP_RSA_AMT_BITS || bits > AMTP_RSA_MAX_BITS))
		goto out;
	r = AMTP_E_NOMEM;
	if ((san = amtp_buf_new(4096)) == NULL)
		goto out;
	for (i = 0; i < req->ndns; i++)
		if ((r = amtp_buf_putf(san, "%sDNS:%s", i ? "," : "",
		    req->dns[i])) != 0)
			goto out;
	for (i = 0; i < req->nips; i++)
		if ((r = amtp_buf_putf(san, "%sIP:%s", i || req->ndns ? "," :
		    "", req->ips[i])) != 0)
			goto out;
	exts[0].nid = NID_basic_constraints;
	exts[0].value = "critical,CA:FALSE";
	exts[1].nid = NID_key_usage;
	exts[1].value = "critical,digitalSignature,keyEncipherment";
	exts[2].nid = NID_ext_key_usage;
	exts[2].value = req->profile == AMTP_CA_8021X ? "clientAuth" :
	    "serverAuth";
	exts[3].nid = NID_subject_alt_name;
	exts[3].value = amtp_buf_str(san);
	r = build_cert(ca->inter, ca->inter_key, NULL, NULL, req->cn, req->pub,
	    AMTP_CA_LEAF_DAYS, exts, 4, out);
 out:
	amtp_buf_free(san);
	return r;
}

int
amtp_ca_serial_hex(X509 *cert, char *hex, size_t hexsz)
{
	BIGNUM *bn;
	char *s, *p;
	int r = AMTP_E_NOMEM;

	if (hexsz > 0)
		hex[0] = '\0';
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL)) == NULL)
		return AMTP_E_NOMEM;
	if ((s = BN_bn2hex(bn)) == NULL)
		goto out;
	for (p = s; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	r = amtp_strlcpy(hex, s, hexsz) >= hexsz ? AMTP_E_TOOBIG : 0;
	OPENSSL_free(s);
 out:
	BN_free(bn);
	return r;
}

int
amtp_ca_make_lab_provisioning_chain(const char *dir,
    const struct amtp_master_key *mk, const char *domain, char *sha256hex,
    char *err, size_t errlen)
{
	struct made made = { { NULL }, 0 };
	static const struct ext leaf_exts[] = {
		{ NID_basic_constraints, "critical,CA:FALSE" },
		{ NID_key_usage, "critical,digitalSignature,keyEncipherment" },
		{ NID_ext_key_usage, "serverAuth," AMTP_PKI_AMT_OID },
	};
	EVP_PKEY *rootk = NULL, *interk = NULL, *leafk = NULL;
	X509 *root = NULL, *inter = NULL, *leaf = NULL;
	STACK_OF(X509) *sk = NULL;
	struct amtp_pki_hash h;
	enum amtp_pki_reason why;
	char cn[AMTP_DNS_NAME_MAX + 1], hex[2 * 32 + 2], detail[256];
	size_t n;
	int r;

	seterr(err, errlen, "%s", "");
	r = AMTP_E_INVAL;
	if (!valid_dns_name(domain) || strchr(domain, '.') == NULL) {
		seterr(err, errlen, "lab domain must be a DNS name of at least "
		    "two labels (e.g. fleet.example.test)");
		goto out;
	}
	if (snprintf(cn, sizeof(cn), "amtprov-prov.%s", domain) >=
	    (int)sizeof(cn) || !valid_dns_name(cn)) {
		seterr(err, errlen, "lab domain too long");
		goto out;
	}
	r = AMTP_E_EXISTS;
	if (exists(dir, "prov-chain.pem") || exists(dir, "prov-key.sealed") ||
	    exists(dir, "lab-root.pem")) {
		seterr(err, errlen, "%s: a provisioning certificate exists "
		    "already", dir);
		goto out;
	}
	if ((r = make_pair("amtprov lab", "amtprov lab provisioning root",
	    "amtprov lab provisioning CA", &rootk, &root, &interk,
	    &inter)) != 0 ||
	    (r = amtp_pki_rsa_generate(AMTP_RSA_AMT_BITS, &leafk)) != 0 ||
	    (r = build_cert(inter, interk, "amtprov lab", NULL, cn, leafk,
	    AMTP_CA_LEAF_DAYS, leaf_exts, 3, &leaf)) != 0) {
		seterr(err, errlen, "cannot make the lab chain");
		goto out;
	}
	r = AMTP_E_NOMEM;
	if ((sk = sk_X509_new_null()) == NULL || !sk_X509_push(sk, leaf) ||
	    !sk_X509_push(sk, inter) || !sk_X509_push(sk, root))
		goto out;
	/* The chain must pass the rules a device applies. */
	memset(&h, 0, sizeof(h));
	h.alg = AMTP_PKI_SHA256;
	h.active = 1;
	if ((r = amtp_pki_cert_hash(root, AMTP_PKI_SHA256, h.hash, &n)) != 0)
		goto out;
	if ((r = amtp_pki_check_provisioning_chain(sk, &h, 1, domain,
	    time(NULL), 0, &why, detail, sizeof(detail))) != 0) {
		seterr(err, errlen, "lab chain fails its own check: %s (%s)",
		    amtp_pki_reason_str(why), detail);
		r = AMTP_E_INTERNAL;
		goto out;
	}
	if ((r = amtp_pki_cert_hash_hex(root, AMTP_PKI_SHA256, hex,
	    sizeof(hex))) != 0)
		goto out;
	if ((r = track(write_sealed_key(dir, "prov-key.sealed", mk, leafk,
	    "prov:key"), "prov-key.sealed", &made)) != 0 ||
	    (r = track(write_certs(dir, "prov-chain.pem", sk),
	    "prov-chain.pem", &made)) != 0 ||
	    (r = track(write_cert(dir, "lab-root.pem", root),
	    "lab-root.pem", &made)) != 0)
		goto werr;
	n = strlen(hex);
	hex[n] = '\n';
	hex[n + 1] = '\0';
	if ((r = track(write_text(dir, "prov-root.sha256", hex),
	    "prov-root.sha256", &made)) != 0 ||
	    (r = track(write_text(dir, "lab-root.sha256", hex),
	    "lab-root.sha256", &made)) != 0)
		goto werr;
	hex[n] = '\0';
	if (sha256hex != NULL)
		memcpy(sha256hex, hex, n + 1);
	r = 0;
	goto out;
 werr:
	seterr(err, errlen, "%s: cannot write the lab chain files: %s", dir,
	    amtp_strerror(r));
 out:
	if (r != 0)
		unmake(dir, &made);
	sk_X509_free(sk);	/* borrowed */
	X509_free(leaf);
	X509_free(inter);
	X509_free(root);
	EVP_PKEY_free(leafk);
	EVP_PKEY_free(interk);
	EVP_PKEY_free(rootk);
	return r;
}

int
amtp_ca_import_provisioning_p12(const char *dir,
    const struct amtp_master_key *mk, const char *p12path,
    const struct amtp_secret *password, const char *domain, time_t now,
    enum amtp_pki_reason *reason, char *err, size_t errlen)
{
	struct made made = { { NULL }, 0 };
	EVP_PKEY *key = NULL;
	STACK_OF(X509) *chain = NULL;
	char detail[256], hex[2 * 32 + 2];
	unsigned flags = AMTP_PKI_SKIP_ROOT_HASH;
	size_t n;
	int r;

	*reason = AMTP_PKI_OK;
	seterr(err, errlen, "%s", "");
	r = AMTP_E_EXISTS;
	if (exists(dir, "prov-chain.pem") || exists(dir, "prov-key.sealed")) {
		seterr(err, errlen, "%s: a provisioning certificate exists "
		    "already; remove prov-chain.pem and prov-key.sealed first",
		    dir);
		goto out;
	}
	if ((r = amtp_pki_p12_load(p12path, password, &key, &chain)) != 0) {
		if (r == AMTP_E_CERT)
			*reason = AMTP_PKI_NO_KEY;
		seterr(err, errlen, "%s: %s", p12path, r == AMTP_E_AUTH ?
		    "wrong PKCS#12 password" : r == AMTP_E_CERT ?
		    amtp_pki_reason_str(AMTP_PKI_NO_KEY) : amtp_strerror(r));
		goto out;
	}
	if (domain == NULL)
		flags |= AMTP_PKI_SKIP_DNS_SUFFIX;
	if ((r = amtp_pki_check_provisioning_chain(chain, NULL, 0, domain, now,
	    flags, reason, detail, sizeof(detail))) != 0) {
		seterr(err, errlen, "%s: %s%s%s", p12path,
		    amtp_pki_reason_str(*reason), detail[0] ? ": " : "",
		    detail);
		goto out;
	}
	if ((r = amtp_pki_cert_hash_hex(sk_X509_value(chain,
	    sk_X509_num(chain) - 1), AMTP_PKI_SHA256, hex, sizeof(hex))) != 0)
		goto out;
	n = strlen(hex);
	hex[n] = '\n';
	hex[n + 1] = '\0';
	if ((r = track(write_sealed_key(dir, "prov-key.sealed", mk, key,
	    "prov:key"), "prov-key.sealed", &made)) != 0 ||
	    (r = track(write_certs(dir, "prov-chain.pem", chain),
	    "prov-chain.pem", &made)) != 0 ||
	    (r = track(write_text(dir, "prov-root.sha256", hex),
	    "prov-root.sha256", &made)) != 0) {
		seterr(err, errlen, "%s: cannot write the provisioning files: %s",
		    dir, amtp_strerror(r));
		goto out;
	}
	r = 0;
 out:
	if (r != 0)
		unmake(dir, &made);
	EVP_PKEY_free(key);
	amtp_pki_chain_free(chain);
	return r;
}

int
amtp_ca_load_provisioning(const char *dir, const struct amtp_master_key *mk,
    struct amtp_secret **key_pem, STACK_OF(X509) **chain)
{
	char path[PATH_MAX];
	int r;

	*key_pem = NULL;
	*chain = NULL;
	if ((r = path_join(path, sizeof(path), dir, "prov-chain.pem")) != 0 ||
	    (r = amtp_pki_chain_load(path, chain)) != 0)
		return r;
	if ((r = open_sealed_key(dir, "prov-key.sealed", mk, "prov:key",
	    key_pem)) != 0) {
		amtp_pki_chain_free(*chain);
		*chain = NULL;
	}
	return r;
}

static int
asn1_time_to_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return AMTP_E_PARSE;
	*out = (int64_t)timegm(&tm);
	return 0;
}

int
amtp_ca_record(struct amtp_store *st, X509 *cert,
    enum amtp_ca_profile profile, int64_t device_id, EVP_PKEY *key)
{
	struct amtp_cert_rec rec;
	struct amtp_secret *ks = NULL;
	struct amtp_buf *pem = NULL;
	STACK_OF(X509) *sk = NULL;
	char *subj = NULL;
	int64_t id = 0;
	int r;

	memset(&rec, 0, sizeof(rec));
	rec.device_id = device_id;
	r = AMTP_E_INVAL;
	if (amtp_ca_profile_name(profile) == NULL)
		goto out;
	(void)amtp_strlcpy(rec.profile, amtp_ca_profile_name(profile),
	    sizeof(rec.profile));
	if ((r = amtp_ca_serial_hex(cert, rec.serial, sizeof(rec.serial))) != 0)
		goto out;
	r = AMTP_E_NOMEM;
	if ((subj = X509_NAME_oneline(X509_get_subject_name(cert), NULL,
	    0)) == NULL)
		goto out;
	(void)amtp_strlcpy(rec.subject, subj, sizeof(rec.subject));
	if ((r = asn1_time_to_unix(X509_get0_notBefore(cert),
	    &rec.not_before)) != 0 ||
	    (r = asn1_time_to_unix(X509_get0_notAfter(cert),
	    &rec.not_after)) != 0)
		goto out;
	r = AMTP_E_NOMEM;
	if ((pem = amtp_buf_new(AMTP_STORE_PEM_MAX)) == NULL ||
	    (sk = sk_X509_new_null()) == NULL || !sk_X509_push(sk, cert))
		goto out;
	if ((r = amtp_pki_chain_to_pem(sk, pem)) != 0)
		goto out;
	if (key != NULL && (r = amtp_pki_key_to_secret(key, &ks)) != 0)
		goto out;
	r = amtp_store_cert_add(st, &rec, amtp_buf_str(pem), ks, &id);
 out:
	sk_X509_free(sk);	/* borrowed */
	OPENSSL_free(subj);
	amtp_buf_free(pem);
	amtp_secret_free(ks);
	return r;
}
