/* Probing, loading and attaching happen in a short-lived child process,
 * which hands the agent the maps' and links' fds over a socket and exits:
 * libbpf parses the kernel's BTF (several megabytes, once per object) for
 * CO-RE and tp_btf, and that peak would otherwise stay the agent's for its
 * whole life. The agent itself only reads maps and the ring buffers.
 *
 * The child goes through the table of objects (objects.h): it opens those
 * the plan needs, loads them, and attaches their programs one by one, so a
 * program that cannot only takes its own metrics away. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sensor.h"

/* The fd roles go over the socket as bytes. */
_Static_assert(SB_FD_MAX <= 256, "too many fds for the loader's reply");

/* The loader child's own state: libbpf's objects, never in the agent. */
struct loader {
	struct bpf_state *st;
	void *skel[SB_BPF_NOBJ];
	struct bpf_object *obj[SB_BPF_NOBJ];
	struct bpf_link *links[SB_TP_MAX];
	struct bpf_link *iter_links[SB_BPF_NOBJ];
	pid_t agent;
};

/* What the loader does with an object, by its row's kind (objects.h). */
struct sb_bpf_kind_ops {
	/* this load wants the object */
	bool (*wanted)(const struct bpf_state *st, const struct sb_bpf_obj *ob);
	/* between open and load: which of its programs load (NULL: all) */
	void (*select)(const struct bpf_state *st, const struct sb_bpf_obj *ob,
		       struct bpf_object *obj);
	/* after load: attaches its programs, keeping the links in ld */
	void (*attach)(struct loader *ld, int o);
};

static const struct sb_bpf_kind_ops kind_ops[SB_BPF_KIND_MAX];

/* ---- loading ---- */

static struct bpf_program *prog_of(struct bpf_object *obj, int tp, bool btf)
{
	char name[64];
	snprintf(name, sizeof(name), "%s_%s", sb_bpf_tp_names[tp], btf ? "btf" : "raw");
	return bpf_object__find_program_by_name(obj, name);
}

/* Tracepoint objects: the plan's mode picks one program of each pair. */
static void select_tracepoints(const struct bpf_state *st, const struct sb_bpf_obj *ob,
			       struct bpf_object *obj)
{
	(void)ob;
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
}

/* What the plan decides for every object, between open and load: which
 * programs load (by its kind), and the sizes of the shared maps
 * (bpf/common.bpf.h). */
static void configure(struct bpf_state *st, const struct sb_bpf_obj *ob, struct bpf_object *obj)
{
	const struct sb_bpf_kind_ops *k = &kind_ops[ob->kind];
	bool btf = st->plan.btf_mode;
	if (k->select)
		k->select(st, ob, obj);
	struct bpf_map *m;
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
	for (const char *const *name = sb_bpf_shared_maps; *name; name++) {
		struct bpf_map *a = bpf_object__find_map_by_name(from, *name);
		struct bpf_map *b = bpf_object__find_map_by_name(to, *name);
		if (a && b && bpf_map__fd(a) >= 0 && bpf_map__autocreate(b)) {
			int r = bpf_map__reuse_fd(b, bpf_map__fd(a));
			if (r)
				sb_warn(COMP, "map %s: cannot share it between programs: %s", *name,
					strerror(-r));
		}
	}
}

static void destroy_obj(struct loader *ld, int o)
{
	sb_bpf_objs[o]->destroy(ld->skel[o]);
	ld->skel[o] = NULL;
	ld->obj[o] = NULL;
}

static int load_objects(struct loader *ld)
{
	struct bpf_state *st = ld->st;
	/* Tasks born from here on are counted from their first switch; the
	 * programs are not attached yet, so none is missed or counted twice. */
	const struct sb_bpf_open_opts opts = {
	    .watch = st->nwatch > 0,
	    .born_after_ns = (__u64)sb_now_mono_ns(),
	    .latency_wakeup = st->plan.latency_wakeup,
	    .event_latency_ns = (__u64)st->latency,
	    .ncpus = st->ncpus,
	};
	struct rlimit before = {0}, after = {0};
	getrlimit(RLIMIT_MEMLOCK, &before);
	struct bpf_object *first = NULL;
	for (int o = 0; o < SB_BPF_NOBJ; o++) {
		const struct sb_bpf_obj *ob = sb_bpf_objs[o];
		const struct sb_bpf_kind_ops *k = &kind_ops[ob->kind];
		if (!(st->kinds & SB_BPF_KIND_BIT(ob->kind)) || !k->wanted(st, ob))
			continue;
		ld->skel[o] = ob->open(&opts, &ld->obj[o]);
		if (!ld->skel[o]) {
			ld->obj[o] = NULL;
			sb_warn(COMP, "cannot open the %s programs: %s", ob->name, strerror(errno));
			continue;
		}
		configure(st, ob, ld->obj[o]);
		if (first)
			share_maps(first, ld->obj[o]);
		int r = bpf_object__load(ld->obj[o]);
		if (r) {
			/* libbpf has logged the verifier's reasons just above */
			sb_warn(COMP, "cannot load the %s programs: %s; their metrics are disabled",
				ob->name, strerror(-r));
			destroy_obj(ld, o);
			continue;
		}
		if (!first) {
			first = ld->obj[o];
			if (opts.watch && (r = sb_bpf_watch_seed(st, first)))
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

static bool tracepoints_wanted(const struct bpf_state *st, const struct sb_bpf_obj *ob)
{
	return ob->tps & st->plan.load;
}

static void attach_tracepoints(struct loader *ld, int o)
{
	struct bpf_state *st = ld->st;
	unsigned tps = sb_bpf_objs[o]->tps & st->plan.load;
	for (int tp = 0; tp < SB_TP_MAX; tp++) {
		if (!(tps & SB_TP_BIT(tp)))
			continue;
		struct bpf_program *prog = prog_of(ld->obj[o], tp, st->plan.btf_mode);
		if (!prog || bpf_program__fd(prog) < 0)
			continue;
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

static bool iter_wanted(const struct bpf_state *st, const struct sb_bpf_obj *ob)
{
	(void)ob;
	return st->plan.iter;
}

/* One program of an iterator object: its walk program where the kernel
 * can run it, else the other one. */
static void select_iter(const struct bpf_state *st, const struct sb_bpf_obj *ob,
			struct bpf_object *obj)
{
	struct bpf_program *p;
	if (!ob->walk_prog)
		return;
	bpf_object__for_each_program(p, obj)
	{
		bool walk = !strcmp(bpf_program__name(p), ob->walk_prog);
		bpf_program__set_autoload(p, walk == st->plan.iter_walk);
	}
}

/* An iterator's link is attached to nothing: each bpf_iter_create on it
 * starts a walk. A walk program (it walks the tasks itself) is attached to
 * the agent's main thread alone, which it runs for once. */
static void attach_iter(struct loader *ld, int o)
{
	struct bpf_program *prog = NULL;
	bpf_object__for_each_program(prog, ld->obj[o]) if (bpf_program__fd(prog) >= 0) break;
	if (!prog)
		return;
	const char *walk = sb_bpf_objs[o]->walk_prog;
	union bpf_iter_link_info li = {.task.tid = (__u32)ld->agent};
	DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, self, .link_info = &li,
			    .link_info_len = sizeof(li));
	bool own = walk && !strcmp(bpf_program__name(prog), walk);
	struct bpf_link *l = bpf_program__attach_iter(prog, own ? &self : NULL);
	if (!l) {
		sb_warn(COMP, "%s: cannot attach its iterator %s: %s", sb_bpf_objs[o]->name,
			bpf_program__name(prog), strerror(errno));
		return;
	}
	ld->iter_links[o] = l;
	ld->st->iters |= 1u << o;
}

static const struct sb_bpf_kind_ops kind_ops[SB_BPF_KIND_MAX] = {
    [SB_BPF_KIND_TRACEPOINTS] = {.wanted = tracepoints_wanted,
				 .select = select_tracepoints,
				 .attach = attach_tracepoints},
    [SB_BPF_KIND_ITER] = {.wanted = iter_wanted, .select = select_iter, .attach = attach_iter},
};

static void attach_programs(struct loader *ld)
{
	for (int o = 0; o < SB_BPF_NOBJ; o++)
		if (ld->obj[o]) /* else not wanted, or did not load: said already */
			kind_ops[sb_bpf_objs[o]->kind].attach(ld, o);
}

/* ---- the loader child ---- */

/* A loader still busy after this long is stuck: the agent goes on without. */
#define LOADER_TIMEOUT_S 60

/* What the child answers, with the fds it names in one SCM_RIGHTS message. */
struct loader_reply {
	struct sb_bpf_loaded r;
	unsigned nfds;
	uint8_t role[SB_FD_MAX]; /* index in st->fd of each fd sent, in order */
};

union fd_cmsg {
	char buf[CMSG_SPACE(sizeof(int) * SB_FD_MAX)];
	struct cmsghdr align;
};

/* A map every object declares: the first loaded created it. */
static int common_map_fd(struct loader *ld, const char *name)
{
	for (int o = 0; o < SB_BPF_NOBJ; o++) {
		struct bpf_map *m =
		    ld->obj[o] ? bpf_object__find_map_by_name(ld->obj[o], name) : NULL;
		if (m && bpf_map__fd(m) >= 0)
			return bpf_map__fd(m);
	}
	return -1;
}

static void add_fd(struct loader_reply *rep, int *fds, int role, int fd)
{
	if (fd < 0)
		return;
	rep->role[rep->nfds] = (uint8_t)role;
	fds[rep->nfds++] = fd;
}

/* Every fd the agent keeps: each loaded object's own maps, the shared
 * maps it reads, and the links. */
static void collect_fds(struct loader *ld, struct loader_reply *rep, int *fds)
{
	for (int o = 0; o < SB_BPF_NOBJ; o++) {
		const struct sb_bpf_obj *ob = sb_bpf_objs[o];
		for (int i = 0; ld->obj[o] && i < SB_BPF_OBJ_MAPS && ob->maps[i]; i++) {
			struct bpf_map *m = bpf_object__find_map_by_name(ld->obj[o], ob->maps[i]);
			add_fd(rep, fds, SB_FD_MAP(o, i), m ? bpf_map__fd(m) : -1);
		}
	}
	for (int i = 0; i < SB_COMMON_MAX; i++)
		add_fd(rep, fds, SB_FD_COMMON(i), common_map_fd(ld, sb_bpf_common_maps[i]));
	for (int tp = 0; tp < SB_TP_MAX; tp++)
		if (ld->links[tp])
			add_fd(rep, fds, SB_FD_LINK(tp), bpf_link__fd(ld->links[tp]));
	for (int o = 0; o < SB_BPF_NOBJ; o++)
		if (ld->iter_links[o])
			add_fd(rep, fds, SB_FD_ITER(o), bpf_link__fd(ld->iter_links[o]));
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
	struct loader ld = {.st = st, .agent = agent};
	struct loader_reply rep = {0};
	int fds[SB_FD_MAX];
	/* an agent killed meanwhile takes its loader with it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != agent)
		_exit(1);
	struct sb_bpf_probe probe;
	sb_bpf_probe_kernel(&probe);
	sb_bpf_plan(&probe, &st->plan);
	/* each kind's wanted() says what the plan allows it */
	if (st->plan.reason == SB_BPF_OK || st->plan.iter) {
		rep.r.err = load_objects(&ld);
		if (!rep.r.err)
			attach_programs(&ld);
	}
	rep.r.plan = st->plan;
	rep.r.attached = st->attached;
	rep.r.iters = st->iters;
	if (!rep.r.err && (st->attached || st->iters))
		collect_fds(&ld, &rep, fds);
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
			if (*nfds < SB_FD_MAX)
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

int sb_bpf_run_loader(struct bpf_state *st, struct sb_bpf_loaded *loaded, char *why, size_t whylen)
{
	struct loader_reply rep;
	int sv[2], fds[SB_FD_MAX], status = 0;
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
		r = recv_reply(sv[0], &rep, fds, &nfds);
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
		unsigned role = rep.role[i];
		if (role < SB_FD_MAX && st->fd[role] < 0)
			st->fd[role] = fds[i];
		else
			close(fds[i]);
	}
	*loaded = rep.r;
	return 0;
}
