/* The spool's cursor log: how far each segment is delivered. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "sb_fsafe.h"
#include "sb_log.h"

/* ---- cursor log ---- */

int sp_append_cursor(struct sb_spool *sp, uint64_t segno, uint64_t off)
{
	unsigned char rec[SB_SPOOL_REC_HDR + 16];
	put32(rec, REC_MAGIC);
	put32(rec + 4, 16);
	put64(rec + 12, segno);
	put64(rec + 20, off);
	put32(rec + 8, sp_rec_crc(rec + 4, rec + 12, 16));
	int r = sp_write_full(sp->cfd, rec, sizeof(rec));
	if (!r) {
		sp->cursor_log_bytes += sizeof(rec);
		sp->cursor_dirty = true;
	}
	return r;
}

int sp_open_cursor_log(struct sb_spool *sp, bool truncate)
{
	char why[512];
	int fd = sb_fsafe_open_in(sp->dfd, sp->dir, CURSOR_FILE,
				  O_WRONLY | O_CREAT | O_APPEND | (truncate ? O_TRUNC : 0), 0640, 0,
				  why, sizeof(why));
	if (fd < 0) {
		sb_err(COMP, "%s: %s", sp->name, why);
		return fd;
	}
	if (sp->cfd >= 0)
		close(sp->cfd);
	sp->cfd = fd;
	return 0;
}

/* Rewrites the log with one record per segment, atomically (rename). */
int sp_compact_cursors(struct sb_spool *sp)
{
	char tmp[4200], path[4200];
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", sp->dir, CURSOR_FILE);
	snprintf(path, sizeof(path), "%s/%s", sp->dir, CURSOR_FILE);
	/* a leftover (or planted) temp file is removed, never written through */
	char why[512];
	unlinkat(sp->dfd, CURSOR_FILE ".tmp", 0);
	int fd = sb_fsafe_open_in(sp->dfd, sp->dir, CURSOR_FILE ".tmp", O_WRONLY | O_CREAT | O_EXCL,
				  0640, 0, why, sizeof(why));
	if (fd < 0) {
		sb_err(COMP, "%s: %s", sp->name, why);
		return fd;
	}
	int old = sp->cfd;
	sp->cfd = fd;
	sp->cursor_log_bytes = 0;
	int r = 0;
	for (size_t i = 0; i < sp->nsegs && !r; i++)
		if (sp->segs[i].cursor > SB_SPOOL_SEG_HDR)
			r = sp_append_cursor(sp, sp->segs[i].segno, sp->segs[i].cursor);
	if (!r && sp_sync_allowed(sp) && fdatasync(fd))
		r = -errno;
	close(fd);
	sp->cfd = old;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r) {
		unlink(tmp);
		return r;
	}
	if (sp_sync_allowed(sp))
		fsync(sp->dfd);
	sp->cursor_dirty = false;
	uint64_t kept = sp->cursor_log_bytes;
	r = sp_open_cursor_log(sp, false);
	sp->cursor_log_bytes = kept;
	return r;
}

static void cursor_rec(void *arg, uint64_t off, const void *p, uint32_t len)
{
	(void)off;
	struct cursor_map *m = arg;
	if (len != 16)
		return;
	uint64_t segno = get64(p), at = get64((const unsigned char *)p + 8);
	for (size_t i = 0; i < m->n; i++) {
		if (m->segno[i] == segno) {
			if (at > m->off[i])
				m->off[i] = at; /* cursors only move forward */
			return;
		}
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		uint64_t *a = realloc(m->segno, cap * sizeof(*a));
		if (!a)
			return;
		m->segno = a;
		uint64_t *b = realloc(m->off, cap * sizeof(*b));
		if (!b)
			return;
		m->off = b;
		m->cap = cap;
	}
	m->segno[m->n] = segno;
	m->off[m->n++] = at;
}

uint64_t sp_cursor_of(const struct cursor_map *m, uint64_t segno)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->segno[i] == segno)
			return m->off[i];
	return 0;
}

/* A cursor log that is no regular file (a fifo would block the open) is
 * left unread, and set aside as cursor.bad unless readonly so a new one
 * can be made: the segments' records are then all sent again, which the
 * contract allows (duplicates, never gaps). */
int sp_read_cursors(const char *dir, const char *name, bool readonly, struct cursor_map *m)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, CURSOR_FILE);
	struct stat st;
	if (lstat(path, &st))
		return 0;
	if (!S_ISREG(st.st_mode)) {
		char bad[4300];
		snprintf(bad, sizeof(bad), "%s.bad", path);
		sb_err(COMP, "%s: %s is a %s, not a cursor log; %s", name, path,
		       sp_file_kind(st.st_mode),
		       readonly ? "not read" : "set aside as cursor.bad, every record is pending");
		return readonly || !rename(path, bad) ? 0 : -errno;
	}
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct walk w;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode))
		sp_walk_seg(fd, 0, (uint64_t)st.st_size, &w, cursor_rec, m);
	close(fd);
	return 0;
}
