/* The filesystem collector: mountinfo as node_exporter reads it, and the
 * statfs worker that keeps a hung mount off the collection loop. */
#include "test_proc.h"

#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/wait.h>

struct mounts {
	struct sb_proc_mount m[16];
	unsigned n;
};

static void add(void *arg, const struct sb_proc_mount *m)
{
	struct mounts *ms = arg;
	if (ms->n < 16)
		ms->m[ms->n++] = *m;
}

static void mountinfo_labels_and_readonly(void **state)
{
	(void)state;
	char *text = tp_fixture("edge/mountinfo");
	struct mounts ms = {0};
	struct sb_proc_perr e = {0};
	assert_int_equal(sb_proc_parse_mountinfo(text, "/", add, &ms, &e), 9);
	assert_int_equal(e.nbad, 0);
	assert_string_equal(ms.m[0].device, "/dev/vda1");
	assert_string_equal(ms.m[0].mountpoint, "/");
	assert_string_equal(ms.m[0].fstype, "ext4");
	assert_false(ms.m[0].readonly);
	assert_string_equal(ms.m[3].mountpoint, "/srv/with space"); /* \040 */
	assert_true(ms.m[4].readonly);				    /* the mount's ro */
	assert_true(ms.m[5].readonly);				    /* the superblock's */
	/* optional fields (shared:, master:) before the separator */
	assert_string_equal(ms.m[6].fstype, "tmpfs");
	assert_string_equal(ms.m[6].device, "tmpfs");
	free(text);
}

static void rootfs_prefix_is_taken_off(void **state)
{
	(void)state;
	char *text = tp_fixture("edge/mountinfo");
	struct mounts ms = {0};
	struct sb_proc_perr e = {0};
	sb_proc_parse_mountinfo(text, "/host", add, &ms, &e);
	assert_string_equal(ms.m[7].mountpoint, "/data");
	assert_string_equal(ms.m[8].mountpoint, "/"); /* the rootfs itself */
	assert_string_equal(ms.m[0].mountpoint, "/"); /* outside it: unchanged */
	free(text);
}

static void malformed_mountinfo_lines_are_skipped(void **state)
{
	(void)state;
	static const char text[] = "22 1 254:1 / / rw - ext4 /dev/vda1 rw\n"
				   "garbage\n"
				   "23 1 0:5 / /x rw shared:1 ext4 /dev/vdb rw\n" /* no "-" */
				   "24 1 0:6 / /y rw - ext4\n"
				   "25 1 0:7 / /z rw - ext4 /dev/z rw"; /* cut short */
	struct mounts ms = {0};
	struct sb_proc_perr e = {0};
	assert_int_equal(sb_proc_parse_mountinfo(text, "/", add, &ms, &e), 1);
	assert_int_equal(e.nbad, 4);
	assert_int_equal(e.line, 2);
}

/* ---- a hung mount ---- */

struct fake {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int64_t now;
	bool release; /* lets the call on /hung return */
	unsigned calls_hung, calls_other, returned_hung;
	bool in_hung;
};

static int fake_statfs(void *arg, const char *path, struct statfs *sf)
{
	struct fake *f = arg;
	memset(sf, 0, sizeof(*sf));
	sf->f_bsize = 4096;
	sf->f_blocks = 100;
	sf->f_bfree = 50;
	sf->f_bavail = 40;
	sf->f_files = 10;
	sf->f_ffree = 5;
	pthread_mutex_lock(&f->mu);
	if (!strcmp(path, "/hung")) {
		f->calls_hung++;
		f->in_hung = true;
		pthread_cond_broadcast(&f->cv);
		while (!f->release)
			pthread_cond_wait(&f->cv, &f->mu);
		f->in_hung = false;
		f->returned_hung++;
	} else {
		f->calls_other++;
	}
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return 0;
}

static int64_t fake_now(void *arg)
{
	struct fake *f = arg;
	pthread_mutex_lock(&f->mu);
	int64_t t = f->now;
	pthread_mutex_unlock(&f->mu);
	return t;
}

/* Waits (bounded, for the worker thread: no timing is asserted) until
 * cond holds. */
#define WAIT_FOR(f, cond)                                                                          \
	do {                                                                                       \
		struct timespec dl;                                                                \
		clock_gettime(CLOCK_REALTIME, &dl);                                                \
		dl.tv_sec += 10;                                                                   \
		pthread_mutex_lock(&(f)->mu);                                                      \
		while (!(cond))                                                                    \
			if (pthread_cond_timedwait(&(f)->cv, &(f)->mu, &dl))                       \
				break;                                                             \
		bool ok_ = (cond);                                                                 \
		pthread_mutex_unlock(&(f)->mu);                                                    \
		if (!ok_)                                                                          \
			fail_msg("timed out waiting for " #cond);                                  \
	} while (0)

static void a_hung_mount_never_blocks_the_round_and_is_not_asked_again(void **state)
{
	(void)state;
	struct fake f = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	const struct sb_proc_fsops ops = {fake_statfs, fake_now, &f};
	const int64_t s = 1000000000;
	struct sb_proc_fsw *w = sb_proc_fsw_new(&ops, 5 * s);
	assert_non_null(w);
	const char *paths[] = {"/a", "/hung", "/b"};
	struct sb_proc_fsres out[3];

	/* round 1: hands the list over, nothing to report yet */
	sb_proc_fsw_round(w, paths, 3, out);
	for (int i = 0; i < 3; i++)
		assert_int_equal(out[i].state, SB_FS_PENDING);
	WAIT_FOR(&f, f.in_hung && f.calls_other == 1);

	/* round 2, 1 s later: the worker is in /hung; the round still
	 * returns, with /a's fresh values */
	f.now = 1 * s;
	sb_proc_fsw_round(w, paths, 3, out);
	assert_int_equal(out[0].state, SB_FS_OK);
	assert_double_eq(out[0].size, 409600);
	assert_double_eq(out[0].avail, 40 * 4096.0);
	assert_int_equal(out[1].state, SB_FS_PENDING);
	assert_int_equal(out[2].state, SB_FS_PENDING);

	/* round 3, past the timeout: /hung is stuck, a new worker takes
	 * /a and /b */
	f.now = 7 * s;
	sb_proc_fsw_round(w, paths, 3, out);
	assert_int_equal(out[1].state, SB_FS_STUCK);
	assert_int_equal(sb_proc_fsw_stuck(w), 1);
	WAIT_FOR(&f, f.calls_other == 3);
	assert_true(sb_proc_fsw_wait(w, 10 * s)); /* its results written */

	/* round 4: /a and /b fresh, /hung stuck and not asked again */
	f.now = 8 * s;
	sb_proc_fsw_round(w, paths, 3, out);
	assert_int_equal(out[0].state, SB_FS_OK);
	assert_int_equal(out[1].state, SB_FS_STUCK);
	assert_int_equal(out[2].state, SB_FS_OK);
	WAIT_FOR(&f, f.calls_other == 5);
	assert_true(sb_proc_fsw_wait(w, 10 * s));
	f.now = 9 * s;
	sb_proc_fsw_round(w, paths, 3, out);
	assert_int_equal(out[1].state, SB_FS_STUCK);
	assert_int_equal(f.calls_hung, 1);
	assert_true(sb_proc_fsw_wait(w, 10 * s));

	/* the stuck call returns: /hung is asked again and recovers */
	pthread_mutex_lock(&f.mu);
	f.release = true;
	pthread_cond_broadcast(&f.cv);
	pthread_mutex_unlock(&f.mu);
	WAIT_FOR(&f, f.returned_hung == 1);
	/* the abandoned worker clears the mark after its call returned */
	for (long i = 0; i < 100000000 && sb_proc_fsw_stuck(w); i++)
		sched_yield(); /* bounded: the thread is past its call */
	assert_int_equal(sb_proc_fsw_stuck(w), 0);
	f.now = 10 * s;
	sb_proc_fsw_round(w, paths, 3, out);
	WAIT_FOR(&f, f.calls_hung == 2 && f.returned_hung == 2);
	sb_proc_fsw_wait(w, 10 * s);
	f.now = 11 * s;
	sb_proc_fsw_round(w, paths, 3, out);
	assert_int_equal(out[1].state, SB_FS_OK);
	assert_int_equal(sb_proc_fsw_stuck(w), 0);
	sb_proc_fsw_free(w);
}

/* Freed while a worker is stuck: that worker frees what it shares when
 * its call returns, and the owner does not wait for it. */
static void freeing_does_not_wait_for_a_stuck_call(void **state)
{
	(void)state;
	struct fake f = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	const struct sb_proc_fsops ops = {fake_statfs, fake_now, &f};
	struct sb_proc_fsw *w = sb_proc_fsw_new(&ops, 1);
	const char *paths[] = {"/hung"};
	struct sb_proc_fsres out[1];
	sb_proc_fsw_round(w, paths, 1, out);
	WAIT_FOR(&f, f.in_hung);
	sb_proc_fsw_free(w); /* returns at once */
	pthread_mutex_lock(&f.mu);
	f.release = true;
	pthread_cond_broadcast(&f.cv);
	pthread_mutex_unlock(&f.mu);
	WAIT_FOR(&f, f.returned_hung == 1);
}

/* A fixture tree's mountinfo cannot tell of changes: read every round. */
static void a_mount_table_outside_procfs_is_always_read_again(void **state)
{
	(void)state;
	char path[] = "/tmp/sb-mounts-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(sb_proc_mounts_poll(fd), -1);
	assert_int_equal(sb_proc_mounts_poll(-1), -1);
	close(fd);
}

/* In a mount namespace of its own, a child sees: no change since the open,
 * then one after a mount, told once, and one after a remount read-only
 * (node_filesystem_readonly comes from the table). */
static void a_procfs_mount_table_tells_of_a_mount_once(void **state)
{
	(void)state;
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		skip();
	assert_int_equal(sb_proc_mounts_poll(fd), 0);
	close(fd);
	char dir[] = "/tmp/sb-mnt-XXXXXX";
	assert_non_null(mkdtemp(dir));
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			_exit(77);
		int f = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
		if (f < 0 || sb_proc_mounts_poll(f) != 0)
			_exit(1);
		if (mount("none", dir, "tmpfs", 0, "size=64k"))
			_exit(77);
		int a = sb_proc_mounts_poll(f), b = sb_proc_mounts_poll(f);
		if (mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL))
			_exit(3);
		int c = sb_proc_mounts_poll(f);
		umount(dir);
		_exit(a == 1 && b == 0 && c == 1 ? 0 : 2);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	rmdir(dir);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip(); /* no CAP_SYS_ADMIN here */
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(mountinfo_labels_and_readonly),
	    cmocka_unit_test(rootfs_prefix_is_taken_off),
	    cmocka_unit_test(malformed_mountinfo_lines_are_skipped),
	    cmocka_unit_test(a_hung_mount_never_blocks_the_round_and_is_not_asked_again),
	    cmocka_unit_test(freeing_does_not_wait_for_a_stuck_call),
	    cmocka_unit_test(a_mount_table_outside_procfs_is_always_read_again),
	    cmocka_unit_test(a_procfs_mount_table_tells_of_a_mount_once),
	};
	return cmocka_run_group_tests_name("proc filesystem", tests, NULL, NULL);
}
