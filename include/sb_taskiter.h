/* Every process on the host from the BPF task iterator (bpf/taskiter.bpf.c):
 * the walk's records (one per thread) folded into one struct sb_task per
 * process, with the values /proc/<pid>/{stat,status,io,statm,fd} give.
 *
 * The reader (src/sensors/bpf/taskiter.c; a stub that says why not in a
 * make BPF=0 build) runs the iterator on demand and reads its output in
 * bounded steps, so a walk over tens of thousands of tasks can be spread
 * over several turns of the collection loop. The fold
 * (src/sensors/taskfold.c) is pure and built in every configuration. */
#ifndef SB_TASKITER_H
#define SB_TASKITER_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_bpf.h"

/* One process: its leader's identity and state, counters summed over its
 * live threads and the ones that exited, as /proc reports them. */
struct sb_task {
	uint32_t pid, ppid, uid;
	char comm[SB_COMM_LEN]; /* the leader's, NUL-terminated */
	char state;		/* /proc/<pid>/stat's letter: R S D T t X Z P I */
	bool kthread;
	int32_t nice;
	uint32_t threads;
	uint64_t start_ns; /* since boot */
	/* the precise runtime split by the tick-sampled user:system ratio, as
	 * /proc does (cputime_adjust) */
	uint64_t utime_ns, stime_ns;
	uint64_t min_flt, maj_flt;
	uint64_t nvcsw, nivcsw; /* every thread's, not the leader's alone */
	uint64_t rchar, wchar, syscr, syscw, read_bytes, write_bytes, cancelled_write_bytes;
	uint64_t rss_pages, swap_pages, vm_pages;
	uint64_t fd_limit; /* RLIM_INFINITY as UINT64_MAX */
	uint64_t cgroup_id;
	uint32_t open_fds;
	uint32_t missing; /* SB_TASK_NO_IO, _NO_RSS, _NO_FDS: fields to read from procfs */
	/* the fold's sums before the split: sampled user, system, precise */
	uint64_t raw_ut, raw_st, raw_rt;
};

/* ---- the fold (pure) ---- */

struct sb_task_thread; /* a thread's counters waiting for its leader */

struct sb_taskfold {
	struct sb_task *tasks; /* in pid order once finished */
	size_t n, cap;
	struct sb_task_thread *pend;
	size_t npend, cappend;
	bool sorted;
	bool unsplit; /* a process whose threads come apart: CPU split at finish */
	uint64_t bad; /* records of another size, or threads whose leader was not seen */
	/* The last finished walk, for the processes that did not run since
	 * (struct sb_task_same); cur: where the last one was found. */
	struct sb_task *prev;
	size_t nprev, capprev, cur;
	size_t nsame; /* processes this walk took from prev */
	/* finish's sort: keys (pid, index), then the tasks gathered in order */
	uint64_t *keys;
	struct sb_task *spare;
	size_t capkeys, capspare;
	bool finished;	  /* tasks is a whole walk (reset keeps it as prev) */
	bool same_missed; /* a process said unchanged that prev lacks: the
			   * next walk must read every process in full */
};

/* Starts a walk; the last one, if finished, becomes prev. */
void sb_taskfold_reset(struct sb_taskfold *f);
/* Takes the whole records in buf[0..len) (len a multiple of the record
 * size: the reader keeps a partial tail). -ENOMEM on failure. */
int sb_taskfold_add(struct sb_taskfold *f, const void *buf, size_t len);
/* Takes n processes that did not run since the last finished walk (prev),
 * with the fields that may have changed anyway. -ENOMEM on failure. */
int sb_taskfold_add_same(struct sb_taskfold *f, const struct sb_task_same *s, size_t n);
/* Folds the threads into their processes; tasks are then sorted by pid. */
void sb_taskfold_finish(struct sb_taskfold *f);
void sb_taskfold_free(struct sb_taskfold *f);
/* The letter /proc shows for a task's __state and exit_state. */
char sb_task_state_letter(uint32_t state, int32_t exit_state);
/* Finds pid in a finished fold; NULL if not there. */
const struct sb_task *sb_taskfold_find(const struct sb_taskfold *f, uint32_t pid);

/* Reads t->missing's fields from procfs (a directory fd on its root), the
 * file of each field alone (src/sensors/taskfill.c). Returns 0, or the first
 * error (the process exited, EACCES) with the fields not read in *failed. */
int sb_task_fill_missing(struct sb_task *t, int procfs, uint32_t *failed);

/* ---- the reader ---- */

struct sb_taskiter;

/* Loads the iterator (in a short-lived child, like the bpf sensor's
 * programs). <0 with the reason in why: no BTF, no privilege, a kernel
 * without task iterators, a build without BPF. */
int sb_taskiter_open(struct sb_taskiter **out, char *why, size_t whylen);
/* Starts a walk (a previous one unfinished is dropped). */
int sb_taskiter_begin(struct sb_taskiter *ti);
/* Reads at most about max_bytes of the walk. 1: more to come; 0: the walk
 * is complete and sb_taskiter_fold has it; <0: failed (-errno). */
int sb_taskiter_step(struct sb_taskiter *ti, size_t max_bytes);
const struct sb_taskfold *sb_taskiter_fold(const struct sb_taskiter *ti);
void sb_taskiter_close(struct sb_taskiter *ti);

#endif
