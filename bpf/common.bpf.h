/* What sched.bpf.c and proc.bpf.c share: the per-task context, the watch
 * list and the watched processes' maps. Both objects declare the same maps;
 * the user side creates them with the first object it loads and hands their
 * fds to the second (bpf_map__reuse_fd), so both see one set.
 *
 * Every handler exists twice, for tp_btf and for raw_tp, over one
 * __always_inline body with a constant `btf` argument: tp_btf gets direct
 * loads and task storage, raw_tp (kernels whose BTF lacks the tracepoint's
 * type) gets probe reads and a tid-keyed hash. The user side loads one set. */
#ifndef SB_COMMON_BPF_H
#define SB_COMMON_BPF_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "core_fixes.bpf.h"
#include "log2.h"
#include "sb_bpf.h"

#define SB_TASK_RUNNING 0

/* Set by the user side before load; with both false the verifier drops
 * every watch path, so an empty watch list costs nothing per switch. */
const volatile bool watch_names_on = false;
const volatile bool watch_pids_on = false;

#define SB_WATCHING (watch_names_on || watch_pids_on)

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sb_task_ctx);
} task_ctx SEC(".maps");

/* raw_tp mode only (the user side shrinks it to one entry otherwise). LRU:
 * a thread whose exit was missed cannot leak its slot for good. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct sb_task_ctx);
} task_ctx_tid SEC(".maps");

struct sb_comm {
	char s[SB_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SB_WATCH_MAX);
	__type(key, struct sb_comm);
	__type(value, __u32);
} watch_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SB_WATCH_MAX);
	__type(key, __u32);
	__type(value, __u32);
} watch_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SB_WATCH_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct sb_proc_meta);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, SB_WATCH_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct sb_proc_stats);
} proc_stats SEC(".maps");

/* A zeroed value to create proc_stats entries from: too big for the stack
 * next to everything else a handler holds. */
struct sb_proc_stats sb_zero_stats;

static __always_inline struct sb_task_ctx *sb_tctx(bool btf, struct task_struct *p, __u32 tid,
						   bool create)
{
	if (btf)
		return bpf_task_storage_get(&task_ctx, p, 0,
					    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	struct sb_task_ctx *c = bpf_map_lookup_elem(&task_ctx_tid, &tid);
	if (c || !create)
		return c;
	struct sb_task_ctx zero = {};
	bpf_map_update_elem(&task_ctx_tid, &tid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&task_ctx_tid, &tid);
}

/* comm as a hash key: bytes after the NUL zeroed, since older kernels
 * (strlcpy in __set_task_comm) leave the previous name's tail there. */
static __always_inline void sb_comm_key(struct sb_comm *k)
{
	bool end = false;
#pragma unroll
	for (int i = 0; i < SB_COMM_LEN; i++) {
		if (!k->s[i])
			end = true;
		if (end)
			k->s[i] = 0;
	}
}

/* Decides whether p's process is watched and remembers it in c. A process
 * is watched when its tgid is already tracked, its tgid is in the pid list,
 * or its leader's comm (the process name, whatever its threads call
 * themselves) is in the name list. Runs once per task, and again at exec.
 * Returns 1 when the process table was full. */
static __always_inline int sb_classify(bool btf, struct sb_task_ctx *c, struct task_struct *p,
				       bool at_exec)
{
	__u32 tgid = SB_READ(btf, p, tgid);
	struct sb_proc_meta *m;
	struct sb_comm comm = {};
	__u32 *idx = NULL;

	c->flags |= SB_TC_CLASSIFIED;
	c->tgid = 0;
	m = bpf_map_lookup_elem(&procs, &tgid);
	if (m && !(m->flags & SB_PROC_EXITED) && !at_exec) {
		c->tgid = tgid;
		return 0;
	}
	if (watch_pids_on)
		idx = bpf_map_lookup_elem(&watch_pids, &tgid);
	BPF_CORE_READ_INTO(&comm.s, p, group_leader, comm);
	sb_comm_key(&comm);
	if (!idx && watch_names_on)
		idx = bpf_map_lookup_elem(&watch_names, &comm);
	if (!idx) {
		/* exec gave a watched-by-name process a name we do not watch */
		if (m && at_exec)
			m->flags |= SB_PROC_EXITED;
		return 0;
	}
	if (m && !(m->flags & SB_PROC_EXITED)) {
		/* exec kept it watched: the comm label follows the new name */
		m->watch_idx = *idx;
		__builtin_memcpy(m->comm, comm.s, SB_COMM_LEN);
		c->tgid = tgid;
		return 0;
	}
	struct sb_proc_meta nm = {.watch_idx = *idx};
	__builtin_memcpy(nm.comm, comm.s, SB_COMM_LEN);
	if (bpf_map_update_elem(&procs, &tgid, &nm, BPF_ANY))
		return 1;
	if (bpf_map_update_elem(&proc_stats, &tgid, &sb_zero_stats, BPF_ANY)) {
		bpf_map_delete_elem(&procs, &tgid);
		return 1;
	}
	c->tgid = tgid;
	return 0;
}

#endif
