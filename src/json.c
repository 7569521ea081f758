#include "sb_json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* 0: copy as is; 1: needs escaping; 2: start of a multi-byte sequence. */
static const unsigned char char_class[256] = {
    [0x00 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
    [0x80 ... 0xff] = 2,
};

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), or 0 if the byte starts none. */
size_t sb_utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && p[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && p[1] >= 0xa0)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && p[1] < 0x90)
			return 0;
		if (c == 0xf4 && p[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

void sb_json_str(struct sb_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	if (sb_buf_reserve(out, n + 2))
		return;
	out->data[out->len++] = '"';
	size_t run = 0; /* start of the pending run of bytes copied as is */
	size_t i = sb_plain_prefix(p, n);
	while (i < n) {
		unsigned char cls = char_class[p[i]];
		if (sb_likely(cls == 0)) {
			i++;
			continue;
		}
		size_t l = cls == 2 ? sb_utf8_len(p + i, n - i) : 0;
		if (l) {
			i += l;
			continue;
		}
		sb_buf_add(out, s + run, i - run);
		unsigned char c = p[i];
		if (cls == 2) {
			/* the character itself, not its escape: the protobuf
			 * codec writes it so, and a decoded event's JSON must be
			 * the same bytes */
			sb_buf_add(out, "\xef\xbf\xbd", 3);
		} else if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			sb_buf_add(out, e, 2);
		} else if (c == '\n') {
			sb_buf_add(out, "\\n", 2);
		} else if (c == '\t') {
			sb_buf_add(out, "\\t", 2);
		} else if (c == '\r') {
			sb_buf_add(out, "\\r", 2);
		} else {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			sb_buf_add(out, e, 6);
		}
		i++;
		run = i;
	}
	sb_buf_add(out, s + run, n - run);
	sb_buf_addc(out, '"');
}

void sb_json_num(struct sb_buf *out, double v)
{
	char tmp[32];
	size_t n = sb_fmt_double(tmp, v);
	if (sb_unlikely(isnan(v) || isinf(v))) {
		sb_buf_addc(out, '"');
		sb_buf_add(out, tmp, n);
		sb_buf_addc(out, '"');
		return;
	}
	sb_buf_add(out, tmp, n);
}

static inline void lit(struct sb_buf *out, const char *s, size_t n) { sb_buf_add(out, s, n); }
#define LIT(out, s) lit(out, s, sizeof(s) - 1)

static void key(struct sb_buf *out, const char *k)
{
	sb_buf_addc(out, ',');
	sb_json_str(out, k, strlen(k));
	sb_buf_addc(out, ':');
}

/* Names and labels are the event's symbols, whose lengths it knows. */
static inline void sym(struct sb_buf *out, const struct sb_event *ev, uint32_t i)
{
	sb_json_str(out, ev->syms[i].s, ev->syms[i].len);
}

static void labels(struct sb_buf *out, const struct sb_event *ev, const struct sb_sample *s)
{
	LIT(out, ",\"labels\":{");
	for (uint16_t i = 0; i < s->nlabels; i++) {
		if (i)
			sb_buf_addc(out, ',');
		sym(out, ev, s->labels[i].name_sym);
		sb_buf_addc(out, ':');
		sym(out, ev, s->labels[i].value_sym);
	}
	sb_buf_addc(out, '}');
}

static void buckets(struct sb_buf *out, const struct sb_sample *s)
{
	int summary = s->type == SB_SUMMARY;
	if (summary)
		LIT(out, ",\"quantiles\":[");
	else
		LIT(out, ",\"buckets\":[");
	for (uint32_t i = 0; i < s->nbuckets; i++) {
		char tmp[32];
		size_t n = sb_fmt_double(tmp, s->buckets[i].le);
		if (i)
			sb_buf_addc(out, ',');
		if (summary)
			LIT(out, "{\"quantile\":\"");
		else
			LIT(out, "{\"le\":\"");
		sb_buf_add(out, tmp, n);
		if (summary)
			LIT(out, "\",\"value\":");
		else
			LIT(out, "\",\"count\":");
		sb_json_num(out, s->buckets[i].count);
		sb_buf_addc(out, '}');
	}
	LIT(out, "],\"sum\":");
	sb_json_num(out, s->sum);
	LIT(out, ",\"count\":");
	sb_json_num(out, s->count);
}

static void sample(struct sb_buf *out, const struct sb_event *ev, const struct sb_sample *s)
{
	LIT(out, "{\"name\":");
	sym(out, ev, s->name_sym);
	if (s->nlabels)
		labels(out, ev, s);
	if (s->type == SB_HISTOGRAM || s->type == SB_SUMMARY) {
		LIT(out, ",\"type\":\"");
		sb_buf_adds(out, sb_mtype_name(s->type));
		sb_buf_addc(out, '"');
		buckets(out, s);
	} else {
		if (s->type != SB_UNTYPED) {
			LIT(out, ",\"type\":\"");
			sb_buf_adds(out, sb_mtype_name(s->type));
			sb_buf_addc(out, '"');
		}
		LIT(out, ",\"value\":");
		sb_json_num(out, s->value);
	}
	sb_buf_addc(out, '}');
}

void sb_json_event(struct sb_buf *out, struct sb_codec_ctx *ctx, const struct sb_event *ev)
{
	char num[32];
	char ts[32];
	LIT(out, "{\"seq\":");
	sb_buf_add(out, num, sb_fmt_u64(num, sb_event_seq(ev)));
	/* Escaped like host: another agent's run (a fleet consumer's event)
	 * is whatever its message said (found by fuzz_amqpmsg). */
	LIT(out, ",\"run\":");
	const char *run = sb_event_run(ev, ctx->run);
	sb_json_str(out, run, strlen(run));
	LIT(out, ",\"time\":\"");
	sb_buf_add(out, ts, sb_fmt_rfc3339(&ctx->tcache, ts, ev->time_ns));
	LIT(out, "\",\"host\":");
	const char *host = sb_event_host(ev, ctx->host);
	sb_json_str(out, host, strlen(host));
	LIT(out, ",\"source\":");
	sb_json_str(out, ev->source, strlen(ev->source));
	LIT(out, ",\"kind\":");
	sb_json_str(out, ev->kind, strlen(ev->kind));
	for (uint32_t i = 0; i < ev->nfields; i++) {
		const struct sb_field *f = &ev->fields[i];
		key(out, f->key);
		switch (f->type) {
		case SB_F_INT:
			sb_buf_add(out, num, sb_fmt_i64(num, f->v.i));
			break;
		case SB_F_UINT:
			sb_buf_add(out, num, sb_fmt_u64(num, f->v.u));
			break;
		case SB_F_DOUBLE:
			sb_json_num(out, f->v.d);
			break;
		case SB_F_STR:
			sb_json_str(out, f->v.s, f->len);
			break;
		}
	}
	if (ev->nsamples) {
		LIT(out, ",\"samples\":[");
		for (uint32_t i = 0; i < ev->nsamples; i++) {
			if (i)
				sb_buf_addc(out, ',');
			sample(out, ev, &ev->samples[i]);
		}
		sb_buf_addc(out, ']');
	}
	LIT(out, "}\n");
}
