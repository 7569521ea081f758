/* <sysfs>/fs/xfs/<device>/stats/stats: node_xfs_*{device}, node_exporter
 * 1.5.0's xfs collector. */
#include "test_proc_fx.h"

#define XFS_ALL 39

static int parse(struct tp *t, const char *text)
{
	tp_begin(t);
	t->n = sb_proc_parse_xfs(text, "dm-0", &t->b, &t->e);
	tp_end(t);
	return t->n;
}

static double val(struct tp *t, const char *name) { return tp_value(t, name, "device", "dm-0"); }

/* A Linux 6.x file: the 39 series of 1.5.0, lines it does not know
 * (fibt2, rmapbt, refcntbt, defer_relog, ...) skipped. */
static void filesystem_counters(void **state)
{
	(void)state;
	struct tp t;
	char *text = tp_fixture("synthetic/sys/fs/xfs/dm-0/stats/stats");
	parse(&t, text);
	free(text);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, XFS_ALL);
	assert_double_eq(val(&t, "node_xfs_extent_allocation_extents_allocated_total"), 8123);
	assert_double_eq(val(&t, "node_xfs_extent_allocation_blocks_allocated_total"), 1049021);
	assert_double_eq(val(&t, "node_xfs_extent_allocation_extents_freed_total"), 6120);
	assert_double_eq(val(&t, "node_xfs_extent_allocation_blocks_freed_total"), 903112);
	assert_double_eq(val(&t, "node_xfs_block_mapping_reads_total"), 402113);
	assert_double_eq(val(&t, "node_xfs_block_mapping_extent_list_lookups_total"), 517002);
	assert_double_eq(val(&t, "node_xfs_directory_operation_getdents_total"), 12045);
	assert_double_eq(val(&t, "node_xfs_inode_operation_recycled_total"), 3);
	assert_double_eq(val(&t, "node_xfs_inode_operation_attribute_changes_total"), 2003);
	/* the kernel writes rw as write calls, then read calls */
	assert_double_eq(val(&t, "node_xfs_write_calls_total"), 412331);
	assert_double_eq(val(&t, "node_xfs_read_calls_total"), 900121);
	assert_double_eq(val(&t, "node_xfs_vnode_active_total"), 5008);
	assert_double_eq(val(&t, "node_xfs_vnode_remove_total"), 4212);
	const struct sb_sample *s = tp_find(&t, "node_xfs_read_calls_total", NULL);
	assert_int_equal(s->type, SB_COUNTER);
	assert_string_equal(s->help,
			    "Number of read(2) system calls made to files in a filesystem.");
	assert_string_equal(tp_find(&t, "node_xfs_directory_operation_remove_total", NULL)->help,
			    "Number of times an existing directory entry was created for a "
			    "filesystem.");
	tp_free(&t);
}

/* Old kernels' vnodes without its eighth number, a word alone, lines the
 * file lacks (zeros, as node_exporter), xpc's 64-bit numbers. */
static void edges(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "vnodes 1 2 3 4 5 6 7\nlonely\n  \nxpc 18446744073709551615 1 2\n"
		  "newline_of_6_9 1 2 3\n");
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, XFS_ALL);
	assert_double_eq(val(&t, "node_xfs_vnode_remove_total"), 7);
	assert_double_eq(val(&t, "node_xfs_read_calls_total"), 0);
	tp_free(&t);
}

/* A bad line is reported; a reported line's series are left out
 * (node_exporter fails every filesystem). */
static void malformed_lines(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		int missing;
	} bad[] = {
	    {"extent_alloc 1 2 3\n", 4}, {"abt 1 2 3 4 5\n", 4},
	    {"rw 1 4294967296\n", 2},	 {"rw 1 -2\n", 2},
	    {"vnodes 1 2 3 4 5 6\n", 7}, {"ig 1 2 3 4 5 6 x\n", 7},
	    {"trans 1 2\n", 0},		 {"qm 1 2 3 4 5 6 7 8 9 10\n", 0},
	    {"abtb2 1 2\n", 0},		 {"xpc 1 2\n", 0},
	    {"debug 0 0\n", 0},		 {"unknown 4294967296\n", 0},
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		char text[256];
		snprintf(text, sizeof(text), "dir 1 2 3 4\n%s", bad[i].line);
		struct tp t;
		parse(&t, text);
		if (t.e.nbad != 1 || t.e.line != 2 || t.n != XFS_ALL - bad[i].missing)
			fail_msg("case %zu: %d samples, %u bad, line %u", i, t.n, t.e.nbad,
				 t.e.line);
		assert_double_eq(val(&t, "node_xfs_directory_operation_lookup_total"), 1);
		tp_free(&t);
	}
	struct tp t;
	parse(&t, "");
	assert_int_equal(t.e.nbad, 1);
	assert_int_equal(t.n, 0);
	tp_free(&t);
	parse(&t, "dir 1 2 3 4\nrw 1 2\nvnodes 1 2");
	assert_int_equal(t.e.nbad, 1);
	assert_int_equal(t.n, 4 + 2);
	tp_free(&t);
}

static int setup(void **state)
{
	(void)state;
	return tp_dir_setup(NULL);
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

/* Through the sensor: no XFS is success and nothing (node_exporter's
 * empty glob); every fs/xfs/<name>/stats/stats but the global
 * fs/xfs/stats/stats; a bad file fails the round and the others still
 * come out. */
static void filesystems_are_listed(void **state)
{
	(void)state;
	struct tfx f;
	tfx_start(&f, "xfs");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 0);
	tfx_stop(&f);

	tp_mkdirs("fs/xfs/sda1/stats");
	tp_mkdirs("fs/xfs/sdb1/stats");
	tp_mkdirs("fs/xfs/stats");
	tp_puts("fs/xfs/sda1/stats/stats", "rw 5 6\n");
	tp_puts("fs/xfs/sdb1/stats/stats", "rw 7 8\n");
	tp_puts("fs/xfs/stats/stats", "rw 1 1\n");
	tfx_start(&f, "xfs");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 2 * XFS_ALL);
	assert_double_eq(tp_value(&f.t, "node_xfs_read_calls_total", "device", "sdb1"), 8);
	tp_puts("fs/xfs/sda1/stats/stats", "rw 5\n");
	assert_int_equal(tfx_round(&f), -EINVAL);
	assert_int_equal(f.t.n, 2 * XFS_ALL - 2);
	assert_double_eq(tp_value(&f.t, "node_xfs_write_calls_total", "device", "sdb1"), 7);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(filesystem_counters),
	    cmocka_unit_test(edges),
	    cmocka_unit_test(malformed_lines),
	    cmocka_unit_test(filesystems_are_listed),
	};
	return cmocka_run_group_tests_name("proc xfs stats", tests, setup, teardown);
}
