/* /proc/net/stat/nf_conntrack: node_exporter 1.5.0's node_nf_conntrack_stat_*
 * gauges, summed over the per-CPU lines. */
#include "test_proc_fx.h"

static int parse(struct tp *t, const char *text)
{
	tp_begin(t);
	t->n = sb_proc_parse_conntrack_stat(text, &t->b, &t->e);
	tp_end(t);
	return t->n;
}

#define HDR                                                                                        \
	"entries  clashres found new invalid ignore delete chainlength insert insert_failed drop " \
	"early_drop icmp_error  expect_new expect_create expect_delete search_restart\n"

static void counters_are_summed_over_cpus(void **state)
{
	(void)state;
	struct tp t;
	char *text = tp_fixture("synthetic/proc/net/stat/nf_conntrack");
	parse(&t, text);
	free(text);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 8);
	assert_double_eq(tp_value(&t, "node_nf_conntrack_stat_found"), 0xa + 0x14);
	assert_double_eq(tp_value(&t, "node_nf_conntrack_stat_invalid"), 3 + 4);
	assert_double_eq(tp_value(&t, "node_nf_conntrack_stat_ignore"), 0xffff + 1);
	assert_double_eq(tp_value(&t, "node_nf_conntrack_stat_insert"), 0x10 + 0x20);
	assert_double_eq(tp_value(&t, "node_nf_conntrack_stat_insert_failed"), 1);
	assert_double_eq(tp_value(&t, "node_nf_conntrack_stat_drop"), 2 + 5);
	assert_double_eq(tp_value(&t, "node_nf_conntrack_stat_early_drop"), 3 + 4);
	assert_double_eq(tp_value(&t, "node_nf_conntrack_stat_search_restart"), 0xb + 1);
	const struct sb_sample *s = tp_find(&t, "node_nf_conntrack_stat_found", NULL);
	assert_int_equal(s->type, SB_GAUGE); /* as 1.5.0 has them */
	assert_string_equal(s->help, "Number of searched entries which were successful.");
	tp_free(&t);
}

static void upper_case_hex_and_the_largest_counter(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, HDR "0 0 FFFFFFFF 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
		      "0 0 0000000A 0 0 0 0 0 0 0 0 0 0 0 0 0 ffffffffffffffff\n");
	assert_int_equal(t.e.nbad, 0);
	assert_double_eq(tp_value(&t, "node_nf_conntrack_stat_found"), 4294967295.0 + 10);
	assert_double_eq(tp_value(&t, "node_nf_conntrack_stat_search_restart"),
			 18446744073709551615.0);
	tp_free(&t);
}

static void header_only_has_no_cpus(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, HDR);
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
	parse(&t, "");
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
}

/* One bad CPU line: a sum without that CPU would be a wrong value, so no
 * stat series at all (node_exporter fails the collector there too). */
static void a_malformed_line_withholds_every_sum(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    HDR "0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n",	    /* 16 */
	    HDR "0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", /* 18 */
	    HDR "0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n0 0 g 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
	    HDR "0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n0 0 10000000000000000 0 0 0 0 0 0 0 0 0 0 0 "
		"0 0 0\n",								/* 2^64 */
	    HDR "0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0", /* cut */
	    HDR "0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n0x0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		struct tp t;
		parse(&t, bad[i]);
		if (t.n != 0 || t.e.nbad != 1)
			fail_msg("case %zu: %d samples, %u bad", i, t.n, t.e.nbad);
		assert_int_equal(t.e.line, 3);
		tp_free(&t);
	}
}

static int setup(void **state)
{
	(void)state;
	if (tp_dir_setup(tp_warn_hook))
		return -1;
	tp_mkdirs("sys/net/netfilter");
	tp_mkdirs("net/stat");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

/* Without the nf_conntrack module: no series, no error, no log line, and
 * the files are not looked for every round. */
static void not_loaded_is_silent(void **state)
{
	(void)state;
	struct tfx f;
	tfx_start(&f, "conntrack");
	tp_nwarn = 0;
	for (int i = 0; i < 3; i++) {
		/* no data: node_scrape_collector_success 0, as node_exporter */
		assert_int_equal(tfx_round(&f), -ENODATA);
		assert_int_equal(f.t.n, 0);
	}
	assert_int_equal(f.st->errors, 0);
	assert_int_equal(tp_nwarn, 0);
	assert_int_equal(f.st->coll[0].f[0]->absent_round, 1);
	tfx_stop(&f);
}

/* As node_exporter: the count alone gives entries; the limit too gives
 * both; the statistics need all three. */
static void each_file_adds_its_series(void **state)
{
	(void)state;
	struct tfx f;
	tp_puts("sys/net/netfilter/nf_conntrack_count", "70\n");
	tfx_start(&f, "conntrack");
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 1);
	assert_double_eq(tp_value(&f.t, "node_nf_conntrack_entries"), 70);
	tfx_stop(&f);

	tp_puts("sys/net/netfilter/nf_conntrack_max", "262144\n");
	tp_puts("net/stat/nf_conntrack", HDR "0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
	tfx_start(&f, "conntrack");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 10);
	assert_double_eq(tp_value(&f.t, "node_nf_conntrack_entries_limit"), 262144);
	assert_string_equal(tp_find(&f.t, "node_nf_conntrack_entries_limit", NULL)->help,
			    "Maximum size of connection tracking table.");
	assert_double_eq(tp_value(&f.t, "node_nf_conntrack_stat_found"), 1);
	assert_int_equal(tp_nwarn, 0);

	/* a garbled count: reported, the rest still comes out */
	tp_puts("sys/net/netfilter/nf_conntrack_count", "seventy\n");
	assert_int_equal(tfx_round(&f), -EINVAL);
	assert_int_equal(f.t.n, 9);
	assert_int_equal(f.st->errors, 1);
	assert_int_equal(tp_nwarn, 1);
	tfx_stop(&f);
	tp_rm("sys/net/netfilter/nf_conntrack_count");
	tp_rm("sys/net/netfilter/nf_conntrack_max");
	tp_rm("net/stat/nf_conntrack");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(counters_are_summed_over_cpus),
	    cmocka_unit_test(upper_case_hex_and_the_largest_counter),
	    cmocka_unit_test(header_only_has_no_cpus),
	    cmocka_unit_test(a_malformed_line_withholds_every_sum),
	    cmocka_unit_test(not_loaded_is_silent),
	    cmocka_unit_test(each_file_adds_its_series),
	};
	return cmocka_run_group_tests_name("proc conntrack", tests, setup, teardown);
}
