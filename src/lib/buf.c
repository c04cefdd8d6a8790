/*
 * amtprov - buf.c: bounded byte buffers (libamtp, all roles).  See buf.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"

struct amtp_buf {
	uint8_t *d;	/* alloc bytes; d[end] is always 0 */
	size_t off;	/* read cursor */
	size_t end;	/* end of data */
	size_t alloc;	/* allocated, > end */
	size_t max;	/* most data bytes ever held */
};

#define BUF_MIN_ALLOC 64

static void
check(const struct amtp_buf *b)
{
	if (b == NULL || b->d == NULL || b->off > b->end ||
	    b->end >= b->alloc || b->end > b->max || b->d[b->end] != 0 ||
	    b->max > AMTP_BUF_MAX_ANY) {
		/* Memory corruption or a caller bug: do not go on. */
		abort();
	}
}

struct amtp_buf *
amtp_buf_new(size_t max)
{
	struct amtp_buf *b;
	size_t a;

	if (max == 0 || max > AMTP_BUF_MAX_ANY)
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	a = max + 1 < BUF_MIN_ALLOC ? max + 1 : BUF_MIN_ALLOC;
	if ((b->d = calloc(1, a)) == NULL) {
		free(b);
		return NULL;
	}
	b->alloc = a;
	b->max = max;
	return b;
}

struct amtp_buf *
amtp_buf_from(const void *data, size_t len, size_t max)
{
	struct amtp_buf *b;

	if (len > max || (b = amtp_buf_new(max)) == NULL)
		return NULL;
	if (amtp_buf_put(b, data, len) != 0) {
		amtp_buf_free(b);
		return NULL;
	}
	return b;
}

void
amtp_buf_free(struct amtp_buf *b)
{
	if (b == NULL)
		return;
	if (b->d != NULL) {
		explicit_bzero(b->d, b->alloc);
		free(b->d);
	}
	explicit_bzero(b, sizeof(*b));
	free(b);
}

void
amtp_buf_reset(struct amtp_buf *b)
{
	check(b);
	explicit_bzero(b->d, b->alloc);
	b->off = b->end = 0;
}

size_t
amtp_buf_len(const struct amtp_buf *b)
{
	check(b);
	return b->end - b->off;
}

size_t
amtp_buf_max(const struct amtp_buf *b)
{
	check(b);
	return b->max;
}

size_t
amtp_buf_avail(const struct amtp_buf *b)
{
	check(b);
	return b->max - b->end;
}

const uint8_t *
amtp_buf_ptr(const struct amtp_buf *b)
{
	check(b);
	return b->d + b->off;
}

const char *
amtp_buf_str(const struct amtp_buf *b)
{
	check(b);
	return (const char *)b->d + b->off;
}

/* Makes room for len more bytes (plus the NUL); wipes the old block when it
 * moves, since it may have held a secret. */
static int
grow(struct amtp_buf *b, size_t len)
{
	size_t need, na;
	uint8_t *nd;

	if (len > b->max - b->end)
		return AMTP_E_TOOBIG;
	need = b->end + len + 1;
	if (need <= b->alloc)
		return 0;
	/* Reclaim consumed space first. */
	if (b->off > 0 && need - b->off <= b->alloc) {
		memmove(b->d, b->d + b->off, b->end - b->off);
		b->end -= b->off;
		b->off = 0;
		memset(b->d + b->end, 0, b->alloc - b->end);
		return 0;
	}
	na = b->alloc;
	while (na < need)
		na = na > (SIZE_MAX / 2) ? need : na * 2;
	if (na > b->max + 1)
		na = b->max + 1;
	if (na < need)
		na = need;
	if ((nd = calloc(1, na)) == NULL)
		return AMTP_E_NOMEM;
	memcpy(nd, b->d, b->end);
	explicit_bzero(b->d, b->alloc);
	free(b->d);
	b->d = nd;
	b->alloc = na;
	return 0;
}

int
amtp_buf_reserve(struct amtp_buf *b, size_t len, uint8_t **dst)
{
	int r;

	*dst = NULL;
	check(b);
	if ((r = grow(b, len)) != 0)
		return r;
	*dst = b->d + b->end;
	b->end += len;
	b->d[b->end] = 0;
	return 0;
}

int
amtp_buf_put(struct amtp_buf *b, const void *data, size_t len)
{
	uint8_t *p;
	int r;

	check(b);
	if (len == 0)
		return 0;
	if (data == NULL)
		return AMTP_E_INVAL;
	if ((r = amtp_buf_reserve(b, len, &p)) != 0)
		return r;
	memcpy(p, data, len);
	return 0;
}

int
amtp_buf_put_u8(struct amtp_buf *b, uint8_t v)
{
	return amtp_buf_put(b, &v, 1);
}

int
amtp_buf_put_u16le(struct amtp_buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	return amtp_buf_put(b, x, sizeof(x));
}

int
amtp_buf_put_u32le(struct amtp_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 24) };

	return amtp_buf_put(b, x, sizeof(x));
}

int
amtp_buf_put_u64le(struct amtp_buf *b, uint64_t v)
{
	uint8_t x[8];
	int i;

	for (i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	return amtp_buf_put(b, x, sizeof(x));
}

int
amtp_buf_put_cstring(struct amtp_buf *b, const char *s)
{
	if (s == NULL)
		return AMTP_E_INVAL;
	return amtp_buf_put(b, s, strlen(s));
}

int
amtp_buf_put_zero(struct amtp_buf *b, size_t len)
{
	uint8_t *p;
	int r;

	check(b);
	if ((r = amtp_buf_reserve(b, len, &p)) != 0)
		return r;
	memset(p, 0, len);
	return 0;
}

int
amtp_buf_putf(struct amtp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;
	uint8_t *p;

	check(b);
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return AMTP_E_INVAL;
	if ((r = grow(b, (size_t)n)) != 0)
		return r;
	p = b->d + b->end;
	va_start(ap, fmt);
	(void)vsnprintf((char *)p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->end += (size_t)n;
	b->d[b->end] = 0;
	return 0;
}

int
amtp_buf_peek(const struct amtp_buf *b, size_t off, void *out, size_t len)
{
	check(b);
	if (off > b->end - b->off || len > b->end - b->off - off)
		return AMTP_E_INCOMPLETE;
	if (len > 0)
		memcpy(out, b->d + b->off + off, len);
	return 0;
}

int
amtp_buf_get(struct amtp_buf *b, void *out, size_t len)
{
	int r;

	if ((r = amtp_buf_peek(b, 0, out, len)) != 0)
		return r;
	b->off += len;
	return 0;
}

int
amtp_buf_consume(struct amtp_buf *b, size_t len)
{
	check(b);
	if (len > b->end - b->off)
		return AMTP_E_INCOMPLETE;
	b->off += len;
	return 0;
}

int
amtp_buf_get_u8(struct amtp_buf *b, uint8_t *v)
{
	return amtp_buf_get(b, v, 1);
}

int
amtp_buf_get_u16le(struct amtp_buf *b, uint16_t *v)
{
	uint8_t x[2];
	int r;

	if ((r = amtp_buf_get(b, x, 2)) != 0)
		return r;
	*v = (uint16_t)(x[0] | (x[1] << 8));
	return 0;
}

int
amtp_buf_get_u32le(struct amtp_buf *b, uint32_t *v)
{
	uint8_t x[4];
	int r;

	if ((r = amtp_buf_get(b, x, 4)) != 0)
		return r;
	*v = (uint32_t)x[0] | ((uint32_t)x[1] << 8) | ((uint32_t)x[2] << 16) |
	    ((uint32_t)x[3] << 24);
	return 0;
}

int
amtp_buf_get_u64le(struct amtp_buf *b, uint64_t *v)
{
	uint8_t x[8];
	uint64_t t = 0;
	int i, r;

	if ((r = amtp_buf_get(b, x, 8)) != 0)
		return r;
	for (i = 7; i >= 0; i--)
		t = (t << 8) | x[i];
	*v = t;
	return 0;
}

int
amtp_buf_get_cstring(struct amtp_buf *b, size_t len, int allow_trailing_nul,
    char **out)
{
	const uint8_t *p;
	size_t n = len;
	char *s;

	*out = NULL;
	check(b);
	if (len > b->end - b->off)
		return AMTP_E_INCOMPLETE;
	p = b->d + b->off;
	if (allow_trailing_nul && n > 0 && p[n - 1] == 0)
		n--;
	if (memchr(p, 0, n) != NULL)
		return AMTP_E_EMBEDDED_NUL;
	if ((s = malloc(n + 1)) == NULL)
		return AMTP_E_NOMEM;
	memcpy(s, p, n);
	s[n] = '\0';
	b->off += len;
	*out = s;
	return 0;
}

int
amtp_buf_dup_cstring(const struct amtp_buf *b, char **out)
{
	size_t n;
	char *s;

	*out = NULL;
	check(b);
	n = b->end - b->off;
	if (memchr(b->d + b->off, 0, n) != NULL)
		return AMTP_E_EMBEDDED_NUL;
	if ((s = malloc(n + 1)) == NULL)
		return AMTP_E_NOMEM;
	memcpy(s, b->d + b->off, n + 1);
	*out = s;
	return 0;
}

int
amtp_buf_load_file(const char *path, size_t max, struct amtp_buf **out)
{
	struct amtp_buf *b = NULL;
	struct stat st;
	uint8_t chunk[4096];
	ssize_t n;
	int fd = -1, r = AMTP_E_IO, saved;

	*out = NULL;
	/* O_NONBLOCK: a FIFO at path must not hang us before fstat says so. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		r = errno == ENOENT ? AMTP_E_NOTFOUND :
		    errno == EACCES ? AMTP_E_PERM : AMTP_E_IO;
		goto out;
	}
	if (fstat(fd, &st) == -1)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		r = AMTP_E_INVAL;
		goto out;
	}
	if ((size_t)st.st_size > max) {
		r = AMTP_E_TOOBIG;
		goto out;
	}
	if ((b = amtp_buf_new(max)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = AMTP_E_IO;
			goto out;
		}
		if (n == 0)
			break;
		if ((r = amtp_buf_put(b, chunk, (size_t)n)) != 0)
			goto out;
	}
	*out = b;
	b = NULL;
	r = 0;
 out:
	saved = errno;
	explicit_bzero(chunk, sizeof(chunk));
	amtp_buf_free(b);
	if (fd != -1)
		close(fd);
	errno = saved;
	return r;
}

int
amtp_write_file_atomic(const char *path, const void *data, size_t len,
    unsigned mode, int no_fsync)
{
	char tmp[4096], dir[4096];
	const uint8_t *p = data;
	size_t done = 0;
	ssize_t n;
	int fd = -1, dfd = -1, r = AMTP_E_IO, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp) ||
	    snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return AMTP_E_TOOBIG;
	/* A stale temporary file (a killed writer whose pid came back) or a
	 * link planted there must not be reused: its mode would stay and a
	 * symbolic link would be followed.  Remove it, then create afresh. */
	if (unlink(tmp) == -1 && errno != ENOENT)
		goto out;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, (mode_t)mode)) == -1)
		goto out;
	while (done < len) {
		n = write(fd, p + done, len - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		done += (size_t)n;
	}
	if (!no_fsync && fsync(fd) == -1)
		goto out;
	if (close(fd) == -1) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto out;
	if (!no_fsync) {
		if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1)
			goto out;
		if (fsync(dfd) == -1)
			goto out;
	}
	r = 0;
 out:
	saved = errno;
	if (fd != -1) {
		close(fd);
	}
	if (r != 0)
		(void)unlink(tmp);
	if (dfd != -1)
		close(dfd);
	errno = saved;
	return r;
}
