/* <sysfs>/class/nvme: node_exporter 1.5.0's nvme collector,
 * node_nvme_info{device,firmware_revision,model,serial,state} = 1 per
 * controller. Values as procfs reads them (the first 128 bytes, trimmed).
 * No /sys/class/nvme is ErrNoData; an empty one is success without
 * series. node_exporter drops every series when one controller lacks a
 * file (ErrNoData, silent) or cannot be read (an error); here only that
 * controller is left out, with the same status. Controllers are listed at
 * start, every RESCAN_ROUNDS rounds, and after a read failed (one
 * removed). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

#define RESCAN_ROUNDS 60
#define MAX_DEVS 1024

static const struct {
	const char *file, *label;
} nvme_files[] = {
    {"firmware_rev", "firmware_revision"},
    {"model", "model"},
    {"serial", "serial"},
    {"state", "state"},
};
#define NF SB_ARRAY_SIZE(nvme_files)

struct nvme_dev {
	char name[NAME_MAX + 1];
	struct sb_procfile f[NF];
};

struct nvme {
	char base[PATH_MAX];
	struct nvme_dev *v;
	size_t n;
	bool present; /* the class directory exists */
	bool scanned;
	uint64_t scan_round;
	struct sb_ratelimit rl;
	char val[NF][SB_PROC_DMI_MAX];
};

static void free_devs(struct nvme *nv)
{
	for (size_t i = 0; i < nv->n; i++)
		for (size_t k = 0; k < NF; k++)
			sb_procfile_free(&nv->v[i].f[k]);
	free(nv->v);
	nv->v = NULL;
	nv->n = 0;
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct nvme_dev *)a)->name, ((const struct nvme_dev *)b)->name);
}

static int scan(struct nvme *nv)
{
	free_devs(nv);
	DIR *d = opendir(nv->base);
	nv->present = d || errno != ENOENT;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	size_t cap = 0;
	int r = 0;
	struct dirent *de;
	while (!r && (de = readdir(d)) && nv->n < MAX_DEVS) {
		if (de->d_name[0] == '.')
			continue;
		if (sb_grow((void **)&nv->v, &cap, nv->n + 1, sizeof(*nv->v))) {
			r = -ENOMEM;
			break;
		}
		struct nvme_dev *x = &nv->v[nv->n++];
		memset(x, 0, sizeof(*x));
		for (size_t k = 0; k < NF; k++)
			x->f[k].fd = -1;
		snprintf(x->name, sizeof(x->name), "%s", de->d_name);
	}
	closedir(d);
	if (nv->n)
		qsort(nv->v, nv->n, sizeof(*nv->v), cmp_dev);
	char path[PATH_MAX + NAME_MAX + 32];
	for (size_t i = 0; i < nv->n && !r; i++)
		for (size_t k = 0; k < NF && !r; k++) {
			snprintf(path, sizeof(path), "%s/%s/%s", nv->base, nv->v[i].name,
				 nvme_files[k].file);
			r = sb_procfile_init(&nv->v[i].f[k], path, 4096, nv->n * NF <= 64);
			nv->v[i].f[k].single = true;
		}
	return r;
}

static int nvme_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct nvme *nv = calloc(1, sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	c->priv = nv;
	nv->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	if (snprintf(nv->base, sizeof(nv->base), "%s/class/nvme", st->cfg->sysfs) >=
	    (int)sizeof(nv->base))
		return -ENAMETOOLONG;
	return 0;
}

static void nvme_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct nvme *nv = c->priv;
	if (!nv)
		return;
	free_devs(nv);
	free(nv);
	c->priv = NULL;
}

static int nvme_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct nvme *nv = c->priv;
	int r = 0;
	if (!nv->scanned || st->round - nv->scan_round >= RESCAN_ROUNDS) {
		nv->scanned = true;
		nv->scan_round = st->round;
		r = scan(nv);
		if (r) {
			st->errors++;
			sb_log_rl(&nv->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", nv->base,
				  strerror(-r));
		}
	}
	if (!nv->present)
		return -ENODATA;
	for (size_t i = 0; i < nv->n; i++) {
		struct nvme_dev *x = &nv->v[i];
		size_t k;
		for (k = 0; k < NF; k++) {
			const char *text = sb_proc_read(st, &x->f[k], true);
			if (text) {
				sb_proc_dmi_value(text, strlen(text), nv->val[k]);
				continue;
			}
			/* absent: ErrNoData, as node_exporter; else logged already */
			int e = sb_proc_read_err(&x->f[k], true);
			if (!r)
				r = e ? e : -ENODATA;
			nv->scanned = false; /* removed? list them again */
			break;
		}
		if (k < NF)
			continue;
		sb_evb_sample(b, "node_nvme_info", SB_GAUGE, 1);
		sb_evb_help(b,
			    "Non-numeric data from /sys/class/nvme/<device>, value is always 1.");
		sb_evb_label(b, "device", x->name);
		for (k = 0; k < NF; k++)
			sb_evb_label(b, nvme_files[k].label, nv->val[k]);
	}
	return r;
}

const struct sb_proc_collector sb_proc_collector_nvme = {
    .name = "nvme",
    .default_on = true,
    .init = nvme_init,
    .collect = nvme_collect,
    .free = nvme_free,
};
