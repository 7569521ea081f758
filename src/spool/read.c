/* The spool's readers: read, confirm, rewind. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "resync.h"
#include "sb_log.h"

/* ---- reading ---- */

/* The first segment with segno >= from, or NULL. */
static struct seg *seg_from(struct sb_spool *sp, uint64_t from)
{
	size_t lo = 0, hi = sp->nsegs;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (sp->segs[mid].segno < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sp->nsegs ? &sp->segs[lo] : NULL;
}

static struct seg *find_seg(struct sb_spool *sp, uint64_t segno)
{
	struct seg *g = seg_from(sp, segno);
	return g && g->segno == segno ? g : NULL;
}

void sb_spool_reader_init(struct sb_spool_reader *rd, uint64_t lo, uint64_t hi)
{
	memset(rd, 0, sizeof(*rd));
	rd->lo = rd->segno = lo;
	rd->hi = hi;
	rd->fd = -1;
	sb_buf_init(&rd->buf);
}

void sb_spool_reader_free(struct sb_spool_reader *rd)
{
	if (rd->fd >= 0)
		close(rd->fd);
	rd->fd = -1;
	sb_buf_free(&rd->buf);
	if (rd->rs)
		sb_resync_free(rd->rs);
	free(rd->rs);
	rd->rs = NULL;
}

/* A sealed segment was read to its end: what is still unread was lost to
 * corruption after it was written. */
static uint64_t finish_seg(struct sb_spool *sp, struct seg *g)
{
	uint64_t lost = g->unread;
	if (lost) {
		sb_log_rl(&sp->rl, SB_LOG_ERROR, COMP,
			  "%s: segment %" PRIu64 " in %s lost %" PRIu64
			  " records to corruption since they were written",
			  sp->name, g->segno, sp->dir, lost);
		g->pending -= lost;
		g->unread = 0;
		sp->records -= lost;
		sp->unread -= lost;
	}
	if (g->pending == 0)
		sp_remove_seg(sp, g);
	return lost;
}

int sb_spool_read(struct sb_spool *sp, struct sb_spool_reader *rd, struct sb_spool_rec *out,
		  size_t max, size_t max_bytes, size_t *n, uint64_t *lost)
{
	*n = 0;
	*lost = 0;
	sb_buf_reset(&rd->buf);
	int r = 0;
	while (*n < max && rd->buf.len < max_bytes) {
		pthread_mutex_lock(&sp->mu);
		struct seg *g = seg_from(sp, rd->segno);
		if (!g || g->segno > rd->hi) {
			pthread_mutex_unlock(&sp->mu);
			break;
		}
		if (g->segno != rd->segno) {
			rd->segno = g->segno;
			rd->off = 0;
		}
		uint64_t start = rd->off > g->cursor ? rd->off : g->cursor;
		uint64_t size = g->size;
		if (start >= size) {
			if (g->sealed) {
				*lost += finish_seg(sp, g);
				rd->segno++;
				rd->off = 0;
				pthread_mutex_unlock(&sp->mu);
				continue;
			}
			pthread_mutex_unlock(&sp->mu);
			break; /* caught up with the writer */
		}
		pthread_mutex_unlock(&sp->mu);

		if (rd->fd < 0 || rd->fd_segno != rd->segno) {
			if (rd->fd >= 0)
				close(rd->fd);
			char path[4200];
			sp_seg_path(sp, rd->segno, path, sizeof(path));
			rd->fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			rd->fd_segno = rd->segno;
			if (rd->fd < 0) {
				if (errno == ENOENT)
					continue; /* evicted meanwhile: the lookup moves on */
				r = -errno;
				break;
			}
			if (rd->rs)
				sb_resync_free(rd->rs);
			else if (!(rd->rs = malloc(sizeof(*rd->rs)))) {
				r = -ENOMEM;
				break;
			}
			sb_resync_init(rd->rs, rd->fd, SB_SPOOL_SEG_HDR);
			rd->checked = UINT64_MAX;
		}
		/* A chunk at a time, however much room: a call takes at most max
		 * records, and reading the rest of the segment for each would
		 * make a drain quadratic in the segment's size. Nor more than
		 * the records still wanted take at the size of those read
		 * last: a sender's slice of 64 events of 1 KiB read 256 KiB
		 * and used 70, and the copy was a seventh of its CPU. */
		size_t want = CHUNK;
		if (rd->rec_bytes) {
			uint64_t guess = (uint64_t)(max - *n) * rd->rec_bytes;
			guess += guess / 8 + 4096; /* sizes vary: one more read costs more */
			if (guess < want)
				want = (size_t)guess;
		}
		if (want > size - start)
			want = (size_t)(size - start);
		size_t base = rd->buf.len;
		if ((r = sb_buf_reserve(&rd->buf, want)))
			break;
		ssize_t got = sb_spool_pread(rd->fd, rd->buf.data + base, want, start);
		if (got < 0) {
			r = (int)got;
			break;
		}
		size_t pos = 0, first = *n;
		uint64_t off = start, bad_off = 0, skipped = 0, nbad = 0;
		while (*n < max && pos < (size_t)got) {
			uint32_t len;
			size_t need = 0;
			const unsigned char *p = (unsigned char *)rd->buf.data + base + pos;
			int c =
			    sp_precheck_fails(rd->rs, p, (size_t)got - pos, off, size, &rd->checked)
				? REC_BAD
				: sp_check_rec(p, (size_t)got - pos, size - off, &len, &need);
			if (c == REC_SHORT) {
				if (*n > first || need > SB_SPOOL_MAX_RECORD + SB_SPOOL_REC_HDR)
					break;
				/* one record larger than the chunk: read it whole */
				if ((r = sb_buf_reserve(&rd->buf, pos + need)))
					break;
				ssize_t g2 =
				    sb_spool_pread(rd->fd, rd->buf.data + base + pos, need, off);
				if (g2 < (ssize_t)need) {
					c = REC_BAD;
				} else {
					got = (ssize_t)(pos + need);
					continue;
				}
			}
			if (c == REC_BAD) {
				uint64_t next = sb_resync_next(rd->rs, off + 1, size);
				if (!nbad++)
					bad_off = off;
				skipped += next - off;
				bool in_buf = next - off < (size_t)got - pos;
				pos += in_buf ? (size_t)(next - off) : 0;
				off = next;
				if (in_buf)
					continue;
				break;
			}
			out[*n] = (struct sb_spool_rec){.segno = rd->segno,
							.off = off,
							.end = off + SB_SPOOL_REC_HDR + len,
							.boff = base + pos + SB_SPOOL_REC_HDR,
							.len = len};
			(*n)++;
			pos += SB_SPOOL_REC_HDR + len;
			off += SB_SPOOL_REC_HDR + len;
		}
		if (r)
			break;
		if (*n > first)
			rd->rec_bytes = (uint32_t)(pos / (*n - first));
		rd->buf.len = base + pos;
		/* Hand out under the lock; a segment evicted while we read
		 * takes its records with it. */
		pthread_mutex_lock(&sp->mu);
		if (nbad) /* sp->rl is shared with the writer: under the lock */
			sb_log_rl(&sp->rl, SB_LOG_ERROR, COMP,
				  "%s: segment %" PRIu64 " in %s: %" PRIu64
				  " corrupt record(s) from offset %" PRIu64 ", skipped %" PRIu64
				  " bytes",
				  sp->name, rd->segno, sp->dir, nbad, bad_off, skipped);
		g = find_seg(sp, rd->segno);
		if (!g) {
			*n = first;
			rd->buf.len = base;
			rd->segno++;
			rd->off = 0;
		} else {
			uint64_t k = *n - first;
			if (k > g->unread)
				k = g->unread; /* cannot happen; keep counters sane */
			g->unread -= k;
			sp->unread -= k;
			rd->off = off;
		}
		pthread_mutex_unlock(&sp->mu);
		if (pos == 0 && off == start)
			break; /* no progress possible now */
	}
	return r;
}

bool sb_spool_confirm(struct sb_spool *sp, uint64_t segno, uint64_t end, uint64_t k)
{
	pthread_mutex_lock(&sp->mu);
	struct seg *g = find_seg(sp, segno);
	bool found = g != NULL;
	if (g) {
		if (k > g->pending - g->unread)
			k = g->pending - g->unread;
		g->pending -= k;
		sp->records -= k;
		if (end > g->cursor)
			g->cursor = end;
		if (g->sealed && g->pending == 0) {
			sp_remove_seg(sp, g);
		} else if (sp->cfd >= 0) {
			int r = sp_append_cursor(sp, segno, end);
			if (r)
				sb_log_rl(&sp->rl, SB_LOG_ERROR, COMP,
					  "%s: cannot write the cursor in %s: %s (a restart would "
					  "send delivered records again)",
					  sp->name, sp->dir, strerror(-r));
			if (sp->cursor_log_bytes > CURSOR_COMPACT_BYTES)
				sp_compact_cursors(sp);
		}
		if (sp->o.fsync_interval > 0 &&
		    sp_now_ns(sp) - sp->last_sync >= sp->o.fsync_interval)
			sp_sync_locked(sp);
	}
	pthread_mutex_unlock(&sp->mu);
	return found;
}

void sb_spool_rewind(struct sb_spool *sp, struct sb_spool_reader *rd)
{
	pthread_mutex_lock(&sp->mu);
	for (size_t i = 0; i < sp->nsegs; i++) {
		struct seg *g = &sp->segs[i];
		if (g->segno < rd->lo || g->segno > rd->hi)
			continue;
		sp->unread += g->pending - g->unread;
		g->unread = g->pending;
	}
	rd->segno = rd->lo;
	rd->off = 0;
	pthread_mutex_unlock(&sp->mu);
}
