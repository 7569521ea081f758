/* The bpf sensor's keys, built with and without BPF support (config.h). */
#include "config.h"

#include <errno.h>
#include <linux/types.h>
#include <stdio.h>

#include "sb_bpf.h"
#include "sb_util.h"

static const char *const enabled_choices[] = {"auto", "true", "false", NULL};

const struct sb_cfg_key sb_bpf_cfg_keys[] = {
    {"enabled", SB_CT_ENUM, offsetof(struct sb_bpf_cfg, enabled), "auto",
     "load the BPF programs: auto (where the kernel and privileges allow, else procfs-only), "
     "true (the same, but failing to is an error), false",
     .choices = enabled_choices},
    {"watch", SB_CT_STRLIST, offsetof(struct sb_bpf_cfg, watch), NULL,
     "processes to follow per process: names (comm, on its 15 bytes, else argv[0] basename: "
     "as the proc sensor's processes) or pids"},
    {"event_latency", SB_CT_DURATION, offsetof(struct sb_bpf_cfg, event_latency), "1s",
     "longest an exec, exit or fork event waits in the kernel's ring buffer before the agent "
     "takes it (each wakeup costs tens of microseconds in a VM)",
     .min = 0.001, .max = 60},
    {0},
};

int sb_bpf_cfg_validate(const void *cfg, char *err, size_t errlen)
{
	const struct sb_bpf_cfg *c = cfg;
	if (c->watch.n > SB_WATCH_MAX) {
		snprintf(err, errlen, "watch: at most %d entries, got %zu", SB_WATCH_MAX,
			 c->watch.n);
		return -EINVAL;
	}
	for (size_t i = 0; i < c->watch.n; i++) {
		const char *w = c->watch.v[i];
		uint64_t pid;
		if (!*w) {
			snprintf(err, errlen, "watch[%zu]: empty name", i);
			return -EINVAL;
		}
		if (sb_parse_u64(w, &pid) == 0 && (pid == 0 || pid > 4194304)) {
			snprintf(err, errlen, "watch[%zu]: pid %s out of range (1..4194304)", i, w);
			return -EINVAL;
		}
	}
	return 0;
}
