/* The BPF sensor's parts and the state they share:
 *   sensor.c   the sensor ops: start, each interval, stop
 *   loader.c   the short-lived child that loads and attaches the objects,
 *              and the hand-off of their fds to the agent
 *   ring.c     the ring buffers: records into events as they come
 *   metrics.c  each interval: the status samples and every object's own
 *   watch.c    the watch list: parsing, seeding the kernel's tables, and
 *              the watched processes' samples
 *   obj_*.c    one BPF object each, its row in the table (objects.h)
 * The pure parts (decoding, histograms, the plan) are in bpf_sensor.h. */
#ifndef SB_BPF_SENSOR_INTERNAL_H
#define SB_BPF_SENSOR_INTERNAL_H

#include <stdint.h>

#include "bpf_sensor.h"
#include "config.h"
#include "objects.h"
#include "sb_log.h"
#include "sb_sensor.h"

#define COMP "sensor:bpf"

/* The fds the agent keeps, in one array: every object's maps (objects.h),
 * the shared maps it reads, and the links that keep the programs attached
 * (closing a link detaches its program). The loader child names each fd it
 * sends by its index here. */
#define SB_FD_MAP(obj, i) ((obj)*SB_BPF_OBJ_MAPS + (i))
#define SB_FD_COMMON(i) (SB_BPF_NOBJ * SB_BPF_OBJ_MAPS + (i))
#define SB_FD_LINK(tp) (SB_FD_COMMON(SB_COMMON_MAX) + (tp))
/* an iterator object's link (SB_BPF_KIND_ITER: one program per object) */
#define SB_FD_ITER(obj) (SB_FD_LINK(SB_TP_MAX) + (obj))
#define SB_FD_MAX SB_FD_ITER(SB_BPF_NOBJ)

struct watch_entry {
	const char *name; /* NULL: a pid */
	uint32_t pid;
};

/* An object's globals, mmapped: last is the word the kernel side reads to
 * decide whether to wake the agent. */
struct wakeup_map {
	void *base;
	size_t len;
	__u64 *last;
};

struct bpf_state {
	struct sb_sensor *s;
	struct sb_bpf_plan plan;
	unsigned kinds; /* SB_BPF_KIND_BIT: the kinds of objects this state loads */
	/* SB_BPF_OK, or why the sensor runs procfs-only: then it only
	 * republishes its status each interval, so the fallback stays
	 * visible (and alertable) instead of going stale after one event */
	enum sb_bpf_reason fallback;
	int fd[SB_FD_MAX];	   /* -1 when absent */
	unsigned attached;	   /* SB_TP_BIT */
	unsigned iters;		   /* bit o: object o's iterator is attached */
	struct ring_buffer *rb;	   /* every object's ring, one epoll fd */
	int rb_fd;		   /* in the loop; -1 when not */
	struct sb_timer *rb_timer; /* drains what came without a wakeup */
	struct wakeup_map wakeup[SB_BPF_NOBJ];
	size_t nwakeup;
	int64_t latency;      /* event_latency */
	int64_t next_collect; /* monotonic ns */
	int ncpus;
	void *pcpu; /* one per-CPU map value, all CPUs */
	size_t pcpu_len;
	int64_t mono_to_real;
	struct watch_entry watch[SB_WATCH_MAX];
	size_t nwatch;
	uint64_t lost_seen, watch_full_seen;
	struct sb_ratelimit rl_record, rl_read, rl_lost, rl_full;
};

/* ---- loader.c ---- */

/* What the loader child answers; the sensor is then in st. */
struct sb_bpf_loaded {
	int err; /* <0: the sensor cannot start (e.g. the watch list) */
	unsigned attached;
	unsigned iters; /* bit o: object o's iterator link is in fd[SB_FD_ITER(o)] */
	struct sb_bpf_plan plan;
};

/* Probes, plans, loads and attaches in a child process and adopts the fds
 * it sends into st->fd. Fills why when the child failed (crashed, stuck,
 * or could not be started). */
int sb_bpf_run_loader(struct bpf_state *st, struct sb_bpf_loaded *rep, char *why, size_t whylen);

/* ---- ring.c ---- */

/* Opens the ring buffers of the objects whose programs are attached and
 * puts them in the loop. */
int sb_bpf_ring_open(struct bpf_state *st);
/* Takes every record there is now; returns how many. */
int sb_bpf_ring_drain(struct bpf_state *st);
void sb_bpf_ring_close(struct bpf_state *st);

/* ---- metrics.c ---- */

/* want: the programs this mode needs (others are not reported: a program
 * that is not needed is not missing). */
void sb_bpf_status_samples(struct sb_evb *b, unsigned want, unsigned attached, bool capable,
			   enum sb_bpf_reason active);
/* Every object's samples, then the watched processes'. */
void sb_bpf_map_samples(struct bpf_state *st, struct sb_evb *b);
/* A buffer for one value per CPU of vsz bytes, kept between reads. */
void *sb_bpf_pcpu_buf(struct bpf_state *st, size_t vsz);
/* One per-CPU value of map fd (called name in the log), all CPUs; NULL when
 * absent or unreadable (said, rate-limited). */
const void *sb_bpf_read_percpu(struct bpf_state *st, int fd, const char *name, const void *key,
			       size_t vsz);

/* ---- watch.c ---- */

void sb_bpf_watch_parse(struct bpf_state *st, const struct sb_bpf_cfg *c);
void sb_bpf_watch_describe(const struct bpf_state *st, char *out, size_t n);
/* In the loader child, before attach: the watch list into obj's maps
 * (shared by every object) and the running processes that match. */
int sb_bpf_watch_seed(struct bpf_state *st, struct bpf_object *obj);
void sb_bpf_watched_samples(struct bpf_state *st, struct sb_evb *b);

#endif
