/* The delivery layer driven step by step with a fake transport and a fake
 * clock: settle, retries, the breaker, replay order and rate, rejection and
 * the accounting identity, with no threads and no sleeps. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <cmocka.h>

#include "../../src/delivery/record.h"
#include "../../src/breaker.h"
#include "sb_delivery.h"
#include "sb_log.h"
#include "sb_pbevent.h"

/* ---- the fake clock and transport ---- */

static int64_t now_ns;
static int64_t fake_now(void) { return now_ns; }

struct fake {
	bool refuse_connect;
	int connects, publishes, closes;
	/* what publish answers per message, by seq: 'a' ack (default), 'f'
	 * fail, 'r' reject; a fail answer is used once, then the message is
	 * acked the next time */
	char answer[4096];
	uint64_t sent[8192]; /* seqs acked, in order */
	int messages, batches;
	uint32_t last_nevents;
	size_t last_len, last_lines;
	char last_id[128];
	int64_t sent_at[8192];
	uint8_t codec[8192];	 /* of each message acked */
	uint64_t body_seq[8192]; /* its body decoded (protobuf only) */
	size_t nsent;
	/* the pipelining transport (send and poll): what is in flight, in
	 * the order sent; every message handed over, with its id */
	struct sb_dmsg *fl[8192];
	size_t nfl, max_fl;
	uint64_t wire[8192];
	char wire_id[64][128];
	size_t nwire;
	bool auto_answer;   /* poll answers all in flight as answer[] says */
	int poll_error;	    /* the next poll breaks the link with it */
	unsigned endpoints; /* what a connect round tries: 0 or 1, one */
};
static struct fake fk;

static int f_init(void **tp, const struct sb_sink *s, char *err, size_t errlen)
{
	(void)s;
	(void)err;
	(void)errlen;
	*tp = &fk;
	return 0;
}
static void f_fini(void *tp) { (void)tp; }
static const char *f_target(void *tp)
{
	(void)tp;
	return "fake:0";
}
static int f_connect(void *tp, unsigned worker, void **link, char *err, size_t errlen)
{
	(void)worker;
	fk.connects++;
	if (fk.refuse_connect) {
		snprintf(err, errlen, "connection refused");
		return -ECONNREFUSED;
	}
	*link = tp;
	return 0;
}
static void f_close(void *link)
{
	(void)link;
	fk.closes++;
	fk.nfl = 0; /* a closed link owes no outcomes */
}
/* Sets m's outcome as answer[] says (the receiver's side). */
static void answer(struct sb_dmsg *m, char *err, size_t errlen)
{
	char a = m->seq < sizeof(fk.answer) ? fk.answer[m->seq] : 0;
	if (a == 'f') {
		fk.answer[m->seq] = 0;
		m->state = SB_DMSG_FAILED;
		snprintf(err, errlen, "refused");
	} else if (a == 'r') {
		m->state = SB_DMSG_REJECTED;
	} else {
		m->state = SB_DMSG_ACKED;
		fk.sent_at[fk.nsent] = now_ns;
		fk.codec[fk.nsent] = m->codec->id;
		fk.body_seq[fk.nsent] = 0;
		if (m->codec->framing == SB_FRAME_VARINT) {
			struct sb_pbdec d;
			struct sb_event *ev = NULL;
			sb_pbdec_init(&d);
			if (!sb_pbdec_event(&d, m->body, m->len, 0, &ev))
				fk.body_seq[fk.nsent] = ev->seq;
			sb_event_unref(ev);
			sb_pbdec_free(&d);
		}
		fk.sent[fk.nsent++] = m->seq;
		fk.messages++;
		if (m->nevents > 1) { /* a batch: its other events */
			for (uint64_t q = m->seq + 1; q <= m->last_seq; q++)
				fk.sent[fk.nsent++] = q;
			fk.batches++;
			fk.last_nevents = m->nevents;
			fk.last_len = m->len;
			size_t lines = 0;
			for (size_t b = 0; b < m->len; b++)
				lines += ((const char *)m->body)[b] == '\n';
			fk.last_lines = lines;
			sb_dmsg_id(m, fk.last_id, sizeof(fk.last_id));
		}
	}
}

static int f_publish(void *link, struct sb_dmsg *const *msgs, size_t n, int64_t timeout, char *err,
		     size_t errlen)
{
	(void)link;
	(void)timeout;
	fk.publishes++;
	for (size_t i = 0; i < n; i++)
		if (msgs[i]->state != SB_DMSG_ACKED && msgs[i]->state != SB_DMSG_REJECTED)
			answer(msgs[i], err, errlen);
	return 0;
}

static int p_send(void *link, struct sb_dmsg *const *msgs, size_t n, char *err, size_t errlen)
{
	(void)link;
	(void)err;
	(void)errlen;
	fk.publishes++;
	for (size_t i = 0; i < n; i++) {
		struct sb_dmsg *m = msgs[i];
		if (m->state != SB_DMSG_UNSENT && m->state != SB_DMSG_FAILED)
			continue;
		m->state = SB_DMSG_PENDING;
		fk.fl[fk.nfl++] = m;
		if (fk.nfl > fk.max_fl)
			fk.max_fl = fk.nfl;
		if (fk.nwire < SB_ARRAY_SIZE(fk.wire_id))
			sb_dmsg_id(m, fk.wire_id[fk.nwire], sizeof(fk.wire_id[0]));
		fk.wire[fk.nwire++] = m->seq;
	}
	return 0;
}

/* Outcome arrives for the in-flight message with seq (and, multiple,
 * every one sent before it): 'a' ack, 'n' nack. */
static void p_outcome(uint64_t seq, bool multiple, char what)
{
	size_t k = 0;
	ssize_t at = -1;
	for (size_t i = 0; i < fk.nfl; i++)
		if (fk.fl[i]->seq == seq)
			at = (ssize_t)i;
	assert_true(at >= 0);
	for (size_t i = 0; i < fk.nfl; i++) {
		struct sb_dmsg *m = fk.fl[i];
		if (i == (size_t)at || (multiple && i < (size_t)at)) {
			char err[64];
			if (what == 'n')
				fk.answer[m->seq] = 'f';
			answer(m, err, sizeof(err));
		} else {
			fk.fl[k++] = m;
		}
	}
	fk.nfl = k;
}

static int p_poll(void *link, int64_t wait, char *err, size_t errlen)
{
	(void)link;
	(void)wait;
	if (fk.poll_error) {
		int r = fk.poll_error;
		fk.poll_error = 0;
		snprintf(err, errlen, "connection reset");
		return r;
	}
	if (fk.auto_answer) {
		for (size_t i = 0; i < fk.nfl; i++)
			answer(fk.fl[i], err, errlen);
		fk.nfl = 0;
	}
	return 0;
}

static const struct sb_transport_ops fake_transport = {
    .name = "fake",
    .init = f_init,
    .fini = f_fini,
    .target = f_target,
    .connect = f_connect,
    .close = f_close,
    .publish = f_publish,
};

static unsigned f_endpoints(void *tp)
{
	(void)tp;
	return fk.endpoints;
}

static const struct sb_transport_ops pipe_transport = {
    .name = "fake",
    .init = f_init,
    .fini = f_fini,
    .target = f_target,
    .connect = f_connect,
    .close = f_close,
    .publish = f_publish,
    .send = p_send,
    .poll = p_poll,
    .endpoints = f_endpoints,
};

static const struct sb_sink_ops fake_sink = {
    .name = "fake",
    .desc = "test",
    .shared_keys = sb_delivery_keys,
    .cfg_size = sizeof(struct sb_delivery_cfg),
    .transport = &fake_transport,
    .validate = sb_delivery_validate,
};

static const struct sb_sink_ops pipe_sink = {
    .name = "fake",
    .desc = "test",
    .shared_keys = sb_delivery_keys,
    .cfg_size = sizeof(struct sb_delivery_cfg),
    .transport = &pipe_transport,
    .validate = sb_delivery_validate,
};

/* Tests registered twice run over the simple transport (publish) and
 * the pipelining one answering every poll by itself. */
static bool use_pipe;

/* ---- fixture ---- */

struct fx {
	char dir[64];
	struct sb_sink_common common;
	struct sb_delivery_cfg cfg;
	struct sb_runinfo ri;
	struct sb_sink s;
	struct sb_evb evb;
	uint64_t seq;
	bool open;
};

static void quiet(enum sb_log_level l, const char *line, void *arg)
{
	(void)l;
	(void)line;
	(void)arg;
}

static void open_sink(struct fx *f, const char *extra)
{
	char json[1024], err[256];
	snprintf(json, sizeof(json),
		 "{\"spool_dir\": \"%s\", "
		 "\"retry\": {\"base\": \"100ms\", \"max_delay\": \"1s\"} %s %s}",
		 f->dir,
		 strstr(extra, "\"breaker\"")
		     ? ""
		     : ", \"breaker\": {\"failures\": 2, \"cooldown\": \"10s\"}",
		 extra);
	cJSON *o = cJSON_Parse(json);
	assert_non_null(o);
	const struct sb_cfg_key *tables[2] = {sb_sink_common_keys, sb_delivery_keys};
	void *dsts[2] = {&f->common, &f->cfg};
	assert_int_equal(sb_cfg_parse(o, "sinks[0]", tables, dsts, 2, err, sizeof(err)), 0);
	cJSON_Delete(o);
	f->s = (struct sb_sink){.ops = use_pipe ? &pipe_sink : &fake_sink,
				.name = "fake",
				.common = &f->common,
				.cfg = &f->cfg,
				.ri = &f->ri,
				.nshards = 1};
	assert_int_equal(sb_delivery_open_manual(&f->s, fake_now), 0);
	f->open = true;
}

static void close_sink(struct fx *f)
{
	if (!f->open)
		return;
	sb_delivery_close(&f->s);
	sb_cfg_free(sb_delivery_keys, &f->cfg);
	sb_cfg_free(sb_sink_common_keys, &f->common);
	f->open = false;
}

static int setup(void **state)
{
	sb_log_set_hook(quiet, NULL);
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/sb-delivery-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->ri.run, sizeof(f->ri.run), "0123456789abcdef0123456789abcdef");
	snprintf(f->ri.host, sizeof(f->ri.host), "testhost");
	sb_evb_init(&f->evb);
	memset(&fk, 0, sizeof(fk));
	now_ns = 1000 * SB_NSEC_PER_SEC;
	use_pipe = false;
	*state = f;
	return 0;
}

static int setup_pipe(void **state)
{
	setup(state);
	use_pipe = true;
	fk.auto_answer = true;
	return 0;
}

static int setup_pipe_manual(void **state)
{
	setup(state);
	use_pipe = true;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	close_sink(f);
	sb_evb_free(&f->evb);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	sb_log_set_hook(NULL, NULL);
	return 0;
}

static void write_events(struct fx *f, size_t n)
{
	while (n) {
		struct sb_event *evs[64];
		size_t m = n < 64 ? n : 64;
		for (size_t i = 0; i < m; i++) {
			sb_evb_begin(&f->evb, "synthetic", "metrics");
			sb_evb_sample(&f->evb, "x", SB_GAUGE, (double)i);
			evs[i] = sb_evb_finish(&f->evb);
			evs[i]->seq = ++f->seq;
		}
		size_t taken = 0;
		assert_int_equal(sb_delivery_write(&f->s, 0, evs, m, &taken), SB_SINK_OK);
		assert_int_equal(taken, m);
		for (size_t i = 0; i < m; i++)
			sb_event_unref(evs[i]);
		n -= m;
	}
}

static struct sb_delivery_stats stats(struct fx *f)
{
	struct sb_delivery_stats st;
	sb_delivery_stats(&f->s, &st);
	uint64_t dropped = st.dropped_spool_full + st.dropped_spool_error + st.dropped_corrupt +
			   st.dropped_rejected;
	assert_true(st.received == st.delivered + st.spool_records + st.in_flight + dropped);
	return st;
}

/* Steps until the sender asks for a time in the future, then moves the
 * clock there; at most max steps. */
static void run_for(struct fx *f, int64_t span)
{
	int64_t end = now_ns + span;
	for (int i = 0; i < 100000 && now_ns < end; i++) {
		int64_t next = sb_delivery_step(&f->s, 0);
		if (next > now_ns)
			now_ns = next < end ? next : end;
	}
}

/* ---- tests ---- */

static void test_spooled_events_are_delivered_in_order_and_counted(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"window\": 8");
	write_events(f, 20);
	struct sb_delivery_stats st = stats(f);
	assert_true(st.spool_records == 20);
	run_for(f, SB_NSEC_PER_SEC);
	st = stats(f);
	assert_true(st.delivered == 20);
	assert_true(st.spool_records == 0);
	assert_int_equal(fk.nsent, 20);
	for (size_t i = 0; i < 20; i++)
		assert_true(fk.sent[i] == i + 1);
	/* windows of 8 */
	assert_int_equal(fk.publishes, 3);
}

/* format picks the codec for new events; spooled ones keep theirs. */
static void test_format_protobuf_sends_protobuf_and_spooled_json_stays_json(void **state)
{
	struct fx *f = *state;
	open_sink(f, "");
	write_events(f, 5);
	close_sink(f);
	open_sink(f, ", \"format\": \"protobuf\"");
	write_events(f, 5);
	run_for(f, SB_NSEC_PER_SEC);
	assert_int_equal(fk.nsent, 10);
	const struct sb_codec *json = sb_codec_find("json"), *pb = sb_codec_find("protobuf");
	for (size_t i = 0; i < 10; i++) {
		assert_true(fk.sent[i] == i + 1);
		assert_int_equal(fk.codec[i], i < 5 ? json->id : pb->id);
		assert_true(fk.body_seq[i] == (i < 5 ? 0 : i + 1));
	}
}

static void test_an_unknown_format_is_refused(void **state)
{
	(void)state;
	struct sb_delivery_cfg c = {.format = "xml", .spool_dir = "/x"};
	char err[256];
	assert_int_equal(sb_delivery_validate(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "format: \"xml\" unknown (one of json, protobuf)");
}

static void test_a_failed_message_is_retried_after_a_backoff_not_before(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"window\": 8");
	fk.answer[3] = 'f';
	write_events(f, 5);
	sb_delivery_step(&f->s, 0); /* connects and publishes: seq 3 fails */
	int64_t retry_at = sb_delivery_step(&f->s, 0);
	struct sb_delivery_stats st = stats(f);
	assert_true(st.delivered == 0); /* the window is held, not settled */
	assert_true(st.retries == 1);
	assert_true(retry_at > now_ns && retry_at <= now_ns + 100 * SB_NSEC_PER_MSEC);
	int before = fk.publishes;
	sb_delivery_step(&f->s, 0); /* still backing off: nothing sent */
	assert_int_equal(fk.publishes, before);
	now_ns = retry_at;
	sb_delivery_step(&f->s, 0);
	st = stats(f);
	assert_true(st.delivered == 5);
	/* what was acked the first time is not sent again */
	assert_int_equal(fk.nsent, 5);
}

static void test_unreachable_receiver_opens_the_breaker_and_a_probe_closes_it(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"window\": 8");
	fk.refuse_connect = true;
	write_events(f, 3);
	run_for(f, 5 * SB_NSEC_PER_SEC);
	struct sb_delivery_stats st = stats(f);
	assert_int_equal(st.breaker_state, SB_BREAKER_OPEN);
	int tries = fk.connects;
	assert_int_equal(tries, 2);	 /* failures: 2, then nothing while open */
	run_for(f, 4 * SB_NSEC_PER_SEC); /* still inside the 10 s cooldown */
	assert_int_equal(fk.connects, tries);
	fk.refuse_connect = false;
	run_for(f, 2 * SB_NSEC_PER_SEC); /* the probe */
	st = stats(f);
	assert_int_equal(st.breaker_state, SB_BREAKER_CLOSED);
	assert_true(st.delivered == 3);
	assert_true(st.spool_records == 0);
}

static void test_replay_keeps_the_drain_rate(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"drain_rate\": 500");
	fk.refuse_connect = true;
	write_events(f, 3000);
	run_for(f, SB_NSEC_PER_SEC); /* the breaker opens */
	fk.refuse_connect = false;
	run_for(f, 16 * SB_NSEC_PER_SEC); /* cooldown, probe, then the replay */
	assert_true(fk.nsent > 2000);
	/* the rate over the replay's whole seconds, after the first */
	int64_t t0 = fk.sent_at[0];
	size_t n = 0;
	for (size_t i = 0; i < fk.nsent; i++)
		n += fk.sent_at[i] >= t0 + SB_NSEC_PER_SEC &&
		     fk.sent_at[i] < t0 + 4 * SB_NSEC_PER_SEC;
	double rate = (double)n / 3;
	assert_true(rate >= 475 && rate <= 525);
	for (size_t i = 0; i < fk.nsent; i++)
		assert_true(fk.sent[i] == i + 1); /* in order */
}

static void test_ordered_replay_sends_the_backlog_before_new_events(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"drain_rate\": 100");
	fk.refuse_connect = true;
	write_events(f, 50);
	run_for(f, SB_NSEC_PER_SEC);
	fk.refuse_connect = false;
	run_for(f, 10 * SB_NSEC_PER_SEC); /* the probe starts the replay */
	write_events(f, 10);		  /* new events arrive during the replay */
	run_for(f, 5 * SB_NSEC_PER_SEC);
	assert_int_equal(fk.nsent, 60);
	for (size_t i = 0; i < 60; i++)
		assert_true(fk.sent[i] == i + 1);
	assert_false(stats(f).replaying);
}

static void test_rejected_messages_are_dropped_for_good_and_counted(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"window\": 8");
	fk.answer[2] = 'r';
	fk.answer[4] = 'r';
	write_events(f, 6);
	run_for(f, SB_NSEC_PER_SEC);
	struct sb_delivery_stats st = stats(f);
	assert_true(st.delivered == 4);
	assert_true(st.dropped_rejected == 2);
	assert_true(st.spool_records == 0);
	assert_true(st.retries == 0);
	/* nothing left to send after a restart */
	close_sink(f);
	open_sink(f, ", \"window\": 8");
	st = stats(f);
	assert_true(st.spool_records == 0);
}

static void test_memory_buffer_spools_when_the_breaker_opens(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"buffer\": \"memory\"");
	fk.refuse_connect = true;
	write_events(f, 5);
	struct sb_delivery_stats st = stats(f);
	assert_true(st.in_flight == 5);
	run_for(f, SB_NSEC_PER_SEC);
	st = stats(f);
	assert_int_equal(st.breaker_state, SB_BREAKER_OPEN);
	assert_true(st.in_flight == 0);
	assert_true(st.spool_records == 5);
	fk.refuse_connect = false;
	run_for(f, 11 * SB_NSEC_PER_SEC);
	st = stats(f);
	assert_true(st.delivered == 5);
}

static void test_undelivered_events_survive_a_restart(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"window\": 8");
	fk.refuse_connect = true;
	write_events(f, 7);
	run_for(f, SB_NSEC_PER_SEC);
	close_sink(f);
	fk.refuse_connect = false;
	open_sink(f, ", \"window\": 8");
	struct sb_delivery_stats st = stats(f);
	assert_true(st.received == 7);
	assert_true(st.spool_records == 7);
	run_for(f, SB_NSEC_PER_SEC);
	assert_true(stats(f).delivered == 7);
}

static void test_batches_carry_consecutive_events_and_settle_each(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"window\": 8, \"batch_events\": 10");
	write_events(f, 25);
	run_for(f, SB_NSEC_PER_SEC);
	struct sb_delivery_stats st = stats(f);
	assert_true(st.delivered == 25);
	assert_true(st.spool_records == 0);
	assert_int_equal(fk.messages, 3); /* 10 + 10 + 5 */
	assert_int_equal(fk.batches, 3);
	assert_int_equal(fk.last_nevents, 5);
	assert_int_equal(fk.last_lines, 5); /* JSON lines, one an event */
	assert_string_equal(fk.last_id, "0123456789abcdef0123456789abcdef:21-25");
	for (size_t i = 0; i < 25; i++)
		assert_true(fk.sent[i] == i + 1);
}

/* A batch that fails fails every event in it, and only its events go
 * again; the accounting stays per event. */
static void test_a_failed_batch_is_sent_again_whole_and_only_it(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"window\": 8, \"batch_events\": 10");
	fk.answer[11] = 'f'; /* the second batch, by its first event */
	write_events(f, 25);
	run_for(f, 5 * SB_NSEC_PER_SEC);
	struct sb_delivery_stats st = stats(f);
	assert_true(st.delivered == 25);
	assert_true(st.retries == 1);
	assert_int_equal(fk.nsent, 25); /* no event acked twice */
	assert_int_equal(fk.messages, 3);
}

/* A message of one event, in batch mode, is that event as single mode
 * sends it: its type and id say Event, so must its body. */
static void test_a_batch_of_one_event_is_the_event_itself(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"batch_events\": 10, \"format\": \"protobuf\"");
	write_events(f, 1);
	run_for(f, SB_NSEC_PER_SEC);
	assert_int_equal(fk.nsent, 1);
	assert_int_equal(fk.batches, 0);
	assert_true(fk.body_seq[0] == 1);
}

static void test_batch_bytes_bounds_a_message(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"window\": 8, \"batch_events\": 1000, \"batch_bytes\": \"1KiB\"");
	write_events(f, 30);
	run_for(f, SB_NSEC_PER_SEC);
	assert_true(stats(f).delivered == 30);
	assert_true(fk.messages > 1);
	assert_true(fk.last_len <= 1024);
}

/* ---- pipelining: the transport has send and poll ---- */

/* window 8 is eight slices of one message: room for one more as soon as
 * the oldest is confirmed, never more than 8 unconfirmed. */
static void test_pipelining_keeps_a_window_in_flight_and_sends_as_confirms_free_room(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"window\": 8");
	write_events(f, 20);
	sb_delivery_step(&f->s, 0);
	assert_int_equal(fk.nwire, 8);
	assert_int_equal(fk.nfl, 8);
	sb_delivery_step(&f->s, 0); /* no confirm, no room */
	assert_int_equal(fk.nwire, 8);
	p_outcome(1, false, 'a');
	sb_delivery_step(&f->s, 0);
	assert_true(stats(f).delivered == 1);
	assert_int_equal(fk.nwire, 9);
	assert_int_equal(fk.nfl, 8);
	assert_int_equal(fk.max_fl, 8);
	for (size_t i = 0; i < fk.nwire; i++)
		assert_true(fk.wire[i] == i + 1);
}

/* A confirm for a later message frees no room while an older one is
 * unconfirmed (the spool's cursor is a prefix); once it comes, both go. */
static void test_pipelining_out_of_order_confirms_settle_in_order(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"window\": 8");
	write_events(f, 20);
	sb_delivery_step(&f->s, 0);
	p_outcome(3, false, 'a');
	p_outcome(2, false, 'a');
	sb_delivery_step(&f->s, 0);
	assert_true(stats(f).delivered == 0);
	assert_int_equal(fk.nwire, 8);
	p_outcome(1, false, 'a');
	sb_delivery_step(&f->s, 0);
	struct sb_delivery_stats st = stats(f);
	assert_true(st.delivered == 3);
	assert_true(st.spool_records == 17);
	assert_int_equal(fk.nwire, 11);
	assert_int_equal(fk.max_fl, 8);
}

static void test_pipelining_a_multiple_ack_frees_room_for_all_it_confirms(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"window\": 8");
	write_events(f, 20);
	sb_delivery_step(&f->s, 0);
	p_outcome(6, true, 'a');
	sb_delivery_step(&f->s, 0);
	assert_true(stats(f).delivered == 6);
	assert_int_equal(fk.nwire, 14);
	fk.auto_answer = true;
	run_for(f, SB_NSEC_PER_SEC);
	struct sb_delivery_stats st = stats(f);
	assert_true(st.delivered == 20);
	assert_true(st.spool_records == 0);
	assert_int_equal(fk.nwire, 20); /* each sent once, in order */
	for (size_t i = 0; i < fk.nwire; i++)
		assert_true(fk.wire[i] == i + 1);
	assert_int_equal(fk.max_fl, 8);
}

/* A nack stops new sends until every outcome is in, then the refused
 * message alone goes again after a backoff, with its id; newer ones follow. */
static void test_pipelining_a_nack_in_the_middle_is_sent_again_alone_after_a_backoff(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"window\": 8");
	write_events(f, 10);
	sb_delivery_step(&f->s, 0);
	p_outcome(2, true, 'a');
	p_outcome(4, false, 'n');
	sb_delivery_step(&f->s, 0); /* 3, 5..8 still unconfirmed: nothing new */
	assert_int_equal(fk.nwire, 8);
	p_outcome(8, true, 'a');
	int64_t retry_at = sb_delivery_step(&f->s, 0);
	struct sb_delivery_stats st = stats(f);
	assert_true(st.retries == 1);
	assert_true(retry_at > now_ns && retry_at <= now_ns + 100 * SB_NSEC_PER_MSEC);
	assert_int_equal(fk.nwire, 8);
	now_ns = retry_at;
	sb_delivery_step(&f->s, 0);
	assert_int_equal(fk.nwire, 9);
	assert_true(fk.wire[8] == 4);
	assert_string_equal(fk.wire_id[8], fk.wire_id[3]);
	assert_true(stats(f).delivered == 3); /* 4 holds the rest back */
	fk.auto_answer = true;
	run_for(f, SB_NSEC_PER_SEC);
	st = stats(f);
	assert_true(st.delivered == 10);
	assert_true(st.spool_records == 0);
	assert_int_equal(fk.nwire, 11);
	assert_true(fk.wire[9] == 9 && fk.wire[10] == 10);
	assert_int_equal(fk.nsent, 10); /* each acked once */
}

/* The link breaks with messages unconfirmed: they go again on a new
 * link, with the same message ids; what was confirmed does not. */
static void test_pipelining_connection_loss_resends_what_was_in_flight_with_its_ids(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"window\": 8");
	write_events(f, 8);
	sb_delivery_step(&f->s, 0);
	p_outcome(2, true, 'a');
	fk.poll_error = -ECONNRESET;
	sb_delivery_step(&f->s, 0);
	assert_int_equal(fk.closes, 1);
	assert_int_equal(fk.connects, 1);
	struct sb_delivery_stats st = stats(f);
	assert_true(st.delivered == 2);
	fk.auto_answer = true;
	run_for(f, SB_NSEC_PER_SEC);
	st = stats(f);
	assert_true(st.delivered == 8);
	assert_true(st.spool_records == 0);
	assert_true(st.retries == 1);
	assert_int_equal(fk.connects, 2);
	assert_int_equal(fk.nwire, 14);
	for (size_t i = 8; i < 14; i++) {
		assert_true(fk.wire[i] == i - 5);
		assert_string_equal(fk.wire_id[i], fk.wire_id[i - 6]);
	}
	assert_int_equal(fk.nsent, 8);
}

/* Several endpoints (a cluster): a lost link is sent again at once on the
 * next one, and is no breaker failure; the breaker counts rounds. */
static void test_a_lost_link_of_several_endpoints_fails_over_at_once(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"window\": 8, \"breaker\": {\"failures\": 1, \"cooldown\": \"10s\"}");
	fk.endpoints = 3;
	write_events(f, 8);
	sb_delivery_step(&f->s, 0);
	p_outcome(2, true, 'a');
	fk.poll_error = -ECONNRESET;
	int64_t lost_at = now_ns;
	sb_delivery_step(&f->s, 0);
	assert_int_equal(fk.closes, 1);
	fk.auto_answer = true;
	/* no backoff: steps at the same time connect again and resend */
	for (int i = 0; i < 6 && stats(f).delivered < 8; i++)
		assert_true(sb_delivery_step(&f->s, 0) <= lost_at);
	assert_int_equal(fk.connects, 2);
	struct sb_delivery_stats st = stats(f);
	assert_true(st.delivered == 8);
	assert_int_equal(st.breaker_state, SB_BREAKER_CLOSED);
	for (size_t i = 8; i < 14; i++)
		assert_string_equal(fk.wire_id[i], fk.wire_id[i - 6]);
}

/* Free only up to a round: links that are taken and dropped once per
 * endpoint with nothing delivered are one failure like any other, and a
 * delivery starts the round again. */
static void lose_link(struct fx *f, int connects)
{
	fk.poll_error = -ECONNRESET;
	for (int i = 0; i < 4 && fk.connects < connects; i++)
		sb_delivery_step(&f->s, 0); /* lost, failed over, sent again */
	assert_int_equal(fk.connects, connects);
}

static void test_a_round_of_lost_links_without_a_delivery_counts_toward_the_breaker(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"window\": 8, \"breaker\": {\"failures\": 1, \"cooldown\": \"10s\"}");
	fk.endpoints = 3;
	write_events(f, 8);
	sb_delivery_step(&f->s, 0);
	lose_link(f, 2);
	lose_link(f, 3); /* two of three lost: the breaker holds */
	assert_int_equal(stats(f).breaker_state, SB_BREAKER_CLOSED);
	fk.poll_error = -ECONNRESET;
	for (int i = 0; i < 4; i++) /* the third: a whole round, nothing delivered */
		sb_delivery_step(&f->s, 0);
	struct sb_delivery_stats st = stats(f);
	assert_int_equal(st.breaker_state, SB_BREAKER_OPEN);
	assert_true(st.delivered == 0);
}

/* One endpoint: a lost link is a failure, as it always was. */
static void test_a_lost_link_of_one_endpoint_is_a_breaker_failure(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"window\": 8, \"breaker\": {\"failures\": 1, \"cooldown\": \"10s\"}");
	write_events(f, 8);
	sb_delivery_step(&f->s, 0);
	fk.poll_error = -ECONNRESET;
	sb_delivery_step(&f->s, 0);
	sb_delivery_step(&f->s, 0);
	assert_int_equal(stats(f).breaker_state, SB_BREAKER_OPEN);
}

/* Outcomes overdue past confirm_timeout break the link, like a loss. */
static void test_pipelining_overdue_confirms_break_the_link(void **state)
{
	struct fx *f = *state;
	open_sink(f, ", \"window\": 4, \"confirm_timeout\": \"2s\"");
	write_events(f, 4);
	sb_delivery_step(&f->s, 0);
	now_ns += SB_NSEC_PER_SEC;
	sb_delivery_step(&f->s, 0);
	assert_int_equal(fk.closes, 0);
	now_ns += SB_NSEC_PER_SEC;
	sb_delivery_step(&f->s, 0);
	assert_int_equal(fk.closes, 1);
	fk.auto_answer = true;
	run_for(f, SB_NSEC_PER_SEC);
	assert_true(stats(f).delivered == 4);
	assert_int_equal(fk.nwire, 8);
}

/* ---- records ---- */

static void test_record_round_trips_the_identity_and_names_its_codec(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	sb_evb_begin(&b, "proc", "metrics");
	sb_evb_sample(&b, "x", SB_GAUGE, 1);
	struct sb_event *ev = sb_evb_finish(&b);
	ev->seq = 1842;
	const struct sb_codec *c = sb_codec_find("json");
	struct sb_rec_head h;
	sb_rec_head(&h, c, ev, "RUN", "node-7", "{}", 2);
	unsigned char buf[256];
	size_t len = 0;
	for (size_t i = 0; i < SB_ARRAY_SIZE(h.iov); i++) {
		memcpy(buf + len, h.iov[i].iov_base, h.iov[i].iov_len);
		len += h.iov[i].iov_len;
	}
	struct sb_dmsg m;
	assert_int_equal(sb_rec_parse(buf, len, &m), 0);
	assert_true(m.seq == 1842);
	assert_true(m.time_ns == ev->time_ns);
	assert_ptr_equal(m.codec, c);
	assert_memory_equal(m.host.p, "node-7", 6);
	assert_memory_equal(m.source.p, "proc", 4);
	assert_memory_equal(m.kind.p, "metrics", 7);
	assert_int_equal(m.len, 2);
	char id[64];
	sb_dmsg_id(&m, id, sizeof(id));
	assert_string_equal(id, "RUN:1842");
	assert_int_equal(sb_rec_parse(buf, SB_REC_HDR + 3, &m), -EINVAL);
	buf[1] = 99; /* a codec this build does not know */
	assert_int_equal(sb_rec_parse(buf, len, &m), -EINVAL);
	sb_event_unref(ev);
	sb_evb_free(&b);
}

static void test_message_id_is_run_and_seq_or_the_batch_range(void **state)
{
	(void)state;
	struct sb_dmsg m = {.seq = 18446744073709551615u, .nevents = 1};
	m.run = (struct sb_dstr){"5f0c", 4};
	char id[64];
	assert_int_equal(sb_dmsg_id(&m, id, sizeof(id)), 25);
	assert_string_equal(id, "5f0c:18446744073709551615");
	m.seq = 0;
	sb_dmsg_id(&m, id, sizeof(id));
	assert_string_equal(id, "5f0c:0");
	m.seq = 7;
	m.last_seq = 106;
	m.nevents = 100;
	assert_int_equal(sb_dmsg_id(&m, id, sizeof(id)), 10);
	assert_string_equal(id, "5f0c:7-106");
	/* cut to the room given, always terminated */
	assert_int_equal(sb_dmsg_id(&m, id, 6), 5);
	assert_string_equal(id, "5f0c:");
}

static void test_version_1_records_keep_their_routing_key_and_id(void **state)
{
	(void)state;
	/* u8 1 | u8 rklen | u8 midlen | u8 0 | u64 seq | i64 time | rk | mid | body */
	unsigned char buf[64] = {1, 3, 5, 0, 0x32, 0x07};
	memcpy(buf + SB_REC_V1_HDR, "a.bRUN:1{\"x\":1}", 15);
	struct sb_dmsg m;
	assert_int_equal(sb_rec_parse(buf, SB_REC_V1_HDR + 15, &m), 0);
	assert_true(m.seq == 0x0732);
	assert_memory_equal(m.v1_key.p, "a.b", 3);
	char id[64];
	sb_dmsg_id(&m, id, sizeof(id));
	assert_string_equal(id, "RUN:1");
	assert_int_equal(m.len, 7);
	assert_string_equal(m.codec->name, "json");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
/* over both transports: the simple one, and the pipelining one */
#define T2(fn)                                                                                     \
	T(fn), (struct CMUnitTest) { #fn " (pipelined)", fn, setup_pipe, teardown, NULL }
#define P(fn) cmocka_unit_test_setup_teardown(fn, setup_pipe_manual, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_spooled_events_are_delivered_in_order_and_counted),
	    T2(test_format_protobuf_sends_protobuf_and_spooled_json_stays_json),
	    cmocka_unit_test(test_an_unknown_format_is_refused),
	    T(test_a_failed_message_is_retried_after_a_backoff_not_before),
	    T2(test_unreachable_receiver_opens_the_breaker_and_a_probe_closes_it),
	    T2(test_replay_keeps_the_drain_rate),
	    T2(test_ordered_replay_sends_the_backlog_before_new_events),
	    T2(test_rejected_messages_are_dropped_for_good_and_counted),
	    T2(test_memory_buffer_spools_when_the_breaker_opens),
	    T2(test_undelivered_events_survive_a_restart),
	    T2(test_batches_carry_consecutive_events_and_settle_each),
	    T2(test_a_failed_batch_is_sent_again_whole_and_only_it),
	    T2(test_batch_bytes_bounds_a_message),
	    T2(test_a_batch_of_one_event_is_the_event_itself),
	    P(test_pipelining_keeps_a_window_in_flight_and_sends_as_confirms_free_room),
	    P(test_pipelining_out_of_order_confirms_settle_in_order),
	    P(test_pipelining_a_multiple_ack_frees_room_for_all_it_confirms),
	    P(test_pipelining_a_nack_in_the_middle_is_sent_again_alone_after_a_backoff),
	    P(test_pipelining_connection_loss_resends_what_was_in_flight_with_its_ids),
	    P(test_a_lost_link_of_several_endpoints_fails_over_at_once),
	    P(test_a_round_of_lost_links_without_a_delivery_counts_toward_the_breaker),
	    P(test_a_lost_link_of_one_endpoint_is_a_breaker_failure),
	    P(test_pipelining_overdue_confirms_break_the_link),
	    cmocka_unit_test(test_record_round_trips_the_identity_and_names_its_codec),
	    cmocka_unit_test(test_version_1_records_keep_their_routing_key_and_id),
	    cmocka_unit_test(test_message_id_is_run_and_seq_or_the_batch_range),
	};
#undef T
#undef T2
#undef P
	return cmocka_run_group_tests_name("delivery", tests, NULL, NULL);
}
