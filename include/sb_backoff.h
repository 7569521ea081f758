/* Backing off and pacing, for every part that retries or paces: the
 * full-jitter retry delay (the bus, the delivery layer), round skipping for
 * periodic jobs against an overloaded server (the scrapes), a token bucket
 * for replay rates and a sliding peak of an input rate. Pure state; the
 * caller serialises calls and passes the (monotonic) time, so tests use a
 * fake clock. */
#ifndef SB_BACKOFF_H
#define SB_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

/* Full-jitter exponential backoff (Fluent Bit, AWS): a uniform draw in
 * [0, min(cap, base * 2^attempt)]. rnd is a uniform random 64-bit value. */
int64_t sb_backoff_full_jitter(int64_t base, int64_t cap, unsigned attempt, uint64_t rnd);

/* Skipping whole rounds of a periodic job while its server says it is
 * overloaded: 1, 2, 4, ... rounds per overloaded answer in a row, up to
 * about 5 minutes, and at least as long as its Retry-After. Any other
 * answer resets it; no answer at all (refused, timed out) leaves it. */
struct sb_backoff {
	unsigned fails;
	unsigned skip; /* rounds still to skip */
};
void sb_backoff_update(struct sb_backoff *b, bool answered, bool overloaded, int64_t retry_after_ns,
		       int64_t interval_ns);
/* At a round's start: true (and one round fewer to skip) while backing off. */
bool sb_backoff_skip(struct sb_backoff *b);

struct sb_tbucket {
	double rate;  /* tokens per second; 0: unlimited */
	double burst; /* most tokens held */
	double tokens;
	int64_t last;
};

/* Starts full. */
void sb_tbucket_init(struct sb_tbucket *t, double rate, double burst, int64_t now);
/* Drops the tokens held: what comes next is paced from now. */
void sb_tbucket_empty(struct sb_tbucket *t, int64_t now);
/* Takes up to want whole tokens; returns how many it got. */
uint64_t sb_tbucket_take(struct sb_tbucket *t, uint64_t want, int64_t now);
/* The same, but nothing unless at least min(atleast, want, burst) are
 * there: a sender paying a round trip per batch must not be paced into
 * batches of a few tokens each. */
uint64_t sb_tbucket_take_batch(struct sb_tbucket *t, uint64_t atleast, uint64_t want, int64_t now);
/* Nanoseconds until n tokens (at most the burst) are there. */
int64_t sb_tbucket_delay(struct sb_tbucket *t, uint64_t n, int64_t now);

/* A bucket pacing a sender that pays a round trip per batch (a window of
 * publisher confirms) at rate items/s (0: unlimited). Empty it with
 * sb_tbucket_empty when a new run of sending starts, so tokens saved up
 * while idle never make a burst. */
void sb_pacer_init(struct sb_tbucket *t, double rate, int64_t now);
/* Up to want items; or 0, and *wait set to the nanoseconds until a batch
 * worth its round trip is there. */
uint64_t sb_pacer_take(struct sb_tbucket *t, uint64_t want, int64_t now, int64_t *wait);

/* The highest per-second rate of a counter over the last SB_PEAK_SECS. */
#define SB_PEAK_SECS 300
struct sb_peak {
	int64_t sec;	/* the second being counted */
	uint64_t count; /* in it */
	double rate[SB_PEAK_SECS];
	int64_t at[SB_PEAK_SECS];
};
void sb_peak_init(struct sb_peak *p);
void sb_peak_add(struct sb_peak *p, uint64_t n, int64_t now);
/* Events/s of the busiest whole second in the window ending at now. */
double sb_peak_rate(struct sb_peak *p, int64_t now);

#endif
