/* JSON events read back (the amqp sensor's decoder): what an agent's json
 * codec wrote, decoded and written again by a consumer with another run
 * and host, is the same line byte for byte; what is not an event is
 * refused with a reason. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sb_json.h"

static const struct sb_codec_ctx agent = {.run = "0123456789abcdef0123456789abcdef",
					  .host = "agent \"7\""};

static void roundtrip(struct sb_event *ev)
{
	struct sb_codec_ctx a = agent, c = {.run = "ffffffffffffffffffffffffffffffff", .host = "c"};
	struct sb_buf j1, j2;
	sb_buf_init(&j1);
	sb_buf_init(&j2);
	sb_json_event(&j1, &a, ev);
	struct sb_evb b;
	sb_evb_init(&b);
	struct sb_event *got = NULL;
	char err[200] = "";
	assert_int_equal(sb_json_decode_event(&b, j1.data, j1.len, &got, err, sizeof(err)), 0);
	got->seq = 1; /* the consumer's bus numbers it anew */
	sb_json_event(&j2, &c, got);
	sb_buf_addc(&j1, 0);
	sb_buf_addc(&j2, 0);
	assert_string_equal(j2.data, j1.data);
	sb_event_unref(got);
	sb_evb_free(&b);
	sb_buf_free(&j1);
	sb_buf_free(&j2);
}

static void test_metrics_of_every_type_read_back_to_the_same_line(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	sb_evb_begin(&b, "proc", "metrics");
	sb_evb_time(&b, 1764720000000000001LL);
	sb_evb_sample(&b, "node_load1", SB_GAUGE, 0.21);
	sb_evb_sample(&b, "c", SB_COUNTER, 3018.54);
	sb_evb_label(&b, "cpu", "0");
	sb_evb_label(&b, "mode", "us\"er\n\xc3\xa9");
	sb_evb_sample(&b, "u", SB_UNTYPED, NAN);
	sb_evb_sample(&b, "big", SB_GAUGE, 1e300);
	sb_evb_sample(&b, "neg0", SB_GAUGE, -0.0);
	sb_evb_sample(&b, "h", SB_HISTOGRAM, 0);
	sb_evb_bucket(&b, 0.001, 3);
	sb_evb_bucket(&b, INFINITY, 7);
	sb_evb_sumcount(&b, 0.5, 7);
	sb_evb_sample(&b, "s", SB_SUMMARY, 0);
	sb_evb_bucket(&b, 0.99, 12.5);
	sb_evb_sumcount(&b, 100, 8);
	struct sb_event *ev = sb_evb_finish(&b);
	ev->seq = 1842;
	roundtrip(ev);
	sb_event_unref(ev);
	sb_evb_free(&b);
}

static void test_process_fields_read_back_to_the_same_line(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	sb_evb_begin(&b, "bpf", "exit");
	sb_evb_time(&b, 1764720000999999999LL);
	sb_evb_field_uint(&b, "pid", 4242);
	sb_evb_field_int(&b, "exit_code", -3);
	sb_evb_field_double(&b, "duration_seconds", 0.0012);
	sb_evb_field_double(&b, "whole", 2.0);
	sb_evb_field_str(&b, "comm", "tr\tue", 5);
	struct sb_event *ev = sb_evb_finish(&b);
	ev->seq = 7;
	roundtrip(ev);
	sb_event_unref(ev);
	sb_evb_free(&b);
}

/* A run is whatever another agent's message said: it is escaped like the
 * host, and reads back (found by fuzz_amqpmsg: a backslash was written
 * as is, and the line was no JSON). */
static void test_a_run_with_quotes_and_backslashes_reads_back(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	sb_evb_begin(&b, "proc", "metrics");
	sb_evb_time(&b, 1764720000000000001LL);
	sb_evb_origin(&b, "h", "r\\\"un\\c", 9);
	struct sb_event *ev = sb_evb_finish(&b);
	struct sb_codec_ctx c = {.run = "x", .host = "y"};
	struct sb_buf j1, j2;
	sb_buf_init(&j1);
	sb_buf_init(&j2);
	sb_json_event(&j1, &c, ev);
	struct sb_event *got = NULL;
	char err[200] = "";
	assert_int_equal(sb_json_decode_event(&b, j1.data, j1.len, &got, err, sizeof(err)), 0);
	assert_string_equal(got->orun, "r\\\"un\\c");
	sb_json_event(&j2, &c, got);
	sb_buf_addc(&j1, 0);
	sb_buf_addc(&j2, 0);
	assert_string_equal(j2.data, j1.data);
	sb_event_unref(got);
	sb_event_unref(ev);
	sb_evb_free(&b);
	sb_buf_free(&j1);
	sb_buf_free(&j2);
}

static void test_what_is_not_an_event_is_refused_with_a_reason(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "garbage",
	    "[1,2]",
	    "{\"seq\":1}",
	    "{\"seq\":0,\"run\":\"r\",\"time\":\"2026-01-01T00:00:00Z\",\"host\":\"h\","
	    "\"source\":\"s\",\"kind\":\"k\"}",
	    "{\"seq\":1,\"run\":\"r\",\"time\":\"yesterday\",\"host\":\"h\","
	    "\"source\":\"s\",\"kind\":\"k\"}",
	    /* past int64 nanoseconds (2262): refused, not wrapped */
	    "{\"seq\":1,\"run\":\"r\",\"time\":\"4052-01-01T00:00:00Z\",\"host\":\"h\","
	    "\"source\":\"s\",\"kind\":\"k\"}",
	    "{\"seq\":1,\"run\":\"r\",\"time\":\"2026-01-01T00:00:00Z\",\"host\":\"h\","
	    "\"source\":\"s\",\"kind\":\"k\",\"samples\":[{\"value\":1}]}",
	};
	struct sb_evb b;
	sb_evb_init(&b);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sb_event *ev = (struct sb_event *)1;
		char err[200] = "";
		assert_int_equal(
		    sb_json_decode_event(&b, bad[i], strlen(bad[i]), &ev, err, sizeof(err)),
		    -EBADMSG);
		assert_null(ev);
		assert_true(err[0]);
	}
	sb_evb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_metrics_of_every_type_read_back_to_the_same_line),
	    cmocka_unit_test(test_process_fields_read_back_to_the_same_line),
	    cmocka_unit_test(test_a_run_with_quotes_and_backslashes_reads_back),
	    cmocka_unit_test(test_what_is_not_an_event_is_refused_with_a_reason),
	};
	return cmocka_run_group_tests_name("json_dec", tests, NULL, NULL);
}
