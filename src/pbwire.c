#include "sb_pbwire.h"

#include <errno.h>

void sb_pb_close(struct sb_buf *b, size_t body)
{
	if (b->err)
		return;
	size_t n = b->len - body;
	if (sb_likely(n < 0x80)) {
		b->data[body - 1] = (char)n;
		return;
	}
	size_t h = sb_pb_varint_size(n);
	if (sb_buf_reserve(b, h - 1))
		return;
	memmove(b->data + body - 1 + h, b->data + body, n);
	sb_pb_varint_put((unsigned char *)b->data + body - 1, n);
	b->len += h - 1;
}

int sb_pb_read_varint(struct sb_pb_rd *r, uint64_t *v)
{
	uint64_t x = 0;
	const unsigned char *p = r->p;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (p == r->end) {
			r->why = "truncated varint";
			return -EBADMSG;
		}
		unsigned char c = *p++;
		if (shift == 63 && c > 1) {
			r->why = "varint longer than 64 bits";
			return -EBADMSG;
		}
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			r->p = p;
			*v = x;
			return 0;
		}
	}
	r->why = "varint longer than 64 bits";
	return -EBADMSG;
}

static int fixed(struct sb_pb_rd *r, size_t n, uint64_t *v)
{
	if ((size_t)(r->end - r->p) < n) {
		r->why = "truncated fixed-width value";
		return -EBADMSG;
	}
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++)
		x |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	*v = x;
	return 0;
}

int sb_pb_read_field(struct sb_pb_rd *r, struct sb_pb_field *f)
{
	if (r->p == r->end)
		return 0;
	f->off = sb_pb_rd_off(r);
	uint64_t key;
	int e = sb_pb_read_varint(r, &key);
	if (e)
		return e;
	if (key >> 3 == 0 || key >> 3 > 0x1fffffff) {
		r->why = "field number out of range";
		return -EBADMSG;
	}
	f->num = (uint32_t)(key >> 3);
	f->wt = (enum sb_pb_wiretype)(key & 7);
	f->p = NULL;
	f->n = 0;
	f->body = 0;
	f->u = 0;
	switch (f->wt) {
	case SB_PB_VARINT:
		return sb_pb_read_varint(r, &f->u) ? -EBADMSG : 1;
	case SB_PB_I64:
		return fixed(r, 8, &f->u) ? -EBADMSG : 1;
	case SB_PB_I32:
		return fixed(r, 4, &f->u) ? -EBADMSG : 1;
	case SB_PB_LEN: {
		uint64_t n;
		if (sb_pb_read_varint(r, &n))
			return -EBADMSG;
		if (n > (uint64_t)(r->end - r->p)) {
			r->why = "length past the end of the message";
			return -EBADMSG;
		}
		f->p = r->p;
		f->n = (size_t)n;
		f->body = sb_pb_rd_off(r);
		r->p += n;
		return 1;
	}
	default:
		r->why = "wire type not supported (groups or invalid)";
		return -EBADMSG;
	}
}
