/* Unit tests for src/amtprovd/enroll/role.c and client.c: the enrollment
 * point's serve loop runs in a forked child on a real AF_UNIX socket, with a
 * real signer process, a site CA and a SQLite file; the tests are its
 * clients.  Every issued certificate is checked with `openssl verify`
 * against the site chain.  The child's log goes to a file that the tests
 * read to check that each drop is logged with its reason. */
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/ipc.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/pki.h"
#include "amtprov/secret.h"

#include "enroll/ca.h"
#include "enroll/client.h"
#include "enroll/enroll.h"
#include "enroll/signer.h"
#include "store/store.h"

#include "../../fixtures/pki/mkcert.h"

#define DOMAIN	"fleet.example.test"
#define FQDN1	"dev1." DOMAIN

static char dir[64], sock[96], db[128], logpath[128];
static struct amtp_master_key *mk;
static EVP_PKEY *devkey;
static int64_t dev1, dev2, dev3;	/* fqdn; host name only; nothing */
static pid_t server = -1;

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
	struct amtp_device_in in;
	struct amtp_store *st = NULL;
	uint8_t key[32];
	char err[256];

	(void)state;
	memset(key, 0x33, sizeof(key));
	snprintf(dir, sizeof(dir), "/tmp/amtp-enrollrole-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(sock, sizeof(sock), "%s/enroll.sock", dir);
	snprintf(db, sizeof(db), "sqlite:%s/site.db", dir);
	snprintf(logpath, sizeof(logpath), "%s/serve.log", dir);
	if (amtp_master_key_from_bytes(key, &mk) != 0)
		return -1;
	if (amtp_ca_create(dir, mk, "Role Test Site", err, sizeof(err)) != 0) {
		fprintf(stderr, "create: %s\n", err);
		return -1;
	}
	if (amtp_store_open(db, mk, &st, err, sizeof(err)) != 0) {
		fprintf(stderr, "store: %s\n", err);
		return -1;
	}
	memset(&in, 0, sizeof(in));
	in.uuid = "11111111-2222-3333-4444-555555555501";
	in.hostname = "dev1";
	in.fqdn = FQDN1;
	if (amtp_store_device_upsert(st, &in, &dev1, NULL) != 0)
		return -1;
	in.uuid = "11111111-2222-3333-4444-555555555502";
	in.hostname = "dev2";
	in.fqdn = NULL;
	if (amtp_store_device_upsert(st, &in, &dev2, NULL) != 0)
		return -1;
	in.uuid = "11111111-2222-3333-4444-555555555503";
	in.hostname = NULL;
	if (amtp_store_device_upsert(st, &in, &dev3, NULL) != 0)
		return -1;
	amtp_store_close(st);
	devkey = mk_key();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(devkey);
	amtp_master_key_free(mk);
	rmtree(dir);
	return 0;
}

static void
log_to_file(enum amtp_log_level lv, const char *line, void *arg)
{
	FILE *f = arg;

	(void)lv;
	fprintf(f, "%s\n", line);
	fflush(f);
}

/* Forks the serve loop with cfg on a new socket (the child owns a signer
 * process, a store connection and the log file). */
static void
start_server(const struct enroll_serve_cfg *cfg)
{
	struct amtp_store *st = NULL;
	struct amtp_signer *sg = NULL;
	struct amtp_ca *ca = NULL;
	char err[256];
	sigset_t sigs;
	pid_t spid;
	FILE *lf;
	int lfd, sfd, r;

	assert_int_equal(enroll_listen(sock, &lfd), 0);
	if ((server = fork()) == 0) {
		sigemptyset(&sigs);
		sigaddset(&sigs, SIGTERM);
		sigprocmask(SIG_BLOCK, &sigs, NULL);
		if ((lf = fopen(logpath, "w")) == NULL)
			_exit(3);
		amtp_log_init("enroll-test", AMTP_LOG_DEBUG, AMTP_LOG_TO_STDERR);
		amtp_log_set_sink(log_to_file, lf);
		if (amtp_ca_load(dir, mk, &ca, err, sizeof(err)) != 0 ||
		    amtp_signer_spawn(ca, &spid, &sfd) != 0 ||
		    amtp_signer_remote(sfd, &sg) != 0 ||
		    amtp_store_open(db, mk, &st, err, sizeof(err)) != 0)
			_exit(4);
		amtp_ca_free(ca);
		r = enroll_serve(lfd, cfg, sg, st);
		amtp_store_close(st);
		amtp_signer_free(sg);
		waitpid(spid, NULL, 0);
		close(lfd);
		amtp_log_set_sink(NULL, NULL);
		fclose(lf);
		_exit(r == 0 ? 0 : 1);
	}
	assert_true(server > 0);
	close(lfd);
}

static void
stop_server(void)
{
	int st;

	assert_true(server > 0);
	assert_int_equal(kill(server, SIGTERM), 0);
	assert_int_equal(waitpid(server, &st, 0), server);
	server = -1;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	unlink(sock);
}

static struct enroll_serve_cfg
default_cfg(void)
{
	struct enroll_serve_cfg c;

	memset(&c, 0, sizeof(c));
	c.dns_domain = DOMAIN;
	c.uid = geteuid();
	c.allowed_uid = -1;
	c.max_requests = 100;
	c.idle_ms = 10000;
	c.max_conns = AMTP_ENROLL_CONN_MAX;
	return c;
}

/* 1 when the server's log holds text. */
static int
logged(const char *text)
{
	char line[1024];
	FILE *f;
	int found = 0;

	if ((f = fopen(logpath, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
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

/* openssl verify of cert against the site chain with purpose; exit status. */
static int
openssl_verify(X509 *cert, const char *purpose)
{
	char path[160], cmd[640];
	FILE *f;
	int st;

	snprintf(path, sizeof(path), "%s/issued.pem", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, cert), 1);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "openssl verify -x509_strict -CAfile "
	    "'%s/ca-root.pem' -untrusted '%s/ca-inter.pem' -purpose %s '%s' "
	    ">/dev/null 2>&1", dir, dir, purpose, path);
	st = system(cmd);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static size_t
certs_of(int64_t id)
{
	struct amtp_store *st = NULL;
	struct amtp_cert_rec *recs = NULL;
	char err[256];
	size_t n = 0;

	assert_int_equal(amtp_store_open(db, mk, &st, err, sizeof(err)), 0);
	assert_int_equal(amtp_store_cert_list(st, id, 0, 100, &recs, &n,
	    NULL), 0);
	free(recs);
	amtp_store_close(st);
	return n;
}

/* Connects a plain socket (for bytes no client would send). */
static int
raw_connect(void)
{
	struct sockaddr_un sun;
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* 1 when the server closes fd within 3 s without sending anything. */
static int
closed_by_server(int fd)
{
	struct timeval tv = { 3, 0 };
	char c;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return recv(fd, &c, 1, 0) == 0;
}

/* The connection works: the chain comes back. */
static void
assert_serves(void)
{
	struct amtp_enroll_client *cl = NULL;
	STACK_OF(X509) *sk = NULL;

	assert_int_equal(amtp_enroll_connect(sock, 3000, &cl), 0);
	assert_int_equal(amtp_enroll_client_chain(cl, &sk), 0);
	assert_int_equal(sk_X509_num(sk), 2);
	amtp_pki_chain_free(sk);
	amtp_enroll_client_free(cl);
}

static void
test_good_csr(void **state)
{
	struct enroll_serve_cfg cfg = default_cfg();
	struct amtp_enroll_client *cl = NULL;
	enum amtp_pki_reason why;
	unsigned char *der = NULL;
	char detail[AMTP_ENROLL_DETAIL_MAX], cn[256];
	size_t before;
	X509 *c = NULL;
	int len;

	(void)state;
	before = certs_of(dev1);
	start_server(&cfg);
	assert_int_equal(amtp_enroll_connect(sock, 5000, &cl), 0);
	len = mk_csr(devkey, FQDN1, &der);
	assert_int_equal(amtp_enroll_client_amt_web_csr(cl, dev1, der,
	    (size_t)len, &c, &why, detail, sizeof(detail)), 0);
	assert_int_equal(why, AMTP_PKI_OK);
	assert_int_equal(amtp_pki_cert_cn(c, cn, sizeof(cn)), 0);
	assert_string_equal(cn, FQDN1);
	assert_int_equal(X509_check_host(c, "dev1", 0, 0, NULL), 1);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(c), devkey), 1);
	assert_int_equal(openssl_verify(c, "sslserver"), 0);
	assert_int_not_equal(openssl_verify(c, "sslclient"), 0);
	X509_free(c);
	c = NULL;
	OPENSSL_free(der);
	assert_int_equal(certs_of(dev1), before + 1);	/* recorded */

	/* A device known by its host name: FQDN = host.oob.dns_domain. */
	len = mk_csr(devkey, "dev2." DOMAIN, &der);
	assert_int_equal(amtp_enroll_client_amt_web_csr(cl, dev2, der,
	    (size_t)len, &c, &why, detail, sizeof(detail)), 0);
	assert_int_equal(amtp_pki_cert_cn(c, cn, sizeof(cn)), 0);
	assert_string_equal(cn, "dev2." DOMAIN);
	assert_int_equal(openssl_verify(c, "sslserver"), 0);
	X509_free(c);
	c = NULL;

	/* 802.1X from the same CSR form: a client certificate. */
	OPENSSL_free(der);
	len = mk_csr(devkey, FQDN1, &der);
	assert_int_equal(amtp_enroll_client_8021x_csr(cl, dev1, der,
	    (size_t)len, &c, &why, detail, sizeof(detail)), 0);
	assert_int_equal(openssl_verify(c, "sslclient"), 0);
	X509_free(c);
	OPENSSL_free(der);
	amtp_enroll_client_free(cl);
	stop_server();
	assert_true(logged("amt-web certificate"));
	assert_true(logged("802.1x certificate"));
}

static void
test_refusals(void **state)
{
	struct enroll_serve_cfg cfg = default_cfg();
	struct amtp_enroll_client *cl = NULL;
	enum amtp_pki_reason why;
	unsigned char *der = NULL, *big;
	char detail[AMTP_ENROLL_DETAIL_MAX];
	struct amtp_buf *ans = NULL;
	size_t before;
	uint32_t at;
	X509 *c = NULL;
	int len;

	(void)state;
	before = certs_of(dev1);
	start_server(&cfg);
	assert_int_equal(amtp_enroll_connect(sock, 5000, &cl), 0);
	/* Another device's name: refused, with the reason and a detail. */
	len = mk_csr(devkey, "dev9." DOMAIN, &der);
	assert_int_equal(amtp_enroll_client_amt_web_csr(cl, dev1, der,
	    (size_t)len, &c, &why, detail, sizeof(detail)), AMTP_E_CERT);
	assert_null(c);
	assert_int_equal(why, AMTP_PKI_CSR_WRONG_SUBJECT);
	assert_true(strlen(detail) > 0);
	assert_int_equal(amtp_enroll_client_8021x_csr(cl, dev1, der,
	    (size_t)len, &c, &why, detail, sizeof(detail)), AMTP_E_CERT);
	assert_int_equal(why, AMTP_PKI_CSR_WRONG_SUBJECT);
	OPENSSL_free(der);
	/* No such device; a device without FQDN. */
	len = mk_csr(devkey, FQDN1, &der);
	assert_int_equal(amtp_enroll_client_amt_web_csr(cl, 999999, der,
	    (size_t)len, &c, &why, detail, sizeof(detail)), AMTP_E_NOTFOUND);
	assert_int_equal(amtp_enroll_client_amt_web_csr(cl, dev3, der,
	    (size_t)len, &c, &why, detail, sizeof(detail)), AMTP_E_STATE);
	OPENSSL_free(der);
	/* Exactly AMTP_CSR_MAX bytes of garbage: a request, refused as no
	 * CSR (not a dropped peer); one byte more never leaves the client. */
	big = calloc(1, AMTP_CSR_MAX + 1);
	assert_non_null(big);
	memset(big, 'A', AMTP_CSR_MAX + 1);
	assert_int_equal(amtp_enroll_client_amt_web_csr(cl, dev1, big,
	    AMTP_CSR_MAX, &c, &why, detail, sizeof(detail)), AMTP_E_CERT);
	assert_int_equal(why, AMTP_PKI_CSR_PARSE);
	assert_int_equal(amtp_enroll_client_amt_web_csr(cl, dev1, big,
	    AMTP_CSR_MAX + 1, &c, &why, detail, sizeof(detail)), AMTP_E_CERT);
	assert_int_equal(why, AMTP_PKI_CSR_TOO_BIG);
	free(big);
	/* The same connection still serves after every refusal. */
	assert_int_equal(amtp_enroll_client_raw(cl, AMTP_IPC_ENROLL_CHAIN,
	    NULL, 0, &at, &ans), 0);
	assert_int_equal(at, AMTP_IPC_ENROLL_CHAIN_PEM);
	amtp_buf_free(ans);
	amtp_enroll_client_free(cl);
	stop_server();
	assert_int_equal(certs_of(dev1), before);	/* nothing issued */
	assert_true(logged("CSR_WRONG_SUBJECT"));
}

static void
test_keygen(void **state)
{
	struct enroll_serve_cfg cfg = default_cfg();
	struct amtp_enroll_client *cl = NULL;
	EVP_PKEY *k = NULL;
	X509 *c = NULL;
	char cn[256];

	(void)state;
	start_server(&cfg);
	assert_int_equal(amtp_enroll_connect(sock, 10000, &cl), 0);
	assert_int_equal(amtp_enroll_client_amt_web_keygen(cl, dev1, &c, &k),
	    0);
	assert_int_equal(X509_check_private_key(c, k), 1);
	assert_int_equal(EVP_PKEY_get_bits(k), 2048);
	assert_int_equal(amtp_pki_cert_cn(c, cn, sizeof(cn)), 0);
	assert_string_equal(cn, FQDN1);
	assert_int_equal(openssl_verify(c, "sslserver"), 0);
	X509_free(c);
	EVP_PKEY_free(k);
	assert_int_equal(amtp_enroll_client_8021x_keygen(cl, dev2, &c, &k), 0);
	assert_int_equal(X509_check_private_key(c, k), 1);
	assert_int_equal(openssl_verify(c, "sslclient"), 0);
	X509_free(c);
	EVP_PKEY_free(k);
	c = NULL;
	k = NULL;
	assert_int_equal(amtp_enroll_client_amt_web_keygen(cl, 424242, &c,
	    &k), AMTP_E_NOTFOUND);
	assert_null(c);
	assert_null(k);
	amtp_enroll_client_free(cl);
	stop_server();
}

static void
test_garbage_dropped(void **state)
{
	struct enroll_serve_cfg cfg = default_cfg();
	uint8_t junk[16] = { 0xef, 0xbe, 0xad, 0xde, 5, 0, 0, 0,
	    'h', 'e', 'l', 'l', 'o' };
	uint8_t big[8] = { AMTP_IPC_ENROLL_CHAIN, 0, 0, 0, 0, 0, 0x10, 0 };
	uint8_t half[8] = { AMTP_IPC_ENROLL_AMT_WEB_KEYGEN, 0, 0, 0, 8, 0,
	    0, 0 };
	int fd;

	(void)state;
	start_server(&cfg);
	/* An unknown type. */
	fd = raw_connect();
	assert_int_equal(write(fd, junk, 13), 13);
	assert_true(closed_by_server(fd));
	close(fd);
	assert_serves();
	/* A known type with a length over the limit (1 MiB). */
	fd = raw_connect();
	assert_int_equal(write(fd, big, 8), 8);
	assert_true(closed_by_server(fd));
	close(fd);
	/* Half a frame, then the peer leaves. */
	fd = raw_connect();
	assert_int_equal(write(fd, half, 8), 8);
	assert_int_equal(write(fd, "\1\0\0", 3), 3);
	close(fd);
	assert_serves();
	stop_server();
	assert_true(logged("bad framing"));
	assert_true(logged("closed in the middle of a frame"));
}

static void
test_not_in_table(void **state)
{
	struct enroll_serve_cfg cfg = default_cfg();
	struct amtp_enroll_client *cl = NULL;
	struct amtp_buf *ans = NULL;
	uint8_t zero_id[8] = { 0 };
	uint32_t at;

	(void)state;
	start_server(&cfg);
	assert_int_equal(amtp_enroll_connect(sock, 3000, &cl), 0);
	/* An answer type sent as a request. */
	assert_int_equal(amtp_enroll_client_raw(cl, AMTP_IPC_ENROLL_CERT,
	    "x", 1, &at, &ans), AMTP_E_CLOSED);
	/* In the table, never permitted. */
	assert_int_equal(amtp_enroll_client_raw(cl, AMTP_IPC_ENROLL_PROV_KEY,
	    NULL, 0, &at, &ans), AMTP_E_CLOSED);
	/* Permitted, malformed (device 0). */
	assert_int_equal(amtp_enroll_client_raw(cl,
	    AMTP_IPC_ENROLL_AMT_WEB_KEYGEN, zero_id, 8, &at, &ans),
	    AMTP_E_CLOSED);
	/* A chain request with a payload. */
	assert_int_equal(amtp_enroll_client_raw(cl, AMTP_IPC_ENROLL_CHAIN,
	    "x", 1, &at, &ans), AMTP_E_CLOSED);
	assert_null(ans);
	/* The role goes on. */
	assert_int_equal(amtp_enroll_client_raw(cl, AMTP_IPC_ENROLL_CHAIN,
	    NULL, 0, &at, &ans), 0);
	assert_int_equal(at, AMTP_IPC_ENROLL_CHAIN_PEM);
	amtp_buf_free(ans);
	amtp_enroll_client_free(cl);
	stop_server();
	assert_true(logged("request type 7 not in the table"));
	assert_true(logged("unpermitted request prov-key"));
	assert_true(logged("malformed amt-web-keygen request"));
	assert_true(logged("malformed chain request"));
}

static void
test_peer_uid(void **state)
{
	struct enroll_serve_cfg cfg = default_cfg();
	struct amtp_enroll_client *cl = NULL;
	struct amtp_buf *ans = NULL;
	struct stat sb;
	uint32_t at;

	(void)state;
	/* The role runs as another uid: we are refused. */
	cfg.uid = geteuid() + 4242;
	start_server(&cfg);
	assert_int_equal(stat(sock, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(amtp_enroll_connect(sock, 3000, &cl), 0);
	assert_int_equal(amtp_enroll_client_raw(cl, AMTP_IPC_ENROLL_CHAIN,
	    NULL, 0, &at, &ans), AMTP_E_CLOSED);
	amtp_enroll_client_free(cl);
	stop_server();
	assert_true(logged("uid not allowed"));
	/* ... unless enroll.allowed_uid names us. */
	cfg.allowed_uid = geteuid();
	start_server(&cfg);
	assert_serves();
	stop_server();
}

static void
test_limits(void **state)
{
	struct enroll_serve_cfg cfg = default_cfg();
	struct amtp_enroll_client *cl = NULL;
	STACK_OF(X509) *sk = NULL;
	struct amtp_buf *ans = NULL;
	uint32_t at;
	int i;

	(void)state;
	cfg.max_requests = 2;
	cfg.idle_ms = 400;
	start_server(&cfg);
	assert_int_equal(amtp_enroll_connect(sock, 3000, &cl), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(amtp_enroll_client_raw(cl,
		    AMTP_IPC_ENROLL_CHAIN, NULL, 0, &at, &ans), 0);
		amtp_buf_free(ans);
	}
	/* The connection was closed after its second answer. */
	assert_int_equal(amtp_enroll_client_raw(cl, AMTP_IPC_ENROLL_CHAIN,
	    NULL, 0, &at, &ans), AMTP_E_CLOSED);
	/* The client API reconnects. */
	assert_int_equal(amtp_enroll_client_chain(cl, &sk), 0);
	amtp_pki_chain_free(sk);
	/* Idle longer than idle_ms: closed; the client API reconnects. */
	usleep(900 * 1000);
	assert_int_equal(amtp_enroll_client_chain(cl, &sk), 0);
	amtp_pki_chain_free(sk);
	amtp_enroll_client_free(cl);
	stop_server();
	assert_true(logged("closed (enroll.max_requests)"));
	assert_true(logged("idle too long"));
}

static void
test_listen(void **state)
{
	char path[160], longp[200];
	struct stat sb;
	int fd, fd2;
	FILE *f;

	(void)state;
	/* A file that is no socket is left alone. */
	snprintf(path, sizeof(path), "%s/plain", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(enroll_listen(path, &fd), AMTP_E_EXISTS);
	assert_int_equal(fd, -1);
	/* A live socket is not taken over; a stale one is replaced. */
	snprintf(path, sizeof(path), "%s/t.sock", dir);
	assert_int_equal(enroll_listen(path, &fd), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(enroll_listen(path, &fd2), AMTP_E_BUSY);
	close(fd);
	assert_int_equal(enroll_listen(path, &fd2), 0);
	close(fd2);
	unlink(path);
	/* Longer than sun_path. */
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(enroll_listen(longp, &fd), AMTP_E_TOOBIG);
	/* The client: nothing there. */
	assert_int_equal(amtp_enroll_connect(path, 100,
	    &(struct amtp_enroll_client *){ NULL }), AMTP_E_NOTFOUND);
	assert_int_equal(amtp_enroll_connect(longp, 100,
	    &(struct amtp_enroll_client *){ NULL }), AMTP_E_TOOBIG);
}

static void
test_decode(void **state)
{
	struct amtp_enroll_req req, got;
	struct amtp_buf *b;
	uint8_t *csr;

	(void)state;
	csr = calloc(1, AMTP_CSR_MAX + 1);
	assert_non_null(csr);
	/* Round trip at exactly the CSR limit. */
	memset(&req, 0, sizeof(req));
	req.type = AMTP_IPC_ENROLL_8021X_CSR;
	req.device_id = INT64_MAX;
	req.csr = csr;
	req.csrlen = AMTP_CSR_MAX;
	b = amtp_buf_new(AMTP_ENROLL_REQ_MAX + 1);
	assert_int_equal(amtp_enroll_encode_req(&req, b), 0);
	assert_int_equal(amtp_buf_len(b), AMTP_ENROLL_REQ_MAX);
	assert_int_equal(amtp_enroll_decode_req(req.type, b, &got), 0);
	assert_int_equal(got.device_id, INT64_MAX);
	assert_int_equal(got.csrlen, AMTP_CSR_MAX);
	amtp_buf_free(b);
	/* One over. */
	req.csrlen = AMTP_CSR_MAX + 1;
	b = amtp_buf_new(AMTP_ENROLL_REQ_MAX + 8);
	assert_int_equal(amtp_enroll_encode_req(&req, b), AMTP_E_INVAL);
	amtp_buf_reset(b);
	assert_int_equal(amtp_buf_put_u64le(b, 1), 0);
	assert_int_equal(amtp_buf_put_u32le(b, AMTP_CSR_MAX + 1), 0);
	assert_int_equal(amtp_buf_put(b, csr, AMTP_CSR_MAX + 1), 0);
	assert_int_equal(amtp_enroll_decode_req(req.type, b, &got),
	    AMTP_E_PROTO);
	amtp_buf_free(b);
	/* Empty CSR, trailing byte, length past the end. */
	b = amtp_buf_new(64);
	assert_int_equal(amtp_buf_put_u64le(b, 1), 0);
	assert_int_equal(amtp_buf_put_u32le(b, 0), 0);
	assert_int_equal(amtp_enroll_decode_req(AMTP_IPC_ENROLL_AMT_WEB_CSR,
	    b, &got), AMTP_E_PROTO);
	amtp_buf_reset(b);
	assert_int_equal(amtp_buf_put_u64le(b, 1), 0);
	assert_int_equal(amtp_buf_put_u32le(b, 2), 0);
	assert_int_equal(amtp_buf_put(b, "abc", 3), 0);
	assert_int_equal(amtp_enroll_decode_req(AMTP_IPC_ENROLL_AMT_WEB_CSR,
	    b, &got), AMTP_E_PROTO);
	amtp_buf_reset(b);
	assert_int_equal(amtp_buf_put_u64le(b, 1), 0);
	assert_int_equal(amtp_buf_put_u32le(b, 4), 0);
	assert_int_equal(amtp_buf_put(b, "abc", 3), 0);
	assert_int_equal(amtp_enroll_decode_req(AMTP_IPC_ENROLL_AMT_WEB_CSR,
	    b, &got), AMTP_E_PROTO);
	/* Keygen: exactly a positive id. */
	amtp_buf_reset(b);
	assert_int_equal(amtp_buf_put_u64le(b, 5), 0);
	assert_int_equal(amtp_enroll_decode_req(AMTP_IPC_ENROLL_8021X_KEYGEN,
	    b, &got), 0);
	assert_int_equal(got.device_id, 5);
	amtp_buf_reset(b);
	assert_int_equal(amtp_buf_put_u64le(b, 5), 0);
	assert_int_equal(amtp_buf_put_u8(b, 0), 0);
	assert_int_equal(amtp_enroll_decode_req(AMTP_IPC_ENROLL_8021X_KEYGEN,
	    b, &got), AMTP_E_PROTO);
	amtp_buf_reset(b);
	assert_int_equal(amtp_buf_put_u64le(b, (uint64_t)-1), 0);
	assert_int_equal(amtp_enroll_decode_req(AMTP_IPC_ENROLL_AMT_WEB_KEYGEN,
	    b, &got), AMTP_E_PROTO);
	amtp_buf_reset(b);
	assert_int_equal(amtp_buf_put(b, "1234567", 7), 0);
	assert_int_equal(amtp_enroll_decode_req(AMTP_IPC_ENROLL_AMT_WEB_KEYGEN,
	    b, &got), AMTP_E_PROTO);
	/* Empty requests, answers, unknown types. */
	amtp_buf_reset(b);
	assert_int_equal(amtp_enroll_decode_req(AMTP_IPC_ENROLL_CHAIN, b,
	    &got), 0);
	assert_int_equal(amtp_enroll_decode_req(AMTP_IPC_ENROLL_CERT, b,
	    &got), AMTP_E_PROTO);
	assert_int_equal(amtp_enroll_decode_req(AMTP_IPC_ENROLL__MAX, b,
	    &got), AMTP_E_PROTO);
	assert_int_equal(amtp_enroll_decode_req(0, b, &got), AMTP_E_PROTO);
	assert_string_equal(amtp_enroll_req_name(AMTP_IPC_ENROLL_PROV_KEY),
	    "prov-key");
	assert_string_equal(amtp_enroll_req_name(99), "unknown");
	amtp_buf_free(b);
	free(csr);
}

/* amtp_enroll_via_*: the same calls on the enrollment point and on a signer
 * of one's own; the enrollment point's certificate must name what the
 * caller expects. */
static void
test_via(void **state)
{
	struct enroll_serve_cfg cfg = default_cfg();
	struct amtp_enroll_via via;
	struct amtp_ca *ca = NULL;
	enum amtp_pki_reason why;
	unsigned char *der = NULL;
	char detail[AMTP_ENROLL_DETAIL_MAX], err[256];
	EVP_PKEY *k = NULL;
	X509 *c = NULL;
	int len, i;

	(void)state;
	start_server(&cfg);
	len = mk_csr(devkey, FQDN1, &der);
	for (i = 0; i < 2; i++) {
		memset(&via, 0, sizeof(via));
		if (i == 0)
			assert_int_equal(amtp_enroll_connect(sock, 5000,
			    &via.cl), 0);
		else {
			assert_int_equal(amtp_ca_load(dir, mk, &ca, err,
			    sizeof(err)), 0);
			assert_int_equal(amtp_signer_local(ca, &via.sg), 0);
			assert_int_equal(amtp_store_open(db, mk, &via.st, err,
			    sizeof(err)), 0);
		}
		assert_int_equal(amtp_enroll_via_amt_web_csr(&via, dev1, der,
		    (size_t)len, FQDN1, "dev1", &c, &why, detail,
		    sizeof(detail)), 0);
		assert_int_equal(openssl_verify(c, "sslserver"), 0);
		X509_free(c);
		assert_int_equal(amtp_enroll_via_8021x_csr(&via, dev1, der,
		    (size_t)len, FQDN1, &c, &why, detail, sizeof(detail)), 0);
		assert_int_equal(openssl_verify(c, "sslclient"), 0);
		X509_free(c);
		assert_int_equal(amtp_enroll_via_amt_web_keygen(&via, dev1,
		    FQDN1, "dev1", &c, &k), 0);
		assert_int_equal(X509_check_private_key(c, k), 1);
		X509_free(c);
		EVP_PKEY_free(k);
		assert_int_equal(amtp_enroll_via_8021x_keygen(&via, dev1,
		    FQDN1, &c, &k), 0);
		X509_free(c);
		EVP_PKEY_free(k);
		amtp_enroll_client_free(via.cl);
		amtp_signer_free(via.sg);
		amtp_store_close(via.st);
		amtp_ca_free(ca);
		ca = NULL;
	}
	/* The caller expects another name than the site database holds. */
	memset(&via, 0, sizeof(via));
	assert_int_equal(amtp_enroll_connect(sock, 5000, &via.cl), 0);
	assert_int_equal(amtp_enroll_via_amt_web_csr(&via, dev1, der,
	    (size_t)len, "dev7." DOMAIN, "dev7", &c, &why, detail,
	    sizeof(detail)), AMTP_E_MISMATCH);
	assert_null(c);
	assert_int_equal(amtp_enroll_via_8021x_keygen(&via, dev1,
	    "dev7." DOMAIN, &c, &k), AMTP_E_MISMATCH);
	assert_null(c);
	assert_null(k);
	amtp_enroll_client_free(via.cl);
	OPENSSL_free(der);
	stop_server();
}

/* A peer that trickles a frame byte by byte is dropped at the frame
 * deadline, although it keeps sending. */
static void
test_trickle(void **state)
{
	struct enroll_serve_cfg cfg = default_cfg();
	uint8_t hdr[8] = { AMTP_IPC_ENROLL_AMT_WEB_KEYGEN, 0, 0, 0, 8, 0,
	    0, 0 };
	int fd, i;

	(void)state;
	cfg.frame_ms = 300;
	start_server(&cfg);
	fd = raw_connect();
	assert_int_equal(write(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	for (i = 0; i < 7; i++) {
		usleep(100 * 1000);
		(void)send(fd, "\0", 1, MSG_NOSIGNAL);
	}
	assert_true(closed_by_server(fd));
	close(fd);
	assert_serves();
	stop_server();
	assert_true(logged("frame not complete in time"));
}

/* The signer process dies: the request gets an error, and the role ends
 * with status 1 (amtprovd then stops every role). */
static void
test_signer_gone(void **state)
{
	struct enroll_serve_cfg cfg = default_cfg();
	struct amtp_enroll_client *cl = NULL;
	char path[64], line[64];
	EVP_PKEY *k = NULL;
	X509 *c = NULL;
	long long spid = 0;
	FILE *f;
	int st;

	(void)state;
	start_server(&cfg);
	/* the signer is the child of the server: wait until it is forked */
	assert_int_equal(amtp_enroll_connect(sock, 5000, &cl), 0);
	assert_serves();
	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children",
	    (long)server, (long)server);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_int_equal(sscanf(line, "%lld", &spid), 1);
	assert_int_equal(kill((pid_t)spid, SIGKILL), 0);
	usleep(100 * 1000);
	assert_int_equal(amtp_enroll_client_amt_web_keygen(cl, dev1, &c, &k),
	    AMTP_E_INTERNAL);
	assert_null(c);
	assert_null(k);
	amtp_enroll_client_free(cl);
	assert_int_equal(waitpid(server, &st, 0), server);
	server = -1;
	unlink(sock);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	assert_true(logged("the signer process is gone"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_good_csr),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_keygen),
		cmocka_unit_test(test_garbage_dropped),
		cmocka_unit_test(test_not_in_table),
		cmocka_unit_test(test_peer_uid),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_via),
		cmocka_unit_test(test_trickle),
		cmocka_unit_test(test_signer_gone),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
