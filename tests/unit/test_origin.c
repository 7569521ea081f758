/* Events another agent sent (taken off a queue by the amqp sensor) keep
 * their origin's seq, run and host through the bus's own numbering: every
 * encoder writes the origin's, so a consumer's sinks pass them on
 * unchanged; local events keep the writer's run and host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sb_codec.h"
#include "sb_json.h"
#include "sb_pbevent.h"

static struct sb_event *make(struct sb_evb *b, bool origin)
{
	sb_evb_begin(b, "synthetic", "metrics");
	sb_evb_time(b, 1764720000123456789LL);
	if (origin)
		sb_evb_origin(b, "agent-7", "0123456789abcdef0123456789abcdef", 42);
	sb_evb_field_uint(b, "n", 5);
	sb_evb_sample(b, "m", SB_COUNTER, 1.5);
	sb_evb_label(b, "l0", "x");
	return sb_evb_finish(b);
}

static void test_a_foreign_event_is_written_with_its_origin(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	struct sb_event *ev = make(&b, true);
	assert_non_null(ev);
	ev->seq = 9; /* the consumer's bus numbers it */
	struct sb_codec_ctx cc = {.run = "ffffffffffffffffffffffffffffffff", .host = "consumer"};
	struct sb_buf out;
	sb_buf_init(&out);
	sb_json_event(&out, &cc, ev);
	const char *want = "{\"seq\":42,\"run\":\"0123456789abcdef0123456789abcdef\","
			   "\"time\":\"2025-12-03T00:00:00.123456789Z\",\"host\":\"agent-7\","
			   "\"source\":\"synthetic\",\"kind\":\"metrics\",\"n\":5,\"samples\":[{"
			   "\"name\":\"m\",\"labels\":{\"l0\":\"x\"},\"type\":\"counter\","
			   "\"value\":1.5}]}\n";
	assert_int_equal(out.len, strlen(want));
	assert_memory_equal(out.data, want, out.len);
	assert_int_equal(sb_event_seq(ev), 42);
	sb_buf_free(&out);
	sb_event_unref(ev);
	sb_evb_free(&b);
}

static void test_a_local_event_is_written_with_the_writers_run_and_host(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	struct sb_event *ev = make(&b, false);
	ev->seq = 9;
	struct sb_codec_ctx cc = {.run = "ffffffffffffffffffffffffffffffff", .host = "consumer"};
	struct sb_buf out;
	sb_buf_init(&out);
	sb_json_event(&out, &cc, ev);
	sb_buf_addc(&out, 0);
	assert_non_null(
	    strstr(out.data, "{\"seq\":9,\"run\":\"ffffffffffffffffffffffffffffffff\""));
	assert_non_null(strstr(out.data, "\"host\":\"consumer\""));
	assert_null(ev->orun);
	sb_buf_free(&out);
	sb_event_unref(ev);
	sb_evb_free(&b);
}

/* What the agent encoded, the consumer decodes and encodes again: the
 * same bytes, in protobuf and then in JSON. */
static void test_a_decoded_protobuf_event_encodes_to_the_same_bytes(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	struct sb_event *ev = make(&b, false);
	ev->seq = 77;
	struct sb_codec_ctx agent = {.run = "0123456789abcdef0123456789abcdef", .host = "agent-7"};
	struct sb_codec_ctx consumer = {.run = "ffffffffffffffffffffffffffffffff",
					.host = "consumer"};
	struct sb_buf pb, pb2, j1, j2;
	sb_buf_init(&pb);
	sb_buf_init(&pb2);
	sb_buf_init(&j1);
	sb_buf_init(&j2);
	sb_pb_event(&pb, &agent, ev);
	sb_json_event(&j1, &agent, ev);
	struct sb_pbdec d;
	sb_pbdec_init(&d);
	struct sb_event *got = NULL;
	assert_int_equal(sb_pbdec_event(&d, pb.data, pb.len, 0, &got), 0);
	got->seq = 3; /* renumbered by the consumer's bus */
	sb_pb_event(&pb2, &consumer, got);
	sb_json_event(&j2, &consumer, got);
	assert_int_equal(pb2.len, pb.len);
	assert_memory_equal(pb2.data, pb.data, pb.len);
	assert_int_equal(j2.len, j1.len);
	assert_memory_equal(j2.data, j1.data, j1.len);
	sb_event_unref(got);
	sb_pbdec_free(&d);
	sb_buf_free(&pb);
	sb_buf_free(&pb2);
	sb_buf_free(&j1);
	sb_buf_free(&j2);
	sb_event_unref(ev);
	sb_evb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_foreign_event_is_written_with_its_origin),
	    cmocka_unit_test(test_a_local_event_is_written_with_the_writers_run_and_host),
	    cmocka_unit_test(test_a_decoded_protobuf_event_encodes_to_the_same_bytes),
	};
	return cmocka_run_group_tests_name("origin", tests, NULL, NULL);
}
