/* A test that needs a network namespace of its own (test_proc_links.c,
 * test_proc_udp.c, test_proc_uevent.c), or a mount namespace
 * (test_proc_os.c): it runs in a forked child, so the
 * namespace and whatever it made there go with the child. The child tells a
 * failed check by the check's number as its exit status (cmocka's asserts
 * belong to the parent), 77 when what it needs cannot be had here, 78 when
 * the kernel makes no veth devices. */
#ifndef SB_TEST_NETNS_H
#define SB_TEST_NETNS_H

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(n, cond)                                                                             \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "check %d: %s\n", n, #cond);                               \
			_exit(n);                                                                  \
		}                                                                                  \
	} while (0)

/* child() runs in new namespaces of the kinds flags names (CLONE_NEWNET,
 * CLONE_NEWNS; what: their name for a SKIP) and exits there. */
static inline void ns_run(int flags, const char *what, void (*child)(void))
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (unshare(flags))
			_exit(77);
		child();
		_exit(0);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		fprintf(stderr, "SKIP: no %s of its own here (needs root)\n", what);
		skip();
	}
	if (WEXITSTATUS(status) == 78) {
		fprintf(stderr, "SKIP: this kernel makes no veth devices\n");
		skip();
	}
	if (WEXITSTATUS(status) == 79) {
		fprintf(stderr, "SKIP: this kernel mounts no overlay filesystem\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

static inline void netns_run(void (*child)(void))
{
	ns_run(CLONE_NEWNET, "network namespace", child);
}

#endif
