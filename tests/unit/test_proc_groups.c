/* Groups (sensors.proc.groups) keep process-exporter's counter semantics
 * over rounds of crafted walks, no kernel and no clock: a process running
 * at the first round counts from there, a later one from its start, one
 * that exits leaves its final counts in its group, a reused pid or an exec
 * starts a new count, and no group counter ever goes down. */
#include "test_proc.h"

#include "sb_taskiter.h"

#define TICK_NS 10000000ull /* user_hz 100 */

struct world {
	struct proc_cfg cfg;
	struct proc_state st;
	struct sb_task tasks[16];
	size_t n;
};

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->cfg.groups = SB_PROC_GROUPS_COMM;
	w->st.cfg = &w->cfg;
	w->st.comp = "test";
	w->st.env = tp_env;
	assert_int_equal(sb_proc_groups_init(&w->st), 0);
}

/* A process in pid order; counters in ticks and counts. */
static struct sb_task *proc(struct world *w, uint32_t pid, const char *comm, uint64_t start,
			    uint64_t ticks, uint64_t minflt)
{
	struct sb_task *t = &w->tasks[w->n++];
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	snprintf(t->comm, sizeof(t->comm), "%s", comm);
	t->state = 'S';
	t->threads = 1;
	t->start_ns = start;
	t->utime_ns = ticks * TICK_NS;
	t->min_flt = minflt;
	return t;
}

/* One round over the processes set so far; they are cleared for the next. */
static void round_(struct world *w, struct tp *t)
{
	struct sb_taskfold f = {.tasks = w->tasks, .n = w->n, .sorted = true};
	tp_begin(t);
	w->st.round++;
	sb_proc_groups_collect(&w->st, &f, &t->b);
	t->ev = sb_evb_finish(&t->b);
	assert_non_null(t->ev);
	w->n = 0;
}

static double val(struct tp *t, const char *metric, const char *group)
{
	char name[96];
	snprintf(name, sizeof(name), "namedprocess_namegroup_%s", metric);
	const struct sb_sample *s = tp_find(t, name, "groupname", group, NULL);
	assert_non_null(s);
	return s->value;
}

static double cpu_user(struct tp *t, const char *group)
{
	const struct sb_sample *s = tp_find(t, "namedprocess_namegroup_cpu_seconds_total",
					    "groupname", group, "mode", "user", NULL);
	assert_non_null(s);
	return s->value;
}

static void test_first_round_counts_from_there(void **state)
{
	(void)state;
	struct world w;
	struct tp t;
	world_init(&w);
	proc(&w, 10, "db", 1, 500, 70);
	proc(&w, 11, "db", 2, 300, 30);
	round_(&w, &t);
	assert_true(val(&t, "num_procs", "db") == 2);
	assert_true(cpu_user(&t, "db") == 0);
	assert_true(val(&t, "minor_page_faults_total", "db") == 0);
	tp_free(&t);
	proc(&w, 10, "db", 1, 510, 71);
	proc(&w, 11, "db", 2, 302, 30);
	round_(&w, &t);
	assert_true(cpu_user(&t, "db") == 0.12); /* 12 ticks since the first round */
	assert_true(val(&t, "minor_page_faults_total", "db") == 1);
	tp_free(&t);
	sb_proc_groups_free(&w.st);
}

static void test_a_later_process_counts_from_its_start(void **state)
{
	(void)state;
	struct world w;
	struct tp t;
	world_init(&w);
	proc(&w, 10, "db", 1, 500, 70);
	round_(&w, &t);
	tp_free(&t);
	proc(&w, 10, "db", 1, 500, 70);
	proc(&w, 20, "db", 9, 40, 5); /* born between the two rounds */
	round_(&w, &t);
	assert_true(val(&t, "num_procs", "db") == 2);
	assert_true(cpu_user(&t, "db") == 0.4);
	assert_true(val(&t, "minor_page_faults_total", "db") == 5);
	tp_free(&t);
	sb_proc_groups_free(&w.st);
}

static void test_an_exited_process_keeps_its_final_counts(void **state)
{
	(void)state;
	struct world w;
	struct tp t;
	world_init(&w);
	proc(&w, 10, "db", 1, 0, 0);
	round_(&w, &t);
	tp_free(&t);
	proc(&w, 10, "db", 1, 0, 0);
	proc(&w, 20, "db", 9, 40, 5);
	round_(&w, &t);
	tp_free(&t);
	proc(&w, 10, "db", 1, 1, 0); /* 20 exited */
	round_(&w, &t);
	assert_true(val(&t, "num_procs", "db") == 1);
	assert_true(cpu_user(&t, "db") == 0.41);
	assert_true(val(&t, "minor_page_faults_total", "db") == 5);
	tp_free(&t);
	round_(&w, &t); /* every process gone: the group stays, counts kept */
	assert_true(val(&t, "num_procs", "db") == 0);
	assert_true(cpu_user(&t, "db") == 0.41);
	tp_free(&t);
	sb_proc_groups_free(&w.st);
}

static void test_a_reused_pid_is_a_new_process(void **state)
{
	(void)state;
	struct world w;
	struct tp t;
	world_init(&w);
	round_(&w, &t);
	tp_free(&t);
	proc(&w, 30, "job", 5, 100, 10);
	round_(&w, &t);
	assert_true(cpu_user(&t, "job") == 1);
	tp_free(&t);
	/* the same pid, started later, with smaller counts: another process */
	proc(&w, 30, "job", 50, 20, 2);
	round_(&w, &t);
	assert_true(val(&t, "num_procs", "job") == 1);
	assert_true(cpu_user(&t, "job") == 1.2);
	assert_true(val(&t, "minor_page_faults_total", "job") == 12);
	tp_free(&t);
	sb_proc_groups_free(&w.st);
}

static void test_an_exec_leaves_its_counts_with_the_old_group(void **state)
{
	(void)state;
	struct world w;
	struct tp t;
	world_init(&w);
	round_(&w, &t);
	tp_free(&t);
	proc(&w, 40, "sh", 5, 10, 3);
	round_(&w, &t);
	tp_free(&t);
	proc(&w, 40, "make", 5, 25, 4); /* exec'd: same pid and start */
	round_(&w, &t);
	assert_true(cpu_user(&t, "sh") == 0.25); /* up to when the exec was seen */
	assert_true(val(&t, "num_procs", "sh") == 0);
	assert_true(cpu_user(&t, "make") == 0);
	assert_true(val(&t, "num_procs", "make") == 1);
	tp_free(&t);
	proc(&w, 40, "make", 5, 30, 4);
	round_(&w, &t);
	assert_true(cpu_user(&t, "sh") == 0.25);
	assert_true(cpu_user(&t, "make") == 0.05);
	tp_free(&t);
	sb_proc_groups_free(&w.st);
}

/* Processes come and go with counters that only grow: every group counter
 * of every round is at least the last one. Deterministic churn, no clock. */
static void test_group_counters_never_go_down(void **state)
{
	(void)state;
	struct world w;
	struct tp t;
	world_init(&w);
	double last[3] = {0};
	static const char *const names[3] = {"a", "b", "c"};
	uint64_t seed = 42;
	for (int r = 0; r < 200; r++) {
		for (uint32_t pid = 1; pid <= 12; pid++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			if ((seed >> 33) % 4 == 0)
				continue; /* not there this round (exited, or not yet born) */
			/* a pid's start changes every 16 rounds: a new process then */
			uint64_t start = pid * 1000 + (uint64_t)(r / 16);
			proc(&w, pid, names[pid % 3], start, (uint64_t)(r % 16) * pid,
			     (uint64_t)r % 16);
		}
		round_(&w, &t);
		for (int g = 0; g < 3; g++) {
			const struct sb_sample *s =
			    tp_find(&t, "namedprocess_namegroup_cpu_seconds_total", "groupname",
				    names[g], "mode", "user", NULL);
			if (!s)
				continue;
			assert_true(s->value >= last[g]);
			last[g] = s->value;
		}
		tp_free(&t);
	}
	assert_true(last[0] > 0 && last[1] > 0 && last[2] > 0);
	sb_proc_groups_free(&w.st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_round_counts_from_there),
	    cmocka_unit_test(test_a_later_process_counts_from_its_start),
	    cmocka_unit_test(test_an_exited_process_keeps_its_final_counts),
	    cmocka_unit_test(test_a_reused_pid_is_a_new_process),
	    cmocka_unit_test(test_an_exec_leaves_its_counts_with_the_old_group),
	    cmocka_unit_test(test_group_counters_never_go_down),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
