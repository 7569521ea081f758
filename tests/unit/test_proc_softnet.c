/* /proc/net/softnet_stat: node_softnet_*_total{cpu}, 1.5.0's three. */
#include "test_proc.h"

static int parse(struct tp *t, const char *text)
{
	tp_begin(t);
	t->n = sb_proc_parse_softnet(text, &t->b, &t->e);
	tp_end(t);
	return t->n;
}

static void three_counters_per_line(void **state)
{
	(void)state;
	struct tp t;
	char *text = tp_fixture("synthetic/proc/net/softnet_stat");
	parse(&t, text);
	free(text);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 6);
	assert_double_eq(tp_value(&t, "node_softnet_processed_total", "cpu", "0"), 0xff01);
	assert_double_eq(tp_value(&t, "node_softnet_times_squeezed_total", "cpu", "0"), 1);
	assert_double_eq(tp_value(&t, "node_softnet_processed_total", "cpu", "1"), 4294967295.0);
	assert_double_eq(tp_value(&t, "node_softnet_dropped_total", "cpu", "1"), 42);
	assert_double_eq(tp_value(&t, "node_softnet_times_squeezed_total", "cpu", "1"), 10);
	const struct sb_sample *s = tp_find(&t, "node_softnet_dropped_total", NULL);
	assert_int_equal(s->type, SB_COUNTER);
	assert_string_equal(s->help, "Number of dropped packets");
	assert_string_equal(tp_find(&t, "node_softnet_times_squeezed_total", NULL)->help,
			    "Number of times processing packets ran out of quota");
	tp_free(&t);
}

/* 2.6.23's nine columns still parse; a last line without its newline
 * counts when its three counters are whole (node_exporter's fixture). */
static void old_kernels_and_a_last_line_without_newline(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "00000001 00000002 00000003 0 0 0 0 0 0\n"
		  "0000000a 0000000b 0000000c 0 0 0 0 0 0 0 0 0 0");
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 6);
	assert_double_eq(tp_value(&t, "node_softnet_dropped_total", "cpu", "1"), 0xb);
	tp_free(&t);
}

/* A bad line is skipped and reported; the lines after keep their
 * position-based cpu label. */
static void malformed_lines_are_skipped(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "1 2 3 0 0 0 0 0\n",	   /* 8 columns */
	    "1 2 zz 0 0 0 0 0 0\n",	   /* not hex */
	    "100000000 2 3 0 0 0 0 0 0\n", /* over 32 bits */
	    "1 2 3 0 0 0 0 0 0 q\n",	   /* garbage after */
	    "1 2 3\n",			   /* cut */
	    "\n",			   /* empty line */
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		char text[256];
		snprintf(text, sizeof(text), "%s1 2 3 0 0 0 0 0 0\n", bad[i]);
		struct tp t;
		parse(&t, text);
		if (t.n != 3 || t.e.nbad != 1 || t.e.line != 1)
			fail_msg("case %zu: %d samples, %u bad", i, t.n, t.e.nbad);
		assert_double_eq(tp_value(&t, "node_softnet_processed_total", "cpu", "1"), 1);
		tp_free(&t);
	}
	struct tp t;
	parse(&t, "");
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
	parse(&t, "1 2 3 0 0 0 0 0"); /* cut inside the ninth column */
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(three_counters_per_line),
	    cmocka_unit_test(old_kernels_and_a_last_line_without_newline),
	    cmocka_unit_test(malformed_lines_are_skipped),
	};
	return cmocka_run_group_tests_name("proc /proc/net/softnet_stat", tests, NULL, NULL);
}
