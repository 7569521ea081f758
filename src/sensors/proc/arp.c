/* /proc/net/arp: node_exporter 1.5.0's arp collector, the number of
 * neighbour entries per device (the last column). */
#include <errno.h>
#include <string.h>

#include "proc.h"

#define ARP_MAX_DEVICES 256

struct arp_dev {
	const char *name;
	size_t len;
	uint64_t n;
};

int sb_proc_parse_arp(const char *text, struct sb_evb *b, struct sb_proc_perr *e)
{
	struct arp_dev devs[ARP_MAX_DEVICES];
	size_t ndev = 0;
	unsigned lineno = 0, nbad = e->nbad;
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		const char *q = p, *w, *last = NULL;
		size_t wl, lastl = 0, cols = 0, first = 0;
		const char *firstw = NULL;
		while ((wl = sb_pp_word(&q, &w))) {
			if (!cols++) {
				firstw = w;
				first = wl;
			}
			last = w;
			lastl = wl;
		}
		if (cols < 6) {
			sb_proc_bad(e, lineno, "expected 6 columns");
			continue;
		}
		if (first == 2 && !memcmp(firstw, "IP", 2))
			continue; /* the header */
		size_t i;
		for (i = 0; i < ndev; i++)
			if (devs[i].len == lastl && !memcmp(devs[i].name, last, lastl))
				break;
		if (i == ndev) {
			if (ndev == ARP_MAX_DEVICES) {
				sb_proc_bad(e, lineno, "more than %d devices", ARP_MAX_DEVICES);
				continue;
			}
			devs[ndev++] = (struct arp_dev){last, lastl, 0};
		}
		devs[i].n++;
	}
	/* a count missing an entry is a wrong count */
	if (e->nbad != nbad)
		return 0;
	for (size_t i = 0; i < ndev; i++) {
		sb_evb_sample(b, "node_arp_entries", SB_GAUGE, (double)devs[i].n);
		sb_evb_help(b, "ARP entries by device");
		sb_evb_labeln(b, "device", 6, devs[i].name, devs[i].len);
	}
	return (int)ndev;
}

/* ---- the collector ---- */

static int arp_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	const char *text = sb_proc_coll_read(st, c, 0);
	if (!text)
		return sb_proc_nodata(c->f[0]);
	struct sb_proc_perr e = {0};
	sb_proc_parse_arp(text, b, &e);
	return sb_proc_report(st, c->f[0], &e);
}

const struct sb_proc_collector sb_proc_collector_arp = {
    .name = "arp",
    .default_on = true,
    /* absent in a kernel without IPv4; one record per entry: read until
     * a read returns 0 */
    .files =
	(const struct sb_proc_src[]){{"net/arp", .line_max = SB_PREAD_LINE_MAX, .optional = true},
				     {NULL}},
    .collect = arp_collect,
};
