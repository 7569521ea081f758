/* JSON-lines encoding of events, written straight into a reusable buffer.
 * This is on the hot path of every sink that ships JSON. */
#ifndef SB_JSON_H
#define SB_JSON_H

#include "sb_codec.h"
#include "sb_event.h"
#include "sb_util.h"

/* Appends one event as a JSON object followed by '\n'. */
void sb_json_event(struct sb_buf *out, struct sb_codec_ctx *ctx, const struct sb_event *ev);

/* Appends s as a JSON string literal (with quotes). Control characters are
 * escaped; bytes that are not valid UTF-8 become U+FFFD, so the output is
 * always valid JSON whatever a process name or label holds. */
void sb_json_str(struct sb_buf *out, const char *s, size_t n);
/* Length of the valid UTF-8 sequence at p (at most n bytes) that starts
 * with a byte >= 0x80, or 0 when none does. For other text encoders
 * (Prometheus label values) that must replace invalid bytes the same way. */
size_t sb_utf8_len(const unsigned char *p, size_t n);
/* Appends a number; NaN and +-Inf as the strings "NaN", "+Inf", "-Inf". */
void sb_json_num(struct sb_buf *out, double v);

/* Parses one JSON event (a line the json codec wrote, without or with its
 * newline) into an event carrying its origin's seq, run and host, built
 * with b: written again it is the same line. 0 and *out (refs 1), or
 * -EBADMSG/-ENOMEM with err saying what. */
int sb_json_decode_event(struct sb_evb *b, const char *p, size_t n, struct sb_event **out,
			 char *err, size_t errlen);

#endif
