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
	/* re-read every round, poolsize too on a tree that is not the live /proc */
	tp_puts("sys/kernel/random/entropy_avail", "256\n");
	tp_puts("sys/kernel/random/poolsize", "256\n");
	tfx_round(&f);
	assert_double_eq(tp_value(&f.t, "node_entropy_available_bits"), 256);
	assert_double_eq(tp_value(&f.t, "node_entropy_pool_size_bits"), 256);
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

/* On the live /proc, poolsize (a constant of the kernel) is read in the
 * first round only; entropy_avail every round. */
static void the_live_pool_size_is_read_once(void **state)
{
	(void)state;
	if (access("/proc/sys/kernel/random/poolsize", R_OK)) {
		fprintf(stderr, "SKIP: no live /proc/sys/kernel/random/poolsize here\n");
		skip();
	}
	struct sb_buf live;
	sb_buf_init(&live);
	assert_true(sb_read_file("/proc/sys/kernel/random/poolsize", &live, 64) > 0);
	sb_buf_cstr(&live);
	double want = strtod(live.data, NULL);
	sb_buf_free(&live);
	struct tfx f;
	tfx_start_at(&f, "entropy", "/proc", "/sys");
	const struct sb_proc_coll *c = &f.st->coll[0];
	uint64_t first = 0;
	for (int round = 1; round <= 3; round++) {
		assert_int_equal(tfx_round(&f), 0);
		assert_double_eq(tp_value(&f.t, "node_entropy_pool_size_bits"), want);
		assert_non_null(tp_find(&f.t, "node_entropy_available_bits", NULL));
		if (!first)
			first = f.st->round;
		assert_true(c->f[0]->round == f.st->round); /* entropy_avail */
		assert_true(c->f[1]->round == first);	    /* poolsize */
	}
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(both_files_give_gauges),
	    cmocka_unit_test(missing_or_malformed_is_an_error),
	    cmocka_unit_test(the_live_pool_size_is_read_once),
	};
	return cmocka_run_group_tests_name("proc entropy", tests, setup, teardown);
}
