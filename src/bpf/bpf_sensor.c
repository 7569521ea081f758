/* The BPF sensor: loads bpf/sched.bpf.c and bpf/proc.bpf.c (embedded as
 * skeletons), reads their in-kernel aggregates each interval into samples,
 * and turns ring-buffer records into exec/exit/fork events as they come
 * (the ring buffer's fd is in the collection loop).
 *
 * Whether it runs at all is decided once at start (plan.c) and said in one
 * line; each program then attaches on its own, and a program that cannot
 * only takes its own metrics away.
 *
 * Probing, loading and attaching happen in a short-lived child process,
 * which hands the agent the maps' and links' fds over a socket and exits:
 * libbpf parses the kernel's BTF (several megabytes, once per object) for
 * CO-RE and tp_btf, and that peak would otherwise stay the agent's for its
 * whole life. The agent itself only reads maps and the ring buffer. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpf_sensor.h"
#include "proc.skel.h"
#include "sched.skel.h"
#include "sb_log.h"
#include "sb_loop.h"
#include "sb_sensor.h"

#define COMP "sensor:bpf"

enum { ENABLED_AUTO, ENABLED_TRUE, ENABLED_FALSE };
static const char *const enabled_choices[] = {"auto", "true", "false", NULL};

struct bpf_cfg {
	int enabled;
	struct sb_strlist watch;
	int64_t event_latency;
};

static const struct sb_cfg_key bpf_keys[] = {
	{"enabled", SB_CT_ENUM, offsetof(struct bpf_cfg, enabled), "auto",
	 "load the BPF programs: auto (where the kernel and privileges allow, else procfs-only), "
	 "true (the same, but failing to is an error), false",
	 .choices = enabled_choices},
	{"watch", SB_CT_STRLIST, offsetof(struct bpf_cfg, watch), NULL,
	 "processes to follow per process: names (matched on comm, at most 15 characters) or pids"},
	{"event_latency", SB_CT_DURATION, offsetof(struct bpf_cfg, event_latency), "1s",
	 "longest an exec, exit or fork event waits in the kernel's ring buffer before the agent "
	 "takes it (each wakeup costs tens of microseconds in a VM)",
	 .min = 0.001, .max = 60},
	{0},
};

/* Where a tracepoint's programs live. */
enum { OBJ_SCHED, OBJ_PROC, OBJ_MAX };
static const int tp_obj[SB_TP_MAX] = {
	[SB_TP_SCHED_SWITCH] = OBJ_SCHED, [SB_TP_SCHED_WAKEUP] = OBJ_SCHED,
	[SB_TP_SCHED_WAKEUP_NEW] = OBJ_SCHED, [SB_TP_PROCESS_EXEC] = OBJ_PROC,
	[SB_TP_PROCESS_FORK] = OBJ_PROC, [SB_TP_PROCESS_EXIT] = OBJ_PROC,
};
static const char *const obj_names[OBJ_MAX] = {"sched", "proc"};
/* Maps both objects declare; the second one loaded reuses the first's. */
static const char *const shared_maps[] = {"task_ctx", "task_ctx_tid", "watch_names",
					  "watch_hint", "procs",    "proc_stats"};

struct watch_entry {
	const char *name; /* NULL: a pid */
	uint32_t pid;
};

/* The fds the agent keeps: the maps it reads and the links that keep the
 * programs attached (closing a link detaches its program). */
enum {
	FD_SCHED_CPU,
	FD_PROC_CPU,
	FD_PROCS,
	FD_PROC_STATS,
	FD_EVENTS,
	FD_PROC_BSS, /* proc.bpf.c's globals: last_wakeup_ns */
	FD_LINK,     /* + tracepoint */
	FD_MAX = FD_LINK + SB_TP_MAX,
};
static const char *const fd_map_names[FD_LINK] = {"sched_cpu",  "proc_cpu", "procs",
						  "proc_stats", "events",   ".bss"};

struct bpf_state {
	struct sb_sensor *s;
	struct sb_bpf_plan plan;
	/* SB_BPF_OK, or why the sensor runs procfs-only: then it only
	 * republishes its status each interval, so the fallback stays
	 * visible (and alertable) instead of going stale after one event */
	enum sb_bpf_reason fallback;
	int fd[FD_MAX]; /* -1 when absent */
	unsigned attached; /* SB_TP_BIT */
	struct ring_buffer *rb;
	int rb_fd; /* in the loop; -1 when not */
	struct sb_timer *rb_timer; /* drains what came without a wakeup */
	struct proc_bpf__bss *bss; /* mmapped; NULL if that failed */
	size_t bss_len;
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

/* The loader child's own state: libbpf's objects, never in the agent. */
struct loader {
	struct bpf_state *st;
	struct sched_bpf *sched;
	struct proc_bpf *proc;
	struct bpf_object *obj[OBJ_MAX];
	struct bpf_link *links[SB_TP_MAX];
};

/* ---- libbpf's messages into our log ---- */

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's debug output is hundreds of lines per load: trace, so that
	 * debug stays the agent's own */
	enum sb_log_level l = level == LIBBPF_WARN   ? SB_LOG_WARN
			      : level == LIBBPF_INFO ? SB_LOG_INFO
						     : SB_LOG_TRACE;
	if (l > sb_log_get_level())
		return 0;
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		return 0;
	/* One line per log line: a verifier log arrives as one message of
	 * hundreds of lines; past a screenful only --log-level debug shows it. */
	bool all = sb_log_get_level() >= SB_LOG_DEBUG;
	int n = 0;
	for (char *save = NULL, *line = strtok_r(msg, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "libbpf: ", 8))
			line += 8;
		if (!*line)
			continue;
		if (++n == 40 && !all)
			sb_log(l, "libbpf", "... (%s)", "the rest with --log-level debug");
		if (n >= 40 && !all)
			continue;
		sb_log(l, "libbpf", "%s", line);
	}
	free(msg);
	return 0;
}

/* ---- status samples ---- */

/* want: the programs this mode needs (others are not reported: a program
 * that is not needed is not missing). */
static void status_samples(struct sb_evb *b, unsigned want, unsigned attached, bool capable,
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

static struct bpf_state *state_new(struct sb_sensor *s)
{
	struct bpf_state *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->s = s;
	st->rb_fd = -1;
	for (int i = 0; i < FD_MAX; i++)
		st->fd[i] = -1;
	return st;
}

/* Says once why there is no BPF; the sensor stays, in fallback mode,
 * publishing only its status (the caller frees its loading state). */
static int decline(struct sb_sensor *s, const struct bpf_cfg *c, const struct sb_bpf_plan *plan,
		   enum sb_bpf_reason reason, const char *why)
{
	sb_log(c->enabled == ENABLED_TRUE ? SB_LOG_ERROR : SB_LOG_WARN, COMP,
	       "BPF unavailable, running procfs-only: %s", why);
	struct bpf_state *fb = state_new(s);
	if (!fb)
		return -ENOMEM;
	fb->plan = *plan;
	fb->fallback = reason;
	s->state = fb;
	return 0;
}

/* ---- loading ---- */

static struct bpf_program *prog_of(struct loader *ld, int tp, bool btf)
{
	char name[64];
	struct bpf_object *obj = ld->obj[tp_obj[tp]];
	if (!obj)
		return NULL;
	snprintf(name, sizeof(name), "%s_%s", sb_bpf_tp_names[tp], btf ? "btf" : "raw");
	return bpf_object__find_program_by_name(obj, name);
}

static void parse_watch(struct bpf_state *st, const struct bpf_cfg *c)
{
	for (size_t i = 0; i < c->watch.n && i < SB_WATCH_MAX; i++) {
		const char *w = c->watch.v[i];
		uint64_t pid;
		struct watch_entry *e = &st->watch[st->nwatch++];
		if (sb_parse_u64(w, &pid) == 0) {
			e->pid = (uint32_t)pid;
			continue;
		}
		e->name = w;
		if (strlen(w) >= SB_COMM_LEN)
			sb_warn(COMP,
				"watch: '%s' is longer than a comm (15 characters): matching "
				"'%.15s'",
				w, w);
	}
}

/* Sizes and switches that must be set between open and load. */
static void configure(struct bpf_state *st, struct bpf_object *obj)
{
	bool btf = st->plan.btf_mode;
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj)
	{
		const char *n = bpf_program__name(prog);
		bool load = false;
		for (int tp = 0; tp < SB_TP_MAX; tp++) {
			size_t l = strlen(sb_bpf_tp_names[tp]);
			if (!strncmp(n, sb_bpf_tp_names[tp], l) &&
			    !strcmp(n + l, btf ? "_btf" : "_raw"))
				load = st->plan.load & SB_TP_BIT(tp);
		}
		bpf_program__set_autoload(prog, load);
	}
	struct bpf_map *m;
	if ((m = bpf_object__find_map_by_name(obj, "sched_cpu")))
		bpf_map__set_max_entries(m, (__u32)st->ncpus);
	/* task storage may not exist at all where raw_tp is used */
	if ((m = bpf_object__find_map_by_name(obj, "task_ctx")) && !btf)
		bpf_map__set_autocreate(m, false);
	if ((m = bpf_object__find_map_by_name(obj, "task_ctx_tid")) && btf)
		bpf_map__set_max_entries(m, 1);
	if (!st->nwatch) {
		static const char *const watch_maps[] = {"watch_names", "watch_hint", "procs",
							 "proc_stats"};
		for (size_t i = 0; i < SB_ARRAY_SIZE(watch_maps); i++)
			if ((m = bpf_object__find_map_by_name(obj, watch_maps[i])))
				bpf_map__set_max_entries(m, 1);
	}
}

static void share_maps(struct bpf_object *from, struct bpf_object *to)
{
	for (size_t i = 0; i < SB_ARRAY_SIZE(shared_maps); i++) {
		struct bpf_map *a = bpf_object__find_map_by_name(from, shared_maps[i]);
		struct bpf_map *b = bpf_object__find_map_by_name(to, shared_maps[i]);
		if (a && b && bpf_map__fd(a) >= 0 && bpf_map__autocreate(b)) {
			int r = bpf_map__reuse_fd(b, bpf_map__fd(a));
			if (r)
				sb_warn(COMP, "map %s: cannot share it between programs: %s",
					shared_maps[i], strerror(-r));
		}
	}
}

static bool comm_matches(const char *comm, const char *name)
{
	size_t n = strnlen(name, SB_COMM_LEN - 1);
	return !strncmp(comm, name, n) && comm[n] == 0;
}

/* Puts one already running process in the watched tables, as the kernel
 * side does at exec or fork for the ones that start later. */
static int watch_add(struct bpf_state *st, struct bpf_object *obj, uint32_t tgid, uint32_t idx,
		     uint32_t flags, const char *comm)
{
	struct bpf_map *procs = bpf_object__find_map_by_name(obj, "procs");
	struct bpf_map *stats = bpf_object__find_map_by_name(obj, "proc_stats");
	struct bpf_map *hint = bpf_object__find_map_by_name(obj, "watch_hint");
	struct sb_proc_meta m = {.watch_idx = idx, .flags = flags};
	memcpy(m.comm, comm, strnlen(comm, SB_COMM_LEN - 1));
	size_t zlen = sizeof(struct sb_proc_stats) * (size_t)st->ncpus;
	void *zero = calloc(1, zlen);
	uint32_t slot = tgid & SB_WATCH_HINT_MASK, n = 0;
	int r = -ENOMEM;
	if (!zero)
		goto out;
	r = bpf_map__update_elem(procs, &tgid, sizeof(tgid), &m, sizeof(m), BPF_NOEXIST);
	if (r == -EEXIST) { /* a name and a pid both match it: the first wins */
		r = 0;
		goto out;
	}
	if (r == -E2BIG) {
		sb_log_rl(&st->rl_full, SB_LOG_WARN, COMP,
			  "watch: more than %d matching processes; pid %u (%s) and later ones "
			  "not followed",
			  SB_WATCH_MAX_PROCS, tgid, comm);
		r = 0;
		goto out;
	}
	if (r)
		goto out;
	r = bpf_map__update_elem(stats, &tgid, sizeof(tgid), zero, zlen, BPF_ANY);
	if (r)
		goto out;
	r = bpf_map__lookup_elem(hint, &slot, sizeof(slot), &n, sizeof(n), 0);
	n++;
	if (!r)
		r = bpf_map__update_elem(hint, &slot, sizeof(slot), &n, sizeof(n), BPF_ANY);
out:
	free(zero);
	return r;
}

/* The watch list into the kernel: the names for exec to match, and every
 * process already running that matches a name or a pid. Before attach, so
 * the kernel side's own additions cannot race these. */
static int watch_seed(struct bpf_state *st, struct bpf_object *obj)
{
	struct bpf_map *names = bpf_object__find_map_by_name(obj, "watch_names");
	int r = 0;
	for (size_t i = 0; i < st->nwatch && !r; i++) {
		if (!st->watch[i].name)
			continue;
		char key[SB_COMM_LEN] = {0};
		uint32_t idx = (uint32_t)i;
		strncpy(key, st->watch[i].name, SB_COMM_LEN - 1);
		r = bpf_map__update_elem(names, key, sizeof(key), &idx, sizeof(idx), BPF_ANY);
	}
	DIR *d = r ? NULL : opendir("/proc");
	if (!r && !d)
		r = -errno;
	for (struct dirent *de; d && !r && (de = readdir(d));) {
		uint64_t pid;
		char path[64], comm[SB_COMM_LEN + 1] = "";
		if (sb_parse_u64(de->d_name, &pid) || pid > UINT32_MAX)
			continue;
		snprintf(path, sizeof(path), "/proc/%u/comm", (unsigned)pid);
		FILE *f = fopen(path, "r");
		if (!f)
			continue; /* gone meanwhile */
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		comm[strcspn(comm, "\n")] = 0;
		for (size_t i = 0; i < st->nwatch && !r; i++) {
			const struct watch_entry *w = &st->watch[i];
			if (w->name ? comm_matches(comm, w->name) : w->pid == pid) {
				r = watch_add(st, obj, (uint32_t)pid, (uint32_t)i,
					      w->name ? SB_PROC_BY_NAME : 0, comm);
				break;
			}
		}
	}
	if (d)
		closedir(d);
	if (r)
		sb_err(COMP, "cannot fill the watch list: %s", strerror(-r));
	return r;
}

static bool obj_wanted(const struct bpf_state *st, int o)
{
	for (int tp = 0; tp < SB_TP_MAX; tp++)
		if (tp_obj[tp] == o && (st->plan.load & SB_TP_BIT(tp)))
			return true;
	return false;
}

static void destroy_obj(struct loader *ld, int o)
{
	if (o == OBJ_SCHED)
		sched_bpf__destroy(ld->sched), ld->sched = NULL;
	else
		proc_bpf__destroy(ld->proc), ld->proc = NULL;
	ld->obj[o] = NULL;
}

static int load_objects(struct loader *ld)
{
	struct bpf_state *st = ld->st;
	bool watch = st->nwatch > 0;
	/* Tasks born from here on are counted from their first switch; the
	 * programs are not attached yet, so none is missed or counted twice. */
	int64_t born = sb_now_mono_ns();
	struct rlimit before = {0}, after = {0};
	getrlimit(RLIMIT_MEMLOCK, &before);
	struct bpf_object *first = NULL;
	for (int o = 0; o < OBJ_MAX; o++) {
		if (!obj_wanted(st, o))
			continue;
		int r;
		if (o == OBJ_SCHED) {
			ld->sched = sched_bpf__open();
			if (ld->sched) {
				ld->obj[o] = ld->sched->obj;
				ld->sched->rodata->watch_on = watch;
				ld->sched->rodata->born_after_ns = (__u64)born;
				ld->sched->rodata->latency_wakeup = st->plan.latency_wakeup;
			}
		} else {
			ld->proc = proc_bpf__open();
			if (ld->proc) {
				ld->obj[o] = ld->proc->obj;
				ld->proc->rodata->watch_on = watch;
				ld->proc->rodata->born_after_ns = (__u64)born;
				ld->proc->rodata->wakeup_ns =
					(__u64)((const struct bpf_cfg *)st->s->cfg)->event_latency;
			}
		}
		if (!ld->obj[o]) {
			sb_warn(COMP, "cannot open the %s programs: %s", obj_names[o],
				strerror(errno));
			continue;
		}
		configure(st, ld->obj[o]);
		if (first)
			share_maps(first, ld->obj[o]);
		r = bpf_object__load(ld->obj[o]);
		if (r) {
			/* libbpf has logged the verifier's reasons just above */
			sb_warn(COMP, "cannot load the %s programs: %s; their metrics are disabled",
				obj_names[o], strerror(-r));
			destroy_obj(ld, o);
			continue;
		}
		if (!first) {
			first = ld->obj[o];
			if (watch && (r = watch_seed(st, first)))
				return r;
		}
	}
	getrlimit(RLIMIT_MEMLOCK, &after);
	/* libbpf 1.x raises it itself, and only on kernels (before 5.11) that
	 * still charge BPF memory to RLIMIT_MEMLOCK rather than the memcg. */
	if (after.rlim_cur != before.rlim_cur)
		sb_info(COMP,
			"raised RLIMIT_MEMLOCK for BPF maps (this kernel charges them to it)");
	return 0;
}

static void attach_programs(struct loader *ld)
{
	struct bpf_state *st = ld->st;
	for (int tp = 0; tp < SB_TP_MAX; tp++) {
		if (!(st->plan.load & SB_TP_BIT(tp)))
			continue;
		struct bpf_program *prog = prog_of(ld, tp, st->plan.btf_mode);
		if (!prog || bpf_program__fd(prog) < 0)
			continue; /* its object did not load: said already */
		struct bpf_link *l = bpf_program__attach(prog);
		if (!l) {
			sb_warn(COMP,
				"%s: cannot attach its %s program: %s; its metrics are disabled",
				sb_bpf_tp_names[tp], st->plan.btf_mode ? "tp_btf" : "raw_tp",
				strerror(errno));
			continue;
		}
		ld->links[tp] = l;
		st->attached |= SB_TP_BIT(tp);
	}
}

/* ---- the loader child ---- */

/* A loader still busy after this long is stuck: the agent goes on without. */
#define LOADER_TIMEOUT_S 60

/* What the child answers, with the fds it names in one SCM_RIGHTS message. */
struct loader_reply {
	int err; /* <0: the sensor cannot start (e.g. the watch list) */
	unsigned attached;
	struct sb_bpf_plan plan;
	unsigned nfds;
	uint8_t role[FD_MAX]; /* FD_* of each fd sent, in order */
};

union fd_cmsg {
	char buf[CMSG_SPACE(sizeof(int) * FD_MAX)];
	struct cmsghdr align;
};

/* Either object's map: the second one loaded shares the first's. */
static int loader_map_fd(struct loader *ld, const char *name)
{
	for (int o = 0; o < OBJ_MAX; o++) {
		struct bpf_map *m =
			ld->obj[o] ? bpf_object__find_map_by_name(ld->obj[o], name) : NULL;
		if (m && bpf_map__fd(m) >= 0)
			return bpf_map__fd(m);
	}
	return -1;
}

static int send_reply(int sock, struct loader_reply *rep, const int *fds)
{
	union fd_cmsg u;
	struct iovec iov = {.iov_base = rep, .iov_len = sizeof(*rep)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (rep->nfds) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * rep->nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * rep->nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * rep->nfds);
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(*rep) ? 0 : -errno;
}

/* The child: probe, plan, load, seed the watch list, attach, hand over the
 * fds the agent needs, exit. Never returns. */
static void loader_main(struct bpf_state *st, int sock, pid_t agent)
{
	struct loader ld = {.st = st};
	struct loader_reply rep = {0};
	int fds[FD_MAX];
	/* an agent killed meanwhile takes its loader with it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != agent)
		_exit(1);
	struct sb_bpf_probe probe;
	sb_bpf_probe_kernel(&probe);
	sb_bpf_plan(&probe, &st->plan);
	if (st->plan.reason == SB_BPF_OK) {
		rep.err = load_objects(&ld);
		if (!rep.err)
			attach_programs(&ld);
	}
	rep.plan = st->plan;
	rep.attached = st->attached;
	if (!rep.err && st->attached) {
		for (int i = 0; i < FD_LINK; i++) {
			int fd = i != FD_PROC_BSS   ? loader_map_fd(&ld, fd_map_names[i])
				 : ld.proc ? bpf_map__fd(ld.proc->maps.bss)
					   : -1;
			if (fd >= 0) {
				rep.role[rep.nfds] = (uint8_t)i;
				fds[rep.nfds++] = fd;
			}
		}
		for (int tp = 0; tp < SB_TP_MAX; tp++) {
			if (ld.links[tp]) {
				rep.role[rep.nfds] = (uint8_t)(FD_LINK + tp);
				fds[rep.nfds++] = bpf_link__fd(ld.links[tp]);
			}
		}
	}
	int r = send_reply(sock, &rep, fds);
	/* The agent holds its own references now: exiting closes ours and
	 * takes everything libbpf parsed along. */
	_exit(r ? 1 : 0);
}

static int recv_reply(int sock, struct loader_reply *rep, int *fds, size_t *nfds)
{
	union fd_cmsg u;
	struct iovec iov = {.iov_base = rep, .iov_len = sizeof(*rep)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	ssize_t n;
	*nfds = 0;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (*nfds < FD_MAX)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	if (n == 0)
		return -ECHILD; /* it exited without answering */
	if (n != (ssize_t)sizeof(*rep) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    rep->nfds != *nfds)
		return -EPROTO;
	return 0;
}

/* Runs the loader child and adopts the fds it sends. Fills why when the
 * child failed (crashed, stuck, or could not be started). */
static int run_loader(struct bpf_state *st, struct loader_reply *rep, char *why, size_t whylen)
{
	int sv[2], fds[FD_MAX], status = 0;
	size_t nfds = 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		snprintf(why, whylen, "cannot make a socket for the loader: %s", strerror(errno));
		return -errno;
	}
	pid_t agent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		loader_main(st, sv[1], agent);
	}
	int r = pid < 0 ? -errno : 0;
	close(sv[1]);
	if (!r) {
		struct timeval tv = {.tv_sec = LOADER_TIMEOUT_S};
		setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		r = recv_reply(sv[0], rep, fds, &nfds);
		if (r == -EAGAIN)
			kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	close(sv[0]);
	if (r) {
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		if (pid < 0)
			snprintf(why, whylen, "cannot start the loader process: %s", strerror(-r));
		else if (r == -EAGAIN)
			snprintf(why, whylen, "the loader process was still busy after %d s",
				 LOADER_TIMEOUT_S);
		else if (WIFSIGNALED(status))
			snprintf(why, whylen, "the loader process died of signal %d",
				 WTERMSIG(status));
		else
			snprintf(why, whylen, "the loader process exited %d without an answer (%s)",
				 WIFEXITED(status) ? WEXITSTATUS(status) : -1, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < nfds; i++) {
		unsigned role = rep->role[i];
		if (role < FD_MAX && st->fd[role] < 0)
			st->fd[role] = fds[i];
		else
			close(fds[i]);
	}
	return 0;
}

/* ---- ring buffer ---- */

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

/* Returns the records taken. */
static int drain(struct bpf_state *st)
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
	if (n > 0 && st->bss)
		st->bss->last_wakeup_ns = (__u64)sb_now_mono_ns();
	return n;
}

/* The kernel side wakes us at most every event_latency; records written
 * after a wakeup (or a drain) wait for the next one. While records come,
 * look again that much later, unless the next collect does it as soon, so
 * none waits longer than about that. */
static void drain_and_plan(struct bpf_state *st)
{
	if (drain(st) > 0 && st->next_collect > sb_now_mono_ns() + st->latency)
		sb_timer_set(st->rb_timer, st->latency, 0);
}

static void on_ring_timer(void *arg)
{
	drain_and_plan(arg);
}

static void on_ring_ready(void *arg, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	drain_and_plan(arg);
}

/* The globals of proc.bpf.c, for last_wakeup_ns; without them the kernel
 * side only wakes us more often. */
static void map_bss(struct bpf_state *st)
{
	int fd = st->fd[FD_PROC_BSS];
	if (fd < 0)
		return;
	long page = sysconf(_SC_PAGESIZE);
	size_t len = (sizeof(*st->bss) + (size_t)page - 1) / (size_t)page * (size_t)page;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		sb_dbg(COMP, "cannot map the programs' globals: %s", strerror(errno));
		return;
	}
	st->bss = p;
	st->bss_len = len;
}

static int open_ring(struct bpf_state *st)
{
	if (st->fd[FD_EVENTS] < 0 || !(st->attached & SB_TP_PROC_MASK))
		return 0;
	st->rb = ring_buffer__new(st->fd[FD_EVENTS], on_record, st, NULL);
	if (!st->rb) {
		sb_err(COMP, "cannot open the ring buffer: %s", strerror(errno));
		return -errno;
	}
	st->rb_timer = sb_timer_new(st->s->loop, on_ring_timer, st);
	if (!st->rb_timer)
		return -ENOMEM;
	map_bss(st);
	int fd = ring_buffer__epoll_fd(st->rb);
	int r = sb_loop_add_fd(st->s->loop, fd, SB_EV_READ, on_ring_ready, st);
	if (r) {
		sb_err(COMP, "cannot add the ring buffer to the loop: %s", strerror(-r));
		return r;
	}
	st->rb_fd = fd;
	return 0;
}

/* ---- teardown ---- */

/* The agent holds the only references to the links: closing them
 * detaches the programs. */
static void detach_all(struct bpf_state *st)
{
	for (int i = FD_LINK; i < FD_MAX; i++) {
		if (st->fd[i] >= 0)
			close(st->fd[i]);
		st->fd[i] = -1;
	}
}

static void state_free(struct bpf_state *st)
{
	if (!st)
		return;
	detach_all(st);
	if (st->rb_fd >= 0)
		sb_loop_del_fd(st->s->loop, st->rb_fd);
	sb_timer_free(st->rb_timer);
	ring_buffer__free(st->rb);
	if (st->bss)
		munmap(st->bss, st->bss_len);
	for (int i = 0; i < FD_LINK; i++)
		if (st->fd[i] >= 0)
			close(st->fd[i]);
	free(st->pcpu);
	free(st);
}

/* ---- reading the maps ---- */

/* A buffer for one value per CPU of vsz bytes, kept between reads. */
static void *pcpu_buf(struct bpf_state *st, size_t vsz)
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

static const void *read_percpu(struct bpf_state *st, int map, const void *key, size_t vsz)
{
	void *buf = pcpu_buf(st, vsz);
	if (!buf)
		return NULL;
	int r = bpf_map_lookup_elem(st->fd[map], key, buf);
	if (r) {
		if (r != -ENOENT) {
			st->s->errors++;
			sb_log_rl(&st->rl_read, SB_LOG_WARN, COMP, "cannot read map %s: %s",
				  fd_map_names[map], strerror(-r));
		}
		return NULL;
	}
	return buf;
}

/* sched_cpu: an array with an entry per CPU, read like a per-CPU value. */
static const struct sb_sched_cpu *read_sched_cpu(struct bpf_state *st)
{
	struct sb_sched_cpu *v = pcpu_buf(st, sizeof(*v));
	if (!v)
		return NULL;
	for (uint32_t cpu = 0; cpu < (uint32_t)st->ncpus; cpu++) {
		int r = bpf_map_lookup_elem(st->fd[FD_SCHED_CPU], &cpu, &v[cpu]);
		if (r) {
			st->s->errors++;
			sb_log_rl(&st->rl_read, SB_LOG_WARN, COMP, "cannot read map sched_cpu: %s",
				  strerror(-r));
			return NULL;
		}
	}
	return v;
}

static void sched_samples(struct bpf_state *st, struct sb_evb *b)
{
	const struct sb_sched_cpu *v = read_sched_cpu(st);
	if (!v)
		return;
	__u64 hist[SB_HIST_SLOTS] = {0};
	uint64_t sum = 0;
	for (int cpu = 0; cpu < st->ncpus; cpu++) {
		for (int k = 0; k < SB_HIST_SLOTS; k++)
			hist[k] += v[cpu].rq_hist[k];
		sum += v[cpu].rq_sum_ns;
		/* a CPU that never switched is offline or not there */
		if (!v[cpu].switches || !(st->attached & SB_TP_BIT(SB_TP_SCHED_SWITCH)))
			continue;
		char c[16];
		snprintf(c, sizeof(c), "%d", cpu);
		sb_evb_sample(b, "sensorbus_sched_context_switches_total", SB_COUNTER,
			      (double)v[cpu].switches);
		sb_evb_help(b, "Context switches, from the sched_switch tracepoint");
		sb_evb_label(b, "cpu", c);
	}
	if (st->attached & SB_TP_BIT(SB_TP_SCHED_SWITCH)) {
		sb_evb_sample(b, "sensorbus_sched_runqueue_latency_seconds", SB_HISTOGRAM, 0);
		sb_evb_help(b, "Time runnable tasks waited in a run queue for a CPU");
		sb_bpf_hist(b, hist, SB_HIST_SLOTS, SB_HIST_FIRST_LE_LOG2, sum);
	}
}

static void proc_samples(struct bpf_state *st, struct sb_evb *b)
{
	uint32_t zero = 0;
	const struct sb_proc_cpu *v = read_percpu(st, FD_PROC_CPU, &zero, sizeof(*v));
	if (!v)
		return;
	uint64_t forks = 0, lost = 0, full = 0;
	for (int cpu = 0; cpu < st->ncpus; cpu++) {
		forks += v[cpu].forks;
		lost += v[cpu].lost;
		full += v[cpu].watch_full;
	}
	if (full > st->watch_full_seen) {
		sb_log_rl(&st->rl_full, SB_LOG_WARN, COMP,
			  "watch: more than %d matching processes; %llu not followed",
			  SB_WATCH_MAX_PROCS, (unsigned long long)full);
		st->watch_full_seen = full;
	}
	if (st->attached & SB_TP_BIT(SB_TP_PROCESS_FORK)) {
		sb_evb_sample(b, "sensorbus_forks_total", SB_COUNTER, (double)forks);
		sb_evb_help(b, "Processes and threads created (sched_process_fork)");
	}
	sb_evb_sample(b, "sensorbus_bpf_ringbuf_lost_total", SB_COUNTER, (double)lost);
	sb_evb_help(b, "exec/exit/fork records dropped because the BPF ring buffer was full");
	if (lost > st->lost_seen) {
		sb_log_rl(&st->rl_lost, SB_LOG_WARN, COMP,
			  "ring buffer full: %llu exec/exit records lost so far",
			  (unsigned long long)lost);
		st->lost_seen = lost;
	}
}

struct proc_sample {
	const char *name;
	const char *help;
	double scale;
	size_t off;
};

static const struct proc_sample proc_counters[] = {
	{"sensorbus_process_oncpu_seconds_total", "Time the process's threads ran on a CPU", 1e-9,
	 offsetof(struct sb_proc_stats, oncpu_ns)},
	{"sensorbus_process_offcpu_seconds_total",
	 "Time the process's threads were switched out (asleep or waiting for a CPU)", 1e-9,
	 offsetof(struct sb_proc_stats, offcpu_ns)},
	{"sensorbus_process_runqueue_wait_seconds_total",
	 "Time the process's threads waited in a run queue", 1e-9,
	 offsetof(struct sb_proc_stats, rq_sum_ns)},
	{"sensorbus_process_voluntary_switches_total",
	 "Switches out of the process's threads that blocked", 1,
	 offsetof(struct sb_proc_stats, voluntary)},
	{"sensorbus_process_involuntary_switches_total",
	 "Switches out of the process's threads that were still runnable (preempted)", 1,
	 offsetof(struct sb_proc_stats, involuntary)},
	{"sensorbus_process_forks_total", "Processes and threads the process created", 1,
	 offsetof(struct sb_proc_stats, forks)},
};

static void proc_labels(struct bpf_state *st, struct sb_evb *b, const char *pid,
			const struct sb_proc_meta *m)
{
	sb_evb_labeln(b, "comm", 4, m->comm, strnlen(m->comm, SB_COMM_LEN));
	if (m->watch_idx < st->nwatch && st->watch[m->watch_idx].name)
		sb_evb_label(b, "name", st->watch[m->watch_idx].name);
	sb_evb_label(b, "pid", pid);
}

static void watched_samples(struct bpf_state *st, struct sb_evb *b)
{
	int procs = st->fd[FD_PROCS], stats = st->fd[FD_PROC_STATS];
	uint32_t keys[SB_WATCH_MAX_PROCS], gone[SB_WATCH_MAX_PROCS];
	size_t n = 0, ngone = 0;
	uint32_t key, *prev = NULL;
	while (n < SB_WATCH_MAX_PROCS &&
	       bpf_map_get_next_key(procs, prev, &key) == 0) {
		keys[n] = key;
		prev = &keys[n++];
	}
	for (size_t i = 0; i < n; i++) {
		struct sb_proc_meta m;
		if (bpf_map_lookup_elem(procs, &keys[i], &m))
			continue;
		const struct sb_proc_stats *v =
			read_percpu(st, FD_PROC_STATS, &keys[i], sizeof(*v));
		if (!v)
			continue;
		struct sb_proc_stats sum = {0};
		for (int cpu = 0; cpu < st->ncpus; cpu++) {
			const uint64_t *src = (const uint64_t *)&v[cpu];
			uint64_t *dst = (uint64_t *)&sum;
			for (size_t w = 0; w < sizeof(sum) / sizeof(uint64_t); w++)
				dst[w] += src[w];
		}
		char pid[16];
		snprintf(pid, sizeof(pid), "%u", keys[i]);
		for (size_t c = 0; c < SB_ARRAY_SIZE(proc_counters); c++) {
			const struct proc_sample *ps = &proc_counters[c];
			uint64_t raw;
			memcpy(&raw, (const char *)&sum + ps->off, sizeof(raw));
			sb_evb_sample(b, ps->name, SB_COUNTER, (double)raw * ps->scale);
			sb_evb_help(b, ps->help);
			proc_labels(st, b, pid, &m);
		}
		sb_evb_sample(b, "sensorbus_sched_runqueue_latency_seconds", SB_HISTOGRAM, 0);
		proc_labels(st, b, pid, &m);
		sb_bpf_hist(b, sum.rq_hist, SB_HIST_SLOTS, SB_HIST_FIRST_LE_LOG2, sum.rq_sum_ns);
		if (m.flags & SB_PROC_EXITED)
			gone[ngone++] = keys[i];
	}
	/* Published one last time above; now forget them. */
	for (size_t i = 0; i < ngone; i++) {
		bpf_map_delete_elem(stats, &gone[i]);
		bpf_map_delete_elem(procs, &gone[i]);
	}
}

/* ---- sensor ops ---- */

static int bpf_validate(const void *cfg, char *err, size_t errlen)
{
	const struct bpf_cfg *c = cfg;
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

static void describe_watch(const struct bpf_state *st, char *out, size_t n)
{
	size_t l = 0;
	out[0] = 0;
	for (size_t i = 0; i < st->nwatch && l < n; i++) {
		if (st->watch[i].name)
			l += (size_t)snprintf(out + l, n - l, "%s%s", i ? ", " : "",
					      st->watch[i].name);
		else
			l += (size_t)snprintf(out + l, n - l, "%spid %u", i ? ", " : "",
					      st->watch[i].pid);
	}
}

static int bpf_init(struct sb_sensor *s)
{
	const struct bpf_cfg *c = s->cfg;
	if (c->enabled == ENABLED_FALSE) {
		sb_info(COMP, "disabled by config (sensors.bpf.enabled = false): procfs-only");
		return 1;
	}
	struct bpf_state *st = state_new(s);
	if (!st)
		return -ENOMEM;
	parse_watch(st, c);
	st->latency = c->event_latency;
	libbpf_set_print(libbpf_log);
	st->ncpus = libbpf_num_possible_cpus();
	if (st->ncpus <= 0) {
		sb_err(COMP, "cannot count the possible CPUs: %s", strerror(-st->ncpus));
		state_free(st);
		return -EIO;
	}

	struct loader_reply rep;
	char why[160];
	int r = run_loader(st, &rep, why, sizeof(why));
	if (r) {
		struct sb_bpf_plan failed = {.reason = SB_BPF_LOAD_FAILED};
		r = decline(s, c, &failed, SB_BPF_LOAD_FAILED, why);
		state_free(st);
		return r;
	}
	st->plan = rep.plan;
	if (st->plan.reason != SB_BPF_OK) {
		r = decline(s, c, &st->plan, st->plan.reason, st->plan.why);
		state_free(st);
		return r;
	}
	st->attached = rep.attached;
	r = rep.err;
	if (!r && st->attached)
		r = open_ring(st);
	if (r) {
		state_free(st);
		return r;
	}
	if (!st->attached) {
		r = decline(s, c, &st->plan, SB_BPF_LOAD_FAILED,
			    "no BPF program could be loaded and attached (see the lines above)");
		state_free(st);
		return r;
	}
	/* What is not attached was said line by line above (or here, when the
	 * kernel lacks the tracepoint). */
	unsigned missing = st->plan.want & ~st->plan.load;
	for (int tp = 0; tp < SB_TP_MAX; tp++)
		if (missing & SB_TP_BIT(tp))
			sb_warn(COMP, "%s: no such tracepoint %s; its metrics are disabled",
				sb_bpf_tp_names[tp],
				st->plan.btf_mode ? "type in the kernel's BTF" : "in this kernel");
	char w[256];
	describe_watch(st, w, sizeof(w));
	sb_info(COMP, "%d of %d programs attached (%s; run-queue latency from %s); watching: %s",
		__builtin_popcount(st->attached), __builtin_popcount(st->plan.want),
		st->plan.btf_mode ? "tp_btf" : "raw_tp",
		st->plan.latency_wakeup ? "wakeups" : "sched_info", st->nwatch ? w : "nothing");
	st->mono_to_real = sb_now_real_ns() - sb_now_mono_ns();
	s->state = st;
	return 0;
}

static void bpf_collect(struct sb_sensor *s)
{
	struct bpf_state *st = s->state;
	struct sb_evb *b = &s->evb;
	st->mono_to_real = sb_now_real_ns() - sb_now_mono_ns();
	st->next_collect = sb_now_mono_ns() + s->interval;
	/* exec/exit events first: normally already taken on readiness, this
	 * matters for --once */
	if (st->fallback != SB_BPF_OK) {
		sb_evb_begin(b, "bpf", "metrics");
		status_samples(b, SB_TP_ALL, 0, st->plan.kernel_capable, st->fallback);
		sb_sensor_publish_evb(s);
		sb_sensor_round_done(s);
		return;
	}
	drain(st);
	sb_evb_begin(b, "bpf", "metrics");
	status_samples(b, st->plan.want, st->attached, st->plan.kernel_capable, SB_BPF_OK);
	if (st->fd[FD_SCHED_CPU] >= 0)
		sched_samples(st, b);
	if (st->fd[FD_PROC_CPU] >= 0)
		proc_samples(st, b);
	if (st->nwatch && st->fd[FD_PROCS] >= 0 && st->fd[FD_PROC_STATS] >= 0)
		watched_samples(st, b);
	sb_sensor_publish_evb(s);
	sb_sensor_round_done(s);
}

static void bpf_destroy(struct sb_sensor *s)
{
	struct bpf_state *st = s->state;
	if (!st)
		return;
	/* Stop producing, then take what is still in the ring: a process that
	 * exited just before shutdown still gets its exit event. */
	detach_all(st);
	drain(st);
	state_free(st);
	s->state = NULL;
	libbpf_set_print(NULL);
}

const struct sb_sensor_ops sb_sensor_bpf = {
	.name = "bpf",
	.desc = "scheduler and process lifecycle metrics and exec/exit events from eBPF "
		"(procfs-only fallback where BPF is unavailable)",
	.keys = bpf_keys,
	.cfg_size = sizeof(struct bpf_cfg),
	.validate = bpf_validate,
	.init = bpf_init,
	.collect = bpf_collect,
	.destroy = bpf_destroy,
};
