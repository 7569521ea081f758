/* node_exporter's diskstats collector around the /proc/diskstats parser:
 * node_disk_info per device (major, minor, rotational from sysfs, and the
 * udev database's path, wwn, model, serial and revision), plus the
 * filesystem, device-mapper and ATA series udev knows. Device facts are
 * read when a device first appears and again every INFO_REFRESH rounds,
 * not every round. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

#define INFO_REFRESH 60
#define DISK_EXCLUDE "^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$"

struct disk_ent {
	char name[128];
	unsigned major, minor;
	bool rotational;
	bool have_udev;
	uint64_t info_round;
	uint64_t seen_round;
	struct sb_proc_udev udev;
};

struct proc_disks {
	struct sb_proc_filter devices;
	char udev_dir[PATH_MAX];
	struct disk_ent *v;
	size_t n, cap;
	struct sb_ratelimit rl;
	struct proc_state *st; /* for the info callback */
};

static int disks_init(struct proc_state *st, struct sb_proc_coll *coll)
{
	const struct proc_cfg *c = st->cfg;
	struct proc_disks *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	coll->priv = d;
	d->st = st;
	d->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	char err[256];
	int r = sb_proc_filter_init(&d->devices, c->diskstats_device_include,
				    c->diskstats_device_exclude, err, sizeof(err));
	if (r) {
		sb_err(st->comp, "%s", err);
		return r;
	}
	const char *u = c->udev ? c->udev : "";
	/* the directory is base + tail */
	char root[PATH_MAX];
	const char *base = u, *tail = "";
	if (!strcmp(u, "auto")) {
		/* A fixture tree keeps its udev database beside proc/: the
		 * host's would describe other disks. */
		snprintf(root, sizeof(root), "%s", c->procfs);
		size_t l = strlen(root);
		while (l > 1 && root[l - 1] == '/')
			root[--l] = 0;
		if (!strcmp(root, "/proc")) {
			base = "/run/udev/data";
		} else {
			char *slash = strrchr(root, '/');
			if (slash)
				slash[slash == root ? 1 : 0] = 0;
			else
				snprintf(root, sizeof(root), ".");
			base = root;
			tail = "/udev/data";
		}
	}
	/* The key is checked when the config is (disks_check), and the path
	 * beside the procfs root is shorter than the diskstats one, which
	 * fit: checked here all the same, never cut short. */
	if (snprintf(d->udev_dir, sizeof(d->udev_dir), "%s%s", base, tail) >=
	    (int)sizeof(d->udev_dir)) {
		sb_err(st->comp, "udev database: path too long (%zu bytes)",
		       strlen(base) + strlen(tail));
		return -ENAMETOOLONG;
	}
	return 0;
}

static void disks_free(struct proc_state *st, struct sb_proc_coll *coll)
{
	(void)st;
	struct proc_disks *d = coll->priv;
	if (!d)
		return;
	sb_proc_filter_free(&d->devices);
	free(d->v);
	free(d);
	coll->priv = NULL;
}

static struct disk_ent *lookup(struct proc_disks *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].name, name))
			return &d->v[i];
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct disk_ent *v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		d->v = v;
		d->cap = cap;
	}
	struct disk_ent *e = &d->v[d->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "%s", name);
	return e;
}

static void refresh(struct proc_disks *d, struct disk_ent *e, unsigned major, unsigned minor)
{
	struct proc_state *st = d->st;
	char path[PATH_MAX + 160];
	struct sb_buf buf;
	sb_buf_init(&buf);
	e->major = major;
	e->minor = minor;
	e->info_round = st->round;
	/* missing queue/ (partitions) reads as not rotational, as upstream */
	uint64_t rot = 0;
	snprintf(path, sizeof(path), "%s/block/%s/queue/rotational", st->cfg->sysfs, e->name);
	e->rotational = sb_read_file(path, &buf, 4096) >= 0 &&
			sb_pp_uint_text(sb_buf_cstr(&buf), &rot) && rot == 1;
	e->have_udev = false;
	if (d->udev_dir[0]) {
		snprintf(path, sizeof(path), "%s/b%u:%u", d->udev_dir, major, minor);
		sb_buf_reset(&buf);
		ssize_t r = sb_read_file(path, &buf, 1 << 20);
		if (r >= 0) {
			sb_proc_parse_udev(sb_buf_cstr(&buf), &e->udev);
			e->have_udev = true;
		} else if (r != -ENOENT) {
			st->errors++;
			sb_log_rl(&d->rl, SB_LOG_WARN, st->comp, "cannot read %s: %s", path,
				  strerror((int)-r));
		}
	}
	sb_buf_free(&buf);
}

static const char *or_empty(const char *s) { return s ? s : ""; }

static void disk_info(void *arg, struct sb_evb *b, unsigned major, unsigned minor, const char *name)
{
	struct proc_disks *d = arg;
	struct proc_state *st = d->st;
	struct disk_ent *e = lookup(d, name);
	if (!e)
		return;
	if (!e->info_round || e->major != major || e->minor != minor ||
	    st->round - e->info_round >= INFO_REFRESH)
		refresh(d, e, major, minor);
	e->seen_round = st->round;
	const struct sb_proc_udev *u = e->have_udev ? &e->udev : NULL;
	char maj[16], min[16];
	snprintf(maj, sizeof(maj), "%u", major);
	snprintf(min, sizeof(min), "%u", minor);
	/* serial: the one printed on the label, else the short form, else
	 * ID_SERIAL (virtio) */
	const char *serial = "";
	if (u) {
		serial = u->scsi_serial && *u->scsi_serial     ? u->scsi_serial
			 : u->serial_short && *u->serial_short ? u->serial_short
							       : or_empty(u->serial);
	}
	sb_evb_sample(b, "node_disk_info", SB_GAUGE, 1);
	sb_evb_help(b, "Info of /sys/block/<block_device>.");
	sb_evb_label(b, "device", name);
	sb_evb_label(b, "major", maj);
	sb_evb_label(b, "minor", min);
	sb_evb_label(b, "path", u ? or_empty(u->path) : "");
	sb_evb_label(b, "wwn", u ? or_empty(u->wwn) : "");
	sb_evb_label(b, "model", u ? or_empty(u->model) : "");
	sb_evb_label(b, "serial", serial);
	sb_evb_label(b, "revision", u ? or_empty(u->revision) : "");
	sb_evb_label(b, "rotational", e->rotational ? "1" : "0");
	if (!u)
		return;
	if (u->fs_type && *u->fs_type) {
		sb_evb_sample(b, "node_disk_filesystem_info", SB_GAUGE, 1);
		sb_evb_help(b, "Info about disk filesystem.");
		sb_evb_label(b, "device", name);
		sb_evb_label(b, "type", u->fs_type);
		sb_evb_label(b, "usage", or_empty(u->fs_usage));
		sb_evb_label(b, "uuid", or_empty(u->fs_uuid));
		sb_evb_label(b, "version", or_empty(u->fs_version));
	}
	if (u->dm_name && *u->dm_name) {
		sb_evb_sample(b, "node_disk_device_mapper_info", SB_GAUGE, 1);
		sb_evb_help(b, "Info about disk device mapper.");
		sb_evb_label(b, "device", name);
		sb_evb_label(b, "name", u->dm_name);
		sb_evb_label(b, "uuid", or_empty(u->dm_uuid));
		sb_evb_label(b, "vg_name", or_empty(u->dm_vg_name));
		sb_evb_label(b, "lv_name", or_empty(u->dm_lv_name));
		sb_evb_label(b, "lv_layer", or_empty(u->dm_lv_layer));
	}
	if (!u->ata || !*u->ata)
		return;
	const struct {
		const char *v, *key, *name, *help;
	} ata[] = {
	    {u->ata_write_cache, "ID_ATA_WRITE_CACHE", "node_disk_ata_write_cache",
	     "ATA disk has a write cache."},
	    {u->ata_write_cache_enabled, "ID_ATA_WRITE_CACHE_ENABLED",
	     "node_disk_ata_write_cache_enabled", "ATA disk has its write cache enabled."},
	    {u->ata_rotation_rate_rpm, "ID_ATA_ROTATION_RATE_RPM",
	     "node_disk_ata_rotation_rate_rpm", "ATA disk rotation rate in RPMs (0 for SSDs)."},
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(ata); i++) {
		if (!ata[i].v)
			continue;
		double v;
		const char *p = ata[i].v;
		if (!sb_pp_double(&p, &v) || *p) {
			st->errors++;
			sb_log_rl(&d->rl, SB_LOG_WARN, st->comp, "%s/b%u:%u: %s is not a number",
				  d->udev_dir, major, minor, ata[i].key);
			continue;
		}
		sb_evb_sample(b, ata[i].name, SB_GAUGE, v);
		sb_evb_help(b, ata[i].help);
		sb_evb_label(b, "device", name);
	}
}

static int disks_collect(struct proc_state *st, struct sb_proc_coll *coll, struct sb_evb *b)
{
	struct proc_disks *d = coll->priv;
	const char *text = sb_proc_coll_read(st, coll, 0);
	if (!text)
		return sb_proc_read_err(coll->f[0], false);
	struct sb_proc_perr e = {0};
	sb_proc_parse_diskstats(text, b, &d->devices, disk_info, d, &e);
	int r = sb_proc_report(st, coll->f[0], &e);
	/* forget devices that went away */
	size_t k = 0;
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].seen_round == st->round)
			d->v[k++] = d->v[i];
	d->n = k;
	return r;
}

static const struct sb_cfg_key disks_keys[] = {
    {"udev", SB_CT_STR, offsetof(struct proc_cfg, udev), "auto",
     "udev database for disk info labels (auto: /run/udev/data with procfs /proc, else "
     "udev/data beside the procfs root; \"\": none); a path of 4096 bytes or more is refused"},
    {"diskstats_device_exclude", SB_CT_STR, offsetof(struct proc_cfg, diskstats_device_exclude),
     DISK_EXCLUDE, "regexp of disk devices to leave out"},
    {"diskstats_device_include", SB_CT_STR, offsetof(struct proc_cfg, diskstats_device_include), "",
     "regexp of disk devices to report (replaces the exclude)"},
    {0},
};

static int disks_check(const struct proc_cfg *c, char *err, size_t errlen)
{
	if (c->udev && strlen(c->udev) >= PATH_MAX) {
		snprintf(err, errlen, "udev: path too long (%zu bytes, the most is %d)",
			 strlen(c->udev), PATH_MAX - 1);
		return -ENAMETOOLONG;
	}
	int r = sb_proc_check_regex("diskstats_device_exclude", c->diskstats_device_exclude, err,
				    errlen);
	if (!r)
		r = sb_proc_check_regex("diskstats_device_include", c->diskstats_device_include,
					err, errlen);
	return r;
}

const struct sb_proc_collector sb_proc_collector_diskstats = {
    .name = "diskstats",
    .default_on = true,
    .files = (const struct sb_proc_src[]){{"diskstats", .line_max = SB_PREAD_LINE_MAX}, {NULL}},
    .keys = disks_keys,
    .check = disks_check,
    .init = disks_init,
    .collect = disks_collect,
    .free = disks_free,
};
