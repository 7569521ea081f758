/* Sinks: where events go. A sink is one row in the table in registry.c and
 * one file implementing these operations; the bus owns its queue(s),
 * threads, batching, flush timing and retry policy, so every sink gets them
 * the same way. */
#ifndef SB_SINK_H
#define SB_SINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_config.h"
#include "sb_event.h"

/* What write/flush answer. */
enum sb_sink_status {
	SB_SINK_OK = 0,
	SB_SINK_RETRY = 1, /* not taken: the core backs off and offers it again */
	SB_SINK_ERROR = 2, /* cannot ever be delivered: dropped and counted */
};

struct sb_runinfo {
	char run[33];
	char host[256];
	int64_t interval; /* the global interval */
	int64_t start_real_ns;
};

struct sb_sink {
	const struct sb_sink_ops *ops;
	const char *name;
	const struct sb_sink_common *common;
	const void *cfg;
	const struct sb_runinfo *ri;
	unsigned nshards;
	void *state; /* the sink's own */
	/* Set by close() to the number of taken events it could not make
	 * durable; the bus moves them from written to dropped{shutdown}. */
	uint64_t lost;
	/* Set by the bus once shutdown_grace has passed: a sink stops
	 * retrying blocked I/O (it sees EINTR) and gives up. */
	atomic_bool cancel;
	struct sb_sink_priv *priv; /* the bus's */
};

static inline bool sb_sink_cancelled(struct sb_sink *s) { return atomic_load(&s->cancel); }

/* For a sink that can never deliver again (its reader went away): logs why
 * and asks the agent to shut down, as a Unix filter ends on EPIPE. Safe from
 * any thread; only the first call acts. */
void sb_sink_stop_agent(struct sb_sink *s, const char *why);

struct sb_evb;

struct sb_transport_ops;

struct sb_sink_ops {
	const char *name;
	const char *desc;
	const struct sb_cfg_key *keys;
	/* Keys a family of sinks shares (the delivery layer's), parsed into
	 * the same config struct, which begins with their struct. */
	const struct sb_cfg_key *shared_keys;
	/* A delivering sink's `format` when the config names none, if not
	 * the shared default (remote_write decodes protobuf). */
	const char *format;
	size_t cfg_size;
	/* A delivering sink's transport (include/sb_delivery.h). */
	const struct sb_transport_ops *transport;
	/* write is called by the publishing thread, for each event as it is
	 * published, under the bus's publish lock: no queue, no thread of its
	 * own. For a sink whose write is a short update in memory (no I/O that
	 * could block the collection loop), which a reader should see at once.
	 * Such a sink has one shard, never asks for a retry (RETRY counts as
	 * ERROR), and its reopen is called by the thread that asks for it. */
	bool inline_write;
	/* Checks across keys beyond what the table says; optional. */
	int (*validate)(const void *cfg, char *err, size_t errlen);
	/* Called before any thread starts; sets s->state. <0: cannot start. */
	int (*open)(struct sb_sink *s);
	/* Takes events [0, n) of one shard. Sets *taken to how many were taken
	 * (all on OK). Called from that shard's thread only (an inline sink's:
	 * from the publishing thread, one event at a time). */
	enum sb_sink_status (*write)(struct sb_sink *s, unsigned shard, struct sb_event *const *evs,
				     size_t n, size_t *taken);
	/* An inline sink's work after a burst of writes: called by the
	 * publishing thread when it is about to wait (sb_bus_idle), under the
	 * publish lock; it must return at once when it has nothing to do.
	 * Optional. */
	void (*idle)(struct sb_sink *s);
	/* Make taken events durable/visible; optional. */
	enum sb_sink_status (*flush)(struct sb_sink *s, unsigned shard);
	/* Reopen output files (SIGHUP); called from each shard's thread. */
	void (*reopen)(struct sb_sink *s, unsigned shard);
	/* After the last flush, all threads joined. */
	void (*close)(struct sb_sink *s);
	/* Adds the sink's own samples to the agent's self-telemetry; optional,
	 * called from the loop thread, so it must only read atomics. */
	void (*telemetry)(struct sb_sink *s, struct sb_evb *b);
	/* 0 healthy (ready), else not; optional. */
	int (*health)(struct sb_sink *s);
	/* The capabilities (SB_CAP bits) open and the threads use, given its
	 * config; optional (none). The agent keeps only those. */
	uint64_t (*caps)(const void *cfg);
};

const struct sb_sink_ops *sb_sink_find(const char *name);
const struct sb_sink_ops *const *sb_sink_table(size_t *n);

#endif
