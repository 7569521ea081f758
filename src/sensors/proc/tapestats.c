/* <sysfs>/class/scsi_tape/st<N>/stats: node_exporter 1.5.0's tapestats
 * collector, node_tape_*{device} per tape drive (the rewinding st<N>
 * nodes only, as procfs: not nst<N> nor the mode nodes st<N>a/l/m). A
 * counter file missing counts 0, as procfs; one not a number is reported
 * and its series left out (node_exporter 1.5.0 crashes on it). No
 * /sys/class/scsi_tape is ErrNoData. Drives are listed at start and every
 * RESCAN_ROUNDS rounds. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

#define RESCAN_ROUNDS 60
#define MAX_DEVS 256
#define NS 1e-9

static const struct {
	const char *file, *name, *help;
	double scale;
	enum sb_mtype type;
} tape_files[] = {
    {"in_flight", "node_tape_io_now", "The number of I/Os currently outstanding to this device.", 1,
     SB_GAUGE},
    {"io_ns", "node_tape_io_time_seconds_total",
     "The amount of time spent waiting for all I/O to complete (including read and write). This "
     "includes tape movement commands such as seeking between file or set marks and implicit tape "
     "movement such as when rewind on close tape devices are used.",
     NS, SB_COUNTER},
    {"other_cnt", "node_tape_io_others_total",
     "The number of I/Os issued to the tape drive other than read or write commands. The time "
     "taken to complete these commands uses the following calculation "
     "io_time_seconds_total-read_time_seconds_total-write_time_seconds_total",
     1, SB_COUNTER},
    {"read_byte_cnt", "node_tape_read_bytes_total", "The number of bytes read from the tape drive.",
     1, SB_COUNTER},
    {"read_cnt", "node_tape_reads_completed_total",
     "The number of read requests issued to the tape drive.", 1, SB_COUNTER},
    {"read_ns", "node_tape_read_time_seconds_total",
     "The amount of time spent waiting for read requests to complete.", NS, SB_COUNTER},
    {"resid_cnt", "node_tape_residual_total",
     "The number of times during a read or write we found the residual amount to be non-zero. "
     "This should mean that a program is issuing a read larger thean the block size on tape. For "
     "write not all data made it to tape.",
     1, SB_COUNTER},
    {"write_byte_cnt", "node_tape_written_bytes_total",
     "The number of bytes written to the tape drive.", 1, SB_COUNTER},
    {"write_cnt", "node_tape_writes_completed_total",
     "The number of write requests issued to the tape drive.", 1, SB_COUNTER},
    {"write_ns", "node_tape_write_time_seconds_total",
     "The amount of time spent waiting for write requests to complete.", NS, SB_COUNTER},
};
#define NT SB_ARRAY_SIZE(tape_files)

struct tape_dev {
	char name[32];
	struct sb_procfile f[NT];
};

struct tapes {
	char base[PATH_MAX];
	struct tape_dev *v;
	size_t n;
	bool present;
	bool scanned;
	uint64_t scan_round;
	struct sb_ratelimit rl;
};

/* "st" and digits only, as procfs' ^st[0-9]+$ */
static bool tape_name(const char *s)
{
	size_t len = strlen(s);
	return len > 2 && len < sizeof(((struct tape_dev *)0)->name) && !strncmp(s, "st", 2) &&
	       strspn(s + 2, "0123456789") == len - 2;
}

static void free_devs(struct tapes *t)
{
	for (size_t i = 0; i < t->n; i++)
		for (size_t k = 0; k < NT; k++)
			sb_procfile_free(&t->v[i].f[k]);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct tape_dev *)a)->name, ((const struct tape_dev *)b)->name);
}

static int scan(struct tapes *t)
{
	free_devs(t);
	DIR *d = opendir(t->base);
	t->present = d || errno != ENOENT;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	size_t cap = 0;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d)) && t->n < MAX_DEVS) {
		if (!tape_name(de->d_name))
			continue;
		if (sb_grow((void **)&t->v, &cap, t->n + 1, sizeof(*t->v))) {
			r = -ENOMEM;
			break;
		}
		struct tape_dev *x = &t->v[t->n++];
		memset(x, 0, sizeof(*x));
		for (size_t k = 0; k < NT; k++)
			x->f[k].fd = -1;
		/* tape_name: shorter than name */
		memcpy(x->name, de->d_name, strlen(de->d_name) + 1);
	}
	closedir(d);
	if (t->n)
		qsort(t->v, t->n, sizeof(*t->v), cmp_dev);
	char path[PATH_MAX + 64];
	for (size_t i = 0; i < t->n && !r; i++)
		for (size_t k = 0; k < NT && !r; k++) {
			snprintf(path, sizeof(path), "%s/%s/stats/%s", t->base, t->v[i].name,
				 tape_files[k].file);
			r = sb_procfile_init(&t->v[i].f[k], path, 4096, t->n * NT <= 160);
			t->v[i].f[k].single = true;
		}
	return r;
}

static int tape_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct tapes *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	c->priv = t;
	t->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	if (snprintf(t->base, sizeof(t->base), "%s/class/scsi_tape", st->cfg->sysfs) >=
	    (int)sizeof(t->base))
		return -ENAMETOOLONG;
	return 0;
}

static void tape_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct tapes *t = c->priv;
	if (!t)
		return;
	free_devs(t);
	free(t);
	c->priv = NULL;
}

static int tape_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct tapes *t = c->priv;
	int r = 0;
	if (!t->scanned || st->round - t->scan_round >= RESCAN_ROUNDS) {
		t->scanned = true;
		t->scan_round = st->round;
		r = scan(t);
		if (r) {
			st->errors++;
			sb_log_rl(&t->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", t->base,
				  strerror(-r));
		}
	}
	if (!t->present)
		return -ENODATA;
	for (size_t i = 0; i < t->n; i++) {
		struct tape_dev *x = &t->v[i];
		for (size_t k = 0; k < NT; k++) {
			const char *text = sb_proc_read(st, &x->f[k], true);
			uint64_t v = 0;
			if (!text) {
				int e = sb_proc_read_err(&x->f[k], true);
				if (e) {
					if (!r)
						r = e;
					continue;
				}
				/* absent: 0, as procfs */
			} else if (!sb_pp_uint_text(text, &v)) {
				struct sb_proc_perr pe = {0};
				sb_proc_bad(&pe, 1, "expected a count");
				if (sb_proc_report(st, &x->f[k], &pe) && !r)
					r = -EINVAL;
				continue;
			}
			sb_evb_sample(b, tape_files[k].name, tape_files[k].type,
				      (double)v * tape_files[k].scale);
			sb_evb_help(b, tape_files[k].help);
			sb_evb_label(b, "device", x->name);
		}
	}
	return r;
}

const struct sb_proc_collector sb_proc_collector_tapestats = {
    .name = "tapestats",
    .default_on = true,
    .init = tape_init,
    .collect = tape_collect,
    .free = tape_free,
};
