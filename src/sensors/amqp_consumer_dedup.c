/* Events seen already, per origin: see amqp_consumer.h. A producer that
 * fails over sends what was unconfirmed again with the same identity, and
 * a broker redelivers what a lost consumer held: both arrive here as
 * (host, run, seq) seen before. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "amqp_consumer.h"
#include "sb_util.h"

struct sb_dedup_origin {
	uint64_t hash;
	uint64_t hi;	/* highest seq seen; 0: none */
	uint64_t used;	/* the dedup clock when last seen */
	uint64_t *bits; /* bit (seq % window) for seq in (hi - window, hi] */
	char key[];	/* host '\0' run '\0' */
};

int sb_dedup_init(struct sb_dedup *d, uint64_t window, size_t max_origins)
{
	memset(d, 0, sizeof(*d));
	d->window = (window + 63) / 64 * 64;
	if (!d->window)
		d->window = 64;
	d->max_origins = max_origins ? max_origins : 1;
	d->cap = 16;
	while (d->cap < 2 * d->max_origins)
		d->cap *= 2;
	d->slots = calloc(d->cap, sizeof(*d->slots));
	return d->slots ? 0 : -ENOMEM;
}

static void origin_free(struct sb_dedup_origin *o)
{
	if (o)
		free(o->bits);
	free(o);
}

void sb_dedup_free(struct sb_dedup *d)
{
	if (!d)
		return;
	for (size_t i = 0; d->slots && i < d->cap; i++)
		origin_free(d->slots[i]);
	free(d->slots);
	memset(d, 0, sizeof(*d));
}

static size_t find(const struct sb_dedup *d, uint64_t h, const char *key, size_t klen)
{
	size_t i = h & (d->cap - 1);
	while (d->slots[i] && (d->slots[i]->hash != h || memcmp(d->slots[i]->key, key, klen)))
		i = (i + 1) & (d->cap - 1);
	return i;
}

/* Removes slot i and moves the entries after it back (linear probing). */
static void remove_at(struct sb_dedup *d, size_t i)
{
	origin_free(d->slots[i]);
	d->slots[i] = NULL;
	d->n--;
	for (size_t j = (i + 1) & (d->cap - 1); d->slots[j]; j = (j + 1) & (d->cap - 1)) {
		struct sb_dedup_origin *o = d->slots[j];
		d->slots[j] = NULL;
		size_t k = o->hash & (d->cap - 1);
		while (d->slots[k])
			k = (k + 1) & (d->cap - 1);
		d->slots[k] = o;
	}
}

static void evict_oldest(struct sb_dedup *d)
{
	size_t best = SIZE_MAX;
	for (size_t i = 0; i < d->cap; i++)
		if (d->slots[i] && (best == SIZE_MAX || d->slots[i]->used < d->slots[best]->used))
			best = i;
	if (best != SIZE_MAX) {
		remove_at(d, best);
		d->evicted++;
	}
}

static inline bool bit(const struct sb_dedup_origin *o, uint64_t w, uint64_t seq)
{
	uint64_t b = seq % w;
	return o->bits[b / 64] >> (b % 64) & 1;
}

static inline void set_bit(struct sb_dedup_origin *o, uint64_t w, uint64_t seq, bool on)
{
	uint64_t b = seq % w;
	if (on)
		o->bits[b / 64] |= 1ull << (b % 64);
	else
		o->bits[b / 64] &= ~(1ull << (b % 64));
}

int sb_dedup_seen(struct sb_dedup *d, const char *host, const char *run, uint64_t seq)
{
	size_t hl = strlen(host), rl = strlen(run), klen = hl + rl + 2;
	char stack[512], *key = klen <= sizeof(stack) ? stack : malloc(klen);
	if (!key)
		return -ENOMEM;
	memcpy(key, host, hl + 1);
	memcpy(key + hl + 1, run, rl + 1);
	uint64_t h = sb_hash(key, klen);
	size_t i = find(d, h, key, klen);
	struct sb_dedup_origin *o = d->slots[i];
	int r = 0;
	if (!o) {
		if (d->n >= d->max_origins) {
			evict_oldest(d);
			i = find(d, h, key, klen);
		}
		o = calloc(1, sizeof(*o) + klen);
		if (!o || !(o->bits = calloc(d->window / 64, sizeof(uint64_t)))) {
			free(o);
			r = -ENOMEM;
			goto out;
		}
		o->hash = h;
		memcpy(o->key, key, klen);
		d->slots[i] = o;
		d->n++;
	}
	o->used = ++d->clock;
	uint64_t w = d->window;
	if (o->hi && seq <= o->hi) {
		if (o->hi - seq >= w) {
			d->too_old++; /* forgotten: cannot tell, let it through */
			goto out;
		}
		r = bit(o, w, seq);
		set_bit(o, w, seq, true);
		goto out;
	}
	/* slide: the seqs between the old high and this one are unseen */
	if (!o->hi || seq - o->hi >= w)
		memset(o->bits, 0, w / 8);
	else
		for (uint64_t s = o->hi + 1; s < seq; s++)
			set_bit(o, w, s, false);
	set_bit(o, w, seq, true);
	o->hi = seq;
out:
	if (key != stack)
		free(key);
	return r;
}
