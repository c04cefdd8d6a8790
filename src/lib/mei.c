/*
 * amtprov - mei.c: the MEI transport (libamtp; used by the agent, by
 * `amtsim hostcmd` and by the tests).  See mei.h.
 *
 * Two back ends behind one struct: the Linux driver (/dev/mei0 and its
 * connect ioctl) and an amtsim device socket (SOCK_SEQPACKET, which keeps
 * message boundaries exactly as the driver does).  Both move one whole
 * message per send and per receive.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/mei.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/mei.h"

const uint8_t amtp_mei_guid_amthi[16] = {
	0x28, 0x00, 0xf8, 0x12, 0xb7, 0xb4, 0x2d, 0x4b,
	0xac, 0xa8, 0x46, 0xe0, 0xff, 0x65, 0x81, 0x4c
};

/* The simulator's handshake answer: the 8 bytes of struct mei_client. */
#define SIM_HELLO_LEN	8

struct amtp_mei {
	int		fd;
	int		sim;
	int		timeout_ms;
	uint32_t	max_msg_length;
	uint8_t		protocol_version;
};

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Waits until fd is readable.  0, AMTP_E_TIMEOUT or AMTP_E_IO. */
static int
wait_readable(int fd, int timeout_ms)
{
	struct pollfd pfd;
	int n;

	if (timeout_ms == 0)
		return 0;	/* a blocking read does the waiting */
	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	do {
		n = poll(&pfd, 1, timeout_ms);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return AMTP_E_IO;
	if (n == 0)
		return AMTP_E_TIMEOUT;
	return 0;
}

static int
errno_to_err(int e)
{
	switch (e) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
	case ENOTTY:
	case ECONNREFUSED:
		return AMTP_E_NOTFOUND;
	case EACCES:
	case EPERM:
		return AMTP_E_PERM;
	case EBUSY:
		return AMTP_E_BUSY;
	case EPIPE:
	case ECONNRESET:
		return AMTP_E_CLOSED;
	case EMSGSIZE:
	case EFBIG:
		return AMTP_E_TOOBIG;
	case ETIMEDOUT:
		return AMTP_E_TIMEOUT;
	default:
		return AMTP_E_IO;
	}
}

static int
open_driver(struct amtp_mei *m, const char *path, const uint8_t guid[16])
{
	struct mei_connect_client_data data;
	int i, n;

	if ((m->fd = open(path, O_RDWR | O_CLOEXEC)) == -1)
		return errno_to_err(errno);
	/* rpc-go retries a busy AMTHI client up to 8 times with a growing
	 * back-off (spec 1.1). */
	for (i = 0; ; i++) {
		memset(&data, 0, sizeof(data));
		memcpy(&data.in_client_uuid, guid, 16);
		n = ioctl(m->fd, IOCTL_MEI_CONNECT_CLIENT, &data);
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EBUSY || i >= AMTP_MEI_BUSY_RETRIES)
			return errno_to_err(errno);
		sleep_ms(50L * (i + 1));
	}
	m->max_msg_length = data.out_client_properties.max_msg_length;
	m->protocol_version = data.out_client_properties.protocol_version;
	return 0;
}

static int
open_sim(struct amtp_mei *m, const char *path, const uint8_t guid[16])
{
	struct sockaddr_un sun;
	uint8_t hello[SIM_HELLO_LEN + 1];
	ssize_t n;
	int r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (*path == '\0' || strlen(path) >= sizeof(sun.sun_path))
		return AMTP_E_INVAL;
	memcpy(sun.sun_path, path, strlen(path));
	if ((m->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1)
		return AMTP_E_IO;
	while (connect(m->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EINTR)
			continue;
		return errno_to_err(errno);
	}
	do {
		n = send(m->fd, guid, 16, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n != 16)
		return n == -1 ? errno_to_err(errno) : AMTP_E_IO;
	if ((r = wait_readable(m->fd, m->timeout_ms)) != 0)
		return r;
	do {
		n = recv(m->fd, hello, sizeof(hello), MSG_TRUNC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno_to_err(errno) == AMTP_E_CLOSED ? AMTP_E_NOTFOUND :
		    errno_to_err(errno);
	if (n == 0)
		return AMTP_E_NOTFOUND;	/* closed: no such client */
	if (n != SIM_HELLO_LEN)
		return AMTP_E_PROTO;
	m->max_msg_length = (uint32_t)hello[0] | (uint32_t)hello[1] << 8 |
	    (uint32_t)hello[2] << 16 | (uint32_t)hello[3] << 24;
	m->protocol_version = hello[4];
	return 0;
}

int
amtp_mei_open(const char *uri, const uint8_t guid[16], int timeout_ms,
    struct amtp_mei **out)
{
	struct amtp_mei *m = NULL;
	size_t plen = strlen(AMTP_MEI_UNIX_PREFIX);
	int r;

	*out = NULL;
	if (uri == NULL || *uri == '\0' || timeout_ms < 0)
		return AMTP_E_INVAL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return AMTP_E_NOMEM;
	m->fd = -1;
	m->timeout_ms = timeout_ms;
	if (strncmp(uri, AMTP_MEI_UNIX_PREFIX, plen) == 0) {
		m->sim = 1;
		r = open_sim(m, uri + plen, guid);
	} else
		r = open_driver(m, uri, guid);
	if (r != 0)
		goto out;
	if (m->max_msg_length == 0 || m->max_msg_length > AMTP_MEI_MSG_CAP) {
		r = AMTP_E_PROTO;
		goto out;
	}
	*out = m;
	m = NULL;
	r = 0;
 out:
	amtp_mei_close(m);
	return r;
}

void
amtp_mei_close(struct amtp_mei *m)
{
	int saved = errno;

	if (m == NULL)
		return;
	if (m->fd != -1)
		(void)close(m->fd);
	free(m);
	errno = saved;
}

uint32_t
amtp_mei_max_msg_length(const struct amtp_mei *m)
{
	return m->max_msg_length;
}

uint8_t
amtp_mei_protocol_version(const struct amtp_mei *m)
{
	return m->protocol_version;
}

int
amtp_mei_is_sim(const struct amtp_mei *m)
{
	return m->sim;
}

int
amtp_mei_send(struct amtp_mei *m, const void *msg, size_t len)
{
	ssize_t n;

	if (len == 0 || len > m->max_msg_length)
		return AMTP_E_TOOBIG;
	do {
		if (m->sim)
			n = send(m->fd, msg, len, MSG_NOSIGNAL);
		else
			n = write(m->fd, msg, len);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno_to_err(errno);
	if ((size_t)n != len)
		return AMTP_E_IO;
	return 0;
}

int
amtp_mei_recv(struct amtp_mei *m, struct amtp_buf *out)
{
	uint8_t *d = NULL;
	size_t cap;
	ssize_t n;
	int r;

	amtp_buf_reset(out);
	cap = amtp_buf_max(out);
	if (cap < m->max_msg_length)
		return AMTP_E_INVAL;
	if (cap > AMTP_MEI_MSG_CAP)
		cap = AMTP_MEI_MSG_CAP;
	if ((r = wait_readable(m->fd, m->timeout_ms)) != 0)
		return r;
	if ((d = malloc(cap)) == NULL)
		return AMTP_E_NOMEM;
	do {
		if (m->sim)
			n = recv(m->fd, d, cap, MSG_TRUNC);
		else
			n = read(m->fd, d, cap);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		r = errno_to_err(errno);
		goto out;
	}
	if (n == 0) {
		r = AMTP_E_CLOSED;
		goto out;
	}
	if ((size_t)n > cap) {
		r = AMTP_E_TOOBIG;	/* MSG_TRUNC gave the real size */
		goto out;
	}
	if ((r = amtp_buf_put(out, d, (size_t)n)) != 0)
		goto out;
	r = 0;
 out:
	explicit_bzero(d, cap);
	free(d);
	return r;
}

int
amtp_mei_transact(struct amtp_mei *m, const void *req, size_t len,
    struct amtp_buf *resp)
{
	int r;

	if ((r = amtp_mei_send(m, req, len)) != 0)
		return r;
	return amtp_mei_recv(m, resp);
}
