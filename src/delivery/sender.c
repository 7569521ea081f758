/* A worker's sender: reads windows of messages from the spool (or the
 * memory queue), hands them to the transport, settles what it reports,
 * retries with full-jitter backoff, feeds the breaker and replays the
 * spool at drain_rate after an outage.
 *
 * The work is one step function on the sink's clock (sb_delivery_step):
 * the thread only loops over it and sleeps until the time it returns, so
 * the unit tests drive a sender with a fake transport and a fake clock,
 * without threads or sleeps. A held window being retried survives between
 * steps in sh->win. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void check_replay_done(struct dshard *sh)
{
	struct dsink *k = sh->k;
	const struct sb_delivery_cfg *c = k->cfg;
	if (!sh->replaying || !sh->caught_up)
		return;
	sh->replaying = false;
	double secs = (double)(k->now() - sh->replay_start) / 1e9;
	sb_info(COMP,
		"%s: spool replay done: %" PRIu64 " events in %.2fs (%.0f/s, drain_rate %" PRId64
		"/s)",
		sh->name, sh->replay_sent, secs, secs > 0 ? (double)sh->replay_sent / secs : 0.0,
		c->drain_rate);
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

/* Resolves the window: what was delivered or rejected is done (spool
 * records only up to the first failure of their segment: the cursor is a
 * prefix); with failed set, the rest goes back to the spool. */
static void settle(struct dshard *sh, bool failed)
{
	struct dsink *k = sh->k;
	uint64_t delivered_spool = 0, delivered_mem = 0, rejected = 0, junk_total = 0;
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
		if (w->m.state == SB_DMSG_ACKED && w->m.acked_at && !w->junk)
			observe_latency(k, &w->m);
		if (w->origin == ORIGIN_MEM) {
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
		while (j < sh->nwin && sh->win[j].origin == w->origin &&
		       sh->win[j].segno == w->segno) {
			struct wmsg *x = &sh->win[j];
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
	uint64_t mem_done = 0;
	for (size_t i = 0; i < sh->nwin; i++)
		mem_done += sh->win[i].origin == ORIGIN_MEM && done(&sh->win[i]);
	uint64_t rejected_mem = mem_done - delivered_mem;
	uint64_t mem_total = 0;
	for (size_t i = 0; i < sh->nwin; i++)
		mem_total += sh->win[i].origin == ORIGIN_MEM;
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
			size_t n =
			    sh->mcount < sh->mcap - sh->mhead ? sh->mcount : sh->mcap - sh->mhead;
			dl_spill_locked(sh, sh->mem + sh->mhead, n, &sh->sb, &sh->sbody, &sh->scc,
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
	const struct sb_delivery_cfg *c = k->cfg;
	bool ordered_disk = c->buffer == SB_BUF_DISK && c->replay == SB_REPLAY_ORDERED;
	if (sh->replaying)
		sh->replay_sent += ordered_disk ? delivered_spool : delivered_old;
	if (failed) {
		sb_spool_rewind(sh->sp, &sh->rd_old);
		sb_spool_rewind(sh->sp, &sh->rd_live);
		sh->outage = true;
	}
	sh->nwin = 0;
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

/* Hands the held window to the transport once; returns when to step
 * again. A window not wholly done is retried after a backoff, or given
 * back to the spool when retries ran out, the breaker opened, it was a
 * probe or shutdown is past its grace. */
static int64_t publish_window(struct dshard *sh, bool probe)
{
	struct dsink *k = sh->k;
	const struct sb_retry_conf *rc = &k->s->common->retry;
	char err[512] = "";
	bool batched = k->cfg->batch_events > 1;
	atomic_store(&sh->busy_since, sb_now_mono_ns());
	int r = k->t->publish(sh->link, batched ? sh->bptr : sh->wptr, batched ? sh->nb : sh->nwin,
			      k->cfg->confirm_timeout, err, sizeof(err));
	atomic_store(&sh->busy_since, 0);
	if (batched)
		dl_ungroup_window(sh);
	sh->last_io = k->now();
	size_t bad = 0;
	for (size_t i = 0; i < sh->nwin; i++)
		bad += !done(&sh->win[i]);
	if (r)
		dl_close_link(sh); /* every outcome arrived, or not: it broke */
	if (!bad) {
		dl_breaker_result(k, true, probe, false, NULL);
		settle(sh, false);
		check_replay_done(sh);
		return k->now();
	}
	if (!err[0])
		snprintf(err, sizeof(err), "%s", strerror(r ? -r : EIO));
	sh->win_attempt++;
	atomic_fetch_add(&k->retries, 1);
	sb_log_rl(&sh->rl_fail, SB_LOG_WARN, COMP,
		  "%s: %zu of %zu messages not confirmed by %s (attempt %u): %s", sh->name, bad,
		  sh->nwin, k->t->target(k->tp), sh->win_attempt, err);
	bool exhausted = rc->max_attempts && sh->win_attempt >= (unsigned)rc->max_attempts;
	dl_breaker_result(k, false, probe, exhausted, exhausted ? "retries exhausted" : err);
	if (exhausted || probe || stopping(sh) || dl_breaker_state(k) != SB_BREAKER_CLOSED) {
		settle(sh, true);
		sh->win_attempt = 0;
		return k->now();
	}
	sh->retry_at = k->now() + backoff_after(sh, sh->win_attempt - 1);
	return sh->retry_at;
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

int64_t dl_sender_step(struct dshard *sh)
{
	struct dsink *k = sh->k;
	int64_t now = k->now();
	if (sh->retry_at > now)
		return sh->retry_at;
	int64_t wait = 0;
	enum sb_breaker_verdict v = dl_breaker_ask(k, &wait);
	if (v == SB_BREAKER_WAIT) {
		if (sh->nwin) /* another worker opened it: the held window goes back */
			settle(sh, true);
		if (k->cfg->buffer == SB_BUF_MEMORY && dl_memory_queued(sh))
			settle(sh, true); /* spills the memory queue */
		if (sh->link)
			dl_close_link(sh);
		sh->outage = true;
		sh->win_attempt = 0;
		return now + (wait < idle_tick() ? wait : idle_tick());
	}
	bool probe = v == SB_BREAKER_PROBE;
	if (probe)
		sb_dbg(COMP, "%s: breaker half-open: probing %s", sh->name, k->t->target(k->tp));
	if (!link_up(sh, probe)) {
		sh->outage = true;
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
	if (!sh->nwin) {
		int64_t hold = -1;
		dl_fill_window(sh, &hold);
		sh->win_attempt = 0;
		if (sh->nwin && k->cfg->batch_events > 1)
			dl_group_window(sh);
		if (!sh->nwin) {
			if (probe)
				dl_breaker_result(k, true, true, false, NULL);
			check_replay_done(sh);
			keepalive(sh);
			int64_t until = now + idle_tick();
			if (hold > 0 && now + hold < until)
				until = now + hold;
			return until;
		}
	}
	return publish_window(sh, probe);
}

static bool has_work(struct dshard *sh)
{
	return sh->nwin || dl_memory_queued(sh) || sb_spool_unread(sh->sp, 0, UINT64_MAX);
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
	if (sh->nwin || dl_memory_queued(sh))
		settle(sh, true);
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
	while (!dl_sender_done(sh)) {
		int64_t next = dl_sender_step(sh);
		if (next > sb_now_mono_ns())
			nap(sh, next, next != sh->retry_at);
	}
	dl_sender_finish(sh);
	return NULL;
}
