#include "prom_conn.h"

#include <stddef.h>

/* The list keeps connections in the order they last became idle, so the
 * idle ones among them (busy and cut ones are skipped) are oldest first:
 * the first found is the one to shed, and the sweep stops at the first
 * one not yet due. */

static void unlink_conn(struct sb_prom_conns *t, struct sb_prom_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		t->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		t->tail = c->prev;
	c->prev = c->next = NULL;
}

static void append(struct sb_prom_conns *t, struct sb_prom_conn *c)
{
	c->prev = t->tail;
	c->next = NULL;
	if (t->tail)
		t->tail->next = c;
	else
		t->head = c;
	t->tail = c;
}

static bool idle(const struct sb_prom_conn *c) { return !c->busy && !c->cut; }

static void cut(struct sb_prom_conns *t, struct sb_prom_conn *c, enum sb_prom_cut why)
{
	c->cut = true;
	t->live--;
	t->cuts[why]++;
}

void sb_prom_conns_init(struct sb_prom_conns *t, unsigned limit, int64_t header_timeout_ns)
{
	*t = (struct sb_prom_conns){.limit = limit, .header_timeout = header_timeout_ns};
}

struct sb_prom_conn *sb_prom_conns_add(struct sb_prom_conns *t, struct sb_prom_conn *c, int64_t now)
{
	c->since = now;
	c->busy = c->cut = false;
	append(t, c);
	t->live++;
	if (t->live <= t->limit)
		return NULL;
	/* c is idle, so this finds one: c itself when every other one is busy */
	struct sb_prom_conn *v = t->head;
	while (!idle(v))
		v = v->next;
	cut(t, v, SB_PROM_CUT_LIMIT);
	return v;
}

void sb_prom_conns_busy(struct sb_prom_conns *t, struct sb_prom_conn *c)
{
	(void)t;
	c->busy = true;
}

void sb_prom_conns_idle(struct sb_prom_conns *t, struct sb_prom_conn *c, int64_t now)
{
	c->busy = false;
	c->since = now;
	unlink_conn(t, c);
	append(t, c);
}

void sb_prom_conns_del(struct sb_prom_conns *t, struct sb_prom_conn *c)
{
	unlink_conn(t, c);
	if (!c->cut)
		t->live--;
}

int64_t sb_prom_conns_sweep(struct sb_prom_conns *t, int64_t now,
			    void (*cb)(void *arg, struct sb_prom_conn *c), void *arg)
{
	for (struct sb_prom_conn *c = t->head; c; c = c->next) {
		if (!idle(c))
			continue;
		int64_t due = c->since + t->header_timeout;
		if (due > now)
			return due; /* and every idle one after it is due later */
		cut(t, c, SB_PROM_CUT_DEADLINE);
		cb(arg, c);
	}
	return now + t->header_timeout;
}
