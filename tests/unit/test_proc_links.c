/* The shared list of network devices (links.c): RTM_NEWSTATS messages
 * parsed as the kernel lays them out, and, in a network namespace of the
 * test's own, when a round keeps the last link dump (counters from an
 * RTM_GETSTATS dump) and when it dumps again (a notification, a carrier
 * file that says otherwise). */
#include "test_proc_fx.h"

#include "test_netns.h"
#include "test_rtnl_fx.h"

/* An RTM_NEWSTATS message: if_stats_msg, then the attributes given. */
static void stats_begin(struct msg *m, int ifindex)
{
	memset(m, 0, sizeof(*m));
	struct nlmsghdr *h = (struct nlmsghdr *)m->b;
	h->nlmsg_type = RTM_NEWSTATS;
	struct if_stats_msg *s = NLMSG_DATA(h);
	s->ifindex = (uint32_t)ifindex;
	s->filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64);
	m->len = NLMSG_LENGTH(sizeof(*s));
	h->nlmsg_len = (uint32_t)m->len;
}

static void a_stats_message_gives_its_counters(void **state)
{
	(void)state;
	uint64_t c[25]; /* a newer kernel's struct: rx_otherhost_dropped too */
	for (unsigned i = 0; i < 25; i++)
		c[i] = 1000 + i;
	struct msg m;
	stats_begin(&m, 7);
	msg_attr(&m, IFLA_STATS_LINK_XSTATS, "\0\0\0\0", 4); /* another kind: passed over */
	msg_attr(&m, IFLA_STATS_LINK_64, c, sizeof(c));
	int ifindex = 0;
	uint64_t got[SB_LINK_NSTATS];
	unsigned n = 0;
	assert_int_equal(sb_proc_stats_parse(m.b, m.len, &ifindex, got, &n), 0);
	assert_int_equal(ifindex, 7);
	assert_int_equal(n, 24);
	assert_true(got[SB_LS_RX_PACKETS] == 1000);
	assert_true(got[SB_LS_TX_BYTES] == 1003);
	assert_true(got[SB_LS_RX_NOHANDLER] == 1023);
	/* an older kernel's shorter struct: its first counters */
	stats_begin(&m, 8);
	msg_attr(&m, IFLA_STATS_LINK_64, c, 23 * 8);
	assert_int_equal(sb_proc_stats_parse(m.b, m.len, &ifindex, got, &n), 0);
	assert_int_equal(n, 23);
	assert_int_equal(ifindex, 8);
}

static void malformed_stats_messages_are_refused(void **state)
{
	(void)state;
	uint64_t c[24] = {0};
	struct msg m;
	int ifindex;
	uint64_t got[SB_LINK_NSTATS];
	unsigned n;
	/* no counters in it */
	stats_begin(&m, 2);
	assert_int_equal(sb_proc_stats_parse(m.b, m.len, &ifindex, got, &n), -EINVAL);
	/* a link message, not a stats one */
	msg_begin(&m, RTM_NEWLINK, 2, 0);
	msg_attr(&m, IFLA_STATS64, c, sizeof(c));
	assert_int_equal(sb_proc_stats_parse(m.b, m.len, &ifindex, got, &n), -EINVAL);
	/* longer than the bytes there are; shorter than its header */
	stats_begin(&m, 2);
	msg_attr(&m, IFLA_STATS_LINK_64, c, sizeof(c));
	assert_int_equal(sb_proc_stats_parse(m.b, m.len - 8, &ifindex, got, &n), -EINVAL);
	((struct nlmsghdr *)m.b)->nlmsg_len = NLMSG_LENGTH(4);
	assert_int_equal(sb_proc_stats_parse(m.b, m.len, &ifindex, got, &n), -EINVAL);
}

/* ---- live, in a network namespace: lo alone, then a veth pair ---- */

static struct proc_cfg cfg;
static struct proc_state st;

static const struct sb_proc_rtnl *round_of(void)
{
	st.round++;
	return sb_proc_links(&st);
}

static const struct sb_proc_link *dev(const struct sb_proc_rtnl *r, const char *name)
{
	return r ? sb_proc_rtnl_find(r, name) : NULL;
}

static void in_namespace(void)
{
	if (system("ip link set lo up"))
		_exit(77);
	/* sysfs here is a tree of the test's: the carrier files as the test
	 * says, so a carrier the notification has not told of can be made */
	tp_puts("class/net/lo/carrier", "1\n");
	tp_puts("class/net/sbc0/carrier", "1\n");
	tp_puts("class/net/sbc1/carrier", "1\n");
	cfg.sysfs = tp_dir;
	st.cfg = &cfg;
	st.comp = "test";
	st.links_stats = st.links_carrier = true;

	const struct sb_proc_rtnl *r = round_of();
	CHECK(10, r && dev(r, "lo") && sb_proc_links_dumps(&st) == 1);
	uint32_t seq = r->seq;
	uint64_t rx = dev(r, "lo")->stats[SB_LS_RX_PACKETS];
	uint32_t mtu = dev(r, "lo")->mtu;

	/* nothing changed but the counters: the list kept, a stats dump */
	some_traffic();
	r = round_of();
	CHECK(11, r && r->seq == seq + 1 && sb_proc_links_dumps(&st) == 1);
	CHECK(12, dev(r, "lo")->stats[SB_LS_RX_PACKETS] == rx + 6); /* 3 in, 3 ICMP */
	CHECK(13, dev(r, "lo")->mtu == mtu);

	/* a notification (an MTU set): dumped again, the new MTU in it */
	CHECK(14, !system("ip link set lo mtu 1280"));
	seq = r->seq;
	r = round_of();
	CHECK(15, r && r->seq == seq + 1 && sb_proc_links_dumps(&st) == 2);
	CHECK(16, dev(r, "lo")->mtu == 1280);
	r = round_of();
	CHECK(17, r && sb_proc_links_dumps(&st) == 2);

	/* the carrier file says 0 where the kept dump says 1: dumped again,
	 * each round while they differ. A veth pair with both ends up, once
	 * the dump has their carrier on and its notifications came (linkwatch
	 * sends them up to a second after the carrier came on): no dump made
	 * for 1.5 s of rounds, in 5 s at most */
	if (system("ip link add sbc0 type veth peer name sbc1 2>/dev/null"))
		_exit(78);
	CHECK(18, !system("ip link set sbc0 up && ip link set sbc1 up"));
	uint64_t d = sb_proc_links_dumps(&st);
	for (int i = 0, quiet = 0; i < 100 && quiet < 30; i++) {
		usleep(50 * 1000);
		r = round_of();
		bool on = r && dev(r, "sbc0") && dev(r, "sbc0")->carrier && dev(r, "sbc1") &&
			  dev(r, "sbc1")->carrier;
		quiet = on && sb_proc_links_dumps(&st) == d ? quiet + 1 : 0;
		d = sb_proc_links_dumps(&st);
	}
	CHECK(19, r && dev(r, "sbc0") && dev(r, "sbc0")->carrier);
	r = round_of();
	CHECK(20, r && sb_proc_links_dumps(&st) == d);
	tp_puts("class/net/sbc0/carrier", "0\n");
	r = round_of();
	CHECK(21, r && sb_proc_links_dumps(&st) == d + 1);
	r = round_of();
	CHECK(22, r && sb_proc_links_dumps(&st) == d + 2);
	tp_puts("class/net/sbc0/carrier", "1\n");
	r = round_of();
	CHECK(23, r && sb_proc_links_dumps(&st) == d + 2);
	/* the loopback device's file is not read: its carrier is on for good */
	tp_puts("class/net/lo/carrier", "0\n");
	r = round_of();
	CHECK(24, r && sb_proc_links_dumps(&st) == d + 2);
	CHECK(25, !system("ip link del sbc0"));

	/* a device made between rounds is in the next one, with its counters */
	if (system("ip link add sbv0 type veth peer name sbv1 2>/dev/null"))
		_exit(78);
	r = round_of();
	CHECK(26, r && dev(r, "sbv0") && dev(r, "sbv1") && dev(r, "sbv0")->nstats == 24);
	/* and one gone is not */
	CHECK(27, !system("ip link del sbv0"));
	r = round_of();
	CHECK(28, r && !dev(r, "sbv0") && !dev(r, "sbv1") && dev(r, "lo"));
	sb_proc_links_free(&st);
	_exit(0);
}

static void a_round_keeps_the_dump_until_something_changes(void **state)
{
	(void)state;
	netns_run(in_namespace);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_stats_message_gives_its_counters),
	    cmocka_unit_test(malformed_stats_messages_are_refused),
	    cmocka_unit_test(a_round_keeps_the_dump_until_something_changes),
	};
	if (tp_dir_setup(tp_warn_hook))
		return 1;
	tp_mkdirs("class/net/lo");
	tp_mkdirs("class/net/sbc0");
	tp_mkdirs("class/net/sbc1");
	return cmocka_run_group_tests_name("proc shared links", tests, NULL, NULL);
}
