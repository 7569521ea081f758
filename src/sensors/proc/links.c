/* The network devices of this round, shared by netdev and netclass.
 *
 * An RTM_GETLINK dump fills every attribute of every device (its IPv6
 * counters and settings among them): most of its cost, and all of it
 * changes only with a link notification (RTMGRP_LINK, rtnl_watch.c). So
 * the dump is kept, and made again only after a notification; a round
 * between takes the counters alone from an RTM_GETSTATS dump
 * (dev_get_stats(), what the link dump's IFLA_STATS64 is made of). The
 * same notifications, drained once a round, tell netclass which devices'
 * kept sysfs values to read again (sb_proc_links_notified).
 *
 * Carrier is the exception: netif_carrier_on/off() change it at once, and
 * the notification comes when linkwatch runs, up to a second later when
 * it ran in the last second. Netclass reads it as node_exporter does,
 * from the sysfs file, for each device that is up; a value other than the
 * kept one makes the dump again, carrier_changes_total with it. What is
 * left behind: the same counts after a down and up between two rounds,
 * and dormant, until the notification (at most a second, in a burst). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <linux/if.h>

#include "proc.h"

#define LINKS_PAUSE_ROUNDS 60 /* after a dump that failed */
#define NOTIFIED_MAX 1024     /* devices named in a round; more: all of them */

struct proc_links {
	struct sb_proc_rtnl r; /* fd -1: not open (now) */
	uint64_t round;	       /* of the last call */
	bool ok;	       /* it gave the list */
	unsigned pause;	       /* rounds left without a dump */
	int watch;	       /* link notifications; -1: none, a dump every round */
	int slot;	       /* watch's in the round's poll (notify.c) */
	bool changed;	       /* one came since the kept dump was made */
	/* this round's notifications, for netclass (sb_proc_links_notified) */
	uint64_t drained; /* the round they were drained in */
	bool all;	  /* one said any device may have changed */
	int *ifs;
	size_t nifs, capifs;
	bool nostats; /* RTM_GETSTATS refused: a dump every round */
	int *carrier; /* each kept device's carrier file; -1: not open */
	size_t ncarrier;
	uint64_t dumps; /* link dumps made */
};

static void links_changed(void *arg, int ifindex)
{
	struct proc_links *l = arg;
	l->changed = true;
	if (!ifindex || l->nifs >= NOTIFIED_MAX ||
	    sb_grow((void **)&l->ifs, &l->capifs, l->nifs + 1, sizeof(*l->ifs)))
		l->all = true;
	else
		l->ifs[l->nifs++] = ifindex;
}

/* The notifications that came since the last round, once a round: the
 * kept dump is then made again, and netclass told which devices. A socket
 * that failed is closed: from then on the dump is made every round and
 * netclass keeps nothing. */
static void links_drain(struct proc_state *st, struct proc_links *l)
{
	if (l->drained == st->round)
		return;
	l->drained = st->round;
	l->all = false;
	l->nifs = 0;
	if (l->watch < 0 || !sb_proc_notify_told(st, l->slot))
		return;
	int r = sb_proc_rtnl_watch_drain(l->watch, links_changed, l);
	if (r) {
		/* once: the socket is not used again */
		sb_warn(st->comp,
			"rtnetlink link notifications: %s; the devices are dumped, and dev_id and "
			"the assign types read, every round from now on",
			strerror(-r));
		close(l->watch);
		l->watch = -1;
	}
}

/* The shared state, made at the first call. */
static struct proc_links *links_get(struct proc_state *st)
{
	struct proc_links *l = st->links;
	if (l)
		return l;
	l = st->links = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->r.fd = -1;
	l->round = l->drained = UINT64_MAX; /* no round yet */
	l->watch = sb_proc_rtnl_watch_open();
	l->slot = sb_proc_notify_add(st, &l->watch, POLLIN);
	if (l->watch < 0)
		sb_info(st->comp,
			"no rtnetlink link notifications (%s): the devices are dumped, and dev_id "
			"and the assign types read, every round",
			strerror(-l->watch));
	return l;
}

bool sb_proc_links_notified(struct proc_state *st, sb_proc_link_changed_fn *changed, void *arg)
{
	struct proc_links *l = links_get(st);
	if (!l)
		return false;
	links_drain(st, l);
	if (l->all)
		changed(arg, 0);
	else
		for (size_t i = 0; i < l->nifs; i++)
			changed(arg, l->ifs[i]);
	return l->watch >= 0;
}

static void carrier_close(struct proc_links *l)
{
	for (size_t i = 0; i < l->ncarrier; i++)
		if (l->carrier[i] >= 0)
			close(l->carrier[i]);
	free(l->carrier);
	l->carrier = NULL;
	l->ncarrier = 0;
}

/* Whether a device's carrier file says other than the kept dump: read for
 * each device that is up (the file refuses one that is not). */
static bool carrier_moved(struct proc_state *st, struct proc_links *l)
{
	if (!l->carrier && l->r.n) {
		l->carrier = malloc(l->r.n * sizeof(*l->carrier));
		if (!l->carrier)
			return true;
		l->ncarrier = l->r.n;
		for (size_t i = 0; i < l->ncarrier; i++)
			l->carrier[i] = -1;
	}
	for (size_t i = 0; i < l->ncarrier; i++) {
		const struct sb_proc_link *d = &l->r.v[i];
		/* the loopback device's carrier is on for good (its driver
		 * never turns it off, nor lets it be set) */
		if (!(d->flags & IFF_UP) || !(d->have & SB_LINK_CARRIER) ||
		    (d->flags & IFF_LOOPBACK))
			continue;
		if (l->carrier[i] < 0) {
			char p[PATH_MAX];
			snprintf(p, sizeof(p), "%s/class/net/%s/carrier", st->cfg->sysfs, d->name);
			l->carrier[i] = open(p, O_RDONLY | O_CLOEXEC);
			if (l->carrier[i] < 0)
				return true; /* gone, or renamed: the dump says */
		}
		char c[8];
		ssize_t n = pread(l->carrier[i], c, sizeof(c), 0);
		if (n < 0 && errno == EINVAL)
			continue; /* not running any more: the notification says */
		if (n <= 0 || (c[0] == '1') != !!d->carrier)
			return true;
	}
	return false;
}

/* Whether this round can do with the kept dump: its counters refreshed
 * when wanted, nothing changed that the sysfs carrier files show. */
static bool links_kept(struct proc_state *st, struct proc_links *l)
{
	if (!l->ok || l->watch < 0 || l->changed || (st->links_stats && l->nostats))
		return false;
	if (st->links_stats) {
		int e = sb_proc_rtnl_stats(&l->r);
		if (e == -EOPNOTSUPP || e == -EINVAL)
			l->nostats = true;
		if (e && e != -ESTALE)
			sb_proc_rtnl_close(&l->r); /* it may be left half read */
		if (e)
			return false;
	}
	return !st->links_carrier || !carrier_moved(st, l);
}

const struct sb_proc_rtnl *sb_proc_links(struct proc_state *st)
{
	struct proc_links *l = links_get(st);
	if (!l)
		return NULL;
	if (l->round == st->round)
		return l->ok ? &l->r : NULL;
	l->round = st->round;
	links_drain(st, l);
	if (l->pause) {
		l->ok = false;
		l->pause--;
		return NULL;
	}
	if (l->r.fd >= 0 && links_kept(st, l))
		return &l->r;
	l->ok = false;
	if (l->r.fd < 0 && sb_proc_rtnl_open(&l->r))
		return NULL;
	/* a notification from here on is for the next round's dump */
	l->changed = false;
	carrier_close(l);
	l->dumps++;
	if (sb_proc_rtnl_dump(&l->r, st->links_stats)) {
		/* a dump left half read would make the next one EBUSY */
		sb_proc_rtnl_close(&l->r);
		l->pause = LINKS_PAUSE_ROUNDS;
		return NULL;
	}
	l->ok = true; /* with counters when links_stats, set by netdev's init */
	return &l->r;
}

uint64_t sb_proc_links_dumps(const struct proc_state *st)
{
	return st->links ? st->links->dumps : 0;
}

void sb_proc_links_free(struct proc_state *st)
{
	struct proc_links *l = st->links;
	if (!l)
		return;
	carrier_close(l);
	free(l->ifs);
	if (l->watch >= 0)
		close(l->watch);
	sb_proc_rtnl_close(&l->r);
	free(l);
	st->links = NULL;
}
