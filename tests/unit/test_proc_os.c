/* os-release(5) as node_exporter's os collector reads it: node_os_info and
 * node_os_version. */
#include "test_proc_fx.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include "test_netns.h"

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

/* Rewrites rel in place, then gives it back its old mtime: a change the
 * collector is not told of. */
static void rewrite_keeping_mtime(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", tp_dir, rel);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	tp_puts(rel, text);
	const struct timespec t[2] = {sb.st_atim, sb.st_mtim};
	assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

/* tfx_start, with the tree as the root filesystem too */
static void os_start(struct tfx *f) { tfx_start_roots(f, "os", tp_dir, tp_dir, tp_dir); }

/* A package upgrade's way: the new file written beside, renamed over. */
static void replace_by_rename(const char *rel, const char *text)
{
	char beside[64], from[512], to[512];
	snprintf(beside, sizeof(beside), "%s.new", rel);
	tp_puts(beside, text);
	snprintf(from, sizeof(from), "%s/%s", tp_dir, beside);
	snprintf(to, sizeof(to), "%s/%s", tp_dir, rel);
	assert_int_equal(rename(from, to), 0);
}

/* The collector through the sensor: os-release is read again only when it
 * changed. Where the kernel tells (a local filesystem: the scratch tree's),
 * an unchanged file is not even stat'ed and an edit is seen whatever its
 * mtime; a package upgrade's rename, an edit, a file that goes or comes are
 * seen either way. */
static void os_release_is_read_again_only_when_it_changed(void **state)
{
	(void)state;
	assert_int_equal(tp_dir_setup(NULL), 0);
	tp_mkdirs("etc");
	tp_puts("etc/os-release", "ID=one\n");
	struct tfx f;
	os_start(&f);
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_os_info", "id", "one", NULL));
	for (int round = 0; round < 3; round++)
		assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_os_info", "id", "one", NULL));
	assert_true(sb_proc_os_reads(&f.st->coll[0]) == 1); /* not read again */
	/* an edit that keeps the size and the mtime: the kernel told it */
	rewrite_keeping_mtime("etc/os-release", "ID=two\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_os_info", "id", "two", NULL));
	assert_true(sb_proc_os_reads(&f.st->coll[0]) == 2);
	/* an upgrade: a new file renamed over the old one */
	replace_by_rename("etc/os-release", "ID=three\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_os_info", "id", "three", NULL));
	/* an edit that moves the size */
	tp_puts("etc/os-release", "ID=four4\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_os_info", "id", "four4", NULL));
	/* etc's gone: usr/lib's, until etc's is back */
	tp_mkdirs("usr/lib");
	tp_puts("usr/lib/os-release", "ID=lib\n");
	assert_true(*f.st->notify.fd[0] >= 0); /* etc's watched: its inotify descriptor */
	tp_rm("etc/os-release");
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_os_info", "id", "lib", NULL));
	/* still watched: usr/lib's file, and etc for one that appears */
	assert_true(*f.st->notify.fd[0] >= 0);
	uint64_t reads = sb_proc_os_reads(&f.st->coll[0]);
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_os_info", "id", "lib", NULL));
	assert_true(sb_proc_os_reads(&f.st->coll[0]) == reads);
	/* etc's back: seen at once, not when an absent file is next looked
	 * for (60 rounds later, proc.c) */
	tp_puts("etc/os-release", "ID=etc\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_os_info", "id", "etc", NULL));
	tfx_stop(&f);
	assert_int_equal(tp_dir_teardown(), 0);
}

/* Debian's layout: etc's a symlink to usr/lib's, which an upgrade renames
 * over in usr/lib, a directory the link's own is not. */
static void the_symlinks_target_is_watched(void **state)
{
	(void)state;
	assert_int_equal(tp_dir_setup(NULL), 0);
	tp_mkdirs("etc");
	tp_mkdirs("usr/lib");
	tp_puts("usr/lib/os-release", "ID=one\n");
	char link[512], from[512];
	snprintf(link, sizeof(link), "%s/etc/os-release", tp_dir);
	assert_int_equal(symlink("../usr/lib/os-release", link), 0);
	struct tfx f;
	os_start(&f);
	for (int round = 0; round < 3; round++) {
		assert_int_equal(tfx_round(&f), 0);
		assert_non_null(tp_find(&f.t, "node_os_info", "id", "one", NULL));
	}
	assert_true(sb_proc_os_reads(&f.st->coll[0]) == 1);
	replace_by_rename("usr/lib/os-release", "ID=two\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_os_info", "id", "two", NULL));
	/* the new file is watched in turn */
	rewrite_keeping_mtime("usr/lib/os-release", "ID=six\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_os_info", "id", "six", NULL));
	/* another file of usr/lib or etc is not a change */
	tp_puts("usr/lib/other", "x\n");
	tp_puts("etc/other", "x\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_true(sb_proc_os_reads(&f.st->coll[0]) == 3);
	/* the symlink replaced by rename, the file it led to unchanged */
	tp_puts("usr/lib/os-release-b", "ID=b\n");
	snprintf(from, sizeof(from), "%s/etc/os-release.new", tp_dir);
	assert_int_equal(symlink("../usr/lib/os-release-b", from), 0);
	assert_int_equal(rename(from, link), 0);
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_os_info", "id", "b", NULL));
	tfx_stop(&f);
	assert_int_equal(tp_dir_teardown(), 0);
}

/* Neither file: no series and a failed collector, as node_exporter; both
 * directories watched for one that appears, which is read at once, not
 * when an absent file is next looked for (60 rounds later, proc.c); and
 * no watch made and dropped again each round. */
static void neither_file_is_watched_for(void **state)
{
	(void)state;
	assert_int_equal(tp_dir_setup(NULL), 0);
	tp_mkdirs("etc");
	tp_mkdirs("usr/lib");
	struct tfx f;
	os_start(&f);
	for (int round = 0; round < 3; round++) {
		assert_int_equal(tfx_round(&f), -ENODATA);
		assert_int_equal(f.t.n, 0);
		assert_true(*f.st->notify.fd[0] >= 0); /* kept armed */
	}
	tp_puts("etc/other", "x\n"); /* not a change */
	assert_int_equal(tfx_round(&f), -ENODATA);
	tp_puts("usr/lib/os-release", "ID=lib\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_os_info", "id", "lib", NULL));
	tp_puts("etc/os-release", "ID=etc\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_os_info", "id", "etc", NULL));
	/* both gone again */
	tp_rm("etc/os-release");
	tp_rm("usr/lib/os-release");
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_true(*f.st->notify.fd[0] >= 0);
	tp_puts("etc/os-release", "ID=back\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_os_info", "id", "back", NULL));
	tfx_stop(&f);
	assert_int_equal(tp_dir_teardown(), 0);
}

/* No etc directory: nothing can tell of one made with an os-release in
 * it, so usr/lib's is stat'ed each round and etc's looked for, as
 * node_exporter does. */
static void without_etc_the_stat_is_asked(void **state)
{
	(void)state;
	assert_int_equal(tp_dir_setup(NULL), 0);
	tp_mkdirs("usr/lib");
	tp_puts("usr/lib/os-release", "ID=lib\n");
	struct tfx f;
	os_start(&f);
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_os_info", "id", "lib", NULL));
	assert_true(*f.st->notify.fd[0] < 0);
	tp_mkdirs("etc");
	tp_puts("etc/os-release", "ID=etc\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_os_info", "id", "etc", NULL));
	assert_true(*f.st->notify.fd[0] >= 0); /* etc's now: watched */
	tfx_stop(&f);
	assert_int_equal(tp_dir_teardown(), 0);
}

static void child_round(struct proc_state *st, struct tp *t)
{
	tp_begin(t);
	sb_proc_round(st, &t->b);
	t->n = (int)sb_evb_nsamples(&t->b);
	tp_end(t);
}

/* In a child of ns_run: mounts made from here are its own; the os
 * collector alone, on the tree, for the sensor to start. */
static void child_start(struct sb_sensor *s, struct proc_cfg *cfg)
{
	static char *names[] = {"os"};
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		_exit(77);
	*cfg = (struct proc_cfg){.procfs = tp_dir, .sysfs = tp_dir, .rootfs = tp_dir};
	cfg->collectors = (struct sb_strlist){names, 1};
	*s = (struct sb_sensor){.cfg = cfg};
}

/* A file mounted over os-release changes neither the file nor its
 * directory: the agent's mount table tells it. */
static void in_mount_namespace(void)
{
	struct sb_sensor s;
	struct proc_cfg cfg;
	child_start(&s, &cfg);
	CHECK(10, sb_sensor_proc.init(&s) == 0);
	struct proc_state *st = s.state;
	struct tp t;
	for (int round = 0; round < 2; round++) {
		child_round(st, &t);
		CHECK(11, tp_find(&t, "node_os_info", "id", "under", NULL) != NULL);
		tp_free(&t);
	}
	CHECK(12, sb_proc_os_reads(&st->coll[0]) == 1);
	char from[512], to[512];
	snprintf(from, sizeof(from), "%s/over", tp_dir);
	snprintf(to, sizeof(to), "%s/etc/os-release", tp_dir);
	CHECK(13, mount(from, to, NULL, MS_BIND, NULL) == 0);
	child_round(st, &t);
	CHECK(14, tp_find(&t, "node_os_info", "id", "over", NULL) != NULL);
	CHECK(15, sb_proc_os_reads(&st->coll[0]) == 2);
	tp_free(&t);
	sb_sensor_proc.destroy(&s);
}

static void a_mount_over_os_release_is_seen(void **state)
{
	(void)state;
	assert_int_equal(tp_dir_setup(NULL), 0);
	tp_mkdirs("etc");
	tp_puts("etc/os-release", "ID=under\n");
	tp_puts("over", "ID=over\n");
	ns_run(CLONE_NEWNS, "mount namespace", in_mount_namespace);
	assert_int_equal(tp_dir_teardown(), 0);
}

/* etc on an overlay, a filesystem the watch does not trust (a lower
 * layer changes without events): os-release is stat'ed each round, and
 * etc's file, once gone, is still looked for at once when the round is
 * told of nothing, not 60 rounds later */
static void on_overlay(void)
{
	struct sb_sensor s;
	struct proc_cfg cfg;
	child_start(&s, &cfg);
	char opts[1600], etc[512];
	snprintf(opts, sizeof(opts), "lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work", tp_dir,
		 tp_dir, tp_dir);
	snprintf(etc, sizeof(etc), "%s/etc", tp_dir);
	if (mount("overlay", etc, "overlay", 0, opts))
		_exit(79);
	CHECK(10, sb_sensor_proc.init(&s) == 0);
	struct proc_state *st = s.state;
	struct tp t;
	child_round(st, &t);
	CHECK(11, tp_find(&t, "node_os_info", "id", "etc", NULL) != NULL);
	CHECK(12, *st->notify.fd[0] < 0); /* no watch on an overlay */
	tp_free(&t);
	tp_rm("etc/os-release");
	child_round(st, &t);
	CHECK(13, tp_find(&t, "node_os_info", "id", "lib", NULL) != NULL);
	tp_free(&t);
	tp_puts("etc/os-release", "ID=back\n");
	child_round(st, &t);
	CHECK(14, tp_find(&t, "node_os_info", "id", "back", NULL) != NULL);
	tp_free(&t);
	sb_sensor_proc.destroy(&s);
}

static void etc_on_an_overlay_is_looked_for_at_once(void **state)
{
	(void)state;
	assert_int_equal(tp_dir_setup(NULL), 0);
	tp_mkdirs("etc");
	tp_mkdirs("lower");
	tp_mkdirs("upper");
	tp_mkdirs("work");
	tp_mkdirs("usr/lib");
	tp_puts("lower/os-release", "ID=etc\n");
	tp_puts("usr/lib/os-release", "ID=lib\n");
	ns_run(CLONE_NEWNS, "mount namespace", on_overlay);
	assert_int_equal(tp_dir_teardown(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(the_fixture_gives_every_label_unquoted),
	    cmocka_unit_test(a_later_line_wins_and_an_empty_value_is_ignored),
	    cmocka_unit_test(version_is_only_reported_above_zero),
	    cmocka_unit_test(malformed_lines_are_skipped_and_reported),
	    cmocka_unit_test(os_release_is_read_again_only_when_it_changed),
	    cmocka_unit_test(the_symlinks_target_is_watched),
	    cmocka_unit_test(neither_file_is_watched_for),
	    cmocka_unit_test(without_etc_the_stat_is_asked),
	    cmocka_unit_test(a_mount_over_os_release_is_seen),
	    cmocka_unit_test(etc_on_an_overlay_is_looked_for_at_once),
	};
	return cmocka_run_group_tests_name("proc os-release", tests, NULL, NULL);
}
