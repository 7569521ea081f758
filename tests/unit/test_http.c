/* The scrape HTTP layer's pure parts: backing off an overloaded server,
 * redacting URLs for logs, and how failures are worded. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/http/http.h"

#define S SB_NSEC_PER_SEC

static struct sb_http_result answer(long status, int64_t retry_after)
{
	return (struct sb_http_result){.status = status, .retry_after_ns = retry_after};
}

static unsigned skipped(struct sb_backoff *b)
{
	unsigned n = 0;
	while (sb_backoff_skip(b))
		n++;
	return n;
}

static void test_backoff_doubles_per_overloaded_answer_in_a_row(void **state)
{
	(void)state;
	struct sb_backoff b = {0};
	struct sb_http_result r503 = answer(503, 0);
	unsigned want[] = {1, 2, 4, 8, 16};
	for (size_t i = 0; i < SB_ARRAY_SIZE(want); i++) {
		sb_http_backoff(&b, &r503, 5 * S);
		assert_int_equal(skipped(&b), want[i]);
	}
}

static void test_backoff_is_capped_near_five_minutes(void **state)
{
	(void)state;
	struct sb_backoff b = {0};
	struct sb_http_result r = answer(500, 0);
	for (int i = 0; i < 40; i++)
		sb_http_backoff(&b, &r, 5 * S);
	assert_int_equal(skipped(&b), 60); /* 300 s of 5 s rounds */
}

static void test_backoff_honours_retry_after(void **state)
{
	(void)state;
	struct sb_backoff b = {0};
	struct sb_http_result r = answer(429, 30 * S);
	sb_http_backoff(&b, &r, 5 * S);
	assert_int_equal(skipped(&b), 5);  /* the 6th round is 30 s on */
	r.retry_after_ns = 100 * 3600 * S; /* absurd: held to an hour */
	sb_http_backoff(&b, &r, 60 * S);
	assert_int_equal(skipped(&b), 59);
}

static void test_backoff_ends_with_a_good_answer(void **state)
{
	(void)state;
	struct sb_backoff b = {0};
	struct sb_http_result bad = answer(503, 0), good = answer(200, 0), nf = answer(404, 0);
	sb_http_backoff(&b, &bad, S);
	sb_http_backoff(&b, &bad, S);
	sb_http_backoff(&b, &good, S);
	assert_false(sb_backoff_skip(&b));
	sb_http_backoff(&b, &bad, S);
	assert_int_equal(skipped(&b), 1); /* counting starts again */
	sb_http_backoff(&b, &nf, S);	  /* a 4xx is an answer, not overload */
	assert_false(sb_backoff_skip(&b));
}

static void test_backoff_ignores_requests_without_an_answer(void **state)
{
	(void)state;
	struct sb_backoff b = {0};
	struct sb_http_result bad = answer(503, 0);
	struct sb_http_result refused = {.err = -ECONNREFUSED};
	sb_http_backoff(&b, &bad, S);
	sb_http_backoff(&b, &refused, S);
	assert_int_equal(b.fails, 1);
	assert_int_equal(skipped(&b), 1);
}

static void test_url_redact_drops_credentials_only(void **state)
{
	(void)state;
	char out[128];
	sb_url_redact("http://user:pw@host:9100/metrics?x=1", out, sizeof(out));
	assert_string_equal(out, "http://host:9100/metrics?x=1");
	sb_url_redact("https://host/metrics", out, sizeof(out));
	assert_string_equal(out, "https://host/metrics");
	/* an @ in the path is not userinfo */
	sb_url_redact("http://host/a@b", out, sizeof(out));
	assert_string_equal(out, "http://host/a@b");
}

static void test_describe_says_what_failed(void **state)
{
	(void)state;
	char out[128];
	struct sb_http_result r = {.status = 503};
	sb_http_describe(&r, out, sizeof(out));
	assert_string_equal(out, "HTTP 503");
	r = (struct sb_http_result){.err = -ETIMEDOUT, .reason = "after 400 ms"};
	sb_http_describe(&r, out, sizeof(out));
	assert_string_equal(out, "timed out: after 400 ms");
	r = (struct sb_http_result){.err = -ECONNREFUSED, .reason = "port 1"};
	sb_http_describe(&r, out, sizeof(out));
	assert_string_equal(out, "connection refused: port 1");
	r = (struct sb_http_result){.err = -EFBIG, .reason = "body larger than 9 bytes"};
	sb_http_describe(&r, out, sizeof(out));
	assert_string_equal(out, "response too large: body larger than 9 bytes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backoff_doubles_per_overloaded_answer_in_a_row),
	    cmocka_unit_test(test_backoff_is_capped_near_five_minutes),
	    cmocka_unit_test(test_backoff_honours_retry_after),
	    cmocka_unit_test(test_backoff_ends_with_a_good_answer),
	    cmocka_unit_test(test_backoff_ignores_requests_without_an_answer),
	    cmocka_unit_test(test_url_redact_drops_credentials_only),
	    cmocka_unit_test(test_describe_says_what_failed),
	};
	return cmocka_run_group_tests_name("scrape_http", tests, NULL, NULL);
}
