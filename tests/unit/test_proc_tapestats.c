/* node_exporter's tapestats collector: node_tape_*{device} per st<N>. */
#include "test_proc_fx.h"

static const char *const files[] = {"in_flight", "io_ns",   "other_cnt", "read_byte_cnt",
				    "read_cnt",	 "read_ns", "resid_cnt", "write_byte_cnt",
				    "write_cnt", "write_ns"};

static void put_dev(const char *dev, unsigned base)
{
	char rel[128], v[32];
	snprintf(rel, sizeof(rel), "class/scsi_tape/%s/stats", dev);
	tp_mkdirs(rel);
	for (unsigned i = 0; i < 10; i++) {
		snprintf(rel, sizeof(rel), "class/scsi_tape/%s/stats/%s", dev, files[i]);
		snprintf(v, sizeof(v), "%u\n", base + i);
		tp_puts(rel, v);
	}
}

static int setup(void **state)
{
	(void)state;
	if (tp_dir_setup(tp_warn_hook))
		return -1;
	put_dev("st0", 100);
	put_dev("st12", 200);
	put_dev("nst0", 300); /* no-rewind and mode nodes: not counted */
	put_dev("st0a", 400);
	put_dev("stx", 500);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static void every_counter_of_each_drive(void **state)
{
	(void)state;
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "tapestats");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 20);
	const struct sb_sample *s = tp_find(&f.t, "node_tape_io_now", "device", "st0", NULL);
	assert_double_eq(s->value, 100);
	assert_int_equal(s->type, SB_GAUGE);
	assert_string_equal(s->help, "The number of I/Os currently outstanding to this device.");
	s = tp_find(&f.t, "node_tape_io_time_seconds_total", "device", "st12", NULL);
	assert_double_eq(s->value, 201 * 1e-9); /* ns, as node_exporter scales them */
	assert_int_equal(s->type, SB_COUNTER);
	assert_double_eq(tp_value(&f.t, "node_tape_io_others_total", "device", "st0"), 102);
	assert_double_eq(tp_value(&f.t, "node_tape_read_bytes_total", "device", "st0"), 103);
	assert_double_eq(tp_value(&f.t, "node_tape_reads_completed_total", "device", "st0"), 104);
	assert_double_eq(tp_value(&f.t, "node_tape_read_time_seconds_total", "device", "st0"),
			 105 * 1e-9);
	assert_double_eq(tp_value(&f.t, "node_tape_residual_total", "device", "st0"), 106);
	assert_double_eq(tp_value(&f.t, "node_tape_written_bytes_total", "device", "st0"), 107);
	assert_double_eq(tp_value(&f.t, "node_tape_writes_completed_total", "device", "st0"), 108);
	assert_double_eq(tp_value(&f.t, "node_tape_write_time_seconds_total", "device", "st0"),
			 109 * 1e-9);
	tp_absent(&f.t, "node_tape_io_now", "device", "nst0");
	tp_absent(&f.t, "node_tape_io_now", "device", "st0a");
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

static void a_missing_counter_is_zero_a_bad_one_reported(void **state)
{
	(void)state;
	tp_rm("class/scsi_tape/st0/stats/resid_cnt");
	tp_puts("class/scsi_tape/st12/stats/read_cnt", "-1\n");
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "tapestats");
	assert_int_equal(tfx_round(&f), -EINVAL);
	assert_int_equal(f.t.n, 19);
	assert_double_eq(tp_value(&f.t, "node_tape_residual_total", "device", "st0"), 0);
	tp_absent(&f.t, "node_tape_reads_completed_total", "device", "st12");
	assert_int_equal(tp_nwarn, 1);
	assert_int_equal(f.st->errors, 1);
	tfx_stop(&f);
}

static void no_class_is_no_data_an_empty_one_success(void **state)
{
	(void)state;
	tp_dir_teardown();
	tp_dir_setup(tp_warn_hook);
	struct tfx f;
	tfx_start(&f, "tapestats");
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	tfx_stop(&f);
	tp_mkdirs("class/scsi_tape");
	tfx_start(&f, "tapestats");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 0);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(every_counter_of_each_drive, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_missing_counter_is_zero_a_bad_one_reported, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(no_class_is_no_data_an_empty_one_success, setup,
					    teardown),
	};
	return cmocka_run_group_tests_name("proc tapestats", tests, NULL, NULL);
}
