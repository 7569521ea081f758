/* Safe file access: what is read from a directory another user writes
 * (a FIFO, a link, a huge file, a secret with the wrong owner or mode is
 * refused, never waited on or followed), and where files are created (no
 * directory another user can write or own, no planted link followed). */
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

#include "sb_fsafe.h"

#define OTHER_UID 54321

struct fx {
	char dir[64];
	char why[512];
	struct sb_buf buf;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/sb-fsafe-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	sb_buf_init(&f->buf);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "chmod -R u+w %s; rm -rf %s", f->dir, f->dir);
	assert_int_equal(system(cmd), 0);
	sb_buf_free(&f->buf);
	free(f);
	return 0;
}

static const char *at(struct fx *f, const char *name)
{
	static char p[4][256];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", f->dir, name);
	return p[i];
}

static void put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void need_root(void)
{
	if (geteuid() != 0)
		skip();
}

static void reason(struct fx *f, const char *want)
{
	if (!strstr(f->why, want))
		fail_msg("reason \"%s\" lacks \"%s\"", f->why, want);
}

/* ---- reading ---- */

static void test_a_regular_file_is_read(void **state)
{
	struct fx *f = *state;
	put(at(f, "tok"), "abc\n", 0600);
	struct stat st;
	assert_int_equal(sb_fsafe_read(at(f, "tok"), SB_FSAFE_SECRET, 4096, &f->buf, &st, f->why,
				       sizeof(f->why)),
			 4);
	assert_string_equal(f->buf.data, "abc\n");
	assert_int_equal(st.st_size, 4);
}

static void test_a_fifo_is_refused_without_waiting(void **state)
{
	struct fx *f = *state;
	assert_int_equal(mkfifo(at(f, "tok"), 0600), 0);
	/* no writer: a blocking open would never return */
	assert_int_equal(
	    sb_fsafe_read(at(f, "tok"), 0, 4096, &f->buf, NULL, f->why, sizeof(f->why)), -EINVAL);
	reason(f, "a FIFO, not a regular file");
	reason(f, at(f, "tok"));
}

static void test_a_symlink_is_not_followed(void **state)
{
	struct fx *f = *state;
	put(at(f, "secret"), "root only\n", 0600);
	assert_int_equal(symlink(at(f, "secret"), at(f, "tok")), 0);
	assert_int_equal(
	    sb_fsafe_read(at(f, "tok"), 0, 4096, &f->buf, NULL, f->why, sizeof(f->why)), -ELOOP);
	reason(f, "a symbolic link, not followed");
	assert_true(f->buf.len == 0 || !strstr(f->buf.data, "root only"));
}

static void test_a_directory_is_not_read(void **state)
{
	struct fx *f = *state;
	assert_int_equal(mkdir(at(f, "tok"), 0700), 0);
	assert_int_equal(
	    sb_fsafe_read(at(f, "tok"), 0, 4096, &f->buf, NULL, f->why, sizeof(f->why)), -EINVAL);
	reason(f, "a directory");
}

static void test_a_file_over_the_bound_is_refused(void **state)
{
	struct fx *f = *state;
	char big[5000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	put(at(f, "tok"), big, 0600);
	assert_int_equal(
	    sb_fsafe_read(at(f, "tok"), 0, 4096, &f->buf, NULL, f->why, sizeof(f->why)), -EFBIG);
	reason(f, "4999 bytes, more than the 4096 expected");
}

static void test_a_secret_of_another_owner_is_refused(void **state)
{
	struct fx *f = *state;
	need_root();
	put(at(f, "tok"), "abc\n", 0600);
	assert_int_equal(chown(at(f, "tok"), OTHER_UID, OTHER_UID), 0);
	assert_int_equal(sb_fsafe_read(at(f, "tok"), SB_FSAFE_SECRET, 4096, &f->buf, NULL, f->why,
				       sizeof(f->why)),
			 -EPERM);
	reason(f, "owned by uid 54321, not by root or its directory's owner (uid 0)");
	/* not a secret: anyone's file may be read */
	assert_int_equal(
	    sb_fsafe_read(at(f, "tok"), 0, 4096, &f->buf, NULL, f->why, sizeof(f->why)), 4);
}

static void test_a_secret_of_the_directory_owner_or_root_is_read(void **state)
{
	struct fx *f = *state;
	need_root();
	/* algod's data directory is the algod user's, and so is its token */
	assert_int_equal(mkdir(at(f, "data"), 0750), 0);
	assert_int_equal(chown(at(f, "data"), OTHER_UID, OTHER_UID), 0);
	put(at(f, "data/tok"), "abc\n", 0640);
	assert_int_equal(chown(at(f, "data/tok"), OTHER_UID, OTHER_UID), 0);
	assert_int_equal(sb_fsafe_read(at(f, "data/tok"), SB_FSAFE_SECRET, 4096, &f->buf, NULL,
				       f->why, sizeof(f->why)),
			 4);
	assert_int_equal(chown(at(f, "data/tok"), 0, 0), 0);
	assert_int_equal(sb_fsafe_read(at(f, "data/tok"), SB_FSAFE_SECRET, 4096, &f->buf, NULL,
				       f->why, sizeof(f->why)),
			 4);
}

static void test_a_group_or_world_writable_secret_is_refused(void **state)
{
	struct fx *f = *state;
	put(at(f, "tok"), "abc\n", 0620);
	assert_int_equal(sb_fsafe_read(at(f, "tok"), SB_FSAFE_SECRET, 4096, &f->buf, NULL, f->why,
				       sizeof(f->why)),
			 -EPERM);
	reason(f, "writable by group or others (mode 0620)");
	put(at(f, "tok"), "abc\n", 0602);
	assert_int_equal(sb_fsafe_read(at(f, "tok"), SB_FSAFE_SECRET, 4096, &f->buf, NULL, f->why,
				       sizeof(f->why)),
			 -EPERM);
}

static void test_a_hard_linked_secret_is_refused(void **state)
{
	struct fx *f = *state;
	put(at(f, "shadow"), "root only\n", 0600);
	assert_int_equal(link(at(f, "shadow"), at(f, "tok")), 0);
	assert_int_equal(sb_fsafe_read(at(f, "tok"), SB_FSAFE_SECRET, 4096, &f->buf, NULL, f->why,
				       sizeof(f->why)),
			 -EPERM);
	reason(f, "2 hard links, one expected");
}

/* ---- directories files are created in ---- */

static void test_a_private_directory_is_opened(void **state)
{
	struct fx *f = *state;
	int d = sb_fsafe_dir_open(f->dir, 0, f->why, sizeof(f->why));
	assert_true(d >= 0);
	close(d);
}

static void test_missing_directories_are_made_0750(void **state)
{
	struct fx *f = *state;
	int d = sb_fsafe_dir_open(at(f, "a/b/c"), 0750, f->why, sizeof(f->why));
	assert_true(d >= 0);
	close(d);
	struct stat st;
	assert_int_equal(stat(at(f, "a/b/c"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750 & ~022);
	assert_int_equal(stat(at(f, "a"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* without mkdir_mode nothing is made */
	assert_int_equal(sb_fsafe_dir_open(at(f, "x/y"), 0, f->why, sizeof(f->why)), -ENOENT);
	reason(f, at(f, "x"));
}

static void test_a_file_on_the_way_is_named(void **state)
{
	struct fx *f = *state;
	put(at(f, "file"), "", 0600);
	assert_int_equal(sb_fsafe_dir_open(at(f, "file/sub"), 0750, f->why, sizeof(f->why)),
			 -ENOTDIR);
	reason(f, at(f, "file: Not a directory"));
}

static void test_a_sticky_world_writable_directory_is_refused(void **state)
{
	struct fx *f = *state;
	assert_int_equal(mkdir(at(f, "tmp"), 0700), 0);
	assert_int_equal(chmod(at(f, "tmp"), 01777), 0);
	assert_int_equal(sb_fsafe_dir_open(at(f, "tmp"), 0, f->why, sizeof(f->why)), -EPERM);
	reason(f, "writable by group or others (mode 1777)");
	/* on the way to a private one it is fine: entries in it are renamed
	 * only by their owners (as /tmp/sb-fsafe-test.* itself) */
	assert_int_equal(mkdir(at(f, "tmp/mine"), 0700), 0);
	int d = sb_fsafe_dir_open(at(f, "tmp/mine"), 0, f->why, sizeof(f->why));
	assert_true(d >= 0);
	close(d);
}

static void test_a_group_writable_directory_is_refused(void **state)
{
	struct fx *f = *state;
	assert_int_equal(mkdir(at(f, "g"), 0700), 0);
	assert_int_equal(chmod(at(f, "g"), 0770), 0);
	assert_int_equal(sb_fsafe_dir_open(at(f, "g"), 0, f->why, sizeof(f->why)), -EPERM);
	reason(f, "mode 0770");
	/* nor may it be on the way: its entries could be swapped */
	assert_int_equal(mkdir(at(f, "g/sub"), 0700), 0);
	assert_int_equal(sb_fsafe_dir_open(at(f, "g/sub"), 0, f->why, sizeof(f->why)), -EPERM);
	reason(f, at(f, "g"));
}

static void test_a_directory_of_another_user_is_refused(void **state)
{
	struct fx *f = *state;
	need_root();
	assert_int_equal(mkdir(at(f, "o"), 0755), 0);
	assert_int_equal(chown(at(f, "o"), OTHER_UID, OTHER_UID), 0);
	assert_int_equal(sb_fsafe_dir_open(at(f, "o"), 0, f->why, sizeof(f->why)), -EPERM);
	reason(f, "owned by uid 54321, not by root or this user (uid 0)");
}

static void test_a_symlink_of_another_user_on_the_way_is_refused(void **state)
{
	struct fx *f = *state;
	need_root();
	assert_int_equal(mkdir(at(f, "etc"), 0755), 0);
	assert_int_equal(symlink(at(f, "etc"), at(f, "l")), 0);
	assert_int_equal(lchown(at(f, "l"), OTHER_UID, OTHER_UID), 0);
	assert_int_equal(sb_fsafe_dir_open(at(f, "l"), 0, f->why, sizeof(f->why)), -EPERM);
	reason(f, "a symbolic link owned by uid 54321, not followed");
	/* ours is followed, relative or absolute */
	assert_int_equal(symlink("etc", at(f, "mine")), 0);
	int d = sb_fsafe_dir_open(at(f, "mine"), 0, f->why, sizeof(f->why));
	assert_true(d >= 0);
	close(d);
}

/* ---- files created ---- */

static void test_a_planted_symlink_is_not_written_through(void **state)
{
	struct fx *f = *state;
	put(at(f, "victim"), "precious\n", 0600);
	assert_int_equal(symlink(at(f, "victim"), at(f, "out")), 0);
	int d = sb_fsafe_dir_open(f->dir, 0, f->why, sizeof(f->why));
	assert_true(d >= 0);
	int flags[] = {O_WRONLY | O_APPEND | O_CREAT, O_WRONLY | O_CREAT | O_TRUNC, O_RDWR};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(
		    sb_fsafe_open_in(d, f->dir, "out", flags[i], 0640, 0, f->why, sizeof(f->why)),
		    -ELOOP);
		reason(f, "a symbolic link, not followed");
	}
	/* a dangling one does not create its target either */
	assert_int_equal(symlink(at(f, "new"), at(f, "dangling")), 0);
	assert_int_equal(sb_fsafe_open_in(d, f->dir, "dangling", O_WRONLY | O_CREAT, 0640, 0,
					  f->why, sizeof(f->why)),
			 -ELOOP);
	close(d);
	struct stat st;
	assert_int_equal(stat(at(f, "victim"), &st), 0);
	assert_int_equal(st.st_size, 9);
	assert_int_equal(lstat(at(f, "new"), &st), -1);
}

static void test_a_file_is_created_or_appended_to(void **state)
{
	struct fx *f = *state;
	int fd = sb_fsafe_open_path(at(f, "d/out"), O_WRONLY | O_APPEND | O_CREAT, 0640, 0750, 0,
				    NULL, f->why, sizeof(f->why));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "a", 1), 1);
	close(fd);
	fd = sb_fsafe_open_path(at(f, "d/out"), O_WRONLY | O_APPEND | O_CREAT, 0640, 0750, 0, NULL,
				f->why, sizeof(f->why));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "b", 1), 1);
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	close(fd);
	struct stat st;
	assert_int_equal(stat(at(f, "d/out"), &st), 0);
	assert_int_equal(st.st_size, 2);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* O_EXCL: must be new */
	assert_int_equal(sb_fsafe_open_path(at(f, "d/out"), O_WRONLY | O_CREAT | O_EXCL, 0640, 0, 0,
					    NULL, f->why, sizeof(f->why)),
			 -EEXIST);
}

static void test_a_fifo_in_place_of_a_file_is_refused(void **state)
{
	struct fx *f = *state;
	assert_int_equal(mkfifo(at(f, "out"), 0600), 0);
	assert_int_equal(sb_fsafe_open_path(at(f, "out"), O_RDWR | O_CREAT, 0640, 0, 0, NULL,
					    f->why, sizeof(f->why)),
			 -EINVAL);
	reason(f, "a FIFO, not a regular file");
}

static void test_a_device_only_when_asked(void **state)
{
	struct fx *f = *state;
	assert_int_equal(sb_fsafe_open_path("/dev/null", O_WRONLY | O_APPEND | O_CREAT, 0640, 0, 0,
					    NULL, f->why, sizeof(f->why)),
			 -EINVAL);
	reason(f, "a character device");
	int fd = sb_fsafe_open_path("/dev/null", O_WRONLY | O_APPEND | O_CREAT, 0640, 0,
				    SB_FSAFE_DEVICE, NULL, f->why, sizeof(f->why));
	assert_true(fd >= 0);
	close(fd);
}

int main(void)
{
	umask(022);
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_a_regular_file_is_read),
	    T(test_a_fifo_is_refused_without_waiting),
	    T(test_a_symlink_is_not_followed),
	    T(test_a_directory_is_not_read),
	    T(test_a_file_over_the_bound_is_refused),
	    T(test_a_secret_of_another_owner_is_refused),
	    T(test_a_secret_of_the_directory_owner_or_root_is_read),
	    T(test_a_group_or_world_writable_secret_is_refused),
	    T(test_a_hard_linked_secret_is_refused),
	    T(test_a_private_directory_is_opened),
	    T(test_missing_directories_are_made_0750),
	    T(test_a_file_on_the_way_is_named),
	    T(test_a_sticky_world_writable_directory_is_refused),
	    T(test_a_group_writable_directory_is_refused),
	    T(test_a_directory_of_another_user_is_refused),
	    T(test_a_symlink_of_another_user_on_the_way_is_refused),
	    T(test_a_planted_symlink_is_not_written_through),
	    T(test_a_file_is_created_or_appended_to),
	    T(test_a_fifo_in_place_of_a_file_is_refused),
	    T(test_a_device_only_when_asked),
#undef T
	};
	return cmocka_run_group_tests_name("fsafe", tests, NULL, NULL);
}
