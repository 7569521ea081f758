/* node_exporter 1.5.0's bcache collector: per cache set, its backing
 * devices and caches, values "dehumanized" as procfs 0.8 does. */
#include "test_proc_fx.h"

#define SET "fs/bcache/0a1b2c3d-0000-4000-8000-00000000abcd"

static void put(const char *rel, const char *text)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s", rel);
	*strrchr(dir, '/') = 0;
	tp_mkdirs(dir);
	tp_puts(rel, text);
}

static int setup(void **state)
{
	(void)state;
	if (tp_dir_setup(tp_warn_hook))
		return -1;
	put(SET "/average_key_size", "12.5k\n");
	put(SET "/btree_cache_size", "3.5M\n");
	put(SET "/cache_available_percent", "97\n");
	put(SET "/internal/btree_read_average_duration_us", "2500\n");
	put(SET "/internal/cache_read_races", "4\n");
	put(SET "/bdev0/dirty_data", "1.5G\n");
	put(SET "/bdev0/writeback_rate_debug",
	    "rate:\t\t512.0k/sec\ndirty:\t\t1.5G\ntarget:\t\t2.0G\n"
	    "proportional:\t-12.3k\nintegral:\t4.0k\n"
	    "change:\t\t-1.2k/sec\nnext io:\t-150ms\n");
	put(SET "/bdev0/stats_total/cache_hits", "12345\n");
	put(SET "/bdev0/stats_total/bypassed", "10.2M\n");
	put(SET "/cache0/written", "1.1G\n");
	put(SET "/cache0/priority_stats", "Unused:\t\t81%\nMetadata:\t2%\nAverage:\t1573\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static const char *const uuid = "0a1b2c3d-0000-4000-8000-00000000abcd";

static void values_are_dehumanized_as_procfs_does(void **state)
{
	(void)state;
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "bcache");
	assert_int_equal(tfx_round(&f), 0);
	/* 10 set + 13 backing device + 3 cache series (no priority stats) */
	assert_int_equal(f.t.n, 26);
	/* "12.5k": (12 + 5/10.24) * 1024, truncated */
	assert_double_eq(tp_value(&f.t, "node_bcache_average_key_size_sectors", "uuid", uuid),
			 12788);
	assert_double_eq(tp_value(&f.t, "node_bcache_btree_cache_size_bytes", "uuid", uuid),
			 3657728);
	assert_double_eq(tp_value(&f.t, "node_bcache_cache_available_percent", "uuid", uuid), 97);
	/* absent: 0, as procfs */
	assert_double_eq(tp_value(&f.t, "node_bcache_tree_depth", "uuid", uuid), 0);
	/* microseconds taken as nanoseconds, as node_exporter */
	assert_double_eq(
	    tp_value(&f.t, "node_bcache_btree_read_average_duration_seconds", "uuid", uuid),
	    2500e-9);
	const struct sb_sample *s =
	    tp_find(&f.t, "node_bcache_cache_read_races_total", "uuid", uuid, NULL);
	assert_int_equal(s->type, SB_COUNTER);
	assert_int_equal(s->nlabels, 1);
	assert_string_equal(s->help, "Counts instances where while data was being read from the "
				     "cache, the bucket was reused and invalidated - i.e. where "
				     "the pointer was stale after the read completed.");
	s = tp_find(&f.t, "node_bcache_dirty_data_bytes", "uuid", uuid, "backing_device", "bdev0",
		    NULL);
	assert_double_eq(s->value, 1598029824);
	assert_int_equal(s->type, SB_GAUGE);
	assert_double_eq(tp_value(&f.t, "node_bcache_writeback_rate", "backing_device", "bdev0"),
			 524288);
	assert_double_eq(
	    tp_value(&f.t, "node_bcache_dirty_target_bytes", "backing_device", "bdev0"),
	    2147483648.0);
	assert_double_eq(tp_value(&f.t, "node_bcache_writeback_rate_proportional_term",
				  "backing_device", "bdev0"),
			 -12588);
	assert_double_eq(
	    tp_value(&f.t, "node_bcache_writeback_rate_integral_term", "backing_device", "bdev0"),
	    4096);
	assert_double_eq(tp_value(&f.t, "node_bcache_writeback_change", "backing_device", "bdev0"),
			 -1224);
	assert_double_eq(
	    tp_value(&f.t, "node_bcache_bypassed_bytes_total", "backing_device", "bdev0"),
	    10690560);
	assert_double_eq(tp_value(&f.t, "node_bcache_cache_hits_total", "backing_device", "bdev0"),
			 12345);
	s = tp_find(&f.t, "node_bcache_written_bytes_total", "uuid", uuid, "cache_device", "cache0",
		    NULL);
	assert_double_eq(s->value, 1178599424);
	assert_string_equal(s->help, "Sum of all data that has been written to the cache.");
	tp_absent(&f.t, "node_bcache_priority_stats_unused_percent");
	/* re-read every round */
	put(SET "/cache0/written", "1.2G\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_double_eq(tp_value(&f.t, "node_bcache_written_bytes_total", "uuid", uuid),
			 (double)(uint64_t)((1 + 2 / 10.24) * 1073741824.0));
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

static void priority_stats_when_asked(void **state)
{
	(void)state;
	struct tfx f;
	memset(&f, 0, sizeof(f));
	f.names[0] = "bcache";
	f.cfg = (struct proc_cfg){
	    .procfs = tp_dir, .sysfs = tp_dir, .max_processes = 8, .bcache_priority_stats = true};
	f.cfg.collectors = (struct sb_strlist){f.names, 1};
	f.s.cfg = &f.cfg;
	assert_int_equal(sb_sensor_proc.init(&f.s), 0);
	f.st = f.s.state;
	tp_begin(&f.t);
	tp_end(&f.t);
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 28);
	const struct sb_sample *s = tp_find(&f.t, "node_bcache_priority_stats_unused_percent",
					    "uuid", uuid, "cache_device", "cache0", NULL);
	assert_double_eq(s->value, 81);
	assert_string_equal(s->help, "The percentage of the cache that doesn't contain any data.");
	assert_double_eq(
	    tp_value(&f.t, "node_bcache_priority_stats_metadata_percent", "cache_device", "cache0"),
	    2);
	tfx_stop(&f);
	/* then required, as in node_exporter: the set is left out */
	tp_rm(SET "/cache0/priority_stats");
	assert_int_equal(sb_sensor_proc.init(&f.s), 0);
	f.st = f.s.state;
	tp_begin(&f.t);
	tp_end(&f.t);
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), -ENOENT);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(tp_nwarn, 1);
	tfx_stop(&f);
}

/* node_exporter 1.5.0 drops every set; here only the bad one */
static void a_bad_value_leaves_its_set_out(void **state)
{
	(void)state;
	static const char *const bad[] = {"", "12", "x\n", "1.5%\n", "1.xk\n"};
	put("fs/bcache/ffffffff-0000-4000-8000-000000000000/tree_depth", "1\n");
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		put(SET "/congested", bad[i]);
		struct tfx f;
		tp_nwarn = 0;
		tfx_start(&f, "bcache");
		assert_int_equal(tfx_round(&f), -EINVAL);
		assert_int_equal(f.t.n, 10);
		tp_absent(&f.t, "node_bcache_congested", "uuid", uuid);
		assert_double_eq(tp_value(&f.t, "node_bcache_tree_depth", "uuid",
					  "ffffffff-0000-4000-8000-000000000000"),
				 1);
		assert_int_equal(f.st->errors, 1);
		assert_int_equal(tp_nwarn, 1);
		tfx_stop(&f);
	}
}

static void a_backing_device_needs_its_writeback_rate_debug(void **state)
{
	(void)state;
	tp_rm(SET "/bdev0/writeback_rate_debug");
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "bcache");
	assert_int_equal(tfx_round(&f), -ENOENT);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(tp_nwarn, 1);
	tfx_stop(&f);
	/* an unknown unit multiplies by 0, as procfs; no number at all is an error */
	put(SET "/bdev0/writeback_rate_debug", "rate:\t\t1.0x/sec\n");
	tfx_start(&f, "bcache");
	assert_int_equal(tfx_round(&f), 0);
	assert_double_eq(tp_value(&f.t, "node_bcache_writeback_rate", "backing_device", "bdev0"),
			 0);
	tfx_stop(&f);
	put(SET "/bdev0/writeback_rate_debug", "rate:\t\tfast/sec\n");
	tfx_start(&f, "bcache");
	assert_int_equal(tfx_round(&f), -EINVAL);
	assert_int_equal(f.t.n, 0);
	tfx_stop(&f);
}

/* no bcache module: node_exporter's glob finds nothing, success */
static void no_bcache_is_success_without_series(void **state)
{
	(void)state;
	tp_dir_teardown();
	tp_dir_setup(tp_warn_hook);
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "bcache");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(values_are_dehumanized_as_procfs_does, setup, teardown),
	    cmocka_unit_test_setup_teardown(priority_stats_when_asked, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_bad_value_leaves_its_set_out, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_backing_device_needs_its_writeback_rate_debug, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(no_bcache_is_success_without_series, setup, teardown),
	};
	return cmocka_run_group_tests_name("proc bcache", tests, NULL, NULL);
}
