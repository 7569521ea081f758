/* <sysfs>/class/power_supply/<supply>: node_exporter 1.5.0's
 * powersupplyclass collector: node_power_supply_<attribute>{power_supply}
 * (µA, µV, µW, µWh, µAh → A, V, W, Wh, Ah; 0.1 °C → °C) and
 * node_power_supply_info with the non-empty text attributes as labels.
 *
 * The supply list is read every round (USB chargers come and go); a
 * supply's files are opened when it is first seen. As procfs, only
 * regular files are read, one read of 128 bytes each, blanks trimmed,
 * numbers as Go's ParseInt(s, 0, 64); an attribute the driver refuses now
 * is left out silently. node_exporter fails the whole collector on a
 * malformed number; here that supply is reported and left out, the others
 * kept (success 0 either way). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"

#define VALUE_MAX 128
/* Each supply keeps its attribute files open (about 60). */
#define MAX_SUPPLIES 32
#define HELP_TAIL " value of /sys/class/power_supply/<power_supply>."

/* Numeric attributes: file, metric after node_power_supply_, divisor. */
static const struct {
	const char *file, *name;
	double div;
} num_attrs[] = {
    {"authentic", "authentic", 1},
    {"calibrate", "calibrate", 1},
    {"capacity", "capacity", 1},
    {"capacity_alert_max", "capacity_alert_max", 1},
    {"capacity_alert_min", "capacity_alert_min", 1},
    {"cycle_count", "cyclecount", 1},
    {"online", "online", 1},
    {"present", "present", 1},
    {"time_to_empty_now", "time_to_empty_seconds", 1},
    {"time_to_full_now", "time_to_full_seconds", 1},
    {"current_boot", "current_boot", 1e6},
    {"current_max", "current_max", 1e6},
    {"current_now", "current_ampere", 1e6},
    {"energy_empty", "energy_empty", 1e6},
    {"energy_empty_design", "energy_empty_design", 1e6},
    {"energy_full", "energy_full", 1e6},
    {"energy_full_design", "energy_full_design", 1e6},
    {"energy_now", "energy_watthour", 1e6},
    {"voltage_boot", "voltage_boot", 1e6},
    {"voltage_max", "voltage_max", 1e6},
    {"voltage_max_design", "voltage_max_design", 1e6},
    {"voltage_min", "voltage_min", 1e6},
    {"voltage_min_design", "voltage_min_design", 1e6},
    {"voltage_now", "voltage_volt", 1e6},
    {"voltage_ocv", "voltage_ocv", 1e6},
    {"charge_control_limit", "charge_control_limit", 1e6},
    {"charge_control_limit_max", "charge_control_limit_max", 1e6},
    {"charge_counter", "charge_counter", 1e6},
    {"charge_empty", "charge_empty", 1e6},
    {"charge_empty_design", "charge_empty_design", 1e6},
    {"charge_full", "charge_full", 1e6},
    {"charge_full_design", "charge_full_design", 1e6},
    {"charge_now", "charge_ampere", 1e6},
    {"charge_term_current", "charge_term_current", 1e6},
    {"constant_charge_current", "constant_charge_current", 1e6},
    {"constant_charge_current_max", "constant_charge_current_max", 1e6},
    {"constant_charge_voltage", "constant_charge_voltage", 1e6},
    {"constant_charge_voltage_max", "constant_charge_voltage_max", 1e6},
    {"precharge_current", "precharge_current", 1e6},
    {"input_current_limit", "input_current_limit", 1e6},
    {"power_now", "power_watt", 1e6},
    {"temp", "temp_celsius", 10},
    {"temp_alert_max", "temp_alert_max_celsius", 10},
    {"temp_alert_min", "temp_alert_min_celsius", 10},
    {"temp_ambient", "temp_ambient_celsius", 10},
    {"temp_max", "temp_max_celsius", 10},
    {"temp_min", "temp_min_celsius", 10},
};
#define NNUM SB_ARRAY_SIZE(num_attrs)
/* node_power_supply_info's labels (file = label). */
static const char *const str_attrs[] = {
    "type",	     "capacity_level", "charge_type", "health",	  "manufacturer", "model_name",
    "serial_number", "status",	       "technology",  "usb_type", "scope",
};
#define NSTR SB_ARRAY_SIZE(str_attrs)
#define NATTR (NNUM + NSTR)

static const char *attr_file(size_t k)
{
	return k < NNUM ? num_attrs[k].file : str_attrs[k - NNUM];
}

struct ps_dev {
	char name[NAME_MAX + 1];
	int fd[NATTR]; /* -1: absent or not a regular file */
	bool seen, stale;
};

struct psc {
	char base[PATH_MAX];
	struct sb_proc_filter ignored;
	struct ps_dev *dev;
	size_t n, cap;
	struct sb_ratelimit rl;
	DIR *dir; /* base, kept open */
	/* the last listing's result, its count, and the device events seen
	 * when it was made (sb_proc_uevents_since) */
	int listed;
	uint64_t listings, uev_seen;
};

/* Go's strings.ToValidUTF8(s, "\uFFFD"): each run of bytes that are not
 * UTF-8 becomes one U+FFFD. Returns the length written to out (cap ≥ 3n+1). */
size_t sb_proc_valid_utf8(const char *s, size_t n, char *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0, i = 0;
	bool bad_run = false;
	while (i < n) {
		unsigned c = p[i];
		size_t len = c < 0x80	      ? 1
			     : (c >> 5) == 6  ? 2
			     : (c >> 4) == 14 ? 3
			     : (c >> 3) == 30 ? 4
					      : 0;
		bool ok = len && i + len <= n;
		for (size_t k = 1; ok && k < len; k++)
			ok = (p[i + k] & 0xc0) == 0x80;
		if (ok && len > 1) { /* overlong, surrogates, above U+10FFFF */
			unsigned cp = len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
			for (size_t k = 1; k < len; k++)
				cp = cp << 6 | (p[i + k] & 0x3f);
			ok = !(len == 2 && cp < 0x80) && !(len == 3 && cp < 0x800) &&
			     !(len == 4 && cp < 0x10000) && !(cp >= 0xd800 && cp <= 0xdfff) &&
			     cp <= 0x10ffff;
		}
		if (!ok) {
			if (!bad_run)
				memcpy(out + w, "\xef\xbf\xbd", 3), w += 3;
			bad_run = true;
			i++;
			continue;
		}
		bad_run = false;
		memcpy(out + w, p + i, len);
		w += len;
		i += len;
	}
	out[w] = 0;
	return w;
}

static void dev_close(struct ps_dev *d)
{
	for (size_t k = 0; k < NATTR; k++)
		if (d->fd[k] >= 0) {
			close(d->fd[k]);
			d->fd[k] = -1;
		}
}

static int dev_open(int classfd, struct ps_dev *d)
{
	int dfd = openat(classfd, d->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	d->stale = false;
	for (size_t k = 0; k < NATTR; k++) {
		struct stat sb;
		d->fd[k] = -1;
		if (!fstatat(dfd, attr_file(k), &sb, AT_SYMLINK_NOFOLLOW) && S_ISREG(sb.st_mode))
			d->fd[k] = openat(dfd, attr_file(k), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	}
	close(dfd);
	return 0;
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct ps_dev *)a)->name, ((const struct ps_dev *)b)->name);
}

static int list(struct proc_state *st, struct psc *ps)
{
	DIR *dir = sb_procdir_rewind(&ps->dir, ps->base);
	if (!dir) {
		int r = -errno;
		if (r == -ENOENT)
			return -ENODATA;
		st->errors++;
		sb_log_rl(&ps->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", ps->base,
			  strerror(-r));
		return r;
	}
	for (size_t i = 0; i < ps->n; i++)
		ps->dev[i].seen = false;
	int r = 0;
	bool added = false;
	struct dirent *de;
	while ((de = readdir(dir)) && !r) {
		const char *nm = de->d_name;
		size_t len = strlen(nm);
		if (nm[0] == '.' || len > NAME_MAX || !sb_proc_filter_pass(&ps->ignored, nm, len))
			continue;
		struct ps_dev *d = NULL;
		for (size_t i = 0; i < ps->n && !d; i++)
			if (!strcmp(ps->dev[i].name, nm))
				d = &ps->dev[i];
		if (d && d->stale) {
			dev_close(d);
			d->seen = true;
			if (dev_open(dirfd(dir), d))
				d->seen = false;
			continue;
		}
		if (!d) {
			if (ps->n == MAX_SUPPLIES)
				continue;
			if (ps->n == ps->cap) {
				size_t cap = ps->cap ? ps->cap * 2 : 8;
				struct ps_dev *v = realloc(ps->dev, cap * sizeof(*v));
				if (!v) {
					r = -ENOMEM;
					break;
				}
				ps->dev = v;
				ps->cap = cap;
			}
			d = &ps->dev[ps->n];
			memset(d, 0, sizeof(*d));
			memcpy(d->name, nm, len + 1);
			int e = dev_open(dirfd(dir), d);
			if (e) {
				st->errors++;
				sb_log_rl(&ps->rl, SB_LOG_WARN, st->comp, "cannot open %s/%s: %s",
					  ps->base, nm, strerror(-e));
				r = e;
				continue;
			}
			ps->n++;
			added = true;
		}
		d->seen = true;
	}
	size_t w = 0;
	for (size_t i = 0; i < ps->n; i++) {
		if (ps->dev[i].seen)
			ps->dev[w++] = ps->dev[i];
		else
			dev_close(&ps->dev[i]);
	}
	ps->n = w;
	if (added && ps->n > 1)
		qsort(ps->dev, ps->n, sizeof(*ps->dev), cmp_dev);
	return r;
}

/* One attribute, trimmed: its length, -ENOENT when the driver does not
 * show it now (silently left out), or -errno (logged). */
static ssize_t read_attr(struct proc_state *st, struct psc *ps, struct ps_dev *d, size_t k,
			 char *buf, const char **v)
{
	ssize_t n = pread(d->fd[k], buf, VALUE_MAX, 0);
	int err = n < 0 ? errno : 0;
	if (err == ENODEV)
		d->stale = true;
	if (err == EINVAL || err == EOPNOTSUPP || err == ENOENT || err == EACCES || err == EPERM ||
	    err == ENODEV || err == ENODATA || err == EAGAIN)
		return -ENOENT;
	if (err) {
		st->errors++;
		sb_log_rl(&ps->rl, SB_LOG_WARN, st->comp, "cannot read %s/%s/%s: %s", ps->base,
			  d->name, attr_file(k), strerror(err));
		return -err;
	}
	return (ssize_t)sb_proc_sysfs_trim(buf, (size_t)n, v);
}

static int dev_collect(struct proc_state *st, struct psc *ps, struct ps_dev *d, struct sb_evb *b)
{
	double val[NNUM];
	bool have[NNUM] = {0};
	char buf[VALUE_MAX + 1];
	int r = 0;
	for (size_t k = 0; k < NNUM; k++) {
		const char *v;
		int64_t x;
		ssize_t n = d->fd[k] < 0 ? -ENOENT : read_attr(st, ps, d, k, buf, &v);
		if (n == -ENOENT)
			continue;
		if (n < 0)
			return (int)n;
		if (!sb_proc_go_int(v, (size_t)n, 0, &x)) {
			st->errors++;
			sb_log_rl(&ps->rl, SB_LOG_WARN, st->comp,
				  "%s/%s/%s: line 1: not an integer: \"%.*s\", supply skipped",
				  ps->base, d->name, num_attrs[k].file, (int)(n > 32 ? 32 : n), v);
			return -EINVAL;
		}
		val[k] = (double)x / num_attrs[k].div;
		have[k] = true;
	}
	char sbuf[NSTR][3 * VALUE_MAX + 1];
	size_t slen[NSTR] = {0};
	for (size_t k = 0; k < NSTR; k++) {
		const char *v;
		ssize_t n = d->fd[NNUM + k] < 0 ? -ENOENT : read_attr(st, ps, d, NNUM + k, buf, &v);
		if (n == -ENOENT)
			continue;
		if (n < 0)
			return (int)n;
		slen[k] = sb_proc_valid_utf8(v, (size_t)n, sbuf[k]);
	}
	char name[96], help[160];
	for (size_t k = 0; k < NNUM; k++) {
		if (!have[k])
			continue;
		SB_PROC_JOIN(name, SB_PJ("node_power_supply_"), SB_PJ(num_attrs[k].name));
		SB_PROC_JOIN(help, SB_PJ(num_attrs[k].name), SB_PJ(HELP_TAIL));
		sb_evb_sample(b, name, SB_GAUGE, val[k]);
		sb_evb_help(b, help);
		sb_evb_label(b, "power_supply", d->name);
	}
	sb_evb_sample(b, "node_power_supply_info", SB_GAUGE, 1);
	sb_evb_help(b, "info of /sys/class/power_supply/<power_supply>.");
	sb_evb_label(b, "power_supply", d->name);
	for (size_t k = 0; k < NSTR; k++)
		if (slen[k])
			sb_evb_labeln(b, str_attrs[k], strlen(str_attrs[k]), sbuf[k], slen[k]);
	return r;
}

uint64_t sb_proc_psc_listings(const struct sb_proc_coll *c)
{
	const struct psc *ps = c->priv;
	return ps ? ps->listings : 0;
}

/* The directory is listed again when a power_supply device came, went or
 * moved (on the live /sys; every round on a tree), when a read said one is
 * gone, or when the last listing failed. Listed clean (or absent), the
 * same devices are read from their kept fds. */
static bool relist(struct proc_state *st, struct psc *ps)
{
	bool r = sb_proc_uevents_since(st, "power_supply", &ps->uev_seen);
	for (size_t i = 0; i < ps->n && !r; i++)
		r = ps->dev[i].stale;
	return r || (ps->listed && ps->listed != -ENODATA) || !ps->listings;
}

static int psc_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct psc *ps = c->priv;
	if (relist(st, ps)) {
		ps->listed = list(st, ps);
		ps->listings++;
	}
	int r = ps->listed;
	if (r == -ENODATA)
		return r;
	for (size_t i = 0; i < ps->n; i++) {
		int e = dev_collect(st, ps, &ps->dev[i], b);
		if (e && !r)
			r = e;
	}
	return r;
}

static int psc_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct psc *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	c->priv = ps;
	ps->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	if (snprintf(ps->base, sizeof(ps->base), "%s/class/power_supply", st->cfg->sysfs) >=
	    (int)sizeof(ps->base))
		return -ENAMETOOLONG;
	char err[256];
	int r = sb_proc_filter_init(&ps->ignored, NULL, st->cfg->powersupply_ignored_supplies, err,
				    sizeof(err));
	if (r)
		sb_err(st->comp, "powersupply_ignored_supplies: %s", err);
	return r;
}

static void psc_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct psc *ps = c->priv;
	if (!ps)
		return;
	for (size_t i = 0; i < ps->n; i++)
		dev_close(&ps->dev[i]);
	free(ps->dev);
	sb_proc_filter_free(&ps->ignored);
	if (ps->dir)
		closedir(ps->dir);
	free(ps);
	c->priv = NULL;
}

static const struct sb_cfg_key psc_keys[] = {
    {"powersupply_ignored_supplies", SB_CT_STR,
     offsetof(struct proc_cfg, powersupply_ignored_supplies), "^$",
     "regexp of power supplies the powersupplyclass collector leaves out"},
    {0},
};

static int psc_check(const struct proc_cfg *c, char *err, size_t errlen)
{
	return sb_proc_check_regex("powersupply_ignored_supplies", c->powersupply_ignored_supplies,
				   err, errlen);
}

const struct sb_proc_collector sb_proc_collector_powersupplyclass = {
    .name = "powersupplyclass",
    .default_on = true,
    .keys = psc_keys,
    .check = psc_check,
    .init = psc_init,
    .collect = psc_collect,
    .free = psc_free,
};
