/* The Prometheus sink's series store: the latest value of every series seen
 * in "metrics" events, grouped in families, rendered on demand in the text
 * exposition format 0.0.4 or in OpenMetrics 1.0.
 *
 * A series is a sample name plus its labels sorted by name; it disappears
 * when it has not been refreshed for stale_after of its own refresh periods
 * (learned from how often it is refreshed, never less than the agent's
 * interval), so a process that exits or a target that goes away drops off
 * /metrics instead of exposing a frozen value forever.
 *
 * The store is thread-safe: the sink's thread updates it while the HTTP
 * thread renders it, each under one short lock. Times are passed in
 * (monotonic ns), so tests drive the clock. */
#ifndef SB_PROM_STORE_H
#define SB_PROM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "sb_event.h"
#include "sb_util.h"

enum sb_prom_format {
	SB_PROM_TEXT,	     /* text/plain; version=0.0.4 */
	SB_PROM_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
};

/* Why a sample was not stored. */
enum sb_prom_reject {
	SB_PROM_REJ_NAME,      /* not a valid metric name */
	SB_PROM_REJ_LABEL,     /* invalid, reserved or duplicate label name */
	SB_PROM_REJ_TYPE,      /* its family already has another type */
	SB_PROM_REJ_HISTOGRAM, /* buckets out of order or not cumulative */
	SB_PROM_REJ_LIMIT,     /* max_series reached */
	SB_PROM_REJ_NOMEM,
	SB_PROM_REJ_MAX,
};
const char *sb_prom_reject_name(enum sb_prom_reject r);

struct sb_prom_store_opts {
	int64_t interval;    /* ns; the agent's interval: the shortest refresh period */
	int64_t stale_after; /* refresh periods a series may miss; 0: series never expire */
	uint64_t max_series; /* 0: no bound */
};

/* Counters for self-telemetry: atomics, read without the store's lock. */
struct sb_prom_store_stats {
	uint64_t series;
	uint64_t families;
	uint64_t expired;
	uint64_t events;	 /* "metrics" events applied */
	uint64_t events_ignored; /* other kinds (exec, exit, ...) */
	uint64_t rejected[SB_PROM_REJ_MAX];
};

struct sb_prom_store;

struct sb_prom_store *sb_prom_store_new(const struct sb_prom_store_opts *o);
void sb_prom_store_free(struct sb_prom_store *st);
/* Applies every sample of the "metrics" events among evs[0, n); others are
 * counted and ignored. Also removes expired series, at most once a second. */
void sb_prom_store_update(struct sb_prom_store *st, struct sb_event *const *evs, size_t n,
			  int64_t now);
/* Removes the series that have expired at now; returns how many. */
size_t sb_prom_store_expire(struct sb_prom_store *st, int64_t now);
/* Appends the exposition of every live series to out. */
void sb_prom_store_render(struct sb_prom_store *st, struct sb_buf *out, enum sb_prom_format fmt,
			  int64_t now);
/* What a render was made from: while the store's changes are the same and
 * until has not passed, a render now would give the same text. */
struct sb_prom_stamp {
	uint64_t changes;
	int64_t until; /* the earliest expiry of a series it shows */
};
/* sb_prom_store_render, and the stamp of what it rendered. */
void sb_prom_store_render_stamped(struct sb_prom_store *st, struct sb_buf *out,
				  enum sb_prom_format fmt, int64_t now,
				  struct sb_prom_stamp *stamp);
/* The count of updates and expiries so far (any thread, no lock). */
uint64_t sb_prom_store_changes(struct sb_prom_store *st);
/* Calls fn for each live series of the family name, with its labels as
 * rendered (`a="x",b="y"`, may be empty) and its value. Returns how many. */
size_t sb_prom_store_each(struct sb_prom_store *st, const char *name, int64_t now,
			  void (*fn)(void *arg, const char *labels, double value), void *arg);
void sb_prom_store_stats(struct sb_prom_store *st, struct sb_prom_store_stats *out);

/* Go's strconv.FormatFloat(v, 'g', -1, 64), which the Prometheus clients
 * use for `le` and `quantile` (and remote write, like them); OpenMetrics
 * (om) wants integral values as "1.0". out holds 32 bytes. */
size_t sb_fmt_go_float(char *out, double v, bool om);

#endif
