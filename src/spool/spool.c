/* The spool (see spool.h for the format and the contract). */
#include "spool.h"

#include <dirent.h>
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

#include "crc32c.h"
#include "resync.h"
#include "sb_log.h"

#define COMP "spool"
#define SEG_MAGIC "SBSPOOL1"
#define REC_MAGIC SB_SPOOL_REC_MAGIC
#define CURSOR_FILE "cursor"
#define CURSOR_COMPACT_BYTES (1u << 20)
#define CHUNK (256u << 10)

struct seg {
	uint64_t segno;
	uint64_t size;    /* bytes of whole records; what readers may read */
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

/* ---- little endian and record checks ---- */

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint32_t rec_crc(const unsigned char *lenp, const void *payload, uint32_t len)
{
	/* The length is covered too, so a flipped length bit cannot pass. */
	return sb_crc32c(sb_crc32c(0, lenp, 4), payload, len);
}

enum { REC_BAD = -1, REC_SHORT = 0, REC_OK = 1 };

/* Checks the record at p with avail bytes in memory, of which the file has
 * room_in_file from p on. REC_SHORT: it may be whole but is not all in
 * memory; *need says how many bytes it takes. */
static int check_rec(const unsigned char *p, size_t avail, uint64_t room_in_file, uint32_t *len,
		     size_t *need)
{
	if (room_in_file < SB_SPOOL_REC_HDR)
		return REC_BAD;
	if (avail < SB_SPOOL_REC_HDR) {
		*need = SB_SPOOL_REC_HDR;
		return REC_SHORT;
	}
	if (get32(p) != REC_MAGIC)
		return REC_BAD;
	uint32_t l = get32(p + 4);
	if (l > SB_SPOOL_MAX_RECORD || SB_SPOOL_REC_HDR + (uint64_t)l > room_in_file)
		return REC_BAD;
	if (avail < SB_SPOOL_REC_HDR + (size_t)l) {
		*need = SB_SPOOL_REC_HDR + (size_t)l;
		return REC_SHORT;
	}
	if (rec_crc(p + 4, p + SB_SPOOL_REC_HDR, l) != get32(p + 8))
		return REC_BAD;
	*len = l;
	return REC_OK;
}

static int write_full(int fd, const void *buf, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(fd, (const char *)buf + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		done += (size_t)w;
	}
	return 0;
}

/* Whether the record at p (avail bytes of it in memory) is found bad
 * through rs's prefix checksums, before its bytes are read or summed: for
 * a long one not all in memory, or any long one once the file showed
 * garbage. That keeps a scan over crafted bytes linear; a clean file
 * skips it. *checked: the offset last asked about, not asked twice. */
static bool precheck_fails(struct sb_resync *rs, const unsigned char *p, size_t avail,
			   uint64_t off, uint64_t size, uint64_t *checked)
{
	if (avail < SB_SPOOL_REC_HDR || get32(p) != REC_MAGIC || off == *checked)
		return false;
	uint32_t len = get32(p + 4);
	if (len <= SB_RESYNC_LONG || (!rs->careful && SB_SPOOL_REC_HDR + (uint64_t)len <= avail))
		return false;
	*checked = off;
	return !sb_resync_valid_at(rs, off, size);
}

/* Walks records of one segment file from off to size, calling fn on each
 * valid one; counts corrupt runs. Returns where trailing bytes that hold
 * no valid record start (size if none). */
struct walk {
	uint64_t records, corrupt, corrupt_bytes;
	uint64_t tail; /* start of trailing garbage, or size */
};

static int walk_seg(int fd, uint64_t off, uint64_t size, struct walk *w,
		    void (*fn)(void *arg, uint64_t off, const void *p, uint32_t len), void *arg)
{
	struct sb_buf b;
	sb_buf_init(&b);
	struct sb_resync rs;
	sb_resync_init(&rs, fd, off);
	uint64_t checked = UINT64_MAX;
	int r = 0;
	memset(w, 0, sizeof(*w));
	w->tail = size;
	size_t pos = 0;
	b.len = 0;
	while (off < size) {
		uint32_t len;
		size_t need = 0;
		const unsigned char *p = (unsigned char *)b.data + pos;
		int c = precheck_fails(&rs, p, b.len - pos, off, size, &checked)
				? REC_BAD
				: check_rec(p, b.len - pos, size - off, &len, &need);
		if (c == REC_SHORT) {
			size_t want = need > CHUNK ? need : CHUNK;
			if (want > size - off)
				want = (size_t)(size - off);
			sb_buf_reset(&b);
			if ((r = sb_buf_reserve(&b, want)))
				break;
			ssize_t got = sb_spool_pread(fd, b.data, want, off);
			if (got < 0) {
				r = (int)got;
				break;
			}
			b.len = (size_t)got;
			pos = 0;
			if ((size_t)got < need) {
				c = REC_BAD; /* the file is shorter than it said */
			} else {
				continue;
			}
		}
		if (c == REC_OK) {
			if (fn)
				fn(arg, off, b.data + pos + SB_SPOOL_REC_HDR, len);
			w->records++;
			pos += SB_SPOOL_REC_HDR + len;
			off += SB_SPOOL_REC_HDR + len;
			continue;
		}
		uint64_t next = sb_resync_next(&rs, off + 1, size);
		if (next >= size) {
			w->tail = off;
			break;
		}
		w->corrupt++;
		w->corrupt_bytes += next - off;
		/* go on in the buffer when it holds the new offset: rereading a
		 * chunk per corrupt spot would make crafted garbage quadratic */
		if (next - off < b.len - pos) {
			pos += (size_t)(next - off);
		} else {
			b.len = 0;
			pos = 0;
		}
		off = next;
	}
	sb_resync_free(&rs);
	sb_buf_free(&b);
	return r;
}

/* ---- segment bookkeeping (under mu) ---- */

static void seg_path(const struct sb_spool *sp, uint64_t segno, char *out, size_t n)
{
	snprintf(out, n, "%s/seg-%020" PRIu64 ".sbs", sp->dir, segno);
}

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

static struct seg *active(struct sb_spool *sp)
{
	if (!sp->nsegs || sp->segs[sp->nsegs - 1].sealed)
		return NULL;
	return &sp->segs[sp->nsegs - 1];
}

static void remove_seg(struct sb_spool *sp, struct seg *g)
{
	char path[4200];
	seg_path(sp, g->segno, path, sizeof(path));
	if (!sp->o.readonly && unlink(path) && errno != ENOENT)
		sb_log_rl(&sp->rl, SB_LOG_WARN, COMP, "%s: cannot delete %s: %s", sp->name, path,
			  strerror(errno));
	if (g == active(sp) && sp->wfd >= 0) {
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

static int push_seg(struct sb_spool *sp, const struct seg *g)
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

static bool sync_allowed(const struct sb_spool *sp)
{
	return sp->o.fsync_every_write || sp->o.fsync_interval > 0;
}

static int64_t now_ns(const struct sb_spool *sp)
{
	return sp->o.now ? sp->o.now() : sb_now_mono_ns();
}

static void seal_active(struct sb_spool *sp)
{
	struct seg *a = active(sp);
	if (!a)
		return;
	if (sp->wfd >= 0) {
		if (sp->data_dirty && sync_allowed(sp))
			fdatasync(sp->wfd);
		close(sp->wfd);
		sp->wfd = -1;
	}
	sp->data_dirty = false;
	a->sealed = true;
	if (a->pending == 0)
		remove_seg(sp, a);
}

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
	seg_path(sp, segno, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	unsigned char h[SB_SPOOL_SEG_HDR];
	memcpy(h, SEG_MAGIC, 8);
	put64(h + 8, segno);
	int r = write_full(fd, h, sizeof(h));
	if (r) {
		close(fd);
		unlink(path);
		return r;
	}
	struct seg g = {.segno = segno, .size = SB_SPOOL_SEG_HDR, .cursor = SB_SPOOL_SEG_HDR};
	if ((r = push_seg(sp, &g))) {
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
		remove_seg(sp, g);
		return n;
	}
	return -1;
}

/* ---- cursor log ---- */

static int append_cursor(struct sb_spool *sp, uint64_t segno, uint64_t off)
{
	unsigned char rec[SB_SPOOL_REC_HDR + 16];
	put32(rec, REC_MAGIC);
	put32(rec + 4, 16);
	put64(rec + 12, segno);
	put64(rec + 20, off);
	put32(rec + 8, rec_crc(rec + 4, rec + 12, 16));
	int r = write_full(sp->cfd, rec, sizeof(rec));
	if (!r) {
		sp->cursor_log_bytes += sizeof(rec);
		sp->cursor_dirty = true;
	}
	return r;
}

static int open_cursor_log(struct sb_spool *sp, bool truncate)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", sp->dir, CURSOR_FILE);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0),
		      0640);
	if (fd < 0)
		return -errno;
	if (sp->cfd >= 0)
		close(sp->cfd);
	sp->cfd = fd;
	return 0;
}

/* Rewrites the log with one record per segment, atomically (rename). */
static int compact_cursors(struct sb_spool *sp)
{
	char tmp[4200], path[4200];
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", sp->dir, CURSOR_FILE);
	snprintf(path, sizeof(path), "%s/%s", sp->dir, CURSOR_FILE);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	int old = sp->cfd;
	sp->cfd = fd;
	sp->cursor_log_bytes = 0;
	int r = 0;
	for (size_t i = 0; i < sp->nsegs && !r; i++)
		if (sp->segs[i].cursor > SB_SPOOL_SEG_HDR)
			r = append_cursor(sp, sp->segs[i].segno, sp->segs[i].cursor);
	if (!r && sync_allowed(sp) && fdatasync(fd))
		r = -errno;
	close(fd);
	sp->cfd = old;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r) {
		unlink(tmp);
		return r;
	}
	if (sync_allowed(sp))
		fsync(sp->dfd);
	sp->cursor_dirty = false;
	uint64_t kept = sp->cursor_log_bytes;
	r = open_cursor_log(sp, false);
	sp->cursor_log_bytes = kept;
	return r;
}

struct cursor_map {
	uint64_t *segno, *off;
	size_t n, cap;
};

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

static uint64_t cursor_of(const struct cursor_map *m, uint64_t segno)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->segno[i] == segno)
			return m->off[i];
	return 0;
}

static const char *file_kind(mode_t m)
{
	return S_ISDIR(m) ? "directory" : S_ISFIFO(m) ? "fifo" : S_ISLNK(m) ? "symlink"
	       : S_ISSOCK(m) ? "socket" : S_ISCHR(m) || S_ISBLK(m) ? "device" : "special file";
}

/* A cursor log that is no regular file (a fifo would block the open) is
 * left unread, and set aside as cursor.bad unless readonly so a new one
 * can be made: the segments' records are then all sent again, which the
 * contract allows (duplicates, never gaps). */
static int read_cursors(const char *dir, const char *name, bool readonly, struct cursor_map *m)
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
		       file_kind(st.st_mode),
		       readonly ? "not read" : "set aside as cursor.bad, every record is pending");
		return readonly || !rename(path, bad) ? 0 : -errno;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct walk w;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode))
		walk_seg(fd, 0, (uint64_t)st.st_size, &w, cursor_rec, m);
	close(fd);
	return 0;
}

/* ---- open / close ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* "seg-" + 20 digits + ".sbs" naming a number the spool can follow. */
static int parse_seg_name(const char *s, uint64_t *segno)
{
	if (strncmp(s, "seg-", 4) || strlen(s) != 28 || strcmp(s + 24, ".sbs"))
		return -ENOENT; /* not named like a segment */
	uint64_t v = 0;
	for (int i = 4; i < 24; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -ENOENT;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v > SB_SPOOL_SEGNO_MAX)
		return -ERANGE;
	*segno = v;
	return 0;
}

/* The segments of dir, sorted. Entries named like segments that are no
 * regular file (looked at without following links or opening them: a
 * fifo would block) or whose number could not be followed are logged,
 * counted in *skipped and left alone; *taken is the highest number in use
 * by any name, which new segments must not collide with. */
static int list_segments(const char *dir, const char *name, uint64_t **out, size_t *n,
			 uint64_t *skipped, uint64_t *taken)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	uint64_t *v = NULL;
	size_t cnt = 0, cap = 0;
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		uint64_t segno;
		int pr = parse_seg_name(e->d_name, &segno);
		if (pr == -ENOENT)
			continue;
		if (pr == -ERANGE) {
			sb_err(COMP,
			       "%s: %s/%s: a segment number above %" PRIu64
			       " cannot be followed without wrapping; file left alone, not replayed",
			       name, dir, e->d_name, (uint64_t)SB_SPOOL_SEGNO_MAX);
			(*skipped)++;
			continue;
		}
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
			if (errno == ENOENT)
				continue; /* deleted meanwhile */
			r = -errno;
			break;
		}
		if (segno > *taken)
			*taken = segno;
		if (!S_ISREG(st.st_mode)) {
			sb_err(COMP, "%s: %s/%s is a %s, not a segment file; left alone", name, dir,
			       e->d_name, file_kind(st.st_mode));
			(*skipped)++;
			continue;
		}
		if (cnt == cap) {
			cap = cap ? cap * 2 : 32;
			uint64_t *nv = realloc(v, cap * sizeof(*nv));
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
		}
		v[cnt++] = segno;
	}
	closedir(d);
	if (r) {
		free(v);
		return r;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_u64);
	*out = v;
	*n = cnt;
	return 0;
}

static int mkdir_p(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0750) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0750) && errno != EEXIST)
		return -errno;
	return 0;
}

static bool header_ok(int fd, uint64_t segno)
{
	unsigned char h[SB_SPOOL_SEG_HDR];
	return sb_spool_pread(fd, h, sizeof(h), 0) == sizeof(h) && !memcmp(h, SEG_MAGIC, 8) &&
	       get64(h + 8) == segno;
}

/* Scans segment segno; adds it to sp unless it is bad or fully delivered. */
static int recover_seg(struct sb_spool *sp, uint64_t segno, uint64_t cur, bool last,
		       struct sb_spool_recovery *rec)
{
	char path[4200];
	seg_path(sp, segno, path, sizeof(path));
	int fd = open(path, (sp->o.readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
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
		       file_kind(st.st_mode));
		rec->skipped++;
		goto out;
	}
	uint64_t size = (uint64_t)st.st_size;
	if (!header_ok(fd, segno)) {
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
	if ((r = walk_seg(fd, cur, size, &w, NULL, NULL)))
		goto out;
	if (w.corrupt)
		sb_err(COMP, "%s: %s: %" PRIu64 " corrupt record(s) (%" PRIu64
			     " bytes) skipped, never replayed",
		       sp->name, path, w.corrupt, w.corrupt_bytes);
	rec->corrupt += w.corrupt;
	rec->corrupt_bytes += w.corrupt_bytes;
	if (w.tail < size) {
		if (last) {
			sb_warn(COMP, "%s: %s: torn tail of %" PRIu64 " bytes at offset %" PRIu64
				      " %s",
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
	if ((r = push_seg(sp, &g)))
		goto out;
	rec->records += w.records;
	if (!last && !w.records && !sp->o.readonly)
		remove_seg(sp, &sp->segs[sp->nsegs - 1]);
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
	if (!o->readonly && (r = mkdir_p(sp->dir))) {
		sb_err(COMP, "%s: cannot create spool directory %s: %s", sp->name, sp->dir,
		       strerror(-r));
		goto fail;
	}
	sp->dfd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dfd < 0) {
		r = -errno;
		sb_err(COMP, "%s: cannot open spool directory %s: %s", sp->name, sp->dir,
		       strerror(-r));
		goto fail;
	}
	if (!o->readonly) {
		char lp[4200];
		snprintf(lp, sizeof(lp), "%s/lock", sp->dir);
		sp->lockfd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
		if (sp->lockfd < 0 || flock(sp->lockfd, LOCK_EX | LOCK_NB)) {
			r = errno == EWOULDBLOCK ? -EBUSY : -errno;
			sb_err(COMP, "%s: cannot lock spool %s: %s", sp->name, sp->dir,
			       r == -EBUSY ? "another sensorbus uses it" : strerror(-r));
			goto fail;
		}
	}
	uint64_t taken = 0;
	if ((r = list_segments(sp->dir, sp->name, &segnos, &nseg, &rec->skipped, &taken)))
		goto fail;
	if ((r = read_cursors(sp->dir, sp->name, o->readonly, &cm))) {
		sb_err(COMP, "%s: cannot set the cursor log in %s aside: %s", sp->name, sp->dir,
		       strerror(-r));
		goto fail;
	}
	for (size_t i = 0; i < nseg; i++) {
		r = recover_seg(sp, segnos[i], cursor_of(&cm, segnos[i]), i + 1 == nseg, rec);
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
		struct seg *a = active(sp);
		if (a && a->size >= o->segment_bytes)
			seal_active(sp);
		if ((a = active(sp))) {
			char path[4200];
			seg_path(sp, a->segno, path, sizeof(path));
			sp->wfd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
			if (sp->wfd < 0) {
				r = -errno;
				goto fail;
			}
		}
		if ((r = open_cursor_log(sp, false)) || (r = compact_cursors(sp)))
			goto fail;
	}
	sp->last_sync = now_ns(sp);
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

static int sync_locked(struct sb_spool *sp)
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
	sp->last_sync = now_ns(sp);
	return r;
}

int sb_spool_sync(struct sb_spool *sp)
{
	if (!sync_allowed(sp))
		return 0;
	pthread_mutex_lock(&sp->mu);
	int r = sync_locked(sp);
	pthread_mutex_unlock(&sp->mu);
	return r;
}

void sb_spool_close(struct sb_spool *sp)
{
	if (!sp)
		return;
	if (!sp->o.readonly && sync_allowed(sp))
		sync_locked(sp);
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

/* ---- writing ---- */

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
	struct seg *a = active(sp);
	int r = write_full(sp->wfd, p, n);
	if (r) {
		if (ftruncate(sp->wfd, (off_t)a->size))
			sb_log_rl(&sp->rl, SB_LOG_ERROR, COMP,
				  "%s: cannot cut segment %" PRIu64 " back after a failed write: %s",
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
		size_t rs = off < len ? SB_SPOOL_REC_HDR + get32((const unsigned char *)p + off + 4)
				      : 0;
		struct seg *a = active(sp);
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
			seal_active(sp);
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
		sb_log_rl(&sp->rl, SB_LOG_ERROR, COMP, "%s: cannot write to spool %s: %s",
			  sp->name, sp->dir, strerror(-r));
	res->err = r;
	if (sp->data_dirty || sp->dir_dirty) {
		int64_t now = now_ns(sp);
		if (sp->o.fsync_every_write ||
		    (sp->o.fsync_interval > 0 && now - sp->last_sync >= sp->o.fsync_interval)) {
			int e = sync_locked(sp);
			if (e && !res->err)
				res->err = e;
		}
	}
	pthread_mutex_unlock(&sp->mu);
}

uint64_t sb_spool_seal(struct sb_spool *sp)
{
	pthread_mutex_lock(&sp->mu);
	struct seg *a = active(sp);
	if (a && a->size > SB_SPOOL_SEG_HDR)
		seal_active(sp);
	a = active(sp);
	uint64_t last = a ? a->segno - 1 : (sp->next_segno ? sp->next_segno - 1 : 0);
	pthread_mutex_unlock(&sp->mu);
	return last;
}

/* ---- reading ---- */

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
		remove_seg(sp, g);
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
			seg_path(sp, rd->segno, path, sizeof(path));
			rd->fd = open(path, O_RDONLY | O_CLOEXEC);
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
		 * make a drain quadratic in the segment's size. */
		size_t want = CHUNK;
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
			int c = precheck_fails(rd->rs, p, (size_t)got - pos, off, size, &rd->checked)
					? REC_BAD
					: check_rec(p, (size_t)got - pos, size - off, &len, &need);
			if (c == REC_SHORT) {
				if (*n > first || need > SB_SPOOL_MAX_RECORD + SB_SPOOL_REC_HDR)
					break;
				/* one record larger than the chunk: read it whole */
				if ((r = sb_buf_reserve(&rd->buf, pos + need)))
					break;
				ssize_t g2 = sb_spool_pread(rd->fd, rd->buf.data + base + pos, need, off);
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
			remove_seg(sp, g);
		} else if (sp->cfd >= 0) {
			int r = append_cursor(sp, segno, end);
			if (r)
				sb_log_rl(&sp->rl, SB_LOG_ERROR, COMP,
					  "%s: cannot write the cursor in %s: %s (a restart would "
					  "send delivered records again)",
					  sp->name, sp->dir, strerror(-r));
			if (sp->cursor_log_bytes > CURSOR_COMPACT_BYTES)
				compact_cursors(sp);
		}
		if (sp->o.fsync_interval > 0 &&
		    now_ns(sp) - sp->last_sync >= sp->o.fsync_interval)
			sync_locked(sp);
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

const char *sb_spool_dir(const struct sb_spool *sp)
{
	return sp->dir;
}

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
	int r = list_segments(dir, dir, &segnos, &nseg, &rec->skipped, &taken);
	if (r)
		return r;
	read_cursors(dir, dir, true, &cm);
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
			       file_kind(st.st_mode));
			rec->skipped++;
			close(fd);
			continue;
		}
		uint64_t size = (uint64_t)st.st_size;
		rec->segments++;
		rec->bytes += size;
		if (!header_ok(fd, segnos[i])) {
			sb_err(COMP, "%s: no valid segment header", path);
			rec->bad_segments++;
			rec->corrupt++;
			rec->corrupt_bytes += size;
			close(fd);
			continue;
		}
		uint64_t cur = cursor_of(&cm, segnos[i]);
		struct scan_ctx c = {.segno = segnos[i],
				     .cursor = cur < SB_SPOOL_SEG_HDR ? SB_SPOOL_SEG_HDR : cur,
				     .fn = fn,
				     .arg = arg};
		struct walk w;
		r = walk_seg(fd, SB_SPOOL_SEG_HDR, size, &w, scan_rec, &c);
		close(fd);
		rec->records += c.pending;
		if (w.corrupt)
			sb_err(COMP, "%s: %" PRIu64 " corrupt record(s), %" PRIu64 " bytes", path,
			       w.corrupt, w.corrupt_bytes);
		rec->corrupt += w.corrupt;
		rec->corrupt_bytes += w.corrupt_bytes;
		if (w.tail < size) {
			if (i + 1 == nseg) {
				sb_warn(COMP, "%s: torn tail of %" PRIu64 " bytes at offset %" PRIu64,
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
