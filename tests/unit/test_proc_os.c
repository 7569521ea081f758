/* os-release(5) as node_exporter's os collector reads it: node_os_info and
 * node_os_version. */
#include "test_proc.h"

static int samples(struct tp *t, const char *text)
{
	struct sb_proc_osrel os;
	tp_begin(t);
	sb_proc_parse_osrelease(text, &os, &t->e);
	t->n = sb_proc_os_samples(&os, &t->b);
	tp_end(t);
	return t->n;
}

static void the_fixture_gives_every_label_unquoted(void **state)
{
	(void)state;
	char *text = tp_fixture("synthetic/etc/os-release");
	struct tp t;
	assert_int_equal(samples(&t, text), 2);
	assert_int_equal(t.e.nbad, 0);
	assert_non_null(
	    tp_find(&t, "node_os_info", "build_id", "2024-07-15", "id", "fixture", "id_like",
		    "debian", "image_id", "", "image_version", "", "name", "Fixture GNU/Linux",
		    "pretty_name", "Fixture GNU/Linux 12 (bookworm)", "variant",
		    "Server \"edition\" \xc3\xa9", "variant_id", "", "version", "12 (bookworm)",
		    "version_codename", "bookworm", "version_id", "12.4.1", NULL));
	/* the leading major.minor of VERSION_ID */
	assert_double_eq(tp_value(&t, "node_os_version", "id", "fixture", "id_like", "debian",
				  "name", "Fixture GNU/Linux"),
			 12.4);
	assert_string_equal(t.ev->samples[1].help,
			    "Metric containing the major.minor part of the OS version.");
	tp_free(&t);
	free(text);
}

static void a_later_line_wins_and_an_empty_value_is_ignored(void **state)
{
	(void)state;
	struct tp t;
	samples(&t, "ID=one\nID=two\nNAME=kept\nNAME=\nNAME=\"\"\n");
	assert_int_equal(t.e.nbad, 0);
	assert_non_null(tp_find(&t, "node_os_info", "id", "two", "name", "kept", NULL));
	tp_free(&t);
}

static void version_is_only_reported_above_zero(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		double v; /* 0: no node_os_version */
	} cases[] = {
	    {"VERSION_ID=22.04\n", 22.04}, {"VERSION_ID=\"3\"\n", 3}, {"VERSION_ID=12.\n", 12},
	    {"VERSION_ID=rolling\n", 0},   {"VERSION_ID=0.0\n", 0},   {"NAME=x\n", 0},
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(cases); i++) {
		struct tp t;
		samples(&t, cases[i].text);
		assert_int_equal(t.n, cases[i].v > 0 ? 2 : 1);
		if (cases[i].v > 0)
			assert_double_eq(t.ev->samples[1].value, cases[i].v);
		tp_free(&t);
	}
}

static void malformed_lines_are_skipped_and_reported(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "ID=ok\nNO_EQUALS\n",     "ID=ok\n9KEY=x\n",
	    "ID=ok\nNAME=\"open\n",   "ID=ok\nNAME='open\n",
	    "ID=ok\nNAME=\"a\\q\"\n", "ID=ok\nNAME=\"\\u12\"\n",
	    "ID=ok\nNAME=a\x01z\n",   "ID=ok\n=x\n",
	    "ID=ok\nNAME=cut",
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		struct tp t;
		samples(&t, bad[i]);
		if (t.e.nbad != 1)
			fail_msg("case %zu: %u bad lines", i, t.e.nbad);
		assert_int_equal(t.e.line, 2);
		/* the good line still counts, the bad one gave nothing */
		assert_non_null(tp_find(&t, "node_os_info", "id", "ok", "name", "", NULL));
		tp_free(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(the_fixture_gives_every_label_unquoted),
	    cmocka_unit_test(a_later_line_wins_and_an_empty_value_is_ignored),
	    cmocka_unit_test(version_is_only_reported_above_zero),
	    cmocka_unit_test(malformed_lines_are_skipped_and_reported),
	};
	return cmocka_run_group_tests_name("proc os-release", tests, NULL, NULL);
}
