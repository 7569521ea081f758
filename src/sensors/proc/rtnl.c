/* The kernel's list of network devices from one RTM_GETLINK dump over
 * NETLINK_ROUTE: most of what netclass reads from a device's sysfs
 * attributes, one attribute file and one read each, comes in one request
 * for every device (rtnl_fill_ifinfo() from the same fields of struct
 * net_device as net-sysfs.c's show functions).
 *
 * A dump never waits: the kernel fills each reply while the request is
 * sent or the reply received; MSG_DONTWAIT is there so that a kernel that
 * did otherwise costs a round of sysfs reads, never a stuck loop. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "proc.h"

#ifndef RTEXT_FILTER_SKIP_STATS
#define RTEXT_FILTER_SKIP_STATS (1 << 3)
#endif

#define DUMP_BUF (64 * 1024)

static bool attr_u32(const struct rtattr *a, uint32_t *v)
{
	if (RTA_PAYLOAD(a) < sizeof(uint32_t))
		return false;
	memcpy(v, RTA_DATA(a), sizeof(*v));
	return true;
}

static bool attr_u8(const struct rtattr *a, uint8_t *v)
{
	if (RTA_PAYLOAD(a) < 1)
		return false;
	*v = *(const uint8_t *)RTA_DATA(a);
	return true;
}

static bool attr_bytes(const struct rtattr *a, uint8_t *out, uint8_t *len, size_t cap)
{
	size_t n = RTA_PAYLOAD(a);
	if (n > cap)
		return false;
	memcpy(out, RTA_DATA(a), n);
	*len = (uint8_t)n;
	return true;
}

/* A NUL-terminated string attribute, NUL included in the payload. */
static bool attr_str(const struct rtattr *a, char *out, size_t cap)
{
	size_t n = RTA_PAYLOAD(a);
	const char *s = RTA_DATA(a);
	size_t l = strnlen(s, n);
	if (l == n || l >= cap)
		return false;
	memcpy(out, s, l + 1);
	return true;
}

int sb_proc_link_parse(const void *msg, size_t len, struct sb_proc_link *l)
{
	const struct nlmsghdr *h = msg;
	memset(l, 0, sizeof(*l));
	if (len < sizeof(*h) || h->nlmsg_len > len || h->nlmsg_type != RTM_NEWLINK ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return -EINVAL;
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	l->ifindex = ifi->ifi_index;
	l->type = ifi->ifi_type;
	l->flags = ifi->ifi_flags;
	int rem = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, rem); a = RTA_NEXT(a, rem)) {
		bool ok = true;
		unsigned bit = 0;
		switch (a->rta_type) {
		case IFLA_IFNAME:
			ok = attr_str(a, l->name, sizeof(l->name));
			bit = SB_LINK_NAME;
			break;
		case IFLA_MTU:
			ok = attr_u32(a, &l->mtu);
			bit = SB_LINK_MTU;
			break;
		case IFLA_TXQLEN:
			ok = attr_u32(a, &l->txqlen);
			bit = SB_LINK_TXQLEN;
			break;
		case IFLA_GROUP:
			ok = attr_u32(a, &l->group);
			bit = SB_LINK_GROUP;
			break;
		case IFLA_LINK:
			ok = attr_u32(a, &l->iflink);
			bit = SB_LINK_IFLINK;
			break;
		case IFLA_CARRIER:
			ok = attr_u8(a, &l->carrier);
			bit = SB_LINK_CARRIER;
			break;
		case IFLA_CARRIER_CHANGES:
			ok = attr_u32(a, &l->changes);
			bit = SB_LINK_CHANGES;
			break;
		case IFLA_CARRIER_UP_COUNT:
			ok = attr_u32(a, &l->up);
			bit = SB_LINK_UP;
			break;
		case IFLA_CARRIER_DOWN_COUNT:
			ok = attr_u32(a, &l->down);
			bit = SB_LINK_DOWN;
			break;
		case IFLA_OPERSTATE:
			ok = attr_u8(a, &l->operstate);
			bit = SB_LINK_OPERSTATE;
			break;
		case IFLA_LINKMODE:
			ok = attr_u8(a, &l->linkmode);
			bit = SB_LINK_LINKMODE;
			break;
		case IFLA_ADDRESS:
			ok = attr_bytes(a, l->addr, &l->addrlen, sizeof(l->addr));
			bit = SB_LINK_ADDRESS;
			break;
		case IFLA_BROADCAST:
			ok = attr_bytes(a, l->brd, &l->brdlen, sizeof(l->brd));
			bit = SB_LINK_BROADCAST;
			break;
		case IFLA_PROMISCUITY:
			ok = attr_u32(a, &l->promiscuity);
			bit = SB_LINK_PROMISCUITY;
			break;
		case IFLA_ALLMULTI:
			ok = attr_u32(a, &l->allmulti);
			bit = SB_LINK_ALLMULTI;
			break;
		case IFLA_IFALIAS:
			ok = attr_str(a, l->alias, sizeof(l->alias));
			bit = SB_LINK_ALIAS;
			break;
		case IFLA_STATS64: {
			/* an older kernel's struct is shorter: its first fields */
			size_t n = RTA_PAYLOAD(a) / sizeof(uint64_t);
			if (n > SB_LINK_NSTATS)
				n = SB_LINK_NSTATS;
			memcpy(l->stats, RTA_DATA(a), n * sizeof(uint64_t));
			l->nstats = (unsigned)n;
			break;
		}
		default:
			break;
		}
		if (!ok)
			return -EINVAL;
		l->have |= bit;
	}
	return l->have & SB_LINK_NAME ? 0 : -EINVAL;
}

/* ifi_flags is dev_get_flags() (net/core/dev.c): dev->flags without
 * IFF_PROMISC, IFF_ALLMULTI, IFF_RUNNING, IFF_LOWER_UP and IFF_DORMANT,
 * the first two taken from gflags (what the user asked for) and the last
 * three worked out from the operational state. dev->flags itself never
 * holds the last three in mainline (__dev_change_flags keeps them out; the
 * operational state lives in dev->state and dev->operstate), and holds
 * IFF_PROMISC exactly while dev->promiscuity is not 0, IFF_ALLMULTI while
 * dev->allmulti is not (__dev_set_promiscuity, __dev_set_allmulti): a
 * bridge port is promiscuous with gflags saying nothing. */
bool sb_proc_link_dev_flags(const struct sb_proc_link *l, unsigned *flags)
{
	const unsigned need = SB_LINK_PROMISCUITY | SB_LINK_ALLMULTI;
	if ((l->have & need) != need)
		return false;
	unsigned f = l->flags & ~(unsigned)(IFF_PROMISC | IFF_ALLMULTI | IFF_RUNNING |
					    IFF_LOWER_UP | IFF_DORMANT);
	if (l->promiscuity)
		f |= IFF_PROMISC;
	if (l->allmulti)
		f |= IFF_ALLMULTI;
	*flags = f;
	return true;
}

int sb_proc_rtnl_open(struct sb_proc_rtnl *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (r->fd < 0)
		return -errno;
	sb_buf_init(&r->buf);
	return 0;
}

void sb_proc_rtnl_close(struct sb_proc_rtnl *r)
{
	if (r->fd >= 0)
		close(r->fd);
	sb_buf_free(&r->buf);
	free(r->v);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/* Sends a dump request of len bytes, its header filled in here: 0 or -errno. */
static int send_dump(struct sb_proc_rtnl *r, struct nlmsghdr *h, size_t len, unsigned short type)
{
	h->nlmsg_len = (uint32_t)len;
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = ++r->seq;
	struct sockaddr_nl to = {.nl_family = AF_NETLINK};
	if (sendto(r->fd, h, len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	return 0;
}

static int dump_request(struct sb_proc_rtnl *r, bool stats)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
		struct rtattr a;
		uint32_t mask;
	} req;
	memset(&req, 0, sizeof(req));
	req.i.ifi_family = AF_UNSPEC;
	req.a.rta_type = IFLA_EXT_MASK;
	req.a.rta_len = RTA_LENGTH(sizeof(uint32_t));
	req.mask = stats ? 0 : RTEXT_FILTER_SKIP_STATS;
	return send_dump(r, &req.h, sizeof(req), RTM_GETLINK);
}

/* Reads the replies to the request just sent (seq r->seq) up to its
 * NLMSG_DONE, each message of type want to take(r, msg, arg): 0, or -errno
 * (the dump is then left unread: the caller closes the socket). */
static int dump_read(struct sb_proc_rtnl *r, unsigned short want,
		     int (*take)(struct sb_proc_rtnl *r, const struct nlmsghdr *h, void *arg),
		     void *arg)
{
	if (sb_buf_reserve(&r->buf, DUMP_BUF))
		return -ENOMEM;
	for (;;) {
		ssize_t n = recv(r->fd, r->buf.data, DUMP_BUF, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPROTO;
		int rem = (int)n;
		for (const struct nlmsghdr *h = (const void *)r->buf.data; NLMSG_OK(h, rem);
		     h = NLMSG_NEXT(h, rem)) {
			if (h->nlmsg_seq != r->seq)
				continue; /* a late reply to an earlier, failed dump */
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				bool has = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e));
				return has && e->error < 0 ? e->error : -EPROTO;
			}
			if (h->nlmsg_type != want)
				continue;
			int err = take(r, h, arg);
			if (err)
				return err;
		}
	}
}

static int take_link(struct sb_proc_rtnl *r, const struct nlmsghdr *h, void *arg)
{
	(void)arg;
	if (sb_grow((void **)&r->v, &r->cap, r->n + 1, sizeof(*r->v)))
		return -ENOMEM;
	if (!sb_proc_link_parse(h, h->nlmsg_len, &r->v[r->n]))
		r->n++;
	return 0;
}

int sb_proc_rtnl_dump(struct sb_proc_rtnl *r, bool stats)
{
	r->n = 0;
	if (r->fd < 0)
		return -EBADF;
	int err = dump_request(r, stats);
	return err ? err : dump_read(r, RTM_NEWLINK, take_link, NULL);
}

int sb_proc_stats_parse(const void *msg, size_t len, int *ifindex, uint64_t *stats,
			unsigned *nstats)
{
	const struct nlmsghdr *h = msg;
	*nstats = 0;
	if (len < sizeof(*h) || h->nlmsg_len > len || h->nlmsg_type != RTM_NEWSTATS ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct if_stats_msg)))
		return -EINVAL;
	const struct if_stats_msg *m = NLMSG_DATA(h);
	*ifindex = (int)m->ifindex;
	size_t off = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*m)));
	int rem = (int)h->nlmsg_len - (int)off;
	for (const struct rtattr *a = (const void *)((const char *)msg + off); RTA_OK(a, rem);
	     a = RTA_NEXT(a, rem)) {
		if (a->rta_type != IFLA_STATS_LINK_64)
			continue;
		/* IFLA_STATS64's struct, as in a link message */
		size_t n = RTA_PAYLOAD(a) / sizeof(uint64_t);
		if (n > SB_LINK_NSTATS)
			n = SB_LINK_NSTATS;
		memcpy(stats, RTA_DATA(a), n * sizeof(uint64_t));
		*nstats = (unsigned)n;
	}
	return *nstats ? 0 : -EINVAL;
}

/* The device of the last dump with this ifindex, looked for first where
 * the one before it was found (both dumps go in ifindex order). */
static struct sb_proc_link *link_at(struct sb_proc_rtnl *r, int ifindex, size_t *hint)
{
	for (size_t k = 0; k < r->n; k++) {
		size_t i = (*hint + k) % r->n;
		if (r->v[i].ifindex == ifindex) {
			*hint = i + 1;
			return &r->v[i];
		}
	}
	return NULL;
}

struct stats_dump {
	size_t hint, matched;
	bool unknown; /* a device the last link dump did not have */
};

static int take_stats(struct sb_proc_rtnl *r, const struct nlmsghdr *h, void *arg)
{
	struct stats_dump *d = arg;
	int ifindex;
	uint64_t stats[SB_LINK_NSTATS];
	unsigned n;
	if (sb_proc_stats_parse(h, h->nlmsg_len, &ifindex, stats, &n))
		return 0; /* as take_link: a message not understood is left out */
	struct sb_proc_link *l = link_at(r, ifindex, &d->hint);
	if (!l) {
		d->unknown = true;
		return 0;
	}
	memcpy(l->stats, stats, n * sizeof(uint64_t));
	l->nstats = n;
	d->matched++;
	return 0;
}

int sb_proc_rtnl_stats(struct sb_proc_rtnl *r)
{
	if (r->fd < 0)
		return -EBADF;
	struct {
		struct nlmsghdr h;
		struct if_stats_msg m;
	} req;
	memset(&req, 0, sizeof(req));
	req.m.family = AF_UNSPEC;
	req.m.filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64);
	int err = send_dump(r, &req.h, sizeof(req), RTM_GETSTATS);
	if (err)
		return err;
	struct stats_dump d = {0};
	err = dump_read(r, RTM_NEWSTATS, take_stats, &d);
	if (err)
		return err;
	return d.unknown || d.matched != r->n ? -ESTALE : 0;
}

const struct sb_proc_link *sb_proc_rtnl_find(const struct sb_proc_rtnl *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].name, name))
			return &r->v[i];
	return NULL;
}
