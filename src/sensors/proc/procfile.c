#include "procfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sb_procfile_init(struct sb_procfile *f, const char *path, size_t max, bool keep_open)
{
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->keep_open = keep_open;
	f->max = max ? max : (1u << 20);
	f->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	sb_buf_init(&f->buf);
	f->path = strdup(path);
	return f->path ? 0 : -ENOMEM;
}

void sb_procfile_free(struct sb_procfile *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	sb_buf_free(&f->buf);
	free(f->path);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
}

ssize_t sb_pread_some(int fd, struct sb_buf *buf, size_t max, bool single, size_t line_max,
		      size_t first)
{
	if (fd < 0)
		return -EBADF;
	sb_buf_reset(buf);
	for (;;) {
		if (sb_buf_reserve(buf, 4096))
			return -ENOMEM;
		size_t want = buf->cap - buf->len - 1;
		bool hinted = single && first && first < want;
		if (hinted)
			want = first;
		ssize_t n = pread(fd, buf->data + buf->len, want, (off_t)buf->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (hinted && (size_t)n == want) {
			/* longer than asked for: read it again whole from
			 * offset 0, as a sysctl read past 0 gives nothing */
			first = 0;
			sb_buf_reset(buf);
			continue;
		}
		if (n == 0)
			break;
		buf->len += (size_t)n;
		if (buf->len > max)
			return -EFBIG;
		if ((size_t)n < want &&
		    (single || (line_max && (size_t)n + line_max < SB_PREAD_PAGE)))
			break;
	}
	buf->data[buf->len] = 0;
	return (ssize_t)buf->len;
}

ssize_t sb_pread_all(int fd, struct sb_buf *buf, size_t max, bool single, size_t line_max)
{
	return sb_pread_some(fd, buf, max, single, line_max, 0);
}

/* A kept file made by one show() is asked for about what it gave last
 * time: a sysctl read allocates and zeroes a kernel buffer of the size
 * asked for (proc_sys_call_handler), 8 KiB here for a number of a few
 * digits. Twice the last length and some: a value that grows past it is
 * read again whole (one read more, once). */
static ssize_t read_fd(struct sb_procfile *f)
{
	size_t last = f->buf.len;
	size_t first = last ? 2 * last + 8 : 0;
	return sb_pread_some(f->fd, &f->buf, f->max, f->single, f->line_max, first);
}

ssize_t sb_procfile_read(struct sb_procfile *f, const char *comp, bool optional)
{
	ssize_t r;
	bool fresh = false;
	if (f->fd < 0) {
		f->fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (f->fd < 0) {
			r = -errno;
			goto fail;
		}
		fresh = true;
	}
	r = read_fd(f);
	if (r < 0 && !fresh && r != -EFBIG && r != -ENOMEM) {
		/* The file may have been replaced (a fixture tree rewritten, a
		 * device gone and back): try once with a new fd. */
		close(f->fd);
		f->fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		r = f->fd < 0 ? -errno : read_fd(f);
	}
	if (!f->keep_open && f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
	if (r >= 0) {
		f->last_err = 0;
		return r;
	}
fail:
	if (f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
	f->errors++;
	if (!(optional && (r == -ENOENT || r == -EOPNOTSUPP))) {
		if (r == -EFBIG)
			sb_log_rl(&f->rl, SB_LOG_WARN, comp, "%s: larger than %zu bytes, skipped",
				  f->path, f->max);
		else
			sb_log_rl(&f->rl, SB_LOG_WARN, comp, "cannot read %s: %s", f->path,
				  strerror((int)-r));
	}
	f->last_err = (int)r;
	return r;
}

DIR *sb_procdir_rewind(DIR **keep, const char *path)
{
	if (*keep) {
		struct stat sb;
		if (!fstat(dirfd(*keep), &sb) && sb.st_nlink > 0) {
			rewinddir(*keep);
			return *keep;
		}
		closedir(*keep); /* removed: a new one may be there */
	}
	*keep = opendir(path);
	return *keep;
}

void sb_procfile_bad(struct sb_procfile *f, const char *comp, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f->errors++;
	sb_log_rl(&f->rl, SB_LOG_WARN, comp, "%s: %s", f->path, msg);
}
