#include "proc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"

static const struct sb_cfg_key proc_keys[] = {
	{"procfs", SB_CT_STR, offsetof(struct proc_cfg, procfs), "/proc",
	 "procfs root (a fixture tree works like /proc)"},
	{"sysfs", SB_CT_STR, offsetof(struct proc_cfg, sysfs), "/sys", "sysfs root"},
	{"processes", SB_CT_STRLIST, offsetof(struct proc_cfg, processes), NULL,
	 "process names (comm) to report per-process metrics for"},
	{"pids", SB_CT_STRLIST, offsetof(struct proc_cfg, pids), NULL,
	 "process ids to report per-process metrics for"},
	{0},
};

static int proc_init(struct sb_sensor *s)
{
	const struct proc_cfg *c = s->cfg;
	struct proc_state *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->cfg = c;
	st->comp = "sensor:proc";
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/loadavg", c->procfs);
	int r = sb_procfile_init(&st->loadavg, path, 0, true);
	if (r) {
		free(st);
		return r;
	}
	s->state = st;
	return 0;
}

static void proc_collect(struct sb_sensor *s)
{
	struct proc_state *st = s->state;
	struct sb_evb *b = &s->evb;
	sb_evb_begin(b, "proc", "metrics");
	if (sb_procfile_read(&st->loadavg, st->comp, false) >= 0) {
		const char *why = NULL;
		if (sb_proc_parse_loadavg(st->loadavg.buf.data, b, &why) < 0)
			sb_procfile_bad(&st->loadavg, st->comp, "%s", why);
	}
	sb_sensor_publish_evb(s);
	sb_sensor_round_done(s);
}

static void proc_destroy(struct sb_sensor *s)
{
	struct proc_state *st = s->state;
	if (!st)
		return;
	sb_procfile_free(&st->loadavg);
	free(st);
	s->state = NULL;
}

const struct sb_sensor_ops sb_sensor_proc = {
	.name = "proc",
	.desc = "system and per-process metrics from procfs/sysfs (node_exporter names)",
	.keys = proc_keys,
	.cfg_size = sizeof(struct proc_cfg),
	.init = proc_init,
	.collect = proc_collect,
	.destroy = proc_destroy,
};
