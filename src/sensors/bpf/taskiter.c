/* The task iterator's reader (sb_taskiter.h): the iterator object (row
 * taskiter, kind SB_BPF_KIND_ITER) is loaded and attached by the same
 * short-lived loader child as the bpf sensor's programs, which hands over
 * Each walk is bpf_iter_create on that link, then read()s.
 *
 * Two programs (bpf/taskiter.bpf.c), one loaded: task_walk (Linux 6.7+)
 * puts up to SB_TASK_CHUNK processes, threads summed, in an array the agent
 * maps once and reads in place, and says through read() how many and
 * whether more follow (one run per step); task_iter writes one record per
 * thread through read(), the fold sums them.
 *
 * Why bounded steps on the loop rather than a thread: one read() returns at
 * most the kernel's seq buffer (a few pages, ~100-200 records) after running
 * the program for those tasks, tens of microseconds; the caller asks for a
 * budget of bytes per loop turn and comes back on the next turn, so other
 * timers interleave and no state is shared with another thread. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sb_taskiter.h"
#include "sensor.h"

_Static_assert(sizeof(struct sb_task_rec) % 8 == 0, "sb_task_rec must stay 8-byte aligned");
_Static_assert(sizeof(struct sb_task_rec) == 232, "sb_task_rec changed size: both sides?");

/* One read: the kernel fills at most its seq buffer per call anyway. */
#define READ_BYTES (64 * 1024)

struct sb_taskiter {
	int link; /* the iterator's link, kept for the agent's life */
	/* task_walk: its records (mmapped) and globals; recs NULL: task_iter */
	const struct sb_task_rec *recs;
	const struct sb_task_same *same;
	int bss;
	struct sb_task_walk_ctl ctl; /* skip: processes of the list read so far */
	int walk;		     /* the walk being read, -1 between walks */
	char *buf;		     /* READ_BYTES plus a partial record kept from the last read */
	size_t have;		     /* bytes of a partial record at buf's start */
	struct sb_taskfold fold;
};

#define RECS_LEN (SB_TASK_CHUNK * sizeof(struct sb_task_rec))
#define SAME_LEN (SB_TASK_CHUNK * sizeof(struct sb_task_same))

/* A BPF_F_MMAPABLE array, read in place; NULL with errno set. */
static void *map_ro(int fd, size_t len)
{
	if (fd < 0) {
		errno = ENOENT;
		return NULL;
	}
	void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	return m == MAP_FAILED ? NULL : m;
}

int sb_taskiter_open(struct sb_taskiter **out, char *why, size_t whylen)
{
	*out = NULL;
	struct bpf_state *st = calloc(1, sizeof(*st));
	struct sb_taskiter *ti = calloc(1, sizeof(*ti));
	int r = -ENOMEM;
	if (ti)
		ti->link = ti->walk = ti->bss = -1;
	if (!st || !ti || !(ti->buf = malloc(READ_BYTES + sizeof(struct sb_task_rec)))) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	st->kinds = SB_BPF_KIND_BIT(SB_BPF_KIND_ITER);
	st->rb_fd = -1;
	for (int i = 0; i < SB_FD_MAX; i++)
		st->fd[i] = -1;
	st->ncpus = 1; /* no per-CPU maps are read */
	struct sb_bpf_loaded rep;
	r = sb_bpf_run_loader(st, &rep, why, whylen);
	if (r)
		goto out;
	r = rep.err;
	if (!r && !rep.plan.iter) {
		snprintf(why, whylen, "%s", rep.plan.iter_why);
		r = -ENOTSUP;
	} else if (!r && !(rep.iters & (1u << SB_BPF_OBJ_IDX_taskiter))) {
		snprintf(why, whylen,
			 "the task iterator could not be loaded or attached (see the lines above)");
		r = -EIO;
	}
	if (r)
		goto out;
	ti->link = st->fd[SB_FD_ITER(SB_BPF_OBJ_IDX_taskiter)];
	st->fd[SB_FD_ITER(SB_BPF_OBJ_IDX_taskiter)] = -1;
	if (rep.plan.iter_walk) {
		ti->recs = map_ro(st->fd[SB_FD_MAP(SB_BPF_OBJ_IDX_taskiter, 0)], RECS_LEN);
		ti->same = map_ro(st->fd[SB_FD_MAP(SB_BPF_OBJ_IDX_taskiter, 1)], SAME_LEN);
		ti->bss = st->fd[SB_FD_MAP(SB_BPF_OBJ_IDX_taskiter, 2)];
		st->fd[SB_FD_MAP(SB_BPF_OBJ_IDX_taskiter, 2)] = -1;
		if (!ti->recs || !ti->same || ti->bss < 0) {
			r = ti->bss < 0 ? -ENOENT : -errno;
			snprintf(why, whylen,
				 "cannot map the task walk's records (maps task_recs, task_same, "
				 ".bss): %s",
				 strerror(-r));
			goto out;
		}
	}
	*out = ti;
	ti = NULL;
out:
	for (int i = 0; st && i < SB_FD_MAX; i++)
		if (st->fd[i] >= 0)
			close(st->fd[i]);
	free(st);
	sb_taskiter_close(ti);
	return r;
}

int sb_taskiter_begin(struct sb_taskiter *ti)
{
	if (ti->walk >= 0)
		close(ti->walk);
	ti->have = 0;
	/* a walk counts on the last one's records for the processes that did
	 * not run since: only if the agent holds that one whole */
	bool whole = ti->fold.finished && !ti->fold.same_missed;
	ti->ctl.gen += whole ? 1 : 2;
	ti->ctl.skip = 0;
	sb_taskfold_reset(&ti->fold);
	if (ti->recs)
		return 0; /* a run per step */
	ti->walk = bpf_iter_create(ti->link);
	return ti->walk < 0 ? ti->walk : 0;
}

/* One run of task_walk: the next chunk of the process list. */
static int walk_step(struct sb_taskiter *ti)
{
	__u32 zero = 0;
	struct sb_task_walk_hdr h;
	if (bpf_map_update_elem(ti->bss, &zero, &ti->ctl, 0))
		return -errno;
	int fd = bpf_iter_create(ti->link);
	if (fd < 0)
		return fd;
	ssize_t n;
	while ((n = read(fd, &h, sizeof(h))) < 0 && errno == EINTR)
		;
	int e = n < 0 ? -errno : 0;
	close(fd);
	if (e)
		return e;
	/* nothing read: the agent's own thread was not found (cannot be) */
	if (n != sizeof(h) || h.count > SB_TASK_CHUNK)
		return -EPROTO;
	if (h.same > SB_TASK_CHUNK)
		return -EPROTO;
	e = sb_taskfold_add(&ti->fold, ti->recs, h.count * sizeof(struct sb_task_rec));
	if (!e)
		e = sb_taskfold_add_same(&ti->fold, ti->same, h.same);
	if (e)
		return e;
	if (h.more) {
		ti->ctl.skip += h.count;
		return 1;
	}
	sb_taskfold_finish(&ti->fold);
	return 0;
}

int sb_taskiter_step(struct sb_taskiter *ti, size_t max_bytes)
{
	const size_t rec = sizeof(struct sb_task_rec);
	size_t done = 0;
	if (ti->recs)
		return walk_step(ti);
	if (ti->walk < 0)
		return -EBADF;
	while (done < max_bytes) {
		ssize_t n = read(ti->walk, ti->buf + ti->have, READ_BYTES);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			close(ti->walk);
			ti->walk = -1;
			return e;
		}
		if (n == 0) {
			close(ti->walk);
			ti->walk = -1;
			ti->fold.bad += ti->have ? 1 : 0;
			sb_taskfold_finish(&ti->fold);
			return 0;
		}
		size_t len = ti->have + (size_t)n, whole = len - len % rec;
		int r = sb_taskfold_add(&ti->fold, ti->buf, whole);
		if (r)
			return r;
		/* the kernel writes whole records per read; keep any tail anyway */
		ti->have = len - whole;
		memmove(ti->buf, ti->buf + whole, ti->have);
		done += (size_t)n;
	}
	return 1;
}

const struct sb_taskfold *sb_taskiter_fold(const struct sb_taskiter *ti) { return &ti->fold; }

void sb_taskiter_close(struct sb_taskiter *ti)
{
	if (!ti)
		return;
	if (ti->walk >= 0)
		close(ti->walk);
	if (ti->link >= 0)
		close(ti->link);
	if (ti->bss >= 0)
		close(ti->bss);
	if (ti->recs)
		munmap((void *)ti->recs, RECS_LEN);
	if (ti->same)
		munmap((void *)ti->same, SAME_LEN);
	sb_taskfold_free(&ti->fold);
	free(ti->buf);
	free(ti);
}
