/* The sysfs half of node_exporter's cpu collector, from
 * <sysfs>/devices/system/cpu: thermal throttle counts per package and core
 * (x86 with thermal_throttle), isolated CPUs, and online state (where cpu0
 * has an "online" file). CPU directories and their topology are read once
 * and again when the number of CPUs in /proc/stat changes (hot-plug). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc.h"

#define MAX_CPUS 8192

struct cpu_dir {
	char num[16]; /* the directory name after "cpu" */
	bool topo;    /* physical_package_id and core_id were read */
	bool throttle;
	uint64_t pkg, core;
	struct sb_procfile core_tt, pkg_tt, online;
};

struct proc_cpu_sysfs {
	char base[PATH_MAX];
	struct cpu_dir *cpus;
	size_t ncpus;
	bool scanned;
	bool online; /* cpu0/online exists */
	unsigned scanned_ncpus;
	unsigned *isolated;
	size_t nisolated, capisolated;
	struct sb_ratelimit rl;
};

static void free_dirs(struct proc_cpu_sysfs *cs)
{
	for (size_t i = 0; i < cs->ncpus; i++) {
		sb_procfile_free(&cs->cpus[i].core_tt);
		sb_procfile_free(&cs->cpus[i].pkg_tt);
		sb_procfile_free(&cs->cpus[i].online);
	}
	free(cs->cpus);
	cs->cpus = NULL;
	cs->ncpus = 0;
}

static bool read_uint(const char *path, uint64_t *v)
{
	struct sb_buf buf;
	sb_buf_init(&buf);
	bool ok = sb_read_file(path, &buf, 4096) >= 0 && sb_pp_uint_text(sb_buf_cstr(&buf), v);
	sb_buf_free(&buf);
	return ok;
}

static bool exists(const char *path) { return access(path, F_OK) == 0; }

/* filepath.Glob("cpu[0-9]*") order: plain byte order of the names. */
static int cmp_dir(const void *a, const void *b)
{
	const struct cpu_dir *x = a, *y = b;
	return strcmp(x->num, y->num);
}

static int scan(struct proc_state *st, struct proc_cpu_sysfs *cs)
{
	free_dirs(cs);
	DIR *d = opendir(cs->base);
	if (!d)
		return errno == ENOENT ? 0 : -errno; /* no sysfs: nothing to add */
	size_t cap = 0;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "cpu", 3) || de->d_name[3] < '0' || de->d_name[3] > '9' ||
		    strlen(de->d_name + 3) >= sizeof(cs->cpus[0].num))
			continue;
		if (cs->ncpus == MAX_CPUS)
			break;
		if (sb_grow((void **)&cs->cpus, &cap, cs->ncpus + 1, sizeof(*cs->cpus))) {
			r = -ENOMEM;
			break;
		}
		struct cpu_dir *c = &cs->cpus[cs->ncpus++];
		memset(c, 0, sizeof(*c));
		c->core_tt.fd = c->pkg_tt.fd = c->online.fd = -1;
		snprintf(c->num, sizeof(c->num), "%s", de->d_name + 3);
	}
	closedir(d);
	if (r)
		return r;
	if (cs->ncpus)
		qsort(cs->cpus, cs->ncpus, sizeof(*cs->cpus), cmp_dir);
	char path[PATH_MAX + 64];
	for (size_t i = 0; i < cs->ncpus && !r; i++) {
		struct cpu_dir *c = &cs->cpus[i];
		snprintf(path, sizeof(path), "%s/cpu%s/topology/physical_package_id", cs->base,
			 c->num);
		bool pkg = read_uint(path, &c->pkg);
		snprintf(path, sizeof(path), "%s/cpu%s/topology/core_id", cs->base, c->num);
		c->topo = pkg && read_uint(path, &c->core);
		snprintf(path, sizeof(path), "%s/cpu%s/thermal_throttle", cs->base, c->num);
		c->throttle = c->topo && exists(path);
		if (c->throttle) {
			snprintf(path, sizeof(path), "%s/cpu%s/thermal_throttle/%s", cs->base,
				 c->num, "core_throttle_count");
			r = sb_procfile_init(&c->core_tt, path, 4096, true);
			snprintf(path, sizeof(path), "%s/cpu%s/thermal_throttle/%s", cs->base,
				 c->num, "package_throttle_count");
			if (!r)
				r = sb_procfile_init(&c->pkg_tt, path, 4096, true);
		}
		snprintf(path, sizeof(path), "%s/cpu%s/online", cs->base, c->num);
		if (!r)
			r = sb_procfile_init(&c->online, path, 4096, true);
		/* sysfs attributes are one show() each */
		c->core_tt.single = c->pkg_tt.single = c->online.single = true;
	}
	/* node_exporter reports online state only if the first CPU has it */
	cs->online = cs->ncpus && exists(cs->cpus[0].online.path);
	cs->scanned_ncpus = st->statinfo.ncpus;
	cs->scanned = true;
	return r;
}

static void add_isolated(void *arg, unsigned cpu)
{
	struct proc_cpu_sysfs *cs = arg;
	if (cs->nisolated == cs->capisolated) {
		size_t cap = cs->capisolated ? cs->capisolated * 2 : 16;
		unsigned *v = realloc(cs->isolated, cap * sizeof(*v));
		if (!v)
			return;
		cs->isolated = v;
		cs->capisolated = cap;
	}
	cs->isolated[cs->nisolated++] = cpu;
}

int sb_proc_cpu_sysfs_init(struct proc_state *st)
{
	struct proc_cpu_sysfs *cs = calloc(1, sizeof(*cs));
	if (!cs)
		return -ENOMEM;
	st->cpu_sysfs = cs;
	cs->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	if (snprintf(cs->base, sizeof(cs->base), "%s/devices/system/cpu", st->cfg->sysfs) >=
	    (int)sizeof(cs->base))
		return -ENAMETOOLONG;
	/* Isolation is fixed at boot: node_exporter reads it once, too. */
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/isolated", cs->base);
	struct sb_buf buf;
	sb_buf_init(&buf);
	ssize_t n = sb_read_file(path, &buf, 65536);
	int c =
	    n >= 0 ? sb_proc_parse_cpulist(sb_buf_cstr(&buf), add_isolated, cs, MAX_CPUS - 1) : 0;
	if (c == -ERANGE) {
		st->errors++;
		sb_warn(st->comp,
			"%s: not a CPU list (a CPU above %u, or ranges that overlap or go "
			"backwards), node_cpu_isolated left out",
			path, MAX_CPUS - 1);
	} else if (c < 0) {
		st->errors++;
		sb_warn(st->comp, "%s: not a CPU list, node_cpu_isolated left out", path);
	} else if (n < 0 && n != -ENOENT) {
		st->errors++;
		sb_warn(st->comp, "cannot read %s: %s", path, strerror((int)-n));
	}
	sb_buf_free(&buf);
	return 0; /* the CPU directories are scanned on the first round */
}

void sb_proc_cpu_sysfs_free(struct proc_state *st)
{
	struct proc_cpu_sysfs *cs = st->cpu_sysfs;
	if (!cs)
		return;
	free_dirs(cs);
	free(cs->isolated);
	free(cs);
	st->cpu_sysfs = NULL;
}

static bool read_count(struct proc_state *st, struct sb_procfile *f, uint64_t *v)
{
	const char *text = sb_proc_read(st, f, true);
	if (!text)
		return false;
	if (sb_pp_uint_text(text, v))
		return true;
	struct sb_proc_perr e = {0};
	sb_proc_bad(&e, 0, "expected a number");
	sb_proc_report(st, f, &e);
	return false;
}

struct seen_pkg {
	uint64_t pkg, count;
	bool have;
};
struct seen_core {
	uint64_t pkg, core, count;
	bool have;
};

static void collect_throttles(struct proc_state *st, struct proc_cpu_sysfs *cs, struct sb_evb *b)
{
	struct seen_pkg pkgs[64];
	struct seen_core cores[512];
	size_t npkg = 0, ncore = 0;
	for (size_t i = 0; i < cs->ncpus; i++) {
		struct cpu_dir *c = &cs->cpus[i];
		if (!c->throttle)
			continue;
		/* one read per core and per package: the first CPU that has it */
		size_t j;
		for (j = 0; j < ncore; j++)
			if (cores[j].pkg == c->pkg && cores[j].core == c->core)
				break;
		if (j == ncore && ncore < SB_ARRAY_SIZE(cores))
			cores[ncore++] = (struct seen_core){c->pkg, c->core, 0, false};
		if (j < ncore && !cores[j].have)
			cores[j].have = read_count(st, &c->core_tt, &cores[j].count);
		for (j = 0; j < npkg; j++)
			if (pkgs[j].pkg == c->pkg)
				break;
		if (j == npkg && npkg < SB_ARRAY_SIZE(pkgs))
			pkgs[npkg++] = (struct seen_pkg){c->pkg, 0, false};
		if (j < npkg && !pkgs[j].have)
			pkgs[j].have = read_count(st, &c->pkg_tt, &pkgs[j].count);
	}
	char a[24], k[24];
	for (size_t j = 0; j < npkg; j++) {
		if (!pkgs[j].have)
			continue;
		snprintf(a, sizeof(a), "%llu", (unsigned long long)pkgs[j].pkg);
		sb_evb_sample(b, "node_cpu_package_throttles_total", SB_COUNTER,
			      (double)pkgs[j].count);
		sb_evb_help(b, "Number of times this CPU package has been throttled.");
		sb_evb_label(b, "package", a);
	}
	for (size_t j = 0; j < ncore; j++) {
		if (!cores[j].have)
			continue;
		snprintf(a, sizeof(a), "%llu", (unsigned long long)cores[j].pkg);
		snprintf(k, sizeof(k), "%llu", (unsigned long long)cores[j].core);
		sb_evb_sample(b, "node_cpu_core_throttles_total", SB_COUNTER,
			      (double)cores[j].count);
		sb_evb_help(b, "Number of times this CPU core has been throttled.");
		sb_evb_label(b, "core", k);
		sb_evb_label(b, "package", a);
	}
}

void sb_proc_cpu_sysfs_collect(struct proc_state *st, struct sb_evb *b)
{
	struct proc_cpu_sysfs *cs = st->cpu_sysfs;
	if (!cs)
		return;
	if (!cs->scanned || (st->statinfo.ncpus && st->statinfo.ncpus != cs->scanned_ncpus)) {
		int r = scan(st, cs);
		if (r) {
			st->errors++;
			sb_log_rl(&cs->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", cs->base,
				  strerror(-r));
		}
	}
	collect_throttles(st, cs, b);
	char cpu[16];
	for (size_t i = 0; i < cs->nisolated; i++) {
		snprintf(cpu, sizeof(cpu), "%u", cs->isolated[i]);
		sb_evb_sample(b, "node_cpu_isolated", SB_GAUGE, 1);
		sb_evb_help(b, "Whether each core is isolated, information from "
			       "/sys/devices/system/cpu/isolated.");
		sb_evb_label(b, "cpu", cpu);
	}
	if (!cs->online)
		return;
	for (size_t i = 0; i < cs->ncpus; i++) {
		struct cpu_dir *c = &cs->cpus[i];
		/* a CPU without the file (or with garbage in it) is reported
		 * offline, as node_exporter does */
		const char *text = sb_proc_read(st, &c->online, true);
		uint64_t v = 0;
		bool on = text && sb_pp_uint_text(text, &v) && v == 1;
		sb_evb_sample(b, "node_cpu_online", SB_GAUGE, on ? 1 : 0);
		sb_evb_help(b, "CPUs that are online and being scheduled.");
		sb_evb_label(b, "cpu", c->num);
	}
}
