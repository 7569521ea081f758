/* Linear-time record search in spool files (see resync.h). */
#include "resync.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "spool.h"

#define STEP 128u
#define WIN (64u << 10)

static _Atomic uint64_t bytes_read;

uint64_t sb_spool_bytes_read(void)
{
	return atomic_load_explicit(&bytes_read, memory_order_relaxed);
}

ssize_t sb_spool_pread(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	atomic_fetch_add_explicit(&bytes_read, got, memory_order_relaxed);
	return (ssize_t)got;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void sb_resync_init(struct sb_resync *rs, int fd, uint64_t base)
{
	memset(rs, 0, sizeof(*rs));
	rs->fd = fd;
	rs->base = base;
	rs->blk_lo = UINT64_MAX;
}

void sb_resync_free(struct sb_resync *rs)
{
	free(rs->ck);
	free(rs->win);
	rs->ck = NULL;
	rs->win = NULL;
	rs->nck = rs->capck = rs->wlen = 0;
}

/* n bytes at off into out, from the window when it holds them. */
static bool get(struct sb_resync *rs, void *out, size_t n, uint64_t off)
{
	if (rs->win && off >= rs->wpos && off + n <= rs->wpos + rs->wlen) {
		memcpy(out, rs->win + (off - rs->wpos), n);
		return true;
	}
	return sb_spool_pread(rs->fd, out, n, off) == (ssize_t)n;
}

/* Makes ck[i] known, reading on from the last one known. */
static bool extend(struct sb_resync *rs, size_t i)
{
	if (!rs->nck) {
		if (!(rs->ck = malloc(64 * sizeof(*rs->ck))))
			return false;
		rs->capck = 64;
		rs->ck[0] = 0; /* the crc of nothing */
		rs->nck = 1;
	}
	if (i < rs->nck)
		return true;
	if (i >= rs->capck) {
		size_t cap = rs->capck;
		while (cap <= i)
			cap *= 2;
		uint32_t *v = realloc(rs->ck, cap * sizeof(*v));
		if (!v)
			return false;
		rs->ck = v;
		rs->capck = cap;
	}
	unsigned char *chunk = malloc(WIN);
	if (!chunk)
		return false;
	bool ok = true;
	while (ok && rs->nck <= i) {
		size_t steps = i + 1 - rs->nck;
		if (steps > WIN / STEP)
			steps = WIN / STEP;
		uint64_t at = rs->base + (uint64_t)(rs->nck - 1) * STEP;
		ok = sb_spool_pread(rs->fd, chunk, steps * STEP, at) == (ssize_t)(steps * STEP);
		for (size_t k = 0; ok && k < steps; k++, rs->nck++)
			rs->ck[rs->nck] = sb_crc32c(rs->ck[rs->nck - 1], chunk + k * STEP, STEP);
	}
	free(chunk);
	return ok;
}

/* crc32c of [base, x), x <= size. The block of x is kept: garbage tends
 * to point many candidates at the same few blocks. */
static bool prefix(struct sb_resync *rs, uint64_t x, uint64_t size, uint32_t *crc)
{
	size_t i = (size_t)((x - rs->base) / STEP);
	uint64_t lo = rs->base + (uint64_t)i * STEP;
	if (!extend(rs, i))
		return false;
	if (rs->wlen && lo >= rs->wpos && x <= rs->wpos + rs->wlen) {
		*crc = sb_crc32c(rs->ck[i], rs->win + (lo - rs->wpos), (size_t)(x - lo));
		return true;
	}
	if (rs->blk_lo != lo || rs->blk_len < x - lo) {
		/* bytes below size never change; past it they may */
		size_t n = size - lo < STEP ? (size_t)(size - lo) : STEP;
		if (!get(rs, rs->blk, n, lo))
			return false;
		rs->blk_lo = lo;
		rs->blk_len = n;
	}
	*crc = sb_crc32c(rs->ck[i], rs->blk, (size_t)(x - lo));
	return true;
}

bool sb_resync_valid_at(struct sb_resync *rs, uint64_t off, uint64_t size)
{
	unsigned char h[SB_SPOOL_REC_HDR + 2 * STEP];
	if (off < rs->base || size - off < SB_SPOOL_REC_HDR || !get(rs, h, SB_SPOOL_REC_HDR, off) ||
	    get32(h) != SB_SPOOL_REC_MAGIC)
		return false;
	uint32_t len = get32(h + 4), want = get32(h + 8);
	if (len > SB_SPOOL_MAX_RECORD || SB_SPOOL_REC_HDR + (uint64_t)len > size - off)
		return false;
	uint32_t crc_len = sb_crc32c(0, h + 4, 4);
	if (len <= 2 * STEP) {
		if (!get(rs, h + SB_SPOOL_REC_HDR, len, off + SB_SPOOL_REC_HDR))
			return false;
		return sb_crc32c(crc_len, h + SB_SPOOL_REC_HDR, len) == want;
	}
	/* crc(len | payload) = combine(crc(len) ^ P(start), P(end), len)
	 * where P(x) is the crc of [base, x): both are linear maps, and
	 * P(end) = combine(P(start), crc(payload), len). */
	uint32_t ps, pe;
	if (!prefix(rs, off + SB_SPOOL_REC_HDR, size, &ps) ||
	    !prefix(rs, off + SB_SPOOL_REC_HDR + len, size, &pe))
		return false;
	return sb_crc32c_combine(crc_len ^ ps, pe, len) == want;
}

uint64_t sb_resync_next(struct sb_resync *rs, uint64_t from, uint64_t size)
{
	static const unsigned char magic[4] = {'S', 'B', 'R', '1'};
	rs->careful = true;
	if (!rs->win && !(rs->win = malloc(WIN)))
		return size;
	uint64_t pos = from;
	while (pos < size && size - pos >= SB_SPOOL_REC_HDR) {
		/* the window read last time often still covers where we are */
		if (!(rs->wlen && pos >= rs->wpos && pos - rs->wpos + 4 <= rs->wlen)) {
			size_t want = size - pos < WIN ? (size_t)(size - pos) : WIN;
			ssize_t r = sb_spool_pread(rs->fd, rs->win, want, pos);
			rs->wlen = 0;
			if (r < 4)
				break;
			rs->wpos = pos;
			rs->wlen = (size_t)r;
		}
		size_t at = (size_t)(pos - rs->wpos), end = rs->wlen;
		if (rs->wpos + end > size)
			end = (size_t)(size - rs->wpos);
		unsigned char *m;
		while (at + 4 <= end && (m = memmem(rs->win + at, end - at, magic, 4))) {
			uint64_t cand = rs->wpos + (uint64_t)(m - rs->win);
			if (sb_resync_valid_at(rs, cand, size))
				return cand;
			at = (size_t)(m - rs->win) + 1;
		}
		/* A magic may straddle the window's end. Progress: the window
		 * held 4 bytes from pos and size is 12 past it, so end - 3 > at. */
		pos = rs->wpos + end - 3;
		rs->wlen = 0;
	}
	return size;
}
