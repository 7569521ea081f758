/* <sysfs>/fs/bcache/<uuid>: node_exporter 1.5.0's bcache collector, per
 * cache set, with the rules of the procfs library it uses (0.8):
 * - a value file loses its last byte (the newline) and is "dehumanized":
 *   bch_hprint's "1.1M" is 1 + 1/10.24 times 2^20 (procfs' reading of its
 *   fraction), truncated to an integer; a plain number is a Go float;
 * - a value file that is absent counts 0; writeback_rate_debug (and
 *   priority_stats when asked for) must be there;
 * - internal/btree_read_average_duration_us is taken as nanoseconds, so
 *   node_bcache_btree_read_average_duration_seconds is 1000 times too
 *   small, as in every node_exporter so far.
 * Backing devices are <uuid>/bdev<N>, caches <uuid>/cache<N>. node_exporter
 * drops every cache set on one bad file; here only that set is left out
 * (and reported). Sets are listed at start, every RESCAN_ROUNDS rounds and
 * after a read failed. The five-minute statistics, which 1.5.0 reads but
 * does not report, are not read. */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

#define RESCAN_ROUNDS 60
#define MAX_SETS 64
#define MAX_DEVS 64
#define KEEP_OPEN_FILES 128

struct bc_series {
	const char *file, *name, *help;
	enum sb_mtype type;
	double scale;
};

static const struct bc_series set_series[] = {
    {"average_key_size", "node_bcache_average_key_size_sectors",
     "Average data per key in the btree (sectors).", SB_GAUGE, 1},
    {"btree_cache_size", "node_bcache_btree_cache_size_bytes",
     "Amount of memory currently used by the btree cache.", SB_GAUGE, 1},
    {"cache_available_percent", "node_bcache_cache_available_percent",
     "Percentage of cache device without dirty data, usable for writeback (may contain clean "
     "cached data).",
     SB_GAUGE, 1},
    {"congested", "node_bcache_congested", "Congestion.", SB_GAUGE, 1},
    {"root_usage_percent", "node_bcache_root_usage_percent",
     "Percentage of the root btree node in use (tree depth increases if too high).", SB_GAUGE, 1},
    {"tree_depth", "node_bcache_tree_depth", "Depth of the btree.", SB_GAUGE, 1},
    {"internal/active_journal_entries", "node_bcache_active_journal_entries",
     "Number of journal entries that are newer than the index.", SB_GAUGE, 1},
    {"internal/btree_nodes", "node_bcache_btree_nodes", "Total nodes in the btree.", SB_GAUGE, 1},
    {"internal/btree_read_average_duration_us", "node_bcache_btree_read_average_duration_seconds",
     "Average btree read duration.", SB_GAUGE, 1e-9},
    {"internal/cache_read_races", "node_bcache_cache_read_races_total",
     "Counts instances where while data was being read from the cache, the bucket was reused "
     "and invalidated - i.e. where the pointer was stale after the read completed.",
     SB_COUNTER, 1},
};
#define NSET SB_ARRAY_SIZE(set_series)

/* per backing device: dirty_data, then writeback_rate_debug's terms */
static const struct bc_series bdev_series[] = {
    {"dirty_data", "node_bcache_dirty_data_bytes",
     "Amount of dirty data for this backing device in the cache.", SB_GAUGE, 1},
    {"stats_total/bypassed", "node_bcache_bypassed_bytes_total",
     "Amount of IO (both reads and writes) that has bypassed the cache.", SB_COUNTER, 1},
    {"stats_total/cache_hits", "node_bcache_cache_hits_total",
     "Hits counted per individual IO as bcache sees them.", SB_COUNTER, 1},
    {"stats_total/cache_misses", "node_bcache_cache_misses_total",
     "Misses counted per individual IO as bcache sees them.", SB_COUNTER, 1},
    {"stats_total/cache_bypass_hits", "node_bcache_cache_bypass_hits_total",
     "Hits for IO intended to skip the cache.", SB_COUNTER, 1},
    {"stats_total/cache_bypass_misses", "node_bcache_cache_bypass_misses_total",
     "Misses for IO intended to skip the cache.", SB_COUNTER, 1},
    {"stats_total/cache_miss_collisions", "node_bcache_cache_miss_collisions_total",
     "Instances where data insertion from cache miss raced with write (data already present).",
     SB_COUNTER, 1},
    {"stats_total/cache_readaheads", "node_bcache_cache_readaheads_total",
     "Count of times readahead occurred.", SB_COUNTER, 1},
};
#define NBDEV SB_ARRAY_SIZE(bdev_series)

/* writeback_rate_debug lines: prefix, value suffix, signed */
enum { W_RATE, W_DIRTY, W_TARGET, W_PROP, W_INTEGRAL, W_CHANGE, W_NEXT_IO, NW };
static const struct {
	const char *prefix, *suffix;
	bool sign;
} wrd_lines[NW] = {
    [W_RATE] = {"rate:", "/sec", false},    [W_DIRTY] = {"dirty:", "", false},
    [W_TARGET] = {"target:", "", false},    [W_PROP] = {"proportional:", "", true},
    [W_INTEGRAL] = {"integral:", "", true}, [W_CHANGE] = {"change:", "/sec", true},
    [W_NEXT_IO] = {"next io:", "ms", true},
};
/* emitted after dirty_data, in 1.5.0's order */
static const struct {
	unsigned line;
	const char *name, *help;
} wrd_series[] = {
    {W_TARGET, "node_bcache_dirty_target_bytes",
     "Current dirty data target threshold for this backing device in bytes."},
    {W_RATE, "node_bcache_writeback_rate",
     "Current writeback rate for this backing device in bytes."},
    {W_PROP, "node_bcache_writeback_rate_proportional_term",
     "Current result of proportional controller, part of writeback rate"},
    {W_INTEGRAL, "node_bcache_writeback_rate_integral_term",
     "Current result of integral controller, part of writeback rate"},
    {W_CHANGE, "node_bcache_writeback_change",
     "Last writeback rate change step for this backing device."},
};

static const struct bc_series cache_series[] = {
    {"io_errors", "node_bcache_io_errors",
     "Number of errors that have occurred, decayed by io_error_halflife.", SB_GAUGE, 1},
    {"metadata_written", "node_bcache_metadata_written_bytes_total",
     "Sum of all non data writes (btree writes and all other metadata).", SB_COUNTER, 1},
    {"written", "node_bcache_written_bytes_total",
     "Sum of all data that has been written to the cache.", SB_COUNTER, 1},
};
#define NCACHE SB_ARRAY_SIZE(cache_series)

struct bc_bdev {
	char name[NAME_MAX + 1];
	struct sb_procfile f[NBDEV], wrd;
	double v[NBDEV], w[NW];
};

struct bc_cache {
	char name[NAME_MAX + 1];
	struct sb_procfile f[NCACHE], prio;
	double v[NCACHE], unused, metadata;
};

struct bc_set {
	char name[NAME_MAX + 1];
	struct sb_procfile f[NSET];
	double v[NSET];
	struct bc_bdev *b;
	size_t nb;
	struct bc_cache *c;
	size_t nc;
};

struct bcache {
	char base[PATH_MAX];
	bool prio; /* bcache_priority_stats */
	struct bc_set *s;
	size_t n;
	bool scanned;
	uint64_t scan_round;
	struct sb_ratelimit rl;
};

/* Go's uint64(f) on amd64: truncation, out of range the "indefinite"
 * 1<<63 (what a NaN, an infinity or a huge mantissa gives there). */
static uint64_t go_f2u(double f)
{
	const double two63 = 9223372036854775808.0;
	if (!(f > -two63 && f < 2 * two63))
		return 1ull << 63;
	if (f < two63)
		return (uint64_t)(int64_t)f;
	return (uint64_t)(int64_t)(f - two63) ^ (1ull << 63);
}

/* procfs' parsePseudoFloat: bch_hprint's fraction is tenths of 1024ths */
static bool pseudo_float(const char *s, size_t n, double *v)
{
	const char *dot = memchr(s, '.', n);
	double ip, fp;
	if (!dot)
		return sb_proc_go_float(s, n, v);
	const char *f = dot + 1, *fend = memchr(f, '.', (size_t)(s + n - f));
	if (!fend)
		fend = s + n;
	if (!sb_proc_go_float(s, (size_t)(dot - s), &ip) ||
	    !sb_proc_go_float(f, (size_t)(fend - f), &fp))
		return false;
	*v = ip + fp / 10.24;
	return true;
}

/* procfs' dehumanize: a bch_hprint value ("20.4G") or a plain number. */
static bool dehumanize(const char *s, size_t n, uint64_t *v)
{
	if (!n)
		return false;
	unsigned char last = (unsigned char)s[n - 1];
	double m;
	if (last <= '9') {
		if (!sb_proc_go_float(s, n, &m))
			return false;
		*v = go_f2u(m);
		return true;
	}
	static const char units[] = "kMGTPEZY";
	const char *u = memchr(units, last, sizeof(units) - 1);
	/* an unknown unit multiplies by 0, as procfs' map lookup */
	double mul = u ? ldexp(1, 10 * (int)(u - units + 1)) : 0;
	if (!pseudo_float(s, n - 1, &m))
		return false;
	*v = go_f2u(m * mul);
	return true;
}

static bool dehumanize_signed(const char *s, size_t n, double *v)
{
	bool neg = n && *s == '-';
	uint64_t u;
	if (!dehumanize(s + neg, n - neg, &u))
		return false;
	*v = (double)(int64_t)(neg ? 0 - u : u);
	return true;
}

/* A value file: its text without the last byte (the kernel's newline). */
static bool value_file(const char *text, double *v)
{
	size_t n = strlen(text);
	uint64_t u;
	if (!n || text[n - 1] != '\n' || !dehumanize(text, n - 1, &u))
		return false;
	*v = (double)u;
	return true;
}

/* The last blank-separated word of the line at p, without suffix. */
static size_t last_word(const char *p, const char *eol, const char *suffix, const char **w)
{
	while (eol > p && (eol[-1] == ' ' || eol[-1] == '\t' || eol[-1] == '\r'))
		eol--;
	const char *b = eol;
	while (b > p && b[-1] != ' ' && b[-1] != '\t')
		b--;
	size_t n = (size_t)(eol - b), sl = strlen(suffix);
	if (n >= sl && !memcmp(b + n - sl, suffix, sl))
		n -= sl;
	*w = b;
	return n;
}

static void parse_wrd(const char *text, double *w, struct sb_proc_perr *e)
{
	unsigned lineno = 0;
	for (unsigned k = 0; k < NW; k++)
		w[k] = 0;
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		const char *eol = sb_pp_eol(p);
		for (unsigned k = 0; k < NW; k++) {
			size_t pl = strlen(wrd_lines[k].prefix);
			if (strncmp(p, wrd_lines[k].prefix, pl))
				continue;
			const char *v;
			size_t n = last_word(p, eol, wrd_lines[k].suffix, &v);
			int64_t i;
			uint64_t u;
			bool ok = k == W_NEXT_IO      ? sb_proc_go_int(v, n, 10, &i)
				  : wrd_lines[k].sign ? dehumanize_signed(v, n, &w[k])
						      : dehumanize(v, n, &u);
			if (!ok)
				sb_proc_bad(e, lineno, "%s bad value", wrd_lines[k].prefix);
			else if (!wrd_lines[k].sign)
				w[k] = (double)u;
			break;
		}
	}
}

/* priority_stats' "Unused: 99%" and "Metadata: 0%" */
static void parse_prio(const char *text, struct bc_cache *c, struct sb_proc_perr *e)
{
	unsigned lineno = 0;
	c->unused = c->metadata = 0;
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		double *dst = !strncmp(p, "Unused:", 7)	    ? &c->unused
			      : !strncmp(p, "Metadata:", 9) ? &c->metadata
							    : NULL;
		if (!dst)
			continue;
		const char *v;
		size_t n = last_word(p, sb_pp_eol(p), "%", &v);
		int64_t x;
		if (!n || *v == '-' || *v == '+' || !sb_proc_go_int(v, n, 10, &x))
			sb_proc_bad(e, lineno, "expected a percentage");
		else
			*dst = (double)x;
	}
}

/* ---- listing ---- */

static void free_sets(struct bcache *bc)
{
	for (size_t i = 0; i < bc->n; i++) {
		struct bc_set *s = &bc->s[i];
		for (size_t k = 0; k < NSET; k++)
			sb_procfile_free(&s->f[k]);
		for (size_t j = 0; j < s->nb; j++) {
			for (size_t k = 0; k < NBDEV; k++)
				sb_procfile_free(&s->b[j].f[k]);
			sb_procfile_free(&s->b[j].wrd);
		}
		for (size_t j = 0; j < s->nc; j++) {
			for (size_t k = 0; k < NCACHE; k++)
				sb_procfile_free(&s->c[j].f[k]);
			sb_procfile_free(&s->c[j].prio);
		}
		free(s->b);
		free(s->c);
	}
	free(bc->s);
	bc->s = NULL;
	bc->n = 0;
}

/* The base names matching pattern, as Go's filepath.Glob (sorted). */
static int glob_names(const char *pattern, void **v, size_t *n, size_t elem, size_t max)
{
	glob_t g;
	int r = glob(pattern, 0, NULL, &g);
	if (r == GLOB_NOMATCH)
		return 0;
	if (r)
		return r == GLOB_NOSPACE ? -ENOMEM : -EIO;
	size_t cap = 0;
	for (size_t i = 0; i < g.gl_pathc && *n < max; i++) {
		if (sb_grow(v, &cap, *n + 1, elem)) {
			r = -ENOMEM;
			break;
		}
		char *x = (char *)*v + elem * (*n)++;
		memset(x, 0, elem);
		const char *base = strrchr(g.gl_pathv[i], '/');
		snprintf(x, NAME_MAX + 1, "%s", base ? base + 1 : g.gl_pathv[i]);
	}
	globfree(&g);
	return r;
}

static int file_init(struct sb_procfile *f, bool keep, const char *fmt, ...) SB_PRINTF(3, 4);
static int file_init(struct sb_procfile *f, bool keep, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (w < 0 || w >= (int)sizeof(path))
		return -ENAMETOOLONG;
	int r = sb_procfile_init(f, path, 64 * 1024, keep);
	f->single = true; /* a sysfs attribute: one show() */
	return r;
}

static int scan(struct bcache *bc)
{
	free_sets(bc);
	char pat[PATH_MAX + NAME_MAX + 32];
	snprintf(pat, sizeof(pat), "%s/*-*", bc->base);
	int r = glob_names(pat, (void **)&bc->s, &bc->n, sizeof(*bc->s), MAX_SETS);
	size_t nfiles = 0;
	for (size_t i = 0; i < bc->n && !r; i++) {
		struct bc_set *s = &bc->s[i];
		snprintf(pat, sizeof(pat), "%s/%s/bdev[0-9]*", bc->base, s->name);
		r = glob_names(pat, (void **)&s->b, &s->nb, sizeof(*s->b), MAX_DEVS);
		snprintf(pat, sizeof(pat), "%s/%s/cache[0-9]*", bc->base, s->name);
		if (!r)
			r = glob_names(pat, (void **)&s->c, &s->nc, sizeof(*s->c), MAX_DEVS);
		nfiles += NSET + s->nb * (NBDEV + 1) + s->nc * (NCACHE + 1);
	}
	bool keep = nfiles <= KEEP_OPEN_FILES;
	/* every procfile's fd is -1 before any init, so free_sets is safe */
	for (size_t i = 0; i < bc->n; i++) {
		struct bc_set *s = &bc->s[i];
		for (size_t k = 0; k < NSET; k++)
			s->f[k].fd = -1;
		for (size_t j = 0; j < s->nb; j++) {
			for (size_t k = 0; k < NBDEV; k++)
				s->b[j].f[k].fd = -1;
			s->b[j].wrd.fd = -1;
		}
		for (size_t j = 0; j < s->nc; j++) {
			for (size_t k = 0; k < NCACHE; k++)
				s->c[j].f[k].fd = -1;
			s->c[j].prio.fd = -1;
		}
	}
	for (size_t i = 0; i < bc->n && !r; i++) {
		struct bc_set *s = &bc->s[i];
		const char *b = bc->base, *u = s->name;
		for (size_t k = 0; k < NSET && !r; k++)
			r = file_init(&s->f[k], keep, "%s/%s/%s", b, u, set_series[k].file);
		for (size_t j = 0; j < s->nb && !r; j++) {
			for (size_t k = 0; k < NBDEV && !r; k++)
				r = file_init(&s->b[j].f[k], keep, "%s/%s/%s/%s", b, u,
					      s->b[j].name, bdev_series[k].file);
			if (!r)
				r = file_init(&s->b[j].wrd, keep, "%s/%s/%s/writeback_rate_debug",
					      b, u, s->b[j].name);
		}
		for (size_t j = 0; j < s->nc && !r; j++) {
			for (size_t k = 0; k < NCACHE && !r; k++)
				r = file_init(&s->c[j].f[k], keep, "%s/%s/%s/%s", b, u,
					      s->c[j].name, cache_series[k].file);
			if (!r)
				r = file_init(&s->c[j].prio, keep, "%s/%s/%s/priority_stats", b, u,
					      s->c[j].name);
		}
	}
	return r;
}

/* ---- reading ---- */

/* A value file into *v (absent: 0); false when the set must be left out,
 * with *r set. */
static bool read_value(struct proc_state *st, struct sb_procfile *f, double *v, int *r)
{
	*v = 0;
	const char *text = sb_proc_read(st, f, true);
	if (!text) {
		int e = sb_proc_read_err(f, true);
		if (e && !*r)
			*r = e;
		return !e;
	}
	if (value_file(text, v))
		return true;
	struct sb_proc_perr e = {0};
	sb_proc_bad(&e, 1, "expected a number or a bch_hprint value");
	if (sb_proc_report(st, f, &e) && !*r)
		*r = -EINVAL;
	return false;
}

/* A file that must be there, parsed by fn into arg. */
static bool read_lines(struct proc_state *st, struct sb_procfile *f,
		       void (*fn)(const char *text, void *arg, struct sb_proc_perr *e), void *arg,
		       int *r)
{
	const char *text = sb_proc_read(st, f, false);
	if (!text) {
		if (!*r)
			*r = sb_proc_read_err(f, false);
		return false;
	}
	struct sb_proc_perr e = {0};
	fn(text, arg, &e);
	if (sb_proc_report(st, f, &e)) {
		if (!*r)
			*r = -EINVAL;
		return false;
	}
	return true;
}

static void wrd_fn(const char *text, void *arg, struct sb_proc_perr *e) { parse_wrd(text, arg, e); }

static void prio_fn(const char *text, void *arg, struct sb_proc_perr *e)
{
	parse_prio(text, arg, e);
}

static bool read_set(struct proc_state *st, struct bcache *bc, struct bc_set *s, int *r)
{
	for (size_t k = 0; k < NSET; k++)
		if (!read_value(st, &s->f[k], &s->v[k], r))
			return false;
	for (size_t j = 0; j < s->nb; j++) {
		struct bc_bdev *d = &s->b[j];
		for (size_t k = 0; k < NBDEV; k++)
			if (!read_value(st, &d->f[k], &d->v[k], r))
				return false;
		if (!read_lines(st, &d->wrd, wrd_fn, d->w, r))
			return false;
	}
	for (size_t j = 0; j < s->nc; j++) {
		struct bc_cache *c = &s->c[j];
		for (size_t k = 0; k < NCACHE; k++)
			if (!read_value(st, &c->f[k], &c->v[k], r))
				return false;
		if (bc->prio && !read_lines(st, &c->prio, prio_fn, c, r))
			return false;
	}
	return true;
}

static void put(struct sb_evb *b, const struct bc_series *x, double v, const char *uuid,
		const char *dev_label, const char *dev)
{
	sb_evb_sample(b, x->name, x->type, v * x->scale);
	sb_evb_help(b, x->help);
	sb_evb_label(b, "uuid", uuid);
	if (dev_label)
		sb_evb_label(b, dev_label, dev);
}

static void emit_set(struct sb_evb *b, const struct bcache *bc, const struct bc_set *s)
{
	for (size_t k = 0; k < NSET; k++)
		put(b, &set_series[k], s->v[k], s->name, NULL, NULL);
	for (size_t j = 0; j < s->nb; j++) {
		const struct bc_bdev *d = &s->b[j];
		put(b, &bdev_series[0], d->v[0], s->name, "backing_device", d->name);
		for (size_t k = 0; k < SB_ARRAY_SIZE(wrd_series); k++) {
			const struct bc_series x = {NULL, wrd_series[k].name, wrd_series[k].help,
						    SB_GAUGE, 1};
			put(b, &x, d->w[wrd_series[k].line], s->name, "backing_device", d->name);
		}
		for (size_t k = 1; k < NBDEV; k++)
			put(b, &bdev_series[k], d->v[k], s->name, "backing_device", d->name);
	}
	for (size_t j = 0; j < s->nc; j++) {
		const struct bc_cache *c = &s->c[j];
		for (size_t k = 0; k < NCACHE; k++)
			put(b, &cache_series[k], c->v[k], s->name, "cache_device", c->name);
		if (!bc->prio)
			continue;
		static const struct bc_series unused = {
		    NULL, "node_bcache_priority_stats_unused_percent",
		    "The percentage of the cache that doesn't contain any data.", SB_GAUGE, 1};
		static const struct bc_series meta = {NULL,
						      "node_bcache_priority_stats_metadata_percent",
						      "Bcache's metadata overhead.", SB_GAUGE, 1};
		put(b, &unused, c->unused, s->name, "cache_device", c->name);
		put(b, &meta, c->metadata, s->name, "cache_device", c->name);
	}
}

static int bcache_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct bcache *bc = calloc(1, sizeof(*bc));
	if (!bc)
		return -ENOMEM;
	c->priv = bc;
	bc->prio = st->cfg->bcache_priority_stats;
	bc->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	if (snprintf(bc->base, sizeof(bc->base), "%s/fs/bcache", st->cfg->sysfs) >=
	    (int)sizeof(bc->base))
		return -ENAMETOOLONG;
	return 0; /* listed on the first round */
}

static void bcache_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct bcache *bc = c->priv;
	if (!bc)
		return;
	free_sets(bc);
	free(bc);
	c->priv = NULL;
}

static int bcache_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct bcache *bc = c->priv;
	int r = 0;
	if (!bc->scanned || st->round - bc->scan_round >= RESCAN_ROUNDS) {
		bc->scanned = true;
		bc->scan_round = st->round;
		r = scan(bc);
		if (r) {
			st->errors++;
			sb_log_rl(&bc->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", bc->base,
				  strerror(-r));
		}
	}
	for (size_t i = 0; i < bc->n; i++) {
		int e = 0;
		if (read_set(st, bc, &bc->s[i], &e)) {
			emit_set(b, bc, &bc->s[i]);
			continue;
		}
		if (e != -EINVAL)
			bc->scanned = false; /* gone? list them again */
		if (!r)
			r = e;
	}
	return r;
}

static const struct sb_cfg_key bcache_keys[] = {
    {"bcache_priority_stats", SB_CT_BOOL, offsetof(struct proc_cfg, bcache_priority_stats), "false",
     "also node_bcache_priority_stats_*_percent from each cache's priority_stats (expensive "
     "for the kernel to make)"},
    {0},
};

const struct sb_proc_collector sb_proc_collector_bcache = {
    .name = "bcache",
    .default_on = true,
    .keys = bcache_keys,
    .init = bcache_init,
    .collect = bcache_collect,
    .free = bcache_free,
};
