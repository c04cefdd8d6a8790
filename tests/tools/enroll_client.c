/*
 * amtprov - tests/tools/enroll_client.c: a command-line client of the
 * enrollment point's socket (role enroll), for integration tests; it uses
 * the client API of src/amtprovd/enroll/client.h, as a service point would.
 *
 * usage: enroll_client SOCKET amt-web-csr|8021x-csr DEVICE CSR OUT.pem
 *        enroll_client SOCKET amt-web-keygen|8021x-keygen DEVICE OUT.pem KEY.pem
 *        enroll_client SOCKET chain OUT.pem
 *        enroll_client SOCKET raw TYPE [HEX]   one frame as given
 *        enroll_client SOCKET bytes HEX        bytes, no framing
 *
 * exit: 0 done; 1 failed (the error on stderr); 2 usage; 3 the enrollment
 * point refused the request ("refused: REASON: detail" on stdout); 4 it
 * dropped the connection ("dropped" on stdout).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/pki.h"
#include "amtprov/str.h"

#include "enroll/client.h"

static void
usage(void)
{
	fprintf(stderr,
	    "usage: enroll_client SOCKET amt-web-csr|8021x-csr DEVICE CSR OUT\n"
	    "       enroll_client SOCKET amt-web-keygen|8021x-keygen DEVICE OUT KEY\n"
	    "       enroll_client SOCKET chain OUT\n"
	    "       enroll_client SOCKET raw TYPE [HEX]\n"
	    "       enroll_client SOCKET bytes HEX\n");
	exit(2);
}

static int
status_of(int r)
{
	if (r == AMTP_E_CLOSED) {
		printf("dropped\n");
		return 4;
	}
	fprintf(stderr, "enroll_client: %s\n", amtp_strerror(r));
	return 1;
}

static int
write_cert(const char *path, X509 *c)
{
	FILE *f;
	int ok;

	if ((f = fopen(path, "w")) == NULL)
		return AMTP_E_IO;
	ok = PEM_write_X509(f, c) == 1;
	if (fclose(f) != 0 || !ok)
		return AMTP_E_IO;
	return 0;
}

static int
write_key(const char *path, EVP_PKEY *k)
{
	FILE *f;
	int fd, ok;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		return AMTP_E_IO;
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		return AMTP_E_IO;
	}
	ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
	if (fclose(f) != 0 || !ok)
		return AMTP_E_IO;
	return 0;
}

static int
parse_id(const char *s, int64_t *id)
{
	long long v;

	if (amtp_parse_int(s, 1, INT64_MAX, &v) != 0)
		return -1;
	*id = v;
	return 0;
}

/* Hex text into a new buffer of at most max bytes. */
static struct amtp_buf *
from_hex(const char *hex, size_t max)
{
	struct amtp_buf *b;
	unsigned v;
	size_t i, n = strlen(hex);

	if (n % 2 != 0 || n / 2 > max || (b = amtp_buf_new(max + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i += 2) {
		if (sscanf(hex + i, "%2x", &v) != 1 ||
		    amtp_buf_put_u8(b, (uint8_t)v) != 0) {
			amtp_buf_free(b);
			return NULL;
		}
	}
	return b;
}

static int
do_csr(struct amtp_enroll_client *cl, int web, int argc, char **argv)
{
	enum amtp_pki_reason why;
	struct amtp_buf *csr = NULL;
	char detail[AMTP_ENROLL_DETAIL_MAX + 1];
	X509 *c = NULL;
	int64_t id;
	int r, st;

	if (argc != 3 || parse_id(argv[0], &id) != 0)
		usage();
	if ((r = amtp_buf_load_file(argv[1], AMTP_CSR_MAX + 1, &csr)) != 0) {
		fprintf(stderr, "%s: %s\n", argv[1], amtp_strerror(r));
		return 1;
	}
	if (web)
		r = amtp_enroll_client_amt_web_csr(cl, id, amtp_buf_ptr(csr),
		    amtp_buf_len(csr), &c, &why, detail, sizeof(detail));
	else
		r = amtp_enroll_client_8021x_csr(cl, id, amtp_buf_ptr(csr),
		    amtp_buf_len(csr), &c, &why, detail, sizeof(detail));
	amtp_buf_free(csr);
	if (r == AMTP_E_CERT) {
		printf("refused: %s: %s\n", amtp_pki_reason_name(why), detail);
		return 3;
	}
	if (r != 0)
		return status_of(r);
	st = write_cert(argv[2], c) == 0 ? 0 : 1;
	X509_free(c);
	return st;
}

static int
do_keygen(struct amtp_enroll_client *cl, int web, int argc, char **argv)
{
	EVP_PKEY *k = NULL;
	X509 *c = NULL;
	int64_t id;
	int r, st;

	if (argc != 3 || parse_id(argv[0], &id) != 0)
		usage();
	if (web)
		r = amtp_enroll_client_amt_web_keygen(cl, id, &c, &k);
	else
		r = amtp_enroll_client_8021x_keygen(cl, id, &c, &k);
	if (r != 0)
		return status_of(r);
	st = write_cert(argv[1], c) == 0 && write_key(argv[2], k) == 0 ? 0 : 1;
	X509_free(c);
	EVP_PKEY_free(k);
	return st;
}

static int
do_chain(struct amtp_enroll_client *cl, int argc, char **argv)
{
	STACK_OF(X509) *sk = NULL;
	FILE *f;
	int r, i, ok = 1;

	if (argc != 1)
		usage();
	if ((r = amtp_enroll_client_chain(cl, &sk)) != 0)
		return status_of(r);
	if ((f = fopen(argv[0], "w")) == NULL)
		ok = 0;
	for (i = 0; ok && i < sk_X509_num(sk); i++)
		ok = PEM_write_X509(f, sk_X509_value(sk, i)) == 1;
	if (f != NULL && fclose(f) != 0)
		ok = 0;
	amtp_pki_chain_free(sk);
	return ok ? 0 : 1;
}

static int
do_raw(struct amtp_enroll_client *cl, int argc, char **argv)
{
	struct amtp_buf *b = NULL, *ans = NULL;
	long long type;
	uint32_t at;
	int r;

	if (argc < 1 || argc > 2 ||
	    amtp_parse_int(argv[0], 0, UINT32_MAX, &type) != 0)
		usage();
	if (argc == 2 && (b = from_hex(argv[1], AMTP_IPC_FRAME_MAX)) == NULL)
		usage();
	r = amtp_enroll_client_raw(cl, (uint32_t)type, b ? amtp_buf_ptr(b) :
	    NULL, b ? amtp_buf_len(b) : 0, &at, &ans);
	amtp_buf_free(b);
	if (r != 0)
		return status_of(r);
	printf("answer %u, %zu bytes\n", at, amtp_buf_len(ans));
	amtp_buf_free(ans);
	return 0;
}

/* Bytes without framing on a connection of our own; reports whether the
 * enrollment point closes it. */
static int
do_bytes(const char *path, int argc, char **argv)
{
	struct sockaddr_un sun;
	struct timeval tv = { 5, 0 };
	struct amtp_buf *b;
	char c;
	ssize_t n;
	int fd;

	if (argc != 1 || (b = from_hex(argv[0], AMTP_IPC_FRAME_MAX)) == NULL)
		usage();
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (amtp_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path) ||
	    (fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
		amtp_buf_free(b);
		return 1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    write(fd, amtp_buf_ptr(b), amtp_buf_len(b)) !=
	    (ssize_t)amtp_buf_len(b)) {
		fprintf(stderr, "enroll_client: %s: %s\n", path,
		    strerror(errno));
		amtp_buf_free(b);
		close(fd);
		return 1;
	}
	amtp_buf_free(b);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, &c, 1, 0);
	close(fd);
	if (n == 0) {
		printf("dropped\n");
		return 4;
	}
	printf("not dropped\n");
	return 1;
}

int
main(int argc, char **argv)
{
	struct amtp_enroll_client *cl = NULL;
	const char *cmd;
	int r, st;

	if (argc < 3)
		usage();
	cmd = argv[2];
	if (strcmp(cmd, "bytes") == 0)
		return do_bytes(argv[1], argc - 3, argv + 3);
	if ((r = amtp_enroll_connect(argv[1], 20000, &cl)) != 0) {
		fprintf(stderr, "enroll_client: %s: %s\n", argv[1],
		    amtp_strerror(r));
		return 1;
	}
	if (strcmp(cmd, "amt-web-csr") == 0)
		st = do_csr(cl, 1, argc - 3, argv + 3);
	else if (strcmp(cmd, "8021x-csr") == 0)
		st = do_csr(cl, 0, argc - 3, argv + 3);
	else if (strcmp(cmd, "amt-web-keygen") == 0)
		st = do_keygen(cl, 1, argc - 3, argv + 3);
	else if (strcmp(cmd, "8021x-keygen") == 0)
		st = do_keygen(cl, 0, argc - 3, argv + 3);
	else if (strcmp(cmd, "chain") == 0)
		st = do_chain(cl, argc - 3, argv + 3);
	else if (strcmp(cmd, "raw") == 0)
		st = do_raw(cl, argc - 3, argv + 3);
	else
		usage();
	amtp_enroll_client_free(cl);
	return st;
}
