/* The algod process itself, found from the data directory: algod writes
 * its pid to algod.pid, so no `ps`, `pidof` or systemctl is needed, and
 * another node's algod on the same host is never mistaken for this one.
 * Its files are read with the proc sensor's helpers (procfile.h, the
 * /proc/<pid>/stat parser) under the configured procfs root. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "algod.h"
#include "proc/proc.h"
#include "sb_fsafe.h"
#include "sb_log.h"
#include "sb_util.h"

#define COMP "sensor:algod"

/* Reads procfs_root/rel once into out's buffer. optional: a file that is
 * not there (the process ended) is not logged. */
static ssize_t read_proc(const char *root, const char *rel, bool optional, struct sb_procfile *f)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	int r = sb_procfile_init(f, path, 1 << 20, false);
	if (r)
		return r;
	f->single = true;
	return sb_procfile_read(f, COMP, optional);
}

/* "key:  N kB" of a key/value file such as meminfo, in bytes. */
static bool kv_kb(const char *text, const char *key, double *v)
{
	size_t kl = strlen(key);
	for (const char *p = text; *p; p = sb_pp_next(p)) {
		if (strncmp(p, key, kl))
			continue;
		const char *q = p + kl;
		uint64_t n;
		if (!sb_pp_u64(&q, &n))
			return false;
		*v = (double)n * 1024;
		return true;
	}
	return false;
}

static bool btime_of(const char *text, double *v)
{
	for (const char *p = text; *p; p = sb_pp_next(p)) {
		if (strncmp(p, "btime ", 6))
			continue;
		const char *q = p + 5;
		uint64_t n;
		if (!sb_pp_u64(&q, &n))
			return false;
		*v = (double)n;
		return true;
	}
	return false;
}

int sb_algod_proc_read(struct sb_algod_proc *p, int64_t now_mono_ns, unsigned ncpus)
{
	p->up = false;
	p->have_cpu_pct = false;
	p->why[0] = p->argv0[0] = 0;
	p->pid = 0;
	struct sb_buf b;
	sb_buf_init(&b);
	struct sb_procfile f = {.fd = -1};
	char why[256], rel[64];
	int r;
	ssize_t n = sb_fsafe_read(p->pid_path, 0, 64, &b, NULL, why, sizeof(why));
	if (n < 0) {
		r = (int)n;
		snprintf(p->why, sizeof(p->why), "cannot read %s", why);
		goto out;
	}
	uint64_t pid;
	if (sb_parse_u64(sb_trim((char *)sb_buf_cstr(&b)), &pid) || !pid || pid > INT32_MAX) {
		r = -EINVAL;
		snprintf(p->why, sizeof(p->why), "%s does not hold a process id", p->pid_path);
		goto out;
	}
	p->pid = (int64_t)pid;
	snprintf(rel, sizeof(rel), "%lld/stat", (long long)pid);
	n = read_proc(p->procfs, rel, true, &f);
	if (n < 0) {
		r = (int)n;
		snprintf(p->why, sizeof(p->why), "process %lld of %s: %s", (long long)pid,
			 p->pid_path, n == -ENOENT ? "not running" : strerror((int)-n));
		goto out;
	}
	struct sb_proc_pidstat ps;
	const char *bad;
	if (sb_proc_parse_pidstat(sb_buf_cstr(&f.buf), &ps, &bad)) {
		r = -EINVAL;
		snprintf(p->why, sizeof(p->why), "%s/%s: %s", p->procfs, rel, bad);
		goto out;
	}
	/* a stale algod.pid whose number another process now has */
	if (strcmp(ps.comm, "algod") || ps.state == 'Z') {
		r = -ESRCH;
		snprintf(p->why, sizeof(p->why), "process %lld of %s is %s, not algod",
			 (long long)pid, p->pid_path, ps.state == 'Z' ? "a zombie" : ps.comm);
		goto out;
	}
	double hz = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
	p->cpu_seconds = (double)(ps.utime + ps.stime) / hz;
	p->rss_bytes = (double)ps.rss * page;
	sb_procfile_free(&f);
	double btime = 0;
	if (read_proc(p->procfs, "stat", false, &f) >= 0)
		btime_of(sb_buf_cstr(&f.buf), &btime);
	p->start_time = btime ? btime + (double)ps.starttime / hz : 0;
	sb_procfile_free(&f);
	p->mem_total_bytes = 0;
	if (read_proc(p->procfs, "meminfo", false, &f) >= 0)
		kv_kb(sb_buf_cstr(&f.buf), "MemTotal:", &p->mem_total_bytes);
	sb_procfile_free(&f);
	snprintf(rel, sizeof(rel), "%lld/cmdline", (long long)pid);
	if (read_proc(p->procfs, rel, true, &f) >= 0)
		snprintf(p->argv0, sizeof(p->argv0), "%s", sb_buf_cstr(&f.buf));
	/* the CPU rate needs the same process a round ago */
	if (p->prev_pid == p->pid && p->prev_starttime == ps.starttime &&
	    now_mono_ns > p->prev_mono_ns && p->cpu_seconds >= p->prev_cpu && ncpus) {
		double dt = (double)(now_mono_ns - p->prev_mono_ns) / 1e9;
		p->cpu_pct = (p->cpu_seconds - p->prev_cpu) / dt / ncpus * 100;
		p->have_cpu_pct = true;
	}
	p->prev_pid = p->pid;
	p->prev_starttime = ps.starttime;
	p->prev_cpu = p->cpu_seconds;
	p->prev_mono_ns = now_mono_ns;
	p->up = true;
	r = 0;
out:
	p->err = r;
	if (!p->up)
		p->prev_pid = 0;
	sb_procfile_free(&f);
	sb_buf_free(&b);
	return r;
}

static void proc_sample(struct sb_evb *b, const char *name, const char *help, double v)
{
	sb_evb_sample(b, name, SB_GAUGE, v);
	sb_evb_help(b, help);
}

void sb_algod_proc_emit(struct sb_evb *b, const struct sb_algod_proc *p, int64_t now_real_ns)
{
	proc_sample(b, "algod_process_up",
		    "1 when algod.pid names a running algod process, else 0.", p->up);
	if (!p->up)
		return;
	proc_sample(b, "algod_process_pid", "The algod process' id, from algod.pid.",
		    (double)p->pid);
	if (p->start_time) {
		proc_sample(b, "algod_process_start_time_seconds",
			    "When the algod process started, in unix time.", p->start_time);
		proc_sample(b, "algod_process_uptime_seconds",
			    "How long the algod process has been running.",
			    (double)now_real_ns / 1e9 - p->start_time);
	}
	sb_evb_sample(b, "algod_process_cpu_seconds_total", SB_COUNTER, p->cpu_seconds);
	sb_evb_help(b, "CPU time (user and system) the algod process used.");
	proc_sample(b, "algod_process_resident_memory_bytes",
		    "Resident memory of the algod process.", p->rss_bytes);
}
