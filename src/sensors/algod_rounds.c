/* The recent average time per round, for turning rounds into time (a
 * key's rounds remaining into days). It has changed over the years, so it
 * is measured on the node itself: each status gives the round last
 * committed and how long ago, hence when it was committed; the average is
 * the time between the oldest and newest such point in the window divided
 * by the rounds between them. */
#include "algod.h"
#include "sb_util.h"

#define DEFAULT_WINDOW_NS (600 * SB_NSEC_PER_SEC)

static size_t idx(const struct sb_algod_rounds *r, size_t i)
{
	return (r->head + i) % SB_ALGOD_ROUNDS_MAX;
}

void sb_algod_rounds_note(struct sb_algod_rounds *r, int64_t now_ns, double last_round,
			  double since_s, bool synced)
{
	if (!synced) {
		r->n = 0;
		return;
	}
	/* past 31 years (or not a number) is no commit time: the sums below
	 * stay in int64 */
	if (!(since_s >= 0 && since_s < 1e9))
		return;
	int64_t t = now_ns - (int64_t)(since_s * 1e9);
	if (r->n) {
		double newest = r->p[idx(r, r->n - 1)].round;
		if (last_round < newest) { /* a node rebuilt or replaced */
			r->n = 0;
		} else if (last_round == newest) {
			return; /* the same round seen again: its commit time is known */
		}
	}
	int64_t window = r->window_ns ? r->window_ns : DEFAULT_WINDOW_NS;
	while (r->n && t - r->p[r->head].t_ns > window) {
		r->head = idx(r, 1);
		r->n--;
	}
	if (r->n == SB_ALGOD_ROUNDS_MAX) {
		r->head = idx(r, 1);
		r->n--;
	}
	r->p[idx(r, r->n)].t_ns = t;
	r->p[idx(r, r->n)].round = last_round;
	r->n++;
}

bool sb_algod_rounds_avg(const struct sb_algod_rounds *r, double *seconds)
{
	if (r->n < 2)
		return false;
	double rounds = r->p[idx(r, r->n - 1)].round - r->p[r->head].round;
	int64_t dt = r->p[idx(r, r->n - 1)].t_ns - r->p[r->head].t_ns;
	/* two rounds at least: one round's time is mostly the clocks' jitter */
	if (rounds < 2 || dt <= 0)
		return false;
	*seconds = (double)dt / 1e9 / rounds;
	return true;
}
