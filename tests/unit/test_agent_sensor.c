/* The agent sensor on a real bus with a capturing sink: what it publishes
 * about sinks, sensors, itself and readiness. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sb_agent.h"
#include "sb_bus.h"
#include "sb_log.h"
#include "sb_sensor.h"
#include "sb_sink.h"

#define S SB_NSEC_PER_SEC

/* ---- a sink that keeps what it gets and reports what the test says ---- */

struct cap {
	struct sb_event *evs[16];
	size_t n;
	bool unhealthy;
	bool own_delivered; /* export sensorbus_sink_delivered_total itself */
};

static struct cap cap;

static enum sb_sink_status cap_write(struct sb_sink *s, unsigned shard, struct sb_event *const *evs,
				     size_t n, size_t *taken)
{
	(void)s;
	(void)shard;
	for (size_t i = 0; i < n && cap.n < SB_ARRAY_SIZE(cap.evs); i++)
		cap.evs[cap.n++] = sb_event_ref(evs[i]);
	*taken = n;
	return SB_SINK_OK;
}

static void cap_telemetry(struct sb_sink *s, struct sb_evb *b)
{
	if (cap.own_delivered) {
		sb_evb_sample(b, "sensorbus_sink_delivered_total", SB_COUNTER, 42);
		sb_evb_label(b, "sink", s->name);
	}
	sb_evb_sample(b, "sensorbus_sink_breaker_state", SB_GAUGE, 0);
	sb_evb_label(b, "sink", s->name);
}

static int cap_health(struct sb_sink *s)
{
	(void)s;
	return cap.unhealthy ? -EIO : 0;
}

static int cap_open(struct sb_sink *s)
{
	s->state = &cap;
	return 0;
}

static const struct sb_sink_ops cap_ops = {
    .name = "cap",
    .open = cap_open,
    .write = cap_write,
    .telemetry = cap_telemetry,
    .health = cap_health,
};

/* ---- fixture: bus + capturing sink + agent with two sensors ---- */

struct fx {
	struct sb_runinfo ri;
	struct sb_sink_conf sc;
	struct sb_agent a;
	struct sb_sensor agent, proc;
	struct sb_sensor *sensors[2];
	void *cfg;
	struct sb_event *ev; /* what the agent sensor published */
};

static void quiet(enum sb_log_level l, const char *line, void *arg)
{
	(void)l;
	(void)line;
	(void)arg;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	memset(&cap, 0, sizeof(cap));
	sb_log_set_hook(quiet, NULL);
	f->ri.interval = 1 * S;
	f->sc.ops = &cap_ops;
	f->sc.common = (struct sb_sink_common){
	    .name = "cap",
	    .queue_events = 64,
	    .queue_bytes = 1 << 20,
	    .batch = 16,
	    .flush_interval = 10 * SB_NSEC_PER_MSEC,
	    .workers = 1,
	    .shutdown_grace = 1 * S,
	    .retry = {.base = SB_NSEC_PER_MSEC, .max_delay = SB_NSEC_PER_MSEC},
	};
	f->a.bus = sb_bus_new(&f->ri);
	assert_int_equal(sb_bus_add_sink(f->a.bus, &f->sc), 0);
	assert_int_equal(sb_bus_start(f->a.bus), 0);

	const struct sb_sensor_ops *ops = sb_sensor_find("agent");
	assert_non_null(ops);
	f->cfg = calloc(1, ops->cfg_size);
	char err[256];
	const struct sb_cfg_key *t[1] = {ops->keys};
	void *d[1] = {f->cfg};
	assert_int_equal(sb_cfg_parse(NULL, "sensors.agent", t, d, 1, err, sizeof(err)), 0);
	f->agent = (struct sb_sensor){.ops = ops,
				      .name = "agent",
				      .cfg = f->cfg,
				      .ri = &f->ri,
				      .bus = f->a.bus,
				      .agent = &f->a,
				      .interval = 1 * S};
	sb_evb_init(&f->agent.evb);
	f->proc = (struct sb_sensor){.name = "proc", .interval = 1 * S};
	f->sensors[0] = &f->proc;
	f->sensors[1] = &f->agent;
	f->a.sensors = f->sensors;
	f->a.nsensors = 2;
	assert_int_equal(ops->init(&f->agent), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	f->agent.ops->destroy(&f->agent);
	sb_evb_free(&f->agent.evb);
	sb_bus_free(f->a.bus);
	for (size_t i = 0; i < cap.n; i++)
		sb_event_unref(cap.evs[i]);
	sb_cfg_free(f->agent.ops->keys, f->cfg);
	free(f->cfg);
	sb_log_set_hook(NULL, NULL);
	free(f);
	return 0;
}

/* One round of the agent sensor; returns the event it published. */
static const struct sb_event *round_of_agent(struct fx *f)
{
	f->agent.ops->collect(&f->agent);
	sb_bus_shutdown(f->a.bus); /* drains the queue into cap */
	assert_int_equal(cap.n, 1);
	assert_string_equal(cap.evs[0]->source, "agent");
	assert_string_equal(cap.evs[0]->kind, "metrics");
	return cap.evs[0];
}

/* The value of name{label=value} (label NULL: unlabelled); fails the test
 * when the series is missing or appears twice. */
static double value_of(const struct sb_event *ev, const char *name, const char *label,
		       const char *value)
{
	int found = 0;
	double v = 0;
	for (uint32_t i = 0; i < ev->nsamples; i++) {
		const struct sb_sample *s = &ev->samples[i];
		if (strcmp(s->name, name))
			continue;
		const char *l = label ? sb_sample_label(s, label) : NULL;
		if (label && (!l || strcmp(l, value)))
			continue;
		found++;
		v = s->value;
	}
	if (found != 1)
		fail_msg("%s{%s=%s}: %d samples, want 1", name, label ? label : "",
			 value ? value : "", found);
	return v;
}

static void a_sinks_own_series_replaces_the_bus_count(void **state)
{
	struct fx *f = *state;
	cap.own_delivered = true;
	const struct sb_event *ev = round_of_agent(f);
	assert_true(value_of(ev, "sensorbus_sink_delivered_total", "sink", "cap") == 42);
	/* what the sink does not export still comes from the bus */
	value_of(ev, "sensorbus_sink_received_total", "sink", "cap");
	value_of(ev, "sensorbus_sink_breaker_state", "sink", "cap");
}

static void counts_every_drop_reason_per_sink(void **state)
{
	struct fx *f = *state;
	const struct sb_event *ev = round_of_agent(f);
	static const char *const reasons[] = {"queue_full", "error", "retries", "shutdown"};
	for (size_t r = 0; r < SB_ARRAY_SIZE(reasons); r++)
		assert_true(value_of(ev, "sensorbus_sink_dropped_total", "reason", reasons[r]) ==
			    0);
}

static void an_unhealthy_sink_makes_the_agent_not_ready(void **state)
{
	struct fx *f = *state;
	f->proc.rounds = 1;
	cap.unhealthy = true;
	const struct sb_event *ev = round_of_agent(f);
	assert_true(value_of(ev, "sensorbus_sink_healthy", "sink", "cap") == 0);
	assert_true(value_of(ev, "sensorbus_sensor_running", "sensor", "proc") == 1);
	assert_true(value_of(ev, "sensorbus_ready", NULL, NULL) == 0);
}

static void a_sensor_without_a_round_is_not_running(void **state)
{
	struct fx *f = *state;
	const struct sb_event *ev = round_of_agent(f);
	assert_true(value_of(ev, "sensorbus_sensor_running", "sensor", "proc") == 0);
	assert_true(value_of(ev, "sensorbus_sensor_running", "sensor", "agent") == 1);
	assert_true(value_of(ev, "sensorbus_ready", NULL, NULL) == 0);
}

static void is_ready_when_sensors_run_and_sinks_are_healthy(void **state)
{
	struct fx *f = *state;
	f->proc.rounds = 3;
	const struct sb_event *ev = round_of_agent(f);
	assert_true(value_of(ev, "sensorbus_ready", NULL, NULL) == 1);
	assert_true(value_of(ev, "sensorbus_sensor_rounds_total", "sensor", "proc") == 3);
}

static void describes_the_agent_process_and_its_build(void **state)
{
	struct fx *f = *state;
	const struct sb_event *ev = round_of_agent(f);
	assert_true(value_of(ev, "process_resident_memory_bytes", NULL, NULL) > 0);
	assert_true(value_of(ev, "process_open_fds", NULL, NULL) > 0);
	assert_true(value_of(ev, "process_max_fds", NULL, NULL) > 0);
	assert_true(value_of(ev, "process_threads", NULL, NULL) >= 2); /* the sink's thread */
	assert_true(value_of(ev, "process_start_time_seconds", NULL, NULL) > 1.6e9);
	value_of(ev, "process_cpu_seconds_total", NULL, NULL);
	assert_true(value_of(ev, "sensorbus_build_info", "version", SB_VERSION) == 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(a_sinks_own_series_replaces_the_bus_count, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(counts_every_drop_reason_per_sink, setup, teardown),
	    cmocka_unit_test_setup_teardown(an_unhealthy_sink_makes_the_agent_not_ready, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(a_sensor_without_a_round_is_not_running, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(is_ready_when_sensors_run_and_sinks_are_healthy, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(describes_the_agent_process_and_its_build, setup,
					    teardown),
	};
	return cmocka_run_group_tests_name("agent_sensor", tests, NULL, NULL);
}
