/* The collection loop: one thread, epoll over fds, timer fds and a
 * signalfd. Sensors add their fds (ring buffer, curl sockets) and timers;
 * nothing in a callback may block. Linux-only by nature, kept behind this
 * small interface. */
#ifndef SB_LOOP_H
#define SB_LOOP_H

#include <stdint.h>

#define SB_EV_READ 0x1u
#define SB_EV_WRITE 0x4u
#define SB_EV_ERROR 0x8u

struct sb_loop;
struct sb_timer;

typedef void (*sb_fd_cb)(void *arg, int fd, uint32_t events);
typedef void (*sb_timer_cb)(void *arg);
typedef void (*sb_signal_cb)(void *arg, int signo);

struct sb_loop *sb_loop_new(void);
void sb_loop_free(struct sb_loop *l);
int sb_loop_add_fd(struct sb_loop *l, int fd, uint32_t events, sb_fd_cb cb, void *arg);
int sb_loop_mod_fd(struct sb_loop *l, int fd, uint32_t events);
/* Safe from inside any callback, including the fd's own. */
int sb_loop_del_fd(struct sb_loop *l, int fd);

struct sb_timer *sb_timer_new(struct sb_loop *l, sb_timer_cb cb, void *arg);
/* First expiry after first_ns (0: disarm), then every interval_ns (0: once). */
int sb_timer_set(struct sb_timer *t, int64_t first_ns, int64_t interval_ns);
void sb_timer_free(struct sb_timer *t);

/* Blocks SIGINT, SIGTERM, SIGHUP and SIGPIPE-ignores in the calling thread
 * (call before starting other threads, so they inherit the mask) and
 * delivers the first three to cb through a signalfd. */
int sb_loop_signals(struct sb_loop *l, sb_signal_cb cb, void *arg);

/* cb runs each time the loop has handled what was ready, and what became
 * ready while that ran (one look more, without waiting), and is about to
 * wait: once after a burst of callbacks (a round's timers firing together,
 * or a few µs apart), for work that should follow all of them. An fd that
 * stays ready delays it by one batch at most. It must be cheap when it has
 * nothing to do; sb_loop_stop from it returns before the wait. NULL
 * removes it. */
void sb_loop_on_idle(struct sb_loop *l, void (*cb)(void *arg), void *arg);

/* Runs until sb_loop_stop. Returns 0 or -errno. */
int sb_loop_run(struct sb_loop *l);
void sb_loop_stop(struct sb_loop *l);

#endif
