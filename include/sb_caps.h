/* Dropping Linux capabilities the agent no longer needs once its sensors
 * are set up (BPF programs loaded and attached, files and sockets open). */
#ifndef SB_CAPS_H
#define SB_CAPS_H

#include <stddef.h>

/* Keeps only the capabilities in keep (of those the thread holds) in its
 * permitted and effective sets, removes the others from the bounding set
 * (when CAP_SETPCAP allows) and clears the inheritable and ambient sets.
 * Capabilities are per thread: call it before other threads exist, so they
 * inherit the reduced sets. A no-op when the process holds no capability
 * (not root, none granted). Returns how many capabilities were dropped from
 * the permitted set, or -errno. kept (optional) receives them as text. */
int sb_caps_drop(const int *keep, size_t nkeep, char *kept, size_t keptlen);

#endif
