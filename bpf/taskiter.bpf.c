// SPDX-License-Identifier: GPL-2.0
/* Every task on the host as one fixed binary record (struct sb_task_rec),
 * read straight from task_struct by a task iterator: what procfs renders as
 * text in five files per process, at a fraction of the cost. Run on demand:
 * the agent creates an iterator from the link and read()s it.
 *
 * The kernel runs the program again for a task whose record did not fit the
 * seq buffer, so it does nothing but write records. Threads are not folded
 * here (their tids interleave with other processes' in the walk): each
 * thread sends its own counters, the leader adds its process's signal
 * totals and the process-wide fields, and the agent sums by tgid. */
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

static __always_inline void read_rss(struct mm_struct *mm, struct sb_task_rec *r)
{
	if (bpf_core_type_exists(struct mm_rss_stat___pre62)) {
		struct mm_struct___pre62 *o = (void *)mm;
		long c[SB_RSS_MAX];
		bpf_core_read(&c, sizeof(c), &o->rss_stat.count);
		for (int i = 0; i < SB_RSS_MAX; i++)
			r->rss[i] = clamp0(c[i]);
	} else if (bpf_core_field_exists(((struct mm_struct___v62 *)0)->rss_stat)) {
		struct mm_struct___v62 *n = (void *)mm;
		for (int i = 0; i < SB_RSS_MAX; i++)
			r->rss[i] = clamp0(BPF_CORE_READ(n, rss_stat[i].count));
	} else {
		r->flags |= SB_TASK_NO_RSS;
	}
}

/* The set bits of the open fd bitmap below max_fds, as /proc/<pid>/fd lists
 * them; a table too large for the bounded loop is left to procfs. */
static __always_inline void count_fds(struct task_struct *t, struct sb_task_rec *r)
{
	struct files_struct *files = BPF_CORE_READ(t, files);
	if (!files) {
		r->flags |= SB_TASK_NO_FILES;
		return;
	}
	struct fdtable *fdt = BPF_CORE_READ(files, fdt);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	unsigned long *bits = BPF_CORE_READ(fdt, open_fds);
	unsigned int words = max / 64;
	if (words > SB_TASK_FD_WORDS) {
		r->flags |= SB_TASK_NO_FDS;
		return;
	}
	__u32 n = 0;
	for (unsigned int i = 0; i < SB_TASK_FD_WORDS && i < words; i++) {
		__u64 w = 0;
		bpf_probe_read_kernel(&w, sizeof(w), bits + i);
		n += __builtin_popcountll(w);
	}
	r->open_fds = n;
}

static __always_inline void add_io(struct sb_task_rec *r, struct task_io_accounting *io)
{
	r->rchar += BPF_CORE_READ(io, rchar);
	r->wchar += BPF_CORE_READ(io, wchar);
	r->syscr += BPF_CORE_READ(io, syscr);
	r->syscw += BPF_CORE_READ(io, syscw);
	r->read_bytes += BPF_CORE_READ(io, read_bytes);
	r->write_bytes += BPF_CORE_READ(io, write_bytes);
	r->cancelled_write_bytes += BPF_CORE_READ(io, cancelled_write_bytes);
}

/* The process-wide part, on the leader's record: its signal totals (threads
 * that exited) and what belongs to the process, not a thread. */
static __always_inline void leader(struct task_struct *t, struct sb_task_rec *r)
{
	struct signal_struct *sig = BPF_CORE_READ(t, signal);
	r->utime_ns += BPF_CORE_READ(sig, utime);
	r->stime_ns += BPF_CORE_READ(sig, stime);
	r->runtime_ns += BPF_CORE_READ(sig, sum_sched_runtime);
	r->min_flt += BPF_CORE_READ(sig, min_flt);
	r->maj_flt += BPF_CORE_READ(sig, maj_flt);
	r->nvcsw += BPF_CORE_READ(sig, nvcsw);
	r->nivcsw += BPF_CORE_READ(sig, nivcsw);
	if (bpf_core_field_exists(sig->ioac))
		add_io(r, &sig->ioac);
	r->nr_threads = BPF_CORE_READ(sig, nr_threads);
	r->nofile = BPF_CORE_READ(sig, rlim[RLIMIT_NOFILE].rlim_cur);
	r->uid = BPF_CORE_READ(t, real_cred, uid.val);
	r->ppid = BPF_CORE_READ(t, real_parent, tgid);
	r->cgroup_id = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	if (mm) {
		read_rss(mm, r);
		r->total_vm = BPF_CORE_READ(mm, total_vm);
	} else {
		r->flags |= SB_TASK_NO_MM;
	}
	count_fds(t, r);
}

/* One record is built here: too big for the stack next to the rest. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sb_task_rec);
} task_scratch SEC(".maps");

SEC("iter/task")
int task_iter(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	__u32 zero = 0;
	if (!t)
		return 0; /* the end of the walk */
	struct sb_task_rec *r = bpf_map_lookup_elem(&task_scratch, &zero);
	if (!r)
		return 0;
	__builtin_memset(r, 0, sizeof(*r));
	r->tgid = BPF_CORE_READ(t, tgid);
	r->tid = BPF_CORE_READ(t, pid);
	r->state = (__u32)sb_task_state(false, t);
	r->exit_state = BPF_CORE_READ(t, exit_state);
	r->nice = BPF_CORE_READ(t, static_prio) - 120;
	r->start_ns = BPF_CORE_READ(t, start_boottime);
	r->utime_ns = BPF_CORE_READ(t, utime);
	r->stime_ns = BPF_CORE_READ(t, stime);
	r->runtime_ns = BPF_CORE_READ(t, se.sum_exec_runtime);
	r->min_flt = BPF_CORE_READ(t, min_flt);
	r->maj_flt = BPF_CORE_READ(t, maj_flt);
	r->nvcsw = BPF_CORE_READ(t, nvcsw);
	r->nivcsw = BPF_CORE_READ(t, nivcsw);
	if (bpf_core_field_exists(t->ioac))
		add_io(r, &t->ioac);
	else
		r->flags |= SB_TASK_NO_IO;
	if (BPF_CORE_READ(t, flags) & PF_KTHREAD)
		r->flags |= SB_TASK_KTHREAD;
	bpf_probe_read_kernel(r->comm, sizeof(r->comm), t->comm);
	if (r->tid == r->tgid) {
		r->flags |= SB_TASK_LEADER;
		leader(t, r);
	}
	bpf_seq_write(ctx->meta->seq, r, sizeof(*r));
	return 0;
}
