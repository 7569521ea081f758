#include "sb_rodata.h"

#include <link.h>
#include <pthread.h>
#include <stddef.h>

struct sb_rodata_range sb_rodata_image;

static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The executable's first run of adjacent loadable segments that are not
 * writable: the headers, the code and .rodata in the usual layout (R, R E,
 * R). A writable segment ends the run, so what .data.rel.ro or a writable
 * section holds is never in it. */
static int find(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	uintptr_t lo = 0, hi = 0;
	/* PT_LOAD entries come in address order (the ELF specification) */
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		if (p->p_type != PT_LOAD)
			continue;
		uintptr_t a = info->dlpi_addr + p->p_vaddr, e = a + p->p_memsz;
		if (p->p_flags & PF_W) {
			if (hi)
				break;
			continue;
		}
		uintptr_t al = p->p_align > 1 ? p->p_align : 1;
		if (!hi) {
			lo = a;
			hi = e;
		} else if (a <= ((hi + al - 1) & ~(al - 1))) {
			hi = e; /* the gap between is the last page of the one before */
		} else {
			break;
		}
	}
	if (lo < hi) {
		sb_rodata_image.lo = lo;
		sb_rodata_image.hi = hi;
	}
	return 1; /* the first object is the executable itself */
}

static void init(void) { dl_iterate_phdr(find, NULL); }

void sb_rodata_init(void) { pthread_once(&once, init); }
