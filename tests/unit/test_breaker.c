/* The circuit breaker's state machine, the replay token bucket, the input
 * peak rate and the retry backoff, all on a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sb_backoff.h"
#include "../../src/breaker.h"
#include "sb_bus.h"

#define S SB_NSEC_PER_SEC
#define MS SB_NSEC_PER_MSEC

static void test_breaker_stays_closed_below_the_threshold(void **state)
{
	(void)state;
	struct sb_breaker b;
	sb_breaker_init(&b, 3, 10 * S);
	assert_false(sb_breaker_failure(&b, 1, false));
	assert_false(sb_breaker_failure(&b, 2, false));
	assert_int_equal(b.state, SB_BREAKER_CLOSED);
	int64_t w;
	assert_int_equal(sb_breaker_ask(&b, 3, &w), SB_BREAKER_PASS);
}

static void test_breaker_success_resets_the_consecutive_count(void **state)
{
	(void)state;
	struct sb_breaker b;
	sb_breaker_init(&b, 3, 10 * S);
	sb_breaker_failure(&b, 1, false);
	sb_breaker_failure(&b, 2, false);
	sb_breaker_success(&b, false);
	sb_breaker_failure(&b, 3, false);
	sb_breaker_failure(&b, 4, false);
	assert_int_equal(b.state, SB_BREAKER_CLOSED);
}

static void test_breaker_opens_after_n_consecutive_failures(void **state)
{
	(void)state;
	struct sb_breaker b;
	sb_breaker_init(&b, 3, 10 * S);
	sb_breaker_failure(&b, 1, false);
	sb_breaker_failure(&b, 2, false);
	assert_true(sb_breaker_failure(&b, 3, false));
	assert_int_equal(b.state, SB_BREAKER_OPEN);
	assert_int_equal(b.opened, 1);
}

static void test_open_breaker_sends_nothing_until_the_cooldown(void **state)
{
	(void)state;
	struct sb_breaker b;
	sb_breaker_init(&b, 1, 10 * S);
	sb_breaker_failure(&b, 100, false);
	int64_t w = 0;
	assert_int_equal(sb_breaker_ask(&b, 100 + 4 * S, &w), SB_BREAKER_WAIT);
	assert_int_equal(w, 6 * S);
}

static void test_after_the_cooldown_exactly_one_probe_goes_through(void **state)
{
	(void)state;
	struct sb_breaker b;
	sb_breaker_init(&b, 1, 10 * S);
	sb_breaker_failure(&b, 0, false);
	int64_t w;
	assert_int_equal(sb_breaker_ask(&b, 10 * S, &w), SB_BREAKER_PROBE);
	assert_int_equal(b.state, SB_BREAKER_HALF_OPEN);
	assert_int_equal(sb_breaker_ask(&b, 10 * S, &w), SB_BREAKER_WAIT);
}

static void test_probe_success_closes_the_breaker(void **state)
{
	(void)state;
	struct sb_breaker b;
	sb_breaker_init(&b, 1, 10 * S);
	sb_breaker_failure(&b, 0, false);
	int64_t w;
	sb_breaker_ask(&b, 10 * S, &w);
	assert_true(sb_breaker_success(&b, true));
	assert_int_equal(b.state, SB_BREAKER_CLOSED);
	assert_int_equal(sb_breaker_ask(&b, 10 * S, &w), SB_BREAKER_PASS);
}

static void test_probe_failure_opens_again_for_a_full_cooldown(void **state)
{
	(void)state;
	struct sb_breaker b;
	sb_breaker_init(&b, 1, 10 * S);
	sb_breaker_failure(&b, 0, false);
	int64_t w;
	sb_breaker_ask(&b, 10 * S, &w);
	assert_true(sb_breaker_failure(&b, 11 * S, true));
	assert_int_equal(b.state, SB_BREAKER_OPEN);
	assert_int_equal(sb_breaker_ask(&b, 20 * S, &w), SB_BREAKER_WAIT);
	assert_int_equal(sb_breaker_ask(&b, 21 * S, &w), SB_BREAKER_PROBE);
	assert_int_equal(b.opened, 2);
}

static void test_a_stragglers_success_does_not_close_an_open_breaker(void **state)
{
	(void)state;
	struct sb_breaker b;
	sb_breaker_init(&b, 1, 10 * S);
	sb_breaker_failure(&b, 0, false);
	assert_false(sb_breaker_success(&b, false));
	assert_int_equal(b.state, SB_BREAKER_OPEN);
	int64_t w;
	sb_breaker_ask(&b, 10 * S, &w);
	assert_false(sb_breaker_success(&b, false)); /* not the probe */
	assert_int_equal(b.state, SB_BREAKER_HALF_OPEN);
}

static void test_trip_opens_at_once(void **state)
{
	(void)state;
	struct sb_breaker b;
	sb_breaker_init(&b, 5, S);
	assert_true(sb_breaker_trip(&b, 7));
	assert_int_equal(b.state, SB_BREAKER_OPEN);
	assert_false(sb_breaker_trip(&b, 8));
	assert_int_equal(b.opened_at, 7);
}

static void test_token_bucket_starts_with_its_burst(void **state)
{
	(void)state;
	struct sb_tbucket t;
	sb_tbucket_init(&t, 1000, 50, 0);
	assert_int_equal(sb_tbucket_take(&t, 80, 0), 50);
	assert_int_equal(sb_tbucket_take(&t, 1, 0), 0);
}

static void test_token_bucket_refills_at_its_rate(void **state)
{
	(void)state;
	struct sb_tbucket t;
	sb_tbucket_init(&t, 1000, 50, 0);
	sb_tbucket_take(&t, 50, 0);
	assert_int_equal(sb_tbucket_take(&t, 100, 20 * MS), 20);
	/* a long pause refills only up to the burst */
	assert_int_equal(sb_tbucket_take(&t, 100, 10 * S), 50);
}

static void test_token_bucket_holds_its_rate_over_time(void **state)
{
	(void)state;
	struct sb_tbucket t;
	sb_tbucket_init(&t, 500, 25, 0);
	uint64_t got = 0;
	for (int64_t now = 0; now <= 10 * S; now += 7 * MS)
		got += sb_tbucket_take(&t, 1000, now);
	/* 10 s at 500/s plus the starting burst */
	assert_in_range(got, 5000, 5025);
}

/* A drain worker takes tokens only between confirm round trips: a burst of a
 * round trip's worth keeps its rate; tokens beyond the burst would be lost. */
static void test_token_bucket_rate_survives_a_round_trip_between_takes(void **state)
{
	(void)state;
	struct sb_tbucket t;
	sb_tbucket_init(&t, 5000, 512, 0);
	sb_tbucket_empty(&t, 0);
	uint64_t got = 0;
	for (int64_t now = 85 * MS; now <= 10 * S; now += 85 * MS)
		got += sb_tbucket_take(&t, 512, now);
	/* 117 round trips of 85 ms: 9.945 s at 5000/s */
	assert_in_range(got, 49700, 49725);
}

static void test_emptied_token_bucket_paces_from_then(void **state)
{
	(void)state;
	struct sb_tbucket t;
	sb_tbucket_init(&t, 1000, 200, 0);
	sb_tbucket_empty(&t, 5 * S);
	assert_int_equal(sb_tbucket_take(&t, 100, 5 * S), 0);
	assert_int_equal(sb_tbucket_delay(&t, 100, 5 * S), 100 * MS + 1);
	assert_int_equal(sb_tbucket_take(&t, 1000, 5 * S + 150 * MS), 150);
}

static void test_token_bucket_batch_waits_for_its_minimum(void **state)
{
	(void)state;
	struct sb_tbucket t;
	sb_tbucket_init(&t, 1000, 200, 0);
	sb_tbucket_empty(&t, 0);
	/* 10 tokens there, 50 asked as the least worth a round trip */
	assert_int_equal(sb_tbucket_take_batch(&t, 50, 500, 10 * MS), 0);
	assert_int_equal(sb_tbucket_take_batch(&t, 50, 500, 60 * MS), 60);
	/* a smaller want than the minimum is served whole */
	assert_int_equal(sb_tbucket_take_batch(&t, 50, 5, 70 * MS), 5);
}

/* A sender of windows of up to 512 that waits rtt for each window's
 * confirms, paced from an emptied bucket: items sent in secs seconds. */
static uint64_t paced_send(double rate, int64_t rtt, int64_t secs, uint64_t *first_second)
{
	struct sb_tbucket t;
	sb_pacer_init(&t, rate, 0);
	sb_tbucket_empty(&t, 0);
	uint64_t sent = 0;
	*first_second = 0;
	for (int64_t now = 0; now < secs * S;) {
		int64_t wait;
		uint64_t got = sb_pacer_take(&t, 512, now, &wait);
		if (!got) {
			assert_true(wait > 0);
			now += wait;
			continue;
		}
		assert_true(got >= 1 && got <= 512);
		if (now < S)
			*first_second += got;
		sent += got;
		now += rtt;
	}
	return sent;
}

static void test_pacer_holds_its_rate_across_confirm_round_trips(void **state)
{
	(void)state;
	uint64_t first;
	/* 85 ms round trips at 5000/s: 50 ms worth of burst lost a third */
	uint64_t sent = paced_send(5000, 85 * MS, 10, &first);
	assert_in_range(sent, 49500, 50000);
	assert_in_range(first, 4500, 5000);
	/* slow rates and fast round trips: batches still worth a trip */
	sent = paced_send(100, 2 * MS, 10, &first);
	assert_in_range(sent, 990, 1000);
	assert_in_range(first, 90, 100);
}

static void test_pacer_batches_are_worth_their_round_trip(void **state)
{
	(void)state;
	struct sb_tbucket t;
	int64_t wait;
	sb_pacer_init(&t, 1000, 0);
	sb_tbucket_empty(&t, 0);
	/* 100 ms worth (100) at least, or all that is asked */
	assert_int_equal(sb_pacer_take(&t, 500, 50 * MS, &wait), 0);
	assert_int_equal(wait, 50 * MS + 1);
	assert_int_equal(sb_pacer_take(&t, 500, 100 * MS, &wait), 100);
	assert_int_equal(sb_pacer_take(&t, 10, 110 * MS, &wait), 10);
	/* unlimited: everything at once */
	sb_pacer_init(&t, 0, 0);
	assert_int_equal(sb_pacer_take(&t, 5000, 0, &wait), 5000);
}

static void test_token_bucket_says_how_long_to_wait(void **state)
{
	(void)state;
	struct sb_tbucket t;
	sb_tbucket_init(&t, 100, 10, 0);
	sb_tbucket_take(&t, 10, 0);
	int64_t d = sb_tbucket_delay(&t, 5, 0);
	assert_in_range(d, 50 * MS, 50 * MS + 1);
	assert_int_equal(sb_tbucket_delay(&t, 5, 60 * MS), 0);
	/* more than the burst never waits longer than for the burst */
	assert_in_range(sb_tbucket_delay(&t, 1000, 60 * MS), 40 * MS, 40 * MS + 1);
}

static void test_unlimited_bucket_grants_everything(void **state)
{
	(void)state;
	struct sb_tbucket t;
	sb_tbucket_init(&t, 0, 1, 0);
	assert_int_equal(sb_tbucket_take(&t, 123456, 0), 123456);
	assert_int_equal(sb_tbucket_delay(&t, 123456, 0), 0);
}

static void test_peak_rate_is_the_busiest_recent_second(void **state)
{
	(void)state;
	struct sb_peak p;
	sb_peak_init(&p);
	int64_t t0 = 1000 * S;
	for (int s = 0; s < 10; s++)
		sb_peak_add(&p, s == 4 ? 900 : 100, t0 + s * S);
	assert_true(sb_peak_rate(&p, t0 + 10 * S) == 900);
	/* five minutes later the burst has aged out */
	sb_peak_add(&p, 50, t0 + 400 * S);
	assert_true(sb_peak_rate(&p, t0 + 401 * S) == 50);
}

static void test_backoff_grows_exponentially_up_to_the_cap(void **state)
{
	(void)state;
	assert_int_equal(sb_backoff_full_jitter(100 * MS, 30 * S, 0, 0), 0);
	int64_t prev = 0;
	for (unsigned a = 0; a < 12; a++) {
		int64_t ceil = 100 * MS << a;
		if (ceil > 30 * S)
			ceil = 30 * S;
		int64_t d = sb_backoff_full_jitter(100 * MS, 30 * S, a, (uint64_t)ceil);
		assert_int_equal(d, ceil);
		assert_true(d >= prev);
		prev = d;
	}
	assert_int_equal(sb_backoff_full_jitter(100 * MS, 30 * S, 60, 30 * S), 30 * S);
}

static void test_backoff_jitter_spans_zero_to_the_ceiling(void **state)
{
	(void)state;
	uint64_t x = 88172645463325252ULL;
	int64_t lo = INT64_MAX, hi = 0;
	for (int i = 0; i < 10000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int64_t d = sb_backoff_full_jitter(100 * MS, 30 * S, 3, x);
		assert_in_range(d, 0, 800 * MS);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	assert_true(lo < 10 * MS);
	assert_true(hi > 790 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_breaker_stays_closed_below_the_threshold),
	    cmocka_unit_test(test_breaker_success_resets_the_consecutive_count),
	    cmocka_unit_test(test_breaker_opens_after_n_consecutive_failures),
	    cmocka_unit_test(test_open_breaker_sends_nothing_until_the_cooldown),
	    cmocka_unit_test(test_after_the_cooldown_exactly_one_probe_goes_through),
	    cmocka_unit_test(test_probe_success_closes_the_breaker),
	    cmocka_unit_test(test_probe_failure_opens_again_for_a_full_cooldown),
	    cmocka_unit_test(test_a_stragglers_success_does_not_close_an_open_breaker),
	    cmocka_unit_test(test_trip_opens_at_once),
	    cmocka_unit_test(test_token_bucket_starts_with_its_burst),
	    cmocka_unit_test(test_token_bucket_refills_at_its_rate),
	    cmocka_unit_test(test_token_bucket_holds_its_rate_over_time),
	    cmocka_unit_test(test_token_bucket_says_how_long_to_wait),
	    cmocka_unit_test(test_unlimited_bucket_grants_everything),
	    cmocka_unit_test(test_token_bucket_rate_survives_a_round_trip_between_takes),
	    cmocka_unit_test(test_emptied_token_bucket_paces_from_then),
	    cmocka_unit_test(test_token_bucket_batch_waits_for_its_minimum),
	    cmocka_unit_test(test_pacer_holds_its_rate_across_confirm_round_trips),
	    cmocka_unit_test(test_pacer_batches_are_worth_their_round_trip),
	    cmocka_unit_test(test_peak_rate_is_the_busiest_recent_second),
	    cmocka_unit_test(test_backoff_grows_exponentially_up_to_the_cap),
	    cmocka_unit_test(test_backoff_jitter_spans_zero_to_the_ceiling),
	};
	return cmocka_run_group_tests_name("breaker", tests, NULL, NULL);
}
