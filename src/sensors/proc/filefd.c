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
