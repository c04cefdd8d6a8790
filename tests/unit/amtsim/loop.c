/* Unit tests for src/amtsim/loop.c: timers (order, disarm, re-arm, many),
 * fd callbacks (including removal from inside a callback), prepare hooks
 * and SIGTERM handling. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <cmocka.h>

#include "amtprov/err.h"
#include "loop.h"

static int order[16];
static int norder;

static void
note(struct amtsim_loop *loop, struct amtsim_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	if (norder < 16)
		order[norder++] = (int)(intptr_t)arg;
}

static void
test_timer_order(void **state)
{
	struct amtsim_loop *l = NULL;
	struct amtsim_timer *a, *b, *c, *d;
	int i;

	(void)state;
	norder = 0;
	assert_int_equal(amtsim_loop_new(&l), 0);
	a = amtsim_timer_new(l, note, (void *)1);
	b = amtsim_timer_new(l, note, (void *)2);
	c = amtsim_timer_new(l, note, (void *)3);
	d = amtsim_timer_new(l, note, (void *)4);
	amtsim_timer_arm(a, 60);
	amtsim_timer_arm(b, 20);
	amtsim_timer_arm(c, 40);
	amtsim_timer_arm(d, 10);
	amtsim_timer_disarm(c);
	assert_false(amtsim_timer_armed(c));
	amtsim_timer_arm(d, 80);	/* re-arming moves it */
	for (i = 0; i < 50 && norder < 3; i++)
		assert_int_equal(amtsim_loop_run_once(l, 50), 0);
	assert_int_equal(norder, 3);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 4);
	assert_false(amtsim_timer_armed(a));
	amtsim_timer_free(a);
	amtsim_timer_free(b);
	amtsim_timer_free(c);
	amtsim_timer_free(d);
	amtsim_timer_free(NULL);
	amtsim_loop_free(l);
}

static int fired;

static void
count(struct amtsim_loop *loop, struct amtsim_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	(void)arg;
	fired++;
}

/* Many timers in random order, half of them disarmed: the heap stays
 * right. */
static void
test_many_timers(void **state)
{
	struct amtsim_loop *l = NULL;
	struct amtsim_timer *t[500];
	int i;

	(void)state;
	fired = 0;
	assert_int_equal(amtsim_loop_new(&l), 0);
	srand(7);
	for (i = 0; i < 500; i++) {
		t[i] = amtsim_timer_new(l, count, NULL);
		amtsim_timer_arm(t[i], (uint64_t)(rand() % 30));
	}
	for (i = 0; i < 500; i += 2)
		amtsim_timer_disarm(t[i]);
	for (i = 0; i < 100 && fired < 250; i++)
		assert_int_equal(amtsim_loop_run_once(l, 20), 0);
	assert_int_equal(fired, 250);
	for (i = 0; i < 500; i++)
		amtsim_timer_free(t[i]);
	amtsim_loop_free(l);
}

struct fdtest {
	int	reads;
	int	other_fd;
};

static void
on_read(struct amtsim_loop *l, int fd, uint32_t events, void *arg)
{
	struct fdtest *ft = arg;
	char c;

	assert_true(events & EPOLLIN);
	assert_int_equal(read(fd, &c, 1), 1);
	ft->reads++;
	/* remove another fd that is also ready in this round */
	if (ft->other_fd != -1) {
		assert_int_equal(amtsim_loop_del_fd(l, ft->other_fd), 0);
		ft->other_fd = -1;
	}
}

static void
test_fds(void **state)
{
	struct amtsim_loop *l = NULL;
	struct fdtest ft1 = { 0, -1 }, ft2 = { 0, -1 };
	int p1[2], p2[2];
	int i;

	(void)state;
	assert_int_equal(amtsim_loop_new(&l), 0);
	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	assert_int_equal(amtsim_loop_add_fd(l, p1[0], EPOLLIN, on_read, &ft1),
	    0);
	assert_int_equal(amtsim_loop_add_fd(l, p1[0], EPOLLIN, on_read, &ft1),
	    AMTP_E_EXISTS);
	assert_int_equal(amtsim_loop_add_fd(l, p2[0], EPOLLIN, on_read, &ft2),
	    0);
	assert_int_equal(amtsim_loop_add_fd(l, -1, EPOLLIN, on_read, &ft2),
	    AMTP_E_INVAL);
	/* whichever runs first removes the other */
	ft1.other_fd = p2[0];
	ft2.other_fd = p1[0];
	assert_int_equal(write(p1[1], "a", 1), 1);
	assert_int_equal(write(p2[1], "b", 1), 1);
	for (i = 0; i < 5; i++)
		assert_int_equal(amtsim_loop_run_once(l, 10), 0);
	assert_int_equal(ft1.reads + ft2.reads, 1);
	assert_int_equal(amtsim_loop_mod_fd(l, 999, EPOLLIN), AMTP_E_NOTFOUND);
	assert_int_equal(amtsim_loop_del_fd(l, 999), AMTP_E_NOTFOUND);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
	amtsim_loop_free(l);
}

/* An event still queued for a closed fd must not reach a new registration
 * that got the same fd number in the same round (review 2026-11-28). */
struct reuse {
	int	 other;		/* the other pipe's read end */
	int	*other_w;	/* and its write end */
	int	 newp[2];	/* the pipe made in its place */
	int	 spurious;
	int	 ran;
};

static struct reuse reuse1, reuse2;

static void
on_new(struct amtsim_loop *l, int fd, uint32_t events, void *arg)
{
	struct reuse *x = arg;

	(void)l;
	(void)fd;
	(void)events;
	x->spurious++;		/* nothing was ever written to it */
}

static void
on_reuse(struct amtsim_loop *l, int fd, uint32_t events, void *arg)
{
	struct reuse *x = arg;
	struct reuse *peer = x == &reuse1 ? &reuse2 : &reuse1;
	char c;

	(void)events;
	assert_int_equal(read(fd, &c, 1), 1);
	if (peer->ran)
		return;
	x->ran = 1;
	/* Close the other (ready) pipe and take its number at once. */
	assert_int_equal(amtsim_loop_del_fd(l, x->other), 0);
	assert_int_equal(close(x->other), 0);
	assert_int_equal(close(*x->other_w), 0);
	assert_int_equal(pipe(x->newp), 0);
	assert_int_equal(x->newp[0], x->other);
	assert_int_equal(amtsim_loop_add_fd(l, x->newp[0], EPOLLIN, on_new, x),
	    0);
}

static void
test_fd_reuse_in_round(void **state)
{
	struct amtsim_loop *l = NULL;
	struct reuse *x;
	int p1[2], p2[2];

	(void)state;
	memset(&reuse1, 0, sizeof(reuse1));
	memset(&reuse2, 0, sizeof(reuse2));
	assert_int_equal(amtsim_loop_new(&l), 0);
	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	reuse1.other = p2[0];
	reuse1.other_w = &p2[1];
	reuse2.other = p1[0];
	reuse2.other_w = &p1[1];
	assert_int_equal(amtsim_loop_add_fd(l, p1[0], EPOLLIN, on_reuse,
	    &reuse1), 0);
	assert_int_equal(amtsim_loop_add_fd(l, p2[0], EPOLLIN, on_reuse,
	    &reuse2), 0);
	assert_int_equal(write(p1[1], "a", 1), 1);
	assert_int_equal(write(p2[1], "b", 1), 1);
	/* One round: both events are in the same epoll_wait batch. */
	assert_int_equal(amtsim_loop_run_once(l, 100), 0);
	x = reuse1.ran ? &reuse1 : &reuse2;
	assert_true(reuse1.ran + reuse2.ran == 1);
	assert_int_equal(x->spurious, 0);
	assert_int_equal(amtsim_loop_run_once(l, 0), 0);
	assert_int_equal(x->spurious, 0);
	assert_int_equal(amtsim_loop_del_fd(l, x->newp[0]), 0);
	close(x->newp[0]);
	close(x->newp[1]);
	if (x == &reuse1) {
		close(p1[0]);
		close(p1[1]);
	} else {
		close(p2[0]);
		close(p2[1]);
	}
	amtsim_loop_free(l);
}

static int prepared;

static void
prep(struct amtsim_loop *l, void *arg)
{
	(void)arg;
	if (++prepared == 3)
		amtsim_loop_stop(l);
}

static void
rearm(struct amtsim_loop *loop, struct amtsim_timer *t, void *arg)
{
	(void)loop;
	(void)arg;
	amtsim_timer_arm(t, 1);
}

/* amtsim_loop_run() calls the prepare hook before every wait and returns
 * once it asks to stop. */
static void
test_prepare_and_stop(void **state)
{
	struct amtsim_loop *l = NULL;
	struct amtsim_timer *t;

	(void)state;
	prepared = 0;
	assert_int_equal(amtsim_loop_new(&l), 0);
	assert_int_equal(amtsim_loop_add_prepare(l, prep, NULL), 0);
	t = amtsim_timer_new(l, rearm, NULL);	/* wakes the loop up */
	amtsim_timer_arm(t, 1);
	assert_int_equal(amtsim_loop_run(l), 0);
	assert_int_equal(prepared, 3);
	amtsim_timer_free(t);
	amtsim_loop_free(l);
}

static void
test_sigterm_stops(void **state)
{
	struct amtsim_loop *l = NULL;

	(void)state;
	assert_int_equal(amtsim_loop_new(&l), 0);
	assert_int_equal(kill(getpid(), SIGTERM), 0);	/* blocked: queued */
	assert_int_equal(amtsim_loop_run(l), 0);	/* returns */
	amtsim_loop_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_many_timers),
		cmocka_unit_test(test_fds),
		cmocka_unit_test(test_fd_reuse_in_round),
		cmocka_unit_test(test_prepare_and_stop),
		cmocka_unit_test(test_sigterm_stops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
