/* The proc sensor's parsing pieces (parse.c): strict numbers, words and
 * lines of NUL-terminated text without allocation, the record of a file's
 * malformed lines, and names joined without printf. Every parser of
 * proc.h is made of these. */
#ifndef SB_PROC_PARSE_H
#define SB_PROC_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sb_util.h"

/* Malformed input seen by a parser: how many lines were skipped, and the
 * first one with the reason, for one log line per file. */
struct sb_proc_perr {
	unsigned nbad;
	unsigned line; /* 1-based; 0: the file as a whole */
	char why[112];
};

void sb_proc_bad(struct sb_proc_perr *e, unsigned line, const char *fmt, ...) SB_PRINTF(3, 4);

/* ---- tokenizing NUL-terminated text without allocation ---- */

static inline const char *sb_pp_blank(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static inline bool sb_pp_sep(char c) { return c == ' ' || c == '\t' || c == '\n' || c == 0; }

/* The '\n' ending the line at p, or the terminating NUL. */
const char *sb_pp_eol(const char *p);
/* The start of the next line (past '\n'), or the terminating NUL. */
static inline const char *sb_pp_next(const char *p)
{
	p = sb_pp_eol(p);
	return *p ? p + 1 : p;
}
/* The kernel ends every line with '\n': a last line without one was cut
 * short (a truncated copy), and its last number may be a prefix. */
static inline bool sb_pp_cut(const char *p) { return *sb_pp_eol(p) != '\n'; }
/* Reports the line at p (number lineno) when it was cut short. */
bool sb_proc_cut_line(const char *p, unsigned lineno, struct sb_proc_perr *e);
/* for each line of text: p at its start, lineno counting from 1; a last
 * line cut short is reported in e and skipped. Each line's end is found
 * once, for the check and the step to the next (they were two scans of
 * every line of every file a round); the body may use it too, as p_eol_
 * (its '\n', for a line that is p). */
#define SB_PROC_FOR_LINES(p, text, lineno, e)                                                      \
	for (const char *p = (text), *p##_eol_ = sb_pp_eol(p); *p;                                 \
	     p = *p##_eol_ ? p##_eol_ + 1 : p##_eol_, p##_eol_ = sb_pp_eol(p))                     \
		if (++(lineno), *p##_eol_ != '\n' && sb_proc_cut_line(p, lineno, e)) {             \
		} else
/* True when only blanks remain on the line at p. */
static inline bool sb_pp_at_eol(const char *p)
{
	p = sb_pp_blank(p);
	return *p == '\n' || *p == 0;
}
/* Skips blanks, then takes a run of non-blank characters; 0 at line end. */
size_t sb_pp_word(const char **p, const char **w);
/* A digit's value in bases up to 36 (0-9, a-z, A-Z); 99 for any other
 * byte, so `d >= base` rejects it. */
static inline int sb_pp_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/* Strict decimal numbers: skips blanks, needs at least one digit, no
 * overflow, and a blank, newline or NUL right after. *p advances only on
 * success. The usual number, unsigned and of up to 18 digits (below 10^18,
 * it fits either type), is read inline: every value of every file comes
 * through here, and the call and the sign and overflow tests were half of
 * a number's cost. Anything else goes to the full parser, which says the
 * same of it. */
bool sb_pp_u64_full(const char **p, uint64_t *v);
bool sb_pp_i64_full(const char **p, int64_t *v);
/* The end of the number at s (past blanks, in *x), or NULL when it is not
 * the usual case. */
static inline const char *sb_pp_short_u64(const char *s, uint64_t *x)
{
	s = sb_pp_blank(s);
	const char *start = s;
	uint64_t n = 0;
	for (unsigned d; (d = (unsigned)(*s - '0')) < 10 && s - start < 18; s++)
		n = n * 10 + d;
	if (s == start || s - start >= 18 || !sb_pp_sep(*s))
		return NULL;
	*x = n;
	return s;
}
static inline bool sb_pp_u64(const char **p, uint64_t *v)
{
	const char *e = sb_pp_short_u64(*p, v);
	if (!e)
		return sb_pp_u64_full(p, v);
	*p = e;
	return true;
}
static inline bool sb_pp_i64(const char **p, int64_t *v)
{
	uint64_t x;
	const char *e = sb_pp_short_u64(*p, &x);
	if (!e)
		return sb_pp_i64_full(p, v);
	*v = (int64_t)x;
	*p = e;
	return true;
}
/* Hex digits without "0x" (the kernel's %x, %08X): skips blanks, needs
 * a digit, no overflow; stops at the first other character, which the
 * caller checks (a blank, or ':' inside /proc/net/udp's fields). */
bool sb_pp_hex(const char **p, uint64_t *v);
bool sb_pp_double(const char **p, double *v);
/* Letters, digits and '_': safe inside a metric name. */
bool sb_proc_name_ok(const char *s, size_t n);
/* A whole buffer holding one unsigned number and optional whitespace. */
bool sb_pp_uint_text(const char *text, uint64_t *v);

/* Joins pieces of text into out (cut to fit, always NUL-terminated): the
 * metric names and help texts made for every sample every round, where
 * snprintf cost ten times as much. SB_PJ for a string, SB_PJN for the
 * first n bytes of one. */
struct sb_pj {
	const char *s;
	size_t n;
};
#define SB_PJ(s) ((struct sb_pj){(s), strlen(s)})
#define SB_PJN(s, n) ((struct sb_pj){(s), (n)})
const char *sb_proc_join(char *out, size_t cap, const struct sb_pj *parts, size_t nparts);
#define SB_PROC_JOIN(out, ...)                                                                     \
	sb_proc_join(out, sizeof(out), (const struct sb_pj[]){__VA_ARGS__},                        \
		     sizeof((const struct sb_pj[]){__VA_ARGS__}) / sizeof(struct sb_pj))

#endif
