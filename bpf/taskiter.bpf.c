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
		for (int i = 0; i < SB_RSS_MAX; i++)
			r->rss[i] = clamp0(o->rss_stat.count[i]);
	} else if (bpf_core_field_exists(((struct mm_struct___v62 *)0)->rss_stat)) {
		struct mm_struct___v62 *n = (void *)mm;
		for (int i = 0; i < SB_RSS_MAX; i++)
			r->rss[i] = clamp0(n->rss_stat[i].count);
	} else {
		r->flags |= SB_TASK_NO_RSS;
	}
}

/* What one walk step builds: the record, and the open fd bitmap copied in
 * one helper call (a call per word would cost more than the rest of the
 * record). */
struct scratch {
	struct sb_task_rec rec;
	__u64 fdbits[SB_TASK_FD_WORDS];
};

/* The set bits of the open fd bitmap below max_fds, as /proc/<pid>/fd lists
 * them; a table larger than the scratch copy is left to procfs. */
static __always_inline void count_fds(struct task_struct *t, struct scratch *sc)
{
	struct sb_task_rec *r = &sc->rec;
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
	for (unsigned int i = 0; i < SB_TASK_FD_WORDS && i < words; i++)
		n += __builtin_popcountll(sc->fdbits[i]);
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
static __always_inline void leader(struct task_struct *t, struct scratch *sc)
{
	struct sb_task_rec *r = &sc->rec;
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
		read_rss(mm, r);
		r->total_vm = mm->total_vm;
	} else {
		r->flags |= SB_TASK_NO_MM;
	}
	count_fds(t, sc);
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
	/* direct loads: the iterator's task is a BTF pointer the verifier
	 * trusts, and a load through it costs far less than a helper call */
	r->tgid = t->tgid;
	r->tid = t->pid;
	r->state = (__u32)sb_task_state(true, t);
	r->exit_state = t->exit_state;
	r->nice = t->static_prio - 120;
	r->start_ns = t->start_boottime;
	r->utime_ns = t->utime;
	r->stime_ns = t->stime;
	r->runtime_ns = t->se.sum_exec_runtime;
	r->min_flt = t->min_flt;
	r->maj_flt = t->maj_flt;
	r->nvcsw = t->nvcsw;
	r->nivcsw = t->nivcsw;
	if (bpf_core_field_exists(t->ioac))
		add_io(r, &t->ioac);
	else
		r->flags |= SB_TASK_NO_IO;
	if (t->flags & PF_KTHREAD)
		r->flags |= SB_TASK_KTHREAD;
	__builtin_memcpy(r->comm, t->comm, sizeof(r->comm));
	if (r->tid == r->tgid) {
		r->flags |= SB_TASK_LEADER;
		leader(t, sc);
	}
	bpf_seq_write(ctx->meta->seq, r, sizeof(*r));
	return 0;
}
