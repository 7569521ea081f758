/* The bus's files share its shard and sink structs (bus.c: adding sinks,
 * their threads, publishing; bus_shutdown.c: joining and freeing them).
 * Nothing outside src/bus*.c includes it. */
#ifndef SB_BUS_INTERNAL_H
#define SB_BUS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_bus.h"
#include "sb_log.h"

#define MAX_SOURCES 32

struct shard {
	struct sb_sink *sink;
	unsigned idx;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t not_empty; /* also: wake for reopen, shutdown */
	struct sb_event **ring;
	size_t cap, head, count;
	uint64_t bytes;
	/* `block` only: events that found the ring full, oldest first, with
	 * when each arrived. Non-empty only while the ring is full. */
	struct sb_event **wring;
	int64_t *wsince;
	size_t whead, wcount;
	uint64_t wbytes;
	int64_t progress;    /* monotonic ns of the last batch the sink answered */
	bool abandoned;	     /* its thread did not return by the shutdown deadline */
	size_t hand_events;  /* this many queued: hand them over at once */
	uint64_t hand_bytes; /* likewise, bytes */
	bool idle;	     /* its thread waits for an event, no tick pending */
	bool closing;
	bool reopen;
	int64_t deadline; /* monotonic ns; when closing */
	struct sb_event **batch;
	uint64_t rnd;
	/* Counted under mu, so a stats snapshot taken with every shard
	 * locked satisfies the invariant exactly. */
	uint64_t received, written, in_flight, dropped[SB_DROP_MAX];
	/* The seq of the first event of the batch off the ring, and of the
	 * first one the sink took since its last successful flush; 0: none.
	 * With the ring's and the waiting room's heads they say what the sink
	 * has made durable (sb_bus_durable). */
	uint64_t inflight_lo, unflushed_lo;
};

struct sb_sink_priv {
	struct sb_bus *bus;
	struct shard *shards;
	struct sb_sink sink;
	atomic_uint_fast64_t retries, batches;
	struct sb_ratelimit rl_full, rl_retry, rl_drop;
};

struct sb_bus {
	const struct sb_runinfo *ri;
	int64_t (*now)(void);
	void (*stop_cb)(void *arg);
	void *stop_arg;
	atomic_bool stop_asked;
	pthread_mutex_t pub;
	uint64_t seq;
	bool started, closing;
	struct sb_sink_priv **sinks;
	size_t nsinks;
	struct {
		char name[32];
		uint64_t n;
	} sources[MAX_SOURCES];
	size_t nsources;
};

/* Frees p and the buffers of its first n shards. */
void sb_bus_free_shards(struct sb_sink_priv *p, unsigned n);
/* Under mu: the oldest event of q's waiting room, taken out of it. */
struct sb_event *sb_bus_wpop(struct shard *q);

#endif
