/* The codec table. JSON is the events' format of record (DESIGN.md);
 * binary codecs join it as rows. */
#include "sb_codec.h"

#include <stdio.h>
#include <string.h>

#include "sb_json.h"
#include "sb_pbevent.h"
#include "sb_pbwire.h"

static void json_encode(struct sb_buf *out, struct sb_codec_ctx *ctx, const struct sb_event *ev)
{
	sb_json_event(out, ctx, ev);
	if (!out->err)
		out->len--; /* the writer ends each event with a newline */
}

static const struct sb_codec codecs[] = {
    {"json", 1, "application/json", SB_FRAME_NEWLINE, json_encode, NULL, "application/x-ndjson",
     NULL},
    {"protobuf", 2, "application/x-protobuf", SB_FRAME_VARINT, sb_pb_event, "sensorbus.v1.Event",
     "application/x-protobuf", "sensorbus.v1.EventBatch"},
};

const struct sb_codec *sb_codec_find(const char *name)
{
	for (size_t i = 0; i < SB_ARRAY_SIZE(codecs); i++)
		if (!strcmp(codecs[i].name, name))
			return &codecs[i];
	return NULL;
}

const struct sb_codec *sb_codec_by_id(uint8_t id)
{
	for (size_t i = 0; i < SB_ARRAY_SIZE(codecs); i++)
		if (codecs[i].id == id)
			return &codecs[i];
	return NULL;
}

const char *sb_codec_names(void)
{
	static char names[128];
	if (!names[0])
		for (size_t i = 0; i < SB_ARRAY_SIZE(codecs); i++) {
			size_t l = strlen(names);
			snprintf(names + l, sizeof(names) - l, "%s%s", i ? ", " : "",
				 codecs[i].name);
		}
	return names;
}

void sb_codec_batch_add(const struct sb_codec *c, struct sb_buf *out, const void *body, size_t len)
{
	if (c->framing == SB_FRAME_NEWLINE) {
		sb_buf_add(out, body, len);
		sb_buf_addc(out, '\n');
		return;
	}
	/* EventBatch { repeated Event events = 1; }: tag 1, length-delimited */
	sb_pb_key(out, 1, SB_PB_LEN);
	sb_pb_varint(out, len);
	sb_buf_add(out, body, len);
}

void sb_codec_frame(const struct sb_codec *c, struct sb_buf *out, struct sb_codec_ctx *ctx,
		    const struct sb_event *ev)
{
	if (c->framing == SB_FRAME_NEWLINE) {
		c->encode(out, ctx, ev);
		sb_buf_addc(out, '\n');
		return;
	}
	/* The length goes first: encode after a gap of two bytes, the varint
	 * of any body from 128 bytes to 16 KiB (most events), then move the
	 * body only when its length needs another size. */
	size_t at = out->len;
	sb_buf_add(out, "\0\0", 2);
	c->encode(out, ctx, ev);
	if (out->err)
		return;
	size_t body = out->len - at - 2;
	unsigned char hdr[10];
	size_t h = sb_pb_varint_put(hdr, body);
	if (h != 2) {
		if (h > 2 && sb_buf_reserve(out, h - 2))
			return;
		memmove(out->data + at + h, out->data + at + 2, body);
	}
	memcpy(out->data + at, hdr, h);
	out->len = at + h + body;
}
