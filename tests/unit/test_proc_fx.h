/* One proc collector run through the sensor (sb_sensor_proc.init and
 * sb_proc_round) over files written to tp_dir, which is both the procfs
 * and the sysfs root: for what a collector does with absent, present and
 * broken files from round to round. */
#ifndef TEST_PROC_FX_H
#define TEST_PROC_FX_H

#include "test_proc.h"

#include "sb_sensor.h"

extern const struct sb_sensor_ops sb_sensor_proc;

struct tfx {
	char *names[1];
	struct proc_cfg cfg;
	struct sb_sensor s;
	struct proc_state *st;
	struct tp t; /* the last round's samples */
};

/* The collector over roots of the caller's ("/proc" and "/sys": the live
 * kernel's; a rootfs, or NULL for none); tfx_start, over the scratch tree. */
static inline void tfx_start_roots(struct tfx *f, const char *collector, const char *procfs,
				   const char *sysfs, const char *rootfs)
{
	memset(f, 0, sizeof(*f));
	f->names[0] = (char *)collector;
	f->cfg = (struct proc_cfg){.procfs = (char *)procfs,
				   .sysfs = (char *)sysfs,
				   .rootfs = (char *)rootfs,
				   .max_processes = 8};
	f->cfg.collectors = (struct sb_strlist){f->names, 1};
	f->s.cfg = &f->cfg;
	assert_int_equal(sb_sensor_proc.init(&f->s), 0);
	f->st = f->s.state;
	assert_int_equal(f->st->ncoll, 1);
	tp_begin(&f->t);
	f->t.n = 0;
	tp_end(&f->t);
}

static inline void tfx_start_at(struct tfx *f, const char *collector, const char *procfs,
				const char *sysfs)
{
	tfx_start_roots(f, collector, procfs, sysfs, NULL);
}

static inline void tfx_start(struct tfx *f, const char *collector)
{
	tfx_start_at(f, collector, tp_dir, tp_dir);
}

/* One round; its status (what node_scrape_collector_success would say). */
static inline int tfx_round(struct tfx *f)
{
	tp_free(&f->t);
	tp_begin(&f->t);
	sb_proc_round(f->st, &f->t.b);
	f->t.n = (int)sb_evb_nsamples(&f->t.b);
	tp_end(&f->t);
	/* the collector's own samples: the round adds its
	 * node_scrape_collector_success and _duration_seconds */
	assert_non_null(tp_find(&f->t, "node_scrape_collector_success", NULL));
	f->t.n -= 2;
	return f->st->coll[0].status;
}

static inline void tfx_stop(struct tfx *f)
{
	tp_free(&f->t);
	sb_sensor_proc.destroy(&f->s);
}

/* mkdir -p tp_dir/rel */
static inline void tp_mkdirs(const char *rel)
{
	char path[512];
	int n = snprintf(path, sizeof(path), "%s/%s", tp_dir, rel);
	for (int i = (int)strlen(tp_dir) + 1; i <= n; i++) {
		if (path[i] != '/' && path[i])
			continue;
		char c = path[i];
		path[i] = 0;
		mkdir(path, 0755);
		path[i] = c;
	}
}

static inline void tp_puts(const char *rel, const char *text) { tp_put(rel, text, strlen(text)); }

/* tp_dir/rel, a symbolic link to target (replacing what was there). */
static inline void tp_link(const char *target, const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", tp_dir, rel);
	unlink(path);
	assert_int_equal(symlink(target, path), 0);
}

static inline void tp_rm(const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", tp_dir, rel);
	unlink(path);
}

#endif
