// SPDX-License-Identifier: GPL-2.0
/* Process lifecycle: every exec and every process exit goes to user space
 * over a ring buffer (short-lived processes that procfs never sees); forks
 * are counted here, and only a watched process's forks are sent. A record
 * the ring buffer has no room for is counted, never silently lost. */
#include "vmlinux.h"

#include "common.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* The agent maps the ring's pages twice (to read records across the wrap),
 * all resident: 256 KiB (as libbpf-bootstrap) is half a megabyte of its RSS.
 * A quarter of it, which wakes the agent, is about 700 exec/exit records. */
#define RINGBUF_BYTES (256 << 10)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RINGBUF_BYTES);
} events SEC(".maps");

/* Waking the reader costs an IPI, tens of microseconds in a VM, which would
 * dominate every exec and exit. So it is woken at most every wakeup_ns (the
 * first record after a quiet spell still wakes it at once), or when the
 * ring is a quarter full. The sensor drains it every interval too, and then
 * writes last_wakeup_ns itself (the .bss is mmapped): having just looked,
 * it need not be woken for what follows. */
const volatile __u64 wakeup_ns = 0;
__u64 last_wakeup_ns;

static __always_inline __u64 wakeup_flag(__u64 now)
{
	if (now - last_wakeup_ns >= wakeup_ns ||
	    bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= RINGBUF_BYTES / 4) {
		last_wakeup_ns = now;
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sb_proc_cpu);
} proc_cpu SEC(".maps");

/* The exec record is built here, then sent only as long as its filename:
 * reserving the ring buffer space needs a constant size. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sb_rec_exec);
} exec_scratch SEC(".maps");

static __always_inline struct sb_proc_cpu *cpu_stats(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&proc_cpu, &zero);
}

static __always_inline void fill_hdr(bool btf, struct sb_rec_hdr *h, __u16 type, __u16 size,
				     struct task_struct *p, __u64 now)
{
	h->type = type;
	h->size = size;
	h->pid = SB_READ(btf, p, tgid);
	h->ppid = BPF_CORE_READ(p, real_parent, tgid);
	h->_pad0 = 0;
	h->ts_ns = now;
}

static __always_inline void rewatch(bool btf, struct task_struct *p, const char *comm);

static __always_inline int on_exec(bool btf, struct task_struct *p, struct linux_binprm *bprm)
{
	struct sb_proc_cpu *cs = cpu_stats();
	__u32 zero = 0;
	if (!cs)
		return 0;
	cs->execs++;

	struct sb_rec_exec *e = bpf_map_lookup_elem(&exec_scratch, &zero);
	if (!e)
		return 0;
	const char *fn = BPF_CORE_READ(bprm, filename);
	long n = bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), fn);
	__u32 len = n > 0 ? (__u32)n : 0;
	if (len > SB_FILENAME_MAX)
		len = SB_FILENAME_MAX;
	if (!len)
		e->filename[0] = 0; /* unreadable: an empty name, still the event */
	len = len ? len : 1;
	e->filename_len = len;
	e->uid = (__u32)bpf_get_current_uid_gid();
	BPF_CORE_READ_INTO(&e->comm, p, comm);
	__u32 size = SB_REC_EXEC_FIXED + len;
	__u64 now = bpf_ktime_get_ns();
	fill_hdr(btf, &e->hdr, SB_REC_EXEC, (__u16)size, p, now);
	if (bpf_ringbuf_output(&events, e, size, wakeup_flag(now)))
		cs->lost++;

	if (watch_on)
		rewatch(btf, p, e->comm);
	return 0;
}

/* After exec, a new name: a process watched by name may leave the watch or
 * match another name; an unwatched one may now match. */
static __always_inline void rewatch(bool btf, struct task_struct *p, const char *comm)
{
	struct sb_comm key;
	__builtin_memcpy(key.s, comm, SB_COMM_LEN);
	sb_comm_key(&key);
	__u32 tgid = SB_READ(btf, p, tgid);
	__u32 *idx = bpf_map_lookup_elem(&watch_names, &key);
	struct sb_proc_meta *m = bpf_map_lookup_elem(&procs, &tgid);
	if (m && !(m->flags & SB_PROC_EXITED)) {
		if (!(m->flags & SB_PROC_BY_NAME)) {
			__builtin_memcpy(m->comm, key.s, SB_COMM_LEN); /* by pid: stays */
		} else if (idx) {
			m->watch_idx = *idx;
			__builtin_memcpy(m->comm, key.s, SB_COMM_LEN);
		} else {
			sb_watch_end(m, tgid);
			return;
		}
	} else if (!idx) {
		return;
	} else if (sb_watch_add(tgid, *idx, SB_PROC_BY_NAME, key.s)) {
		struct sb_proc_cpu *cs = cpu_stats();
		if (cs)
			cs->watch_full++;
		return;
	}
	/* it is on a CPU now: its on-CPU time starts here or at its birth */
	struct sb_task_ctx *c = sb_tctx(btf, p, SB_READ(btf, p, pid), true);
	if (c && !c->out_ts)
		sb_watch_start(btf, c, p, bpf_ktime_get_ns());
}

static __always_inline int on_exit(bool btf, struct task_struct *p)
{
	__u32 tid = SB_READ(btf, p, pid);
	if (!btf) /* task storage goes with the task; the hash entry must be freed */
		bpf_map_delete_elem(&task_ctx_tid, &tid);
	/* One record per process: when its last thread exits. */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	struct sb_proc_cpu *cs = cpu_stats();
	if (!cs)
		return 0;
	cs->exits++;

	__u64 now = bpf_ktime_get_ns();
	__u32 tgid = SB_READ(btf, p, tgid);
	if (watch_on) {
		struct sb_proc_meta *m = bpf_map_lookup_elem(&procs, &tgid);
		if (m)
			sb_watch_end(m, tgid);
	}

	struct sb_rec_exit *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		cs->lost++;
		return 0;
	}
	fill_hdr(btf, &e->hdr, SB_REC_EXIT, sizeof(*e), p, now);
	/* What wait(2) would report: a group exit (exit_group, a fatal signal)
	 * stores its code in the signal struct for every thread. */
	__u32 status = SB_READ(btf, p, exit_code);
	if (BPF_CORE_READ(p, signal, flags) & SB_SIGNAL_GROUP_EXIT)
		status = BPF_CORE_READ(p, signal, group_exit_code);
	e->status = status;
	e->_pad0 = 0;
	struct task_struct *leader = SB_READ(btf, p, group_leader);
	e->lifetime_ns = now - BPF_CORE_READ(leader, start_time);
	/* Threads already reaped are summed in the signal struct; a leader
	 * that exited first is a zombie not yet summed there. */
	__u64 cpu =
	    BPF_CORE_READ(p, signal, sum_sched_runtime) + BPF_CORE_READ(p, se.sum_exec_runtime);
	if (leader != p)
		cpu += BPF_CORE_READ(leader, se.sum_exec_runtime);
	e->cpu_ns = cpu;
	BPF_CORE_READ_INTO(&e->comm, leader, comm);
	bpf_ringbuf_submit(e, wakeup_flag(now));
	return 0;
}

static __always_inline int on_fork(bool btf, struct task_struct *parent, struct task_struct *child)
{
	struct sb_proc_cpu *cs = cpu_stats();
	if (!cs)
		return 0;
	cs->forks++;
	if (!watch_on)
		return 0;

	__u32 ptgid = SB_READ(btf, parent, tgid);
	struct sb_proc_meta *m = sb_watched(ptgid);
	if (!m)
		return 0;
	struct sb_proc_stats *s = bpf_map_lookup_elem(&proc_stats, &ptgid);
	if (s)
		s->forks++;
	__u32 child_tgid = SB_READ(btf, child, tgid);
	if (SB_READ(btf, child, pid) != child_tgid)
		return 0; /* a thread */
	/* the child has the same name: watched by name, it is watched too */
	if ((m->flags & SB_PROC_BY_NAME) &&
	    sb_watch_add(child_tgid, m->watch_idx, SB_PROC_BY_NAME, m->comm))
		cs->watch_full++;

	struct sb_rec_fork *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		cs->lost++;
		return 0;
	}
	__u64 now = bpf_ktime_get_ns();
	fill_hdr(btf, &e->hdr, SB_REC_FORK, sizeof(*e), child, now);
	/* the child's real_parent may be another (CLONE_PARENT): say who forked */
	e->hdr.ppid = ptgid;
	BPF_CORE_READ_INTO(&e->comm, parent, comm);
	bpf_ringbuf_submit(e, wakeup_flag(now));
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec_btf, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	return on_exec(true, p, bprm);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(sched_process_exec_raw, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	return on_exec(false, p, bprm);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit_btf, struct task_struct *p) { return on_exit(true, p); }

SEC("raw_tp/sched_process_exit")
int BPF_PROG(sched_process_exit_raw, struct task_struct *p) { return on_exit(false, p); }

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork_btf, struct task_struct *parent, struct task_struct *child)
{
	return on_fork(true, parent, child);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(sched_process_fork_raw, struct task_struct *parent, struct task_struct *child)
{
	return on_fork(false, parent, child);
}
