/*
 * amtprov - meisrv.c: the simulated /dev/mei0 of each amtsim device.  See
 * meisrv.h.  Everything runs on the fleet's loop: accept, handshake and
 * each request are handled in one callback each, without blocking.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "amtprov/buf.h"
#include "amtprov/err.h"
#include "amtprov/limits.h"
#include "amtprov/log.h"
#include "amtprov/mei.h"
#include "device.h"
#include "host.h"
#include "loop.h"
#include "meisrv.h"

#define GUID_LEN	16
#define HELLO_LEN	8
#define LISTEN_BACKLOG	16
#define ACCEPT_PAUSE_MS	100
#define WARN_EVERY_MS	10000	/* one warning per device per 10 s */

struct conn {
	struct meisrv	*srv;
	int		 fd;
	int		 connected;	/* GUID accepted */
	struct amtsim_timer *hs;	/* handshake deadline, while !connected */
};

struct meisrv {
	struct amtsim_device	*dev;
	struct amtsim_loop	*loop;
	int			 lfd;
	char			*path;
	struct amtsim_timer	*pause;		/* accept paused: EMFILE */
	uint64_t		 warned_ms;	/* last warning about it */
	struct conn		 conns[AMTP_SIM_MEI_CONN_MAX];
};

/* One request at a time on the loop's thread: one scratch buffer. */
static uint8_t rxbuf[AMTP_MEI_SIM_MAX_MSG + 1];

unsigned amtsim_meisrv_handshake_ms = AMTP_SIM_MEI_HANDSHAKE_MS;

static void
conn_close(struct conn *c)
{
	if (c->fd == -1)
		return;
	if (c->hs != NULL)
		amtsim_timer_disarm(c->hs);
	(void)amtsim_loop_del_fd(c->srv->loop, c->fd);
	(void)close(c->fd);
	c->fd = -1;
	c->connected = 0;
}

/* A client that connected but never sent its GUID: free the slot. */
static void
handshake_expired(struct amtsim_loop *loop, struct amtsim_timer *t, void *arg)
{
	struct conn *c = arg;

	(void)loop;
	(void)t;
	if (c->fd == -1 || c->connected)
		return;
	log_debug("dev %u: MEI client sent no GUID within %u ms; closing",
	    c->srv->dev->index, amtsim_meisrv_handshake_ms);
	conn_close(c);
}

static int
send_packet(int fd, const void *p, size_t len)
{
	ssize_t n;

	do {
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	return n == (ssize_t)len ? 0 : AMTP_E_IO;
}

static void
conn_read(struct amtsim_loop *loop, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;
	struct amtsim_device *d = c->srv->dev;
	struct amtp_buf *out = NULL;
	uint8_t hello[HELLO_LEN];
	ssize_t n;

	(void)loop;
	(void)events;
	do {
		n = recv(fd, rxbuf, sizeof(rxbuf), MSG_TRUNC | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	if ((size_t)n > sizeof(rxbuf)) {
		/* MSG_TRUNC: n is the real size; rxbuf holds the first part. */
		log_debug("dev %u: MEI message of %zd bytes over the maximum",
		    d->index, n);
		explicit_bzero(rxbuf, sizeof(rxbuf));
		conn_close(c);
		return;
	}
	if (!c->connected) {
		if (n != GUID_LEN ||
		    memcmp(rxbuf, amtp_mei_guid_amthi, GUID_LEN) != 0) {
			log_debug("dev %u: MEI connect to an unknown client",
			    d->index);
			conn_close(c);
			return;
		}
		memset(hello, 0, sizeof(hello));
		hello[0] = (uint8_t)AMTP_MEI_SIM_MAX_MSG;
		hello[1] = (uint8_t)(AMTP_MEI_SIM_MAX_MSG >> 8);
		hello[2] = (uint8_t)(AMTP_MEI_SIM_MAX_MSG >> 16);
		hello[3] = (uint8_t)(AMTP_MEI_SIM_MAX_MSG >> 24);
		hello[4] = AMTSIM_MEI_PROTOCOL_VERSION;
		if (send_packet(fd, hello, sizeof(hello)) != 0) {
			conn_close(c);
			return;
		}
		c->connected = 1;
		if (c->hs != NULL)
			amtsim_timer_disarm(c->hs);
		return;
	}
	if ((size_t)n > AMTP_MEI_SIM_MAX_MSG) {
		log_debug("dev %u: MEI message of %zd bytes over the maximum",
		    d->index, n);
		explicit_bzero(rxbuf, (size_t)n);
		conn_close(c);
		return;
	}
	if ((out = amtp_buf_new(AMTP_MEI_MSG_CAP)) == NULL ||
	    amtsim_host_handle(d, rxbuf, (size_t)n, out) != 0 ||
	    amtp_buf_len(out) > AMTP_MEI_SIM_MAX_MSG ||
	    send_packet(fd, amtp_buf_ptr(out), amtp_buf_len(out)) != 0)
		conn_close(c);
	explicit_bzero(rxbuf, (size_t)n);
	amtp_buf_free(out);
}

static void
srv_resume(struct amtsim_loop *loop, struct amtsim_timer *t, void *arg)
{
	struct meisrv *s = arg;

	(void)t;
	(void)amtsim_loop_mod_fd(loop, s->lfd, EPOLLIN);
}

static void
srv_accept(struct amtsim_loop *loop, int fd, uint32_t events, void *arg)
{
	struct meisrv *s = arg;
	struct conn *c = NULL;
	size_t i;
	int cfd;

	(void)events;
	if ((cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			/* Out of descriptors: the pending connection would
			 * wake the loop again at once.  Pause this listener
			 * instead of spinning. */
			if (s->warned_ms == 0 || amtsim_loop_now_ms() -
			    s->warned_ms >= WARN_EVERY_MS) {
				log_warnx("dev %u: MEI accept: out of "
				    "descriptors; pausing", s->dev->index);
				s->warned_ms = amtsim_loop_now_ms();
			}
			if (s->pause == NULL)
				s->pause = amtsim_timer_new(loop, srv_resume,
				    s);
			if (s->pause != NULL) {
				(void)amtsim_loop_mod_fd(loop, fd, 0);
				amtsim_timer_arm(s->pause, ACCEPT_PAUSE_MS);
			}
		}
		return;
	}
	for (i = 0; i < AMTP_SIM_MEI_CONN_MAX; i++)
		if (s->conns[i].fd == -1) {
			c = &s->conns[i];
			break;
		}
	if (c == NULL) {
		log_debug("dev %u: too many MEI connections", s->dev->index);
		(void)close(cfd);
		return;
	}
	/* The GUID must come within the handshake time (the slot is
	 * refused when there is no timer to enforce it). */
	if (c->hs == NULL &&
	    (c->hs = amtsim_timer_new(loop, handshake_expired, c)) == NULL) {
		(void)close(cfd);
		return;
	}
	c->fd = cfd;
	c->connected = 0;
	if (amtsim_loop_add_fd(loop, cfd, EPOLLIN, conn_read, c) != 0) {
		(void)close(cfd);
		c->fd = -1;
		return;
	}
	amtsim_timer_arm(c->hs, amtsim_meisrv_handshake_ms);
}

int
amtsim_meisrv_start(struct amtsim_device *d, struct amtsim_loop *loop,
    const char *path)
{
	struct sockaddr_un sun;
	struct meisrv *s = NULL;
	size_t i;
	int r = AMTP_E_IO;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return AMTP_E_INVAL;
	memcpy(sun.sun_path, path, strlen(path));
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return AMTP_E_NOMEM;
	s->dev = d;
	s->loop = loop;
	s->lfd = -1;
	for (i = 0; i < AMTP_SIM_MEI_CONN_MAX; i++) {
		s->conns[i].fd = -1;
		s->conns[i].srv = s;
	}
	if ((s->path = strdup(path)) == NULL) {
		r = AMTP_E_NOMEM;
		goto out;
	}
	(void)unlink(path);
	if ((s->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1 ||
	    bind(s->lfd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(s->lfd, LISTEN_BACKLOG) == -1)
		goto out;
	if ((r = amtsim_loop_add_fd(loop, s->lfd, EPOLLIN, srv_accept, s)) != 0)
		goto out;
	d->mei = s;
	s = NULL;
	r = 0;
 out:
	if (s != NULL) {
		if (s->lfd != -1)
			(void)close(s->lfd);
		free(s->path);
		free(s);
	}
	return r;
}

void
amtsim_meisrv_stop(struct amtsim_device *d)
{
	struct meisrv *s = d->mei;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < AMTP_SIM_MEI_CONN_MAX; i++) {
		conn_close(&s->conns[i]);
		amtsim_timer_free(s->conns[i].hs);
	}
	amtsim_timer_free(s->pause);
	(void)amtsim_loop_del_fd(s->loop, s->lfd);
	(void)close(s->lfd);
	(void)unlink(s->path);
	free(s->path);
	free(s);
	d->mei = NULL;
}
