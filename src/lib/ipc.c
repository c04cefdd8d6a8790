/*
 * amtprov - ipc.c: length-prefixed frames between processes (libamtp; used
 * by amtprovd's roles, e.g. the enroll role and its signer process).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/ipc.h"
#include "amtprov/limits.h"

static void
put_u32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get_u32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static int
write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	ssize_t w;

	while (len > 0) {
		/* MSG_NOSIGNAL: a dead peer is an error, not a SIGPIPE. */
		if ((w = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ENOTSOCK) {
				if ((w = write(fd, p, len)) == -1) {
					if (errno == EINTR)
						continue;
					return errno == EPIPE ?
					    AMTP_E_CLOSED : AMTP_E_IO;
				}
			} else
				return errno == EPIPE || errno == ECONNRESET ?
				    AMTP_E_CLOSED : AMTP_E_IO;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Reads exactly len bytes.  *got tells how many came before an EOF. */
static int
read_all(int fd, void *data, size_t len, size_t *got)
{
	uint8_t *p = data;
	ssize_t n;

	*got = 0;
	while (*got < len) {
		if ((n = read(fd, p + *got, len - *got)) == -1) {
			if (errno == EINTR)
				continue;
			return errno == ECONNRESET ? AMTP_E_CLOSED : AMTP_E_IO;
		}
		if (n == 0)
			return AMTP_E_CLOSED;
		*got += (size_t)n;
	}
	return 0;
}

int
amtp_ipc_send(int fd, uint32_t type, const void *data, size_t len)
{
	uint8_t hdr[AMTP_IPC_HDR_LEN];
	int r;

	if (len > AMTP_IPC_FRAME_MAX)
		return AMTP_E_TOOBIG;
	if (len > 0 && data == NULL)
		return AMTP_E_INVAL;
	put_u32le(hdr, type);
	put_u32le(hdr + 4, (uint32_t)len);
	if ((r = write_all(fd, hdr, sizeof(hdr))) != 0)
		return r;
	return len > 0 ? write_all(fd, data, len) : 0;
}

static int
check_header(const uint8_t *hdr, size_t max, uint32_t type_max,
    uint32_t *type, uint32_t *len)
{
	*type = get_u32le(hdr);
	*len = get_u32le(hdr + 4);
	if (max > AMTP_IPC_FRAME_MAX)
		max = AMTP_IPC_FRAME_MAX;
	if (*type == 0 || *type >= type_max || *len > max)
		return AMTP_E_PROTO;
	return 0;
}

int
amtp_ipc_recv(int fd, size_t max, uint32_t type_max, uint32_t *type,
    struct amtp_buf **body)
{
	uint8_t hdr[AMTP_IPC_HDR_LEN], *dst;
	struct amtp_buf *b = NULL;
	uint32_t t, len;
	size_t got;
	int r;

	*type = 0;
	*body = NULL;
	if ((r = read_all(fd, hdr, sizeof(hdr), &got)) != 0) {
		if (r == AMTP_E_CLOSED && got > 0)
			r = AMTP_E_PROTO;	/* a header cut short */
		return r;
	}
	if ((r = check_header(hdr, max, type_max, &t, &len)) != 0)
		return r;
	/* One more byte than the payload so that an empty frame still gets a
	 * buffer (amtp_buf_new needs max >= 1). */
	if ((b = amtp_buf_new((size_t)len + 1)) == NULL)
		return AMTP_E_NOMEM;
	if (len > 0) {
		if ((r = amtp_buf_reserve(b, len, &dst)) != 0)
			goto out;
		if ((r = read_all(fd, dst, len, &got)) != 0) {
			if (r == AMTP_E_CLOSED)
				r = AMTP_E_PROTO;	/* payload cut short */
			goto out;
		}
	}
	*type = t;
	*body = b;
	b = NULL;
	r = 0;
 out:
	amtp_buf_free(b);
	return r;
}

int
amtp_ipc_decode(const void *data, size_t len, size_t max, uint32_t type_max,
    uint32_t *type, struct amtp_buf **body, size_t *consumed)
{
	const uint8_t *p = data;
	struct amtp_buf *b;
	uint32_t t, plen;
	int r;

	*type = 0;
	*body = NULL;
	*consumed = 0;
	if (len < AMTP_IPC_HDR_LEN)
		return AMTP_E_INCOMPLETE;
	if ((r = check_header(p, max, type_max, &t, &plen)) != 0)
		return r;
	if (len - AMTP_IPC_HDR_LEN < plen)
		return AMTP_E_INCOMPLETE;
	if ((b = amtp_buf_from(p + AMTP_IPC_HDR_LEN, plen, (size_t)plen + 1)) ==
	    NULL)
		return AMTP_E_NOMEM;
	*type = t;
	*body = b;
	*consumed = AMTP_IPC_HDR_LEN + (size_t)plen;
	return 0;
}
