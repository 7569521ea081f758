/* The kernel's link notifications (RTMGRP_LINK) on a socket of their own
 * (links.c drains it once a round): the kept link dump is made again, and
 * what netclass keeps between rounds (attributes that change only with a
 * notification) is forgotten for the devices they name. The socket is
 * never waited on: a round drains it with recv until EAGAIN, one call
 * when nothing happened.
 *
 * Notifications are datagrams the kernel drops when the socket's buffer
 * is full; the next recv then fails with ENOBUFS, and since what was lost
 * cannot be known, every device is forgotten. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "proc.h"

/* A notification is an RTM_NEWLINK of a few KB at most (no counters are
 * asked for here, but the kernel sends them); a datagram longer than this
 * is cut and counts as an overflow. */
#define WATCH_BUF 16384

int sb_proc_rtnl_watch_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

void sb_proc_rtnl_watch_parse(const void *buf, size_t n, bool trunc,
			      sb_proc_link_changed_fn *changed, void *arg)
{
	if (trunc || n > INT32_MAX) {
		changed(arg, 0);
		return;
	}
	int rem = (int)n;
	const struct nlmsghdr *h = buf;
	for (; NLMSG_OK(h, rem); h = NLMSG_NEXT(h, rem)) {
		if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
			continue; /* only RTMGRP_LINK is joined; NLMSG_DONE, NOOP */
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
			changed(arg, 0);
			return;
		}
		const struct ifinfomsg *ifi = NLMSG_DATA(h);
		/* an ifindex is never 0; one that is would forget all */
		changed(arg, ifi->ifi_index);
	}
	if (rem > 0) /* bytes that are no whole message */
		changed(arg, 0);
}

int sb_proc_rtnl_watch_drain(int fd, sb_proc_link_changed_fn *changed, void *arg)
{
	/* aligned for struct nlmsghdr */
	uint32_t buf[WATCH_BUF / sizeof(uint32_t)];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == ENOBUFS) {
				changed(arg, 0);
				continue; /* the socket goes on after an overflow */
			}
			int r = -errno;
			changed(arg, 0);
			return r;
		}
		if (n == 0) { /* not a netlink datagram */
			changed(arg, 0);
			return -EPROTO;
		}
		sb_proc_rtnl_watch_parse(buf, (size_t)n > sizeof(buf) ? sizeof(buf) : (size_t)n,
					 (size_t)n > sizeof(buf), changed, arg);
	}
}
