/* /proc/meminfo: node_memory_* with node_exporter's names and units. */
#include "test_proc.h"

static int parse(struct tp *t, const char *text)
{
	tp_begin(t);
	t->n = sb_proc_parse_meminfo(text, &t->b, &t->e);
	tp_end(t);
	return t->n;
}

static void kb_fields_become_bytes_with_node_exporter_names(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "MemTotal:       15666184 kB\n"
		  "MemAvailable:    1234 kB\n"
		  "Active(anon):    7 kB\n"
		  "Inactive(file):  8 kB\n"
		  "Committed_AS:    9 kB\n"
		  "NFS_Unstable:    0 kB\n"
		  "DirectMap2M:     10 kB\n");
	assert_int_equal(t.e.nbad, 0);
	assert_double_eq(tp_value(&t, "node_memory_MemTotal_bytes"), 15666184.0 * 1024);
	assert_double_eq(tp_value(&t, "node_memory_MemAvailable_bytes"), 1234.0 * 1024);
	assert_double_eq(tp_value(&t, "node_memory_Active_anon_bytes"), 7168);
	assert_double_eq(tp_value(&t, "node_memory_Inactive_file_bytes"), 8192);
	assert_double_eq(tp_value(&t, "node_memory_Committed_AS_bytes"), 9216);
	assert_double_eq(tp_value(&t, "node_memory_NFS_Unstable_bytes"), 0);
	assert_double_eq(tp_value(&t, "node_memory_DirectMap2M_bytes"), 10240);
	const struct sb_sample *s = tp_find(&t, "node_memory_MemTotal_bytes", NULL);
	assert_int_equal(s->type, SB_GAUGE);
	assert_string_equal(s->help, "Memory information field MemTotal_bytes.");
	tp_free(&t);
}

static void hugepage_counts_have_no_unit(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "HugePages_Total:       4\nHugePages_Free:        3\nHugepagesize:    2048 kB\n");
	assert_double_eq(tp_value(&t, "node_memory_HugePages_Total"), 4);
	assert_double_eq(tp_value(&t, "node_memory_HugePages_Free"), 3);
	assert_double_eq(tp_value(&t, "node_memory_Hugepagesize_bytes"), 2048.0 * 1024);
	tp_free(&t);
}

/* node_exporter 1.5.0 reports every field it finds, named alike */
static void fields_of_newer_kernels_are_named_as_node_exporter_names_them(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "MemFree: 1 kB\nKReclaimable:  5 kB\nFileHugePages: 0 kB\nHugetlb: 0 kB\n"
		  "Foo(bar): 2 kB\nCount: 7\nBad-Name: 1 kB\n");
	assert_int_equal(t.n, 6);
	assert_int_equal(t.e.nbad, 0);
	assert_double_eq(tp_value(&t, "node_memory_KReclaimable_bytes"), 5 * 1024);
	assert_double_eq(tp_value(&t, "node_memory_Hugetlb_bytes"), 0);
	assert_double_eq(tp_value(&t, "node_memory_Foo_bar_bytes"), 2048);
	assert_double_eq(tp_value(&t, "node_memory_Count"), 7);
	tp_free(&t);
}

static void truncated_last_line_is_skipped(void **state)
{
	(void)state;
	struct tp t;
	char *text = tp_fixture("edge/meminfo-truncated");
	parse(&t, text);
	assert_int_equal(t.e.nbad, 1);
	assert_int_equal(t.e.line, 5);
	assert_non_null(strstr(t.e.why, "cut short"));
	tp_absent(&t, "node_memory_SwapFree_bytes");
	assert_double_eq(tp_value(&t, "node_memory_SwapTotal_bytes"), 1024.0 * 1024);
	free(text);
	tp_free(&t);
}

static void garbage_lines_are_counted_and_the_rest_reported(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "MemTotal: 100 kB\n"
		  "this is not meminfo\n"
		  "MemFree: 12 MB\n"
		  "Buffers: 1x kB\n"
		  "Cached: 3 kB extra\n"
		  "\n"
		  "Dirty: 4 kB\n");
	assert_int_equal(t.e.nbad, 4);
	assert_int_equal(t.e.line, 2);
	assert_int_equal(t.n, 2);
	assert_double_eq(tp_value(&t, "node_memory_Dirty_bytes"), 4096);
	tp_free(&t);
}

static void empty_file_is_reported(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "");
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
}

static void a_repeated_field_is_reported_once_last_value(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "MemFree: 1 kB\nMemFree: 2 kB\n");
	assert_int_equal(t.n, 1);
	assert_double_eq(tp_value(&t, "node_memory_MemFree_bytes"), 2048);
	tp_free(&t);
}

/* With the memo, round after round: a line whose key moved, a line that
 * became another key of the same length and one not in the table give what
 * a parse without it gives. */
static void the_memo_follows_lines_that_change(void **state)
{
	(void)state;
	static const char *rounds[] = {
	    "MemTotal: 10 kB\nMemFree: 2 kB\nHugePages_Total: 3\nDirty: 1 kB\n",
	    "MemTotal: 11 kB\nMemFree: 3 kB\nHugePages_Total: 4\nDirty: 2 kB\n",
	    "MemFree: 4 kB\nMemTotal: 12 kB\nHugePages_Free: 5\nShmem: 6 kB\n",
	    "MemFree: 4 kB\nKReclaim: 7 kB\nHugePages_Free: 5 kB\nMapped: 6 kB\n",
	    "MemTotal: 13 kB\nMemFree: 3 kB\nHugePages_Total: 4\nDirty: 2 kB\n",
	};
	struct sb_proc_meminfo_memo memo = {0};
	for (size_t r = 0; r < SB_ARRAY_SIZE(rounds); r++) {
		struct tp got, want;
		tp_begin(&got);
		got.n = sb_proc_parse_meminfo_m(rounds[r], &got.b, &memo, &got.e);
		tp_end(&got);
		parse(&want, rounds[r]);
		assert_int_equal(got.n, want.n);
		assert_int_equal(got.e.nbad, want.e.nbad);
		assert_int_equal(got.ev->nsamples, want.ev->nsamples);
		for (uint32_t i = 0; i < want.ev->nsamples; i++) {
			assert_string_equal(got.ev->samples[i].name, want.ev->samples[i].name);
			assert_double_eq(got.ev->samples[i].value, want.ev->samples[i].value);
		}
		tp_free(&got);
		tp_free(&want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(kb_fields_become_bytes_with_node_exporter_names),
	    cmocka_unit_test(hugepage_counts_have_no_unit),
	    cmocka_unit_test(fields_of_newer_kernels_are_named_as_node_exporter_names_them),
	    cmocka_unit_test(truncated_last_line_is_skipped),
	    cmocka_unit_test(garbage_lines_are_counted_and_the_rest_reported),
	    cmocka_unit_test(empty_file_is_reported),
	    cmocka_unit_test(a_repeated_field_is_reported_once_last_value),
	    cmocka_unit_test(the_memo_follows_lines_that_change),
	};
	return cmocka_run_group_tests_name("proc /proc/meminfo", tests, NULL, NULL);
}
