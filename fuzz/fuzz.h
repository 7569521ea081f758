/* What every libFuzzer harness of the project shares (docs/fuzzing.md):
 * quiet logs, and seeds made by the harness itself.
 *
 * A harness that defines FUZZ_SEEDS writes its own seed inputs (fixture
 * files with its selector byte, segments or records made by the project's
 * own writers) when run with SB_FUZZ_SEEDS=<dir>, then exits: the seeds
 * follow the harness's input format wherever it changes, and nothing made
 * by a build is committed. */
#ifndef SB_FUZZ_H
#define SB_FUZZ_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb_event.h"
#include "sb_json.h"
#include "sb_log.h"
#include "sb_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *fuzz_seed_dir;
static unsigned fuzz_nseeds;

/* One seed: the concatenation of the n parts (pointer, length pairs). */
__attribute__((unused)) static void fuzz_seed(const char *name, unsigned nparts, ...)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", fuzz_seed_dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(path);
		exit(1);
	}
	va_list ap;
	va_start(ap, nparts);
	for (unsigned i = 0; i < nparts; i++) {
		const void *p = va_arg(ap, const void *);
		size_t n = va_arg(ap, size_t);
		if (n && write(fd, p, n) != (ssize_t)n) {
			perror(path);
			exit(1);
		}
	}
	va_end(ap);
	close(fd);
	fuzz_nseeds++;
}

/* The whole file at path (NUL-terminated, *n without it), or NULL. */
__attribute__((unused)) static char *fuzz_slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *p = malloc(cap);
	size_t r;
	while (p && (r = fread(p + len, 1, cap - len - 1, f)) > 0) {
		len += r;
		if (cap - len - 1 == 0) {
			char *q = realloc(p, cap * 2);
			if (!q) {
				free(p);
				p = NULL;
				break;
			}
			p = q;
			cap *= 2;
		}
	}
	fclose(f);
	if (p)
		p[len] = 0;
	*n = len;
	return p;
}

/* A Prometheus metric name (colon allowed) or label name. */
__attribute__((unused)) static bool fuzz_name_ok(const char *s, bool colon)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || (colon && *s == ':')))
			return false;
	return true;
}

/* What every event a decoder makes must be: encodable as JSON, as the
 * sinks will write it, and with names the prom sink takes. */
__attribute__((unused)) static void fuzz_event_ok(const struct sb_event *ev, bool names)
{
	static struct sb_buf out;
	if (names)
		for (uint32_t i = 0; i < ev->nsamples; i++) {
			const struct sb_sample *s = &ev->samples[i];
			if (!fuzz_name_ok(s->name, true))
				abort();
			for (uint16_t k = 0; k < s->nlabels; k++)
				if (!fuzz_name_ok(s->labels[k].name, false))
					abort();
		}
	struct sb_codec_ctx ctx = {.run = "0", .host = "h"};
	sb_buf_reset(&out);
	sb_json_event(&out, &ctx, ev);
	if (out.err)
		abort();
}

/* The repository's root: where the fixtures are (make runs from it). */
__attribute__((unused)) static const char *fuzz_root(void)
{
	const char *r = getenv("SB_ROOT");
	return r && *r ? r : ".";
}

static void fuzz_log_drop(enum sb_log_level l, const char *line, void *arg)
{
	(void)l;
	(void)line;
	(void)arg;
}

#ifdef FUZZ_SEEDS
static void FUZZ_SEEDS(void);
#endif
#ifdef FUZZ_INIT
static void FUZZ_INIT(void);
#endif

/* Malformed input is what a harness feeds: the decoders' warnings about
 * it would only slow the run down. SB_FUZZ_LOG=1 keeps them (replaying a
 * finding). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *keep = getenv("SB_FUZZ_LOG");
	if (!keep || strcmp(keep, "1"))
		sb_log_set_hook(fuzz_log_drop, NULL);
#ifdef FUZZ_SEEDS
	fuzz_seed_dir = getenv("SB_FUZZ_SEEDS");
	if (fuzz_seed_dir) {
		FUZZ_SEEDS();
		fprintf(stderr, "%u seeds in %s\n", fuzz_nseeds, fuzz_seed_dir);
		exit(0);
	}
#endif
#ifdef FUZZ_INIT
	FUZZ_INIT();
#endif
	return 0;
}

#endif
