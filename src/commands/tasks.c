/* `sensorbus tasks [--walks N]`: N walks (default 1) of the BPF task
 * iterator, every process of the last one as one tab-separated line (a
 * header first) with the values the agent reads for it; on stderr, how many
 * of them had not run since the walk before (read in part, the rest kept).
 * For operators checking what the iterator sees, and for
 * tests/e2e/35-task-iterator.sh, which holds it against /proc. Exit 0, 1
 * when the iterator cannot run (the reason on stderr), 2 on usage. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "sb_taskiter.h"

int sb_tasks_main(int argc, char **argv)
{
	long walks = 1;
	char *end = NULL;
	if (argc == 3 && !strcmp(argv[1], "--walks"))
		walks = strtol(argv[2], &end, 10);
	if ((argc != 1 && argc != 3) || (end && (*end || walks < 1 || walks > 1000))) {
		fprintf(stderr, "usage: sensorbus tasks [--walks N]\n");
		return 2;
	}
	struct sb_taskiter *ti;
	char why[256];
	int r = sb_taskiter_open(&ti, why, sizeof(why));
	if (r) {
		fprintf(stderr, "sensorbus tasks: the task iterator cannot run: %s\n", why);
		return 1;
	}
	for (long w = 0; w < walks && r == 0; w++) {
		r = sb_taskiter_begin(ti);
		while (r == 0 && (r = sb_taskiter_step(ti, 1u << 20)) > 0)
			r = 0;
	}
	if (r < 0) {
		fprintf(stderr, "sensorbus tasks: reading the task iterator: %s\n", strerror(-r));
		sb_taskiter_close(ti);
		return 1;
	}
	const struct sb_taskfold *f = sb_taskiter_fold(ti);
	fprintf(stderr, "sensorbus tasks: %zu processes, %zu unchanged since the walk before\n",
		f->n, f->nsame);
	int procfs = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; procfs >= 0 && i < f->n; i++) {
		uint32_t failed;
		if (f->tasks[i].missing)
			sb_task_fill_missing(&f->tasks[i], procfs, &failed);
	}
	if (procfs >= 0)
		close(procfs);
	printf("pid\tppid\tuid\tstate\tnice\tthreads\tstart_ns\tutime_ns\tstime_ns\tminflt\t"
	       "majflt\tnvcsw\tnivcsw\trchar\twchar\tsyscr\tsyscw\tread_bytes\twrite_bytes\t"
	       "cancelled_write_bytes\trss_pages\tswap_pages\tvm_pages\topen_fds\tfd_limit\t"
	       "cgroup_id\tmissing\tkthread\tcomm\n");
	for (size_t i = 0; i < f->n; i++) {
		const struct sb_task *t = &f->tasks[i];
		printf(
		    "%u\t%u\t%u\t%c\t%d\t%u\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t"
		    "%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%u\t%llu\t%llu\t%u\t%d\t%s\n",
		    t->pid, t->ppid, t->uid, t->state, t->nice, t->threads,
		    (unsigned long long)t->start_ns, (unsigned long long)t->utime_ns,
		    (unsigned long long)t->stime_ns, (unsigned long long)t->min_flt,
		    (unsigned long long)t->maj_flt, (unsigned long long)t->nvcsw,
		    (unsigned long long)t->nivcsw, (unsigned long long)t->rchar,
		    (unsigned long long)t->wchar, (unsigned long long)t->syscr,
		    (unsigned long long)t->syscw, (unsigned long long)t->read_bytes,
		    (unsigned long long)t->write_bytes,
		    (unsigned long long)t->cancelled_write_bytes, (unsigned long long)t->rss_pages,
		    (unsigned long long)t->swap_pages, (unsigned long long)t->vm_pages, t->open_fds,
		    (unsigned long long)t->fd_limit, (unsigned long long)t->cgroup_id, t->missing,
		    t->kthread, t->comm);
	}
	sb_taskiter_close(ti);
	return 0;
}
