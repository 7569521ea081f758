/* The descriptors the collectors keep for the kernel to tell them of a
 * change (the device events' and link notifications' sockets, the mount
 * tables, os-release's inotify descriptor), asked in one poll at the start
 * of a round. On a quiet host each would otherwise make a call of its own
 * that finds nothing: a recv returning EAGAIN, a poll, each ~5 µs with the
 * round's caches cold. A collector asks for its descriptor's answer and
 * drains it (or reads what changed) only when it told something. */
#include <poll.h>

#include "proc.h"

int sb_proc_notify_add(struct proc_state *st, const int *fd, short events)
{
	struct sb_proc_notify *nt = &st->notify;
	if (nt->n == SB_PROC_NOTIFY_MAX)
		return -1; /* its keeper asks on its own */
	nt->fd[nt->n] = fd;
	nt->events[nt->n] = events;
	nt->polled[nt->n] = -1; /* not in a poll yet */
	return (int)nt->n++;
}

void sb_proc_notify_poll(struct proc_state *st)
{
	struct sb_proc_notify *nt = &st->notify;
	struct pollfd p[SB_PROC_NOTIFY_MAX];
	nfds_t k = 0;
	unsigned at[SB_PROC_NOTIFY_MAX];
	for (unsigned i = 0; i < nt->n; i++) {
		nt->polled[i] = -1;
		nt->revents[i] = 0;
		if (*nt->fd[i] < 0)
			continue;
		p[k] = (struct pollfd){.fd = *nt->fd[i], .events = nt->events[i]};
		at[k++] = i;
	}
	if (!k || poll(p, k, 0) < 0)
		return; /* none asked: each keeper asks on its own */
	for (nfds_t j = 0; j < k; j++) {
		nt->polled[at[j]] = p[j].fd;
		nt->revents[at[j]] = p[j].revents;
	}
}

int sb_proc_notify_told(const struct proc_state *st, int slot)
{
	const struct sb_proc_notify *nt = &st->notify;
	if (slot < 0 || (unsigned)slot >= nt->n)
		return -1;
	int fd = *nt->fd[slot];
	/* a descriptor opened or replaced since the poll was not asked */
	if (fd < 0 || fd != nt->polled[slot])
		return -1;
	return nt->revents[slot] != 0;
}
