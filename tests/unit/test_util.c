/* Durations, sizes, numbers and timestamps as users write and read them. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>

#include "sb_backoff.h"
#include "sb_bus.h"
#include "sb_util.h"

static void test_durations_parse_in_every_unit(void **state)
{
	(void)state;
	struct {
		const char *s;
		int64_t ns;
	} ok[] = {
	    {"250ms", 250000000},     {"10s", 10000000000}, {"2m", 120000000000},
	    {"1h30m", 5400000000000}, {"1.5s", 1500000000}, {"0", 0},
	    {"100us", 100000},	      {"7ns", 7},	    {"1d", 86400000000000},
	    {"1m30s", 90000000000},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t ns = -1;
		assert_int_equal(sb_parse_duration(ok[i].s, &ns), 0);
		assert_true(ns == ok[i].ns);
	}
}

static void test_bad_durations_are_rejected(void **state)
{
	(void)state;
	const char *bad[] = {"", "10", "s", "10x", "-1s", "1s2", " 1s", "1 s", "ms"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t ns;
		assert_int_not_equal(sb_parse_duration(bad[i], &ns), 0);
	}
}

static void test_durations_format_shortest_exact(void **state)
{
	(void)state;
	char b[32];
	sb_fmt_duration(b, sizeof(b), 1500000000);
	assert_string_equal(b, "1500ms");
	sb_fmt_duration(b, sizeof(b), 60 * SB_NSEC_PER_SEC);
	assert_string_equal(b, "1m");
	sb_fmt_duration(b, sizeof(b), 0);
	assert_string_equal(b, "0s");
}

static void test_sizes_parse_binary_and_decimal_units(void **state)
{
	(void)state;
	struct {
		const char *s;
		uint64_t b;
	} ok[] = {{"64MiB", 64ULL << 20}, {"1GB", 1000000000ULL}, {"4096", 4096},
		  {"10k", 10000},	  {"1.5KiB", 1536},	  {"1TiB", 1ULL << 40}};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 0;
		assert_int_equal(sb_parse_size(ok[i].s, &v), 0);
		assert_true(v == ok[i].b);
	}
	uint64_t v;
	assert_int_not_equal(sb_parse_size("lots", &v), 0);
	assert_int_not_equal(sb_parse_size("-1", &v), 0);
	assert_int_not_equal(sb_parse_size("1XB", &v), 0);
	char b[32];
	sb_fmt_size(b, sizeof(b), 64ULL << 20);
	assert_string_equal(b, "64MiB");
	sb_fmt_size(b, sizeof(b), 1000);
	assert_string_equal(b, "1000");
}

static void test_strict_integer_parsing(void **state)
{
	(void)state;
	uint64_t u;
	int64_t i;
	assert_int_equal(sb_parse_u64("18446744073709551615", &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_not_equal(sb_parse_u64("18446744073709551616", &u), 0);
	assert_int_not_equal(sb_parse_u64("12a", &u), 0);
	assert_int_not_equal(sb_parse_u64("-1", &u), 0);
	assert_int_not_equal(sb_parse_u64("", &u), 0);
	assert_int_equal(sb_parse_i64("-42", &i), 0);
	assert_true(i == -42);
}

static void test_rfc3339_has_nanoseconds_and_z(void **state)
{
	(void)state;
	struct sb_timefmt c = {0};
	char out[32];
	sb_fmt_rfc3339(&c, out, 1795809601000123456LL);
	assert_string_equal(out, "2026-11-27T20:00:01.000123456Z");
	sb_fmt_rfc3339(&c, out, 1795809601999999999LL);
	assert_string_equal(out, "2026-11-27T20:00:01.999999999Z");
	sb_fmt_rfc3339(&c, out, 1795809602000000000LL);
	assert_string_equal(out, "2026-11-27T20:00:02.000000000Z");
}

static void test_doubles_format_shortest_round_trip(void **state)
{
	(void)state;
	char b[32];
	double vals[] = {0.1, 3018.54, 1e-9, 123456789.123, 5e-324, 1.7976931348623157e308, -2.5};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		sb_fmt_double(b, vals[i]);
		assert_true(strtod(b, NULL) == vals[i]);
	}
	for (int i = -100000; i <= 100000; i += 7) {
		double v = i / 1000.0;
		sb_fmt_double(b, v);
		assert_true(strtod(b, NULL) == v);
		v = i * 1.1e-7;
		sb_fmt_double(b, v);
		assert_true(strtod(b, NULL) == v);
	}
	sb_fmt_double(b, 3018.54);
	assert_string_equal(b, "3018.54");
	sb_fmt_double(b, -0.05);
	assert_string_equal(b, "-0.05");
	sb_fmt_double(b, 0.000000001);
	assert_string_equal(b, "1e-09");
	sb_fmt_double(b, 42);
	assert_string_equal(b, "42");
	sb_fmt_double(b, NAN);
	assert_string_equal(b, "NaN");
	sb_fmt_double(b, -INFINITY);
	assert_string_equal(b, "-Inf");
}

/* printf's answer, the shortest %g that reads back the same */
static void ref_double(char *out, double v)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, 32, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

/* The fast paths print what printf's %g does, below 1e-4 too (durations
 * in seconds of whole nanoseconds), signs and two-digit exponents. */
static void test_small_doubles_format_as_printf_does(void **state)
{
	(void)state;
	char b[32], want[32];
	for (int64_t ns = 1; ns < 200000; ns += 3) {
		double vs[] = {(double)ns / 1e9, -(double)ns / 1e9, (double)ns / 1e12,
			       (double)ns * 1e-7, (double)ns / 1e15 / 1e9};
		for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
			sb_fmt_double(b, vs[i]);
			ref_double(want, vs[i]);
			if (strcmp(b, want))
				fail_msg("%.17g: \"%s\", printf \"%s\"", vs[i], b, want);
		}
	}
	sb_fmt_double(b, 1.2345e-05);
	assert_string_equal(b, "1.2345e-05");
	sb_fmt_double(b, 5e-324);
	ref_double(want, 5e-324);
	assert_string_equal(b, want);
	sb_fmt_double(b, 1e-100);
	assert_string_equal(b, "1e-100");
}

static double next_to(double v, int by)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	bits += (uint64_t)(int64_t)by;
	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* Fractions of 15 to 17 digits, made without printf, are printf's: times
 * in seconds of nanoseconds, sums of thousandths, random bits between 1e-4
 * and 1e15, and the edges (powers of ten and of two, their neighbours). */
static void test_long_fractions_format_as_printf_does(void **state)
{
	(void)state;
	char b[32], want[32];
	uint64_t r = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 200000; i++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		double u = (double)(r >> 11) / 9007199254740992.0;
		uint64_t bits = (uint64_t)(1023 - 14 + (int)(r % 64)) << 52 | (r >> 12);
		double any;
		memcpy(&any, &bits, sizeof(any));
		double vs[] = {1796324175.0 + (double)(r % 1000000000) / 1e9,
			       (double)(r % 100000000) / 1000.0 + 0.001 * (double)(r % 7), any,
			       -u * 1e6, u};
		for (size_t j = 0; j < sizeof(vs) / sizeof(vs[0]); j++) {
			if (vs[j] == (double)(int64_t)vs[j])
				continue; /* integers print all their digits */
			sb_fmt_double(b, vs[j]);
			ref_double(want, vs[j]);
			if (strcmp(b, want))
				fail_msg("%.17g: \"%s\", printf \"%s\"", vs[j], b, want);
		}
	}
	for (int e = -4; e <= 15; e++) {
		double p = 1;
		for (int i = 0; i < (e < 0 ? -e : e); i++)
			p = e < 0 ? p / 10 : p * 10;
		double two = ldexp(1.0, e * 3);
		double vs[] = {p,
			       next_to(p, -1),
			       next_to(p, 1),
			       two,
			       next_to(two, -1),
			       next_to(two, 1),
			       p * 0.9999999999999999,
			       p * 9.999999999999999};
		for (size_t j = 0; j < sizeof(vs) / sizeof(vs[0]); j++) {
			if (vs[j] == (double)(int64_t)vs[j])
				continue;
			sb_fmt_double(b, vs[j]);
			ref_double(want, vs[j]);
			if (strcmp(b, want))
				fail_msg("%.17g: \"%s\", printf \"%s\"", vs[j], b, want);
		}
	}
	sb_fmt_double(b, 68998742007.237213); /* two of 16 digits read back */
	assert_string_equal(b, "68998742007.23721");
	sb_fmt_double(b, 1796324175.6235745);
	assert_string_equal(b, "1796324175.6235745");
	sb_fmt_double(b, 147.68800000000002);
	assert_string_equal(b, "147.68800000000002");
}

static void test_doubles_formatted_again_read_the_same(void **state)
{
	(void)state;
	/* more values than the formatter remembers, each twice, far apart */
	char first[400][32], again[32];
	for (int i = 0; i < 400; i++) {
		double v = (i + 1) * 1.1e-7;
		sb_fmt_double(first[i], v);
		assert_true(strtod(first[i], NULL) == v);
	}
	for (int i = 0; i < 400; i++) {
		sb_fmt_double(again, (i + 1) * 1.1e-7);
		assert_string_equal(again, first[i]);
	}
}

static void test_full_jitter_backoff_stays_under_capped_ceiling(void **state)
{
	(void)state;
	int64_t base = 100 * SB_NSEC_PER_MSEC, cap = 30 * SB_NSEC_PER_SEC;
	/* the top random value gives the ceiling itself */
	assert_true(sb_backoff_full_jitter(base, cap, 0, UINT64_MAX) <= base);
	assert_true(sb_backoff_full_jitter(base, cap, 3, (uint64_t)8 * base) == 8 * base);
	for (unsigned a = 0; a < 80; a++)
		for (uint64_t r = 1; r < 1000000; r = r * 7 + 3)
			assert_true(sb_backoff_full_jitter(base, cap, a, r * 1000003ULL) <= cap);
	assert_true(sb_backoff_full_jitter(base, cap, 2, 0) == 0);
}

static void test_mono_deadline_splits_into_a_timespec(void **state)
{
	(void)state;
	struct timespec ts = sb_mono_timespec(12 * SB_NSEC_PER_SEC + 345);
	assert_int_equal(ts.tv_sec, 12);
	assert_int_equal(ts.tv_nsec, 345);
}

static void test_jitter_never_sticks_at_zero(void **state)
{
	(void)state;
	uint64_t a = 0, b = 0;
	sb_jitter_seed(&a, 1);
	sb_jitter_seed(&b, 2);
	assert_true(a != 0 && b != 0);
	assert_true(a != b);
	for (int i = 0; i < 1000; i++)
		assert_true(sb_jitter_next(&a) != 0);
}

/* What a thread named itself, read back as tools read it. */
static void *name_self(void *arg)
{
	char *out = arg;
	sb_thread_name("send:%s[%u]", "a-long-sink-name", 3);
	prctl(PR_GET_NAME, out, 0, 0, 0);
	return NULL;
}

static void test_thread_names_are_cut_to_what_the_kernel_keeps(void **state)
{
	(void)state;
	char got[17] = "";
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, name_self, got), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_string_equal(got, "send:a-long-sin");
	char mine[17] = "";
	prctl(PR_GET_NAME, mine, 0, 0, 0);
	assert_string_not_equal(mine, "send:a-long-sin"); /* only that thread */
}

/* sb_whole is v == floor(v) for every kind of double, without libm. */
static void test_whole_numbers_as_floor_tells(void **state)
{
	(void)state;
	static const struct {
		double v;
		bool whole;
	} cases[] = {
	    {0.0, true},
	    {-0.0, true},
	    {1, true},
	    {-1, true},
	    {0.5, false},
	    {-0.5, false},
	    {DBL_MIN, false},
	    {-DBL_MIN, false},
	    {4503599627370495.5, false}, /* 2^52 - 0.5: the last with a fraction */
	    {-4503599627370495.5, false},
	    {4503599627370496.0, true}, /* 2^52 */
	    {-4503599627370496.0, true},
	    {9007199254740994.0, true}, /* 2^53 + 2 */
	    {9.2e18, true},
	    {1e300, true},
	    {-1e300, true},
	    {INFINITY, true},
	    {-INFINITY, true},
	    {NAN, false},
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(cases); i++)
		if (sb_whole(cases[i].v) != cases[i].whole)
			fail_msg("sb_whole(%g) != %d", cases[i].v, cases[i].whole);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_whole_numbers_as_floor_tells),
	    cmocka_unit_test(test_durations_parse_in_every_unit),
	    cmocka_unit_test(test_bad_durations_are_rejected),
	    cmocka_unit_test(test_durations_format_shortest_exact),
	    cmocka_unit_test(test_sizes_parse_binary_and_decimal_units),
	    cmocka_unit_test(test_strict_integer_parsing),
	    cmocka_unit_test(test_rfc3339_has_nanoseconds_and_z),
	    cmocka_unit_test(test_doubles_format_shortest_round_trip),
	    cmocka_unit_test(test_small_doubles_format_as_printf_does),
	    cmocka_unit_test(test_long_fractions_format_as_printf_does),
	    cmocka_unit_test(test_doubles_formatted_again_read_the_same),
	    cmocka_unit_test(test_full_jitter_backoff_stays_under_capped_ceiling),
	    cmocka_unit_test(test_mono_deadline_splits_into_a_timespec),
	    cmocka_unit_test(test_jitter_never_sticks_at_zero),
	    cmocka_unit_test(test_thread_names_are_cut_to_what_the_kernel_keeps),
	};
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
