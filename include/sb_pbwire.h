/* Protocol Buffers wire format: what an encoder or decoder of protobuf
 * messages needs, and no more. Encoders write straight into an sb_buf, with
 * no message tree in between (the way the JSON writer works); the reader
 * walks untrusted bytes and never reads past the end it was given.
 *
 * Shared by every protobuf producer (events, Prometheus remote write). */
#ifndef SB_PBWIRE_H
#define SB_PBWIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sb_util.h"

enum sb_pb_wiretype {
	SB_PB_VARINT = 0,
	SB_PB_I64 = 1,
	SB_PB_LEN = 2,
	SB_PB_I32 = 5,
};

#define SB_PB_VARINT_MAX 10

static inline size_t sb_pb_varint_put(unsigned char *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

static inline size_t sb_pb_varint_size(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline uint64_t sb_pb_zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t sb_pb_unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

static inline void sb_pb_varint(struct sb_buf *b, uint64_t v)
{
	if (sb_unlikely(b->cap - b->len < SB_PB_VARINT_MAX) && sb_buf_reserve(b, SB_PB_VARINT_MAX))
		return;
	if (sb_likely(v < 0x80)) {
		b->data[b->len++] = (char)v;
		return;
	}
	b->len += sb_pb_varint_put((unsigned char *)b->data + b->len, v);
}

static inline void sb_pb_key(struct sb_buf *b, uint32_t field, enum sb_pb_wiretype wt)
{
	sb_pb_varint(b, (uint64_t)field << 3 | wt);
}

/* uint64, int64 (negative: 10 bytes), enum and bool fields. */
static inline void sb_pb_uint64(struct sb_buf *b, uint32_t field, uint64_t v)
{
	sb_pb_key(b, field, SB_PB_VARINT);
	sb_pb_varint(b, v);
}

static inline void sb_pb_sint64(struct sb_buf *b, uint32_t field, int64_t v)
{
	sb_pb_uint64(b, field, sb_pb_zigzag(v));
}

static inline void sb_pb_fixed64(struct sb_buf *b, uint32_t field, uint64_t v)
{
	sb_pb_key(b, field, SB_PB_I64);
	if (sb_unlikely(b->cap - b->len < 8) && sb_buf_reserve(b, 8))
		return;
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(b->data + b->len, &v, 8);
	b->len += 8;
}

static inline uint64_t sb_pb_double_bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, 8);
	return u;
}

static inline void sb_pb_double(struct sb_buf *b, uint32_t field, double d)
{
	sb_pb_fixed64(b, field, sb_pb_double_bits(d));
}

/* string and bytes fields. */
static inline void sb_pb_bytes(struct sb_buf *b, uint32_t field, const void *p, size_t n)
{
	sb_pb_key(b, field, SB_PB_LEN);
	sb_pb_varint(b, n);
	sb_buf_add(b, p, n);
}

/* A nested message, whose length is known only once it is written:
 * sb_pb_open writes the key and keeps one byte for the length (most
 * bodies are shorter than 128 bytes); sb_pb_close fills it in, moving the
 * body when its length needs more bytes. Returns where the body starts. */
static inline size_t sb_pb_open(struct sb_buf *b, uint32_t field)
{
	sb_pb_key(b, field, SB_PB_LEN);
	sb_buf_addc(b, 0);
	return b->len;
}
void sb_pb_close(struct sb_buf *b, size_t body);

/* ---- reading ---- */

/* A cursor over one message's bytes. base is the offset of p in the
 * whole input, so errors can say where they are. */
struct sb_pb_rd {
	const unsigned char *p, *end;
	const unsigned char *start;
	size_t base;
	const char *why; /* after an error: what was wrong */
};

struct sb_pb_field {
	uint32_t num;
	enum sb_pb_wiretype wt;
	uint64_t u;		/* VARINT, I64, I32 */
	const unsigned char *p; /* LEN */
	size_t n;
	size_t off;  /* of its key, in the whole input */
	size_t body; /* LEN: of p, in the whole input */
};

static inline void sb_pb_rd_init(struct sb_pb_rd *r, const void *p, size_t n, size_t base)
{
	r->p = r->start = p;
	/* an empty input may come as (NULL, 0), and NULL + 0 is undefined */
	r->end = n ? r->p + n : r->p;
	r->base = base;
	r->why = NULL;
}

static inline size_t sb_pb_rd_off(const struct sb_pb_rd *r)
{
	return r->base + (size_t)(r->p - r->start);
}

/* 0 and the value, or -EBADMSG with r->why set (truncated, or longer than
 * 64 bits) and r->p left at the varint. */
int sb_pb_read_varint(struct sb_pb_rd *r, uint64_t *v);
/* The next field: 1, 0 at the end, or -EBADMSG (r->why says why, and
 * sb_pb_rd_off where). Groups (wire types 3, 4) are refused: nothing
 * uses them, and they are the one way a message nests without a length. */
int sb_pb_read_field(struct sb_pb_rd *r, struct sb_pb_field *f);

static inline double sb_pb_bits_double(uint64_t u)
{
	double d;
	memcpy(&d, &u, 8);
	return d;
}

#endif
