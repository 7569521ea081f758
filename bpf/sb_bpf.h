/* The ABI between the BPF programs (bpf/NAME.bpf.c) and the sensor's user side
 * (src/sensors/bpf/): map keys and values, and ring-buffer records.
 *
 * Both sides compile this header (the kernel side after vmlinux.h, the user
 * side after <linux/types.h>), so it uses fixed-width kernel types only and
 * spells out every padding byte. src/sensors/bpf/decode.c asserts the sizes: a field
 * added on one side and not the other fails the build, not a decode. */
#ifndef SB_BPF_H
#define SB_BPF_H

#define SB_COMM_LEN 16
/* Longest exec filename sent; a power of two so the kernel side can bound
 * the copy with a mask the verifier understands. Longer names are cut. */
#define SB_FILENAME_MAX 256
/* log2 run-queue latency slots over nanoseconds: slot k counts waits in
 * [2^k, 2^(k+1)) ns; the last slot also takes everything longer (2^35 ns is
 * about 34 s). */
#define SB_HIST_SLOTS 36
/* Watched processes tracked at once (per-CPU stats: the map costs
 * SB_WATCH_MAX_PROCS * sizeof(struct sb_proc_stats) per possible CPU). */
#define SB_WATCH_MAX_PROCS 128
/* Entries of the configured watch list (names and pids together). */
#define SB_WATCH_MAX 64

/* The tracepoints, in the order of sensorbus_bpf_program_attached. */
enum sb_bpf_tp {
	SB_TP_SCHED_SWITCH,
	SB_TP_SCHED_WAKEUP,
	SB_TP_SCHED_WAKEUP_NEW,
	SB_TP_PROCESS_EXEC,
	SB_TP_PROCESS_FORK,
	SB_TP_PROCESS_EXIT,
	SB_TP_MAX,
};

/* ---- ring buffer records (proc.bpf.c -> decode.c) ---- */

enum sb_rec_type {
	SB_REC_EXEC = 1,
	SB_REC_EXIT = 2,
	SB_REC_FORK = 3,
};

/* Common to every record. size is the whole record as sent: a record may
 * end early (exec sends its filename only as long as it is). */
struct sb_rec_hdr {
	__u16 type; /* enum sb_rec_type */
	__u16 size;
	__u32 pid;  /* the process (tgid) the record is about */
	__u32 ppid; /* its parent's tgid */
	__u32 _pad0;
	__u64 ts_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
};

struct sb_rec_exec {
	struct sb_rec_hdr hdr;
	__u32 uid;
	__u32 filename_len; /* bytes of filename sent, NUL included */
	char comm[SB_COMM_LEN];
	char filename[SB_FILENAME_MAX];
};
#define SB_REC_EXEC_FIXED (sizeof(struct sb_rec_exec) - SB_FILENAME_MAX)

struct sb_rec_exit {
	struct sb_rec_hdr hdr;
	__u32 status; /* wait(2) status: exit code << 8 | core 0x80 | signal */
	__u32 _pad0;
	__u64 lifetime_ns; /* since the process was forked */
	__u64 cpu_ns;	   /* on-CPU time of all its threads */
	char comm[SB_COMM_LEN];
};

/* Sent only for forks of watched processes (threads excluded); hdr.pid is
 * the child, hdr.ppid the watched parent. */
struct sb_rec_fork {
	struct sb_rec_hdr hdr;
	char comm[SB_COMM_LEN];
};

/* ---- maps read each interval ---- */

/* sched.bpf.c, an array with one entry per CPU. Hot fields first, the
 * rarely touched long-wait slots last, 64-byte multiple: a CPU's entry
 * shares a cache line with its neighbour's only at that cold tail. */
struct sb_sched_cpu {
	__u64 switches; /* equals this CPU's share of /proc/stat ctxt */
	__u64 rq_sum_ns;
	__u64 rq_hist[SB_HIST_SLOTS];
	__u64 _pad0[2];
};

/* proc.bpf.c, per-CPU array of one entry. */
struct sb_proc_cpu {
	__u64 forks; /* every clone: processes and threads, like /proc/stat processes */
	__u64 execs;
	__u64 exits;
	__u64 lost;	  /* ring-buffer records dropped because it was full */
	__u64 watch_full; /* processes to watch that did not fit the table */
};

/* Watched processes, key: tgid. */
#define SB_PROC_EXITED 0x1u  /* gone (or renamed away): published once more, then deleted */
#define SB_PROC_BY_NAME 0x2u /* matched by name: its forked children are watched too */
struct sb_proc_meta {
	__u32 watch_idx; /* index into the configured watch list */
	__u32 flags;
	char comm[SB_COMM_LEN];
};

/* watch_hint[tgid & SB_WATCH_HINT_MASK] counts watched processes whose tgid
 * falls there: the per-switch test for "might be watched" is one load, and
 * only a hit looks the tgid up in the procs hash. */
#define SB_WATCH_HINT_SLOTS 8192
#define SB_WATCH_HINT_MASK (SB_WATCH_HINT_SLOTS - 1)

/* Per-CPU, key: tgid. */
struct sb_proc_stats {
	__u64 oncpu_ns;
	__u64 offcpu_ns; /* switched out: asleep or waiting in a run queue */
	__u64 rq_sum_ns;
	__u64 voluntary;
	__u64 involuntary;
	__u64 forks;
	__u64 rq_hist[SB_HIST_SLOTS];
};

/* Per task (thread), for watched threads, and for every task when waits are
 * timed from wakeups: task storage, or a tid-keyed LRU hash on kernels
 * without it. Kernel-private, here so both objects agree on its size. */
struct sb_task_ctx {
	__u64 wake_ts;	/* wakeup timing: queued since (0: not queued) */
	__u64 sum_exec; /* watched: se.sum_exec_runtime at its last switch out */
	__u64 out_ts;	/* watched: when it last switched out (0: no baseline yet) */
};

/* ---- task iterator records (taskiter.bpf.c -> src/sensors/bpf/taskiter.c) ---- */

#define SB_TASK_LEADER 0x1u    /* tid == tgid: carries the process-wide fields */
#define SB_TASK_KTHREAD 0x2u   /* PF_KTHREAD */
#define SB_TASK_NO_MM 0x4u     /* no memory map (kernel thread, zombie): rss, vm 0 */
#define SB_TASK_NO_IO 0x8u     /* the kernel has no per-task I/O accounting */
#define SB_TASK_NO_RSS 0x10u   /* no known rss_stat layout: read statm */
#define SB_TASK_NO_FDS 0x20u   /* fd table larger than the program counts: read fd/ */
#define SB_TASK_NO_FILES 0x40u /* no files table (exiting): open_fds 0 */
#define SB_TASK_FOLDED 0x80u   /* task_walk's: the process's threads already summed */
/* Bitmap words of the open fd table the iterator counts (64 fds each). */
#define SB_TASK_FD_WORDS 256
/* Records task_walk writes per run (an array the agent copies the used
 * part of): a host with fewer processes is read in one run of a few
 * milliseconds; a larger one in several, each skipping what was read. */
#define SB_TASK_CHUNK 8192
/* Processes whose last view task_walk keeps (40 bytes each, twice), to
 * read in part those that did not run since: beyond, each is read whole. */
#define SB_TASK_SEEN 16384
/* What one run of task_walk writes through the seq file: how many records
 * it put in the array, and whether the process list goes on. */
struct sb_task_walk_hdr {
	__u32 count; /* in task_recs */
	__u32 same;  /* in task_same */
	__u32 more;
	__u32 pad;
};
/* task_walk's record of a process that has not run since the last walk:
 * its counters, identity and fds are those of that walk's record; what
 * others can change meanwhile is here. One cache line, where a whole
 * record is four. */
struct sb_task_same {
	__u32 pid;
	__u32 state;
	__s32 nice;
	__u32 flags; /* SB_TASK_NO_MM, SB_TASK_NO_RSS */
	__u64 nofile;
	__u64 rss[4]; /* SB_RSS_MAX */
	__u64 total_vm;
};
/* task_walk's globals, written by the agent before each run. */
struct sb_task_walk_ctl {
	__u32 skip; /* processes of the list read by this walk's earlier runs */
	__u32 gen;  /* this walk's number: the last one the agent holds whole + 1 */
};
/* mm rss counters, the kernel's NR_MM_COUNTERS order. */
enum { SB_RSS_FILE, SB_RSS_ANON, SB_RSS_SWAP, SB_RSS_SHMEM, SB_RSS_MAX };

/* One per task (thread) the iterator visits, fixed size. Counters are the
 * thread's own; a leader's record adds its process's signal totals (the
 * threads that exited) and the process-wide fields, so summing every record
 * of a tgid gives what /proc/<tgid>/stat, io and status report for the
 * whole process. */
struct sb_task_rec {
	__u32 tgid;
	__u32 tid;
	__u32 ppid;  /* real parent's tgid */
	__u32 uid;   /* real uid */
	__u32 state; /* __state (or state before 5.14) */
	__s32 exit_state;
	__s32 nice;
	__u32 flags;	/* SB_TASK_* */
	__u64 start_ns; /* start_boottime: ns since boot, suspend included */
	__u64 utime_ns; /* tick-sampled split */
	__u64 stime_ns;
	__u64 runtime_ns; /* precise: se.sum_exec_runtime (+ sum_sched_runtime) */
	__u64 min_flt;
	__u64 maj_flt;
	__u64 nvcsw;
	__u64 nivcsw;
	__u64 rchar;
	__u64 wchar;
	__u64 syscr;
	__u64 syscw;
	__u64 read_bytes;
	__u64 write_bytes;
	__u64 cancelled_write_bytes;
	/* leader only */
	__u64 rss[SB_RSS_MAX]; /* pages */
	__u64 total_vm;	       /* pages */
	__u64 nofile;	       /* RLIMIT_NOFILE soft limit */
	__u64 cgroup_id;       /* cgroup v2 id: the inode of its directory */
	__u32 nr_threads;
	__u32 open_fds;
	char comm[SB_COMM_LEN];
};

#endif
