#include "sb_util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void sb_buf_init(struct sb_buf *b) { memset(b, 0, sizeof(*b)); }

void sb_buf_free(struct sb_buf *b)
{
	if (!b)
		return;
	free(b->data);
	memset(b, 0, sizeof(*b));
}

int sb_buf_reserve(struct sb_buf *b, size_t extra)
{
	if (b->err)
		return b->err;
	if (b->cap - b->len >= extra + 1)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < extra + 1) {
		if (cap > SIZE_MAX / 2) {
			b->err = -ENOMEM;
			return b->err;
		}
		cap *= 2;
	}
	char *p = realloc(b->data, cap);
	if (!p) {
		b->err = -ENOMEM;
		return b->err;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void sb_buf_printf(struct sb_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char tmp[256];
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		sb_buf_add(b, tmp, (size_t)n);
		return;
	}
	if (sb_buf_reserve(b, (size_t)n + 1))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *sb_buf_cstr(struct sb_buf *b)
{
	if (sb_buf_reserve(b, 1))
		return "";
	b->data[b->len] = 0;
	return b->data;
}

size_t sb_fmt_u64(char *out, uint64_t v)
{
	/* two digits a division: a scrape's changed values are most of its
	 * number formatting */
	static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
				       "25262728293031323334353637383940414243444546474849"
				       "50515253545556575859606162636465666768697071727374"
				       "75767778798081828384858687888990919293949596979899";
	char tmp[24];
	size_t i = sizeof(tmp);
	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;
		v /= 100;
		tmp[--i] = pairs[d + 1];
		tmp[--i] = pairs[d];
	}
	if (v >= 10) {
		tmp[--i] = pairs[v * 2 + 1];
		tmp[--i] = pairs[v * 2];
	} else {
		tmp[--i] = (char)('0' + v);
	}
	memcpy(out, tmp + i, sizeof(tmp) - i);
	return sizeof(tmp) - i;
}

size_t sb_fmt_i64(char *out, int64_t v)
{
	if (v < 0) {
		out[0] = '-';
		return 1 + sb_fmt_u64(out + 1, (uint64_t)0 - (uint64_t)v);
	}
	return sb_fmt_u64(out, (uint64_t)v);
}

/* printf's "%.*g" of v with p (15 to 17) significant digits, for 1e-4 <=
 * |v| < 1e15 with a fraction (v = m / 2^s, 0 < s <= 66), made exactly in
 * 128-bit integers, and whether strtod reads it back as v; 0 when unsure
 * (a tie, or a rounding up to 1e15 that %g writes with an exponent). */
static size_t fmt_g_exact(char *out, double v, int p, bool *same)
{
	static const uint64_t p10[] = {1,
				       10,
				       100,
				       1000,
				       10000,
				       100000,
				       1000000,
				       10000000,
				       100000000,
				       1000000000,
				       10000000000ULL,
				       100000000000ULL,
				       1000000000000ULL,
				       10000000000000ULL,
				       100000000000000ULL,
				       1000000000000000ULL,
				       10000000000000000ULL,
				       100000000000000000ULL,
				       1000000000000000000ULL,
				       10000000000000000000ULL};
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	int be = (int)(bits >> 52 & 0x7ff);
	uint64_t m = (bits & ((1ULL << 52) - 1)) | 1ULL << 52;
	int s = 1075 - be;
	if (be == 0 || s <= 0 || s > 66)
		return 0;
	/* x: the decimal exponent of |v|, 10^x <= |v| < 10^(x+1) */
	unsigned __int128 two_s = (unsigned __int128)1 << s, mm = m;
	int x = -4;
	while (x < 14 && (x + 1 >= 0 ? mm >= (unsigned __int128)p10[x + 1] * two_s
				     : mm * p10[-(x + 1)] >= two_s))
		x++;
	int k = p - 1 - x; /* 0 <= k <= 20: |v| x 10^k has p digits before the point */
	unsigned __int128 scaled = k <= 19 ? mm * p10[k] : mm * p10[19] * 10;
	uint64_t d = (uint64_t)(scaled >> s);
	unsigned __int128 rem = scaled & (two_s - 1), half = two_s >> 1;
	if (rem > half || (rem == half && (d & 1)))
		d++; /* to nearest, ties to even, as printf */
	/* strtod gives v back when d / 10^k is nearer to v than half the gap
	 * to either neighbour (a quarter below a power of two's m) */
	unsigned __int128 ten_k =
	    k <= 19 ? (unsigned __int128)p10[k] : (unsigned __int128)p10[19] * 10;
	unsigned __int128 dd = (unsigned __int128)d << s;
	bool up = dd >= scaled;
	unsigned __int128 diff = up ? dd - scaled : scaled - dd;
	unsigned __int128 lim = 2 * diff;
	if (!up && m == 1ULL << 52)
		lim *= 2;
	if (lim == ten_k)
		return 0;
	*same = lim < ten_k;
	if (d == p10[p]) { /* 9.99.. rounded up to 10.0: one digit fewer */
		if (x + 1 >= p)
			return 0;
		x++;
		d = p10[p - 1];
	}
	char digits[24];
	size_t nd = sb_fmt_u64(digits, d), o = 0;
	while (nd > 1 && digits[nd - 1] == '0' && (int)nd > x + 1)
		nd--; /* %g drops the fraction's trailing zeros */
	if (v < 0)
		out[o++] = '-';
	if (x >= 0) {
		memcpy(out + o, digits, (size_t)x + 1);
		o += (size_t)x + 1;
		if ((int)nd > x + 1) {
			out[o++] = '.';
			memcpy(out + o, digits + x + 1, nd - (size_t)x - 1);
			o += nd - (size_t)x - 1;
		}
	} else {
		out[o++] = '0';
		out[o++] = '.';
		for (int z = -1; z > x; z--)
			out[o++] = '0';
		memcpy(out + o, digits, nd);
		o += nd;
	}
	out[o] = 0;
	return o;
}

size_t sb_fmt_double(char *out, double v)
{
	if (isnan(v)) {
		memcpy(out, "NaN", 4);
		return 3;
	}
	if (isinf(v)) {
		memcpy(out, v > 0 ? "+Inf" : "-Inf", 5);
		return 4;
	}
	/* Integral values are the common case (counters, bytes): skip printf. */
	/* range first: casting a double beyond int64 is undefined */
	if (fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v) {
		if (v == 0 && signbit(v)) {
			memcpy(out, "-0", 3);
			return 2;
		}
		size_t n = sb_fmt_i64(out, (int64_t)v);
		out[n] = 0;
		return n;
	}
	/* Most fractional metric values have few decimals (3018.54): find the
	 * fewest k with v == m / 10^k exactly; since m and 10^k are exact
	 * doubles and the division is correctly rounded, the decimal text
	 * m/10^k parses back to v. Avoids printf + strtod on the hot path. */
	static const double p10[] = {1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
	double av = fabs(v);
	if (av >= 1e-4 && av < 1e15) { /* Go and Prometheus switch to exponents below 1e-4 */
		for (int k = 0; k < 9; k++) {
			double scaled = av * p10[k];
			/* 15 digits at most: of 16, another m may be nearer to
			 * v and read back as v too, and printf writes that one */
			if (scaled >= 1e15)
				break;
			uint64_t m = (uint64_t)(scaled + 0.5);
			if ((double)m / p10[k] != av)
				continue;
			char digits[24];
			size_t nd = sb_fmt_u64(digits, m);
			size_t frac = (size_t)k + 1, o = 0;
			if (v < 0)
				out[o++] = '-';
			if (nd <= frac) {
				out[o++] = '0';
				out[o++] = '.';
				for (size_t z = nd; z < frac; z++)
					out[o++] = '0';
				memcpy(out + o, digits, nd);
				o += nd;
			} else {
				memcpy(out + o, digits, nd - frac);
				o += nd - frac;
				out[o++] = '.';
				memcpy(out + o, digits + nd - frac, frac);
				o += frac;
			}
			while (out[o - 1] == '0') /* 0.50 -> 0.5 */
				o--;
			out[o] = 0;
			return o;
		}
	}
	/* Below 1e-4 the same, in printf's %g exponent form (1.2345e-05): the
	 * durations in seconds of node_scrape_collector_duration_seconds,
	 * whole nanoseconds, come every round. m has at most 15 digits, so
	 * %.15g would print exactly its digits, and they parse back to v. */
	static const double p10s[] = {1e5,  1e6,  1e7,	1e8,  1e9,  1e10, 1e11, 1e12, 1e13,
				      1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	if (av < 1e-4 && av >= 1e-300) {
		for (int k = 0; k < 18; k++) {
			double scaled = av * p10s[k];
			if (scaled >= 1e15)
				break;
			uint64_t m = (uint64_t)(scaled + 0.5);
			if (!m || (double)m / p10s[k] != av)
				continue;
			char digits[24];
			size_t all = sb_fmt_u64(digits, m), nd = all, o = 0;
			while (nd > 1 && digits[nd - 1] == '0')
				nd--;
			if (v < 0)
				out[o++] = '-';
			out[o++] = digits[0];
			if (nd > 1) {
				out[o++] = '.';
				memcpy(out + o, digits + 1, nd - 1);
				o += nd - 1;
			}
			/* v = m / 10^(k + 5): its first digit stands for 10^-e */
			unsigned e = (unsigned)(k + 5) - (unsigned)(all - 1);
			out[o++] = 'e';
			out[o++] = '-';
			if (e >= 100)
				out[o++] = (char)('0' + e / 100);
			out[o++] = (char)('0' + e / 10 % 10);
			out[o++] = (char)('0' + e % 10);
			out[o] = 0;
			return o;
		}
	}
	/* A fraction of more digits (1796324175.6235745, 147.68800000000002):
	 * the first of 15, 16, 17 digits that reads back as v, as the printf
	 * below would find it, made without printf. */
	if (av >= 1e-4 && av < 1e15) {
		for (int p = 15; p <= 17; p++) {
			bool same = false;
			size_t n = fmt_g_exact(out, v, p, &same);
			if (!n)
				break;
			if (same)
				return n;
		}
	}
	/* The rest go through printf and strtod, a microsecond each. They are
	 * mostly the same few values every round (histogram bounds such as
	 * 2.048e-06), so the last answers are kept, per thread. */
	static __thread struct {
		uint64_t bits;
		char s[27];
		uint8_t n; /* 0: empty */
	} memo[64];
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	unsigned slot = (unsigned)((bits * 0x9e3779b97f4a7c15ULL) >> 58);
	if (memo[slot].n && memo[slot].bits == bits) {
		memcpy(out, memo[slot].s, (size_t)memo[slot].n + 1);
		return memo[slot].n;
	}
	int n = 0;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(out, 32, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			break;
	}
	if (n > 0 && (size_t)n < sizeof(memo[0].s)) {
		memo[slot].bits = bits;
		memo[slot].n = (uint8_t)n;
		memcpy(memo[slot].s, out, (size_t)n + 1);
	}
	return (size_t)n;
}

int sb_parse_u64(const char *s, uint64_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -errno;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int sb_parse_i64(const char *s, int64_t *out)
{
	if (!s || !*s || *s == ' ')
		return -EINVAL;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno)
		return -errno;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static const struct {
	const char *unit;
	int64_t ns;
} duration_units[] = {
    {"ns", 1},
    {"us", 1000},
    {"µs", 1000},
    {"ms", SB_NSEC_PER_MSEC},
    {"s", SB_NSEC_PER_SEC},
    {"m", 60 * SB_NSEC_PER_SEC},
    {"h", 3600 * SB_NSEC_PER_SEC},
    {"d", 86400 * SB_NSEC_PER_SEC},
};

int sb_parse_duration(const char *s, int64_t *ns)
{
	if (!s || !*s)
		return -EINVAL;
	if (!strcmp(s, "0")) {
		*ns = 0;
		return 0;
	}
	double total = 0;
	const char *p = s;
	while (*p) {
		char *end;
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return -EINVAL;
		errno = 0;
		double v = strtod(p, &end);
		if (end == p || errno)
			return -EINVAL;
		p = end;
		size_t best = 0;
		int64_t mult = 0;
		for (size_t i = 0; i < SB_ARRAY_SIZE(duration_units); i++) {
			size_t l = strlen(duration_units[i].unit);
			if (l > best && !strncmp(p, duration_units[i].unit, l)) {
				/* "m" must not swallow the "m" of "ms" */
				best = l;
				mult = duration_units[i].ns;
			}
		}
		if (!best)
			return -EINVAL;
		p += best;
		total += v * (double)mult;
	}
	if (total > 9.2e18)
		return -ERANGE;
	*ns = (int64_t)(total + 0.5);
	return 0;
}

void sb_fmt_duration(char *out, size_t n, int64_t ns)
{
	static const struct {
		const char *u;
		int64_t m;
	} units[] = {{"h", 3600 * SB_NSEC_PER_SEC},
		     {"m", 60 * SB_NSEC_PER_SEC},
		     {"s", SB_NSEC_PER_SEC},
		     {"ms", SB_NSEC_PER_MSEC},
		     {"us", 1000},
		     {"ns", 1}};
	if (ns == 0) {
		snprintf(out, n, "0s");
		return;
	}
	for (size_t i = 0; i < SB_ARRAY_SIZE(units); i++) {
		if (ns % units[i].m == 0) {
			snprintf(out, n, "%lld%s", (long long)(ns / units[i].m), units[i].u);
			return;
		}
	}
}

int sb_parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *u;
		uint64_t m;
	} units[] = {
	    {"", 1},
	    {"B", 1},
	    {"k", 1000},
	    {"K", 1000},
	    {"KB", 1000},
	    {"kB", 1000},
	    {"KiB", 1ULL << 10},
	    {"M", 1000000},
	    {"MB", 1000000},
	    {"MiB", 1ULL << 20},
	    {"G", 1000000000},
	    {"GB", 1000000000},
	    {"GiB", 1ULL << 30},
	    {"T", 1000000000000ULL},
	    {"TB", 1000000000000ULL},
	    {"TiB", 1ULL << 40},
	};
	if (!s || !*s || !((*s >= '0' && *s <= '9') || *s == '.'))
		return -EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	for (size_t i = 0; i < SB_ARRAY_SIZE(units); i++) {
		if (!strcmp(end, units[i].u)) {
			double b = v * (double)units[i].m;
			if (b >= SB_SIZE_MAX_BYTES)
				return -ERANGE;
			*bytes = (uint64_t)(b + 0.5);
			return 0;
		}
	}
	return -EINVAL;
}

void sb_fmt_size(char *out, size_t n, uint64_t bytes)
{
	static const char *units[] = {"TiB", "GiB", "MiB", "KiB"};
	for (int i = 0; i < 4; i++) {
		uint64_t m = 1ULL << (10 * (4 - i));
		if (bytes && bytes % m == 0) {
			snprintf(out, n, "%llu%s", (unsigned long long)(bytes / m), units[i]);
			return;
		}
	}
	snprintf(out, n, "%llu", (unsigned long long)bytes);
}

int64_t sb_now_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * SB_NSEC_PER_SEC + ts.tv_nsec;
}

int sb_cond_init_mono(pthread_cond_t *cond)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	int r = pthread_cond_init(cond, &a);
	pthread_condattr_destroy(&a);
	return -r;
}

struct timespec sb_real_timespec_after(int64_t ns)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t t = (int64_t)ts.tv_sec * SB_NSEC_PER_SEC + ts.tv_nsec + (ns > 0 ? ns : 0);
	return (struct timespec){.tv_sec = t / SB_NSEC_PER_SEC, .tv_nsec = t % SB_NSEC_PER_SEC};
}

struct timespec sb_mono_timespec(int64_t mono_ns)
{
	return (struct timespec){.tv_sec = mono_ns / SB_NSEC_PER_SEC,
				 .tv_nsec = mono_ns % SB_NSEC_PER_SEC};
}

void sb_jitter_seed(uint64_t *state, uint64_t salt)
{
	if (getrandom(state, sizeof(*state), 0) != sizeof(*state) || !*state)
		*state = 0x9e3779b97f4a7c15ULL ^ (uint64_t)sb_now_mono_ns() ^ salt;
	if (!*state) /* xorshift stays at 0 for ever */
		*state = 0x9e3779b97f4a7c15ULL;
}

uint64_t sb_jitter_next(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

int64_t sb_now_real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * SB_NSEC_PER_SEC + ts.tv_nsec;
}

size_t sb_fmt_rfc3339(struct sb_timefmt *c, char out[32], int64_t real_ns)
{
	int64_t sec = real_ns / SB_NSEC_PER_SEC;
	int64_t nsec = real_ns % SB_NSEC_PER_SEC;
	if (nsec < 0) {
		nsec += SB_NSEC_PER_SEC;
		sec--;
	}
	if (sec != c->sec || !c->prefix[0]) {
		time_t t = (time_t)sec;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(c->prefix, sizeof(c->prefix), "%Y-%m-%dT%H:%M:%S.", &tm);
		c->sec = sec;
	}
	memcpy(out, c->prefix, 20);
	for (int i = 28; i >= 20; i--) {
		out[i] = (char)('0' + nsec % 10);
		nsec /= 10;
	}
	out[29] = 'Z';
	out[30] = 0;
	return 30;
}

ssize_t sb_read_file(const char *path, struct sb_buf *buf, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	sb_buf_reset(buf);
	ssize_t ret = 0;
	for (;;) {
		if (sb_buf_reserve(buf, 4096)) {
			ret = -ENOMEM;
			break;
		}
		ssize_t n = read(fd, buf->data + buf->len, buf->cap - buf->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n == 0) {
			ret = (ssize_t)buf->len;
			break;
		}
		buf->len += (size_t)n;
		if (buf->len > max) {
			ret = -EFBIG;
			break;
		}
	}
	close(fd);
	if (ret >= 0)
		buf->data[buf->len] = 0;
	return ret;
}

int sb_random_id(char out[33])
{
	unsigned char r[16];
	size_t got = 0;
	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[32] = 0;
	return 0;
}

char *sb_trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = 0;
	return s;
}

uint64_t sb_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

bool sb_list_has(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && !strncmp(p, word, n))
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

void sb_expand_name(char *out, size_t n, const char *tmpl, const char *name)
{
	size_t o = 0;
	for (const char *p = tmpl; *p && o + 1 < n; p++) {
		if (!strncmp(p, "{name}", 6)) {
			for (const char *q = name; *q && o + 1 < n; q++)
				out[o++] = *q;
			p += 5;
			continue;
		}
		out[o++] = *p;
	}
	out[o] = 0;
}

int sb_grow(void **v, size_t *cap, size_t want, size_t elem)
{
	if (want <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 16;
	while (nc < want)
		nc *= 2;
	void *np = realloc(*v, nc * elem);
	if (!np)
		return -ENOMEM;
	*v = np;
	*cap = nc;
	return 0;
}

void sb_thread_name(const char *fmt, ...)
{
	char name[16]; /* the kernel keeps 15 bytes and a NUL */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	/* only a label for tools: a failure changes nothing the agent does */
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
}
