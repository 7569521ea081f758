/* The prom sink's render ahead: the loop renders the exposition once a
 * round is in the store, while the series are still in its cache, in the
 * form the last scrape asked for (text or OpenMetrics, gzip or not); the
 * next scrape copies it out instead of walking a store that has gone cold.
 * Only while scrapes come: a render ahead that no scrape asked for since the
 * last one is not made, so an endpoint scraped every 15 s with 1 s rounds
 * costs one render ahead a scrape, not fifteen. A scrape takes it only if it
 * is still what a render would give: the store unchanged since and no series
 * it shows expired (sb_prom_stamp); else the scrape renders as before. */
#ifndef SB_PROM_AHEAD_H
#define SB_PROM_AHEAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "prom_gzip.h"
#include "prom_store.h"

/* An exposition rendered ahead, shared with the answers being sent from
 * it: libmicrohttpd sends it as it is and drops its reference when done,
 * so a scrape copies nothing. */
struct sb_prom_body {
	atomic_uint refs;
	struct sb_buf buf;
};
void sb_prom_body_unref(struct sb_prom_body *b);

struct sb_prom_ahead {
	pthread_mutex_t mu; /* body and what it is, against a scrape's take */
	struct sb_prom_body *body;
	bool have, gz;
	enum sb_prom_format fmt;
	struct sb_prom_stamp stamp;
	/* the loop's own: the body before, rendered into again once no
	 * answer holds it (so a round allocates nothing), and gzip's input */
	struct sb_prom_body *spare;
	struct sb_buf plain;
	/* set by each scrape, with what it asked for; taken by the render */
	atomic_bool wanted;
	atomic_int want_fmt;
	atomic_bool want_gz;
	atomic_uint_fast64_t taken; /* scrapes answered from it */
};

void sb_prom_ahead_init(struct sb_prom_ahead *a);
void sb_prom_ahead_free(struct sb_prom_ahead *a);
/* The loop, when idle: renders ahead if a scrape came since the last render
 * ahead and the store changed (gz: compress with it; NULL: gzip is off). */
void sb_prom_ahead_make(struct sb_prom_ahead *a, struct sb_prom_store *st, struct sb_prom_gzip *gz,
			int64_t now);
/* A scrape wanting fmt (gzipped or not) at now: the render ahead, with a
 * reference the caller drops (sb_prom_body_unref) once it is sent, when it
 * is what a render would give; else NULL. Records the want either way. */
struct sb_prom_body *sb_prom_ahead_take(struct sb_prom_ahead *a, struct sb_prom_store *st,
					enum sb_prom_format fmt, bool gz, int64_t now);

#endif
