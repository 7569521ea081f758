/* The proc sensor's shared parsing pieces: strict numbers, words, name
 * filters, CPU lists and the udev database format. */
#include "test_proc.h"

static void numbers_are_strict(void **state)
{
	(void)state;
	const char *p = "  42 7\n";
	uint64_t u;
	assert_true(sb_pp_u64(&p, &u));
	assert_int_equal(u, 42);
	assert_true(sb_pp_u64(&p, &u));
	assert_int_equal(u, 7);
	assert_false(sb_pp_u64(&p, &u)); /* end of line */
	p = "12x";
	assert_false(sb_pp_u64(&p, &u));
	assert_string_equal(p, "12x"); /* not advanced on failure */
	p = "18446744073709551615";
	assert_true(sb_pp_u64(&p, &u));
	assert_true(u == UINT64_MAX);
	p = "18446744073709551616";
	assert_false(sb_pp_u64(&p, &u));
	p = "0000000000000000000000018446744073709551615 9999999999999999999 ";
	assert_true(sb_pp_u64(&p, &u)); /* leading zeros do not overflow */
	assert_true(u == UINT64_MAX);
	assert_true(sb_pp_u64(&p, &u)); /* 19 digits, the most without a test */
	assert_true(u == 9999999999999999999ULL);
	p = "99999999999999999999";
	assert_false(sb_pp_u64(&p, &u));
	p = "-1";
	assert_false(sb_pp_u64(&p, &u));
	int64_t i;
	p = "-9223372036854775808 9223372036854775808";
	assert_true(sb_pp_i64(&p, &i));
	assert_true(i == INT64_MIN);
	assert_false(sb_pp_i64(&p, &i));
	double d;
	p = "0.39 1e400 abc";
	assert_true(sb_pp_double(&p, &d));
	assert_double_eq(d, 0.39);
	assert_false(sb_pp_double(&p, &d));
}

/* The inline path for the usual number says what the full parser says,
 * for every length either side of its 17 digits and every ending. */
static void short_numbers_read_as_the_full_parser_reads_them(void **state)
{
	(void)state;
	const char ends[] = {' ', '\t', '\n', 0, 'x', '.', '-'};
	const char *leads[] = {"", "  ", "\t", "-", "0"};
	for (size_t l = 0; l < SB_ARRAY_SIZE(leads); l++)
		for (unsigned nd = 0; nd <= 22; nd++)
			for (size_t k = 0; k < sizeof(ends); k++)
				for (char top = '1'; top <= '9'; top += 4) {
					char t[40];
					size_t o = (size_t)snprintf(t, sizeof(t), "%s", leads[l]);
					for (unsigned i = 0; i < nd; i++)
						t[o++] = i ? (char)('0' + (i * 7 + nd) % 10) : top;
					t[o++] = ends[k];
					t[o] = 0;
					const char *a = t, *b = t;
					uint64_t ua = 1, ub = 1;
					assert_int_equal(sb_pp_u64(&a, &ua),
							 sb_pp_u64_full(&b, &ub));
					assert_ptr_equal(a, b);
					assert_true(ua == ub);
					a = b = t;
					int64_t ia = 1, ib = 1;
					assert_int_equal(sb_pp_i64(&a, &ia),
							 sb_pp_i64_full(&b, &ib));
					assert_ptr_equal(a, b);
					assert_true(ia == ib);
				}
}

static void words_and_lines(void **state)
{
	(void)state;
	const char *p = "\tTcpExt: a b\nnext";
	const char *w;
	assert_int_equal(sb_pp_word(&p, &w), 7);
	assert_memory_equal(w, "TcpExt:", 7);
	assert_false(sb_pp_at_eol(p));
	assert_string_equal(sb_pp_next(p), "next");
	assert_string_equal(sb_pp_next("last"), "");
	assert_true(sb_proc_name_ok("pgpg_in2", 8));
	assert_false(sb_proc_name_ok("a-b", 3));
	assert_false(sb_proc_name_ok("", 0));
	uint64_t v;
	assert_true(sb_pp_uint_text("1\n", &v));
	assert_false(sb_pp_uint_text("1 2\n", &v));
	assert_false(sb_pp_uint_text("", &v));
}

static void names_are_joined_and_cut_to_fit(void **state)
{
	(void)state;
	char name[24], tiny[8];
	const char *proto = "TcpExtra";
	SB_PROC_JOIN(name, SB_PJ("node_netstat_"), SB_PJN(proto, 6), SB_PJ("_"), SB_PJ("Syn"));
	assert_string_equal(name, "node_netstat_TcpExt_Syn");
	SB_PROC_JOIN(tiny, SB_PJ("node_"), SB_PJ("memory"));
	assert_string_equal(tiny, "node_me");
	SB_PROC_JOIN(tiny, SB_PJN("", 0));
	assert_string_equal(tiny, "");
}

static void filters_behave_like_node_exporters(void **state)
{
	(void)state;
	struct sb_proc_filter f;
	char err[160];
	/* Go syntax \d is accepted; matching is unanchored like MatchString */
	const char *exclude = "^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$";
	assert_int_equal(sb_proc_filter_init(&f, NULL, exclude, err, sizeof(err)), 0);
	assert_false(sb_proc_filter_pass(&f, "sda1", 4));
	assert_false(sb_proc_filter_pass(&f, "nvme0n1p2", 9));
	assert_true(sb_proc_filter_pass(&f, "nvme0n1", 7));
	assert_true(sb_proc_filter_pass(&f, "dm-0", 4));
	/* memoized answers stay right */
	for (int i = 0; i < 3; i++) {
		assert_false(sb_proc_filter_pass(&f, "loop7", 5));
		assert_true(sb_proc_filter_pass(&f, "sda", 3));
	}
	sb_proc_filter_free(&f);
	assert_int_equal(sb_proc_filter_init(&f, "pgpg", "pgpg", err, sizeof(err)), 0);
	assert_true(sb_proc_filter_pass(&f, "xpgpgin", 7)); /* include wins */
	assert_false(sb_proc_filter_pass(&f, "pswpin", 6));
	sb_proc_filter_free(&f);
	assert_true(sb_proc_filter_pass(NULL, "anything", 8));
	assert_int_equal(sb_proc_filter_init(&f, "([", NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "invalid regular expression"));
	assert_int_equal(sb_proc_regex_check("a[\\d]", err, sizeof(err)), 0);
	/* a repetition of a repetition is refused, as Go's regexp does (glibc
	 * took over 2 GB for 80 of them; found by fuzz_config); Go's
	 * non-greedy '?' and what only looks like one pass */
	static const char *const nested[] = {"a++", "(x|y)*+", "a*{2}", "a{2}{3}", "a+??", "\\d**"};
	for (size_t i = 0; i < sizeof(nested) / sizeof(nested[0]); i++) {
		assert_int_equal(sb_proc_regex_check(nested[i], err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "repetition of a repetition"));
	}
	static const char *const fine[] = {"a+?",   "a*?b",    "[+*]+",		"a\\++",
					   "(a+)+", "a{2,3}?", "^(pgpg|pswp)?$"};
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
		assert_int_equal(sb_proc_regex_check(fine[i], err, sizeof(err)), 0);
}

static void many_names_overflow_the_memo_safely(void **state)
{
	(void)state;
	struct sb_proc_filter f;
	char err[160];
	assert_int_equal(sb_proc_filter_init(&f, "7$", NULL, err, sizeof(err)), 0);
	char name[32];
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 3000; i++) {
			int n = snprintf(name, sizeof(name), "dev%d", i);
			assert_int_equal(sb_proc_filter_pass(&f, name, (size_t)n), i % 10 == 7);
		}
	}
	sb_proc_filter_free(&f);
}

static unsigned got[64], ngot;
static void add(void *arg, unsigned cpu)
{
	(void)arg;
	if (ngot < 64)
		got[ngot++] = cpu;
}

static void cpu_lists(void **state)
{
	(void)state;
	ngot = 0;
	assert_int_equal(sb_proc_parse_cpulist("1,3-5,9\n", add, NULL, 100), 5);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[3], 5);
	assert_int_equal(got[4], 9);
	ngot = 0;
	assert_int_equal(sb_proc_parse_cpulist("\n", add, NULL, 100), 0);
	assert_int_equal(sb_proc_parse_cpulist("", add, NULL, 100), 0);
	assert_int_equal(sb_proc_parse_cpulist("1-", add, NULL, 100), -EINVAL);
	assert_int_equal(sb_proc_parse_cpulist("5-3", add, NULL, 100), -EINVAL);
	assert_int_equal(sb_proc_parse_cpulist("a", add, NULL, 100), -EINVAL);
	assert_int_equal(sb_proc_parse_cpulist("0-4000000000", add, NULL, 100), -ERANGE);
}

static void udev_properties(void **state)
{
	(void)state;
	struct sb_proc_udev u;
	char *text = tp_fixture("synthetic/udev/data/b8:0");
	sb_proc_parse_udev(text, &u);
	assert_string_equal(u.model, "FIXTURE_DISK");
	assert_string_equal(u.serial_short, "FX123");
	assert_string_equal(u.ata_rotation_rate_rpm, "7200");
	assert_string_equal(u.fs_type, "ext4");
	assert_null(u.dm_name);
	free(text);
	sb_proc_parse_udev("E:ID_MODEL=a\nE:ID_MODEL=b\nS:link\nE:NOEQUALS\nE:ID_WWN=\n", &u);
	assert_string_equal(u.model, "b");
	assert_string_equal(u.wwn, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(numbers_are_strict),
	    cmocka_unit_test(short_numbers_read_as_the_full_parser_reads_them),
	    cmocka_unit_test(words_and_lines),
	    cmocka_unit_test(names_are_joined_and_cut_to_fit),
	    cmocka_unit_test(filters_behave_like_node_exporters),
	    cmocka_unit_test(many_names_overflow_the_memo_safely),
	    cmocka_unit_test(cpu_lists),
	    cmocka_unit_test(udev_properties),
	};
	return cmocka_run_group_tests_name("proc parsing helpers", tests, NULL, NULL);
}
