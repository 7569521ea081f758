#include "sb_backoff.h"

#include <string.h>

#include "sb_util.h"

static void refill(struct sb_tbucket *t, int64_t now)
{
	if (now > t->last) {
		t->tokens += (double)(now - t->last) * t->rate / 1e9;
		if (t->tokens > t->burst)
			t->tokens = t->burst;
	}
	t->last = now;
}

void sb_tbucket_init(struct sb_tbucket *t, double rate, double burst, int64_t now)
{
	t->rate = rate;
	t->burst = burst < 1 ? 1 : burst;
	t->tokens = t->burst;
	t->last = now;
}

void sb_tbucket_empty(struct sb_tbucket *t, int64_t now)
{
	t->tokens = 0;
	t->last = now;
}

uint64_t sb_tbucket_take(struct sb_tbucket *t, uint64_t want, int64_t now)
{
	if (t->rate <= 0)
		return want;
	refill(t, now);
	uint64_t have = (uint64_t)t->tokens;
	uint64_t got = want < have ? want : have;
	t->tokens -= (double)got;
	return got;
}

uint64_t sb_tbucket_take_batch(struct sb_tbucket *t, uint64_t atleast, uint64_t want, int64_t now)
{
	if (atleast > want)
		atleast = want;
	if (sb_tbucket_delay(t, atleast, now))
		return 0;
	return sb_tbucket_take(t, want, now);
}

int64_t sb_tbucket_delay(struct sb_tbucket *t, uint64_t n, int64_t now)
{
	if (t->rate <= 0)
		return 0;
	refill(t, now);
	double want = (double)n > t->burst ? t->burst : (double)n;
	if (t->tokens >= want)
		return 0;
	return (int64_t)((want - t->tokens) * 1e9 / t->rate) + 1;
}

void sb_pacer_init(struct sb_tbucket *t, double rate, int64_t now)
{
	/* 200 ms worth: a sender waiting out a round trip takes no tokens, and
	 * what a full bucket cannot hold is lost to the rate (50 ms worth held
	 * 5000/s to 2.9k/s against an 85 ms confirm round trip) */
	sb_tbucket_init(t, rate, rate / 5, now);
}

uint64_t sb_pacer_take(struct sb_tbucket *t, uint64_t want, int64_t now, int64_t *wait)
{
	/* each batch costs a round trip (and a broker an fsync): at least
	 * 100 ms worth, or all that is asked */
	uint64_t need = (uint64_t)(t->burst / 2);
	if (!need)
		need = 1;
	if (need > want)
		need = want;
	uint64_t got = sb_tbucket_take_batch(t, need, want, now);
	*wait = got ? 0 : sb_tbucket_delay(t, need, now);
	return got;
}

void sb_peak_init(struct sb_peak *p)
{
	memset(p, 0, sizeof(*p));
	p->sec = -1;
}

static void close_second(struct sb_peak *p)
{
	if (p->sec < 0)
		return;
	size_t i = (size_t)(p->sec % SB_PEAK_SECS);
	p->rate[i] = (double)p->count;
	p->at[i] = p->sec;
}

void sb_peak_add(struct sb_peak *p, uint64_t n, int64_t now)
{
	int64_t sec = now / SB_NSEC_PER_SEC;
	if (sec != p->sec) {
		close_second(p);
		p->sec = sec;
		p->count = 0;
	}
	p->count += n;
}

double sb_peak_rate(struct sb_peak *p, int64_t now)
{
	int64_t sec = now / SB_NSEC_PER_SEC;
	if (sec != p->sec) {
		close_second(p);
		p->sec = sec;
		p->count = 0;
	}
	double peak = 0;
	for (size_t i = 0; i < SB_PEAK_SECS; i++)
		if (p->at[i] > sec - SB_PEAK_SECS && p->at[i] < sec && p->rate[i] > peak)
			peak = p->rate[i];
	return peak;
}

int64_t sb_backoff_full_jitter(int64_t base, int64_t cap, unsigned attempt, uint64_t rnd)
{
	int64_t ceil = base;
	for (unsigned i = 0; i < attempt && ceil < cap; i++)
		ceil = ceil > INT64_MAX / 2 ? INT64_MAX : ceil * 2;
	if (ceil > cap)
		ceil = cap;
	if (ceil <= 0)
		return 0;
	return (int64_t)(rnd % ((uint64_t)ceil + 1));
}

void sb_backoff_update(struct sb_backoff *b, bool answered, bool overloaded, int64_t retry_after_ns,
		       int64_t interval_ns)
{
	if (!answered)
		return; /* no answer says nothing about the server's load */
	if (!overloaded) {
		b->fails = 0;
		b->skip = 0;
		return;
	}
	if (interval_ns <= 0)
		interval_ns = SB_NSEC_PER_SEC;
	int64_t cap = 300 * SB_NSEC_PER_SEC / interval_ns;
	if (cap < 1)
		cap = 1;
	b->fails++;
	int64_t skip = b->fails > 16 ? cap : (int64_t)1 << (b->fails - 1);
	if (skip > cap)
		skip = cap;
	if (retry_after_ns > 0) {
		int64_t ra = retry_after_ns > 3600 * SB_NSEC_PER_SEC ? 3600 * SB_NSEC_PER_SEC
								     : retry_after_ns;
		int64_t ra_rounds = (ra + interval_ns - 1) / interval_ns - 1;
		if (ra_rounds > skip)
			skip = ra_rounds;
	}
	b->skip = (unsigned)skip;
}

bool sb_backoff_skip(struct sb_backoff *b)
{
	if (!b->skip)
		return false;
	b->skip--;
	return true;
}
