/* The amqp sensor's logic, with fakes: which deliveries may be acked for
 * a given durable watermark, which events are duplicates, what a message
 * decodes to, and topic matching for the feed-back check. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/sensors/amqp_consumer.h"
#include "../../src/sinks/amqp.h"
#include "sb_json.h"

/* ---- acks ---- */

static void test_nothing_is_acked_before_its_events_are_durable(void **state)
{
	(void)state;
	struct sb_acks a;
	sb_acks_init(&a);
	assert_int_equal(sb_acks_push(&a, 1, 10), 0);
	assert_int_equal(sb_acks_push(&a, 2, 25), 0);
	assert_int_equal(sb_acks_push(&a, 3, 25), 0); /* all duplicates: no events of its own */
	assert_int_equal(sb_acks_push(&a, 4, 40), 0);
	assert_true(sb_acks_due(&a, 9) == 0);
	assert_true(sb_acks_due(&a, 10) == 1);
	assert_true(sb_acks_due(&a, 10) == 0); /* acked once */
	assert_true(sb_acks_due(&a, 39) == 3); /* multiple: 2 and 3 */
	assert_int_equal(a.n, 1);
	assert_true(sb_acks_due(&a, 1000) == 4);
	assert_int_equal(a.n, 0);
	sb_acks_free(&a);
}

static void test_a_later_durable_delivery_waits_for_an_earlier_one(void **state)
{
	(void)state;
	struct sb_acks a;
	sb_acks_init(&a);
	/* a watermark is a prefix: the seqs given never decrease */
	for (uint64_t t = 1; t <= 1000; t++)
		assert_int_equal(sb_acks_push(&a, t, t * 3), 0);
	assert_true(sb_acks_due(&a, 1500) == 500);
	assert_true(sb_acks_due(&a, 1502) == 0); /* 501 needs 1503 */
	sb_acks_reset(&a);			 /* the channel went: its tags are void */
	assert_true(sb_acks_due(&a, UINT64_MAX) == 0);
	assert_int_equal(sb_acks_push(&a, 1, 3001), 0); /* tags restart on the new channel */
	assert_true(sb_acks_due(&a, 3001) == 1);
	sb_acks_free(&a);
}

/* ---- dedup ---- */

static void test_an_event_seen_again_is_a_duplicate_per_origin(void **state)
{
	(void)state;
	struct sb_dedup d;
	assert_int_equal(sb_dedup_init(&d, 128, 16), 0);
	assert_int_equal(sb_dedup_seen(&d, "a", "r1", 1), 0);
	assert_int_equal(sb_dedup_seen(&d, "a", "r1", 2), 0);
	assert_int_equal(sb_dedup_seen(&d, "a", "r1", 1), 1);
	assert_int_equal(sb_dedup_seen(&d, "b", "r1", 1), 0); /* another host */
	assert_int_equal(sb_dedup_seen(&d, "a", "r2", 1), 0); /* another run */
	/* out of order within the window: new, then a duplicate */
	assert_int_equal(sb_dedup_seen(&d, "a", "r1", 100), 0);
	assert_int_equal(sb_dedup_seen(&d, "a", "r1", 50), 0);
	assert_int_equal(sb_dedup_seen(&d, "a", "r1", 50), 1);
	assert_int_equal(sb_dedup_seen(&d, "a", "r1", 99), 0);
	sb_dedup_free(&d);
}

static void test_the_window_slides_and_older_events_pass_counted(void **state)
{
	(void)state;
	struct sb_dedup d;
	assert_int_equal(sb_dedup_init(&d, 64, 16), 0);
	for (uint64_t s = 1; s <= 1000; s++)
		assert_int_equal(sb_dedup_seen(&d, "h", "r", s), 0);
	for (uint64_t s = 1000 - 63; s <= 1000; s++)
		assert_int_equal(sb_dedup_seen(&d, "h", "r", s), 1);
	assert_int_equal(sb_dedup_seen(&d, "h", "r", 1000 - 64), 0);
	assert_true(d.too_old == 1);
	/* a jump past the window forgets everything before it */
	assert_int_equal(sb_dedup_seen(&d, "h", "r", 5000), 0);
	assert_int_equal(sb_dedup_seen(&d, "h", "r", 4999), 0);
	assert_int_equal(sb_dedup_seen(&d, "h", "r", 4999), 1);
	sb_dedup_free(&d);
}

static void test_origins_beyond_the_bound_evict_the_least_recent(void **state)
{
	(void)state;
	struct sb_dedup d;
	assert_int_equal(sb_dedup_init(&d, 64, 2), 0);
	assert_int_equal(sb_dedup_seen(&d, "a", "r", 1), 0);
	assert_int_equal(sb_dedup_seen(&d, "b", "r", 1), 0);
	assert_int_equal(sb_dedup_seen(&d, "a", "r", 2), 0); /* a used last */
	assert_int_equal(sb_dedup_seen(&d, "c", "r", 1), 0); /* evicts b */
	assert_true(d.evicted == 1);
	assert_int_equal(d.n, 2);
	assert_int_equal(sb_dedup_seen(&d, "a", "r", 1), 1);
	assert_int_equal(sb_dedup_seen(&d, "c", "r", 1), 1);
	sb_dedup_free(&d);
}

/* ---- decode ---- */

struct got {
	struct sb_event *ev[8];
	size_t n;
};

static void collect(void *arg, struct sb_event *ev)
{
	struct got *g = arg;
	assert_true(g->n < 8);
	g->ev[g->n++] = ev;
}

static void release(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		sb_event_unref(g->ev[i]);
	g->n = 0;
}

#define LINE(seq)                                                                                  \
	"{\"seq\":" #seq ",\"run\":\"r1\",\"time\":\"2026-12-03T00:00:00.000000001Z\","            \
	"\"host\":\"agent-1\",\"source\":\"synthetic\",\"kind\":\"metrics\",\"n\":" #seq "}"

static void test_json_single_and_batched_decode_with_their_origin(void **state)
{
	(void)state;
	struct sb_msgdec d;
	struct got g = {0};
	sb_msgdec_init(&d);
	const char *one = LINE(7);
	assert_int_equal(
	    sb_msgdec_decode(&d, "application/json", NULL, one, strlen(one), collect, &g), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.ev[0]->ohost, "agent-1");
	assert_string_equal(g.ev[0]->orun, "r1");
	assert_true(g.ev[0]->oseq == 7);
	release(&g);
	const char *batch = LINE(1) "\n" LINE(2) "\n" LINE(3) "\n";
	assert_int_equal(
	    sb_msgdec_decode(&d, "application/x-ndjson", NULL, batch, strlen(batch), collect, &g),
	    0);
	assert_int_equal(g.n, 3);
	assert_true(g.ev[2]->oseq == 3);
	release(&g);
	sb_msgdec_free(&d);
}

static void test_protobuf_batch_decodes_every_event(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	struct sb_buf one, batch;
	sb_buf_init(&one);
	sb_buf_init(&batch);
	const struct sb_codec *pb = sb_codec_find("protobuf");
	struct sb_codec_ctx cc = {.run = "0123", .host = "agent-2"};
	for (int i = 1; i <= 3; i++) {
		sb_evb_begin(&b, "synthetic", "metrics");
		sb_evb_sample(&b, "x", SB_GAUGE, i);
		struct sb_event *ev = sb_evb_finish(&b);
		ev->seq = (uint64_t)i;
		sb_buf_reset(&one);
		pb->encode(&one, &cc, ev);
		sb_codec_batch_add(pb, &batch, one.data, one.len);
		sb_event_unref(ev);
	}
	struct sb_msgdec d;
	struct got g = {0};
	sb_msgdec_init(&d);
	assert_int_equal(sb_msgdec_decode(&d, "application/x-protobuf", "sensorbus.v1.EventBatch",
					  batch.data, batch.len, collect, &g),
			 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.ev[1]->ohost, "agent-2");
	assert_true(g.ev[1]->oseq == 2);
	release(&g);
	/* the last one alone, as a single Event */
	assert_int_equal(sb_msgdec_decode(&d, "application/x-protobuf", "sensorbus.v1.Event",
					  one.data, one.len, collect, &g),
			 0);
	assert_int_equal(g.n, 1);
	release(&g);
	sb_msgdec_free(&d);
	sb_buf_free(&one);
	sb_buf_free(&batch);
	sb_evb_free(&b);
}

static void test_a_poison_message_gives_no_event_and_a_reason(void **state)
{
	(void)state;
	struct sb_msgdec d;
	struct got g = {0};
	sb_msgdec_init(&d);
	const char *garbage = "\x01\xff garbage";
	assert_int_equal(
	    sb_msgdec_decode(&d, "text/plain", NULL, garbage, strlen(garbage), collect, &g),
	    -EBADMSG);
	assert_non_null(strstr(d.err, "text/plain"));
	assert_int_equal(sb_msgdec_decode(&d, "application/x-protobuf", "sensorbus.v1.Event",
					  garbage, strlen(garbage), collect, &g),
			 -EBADMSG);
	assert_true(d.err[0]);
	/* a batch whose second line is bad gives nothing at all */
	const char *half = LINE(1) "\n{\"seq\":\n";
	assert_int_equal(
	    sb_msgdec_decode(&d, "application/x-ndjson", NULL, half, strlen(half), collect, &g),
	    -EBADMSG);
	assert_int_equal(g.n, 0);
	sb_msgdec_free(&d);
}

/* A protobuf Event is held to what a JSON one must say (fuzz_amqpmsg):
 * seq 0, or no run and host, is no event of another agent. */
static void test_a_protobuf_event_without_its_origin_is_refused(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	struct sb_buf one;
	sb_buf_init(&one);
	const struct sb_codec *pb = sb_codec_find("protobuf");
	struct sb_msgdec d;
	struct got g = {0};
	sb_msgdec_init(&d);
	sb_evb_begin(&b, "synthetic", "metrics");
	sb_evb_sample(&b, "x", SB_GAUGE, 1);
	struct sb_event *ev = sb_evb_finish(&b);
	struct sb_codec_ctx cc = {.run = "0123", .host = "agent-2"};
	ev->seq = 0;
	pb->encode(&one, &cc, ev);
	assert_int_equal(sb_msgdec_decode(&d, "application/x-protobuf", "sensorbus.v1.Event",
					  one.data, one.len, collect, &g),
			 -EBADMSG);
	assert_int_equal(g.n, 0);
	assert_non_null(strstr(d.err, "seq 0"));
	ev->seq = 5;
	sb_buf_reset(&one);
	pb->encode(&one, &cc, ev);
	assert_int_equal(sb_msgdec_decode(&d, "application/x-protobuf", "sensorbus.v1.Event",
					  one.data, one.len, collect, &g),
			 0);
	assert_int_equal(g.n, 1);
	release(&g);
	sb_event_unref(ev);
	sb_msgdec_free(&d);
	sb_buf_free(&one);
	sb_evb_free(&b);
}

/* ---- topics ---- */

static void test_topic_patterns_match_as_the_broker_does(void **state)
{
	(void)state;
	assert_true(sb_amqp_topic_match("sensorbus.#", "sensorbus.h.proc.metrics"));
	assert_true(sb_amqp_topic_match("sensorbus.#", "sensorbus"));
	assert_true(sb_amqp_topic_match("#", "a.b"));
	assert_true(sb_amqp_topic_match("*.x.*.*", "sensorbus.x.x.x"));
	assert_true(sb_amqp_topic_match("a.#.z", "a.z"));
	assert_true(sb_amqp_topic_match("a.#.z", "a.b.c.z"));
	assert_false(sb_amqp_topic_match("a.*", "a.b.c"));
	assert_false(sb_amqp_topic_match("fleet.#", "sensorbus.h.proc.metrics"));
	assert_false(sb_amqp_topic_match("a.#.z", "a.b.c"));
	/* a template's placeholders may be any word */
	assert_true(sb_amqp_topic_may_match("*.fleet-a.#", "sensorbus.*.*.*"));
	assert_false(sb_amqp_topic_may_match("fleet.#", "sensorbus.*.*.*"));
	assert_false(sb_amqp_topic_match("*.fleet-a.#", "sensorbus.*.*.*"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nothing_is_acked_before_its_events_are_durable),
	    cmocka_unit_test(test_a_later_durable_delivery_waits_for_an_earlier_one),
	    cmocka_unit_test(test_an_event_seen_again_is_a_duplicate_per_origin),
	    cmocka_unit_test(test_the_window_slides_and_older_events_pass_counted),
	    cmocka_unit_test(test_origins_beyond_the_bound_evict_the_least_recent),
	    cmocka_unit_test(test_json_single_and_batched_decode_with_their_origin),
	    cmocka_unit_test(test_protobuf_batch_decodes_every_event),
	    cmocka_unit_test(test_a_poison_message_gives_no_event_and_a_reason),
	    cmocka_unit_test(test_a_protobuf_event_without_its_origin_is_refused),
	    cmocka_unit_test(test_topic_patterns_match_as_the_broker_does),
	};
	return cmocka_run_group_tests_name("amqp_consumer", tests, NULL, NULL);
}
