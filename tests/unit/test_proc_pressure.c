/* /proc/pressure/{cpu,io,memory,irq}: node_pressure_*_seconds_total. */
#include "test_proc.h"

static int parse(struct tp *t, const char *text, const char *res)
{
	tp_begin(t);
	t->n = sb_proc_parse_pressure(text, res, &t->b, &t->e);
	tp_end(t);
	return t->n;
}

static const char both[] = "some avg10=0.18 avg60=0.34 avg300=0.10 total=159886802\n"
			   "full avg10=0.18 avg60=0.34 avg300=0.10 total=159229614\n";

static void io_and_memory_report_waiting_and_stalled(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, both, "io");
	assert_int_equal(t.e.nbad, 0);
	/* microseconds to seconds, divided as node_exporter divides */
	assert_double_eq(tp_value(&t, "node_pressure_io_waiting_seconds_total"),
			 159886802.0 / 1000.0 / 1000.0);
	assert_double_eq(tp_value(&t, "node_pressure_io_stalled_seconds_total"),
			 159229614.0 / 1000.0 / 1000.0);
	tp_free(&t);
	parse(&t, both, "memory");
	assert_int_equal(t.n, 2);
	assert_non_null(tp_find(&t, "node_pressure_memory_stalled_seconds_total", NULL));
	tp_free(&t);
}

static void cpu_reports_some_irq_reports_full(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, both, "cpu");
	assert_int_equal(t.n, 1);
	assert_double_eq(tp_value(&t, "node_pressure_cpu_waiting_seconds_total"), 159.886802);
	tp_free(&t);
	/* irq has only a full line, here without a trailing newline */
	parse(&t, "full avg10=0.00 avg60=0.00 avg300=0.00 total=8494", "irq");
	assert_int_equal(t.e.nbad, 0);
	assert_double_eq(tp_value(&t, "node_pressure_irq_stalled_seconds_total"), 0.008494);
	tp_free(&t);
}

static void missing_or_malformed_lines_are_reported(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "some avg10=0.18 avg60=0.34 avg300=0.10 total=1\n", "io");
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
	parse(&t, "some avg10=0.18 avg60=0.34 total=1\n", "cpu");
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
	parse(&t, "some avg10=0.18 avg60=0.34 avg300=0.10 total=12\nfull avg10=garbage\n", "cpu");
	assert_int_equal(t.n, 1); /* cpu needs only some */
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
	parse(&t, "", "memory");
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
}

static void unknown_lines_are_ignored(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "future avg10=1\nsome avg10=0.00 avg60=0.00 avg300=0.00 total=5\n", "cpu");
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 1);
	tp_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(io_and_memory_report_waiting_and_stalled),
	    cmocka_unit_test(cpu_reports_some_irq_reports_full),
	    cmocka_unit_test(missing_or_malformed_lines_are_reported),
	    cmocka_unit_test(unknown_lines_are_ignored),
	};
	return cmocka_run_group_tests_name("proc /proc/pressure", tests, NULL, NULL);
}
