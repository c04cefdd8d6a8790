/*
 * amtprov - secret.c: boxed secrets, constant-time comparison, the site
 * master key and AES-256-GCM sealing (libamtp; used by every role, the
 * master key only by the process that holds it).  See secret.h.
 *
 * Sealed form: 'A' 'S' 1 | nonce[12] | ciphertext | tag[16].  The nonce is
 * random for every seal (96 bits from getrandom: with at most a few million
 * seals per key the collision chance stays far below 2^-32).  The GCM
 * additional data is the three header bytes followed by the caller's AAD
 * text, so that neither the version byte nor the label can be changed
 * without the tag failing.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/rand.h"
#include "amtprov/secret.h"
#include "amtprov/str.h"

struct amtp_secret {
	uint8_t	*d;	/* len + 1 bytes, d[len] == 0 */
	size_t	 len;
};

struct amtp_master_key {
	uint8_t	 k[AMTP_MASTER_KEY_LEN];
};

#define SEAL_MAGIC0	'A'
#define SEAL_MAGIC1	'S'
#define SEAL_VERSION	1
#define SEAL_HDR_LEN	3

int
amtp_secret_new(const void *data, size_t len, struct amtp_secret **out)
{
	struct amtp_secret *s = NULL;
	int r = AMTP_E_NOMEM;

	*out = NULL;
	if (len > AMTP_SECRET_MAX)
		return AMTP_E_TOOBIG;
	if (data == NULL && len != 0)
		return AMTP_E_INVAL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto out;
	if ((s->d = calloc(1, len + 1)) == NULL)
		goto out;
	if (len > 0)
		memcpy(s->d, data, len);
	s->len = len;
	*out = s;
	s = NULL;
	r = 0;
 out:
	amtp_secret_free(s);
	return r;
}

int
amtp_secret_from_cstr(const char *s, struct amtp_secret **out)
{
	*out = NULL;
	if (s == NULL)
		return AMTP_E_INVAL;
	return amtp_secret_new(s, strlen(s), out);
}

int
amtp_secret_dup(const struct amtp_secret *s, struct amtp_secret **out)
{
	*out = NULL;
	if (s == NULL)
		return AMTP_E_INVAL;
	return amtp_secret_new(s->d, s->len, out);
}

void
amtp_secret_free(struct amtp_secret *s)
{
	if (s == NULL)
		return;
	if (s->d != NULL) {
		explicit_bzero(s->d, s->len + 1);
		free(s->d);
	}
	explicit_bzero(s, sizeof(*s));
	free(s);
}

const uint8_t *
amtp_secret_reveal(const struct amtp_secret *s)
{
	return s == NULL ? NULL : s->d;
}

const char *
amtp_secret_cstr(const struct amtp_secret *s)
{
	return s == NULL ? NULL : (const char *)s->d;
}

size_t
amtp_secret_len(const struct amtp_secret *s)
{
	return s == NULL ? 0 : s->len;
}

int
amtp_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return 0;
	if (alen == 0)
		return 1;
	if (a == NULL || b == NULL)
		return 0;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

int
amtp_secret_equal(const struct amtp_secret *a, const struct amtp_secret *b)
{
	if (a == NULL || b == NULL)
		return 0;
	return amtp_ct_equal(a->d, a->len, b->d, b->len);
}

/* Writes a sentence to err (when there is one). */
static void
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	/* Truncation is acceptable: the message is for a person. */
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
amtp_master_key_from_bytes(const uint8_t key[32], struct amtp_master_key **out)
{
	struct amtp_master_key *k;

	*out = NULL;
	if (key == NULL)
		return AMTP_E_INVAL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return AMTP_E_NOMEM;
	memcpy(k->k, key, sizeof(k->k));
	*out = k;
	return 0;
}

void
amtp_master_key_free(struct amtp_master_key *k)
{
	if (k == NULL)
		return;
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

/*
 * Reads a private file: a regular file owned by the running user that group
 * and others cannot access at all.  what names the file in err ("master
 * key").  At most cap bytes are read into buf; *n gets the count, and a file
 * of more than cap bytes gives AMTP_E_TOOBIG.
 */
static int
read_private(const char *path, const char *what, uint8_t *buf, size_t cap,
    size_t *n, char *err, size_t errlen)
{
	struct stat st;
	uint8_t extra;
	ssize_t got;
	int fd = -1, r = AMTP_E_INVAL;

	*n = 0;
	if (path == NULL || *path == '\0') {
		seterr(err, errlen, "%s: no file name given", what);
		goto out;
	}
	/* O_NONBLOCK: a FIFO planted at path must not hang us; it is
	 * refused as not a regular file below. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1) {
		if (errno == ENOENT || errno == ENOTDIR) {
			r = AMTP_E_NOTFOUND;
			seterr(err, errlen, "%s: %s file does not exist", path,
			    what);
		} else if (errno == EACCES || errno == EPERM) {
			r = AMTP_E_PERM;
			seterr(err, errlen, "%s: %s file cannot be read by this "
			    "user: %s", path, what, strerror(errno));
		} else {
			r = AMTP_E_IO;
			seterr(err, errlen, "%s: %s file: %s", path, what,
			    strerror(errno));
		}
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		r = AMTP_E_IO;
		seterr(err, errlen, "%s: %s file: %s", path, what,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = AMTP_E_PERM;
		seterr(err, errlen, "%s: %s file is not a regular file", path,
		    what);
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		r = AMTP_E_PERM;
		seterr(err, errlen, "%s: %s file has mode %04o, which lets "
		    "group or others at it; it must be 0600 or 0400 (chmod 600 "
		    "%s)", path, what, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		r = AMTP_E_PERM;
		seterr(err, errlen, "%s: %s file is owned by uid %lu, not by "
		    "the running user (uid %lu)", path, what,
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto out;
	}
	for (;;) {
		/* One byte past cap tells "exactly cap" from "more". */
		if (*n < cap)
			got = read(fd, buf + *n, cap - *n);
		else
			got = read(fd, &extra, 1);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			r = AMTP_E_IO;
			seterr(err, errlen, "%s: %s file: %s", path, what,
			    strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		if (*n == cap) {
			r = AMTP_E_TOOBIG;
			seterr(err, errlen, "%s: %s file is larger than %zu "
			    "bytes", path, what, cap);
			goto out;
		}
		*n += (size_t)got;
	}
	r = 0;
 out:
	if (r != 0) {
		explicit_bzero(buf, cap);
		*n = 0;
	}
	if (fd != -1)
		close(fd);
	return r;
}

int
amtp_master_key_load(const char *path, struct amtp_master_key **out,
    char *err, size_t errlen)
{
	uint8_t text[AMTP_MASTER_KEY_FILE_MAX];
	uint8_t key[AMTP_MASTER_KEY_LEN];
	size_t n = 0, hexlen;
	int r;

	*out = NULL;
	seterr(err, errlen, "no error");
	r = read_private(path, "master key", text, sizeof(text), &n, err,
	    errlen);
	if (r == AMTP_E_TOOBIG)
		r = AMTP_E_PARSE;	/* too long to be 64 hex digits */
	if (r != 0) {
		if (r == AMTP_E_PARSE)
			seterr(err, errlen, "%s: master key file must hold "
			    "exactly %d hex digits (and an optional newline)",
			    path, 2 * AMTP_MASTER_KEY_LEN);
		goto out;
	}
	hexlen = n;
	if (hexlen > 0 && text[hexlen - 1] == '\n')
		hexlen--;
	if (hexlen != 2 * AMTP_MASTER_KEY_LEN ||
	    amtp_hex_decode((const char *)text, hexlen, key,
	    sizeof(key)) != 0) {
		r = AMTP_E_PARSE;
		seterr(err, errlen, "%s: master key file must hold exactly %d "
		    "hex digits (and an optional newline)", path,
		    2 * AMTP_MASTER_KEY_LEN);
		goto out;
	}
	if ((r = amtp_master_key_from_bytes(key, out)) != 0) {
		seterr(err, errlen, "%s: %s", path, amtp_strerror(r));
		goto out;
	}
	seterr(err, errlen, "no error");
	r = 0;
 out:
	explicit_bzero(text, sizeof(text));
	explicit_bzero(key, sizeof(key));
	return r;
}

int
amtp_secret_load_file(const char *path, size_t max, struct amtp_secret **out,
    char *err, size_t errlen)
{
	uint8_t *buf = NULL;
	size_t n = 0, cap;
	int r;

	*out = NULL;
	seterr(err, errlen, "no error");
	if (max == 0 || max > AMTP_SECRET_MAX)
		max = AMTP_SECRET_MAX;
	cap = max + 2;	/* room for the "\r\n" that is not counted */
	if ((buf = malloc(cap)) == NULL)
		return AMTP_E_NOMEM;
	if ((r = read_private(path, "secret", buf, cap, &n, err, errlen)) != 0) {
		if (r == AMTP_E_TOOBIG)
			seterr(err, errlen, "%s: secret file holds more than "
			    "%zu bytes", path, max);
		goto out;
	}
	if (n > 0 && buf[n - 1] == '\n') {
		n--;
		if (n > 0 && buf[n - 1] == '\r')
			n--;
	}
	if (n > max) {
		r = AMTP_E_TOOBIG;
		seterr(err, errlen, "%s: secret file holds more than %zu bytes",
		    path, max);
		goto out;
	}
	if (memchr(buf, '\0', n) != NULL) {
		r = AMTP_E_EMBEDDED_NUL;
		seterr(err, errlen, "%s: secret file contains a NUL byte",
		    path);
		goto out;
	}
	if ((r = amtp_secret_new(buf, n, out)) != 0) {
		seterr(err, errlen, "%s: %s", path, amtp_strerror(r));
		goto out;
	}
	r = 0;
 out:
	explicit_bzero(buf, cap);
	free(buf);
	return r;
}

int
amtp_master_key_create(const char *path, char *err, size_t errlen)
{
	char text[2 * AMTP_MASTER_KEY_LEN + 2];
	uint8_t key[AMTP_MASTER_KEY_LEN];
	size_t n = 0;
	ssize_t w;
	mode_t old;
	int fd = -1, r = AMTP_E_INVAL, created = 0;

	seterr(err, errlen, "no error");
	if (path == NULL || *path == '\0') {
		seterr(err, errlen, "master key: no file name given");
		goto out;
	}
	if ((r = amtp_rand_bytes(key, sizeof(key))) != 0) {
		seterr(err, errlen, "%s: no random bytes for the master key",
		    path);
		goto out;
	}
	if ((r = amtp_hex_encode(text, sizeof(text), key, sizeof(key), 0)) != 0)
		goto out;
	text[2 * AMTP_MASTER_KEY_LEN] = '\n';
	text[2 * AMTP_MASTER_KEY_LEN + 1] = '\0';

	/* O_EXCL: never overwrite a key (it would orphan every sealed value);
	 * umask 077 and mode 0600 so no other user can ever read it. */
	old = umask(077);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	umask(old);
	if (fd == -1) {
		if (errno == EEXIST) {
			r = AMTP_E_EXISTS;
			seterr(err, errlen, "%s: master key file already exists; "
			    "refusing to replace it", path);
		} else if (errno == EACCES || errno == EPERM) {
			r = AMTP_E_PERM;
			seterr(err, errlen, "%s: cannot create master key file: "
			    "%s", path, strerror(errno));
		} else if (errno == ENOENT || errno == ENOTDIR) {
			r = AMTP_E_NOTFOUND;
			seterr(err, errlen, "%s: cannot create master key file: "
			    "%s", path, strerror(errno));
		} else {
			r = AMTP_E_IO;
			seterr(err, errlen, "%s: cannot create master key file: "
			    "%s", path, strerror(errno));
		}
		goto out;
	}
	created = 1;
	while (n < 2 * AMTP_MASTER_KEY_LEN + 1) {
		w = write(fd, text + n, 2 * AMTP_MASTER_KEY_LEN + 1 - n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = AMTP_E_IO;
			seterr(err, errlen, "%s: writing master key: %s", path,
			    w == -1 ? strerror(errno) : "short write");
			goto out;
		}
		n += (size_t)w;
	}
	if (fsync(fd) == -1) {
		r = AMTP_E_IO;
		seterr(err, errlen, "%s: fsync: %s", path, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		r = AMTP_E_IO;
		seterr(err, errlen, "%s: close: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	created = 0;
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	if (created)
		unlink(path);	/* a half-written key is worse than none */
	explicit_bzero(text, sizeof(text));
	explicit_bzero(key, sizeof(key));
	return r;
}

/*
 * AES-256-GCM of in[0..len) into ct (len bytes) and tag, with AAD
 * hdr || aad.  enc selects the direction; on decryption tag is checked and
 * AMTP_E_CRYPTO returned when it does not verify.
 */
static int
gcm(int enc, const struct amtp_master_key *k, const uint8_t *nonce,
    const uint8_t *hdr, const char *aad, const uint8_t *in, size_t len,
    uint8_t *outb, uint8_t *tag)
{
	EVP_CIPHER_CTX *ctx = NULL;
	size_t aadlen = strlen(aad);
	int n, r = AMTP_E_CRYPTO;

	if (len > INT32_MAX || aadlen > INT32_MAX)
		return AMTP_E_TOOBIG;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
	    enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, AMTP_SEAL_NONCE_LEN,
	    NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, k->k, nonce, enc) != 1)
		goto out;
	if (EVP_CipherUpdate(ctx, NULL, &n, hdr, SEAL_HDR_LEN) != 1)
		goto out;
	if (aadlen > 0 && EVP_CipherUpdate(ctx, NULL, &n,
	    (const uint8_t *)aad, (int)aadlen) != 1)
		goto out;
	if (len > 0 && (EVP_CipherUpdate(ctx, outb, &n, in, (int)len) != 1 ||
	    (size_t)n != len))
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
	    AMTP_SEAL_TAG_LEN, tag) != 1)
		goto out;
	/* GCM is a stream mode: Final writes nothing, but give it room. */
	if (EVP_CipherFinal_ex(ctx, outb + len, &n) != 1 || n != 0)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
	    AMTP_SEAL_TAG_LEN, tag) != 1)
		goto out;
	r = 0;
 out:
	EVP_CIPHER_CTX_free(ctx);	/* cleanses the key schedule */
	return r;
}

/* The sealed bytes of s in a new heap buffer *sealed of *slen bytes. */
static int
seal_raw(const struct amtp_master_key *k, const struct amtp_secret *s,
    const char *aad, uint8_t **sealed, size_t *slen)
{
	static const uint8_t hdr[SEAL_HDR_LEN] =
	    { SEAL_MAGIC0, SEAL_MAGIC1, SEAL_VERSION };
	uint8_t *b = NULL, *nonce, *ct, *tag;
	size_t total;
	int r;

	*sealed = NULL;
	*slen = 0;
	if (k == NULL || s == NULL || aad == NULL)
		return AMTP_E_INVAL;
	if (s->len > AMTP_SECRET_MAX)
		return AMTP_E_TOOBIG;
	total = SEAL_HDR_LEN + AMTP_SEAL_NONCE_LEN + s->len + AMTP_SEAL_TAG_LEN;
	/* + 1: room for EVP_CipherFinal_ex, which writes nothing for GCM. */
	if ((b = calloc(1, total + 1)) == NULL)
		return AMTP_E_NOMEM;
	memcpy(b, hdr, SEAL_HDR_LEN);
	nonce = b + SEAL_HDR_LEN;
	ct = nonce + AMTP_SEAL_NONCE_LEN;
	tag = ct + s->len;
	if ((r = amtp_rand_bytes(nonce, AMTP_SEAL_NONCE_LEN)) != 0)
		goto out;
	if ((r = gcm(1, k, nonce, hdr, aad, s->d, s->len, ct, tag)) != 0)
		goto out;
	*sealed = b;
	*slen = total;
	b = NULL;
	r = 0;
 out:
	if (b != NULL) {
		OPENSSL_cleanse(b, total + 1);
		free(b);
	}
	return r;
}

int
amtp_secret_seal(const struct amtp_master_key *k, const struct amtp_secret *s,
    const char *aad, struct amtp_buf *out)
{
	uint8_t *sealed = NULL;
	size_t slen = 0;
	int r;

	if (out == NULL)
		return AMTP_E_INVAL;
	if ((r = seal_raw(k, s, aad, &sealed, &slen)) != 0)
		goto out;
	if (amtp_buf_avail(out) < slen) {
		r = AMTP_E_TOOBIG;
		goto out;
	}
	r = amtp_buf_put(out, sealed, slen);
 out:
	if (sealed != NULL) {
		OPENSSL_cleanse(sealed, slen);
		free(sealed);
	}
	return r;
}

int
amtp_secret_seal_b64(const struct amtp_master_key *k,
    const struct amtp_secret *s, const char *aad, struct amtp_buf *out)
{
	uint8_t *sealed = NULL;
	size_t slen = 0;
	int r;

	if (out == NULL)
		return AMTP_E_INVAL;
	if ((r = seal_raw(k, s, aad, &sealed, &slen)) != 0)
		goto out;
	if (amtp_buf_avail(out) < 4 * ((slen + 2) / 3)) {
		r = AMTP_E_TOOBIG;
		goto out;
	}
	r = amtp_b64_encode(out, sealed, slen);
 out:
	if (sealed != NULL) {
		OPENSSL_cleanse(sealed, slen);
		free(sealed);
	}
	return r;
}

int
amtp_secret_open(const struct amtp_master_key *k, const void *sealed,
    size_t len, const char *aad, struct amtp_secret **out)
{
	const uint8_t *p = sealed, *nonce, *ct;
	uint8_t tag[AMTP_SEAL_TAG_LEN];
	struct amtp_secret *s = NULL;
	size_t ctlen;
	int r = AMTP_E_INVAL;

	*out = NULL;
	if (k == NULL || aad == NULL || (sealed == NULL && len != 0))
		goto out;
	r = AMTP_E_PARSE;
	if (len < AMTP_SEAL_OVERHEAD || len > AMTP_SEALED_MAX)
		goto out;
	if (p[0] != SEAL_MAGIC0 || p[1] != SEAL_MAGIC1 ||
	    p[2] != SEAL_VERSION)
		goto out;
	nonce = p + SEAL_HDR_LEN;
	ct = nonce + AMTP_SEAL_NONCE_LEN;
	ctlen = len - AMTP_SEAL_OVERHEAD;
	memcpy(tag, ct + ctlen, sizeof(tag));
	r = AMTP_E_NOMEM;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto out;
	/* + 1 for the NUL, which also gives EVP_CipherFinal_ex its room. */
	if ((s->d = calloc(1, ctlen + 1)) == NULL)
		goto out;
	s->len = ctlen;
	if ((r = gcm(0, k, nonce, p, aad, ct, ctlen, s->d, tag)) != 0)
		goto out;	/* s is wiped by amtp_secret_free */
	s->d[ctlen] = '\0';
	*out = s;
	s = NULL;
	r = 0;
 out:
	amtp_secret_free(s);
	return r;
}

int
amtp_secret_open_b64(const struct amtp_master_key *k, const char *sealed,
    const char *aad, struct amtp_secret **out)
{
	struct amtp_buf *b = NULL;
	size_t len;
	int r;

	*out = NULL;
	if (sealed == NULL)
		return AMTP_E_INVAL;
	/* Bound the text before decoding: twice the padded encoding of the
	 * largest blob leaves room for any line breaks. */
	len = strlen(sealed);
	if (len > 2 * 4 * ((AMTP_SEALED_MAX + 2) / 3))
		return AMTP_E_PARSE;
	if ((b = amtp_buf_new(AMTP_SEALED_MAX)) == NULL)
		return AMTP_E_NOMEM;
	if ((r = amtp_b64_decode(b, sealed, len)) != 0) {
		if (r == AMTP_E_TOOBIG)
			r = AMTP_E_PARSE;
		goto out;
	}
	r = amtp_secret_open(k, amtp_buf_ptr(b), amtp_buf_len(b), aad, out);
 out:
	amtp_buf_free(b);
	return r;
}
