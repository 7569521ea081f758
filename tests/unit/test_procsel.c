/* One rule selects processes by name for the proc sensor (both readers)
 * and the bpf sensor's watch: comm, compared on the kernel's 15 bytes,
 * else argv[0]'s basename. argv[0] comes from a fixture procfs tree. */
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

#include "sb_procsel.h"

static void test_comm_is_compared_on_the_kernels_15_bytes(void **state)
{
	(void)state;
	assert_true(sb_procsel_comm("algod", "algod"));
	assert_false(sb_procsel_comm("algod", "algodx"));
	assert_false(sb_procsel_comm("algodx", "algod"));
	/* a longer name: the comm the kernel keeps of it */
	assert_true(sb_procsel_comm("prometheus-process-exporter", "prometheus-proc"));
	assert_false(sb_procsel_comm("prometheus-process-exporter", "prometheus-pro"));
	assert_false(sb_procsel_comm("prometheus-process-exporter", "prometheus"));
}

struct tree {
	char dir[64];
	int fd;
};

static void cmdline(struct tree *t, uint32_t pid, const char *data, size_t len)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/%u", t->dir, pid);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/%u/cmdline", t->dir, pid);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static int setup(void **state)
{
	static struct tree t;
	snprintf(t.dir, sizeof(t.dir), "/tmp/sensorbus-test.procsel.XXXXXX");
	if (!mkdtemp(t.dir))
		return -1;
	static const char algod[] = "/opt/algorand/bin/algod\0-d\0/var/lib/algorand";
	static const char postgres[] = "postgres: checkpointer   ";
	cmdline(&t, 10, algod, sizeof(algod));
	cmdline(&t, 11, postgres, sizeof(postgres) - 1);
	t.fd = open(t.dir, O_RDONLY | O_DIRECTORY);
	*state = &t;
	return t.fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];
	close(t->fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
	return system(cmd) ? -1 : 0;
}

static void test_argv0_when_no_comm_matches(void **state)
{
	struct tree *t = *state;
	const char *names[] = {"node", "algod", "postgres:"};
	/* comm first: no file read (pid 99 has none) */
	assert_int_equal(sb_procsel_match(names, 3, "algod", t->fd, 99, false), 1);
	/* a renamed comm, found by argv[0]'s basename */
	assert_int_equal(sb_procsel_match(names, 3, "algod-main", t->fd, 10, false), 1);
	/* an argv rewritten with spaces: its first word */
	assert_int_equal(sb_procsel_match(names, 3, "postgres", t->fd, 11, false), 2);
	assert_int_equal(sb_procsel_match(names, 1, "algod-main", t->fd, 10, false), -1);
}

static void test_no_argv_no_match(void **state)
{
	struct tree *t = *state;
	const char *names[] = {"algod"};
	/* a kernel thread, a process gone, no procfs: comm alone */
	assert_int_equal(sb_procsel_match(names, 1, "kworker/0:1", t->fd, 10, true), -1);
	assert_int_equal(sb_procsel_match(names, 1, "x", t->fd, 12, false), -1);
	assert_int_equal(sb_procsel_match(names, 1, "x", -1, 10, false), -1);
}

static void test_the_first_name_that_selects_wins(void **state)
{
	struct tree *t = *state;
	const char *names[] = {"algod", "algod"};
	assert_int_equal(sb_procsel_match(names, 2, "algod", t->fd, 10, false), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_comm_is_compared_on_the_kernels_15_bytes),
	    cmocka_unit_test(test_argv0_when_no_comm_matches),
	    cmocka_unit_test(test_no_argv_no_match),
	    cmocka_unit_test(test_the_first_name_that_selects_wins),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
