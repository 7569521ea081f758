/* The spool's writer: batches, segments, write and seal. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "internal.h"
#include "sb_log.h"

/* ---- writing ---- */

static int new_segment(struct sb_spool *sp)
{
	char path[4200];
	uint64_t segno = sp->next_segno ? sp->next_segno : 1;
	if (segno == UINT64_MAX) {
		/* its successor would wrap to segments that may still exist:
		 * unreachable from SB_SPOOL_SEGNO_MAX, refused all the same */
		sb_log_rl(&sp->rl, SB_LOG_ERROR, COMP,
			  "%s: segment numbers in %s are used up; not writing (move the spool "
			  "aside)",
			  sp->name, sp->dir);
		return -EOVERFLOW;
	}
	sp_seg_path(sp, segno, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	unsigned char h[SB_SPOOL_SEG_HDR];
	memcpy(h, SEG_MAGIC, 8);
	put64(h + 8, segno);
	int r = sp_write_full(fd, h, sizeof(h));
	if (r) {
		close(fd);
		unlink(path);
		return r;
	}
	struct seg g = {.segno = segno, .size = SB_SPOOL_SEG_HDR, .cursor = SB_SPOOL_SEG_HDR};
	if ((r = sp_push_seg(sp, &g))) {
		close(fd);
		unlink(path);
		return r;
	}
	sp->wfd = fd;
	sp->dir_dirty = true;
	return 0;
}

/* drop_oldest: deletes the oldest sealed segment no reader holds records
 * of (those are about to be confirmed). Returns its pending records, or -1
 * when there is nothing to delete. */
static int64_t evict_one(struct sb_spool *sp)
{
	for (size_t i = 0; i < sp->nsegs; i++) {
		struct seg *g = &sp->segs[i];
		if (!g->sealed || g->pending != g->unread)
			continue;
		int64_t n = (int64_t)g->pending;
		sb_log_rl(&sp->rl, SB_LOG_WARN, COMP,
			  "%s: spool full: deleted segment %" PRIu64 " with %" PRIu64
			  " undelivered records (drop_oldest)",
			  sp->name, g->segno, g->pending);
		sp_remove_seg(sp, g);
		return n;
	}
	return -1;
}

void sb_spool_batch_init(struct sb_spool_batch *b)
{
	sb_buf_init(&b->buf);
	b->n = 0;
}

void sb_spool_batch_free(struct sb_spool_batch *b)
{
	sb_buf_free(&b->buf);
	b->n = 0;
}

void sb_spool_batch_reset(struct sb_spool_batch *b)
{
	sb_buf_reset(&b->buf);
	b->n = 0;
}

void sb_spool_batch_add(struct sb_spool_batch *b, const struct iovec *iov, int iovcnt)
{
	size_t len = 0;
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	unsigned char h[SB_SPOOL_REC_HDR];
	put32(h, REC_MAGIC);
	put32(h + 4, (uint32_t)len);
	uint32_t crc = sb_crc32c(0, h + 4, 4);
	for (int i = 0; i < iovcnt; i++)
		crc = sb_crc32c(crc, iov[i].iov_base, iov[i].iov_len);
	put32(h + 8, crc);
	sb_buf_add(&b->buf, h, sizeof(h));
	for (int i = 0; i < iovcnt; i++)
		sb_buf_add(&b->buf, iov[i].iov_base, iov[i].iov_len);
	b->n++;
}

/* Appends bytes [from, to) of the batch (k whole records) to the active
 * segment. On failure the segment is cut back to its last whole record. */
static int append_span(struct sb_spool *sp, const char *p, size_t n, uint64_t k)
{
	struct seg *a = sp_active(sp);
	int r = sp_write_full(sp->wfd, p, n);
	if (r) {
		if (ftruncate(sp->wfd, (off_t)a->size))
			sb_log_rl(&sp->rl, SB_LOG_ERROR, COMP,
				  "%s: cannot cut segment %" PRIu64
				  " back after a failed write: %s",
				  sp->name, a->segno, strerror(errno));
		return r;
	}
	a->size += n;
	a->pending += k;
	a->unread += k;
	sp->bytes += n;
	sp->records += k;
	sp->unread += k;
	sp->data_dirty = true;
	return 0;
}

/* Disk full under drop_oldest: make room and say whether to try again. */
static bool room_by_policy(struct sb_spool *sp, int r, struct sb_spool_wres *res)
{
	if (r != -ENOSPC || sp->o.full != SB_SPOOL_DROP_OLDEST)
		return false;
	int64_t ev = evict_one(sp);
	if (ev < 0)
		return false;
	res->evicted += (uint64_t)ev;
	return true;
}

void sb_spool_write(struct sb_spool *sp, const struct sb_spool_batch *b, struct sb_spool_wres *res)
{
	memset(res, 0, sizeof(*res));
	const char *p = b->buf.data;
	size_t len = b->buf.len, off = 0, span = 0; /* [span, off): not yet written */
	uint64_t span_recs = 0;
	int r = 0;
	pthread_mutex_lock(&sp->mu);
	while (off < len || off > span) {
		size_t rs =
		    off < len ? SB_SPOOL_REC_HDR + get32((const unsigned char *)p + off + 4) : 0;
		struct seg *a = sp_active(sp);
		uint64_t will = a ? a->size + (off - span) : 0;
		bool rotate = rs && a && will > SB_SPOOL_SEG_HDR && will + rs > sp->o.segment_bytes;
		bool over = rs && sp->o.max_bytes &&
			    sp->bytes + (off - span) + rs + (a && !rotate ? 0 : SB_SPOOL_SEG_HDR) >
				sp->o.max_bytes;
		if (off > span && (!rs || rotate || over)) {
			while ((r = append_span(sp, p + span, off - span, span_recs)) &&
			       room_by_policy(sp, r, res))
				;
			if (r)
				break;
			res->written += span_recs;
			span = off;
			span_recs = 0;
			continue;
		}
		if (!rs)
			break;
		if (rotate) {
			sp_seal_active(sp);
			continue;
		}
		if (over) {
			if (room_by_policy(sp, -ENOSPC, res))
				continue;
			r = -ENOSPC;
			break;
		}
		if (!a) {
			if ((r = new_segment(sp))) {
				if (room_by_policy(sp, r, res))
					continue;
				break;
			}
		}
		off += rs;
		span_recs++;
	}
	if (r && r != -ENOSPC)
		sb_log_rl(&sp->rl, SB_LOG_ERROR, COMP, "%s: cannot write to spool %s: %s", sp->name,
			  sp->dir, strerror(-r));
	res->err = r;
	if (sp->data_dirty || sp->dir_dirty) {
		int64_t now = sp_now_ns(sp);
		if (sp->o.fsync_every_write ||
		    (sp->o.fsync_interval > 0 && now - sp->last_sync >= sp->o.fsync_interval)) {
			int e = sp_sync_locked(sp);
			if (e && !res->err)
				res->err = e;
		}
	}
	pthread_mutex_unlock(&sp->mu);
}

uint64_t sb_spool_seal(struct sb_spool *sp)
{
	pthread_mutex_lock(&sp->mu);
	struct seg *a = sp_active(sp);
	if (a && a->size > SB_SPOOL_SEG_HDR)
		sp_seal_active(sp);
	a = sp_active(sp);
	uint64_t last = a ? a->segno - 1 : (sp->next_segno ? sp->next_segno - 1 : 0);
	pthread_mutex_unlock(&sp->mu);
	return last;
}
