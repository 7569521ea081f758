/* What a delivering sink keeps in one spool record: everything needed to
 * send the message again after a restart, without the event.
 *   u8 version (1) | u8 routing key length | u8 message id length | u8 0
 *   u64 seq | i64 time_ns | routing key | message id | body
 * (little endian). The body is the event's JSON, without the newline. */
#ifndef SB_SPOOL_RECORD_H
#define SB_SPOOL_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define SB_MSG_HDR 20

struct sb_spool_msg {
	uint64_t seq;
	int64_t time_ns;
	const char *rk, *mid;
	size_t rklen, midlen;
	const void *body;
	size_t len;
};

/* Fills hdr (SB_MSG_HDR bytes) for a record whose payload is hdr, rk, mid,
 * body in that order. rklen and midlen must be at most 255. */
void sb_spool_msg_header(unsigned char hdr[SB_MSG_HDR], uint64_t seq, int64_t time_ns,
			 size_t rklen, size_t midlen);
/* 0, or -EINVAL for a payload that is not such a record. */
int sb_spool_msg_parse(const void *p, size_t len, struct sb_spool_msg *m);

#endif
