/* The spool's state and helpers shared by its files: spool.c (open,
 * recovery, sync, close, state), format.c (records and segment files),
 * cursor.c (the cursor log), write.c, read.c and scan.c (offline). */
#ifndef SB_SPOOL_INTERNAL_H
#define SB_SPOOL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sb_log.h"
#include "sb_util.h"
#include "spool.h"

#define COMP "spool"
#define SEG_MAGIC "SBSPOOL1"
#define REC_MAGIC SB_SPOOL_REC_MAGIC
#define CURSOR_FILE "cursor"
#define CURSOR_COMPACT_BYTES (1u << 20)
#define CHUNK (256u << 10)

struct seg {
	uint64_t segno;
	uint64_t size;	  /* bytes of whole records; what readers may read */
	uint64_t cursor;  /* delivered up to here (>= SEG_HDR) */
	uint64_t pending; /* valid records past the cursor */
	uint64_t unread;  /* of those, not handed to a reader */
	bool sealed;
};

struct sb_spool {
	struct sb_spool_opts o;
	char *dir;
	char *name;
	pthread_mutex_t mu;
	struct seg *segs; /* by segno; the last one takes writes unless sealed */
	size_t nsegs, capsegs;
	int wfd; /* the last segment's, or -1 */
	int cfd; /* cursor log */
	int dfd; /* the directory, for fsync after create/rename/unlink */
	int lockfd;
	uint64_t cursor_log_bytes;
	uint64_t bytes, records, unread;
	uint64_t next_segno;
	bool data_dirty, cursor_dirty, dir_dirty;
	int64_t last_sync;
	struct sb_ratelimit rl;
};

/* ---- little endian ---- */

static inline void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* ---- records and segment files (format.c) ---- */

enum { REC_BAD = -1, REC_SHORT = 0, REC_OK = 1 };

uint32_t sp_rec_crc(const unsigned char *lenp, const void *payload, uint32_t len);
int sp_check_rec(const unsigned char *p, size_t avail, uint64_t room_in_file, uint32_t *len,
		 size_t *need);
int sp_write_full(int fd, const void *buf, size_t n);
bool sp_precheck_fails(struct sb_resync *rs, const unsigned char *p, size_t avail, uint64_t off,
		       uint64_t size, uint64_t *checked);
/* Walks records of one segment file from off to size, calling fn on each
 * valid one; counts corrupt runs. Returns where trailing bytes that hold
 * no valid record start (size if none). */
struct walk {
	uint64_t records, corrupt, corrupt_bytes;
	uint64_t tail; /* start of trailing garbage, or size */
};
int sp_walk_seg(int fd, uint64_t off, uint64_t size, struct walk *w,
		void (*fn)(void *arg, uint64_t off, const void *p, uint32_t len), void *arg);
const char *sp_file_kind(mode_t m);
int sp_list_segments(const char *dir, const char *name, uint64_t **out, size_t *n,
		     uint64_t *skipped, uint64_t *taken);
bool sp_header_ok(int fd, uint64_t segno);

/* ---- segment bookkeeping, under mu (spool.c) ---- */

void sp_seg_path(const struct sb_spool *sp, uint64_t segno, char *out, size_t n);
struct seg *sp_active(struct sb_spool *sp);
void sp_remove_seg(struct sb_spool *sp, struct seg *g);
int sp_push_seg(struct sb_spool *sp, const struct seg *g);
bool sp_sync_allowed(const struct sb_spool *sp);
int64_t sp_now_ns(const struct sb_spool *sp);
void sp_seal_active(struct sb_spool *sp);
int sp_sync_locked(struct sb_spool *sp);

/* ---- cursor log (cursor.c) ---- */

struct cursor_map {
	uint64_t *segno, *off;
	size_t n, cap;
};

int sp_append_cursor(struct sb_spool *sp, uint64_t segno, uint64_t off);
int sp_open_cursor_log(struct sb_spool *sp, bool truncate);
int sp_compact_cursors(struct sb_spool *sp);
uint64_t sp_cursor_of(const struct cursor_map *m, uint64_t segno);
int sp_read_cursors(const char *dir, const char *name, bool readonly, struct cursor_map *m);

#endif
