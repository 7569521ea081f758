/* The proc sensor: runs the collectors of the table (collectors.c) named
 * in sensors.proc.collectors. One round reads each source file once (kept
 * open, re-read with pread), and each collector parses it in place and
 * appends samples to a single event. A file that cannot be read or holds
 * malformed lines is logged (once per file per 5 minutes) and counted;
 * every other sample still goes out. */
#include "proc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb_caps.h"
#include "sb_log.h"

/* sensors.proc's keys: the sensor's own, then each collector's (from its
 * row, in table order), with the collectors default made of the rows that
 * are on by default. The config reads sb_sensor_proc.keys as a static
 * table, so it is put together before main. */
#define MAX_KEYS 64
static struct sb_cfg_key proc_keys[MAX_KEYS + 1];
static char default_collectors[1024];

static const struct sb_cfg_key own_keys[] = {
    {"procfs", SB_CT_STR, offsetof(struct proc_cfg, procfs), "/proc",
     "procfs root (a fixture tree works like /proc)", .flags = SB_CK_PATH},
    {"sysfs", SB_CT_STR, offsetof(struct proc_cfg, sysfs), "/sys", "sysfs root",
     .flags = SB_CK_PATH},
    {"rootfs", SB_CT_STR, offsetof(struct proc_cfg, rootfs), "/",
     "root filesystem (node_exporter's --path.rootfs): os-release and mount points under it",
     .flags = SB_CK_PATH},
    {"collectors", SB_CT_STRLIST, offsetof(struct proc_cfg, collectors), default_collectors,
     "collectors to run (node_exporter's names; processes: the per-process metrics)"},
    {0},
};

static void add_keys(size_t *n, const struct sb_cfg_key *keys)
{
	for (const struct sb_cfg_key *k = keys; k && k->name; k++) {
		if (*n == MAX_KEYS) {
			/* a build that cannot work: every test run says so */
			fprintf(stderr, "sensor:proc: more than %d config keys: raise MAX_KEYS\n",
				MAX_KEYS);
			abort();
		}
		proc_keys[(*n)++] = *k;
	}
}

__attribute__((constructor)) static void proc_keys_build(void)
{
	size_t n = 0, l = 0;
	add_keys(&n, own_keys);
	for (size_t i = 0; i < sb_proc_ncollectors; i++) {
		const struct sb_proc_collector *d = sb_proc_collectors[i];
		add_keys(&n, d->keys);
		if (!d->default_on)
			continue;
		int w = snprintf(default_collectors + l, sizeof(default_collectors) - l, "%s%s",
				 l ? "," : "", d->name);
		if (w < 0 || (size_t)w >= sizeof(default_collectors) - l) {
			fprintf(stderr, "sensor:proc: the collectors default is too long\n");
			abort();
		}
		l += (size_t)w;
	}
}

/* ", "-separated names of the collectors, for help and errors. */
static void collector_names(char *out, size_t cap)
{
	size_t l = 0;
	out[0] = 0;
	for (size_t i = 0; i < sb_proc_ncollectors && l < cap; i++) {
		int w =
		    snprintf(out + l, cap - l, "%s%s", i ? ", " : "", sb_proc_collectors[i]->name);
		if (w < 0)
			break;
		l += (size_t)w;
	}
}

static int proc_validate(const void *cfgp, char *err, size_t errlen)
{
	const struct proc_cfg *c = cfgp;
	for (size_t i = 0; i < c->collectors.n; i++) {
		if (!sb_proc_collector_find(c->collectors.v[i])) {
			char names[1024];
			collector_names(names, sizeof(names));
			snprintf(err, errlen, "collectors: unknown collector \"%s\" (%s)",
				 c->collectors.v[i], names);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < sb_proc_ncollectors; i++) {
		const struct sb_proc_collector *d = sb_proc_collectors[i];
		int r = d->check ? d->check(c, err, errlen) : 0;
		if (r)
			return r;
	}
	return 0;
}

/* An optional file the kernel does not have (/proc/pressure/irq without
 * CONFIG_IRQ_TIME_ACCOUNTING) is looked for again only this many rounds
 * later: a failed lookup in procfs costs about as much as reading a file. */
#define ABSENT_RETRY_ROUNDS 60

const char *sb_proc_read(struct proc_state *st, struct sb_procfile *f, bool optional)
{
	if (f->round == st->round)
		return f->round_ok ? f->buf.data : NULL;
	f->round = st->round;
	f->round_ok = false;
	if (optional && f->absent_round && st->round - f->absent_round < ABSENT_RETRY_ROUNDS)
		return NULL;
	ssize_t r = sb_procfile_read(f, st->comp, optional);
	f->absent_round = optional && r == -ENOENT ? st->round : 0;
	if (r < 0) {
		if (!(optional && (r == -ENOENT || r == -EOPNOTSUPP)))
			st->errors++;
		return NULL;
	}
	const char *nul = memchr(f->buf.data, 0, (size_t)r);
	if (nul) {
		st->errors++;
		sb_procfile_bad(f, st->comp, "not text (NUL byte at offset %zu), skipped",
				(size_t)(nul - f->buf.data));
		return NULL;
	}
	f->round_ok = true;
	return f->buf.data;
}

int sb_proc_nodata(const struct sb_procfile *f)
{
	return f->last_err == -ENOENT || f->last_err == -EOPNOTSUPP ? -ENODATA
								    : sb_proc_read_err(f, false);
}

int sb_proc_read_err(const struct sb_procfile *f, bool optional)
{
	if (optional && (f->last_err == -ENOENT || f->last_err == -EOPNOTSUPP))
		return 0;
	return f->last_err < 0 ? f->last_err : -EINVAL; /* read, but not text */
}

int sb_proc_report(struct proc_state *st, struct sb_procfile *f, const struct sb_proc_perr *e)
{
	if (!e->nbad)
		return 0;
	/* /proc/stat is parsed by cpu and by stat: one complaint a round */
	if (f->bad_round == st->round)
		return -EINVAL;
	f->bad_round = st->round;
	st->errors++;
	char more[48] = "";
	if (e->nbad > 1)
		snprintf(more, sizeof(more), " (%u malformed lines skipped)", e->nbad);
	if (e->line)
		sb_procfile_bad(f, st->comp, "line %u: %s%s", e->line, e->why, more);
	else
		sb_procfile_bad(f, st->comp, "%s%s", e->why, more);
	return -EINVAL;
}

int sb_proc_check_regex(const char *key, const char *pattern, char *err, size_t errlen)
{
	char e[256];
	if (!sb_proc_regex_check(pattern, e, sizeof(e)))
		return 0;
	snprintf(err, errlen, "%s: %s", key, e);
	return -EINVAL;
}

int sb_proc_coll_filter_init(struct proc_state *st, struct sb_proc_coll *c, const char *include,
			     const char *exclude)
{
	struct sb_proc_filter *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	c->priv = f;
	char err[256];
	int r = sb_proc_filter_init(f, include, exclude, err, sizeof(err));
	if (r)
		sb_err(st->comp, "%s", err);
	return r;
}

void sb_proc_coll_filter_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	sb_proc_filter_free(c->priv);
	free(c->priv);
	c->priv = NULL;
}

/* The shared open file for src: collectors listing the same file read it
 * through one fd, once a round. */
static struct sb_procfile *file_get(struct proc_state *st, const struct sb_proc_src *src, int *r)
{
	const char *root = src->sysfs ? st->cfg->sysfs : st->cfg->procfs;
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", root, src->rel) >= (int)sizeof(path)) {
		*r = -ENAMETOOLONG;
		return NULL;
	}
	for (size_t i = 0; i < st->nfiles; i++)
		if (!strcmp(st->files[i].path, path))
			return &st->files[i];
	struct sb_procfile *f = &st->files[st->nfiles];
	*r = sb_procfile_init(f, path, 0, true);
	if (*r)
		return NULL;
	st->nfiles++;
	f->single = src->single;
	f->line_max = src->line_max;
	return f;
}

static void proc_free(struct proc_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->ncoll; i++)
		if (st->coll[i].def->free)
			st->coll[i].def->free(st, &st->coll[i]);
	free(st->coll);
	sb_proc_links_free(st);
	sb_proc_uevents_free(st);
	for (size_t i = 0; i < st->nfiles; i++)
		sb_procfile_free(&st->files[i]);
	free(st->files);
	free(st);
}

static bool wanted(const struct proc_cfg *c, const char *name)
{
	for (size_t i = 0; i < c->collectors.n; i++)
		if (!strcmp(c->collectors.v[i], name))
			return true;
	return false;
}

static int proc_init(struct sb_sensor *s)
{
	const struct proc_cfg *c = s->cfg;
	struct proc_state *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->cfg = c;
	st->comp = "sensor:proc";
	st->sensor = s;
	long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	st->env.user_hz = hz > 0 ? (double)hz : 100;
	st->env.page_size = page > 0 ? (double)page : 4096;

	size_t nfiles = 0;
	for (size_t i = 0; i < sb_proc_ncollectors; i++)
		for (const struct sb_proc_src *f = sb_proc_collectors[i]->files; f && f->rel; f++)
			nfiles++;
	st->coll = calloc(sb_proc_ncollectors, sizeof(*st->coll));
	st->files = calloc(nfiles ? nfiles : 1, sizeof(*st->files));
	int r = st->coll && st->files ? 0 : -ENOMEM;
	/* in table order, whatever the order of the list */
	for (size_t i = 0; i < sb_proc_ncollectors && !r; i++) {
		const struct sb_proc_collector *d = sb_proc_collectors[i];
		if (!wanted(c, d->name))
			continue;
		struct sb_proc_coll *cl = &st->coll[st->ncoll];
		cl->def = d;
		for (unsigned k = 0; d->files && d->files[k].rel && !r; k++) {
			if (k == SB_PROC_MAX_SRC)
				r = -E2BIG;
			else
				cl->f[k] = file_get(st, &d->files[k], &r);
		}
		if (!r && d->init)
			r = d->init(st, cl);
		if (r > 0) { /* nothing to do with this config */
			memset(cl, 0, sizeof(*cl));
			r = 0;
		} else {
			st->ncoll++; /* on failure, for proc_free to undo what init did */
		}
	}
	if (r) {
		proc_free(st);
		return r;
	}
	s->state = st;
	return 0;
}

void sb_proc_round(struct proc_state *st, struct sb_evb *b)
{
	st->round++;
	memset(&st->statinfo, 0, sizeof(st->statinfo));
	sb_proc_notify_poll(st);
	/* one clock read a collector: its end is the next one's start */
	int64_t t0 = sb_now_mono_ns();
	for (size_t i = 0; i < st->ncoll; i++) {
		struct sb_proc_coll *c = &st->coll[i];
		c->status = c->def->collect(st, c, b);
		int64_t t1 = sb_now_mono_ns();
		c->duration_ns = t1 - t0;
		t0 = t1;
	}
	/* node_exporter's own series about each collector of the scrape */
	for (size_t i = 0; i < st->ncoll; i++) {
		const struct sb_proc_coll *c = &st->coll[i];
		if (c->def->own)
			continue;
		sb_evb_sample(b, "node_scrape_collector_duration_seconds", SB_GAUGE,
			      (double)c->duration_ns / 1e9);
		sb_evb_help(b, "node_exporter: Duration of a collector scrape.");
		sb_evb_label(b, "collector", c->def->name);
		sb_evb_sample(b, "node_scrape_collector_success", SB_GAUGE, c->status == 0);
		sb_evb_help(b, "node_exporter: Whether a collector succeeded.");
		sb_evb_label(b, "collector", c->def->name);
	}
}

static void proc_collect(struct sb_sensor *s)
{
	struct proc_state *st = s->state;
	struct sb_evb *b = &s->evb;
	sb_evb_begin(b, "proc", "metrics");
	sb_proc_round(st, b);

	s->errors += st->errors - st->errors_published;
	st->errors_published = st->errors;
	sb_evb_sample(b, "sensorbus_sensor_errors_total", SB_COUNTER, (double)s->errors);
	/* the agent sensor reports the same series: same HELP, same value */
	sb_evb_help(b, "Read or publish failures of the sensor.");
	sb_evb_label(b, "sensor", "proc");
	sb_sensor_publish_evb(s);
	/* else the process reader's walk ends the round (procs_bpf.c) */
	if (!st->round_pending)
		sb_sensor_round_done(s);
}

static void proc_destroy(struct sb_sensor *s)
{
	proc_free(s->state);
	s->state = NULL;
}

/* Watched processes may be other users': /proc/<pid>/io and fd/ take a
 * ptrace check, and their directories' modes a DAC one. System files need
 * neither. */
static uint64_t proc_caps(const void *cfgp)
{
	const struct proc_cfg *c = cfgp;
	if (!c->processes.n && !c->pids.n && c->groups == SB_PROC_GROUPS_OFF)
		return 0;
	return SB_CAP(CAP_SYS_PTRACE) | SB_CAP(CAP_DAC_READ_SEARCH);
}

const struct sb_sensor_ops sb_sensor_proc = {
    .name = "proc",
    .desc = "system and per-process metrics from procfs/sysfs (node_exporter names)",
    .keys = proc_keys,
    .cfg_size = sizeof(struct proc_cfg),
    .validate = proc_validate,
    .init = proc_init,
    .collect = proc_collect,
    .destroy = proc_destroy,
    .caps = proc_caps,
};
