/* The process selector (sb_procsel.h): names against comm, then argv[0]. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc/proc.h"
#include "sb_procsel.h"

/* TASK_COMM_LEN - 1 */
#define COMM_MAX 15

bool sb_procsel_comm(const char *name, const char *comm)
{
	size_t n = strnlen(name, COMM_MAX);
	return !strncmp(name, comm, n) && comm[n] == 0;
}

int sb_procsel_match(const char *const *names, size_t n, const char *comm, int procfs, uint32_t pid,
		     bool kthread)
{
	for (size_t i = 0; i < n; i++)
		if (sb_procsel_comm(names[i], comm))
			return (int)i;
	if (kthread || procfs < 0)
		return -1;
	char path[32], buf[4096];
	snprintf(path, sizeof(path), "%u/cmdline", pid);
	int fd = openat(procfs, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, buf, sizeof(buf));
	close(fd);
	if (r <= 0)
		return -1; /* exited, or a zombie: no argv any more */
	const char *base;
	size_t bl = sb_proc_argv0_base(buf, (size_t)r, &base);
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) == bl && !memcmp(names[i], base, bl))
			return (int)i;
	return -1;
}
