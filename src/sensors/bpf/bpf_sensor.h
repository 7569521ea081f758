/* The BPF sensor's user side: the pure parts (record decoding, histogram
 * conversion, the fallback decision) apart from the libbpf plumbing, so the
 * unit tests run them without privilege or a kernel. */
#ifndef SB_BPF_SENSOR_H
#define SB_BPF_SENSOR_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_bpf.h"
#include "sb_event.h"

extern const char *const sb_bpf_tp_names[SB_TP_MAX];

#define SB_TP_BIT(tp) (1u << (tp))
#define SB_TP_SCHED_MASK                                                                           \
	(SB_TP_BIT(SB_TP_SCHED_SWITCH) | SB_TP_BIT(SB_TP_SCHED_WAKEUP) |                           \
	 SB_TP_BIT(SB_TP_SCHED_WAKEUP_NEW))
#define SB_TP_PROC_MASK                                                                            \
	(SB_TP_BIT(SB_TP_PROCESS_EXEC) | SB_TP_BIT(SB_TP_PROCESS_FORK) |                           \
	 SB_TP_BIT(SB_TP_PROCESS_EXIT))
#define SB_TP_ALL ((1u << SB_TP_MAX) - 1)

/* ---- ring-buffer records -> events (decode.c) ---- */

/* Starts an event of kind exec, exit or fork in b from one record and fills
 * its fields; the caller publishes it. mono_to_real_ns turns the record's
 * CLOCK_MONOTONIC stamp into the event's time. Returns 0, or -EINVAL for a
 * record that is short, longer than it says, of an unknown type, or
 * stamped where no clock reaches (its time would overflow) (b is
 * then left as it was begun: the caller must not publish it). */
int sb_bpf_decode(struct sb_evb *b, const void *data, size_t size, int64_t mono_to_real_ns);

/* Lowest histogram bucket bound: 2^10 ns (1.024 us); the slots below it are
 * folded into it. Run-queue waits under a microsecond are noise. */
#define SB_HIST_FIRST_LE_LOG2 10

/* Adds the log2 nanosecond slots (slot k: [2^k, 2^(k+1)) ns, the last one
 * open-ended) to the current sample of b as cumulative Prometheus buckets
 * with `le` in seconds (2^(k+1) ns), from 2^first_le_log2 ns up, then +Inf,
 * and sets its sum and count. */
void sb_bpf_hist(struct sb_evb *b, const __u64 *slots, size_t nslots, unsigned first_le_log2,
		 uint64_t sum_ns);

/* ---- the fallback decision (plan.c) ---- */

enum sb_bpf_reason {
	SB_BPF_OK,
	SB_BPF_NO_BTF,
	SB_BPF_NO_PRIVILEGE,
	SB_BPF_NO_RINGBUF,
	SB_BPF_NO_TRACEPOINT,
	SB_BPF_LOAD_FAILED, /* decided after the plan, when nothing loaded or attached */
	SB_BPF_REASON_MAX,
};
/* The `reason` label of sensorbus_bpf_fallback: "no_btf", ... */
const char *sb_bpf_reason_name(enum sb_bpf_reason r);

enum sb_bpf_attach {
	SB_ATTACH_AUTO,
	SB_ATTACH_TP_BTF,
	SB_ATTACH_RAW_TP,
};

/* What the kernel and the process offer, as probed at start. */
struct sb_bpf_probe {
	bool btf;	    /* vmlinux BTF readable */
	bool cap_sys_admin; /* effective capabilities */
	bool cap_bpf;
	bool cap_perfmon;
	bool ringbuf;	    /* BPF_MAP_TYPE_RINGBUF (Linux 5.8) */
	bool task_storage;  /* BPF_MAP_TYPE_TASK_STORAGE (Linux 5.11) */
	unsigned tp_btf;    /* SB_TP_BIT: the kernel's BTF has btf_trace_<tp> */
	unsigned tp_exists; /* SB_TP_BIT: the tracepoint exists (or cannot be told) */
	bool sched_info;    /* task_struct has sched_info (CONFIG_SCHED_INFO) */
	bool iter_task;	    /* the kernel's BTF has bpf_iter__task (task iterators, 5.8) */
	bool iter_walk;	    /* and bpf_iter_task_new (open-coded task iterators, 6.7) */
	bool force_no_walk; /* $SENSORBUS_BPF_MODE no-walk: for tests of the other path */
	enum sb_bpf_attach force;
	bool force_wakeup; /* time run-queue waits from wakeups even with sched_info */
};

struct sb_bpf_plan {
	enum sb_bpf_reason reason; /* not SB_BPF_OK: procfs-only */
	bool kernel_capable;	   /* BTF and ring buffers */
	bool btf_mode;		   /* tp_btf + task storage; else raw_tp + tid hash */
	bool latency_wakeup;	   /* run-queue waits timed from wakeups, not sched_info */
	unsigned want;		   /* SB_TP_BIT: programs this mode needs */
	unsigned load;		   /* SB_TP_BIT: those to load and attach (want, if they exist) */
	char why[200];		   /* reason != OK: the one line saying why */
	char missing[120];	   /* wanted tracepoints that do not exist, "" if none */
	/* The task iterator (SB_BPF_KIND_ITER) needs BTF and the privileges,
	 * but neither ring buffers nor tracepoints: decided on its own. */
	bool iter;
	/* which of its programs: the process list walked by the program
	 * itself (6.7+), else the kernel's walk over every thread */
	bool iter_walk;
	char iter_why[200]; /* !iter: the one line saying why */
};

/* Pure: the same probe always gives the same plan. */
void sb_bpf_plan(const struct sb_bpf_probe *p, struct sb_bpf_plan *out);

/* Fills p from this kernel and process: BTF, capabilities, map types,
 * tracepoints. For tests, $SENSORBUS_BPF_MODE may force choices: a comma
 * list of tp_btf or raw_tp, and wakeup. */
void sb_bpf_probe_kernel(struct sb_bpf_probe *p);

#endif
