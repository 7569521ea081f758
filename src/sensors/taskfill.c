/* The fields the task iterator could not read on this kernel, from procfs,
 * that field alone (sb_taskiter.h): I/O without task I/O accounting, RSS
 * with an rss_stat layout the program does not know, and open fds of a
 * table larger than the program counts. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sb_taskiter.h"

static int read_rel(int dirfd, const char *rel, char *buf, size_t n)
{
	int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	ssize_t r = read(fd, buf, n - 1);
	int e = r < 0 ? -errno : 0;
	close(fd);
	if (e)
		return e;
	buf[r] = 0;
	return 0;
}

static int fill_fds(struct sb_task *t, int dirfd, const char *rel)
{
	struct stat sb;
	/* Linux 6.2+: the fd directory's size is its number of entries */
	if (!fstatat(dirfd, rel, &sb, 0) && sb.st_size > 0) {
		t->open_fds = (uint32_t)sb.st_size;
		return 0;
	}
	int fd = openat(dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	uint32_t n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	closedir(d);
	t->open_fds = n;
	return 0;
}

static int fill_io(struct sb_task *t, int dirfd, const char *rel)
{
	char buf[512];
	int r = read_rel(dirfd, rel, buf, sizeof(buf));
	if (r)
		return r;
	struct {
		const char *key;
		uint64_t *v;
	} keys[] = {{"rchar:", &t->rchar},
		    {"wchar:", &t->wchar},
		    {"syscr:", &t->syscr},
		    {"syscw:", &t->syscw},
		    {"read_bytes:", &t->read_bytes},
		    {"write_bytes:", &t->write_bytes},
		    {"cancelled_write_bytes:", &t->cancelled_write_bytes}};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *p = strstr(buf, keys[i].key);
		if (!p || sscanf(p + strlen(keys[i].key), "%" SCNu64, keys[i].v) != 1)
			return -EINVAL;
	}
	return 0;
}

static int fill_rss(struct sb_task *t, int dirfd, const char *rel)
{
	char buf[256];
	uint64_t size, resident;
	int r = read_rel(dirfd, rel, buf, sizeof(buf));
	if (r)
		return r;
	if (sscanf(buf, "%" SCNu64 " %" SCNu64, &size, &resident) != 2)
		return -EINVAL;
	t->rss_pages = resident;
	return 0;
}

static const struct {
	uint32_t flag;
	const char *file;
	int (*fill)(struct sb_task *t, int dirfd, const char *rel);
} fills[] = {
    {SB_TASK_NO_FDS, "fd", fill_fds},
    {SB_TASK_NO_IO, "io", fill_io},
    {SB_TASK_NO_RSS, "statm", fill_rss},
};

int sb_task_fill_missing(struct sb_task *t, int procfs, uint32_t *failed)
{
	int first = 0;
	*failed = 0;
	for (size_t i = 0; i < sizeof(fills) / sizeof(fills[0]); i++) {
		if (!(t->missing & fills[i].flag))
			continue;
		char rel[48];
		snprintf(rel, sizeof(rel), "%u/%s", t->pid, fills[i].file);
		int r = fills[i].fill(t, procfs, rel);
		if (r) {
			*failed |= fills[i].flag;
			first = first ? first : r;
		}
	}
	return first;
}
