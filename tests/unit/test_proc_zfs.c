/* /proc/spl/kstat/zfs: node_zfs_*, node_exporter 1.5.0's zfs collector. */
#include "test_proc_fx.h"

#define KSTAT_HDR "13 1 0x01 8 2176 5304123100 912837465102\nname  type data\n"

static int parse_kstat(struct tp *t, const char *text)
{
	tp_begin(t);
	t->n = sb_proc_parse_zfs_kstat(text, "fm", "zfs_fm", &t->b, &t->e);
	tp_end(t);
	return t->n;
}

/* arcstats: type 4 lines only (1.5.0 leaves memory_available_bytes, type
 * 3, out), untyped, HELP the kstat's name. */
static void named_kstats(void **state)
{
	(void)state;
	struct tp t;
	char *text = tp_fixture("synthetic/proc/spl/kstat/zfs/arcstats");
	tp_begin(&t);
	t.n = sb_proc_parse_zfs_kstat(text, "arcstats", "zfs_arc", &t.b, &t.e);
	tp_end(&t);
	free(text);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 7);
	assert_double_eq(tp_value(&t, "node_zfs_arc_hits", NULL), 48213377);
	assert_double_eq(tp_value(&t, "node_zfs_arc_size", NULL), 4294967296.0);
	tp_absent(&t, "node_zfs_arc_memory_available_bytes", NULL);
	const struct sb_sample *s = tp_find(&t, "node_zfs_arc_c_max", NULL);
	assert_int_equal(s->type, SB_UNTYPED);
	assert_string_equal(s->help, "kstat.zfs.misc.arcstats.c_max");
	tp_free(&t);
	/* '-' in a name becomes '_', the HELP keeps it */
	text = tp_fixture("synthetic/proc/spl/kstat/zfs/fm");
	parse_kstat(&t, text);
	free(text);
	assert_int_equal(t.n, 4);
	s = tp_find(&t, "node_zfs_fm_erpt_dropped", NULL);
	assert_double_eq(s->value, 2);
	assert_string_equal(s->help, "kstat.zfs.misc.fm.erpt-dropped");
	tp_free(&t);
}

static void malformed_kstats(void **state)
{
	(void)state;
	struct tp t;
	parse_kstat(&t, "");
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
	parse_kstat(&t, "hits 4 1\n"); /* no header */
	assert_int_equal(t.e.nbad, 1);
	assert_int_equal(t.n, 0);
	tp_free(&t);
	parse_kstat(&t, KSTAT_HDR "a 4 -1\nb 4 x\nc 4 18446744073709551616\nd$ 4 1\ne 4 5\nf 4\n"
				  "g 4 7");
	assert_int_equal(t.e.nbad, 5); /* a, b, c, d, and g cut short */
	assert_int_equal(t.e.line, 3);
	assert_int_equal(t.n, 1);
	assert_double_eq(tp_value(&t, "node_zfs_fm_e", NULL), 5);
	tp_free(&t);
}

/* tank: io, two datasets, ONLINE; backup: io and DEGRADED. */
static void pools(void **state)
{
	(void)state;
	struct tp t;
	char *text = tp_fixture("synthetic/proc/spl/kstat/zfs/tank/io");
	tp_begin(&t);
	t.n = sb_proc_parse_zfs_io(text, "tank", &t.b, &t.e);
	tp_end(&t);
	free(text);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 12);
	assert_double_eq(tp_value(&t, "node_zfs_zpool_nread", "zpool", "tank"), 734003200);
	assert_double_eq(tp_value(&t, "node_zfs_zpool_rcnt", "zpool", "tank"), 1);
	assert_string_equal(tp_find(&t, "node_zfs_zpool_writes", NULL)->help,
			    "kstat.zfs.misc.io.writes");
	tp_free(&t);

	text = tp_fixture("synthetic/proc/spl/kstat/zfs/tank/objset-0x85");
	tp_begin(&t);
	t.n = sb_proc_parse_zfs_objset(text, "tank", &t.b, &t.e);
	tp_end(&t);
	free(text);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 6);
	assert_double_eq(tp_value(&t, "node_zfs_zpool_dataset_nwritten", "zpool", "tank", "dataset",
				  "tank/home"),
			 9000);
	assert_string_equal(tp_find(&t, "node_zfs_zpool_dataset_reads", NULL)->help,
			    "kstat.zfs.misc.objset.reads");
	tp_free(&t);

	tp_begin(&t);
	t.n = sb_proc_parse_zfs_state("DEGRADED\n", "backup", &t.b, &t.e);
	tp_end(&t);
	assert_int_equal(t.n, 6);
	assert_double_eq(
	    tp_value(&t, "node_zfs_zpool_state", "zpool", "backup", "state", "degraded"), 1);
	assert_double_eq(tp_value(&t, "node_zfs_zpool_state", "zpool", "backup", "state", "online"),
			 0);
	assert_int_equal(tp_find(&t, "node_zfs_zpool_state", NULL)->type, SB_GAUGE);
	tp_free(&t);
	/* SUSPENDED is none of 1.5.0's six: all 0; a cut state is not read */
	tp_begin(&t);
	t.n = sb_proc_parse_zfs_state("SUSPENDED\n", "p", &t.b, &t.e);
	tp_end(&t);
	assert_int_equal(t.n, 6);
	assert_double_eq(tp_value(&t, "node_zfs_zpool_state", "zpool", "p", "state", "online"), 0);
	tp_free(&t);
	tp_begin(&t);
	t.n = sb_proc_parse_zfs_state("ONLIN", "p", &t.b, &t.e);
	tp_end(&t);
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
	/* io: a values line shorter than the names is left out */
	tp_begin(&t);
	t.n = sb_proc_parse_zfs_io("nread nwritten reads writes wtime wlentime wupdate rtime "
				   "rlentime rupdate wcnt rcnt\n1 2 3\n",
				   "p", &t.b, &t.e);
	tp_end(&t);
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 1);
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

/* Through the sensor: without ZFS no data (success 0); with it the kstat
 * files there are and every pool's files. */
static void collector(void **state)
{
	(void)state;
	struct tfx f;
	tfx_start(&f, "zfs");
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(f.st->errors, 0);
	tfx_stop(&f);

	tp_mkdirs("spl/kstat/zfs/p1");
	tp_puts("spl/kstat/zfs/zil", KSTAT_HDR "zil_commit_count 4 3\n");
	tp_puts("spl/kstat/zfs/p1/state", "ONLINE\n");
	tp_puts("spl/kstat/zfs/p1/objset-0x1", KSTAT_HDR "dataset_name 7 p1\nwrites 4 9\n");
	tfx_start(&f, "zfs");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 1 + 6 + 1);
	assert_double_eq(tp_value(&f.t, "node_zfs_zil_zil_commit_count", NULL), 3);
	assert_double_eq(
	    tp_value(&f.t, "node_zfs_zpool_dataset_writes", "zpool", "p1", "dataset", "p1"), 9);
	tp_puts("spl/kstat/zfs/zil", "garbage\n");
	assert_int_equal(tfx_round(&f), -EINVAL);
	assert_int_equal(f.t.n, 6 + 1);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(named_kstats),
	    cmocka_unit_test(malformed_kstats),
	    cmocka_unit_test(pools),
	    cmocka_unit_test(collector),
	};
	return cmocka_run_group_tests_name("proc zfs kstats", tests, setup, teardown);
}
