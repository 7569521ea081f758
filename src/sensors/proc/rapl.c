/* <sysfs>/class/powercap: node_exporter 1.5.0's rapl collector, the energy
 * counter of every RAPL zone (a directory with a name file) in joules:
 * node_rapl_<name>_joules_total{index,path}, or with rapl_enable_zone_label
 * node_rapl_joules_total{index,path,rapl_zone}. As procfs: "package-1"
 * is name "package", index 1; any other name is kept whole and indexed one
 * above the last index of that name, in directory-name order (0 first);
 * path is the cleaned path
 * under the sysfs root. Zones are listed at start and every RESCAN_ROUNDS
 * rounds; energy_uj is re-read every round.
 *
 * node_exporter fails the collector on a zone whose max_energy_range_uj
 * is bad, and stops at the first unreadable energy_uj
 * (no data when it is root's only); here that zone is reported and left
 * out (success 0), the others kept. */
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
#define MAX_ZONES 256

struct rapl_zone {
	char name[128];
	char metric[160]; /* node_rapl_<sanitized name>_joules_total */
	char help[192];
	char index[24];
	char path[PATH_MAX];
	int fd; /* energy_uj */
};

struct rapl {
	char base[PATH_MAX]; /* cleaned */
	struct rapl_zone *z;
	size_t n;
	bool scanned, bad; /* bad: a zone could not be set up at the last listing */
	int list_err;
	uint64_t scan_round;
	struct sb_ratelimit rl;
};

/* node_exporter's SanitizeMetricName: every match of _*[^0-9A-Za-z_]+_*
 * becomes one '_'. */
size_t sb_proc_sanitize_metric(const char *s, char *out, size_t cap)
{
	size_t w = 0, n = strlen(s), i = 0;
#define OK(c)                                                                                      \
	(((c) >= '0' && (c) <= '9') || ((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
	while (i < n && w + 1 < cap) {
		size_t j = i;
		while (j < n && s[j] == '_')
			j++;
		if (j < n && !OK(s[j]) && s[j] != '_') {
			while (j < n && !OK(s[j]) && s[j] != '_')
				j++;
			while (j < n && s[j] == '_')
				j++;
			out[w++] = '_';
			i = j;
			continue;
		}
		if (j > i) { /* underscores not followed by a bad character */
			while (i < j && w + 1 < cap)
				out[w++] = s[i++];
			continue;
		}
		out[w++] = s[i++];
	}
#undef OK
	out[w] = 0;
	return w;
}

/* Go's filepath.Clean for an absolute or relative path, in place. */
static void path_clean(char *p)
{
	bool abs = *p == '/';
	char *seg[PATH_MAX / 2];
	size_t nseg = 0;
	char *save, *t;
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", p);
	for (t = strtok_r(tmp, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (!strcmp(t, "."))
			continue;
		if (!strcmp(t, "..") && nseg && strcmp(seg[nseg - 1], ".."))
			nseg--;
		else if (!strcmp(t, "..") && abs)
			continue;
		else
			seg[nseg++] = t;
	}
	size_t w = 0;
	if (abs)
		p[w++] = '/';
	for (size_t i = 0; i < nseg; i++) {
		size_t l = strlen(seg[i]);
		if (i)
			p[w++] = '/';
		memcpy(p + w, seg[i], l);
		w += l;
	}
	if (!w)
		p[w++] = '.';
	p[w] = 0;
}

static void free_zones(struct rapl *rp)
{
	for (size_t i = 0; i < rp->n; i++)
		if (rp->z[i].fd >= 0)
			close(rp->z[i].fd);
	free(rp->z);
	rp->z = NULL;
	rp->n = 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The text of a small file, blanks trimmed; -errno. */
static ssize_t read_text(int dirfd, const char *rel, char *buf, size_t cap, const char **v)
{
	int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct stat sb;
	ssize_t n = fstat(fd, &sb) || !S_ISREG(sb.st_mode) ? -EINVAL : pread(fd, buf, cap - 1, 0);
	int err = errno;
	close(fd);
	if (n == -EINVAL)
		return n;
	if (n < 0)
		return -err;
	buf[n] = 0;
	return (ssize_t)sb_proc_sysfs_trim(buf, (size_t)n, v);
}

struct name_count {
	char name[128];
	int64_t n;
};

static int setup_zone(struct proc_state *st, struct rapl *rp, int classfd, const char *entry,
		      struct name_count *counts, size_t *ncounts)
{
	char buf[256], rel[NAME_MAX + 32];
	const char *v;
	snprintf(rel, sizeof(rel), "%s/name", entry);
	ssize_t n = read_text(classfd, rel, buf, sizeof(buf), &v);
	if (n < 0)
		return 0; /* not a zone */
	struct rapl_zone *z = &rp->z[rp->n];
	memset(z, 0, sizeof(*z));
	z->fd = -1;
	snprintf(z->name, sizeof(z->name), "%.*s", (int)n, v);
	const char *why = NULL;
	/* "name-N" with exactly one '-' and N a number (Atoi): name, index N;
	 * else the whole name, indexed by the count kept below */
	char *dash = strchr(z->name, '-');
	int64_t idx = -1;
	if (dash && !strchr(dash + 1, '-') && sb_proc_go_int(dash + 1, strlen(dash + 1), 10, &idx))
		*dash = 0;
	else
		idx = -1;
	size_t k = 0;
	while (k < *ncounts && strcmp(counts[k].name, z->name))
		k++;
	if (idx < 0)
		idx = k < *ncounts ? counts[k].n : 0;
	uint64_t max;
	snprintf(rel, sizeof(rel), "%s/max_energy_range_uj", entry);
	n = read_text(classfd, rel, buf, sizeof(buf), &v);
	if (n < 0 || !sb_pp_uint_text(v, &max))
		why = n < 0 ? strerror((int)-n) : "max_energy_range_uj is not a number";
	if (why) {
		rp->bad = true;
		st->errors++;
		sb_log_rl(&rp->rl, SB_LOG_WARN, st->comp, "%s/%s: %s, zone skipped", rp->base,
			  entry, why);
		return 0;
	}
	/* the next unnumbered zone of this name follows the last index */
	if (k == *ncounts && k < MAX_ZONES) {
		snprintf(counts[k].name, sizeof(counts[k].name), "%s", z->name);
		(*ncounts)++;
	}
	if (k < *ncounts)
		counts[k].n = idx + 1;
	snprintf(z->index, sizeof(z->index), "%lld", (long long)idx);
	if (snprintf(z->path, sizeof(z->path), "%s/%s", rp->base, entry) >= (int)sizeof(z->path))
		return 0; /* no longer than PATH_MAX in the kernel either */
	path_clean(z->path);
	char clean[128];
	sb_proc_sanitize_metric(z->name, clean, sizeof(clean));
	SB_PROC_JOIN(z->metric, SB_PJ("node_rapl_"), SB_PJ(clean), SB_PJ("_joules_total"));
	SB_PROC_JOIN(z->help, SB_PJ("Current RAPL "), SB_PJ(z->name), SB_PJ(" value in joules"));
	snprintf(rel, sizeof(rel), "%s/energy_uj", entry);
	z->fd = openat(classfd, rel, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	rp->n++;
	return 0;
}

static int scan(struct proc_state *st, struct rapl *rp)
{
	free_zones(rp);
	rp->bad = false;
	DIR *d = opendir(rp->base);
	if (!d)
		return errno == ENOENT || errno == EACCES ? -ENODATA : -errno;
	char **names = NULL;
	size_t nn = 0, cap = 0;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d)) && nn < MAX_ZONES) {
		if (de->d_name[0] == '.')
			continue;
		if (nn == cap) {
			cap = cap ? cap * 2 : 16;
			char **v = realloc(names, cap * sizeof(*v));
			if (!v) {
				r = -ENOMEM;
				break;
			}
			names = v;
		}
		if (!(names[nn] = strdup(de->d_name))) {
			r = -ENOMEM;
			break;
		}
		nn++;
	}
	if (!r && nn)
		qsort(names, nn, sizeof(*names), cmp_name); /* os.ReadDir's order */
	struct name_count *counts = r ? NULL : calloc(MAX_ZONES, sizeof(*counts));
	if (!r && (!counts || !(rp->z = calloc(nn ? nn : 1, sizeof(*rp->z)))))
		r = -ENOMEM;
	size_t ncounts = 0;
	for (size_t i = 0; i < nn && !r; i++)
		r = setup_zone(st, rp, dirfd(d), names[i], counts, &ncounts);
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	free(counts);
	closedir(d);
	return r;
}

static int rapl_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct rapl *rp = c->priv;
	if (!rp->scanned || st->round - rp->scan_round >= RESCAN_ROUNDS) {
		rp->scanned = true;
		rp->scan_round = st->round;
		rp->list_err = scan(st, rp);
		if (rp->list_err && rp->list_err != -ENODATA) {
			st->errors++;
			sb_log_rl(&rp->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", rp->base,
				  strerror(-rp->list_err));
		}
	}
	if (rp->list_err)
		return rp->list_err;
	int r = rp->bad ? -EINVAL : 0;
	char buf[64];
	for (size_t i = 0; i < rp->n; i++) {
		struct rapl_zone *z = &rp->z[i];
		ssize_t n = z->fd < 0 ? -1 : pread(z->fd, buf, sizeof(buf) - 1, 0);
		int err = z->fd < 0 || n < 0 ? errno : 0;
		uint64_t uj;
		if (n >= 0)
			buf[n] = 0;
		if (err == EACCES || err == EPERM) {
			if (!r)
				r = -ENODATA; /* energy_uj is root's only since Linux 5.10 */
			continue;
		}
		if (err || !sb_pp_uint_text(buf, &uj)) {
			if (err == ENOENT || err == ENODEV)
				rp->scanned = false;
			st->errors++;
			sb_log_rl(&rp->rl, SB_LOG_WARN, st->comp, "%s/energy_uj: %s", z->path,
				  err ? strerror(err) : "line 1: not a number");
			if (!r || r == -ENODATA)
				r = err ? -err : -EINVAL;
			continue;
		}
		double j = (double)uj / 1000000.0;
		if (st->cfg->rapl_enable_zone_label) {
			sb_evb_sample(b, "node_rapl_joules_total", SB_COUNTER, j);
			sb_evb_help(b, "Current RAPL value in joules");
		} else {
			sb_evb_sample(b, z->metric, SB_COUNTER, j);
			sb_evb_help(b, z->help);
		}
		sb_evb_label(b, "index", z->index);
		sb_evb_label(b, "path", z->path);
		if (st->cfg->rapl_enable_zone_label)
			sb_evb_label(b, "rapl_zone", z->name);
	}
	return r;
}

static int rapl_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct rapl *rp = calloc(1, sizeof(*rp));
	if (!rp)
		return -ENOMEM;
	c->priv = rp;
	rp->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	if (snprintf(rp->base, sizeof(rp->base), "%s/class/powercap", st->cfg->sysfs) >=
	    (int)sizeof(rp->base))
		return -ENAMETOOLONG;
	path_clean(rp->base);
	return 0;
}

static void rapl_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct rapl *rp = c->priv;
	if (!rp)
		return;
	free_zones(rp);
	free(rp);
	c->priv = NULL;
}

static const struct sb_cfg_key rapl_keys[] = {
    {"rapl_enable_zone_label", SB_CT_BOOL, offsetof(struct proc_cfg, rapl_enable_zone_label),
     "false", "one node_rapl_joules_total with a rapl_zone label instead of a metric per zone"},
    {0},
};

const struct sb_proc_collector sb_proc_collector_rapl = {
    .name = "rapl",
    .default_on = true,
    .keys = rapl_keys,
    .init = rapl_init,
    .collect = rapl_collect,
    .free = rapl_free,
};
