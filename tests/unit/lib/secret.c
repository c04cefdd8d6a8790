/* Unit tests for src/lib/secret.c: boxed secrets, constant-time compare, the
 * master key file and AES-256-GCM sealing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/secret.h"

static char tmpdir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/amtp-secret-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
path_in_tmp(char *dst, size_t dstsz, const char *name)
{
	int n = snprintf(dst, dstsz, "%s/%s", tmpdir, name);

	assert_true(n > 0 && (size_t)n < dstsz);
}

static void
write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	FILE *f;

	unlink(path);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static const uint8_t key1[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};
static const char key1_hex[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static void
test_secret_basic(void **state)
{
	struct amtp_secret *s = (void *)1, *d = NULL;
	uint8_t *big;

	(void)state;
	assert_int_equal(amtp_secret_new("pa\0ss", 5, &s), 0);
	assert_int_equal(amtp_secret_len(s), 5);
	assert_memory_equal(amtp_secret_reveal(s), "pa\0ss", 6);	/* + NUL */
	assert_int_equal(amtp_secret_dup(s, &d), 0);
	assert_true(amtp_secret_equal(s, d));
	assert_ptr_not_equal(amtp_secret_reveal(s), amtp_secret_reveal(d));
	amtp_secret_free(s);
	amtp_secret_free(d);

	/* Empty. */
	assert_int_equal(amtp_secret_new(NULL, 0, &s), 0);
	assert_int_equal(amtp_secret_len(s), 0);
	assert_string_equal(amtp_secret_cstr(s), "");
	amtp_secret_free(s);
	s = (void *)1;
	assert_int_equal(amtp_secret_new(NULL, 1, &s), AMTP_E_INVAL);
	assert_null(s);

	/* Exactly at the limit, and one over. */
	assert_non_null(big = calloc(1, AMTP_SECRET_MAX + 1));
	memset(big, 'x', AMTP_SECRET_MAX + 1);
	assert_int_equal(amtp_secret_new(big, AMTP_SECRET_MAX, &s), 0);
	assert_int_equal(amtp_secret_len(s), AMTP_SECRET_MAX);
	assert_int_equal(strlen(amtp_secret_cstr(s)), AMTP_SECRET_MAX);
	amtp_secret_free(s);
	s = (void *)1;
	assert_int_equal(amtp_secret_new(big, AMTP_SECRET_MAX + 1, &s),
	    AMTP_E_TOOBIG);
	assert_null(s);
	free(big);

	assert_int_equal(amtp_secret_from_cstr("hunter2", &s), 0);
	assert_string_equal(amtp_secret_cstr(s), "hunter2");
	assert_int_equal(amtp_secret_len(s), 7);
	amtp_secret_free(s);
	assert_int_equal(amtp_secret_from_cstr(NULL, &s), AMTP_E_INVAL);
	amtp_secret_free(NULL);
	assert_null(amtp_secret_cstr(NULL));
	assert_int_equal(amtp_secret_len(NULL), 0);
}

static void
test_ct_equal(void **state)
{
	struct amtp_secret *a, *b, *c;

	(void)state;
	assert_true(amtp_ct_equal("abc", 3, "abc", 3));
	assert_false(amtp_ct_equal("abc", 3, "abd", 3));
	assert_false(amtp_ct_equal("xbc", 3, "abc", 3));
	assert_false(amtp_ct_equal("abc", 3, "abcd", 4));
	assert_false(amtp_ct_equal("abc", 3, "ab", 2));
	assert_true(amtp_ct_equal("", 0, NULL, 0));
	assert_int_equal(amtp_secret_from_cstr("same", &a), 0);
	assert_int_equal(amtp_secret_from_cstr("same", &b), 0);
	assert_int_equal(amtp_secret_from_cstr("samE", &c), 0);
	assert_true(amtp_secret_equal(a, b));
	assert_false(amtp_secret_equal(a, c));
	assert_false(amtp_secret_equal(a, NULL));
	amtp_secret_free(a);
	amtp_secret_free(b);
	amtp_secret_free(c);
}

static void
test_master_key_create_load(void **state)
{
	char path[128], err[256], text[80];
	struct amtp_master_key *k = (void *)1, *k2 = NULL;
	struct amtp_secret *s, *o;
	struct amtp_buf *b;
	struct stat st;
	FILE *f;
	size_t n;

	(void)state;
	path_in_tmp(path, sizeof(path), "master.key");
	assert_int_equal(amtp_master_key_create(path, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 65);
	assert_non_null(f = fopen(path, "r"));
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	assert_int_equal(n, 65);
	assert_int_equal(text[64], '\n');
	assert_int_equal(strspn(text, "0123456789abcdef"), 64);

	/* Never overwritten. */
	assert_int_equal(amtp_master_key_create(path, err, sizeof(err)),
	    AMTP_E_EXISTS);
	assert_non_null(strstr(err, path));
	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fread(text + 1, 1, 65, f), 65);
	fclose(f);

	assert_int_equal(amtp_master_key_load(path, &k, err, sizeof(err)), 0);
	assert_non_null(k);
	/* 0400 is fine as well. */
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(amtp_master_key_load(path, &k2, NULL, 0), 0);

	/* Two loads of one file seal and open for each other. */
	assert_int_equal(amtp_secret_from_cstr("pw", &s), 0);
	assert_non_null(b = amtp_buf_new(256));
	assert_int_equal(amtp_secret_seal(k, s, "x", b), 0);
	assert_int_equal(amtp_secret_open(k2, amtp_buf_ptr(b), amtp_buf_len(b),
	    "x", &o), 0);
	assert_true(amtp_secret_equal(s, o));
	amtp_secret_free(o);
	amtp_secret_free(s);
	amtp_buf_free(b);
	amtp_master_key_free(k);
	amtp_master_key_free(k2);
	amtp_master_key_free(NULL);

	/* Missing folder. */
	path_in_tmp(path, sizeof(path), "nodir/master.key");
	assert_int_equal(amtp_master_key_create(path, err, sizeof(err)),
	    AMTP_E_NOTFOUND);
	assert_int_equal(amtp_master_key_create("", err, sizeof(err)),
	    AMTP_E_INVAL);
}

static void
test_master_key_load_errors(void **state)
{
	char path[128], err[256];
	char bad[80];
	struct amtp_master_key *k = (void *)1;

	(void)state;
	path_in_tmp(path, sizeof(path), "mk");

	/* Missing. */
	unlink(path);
	assert_int_equal(amtp_master_key_load(path, &k, err, sizeof(err)),
	    AMTP_E_NOTFOUND);
	assert_null(k);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "does not exist"));

	/* Good content, looser permissions. */
	write_file(path, key1_hex, 64, 0640);
	assert_int_equal(amtp_master_key_load(path, &k, err, sizeof(err)),
	    AMTP_E_PERM);
	assert_null(k);
	assert_non_null(strstr(err, "0640"));
	assert_non_null(strstr(err, "0600"));
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(amtp_master_key_load(path, &k, err, sizeof(err)),
	    AMTP_E_PERM);
	assert_int_equal(chmod(path, 0610), 0);
	assert_int_equal(amtp_master_key_load(path, &k, err, sizeof(err)),
	    AMTP_E_PERM);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(amtp_master_key_load(path, &k, err, sizeof(err)), 0);
	amtp_master_key_free(k);

	/* Unreadable (root reads anything, so only as another user). */
	if (geteuid() != 0) {
		assert_int_equal(chmod(path, 0200), 0);
		assert_int_equal(amtp_master_key_load(path, &k, err,
		    sizeof(err)), AMTP_E_PERM);
		assert_non_null(strstr(err, "cannot be read"));
	}

	/* Not a regular file: a folder, and a FIFO (which must not block). */
	assert_int_equal(amtp_master_key_load(tmpdir, &k, err, sizeof(err)),
	    AMTP_E_PERM);
	{
		char fifo[160];

		path_in_tmp(fifo, sizeof(fifo), "fifo");
		assert_int_equal(mkfifo(fifo, 0600), 0);
		assert_int_equal(amtp_master_key_load(fifo, &k, err,
		    sizeof(err)), AMTP_E_PERM);
		assert_non_null(strstr(err, "not a regular file"));
		unlink(fifo);
	}

	/* Content: exactly 64 hex digits, optional newline. */
	write_file(path, "", 0, 0600);
	assert_int_equal(amtp_master_key_load(path, &k, err, sizeof(err)),
	    AMTP_E_PARSE);
	assert_non_null(strstr(err, "64 hex digits"));
	write_file(path, key1_hex, 63, 0600);
	assert_int_equal(amtp_master_key_load(path, &k, err, sizeof(err)),
	    AMTP_E_PARSE);
	snprintf(bad, sizeof(bad), "%s0", key1_hex);
	write_file(path, bad, 65, 0600);
	assert_int_equal(amtp_master_key_load(path, &k, err, sizeof(err)),
	    AMTP_E_PARSE);
	snprintf(bad, sizeof(bad), "%s\n\n", key1_hex);
	write_file(path, bad, 66, 0600);
	assert_int_equal(amtp_master_key_load(path, &k, err, sizeof(err)),
	    AMTP_E_PARSE);
	snprintf(bad, sizeof(bad), "%s", key1_hex);
	bad[10] = 'g';
	write_file(path, bad, 64, 0600);
	assert_int_equal(amtp_master_key_load(path, &k, err, sizeof(err)),
	    AMTP_E_PARSE);
	assert_null(k);
	snprintf(bad, sizeof(bad), " %.63s", key1_hex);
	write_file(path, bad, 64, 0600);
	assert_int_equal(amtp_master_key_load(path, &k, err, sizeof(err)),
	    AMTP_E_PARSE);
	/* Larger than the file limit. */
	{
		char huge[AMTP_MASTER_KEY_FILE_MAX + 10];

		memset(huge, 'a', sizeof(huge));
		write_file(path, huge, sizeof(huge), 0600);
		assert_int_equal(amtp_master_key_load(path, &k, err,
		    sizeof(err)), AMTP_E_PARSE);
	}

	/* Upper case and a newline are fine. */
	snprintf(bad, sizeof(bad), "%s\n", key1_hex);
	bad[21] = 'A';	/* byte 10, "0a" -> "0A" */
	write_file(path, bad, 65, 0600);
	assert_int_equal(amtp_master_key_load(path, &k, err, sizeof(err)), 0);
	amtp_master_key_free(k);
}

/* Seals s under k1 and checks the blob against an independent decryption
 * with EVP, following the documented format. */
static void
check_format(const uint8_t *blob, size_t len, const char *aad,
    const void *plain, size_t plen)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t out[64 + 16];
	int n;

	assert_int_equal(len, AMTP_SEAL_OVERHEAD + plen);
	assert_int_equal(blob[0], 'A');
	assert_int_equal(blob[1], 'S');
	assert_int_equal(blob[2], 1);
	assert_true(plen <= 64);
	assert_non_null(ctx = EVP_CIPHER_CTX_new());
	assert_int_equal(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL,
	    key1, blob + 3), 1);	/* default IV length is 12 */
	assert_int_equal(EVP_DecryptUpdate(ctx, NULL, &n, blob, 3), 1);
	assert_int_equal(EVP_DecryptUpdate(ctx, NULL, &n, (const uint8_t *)aad,
	    (int)strlen(aad)), 1);
	assert_int_equal(EVP_DecryptUpdate(ctx, out, &n, blob + 15,
	    (int)plen), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16,
	    (void *)(blob + 15 + plen)), 1);
	assert_int_equal(EVP_DecryptFinal_ex(ctx, out + plen, &n), 1);
	assert_memory_equal(out, plain, plen);
	EVP_CIPHER_CTX_free(ctx);
}

static void
test_seal_open(void **state)
{
	struct amtp_master_key *k, *k2;
	struct amtp_secret *s, *o = (void *)1, *e;
	struct amtp_buf *b, *b2, *small;
	uint8_t key2[32], *t;
	size_t len, i;

	(void)state;
	memcpy(key2, key1, 32);
	key2[31] ^= 1;
	assert_int_equal(amtp_master_key_from_bytes(key1, &k), 0);
	assert_int_equal(amtp_master_key_from_bytes(key2, &k2), 0);
	assert_int_equal(amtp_secret_from_cstr("Admin!Pass1", &s), 0);
	assert_non_null(b = amtp_buf_new(AMTP_SEALED_MAX));
	assert_non_null(b2 = amtp_buf_new(AMTP_SEALED_MAX));

	assert_int_equal(amtp_secret_seal(k, s, "device 12 admin v3", b), 0);
	len = amtp_buf_len(b);
	check_format(amtp_buf_ptr(b), len, "device 12 admin v3", "Admin!Pass1",
	    11);
	/* A second seal uses another nonce. */
	assert_int_equal(amtp_secret_seal(k, s, "device 12 admin v3", b2), 0);
	assert_int_equal(amtp_buf_len(b2), len);
	assert_memory_not_equal(amtp_buf_ptr(b) + 3, amtp_buf_ptr(b2) + 3, 12);

	assert_int_equal(amtp_secret_open(k, amtp_buf_ptr(b), len,
	    "device 12 admin v3", &o), 0);
	assert_string_equal(amtp_secret_cstr(o), "Admin!Pass1");
	assert_true(amtp_secret_equal(o, s));
	amtp_secret_free(o);

	/* Wrong key, wrong AAD. */
	o = (void *)1;
	assert_int_equal(amtp_secret_open(k2, amtp_buf_ptr(b), len,
	    "device 12 admin v3", &o), AMTP_E_CRYPTO);
	assert_null(o);
	assert_int_equal(amtp_secret_open(k, amtp_buf_ptr(b), len,
	    "device 13 admin v3", &o), AMTP_E_CRYPTO);
	assert_int_equal(amtp_secret_open(k, amtp_buf_ptr(b), len, "", &o),
	    AMTP_E_CRYPTO);

	/* A flipped bit anywhere in nonce, ciphertext or tag. */
	assert_non_null(t = malloc(len));
	for (i = 3; i < len; i++) {
		memcpy(t, amtp_buf_ptr(b), len);
		t[i] ^= 0x40;
		o = (void *)1;
		assert_int_equal(amtp_secret_open(k, t, len,
		    "device 12 admin v3", &o), AMTP_E_CRYPTO);
		assert_null(o);
	}
	/* A header byte changed: not ours. */
	for (i = 0; i < 3; i++) {
		memcpy(t, amtp_buf_ptr(b), len);
		t[i] ^= 0x02;
		assert_int_equal(amtp_secret_open(k, t, len,
		    "device 12 admin v3", &o), AMTP_E_PARSE);
	}
	/* Truncated: one byte short of a tag still parses, then fails. */
	memcpy(t, amtp_buf_ptr(b), len);
	assert_int_equal(amtp_secret_open(k, t, len - 1, "device 12 admin v3",
	    &o), AMTP_E_CRYPTO);
	assert_int_equal(amtp_secret_open(k, t, AMTP_SEAL_OVERHEAD - 1,
	    "device 12 admin v3", &o), AMTP_E_PARSE);
	assert_int_equal(amtp_secret_open(k, t, 0, "device 12 admin v3", &o),
	    AMTP_E_PARSE);
	assert_int_equal(amtp_secret_open(k, NULL, 0, "x", &o), AMTP_E_PARSE);
	assert_int_equal(amtp_secret_open(k, t, len, NULL, &o), AMTP_E_INVAL);
	free(t);

	/* Output buffer too small: error, buffer untouched. */
	assert_non_null(small = amtp_buf_new(AMTP_SEAL_OVERHEAD + 10));
	assert_int_equal(amtp_buf_put(small, "ab", 2), 0);
	assert_int_equal(amtp_secret_seal(k, s, "a", small), AMTP_E_TOOBIG);
	assert_int_equal(amtp_buf_len(small), 2);
	assert_int_equal(amtp_secret_seal(k, s, NULL, small), AMTP_E_INVAL);
	amtp_buf_free(small);

	/* Empty secret, empty AAD. */
	amtp_buf_reset(b);
	assert_int_equal(amtp_secret_new(NULL, 0, &e), 0);
	assert_int_equal(amtp_secret_seal(k, e, "", b), 0);
	check_format(amtp_buf_ptr(b), amtp_buf_len(b), "", "", 0);
	assert_int_equal(amtp_buf_len(b), AMTP_SEAL_OVERHEAD);
	assert_int_equal(amtp_secret_open(k, amtp_buf_ptr(b), amtp_buf_len(b),
	    "", &o), 0);
	assert_int_equal(amtp_secret_len(o), 0);
	amtp_secret_free(o);
	amtp_secret_free(e);

	amtp_secret_free(s);
	amtp_buf_free(b);
	amtp_buf_free(b2);
	amtp_master_key_free(k);
	amtp_master_key_free(k2);
}

static void
test_seal_limits(void **state)
{
	struct amtp_master_key *k;
	struct amtp_secret *s, *o;
	struct amtp_buf *b;
	uint8_t *big;

	(void)state;
	assert_int_equal(amtp_master_key_from_bytes(key1, &k), 0);
	assert_non_null(big = malloc(AMTP_SECRET_MAX));
	memset(big, 0xa5, AMTP_SECRET_MAX);
	assert_int_equal(amtp_secret_new(big, AMTP_SECRET_MAX, &s), 0);
	assert_non_null(b = amtp_buf_new(AMTP_SEALED_MAX));
	assert_int_equal(amtp_secret_seal(k, s, "pem", b), 0);
	assert_int_equal(amtp_buf_len(b), AMTP_SEALED_MAX);
	assert_int_equal(amtp_secret_open(k, amtp_buf_ptr(b), amtp_buf_len(b),
	    "pem", &o), 0);
	assert_true(amtp_secret_equal(s, o));
	amtp_secret_free(o);
	/* One byte over the largest blob is refused before any crypto. */
	assert_int_equal(amtp_buf_put_u8(b, 0), AMTP_E_TOOBIG);
	{
		uint8_t *over = malloc(AMTP_SEALED_MAX + 1);

		assert_non_null(over);
		memcpy(over, amtp_buf_ptr(b), AMTP_SEALED_MAX);
		over[AMTP_SEALED_MAX] = 0;
		assert_int_equal(amtp_secret_open(k, over, AMTP_SEALED_MAX + 1,
		    "pem", &o), AMTP_E_PARSE);
		free(over);
	}
	amtp_secret_free(s);
	amtp_buf_free(b);
	free(big);
	amtp_master_key_free(k);
}

static void
test_seal_b64(void **state)
{
	struct amtp_master_key *k;
	struct amtp_secret *s, *o = NULL;
	struct amtp_buf *b;
	char *t;

	(void)state;
	assert_int_equal(amtp_master_key_from_bytes(key1, &k), 0);
	assert_int_equal(amtp_secret_from_cstr("MEBx-Pass1", &s), 0);
	assert_non_null(b = amtp_buf_new(1024));
	assert_int_equal(amtp_secret_seal_b64(k, s, "dev 1 mebx", b), 0);
	/* 31 + 10 bytes -> 56 base64 characters, ASCII only. */
	assert_int_equal(amtp_buf_len(b), 56);
	assert_int_equal(strspn(amtp_buf_str(b), "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/="), 56);
	assert_int_equal(strncmp(amtp_buf_str(b), "QVMB", 4), 0); /* 'A''S'1 */
	assert_int_equal(amtp_secret_open_b64(k, amtp_buf_str(b), "dev 1 mebx",
	    &o), 0);
	assert_string_equal(amtp_secret_cstr(o), "MEBx-Pass1");
	amtp_secret_free(o);
	assert_int_equal(amtp_secret_open_b64(k, amtp_buf_str(b), "dev 2 mebx",
	    &o), AMTP_E_CRYPTO);
	assert_null(o);

	/* Not base64, truncated base64, empty. */
	assert_int_equal(amtp_secret_open_b64(k, "QVMB*AAA", "", &o),
	    AMTP_E_PARSE);
	assert_non_null(t = strdup(amtp_buf_str(b)));
	t[strlen(t) - 1] = '\0';
	assert_int_equal(amtp_secret_open_b64(k, t, "dev 1 mebx", &o),
	    AMTP_E_PARSE);
	free(t);
	assert_int_equal(amtp_secret_open_b64(k, "", "", &o), AMTP_E_PARSE);
	assert_int_equal(amtp_secret_open_b64(k, NULL, "", &o), AMTP_E_INVAL);

	amtp_secret_free(s);
	amtp_buf_free(b);
	amtp_master_key_free(k);
}

static void
test_secret_load_file(void **state)
{
	char path[128], err[256], *big;
	struct amtp_secret *s = (void *)1;

	(void)state;
	path_in_tmp(path, sizeof(path), "pw");
	unlink(path);
	assert_int_equal(amtp_secret_load_file(path, 0, &s, err, sizeof(err)),
	    AMTP_E_NOTFOUND);
	assert_null(s);
	assert_non_null(strstr(err, path));

	/* One trailing newline (LF or CRLF) is not part of the secret. */
	write_file(path, "Pass!word1\n", 11, 0600);
	assert_int_equal(amtp_secret_load_file(path, 0, &s, err, sizeof(err)),
	    0);
	assert_string_equal(amtp_secret_cstr(s), "Pass!word1");
	amtp_secret_free(s);
	write_file(path, "Pass!word1\r\n", 12, 0400);
	assert_int_equal(amtp_secret_load_file(path, 0, &s, err, sizeof(err)),
	    0);
	assert_string_equal(amtp_secret_cstr(s), "Pass!word1");
	amtp_secret_free(s);
	write_file(path, " pw \n\n", 6, 0600);	/* only one, no trimming */
	assert_int_equal(amtp_secret_load_file(path, 0, &s, err, sizeof(err)),
	    0);
	assert_string_equal(amtp_secret_cstr(s), " pw \n");
	amtp_secret_free(s);
	write_file(path, "", 0, 0600);
	assert_int_equal(amtp_secret_load_file(path, 0, &s, err, sizeof(err)),
	    0);
	assert_int_equal(amtp_secret_len(s), 0);
	amtp_secret_free(s);

	/* Permissions, as for the master key. */
	write_file(path, "pw", 2, 0640);
	assert_int_equal(amtp_secret_load_file(path, 0, &s, err, sizeof(err)),
	    AMTP_E_PERM);
	assert_null(s);
	assert_non_null(strstr(err, "0640"));
	write_file(path, "pw", 2, 0602);
	assert_int_equal(amtp_secret_load_file(path, 0, &s, err, sizeof(err)),
	    AMTP_E_PERM);
	assert_int_equal(amtp_secret_load_file(tmpdir, 0, &s, err, sizeof(err)),
	    AMTP_E_PERM);

	/* Exactly max, with and without a newline; one over. */
	write_file(path, "12345678", 8, 0600);
	assert_int_equal(amtp_secret_load_file(path, 8, &s, err, sizeof(err)),
	    0);
	amtp_secret_free(s);
	write_file(path, "12345678\r\n", 10, 0600);
	assert_int_equal(amtp_secret_load_file(path, 8, &s, err, sizeof(err)),
	    0);
	assert_int_equal(amtp_secret_len(s), 8);
	amtp_secret_free(s);
	write_file(path, "123456789", 9, 0600);
	assert_int_equal(amtp_secret_load_file(path, 8, &s, err, sizeof(err)),
	    AMTP_E_TOOBIG);
	write_file(path, "12345678\r\n\n", 11, 0600);
	assert_int_equal(amtp_secret_load_file(path, 8, &s, err, sizeof(err)),
	    AMTP_E_TOOBIG);
	assert_non_null(strstr(err, "more than 8 bytes"));
	/* The default maximum is AMTP_SECRET_MAX. */
	assert_non_null(big = malloc(AMTP_SECRET_MAX + 1));
	memset(big, 'k', AMTP_SECRET_MAX + 1);
	write_file(path, big, AMTP_SECRET_MAX, 0600);
	assert_int_equal(amtp_secret_load_file(path, 0, &s, err, sizeof(err)),
	    0);
	assert_int_equal(amtp_secret_len(s), AMTP_SECRET_MAX);
	amtp_secret_free(s);
	write_file(path, big, AMTP_SECRET_MAX + 1, 0600);
	assert_int_equal(amtp_secret_load_file(path, 0, &s, err, sizeof(err)),
	    AMTP_E_TOOBIG);
	assert_non_null(strstr(err, "more than"));
	free(big);

	/* A NUL inside. */
	write_file(path, "p\0w", 3, 0600);
	assert_int_equal(amtp_secret_load_file(path, 0, &s, err, sizeof(err)),
	    AMTP_E_EMBEDDED_NUL);
	assert_null(s);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_basic),
		cmocka_unit_test(test_ct_equal),
		cmocka_unit_test(test_master_key_create_load),
		cmocka_unit_test(test_master_key_load_errors),
		cmocka_unit_test(test_seal_open),
		cmocka_unit_test(test_seal_limits),
		cmocka_unit_test(test_seal_b64),
		cmocka_unit_test(test_secret_load_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
