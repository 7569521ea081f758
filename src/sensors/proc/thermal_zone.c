/* <sysfs>/class/thermal: node_exporter 1.5.0's thermal_zone collector,
 * node_thermal_zone_temp{zone,type} (m°C → °C) from every thermal_zone<N>
 * and node_cooling_device_{cur,max}_state{name,type} from every
 * cooling_device<N>. No class directory is no zone, success 1, as there.
 *
 * A zone needs type, policy and temp (mode and passive are checked when
 * present), a cooling device type, max_state and cur_state, as procfs
 * does. node_exporter drops every series when one of them is missing or
 * malformed; here that zone or device is reported and left out, the
 * others kept (success 0 either way). The directories are listed at start,
 * every RESCAN_ROUNDS rounds, and after a file went away. */
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
#define MAX_ITEMS 1024
#define SYSREAD_MAX 128 /* procfs' SysReadFile: one read of 128 bytes */

enum { ZONE, COOLING };
/* Files of each kind; the first three are required. */
static const char *const kind_files[2][5] = {
    {"type", "policy", "temp", "mode", "passive"},
    {"type", "max_state", "cur_state", NULL, NULL},
};
static const char *const kind_prefix[2] = {"thermal_zone", "cooling_device"};
#define NF 5
#define NREQ 3

struct tz_item {
	int kind;
	char name[NAME_MAX + 1]; /* after the prefix */
	int fd[NF];		 /* -1: absent */
	int err[NF];		 /* errno of the open, for required files */
};

struct thermal {
	char base[PATH_MAX];
	struct tz_item *it;
	size_t n;
	bool scanned;
	uint64_t scan_round;
	struct sb_ratelimit rl;
};

static void free_items(struct thermal *tz)
{
	for (size_t i = 0; i < tz->n; i++)
		for (size_t k = 0; k < NF; k++)
			if (tz->it[i].fd[k] >= 0)
				close(tz->it[i].fd[k]);
	free(tz->it);
	tz->it = NULL;
	tz->n = 0;
}

static int cmp_item(const void *a, const void *b)
{
	const struct tz_item *x = a, *y = b;
	return x->kind != y->kind ? x->kind - y->kind : strcmp(x->name, y->name);
}

static int scan(struct thermal *tz)
{
	free_items(tz);
	DIR *d = opendir(tz->base);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	size_t cap = 0;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d)) && tz->n < MAX_ITEMS) {
		int kind =
		    !strncmp(de->d_name, kind_prefix[ZONE], strlen(kind_prefix[ZONE])) ? ZONE
		    : !strncmp(de->d_name, kind_prefix[COOLING], strlen(kind_prefix[COOLING]))
			? COOLING
			: -1;
		if (kind < 0)
			continue;
		if (sb_grow((void **)&tz->it, &cap, tz->n + 1, sizeof(*tz->it))) {
			r = -ENOMEM;
			break;
		}
		struct tz_item *it = &tz->it[tz->n++];
		it->kind = kind;
		snprintf(it->name, sizeof(it->name), "%s", de->d_name + strlen(kind_prefix[kind]));
		int dfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		int derr = dfd < 0 ? errno : 0;
		for (size_t k = 0; k < NF; k++) {
			const char *f = kind_files[kind][k];
			it->fd[k] =
			    dfd < 0 || !f ? -1 : openat(dfd, f, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
			it->err[k] = dfd < 0 ? derr : it->fd[k] < 0 ? errno : 0;
		}
		if (dfd >= 0)
			close(dfd);
	}
	closedir(d);
	if (tz->n)
		qsort(tz->it, tz->n, sizeof(*tz->it), cmp_item);
	return r;
}

static int thermal_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct thermal *tz = calloc(1, sizeof(*tz));
	if (!tz)
		return -ENOMEM;
	c->priv = tz;
	tz->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	if (snprintf(tz->base, sizeof(tz->base), "%s/class/thermal", st->cfg->sysfs) >=
	    (int)sizeof(tz->base))
		return -ENAMETOOLONG;
	return 0;
}

static void thermal_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct thermal *tz = c->priv;
	if (!tz)
		return;
	free_items(tz);
	free(tz);
	c->priv = NULL;
}

/* One value of an item, trimmed; integer files parsed (base 10, as
 * procfs' ReadIntFromFile). 0, -ENODATA (the kernel has no value now:
 * the item is skipped silently), or -errno/-EINVAL (logged). */
static int item_read(struct proc_state *st, struct thermal *tz, struct tz_item *it, size_t k,
		     char *buf, size_t cap, const char **v, size_t *len, int64_t *num)
{
	const char *f = kind_files[it->kind][k];
	ssize_t n = it->fd[k] < 0 ? -1 : pread(it->fd[k], buf, cap, 0);
	int err = it->fd[k] < 0 ? it->err[k] : n < 0 ? errno : 0;
	if (err == ENODATA)
		return -ENODATA;
	if (err) {
		if (it->fd[k] >= 0 && (err == ENOENT || err == ENODEV))
			tz->scanned = false; /* removed: list again next round */
		st->errors++;
		sb_log_rl(&tz->rl, SB_LOG_WARN, st->comp, "cannot read %s/%s%s/%s: %s", tz->base,
			  kind_prefix[it->kind], it->name, f, strerror(err));
		return -err;
	}
	*len = sb_proc_sysfs_trim(buf, (size_t)n, v);
	if (!num)
		return 0;
	if (sb_proc_go_int(*v, *len, 10, num))
		return 0;
	st->errors++;
	sb_log_rl(&tz->rl, SB_LOG_WARN, st->comp, "%s/%s%s/%s: line 1: not an integer: \"%.*s\"",
		  tz->base, kind_prefix[it->kind], it->name, f, (int)(*len > 32 ? 32 : *len), *v);
	return -EINVAL;
}

static int thermal_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct thermal *tz = c->priv;
	int r = 0;
	if (!tz->scanned || st->round - tz->scan_round >= RESCAN_ROUNDS) {
		tz->scanned = true;
		tz->scan_round = st->round;
		r = scan(tz);
		if (r) {
			st->errors++;
			sb_log_rl(&tz->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", tz->base,
				  strerror(-r));
		}
	}
	for (size_t i = 0; i < tz->n; i++) {
		struct tz_item *it = &tz->it[i];
		char buf[NF][4096];
		const char *v[NF] = {0};
		size_t len[NF] = {0};
		int64_t num[NF] = {0};
		int e = 0;
		for (size_t k = 0; k < NF && !e; k++) {
			const char *f = kind_files[it->kind][k];
			if (!f || (k >= NREQ && it->fd[k] < 0))
				continue; /* mode and passive are optional */
			bool isnum = k == 2 || (it->kind == COOLING && k == 1);
			if (it->kind == ZONE && k == 4) { /* passive: ReadUintFromFile */
				e = item_read(st, tz, it, k, buf[k], sizeof(buf[k]), &v[k], &len[k],
					      &num[k]);
				if (!e && (num[k] < 0 || *v[k] == '-' || *v[k] == '+')) {
					st->errors++;
					sb_log_rl(
					    &tz->rl, SB_LOG_WARN, st->comp,
					    "%s/%s%s/passive: line 1: not an unsigned integer",
					    tz->base, kind_prefix[it->kind], it->name);
					e = -EINVAL;
				}
				continue;
			}
			e = item_read(st, tz, it, k, buf[k],
				      k == 0 || !isnum ? SYSREAD_MAX : sizeof(buf[k]) - 1, &v[k],
				      &len[k], isnum ? &num[k] : NULL);
		}
		if (e) {
			if (e != -ENODATA && !r)
				r = e;
			continue;
		}
		if (it->kind == ZONE) {
			sb_evb_sample(b, "node_thermal_zone_temp", SB_GAUGE,
				      (double)num[2] / 1000.0);
			sb_evb_help(b, "Zone temperature in Celsius");
			sb_evb_label(b, "zone", it->name);
			sb_evb_labeln(b, "type", 4, v[0], len[0]);
			continue;
		}
		sb_evb_sample(b, "node_cooling_device_cur_state", SB_GAUGE, (double)num[2]);
		sb_evb_help(b, "Current throttle state of the cooling device");
		sb_evb_label(b, "name", it->name);
		sb_evb_labeln(b, "type", 4, v[0], len[0]);
		sb_evb_sample(b, "node_cooling_device_max_state", SB_GAUGE, (double)num[1]);
		sb_evb_help(b, "Maximum throttle state of the cooling device");
		sb_evb_label(b, "name", it->name);
		sb_evb_labeln(b, "type", 4, v[0], len[0]);
	}
	return r;
}

const struct sb_proc_collector sb_proc_collector_thermal_zone = {
    .name = "thermal_zone",
    .default_on = true,
    .init = thermal_init,
    .collect = thermal_collect,
    .free = thermal_free,
};
