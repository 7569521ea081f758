/* Sensors: what produces events. A sensor is one row in the table in
 * registry.c and one file implementing these operations. All sensors run
 * on the collection loop's thread; none may block it. */
#ifndef SB_SENSOR_H
#define SB_SENSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "sb_config.h"
#include "sb_event.h"

struct sb_agent;
struct sb_loop;
struct sb_bus;
struct sb_timer;
struct sb_runinfo;

struct sb_sensor {
	const struct sb_sensor_ops *ops;
	const char *name;
	const void *cfg;
	const struct sb_runinfo *ri;
	struct sb_loop *loop;
	struct sb_bus *bus;
	struct sb_agent *agent;
	int64_t interval;  /* effective */
	struct sb_evb evb; /* a builder the sensor may reuse */
	struct sb_timer *timer;
	void *state;
	bool round_done; /* set by sb_sensor_round_done */
	bool finished;	 /* set by sb_sensor_finished */
	uint64_t rounds;
	uint64_t errors; /* read failures, for self-telemetry */
};

struct sb_sensor_ops {
	const char *name;
	const char *desc;
	const struct sb_cfg_key *keys;
	size_t cfg_size;
	/* The sensor's interval when its section sets none (0: the agent's
	 * global interval); e.g. algod's 5s. */
	int64_t default_interval;
	int (*validate)(const void *cfg, char *err, size_t errlen);
	/* Checks against the rest of the config (the sinks), when enabled;
	 * optional. */
	int (*check_config)(const void *cfg, const struct sb_config *all, char *err, size_t errlen);
	/* Reports on the other sensors (self-telemetry): never finishes on its
	 * own and does not keep the agent running once the others finished. */
	bool observer;
	/* Sets s->state. <0: the sensor cannot run (logged by the caller with
	 * the sensor's name; the agent exits 1). >0: disabled by its own
	 * decision, logged by the sensor itself (e.g. BPF fallback). */
	int (*init)(struct sb_sensor *s);
	/* One round, on the sensor's interval timer. A synchronous sensor
	 * publishes and calls sb_sensor_round_done before returning; an
	 * asynchronous one calls it when its round completes. */
	void (*collect)(struct sb_sensor *s);
	void (*destroy)(struct sb_sensor *s);
	/* The capabilities (SB_CAP bits) it still uses once init returned,
	 * given its config; optional (none). The agent keeps only those. */
	uint64_t (*caps)(const void *cfg);
	/* Adds the sensor's own samples to the agent's self-telemetry, on the
	 * loop thread; optional. */
	void (*telemetry)(struct sb_sensor *s, struct sb_evb *b);
};

const struct sb_sensor_ops *sb_sensor_find(const char *name);
const struct sb_sensor_ops *const *sb_sensor_table(size_t *n);

/* Publishes ev (consumed) on the agent's bus. */
int sb_sensor_publish(struct sb_sensor *s, struct sb_event *ev);
/* Finishes the sensor's builder and publishes it; counts a failure. */
int sb_sensor_publish_evb(struct sb_sensor *s);
void sb_sensor_round_done(struct sb_sensor *s);
/* The sensor has nothing more to produce (e.g. synthetic after `count`);
 * when every sensor has finished, the agent drains and exits. */
void sb_sensor_finished(struct sb_sensor *s);

#endif
