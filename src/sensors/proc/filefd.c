/* /proc/sys/fs/file-nr: node_exporter's filefd collector. Three numbers
 * separated by tabs: allocated, unused (always 0 since 2.6), maximum. */
#include "proc.h"

int sb_proc_parse_filenr(const char *text, struct sb_evb *b, struct sb_proc_perr *e)
{
	const char *p = text;
	uint64_t v[3];
	for (int i = 0; i < 3; i++) {
		if (!sb_pp_u64(&p, &v[i])) {
			sb_proc_bad(e, 1, "expected three numbers");
			return 0;
		}
	}
	if (!sb_pp_at_eol(p) || sb_pp_cut(p)) {
		sb_proc_bad(e, 1, "expected three numbers");
		return 0;
	}
	sb_evb_sample(b, "node_filefd_allocated", SB_GAUGE, (double)v[0]);
	sb_evb_help(b, "File descriptor statistics: allocated.");
	sb_evb_sample(b, "node_filefd_maximum", SB_GAUGE, (double)v[2]);
	sb_evb_help(b, "File descriptor statistics: maximum.");
	return 2;
}

/* ---- the collector ---- */

static int filefd_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	const char *text = sb_proc_coll_read(st, c, 0);
	if (!text)
		return sb_proc_read_err(c->f[0], false);
	struct sb_proc_perr e = {0};
	sb_proc_parse_filenr(text, b, &e);
	return sb_proc_report(st, c->f[0], &e);
}

const struct sb_proc_collector sb_proc_collector_filefd = {
    .name = "filefd",
    .default_on = true,
    /* a sysctl file: a short read is the end (uname.c says why) */
    .files = (const struct sb_proc_src[]){{"sys/fs/file-nr", .single = true}, {NULL}},
    .collect = filefd_collect,
};
