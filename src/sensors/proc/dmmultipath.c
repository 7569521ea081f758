/* <sysfs>/block/dm-*: upstream node_exporter's dmmultipath collector
 * (1.12+, not in Debian's 1.5.0), with the rules of procfs'
 * DMMultipathDevices: a dm device whose dm/uuid starts with "mpath-" is a
 * multipath map; dm/name, dm/suspended and size must be there, and each
 * slaves/ entry is a path whose state is /sys/block/<path>/device/state
 * ("running" for SCSI and "live" for NVMe count as active). No block
 * directory (or one we may not list) is ErrNoData. Upstream fails every
 * map on one unreadable file; here only that map is left out. Maps and
 * their paths are listed at start, every RESCAN_ROUNDS rounds and after a
 * read failed. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

#define RESCAN_ROUNDS 60
#define MAX_MAPS 256
#define MAX_PATHS 64

struct mp_path {
	char name[NAME_MAX + 1];
	struct sb_procfile state;
};

struct mp_map {
	char sysfs_name[NAME_MAX + 1];
	char uuid[SB_PROC_DMI_MAX];
	struct sb_procfile name, suspended, size;
	struct mp_path *p;
	size_t np;
};

struct mp {
	char base[PATH_MAX];
	struct mp_map *v;
	size_t n;
	bool present; /* the block directory could be listed */
	bool scanned;
	uint64_t scan_round;
	struct sb_ratelimit rl;
	char name[SB_PROC_DMI_MAX], state[SB_PROC_DMI_MAX];
};

static void free_maps(struct mp *m)
{
	for (size_t i = 0; i < m->n; i++) {
		struct mp_map *x = &m->v[i];
		sb_procfile_free(&x->name);
		sb_procfile_free(&x->suspended);
		sb_procfile_free(&x->size);
		for (size_t j = 0; j < x->np; j++)
			sb_procfile_free(&x->p[j].state);
		free(x->p);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

static int cmp_name(const void *a, const void *b) { return strcmp(a, b); }

static int file_init(struct sb_procfile *f, const char *base, const char *dev, const char *rel)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s/%s", base, dev, rel) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	int r = sb_procfile_init(f, path, 4096, true);
	f->single = true; /* a sysfs attribute: one show() */
	return r;
}

/* dm/uuid of block/<dev> into out when it names a multipath map: 1; 0 when
 * not one (no dm/uuid: not a dm device); <0 when it cannot be read. */
static int mpath_uuid(struct proc_state *st, const char *base, const char *dev, char *out)
{
	struct sb_procfile f = {.fd = -1};
	int r = file_init(&f, base, dev, "dm/uuid");
	if (r)
		return r;
	ssize_t n = sb_procfile_read(&f, st->comp, true);
	if (n >= 0) {
		sb_proc_dmi_value(f.buf.data, (size_t)n, out);
		r = !strncmp(out, "mpath-", 6);
	} else {
		r = n == -ENOENT ? 0 : (int)n;
	}
	sb_procfile_free(&f);
	return r;
}

static int list_paths(struct mp *m, struct mp_map *x)
{
	char dir[PATH_MAX + NAME_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/%s/slaves", m->base, x->sysfs_name);
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	size_t cap = 0;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d)) && x->np < MAX_PATHS) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (sb_grow((void **)&x->p, &cap, x->np + 1, sizeof(*x->p))) {
			r = -ENOMEM;
			break;
		}
		struct mp_path *p = &x->p[x->np++];
		memset(p, 0, sizeof(*p));
		p->state.fd = -1;
		snprintf(p->name, sizeof(p->name), "%s", de->d_name);
	}
	closedir(d);
	if (x->np)
		qsort(x->p, x->np, sizeof(*x->p), cmp_name);
	for (size_t j = 0; j < x->np && !r; j++)
		r = file_init(&x->p[j].state, m->base, x->p[j].name, "device/state");
	return r;
}

static int scan(struct proc_state *st, struct mp *m)
{
	free_maps(m);
	DIR *d = opendir(m->base);
	m->present = d || !(errno == ENOENT || errno == EACCES);
	if (!d)
		return m->present ? -errno : 0;
	size_t cap = 0;
	int r = 0;
	struct dirent *de;
	char uuid[SB_PROC_DMI_MAX];
	while (!r && (de = readdir(d)) && m->n < MAX_MAPS) {
		if (strncmp(de->d_name, "dm-", 3))
			continue;
		int k = mpath_uuid(st, m->base, de->d_name, uuid);
		if (k <= 0) {
			r = k;
			continue;
		}
		if (sb_grow((void **)&m->v, &cap, m->n + 1, sizeof(*m->v))) {
			r = -ENOMEM;
			break;
		}
		struct mp_map *x = &m->v[m->n++];
		memset(x, 0, sizeof(*x));
		x->name.fd = x->suspended.fd = x->size.fd = -1;
		snprintf(x->sysfs_name, sizeof(x->sysfs_name), "%s", de->d_name);
		snprintf(x->uuid, sizeof(x->uuid), "%s", uuid);
	}
	closedir(d);
	if (m->n)
		qsort(m->v, m->n, sizeof(*m->v), cmp_name);
	for (size_t i = 0; i < m->n && !r; i++) {
		struct mp_map *x = &m->v[i];
		r = file_init(&x->name, m->base, x->sysfs_name, "dm/name");
		if (!r)
			r = file_init(&x->suspended, m->base, x->sysfs_name, "dm/suspended");
		if (!r)
			r = file_init(&x->size, m->base, x->sysfs_name, "size");
		if (!r)
			r = list_paths(m, x);
	}
	return r;
}

static int mp_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct mp *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	c->priv = m;
	m->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	if (snprintf(m->base, sizeof(m->base), "%s/block", st->cfg->sysfs) >= (int)sizeof(m->base))
		return -ENAMETOOLONG;
	return 0;
}

static void mp_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct mp *m = c->priv;
	if (!m)
		return;
	free_maps(m);
	free(m);
	c->priv = NULL;
}

/* A required number file; false (and *r set) when it cannot be read. */
static bool read_uint(struct proc_state *st, struct sb_procfile *f, uint64_t *v, int *r)
{
	const char *text = sb_proc_read(st, f, false);
	if (!text) {
		if (!*r)
			*r = sb_proc_read_err(f, false);
		return false;
	}
	if (sb_pp_uint_text(text, v))
		return true;
	struct sb_proc_perr e = {0};
	sb_proc_bad(&e, 1, "expected a number");
	if (sb_proc_report(st, f, &e) && !*r)
		*r = -EINVAL;
	return false;
}

static bool read_text(struct proc_state *st, struct sb_procfile *f, char *out, int *r)
{
	const char *text = sb_proc_read(st, f, false);
	if (!text) {
		if (!*r)
			*r = sb_proc_read_err(f, false);
		return false;
	}
	sb_proc_dmi_value(text, strlen(text), out);
	return true;
}

static void series(struct sb_evb *b, const char *name, const char *help, double v,
		   const struct mp_map *x, const char *dev)
{
	sb_evb_sample(b, name, SB_GAUGE, v);
	sb_evb_help(b, help);
	sb_evb_label(b, "device", dev);
	sb_evb_label(b, "sysfs_name", x->sysfs_name);
}

static int mp_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct mp *m = c->priv;
	int r = 0;
	if (!m->scanned || st->round - m->scan_round >= RESCAN_ROUNDS) {
		m->scanned = true;
		m->scan_round = st->round;
		r = scan(st, m);
		if (r) {
			st->errors++;
			sb_log_rl(&m->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", m->base,
				  strerror(-r));
		}
	}
	if (!m->present)
		return -ENODATA;
	for (size_t i = 0; i < m->n; i++) {
		struct mp_map *x = &m->v[i];
		uint64_t suspended, sectors;
		int e = 0;
		if (!read_text(st, &x->name, m->name, &e) ||
		    !read_uint(st, &x->suspended, &suspended, &e) ||
		    !read_uint(st, &x->size, &sectors, &e)) {
			m->scanned = false; /* removed? list them again */
			if (!r)
				r = e;
			continue;
		}
		/* every path's state first: the map is reported whole or not at all */
		size_t j;
		for (j = 0; j < x->np; j++)
			if (!sb_proc_read(st, &x->p[j].state, false))
				break;
		if (j < x->np) {
			m->scanned = false;
			if (!r)
				r = sb_proc_read_err(&x->p[j].state, false);
			continue;
		}
		sb_evb_sample(b, "node_dmmultipath_device_info", SB_GAUGE, 1);
		sb_evb_help(b, "Non-numeric information about a DM-multipath device.");
		sb_evb_label(b, "device", m->name);
		sb_evb_label(b, "sysfs_name", x->sysfs_name);
		sb_evb_label(b, "uuid", x->uuid);
		series(b, "node_dmmultipath_device_active",
		       "Whether the multipath device-mapper device is active (1) or suspended (0).",
		       suspended == 1 ? 0 : 1, x, m->name);
		series(b, "node_dmmultipath_device_size_bytes",
		       "Size of the multipath device in bytes, read from /sys/block/<dm>/size.",
		       (double)(sectors * 512), x, m->name);
		unsigned active = 0;
		for (j = 0; j < x->np; j++) {
			const char *text = sb_proc_read(st, &x->p[j].state, false);
			sb_proc_dmi_value(text, strlen(text), m->state);
			active += !strcmp(m->state, "running") || !strcmp(m->state, "live");
			sb_evb_sample(b, "node_dmmultipath_path_state", SB_GAUGE, 1);
			sb_evb_help(b,
				    "Reports the underlying device state for a multipath path, as "
				    "read from /sys/block/<dev>/device/state.");
			sb_evb_label(b, "device", m->name);
			sb_evb_label(b, "path", x->p[j].name);
			sb_evb_label(b, "state", m->state);
		}
		series(b, "node_dmmultipath_device_paths",
		       "Number of paths for a multipath device.", (double)x->np, x, m->name);
		series(
		    b, "node_dmmultipath_device_paths_active",
		    "Number of paths in active state (SCSI running or NVMe live) for a multipath "
		    "device.",
		    active, x, m->name);
		series(b, "node_dmmultipath_device_paths_failed",
		       "Number of paths not in active state for a multipath device.",
		       (double)(x->np - active), x, m->name);
	}
	return r;
}

const struct sb_proc_collector sb_proc_collector_dmmultipath = {
    .name = "dmmultipath",
    .default_on = true, /* as upstream */
    .init = mp_init,
    .collect = mp_collect,
    .free = mp_free,
};
