/* /proc/sys/kernel/hung_task_detect_count: upstream node_exporter's
 * kernel_hung collector (1.11+, not in Debian's 1.5.0), the tasks the
 * kernel's hung-task detector has reported since boot. Kernels without
 * CONFIG_DETECT_HUNG_TASK (or before 6.14) lack the file: no data, as
 * upstream's ErrNoData. */
#include <errno.h>

#include "proc.h"

static int kernel_hung_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	const char *text = sb_proc_coll_read(st, c, 0);
	if (!text)
		return sb_proc_nodata(c->f[0]);
	uint64_t v;
	if (!sb_pp_uint_text(text, &v)) {
		struct sb_proc_perr e = {0};
		sb_proc_bad(&e, 1, "expected a number");
		return sb_proc_report(st, c->f[0], &e);
	}
	sb_evb_sample(b, "node_kernel_hung_tasks_total", SB_COUNTER, (double)v);
	sb_evb_help(b, "Total number of tasks that have been detected as hung since the system "
		       "booted.");
	return 0;
}

const struct sb_proc_collector sb_proc_collector_kernel_hung = {
    .name = "kernel_hung",
    .default_on = true, /* as upstream */
    .files =
	(const struct sb_proc_src[]){
	    {"sys/kernel/hung_task_detect_count", .single = true, .optional = true},
	    {NULL},
	},
    .collect = kernel_hung_collect,
};
