/* <sysfs>/fs/btrfs/<uuid>: node_exporter 1.5.0's btrfs collector, the part
 * it reads from sysfs (procfs 0.8's rules): per filesystem
 * node_btrfs_info{uuid,label}, the global reserve, per block group type
 * (data, metadata, system) its reserved bytes and per layout directory
 * (single, dup, raid1, ...) its used and allocated bytes and allocation
 * ratio (raid5: n/(n-1), raid6: n/(n-2) over the devices listed), and
 * node_btrfs_device_size_bytes{uuid,device} (512-byte sectors) per
 * devices/ entry. An absent value file counts 0; uuid is metadata_uuid,
 * else the directory's name.
 *
 * node_exporter 1.5.0 also asks mounted btrfs filesystems (found in
 * /proc/1/mounts) over ioctls for per-device errors and unused bytes, and
 * then labels device_size_bytes with btrfs_dev_uuid as well; it falls back
 * to sysfs when no mount can be opened, which is what it does on a fixture
 * tree. Those ioctls are not made here: they would block the collection
 * loop on a hung filesystem. procfs reads a value that is not a number as
 * 0; here it is an error and its filesystem is left out. Filesystems are
 * listed at start, every RESCAN_ROUNDS rounds and after a read failed. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

#define RESCAN_ROUNDS 60
#define MAX_FS 64
#define MAX_ENTRIES 64
#define KEEP_OPEN_FILES 128
#define LABEL_MAX 256

static const char *const bg_types[] = {"data", "metadata", "system"};
#define NBG SB_ARRAY_SIZE(bg_types)

struct bt_layout {
	char name[NAME_MAX + 1];
	struct sb_procfile total, used;
	double vtotal, vused;
};

struct bt_dev {
	char name[NAME_MAX + 1];
	struct sb_procfile size;
	double v;
};

struct bt_bg {
	struct sb_procfile reserved;
	double v;
	struct bt_layout *l;
	size_t nl;
};

struct bt_fs {
	char name[NAME_MAX + 1];
	struct sb_procfile label, muuid, rsv;
	double vrsv;
	char vlabel[3 * LABEL_MAX + 1], vuuid[NAME_MAX + 1];
	struct bt_bg bg[NBG];
	struct bt_dev *d;
	size_t nd;
};

struct btrfs {
	char base[PATH_MAX];
	struct bt_fs *fs;
	size_t n;
	bool scanned;
	uint64_t scan_round;
	struct sb_ratelimit rl;
};

/* ---- listing ---- */

static void free_fs(struct btrfs *bt)
{
	for (size_t i = 0; i < bt->n; i++) {
		struct bt_fs *f = &bt->fs[i];
		sb_procfile_free(&f->label);
		sb_procfile_free(&f->muuid);
		sb_procfile_free(&f->rsv);
		for (size_t g = 0; g < NBG; g++) {
			sb_procfile_free(&f->bg[g].reserved);
			for (size_t j = 0; j < f->bg[g].nl; j++) {
				sb_procfile_free(&f->bg[g].l[j].total);
				sb_procfile_free(&f->bg[g].l[j].used);
			}
			free(f->bg[g].l);
		}
		for (size_t j = 0; j < f->nd; j++)
			sb_procfile_free(&f->d[j].size);
		free(f->d);
	}
	free(bt->fs);
	bt->fs = NULL;
	bt->n = 0;
}

static int cmp_name(const void *a, const void *b) { return strcmp(a, b); }

/* The entries of dir (sorted, at most max) into *v, elements of elem
 * bytes that begin with their name; dirs: directories only (not links, as
 * Go's DirEntry.IsDir), pat: names with a '-' only (procfs' glob "*-*").
 * An absent directory has no entries. */
static int list(const char *dir, bool dirs, bool dash, void **v, size_t *n, size_t elem)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	size_t cap = 0;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d)) && *n < MAX_ENTRIES) {
		if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		if (dash && !strchr(de->d_name, '-'))
			continue;
		if (dirs && de->d_type != DT_DIR)
			continue;
		if (sb_grow(v, &cap, *n + 1, elem)) {
			r = -ENOMEM;
			break;
		}
		char *x = (char *)*v + elem * (*n)++;
		memset(x, 0, elem);
		snprintf(x, NAME_MAX + 1, "%s", de->d_name);
	}
	closedir(d);
	if (*n)
		qsort(*v, *n, elem, cmp_name);
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
	int r = sb_procfile_init(f, path, 4096, keep);
	f->single = true; /* a sysfs attribute: one show() */
	return r;
}

static void fds_unset(struct bt_fs *f)
{
	f->label.fd = f->muuid.fd = f->rsv.fd = -1;
	for (size_t g = 0; g < NBG; g++) {
		f->bg[g].reserved.fd = -1;
		for (size_t j = 0; j < f->bg[g].nl; j++)
			f->bg[g].l[j].total.fd = f->bg[g].l[j].used.fd = -1;
	}
	for (size_t j = 0; j < f->nd; j++)
		f->d[j].size.fd = -1;
}

static int scan(struct btrfs *bt)
{
	free_fs(bt);
	int r = list(bt->base, false, true, (void **)&bt->fs, &bt->n, sizeof(*bt->fs));
	char dir[PATH_MAX + 2 * NAME_MAX + 32];
	size_t nfiles = 0;
	for (size_t i = 0; i < bt->n; i++) {
		struct bt_fs *f = &bt->fs[i];
		for (size_t g = 0; g < NBG && !r; g++) {
			snprintf(dir, sizeof(dir), "%s/%s/allocation/%s", bt->base, f->name,
				 bg_types[g]);
			r = list(dir, true, false, (void **)&f->bg[g].l, &f->bg[g].nl,
				 sizeof(*f->bg[g].l));
			nfiles += 1 + 2 * f->bg[g].nl;
		}
		snprintf(dir, sizeof(dir), "%s/%s/devices", bt->base, f->name);
		if (!r)
			r = list(dir, false, false, (void **)&f->d, &f->nd, sizeof(*f->d));
		nfiles += 3 + f->nd;
	}
	/* before any init, so that free_fs is safe whatever fails */
	for (size_t i = 0; i < bt->n; i++)
		fds_unset(&bt->fs[i]);
	bool keep = nfiles <= KEEP_OPEN_FILES;
	for (size_t i = 0; i < bt->n && !r; i++) {
		struct bt_fs *f = &bt->fs[i];
		const char *b = bt->base, *u = f->name;
		r = file_init(&f->label, keep, "%s/%s/label", b, u);
		if (!r)
			r = file_init(&f->muuid, keep, "%s/%s/metadata_uuid", b, u);
		if (!r)
			r = file_init(&f->rsv, keep, "%s/%s/allocation/global_rsv_size", b, u);
		for (size_t g = 0; g < NBG && !r; g++) {
			struct bt_bg *bg = &f->bg[g];
			const char *t = bg_types[g];
			r = file_init(&bg->reserved, keep, "%s/%s/allocation/%s/bytes_reserved", b,
				      u, t);
			for (size_t j = 0; j < bg->nl && !r; j++) {
				r = file_init(&bg->l[j].total, keep,
					      "%s/%s/allocation/%s/%s/total_bytes", b, u, t,
					      bg->l[j].name);
				if (!r)
					r = file_init(&bg->l[j].used, keep,
						      "%s/%s/allocation/%s/%s/used_bytes", b, u, t,
						      bg->l[j].name);
			}
		}
		for (size_t j = 0; j < f->nd && !r; j++)
			r = file_init(&f->d[j].size, keep, "%s/%s/devices/%s/size", b, u,
				      f->d[j].name);
	}
	return r;
}

/* ---- reading ---- */

/* The trimmed text of an optional file ("" when absent); NULL when it
 * could not be read (*r set). */
static const char *read_text(struct proc_state *st, struct sb_procfile *f, int *r, size_t *n)
{
	const char *text = sb_proc_read(st, f, true);
	if (!text) {
		int e = sb_proc_read_err(f, true);
		if (e) {
			if (!*r)
				*r = e;
			return NULL;
		}
		*n = 0;
		return "";
	}
	*n = sb_proc_sysfs_trim(text, strlen(text), &text);
	return text;
}

static bool read_value(struct proc_state *st, struct sb_procfile *f, double *v, int *r)
{
	size_t n;
	const char *t = read_text(st, f, r, &n);
	if (!t)
		return false;
	int64_t x;
	*v = 0;
	if (!n)
		return true; /* absent (or empty): 0, as procfs */
	if (*t == '-' || *t == '+' || !sb_proc_go_int(t, n, 10, &x)) {
		struct sb_proc_perr e = {0};
		sb_proc_bad(&e, 1, "expected a number");
		if (sb_proc_report(st, f, &e) && !*r)
			*r = -EINVAL;
		return false;
	}
	*v = (double)(uint64_t)x;
	return true;
}

static bool read_fs(struct proc_state *st, struct bt_fs *f, int *r)
{
	size_t n;
	const char *t = read_text(st, &f->label, r, &n);
	if (!t)
		return false;
	/* the kernel's labels are at most 255 bytes; invalid UTF-8 as U+FFFD */
	sb_proc_valid_utf8(t, n < LABEL_MAX ? n : LABEL_MAX, f->vlabel);
	if (!(t = read_text(st, &f->muuid, r, &n)))
		return false;
	if (n)
		snprintf(f->vuuid, sizeof(f->vuuid), "%.*s", (int)n, t);
	else
		snprintf(f->vuuid, sizeof(f->vuuid), "%s", f->name);
	if (!read_value(st, &f->rsv, &f->vrsv, r))
		return false;
	for (size_t g = 0; g < NBG; g++) {
		struct bt_bg *bg = &f->bg[g];
		if (!read_value(st, &bg->reserved, &bg->v, r))
			return false;
		for (size_t j = 0; j < bg->nl; j++)
			if (!read_value(st, &bg->l[j].total, &bg->l[j].vtotal, r) ||
			    !read_value(st, &bg->l[j].used, &bg->l[j].vused, r))
				return false;
	}
	for (size_t j = 0; j < f->nd; j++) {
		if (!read_value(st, &f->d[j].size, &f->d[j].v, r))
			return false;
		f->d[j].v *= 512;
	}
	return true;
}

/* procfs' calcRatio */
static double ratio(const char *mode, size_t ndev)
{
	double n = (double)ndev;
	if (!strcmp(mode, "single") || !strcmp(mode, "raid0"))
		return 1;
	if (!strcmp(mode, "dup") || !strcmp(mode, "raid1") || !strcmp(mode, "raid10"))
		return 2;
	if (!strcmp(mode, "raid5"))
		return n / (n - 1);
	if (!strcmp(mode, "raid6"))
		return n / (n - 2);
	return 0;
}

static void emit(struct sb_evb *b, const struct bt_fs *f)
{
	const char *u = f->vuuid;
	sb_evb_sample(b, "node_btrfs_info", SB_GAUGE, 1);
	sb_evb_help(b, "Filesystem information");
	sb_evb_label(b, "uuid", u);
	sb_evb_label(b, "label", f->vlabel);
	sb_evb_sample(b, "node_btrfs_global_rsv_size_bytes", SB_GAUGE, f->vrsv);
	sb_evb_help(b, "Size of global reserve.");
	sb_evb_label(b, "uuid", u);
	for (size_t g = 0; g < NBG; g++) {
		const struct bt_bg *bg = &f->bg[g];
		sb_evb_sample(b, "node_btrfs_reserved_bytes", SB_GAUGE, bg->v);
		sb_evb_help(b, "Amount of space reserved for a data type");
		sb_evb_label(b, "uuid", u);
		sb_evb_label(b, "block_group_type", bg_types[g]);
		for (size_t j = 0; j < bg->nl; j++) {
			const struct bt_layout *l = &bg->l[j];
			const struct {
				const char *name, *help;
				double v;
			} s[] = {
			    {"node_btrfs_used_bytes", "Amount of used space by a layout/data type",
			     l->vused},
			    {"node_btrfs_size_bytes",
			     "Amount of space allocated for a layout/data type", l->vtotal},
			    {"node_btrfs_allocation_ratio",
			     "Data allocation ratio for a layout/data type", ratio(l->name, f->nd)},
			};
			for (size_t k = 0; k < SB_ARRAY_SIZE(s); k++) {
				sb_evb_sample(b, s[k].name, SB_GAUGE, s[k].v);
				sb_evb_help(b, s[k].help);
				sb_evb_label(b, "uuid", u);
				sb_evb_label(b, "block_group_type", bg_types[g]);
				sb_evb_label(b, "mode", l->name);
			}
		}
	}
	for (size_t j = 0; j < f->nd; j++) {
		sb_evb_sample(b, "node_btrfs_device_size_bytes", SB_GAUGE, f->d[j].v);
		sb_evb_help(b, "Size of a device that is part of the filesystem.");
		sb_evb_label(b, "uuid", u);
		sb_evb_label(b, "device", f->d[j].name);
	}
}

static int btrfs_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct btrfs *bt = calloc(1, sizeof(*bt));
	if (!bt)
		return -ENOMEM;
	c->priv = bt;
	bt->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	if (snprintf(bt->base, sizeof(bt->base), "%s/fs/btrfs", st->cfg->sysfs) >=
	    (int)sizeof(bt->base))
		return -ENAMETOOLONG;
	return 0; /* listed on the first round */
}

static void btrfs_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct btrfs *bt = c->priv;
	if (!bt)
		return;
	free_fs(bt);
	free(bt);
	c->priv = NULL;
}

static int btrfs_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct btrfs *bt = c->priv;
	int r = 0;
	if (!bt->scanned || st->round - bt->scan_round >= RESCAN_ROUNDS) {
		bt->scanned = true;
		bt->scan_round = st->round;
		r = scan(bt);
		if (r) {
			st->errors++;
			sb_log_rl(&bt->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", bt->base,
				  strerror(-r));
		}
	}
	for (size_t i = 0; i < bt->n; i++) {
		int e = 0;
		if (read_fs(st, &bt->fs[i], &e)) {
			emit(b, &bt->fs[i]);
			continue;
		}
		if (e != -EINVAL)
			bt->scanned = false; /* unmounted? list them again */
		if (!r)
			r = e;
	}
	return r;
}

const struct sb_proc_collector sb_proc_collector_btrfs = {
    .name = "btrfs",
    .default_on = true,
    .init = btrfs_init,
    .collect = btrfs_collect,
    .free = btrfs_free,
};
