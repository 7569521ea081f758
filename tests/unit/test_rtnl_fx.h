/* What the rtnetlink tests share (test_proc_rtnl.c, test_proc_rtnl_watch.c,
 * test_proc_links.c):
 * link messages laid out as the kernel sends them, and one collector run
 * on live roots with its series as text. Include after test_proc_fx.h. */
#ifndef SB_TEST_RTNL_FX_H
#define SB_TEST_RTNL_FX_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

struct msg {
	char b[1024];
	size_t len;
};

static inline void msg_begin(struct msg *m, unsigned short type, int ifindex, unsigned flags)
{
	memset(m, 0, sizeof(*m));
	struct nlmsghdr *h = (struct nlmsghdr *)m->b;
	h->nlmsg_type = type;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	ifi->ifi_index = ifindex;
	ifi->ifi_type = 1;
	ifi->ifi_flags = flags;
	m->len = NLMSG_LENGTH(sizeof(*ifi));
	h->nlmsg_len = (uint32_t)m->len;
}

static inline void msg_attr(struct msg *m, unsigned short type, const void *data, size_t n)
{
	struct rtattr *a = (struct rtattr *)(m->b + NLMSG_ALIGN(m->len));
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(n);
	memcpy(RTA_DATA(a), data, n);
	m->len = NLMSG_ALIGN(m->len) + RTA_ALIGN(a->rta_len);
	((struct nlmsghdr *)m->b)->nlmsg_len = (uint32_t)m->len;
}

static inline void msg_u32(struct msg *m, unsigned short type, uint32_t v)
{
	msg_attr(m, type, &v, 4);
}

/* The collector's samples this round, one line per series as emitted. */
static inline char *series(struct tfx *f)
{
	size_t cap = 1 << 16, len = 0;
	char *out = calloc(1, cap);
	assert_non_null(out);
	for (uint32_t i = 0; i < f->t.ev->nsamples; i++) {
		const struct sb_sample *s = &f->t.ev->samples[i];
		if (!strncmp(s->name, "node_scrape_", 12))
			continue;
		len += (size_t)snprintf(out + len, cap - len, "%s", s->name);
		for (uint16_t k = 0; k < s->nlabels; k++)
			len += (size_t)snprintf(out + len, cap - len, " %s=%s", s->labels[k].name,
						s->labels[k].value);
		len += (size_t)snprintf(out + len, cap - len, " %.17g\n", s->value);
		assert_true(len < cap);
	}
	return out;
}

/* tfx_start for one collector on live roots. */
static inline void live_start_coll(struct tfx *f, const char *coll, const char *procfs,
				   const char *sysfs, bool netdev_netlink)
{
	memset(f, 0, sizeof(*f));
	f->names[0] = (char *)coll;
	f->cfg = (struct proc_cfg){.procfs = (char *)procfs, .sysfs = (char *)sysfs};
	f->cfg.netdev_netlink = netdev_netlink;
	f->cfg.collectors = (struct sb_strlist){f->names, 1};
	f->s.cfg = &f->cfg;
	assert_int_equal(sb_sensor_proc.init(&f->s), 0);
	f->st = f->s.state;
	tp_begin(&f->t);
	tp_end(&f->t);
}

/* A few datagrams over lo, so that its counters are not all 0. */
static inline void some_traffic(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; fd >= 0 && i < 3; i++)
		(void)!sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to));
	if (fd >= 0)
		close(fd);
}

#endif
