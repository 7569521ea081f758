/* Why a config is not JSON. cJSON says only where it stopped, and not
 * always where the mistake is ('{"a":1,}' stops at the end); this walks
 * the text the way cJSON reads it and says what it expected there. It runs
 * only after cJSON refused the text. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_config.h"

#define MAX_DEPTH 1000 /* cJSON's CJSON_NESTING_LIMIT */

struct walk {
	const char *p;
	const char *at; /* the error's position */
	char *what;
	size_t n;
	int depth;
};

static void skip_ws(struct walk *w)
{
	while (*w->p && (unsigned char)*w->p <= ' ')
		w->p++;
}

/* The token at p as the user wrote it: a word, or one character. */
static void token(const char *p, char *out, size_t n)
{
	size_t len = 0;
	while (len < 16 && ((p[len] >= 'a' && p[len] <= 'z') || (p[len] >= 'A' && p[len] <= 'Z') ||
			    (p[len] >= '0' && p[len] <= '9') || p[len] == '_'))
		len++;
	if (len)
		snprintf(out, n, "'%.*s'", (int)len, p);
	else if (*p == '\'')
		snprintf(out, n, "\"'\"");
	else if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f)
		snprintf(out, n, "byte 0x%02x", (unsigned char)*p);
	else
		snprintf(out, n, "'%c'", *p);
}

/* Sets the error: "expected X, found T" or, at the end, "unexpected end of
 * file: expected X"; hint is added in parentheses. */
static bool expected(struct walk *w, const char *x, const char *hint)
{
	w->at = w->p;
	if (!*w->p) {
		snprintf(w->what, w->n, "unexpected end of file: expected %s", x);
		return false;
	}
	if (w->p[0] == '/' && (w->p[1] == '/' || w->p[1] == '*')) {
		snprintf(w->what, w->n, "JSON has no comments");
		return false;
	}
	char t[40];
	token(w->p, t, sizeof(t));
	if (!hint && *w->p == '\'')
		hint = "strings take double quotes";
	snprintf(w->what, w->n, "expected %s, found %s%s%s%s", x, t, hint ? " (" : "",
		 hint ? hint : "", hint ? ")" : "");
	return false;
}

static bool at_error(struct walk *w, const char *at, const char *fmt, const char *arg)
{
	w->at = at;
	snprintf(w->what, w->n, fmt, arg);
	return false;
}

static bool string(struct walk *w)
{
	const char *start = w->p++;
	for (;;) {
		const char *c = w->p;
		if (!*c)
			return at_error(w, start, "unterminated string%s", "");
		if (*c == '"') {
			w->p++;
			return true;
		}
		if (*c != '\\') {
			w->p++;
			continue;
		}
		if (c[1] && strchr("\"\\/bfnrt", c[1])) {
			w->p += 2;
			continue;
		}
		if (c[1] == 'u') {
			int i = 2;
			while (i < 6 && strchr("0123456789abcdefABCDEF", c[i]) && c[i])
				i++;
			if (i == 6) {
				w->p += 6;
				continue;
			}
		}
		char esc[8];
		snprintf(esc, sizeof(esc), "%.*s", c[1] == 'u' ? 6 : 2, c);
		return at_error(w, c, "invalid escape '%s'", esc);
	}
}

static bool number(struct walk *w)
{
	char buf[64];
	size_t len = strspn(w->p, "0123456789+-eE.");
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, w->p, len);
	buf[len] = 0;
	char *end;
	strtod(buf, &end);
	if (end == buf)
		return expected(w, "a value", NULL);
	w->p += end - buf;
	return true;
}

static bool value(struct walk *w);

/* Objects and arrays: close is '}' or ']'. */
static bool members(struct walk *w, char close)
{
	bool obj = close == '}';
	const char *after = obj ? "',' or '}'" : "',' or ']'";
	if (++w->depth > MAX_DEPTH)
		return at_error(w, w->p, "nested more than %s deep", "1000");
	w->p++;
	skip_ws(w);
	if (*w->p == close) {
		w->p++;
		w->depth--;
		return true;
	}
	for (bool first = true;; first = false) {
		skip_ws(w);
		const char *trailing = !first && *w->p == close ? "a trailing comma?" : NULL;
		if (obj) {
			if (*w->p != '"')
				return expected(w, "a key in double quotes", trailing);
			if (!string(w))
				return false;
			skip_ws(w);
			if (*w->p != ':')
				return expected(w, "':' after the key", NULL);
			w->p++;
			skip_ws(w);
		} else if (trailing) {
			return expected(w, "a value", trailing);
		}
		if (!value(w))
			return false;
		skip_ws(w);
		if (*w->p == close) {
			w->p++;
			w->depth--;
			return true;
		}
		if (*w->p != ',')
			return expected(w, after, NULL);
		w->p++;
	}
}

static bool value(struct walk *w)
{
	skip_ws(w);
	static const char *const words[] = {"true", "false", "null"};
	for (size_t i = 0; i < 3; i++) {
		if (!strncmp(w->p, words[i], strlen(words[i]))) {
			w->p += strlen(words[i]);
			return true;
		}
	}
	switch (*w->p) {
	case '"':
		return string(w);
	case '{':
		return members(w, '}');
	case '[':
		return members(w, ']');
	case '-':
	case '0' ... '9':
		return number(w);
	default:
		return expected(w, "a value", NULL);
	}
}

bool sb_cfg_json_error(const char *text, size_t *at, char *what, size_t n)
{
	struct walk w = {.p = text, .what = what, .n = n};
	if (!strncmp(w.p, "\xEF\xBB\xBF", 3))
		w.p += 3; /* cJSON skips a byte order mark too */
	skip_ws(&w);
	bool ok;
	if (!*w.p) {
		ok = at_error(&w, w.p, "the file is empty%s", "");
	} else {
		ok = value(&w);
		skip_ws(&w);
		if (ok && *w.p)
			ok = at_error(&w, w.p, "text after the end of the config%s", "");
	}
	if (ok)
		return false;
	*at = (size_t)(w.at - text);
	return true;
}

void sb_cfg_line_col(const char *text, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (const char *p = text; p < text + off && *p; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)*p & 0xc0) != 0x80) {
			(*col)++; /* a column is a character, not a UTF-8 byte */
		}
	}
}
