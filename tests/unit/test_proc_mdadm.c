/* /proc/mdstat: node_md_*{device}, node_exporter 1.5.0's mdadm collector. */
#include "test_proc_fx.h"

static int parse(struct tp *t, const char *text)
{
	tp_begin(t);
	t->n = sb_proc_parse_mdstat(text, &t->b, &t->e);
	tp_end(t);
	return t->n;
}

static double state(struct tp *t, const char *dev, const char *st)
{
	return tp_value(t, "node_md_state", "device", dev, "state", st);
}

/* The synthetic tree: a resync, a recovery with a failed and a spare
 * disk, raid0, inactive, a check, resync=DELAYED and linear. */
static void every_kind_of_device(void **state_)
{
	(void)state_;
	struct tp t;
	char *text = tp_fixture("synthetic/proc/mdstat");
	parse(&t, text);
	free(text);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 7 * 11);
	/* md0: resyncing, bitmap line after the progress line */
	assert_double_eq(state(&t, "md0", "resync"), 1);
	assert_double_eq(state(&t, "md0", "active"), 0);
	assert_double_eq(tp_value(&t, "node_md_blocks", "device", "md0"), 976629760);
	assert_double_eq(tp_value(&t, "node_md_blocks_synced", "device", "md0"), 209715200);
	assert_double_eq(tp_value(&t, "node_md_disks_required", "device", "md0"), 2);
	/* md1: [4/3] [UU_U], one (F), one (S), recovering */
	assert_double_eq(state(&t, "md1", "recovering"), 1);
	assert_double_eq(tp_value(&t, "node_md_disks_required", "device", "md1"), 4);
	assert_double_eq(tp_value(&t, "node_md_disks", "device", "md1", "state", "active"), 3);
	assert_double_eq(tp_value(&t, "node_md_disks", "device", "md1", "state", "failed"), 1);
	assert_double_eq(tp_value(&t, "node_md_disks", "device", "md1", "state", "spare"), 1);
	assert_double_eq(tp_value(&t, "node_md_blocks_synced", "device", "md1"), 1048576);
	/* md2 raid0 and md6 linear: disks counted by their [n] */
	assert_double_eq(state(&t, "md2", "active"), 1);
	assert_double_eq(tp_value(&t, "node_md_disks", "device", "md2", "state", "active"), 2);
	assert_double_eq(tp_value(&t, "node_md_disks_required", "device", "md6"), 2);
	assert_double_eq(tp_value(&t, "node_md_blocks_synced", "device", "md2"), 41908224);
	/* md3 inactive: no disks required, the spare counted */
	assert_double_eq(state(&t, "md3", "inactive"), 1);
	assert_double_eq(tp_value(&t, "node_md_disks_required", "device", "md3"), 0);
	assert_double_eq(tp_value(&t, "node_md_disks", "device", "md3", "state", "active"), 0);
	assert_double_eq(tp_value(&t, "node_md_disks", "device", "md3", "state", "spare"), 1);
	/* md4 check; md5 resync=DELAYED: nothing synced yet */
	assert_double_eq(state(&t, "md4", "check"), 1);
	assert_double_eq(tp_value(&t, "node_md_blocks_synced", "device", "md4"), 522240);
	assert_double_eq(state(&t, "md5", "resync"), 1);
	assert_double_eq(tp_value(&t, "node_md_blocks_synced", "device", "md5"), 0);
	const struct sb_sample *s = tp_find(&t, "node_md_disks", NULL);
	assert_int_equal(s->type, SB_GAUGE);
	assert_string_equal(s->help, "Number of active/failed/spare disks of device.");
	assert_string_equal(tp_find(&t, "node_md_state", NULL)->help,
			    "Indicates the state of md-device.");
	assert_string_equal(tp_find(&t, "node_md_blocks_synced", NULL)->help,
			    "Number of blocks synced on device.");
	assert_string_equal(tp_find(&t, "node_md_blocks", NULL)->help,
			    "Total number of blocks on device.");
	assert_string_equal(tp_find(&t, "node_md_disks_required", NULL)->help,
			    "Total number of disks of device.");
	tp_free(&t);
}

/* No arrays, and procfs' quirks: the last [total/active] [U_] of the
 * status line counts, resync=PENDING syncs nothing yet. */
static void edges(void **state_)
{
	(void)state_;
	struct tp t;
	parse(&t, "Personalities : \nunused devices: <none>\n");
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 0);
	tp_free(&t);
	parse(&t, "");
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 0);
	tp_free(&t);
	parse(&t, "md7 : active (auto-read-only) raid1 b[1] a[0]\n"
		  "      100 blocks [9/9] [UUUUUUUUU] [3/2] [UU_]\n"
		  "      resync=PENDING\n"
		  "\n");
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 11);
	assert_double_eq(tp_value(&t, "node_md_disks_required", "device", "md7"), 3);
	assert_double_eq(tp_value(&t, "node_md_disks", "device", "md7", "state", "active"), 2);
	assert_double_eq(state(&t, "md7", "resync"), 1);
	assert_double_eq(tp_value(&t, "node_md_blocks_synced", "device", "md7"), 0);
	tp_free(&t);
}

/* A bad device is skipped and reported with its line; the next one still
 * comes out (node_exporter fails the whole file). */
static void malformed_devices_are_skipped(void **state_)
{
	(void)state_;
	static const char *const bad[] = {
	    "md9 :\n      10 blocks [1/1] [U]\n\n", /* two words */
	    "md9 : active raid1 a[0]\n      x blocks [1/1] [U]\n\n",
	    "md9 : active raid1 a[0]\n      10 blocks [1/1]\n\n",
	    "md9 : active raid1 a[0]\n      10 blocks [1/1] [U]\n"
	    "      [>..]  resync =  1.0% (x/10) finish=1.0min speed=1K/sec\n\n",
	    "md9 : active raid1 a[0]\n      10 blocks [1/1] [U]\n"
	    "      [>..]  resync =  1.0% (1/10) speed=1K/sec\n\n", /* no finish */
	    "md9 : active raid1 a[0]\n      10 blocks [1/1] [U]\n"
	    "      [>..]  resync =  1.0% (1/10) finish=1.0min speed=fastK/sec\n\n",
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		char text[512];
		snprintf(text, sizeof(text),
			 "Personalities : [raid1]\n%smd8 : active raid1 b[1] a[0]\n"
			 "      20 blocks [2/2] [UU]\n\nunused devices: <none>\n",
			 bad[i]);
		struct tp t;
		parse(&t, text);
		if (t.n != 11 || t.e.nbad != 1 || t.e.line != 2)
			fail_msg("case %zu: %d samples, %u bad, line %u", i, t.n, t.e.nbad,
				 t.e.line);
		assert_double_eq(tp_value(&t, "node_md_blocks", "device", "md8"), 20);
		tp_absent(&t, "node_md_blocks", "device", "md9");
		tp_free(&t);
	}
	/* cut short: the device needs its line, status and the line after */
	struct tp t;
	parse(&t, "md9 : active raid1 a[0]\n      10 blocks [1/1] [U]\n");
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
	parse(&t,
	      "md9 : active raid1 a[0]\n      10 blocks [1/1] [U]\n      [>..]  resync =  1.0%");
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

/* Without the md driver: no data (success 0, as node_exporter), silently. */
static void absent_is_no_data(void **state)
{
	(void)state;
	struct tfx f;
	tfx_start(&f, "mdadm");
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(f.st->errors, 0);
	tp_puts("mdstat", "md0 : active raid1 a[0]\n      10 blocks [1/1] [U]\n\n");
	f.st->coll[0].f[0]->absent_round = 0; /* looked for again */
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 11);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_kind_of_device),
	    cmocka_unit_test(edges),
	    cmocka_unit_test(malformed_devices_are_skipped),
	    cmocka_unit_test(absent_is_no_data),
	};
	return cmocka_run_group_tests_name("proc /proc/mdstat", tests, setup, teardown);
}
