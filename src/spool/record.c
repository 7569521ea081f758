#include "record.h"

#include <errno.h>
#include <string.h>

void sb_spool_msg_header(unsigned char hdr[SB_MSG_HDR], uint64_t seq, int64_t time_ns,
			 size_t rklen, size_t midlen)
{
	hdr[0] = 1;
	hdr[1] = (unsigned char)rklen;
	hdr[2] = (unsigned char)midlen;
	hdr[3] = 0;
	for (int i = 0; i < 8; i++) {
		hdr[4 + i] = (unsigned char)(seq >> (8 * i));
		hdr[12 + i] = (unsigned char)((uint64_t)time_ns >> (8 * i));
	}
}

int sb_spool_msg_parse(const void *p, size_t len, struct sb_spool_msg *m)
{
	const unsigned char *b = p;
	if (len < SB_MSG_HDR || b[0] != 1)
		return -EINVAL;
	size_t rk = b[1], mid = b[2];
	if (len < SB_MSG_HDR + rk + mid)
		return -EINVAL;
	uint64_t seq = 0, t = 0;
	for (int i = 7; i >= 0; i--) {
		seq = seq << 8 | b[4 + i];
		t = t << 8 | b[12 + i];
	}
	m->seq = seq;
	m->time_ns = (int64_t)t;
	m->rk = (const char *)b + SB_MSG_HDR;
	m->rklen = rk;
	m->mid = m->rk + rk;
	m->midlen = mid;
	m->body = m->mid + mid;
	m->len = len - SB_MSG_HDR - rk - mid;
	return 0;
}
