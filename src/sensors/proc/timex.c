/* node_exporter's timex collector: the kernel clock discipline from
 * adjtimex(2) (modes 0: read only, no privilege needed). Always the live
 * kernel's: a fixture tree has no clock. Names, units and conversions are
 * node_exporter 1.5.0's. */
#include <errno.h>
#include <sys/timex.h>

#include "proc.h"

/* ppm with a 16-bit fraction (adjtimex(2), NOTES) */
#define PPM16FRAC (1000000.0 * 65536.0)

int sb_proc_timex_samples(struct sb_evb *b, const struct timex *tx, int state)
{
	/* offset and PPS jitter are in ns with STA_NANO, else in us */
	double div = (tx->status & STA_NANO) ? 1e9 : 1e6;
	const struct {
		const char *name;
		enum sb_mtype type;
		double v;
		const char *help;
	} s[] = {
	    {"node_timex_sync_status", SB_GAUGE, state == TIME_ERROR ? 0 : 1,
	     "Is clock synchronized to a reliable server (1 = yes, 0 = no)."},
	    {"node_timex_offset_seconds", SB_GAUGE, (double)tx->offset / div,
	     "Time offset in between local system and reference clock."},
	    {"node_timex_frequency_adjustment_ratio", SB_GAUGE, 1 + (double)tx->freq / PPM16FRAC,
	     "Local clock frequency adjustment."},
	    {"node_timex_maxerror_seconds", SB_GAUGE, (double)tx->maxerror / 1e6,
	     "Maximum error in seconds."},
	    {"node_timex_estimated_error_seconds", SB_GAUGE, (double)tx->esterror / 1e6,
	     "Estimated error in seconds."},
	    {"node_timex_status", SB_GAUGE, (double)tx->status, "Value of the status array bits."},
	    {"node_timex_loop_time_constant", SB_GAUGE, (double)tx->constant,
	     "Phase-locked loop time constant."},
	    {"node_timex_tick_seconds", SB_GAUGE, (double)tx->tick / 1e6,
	     "Seconds between clock ticks."},
	    {"node_timex_pps_frequency_hertz", SB_GAUGE, (double)tx->ppsfreq / PPM16FRAC,
	     "Pulse per second frequency."},
	    {"node_timex_pps_jitter_seconds", SB_GAUGE, (double)tx->jitter / div,
	     "Pulse per second jitter."},
	    {"node_timex_pps_shift_seconds", SB_GAUGE, (double)tx->shift,
	     "Pulse per second interval duration."},
	    {"node_timex_pps_stability_hertz", SB_GAUGE, (double)tx->stabil / PPM16FRAC,
	     "Pulse per second stability, average of recent frequency changes."},
	    {"node_timex_pps_jitter_total", SB_COUNTER, (double)tx->jitcnt,
	     "Pulse per second count of jitter limit exceeded events."},
	    {"node_timex_pps_calibration_total", SB_COUNTER, (double)tx->calcnt,
	     "Pulse per second count of calibration intervals."},
	    {"node_timex_pps_error_total", SB_COUNTER, (double)tx->errcnt,
	     "Pulse per second count of calibration errors."},
	    {"node_timex_pps_stability_exceeded_total", SB_COUNTER, (double)tx->stbcnt,
	     "Pulse per second count of stability limit exceeded events."},
	    {"node_timex_tai_offset_seconds", SB_GAUGE, (double)tx->tai,
	     "International Atomic Time (TAI) offset."},
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(s); i++) {
		sb_evb_sample(b, s[i].name, s[i].type, s[i].v);
		sb_evb_help(b, s[i].help);
	}
	return (int)SB_ARRAY_SIZE(s);
}

/* ---- the collector ---- */

static int timex_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	(void)c;
	struct timex tx = {0}; /* modes 0: read, never set */
	int state = adjtimex(&tx);
	if (state < 0) {
		int r = -errno;
		/* node_exporter: a refusal (seccomp, a sandbox) is "no data" */
		if (r == -EPERM || r == -EACCES)
			return 0;
		st->errors++;
		sb_warn(st->comp, "adjtimex(2): %s", strerror(-r));
		return r;
	}
	sb_proc_timex_samples(b, &tx, state);
	return 0;
}

const struct sb_proc_collector sb_proc_collector_timex = {
    .name = "timex",
    .default_on = true,
    .collect = timex_collect,
};
