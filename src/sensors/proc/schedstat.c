/* /proc/schedstat: node_exporter's schedstat collector, from each
 * "cpuN" line's last three fields: time running and waiting (ns) and
 * timeslices. Absent without CONFIG_SCHEDSTATS, silently. */
#include <errno.h>
#include <string.h>

#include "proc.h"

int sb_proc_parse_schedstat(const char *text, struct sb_evb *b, struct sb_proc_perr *e)
{
	int n = 0;
	unsigned lineno = 0;
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		/* version, timestamp and domainN lines are not ours */
		if (strncmp(p, "cpu", 3) || p[3] < '0' || p[3] > '9')
			continue;
		const char *q = p + 3;
		uint64_t cpu, v[9];
		int i = 0;
		if (sb_pp_u64(&q, &cpu))
			for (; i < 9 && sb_pp_u64(&q, &v[i]); i++)
				;
		if (i < 9 || !sb_pp_at_eol(q)) {
			sb_proc_bad(e, lineno, "expected cpuN and 9 numbers");
			continue;
		}
		const char *num = p + 3;
		size_t nl = strcspn(num, " \t");
		sb_evb_sample(b, "node_schedstat_running_seconds_total", SB_COUNTER,
			      (double)v[6] / 1e9);
		sb_evb_help(b, "Number of seconds CPU spent running a process.");
		sb_evb_labeln(b, "cpu", 3, num, nl);
		sb_evb_sample(b, "node_schedstat_waiting_seconds_total", SB_COUNTER,
			      (double)v[7] / 1e9);
		sb_evb_help(b, "Number of seconds spent by processing waiting for this CPU.");
		sb_evb_labeln(b, "cpu", 3, num, nl);
		sb_evb_sample(b, "node_schedstat_timeslices_total", SB_COUNTER, (double)v[8]);
		sb_evb_help(b, "Number of timeslices executed by CPU.");
		sb_evb_labeln(b, "cpu", 3, num, nl);
		n += 3;
	}
	return n;
}

/* ---- the collector ---- */

static int schedstat_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	const char *text = sb_proc_coll_read(st, c, 0);
	if (!text)
		return sb_proc_nodata(c->f[0]);
	struct sb_proc_perr e = {0};
	sb_proc_parse_schedstat(text, b, &e);
	return sb_proc_report(st, c->f[0], &e);
}

const struct sb_proc_collector sb_proc_collector_schedstat = {
    .name = "schedstat",
    .default_on = true,
    /* one record per CPU: read until a read returns 0 */
    .files = (const struct sb_proc_src[]){{"schedstat", .optional = true}, {NULL}},
    .collect = schedstat_collect,
};
