/* The delivery layer's state, shared by its files: sink.c (the sink ops
 * the bus calls: accept, flush, open, close, telemetry), sender.c (one
 * sender thread per worker: settle, retries, replay), window.c (what the
 * sender sends next) and supervisor.c (watchdog and input rate).
 *
 * Accounting, per worker, exact at every moment (a seqlock over counters
 * that change together under the worker's mutex):
 *   received = delivered + spool_records + in_flight + dropped[*]
 * received: taken by write() or recovered from the spool at start;
 * delivered: the transport reported it ACKED; spool_records: in the spool,
 * not yet delivered; in_flight: held only in memory. */
#ifndef SB_DELIVERY_INTERNAL_H
#define SB_DELIVERY_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "sb_backoff.h"
#include "../breaker.h"
#include "../spool/spool.h"
#include "sb_delivery.h"
#include "sb_log.h"

/* Log lines name the sink type (sink:amqp); k is in scope where used. */
#define COMP (k->comp)

enum { DROP_SPOOL_FULL, DROP_SPOOL_ERROR, DROP_CORRUPT, DROP_REJECTED, NDROP };
extern const char *const dl_drop_names[NDROP];

struct acct {
	atomic_uint seq;
	atomic_uint_fast64_t received, delivered, spooled, spool_records, in_flight;
	atomic_uint_fast64_t dropped[NDROP];
};

struct acct_snap {
	uint64_t received, delivered, spooled, spool_records, in_flight, dropped[NDROP];
};

enum { ORIGIN_MEM, ORIGIN_OLD, ORIGIN_LIVE };

/* One message of a window. */
struct wmsg {
	struct sb_dmsg m;
	int origin;
	bool junk;	     /* a checksummed record that is not a message */
	struct sb_event *ev; /* ORIGIN_MEM */
	uint64_t segno, end; /* spool origins */
	size_t body;	     /* ORIGIN_MEM: offset in the sender's buffer */
};

/* A slice of the window: messages read (or taken) together, handed to
 * the transport together and settled together once every one is done.
 * A pipelining transport has up to window messages in flight as a ring of
 * slices (window / slices each); a synchronous one has one slice: the
 * whole window. Bodies live in the slice's own buffers while in flight. */
struct dwin {
	struct wmsg *win;
	struct sb_dmsg **wptr;
	size_t nwin, cap;
	/* batch_events > 1: the slice's messages, each a run of events
	 * (bfirst: index of its first in win; nevents of them), bodies in bbuf */
	struct sb_dmsg *bmsg;
	struct sb_dmsg **bptr;
	size_t *bfirst;
	size_t nb;
	struct sb_buf bbuf;
	struct sb_buf sbuf;    /* ORIGIN_MEM bodies */
	struct sb_buf rbuf[2]; /* spool records read by rd_old, rd_live */
	bool caught_up;	       /* its fill took all a replay had left */
	unsigned attempt;      /* failed attempts of its messages */
	int64_t sent_at;       /* last handed to the transport (sink's clock) */
};

struct dsink;

struct dshard {
	struct dsink *k;
	unsigned idx;
	char name[64];
	struct sb_spool *sp;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu; /* memory queue, stop, kick; serialises acct writers */
	pthread_cond_t cv;
	struct sb_event **mem;
	size_t mhead, mcount, mcap;
	bool stop, kick;
	int64_t stop_deadline;
	struct acct acct;
	atomic_uint_fast64_t spool_bytes;
	/* the bus thread's */
	struct sb_spool_batch wb;
	struct sb_buf wbody;
	struct sb_codec_ctx wcc;
	/* the sender's */
	void *link;
	pthread_mutex_t wd_mu; /* link close vs the watchdog */
	atomic_int_fast64_t busy_since;
	struct sb_spool_reader rd_old, rd_live;
	bool outage;
	atomic_bool replaying;
	uint64_t backlog_hi;
	int64_t replay_start;
	int64_t replay_cpu; /* the process's CPU time (ns) at the replay's start */
	uint64_t replay_sent;
	/* the slices in flight, oldest first: ring[(rhead + i) % rcap] */
	struct dwin *ring;
	unsigned rcap, rhead, rcount;
	bool backed_off;       /* failed messages in the ring wait out a backoff */
	bool probing;	       /* the ring holds the breaker's probe */
	char why[256];	       /* the transport's last complaint, for the log */
	unsigned link_attempt; /* failed connects in a row */
	bool lost;	       /* the last failure was a lost link */
	unsigned links_lost;   /* established links lost since the last delivery */
	int64_t retry_at;      /* backing off until then (no kick shortens it) */
	struct sb_codec_ctx scc;
	struct sb_spool_batch sb;
	struct sb_buf sbody;
	struct sb_spool_rec *recs;
	uint64_t rnd;
	int64_t last_io;
	struct sb_ratelimit rl_fail, rl_spool;
};

#define NLAT 14
extern const double dl_lat_le[NLAT];

struct dsink {
	struct sb_sink *s;
	char comp[48];
	const struct sb_delivery_cfg *cfg;
	const struct sb_transport_ops *t;
	void *tp;
	const struct sb_codec *codec;
	struct dshard *shards;
	unsigned n;
	int64_t (*now)(void);
	pthread_mutex_t bmu;
	struct sb_breaker br;
	atomic_int breaker_state;
	pthread_mutex_t tmu;
	struct sb_tbucket tb;
	atomic_uint_fast64_t retries, corrupt;
	atomic_uint_fast64_t lat[NLAT + 1], lat_count, lat_sum_ns;
	atomic_uint_fast64_t peak_rate;
	/* supervisor */
	pthread_t sup;
	bool sup_started;
	pthread_mutex_t smu;
	pthread_cond_t scv;
	bool sup_stop;
	struct sb_peak peak;
	uint64_t last_received;
	int64_t last_warn;
};

/* accounting (sink.c); writers hold sh->mu */
struct acct *dl_acct_begin(struct dshard *sh);
void dl_acct_end(struct dshard *sh);
void dl_acct_total(struct dsink *k, struct acct_snap *t);
void dl_acct_line(struct dsink *k, char *out, size_t n);
void dl_note_spool_bytes(struct dshard *sh);
#define ADD(f, v) atomic_fetch_add_explicit(&a->f, (v), memory_order_relaxed)
#define SUB(f, v) atomic_fetch_sub_explicit(&a->f, (v), memory_order_relaxed)

/* breaker (sink.c), shared by the workers */
int dl_breaker_state(struct dsink *k);
enum sb_breaker_verdict dl_breaker_ask(struct dsink *k, int64_t *wait);
void dl_breaker_result(struct dsink *k, bool ok, bool probe, bool trip, const char *why);

/* Spools evs, held only in memory until now; caller holds sh->mu. */
void dl_spill_locked(struct dshard *sh, struct sb_event *const *evs, size_t n,
		     struct sb_spool_batch *b, struct sb_buf *body, struct sb_codec_ctx *cc,
		     bool from_memory);

/* Events a window holds: window messages of batch_events each, bounded. */
size_t sb_delivery_window_events(const struct sb_delivery_cfg *c);

/* window.c: the ring of slices, filling one, its batch messages */
int dl_ring_init(struct dshard *sh);
void dl_ring_free(struct dshard *sh);
static inline struct dwin *dl_slice(struct dshard *sh, unsigned i)
{
	return &sh->ring[(sh->rhead + i) % sh->rcap];
}
void dl_fill_window(struct dshard *sh, struct dwin *w, int64_t *wait);
void dl_group_window(struct dshard *sh, struct dwin *w);
void dl_ungroup_window(struct dwin *w);
/* The messages the transport sees: the batch messages or the events. */
size_t dl_wire(const struct dshard *sh, struct dwin *w, struct sb_dmsg *const **msgs);
uint64_t dl_memory_queued(struct dshard *sh);

/* sender.c */
void *dl_sender_main(void *arg);
int64_t dl_sender_step(struct dshard *sh);
bool dl_sender_done(struct dshard *sh);
void dl_sender_finish(struct dshard *sh);
void dl_close_link(struct dshard *sh);

/* supervisor.c */
void *dl_supervisor_main(void *arg);

#endif
