/* CPU lists from sysfs (isolated, online, a node's cpulist): a list names
 * each CPU at most once and none above the kernel's limit, so a few KB of
 * crafted ranges cannot expand into millions of samples. */
#include "test_proc.h"

static unsigned calls;
static void count(void *arg, unsigned cpu)
{
	(void)arg;
	(void)cpu;
	calls++;
}

/* "0-8191,0-8191,..." in 7 KB: 8.2 million CPUs if ranges may repeat. */
static char *bomb(void)
{
	size_t cap = 7200, len = 0;
	char *s = malloc(cap);
	while (len + 8 < cap)
		len += (size_t)snprintf(s + len, cap - len, "0-8191,");
	s[len - 1] = '\n';
	return s;
}

static void repeated_ranges_are_refused_without_expanding(void **state)
{
	(void)state;
	char *s = bomb();
	calls = 0;
	assert_int_equal(sb_proc_parse_cpulist(s, count, NULL, 8191), -ERANGE);
	assert_int_equal(calls, 0);
	free(s);
}

static void ranges_must_ascend_without_overlap(void **state)
{
	(void)state;
	calls = 0;
	assert_int_equal(sb_proc_parse_cpulist("0-3,8-11\n", count, NULL, 8191), 8);
	assert_int_equal(calls, 8);
	calls = 0;
	assert_int_equal(sb_proc_parse_cpulist("0-3,3\n", count, NULL, 8191), -ERANGE);
	assert_int_equal(sb_proc_parse_cpulist("4,2\n", count, NULL, 8191), -ERANGE);
	assert_int_equal(sb_proc_parse_cpulist("0-4294967295\n", count, NULL, 8191), -ERANGE);
	assert_int_equal(sb_proc_parse_cpulist("8192\n", count, NULL, 8191), -ERANGE);
	assert_int_equal(sb_proc_parse_cpulist("1,x\n", count, NULL, 8191), -EINVAL);
	assert_int_equal(calls, 0); /* a bad list names no CPU, not even its good start */
	assert_int_equal(sb_proc_parse_cpulist("0-8191\n", count, NULL, 8191), 8192);
}

static char logged[512];
static unsigned nlogged;
static void hook(enum sb_log_level l, const char *line, void *arg)
{
	(void)l;
	(void)arg;
	nlogged++;
	snprintf(logged, sizeof(logged), "%s", line);
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

/* Runs the sysfs half of the cpu collector over tp_dir with isolated
 * holding text; returns the node_cpu_isolated samples. */
static unsigned isolated_samples(const char *text, uint64_t *errors)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/devices", tp_dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/devices/system", tp_dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/devices/system/cpu", tp_dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/devices/system/cpu/isolated", tp_dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	struct proc_cfg cfg = {.procfs = tp_dir, .sysfs = tp_dir};
	struct proc_state st = {.cfg = &cfg, .comp = "proc"};
	nlogged = 0;
	logged[0] = 0;
	assert_int_equal(sb_proc_cpu_sysfs_init(&st), 0);
	struct tp t;
	tp_begin(&t);
	sb_proc_cpu_sysfs_collect(&st, &t.b);
	t.ev = sb_evb_finish(&t.b);
	assert_non_null(t.ev);
	unsigned n = tp_count(&t, "node_cpu_isolated");
	tp_free(&t);
	sb_proc_cpu_sysfs_free(&st);
	*errors = st.errors;
	return n;
}

static void an_isolated_list_is_read(void **state)
{
	(void)state;
	uint64_t errors;
	assert_int_equal(isolated_samples("1,3-4\n", &errors), 3);
	assert_int_equal(errors, 0);
	assert_int_equal(nlogged, 0);
}

static void an_isolated_bomb_is_one_error_naming_the_file(void **state)
{
	(void)state;
	char *s = bomb();
	uint64_t errors;
	assert_int_equal(isolated_samples(s, &errors), 0);
	free(s);
	assert_int_equal(errors, 1);
	assert_int_equal(nlogged, 1);
	assert_non_null(strstr(logged, "/devices/system/cpu/isolated: not a CPU list"));
	assert_non_null(strstr(logged, "above 8191"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(repeated_ranges_are_refused_without_expanding),
	    cmocka_unit_test(ranges_must_ascend_without_overlap),
	    cmocka_unit_test(an_isolated_list_is_read),
	    cmocka_unit_test(an_isolated_bomb_is_one_error_naming_the_file),
	};
	return cmocka_run_group_tests_name("proc_cpulist", tests, setup, teardown);
}
