// SPDX-License-Identifier: GPL-2.0
/* Every process on the host as one fixed binary record (struct
 * sb_task_rec), read straight from task_struct: what procfs renders as text
 * in five files per process, at a fraction of the cost. Two programs, one
 * loaded (obj_taskiter.c picks by the kernel):
 *
 * task_walk (Linux 6.7+, the open-coded task iterator): run once per
 * chunk, from an iterator link attached to the agent's own thread alone, it
 * walks the process list itself (next_task: no pid lookup, no reference
 * taken per task, threads skipped) and writes one record per process, its
 * threads already summed, into the mmapped array the agent reads in place.
 * The walk over the kernel's pid table that iter/task does costs as much as
 * reading all the fields; this one a fifth of that.
 *
 * task_iter (5.8+): the kernel's iter/task walk, one record per thread
 * through the seq file; the agent folds threads into processes. The kernel
 * runs the program again for a task whose record did not fit the seq
 * buffer, so it does nothing but write records. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "core_fixes.bpf.h"
#include "sb_bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define PF_KTHREAD 0x00200000
#define RLIMIT_NOFILE 7

/* The rss counters: an array of percpu_counter since 6.2 (read .count, the
 * same approximation /proc shows), before that struct mm_rss_stat. */
struct mm_rss_stat___pre62 {
	long count[SB_RSS_MAX];
} __attribute__((preserve_access_index));

struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
} __attribute__((preserve_access_index));

struct mm_struct___v62 {
	struct percpu_counter rss_stat[SB_RSS_MAX];
} __attribute__((preserve_access_index));

static __always_inline __u64 clamp0(long v) { return v > 0 ? (__u64)v : 0; }

static __always_inline void read_rss(struct mm_struct *mm, __u64 *rss, __u32 *flags)
{
	if (bpf_core_type_exists(struct mm_rss_stat___pre62)) {
		struct mm_struct___pre62 *o = (void *)mm;
		for (int i = 0; i < SB_RSS_MAX; i++)
			rss[i] = clamp0(o->rss_stat.count[i]);
	} else if (bpf_core_field_exists(((struct mm_struct___v62 *)0)->rss_stat)) {
		struct mm_struct___v62 *n = (void *)mm;
		for (int i = 0; i < SB_RSS_MAX; i++)
			rss[i] = clamp0(n->rss_stat[i].count);
	} else {
		*flags |= SB_TASK_NO_RSS;
	}
}

/* What one walk step builds: the record, and the open fd bitmap copied in
 * one helper call (a call per word would cost more than the rest of the
 * record). */
struct scratch {
	struct sb_task_rec rec;
	__u64 fdbits[SB_TASK_FD_WORDS];
	/* task_walk's counters, here rather than in registers: the verifier
	 * then sees them as unknown at each turn of the walk and its states
	 * converge, where it would follow every value of a register */
	__u32 n, nfull, nsame, skip, j;
};

/* task_walk counts the fds of tables up to this many words (1024 fds). */
#define WALK_FD_WORDS 16

/* The set bits of the open fd bitmap below max_fds, as /proc/<pid>/fd lists
 * them; a table larger than the scratch copy is left to procfs. */
static __always_inline void count_fds(struct task_struct *t, struct sb_task_rec *r,
				      struct scratch *sc, bool open_coded)
{
	struct files_struct *files = t->files;
	if (!files) {
		r->flags |= SB_TASK_NO_FILES;
		return;
	}
	struct fdtable *fdt = files->fdt;
	unsigned int words = fdt->max_fds / 64;
	unsigned long *bits = fdt->open_fds;
	if (words > SB_TASK_FD_WORDS) {
		r->flags |= SB_TASK_NO_FDS;
		return;
	}
	__u32 size = words * 8;
	if (!size || size > sizeof(sc->fdbits) || bpf_probe_read_kernel(sc->fdbits, size, bits))
		return;
	__u32 n = 0;
	if (open_coded) {
		/* inside task_walk's loop every branch multiplies the states
		 * the verifier follows (and each kfunc call it meets costs it a
		 * lookup in the kernel's BTF): a few words unrolled, the larger
		 * tables (WALK_FD_WORDS * 64 fds and up) left to procfs */
		if (words > WALK_FD_WORDS) {
			r->flags |= SB_TASK_NO_FDS;
			return;
		}
		for (unsigned int i = 0; i < WALK_FD_WORDS; i++)
			n += i < words ? __builtin_popcountll(sc->fdbits[i]) : 0;
	} else {
		for (unsigned int i = 0; i < SB_TASK_FD_WORDS && i < words; i++)
			n += __builtin_popcountll(sc->fdbits[i]);
	}
	r->open_fds = n;
}

static __always_inline void add_io(struct sb_task_rec *r, struct task_io_accounting *io)
{
	r->rchar += io->rchar;
	r->wchar += io->wchar;
	r->syscr += io->syscr;
	r->syscw += io->syscw;
	r->read_bytes += io->read_bytes;
	r->write_bytes += io->write_bytes;
	r->cancelled_write_bytes += io->cancelled_write_bytes;
}

/* The process-wide part, on the leader's record: its signal totals (threads
 * that exited) and what belongs to the process, not a thread. */
static __always_inline void leader(struct task_struct *t, struct sb_task_rec *r, struct scratch *sc,
				   bool open_coded)
{
	struct signal_struct *sig = t->signal;
	r->utime_ns += sig->utime;
	r->stime_ns += sig->stime;
	r->runtime_ns += sig->sum_sched_runtime;
	r->min_flt += sig->min_flt;
	r->maj_flt += sig->maj_flt;
	r->nvcsw += sig->nvcsw;
	r->nivcsw += sig->nivcsw;
	if (bpf_core_field_exists(sig->ioac))
		add_io(r, &sig->ioac);
	r->nr_threads = sig->nr_threads;
	r->nofile = sig->rlim[RLIMIT_NOFILE].rlim_cur;
	r->uid = t->real_cred->uid.val;
	r->ppid = t->real_parent->tgid;
	r->cgroup_id = t->cgroups->dfl_cgrp->kn->id;
	struct mm_struct *mm = t->mm;
	if (mm) {
		read_rss(mm, r->rss, &r->flags);
		r->total_vm = mm->total_vm;
	} else {
		r->flags |= SB_TASK_NO_MM;
	}
	count_fds(t, r, sc, open_coded);
}

/* Who the task is, from the task itself. Direct loads: the iterators' tasks
 * are BTF pointers the verifier trusts, and a load through one costs far
 * less than a helper call. */
static __always_inline void identity(struct task_struct *t, struct sb_task_rec *r)
{
	r->tgid = t->tgid;
	r->tid = t->pid;
	r->state = (__u32)sb_task_state(true, t);
	r->exit_state = t->exit_state;
	r->nice = t->static_prio - 120;
	r->start_ns = t->start_boottime;
	if (t->flags & PF_KTHREAD)
		r->flags |= SB_TASK_KTHREAD;
	if (!bpf_core_field_exists(t->ioac))
		r->flags |= SB_TASK_NO_IO;
	__builtin_memcpy(r->comm, t->comm, sizeof(r->comm));
}

/* A thread's own counters, added to r. */
static __always_inline void thread_counts(struct task_struct *t, struct sb_task_rec *r)
{
	r->utime_ns += t->utime;
	r->stime_ns += t->stime;
	r->runtime_ns += t->se.sum_exec_runtime;
	r->min_flt += t->min_flt;
	r->maj_flt += t->maj_flt;
	r->nvcsw += t->nvcsw;
	r->nivcsw += t->nivcsw;
	if (bpf_core_field_exists(t->ioac))
		add_io(r, &t->ioac);
}

/* Too big for the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} task_scratch SEC(".maps");

SEC("iter/task")
int task_iter(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	__u32 zero = 0;
	if (!t)
		return 0; /* the end of the walk */
	struct scratch *sc = bpf_map_lookup_elem(&task_scratch, &zero);
	if (!sc)
		return 0;
	struct sb_task_rec *r = &sc->rec;
	__builtin_memset(r, 0, sizeof(*r));
	identity(t, r);
	thread_counts(t, r);
	if (r->tid == r->tgid) {
		r->flags |= SB_TASK_LEADER;
		leader(t, r, sc, false);
	}
	bpf_seq_write(ctx->meta->seq, r, sizeof(*r));
	return 0;
}

/* ---- task_walk ---- */

/* The open-coded task iterator, declared here: the vmlinux.h of a kernel
 * before 6.7 (arm64's is Debian's 6.1) has neither its state nor its
 * flags. The verifier knows the state by the kernel's own prototypes. */
struct bpf_iter_task___sb {
	__u64 __opaque[3];
} __attribute__((aligned(8)));
#define SB_ITER_ALL_PROCS 0    /* BPF_TASK_ITER_ALL_PROCS */
#define SB_ITER_PROC_THREADS 2 /* BPF_TASK_ITER_PROC_THREADS */

extern int bpf_iter_task_new(struct bpf_iter_task___sb *it, struct task_struct *task,
			     unsigned int flags) __ksym __weak;
extern struct task_struct *bpf_iter_task_next(struct bpf_iter_task___sb *it) __ksym __weak;
extern void bpf_iter_task_destroy(struct bpf_iter_task___sb *it) __ksym __weak;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;

/* The records of one chunk, read by the agent in place (mmapped). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, SB_TASK_CHUNK);
	__type(key, __u32);
	__type(value, struct sb_task_rec);
} task_recs SEC(".maps");

/* The processes that did not run since the last walk, one line each. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, SB_TASK_CHUNK);
	__type(key, __u32);
	__type(value, struct sb_task_same);
} task_same SEC(".maps");

/* Set by the agent before each run (struct sb_task_walk_ctl). skip: the
 * processes of the list already read in this walk. A process that exits
 * between two chunks shifts the list by one, so one may be read twice (the
 * agent keeps one) or missed, as with any walk that is not a snapshot; a
 * host with fewer than SB_TASK_CHUNK processes is read in one run. gen:
 * the walk's number, one more than the last walk the agent holds whole. */
struct sb_task_walk_ctl walk_ctl;

/* What a walk saw of each process, by its place in the process list: the
 * next walk goes through the list in the same order (new processes join at
 * its end), so it finds a process a few places from where a cursor over
 * the last walk's entries stands. In an array, read in order, rather than
 * on each task (task storage): that lookup alone cost as much as the rest
 * of the read. Two halves, the last walk's and this one's. */
struct seen {
	__u64 task, parent, cgroups; /* the pointers: compared, never followed */
	__u64 runtime;
	__u32 pid, pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * SB_TASK_SEEN);
	__type(key, __u32);
	__type(value, struct seen);
} task_seen SEC(".maps");

/* Which walk wrote each half, how many entries, and the cursor over the
 * last walk's half, kept between the runs of a walk. */
struct walk_state {
	__u32 gen[2], n[2];
	__u32 j;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk_state);
} task_walk_state SEC(".maps");

/* How far ahead of the cursor a process is looked for: as many as exited
 * just before it since the last walk. Past that it is read in full. */
#define SEEN_AHEAD 4

static __always_inline struct seen *seen_find(struct scratch *sc, struct task_struct *p, __u32 base,
					      __u32 n)
{
	for (int k = 0; k < SEEN_AHEAD; k++) {
		__u32 idx = sc->j + k;
		if (idx >= n)
			return NULL;
		__u32 key = base + idx;
		struct seen *e = bpf_map_lookup_elem(&task_seen, &key);
		if (e && e->task == (__u64)p) {
			sc->j = idx + 1;
			return e;
		}
	}
	return NULL;
}

/* A process that has not run since the last walk has the counters it had
 * then: only a thread running changes them (faults, switches, CPU, I/O,
 * its fds, its threads). What others can change is read again: memory
 * (reclaim), the state (a wakeup), nice and the fd limit (setpriority,
 * prlimit); a new parent or cgroup sends it down the full read. It costs
 * the half of the cache lines a full read touches, and most processes of a
 * host sleep through a round. */
static __always_inline bool same_as_seen(struct task_struct *p, struct seen *s, __u64 rt)
{
	return s && s->pid == p->tgid && s->runtime == rt && !p->exit_state &&
	       p->signal->nr_threads == 1 && s->parent == (__u64)p->real_parent &&
	       s->cgroups == (__u64)p->cgroups;
}

static __always_inline void same_one(struct task_struct *p, struct sb_task_same *r)
{
	r->pid = p->tgid;
	r->flags = 0;
	r->state = (__u32)sb_task_state(true, p);
	r->nice = p->static_prio - 120;
	r->nofile = p->signal->rlim[RLIMIT_NOFILE].rlim_cur;
	struct mm_struct *mm = p->mm;
	if (mm) {
		read_rss(mm, r->rss, &r->flags);
		r->total_vm = mm->total_vm;
	} else {
		r->flags |= SB_TASK_NO_MM;
		r->total_vm = 0;
		__builtin_memset(r->rss, 0, sizeof(r->rss));
	}
}

/* Every process: its live threads summed (the leader alone when it is the
 * only one), plus the signal totals of those that exited. */
static __always_inline void walk_one(struct task_struct *p, struct sb_task_rec *r,
				     struct scratch *sc)
{
	__builtin_memset(r, 0, sizeof(*r));
	identity(p, r);
	r->flags |= SB_TASK_LEADER | SB_TASK_FOLDED;
	if (p->signal->nr_threads <= 1 && !p->exit_state) {
		thread_counts(p, r);
	} else {
		/* the threads' iterator wants a task held, not one only
		 * under RCU as the walk gives: a reference, for these alone */
		struct task_struct *held = bpf_task_acquire(p);
		if (held) {
			struct bpf_iter_task___sb th;
			struct task_struct *t;
			bpf_iter_task_new(&th, held, SB_ITER_PROC_THREADS);
			while ((t = bpf_iter_task_next(&th)))
				thread_counts(t, r);
			bpf_iter_task_destroy(&th);
			bpf_task_release(held);
		}
	}
	leader(p, r, sc, true);
}

SEC("iter/task")
int task_walk(struct bpf_iter__task *ctx)
{
	struct bpf_iter_task___sb it;
	struct task_struct *p;
	__u32 zero = 0;
	struct sb_task_walk_hdr h = {0};
	if (!ctx->task)
		return 0;
	struct scratch *sc = bpf_map_lookup_elem(&task_scratch, &zero);
	if (!sc)
		return 0;
	struct walk_state *ws = bpf_map_lookup_elem(&task_walk_state, &zero);
	if (!ws)
		return 0;
	__u32 gen = walk_ctl.gen, skip = walk_ctl.skip, cur = gen & 1, last = cur ^ 1;
	if (!skip) {
		ws->gen[cur] = gen;
		ws->n[cur] = 0;
		ws->j = 0;
	}
	/* the last walk's entries, if the agent holds that walk whole */
	__u32 nlast = ws->gen[last] + 1 == gen ? ws->n[last] : 0;
	sc->n = sc->nfull = sc->nsame = 0;
	sc->skip = skip;
	sc->j = ws->j;
	bpf_iter_task_new(&it, NULL, SB_ITER_ALL_PROCS);
	while ((p = bpf_iter_task_next(&it))) {
		if (!p->tgid)
			continue; /* the idle task the list starts at */
		if (sc->skip) {
			sc->skip--;
			continue;
		}
		/* room in both arrays, or the chunk ends: the agent asks again */
		struct sb_task_rec *r = bpf_map_lookup_elem(&task_recs, &sc->nfull);
		struct sb_task_same *q = bpf_map_lookup_elem(&task_same, &sc->nsame);
		if (!r || !q) {
			h.more = 1;
			break;
		}
		__u64 rt = p->se.sum_exec_runtime;
		if (same_as_seen(p, seen_find(sc, p, last * SB_TASK_SEEN, nlast), rt)) {
			same_one(p, q);
			sc->nsame++;
		} else {
			walk_one(p, r, sc);
			sc->nfull++;
		}
		__u32 key = skip + sc->n;
		if (key < SB_TASK_SEEN) {
			key += cur * SB_TASK_SEEN;
			struct seen *s = bpf_map_lookup_elem(&task_seen, &key);
			if (s) {
				s->task = (__u64)p;
				s->pid = p->tgid;
				s->runtime = rt;
				s->parent = (__u64)p->real_parent;
				s->cgroups = (__u64)p->cgroups;
			}
		}
		sc->n++;
	}
	bpf_iter_task_destroy(&it);
	h.count = sc->nfull;
	h.same = sc->nsame;
	ws->j = sc->j;
	ws->n[cur] = skip + sc->n < SB_TASK_SEEN ? skip + sc->n : SB_TASK_SEEN;
	bpf_seq_write(ctx->meta->seq, &h, sizeof(h));
	return 0;
}
