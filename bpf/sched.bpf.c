// SPDX-License-Identifier: GPL-2.0
/* Scheduler counters aggregated in the kernel: context switches per CPU, a
 * log2 run-queue latency histogram, and on/off-CPU time, run-queue wait and
 * switches per watched process. Nothing per switch crosses to user space:
 * the sensor reads the maps once per interval.
 *
 * Run-queue latency is the time from a task becoming runnable (woken, or
 * preempted while still runnable) to it getting a CPU. The wake time lives
 * in the task's own storage, not in a pid-keyed hash as in runqlat: a
 * storage lookup is a pointer chase where a hash insert and delete per
 * switch take a bucket lock each, and the counters stay cumulative. */
#include "vmlinux.h"

#include "common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sb_sched_cpu);
} sched_cpu SEC(".maps");

static __always_inline void switch_out(struct sb_task_ctx *c, __u64 now, bool queued)
{
	struct sb_proc_stats *s = bpf_map_lookup_elem(&proc_stats, &c->tgid);
	if (!s)
		return;
	if ((c->flags & SB_TC_ON_CPU) && c->switch_ts)
		s->oncpu_ns += now - c->switch_ts;
	if (queued)
		s->involuntary++;
	else
		s->voluntary++;
	c->switch_ts = now;
	c->flags &= ~SB_TC_ON_CPU;
}

static __always_inline void switch_in(struct sb_task_ctx *c, __u64 now, __u64 wait, __u32 slot)
{
	struct sb_proc_stats *s = bpf_map_lookup_elem(&proc_stats, &c->tgid);
	if (!s)
		return;
	if (!(c->flags & SB_TC_ON_CPU) && c->switch_ts)
		s->offcpu_ns += now - c->switch_ts;
	if (slot < SB_HIST_SLOTS) {
		s->rq_sum_ns += wait;
		s->rq_hist[slot]++;
	}
	c->switch_ts = now;
	c->flags |= SB_TC_ON_CPU;
}

static __always_inline int on_switch(bool btf, bool preempt, struct task_struct *prev,
				     struct task_struct *next)
{
	__u32 zero = 0;
	struct sb_sched_cpu *cs = bpf_map_lookup_elem(&sched_cpu, &zero);
	struct sb_task_ctx *c;
	if (!cs)
		return 0;
	cs->switches++;

	__u64 now = bpf_ktime_get_ns();
	__u32 pid = SB_READ(btf, prev, pid);
	/* Still on the run queue: preempted, or yielded while runnable. This is
	 * also the kernel's involuntary switch (nivcsw). */
	bool queued = preempt || sb_task_state(btf, prev) == SB_TASK_RUNNING;
	if (pid && (queued || SB_WATCHING)) {
		c = sb_tctx(btf, prev, pid, queued);
		if (c) {
			if (queued)
				c->wake_ts = now;
			if (SB_WATCHING) {
				if (!(c->flags & SB_TC_CLASSIFIED))
					cs->watch_full += sb_classify(btf, c, prev, false);
				if (c->tgid)
					switch_out(c, now, queued);
			}
		}
	}

	pid = SB_READ(btf, next, pid);
	if (!pid) /* the idle task */
		return 0;
	c = sb_tctx(btf, next, pid, false);
	if (!c)
		return 0;
	__u64 wait = 0;
	__u32 slot = SB_HIST_SLOTS; /* none */
	if (c->wake_ts) {
		wait = now - c->wake_ts;
		c->wake_ts = 0;
		slot = sb_hist_slot(wait);
		cs->rq_hist[slot]++;
		cs->rq_sum_ns += wait;
	}
	if (SB_WATCHING && c->tgid)
		switch_in(c, now, wait, slot);
	return 0;
}

static __always_inline int on_wakeup(bool btf, struct task_struct *p)
{
	__u32 pid = SB_READ(btf, p, pid);
	if (!pid)
		return 0;
	struct sb_task_ctx *c = sb_tctx(btf, p, pid, true);
	if (!c)
		return 0;
	c->wake_ts = bpf_ktime_get_ns();
	if (SB_WATCHING && !(c->flags & SB_TC_CLASSIFIED)) {
		if (sb_classify(btf, c, p, false)) {
			__u32 zero = 0;
			struct sb_sched_cpu *cs = bpf_map_lookup_elem(&sched_cpu, &zero);
			if (cs)
				cs->watch_full++;
		}
	}
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(true, preempt, prev, next);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(sched_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(false, preempt, prev, next);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup_btf, struct task_struct *p)
{
	return on_wakeup(true, p);
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(sched_wakeup_raw, struct task_struct *p)
{
	return on_wakeup(false, p);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new_btf, struct task_struct *p)
{
	return on_wakeup(true, p);
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new_raw, struct task_struct *p)
{
	return on_wakeup(false, p);
}
