/* Per-process metrics over a procfs-like tree in a temp directory: name
 * and pid matching, what is re-read when, processes coming and going. */
#include "test_proc.h"

static int nwarn, ninfo;
static char last[512];

static void hook(enum sb_log_level l, const char *line, void *arg)
{
	(void)arg;
	if (l <= SB_LOG_WARN)
		nwarn++;
	else if (l == SB_LOG_INFO)
		ninfo++;
	snprintf(last, sizeof(last), "%s", line);
}

static void mkproc(int pid, const char *comm, const char *argv0, unsigned start)
{
	char rel[160], text[512];
	snprintf(rel, sizeof(rel), "%s/%d", tp_dir, pid);
	assert_int_equal(mkdir(rel, 0755), 0);
	snprintf(rel, sizeof(rel), "%s/%d/fd", tp_dir, pid);
	assert_int_equal(mkdir(rel, 0755), 0);
	snprintf(rel, sizeof(rel), "%s/%d/fd/0", tp_dir, pid);
	assert_int_equal(symlink("/dev/null", rel), 0);
	int n = snprintf(text, sizeof(text),
			 "%d (%s) S 1 1 1 0 -1 4194560 10 0 2 0 300 200 0 0 20 0 3 0 %u 1000000 "
			 "25 18446744073709551615\n",
			 pid, comm, start);
	snprintf(rel, sizeof(rel), "%d/stat", pid);
	tp_put(rel, text, (size_t)n);
	n = snprintf(text, sizeof(text),
		     "Name:\t%s\nPid:\t%d\nvoluntary_ctxt_switches:\t5\n"
		     "nonvoluntary_ctxt_switches:\t6\n",
		     comm, pid);
	snprintf(rel, sizeof(rel), "%d/status", pid);
	tp_put(rel, text, (size_t)n);
	snprintf(rel, sizeof(rel), "%d/io", pid);
	tp_put(rel, "read_bytes: 7\nwrite_bytes: 8\n", 29);
	snprintf(rel, sizeof(rel), "%d/limits", pid);
	tp_put(rel, "Max open files            100                  200                  files\n",
	       74);
	snprintf(rel, sizeof(rel), "%d/cmdline", pid);
	tp_put(rel, argv0, strlen(argv0) + 1);
}

static void rename_comm(int pid, const char *comm, unsigned start)
{
	char rel[64], text[256];
	int n = snprintf(text, sizeof(text),
			 "%d (%s) S 1 1 1 0 -1 4194560 10 0 2 0 300 200 0 0 20 0 3 0 %u 1000000 "
			 "25 18446744073709551615\n",
			 pid, comm, start);
	snprintf(rel, sizeof(rel), "%d/stat", pid);
	tp_put(rel, text, (size_t)n);
}

struct fx {
	struct proc_cfg cfg;
	struct proc_state st;
	struct tp t;
	char *names[4];
	char *pids[4];
};

static void fx_init(struct fx *f, const char *const *names, const char *const *pids, int max)
{
	memset(f, 0, sizeof(*f));
	f->cfg.procfs = tp_dir;
	f->cfg.sysfs = tp_dir;
	f->cfg.max_processes = max;
	for (; names && *names; names++)
		f->names[f->cfg.processes.n++] = (char *)*names;
	for (; pids && *pids; pids++)
		f->pids[f->cfg.pids.n++] = (char *)*pids;
	f->cfg.processes.v = f->names;
	f->cfg.pids.v = f->pids;
	f->st.cfg = &f->cfg;
	f->st.comp = "sensor:proc";
	f->st.env = tp_env;
	f->st.statinfo.have_btime = true;
	f->st.statinfo.btime = 1000;
	assert_int_equal(sb_proc_procs_init(&f->st), 0);
	nwarn = ninfo = 0;
}

static void fx_round(struct fx *f)
{
	if (f->t.ev)
		tp_free(&f->t);
	f->st.round++;
	tp_begin(&f->t);
	sb_proc_procs_collect(&f->st, &f->t.b);
	f->t.n = (int)sb_evb_nsamples(&f->t.b);
	tp_end(&f->t);
}

static void fx_free(struct fx *f)
{
	tp_free(&f->t);
	sb_proc_procs_free(&f->st);
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

#define CPU(f, pid) tp_find(&(f)->t, "process_cpu_seconds_total", "pid", pid, NULL)

static void matches_by_comm_or_by_argv0_basename(void **state)
{
	(void)state;
	mkproc(10, "algod", "/usr/bin/algod", 100);
	mkproc(11, "node-exporter-l", "/usr/bin/node-exporter-long", 110);
	mkproc(12, "bash", "-bash", 120);
	static const char *const names[] = {"algod", "node-exporter-long", NULL};
	struct fx f;
	fx_init(&f, names, NULL, 10);
	fx_round(&f);
	assert_int_equal(nwarn, 0);
	const struct sb_sample *s = CPU(&f, "10");
	assert_non_null(s);
	assert_string_equal(sb_sample_label(s, "name"), "algod");
	assert_string_equal(sb_sample_label(s, "comm"), "algod");
	assert_double_eq(s->value, 5);
	s = CPU(&f, "11");
	assert_string_equal(sb_sample_label(s, "name"), "node-exporter-long");
	assert_string_equal(sb_sample_label(s, "comm"), "node-exporter-l");
	assert_null(CPU(&f, "12"));
	/* every family for a fully readable process */
	assert_int_equal(tp_count(&f.t, "process_"), 2 * 13);
	assert_double_eq(tp_value(&f.t, "process_start_time_seconds", "pid", "10"), 1001);
	assert_double_eq(tp_value(&f.t, "process_resident_memory_bytes", "pid", "10"), 25 * 4096);
	assert_double_eq(tp_value(&f.t, "process_open_fds", "pid", "10"), 1);
	assert_double_eq(tp_value(&f.t, "process_max_fds", "pid", "10"), 100);
	assert_double_eq(tp_value(&f.t, "process_io_write_bytes_total", "pid", "11"), 8);
	assert_double_eq(tp_value(&f.t, "process_involuntary_context_switches_total", "pid", "11"),
			 6);
	fx_free(&f);
}

static void unmatched_pids_are_cached_and_rechecked_with_backoff(void **state)
{
	(void)state;
	static const char *const names[] = {"algod", NULL};
	struct fx f;
	fx_init(&f, names, NULL, 10);
	fx_round(&f); /* 12 seen: bash */
	fx_round(&f); /* first recheck: still bash */
	rename_comm(12, "algod", 120);
	fx_round(&f); /* cached: not read this round */
	assert_null(CPU(&f, "12"));
	fx_round(&f); /* second recheck finds it */
	assert_non_null(CPU(&f, "12"));
	fx_free(&f);
	rename_comm(12, "bash", 120);
}

static void a_process_listed_before_its_exec_is_found_next_round(void **state)
{
	(void)state;
	mkproc(13, "sh", "/bin/sh", 130);
	static const char *const names[] = {"algod", NULL};
	struct fx f;
	fx_init(&f, names, NULL, 10);
	fx_round(&f);
	assert_null(CPU(&f, "13"));
	rename_comm(13, "algod", 130); /* exec: same pid, same /proc dentry */
	fx_round(&f);
	assert_non_null(CPU(&f, "13"));
	/* and an exec away from the name drops it */
	rename_comm(13, "sleep", 130);
	fx_round(&f);
	assert_null(CPU(&f, "13"));
	fx_free(&f);
}

static void exited_and_reused_pids(void **state)
{
	(void)state;
	static const char *const names[] = {"algod", NULL};
	struct fx f;
	fx_init(&f, names, NULL, 10);
	fx_round(&f);
	assert_non_null(CPU(&f, "10"));
	/* pid 10 exits and a new algod gets the same pid */
	char a[128], b[128];
	snprintf(a, sizeof(a), "%s/10", tp_dir);
	snprintf(b, sizeof(b), "%s/old10", tp_dir);
	assert_int_equal(rename(a, b), 0);
	fx_round(&f);
	assert_null(CPU(&f, "10"));
	mkproc(10, "algod", "/usr/bin/algod", 999);
	fx_round(&f);
	assert_double_eq(tp_value(&f.t, "process_start_time_seconds", "pid", "10"), 1009.99);
	assert_int_equal(nwarn, 0);
	fx_free(&f);
}

static void max_processes_caps_what_is_reported(void **state)
{
	(void)state;
	static const char *const names[] = {"algod", "node-exporter-long", "sh", NULL};
	struct fx f;
	fx_init(&f, names, NULL, 2);
	fx_round(&f);
	assert_int_equal(tp_count(&f.t, "process_cpu_seconds_total"), 2);
	assert_int_equal(nwarn, 1);
	assert_non_null(strstr(last, "max_processes=2"));
	fx_free(&f);
}

static void pid_targets_self_and_missing(void **state)
{
	(void)state;
	char self[128];
	snprintf(self, sizeof(self), "%s/self", tp_dir);
	assert_int_equal(symlink("11", self), 0);
	static const char *const pids[] = {"self", "10", "99999", NULL};
	struct fx f;
	fx_init(&f, NULL, pids, 10);
	fx_round(&f);
	const struct sb_sample *s = CPU(&f, "11");
	assert_non_null(s);
	assert_null(sb_sample_label(s, "name"));
	assert_non_null(CPU(&f, "10"));
	assert_int_equal(ninfo, 1);
	assert_non_null(strstr(last, "pid 99999 is not running"));
	fx_round(&f);
	assert_int_equal(ninfo, 1); /* said once */
	assert_non_null(CPU(&f, "11"));
	fx_free(&f);
	unlink(self);
}

static void a_pid_also_matched_by_name_is_reported_once(void **state)
{
	(void)state;
	static const char *const names[] = {"algod", NULL};
	static const char *const pids[] = {"10", NULL};
	struct fx f;
	fx_init(&f, names, pids, 10);
	fx_round(&f);
	assert_int_equal(tp_count(&f.t, "process_cpu_seconds_total"), 1);
	assert_string_equal(sb_sample_label(CPU(&f, "10"), "name"), "algod");
	fx_free(&f);
}

static void a_pid_target_that_execs_into_a_name_is_reported_once(void **state)
{
	(void)state;
	mkproc(14, "bash", "/bin/bash", 140);
	static const char *const names[] = {"algod", NULL};
	static const char *const pids[] = {"14", NULL};
	struct fx f;
	fx_init(&f, names, pids, 10);
	fx_round(&f);
	assert_null(sb_sample_label(CPU(&f, "14"), "name"));
	rename_comm(14, "algod", 140);
	fx_round(&f);
	fx_round(&f);
	assert_int_equal(tp_count(&f.t, "process_cpu_seconds_total"), 2); /* 10 and 14 */
	assert_string_equal(sb_sample_label(CPU(&f, "14"), "name"), "algod");
	fx_free(&f);
	rename_comm(14, "bash", 140);
}

static void unreadable_file_of_one_process_keeps_the_rest(void **state)
{
	(void)state;
	tp_put("11/io", "garbage\n", 8);
	static const char *const names[] = {"algod", "node-exporter-long", NULL};
	struct fx f;
	fx_init(&f, names, NULL, 10);
	fx_round(&f);
	assert_int_equal(nwarn, 1);
	assert_non_null(strstr(last, "/11/io: no read_bytes/write_bytes"));
	assert_int_equal(f.st.errors, 1);
	tp_absent(&f.t, "process_io_read_bytes_total", "pid", "11");
	assert_int_equal(tp_count(&f.t, "process_"), 13 + 11);
	fx_round(&f);
	assert_int_equal(nwarn, 1);	  /* rate-limited */
	assert_int_equal(f.st.errors, 2); /* still counted */
	fx_free(&f);
	tp_put("11/io", "read_bytes: 7\nwrite_bytes: 8\n", 29);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(matches_by_comm_or_by_argv0_basename),
	    cmocka_unit_test(unmatched_pids_are_cached_and_rechecked_with_backoff),
	    cmocka_unit_test(a_process_listed_before_its_exec_is_found_next_round),
	    cmocka_unit_test(exited_and_reused_pids),
	    cmocka_unit_test(max_processes_caps_what_is_reported),
	    cmocka_unit_test(pid_targets_self_and_missing),
	    cmocka_unit_test(a_pid_also_matched_by_name_is_reported_once),
	    cmocka_unit_test(a_pid_target_that_execs_into_a_name_is_reported_once),
	    cmocka_unit_test(unreadable_file_of_one_process_keeps_the_rest),
	};
	return cmocka_run_group_tests_name("proc per-process metrics", tests, setup, teardown);
}
