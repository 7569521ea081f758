/* The spool: an on-disk FIFO of opaque records for one writer and one
 * sender (a sink shard), built so a crash or a bad disk block costs at most
 * the records it touched, never the rest.
 *
 * A spool is a directory of append-only segment files
 *   seg-0000000000000001.sbs: "SBSPOOL1" + u64 segno, then records
 * where each record is
 *   u32 magic "SBR1" | u32 len | u32 crc32c(len, payload) | payload[len]
 * (little endian), and a cursor log "cursor" of records whose payload is
 *   u64 segno | u64 offset
 * saying up to where each segment is delivered. Delivery is confirmed per
 * segment in order, so the cursor is the confirmed prefix of that segment;
 * a restart sends exactly the records past the cursors again.
 *
 * Recovery at open: a record that fails its checksum is skipped (the scan
 * resynchronises on the next record that passes) and counted; bytes after
 * the last good record of the newest segment are a torn tail, cut off.
 *
 * All functions are thread-safe: the writer (the bus's shard thread) and the
 * sender share a spool under its mutex. Record bytes below a segment's size
 * never change, so readers pread them without the lock. */
#ifndef SB_SPOOL_H
#define SB_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "sb_util.h"

#define SB_SPOOL_SEG_HDR 16
#define SB_SPOOL_REC_HDR 12
#define SB_SPOOL_MAX_RECORD (64u << 20)
#define SB_SPOOL_REC_MAGIC 0x31524253u /* "SBR1" little endian */
/* The highest segment number recovery takes: it leaves 3 * 2^62 numbers
 * to count on from, which no spool uses up, so the numbers (and readers
 * walking them) never wrap onto older segments. The writer stops, with an
 * error, before a number it could not follow either. */
#define SB_SPOOL_SEGNO_MAX (UINT64_C(1) << 62)

enum sb_spool_full {
	SB_SPOOL_BLOCK,	      /* refuse new records at the bound */
	SB_SPOOL_DROP_OLDEST, /* delete the oldest segment to make room */
};

struct sb_spool_opts {
	const char *dir;	/* created (mode 0750) if missing */
	const char *name;	/* for logs: the sink and shard */
	uint64_t max_bytes;	/* bound on the segment files; 0: none */
	uint64_t segment_bytes; /* a segment is sealed past this size */
	int full;		/* enum sb_spool_full */
	int64_t fsync_interval; /* fdatasync written data at most this late; 0: never on time */
	bool fsync_every_write; /* fdatasync before sb_spool_write returns */
	bool readonly;		/* inspect only: no lock, no cuts, no writes */
	int64_t (*now)(void);	/* monotonic ns; NULL: sb_now_mono_ns */
};

/* What recovery found at open (and what verify reports). */
struct sb_spool_recovery {
	uint64_t segments;
	uint64_t records; /* valid records not yet delivered */
	uint64_t bytes;	  /* of the segment files */
	uint64_t corrupt; /* corrupt records (or runs of bytes) skipped */
	uint64_t corrupt_bytes;
	uint64_t torn_bytes;   /* cut from the newest segment's tail */
	uint64_t bad_segments; /* unreadable header: set aside as *.bad */
	uint64_t skipped;      /* named like segments, but no regular file or a
				* number past SB_SPOOL_SEGNO_MAX: left alone */
};

struct sb_spool;
struct sb_resync;

int sb_spool_open(const struct sb_spool_opts *o, struct sb_spool **out,
		  struct sb_spool_recovery *rec);
/* Syncs what is unsynced and closes. Accepts NULL. */
void sb_spool_close(struct sb_spool *sp);

/* ---- writing ---- */

/* Records framed by the caller's thread, written in one call. */
struct sb_spool_batch {
	struct sb_buf buf;
	size_t n;
};
void sb_spool_batch_init(struct sb_spool_batch *b);
void sb_spool_batch_free(struct sb_spool_batch *b);
void sb_spool_batch_reset(struct sb_spool_batch *b);
/* Frames one record whose payload is the concatenation of iov. */
void sb_spool_batch_add(struct sb_spool_batch *b, const struct iovec *iov, int iovcnt);

struct sb_spool_wres {
	size_t written;	  /* records of the batch now in the spool (a prefix) */
	uint64_t evicted; /* undelivered records deleted by drop_oldest */
	int err;	  /* why not all: -ENOSPC (bound or disk full), -EIO, ... */
};
void sb_spool_write(struct sb_spool *sp, const struct sb_spool_batch *b, struct sb_spool_wres *r);

/* Makes written data and cursors durable if they are not. 0 or -errno. */
int sb_spool_sync(struct sb_spool *sp);
/* Seals the newest segment so records written from now on land in a new
 * one; returns the sealed segment's number (0 if nothing to seal). */
uint64_t sb_spool_seal(struct sb_spool *sp);

/* ---- reading and confirming ---- */

/* A record handed to a reader: payload at rd->buf.data + boff. */
struct sb_spool_rec {
	uint64_t segno;
	uint64_t off, end; /* the record's bytes in its segment */
	size_t boff;
	uint32_t len;
};

struct sb_spool_reader {
	uint64_t segno; /* where the next read starts */
	uint64_t off;
	uint64_t lo, hi; /* segments this reader walks: [lo, hi] */
	int fd;
	uint64_t fd_segno;
	struct sb_buf buf;
	struct sb_resync *rs; /* fd's record search state */
	uint64_t checked;
	uint32_t rec_bytes; /* bytes a record took in the last read: sizes the next */
};
void sb_spool_reader_init(struct sb_spool_reader *rd, uint64_t lo, uint64_t hi);
void sb_spool_reader_free(struct sb_spool_reader *rd);

/* Reads up to max records (about max_bytes) past *rd's position, replacing
 * what rd->buf held. *lost counts records found missing (corrupted since
 * they were written) when a sealed segment ends: no longer pending. */
int sb_spool_read(struct sb_spool *sp, struct sb_spool_reader *rd, struct sb_spool_rec *out,
		  size_t max, size_t max_bytes, size_t *n, uint64_t *lost);
/* k records of segno, from its cursor up to end, are delivered. Returns
 * false if the segment is gone (it was evicted meanwhile). */
bool sb_spool_confirm(struct sb_spool *sp, uint64_t segno, uint64_t end, uint64_t k);
/* What rd handed out and was not confirmed will be read again. */
void sb_spool_rewind(struct sb_spool *sp, struct sb_spool_reader *rd);

/* ---- state, for metrics and the replay logic ---- */

struct sb_spool_state {
	uint64_t bytes;	  /* segment files */
	uint64_t records; /* pending: not yet delivered */
	uint64_t unread;  /* pending and not handed to a reader */
	uint64_t segments;
	uint64_t first_segno, last_segno;
};
void sb_spool_state(struct sb_spool *sp, struct sb_spool_state *st);
/* Unread records in segments [lo, hi]. */
uint64_t sb_spool_unread(struct sb_spool *sp, uint64_t lo, uint64_t hi);
const char *sb_spool_dir(const struct sb_spool *sp);
/* Bytes the spool read from its files since the process started, all
 * spools together: recovery reads a file about once, whatever it holds. */
uint64_t sb_spool_bytes_read(void);

/* ---- offline inspection ---- */

/* Calls fn for every valid record of dir (read-only), in order, with
 * whether it is past its segment's cursor (still pending). */
int sb_spool_scan(const char *dir, struct sb_spool_recovery *rec,
		  void (*fn)(void *arg, uint64_t segno, uint64_t off, const void *p, uint32_t len,
			     bool pending),
		  void *arg);

#endif
