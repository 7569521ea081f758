/* <sysfs>/class/fc_host/<host>: node_exporter 1.5.0's fibrechannel
 * collector, node_fibrechannel_info{fc_host,...} = 1 and each
 * statistics/<counter> as node_fibrechannel_*_total{fc_host}. As procfs
 * 1.5.0 reads them: attributes are the first 128 bytes, trimmed; port_id,
 * port_name and fabric_name lose their first two characters ("0x") when
 * longer than two; counters are Go base-0 numbers (the kernel's 0x%llx);
 * a counter file absent counts 0, and 0xffffffffffffffff (the kernel's
 * "not supported") is left out. No /sys/class/fc_host is ErrNoData.
 * node_exporter fails the whole collector on an attribute it cannot read
 * (and crashes on a counter not a number); here that host's info, or that
 * counter, is left out and reported. Hosts are listed at start and every
 * RESCAN_ROUNDS rounds. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

#define RESCAN_ROUNDS 60
#define MAX_HOSTS 256

/* info labels, alphabetical; strip: the "0x" procfs cuts off */
static const struct {
	const char *file;
	bool strip;
} fc_attrs[] = {
    {"dev_loss_tmo", false},  {"fabric_name", true},	    {"port_id", true},
    {"port_name", true},      {"port_state", false},	    {"port_type", false},
    {"speed", false},	      {"supported_classes", false}, {"supported_speeds", false},
    {"symbolic_name", false},
};
#define NA SB_ARRAY_SIZE(fc_attrs)

static const struct {
	const char *file, *name, *help;
} fc_counters[] = {
    {"dumped_frames", "node_fibrechannel_dumped_frames_total", "Number of dumped frames"},
    {"error_frames", "node_fibrechannel_error_frames_total", "Number of errors in frames"},
    {"fcp_packet_aborts", "node_fibrechannel_fcp_packet_aborts_total", "Number of aborted packets"},
    {"invalid_crc_count", "node_fibrechannel_invalid_crc_total",
     "Invalid Cyclic Redundancy Check count"},
    {"invalid_tx_word_count", "node_fibrechannel_invalid_tx_words_total",
     "Number of invalid words transmitted by host port"},
    {"link_failure_count", "node_fibrechannel_link_failure_total",
     "Number of times the host port link has failed"},
    {"loss_of_signal_count", "node_fibrechannel_loss_of_signal_total",
     "Number of times signal has been lost"},
    {"loss_of_sync_count", "node_fibrechannel_loss_of_sync_total",
     "Number of failures on either bit or transmission word boundaries"},
    {"nos_count", "node_fibrechannel_nos_total",
     "Number Not_Operational Primitive Sequence received by host port"},
    {"rx_frames", "node_fibrechannel_rx_frames_total", "Number of frames received"},
    {"rx_words", "node_fibrechannel_rx_words_total", "Number of words received by host port"},
    {"seconds_since_last_reset", "node_fibrechannel_seconds_since_last_reset_total",
     "Number of seconds since last host port reset"},
    {"tx_frames", "node_fibrechannel_tx_frames_total", "Number of frames transmitted by host port"},
    {"tx_words", "node_fibrechannel_tx_words_total", "Number of words transmitted by host port"},
};
#define NC SB_ARRAY_SIZE(fc_counters)

struct fc_host {
	char name[NAME_MAX + 1];
	struct sb_procfile a[NA], c[NC];
};

struct fc {
	char base[PATH_MAX];
	struct fc_host *v;
	size_t n;
	bool present;
	bool scanned;
	uint64_t scan_round;
	struct sb_ratelimit rl;
	char val[NA][SB_PROC_DMI_MAX];
};

bool sb_proc_go_uint0(const char *s, size_t n, uint64_t *v)
{
	unsigned base = 10;
	size_t i = 0;
	bool prefix = false;
	if (n >= 2 && s[0] == '0') {
		char p = (char)(s[1] | 0x20);
		base = p == 'x' ? 16 : p == 'b' ? 2 : p == 'o' ? 8 : 8;
		i = p == 'x' || p == 'b' || p == 'o' ? 2 : 1;
		prefix = i == 2;
	}
	/* Go's underscoreOK: '_' only between digits or right after a prefix */
	bool any = i == 1, last_us = false, last_digit = prefix ? true : i == 1;
	uint64_t x = 0;
	for (; i < n; i++) {
		if (s[i] == '_') {
			if (!last_digit)
				return false;
			last_us = true;
			last_digit = false;
			continue;
		}
		int d = sb_pp_digit(s[i]);
		if (d >= (int)base)
			return false;
		if (x > (UINT64_MAX - (uint64_t)d) / base)
			return false;
		x = x * base + (uint64_t)d;
		any = true;
		last_us = false;
		last_digit = true;
	}
	if (!any || last_us)
		return false;
	*v = x;
	return true;
}

static void free_hosts(struct fc *fc)
{
	for (size_t i = 0; i < fc->n; i++) {
		for (size_t k = 0; k < NA; k++)
			sb_procfile_free(&fc->v[i].a[k]);
		for (size_t k = 0; k < NC; k++)
			sb_procfile_free(&fc->v[i].c[k]);
	}
	free(fc->v);
	fc->v = NULL;
	fc->n = 0;
}

static int cmp_host(const void *a, const void *b)
{
	return strcmp(((const struct fc_host *)a)->name, ((const struct fc_host *)b)->name);
}

static int open_file(struct sb_procfile *f, const char *base, const char *host, const char *sub,
		     const char *file, bool keep)
{
	char path[PATH_MAX + NAME_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s/%s%s", base, host, sub, file);
	int r = sb_procfile_init(f, path, 4096, keep);
	f->single = true;
	return r;
}

static int scan(struct fc *fc)
{
	free_hosts(fc);
	DIR *d = opendir(fc->base);
	fc->present = d || errno != ENOENT;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	size_t cap = 0;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d)) && fc->n < MAX_HOSTS) {
		if (de->d_name[0] == '.')
			continue;
		if (sb_grow((void **)&fc->v, &cap, fc->n + 1, sizeof(*fc->v))) {
			r = -ENOMEM;
			break;
		}
		struct fc_host *x = &fc->v[fc->n++];
		memset(x, 0, sizeof(*x));
		for (size_t k = 0; k < NA; k++)
			x->a[k].fd = -1;
		for (size_t k = 0; k < NC; k++)
			x->c[k].fd = -1;
		snprintf(x->name, sizeof(x->name), "%s", de->d_name);
	}
	closedir(d);
	if (fc->n)
		qsort(fc->v, fc->n, sizeof(*fc->v), cmp_host);
	bool keep = fc->n * (NA + NC) <= 192;
	for (size_t i = 0; i < fc->n && !r; i++) {
		for (size_t k = 0; k < NA && !r; k++)
			r = open_file(&fc->v[i].a[k], fc->base, fc->v[i].name, "", fc_attrs[k].file,
				      keep);
		for (size_t k = 0; k < NC && !r; k++)
			r = open_file(&fc->v[i].c[k], fc->base, fc->v[i].name, "statistics/",
				      fc_counters[k].file, keep);
	}
	return r;
}

static int fc_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct fc *fc = calloc(1, sizeof(*fc));
	if (!fc)
		return -ENOMEM;
	c->priv = fc;
	fc->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	if (snprintf(fc->base, sizeof(fc->base), "%s/class/fc_host", st->cfg->sysfs) >=
	    (int)sizeof(fc->base))
		return -ENAMETOOLONG;
	return 0;
}

static void fc_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct fc *fc = c->priv;
	if (!fc)
		return;
	free_hosts(fc);
	free(fc);
	c->priv = NULL;
}

/* The host's info series, or <0 when an attribute could not be read. */
static int fc_info(struct proc_state *st, struct fc *fc, struct fc_host *x, struct sb_evb *b)
{
	for (size_t k = 0; k < NA; k++) {
		const char *text = sb_proc_read(st, &x->a[k], false);
		if (!text)
			return sb_proc_read_err(&x->a[k], false);
		size_t len = sb_proc_dmi_value(text, strlen(text), fc->val[k]);
		if (fc_attrs[k].strip && len > 2)
			memmove(fc->val[k], fc->val[k] + 2, len - 1);
	}
	sb_evb_sample(b, "node_fibrechannel_info", SB_GAUGE, 1);
	sb_evb_help(b, "Non-numeric data from /sys/class/fc_host/<host>, value is always 1.");
	sb_evb_label(b, "fc_host", x->name);
	for (size_t k = 0; k < NA; k++)
		sb_evb_label(b, fc_attrs[k].file, fc->val[k]);
	return 0;
}

static int fc_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct fc *fc = c->priv;
	int r = 0;
	if (!fc->scanned || st->round - fc->scan_round >= RESCAN_ROUNDS) {
		fc->scanned = true;
		fc->scan_round = st->round;
		r = scan(fc);
		if (r) {
			st->errors++;
			sb_log_rl(&fc->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", fc->base,
				  strerror(-r));
		}
	}
	if (!fc->present)
		return -ENODATA;
	for (size_t i = 0; i < fc->n; i++) {
		struct fc_host *x = &fc->v[i];
		int e = fc_info(st, fc, x, b);
		if (e && !r)
			r = e;
		for (size_t k = 0; k < NC; k++) {
			const char *text = sb_proc_read(st, &x->c[k], true);
			uint64_t v = 0;
			if (!text) {
				e = sb_proc_read_err(&x->c[k], true);
				if (e) {
					if (!r)
						r = e;
					continue;
				}
				/* absent: 0, as procfs */
			} else {
				const char *s = sb_pp_blank(text), *end = s + strlen(s);
				while (end > s &&
				       (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
					end--;
				if (!sb_proc_go_uint0(s, (size_t)(end - s), &v)) {
					struct sb_proc_perr pe = {0};
					sb_proc_bad(&pe, 1, "expected a counter (0x%%llx)");
					if (sb_proc_report(st, &x->c[k], &pe) && !r)
						r = -EINVAL;
					continue;
				}
			}
			if (v == UINT64_MAX)
				continue; /* the kernel's "not supported" */
			sb_evb_sample(b, fc_counters[k].name, SB_COUNTER, (double)v);
			sb_evb_help(b, fc_counters[k].help);
			sb_evb_label(b, "fc_host", x->name);
		}
	}
	return r;
}

const struct sb_proc_collector sb_proc_collector_fibrechannel = {
    .name = "fibrechannel",
    .default_on = true,
    .init = fc_init,
    .collect = fc_collect,
    .free = fc_free,
};
