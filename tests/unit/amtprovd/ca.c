/* Unit tests for src/amtprovd/enroll/{ca,enroll,signer}.c: the site CA,
 * issuance with its checks, the signer process, and recording.  Every issued
 * certificate is checked with the openssl command against the site chain. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/ipc.h"
#include "amtprov/limits.h"
#include "amtprov/pki.h"
#include "amtprov/secret.h"

#include "enroll/ca.h"
#include "enroll/enroll.h"
#include "enroll/signer.h"
#include "store/store.h"

#include "../../fixtures/pki/mkcert.h"

#define FQDN	"dev1.fleet.example.test"
#define HOST	"dev1"

static char dir[64], dir2[64];
static struct amtp_master_key *mk;
static struct amtp_ca *ca;
static struct amtp_signer *local;
static struct amtp_store *store;
/* Keys made once: key generation dominates the run time. */
static EVP_PKEY *devkey, *bigkey;

static void
rmtree(const char *d)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", d);
}

static int
setup(void **state)
{
	uint8_t key[32];
	char err[256];

	(void)state;
	memset(key, 0x5a, sizeof(key));
	snprintf(dir, sizeof(dir), "/tmp/amtp-ca-XXXXXX");
	snprintf(dir2, sizeof(dir2), "/tmp/amtp-ca2-XXXXXX");
	if (mkdtemp(dir) == NULL || mkdtemp(dir2) == NULL)
		return -1;
	if (amtp_master_key_from_bytes(key, &mk) != 0)
		return -1;
	if (amtp_ca_create(dir, mk, "Test Site", err, sizeof(err)) != 0) {
		fprintf(stderr, "create: %s\n", err);
		return -1;
	}
	if (amtp_store_open("sqlite::memory:", mk, &store, err,
	    sizeof(err)) != 0)
		return -1;
	if (amtp_ca_load(dir, mk, &ca, err, sizeof(err)) != 0) {
		fprintf(stderr, "load: %s\n", err);
		return -1;
	}
	devkey = mk_key();
	bigkey = mk_key_bits(3072);
	return amtp_signer_local(ca, &local) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	amtp_signer_free(local);
	EVP_PKEY_free(devkey);
	EVP_PKEY_free(bigkey);
	amtp_store_close(store);
	amtp_ca_free(ca);
	amtp_master_key_free(mk);
	rmtree(dir);
	rmtree(dir2);
	return 0;
}

/* Writes cert to dir/name and runs openssl verify against the site chain of
 * cadir with purpose (NULL: any); returns the command's exit status. */
static int
openssl_verify(const char *cadir, X509 *cert, const char *name,
    const char *purpose)
{
	char path[128], cmd[512];
	FILE *f;
	int st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, cert), 1);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "openssl verify -x509_strict -CAfile "
	    "'%s/ca-root.pem' -untrusted '%s/ca-inter.pem' %s%s '%s' "
	    ">/dev/null 2>&1", cadir, cadir, purpose ? "-purpose " : "",
	    purpose ? purpose : "", path);
	st = system(cmd);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int
mk_csr(EVP_PKEY *k, const char *cn, unsigned char **der)
{
	X509_REQ *req = X509_REQ_new();
	int len;

	X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN",
	    MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_pubkey(req, k);
	assert_true(X509_REQ_sign(req, k, EVP_sha256()) > 0);
	*der = NULL;
	len = i2d_X509_REQ(req, der);
	X509_REQ_free(req);
	assert_true(len > 0);
	return len;
}

static void
test_create_files(void **state)
{
	struct amtp_master_key *other;
	struct amtp_ca *c2 = NULL;
	struct amtp_buf *b = NULL;
	char path[128], err[256];
	uint8_t key[32];
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/ca-root.key.sealed", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(amtp_buf_load_file(path, 65536, &b), 0);
	assert_null(strstr(amtp_buf_str(b), "PRIVATE"));
	amtp_buf_free(b);
	snprintf(path, sizeof(path), "%s/ca-inter.key.sealed", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Never overwritten. */
	assert_int_equal(amtp_ca_create(dir, mk, NULL, err, sizeof(err)),
	    AMTP_E_EXISTS);
	assert_non_null(strstr(err, "exists"));
	/* Another master key does not open it. */
	memset(key, 0x11, sizeof(key));
	assert_int_equal(amtp_master_key_from_bytes(key, &other), 0);
	assert_int_equal(amtp_ca_load(dir, other, &c2, err, sizeof(err)),
	    AMTP_E_CRYPTO);
	assert_null(c2);
	amtp_master_key_free(other);
	/* An empty folder has no CA. */
	assert_int_equal(amtp_ca_load(dir2, mk, &c2, err, sizeof(err)),
	    AMTP_E_NOTFOUND);
	/* The chain file verifies the intermediate against the root. */
	{
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "openssl verify -x509_strict "
		    "-CAfile '%s/ca-root.pem' '%s/ca-inter.pem' >/dev/null",
		    dir, dir);
		assert_int_equal(system(cmd), 0);
	}
}

/* A setup that fails half-way leaves nothing of its own behind, so that it
 * can be run again; what was there before it is kept.  (The lab chain:
 * tests/unit/amtprovd/ca_import.c.) */
static void
test_create_cleans_up(void **state)
{
	char d[64], path[128], err[256];
	struct stat st;
	FILE *f;

	(void)state;
	snprintf(d, sizeof(d), "/tmp/amtp-ca3-XXXXXX");
	assert_non_null(mkdtemp(d));
	snprintf(path, sizeof(path), "%s/ca-chain.pem", d);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(amtp_ca_create(d, mk, NULL, err, sizeof(err)),
	    AMTP_E_EXISTS);
	assert_int_equal(stat(path, &st), 0);		/* not ours: kept */
	snprintf(path, sizeof(path), "%s/ca-root.key.sealed", d);
	assert_int_not_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/ca-inter.pem", d);
	assert_int_not_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/ca-chain.pem", d);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(amtp_ca_create(d, mk, NULL, err, sizeof(err)), 0);
	rmtree(d);
}

static void
test_amt_web_csr(void **state)
{
	EVP_PKEY *k = devkey;
	enum amtp_pki_reason why;
	unsigned char *der;
	char detail[256], cn[256], s1[AMTP_CA_SERIAL_HEX], s2[AMTP_CA_SERIAL_HEX];
	X509 *c = NULL, *c2 = NULL;
	GENERAL_NAMES *san;
	int len, crit;

	(void)state;
	len = mk_csr(k, FQDN, &der);
	assert_int_equal(amtp_enroll_amt_web_csr(local, store, 0, der, (size_t)len, FQDN,
	    HOST, &c, &why, detail, sizeof(detail)), 0);
	assert_int_equal(why, AMTP_PKI_OK);
	assert_int_equal(amtp_pki_cert_cn(c, cn, sizeof(cn)), 0);
	assert_string_equal(cn, FQDN);
	assert_int_equal(X509_get_signature_nid(c), NID_sha256WithRSAEncryption);
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(c)), 2048);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(c), k), 1);
	san = X509_get_ext_d2i(c, NID_subject_alt_name, &crit, NULL);
	assert_non_null(san);
	assert_int_equal(sk_GENERAL_NAME_num(san), 2);
	GENERAL_NAMES_free(san);
	assert_int_equal(X509_check_host(c, FQDN, 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(c, HOST, 0, 0, NULL), 1);
	assert_int_equal(openssl_verify(dir, c, "web.pem", "sslserver"), 0);
	/* A second one has another serial, 127-bit and positive. */
	assert_int_equal(amtp_enroll_amt_web_csr(local, store, 0, der, (size_t)len, FQDN,
	    NULL, &c2, &why, detail, sizeof(detail)), 0);
	assert_int_equal(amtp_ca_serial_hex(c, s1, sizeof(s1)), 0);
	assert_int_equal(amtp_ca_serial_hex(c2, s2, sizeof(s2)), 0);
	assert_string_not_equal(s1, s2);
	assert_int_equal(strlen(s1), 32);
	/* Not a valid client certificate, nor one from another CA. */
	assert_int_not_equal(openssl_verify(dir, c, "web.pem", "sslclient"), 0);
	X509_free(c);
	X509_free(c2);
	OPENSSL_free(der);
}

static void
test_amt_web_refused(void **state)
{
	EVP_PKEY *k = devkey, *big = bigkey;
	enum amtp_pki_reason why;
	unsigned char *der, *pos;
	char detail[256];
	X509 *c = NULL;
	int len;

	(void)state;
	/* Tampered: the subject changed after signing. */
	len = mk_csr(k, FQDN, &der);
	pos = memmem(der, (size_t)len, "dev1", 4);
	assert_non_null(pos);
	pos[3] = '9';
	assert_int_equal(amtp_enroll_amt_web_csr(local, store, 0, der, (size_t)len,
	    "dev9.fleet.example.test", NULL, &c, &why, detail, sizeof(detail)),
	    AMTP_E_CERT);
	assert_int_equal(why, AMTP_PKI_CSR_BAD_SIGNATURE);
	assert_null(c);
	OPENSSL_free(der);
	/* Wrong subject: a CSR for another device than the job's. */
	len = mk_csr(k, "dev2.fleet.example.test", &der);
	assert_int_equal(amtp_enroll_amt_web_csr(local, store, 0, der, (size_t)len, FQDN,
	    HOST, &c, &why, detail, sizeof(detail)), AMTP_E_CERT);
	assert_int_equal(why, AMTP_PKI_CSR_WRONG_SUBJECT);
	assert_non_null(strstr(detail, "dev2.fleet.example.test"));
	OPENSSL_free(der);
	/* Oversized key: AMT web certificates are RSA-2048 exactly. */
	len = mk_csr(big, FQDN, &der);
	assert_int_equal(amtp_enroll_amt_web_csr(local, store, 0, der, (size_t)len, FQDN,
	    HOST, &c, &why, detail, sizeof(detail)), AMTP_E_CERT);
	assert_int_equal(why, AMTP_PKI_CSR_KEY_SIZE);
	assert_non_null(strstr(detail, "3072"));
	/* ... but an 802.1X client may use it. */
	assert_int_equal(amtp_enroll_8021x_csr(local, store, 0, der, (size_t)len, FQDN,
	    &c, &why, detail, sizeof(detail)), 0);
	assert_int_equal(openssl_verify(dir, c, "x-big.pem", "sslclient"), 0);
	X509_free(c);
	OPENSSL_free(der);
	/* The signer refuses a bad form even from a trusted caller. */
	{
		struct amtp_ca_req req;

		memset(&req, 0, sizeof(req));
		req.profile = AMTP_CA_AMT_WEB;
		req.cn = "bad name,DNS:evil.test";
		req.dns[0] = "bad name,DNS:evil.test";
		req.ndns = 1;
		req.pub = k;
		assert_int_equal(amtp_ca_sign(ca, &req, &c), AMTP_E_INVAL);
		req.cn = req.dns[0] = FQDN;
		req.ips[0] = "300.1.1.1";
		req.nips = 1;
		assert_int_equal(amtp_ca_sign(ca, &req, &c), AMTP_E_INVAL);
		req.nips = 0;
		req.ndns = 0;
		assert_int_equal(amtp_ca_sign(ca, &req, &c), AMTP_E_INVAL);
		assert_null(c);
	}
}

static void
test_keygen_profiles(void **state)
{
	const char *names[] = { "site.fleet.example.test", "127.0.0.1", "::1" };
	EVP_PKEY *key = NULL;
	X509 *c = NULL;
	int crit;
	EXTENDED_KEY_USAGE *eku;

	(void)state;
	assert_int_equal(amtp_enroll_amt_web_keygen(local, store, 0, FQDN, HOST, &c,
	    &key), 0);
	assert_int_equal(X509_check_private_key(c, key), 1);
	assert_int_equal(EVP_PKEY_get_bits(key), 2048);
	assert_int_equal(openssl_verify(dir, c, "web-kg.pem", "sslserver"), 0);
	X509_free(c);
	EVP_PKEY_free(key);
	assert_int_equal(amtp_enroll_8021x_keygen(local, store, 0, FQDN, &c, &key), 0);
	assert_int_equal(openssl_verify(dir, c, "x.pem", "sslclient"), 0);
	assert_int_not_equal(openssl_verify(dir, c, "x.pem", "sslserver"), 0);
	eku = X509_get_ext_d2i(c, NID_ext_key_usage, &crit, NULL);
	assert_non_null(eku);
	assert_int_equal(sk_ASN1_OBJECT_num(eku), 1);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)),
	    NID_client_auth);
	EXTENDED_KEY_USAGE_free(eku);
	X509_free(c);
	EVP_PKEY_free(key);
	assert_int_equal(amtp_enroll_server(local, store, 0, names, 3, &c, &key), 0);
	assert_int_equal(X509_check_ip_asc(c, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(c, "::1", 0), 1);
	assert_int_equal(X509_check_host(c, "site.fleet.example.test", 0, 0,
	    NULL), 1);
	assert_int_equal(openssl_verify(dir, c, "srv.pem", "sslserver"), 0);
	X509_free(c);
	EVP_PKEY_free(key);
	assert_int_equal(amtp_enroll_server(local, store, 0, names, 0, &c, &key),
	    AMTP_E_INVAL);
}

static void
test_other_ca_fails_verify(void **state)
{
	struct amtp_ca *c2 = NULL;
	struct amtp_signer *s2 = NULL;
	EVP_PKEY *key = NULL;
	X509 *c = NULL;
	char err[256];

	(void)state;
	assert_int_equal(amtp_ca_create(dir2, mk, "Other", err, sizeof(err)), 0);
	assert_int_equal(amtp_ca_load(dir2, mk, &c2, err, sizeof(err)), 0);
	assert_int_equal(amtp_signer_local(c2, &s2), 0);
	assert_int_equal(amtp_enroll_amt_web_keygen(s2, store, 0, FQDN, HOST, &c, &key),
	    0);
	assert_int_equal(openssl_verify(dir2, c, "o.pem", "sslserver"), 0);
	assert_int_not_equal(openssl_verify(dir, c, "o.pem", "sslserver"), 0);
	X509_free(c);
	EVP_PKEY_free(key);
	amtp_signer_free(s2);
	amtp_ca_free(c2);
}

static void
test_signer_process(void **state)
{
	struct amtp_signer *rs = NULL;
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL;
	X509 *c = NULL;
	pid_t pid;
	int fd, st;

	(void)state;
	assert_int_equal(amtp_signer_spawn(ca, &pid, &fd), 0);
	assert_int_equal(amtp_signer_remote(fd, &rs), 0);
	assert_int_equal(amtp_signer_chain(rs, &chain), 0);
	/* Narrowed: no new privileges, nothing open but stdio and fd 3. */
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "grep -q '^NoNewPrivs:.*1$' "
		    "/proc/%d/status && test -e /proc/%d/fd/3 && test -z "
		    "\"$(ls /proc/%d/fd | awk '$1 > 3')\"", (int)pid, (int)pid,
		    (int)pid);
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(sk_X509_num(chain), 2);
	amtp_pki_chain_free(chain);
	assert_int_equal(amtp_enroll_amt_web_keygen(rs, store, 0, FQDN, HOST, &c, &key),
	    0);
	assert_int_equal(openssl_verify(dir, c, "remote.pem", "sslserver"), 0);
	X509_free(c);
	EVP_PKEY_free(key);
	/* A refusal crosses the channel as the signer's code. */
	{
		struct amtp_ca_req req;

		memset(&req, 0, sizeof(req));
		req.profile = AMTP_CA_AMT_WEB;
		req.cn = req.dns[0] = FQDN;
		req.ndns = 1;
		req.pub = bigkey;
		assert_int_equal(amtp_signer_sign(rs, &req, &c), AMTP_E_RANGE);
	}
	/* The peer closes: the signer ends cleanly. */
	amtp_signer_free(rs);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);

	/* An unpermitted request ends the signer (non-zero). */
	assert_int_equal(amtp_signer_spawn(ca, &pid, &fd), 0);
	assert_int_equal(amtp_ipc_send(fd, AMTP_IPC_SIGNER_CERT, "x", 1), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_not_equal(WEXITSTATUS(st), 0);
	close(fd);
	/* So does a malformed sign request, and a frame that is too long. */
	assert_int_equal(amtp_signer_spawn(ca, &pid, &fd), 0);
	assert_int_equal(amtp_ipc_send(fd, AMTP_IPC_SIGNER_SIGN, "\0\1\0", 3),
	    0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_not_equal(WEXITSTATUS(st), 0);
	close(fd);
	assert_int_equal(amtp_signer_spawn(ca, &pid, &fd), 0);
	{
		uint8_t hdr[8] = { 1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f };

		assert_int_equal(write(fd, hdr, 8), 8);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_not_equal(WEXITSTATUS(st), 0);
	close(fd);
}

/* The narrowing, in a child of its own: afterwards no file opens (where
 * the kernel has Landlock), and only stdio and fd 3 are open. */
static void
test_signer_narrow(void **state)
{
	pid_t pid;
	int st, landlock;

	(void)state;
	landlock = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION) >= 0;
	if ((pid = fork()) == 0) {
		int fd = dup(2), f;

		if (amtp_signer_narrow(&fd) != 0 || fd != 3)
			_exit(10);
		f = open("/etc/passwd", O_RDONLY);
		if (landlock && (f != -1 || errno != EACCES))
			_exit(11);
		if (!landlock && f == -1)
			_exit(12);
		if (fcntl(4, F_GETFD) != -1 || fcntl(3, F_GETFD) == -1)
			_exit(13);
		if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
			_exit(14);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
test_record(void **state)
{
	struct amtp_device_in din = { "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
	    "dev1", FQDN, NULL };
	struct amtp_cert_rec rec, *list = NULL;
	struct amtp_secret *ks = NULL;
	EVP_PKEY *key = NULL, *back = NULL, *k2;
	enum amtp_pki_reason why;
	unsigned char *der;
	X509 *c = NULL;
	char serial[AMTP_CA_SERIAL_HEX], detail[256], *pem = NULL;
	time_t now = time(NULL);
	size_t n, before, after;
	int64_t dev;
	int len;

	(void)state;
	assert_int_equal(amtp_store_cert_list(store, 0, 0, 0, &list, &n,
	    &before), 0);
	free(list);
	assert_int_equal(amtp_store_device_upsert(store, &din, &dev, NULL), 0);
	/* Issued: recorded with its generated key and the device. */
	assert_int_equal(amtp_enroll_amt_web_keygen(local, store, dev, FQDN,
	    HOST, &c, &key), 0);
	assert_int_equal(amtp_ca_serial_hex(c, serial, sizeof(serial)), 0);
	assert_int_equal(amtp_store_cert_get(store, serial, &rec, &pem), 0);
	assert_string_equal(rec.profile, "amt-web");
	assert_int_equal(rec.device_id, dev);
	assert_non_null(strstr(rec.subject, FQDN));
	assert_true(rec.not_before <= (int64_t)now &&
	    rec.not_before > (int64_t)now - 7200);
	assert_true(rec.not_after > (int64_t)now + 700 * MK_DAY);
	assert_int_equal(rec.has_key, 1);
	assert_non_null(strstr(pem, "BEGIN CERTIFICATE"));
	assert_int_equal(amtp_store_cert_get_key(store, serial, &ks), 0);
	assert_int_equal(amtp_pki_key_from_secret(ks, &back), 0);
	assert_int_equal(EVP_PKEY_eq(back, key), 1);
	/* A serial is recorded once. */
	assert_int_equal(amtp_ca_record(store, c, AMTP_CA_AMT_WEB, dev, NULL),
	    AMTP_E_EXISTS);
	free(pem);
	amtp_secret_free(ks);
	EVP_PKEY_free(back);
	EVP_PKEY_free(key);
	X509_free(c);
	c = NULL;
	/* From a CSR: recorded without a key; a refused one is not. */
	k2 = devkey;
	len = mk_csr(k2, FQDN, &der);
	assert_int_equal(amtp_enroll_amt_web_csr(local, store, dev, der,
	    (size_t)len, FQDN, HOST, &c, &why, detail, sizeof(detail)), 0);
	assert_int_equal(amtp_ca_serial_hex(c, serial, sizeof(serial)), 0);
	assert_int_equal(amtp_store_cert_get(store, serial, &rec, NULL), 0);
	assert_int_equal(rec.has_key, 0);
	X509_free(c);
	c = NULL;
	assert_int_equal(amtp_enroll_amt_web_csr(local, store, dev, der,
	    (size_t)len, "dev5.fleet.example.test", NULL, &c, &why, detail,
	    sizeof(detail)), AMTP_E_CERT);
	OPENSSL_free(der);
	assert_int_equal(amtp_store_cert_list(store, dev, 0, 0, &list, &n,
	    NULL), 0);
	assert_int_equal(n, 2);
	free(list);
	assert_int_equal(amtp_store_cert_list(store, 0, 0, 0, &list, &n,
	    &after), 0);
	free(list);
	assert_int_equal(after, before + 2);
	/* Without a store nothing is issued. */
	assert_int_equal(amtp_enroll_amt_web_keygen(local, NULL, 0, FQDN, HOST,
	    &c, &key), AMTP_E_INVAL);
	assert_null(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_files),
		cmocka_unit_test(test_create_cleans_up),
		cmocka_unit_test(test_amt_web_csr),
		cmocka_unit_test(test_amt_web_refused),
		cmocka_unit_test(test_keygen_profiles),
		cmocka_unit_test(test_other_ca_fails_verify),
		cmocka_unit_test(test_signer_process),
		cmocka_unit_test(test_signer_narrow),
		cmocka_unit_test(test_record),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
