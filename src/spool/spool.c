/* The spool (see spool.h for the format and the contract): open, recovery,
 * sync, close and state. */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "sb_fsafe.h"
#include "sb_log.h"

/* ---- segment bookkeeping (under mu) ---- */

void sp_seg_path(const struct sb_spool *sp, uint64_t segno, char *out, size_t n)
{
	snprintf(out, n, "%s/seg-%020" PRIu64 ".sbs", sp->dir, segno);
}

struct seg *sp_active(struct sb_spool *sp)
{
	if (!sp->nsegs || sp->segs[sp->nsegs - 1].sealed)
		return NULL;
	return &sp->segs[sp->nsegs - 1];
}

void sp_remove_seg(struct sb_spool *sp, struct seg *g)
{
	char path[4200];
	sp_seg_path(sp, g->segno, path, sizeof(path));
	if (!sp->o.readonly && unlink(path) && errno != ENOENT)
		sb_log_rl(&sp->rl, SB_LOG_WARN, COMP, "%s: cannot delete %s: %s", sp->name, path,
			  strerror(errno));
	if (g == sp_active(sp) && sp->wfd >= 0) {
		close(sp->wfd);
		sp->wfd = -1;
	}
	sp->bytes -= g->size;
	sp->records -= g->pending;
	sp->unread -= g->unread;
	size_t i = (size_t)(g - sp->segs);
	memmove(g, g + 1, (sp->nsegs - i - 1) * sizeof(*g));
	sp->nsegs--;
	sp->dir_dirty = true;
}

int sp_push_seg(struct sb_spool *sp, const struct seg *g)
{
	if (sp->nsegs == sp->capsegs) {
		size_t cap = sp->capsegs ? sp->capsegs * 2 : 16;
		struct seg *n = realloc(sp->segs, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		sp->segs = n;
		sp->capsegs = cap;
	}
	sp->segs[sp->nsegs++] = *g;
	sp->bytes += g->size;
	sp->records += g->pending;
	sp->unread += g->unread;
	if (g->segno >= sp->next_segno)
		sp->next_segno = g->segno + 1;
	return 0;
}

bool sp_sync_allowed(const struct sb_spool *sp)
{
	return sp->o.fsync_every_write || sp->o.fsync_interval > 0;
}

int64_t sp_now_ns(const struct sb_spool *sp) { return sp->o.now ? sp->o.now() : sb_now_mono_ns(); }

void sp_seal_active(struct sb_spool *sp)
{
	struct seg *a = sp_active(sp);
	if (!a)
		return;
	if (sp->wfd >= 0) {
		if (sp->data_dirty && sp_sync_allowed(sp))
			fdatasync(sp->wfd);
		close(sp->wfd);
		sp->wfd = -1;
	}
	sp->data_dirty = false;
	a->sealed = true;
	if (a->pending == 0)
		sp_remove_seg(sp, a);
}

/* ---- open / close ---- */

/* Scans segment segno; adds it to sp unless it is bad or fully delivered. */
static int recover_seg(struct sb_spool *sp, uint64_t segno, uint64_t cur, bool last,
		       struct sb_spool_recovery *rec)
{
	char path[4200];
	sp_seg_path(sp, segno, path, sizeof(path));
	int fd = open(path, (sp->o.readonly ? O_RDONLY : O_RDWR) | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EISDIR) {
		/* became a directory since it was listed */
		sb_err(COMP, "%s: %s is a directory, not a segment file; left alone", sp->name,
		       path);
		rec->skipped++;
		return 0;
	}
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	struct stat st;
	int r = 0;
	if (fstat(fd, &st)) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		sb_err(COMP, "%s: %s is a %s, not a segment file; left alone", sp->name, path,
		       sp_file_kind(st.st_mode));
		rec->skipped++;
		goto out;
	}
	uint64_t size = (uint64_t)st.st_size;
	if (!sp_header_ok(fd, segno)) {
		rec->bad_segments++;
		rec->corrupt++;
		rec->corrupt_bytes += size;
		char bad[4300];
		snprintf(bad, sizeof(bad), "%s.bad", path);
		sb_err(COMP, "%s: %s has no valid segment header; %s it", sp->name, path,
		       sp->o.readonly ? "would set aside" : "set aside as *.bad");
		if (!sp->o.readonly && rename(path, bad))
			r = -errno;
		goto out;
	}
	if (cur < SB_SPOOL_SEG_HDR)
		cur = SB_SPOOL_SEG_HDR;
	if (cur > size)
		cur = size; /* delivered, then lost in a power cut: nothing to resend */
	struct walk w;
	if ((r = sp_walk_seg(fd, cur, size, &w, NULL, NULL)))
		goto out;
	if (w.corrupt)
		sb_err(COMP,
		       "%s: %s: %" PRIu64 " corrupt record(s) (%" PRIu64
		       " bytes) skipped, never replayed",
		       sp->name, path, w.corrupt, w.corrupt_bytes);
	rec->corrupt += w.corrupt;
	rec->corrupt_bytes += w.corrupt_bytes;
	if (w.tail < size) {
		if (last) {
			sb_warn(COMP,
				"%s: %s: torn tail of %" PRIu64 " bytes at offset %" PRIu64 " %s",
				sp->name, path, size - w.tail, w.tail,
				sp->o.readonly ? "(would be cut)" : "cut");
			rec->torn_bytes += size - w.tail;
			if (!sp->o.readonly && ftruncate(fd, (off_t)w.tail)) {
				r = -errno;
				goto out;
			}
			size = w.tail;
		} else {
			sb_err(COMP, "%s: %s: %" PRIu64 " corrupt bytes at the end skipped",
			       sp->name, path, size - w.tail);
			rec->corrupt++;
			rec->corrupt_bytes += size - w.tail;
		}
	}
	struct seg g = {.segno = segno,
			.size = size,
			.cursor = cur,
			.pending = w.records,
			.unread = w.records,
			.sealed = !last};
	if ((r = sp_push_seg(sp, &g)))
		goto out;
	rec->records += w.records;
	if (!last && !w.records && !sp->o.readonly)
		sp_remove_seg(sp, &sp->segs[sp->nsegs - 1]);
out:
	close(fd);
	return r;
}

int sb_spool_open(const struct sb_spool_opts *o, struct sb_spool **out,
		  struct sb_spool_recovery *rec)
{
	struct sb_spool_recovery dummy;
	if (!rec)
		rec = &dummy;
	memset(rec, 0, sizeof(*rec));
	*out = NULL;
	struct sb_spool *sp = calloc(1, sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	sp->o = *o;
	sp->wfd = sp->cfd = sp->dfd = sp->lockfd = -1;
	sp->rl.interval_ns = 10 * SB_NSEC_PER_SEC;
	pthread_mutex_init(&sp->mu, NULL);
	uint64_t *segnos = NULL;
	size_t nseg = 0;
	struct cursor_map cm = {0};
	int r = -ENOMEM;
	sp->dir = strdup(o->dir);
	sp->name = strdup(o->name ? o->name : o->dir);
	if (!sp->dir || !sp->name)
		goto fail;
	sp->o.dir = sp->dir;
	sp->o.name = sp->name;
	char why[512];
	if (o->readonly) {
		sp->dfd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		r = sp->dfd < 0 ? -errno : 0;
		snprintf(why, sizeof(why), "%s: %s", sp->dir, strerror(-r));
	} else {
		/* written to: no other user may plant a link or a file in it */
		sp->dfd = sb_fsafe_dir_open(sp->dir, 0750, why, sizeof(why));
		r = sp->dfd < 0 ? sp->dfd : 0;
	}
	if (r) {
		sb_err(COMP, "%s: cannot open spool directory %s", sp->name, why);
		goto fail;
	}
	if (!o->readonly) {
		sp->lockfd = sb_fsafe_open_in(sp->dfd, sp->dir, "lock", O_RDWR | O_CREAT, 0640, 0,
					      why, sizeof(why));
		if (sp->lockfd >= 0 && flock(sp->lockfd, LOCK_EX | LOCK_NB)) {
			r = errno == EWOULDBLOCK ? -EBUSY : -errno;
			snprintf(why, sizeof(why), "%s",
				 r == -EBUSY ? "another sensorbus uses it" : strerror(-r));
		} else if (sp->lockfd < 0) {
			r = sp->lockfd;
		}
		if (r) {
			sb_err(COMP, "%s: cannot lock spool %s: %s", sp->name, sp->dir, why);
			goto fail;
		}
	}
	uint64_t taken = 0;
	if ((r = sp_list_segments(sp->dir, sp->name, &segnos, &nseg, &rec->skipped, &taken)))
		goto fail;
	if ((r = sp_read_cursors(sp->dir, sp->name, o->readonly, &cm))) {
		sb_err(COMP, "%s: cannot set the cursor log in %s aside: %s", sp->name, sp->dir,
		       strerror(-r));
		goto fail;
	}
	for (size_t i = 0; i < nseg; i++) {
		r = recover_seg(sp, segnos[i], sp_cursor_of(&cm, segnos[i]), i + 1 == nseg, rec);
		if (r) {
			sb_err(COMP, "%s: cannot recover segment %" PRIu64 " in %s: %s", sp->name,
			       segnos[i], sp->dir, strerror(-r));
			goto fail;
		}
		if (segnos[i] >= sp->next_segno)
			sp->next_segno = segnos[i] + 1;
	}
	if (taken >= sp->next_segno)
		sp->next_segno = taken + 1; /* past what a skipped entry holds */
	rec->segments = sp->nsegs;
	rec->bytes = sp->bytes;
	if (!o->readonly) {
		struct seg *a = sp_active(sp);
		if (a && a->size >= o->segment_bytes)
			sp_seal_active(sp);
		if ((a = sp_active(sp))) {
			char path[4200];
			sp_seg_path(sp, a->segno, path, sizeof(path));
			sp->wfd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
			if (sp->wfd < 0) {
				r = -errno;
				goto fail;
			}
		}
		if ((r = sp_open_cursor_log(sp, false)) || (r = sp_compact_cursors(sp)))
			goto fail;
	}
	sp->last_sync = sp_now_ns(sp);
	free(segnos);
	free(cm.segno);
	free(cm.off);
	*out = sp;
	return 0;
fail:
	free(segnos);
	free(cm.segno);
	free(cm.off);
	sb_spool_close(sp);
	return r;
}

int sp_sync_locked(struct sb_spool *sp)
{
	int r = 0;
	if (sp->data_dirty && sp->wfd >= 0 && fdatasync(sp->wfd))
		r = -errno;
	sp->data_dirty = false;
	if (sp->cursor_dirty && sp->cfd >= 0 && fdatasync(sp->cfd) && !r)
		r = -errno;
	sp->cursor_dirty = false;
	if (sp->dir_dirty && sp->dfd >= 0 && fsync(sp->dfd) && !r)
		r = -errno;
	sp->dir_dirty = false;
	sp->last_sync = sp_now_ns(sp);
	return r;
}

int sb_spool_sync(struct sb_spool *sp)
{
	if (!sp_sync_allowed(sp))
		return 0;
	pthread_mutex_lock(&sp->mu);
	int r = sp_sync_locked(sp);
	pthread_mutex_unlock(&sp->mu);
	return r;
}

void sb_spool_close(struct sb_spool *sp)
{
	if (!sp)
		return;
	if (!sp->o.readonly && sp_sync_allowed(sp))
		sp_sync_locked(sp);
	if (sp->wfd >= 0)
		close(sp->wfd);
	if (sp->cfd >= 0)
		close(sp->cfd);
	if (sp->dfd >= 0)
		close(sp->dfd);
	if (sp->lockfd >= 0)
		close(sp->lockfd);
	pthread_mutex_destroy(&sp->mu);
	free(sp->segs);
	free(sp->dir);
	free(sp->name);
	free(sp);
}

/* ---- state ---- */

void sb_spool_state(struct sb_spool *sp, struct sb_spool_state *st)
{
	pthread_mutex_lock(&sp->mu);
	st->bytes = sp->bytes;
	st->records = sp->records;
	st->unread = sp->unread;
	st->segments = sp->nsegs;
	st->first_segno = sp->nsegs ? sp->segs[0].segno : 0;
	st->last_segno = sp->nsegs ? sp->segs[sp->nsegs - 1].segno : 0;
	pthread_mutex_unlock(&sp->mu);
}

uint64_t sb_spool_unread(struct sb_spool *sp, uint64_t lo, uint64_t hi)
{
	uint64_t n = 0;
	pthread_mutex_lock(&sp->mu);
	for (size_t i = 0; i < sp->nsegs; i++)
		if (sp->segs[i].segno >= lo && sp->segs[i].segno <= hi)
			n += sp->segs[i].unread;
	pthread_mutex_unlock(&sp->mu);
	return n;
}

const char *sb_spool_dir(const struct sb_spool *sp) { return sp->dir; }
