#include "filewatch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "proc.h"

/* A change of the file's contents, times or links, or of the file itself
 * going; and in a directory, an entry that appears, goes or is renamed. */
#define FILE_MASK (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF)
#define DIR_MASK                                                                                   \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF |     \
	 IN_ONLYDIR)

void sb_filewatch_init(struct sb_filewatch *fw, struct proc_state *st)
{
	memset(fw, 0, sizeof(*fw));
	fw->ifd = fw->mfd = -1;
	fw->islot = sb_proc_notify_add(st, &fw->ifd, POLLIN);
	fw->mslot = sb_proc_notify_add(st, &fw->mfd, POLLPRI);
}

void sb_filewatch_disarm(struct sb_filewatch *fw)
{
	if (fw->ifd >= 0)
		close(fw->ifd);
	fw->ifd = -1;
	fw->blind = false;
	for (size_t i = 0; i < fw->n; i++)
		free(fw->w[i].name);
	fw->n = 0;
}

void sb_filewatch_free(struct sb_filewatch *fw)
{
	sb_filewatch_disarm(fw);
	if (fw->mfd >= 0)
		close(fw->mfd);
	fw->mfd = -1;
}

static int off(struct sb_filewatch *fw, int err)
{
	sb_filewatch_disarm(fw);
	fw->off = true;
	return err;
}

/* Filesystems whose every change is made through this kernel, so inotify
 * tells it: not NFS, CIFS, FUSE or 9p, whose files change on the server
 * without an event here, nor overlayfs, whose layers can be written to
 * beside it. */
static bool local_fs(const char *path)
{
	struct statfs sf;
	if (statfs(path, &sf))
		return errno == ENOENT; /* nothing there yet: its directory says */
	switch ((uint32_t)sf.f_type) {
	case EXT4_SUPER_MAGIC:
	case XFS_SUPER_MAGIC:
	case BTRFS_SUPER_MAGIC:
	case TMPFS_MAGIC:
	case RAMFS_MAGIC:
	case F2FS_SUPER_MAGIC:
	case SQUASHFS_MAGIC:
	case EROFS_SUPER_MAGIC_V1:
		return true;
	default:
		return false;
	}
}

/* Watches dir for its entry name (a NULL name: path itself, any change). */
static int add(struct sb_filewatch *fw, const char *path, const char *name)
{
	if (fw->n >= SB_FILEWATCH_MAX)
		return -E2BIG;
	if (!local_fs(path))
		return -EXDEV;
	int wd = inotify_add_watch(fw->ifd, path, name ? DIR_MASK : FILE_MASK);
	if (wd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return -errno;
		/* a file: its directory tells when it comes; a directory:
		 * nothing does */
		fw->blind |= name != NULL;
		return 0;
	}
	char *copy = NULL;
	if (name && !(copy = strdup(name)))
		return -ENOMEM;
	fw->w[fw->n].wd = wd;
	fw->w[fw->n].name = copy;
	fw->n++;
	return 0;
}

/* The file (where a symlink leads: a rename over it is a change of its
 * links), and its directory, for the file or the symlink replaced. */
static int add_path(struct sb_filewatch *fw, const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash || (size_t)(slash - path) >= sizeof(dir))
		return -EINVAL;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	int r = add(fw, *dir ? dir : "/", slash + 1);
	return r ? r : add(fw, path, NULL);
}

int sb_filewatch_arm(struct sb_filewatch *fw, const char *const *paths, size_t n)
{
	if (fw->off)
		return -ENOTSUP;
	sb_filewatch_disarm(fw);
	if (fw->mfd < 0) {
		/* the agent's own namespace: the one its paths resolve in */
		fw->mfd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
		if (fw->mfd < 0)
			return off(fw, -errno);
		if (!sb_proc_mounts_pollable(fw->mfd))
			return off(fw, -ENOTSUP);
		sb_proc_mounts_changed(fw->mfd); /* from now on */
	}
	fw->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fw->ifd < 0)
		return off(fw, -errno);
	for (size_t i = 0; i < n; i++) {
		int r = add_path(fw, paths[i]);
		if (r)
			return off(fw, r);
	}
	return 0;
}

/* Whether the events read hold one that counts. */
static bool counts(const struct sb_filewatch *fw, const struct inotify_event *e)
{
	if (e->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_UNMOUNT))
		return true;
	for (size_t i = 0; i < fw->n; i++)
		if (fw->w[i].wd == e->wd &&
		    (!fw->w[i].name || (e->len && !strcmp(e->name, fw->w[i].name)) ||
		     (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF))))
			return true;
	return false;
}

bool sb_filewatch_changed(struct sb_filewatch *fw, const struct proc_state *st)
{
	if (fw->off || fw->ifd < 0)
		return true;
	/* the round's poll asked both, or they are asked here */
	int mt = sb_proc_notify_told(st, fw->mslot);
	if (mt < 0)
		mt = sb_proc_mounts_changed(fw->mfd);
	if (mt)
		return true;
	if (!sb_proc_notify_told(st, fw->islot))
		return false;
	bool changed = false;
	_Alignas(struct inotify_event) char buf[4096];
	for (;;) {
		ssize_t got = read(fw->ifd, buf, sizeof(buf));
		if (got <= 0)
			return changed || got == 0 || errno != EAGAIN;
		for (char *q = buf; q < buf + got;) {
			const struct inotify_event *e = (const struct inotify_event *)q;
			changed |= counts(fw, e);
			q += sizeof(*e) + e->len;
		}
	}
}
