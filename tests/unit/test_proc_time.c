/* node_exporter's time and timex collectors: the clock samples, the sysfs
 * clocksource files, and adjtimex(2)'s fields in node_exporter's units. */
#include "test_proc.h"

#include <sys/timex.h>
#include <time.h>

static void clock_and_zone(void **state)
{
	(void)state;
	struct tp t;
	tp_begin(&t);
	struct timespec now = {.tv_sec = 1700000000, .tv_nsec = 250000000};
	sb_proc_time_samples(&t.b, &now, 3600, "CET");
	t.n = 2;
	tp_end(&t);
	assert_double_eq(tp_value(&t, "node_time_seconds"), 1700000000.25);
	assert_double_eq(tp_value(&t, "node_time_zone_offset_seconds", "time_zone", "CET"), 3600);
	assert_string_equal(t.ev->samples[0].help, "System time in seconds since epoch (1970).");
	tp_free(&t);
}

static int clocksource(struct tp *t, const char *avail, const char *cur, unsigned dev)
{
	tp_begin(t);
	t->n = sb_proc_parse_clocksource(avail, cur, dev, &t->b, &t->e);
	tp_end(t);
	return t->n;
}

static void clocksources_available_and_current(void **state)
{
	(void)state;
	struct tp t;
	char *avail = tp_fixture("synthetic/sys/devices/system/clocksource/clocksource0/"
				 "available_clocksource");
	char *cur = tp_fixture("synthetic/sys/devices/system/clocksource/clocksource0/"
			       "current_clocksource");
	assert_int_equal(clocksource(&t, avail, cur, 0), 4);
	assert_int_equal(t.e.nbad, 0);
	assert_double_eq(tp_value(&t, "node_time_clocksource_available_info", "device", "0",
				  "clocksource", "acpi_pm"),
			 1);
	assert_double_eq(tp_value(&t, "node_time_clocksource_available_info", "device", "0",
				  "clocksource", "hpet"),
			 1);
	assert_double_eq(
	    tp_value(&t, "node_time_clocksource_current_info", "device", "0", "clocksource", "tsc"),
	    1);
	tp_free(&t);
	free(avail);
	free(cur);
	/* a device with no alternative: one of each */
	assert_int_equal(clocksource(&t, "\n", "kvm-clock\n", 3), 1);
	assert_non_null(tp_find(&t, "node_time_clocksource_current_info", "device", "3",
				"clocksource", "kvm-clock", NULL));
	tp_free(&t);
}

static void clocksource_cut_or_empty_is_reported(void **state)
{
	(void)state;
	static const char *const bad[][2] = {
	    {"tsc hp", "tsc\n"}, {"tsc\n", "tsc"}, {"tsc\n", "\n"}, {"tsc\n", ""}};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		struct tp t;
		assert_int_equal(clocksource(&t, bad[i][0], bad[i][1], 0), 0);
		assert_int_equal(t.e.nbad, 1);
		tp_free(&t);
	}
}

static void timex_fields_in_node_exporter_units(void **state)
{
	(void)state;
	struct timex tx = {
	    .offset = -250,
	    .freq = 65536 * 10,
	    .maxerror = 500000,
	    .esterror = 1500,
	    .status = STA_PLL,
	    .constant = 7,
	    .tick = 10000,
	    .ppsfreq = 65536 * 2,
	    .jitter = 40,
	    .shift = 4,
	    .stabil = 65536,
	    .jitcnt = 1,
	    .calcnt = 2,
	    .errcnt = 3,
	    .stbcnt = 4,
	    .tai = 37,
	};
	struct tp t;
	tp_begin(&t);
	t.n = sb_proc_timex_samples(&t.b, &tx, TIME_OK);
	tp_end(&t);
	assert_int_equal(t.n, 17);
	assert_double_eq(tp_value(&t, "node_timex_sync_status"), 1);
	/* without STA_NANO the offset and jitter are microseconds */
	assert_double_eq(tp_value(&t, "node_timex_offset_seconds"), -250 / 1e6);
	assert_double_eq(tp_value(&t, "node_timex_pps_jitter_seconds"), 40 / 1e6);
	assert_double_eq(tp_value(&t, "node_timex_frequency_adjustment_ratio"),
			 1 + 65536.0 * 10 / (1000000.0 * 65536.0));
	assert_double_eq(tp_value(&t, "node_timex_maxerror_seconds"), 0.5);
	assert_double_eq(tp_value(&t, "node_timex_estimated_error_seconds"), 0.0015);
	assert_double_eq(tp_value(&t, "node_timex_status"), STA_PLL);
	assert_double_eq(tp_value(&t, "node_timex_loop_time_constant"), 7);
	assert_double_eq(tp_value(&t, "node_timex_tick_seconds"), 0.01);
	assert_double_eq(tp_value(&t, "node_timex_pps_frequency_hertz"), 2 / 1e6);
	assert_double_eq(tp_value(&t, "node_timex_pps_shift_seconds"), 4);
	assert_double_eq(tp_value(&t, "node_timex_pps_stability_hertz"), 1 / 1e6);
	assert_double_eq(tp_value(&t, "node_timex_pps_jitter_total"), 1);
	assert_double_eq(tp_value(&t, "node_timex_pps_calibration_total"), 2);
	assert_double_eq(tp_value(&t, "node_timex_pps_error_total"), 3);
	assert_double_eq(tp_value(&t, "node_timex_pps_stability_exceeded_total"), 4);
	assert_double_eq(tp_value(&t, "node_timex_tai_offset_seconds"), 37);
	tp_free(&t);

	/* STA_NANO: nanoseconds; TIME_ERROR: not synchronised */
	tx.status = STA_NANO | STA_UNSYNC;
	tp_begin(&t);
	t.n = sb_proc_timex_samples(&t.b, &tx, TIME_ERROR);
	tp_end(&t);
	assert_double_eq(tp_value(&t, "node_timex_sync_status"), 0);
	assert_double_eq(tp_value(&t, "node_timex_offset_seconds"), -250 / 1e9);
	assert_double_eq(tp_value(&t, "node_timex_pps_jitter_seconds"), 40 / 1e9);
	tp_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(clock_and_zone),
	    cmocka_unit_test(clocksources_available_and_current),
	    cmocka_unit_test(clocksource_cut_or_empty_is_reported),
	    cmocka_unit_test(timex_fields_in_node_exporter_units),
	};
	return cmocka_run_group_tests_name("proc time and timex", tests, NULL, NULL);
}
