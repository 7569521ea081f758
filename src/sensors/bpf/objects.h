/* The BPF objects as a table: one row per bpf/NAME.bpf.c, in obj_NAME.c,
 * saying how to open it, which programs it has, which of its maps the agent
 * keeps and what it publishes from them. The loader child, the fd hand-off,
 * the ring buffer and the per-interval reading iterate the table; none of
 * them names an object. docs/bpf.md, "Add a BPF object", has the steps. */
#ifndef SB_BPF_OBJECTS_H
#define SB_BPF_OBJECTS_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "bpf_sensor.h"

struct bpf_object;
struct bpf_state;

/* The objects, in load order: the first one loaded creates the maps of
 * bpf/common.bpf.h, the others reuse them. One X(NAME) per object, with
 * sb_bpf_obj_NAME defined in obj_NAME.c. */
#define SB_BPF_OBJECTS(X) X(sched) X(proc) X(taskiter)

/* What an object's open sets between open and load. */
struct sb_bpf_open_opts {
	bool watch;		/* a watch list is configured */
	__u64 born_after_ns;	/* CLOCK_MONOTONIC: tasks born from then are counted from birth */
	bool latency_wakeup;	/* the plan: time run-queue waits from wakeups */
	__u64 event_latency_ns; /* longest a ring-buffer record may wait */
	int ncpus;		/* possible CPUs */
};

/* Most maps of its own one object hands to the agent. */
#define SB_BPF_OBJ_MAPS 4

/* An object's ring buffer of records (decode.c turns them into events). */
struct sb_bpf_ring {
	unsigned map; /* index in maps[] of the BPF_MAP_TYPE_RINGBUF */
	/* Its globals (index in maps[] of ".bss"), mmapped by the agent, which
	 * stamps the __u64 at wakeup_off after each drain that took records, so
	 * the kernel side need not wake it for what follows (proc.bpf.c's
	 * wakeup_flag). globals_len (the skeleton's bss struct) 0: none. */
	unsigned globals;
	size_t globals_len;
	size_t wakeup_off;
};

/* How an object's programs run: the loader asks the row's kind which
 * objects a load wants, which programs to load and how to attach them. */
enum sb_bpf_kind {
	/* tp_btf/raw_tp pairs on tracepoints, attached for the agent's life
	 * (the bpf sensor's) */
	SB_BPF_KIND_TRACEPOINTS,
	/* BPF iterators (SEC("iter/...")): attached to nothing; the agent
	 * runs one on demand, bpf_iter_create on the link then read() (the
	 * process reader's, taskiter.c) */
	SB_BPF_KIND_ITER,
	SB_BPF_KIND_MAX,
};
#define SB_BPF_KIND_BIT(k) (1u << (k))

struct sb_bpf_obj {
	const char *name; /* bpf/NAME.bpf.c; in log lines */
	enum sb_bpf_kind kind;
	/* SB_TP_BIT: its programs, one tp_btf/raw_tp pair per tracepoint,
	 * named <tracepoint>_btf and <tracepoint>_raw. This is what it needs
	 * from the kernel: the plan (plan.c) picks one of each pair and leaves
	 * out the tracepoints the kernel lacks; an object with none of its
	 * tracepoints in the plan is not opened. Each tracepoint belongs to
	 * one object. */
	unsigned tps; /* SB_BPF_KIND_TRACEPOINTS only; 0 for an iterator */
	/* NAME_bpf__open, then what must be set before load (read-only
	 * globals, map sizes). Returns the skeleton, its object in *obj, or
	 * NULL with errno set. Loading and attaching are the loader's, per
	 * program, so one that fails takes only its own metrics away. */
	void *(*open)(const struct sb_bpf_open_opts *o, struct bpf_object **obj);
	void (*destroy)(void *skel); /* NAME_bpf__destroy */
	/* Its own maps the agent keeps, by name (".bss": its globals): the
	 * loader child hands their fds over, collect gets them in this order
	 * (-1 for one that is absent). */
	const char *maps[SB_BPF_OBJ_MAPS];
	const struct sb_bpf_ring *ring; /* NULL: none */
	/* SB_BPF_KIND_ITER: its program that walks the tasks itself (open-coded
	 * task iterators, plan.iter_walk), attached to the agent's own thread
	 * so that it runs once per read; where the kernel lacks them, its other
	 * program is loaded instead. NULL: it has only one. */
	const char *walk_prog;
	/* Adds its samples to b every interval; called when its maps[0] is
	 * there. NULL: it publishes none. */
	void (*collect)(struct bpf_state *st, const int *fd, struct sb_evb *b);
};

#define SB_BPF_OBJ_DECL(name) extern const struct sb_bpf_obj sb_bpf_obj_##name;
SB_BPF_OBJECTS(SB_BPF_OBJ_DECL)
#undef SB_BPF_OBJ_DECL
#define SB_BPF_OBJ_COUNT(name) +1
#define SB_BPF_NOBJ (0 SB_BPF_OBJECTS(SB_BPF_OBJ_COUNT))
#define SB_BPF_OBJ_IDX(name) SB_BPF_OBJ_IDX_##name,
enum { SB_BPF_OBJECTS(SB_BPF_OBJ_IDX) };
#undef SB_BPF_OBJ_IDX

extern const struct sb_bpf_obj *const sb_bpf_objs[SB_BPF_NOBJ];

/* The maps of bpf/common.bpf.h, which every object declares: the first
 * object loaded creates them, the others reuse their fds. NULL-terminated. */
extern const char *const sb_bpf_shared_maps[];

/* Of those, the ones the agent keeps: the watched processes (watch.c). */
enum { SB_COMMON_PROCS, SB_COMMON_PROC_STATS, SB_COMMON_MAX };
extern const char *const sb_bpf_common_maps[SB_COMMON_MAX];

#endif
