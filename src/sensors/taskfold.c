/* The task iterator's records folded into processes (sb_taskiter.h). The
 * walk visits tasks in tid order, so a process's threads are scattered
 * among other processes' and may even come before their leader (after pid
 * wrap-around): leaders become processes as they come, threads wait in a
 * side list and are added once the walk is over. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sb_taskiter.h"
#include "sb_util.h"

/* The counters a thread adds to its process. */
struct sb_task_thread {
	uint32_t tgid;
	uint64_t utime, stime, runtime;
	uint64_t min_flt, maj_flt, nvcsw, nivcsw;
	uint64_t io[7];
};

/* include/linux/sched.h: TASK_REPORT, TASK_IDLE, TASK_RTLOCK_WAIT */
#define TASK_REPORT 0x7f
#define TASK_IDLE 0x402
#define TASK_RTLOCK_WAIT 0x1000
#define TASK_REPORT_IDLE 0x80

char sb_task_state_letter(uint32_t state, int32_t exit_state)
{
	static const char letters[] = "RSDTtXZPI";
	uint32_t s = (state | (uint32_t)exit_state) & TASK_REPORT;
	if ((state & TASK_IDLE) == TASK_IDLE)
		s = TASK_REPORT_IDLE;
	else if (state == TASK_RTLOCK_WAIT)
		s = 2; /* TASK_UNINTERRUPTIBLE */
	int i = s ? 32 - __builtin_clz(s) : 0;
	return letters[i];
}

void sb_taskfold_reset(struct sb_taskfold *f)
{
	if (f->finished) {
		struct sb_task *t = f->prev;
		size_t c = f->capprev;
		f->prev = f->tasks;
		f->nprev = f->n;
		f->capprev = f->cap;
		f->tasks = t;
		f->cap = c;
	}
	f->finished = false;
	f->unsplit = false;
	f->same_missed = false;
	f->nsame = 0;
	f->cur = 0;
	f->n = 0;
	f->npend = 0;
	f->sorted = true;
	f->bad = 0;
}

void sb_taskfold_free(struct sb_taskfold *f)
{
	free(f->tasks);
	free(f->pend);
	free(f->prev);
	free(f->keys);
	free(f->spare);
	memset(f, 0, sizeof(*f));
}

static void thread_of(struct sb_task_thread *t, const struct sb_task_rec *r)
{
	t->tgid = r->tgid;
	t->utime = r->utime_ns;
	t->stime = r->stime_ns;
	t->runtime = r->runtime_ns;
	t->min_flt = r->min_flt;
	t->maj_flt = r->maj_flt;
	t->nvcsw = r->nvcsw;
	t->nivcsw = r->nivcsw;
	const uint64_t io[7] = {r->rchar,
				r->wchar,
				r->syscr,
				r->syscw,
				r->read_bytes,
				r->write_bytes,
				r->cancelled_write_bytes};
	memcpy(t->io, io, sizeof(io));
}

static void add_counts(struct sb_task *t, const struct sb_task_thread *th)
{
	t->raw_ut += th->utime;
	t->raw_st += th->stime;
	t->raw_rt += th->runtime;
	t->min_flt += th->min_flt;
	t->maj_flt += th->maj_flt;
	t->nvcsw += th->nvcsw;
	t->nivcsw += th->nivcsw;
	t->rchar += th->io[0];
	t->wchar += th->io[1];
	t->syscr += th->io[2];
	t->syscw += th->io[3];
	t->read_bytes += th->io[4];
	t->write_bytes += th->io[5];
	t->cancelled_write_bytes += th->io[6];
}

/* /proc's cputime_adjust: the precise runtime split by the sampled ratio. */
static void split_runtime(struct sb_task *t, uint64_t ut, uint64_t st, uint64_t rt)
{
	if (!st) {
		t->utime_ns = rt;
		t->stime_ns = 0;
	} else if (!ut) {
		t->utime_ns = 0;
		t->stime_ns = rt;
	} else {
		/* the sum in 128 bits too: two garbage counts of a record could
		 * wrap it to 0 in 64 */
		unsigned __int128 s = (unsigned __int128)st * rt / ((unsigned __int128)st + ut);
		t->stime_ns = (uint64_t)s;
		t->utime_ns = rt - t->stime_ns;
	}
}

/* The leader's record begins the process with its own and its signal
 * counts; other threads wait in the side list until finish. */
static int add_leader(struct sb_taskfold *f, const struct sb_task_rec *r)
{
	if (sb_grow((void **)&f->tasks, &f->cap, f->n + 1, sizeof(*f->tasks)))
		return -ENOMEM;
	struct sb_task *t = &f->tasks[f->n++];
	memset(t, 0, sizeof(*t));
	t->pid = r->tgid;
	t->ppid = r->ppid;
	t->uid = r->uid;
	memcpy(t->comm, r->comm, SB_COMM_LEN);
	t->comm[SB_COMM_LEN - 1] = 0;
	t->state = sb_task_state_letter(r->state, r->exit_state);
	t->kthread = r->flags & SB_TASK_KTHREAD;
	t->nice = r->nice;
	t->threads = r->nr_threads;
	t->start_ns = r->start_ns;
	t->rss_pages = r->rss[SB_RSS_FILE] + r->rss[SB_RSS_ANON] + r->rss[SB_RSS_SHMEM];
	t->swap_pages = r->rss[SB_RSS_SWAP];
	t->vm_pages = r->total_vm;
	t->fd_limit = r->nofile;
	t->cgroup_id = r->cgroup_id;
	t->open_fds = r->open_fds;
	t->missing = r->flags & (SB_TASK_NO_IO | SB_TASK_NO_RSS | SB_TASK_NO_FDS);
	struct sb_task_thread own;
	thread_of(&own, r);
	add_counts(t, &own);
	if (r->flags & SB_TASK_FOLDED)
		split_runtime(t, t->raw_ut, t->raw_st, t->raw_rt); /* whole already */
	else
		f->unsplit = true;
	if (f->n > 1 && t[-1].pid >= t->pid)
		f->sorted = false;
	return 0;
}

static int cmp_task(const void *a, const void *b);

/* pid in the last walk: where the last lookup ended first (both walks go
 * through the process list in the same order), else a binary search. */
static const struct sb_task *prev_of(struct sb_taskfold *f, uint32_t pid)
{
	if (f->cur < f->nprev && f->prev[f->cur].pid == pid)
		return &f->prev[f->cur++];
	struct sb_task key = {.pid = pid};
	const struct sb_task *t =
	    f->nprev ? bsearch(&key, f->prev, f->nprev, sizeof(key), cmp_task) : NULL;
	if (t)
		f->cur = (size_t)(t - f->prev) + 1;
	return t;
}

/* Processes as the last walk saw them, with what may have changed since
 * without them running. */
int sb_taskfold_add_same(struct sb_taskfold *f, const struct sb_task_same *s, size_t n)
{
	if (sb_grow((void **)&f->tasks, &f->cap, f->n + n, sizeof(*f->tasks)))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct sb_task_same *r = &s[i];
		const struct sb_task *p = prev_of(f, r->pid);
		if (!p) {
			f->bad++;
			f->same_missed = true;
			continue;
		}
		struct sb_task *t = &f->tasks[f->n++];
		*t = *p;
		f->nsame++;
		t->state = sb_task_state_letter(r->state, 0);
		t->nice = r->nice;
		t->fd_limit = r->nofile;
		t->missing &= ~SB_TASK_NO_RSS;
		if (r->flags & SB_TASK_NO_RSS)
			t->missing |= SB_TASK_NO_RSS;
		t->rss_pages = r->rss[SB_RSS_FILE] + r->rss[SB_RSS_ANON] + r->rss[SB_RSS_SHMEM];
		t->swap_pages = r->rss[SB_RSS_SWAP];
		t->vm_pages = r->total_vm;
		if (f->n > 1 && t[-1].pid >= t->pid)
			f->sorted = false;
	}
	return 0;
}

static int add_thread(struct sb_taskfold *f, const struct sb_task_rec *r)
{
	if (sb_grow((void **)&f->pend, &f->cappend, f->npend + 1, sizeof(*f->pend)))
		return -ENOMEM;
	thread_of(&f->pend[f->npend++], r);
	return 0;
}

int sb_taskfold_add(struct sb_taskfold *f, const void *buf, size_t len)
{
	const struct sb_task_rec *r = buf;
	for (size_t i = 0; i < len / sizeof(*r); i++) {
		int e = r[i].flags & SB_TASK_LEADER ? add_leader(f, &r[i]) : add_thread(f, &r[i]);
		if (e)
			return e;
	}
	return 0;
}

static int cmp_task(const void *a, const void *b)
{
	const struct sb_task *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

const struct sb_task *sb_taskfold_find(const struct sb_taskfold *f, uint32_t pid)
{
	struct sb_task key = {.pid = pid};
	return f->n ? bsearch(&key, f->tasks, f->n, sizeof(key), cmp_task) : NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Pids are below 2^22 (PID_MAX_LIMIT): two passes of 11 bits over the
 * keys' upper half, stable, so a pid's later index stays after its
 * earlier. tmp holds n keys. */
static void radix_sort(uint64_t *keys, uint64_t *tmp, size_t n)
{
	enum { BITS = 11, SLOTS = 1 << BITS };
	size_t count[SLOTS];
	uint64_t *from = keys, *to = tmp;
	for (int pass = 0; pass < 2; pass++) {
		int shift = 32 + pass * BITS;
		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < n; i++)
			count[(from[i] >> shift) & (SLOTS - 1)]++;
		for (size_t s = 0, sum = 0; s < SLOTS; s++) {
			size_t c = count[s];
			count[s] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			to[count[(from[i] >> shift) & (SLOTS - 1)]++] = from[i];
		uint64_t *t = from;
		from = to;
		to = t;
	}
	/* two passes: the sorted keys are back in keys */
}

/* Into pid order: the keys sorted, then each task copied once (sorting the
 * tasks themselves moved every one of them a dozen times). task_walk read
 * in chunks may see a process twice (the list shifted between two runs):
 * the later one is kept. Out of memory: the qsort in place. */
static void sort_by_pid(struct sb_taskfold *f)
{
	if (sb_grow((void **)&f->keys, &f->capkeys, f->n, sizeof(*f->keys)) ||
	    sb_grow((void **)&f->spare, &f->capspare, f->n, sizeof(*f->spare))) {
		qsort(f->tasks, f->n, sizeof(*f->tasks), cmp_task);
		return;
	}
	uint32_t high = 0;
	for (size_t i = 0; i < f->n; i++) {
		f->keys[i] = (uint64_t)f->tasks[i].pid << 32 | i;
		high |= f->tasks[i].pid;
	}
	if (high >> 22) /* not a pid of this kernel: a crafted record */
		qsort(f->keys, f->n, sizeof(*f->keys), cmp_u64);
	else
		radix_sort(f->keys, (uint64_t *)f->spare, f->n);
	size_t k = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (i + 1 < f->n && f->keys[i + 1] >> 32 == f->keys[i] >> 32)
			continue;
		f->spare[k++] = f->tasks[(uint32_t)f->keys[i]];
	}
	struct sb_task *t = f->tasks;
	size_t c = f->cap;
	f->tasks = f->spare;
	f->cap = f->capspare;
	f->spare = t;
	f->capspare = c;
	f->n = k;
}

void sb_taskfold_finish(struct sb_taskfold *f)
{
	if (!f->sorted)
		sort_by_pid(f);
	f->sorted = true;
	for (size_t i = 0; i < f->npend; i++) {
		struct sb_task *t = (struct sb_task *)sb_taskfold_find(f, f->pend[i].tgid);
		if (t)
			add_counts(t, &f->pend[i]);
		else
			f->bad++; /* its leader was not seen: it exited during the walk */
	}
	for (size_t k = 0; f->unsplit && k < f->n; k++)
		split_runtime(&f->tasks[k], f->tasks[k].raw_ut, f->tasks[k].raw_st,
			      f->tasks[k].raw_rt);
	f->npend = 0;
	f->finished = true;
}
