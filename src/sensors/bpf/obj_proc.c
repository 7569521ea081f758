/* bpf/proc.bpf.c's row: exec, exit and fork records over its ring buffer
 * (ring.c), and forks and lost records counted per CPU. */
#include <bpf/libbpf.h>
#include <stddef.h>

#include "sensor.h"

/* after sensor.h: the skeleton uses the types of sb_bpf.h */
#include "proc.skel.h"

static void *proc_open(const struct sb_bpf_open_opts *o, struct bpf_object **obj)
{
	struct proc_bpf *skel = proc_bpf__open();
	if (!skel)
		return NULL;
	skel->rodata->watch_on = o->watch;
	skel->rodata->born_after_ns = o->born_after_ns;
	skel->rodata->wakeup_ns = o->event_latency_ns;
	*obj = skel->obj;
	return skel;
}

static void proc_destroy(void *skel) { proc_bpf__destroy(skel); }

enum { MAP_PROC_CPU, MAP_EVENTS, MAP_GLOBALS };

static void proc_samples(struct bpf_state *st, const int *fd, struct sb_evb *b)
{
	uint32_t zero = 0;
	const struct sb_proc_cpu *v =
	    sb_bpf_read_percpu(st, fd[MAP_PROC_CPU], "proc_cpu", &zero, sizeof(*v));
	if (!v)
		return;
	uint64_t forks = 0, lost = 0, full = 0;
	for (int cpu = 0; cpu < st->ncpus; cpu++) {
		forks += v[cpu].forks;
		lost += v[cpu].lost;
		full += v[cpu].watch_full;
	}
	if (full > st->watch_full_seen) {
		sb_log_rl(&st->rl_full, SB_LOG_WARN, COMP,
			  "watch: more than %d matching processes; %llu not followed",
			  SB_WATCH_MAX_PROCS, (unsigned long long)full);
		st->watch_full_seen = full;
	}
	if (st->attached & SB_TP_BIT(SB_TP_PROCESS_FORK)) {
		sb_evb_sample(b, "sensorbus_forks_total", SB_COUNTER, (double)forks);
		sb_evb_help(b, "Processes and threads created (sched_process_fork)");
	}
	sb_evb_sample(b, "sensorbus_bpf_ringbuf_lost_total", SB_COUNTER, (double)lost);
	sb_evb_help(b, "exec/exit/fork records dropped because the BPF ring buffer was full");
	if (lost > st->lost_seen) {
		sb_log_rl(&st->rl_lost, SB_LOG_WARN, COMP,
			  "ring buffer full: %llu exec/exit records lost so far",
			  (unsigned long long)lost);
		st->lost_seen = lost;
	}
}

static const struct sb_bpf_ring proc_ring = {
    .map = MAP_EVENTS,
    .globals = MAP_GLOBALS,
    .globals_len = sizeof(struct proc_bpf__bss),
    .wakeup_off = offsetof(struct proc_bpf__bss, last_wakeup_ns),
};

const struct sb_bpf_obj sb_bpf_obj_proc = {
    .name = "proc",
    .tps = SB_TP_PROC_MASK,
    .open = proc_open,
    .destroy = proc_destroy,
    .maps = {[MAP_PROC_CPU] = "proc_cpu", [MAP_EVENTS] = "events", [MAP_GLOBALS] = ".bss"},
    .ring = &proc_ring,
    .collect = proc_samples,
};
