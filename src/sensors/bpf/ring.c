/* The ring buffers: exec, exit and fork records become events as they come
 * (every object's ring shares one epoll fd in the collection loop), within
 * event_latency and without waking the agent more often than that. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sb_loop.h"
#include "sensor.h"

static int on_record(void *ctx, void *data, size_t size)
{
	struct bpf_state *st = ctx;
	struct sb_sensor *s = st->s;
	if (sb_bpf_decode(&s->evb, data, size, st->mono_to_real)) {
		s->errors++;
		uint16_t type = 0;
		if (size >= sizeof(type))
			memcpy(&type, data, sizeof(type));
		sb_log_rl(&st->rl_record, SB_LOG_WARN, COMP,
			  "malformed ring buffer record (type %u, %zu bytes): skipped", type, size);
		return 0; /* a negative return would stop the drain */
	}
	sb_sensor_publish_evb(s);
	return 0;
}

int sb_bpf_ring_drain(struct bpf_state *st)
{
	if (!st->rb)
		return 0;
	int n = ring_buffer__consume(st->rb);
	if (n < 0) {
		st->s->errors++;
		sb_log_rl(&st->rl_read, SB_LOG_WARN, COMP, "cannot read the ring buffer: %s",
			  strerror(-n));
		return 0;
	}
	/* Having just taken records, we need no wakeup for those that
	 * follow within event_latency (see proc.bpf.c's wakeup_flag). */
	if (n > 0 && st->nwakeup) {
		__u64 now = (__u64)sb_now_mono_ns();
		for (size_t i = 0; i < st->nwakeup; i++)
			*st->wakeup[i].last = now;
	}
	return n;
}

/* The kernel side wakes us at most every event_latency; records written
 * after a wakeup (or a drain) wait for the next one. While records come,
 * look again that much later, unless the next collect does it as soon, so
 * none waits longer than about that. */
static void drain_and_plan(struct bpf_state *st)
{
	if (sb_bpf_ring_drain(st) > 0 && st->next_collect > sb_now_mono_ns() + st->latency)
		sb_timer_set(st->rb_timer, st->latency, 0);
}

static void on_ring_timer(void *arg) { drain_and_plan(arg); }

static void on_ring_ready(void *arg, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	drain_and_plan(arg);
}

/* The object's globals, for its last_wakeup_ns; without them the kernel
 * side only wakes us more often. */
static void map_wakeup(struct bpf_state *st, const struct sb_bpf_ring *ring, int fd)
{
	if (fd < 0 || !ring->globals_len)
		return;
	long page = sysconf(_SC_PAGESIZE);
	size_t len = (ring->globals_len + (size_t)page - 1) / (size_t)page * (size_t)page;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		sb_dbg(COMP, "cannot map the programs' globals: %s", strerror(errno));
		return;
	}
	struct wakeup_map *w = &st->wakeup[st->nwakeup++];
	w->base = p;
	w->len = len;
	w->last = (__u64 *)((char *)p + ring->wakeup_off);
}

static int add_ring(struct bpf_state *st, int fd)
{
	if (!st->rb) {
		st->rb = ring_buffer__new(fd, on_record, st, NULL);
		return st->rb ? 0 : -errno;
	}
	return ring_buffer__add(st->rb, fd, on_record, st);
}

int sb_bpf_ring_open(struct bpf_state *st)
{
	for (int o = 0; o < SB_BPF_NOBJ; o++) {
		const struct sb_bpf_obj *ob = sb_bpf_objs[o];
		if (!ob->ring || !(st->attached & ob->tps))
			continue;
		int fd = st->fd[SB_FD_MAP(o, ob->ring->map)];
		if (fd < 0)
			continue;
		int r = add_ring(st, fd);
		if (r) {
			sb_err(COMP, "cannot open the %s ring buffer: %s", ob->name, strerror(-r));
			return r;
		}
		map_wakeup(st, ob->ring, st->fd[SB_FD_MAP(o, ob->ring->globals)]);
	}
	if (!st->rb)
		return 0;
	st->rb_timer = sb_timer_new(st->s->loop, on_ring_timer, st);
	if (!st->rb_timer)
		return -ENOMEM;
	int fd = ring_buffer__epoll_fd(st->rb);
	int r = sb_loop_add_fd(st->s->loop, fd, SB_EV_READ, on_ring_ready, st);
	if (r) {
		sb_err(COMP, "cannot add the ring buffer to the loop: %s", strerror(-r));
		return r;
	}
	st->rb_fd = fd;
	return 0;
}

void sb_bpf_ring_close(struct bpf_state *st)
{
	if (st->rb_fd >= 0)
		sb_loop_del_fd(st->s->loop, st->rb_fd);
	st->rb_fd = -1;
	sb_timer_free(st->rb_timer);
	st->rb_timer = NULL;
	ring_buffer__free(st->rb);
	st->rb = NULL;
	for (size_t i = 0; i < st->nwakeup; i++)
		munmap(st->wakeup[i].base, st->wakeup[i].len);
	st->nwakeup = 0;
}
