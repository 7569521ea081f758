/* Dropping Linux capabilities the agent no longer needs once its sensors
 * are set up (BPF programs loaded and attached, files and sockets open). */
#ifndef SB_CAPS_H
#define SB_CAPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/capability.h>

/* A capability as a bit of the masks sensors and sinks declare. */
#define SB_CAP(c) (UINT64_C(1) << (c))

/* A user to run as once set up. */
struct sb_caps_user {
	char name[64];
	uid_t uid;
	gid_t gid;
};
/* Looks name up in the user database: 0, -ENOENT if there is no such
 * user, or -errno. */
int sb_caps_user_lookup(const char *name, struct sb_caps_user *u);

/* Keeps only the capabilities in keep (of those the thread holds) in its
 * permitted and effective sets, removes the others from the bounding set
 * (when CAP_SETPCAP allows) and clears the inheritable and ambient sets.
 * With u, also becomes that user on the way (its supplementary groups,
 * gid, uid: none of root's left), keeping the capabilities in keep across
 * the switch; -EPERM if the process may not switch (already u: nothing to
 * do). Capabilities are per thread: call it before other threads exist,
 * so they inherit the reduced sets. A no-op when the process holds no
 * capability (not root, none granted). Returns how many capabilities were
 * dropped from the permitted set, or -errno. kept (optional) receives
 * them as text. */
int sb_caps_drop(const int *keep, size_t nkeep, const struct sb_caps_user *u, char *kept,
		 size_t keptlen);

/* No execve from here on can grant privileges (setuid files, file
 * capabilities): PR_SET_NO_NEW_PRIVS. 0 or -errno. */
int sb_caps_no_new_privs(void);

#endif
