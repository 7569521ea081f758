/* The agent: config in, loop + bus + sensors + sinks wired, run, drain. */
#ifndef SB_AGENT_H
#define SB_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "sb_config.h"
#include "sb_sensor.h"
#include "sb_sink.h"

struct sb_agent_opts {
	bool once;
	int64_t duration; /* 0: until a signal */
	int64_t once_timeout;
};

struct sb_agent {
	struct sb_config *cfg;
	struct sb_agent_opts opts;
	struct sb_runinfo ri;
	struct sb_loop *loop;
	struct sb_bus *bus;
	struct sb_sensor **sensors;
	size_t nsensors;
	struct sb_timer *stop_timer;
	int stop_fd; /* eventfd: a sink asked the agent to stop */
	int64_t started_mono;
	int exit_code;
	bool stopping;
};

/* Runs the agent to completion; returns the process exit code. */
int sb_agent_run(struct sb_config *cfg, const struct sb_agent_opts *opts);
/* The capabilities (SB_CAP bits) the enabled sensors and the sinks of cfg
 * use once set up: what the agent keeps. */
uint64_t sb_agent_caps_needed(const struct sb_config *cfg);
/* For sensors that report on the agent itself. */
struct sb_bus *sb_agent_bus(struct sb_agent *a);
/* The running sensors, for self-telemetry; read on the loop thread only. */
struct sb_sensor *const *sb_agent_sensors(const struct sb_agent *a, size_t *n);

#endif
