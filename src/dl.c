#include "sb_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t dl_mu = PTHREAD_MUTEX_INITIALIZER;

int sb_dl_open(struct sb_dl_lib *lib)
{
	pthread_mutex_lock(&dl_mu);
	if (lib->handle || lib->err)
		goto out;
	/* RTLD_LOCAL: its symbols serve only the pointers resolved here. */
	void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		lib->err = -ELIBACC;
		snprintf(lib->why, sizeof(lib->why), "cannot load %s: %s", lib->soname, dlerror());
		goto out;
	}
	for (const struct sb_dl_sym *s = lib->syms; s->name; s++) {
		*s->fn = dlsym(h, s->name);
		if (!*s->fn) {
			lib->err = -ENOSYS;
			snprintf(lib->why, sizeof(lib->why), "%s has no %s (another version?)",
				 lib->soname, s->name);
			for (const struct sb_dl_sym *t = lib->syms; t->name; t++)
				*t->fn = NULL;
			dlclose(h);
			goto out;
		}
	}
	lib->handle = h;
out:
	pthread_mutex_unlock(&dl_mu);
	return lib->err;
}
