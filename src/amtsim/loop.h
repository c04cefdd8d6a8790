/*
 * amtprov - loop.h: amtsim's event loop (one thread, epoll).
 *
 * Every device of a fleet lives on one loop: its MEI socket (meisrv.c) and,
 * later, its network side (libmicrohttpd daemons in external-epoll mode:
 * register MHD's epoll fd with amtsim_loop_add_fd() and call MHD_run() from
 * the callback; arm a timer from MHD_get_timeout() in a prepare hook).
 *
 * Callbacks run on the loop's thread only.  A callback may add or remove
 * any fd or timer, including its own.
 */
#ifndef AMTSIM_LOOP_H
#define AMTSIM_LOOP_H

#include <stdint.h>

struct amtsim_loop;
struct amtsim_timer;

/* events: EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP bits as epoll gives
 * them. */
typedef void (*amtsim_fd_cb)(struct amtsim_loop *loop, int fd,
    uint32_t events, void *arg);
typedef void (*amtsim_timer_cb)(struct amtsim_loop *loop,
    struct amtsim_timer *t, void *arg);
/* Called before every wait (e.g. to re-arm an MHD timeout). */
typedef void (*amtsim_prepare_cb)(struct amtsim_loop *loop, void *arg);

/* A new loop.  0, AMTP_E_NOMEM or AMTP_E_IO. */
int amtsim_loop_new(struct amtsim_loop **out);
/* Frees the loop: not the fds registered in it, and not its timers (those
 * still armed are disarmed; their owners free them with
 * amtsim_timer_free(), which is then safe, but must not arm them again). */
void amtsim_loop_free(struct amtsim_loop *loop);

/* Watches fd for events (EPOLLIN, EPOLLOUT...).  One registration per fd:
 * AMTP_E_EXISTS when fd is already watched. */
int amtsim_loop_add_fd(struct amtsim_loop *loop, int fd, uint32_t events,
    amtsim_fd_cb cb, void *arg);
/* Changes the events of a watched fd.  AMTP_E_NOTFOUND when not watched. */
int amtsim_loop_mod_fd(struct amtsim_loop *loop, int fd, uint32_t events);
/* Stops watching fd (before it is closed).  AMTP_E_NOTFOUND when not
 * watched. */
int amtsim_loop_del_fd(struct amtsim_loop *loop, int fd);

/* A new, unarmed timer.  NULL when out of memory. */
struct amtsim_timer *amtsim_timer_new(struct amtsim_loop *loop,
    amtsim_timer_cb cb, void *arg);
/* Fires once, ms milliseconds from now (re-arming moves it). */
void amtsim_timer_arm(struct amtsim_timer *t, uint64_t ms);
void amtsim_timer_disarm(struct amtsim_timer *t);
int amtsim_timer_armed(const struct amtsim_timer *t);
/* Disarms and frees.  amtsim_timer_free(NULL) does nothing. */
void amtsim_timer_free(struct amtsim_timer *t);

/* Adds a prepare hook.  0 or AMTP_E_NOMEM. */
int amtsim_loop_add_prepare(struct amtsim_loop *loop, amtsim_prepare_cb cb,
    void *arg);

/* Monotonic time in ms, as the loop sees it. */
uint64_t amtsim_loop_now_ms(void);

/*
 * Runs until amtsim_loop_stop() or until SIGINT/SIGTERM arrives (taken
 * through a signalfd, so a signal never interrupts a callback).  Returns 0,
 * or AMTP_E_IO when epoll fails.
 */
int amtsim_loop_run(struct amtsim_loop *loop);
/* Runs at most one round of waiting (at most timeout_ms, -1 = until
 * something happens) and dispatching.  For tests. */
int amtsim_loop_run_once(struct amtsim_loop *loop, int timeout_ms);
void amtsim_loop_stop(struct amtsim_loop *loop);

#endif
