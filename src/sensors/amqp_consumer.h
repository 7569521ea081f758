/* The amqp sensor's parts (the consuming side of a fleet): which deliveries
 * may be acked (acks), which events were seen already (dedup), what a
 * message holds (decode); amqp_consumer.c drives them on the loop. Each is
 * plain logic over its inputs, so the unit tests drive it with fakes. */
#ifndef SB_SENSOR_AMQP_CONSUMER_H
#define SB_SENSOR_AMQP_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_event.h"
#include "sb_pbevent.h"

/* ---- acks (amqp_consumer_acks.c) ----
 * Deliveries in the order the broker sent them (tags increase on a
 * channel), each with the last bus seq its events got: once the bus made
 * every event up to that seq durable (sb_bus_durable), the delivery and
 * all before it can be acked with one multiple ack. */
struct sb_acks {
	struct sb_ack_ent {
		uint64_t tag, seq;
	} * v;
	size_t cap, head, n;
};

void sb_acks_init(struct sb_acks *a);
void sb_acks_free(struct sb_acks *a);
/* Delivery tag, published up to bus seq; 0 or -ENOMEM. */
int sb_acks_push(struct sb_acks *a, uint64_t tag, uint64_t seq);
/* The highest tag all of whose events (and its predecessors') are within
 * durable, removed with them; 0 when none is. */
uint64_t sb_acks_due(struct sb_acks *a, uint64_t durable);
/* The channel is gone: its tags mean nothing on the next one (the broker
 * delivers those messages again). */
void sb_acks_reset(struct sb_acks *a);

/* ---- dedup (amqp_consumer_dedup.c) ----
 * Per origin (host + run), the last `window` seqs as a bitmap ending at
 * the highest seen. An event older than the window is let through and
 * counted: it cannot be told from new. Origins beyond max_origins evict
 * the one least recently seen. */
struct sb_dedup_origin;
struct sb_dedup {
	struct sb_dedup_origin **slots; /* open addressing, a power of two */
	size_t cap, n, max_origins;
	uint64_t window; /* in seqs, a multiple of 64 */
	uint64_t clock;	 /* for least recently seen */
	uint64_t too_old, evicted;
};

int sb_dedup_init(struct sb_dedup *d, uint64_t window, size_t max_origins);
void sb_dedup_free(struct sb_dedup *d);
/* 1: seen before (drop it), 0: new (now remembered), -ENOMEM. */
int sb_dedup_seen(struct sb_dedup *d, const char *host, const char *run, uint64_t seq);

/* ---- decode (amqp_consumer_decode.c) ---- */
struct sb_msgdec {
	struct sb_pbdec pb;
	struct sb_evb evb;
	char err[256];
};
void sb_msgdec_init(struct sb_msgdec *d);
void sb_msgdec_free(struct sb_msgdec *d);
/* Calls fn for each event of a message body (fn consumes the event), by
 * its content type and AMQP type: application/json (one event),
 * application/x-ndjson (lines), application/x-protobuf with type
 * sensorbus.v1.Event or sensorbus.v1.EventBatch. Nothing is given to fn
 * unless the whole message decodes: 0, or -EBADMSG (-ENOMEM) with d->err
 * saying what and where. */
int sb_msgdec_decode(struct sb_msgdec *d, const char *content_type, const char *type,
		     const void *body, size_t len, void (*fn)(void *arg, struct sb_event *ev),
		     void *arg);

#endif
