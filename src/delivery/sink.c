/* The delivery layer's sink ops: what the bus calls on a delivering sink.
 *
 * Each bus shard (worker) has its own spool directory, a sender thread and
 * one transport link, so the pool of links is the set of workers and order
 * holds per worker. write() only accepts: with buffer "disk" every event is
 * appended to the spool before write() returns (so kill -9 loses nothing
 * accepted) and the sender reads it back from there; with buffer "memory"
 * events wait in a bounded in-memory queue and reach the spool only when
 * the receiver is unreachable, a window exhausts its retries, or at
 * shutdown. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "record.h"
#include "sb_bus.h"

const char *const dl_drop_names[NDROP] = {"spool_full", "spool_error", "corrupt", "rejected"};
const double dl_lat_le[NLAT] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				0.1,	0.25,  0.5,    1,     2.5,  5,	   10};

static const char *const buffer_choices[] = {"disk", "memory", NULL};
static const char *const replay_choices[] = {"ordered", "backfill", NULL};
static const char *const spool_full_choices[] = {"block", "drop_oldest", NULL};

#define BRK(f)                                                                                     \
	(offsetof(struct sb_delivery_cfg, breaker.f) - offsetof(struct sb_delivery_cfg, breaker))
static const struct sb_cfg_key breaker_keys[] = {
    {"failures", SB_CT_INT, BRK(failures), "5", "consecutive failed attempts that open the breaker",
     .min = 1, .max = 1e6},
    {"cooldown", SB_CT_DURATION, BRK(cooldown), "10s",
     "how long the breaker stays open before a probe", .min = 0.001, .max = 86400},
    {0},
};

#define D(f) offsetof(struct sb_delivery_cfg, f)
const struct sb_cfg_key sb_delivery_keys[] = {
    {"spool_dir", SB_CT_STR, D(spool_dir), "/var/lib/sensorbus/spool/{name}",
     "spool directory, one shard-N subdirectory per worker ({name}: the sink's name)",
     .flags = SB_CK_PATH | SB_CK_OWNED},
    {"spool_max_bytes", SB_CT_SIZE, D(spool_max_bytes), "1GiB",
     "bound on the spool's files, shared evenly by the workers", .min = 65536, .max = 1e15},
    {"spool_segment_bytes", SB_CT_SIZE, D(spool_segment_bytes), "16MiB",
     "spool segment file size (drop_oldest deletes whole segments)", .min = 4096, .max = 1e12},
    {"spool_full", SB_CT_ENUM, D(spool_full), "drop_oldest",
     "at spool_max_bytes or a full disk: drop_oldest (delete the oldest segment, counted) or "
     "block (accept nothing more; the bus queue holds, then drops by its own policy)",
     spool_full_choices},
    {"buffer", SB_CT_ENUM, D(buffer), "disk",
     "disk: every event is spooled before it is accepted (kill -9 loses nothing); memory: "
     "spool only while the receiver is unreachable and at shutdown",
     buffer_choices},
    {"drain_rate", SB_CT_INT, D(drain_rate), "5000",
     "events/s the spool is replayed at after an outage (0: unlimited)", .min = 0, .max = 1e9},
    {"replay", SB_CT_ENUM, D(replay), "ordered",
     "ordered: the spool goes before newer events; backfill: newer events go at once and the "
     "spool drains beside them",
     replay_choices},
    {"breaker", SB_CT_OBJ, D(breaker), NULL, "circuit breaker over the sink's attempts",
     .sub = breaker_keys},
    {"fsync_interval", SB_CT_DURATION, D(fsync_interval), "1s",
     "fdatasync spooled data and cursors at most this late (0: leave it to the kernel)", .min = 0,
     .max = 3600},
    {"fsync_every_write", SB_CT_BOOL, D(fsync_every_write), "false",
     "fdatasync every batch before accepting it (survives power loss; slower)"},
    {"window", SB_CT_INT, D(window), "512",
     "most messages per worker sent and not yet confirmed (a pipelining transport, amqp, sends "
     "the next as confirms come, an eighth of a window at a time)",
     .min = 1, .max = 65536},
    {"memory_events", SB_CT_INT, D(memory_events), "8192",
     "buffer memory: events held per worker before the rest go to the spool", .min = 1, .max = 1e8},
    {"confirm_timeout", SB_CT_DURATION, D(confirm_timeout), "10s",
     "longest wait for a window's outcome before it counts as failed", .min = 0.001, .max = 3600},
    {"format", SB_CT_STR, D(format), "json",
     "json or protobuf (one sensorbus.v1.Event per message, docs/formats.md); spooled events "
     "keep the format they were written in"},
    {"batch_events", SB_CT_INT, D(batch_events), "1",
     "events per message: above 1, consecutive events of one source and kind go as one message "
     "(JSON lines, or a sensorbus.v1.EventBatch); the window then holds window x batch_events "
     "events",
     .min = 1, .max = 10000},
    {"batch_bytes", SB_CT_SIZE, D(batch_bytes), "128KiB",
     "most bytes of events in one batch message (an event larger goes alone)", .min = 1024,
     .max = 64 << 20},
    {0},
};

size_t sb_delivery_window_events(const struct sb_delivery_cfg *c)
{
	uint64_t n = (uint64_t)c->window * (uint64_t)c->batch_events;
	return n > (1u << 18) ? (1u << 18) : (size_t)n;
}

int sb_delivery_validate(const void *cfgp, char *err, size_t errlen)
{
	const struct sb_delivery_cfg *c = cfgp;
	if (!sb_codec_find(c->format)) {
		snprintf(err, errlen, "format: \"%s\" unknown (one of %s)", c->format,
			 sb_codec_names());
		return -EINVAL;
	}
	if (!*c->spool_dir) {
		snprintf(err, errlen, "spool_dir: empty (the spool is the delivery guarantee)");
		return -EINVAL;
	}
	if (c->spool_segment_bytes * 2 > c->spool_max_bytes) {
		snprintf(
		    err, errlen,
		    "spool_segment_bytes: at most half of spool_max_bytes (drop_oldest deletes "
		    "whole segments)");
		return -EINVAL;
	}
	return 0;
}

/* ---- accounting ---- */

struct acct *dl_acct_begin(struct dshard *sh)
{
	unsigned s = atomic_load_explicit(&sh->acct.seq, memory_order_relaxed);
	atomic_store_explicit(&sh->acct.seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	return &sh->acct;
}

void dl_acct_end(struct dshard *sh)
{
	unsigned s = atomic_load_explicit(&sh->acct.seq, memory_order_relaxed);
	atomic_store_explicit(&sh->acct.seq, s + 1, memory_order_release);
}

static void acct_read(struct dshard *sh, struct acct_snap *o)
{
	struct acct *a = &sh->acct;
	for (;;) {
		unsigned s1 = atomic_load_explicit(&a->seq, memory_order_acquire);
		if (s1 & 1)
			continue;
		o->received = atomic_load_explicit(&a->received, memory_order_relaxed);
		o->delivered = atomic_load_explicit(&a->delivered, memory_order_relaxed);
		o->spooled = atomic_load_explicit(&a->spooled, memory_order_relaxed);
		o->spool_records = atomic_load_explicit(&a->spool_records, memory_order_relaxed);
		o->in_flight = atomic_load_explicit(&a->in_flight, memory_order_relaxed);
		for (int i = 0; i < NDROP; i++)
			o->dropped[i] = atomic_load_explicit(&a->dropped[i], memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&a->seq, memory_order_relaxed) == s1)
			return;
	}
}

void dl_acct_total(struct dsink *k, struct acct_snap *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < k->n; i++) {
		struct acct_snap o;
		acct_read(&k->shards[i], &o);
		t->received += o.received;
		t->delivered += o.delivered;
		t->spooled += o.spooled;
		t->spool_records += o.spool_records;
		t->in_flight += o.in_flight;
		for (int j = 0; j < NDROP; j++)
			t->dropped[j] += o.dropped[j];
	}
}

void dl_acct_line(struct dsink *k, char *out, size_t n)
{
	struct acct_snap t;
	dl_acct_total(k, &t);
	uint64_t dropped = 0;
	for (int j = 0; j < NDROP; j++)
		dropped += t.dropped[j];
	snprintf(out, n,
		 "received=%" PRIu64 " delivered=%" PRIu64 " spooled=%" PRIu64 " dropped=%" PRIu64
		 " in_flight=%" PRIu64,
		 t.received, t.delivered, t.spool_records, dropped, t.in_flight);
}

void dl_note_spool_bytes(struct dshard *sh)
{
	struct sb_spool_state st;
	sb_spool_state(sh->sp, &st);
	atomic_store_explicit(&sh->spool_bytes, st.bytes, memory_order_relaxed);
}

/* ---- breaker (shared by the workers) ---- */

int dl_breaker_state(struct dsink *k)
{
	return atomic_load_explicit(&k->breaker_state, memory_order_relaxed);
}

static void breaker_changed(struct dsink *k, int from, const char *why)
{
	int st = k->br.state;
	atomic_store_explicit(&k->breaker_state, st, memory_order_relaxed);
	char line[256];
	dl_acct_line(k, line, sizeof(line));
	const char *target = k->t->target(k->tp);
	if (st == SB_BREAKER_OPEN && from == SB_BREAKER_CLOSED) {
		char cd[32];
		sb_fmt_duration(cd, sizeof(cd), k->br.cooldown);
		sb_warn(COMP,
			"%s: breaker open (%s): events go to the spool, probing %s every %s (%s)",
			k->s->name, why, target, cd, line);
	} else if (st == SB_BREAKER_OPEN) {
		sb_dbg(COMP, "%s: probe failed (%s): breaker open again (%s)", k->s->name, why,
		       line);
	} else if (st == SB_BREAKER_CLOSED) {
		sb_info(COMP, "%s: breaker closed: %s takes events again (%s)", k->s->name, target,
			line);
	}
}

enum sb_breaker_verdict dl_breaker_ask(struct dsink *k, int64_t *wait)
{
	pthread_mutex_lock(&k->bmu);
	enum sb_breaker_verdict v = sb_breaker_ask(&k->br, k->now(), wait);
	atomic_store_explicit(&k->breaker_state, k->br.state, memory_order_relaxed);
	pthread_mutex_unlock(&k->bmu);
	return v;
}

void dl_breaker_result(struct dsink *k, bool ok, bool probe, bool trip, const char *why)
{
	pthread_mutex_lock(&k->bmu);
	bool changed;
	int from = k->br.state;
	if (ok)
		changed = sb_breaker_success(&k->br, probe);
	else if (trip)
		changed = sb_breaker_trip(&k->br, k->now());
	else
		changed = sb_breaker_failure(&k->br, k->now(), probe);
	if (changed)
		breaker_changed(k, from, why);
	atomic_store_explicit(&k->breaker_state, k->br.state, memory_order_relaxed);
	pthread_mutex_unlock(&k->bmu);
}

/* ---- records ---- */

/* Frames one event as a spool record into b, encoding it into body. */
static void add_record(struct dsink *k, struct sb_spool_batch *b, struct sb_buf *body,
		       struct sb_codec_ctx *cc, const struct sb_event *ev)
{
	sb_buf_reset(body);
	k->codec->encode(body, cc, ev);
	struct sb_rec_head h;
	sb_rec_head(&h, k->codec, ev, k->s->ri->run, k->s->ri->host, body->data, body->len);
	if (body->err)
		b->buf.err = body->err;
	sb_spool_batch_add(b, h.iov, SB_ARRAY_SIZE(h.iov));
}

void dl_spill_locked(struct dshard *sh, struct sb_event *const *evs, size_t n,
		     struct sb_spool_batch *b, struct sb_buf *body, struct sb_codec_ctx *cc,
		     bool from_memory)
{
	struct dsink *k = sh->k;
	if (!n)
		return;
	sb_spool_batch_reset(b);
	for (size_t i = 0; i < n; i++)
		add_record(k, b, body, cc, evs[i]);
	struct sb_spool_wres w = {0};
	if (b->buf.err)
		w.err = b->buf.err;
	else
		sb_spool_write(sh->sp, b, &w);
	struct acct *a = dl_acct_begin(sh);
	if (from_memory)
		SUB(in_flight, n);
	else
		ADD(received, n);
	ADD(spooled, w.written);
	ADD(spool_records, w.written);
	SUB(spool_records, w.evicted);
	ADD(dropped[DROP_SPOOL_FULL], w.evicted);
	if (w.written < n)
		ADD(dropped[w.err == -ENOSPC ? DROP_SPOOL_FULL : DROP_SPOOL_ERROR], n - w.written);
	dl_acct_end(sh);
	if (w.written < n)
		sb_log_rl(&sh->rl_spool, SB_LOG_ERROR, COMP,
			  "%s: spool %s cannot take %zu events (%s): dropped", sh->name,
			  sb_spool_dir(sh->sp), n - w.written, strerror(-w.err));
	dl_note_spool_bytes(sh);
}

/* ---- write (the bus's shard thread) ---- */

static void kick(struct dshard *sh)
{
	sh->kick = true;
	pthread_cond_signal(&sh->cv);
}

static enum sb_sink_status write_disk(struct dshard *sh, struct sb_event *const *evs, size_t n,
				      size_t *taken)
{
	struct dsink *k = sh->k;
	sb_spool_batch_reset(&sh->wb);
	for (size_t i = 0; i < n; i++)
		add_record(k, &sh->wb, &sh->wbody, &sh->wcc, evs[i]);
	if (sh->wb.buf.err) {
		sb_log_rl(&sh->rl_spool, SB_LOG_ERROR, COMP, "%s: out of memory encoding events",
			  sh->name);
		sh->wb.buf.err = 0;
		sh->wbody.err = 0;
		*taken = 0;
		return SB_SINK_RETRY;
	}
	pthread_mutex_lock(&sh->mu);
	struct sb_spool_wres w;
	sb_spool_write(sh->sp, &sh->wb, &w);
	size_t dropped_new = 0;
	/* At the bound with drop_oldest there is nothing older left to drop:
	 * the new events go, counted. Anything else is not taken. */
	if (w.written < n && w.err == -ENOSPC && k->cfg->spool_full == SB_SPOOL_DROP_OLDEST)
		dropped_new = n - w.written;
	*taken = w.written + dropped_new;
	struct acct *a = dl_acct_begin(sh);
	ADD(received, *taken);
	ADD(spooled, w.written);
	ADD(spool_records, w.written);
	SUB(spool_records, w.evicted);
	ADD(dropped[DROP_SPOOL_FULL], w.evicted + dropped_new);
	dl_acct_end(sh);
	if (w.written)
		kick(sh);
	pthread_mutex_unlock(&sh->mu);
	dl_note_spool_bytes(sh);
	if (w.err) {
		sb_log_rl(&sh->rl_spool, SB_LOG_ERROR, COMP, "%s: spool %s: %s: %s", sh->name,
			  sb_spool_dir(sh->sp), strerror(-w.err),
			  dropped_new ? "dropping new events (spool_full drop_oldest)"
				      : "not accepting events until there is room");
		return *taken == n ? SB_SINK_OK : SB_SINK_RETRY;
	}
	return SB_SINK_OK;
}

static enum sb_sink_status write_memory(struct dshard *sh, struct sb_event *const *evs, size_t n,
					size_t *taken)
{
	struct dsink *k = sh->k;
	pthread_mutex_lock(&sh->mu);
	bool to_spool = dl_breaker_state(k) == SB_BREAKER_OPEN || sh->mcount + n > sh->mcap;
	if (!to_spool && k->cfg->replay == SB_REPLAY_ORDERED) {
		struct sb_spool_state st;
		sb_spool_state(sh->sp, &st);
		to_spool = st.records > 0; /* keep order: behind what is spooled */
	}
	if (to_spool) {
		dl_spill_locked(sh, evs, n, &sh->wb, &sh->wbody, &sh->wcc, false);
	} else {
		for (size_t i = 0; i < n; i++)
			sh->mem[(sh->mhead + sh->mcount + i) % sh->mcap] = sb_event_ref(evs[i]);
		sh->mcount += n;
		struct acct *a = dl_acct_begin(sh);
		ADD(received, n);
		ADD(in_flight, n);
		dl_acct_end(sh);
	}
	kick(sh);
	pthread_mutex_unlock(&sh->mu);
	*taken = n;
	return SB_SINK_OK;
}

enum sb_sink_status sb_delivery_write(struct sb_sink *s, unsigned shard,
				      struct sb_event *const *evs, size_t n, size_t *taken)
{
	struct dsink *k = s->state;
	struct dshard *sh = &k->shards[shard];
	if (k->cfg->buffer == SB_BUF_MEMORY)
		return write_memory(sh, evs, n, taken);
	return write_disk(sh, evs, n, taken);
}

enum sb_sink_status sb_delivery_flush(struct sb_sink *s, unsigned shard)
{
	struct dsink *k = s->state;
	struct dshard *sh = &k->shards[shard];
	int r = sb_spool_sync(sh->sp);
	if (r)
		sb_log_rl(&sh->rl_spool, SB_LOG_ERROR, COMP, "%s: cannot sync spool %s: %s",
			  sh->name, sb_spool_dir(sh->sp), strerror(-r));
	return SB_SINK_OK;
}

/* ---- open / close ---- */

static void spool_dir_of(const struct dsink *k, char *out, size_t n)
{
	sb_expand_name(out, n, k->cfg->spool_dir, k->s->name);
}

static void free_shard(struct dshard *sh)
{
	if (sh->mem) {
		while (sh->mcount) {
			sb_event_unref(sh->mem[sh->mhead]);
			sh->mhead = (sh->mhead + 1) % sh->mcap;
			sh->mcount--;
		}
	}
	free(sh->mem);
	sb_spool_close(sh->sp);
	sb_spool_batch_free(&sh->wb);
	sb_spool_batch_free(&sh->sb);
	sb_buf_free(&sh->wbody);
	sb_buf_free(&sh->sbody);
	sb_spool_reader_free(&sh->rd_old);
	sb_spool_reader_free(&sh->rd_live);
	dl_ring_free(sh);
	pthread_mutex_destroy(&sh->mu);
	pthread_mutex_destroy(&sh->wd_mu);
	pthread_cond_destroy(&sh->cv);
}

static int open_shard(struct dsink *k, unsigned i)
{
	const struct sb_delivery_cfg *c = k->cfg;
	struct dshard *sh = &k->shards[i];
	sh->k = k;
	sh->idx = i;
	snprintf(sh->name, sizeof(sh->name), "%s[%u]", k->s->name, i);
	pthread_mutex_init(&sh->mu, NULL);
	pthread_mutex_init(&sh->wd_mu, NULL);
	sb_cond_init_mono(&sh->cv);
	sb_spool_batch_init(&sh->wb);
	sb_spool_batch_init(&sh->sb);
	sb_buf_init(&sh->wbody);
	sb_buf_init(&sh->sbody);
	sh->wcc.run = sh->scc.run = k->s->ri->run;
	sh->wcc.host = sh->scc.host = k->s->ri->host;
	sb_spool_reader_init(&sh->rd_old, 0, UINT64_MAX);
	sb_spool_reader_init(&sh->rd_live, 0, UINT64_MAX);
	sh->rl_fail.interval_ns = 10 * SB_NSEC_PER_SEC;
	sh->rl_spool.interval_ns = 10 * SB_NSEC_PER_SEC;
	sb_jitter_seed(&sh->rnd, i);
	if (dl_ring_init(sh))
		return -ENOMEM;
	if (c->buffer == SB_BUF_MEMORY) {
		sh->mcap = (size_t)c->memory_events;
		sh->mem = calloc(sh->mcap, sizeof(*sh->mem));
	}
	if (c->buffer == SB_BUF_MEMORY && !sh->mem)
		return -ENOMEM;
	char base[4096], dir[4200];
	spool_dir_of(k, base, sizeof(base));
	snprintf(dir, sizeof(dir), "%s/shard-%u", base, i);
	struct sb_spool_opts o = {
	    .dir = dir,
	    .name = sh->name,
	    .max_bytes = c->spool_max_bytes / k->n,
	    .segment_bytes = c->spool_segment_bytes,
	    .full = c->spool_full,
	    .fsync_interval = c->fsync_interval,
	    .fsync_every_write = c->fsync_every_write,
	    .now = k->now,
	};
	if (o.max_bytes < 2 * o.segment_bytes) {
		o.max_bytes = 2 * o.segment_bytes;
		if (i == 0) {
			char total[32], each[32];
			sb_fmt_size(total, sizeof(total), c->spool_max_bytes);
			sb_fmt_size(each, sizeof(each), o.max_bytes);
			sb_warn(COMP,
				"%s: spool_max_bytes %s over %u workers is less than two segments "
				"each; raised to %s per worker",
				k->s->name, total, k->n, each);
		}
	}
	struct sb_spool_recovery rec;
	int r = sb_spool_open(&o, &sh->sp, &rec);
	if (r)
		return r;
	if (rec.records || rec.corrupt || rec.torn_bytes)
		sb_info(COMP,
			"%s: spool %s holds %" PRIu64
			" undelivered events from an earlier run (%" PRIu64
			" corrupt skipped, %" PRIu64 " torn bytes cut)",
			sh->name, dir, rec.records, rec.corrupt, rec.torn_bytes);
	/* Recovered records count as received (and corrupt ones as dropped),
	 * so the accounting holds across restarts. */
	struct acct *a = dl_acct_begin(sh);
	ADD(received, rec.records + rec.corrupt);
	ADD(spool_records, rec.records);
	ADD(dropped[DROP_CORRUPT], rec.corrupt);
	dl_acct_end(sh);
	atomic_fetch_add(&k->corrupt, rec.corrupt);
	/* a spool left by an earlier run replays at drain_rate */
	sh->outage = rec.records > 0;
	dl_note_spool_bytes(sh);
	return 0;
}

/* Spools of workers that no longer exist (workers was lowered) are not
 * read by anyone: say so, with what it takes to drain them. */
static void warn_orphans(struct dsink *k)
{
	char base[4096];
	spool_dir_of(k, base, sizeof(base));
	for (unsigned i = k->n; i < k->n + 64; i++) {
		char dir[4200];
		snprintf(dir, sizeof(dir), "%s/shard-%u", base, i);
		struct sb_spool_recovery rec;
		if (access(dir, F_OK) || sb_spool_scan(dir, &rec, NULL, NULL) || !rec.records)
			continue;
		sb_warn(COMP,
			"%s: %s holds %" PRIu64 " undelivered events no worker reads: run with "
			"workers >= %u to send them",
			k->s->name, dir, rec.records, i + 1);
	}
}

static int open_common(struct sb_sink *s, int64_t (*now)(void), bool threads)
{
	const struct sb_delivery_cfg *c = s->cfg;
	struct dsink *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->s = s;
	k->cfg = c;
	k->t = s->ops->transport;
	k->n = s->nshards;
	k->now = now;
	k->codec = sb_codec_find(c->format);
	snprintf(k->comp, sizeof(k->comp), "sink:%s", k->t->name);
	pthread_mutex_init(&k->bmu, NULL);
	pthread_mutex_init(&k->tmu, NULL);
	pthread_mutex_init(&k->smu, NULL);
	sb_cond_init_mono(&k->scv);
	sb_breaker_init(&k->br, (unsigned)c->breaker.failures, c->breaker.cooldown);
	sb_pacer_init(&k->tb, (double)c->drain_rate, k->now());
	sb_peak_init(&k->peak);
	s->state = k;
	char err[512];
	int r = k->t->init(&k->tp, s, err, sizeof(err));
	if (r) {
		sb_err(COMP, "%s: %s", s->name, err);
		goto fail;
	}
	k->shards = calloc(k->n, sizeof(*k->shards));
	if (!k->shards) {
		r = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < k->n; i++) {
		if ((r = open_shard(k, i))) {
			/* the spool logged what and where */
			k->n = i + 1;
			goto fail;
		}
	}
	warn_orphans(k);
	if (!threads)
		return 0;
	for (unsigned i = 0; i < k->n; i++) {
		if ((r = -pthread_create(&k->shards[i].thread, NULL, dl_sender_main,
					 &k->shards[i])))
			goto fail;
		k->shards[i].started = true;
	}
	if ((r = -pthread_create(&k->sup, NULL, dl_supervisor_main, k)))
		goto fail;
	k->sup_started = true;
	char dir[4096];
	spool_dir_of(k, dir, sizeof(dir));
	sb_info(COMP, "%s: sending to %s, %u worker(s), buffer %s, spool %s", s->name,
		k->t->target(k->tp), k->n, buffer_choices[c->buffer], dir);
	return 0;
fail:
	sb_delivery_close(s);
	return r ? r : -EINVAL;
}

int sb_delivery_open(struct sb_sink *s) { return open_common(s, sb_now_mono_ns, true); }

int sb_delivery_open_manual(struct sb_sink *s, int64_t (*now)(void))
{
	return open_common(s, now, false);
}

int64_t sb_delivery_step(struct sb_sink *s, unsigned shard)
{
	struct dsink *k = s->state;
	return dl_sender_step(&k->shards[shard]);
}

void sb_delivery_close(struct sb_sink *s)
{
	struct dsink *k = s->state;
	if (!k)
		return;
	int64_t deadline = sb_now_mono_ns() + s->common->shutdown_grace;
	for (unsigned i = 0; k->shards && i < k->n; i++) {
		struct dshard *sh = &k->shards[i];
		pthread_mutex_lock(&sh->mu);
		sh->stop = true;
		sh->stop_deadline = deadline;
		pthread_cond_broadcast(&sh->cv);
		pthread_mutex_unlock(&sh->mu);
	}
	for (unsigned i = 0; k->shards && i < k->n; i++) {
		if (k->shards[i].started)
			pthread_join(k->shards[i].thread, NULL);
		else if (k->shards[i].sp) /* manual: finish what the sender held */
			dl_sender_finish(&k->shards[i]);
	}
	if (k->sup_started) {
		pthread_mutex_lock(&k->smu);
		k->sup_stop = true;
		pthread_cond_broadcast(&k->scv);
		pthread_mutex_unlock(&k->smu);
		pthread_join(k->sup, NULL);
	}
	if (k->shards) {
		char line[256];
		dl_acct_line(k, line, sizeof(line));
		sb_info(COMP, "%s: closed: %s", s->name, line);
		for (unsigned i = 0; i < k->n; i++)
			free_shard(&k->shards[i]);
	}
	free(k->shards);
	if (k->tp)
		k->t->fini(k->tp);
	pthread_mutex_destroy(&k->bmu);
	pthread_mutex_destroy(&k->tmu);
	pthread_mutex_destroy(&k->smu);
	pthread_cond_destroy(&k->scv);
	free(k);
	s->state = NULL;
}

/* ---- telemetry ---- */

static void sample(struct sb_evb *b, const char *name, enum sb_mtype t, double v, const char *sink)
{
	sb_evb_sample(b, name, t, v);
	sb_evb_label(b, "sink", sink);
}

void sb_delivery_telemetry(struct sb_sink *s, struct sb_evb *b)
{
	struct dsink *k = s->state;
	if (!k)
		return;
	struct acct_snap t;
	dl_acct_total(k, &t);
	struct sb_sink_stats bus = {0};
	if (s->priv)
		sb_sink_stats(s, &bus);
	uint64_t bus_dropped = 0;
	for (int r = 0; r < SB_DROP_MAX; r++)
		bus_dropped += bus.dropped[r];
	const char *n = s->name;
	/* Events the bus dropped before the sink could take them are received
	 * and dropped alike, so the identity holds over both. */
	sample(b, "sensorbus_sink_received_total", SB_COUNTER, (double)(t.received + bus_dropped),
	       n);
	sample(b, "sensorbus_sink_delivered_total", SB_COUNTER, (double)t.delivered, n);
	for (int r = 0; r < NDROP; r++) {
		sample(b, "sensorbus_sink_dropped_total", SB_COUNTER, (double)t.dropped[r], n);
		sb_evb_label(b, "reason", dl_drop_names[r]);
	}
	for (int r = 0; r < SB_DROP_MAX; r++) {
		sample(b, "sensorbus_sink_dropped_total", SB_COUNTER, (double)bus.dropped[r], n);
		sb_evb_label(b, "reason", sb_drop_reason_name((enum sb_drop_reason)r));
	}
	sample(b, "sensorbus_sink_in_flight", SB_GAUGE, (double)t.in_flight, n);
	sample(b, "sensorbus_sink_spooled_total", SB_COUNTER, (double)t.spooled, n);
	sample(b, "sensorbus_sink_spool_records", SB_GAUGE, (double)t.spool_records, n);
	uint64_t bytes = 0;
	for (unsigned i = 0; i < k->n; i++)
		bytes += atomic_load_explicit(&k->shards[i].spool_bytes, memory_order_relaxed);
	sample(b, "sensorbus_sink_spool_bytes", SB_GAUGE, (double)bytes, n);
	sample(b, "sensorbus_sink_spool_max_bytes", SB_GAUGE, (double)k->cfg->spool_max_bytes, n);
	sample(b, "sensorbus_sink_spool_corrupt_records_total", SB_COUNTER,
	       (double)atomic_load(&k->corrupt), n);
	sample(b, "sensorbus_sink_retries_total", SB_COUNTER,
	       (double)(atomic_load(&k->retries) + bus.retries), n);
	sample(b, "sensorbus_sink_breaker_state", SB_GAUGE, (double)dl_breaker_state(k), n);
	sample(b, "sensorbus_sink_drain_rate", SB_GAUGE, (double)k->cfg->drain_rate, n);
	sample(b, "sensorbus_sink_confirm_latency_seconds", SB_HISTOGRAM, 0, n);
	uint64_t cum = 0;
	for (int i = 0; i < NLAT; i++) {
		cum += atomic_load_explicit(&k->lat[i], memory_order_relaxed);
		sb_evb_bucket(b, dl_lat_le[i], (double)cum);
	}
	uint64_t count = atomic_load(&k->lat_count);
	sb_evb_bucket(b, INFINITY, (double)count);
	sb_evb_sumcount(b, (double)atomic_load(&k->lat_sum_ns) / 1e9, (double)count);
}

void *sb_delivery_transport_state(struct sb_sink *s)
{
	struct dsink *k = s->state;
	return k ? k->tp : NULL;
}

int sb_delivery_health(struct sb_sink *s)
{
	struct dsink *k = s->state;
	return k && dl_breaker_state(k) == SB_BREAKER_OPEN ? -ENOTCONN : 0;
}

void sb_delivery_stats(struct sb_sink *s, struct sb_delivery_stats *out)
{
	struct dsink *k = s->state;
	struct acct_snap t;
	dl_acct_total(k, &t);
	memset(out, 0, sizeof(*out));
	out->received = t.received;
	out->delivered = t.delivered;
	out->spooled = t.spooled;
	out->spool_records = t.spool_records;
	out->in_flight = t.in_flight;
	out->dropped_spool_full = t.dropped[DROP_SPOOL_FULL];
	out->dropped_spool_error = t.dropped[DROP_SPOOL_ERROR];
	out->dropped_corrupt = t.dropped[DROP_CORRUPT];
	out->dropped_rejected = t.dropped[DROP_REJECTED];
	out->retries = atomic_load(&k->retries);
	out->breaker_state = dl_breaker_state(k);
	for (unsigned i = 0; i < k->n; i++)
		out->replaying |= atomic_load(&k->shards[i].replaying);
}
