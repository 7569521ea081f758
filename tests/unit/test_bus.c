/* The bus: numbering, fan-out, queue-full policies, retries, sharding and
 * the promise that nothing accepted is lost at shutdown. Sinks here are
 * test doubles that record what they are given and can be held shut. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sb_bus.h"
#include "sb_config.h"
#include "sb_log.h"

struct rec {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool gate_closed;   /* write blocks while closed */
	int retry_first;    /* answer RETRY this many times */
	uint64_t error_seq; /* answer ERROR for this seq */
	bool always_retry;
	bool flush_fails; /* flush answers RETRY */
	uint64_t *seqs;
	char (*srcs)[16];
	unsigned *shard;
	size_t n, cap;
	int writes, flushes, reopens, idles;
	/* the thread that publishes, and calls from any other (inline ops) */
	pthread_t publisher;
	int foreign_calls;
};

static enum sb_sink_status rec_write(struct sb_sink *s, unsigned shard, struct sb_event *const *evs,
				     size_t n, size_t *taken)
{
	struct rec *r = (struct rec *)s->cfg;
	pthread_mutex_lock(&r->mu);
	while (r->gate_closed)
		pthread_cond_wait(&r->cv, &r->mu);
	r->writes++;
	if (!pthread_equal(pthread_self(), r->publisher))
		r->foreign_calls++;
	enum sb_sink_status st = SB_SINK_OK;
	*taken = 0;
	if (r->always_retry || r->retry_first > 0) {
		r->retry_first--;
		st = SB_SINK_RETRY;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (evs[i]->seq == r->error_seq) {
			st = SB_SINK_ERROR;
			goto out;
		}
		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 1024;
			r->seqs = realloc(r->seqs, r->cap * sizeof(*r->seqs));
			r->srcs = realloc(r->srcs, r->cap * sizeof(*r->srcs));
			r->shard = realloc(r->shard, r->cap * sizeof(*r->shard));
		}
		r->seqs[r->n] = evs[i]->seq;
		snprintf(r->srcs[r->n], sizeof(r->srcs[0]), "%s", evs[i]->source);
		r->shard[r->n] = shard;
		r->n++;
		(*taken)++;
	}
out:
	pthread_mutex_unlock(&r->mu);
	return st;
}

static enum sb_sink_status rec_flush(struct sb_sink *s, unsigned shard)
{
	(void)shard;
	struct rec *r = (struct rec *)s->cfg;
	pthread_mutex_lock(&r->mu);
	r->flushes++;
	enum sb_sink_status st = r->flush_fails ? SB_SINK_RETRY : SB_SINK_OK;
	pthread_mutex_unlock(&r->mu);
	return st;
}

/* Counts a call of an op other than write in *n, and whether it came from
 * another thread than the publisher's. */
static void rec_called(struct sb_sink *s, int *n)
{
	struct rec *r = (struct rec *)s->cfg;
	pthread_mutex_lock(&r->mu);
	(*n)++;
	if (!pthread_equal(pthread_self(), r->publisher))
		r->foreign_calls++;
	pthread_mutex_unlock(&r->mu);
}

static void rec_reopen(struct sb_sink *s, unsigned shard)
{
	(void)shard;
	rec_called(s, &((struct rec *)s->cfg)->reopens);
}

static void rec_idle(struct sb_sink *s) { rec_called(s, &((struct rec *)s->cfg)->idles); }

static const struct sb_sink_ops rec_ops = {
    .name = "rec", .desc = "test", .write = rec_write, .flush = rec_flush};

struct fixture {
	struct sb_runinfo ri;
	struct sb_bus *bus;
	struct rec rec[2];
	struct sb_sink_conf conf[2];
	struct sb_evb evb;
};

static void rec_init(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->publisher = pthread_self();
}

static void conf_init(struct fixture *f, int i, const char *name)
{
	char err[256];
	const struct sb_cfg_key *t[1] = {sb_sink_common_keys};
	void *d[1] = {&f->conf[i].common};
	assert_int_equal(sb_cfg_parse(NULL, "", t, d, 1, err, sizeof(err)), 0);
	f->conf[i].ops = &rec_ops;
	f->conf[i].cfg = &f->rec[i];
	f->conf[i].common.name = strdup(name);
	f->conf[i].common.flush_interval = 5 * SB_NSEC_PER_MSEC;
	f->conf[i].common.retry.base = SB_NSEC_PER_MSEC;
	f->conf[i].common.retry.max_delay = 2 * SB_NSEC_PER_MSEC;
	f->conf[i].common.shutdown_grace = 200 * SB_NSEC_PER_MSEC;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->ri.run, sizeof(f->ri.run), "test");
	snprintf(f->ri.host, sizeof(f->ri.host), "host");
	f->bus = sb_bus_new(&f->ri);
	rec_init(&f->rec[0]);
	rec_init(&f->rec[1]);
	conf_init(f, 0, "a");
	conf_init(f, 1, "b");
	sb_evb_init(&f->evb);
	sb_log_set_level(SB_LOG_ERROR);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	sb_bus_free(f->bus);
	for (int i = 0; i < 2; i++) {
		sb_cfg_free(sb_sink_common_keys, &f->conf[i].common);
		free(f->rec[i].seqs);
		free(f->rec[i].srcs);
		free(f->rec[i].shard);
	}
	sb_evb_free(&f->evb);
	free(f);
	return 0;
}

static int publish(struct fixture *f, const char *source)
{
	sb_evb_begin(&f->evb, source, "metrics");
	sb_evb_sample(&f->evb, "x", SB_GAUGE, 1);
	return sb_bus_publish(f->bus, sb_evb_finish(&f->evb));
}

static void gate(struct rec *r, bool closed)
{
	pthread_mutex_lock(&r->mu);
	r->gate_closed = closed;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static void assert_invariant(struct sb_sink *s)
{
	struct sb_sink_stats st;
	sb_sink_stats(s, &st);
	uint64_t dropped = 0;
	for (int r = 0; r < SB_DROP_MAX; r++)
		dropped += st.dropped[r];
	assert_true(st.received == st.written + dropped + st.queue_events + st.in_flight);
}

static void wait_written(struct sb_sink *s, uint64_t n)
{
	struct sb_sink_stats st;
	for (int i = 0; i < 5000; i++) {
		sb_sink_stats(s, &st);
		if (st.written >= n)
			return;
		usleep(1000);
	}
	fail_msg("sink %s wrote %llu of %llu", s->name, (unsigned long long)st.written,
		 (unsigned long long)n);
}

static void test_every_sink_gets_every_event_in_seq_order(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[0]), 0);
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[1]), 0);
	assert_int_equal(sb_bus_start(f->bus), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(publish(f, "s"), 0);
	assert_int_equal(sb_bus_shutdown(f->bus), 0);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(f->rec[k].n, 1000);
		for (size_t i = 0; i < 1000; i++)
			assert_true(f->rec[k].seqs[i] == i + 1);
		assert_true(f->rec[k].flushes >= 1);
	}
	assert_true(sb_bus_last_seq(f->bus) == 1000);
}

static void set_flush_fails(struct rec *r, bool fails)
{
	pthread_mutex_lock(&r->mu);
	r->flush_fails = fails;
	pthread_mutex_unlock(&r->mu);
}

static void wait_durable(struct sb_bus *b, uint64_t want)
{
	uint64_t d = 0;
	for (int i = 0; i < 5000 && d != want; i++) {
		d = sb_bus_durable(b);
		if (d != want)
			usleep(1000);
	}
	if (d != want)
		fail_msg("durable %llu, not %llu", (unsigned long long)d, (unsigned long long)want);
}

/* What a broker consumer may ack: events taken but not flushed, or still
 * queued in any sink, hold the watermark back; once every sink flushed,
 * it is the last seq. */
static void test_durable_is_what_every_sink_flushed(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[0]), 0);
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[1]), 0);
	gate(&f->rec[1], true);
	set_flush_fails(&f->rec[0], true);
	assert_int_equal(sb_bus_start(f->bus), 0);
	assert_true(sb_bus_durable(f->bus) == 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(publish(f, "s"), 0);
	wait_written(sb_bus_sink(f->bus, 0), 3);
	/* a: written, its flush fails; b: its writer blocked */
	assert_true(sb_bus_durable(f->bus) == 0);
	gate(&f->rec[1], false);
	wait_written(sb_bus_sink(f->bus, 1), 3);
	assert_true(sb_bus_durable(f->bus) == 0);
	set_flush_fails(&f->rec[0], false);
	wait_durable(f->bus, 3);
	assert_int_equal(sb_bus_shutdown(f->bus), 0);
}

/* With batch 1 every event is a batch's worth, handed over before any
 * tick started: the flush must still come within flush_interval, and with
 * it what is durable (it never came, and a consumer never acked). */
static void test_batch_of_one_is_flushed_and_durable(void **state)
{
	struct fixture *f = *state;
	f->conf[0].common.batch = 1;
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[0]), 0);
	assert_int_equal(sb_bus_start(f->bus), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(publish(f, "s"), 0);
	wait_written(sb_bus_sink(f->bus, 0), 3);
	wait_durable(f->bus, 3);
	pthread_mutex_lock(&f->rec[0].mu);
	assert_true(f->rec[0].flushes >= 1);
	pthread_mutex_unlock(&f->rec[0].mu);
	assert_int_equal(sb_bus_shutdown(f->bus), 0);
}

static int64_t fake_now;
static int64_t fake_clock(void) { return fake_now; }

/* Publishes one event and waits until the (gated) writer holds it, so the
 * queue's contents after that are known exactly. */
static void publish_one_in_flight(struct fixture *f, struct sb_sink *s)
{
	assert_int_equal(publish(f, "s"), 0);
	struct sb_sink_stats st;
	for (int i = 0; i < 5000; i++) {
		sb_sink_stats(s, &st);
		if (st.in_flight == 1)
			return;
		usleep(1000);
	}
	fail_msg("the writer never took the first event");
}

static void start_gated(struct fixture *f, int64_t block_timeout)
{
	f->conf[0].common.queue_events = 4;
	f->conf[0].common.batch = 1;
	f->conf[0].common.block_timeout = block_timeout;
	gate(&f->rec[0], true);
	sb_bus_set_clock(f->bus, fake_clock);
	fake_now = 0;
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[0]), 0);
	assert_int_equal(sb_bus_start(f->bus), 0);
}

/* The publisher is the collection loop: a full queue under `block` must
 * not make it wait, even with an hour's block_timeout. */
static void test_block_policy_never_waits_in_publish(void **state)
{
	struct fixture *f = *state;
	start_gated(f, 3600 * SB_NSEC_PER_SEC);
	struct sb_sink *s = sb_bus_sink(f->bus, 0);
	publish_one_in_flight(f, s);
	int dropped = 0;
	for (int i = 0; i < 11; i++) {
		if (publish(f, "s") == -ENOSPC)
			dropped++;
		assert_invariant(s);
	}
	/* of 12: 1 held by the writer, 4 queued, 4 waiting, 3 dropped */
	assert_int_equal(dropped, 3);
	struct sb_sink_stats st;
	sb_sink_stats(s, &st);
	assert_true(st.dropped[SB_DROP_QUEUE_FULL] == 3);
	assert_true(st.queue_events == 8);
	gate(&f->rec[0], false);
	sb_bus_shutdown(f->bus);
	assert_int_equal(f->rec[0].n, 9);
	for (size_t i = 0; i < f->rec[0].n; i++)
		assert_true(f->rec[0].seqs[i] == i + 1);
	assert_invariant(s);
}

/* A load generator paces itself by the room the bus reports. */
static void test_room_is_the_smallest_free_room_and_none_while_events_wait(void **state)
{
	struct fixture *f = *state;
	start_gated(f, SB_NSEC_PER_SEC);
	struct sb_sink *s = sb_bus_sink(f->bus, 0);
	assert_int_equal(sb_bus_room(f->bus), 4);
	publish_one_in_flight(f, s);
	assert_int_equal(sb_bus_room(f->bus), 4); /* the writer holds it */
	assert_int_equal(publish(f, "s"), 0);
	assert_int_equal(sb_bus_room(f->bus), 3);
	for (int i = 0; i < 4; i++) /* 3 fill the queue, 1 waits */
		assert_int_equal(publish(f, "s"), 0);
	assert_int_equal(sb_bus_room(f->bus), 0);
	gate(&f->rec[0], false);
	sb_bus_shutdown(f->bus);
}

static void test_waiting_events_move_into_the_queue_in_order(void **state)
{
	struct fixture *f = *state;
	start_gated(f, SB_NSEC_PER_SEC);
	struct sb_sink *s = sb_bus_sink(f->bus, 0);
	publish_one_in_flight(f, s);
	for (int i = 0; i < 7; i++)
		assert_int_equal(publish(f, "s"), 0);
	gate(&f->rec[0], false);
	assert_int_equal(sb_bus_shutdown(f->bus), 0);
	assert_int_equal(f->rec[0].n, 8);
	for (size_t i = 0; i < 8; i++)
		assert_true(f->rec[0].seqs[i] == i + 1);
	struct sb_sink_stats st;
	sb_sink_stats(s, &st);
	assert_true(st.dropped[SB_DROP_QUEUE_FULL] == 0);
	assert_invariant(s);
}

static void test_waiting_events_expire_after_block_timeout(void **state)
{
	struct fixture *f = *state;
	start_gated(f, SB_NSEC_PER_SEC);
	struct sb_sink *s = sb_bus_sink(f->bus, 0);
	publish_one_in_flight(f, s);
	for (int i = 0; i < 7; i++) /* seq 2-5 queued, 6-8 waiting */
		assert_int_equal(publish(f, "s"), 0);
	fake_now += SB_NSEC_PER_SEC - 1;
	assert_int_equal(publish(f, "s"), 0); /* seq 9 waits; nothing expired yet */
	struct sb_sink_stats st;
	sb_sink_stats(s, &st);
	assert_true(st.dropped[SB_DROP_QUEUE_FULL] == 0);
	fake_now += 1;
	assert_int_equal(publish(f, "s"), 0); /* 6-8 expire, 10 waits */
	sb_sink_stats(s, &st);
	assert_true(st.dropped[SB_DROP_QUEUE_FULL] == 3);
	assert_invariant(s);
	gate(&f->rec[0], false);
	sb_bus_shutdown(f->bus);
	uint64_t want[] = {1, 2, 3, 4, 5, 9, 10};
	assert_int_equal(f->rec[0].n, 7);
	for (size_t i = 0; i < 7; i++)
		assert_true(f->rec[0].seqs[i] == want[i]);
	assert_invariant(s);
}

static void test_stalled_sink_is_reported(void **state)
{
	struct fixture *f = *state;
	start_gated(f, SB_NSEC_PER_SEC);
	struct sb_sink *s = sb_bus_sink(f->bus, 0);
	publish_one_in_flight(f, s);
	struct sb_sink_stats st;
	sb_sink_stats(s, &st);
	assert_false(st.stalled);
	fake_now += 5 * SB_NSEC_PER_SEC + 1;
	sb_sink_stats(s, &st);
	assert_true(st.stalled);
	gate(&f->rec[0], false);
	wait_written(s, 1);
	sb_sink_stats(s, &st);
	assert_false(st.stalled);
}

static void test_drop_oldest_keeps_newest_and_counts(void **state)
{
	struct fixture *f = *state;
	f->conf[0].common.queue_events = 4;
	f->conf[0].common.batch = 1;
	f->conf[0].common.full = SB_FULL_DROP_OLDEST;
	gate(&f->rec[0], true);
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[0]), 0);
	assert_int_equal(sb_bus_start(f->bus), 0);
	struct sb_sink *s = sb_bus_sink(f->bus, 0);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(publish(f, "s"), 0); /* the new one is always taken */
		assert_invariant(s);
	}
	gate(&f->rec[0], false);
	sb_bus_shutdown(f->bus);
	struct sb_sink_stats st;
	sb_sink_stats(s, &st);
	assert_true(st.received == 20);
	assert_true(st.written + st.dropped[SB_DROP_QUEUE_FULL] == 20);
	assert_true(f->rec[0].n <= 5);
	/* the last four published are among the delivered */
	for (uint64_t want = 17; want <= 20; want++) {
		bool found = false;
		for (size_t i = 0; i < f->rec[0].n; i++)
			found |= f->rec[0].seqs[i] == want;
		assert_true(found);
	}
}

static void test_shutdown_delivers_everything_accepted(void **state)
{
	struct fixture *f = *state;
	f->conf[0].common.batch = 7;
	f->conf[0].common.flush_interval = SB_NSEC_PER_SEC;
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[0]), 0);
	assert_int_equal(sb_bus_start(f->bus), 0);
	for (int i = 0; i < 20000; i++)
		assert_int_equal(publish(f, "s"), 0);
	assert_int_equal(sb_bus_shutdown(f->bus), 0);
	assert_int_equal(f->rec[0].n, 20000);
	assert_true(f->rec[0].flushes >= 1);
	assert_int_equal(publish(f, "s"), -ESHUTDOWN);
}

static const struct sb_sink_ops inline_ops = {.name = "inline",
					      .desc = "test",
					      .write = rec_write,
					      .reopen = rec_reopen,
					      .idle = rec_idle,
					      .inline_write = true};

/* The same idle op on a queued sink: the bus never calls it there. */
static const struct sb_sink_ops queued_idle_ops = {
    .name = "queued", .desc = "test", .write = rec_write, .flush = rec_flush, .idle = rec_idle};

/* sb_bus_idle (the loop about to wait) runs an inline sink's idle op in
 * the caller's thread, once a call, and not a queued sink's. */
static void test_idle_runs_the_inline_sinks_idle_op(void **state)
{
	struct fixture *f = *state;
	f->conf[0].ops = &inline_ops;
	f->conf[1].ops = &queued_idle_ops;
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[0]), 0);
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[1]), 0);
	assert_int_equal(sb_bus_start(f->bus), 0);
	assert_int_equal(publish(f, "s"), 0);
	sb_bus_idle(f->bus);
	sb_bus_idle(f->bus);
	assert_int_equal(f->rec[0].idles, 2);
	assert_int_equal(f->rec[0].foreign_calls, 0);
	assert_int_equal(sb_bus_shutdown(f->bus), 0);
	sb_bus_idle(f->bus); /* after shutdown: nothing */
	assert_int_equal(f->rec[0].idles, 2);
	assert_int_equal(f->rec[1].idles, 0);
}

/* An inline sink (the prom store) takes each event in the publisher's own
 * thread before publish returns, one write each, with no queue: what it
 * took is durable at once, though its batch and tick would hold a queued
 * sink's events for an hour (as they do the other sink's here). */
static void test_inline_sink_takes_each_event_in_the_publishers_thread(void **state)
{
	struct fixture *f = *state;
	for (int i = 0; i < 2; i++) {
		f->conf[i].common.batch = 512;
		f->conf[i].common.flush_interval = 3600 * SB_NSEC_PER_SEC;
	}
	f->conf[0].ops = &inline_ops;
	f->conf[0].common.workers = 4; /* an inline sink has one shard */
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[0]), 0);
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[1]), 0);
	assert_int_equal(sb_bus_start(f->bus), 0);
	struct sb_sink *in = sb_bus_sink(f->bus, 0), *held = sb_bus_sink(f->bus, 1);
	assert_int_equal(in->nshards, 1);
	struct sb_sink_stats st;
	for (uint64_t n = 1; n <= 3; n++) {
		assert_int_equal(publish(f, "s"), 0);
		sb_sink_stats(in, &st);
		assert_true(st.received == n && st.written == n && st.in_flight == 0);
		assert_true(st.batches == n);
	}
	assert_int_equal(f->rec[0].writes, 3);
	assert_int_equal(f->rec[0].foreign_calls, 0);
	assert_true(sb_bus_durable(f->bus) == 0); /* the held sink holds them */
	sb_sink_stats(held, &st);
	assert_int_equal(st.written, 0);
	sb_bus_reopen(f->bus);
	assert_int_equal(f->rec[0].reopens, 1);
	assert_int_equal(f->rec[0].foreign_calls, 0);
	assert_int_equal(sb_bus_shutdown(f->bus), 0);
	assert_int_equal(f->rec[1].n, 3); /* delivered at shutdown */
	assert_int_equal(f->rec[0].n, 3);
}

/* Alone, an inline sink has made an event durable when publish returns. */
static void test_inline_sink_is_durable_when_publish_returns(void **state)
{
	struct fixture *f = *state;
	f->conf[0].ops = &inline_ops;
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[0]), 0);
	assert_int_equal(sb_bus_start(f->bus), 0);
	for (uint64_t n = 1; n <= 3; n++) {
		assert_int_equal(publish(f, "s"), 0);
		assert_true(sb_bus_durable(f->bus) == n);
	}
	assert_int_equal(sb_bus_shutdown(f->bus), 0);
}

/* The publisher cannot wait to retry: an inline sink's RETRY is dropped
 * like its ERROR, counted, and the events after it are taken. */
static void test_inline_sink_retry_and_error_are_dropped_and_counted(void **state)
{
	struct fixture *f = *state;
	f->conf[0].ops = &inline_ops;
	f->rec[0].retry_first = 1; /* seq 1 */
	f->rec[0].error_seq = 2;
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[0]), 0);
	assert_int_equal(sb_bus_start(f->bus), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(publish(f, "s"), 0);
	struct sb_sink *s = sb_bus_sink(f->bus, 0);
	struct sb_sink_stats st;
	sb_sink_stats(s, &st);
	assert_true(st.received == 3 && st.written == 1 && st.dropped[SB_DROP_ERROR] == 2);
	assert_true(st.retries == 0);
	assert_invariant(s);
	assert_int_equal(f->rec[0].n, 1);
	assert_true(f->rec[0].seqs[0] == 3);
	assert_true(sb_bus_durable(f->bus) == 3); /* dropped and counted have left it */
	assert_int_equal(sb_bus_shutdown(f->bus), 0);
}

static void test_retry_then_deliver_once(void **state)
{
	struct fixture *f = *state;
	f->rec[0].retry_first = 3;
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[0]), 0);
	assert_int_equal(sb_bus_start(f->bus), 0);
	assert_int_equal(publish(f, "s"), 0);
	struct sb_sink *s = sb_bus_sink(f->bus, 0);
	wait_written(s, 1);
	sb_bus_shutdown(f->bus);
	struct sb_sink_stats st;
	sb_sink_stats(s, &st);
	assert_true(st.retries == 3);
	assert_int_equal(f->rec[0].n, 1);
}

static void test_max_attempts_drops_and_counts(void **state)
{
	struct fixture *f = *state;
	f->rec[0].always_retry = true;
	f->conf[0].common.retry.max_attempts = 2;
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[0]), 0);
	assert_int_equal(sb_bus_start(f->bus), 0);
	publish(f, "s");
	struct sb_sink *s = sb_bus_sink(f->bus, 0);
	struct sb_sink_stats st;
	for (int i = 0; i < 2000; i++) {
		sb_sink_stats(s, &st);
		if (st.dropped[SB_DROP_RETRIES])
			break;
		usleep(1000);
	}
	assert_true(st.dropped[SB_DROP_RETRIES] == 1);
	assert_invariant(s);
}

static void test_error_drops_only_that_event(void **state)
{
	struct fixture *f = *state;
	f->rec[0].error_seq = 3;
	f->conf[0].common.batch = 10;
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[0]), 0);
	assert_int_equal(sb_bus_start(f->bus), 0);
	for (int i = 0; i < 5; i++)
		publish(f, "s");
	sb_bus_shutdown(f->bus);
	struct sb_sink_stats st;
	sb_sink_stats(sb_bus_sink(f->bus, 0), &st);
	assert_true(st.dropped[SB_DROP_ERROR] == 1);
	assert_int_equal(f->rec[0].n, 4);
	uint64_t want[] = {1, 2, 4, 5};
	for (int i = 0; i < 4; i++)
		assert_true(f->rec[0].seqs[i] == want[i]);
}

static void test_shutdown_grace_bounds_a_stuck_sink(void **state)
{
	struct fixture *f = *state;
	f->rec[0].always_retry = true;
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[0]), 0);
	assert_int_equal(sb_bus_start(f->bus), 0);
	for (int i = 0; i < 10; i++)
		publish(f, "s");
	/* returns (after the 200 ms grace) and reports what it had to drop */
	assert_true(sb_bus_shutdown(f->bus) == 10);
	assert_invariant(sb_bus_sink(f->bus, 0));
}

/* A writer blocked in a system call (read(2) on a pipe nobody writes):
 * past shutdown_grace the bus interrupts it, the sink sees the cancel and
 * gives up; shutdown returns having counted everything. */
static int never_fd[2];
static atomic_int saw_cancel;
static enum sb_sink_status blocked_write(struct sb_sink *s, unsigned shard,
					 struct sb_event *const *evs, size_t n, size_t *taken)
{
	(void)shard;
	(void)evs;
	(void)n;
	*taken = 0;
	char c;
	while (read(never_fd[0], &c, 1) < 0 && errno == EINTR) {
		if (sb_sink_cancelled(s)) {
			atomic_store(&saw_cancel, 1);
			break;
		}
	}
	return SB_SINK_RETRY;
}

static const struct sb_sink_ops blocked_ops = {
    .name = "blocked", .desc = "test", .write = blocked_write};

static void test_shutdown_interrupts_a_blocked_write(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(pipe(never_fd), 0);
	atomic_store(&saw_cancel, 0);
	f->conf[0].ops = &blocked_ops;
	f->conf[0].common.shutdown_grace = 100 * SB_NSEC_PER_MSEC;
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[0]), 0);
	assert_int_equal(sb_bus_start(f->bus), 0);
	for (int i = 0; i < 5; i++)
		publish(f, "s");
	assert_true(sb_bus_shutdown(f->bus) == 5);
	assert_true(atomic_load(&saw_cancel));
	assert_invariant(sb_bus_sink(f->bus, 0));
	close(never_fd[0]);
	close(never_fd[1]);
}

/* A writer that no signal ends (here: waiting on a gate) is abandoned one
 * margin past the grace, its events counted as lost at shutdown. */
static void test_shutdown_abandons_a_writer_that_never_returns(void **state)
{
	struct fixture *f = *state;
	gate(&f->rec[0], true);
	f->conf[0].common.shutdown_grace = 50 * SB_NSEC_PER_MSEC;
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[0]), 0);
	assert_int_equal(sb_bus_start(f->bus), 0);
	for (int i = 0; i < 5; i++)
		publish(f, "s");
	assert_true(sb_bus_shutdown(f->bus) == 5);
	struct sb_sink_stats st;
	sb_sink_stats(sb_bus_sink(f->bus, 0), &st);
	assert_true(st.dropped[SB_DROP_SHUTDOWN] == 5);
	gate(&f->rec[0], false); /* let it end, so teardown can free it */
}

static void test_shards_keep_order_per_source(void **state)
{
	struct fixture *f = *state;
	f->conf[0].common.workers = 4;
	f->conf[0].common.batch = 3;
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[0]), 0);
	assert_int_equal(sb_bus_start(f->bus), 0);
	const char *srcs[] = {"proc", "bpf", "algod", "agent", "synthetic", "scrape"};
	for (int i = 0; i < 6000; i++)
		publish(f, srcs[i % 6]);
	sb_bus_shutdown(f->bus);
	struct rec *r = &f->rec[0];
	assert_int_equal(r->n, 6000);
	for (int k = 0; k < 6; k++) {
		uint64_t last = 0;
		int shard = -1;
		for (size_t i = 0; i < r->n; i++) {
			if (strcmp(r->srcs[i], srcs[k]))
				continue;
			assert_true(r->seqs[i] > last);
			last = r->seqs[i];
			if (shard < 0)
				shard = (int)r->shard[i];
			assert_int_equal(shard, r->shard[i]);
		}
	}
}

static void test_seq_sharding_spreads_round_robin(void **state)
{
	struct fixture *f = *state;
	f->conf[0].common.workers = 3;
	f->conf[0].common.shard_by = SB_SHARD_SEQ;
	assert_int_equal(sb_bus_add_sink(f->bus, &f->conf[0]), 0);
	assert_int_equal(sb_bus_start(f->bus), 0);
	for (int i = 0; i < 300; i++)
		publish(f, "one");
	sb_bus_shutdown(f->bus);
	struct rec *r = &f->rec[0];
	assert_int_equal(r->n, 300);
	for (size_t i = 0; i < r->n; i++)
		assert_int_equal(r->shard[i], r->seqs[i] % 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_every_sink_gets_every_event_in_seq_order, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_durable_is_what_every_sink_flushed, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_block_policy_never_waits_in_publish, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_waiting_events_move_into_the_queue_in_order, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_room_is_the_smallest_free_room_and_none_while_events_wait, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_waiting_events_expire_after_block_timeout, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_stalled_sink_is_reported, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shutdown_interrupts_a_blocked_write, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_shutdown_abandons_a_writer_that_never_returns,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drop_oldest_keeps_newest_and_counts, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_shutdown_delivers_everything_accepted, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_inline_sink_takes_each_event_in_the_publishers_thread, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_idle_runs_the_inline_sinks_idle_op, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_inline_sink_is_durable_when_publish_returns, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_inline_sink_retry_and_error_are_dropped_and_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_of_one_is_flushed_and_durable, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_retry_then_deliver_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_max_attempts_drops_and_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_drops_only_that_event, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shutdown_grace_bounds_a_stuck_sink, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_shards_keep_order_per_source, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_seq_sharding_spreads_round_robin, setup, teardown),
	};
	return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
