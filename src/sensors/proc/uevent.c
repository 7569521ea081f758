/* The kernel's device events (NETLINK_KOBJECT_UEVENT, its multicast group
 * 1) on a socket of the sensor's, drained once a round: a collector that
 * lists a sysfs class directory to find its devices lists it again only
 * after a device of that subsystem was added, removed or moved (or events
 * were lost), not every round. A listing is a rewind and two getdents, and
 * a directory that could have been removed is fstat'ed first: four
 * syscalls, each ~5 µs when the round's caches are cold, for a directory
 * that changes when hardware is plugged in.
 *
 * Only the live /sys has events. A fixture tree, or a socket that cannot
 * be had, is listed every round as before. The kernel sends an add after
 * the device's directory and attributes are in sysfs, so a listing after
 * the event finds them. "change" events (a battery's status) do not add
 * or remove a device and are not counted. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "proc.h"

/* An event is a few hundred bytes (ACTION@DEVPATH, then KEY=VALUE pairs);
 * a longer datagram is cut and counts as a loss. */
#define UEVENT_BUF 8192
#define UEVENT_MAX_SUBSYS 4

struct proc_uevents {
	int fd;	  /* -1: not watched */
	int slot; /* in the round's poll (notify.c) */
	uint64_t round;
	unsigned n;
	struct {
		char name[32];
		uint64_t gen; /* moved by each event of it, and by a loss */
	} sub[UEVENT_MAX_SUBSYS];
};

bool sb_proc_uevent_parse(const char *buf, size_t n, const char **subsys, size_t *len)
{
	const char *end = buf + n, *action = NULL;
	size_t alen = 0;
	*subsys = NULL;
	*len = 0;
	/* the first string is ACTION@DEVPATH; udev's own messages (its
	 * group, not bound here) start "libudev" and have no '@' */
	const char *at = memchr(buf, '@', n);
	const char *nul = memchr(buf, 0, n);
	if (!at || !nul || at > nul)
		return false;
	for (const char *p = nul + 1; p < end;) {
		const char *z = memchr(p, 0, (size_t)(end - p));
		size_t l = z ? (size_t)(z - p) : (size_t)(end - p);
		if (l > 7 && !memcmp(p, "ACTION=", 7)) {
			action = p + 7;
			alen = l - 7;
		} else if (l > 10 && !memcmp(p, "SUBSYSTEM=", 10)) {
			*subsys = p + 10;
			*len = l - 10;
		}
		p += l + 1;
	}
	if (!action || !*subsys)
		return false;
	return (alen == 3 && !memcmp(action, "add", 3)) ||
	       (alen == 6 && !memcmp(action, "remove", 6)) ||
	       (alen == 4 && !memcmp(action, "move", 4));
}

static void lost(struct proc_uevents *u)
{
	for (unsigned i = 0; i < u->n; i++)
		u->sub[i].gen++;
}

static void drain(struct proc_uevents *u)
{
	char buf[UEVENT_BUF];
	for (;;) {
		ssize_t n = recv(u->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 || (size_t)n > sizeof(buf)) {
			lost(u);
			if (n < 0 && errno != ENOBUFS) { /* no longer watched */
				close(u->fd);
				u->fd = -1;
				return;
			}
			continue;
		}
		const char *s;
		size_t l;
		if (!sb_proc_uevent_parse(buf, (size_t)n, &s, &l))
			continue;
		for (unsigned i = 0; i < u->n; i++)
			if (strlen(u->sub[i].name) == l && !memcmp(u->sub[i].name, s, l))
				u->sub[i].gen++;
	}
}

static int watch_open(void)
{
	int fd =
	    socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -1;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

bool sb_proc_uevents_since(struct proc_state *st, const char *subsys, uint64_t *seen)
{
	struct proc_uevents *u = st->uevents;
	if (!u) {
		if (!sb_proc_live_sysfs(st))
			return true;
		u = st->uevents = calloc(1, sizeof(*u));
		if (!u)
			return true;
		u->fd = watch_open();
		u->slot = sb_proc_notify_add(st, &u->fd, POLLIN);
		u->round = st->round;
	}
	if (u->fd < 0)
		return true;
	if (u->round != st->round) {
		u->round = st->round;
		if (sb_proc_notify_told(st, u->slot))
			drain(u);
		if (u->fd < 0)
			return true;
	}
	unsigned i = 0;
	while (i < u->n && strcmp(u->sub[i].name, subsys))
		i++;
	if (i == u->n) {
		if (u->n == UEVENT_MAX_SUBSYS || strlen(subsys) >= sizeof(u->sub[0].name))
			return true;
		snprintf(u->sub[i].name, sizeof(u->sub[0].name), "%s", subsys);
		u->sub[i].gen = 1; /* past any *seen of 0: the first call lists */
		u->n++;
	}
	bool moved = *seen != u->sub[i].gen;
	*seen = u->sub[i].gen;
	return moved;
}

void sb_proc_uevents_free(struct proc_state *st)
{
	struct proc_uevents *u = st->uevents;
	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	free(u);
	st->uevents = NULL;
}
