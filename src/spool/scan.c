/* Offline inspection of a spool directory (read-only). */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "sb_log.h"

/* ---- offline ---- */

struct scan_ctx {
	uint64_t segno, cursor, pending;
	void (*fn)(void *arg, uint64_t segno, uint64_t off, const void *p, uint32_t len,
		   bool pending);
	void *arg;
};

static void scan_rec(void *arg, uint64_t off, const void *p, uint32_t len)
{
	struct scan_ctx *c = arg;
	c->pending += off >= c->cursor;
	if (c->fn)
		c->fn(c->arg, c->segno, off, p, len, off >= c->cursor);
}

int sb_spool_scan(const char *dir, struct sb_spool_recovery *rec,
		  void (*fn)(void *arg, uint64_t segno, uint64_t off, const void *p, uint32_t len,
			     bool pending),
		  void *arg)
{
	memset(rec, 0, sizeof(*rec));
	uint64_t *segnos = NULL;
	size_t nseg = 0;
	struct cursor_map cm = {0};
	uint64_t taken = 0;
	int r = sp_list_segments(dir, dir, &segnos, &nseg, &rec->skipped, &taken);
	if (r)
		return r;
	sp_read_cursors(dir, dir, true, &cm);
	for (size_t i = 0; i < nseg && !r; i++) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/seg-%020" PRIu64 ".sbs", dir, segnos[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st)) {
			close(fd);
			continue;
		}
		if (!S_ISREG(st.st_mode)) { /* replaced since it was listed */
			sb_err(COMP, "%s is a %s, not a segment file; left alone", path,
			       sp_file_kind(st.st_mode));
			rec->skipped++;
			close(fd);
			continue;
		}
		uint64_t size = (uint64_t)st.st_size;
		rec->segments++;
		rec->bytes += size;
		if (!sp_header_ok(fd, segnos[i])) {
			sb_err(COMP, "%s: no valid segment header", path);
			rec->bad_segments++;
			rec->corrupt++;
			rec->corrupt_bytes += size;
			close(fd);
			continue;
		}
		uint64_t cur = sp_cursor_of(&cm, segnos[i]);
		struct scan_ctx c = {.segno = segnos[i],
				     .cursor = cur < SB_SPOOL_SEG_HDR ? SB_SPOOL_SEG_HDR : cur,
				     .fn = fn,
				     .arg = arg};
		struct walk w;
		r = sp_walk_seg(fd, SB_SPOOL_SEG_HDR, size, &w, scan_rec, &c);
		close(fd);
		rec->records += c.pending;
		if (w.corrupt)
			sb_err(COMP, "%s: %" PRIu64 " corrupt record(s), %" PRIu64 " bytes", path,
			       w.corrupt, w.corrupt_bytes);
		rec->corrupt += w.corrupt;
		rec->corrupt_bytes += w.corrupt_bytes;
		if (w.tail < size) {
			if (i + 1 == nseg) {
				sb_warn(COMP,
					"%s: torn tail of %" PRIu64 " bytes at offset %" PRIu64,
					path, size - w.tail, w.tail);
				rec->torn_bytes += size - w.tail;
			} else {
				sb_err(COMP, "%s: %" PRIu64 " corrupt bytes at the end", path,
				       size - w.tail);
				rec->corrupt++;
				rec->corrupt_bytes += size - w.tail;
			}
		}
	}
	free(segnos);
	free(cm.segno);
	free(cm.off);
	return r;
}
