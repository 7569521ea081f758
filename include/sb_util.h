/* Small helpers shared by every module: growable buffers, number and
 * duration parsing, clocks. Nothing here is Linux-specific. */
#ifndef SB_UTIL_H
#define SB_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#define SB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SB_NSEC_PER_SEC 1000000000LL
#define SB_NSEC_PER_MSEC 1000000LL

#if defined(__GNUC__)
#define sb_likely(x) __builtin_expect(!!(x), 1)
#define sb_unlikely(x) __builtin_expect(!!(x), 0)
#define SB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define sb_likely(x) (x)
#define sb_unlikely(x) (x)
#define SB_PRINTF(a, b)
#endif

/* Growable byte buffer. Appends never fail silently: the first allocation
 * failure is sticky in `err` so hot paths can check once at the end. */
struct sb_buf {
	char *data;
	size_t len;
	size_t cap;
	int err;
};

void sb_buf_init(struct sb_buf *b);
void sb_buf_free(struct sb_buf *b);
int sb_buf_reserve(struct sb_buf *b, size_t extra);
/* How many bytes at the start of p need no escape in JSON or in the
 * Prometheus text format, eight at a time: metric and label names are all
 * such, and a byte loop over them was most of an encoder's time. Flags a
 * word holding a byte below 0x20, '"', '\\' or one with the high bit set
 * (the classic has-less/has-zero tests: never a miss, a false alarm only
 * beside a real one); the caller's byte loop goes on from there. */
static inline size_t sb_plain_prefix(const unsigned char *p, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = ones * 0x80;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x, q, b;
		memcpy(&x, p + i, 8);
		q = x ^ (ones * '"');
		b = x ^ (ones * '\\');
		if ((x | ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs)
			break;
	}
	return i;
}

static inline void sb_buf_reset(struct sb_buf *b)
{
	b->len = 0;
	b->err = 0;
}
static inline void sb_buf_add(struct sb_buf *b, const void *p, size_t n)
{
	if (sb_unlikely(b->cap - b->len < n) && sb_buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}
static inline void sb_buf_addc(struct sb_buf *b, char c)
{
	if (sb_unlikely(b->cap == b->len) && sb_buf_reserve(b, 1))
		return;
	b->data[b->len++] = c;
}
static inline void sb_buf_adds(struct sb_buf *b, const char *s) { sb_buf_add(b, s, strlen(s)); }
void sb_buf_printf(struct sb_buf *b, const char *fmt, ...) SB_PRINTF(2, 3);
/* Leaves a NUL after the data without counting it in len. */
const char *sb_buf_cstr(struct sb_buf *b);

/* Decimal integers into a buffer without printf; returns chars written. */
size_t sb_fmt_u64(char *out, uint64_t v);
size_t sb_fmt_i64(char *out, int64_t v);
/* Shortest text that parses back to exactly v (NaN/Inf spelled as in
 * Prometheus: NaN, +Inf, -Inf). out must hold 32 bytes. */
size_t sb_fmt_double(char *out, double v);

/* v == floor(v), without floor: the agent does not link libm (Makefile),
 * and only a build that inlines floor (-O2 here) links without it. True for
 * the infinities, as floor gives; false for NaN. */
static inline bool sb_whole(double v)
{
	/* from 2^52 up every double is whole, and the cast below is defined */
	if (!(v < 0x1p52 && v > -0x1p52))
		return v == v;
	return v == (double)(int64_t)v;
}

/* Strict number parsing: the whole string must be consumed. 0 or -errno. */
int sb_parse_u64(const char *s, uint64_t *out);
int sb_parse_i64(const char *s, int64_t *out);

/* Names the calling thread (what top -H, ps -L, perf and /proc/PID/task/
 * TID/comm show), cut to the kernel's 15 bytes. */
void sb_thread_name(const char *fmt, ...) SB_PRINTF(1, 2);

/* "250ms", "10s", "2m", "1h30m", "1.5s", "0"; result in nanoseconds. */
int sb_parse_duration(const char *s, int64_t *ns);
/* Shortest exact spelling, e.g. 1500000000 -> "1500ms", 60e9 -> "1m". */
void sb_fmt_duration(char *out, size_t n, int64_t ns);
/* "64MiB", "1GB", "4096", "10k"; binary (KiB) and decimal (KB) units.
 * -ERANGE at SB_SIZE_MAX_BYTES or more, which a uint64_t cannot hold. */
#define SB_SIZE_MAX_BYTES 1.8e19
int sb_parse_size(const char *s, uint64_t *bytes);
void sb_fmt_size(char *out, size_t n, uint64_t bytes);

int64_t sb_now_mono_ns(void);
int64_t sb_now_real_ns(void);

/* A condition variable whose timed waits take CLOCK_MONOTONIC deadlines
 * (sb_now_mono_ns), so a clock step never stretches or cuts a wait.
 * 0 or -errno. */
int sb_cond_init_mono(pthread_cond_t *cond);
/* A sb_now_mono_ns deadline as the timespec pthread_cond_timedwait takes on
 * such a condition variable. */
struct timespec sb_mono_timespec(int64_t mono_ns);
/* CLOCK_REALTIME, ns from now: for calls that take no other clock
 * (pthread_timedjoin_np). */
struct timespec sb_real_timespec_after(int64_t ns);

/* Jitter for retries (xorshift64): cheap, one state per user, not for secrets.
 * Seeded from getrandom, or from the clock and salt where that fails. */
/* Copies tmpl to out with each "{name}" replaced by name (a sink's
 * spool_dir default). */
void sb_expand_name(char *out, size_t n, const char *tmpl, const char *name);

/* Whether a comma-separated list ("a,b,c") names word. */
bool sb_list_has(const char *list, const char *word);

/* Makes *v (an array of elem-sized items, *cap of them) hold at least
 * want, doubling; 0 or -ENOMEM (then *v is unchanged). */
int sb_grow(void **v, size_t *cap, size_t want, size_t elem);

/* FNV-1a over n bytes: for hash tables and sharding, not for security. */
uint64_t sb_hash(const char *s, size_t n);

void sb_jitter_seed(uint64_t *state, uint64_t salt);
uint64_t sb_jitter_next(uint64_t *state);

/* RFC 3339 UTC with nanoseconds: 2026-11-27T20:00:01.000123456Z (30 chars
 * + NUL). Caches the date part, so callers keep their own cache. */
struct sb_timefmt {
	int64_t sec;
	char prefix[21]; /* "YYYY-MM-DDTHH:MM:SS." */
};
size_t sb_fmt_rfc3339(struct sb_timefmt *c, char out[32], int64_t real_ns);

/* Read a whole small file (procfs, config, tokens) into buf. Returns bytes
 * read or -errno; fails with -EFBIG above max. */
ssize_t sb_read_file(const char *path, struct sb_buf *buf, size_t max);

/* 128-bit random id as 32 hex chars + NUL. */
int sb_random_id(char out[33]);

/* Trim ASCII whitespace in place; returns s. */
char *sb_trim(char *s);

#endif
