/* node_exporter's netdev collector, after its "legacy" renaming:
 * node_network_{receive,transmit}_<stat>_total{device}.
 *
 * On the live /proc with netdev_netlink (node_exporter's default, its
 * netlink mode), the counters come from the round's RTM_GETLINK dump that
 * netclass reads too (sb_proc_links): the same struct rtnl_link_stats64
 * node_exporter reads, folded as its legacy renaming and /proc/net/dev
 * both fold it, with rx_nohandler. Elsewhere (a fixture tree,
 * netdev_netlink false, a dump that failed) /proc/net/dev, with
 * rx_nohandler from sysfs in netlink mode. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "proc.h"

/* The 16 counters in /proc/net/dev's order: each one's metric name and
 * help text, joined at compile time from its one stat name. */
#define NETDEV_STATS                                                                               \
	X(receive_bytes)                                                                           \
	X(receive_packets)                                                                         \
	X(receive_errs)                                                                            \
	X(receive_drop)                                                                            \
	X(receive_fifo)                                                                            \
	X(receive_frame)                                                                           \
	X(receive_compressed)                                                                      \
	X(receive_multicast)                                                                       \
	X(transmit_bytes)                                                                          \
	X(transmit_packets)                                                                        \
	X(transmit_errs)                                                                           \
	X(transmit_drop)                                                                           \
	X(transmit_fifo)                                                                           \
	X(transmit_colls)                                                                          \
	X(transmit_carrier)                                                                        \
	X(transmit_compressed)
#define X(stat) "node_network_" #stat "_total",
static const char *const netdev_names[16] = {NETDEV_STATS};
#undef X
#define X(stat) "Network device statistic " #stat ".",
static const char *const netdev_help[16] = {NETDEV_STATS};
#undef X

/* netdev_names' counters as sums of rtnl_link_stats64 fields (SB_LS_ + 1;
 * 0 ends a sum): /proc/net/dev's dev_seq_printf_stats() and node_exporter's
 * legacy() fold them alike. */
static const unsigned char netdev_sums[16][4] = {
    {SB_LS_RX_BYTES + 1},
    {SB_LS_RX_PACKETS + 1},
    {SB_LS_RX_ERRORS + 1},
    {SB_LS_RX_DROPPED + 1, SB_LS_RX_MISSED + 1},
    {SB_LS_RX_FIFO + 1},
    {SB_LS_RX_FRAME + 1, SB_LS_RX_LENGTH + 1, SB_LS_RX_OVER + 1, SB_LS_RX_CRC + 1},
    {SB_LS_RX_COMPRESSED + 1},
    {SB_LS_MULTICAST + 1},
    {SB_LS_TX_BYTES + 1},
    {SB_LS_TX_PACKETS + 1},
    {SB_LS_TX_ERRORS + 1},
    {SB_LS_TX_DROPPED + 1},
    {SB_LS_TX_FIFO + 1},
    {SB_LS_COLLISIONS + 1},
    {SB_LS_TX_CARRIER + 1, SB_LS_TX_ABORTED + 1, SB_LS_TX_HEARTBEAT + 1, SB_LS_TX_WINDOW + 1},
    {SB_LS_TX_COMPRESSED + 1},
};

#define NOHANDLER_HELP "Network device statistic receive_nohandler."

int sb_proc_netdev_links(const struct sb_proc_rtnl *links, struct sb_evb *b,
			 struct sb_proc_filter *devices)
{
	int n = 0;
	for (size_t d = 0; d < links->n; d++) {
		const struct sb_proc_link *l = &links->v[d];
		size_t nl = strlen(l->name);
		/* node_exporter passes over a device without the counters */
		if (l->nstats <= SB_LS_TX_COMPRESSED || !sb_proc_filter_pass(devices, l->name, nl))
			continue;
		for (size_t i = 0; i < 16; i++) {
			uint64_t v = 0;
			for (size_t k = 0; k < 4 && netdev_sums[i][k]; k++)
				v += l->stats[netdev_sums[i][k] - 1];
			sb_evb_sample(b, netdev_names[i], SB_COUNTER, (double)v);
			sb_evb_help(b, netdev_help[i]);
			sb_evb_labeln(b, "device", 6, l->name, nl);
			n++;
		}
		if (l->nstats > SB_LS_RX_NOHANDLER) {
			sb_evb_sample(b, "node_network_receive_nohandler_total", SB_COUNTER,
				      (double)l->stats[SB_LS_RX_NOHANDLER]);
			sb_evb_help(b, NOHANDLER_HELP);
			sb_evb_labeln(b, "device", 6, l->name, nl);
			n++;
		}
	}
	return n;
}

int sb_proc_parse_netdev(const char *text, struct sb_evb *b, struct sb_proc_filter *devices,
			 struct sb_proc_perr *e, const struct sb_netdev_extra *x)
{
	int n = 0;
	unsigned lineno = 0;
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		if (lineno <= 2)
			continue; /* two header lines */
		const char *eol = sb_pp_eol(p), *colon = NULL;
		for (const char *q = p; q < eol; q++)
			if (*q == ':')
				colon = q;
		const char *name = sb_pp_blank(p), *nend = colon;
		while (nend && nend > name && (nend[-1] == ' ' || nend[-1] == '\t'))
			nend--;
		if (!colon || nend == name) {
			sb_proc_bad(e, lineno, "expected \"device: counters\"");
			continue;
		}
		uint64_t v[16];
		const char *q = colon + 1;
		int i;
		for (i = 0; i < 16; i++)
			if (!sb_pp_u64(&q, &v[i]))
				break;
		if (i < 16) {
			sb_proc_bad(e, lineno, "%.*s: expected 16 counters", (int)(nend - name),
				    name);
			continue;
		}
		size_t nl = (size_t)(nend - name);
		if (!sb_proc_filter_pass(devices, name, nl))
			continue;
		for (i = 0; i < 16; i++) {
			sb_evb_sample(b, netdev_names[i], SB_COUNTER, (double)v[i]);
			sb_evb_help(b, netdev_help[i]);
			sb_evb_labeln(b, "device", 6, name, nl);
			n++;
		}
		uint64_t nh;
		if (x && x->nohandler(x->arg, name, nl, &nh)) {
			sb_evb_sample(b, "node_network_receive_nohandler_total", SB_COUNTER,
				      (double)nh);
			sb_evb_help(b, NOHANDLER_HELP);
			sb_evb_labeln(b, "device", 6, name, nl);
			n++;
		}
	}
	if (lineno < 2)
		sb_proc_bad(e, 0, "no header lines");
	return n;
}

/* ---- the collector ---- */

/* Each device's statistics/rx_nohandler stays open from one round to the
 * next (an open walks the sysfs path, dearer than the read); a device that
 * leaves /proc/net/dev is closed. Past KEEP_OPEN devices the file is opened
 * for each read, so hundreds of veths do not hold hundreds of fds. */
#define KEEP_OPEN 256

struct nh_dev {
	char name[32]; /* IFNAMSIZ is 16 */
	int fd;	       /* -1: none (opened for each read) */
	uint64_t round;
};

struct netdev {
	struct proc_state *st;
	struct sb_proc_filter filter;
	struct nh_dev *dev;
	size_t n, cap;
	uint64_t round;
	bool links; /* the live /proc in netlink mode: from the dump */
};

static int netdev_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct netdev *nd = calloc(1, sizeof(*nd));
	if (!nd)
		return -ENOMEM;
	c->priv = nd;
	nd->st = st;
	nd->links = st->cfg->netdev_netlink && sb_proc_live_procfs(st);
	if (nd->links)
		st->links_stats = true;
	char err[256];
	int r = sb_proc_filter_init(&nd->filter, st->cfg->netdev_device_include,
				    st->cfg->netdev_device_exclude, err, sizeof(err));
	if (r)
		sb_err(st->comp, "%s", err);
	return r;
}

static void netdev_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct netdev *nd = c->priv;
	if (!nd)
		return;
	for (size_t i = 0; i < nd->n; i++)
		if (nd->dev[i].fd >= 0)
			close(nd->dev[i].fd);
	free(nd->dev);
	sb_proc_filter_free(&nd->filter);
	free(nd);
	c->priv = NULL;
}

static int nh_open(const struct netdev *nd, const char *dev, size_t n)
{
	char path[512];
	if (snprintf(path, sizeof(path), "%s/class/net/%.*s/statistics/rx_nohandler",
		     nd->st->cfg->sysfs, (int)n, dev) >= (int)sizeof(path))
		return -1;
	return open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

/* This round's entry for dev, added (with its file opened) when new. */
static struct nh_dev *nh_find(struct netdev *nd, const char *dev, size_t n)
{
	if (n >= sizeof(nd->dev[0].name))
		return NULL;
	for (size_t i = 0; i < nd->n; i++)
		if (!memcmp(nd->dev[i].name, dev, n) && !nd->dev[i].name[n])
			return &nd->dev[i];
	if (nd->n == KEEP_OPEN || sb_grow((void **)&nd->dev, &nd->cap, nd->n + 1, sizeof(*nd->dev)))
		return NULL;
	struct nh_dev *d = &nd->dev[nd->n++];
	memcpy(d->name, dev, n);
	d->name[n] = 0;
	d->fd = nh_open(nd, dev, n);
	return d;
}

/* sysfs's statistics/rx_nohandler: what netlink's rtnl_link_stats64 has
 * and /proc/net/dev lacks. A device without the file has no series. */
static bool sysfs_nohandler(void *arg, const char *dev, size_t n, uint64_t *v)
{
	struct netdev *nd = arg;
	char buf[32];
	struct nh_dev *d = nh_find(nd, dev, n);
	if (d)
		d->round = nd->round;
	int fd = d && d->fd >= 0 ? d->fd : nh_open(nd, dev, n);
	if (fd < 0)
		return false;
	ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);
	if (r < 0 && d && fd == d->fd) {
		/* removed (ENODEV), perhaps back under the same name: once
		 * more on a fresh fd */
		close(fd);
		fd = d->fd = nh_open(nd, dev, n);
		r = fd < 0 ? -1 : pread(fd, buf, sizeof(buf) - 1, 0);
	}
	if (!d || fd != d->fd)
		close(fd);
	if (r <= 0)
		return false;
	buf[r] = 0;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n'))
		return false;
	*v = x;
	return true;
}

/* Devices not read this round (gone from /proc/net/dev, filtered out, or
 * counted from the dump): their files go. */
static void nh_forget(struct netdev *nd)
{
	size_t w = 0;
	for (size_t i = 0; i < nd->n; i++) {
		if (nd->dev[i].round == nd->round)
			nd->dev[w++] = nd->dev[i];
		else if (nd->dev[i].fd >= 0)
			close(nd->dev[i].fd);
	}
	nd->n = w;
}

static int netdev_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct netdev *nd = c->priv;
	const struct sb_proc_rtnl *links = nd->links ? sb_proc_links(st) : NULL;
	if (links) {
		sb_proc_netdev_links(links, b, &nd->filter);
		nd->round++;
		nh_forget(nd);
		return 0;
	}
	const char *text = sb_proc_coll_read(st, c, 0);
	if (!text)
		return sb_proc_read_err(c->f[0], false);
	struct sb_proc_perr e = {0};
	const struct sb_netdev_extra x = {sysfs_nohandler, nd};
	nd->round++;
	sb_proc_parse_netdev(text, b, &nd->filter, &e, st->cfg->netdev_netlink ? &x : NULL);
	nh_forget(nd);
	return sb_proc_report(st, c->f[0], &e);
}

static const struct sb_cfg_key netdev_keys[] = {
    {"netdev_device_exclude", SB_CT_STR, offsetof(struct proc_cfg, netdev_device_exclude), "",
     "regexp of network devices to leave out"},
    {"netdev_device_include", SB_CT_STR, offsetof(struct proc_cfg, netdev_device_include), "",
     "regexp of network devices to report (replaces the exclude)"},
    {"netdev_netlink", SB_CT_BOOL, offsetof(struct proc_cfg, netdev_netlink), "true",
     "node_exporter's netlink mode (its default): on the live /proc the counters of "
     "an RTM_GETLINK dump, with receive_nohandler; false: /proc/net/dev alone, as "
     "--no-collector.netdev.netlink"},
    {0},
};

static int netdev_check(const struct proc_cfg *c, char *err, size_t errlen)
{
	int r = sb_proc_check_regex("netdev_device_exclude", c->netdev_device_exclude, err, errlen);
	if (!r)
		r = sb_proc_check_regex("netdev_device_include", c->netdev_device_include, err,
					errlen);
	if (!r && c->netdev_device_include && *c->netdev_device_include &&
	    c->netdev_device_exclude && *c->netdev_device_exclude) {
		snprintf(err, errlen,
			 "netdev_device_include and netdev_device_exclude are mutually exclusive");
		r = -EINVAL;
	}
	return r;
}

const struct sb_proc_collector sb_proc_collector_netdev = {
    .name = "netdev",
    .default_on = true,
    .files = (const struct sb_proc_src[]){{"net/dev", .line_max = SB_PREAD_LINE_MAX}, {NULL}},
    .keys = netdev_keys,
    .check = netdev_check,
    .init = netdev_init,
    .collect = netdev_collect,
    .free = netdev_free,
};
