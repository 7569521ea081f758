/* The bus: numbering, fan-out, one bounded queue and one thread per sink
 * shard, batching, flush timing, retries and the drop accounting.
 *
 * Invariant per sink, at every moment (all counters are atomics):
 *   received = written + dropped[*] + queued + in_flight
 * Every event that enters a queue leaves it by exactly one of those doors.
 *
 * Hand-off (Fluent Bit's flush model): events wait in the queue until a
 * batch's worth is there, the queue is filling up, or the shard's tick comes
 * (flush_interval after the first event that found it idle, then every
 * flush_interval while events keep coming); at a tick everything queued is
 * written and the sink flushed. A sink thread wakes once per tick rather
 * than once per event: in a VM each wakeup is tens of microseconds, more
 * than writing the event. Events are not seen later than before, since a
 * sink's flush_interval already bounded how long they stay buffered.
 *
 * A sink whose write is a short update in memory (inline_write: the prom
 * store) has no queue and no thread: the publisher calls its write at once.
 * A hand-over through a queue wakes the sink's thread once a round, and in a
 * VM that wake costs more than the update it carries.
 *
 * Isolation: the publishing thread (the collection loop) never waits on a
 * sink, beyond an inline sink's short update. Under the `block` policy an
 * event that finds its queue full waits in a waiting room as large as the
 * queue, for at most block_timeout, and moves into the queue as the sink
 * thread frees room; the event waits, not the loop. Shutdown is bounded too:
 * past shutdown_grace a sink thread still in a system call is interrupted by
 * a signal, and one that still does not return is abandoned, its events
 * counted as dropped{shutdown}. */
#include "sb_bus.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb_backoff.h"
#include "sb_log.h"

#include "bus_internal.h"

static const char *const drop_names[SB_DROP_MAX] = {"queue_full", "error", "retries", "shutdown"};

const char *sb_drop_reason_name(enum sb_drop_reason r)
{
	return r < SB_DROP_MAX ? drop_names[r] : "unknown";
}

struct sb_bus *sb_bus_new(const struct sb_runinfo *ri)
{
	struct sb_bus *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->ri = ri;
	b->now = sb_now_mono_ns;
	pthread_mutex_init(&b->pub, NULL);
	return b;
}

void sb_bus_set_clock(struct sb_bus *b, int64_t (*now)(void))
{
	b->now = now ? now : sb_now_mono_ns;
}

void sb_bus_on_stop(struct sb_bus *b, void (*cb)(void *arg), void *arg)
{
	b->stop_cb = cb;
	b->stop_arg = arg;
}

void sb_sink_stop_agent(struct sb_sink *s, const char *why)
{
	struct sb_bus *b = s->priv->bus;
	if (atomic_exchange(&b->stop_asked, true))
		return;
	sb_warn("bus", "sink %s: %s: stopping the agent", s->name, why);
	if (b->stop_cb)
		b->stop_cb(b->stop_arg);
}

void sb_bus_free_shards(struct sb_sink_priv *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		free(p->shards[i].ring);
		free(p->shards[i].batch);
		free(p->shards[i].wring);
		free(p->shards[i].wsince);
	}
	free(p->shards);
	free(p);
}

int sb_bus_add_sink(struct sb_bus *b, const struct sb_sink_conf *conf)
{
	if (b->started)
		return -EBUSY;
	struct sb_sink_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->bus = b;
	struct sb_sink *s = &p->sink;
	s->ops = conf->ops;
	s->name = conf->common.name;
	s->common = &conf->common;
	s->cfg = conf->cfg;
	s->ri = b->ri;
	/* one inline shard: its writes come under the publish lock anyway */
	s->nshards = s->ops->inline_write ? 1 : (unsigned)conf->common.workers;
	s->priv = p;
	p->rl_full.interval_ns = 10 * SB_NSEC_PER_SEC;
	p->rl_retry.interval_ns = 10 * SB_NSEC_PER_SEC;
	p->rl_drop.interval_ns = 10 * SB_NSEC_PER_SEC;
	p->shards = calloc(s->nshards, sizeof(*p->shards));
	if (!p->shards) {
		free(p);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < s->nshards; i++) {
		struct shard *q = &p->shards[i];
		q->sink = s;
		q->idx = i;
		q->cap = (size_t)conf->common.queue_events;
		q->hand_events =
		    (size_t)conf->common.batch < q->cap ? (size_t)conf->common.batch : q->cap;
		q->hand_bytes = conf->common.queue_bytes / 2;
		pthread_mutex_init(&q->mu, NULL);
		sb_cond_init_mono(&q->not_empty);
		if (s->ops->inline_write)
			continue; /* no queue: only the counters are used */
		q->ring = calloc(q->cap, sizeof(*q->ring));
		q->batch = calloc((size_t)conf->common.batch, sizeof(*q->batch));
		if (conf->common.full == SB_FULL_BLOCK) {
			q->wring = calloc(q->cap, sizeof(*q->wring));
			q->wsince = calloc(q->cap, sizeof(*q->wsince));
		}
		sb_jitter_seed(&q->rnd, i);
		if (!q->ring || !q->batch ||
		    (conf->common.full == SB_FULL_BLOCK && (!q->wring || !q->wsince))) {
			sb_bus_free_shards(p, i + 1);
			return -ENOMEM;
		}
	}
	int r = s->ops->open ? s->ops->open(s) : 0;
	if (r) {
		sb_bus_free_shards(p, s->nshards);
		return r;
	}
	struct sb_sink_priv **n = realloc(b->sinks, (b->nsinks + 1) * sizeof(*n));
	if (!n) {
		if (s->ops->close)
			s->ops->close(s);
		sb_bus_free_shards(p, s->nshards);
		return -ENOMEM;
	}
	b->sinks = n;
	b->sinks[b->nsinks++] = p;
	return 0;
}

/* ---- sink threads ---- */

static void wait_until(struct shard *q, int64_t deadline)
{
	struct timespec ts = sb_mono_timespec(deadline);
	pthread_mutex_lock(&q->mu);
	if (!q->closing || q->deadline > deadline)
		pthread_cond_timedwait(&q->not_empty, &q->mu, &ts);
	pthread_mutex_unlock(&q->mu);
}

static bool past_shutdown_deadline(struct shard *q)
{
	pthread_mutex_lock(&q->mu);
	bool past = q->closing && sb_now_mono_ns() >= q->deadline;
	pthread_mutex_unlock(&q->mu);
	return past;
}

static void drop_batch(struct shard *q, struct sb_event **evs, size_t n, enum sb_drop_reason r)
{
	struct sb_sink_priv *p = q->sink->priv;
	if (!n)
		return;
	sb_log_rl(&p->rl_drop, SB_LOG_ERROR, "bus",
		  "sink %s: dropped %zu events (%s), first seq %llu", q->sink->name, n,
		  sb_drop_reason_name(r), (unsigned long long)evs[0]->seq);
	for (size_t i = 0; i < n; i++)
		sb_event_unref(evs[i]);
	pthread_mutex_lock(&q->mu);
	q->dropped[r] += n;
	q->in_flight -= n;
	pthread_mutex_unlock(&q->mu);
}

static void deliver(struct shard *q, struct sb_event **evs, size_t n)
{
	struct sb_sink *s = q->sink;
	struct sb_sink_priv *p = s->priv;
	const struct sb_retry_conf *rc = &s->common->retry;
	size_t off = 0;
	unsigned attempt = 0;
	atomic_fetch_add(&p->batches, 1);
	while (off < n) {
		size_t taken = 0;
		enum sb_sink_status st = s->ops->write(s, q->idx, evs + off, n - off, &taken);
		if (st == SB_SINK_OK)
			taken = n - off;
		if (taken > n - off)
			taken = n - off;
		for (size_t i = 0; i < taken; i++)
			sb_event_unref(evs[off + i]);
		off += taken;
		if (taken) {
			pthread_mutex_lock(&q->mu);
			q->written += taken;
			q->in_flight -= taken;
			pthread_mutex_unlock(&q->mu);
			attempt = 0;
		}
		if (st == SB_SINK_OK || off >= n)
			continue;
		if (st == SB_SINK_ERROR) {
			drop_batch(q, evs + off, 1, SB_DROP_ERROR);
			off++;
			continue;
		}
		/* SB_SINK_RETRY */
		atomic_fetch_add(&p->retries, 1);
		attempt++;
		if (rc->max_attempts && attempt >= (unsigned)rc->max_attempts) {
			drop_batch(q, evs + off, n - off, SB_DROP_RETRIES);
			return;
		}
		if (past_shutdown_deadline(q)) {
			drop_batch(q, evs + off, n - off, SB_DROP_SHUTDOWN);
			return;
		}
		int64_t d = sb_backoff_full_jitter(rc->base, rc->max_delay, attempt - 1,
						   sb_jitter_next(&q->rnd));
		sb_log_rl(&p->rl_retry, SB_LOG_WARN, "bus",
			  "sink %s: not ready for %zu events, retry %u in %lld ms", s->name,
			  n - off, attempt, (long long)(d / SB_NSEC_PER_MSEC));
		wait_until(q, sb_now_mono_ns() + d);
	}
}

static bool urgent(const struct shard *q)
{
	return q->count >= q->hand_events || (q->count && q->bytes >= q->hand_bytes);
}

static bool full(const struct shard *q, const struct sb_event *ev)
{
	return q->count >= q->cap ||
	       (q->count && q->bytes + ev->size > q->sink->common->queue_bytes);
}

static int64_t bus_now(const struct shard *q) { return q->sink->priv->bus->now(); }

struct sb_event *sb_bus_wpop(struct shard *q)
{
	struct sb_event *ev = q->wring[q->whead];
	q->whead = (q->whead + 1) % q->cap;
	q->wcount--;
	q->wbytes -= ev->size;
	return ev;
}

/* Under mu: drops waiting events that have waited block_timeout. They are
 * the oldest, so they stand at the waiting room's head. */
static void expire_waiting(struct shard *q, int64_t now)
{
	struct sb_sink_priv *p = q->sink->priv;
	int64_t bt = q->sink->common->block_timeout;
	while (q->wcount && now - q->wsince[q->whead] >= bt) {
		struct sb_event *ev = sb_bus_wpop(q);
		sb_log_rl(&p->rl_full, SB_LOG_WARN, "bus",
			  "sink %s: queue full for %lld ms, dropping events (seq %llu)",
			  q->sink->name, (long long)(bt / SB_NSEC_PER_MSEC),
			  (unsigned long long)ev->seq);
		sb_event_unref(ev);
		q->dropped[SB_DROP_QUEUE_FULL]++;
	}
}

static void ring_push(struct shard *q, struct sb_event *ev)
{
	q->ring[(q->head + q->count) % q->cap] = ev;
	q->count++;
	q->bytes += ev->size;
}

/* Under mu: waiting events move into the ring as it has room, in order. */
static void promote_waiting(struct shard *q)
{
	while (q->wcount && !full(q, q->wring[q->whead]))
		ring_push(q, sb_bus_wpop(q));
}

static void *shard_main(void *arg)
{
	struct shard *q = arg;
	struct sb_sink *s = q->sink;
	if (s->nshards > 1)
		sb_thread_name("bus:%s[%u]", s->name, q->idx);
	else
		sb_thread_name("bus:%s", s->name);
	size_t bmax = (size_t)s->common->batch;
	struct sb_event **batch = q->batch;
	int64_t fi = s->common->flush_interval;
	/* a sink with no flush made events durable in taking them */
	const bool flushes = s->ops->flush != NULL;
	int64_t tick = 0;   /* 0: idle */
	bool dirty = false; /* taken by the sink, not flushed yet */
	bool busy = false;  /* something was handed over since the last tick */
	for (;;) {
		pthread_mutex_lock(&q->mu);
		for (;;) {
			if (q->closing || q->reopen || urgent(q))
				break;
			if (!tick) {
				if (q->count) {
					tick = sb_now_mono_ns() + fi;
					continue;
				}
				q->idle = true;
				pthread_cond_wait(&q->not_empty, &q->mu);
				q->idle = false;
				continue;
			}
			if (sb_now_mono_ns() >= tick)
				break;
			struct timespec ts = sb_mono_timespec(tick);
			pthread_cond_timedwait(&q->not_empty, &q->mu, &ts);
		}
		size_t n = q->count < bmax ? q->count : bmax;
		for (size_t i = 0; i < n; i++) {
			batch[i] = q->ring[q->head];
			q->bytes -= batch[i]->size;
			q->head = (q->head + 1) % q->cap;
		}
		q->count -= n;
		if (n)
			q->inflight_lo = batch[0]->seq;
		/* Back to the ring's start: the slots in use stay few and warm
		 * instead of walking through all queue_events of them. */
		if (!q->count)
			q->head = 0;
		q->in_flight += n;
		if (q->wcount) {
			expire_waiting(q, bus_now(q));
			promote_waiting(q);
		}
		bool closing = q->closing, reopen = q->reopen, empty = !q->count && !q->wcount;
		q->reopen = false;
		pthread_mutex_unlock(&q->mu);

		if (reopen && s->ops->reopen)
			s->ops->reopen(s, q->idx);
		if (n) {
			deliver(q, batch, n);
			dirty |= flushes;
			busy = true;
			pthread_mutex_lock(&q->mu);
			q->progress = bus_now(q);
			if (!q->unflushed_lo && flushes)
				q->unflushed_lo = q->inflight_lo;
			q->inflight_lo = 0;
			pthread_mutex_unlock(&q->mu);
			/* handed over before any tick (a batch's worth; with batch 1,
			 * every event): the flush still comes within flush_interval */
			if (flushes && !tick)
				tick = sb_now_mono_ns() + fi;
		}
		bool due = tick && sb_now_mono_ns() >= tick;
		if (!empty && (due || closing))
			continue; /* hand over the rest of it first */
		if (dirty && (due || (closing && empty))) {
			enum sb_sink_status st = s->ops->flush(s, q->idx); /* dirty: it has one */
			if (st == SB_SINK_OK || (closing && past_shutdown_deadline(q))) {
				dirty = false;
				pthread_mutex_lock(&q->mu);
				q->unflushed_lo = 0;
				pthread_mutex_unlock(&q->mu);
			}
		}
		if (due) {
			/* a tick that found nothing new ends the ticking */
			tick = busy || dirty ? sb_now_mono_ns() + fi : 0;
			busy = false;
		}
		if (closing && empty && !n && !dirty)
			break;
		if (closing && empty && !n && dirty)
			wait_until(q, sb_now_mono_ns() + fi / 4 + SB_NSEC_PER_MSEC);
	}
	return NULL;
}

int sb_bus_start(struct sb_bus *b)
{
	for (size_t i = 0; i < b->nsinks; i++) {
		struct sb_sink_priv *p = b->sinks[i];
		for (unsigned j = 0; j < p->sink.nshards; j++) {
			struct shard *q = &p->shards[j];
			q->progress = b->now();
			if (p->sink.ops->inline_write)
				continue;
			int r = pthread_create(&q->thread, NULL, shard_main, q);
			if (r) {
				sb_err("bus", "sink %s: cannot start thread: %s", p->sink.name,
				       strerror(r));
				return -r;
			}
			q->started = true;
		}
	}
	b->started = true;
	return 0;
}

/* ---- publishing ---- */

/* Returns 0 if queued (or waiting), -ENOSPC if the event was dropped.
 * Never waits: see the isolation note at the top. */
static int enqueue(struct shard *q, struct sb_event *ev)
{
	struct sb_sink *s = q->sink;
	struct sb_sink_priv *p = s->priv;
	int r = 0;
	bool wake = false;
	pthread_mutex_lock(&q->mu);
	q->received++;
	if (!q->count && !q->wcount && !q->in_flight)
		q->progress = bus_now(q); /* a stall is counted from here */
	if (q->wcount) {
		expire_waiting(q, bus_now(q));
		promote_waiting(q);
	}
	if (q->wcount || full(q, ev)) {
		/* the thread may be waiting for its tick: hand over now */
		pthread_cond_signal(&q->not_empty);
		if (s->common->full == SB_FULL_DROP_OLDEST) {
			while (q->count && full(q, ev)) {
				struct sb_event *old = q->ring[q->head];
				q->head = (q->head + 1) % q->cap;
				q->count--;
				q->bytes -= old->size;
				sb_log_rl(&p->rl_full, SB_LOG_WARN, "bus",
					  "sink %s: queue full, dropping oldest events (seq %llu)",
					  s->name, (unsigned long long)old->seq);
				sb_event_unref(old);
				q->dropped[SB_DROP_QUEUE_FULL]++;
			}
		} else if (q->wcount < q->cap &&
			   (!q->wcount || q->wbytes + ev->size <= s->common->queue_bytes)) {
			size_t at = (q->whead + q->wcount) % q->cap;
			q->wring[at] = sb_event_ref(ev);
			q->wsince[at] = bus_now(q);
			q->wcount++;
			q->wbytes += ev->size;
			pthread_mutex_unlock(&q->mu);
			return 0;
		}
	}
	if (q->wcount || full(q, ev)) {
		sb_log_rl(&p->rl_full, SB_LOG_WARN, "bus",
			  "sink %s: queue and waiting room full, dropping new events (seq %llu)",
			  s->name, (unsigned long long)ev->seq);
		q->dropped[SB_DROP_QUEUE_FULL]++;
		r = -ENOSPC;
	} else {
		bool was_urgent = urgent(q);
		ring_push(q, sb_event_ref(ev));
		/* Only what changes the thread's plan: the first event for an
		 * idle thread (it starts its tick), or a batch's worth. */
		wake = (q->idle && q->count == 1) || (!was_urgent && urgent(q));
	}
	pthread_mutex_unlock(&q->mu);
	/* after unlocking, so the woken thread does not block on mu at once */
	if (wake)
		pthread_cond_signal(&q->not_empty);
	return r;
}

/* Under the publish lock: an inline sink takes ev in the publisher's thread.
 * The lock is not held across write, so stats and durable never wait on it
 * (the publish lock already keeps durable from seeing the write half done). */
static void write_inline(struct shard *q, struct sb_event *ev)
{
	struct sb_sink *s = q->sink;
	struct sb_sink_priv *p = s->priv;
	pthread_mutex_lock(&q->mu);
	q->received++;
	q->in_flight++;
	pthread_mutex_unlock(&q->mu);
	struct sb_event *const evs[1] = {ev};
	size_t taken = 0;
	enum sb_sink_status st = s->ops->write(s, 0, evs, 1, &taken);
	bool ok = st == SB_SINK_OK || taken;
	atomic_fetch_add(&p->batches, 1);
	if (!ok)
		sb_log_rl(&p->rl_drop, SB_LOG_ERROR, "bus",
			  "sink %s: dropped 1 event (%s), seq %llu%s", s->name,
			  sb_drop_reason_name(SB_DROP_ERROR), (unsigned long long)ev->seq,
			  st == SB_SINK_RETRY ? ": an inline sink cannot retry" : "");
	pthread_mutex_lock(&q->mu);
	if (ok)
		q->written++;
	else
		q->dropped[SB_DROP_ERROR]++;
	q->in_flight--;
	q->progress = bus_now(q);
	pthread_mutex_unlock(&q->mu);
}

void sb_bus_idle(struct sb_bus *b)
{
	for (size_t i = 0; i < b->nsinks; i++) {
		struct sb_sink *s = &b->sinks[i]->sink;
		if (!s->ops->inline_write || !s->ops->idle)
			continue;
		pthread_mutex_lock(&b->pub);
		if (!b->closing)
			s->ops->idle(s);
		pthread_mutex_unlock(&b->pub);
	}
}

static void count_source(struct sb_bus *b, const char *src)
{
	for (size_t i = 0; i < b->nsources; i++) {
		if (!strcmp(b->sources[i].name, src)) {
			b->sources[i].n++;
			return;
		}
	}
	if (b->nsources < MAX_SOURCES) {
		snprintf(b->sources[b->nsources].name, sizeof(b->sources[0].name), "%s", src);
		b->sources[b->nsources++].n = 1;
	}
}

int sb_bus_publish(struct sb_bus *b, struct sb_event *ev)
{
	int r = 0;
	pthread_mutex_lock(&b->pub);
	if (b->closing) {
		pthread_mutex_unlock(&b->pub);
		sb_event_unref(ev);
		return -ESHUTDOWN;
	}
	ev->seq = ++b->seq;
	count_source(b, ev->source);
	for (size_t i = 0; i < b->nsinks; i++) {
		struct sb_sink *s = &b->sinks[i]->sink;
		unsigned shard = 0;
		if (s->nshards > 1)
			shard = (unsigned)((s->common->shard_by == SB_SHARD_SEQ
						? ev->seq
						: sb_hash(ev->source, strlen(ev->source))) %
					   s->nshards);
		if (s->ops->inline_write)
			write_inline(&b->sinks[i]->shards[0], ev);
		else if (enqueue(&b->sinks[i]->shards[shard], ev))
			r = -ENOSPC;
	}
	pthread_mutex_unlock(&b->pub);
	sb_event_unref(ev);
	return r;
}

/* Under mu: the first event q still holds (taken and not flushed, in a
 * batch, queued or waiting), 0 when none; all older ones have left it. */
static uint64_t held_lo(const struct shard *q)
{
	if (q->unflushed_lo)
		return q->unflushed_lo;
	if (q->inflight_lo)
		return q->inflight_lo;
	if (q->count)
		return q->ring[q->head]->seq;
	return q->wcount ? q->wring[q->whead]->seq : 0;
}

uint64_t sb_bus_durable(struct sb_bus *b)
{
	pthread_mutex_lock(&b->pub);
	uint64_t d = b->seq;
	for (size_t i = 0; i < b->nsinks; i++) {
		struct sb_sink_priv *p = b->sinks[i];
		for (unsigned j = 0; j < p->sink.nshards; j++) {
			struct shard *q = &p->shards[j];
			pthread_mutex_lock(&q->mu);
			uint64_t lo = held_lo(q);
			pthread_mutex_unlock(&q->mu);
			if (lo && lo - 1 < d)
				d = lo - 1;
		}
	}
	pthread_mutex_unlock(&b->pub);
	return d;
}

size_t sb_bus_room(struct sb_bus *b)
{
	size_t room = SIZE_MAX;
	for (size_t i = 0; i < b->nsinks; i++) {
		struct sb_sink_priv *p = b->sinks[i];
		for (unsigned j = 0; j < p->sink.nshards; j++) {
			struct shard *q = &p->shards[j];
			pthread_mutex_lock(&q->mu);
			size_t r = q->wcount ? 0 : q->cap - q->count;
			pthread_mutex_unlock(&q->mu);
			if (r < room)
				room = r;
		}
	}
	return room;
}

void sb_bus_reopen(struct sb_bus *b)
{
	for (size_t i = 0; i < b->nsinks; i++) {
		struct sb_sink_priv *p = b->sinks[i];
		if (p->sink.ops->inline_write) {
			/* no thread of its own: here, between two writes */
			pthread_mutex_lock(&b->pub);
			if (p->sink.ops->reopen && !b->closing)
				p->sink.ops->reopen(&p->sink, 0);
			pthread_mutex_unlock(&b->pub);
			continue;
		}
		for (unsigned j = 0; j < p->sink.nshards; j++) {
			struct shard *q = &p->shards[j];
			pthread_mutex_lock(&q->mu);
			q->reopen = true;
			pthread_cond_signal(&q->not_empty);
			pthread_mutex_unlock(&q->mu);
		}
	}
}

size_t sb_bus_nsinks(const struct sb_bus *b) { return b->nsinks; }

struct sb_sink *sb_bus_sink(struct sb_bus *b, size_t i)
{
	return i < b->nsinks ? &b->sinks[i]->sink : NULL;
}

void sb_sink_stats(struct sb_sink *s, struct sb_sink_stats *out)
{
	struct sb_sink_priv *p = s->priv;
	memset(out, 0, sizeof(*out));
	/* All shards locked at once (always in index order): one consistent
	 * snapshot in which the accounting invariant holds exactly. */
	for (unsigned j = 0; j < s->nshards; j++)
		pthread_mutex_lock(&p->shards[j].mu);
	for (unsigned j = 0; j < s->nshards; j++) {
		struct shard *q = &p->shards[j];
		out->received += q->received;
		out->written += q->written;
		out->queue_events += q->count + q->wcount;
		out->queue_bytes += q->bytes + q->wbytes;
		out->in_flight += q->in_flight;
		for (int r = 0; r < SB_DROP_MAX; r++)
			out->dropped[r] += q->dropped[r];
	}
	for (unsigned j = s->nshards; j-- > 0;)
		pthread_mutex_unlock(&p->shards[j].mu);
	int64_t now = p->bus->now(), fi = s->common->flush_interval;
	int64_t stall = 2 * fi > 5 * SB_NSEC_PER_SEC ? 2 * fi : 5 * SB_NSEC_PER_SEC;
	for (unsigned j = 0; j < s->nshards; j++) {
		struct shard *q = &p->shards[j];
		pthread_mutex_lock(&q->mu);
		if ((q->count || q->wcount || q->in_flight) && now - q->progress > stall)
			out->stalled = true;
		pthread_mutex_unlock(&q->mu);
	}
	out->retries = atomic_load(&p->retries);
	out->batches = atomic_load(&p->batches);
}

uint64_t sb_bus_last_seq(const struct sb_bus *b)
{
	struct sb_bus *m = (struct sb_bus *)b;
	pthread_mutex_lock(&m->pub);
	uint64_t s = b->seq;
	pthread_mutex_unlock(&m->pub);
	return s;
}

void sb_bus_foreach_source(struct sb_bus *b, void (*fn)(void *arg, const char *src, uint64_t n),
			   void *arg)
{
	pthread_mutex_lock(&b->pub);
	size_t n = b->nsources;
	char names[MAX_SOURCES][32];
	uint64_t counts[MAX_SOURCES];
	for (size_t i = 0; i < n; i++) {
		memcpy(names[i], b->sources[i].name, sizeof(names[i]));
		counts[i] = b->sources[i].n;
	}
	pthread_mutex_unlock(&b->pub);
	for (size_t i = 0; i < n; i++)
		fn(arg, names[i], counts[i]);
}
