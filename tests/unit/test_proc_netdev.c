/* /proc/net/dev: node_network_{receive,transmit}_*_total{device}. */
#include "test_proc_fx.h"

#include <dirent.h>

static const char text[] =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed\n"
    "    lo: 7788 100 1 2 3 4 5 6 7788 100 11 12 13 14 15 16\n"
    "  eth0: 1 2 0 0 0 0 0 0 3 4 0 0 0 0 0 0\n";

static int parse(struct tp *t, const char *s, struct sb_proc_filter *f)
{
	tp_begin(t);
	t->n = sb_proc_parse_netdev(s, &t->b, f, &t->e, NULL);
	tp_end(t);
	return t->n;
}

static void sixteen_counters_per_device_with_legacy_names(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, text, NULL);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 32);
	assert_double_eq(tp_value(&t, "node_network_receive_bytes_total", "device", "lo"), 7788);
	assert_double_eq(tp_value(&t, "node_network_receive_errs_total", "device", "lo"), 1);
	assert_double_eq(tp_value(&t, "node_network_receive_drop_total", "device", "lo"), 2);
	assert_double_eq(tp_value(&t, "node_network_receive_multicast_total", "device", "lo"), 6);
	assert_double_eq(tp_value(&t, "node_network_transmit_colls_total", "device", "lo"), 14);
	assert_double_eq(tp_value(&t, "node_network_transmit_carrier_total", "device", "lo"), 15);
	assert_double_eq(tp_value(&t, "node_network_transmit_compressed_total", "device", "lo"),
			 16);
	assert_double_eq(tp_value(&t, "node_network_transmit_packets_total", "device", "eth0"), 4);
	const struct sb_sample *s = tp_find(&t, "node_network_receive_errs_total", NULL);
	assert_int_equal(s->type, SB_COUNTER);
	assert_string_equal(s->help, "Network device statistic receive_errs.");
	tp_free(&t);
}

/* netlink mode's receive_nohandler, for the devices that have it */
static bool fake_nohandler(void *arg, const char *dev, size_t n, uint64_t *v)
{
	(void)arg;
	if (n != 4 || memcmp(dev, "eth0", 4))
		return false;
	*v = 9;
	return true;
}

static void netlink_mode_adds_receive_nohandler(void **state)
{
	(void)state;
	struct tp t;
	const struct sb_netdev_extra x = {fake_nohandler, NULL};
	tp_begin(&t);
	t.n = sb_proc_parse_netdev(text, &t.b, NULL, &t.e, &x);
	tp_end(&t);
	assert_int_equal(t.n, 33);
	assert_double_eq(tp_value(&t, "node_network_receive_nohandler_total", "device", "eth0"), 9);
	assert_null(tp_find(&t, "node_network_receive_nohandler_total", "device", "lo", NULL));
	tp_free(&t);
}

static void device_filters(void **state)
{
	(void)state;
	struct sb_proc_filter f;
	char err[128];
	assert_int_equal(sb_proc_filter_init(&f, NULL, "^lo$", err, sizeof(err)), 0);
	struct tp t;
	parse(&t, text, &f);
	assert_int_equal(t.n, 16);
	tp_absent(&t, "node_network_receive_bytes_total", "device", "lo");
	tp_free(&t);
	sb_proc_filter_free(&f);
	assert_int_equal(sb_proc_filter_init(&f, "^lo$", NULL, err, sizeof(err)), 0);
	parse(&t, text, &f);
	assert_int_equal(t.n, 16);
	tp_absent(&t, "node_network_receive_bytes_total", "device", "eth0");
	tp_free(&t);
	sb_proc_filter_free(&f);
}

static void short_and_garbled_lines_are_skipped(void **state)
{
	(void)state;
	struct tp t;
	parse(&t,
	      "h1\nh2\n"
	      "  eth0: 1 2 3\n"
	      "  eth1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
	      "  eth2: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x\n"
	      "  : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
	      "  eth3: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
	      NULL);
	assert_int_equal(t.e.nbad, 4);
	assert_int_equal(t.e.line, 3);
	assert_int_equal(t.n, 16);
	tp_free(&t);
}

static void headers_alone_and_empty_file(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "h1\nh2\n", NULL);
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 0);
	tp_free(&t);
	parse(&t, "", NULL);
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
}

static int nfds(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void nohandler(struct tfx *f, const char *dev, double want)
{
	const struct sb_sample *s =
	    tp_find(&f->t, "node_network_receive_nohandler_total", "device", dev, NULL);
	if (want < 0) {
		assert_null(s);
		return;
	}
	assert_non_null(s);
	assert_double_eq(s->value, want);
}

/* The collector through the sensor: each device's rx_nohandler is opened
 * once and read again in place; a device gone from /proc/net/dev has its
 * file closed, and one that comes back is opened afresh. */
static void rx_nohandler_stays_open_while_the_device_is_listed(void **state)
{
	(void)state;
	assert_int_equal(tp_dir_setup(NULL), 0);
	tp_mkdirs("net");
	tp_mkdirs("class/net/eth0/statistics");
	tp_puts("net/dev", text);
	tp_puts("class/net/eth0/statistics/rx_nohandler", "7\n");
	struct tfx f;
	tfx_start(&f, "netdev");
	f.cfg.netdev_netlink = true;
	assert_int_equal(tfx_round(&f), 0);
	nohandler(&f, "eth0", 7);
	nohandler(&f, "lo", -1); /* no file: no series */
	int open_after_first = nfds();
	tp_puts("class/net/eth0/statistics/rx_nohandler", "9\n");
	assert_int_equal(tfx_round(&f), 0);
	nohandler(&f, "eth0", 9);
	assert_int_equal(nfds(), open_after_first);
	/* eth0 leaves: its file is closed */
	tp_puts("net/dev",
		"Inter-|\n face |\n    lo: 7788 100 1 2 3 4 5 6 7788 100 11 12 13 14 15 16\n");
	assert_int_equal(tfx_round(&f), 0);
	nohandler(&f, "eth0", -1);
	assert_int_equal(nfds(), open_after_first - 1);
	/* and back, with a new file */
	tp_rm("class/net/eth0/statistics/rx_nohandler");
	tp_puts("class/net/eth0/statistics/rx_nohandler", "1\n");
	tp_puts("net/dev", text);
	assert_int_equal(tfx_round(&f), 0);
	nohandler(&f, "eth0", 1);
	assert_int_equal(nfds(), open_after_first);
	tfx_stop(&f);
	assert_int_equal(tp_dir_teardown(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sixteen_counters_per_device_with_legacy_names),
	    cmocka_unit_test(netlink_mode_adds_receive_nohandler),
	    cmocka_unit_test(device_filters),
	    cmocka_unit_test(short_and_garbled_lines_are_skipped),
	    cmocka_unit_test(headers_alone_and_empty_file),
	    cmocka_unit_test(rx_nohandler_stays_open_while_the_device_is_listed),
	};
	return cmocka_run_group_tests_name("proc /proc/net/dev", tests, NULL, NULL);
}
