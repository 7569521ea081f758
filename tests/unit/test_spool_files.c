/* How the spool opens its files: never through a link planted under the
 * name of its lock, cursor log or the cursor log's temp file (the target
 * stays as it was), and only in a directory no other user can write or
 * own, made 0750 when missing. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/spool/spool.h"
#include "sb_log.h"

struct fx {
	char dir[64];
	char spool[128];
	struct sb_spool_opts o;
	struct sb_spool *sp;
	char log[4096];
};

static void capture(enum sb_log_level l, const char *line, void *arg)
{
	(void)l;
	struct fx *f = arg;
	size_t n = strlen(f->log);
	snprintf(f->log + n, sizeof(f->log) - n, "%s\n", line);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/sb-spoolf-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->spool, sizeof(f->spool), "%s/spool", f->dir);
	f->o.dir = f->spool;
	f->o.name = "test";
	f->o.segment_bytes = 1 << 20;
	f->o.full = SB_SPOOL_BLOCK;
	sb_log_set_hook(capture, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sb_spool_close(f->sp);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	sb_log_set_hook(NULL, NULL);
	free(f);
	return 0;
}

static const char *in(struct fx *f, const char *name)
{
	static char p[2][256];
	static int i;
	i ^= 1;
	snprintf(p[i], sizeof(p[i]), "%s/%s", f->spool, name);
	return p[i];
}

static void logged(struct fx *f, const char *want)
{
	if (!strstr(f->log, want))
		fail_msg("no log line with \"%s\" in:\n%s", want, f->log);
}

/* A file outside the spool with known content, and a link to it planted
 * in the spool under name. */
static void plant(struct fx *f, const char *name, char *victim, size_t n)
{
	snprintf(victim, n, "%s/victim", f->dir);
	FILE *fp = fopen(victim, "w");
	assert_non_null(fp);
	fputs("precious\n", fp);
	fclose(fp);
	assert_int_equal(mkdir(f->spool, 0750), 0);
	assert_int_equal(symlink(victim, in(f, name)), 0);
}

static void unchanged(const char *victim)
{
	char b[64] = {0};
	FILE *fp = fopen(victim, "r");
	assert_non_null(fp);
	size_t n = fread(b, 1, sizeof(b) - 1, fp);
	fclose(fp);
	assert_int_equal(n, 9);
	assert_string_equal(b, "precious\n");
}

static void test_a_link_planted_as_the_lock_is_not_followed(void **state)
{
	struct fx *f = *state;
	char victim[128];
	plant(f, "lock", victim, sizeof(victim));
	assert_int_equal(sb_spool_open(&f->o, &f->sp, NULL), -ELOOP);
	logged(f, "lock: a symbolic link, not followed");
	unchanged(victim);
}

static void test_a_dangling_link_as_the_lock_makes_nothing(void **state)
{
	struct fx *f = *state;
	char target[128];
	snprintf(target, sizeof(target), "%s/made-by-link", f->dir);
	assert_int_equal(mkdir(f->spool, 0750), 0);
	assert_int_equal(symlink(target, in(f, "lock")), 0);
	assert_int_equal(sb_spool_open(&f->o, &f->sp, NULL), -ELOOP);
	struct stat st;
	assert_int_equal(lstat(target, &st), -1);
}

/* Set aside rather than refused: the sink keeps running, and with no
 * cursor every record is sent again (duplicates, never gaps). */
static void test_a_link_planted_as_the_cursor_log_is_not_followed(void **state)
{
	struct fx *f = *state;
	char victim[128];
	plant(f, "cursor", victim, sizeof(victim));
	assert_int_equal(sb_spool_open(&f->o, &f->sp, NULL), 0);
	logged(f, "is a symlink, not a cursor log; set aside as cursor.bad");
	unchanged(victim);
	struct stat st;
	assert_int_equal(lstat(in(f, "cursor.bad"), &st), 0);
	assert_true(S_ISLNK(st.st_mode));
}

static void test_a_link_planted_as_the_cursor_temp_file_is_replaced(void **state)
{
	struct fx *f = *state;
	char victim[128];
	plant(f, "cursor.tmp", victim, sizeof(victim));
	/* the rewrite of the cursor log truncated what this pointed to */
	assert_int_equal(sb_spool_open(&f->o, &f->sp, NULL), 0);
	unchanged(victim);
	struct stat st;
	assert_int_equal(lstat(in(f, "cursor"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

static void test_a_sticky_world_writable_spool_directory_is_refused(void **state)
{
	struct fx *f = *state;
	assert_int_equal(mkdir(f->spool, 0700), 0);
	assert_int_equal(chmod(f->spool, 01777), 0);
	assert_int_equal(sb_spool_open(&f->o, &f->sp, NULL), -EPERM);
	logged(f, "writable by group or others (mode 1777)");
	logged(f, f->spool);
	struct stat st;
	assert_int_equal(lstat(in(f, "lock"), &st), -1);
}

static void test_a_spool_directory_of_another_user_is_refused(void **state)
{
	struct fx *f = *state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(mkdir(f->spool, 0700), 0);
	assert_int_equal(chown(f->spool, 54321, 54321), 0);
	assert_int_equal(sb_spool_open(&f->o, &f->sp, NULL), -EPERM);
	logged(f, "owned by uid 54321");
}

static void test_a_missing_spool_directory_is_made_0750(void **state)
{
	struct fx *f = *state;
	snprintf(f->spool, sizeof(f->spool), "%s/a/b", f->dir);
	mode_t old = umask(022);
	assert_int_equal(sb_spool_open(&f->o, &f->sp, NULL), 0);
	umask(old);
	struct stat st;
	assert_int_equal(stat(f->spool, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(lstat(in(f, "lock"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_a_link_planted_as_the_lock_is_not_followed),
	    T(test_a_dangling_link_as_the_lock_makes_nothing),
	    T(test_a_link_planted_as_the_cursor_log_is_not_followed),
	    T(test_a_link_planted_as_the_cursor_temp_file_is_replaced),
	    T(test_a_sticky_world_writable_spool_directory_is_refused),
	    T(test_a_spool_directory_of_another_user_is_refused),
	    T(test_a_missing_spool_directory_is_made_0750),
#undef T
	};
	return cmocka_run_group_tests_name("spool_files", tests, NULL, NULL);
}
