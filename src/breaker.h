/* A circuit breaker (closed -> open after N consecutive failures -> after
 * a cooldown one probe is let through (half-open) -> its success closes,
 * its failure opens again). Pure state: the caller serialises calls and
 * passes the time, so tests drive it with a fake clock. */
#ifndef SB_BREAKER_H
#define SB_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

enum sb_breaker_state {
	SB_BREAKER_CLOSED = 0, /* the values are the metric's */
	SB_BREAKER_HALF_OPEN = 1,
	SB_BREAKER_OPEN = 2,
};

enum sb_breaker_verdict {
	SB_BREAKER_PASS,  /* closed: send */
	SB_BREAKER_PROBE, /* the caller is the one probe of a half-open breaker */
	SB_BREAKER_WAIT,  /* open, or another caller probes: send nothing */
};

struct sb_breaker {
	unsigned threshold; /* consecutive failures that open it */
	int64_t cooldown;   /* open this long before a probe */
	int state;	    /* enum sb_breaker_state */
	unsigned failures;  /* consecutive, while closed */
	int64_t opened_at;
	uint64_t opened; /* times it opened */
};

const char *sb_breaker_state_name(int state);
void sb_breaker_init(struct sb_breaker *b, unsigned threshold, int64_t cooldown);
/* May the caller send now? On WAIT, *wait_ns says how long until asking
 * again is worth it. */
enum sb_breaker_verdict sb_breaker_ask(struct sb_breaker *b, int64_t now, int64_t *wait_ns);
/* Report an attempt's outcome; probe: it was let through by PROBE.
 * Return true when the state changed. */
bool sb_breaker_success(struct sb_breaker *b, bool probe);
bool sb_breaker_failure(struct sb_breaker *b, int64_t now, bool probe);
/* Opens at once (a batch that exhausted its retries). */
bool sb_breaker_trip(struct sb_breaker *b, int64_t now);

#endif
