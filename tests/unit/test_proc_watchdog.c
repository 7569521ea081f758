/* upstream node_exporter's watchdog collector: per /sys/class/watchdog
 * device, its numeric attributes and node_watchdog_info. */
#include "test_proc_fx.h"

static void put(const char *dev, const char *file, const char *text)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "class/watchdog/%s", dev);
	tp_mkdirs(rel);
	snprintf(rel, sizeof(rel), "class/watchdog/%s/%s", dev, file);
	tp_puts(rel, text);
}

static int setup(void **state)
{
	(void)state;
	if (tp_dir_setup(tp_warn_hook))
		return -1;
	put("watchdog0", "bootstatus", "0x20\n");
	put("watchdog0", "options", "0x8180\n");
	put("watchdog0", "fw_version", "0\n");
	put("watchdog0", "identity", "iTCO_wdt\n");
	put("watchdog0", "nowayout", "1\n");
	put("watchdog0", "state", "inactive\n");
	put("watchdog0", "status", "0x0\n");
	put("watchdog0", "timeleft", "27\n");
	put("watchdog0", "timeout", "30\n");
	/* a device with no attribute files at all */
	tp_mkdirs("class/watchdog/watchdog1");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static void attributes_present_are_reported(void **state)
{
	(void)state;
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "watchdog");
	assert_int_equal(tfx_round(&f), 0);
	/* watchdog0: 5 numbers + info; watchdog1: info */
	assert_int_equal(f.t.n, 7);
	const struct sb_sample *s =
	    tp_find(&f.t, "node_watchdog_bootstatus", "name", "watchdog0", NULL);
	assert_non_null(s);
	assert_double_eq(s->value, 32); /* Go base 0: hex */
	assert_int_equal(s->type, SB_GAUGE);
	assert_string_equal(s->help, "Value of /sys/class/watchdog/<watchdog>/bootstatus");
	assert_double_eq(tp_value(&f.t, "node_watchdog_fw_version", "name", "watchdog0"), 0);
	assert_double_eq(tp_value(&f.t, "node_watchdog_nowayout", "name", "watchdog0"), 1);
	s = tp_find(&f.t, "node_watchdog_timeleft_seconds", "name", "watchdog0", NULL);
	assert_double_eq(s->value, 27);
	assert_string_equal(s->help, "Value of /sys/class/watchdog/<watchdog>/timeleft");
	assert_double_eq(tp_value(&f.t, "node_watchdog_timeout_seconds", "name", "watchdog0"), 30);
	tp_absent(&f.t, "node_watchdog_pretimeout_seconds");
	tp_absent(&f.t, "node_watchdog_access_cs0");
	s = tp_find(&f.t, "node_watchdog_info", "name", "watchdog0", "options", "0x8180",
		    "identity", "iTCO_wdt", "state", "inactive", "status", "0x0",
		    "pretimeout_governor", "", NULL);
	assert_non_null(s);
	assert_int_equal(s->nlabels, 6);
	assert_string_equal(s->help, "Info of /sys/class/watchdog/<watchdog>");
	s = tp_find(&f.t, "node_watchdog_info", "name", "watchdog1", "options", "", "identity", "",
		    "state", "", "status", "", "pretimeout_governor", "", NULL);
	assert_non_null(s);
	/* re-read every round */
	put("watchdog0", "timeleft", "26\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_double_eq(tp_value(&f.t, "node_watchdog_timeleft_seconds", "name", "watchdog0"), 26);
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

/* upstream fails every device; here the other one is still reported */
static void a_bad_number_leaves_its_device_out(void **state)
{
	(void)state;
	put("watchdog1", "timeout", "thirty\n");
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "watchdog");
	assert_int_equal(tfx_round(&f), -EINVAL);
	assert_non_null(tp_find(&f.t, "node_watchdog_info", "name", "watchdog0", NULL));
	tp_absent(&f.t, "node_watchdog_info", "name", "watchdog1");
	assert_int_equal(f.st->errors, 1);
	assert_int_equal(tp_nwarn, 1);
	tfx_stop(&f);
}

static void no_class_is_no_data_an_empty_one_success(void **state)
{
	(void)state;
	tp_dir_teardown();
	tp_dir_setup(tp_warn_hook);
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "watchdog");
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	tfx_stop(&f);
	tp_mkdirs("class/watchdog");
	tfx_start(&f, "watchdog");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(attributes_present_are_reported, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_bad_number_leaves_its_device_out, setup, teardown),
	    cmocka_unit_test_setup_teardown(no_class_is_no_data_an_empty_one_success, setup,
					    teardown),
	};
	return cmocka_run_group_tests_name("proc watchdog", tests, NULL, NULL);
}
