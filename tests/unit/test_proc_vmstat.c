/* /proc/vmstat: node_vmstat_* for the fields the filter lets through. */
#include "test_proc.h"

static const char text[] = "nr_free_pages 977769\n"
			   "pgpgin 7344136\n"
			   "pgpgout 1541180581\n"
			   "pswpin 1476\n"
			   "pswpout 932\n"
			   "pgfault 2144233493\n"
			   "pgmajfault 2476\n"
			   "oom_kill 0\n"
			   "nr_zone_write_pending -3\n";

static void default_filter_keeps_node_exporter_fields(void **state)
{
	(void)state;
	struct sb_proc_filter f;
	char err[128];
	const char *fields = "^(oom_kill|pgpg|pswp|pg.*fault).*";
	assert_int_equal(sb_proc_filter_init(&f, fields, NULL, err, sizeof(err)), 0);
	struct tp t;
	tp_begin(&t);
	t.n = sb_proc_parse_vmstat(text, &t.b, &f, &t.e);
	tp_end(&t);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 7);
	assert_double_eq(tp_value(&t, "node_vmstat_pgpgin"), 7344136);
	assert_double_eq(tp_value(&t, "node_vmstat_pgfault"), 2144233493);
	assert_double_eq(tp_value(&t, "node_vmstat_oom_kill"), 0);
	tp_absent(&t, "node_vmstat_nr_free_pages");
	const struct sb_sample *s = tp_find(&t, "node_vmstat_pswpin", NULL);
	assert_int_equal(s->type, SB_UNTYPED);
	assert_string_equal(s->help, "/proc/vmstat information field pswpin.");
	tp_free(&t);
	sb_proc_filter_free(&f);
}

static void every_line_is_checked_even_filtered_ones(void **state)
{
	(void)state;
	struct sb_proc_filter f;
	char err[128];
	assert_int_equal(sb_proc_filter_init(&f, "^pgpg", NULL, err, sizeof(err)), 0);
	struct tp t;
	tp_begin(&t);
	static const char text2[] = "pgpgin 1\nnr_dirty x\npgpgout\nweird-name 4\n\npgpgout 2\n";
	t.n = sb_proc_parse_vmstat(text2, &t.b, &f, &t.e);
	tp_end(&t);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.e.nbad, 4);
	assert_int_equal(t.e.line, 2);
	tp_free(&t);
	sb_proc_filter_free(&f);
}

static void no_filter_reports_every_field_signed(void **state)
{
	(void)state;
	struct tp t;
	tp_begin(&t);
	t.n = sb_proc_parse_vmstat(text, &t.b, NULL, &t.e);
	tp_end(&t);
	assert_int_equal(t.n, 9);
	assert_double_eq(tp_value(&t, "node_vmstat_nr_zone_write_pending"), -3);
	tp_free(&t);
}

/* Remembering each line's name and the filter's answer changes nothing:
 * the same samples and complaints, round after round, also when a line
 * changes its name or its value goes bad. */
static void a_memo_gives_the_same_samples_as_without(void **state)
{
	(void)state;
	struct sb_proc_filter f;
	char err[128];
	assert_int_equal(
	    sb_proc_filter_init(&f, "^(oom_kill|pgpg|pswp|pg.*fault).*", NULL, err, sizeof(err)),
	    0);
	static const char *const rounds[] = {
	    text,
	    text,
	    "nr_free_pages 1\npgpgin 2\npgpgout x\npswpin 4\npgmajfault 5\n",
	    "nr_free_pages 1\npgpgin 2\npgpgout 3\npswpin 4\npgmajfault 5\n",
	    "nr_free_pages 1\npgpgin 2\nnr_bad-name 3\npswpin 4\n",
	};
	struct sb_proc_vmstat_memo m = {0};
	for (size_t r = 0; r < SB_ARRAY_SIZE(rounds); r++) {
		struct tp a, b;
		tp_begin(&a);
		a.n = sb_proc_parse_vmstat(rounds[r], &a.b, &f, &a.e);
		tp_end(&a);
		tp_begin(&b);
		b.n = sb_proc_parse_vmstat_m(rounds[r], &b.b, &f, &m, &b.e);
		tp_end(&b);
		assert_int_equal(a.n, b.n);
		assert_int_equal(a.e.nbad, b.e.nbad);
		for (int i = 0; i < a.n; i++) {
			assert_string_equal(a.ev->samples[i].name, b.ev->samples[i].name);
			assert_string_equal(a.ev->samples[i].help, b.ev->samples[i].help);
			assert_double_eq(a.ev->samples[i].value, b.ev->samples[i].value);
		}
		tp_free(&a);
		tp_free(&b);
	}
	free(m.line);
	sb_proc_filter_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(default_filter_keeps_node_exporter_fields),
	    cmocka_unit_test(every_line_is_checked_even_filtered_ones),
	    cmocka_unit_test(a_memo_gives_the_same_samples_as_without),
	    cmocka_unit_test(no_filter_reports_every_field_signed),
	};
	return cmocka_run_group_tests_name("proc /proc/vmstat", tests, NULL, NULL);
}
