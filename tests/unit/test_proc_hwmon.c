/* node_exporter's hwmon collector: names, file names, Go floats, and
 * chips through the collector table. */
#include <math.h>
#include <sys/stat.h>

#include "test_proc_fx.h"

#define H0 "devices/platform/coretemp.0/hwmon/hwmon0"
#define H1 "devices/virtual/hwmon/hwmon1"

static int setup(void **state)
{
	(void)state;
	if (tp_dir_setup(tp_warn_hook))
		return -1;
	tp_mkdirs(H0);
	tp_mkdirs(H1);
	tp_mkdirs("class/hwmon");
	tp_puts(H0 "/name", "coretemp\n");
	tp_puts(H0 "/temp1_input", "45000\n");
	tp_puts(H0 "/temp1_label", " Package id 0\n");
	tp_puts(H0 "/temp1_crit_alarm", "0\n");
	tp_puts(H0 "/temp2_input", "43000\n");
	tp_puts("devices/platform/coretemp.0/temp2_input", "44000\n"); /* the device's wins */
	tp_link("../../../coretemp.0", H0 "/device");
	tp_puts(H1 "/fan1_input", "1098\n");
	tp_puts(H1 "/fan1_pulses", "2\n");
	tp_puts(H1 "/fan1_safe", "\n");	     /* not a number: left out */
	tp_puts(H1 "/in0_input", " 5\n");    /* ParseFloat takes no blanks */
	tp_puts(H1 "/in1_input", "1_024\n"); /* ... but '_' between digits */
	tp_puts(H1 "/humidity1_input", "40000\n");
	tp_puts(H1 "/power1_average", "123456\n");
	tp_puts(H1 "/beep_enable", "1\n");
	tp_puts(H1 "/fan_input", "3\n"); /* type "fan_input": no sensor */
	tp_link("../../" H0, "class/hwmon/hwmon0");
	tp_link("../../" H1, "class/hwmon/hwmon1");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static void names_and_numbers(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(sb_proc_hwmon_clean("__Core 0/A:b\n", 13, out, sizeof(out)), 10);
	assert_string_equal(out, "core_0_a:b");
	assert_int_equal(sb_proc_hwmon_clean("___", 3, out, sizeof(out)), 0);

	const char *type, *prop;
	char sensor[48];
	assert_true(sb_proc_hwmon_explode("temp01_crit_alarm", &type, sensor, 48, &prop));
	assert_string_equal(type, "temp");
	assert_string_equal(sensor, "temp1");
	assert_string_equal(prop, "crit_alarm");
	assert_true(sb_proc_hwmon_explode("beep_enable", &type, sensor, 48, &prop));
	assert_string_equal(sensor, "beep_enable0");
	assert_string_equal(prop, "");
	assert_true(sb_proc_hwmon_explode("pwm1", &type, sensor, 48, &prop));
	assert_string_equal(prop, "");
	static const char *const none[] = {"name",   "fan_input", "temp1_",
					   "in0x",   "1temp",	  "foo1_input",
					   "temp_1", "uevent",	  "temp99999999999999999999_input"};
	for (size_t i = 0; i < SB_ARRAY_SIZE(none); i++)
		assert_false(sb_proc_hwmon_explode(none[i], &type, sensor, 48, &prop));

	static const struct {
		const char *s;
		double v;
	} good[] = {{"45000", 45000}, {"-1.5", -1.5},	      {"+1", 1},
		    {".5", 0.5},      {"1e3", 1000},	      {"1_0", 10},
		    {"0x1p3", 8},     {"Infinity", INFINITY}, {"-inf", -INFINITY}};
	for (size_t i = 0; i < SB_ARRAY_SIZE(good); i++) {
		double v = 42;
		assert_true(sb_proc_go_float(good[i].s, strlen(good[i].s), &v));
		assert_true(v == good[i].v);
	}
	double v;
	assert_true(sb_proc_go_float("NaN", 3, &v) && isnan(v));
	static const char *const bad[] = {"",	   " 5",  "5 ",	  "0x10",  "1__0", "_1",
					  "1_",	   "1e",  "e5",	  "1.2.3", "+nan", "infin",
					  "1e400", "abc", "1_.5", "0x",	   "-"};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++)
		assert_false(sb_proc_go_float(bad[i], strlen(bad[i]), &v));
}

static void chips_give_node_exporters_series(void **state)
{
	(void)state;
	struct tfx f;
	tfx_start(&f, "hwmon");
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(tp_nwarn, 0);
	const struct sb_sample *s = tp_find(&f.t, "node_hwmon_chip_names", "chip",
					    "platform_coretemp_0", "chip_name", "coretemp", NULL);
	assert_non_null(s);
	assert_string_equal(s->help, "Annotation metric for human-readable chip names");
	s = tp_find(&f.t, "node_hwmon_temp_celsius", "chip", "platform_coretemp_0", "sensor",
		    "temp1", NULL);
	assert_double_eq(s->value, 45);
	assert_string_equal(s->help, "Hardware monitor for temperature (input)");
	assert_double_eq(tp_value(&f.t, "node_hwmon_temp_celsius", "sensor", "temp2"), 44);
	/* the label as the driver wrote it, only newlines trimmed */
	assert_non_null(tp_find(&f.t, "node_hwmon_sensor_label", "sensor", "temp1", "label",
				" Package id 0", NULL));
	s = tp_find(&f.t, "node_hwmon_temp_crit_alarm_celsius", "sensor", "temp1", NULL);
	assert_double_eq(s->value, 0);
	/* no device, no name: the directory's name */
	s = tp_find(&f.t, "node_hwmon_fan_rpm", "chip", "hwmon1", "sensor", "fan1", NULL);
	assert_double_eq(s->value, 1098);
	assert_string_equal(s->help, "Hardware monitor for fan revolutions per minute (input)");
	s = tp_find(&f.t, "node_hwmon_fan_pulses", "sensor", "fan1", NULL);
	assert_string_equal(s->help, "Hardware monitor fan element pulses");
	tp_absent(&f.t, "node_hwmon_fan_safe");
	tp_absent(&f.t, "node_hwmon_in_volts", "sensor", "in0");
	assert_double_eq(tp_value(&f.t, "node_hwmon_in_volts", "sensor", "in1"), 1.024);
	assert_double_eq(tp_value(&f.t, "node_hwmon_humidity", "sensor", "humidity1"), 0.04);
	assert_double_eq(tp_value(&f.t, "node_hwmon_power_average_watt", "sensor", "power1"),
			 0.123456);
	s = tp_find(&f.t, "node_hwmon_beep_enabled", "sensor", "beep_enable0", NULL);
	assert_double_eq(s->value, 1);
	assert_int_equal(tp_count(&f.t, "node_hwmon_"), 11);
	/* values are read again every round */
	tp_puts(H0 "/temp1_input", "50000\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_double_eq(tp_value(&f.t, "node_hwmon_temp_celsius", "sensor", "temp1"), 50);
	tfx_stop(&f);
	tp_puts(H0 "/temp1_input", "45000\n");
}

/* A FIFO where a sensor file should be is never opened. */
static void only_regular_files_are_read(void **state)
{
	(void)state;
	char path[512];
	snprintf(path, sizeof(path), "%s/" H1 "/temp9_input", tp_dir);
	assert_int_equal(mkfifo(path, 0644), 0);
	struct tfx f;
	tfx_start(&f, "hwmon");
	assert_int_equal(tfx_round(&f), 0);
	tp_absent(&f.t, "node_hwmon_temp_celsius", "sensor", "temp9");
	tfx_stop(&f);
	unlink(path);
}

/* No class/hwmon: node_exporter's ErrNoData (success 0, silent). */
static void no_hwmon_class_is_no_data(void **state)
{
	(void)state;
	struct tfx f;
	memset(&f, 0, sizeof(f));
	char *names[1] = {"hwmon"};
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
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(tp_nwarn, 0);
	assert_int_equal(f.st->errors, 0);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(names_and_numbers),
	    cmocka_unit_test(chips_give_node_exporters_series),
	    cmocka_unit_test(only_regular_files_are_read),
	    cmocka_unit_test(no_hwmon_class_is_no_data),
	};
	return cmocka_run_group_tests_name("proc hwmon", tests, setup, teardown);
}
