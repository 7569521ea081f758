/* The bpf sensor in a build without BPF support (make BPF=0): it exists, so
 * configs that name it stay valid (the same keys, config.c), and says once
 * that it cannot run. The real one is sensor.c. */
#include <errno.h>
#include <stdio.h>

#include "config.h"
#include "sb_taskiter.h"
#include "sb_log.h"
#include "sb_sensor.h"

static int bpf_stub_init(struct sb_sensor *s)
{
	const struct sb_bpf_cfg *c = s->cfg;
	sb_log(c->enabled == SB_BPF_ENABLED_TRUE ? SB_LOG_ERROR : SB_LOG_WARN, "sensor:bpf",
	       "built without BPF support: procfs-only");
	return 1;
}

const struct sb_sensor_ops sb_sensor_bpf = {
    .name = "bpf",
    .desc = "eBPF metrics and events (not in this build: make BPF=1)",
    .keys = sb_bpf_cfg_keys,
    .cfg_size = sizeof(struct sb_bpf_cfg),
    .validate = sb_bpf_cfg_validate,
    .init = bpf_stub_init,
};

/* The process reader's task iterator: not in this build. */
int sb_taskiter_open(struct sb_taskiter **out, char *why, size_t whylen)
{
	*out = NULL;
	snprintf(why, whylen, "built without BPF support");
	return -ENOTSUP;
}

int sb_taskiter_begin(struct sb_taskiter *ti)
{
	(void)ti;
	return -ENOTSUP;
}

int sb_taskiter_step(struct sb_taskiter *ti, size_t max_bytes)
{
	(void)ti;
	(void)max_bytes;
	return -ENOTSUP;
}

const struct sb_taskfold *sb_taskiter_fold(const struct sb_taskiter *ti)
{
	(void)ti;
	return NULL;
}

void sb_taskiter_close(struct sb_taskiter *ti) { (void)ti; }
