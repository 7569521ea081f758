/* /proc/stat: node_cpu_seconds_total, node_cpu_guest_seconds_total and the
 * stat collector's series. */
#include "test_proc.h"

static const char good[] =
    "cpu  2255 34 2290 22625563 6290 127 456 0 0 0\n"
    "cpu0 1132 34 1441 11311718 3675 127 438 7 11 13\n"
    "cpu1 1123 0 849 11313845 2614 0 18 0 0 0\n"
    "intr 114930548 113199788 3 0 5 263 0 4 [... more]\n"
    "ctxt 1990473\n"
    "btime 1062191376\n"
    "processes 2915\n"
    "procs_running 1\n"
    "procs_blocked 0\n"
    "softirq 5057579 250191 1481983 1647 211099 186066 0 1783454 622196 12499 508444\n";

static int stat_parse(struct tp *t, const char *text, struct sb_proc_cpus *cpus, unsigned what,
		      struct sb_proc_stat_info *info)
{
	tp_begin(t);
	t->n = sb_proc_parse_stat(text, &t->b, &tp_env, cpus, what, info, &t->e);
	tp_end(t);
	return t->n;
}

#define BOTH (SB_PROC_STAT_CPU | SB_PROC_STAT_SYS)

static void cpu_modes_are_ticks_over_user_hz(void **state)
{
	(void)state;
	struct tp t;
	struct sb_proc_cpus cpus = {0};
	struct sb_proc_stat_info info;
	stat_parse(&t, good, &cpus, BOTH, &info);
	assert_int_equal(t.e.nbad, 0);
	assert_double_eq(tp_value(&t, "node_cpu_seconds_total", "cpu", "0", "mode", "user"), 11.32);
	assert_double_eq(tp_value(&t, "node_cpu_seconds_total", "cpu", "0", "mode", "idle"),
			 113117.18);
	assert_double_eq(tp_value(&t, "node_cpu_seconds_total", "cpu", "0", "mode", "steal"), 0.07);
	assert_double_eq(tp_value(&t, "node_cpu_guest_seconds_total", "cpu", "0", "mode", "user"),
			 0.11);
	assert_double_eq(tp_value(&t, "node_cpu_guest_seconds_total", "cpu", "0", "mode", "nice"),
			 0.13);
	assert_double_eq(tp_value(&t, "node_cpu_seconds_total", "cpu", "1", "mode", "system"),
			 8.49);
	/* 8 modes + 2 guest modes per CPU, no series for the all-CPU line */
	assert_int_equal(tp_count(&t, "node_cpu_"), 20);
	assert_int_equal(info.ncpus, 2);
	tp_free(&t);
	sb_proc_cpus_free(&cpus);
}

static void stat_lines_become_node_series(void **state)
{
	(void)state;
	struct tp t;
	struct sb_proc_stat_info info;
	stat_parse(&t, good, NULL, SB_PROC_STAT_SYS, &info);
	assert_int_equal(t.e.nbad, 0);
	assert_double_eq(tp_value(&t, "node_intr_total"), 114930548);
	assert_double_eq(tp_value(&t, "node_context_switches_total"), 1990473);
	assert_double_eq(tp_value(&t, "node_boot_time_seconds"), 1062191376);
	assert_double_eq(tp_value(&t, "node_forks_total"), 2915);
	assert_double_eq(tp_value(&t, "node_procs_running"), 1);
	assert_double_eq(tp_value(&t, "node_procs_blocked"), 0);
	assert_int_equal(t.n, 6);
	assert_true(info.have_btime);
	assert_double_eq(info.btime, 1062191376);
	const struct sb_sample *s = tp_find(&t, "node_context_switches_total", NULL);
	assert_int_equal(s->type, SB_COUNTER);
	assert_string_equal(s->help, "Total number of context switches.");
	assert_int_equal(tp_find(&t, "node_procs_running", NULL)->type, SB_GAUGE);
	tp_free(&t);
}

static void cpu_counters_never_go_backwards(void **state)
{
	(void)state;
	struct tp t;
	struct sb_proc_cpus cpus = {0};
	struct sb_proc_stat_info info;
	stat_parse(&t, "cpu0 500 0 0 100000 0 0 0 0 0 0\n", &cpus, SB_PROC_STAT_CPU, &info);
	tp_free(&t);
	/* user drops (a kernel accounting wobble): the old value is held */
	stat_parse(&t, "cpu0 400 0 0 100100 0 0 0 0 0 0\n", &cpus, SB_PROC_STAT_CPU, &info);
	assert_double_eq(tp_value(&t, "node_cpu_seconds_total", "cpu", "0", "mode", "user"), 5);
	assert_double_eq(tp_value(&t, "node_cpu_seconds_total", "cpu", "0", "mode", "idle"), 1001);
	assert_int_equal(t.e.nbad, 0);
	tp_free(&t);
	sb_proc_cpus_free(&cpus);
}

static void idle_dropping_3s_means_hotplug_and_resets(void **state)
{
	(void)state;
	struct tp t;
	struct sb_proc_cpus cpus = {0};
	struct sb_proc_stat_info info;
	stat_parse(&t, "cpu0 500 0 0 100000 0 0 0 0 0 0\n", &cpus, SB_PROC_STAT_CPU, &info);
	tp_free(&t);
	stat_parse(&t, "cpu0 10 0 0 200 0 0 0 0 0 0\n", &cpus, SB_PROC_STAT_CPU, &info);
	assert_double_eq(tp_value(&t, "node_cpu_seconds_total", "cpu", "0", "mode", "user"), 0.1);
	assert_double_eq(tp_value(&t, "node_cpu_seconds_total", "cpu", "0", "mode", "idle"), 2);
	tp_free(&t);
	sb_proc_cpus_free(&cpus);
}

static void truncated_cpu_line_is_skipped_not_zeroed(void **state)
{
	(void)state;
	struct tp t;
	struct sb_proc_cpus cpus = {0};
	struct sb_proc_stat_info info;
	stat_parse(&t,
		   "cpu0 1 2 3 4 5 6 7 8 9 10\n"
		   "cpu1 1 2 3 4\n"
		   "cpu2 1 2 3 4 5 6 7 8 9 10\n",
		   &cpus, SB_PROC_STAT_CPU, &info);
	assert_int_equal(t.e.nbad, 1);
	assert_int_equal(t.e.line, 2);
	assert_non_null(strstr(t.e.why, "cpu1"));
	tp_absent(&t, "node_cpu_seconds_total", "cpu", "1");
	assert_double_eq(tp_value(&t, "node_cpu_seconds_total", "cpu", "2", "mode", "nice"), 0.02);
	assert_int_equal(tp_count(&t, "node_cpu_"), 20);
	tp_free(&t);
	sb_proc_cpus_free(&cpus);
}

static void garbage_value_and_missing_line_are_reported(void **state)
{
	(void)state;
	struct tp t;
	struct sb_proc_stat_info info;
	stat_parse(&t,
		   "ctxt 12x4\n"
		   "btime 1062191376\n"
		   "processes 2915\n"
		   "intr 5 1 2 3\n"
		   "procs_running 1\n",
		   NULL, SB_PROC_STAT_SYS, &info);
	/* ctxt garbled, procs_blocked missing: both reported, the rest out */
	assert_int_equal(t.e.nbad, 2);
	assert_int_equal(t.e.line, 1);
	tp_absent(&t, "node_context_switches_total");
	tp_absent(&t, "node_procs_blocked");
	assert_int_equal(t.n, 4);
	assert_double_eq(tp_value(&t, "node_intr_total"), 5);
	tp_free(&t);
}

static void negative_and_overflowing_numbers_are_rejected(void **state)
{
	(void)state;
	struct tp t;
	struct sb_proc_stat_info info;
	stat_parse(&t,
		   "ctxt -5\nbtime 1\nprocesses 99999999999999999999999\nintr 1\n"
		   "procs_running 1\nprocs_blocked 0\n",
		   NULL, SB_PROC_STAT_SYS, &info);
	tp_absent(&t, "node_context_switches_total");
	tp_absent(&t, "node_forks_total");
	assert_int_equal(t.n, 4);
	tp_free(&t);
}

static void empty_file_is_reported(void **state)
{
	(void)state;
	struct tp t;
	struct sb_proc_cpus cpus = {0};
	struct sb_proc_stat_info info;
	stat_parse(&t, "", &cpus, BOTH, &info);
	assert_int_equal(t.n, 0);
	assert_true(t.e.nbad > 0);
	assert_false(info.have_btime);
	tp_free(&t);
	sb_proc_cpus_free(&cpus);
}

static void cpu_listed_twice_is_reported_once(void **state)
{
	(void)state;
	struct tp t;
	struct sb_proc_cpus cpus = {0};
	struct sb_proc_stat_info info;
	stat_parse(&t, "cpu0 1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8 9 10\n", &cpus,
		   SB_PROC_STAT_CPU, &info);
	assert_int_equal(t.e.nbad, 1);
	assert_int_equal(tp_count(&t, "node_cpu_"), 10);
	tp_free(&t);
	sb_proc_cpus_free(&cpus);
}

static void many_cpus_and_a_long_intr_line(void **state)
{
	(void)state;
	char *text = tp_fixture("edge/stat-256cpu");
	struct tp t;
	struct sb_proc_cpus cpus = {0};
	struct sb_proc_stat_info info;
	stat_parse(&t, text, &cpus, BOTH, &info);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(info.ncpus, 256);
	assert_int_equal(tp_count(&t, "node_cpu_"), 2560);
	assert_double_eq(tp_value(&t, "node_cpu_seconds_total", "cpu", "255", "mode", "user"),
			 2.55);
	assert_double_eq(tp_value(&t, "node_intr_total"), 123456789);
	tp_free(&t);
	sb_proc_cpus_free(&cpus);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cpu_modes_are_ticks_over_user_hz),
	    cmocka_unit_test(stat_lines_become_node_series),
	    cmocka_unit_test(cpu_counters_never_go_backwards),
	    cmocka_unit_test(idle_dropping_3s_means_hotplug_and_resets),
	    cmocka_unit_test(truncated_cpu_line_is_skipped_not_zeroed),
	    cmocka_unit_test(garbage_value_and_missing_line_are_reported),
	    cmocka_unit_test(negative_and_overflowing_numbers_are_rejected),
	    cmocka_unit_test(empty_file_is_reported),
	    cmocka_unit_test(cpu_listed_twice_is_reported_once),
	    cmocka_unit_test(many_cpus_and_a_long_intr_line),
	};
	return cmocka_run_group_tests_name("proc /proc/stat", tests, NULL, NULL);
}
