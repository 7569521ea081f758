/* /proc/spl/kstat/zfs: node_exporter 1.5.0's zfs collector. Named kstat
 * files ("name type data" header, then one line per counter; only type 4,
 * uint64, is taken) become node_zfs_<subsystem>_<name>, untyped, HELP
 * "kstat.zfs.misc.<file>.<name>"; per pool, <pool>/io gives
 * node_zfs_zpool_<field>{zpool}, <pool>/objset-* node_zfs_zpool_dataset_*
 * {zpool,dataset} and <pool>/state node_zfs_zpool_state{zpool,state}.
 * As 1.5.0, "dbuf_stats" is the name looked for (ZFS writes dbufstats,
 * so it is never read). A bad line is reported and left out (1.5.0 stops
 * the whole scrape there), and every line must end with its newline. Pools are listed at start
 * and every RESCAN_ROUNDS rounds. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proc.h"

#define RESCAN_ROUNDS 60
#define MAX_POOLS 256
#define MAX_OBJSETS 4096

static const struct {
	const char *file, *subsystem;
} kstats[] = {
    {"abdstats", "zfs_abd"},
    {"arcstats", "zfs_arc"},
    {"dbuf_stats", "zfs_dbuf"},
    {"dmu_tx", "zfs_dmu_tx"},
    {"dnodestats", "zfs_dnode"},
    {"fm", "zfs_fm"},
    {"vdev_cache_stats", "zfs_vdev_cache"},
    {"vdev_mirror_stats", "zfs_vdev_mirror"},
    {"xuio_stats", "zfs_xuio"},
    {"zfetchstats", "zfs_zfetch"},
    {"zil", "zfs_zil"},
};
#define NKSTATS SB_ARRAY_SIZE(kstats)

static bool word_is(const char *w, size_t wl, const char *s)
{
	return wl == strlen(s) && !memcmp(w, s, wl);
}

/* The whole word a decimal uint64 (Go's ParseUint). */
static bool word_u64(const char *w, size_t wl, uint64_t *v)
{
	const char *q = w;
	return wl && sb_pp_u64(&q, v) && q == w + wl;
}

/* node_<prefix>_<key, '-' made '_'> with HELP kstat.zfs.misc.<file>.<key>;
 * false when the key cannot be a metric name. */
static bool kstat_sample(struct sb_evb *b, const char *prefix, const char *file, const char *key,
			 size_t kl, enum sb_mtype type, double v)
{
	char k[128], name[192], help[192];
	if (kl >= sizeof(k))
		return false;
	for (size_t i = 0; i < kl; i++)
		k[i] = key[i] == '-' ? '_' : key[i];
	k[kl] = 0;
	if (!sb_proc_name_ok(k, kl))
		return false;
	SB_PROC_JOIN(name, SB_PJ("node_"), SB_PJ(prefix), SB_PJ("_"), SB_PJN(k, kl));
	SB_PROC_JOIN(help, SB_PJ("kstat.zfs.misc."), SB_PJ(file), SB_PJ("."), SB_PJN(key, kl));
	sb_evb_sample(b, name, type, v);
	sb_evb_help(b, help);
	return true;
}

/* Lines of a named kstat after its header: fn(arg, line's three words). */
typedef void (*kstat_fn)(void *arg, const char *const w[3], const size_t wl[3], unsigned lineno);

static bool kstat_lines(const char *text, kstat_fn fn, void *arg, struct sb_proc_perr *e)
{
	bool header = false;
	unsigned lineno = 0;
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		const char *w[4], *q = p;
		size_t wl[4];
		int n = 0;
		while (n < 4 && (wl[n] = sb_pp_word(&q, &w[n])))
			n++;
		if (!header) {
			header = n == 3 && word_is(w[0], wl[0], "name") &&
				 word_is(w[1], wl[1], "type") && word_is(w[2], wl[2], "data");
			continue;
		}
		if (n >= 3)
			fn(arg, w, wl, lineno);
	}
	if (!header)
		sb_proc_bad(e, 0, "no \"name type data\" header");
	return header;
}

struct kstat_ctx {
	struct sb_evb *b;
	struct sb_proc_perr *e;
	const char *file, *subsystem, *pool, *dataset;
	size_t dlen;
	char dsbuf[256];
	int n;
};

static void named_line(void *arg, const char *const w[3], const size_t wl[3], unsigned lineno)
{
	struct kstat_ctx *c = arg;
	uint64_t v;
	if (!word_is(w[1], wl[1], "4"))
		return; /* 1.5.0 takes KSTAT_DATA_UINT64 only */
	if (!word_u64(w[2], wl[2], &v)) {
		sb_proc_bad(c->e, lineno, "%.*s: expected an unsigned number",
			    (int)(wl[0] > 48 ? 48 : wl[0]), w[0]);
		return;
	}
	if (!kstat_sample(c->b, c->subsystem, c->file, w[0], wl[0], SB_UNTYPED, (double)v)) {
		sb_proc_bad(c->e, lineno, "not a metric name");
		return;
	}
	c->n++;
}

int sb_proc_parse_zfs_kstat(const char *text, const char *file, const char *subsystem,
			    struct sb_evb *b, struct sb_proc_perr *e)
{
	struct kstat_ctx c = {.b = b, .e = e, .file = file, .subsystem = subsystem};
	kstat_lines(text, named_line, &c, e);
	return c.n;
}

static void objset_line(void *arg, const char *const w[3], const size_t wl[3], unsigned lineno)
{
	struct kstat_ctx *c = arg;
	uint64_t v;
	if (word_is(w[0], wl[0], "dataset_name")) {
		c->dlen = wl[2] < sizeof(c->dsbuf) ? wl[2] : sizeof(c->dsbuf) - 1;
		memcpy(c->dsbuf, w[2], c->dlen);
		c->dsbuf[c->dlen] = 0;
		return;
	}
	if (!word_is(w[1], wl[1], "4"))
		return;
	if (!word_u64(w[2], wl[2], &v)) {
		sb_proc_bad(c->e, lineno, "%.*s: expected an unsigned number",
			    (int)(wl[0] > 48 ? 48 : wl[0]), w[0]);
		return;
	}
	if (!kstat_sample(c->b, "zfs_zpool_dataset", "objset", w[0], wl[0], SB_UNTYPED,
			  (double)v)) {
		sb_proc_bad(c->e, lineno, "not a metric name");
		return;
	}
	sb_evb_label(c->b, "zpool", c->pool);
	sb_evb_labeln(c->b, "dataset", 7, c->dsbuf, c->dlen);
	c->n++;
}

int sb_proc_parse_zfs_objset(const char *text, const char *pool, struct sb_evb *b,
			     struct sb_proc_perr *e)
{
	struct kstat_ctx c = {.b = b, .e = e, .pool = pool};
	kstat_lines(text, objset_line, &c, e);
	return c.n;
}

#define IO_MAX_FIELDS 16

/* <pool>/io: a line of field names starting "nread" (12 or more), then
 * lines of as many numbers. */
int sb_proc_parse_zfs_io(const char *text, const char *pool, struct sb_evb *b,
			 struct sb_proc_perr *e)
{
	const char *f[IO_MAX_FIELDS];
	size_t fl[IO_MAX_FIELDS];
	unsigned nf = 0, lineno = 0;
	int n = 0;
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		const char *q = p, *w;
		size_t wl;
		if (!nf) {
			unsigned k = 0;
			while ((wl = sb_pp_word(&q, &w)) && k < IO_MAX_FIELDS) {
				f[k] = w;
				fl[k++] = wl;
			}
			if (k >= 12 && word_is(f[0], fl[0], "nread"))
				nf = k;
			continue;
		}
		uint64_t v[IO_MAX_FIELDS];
		unsigned k = 0;
		while (k < nf && (wl = sb_pp_word(&q, &w)) && word_u64(w, wl, &v[k]))
			k++;
		if (k < nf) {
			sb_proc_bad(e, lineno, "expected %u unsigned numbers", nf);
			continue;
		}
		for (unsigned i = 0; i < nf; i++) {
			if (!kstat_sample(b, "zfs_zpool", "io", f[i], fl[i], SB_UNTYPED,
					  (double)v[i])) {
				sb_proc_bad(e, lineno - 1, "not a metric name");
				continue;
			}
			sb_evb_label(b, "zpool", pool);
			n++;
		}
	}
	return n;
}

int sb_proc_parse_zfs_state(const char *text, const char *pool, struct sb_evb *b,
			    struct sb_proc_perr *e)
{
	static const char *const states[] = {"online",	"degraded", "faulted",
					     "offline", "removed",  "unavail"};
	if (sb_pp_cut(text)) { /* "ONLINE\n" cut short could read as another state */
		sb_proc_bad(e, 1, "cut short");
		return 0;
	}
	size_t len = (size_t)(sb_pp_eol(text) - text);
	for (size_t i = 0; i < SB_ARRAY_SIZE(states); i++) {
		bool on = len == strlen(states[i]) && !strncasecmp(text, states[i], len);
		sb_evb_sample(b, "node_zfs_zpool_state", SB_GAUGE, on);
		sb_evb_help(b, "kstat.zfs.misc.state");
		sb_evb_label(b, "zpool", pool);
		sb_evb_label(b, "state", states[i]);
	}
	return (int)SB_ARRAY_SIZE(states);
}

/* ---- the collector ---- */

struct zfs_pool {
	char name[NAME_MAX + 1];
	bool has_io, has_state;
	struct sb_procfile io, state;
	struct sb_procfile *objsets;
	size_t nobjsets;
};

struct zfs {
	char base[PATH_MAX];
	bool present; /* the base directory, at the last listing */
	struct sb_procfile kst[NKSTATS];
	struct zfs_pool *pools;
	size_t npools;
	bool scanned;
	uint64_t scan_round;
	struct sb_ratelimit rl;
};

static void free_pools(struct zfs *z)
{
	for (size_t i = 0; i < z->npools; i++) {
		struct zfs_pool *p = &z->pools[i];
		sb_procfile_free(&p->io);
		sb_procfile_free(&p->state);
		for (size_t k = 0; k < p->nobjsets; k++)
			sb_procfile_free(&p->objsets[k]);
		free(p->objsets);
	}
	free(z->pools);
	z->pools = NULL;
	z->npools = 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir accepted by ok(), sorted (glob's order); NULL-free
 * array of strdup'ed names in *out. */
static int list_dir(const char *dir, bool (*ok)(const char *dir, const char *name), char ***out,
		    size_t *n, size_t max)
{
	*out = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	size_t cap = 0;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d)) && *n < max) {
		if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		if (!ok(dir, de->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			char **v = realloc(*out, cap * sizeof(*v));
			if (!v) {
				r = -ENOMEM;
				break;
			}
			*out = v;
		}
		if (!((*out)[*n] = strdup(de->d_name))) {
			r = -ENOMEM;
			break;
		}
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_name);
	return r;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool is_dir(const char *dir, const char *name)
{
	char path[PATH_MAX + NAME_MAX + 2];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return !stat(path, &sb) && S_ISDIR(sb.st_mode);
}

static bool is_objset(const char *dir, const char *name)
{
	(void)dir;
	return !strncmp(name, "objset-", 7);
}

static int file_at(struct sb_procfile *f, const char *base, const char *pool, const char *name)
{
	char path[PATH_MAX + 2 * NAME_MAX + 4];
	snprintf(path, sizeof(path), "%s/%s/%s", base, pool, name);
	int r = sb_procfile_init(f, path, 256 * 1024, true);
	f->single = true; /* a kstat: one show() */
	return r;
}

static int scan(struct zfs *z)
{
	free_pools(z);
	struct stat sb;
	z->present = !stat(z->base, &sb) && S_ISDIR(sb.st_mode);
	if (!z->present)
		return 0;
	char **names;
	size_t n;
	int r = list_dir(z->base, is_dir, &names, &n, MAX_POOLS);
	if (r || !n) {
		free_names(names, n);
		return r;
	}
	z->pools = calloc(n, sizeof(*z->pools));
	if (!z->pools) {
		free_names(names, n);
		return -ENOMEM;
	}
	char dir[PATH_MAX + NAME_MAX + 16];
	for (size_t i = 0; i < n && !r; i++) {
		struct zfs_pool *p = &z->pools[z->npools++];
		p->io.fd = p->state.fd = -1;
		snprintf(p->name, sizeof(p->name), "%s", names[i]);
		snprintf(dir, sizeof(dir), "%s/%s/io", z->base, p->name);
		p->has_io = !stat(dir, &sb);
		snprintf(dir, sizeof(dir), "%s/%s/state", z->base, p->name);
		p->has_state = !stat(dir, &sb);
		if (p->has_io)
			r = file_at(&p->io, z->base, p->name, "io");
		if (!r && p->has_state)
			r = file_at(&p->state, z->base, p->name, "state");
		snprintf(dir, sizeof(dir), "%s/%s", z->base, p->name);
		char **os = NULL;
		size_t nos = 0;
		if (!r)
			r = list_dir(dir, is_objset, &os, &nos, MAX_OBJSETS);
		if (!r && nos && !(p->objsets = calloc(nos, sizeof(*p->objsets))))
			r = -ENOMEM;
		for (size_t k = 0; !r && k < nos; k++) {
			p->objsets[p->nobjsets] = (struct sb_procfile){.fd = -1};
			r = file_at(&p->objsets[p->nobjsets++], z->base, p->name, os[k]);
		}
		free_names(os, nos);
	}
	free_names(names, n);
	return r;
}

static int zfs_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct zfs *z = calloc(1, sizeof(*z));
	if (!z)
		return -ENOMEM;
	c->priv = z;
	z->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	for (size_t i = 0; i < NKSTATS; i++)
		z->kst[i].fd = -1;
	if (snprintf(z->base, sizeof(z->base), "%s/spl/kstat/zfs", st->cfg->procfs) >=
	    (int)sizeof(z->base))
		return -ENAMETOOLONG;
	char path[PATH_MAX + 32];
	for (size_t i = 0; i < NKSTATS; i++) {
		snprintf(path, sizeof(path), "%s/%s", z->base, kstats[i].file);
		int r = sb_procfile_init(&z->kst[i], path, 256 * 1024, true);
		if (r)
			return r;
		z->kst[i].single = true;
	}
	return 0; /* pools listed on the first round */
}

static void zfs_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct zfs *z = c->priv;
	if (!z)
		return;
	free_pools(z);
	for (size_t i = 0; i < NKSTATS; i++)
		sb_procfile_free(&z->kst[i]);
	free(z);
	c->priv = NULL;
}

typedef int (*pool_parse_fn)(const char *text, const char *pool, struct sb_evb *b,
			     struct sb_proc_perr *e);

/* One pool file: read (absent since the listing: silently skipped) and
 * parsed; the round's status kept in *r. */
static void pool_file(struct proc_state *st, struct sb_procfile *f, const char *pool,
		      pool_parse_fn fn, struct sb_evb *b, int *r)
{
	const char *text = sb_proc_read(st, f, true);
	if (!text) {
		int e = sb_proc_read_err(f, true);
		if (e && !*r)
			*r = e;
		return;
	}
	struct sb_proc_perr e = {0};
	fn(text, pool, b, &e);
	if (sb_proc_report(st, f, &e) && !*r)
		*r = -EINVAL;
}

static int zfs_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct zfs *z = c->priv;
	int r = 0;
	if (!z->scanned || st->round - z->scan_round >= RESCAN_ROUNDS) {
		z->scanned = true;
		z->scan_round = st->round;
		r = scan(z);
		if (r) {
			st->errors++;
			sb_log_rl(&z->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", z->base,
				  strerror(-r));
		}
	}
	if (!z->present)
		return -ENODATA; /* no ZFS module: node_exporter's ErrNoData */
	for (size_t i = 0; i < NKSTATS; i++) {
		/* files come with ZFS features: an absent one is skipped */
		const char *text = sb_proc_read(st, &z->kst[i], true);
		if (!text) {
			int e = sb_proc_read_err(&z->kst[i], true);
			if (e && !r)
				r = e;
			continue;
		}
		struct sb_proc_perr e = {0};
		sb_proc_parse_zfs_kstat(text, kstats[i].file, kstats[i].subsystem, b, &e);
		if (sb_proc_report(st, &z->kst[i], &e) && !r)
			r = -EINVAL;
	}
	for (size_t i = 0; i < z->npools; i++)
		if (z->pools[i].has_io)
			pool_file(st, &z->pools[i].io, z->pools[i].name, sb_proc_parse_zfs_io, b,
				  &r);
	for (size_t i = 0; i < z->npools; i++)
		for (size_t k = 0; k < z->pools[i].nobjsets; k++)
			pool_file(st, &z->pools[i].objsets[k], z->pools[i].name,
				  sb_proc_parse_zfs_objset, b, &r);
	for (size_t i = 0; i < z->npools; i++)
		if (z->pools[i].has_state)
			pool_file(st, &z->pools[i].state, z->pools[i].name, sb_proc_parse_zfs_state,
				  b, &r);
	return r;
}

const struct sb_proc_collector sb_proc_collector_zfs = {
    .name = "zfs",
    .default_on = true,
    .init = zfs_init,
    .collect = zfs_collect,
    .free = zfs_free,
};
