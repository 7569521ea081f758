/* The BPF sensor: loads the BPF objects of the table (objects.h; today
 * bpf/sched.bpf.c and bpf/proc.bpf.c, embedded as skeletons), reads their
 * in-kernel aggregates each interval into samples, and turns ring-buffer
 * records into exec/exit/fork events as they come (the ring buffer's fd is
 * in the collection loop).
 *
 * Whether it runs at all is decided once at start (plan.c) and said in one
 * line; each program then attaches on its own, and a program that cannot
 * only takes its own metrics away. Loading happens in a short-lived child
 * (loader.c); the agent only reads maps (metrics.c) and the ring buffers
 * (ring.c). */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sensor.h"

/* ---- libbpf's messages into our log ---- */

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's debug output is hundreds of lines per load: trace, so that
	 * debug stays the agent's own */
	enum sb_log_level l = level == LIBBPF_WARN   ? SB_LOG_WARN
			      : level == LIBBPF_INFO ? SB_LOG_INFO
						     : SB_LOG_TRACE;
	if (l > sb_log_get_level())
		return 0;
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		return 0;
	/* One line per log line: a verifier log arrives as one message of
	 * hundreds of lines; past a screenful only --log-level debug shows it. */
	bool all = sb_log_get_level() >= SB_LOG_DEBUG;
	int n = 0;
	for (char *save = NULL, *line = strtok_r(msg, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "libbpf: ", 8))
			line += 8;
		if (!*line)
			continue;
		if (++n == 40 && !all)
			sb_log(l, "libbpf", "... (%s)", "the rest with --log-level debug");
		if (n >= 40 && !all)
			continue;
		sb_log(l, "libbpf", "%s", line);
	}
	free(msg);
	return 0;
}

static struct bpf_state *state_new(struct sb_sensor *s)
{
	struct bpf_state *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->s = s;
	st->kinds = SB_BPF_KIND_BIT(SB_BPF_KIND_TRACEPOINTS);
	st->rb_fd = -1;
	for (int i = 0; i < SB_FD_MAX; i++)
		st->fd[i] = -1;
	return st;
}

/* Says once why there is no BPF; the sensor stays, in fallback mode,
 * publishing only its status (the caller frees its loading state). */
static int decline(struct sb_sensor *s, const struct sb_bpf_cfg *c, const struct sb_bpf_plan *plan,
		   enum sb_bpf_reason reason, const char *why)
{
	sb_log(c->enabled == SB_BPF_ENABLED_TRUE ? SB_LOG_ERROR : SB_LOG_WARN, COMP,
	       "BPF unavailable, running procfs-only: %s", why);
	struct bpf_state *fb = state_new(s);
	if (!fb)
		return -ENOMEM;
	fb->plan = *plan;
	fb->fallback = reason;
	s->state = fb;
	return 0;
}

/* ---- teardown ---- */

/* The agent holds the only references to the links: closing them
 * detaches the programs. */
static void detach_all(struct bpf_state *st)
{
	for (int i = SB_FD_LINK(0); i < SB_FD_MAX; i++) {
		if (st->fd[i] >= 0)
			close(st->fd[i]);
		st->fd[i] = -1;
	}
}

static void state_free(struct bpf_state *st)
{
	if (!st)
		return;
	detach_all(st);
	sb_bpf_ring_close(st);
	for (int i = 0; i < SB_FD_LINK(0); i++)
		if (st->fd[i] >= 0)
			close(st->fd[i]);
	free(st->pcpu);
	free(st);
}

/* ---- sensor ops ---- */

static int bpf_init(struct sb_sensor *s)
{
	const struct sb_bpf_cfg *c = s->cfg;
	if (c->enabled == SB_BPF_ENABLED_FALSE) {
		sb_info(COMP, "disabled by config (sensors.bpf.enabled = false): procfs-only");
		return 1;
	}
	struct bpf_state *st = state_new(s);
	if (!st)
		return -ENOMEM;
	sb_bpf_watch_parse(st, c);
	st->latency = c->event_latency;
	libbpf_set_print(libbpf_log);
	st->ncpus = libbpf_num_possible_cpus();
	if (st->ncpus <= 0) {
		sb_err(COMP, "cannot count the possible CPUs: %s", strerror(-st->ncpus));
		state_free(st);
		return -EIO;
	}

	struct sb_bpf_loaded rep;
	char why[160];
	int r = sb_bpf_run_loader(st, &rep, why, sizeof(why));
	if (r) {
		struct sb_bpf_plan failed = {.reason = SB_BPF_LOAD_FAILED};
		r = decline(s, c, &failed, SB_BPF_LOAD_FAILED, why);
		state_free(st);
		return r;
	}
	st->plan = rep.plan;
	if (st->plan.reason != SB_BPF_OK) {
		r = decline(s, c, &st->plan, st->plan.reason, st->plan.why);
		state_free(st);
		return r;
	}
	st->attached = rep.attached;
	r = rep.err;
	if (!r && st->attached)
		r = sb_bpf_ring_open(st);
	if (r) {
		state_free(st);
		return r;
	}
	if (!st->attached) {
		r = decline(s, c, &st->plan, SB_BPF_LOAD_FAILED,
			    "no BPF program could be loaded and attached (see the lines above)");
		state_free(st);
		return r;
	}
	/* What is not attached was said line by line above (or here, when the
	 * kernel lacks the tracepoint). */
	unsigned missing = st->plan.want & ~st->plan.load;
	for (int tp = 0; tp < SB_TP_MAX; tp++)
		if (missing & SB_TP_BIT(tp))
			sb_warn(COMP, "%s: no such tracepoint %s; its metrics are disabled",
				sb_bpf_tp_names[tp],
				st->plan.btf_mode ? "type in the kernel's BTF" : "in this kernel");
	char w[256];
	sb_bpf_watch_describe(st, w, sizeof(w));
	sb_info(COMP, "%d of %d programs attached (%s; run-queue latency from %s); watching: %s",
		__builtin_popcount(st->attached), __builtin_popcount(st->plan.want),
		st->plan.btf_mode ? "tp_btf" : "raw_tp",
		st->plan.latency_wakeup ? "wakeups" : "sched_info", st->nwatch ? w : "nothing");
	st->mono_to_real = sb_now_real_ns() - sb_now_mono_ns();
	s->state = st;
	return 0;
}

static void bpf_collect(struct sb_sensor *s)
{
	struct bpf_state *st = s->state;
	struct sb_evb *b = &s->evb;
	st->mono_to_real = sb_now_real_ns() - sb_now_mono_ns();
	st->next_collect = sb_now_mono_ns() + s->interval;
	/* exec/exit events first: normally already taken on readiness, this
	 * matters for --once */
	if (st->fallback != SB_BPF_OK) {
		sb_evb_begin(b, "bpf", "metrics");
		sb_bpf_status_samples(b, SB_TP_ALL, 0, st->plan.kernel_capable, st->fallback);
		sb_sensor_publish_evb(s);
		sb_sensor_round_done(s);
		return;
	}
	sb_bpf_ring_drain(st);
	sb_evb_begin(b, "bpf", "metrics");
	sb_bpf_status_samples(b, st->plan.want, st->attached, st->plan.kernel_capable, SB_BPF_OK);
	sb_bpf_map_samples(st, b);
	sb_sensor_publish_evb(s);
	sb_sensor_round_done(s);
}

static void bpf_destroy(struct sb_sensor *s)
{
	struct bpf_state *st = s->state;
	if (!st)
		return;
	/* Stop producing, then take what is still in the ring: a process that
	 * exited just before shutdown still gets its exit event. */
	detach_all(st);
	sb_bpf_ring_drain(st);
	state_free(st);
	s->state = NULL;
	libbpf_set_print(NULL);
}

const struct sb_sensor_ops sb_sensor_bpf = {
    .name = "bpf",
    .desc = "scheduler and process lifecycle metrics and exec/exit events from eBPF "
	    "(procfs-only fallback where BPF is unavailable)",
    .keys = sb_bpf_cfg_keys,
    .cfg_size = sizeof(struct sb_bpf_cfg),
    .validate = sb_bpf_cfg_validate,
    .init = bpf_init,
    .collect = bpf_collect,
    .destroy = bpf_destroy,
};
