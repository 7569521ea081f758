/* node_exporter's filesystem collector: statfs(2) of every mount in
 * <procfs>/1/mountinfo (<procfs>/self/mountinfo when pid 1's is hidden),
 * less the excluded mount points and types, as
 * node_filesystem_{size,free,avail}_bytes, _files, _files_free, _readonly
 * and _device_error{device,mountpoint,fstype}.
 *
 * statfs on a dead NFS server or a hung FUSE daemon blocks in the kernel,
 * uninterruptibly, for as long as it likes, so it never runs on the
 * collection loop. A worker thread takes the round's list of mounts and
 * statfs's them one by one; the loop only hands the list over and picks up
 * the latest results: values up to one interval old, and none in the
 * first round (nothing has finished yet; so none with --once). A call still running after
 * filesystem_statfs_timeout marks that mount stuck, as node_exporter does:
 * it is reported with device_error 1 and not asked again until the stuck
 * call returns; the worker caught in it is left to finish on its own and a
 * fresh one takes over the other mounts.
 *
 * The mount table itself changes rarely, and reading it is the dearest
 * file of a round (the kernel resolves every mount's path): it is read and
 * parsed again only when the kernel says it changed (sb_proc_mounts_poll). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/statfs.h>
#include <time.h>

#include "proc.h"

#define DEF_MOUNT_POINTS_EXCLUDE                                                                   \
	"^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
#define DEF_FS_TYPES_EXCLUDE                                                                       \
	"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|"    \
	"iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|"          \
	"squashfs|sysfs|tracefs)$"
/* workers caught in a stuck call at once; past it, the rest waits */
#define MAX_STUCK 4

/* ---- /proc/<pid>/mountinfo ---- */

/* In place: the kernel escapes ' ', '\t', '\n' and '\\' as \ooo; node_exporter
 * undoes \040 and \011 in mount points only. */
static size_t unescape_mp(char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 4 <= n &&
		    (!strncmp(s + i, "\\040", 4) || !strncmp(s + i, "\\011", 4))) {
			s[o++] = s[i + 2] == '4' ? ' ' : '\t';
			i += 3;
		} else {
			s[o++] = s[i];
		}
	}
	return o;
}

static bool has_opt(const char *opts, size_t n, const char *want)
{
	size_t wl = strlen(want);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && opts[j] != ',')
			j++;
		if (j - i == wl && !memcmp(opts + i, want, wl))
			return true;
		i = j + 1;
	}
	return false;
}

int sb_proc_parse_mountinfo(const char *text, const char *rootfs, sb_proc_mount_fn fn, void *arg,
			    struct sb_proc_perr *e)
{
	size_t rl = rootfs && strcmp(rootfs, "/") ? strlen(rootfs) : 0;
	unsigned lineno = 0;
	int n = 0;
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		const char *w[32];
		size_t wl[32];
		unsigned nw = 0;
		const char *q = p;
		while (nw < 32 && (wl[nw] = sb_pp_word(&q, &w[nw])))
			nw++;
		/* id parent maj:min root mountpoint options [optional...] - type source super */
		unsigned dash = 6;
		while (dash < nw && !(wl[dash] == 1 && w[dash][0] == '-'))
			dash++;
		if (nw < 10 || dash + 3 >= nw) {
			sb_proc_bad(e, lineno, "expected mountinfo fields");
			continue;
		}
		struct sb_proc_mount m = {0};
		if (wl[4] >= sizeof(m.mountpoint) || wl[dash + 2] >= sizeof(m.device) ||
		    wl[dash + 1] >= sizeof(m.fstype)) {
			sb_proc_bad(e, lineno, "a field longer than %zu bytes",
				    sizeof(m.mountpoint) - 1);
			continue;
		}
		memcpy(m.mountpoint, w[4], wl[4]);
		size_t ml = unescape_mp(m.mountpoint, wl[4]);
		m.mountpoint[ml] = 0;
		/* node_exporter strips the rootfs prefix as a string prefix */
		if (rl && !strncmp(m.mountpoint, rootfs, rl)) {
			memmove(m.mountpoint, m.mountpoint + rl, ml - rl + 1);
			if (!m.mountpoint[0])
				strcpy(m.mountpoint, "/");
		}
		memcpy(m.fstype, w[dash + 1], wl[dash + 1]);
		memcpy(m.device, w[dash + 2], wl[dash + 2]);
		m.readonly = has_opt(w[5], wl[5], "ro") || has_opt(w[dash + 3], wl[dash + 3], "ro");
		fn(arg, &m);
		n++;
	}
	return n;
}

/* ---- the statfs worker ---- */

struct fs_job {
	char path[SB_PROC_MOUNT_MAX + 256]; /* rootfs + mount point */
	struct sb_proc_fsres res;
};

struct sb_proc_fsw {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const struct sb_proc_fsops *ops;
	int64_t timeout_ns;
	unsigned refs; /* the owner and every live thread */
	bool closing;
	/* the pass being worked on, by the current worker */
	struct fs_job *jobs;
	unsigned njobs, next, cap;
	bool busy;	    /* handed over, not finished */
	bool done;	    /* finished, results not picked up yet */
	int64_t call_start; /* of the call in progress */
	bool in_call;
	unsigned gen; /* the current worker; an older one is abandoned */
	unsigned nstuck;
	char stuck[MAX_STUCK][SB_PROC_MOUNT_MAX + 256];
};

struct fs_thread_arg {
	struct sb_proc_fsw *w;
	unsigned gen;
};

/* Drops a reference; unlocks, and frees w with the last one. */
static void fsw_unref_unlock(struct sb_proc_fsw *w)
{
	if (--w->refs) {
		pthread_mutex_unlock(&w->mu);
		return;
	}
	pthread_mutex_unlock(&w->mu);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w->jobs);
	free(w);
}

static void *fs_thread(void *argp)
{
	struct fs_thread_arg a = *(struct fs_thread_arg *)argp;
	free(argp);
	sb_thread_name("statfs");
	struct sb_proc_fsw *w = a.w;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->closing && w->gen == a.gen && (!w->busy || w->next == w->njobs))
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->closing || w->gen != a.gen)
			break;
		unsigned i = w->next++;
		char path[sizeof(w->jobs[i].path)];
		memcpy(path, w->jobs[i].path, sizeof(path));
		w->call_start = w->ops->now_ns(w->ops->arg);
		w->in_call = true;
		pthread_mutex_unlock(&w->mu);
		struct statfs sf;
		int r = w->ops->statfs(w->ops->arg, path, &sf);
		pthread_mutex_lock(&w->mu);
		if (w->gen == a.gen)
			w->in_call = false;
		if (w->gen != a.gen) {
			/* abandoned while stuck in this call: the mount may be
			 * asked again */
			for (unsigned k = 0; k < w->nstuck; k++) {
				if (!strcmp(w->stuck[k], path)) {
					memmove(w->stuck[k], w->stuck[k + 1],
						(w->nstuck - k - 1) * sizeof(w->stuck[0]));
					w->nstuck--;
					break;
				}
			}
			pthread_cond_broadcast(&w->cv);
			break;
		}
		struct sb_proc_fsres *res = &w->jobs[i].res;
		res->state = r ? SB_FS_ERROR : SB_FS_OK;
		if (!r) {
			res->size = (double)sf.f_blocks * (double)sf.f_bsize;
			res->free = (double)sf.f_bfree * (double)sf.f_bsize;
			res->avail = (double)sf.f_bavail * (double)sf.f_bsize;
			res->files = (double)sf.f_files;
			res->files_free = (double)sf.f_ffree;
		}
		if (w->next == w->njobs) {
			w->busy = false;
			w->done = true;
			pthread_cond_broadcast(&w->cv);
		}
	}
	fsw_unref_unlock(w);
	return NULL;
}

static int fsw_spawn_locked(struct sb_proc_fsw *w)
{
	struct fs_thread_arg *a = malloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	*a = (struct fs_thread_arg){w, w->gen};
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 64 * 1024);
	int r = pthread_create(&t, &at, fs_thread, a);
	pthread_attr_destroy(&at);
	if (r) {
		free(a);
		return -r;
	}
	w->refs++;
	return 0;
}

struct sb_proc_fsw *sb_proc_fsw_new(const struct sb_proc_fsops *ops, int64_t timeout_ns)
{
	struct sb_proc_fsw *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->ops = ops;
	w->timeout_ns = timeout_ns;
	w->refs = 1;
	pthread_mutex_lock(&w->mu);
	int r = fsw_spawn_locked(w);
	pthread_mutex_unlock(&w->mu);
	if (r) {
		pthread_mutex_lock(&w->mu);
		fsw_unref_unlock(w);
		return NULL;
	}
	return w;
}

void sb_proc_fsw_free(struct sb_proc_fsw *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->closing = true;
	pthread_cond_broadcast(&w->cv);
	fsw_unref_unlock(w); /* a thread stuck in statfs frees it when it returns */
}

static bool is_stuck_locked(struct sb_proc_fsw *w, const char *path)
{
	for (unsigned k = 0; k < w->nstuck; k++)
		if (!strcmp(w->stuck[k], path))
			return true;
	return false;
}

void sb_proc_fsw_round(struct sb_proc_fsw *w, const char *const *paths, unsigned n,
		       struct sb_proc_fsres *out)
{
	bool wake = false;
	pthread_mutex_lock(&w->mu);
	/* a call past the timeout: its mount is stuck, its worker abandoned */
	if (w->busy && w->in_call && w->nstuck < MAX_STUCK &&
	    w->ops->now_ns(w->ops->arg) - w->call_start > w->timeout_ns) {
		struct fs_job *j = &w->jobs[w->next - 1];
		memcpy(w->stuck[w->nstuck++], j->path, sizeof(j->path));
		w->gen++;
		w->in_call = false;
		w->busy = false;
		w->done = true; /* what it finished is good; the rest is pending */
		j->res.state = SB_FS_STUCK;
		wake = true;
		if (fsw_spawn_locked(w))
			w->nstuck = MAX_STUCK; /* no worker: nothing more is asked */
	}
	for (unsigned i = 0; i < n; i++) {
		out[i].state = SB_FS_PENDING;
		if (is_stuck_locked(w, paths[i])) {
			out[i].state = SB_FS_STUCK;
			continue;
		}
		if (!w->done && !w->busy)
			continue;
		/* the last pass's result for this path: same order mostly */
		for (unsigned k = 0; k < w->njobs; k++) {
			struct fs_job *j = &w->jobs[(i + k) % w->njobs];
			if (!strcmp(j->path, paths[i])) {
				if (j->res.state != SB_FS_PENDING)
					out[i] = j->res;
				break;
			}
		}
	}
	if (!w->busy && w->nstuck < MAX_STUCK) {
		/* hand the new list over: every mount not stuck */
		if (n > w->cap) {
			struct fs_job *nj = realloc(w->jobs, n * sizeof(*nj));
			if (nj) {
				w->jobs = nj;
				w->cap = n;
			}
		}
		unsigned k = 0;
		for (unsigned i = 0; i < n && k < w->cap; i++) {
			if (is_stuck_locked(w, paths[i]))
				continue;
			struct fs_job *j = &w->jobs[k++];
			snprintf(j->path, sizeof(j->path), "%s", paths[i]);
			/* keep the previous value until this pass replaces it */
			j->res = out[i];
		}
		w->njobs = k;
		w->next = 0;
		w->busy = k > 0;
		w->done = k == 0;
		wake = true;
	}
	pthread_mutex_unlock(&w->mu);
	/* After unlocking: woken under the lock, the worker would find mu
	 * held and block on it at once, a second sleep and wake-up a round.
	 * w lives on (the caller holds a reference), and a worker that
	 * checks its condition before this still sees the new pass: it was
	 * set under mu. */
	if (wake)
		pthread_cond_broadcast(&w->cv);
}

bool sb_proc_fsw_wait(struct sb_proc_fsw *w, int64_t timeout_ns)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ns / 1000000000;
	dl.tv_nsec += timeout_ns % 1000000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&w->mu);
	int r = 0;
	while (w->busy && r == 0)
		r = pthread_cond_timedwait(&w->cv, &w->mu, &dl);
	bool idle = !w->busy;
	pthread_mutex_unlock(&w->mu);
	return idle;
}

unsigned sb_proc_fsw_stuck(struct sb_proc_fsw *w)
{
	pthread_mutex_lock(&w->mu);
	unsigned n = w->nstuck;
	pthread_mutex_unlock(&w->mu);
	return n;
}

/* ---- the collector ---- */

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif

bool sb_proc_mounts_pollable(int fd)
{
	struct statfs sf;
	return fd >= 0 && !fstatfs(fd, &sf) && sf.f_type == PROC_SUPER_MAGIC;
}

int sb_proc_mounts_poll(int fd)
{
	return sb_proc_mounts_pollable(fd) ? sb_proc_mounts_changed(fd) : -1;
}

int sb_proc_mounts_changed(int fd)
{
	/* proc(5): a change of the mount namespace since the last poll (or
	 * the open) is POLLPRI and POLLERR, once */
	struct pollfd p = {.fd = fd, .events = POLLPRI};
	int n = poll(&p, 1, 0);
	if (n < 0)
		return -1;
	return n > 0 && (p.revents & (POLLPRI | POLLERR | POLLNVAL)) ? 1 : 0;
}

static int real_statfs(void *arg, const char *path, struct statfs *sf)
{
	(void)arg;
	return statfs(path, sf) ? -errno : 0;
}

static int64_t real_now(void *arg)
{
	(void)arg;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const struct sb_proc_fsops real_ops = {.statfs = real_statfs, .now_ns = real_now};

struct fs_coll {
	struct proc_state *st;
	struct sb_proc_filter mp, type;
	struct sb_proc_fsw *w;
	struct sb_proc_mount *m; /* this round's mounts, after the filters */
	char (*path)[SB_PROC_MOUNT_MAX + 256];
	const char **pathv;
	struct sb_proc_fsres *res;
	unsigned n, cap;
	/* the table fc->m came from, when it parsed clean: c->f[src], -1 */
	int src;
	/* whether the fd pfd is in procfs, asked once: what an open fd
	 * refers to cannot move to another filesystem */
	int pfd;
	bool pollable;
	int nfd; /* pfd when pollable, for the round's poll (notify.c); else -1 */
	int slot;
};

static void fs_add(void *arg, const struct sb_proc_mount *m)
{
	struct fs_coll *fc = arg;
	if (!sb_proc_filter_pass(&fc->mp, m->mountpoint, strlen(m->mountpoint)) ||
	    !sb_proc_filter_pass(&fc->type, m->fstype, strlen(m->fstype)))
		return;
	/* node_exporter reports a device, mount point and type once */
	for (unsigned i = 0; i < fc->n; i++)
		if (!strcmp(fc->m[i].mountpoint, m->mountpoint) &&
		    !strcmp(fc->m[i].device, m->device) && !strcmp(fc->m[i].fstype, m->fstype))
			return;
	if (fc->n == fc->cap) {
		unsigned cap = fc->cap ? 2 * fc->cap : 32;
		struct sb_proc_mount *nm = realloc(fc->m, cap * sizeof(*nm));
		if (nm)
			fc->m = nm;
		char(*np)[SB_PROC_MOUNT_MAX + 256] = realloc(fc->path, cap * sizeof(*np));
		if (np)
			fc->path = np;
		const char **nv = realloc(fc->pathv, cap * sizeof(*nv));
		if (nv)
			fc->pathv = nv;
		struct sb_proc_fsres *nr = realloc(fc->res, cap * sizeof(*nr));
		if (nr)
			fc->res = nr;
		if (!nm || !np || !nv || !nr)
			return; /* out of memory: this mount is left out */
		fc->cap = cap;
	}
	fc->m[fc->n] = *m;
	/* filepath.Join(rootfs, mountpoint) */
	const char *root = fc->st->cfg->rootfs ? fc->st->cfg->rootfs : "/";
	size_t rl = strlen(root);
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	if (rl == 1 && root[0] == '/')
		rl = 0;
	snprintf(fc->path[fc->n], sizeof(fc->path[0]), "%.*s%s", (int)rl, root,
		 rl && !strcmp(m->mountpoint, "/") ? "" : m->mountpoint);
	fc->n++;
}

/* The mounts of this round into fc; <0 when no mount table could be read. */
static int fs_mounts(struct proc_state *st, struct sb_proc_coll *c, struct fs_coll *fc)
{
	int fd = fc->src >= 0 ? c->f[fc->src]->fd : -1;
	if (fd >= 0 && fd != fc->pfd) {
		fc->pfd = fd;
		fc->pollable = sb_proc_mounts_pollable(fd);
	}
	fc->nfd = fd >= 0 && fc->pollable ? fd : -1;
	if (fc->nfd >= 0) {
		int told = sb_proc_notify_told(st, fc->slot);
		if (told < 0)
			told = sb_proc_mounts_changed(fd);
		if (!told)
			return 0; /* the same mounts as last round */
	}
	fc->src = -1;
	fc->n = 0;
	unsigned i = 0;
	const char *text = sb_proc_coll_read(st, c, 0);
	if (!text && c->f[0]->last_err == -ENOENT) /* hidepid: pid 1 is hidden */
		text = sb_proc_coll_read(st, c, i = 1);
	if (!text)
		return sb_proc_read_err(c->f[i], true);
	struct sb_proc_perr e = {0};
	sb_proc_parse_mountinfo(text, st->cfg->rootfs, fs_add, fc, &e);
	for (unsigned k = 0; k < fc->n; k++)
		fc->pathv[k] = fc->path[k];
	int r = sb_proc_report(st, c->f[i], &e);
	if (!r)
		fc->src = (int)i;
	return r;
}

static void fs_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct fs_coll *fc = c->priv;
	if (!fc)
		return;
	sb_proc_fsw_free(fc->w);
	sb_proc_filter_free(&fc->mp);
	sb_proc_filter_free(&fc->type);
	free(fc->m);
	free(fc->path);
	free(fc->pathv);
	free(fc->res);
	free(fc);
	c->priv = NULL;
}

static int fs_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct fs_coll *fc = calloc(1, sizeof(*fc));
	if (!fc)
		return -ENOMEM;
	c->priv = fc;
	fc->st = st;
	fc->src = fc->pfd = fc->nfd = -1;
	fc->slot = sb_proc_notify_add(st, &fc->nfd, POLLPRI);
	char err[256];
	int r = sb_proc_filter_init(&fc->mp, NULL, st->cfg->filesystem_mount_points_exclude, err,
				    sizeof(err));
	if (!r)
		r = sb_proc_filter_init(&fc->type, NULL, st->cfg->filesystem_fs_types_exclude, err,
					sizeof(err));
	if (r) {
		sb_err(st->comp, "%s", err);
		return r;
	}
	return 0;
}

static void fs_sample(struct sb_evb *b, const struct sb_proc_mount *m, const char *name,
		      const char *help, double v)
{
	sb_evb_sample(b, name, SB_GAUGE, v);
	sb_evb_help(b, help);
	sb_evb_label(b, "device", m->device);
	sb_evb_label(b, "mountpoint", m->mountpoint);
	sb_evb_label(b, "fstype", m->fstype);
}

static int fs_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct fs_coll *fc = c->priv;
	/* started here, not in init: the agent drops its capabilities after
	 * the sensors' init, and a thread made before keeps them */
	if (!fc->w && !(fc->w = sb_proc_fsw_new(&real_ops, st->cfg->filesystem_statfs_timeout)))
		return -ENOMEM;
	int r = fs_mounts(st, c, fc);
	if (!fc->n)
		return r;
	/* never waits: picks up what the worker has, hands the list over */
	sb_proc_fsw_round(fc->w, fc->pathv, fc->n, fc->res);
	for (unsigned i = 0; i < fc->n; i++) {
		const struct sb_proc_fsres *s = &fc->res[i];
		const struct sb_proc_mount *m = &fc->m[i];
		if (s->state == SB_FS_PENDING)
			continue; /* a new mount, asked for the first time */
		bool err = s->state != SB_FS_OK;
		fs_sample(
		    b, m, "node_filesystem_device_error",
		    "Whether an error occurred while getting statistics for the given device.",
		    err);
		if (err)
			continue;
		fs_sample(b, m, "node_filesystem_size_bytes", "Filesystem size in bytes.", s->size);
		fs_sample(b, m, "node_filesystem_free_bytes", "Filesystem free space in bytes.",
			  s->free);
		fs_sample(b, m, "node_filesystem_avail_bytes",
			  "Filesystem space available to non-root users in bytes.", s->avail);
		fs_sample(b, m, "node_filesystem_files", "Filesystem total file nodes.", s->files);
		fs_sample(b, m, "node_filesystem_files_free", "Filesystem total free file nodes.",
			  s->files_free);
		fs_sample(b, m, "node_filesystem_readonly", "Filesystem read-only status.",
			  m->readonly);
	}
	return r;
}

static const struct sb_cfg_key fs_keys[] = {
    {"filesystem_mount_points_exclude", SB_CT_STR,
     offsetof(struct proc_cfg, filesystem_mount_points_exclude), DEF_MOUNT_POINTS_EXCLUDE,
     "regexp of mount points to leave out (after the rootfs prefix is taken off)"},
    {"filesystem_fs_types_exclude", SB_CT_STR,
     offsetof(struct proc_cfg, filesystem_fs_types_exclude), DEF_FS_TYPES_EXCLUDE,
     "regexp of filesystem types to leave out"},
    {"filesystem_statfs_timeout", SB_CT_DURATION,
     offsetof(struct proc_cfg, filesystem_statfs_timeout), "5s",
     "a statfs call running longer marks its mount stuck (device_error 1) until it returns"},
    {0},
};

static int fs_check(const struct proc_cfg *c, char *err, size_t errlen)
{
	int r = sb_proc_check_regex("filesystem_mount_points_exclude",
				    c->filesystem_mount_points_exclude, err, errlen);
	if (!r)
		r = sb_proc_check_regex("filesystem_fs_types_exclude",
					c->filesystem_fs_types_exclude, err, errlen);
	return r;
}

const struct sb_proc_collector sb_proc_collector_filesystem = {
    .name = "filesystem",
    .default_on = true,
    /* many records: read until a read returns 0. Optional: a fixture tree
     * without a mount table has no filesystems. */
    .files =
	(const struct sb_proc_src[]){
	    {"1/mountinfo", .optional = true},
	    {"self/mountinfo", .optional = true},
	    {NULL},
	},
    .keys = fs_keys,
    .check = fs_check,
    .init = fs_init,
    .collect = fs_collect,
    .free = fs_free,
};
