/* A delivery spool record: everything needed to send an event again after
 * a restart, without the event and without anything of a transport's:
 *   u8 version (2) | u8 codec id | u8 len(run) | u8 len(host)
 *   u8 len(source) | u8 len(kind) | u16 0 | u64 seq | i64 time_ns
 *   run | host | source | kind | body (the codec's bytes)
 * little endian. Version 1 records (an earlier release) held the AMQP
 * routing key and message id and a JSON body; they are still read, so an
 * upgrade sends what the spool held. */
#ifndef SB_DELIVERY_RECORD_H
#define SB_DELIVERY_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "sb_delivery.h"

#define SB_REC_HDR 24
#define SB_REC_V1_HDR 20

struct sb_rec_head {
	unsigned char b[SB_REC_HDR];
	struct iovec iov[6]; /* header, run, host, source, kind, body */
};

/* Lays out a record of ev encoded as body by codec c; the strings are
 * cut at 255 bytes. The record is the concatenation of h->iov. */
void sb_rec_head(struct sb_rec_head *h, const struct sb_codec *c, const struct sb_event *ev,
		 const char *run, const char *host, const void *body, size_t len);
/* Fills m's identity, body and codec from a record (version 1 or 2).
 * 0, or -EINVAL for a payload that is no such record (or names a codec
 * this build does not have). */
int sb_rec_parse(const void *p, size_t len, struct sb_dmsg *m);

#endif
