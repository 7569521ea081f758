/* <sysfs>/devices/system/cpu/cpu<N>/cpufreq: node_exporter 1.5.0's cpufreq
 * collector, each CPU's current, minimum and maximum frequency as the
 * hardware (cpuinfo_*) and the governor (scaling_*) see them, kHz → Hz.
 * A file missing or unreadable (cpuinfo_cur_freq is root's only) is left
 * out without a word, as node_exporter does. The CPU directories are
 * listed at start and again every RESCAN_ROUNDS rounds (hot-plug). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"

#define RESCAN_ROUNDS 60
#define MAX_CPUS 8192
/* More files than this are opened for each read rather than kept open,
 * so a large machine does not hold thousands of descriptors. */
#define KEEP_OPEN_FILES 192

static const struct {
	const char *file, *name, *help;
} freq_files[] = {
    {"cpuinfo_cur_freq", "node_cpu_frequency_hertz", "Current cpu thread frequency in hertz."},
    {"cpuinfo_min_freq", "node_cpu_frequency_min_hertz", "Minimum cpu thread frequency in hertz."},
    {"cpuinfo_max_freq", "node_cpu_frequency_max_hertz", "Maximum cpu thread frequency in hertz."},
    {"scaling_cur_freq", "node_cpu_scaling_frequency_hertz",
     "Current scaled CPU thread frequency in hertz."},
    {"scaling_min_freq", "node_cpu_scaling_frequency_min_hertz",
     "Minimum scaled CPU thread frequency in hertz."},
    {"scaling_max_freq", "node_cpu_scaling_frequency_max_hertz",
     "Maximum scaled CPU thread frequency in hertz."},
};
#define NFREQ SB_ARRAY_SIZE(freq_files)

struct freq_cpu {
	char num[16]; /* after "cpu" */
	bool have[NFREQ];
	struct sb_procfile f[NFREQ];
};

struct cpufreq {
	char base[PATH_MAX];
	struct freq_cpu *cpus;
	size_t n;
	bool scanned;
	uint64_t scan_round;
	struct sb_ratelimit rl;
};

static void free_cpus(struct cpufreq *cf)
{
	for (size_t i = 0; i < cf->n; i++)
		for (size_t k = 0; k < NFREQ; k++)
			sb_procfile_free(&cf->cpus[i].f[k]);
	free(cf->cpus);
	cf->cpus = NULL;
	cf->n = 0;
}

static int cmp_cpu(const void *a, const void *b)
{
	return strcmp(((const struct freq_cpu *)a)->num, ((const struct freq_cpu *)b)->num);
}

/* Whether path can be opened for reading: a file that is absent or
 * refused now is not asked for every round. */
static bool can_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int scan(struct cpufreq *cf)
{
	free_cpus(cf);
	DIR *d = opendir(cf->base);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	size_t cap = 0;
	int r = 0;
	char path[PATH_MAX + 64];
	struct dirent *de;
	while ((de = readdir(d)) && cf->n < MAX_CPUS) {
		const char *nm = de->d_name;
		if (strncmp(nm, "cpu", 3) || nm[3] < '0' || nm[3] > '9' || strlen(nm + 3) >= 16)
			continue;
		struct stat sb;
		if (snprintf(path, sizeof(path), "%s/%.16s/cpufreq", cf->base, nm) >=
		    (int)sizeof(path))
			continue;
		if (stat(path, &sb) || !S_ISDIR(sb.st_mode))
			continue; /* no frequency scaling for this CPU */
		if (sb_grow((void **)&cf->cpus, &cap, cf->n + 1, sizeof(*cf->cpus))) {
			r = -ENOMEM;
			break;
		}
		struct freq_cpu *c = &cf->cpus[cf->n++];
		memset(c, 0, sizeof(*c));
		for (size_t k = 0; k < NFREQ; k++)
			c->f[k].fd = -1;
		snprintf(c->num, sizeof(c->num), "%s", nm + 3);
	}
	closedir(d);
	if (r)
		return r;
	if (cf->n)
		qsort(cf->cpus, cf->n, sizeof(*cf->cpus), cmp_cpu);
	bool keep = cf->n * NFREQ <= KEEP_OPEN_FILES;
	for (size_t i = 0; i < cf->n && !r; i++) {
		struct freq_cpu *c = &cf->cpus[i];
		for (size_t k = 0; k < NFREQ && !r; k++) {
			snprintf(path, sizeof(path), "%s/cpu%s/cpufreq/%s", cf->base, c->num,
				 freq_files[k].file);
			c->have[k] = can_read(path);
			if (!c->have[k])
				continue;
			r = sb_procfile_init(&c->f[k], path, 4096, keep);
			c->f[k].single = true; /* a sysfs attribute: one show() */
		}
	}
	return r;
}

static int cpufreq_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct cpufreq *cf = calloc(1, sizeof(*cf));
	if (!cf)
		return -ENOMEM;
	c->priv = cf;
	cf->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	if (snprintf(cf->base, sizeof(cf->base), "%s/devices/system/cpu", st->cfg->sysfs) >=
	    (int)sizeof(cf->base))
		return -ENAMETOOLONG;
	return 0; /* listed on the first round */
}

static void cpufreq_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct cpufreq *cf = c->priv;
	if (!cf)
		return;
	free_cpus(cf);
	free(cf);
	c->priv = NULL;
}

static int cpufreq_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct cpufreq *cf = c->priv;
	int r = 0;
	if (!cf->scanned || st->round - cf->scan_round >= RESCAN_ROUNDS) {
		cf->scanned = true;
		cf->scan_round = st->round;
		r = scan(cf);
		if (r) {
			st->errors++;
			sb_log_rl(&cf->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", cf->base,
				  strerror(-r));
		}
	}
	for (size_t i = 0; i < cf->n; i++) {
		struct freq_cpu *cpu = &cf->cpus[i];
		for (size_t k = 0; k < NFREQ; k++) {
			if (!cpu->have[k])
				continue;
			struct sb_procfile *f = &cpu->f[k];
			const char *text = sb_proc_read(st, f, true);
			uint64_t khz;
			if (!text) {
				if (!r)
					r = sb_proc_read_err(f, true);
				continue;
			}
			if (!sb_pp_uint_text(text, &khz)) {
				struct sb_proc_perr e = {0};
				sb_proc_bad(&e, 1, "expected a frequency in kHz");
				if (sb_proc_report(st, f, &e) && !r)
					r = -EINVAL;
				continue;
			}
			sb_evb_sample(b, freq_files[k].name, SB_GAUGE, (double)khz * 1000.0);
			sb_evb_help(b, freq_files[k].help);
			sb_evb_label(b, "cpu", cpu->num);
		}
	}
	return r;
}

const struct sb_proc_collector sb_proc_collector_cpufreq = {
    .name = "cpufreq",
    .default_on = true,
    .init = cpufreq_init,
    .collect = cpufreq_collect,
    .free = cpufreq_free,
};
