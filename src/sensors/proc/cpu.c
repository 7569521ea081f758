/* node_exporter's cpu collector: the cpuN lines of /proc/stat (stat.c
 * parses them) and the sysfs series (cpu_sysfs.c). */
#include <errno.h>
#include <stdlib.h>

#include "proc.h"

static int cpu_init(struct proc_state *st, struct sb_proc_coll *c)
{
	c->priv = calloc(1, sizeof(struct sb_proc_cpus));
	if (!c->priv)
		return -ENOMEM;
	return sb_proc_cpu_sysfs_init(st);
}

static int cpu_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	/* the sysfs part needs this round's CPU count from /proc/stat */
	int r = sb_proc_stat_parse(st, c->f[0], b, SB_PROC_STAT_CPU, c->priv);
	sb_proc_cpu_sysfs_collect(st, b);
	return r;
}

static void cpu_free(struct proc_state *st, struct sb_proc_coll *c)
{
	sb_proc_cpus_free(c->priv);
	free(c->priv);
	c->priv = NULL;
	sb_proc_cpu_sysfs_free(st);
}

const struct sb_proc_collector sb_proc_collector_cpu = {
    .name = "cpu",
    .default_on = true,
    .files = (const struct sb_proc_src[]){{"stat", .single = true}, {NULL}},
    .init = cpu_init,
    .collect = cpu_collect,
    .free = cpu_free,
};
