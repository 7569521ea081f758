/* node_exporter's entropy collector: two one-number files. */
#include "test_proc_fx.h"

static int setup(void **state)
{
	(void)state;
	if (tp_dir_setup(tp_warn_hook))
		return -1;
	tp_mkdirs("sys/kernel/random");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static void both_files_give_gauges(void **state)
{
	(void)state;
	tp_puts("sys/kernel/random/entropy_avail", "3254\n");
	tp_puts("sys/kernel/random/poolsize", "4096\n");
	struct tfx f;
	tfx_start(&f, "entropy");
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 2);
	const struct sb_sample *s = tp_find(&f.t, "node_entropy_available_bits", NULL);
	assert_double_eq(s->value, 3254);
	assert_int_equal(s->type, SB_GAUGE);
	assert_string_equal(s->help, "Bits of available entropy.");
	s = tp_find(&f.t, "node_entropy_pool_size_bits", NULL);
	assert_double_eq(s->value, 4096);
	assert_string_equal(s->help, "Bits of entropy pool.");
	/* re-read every round */
	tp_puts("sys/kernel/random/entropy_avail", "256\n");
	tfx_round(&f);
	assert_double_eq(tp_value(&f.t, "node_entropy_available_bits"), 256);
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

/* Every kernel has both: one missing is an error, the other still comes
 * out; garbage and a number cut short are errors too. */
static void missing_or_malformed_is_an_error(void **state)
{
	(void)state;
	static const char *const bad[] = {"", "12x\n", "-1\n", "18446744073709551616\n", "1 2\n"};
	tp_puts("sys/kernel/random/poolsize", "4096\n");
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		tp_puts("sys/kernel/random/entropy_avail", bad[i]);
		struct tfx f;
		tfx_start(&f, "entropy");
		tp_nwarn = 0;
		assert_int_equal(tfx_round(&f), -EINVAL);
		assert_int_equal(f.t.n, 1);
		tp_absent(&f.t, "node_entropy_available_bits");
		assert_int_equal(f.st->errors, 1);
		assert_int_equal(tp_nwarn, 1);
		tfx_stop(&f);
	}
	tp_rm("sys/kernel/random/entropy_avail");
	struct tfx f;
	tfx_start(&f, "entropy");
	assert_int_equal(tfx_round(&f), -ENOENT);
	assert_int_equal(f.t.n, 1);
	assert_double_eq(tp_value(&f.t, "node_entropy_pool_size_bits"), 4096);
	assert_int_equal(f.st->errors, 1);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(both_files_give_gauges),
	    cmocka_unit_test(missing_or_malformed_is_an_error),
	};
	return cmocka_run_group_tests_name("proc entropy", tests, setup, teardown);
}
