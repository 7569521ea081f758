/* Codecs: how a sink turns an event into bytes. One row per codec in
 * src/codec.c; a sink that serialises looks its codec up by name and never
 * calls an encoder directly, so a new codec is one file and one row.
 *
 * encode() appends one event's bytes with no framing; sb_codec_frame()
 * appends it framed for a stream of events (a file): the codec says how
 * (a newline after each JSON object, a varint length before each protobuf
 * message). A spool record stores the codec's id, so a record written by
 * one codec is sent with that codec's content type after a restart. */
#ifndef SB_CODEC_H
#define SB_CODEC_H

#include <stdint.h>

#include "sb_event.h"
#include "sb_util.h"

enum sb_codec_framing {
	SB_FRAME_NEWLINE, /* text formats: one event per line */
	SB_FRAME_VARINT,  /* binary formats: varint length, then the bytes */
};

/* Per-writer state: the run and host every event carries, and whatever
 * the encoder caches (the last time it formatted). One per thread. */
struct sb_codec_ctx {
	const char *run;
	const char *host;
	struct sb_timefmt tcache;
};

struct sb_codec {
	const char *name;	  /* the sinks' `format` value */
	uint8_t id;		  /* in spool records: never reused */
	const char *content_type; /* for transports that label messages */
	enum sb_codec_framing framing;
	void (*encode)(struct sb_buf *out, struct sb_codec_ctx *ctx, const struct sb_event *ev);
	/* The schema's message name, for transports that say what a message
	 * is (AMQP `type`); NULL for self-describing formats. */
	const char *message_type;
	/* Several events in one message (sb_codec_batch_add): its content
	 * type (JSON lines, an EventBatch) and message name. */
	const char *batch_content_type;
	const char *batch_message_type;
};

const struct sb_codec *sb_codec_find(const char *name);
const struct sb_codec *sb_codec_by_id(uint8_t id);
/* The names, comma-separated, for error messages. */
const char *sb_codec_names(void);
/* Appends one event's bytes (as encode() made them) to a batch message:
 * a line of JSON lines, or field 1 of an EventBatch. */
void sb_codec_batch_add(const struct sb_codec *c, struct sb_buf *out, const void *body, size_t len);
/* Appends ev framed for a stream. */
void sb_codec_frame(const struct sb_codec *c, struct sb_buf *out, struct sb_codec_ctx *ctx,
		    const struct sb_event *ev);

#endif
