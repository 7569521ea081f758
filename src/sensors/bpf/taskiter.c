/* The task iterator's reader (sb_taskiter.h): the iterator object (row
 * taskiter, kind SB_BPF_KIND_ITER) is loaded and attached by the same
 * short-lived loader child as the bpf sensor's programs, which hands over
 * only its link. Each walk is bpf_iter_create on that link, then read()s.
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
	int link;    /* the iterator's link, kept for the agent's life */
	int walk;    /* the walk being read, -1 between walks */
	char *buf;   /* READ_BYTES plus a partial record kept from the last read */
	size_t have; /* bytes of a partial record at buf's start */
	struct sb_taskfold fold;
};

int sb_taskiter_open(struct sb_taskiter **out, char *why, size_t whylen)
{
	*out = NULL;
	struct bpf_state *st = calloc(1, sizeof(*st));
	struct sb_taskiter *ti = calloc(1, sizeof(*ti));
	int r = -ENOMEM;
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
	ti->walk = -1;
	*out = ti;
	ti = NULL;
out:
	for (int i = 0; st && i < SB_FD_MAX; i++)
		if (st->fd[i] >= 0)
			close(st->fd[i]);
	free(st);
	if (ti) {
		free(ti->buf);
		free(ti);
	}
	return r;
}

int sb_taskiter_begin(struct sb_taskiter *ti)
{
	if (ti->walk >= 0)
		close(ti->walk);
	ti->have = 0;
	sb_taskfold_reset(&ti->fold);
	ti->walk = bpf_iter_create(ti->link);
	return ti->walk < 0 ? ti->walk : 0;
}

int sb_taskiter_step(struct sb_taskiter *ti, size_t max_bytes)
{
	const size_t rec = sizeof(struct sb_task_rec);
	size_t done = 0;
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
	sb_taskfold_free(&ti->fold);
	free(ti->buf);
	free(ti);
}
