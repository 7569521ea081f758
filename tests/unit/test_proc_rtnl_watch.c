/* netclass between rounds on the live /sys: node_network_flags worked out
 * from the dump (dev->flags, not dev_get_flags()), the link notifications
 * that make kept values go, and, in a network namespace of the test's own,
 * every round after a change giving what the files give. */
#include "test_proc_fx.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "test_rtnl_fx.h"

/* A device's dump entry with these ifi_flags and counts (-1: not sent). */
static struct sb_proc_link link_of(unsigned ifi_flags, int64_t promiscuity, int64_t allmulti)
{
	struct msg m;
	msg_begin(&m, RTM_NEWLINK, 3, ifi_flags);
	msg_attr(&m, IFLA_IFNAME, "eth0", 5);
	if (promiscuity >= 0)
		msg_u32(&m, IFLA_PROMISCUITY, (uint32_t)promiscuity);
	if (allmulti >= 0)
		msg_u32(&m, IFLA_ALLMULTI, (uint32_t)allmulti);
	struct sb_proc_link l;
	assert_int_equal(sb_proc_link_parse(m.b, m.len, &l), 0);
	return l;
}

static unsigned dev_flags(unsigned ifi_flags, int64_t promiscuity, int64_t allmulti)
{
	struct sb_proc_link l = link_of(ifi_flags, promiscuity, allmulti);
	unsigned f = 0xdead;
	assert_true(sb_proc_link_dev_flags(&l, &f));
	return f;
}

/* The operational bits dev_get_flags() adds are not dev->flags'. */
static void flags_leave_out_running_lower_up_and_dormant(void **state)
{
	(void)state;
	const unsigned base = IFF_UP | IFF_BROADCAST | IFF_MULTICAST;
	assert_int_equal(dev_flags(base | IFF_RUNNING | IFF_LOWER_UP, 0, 0), base);
	assert_int_equal(dev_flags(base | IFF_DORMANT | IFF_LOWER_UP, 0, 0), base);
	assert_int_equal(dev_flags(IFF_LOOPBACK | IFF_UP | IFF_RUNNING | IFF_LOWER_UP, 0, 0),
			 IFF_LOOPBACK | IFF_UP);
}

/* IFF_PROMISC follows the count, not what the user asked for (gflags,
 * which ifi_flags shows): a bridge port is promiscuous by the kernel. */
static void flags_are_promiscuous_while_the_count_is_not_zero(void **state)
{
	(void)state;
	const unsigned base = IFF_UP | IFF_BROADCAST;
	/* ip link set promisc on: gflags and the count */
	assert_int_equal(dev_flags(base | IFF_PROMISC, 1, 0), base | IFF_PROMISC);
	/* a bridge port: the count alone */
	assert_int_equal(dev_flags(base, 1, 0), base | IFF_PROMISC);
	/* both */
	assert_int_equal(dev_flags(base | IFF_PROMISC, 2, 0), base | IFF_PROMISC);
	assert_int_equal(dev_flags(base, 0, 0), base);
	/* likewise all-multicast (a multicast router, a bond's slave) */
	assert_int_equal(dev_flags(base, 0, 1), base | IFF_ALLMULTI);
	assert_int_equal(dev_flags(base | IFF_ALLMULTI, 1, 2), base | IFF_ALLMULTI | IFF_PROMISC);
}

/* Without either count (an older kernel has no IFLA_ALLMULTI) the dump
 * cannot say: the file is read. */
static void flags_need_both_counts(void **state)
{
	(void)state;
	unsigned f;
	struct sb_proc_link l = link_of(IFF_UP, 0, -1);
	assert_false(sb_proc_link_dev_flags(&l, &f));
	l = link_of(IFF_UP, -1, 0);
	assert_false(sb_proc_link_dev_flags(&l, &f));
}

struct heard {
	int v[16];
	int n;
};

static void hear(void *arg, int ifindex)
{
	struct heard *h = arg;
	assert_true(h->n < 16);
	h->v[h->n++] = ifindex;
}

/* One datagram of several messages: each new or gone device named, other
 * messages passed over. */
static void notifications_name_the_devices_they_change(void **state)
{
	(void)state;
	char buf[4096];
	size_t n = 0;
	struct msg m;
	const struct {
		unsigned short type;
		int ifindex;
	} msgs[] = {{RTM_NEWLINK, 3}, {RTM_NEWADDR, 9}, {RTM_DELLINK, 5}, {NLMSG_DONE, 7}};
	for (size_t i = 0; i < SB_ARRAY_SIZE(msgs); i++) {
		msg_begin(&m, msgs[i].type, msgs[i].ifindex, IFF_UP);
		msg_attr(&m, IFLA_IFNAME, "x", 2);
		memcpy(buf + n, m.b, m.len);
		n += NLMSG_ALIGN(m.len);
	}
	struct heard h = {0};
	sb_proc_rtnl_watch_parse(buf, n, false, hear, &h);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.v[0], 3);
	assert_int_equal(h.v[1], 5);
}

/* What may have said more than was read forgets every device: a datagram
 * cut short, a message too short for its header, bytes after the last. */
static void a_notification_not_understood_forgets_all(void **state)
{
	(void)state;
	struct msg m;
	msg_begin(&m, RTM_NEWLINK, 3, IFF_UP);
	struct heard h = {0};
	sb_proc_rtnl_watch_parse(m.b, m.len, true, hear, &h);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.v[0], 0);

	h.n = 0;
	struct nlmsghdr *hd = (struct nlmsghdr *)m.b;
	hd->nlmsg_len = NLMSG_LENGTH(4); /* no whole ifinfomsg */
	sb_proc_rtnl_watch_parse(m.b, NLMSG_ALIGN(hd->nlmsg_len), false, hear, &h);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.v[0], 0);

	h.n = 0;
	msg_begin(&m, RTM_NEWLINK, 4, IFF_UP);
	sb_proc_rtnl_watch_parse(m.b, m.len + 8, false, hear, &h); /* 8 bytes more */
	assert_int_equal(h.n, 2);
	assert_int_equal(h.v[0], 4);
	assert_int_equal(h.v[1], 0);
}

/* fn in a network namespace of its own, with its own sysfs on /sys: its
 * exit status (77: skip). */
static void in_a_namespace(int (*fn)(void))
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNET | CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("sysfs", "/sys", "sysfs", 0, NULL))
			_exit(77);
		_exit(fn());
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* More notifications than the socket holds: the drain says "all" (the
 * kernel's ENOBUFS), reads on, and then finds nothing. */
static int overflow(void)
{
	int fd = sb_proc_rtnl_watch_open();
	if (fd < 0)
		return 77;
	int small = 1; /* the kernel's minimum, a couple of KB */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)))
		return 10;
	if (system("ip link add sbd0 type ifb 2>/dev/null"))
		return 77;
	for (int i = 0; i < 20; i++) {
		char cmd[96];
		snprintf(cmd, sizeof(cmd), "ip link set sbd0 mtu %d", 1400 + i);
		if (system(cmd))
			return 11;
	}
	struct heard h = {0};
	if (sb_proc_rtnl_watch_drain(fd, hear, &h))
		return 12;
	bool all = false;
	for (int i = 0; i < h.n; i++)
		all |= h.v[i] == 0;
	if (!all) {
		fprintf(stderr, "%d notifications, none an overflow\n", h.n);
		return 13;
	}
	h.n = 0;
	if (sb_proc_rtnl_watch_drain(fd, hear, &h) || h.n)
		return 14;
	close(fd);
	return 0;
}

static void an_overflow_forgets_all(void **state)
{
	(void)state;
	in_a_namespace(overflow);
}

static void live_start(struct tfx *f, const char *sysfs)
{
	live_start_coll(f, "netclass", "/proc", sysfs, false);
}

/* One round of a collector that has run before: its series. */
static char *live_round(struct tfx *f)
{
	assert_int_equal(tfx_round(f), 0);
	return series(f);
}

/* A first round of a collector reading every file ("/sys/" is not the
 * live /sys to it). */
static char *files_round(void)
{
	struct tfx f;
	live_start(&f, "/sys/");
	char *s = live_round(&f);
	tfx_stop(&f);
	return s;
}

/* Each change, then a round of the collector that kept values from the
 * rounds before: the same series as the files give, and the value the
 * change made. */
static int changes(void)
{
	if (system("ip link add sbv0 type veth peer name sbv1 && ip link add sbd0 type ifb && "
		   "ip link add sbr0 type bridge && ip link set lo up"))
		return 77; /* no veth, ifb or bridge here */
	static const struct {
		const char *cmd, *want;
	} steps[] = {
	    {"true", "node_network_address_assign_type device=sbv0 1\n"},
	    /* NET_ADDR_SET, and a new address */
	    {"ip link set sbv0 address 02:00:00:00:00:01",
	     "node_network_address_assign_type device=sbv0 3\n"},
	    /* promiscuous by the user: gflags and the count */
	    {"ip link set sbd0 promisc on", "node_network_flags device=sbd0 386\n"},
	    {"ip link set sbd0 promisc off", "node_network_flags device=sbd0 130\n"},
	    /* promiscuous and all-multicast by the kernel: a bridge port, the
	     * counts alone */
	    {"ip link set sbv1 master sbr0", "node_network_flags device=sbv1 4866\n"},
	    {"ip link set sbv0 up", "node_network_flags device=sbv0 4099\n"},
	    /* NET_NAME_RENAMED, under another name */
	    {"ip link set sbd0 name sbx0", "node_network_name_assign_type device=sbx0 4\n"},
	    /* an address changed and back within a round */
	    {"ip link set sbv0 address 02:00:00:00:00:02 && ip link set sbv0 address "
	     "02:00:00:00:00:01",
	     "node_network_address_assign_type device=sbv0 3\n"},
	    {"ip link add sbw0 type veth peer name sbw1",
	     "node_network_address_assign_type device=sbw0 1\n"},
	    {"ip link del sbx0", "node_network_address_assign_type device=sbw0 1\n"},
	    /* renamed and back within a round: name, ifindex and address as
	     * they were, only the notification tells */
	    {"ip link set sbw1 name sbq1 && ip link set sbq1 name sbw1",
	     "node_network_name_assign_type device=sbw1 4\n"},
	    /* a new device of a gone one's name */
	    {"ip link del sbw0 && ip link add sbw0 type veth peer name sbw1 && "
	     "ip link set sbw0 address 02:00:00:00:00:03",
	     "node_network_address_assign_type device=sbw0 3\n"},
	};
	struct tfx f;
	live_start(&f, "/sys");
	free(live_round(&f));
	for (size_t i = 0; i < SB_ARRAY_SIZE(steps); i++) {
		if (system(steps[i].cmd))
			return 20;
		for (int twice = 0; twice < 2; twice++) {
			char *a = live_round(&f);
			char *b = files_round();
			if (strcmp(a, b) || !strstr(a, steps[i].want)) {
				fprintf(stderr, "after %s, round %d: kept:\n%s\nfiles:\n%s",
					steps[i].cmd, twice, a, b);
				return 21;
			}
			free(a);
			free(b);
		}
	}
	tfx_stop(&f);
	return 0;
}

static void every_round_after_a_change_gives_what_the_files_give(void **state)
{
	(void)state;
	in_a_namespace(changes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(flags_leave_out_running_lower_up_and_dormant),
	    cmocka_unit_test(flags_are_promiscuous_while_the_count_is_not_zero),
	    cmocka_unit_test(flags_need_both_counts),
	    cmocka_unit_test(notifications_name_the_devices_they_change),
	    cmocka_unit_test(a_notification_not_understood_forgets_all),
	    cmocka_unit_test(an_overflow_forgets_all),
	    cmocka_unit_test(every_round_after_a_change_gives_what_the_files_give),
	};
	return cmocka_run_group_tests_name("proc rtnetlink notifications", tests, NULL, NULL);
}
