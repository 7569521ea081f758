/* The bpf sensor's config: one key table for the real sensor and for its
 * stub (make BPF=0), so a config means the same in both builds. */
#ifndef SB_BPF_CONFIG_H
#define SB_BPF_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "sb_sensor.h"

enum { SB_BPF_ENABLED_AUTO, SB_BPF_ENABLED_TRUE, SB_BPF_ENABLED_FALSE };

struct sb_bpf_cfg {
	int enabled; /* SB_BPF_ENABLED_* */
	struct sb_strlist watch;
	int64_t event_latency;
};

extern const struct sb_cfg_key sb_bpf_cfg_keys[];

/* The watch list: at most SB_WATCH_MAX entries, no empty name, pids in the
 * kernel's range. */
int sb_bpf_cfg_validate(const void *cfg, char *err, size_t errlen);

#endif
