/* The amqp sink: events to a RabbitMQ topic exchange, at least once.
 *
 * Each bus shard (worker) has its own spool directory, a sender thread and
 * one broker link (connection + channel in confirm mode), so the pool of
 * connections is the set of workers and order holds per shard.
 *
 * The bus thread's write() only accepts: with buffer "disk" every event is
 * appended to the spool before write() returns (so kill -9 loses nothing
 * accepted) and the sender reads it back from there; with buffer "memory"
 * events wait in a bounded in-memory queue and reach the spool only when the
 * broker is unreachable, a batch exhausts its retries, or at shutdown. The
 * sender publishes windows of messages, waits for their confirms, retries
 * what failed with full-jitter backoff, and feeds a per-sink circuit
 * breaker; while it is open nothing is sent and events go to the spool. On
 * recovery the spool drains through a token bucket at drain_rate.
 *
 * Accounting, per shard, exact at every moment (a seqlock over counters
 * that change together under the shard's mutex):
 *   received = delivered + spool_records + in_flight + dropped[*]
 * received: taken by write() or recovered from the spool at start;
 * delivered: confirmed by the broker (ack, no return); spool_records: in the
 * spool, not yet confirmed; in_flight: held only in memory. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../backoff.h"
#include "../breaker.h"
#include "../spool/record.h"
#include "../spool/spool.h"
#include "amqp.h"
#include "sb_bus.h"
#include "sb_json.h"
#include "sb_log.h"
#include "sb_sink.h"

#define COMP "sink:amqp"

enum { BUF_DISK, BUF_MEMORY };
enum { REPLAY_ORDERED, REPLAY_BACKFILL };
enum { DROP_SPOOL_FULL, DROP_SPOOL_ERROR, DROP_CORRUPT, NDROP };
static const char *const drop_names[NDROP] = {"spool_full", "spool_error", "corrupt"};

struct amqp_cfg {
	char *url;
	char *credentials_file;
	char *exchange;
	char *routing_key;
	bool mandatory;
	char *spool_dir;
	uint64_t spool_max_bytes;
	uint64_t spool_segment_bytes;
	int spool_full;
	int buffer;
	int64_t drain_rate;
	int replay;
	struct {
		int64_t failures;
		int64_t cooldown;
	} breaker;
	int64_t fsync_interval;
	bool fsync_every_write;
	int64_t window;
	int64_t memory_events;
	int64_t confirm_timeout;
	int64_t connect_timeout;
	int64_t heartbeat;
	struct {
		char *ca;
		char *cert;
		char *key;
		bool verify;
	} tls;
};

static const char *const buffer_choices[] = {"disk", "memory", NULL};
static const char *const replay_choices[] = {"ordered", "backfill", NULL};
static const char *const spool_full_choices[] = {"block", "drop_oldest", NULL};

static const struct sb_cfg_key breaker_keys[] = {
	{"failures", SB_CT_INT, offsetof(struct amqp_cfg, breaker.failures) -
					offsetof(struct amqp_cfg, breaker),
	 "5", "consecutive failed attempts that open the breaker", .min = 1, .max = 1e6},
	{"cooldown", SB_CT_DURATION,
	 offsetof(struct amqp_cfg, breaker.cooldown) - offsetof(struct amqp_cfg, breaker), "10s",
	 "how long the breaker stays open before a probe", .min = 0.001, .max = 86400},
	{0},
};

static const struct sb_cfg_key tls_keys[] = {
	{"ca", SB_CT_STR, offsetof(struct amqp_cfg, tls.ca) - offsetof(struct amqp_cfg, tls), NULL,
	 "CA certificates (PEM) to verify the broker with (amqps://)", .flags = SB_CK_PATH},
	{"cert", SB_CT_STR, offsetof(struct amqp_cfg, tls.cert) - offsetof(struct amqp_cfg, tls),
	 NULL, "client certificate (PEM), for brokers that ask for one", .flags = SB_CK_PATH},
	{"key", SB_CT_STR, offsetof(struct amqp_cfg, tls.key) - offsetof(struct amqp_cfg, tls), NULL,
	 "the client certificate's private key (PEM)", .flags = SB_CK_PATH},
	{"verify", SB_CT_BOOL, offsetof(struct amqp_cfg, tls.verify) - offsetof(struct amqp_cfg, tls),
	 "true", "verify the broker's certificate and host name"},
	{0},
};

static const struct sb_cfg_key amqp_keys[] = {
	{"url", SB_CT_STR, offsetof(struct amqp_cfg, url), "amqp://guest:guest@127.0.0.1:5672/",
	 "broker URL, amqp:// or amqps:// (TLS); may hold credentials [secret]",
	 .flags = SB_CK_TARGET},
	{"credentials_file", SB_CT_STR, offsetof(struct amqp_cfg, credentials_file), NULL,
	 "file whose first line is user:password; overrides the URL's credentials",
	 .flags = SB_CK_PATH},
	{"exchange", SB_CT_STR, offsetof(struct amqp_cfg, exchange), "sensorbus",
	 "durable topic exchange, declared at connect"},
	{"routing_key", SB_CT_STR, offsetof(struct amqp_cfg, routing_key),
	 "sensorbus.{host}.{source}.{kind}",
	 "routing key template: {host} {source} {kind} {run} (dots in values become _)"},
	{"mandatory", SB_CT_BOOL, offsetof(struct amqp_cfg, mandatory), "true",
	 "publish mandatory: a message no queue takes is returned, retried and spooled, not lost"},
	{"spool_dir", SB_CT_STR, offsetof(struct amqp_cfg, spool_dir),
	 "/var/lib/sensorbus/spool/amqp", "spool directory (one shard-N subdirectory per worker)",
	 .flags = SB_CK_PATH | SB_CK_OWNED},
	{"spool_max_bytes", SB_CT_SIZE, offsetof(struct amqp_cfg, spool_max_bytes), "1GiB",
	 "bound on the spool's files, shared evenly by the workers", .min = 65536, .max = 1e15},
	{"spool_segment_bytes", SB_CT_SIZE, offsetof(struct amqp_cfg, spool_segment_bytes),
	 "16MiB", "spool segment file size (drop_oldest deletes whole segments)", .min = 4096,
	 .max = 1e12},
	{"spool_full", SB_CT_ENUM, offsetof(struct amqp_cfg, spool_full), "drop_oldest",
	 "at spool_max_bytes or a full disk: drop_oldest (delete the oldest segment, counted) or "
	 "block (accept nothing more; the bus queue holds, then drops by its own policy)",
	 spool_full_choices},
	{"buffer", SB_CT_ENUM, offsetof(struct amqp_cfg, buffer), "disk",
	 "disk: every event is spooled before it is accepted (kill -9 loses nothing); memory: "
	 "spool only while the broker is unreachable and at shutdown",
	 buffer_choices},
	{"drain_rate", SB_CT_INT, offsetof(struct amqp_cfg, drain_rate), "5000",
	 "events/s the spool is replayed at after an outage (0: unlimited)", .min = 0,
	 .max = 1e9},
	{"replay", SB_CT_ENUM, offsetof(struct amqp_cfg, replay), "ordered",
	 "ordered: the spool goes before newer events; backfill: newer events go at once and the "
	 "spool drains beside them",
	 replay_choices},
	{"breaker", SB_CT_OBJ, offsetof(struct amqp_cfg, breaker), NULL,
	 "circuit breaker over the sink's attempts", .sub = breaker_keys},
	{"fsync_interval", SB_CT_DURATION, offsetof(struct amqp_cfg, fsync_interval), "1s",
	 "fdatasync spooled data and cursors at most this late (0: leave it to the kernel)",
	 .min = 0, .max = 3600},
	{"fsync_every_write", SB_CT_BOOL, offsetof(struct amqp_cfg, fsync_every_write), "false",
	 "fdatasync every batch before accepting it (survives power loss; slower)"},
	{"window", SB_CT_INT, offsetof(struct amqp_cfg, window), "512",
	 "messages published per worker before waiting for their confirms", .min = 1,
	 .max = 65536},
	{"memory_events", SB_CT_INT, offsetof(struct amqp_cfg, memory_events), "8192",
	 "buffer memory: events held per worker before the rest go to the spool", .min = 1,
	 .max = 1e8},
	{"confirm_timeout", SB_CT_DURATION, offsetof(struct amqp_cfg, confirm_timeout), "10s",
	 "longest wait for a window's confirms before it counts as failed", .min = 0.001,
	 .max = 3600},
	{"connect_timeout", SB_CT_DURATION, offsetof(struct amqp_cfg, connect_timeout), "5s",
	 "TCP connect, TLS and AMQP handshake limit", .min = 0.001, .max = 3600},
	{"heartbeat", SB_CT_DURATION, offsetof(struct amqp_cfg, heartbeat), "30s",
	 "AMQP heartbeat (0: off); a silent broker is noticed after two", .min = 0, .max = 3600},
	{"tls", SB_CT_OBJ, offsetof(struct amqp_cfg, tls), NULL, "TLS settings for amqps:// URLs",
	 .sub = tls_keys},
	{0},
};

/* ---- state ---- */

struct acct {
	atomic_uint seq;
	atomic_uint_fast64_t received, delivered, spooled, spool_records, in_flight;
	atomic_uint_fast64_t dropped[NDROP];
};

struct acct_snap {
	uint64_t received, delivered, spooled, spool_records, in_flight, dropped[NDROP];
};

enum { ORIGIN_MEM, ORIGIN_OLD, ORIGIN_LIVE };

struct wmsg {
	struct sb_amqp_msg m;
	int origin;
	bool junk;             /* a checksummed record that is not a message */
	struct sb_event *ev;   /* ORIGIN_MEM */
	uint64_t segno, end;   /* spool origins */
	size_t rk, mid, body;  /* ORIGIN_MEM: offsets in the sender's buffer */
};

struct amqp_sink;

struct shard {
	struct amqp_sink *k;
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
	struct sb_buf wjson;
	struct sb_json_ctx wjc;
	/* the sender's */
	struct sb_amqp_link *link;
	pthread_mutex_t wd_mu; /* link close vs the watchdog */
	atomic_int_fast64_t busy_since;
	struct sb_spool_reader rd_old, rd_live;
	bool outage, caught_up;
	atomic_bool replaying;
	uint64_t backlog_hi;
	int64_t replay_start;
	uint64_t replay_sent;
	struct wmsg *win;
	struct sb_amqp_msg **wptr;
	size_t nwin;
	struct sb_buf sbuf;
	struct sb_json_ctx sjc;
	struct sb_spool_batch sb;
	struct sb_spool_rec *recs;
	uint64_t rnd;
	unsigned attempt;
	int64_t last_io;
	struct sb_ratelimit rl_fail, rl_spool;
};

#define NLAT 14
static const double lat_le[NLAT] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				    0.1,    0.25,  0.5,    1,     2.5,  5,     10};

struct amqp_sink {
	struct sb_sink *s;
	const struct amqp_cfg *cfg;
	struct sb_amqp_target target;
	struct shard *shards;
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

/* ---- accounting ---- */

#define ADD(f, v) atomic_fetch_add_explicit(&a->f, (v), memory_order_relaxed)
#define SUB(f, v) atomic_fetch_sub_explicit(&a->f, (v), memory_order_relaxed)

/* Writers hold sh->mu. */
static struct acct *acct_begin(struct shard *sh)
{
	unsigned s = atomic_load_explicit(&sh->acct.seq, memory_order_relaxed);
	atomic_store_explicit(&sh->acct.seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	return &sh->acct;
}

static void acct_end(struct shard *sh)
{
	unsigned s = atomic_load_explicit(&sh->acct.seq, memory_order_relaxed);
	atomic_store_explicit(&sh->acct.seq, s + 1, memory_order_release);
}

static void acct_read(struct shard *sh, struct acct_snap *o)
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

static void acct_total(struct amqp_sink *k, struct acct_snap *t)
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

static void acct_line(struct amqp_sink *k, char *out, size_t n)
{
	struct acct_snap t;
	acct_total(k, &t);
	uint64_t dropped = 0;
	for (int j = 0; j < NDROP; j++)
		dropped += t.dropped[j];
	snprintf(out, n,
		 "received=%" PRIu64 " delivered=%" PRIu64 " spooled=%" PRIu64 " dropped=%" PRIu64
		 " in_flight=%" PRIu64,
		 t.received, t.delivered, t.spool_records, dropped, t.in_flight);
}

static void note_spool_bytes(struct shard *sh)
{
	struct sb_spool_state st;
	sb_spool_state(sh->sp, &st);
	atomic_store_explicit(&sh->spool_bytes, st.bytes, memory_order_relaxed);
}

/* ---- breaker (shared by the shards) ---- */

static int breaker_state(struct amqp_sink *k)
{
	return atomic_load_explicit(&k->breaker_state, memory_order_relaxed);
}

static void breaker_changed(struct amqp_sink *k, int from, const char *why)
{
	int st = k->br.state;
	atomic_store_explicit(&k->breaker_state, st, memory_order_relaxed);
	char line[256];
	acct_line(k, line, sizeof(line));
	if (st == SB_BREAKER_OPEN && from == SB_BREAKER_CLOSED) {
		char cd[32];
		sb_fmt_duration(cd, sizeof(cd), k->br.cooldown);
		sb_warn(COMP, "%s: breaker open (%s): events go to the spool, probing %s every %s (%s)",
			k->s->name, why, k->target.shown, cd, line);
	} else if (st == SB_BREAKER_OPEN) {
		sb_dbg(COMP, "%s: probe failed (%s): breaker open again (%s)", k->s->name, why,
		       line);
	} else if (st == SB_BREAKER_CLOSED) {
		sb_info(COMP, "%s: breaker closed: %s confirms again (%s)", k->s->name,
			k->target.shown, line);
	}
}

static enum sb_breaker_verdict breaker_ask(struct amqp_sink *k, int64_t *wait)
{
	pthread_mutex_lock(&k->bmu);
	enum sb_breaker_verdict v = sb_breaker_ask(&k->br, k->now(), wait);
	atomic_store_explicit(&k->breaker_state, k->br.state, memory_order_relaxed);
	pthread_mutex_unlock(&k->bmu);
	return v;
}

static void breaker_result(struct amqp_sink *k, bool ok, bool probe, bool trip, const char *why)
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

/* Frames one event as a spool record into b, encoding its JSON with jc. */
static void add_record(struct amqp_sink *k, struct sb_spool_batch *b, struct sb_buf *json,
		       struct sb_json_ctx *jc, const struct sb_event *ev)
{
	char rk[256], mid[64];
	size_t rkl = sb_amqp_key_render(rk, sizeof(rk), k->cfg->routing_key, k->s->ri->host,
				       ev->source, ev->kind, k->s->ri->run);
	int midl = snprintf(mid, sizeof(mid), "%s:%" PRIu64, k->s->ri->run, ev->seq);
	sb_buf_reset(json);
	sb_json_event(json, jc, ev);
	size_t blen = json->len && json->data[json->len - 1] == '\n' ? json->len - 1 : json->len;
	unsigned char hdr[SB_MSG_HDR];
	sb_spool_msg_header(hdr, ev->seq, ev->time_ns, rkl, (size_t)midl);
	struct iovec iov[4] = {
		{hdr, sizeof(hdr)}, {rk, rkl}, {mid, (size_t)midl}, {json->data, blen}};
	sb_spool_batch_add(b, iov, 4);
}

/* Spools evs (held only in memory until now) from the sender or write();
 * caller holds sh->mu. Events the spool cannot take are dropped, counted. */
static void spill_locked(struct shard *sh, struct sb_event *const *evs, size_t n,
			 struct sb_spool_batch *b, struct sb_buf *json, struct sb_json_ctx *jc,
			 bool from_memory)
{
	struct amqp_sink *k = sh->k;
	if (!n)
		return;
	sb_spool_batch_reset(b);
	for (size_t i = 0; i < n; i++)
		add_record(k, b, json, jc, evs[i]);
	struct sb_spool_wres w = {0};
	if (b->buf.err)
		w.err = b->buf.err;
	else
		sb_spool_write(sh->sp, b, &w);
	struct acct *a = acct_begin(sh);
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
	acct_end(sh);
	if (w.written < n)
		sb_log_rl(&sh->rl_spool, SB_LOG_ERROR, COMP,
			  "%s: spool %s cannot take %zu events (%s): dropped", sh->name,
			  sb_spool_dir(sh->sp), n - w.written, strerror(-w.err));
	note_spool_bytes(sh);
}

/* ---- write (the bus's shard thread) ---- */

static void kick(struct shard *sh)
{
	sh->kick = true;
	pthread_cond_signal(&sh->cv);
}

static enum sb_sink_status write_disk(struct shard *sh, struct sb_event *const *evs, size_t n,
				      size_t *taken)
{
	struct amqp_sink *k = sh->k;
	sb_spool_batch_reset(&sh->wb);
	for (size_t i = 0; i < n; i++)
		add_record(k, &sh->wb, &sh->wjson, &sh->wjc, evs[i]);
	if (sh->wb.buf.err) {
		sb_log_rl(&sh->rl_spool, SB_LOG_ERROR, COMP, "%s: out of memory encoding events",
			  sh->name);
		sh->wb.buf.err = 0;
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
	struct acct *a = acct_begin(sh);
	ADD(received, *taken);
	ADD(spooled, w.written);
	ADD(spool_records, w.written);
	SUB(spool_records, w.evicted);
	ADD(dropped[DROP_SPOOL_FULL], w.evicted + dropped_new);
	acct_end(sh);
	if (w.written)
		kick(sh);
	pthread_mutex_unlock(&sh->mu);
	note_spool_bytes(sh);
	if (w.err) {
		sb_log_rl(&sh->rl_spool, SB_LOG_ERROR, COMP, "%s: spool %s: %s: %s", sh->name,
			  sb_spool_dir(sh->sp), strerror(-w.err),
			  dropped_new ? "dropping new events (spool_full drop_oldest)"
				      : "not accepting events until there is room");
		return *taken == n ? SB_SINK_OK : SB_SINK_RETRY;
	}
	return SB_SINK_OK;
}

static enum sb_sink_status write_memory(struct shard *sh, struct sb_event *const *evs, size_t n,
					size_t *taken)
{
	struct amqp_sink *k = sh->k;
	pthread_mutex_lock(&sh->mu);
	bool to_spool = breaker_state(k) == SB_BREAKER_OPEN || sh->mcount + n > sh->mcap;
	if (!to_spool && k->cfg->replay == REPLAY_ORDERED) {
		struct sb_spool_state st;
		sb_spool_state(sh->sp, &st);
		to_spool = st.records > 0; /* keep order: behind what is spooled */
	}
	if (to_spool) {
		spill_locked(sh, evs, n, &sh->wb, &sh->wjson, &sh->wjc, false);
	} else {
		for (size_t i = 0; i < n; i++)
			sh->mem[(sh->mhead + sh->mcount + i) % sh->mcap] = sb_event_ref(evs[i]);
		sh->mcount += n;
		struct acct *a = acct_begin(sh);
		ADD(received, n);
		ADD(in_flight, n);
		acct_end(sh);
	}
	kick(sh);
	pthread_mutex_unlock(&sh->mu);
	*taken = n;
	return SB_SINK_OK;
}

static enum sb_sink_status amqp_write(struct sb_sink *s, unsigned shard,
				      struct sb_event *const *evs, size_t n, size_t *taken)
{
	struct amqp_sink *k = s->state;
	struct shard *sh = &k->shards[shard];
	if (k->cfg->buffer == BUF_MEMORY)
		return write_memory(sh, evs, n, taken);
	return write_disk(sh, evs, n, taken);
}

static enum sb_sink_status amqp_flush(struct sb_sink *s, unsigned shard)
{
	struct amqp_sink *k = s->state;
	struct shard *sh = &k->shards[shard];
	int r = sb_spool_sync(sh->sp);
	if (r)
		sb_log_rl(&sh->rl_spool, SB_LOG_ERROR, COMP, "%s: cannot sync spool %s: %s",
			  sh->name, sb_spool_dir(sh->sp), strerror(-r));
	return SB_SINK_OK;
}

/* ---- the sender ---- */

static void close_link(struct shard *sh)
{
	pthread_mutex_lock(&sh->wd_mu);
	sb_amqp_link_close(sh->link);
	sh->link = NULL;
	pthread_mutex_unlock(&sh->wd_mu);
}

/* Sleeps until kicked, stopped or the deadline (monotonic ns). */
static void nap(struct shard *sh, int64_t until)
{
	struct timespec ts = sb_mono_timespec(until);
	pthread_mutex_lock(&sh->mu);
	while (!sh->kick && !sh->stop && sb_now_mono_ns() < until)
		if (pthread_cond_timedwait(&sh->cv, &sh->mu, &ts) == ETIMEDOUT)
			break;
	sh->kick = false;
	pthread_mutex_unlock(&sh->mu);
}

/* Sleeps until the deadline or stop; a kick does not shorten a backoff. */
static void backoff_sleep(struct shard *sh, int64_t until)
{
	struct timespec ts = sb_mono_timespec(until);
	pthread_mutex_lock(&sh->mu);
	while (!sh->stop && sb_now_mono_ns() < until)
		if (pthread_cond_timedwait(&sh->cv, &sh->mu, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&sh->mu);
}

static uint64_t take_tokens(struct amqp_sink *k, uint64_t want, int64_t *wait)
{
	if (!want)
		return 0;
	pthread_mutex_lock(&k->tmu);
	int64_t now = k->now();
	int64_t d;
	uint64_t got = sb_pacer_take(&k->tb, want, now, &d);
	if (!got && (*wait < 0 || d < *wait))
		*wait = d;
	pthread_mutex_unlock(&k->tmu);
	return got;
}

static void reader_range(struct sb_spool_reader *rd, uint64_t lo, uint64_t hi)
{
	rd->lo = rd->segno = lo;
	rd->hi = hi;
	rd->off = 0;
}

/* Adds up to max spool records from rd to the window. */
static void read_spool(struct shard *sh, struct sb_spool_reader *rd, size_t max, int origin)
{
	if (!max)
		return;
	size_t n = 0;
	uint64_t lost = 0;
	int r = sb_spool_read(sh->sp, rd, sh->recs, max, 16u << 20, &n, &lost);
	if (lost) {
		pthread_mutex_lock(&sh->mu);
		struct acct *a = acct_begin(sh);
		SUB(spool_records, lost);
		ADD(dropped[DROP_CORRUPT], lost);
		acct_end(sh);
		pthread_mutex_unlock(&sh->mu);
		atomic_fetch_add(&sh->k->corrupt, lost);
	}
	if (r)
		sb_log_rl(&sh->rl_spool, SB_LOG_ERROR, COMP, "%s: cannot read spool %s: %s",
			  sh->name, sb_spool_dir(sh->sp), strerror(-r));
	for (size_t i = 0; i < n; i++) {
		struct sb_spool_rec *rec = &sh->recs[i];
		struct sb_spool_msg m;
		struct wmsg *w = &sh->win[sh->nwin];
		memset(w, 0, sizeof(*w));
		w->origin = origin;
		w->segno = rec->segno;
		w->end = rec->end;
		if (sb_spool_msg_parse(rd->buf.data + rec->boff, rec->len, &m)) {
			/* Checksummed yet not a message: send nothing, drop it. */
			w->m.state = SB_MSG_ACKED;
			w->junk = true;
			sb_log_rl(&sh->rl_spool, SB_LOG_ERROR, COMP,
				  "%s: spool %s: record in segment %" PRIu64 " is not a message",
				  sh->name, sb_spool_dir(sh->sp), rec->segno);
		} else {
			w->m.rk = m.rk;
			w->m.rklen = m.rklen;
			w->m.mid = m.mid;
			w->m.midlen = m.midlen;
			w->m.body = m.body;
			w->m.len = m.len;
			w->m.time_ns = m.time_ns;
		}
		sh->nwin++;
	}
}

/* Moves up to max events from the memory queue into the window. */
static void take_memory(struct shard *sh, size_t max)
{
	struct amqp_sink *k = sh->k;
	size_t base = sh->nwin;
	pthread_mutex_lock(&sh->mu);
	while (sh->mcount && sh->nwin - base < max) {
		struct wmsg *w = &sh->win[sh->nwin++];
		memset(w, 0, sizeof(*w));
		w->origin = ORIGIN_MEM;
		w->ev = sh->mem[sh->mhead];
		sh->mhead = (sh->mhead + 1) % sh->mcap;
		sh->mcount--;
	}
	pthread_mutex_unlock(&sh->mu);
	for (size_t i = base; i < sh->nwin; i++) {
		struct wmsg *w = &sh->win[i];
		const struct sb_event *ev = w->ev;
		char rk[256];
		size_t rkl = sb_amqp_key_render(rk, sizeof(rk), k->cfg->routing_key, k->s->ri->host,
					       ev->source, ev->kind, k->s->ri->run);
		w->rk = sh->sbuf.len;
		sb_buf_add(&sh->sbuf, rk, rkl);
		w->m.rklen = rkl;
		w->mid = sh->sbuf.len;
		sb_buf_printf(&sh->sbuf, "%s:%" PRIu64, k->s->ri->run, ev->seq);
		w->m.midlen = sh->sbuf.len - w->mid;
		w->body = sh->sbuf.len;
		sb_json_event(&sh->sbuf, &sh->sjc, ev);
		sh->sbuf.len--; /* the newline */
		w->m.len = sh->sbuf.len - w->body;
		w->m.time_ns = ev->time_ns;
	}
	/* the buffer may have moved while it grew */
	for (size_t i = base; i < sh->nwin; i++) {
		struct wmsg *w = &sh->win[i];
		w->m.rk = sh->sbuf.data + w->rk;
		w->m.mid = sh->sbuf.data + w->mid;
		w->m.body = sh->sbuf.data + w->body;
	}
}

static uint64_t memory_queued(struct shard *sh)
{
	pthread_mutex_lock(&sh->mu);
	uint64_t n = sh->mcount;
	pthread_mutex_unlock(&sh->mu);
	return n;
}

/* Builds the next window; *wait > 0 if the token bucket holds work back. */
static void fill_window(struct shard *sh, int64_t *wait)
{
	struct amqp_sink *k = sh->k;
	const struct amqp_cfg *c = k->cfg;
	size_t cap = (size_t)c->window;
	sh->nwin = 0;
	sb_buf_reset(&sh->sbuf);
	*wait = -1;
	sh->caught_up = false;
	if (c->buffer == BUF_MEMORY) {
		uint64_t unread = sb_spool_unread(sh->sp, 0, UINT64_MAX);
		sh->caught_up = !unread;
		if (unread) {
			size_t want = unread < cap ? (size_t)unread : cap;
			if (c->replay == REPLAY_BACKFILL)
				want = want > cap / 2 ? cap / 2 : want;
			size_t got = (size_t)take_tokens(k, want, wait);
			sh->caught_up = got == unread;
			read_spool(sh, &sh->rd_old, got, ORIGIN_OLD);
		}
		if (c->replay == REPLAY_BACKFILL || !unread)
			take_memory(sh, cap - sh->nwin);
		return;
	}
	if (c->replay == REPLAY_ORDERED) {
		size_t want = cap;
		if (sh->replaying) {
			uint64_t unread = sb_spool_unread(sh->sp, 0, UINT64_MAX);
			want = (size_t)take_tokens(k, unread < cap ? unread : cap, wait);
			/* asked for all there was: the replay has caught up */
			sh->caught_up = want == unread;
		}
		read_spool(sh, &sh->rd_live, want, ORIGIN_LIVE);
		return;
	}
	if (sh->replaying) {
		uint64_t unread = sb_spool_unread(sh->sp, 0, sh->backlog_hi);
		size_t want = unread < cap / 2 ? (size_t)unread : cap / 2;
		size_t got = (size_t)take_tokens(k, want, wait);
		sh->caught_up = got == unread;
		read_spool(sh, &sh->rd_old, got, ORIGIN_OLD);
	}
	read_spool(sh, &sh->rd_live, cap - sh->nwin, ORIGIN_LIVE);
}

static void begin_replay(struct shard *sh)
{
	struct amqp_sink *k = sh->k;
	const struct amqp_cfg *c = k->cfg;
	uint64_t unread = sb_spool_unread(sh->sp, 0, UINT64_MAX);
	if (!unread)
		return;
	if (c->buffer == BUF_DISK && c->replay == REPLAY_BACKFILL) {
		/* What is spooled now is the backlog; newer events go to new
		 * segments and are sent at once. */
		sh->backlog_hi = sb_spool_seal(sh->sp);
		reader_range(&sh->rd_old, 0, sh->backlog_hi);
		reader_range(&sh->rd_live, sh->backlog_hi + 1, UINT64_MAX);
	}
	uint64_t peak = atomic_load(&k->peak_rate);
	char rate[32] = "unlimited";
	if (c->drain_rate)
		snprintf(rate, sizeof(rate), "%" PRId64 "/s", c->drain_rate);
	/* a replay an outage interrupted goes on: one line for it is enough */
	sb_log(sh->replaying ? SB_LOG_DEBUG : SB_LOG_INFO, COMP,
	       "%s: replaying %" PRIu64 " spooled events at %s (%s)", sh->name, unread, rate,
	       replay_choices[c->replay]);
	if (!sh->replaying) {
		/* tokens saved up while the broker was away are not a licence
		 * to burst into a recovering broker */
		pthread_mutex_lock(&k->tmu);
		sb_tbucket_empty(&k->tb, k->now());
		pthread_mutex_unlock(&k->tmu);
		sh->replay_start = sb_now_mono_ns();
		sh->replay_sent = 0;
	}
	sh->replaying = true;
	if (c->drain_rate && (uint64_t)c->drain_rate <= peak)
		sb_warn(COMP,
			"%s: drain_rate %" PRId64 "/s is not above the recent peak input rate %" PRIu64
			"/s: the spool may never empty",
			sh->name, c->drain_rate, peak);
}

static void check_replay_done(struct shard *sh)
{
	struct amqp_sink *k = sh->k;
	const struct amqp_cfg *c = k->cfg;
	if (!sh->replaying || !sh->caught_up)
		return;
	sh->replaying = false;
	double secs = (double)(sb_now_mono_ns() - sh->replay_start) / 1e9;
	sb_info(COMP,
		"%s: spool replay done: %" PRIu64 " events in %.2fs (%.0f/s, drain_rate %" PRId64
		"/s)",
		sh->name, sh->replay_sent, secs, secs > 0 ? (double)sh->replay_sent / secs : 0.0,
		c->drain_rate);
	if (c->buffer == BUF_DISK && c->replay == REPLAY_BACKFILL) {
		reader_range(&sh->rd_old, 0, 0);
		sh->rd_live.lo = 0; /* one reader again */
	}
}

static void observe_latency(struct amqp_sink *k, const struct sb_amqp_msg *m)
{
	int64_t d = m->acked_at - m->sent_at;
	if (d < 0)
		d = 0;
	double s = (double)d / 1e9;
	size_t i = 0;
	while (i < NLAT && s > lat_le[i])
		i++;
	atomic_fetch_add_explicit(&k->lat[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&k->lat_count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&k->lat_sum_ns, (uint64_t)d, memory_order_relaxed);
}

/* Resolves the window: what was confirmed is delivered (spool records only
 * up to the first failure of their segment: the cursor is a prefix); with
 * failed set, the rest goes back to the spool. */
static void settle(struct shard *sh, bool failed)
{
	struct amqp_sink *k = sh->k;
	uint64_t delivered_spool = 0, delivered_mem = 0, junk = 0, junk_total = 0;
	uint64_t delivered_old = 0; /* from the backlog reader */
	uint64_t blocked[8];
	size_t nblocked = 0;
	bool overflow = false;
	struct sb_event **back = NULL;
	size_t nback = 0;
	if (failed)
		back = calloc(sh->nwin ? sh->nwin : 1, sizeof(*back));
	pthread_mutex_lock(&sh->mu);
	for (size_t i = 0; i < sh->nwin;) {
		struct wmsg *w = &sh->win[i];
		bool ok = w->m.state == SB_MSG_ACKED;
		if (ok && w->m.acked_at)
			observe_latency(k, &w->m);
		if (w->origin == ORIGIN_MEM) {
			if (ok) {
				delivered_mem++;
				sb_event_unref(w->ev);
			} else if (back) {
				back[nback++] = w->ev;
			} else {
				sb_event_unref(w->ev); /* out of memory: counted below */
			}
			i++;
			continue;
		}
		/* a run of records of one segment, in order */
		size_t j = i;
		uint64_t k_ok = 0, end = 0;
		bool stop = false;
		for (size_t b = 0; b < nblocked; b++)
			stop |= blocked[b] == w->segno;
		stop |= overflow;
		while (j < sh->nwin && sh->win[j].origin == w->origin &&
		       sh->win[j].segno == w->segno) {
			if (!stop && sh->win[j].m.state == SB_MSG_ACKED) {
				k_ok++;
				junk += sh->win[j].junk;
				end = sh->win[j].end;
			} else {
				stop = true;
			}
			j++;
		}
		if (k_ok) {
			sb_spool_confirm(sh->sp, w->segno, end, k_ok);
			delivered_spool += k_ok;
			if (w->origin == ORIGIN_OLD)
				delivered_old += k_ok;
		}
		delivered_spool -= junk;
		junk_total += junk;
		junk = 0;
		if (stop) {
			if (nblocked < SB_ARRAY_SIZE(blocked))
				blocked[nblocked++] = w->segno;
			else
				overflow = true;
		}
		i = j;
	}
	uint64_t lost_mem = failed && !back ? (uint64_t)sh->nwin - delivered_mem : 0;
	struct acct *a = acct_begin(sh);
	ADD(delivered, delivered_spool + delivered_mem);
	SUB(spool_records, delivered_spool + junk_total);
	ADD(dropped[DROP_CORRUPT], junk_total);
	SUB(in_flight, delivered_mem + lost_mem);
	ADD(dropped[DROP_SPOOL_ERROR], lost_mem);
	acct_end(sh);
	if (failed) {
		/* Older first: the window's, then what waits in memory. */
		spill_locked(sh, back, nback, &sh->sb, &sh->sbuf, &sh->sjc, true);
		for (size_t i = 0; i < nback; i++)
			sb_event_unref(back[i]);
		while (sh->mcount) {
			size_t n = sh->mcount < sh->mcap - sh->mhead ? sh->mcount
								      : sh->mcap - sh->mhead;
			spill_locked(sh, sh->mem + sh->mhead, n, &sh->sb, &sh->sbuf, &sh->sjc,
				     true);
			for (size_t i = 0; i < n; i++)
				sb_event_unref(sh->mem[sh->mhead + i]);
			sh->mhead = (sh->mhead + n) % sh->mcap;
			sh->mcount -= n;
		}
	}
	pthread_mutex_unlock(&sh->mu);
	free(back);
	/* the replay's own rate: in backfill, live events do not count */
	bool ordered_disk = k->cfg->buffer == BUF_DISK && k->cfg->replay == REPLAY_ORDERED;
	if (sh->replaying)
		sh->replay_sent += ordered_disk ? delivered_spool : delivered_old;
	if (failed) {
		sb_spool_rewind(sh->sp, &sh->rd_old);
		sb_spool_rewind(sh->sp, &sh->rd_live);
		sh->outage = true;
	}
	sh->nwin = 0;
	note_spool_bytes(sh);
}

static bool link_up(struct shard *sh, bool probe)
{
	struct amqp_sink *k = sh->k;
	if (sh->link)
		return true;
	char err[512];
	struct sb_amqp_link *l;
	int r = sb_amqp_link_open(&l, &k->target, err, sizeof(err));
	if (r) {
		sb_log_rl(&sh->rl_fail, SB_LOG_WARN, COMP, "%s: cannot reach %s: %s", sh->name,
			  k->target.shown, err);
		breaker_result(k, false, probe, false, err);
		return false;
	}
	pthread_mutex_lock(&sh->wd_mu);
	sh->link = l;
	pthread_mutex_unlock(&sh->wd_mu);
	sh->last_io = sb_now_mono_ns();
	sb_dbg(COMP, "%s: connected to %s", sh->name, k->target.shown);
	return true;
}

/* Publishes the window until every message is confirmed or it is given
 * back to the spool; returns true on success. */
static bool run_window(struct shard *sh, bool probe)
{
	struct amqp_sink *k = sh->k;
	const struct amqp_cfg *c = k->cfg;
	const struct sb_retry_conf *rc = &k->s->common->retry;
	unsigned attempt = 0;
	char err[512];
	for (size_t i = 0; i < sh->nwin; i++)
		sh->wptr[i] = &sh->win[i].m;
	for (;;) {
		int r = -ENOTCONN;
		bool reported = false; /* link_up told the breaker already */
		err[0] = 0;
		if (sh->link || link_up(sh, probe)) {
			atomic_store(&sh->busy_since, sb_now_mono_ns());
			r = sb_amqp_link_publish(sh->link, sh->wptr, sh->nwin, c->confirm_timeout,
						 err, sizeof(err));
			atomic_store(&sh->busy_since, 0);
			sh->last_io = sb_now_mono_ns();
		} else {
			reported = true;
			snprintf(err, sizeof(err), "no connection to the broker");
		}
		size_t bad = 0;
		for (size_t i = 0; i < sh->nwin; i++)
			bad += sh->win[i].m.state != SB_MSG_ACKED;
		if (!bad) {
			if (r)
				close_link(sh); /* every confirm arrived, then it broke */
			breaker_result(k, true, probe, false, NULL);
			settle(sh, false);
			return true;
		}
		if (r)
			close_link(sh);
		if (!err[0])
			snprintf(err, sizeof(err), "%s", strerror(-r));
		attempt++;
		atomic_fetch_add(&k->retries, 1);
		if (!reported)
			sb_log_rl(&sh->rl_fail, SB_LOG_WARN, COMP,
				  "%s: %zu of %zu messages not confirmed by %s (attempt %u): %s",
				  sh->name, bad, sh->nwin, k->target.shown, attempt, err);
		bool exhausted = rc->max_attempts && attempt >= (unsigned)rc->max_attempts;
		if (!reported || exhausted)
			breaker_result(k, false, probe, exhausted,
				       exhausted ? "retries exhausted" : err);
		bool stopping;
		pthread_mutex_lock(&sh->mu);
		stopping = sh->stop && sb_now_mono_ns() >= sh->stop_deadline;
		pthread_mutex_unlock(&sh->mu);
		if (exhausted || probe || stopping || breaker_state(k) != SB_BREAKER_CLOSED) {
			settle(sh, true);
			return false;
		}
		int64_t d = sb_backoff_full_jitter(rc->base, rc->max_delay, attempt - 1,
						   sb_jitter_next(&sh->rnd));
		backoff_sleep(sh, sb_now_mono_ns() + d);
	}
}

static bool has_work(struct shard *sh)
{
	return memory_queued(sh) || sb_spool_unread(sh->sp, 0, UINT64_MAX);
}

static bool should_exit(struct shard *sh)
{
	pthread_mutex_lock(&sh->mu);
	bool stop = sh->stop;
	int64_t deadline = sh->stop_deadline;
	pthread_mutex_unlock(&sh->mu);
	if (!stop)
		return false;
	/* A backlog stays on disk for the next run; only a caught-up sender
	 * uses the grace to finish what is in progress. */
	return sb_now_mono_ns() >= deadline || breaker_state(sh->k) != SB_BREAKER_CLOSED ||
	       sh->replaying || !has_work(sh);
}

static void *sender_main(void *arg)
{
	struct shard *sh = arg;
	struct amqp_sink *k = sh->k;
	const struct amqp_cfg *c = k->cfg;
	int64_t tick = c->heartbeat ? c->heartbeat / 4 : SB_NSEC_PER_SEC;
	if (tick > SB_NSEC_PER_SEC || tick <= 0)
		tick = SB_NSEC_PER_SEC;
	while (!should_exit(sh)) {
		int64_t wait = 0;
		enum sb_breaker_verdict v = breaker_ask(k, &wait);
		if (v == SB_BREAKER_WAIT) {
			if (c->buffer == BUF_MEMORY && memory_queued(sh)) {
				sh->nwin = 0;
				settle(sh, true); /* spills the memory queue */
			}
			if (sh->link)
				close_link(sh);
			sh->outage = true;
			nap(sh, sb_now_mono_ns() + (wait < tick ? wait : tick));
			continue;
		}
		bool probe = v == SB_BREAKER_PROBE;
		if (probe)
			sb_dbg(COMP, "%s: breaker half-open: probing %s", sh->name, k->target.shown);
		if (!link_up(sh, probe)) {
			sh->outage = true;
			if (breaker_state(k) == SB_BREAKER_CLOSED) {
				int64_t d = sb_backoff_full_jitter(
					k->s->common->retry.base, k->s->common->retry.max_delay,
					sh->attempt++, sb_jitter_next(&sh->rnd));
				backoff_sleep(sh, sb_now_mono_ns() + d);
			}
			continue;
		}
		sh->attempt = 0;
		if (sh->outage) {
			sh->outage = false;
			begin_replay(sh);
		}
		int64_t hold = -1;
		fill_window(sh, &hold);
		if (!sh->nwin) {
			if (probe)
				breaker_result(k, true, true, false, NULL);
			check_replay_done(sh);
			char err[256];
			if (sb_now_mono_ns() - sh->last_io >= tick) {
				if (sb_amqp_link_idle(sh->link, err, sizeof(err))) {
					sb_log_rl(&sh->rl_fail, SB_LOG_WARN, COMP,
						  "%s: link to %s broke while idle: %s", sh->name,
						  k->target.shown, err);
					close_link(sh);
				}
				sh->last_io = sb_now_mono_ns();
			}
			int64_t until = sb_now_mono_ns() + tick;
			if (hold > 0 && sb_now_mono_ns() + hold < until)
				until = sb_now_mono_ns() + hold;
			nap(sh, until);
			continue;
		}
		if (run_window(sh, probe))
			check_replay_done(sh);
	}
	if (sh->nwin)
		settle(sh, true);
	if (memory_queued(sh)) {
		sh->nwin = 0;
		settle(sh, true);
	}
	close_link(sh);
	return NULL;
}

/* ---- supervisor: watchdog and input rate ---- */

static void *supervisor_main(void *arg)
{
	struct amqp_sink *k = arg;
	const struct amqp_cfg *c = k->cfg;
	int64_t stuck = c->confirm_timeout + c->connect_timeout + 2 * SB_NSEC_PER_SEC;
	/* what was recovered at open is not input */
	for (unsigned i = 0; i < k->n; i++)
		k->last_received +=
			atomic_load_explicit(&k->shards[i].acct.received, memory_order_relaxed);
	pthread_mutex_lock(&k->smu);
	while (!k->sup_stop) {
		struct timespec ts = sb_mono_timespec(sb_now_mono_ns() + 250 * SB_NSEC_PER_MSEC);
		pthread_cond_timedwait(&k->scv, &k->smu, &ts);
		if (k->sup_stop)
			break;
		int64_t now = sb_now_mono_ns();
		for (unsigned i = 0; i < k->n; i++) {
			struct shard *sh = &k->shards[i];
			int64_t since = atomic_load(&sh->busy_since);
			if (!since || now - since < stuck)
				continue;
			/* A publish blocked in send (a broker that stopped reading):
			 * break the socket so the sender fails and recycles it. */
			pthread_mutex_lock(&sh->wd_mu);
			int fd = sb_amqp_link_fd(sh->link);
			if (atomic_load(&sh->busy_since) == since && fd >= 0) {
				sb_warn(COMP, "%s: publish to %s stuck for %llds: resetting the link",
					sh->name, k->target.shown,
					(long long)((now - since) / SB_NSEC_PER_SEC));
				shutdown(fd, SHUT_RDWR);
			}
			pthread_mutex_unlock(&sh->wd_mu);
		}
		uint64_t rec = 0;
		for (unsigned i = 0; i < k->n; i++)
			rec += atomic_load_explicit(&k->shards[i].acct.received,
						    memory_order_relaxed);
		sb_peak_add(&k->peak, rec - k->last_received, now);
		k->last_received = rec;
		uint64_t peak = (uint64_t)sb_peak_rate(&k->peak, now);
		atomic_store(&k->peak_rate, peak);
		bool replaying = false;
		for (unsigned i = 0; i < k->n; i++)
			replaying |= k->shards[i].replaying;
		if (replaying && c->drain_rate && (uint64_t)c->drain_rate <= peak &&
		    now - k->last_warn >= 60 * SB_NSEC_PER_SEC) {
			k->last_warn = now;
			sb_warn(COMP,
				"%s: drain_rate %" PRId64 "/s is not above the recent peak input "
				"rate %" PRIu64 "/s: the spool may never empty",
				k->s->name, c->drain_rate, peak);
		}
	}
	pthread_mutex_unlock(&k->smu);
	return NULL;
}

/* ---- open / close ---- */

static int amqp_validate(const void *cfgp, char *err, size_t errlen)
{
	const struct amqp_cfg *c = cfgp;
	if (sb_amqp_key_check(c->routing_key, err, errlen))
		return -EINVAL;
	if (strncmp(c->url, "amqp://", 7) && strncmp(c->url, "amqps://", 8)) {
		snprintf(err, errlen, "url: must start with amqp:// or amqps://");
		return -EINVAL;
	}
	if (!*c->exchange) {
		snprintf(err, errlen, "exchange: the default exchange cannot be declared; name one");
		return -EINVAL;
	}
	if (!*c->spool_dir) {
		snprintf(err, errlen, "spool_dir: needed (the spool is the delivery guarantee)");
		return -EINVAL;
	}
	if (c->spool_segment_bytes * 2 > c->spool_max_bytes) {
		snprintf(err, errlen,
			 "spool_segment_bytes: at most half of spool_max_bytes (drop_oldest deletes "
			 "whole segments)");
		return -EINVAL;
	}
	if ((c->tls.cert && *c->tls.cert) != (c->tls.key && *c->tls.key)) {
		snprintf(err, errlen, "tls: cert and key go together");
		return -EINVAL;
	}
	return 0;
}

static void free_shard(struct shard *sh)
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
	sb_buf_free(&sh->wjson);
	sb_buf_free(&sh->sbuf);
	sb_spool_reader_free(&sh->rd_old);
	sb_spool_reader_free(&sh->rd_live);
	free(sh->win);
	free(sh->wptr);
	free(sh->recs);
	pthread_mutex_destroy(&sh->mu);
	pthread_mutex_destroy(&sh->wd_mu);
	pthread_cond_destroy(&sh->cv);
}

static int open_shard(struct amqp_sink *k, unsigned i)
{
	const struct amqp_cfg *c = k->cfg;
	struct shard *sh = &k->shards[i];
	sh->k = k;
	sh->idx = i;
	snprintf(sh->name, sizeof(sh->name), "%s[%u]", k->s->name, i);
	pthread_mutex_init(&sh->mu, NULL);
	pthread_mutex_init(&sh->wd_mu, NULL);
	sb_cond_init_mono(&sh->cv);
	sb_spool_batch_init(&sh->wb);
	sb_spool_batch_init(&sh->sb);
	sb_buf_init(&sh->wjson);
	sb_buf_init(&sh->sbuf);
	sh->wjc.run = sh->sjc.run = k->s->ri->run;
	sh->wjc.host = sh->sjc.host = k->s->ri->host;
	sb_spool_reader_init(&sh->rd_old, 0, UINT64_MAX);
	sb_spool_reader_init(&sh->rd_live, 0, UINT64_MAX);
	sh->rl_fail.interval_ns = 10 * SB_NSEC_PER_SEC;
	sh->rl_spool.interval_ns = 10 * SB_NSEC_PER_SEC;
	sb_jitter_seed(&sh->rnd, i);
	sh->win = calloc((size_t)c->window, sizeof(*sh->win));
	sh->wptr = calloc((size_t)c->window, sizeof(*sh->wptr));
	sh->recs = calloc((size_t)c->window, sizeof(*sh->recs));
	if (c->buffer == BUF_MEMORY) {
		sh->mcap = (size_t)c->memory_events;
		sh->mem = calloc(sh->mcap, sizeof(*sh->mem));
	}
	if (!sh->win || !sh->wptr || !sh->recs || (c->buffer == BUF_MEMORY && !sh->mem))
		return -ENOMEM;
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/shard-%u", c->spool_dir, i);
	struct sb_spool_opts o = {
		.dir = dir,
		.name = sh->name,
		.max_bytes = c->spool_max_bytes / k->n,
		.segment_bytes = c->spool_segment_bytes,
		.full = c->spool_full,
		.fsync_interval = c->fsync_interval,
		.fsync_every_write = c->fsync_every_write,
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
			"%s: spool %s holds %" PRIu64 " undelivered events from an earlier run (%" PRIu64
			" corrupt skipped, %" PRIu64 " torn bytes cut)",
			sh->name, dir, rec.records, rec.corrupt, rec.torn_bytes);
	/* Recovered records count as received (and corrupt ones as dropped),
	 * so the accounting holds across restarts. */
	struct acct *a = acct_begin(sh);
	ADD(received, rec.records + rec.corrupt);
	ADD(spool_records, rec.records);
	ADD(dropped[DROP_CORRUPT], rec.corrupt);
	acct_end(sh);
	atomic_fetch_add(&k->corrupt, rec.corrupt);
	/* a spool left by an earlier run replays at drain_rate */
	sh->outage = rec.records > 0;
	note_spool_bytes(sh);
	return 0;
}

static void amqp_close(struct sb_sink *s);

/* Spools of workers that no longer exist (workers was lowered) are not
 * read by anyone: say so, with what it takes to drain them. */
static void warn_orphans(struct amqp_sink *k)
{
	for (unsigned i = k->n; i < k->n + 64; i++) {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s/shard-%u", k->cfg->spool_dir, i);
		struct sb_spool_recovery rec;
		if (access(dir, F_OK) || sb_spool_scan(dir, &rec, NULL, NULL) || !rec.records)
			continue;
		sb_warn(COMP,
			"%s: %s holds %" PRIu64 " undelivered events no worker reads: run with "
			"workers >= %u to send them",
			k->s->name, dir, rec.records, i + 1);
	}
}

static int amqp_open(struct sb_sink *s)
{
	const struct amqp_cfg *c = s->cfg;
	struct amqp_sink *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->s = s;
	k->cfg = c;
	k->n = s->nshards;
	k->now = sb_now_mono_ns;
	pthread_mutex_init(&k->bmu, NULL);
	pthread_mutex_init(&k->tmu, NULL);
	pthread_mutex_init(&k->smu, NULL);
	sb_cond_init_mono(&k->scv);
	sb_breaker_init(&k->br, (unsigned)c->breaker.failures, c->breaker.cooldown);
	sb_pacer_init(&k->tb, (double)c->drain_rate, k->now());
	sb_peak_init(&k->peak);
	s->state = k;
	char err[512];
	int r = sb_amqp_target_parse(&k->target, c->url, c->credentials_file, err, sizeof(err));
	if (r) {
		sb_err(COMP, "%s: %s", s->name, err);
		goto fail;
	}
	k->target.tls_ca = c->tls.ca;
	k->target.tls_cert = c->tls.cert;
	k->target.tls_key = c->tls.key;
	k->target.tls_verify = c->tls.verify;
	k->target.connect_timeout = c->connect_timeout;
	k->target.heartbeat = (int)(c->heartbeat / SB_NSEC_PER_SEC);
	if (c->heartbeat && !k->target.heartbeat)
		k->target.heartbeat = 1;
	k->target.exchange = c->exchange;
	k->target.mandatory = c->mandatory;
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
	for (unsigned i = 0; i < k->n; i++) {
		if ((r = -pthread_create(&k->shards[i].thread, NULL, sender_main, &k->shards[i])))
			goto fail;
		k->shards[i].started = true;
	}
	warn_orphans(k);
	if ((r = -pthread_create(&k->sup, NULL, supervisor_main, k)))
		goto fail;
	k->sup_started = true;
	sb_info(COMP, "%s: publishing to %s exchange %s, %u worker(s), buffer %s, spool %s",
		s->name, k->target.shown, c->exchange, k->n, buffer_choices[c->buffer],
		c->spool_dir);
	return 0;
fail:
	amqp_close(s);
	return r ? r : -EINVAL;
}

static void amqp_close(struct sb_sink *s)
{
	struct amqp_sink *k = s->state;
	if (!k)
		return;
	int64_t deadline = sb_now_mono_ns() + s->common->shutdown_grace;
	for (unsigned i = 0; k->shards && i < k->n; i++) {
		struct shard *sh = &k->shards[i];
		pthread_mutex_lock(&sh->mu);
		sh->stop = true;
		sh->stop_deadline = deadline;
		pthread_cond_broadcast(&sh->cv);
		pthread_mutex_unlock(&sh->mu);
	}
	for (unsigned i = 0; k->shards && i < k->n; i++)
		if (k->shards[i].started)
			pthread_join(k->shards[i].thread, NULL);
	if (k->sup_started) {
		pthread_mutex_lock(&k->smu);
		k->sup_stop = true;
		pthread_cond_broadcast(&k->scv);
		pthread_mutex_unlock(&k->smu);
		pthread_join(k->sup, NULL);
	}
	if (k->shards) {
		char line[256];
		acct_line(k, line, sizeof(line));
		sb_info(COMP, "%s: closed: %s", s->name, line);
		for (unsigned i = 0; i < k->n; i++)
			free_shard(&k->shards[i]);
	}
	free(k->shards);
	sb_amqp_target_free(&k->target);
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

static void amqp_telemetry(struct sb_sink *s, struct sb_evb *b)
{
	struct amqp_sink *k = s->state;
	if (!k)
		return;
	struct acct_snap t;
	acct_total(k, &t);
	struct sb_sink_stats bus = {0};
	if (s->priv)
		sb_sink_stats(s, &bus);
	uint64_t bus_dropped = 0;
	for (int r = 0; r < SB_DROP_MAX; r++)
		bus_dropped += bus.dropped[r];
	const char *n = s->name;
	/* Events the bus dropped before the sink could take them are received
	 * and dropped alike, so the identity holds over both. */
	sample(b, "sensorbus_sink_received_total", SB_COUNTER, (double)(t.received + bus_dropped), n);
	sample(b, "sensorbus_sink_delivered_total", SB_COUNTER, (double)t.delivered, n);
	for (int r = 0; r < NDROP; r++) {
		sample(b, "sensorbus_sink_dropped_total", SB_COUNTER, (double)t.dropped[r], n);
		sb_evb_label(b, "reason", drop_names[r]);
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
	sample(b, "sensorbus_sink_breaker_state", SB_GAUGE, (double)breaker_state(k), n);
	sample(b, "sensorbus_sink_drain_rate", SB_GAUGE, (double)k->cfg->drain_rate, n);
	sample(b, "sensorbus_sink_confirm_latency_seconds", SB_HISTOGRAM, 0, n);
	uint64_t cum = 0;
	for (int i = 0; i < NLAT; i++) {
		cum += atomic_load_explicit(&k->lat[i], memory_order_relaxed);
		sb_evb_bucket(b, lat_le[i], (double)cum);
	}
	uint64_t count = atomic_load(&k->lat_count);
	sb_evb_bucket(b, INFINITY, (double)count);
	sb_evb_sumcount(b, (double)atomic_load(&k->lat_sum_ns) / 1e9, (double)count);
}

static int amqp_health(struct sb_sink *s)
{
	struct amqp_sink *k = s->state;
	return k && breaker_state(k) == SB_BREAKER_OPEN ? -ENOTCONN : 0;
}

const struct sb_sink_ops sb_sink_amqp = {
	.name = "amqp",
	.desc = "RabbitMQ (AMQP 0-9-1) with publisher confirms, a disk spool, retries, a circuit "
		"breaker and rate-limited replay: at least once",
	.keys = amqp_keys,
	.cfg_size = sizeof(struct amqp_cfg),
	.validate = amqp_validate,
	.open = amqp_open,
	.write = amqp_write,
	.flush = amqp_flush,
	.close = amqp_close,
	.telemetry = amqp_telemetry,
	.health = amqp_health,
};
