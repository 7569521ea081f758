/* Kernel-version differences, in one place. Every read here works on the
 * kernel the program is loaded on, whatever vmlinux.h was generated from. */
#ifndef SB_CORE_FIXES_BPF_H
#define SB_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/* Linux 5.14 renamed task_struct::state to __state (and made it unsigned). */
struct task_struct___pre514 {
	volatile long state;
} __attribute__((preserve_access_index));

/* Reads p->field: a direct (CO-RE relocated) load where p is a BTF pointer
 * the verifier trusts (tp_btf), bpf_probe_read_kernel otherwise (raw_tp).
 * btf is a compile-time constant in every caller, so each program keeps
 * only its own branch. */
#define SB_READ(btf, p, field) ((btf) ? (p)->field : BPF_CORE_READ(p, field))

static __always_inline long sb_task_state(bool btf, struct task_struct *p)
{
	if (bpf_core_field_exists(p->__state))
		return SB_READ(btf, p, __state);
	struct task_struct___pre514 *o = (void *)p;
	return SB_READ(btf, o, state);
}

/* include/linux/sched/signal.h; unchanged since 2.6. */
#define SB_SIGNAL_GROUP_EXIT 0x00000004

#endif
