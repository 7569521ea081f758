/* /proc/stat: node_exporter's cpu collector (per-CPU mode seconds, guest
 * seconds) and stat collector (interrupts, context switches, forks, boot
 * time, running and blocked processes). The file is read once a round and
 * parsed by each collector that needs it (sb_proc_stat_parse). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

#define NCPU_FIELDS 10
#define MAX_CPU_ID 65535 /* bounds the per-CPU state a garbage id could grow */

struct sb_proc_cpu_prev {
	double v[NCPU_FIELDS];
	uint64_t round; /* last round the CPU was seen; 0: never */
};

static const char *const cpu_modes[8] = {"user",   "nice", "system",  "idle",
					 "iowait", "irq",  "softirq", "steal"};
enum { F_USER, F_NICE, F_SYSTEM, F_IDLE, F_IOWAIT, F_IRQ, F_SOFTIRQ, F_STEAL, F_GUEST, F_GNICE };

void sb_proc_cpus_free(struct sb_proc_cpus *c)
{
	if (!c)
		return;
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static struct sb_proc_cpu_prev *cpu_slot(struct sb_proc_cpus *c, unsigned id)
{
	if (id >= c->cap) {
		size_t cap = c->cap ? c->cap : 8;
		while (cap <= id)
			cap *= 2;
		struct sb_proc_cpu_prev *v = realloc(c->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		memset(v + c->cap, 0, (cap - c->cap) * sizeof(*v));
		c->v = v;
		c->cap = cap;
	}
	return &c->v[id];
}

/* node_exporter's updateCPUStats: counters only move forward; an idle
 * drop of 3 s or more means the CPU was unplugged and came back. */
static void cpu_monotonic(struct sb_proc_cpu_prev *prev, double *n, uint64_t round)
{
	if (prev->round && prev->round + 1 != round)
		prev->round = 0; /* missed a round (offline): start afresh */
	if (!prev->round || prev->v[F_IDLE] - n[F_IDLE] >= 3.0)
		memset(prev->v, 0, sizeof(prev->v));
	for (int i = 0; i < NCPU_FIELDS; i++) {
		if (n[i] >= prev->v[i])
			prev->v[i] = n[i];
		n[i] = prev->v[i];
	}
	prev->round = round;
}

static void emit_cpu(struct sb_evb *b, unsigned id, const double *v)
{
	char cpu[16];
	int n = snprintf(cpu, sizeof(cpu), "%u", id);
	for (int m = 0; m < 8; m++) {
		sb_evb_sample(b, "node_cpu_seconds_total", SB_COUNTER, v[m]);
		sb_evb_help(b, "Seconds the CPUs spent in each mode.");
		sb_evb_labeln(b, "cpu", 3, cpu, (size_t)n);
		sb_evb_label(b, "mode", cpu_modes[m]);
	}
	/* Guest time is also inside user and nice: exposed apart. */
	for (int m = 0; m < 2; m++) {
		sb_evb_sample(b, "node_cpu_guest_seconds_total", SB_COUNTER, v[F_GUEST + m]);
		sb_evb_help(b, "Seconds the CPUs spent in guests (VMs) for each mode.");
		sb_evb_labeln(b, "cpu", 3, cpu, (size_t)n);
		sb_evb_label(b, "mode", m ? "nice" : "user");
	}
}

static int parse_cpu(const char *p, unsigned lineno, struct sb_evb *b,
		     const struct sb_proc_env *env, struct sb_proc_cpus *cpus,
		     struct sb_proc_stat_info *info, struct sb_proc_perr *e)
{
	/* p is past "cpu" */
	if (*p == ' ' || *p == '\t')
		return 0; /* the all-CPU line: node_exporter reports per CPU only */
	uint64_t id;
	if (!sb_pp_u64(&p, &id) || id > MAX_CPU_ID) {
		sb_proc_bad(e, lineno, "bad CPU id");
		return 0;
	}
	double v[NCPU_FIELDS];
	for (int i = 0; i < NCPU_FIELDS; i++) {
		uint64_t t;
		if (!sb_pp_u64(&p, &t)) {
			sb_proc_bad(e, lineno, "cpu%u: expected %d tick counts", (unsigned)id,
				    NCPU_FIELDS);
			return 0;
		}
		v[i] = (double)t / env->user_hz;
	}
	info->ncpus++;
	struct sb_proc_cpu_prev *prev = cpus ? cpu_slot(cpus, (unsigned)id) : NULL;
	if (cpus && !prev)
		return -ENOMEM;
	if (prev) {
		if (prev->round == cpus->round) {
			sb_proc_bad(e, lineno, "cpu%u listed twice", (unsigned)id);
			return 0;
		}
		cpu_monotonic(prev, v, cpus->round);
	}
	emit_cpu(b, (unsigned)id, v);
	return 10;
}

static const struct {
	const char *key;
	const char *name;
	const char *help;
	enum sb_mtype type;
} stat_lines[] = {
    {"intr", "node_intr_total", "Total number of interrupts serviced.", SB_COUNTER},
    {"ctxt", "node_context_switches_total", "Total number of context switches.", SB_COUNTER},
    {"btime", "node_boot_time_seconds", "Node boot time, in unixtime.", SB_GAUGE},
    {"processes", "node_forks_total", "Total number of forks.", SB_COUNTER},
    {"procs_running", "node_procs_running", "Number of processes in runnable state.", SB_GAUGE},
    {"procs_blocked", "node_procs_blocked",
     "Number of processes blocked waiting for I/O to complete.", SB_GAUGE},
};

int sb_proc_parse_stat(const char *text, struct sb_evb *b, const struct sb_proc_env *env,
		       struct sb_proc_cpus *cpus, unsigned what, struct sb_proc_stat_info *info,
		       struct sb_proc_perr *e)
{
	int n = 0;
	unsigned lineno = 0, found = 0;
	memset(info, 0, sizeof(*info));
	if (cpus)
		cpus->round++;
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		if (!strncmp(p, "cpu", 3)) {
			if (!(what & SB_PROC_STAT_CPU))
				continue;
			int r = parse_cpu(p + 3, lineno, b, env, cpus, info, e);
			if (r < 0)
				return r;
			n += r;
			continue;
		}
		const char *w;
		const char *q = p;
		size_t wl = sb_pp_word(&q, &w);
		for (size_t i = 0; i < SB_ARRAY_SIZE(stat_lines); i++) {
			if (strlen(stat_lines[i].key) != wl || memcmp(w, stat_lines[i].key, wl))
				continue;
			if (found & (1u << i)) {
				sb_proc_bad(e, lineno, "%s listed twice", stat_lines[i].key);
				break;
			}
			found |= 1u << i;
			uint64_t v;
			/* intr: the total comes first; per-IRQ counts follow */
			if (!sb_pp_u64(&q, &v) || (i != 0 && !sb_pp_at_eol(q))) {
				sb_proc_bad(e, lineno, "%s: expected a number", stat_lines[i].key);
				break;
			}
			if (i == 2) {
				info->have_btime = true;
				info->btime = (double)v;
			}
			if (what & SB_PROC_STAT_SYS) {
				sb_evb_sample(b, stat_lines[i].name, stat_lines[i].type, (double)v);
				sb_evb_help(b, stat_lines[i].help);
				n++;
			}
			break;
		}
	}
	if (what & SB_PROC_STAT_SYS) {
		for (size_t i = 0; i < SB_ARRAY_SIZE(stat_lines); i++)
			if (!(found & (1u << i)))
				sb_proc_bad(e, 0, "no %s line", stat_lines[i].key);
	}
	if ((what & SB_PROC_STAT_CPU) && !info->ncpus)
		sb_proc_bad(e, 0, "no cpuN lines");
	return n;
}

int sb_proc_stat_parse(struct proc_state *st, struct sb_procfile *f, struct sb_evb *b,
		       unsigned what, struct sb_proc_cpus *cpus)
{
	/* read once a round, whoever asks first; parsed by each that asks, as
	 * node_exporter's cpu and stat collectors each read it */
	const char *text = sb_proc_read(st, f, false);
	if (!text)
		return sb_proc_read_err(f, false);
	struct sb_proc_stat_info info;
	struct sb_proc_perr e = {0};
	int n = sb_proc_parse_stat(text, b, &st->env, cpus, what, &info, &e);
	int r = sb_proc_report(st, f, &e);
	st->stat_round = st->round;
	if (info.ncpus)
		st->statinfo.ncpus = info.ncpus;
	if (info.have_btime) {
		st->statinfo.have_btime = true;
		st->statinfo.btime = info.btime;
	}
	return n < 0 ? n : r;
}

/* ---- the collector ---- */

static int stat_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	return sb_proc_stat_parse(st, c->f[0], b, SB_PROC_STAT_SYS, NULL);
}

const struct sb_proc_collector sb_proc_collector_stat = {
    .name = "stat",
    .default_on = true,
    .files = (const struct sb_proc_src[]){{"stat", .single = true}, {NULL}},
    .collect = stat_collect,
};
