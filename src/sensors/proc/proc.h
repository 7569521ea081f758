/* The proc sensor: system metrics with node_exporter's names from any
 * procfs/sysfs root, and per-process metrics for watched processes. */
#ifndef SB_PROC_H
#define SB_PROC_H

#include "procfile.h"
#include "sb_event.h"
#include "sb_sensor.h"

struct proc_cfg {
	char *procfs;
	char *sysfs;
	struct sb_strlist processes;
	struct sb_strlist pids;
};

struct proc_state;

/* Every collector: add its samples to b. Returns 0, or -errno when its
 * source could not be read at all (already logged and counted). */
struct proc_collector {
	const char *name;
	int (*init)(struct proc_state *st);
	int (*collect)(struct proc_state *st, struct sb_evb *b);
	void (*destroy)(struct proc_state *st);
};

struct proc_state {
	const struct proc_cfg *cfg;
	const char *comp; /* log component */
	struct sb_procfile loadavg;
};

/* Parsers take a NUL-terminated buffer and add samples; they are pure, so
 * unit tests feed them text. They return the number of samples added or
 * -EINVAL with *why set on malformed input (samples already added stay). */
int sb_proc_parse_loadavg(const char *text, struct sb_evb *b, const char **why);

#endif
