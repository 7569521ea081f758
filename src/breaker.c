#include "breaker.h"

static const char *const names[] = {"closed", "half-open", "open"};

const char *sb_breaker_state_name(int state)
{
	return state >= 0 && state <= 2 ? names[state] : "unknown";
}

void sb_breaker_init(struct sb_breaker *b, unsigned threshold, int64_t cooldown)
{
	*b = (struct sb_breaker){.threshold = threshold ? threshold : 1, .cooldown = cooldown};
}

static bool open_now(struct sb_breaker *b, int64_t now)
{
	b->state = SB_BREAKER_OPEN;
	b->opened_at = now;
	b->failures = 0;
	b->opened++;
	return true;
}

enum sb_breaker_verdict sb_breaker_ask(struct sb_breaker *b, int64_t now, int64_t *wait_ns)
{
	switch (b->state) {
	case SB_BREAKER_CLOSED:
		return SB_BREAKER_PASS;
	case SB_BREAKER_OPEN:
		if (now - b->opened_at >= b->cooldown) {
			b->state = SB_BREAKER_HALF_OPEN;
			return SB_BREAKER_PROBE;
		}
		*wait_ns = b->opened_at + b->cooldown - now;
		return SB_BREAKER_WAIT;
	default:
		/* The probe answers within its own timeouts; look again soon. */
		*wait_ns = b->cooldown / 10 + 1;
		return SB_BREAKER_WAIT;
	}
}

bool sb_breaker_success(struct sb_breaker *b, bool probe)
{
	if (b->state == SB_BREAKER_CLOSED) {
		b->failures = 0;
		return false;
	}
	/* A straggler that succeeds while open proves little: only the probe
	 * closes it. */
	if (b->state == SB_BREAKER_HALF_OPEN && probe) {
		b->state = SB_BREAKER_CLOSED;
		b->failures = 0;
		return true;
	}
	return false;
}

bool sb_breaker_failure(struct sb_breaker *b, int64_t now, bool probe)
{
	if (b->state == SB_BREAKER_CLOSED) {
		if (++b->failures >= b->threshold)
			return open_now(b, now);
		return false;
	}
	if (b->state == SB_BREAKER_HALF_OPEN && probe)
		return open_now(b, now);
	return false;
}

bool sb_breaker_trip(struct sb_breaker *b, int64_t now)
{
	if (b->state == SB_BREAKER_OPEN)
		return false;
	return open_now(b, now);
}
