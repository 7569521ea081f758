/* Safe file access (include/sb_fsafe.h). Every check works on an open
 * descriptor (fstat, openat), so what was checked is what is used: a name
 * swapped between a check and an open is never followed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sb_fsafe.h"

#define MAX_LINKS 40 /* as the kernel's own limit on a path walk */

static void say(char *why, size_t n, const char *fmt, ...) SB_PRINTF(3, 4);
static void say(char *why, size_t n, const char *fmt, ...)
{
	if (!why || !n)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
}

static const char *kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISLNK(m))
		return "a symbolic link";
	return "not a regular file";
}

/* dir/name for messages, without a doubled slash after "/" */
static void join(char *out, size_t n, const char *dir, const char *name)
{
	size_t l = strnlen(dir, n - 1);
	memcpy(out, dir, l);
	if (l < n - 1 && (!l || dir[l - 1] != '/'))
		out[l++] = '/';
	size_t m = strnlen(name, n - 1 - l);
	memcpy(out + l, name, m);
	out[l + m] = 0;
}

/* Splits path into its directory (copied to dir) and its last name. */
static const char *split(const char *path, char *dir, size_t n)
{
	const char *slash = strrchr(path, '/');
	if (!slash) {
		snprintf(dir, n, ".");
		return path;
	}
	size_t l = (size_t)(slash - path);
	snprintf(dir, n, "%.*s", (int)(l ? l : 1), path);
	return slash + 1;
}

/* Room for the whole file up front: a secret is never copied by a
 * realloc into memory freed unwiped. */
static int read_all(int fd, size_t size, size_t max, struct sb_buf *buf)
{
	sb_buf_reset(buf);
	if (sb_buf_reserve(buf, size + 2))
		return -ENOMEM;
	for (;;) {
		if (buf->cap - buf->len < 2 && sb_buf_reserve(buf, 4096))
			return -ENOMEM;
		ssize_t r = read(fd, buf->data + buf->len, buf->cap - buf->len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			break;
		buf->len += (size_t)r;
		if (buf->len > max)
			return -EFBIG; /* grew after the fstat */
	}
	buf->data[buf->len] = 0;
	return 0;
}

ssize_t sb_fsafe_read(const char *path, unsigned flags, size_t max, struct sb_buf *buf,
		      struct stat *st_out, char *why, size_t whylen)
{
	char dir[PATH_MAX];
	const char *name = split(path, dir, sizeof(dir));
	int fd = -1, r;
	struct stat st, ds;
	/* The directory may be reached through links (a configured data_dir
	 * often is one); only the file itself is the other user's to swap. */
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		say(why, whylen, "%s: %s", path, strerror(-r));
		return r;
	}
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -ELOOP)
			say(why, whylen, "%s: a symbolic link, not followed", path);
		else
			say(why, whylen, "%s: %s", path, strerror(-r));
		goto out;
	}
	if (fstat(fd, &st) || fstat(dfd, &ds)) {
		r = -errno;
		say(why, whylen, "%s: %s", path, strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		say(why, whylen, "%s: %s, not a regular file", path, kind(st.st_mode));
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = -EFBIG;
		say(why, whylen, "%s: %lld bytes, more than the %zu expected", path,
		    (long long)st.st_size, max);
		goto out;
	}
	if (flags & SB_FSAFE_SECRET) {
		r = -EPERM;
		if (st.st_uid != 0 && st.st_uid != ds.st_uid) {
			say(why, whylen,
			    "%s: owned by uid %u, not by root or its directory's owner (uid %u)",
			    path, (unsigned)st.st_uid, (unsigned)ds.st_uid);
			goto out;
		}
		if (st.st_mode & 022) {
			say(why, whylen, "%s: writable by group or others (mode %04o)", path,
			    (unsigned)(st.st_mode & 07777));
			goto out;
		}
		if (st.st_nlink != 1) {
			say(why, whylen, "%s: %ju hard links, one expected", path,
			    (uintmax_t)st.st_nlink);
			goto out;
		}
	}
	if ((r = read_all(fd, (size_t)st.st_size, max, buf))) {
		say(why, whylen, "%s: %s", path,
		    r == -EFBIG ? "grew past its bound while read" : strerror(-r));
		goto out;
	}
	if (st_out)
		*st_out = st;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	close(dfd);
	return r ? r : (ssize_t)buf->len;
}

/* A directory on the way (last: the one files go in) that no other user
 * can change: owned by root or us, and not writable by group or others,
 * except a sticky one on the way (/tmp), whose entries only their owners
 * may rename. */
static int check_dir(int fd, const char *at, bool last, char *why, size_t n)
{
	struct stat st;
	if (fstat(fd, &st)) {
		int r = -errno;
		say(why, n, "%s: %s", at, strerror(-r));
		return r;
	}
	uid_t me = geteuid();
	if (st.st_uid != 0 && st.st_uid != me) {
		say(why, n, "%s: owned by uid %u, not by root or this user (uid %u)", at,
		    (unsigned)st.st_uid, (unsigned)me);
		return -EPERM;
	}
	if ((st.st_mode & 022) && (last || !(st.st_mode & S_ISVTX))) {
		say(why, n, "%s: writable by group or others (mode %04o)%s", at,
		    (unsigned)(st.st_mode & 07777),
		    last && (st.st_mode & S_ISVTX)
			? ": another user could plant a link under our file's name"
			: "");
		return -EPERM;
	}
	return 0;
}

static int walk_start(const char *path, char *at, size_t n)
{
	snprintf(at, n, "%s", path[0] == '/' ? "/" : ".");
	return open(at, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

int sb_fsafe_dir_open(const char *dir, mode_t mkdir_mode, char *why, size_t whylen)
{
	char rest[PATH_MAX], at[PATH_MAX], next[PATH_MAX];
	if (!dir || !*dir || strlen(dir) >= PATH_MAX) {
		say(why, whylen, "\"%s\": not a usable directory path", dir ? dir : "");
		return -EINVAL;
	}
	snprintf(rest, sizeof(rest), "%s", dir);
	int fd = walk_start(rest, at, sizeof(at)), r = 0, links = 0;
	if (fd < 0) {
		r = -errno;
		say(why, whylen, "%s: %s", at, strerror(-r));
		return r;
	}
	if ((r = check_dir(fd, at, false, why, whylen)))
		goto out;
	char *p = rest;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *c = p;
		p += strcspn(p, "/");
		if (*p)
			*p++ = 0;
		if (!strcmp(c, "."))
			continue;
		char here[PATH_MAX];
		join(here, sizeof(here), at, c);
		struct stat st;
		if (fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW)) {
			r = -errno;
			if (r != -ENOENT || !mkdir_mode) {
				say(why, whylen, "%s: %s", here, strerror(-r));
				goto out;
			}
			/* A name someone made meanwhile is looked at again below. */
			if (mkdirat(fd, c, mkdir_mode) && errno != EEXIST) {
				r = -errno;
				say(why, whylen, "cannot create directory %s: %s", here,
				    strerror(-r));
				goto out;
			}
			if (fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW)) {
				r = -errno;
				say(why, whylen, "%s: %s", here, strerror(-r));
				goto out;
			}
		}
		if (S_ISLNK(st.st_mode)) {
			/* Links root or we made (/var/run -> /run) are followed;
			 * one another user made could lead anywhere. */
			if (st.st_uid != 0 && st.st_uid != geteuid()) {
				say(why, whylen,
				    "%s: a symbolic link owned by uid %u, not followed", here,
				    (unsigned)st.st_uid);
				r = -EPERM;
				goto out;
			}
			char target[PATH_MAX];
			ssize_t tl = readlinkat(fd, c, target, sizeof(target) - 1);
			if (tl < 0 || ++links > MAX_LINKS) {
				r = tl < 0 ? -errno : -ELOOP;
				say(why, whylen, "%s: %s", here, strerror(-r));
				goto out;
			}
			target[tl] = 0;
			if ((size_t)snprintf(next, sizeof(next), "%s/%s", target, p) >=
			    sizeof(rest)) {
				r = -ENAMETOOLONG;
				say(why, whylen, "%s: %s", here, strerror(-r));
				goto out;
			}
			memcpy(rest, next, strlen(next) + 1);
			p = rest;
			if (rest[0] == '/') {
				close(fd);
				if ((fd = walk_start(rest, at, sizeof(at))) < 0) {
					r = -errno;
					say(why, whylen, "/: %s", strerror(-r));
					goto out;
				}
			}
			continue;
		}
		int nfd = openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			r = -errno;
			say(why, whylen, "%s: %s", here, strerror(-r));
			goto out;
		}
		close(fd);
		fd = nfd;
		snprintf(at, sizeof(at), "%s", here);
		if ((r = check_dir(fd, at, false, why, whylen)))
			goto out;
	}
	if ((r = check_dir(fd, at, true, why, whylen)))
		goto out;
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		say(why, whylen, "%s: %s", at, strerror(-r));
		goto out;
	}
	close(fd);
	return dfd;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int sb_fsafe_open_in(int dfd, const char *dirpath, const char *name, int flags, mode_t mode,
		     unsigned fsflags, char *why, size_t whylen)
{
	char path[2 * PATH_MAX];
	join(path, sizeof(path), dirpath, name);
	int base = (flags & ~(O_CREAT | O_EXCL)) | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	bool create = flags & O_CREAT, must_be_new = create && (flags & O_EXCL);
	int fd = -1, r;
	/* Open what is there, else create it exclusively: O_CREAT alone would
	 * follow a link planted at a missing name. Bounded: each retry means
	 * the name came or went in between. */
	for (int i = 0; i < 4 && fd < 0; i++) {
		if (!must_be_new) {
			fd = openat(dfd, name, base);
			if (fd >= 0 || errno != ENOENT || !create)
				break;
		}
		fd = openat(dfd, name, base | O_CREAT | O_EXCL, mode);
		if (fd >= 0 || errno != EEXIST || must_be_new)
			break;
	}
	if (fd < 0) {
		r = -errno;
		if (r == -ELOOP)
			say(why, whylen, "%s: a symbolic link, not followed", path);
		else
			say(why, whylen, "cannot open %s: %s", path, strerror(-r));
		return r;
	}
	struct stat st;
	if (fstat(fd, &st)) {
		r = -errno;
		say(why, whylen, "%s: %s", path, strerror(-r));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !((fsflags & SB_FSAFE_DEVICE) && S_ISCHR(st.st_mode))) {
		r = -EINVAL;
		say(why, whylen, "%s: %s, not a regular file", path, kind(st.st_mode));
		goto fail;
	}
	/* O_NONBLOCK only kept the open from waiting on a FIFO */
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK)) {
		r = -errno;
		say(why, whylen, "%s: %s", path, strerror(-r));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return r;
}

int sb_fsafe_open_path(const char *path, int flags, mode_t mode, mode_t mkdir_mode,
		       unsigned fsflags, int *dfd_out, char *why, size_t whylen)
{
	char dir[PATH_MAX];
	if (strlen(path) >= PATH_MAX) {
		say(why, whylen, "%.64s...: %s", path, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	const char *name = split(path, dir, sizeof(dir));
	if (!*name) {
		say(why, whylen, "%s: names a directory, not a file", path);
		return -EISDIR;
	}
	int dfd = sb_fsafe_dir_open(dir, mkdir_mode, why, whylen);
	if (dfd < 0)
		return dfd;
	int fd = sb_fsafe_open_in(dfd, dir, name, flags, mode, fsflags, why, whylen);
	if (fd < 0 || !dfd_out)
		close(dfd);
	else
		*dfd_out = dfd;
	return fd;
}
