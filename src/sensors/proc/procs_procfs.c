/* Every process from procfs, into the same struct sb_task the task
 * iterator gives (sb_taskiter.h): the process reader's fallback where BPF
 * cannot run, for the groups. Per process: stat, status, io, limits and the
 * fd directory, what process-exporter reads too; read in steps of a bounded
 * number of processes per loop turn, like the iterator's walk.
 *
 * What procfs cannot give: the context switches of threads other than the
 * leader and of threads that exited (status is the leader's), and, for
 * other users' processes without CAP_SYS_PTRACE, io and fd/. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"
#include "sb_taskiter.h"

#define PF_KTHREAD 0x00200000u

struct sb_procfs_walk {
	int dirfd;
	uint32_t *pids;
	size_t npids, cap, next;
	struct sb_buf buf;
	struct sb_taskfold fold;
	double hz;
	uint64_t page;
	char *cgroot; /* NULL: cgroup ids not read */
};

static ssize_t read_at(struct sb_procfs_walk *w, const char *rel)
{
	int fd = openat(w->dirfd, rel, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	ssize_t r = sb_pread_all(fd, &w->buf, 1u << 16, true, false);
	close(fd);
	return r;
}

static uint64_t key_u64(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	uint64_t v = 0;
	if (p)
		sscanf(p + strlen(key), " %" SCNu64, &v);
	return v;
}

/* The cgroup v2 id the task iterator reads (kernfs node id, which is the
 * inode of the cgroup's directory): its path from the "0::" line of
 * /proc/PID/cgroup, under the mount. 0 when unknown. */
static uint64_t cgroup_id(struct sb_procfs_walk *w, uint32_t pid)
{
	char rel[48], path[4096];
	snprintf(rel, sizeof(rel), "%u/cgroup", pid);
	if (read_at(w, rel) <= 0)
		return 0;
	const char *p = w->buf.data;
	if (strncmp(p, "0::", 3) && !(p = strstr(p, "\n0::")))
		return 0;
	p += *p == '\n' ? 4 : 3;
	size_t n = strcspn(p, "\n");
	struct stat sb;
	if ((size_t)snprintf(path, sizeof(path), "%s%.*s", w->cgroot, (int)n, p) >= sizeof(path) ||
	    stat(path, &sb))
		return 0;
	return (uint64_t)sb.st_ino;
}

/* One process; false when it is gone (or its stat unreadable). */
static bool read_task(struct sb_procfs_walk *w, uint32_t pid, struct sb_task *t)
{
	char rel[48];
	const char *why;
	struct sb_proc_pidstat ps;
	memset(t, 0, sizeof(*t));
	snprintf(rel, sizeof(rel), "%u/stat", pid);
	if (read_at(w, rel) <= 0 || sb_proc_parse_pidstat(w->buf.data, &ps, &why))
		return false;
	/* fields the shared parser does not keep: ppid (4), nice (19) */
	const char *p = strrchr(w->buf.data, ')');
	long long ppid = 0, nice = 0;
	if (p)
		sscanf(p + 2,
		       "%*c %lld %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %lld",
		       &ppid, &nice);
	uint64_t tick = (uint64_t)(1e9 / w->hz);
	t->pid = pid;
	t->ppid = (uint32_t)ppid;
	t->nice = (int32_t)nice;
	/* task->comm, as the iterator has it (a kworker's /proc comm adds
	 * its workqueue) */
	memcpy(t->comm, ps.comm, ps.comm_len < SB_COMM_LEN - 1 ? ps.comm_len : SB_COMM_LEN - 1);
	t->state = ps.state;
	t->kthread = ps.flags & PF_KTHREAD;
	t->threads = (uint32_t)ps.num_threads;
	t->start_ns = ps.starttime * tick;
	t->utime_ns = ps.utime * tick;
	t->stime_ns = ps.stime * tick;
	t->min_flt = ps.minflt;
	t->maj_flt = ps.majflt;
	t->vm_pages = ps.vsize / w->page;
	t->rss_pages = ps.rss > 0 ? (uint64_t)ps.rss : 0;
	snprintf(rel, sizeof(rel), "%u/status", pid);
	if (read_at(w, rel) > 0) {
		t->uid = (uint32_t)key_u64(w->buf.data, "\nUid:");
		t->nvcsw = key_u64(w->buf.data, "\nvoluntary_ctxt_switches:");
		t->nivcsw = key_u64(w->buf.data, "\nnonvoluntary_ctxt_switches:");
		t->swap_pages = key_u64(w->buf.data, "\nVmSwap:") * 1024 / w->page;
	}
	snprintf(rel, sizeof(rel), "%u/io", pid);
	if (read_at(w, rel) > 0) {
		t->rchar = key_u64(w->buf.data, "rchar:");
		t->wchar = key_u64(w->buf.data, "wchar:");
		t->syscr = key_u64(w->buf.data, "syscr:");
		t->syscw = key_u64(w->buf.data, "syscw:");
		t->read_bytes = key_u64(w->buf.data, "\nread_bytes:");
		t->write_bytes = key_u64(w->buf.data, "\nwrite_bytes:");
		t->cancelled_write_bytes = key_u64(w->buf.data, "cancelled_write_bytes:");
	}
	snprintf(rel, sizeof(rel), "%u/limits", pid);
	if (read_at(w, rel) > 0 && sb_proc_parse_limits_nofile(w->buf.data, &t->fd_limit, &why))
		t->fd_limit = 0;
	if (w->cgroot)
		t->cgroup_id = cgroup_id(w, pid);
	t->missing = SB_TASK_NO_FDS;
	uint32_t failed;
	sb_task_fill_missing(t, w->dirfd, &failed);
	t->missing = failed;
	return true;
}

bool sb_procfs_walk_one(struct sb_procfs_walk *w, uint32_t pid, struct sb_task *t)
{
	return read_task(w, pid, t);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

int sb_procfs_walk_begin(struct sb_procfs_walk *w)
{
	w->npids = w->next = 0;
	sb_taskfold_reset(&w->fold);
	int fd = dup(w->dirfd);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	rewinddir(d);
	int r = 0;
	for (struct dirent *de; !r && (de = readdir(d));) {
		uint64_t pid;
		if (sb_parse_u64(de->d_name, &pid) || !pid || pid > UINT32_MAX)
			continue;
		if (sb_grow((void **)&w->pids, &w->cap, w->npids + 1, sizeof(*w->pids)))
			r = -ENOMEM;
		else
			w->pids[w->npids++] = (uint32_t)pid;
	}
	closedir(d);
	qsort(w->pids, w->npids, sizeof(*w->pids), cmp_u32);
	return r;
}

int sb_procfs_walk_step(struct sb_procfs_walk *w, size_t max_procs)
{
	for (size_t k = 0; k < max_procs && w->next < w->npids; k++) {
		struct sb_task t;
		if (!read_task(w, w->pids[w->next++], &t))
			continue; /* exited meanwhile */
		if (sb_grow((void **)&w->fold.tasks, &w->fold.cap, w->fold.n + 1,
			    sizeof(*w->fold.tasks)))
			return -ENOMEM;
		w->fold.tasks[w->fold.n++] = t;
	}
	return w->next < w->npids ? 1 : 0;
}

struct sb_taskfold *sb_procfs_walk_fold(struct sb_procfs_walk *w) { return &w->fold; }

int sb_procfs_walk_open(struct sb_procfs_walk **out, const char *procfs, double hz, double page,
			const char *cgroot)
{
	struct sb_procfs_walk *w = calloc(1, sizeof(*w));
	if (!w || (cgroot && !(w->cgroot = strdup(cgroot)))) {
		free(w);
		return -ENOMEM;
	}
	sb_buf_init(&w->buf);
	w->hz = hz;
	w->page = (uint64_t)page;
	w->dirfd = open(procfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0) {
		int r = -errno;
		sb_buf_free(&w->buf);
		free(w->cgroot);
		free(w);
		return r;
	}
	*out = w;
	return 0;
}

void sb_procfs_walk_close(struct sb_procfs_walk *w)
{
	if (!w)
		return;
	close(w->dirfd);
	free(w->pids);
	sb_buf_free(&w->buf);
	sb_taskfold_free(&w->fold);
	free(w->cgroot);
	free(w);
}
