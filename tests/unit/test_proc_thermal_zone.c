/* node_exporter's thermal_zone collector: /sys/class/thermal zones and
 * cooling devices. */
#include "test_proc_fx.h"

#define Z0 "devices/virtual/thermal/thermal_zone0"
#define Z1 "devices/virtual/thermal/thermal_zone1"
#define C0 "devices/virtual/thermal/cooling_device0"

static int setup(void **state)
{
	(void)state;
	if (tp_dir_setup(tp_warn_hook))
		return -1;
	tp_mkdirs(Z0);
	tp_mkdirs(Z1);
	tp_mkdirs(C0);
	tp_mkdirs("class/thermal");
	tp_puts(Z0 "/type", "acpitz\n");
	tp_puts(Z0 "/policy", "step_wise\n");
	tp_puts(Z0 "/temp", "27800\n");
	tp_puts(Z0 "/mode", "enabled\n");
	tp_puts(Z1 "/type", "x86_pkg_temp\n");
	tp_puts(Z1 "/policy", "step_wise\n");
	tp_puts(Z1 "/temp", "-1250\n");
	tp_puts(Z1 "/passive", "0\n");
	tp_puts(C0 "/type", "intel_powerclamp\n");
	tp_puts(C0 "/max_state", "50\n");
	tp_puts(C0 "/cur_state", "-1\n");
	tp_link("../../" Z0, "class/thermal/thermal_zone0");
	tp_link("../../" Z1, "class/thermal/thermal_zone1");
	tp_link("../../" C0, "class/thermal/cooling_device0");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static void zones_and_cooling_devices(void **state)
{
	(void)state;
	struct tfx f;
	tfx_start(&f, "thermal_zone");
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(tp_nwarn, 0);
	assert_int_equal(f.t.n, 4);
	const struct sb_sample *s =
	    tp_find(&f.t, "node_thermal_zone_temp", "zone", "0", "type", "acpitz", NULL);
	assert_non_null(s);
	assert_double_eq(s->value, 27.8);
	assert_string_equal(s->help, "Zone temperature in Celsius");
	assert_double_eq(tp_value(&f.t, "node_thermal_zone_temp", "zone", "1"), -1.25);
	s = tp_find(&f.t, "node_cooling_device_cur_state", "name", "0", "type", "intel_powerclamp",
		    NULL);
	assert_double_eq(s->value, -1);
	assert_string_equal(s->help, "Current throttle state of the cooling device");
	s = tp_find(&f.t, "node_cooling_device_max_state", "name", "0", NULL);
	assert_double_eq(s->value, 50);
	assert_string_equal(s->help, "Maximum throttle state of the cooling device");
	tp_puts(Z0 "/temp", "30000\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_double_eq(tp_value(&f.t, "node_thermal_zone_temp", "zone", "0"), 30);
	tfx_stop(&f);
	tp_puts(Z0 "/temp", "27800\n");
}

/* ReadIntFromFile is base 10: "010" is 10, "0x10" and "1_0" are errors. */
static void malformed_values_leave_that_item_out(void **state)
{
	(void)state;
	static const char *const bad[] = {"garbage\n", "0x10\n", "1_0\n", "\n",
					  "99999999999999999999\n"};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		tp_puts(Z1 "/temp", bad[i]);
		struct tfx f;
		tfx_start(&f, "thermal_zone");
		tp_nwarn = 0;
		assert_int_equal(tfx_round(&f), -EINVAL);
		assert_int_equal(f.t.n, 3);
		tp_absent(&f.t, "node_thermal_zone_temp", "zone", "1");
		assert_int_equal(tp_nwarn, 1);
		tfx_stop(&f);
	}
	tp_puts(Z1 "/temp", "010\n");
	tp_puts(Z1 "/passive", "-1\n");
	struct tfx f;
	tfx_start(&f, "thermal_zone");
	assert_int_equal(tfx_round(&f), -EINVAL); /* passive is unsigned */
	tp_absent(&f.t, "node_thermal_zone_temp", "zone", "1");
	tp_puts(Z1 "/passive", "0\n");
	tfx_stop(&f);
	tfx_start(&f, "thermal_zone");
	assert_int_equal(tfx_round(&f), 0);
	assert_double_eq(tp_value(&f.t, "node_thermal_zone_temp", "zone", "1"), 0.01);
	tfx_stop(&f);
	tp_puts(Z1 "/temp", "-1250\n");
}

static void a_missing_required_file_is_reported(void **state)
{
	(void)state;
	tp_rm(Z1 "/policy");
	struct tfx f;
	tfx_start(&f, "thermal_zone");
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), -ENOENT);
	assert_int_equal(f.t.n, 3);
	assert_int_equal(tp_nwarn, 1);
	tfx_stop(&f);
	tp_puts(Z1 "/policy", "step_wise\n");
}

/* No class/thermal: no zone, success 1 (node_exporter's glob finds none). */
static void no_thermal_class_is_empty(void **state)
{
	(void)state;
	struct tfx f;
	memset(&f, 0, sizeof(f));
	char *names[1] = {"thermal_zone"};
	char root[128];
	snprintf(root, sizeof(root), "%s/nonexistent", tp_dir);
	f.cfg = (struct proc_cfg){.procfs = tp_dir, .sysfs = root};
	f.cfg.collectors = (struct sb_strlist){names, 1};
	f.s.cfg = &f.cfg;
	assert_int_equal(sb_sensor_proc.init(&f.s), 0);
	f.st = f.s.state;
	tp_begin(&f.t);
	tp_end(&f.t);
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(zones_and_cooling_devices),
	    cmocka_unit_test(malformed_values_leave_that_item_out),
	    cmocka_unit_test(a_missing_required_file_is_reported),
	    cmocka_unit_test(no_thermal_class_is_empty),
	};
	return cmocka_run_group_tests_name("proc thermal_zone", tests, setup, teardown);
}
