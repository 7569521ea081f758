/* Per-process metrics for processes matched by name or pid.
 *
 * Finding processes by name is the expensive part of tools like ps: they
 * open and read several files of every process, every time. Here each
 * round lists the procfs root once (getdents64 on a kept-open fd) and
 * merges the listing, which procfs returns in pid order, with the previous
 * round's. Only pids that are new (or whose /proc/<pid> inode changed,
 * which is how a reused pid shows) have their stat read, and their cmdline
 * when comm does not match. A listed process costs a directory entry and a
 * comparison.
 *
 * A watched process keeps its stat, status, io, limits and fd directory
 * open, so a round re-reads them with pread; those fds stay bound to the
 * process, so a reused pid can never be mistaken for it (reads fail with
 * ESRCH once it is gone). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "proc.h"
#include "sb_procsel.h"

#define PROC_SUPER_MAGIC 0x9fa0
#define PF_KTHREAD 0x00200000u
#define NO_MATCH (-1)
#define BY_PID (-2)

enum { W_STAT, W_STATUS, W_IO, W_LIMITS, W_FD, W_NFD };

struct watch {
	int pid;
	int match; /* index into cfg->processes, or BY_PID */
	uint64_t starttime;
	char comm[64];
	char pidstr[16];
	int fd[W_NFD];
	int open_err[W_NFD];	       /* errno of a file that could not be opened */
	struct sb_ratelimit rl[W_NFD]; /* per file: io refused when not root, ... */
};

struct pident {
	int pid;
	int match;
	uint64_t ino;
	struct watch *w;
	uint64_t recheck; /* round to read an unmatched pid's stat again */
	unsigned checks;
	uint32_t comm_hash; /* comm when last looked at (0: not yet) */
};

struct pid_target {
	char spec[16]; /* as configured: a number or "self" */
	int pid;       /* resolved; 0 until known */
	struct watch *w;
	bool missing_logged;
};

struct proc_procs {
	int dirfd;
	bool procfs; /* a real procfs: fd counts come from st_size */
	char *dents;
	size_t dents_cap;
	struct pident *cur, *prev;
	size_t ncur, nprev, capcur, capprev;
	struct pid_target *targets;
	size_t ntargets;
	size_t nwatches;
	struct sb_ratelimit rl_list, rl_max, rl_stat;
	struct sb_buf buf;
};

/* ---- watches ---- */

static void watch_free(struct proc_procs *pp, struct watch *w)
{
	if (!w)
		return;
	for (int i = 0; i < W_NFD; i++)
		if (w->fd[i] >= 0)
			close(w->fd[i]);
	pp->nwatches--;
	free(w);
}

/* fd_stat: an open /proc/<pid>/stat (taken over). */
static struct watch *watch_new(struct proc_state *st, int pid, int match, int fd_stat,
			       const struct sb_proc_pidstat *ps)
{
	struct proc_procs *pp = st->procs;
	struct watch *w = calloc(1, sizeof(*w));
	if (!w) {
		close(fd_stat);
		return NULL;
	}
	pp->nwatches++;
	w->pid = pid;
	w->match = match;
	w->starttime = ps->starttime;
	for (int i = 0; i < W_NFD; i++)
		w->rl[i].interval_ns = 300 * SB_NSEC_PER_SEC;
	snprintf(w->comm, sizeof(w->comm), "%s", ps->comm);
	snprintf(w->pidstr, sizeof(w->pidstr), "%d", pid);
	w->fd[W_STAT] = fd_stat;
	static const char *const rel[] = {NULL, "status", "io", "limits", "fd"};
	char path[64];
	for (int i = W_STATUS; i < W_NFD; i++) {
		snprintf(path, sizeof(path), "%d/%s", pid, rel[i]);
		int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | (i == W_FD ? O_DIRECTORY : 0);
		w->fd[i] = openat(pp->dirfd, path, flags);
		/* EACCES on io (another user's process, agent not root) is
		 * reported when read; the other samples still go out */
		w->open_err[i] = w->fd[i] < 0 ? errno : 0;
	}
	return w;
}

static ssize_t pread_all(struct proc_procs *pp, int fd)
{
	return sb_pread_all(fd, &pp->buf, 1u << 20, true, false);
}

static long count_fds(struct proc_procs *pp, int fd)
{
	struct stat sb;
	/* Linux 6.2+: the fd directory's size is the number of open fds */
	if (pp->procfs && !fstat(fd, &sb) && sb.st_size > 0)
		return (long)sb.st_size;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	long n = 0;
	char buf[4096];
	for (;;) {
		ssize_t r = getdents64(fd, buf, sizeof(buf));
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		for (ssize_t off = 0; off < r;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);
			if (de->d_name[0] != '.')
				n++;
			off += de->d_reclen;
		}
	}
	return n;
}

static const char *read_err(const struct watch *w, int i, ssize_t r)
{
	if (r == -EBADF && w->open_err[i])
		return strerror(w->open_err[i]);
	return strerror((int)-r);
}

static void watch_problem(struct proc_state *st, struct watch *w, int i, const char *what)
{
	static const char *const file[W_NFD] = {"stat", "status", "io", "limits", "fd"};
	st->errors++;
	sb_log_rl(&w->rl[i], SB_LOG_WARN, st->comp, "%s/%d/%s: %s", st->cfg->procfs, w->pid,
		  file[i], what);
}

static int match_name(struct proc_state *st, int pid, const struct sb_proc_pidstat *ps);

enum { P_OK, P_FAIL, P_GONE };

/* Re-reads file i of a watched process into pp->buf. P_FAIL: it could not
 * be read (reported); P_GONE: the process exited. */
static int read_part(struct proc_state *st, struct watch *w, int i)
{
	ssize_t r = pread_all(st->procs, w->fd[i]);
	if (r == -ESRCH || r == 0)
		return P_GONE;
	if (r < 0) {
		watch_problem(st, w, i, read_err(w, i, r));
		return P_FAIL;
	}
	return P_OK;
}

enum { W_GONE, W_KEEP, W_UNMATCHED };

/* One round for one process: W_KEEP, W_GONE (exited: drop the watch) or
 * W_UNMATCHED (it exec'd or renamed itself and no longer matches). */
static int watch_collect(struct proc_state *st, struct watch *w, struct sb_evb *b)
{
	struct proc_procs *pp = st->procs;
	const char *why = "";
	struct sb_proc_pidstat ps;
	ssize_t r = pread_all(pp, w->fd[W_STAT]);
	if (r == -ESRCH || r == 0)
		return W_GONE; /* exited */
	if (r < 0) {
		watch_problem(st, w, W_STAT, strerror((int)-r));
		return W_KEEP;
	}
	if (sb_proc_parse_pidstat(pp->buf.data, &ps, &why)) {
		watch_problem(st, w, W_STAT, why);
		return W_KEEP;
	}
	if (ps.starttime != w->starttime)
		return W_GONE; /* cannot happen with a bound fd; never mix two processes */
	if (ps.state == 'Z' || ps.state == 'X')
		return W_GONE; /* a zombie has no memory nor files to report */
	if (strcmp(ps.comm, w->comm)) {
		/* exec or a rename: does the configured name still fit? */
		if (w->match != BY_PID) {
			int m = match_name(st, w->pid, &ps);
			if (m < 0)
				return W_UNMATCHED;
			w->match = m;
		}
		snprintf(w->comm, sizeof(w->comm), "%s", ps.comm);
	}

	struct sb_proc_pidstatus ctx = {0};
	int p = read_part(st, w, W_STATUS);
	if (p == P_GONE)
		return W_GONE;
	if (p == P_OK && sb_proc_parse_pidstatus(pp->buf.data, &ctx, &why))
		watch_problem(st, w, W_STATUS, why);

	struct sb_proc_pidio io;
	bool have_io = false;
	if ((p = read_part(st, w, W_IO)) == P_GONE)
		return W_GONE;
	if (p == P_OK) {
		have_io = !sb_proc_parse_pidio(pp->buf.data, &io, &why);
		if (!have_io)
			watch_problem(st, w, W_IO, why);
	}

	uint64_t maxfds = 0;
	bool have_max = false;
	if ((p = read_part(st, w, W_LIMITS)) == P_GONE)
		return W_GONE;
	if (p == P_OK) {
		have_max = !sb_proc_parse_limits_nofile(pp->buf.data, &maxfds, &why);
		if (!have_max)
			watch_problem(st, w, W_LIMITS, why);
	}

	long nfds = w->fd[W_FD] >= 0 ? count_fds(pp, w->fd[W_FD]) : -EBADF;
	if (nfds == -ENOENT || nfds == -ESRCH)
		return W_GONE;
	if (nfds < 0)
		watch_problem(st, w, W_FD, read_err(w, W_FD, nfds));

	const struct proc_cfg *c = st->cfg;
	const struct sb_proc_env *env = &st->env;
	struct sb_proc_pm v = {0};
	sb_proc_pm_set(&v, SB_PM_CPU, (double)(ps.utime + ps.stime) / env->user_hz);
	sb_proc_pm_set(&v, SB_PM_RSS, (double)ps.rss * env->page_size);
	sb_proc_pm_set(&v, SB_PM_VSIZE, (double)ps.vsize);
	sb_proc_pm_set(&v, SB_PM_THREADS, (double)ps.num_threads);
	if (st->statinfo.have_btime)
		sb_proc_pm_set(&v, SB_PM_START,
			       st->statinfo.btime + (double)ps.starttime / env->user_hz);
	sb_proc_pm_set(&v, SB_PM_MINFLT, (double)ps.minflt);
	sb_proc_pm_set(&v, SB_PM_MAJFLT, (double)ps.majflt);
	if (ctx.have_ctxt) {
		sb_proc_pm_set(&v, SB_PM_VCSW, (double)ctx.voluntary);
		sb_proc_pm_set(&v, SB_PM_ICSW, (double)ctx.involuntary);
	}
	if (have_io) {
		sb_proc_pm_set(&v, SB_PM_READ, (double)io.read_bytes);
		sb_proc_pm_set(&v, SB_PM_WRITE, (double)io.write_bytes);
	}
	if (nfds >= 0)
		sb_proc_pm_set(&v, SB_PM_FDS, (double)nfds);
	if (have_max)
		sb_proc_pm_set(&v, SB_PM_MAXFDS, (double)maxfds);
	sb_proc_metrics_emit(b, &v, w->pidstr, w->comm,
			     w->match >= 0 ? c->processes.v[w->match] : NULL);
	return W_KEEP;
}

/* ---- classifying new pids ---- */

/* Opens and parses /proc/<rel>/stat; returns the fd (kept for a watch) or
 * -errno: -ENOENT/-ESRCH when the process is gone, -EINVAL (logged and
 * counted) when the file is garbled. */
static int open_stat(struct proc_state *st, const char *rel, struct sb_proc_pidstat *ps)
{
	struct proc_procs *pp = st->procs;
	char path[64];
	snprintf(path, sizeof(path), "%s/stat", rel);
	int fd = openat(pp->dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	ssize_t r = pread_all(pp, fd);
	const char *why = NULL;
	if (r > 0 && !sb_proc_parse_pidstat(pp->buf.data, ps, &why))
		return fd;
	close(fd);
	if (r < 0)
		return (int)r;
	if (r == 0)
		return -ESRCH; /* exited between open and read */
	st->errors++;
	sb_log_rl(&pp->rl_stat, SB_LOG_WARN, st->comp, "%s/%s: %s", st->cfg->procfs, path, why);
	return -EINVAL;
}

static int match_name(struct proc_state *st, int pid, const struct sb_proc_pidstat *ps)
{
	const struct sb_strlist *names = &st->cfg->processes;
	int i = sb_procsel_match((const char *const *)names->v, names->n, ps->comm,
				 st->procs->dirfd, (uint32_t)pid, ps->flags & PF_KTHREAD);
	return i < 0 ? NO_MATCH : i;
}

static bool room_for_watch(struct proc_state *st)
{
	struct proc_procs *pp = st->procs;
	if (pp->nwatches < (size_t)st->cfg->max_processes)
		return true;
	sb_log_rl(&pp->rl_max, SB_LOG_WARN, st->comp,
		  "more than max_processes=%lld processes match; the others are not reported",
		  (long long)st->cfg->max_processes);
	return false;
}

/* An unmatched process is looked at again after 1, 2, 4, ... rounds, then
 * every RECHECK_MAX: a process listed between its fork and its exec (or
 * one that renames itself) would otherwise keep its old name here. */
#define RECHECK_MAX 512

static uint32_t comm_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h | 1; /* never 0 */
}

static void not_matched(struct proc_state *st, struct pident *e)
{
	unsigned shift = e->checks < 9 ? e->checks : 9;
	uint64_t wait = 1ull << shift;
	if (wait >= RECHECK_MAX) /* spread the steady state over rounds */
		wait = RECHECK_MAX + (uint64_t)e->pid % 64;
	e->recheck = st->round + wait;
	e->checks++;
}

/* A pid seen for the first time, again under a new inode, or due for a
 * recheck. old: the watch it had, kept if it is the same process. */
static void classify(struct proc_state *st, struct pident *e, struct watch *old)
{
	struct sb_proc_pidstat ps;
	char rel[16];
	snprintf(rel, sizeof(rel), "%d", e->pid);
	int fd = open_stat(st, rel, &ps);
	e->match = NO_MATCH;
	e->w = NULL;
	if (fd < 0) {
		watch_free(st->procs, old);
		not_matched(st, e);
		return; /* gone already, or not ours to read: not an error */
	}
	if (old && old->starttime == ps.starttime) {
		/* same process, its dentry was only re-made */
		close(fd);
		e->match = old->match;
		e->w = old;
		return;
	}
	watch_free(st->procs, old);
	uint32_t h = comm_hash(ps.comm);
	if (e->comm_hash == h && !old) {
		/* a recheck, same comm: no exec since, cmdline not read again */
		close(fd);
		not_matched(st, e);
		return;
	}
	e->comm_hash = h;
	e->match = match_name(st, e->pid, &ps);
	if (e->match >= 0 && room_for_watch(st)) {
		e->w = watch_new(st, e->pid, e->match, fd, &ps);
		return;
	}
	close(fd);
	if (e->match < 0) {
		not_matched(st, e);
		/* kernel threads never exec: no need to look again */
		if (ps.flags & PF_KTHREAD)
			e->recheck = UINT64_MAX;
	}
}

/* ---- listing ---- */

static int cmp_pident(const void *a, const void *b)
{
	const struct pident *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int grow(struct pident **v, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 256;
	while (c < need)
		c *= 2;
	struct pident *n = realloc(*v, c * sizeof(*n));
	if (!n)
		return -ENOMEM;
	*v = n;
	*cap = c;
	return 0;
}

static int list_pids(struct proc_procs *pp)
{
	pp->ncur = 0;
	if (lseek(pp->dirfd, 0, SEEK_SET) < 0)
		return -errno;
	bool sorted = true;
	for (;;) {
		ssize_t r = getdents64(pp->dirfd, pp->dents, pp->dents_cap);
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		for (ssize_t off = 0; off < r;) {
			struct dirent64 *de = (struct dirent64 *)(pp->dents + off);
			off += de->d_reclen;
			const char *s = de->d_name;
			if (*s < '1' || *s > '9')
				continue;
			long pid = 0;
			for (; *s >= '0' && *s <= '9' && pid <= INT_MAX; s++)
				pid = pid * 10 + (*s - '0');
			if (*s || pid > INT_MAX)
				continue;
			if (grow(&pp->cur, &pp->capcur, pp->ncur + 1))
				return -ENOMEM;
			struct pident *e = &pp->cur[pp->ncur++];
			*e = (struct pident){(int)pid, NO_MATCH, de->d_ino, NULL, 0, 0, 0};
			if (pp->ncur > 1 && e[-1].pid >= e->pid)
				sorted = false;
		}
	}
	/* procfs lists in pid order; a fixture directory need not */
	if (!sorted)
		qsort(pp->cur, pp->ncur, sizeof(*pp->cur), cmp_pident);
	return 0;
}

static void scan(struct proc_state *st)
{
	struct proc_procs *pp = st->procs;
	int r = list_pids(pp);
	if (r) {
		st->errors++;
		sb_log_rl(&pp->rl_list, SB_LOG_WARN, st->comp, "cannot list %s: %s",
			  st->cfg->procfs, strerror(-r));
		return; /* keep last round's view */
	}
	size_t j = 0;
	for (size_t i = 0; i < pp->ncur; i++) {
		struct pident *e = &pp->cur[i];
		while (j < pp->nprev && pp->prev[j].pid < e->pid)
			watch_free(pp, pp->prev[j++].w); /* exited */
		if (j < pp->nprev && pp->prev[j].pid == e->pid) {
			struct pident *o = &pp->prev[j++];
			if (o->ino == e->ino) {
				*e = *o;
				/* matched but over max_processes, or due for a
				 * look at its name again */
				if (e->match >= 0 && !e->w) {
					e->comm_hash = 0;
					classify(st, e, NULL);
				} else if (!e->w && st->round >= e->recheck) {
					classify(st, e, NULL);
				}
				continue;
			}
			e->checks = 0;
			e->comm_hash = 0;
			classify(st, e, o->w);
			continue;
		}
		classify(st, e, NULL);
	}
	while (j < pp->nprev)
		watch_free(pp, pp->prev[j++].w);
	struct pident *t = pp->prev;
	size_t tc = pp->capprev;
	pp->prev = pp->cur;
	pp->capprev = pp->capcur;
	pp->nprev = pp->ncur;
	pp->cur = t;
	pp->capcur = tc;
	pp->ncur = 0;
}

static struct pident *find_listed(struct proc_procs *pp, int pid)
{
	struct pident key = {.pid = pid};
	return bsearch(&key, pp->prev, pp->nprev, sizeof(key), cmp_pident);
}

static void collect_target(struct proc_state *st, struct pid_target *t, struct sb_evb *b)
{
	struct proc_procs *pp = st->procs;
	if (t->w && st->cfg->processes.n) {
		/* it became a match by name since (an exec): reported as such */
		struct pident *e = find_listed(pp, t->pid);
		if (e && e->w) {
			watch_free(pp, t->w);
			t->w = NULL;
			return;
		}
	}
	if (t->w && watch_collect(st, t->w, b) == W_GONE) {
		watch_free(pp, t->w);
		t->w = NULL;
	}
	if (t->w)
		return;
	struct sb_proc_pidstat ps;
	int fd = open_stat(st, t->spec, &ps);
	if (fd < 0) {
		if (!t->missing_logged && fd != -EINVAL)
			sb_info(st->comp, "pid %s is not running (%s/%s/stat: %s)", t->spec,
				st->cfg->procfs, t->spec, strerror(-fd));
		t->missing_logged = true;
		return;
	}
	t->missing_logged = false;
	/* the directory names the process; its stat should agree */
	uint64_t dirpid;
	int pid = sb_parse_u64(t->spec, &dirpid) ? (int)ps.pid : (int)dirpid;
	/* already reported as a process matched by name? */
	struct pident *e = st->cfg->processes.n ? find_listed(pp, pid) : NULL;
	if ((e && e->w) || !room_for_watch(st)) {
		close(fd);
		return;
	}
	t->pid = pid;
	t->w = watch_new(st, t->pid, BY_PID, fd, &ps);
	if (t->w && watch_collect(st, t->w, b) == W_GONE) {
		watch_free(pp, t->w);
		t->w = NULL;
	}
}

void sb_proc_procs_collect(struct proc_state *st, struct sb_evb *b)
{
	struct proc_procs *pp = st->procs;
	if (!pp)
		return;
	if (st->cfg->processes.n) {
		scan(st);
		for (size_t i = 0; i < pp->nprev; i++) {
			struct pident *e = &pp->prev[i];
			if (!e->w)
				continue;
			int r = watch_collect(st, e->w, b);
			if (r == W_KEEP)
				continue;
			watch_free(pp, e->w);
			e->w = NULL;
			e->match = NO_MATCH;
			if (r == W_UNMATCHED)
				not_matched(st, e);
			else
				e->recheck = st->round + 1; /* gone: the listing will tell */
		}
	}
	for (size_t i = 0; i < pp->ntargets; i++)
		collect_target(st, &pp->targets[i], b);
}

/* Each watched process holds W_NFD files: make room under RLIMIT_NOFILE
 * (systemd's default soft limit is 1024) within the hard limit. */
static void raise_nofile(struct proc_state *st)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)st->cfg->max_processes * W_NFD + 256;
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return;
	rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
	if (want <= rl.rlim_cur)
		return;
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		sb_dbg(st->comp, "raised the open files limit to %llu", (unsigned long long)want);
}

int sb_proc_procs_init(struct proc_state *st)
{
	const struct proc_cfg *c = st->cfg;
	struct proc_procs *pp = calloc(1, sizeof(*pp));
	if (!pp)
		return -ENOMEM;
	st->procs = pp;
	pp->dirfd = -1;
	sb_buf_init(&pp->buf);
	pp->rl_list.interval_ns = pp->rl_max.interval_ns = pp->rl_stat.interval_ns =
	    300 * SB_NSEC_PER_SEC;
	pp->dirfd = open(c->procfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pp->dirfd < 0) {
		int r = -errno;
		sb_err(st->comp, "cannot open %s: %s", c->procfs, strerror(-r));
		return r;
	}
	struct statfs sfs;
	pp->procfs = !fstatfs(pp->dirfd, &sfs) && sfs.f_type == PROC_SUPER_MAGIC;
	pp->dents_cap = 64 * 1024;
	if (!(pp->dents = malloc(pp->dents_cap)))
		return -ENOMEM;
	if (c->pids.n && !(pp->targets = calloc(c->pids.n, sizeof(*pp->targets))))
		return -ENOMEM;
	for (size_t i = 0; i < c->pids.n; i++) {
		snprintf(pp->targets[i].spec, sizeof(pp->targets[i].spec), "%s", c->pids.v[i]);
		pp->ntargets++;
	}
	raise_nofile(st);
	return 0;
}

void sb_proc_procs_free(struct proc_state *st)
{
	struct proc_procs *pp = st->procs;
	if (!pp)
		return;
	for (size_t i = 0; i < pp->nprev; i++)
		watch_free(pp, pp->prev[i].w);
	for (size_t i = 0; i < pp->ntargets; i++)
		watch_free(pp, pp->targets[i].w);
	if (pp->dirfd >= 0)
		close(pp->dirfd);
	free(pp->dents);
	free(pp->cur);
	free(pp->prev);
	free(pp->targets);
	sb_buf_free(&pp->buf);
	free(pp);
	st->procs = NULL;
}

/* ---- the collector ---- */

static const char *const reader_names[] = {"auto", "bpf", "procfs", NULL};
static const char *const group_names[] = {"off", "comm", "cgroup", "user", NULL};

/* The reader, said in one line: the BPF task iterator where it can run
 * (auto, bpf), else procfs with the reason. */
static int procs_init(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)c;
	const struct proc_cfg *cfg = st->cfg;
	if (!cfg->processes.n && !cfg->pids.n && cfg->groups == SB_PROC_GROUPS_OFF)
		return 1; /* nothing to watch */
	int r = sb_proc_groups_init(st);
	if (r)
		return r;
	char why[256] = "process_reader is procfs";
	if (cfg->process_reader != SB_PROC_READER_PROCFS &&
	    sb_proc_walk_init(st, true, why, sizeof(why)) == 0) {
		sb_info(st->comp, "process reader: bpf (task iterator)");
		return 0;
	}
	if (cfg->process_reader == SB_PROC_READER_BPF)
		sb_err(st->comp, "process reader: procfs, not bpf as configured: %s", why);
	else if (cfg->process_reader == SB_PROC_READER_AUTO)
		sb_info(st->comp, "process reader: procfs: %s", why);
	else
		sb_info(st->comp, "process reader: procfs (process_reader is procfs)");
	/* groups need every process: a walk of procfs; watched processes
	 * alone keep their files open instead (this file) */
	if (cfg->groups != SB_PROC_GROUPS_OFF) {
		r = sb_proc_walk_init(st, false, why, sizeof(why));
		if (r)
			sb_err(st->comp, "process reader: %s", why);
		return r;
	}
	return sb_proc_procs_init(st);
}

static int procs_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	/* start times need the boot time: from cpu's or stat's parse of
	 * /proc/stat this round, else from one of our own */
	if (st->stat_round != st->round)
		sb_proc_stat_parse(st, c->f[0], b, 0, NULL);
	if (st->bpfread)
		sb_proc_bpfread_collect(st);
	else
		sb_proc_procs_collect(st, b);
	return 0;
}

static void procs_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)c;
	sb_proc_bpfread_free(st);
	sb_proc_procs_free(st);
	sb_proc_groups_free(st);
}

static const struct sb_cfg_key procs_keys[] = {
    {"processes", SB_CT_STRLIST, offsetof(struct proc_cfg, processes), NULL,
     "process names to report per-process metrics for (comm, on its 15 bytes, else argv[0] "
     "basename: as the bpf sensor's watch)"},
    {"pids", SB_CT_STRLIST, offsetof(struct proc_cfg, pids), NULL,
     "process ids to report per-process metrics for (\"self\": the agent)"},
    {"max_processes", SB_CT_INT, offsetof(struct proc_cfg, max_processes), "256",
     "most processes reported per round (each holds 5 open files with the procfs reader)", .min = 1,
     .max = 100000},
    {"process_reader", SB_CT_ENUM, offsetof(struct proc_cfg, process_reader), "auto",
     "where per-process values come from: auto (the BPF task iterator where the kernel and "
     "privileges allow, else procfs), bpf (the same, but procfs is logged as an error), procfs",
     .choices = reader_names},
    {"groups", SB_CT_ENUM, offsetof(struct proc_cfg, groups), "off",
     "count every process into a group and publish process-exporter's namedprocess_namegroup_* "
     "metrics per group: off, comm (its name), cgroup (its cgroup v2 path: per systemd "
     "service), user",
     .choices = group_names},
    {0},
};

static int procs_check(const struct proc_cfg *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->pids.n; i++) {
		uint64_t pid;
		const char *s = c->pids.v[i];
		if (strcmp(s, "self") && (sb_parse_u64(s, &pid) || pid < 1 || pid > INT_MAX)) {
			snprintf(err, errlen, "pids: \"%s\" is not a process id", s);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < c->processes.n; i++) {
		if (!*c->processes.v[i]) {
			snprintf(err, errlen, "processes: empty name");
			return -EINVAL;
		}
	}
	return 0;
}

/* Not node_exporter's processes collector (node_processes_*, off by
 * default there): sensorbus' per-process metrics, on when processes or
 * pids name something. */
const struct sb_proc_collector sb_proc_collector_processes = {
    .name = "processes",
    .default_on = true,
    .own = true,
    .files = (const struct sb_proc_src[]){{"stat", .single = true}, {NULL}},
    .keys = procs_keys,
    .check = procs_check,
    .init = procs_init,
    .collect = procs_collect,
    .free = procs_free,
};
