/* The round's one poll of the descriptors collectors keep (notify.c): what
 * it found on each, and "not asked" wherever its answer would not be the
 * descriptor's own. */
#include "test_proc_fx.h"

#include <poll.h>
#include <sys/mount.h>

#include "test_netns.h"

static void each_descriptor_gets_its_own_answer(void **state)
{
	(void)state;
	struct proc_state st = {0};
	int told[2], quiet[2], none = -1;
	assert_int_equal(pipe(told), 0);
	assert_int_equal(pipe(quiet), 0);
	assert_int_equal(write(told[1], "x", 1), 1);
	int a = sb_proc_notify_add(&st, &told[0], POLLIN);
	int b = sb_proc_notify_add(&st, &quiet[0], POLLIN);
	int c = sb_proc_notify_add(&st, &none, POLLIN);
	/* before any poll: not asked */
	assert_int_equal(sb_proc_notify_told(&st, a), -1);
	sb_proc_notify_poll(&st);
	assert_int_equal(sb_proc_notify_told(&st, a), 1);
	assert_int_equal(sb_proc_notify_told(&st, b), 0);
	assert_int_equal(sb_proc_notify_told(&st, c), -1); /* none to ask */
	/* the next round's poll asks again: drained, it tells nothing */
	char ch;
	assert_int_equal(read(told[0], &ch, 1), 1);
	sb_proc_notify_poll(&st);
	assert_int_equal(sb_proc_notify_told(&st, a), 0);
	/* a descriptor opened after the poll was not asked */
	int fresh[2];
	assert_int_equal(pipe(fresh), 0);
	none = fresh[0];
	assert_int_equal(sb_proc_notify_told(&st, c), -1);
	sb_proc_notify_poll(&st);
	assert_int_equal(sb_proc_notify_told(&st, c), 0);
	/* a peer gone is something to read (the end) */
	close(quiet[1]);
	sb_proc_notify_poll(&st);
	assert_int_equal(sb_proc_notify_told(&st, b), 1);
	/* past the table's room: its keeper asks on its own */
	while (st.notify.n < SB_PROC_NOTIFY_MAX)
		sb_proc_notify_add(&st, &none, POLLIN);
	assert_int_equal(sb_proc_notify_add(&st, &none, POLLIN), -1);
	assert_int_equal(sb_proc_notify_told(&st, -1), -1);
	close(told[0]);
	close(told[1]);
	close(quiet[0]);
	close(fresh[0]);
	close(fresh[1]);
}

/* A mount table's change is told once, to the round's poll: the filesystem
 * and os collectors take its answer, since a poll of their own in that
 * round would find nothing. */
static void in_mount_namespace(void)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		_exit(77);
	struct proc_state st = {0};
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	CHECK(10, fd >= 0 && sb_proc_mounts_pollable(fd));
	int s = sb_proc_notify_add(&st, &fd, POLLPRI);
	sb_proc_notify_poll(&st);
	CHECK(11, sb_proc_notify_told(&st, s) == 0);
	CHECK(12, mount("none", "/mnt", "tmpfs", 0, NULL) == 0);
	sb_proc_notify_poll(&st);
	CHECK(13, sb_proc_notify_told(&st, s) == 1);
	CHECK(14, sb_proc_mounts_changed(fd) == 0); /* the round's poll took it */
	sb_proc_notify_poll(&st);
	CHECK(15, sb_proc_notify_told(&st, s) == 0);
	close(fd);
}

static void a_mount_tables_change_is_the_rounds(void **state)
{
	(void)state;
	ns_run(CLONE_NEWNS, "mount namespace", in_mount_namespace);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(each_descriptor_gets_its_own_answer),
	    cmocka_unit_test(a_mount_tables_change_is_the_rounds),
	};
	return cmocka_run_group_tests_name("proc notify", tests, NULL, NULL);
}
