/* One log function, one line per message on stderr:
 *   2026-11-27T20:00:01.000Z warn  [sensor:proc] cannot read /proc/stat: ...
 * Components pass their name; rate limiting is per call site state the
 * caller owns (struct sb_ratelimit), so a broken file logs once, then a
 * summary of what was suppressed, not a line per interval. */
#ifndef SB_LOG_H
#define SB_LOG_H

#include <stdint.h>

#include "sb_util.h"

/* trace: what only a library's own debugging needs (libbpf's loader
 * chatter), kept out of debug so that debug stays readable. */
enum sb_log_level { SB_LOG_ERROR, SB_LOG_WARN, SB_LOG_INFO, SB_LOG_DEBUG, SB_LOG_TRACE };

void sb_log_set_level(enum sb_log_level l);
enum sb_log_level sb_log_get_level(void);
int sb_log_parse_level(const char *s, enum sb_log_level *out);
/* Redirect for tests: every formatted line (without newline) is passed to
 * fn instead of being written to stderr. NULL restores stderr. */
void sb_log_set_hook(void (*fn)(enum sb_log_level, const char *line, void *arg), void *arg);

void sb_log(enum sb_log_level l, const char *comp, const char *fmt, ...) SB_PRINTF(3, 4);

struct sb_ratelimit {
	int64_t interval_ns; /* 0: 60 s */
	int64_t last_ns;
	uint64_t suppressed;
};
/* Logs unless a line went out through rl within its interval; the next
 * line that does go out reports how many were held back. */
void sb_log_rl(struct sb_ratelimit *rl, enum sb_log_level l, const char *comp, const char *fmt, ...)
    SB_PRINTF(4, 5);

#define sb_err(comp, ...) sb_log(SB_LOG_ERROR, comp, __VA_ARGS__)
#define sb_warn(comp, ...) sb_log(SB_LOG_WARN, comp, __VA_ARGS__)
#define sb_info(comp, ...) sb_log(SB_LOG_INFO, comp, __VA_ARGS__)
#define sb_dbg(comp, ...)                                                                          \
	do {                                                                                       \
		if (sb_log_get_level() >= SB_LOG_DEBUG)                                            \
			sb_log(SB_LOG_DEBUG, comp, __VA_ARGS__);                                   \
	} while (0)

#endif
