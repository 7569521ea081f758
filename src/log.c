#include "sb_log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = SB_LOG_INFO;
static void (*log_hook)(enum sb_log_level, const char *, void *);
static void *log_hook_arg;

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

void sb_log_set_level(enum sb_log_level l) { atomic_store(&log_level, (int)l); }

enum sb_log_level sb_log_get_level(void)
{
	return (enum sb_log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

int sb_log_parse_level(const char *s, enum sb_log_level *out)
{
	for (int i = 0; i < (int)(sizeof(level_names) / sizeof(*level_names)); i++) {
		if (!strcmp(s, level_names[i])) {
			*out = (enum sb_log_level)i;
			return 0;
		}
	}
	if (!strcmp(s, "warning")) {
		*out = SB_LOG_WARN;
		return 0;
	}
	return -1;
}

void sb_log_set_hook(void (*fn)(enum sb_log_level, const char *, void *), void *arg)
{
	log_hook = fn;
	log_hook_arg = arg;
}

static void vlog(enum sb_log_level l, const char *comp, const char *suffix, const char *fmt,
		 va_list ap)
{
	if ((int)l > atomic_load_explicit(&log_level, memory_order_relaxed))
		return;
	char line[1024];
	size_t n = 0;
	if (!log_hook) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		struct tm tm;
		gmtime_r(&ts.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ ", ts.tv_nsec / 1000000);
	}
	int r = snprintf(line + n, sizeof(line) - n, "%-5s [%s] ", level_names[l], comp);
	if (r > 0 && (size_t)r < sizeof(line) - n)
		n += (size_t)r;
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n = (size_t)r < sizeof(line) - n ? n + (size_t)r : sizeof(line) - 1;
	if (suffix && n < sizeof(line) - 1) {
		r = snprintf(line + n, sizeof(line) - n, "%s", suffix);
		if (r > 0)
			n = (size_t)r < sizeof(line) - n ? n + (size_t)r : sizeof(line) - 1;
	}
	/* One message is one line, whatever a file name or peer sent us. */
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	if (log_hook) {
		line[n] = 0;
		log_hook(l, line, log_hook_arg);
		return;
	}
	line[n++] = '\n';
	/* a single write keeps lines from different threads whole */
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}

void sb_log(enum sb_log_level l, const char *comp, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(l, comp, NULL, fmt, ap);
	va_end(ap);
}

void sb_log_rl(struct sb_ratelimit *rl, enum sb_log_level l, const char *comp, const char *fmt, ...)
{
	int64_t now = sb_now_mono_ns();
	int64_t iv = rl->interval_ns ? rl->interval_ns : 60 * SB_NSEC_PER_SEC;
	if (rl->last_ns && now - rl->last_ns < iv) {
		rl->suppressed++;
		return;
	}
	char suffix[64] = "";
	if (rl->suppressed)
		snprintf(suffix, sizeof(suffix), " (%llu similar lines suppressed)",
			 (unsigned long long)rl->suppressed);
	rl->last_ns = now;
	rl->suppressed = 0;
	va_list ap;
	va_start(ap, fmt);
	vlog(l, comp, suffix[0] ? suffix : NULL, fmt, ap);
	va_end(ap);
}
