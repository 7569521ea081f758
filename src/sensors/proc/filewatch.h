/* Whether a few files a collector caches (os-release) may have changed,
 * asked of the kernel in one poll a round instead of a stat of each: an
 * inotify watch of each file (of where its symlink leads: an edit, or a
 * rename over it, which changes its links), of its directory (the file or
 * the symlink replaced, or one that appears), and the agent's own mount
 * table (a mount over the file or a directory on its way, which inotify
 * does not see).
 *
 * Only where the kernel tells every change: a file whose filesystem is a
 * local one (network and FUSE filesystems change under their clients
 * without events). Elsewhere, or where a watch cannot be had, "may have
 * changed" is the answer every round and the caller looks as before. */
#ifndef SB_PROC_FILEWATCH_H
#define SB_PROC_FILEWATCH_H

#include <stdbool.h>
#include <stddef.h>

struct proc_state;

#define SB_FILEWATCH_MAX 8

struct sb_filewatch {
	int ifd;	  /* inotify; -1: none (not armed, or not to be had) */
	int mfd;	  /* /proc/self/mountinfo */
	int islot, mslot; /* theirs in the round's poll (notify.c) */
	bool off;	  /* could not be had: every answer is "may have changed" */
	/* armed, but a directory on the paths was not there: a file that
	 * appears in it, or under it, is not told */
	bool blind;
	size_t n;
	struct {
		int wd;
		char *name; /* a directory's: the entry that counts; NULL: any */
	} w[SB_FILEWATCH_MAX];
};

/* Its descriptors are asked in the round's one poll. */
void sb_filewatch_init(struct sb_filewatch *fw, struct proc_state *st);
/* Watches paths[0, n) (present or not), dropping any earlier watches; the
 * caller reads the files after this, so that a change from then on is
 * told. 0, or -errno and the watch is off for good. */
int sb_filewatch_arm(struct sb_filewatch *fw, const char *const *paths, size_t n);
/* Drops the watches (kept: the mount table); until armed again, every
 * answer is "may have changed", and the round's poll asks nothing of it. */
void sb_filewatch_disarm(struct sb_filewatch *fw);
/* false only when armed and nothing watched changed since; drains what
 * the kernel told. Once a round, before a new arm. */
bool sb_filewatch_changed(struct sb_filewatch *fw, const struct proc_state *st);
void sb_filewatch_free(struct sb_filewatch *fw);

#endif
