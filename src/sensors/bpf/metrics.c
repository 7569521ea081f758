/* Each interval: the sensor's status, then every object's samples from its
 * maps (obj_*.c) and the watched processes' (watch.c). The maps are
 * aggregates the kernel keeps cumulative; nothing is reset on read. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sensor.h"

void sb_bpf_status_samples(struct sb_evb *b, unsigned want, unsigned attached, bool capable,
			   enum sb_bpf_reason active)
{
	for (int i = 0; i < SB_TP_MAX; i++) {
		if (!(want & SB_TP_BIT(i)))
			continue;
		sb_evb_sample(b, "sensorbus_bpf_program_attached", SB_GAUGE,
			      (attached & SB_TP_BIT(i)) ? 1 : 0);
		sb_evb_help(b, "1 when the BPF program on this tracepoint is attached");
		sb_evb_label(b, "program", sb_bpf_tp_names[i]);
	}
	sb_evb_sample(b, "sensorbus_bpf_kernel_capable", SB_GAUGE, capable ? 1 : 0);
	sb_evb_help(b, "1 when the kernel has BTF and BPF ring buffers");
	/* One series per reason, 1 for the one in effect: alerts need not know
	 * which reasons exist, and a fixed set never goes stale. */
	for (int r = SB_BPF_OK + 1; r < SB_BPF_REASON_MAX; r++) {
		sb_evb_sample(b, "sensorbus_bpf_fallback", SB_GAUGE, r == (int)active ? 1 : 0);
		sb_evb_help(b, "1 while BPF is wanted but the agent runs procfs-only, by reason");
		sb_evb_label(b, "reason", sb_bpf_reason_name((enum sb_bpf_reason)r));
	}
}

void *sb_bpf_pcpu_buf(struct bpf_state *st, size_t vsz)
{
	size_t need = vsz * (size_t)st->ncpus;
	if (need > st->pcpu_len) {
		void *p = realloc(st->pcpu, need);
		if (!p)
			return NULL;
		st->pcpu = p;
		st->pcpu_len = need;
	}
	return st->pcpu;
}

const void *sb_bpf_read_percpu(struct bpf_state *st, int fd, const char *name, const void *key,
			       size_t vsz)
{
	void *buf = sb_bpf_pcpu_buf(st, vsz);
	if (!buf)
		return NULL;
	int r = bpf_map_lookup_elem(fd, key, buf);
	if (r) {
		if (r != -ENOENT) {
			st->s->errors++;
			sb_log_rl(&st->rl_read, SB_LOG_WARN, COMP, "cannot read map %s: %s", name,
				  strerror(-r));
		}
		return NULL;
	}
	return buf;
}

void sb_bpf_map_samples(struct bpf_state *st, struct sb_evb *b)
{
	for (int o = 0; o < SB_BPF_NOBJ; o++) {
		const struct sb_bpf_obj *ob = sb_bpf_objs[o];
		const int *fd = &st->fd[SB_FD_MAP(o, 0)];
		if (ob->collect && fd[0] >= 0)
			ob->collect(st, fd, b);
	}
	if (st->nwatch && st->fd[SB_FD_COMMON(SB_COMMON_PROCS)] >= 0 &&
	    st->fd[SB_FD_COMMON(SB_COMMON_PROC_STATS)] >= 0)
		sb_bpf_watched_samples(st, b);
}
