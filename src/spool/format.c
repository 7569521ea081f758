/* The spool's files: records, segment names and headers, walking a file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "internal.h"
#include "resync.h"
#include "sb_log.h"

/* ---- record checks ---- */

uint32_t sp_rec_crc(const unsigned char *lenp, const void *payload, uint32_t len)
{
	/* The length is covered too, so a flipped length bit cannot pass. */
	return sb_crc32c(sb_crc32c(0, lenp, 4), payload, len);
}

/* Checks the record at p with avail bytes in memory, of which the file has
 * room_in_file from p on. REC_SHORT: it may be whole but is not all in
 * memory; *need says how many bytes it takes. */
int sp_check_rec(const unsigned char *p, size_t avail, uint64_t room_in_file, uint32_t *len,
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
	if (sp_rec_crc(p + 4, p + SB_SPOOL_REC_HDR, l) != get32(p + 8))
		return REC_BAD;
	*len = l;
	return REC_OK;
}

int sp_write_full(int fd, const void *buf, size_t n)
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
bool sp_precheck_fails(struct sb_resync *rs, const unsigned char *p, size_t avail, uint64_t off,
		       uint64_t size, uint64_t *checked)
{
	if (avail < SB_SPOOL_REC_HDR || get32(p) != REC_MAGIC || off == *checked)
		return false;
	uint32_t len = get32(p + 4);
	if (len <= SB_RESYNC_LONG || (!rs->careful && SB_SPOOL_REC_HDR + (uint64_t)len <= avail))
		return false;
	*checked = off;
	return !sb_resync_valid_at(rs, off, size);
}

int sp_walk_seg(int fd, uint64_t off, uint64_t size, struct walk *w,
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
		/* b.data is NULL until the first read: no arithmetic on it */
		const unsigned char *p = b.len ? (unsigned char *)b.data + pos : NULL;
		int c = sp_precheck_fails(&rs, p, b.len - pos, off, size, &checked)
			    ? REC_BAD
			    : sp_check_rec(p, b.len - pos, size - off, &len, &need);
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

/* ---- segment files ---- */

const char *sp_file_kind(mode_t m)
{
	return S_ISDIR(m)		  ? "directory"
	       : S_ISFIFO(m)		  ? "fifo"
	       : S_ISLNK(m)		  ? "symlink"
	       : S_ISSOCK(m)		  ? "socket"
	       : S_ISCHR(m) || S_ISBLK(m) ? "device"
					  : "special file";
}

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
int sp_list_segments(const char *dir, const char *name, uint64_t **out, size_t *n,
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
			sb_err(
			    COMP,
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
			       e->d_name, sp_file_kind(st.st_mode));
			(*skipped)++;
			continue;
		}
		if (sb_grow((void **)&v, &cap, cnt + 1, sizeof(*v))) {
			r = -ENOMEM;
			break;
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

bool sp_header_ok(int fd, uint64_t segno)
{
	unsigned char h[SB_SPOOL_SEG_HDR];
	return sb_spool_pread(fd, h, sizeof(h), 0) == sizeof(h) && !memcmp(h, SEG_MAGIC, 8) &&
	       get64(h + 8) == segno;
}
