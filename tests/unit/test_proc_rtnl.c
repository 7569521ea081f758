/* netclass from an RTM_GETLINK dump: one message parsed as the kernel
 * lays it out, and on this machine's live /sys the same series as the
 * sysfs files give. */
#include "test_proc_fx.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "test_rtnl_fx.h"

static void a_link_message_gives_its_attributes(void **state)
{
	(void)state;
	struct msg m;
	msg_begin(&m, RTM_NEWLINK, 4, IFF_UP | IFF_DORMANT);
	msg_attr(&m, IFLA_IFNAME, "eth0", 5);
	msg_u32(&m, IFLA_MTU, 1400);
	msg_u32(&m, IFLA_TXQLEN, 1000);
	msg_u32(&m, IFLA_CARRIER_CHANGES, 3);
	uint8_t carrier = 1, oper = 6;
	msg_attr(&m, IFLA_CARRIER, &carrier, 1);
	msg_attr(&m, IFLA_OPERSTATE, &oper, 1);
	const uint8_t mac[6] = {2, 0xfc, 0, 0, 0, 1};
	msg_attr(&m, IFLA_ADDRESS, mac, 6);
	msg_attr(&m, IFLA_IFALIAS, "uplink", 7);
	struct sb_proc_link l;
	assert_int_equal(sb_proc_link_parse(m.b, m.len, &l), 0);
	assert_string_equal(l.name, "eth0");
	assert_int_equal(l.ifindex, 4);
	assert_int_equal(l.mtu, 1400);
	assert_int_equal(l.txqlen, 1000);
	assert_int_equal(l.changes, 3);
	assert_int_equal(l.carrier, 1);
	assert_int_equal(l.operstate, 6);
	assert_int_equal(l.addrlen, 6);
	assert_memory_equal(l.addr, mac, 6);
	assert_string_equal(l.alias, "uplink");
	assert_true(l.flags & IFF_DORMANT);
	unsigned want = SB_LINK_NAME | SB_LINK_MTU | SB_LINK_TXQLEN | SB_LINK_CHANGES |
			SB_LINK_CARRIER | SB_LINK_OPERSTATE | SB_LINK_ADDRESS | SB_LINK_ALIAS;
	assert_int_equal(l.have, want); /* no IFLA_LINK: the device is its own link */
}

static void malformed_link_messages_are_refused(void **state)
{
	(void)state;
	struct msg m;
	struct sb_proc_link l;
	msg_begin(&m, RTM_NEWLINK, 1, 0);
	assert_int_equal(sb_proc_link_parse(m.b, m.len, &l), -EINVAL); /* no name */
	msg_begin(&m, RTM_NEWLINK, 1, 0);
	msg_attr(&m, IFLA_IFNAME, "lo!", 3); /* no NUL */
	assert_int_equal(sb_proc_link_parse(m.b, m.len, &l), -EINVAL);
	msg_begin(&m, RTM_NEWLINK, 1, 0);
	msg_attr(&m, IFLA_IFNAME, "lo", 3);
	msg_attr(&m, IFLA_MTU, "ab", 2); /* short */
	assert_int_equal(sb_proc_link_parse(m.b, m.len, &l), -EINVAL);
	msg_begin(&m, RTM_NEWLINK, 1, 0);
	msg_attr(&m, IFLA_IFNAME, "lo", 3);
	assert_int_equal(sb_proc_link_parse(m.b, m.len - 1, &l), -EINVAL); /* cut */
	((struct nlmsghdr *)m.b)->nlmsg_type = RTM_DELLINK;
	assert_int_equal(sb_proc_link_parse(m.b, m.len, &l), -EINVAL);
}

/* IFLA_STATS64 gives netdev's counters, folded as /proc/net/dev folds
 * them; a shorter struct (an older kernel) gives its first fields, and a
 * device without the counters netdev needs has no series. */
static void the_counters_of_a_link_fold_as_proc_net_dev(void **state)
{
	(void)state;
	struct msg m;
	uint64_t st[24];
	for (unsigned i = 0; i < 24; i++)
		st[i] = 100 + i; /* SB_LS_RX_PACKETS 100, SB_LS_TX_PACKETS 101 ... */
	struct sb_proc_link l[3];
	const char *names[3] = {"eth0", "eth1", "eth2"};
	const size_t len[3] = {24 * 8, 23 * 8, 10 * 8};
	for (int d = 0; d < 3; d++) {
		msg_begin(&m, RTM_NEWLINK, d + 2, IFF_UP);
		msg_attr(&m, IFLA_IFNAME, names[d], 5);
		msg_attr(&m, IFLA_STATS64, st, len[d]);
		assert_int_equal(sb_proc_link_parse(m.b, m.len, &l[d]), 0);
		assert_int_equal(l[d].nstats, len[d] / 8);
	}
	assert_int_equal(l[0].stats[SB_LS_RX_NOHANDLER], 123);
	struct sb_proc_rtnl r = {.v = l, .n = 3};
	struct sb_evb b;
	sb_evb_init(&b);
	sb_evb_begin(&b, "proc", "metrics");
	struct sb_proc_filter none = {0};
	assert_int_equal(sb_proc_netdev_links(&r, &b, &none), 17 + 16);
	struct sb_event *ev = sb_evb_finish(&b);
	assert_non_null(ev);
	assert_int_equal(ev->nsamples, 33);
	const struct {
		unsigned i;
		const char *name;
		double v;
	} want[] = {
	    {0, "node_network_receive_bytes_total", 102},
	    {1, "node_network_receive_packets_total", 100},
	    {2, "node_network_receive_errs_total", 104},
	    {3, "node_network_receive_drop_total", 106 + 115},
	    {4, "node_network_receive_fifo_total", 114},
	    {5, "node_network_receive_frame_total", 113 + 110 + 111 + 112},
	    {6, "node_network_receive_compressed_total", 121},
	    {7, "node_network_receive_multicast_total", 108},
	    {8, "node_network_transmit_bytes_total", 103},
	    {9, "node_network_transmit_packets_total", 101},
	    {10, "node_network_transmit_errs_total", 105},
	    {11, "node_network_transmit_drop_total", 107},
	    {12, "node_network_transmit_fifo_total", 118},
	    {13, "node_network_transmit_colls_total", 109},
	    {14, "node_network_transmit_carrier_total", 117 + 116 + 119 + 120},
	    {15, "node_network_transmit_compressed_total", 122},
	    {16, "node_network_receive_nohandler_total", 123},
	    {32, "node_network_transmit_compressed_total", 122},
	};
	for (size_t k = 0; k < SB_ARRAY_SIZE(want); k++) {
		const struct sb_sample *s = &ev->samples[want[k].i];
		assert_string_equal(s->name, want[k].name);
		assert_true(s->value == want[k].v);
		assert_int_equal(s->nlabels, 1);
		assert_string_equal(s->labels[0].value, want[k].i < 17 ? "eth0" : "eth1");
	}
	sb_event_unref(ev);
	sb_evb_free(&b);
}

static char *coll_round(const char *coll, const char *procfs, const char *sysfs)
{
	struct tfx f;
	live_start_coll(&f, coll, procfs, sysfs, true);
	assert_int_equal(tfx_round(&f), 0);
	char *s = series(&f);
	tfx_stop(&f);
	return s;
}

static char *netclass_round(const char *sysfs) { return coll_round("netclass", "/proc", sysfs); }

/* netdev: "/proc" takes the dump's counters, "/proc/" reads /proc/net/dev
 * and sysfs's rx_nohandler. */
static char *netdev_round(const char *procfs) { return coll_round("netdev", procfs, "/sys"); }

/* "/sys" takes the dump, "/sys/" (the same tree, another spelling) the
 * files: every series the same, twice in a row in case a counter moved. */
static void on_the_live_sys_the_dump_gives_what_the_files_give(void **state)
{
	(void)state;
	if (access("/sys/class/net/lo", F_OK))
		skip();
	struct sb_proc_rtnl r;
	if (sb_proc_rtnl_open(&r))
		skip();
	int d = sb_proc_rtnl_dump(&r, false);
	sb_proc_rtnl_close(&r);
	if (d)
		skip(); /* no rtnetlink here */
	for (int attempt = 0;; attempt++) {
		char *a = netclass_round("/sys");
		char *b = netclass_round("/sys/");
		bool same = !strcmp(a, b);
		if (!same && attempt == 2)
			assert_string_equal(a, b);
		free(a);
		free(b);
		if (same)
			break;
	}
}

/* The same in a network namespace of the test's own, with its own sysfs:
 * devices that are down (carrier and dormant refused, operstate down), a
 * veth up without a carrier (its peer down) and linked to another device,
 * an alias longer than one sysfs read, with blanks around it, a tun
 * device with no address (addr_len 0), and a renamed bridge. */
static void devices_down_and_odd_give_what_the_files_give(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNET | CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("sysfs", "/sys", "sysfs", 0, NULL))
			_exit(77);
		char alias[200];
		memset(alias, 'x', sizeof(alias) - 1);
		alias[sizeof(alias) - 1] = 0;
		char cmd[512];
		snprintf(cmd, sizeof(cmd),
			 "ip link add sbd0 type ifb && ip link set sbd0 alias ' %s ' && "
			 "ip link add sbv0 type veth peer name sbv1 && ip link set sbv0 up && "
			 "ip tuntap add sbt0 mode tun && "
			 "ip link add sbd2 type bridge && ip link set sbd2 name sbr2 && "
			 "ip link set lo up",
			 alias);
		if (system(cmd))
			_exit(77); /* no ifb, veth, tun or bridge here */
		char *a = netclass_round("/sys");
		char *b = netclass_round("/sys/");
		if (strcmp(a, b)) {
			fprintf(stderr, "dump:\n%s\nfiles:\n%s", a, b);
			_exit(1);
		}
		if (!strstr(a, "device=sbd0") || !strstr(a, "device=sbr2"))
			_exit(2);
		/* the namespace's counters stand still: netdev's two ways agree */
		some_traffic();
		char *c = netdev_round("/proc");
		char *d = netdev_round("/proc/");
		if (strcmp(c, d)) {
			fprintf(stderr, "dump:\n%s\nfiles:\n%s", c, d);
			_exit(3);
		}
		/* 3 datagrams and lo's 3 ICMP port-unreachable answers */
		if (!strstr(c, "node_network_receive_packets_total device=lo 6\n") ||
		    !strstr(c, "node_network_receive_nohandler_total device=sbv0 0\n")) {
			fprintf(stderr, "netdev:\n%s", c);
			_exit(4);
		}
		_exit(0);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* In a network namespace of its own but with this machine's /sys, the
 * dump (lo alone) does not match the listing: the files are read, and the
 * series are those of the /sys devices, not the namespace's. */
static void another_namespaces_sys_is_read_from_files(void **state)
{
	(void)state;
	if (access("/sys/class/net/lo", F_OK))
		skip();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNET))
			_exit(77);
		if (system("ip link set lo mtu 1280 2>/dev/null"))
			_exit(77);
		char *a = netclass_round("/sys");
		char *b = netclass_round("/sys/");
		if (strcmp(a, b)) {
			fprintf(stderr, "dump:\n%s\nfiles:\n%s", a, b);
			_exit(1);
		}
		/* the namespace's lo has MTU 1280; the /sys one does not */
		_exit(strstr(a, "node_network_mtu_bytes device=lo 1280") ? 2 : 0);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(a_link_message_gives_its_attributes),
	    cmocka_unit_test(malformed_link_messages_are_refused),
	    cmocka_unit_test(the_counters_of_a_link_fold_as_proc_net_dev),
	    cmocka_unit_test(on_the_live_sys_the_dump_gives_what_the_files_give),
	    cmocka_unit_test(devices_down_and_odd_give_what_the_files_give),
	    cmocka_unit_test(another_namespaces_sys_is_read_from_files),
	};
	return cmocka_run_group_tests_name("proc rtnetlink links", tests, NULL, NULL);
}
