/* Which deliveries may be acked: see amqp_consumer.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "amqp_consumer.h"

void sb_acks_init(struct sb_acks *a) { memset(a, 0, sizeof(*a)); }

void sb_acks_free(struct sb_acks *a)
{
	if (!a)
		return;
	free(a->v);
	memset(a, 0, sizeof(*a));
}

int sb_acks_push(struct sb_acks *a, uint64_t tag, uint64_t seq)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 256;
		struct sb_ack_ent *v = malloc(cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		for (size_t i = 0; i < a->n; i++)
			v[i] = a->v[(a->head + i) % a->cap];
		free(a->v);
		a->v = v;
		a->cap = cap;
		a->head = 0;
	}
	a->v[(a->head + a->n++) % a->cap] = (struct sb_ack_ent){tag, seq};
	return 0;
}

uint64_t sb_acks_due(struct sb_acks *a, uint64_t durable)
{
	uint64_t tag = 0;
	/* in order only: a later delivery's events were published after an
	 * earlier one's, so the first not durable ends the run */
	while (a->n && a->v[a->head].seq <= durable) {
		tag = a->v[a->head].tag;
		a->head = (a->head + 1) % a->cap;
		a->n--;
	}
	return tag;
}

void sb_acks_reset(struct sb_acks *a) { a->head = a->n = 0; }
