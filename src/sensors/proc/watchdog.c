/* <sysfs>/class/watchdog: upstream node_exporter's watchdog collector
 * (1.8+, not in Debian's 1.5.0), with the rules of procfs' WatchdogClass:
 * each attribute is the first 128 bytes of its file, trimmed; an absent
 * attribute is left out; the numbers are Go base-0 integers.
 * node_watchdog_info{name,options,identity,state,status,
 * pretimeout_governor} = 1 carries the text attributes ("" when absent).
 * No class directory (or one we may not list) is ErrNoData. Upstream
 * fails every device on one unreadable file or bad number; here only that
 * device is left out (an unreadable file: no data, as upstream's
 * permission rule; a bad number: an error). Devices are listed at start,
 * every RESCAN_ROUNDS rounds and after a read failed. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

#define RESCAN_ROUNDS 60
#define MAX_DEVS 256

enum { WD_NUM, WD_TEXT };

/* procfs' order; numbers: name and help, text: info label */
static const struct {
	const char *file;
	int kind;
	const char *name;
} wd_attrs[] = {
    {"bootstatus", WD_NUM, "node_watchdog_bootstatus"},
    {"options", WD_TEXT, "options"},
    {"fw_version", WD_NUM, "node_watchdog_fw_version"},
    {"identity", WD_TEXT, "identity"},
    {"nowayout", WD_NUM, "node_watchdog_nowayout"},
    {"state", WD_TEXT, "state"},
    {"status", WD_TEXT, "status"},
    {"timeleft", WD_NUM, "node_watchdog_timeleft_seconds"},
    {"timeout", WD_NUM, "node_watchdog_timeout_seconds"},
    {"pretimeout", WD_NUM, "node_watchdog_pretimeout_seconds"},
    {"pretimeout_governor", WD_TEXT, "pretimeout_governor"},
    {"access_cs0", WD_NUM, "node_watchdog_access_cs0"},
};
#define NW SB_ARRAY_SIZE(wd_attrs)

/* upstream's emission order of the numbers and of the info labels */
static const unsigned wd_num_order[] = {0, 2, 4, 7, 8, 9, 11};
static const unsigned wd_label_order[] = {1, 3, 5, 6, 10};

struct wd_dev {
	char name[NAME_MAX + 1];
	struct sb_procfile f[NW];
};

struct wd {
	char base[PATH_MAX];
	struct wd_dev *v;
	size_t n;
	bool present; /* the class directory could be listed */
	bool scanned;
	uint64_t scan_round;
	struct sb_ratelimit rl;
	bool have[NW];
	int64_t num[NW];
	char val[NW][SB_PROC_DMI_MAX];
	char help[NW][64];
};

static void free_devs(struct wd *w)
{
	for (size_t i = 0; i < w->n; i++)
		for (size_t k = 0; k < NW; k++)
			sb_procfile_free(&w->v[i].f[k]);
	free(w->v);
	w->v = NULL;
	w->n = 0;
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct wd_dev *)a)->name, ((const struct wd_dev *)b)->name);
}

static int scan(struct wd *w)
{
	free_devs(w);
	DIR *d = opendir(w->base);
	/* upstream: not there, not ours to list, or not a directory: no data */
	w->present = d || !(errno == ENOENT || errno == EACCES || errno == ENOTDIR);
	if (!d)
		return w->present ? -errno : 0;
	size_t cap = 0;
	int r = 0;
	struct dirent *de;
	while (!r && (de = readdir(d)) && w->n < MAX_DEVS) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (sb_grow((void **)&w->v, &cap, w->n + 1, sizeof(*w->v))) {
			r = -ENOMEM;
			break;
		}
		struct wd_dev *x = &w->v[w->n++];
		memset(x, 0, sizeof(*x));
		for (size_t k = 0; k < NW; k++)
			x->f[k].fd = -1;
		snprintf(x->name, sizeof(x->name), "%s", de->d_name);
	}
	closedir(d);
	if (w->n)
		qsort(w->v, w->n, sizeof(*w->v), cmp_dev);
	char path[PATH_MAX + NAME_MAX + 32];
	for (size_t i = 0; i < w->n && !r; i++)
		for (size_t k = 0; k < NW && !r; k++) {
			snprintf(path, sizeof(path), "%s/%s/%s", w->base, w->v[i].name,
				 wd_attrs[k].file);
			r = sb_procfile_init(&w->v[i].f[k], path, 4096, w->n * NW <= 96);
			w->v[i].f[k].single = true;
		}
	return r;
}

static int wd_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct wd *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	c->priv = w;
	w->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	for (size_t k = 0; k < NW; k++)
		snprintf(w->help[k], sizeof(w->help[k]),
			 "Value of /sys/class/watchdog/<watchdog>/%s", wd_attrs[k].file);
	if (snprintf(w->base, sizeof(w->base), "%s/class/watchdog", st->cfg->sysfs) >=
	    (int)sizeof(w->base))
		return -ENAMETOOLONG;
	return 0;
}

static void wd_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct wd *w = c->priv;
	if (!w)
		return;
	free_devs(w);
	free(w);
	c->priv = NULL;
}

/* One device's attributes into w->have/num/val: 0, or <0 and nothing to
 * report for it. */
static int read_dev(struct proc_state *st, struct wd *w, struct wd_dev *x)
{
	for (size_t k = 0; k < NW; k++) {
		w->have[k] = false;
		w->val[k][0] = 0;
		const char *text = sb_proc_read(st, &x->f[k], true);
		if (!text) {
			int e = sb_proc_read_err(&x->f[k], true);
			if (!e)
				continue;   /* absent: left out */
			w->scanned = false; /* removed? list them again */
			return e == -EACCES ? -ENODATA : e;
		}
		size_t len = sb_proc_dmi_value(text, strlen(text), w->val[k]);
		if (wd_attrs[k].kind == WD_NUM && !sb_proc_go_int(w->val[k], len, 0, &w->num[k])) {
			struct sb_proc_perr e = {0};
			sb_proc_bad(&e, 1, "expected an integer");
			return sb_proc_report(st, &x->f[k], &e);
		}
		w->have[k] = true;
	}
	return 0;
}

static int wd_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct wd *w = c->priv;
	int r = 0;
	if (!w->scanned || st->round - w->scan_round >= RESCAN_ROUNDS) {
		w->scanned = true;
		w->scan_round = st->round;
		r = scan(w);
		if (r) {
			st->errors++;
			sb_log_rl(&w->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", w->base,
				  strerror(-r));
		}
	}
	if (!w->present)
		return -ENODATA;
	for (size_t i = 0; i < w->n; i++) {
		struct wd_dev *x = &w->v[i];
		int e = read_dev(st, w, x);
		if (e) {
			if (!r)
				r = e;
			continue;
		}
		for (size_t j = 0; j < SB_ARRAY_SIZE(wd_num_order); j++) {
			unsigned k = wd_num_order[j];
			if (!w->have[k])
				continue;
			sb_evb_sample(b, wd_attrs[k].name, SB_GAUGE, (double)w->num[k]);
			sb_evb_help(b, w->help[k]);
			sb_evb_label(b, "name", x->name);
		}
		sb_evb_sample(b, "node_watchdog_info", SB_GAUGE, 1);
		sb_evb_help(b, "Info of /sys/class/watchdog/<watchdog>");
		sb_evb_label(b, "name", x->name);
		for (size_t j = 0; j < SB_ARRAY_SIZE(wd_label_order); j++) {
			unsigned k = wd_label_order[j];
			sb_evb_label(b, wd_attrs[k].name, w->val[k]);
		}
	}
	return r;
}

const struct sb_proc_collector sb_proc_collector_watchdog = {
    .name = "watchdog",
    .default_on = true, /* as upstream */
    .init = wd_init,
    .collect = wd_collect,
    .free = wd_free,
};
