/* node_exporter's conntrack collector: the table's size and limit from
 * /proc/sys/net/netfilter, and (1.5.0) the per-CPU statistics of
 * /proc/net/stat/nf_conntrack summed over CPUs. Without the nf_conntrack
 * module none of these files exist: nothing is reported, as node_exporter
 * does, and that is not an error. */
#include <errno.h>

#include "proc.h"

/* The counters node_exporter takes, by column: the kernel writes 17 hex
 * columns a CPU (the second and eighth changed meaning in 5.x, these did
 * not). */
static const struct {
	unsigned col;
	const char *name, *help;
} ct_stats[] = {
    {2, "node_nf_conntrack_stat_found", "Number of searched entries which were successful."},
    {4, "node_nf_conntrack_stat_invalid", "Number of packets seen which can not be tracked."},
    {5, "node_nf_conntrack_stat_ignore",
     "Number of packets seen which are already connected to a conntrack entry."},
    {8, "node_nf_conntrack_stat_insert", "Number of entries inserted into the list."},
    {9, "node_nf_conntrack_stat_insert_failed",
     "Number of entries for which list insertion was attempted but failed."},
    {10, "node_nf_conntrack_stat_drop", "Number of packets dropped due to conntrack failure."},
    {11, "node_nf_conntrack_stat_early_drop",
     "Number of dropped conntrack entries to make room for new ones, if maximum table size was "
     "reached."},
    {16, "node_nf_conntrack_stat_search_restart",
     "Number of conntrack table lookups which had to be restarted due to hashtable resizes."},
};
#define CT_COLS 17
#define CT_NSTATS SB_ARRAY_SIZE(ct_stats)

int sb_proc_parse_conntrack_stat(const char *text, struct sb_evb *b, struct sb_proc_perr *e)
{
	uint64_t sum[CT_NSTATS] = {0};
	unsigned lineno = 0, nbad = e->nbad;
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		if (lineno == 1)
			continue; /* the column names */
		uint64_t v[CT_COLS];
		const char *q = p;
		unsigned n = 0;
		while (n < CT_COLS && sb_pp_hex(&q, &v[n]) && sb_pp_sep(*q))
			n++;
		if (n < CT_COLS || !sb_pp_at_eol(q)) {
			sb_proc_bad(e, lineno, "expected %d hex counters", CT_COLS);
			continue;
		}
		for (size_t i = 0; i < CT_NSTATS; i++)
			sum[i] += v[ct_stats[i].col];
	}
	if (lineno < 2 && e->nbad == nbad)
		sb_proc_bad(e, lineno, "no CPU lines");
	/* a sum missing a CPU is no value at all */
	if (e->nbad != nbad)
		return 0;
	for (size_t i = 0; i < CT_NSTATS; i++) {
		sb_evb_sample(b, ct_stats[i].name, SB_GAUGE, (double)sum[i]);
		sb_evb_help(b, ct_stats[i].help);
	}
	return (int)CT_NSTATS;
}

/* ---- the collector ---- */

/* Reads file i as one number: 1 read, 0 absent, <0 unreadable or
 * malformed (reported). */
static int read_one(struct proc_state *st, struct sb_proc_coll *c, unsigned i, uint64_t *v)
{
	const char *text = sb_proc_coll_read(st, c, i);
	if (!text)
		return sb_proc_read_err(c->f[i], true);
	if (sb_pp_uint_text(text, v))
		return 1;
	struct sb_proc_perr e = {0};
	sb_proc_bad(&e, 1, "expected a number");
	return sb_proc_report(st, c->f[i], &e);
}

static int conntrack_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	uint64_t v;
	int r = read_one(st, c, 0, &v);
	if (r == 0)
		return -ENODATA; /* nf_conntrack not loaded: node_exporter's ErrNoData */
	if (r > 0) {
		sb_evb_sample(b, "node_nf_conntrack_entries", SB_GAUGE, (double)v);
		sb_evb_help(b, "Number of currently allocated flow entries for connection "
			       "tracking.");
	}
	int r2 = read_one(st, c, 1, &v);
	if (r2 == 0)
		return r < 0 ? r : 0; /* node_exporter stops at the first file missing */
	if (r2 > 0) {
		sb_evb_sample(b, "node_nf_conntrack_entries_limit", SB_GAUGE, (double)v);
		sb_evb_help(b, "Maximum size of connection tracking table.");
	}
	if (r2 < 0 && r >= 0)
		r = r2;
	const char *text = sb_proc_coll_read(st, c, 2);
	if (!text)
		return r < 0 ? r : sb_proc_read_err(c->f[2], true);
	struct sb_proc_perr e = {0};
	sb_proc_parse_conntrack_stat(text, b, &e);
	r2 = sb_proc_report(st, c->f[2], &e);
	return r < 0 ? r : r2;
}

const struct sb_proc_collector sb_proc_collector_conntrack = {
    .name = "conntrack",
    .default_on = true,
    .files =
	(const struct sb_proc_src[]){
	    {"sys/net/netfilter/nf_conntrack_count", .single = true, .optional = true},
	    {"sys/net/netfilter/nf_conntrack_max", .single = true, .optional = true},
	    /* one record per CPU: read until a read returns 0 */
	    {"net/stat/nf_conntrack", .line_max = SB_PREAD_LINE_MAX, .optional = true},
	    {NULL},
	},
    .collect = conntrack_collect,
};
