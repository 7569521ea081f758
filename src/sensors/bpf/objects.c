/* The table of BPF objects (objects.h) and the maps they all declare. */
#include "objects.h"

#define SB_BPF_OBJ_ROW(name) &sb_bpf_obj_##name,
const struct sb_bpf_obj *const sb_bpf_objs[SB_BPF_NOBJ] = {SB_BPF_OBJECTS(SB_BPF_OBJ_ROW)};

const char *const sb_bpf_shared_maps[] = {"task_ctx", "task_ctx_tid", "watch_names", "watch_hint",
					  "procs",    "proc_stats",   NULL};

const char *const sb_bpf_common_maps[SB_COMMON_MAX] = {
    [SB_COMMON_PROCS] = "procs",
    [SB_COMMON_PROC_STATS] = "proc_stats",
};
