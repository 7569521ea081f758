/* libFuzzer harness for every proc collector through its own reading code
 * (make fuzz-proctree): the collectors of sysfs trees (hwmon, netclass,
 * bcache, btrfs, nvme, edac, watchdog ...) parse the files they find in
 * their collect functions, with no buffer seam, so this one puts the input
 * into a file of a private copy of fixtures/procfs/synthetic (on tmpfs)
 * and runs one round of one collector over it.
 *
 * Which collector reads which file is learnt at start: every file's atime
 * is set to 1970 and one round of each collector run; the files whose atime
 * moved are its (tmpfs is relatime, which updates an atime older than a
 * day). Every (collector, file) pair is a row, in collector-table and path
 * order; the input's first two bytes pick one, the rest is the file's new
 * content, and the original is put back after the round. Slower than
 * fuzz_proc.c (a round is many reads), but it covers every collector.
 * Seeds: each pair's fixture file behind its two bytes (SB_FUZZ_SEEDS). */
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <sys/stat.h>

#define FUZZ_SEEDS tree_seeds
#define FUZZ_INIT tree_init
#include "fuzz.h"

#include "../src/sensors/proc/proc.h"
#include "sb_config.h"
#include "sb_json.h"
#include "sb_sensor.h"

extern const struct sb_sensor_ops sb_sensor_proc;

struct file {
	char *path;
	char *orig;
	size_t len;
};

struct coll {
	const char *name;
	char *names[1];
	struct proc_cfg cfg;
	struct sb_sensor s;
};

struct pair {
	unsigned coll, file;
};

static char root[64];
static struct file *files;
static size_t nfiles, capfiles;
static struct coll *colls;
static size_t ncolls;
static struct pair *pairs;
static size_t npairs;
static struct sb_config config;
static struct sb_evb b;

static int add_file(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type != FTW_F || !S_ISREG(sb->st_mode))
		return 0;
	if (nfiles == capfiles) {
		capfiles = capfiles ? 2 * capfiles : 256;
		files = realloc(files, capfiles * sizeof(*files));
		if (!files)
			abort();
	}
	struct file *f = &files[nfiles++];
	f->path = strdup(path);
	f->orig = fuzz_slurp(path, &f->len);
	if (!f->path || !f->orig)
		abort();
	return 0;
}

static int cmp_file(const void *a, const void *b2)
{
	return strcmp(((const struct file *)a)->path, ((const struct file *)b2)->path);
}

static void put(const struct file *f, const void *p, size_t n)
{
	int fd = open(f->path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n))
		abort();
	close(fd);
}

static void old_atimes(void)
{
	for (size_t i = 0; i < nfiles; i++) {
		struct timespec ts[2] = {{1, 0}, {0, UTIME_NOW}};
		if (utimensat(AT_FDCWD, files[i].path, ts, 0))
			abort();
	}
}

/* One round of collector c; with check, the event must hold only valid
 * names and encode. */
static void round_of(struct coll *c, bool check)
{
	sb_evb_begin(&b, "proc", "metrics");
	sb_evb_time(&b, 0);
	sb_proc_round(c->s.state, &b);
	struct sb_event *ev = sb_evb_finish(&b);
	if (!ev)
		abort();
	if (check)
		fuzz_event_ok(ev, true);
	sb_event_unref(ev);
}

static void cleanup(void)
{
	for (size_t i = 0; i < ncolls; i++)
		if (colls[i].s.state)
			sb_sensor_proc.destroy(&colls[i].s);
	if (root[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd))
			fprintf(stderr, "fuzz_proctree: cannot remove %s\n", root);
	}
}

static void tree_init(void)
{
	char err[512], cmd[4200];
	snprintf(root, sizeof(root), "/dev/shm/sb-fuzz-proctree.XXXXXX");
	if (!mkdtemp(root)) {
		snprintf(root, sizeof(root), "/tmp/sb-fuzz-proctree.XXXXXX");
		if (!mkdtemp(root))
			abort();
	}
	atexit(cleanup);
	snprintf(cmd, sizeof(cmd),
		 "cp -a '%s/fixtures/procfs/synthetic/.' '%s/' && "
		 "cp -a '%s/fixtures/textfile/merge' '%s/textfile'",
		 fuzz_root(), root, fuzz_root(), root);
	if (system(cmd)) {
		fprintf(stderr, "fuzz_proctree: cannot copy the fixtures (SB_ROOT?)\n");
		exit(1);
	}
	if (nftw(root, add_file, 16, FTW_PHYS))
		abort();
	qsort(files, nfiles, sizeof(*files), cmp_file);
	sb_evb_init(&b);

	/* the defaults a config without a proc section gets */
	if (sb_config_load(&config, NULL, "defaults", err, sizeof(err))) {
		fprintf(stderr, "fuzz_proctree: %s\n", err);
		abort();
	}
	const struct proc_cfg *def = sb_config_sensor(&config, "proc")->cfg;
	colls = calloc(sb_proc_ncollectors, sizeof(*colls));
	pairs = calloc(sb_proc_ncollectors * nfiles, sizeof(*pairs));
	if (!colls || !pairs)
		abort();
	static char procfs[96], sysfs[96], udev[96], textfile[96];
	snprintf(procfs, sizeof(procfs), "%s/proc", root);
	snprintf(sysfs, sizeof(sysfs), "%s/sys", root);
	snprintf(udev, sizeof(udev), "%s/udev/data", root);
	snprintf(textfile, sizeof(textfile), "%s/textfile", root);
	for (size_t i = 0; i < sb_proc_ncollectors; i++) {
		struct coll *c = &colls[ncolls];
		c->name = sb_proc_collectors[i]->name;
		c->names[0] = (char *)c->name;
		c->cfg = *def;
		c->cfg.procfs = procfs;
		c->cfg.sysfs = sysfs;
		c->cfg.rootfs = root;
		c->cfg.udev = udev;
		c->cfg.textfile_directory = textfile;
		c->cfg.collectors = (struct sb_strlist){c->names, 1};
		c->cfg.processes = (struct sb_strlist){0};
		c->cfg.pids = (struct sb_strlist){0};
		c->cfg.groups = SB_PROC_GROUPS_OFF;
		c->s.cfg = &c->cfg;
		if (sb_sensor_proc.init(&c->s) || !((struct proc_state *)c->s.state)->ncoll) {
			if (c->s.state)
				sb_sensor_proc.destroy(&c->s);
			memset(c, 0, sizeof(*c));
			continue;
		}
		round_of(c, false); /* first rounds may read what later ones do not */
		old_atimes();
		round_of(c, false);
		for (size_t k = 0; k < nfiles; k++) {
			struct stat sb;
			if (!stat(files[k].path, &sb) && sb.st_atim.tv_sec != 1)
				pairs[npairs++] = (struct pair){(unsigned)ncolls, (unsigned)k};
		}
		ncolls++;
	}
	if (!npairs) {
		fprintf(stderr, "fuzz_proctree: no collector read a file (atime not kept?)\n");
		exit(1);
	}
	if (getenv("SB_FUZZ_PAIRS"))
		for (size_t i = 0; i < npairs; i++)
			fprintf(stderr, "%zu %s %s\n", i, colls[pairs[i].coll].name,
				files[pairs[i].file].path + strlen(root));
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n < 2)
		return 0;
	const struct pair *p = &pairs[(d[0] | (size_t)d[1] << 8) % npairs];
	const struct file *f = &files[p->file];
	put(f, d + 2, n - 2);
	round_of(&colls[p->coll], true);
	put(f, f->orig, f->len);
	return 0;
}

static void tree_seeds(void)
{
	tree_init();
	for (size_t i = 0; i < npairs; i++) {
		const struct file *f = &files[pairs[i].file];
		uint8_t sel[2] = {(uint8_t)i, (uint8_t)(i >> 8)};
		char name[64];
		snprintf(name, sizeof(name), "%s-%zu", colls[pairs[i].coll].name, i);
		fuzz_seed(name, 2, sel, (size_t)2, f->orig, f->len);
	}
}
