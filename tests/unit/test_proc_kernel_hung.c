/* upstream node_exporter's kernel_hung collector: one counter from
 * /proc/sys/kernel/hung_task_detect_count. */
#include "test_proc_fx.h"

static int setup(void **state)
{
	(void)state;
	if (tp_dir_setup(tp_warn_hook))
		return -1;
	tp_mkdirs("sys/kernel");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static void the_count_is_a_counter(void **state)
{
	(void)state;
	tp_puts("sys/kernel/hung_task_detect_count", "3\n");
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "kernel_hung");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 1);
	const struct sb_sample *s = tp_find(&f.t, "node_kernel_hung_tasks_total", NULL);
	assert_non_null(s);
	assert_int_equal(s->nlabels, 0);
	assert_int_equal(s->type, SB_COUNTER);
	assert_double_eq(s->value, 3);
	assert_string_equal(
	    s->help,
	    "Total number of tasks that have been detected as hung since the system booted.");
	/* re-read every round */
	tp_puts("sys/kernel/hung_task_detect_count", "17\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_double_eq(tp_value(&f.t, "node_kernel_hung_tasks_total"), 17);
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

/* a kernel without the hung task detector: upstream's ErrNoData */
static void no_file_is_no_data_and_silent(void **state)
{
	(void)state;
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "kernel_hung");
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.st->errors, 0);
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

static void garbage_is_one_error_and_no_value(void **state)
{
	(void)state;
	static const char *const bad[] = {"", "x\n", "-1\n", "18446744073709551616\n", "1 2\n"};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		tp_puts("sys/kernel/hung_task_detect_count", bad[i]);
		struct tfx f;
		tp_nwarn = 0;
		tfx_start(&f, "kernel_hung");
		assert_int_equal(tfx_round(&f), -EINVAL);
		assert_int_equal(f.t.n, 0);
		assert_int_equal(f.st->errors, 1);
		assert_int_equal(tp_nwarn, 1);
		tfx_stop(&f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(the_count_is_a_counter, setup, teardown),
	    cmocka_unit_test_setup_teardown(no_file_is_no_data_and_silent, setup, teardown),
	    cmocka_unit_test_setup_teardown(garbage_is_one_error_and_no_value, setup, teardown),
	};
	return cmocka_run_group_tests_name("proc kernel_hung", tests, NULL, NULL);
}
