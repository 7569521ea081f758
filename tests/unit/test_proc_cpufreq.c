/* node_exporter's cpufreq collector: per-CPU kHz files → Hz gauges. */
#include "test_proc_fx.h"

static int setup(void **state)
{
	(void)state;
	if (tp_dir_setup(tp_warn_hook))
		return -1;
	tp_mkdirs("devices/system/cpu/cpu0/cpufreq");
	tp_mkdirs("devices/system/cpu/cpu1/topology"); /* no cpufreq */
	tp_puts("devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "2100000\n");
	tp_puts("devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "1999999\n");
	tp_puts("devices/system/cpu/cpu0/cpufreq/scaling_min_freq", "800000\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static void files_present_give_hertz(void **state)
{
	(void)state;
	struct tfx f;
	tfx_start(&f, "cpufreq");
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 3);
	const struct sb_sample *s = tp_find(&f.t, "node_cpu_frequency_max_hertz", "cpu", "0", NULL);
	assert_non_null(s);
	assert_double_eq(s->value, 2100000000.0);
	assert_int_equal(s->type, SB_GAUGE);
	assert_string_equal(s->help, "Maximum cpu thread frequency in hertz.");
	s = tp_find(&f.t, "node_cpu_scaling_frequency_hertz", "cpu", "0", NULL);
	assert_double_eq(s->value, 1999999000.0);
	assert_string_equal(s->help, "Current scaled CPU thread frequency in hertz.");
	assert_double_eq(tp_value(&f.t, "node_cpu_scaling_frequency_min_hertz", "cpu", "0"),
			 800000000.0);
	tp_absent(&f.t, "node_cpu_frequency_hertz"); /* no cpuinfo_cur_freq */
	assert_int_equal(tp_nwarn, 0);
	assert_int_equal(f.st->errors, 0);
	/* values are read again every round */
	tp_puts("devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "400000\n");
	tfx_round(&f);
	assert_double_eq(tp_value(&f.t, "node_cpu_scaling_frequency_hertz", "cpu", "0"),
			 400000000.0);
	tfx_stop(&f);
}

static void a_garbled_file_is_reported_and_the_others_kept(void **state)
{
	(void)state;
	tp_puts("devices/system/cpu/cpu0/cpufreq/scaling_min_freq", "<unsupported>\n");
	struct tfx f;
	tfx_start(&f, "cpufreq");
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), -EINVAL);
	assert_int_equal(f.t.n, 2);
	assert_int_equal(f.st->errors, 1);
	assert_int_equal(tp_nwarn, 1);
	tfx_stop(&f);
	tp_puts("devices/system/cpu/cpu0/cpufreq/scaling_min_freq", "800000\n");
}

/* A CPU brought online later is found at the next listing. */
static void cpus_are_listed_again(void **state)
{
	(void)state;
	struct tfx f;
	tfx_start(&f, "cpufreq");
	tfx_round(&f);
	assert_int_equal(f.t.n, 3);
	tp_mkdirs("devices/system/cpu/cpu1/cpufreq");
	tp_puts("devices/system/cpu/cpu1/cpufreq/scaling_max_freq", "3700000\n");
	int i;
	for (i = 0;
	     i < 100 && !tp_find(&f.t, "node_cpu_scaling_frequency_max_hertz", "cpu", "1", NULL);
	     i++)
		tfx_round(&f);
	assert_int_equal(i, 60); /* round 61: 60 rounds after the first listing */
	assert_int_equal(f.t.n, 4);
	tfx_stop(&f);
}

/* No cpufreq at all (a VM): nothing, silently. */
static void no_cpufreq_is_silent(void **state)
{
	(void)state;
	struct tfx f;
	memset(&f, 0, sizeof(f));
	char *names[1] = {"cpufreq"};
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
	assert_int_equal(f.st->errors, 0);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(files_present_give_hertz),
	    cmocka_unit_test(a_garbled_file_is_reported_and_the_others_kept),
	    cmocka_unit_test(cpus_are_listed_again),
	    cmocka_unit_test(no_cpufreq_is_silent),
	};
	return cmocka_run_group_tests_name("proc cpufreq", tests, setup, teardown);
}
