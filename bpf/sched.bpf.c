// SPDX-License-Identifier: GPL-2.0
/* Scheduler counters aggregated in the kernel: context switches per CPU, a
 * log2 run-queue latency histogram, and on/off-CPU time, run-queue wait and
 * switches per watched process. Nothing per switch crosses to user space:
 * the sensor reads the maps once per interval.
 *
 * Run-queue latency is read from the kernel's own accounting (sched_info,
 * what /proc/PID/schedstat and delay accounting report): each time a task
 * gets a CPU the kernel adds its wait to sched_info.run_delay and counts the
 * arrival in sched_info.pcount; a wait that a migration split between run
 * queues is added in parts, but all before the arrival. So when a task is
 * switched out after exactly one arrival, the growth of its run_delay since
 * its previous switch out is that one whole wait. Remembering run_delay per
 * task takes a small pid-indexed table (task_waits) and no clock read, and
 * there is no wakeup hook at all (runqlat: a clock read and a hash insert
 * per wakeup; a clock read, a hash lookup and a delete per switch).
 *
 * Kernels without sched_info get the classic way instead (latency_wakeup):
 * stamp the task at wakeup and at preemption, measure at switch in. */
#include "vmlinux.h"

#include "common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* No sched_info here: time waits from the wakeup tracepoints. */
const volatile bool latency_wakeup = false;

/* One entry per possible CPU (sized at load), indexed by the current CPU:
 * an array lookup the verifier inlines, in memory the kernel allocates in
 * one piece; cheaper per switch than a per-CPU array's percpu chunk where
 * TLB misses dominate, as in VMs (bench/parts/10-bpf-cost.sh measures it).
 * Each CPU writes only its own entry. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sb_sched_cpu);
} sched_cpu SEC(".maps");

/* run_delay and pcount of tasks at their last switch out: 4-way sets in one
 * cache line, indexed by pid. A plain array (an inlined lookup, no helper
 * call, one line touched) rather than task storage (three dependent loads
 * behind a helper: 70 ns more per switch, measured), exact unless more than
 * four live tasks share a set, when the loser's next wait is skipped. */
#define WAIT_SETS 8192
#define WAIT_WAYS 4
struct wait_way {
	__u32 pid;
	__u32 pcount; /* low 32 bits: only "one more" is asked of it */
	__u64 run_delay;
};
struct wait_set {
	struct wait_way w[WAIT_WAYS];
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WAIT_SETS);
	__type(key, __u32);
	__type(value, struct wait_set);
} task_waits SEC(".maps");

/* The wait that ended at prev's last arrival, from its sched_info; false
 * when it is not known (first seen, or more than one arrival since). */
static __always_inline bool last_wait(bool btf, struct task_struct *prev, __u32 pid, __u64 *wait)
{
	__u32 key = pid & (WAIT_SETS - 1);
	struct wait_set *set = bpf_map_lookup_elem(&task_waits, &key);
	if (!set)
		return false;
	__u64 delay = SB_READ(btf, prev, sched_info.run_delay);
	__u32 arrivals = (__u32)SB_READ(btf, prev, sched_info.pcount);
	struct wait_way *e = NULL, *free = NULL;
#pragma unroll
	for (int i = 0; i < WAIT_WAYS; i++) {
		if (set->w[i].pid == pid)
			e = &set->w[i];
		else if (!set->w[i].pid)
			free = &set->w[i];
	}
	bool known = false;
	if (e) {
		known = arrivals - e->pcount == 1 && delay >= e->run_delay;
		*wait = delay - e->run_delay;
	} else if (SB_READ(btf, prev, start_time) >= born_after_ns) {
		/* born while we watch: its counters started at zero */
		known = arrivals == 1;
		*wait = delay;
	}
	if (SB_READ(btf, prev, exit_state)) { /* its last switch: free the way */
		if (e)
			e->pid = 0;
		return known;
	}
	if (!e)
		e = free ? free : &set->w[(pid ^ arrivals) & (WAIT_WAYS - 1)];
	e->pid = pid;
	e->pcount = arrivals;
	e->run_delay = delay;
	return known;
}

static __always_inline struct sb_sched_cpu *cpu_stats(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	return bpf_map_lookup_elem(&sched_cpu, &cpu);
}

static __always_inline void hist_add(__u64 *hist, __u64 *sum, __u64 wait)
{
	hist[sb_hist_slot(wait)]++;
	*sum += wait;
}

/* A watched thread leaves its CPU: the slice that ends now, and the time
 * off CPU since it last left (wall time minus what it ran). */
static __always_inline void watched_out(bool btf, struct task_struct *p, __u32 tgid, bool queued)
{
	struct sb_proc_stats *s = bpf_map_lookup_elem(&proc_stats, &tgid);
	__u32 tid = SB_READ(btf, p, pid);
	struct sb_task_ctx *c = sb_tctx(btf, p, tid, true);
	if (!s || !c)
		return;
	__u64 now = bpf_ktime_get_ns();
	if (!c->out_ts)
		sb_watch_start(btf, c, p, now);
	__u64 exec = SB_READ(btf, p, se.sum_exec_runtime);
	__u64 on = exec - c->sum_exec, wall = now - c->out_ts;
	s->oncpu_ns += on;
	s->offcpu_ns += wall > on ? wall - on : 0;
	c->sum_exec = exec;
	c->out_ts = now;
	if (queued)
		s->involuntary++;
	else
		s->voluntary++;
}

static __always_inline void watched_wait(__u32 tgid, __u64 wait)
{
	struct sb_proc_stats *s = bpf_map_lookup_elem(&proc_stats, &tgid);
	if (s)
		hist_add(s->rq_hist, &s->rq_sum_ns, wait);
}

static __always_inline int on_switch(bool btf, bool preempt, struct task_struct *prev,
				     struct task_struct *next)
{
	struct sb_sched_cpu *cs = cpu_stats();
	if (!cs)
		return 0;
	cs->switches++;

	/* Still on the run queue: preempted, or yielded while runnable. This is
	 * also the kernel's involuntary switch (nivcsw). */
	bool queued = preempt || sb_task_state(btf, prev) == SB_TASK_RUNNING;
	__u32 ppid = SB_READ(btf, prev, pid);
	__u64 wait = 0;
	bool waited = false;

	if (!latency_wakeup) {
		/* prev's wait, the one before the slice that ends now */
		waited = ppid && last_wait(btf, prev, ppid, &wait);
	} else {
		/* next's wait, ending now */
		__u32 npid = SB_READ(btf, next, pid);
		__u64 now = 0;
		struct sb_task_ctx *c;
		if (ppid && queued && (c = sb_tctx(btf, prev, ppid, true)))
			c->wake_ts = now = bpf_ktime_get_ns();
		if (npid && (c = sb_tctx(btf, next, npid, false)) && c->wake_ts) {
			wait = (now ? now : bpf_ktime_get_ns()) - c->wake_ts;
			c->wake_ts = 0;
			waited = true;
		}
	}
	if (waited)
		hist_add(cs->rq_hist, &cs->rq_sum_ns, wait);

	if (watch_on) {
		__u32 tgid = SB_READ(btf, prev, tgid);
		if (ppid && sb_watched(tgid)) {
			watched_out(btf, prev, tgid, queued);
			if (waited && !latency_wakeup)
				watched_wait(tgid, wait);
		}
		if (waited && latency_wakeup) {
			tgid = SB_READ(btf, next, tgid);
			if (sb_watched(tgid))
				watched_wait(tgid, wait);
		}
	}
	return 0;
}

/* Only when timing waits from wakeups: the wakeup starts the wait. */
static __always_inline int on_wakeup(bool btf, struct task_struct *p)
{
	__u32 pid = SB_READ(btf, p, pid);
	if (!pid)
		return 0;
	struct sb_task_ctx *c = sb_tctx(btf, p, pid, true);
	if (c)
		c->wake_ts = bpf_ktime_get_ns();
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
int BPF_PROG(sched_wakeup_btf, struct task_struct *p) { return on_wakeup(true, p); }

SEC("raw_tp/sched_wakeup")
int BPF_PROG(sched_wakeup_raw, struct task_struct *p) { return on_wakeup(false, p); }

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new_btf, struct task_struct *p) { return on_wakeup(true, p); }

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new_raw, struct task_struct *p) { return on_wakeup(false, p); }
