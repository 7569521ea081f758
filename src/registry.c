/* The one place sensors and sinks are registered: adding one is a new file
 * and a row here. */
#include <string.h>

#include "sb_sensor.h"
#include "sb_sink.h"
#include "sb_util.h"

extern const struct sb_sensor_ops sb_sensor_algod;
extern const struct sb_sensor_ops sb_sensor_bpf;
extern const struct sb_sensor_ops sb_sensor_proc;
extern const struct sb_sensor_ops sb_sensor_scrape;
extern const struct sb_sensor_ops sb_sensor_synthetic;
extern const struct sb_sensor_ops sb_sensor_agent;
extern const struct sb_sensor_ops sb_sensor_amqp;

extern const struct sb_sink_ops sb_sink_file;
extern const struct sb_sink_ops sb_sink_stdout;
extern const struct sb_sink_ops sb_sink_null;
extern const struct sb_sink_ops sb_sink_prom;
extern const struct sb_sink_ops sb_sink_amqp;
extern const struct sb_sink_ops sb_sink_remote_write;

static const struct sb_sensor_ops *const sensors[] = {
    &sb_sensor_proc,   &sb_sensor_bpf,	 &sb_sensor_synthetic, &sb_sensor_algod,
    &sb_sensor_scrape, &sb_sensor_agent, &sb_sensor_amqp,
};

static const struct sb_sink_ops *const sinks[] = {
    &sb_sink_file, &sb_sink_stdout, &sb_sink_null,
    &sb_sink_prom, &sb_sink_amqp,   &sb_sink_remote_write,
};

const struct sb_sensor_ops *const *sb_sensor_table(size_t *n)
{
	*n = SB_ARRAY_SIZE(sensors);
	return sensors;
}

const struct sb_sensor_ops *sb_sensor_find(const char *name)
{
	for (size_t i = 0; i < SB_ARRAY_SIZE(sensors); i++)
		if (!strcmp(sensors[i]->name, name))
			return sensors[i];
	return NULL;
}

const struct sb_sink_ops *const *sb_sink_table(size_t *n)
{
	*n = SB_ARRAY_SIZE(sinks);
	return sinks;
}

const struct sb_sink_ops *sb_sink_find(const char *name)
{
	for (size_t i = 0; i < SB_ARRAY_SIZE(sinks); i++)
		if (!strcmp(sinks[i]->name, name))
			return sinks[i];
	return NULL;
}
