/* /proc/schedstat: node_schedstat_*{cpu} from the cpuN lines. */
#include "test_proc_fx.h"

static int parse(struct tp *t, const char *text)
{
	tp_begin(t);
	t->n = sb_proc_parse_schedstat(text, &t->b, &t->e);
	tp_end(t);
	return t->n;
}

static void cpu_lines_give_seconds_and_timeslices(void **state)
{
	(void)state;
	struct tp t;
	char *text = tp_fixture("synthetic/proc/schedstat");
	parse(&t, text);
	free(text);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 6);
	assert_double_eq(tp_value(&t, "node_schedstat_running_seconds_total", "cpu", "0"), 1.5);
	assert_double_eq(tp_value(&t, "node_schedstat_waiting_seconds_total", "cpu", "0"), 0.25);
	assert_double_eq(tp_value(&t, "node_schedstat_timeslices_total", "cpu", "0"), 4242);
	assert_double_eq(tp_value(&t, "node_schedstat_running_seconds_total", "cpu", "1"),
			 18446744073709551615.0 / 1e9);
	assert_double_eq(tp_value(&t, "node_schedstat_waiting_seconds_total", "cpu", "1"), 1e-9);
	const struct sb_sample *s = tp_find(&t, "node_schedstat_waiting_seconds_total", NULL);
	assert_int_equal(s->type, SB_COUNTER);
	assert_string_equal(s->help, "Number of seconds spent by processing waiting for this CPU.");
	assert_string_equal(tp_find(&t, "node_schedstat_running_seconds_total", NULL)->help,
			    "Number of seconds CPU spent running a process.");
	assert_string_equal(tp_find(&t, "node_schedstat_timeslices_total", NULL)->help,
			    "Number of timeslices executed by CPU.");
	tp_free(&t);
}

static void bad_cpu_lines_are_skipped(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "cpu1 0 0 0 0 0 0 1 2\n",	  /* 8 numbers */
	    "cpu1 0 0 0 0 0 0 1 2 3 4\n", /* 10 */
	    "cpu1 0 0 0 0 0 0 1 x 3\n",	  "cpux 0 0 0 0 0 0 1 2 3\n",
	    "cpu1 0 0 0 0 0 0 1 2 3", /* cut: 3 may be 30 */
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		char text[256];
		snprintf(text, sizeof(text), "version 15\ncpu0 0 0 0 0 0 0 1 2 3\n%s", bad[i]);
		struct tp t;
		parse(&t, text);
		/* "cpux" is not a cpu line at all */
		unsigned want_bad = i == 3 ? 0 : 1;
		if (t.n != 3 || t.e.nbad != want_bad)
			fail_msg("case %zu: %d samples, %u bad", i, t.n, t.e.nbad);
		tp_free(&t);
	}
	struct tp t;
	parse(&t, "");
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 0);
	tp_free(&t);
}

static int setup(void **state)
{
	(void)state;
	return tp_dir_setup(tp_warn_hook);
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

/* Without CONFIG_SCHEDSTATS: nothing, silently, not looked for every round. */
static void absent_is_silent(void **state)
{
	(void)state;
	struct tfx f;
	tfx_start(&f, "schedstat");
	tp_nwarn = 0;
	for (int i = 0; i < 3; i++) /* no data: success 0, as node_exporter */
		assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(f.st->errors, 0);
	assert_int_equal(tp_nwarn, 0);
	assert_int_equal(f.st->coll[0].f[0]->absent_round, 1);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cpu_lines_give_seconds_and_timeslices),
	    cmocka_unit_test(bad_cpu_lines_are_skipped),
	    cmocka_unit_test(absent_is_silent),
	};
	return cmocka_run_group_tests_name("proc /proc/schedstat", tests, setup, teardown);
}
