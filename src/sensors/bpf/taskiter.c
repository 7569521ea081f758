/* The task iterator's reader (sb_taskiter.h): the iterator object (row
 * taskiter, kind SB_BPF_KIND_ITER) is loaded and attached by the same
 * short-lived loader child as the bpf sensor's programs, which hands over
 * Each walk is bpf_iter_create on that link, then read()s.
 *
 * Two programs (bpf/taskiter.bpf.c), one loaded: task_walk (Linux 6.7+)
 * puts up to SB_TASK_CHUNK processes, threads summed, in an array, and says
 * through read() how many and whether more follow (one run per step); the
 * agent copies that many out with one batch lookup. Not mmapped: the kernel
 * maps every page of an mmapped array at once, which put the whole array
 * (2.4 MB at 8192 records) in the agent's RSS on a host of 100 processes.
 * task_iter writes one record per
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
#include <unistd.h>

#include "sb_taskiter.h"
#include "sensor.h"

_Static_assert(sizeof(struct sb_task_rec) % 8 == 0, "sb_task_rec must stay 8-byte aligned");
_Static_assert(sizeof(struct sb_task_rec) == 232, "sb_task_rec changed size: both sides?");

/* One read: the kernel fills at most its seq buffer per call anyway. */
#define READ_BYTES (64 * 1024)

struct sb_taskiter {
	int link; /* the iterator's link, kept for the agent's life */
	/* task_walk: its two arrays' fds, a copy of the last run's records
	 * (grown to the largest run) and globals; recs_fd < 0: task_iter */
	int recs_fd, same_fd;
	struct sb_task_rec *recs;
	struct sb_task_same *same;
	__u32 *keys;
	size_t cap_recs, cap_same, cap_keys;
	int bss;
	struct sb_task_walk_ctl ctl; /* skip: processes of the list read so far */
	int walk;		     /* the walk being read, -1 between walks */
	char *buf;		     /* READ_BYTES plus a partial record kept from the last read */
	size_t have;		     /* bytes of a partial record at buf's start */
	struct sb_taskfold fold;
};

/* The first n values of array map fd, into *buf (grown): 0 or -errno. */
static int copy_first(struct sb_taskiter *ti, int fd, void **buf, size_t *cap, size_t size, __u32 n)
{
	if (!n)
		return 0;
	if (sb_grow((void **)&ti->keys, &ti->cap_keys, n, sizeof(*ti->keys)) ||
	    sb_grow(buf, cap, n, size))
		return -ENOMEM;
	__u32 count = n, out = 0;
	int r = bpf_map_lookup_batch(fd, NULL, &out, ti->keys, *buf, &count, NULL);
	/* ENOENT: the batch reached the array's end, count says how far */
	if (r < 0 && errno != ENOENT)
		return -errno;
	return count == n ? 0 : -EPROTO;
}

int sb_taskiter_open(struct sb_taskiter **out, char *why, size_t whylen)
{
	*out = NULL;
	struct bpf_state *st = calloc(1, sizeof(*st));
	struct sb_taskiter *ti = calloc(1, sizeof(*ti));
	int r = -ENOMEM;
	if (ti)
		ti->link = ti->walk = ti->bss = ti->recs_fd = ti->same_fd = -1;
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
		int *fds[] = {&ti->recs_fd, &ti->same_fd, &ti->bss};
		for (int i = 0; i < 3; i++) {
			*fds[i] = st->fd[SB_FD_MAP(SB_BPF_OBJ_IDX_taskiter, i)];
			st->fd[SB_FD_MAP(SB_BPF_OBJ_IDX_taskiter, i)] = -1;
		}
		if (ti->recs_fd < 0 || ti->same_fd < 0 || ti->bss < 0) {
			r = -ENOENT;
			snprintf(why, whylen,
				 "the task walk's maps (task_recs, task_same, .bss) are missing");
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
	if (ti->recs_fd >= 0)
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
	e = copy_first(ti, ti->recs_fd, (void **)&ti->recs, &ti->cap_recs, sizeof(*ti->recs),
		       h.count);
	if (!e)
		e = copy_first(ti, ti->same_fd, (void **)&ti->same, &ti->cap_same,
			       sizeof(*ti->same), h.same);
	if (!e)
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
	if (ti->recs_fd >= 0)
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
	if (ti->recs_fd >= 0)
		close(ti->recs_fd);
	if (ti->same_fd >= 0)
		close(ti->same_fd);
	free(ti->recs);
	free(ti->same);
	free(ti->keys);
	sb_taskfold_free(&ti->fold);
	free(ti->buf);
	free(ti);
}
