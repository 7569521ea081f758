/* node_exporter's time collector: node_time_seconds and
 * node_time_zone_offset_seconds{time_zone} from the live clock (a fixture
 * tree has no clock), and the clocksources from sysfs:
 * node_time_clocksource_{available,current}_info{device,clocksource}, where
 * device is the position of clocksource<N> in name order, as node_exporter
 * numbers them. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "proc.h"

void sb_proc_time_samples(struct sb_evb *b, const struct timespec *now, long gmtoff,
			  const char *zone)
{
	sb_evb_sample(b, "node_time_seconds", SB_GAUGE,
		      (double)now->tv_sec + (double)now->tv_nsec / 1e9);
	sb_evb_help(b, "System time in seconds since epoch (1970).");
	sb_evb_sample(b, "node_time_zone_offset_seconds", SB_GAUGE, (double)gmtoff);
	sb_evb_help(b, "System time zone offset in seconds.");
	sb_evb_label(b, "time_zone", zone);
}

int sb_proc_parse_clocksource(const char *avail, const char *current, unsigned device,
			      struct sb_evb *b, struct sb_proc_perr *e)
{
	char dev[16];
	snprintf(dev, sizeof(dev), "%u", device);
	const char *p = avail, *w;
	size_t n;
	int count = 0;
	if (sb_pp_cut(avail)) {
		sb_proc_bad(e, 1, "available_clocksource cut short");
		return 0;
	}
	const char *cur = sb_pp_blank(current), *cend = sb_pp_eol(cur);
	while (cend > cur && (cend[-1] == ' ' || cend[-1] == '\t'))
		cend--;
	if (*sb_pp_eol(cur) != '\n' || cend == cur) {
		sb_proc_bad(e, 1, "current_clocksource empty or cut short");
		return 0;
	}
	while ((n = sb_pp_word(&p, &w))) {
		sb_evb_sample(b, "node_time_clocksource_available_info", SB_GAUGE, 1);
		sb_evb_help(b,
			    "Available clocksources read from '/sys/devices/system/clocksource'.");
		sb_evb_label(b, "device", dev);
		sb_evb_labeln(b, "clocksource", 11, w, n);
		count++;
	}
	sb_evb_sample(b, "node_time_clocksource_current_info", SB_GAUGE, 1);
	sb_evb_help(b, "Current clocksource read from '/sys/devices/system/clocksource'.");
	sb_evb_label(b, "device", dev);
	sb_evb_labeln(b, "clocksource", 11, cur, (size_t)(cend - cur));
	return count + 1;
}

/* ---- the collector ---- */

#define MAX_CLOCKSOURCES 8

struct time_state {
	unsigned n;
	struct sb_procfile f[MAX_CLOCKSOURCES][2]; /* available, current */
};

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_clocksource(const struct dirent *d)
{
	return !strncmp(d->d_name, "clocksource", 11) && d->d_name[11] >= '0' &&
	       d->d_name[11] <= '9';
}

static int time_init(struct proc_state *st, struct sb_proc_coll *c)
{
	/* localtime_r need not read TZ itself */
	tzset();
	struct time_state *ts = calloc(1, sizeof(*ts));
	if (!ts)
		return -ENOMEM;
	c->priv = ts;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/devices/system/clocksource", st->cfg->sysfs);
	/* clocksource devices are registered at boot: listed once */
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, is_clocksource, by_name);
	if (n < 0)
		return 0; /* no clocksources in this tree: the clock metrics only */
	int r = 0;
	for (int i = 0; i < n; i++) {
		if (!r && ts->n < MAX_CLOCKSOURCES) {
			static const char *const file[2] = {"available_clocksource",
							    "current_clocksource"};
			for (int k = 0; k < 2 && !r; k++) {
				char path[PATH_MAX + 300];
				if (snprintf(path, sizeof(path), "%s/%s/%s", dir, ents[i]->d_name,
					     file[k]) >= (int)sizeof(path))
					r = -ENAMETOOLONG;
				else if (!(r = sb_procfile_init(&ts->f[ts->n][k], path, 4096,
								true)))
					ts->f[ts->n][k].single = true; /* a sysfs attribute */
			}
			ts->n++; /* on failure too, for time_free */
		}
		free(ents[i]);
	}
	free(ents);
	return r;
}

static void time_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct time_state *ts = c->priv;
	if (!ts)
		return;
	for (unsigned i = 0; i < ts->n; i++)
		for (int k = 0; k < 2; k++)
			sb_procfile_free(&ts->f[i][k]);
	free(ts);
	c->priv = NULL;
}

static int time_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct time_state *ts = c->priv;
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	sb_proc_time_samples(b, &now, tm.tm_gmtoff, tm.tm_zone ? tm.tm_zone : "");
	int r = 0;
	for (unsigned i = 0; i < ts->n; i++) {
		const char *avail = sb_proc_read(st, &ts->f[i][0], false);
		const char *cur = avail ? sb_proc_read(st, &ts->f[i][1], false) : NULL;
		if (!cur) {
			r = sb_proc_read_err(&ts->f[i][avail ? 1 : 0], false);
			continue;
		}
		struct sb_proc_perr e = {0};
		sb_proc_parse_clocksource(avail, cur, i, b, &e);
		if (sb_proc_report(st, &ts->f[i][0], &e))
			r = -EINVAL;
	}
	return r;
}

const struct sb_proc_collector sb_proc_collector_time = {
    .name = "time",
    .default_on = true,
    .init = time_init,
    .collect = time_collect,
    .free = time_free,
};
