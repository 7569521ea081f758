/* node_exporter's fibrechannel collector: node_fibrechannel_info and the
 * statistics counters per fc_host, numbers as Go's ParseUint(s, 0, 64). */
#include "test_proc_fx.h"

static bool go(const char *s, uint64_t *v) { return sb_proc_go_uint0(s, strlen(s), v); }

static void go_base0_numbers(void **state)
{
	(void)state;
	uint64_t v = 1;
	assert_true(go("0", &v) && v == 0);
	assert_true(go("12", &v) && v == 12);
	assert_true(go("0x1f", &v) && v == 31);
	assert_true(go("0X1F", &v) && v == 31);
	assert_true(go("010", &v) && v == 8); /* a leading 0 is octal */
	assert_true(go("0o17", &v) && v == 15);
	assert_true(go("0b101", &v) && v == 5);
	assert_true(go("1_000", &v) && v == 1000);
	assert_true(go("0x_ff", &v) && v == 255);
	assert_true(go("0xffffffffffffffff", &v) && v == UINT64_MAX);
	assert_true(go("18446744073709551615", &v) && v == UINT64_MAX);
}

static void go_base0_refusals(void **state)
{
	(void)state;
	uint64_t v = 7;
	const char *bad[] = {"",
			     "0x",
			     "08",
			     "0b2",
			     "1__0",
			     "_1",
			     "1_",
			     "-1",
			     "+1",
			     "0x1g",
			     "1 2",
			     "0x10000000000000000",
			     "18446744073709551616",
			     "0o8",
			     "x1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (go(bad[i], &v))
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(v, 7); /* untouched */
}

#define H "class/fc_host/host0/"

static int setup(void **state)
{
	(void)state;
	if (tp_dir_setup(tp_warn_hook))
		return -1;
	tp_mkdirs(H "statistics");
	tp_puts(H "dev_loss_tmo", "30\n");
	tp_puts(H "fabric_name", "0x0\n");
	tp_puts(H "port_id", "0x000002\n");
	tp_puts(H "port_name", "0x1000e0071bce95f2\n");
	tp_puts(H "port_state", "Online\n");
	tp_puts(H "port_type", "Point-To-Point (direct nport connection)\n");
	tp_puts(H "speed", "16 Gbit\n");
	tp_puts(H "supported_classes", "Class 3\n");
	tp_puts(H "supported_speeds", "4 Gbit, 8 Gbit, 16 Gbit\n");
	tp_puts(H "symbolic_name", "Emulex SN1100E2P FV12.4.270.3 DV12.4.0.0. HN:x. OS:Linux\n");
	tp_puts(H "statistics/dumped_frames", "0xffffffffffffffff\n"); /* not supported */
	tp_puts(H "statistics/error_frames", "0x0\n");
	tp_puts(H "statistics/rx_frames", "0x3\n");
	tp_puts(H "statistics/rx_words", "0x40\n");
	tp_puts(H "statistics/nos_count", "0xfffffffffffffffe\n");
	tp_puts(H "statistics/seconds_since_last_reset", "0x7\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static void info_and_counters(void **state)
{
	(void)state;
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "fibrechannel");
	assert_int_equal(tfx_round(&f), 0);
	/* info + 14 counters, less dumped_frames (0xff..ff) */
	assert_int_equal(f.t.n, 14);
	const struct sb_sample *s = tp_find(
	    &f.t, "node_fibrechannel_info", "fc_host", "host0", "dev_loss_tmo", "30", "fabric_name",
	    "0", "port_id", "000002", "port_name", "1000e0071bce95f2", "port_state", "Online",
	    "port_type", "Point-To-Point (direct nport connection)", "speed", "16 Gbit",
	    "supported_classes", "Class 3", "supported_speeds", "4 Gbit, 8 Gbit, 16 Gbit",
	    "symbolic_name", "Emulex SN1100E2P FV12.4.270.3 DV12.4.0.0. HN:x. OS:Linux", NULL);
	assert_non_null(s);
	assert_int_equal(s->nlabels, 11);
	assert_int_equal(s->type, SB_GAUGE);
	assert_string_equal(s->help,
			    "Non-numeric data from /sys/class/fc_host/<host>, value is always 1.");
	tp_absent(&f.t, "node_fibrechannel_dumped_frames_total");
	s = tp_find(&f.t, "node_fibrechannel_rx_words_total", "fc_host", "host0", NULL);
	assert_double_eq(s->value, 64);
	assert_int_equal(s->type, SB_COUNTER);
	assert_string_equal(s->help, "Number of words received by host port");
	assert_double_eq(tp_value(&f.t, "node_fibrechannel_nos_total", "fc_host", "host0"),
			 18446744073709551614.0);
	/* absent files count 0, as procfs */
	assert_double_eq(tp_value(&f.t, "node_fibrechannel_tx_words_total", "fc_host", "host0"), 0);
	assert_double_eq(
	    tp_value(&f.t, "node_fibrechannel_seconds_since_last_reset_total", "fc_host", "host0"),
	    7);
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

/* short values keep their first characters; longer ones lose two */
static void the_0x_cut(void **state)
{
	(void)state;
	tp_puts(H "port_id", "5\n");
	tp_puts(H "port_name", "0x\n");
	tp_puts(H "fabric_name", " 0X12 \n");
	struct tfx f;
	tfx_start(&f, "fibrechannel");
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_fibrechannel_info", "port_id", "5", "port_name", "0x",
				"fabric_name", "12", NULL));
	tfx_stop(&f);
}

static void bad_counter_and_missing_attribute_are_reported(void **state)
{
	(void)state;
	tp_puts(H "statistics/rx_frames", "zz\n");
	tp_rm(H "speed");
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "fibrechannel");
	assert_true(tfx_round(&f) < 0);
	assert_int_equal(f.t.n, 12); /* no info, no rx_frames */
	tp_absent(&f.t, "node_fibrechannel_info");
	tp_absent(&f.t, "node_fibrechannel_rx_frames_total");
	assert_int_equal(tp_nwarn, 2);
	assert_int_equal(f.st->errors, 2);
	tfx_stop(&f);
}

static void no_class_is_no_data(void **state)
{
	(void)state;
	tp_dir_teardown();
	tp_dir_setup(tp_warn_hook);
	struct tfx f;
	tfx_start(&f, "fibrechannel");
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	tfx_stop(&f);
	tp_mkdirs("class/fc_host");
	tfx_start(&f, "fibrechannel");
	assert_int_equal(tfx_round(&f), 0);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(go_base0_numbers),
	    cmocka_unit_test(go_base0_refusals),
	    cmocka_unit_test_setup_teardown(info_and_counters, setup, teardown),
	    cmocka_unit_test_setup_teardown(the_0x_cut, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_counter_and_missing_attribute_are_reported, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(no_class_is_no_data, setup, teardown),
	};
	return cmocka_run_group_tests_name("proc fibrechannel", tests, NULL, NULL);
}
