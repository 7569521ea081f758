/* The remote_write sink's parts: events as Prometheus remote-write 1.0
 * series and the request body (rwrite_series.c), and the HTTP transport on
 * the delivery layer (rwrite.c). */
#ifndef SB_SINK_RWRITE_H
#define SB_SINK_RWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_event.h"
#include "sb_util.h"

/* The stale marker Prometheus writes when a series disappears: a NaN with
 * these bits. An agent forwarding it would end a series it does not own. */
#define SB_RW_STALE_NAN 0x7ff0000000000002ULL

struct sb_rw_label {
	const char *name, *value;
	size_t nlen, vlen;
	int prio; /* among equal names the lowest wins */
};

/* How events become series: the labels every series gets. One per worker. */
struct sb_rw_conv {
	const char *job;
	const char *instance;	       /* NULL: each event's host */
	const struct sb_rw_label *ext; /* external labels, sorted by name */
	size_t next;
	/* scratch */
	const char *target; /* the event's `target` field, or NULL */
	struct sb_rw_label *lab;
	size_t cap;
	struct sb_buf val; /* label values made valid UTF-8 */
	/* counted as they are met */
	uint64_t stale; /* stale markers left out */
};

void sb_rw_conv_free(struct sb_rw_conv *c);

/* Appends to req (a WriteRequest body: one field-1 TimeSeries each) the
 * series of ev's samples from *at on, until *nreq (samples in req) reaches
 * max; advances *at past the samples written. A histogram or summary goes
 * whole, so a request may pass max by one sample's buckets. host is the
 * event's (the default instance). An event with a `target` field (a
 * scrape) labels its series target="NAME", as the prom sink does, so an
 * exporter's process_* never meet the agent's own. Returns -ENOMEM or 0. */
int sb_rw_encode(struct sb_rw_conv *c, struct sb_buf *req, const struct sb_event *ev,
		 const char *host, uint32_t *at, size_t *nreq, size_t max);

/* Snappy block compression (not the framed format) of in into out, which
 * is reset first; libsnappy is opened on first use. 0, or -errno with why. */
int sb_rw_snappy(struct sb_buf *out, const void *in, size_t n, const char **why);

#endif
