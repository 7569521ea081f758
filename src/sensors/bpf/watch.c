/* The watch list: processes followed one by one. Parsed at start; in the
 * loader child, put into the kernel's tables (names for exec to match, and
 * the processes already running) before the programs attach; each interval,
 * the watched processes' samples. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_procsel.h"
#include "sensor.h"

void sb_bpf_watch_parse(struct bpf_state *st, const struct sb_bpf_cfg *c)
{
	for (size_t i = 0; i < c->watch.n && i < SB_WATCH_MAX; i++) {
		const char *w = c->watch.v[i];
		uint64_t pid;
		struct watch_entry *e = &st->watch[st->nwatch++];
		if (sb_parse_u64(w, &pid) == 0) {
			e->pid = (uint32_t)pid;
			continue;
		}
		e->name = w;
		if (strlen(w) >= SB_COMM_LEN)
			sb_warn(COMP,
				"watch: '%s' is longer than a comm (15 characters): matching "
				"'%.15s'",
				w, w);
	}
}

/* Puts one already running process in the watched tables, as the kernel
 * side does at exec or fork for the ones that start later. */
static int watch_add(struct bpf_state *st, struct bpf_object *obj, uint32_t tgid, uint32_t idx,
		     uint32_t flags, const char *comm)
{
	struct bpf_map *procs = bpf_object__find_map_by_name(obj, "procs");
	struct bpf_map *stats = bpf_object__find_map_by_name(obj, "proc_stats");
	struct bpf_map *hint = bpf_object__find_map_by_name(obj, "watch_hint");
	struct sb_proc_meta m = {.watch_idx = idx, .flags = flags};
	memcpy(m.comm, comm, strnlen(comm, SB_COMM_LEN - 1));
	size_t zlen = sizeof(struct sb_proc_stats) * (size_t)st->ncpus;
	void *zero = calloc(1, zlen);
	uint32_t slot = tgid & SB_WATCH_HINT_MASK, n = 0;
	int r = -ENOMEM;
	if (!zero)
		goto out;
	r = bpf_map__update_elem(procs, &tgid, sizeof(tgid), &m, sizeof(m), BPF_NOEXIST);
	if (r == -EEXIST) { /* a name and a pid both match it: the first wins */
		r = 0;
		goto out;
	}
	if (r == -E2BIG) {
		sb_log_rl(&st->rl_full, SB_LOG_WARN, COMP,
			  "watch: more than %d matching processes; pid %u (%s) and later ones "
			  "not followed",
			  SB_WATCH_MAX_PROCS, tgid, comm);
		r = 0;
		goto out;
	}
	if (r)
		goto out;
	r = bpf_map__update_elem(stats, &tgid, sizeof(tgid), zero, zlen, BPF_ANY);
	if (r)
		goto out;
	r = bpf_map__lookup_elem(hint, &slot, sizeof(slot), &n, sizeof(n), 0);
	n++;
	if (!r)
		r = bpf_map__update_elem(hint, &slot, sizeof(slot), &n, sizeof(n), BPF_ANY);
out:
	free(zero);
	return r;
}

/* The watch list into the kernel: the names for exec to match, and every
 * process already running that matches a name or a pid. Before attach, so
 * the kernel side's own additions cannot race these. */
int sb_bpf_watch_seed(struct bpf_state *st, struct bpf_object *obj)
{
	struct bpf_map *names = bpf_object__find_map_by_name(obj, "watch_names");
	int r = 0;
	for (size_t i = 0; i < st->nwatch && !r; i++) {
		if (!st->watch[i].name)
			continue;
		char key[SB_COMM_LEN] = {0};
		uint32_t idx = (uint32_t)i;
		strncpy(key, st->watch[i].name, SB_COMM_LEN - 1);
		r = bpf_map__update_elem(names, key, sizeof(key), &idx, sizeof(idx), BPF_ANY);
	}
	/* the processes already running, by the rule the proc sensor has
	 * (sb_procsel.h): comm, else argv[0]; those started later the kernel
	 * side finds at exec, by comm */
	const char *wnames[SB_WATCH_MAX];
	uint32_t idx[SB_WATCH_MAX];
	size_t nnames = 0;
	for (size_t i = 0; i < st->nwatch; i++)
		if (st->watch[i].name) {
			wnames[nnames] = st->watch[i].name;
			idx[nnames++] = (uint32_t)i;
		}
	DIR *d = r ? NULL : opendir("/proc");
	if (!r && !d)
		r = -errno;
	for (struct dirent *de; d && !r && (de = readdir(d));) {
		uint64_t pid;
		char path[64], comm[SB_COMM_LEN + 1] = "";
		if (sb_parse_u64(de->d_name, &pid) || pid > UINT32_MAX)
			continue;
		snprintf(path, sizeof(path), "/proc/%u/comm", (unsigned)pid);
		FILE *f = fopen(path, "r");
		if (!f)
			continue; /* gone meanwhile */
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		comm[strcspn(comm, "\n")] = 0;
		bool by_pid = false;
		for (size_t i = 0; i < st->nwatch && !r && !by_pid; i++)
			if (!st->watch[i].name && st->watch[i].pid == pid) {
				r = watch_add(st, obj, (uint32_t)pid, (uint32_t)i, 0, comm);
				by_pid = true;
			}
		int m = by_pid || r || !nnames ? -1
					       : sb_procsel_match(wnames, nnames, comm, dirfd(d),
								  (uint32_t)pid, false);
		if (m >= 0)
			r = watch_add(st, obj, (uint32_t)pid, idx[m], SB_PROC_BY_NAME, comm);
	}
	if (d)
		closedir(d);
	if (r)
		sb_err(COMP, "cannot fill the watch list: %s", strerror(-r));
	return r;
}

struct proc_sample {
	const char *name;
	const char *help;
	double scale;
	size_t off;
};

/* Voluntary and involuntary switches are not here: one quantity has one
 * name, process_{voluntary,involuntary}_context_switches_total, which the
 * proc sensor publishes for every thread of the process (procmetrics.c). */
static const struct proc_sample proc_counters[] = {
    {"sensorbus_process_oncpu_seconds_total", "Time the process's threads ran on a CPU", 1e-9,
     offsetof(struct sb_proc_stats, oncpu_ns)},
    {"sensorbus_process_offcpu_seconds_total",
     "Time the process's threads were switched out (asleep or waiting for a CPU)", 1e-9,
     offsetof(struct sb_proc_stats, offcpu_ns)},
    {"sensorbus_process_runqueue_wait_seconds_total",
     "Time the process's threads waited in a run queue", 1e-9,
     offsetof(struct sb_proc_stats, rq_sum_ns)},
    {"sensorbus_process_forks_total", "Processes and threads the process created", 1,
     offsetof(struct sb_proc_stats, forks)},
};

static void proc_labels(struct bpf_state *st, struct sb_evb *b, const char *pid,
			const struct sb_proc_meta *m)
{
	sb_evb_labeln(b, "comm", 4, m->comm, strnlen(m->comm, SB_COMM_LEN));
	if (m->watch_idx < st->nwatch && st->watch[m->watch_idx].name)
		sb_evb_label(b, "name", st->watch[m->watch_idx].name);
	sb_evb_label(b, "pid", pid);
}

void sb_bpf_watched_samples(struct bpf_state *st, struct sb_evb *b)
{
	int procs = st->fd[SB_FD_COMMON(SB_COMMON_PROCS)];
	int stats = st->fd[SB_FD_COMMON(SB_COMMON_PROC_STATS)];
	uint32_t keys[SB_WATCH_MAX_PROCS], gone[SB_WATCH_MAX_PROCS];
	size_t n = 0, ngone = 0;
	uint32_t key, *prev = NULL;
	while (n < SB_WATCH_MAX_PROCS && bpf_map_get_next_key(procs, prev, &key) == 0) {
		keys[n] = key;
		prev = &keys[n++];
	}
	for (size_t i = 0; i < n; i++) {
		struct sb_proc_meta m;
		if (bpf_map_lookup_elem(procs, &keys[i], &m))
			continue;
		const struct sb_proc_stats *v =
		    sb_bpf_read_percpu(st, stats, "proc_stats", &keys[i], sizeof(*v));
		if (!v)
			continue;
		struct sb_proc_stats sum = {0};
		for (int cpu = 0; cpu < st->ncpus; cpu++) {
			const uint64_t *src = (const uint64_t *)&v[cpu];
			uint64_t *dst = (uint64_t *)&sum;
			for (size_t w = 0; w < sizeof(sum) / sizeof(uint64_t); w++)
				dst[w] += src[w];
		}
		char pid[16];
		snprintf(pid, sizeof(pid), "%u", keys[i]);
		for (size_t c = 0; c < SB_ARRAY_SIZE(proc_counters); c++) {
			const struct proc_sample *ps = &proc_counters[c];
			uint64_t raw;
			memcpy(&raw, (const char *)&sum + ps->off, sizeof(raw));
			sb_evb_sample(b, ps->name, SB_COUNTER, (double)raw * ps->scale);
			sb_evb_help(b, ps->help);
			proc_labels(st, b, pid, &m);
		}
		sb_evb_sample(b, "sensorbus_sched_runqueue_latency_seconds", SB_HISTOGRAM, 0);
		proc_labels(st, b, pid, &m);
		sb_bpf_hist(b, sum.rq_hist, SB_HIST_SLOTS, SB_HIST_FIRST_LE_LOG2, sum.rq_sum_ns);
		if (m.flags & SB_PROC_EXITED)
			gone[ngone++] = keys[i];
	}
	/* Published one last time above; now forget them. */
	for (size_t i = 0; i < ngone; i++) {
		bpf_map_delete_elem(stats, &gone[i]);
		bpf_map_delete_elem(procs, &gone[i]);
	}
}

void sb_bpf_watch_describe(const struct bpf_state *st, char *out, size_t n)
{
	size_t l = 0;
	out[0] = 0;
	for (size_t i = 0; i < st->nwatch && l < n; i++) {
		if (st->watch[i].name)
			l += (size_t)snprintf(out + l, n - l, "%s%s", i ? ", " : "",
					      st->watch[i].name);
		else
			l += (size_t)snprintf(out + l, n - l, "%spid %u", i ? ", " : "",
					      st->watch[i].pid);
	}
}
