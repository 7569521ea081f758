/* The prom sink's render ahead (prom_ahead.h). */
#include "prom_ahead.h"

#include <string.h>

void sb_prom_ahead_init(struct sb_prom_ahead *a)
{
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->mu, NULL);
	sb_buf_init(&a->body);
}

void sb_prom_ahead_free(struct sb_prom_ahead *a)
{
	sb_buf_free(&a->body);
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
	atomic_store_explicit(&a->wanted, false, memory_order_relaxed);
	struct sb_buf b, zb;
	sb_buf_init(&b);
	sb_buf_init(&zb);
	struct sb_prom_stamp stamp;
	sb_prom_store_render_stamped(st, &b, fmt, now, &stamp);
	bool ok = !b.err;
	if (ok && z) {
		ok = !sb_prom_gzip(gz, &b, &zb);
		sb_buf_free(&b);
		b = zb;
		sb_buf_init(&zb);
	}
	pthread_mutex_lock(&a->mu);
	struct sb_buf old = a->body;
	a->body = b;
	a->have = ok;
	a->fmt = fmt;
	a->gz = z;
	a->stamp = stamp;
	pthread_mutex_unlock(&a->mu);
	sb_buf_free(&old);
	sb_buf_free(&zb);
}

bool sb_prom_ahead_take(struct sb_prom_ahead *a, struct sb_prom_store *st, enum sb_prom_format fmt,
			bool gz, int64_t now, struct sb_buf *out)
{
	atomic_store_explicit(&a->want_fmt, (int)fmt, memory_order_relaxed);
	atomic_store_explicit(&a->want_gz, gz, memory_order_relaxed);
	atomic_store_explicit(&a->wanted, true, memory_order_release);
	pthread_mutex_lock(&a->mu);
	bool hit = fresh(a, st, fmt, gz, now);
	if (hit)
		sb_buf_add(out, a->body.data, a->body.len);
	pthread_mutex_unlock(&a->mu);
	if (hit && out->err)
		return false; /* no memory for the copy: render as usual */
	if (hit)
		atomic_fetch_add_explicit(&a->taken, 1, memory_order_relaxed);
	return hit;
}
