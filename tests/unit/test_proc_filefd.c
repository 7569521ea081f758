/* /proc/sys/fs/file-nr: node_filefd_allocated and node_filefd_maximum. */
#include "test_proc.h"

static int parse(struct tp *t, const char *text)
{
	tp_begin(t);
	t->n = sb_proc_parse_filenr(text, &t->b, &t->e);
	tp_end(t);
	return t->n;
}

static void allocated_and_maximum(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "1024\t0\t1631329\n");
	assert_int_equal(t.e.nbad, 0);
	assert_double_eq(tp_value(&t, "node_filefd_allocated"), 1024);
	assert_double_eq(tp_value(&t, "node_filefd_maximum"), 1631329);
	assert_int_equal(t.n, 2);
	tp_free(&t);
}

static void short_or_garbled_file_is_reported(void **state)
{
	(void)state;
	static const char *const bad[] = {"", "1024\t0\n", "1024\t0\tmany\n", "1\t2\t3\t4\n",
					  "-1\t0\t5\n"};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		struct tp t;
		parse(&t, bad[i]);
		assert_int_equal(t.n, 0);
		assert_int_equal(t.e.nbad, 1);
		tp_free(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(allocated_and_maximum),
	    cmocka_unit_test(short_or_garbled_file_is_reported),
	};
	return cmocka_run_group_tests_name("proc /proc/sys/fs/file-nr", tests, NULL, NULL);
}
