/* The textfile collector through the table, over a scratch directory:
 * node_exporter 1.5.0's merge rules (families merged across files, the
 * first file's TYPE and HELP win, duplicates dropped, labels filled, the
 * generated HELP), whole files skipped for a syntax error or timestamps,
 * and files another user may have planted (a FIFO, a symlink) refused
 * without a hang. tests/e2e/24 compares with node_exporter itself. */
#include "test_proc.h"

#include "sb_sensor.h"

extern const struct sb_sensor_ops sb_sensor_proc;

static int nwarn;
static char lastwarn[512];

static void hook(enum sb_log_level l, const char *line, void *arg)
{
	(void)arg;
	if (l <= SB_LOG_WARN) {
		nwarn++;
		snprintf(lastwarn, sizeof(lastwarn), "%s", line);
	}
}

static int setup(void **state)
{
	(void)state;
	return tp_dir_setup(hook);
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

struct fx {
	char *names[1];
	char dir[128];
	struct proc_cfg cfg;
	struct sb_sensor s;
	struct proc_state *st;
	struct tp t;
};

static void fx_start(struct fx *f, const char *dir)
{
	memset(f, 0, sizeof(*f));
	f->names[0] = "textfile";
	snprintf(f->dir, sizeof(f->dir), "%s", dir);
	f->cfg = (struct proc_cfg){.procfs = tp_dir, .sysfs = tp_dir, .max_processes = 8};
	f->cfg.collectors = (struct sb_strlist){f->names, 1};
	f->cfg.textfile_directory = f->dir;
	f->s.cfg = &f->cfg;
	assert_int_equal(sb_sensor_proc.init(&f->s), 0);
	f->st = f->s.state;
	sb_evb_init(&f->t.b);
}

static void fx_round(struct fx *f)
{
	if (f->t.ev)
		sb_event_unref(f->t.ev);
	sb_evb_begin(&f->t.b, "proc", "metrics");
	sb_proc_round(f->st, &f->t.b);
	f->t.ev = sb_evb_finish(&f->t.b);
	assert_non_null(f->t.ev);
}

static void fx_stop(struct fx *f)
{
	sb_event_unref(f->t.ev);
	sb_evb_free(&f->t.b);
	sb_sensor_proc.destroy(&f->s);
}

static void put(const char *rel, const char *text, time_t mtime)
{
	tp_put(rel, text, strlen(text));
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tp_dir, rel);
	struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void subdir(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tp_dir, name);
	assert_int_equal(mkdir(out, 0755), 0);
}

static size_t count(const struct tp *t, const char *name)
{
	size_t n = 0;
	for (uint32_t i = 0; i < t->ev->nsamples; i++)
		n += !strcmp(t->ev->samples[i].name, name);
	return n;
}

static void no_directory_is_no_error(void **state)
{
	(void)state;
	struct fx f;
	fx_start(&f, "");
	fx_round(&f);
	/* and node_scrape_collector_{duration_seconds,success} */
	assert_int_equal(f.t.ev->nsamples, 3);
	assert_true(tp_value(&f.t, "node_textfile_scrape_error") == 0);
	assert_true(tp_value(&f.t, "node_scrape_collector_success", "collector", "textfile") == 1);
	assert_int_equal(f.st->coll[0].status, 0);
	fx_stop(&f);
}

static void files_merge_as_node_exporter_merges_them(void **state)
{
	(void)state;
	char d[128];
	subdir(d, sizeof(d), "merge");
	put("merge/a.prom",
	    "# HELP m_a Help a.\n# TYPE m_a gauge\nm_a{x=\"1\"} 1\n"
	    "m_nohelp 2\n# TYPE m_type counter\nm_type 3\nm_dup 4\n"
	    "m_fill{a=\"1\"} 5\nm_fill{b=\"2\"} 6\n",
	    1700000000);
	put("merge/b.prom",
	    "# HELP m_a Help a.\n# TYPE m_a gauge\nm_a{x=\"2\"} 7\n"
	    "m_nohelp{y=\"z\"} 8\n# TYPE m_type gauge\nm_type{k=\"v\"} 9\nm_dup 10\n"
	    "# HELP m_help Other help.\nm_fill{a=\"3\"} 11\n",
	    1700000100);
	put("merge/c.txt", "m_not_read 1\n", 1);
	struct fx f;
	fx_start(&f, d);
	nwarn = 0;
	fx_round(&f);
	/* merged */
	assert_true(tp_value(&f.t, "m_a", "x", "1") == 1);
	assert_true(tp_value(&f.t, "m_a", "x", "2") == 7);
	/* no HELP: every file that has the family */
	const struct sb_sample *s = tp_find(&f.t, "m_nohelp", NULL);
	char want[512];
	snprintf(want, sizeof(want), "Metric read from %s/a.prom, %s/b.prom", d, d);
	assert_string_equal(s->help, want);
	assert_int_equal(count(&f.t, "m_nohelp"), 2);
	/* the first file's type wins; the other type's series is dropped */
	assert_int_equal(count(&f.t, "m_type"), 1);
	assert_int_equal(tp_find(&f.t, "m_type", NULL)->type, SB_COUNTER);
	/* the same series twice: the first */
	assert_int_equal(count(&f.t, "m_dup"), 1);
	assert_true(tp_value(&f.t, "m_dup") == 4);
	/* label names filled per file; b's m_fill has no HELP like a's, so
	 * both match and it stays */
	assert_non_null(tp_find(&f.t, "m_fill", "a", "1", "b", "", NULL));
	assert_non_null(tp_find(&f.t, "m_fill", "a", "", "b", "2", NULL));
	assert_non_null(tp_find(&f.t, "m_fill", "a", "3", NULL));
	assert_null(tp_find(&f.t, "m_fill", "a", "3", "b", "", NULL));
	assert_int_equal(count(&f.t, "m_not_read"), 0);
	/* mtimes in whole seconds, labelled with the path */
	char pa[256];
	snprintf(pa, sizeof(pa), "%s/b.prom", d);
	assert_true(tp_value(&f.t, "node_textfile_mtime_seconds", "file", pa) == 1700000100);
	assert_true(tp_value(&f.t, "node_textfile_scrape_error") == 0);
	/* one line for the series left out */
	assert_int_equal(nwarn, 1);
	assert_non_null(strstr(lastwarn, "2 series left out"));
	assert_int_equal(f.st->errors, 0);
	fx_stop(&f);
}

static void a_bad_file_is_skipped_whole_and_said_once(void **state)
{
	(void)state;
	char d[128];
	subdir(d, sizeof(d), "bad");
	put("bad/good.prom", "b_good 1\n", 1700000000);
	put("bad/syntax.prom", "b_before 1\nb_broken{a=\"1} 2\nb_after 3\n", 1700000000);
	put("bad/ts.prom", "b_ts 1 1700000000000\nb_ts_plain 2\n", 1700000000);
	put("bad/twotypes.prom", "b_x 1\n# TYPE b_x gauge\n", 1700000000);
	struct fx f;
	/* the directory named with a trailing slash and a doubled one: the
	 * file label is the clean path, as filepath.Join makes it */
	char messy[160];
	snprintf(messy, sizeof(messy), "%s//bad/", tp_dir);
	fx_start(&f, messy);
	nwarn = 0;
	fx_round(&f);
	assert_true(tp_value(&f.t, "b_good") == 1);
	assert_int_equal(count(&f.t, "b_before"), 0);
	assert_int_equal(count(&f.t, "b_after"), 0);
	assert_int_equal(count(&f.t, "b_ts_plain"), 0);
	assert_int_equal(count(&f.t, "b_x"), 0);
	assert_int_equal(count(&f.t, "node_textfile_mtime_seconds"), 1);
	char pa[256];
	snprintf(pa, sizeof(pa), "%s/good.prom", d);
	assert_non_null(tp_find(&f.t, "node_textfile_mtime_seconds", "file", pa, NULL));
	assert_true(tp_value(&f.t, "node_textfile_scrape_error") == 1);
	assert_int_equal(nwarn, 3);
	assert_int_equal(f.st->errors, 3);
	/* node_exporter's collector succeeds whatever its files hold */
	assert_int_equal(f.st->coll[0].status, 0);
	fx_round(&f);
	assert_int_equal(nwarn, 3); /* said once while it stays the same */
	assert_int_equal(f.st->errors, 6);
	/* mended: read again, and scrape_error back to 0 once all are */
	put("bad/syntax.prom", "b_before 1\n", 1700000001);
	put("bad/ts.prom", "b_ts 1\n", 1700000001);
	put("bad/twotypes.prom", "# TYPE b_x gauge\nb_x 1\n", 1700000001);
	fx_round(&f);
	assert_true(tp_value(&f.t, "b_before") == 1);
	assert_true(tp_value(&f.t, "node_textfile_scrape_error") == 0);
	fx_stop(&f);
}

static void a_fifo_or_a_symlink_is_refused_without_a_hang(void **state)
{
	(void)state;
	char d[128], p[256], target[256];
	subdir(d, sizeof(d), "hostile");
	put("hostile/ok.prom", "h_ok 1\n", 1700000000);
	snprintf(p, sizeof(p), "%s/fifo.prom", d);
	assert_int_equal(mkfifo(p, 0644), 0);
	put("secret", "h_secret 42\n", 1700000000);
	snprintf(target, sizeof(target), "%s/secret", tp_dir);
	snprintf(p, sizeof(p), "%s/link.prom", d);
	assert_int_equal(symlink(target, p), 0);
	struct fx f;
	fx_start(&f, d);
	nwarn = 0;
	fx_round(&f); /* a blocking open of the FIFO would hang here */
	assert_true(tp_value(&f.t, "h_ok") == 1);
	assert_int_equal(count(&f.t, "h_secret"), 0);
	assert_int_equal(count(&f.t, "node_textfile_mtime_seconds"), 1);
	assert_true(tp_value(&f.t, "node_textfile_scrape_error") == 1);
	assert_int_equal(nwarn, 2);
	assert_non_null(strstr(lastwarn, "link.prom: a symbolic link, not followed; file skipped"));
	fx_stop(&f);
}

static void a_glob_reads_every_directory_it_matches(void **state)
{
	(void)state;
	char d[128], pat[160];
	subdir(d, sizeof(d), "g1");
	subdir(d, sizeof(d), "g2");
	put("g1/x.prom", "g_one 1\n", 1700000000);
	put("g2/x.prom", "g_two 2\n", 1700000000);
	snprintf(pat, sizeof(pat), "%s/g*", tp_dir);
	struct fx f;
	fx_start(&f, pat);
	fx_round(&f);
	assert_true(tp_value(&f.t, "g_one") == 1);
	assert_true(tp_value(&f.t, "g_two") == 2);
	assert_true(tp_value(&f.t, "node_textfile_scrape_error") == 0);
	fx_stop(&f);
	/* a pattern that matches nothing is a missing directory: an error */
	snprintf(pat, sizeof(pat), "%s/none*", tp_dir);
	fx_start(&f, pat);
	fx_round(&f);
	assert_true(tp_value(&f.t, "node_textfile_scrape_error") == 1);
	fx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(no_directory_is_no_error),
	    cmocka_unit_test(files_merge_as_node_exporter_merges_them),
	    cmocka_unit_test(a_bad_file_is_skipped_whole_and_said_once),
	    cmocka_unit_test(a_fifo_or_a_symlink_is_refused_without_a_hang),
	    cmocka_unit_test(a_glob_reads_every_directory_it_matches),
	};
	return cmocka_run_group_tests_name("proc textfile collector", tests, setup, teardown);
}
