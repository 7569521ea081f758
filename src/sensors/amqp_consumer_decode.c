/* What a message holds: events in the encoding its content type names,
 * one or a batch (see amqp_consumer.h). A message decodes whole or not at
 * all, so a poison message is rejected without half of it on the bus. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amqp_consumer.h"
#include "sb_json.h"
#include "sb_pbwire.h"

void sb_msgdec_init(struct sb_msgdec *d)
{
	memset(d, 0, sizeof(*d));
	sb_pbdec_init(&d->pb);
	sb_evb_init(&d->evb);
}

void sb_msgdec_free(struct sb_msgdec *d)
{
	if (!d)
		return;
	sb_pbdec_free(&d->pb);
	sb_evb_free(&d->evb);
}

/* Decoded events, held until the whole message decoded. */
struct held {
	struct sb_event **v;
	size_t n, cap;
};

static int hold(struct held *h, struct sb_event *ev)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 64;
		struct sb_event **v = realloc(h->v, cap * sizeof(*v));
		if (!v) {
			sb_event_unref(ev);
			return -ENOMEM;
		}
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n++] = ev;
	return 0;
}

static int json_one(struct sb_msgdec *d, struct held *h, const char *p, size_t n, size_t at)
{
	struct sb_event *ev;
	char why[200];
	int r = sb_json_decode_event(&d->evb, p, n, &ev, why, sizeof(why));
	if (r) {
		snprintf(d->err, sizeof(d->err), "byte %zu: %s", at, why);
		return r;
	}
	return hold(h, ev);
}

static int json_lines(struct sb_msgdec *d, struct held *h, const char *p, size_t n)
{
	for (size_t at = 0; at < n;) {
		const char *nl = memchr(p + at, '\n', n - at);
		size_t len = nl ? (size_t)(nl - (p + at)) : n - at;
		if (len) {
			int r = json_one(d, h, p + at, len, at);
			if (r)
				return r;
		}
		at += len + 1;
	}
	return 0;
}

static int pb_one(struct sb_msgdec *d, struct held *h, const unsigned char *p, size_t n,
		  size_t base)
{
	struct sb_event *ev;
	int r = sb_pbdec_event(&d->pb, p, n, base, &ev);
	if (r) {
		snprintf(d->err, sizeof(d->err), "%s", d->pb.err);
		return r;
	}
	/* Held to what a JSON message must say: an event passed on without
	 * its origin would be written as this consumer's own, and one
	 * numbered 0 or past 2^53 could not be read back from the JSON line
	 * a sink writes for it (found by fuzz_amqpmsg). */
	if (!ev->orun || !ev->ohost || ev->oseq < 1 || ev->oseq >= (UINT64_C(1) << 53)) {
		snprintf(d->err, sizeof(d->err),
			 "byte %zu: Event: no run and host, or seq %" PRIu64
			 " not a whole number from 1 to 2^53",
			 base, ev->oseq);
		sb_event_unref(ev);
		return -EBADMSG;
	}
	return hold(h, ev);
}

static int pb_batch(struct sb_msgdec *d, struct held *h, const unsigned char *p, size_t n)
{
	struct sb_pb_rd rd;
	struct sb_pb_field f;
	int e;
	sb_pb_rd_init(&rd, p, n, 0);
	while ((e = sb_pb_read_field(&rd, &f)) > 0) {
		if (f.num != 1 || f.wt != SB_PB_LEN) {
			snprintf(d->err, sizeof(d->err),
				 "byte %zu: EventBatch: field %u is unknown", f.off,
				 (unsigned)f.num);
			return -EBADMSG;
		}
		int r = pb_one(d, h, f.p, f.n, (size_t)(f.p - p));
		if (r)
			return r;
	}
	if (e < 0) {
		snprintf(d->err, sizeof(d->err), "byte %zu: EventBatch: %s", f.off, rd.why);
		return -EBADMSG;
	}
	return 0;
}

int sb_msgdec_decode(struct sb_msgdec *d, const char *content_type, const char *type,
		     const void *body, size_t len, void (*fn)(void *arg, struct sb_event *ev),
		     void *arg)
{
	struct held h = {0};
	int r = -EBADMSG;
	d->err[0] = 0;
	if (!content_type)
		content_type = "";
	if (!type)
		type = "";
	if (!strcmp(content_type, "application/json"))
		r = json_one(d, &h, body, len, 0);
	else if (!strcmp(content_type, "application/x-ndjson"))
		r = json_lines(d, &h, body, len);
	else if (!strcmp(content_type, "application/x-protobuf") &&
		 !strcmp(type, "sensorbus.v1.Event"))
		r = pb_one(d, &h, body, len, 0);
	else if (!strcmp(content_type, "application/x-protobuf") &&
		 !strcmp(type, "sensorbus.v1.EventBatch"))
		r = pb_batch(d, &h, body, len);
	else
		snprintf(d->err, sizeof(d->err),
			 "content type \"%.60s\" (type \"%.60s\") is none of application/json, "
			 "application/x-ndjson, application/x-protobuf (sensorbus.v1.Event or "
			 "EventBatch)",
			 content_type, type);
	if (!r && !h.n) {
		snprintf(d->err, sizeof(d->err), "no event in the message");
		r = -EBADMSG;
	}
	for (size_t i = 0; i < h.n; i++) {
		if (r)
			sb_event_unref(h.v[i]);
		else
			fn(arg, h.v[i]);
	}
	free(h.v);
	return r;
}
