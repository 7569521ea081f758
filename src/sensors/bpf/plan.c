/* The fallback decision: from what the kernel and the process offer, which
 * programs to load, in which mode, or why not at all. Pure, so every
 * combination is a unit test (tests/unit/test_bpf_plan.c). */
#include "bpf_sensor.h"

#include <stdio.h>
#include <string.h>

const char *const sb_bpf_tp_names[SB_TP_MAX] = {
    [SB_TP_SCHED_SWITCH] = "sched_switch",	   [SB_TP_SCHED_WAKEUP] = "sched_wakeup",
    [SB_TP_SCHED_WAKEUP_NEW] = "sched_wakeup_new", [SB_TP_PROCESS_EXEC] = "sched_process_exec",
    [SB_TP_PROCESS_FORK] = "sched_process_fork",   [SB_TP_PROCESS_EXIT] = "sched_process_exit",
};

static const char *const reason_names[SB_BPF_REASON_MAX] = {
    [SB_BPF_OK] = "none",
    [SB_BPF_NO_BTF] = "no_btf",
    [SB_BPF_NO_PRIVILEGE] = "no_privilege",
    [SB_BPF_NO_RINGBUF] = "no_ringbuf",
    [SB_BPF_NO_TRACEPOINT] = "no_tracepoint",
    [SB_BPF_LOAD_FAILED] = "load_failed",
};

const char *sb_bpf_reason_name(enum sb_bpf_reason r)
{
	return (unsigned)r < SB_BPF_REASON_MAX ? reason_names[r] : "unknown";
}

static void list_tps(char *out, size_t n, unsigned mask)
{
	size_t l = 0;
	out[0] = 0;
	for (int i = 0; i < SB_TP_MAX && l < n; i++)
		if (mask & SB_TP_BIT(i))
			l += (size_t)snprintf(out + l, n - l, "%s%s", l ? ", " : "",
					      sb_bpf_tp_names[i]);
}

static void plan_tracepoints(const struct sb_bpf_probe *p, struct sb_bpf_plan *out);

void sb_bpf_plan(const struct sb_bpf_probe *p, struct sb_bpf_plan *out)
{
	memset(out, 0, sizeof(*out));
	plan_tracepoints(p, out);
	if (out->reason == SB_BPF_NO_BTF || out->reason == SB_BPF_NO_PRIVILEGE)
		snprintf(out->iter_why, sizeof(out->iter_why), "%s", out->why);
	else if (!p->iter_task)
		snprintf(out->iter_why, sizeof(out->iter_why),
			 "the kernel has no BPF task iterator (needs Linux 5.8 or later)");
	else
		out->iter = true;
	out->iter_walk = out->iter && p->iter_walk;
}

static void plan_tracepoints(const struct sb_bpf_probe *p, struct sb_bpf_plan *out)
{
	out->kernel_capable = p->btf && p->ringbuf;

	if (!p->btf) {
		out->reason = SB_BPF_NO_BTF;
		snprintf(out->why, sizeof(out->why),
			 "the kernel has no BTF "
			 "(/sys/kernel/btf/vmlinux; CONFIG_DEBUG_INFO_BTF=y)");
		return;
	}
	/* CAP_BPF loads programs and maps; tracing programs also need
	 * CAP_PERFMON. Before Linux 5.8 only CAP_SYS_ADMIN does both. */
	if (!p->cap_sys_admin && !(p->cap_bpf && p->cap_perfmon)) {
		out->reason = SB_BPF_NO_PRIVILEGE;
		snprintf(out->why, sizeof(out->why),
			 "no privilege to load BPF programs: need CAP_BPF and CAP_PERFMON, or root "
			 "(missing:%s%s)",
			 p->cap_bpf ? "" : " CAP_BPF", p->cap_perfmon ? "" : " CAP_PERFMON");
		return;
	}
	if (!p->ringbuf) {
		out->reason = SB_BPF_NO_RINGBUF;
		snprintf(out->why, sizeof(out->why),
			 "the kernel has no BPF ring buffer (needs Linux 5.8 or later)");
		return;
	}

	/* With sched_info the kernel times run-queue waits itself: no wakeup
	 * hook is needed, and each one would cost a clock read per wakeup. */
	out->latency_wakeup = !p->sched_info || p->force_wakeup;
	out->want = SB_TP_ALL;
	if (!out->latency_wakeup)
		out->want &= ~(SB_TP_BIT(SB_TP_SCHED_WAKEUP) | SB_TP_BIT(SB_TP_SCHED_WAKEUP_NEW));

	unsigned avail = (p->tp_exists | p->tp_btf) & out->want;
	switch (p->force) {
	case SB_ATTACH_TP_BTF:
		out->btf_mode = true;
		break;
	case SB_ATTACH_RAW_TP:
		out->btf_mode = false;
		break;
	case SB_ATTACH_AUTO:
		/* One mode for all programs, since they share the per-task
		 * context: tp_btf only when every tracepoint there is has its BTF
		 * type, and task storage exists to keep the context in. */
		out->btf_mode = p->task_storage && (p->tp_btf & avail) && (avail & ~p->tp_btf) == 0;
		break;
	}
	out->load = out->btf_mode ? p->tp_btf & out->want : avail;
	list_tps(out->missing, sizeof(out->missing), out->want & ~out->load);
	if (!out->load) {
		out->reason = SB_BPF_NO_TRACEPOINT;
		snprintf(out->why, sizeof(out->why), "no usable scheduler tracepoint (%s%s)",
			 out->missing, out->btf_mode ? ": none has a BTF type for tp_btf" : "");
	}
}
