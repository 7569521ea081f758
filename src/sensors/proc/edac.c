/* <sysfs>/devices/system/edac/mc: node_exporter 1.5.0's edac collector,
 * the memory controllers' error counters: ce_count and ue_count per
 * controller, ce_noinfo_count and ue_noinfo_count as csrow "unknown", and
 * each csrow<N>'s ce_count and ue_count. No controller is no series and
 * success, as node_exporter; a counter file missing or not a number is an
 * error (node_exporter fails the collector). node_exporter then drops the
 * series after it; here only that file's series is left out. Controllers
 * and csrows are listed at start and again every RESCAN_ROUNDS rounds. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

#define RESCAN_ROUNDS 60
#define MAX_FILES 4096
#define KEEP_OPEN_FILES 192

enum { CE, UE, CE_NOINFO, UE_NOINFO, ROW_CE, ROW_UE };
static const struct {
	const char *file, *name, *help;
} edac_kinds[] = {
    [CE] = {"ce_count", "node_edac_correctable_errors_total", "Total correctable memory errors."},
    [UE] = {"ue_count", "node_edac_uncorrectable_errors_total",
	    "Total uncorrectable memory errors."},
    [CE_NOINFO] = {"ce_noinfo_count", "node_edac_csrow_correctable_errors_total",
		   "Total correctable memory errors for this csrow."},
    [UE_NOINFO] = {"ue_noinfo_count", "node_edac_csrow_uncorrectable_errors_total",
		   "Total uncorrectable memory errors for this csrow."},
    [ROW_CE] = {"ce_count", "node_edac_csrow_correctable_errors_total",
		"Total correctable memory errors for this csrow."},
    [ROW_UE] = {"ue_count", "node_edac_csrow_uncorrectable_errors_total",
		"Total uncorrectable memory errors for this csrow."},
};

struct edac_file {
	char mc[16], csrow[16]; /* numbers; csrow "" for the controller's own */
	int kind;
	struct sb_procfile f;
};

struct edac {
	char base[PATH_MAX];
	struct edac_file *v;
	size_t n, cap;
	bool scanned;
	uint64_t scan_round;
	struct sb_ratelimit rl;
};

/* The number after prefix in name ("mc" "12"), or NULL. */
static const char *num_after(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(name, prefix, n))
		return NULL;
	const char *d = name + n;
	size_t len = strspn(d, "0123456789");
	return len && !d[len] && len < 16 ? d : NULL;
}

static void free_files(struct edac *e)
{
	for (size_t i = 0; i < e->n; i++)
		sb_procfile_free(&e->v[i].f);
	e->n = 0;
}

static int add(struct edac *e, const char *mc, const char *csrow, int kind)
{
	if (e->n == MAX_FILES)
		return -E2BIG;
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 16;
		struct edac_file *v = realloc(e->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		e->v = v;
		e->cap = cap;
	}
	struct edac_file *x = &e->v[e->n++];
	memset(x, 0, sizeof(*x));
	x->f.fd = -1;
	snprintf(x->mc, sizeof(x->mc), "%s", mc);
	snprintf(x->csrow, sizeof(x->csrow), "%s", csrow);
	x->kind = kind;
	return 0;
}

static int cmp_file(const void *a, const void *b)
{
	const struct edac_file *x = a, *y = b;
	int c = strcmp(x->mc, y->mc);
	if (!c)
		c = strcmp(x->csrow, y->csrow);
	return c ? c : x->kind - y->kind;
}

static int scan_mc(struct edac *e, const char *mc)
{
	int r = 0;
	for (int k = CE; k <= UE_NOINFO && !r; k++)
		r = add(e, mc, "", k);
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/mc%s", e->base, mc);
	DIR *d = opendir(path);
	if (!d)
		return r; /* its files' reads will say why */
	struct dirent *de;
	while (!r && (de = readdir(d))) {
		const char *row = num_after(de->d_name, "csrow");
		if (!row)
			continue;
		r = add(e, mc, row, ROW_CE);
		if (!r)
			r = add(e, mc, row, ROW_UE);
	}
	closedir(d);
	return r;
}

static int scan(struct edac *e)
{
	free_files(e);
	DIR *d = opendir(e->base);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	int r = 0;
	struct dirent *de;
	while (!r && (de = readdir(d))) {
		const char *mc = num_after(de->d_name, "mc");
		if (mc)
			r = scan_mc(e, mc);
	}
	closedir(d);
	if (r)
		return r;
	if (e->n)
		qsort(e->v, e->n, sizeof(*e->v), cmp_file);
	bool keep = e->n <= KEEP_OPEN_FILES;
	char path[PATH_MAX + 64];
	for (size_t i = 0; i < e->n && !r; i++) {
		struct edac_file *x = &e->v[i];
		if (*x->csrow)
			snprintf(path, sizeof(path), "%s/mc%s/csrow%s/%s", e->base, x->mc, x->csrow,
				 edac_kinds[x->kind].file);
		else
			snprintf(path, sizeof(path), "%s/mc%s/%s", e->base, x->mc,
				 edac_kinds[x->kind].file);
		r = sb_procfile_init(&x->f, path, 4096, keep);
		x->f.single = true; /* a sysfs attribute */
	}
	return r;
}

static int edac_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct edac *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	c->priv = e;
	e->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	if (snprintf(e->base, sizeof(e->base), "%s/devices/system/edac/mc", st->cfg->sysfs) >=
	    (int)sizeof(e->base))
		return -ENAMETOOLONG;
	return 0;
}

static void edac_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct edac *e = c->priv;
	if (!e)
		return;
	free_files(e);
	free(e->v);
	free(e);
	c->priv = NULL;
}

static int edac_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct edac *e = c->priv;
	int r = 0;
	if (!e->scanned || st->round - e->scan_round >= RESCAN_ROUNDS) {
		e->scanned = true;
		e->scan_round = st->round;
		r = scan(e);
		if (r) {
			st->errors++;
			sb_log_rl(&e->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", e->base,
				  strerror(-r));
		}
	}
	for (size_t i = 0; i < e->n; i++) {
		struct edac_file *x = &e->v[i];
		const char *text = sb_proc_read(st, &x->f, false);
		uint64_t v;
		if (!text) {
			if (!r)
				r = sb_proc_read_err(&x->f, false);
			continue;
		}
		if (!sb_pp_uint_text(text, &v)) {
			struct sb_proc_perr pe = {0};
			sb_proc_bad(&pe, 1, "expected an error count");
			if (sb_proc_report(st, &x->f, &pe) && !r)
				r = -EINVAL;
			continue;
		}
		sb_evb_sample(b, edac_kinds[x->kind].name, SB_COUNTER, (double)v);
		sb_evb_help(b, edac_kinds[x->kind].help);
		sb_evb_label(b, "controller", x->mc);
		if (x->kind == CE_NOINFO || x->kind == UE_NOINFO)
			sb_evb_label(b, "csrow", "unknown");
		else if (*x->csrow)
			sb_evb_label(b, "csrow", x->csrow);
	}
	return r;
}

const struct sb_proc_collector sb_proc_collector_edac = {
    .name = "edac",
    .default_on = true,
    .init = edac_init,
    .collect = edac_collect,
    .free = edac_free,
};
