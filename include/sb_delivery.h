/* The delivery layer: what every sink that delivers over a network shares.
 * It owns the spool, the sender threads and their windows, retries, the
 * circuit breaker, ordered/backfill replay at a drain rate, the watchdog
 * and the accounting; a delivering sink is only a transport (connect,
 * publish a window and report each message's outcome, close; or, to
 * pipeline, send and poll) plus its own config keys. See docs/HACKING.md
 * for which thread calls what.
 *
 * A sink becomes a delivering sink by pointing its ops row at the
 * sb_delivery_* functions, naming its transport in .transport and
 * beginning its config struct with struct sb_delivery_cfg (whose keys,
 * sb_delivery_keys, the config loader parses into the same struct). */
#ifndef SB_DELIVERY_H
#define SB_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_codec.h"
#include "sb_config.h"
#include "sb_sink.h"

struct sb_evb;

enum { SB_BUF_DISK, SB_BUF_MEMORY };
enum { SB_REPLAY_ORDERED, SB_REPLAY_BACKFILL };

/* The keys every delivering sink has (sb_delivery_keys). */
struct sb_delivery_cfg {
	char *spool_dir;
	uint64_t spool_max_bytes;
	uint64_t spool_segment_bytes;
	int spool_full; /* enum sb_spool_full */
	int buffer;
	int64_t drain_rate;
	int replay;
	struct {
		int64_t failures;
		int64_t cooldown;
	} breaker;
	int64_t fsync_interval;
	bool fsync_every_write;
	int64_t window;
	int64_t memory_events;
	int64_t confirm_timeout;
	char *format; /* the codec's name (sb_codec_find) */
	int64_t batch_events;
	uint64_t batch_bytes;
};

/* Whether a delivering sink's config (which begins with its delivery
 * config) sends from memory: events taken are not durable until sent. */
static inline bool sb_delivery_buffer_memory(const void *sink_cfg)
{
	return ((const struct sb_delivery_cfg *)sink_cfg)->buffer == SB_BUF_MEMORY;
}
extern const struct sb_cfg_key sb_delivery_keys[];

/* A string that need not end in NUL (it may point into a spool record). */
struct sb_dstr {
	const char *p;
	size_t n;
};

enum sb_dmsg_state {
	SB_DMSG_UNSENT,
	SB_DMSG_PENDING,   /* sent, outcome not known yet */
	SB_DMSG_ACKED,	   /* the receiver has it: delivered */
	SB_DMSG_FAILED,	   /* not taken this time: sent again later */
	SB_DMSG_REJECTED,  /* refused for good: dropped{rejected}, never sent again */
	SB_DMSG_RETURNING, /* transport-private: failed once its ack comes */
};

/* One event as the delivery layer hands it to a transport: the event's
 * identity (what a consumer dedupes on), its encoded body and codec. */
struct sb_dmsg {
	uint64_t seq;
	int64_t time_ns;
	struct sb_dstr run, host, source, kind;
	/* Records spooled by version 1 carried the AMQP routing key and
	 * message id as rendered then; empty otherwise. */
	struct sb_dstr v1_key, v1_id;
	const void *body;
	size_t len;
	const struct sb_codec *codec;
	/* Several events in one message (batch_events > 1): seq is the
	 * first's, last_seq the last's; the body holds them all. 1 otherwise. */
	uint32_t nevents;
	uint64_t last_seq;
	/* set by the transport's publish */
	int state;
	uint64_t tag;
	int64_t sent_at, acked_at; /* monotonic ns */
};

/* "run:seq" ("run:first-last" for a batch), the message id every
 * transport uses; returns its length. */
size_t sb_dmsg_id(const struct sb_dmsg *m, char *out, size_t n);

/* A transport. Called from the delivery layer's threads: init/fini from
 * the sink's open/close; connect, publish, idle and close from one
 * worker's sender thread (a link is that worker's alone); fd from the
 * watchdog thread, under a lock that close also takes. */
struct sb_transport_ops {
	const char *name;
	/* Builds what the workers share from the sink's config (parsed
	 * addresses, credentials). err names what and where. */
	int (*init)(void **tp, const struct sb_sink *s, char *err, size_t errlen);
	void (*fini)(void *tp);
	/* Where it sends, without secrets, for logs. */
	const char *(*target)(void *tp);
	int (*connect)(void *tp, unsigned worker, void **link, char *err, size_t errlen);
	void (*close)(void *link);
	/* The simple path: sends the messages not ACKED and waits up to
	 * timeout for their outcomes, setting each one's state. 0 while the
	 * link stays usable, else -errno (the link is closed and connected
	 * again). The sender sends a window, then waits. */
	int (*publish)(void *link, struct sb_dmsg *const *msgs, size_t n, int64_t timeout,
		       char *err, size_t errlen);
	/* Optional, both or neither: pipelining. The sender then keeps up to
	 * window messages in flight and sends more as outcomes free room.
	 * send hands over the messages that are UNSENT or FAILED, each then
	 * PENDING, and returns without waiting; the transport keeps the
	 * pointers until it sets each one's outcome. poll waits up to wait
	 * for outcomes of anything sent and sets them (ACKED, FAILED,
	 * REJECTED) as they come, in any order; it returns once some came or
	 * the wait is over. Both: 0 while the link stays usable, else -errno;
	 * close drops whatever is still pending (the sender sends it again
	 * with the same message ids on a new link). The sender never frees a
	 * PENDING message while its link is open. */
	int (*send)(void *link, struct sb_dmsg *const *msgs, size_t n, char *err, size_t errlen);
	int (*poll)(void *link, int64_t wait, char *err, size_t errlen);
	/* Optional: keeps an idle link alive, notices a broken one (<0). */
	int (*idle)(void *link, char *err, size_t errlen);
	/* Optional: the socket, which the watchdog shuts down when a publish
	 * has blocked far past its timeouts. */
	int (*fd)(void *link);
	/* How long connect may take, for the watchdog. */
	int64_t (*connect_timeout)(void *tp);
	/* Optional: how many endpoints (a cluster's nodes) one connect tries
	 * in turn, a round. With more than one, a lost link is no failure yet:
	 * the sender connects again at once, without a backoff, and the
	 * transport's next round decides (once per delivery in between, so a
	 * cluster that takes links and then drops them still opens the
	 * breaker). */
	unsigned (*endpoints)(void *tp);
};

/* The sink ops a delivering sink points its row at. */
int sb_delivery_validate(const void *cfg, char *err, size_t errlen);
int sb_delivery_open(struct sb_sink *s);
enum sb_sink_status sb_delivery_write(struct sb_sink *s, unsigned shard,
				      struct sb_event *const *evs, size_t n, size_t *taken);
enum sb_sink_status sb_delivery_flush(struct sb_sink *s, unsigned shard);
void sb_delivery_close(struct sb_sink *s);
void sb_delivery_telemetry(struct sb_sink *s, struct sb_evb *b);
int sb_delivery_health(struct sb_sink *s);
/* The transport's shared state (what its init made), for a sink's own
 * telemetry; NULL before open. */
void *sb_delivery_transport_state(struct sb_sink *s);

/* ---- for tests: no threads, a fake clock ---- */

/* Opens like sb_delivery_open but starts no thread; the test drives each
 * worker with sb_delivery_step and the clock with now. */
int sb_delivery_open_manual(struct sb_sink *s, int64_t (*now)(void));
/* One pass of worker shard's sender; returns when it wants to run again
 * (monotonic ns, on the clock given). */
int64_t sb_delivery_step(struct sb_sink *s, unsigned shard);
/* The accounting, summed over workers. */
struct sb_delivery_stats {
	uint64_t received, delivered, spooled, spool_records, in_flight;
	uint64_t dropped_spool_full, dropped_spool_error, dropped_corrupt, dropped_rejected;
	uint64_t retries;
	int breaker_state; /* enum sb_breaker_state */
	bool replaying;
};
void sb_delivery_stats(struct sb_sink *s, struct sb_delivery_stats *out);

#endif
