/* The processes collector's walk over every process each round: from the
 * BPF task iterator (sb_taskiter.h) where it runs, else from procfs
 * (procs_procfs.c) when groups are on. Its watched processes (processes,
 * pids) are published with the same names, labels and values as the procfs
 * reader's (procmetrics.c), and its groups (groups.c).
 *
 * A walk is read in steps, one per turn of the loop: an eventfd stays
 * readable while a walk is under way (the loop is level-triggered), so every
 * other timer and fd is served between two steps. The round's samples go
 * out as their own event when the walk ends; the sensor's round ends then
 * (proc.c: round_pending). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "proc.h"
#include "sb_log.h"
#include "sb_loop.h"
#include "sb_procsel.h"
#include "sb_taskiter.h"

/* A walk's source, as a row: the task iterator or procfs. */
struct walk_src {
	const char *name;
	int (*begin)(struct proc_bpfread *r);
	/* one step: 1 more to come, 0 done, <0 failed */
	int (*step)(struct proc_bpfread *r);
	struct sb_taskfold *(*fold)(struct proc_bpfread *r);
};

/* About 280 records: one or two reads, tens of microseconds a turn. */
#define WALK_STEP_BYTES (64 * 1024)
/* procfs: five files a process, a few milliseconds a turn */
#define WALK_STEP_PROCS 64
#define NO_MATCH (-1)
#define BY_PID (-2)

/* A process's name match, kept while it is the same process (start time)
 * with the same comm: argv[0] is read once per exec, not per round. */
struct sel {
	uint32_t pid;
	uint64_t start_ns;
	char comm[SB_COMM_LEN];
	int match;
};

struct proc_bpfread {
	const struct walk_src *src;
	struct sb_taskiter *ti;
	struct sb_procfs_walk *pw;
	int efd;
	int procfs; /* dirfd: cmdline for matching by argv[0], fields the kernel lacks */
	bool busy;
	bool want_init; /* pid 1, when the walk lacks it, from procfs */
	uint64_t started, skipped;
	struct sel *sel, *next;
	size_t nsel, nnext, capsel, capnext;
	uint32_t self;
	uint32_t fill_logged;		   /* SB_TASK_NO_*: said once each */
	struct sb_proc_pm_batch batch;	   /* the watched processes' samples */
	struct sb_proc_stat_info statinfo; /* the boot time, as of the walk's start */
	struct sb_ratelimit rl;
};

static int name_match(struct proc_state *st, struct proc_bpfread *r, const struct sb_task *t)
{
	const struct sb_strlist *names = &st->cfg->processes;
	int i = sb_procsel_match((const char *const *)names->v, names->n, t->comm, r->procfs,
				 t->pid, t->kthread);
	return i < 0 ? NO_MATCH : i;
}

/* The match of every process of the walk, merged with last round's (both
 * in pid order). */
static int select_names(struct proc_state *st, struct proc_bpfread *r, const struct sb_taskfold *f)
{
	if (sb_grow((void **)&r->next, &r->capnext, f->n, sizeof(*r->next)))
		return -ENOMEM;
	size_t j = 0;
	for (size_t i = 0; i < f->n; i++) {
		const struct sb_task *t = &f->tasks[i];
		struct sel *s = &r->next[i];
		while (j < r->nsel && r->sel[j].pid < t->pid)
			j++;
		if (j < r->nsel && r->sel[j].pid == t->pid && r->sel[j].start_ns == t->start_ns &&
		    !memcmp(r->sel[j].comm, t->comm, SB_COMM_LEN)) {
			*s = r->sel[j];
			continue;
		}
		s->pid = t->pid;
		s->start_ns = t->start_ns;
		memcpy(s->comm, t->comm, SB_COMM_LEN);
		s->match = name_match(st, r, t);
	}
	r->nnext = f->n;
	struct sel *tmp = r->sel;
	size_t tc = r->capsel;
	r->sel = r->next;
	r->capsel = r->capnext;
	r->nsel = r->nnext;
	r->next = tmp;
	r->capnext = tc;
	return 0;
}

static void fill_missing(struct proc_state *st, struct proc_bpfread *r, struct sb_task *t)
{
	uint32_t failed;
	uint32_t say = t->missing & ~r->fill_logged;
	if (say) {
		sb_info(
		    st->comp,
		    "process reader: the task iterator cannot read %s%s%s on this kernel (or for "
		    "pid %u): read from procfs for that field alone",
		    say & SB_TASK_NO_IO ? "I/O counters " : "", say & SB_TASK_NO_RSS ? "RSS " : "",
		    say & SB_TASK_NO_FDS ? "open fds" : "", t->pid);
		r->fill_logged |= say;
	}
	if (sb_task_fill_missing(t, r->procfs, &failed))
		t->missing = failed;
	else
		t->missing = 0;
}

static void task_samples(struct proc_state *st, struct proc_bpfread *r, struct sb_task *t,
			 int match)
{
	const struct sb_proc_env *env = &st->env;
	struct sb_proc_pm v = {0};
	if (t->missing)
		fill_missing(st, r, t);
	/* procfs' units and truncation: ticks per mode, then seconds */
	uint64_t tick = (uint64_t)(1e9 / env->user_hz);
	sb_proc_pm_set(&v, SB_PM_CPU,
		       (double)(t->utime_ns / tick + t->stime_ns / tick) / env->user_hz);
	if (!(t->missing & SB_TASK_NO_RSS))
		sb_proc_pm_set(&v, SB_PM_RSS, (double)t->rss_pages * env->page_size);
	sb_proc_pm_set(&v, SB_PM_VSIZE, (double)t->vm_pages * env->page_size);
	sb_proc_pm_set(&v, SB_PM_THREADS, (double)t->threads);
	if (st->statinfo.have_btime)
		sb_proc_pm_set(&v, SB_PM_START,
			       st->statinfo.btime + (double)(t->start_ns / tick) / env->user_hz);
	sb_proc_pm_set(&v, SB_PM_MINFLT, (double)t->min_flt);
	sb_proc_pm_set(&v, SB_PM_MAJFLT, (double)t->maj_flt);
	sb_proc_pm_set(&v, SB_PM_VCSW, (double)t->nvcsw);
	sb_proc_pm_set(&v, SB_PM_ICSW, (double)t->nivcsw);
	if (!(t->missing & SB_TASK_NO_IO)) {
		sb_proc_pm_set(&v, SB_PM_READ, (double)t->read_bytes);
		sb_proc_pm_set(&v, SB_PM_WRITE, (double)t->write_bytes);
	}
	if (!(t->missing & SB_TASK_NO_FDS))
		sb_proc_pm_set(&v, SB_PM_FDS, (double)t->open_fds);
	sb_proc_pm_set(&v, SB_PM_MAXFDS, (double)t->fd_limit);
	if (sb_proc_pm_batch_add(&r->batch, &v, t->pid, t->comm,
				 match >= 0 ? st->cfg->processes.v[match] : NULL))
		st->errors++;
}

/* The watched processes of a finished walk: by name, then by pid (a
 * process matched by both is reported once, by name), at most
 * max_processes. */
static void watched_samples(struct proc_state *st, struct proc_bpfread *r, struct sb_taskfold *f,
			    struct sb_evb *b)
{
	const struct proc_cfg *c = st->cfg;
	int64_t n = 0;
	if (c->processes.n && select_names(st, r, f) == 0) {
		for (size_t i = 0; i < r->nsel && n < c->max_processes; i++) {
			if (r->sel[i].match < 0)
				continue;
			task_samples(st, r, &f->tasks[i], r->sel[i].match);
			n++;
		}
	}
	for (size_t i = 0; i < c->pids.n && n < c->max_processes; i++) {
		uint64_t pid = r->self;
		if (strcmp(c->pids.v[i], "self"))
			sb_parse_u64(c->pids.v[i], &pid);
		struct sb_task *t = (struct sb_task *)sb_taskfold_find(f, (uint32_t)pid);
		if (!t)
			continue;
		if (c->processes.n) {
			size_t k = (size_t)(t - f->tasks);
			if (k < r->nsel && r->sel[k].match >= 0)
				continue;
		}
		task_samples(st, r, t, BY_PID);
		n++;
	}
	sb_proc_pm_batch_emit(&r->batch, b);
}

static void walk_done(struct proc_state *st, struct proc_bpfread *r)
{
	struct sb_sensor *s = st->sensor;
	struct sb_evb *b = &s->evb;
	struct sb_taskfold *f = r->src->fold(r);
	st->statinfo = r->statinfo;
	/* fields the kernel could not give, from procfs: the groups count
	 * every process (watched ones alone are filled as they are published) */
	for (size_t i = 0; st->groups && i < f->n; i++)
		if (f->tasks[i].missing)
			fill_missing(st, r, &f->tasks[i]);
	sb_evb_begin(b, "proc", "metrics");
	watched_samples(st, r, f, b);
	sb_proc_groups_collect(st, f, b);
	sb_sensor_publish_evb(s);
}

static void on_step(void *arg, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	struct proc_state *st = arg;
	struct proc_bpfread *r = st->bpfread;
	int e = r->src->step(r);
	if (e > 0)
		return; /* the eventfd stays readable: the next turn goes on */
	uint64_t v;
	if (read(r->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		sb_warn(st->comp, "process reader: eventfd: %s", strerror(errno));
	r->busy = false;
	if (e < 0) {
		st->errors++;
		sb_log_rl(&r->rl, SB_LOG_WARN, st->comp,
			  "process reader: reading the task iterator: %s", strerror(-e));
	} else {
		walk_done(st, r);
	}
	st->round_pending = false;
	sb_sensor_round_done(st->sensor);
}

void sb_proc_bpfread_collect(struct proc_state *st)
{
	struct proc_bpfread *r = st->bpfread;
	if (r->busy) {
		/* a walk longer than the interval: this round is skipped */
		r->skipped++;
		sb_log_rl(&r->rl, SB_LOG_WARN, st->comp,
			  "process reader: the last walk of every task is still running; %llu "
			  "rounds skipped",
			  (unsigned long long)r->skipped);
		return;
	}
	int e = r->src->begin(r);
	uint64_t one = 1;
	if (!e && write(r->efd, &one, sizeof(one)) < 0)
		e = -errno;
	if (e) {
		st->errors++;
		sb_log_rl(&r->rl, SB_LOG_WARN, st->comp, "process reader: cannot start a walk: %s",
			  strerror(-e));
		return;
	}
	r->busy = true;
	r->started++;
	r->statinfo = st->statinfo;
	st->round_pending = true;
}

static int iter_begin(struct proc_bpfread *r) { return sb_taskiter_begin(r->ti); }
static int iter_step(struct proc_bpfread *r) { return sb_taskiter_step(r->ti, WALK_STEP_BYTES); }
/* A kernel may hide pid 1 from BPF (this VM's: neither walk, nor a link
 * filtered on pid 1, finds it; a stock kernel's walk starts with it): then
 * it is read from procfs, when something may want it (groups, names, or
 * pid 1 itself in pids). */
static struct sb_taskfold *iter_fold(struct proc_bpfread *r)
{
	struct sb_taskfold *f = (struct sb_taskfold *)sb_taskiter_fold(r->ti);
	struct sb_task init;
	if (!r->want_init || (f->n && f->tasks[0].pid == 1) ||
	    !sb_procfs_walk_one(r->pw, 1, &init) ||
	    sb_grow((void **)&f->tasks, &f->cap, f->n + 1, sizeof(*f->tasks)))
		return f;
	memmove(f->tasks + 1, f->tasks, f->n * sizeof(*f->tasks));
	f->tasks[0] = init;
	f->n++;
	return f;
}
static int procfs_begin(struct proc_bpfread *r) { return sb_procfs_walk_begin(r->pw); }
static int procfs_step(struct proc_bpfread *r)
{
	return sb_procfs_walk_step(r->pw, WALK_STEP_PROCS);
}
static struct sb_taskfold *procfs_fold(struct proc_bpfread *r)
{
	return sb_procfs_walk_fold(r->pw);
}

static const struct walk_src src_iter = {"the task iterator", iter_begin, iter_step, iter_fold};
static const struct walk_src src_procfs = {"procfs", procfs_begin, procfs_step, procfs_fold};

int sb_proc_walk_init(struct proc_state *st, bool bpf, char *why, size_t whylen)
{
	struct proc_bpfread *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	r->efd = r->procfs = -1;
	r->self = (uint32_t)getpid();
	r->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	r->src = bpf ? &src_iter : &src_procfs;
	r->want_init = st->groups || st->cfg->processes.n;
	for (size_t i = 0; i < st->cfg->pids.n; i++)
		r->want_init |= !strcmp(st->cfg->pids.v[i], "1");
	st->bpfread = r;
	int e = 0;
	if (!st->sensor) {
		snprintf(why, whylen, "no collection loop to read it in");
		e = -ENOTSUP;
	} else if ((r->procfs = open(st->cfg->procfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		e = -errno;
		snprintf(why, whylen, "cannot open %s: %s", st->cfg->procfs, strerror(-e));
	} else if (bpf && !sb_proc_live_procfs(st)) {
		snprintf(why, whylen, "procfs is %s, not this host's /proc", st->cfg->procfs);
		e = -ENOTSUP;
	} else if ((e = sb_procfs_walk_open(&r->pw, st->cfg->procfs, st->env.user_hz,
					    st->env.page_size, sb_proc_groups_cgroot(st)))) {
		snprintf(why, whylen, "cannot open %s: %s", st->cfg->procfs, strerror(-e));
	} else if (bpf) {
		e = sb_taskiter_open(&r->ti, why, whylen);
	}
	if (!e) {
		r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (r->efd < 0 ||
		    sb_loop_add_fd(st->sensor->loop, r->efd, SB_EV_READ, on_step, st)) {
			e = -errno;
			snprintf(why, whylen, "cannot make its eventfd: %s", strerror(errno));
		}
	}
	if (e)
		sb_proc_bpfread_free(st);
	return e;
}

void sb_proc_bpfread_free(struct proc_state *st)
{
	struct proc_bpfread *r = st->bpfread;
	if (!r)
		return;
	if (r->efd >= 0) {
		if (st->sensor)
			sb_loop_del_fd(st->sensor->loop, r->efd);
		close(r->efd);
	}
	if (r->procfs >= 0)
		close(r->procfs);
	sb_taskiter_close(r->ti);
	sb_procfs_walk_close(r->pw);
	free(r->sel);
	free(r->next);
	sb_proc_pm_batch_free(&r->batch);
	free(r);
	st->bpfread = NULL;
}
