/* Events as protobuf messages (proto/sensorbus/v1/events.proto): the
 * `protobuf` codec's encoder, and a decoder for the consuming side and
 * tools (`sensorbus decode`). */
#ifndef SB_PBEVENT_H
#define SB_PBEVENT_H

#include <stddef.h>
#include <stdint.h>

#include "sb_codec.h"
#include "sb_event.h"
#include "sb_util.h"

/* Appends ev as one sensorbus.v1.Event message, without framing. */
void sb_pb_event(struct sb_buf *out, struct sb_codec_ctx *ctx, const struct sb_event *ev);

/* Bounds on what one message may make the decoder build: the input is
 * untrusted, and a few bytes per sample must not become gigabytes. */
#define SB_PBDEC_MAX_MESSAGE (16u << 20)
/* samples + labels + buckets + fields + symbols of one event (~70 MB built
 * at most) */
#define SB_PBDEC_MAX_ITEMS (1u << 21)
#define SB_PBDEC_MAX_LABELS 65535u /* per sample: what an sb_sample holds */

struct sb_pbdec_sym {
	const unsigned char *p;
	size_t n;
};

/* A decoder: reuse it for every message of a stream. */
struct sb_pbdec {
	struct sb_evb evb;
	struct sb_buf run, host;   /* of the last event, NUL-terminated */
	struct sb_buf scratch;	   /* NUL-terminated copies of keys */
	struct sb_pbdec_sym *syms; /* the message's symbols, into its bytes */
	size_t nsyms, capsyms;
	char err[200]; /* after an error: what and at which byte */
};

void sb_pbdec_init(struct sb_pbdec *d);
void sb_pbdec_free(struct sb_pbdec *d);

/* Decodes one Event message of n bytes; base is its offset in the input,
 * for error messages. 0 and *out (refs 1; the event's run and host are in
 * d->run and d->host until the next call), or -EBADMSG/-E2BIG/-ENOMEM with
 * d->err saying what and where. */
int sb_pbdec_event(struct sb_pbdec *d, const void *p, size_t n, size_t base, struct sb_event **out);

/* The next varint-delimited message in buf[*pos, len): 1 with its body in
 * [*msg, *msg + *mlen) and *pos past it; 0 when buf ends exactly at *pos;
 * -EAGAIN when the message is not all there yet (need more input);
 * -EBADMSG/-E2BIG with d->err set. */
int sb_pbdec_next(struct sb_pbdec *d, const void *buf, size_t len, size_t base, size_t *pos,
		  const unsigned char **msg, size_t *mlen);

#endif
