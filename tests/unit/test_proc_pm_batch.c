/* The watched processes' samples, metric by metric: every process's series
 * of a family together, with the labels and values one process's samples
 * have on their own, and the family's name and HELP stored once in the
 * event. */
#include "test_proc.h"

static void add(struct sb_proc_pm_batch *t, uint32_t pid, const char *comm, const char *name,
		double cpu, double fds)
{
	struct sb_proc_pm v = {0};
	sb_proc_pm_set(&v, SB_PM_CPU, cpu);
	sb_proc_pm_set(&v, SB_PM_FDS, fds);
	assert_int_equal(sb_proc_pm_batch_add(t, &v, pid, comm, name), 0);
}

static void test_a_familys_series_come_together(void **state)
{
	(void)state;
	struct tp t;
	struct sb_proc_pm_batch batch = {0};
	tp_begin(&t);
	add(&batch, 10, "db", "db", 1.5, 7);
	add(&batch, 20, "worker", NULL, 2.5, 9);
	sb_proc_pm_batch_emit(&batch, &t.b);
	t.n = 4;
	tp_end(&t);
	const struct sb_sample *s = t.ev->samples;
	assert_string_equal(s[0].name, "process_cpu_seconds_total");
	assert_string_equal(s[1].name, "process_cpu_seconds_total");
	assert_string_equal(s[2].name, "process_open_fds");
	assert_string_equal(s[3].name, "process_open_fds");
	/* stored once: the same string in the event */
	assert_ptr_equal(s[0].name, s[1].name);
	assert_ptr_equal(s[0].help, s[1].help);
	assert_true(tp_value(&t, "process_cpu_seconds_total", "pid", "10", "comm", "db", "name",
			     "db") == 1.5);
	assert_true(tp_value(&t, "process_open_fds", "pid", "20", "comm", "worker") == 9);
	assert_null(sb_sample_label(&s[1], "name"));
	assert_int_equal(batch.n, 0); /* emptied for the next round */
	tp_free(&t);
	sb_proc_pm_batch_free(&batch);
}

/* The same samples as one process's sb_proc_metrics_emit, whatever the
 * order they come in. */
static void test_the_same_samples_as_one_process_alone(void **state)
{
	(void)state;
	struct tp a, b;
	struct sb_proc_pm v = {0};
	for (int m = 0; m < SB_PM_MAX; m++)
		sb_proc_pm_set(&v, (enum sb_proc_pm_id)m, m * 10.0);
	struct sb_proc_pm_batch batch = {0};
	assert_int_equal(sb_proc_pm_batch_add(&batch, &v, 42, "algod", "algod"), 0);
	tp_begin(&a);
	sb_proc_pm_batch_emit(&batch, &a.b);
	a.n = SB_PM_MAX;
	tp_end(&a);
	tp_begin(&b);
	sb_proc_metrics_emit(&b.b, &v, "42", "algod", "algod");
	b.n = SB_PM_MAX;
	tp_end(&b);
	for (int i = 0; i < SB_PM_MAX; i++) {
		const struct sb_sample *x = &a.ev->samples[i], *y = &b.ev->samples[i];
		assert_string_equal(x->name, y->name);
		assert_string_equal(x->help, y->help);
		assert_true(x->value == y->value);
		assert_int_equal(x->nlabels, 3);
		assert_int_equal(y->nlabels, 3);
		for (int l = 0; l < 3; l++) {
			assert_string_equal(x->labels[l].name, y->labels[l].name);
			assert_string_equal(x->labels[l].value, y->labels[l].value);
		}
	}
	tp_free(&a);
	tp_free(&b);
	sb_proc_pm_batch_free(&batch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_familys_series_come_together),
	    cmocka_unit_test(test_the_same_samples_as_one_process_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
