/* node_exporter's powersupplyclass collector: /sys/class/power_supply. */
#include "test_proc_fx.h"

#define AC "devices/LNXSYSTM:00/ACPI0003:00/power_supply/AC"
#define BAT "devices/LNXSYSTM:00/PNP0C0A:00/power_supply/BAT0"

static int setup(void **state)
{
	(void)state;
	if (tp_dir_setup(tp_warn_hook))
		return -1;
	tp_mkdirs(AC);
	tp_mkdirs(BAT);
	tp_mkdirs("class/power_supply");
	tp_puts(AC "/online", "1\n");
	tp_puts(AC "/type", "Mains\n");
	tp_puts(BAT "/capacity", "81\n");
	tp_puts(BAT "/cycle_count", "0x2a\n");
	tp_puts(BAT "/energy_now", "36580000\n");
	tp_puts(BAT "/voltage_now", "11660000\n");
	tp_puts(BAT "/temp", "296\n");
	tp_puts(BAT "/time_to_empty_now", "26322\n");
	tp_puts(BAT "/status", " Discharging \n");
	tp_puts(BAT "/health", "\n"); /* empty: no label */
	tp_puts(BAT "/model_name", "LNV\xff\xfe-45\n");
	tp_puts(BAT "/type", "Battery\n");
	tp_link("../../" AC, "class/power_supply/AC");
	tp_link("../../" BAT, "class/power_supply/BAT0");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static void utf8_runs_become_one_replacement(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(sb_proc_valid_utf8("a\xff\xfe"
					    "b",
					    4, out),
			 5);
	assert_string_equal(out, "a\xef\xbf\xbd"
				 "b");
	assert_int_equal(sb_proc_valid_utf8("\xc3\xa9", 2, out), 2);	 /* é */
	assert_int_equal(sb_proc_valid_utf8("\xc0\xaf", 2, out), 3);	 /* overlong */
	assert_int_equal(sb_proc_valid_utf8("\xed\xa0\x80", 3, out), 3); /* surrogate */
	assert_int_equal(sb_proc_valid_utf8("x\xe2\x82", 3, out), 4);	 /* cut */
}

static void supplies_give_node_exporters_series(void **state)
{
	(void)state;
	struct tfx f;
	tfx_start(&f, "powersupplyclass");
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(tp_nwarn, 0);
	assert_int_equal(f.t.n, 9); /* AC: online, info; BAT0: six numbers, info */
	const struct sb_sample *s =
	    tp_find(&f.t, "node_power_supply_online", "power_supply", "AC", NULL);
	assert_double_eq(s->value, 1);
	assert_string_equal(s->help, "online value of /sys/class/power_supply/<power_supply>.");
	assert_non_null(
	    tp_find(&f.t, "node_power_supply_info", "power_supply", "AC", "type", "Mains", NULL));
	assert_double_eq(tp_value(&f.t, "node_power_supply_cyclecount", "power_supply", "BAT0"),
			 42);
	assert_double_eq(
	    tp_value(&f.t, "node_power_supply_energy_watthour", "power_supply", "BAT0"), 36.58);
	assert_double_eq(tp_value(&f.t, "node_power_supply_voltage_volt", "power_supply", "BAT0"),
			 11.66);
	assert_double_eq(tp_value(&f.t, "node_power_supply_temp_celsius", "power_supply", "BAT0"),
			 29.6);
	assert_double_eq(
	    tp_value(&f.t, "node_power_supply_time_to_empty_seconds", "power_supply", "BAT0"),
	    26322);
	s = tp_find(&f.t, "node_power_supply_info", "power_supply", "BAT0", "status", "Discharging",
		    "model_name", "LNV\xef\xbf\xbd-45", "type", "Battery", NULL);
	assert_non_null(s);
	assert_string_equal(s->help, "info of /sys/class/power_supply/<power_supply>.");
	tfx_stop(&f);
}

static void a_malformed_number_skips_that_supply(void **state)
{
	(void)state;
	tp_puts(BAT "/capacity", "garbage\n");
	struct tfx f;
	tfx_start(&f, "powersupplyclass");
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), -EINVAL);
	assert_int_equal(tp_nwarn, 1);
	assert_int_equal(f.t.n, 2); /* AC's */
	tp_absent(&f.t, "node_power_supply_info", "power_supply", "BAT0");
	tfx_stop(&f);
	tp_puts(BAT "/capacity", "81\n");
}

static void ignored_supplies_and_no_class(void **state)
{
	(void)state;
	struct tfx f;
	memset(&f, 0, sizeof(f));
	char *names[1] = {"powersupplyclass"};
	f.cfg = (struct proc_cfg){
	    .procfs = tp_dir, .sysfs = tp_dir, .powersupply_ignored_supplies = "^BAT"};
	f.cfg.collectors = (struct sb_strlist){names, 1};
	f.s.cfg = &f.cfg;
	assert_int_equal(sb_sensor_proc.init(&f.s), 0);
	f.st = f.s.state;
	tp_begin(&f.t);
	tp_end(&f.t);
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 2);
	tfx_stop(&f);

	char root[128];
	snprintf(root, sizeof(root), "%s/nonexistent", tp_dir);
	memset(&f, 0, sizeof(f));
	f.cfg = (struct proc_cfg){.procfs = tp_dir, .sysfs = root};
	f.cfg.collectors = (struct sb_strlist){names, 1};
	f.s.cfg = &f.cfg;
	assert_int_equal(sb_sensor_proc.init(&f.s), 0);
	f.st = f.s.state;
	tp_begin(&f.t);
	tp_end(&f.t);
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), -ENODATA); /* ErrNoData: success 0, silent */
	assert_int_equal(f.t.n, 0);
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(utf8_runs_become_one_replacement),
	    cmocka_unit_test(supplies_give_node_exporters_series),
	    cmocka_unit_test(a_malformed_number_skips_that_supply),
	    cmocka_unit_test(ignored_supplies_and_no_class),
	};
	return cmocka_run_group_tests_name("proc powersupplyclass", tests, setup, teardown);
}
