/* <sysfs>/fs/xfs/<device>/stats/stats: node_exporter 1.5.0's xfs
 * collector, per mounted XFS filesystem, with the rules of the procfs
 * library it uses: every number a uint32 (xpc's uint64), each line it
 * knows with its exact count of numbers, lines of one word and lines it
 * does not know skipped; a line the file lacks gives zeros. node_exporter
 * fails every filesystem on one bad line; here only that line's series
 * (and that filesystem's) are left out. The global /proc/fs/xfs/stat is
 * not read, as 1.5.0. Filesystems are listed at start and every
 * RESCAN_ROUNDS rounds (mounts come and go). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

#define RESCAN_ROUNDS 60
#define MAX_FS 1024
#define KEEP_OPEN_FILES 128

enum {
	X_EXTENT_ALLOC,
	X_ABT,
	X_BLK_MAP,
	X_BMBT,
	X_DIR,
	X_IG,
	X_RW,
	X_VNODES,
	X_REPORTED, /* the lines above are reported; the ones below only checked */
	X_TRANS = X_REPORTED,
	X_LOG,
	X_PUSH_AIL,
	X_XSTRAT,
	X_ATTR,
	X_ICLUSTER,
	X_BUF,
	X_ABTB2,
	X_ABTC2,
	X_BMBT2,
	X_IBT2,
	X_QM,
	X_XPC,
	X_DEBUG,
	X_NLINES
};

/* procfs 0.8's count of numbers for each line it knows: n, or n or n2 */
static const struct {
	const char *key;
	unsigned n, n2;
} xfs_lines[X_NLINES] = {
    [X_EXTENT_ALLOC] = {"extent_alloc", 4, 4},
    [X_ABT] = {"abt", 4, 4},
    [X_BLK_MAP] = {"blk_map", 7, 7},
    [X_BMBT] = {"bmbt", 4, 4},
    [X_DIR] = {"dir", 4, 4},
    [X_IG] = {"ig", 7, 7},
    [X_RW] = {"rw", 2, 2},
    [X_VNODES] = {"vnodes", 7, 8},
    [X_TRANS] = {"trans", 3, 3},
    [X_LOG] = {"log", 5, 5},
    [X_PUSH_AIL] = {"push_ail", 10, 10},
    [X_XSTRAT] = {"xstrat", 2, 2},
    [X_ATTR] = {"attr", 4, 4},
    [X_ICLUSTER] = {"icluster", 3, 3},
    [X_BUF] = {"buf", 9, 9},
    [X_ABTB2] = {"abtb2", 15, 15},
    [X_ABTC2] = {"abtc2", 15, 15},
    [X_BMBT2] = {"bmbt2", 15, 15},
    [X_IBT2] = {"ibt2", 15, 15},
    [X_QM] = {"qm", 8, 9},
    [X_XPC] = {"xpc", 3, 3},
    [X_DEBUG] = {"debug", 1, 1},
};

static const struct {
	int line;
	unsigned i;
	const char *name, *help;
} xfs_series[] = {
    {X_EXTENT_ALLOC, 0, "node_xfs_extent_allocation_extents_allocated_total",
     "Number of extents allocated for a filesystem."},
    {X_EXTENT_ALLOC, 1, "node_xfs_extent_allocation_blocks_allocated_total",
     "Number of blocks allocated for a filesystem."},
    {X_EXTENT_ALLOC, 2, "node_xfs_extent_allocation_extents_freed_total",
     "Number of extents freed for a filesystem."},
    {X_EXTENT_ALLOC, 3, "node_xfs_extent_allocation_blocks_freed_total",
     "Number of blocks freed for a filesystem."},
    {X_ABT, 0, "node_xfs_allocation_btree_lookups_total",
     "Number of allocation B-tree lookups for a filesystem."},
    {X_ABT, 1, "node_xfs_allocation_btree_compares_total",
     "Number of allocation B-tree compares for a filesystem."},
    {X_ABT, 2, "node_xfs_allocation_btree_records_inserted_total",
     "Number of allocation B-tree records inserted for a filesystem."},
    {X_ABT, 3, "node_xfs_allocation_btree_records_deleted_total",
     "Number of allocation B-tree records deleted for a filesystem."},
    {X_BLK_MAP, 0, "node_xfs_block_mapping_reads_total",
     "Number of block map for read operations for a filesystem."},
    {X_BLK_MAP, 1, "node_xfs_block_mapping_writes_total",
     "Number of block map for write operations for a filesystem."},
    {X_BLK_MAP, 2, "node_xfs_block_mapping_unmaps_total",
     "Number of block unmaps (deletes) for a filesystem."},
    {X_BLK_MAP, 3, "node_xfs_block_mapping_extent_list_insertions_total",
     "Number of extent list insertions for a filesystem."},
    {X_BLK_MAP, 4, "node_xfs_block_mapping_extent_list_deletions_total",
     "Number of extent list deletions for a filesystem."},
    {X_BLK_MAP, 5, "node_xfs_block_mapping_extent_list_lookups_total",
     "Number of extent list lookups for a filesystem."},
    {X_BLK_MAP, 6, "node_xfs_block_mapping_extent_list_compares_total",
     "Number of extent list compares for a filesystem."},
    {X_BMBT, 0, "node_xfs_block_map_btree_lookups_total",
     "Number of block map B-tree lookups for a filesystem."},
    {X_BMBT, 1, "node_xfs_block_map_btree_compares_total",
     "Number of block map B-tree compares for a filesystem."},
    {X_BMBT, 2, "node_xfs_block_map_btree_records_inserted_total",
     "Number of block map B-tree records inserted for a filesystem."},
    {X_BMBT, 3, "node_xfs_block_map_btree_records_deleted_total",
     "Number of block map B-tree records deleted for a filesystem."},
    {X_DIR, 0, "node_xfs_directory_operation_lookup_total",
     "Number of file name directory lookups which miss the operating systems directory name lookup "
     "cache."},
    {X_DIR, 1, "node_xfs_directory_operation_create_total",
     "Number of times a new directory entry was created for a filesystem."},
    {X_DIR, 2, "node_xfs_directory_operation_remove_total",
     "Number of times an existing directory entry was created for a filesystem."},
    {X_DIR, 3, "node_xfs_directory_operation_getdents_total",
     "Number of times the directory getdents operation was performed for a filesystem."},
    {X_IG, 0, "node_xfs_inode_operation_attempts_total",
     "Number of times the OS looked for an XFS inode in the inode cache."},
    {X_IG, 1, "node_xfs_inode_operation_found_total",
     "Number of times the OS looked for and found an XFS inode in the inode cache."},
    {X_IG, 2, "node_xfs_inode_operation_recycled_total",
     "Number of times the OS found an XFS inode in the cache, but could not use it as it was being "
     "recycled."},
    {X_IG, 3, "node_xfs_inode_operation_missed_total",
     "Number of times the OS looked for an XFS inode in the cache, but did not find it."},
    {X_IG, 4, "node_xfs_inode_operation_duplicates_total",
     "Number of times the OS tried to add a missing XFS inode to the inode cache, but found it had "
     "already been added by another process."},
    {X_IG, 5, "node_xfs_inode_operation_reclaims_total",
     "Number of times the OS reclaimed an XFS inode from the inode cache to free memory for "
     "another purpose."},
    {X_IG, 6, "node_xfs_inode_operation_attribute_changes_total",
     "Number of times the OS explicitly changed the attributes of an XFS inode."},
    {X_RW, 0, "node_xfs_write_calls_total",
     "Number of write(2) system calls made to files in a filesystem."},
    {X_RW, 1, "node_xfs_read_calls_total",
     "Number of read(2) system calls made to files in a filesystem."},
    {X_VNODES, 0, "node_xfs_vnode_active_total",
     "Number of vnodes not on free lists for a filesystem."},
    {X_VNODES, 1, "node_xfs_vnode_allocate_total",
     "Number of times vn_alloc called for a filesystem."},
    {X_VNODES, 2, "node_xfs_vnode_get_total", "Number of times vn_get called for a filesystem."},
    {X_VNODES, 3, "node_xfs_vnode_hold_total", "Number of times vn_hold called for a filesystem."},
    {X_VNODES, 4, "node_xfs_vnode_release_total",
     "Number of times vn_rele called for a filesystem."},
    {X_VNODES, 5, "node_xfs_vnode_reclaim_total",
     "Number of times vn_reclaim called for a filesystem."},
    {X_VNODES, 6, "node_xfs_vnode_remove_total",
     "Number of times vn_remove called for a filesystem."},
};

#define XFS_MAXV 8 /* numbers kept per reported line */

struct xfs_vals {
	bool bad[X_REPORTED], seen[X_REPORTED];
	uint64_t v[X_REPORTED][XFS_MAXV];
};

static void xfs_line(const char *p, unsigned lineno, struct xfs_vals *xv, struct sb_proc_perr *e)
{
	const char *w;
	size_t wl = sb_pp_word(&p, &w);
	if (sb_pp_at_eol(p))
		return; /* a word alone: procfs skips it */
	int k = -1;
	for (int i = 0; i < X_NLINES; i++)
		if (wl == strlen(xfs_lines[i].key) && !memcmp(w, xfs_lines[i].key, wl))
			k = i;
	uint64_t v[XFS_MAXV];
	unsigned n = 0;
	bool ok = true;
	while (!sb_pp_at_eol(p)) {
		uint64_t x;
		if (!sb_pp_u64(&p, &x) || (k != X_XPC && x > UINT32_MAX)) {
			ok = false;
			break;
		}
		if (n < XFS_MAXV)
			v[n] = x;
		n++;
	}
	if (!ok) {
		sb_proc_bad(e, lineno, "%.*s: expected numbers of %d bits",
			    (int)(wl > 32 ? 32 : wl), w, k == X_XPC ? 64 : 32);
	} else if (k >= 0 && n != xfs_lines[k].n && n != xfs_lines[k].n2) {
		sb_proc_bad(e, lineno, "%s: expected %u numbers, not %u", xfs_lines[k].key,
			    xfs_lines[k].n, n);
		ok = false;
	}
	if (k < 0 || k >= X_REPORTED)
		return;
	if (!ok) {
		xv->bad[k] = true;
		return;
	}
	xv->bad[k] = false; /* a later line wins, as in procfs */
	xv->seen[k] = true;
	memset(xv->v[k], 0, sizeof(xv->v[k]));
	memcpy(xv->v[k], v, sizeof(uint64_t) * (n < XFS_MAXV ? n : XFS_MAXV));
}

int sb_proc_parse_xfs(const char *text, const char *device, struct sb_evb *b,
		      struct sb_proc_perr *e)
{
	/* the kernel always writes every line: empty is a failed read (1.5.0
	 * reports zeros) */
	if (!*text) {
		sb_proc_bad(e, 0, "empty");
		return 0;
	}
	struct xfs_vals xv;
	memset(&xv, 0, sizeof(xv));
	unsigned lineno = 0;
	SB_PROC_FOR_LINES(p, text, lineno, e) { xfs_line(p, lineno, &xv, e); }
	/* a copy cut short: a line it lacks may be the one cut */
	size_t len = strlen(text);
	for (int k = 0; text[len - 1] != '\n' && k < X_REPORTED; k++)
		xv.bad[k] |= !xv.seen[k];
	int n = 0;
	for (size_t i = 0; i < SB_ARRAY_SIZE(xfs_series); i++) {
		if (xv.bad[xfs_series[i].line])
			continue;
		sb_evb_sample(b, xfs_series[i].name, SB_COUNTER,
			      (double)xv.v[xfs_series[i].line][xfs_series[i].i]);
		sb_evb_help(b, xfs_series[i].help);
		sb_evb_label(b, "device", device);
		n++;
	}
	return n;
}

/* ---- the collector ---- */

struct xfs_fs {
	char name[NAME_MAX + 1];
	struct sb_procfile f;
};

struct xfs {
	char base[PATH_MAX];
	struct xfs_fs *fs;
	size_t n;
	bool scanned;
	uint64_t scan_round;
	struct sb_ratelimit rl;
};

static void free_fs(struct xfs *x)
{
	for (size_t i = 0; i < x->n; i++)
		sb_procfile_free(&x->fs[i].f);
	free(x->fs);
	x->fs = NULL;
	x->n = 0;
}

static int cmp_fs(const void *a, const void *b)
{
	return strcmp(((const struct xfs_fs *)a)->name, ((const struct xfs_fs *)b)->name);
}

/* Every <base>/<name>/stats/stats, as procfs' glob fs/xfs/ * /stats/stats. */
static int scan(struct xfs *x)
{
	free_fs(x);
	DIR *d = opendir(x->base);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	size_t cap = 0;
	int r = 0;
	char path[PATH_MAX + NAME_MAX + 16];
	struct dirent *de;
	while ((de = readdir(d)) && x->n < MAX_FS) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s/stats/stats", x->base, de->d_name) >=
			(int)sizeof(path) ||
		    access(path, R_OK))
			continue;
		if (sb_grow((void **)&x->fs, &cap, x->n + 1, sizeof(*x->fs))) {
			r = -ENOMEM;
			break;
		}
		struct xfs_fs *fs = &x->fs[x->n++];
		memset(fs, 0, sizeof(*fs));
		fs->f.fd = -1;
		snprintf(fs->name, sizeof(fs->name), "%s", de->d_name);
	}
	closedir(d);
	if (r)
		return r;
	if (x->n)
		qsort(x->fs, x->n, sizeof(*x->fs), cmp_fs);
	bool keep = x->n <= KEEP_OPEN_FILES;
	for (size_t i = 0; i < x->n && !r; i++) {
		snprintf(path, sizeof(path), "%s/%s/stats/stats", x->base, x->fs[i].name);
		r = sb_procfile_init(&x->fs[i].f, path, 64 * 1024, keep);
		x->fs[i].f.single = true; /* a sysfs attribute: one show() */
	}
	return r;
}

static int xfs_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct xfs *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	c->priv = x;
	x->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	if (snprintf(x->base, sizeof(x->base), "%s/fs/xfs", st->cfg->sysfs) >= (int)sizeof(x->base))
		return -ENAMETOOLONG;
	return 0; /* listed on the first round */
}

static void xfs_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct xfs *x = c->priv;
	if (!x)
		return;
	free_fs(x);
	free(x);
	c->priv = NULL;
}

static int xfs_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct xfs *x = c->priv;
	int r = 0;
	if (!x->scanned || st->round - x->scan_round >= RESCAN_ROUNDS) {
		x->scanned = true;
		x->scan_round = st->round;
		r = scan(x);
		if (r) {
			st->errors++;
			sb_log_rl(&x->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", x->base,
				  strerror(-r));
		}
	}
	for (size_t i = 0; i < x->n; i++) {
		struct sb_procfile *f = &x->fs[i].f;
		/* unmounted since the listing: gone without a word */
		const char *text = sb_proc_read(st, f, true);
		if (!text) {
			int e = sb_proc_read_err(f, true);
			if (e && !r)
				r = e;
			continue;
		}
		struct sb_proc_perr e = {0};
		sb_proc_parse_xfs(text, x->fs[i].name, b, &e);
		if (sb_proc_report(st, f, &e) && !r)
			r = -EINVAL;
	}
	return r;
}

const struct sb_proc_collector sb_proc_collector_xfs = {
    .name = "xfs",
    .default_on = true,
    .init = xfs_init,
    .collect = xfs_collect,
    .free = xfs_free,
};
