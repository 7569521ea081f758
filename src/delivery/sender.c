/* A worker's sender: reads windows of messages from the spool (or the
 * memory queue), hands them to the transport, settles what it reports,
 * retries with full-jitter backoff, feeds the breaker and replays the
 * spool at drain_rate after an outage.
 *
 * The work is one step function on the sink's clock (sb_delivery_step):
 * the thread only loops over it and sleeps until the time it returns, so
 * the unit tests drive a sender with a fake transport and a fake clock,
 * without threads or sleeps. What is in flight, or held for a retry,
 * survives between steps in the ring of slices (sh->ring).
 *
 * A pipelining transport (send and poll) has up to window messages in
 * flight: a slice goes out as soon as the oldest ones are settled. A
 * failure anywhere stops new sends until every outcome is in; the failed
 * messages then go again after one backoff, as a window did. Order holds
 * as before: a retried message arrives after at most a window of newer
 * ones. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "record.h"
#include "sb_bus.h"

void dl_close_link(struct dshard *sh)
{
	pthread_mutex_lock(&sh->wd_mu);
	if (sh->link)
		sh->k->t->close(sh->link);
	sh->link = NULL;
	pthread_mutex_unlock(&sh->wd_mu);
}

static int64_t idle_tick(void) { return SB_NSEC_PER_SEC; }

/* Every thread's CPU time: what a replay cost the agent, sender, spool
 * reads and all (the other sensors' and sinks' share is in it too). */
static int64_t process_cpu_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts))
		return 0;
	return (int64_t)ts.tv_sec * SB_NSEC_PER_SEC + ts.tv_nsec;
}

static void reader_range(struct sb_spool_reader *rd, uint64_t lo, uint64_t hi)
{
	rd->lo = rd->segno = lo;
	rd->hi = hi;
	rd->off = 0;
}
static void begin_replay(struct dshard *sh)
{
	struct dsink *k = sh->k;
	const struct sb_delivery_cfg *c = k->cfg;
	uint64_t unread = sb_spool_unread(sh->sp, 0, UINT64_MAX);
	if (!unread)
		return;
	if (c->buffer == SB_BUF_DISK && c->replay == SB_REPLAY_BACKFILL) {
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
	       c->replay == SB_REPLAY_ORDERED ? "ordered" : "backfill");
	if (!sh->replaying) {
		/* tokens saved up while the receiver was away are not a licence
		 * to burst into a recovering receiver */
		pthread_mutex_lock(&k->tmu);
		sb_tbucket_empty(&k->tb, k->now());
		pthread_mutex_unlock(&k->tmu);
		sh->replay_start = k->now();
		sh->replay_cpu = process_cpu_ns();
		sh->replay_sent = 0;
	}
	sh->replaying = true;
	if (c->drain_rate && (uint64_t)c->drain_rate <= peak)
		sb_warn(COMP,
			"%s: drain_rate %" PRId64
			"/s is not above the recent peak input rate %" PRIu64
			"/s: the spool may never empty",
			sh->name, c->drain_rate, peak);
}

/* caught_up: what was just settled (or found empty) took all the replay
 * had left. */
static void check_replay_done(struct dshard *sh, bool caught_up)
{
	struct dsink *k = sh->k;
	const struct sb_delivery_cfg *c = k->cfg;
	if (!sh->replaying || !caught_up)
		return;
	sh->replaying = false;
	double secs = (double)(k->now() - sh->replay_start) / 1e9;
	double cpu_ms = (double)(process_cpu_ns() - sh->replay_cpu) / 1e6;
	sb_info(COMP,
		"%s: spool replay done: %" PRIu64 " events in %.3fs (%.0f/s, drain_rate %" PRId64
		"/s; the agent's CPU %.1f ms)",
		sh->name, sh->replay_sent, secs, secs > 0 ? (double)sh->replay_sent / secs : 0.0,
		c->drain_rate, cpu_ms);
	if (c->buffer == SB_BUF_DISK && c->replay == SB_REPLAY_BACKFILL) {
		reader_range(&sh->rd_old, 0, 0);
		sh->rd_live.lo = 0; /* one reader again */
	}
}

static void observe_latency(struct dsink *k, const struct sb_dmsg *m)
{
	int64_t d = m->acked_at - m->sent_at;
	if (d < 0)
		d = 0;
	double s = (double)d / 1e9;
	size_t i = 0;
	while (i < NLAT && s > dl_lat_le[i])
		i++;
	atomic_fetch_add_explicit(&k->lat[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&k->lat_count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&k->lat_sum_ns, (uint64_t)d, memory_order_relaxed);
}

/* A message the window is done with: delivered, or refused for good. */
static bool done(const struct wmsg *w)
{
	return w->m.state == SB_DMSG_ACKED || w->m.state == SB_DMSG_REJECTED;
}

/* Resolves the ring's n oldest slices, in order: what was delivered or
 * rejected is done (spool records only up to the first failure of their
 * segment: the cursor is a prefix); with failed set, the rest goes back
 * to the spool, then the memory queue (n may be 0 for that alone). */
static void settle(struct dshard *sh, unsigned n, bool failed)
{
	struct dsink *k = sh->k;
	uint64_t delivered_spool = 0, delivered_mem = 0, rejected = 0, junk_total = 0;
	uint64_t delivered_old = 0; /* from the backlog reader */
	uint64_t mem_done = 0, mem_total = 0;
	uint64_t blocked[8];
	size_t nblocked = 0;
	bool overflow = false;
	struct sb_event **back = NULL;
	size_t nback = 0, total = 0;
	for (unsigned c = 0; c < n; c++)
		total += dl_slice(sh, c)->nwin;
	if (failed)
		back = calloc(total ? total : 1, sizeof(*back));
	pthread_mutex_lock(&sh->mu);
	for (unsigned c = 0; c < n; c++) {
		struct dwin *sl = dl_slice(sh, c);
		if (k->cfg->batch_events > 1)
			dl_ungroup_window(sl);
		for (size_t i = 0; i < sl->nwin;) {
			struct wmsg *w = &sl->win[i];
			if (w->m.state == SB_DMSG_ACKED && w->m.acked_at && !w->junk)
				observe_latency(k, &w->m);
			if (w->origin == ORIGIN_MEM) {
				mem_total++;
				mem_done += done(w);
				if (w->m.state == SB_DMSG_ACKED) {
					delivered_mem++;
					sb_event_unref(w->ev);
				} else if (w->m.state == SB_DMSG_REJECTED) {
					rejected++;
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
			uint64_t k_done = 0, k_ok = 0, k_rej = 0, k_junk = 0, end = 0;
			bool stop = overflow;
			for (size_t b = 0; b < nblocked; b++)
				stop |= blocked[b] == w->segno;
			while (j < sl->nwin && sl->win[j].origin == w->origin &&
			       sl->win[j].segno == w->segno) {
				struct wmsg *x = &sl->win[j];
				if (!stop && done(x)) {
					k_done++;
					k_junk += x->junk;
					k_rej += x->m.state == SB_DMSG_REJECTED;
					end = x->end;
				} else {
					stop = true;
				}
				j++;
			}
			k_ok = k_done - k_junk - k_rej;
			if (k_done) {
				sb_spool_confirm(sh->sp, w->segno, end, k_done);
				delivered_spool += k_ok;
				if (w->origin == ORIGIN_OLD)
					delivered_old += k_ok;
			}
			rejected += k_rej;
			junk_total += k_junk;
			if (stop) {
				if (nblocked < SB_ARRAY_SIZE(blocked))
					blocked[nblocked++] = w->segno;
				else
					overflow = true;
			}
			i = j;
		}
	}
	uint64_t rejected_mem = mem_done - delivered_mem;
	uint64_t lost_mem = failed && !back ? mem_total - mem_done : 0;
	struct acct *a = dl_acct_begin(sh);
	ADD(delivered, delivered_spool + delivered_mem);
	SUB(spool_records, delivered_spool + (rejected - rejected_mem) + junk_total);
	ADD(dropped[DROP_CORRUPT], junk_total);
	ADD(dropped[DROP_REJECTED], rejected);
	SUB(in_flight, mem_done + lost_mem);
	ADD(dropped[DROP_SPOOL_ERROR], lost_mem);
	dl_acct_end(sh);
	if (failed) {
		/* Older first: the window's, then what waits in memory. */
		dl_spill_locked(sh, back, nback, &sh->sb, &sh->sbody, &sh->scc, true);
		for (size_t i = 0; i < nback; i++)
			sb_event_unref(back[i]);
		while (sh->mcount) {
			size_t m =
			    sh->mcount < sh->mcap - sh->mhead ? sh->mcount : sh->mcap - sh->mhead;
			dl_spill_locked(sh, sh->mem + sh->mhead, m, &sh->sb, &sh->sbody, &sh->scc,
					true);
			for (size_t i = 0; i < m; i++)
				sb_event_unref(sh->mem[sh->mhead + i]);
			sh->mhead = (sh->mhead + m) % sh->mcap;
			sh->mcount -= m;
		}
	}
	pthread_mutex_unlock(&sh->mu);
	free(back);
	/* the replay's own rate: in backfill, live events do not count */
	const struct sb_delivery_cfg *c = k->cfg;
	bool ordered_disk = c->buffer == SB_BUF_DISK && c->replay == SB_REPLAY_ORDERED;
	if (sh->replaying)
		sh->replay_sent += ordered_disk ? delivered_spool : delivered_old;
	if (failed) {
		sb_spool_rewind(sh->sp, &sh->rd_old);
		sb_spool_rewind(sh->sp, &sh->rd_live);
		sh->outage = true;
	}
	for (unsigned i = 0; i < n; i++)
		dl_slice(sh, i)->nwin = 0;
	sh->rhead = sh->rcap ? (sh->rhead + n) % sh->rcap : 0;
	sh->rcount -= n;
	dl_note_spool_bytes(sh);
}

static bool link_up(struct dshard *sh, bool probe)
{
	struct dsink *k = sh->k;
	if (sh->link)
		return true;
	char err[512] = "";
	void *l = NULL;
	int r = k->t->connect(k->tp, sh->idx, &l, err, sizeof(err));
	if (r) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s", strerror(-r));
		sb_log_rl(&sh->rl_fail, SB_LOG_WARN, COMP, "%s: cannot reach %s: %s", sh->name,
			  k->t->target(k->tp), err);
		dl_breaker_result(k, false, probe, false, err);
		return false;
	}
	pthread_mutex_lock(&sh->wd_mu);
	sh->link = l;
	pthread_mutex_unlock(&sh->wd_mu);
	sh->last_io = k->now();
	sb_dbg(COMP, "%s: connected to %s", sh->name, k->t->target(k->tp));
	return true;
}

static int64_t backoff_after(struct dshard *sh, unsigned attempt)
{
	const struct sb_retry_conf *rc = &sh->k->s->common->retry;
	return sb_backoff_full_jitter(rc->base, rc->max_delay, attempt, sb_jitter_next(&sh->rnd));
}

static bool stopping(struct dshard *sh)
{
	pthread_mutex_lock(&sh->mu);
	bool s = sh->stop && sb_now_mono_ns() >= sh->stop_deadline;
	pthread_mutex_unlock(&sh->mu);
	return s;
}

static void keepalive(struct dshard *sh)
{
	struct dsink *k = sh->k;
	if (!k->t->idle || k->now() - sh->last_io < idle_tick())
		return;
	char err[256] = "";
	if (k->t->idle(sh->link, err, sizeof(err))) {
		sb_log_rl(&sh->rl_fail, SB_LOG_WARN, COMP, "%s: link to %s broke while idle: %s",
			  sh->name, k->t->target(k->tp), err);
		dl_close_link(sh);
	}
	sh->last_io = k->now();
}

/* What is known of the ring's messages (as the transport sees them). */
struct tally {
	size_t pending, failed, total;
};

static bool failed_state(int st) { return st == SB_DMSG_FAILED || st == SB_DMSG_UNSENT; }
static bool pending_state(int st) { return st == SB_DMSG_PENDING || st == SB_DMSG_RETURNING; }

static struct tally tally_slice(struct dshard *sh, struct dwin *sl)
{
	struct tally t = {0};
	struct sb_dmsg *const *m;
	t.total = dl_wire(sh, sl, &m);
	for (size_t i = 0; i < t.total; i++) {
		t.pending += pending_state(m[i]->state);
		t.failed += failed_state(m[i]->state);
	}
	return t;
}

static struct tally tally_ring(struct dshard *sh)
{
	struct tally t = {0};
	for (unsigned c = 0; c < sh->rcount; c++) {
		struct tally u = tally_slice(sh, dl_slice(sh, c));
		t.pending += u.pending;
		t.failed += u.failed;
		t.total += u.total;
	}
	return t;
}

/* The first complaint since the last failed attempt was logged. */
static void note_why(struct dshard *sh, const char *why)
{
	if (!sh->why[0])
		snprintf(sh->why, sizeof(sh->why), "%s", why);
}

/* The link broke: the transport forgot the outcomes it still owed, so
 * those messages are sent again (with the same ids) on a new one. */
static void link_broke(struct dshard *sh, int r, const char *err)
{
	note_why(sh, err[0] ? err : strerror(-r));
	sh->lost = true;
	dl_close_link(sh);
	for (unsigned c = 0; c < sh->rcount; c++) {
		struct sb_dmsg *const *m;
		size_t n = dl_wire(sh, dl_slice(sh, c), &m);
		for (size_t i = 0; i < n; i++)
			if (pending_state(m[i]->state) || m[i]->state == SB_DMSG_UNSENT)
				m[i]->state = SB_DMSG_FAILED;
	}
}

/* Hands the slice's messages that are not done to the transport: a
 * pipelining one sends them and returns, the simple one (publish) also
 * waits for every outcome. 0, or -errno when the link broke. */
static int xmit(struct dshard *sh, struct dwin *sl)
{
	struct dsink *k = sh->k;
	struct sb_dmsg *const *m;
	size_t n = dl_wire(sh, sl, &m);
	sl->sent_at = k->now();
	if (!n) /* only junk records: done already */
		return 0;
	char err[512] = "";
	int r;
	atomic_store(&sh->busy_since, sb_now_mono_ns());
	if (k->t->send) {
		r = k->t->send(sh->link, m, n, err, sizeof(err));
	} else {
		r = k->t->publish(sh->link, m, n, k->cfg->confirm_timeout, err, sizeof(err));
		for (size_t i = 0; i < n; i++)
			if (m[i]->state != SB_DMSG_ACKED && m[i]->state != SB_DMSG_REJECTED)
				m[i]->state = SB_DMSG_FAILED;
	}
	atomic_store(&sh->busy_since, 0);
	sh->last_io = k->now();
	if (err[0])
		note_why(sh, err);
	if (r)
		link_broke(sh, r, err);
	return r;
}

/* Waits up to wait for outcomes of what is in flight; a slice whose
 * outcomes are overdue (confirm_timeout) breaks the link instead. */
static void await_outcomes(struct dshard *sh, int64_t wait)
{
	struct dsink *k = sh->k;
	int64_t now = k->now(), timeout = k->cfg->confirm_timeout;
	for (unsigned c = 0; c < sh->rcount; c++) {
		struct dwin *sl = dl_slice(sh, c);
		if (!tally_slice(sh, sl).pending)
			continue;
		int64_t left = sl->sent_at + timeout - now;
		if (left <= 0) {
			char err[128];
			snprintf(err, sizeof(err), "no outcome within %lld ms",
				 (long long)(timeout / SB_NSEC_PER_MSEC));
			link_broke(sh, -ETIMEDOUT, err);
			return;
		}
		if (left < wait)
			wait = left;
	}
	char err[512] = "";
	atomic_store(&sh->busy_since, sb_now_mono_ns());
	int r = k->t->poll(sh->link, wait, err, sizeof(err));
	atomic_store(&sh->busy_since, 0);
	sh->last_io = k->now();
	if (err[0])
		note_why(sh, err);
	if (r)
		link_broke(sh, r, err);
}

/* The ring goes back to the spool, and the memory queue after it. */
static void give_back(struct dshard *sh)
{
	if (tally_ring(sh).pending)
		dl_close_link(sh); /* the transport must not keep what is freed */
	settle(sh, sh->rcount, true);
	sh->backed_off = false;
	sh->probing = false;
}

/* Settles the complete slices at the ring's head, in order; how many. */
static unsigned settle_done(struct dshard *sh, bool probe)
{
	unsigned n = 0;
	bool caught_up = false;
	while (n < sh->rcount) {
		struct dwin *sl = dl_slice(sh, n);
		struct tally t = tally_slice(sh, sl);
		if (t.pending || t.failed)
			break;
		caught_up |= sl->caught_up;
		n++;
	}
	if (!n)
		return 0;
	settle(sh, n, false);
	sh->links_lost = 0;
	dl_breaker_result(sh->k, true, probe, false, NULL);
	sh->probing = false;
	check_replay_done(sh, caught_up);
	return n;
}

/* Failed messages in the ring (refused, returned, or on a link that
 * broke) and no outcome awaited: one failed attempt. They go again after
 * a backoff, or the ring goes back to the spool when retries ran out, the
 * breaker opened, it was a probe or shutdown is past its grace. Returns
 * when to step again. */
static int64_t count_failure(struct dshard *sh, bool probe, struct tally t)
{
	struct dsink *k = sh->k;
	const struct sb_retry_conf *rc = &k->s->common->retry;
	bool lost = sh->lost;
	sh->lost = false;
	unsigned ends = k->t->endpoints ? k->t->endpoints(k->tp) : 1;
	if (lost && ends > 1 && !probe && !stopping(sh) && ++sh->links_lost % ends) {
		/* One node of several went away: fail over at once. A cluster
		 * that elects new queue leaders after a node's loss can drop
		 * the survivors' links too, so only a whole round of lost
		 * links (one per endpoint) with nothing delivered is a failure. */
		atomic_fetch_add(&k->retries, 1);
		sb_info(COMP,
			"%s: link to %s lost (%s): failing over, %zu message(s) to send again",
			sh->name, k->t->target(k->tp), sh->why[0] ? sh->why : "closed", t.failed);
		sh->why[0] = 0;
		sh->backed_off = true;
		sh->retry_at = k->now();
		return sh->retry_at;
	}
	unsigned attempt = 0;
	for (unsigned c = 0; c < sh->rcount; c++) {
		struct dwin *sl = dl_slice(sh, c);
		if (tally_slice(sh, sl).failed && ++sl->attempt > attempt)
			attempt = sl->attempt;
	}
	char why[256];
	snprintf(why, sizeof(why), "%s", sh->why[0] ? sh->why : strerror(EIO));
	sh->why[0] = 0;
	atomic_fetch_add(&k->retries, 1);
	sb_log_rl(&sh->rl_fail, SB_LOG_WARN, COMP,
		  "%s: %zu of %zu messages not confirmed by %s (attempt %u): %s", sh->name,
		  t.failed, t.total, k->t->target(k->tp), attempt, why);
	bool exhausted = rc->max_attempts && attempt >= (unsigned)rc->max_attempts;
	dl_breaker_result(k, false, probe, exhausted, exhausted ? "retries exhausted" : why);
	if (exhausted || probe || stopping(sh) || dl_breaker_state(k) != SB_BREAKER_CLOSED) {
		give_back(sh);
		return k->now();
	}
	sh->backed_off = true;
	sh->retry_at = k->now() + backoff_after(sh, attempt - 1);
	return sh->retry_at;
}

/* How long a pipelining sender waits for outcomes: while it has room and
 * nothing to send, briefly, so new events go out soon after they come. */
#define WAIT_ROOM (2 * SB_NSEC_PER_MSEC)
#define WAIT_FULL (50 * SB_NSEC_PER_MSEC)

int64_t dl_sender_step(struct dshard *sh)
{
	struct dsink *k = sh->k;
	int64_t now = k->now();
	if (sh->retry_at > now)
		return sh->retry_at;
	bool probe = sh->probing; /* the ring holds our probe: see it through */
	if (!probe) {
		int64_t wait = 0;
		enum sb_breaker_verdict v = dl_breaker_ask(k, &wait);
		if (v == SB_BREAKER_WAIT) {
			/* another worker opened it: what the ring holds goes back */
			if (sh->rcount || (k->cfg->buffer == SB_BUF_MEMORY && dl_memory_queued(sh)))
				give_back(sh);
			if (sh->link)
				dl_close_link(sh);
			sh->outage = true;
			return now + (wait < idle_tick() ? wait : idle_tick());
		}
		probe = v == SB_BREAKER_PROBE;
		if (probe)
			sb_dbg(COMP, "%s: breaker half-open: probing %s", sh->name,
			       k->t->target(k->tp));
	}
	struct tally t = tally_ring(sh);
	bool trouble = t.failed && !t.pending;
	if (trouble && !sh->backed_off)
		return count_failure(sh, probe, t);
	if (!link_up(sh, probe)) {
		sh->outage = true;
		sh->probing = false;
		if (dl_breaker_state(k) != SB_BREAKER_CLOSED)
			return now; /* the breaker decides when to try again */
		sh->retry_at = now + backoff_after(sh, sh->link_attempt++);
		return sh->retry_at;
	}
	sh->link_attempt = 0;
	if (sh->outage) {
		sh->outage = false;
		begin_replay(sh);
	}
	bool busy = false;
	if (trouble) { /* backed off: the failed messages go again, in order */
		sh->backed_off = false;
		for (unsigned c = 0; c < sh->rcount; c++) {
			struct dwin *sl = dl_slice(sh, c);
			if (tally_slice(sh, sl).failed && xmit(sh, sl))
				break;
		}
		busy = true;
	}
	busy |= settle_done(sh, probe) > 0;
	/* Fill the room: as long as nothing failed, the receiver takes all,
	 * and the probe (one slice) is not out yet. */
	int64_t hold = -1;
	while (!t.failed && sh->link && sh->rcount < sh->rcap && !sh->probing) {
		struct dwin *sl = dl_slice(sh, sh->rcount);
		dl_fill_window(sh, sl, &hold);
		if (!sl->nwin) {
			if (!sh->rcount)
				check_replay_done(sh, sl->caught_up);
			break;
		}
		sl->attempt = 0;
		sh->rcount++;
		if (k->cfg->batch_events > 1)
			dl_group_window(sh, sl);
		sh->probing = probe;
		busy = true;
		if (xmit(sh, sl) || !k->t->send)
			break;
	}
	if (sh->rcount && sh->link && k->t->send && tally_ring(sh).pending) {
		bool room = sh->rcount < sh->rcap && !t.failed && !sh->probing;
		await_outcomes(sh, room ? WAIT_ROOM : WAIT_FULL);
	}
	busy |= settle_done(sh, probe) > 0;
	if (sh->rcount || busy)
		return k->now();
	if (probe)
		dl_breaker_result(k, true, true, false, NULL);
	sh->probing = false;
	keepalive(sh);
	int64_t until = now + idle_tick();
	if (hold > 0 && now + hold < until)
		until = now + hold;
	return until;
}

static bool has_work(struct dshard *sh)
{
	return sh->rcount || dl_memory_queued(sh) || sb_spool_unread(sh->sp, 0, UINT64_MAX);
}

bool dl_sender_done(struct dshard *sh)
{
	pthread_mutex_lock(&sh->mu);
	bool stop = sh->stop;
	int64_t deadline = sh->stop_deadline;
	pthread_mutex_unlock(&sh->mu);
	if (!stop)
		return false;
	/* A backlog stays on disk for the next run; only a caught-up sender
	 * uses the grace to finish what is in progress. */
	return sb_now_mono_ns() >= deadline || dl_breaker_state(sh->k) != SB_BREAKER_CLOSED ||
	       sh->replaying || !has_work(sh);
}

void dl_sender_finish(struct dshard *sh)
{
	if (sh->rcount || dl_memory_queued(sh))
		give_back(sh);
	dl_close_link(sh);
}

/* Sleeps until the deadline, stop, or (kickable) new work. */
static void nap(struct dshard *sh, int64_t until, bool kickable)
{
	struct timespec ts = sb_mono_timespec(until);
	pthread_mutex_lock(&sh->mu);
	while (!(kickable && sh->kick) && !sh->stop && sb_now_mono_ns() < until)
		if (pthread_cond_timedwait(&sh->cv, &sh->mu, &ts) == ETIMEDOUT)
			break;
	if (kickable)
		sh->kick = false;
	pthread_mutex_unlock(&sh->mu);
}

void *dl_sender_main(void *arg)
{
	struct dshard *sh = arg;
	sb_thread_name("send:%s", sh->name);
	while (!dl_sender_done(sh)) {
		int64_t next = dl_sender_step(sh);
		if (next > sb_now_mono_ns())
			nap(sh, next, next != sh->retry_at);
	}
	dl_sender_finish(sh);
	return NULL;
}
