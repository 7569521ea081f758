/* Reading procfs/sysfs files cheaply and safely: open once, re-read with
 * pread from offset 0 into a reused buffer, reopen when the file went away.
 * Failures are counted and logged once per file (rate-limited), naming the
 * path, so a broken file never floods the log nor goes unnoticed. */
#ifndef SB_PROCFILE_H
#define SB_PROCFILE_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_log.h"
#include "sb_util.h"

struct sb_procfile {
	char *path;
	int fd;
	bool keep_open;		 /* false for per-process files read once */
	bool single;		 /* one seq_file show(): a short read is the end */
	unsigned short line_max; /* seq_file records of lines up to this long; 0: not */
	size_t max;		 /* larger files are refused (-EFBIG) */
	struct sb_buf buf;
	struct sb_ratelimit rl;
	uint64_t errors;
	int last_err;
	uint64_t round;	       /* the sensor round this buffer was read in */
	bool round_ok;	       /* ... and whether that read succeeded */
	uint64_t absent_round; /* optional and not there in that round; 0: present */
	uint64_t bad_round;    /* the round a parser's complaint about it was counted */
};

/* Reads the whole of fd from offset 0 into buf (reset first; NUL after the
 * data): a re-read of a kept-open procfs file makes the kernel generate it
 * afresh. -EFBIG above max bytes; -errno.
 *
 * single: the file is made by one seq_file show() (single_open: every
 * /proc/<pid> file read here), so a read returning less than asked for is
 * its end, and the read that would return 0 is saved; it costs as much as
 * the first (the kernel generates the text again to find the offset).
 * Files of many records (/proc/net/dev, diskstats, vmstat) hand out about a
 * page per read, so for them only a 0 read is the end, unless line_max: the
 * file's records are lines of at most line_max bytes, and seq_file stops
 * filling its buffer (a page at least) only at the end, or at a record that
 * no longer fits in it; so a read that returned less than asked for and
 * less than SB_PREAD_PAGE - line_max ended the file. The read that returns
 * 0 costs a syscall, and for some files as much as the first: for
 * /proc/net/udp both walk the whole socket hash table.
 * SB_PREAD_LINE_MAX is the bound for files whose lines are not counted. */
#define SB_PREAD_PAGE 4096 /* the smallest page, seq_file's smallest buffer */
#define SB_PREAD_LINE_MAX 2048
ssize_t sb_pread_all(int fd, struct sb_buf *buf, size_t max, bool single, size_t line_max);
/* The same, a single file's first read asking for first bytes only (0: as
 * much as the buffer holds); one that fills them is read again whole. */
ssize_t sb_pread_some(int fd, struct sb_buf *buf, size_t max, bool single, size_t line_max,
		      size_t first);

/* path is copied. max 0: 1 MiB. */
int sb_procfile_init(struct sb_procfile *f, const char *path, size_t max, bool keep_open);
void sb_procfile_free(struct sb_procfile *f);
/* Reads the whole file; returns its length (data NUL-terminated in
 * f->buf) or -errno. An error is counted and logged, rate-limited, under
 * component comp, except that an optional file the kernel does not provide
 * (-ENOENT, -EOPNOTSUPP) is not logged. */
ssize_t sb_procfile_read(struct sb_procfile *f, const char *comp, bool optional);
/* A directory listed every round (a sysfs class): *keep stays open and is
 * rewound, since opening walks the path again every time; it is opened
 * afresh when it was removed (a fixture tree replaced). NULL with errno
 * set when it cannot be opened. closedir(*keep) when done. */
DIR *sb_procdir_rewind(DIR **keep, const char *path);

/* Records a parse error for this file: counted, logged rate-limited. */
void sb_procfile_bad(struct sb_procfile *f, const char *comp, const char *fmt, ...) SB_PRINTF(3, 4);

#endif
