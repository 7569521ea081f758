/* Building a sender's windows: the next messages read from the spool or
 * taken from the memory queue, within the drain rate's tokens, and (with
 * batch_events > 1) grouped into messages of consecutive events. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "record.h"

static uint64_t take_tokens(struct dsink *k, uint64_t want, int64_t *wait)
{
	if (!want)
		return 0;
	pthread_mutex_lock(&k->tmu);
	int64_t d;
	uint64_t got = sb_pacer_take(&k->tb, want, k->now(), &d);
	if (!got && (*wait < 0 || d < *wait))
		*wait = d;
	pthread_mutex_unlock(&k->tmu);
	return got;
}

/* Adds up to max spool records from rd to the window. */
static void read_spool(struct dshard *sh, struct sb_spool_reader *rd, size_t max, int origin)
{
	struct dsink *k = sh->k;
	if (!max)
		return;
	size_t n = 0;
	uint64_t lost = 0;
	int r = sb_spool_read(sh->sp, rd, sh->recs, max, 16u << 20, &n, &lost);
	if (lost) {
		pthread_mutex_lock(&sh->mu);
		struct acct *a = dl_acct_begin(sh);
		SUB(spool_records, lost);
		ADD(dropped[DROP_CORRUPT], lost);
		dl_acct_end(sh);
		pthread_mutex_unlock(&sh->mu);
		atomic_fetch_add(&k->corrupt, lost);
	}
	if (r)
		sb_log_rl(&sh->rl_spool, SB_LOG_ERROR, COMP, "%s: cannot read spool %s: %s",
			  sh->name, sb_spool_dir(sh->sp), strerror(-r));
	for (size_t i = 0; i < n; i++) {
		struct sb_spool_rec *rec = &sh->recs[i];
		struct wmsg *w = &sh->win[sh->nwin++];
		memset(w, 0, sizeof(*w));
		if (sb_rec_parse(rd->buf.data + rec->boff, rec->len, &w->m)) {
			/* Checksummed yet not a message: send nothing, drop it. */
			memset(&w->m, 0, sizeof(w->m));
			w->m.state = SB_DMSG_ACKED;
			w->junk = true;
			sb_log_rl(&sh->rl_spool, SB_LOG_ERROR, COMP,
				  "%s: spool %s: record in segment %" PRIu64 " is not a message",
				  sh->name, sb_spool_dir(sh->sp), rec->segno);
		}
		w->origin = origin;
		w->segno = rec->segno;
		w->end = rec->end;
	}
}

static struct sb_dstr dstr(const char *s) { return (struct sb_dstr){s, strlen(s)}; }

/* Moves up to max events from the memory queue into the window. */
static void take_memory(struct dshard *sh, size_t max)
{
	struct dsink *k = sh->k;
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
		w->m.seq = ev->seq;
		w->m.time_ns = ev->time_ns;
		w->m.run = dstr(k->s->ri->run);
		w->m.host = dstr(k->s->ri->host);
		w->m.source = dstr(ev->source);
		w->m.kind = dstr(ev->kind);
		w->m.codec = k->codec;
		w->body = sh->sbuf.len;
		k->codec->encode(&sh->sbuf, &sh->scc, ev);
		w->m.len = sh->sbuf.len - w->body;
	}
	/* the buffer may have moved while it grew */
	for (size_t i = base; i < sh->nwin; i++)
		sh->win[i].m.body = sh->sbuf.data + sh->win[i].body;
}

uint64_t dl_memory_queued(struct dshard *sh)
{
	pthread_mutex_lock(&sh->mu);
	uint64_t n = sh->mcount;
	pthread_mutex_unlock(&sh->mu);
	return n;
}

/* Builds the next window; *wait > 0 if the token bucket holds work back. */
void dl_fill_window(struct dshard *sh, int64_t *wait)
{
	struct dsink *k = sh->k;
	const struct sb_delivery_cfg *c = k->cfg;
	size_t cap = sb_delivery_window_events(c);
	sh->nwin = 0;
	sb_buf_reset(&sh->sbuf);
	*wait = -1;
	sh->caught_up = false;
	if (c->buffer == SB_BUF_MEMORY) {
		uint64_t unread = sb_spool_unread(sh->sp, 0, UINT64_MAX);
		sh->caught_up = !unread;
		if (unread) {
			size_t want = unread < cap ? (size_t)unread : cap;
			if (c->replay == SB_REPLAY_BACKFILL)
				want = want > cap / 2 ? cap / 2 : want;
			size_t got = (size_t)take_tokens(k, want, wait);
			sh->caught_up = got == unread;
			read_spool(sh, &sh->rd_old, got, ORIGIN_OLD);
		}
		if (c->replay == SB_REPLAY_BACKFILL || !unread)
			take_memory(sh, cap - sh->nwin);
	} else if (c->replay == SB_REPLAY_ORDERED) {
		size_t want = cap;
		if (sh->replaying) {
			uint64_t unread = sb_spool_unread(sh->sp, 0, UINT64_MAX);
			want = (size_t)take_tokens(k, unread < cap ? unread : cap, wait);
			/* asked for all there was: the replay has caught up */
			sh->caught_up = want == unread;
		}
		read_spool(sh, &sh->rd_live, want, ORIGIN_LIVE);
	} else {
		if (sh->replaying) {
			uint64_t unread = sb_spool_unread(sh->sp, 0, sh->backlog_hi);
			size_t want = unread < cap / 2 ? (size_t)unread : cap / 2;
			size_t got = (size_t)take_tokens(k, want, wait);
			sh->caught_up = got == unread;
			read_spool(sh, &sh->rd_old, got, ORIGIN_OLD);
		}
		read_spool(sh, &sh->rd_live, cap - sh->nwin, ORIGIN_LIVE);
	}
	for (size_t i = 0; i < sh->nwin; i++)
		sh->wptr[i] = &sh->win[i].m;
}

static bool same(struct sb_dstr a, struct sb_dstr b)
{
	return a.n == b.n && !memcmp(a.p, b.p, a.n);
}

/* Whether event w may join the batch message m (one routing identity,
 * one codec; records of an earlier release go alone). */
static bool joins(const struct sb_dmsg *m, const struct wmsg *w, size_t max_events,
		  uint64_t max_bytes)
{
	const struct sb_dmsg *e = &w->m;
	return !w->junk && !e->v1_key.n && m->nevents < max_events &&
	       m->len + e->len + 16 <= max_bytes && e->codec == m->codec && same(e->run, m->run) &&
	       same(e->host, m->host) && same(e->source, m->source) && same(e->kind, m->kind);
}

/* batch_events > 1: groups the window's events into messages of
 * consecutive events, bodies joined in bbuf the codec's way. Junk records
 * are in no message (they are done already). */
void dl_group_window(struct dshard *sh)
{
	const struct sb_delivery_cfg *c = sh->k->cfg;
	size_t max = (size_t)c->batch_events;
	sh->nb = 0;
	sb_buf_reset(&sh->bbuf);
	size_t *boff = sh->bfirst; /* reused below: first the body offsets */
	for (size_t i = 0; i < sh->nwin; i++) {
		struct wmsg *w = &sh->win[i];
		if (w->junk)
			continue;
		struct sb_dmsg *m = sh->nb ? &sh->bmsg[sh->nb - 1] : NULL;
		if (!m || !joins(m, w, max, c->batch_bytes) || sh->win[i - 1].junk) {
			m = &sh->bmsg[sh->nb++];
			*m = w->m;
			m->nevents = 0;
			m->len = 0;
			m->state = SB_DMSG_UNSENT;
			boff[sh->nb - 1] = sh->bbuf.len;
		}
		sb_codec_batch_add(m->codec, &sh->bbuf, w->m.body, w->m.len);
		m->len = sh->bbuf.len - boff[sh->nb - 1];
		m->last_seq = w->m.seq;
		m->nevents++;
	}
	for (size_t j = 0; j < sh->nb; j++) {
		sh->bmsg[j].body = sh->bbuf.data + boff[j];
		sh->bptr[j] = &sh->bmsg[j];
	}
	/* now each message's first event: events of message j follow in win */
	for (size_t i = 0, j = 0; i < sh->nwin && j < sh->nb; i++) {
		if (sh->win[i].junk)
			continue;
		sh->bfirst[j] = i;
		i += sh->bmsg[j].nevents - 1;
		j++;
	}
}

/* A batch message's outcome is each of its events' outcome. */
void dl_ungroup_window(struct dshard *sh)
{
	for (size_t j = 0; j < sh->nb; j++) {
		const struct sb_dmsg *m = &sh->bmsg[j];
		for (size_t i = sh->bfirst[j]; i < sh->bfirst[j] + m->nevents; i++) {
			sh->win[i].m.state = m->state;
			sh->win[i].m.sent_at = m->sent_at;
			sh->win[i].m.acked_at = m->acked_at;
		}
	}
}
