/* The bpf sensor in a build without BPF support (make BPF=0): it exists, so
 * configs that name it stay valid, and says once that it cannot run. The
 * real one is src/bpf/bpf_sensor.c. */
#ifndef SB_HAVE_BPF
#include "sb_log.h"
#include "sb_sensor.h"

struct bpf_stub_cfg {
	int enabled;
	struct sb_strlist watch;
	int64_t event_latency;
};

static const char *const enabled_choices[] = {"auto", "true", "false", NULL};

static const struct sb_cfg_key bpf_stub_keys[] = {
	{"enabled", SB_CT_ENUM, offsetof(struct bpf_stub_cfg, enabled), "auto",
	 "load the BPF programs (this build has none)", .choices = enabled_choices},
	{"watch", SB_CT_STRLIST, offsetof(struct bpf_stub_cfg, watch), NULL,
	 "processes to follow (unused in this build)"},
	{"event_latency", SB_CT_DURATION, offsetof(struct bpf_stub_cfg, event_latency), "1s",
	 "longest an exec, exit or fork event waits (unused in this build)", .min = 0.001,
	 .max = 60},
	{0},
};

static int bpf_stub_init(struct sb_sensor *s)
{
	const struct bpf_stub_cfg *c = s->cfg;
	sb_log(c->enabled == 1 ? SB_LOG_ERROR : SB_LOG_WARN, "sensor:bpf",
	       "built without BPF support: procfs-only");
	return 1;
}

const struct sb_sensor_ops sb_sensor_bpf = {
	.name = "bpf",
	.desc = "eBPF metrics and events (not in this build: make BPF=1)",
	.keys = bpf_stub_keys,
	.cfg_size = sizeof(struct bpf_stub_cfg),
	.init = bpf_stub_init,
};
#endif
