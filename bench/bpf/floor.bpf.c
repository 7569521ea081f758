// SPDX-License-Identifier: GPL-2.0
/* Empty programs on the tracepoints sensorbus and runqlat use: what the
 * kernel's run-time accounting (kernel.bpf_stats_enabled) and the call into
 * a program cost by themselves, the floor under every ns/run in part 10. */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sched_switch")
int BPF_PROG(floor_switch)
{
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(floor_wakeup)
{
	return 0;
}
