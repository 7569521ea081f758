/* node_exporter's edac collector: the memory controllers' error counters. */
#include "test_proc_fx.h"

#define MC "devices/system/edac/mc/"

static int setup(void **state)
{
	(void)state;
	if (tp_dir_setup(tp_warn_hook))
		return -1;
	tp_mkdirs(MC "mc0/csrow0");
	tp_mkdirs(MC "mc0/csrow12");
	tp_mkdirs(MC "mc0/power"); /* not a csrow */
	tp_mkdirs(MC "mc1");
	tp_puts(MC "mc0/ce_count", "3\n");
	tp_puts(MC "mc0/ue_count", "1\n");
	tp_puts(MC "mc0/ce_noinfo_count", "2\n");
	tp_puts(MC "mc0/ue_noinfo_count", "0\n");
	tp_puts(MC "mc0/csrow0/ce_count", "1\n");
	tp_puts(MC "mc0/csrow0/ue_count", "0\n");
	tp_puts(MC "mc0/csrow12/ce_count", "18446744073709551615\n");
	tp_puts(MC "mc0/csrow12/ue_count", "7\n");
	tp_puts(MC "mc1/ce_count", "5\n");
	tp_puts(MC "mc1/ue_count", "6\n");
	tp_puts(MC "mc1/ce_noinfo_count", "7\n");
	tp_puts(MC "mc1/ue_noinfo_count", "8\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static void every_counter_of_every_controller(void **state)
{
	(void)state;
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "edac");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 12);
	const struct sb_sample *s =
	    tp_find(&f.t, "node_edac_correctable_errors_total", "controller", "0", NULL);
	assert_non_null(s);
	assert_int_equal(s->nlabels, 1);
	assert_int_equal(s->type, SB_COUNTER);
	assert_double_eq(s->value, 3);
	assert_string_equal(s->help, "Total correctable memory errors.");
	s = tp_find(&f.t, "node_edac_uncorrectable_errors_total", "controller", "1", NULL);
	assert_double_eq(s->value, 6);
	assert_string_equal(s->help, "Total uncorrectable memory errors.");
	s = tp_find(&f.t, "node_edac_csrow_correctable_errors_total", "controller", "0", "csrow",
		    "unknown", NULL);
	assert_double_eq(s->value, 2);
	assert_string_equal(s->help, "Total correctable memory errors for this csrow.");
	assert_double_eq(tp_value(&f.t, "node_edac_csrow_uncorrectable_errors_total", "controller",
				  "1", "csrow", "unknown"),
			 8);
	assert_double_eq(tp_value(&f.t, "node_edac_csrow_correctable_errors_total", "controller",
				  "0", "csrow", "12"),
			 18446744073709551615.0);
	s = tp_find(&f.t, "node_edac_csrow_uncorrectable_errors_total", "controller", "0", "csrow",
		    "12", NULL);
	assert_double_eq(s->value, 7);
	assert_string_equal(s->help, "Total uncorrectable memory errors for this csrow.");
	assert_int_equal(tp_nwarn, 0);
	assert_int_equal(f.st->errors, 0);
	tfx_stop(&f);
}

/* node_exporter fails the collector; the other series still come out. */
static void a_bad_or_missing_counter_fails_the_collector(void **state)
{
	(void)state;
	tp_puts(MC "mc0/csrow0/ue_count", "x\n");
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "edac");
	assert_int_equal(tfx_round(&f), -EINVAL);
	assert_int_equal(f.t.n, 11);
	tp_absent(&f.t, "node_edac_csrow_uncorrectable_errors_total", "csrow", "0");
	assert_int_equal(tp_nwarn, 1);
	assert_int_equal(f.st->errors, 1);
	tp_puts(MC "mc0/csrow0/ue_count", "0\n");
	tfx_stop(&f);
	tp_rm(MC "mc1/ue_noinfo_count");
	tfx_start(&f, "edac");
	assert_true(tfx_round(&f) < 0);
	assert_int_equal(f.t.n, 11);
	tp_absent(&f.t, "node_edac_csrow_uncorrectable_errors_total", "controller", "1");
	tfx_stop(&f);
	tp_puts(MC "mc1/ue_noinfo_count", "8\n");
}

static void no_controller_is_success_without_series(void **state)
{
	(void)state;
	tp_dir_teardown();
	tp_dir_setup(tp_warn_hook);
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "edac");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 0);
	tp_mkdirs(MC);
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(every_counter_of_every_controller, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_bad_or_missing_counter_fails_the_collector, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(no_controller_is_success_without_series, setup,
					    teardown),
	};
	return cmocka_run_group_tests_name("proc edac", tests, NULL, NULL);
}
