/* What sched.bpf.c and proc.bpf.c share: the watch list and the watched
 * processes' maps, and per-task context. Both objects declare the same maps;
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

/* Set by the user side before load. With watch_on false the verifier drops
 * every watch path: an empty watch list costs nothing per switch. */
const volatile bool watch_on = false;
/* Tasks started at or after this CLOCK_MONOTONIC time are counted from
 * their birth; older ones from when they are first seen. */
const volatile __u64 born_after_ns = 0;

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

/* The configured names (comm, NUL-padded) -> index in the watch list. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SB_WATCH_MAX);
	__type(key, struct sb_comm);
	__type(value, __u32);
} watch_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SB_WATCH_HINT_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} watch_hint SEC(".maps");

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

/* The process tgid if it is watched, else NULL. One array load for the
 * processes that are not (nearly all): the hash only on a hint. */
static __always_inline struct sb_proc_meta *sb_watched(__u32 tgid)
{
	__u32 slot = tgid & SB_WATCH_HINT_MASK;
	__u32 *hint = bpf_map_lookup_elem(&watch_hint, &slot);
	if (!hint || !*hint)
		return NULL;
	struct sb_proc_meta *m = bpf_map_lookup_elem(&procs, &tgid);
	return m && !(m->flags & SB_PROC_EXITED) ? m : NULL;
}

static __always_inline void sb_hint_add(__u32 tgid, int delta)
{
	__u32 slot = tgid & SB_WATCH_HINT_MASK;
	__u32 *hint = bpf_map_lookup_elem(&watch_hint, &slot);
	if (hint)
		__sync_fetch_and_add(hint, delta);
}

/* Starts watching process tgid. Returns 1 when the table is full. */
static __always_inline int sb_watch_add(__u32 tgid, __u32 idx, __u32 flags, const char *comm)
{
	struct sb_proc_meta m = {.watch_idx = idx, .flags = flags};
	__builtin_memcpy(m.comm, comm, SB_COMM_LEN);
	if (bpf_map_update_elem(&procs, &tgid, &m, BPF_ANY))
		return 1;
	if (bpf_map_update_elem(&proc_stats, &tgid, &sb_zero_stats, BPF_ANY)) {
		bpf_map_delete_elem(&procs, &tgid);
		return 1;
	}
	sb_hint_add(tgid, 1);
	return 0;
}

/* The process is gone (or renamed out of the watch): the user side
 * publishes it once more and deletes it. */
static __always_inline void sb_watch_end(struct sb_proc_meta *m, __u32 tgid)
{
	if (m->flags & SB_PROC_EXITED)
		return;
	m->flags |= SB_PROC_EXITED;
	sb_hint_add(tgid, -1);
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

/* A watched thread's on-CPU accounting starts: from its birth if it was
 * born while we watch, else from now. */
static __always_inline void sb_watch_start(bool btf, struct sb_task_ctx *c, struct task_struct *p,
					   __u64 now)
{
	__u64 start = SB_READ(btf, p, start_time);
	if (start >= born_after_ns) {
		c->sum_exec = 0;
		c->out_ts = start;
	} else {
		c->sum_exec = BPF_CORE_READ(p, se.sum_exec_runtime);
		c->out_ts = now;
	}
}

#endif
