/* /proc/loadavg: node_load1, node_load5, node_load15. */
#include "test_proc.h"

static int parse(struct tp *t, const char *text)
{
	tp_begin(t);
	t->n = sb_proc_parse_loadavg(text, &t->b, &t->e);
	tp_end(t);
	return t->n;
}

static void three_load_averages(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "0.21 0.37 0.39 1/719 19737\n");
	assert_int_equal(t.e.nbad, 0);
	assert_double_eq(tp_value(&t, "node_load1"), 0.21);
	assert_double_eq(tp_value(&t, "node_load5"), 0.37);
	assert_double_eq(tp_value(&t, "node_load15"), 0.39);
	assert_string_equal(tp_find(&t, "node_load5", NULL)->help, "5m load average.");
	tp_free(&t);
}

static void truncated_file_reports_nothing_half_read(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "0.21 0.3");
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
	parse(&t, "0.21 0.37 0.3"); /* "0.39" cut: not read as 0.3 */
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
}

static void garbage_and_empty_are_reported(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "load: high\n");
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
	parse(&t, "");
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
	parse(&t, "0.1 0.2x 0.3 1/2 3\n");
	assert_int_equal(t.n, 0);
	tp_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(three_load_averages),
	    cmocka_unit_test(truncated_file_reports_nothing_half_read),
	    cmocka_unit_test(garbage_and_empty_are_reported),
	};
	return cmocka_run_group_tests_name("proc /proc/loadavg", tests, NULL, NULL);
}
