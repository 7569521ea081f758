/* The bus's shutdown: each sink thread has until shutdown_grace to hand
 * over what it holds; past it, it is interrupted, and past the margin
 * abandoned (the isolation note in bus.c). */
#include "sb_bus.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "sb_log.h"

#include "bus_internal.h"

/* A signal with a handler that does nothing, installed without SA_RESTART:
 * delivered to a sink thread, it makes a blocked write(2) return EINTR. */
static void on_interrupt(int signo) { (void)signo; }

static int interrupt_signal(void)
{
	static int installed;
	if (!installed) {
		struct sigaction sa = {.sa_handler = on_interrupt};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGRTMIN, &sa, NULL);
		installed = 1;
	}
	return SIGRTMIN;
}

/* How long past shutdown_grace a thread is interrupted before it is
 * abandoned. */
#define INTERRUPT_MARGIN (1 * SB_NSEC_PER_SEC)
#define INTERRUPT_EVERY (50 * SB_NSEC_PER_MSEC)

/* Joins q's thread by deadline; past it, asks the sink to give up and
 * interrupts the thread's system calls until deadline + the margin.
 * Returns false if the thread is still running then. */
static bool join_by(struct shard *q, int64_t deadline)
{
	struct timespec ts = sb_real_timespec_after(deadline - sb_now_mono_ns());
	if (pthread_timedjoin_np(q->thread, NULL, &ts) == 0)
		return true;
	atomic_store(&q->sink->cancel, true);
	int sig = interrupt_signal();
	int64_t until = deadline + INTERRUPT_MARGIN;
	while (sb_now_mono_ns() < until) {
		pthread_kill(q->thread, sig);
		ts = sb_real_timespec_after(INTERRUPT_EVERY);
		if (pthread_timedjoin_np(q->thread, NULL, &ts) == 0)
			return true;
	}
	return false;
}

/* Under mu: everything the bus still holds for q is lost. */
static uint64_t drop_held(struct shard *q)
{
	uint64_t n = 0;
	while (q->count) {
		sb_event_unref(q->ring[q->head]);
		q->head = (q->head + 1) % q->cap;
		q->count--;
		n++;
	}
	while (q->wcount) {
		sb_event_unref(sb_bus_wpop(q));
		n++;
	}
	q->bytes = 0;
	q->dropped[SB_DROP_SHUTDOWN] += n;
	return n;
}

uint64_t sb_bus_shutdown(struct sb_bus *b)
{
	pthread_mutex_lock(&b->pub);
	bool already = b->closing;
	b->closing = true;
	pthread_mutex_unlock(&b->pub);
	if (already)
		return 0;
	int64_t now = sb_now_mono_ns();
	for (size_t i = 0; i < b->nsinks; i++) {
		struct sb_sink_priv *p = b->sinks[i];
		for (unsigned j = 0; j < p->sink.nshards; j++) {
			struct shard *q = &p->shards[j];
			pthread_mutex_lock(&q->mu);
			q->closing = true;
			q->deadline = now + p->sink.common->shutdown_grace;
			pthread_cond_broadcast(&q->not_empty);
			pthread_mutex_unlock(&q->mu);
		}
	}
	uint64_t lost = 0;
	for (size_t i = 0; i < b->nsinks; i++) {
		struct sb_sink_priv *p = b->sinks[i];
		bool abandoned = false;
		for (unsigned j = 0; j < p->sink.nshards; j++) {
			struct shard *q = &p->shards[j];
			if (q->started && !join_by(q, q->deadline)) {
				/* The thread is stuck in a call no signal ends (a hung
				 * mount). It keeps its batch; the process exits past it. */
				q->abandoned = abandoned = true;
				pthread_mutex_lock(&q->mu);
				uint64_t held = drop_held(q) + q->in_flight;
				q->dropped[SB_DROP_SHUTDOWN] += q->in_flight;
				q->in_flight = 0;
				pthread_mutex_unlock(&q->mu);
				sb_err(
				    "bus",
				    "sink %s: still busy %lld ms after shutdown_grace, abandoned "
				    "with %llu events",
				    p->sink.name, (long long)(INTERRUPT_MARGIN / SB_NSEC_PER_MSEC),
				    (unsigned long long)held);
				lost += held;
			}
			q->started = false;
			/* Threads that never started leave their queue behind. */
			pthread_mutex_lock(&q->mu);
			drop_held(q);
			pthread_mutex_unlock(&q->mu);
			if (!q->abandoned)
				lost += q->dropped[SB_DROP_SHUTDOWN];
		}
		if (abandoned)
			continue; /* its state may still be in use */
		/* Past the deadline close() must not block either. */
		if (sb_now_mono_ns() >= now + p->sink.common->shutdown_grace)
			atomic_store(&p->sink.cancel, true);
		if (p->sink.ops->close)
			p->sink.ops->close(&p->sink);
		p->sink.state = NULL;
		if (p->sink.lost) {
			struct shard *q = &p->shards[0];
			uint64_t n = p->sink.lost < q->written ? p->sink.lost : q->written;
			q->written -= n;
			q->dropped[SB_DROP_SHUTDOWN] += n;
			lost += n;
			p->sink.lost = 0;
		}
	}
	return lost;
}

void sb_bus_free(struct sb_bus *b)
{
	if (!b)
		return;
	sb_bus_shutdown(b);
	for (size_t i = 0; i < b->nsinks; i++) {
		struct sb_sink_priv *p = b->sinks[i];
		bool abandoned = false;
		for (unsigned j = 0; j < p->sink.nshards; j++) {
			struct shard *q = &p->shards[j];
			struct timespec ts = sb_real_timespec_after(100 * SB_NSEC_PER_MSEC);
			if (q->abandoned && pthread_timedjoin_np(q->thread, NULL, &ts) == 0)
				q->abandoned = false;
			abandoned |= q->abandoned;
		}
		if (abandoned)
			continue; /* a thread may still use it: left to the exit */
		if (p->sink.state && p->sink.ops->close) /* a thread came back late */
			p->sink.ops->close(&p->sink);
		for (unsigned j = 0; j < p->sink.nshards; j++) {
			pthread_mutex_destroy(&p->shards[j].mu);
			pthread_cond_destroy(&p->shards[j].not_empty);
		}
		sb_bus_free_shards(p, p->sink.nshards);
	}
	free(b->sinks);
	pthread_mutex_destroy(&b->pub);
	free(b);
}
