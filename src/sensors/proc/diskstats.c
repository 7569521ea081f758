/* /proc/diskstats: node_exporter's diskstats collector. Sectors are the
 * kernel's fixed 512 bytes (not the device's block size), times are
 * milliseconds; discard (4.18+) and flush (5.5+) fields are reported when
 * the line has them. Discarded sectors stay in sectors, as upstream. */
#include <stdio.h>
#include <string.h>

#include "proc.h"

#define SECTOR 512.0
#define MS 0.001

static const struct {
	const char *name;
	const char *help;
	double scale;
	enum sb_mtype type;
} disk_fields[17] = {
    {"node_disk_reads_completed_total", "The total number of reads completed successfully.", 1,
     SB_COUNTER},
    {"node_disk_reads_merged_total", "The total number of reads merged.", 1, SB_COUNTER},
    {"node_disk_read_bytes_total", "The total number of bytes read successfully.", SECTOR,
     SB_COUNTER},
    {"node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.", MS,
     SB_COUNTER},
    {"node_disk_writes_completed_total", "The total number of writes completed successfully.", 1,
     SB_COUNTER},
    {"node_disk_writes_merged_total", "The number of writes merged.", 1, SB_COUNTER},
    {"node_disk_written_bytes_total", "The total number of bytes written successfully.", SECTOR,
     SB_COUNTER},
    {"node_disk_write_time_seconds_total",
     "This is the total number of seconds spent by all writes.", MS, SB_COUNTER},
    {"node_disk_io_now", "The number of I/Os currently in progress.", 1, SB_GAUGE},
    {"node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", MS, SB_COUNTER},
    {"node_disk_io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", MS,
     SB_COUNTER},
    {"node_disk_discards_completed_total", "The total number of discards completed successfully.",
     1, SB_COUNTER},
    {"node_disk_discards_merged_total", "The total number of discards merged.", 1, SB_COUNTER},
    {"node_disk_discarded_sectors_total", "The total number of sectors discarded successfully.", 1,
     SB_COUNTER},
    {"node_disk_discard_time_seconds_total",
     "This is the total number of seconds spent by all discards.", MS, SB_COUNTER},
    {"node_disk_flush_requests_total", "The total number of flush requests completed successfully",
     1, SB_COUNTER},
    {"node_disk_flush_requests_time_seconds_total",
     "This is the total number of seconds spent by all flush requests.", MS, SB_COUNTER},
};

int sb_proc_parse_diskstats(const char *text, struct sb_evb *b, struct sb_proc_filter *devices,
			    sb_proc_disk_info_fn info, void *arg, struct sb_proc_perr *e)
{
	int n = 0;
	unsigned lineno = 0;
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		const char *q = p, *dev;
		uint64_t major, minor;
		if (!sb_pp_u64(&q, &major) || !sb_pp_u64(&q, &minor) || major > UINT32_MAX ||
		    minor > UINT32_MAX) {
			sb_proc_bad(e, lineno, "expected \"major minor device counters\"");
			continue;
		}
		size_t dl = sb_pp_word(&q, &dev);
		uint64_t v[17];
		unsigned nv = 0;
		bool ok = dl > 0 && dl < 128;
		while (ok && !sb_pp_at_eol(q)) {
			uint64_t x;
			if (!sb_pp_u64(&q, &x))
				ok = false;
			else if (nv < 17)
				v[nv++] = x;
		}
		/* 14 fields since 2.6.25, 18 with discards, 20 with flushes */
		if (!ok || nv < 11) {
			sb_proc_bad(e, lineno, "%.*s: expected at least 11 counters",
				    dl < 128 ? (int)dl : 0, dev);
			continue;
		}
		if (!sb_proc_filter_pass(devices, dev, dl))
			continue;
		char name[128];
		memcpy(name, dev, dl);
		name[dl] = 0;
		if (info)
			info(arg, b, (unsigned)major, (unsigned)minor, name);
		for (unsigned i = 0; i < nv; i++) {
			sb_evb_sample(b, disk_fields[i].name, disk_fields[i].type,
				      (double)v[i] * disk_fields[i].scale);
			sb_evb_help(b, disk_fields[i].help);
			sb_evb_labeln(b, "device", 6, name, dl);
			n++;
		}
	}
	return n; /* no lines is fine: a machine without block devices */
}
