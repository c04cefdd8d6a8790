/* The provisioning certificate on a real TLS session: libcurl presents the
 * lab chain and key as blobs (the way docs/enrollment.md tells the service
 * point to), to an `openssl s_server` that trusts only the lab root and
 * requires a client certificate, as AMT does on its setup session.  Like
 * AMT, the server checks the client's certificate as a TLS *server*
 * certificate (-purpose sslserver): the provisioning certificate has
 * serverAuth and the AMT OID, not clientAuth, so a TLS server that applies
 * the usual client-purpose check refuses it.  The
 * server's own certificate comes from the site CA (profile "server"). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <openssl/pem.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/pki.h"
#include "amtprov/secret.h"

#include "enroll/ca.h"
#include "enroll/enroll.h"
#include "enroll/signer.h"
#include "store/store.h"

extern char **environ;

static char dir[64];
static int port;
static pid_t server = -1;
static struct amtp_master_key *mk;

static int
free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), p;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(s, (struct sockaddr *)&a, &len) != 0)
		return -1;
	p = ntohs(a.sin_port);
	close(s);
	return p;
}

static int
write_pem(const char *name, X509 *c, EVP_PKEY *k)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	ok = c != NULL ? PEM_write_X509(f, c) :
	    PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	return ok == 1 ? 0 : -1;
}

/* Site CA, server certificate for 127.0.0.1, lab provisioning chain; then
 * s_server requiring a client certificate under the lab root. */
static int
setup(void **state)
{
	const char *names[] = { "127.0.0.1" };
	struct amtp_store *st = NULL;
	struct amtp_signer *sg = NULL;
	struct amtp_ca *ca = NULL;
	char err[256], accept[32], cert[96], key[96], cafile[96];
	uint8_t kb[32];
	EVP_PKEY *k = NULL;
	X509 *c = NULL;
	int i, s;

	(void)state;
	memset(kb, 9, sizeof(kb));
	snprintf(dir, sizeof(dir), "/tmp/amtp-tls-XXXXXX");
	if (mkdtemp(dir) == NULL || amtp_master_key_from_bytes(kb, &mk) != 0 ||
	    amtp_ca_create(dir, mk, NULL, err, sizeof(err)) != 0 ||
	    amtp_ca_load(dir, mk, &ca, err, sizeof(err)) != 0 ||
	    amtp_store_open("sqlite::memory:", mk, &st, err, sizeof(err)) != 0 ||
	    amtp_signer_local(ca, &sg) != 0 ||
	    amtp_enroll_server(sg, st, 0, names, 1, &c, &k) != 0 ||
	    write_pem("server.pem", c, NULL) != 0 ||
	    write_pem("server.key", NULL, k) != 0 ||
	    amtp_ca_make_lab_provisioning_chain(dir, mk, "fleet.example.test",
	    NULL, err, sizeof(err)) != 0)
		return -1;
	X509_free(c);
	EVP_PKEY_free(k);
	amtp_signer_free(sg);
	amtp_store_close(st);
	amtp_ca_free(ca);
	if ((port = free_port()) < 0)
		return -1;
	snprintf(accept, sizeof(accept), "127.0.0.1:%d", port);
	snprintf(cert, sizeof(cert), "%s/server.pem", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	snprintf(cafile, sizeof(cafile), "%s/lab-root.pem", dir);
	{
		char *argv[] = { (char *)"openssl", (char *)"s_server",
		    (char *)"-quiet", (char *)"-www", (char *)"-accept", accept,
		    (char *)"-cert", cert, (char *)"-key", key,
		    (char *)"-CAfile", cafile, (char *)"-Verify", (char *)"4",
		    (char *)"-purpose", (char *)"sslserver",
		    (char *)"-verify_return_error", NULL };
		posix_spawn_file_actions_t fa;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", 0, 0);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
		if (posix_spawnp(&server, "openssl", &fa, NULL, argv,
		    environ) != 0)
			return -1;
		posix_spawn_file_actions_destroy(&fa);
	}
	/* Wait for the port. */
	for (i = 0; i < 100; i++) {
		struct sockaddr_in a;

		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_port = htons((uint16_t)port);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0) {
			close(s);
			return 0;
		}
		close(s);
		usleep(50000);
	}
	return -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	amtp_master_key_free(mk);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static size_t
sink(char *p, size_t sz, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return sz * n;
}

/* GET https://127.0.0.1:port/ trusting the site chain; with the given
 * client chain and key PEM (NULL: none).  Returns the CURLcode. */
static CURLcode
get(struct amtp_buf *chain, const struct amtp_secret *key)
{
	struct curl_blob cb, kb;
	char url[64], ca[96];
	CURLcode rc;
	CURL *h = curl_easy_init();

	assert_non_null(h);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/", port);
	snprintf(ca, sizeof(ca), "%s/ca-chain.pem", dir);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CAINFO, ca);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	if (chain != NULL) {
		cb.data = (void *)(uintptr_t)amtp_buf_ptr(chain);
		cb.len = amtp_buf_len(chain);
		cb.flags = CURL_BLOB_COPY;
		kb.data = (void *)(uintptr_t)amtp_secret_reveal(key);
		kb.len = amtp_secret_len(key);
		kb.flags = CURL_BLOB_COPY;
		curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cb);
		curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &kb);
		curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
	}
	rc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	return rc;
}

static void
test_provisioning_tls(void **state)
{
	STACK_OF(X509) *chain = NULL;
	struct amtp_secret *key = NULL;
	struct amtp_buf *pem = amtp_buf_new(AMTP_PKI_PEM_MAX);

	(void)state;
	assert_non_null(pem);
	assert_int_equal(amtp_ca_load_provisioning(dir, mk, &key, &chain), 0);
	/* The whole chain: the server knows only the root. */
	assert_int_equal(amtp_pki_chain_to_pem(chain, pem), 0);
	assert_int_equal(get(pem, key), CURLE_OK);
	/* Without a client certificate the handshake fails. */
	assert_int_not_equal(get(NULL, NULL), CURLE_OK);
	/* The leaf alone (no intermediate) does not verify at the server. */
	amtp_buf_reset(pem);
	while (sk_X509_num(chain) > 1)
		X509_free(sk_X509_pop(chain));
	assert_int_equal(amtp_pki_chain_to_pem(chain, pem), 0);
	assert_int_not_equal(get(pem, key), CURLE_OK);
	amtp_buf_free(pem);
	amtp_secret_free(key);
	amtp_pki_chain_free(chain);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_provisioning_tls),
	};
	int r;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return r;
}
