/* The synthetic sensor: N events per second with M samples each, for tests
 * and benchmarks of the bus and the sinks. rate 0 publishes as fast as the
 * sinks take events: never more than the bus has room for (the loop never
 * waits on a sink, so the generator paces itself). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "sb_bus.h"
#include "sb_log.h"
#include "sb_loop.h"
#include "sb_sensor.h"

struct synth_cfg {
	int64_t rate;
	int64_t samples;
	int64_t labels;
	int64_t count;
	int64_t tick;
	bool exit_when_done;
};

struct synth_state {
	int64_t start;
	uint64_t sent;
	char names[64][32];
};

static const struct sb_cfg_key synth_keys[] = {
    {"rate", SB_CT_INT, offsetof(struct synth_cfg, rate), "1000",
     "events per second (0: as fast as the bus takes them)", .min = 0, .max = 1e9},
    {"samples", SB_CT_INT, offsetof(struct synth_cfg, samples), "10", "samples per event", .min = 0,
     .max = 100000},
    {"labels", SB_CT_INT, offsetof(struct synth_cfg, labels), "1", "labels per sample (at most 64)",
     .min = 0, .max = 64},
    {"count", SB_CT_INT, offsetof(struct synth_cfg, count), "0",
     "stop after this many events (0: never)", .min = 0, .max = 1e15},
    {"tick", SB_CT_DURATION, offsetof(struct synth_cfg, tick), "10ms",
     "how often due events are published", .min = 0.0001, .max = 60},
    {"exit_when_done", SB_CT_BOOL, offsetof(struct synth_cfg, exit_when_done), "false",
     "after `count` events, stop the agent (drain, flush, exit) once no other sensor runs"},
    {0},
};

static int synth_init(struct sb_sensor *s)
{
	const struct synth_cfg *c = s->cfg;
	struct synth_state *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	for (int i = 0; i < 64; i++)
		snprintf(st->names[i], sizeof(st->names[i]), "l%d", i);
	s->state = st;
	s->interval = c->tick;
	return 0;
}

static void publish_one(struct sb_sensor *s, struct synth_state *st)
{
	const struct synth_cfg *c = s->cfg;
	struct sb_evb *b = &s->evb;
	char v[24];
	sb_evb_begin(b, "synthetic", "metrics");
	sb_evb_field_uint(b, "n", st->sent + 1);
	for (int64_t i = 0; i < c->samples; i++) {
		sb_evb_sample(b, "sensorbus_synthetic_value", SB_COUNTER,
			      (double)(st->sent * (uint64_t)c->samples + (uint64_t)i) + 0.5);
		for (int64_t l = 0; l < c->labels; l++) {
			size_t n = sb_fmt_i64(v, i + l);
			sb_evb_labeln(b, st->names[l], l < 10 ? 2 : 3, v, n);
		}
	}
	st->sent++;
	sb_sensor_publish_evb(s);
}

static void synth_collect(struct sb_sensor *s)
{
	const struct synth_cfg *c = s->cfg;
	struct synth_state *st = s->state;
	int64_t now = sb_now_mono_ns();
	if (!st->start)
		st->start = now - c->tick;
	uint64_t due;
	size_t room = 0;
	if (c->rate == 0) {
		room = sb_bus_room(s->bus);
		due = st->sent + (room < 1000 ? room : 1000);
	} else
		due = (uint64_t)((double)(now - st->start) * (double)c->rate / 1e9);
	if (c->count && due > (uint64_t)c->count)
		due = (uint64_t)c->count;
	while (st->sent < due)
		publish_one(s, st);
	if (c->count && st->sent >= (uint64_t)c->count) {
		sb_sensor_round_done(s);
		if (c->exit_when_done)
			sb_sensor_finished(s);
		else
			sb_timer_set(s->timer, 0, 0);
		return;
	}
	if (!c->count)
		sb_sensor_round_done(s);
	if (c->rate == 0) /* at once while the sinks keep up, else in a moment */
		sb_timer_set(s->timer, room ? 1 : SB_NSEC_PER_MSEC, c->tick);
}

static void synth_destroy(struct sb_sensor *s)
{
	free(s->state);
	s->state = NULL;
}

const struct sb_sensor_ops sb_sensor_synthetic = {
    .name = "synthetic",
    .desc = "generated events at a fixed rate, for tests and benchmarks",
    .keys = synth_keys,
    .cfg_size = sizeof(struct synth_cfg),
    .init = synth_init,
    .collect = synth_collect,
    .destroy = synth_destroy,
};
