/* /proc/loadavg: node_exporter's loadavg collector. */
#include <errno.h>

#include "proc.h"

int sb_proc_parse_loadavg(const char *text, struct sb_evb *b, struct sb_proc_perr *e)
{
	static const char *const names[] = {"node_load1", "node_load5", "node_load15"};
	static const char *const help[] = {"1m load average.", "5m load average.",
					   "15m load average."};
	const char *p = text;
	double v[3];
	for (int i = 0; i < 3; i++) {
		if (!sb_pp_double(&p, &v[i])) {
			sb_proc_bad(e, 1, "expected three load averages");
			return 0;
		}
	}
	/* the kernel writes five fields: a file ending here was cut short,
	 * maybe inside the third number */
	if (*p != ' ' && *p != '\t') {
		sb_proc_bad(e, 1, "cut short after the load averages");
		return 0;
	}
	for (int i = 0; i < 3; i++) {
		sb_evb_sample(b, names[i], SB_GAUGE, v[i]);
		sb_evb_help(b, help[i]);
	}
	return 3;
}

/* ---- the collector ---- */

static int loadavg_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	const char *text = sb_proc_coll_read(st, c, 0);
	if (!text)
		return sb_proc_read_err(c->f[0], false);
	struct sb_proc_perr e = {0};
	sb_proc_parse_loadavg(text, b, &e);
	return sb_proc_report(st, c->f[0], &e);
}

const struct sb_proc_collector sb_proc_collector_loadavg = {
    .name = "loadavg",
    .default_on = true,
    .files = (const struct sb_proc_src[]){{"loadavg", .single = true}, {NULL}},
    .collect = loadavg_collect,
};
