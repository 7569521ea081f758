/* Whether a pointer is into the program's own read-only image (its code,
 * .rodata and the like): nothing there changes while the program runs, so
 * a string found at the same address there as last time is the same
 * string, known without reading it. The event builder's memo (event.c)
 * relies on it: of a proc round's strings, about three in four names and
 * label values and five in six help texts are literals or come from const
 * tables of literals, and each was compared byte by byte with its copy,
 * both cold after a second's sleep. */
#ifndef SB_RODATA_H
#define SB_RODATA_H

#include <stdbool.h>
#include <stdint.h>

struct sb_rodata_range {
	uintptr_t lo, hi; /* [lo, hi); both 0 (nothing trusted) until found */
};
extern struct sb_rodata_range sb_rodata_image;

/* Finds the range, once; thread-safe, and cheap after the first call.
 * Where it cannot be found nothing is trusted, and callers compare
 * bytes as before. */
void sb_rodata_init(void);

static inline bool sb_rodata(const void *p)
{
	/* one compare: below lo wraps to a large number */
	return (uintptr_t)p - sb_rodata_image.lo < sb_rodata_image.hi - sb_rodata_image.lo;
}

#endif
