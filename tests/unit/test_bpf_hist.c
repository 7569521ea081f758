/* The kernel's log2 nanosecond slots become Prometheus histogram buckets:
 * cumulative counts, `le` in seconds, +Inf last, sum and count set. The slot
 * function itself is the one the BPF programs compile (bpf/log2.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/sensors/bpf/bpf_sensor.h"
#include "log2.h"

/* buckets from 2^10 ns to 2^35 ns, then +Inf */
#define NBUCKETS (SB_HIST_SLOTS - SB_HIST_FIRST_LE_LOG2 + 1)

static struct sb_event *hist(const __u64 slots[SB_HIST_SLOTS], uint64_t sum_ns)
{
	struct sb_evb b;
	sb_evb_init(&b);
	sb_evb_begin(&b, "bpf", "metrics");
	sb_evb_sample(&b, "h", SB_HISTOGRAM, 0);
	sb_bpf_hist(&b, slots, SB_HIST_SLOTS, SB_HIST_FIRST_LE_LOG2, sum_ns);
	struct sb_event *ev = sb_evb_finish(&b);
	sb_evb_free(&b);
	assert_non_null(ev);
	assert_int_equal(ev->nsamples, 1);
	return ev;
}

/* count of the bucket whose le is 2^k ns */
static double count_at(const struct sb_sample *s, int k)
{
	double le = ldexp(1.0, k) / 1e9;
	for (uint32_t i = 0; i < s->nbuckets; i++)
		if (s->buckets[i].le == le)
			return s->buckets[i].count;
	fail_msg("no bucket le=2^%d ns", k);
	return -1;
}

static void test_empty_histogram_has_every_bucket_at_zero(void **state)
{
	(void)state;
	__u64 slots[SB_HIST_SLOTS] = {0};
	struct sb_event *ev = hist(slots, 0);
	const struct sb_sample *s = &ev->samples[0];
	assert_int_equal(s->nbuckets, NBUCKETS);
	for (uint32_t i = 0; i < s->nbuckets; i++)
		assert_true(s->buckets[i].count == 0);
	assert_true(s->sum == 0 && s->count == 0);
	sb_event_unref(ev);
}

static void test_bucket_bounds_are_powers_of_two_nanoseconds_in_seconds(void **state)
{
	(void)state;
	__u64 slots[SB_HIST_SLOTS] = {0};
	struct sb_event *ev = hist(slots, 0);
	const struct sb_sample *s = &ev->samples[0];
	assert_true(s->buckets[0].le == 1024e-9);
	for (uint32_t i = 1; i + 1 < s->nbuckets; i++)
		assert_true(s->buckets[i].le == 2 * s->buckets[i - 1].le);
	assert_true(s->buckets[s->nbuckets - 2].le == ldexp(1.0, SB_HIST_SLOTS - 1) / 1e9);
	assert_true(isinf(s->buckets[s->nbuckets - 1].le));
	sb_event_unref(ev);
}

static void test_a_wait_counts_in_the_bucket_just_above_it(void **state)
{
	(void)state;
	__u64 slots[SB_HIST_SLOTS] = {0};
	slots[sb_hist_slot(1500)]++; /* 1.5 us: under 2^11 ns, not under 2^10 */
	struct sb_event *ev = hist(slots, 1500);
	const struct sb_sample *s = &ev->samples[0];
	assert_true(count_at(s, 10) == 0);
	assert_true(count_at(s, 11) == 1);
	assert_true(count_at(s, 12) == 1);
	sb_event_unref(ev);
}

static void test_counts_are_cumulative(void **state)
{
	(void)state;
	__u64 slots[SB_HIST_SLOTS] = {0};
	slots[12] = 3;
	slots[20] = 4;
	struct sb_event *ev = hist(slots, 0);
	const struct sb_sample *s = &ev->samples[0];
	assert_true(count_at(s, 12) == 0);
	assert_true(count_at(s, 13) == 3);
	assert_true(count_at(s, 20) == 3);
	assert_true(count_at(s, 21) == 7);
	for (uint32_t i = 1; i < s->nbuckets; i++)
		assert_true(s->buckets[i].count >= s->buckets[i - 1].count);
	sb_event_unref(ev);
}

static void test_submicrosecond_waits_fold_into_the_first_bucket(void **state)
{
	(void)state;
	__u64 slots[SB_HIST_SLOTS] = {0};
	slots[0] = 1; /* 0 or 1 ns */
	slots[sb_hist_slot(700)] = 2;
	struct sb_event *ev = hist(slots, 0);
	assert_true(count_at(&ev->samples[0], 10) == 3);
	sb_event_unref(ev);
}

static void test_longest_slot_is_counted_only_under_inf(void **state)
{
	(void)state;
	__u64 slots[SB_HIST_SLOTS] = {0};
	slots[sb_hist_slot(100ULL * 1000000000ULL)] = 1; /* 100 s */
	struct sb_event *ev = hist(slots, 0);
	const struct sb_sample *s = &ev->samples[0];
	assert_true(s->buckets[s->nbuckets - 2].count == 0);
	assert_true(s->buckets[s->nbuckets - 1].count == 1);
	sb_event_unref(ev);
}

static void test_inf_bucket_and_count_equal_the_total(void **state)
{
	(void)state;
	__u64 slots[SB_HIST_SLOTS];
	for (int k = 0; k < SB_HIST_SLOTS; k++)
		slots[k] = (uint64_t)k + 1;
	struct sb_event *ev = hist(slots, 0);
	const struct sb_sample *s = &ev->samples[0];
	double total = SB_HIST_SLOTS * (SB_HIST_SLOTS + 1) / 2.0;
	assert_true(s->count == total);
	assert_true(s->buckets[s->nbuckets - 1].count == total);
	sb_event_unref(ev);
}

static void test_sum_is_converted_to_seconds(void **state)
{
	(void)state;
	__u64 slots[SB_HIST_SLOTS] = {0};
	slots[20] = 2;
	struct sb_event *ev = hist(slots, 2500000000ULL);
	assert_true(ev->samples[0].sum == 2.5);
	sb_event_unref(ev);
}

static void test_slot_of_a_value_is_its_floor_log2(void **state)
{
	(void)state;
	assert_int_equal(sb_log2(0), 0);
	assert_int_equal(sb_log2(1), 0);
	assert_int_equal(sb_log2(2), 1);
	assert_int_equal(sb_log2(3), 1);
	assert_int_equal(sb_log2(1023), 9);
	assert_int_equal(sb_log2(1024), 10);
	assert_int_equal(sb_log2(0xffffffffULL), 31);
	assert_int_equal(sb_log2(0x100000000ULL), 32);
	assert_int_equal(sb_log2(~0ULL), 63);
	for (int k = 1; k < 64; k++) {
		assert_int_equal(sb_log2(1ULL << k), k);
		assert_int_equal(sb_log2((1ULL << k) - 1), k - 1);
	}
}

static void test_slot_is_clamped_to_the_last(void **state)
{
	(void)state;
	assert_int_equal(sb_hist_slot(1ULL << 35), SB_HIST_SLOTS - 1);
	assert_int_equal(sb_hist_slot(~0ULL), SB_HIST_SLOTS - 1);
	assert_int_equal(sb_hist_slot((1ULL << 35) - 1), SB_HIST_SLOTS - 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_histogram_has_every_bucket_at_zero),
	    cmocka_unit_test(test_bucket_bounds_are_powers_of_two_nanoseconds_in_seconds),
	    cmocka_unit_test(test_a_wait_counts_in_the_bucket_just_above_it),
	    cmocka_unit_test(test_counts_are_cumulative),
	    cmocka_unit_test(test_submicrosecond_waits_fold_into_the_first_bucket),
	    cmocka_unit_test(test_longest_slot_is_counted_only_under_inf),
	    cmocka_unit_test(test_inf_bucket_and_count_equal_the_total),
	    cmocka_unit_test(test_sum_is_converted_to_seconds),
	    cmocka_unit_test(test_slot_of_a_value_is_its_floor_log2),
	    cmocka_unit_test(test_slot_is_clamped_to_the_last),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
