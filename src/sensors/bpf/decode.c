/* Ring-buffer records into events, and log2 slots into Prometheus buckets.
 * Pure: no libbpf, no kernel; the unit tests feed them bytes. */
#include "bpf_sensor.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* The ABI with the kernel side: these fail the build when bpf/sb_bpf.h
 * changes a layout without the other side noticing. */
_Static_assert(sizeof(struct sb_rec_hdr) == 24, "sb_rec_hdr layout");
_Static_assert(sizeof(struct sb_rec_exec) == 24 + 8 + 16 + SB_FILENAME_MAX, "sb_rec_exec layout");
_Static_assert(SB_REC_EXEC_FIXED == 48, "sb_rec_exec fixed part");
_Static_assert(sizeof(struct sb_rec_exit) == 24 + 8 + 16 + 16, "sb_rec_exit layout");
_Static_assert(sizeof(struct sb_rec_fork) == 24 + 16, "sb_rec_fork layout");
_Static_assert(sizeof(struct sb_sched_cpu) == 8 * (4 + SB_HIST_SLOTS) &&
		   sizeof(struct sb_sched_cpu) % 64 == 0,
	       "sb_sched_cpu layout");
_Static_assert(sizeof(struct sb_proc_cpu) == 8 * 5, "sb_proc_cpu layout");
_Static_assert(sizeof(struct sb_proc_meta) == 8 + SB_COMM_LEN, "sb_proc_meta layout");
_Static_assert(sizeof(struct sb_proc_stats) == 8 * (6 + SB_HIST_SLOTS), "sb_proc_stats layout");
_Static_assert(sizeof(struct sb_task_ctx) == 24, "sb_task_ctx layout");
/* per-CPU map values are copied out in 8-byte strides */
_Static_assert(sizeof(struct sb_sched_cpu) % 8 == 0 && sizeof(struct sb_proc_cpu) % 8 == 0 &&
		   sizeof(struct sb_proc_stats) % 8 == 0,
	       "per-CPU values are 8-byte multiples");
_Static_assert((SB_FILENAME_MAX & (SB_FILENAME_MAX - 1)) == 0, "SB_FILENAME_MAX power of two");

/* comm is NUL-padded in the kernel, but a full 16-byte name has no NUL. */
static void field_comm(struct sb_evb *b, const char *key, const char comm[SB_COMM_LEN])
{
	sb_evb_field_str(b, key, comm, strnlen(comm, SB_COMM_LEN));
}

static void begin(struct sb_evb *b, const struct sb_rec_hdr *h, const char *kind, int64_t when)
{
	sb_evb_begin(b, "bpf", kind);
	sb_evb_time(b, when);
	sb_evb_field_int(b, "pid", h->pid);
	sb_evb_field_int(b, "ppid", h->ppid);
}

int sb_bpf_decode(struct sb_evb *b, const void *data, size_t size, int64_t mono_to_real_ns)
{
	struct sb_rec_hdr h;
	if (size < sizeof(h))
		return -EINVAL;
	memcpy(&h, data, sizeof(h));
	/* the ring buffer rounds records up to 8 bytes: size may exceed h.size */
	if (h.size < sizeof(h) || h.size > size)
		return -EINVAL;
	/* a stamp no monotonic clock reaches (garbage in the record) would
	 * overflow the event's time */
	int64_t when;
	if (h.ts_ns > INT64_MAX || __builtin_add_overflow((int64_t)h.ts_ns, mono_to_real_ns, &when))
		return -EINVAL;

	switch (h.type) {
	case SB_REC_EXEC: {
		struct sb_rec_exec e;
		if (h.size < SB_REC_EXEC_FIXED)
			return -EINVAL;
		memcpy(&e, data, SB_REC_EXEC_FIXED);
		if (e.filename_len > SB_FILENAME_MAX || h.size < SB_REC_EXEC_FIXED + e.filename_len)
			return -EINVAL;
		const char *fn = (const char *)data + SB_REC_EXEC_FIXED;
		begin(b, &h, "exec", when);
		sb_evb_field_uint(b, "uid", e.uid);
		field_comm(b, "comm", e.comm);
		sb_evb_field_str(b, "filename", fn, strnlen(fn, e.filename_len));
		return 0;
	}
	case SB_REC_EXIT: {
		struct sb_rec_exit e;
		if (h.size < sizeof(e))
			return -EINVAL;
		memcpy(&e, data, sizeof(e));
		begin(b, &h, "exit", when);
		field_comm(b, "comm", e.comm);
		/* wait(2) status: WEXITSTATUS and WTERMSIG */
		sb_evb_field_int(b, "exit_code", (e.status >> 8) & 0xff);
		sb_evb_field_int(b, "signal", e.status & 0x7f);
		sb_evb_field_double(b, "duration_seconds", (double)e.lifetime_ns / 1e9);
		sb_evb_field_double(b, "cpu_seconds", (double)e.cpu_ns / 1e9);
		return 0;
	}
	case SB_REC_FORK: {
		struct sb_rec_fork e;
		if (h.size < sizeof(e))
			return -EINVAL;
		memcpy(&e, data, sizeof(e));
		begin(b, &h, "fork", when);
		field_comm(b, "comm", e.comm);
		return 0;
	}
	default:
		return -EINVAL;
	}
}

void sb_bpf_hist(struct sb_evb *b, const __u64 *slots, size_t nslots, unsigned first_le_log2,
		 uint64_t sum_ns)
{
	uint64_t cum = 0;
	for (size_t k = 0; k < nslots; k++) {
		cum += slots[k];
		/* slot k holds waits below 2^(k+1) ns; the last slot is open-ended
		 * and only +Inf bounds it */
		if (k + 1 < first_le_log2 || k + 1 == nslots)
			continue;
		sb_evb_bucket(b, ldexp(1.0, (int)(k + 1)) / 1e9, (double)cum);
	}
	sb_evb_bucket(b, INFINITY, (double)cum);
	sb_evb_sumcount(b, (double)sum_ns / 1e9, (double)cum);
}
