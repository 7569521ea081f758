/* The prom sink's render ahead (prom_ahead.h). */
#include "prom_ahead.h"

#include <stdlib.h>
#include <string.h>

void sb_prom_body_unref(struct sb_prom_body *b)
{
	if (!b || atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
		return;
	sb_buf_free(&b->buf);
	free(b);
}

void sb_prom_ahead_init(struct sb_prom_ahead *a)
{
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->mu, NULL);
	sb_buf_init(&a->plain);
}

void sb_prom_ahead_free(struct sb_prom_ahead *a)
{
	sb_prom_body_unref(a->body); /* an answer still sending keeps it */
	sb_prom_body_unref(a->spare);
	sb_buf_free(&a->plain);
	pthread_mutex_destroy(&a->mu);
}

/* Whether what was rendered ahead is what a render of fmt (gz) would give
 * at now: the store unchanged since and no series it shows expired. */
static bool fresh(const struct sb_prom_ahead *a, struct sb_prom_store *st, enum sb_prom_format fmt,
		  bool gz, int64_t now)
{
	return a->have && a->fmt == fmt && a->gz == gz &&
	       a->stamp.changes == sb_prom_store_changes(st) && now <= a->stamp.until;
}

/* A body to render into: the spare if no answer holds it any more (only
 * the body scrapes see gains references), else a new one. */
static struct sb_prom_body *next_body(struct sb_prom_ahead *a)
{
	struct sb_prom_body *b = a->spare;
	a->spare = NULL;
	if (b && atomic_load_explicit(&b->refs, memory_order_acquire) == 1) {
		sb_buf_reset(&b->buf);
		return b;
	}
	sb_prom_body_unref(b);
	if (!(b = malloc(sizeof(*b))))
		return NULL;
	atomic_init(&b->refs, 1);
	sb_buf_init(&b->buf);
	return b;
}

void sb_prom_ahead_make(struct sb_prom_ahead *a, struct sb_prom_store *st, struct sb_prom_gzip *gz,
			int64_t now)
{
	/* the loop calls this on every wake: two atomic loads when idle */
	if (!atomic_load_explicit(&a->wanted, memory_order_acquire))
		return;
	enum sb_prom_format fmt = atomic_load_explicit(&a->want_fmt, memory_order_relaxed);
	bool z = gz && atomic_load_explicit(&a->want_gz, memory_order_relaxed);
	/* have, stamp, fmt and gz are written by this thread only */
	if (fresh(a, st, fmt, z, now))
		return; /* nothing new: keep the want for the next round */
	struct sb_prom_body *b = next_body(a);
	if (!b)
		return; /* out of memory: scrapes render themselves */
	atomic_store_explicit(&a->wanted, false, memory_order_relaxed);
	struct sb_prom_stamp stamp;
	struct sb_buf *out = z ? &a->plain : &b->buf;
	sb_buf_reset(&a->plain);
	sb_prom_store_render_stamped(st, out, fmt, now, &stamp);
	bool ok = !out->err;
	if (ok && z)
		ok = !sb_prom_gzip(gz, &a->plain, &b->buf);
	pthread_mutex_lock(&a->mu);
	struct sb_prom_body *old = a->body;
	a->body = b;
	a->have = ok;
	a->fmt = fmt;
	a->gz = z;
	a->stamp = stamp;
	pthread_mutex_unlock(&a->mu);
	a->spare = old;
}

struct sb_prom_body *sb_prom_ahead_take(struct sb_prom_ahead *a, struct sb_prom_store *st,
					enum sb_prom_format fmt, bool gz, int64_t now)
{
	atomic_store_explicit(&a->want_fmt, (int)fmt, memory_order_relaxed);
	atomic_store_explicit(&a->want_gz, gz, memory_order_relaxed);
	atomic_store_explicit(&a->wanted, true, memory_order_release);
	struct sb_prom_body *b = NULL;
	pthread_mutex_lock(&a->mu);
	if (fresh(a, st, fmt, gz, now)) {
		b = a->body;
		atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&a->mu);
	if (b)
		atomic_fetch_add_explicit(&a->taken, 1, memory_order_relaxed);
	return b;
}
