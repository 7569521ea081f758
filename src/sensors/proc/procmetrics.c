/* The per-process metrics, one naming table for every reader (procfs in
 * process.c, the BPF task iterator in procs_walk.c): the same names, HELP
 * texts and labels whichever reader measured them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

const struct sb_proc_metric sb_proc_metrics[SB_PM_MAX] = {
    [SB_PM_CPU] = {"process_cpu_seconds_total", SB_COUNTER,
		   "Total user and system CPU time spent in seconds."},
    [SB_PM_RSS] = {"process_resident_memory_bytes", SB_GAUGE, "Resident memory size in bytes."},
    [SB_PM_VSIZE] = {"process_virtual_memory_bytes", SB_GAUGE, "Virtual memory size in bytes."},
    [SB_PM_THREADS] = {"process_threads", SB_GAUGE, "Number of OS threads in the process."},
    [SB_PM_START] = {"process_start_time_seconds", SB_GAUGE,
		     "Start time of the process since unix epoch in seconds."},
    [SB_PM_MINFLT] = {"process_minor_page_faults_total", SB_COUNTER,
		      "Page faults served without I/O."},
    [SB_PM_MAJFLT] = {"process_major_page_faults_total", SB_COUNTER,
		      "Page faults that needed I/O."},
    [SB_PM_VCSW] = {"process_voluntary_context_switches_total", SB_COUNTER,
		    "Context switches of the process's threads while waiting for a resource."},
    [SB_PM_ICSW] = {"process_involuntary_context_switches_total", SB_COUNTER,
		    "Context switches of the process's threads forced by the scheduler."},
    [SB_PM_READ] = {"process_io_read_bytes_total", SB_COUNTER,
		    "Bytes the process caused to be read from storage."},
    [SB_PM_WRITE] = {"process_io_write_bytes_total", SB_COUNTER,
		     "Bytes the process caused to be written to storage."},
    [SB_PM_FDS] = {"process_open_fds", SB_GAUGE, "Number of open file descriptors."},
    [SB_PM_MAXFDS] = {"process_max_fds", SB_GAUGE, "Maximum number of open file descriptors."},
};

void sb_proc_metrics_emit(struct sb_evb *b, const struct sb_proc_pm *v, const char *pid,
			  const char *comm, const char *name)
{
	for (int m = 0; m < SB_PM_MAX; m++) {
		if (!(v->have & SB_PM_BIT(m)))
			continue;
		const struct sb_proc_metric *d = &sb_proc_metrics[m];
		sb_evb_sample(b, d->name, d->type, v->v[m]);
		sb_evb_help(b, d->help);
		/* in the order the event keeps them (sorted), which spares it
		 * a sort per sample */
		sb_evb_label(b, "comm", comm);
		if (name)
			sb_evb_label(b, "name", name);
		sb_evb_label(b, "pid", pid);
	}
}

int sb_proc_pm_batch_add(struct sb_proc_pm_batch *t, const struct sb_proc_pm *v, uint32_t pid,
			 const char *comm, const char *name)
{
	if (sb_grow((void **)&t->rows, &t->cap, t->n + 1, sizeof(*t->rows)))
		return -ENOMEM;
	struct sb_proc_pm_row *r = &t->rows[t->n++];
	r->v = *v;
	snprintf(r->pid, sizeof(r->pid), "%u", pid);
	snprintf(r->comm, sizeof(r->comm), "%s", comm);
	r->name = name;
	return 0;
}

void sb_proc_pm_batch_emit(struct sb_proc_pm_batch *t, struct sb_evb *b)
{
	for (int m = 0; m < SB_PM_MAX; m++) {
		const struct sb_proc_metric *d = &sb_proc_metrics[m];
		for (size_t i = 0; i < t->n; i++) {
			const struct sb_proc_pm_row *r = &t->rows[i];
			if (!(r->v.have & SB_PM_BIT(m)))
				continue;
			sb_evb_sample(b, d->name, d->type, r->v.v[m]);
			sb_evb_help(b, d->help);
			sb_evb_label(b, "comm", r->comm);
			if (r->name)
				sb_evb_label(b, "name", r->name);
			sb_evb_label(b, "pid", r->pid);
		}
	}
	t->n = 0;
}

void sb_proc_pm_batch_free(struct sb_proc_pm_batch *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}
