/* /proc/net/softnet_stat: node_exporter 1.5.0's softnet collector. One
 * line of %08x columns per CPU with backlog activity; 1.5.0 labels a line
 * by its position (cpu="0" is the first line, whatever CPU it is) and
 * reports the first three columns. */
#include <errno.h>
#include <stdio.h>

#include "proc.h"

#define SOFTNET_MIN_COLS 9 /* fewer: not this file (2.6.23 had 9) */

static const struct {
	const char *name, *help;
} softnet_series[3] = {
    {"node_softnet_processed_total", "Number of processed packets"},
    {"node_softnet_dropped_total", "Number of dropped packets"},
    {"node_softnet_times_squeezed_total", "Number of times processing packets ran out of quota"},
};

int sb_proc_parse_softnet(const char *text, struct sb_evb *b, struct sb_proc_perr *e)
{
	int n = 0;
	unsigned lineno = 0;
	char cpu[16];
	/* A last line without its newline is taken when its three counters
	 * are whole (a blank follows each): node_exporter's own fixture ends
	 * so, and a cut further on changes none of them. */
	for (const char *p = text; *p; p = sb_pp_next(p)) {
		lineno++;
		uint64_t v[3];
		const char *q = p;
		unsigned cols = 0;
		bool ok = true;
		while (!sb_pp_at_eol(q)) {
			uint64_t x;
			if (!sb_pp_hex(&q, &x) || !sb_pp_sep(*q) ||
			    (cols < 3 && (x > UINT32_MAX || (*q != ' ' && *q != '\t')))) {
				ok = false;
				break;
			}
			if (cols < 3)
				v[cols] = x;
			cols++;
		}
		if (!ok || cols < SOFTNET_MIN_COLS) {
			sb_proc_bad(e, lineno, "expected at least %d hex counters of 32 bits",
				    SOFTNET_MIN_COLS);
			continue;
		}
		snprintf(cpu, sizeof(cpu), "%u", lineno - 1);
		for (int i = 0; i < 3; i++) {
			sb_evb_sample(b, softnet_series[i].name, SB_COUNTER, (double)v[i]);
			sb_evb_help(b, softnet_series[i].help);
			sb_evb_label(b, "cpu", cpu);
			n++;
		}
	}
	if (!lineno)
		sb_proc_bad(e, 0, "empty");
	return n;
}

/* ---- the collector ---- */

static int softnet_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	const char *text = sb_proc_coll_read(st, c, 0);
	if (!text)
		return sb_proc_read_err(c->f[0], false);
	struct sb_proc_perr e = {0};
	sb_proc_parse_softnet(text, b, &e);
	return sb_proc_report(st, c->f[0], &e);
}

const struct sb_proc_collector sb_proc_collector_softnet = {
    .name = "softnet",
    .default_on = true,
    /* one record per CPU: read until a read returns 0 */
    .files =
	(const struct sb_proc_src[]){{"net/softnet_stat", .line_max = SB_PREAD_LINE_MAX}, {NULL}},
    .collect = softnet_collect,
};
