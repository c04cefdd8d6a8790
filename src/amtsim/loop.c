/*
 * amtprov - loop.c: amtsim's event loop.  See loop.h.
 *
 * fds: an array indexed by fd holds each registration (epoll's data.u64
 * carries the fd and the registration's generation, so that an event still
 * queued for a closed fd is not delivered to a new registration that got the
 * same number within the same batch)
 * names it), so a removal inside a callback is safe: the dispatcher looks
 * the entry up again for every event.  Timers: a binary min-heap on the
 * due time, each timer knowing its heap slot so that disarm is O(log n).
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include "amtprov/err.h"
#include "loop.h"

#define LOOP_EVENTS	256

struct fdent {
	amtsim_fd_cb	 cb;
	void		*arg;
	int		 used;
	uint32_t	 gen;	/* of the current registration */
};

/* epoll data: fd in the low 32 bits, generation in the high 32 bits. */
#define EV_SIGNAL	UINT64_MAX
#define EV_TAG(fd, gen)	((uint64_t)(gen) << 32 | (uint32_t)(fd))

struct amtsim_timer {
	struct amtsim_loop	*loop;
	amtsim_timer_cb		 cb;
	void			*arg;
	uint64_t		 due;
	size_t			 slot;	/* heap index, or SIZE_MAX */
};

struct prepare {
	amtsim_prepare_cb	 cb;
	void			*arg;
};

struct amtsim_loop {
	int			 ep;
	int			 sigfd;
	int			 stop;
	struct fdent		*fds;
	size_t			 nfds;
	struct amtsim_timer	**heap;
	size_t			 nheap, aheap;
	uint32_t		 gen;		/* last generation given */
	struct prepare		*prep;
	size_t			 nprep;
};

uint64_t
amtsim_loop_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
amtsim_loop_new(struct amtsim_loop **out)
{
	struct amtsim_loop *l;
	struct epoll_event ev;
	sigset_t set;
	int r = AMTP_E_IO;

	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return AMTP_E_NOMEM;
	l->sigfd = -1;
	if ((l->ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		goto out;
	/* SIGINT/SIGTERM arrive as readable data, never mid-callback. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (l->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		goto out;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = EV_SIGNAL;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, l->sigfd, &ev) == -1)
		goto out;
	*out = l;
	l = NULL;
	r = 0;
 out:
	amtsim_loop_free(l);
	return r;
}

void
amtsim_loop_free(struct amtsim_loop *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nheap; i++)
		l->heap[i]->slot = SIZE_MAX;
	free(l->heap);
	free(l->fds);
	free(l->prep);
	if (l->sigfd != -1)
		close(l->sigfd);
	if (l->ep != -1)
		close(l->ep);
	free(l);
}

int
amtsim_loop_add_fd(struct amtsim_loop *l, int fd, uint32_t events,
    amtsim_fd_cb cb, void *arg)
{
	struct epoll_event ev;
	struct fdent *n;
	size_t want;

	if (fd < 0 || cb == NULL)
		return AMTP_E_INVAL;
	if ((size_t)fd >= l->nfds) {
		want = l->nfds == 0 ? 64 : l->nfds;
		while (want <= (size_t)fd)
			want *= 2;
		if ((n = realloc(l->fds, want * sizeof(*n))) == NULL)
			return AMTP_E_NOMEM;
		memset(n + l->nfds, 0, (want - l->nfds) * sizeof(*n));
		l->fds = n;
		l->nfds = want;
	}
	if (l->fds[fd].used)
		return AMTP_E_EXISTS;
	if (++l->gen == UINT32_MAX)
		l->gen = 1;	/* UINT32_MAX tags the signalfd */
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = EV_TAG(fd, l->gen);
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		return AMTP_E_IO;
	l->fds[fd].cb = cb;
	l->fds[fd].arg = arg;
	l->fds[fd].used = 1;
	l->fds[fd].gen = l->gen;
	return 0;
}

int
amtsim_loop_mod_fd(struct amtsim_loop *l, int fd, uint32_t events)
{
	struct epoll_event ev;

	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].used)
		return AMTP_E_NOTFOUND;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = EV_TAG(fd, l->fds[fd].gen);
	if (epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) == -1)
		return AMTP_E_IO;
	return 0;
}

int
amtsim_loop_del_fd(struct amtsim_loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].used)
		return AMTP_E_NOTFOUND;
	(void)epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
	memset(&l->fds[fd], 0, sizeof(l->fds[fd]));
	return 0;
}

/* Heap helpers. */
static void
heap_set(struct amtsim_loop *l, size_t i, struct amtsim_timer *t)
{
	l->heap[i] = t;
	t->slot = i;
}

static void
heap_up(struct amtsim_loop *l, size_t i)
{
	struct amtsim_timer *t = l->heap[i];

	while (i > 0 && l->heap[(i - 1) / 2]->due > t->due) {
		heap_set(l, i, l->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(l, i, t);
}

static void
heap_down(struct amtsim_loop *l, size_t i)
{
	struct amtsim_timer *t = l->heap[i];
	size_t c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && l->heap[c + 1]->due < l->heap[c]->due)
			c++;
		if (l->heap[c]->due >= t->due)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

struct amtsim_timer *
amtsim_timer_new(struct amtsim_loop *loop, amtsim_timer_cb cb, void *arg)
{
	struct amtsim_timer *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->loop = loop;
	t->cb = cb;
	t->arg = arg;
	t->slot = SIZE_MAX;
	return t;
}

int
amtsim_timer_armed(const struct amtsim_timer *t)
{
	return t->slot != SIZE_MAX;
}

void
amtsim_timer_disarm(struct amtsim_timer *t)
{
	struct amtsim_loop *l = t->loop;
	struct amtsim_timer *last;
	size_t i = t->slot;

	if (i == SIZE_MAX)
		return;
	t->slot = SIZE_MAX;
	last = l->heap[--l->nheap];
	if (last == t)
		return;
	heap_set(l, i, last);
	heap_up(l, i);
	heap_down(l, last->slot);
}

void
amtsim_timer_arm(struct amtsim_timer *t, uint64_t ms)
{
	struct amtsim_loop *l = t->loop;
	struct amtsim_timer **n;
	size_t want;

	amtsim_timer_disarm(t);
	if (l->nheap == l->aheap) {
		want = l->aheap == 0 ? 64 : 2 * l->aheap;
		if ((n = realloc(l->heap, want * sizeof(*n))) == NULL)
			abort();	/* daemon code: out of memory is fatal */
		l->heap = n;
		l->aheap = want;
	}
	t->due = amtsim_loop_now_ms() + ms;
	heap_set(l, l->nheap++, t);
	heap_up(l, t->slot);
}

void
amtsim_timer_free(struct amtsim_timer *t)
{
	if (t == NULL)
		return;
	amtsim_timer_disarm(t);
	free(t);
}

int
amtsim_loop_add_prepare(struct amtsim_loop *l, amtsim_prepare_cb cb,
    void *arg)
{
	struct prepare *n;

	if ((n = realloc(l->prep, (l->nprep + 1) * sizeof(*n))) == NULL)
		return AMTP_E_NOMEM;
	l->prep = n;
	l->prep[l->nprep].cb = cb;
	l->prep[l->nprep].arg = arg;
	l->nprep++;
	return 0;
}

void
amtsim_loop_stop(struct amtsim_loop *l)
{
	l->stop = 1;
}

static void
run_timers(struct amtsim_loop *l)
{
	struct amtsim_timer *t;
	uint64_t now = amtsim_loop_now_ms();

	while (l->nheap > 0 && l->heap[0]->due <= now) {
		t = l->heap[0];
		amtsim_timer_disarm(t);
		t->cb(l, t, t->arg);
	}
}

int
amtsim_loop_run_once(struct amtsim_loop *l, int timeout_ms)
{
	struct epoll_event ev[LOOP_EVENTS];
	struct signalfd_siginfo si;
	uint64_t now;
	uint32_t gen;
	size_t i;
	int n, fd, wait = timeout_ms;

	for (i = 0; i < l->nprep; i++)
		l->prep[i].cb(l, l->prep[i].arg);
	if (l->nheap > 0) {
		now = amtsim_loop_now_ms();
		if (l->heap[0]->due <= now)
			wait = 0;
		else if (wait < 0 || l->heap[0]->due - now < (uint64_t)wait)
			wait = (int)(l->heap[0]->due - now > INT32_MAX ?
			    INT32_MAX : l->heap[0]->due - now);
	}
	n = epoll_wait(l->ep, ev, LOOP_EVENTS, wait);
	if (n == -1) {
		if (errno == EINTR)
			return 0;
		return AMTP_E_IO;
	}
	for (i = 0; i < (size_t)n; i++) {
		if (ev[i].data.u64 == EV_SIGNAL) {
			while (read(l->sigfd, &si, sizeof(si)) ==
			    (ssize_t)sizeof(si))
				l->stop = 1;
			continue;
		}
		fd = (int)(uint32_t)ev[i].data.u64;
		gen = (uint32_t)(ev[i].data.u64 >> 32);
		/* Looked up again: an earlier callback may have removed it,
		 * and a later registration may have reused the number. */
		if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].used ||
		    l->fds[fd].gen != gen)
			continue;
		l->fds[fd].cb(l, fd, ev[i].events, l->fds[fd].arg);
	}
	run_timers(l);
	return 0;
}

int
amtsim_loop_run(struct amtsim_loop *l)
{
	int r;

	l->stop = 0;
	while (!l->stop)
		if ((r = amtsim_loop_run_once(l, -1)) != 0)
			return r;
	return 0;
}
