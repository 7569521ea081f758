/* bpf/sched.bpf.c's row: context switches per CPU and the system-wide
 * run-queue latency histogram, from an array with an entry per CPU. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>

#include "sensor.h"

/* after sensor.h: the skeleton uses the types of sb_bpf.h */
#include "sched.skel.h"

static void *sched_open(const struct sb_bpf_open_opts *o, struct bpf_object **obj)
{
	struct sched_bpf *skel = sched_bpf__open();
	if (!skel)
		return NULL;
	skel->rodata->watch_on = o->watch;
	skel->rodata->born_after_ns = o->born_after_ns;
	skel->rodata->latency_wakeup = o->latency_wakeup;
	bpf_map__set_max_entries(skel->maps.sched_cpu, (__u32)o->ncpus);
	*obj = skel->obj;
	return skel;
}

static void sched_destroy(void *skel) { sched_bpf__destroy(skel); }

enum { MAP_SCHED_CPU };

/* sched_cpu: an array with an entry per CPU, read like a per-CPU value. */
static const struct sb_sched_cpu *read_sched_cpu(struct bpf_state *st, int fd)
{
	struct sb_sched_cpu *v = sb_bpf_pcpu_buf(st, sizeof(*v));
	if (!v)
		return NULL;
	for (uint32_t cpu = 0; cpu < (uint32_t)st->ncpus; cpu++) {
		int r = bpf_map_lookup_elem(fd, &cpu, &v[cpu]);
		if (r) {
			st->s->errors++;
			sb_log_rl(&st->rl_read, SB_LOG_WARN, COMP, "cannot read map sched_cpu: %s",
				  strerror(-r));
			return NULL;
		}
	}
	return v;
}

static void sched_samples(struct bpf_state *st, const int *fd, struct sb_evb *b)
{
	const struct sb_sched_cpu *v = read_sched_cpu(st, fd[MAP_SCHED_CPU]);
	if (!v)
		return;
	__u64 hist[SB_HIST_SLOTS] = {0};
	uint64_t sum = 0;
	for (int cpu = 0; cpu < st->ncpus; cpu++) {
		for (int k = 0; k < SB_HIST_SLOTS; k++)
			hist[k] += v[cpu].rq_hist[k];
		sum += v[cpu].rq_sum_ns;
		/* a CPU that never switched is offline or not there */
		if (!v[cpu].switches || !(st->attached & SB_TP_BIT(SB_TP_SCHED_SWITCH)))
			continue;
		char c[16];
		snprintf(c, sizeof(c), "%d", cpu);
		sb_evb_sample(b, "sensorbus_sched_context_switches_total", SB_COUNTER,
			      (double)v[cpu].switches);
		sb_evb_help(b, "Context switches, from the sched_switch tracepoint");
		sb_evb_label(b, "cpu", c);
	}
	if (st->attached & SB_TP_BIT(SB_TP_SCHED_SWITCH)) {
		sb_evb_sample(b, "sensorbus_sched_runqueue_latency_seconds", SB_HISTOGRAM, 0);
		sb_evb_help(b, "Time runnable tasks waited in a run queue for a CPU");
		sb_bpf_hist(b, hist, SB_HIST_SLOTS, SB_HIST_FIRST_LE_LOG2, sum);
	}
}

const struct sb_bpf_obj sb_bpf_obj_sched = {
    .name = "sched",
    .tps = SB_TP_SCHED_MASK,
    .open = sched_open,
    .destroy = sched_destroy,
    .maps = {[MAP_SCHED_CPU] = "sched_cpu"},
    .collect = sched_samples,
};
