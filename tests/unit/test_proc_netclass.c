/* node_exporter's netclass collector: /sys/class/net/<iface> attributes. */
#include <sys/stat.h>

#include "test_proc_fx.h"

#define DEV "devices/pci0000:00/0000:00:03.0/net/eth0"

static int setup(void **state)
{
	(void)state;
	if (tp_dir_setup(tp_warn_hook))
		return -1;
	tp_mkdirs(DEV "/queues");
	tp_mkdirs("class/net");
	static const char *const files[][2] = {
	    {"addr_assign_type", "3\n"},
	    {"address", "01:02:03:04:05:06\n"},
	    {"broadcast", "ff:ff:ff:ff:ff:ff\n"},
	    {"carrier", "1\n"},
	    {"carrier_changes", "2\n"},
	    {"carrier_up_count", "1\n"},
	    {"carrier_down_count", "1\n"},
	    {"dev_id", "0x20\n"},
	    {"dormant", "0\n"},
	    {"duplex", "full\n"},
	    {"flags", "0x1303\n"},
	    {"ifalias", "  rack \"7\" uplink \n"},
	    {"ifindex", "2\n"},
	    {"iflink", "2\n"},
	    {"link_mode", "1\n"},
	    {"mtu", "1500\n"},
	    {"name_assign_type", "2\n"},
	    {"netdev_group", "0\n"},
	    {"operstate", "up\n"},
	    {"speed", "1000\n"},
	    {"tx_queue_len", "1000\n"},
	    {"type", "1\n"},
	};
	char rel[96];
	for (size_t i = 0; i < SB_ARRAY_SIZE(files); i++) {
		snprintf(rel, sizeof(rel), DEV "/%s", files[i][0]);
		tp_puts(rel, files[i][1]);
	}
	tp_link("../../" DEV, "class/net/eth0");
	tp_puts("class/net/bonding_masters", "bond0\n"); /* a file, not a device */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static void go_int_is_strconv_parseint_base_0(void **state)
{
	(void)state;
	/* values node_exporter 1.5.0 shows for these files */
	static const struct {
		const char *s;
		int64_t v;
	} good[] = {
	    {"1500", 1500},
	    {"0x1003", 4099},
	    {"0X1f", 31},
	    {"010", 8},
	    {"0", 0},
	    {"00", 0},
	    {"0o17", 15},
	    {"0b11", 3},
	    {"1_000", 1000},
	    {"0x_1", 1},
	    {"0_7", 7},
	    {"+5", 5},
	    {"-1", -1},
	    {"-0x10", -16},
	    {"9223372036854775807", INT64_MAX},
	    {"-9223372036854775808", INT64_MIN},
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(good); i++) {
		int64_t v = 42;
		assert_true(sb_proc_go_int(good[i].s, strlen(good[i].s), 0, &v));
		assert_true(v == good[i].v);
	}
	static const char *const bad[] = {
	    "",
	    "-",
	    "+",
	    "garbage",
	    "0x",
	    "0b",
	    "08",
	    "0x1g",
	    "1 2",
	    "5\n6",
	    "_1",
	    "1_",
	    "1__0",
	    "0x_",
	    "1.5",
	    "9223372036854775808",
	    "-9223372036854775809",
	    "99999999999999999999",
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		int64_t v = 42;
		assert_false(sb_proc_go_int(bad[i], strlen(bad[i]), 0, &v));
		assert_true(v == 42);
	}
	int64_t v;
	assert_true(sb_proc_go_int("010", 3, 10, &v) && v == 10); /* ReadIntFromFile */
	assert_true(sb_proc_go_int("-1500", 5, 10, &v) && v == -1500);
	assert_false(sb_proc_go_int("1_0", 3, 10, &v));
	assert_false(sb_proc_go_int("0x10", 4, 10, &v));
	const char *t;
	assert_int_equal(sb_proc_sysfs_trim(" \t up \n", 7, &t), 2);
	assert_memory_equal(t, "up", 2);
	assert_int_equal(sb_proc_sysfs_trim("\n", 1, &t), 0);
}

static void attributes_give_node_exporters_series(void **state)
{
	(void)state;
	struct tfx f;
	tfx_start(&f, "netclass");
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(tp_nwarn, 0);
	assert_int_equal(f.t.n, 19); /* up, info and 17 attributes */
	const struct sb_sample *s = tp_find(&f.t, "node_network_up", "device", "eth0", NULL);
	assert_non_null(s);
	assert_double_eq(s->value, 1);
	assert_string_equal(s->help, "Value is 1 if operstate is 'up', 0 otherwise.");
	s = tp_find(&f.t, "node_network_info", "device", "eth0", "address", "01:02:03:04:05:06",
		    "broadcast", "ff:ff:ff:ff:ff:ff", "duplex", "full", "operstate", "up",
		    "ifalias", "rack \"7\" uplink", NULL);
	assert_non_null(s);
	assert_string_equal(s->help,
			    "Non-numeric data from /sys/class/net/<iface>, value is always 1.");
	s = tp_find(&f.t, "node_network_flags", "device", "eth0", NULL);
	assert_double_eq(s->value, 4867);
	assert_string_equal(s->help, "Network device property: flags");
	assert_double_eq(tp_value(&f.t, "node_network_device_id", "device", "eth0"), 32);
	assert_double_eq(tp_value(&f.t, "node_network_speed_bytes", "device", "eth0"), 125000000);
	assert_double_eq(tp_value(&f.t, "node_network_iface_id", "device", "eth0"), 2);
	assert_double_eq(tp_value(&f.t, "node_network_protocol_type", "device", "eth0"), 1);
	s = tp_find(&f.t, "node_network_carrier_up_changes_total", "device", "eth0", NULL);
	assert_int_equal(s->type, SB_COUNTER);
	assert_string_equal(s->help, "Network device property: carrier_up_changes_total");
	tp_absent(&f.t, "node_network_up", "device", "bonding_masters");

	/* read again each round; -1 (unknown) is kept unless told */
	tp_puts(DEV "/speed", "-1\n");
	tp_puts(DEV "/operstate", "down\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_double_eq(tp_value(&f.t, "node_network_speed_bytes", "device", "eth0"), -125000);
	assert_double_eq(tp_value(&f.t, "node_network_up", "device", "eth0"), 0);
	f.cfg.netclass_ignore_invalid_speed = true;
	assert_int_equal(tfx_round(&f), 0);
	tp_absent(&f.t, "node_network_speed_bytes");
	f.cfg.netclass_ignore_invalid_speed = false;
	tfx_stop(&f);
	tp_puts(DEV "/speed", "1000\n");
	tp_puts(DEV "/operstate", "up\n");
}

/* A FIFO where an attribute should be is not opened (it would block). */
static void only_regular_files_are_read(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof(path), "%s/" DEV "/mtu", tp_dir);
	unlink(path);
	assert_int_equal(mkfifo(path, 0644), 0);
	struct tfx f;
	tfx_start(&f, "netclass");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 18);
	tp_absent(&f.t, "node_network_mtu_bytes");
	tfx_stop(&f);
	unlink(path);
	tp_puts(DEV "/mtu", "1500\n");
}

static void a_garbled_value_is_reported_and_the_others_kept(void **state)
{
	(void)state;
	tp_puts(DEV "/carrier", "garbage\n");
	tp_puts(DEV "/dormant", "\n");
	struct tfx f;
	tfx_start(&f, "netclass");
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), -EINVAL);
	assert_int_equal(f.t.n, 17);
	tp_absent(&f.t, "node_network_carrier");
	tp_absent(&f.t, "node_network_dormant");
	assert_int_equal(tp_nwarn, 1); /* rate-limited: one line */
	assert_int_equal(f.st->errors, 2);
	tfx_stop(&f);
	tp_puts(DEV "/carrier", "1\n");
	tp_puts(DEV "/dormant", "0\n");
}

static void devices_come_and_go(void **state)
{
	(void)state;
	struct tfx f;
	tfx_start(&f, "netclass");
	assert_int_equal(tfx_round(&f), 0);
	tp_mkdirs("devices/virtual/net/veth0");
	tp_puts("devices/virtual/net/veth0/operstate", "up\n");
	tp_puts("devices/virtual/net/veth0/mtu", "1400\n");
	tp_link("../../devices/virtual/net/veth0", "class/net/veth0");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 19 + 3);
	assert_double_eq(tp_value(&f.t, "node_network_mtu_bytes", "device", "veth0"), 1400);
	tp_rm("class/net/eth0");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 3);
	tp_link("../../" DEV, "class/net/eth0");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 22);
	tfx_stop(&f);
	tp_rm("class/net/veth0");
}

static void ignored_devices_are_left_out(void **state)
{
	(void)state;
	struct tfx f;
	memset(&f, 0, sizeof(f));
	char *names[1] = {"netclass"};
	f.cfg = (struct proc_cfg){
	    .procfs = tp_dir, .sysfs = tp_dir, .netclass_ignored_devices = "^eth"};
	f.cfg.collectors = (struct sb_strlist){names, 1};
	f.s.cfg = &f.cfg;
	assert_int_equal(sb_sensor_proc.init(&f.s), 0);
	f.st = f.s.state;
	tp_begin(&f.t);
	tp_end(&f.t);
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 0);
	tfx_stop(&f);
}

/* No class directory, or a device link pointing nowhere: node_exporter's
 * ErrNoData (success 0, nothing logged, no series). */
static void no_data_is_silent(void **state)
{
	(void)state;
	tp_link("../../devices/virtual/net/gone0", "class/net/gone0");
	struct tfx f;
	tfx_start(&f, "netclass");
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	tfx_stop(&f);
	tp_rm("class/net/gone0");

	memset(&f, 0, sizeof(f));
	char *names[1] = {"netclass"};
	char root[128];
	snprintf(root, sizeof(root), "%s/nonexistent", tp_dir);
	f.cfg = (struct proc_cfg){.procfs = tp_dir, .sysfs = root};
	f.cfg.collectors = (struct sb_strlist){names, 1};
	f.s.cfg = &f.cfg;
	assert_int_equal(sb_sensor_proc.init(&f.s), 0);
	f.st = f.s.state;
	tp_begin(&f.t);
	tp_end(&f.t);
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(tp_nwarn, 0);
	assert_int_equal(f.st->errors, 0);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(go_int_is_strconv_parseint_base_0),
	    cmocka_unit_test(attributes_give_node_exporters_series),
	    cmocka_unit_test(only_regular_files_are_read),
	    cmocka_unit_test(a_garbled_value_is_reported_and_the_others_kept),
	    cmocka_unit_test(devices_come_and_go),
	    cmocka_unit_test(ignored_devices_are_left_out),
	    cmocka_unit_test(no_data_is_silent),
	};
	return cmocka_run_group_tests_name("proc netclass", tests, setup, teardown);
}
