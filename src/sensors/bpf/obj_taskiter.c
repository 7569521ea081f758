/* bpf/taskiter.bpf.c's row: the task iterator, run on demand by the
 * process reader (taskiter.c), attached to nothing and publishing nothing
 * through the bpf sensor. */
#include <bpf/libbpf.h>

#include "sensor.h"

/* after sensor.h: the skeleton uses the types of sb_bpf.h */
#include "taskiter.skel.h"

static void *taskiter_open(const struct sb_bpf_open_opts *o, struct bpf_object **obj)
{
	(void)o;
	struct taskiter_bpf *skel = taskiter_bpf__open();
	if (!skel)
		return NULL;
	*obj = skel->obj;
	return skel;
}

static void taskiter_destroy(void *skel) { taskiter_bpf__destroy(skel); }

const struct sb_bpf_obj sb_bpf_obj_taskiter = {
    .name = "taskiter",
    .kind = SB_BPF_KIND_ITER,
    .open = taskiter_open,
    .destroy = taskiter_destroy,
    .walk_prog = "task_walk",
    /* task_walk's: its records, read in place; its globals (walk_ctl) */
    .maps = {"task_recs", "task_same", ".bss"},
};

_Static_assert(sizeof(*((struct taskiter_bpf *)0)->bss) == sizeof(struct sb_task_walk_ctl),
	       "taskiter.c writes .bss as the one struct sb_task_walk_ctl");
