/* The protobuf codec: events as sensorbus.v1.Event messages
 * (proto/sensorbus/v1/events.proto), encoded straight from the in-memory
 * event into the caller's buffer; pbevent_dec.c decodes them back.
 *
 * Round trip: decoding what the encoder wrote and running the JSON writer
 * gives the bytes the JSON writer gives for the original event (whose
 * labels are sorted by name, the schema's order, from the moment it is
 * built). The top-level fields are where that takes care: the decoder writes them back as target,
 * then the process record's fields in the record's order, then the rest, so the encoder only uses
 * `target` and a record when the event's fields stand in exactly that order. */
#include "sb_pbevent.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "pbevent_schema.h"
#include "sb_json.h"
#include "sb_pbwire.h"

const struct sb_pb_rec sb_pb_recs[SB_PB_NRECS] = {
    {"exec",
     EV_EXEC,
     5,
     {{"pid", SB_F_INT},
      {"ppid", SB_F_INT},
      {"uid", SB_F_UINT},
      {"comm", SB_F_STR},
      {"filename", SB_F_STR}}},
    {"exit",
     EV_EXIT,
     7,
     {{"pid", SB_F_INT},
      {"ppid", SB_F_INT},
      {"comm", SB_F_STR},
      {"exit_code", SB_F_INT},
      {"signal", SB_F_INT},
      {"duration_seconds", SB_F_DOUBLE},
      {"cpu_seconds", SB_F_DOUBLE}}},
    {"fork", EV_FORK, 3, {{"pid", SB_F_INT}, {"ppid", SB_F_INT}, {"comm", SB_F_STR}}},
};

static bool is_ascii(const char *s, size_t n)
{
	uint64_t acc = 0, w;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		acc |= w;
	}
	for (; i < n; i++)
		acc |= (unsigned char)s[i];
	return !(acc & 0x8080808080808080ull);
}

/* proto3 strings are UTF-8, and readers (Python's) refuse anything else:
 * a byte that starts no valid sequence becomes U+FFFD, as in the JSON. */
static void str_always(struct sb_buf *out, uint32_t num, const char *s, size_t n)
{
	if (sb_likely(is_ascii(s, n))) {
		sb_pb_bytes(out, num, s, n);
		return;
	}
	const unsigned char *p = (const unsigned char *)s;
	size_t m = 0;
	for (size_t i = 0; i < n;) {
		size_t l = p[i] < 0x80 ? 1 : sb_utf8_len(p + i, n - i);
		m += l ? l : 3;
		i += l ? l : 1;
	}
	if (m == n) {
		sb_pb_bytes(out, num, s, n);
		return;
	}
	sb_pb_key(out, num, SB_PB_LEN);
	sb_pb_varint(out, m);
	for (size_t i = 0; i < n;) {
		size_t l = p[i] < 0x80 ? 1 : sb_utf8_len(p + i, n - i);
		if (l) {
			sb_buf_add(out, s + i, l);
			i += l;
		} else {
			sb_buf_add(out, "\xef\xbf\xbd", 3);
			i++;
		}
	}
}

/* Every field number here is below 16: a key is one byte. */
static inline void str(struct sb_buf *out, uint32_t num, const char *s, size_t n)
{
	if (!n)
		return;
	if (sb_unlikely(!is_ascii(s, n))) {
		str_always(out, num, s, n);
		return;
	}
	if (sb_unlikely(out->cap - out->len < n + 11) && sb_buf_reserve(out, n + 11))
		return;
	unsigned char *p = (unsigned char *)out->data + out->len;
	*p++ = (unsigned char)(num << 3 | SB_PB_LEN);
	p += sb_pb_varint_put(p, n);
	memcpy(p, s, n);
	out->len = (size_t)(p + n - (unsigned char *)out->data);
}

static inline void dbl(struct sb_buf *out, uint32_t num, double d)
{
	if (sb_pb_double_bits(d))
		sb_pb_double(out, num, d);
}

/* A count is a double in memory; integers (all sensorbus makes) go as
 * uint64, anything else a scrape brought in (-0, 1.5, NaN) as a double. */
static void count(struct sb_buf *out, uint32_t num_int, uint32_t num_float, double c)
{
	if (c >= 0 && c < 18446744073709551616.0 && (double)(uint64_t)c == c && !signbit(c)) {
		if (c != 0)
			sb_pb_uint64(out, num_int, (uint64_t)c);
	} else {
		sb_pb_double(out, num_float, c);
	}
}

static inline unsigned char *varint(unsigned char *p, uint64_t v)
{
	if (sb_likely(v < 0x80)) {
		*p = (unsigned char)v;
		return p + 1;
	}
	return p + sb_pb_varint_put(p, v);
}

/* The event's symbol table: every sample name and label string, once
 * (the builder made it); samples refer to them by index. */
static void symbols(struct sb_buf *out, const struct sb_event *ev)
{
	for (uint32_t i = 0; i < ev->nsyms; i++) {
		const struct sb_sym *y = &ev->syms[i];
		if (sb_unlikely(!y->utf8)) {
			str_always(out, EV_SYMBOLS, y->s, y->len);
			continue;
		}
		if (sb_unlikely(out->cap - out->len < (size_t)y->len + 6) &&
		    sb_buf_reserve(out, (size_t)y->len + 6))
			return;
		unsigned char *p = (unsigned char *)out->data + out->len;
		*p++ = EV_SYMBOLS << 3 | SB_PB_LEN;
		p = varint(p, y->len);
		if (y->len <= 16) /* most are: not worth a call */
			for (uint32_t k = 0; k < y->len; k++)
				p[k] = (unsigned char)y->s[k];
		else
			memcpy(p, y->s, y->len);
		out->len = (size_t)(p + y->len - (unsigned char *)out->data);
	}
}

/* An integral value as a zigzag varint when that is shorter than a double
 * (up to 7 bytes: |v| < 2^48), which it is for most counters and gauges
 * (bytes, counts); anything else, -0 and NaN included, as the double. 0 is
 * neither: a proto3 default. */
static inline unsigned char *value(unsigned char *p, double v)
{
	if (v > -281474976710656.0 && v < 281474976710656.0) {
		int64_t i = (int64_t)v;
		if ((double)i == v && i) {
			*p++ = S_INT_VALUE << 3 | SB_PB_VARINT;
			return varint(p, sb_pb_zigzag(i));
		}
	}
	uint64_t u = sb_pb_double_bits(v);
	if (!u)
		return p;
	*p++ = S_VALUE << 3 | SB_PB_I64;
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	u = __builtin_bswap64(u);
#endif
	memcpy(p, &u, 8);
	return p + 8;
}

static void buckets(struct sb_buf *out, const struct sb_sample *s)
{
	bool h = s->type == SB_HISTOGRAM;
	for (uint32_t i = 0; i < s->nbuckets; i++) {
		const struct sb_bucket *b = &s->buckets[i];
		size_t bat = sb_pb_open(out, h ? S_BUCKETS : S_QUANTILES);
		dbl(out, h ? B_LE : Q_QUANTILE, b->le);
		if (h)
			count(out, B_COUNT, B_COUNT_FLOAT, b->count);
		else
			dbl(out, Q_VALUE, b->count);
		sb_pb_close(out, bat);
	}
	dbl(out, S_SUM, s->sum);
	count(out, S_COUNT, S_COUNT_FLOAT, s->count);
}

/* A sample is mostly small integers (symbol indices, its type) and a
 * number: written straight into room reserved once, its length in one
 * byte where it fits (nearly always), fixed up otherwise. */
static void sample(struct sb_buf *out, const struct sb_sample *s)
{
	size_t nl = s->nlabels;
	/* key and length, name_ref, label_refs' key and length, the refs,
	 * type, value */
	size_t room = 2 + 6 + 4 + nl * 10 + 2 + 9;
	if (sb_unlikely(out->cap - out->len < room) && sb_buf_reserve(out, room))
		return;
	unsigned char *p = (unsigned char *)out->data + out->len;
	p[0] = EV_SAMPLES << 3 | SB_PB_LEN;
	unsigned char *body = p + 2, *q = body;
	*q++ = S_NAME_REF << 3 | SB_PB_VARINT;
	q = varint(q, s->name_sym);
	if (nl) {
		/* sorted by name, as the schema says: every event's are
		 * (sb_evb_finish) */
		*q++ = S_LABEL_REFS << 3 | SB_PB_LEN;
		size_t n = 0;
		if (sb_likely(nl <= 12)) { /* at most 120 bytes: a one-byte length */
			unsigned char *lp = q++;
			for (size_t i = 0; i < nl; i++) {
				q = varint(q, s->labels[i].name_sym);
				q = varint(q, s->labels[i].value_sym);
			}
			*lp = (unsigned char)(q - lp - 1);
		} else {
			for (size_t i = 0; i < nl; i++)
				n += sb_pb_varint_size(s->labels[i].name_sym) +
				     sb_pb_varint_size(s->labels[i].value_sym);
			q = varint(q, n);
			for (size_t i = 0; i < nl; i++) {
				q = varint(q, s->labels[i].name_sym);
				q = varint(q, s->labels[i].value_sym);
			}
		}
	}
	if (s->type) {
		*q++ = S_TYPE << 3 | SB_PB_VARINT;
		*q++ = (unsigned char)s->type;
	}
	size_t at = (size_t)(body - (unsigned char *)out->data);
	if (s->type == SB_HISTOGRAM || s->type == SB_SUMMARY) {
		out->len = (size_t)(q - (unsigned char *)out->data);
		buckets(out, s);
		sb_pb_close(out, at);
		return;
	}
	q = value(q, s->value);
	out->len = (size_t)(q - (unsigned char *)out->data);
	if (sb_likely(q - body < 0x80))
		p[1] = (unsigned char)(q - body);
	else
		sb_pb_close(out, at);
}

static void rec_value(struct sb_buf *out, uint32_t num, const struct sb_field *f)
{
	switch (f->type) {
	case SB_F_INT:
		if (f->v.i)
			sb_pb_uint64(out, num, (uint64_t)f->v.i);
		break;
	case SB_F_UINT:
		if (f->v.u)
			sb_pb_uint64(out, num, f->v.u);
		break;
	case SB_F_DOUBLE:
		dbl(out, num, f->v.d);
		break;
	case SB_F_STR:
		str(out, num, f->v.s, f->len);
		break;
	}
}

/* The record fields[from..] are exactly, or NULL. */
static const struct sb_pb_rec *match_rec(const struct sb_event *ev, uint32_t from)
{
	for (size_t r = 0; r < SB_PB_NRECS; r++) {
		const struct sb_pb_rec *rc = &sb_pb_recs[r];
		if (strcmp(ev->kind, rc->kind) || ev->nfields - from != rc->n)
			continue;
		for (unsigned i = 0; i < rc->n; i++) {
			const struct sb_field *f = &ev->fields[from + i];
			if (f->type != rc->f[i].type || strcmp(f->key, rc->f[i].key))
				return NULL;
		}
		return rc;
	}
	return NULL;
}

static void field(struct sb_buf *out, const struct sb_field *f)
{
	size_t at = sb_pb_open(out, EV_FIELDS);
	str(out, F_KEY, f->key, strlen(f->key));
	switch (f->type) {
	case SB_F_INT:
		sb_pb_sint64(out, F_INT, f->v.i);
		break;
	case SB_F_UINT:
		sb_pb_uint64(out, F_UINT, f->v.u);
		break;
	case SB_F_DOUBLE:
		sb_pb_double(out, F_DOUBLE, f->v.d);
		break;
	case SB_F_STR:
		str_always(out, F_STR, f->v.s, f->len);
		break;
	}
	sb_pb_close(out, at);
}

void sb_pb_event(struct sb_buf *out, struct sb_codec_ctx *ctx, const struct sb_event *ev)
{
	uint64_t seq = sb_event_seq(ev);
	const char *run = sb_event_run(ev, ctx->run), *host = sb_event_host(ev, ctx->host);
	if (seq)
		sb_pb_uint64(out, EV_SEQ, seq);
	str(out, EV_RUN, run, strlen(run));
	if (ev->time_ns)
		sb_pb_fixed64(out, EV_TIME, (uint64_t)ev->time_ns);
	str(out, EV_HOST, host, strlen(host));
	str(out, EV_SOURCE, ev->source, strlen(ev->source));
	str(out, EV_KIND, ev->kind, strlen(ev->kind));
	uint32_t fi = 0;
	if (ev->nfields && ev->fields[0].type == SB_F_STR && ev->fields[0].len &&
	    !strcmp(ev->fields[0].key, "target")) {
		str(out, EV_TARGET, ev->fields[0].v.s, ev->fields[0].len);
		fi = 1;
	}
	if (ev->nsamples)
		symbols(out, ev);
	for (uint32_t i = 0; i < ev->nsamples; i++)
		sample(out, &ev->samples[i]);
	const struct sb_pb_rec *rc = fi < ev->nfields ? match_rec(ev, fi) : NULL;
	if (rc) {
		size_t at = sb_pb_open(out, rc->num);
		for (unsigned i = 0; i < rc->n; i++)
			rec_value(out, i + 1, &ev->fields[fi + i]);
		sb_pb_close(out, at);
		fi = ev->nfields;
	}
	for (; fi < ev->nfields; fi++)
		field(out, &ev->fields[fi]);
}
