/* Helpers for the proc sensor's parser tests: run a parser over text into
 * an event, then look samples up by name and labels. */
#ifndef TEST_PROC_H
#define TEST_PROC_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sb_log.h"

#include "../../src/sensors/proc/proc.h"

static const struct sb_proc_env tp_env = {.user_hz = 100, .page_size = 4096};

struct tp {
	struct sb_evb b;
	struct sb_event *ev;
	struct sb_proc_perr e;
	int n; /* what the parser returned */
};

static inline void tp_begin(struct tp *t)
{
	memset(t, 0, sizeof(*t));
	sb_evb_init(&t->b);
	sb_evb_begin(&t->b, "proc", "metrics");
}

static inline void tp_end(struct tp *t)
{
	t->ev = sb_evb_finish(&t->b);
	assert_non_null(t->ev);
	assert_int_equal(t->ev->nsamples, t->n);
}

static inline void tp_free(struct tp *t)
{
	sb_event_unref(t->ev);
	sb_evb_free(&t->b);
}

/* The sample named name whose labels include every given name=value pair
 * (NULL-terminated varargs), or NULL. */
static inline const struct sb_sample *tp_find(const struct tp *t, const char *name, ...)
{
	for (uint32_t i = 0; i < t->ev->nsamples; i++) {
		const struct sb_sample *s = &t->ev->samples[i];
		if (strcmp(s->name, name))
			continue;
		va_list ap;
		va_start(ap, name);
		bool ok = true;
		const char *k;
		while (ok && (k = va_arg(ap, const char *))) {
			const char *v = va_arg(ap, const char *);
			const char *have = sb_sample_label(s, k);
			ok = have && !strcmp(have, v);
		}
		va_end(ap);
		if (ok)
			return s;
	}
	return NULL;
}

#define tp_value(t, ...)                                                                           \
	({                                                                                         \
		const struct sb_sample *_s = tp_find(t, __VA_ARGS__, NULL);                        \
		if (!_s)                                                                           \
			fail_msg("no sample %s", #__VA_ARGS__);                                    \
		_s->value;                                                                         \
	})

#define tp_absent(t, ...) assert_null(tp_find(t, __VA_ARGS__, NULL))

/* Samples whose name starts with prefix. */
static inline unsigned tp_count(const struct tp *t, const char *prefix)
{
	unsigned n = 0;
	for (uint32_t i = 0; i < t->ev->nsamples; i++)
		n += !strncmp(t->ev->samples[i].name, prefix, strlen(prefix));
	return n;
}

static inline void assert_double_eq(double a, double b)
{
	if (a != b)
		fail_msg("%.17g != %.17g", a, b);
}

/* A scratch tree for tests that need files: tp_dir is its path while the
 * group runs; log lines go to hook meanwhile. */
static char tp_dir[64];

static inline int tp_dir_setup(void (*hook)(enum sb_log_level, const char *, void *))
{
	snprintf(tp_dir, sizeof(tp_dir), "/tmp/sb-proc-test.XXXXXX");
	if (!mkdtemp(tp_dir))
		return -1;
	sb_log_set_hook(hook, NULL);
	return 0;
}

/* The log hook most collector tests give tp_dir_setup: counts the warnings
 * and errors logged, in tp_nwarn. */
__attribute__((unused)) static int tp_nwarn;

static inline void tp_warn_hook(enum sb_log_level l, const char *line, void *arg)
{
	(void)line;
	(void)arg;
	if (l <= SB_LOG_WARN)
		tp_nwarn++;
}

static inline int tp_dir_teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tp_dir);
	sb_log_set_hook(NULL, NULL);
	return system(cmd);
}

/* Writes n bytes of text to tp_dir/rel. */
static inline void tp_put(const char *rel, const char *text, size_t n)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tp_dir, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
}

/* Reads a fixture file (tests run from the repository root). */
static inline char *tp_fixture(const char *rel)
{
	const char *root = getenv("SB_ROOT");
	char path[4096];
	snprintf(path, sizeof(path), "%s/fixtures/procfs/%s", root ? root : ".", rel);
	struct sb_buf buf;
	sb_buf_init(&buf);
	ssize_t r = sb_read_file(path, &buf, 1 << 24);
	if (r < 0)
		fail_msg("cannot read %s", path);
	sb_buf_cstr(&buf);
	return buf.data;
}

#endif
