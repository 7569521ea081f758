/* The Linux implementation of the collection loop: epoll, timerfd,
 * signalfd. Handlers removed from inside a callback are only marked dead
 * and freed after the current batch, so a later event in the same batch
 * never touches freed memory. */
#include "sb_loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "sb_util.h"

struct handler {
	int fd;
	bool dead;
	sb_fd_cb cb;
	void *arg;
	struct handler *next; /* all handlers, for lookup by fd and freeing */
};

struct sb_loop {
	int epfd;
	bool stop;
	struct handler *handlers;
	int sigfd;
	sb_signal_cb sigcb;
	void *sigarg;
	void (*idle_cb)(void *arg);
	void *idle_arg;
};

struct sb_timer {
	struct sb_loop *loop;
	int fd;
	sb_timer_cb cb;
	void *arg;
};

static uint32_t to_epoll(uint32_t ev)
{
	uint32_t e = 0;
	if (ev & SB_EV_READ)
		e |= EPOLLIN;
	if (ev & SB_EV_WRITE)
		e |= EPOLLOUT;
	return e;
}

struct sb_loop *sb_loop_new(void)
{
	struct sb_loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->sigfd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

static void reap(struct sb_loop *l)
{
	struct handler **pp = &l->handlers;
	while (*pp) {
		struct handler *h = *pp;
		if (h->dead) {
			*pp = h->next;
			free(h);
		} else {
			pp = &h->next;
		}
	}
}

void sb_loop_free(struct sb_loop *l)
{
	if (!l)
		return;
	struct handler *h = l->handlers;
	while (h) {
		struct handler *n = h->next;
		free(h);
		h = n;
	}
	if (l->sigfd >= 0)
		close(l->sigfd);
	close(l->epfd);
	free(l);
}

static struct handler *find(struct sb_loop *l, int fd)
{
	for (struct handler *h = l->handlers; h; h = h->next)
		if (h->fd == fd && !h->dead)
			return h;
	return NULL;
}

int sb_loop_add_fd(struct sb_loop *l, int fd, uint32_t events, sb_fd_cb cb, void *arg)
{
	struct handler *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = fd;
	h->cb = cb;
	h->arg = arg;
	struct epoll_event ee = {.events = to_epoll(events), .data.ptr = h};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ee)) {
		int e = -errno;
		free(h);
		return e;
	}
	h->next = l->handlers;
	l->handlers = h;
	return 0;
}

int sb_loop_mod_fd(struct sb_loop *l, int fd, uint32_t events)
{
	struct handler *h = find(l, fd);
	if (!h)
		return -ENOENT;
	struct epoll_event ee = {.events = to_epoll(events), .data.ptr = h};
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ee) ? -errno : 0;
}

int sb_loop_del_fd(struct sb_loop *l, int fd)
{
	struct handler *h = find(l, fd);
	if (!h)
		return -ENOENT;
	h->dead = true;
	/* The fd may already be closed by its owner; that removed it too. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	return 0;
}

static void timer_ready(void *arg, int fd, uint32_t events)
{
	(void)events;
	struct sb_timer *t = arg;
	uint64_t n;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return; /* spurious wakeup or re-armed meanwhile */
	/* Expirations missed while the loop was busy run once, not n times:
	 * a late sample is better than a burst of them. */
	t->cb(t->arg);
}

struct sb_timer *sb_timer_new(struct sb_loop *l, sb_timer_cb cb, void *arg)
{
	struct sb_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->loop = l;
	t->cb = cb;
	t->arg = arg;
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->fd < 0 || sb_loop_add_fd(l, t->fd, SB_EV_READ, timer_ready, t)) {
		if (t->fd >= 0)
			close(t->fd);
		free(t);
		return NULL;
	}
	return t;
}

static struct timespec ts_of(int64_t ns)
{
	return (struct timespec){.tv_sec = ns / SB_NSEC_PER_SEC, .tv_nsec = ns % SB_NSEC_PER_SEC};
}

int sb_timer_set(struct sb_timer *t, int64_t first_ns, int64_t interval_ns)
{
	struct itimerspec its = {.it_value = ts_of(first_ns), .it_interval = ts_of(interval_ns)};
	if (first_ns > 0 && its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
		its.it_value.tv_nsec = 1;
	return timerfd_settime(t->fd, 0, &its, NULL) ? -errno : 0;
}

void sb_timer_free(struct sb_timer *t)
{
	if (!t)
		return;
	sb_loop_del_fd(t->loop, t->fd);
	close(t->fd);
	free(t);
}

static void signal_ready(void *arg, int fd, uint32_t events)
{
	(void)events;
	struct sb_loop *l = arg;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == sizeof(si))
		l->sigcb(l->sigarg, (int)si.ssi_signo);
}

int sb_loop_signals(struct sb_loop *l, sb_signal_cb cb, void *arg)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	int r = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (r)
		return -r;
	signal(SIGPIPE, SIG_IGN);
	l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sigfd < 0)
		return -errno;
	l->sigcb = cb;
	l->sigarg = arg;
	return sb_loop_add_fd(l, l->sigfd, SB_EV_READ, signal_ready, l);
}

void sb_loop_on_idle(struct sb_loop *l, void (*cb)(void *arg), void *arg)
{
	l->idle_cb = cb;
	l->idle_arg = arg;
}

int sb_loop_run(struct sb_loop *l)
{
	struct epoll_event evs[64];
	/* After a wake's callbacks, one look that does not block before idle
	 * runs: what became ready meanwhile (a sensor's timer due a few µs
	 * after the one whose round just took a millisecond) runs first, so
	 * idle follows the whole round. Only one: an fd that stays ready must
	 * not keep idle from running. */
	bool again = false;
	l->stop = false;
	while (!l->stop) {
		if (!again && l->idle_cb) {
			l->idle_cb(l->idle_arg);
			if (l->stop)
				break;
		}
		int n = epoll_wait(l->epfd, evs, SB_ARRAY_SIZE(evs), again ? 0 : -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		again = n > 0 && !again;
		for (int i = 0; i < n; i++) {
			struct handler *h = evs[i].data.ptr;
			if (h->dead)
				continue;
			uint32_t e = 0;
			if (evs[i].events & (EPOLLIN | EPOLLHUP))
				e |= SB_EV_READ;
			if (evs[i].events & EPOLLOUT)
				e |= SB_EV_WRITE;
			if (evs[i].events & EPOLLERR)
				e |= SB_EV_ERROR;
			h->cb(h->arg, h->fd, e);
		}
		reap(l);
	}
	return 0;
}

void sb_loop_stop(struct sb_loop *l) { l->stop = true; }
