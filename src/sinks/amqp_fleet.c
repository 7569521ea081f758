/* Endpoint failover for the amqp sink: which broker node each worker
 * connects to, and where it goes when that node is lost.
 *
 * A worker starts at an endpoint chosen from the host name and its index,
 * so a fleet of agents spreads over the nodes rather than all piling onto
 * the first. A connect is one round: each endpoint tried once, in order,
 * starting at the worker's current one; the round fails only when every
 * endpoint failed, and only then does the delivery layer count a failure
 * toward its breaker. A failed round starts the next one an endpoint
 * further on, so the breaker's probes try the endpoints in turn. A link
 * that closes moves the worker on to the next endpoint: the delivery layer
 * sends what was unconfirmed again, with the same message ids, on the new
 * link. Kept apart from librabbitmq so the unit tests drive it with a fake
 * connect. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amqp.h"

unsigned sb_amqp_fleet_first(const char *host, unsigned worker, unsigned n)
{
	/* FNV-1a: stable across runs and builds, so a host keeps its node */
	uint32_t h = 2166136261u;
	for (const char *p = host ? host : ""; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return n ? (unsigned)((h + worker) % n) : 0;
}

int sb_amqp_fleet_init(struct sb_amqp_fleet *f, unsigned nendpoints, unsigned nworkers,
		       const char *host)
{
	memset(f, 0, sizeof(*f));
	f->n = nendpoints;
	f->nworkers = nworkers;
	f->w = calloc(nworkers ? nworkers : 1, sizeof(*f->w));
	f->failures = calloc(nendpoints ? nendpoints : 1, sizeof(*f->failures));
	if (!f->w || !f->failures) {
		sb_amqp_fleet_free(f);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < nworkers; i++) {
		f->w[i].next = sb_amqp_fleet_first(host, i, nendpoints);
		f->w[i].last = -1;
		atomic_init(&f->w[i].cur, -1);
	}
	return 0;
}

void sb_amqp_fleet_free(struct sb_amqp_fleet *f)
{
	if (!f)
		return;
	free(f->w);
	free(f->failures);
	f->w = NULL;
	f->failures = NULL;
}

int sb_amqp_fleet_connect(struct sb_amqp_fleet *f, unsigned worker, sb_amqp_try_fn try_ep,
			  void *ctx, unsigned *ep, char *err, size_t errlen)
{
	struct sb_amqp_fleet_worker *w = &f->w[worker % f->nworkers];
	size_t len = 0;
	int r = -ECONNREFUSED;
	err[0] = 0;
	for (unsigned k = 0; k < f->n; k++) {
		unsigned e = (w->next + k) % f->n;
		char why[512] = "";
		r = try_ep(ctx, e, why, sizeof(why));
		if (!r) {
			if (w->last >= 0 && (unsigned)w->last != e)
				atomic_fetch_add(&f->failovers, 1);
			w->last = (int)e;
			w->next = e;
			atomic_store(&w->cur, (int)e);
			*ep = e;
			err[0] = 0;
			return 0;
		}
		atomic_fetch_add(&f->failures[e], 1);
		/* one endpoint: its own words; several: each one's, in turn */
		int n = snprintf(err + len, errlen - len, "%s%s", len ? "; " : "",
				 why[0] ? why : strerror(-r));
		if (n > 0)
			len = (size_t)n < errlen - len ? len + (size_t)n : errlen - 1;
	}
	if (f->n > 1 && len + 1 < errlen)
		snprintf(err + len, errlen - len, " (all %u endpoints)", f->n);
	w->next = (w->next + 1) % f->n;
	return r ? r : -ECONNREFUSED;
}

void sb_amqp_fleet_closed(struct sb_amqp_fleet *f, unsigned worker, bool broke)
{
	struct sb_amqp_fleet_worker *w = &f->w[worker % f->nworkers];
	int cur = atomic_exchange(&w->cur, -1);
	if (cur < 0)
		return;
	if (broke)
		atomic_fetch_add(&f->failures[cur], 1);
	/* Whatever closed it (a lost node, a confirm that never came, the
	 * breaker), the next connect starts at the next node; at shutdown
	 * it does not matter. */
	w->next = ((unsigned)cur + 1) % f->n;
}
