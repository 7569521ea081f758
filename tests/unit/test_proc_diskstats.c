/* /proc/diskstats: node_disk_*{device}. */
#include "test_proc_fx.h"

#include <limits.h>

#define EXCLUDE "^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$"

static const char text[] =
    "   8       0 sda 25354637 34367663 1003346126 18492372 28444756 11134226 505697032 "
    "63877960 0 9653880 82621804\n"
    "   8       1 sda1 1 2 3 4 5 6 7 8 9 10 11\n"
    " 259       0 nvme0n1 47114 4 4643973 21650 1235058 12 1245780 9060 0 180 30760 1 2 3 4\n"
    " 254       0 vda 68704 10939 4248242 23452 15064 22710 3748288 7189 0 13408 33516 7329 81 "
    "1573912 2081 1554 793\n"
    " 259       1 nvme0n1p1 1 2 3 4 5 6 7 8 9 10 11\n"
    " 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0\n";

static struct sb_proc_filter f;

static int setup(void **state)
{
	(void)state;
	char err[128];
	return sb_proc_filter_init(&f, NULL, EXCLUDE, err, sizeof(err));
}

static int teardown(void **state)
{
	(void)state;
	sb_proc_filter_free(&f);
	return 0;
}

static unsigned ninfo;
static void info(void *arg, struct sb_evb *b, unsigned major, unsigned minor, const char *name)
{
	(void)arg;
	(void)b;
	(void)major;
	(void)minor;
	(void)name;
	ninfo++;
}

static int parse(struct tp *t, const char *s)
{
	ninfo = 0;
	tp_begin(t);
	t->n = sb_proc_parse_diskstats(s, &t->b, &f, info, NULL, &t->e);
	tp_end(t);
	return t->n;
}

static void sectors_are_512_bytes_and_ticks_milliseconds(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, text);
	assert_int_equal(t.e.nbad, 0);
	assert_double_eq(tp_value(&t, "node_disk_reads_completed_total", "device", "sda"),
			 25354637);
	assert_double_eq(tp_value(&t, "node_disk_read_bytes_total", "device", "sda"),
			 1003346126.0 * 512);
	assert_double_eq(tp_value(&t, "node_disk_read_time_seconds_total", "device", "sda"),
			 18492372 * 0.001);
	assert_double_eq(tp_value(&t, "node_disk_written_bytes_total", "device", "sda"),
			 505697032.0 * 512);
	assert_double_eq(tp_value(&t, "node_disk_io_now", "device", "sda"), 0);
	assert_int_equal(tp_find(&t, "node_disk_io_now", NULL)->type, SB_GAUGE);
	assert_double_eq(tp_value(&t, "node_disk_io_time_weighted_seconds_total", "device", "sda"),
			 82621.804);
	tp_absent(&t, "node_disk_discards_completed_total", "device", "sda");
	tp_free(&t);
}

static void discard_and_flush_fields_when_present(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, text);
	/* 18 fields: discards, no flushes */
	assert_double_eq(tp_value(&t, "node_disk_discards_completed_total", "device", "nvme0n1"),
			 1);
	/* discarded sectors stay sectors, as upstream */
	assert_double_eq(tp_value(&t, "node_disk_discarded_sectors_total", "device", "nvme0n1"), 3);
	assert_double_eq(tp_value(&t, "node_disk_discard_time_seconds_total", "device", "nvme0n1"),
			 0.004);
	tp_absent(&t, "node_disk_flush_requests_total", "device", "nvme0n1");
	/* 20 fields: flushes too */
	assert_double_eq(tp_value(&t, "node_disk_flush_requests_total", "device", "vda"), 1554);
	const char *flush_time = "node_disk_flush_requests_time_seconds_total";
	assert_double_eq(tp_value(&t, flush_time, "device", "vda"), 0.793);
	tp_free(&t);
}

static void default_exclude_drops_partitions_loops_and_zram(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, text);
	tp_absent(&t, "node_disk_reads_completed_total", "device", "sda1");
	tp_absent(&t, "node_disk_reads_completed_total", "device", "nvme0n1p1");
	tp_absent(&t, "node_disk_reads_completed_total", "device", "zram0");
	tp_absent(&t, "node_disk_reads_completed_total", "device", "loop0");
	assert_int_equal(ninfo, 3);
	assert_int_equal(t.n, 11 + 15 + 17);
	tp_free(&t);
}

static void short_and_garbled_lines_are_skipped(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "   8 0 sdx 1 2 3 4 5 6 7\n"
		  "   8 16 sdy 1 2 3 4 5 6 7 8 9 10 eleven\n"
		  "   x 0 sdz 1 2 3 4 5 6 7 8 9 10 11\n"
		  "   8 32 sdw 1 2 3 4 5 6 7 8 9 10 11\n");
	assert_int_equal(t.e.nbad, 3);
	assert_int_equal(t.n, 11);
	assert_double_eq(tp_value(&t, "node_disk_io_time_seconds_total", "device", "sdw"), 0.01);
	tp_free(&t);
}

static void a_last_line_cut_short_is_not_read(void **state)
{
	(void)state;
	struct tp t;
	/* cut inside the last number: "4600" became "46" */
	parse(&t, "   8 0 sda 1000 10 20000 3000 500 5 8000 1500 2 4000 4600\n"
		  "   8 32 sdc 1000 10 20000 3000 500 5 8000 1500 2 4000 46");
	assert_int_equal(t.e.nbad, 1);
	assert_int_equal(t.e.line, 2);
	assert_int_equal(t.n, 11);
	tp_absent(&t, "node_disk_io_time_weighted_seconds_total", "device", "sdc");
	tp_free(&t);
}

static void no_devices_is_not_an_error(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "");
	assert_int_equal(t.e.nbad, 0);
	tp_free(&t);
}

/* A udev path longer than a path can be is refused when the config is
 * checked, naming the key: cut short, it would name another directory. */
static void a_udev_path_too_long_is_an_error(void **state)
{
	(void)state;
	char *path = malloc(PATH_MAX + 1);
	assert_non_null(path);
	memset(path, 'a', PATH_MAX);
	path[0] = '/';
	path[PATH_MAX] = 0;
	char *names[] = {"diskstats"};
	struct proc_cfg cfg = {.collectors = {names, 1}, .udev = path};
	char err[256] = "";
	assert_int_equal(sb_sensor_proc.validate(&cfg, err, sizeof(err)), -ENAMETOOLONG);
	assert_non_null(strstr(err, "udev: path too long"));
	path[PATH_MAX - 1] = 0; /* the longest a path can be */
	assert_int_equal(sb_sensor_proc.validate(&cfg, err, sizeof(err)), 0);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sectors_are_512_bytes_and_ticks_milliseconds),
	    cmocka_unit_test(discard_and_flush_fields_when_present),
	    cmocka_unit_test(default_exclude_drops_partitions_loops_and_zram),
	    cmocka_unit_test(short_and_garbled_lines_are_skipped),
	    cmocka_unit_test(a_last_line_cut_short_is_not_read),
	    cmocka_unit_test(no_devices_is_not_an_error),
	    cmocka_unit_test(a_udev_path_too_long_is_an_error),
	};
	return cmocka_run_group_tests_name("proc /proc/diskstats", tests, setup, teardown);
}
