/* Building a sender's window: a ring of slices, each filled with the next
 * messages read from the spool or taken from the memory queue, within the
 * drain rate's tokens, and (with batch_events > 1) grouped into messages
 * of consecutive events. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "record.h"

/* A pipelining transport gets the window in this many slices: the next
 * slice goes as soon as the oldest is confirmed, so the receiver always
 * has most of a window to work on. More, smaller slices would free room
 * sooner but cost a spool read and a settle each. */
#define SLICES 8

int dl_ring_init(struct dshard *sh)
{
	struct dsink *k = sh->k;
	const struct sb_delivery_cfg *c = k->cfg;
	size_t events = sb_delivery_window_events(c);
	unsigned n = 1;
	if (k->t->send && k->t->poll)
		n = c->window < SLICES ? (unsigned)c->window : SLICES;
	size_t cap = events / n ? events / n : 1;
	sh->ring = calloc(n, sizeof(*sh->ring));
	sh->recs = calloc(cap, sizeof(*sh->recs));
	if (!sh->ring || !sh->recs)
		return -ENOMEM;
	sh->rcap = n;
	for (unsigned i = 0; i < n; i++) {
		struct dwin *w = &sh->ring[i];
		w->cap = cap;
		sb_buf_init(&w->bbuf);
		sb_buf_init(&w->sbuf);
		sb_buf_init(&w->rbuf[0]);
		sb_buf_init(&w->rbuf[1]);
		w->win = calloc(cap, sizeof(*w->win));
		w->wptr = calloc(cap, sizeof(*w->wptr));
		if (!w->win || !w->wptr)
			return -ENOMEM;
		if (c->batch_events > 1) {
			w->bmsg = calloc(cap, sizeof(*w->bmsg));
			w->bptr = calloc(cap, sizeof(*w->bptr));
			w->bfirst = calloc(cap, sizeof(*w->bfirst));
			if (!w->bmsg || !w->bptr || !w->bfirst)
				return -ENOMEM;
		}
	}
	return 0;
}

void dl_ring_free(struct dshard *sh)
{
	for (unsigned i = 0; sh->ring && i < sh->rcap; i++) {
		struct dwin *w = &sh->ring[i];
		free(w->win);
		free(w->wptr);
		free(w->bmsg);
		free(w->bptr);
		free(w->bfirst);
		sb_buf_free(&w->bbuf);
		sb_buf_free(&w->sbuf);
		sb_buf_free(&w->rbuf[0]);
		sb_buf_free(&w->rbuf[1]);
	}
	free(sh->ring);
	free(sh->recs);
	sh->ring = NULL;
	sh->recs = NULL;
	sh->rcap = sh->rcount = 0;
}

size_t dl_wire(const struct dshard *sh, struct dwin *w, struct sb_dmsg *const **msgs)
{
	if (sh->k->cfg->batch_events > 1) {
		*msgs = w->bptr;
		return w->nb;
	}
	*msgs = w->wptr;
	return w->nwin;
}

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

/* Adds up to max spool records from rd to the slice; returns how many
 * (fewer where a read's byte bound stops it). The reader reads into the
 * slice's own buffer, which the records' bodies point into until the
 * slice is settled, while other slices are read. */
static size_t read_spool(struct dshard *sh, struct dwin *sl, struct sb_spool_reader *rd, size_t max,
			 int origin)
{
	struct dsink *k = sh->k;
	if (!max)
		return 0;
	size_t n = 0;
	uint64_t lost = 0;
	struct sb_buf *mine = &sl->rbuf[origin == ORIGIN_OLD ? 0 : 1], spare = rd->buf;
	size_t max_bytes = (16u << 20) / sh->rcap;
	rd->buf = *mine;
	int r = sb_spool_read(sh->sp, rd, sh->recs, max,
			      max_bytes > (2u << 20) ? max_bytes : (2u << 20), &n, &lost);
	*mine = rd->buf;
	rd->buf = spare;
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
		struct wmsg *w = &sl->win[sl->nwin++];
		memset(w, 0, sizeof(*w));
		if (sb_rec_parse(mine->data + rec->boff, rec->len, &w->m)) {
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
	return n;
}

static struct sb_dstr dstr(const char *s) { return (struct sb_dstr){s, strlen(s)}; }

/* Moves up to max events from the memory queue into the slice. */
static void take_memory(struct dshard *sh, struct dwin *sl, size_t max)
{
	struct dsink *k = sh->k;
	size_t base = sl->nwin;
	pthread_mutex_lock(&sh->mu);
	while (sh->mcount && sl->nwin - base < max) {
		struct wmsg *w = &sl->win[sl->nwin++];
		memset(w, 0, sizeof(*w));
		w->origin = ORIGIN_MEM;
		w->ev = sh->mem[sh->mhead];
		sh->mhead = (sh->mhead + 1) % sh->mcap;
		sh->mcount--;
	}
	pthread_mutex_unlock(&sh->mu);
	for (size_t i = base; i < sl->nwin; i++) {
		struct wmsg *w = &sl->win[i];
		const struct sb_event *ev = w->ev;
		w->m.seq = sb_event_seq(ev);
		w->m.time_ns = ev->time_ns;
		w->m.run = dstr(sb_event_run(ev, k->s->ri->run));
		w->m.host = dstr(sb_event_host(ev, k->s->ri->host));
		w->m.source = dstr(ev->source);
		w->m.kind = dstr(ev->kind);
		w->m.codec = k->codec;
		w->body = sl->sbuf.len;
		k->codec->encode(&sl->sbuf, &sh->scc, ev);
		w->m.len = sl->sbuf.len - w->body;
	}
	/* the buffer may have moved while it grew */
	for (size_t i = base; i < sl->nwin; i++)
		sl->win[i].m.body = sl->sbuf.data + sl->win[i].body;
}

uint64_t dl_memory_queued(struct dshard *sh)
{
	pthread_mutex_lock(&sh->mu);
	uint64_t n = sh->mcount;
	pthread_mutex_unlock(&sh->mu);
	return n;
}

/* Fills the slice sl with what goes next; *wait > 0 if the token bucket
 * holds work back. */
void dl_fill_window(struct dshard *sh, struct dwin *sl, int64_t *wait)
{
	struct dsink *k = sh->k;
	const struct sb_delivery_cfg *c = k->cfg;
	size_t cap = sl->cap;
	sl->nwin = 0;
	sl->nb = 0;
	sb_buf_reset(&sl->sbuf);
	*wait = -1;
	bool caught_up = false;
	if (c->buffer == SB_BUF_MEMORY) {
		uint64_t unread = sb_spool_unread(sh->sp, 0, UINT64_MAX);
		caught_up = !unread;
		if (unread) {
			size_t want = unread < cap ? (size_t)unread : cap;
			if (c->replay == SB_REPLAY_BACKFILL)
				want = want > cap / 2 ? cap / 2 : want;
			size_t got = (size_t)take_tokens(k, want, wait);
			/* took all there was: the replay has caught up */
			caught_up = read_spool(sh, sl, &sh->rd_old, got, ORIGIN_OLD) == unread;
		}
		if (c->replay == SB_REPLAY_BACKFILL || !unread)
			take_memory(sh, sl, cap - sl->nwin);
	} else if (c->replay == SB_REPLAY_ORDERED) {
		size_t want = cap;
		uint64_t unread = 0;
		if (sh->replaying) {
			unread = sb_spool_unread(sh->sp, 0, UINT64_MAX);
			want = (size_t)take_tokens(k, unread < cap ? unread : cap, wait);
		}
		/* took all there was: the replay has caught up */
		size_t got = read_spool(sh, sl, &sh->rd_live, want, ORIGIN_LIVE);
		caught_up = sh->replaying && got == unread;
	} else {
		if (sh->replaying) {
			uint64_t unread = sb_spool_unread(sh->sp, 0, sh->backlog_hi);
			size_t want = unread < cap / 2 ? (size_t)unread : cap / 2;
			size_t got = (size_t)take_tokens(k, want, wait);
			caught_up = read_spool(sh, sl, &sh->rd_old, got, ORIGIN_OLD) == unread;
		}
		read_spool(sh, sl, &sh->rd_live, cap - sl->nwin, ORIGIN_LIVE);
	}
	for (size_t i = 0; i < sl->nwin; i++)
		sl->wptr[i] = &sl->win[i].m;
	sl->caught_up = caught_up;
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

/* batch_events > 1: groups the slice's events into messages of
 * consecutive events, bodies joined in bbuf the codec's way. Junk records
 * are in no message (they are done already). */
void dl_group_window(struct dshard *sh, struct dwin *sl)
{
	const struct sb_delivery_cfg *c = sh->k->cfg;
	size_t max = (size_t)c->batch_events;
	sl->nb = 0;
	sb_buf_reset(&sl->bbuf);
	size_t *boff = sl->bfirst; /* reused below: first the body offsets */
	for (size_t i = 0; i < sl->nwin; i++) {
		struct wmsg *w = &sl->win[i];
		if (w->junk)
			continue;
		struct sb_dmsg *m = sl->nb ? &sl->bmsg[sl->nb - 1] : NULL;
		if (!m || !joins(m, w, max, c->batch_bytes) || sl->win[i - 1].junk) {
			m = &sl->bmsg[sl->nb++];
			*m = w->m;
			m->nevents = 0;
			m->len = 0;
			m->state = SB_DMSG_UNSENT;
			boff[sl->nb - 1] = sl->bbuf.len;
		}
		sb_codec_batch_add(m->codec, &sl->bbuf, w->m.body, w->m.len);
		m->len = sl->bbuf.len - boff[sl->nb - 1];
		m->last_seq = w->m.seq;
		m->nevents++;
	}
	for (size_t j = 0; j < sl->nb; j++) {
		sl->bmsg[j].body = sl->bbuf.data + boff[j];
		sl->bptr[j] = &sl->bmsg[j];
	}
	/* now each message's first event: events of message j follow in win */
	for (size_t i = 0, j = 0; i < sl->nwin && j < sl->nb; i++) {
		if (sl->win[i].junk)
			continue;
		sl->bfirst[j] = i;
		/* A lone event goes as itself (an Event, a JSON object), as the
		 * message's type and id say, not as a batch of one. */
		if (sl->bmsg[j].nevents == 1) {
			sl->bmsg[j].body = sl->win[i].m.body;
			sl->bmsg[j].len = sl->win[i].m.len;
		}
		i += sl->bmsg[j].nevents - 1;
		j++;
	}
}

/* A batch message's outcome is each of its events' outcome. */
void dl_ungroup_window(struct dwin *sl)
{
	for (size_t j = 0; j < sl->nb; j++) {
		const struct sb_dmsg *m = &sl->bmsg[j];
		for (size_t i = sl->bfirst[j]; i < sl->bfirst[j] + m->nevents; i++) {
			sl->win[i].m.state = m->state;
			sl->win[i].m.sent_at = m->sent_at;
			sl->win[i].m.acked_at = m->acked_at;
		}
	}
}
