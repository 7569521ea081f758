/* Process groups (sensors.proc.groups: comm, cgroup or user): every
 * process of a walk counted into its group, each group published with
 * process-exporter's metric names (namedprocess_namegroup_*, label
 * groupname).
 *
 * Counters follow process-exporter: a group counts what its processes did
 * while watched (a process already running at the first round from there,
 * a later one from its start), and keeps an exited process's last counts,
 * so the group's counters never go down. Each process is tracked by
 * (pid, start time) with the counts it had when first seen; the track
 * table is merged with each walk in pid order, and a process's group is
 * looked up only when it is new or its comm changed (an exec). */
#include <errno.h>
#include <ftw.h>
#include <mntent.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proc.h"
#include "sb_taskiter.h"

enum { GC_USER, GC_SYSTEM, GC_READ, GC_WRITE, GC_MAJ, GC_MIN, GC_VCSW, GC_ICSW, GC_N };
enum { ST_RUNNING, ST_SLEEPING, ST_WAITING, ST_ZOMBIE, ST_OTHER, ST_N };

struct group {
	char *name;
	uint64_t acc[GC_N]; /* what exited processes did while watched */
	/* this round */
	uint64_t cur[GC_N];
	uint64_t procs, threads, rss, vm, swap, fds, states[ST_N];
	uint64_t oldest_ns;
	double worst;
};

struct track {
	uint32_t pid;
	uint32_t group;
	uint32_t ti; /* this round: its index in the walk */
	uint64_t start_ns;
	uint64_t key; /* comm hash, cgroup id or uid: a change means a new lookup */
	uint64_t base[GC_N], last[GC_N];
};

struct proc_groups {
	int by; /* SB_PROC_GROUPS_* */
	struct group *g;
	size_t ng, capg;
	uint32_t *slots; /* open addressing over g, by name; UINT32_MAX: empty */
	size_t nslots;
	struct track *tr, *ntr;
	size_t ntr_, nntr, captr, capntr;
	bool first_done;
	/* cgroup v2 id (its directory's inode) -> path, refreshed on a miss */
	struct cg {
		uint64_t id;
		char *path;
	} * cgs;
	size_t ncg, capcg;
	uint64_t cg_round; /* round of the last refresh */
	char *cgroot;	   /* where cgroup v2 is mounted; NULL: nowhere */
	struct uid_name {
		uint32_t uid;
		char name[32];
	} * users;
	size_t nusers, capusers;
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int rehash(struct proc_groups *pg)
{
	size_t n = pg->nslots ? pg->nslots * 2 : 256;
	uint32_t *s = malloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memset(s, 0xff, n * sizeof(*s));
	for (size_t i = 0; i < pg->ng; i++) {
		size_t k = fnv(pg->g[i].name) & (n - 1);
		while (s[k] != UINT32_MAX)
			k = (k + 1) & (n - 1);
		s[k] = (uint32_t)i;
	}
	free(pg->slots);
	pg->slots = s;
	pg->nslots = n;
	return 0;
}

/* The group called name, made if new; UINT32_MAX when out of memory. */
static uint32_t group_of(struct proc_groups *pg, const char *name)
{
	if ((pg->ng + 1) * 2 > pg->nslots && rehash(pg))
		return UINT32_MAX;
	size_t k = fnv(name) & (pg->nslots - 1);
	for (; pg->slots[k] != UINT32_MAX; k = (k + 1) & (pg->nslots - 1))
		if (!strcmp(pg->g[pg->slots[k]].name, name))
			return pg->slots[k];
	if (sb_grow((void **)&pg->g, &pg->capg, pg->ng + 1, sizeof(*pg->g)))
		return UINT32_MAX;
	struct group *g = &pg->g[pg->ng];
	memset(g, 0, sizeof(*g));
	if (!(g->name = strdup(name)))
		return UINT32_MAX;
	pg->slots[k] = (uint32_t)pg->ng;
	return (uint32_t)pg->ng++;
}

/* ---- names ---- */

static struct proc_groups *walking; /* nftw has no argument for its callback */

static int cg_visit(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)ftw;
	struct proc_groups *pg = walking;
	if (type != FTW_D)
		return 0;
	if (sb_grow((void **)&pg->cgs, &pg->capcg, pg->ncg + 1, sizeof(*pg->cgs)))
		return 1;
	const char *rel = path + strlen(pg->cgroot);
	pg->cgs[pg->ncg].id = (uint64_t)sb->st_ino;
	if (!(pg->cgs[pg->ncg].path = strdup(*rel ? rel : "/")))
		return 1;
	pg->ncg++;
	return 0;
}

static void cg_refresh(struct proc_groups *pg)
{
	for (size_t i = 0; i < pg->ncg; i++)
		free(pg->cgs[i].path);
	pg->ncg = 0;
	if (!pg->cgroot)
		return;
	walking = pg;
	nftw(pg->cgroot, cg_visit, 16, FTW_PHYS | FTW_MOUNT);
	walking = NULL;
}

static const char *cg_path(struct proc_groups *pg, uint64_t id, uint64_t round)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < pg->ncg; i++)
			if (pg->cgs[i].id == id)
				return pg->cgs[i].path;
		if (pass || pg->cg_round == round + 1)
			break;
		cg_refresh(pg); /* a cgroup made since: at most one walk a round */
		pg->cg_round = round + 1;
	}
	return NULL;
}

static const char *user_name(struct proc_groups *pg, uint32_t uid)
{
	for (size_t i = 0; i < pg->nusers; i++)
		if (pg->users[i].uid == uid)
			return pg->users[i].name;
	if (sb_grow((void **)&pg->users, &pg->capusers, pg->nusers + 1, sizeof(*pg->users)))
		return NULL;
	struct uid_name *u = &pg->users[pg->nusers++];
	struct passwd pw, *res = NULL;
	char buf[1024];
	u->uid = uid;
	if (!getpwuid_r(uid, &pw, buf, sizeof(buf), &res) && res)
		snprintf(u->name, sizeof(u->name), "%s", pw.pw_name);
	else
		snprintf(u->name, sizeof(u->name), "%u", uid);
	return u->name;
}

static uint64_t key_of(const struct proc_groups *pg, const struct sb_task *t)
{
	switch (pg->by) {
	case SB_PROC_GROUPS_CGROUP:
		return t->cgroup_id;
	case SB_PROC_GROUPS_USER:
		return t->uid;
	default:
		return fnv(t->comm);
	}
}

static uint32_t lookup(struct proc_groups *pg, const struct sb_task *t, uint64_t round)
{
	char buf[32];
	const char *name = t->comm;
	if (pg->by == SB_PROC_GROUPS_CGROUP) {
		name = cg_path(pg, t->cgroup_id, round);
		if (!name) {
			snprintf(buf, sizeof(buf), "cgroup:%llu", (unsigned long long)t->cgroup_id);
			name = buf;
		}
	} else if (pg->by == SB_PROC_GROUPS_USER) {
		name = user_name(pg, t->uid);
		if (!name)
			return UINT32_MAX;
	}
	return group_of(pg, name);
}

/* ---- a round ---- */

static void counts_of(const struct sb_task *t, uint64_t tick, uint64_t *c)
{
	c[GC_USER] = t->utime_ns / tick;
	c[GC_SYSTEM] = t->stime_ns / tick;
	c[GC_READ] = t->read_bytes;
	c[GC_WRITE] = t->write_bytes;
	c[GC_MAJ] = t->maj_flt;
	c[GC_MIN] = t->min_flt;
	c[GC_VCSW] = t->nvcsw;
	c[GC_ICSW] = t->nivcsw;
}

static void retire(struct proc_groups *pg, const struct track *k)
{
	struct group *g = &pg->g[k->group];
	for (int i = 0; i < GC_N; i++)
		if (k->last[i] > k->base[i])
			g->acc[i] += k->last[i] - k->base[i];
}

static int state_of(char s)
{
	switch (s) {
	case 'R':
		return ST_RUNNING;
	case 'S':
		return ST_SLEEPING;
	case 'D':
		return ST_WAITING;
	case 'Z':
		return ST_ZOMBIE;
	default:
		return ST_OTHER;
	}
}

static void account(struct proc_groups *pg, const struct sb_task *t, const struct track *k,
		    const struct sb_proc_env *env)
{
	struct group *g = &pg->g[k->group];
	for (int i = 0; i < GC_N; i++)
		g->cur[i] += k->last[i] > k->base[i] ? k->last[i] - k->base[i] : 0;
	g->procs++;
	g->threads += t->threads;
	g->rss += t->rss_pages * (uint64_t)env->page_size;
	g->vm += t->vm_pages * (uint64_t)env->page_size;
	g->swap += t->swap_pages * (uint64_t)env->page_size;
	g->fds += t->open_fds;
	if (t->fd_limit && (double)t->open_fds / (double)t->fd_limit > g->worst)
		g->worst = (double)t->open_fds / (double)t->fd_limit;
	if (!g->oldest_ns || t->start_ns < g->oldest_ns)
		g->oldest_ns = t->start_ns;
	g->states[state_of(t->state)]++;
}

static int merge(struct proc_state *st, struct proc_groups *pg, const struct sb_taskfold *f)
{
	uint64_t tick = (uint64_t)(1e9 / st->env.user_hz);
	if (sb_grow((void **)&pg->ntr, &pg->capntr, f->n, sizeof(*pg->ntr)))
		return -ENOMEM;
	size_t j = 0, n = 0;
	for (size_t i = 0; i < f->n; i++) {
		const struct sb_task *t = &f->tasks[i];
		while (j < pg->ntr_ && pg->tr[j].pid < t->pid)
			retire(pg, &pg->tr[j++]); /* exited */
		struct track *k = &pg->ntr[n];
		uint64_t key = key_of(pg, t);
		k->ti = (uint32_t)i;
		if (j < pg->ntr_ && pg->tr[j].pid == t->pid && pg->tr[j].start_ns == t->start_ns) {
			*k = pg->tr[j++];
			k->ti = (uint32_t)i;
			counts_of(t, tick, k->last);
			if (k->key != key) {
				/* another group now (exec, moved): what it did so far
				 * stays with the old one, the new one counts from here */
				retire(pg, k);
				uint32_t gi = lookup(pg, t, st->round);
				if (gi == UINT32_MAX)
					continue;
				k->group = gi;
				k->key = key;
				memcpy(k->base, k->last, sizeof(k->base));
			}
		} else {
			if (j < pg->ntr_ && pg->tr[j].pid == t->pid)
				retire(pg, &pg->tr[j++]); /* the pid was reused */
			uint32_t gi = lookup(pg, t, st->round);
			if (gi == UINT32_MAX)
				continue;
			k->pid = t->pid;
			k->start_ns = t->start_ns;
			k->group = gi;
			k->key = key;
			counts_of(t, tick, k->last);
			/* running before the first round: counted from there */
			if (pg->first_done)
				memset(k->base, 0, sizeof(k->base));
			else
				memcpy(k->base, k->last, sizeof(k->base));
		}
		n++;
	}
	while (j < pg->ntr_)
		retire(pg, &pg->tr[j++]);
	struct track *tmp = pg->tr;
	size_t tc = pg->captr;
	pg->tr = pg->ntr;
	pg->captr = pg->capntr;
	pg->ntr_ = n;
	pg->ntr = tmp;
	pg->capntr = tc;
	pg->first_done = true;
	return 0;
}

static void gsample(struct sb_evb *b, const struct group *g, const char *name, enum sb_mtype type,
		    double v, const char *help)
{
	char full[96];
	snprintf(full, sizeof(full), "namedprocess_namegroup_%s", name);
	sb_evb_sample(b, full, type, v);
	sb_evb_help(b, help);
	sb_evb_label(b, "groupname", g->name);
}

static void group_samples(struct sb_evb *b, const struct group *g, double btime, double hz)
{
	static const char *const states[ST_N] = {"Running", "Sleeping", "Waiting", "Zombie",
						 "Other"};
	uint64_t c[GC_N];
	for (int i = 0; i < GC_N; i++)
		c[i] = g->acc[i] + g->cur[i];
	gsample(b, g, "num_procs", SB_GAUGE, (double)g->procs, "number of processes in this group");
	gsample(b, g, "cpu_seconds_total", SB_COUNTER, (double)c[GC_USER] / hz,
		"Cpu user usage in seconds");
	sb_evb_label(b, "mode", "user");
	gsample(b, g, "cpu_seconds_total", SB_COUNTER, (double)c[GC_SYSTEM] / hz,
		"Cpu user usage in seconds");
	sb_evb_label(b, "mode", "system");
	gsample(b, g, "read_bytes_total", SB_COUNTER, (double)c[GC_READ], "number of bytes read");
	gsample(b, g, "write_bytes_total", SB_COUNTER, (double)c[GC_WRITE],
		"number of bytes written");
	gsample(b, g, "major_page_faults_total", SB_COUNTER, (double)c[GC_MAJ],
		"Major page faults");
	gsample(b, g, "minor_page_faults_total", SB_COUNTER, (double)c[GC_MIN],
		"Minor page faults");
	gsample(b, g, "context_switches_total", SB_COUNTER, (double)c[GC_VCSW], "Context switches");
	sb_evb_label(b, "ctxswitchtype", "voluntary");
	gsample(b, g, "context_switches_total", SB_COUNTER, (double)c[GC_ICSW], "Context switches");
	sb_evb_label(b, "ctxswitchtype", "nonvoluntary");
	static const char *const mem[] = {"resident", "virtual", "swapped"};
	const uint64_t memv[] = {g->rss, g->vm, g->swap};
	for (size_t i = 0; i < 3; i++) {
		gsample(b, g, "memory_bytes", SB_GAUGE, (double)memv[i],
			"number of bytes of memory in use");
		sb_evb_label(b, "memtype", mem[i]);
	}
	gsample(b, g, "open_filedesc", SB_GAUGE, (double)g->fds,
		"number of open file descriptors for this group");
	gsample(
	    b, g, "worst_fd_ratio", SB_GAUGE, g->worst,
	    "the worst (closest to 1) ratio between open fds and max fds among all procs in this "
	    "group");
	if (g->procs && btime > 0)
		gsample(b, g, "oldest_start_time_seconds", SB_GAUGE,
			btime + (double)(g->oldest_ns / (uint64_t)(1e9 / hz)) / hz,
			"start time in seconds since 1970/01/01 of oldest process in group");
	gsample(b, g, "num_threads", SB_GAUGE, (double)g->threads, "Number of threads");
	for (int i = 0; i < ST_N; i++) {
		gsample(
		    b, g, "states", SB_GAUGE, (double)g->states[i],
		    "Number of processes in states Running, Sleeping, Waiting, Zombie, or Other");
		sb_evb_label(b, "state", states[i]);
	}
}

void sb_proc_groups_collect(struct proc_state *st, struct sb_taskfold *f, struct sb_evb *b)
{
	struct proc_groups *pg = st->groups;
	if (!pg)
		return;
	for (size_t i = 0; i < pg->ng; i++) {
		struct group *g = &pg->g[i];
		memset(g->cur, 0, sizeof(g->cur));
		g->procs = g->threads = g->rss = g->vm = g->swap = g->fds = g->oldest_ns = 0;
		memset(g->states, 0, sizeof(g->states));
		g->worst = 0;
	}
	if (merge(st, pg, f)) {
		st->errors++;
		return;
	}
	for (size_t i = 0; i < pg->ntr_; i++)
		account(pg, &f->tasks[pg->tr[i].ti], &pg->tr[i], &st->env);
	double btime = st->statinfo.have_btime ? st->statinfo.btime : 0;
	for (size_t i = 0; i < pg->ng; i++)
		group_samples(b, &pg->g[i], btime, st->env.user_hz);
}

/* The first cgroup2 mount: /sys/fs/cgroup on a unified host,
 * /sys/fs/cgroup/unified on a hybrid one. Its paths are the groups' names. */
static char *find_cgroot(void)
{
	FILE *m = setmntent("/proc/self/mounts", "re");
	char *root = NULL;
	for (struct mntent *e; m && !root && (e = getmntent(m));)
		if (!strcmp(e->mnt_type, "cgroup2"))
			root = strdup(e->mnt_dir);
	if (m)
		endmntent(m);
	return root;
}

int sb_proc_groups_init(struct proc_state *st)
{
	if (st->cfg->groups == SB_PROC_GROUPS_OFF)
		return 0;
	struct proc_groups *pg = calloc(1, sizeof(*pg));
	if (!pg)
		return -ENOMEM;
	pg->by = st->cfg->groups;
	st->groups = pg;
	if (pg->by == SB_PROC_GROUPS_CGROUP && !(pg->cgroot = find_cgroot()))
		sb_warn(st->comp, "groups by cgroup: no cgroup v2 mount in /proc/self/mounts; "
				  "groups are named cgroup:<id>");
	return 0;
}

const char *sb_proc_groups_cgroot(const struct proc_state *st)
{
	return st->groups ? st->groups->cgroot : NULL;
}

void sb_proc_groups_free(struct proc_state *st)
{
	struct proc_groups *pg = st->groups;
	if (!pg)
		return;
	for (size_t i = 0; i < pg->ng; i++)
		free(pg->g[i].name);
	for (size_t i = 0; i < pg->ncg; i++)
		free(pg->cgs[i].path);
	free(pg->g);
	free(pg->slots);
	free(pg->tr);
	free(pg->ntr);
	free(pg->cgs);
	free(pg->cgroot);
	free(pg->users);
	free(pg);
	st->groups = NULL;
}
