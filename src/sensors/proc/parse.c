/* Tokenizing and filtering helpers shared by the proc sensor's parsers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

void sb_proc_bad(struct sb_proc_perr *e, unsigned line, const char *fmt, ...)
{
	if (e->nbad++)
		return; /* the first one is the one worth reading */
	e->line = line;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
}

bool sb_proc_cut_line(const char *p, unsigned lineno, struct sb_proc_perr *e)
{
	if (!sb_pp_cut(p))
		return false;
	sb_proc_bad(e, lineno, "cut short (no newline at the end)");
	return true;
}

const char *sb_pp_eol(const char *p)
{
	const char *n = strchr(p, '\n');
	return n ? n : p + strlen(p);
}

size_t sb_pp_word(const char **p, const char **w)
{
	const char *s = sb_pp_blank(*p);
	const char *q = s;
	while (!sb_pp_sep(*q))
		q++;
	*w = s;
	*p = q;
	return (size_t)(q - s);
}

bool sb_pp_u64_full(const char **p, uint64_t *v)
{
	const char *s = sb_pp_blank(*p), *start = s;
	uint64_t x = 0;
	/* 19 digits stay below 10^19 < 2^64: the overflow test is needed only
	 * from the 20th on (every number of every file goes through here) */
	for (unsigned d; (d = (unsigned)(*s - '0')) < 10 && s - start < 19; s++)
		x = x * 10 + d;
	if (s == start)
		return false;
	for (unsigned d; (d = (unsigned)(*s - '0')) < 10; s++) {
		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	if (!sb_pp_sep(*s))
		return false;
	*v = x;
	*p = s;
	return true;
}

bool sb_pp_hex(const char **p, uint64_t *v)
{
	const char *s = sb_pp_blank(*p);
	uint64_t x = 0;
	unsigned n = 0;
	for (;; s++, n++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
			d = (unsigned)((*s | 0x20) - 'a' + 10);
		else
			break;
		if (x >> 60)
			return false;
		x = x << 4 | d;
	}
	if (!n)
		return false;
	*v = x;
	*p = s;
	return true;
}

bool sb_pp_i64_full(const char **p, int64_t *v)
{
	const char *s = sb_pp_blank(*p);
	bool neg = *s == '-';
	const char *q = s + neg;
	uint64_t u;
	if (*q < '0' || *q > '9' || !sb_pp_u64_full(&q, &u))
		return false;
	if (neg ? u > (uint64_t)INT64_MAX + 1 : u > (uint64_t)INT64_MAX)
		return false;
	*v = neg ? (int64_t)(0 - u) : (int64_t)u;
	*p = q;
	return true;
}

bool sb_pp_double(const char **p, double *v)
{
	const char *s = sb_pp_blank(*p);
	if (sb_pp_sep(*s))
		return false;
	char *end;
	errno = 0;
	double x = strtod(s, &end);
	if (end == s || !sb_pp_sep(*end) || errno == ERANGE)
		return false;
	*v = x;
	*p = end;
	return true;
}

const char *sb_proc_join(char *out, size_t cap, const struct sb_pj *parts, size_t nparts)
{
	size_t o = 0;
	for (size_t i = 0; i < nparts && o + 1 < cap; i++) {
		size_t n = parts[i].n < cap - 1 - o ? parts[i].n : cap - 1 - o;
		memcpy(out + o, parts[i].s, n);
		o += n;
	}
	out[o] = 0;
	return out;
}

bool sb_proc_name_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return n > 0;
}

bool sb_pp_uint_text(const char *text, uint64_t *v)
{
	const char *p = text;
	while (*p == '\n' || *p == ' ' || *p == '\t')
		p++;
	if (!sb_pp_u64(&p, v))
		return false;
	while (*p == '\n' || *p == ' ' || *p == '\t')
		p++;
	return *p == 0;
}

/* ---- filters ---- */

/* The names come back in the same order every round, so decisions are
 * remembered in that order and read back sequentially (one cache-friendly
 * pass, no hashing); a name out of place is decided again and recorded. */
#define MEMO_SEQ 1024
#define MEMO_NAME 46

struct sb_proc_memo {
	unsigned n, pos;
	struct {
		uint8_t len;
		uint8_t pass;
		char name[MEMO_NAME];
	} e[MEMO_SEQ];
};

/* Go's regexp syntax is what users copy from node_exporter's docs; POSIX
 * ERE lacks \d, so it is spelled out (outside bracket expressions). */
static char *translate(const char *re)
{
	size_t n = strlen(re);
	char *out = malloc(n * 5 + 1);
	if (!out)
		return NULL;
	char *o = out;
	bool bracket = false;
	for (const char *p = re; *p; p++) {
		if (!bracket && p[0] == '\\' && p[1] == 'd') {
			memcpy(o, "[0-9]", 5);
			o += 5;
			p++;
			continue;
		}
		if (!bracket && *p == '\\' && p[1]) {
			*o++ = *p++;
			*o++ = *p;
			continue;
		}
		if (!bracket && *p == '[') {
			bracket = true;
			*o++ = *p;
			/* a ']' right after '[' or '[^' is literal */
			if (p[1] == '^')
				*o++ = *++p;
			if (p[1] == ']')
				*o++ = *++p;
			continue;
		}
		if (bracket && *p == ']')
			bracket = false;
		*o++ = *p;
	}
	*o = 0;
	return out;
}

/* A repetition of a repetition ("a++", "a*{9}"): Go's regexp refuses it
 * ("invalid nested repetition operator"), POSIX leaves it undefined, and
 * glibc's regcomp copies the operand's tree for each one: 80 of them took
 * over 2 GB (found by fuzz_config). One '?' after a repetition (Go's
 * non-greedy form) is let through, as Go does. Scans the ERE form. */
static bool nested_repetition(const char *t)
{
	int q = 0; /* 1: after a repetition, 2: after its non-greedy '?' */
	bool bracket = false, brace = false;
	for (const char *p = t; *p; p++) {
		if (bracket) {
			if (*p == ']')
				bracket = false;
			continue;
		}
		if (brace) {
			if (*p == '}') {
				brace = false;
				q = 1;
			}
			continue;
		}
		switch (*p) {
		case '\\':
			if (p[1])
				p++;
			q = 0;
			break;
		case '[':
			bracket = true;
			if (p[1] == '^')
				p++;
			if (p[1] == ']')
				p++;
			q = 0;
			break;
		case '*':
		case '+':
		case '{':
			if (q)
				return true;
			brace = *p == '{';
			q = 1;
			break;
		case '?':
			if (q == 2)
				return true;
			q = q ? 2 : 1;
			break;
		default:
			q = 0;
		}
	}
	return false;
}

static int compile(regex_t *re, const char *pattern, char *err, size_t errlen)
{
	char *t = translate(pattern);
	if (!t)
		return -ENOMEM;
	if (nested_repetition(t)) {
		free(t);
		snprintf(err, errlen,
			 "invalid regular expression \"%s\": a repetition of a repetition (such as "
			 "a++ or a*{2}) is refused, as node_exporter's Go regexp does",
			 pattern);
		return -EINVAL;
	}
	int r = regcomp(re, t, REG_EXTENDED | REG_NOSUB);
	free(t);
	if (r) {
		char msg[128];
		regerror(r, re, msg, sizeof(msg));
		snprintf(err, errlen, "invalid regular expression \"%s\": %s", pattern, msg);
		return -EINVAL;
	}
	return 0;
}

int sb_proc_regex_check(const char *pattern, char *err, size_t errlen)
{
	if (!pattern || !*pattern)
		return 0;
	regex_t re;
	int r = compile(&re, pattern, err, errlen);
	if (!r)
		regfree(&re);
	return r;
}

int sb_proc_filter_init(struct sb_proc_filter *f, const char *include, const char *exclude,
			char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	int r = 0;
	if (include && *include) {
		if ((r = compile(&f->inc, include, err, errlen)))
			goto out;
		f->has_inc = true;
	}
	if (exclude && *exclude) {
		if ((r = compile(&f->exc, exclude, err, errlen)))
			goto out;
		f->has_exc = true;
	}
	if ((f->has_inc || f->has_exc) && !(f->memo = calloc(1, sizeof(*f->memo))))
		r = -ENOMEM;
out:
	if (r)
		sb_proc_filter_free(f);
	return r;
}

void sb_proc_filter_free(struct sb_proc_filter *f)
{
	if (!f)
		return;
	if (f->has_inc)
		regfree(&f->inc);
	if (f->has_exc)
		regfree(&f->exc);
	free(f->memo);
	memset(f, 0, sizeof(*f));
}

static bool decide(struct sb_proc_filter *f, const char *name)
{
	/* node_exporter: include wins when set; else exclude; else all pass */
	if (f->has_inc)
		return regexec(&f->inc, name, 0, NULL, 0) == 0;
	return regexec(&f->exc, name, 0, NULL, 0) != 0;
}

static bool memo_is(const struct sb_proc_memo *m, unsigned i, const char *name, size_t len)
{
	return m->e[i].len == len && !memcmp(m->e[i].name, name, len);
}

bool sb_proc_filter_pass(struct sb_proc_filter *f, const char *name, size_t len)
{
	if (!f || (!f->has_inc && !f->has_exc))
		return true;
	struct sb_proc_memo *m = f->memo;
	if (m && len < MEMO_NAME) {
		if (m->pos < m->n && memo_is(m, m->pos, name, len))
			return m->e[m->pos++].pass;
		if (m->n && memo_is(m, 0, name, len)) { /* the next round began */
			m->pos = 1;
			return m->e[0].pass;
		}
	}
	char tmp[256];
	if (len >= sizeof(tmp))
		len = sizeof(tmp) - 1; /* names are short; a garbage one is cut */
	memcpy(tmp, name, len);
	tmp[len] = 0;
	bool pass = decide(f, tmp);
	if (m && len < MEMO_NAME && m->pos < MEMO_SEQ) {
		unsigned i = m->pos++;
		m->e[i].len = (uint8_t)len;
		m->e[i].pass = pass;
		memcpy(m->e[i].name, name, len);
		if (m->n < m->pos)
			m->n = m->pos;
	}
	return pass;
}

/* ---- small sysfs and udev formats ---- */

/* One pass over the list; fn (may be NULL) sees each CPU once. Ranges must
 * ascend without overlap, as the kernel prints them: that bounds the CPUs
 * a list can name at max_cpu + 1 however long it is. */
static int cpulist_walk(const char *text, void (*fn)(void *arg, unsigned cpu), void *arg,
			unsigned max_cpu)
{
	const char *p = text;
	int n = 0;
	unsigned long next = 0; /* the lowest CPU the next range may start at */
	while (*p && *p != '\n') {
		if (*p == ',') {
			p++;
			continue;
		}
		char *end;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		unsigned long a = strtoul(p, &end, 10), b = a;
		p = end;
		if (*p == '-') {
			p++;
			if (*p < '0' || *p > '9')
				return -EINVAL;
			b = strtoul(p, &end, 10);
			p = end;
		}
		if (*p && *p != ',' && *p != '\n')
			return -EINVAL;
		if (b < a)
			return -EINVAL;
		if (b > max_cpu || a < next)
			return -ERANGE;
		for (unsigned long c = a; c <= b; c++, n++)
			if (fn)
				fn(arg, (unsigned)c);
		next = b + 1;
	}
	return n;
}

int sb_proc_parse_cpulist(const char *text, void (*fn)(void *arg, unsigned cpu), void *arg,
			  unsigned max_cpu)
{
	/* checked whole first: a bad list calls fn for none of its CPUs */
	int n = cpulist_walk(text, NULL, NULL, max_cpu);
	return n > 0 && fn ? cpulist_walk(text, fn, arg, max_cpu) : n;
}

void sb_proc_parse_udev(const char *text, struct sb_proc_udev *u)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
#define K(k, f) {k, offsetof(struct sb_proc_udev, f)}
	    K("ID_PATH", path),
	    K("ID_WWN", wwn),
	    K("ID_MODEL", model),
	    K("ID_SERIAL", serial),
	    K("ID_SERIAL_SHORT", serial_short),
	    K("SCSI_IDENT_SERIAL", scsi_serial),
	    K("ID_REVISION", revision),
	    K("ID_FS_TYPE", fs_type),
	    K("ID_FS_USAGE", fs_usage),
	    K("ID_FS_UUID", fs_uuid),
	    K("ID_FS_VERSION", fs_version),
	    K("DM_NAME", dm_name),
	    K("DM_UUID", dm_uuid),
	    K("DM_VG_NAME", dm_vg_name),
	    K("DM_LV_NAME", dm_lv_name),
	    K("DM_LV_LAYER", dm_lv_layer),
	    K("ID_ATA", ata),
	    K("ID_ATA_WRITE_CACHE", ata_write_cache),
	    K("ID_ATA_WRITE_CACHE_ENABLED", ata_write_cache_enabled),
	    K("ID_ATA_ROTATION_RATE_RPM", ata_rotation_rate_rpm),
#undef K
	};
	memset(u, 0, sizeof(*u));
	char *o = u->buf, *oend = u->buf + sizeof(u->buf);
	for (const char *p = text; *p; p = sb_pp_next(p)) {
		if (p[0] != 'E' || p[1] != ':')
			continue;
		const char *k = p + 2, *eol = sb_pp_eol(p);
		const char *eq = memchr(k, '=', (size_t)(eol - k));
		if (!eq)
			continue;
		size_t klen = (size_t)(eq - k), vlen = (size_t)(eol - eq - 1);
		for (size_t i = 0; i < SB_ARRAY_SIZE(keys); i++) {
			if (strlen(keys[i].key) != klen || memcmp(keys[i].key, k, klen))
				continue;
			if ((size_t)(oend - o) < vlen + 1)
				break; /* absurdly long values are left out, not cut */
			memcpy(o, eq + 1, vlen);
			o[vlen] = 0;
			*(const char **)((char *)u + keys[i].off) = o;
			o += vlen + 1;
			break;
		}
	}
}
