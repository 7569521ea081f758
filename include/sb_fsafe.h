/* Safe file access: reading files another user may control, and creating
 * files where no other user can plant anything.
 *
 * Reading (algod's data directory, owned by the algod user): a file is
 * opened without following a symlink and without blocking (a FIFO would
 * hang the loop), then fstat must show a regular file no larger than the
 * caller's bound. A secret (an API token, sent on the network) must also,
 * like OpenSSH's StrictModes, be owned by its directory's owner or root,
 * not be writable by group or others, and have one link (a hard link to a
 * root-only file is still that file).
 *
 * Writing (the file sink, the spool): the directory is reached component
 * by component without following a symlink another user owns; each
 * directory on the way is owned by root or us and not writable by group
 * or others unless sticky, and the last one is not writable by group or
 * others at all (a sticky /tmp lets anyone plant a link under a name we
 * will use). Files in it are opened O_NOFOLLOW and created O_EXCL.
 *
 * Every refusal returns a negative errno and fills `why` with the path
 * and the reason, for one log line. */
#ifndef SB_FSAFE_H
#define SB_FSAFE_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "sb_util.h"

enum {
	SB_FSAFE_SECRET = 1 << 0, /* read: the ownership and mode checks above */
	SB_FSAFE_DEVICE = 1 << 1, /* write: a character device (/dev/null) is fine too */
};

/* Reads all of path (at most max bytes) into buf, NUL-terminated; *st
 * (may be NULL) gets its fstat. Returns the length or -errno:
 * -ELOOP a symlink, -EINVAL not a regular file, -EFBIG over max,
 * -EPERM a secret with the wrong owner, mode or link count. */
ssize_t sb_fsafe_read(const char *path, unsigned flags, size_t max, struct sb_buf *buf,
		      struct stat *st, char *why, size_t whylen);

/* Opens directory dir (O_RDONLY | O_DIRECTORY) for creating files in,
 * after the checks above (-EPERM when one fails). With mkdir_mode != 0,
 * missing directories are created with that mode, like mkdir -p. */
int sb_fsafe_dir_open(const char *dir, mode_t mkdir_mode, char *why, size_t whylen);

/* Opens name in the directory dfd (reached as dirpath, for messages) with
 * flags (O_WRONLY/O_RDWR, O_APPEND, O_TRUNC), never through a symlink.
 * With O_CREAT a missing file is created with mode (O_EXCL, so nothing
 * planted meanwhile is followed); with O_CREAT | O_EXCL it must be new.
 * The file must be regular (or a character device with SB_FSAFE_DEVICE). */
int sb_fsafe_open_in(int dfd, const char *dirpath, const char *name, int flags, mode_t mode,
		     unsigned fsflags, char *why, size_t whylen);

/* sb_fsafe_dir_open on path's directory, then sb_fsafe_open_in. *dfd, if
 * not NULL, keeps the directory open (for renames beside the file). */
int sb_fsafe_open_path(const char *path, int flags, mode_t mode, mode_t mkdir_mode,
		       unsigned fsflags, int *dfd, char *why, size_t whylen);

#endif
