/* The bus: takes immutable events from sensors, numbers them and fans
 * them out to every sink's bounded queue (one per shard), each drained by
 * its own thread. */
#ifndef SB_BUS_H
#define SB_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "sb_event.h"
#include "sb_sink.h"

enum sb_drop_reason {
	SB_DROP_QUEUE_FULL, /* evicted by drop_oldest or block timed out */
	SB_DROP_ERROR,	    /* the sink said it can never take it */
	SB_DROP_RETRIES,    /* retry.max_attempts exhausted */
	SB_DROP_SHUTDOWN,   /* still undelivered when the shutdown grace ran out */
	SB_DROP_MAX,
};
const char *sb_drop_reason_name(enum sb_drop_reason r);

struct sb_sink_stats {
	uint64_t received; /* entered a queue */
	uint64_t written;  /* taken by the sink */
	uint64_t dropped[SB_DROP_MAX];
	uint64_t retries;
	uint64_t queue_events; /* now, all shards */
	uint64_t queue_bytes;
	uint64_t in_flight; /* taken off a queue, not yet answered */
	uint64_t batches;
	bool stalled; /* events held and no batch answered for a while */
};

struct sb_bus;

struct sb_bus *sb_bus_new(const struct sb_runinfo *ri);
/* The monotonic clock the queues' waiting rooms use (tests pass a fake
 * one); NULL restores the real one. Before sb_bus_start. */
void sb_bus_set_clock(struct sb_bus *b, int64_t (*now)(void));
/* Called (from a sink's thread) when a sink asks the agent to stop. */
void sb_bus_on_stop(struct sb_bus *b, void (*cb)(void *arg), void *arg);
/* Opens the sink and adds it; before sb_bus_start only. */
int sb_bus_add_sink(struct sb_bus *b, const struct sb_sink_conf *conf);
int sb_bus_start(struct sb_bus *b);
/* Consumes the caller's reference. Assigns seq (strictly increasing from 1
 * across the run). Returns 0, or -ENOSPC when some sink dropped it. */
int sb_bus_publish(struct sb_bus *b, struct sb_event *ev);
/* Events every sink can queue now without dropping or waiting: the
 * smallest free room of any queue (0 while any event waits for room). For a
 * load generator that must not outrun the sinks (the synthetic sensor). */
size_t sb_bus_room(struct sb_bus *b);
/* The publishing thread is about to wait (the loop's idle hook): each
 * inline sink's idle op runs. */
void sb_bus_idle(struct sb_bus *b);
/* The highest seq such that every event up to it has left every sink:
 * taken and flushed (a file written per its fsync setting, a delivering
 * sink's event spooled or sent), or dropped and counted. What a consumer
 * of a broker may acknowledge (the amqp sensor). */
uint64_t sb_bus_durable(struct sb_bus *b);
/* Asks every sink to reopen its files (SIGHUP). */
void sb_bus_reopen(struct sb_bus *b);
/* Stops taking events, drains every queue, flushes and closes every sink.
 * Returns the number of events dropped at shutdown. */
uint64_t sb_bus_shutdown(struct sb_bus *b);
void sb_bus_free(struct sb_bus *b);

size_t sb_bus_nsinks(const struct sb_bus *b);
struct sb_sink *sb_bus_sink(struct sb_bus *b, size_t i);
void sb_sink_stats(struct sb_sink *s, struct sb_sink_stats *out);
uint64_t sb_bus_last_seq(const struct sb_bus *b);
/* Events published per source, for self-telemetry: calls fn per source. */
void sb_bus_foreach_source(struct sb_bus *b, void (*fn)(void *arg, const char *src, uint64_t n),
			   void *arg);

#endif
