/* Which processes a list of names selects: one rule for the proc sensor's
 * `processes` (both readers) and the bpf sensor's `watch`, described in
 * docs/proc.md, "Selecting processes".
 *
 * A name selects a process whose comm is that name, compared on the 15
 * bytes the kernel keeps of it (a longer name: its first 15), or else whose
 * argv[0]'s basename is that name (a kernel thread has no argv). The bpf
 * sensor's kernel side applies the first half at exec, as a pre-filter. */
#ifndef SB_PROCSEL_H
#define SB_PROCSEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The comm half of the rule. */
bool sb_procsel_comm(const char *name, const char *comm);
/* The index in names[0..n) of the first name that selects process pid,
 * whose comm is comm, or -1. Its argv[0] is read (<procfs dirfd>/<pid>/
 * cmdline, once) only when no comm matches and the process is not a
 * kernel thread. */
int sb_procsel_match(const char *const *names, size_t n, const char *comm, int procfs, uint32_t pid,
		     bool kthread);

#endif
