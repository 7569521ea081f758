#include "promtext.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Family types as TYPE lines spell them; OpenMetrics adds the last three. */
enum fam_type {
	FT_UNTYPED,
	FT_COUNTER,
	FT_GAUGE,
	FT_HISTOGRAM,
	FT_SUMMARY,
	FT_INFO,
	FT_STATESET,
	FT_GAUGEHISTOGRAM,
};

static const struct {
	const char *name;
	enum fam_type t;
} type_names[] = {
    {"counter", FT_COUNTER}, {"gauge", FT_GAUGE},	{"histogram", FT_HISTOGRAM},
    {"summary", FT_SUMMARY}, {"untyped", FT_UNTYPED},	{"unknown", FT_UNTYPED},
    {"info", FT_INFO},	     {"stateset", FT_STATESET}, {"gaugehistogram", FT_GAUGEHISTOGRAM},
};

/* What a sample line is to the family it follows. */
enum role { R_OTHER, R_PLAIN, R_BUCKET, R_QUANTILE, R_SUM, R_COUNT, R_SKIP };

const struct sb_cfg_key sb_prom_limit_keys[] = {
    {"body_size", SB_CT_SIZE, offsetof(struct sb_prom_limits, body_size), "16MiB",
     "largest response body (after decompression); a larger one fails the scrape", .min = 1024,
     .max = 1e12},
    {"line_length", SB_CT_SIZE, offsetof(struct sb_prom_limits, line_length), "64KiB",
     "longest line of the body; a longer one fails the scrape", .min = 64, .max = 1 << 30},
    {"labels", SB_CT_INT, offsetof(struct sb_prom_limits, labels), "64",
     "most labels on one sample; more fail the scrape", .min = 1, .max = 65535},
    {"samples", SB_CT_INT, offsetof(struct sb_prom_limits, samples), "200000",
     "most sample lines in one scrape; more fail the scrape", .min = 1, .max = 1e9},
    {0},
};

/* Character classes of the format, one table lookup per byte. */
enum { C_BLANK = 1, C_DIGIT = 2, C_LSTART = 4, C_COLON = 8 };
static const uint8_t cls[256] = {
    [' '] = C_BLANK,	      ['\t'] = C_BLANK, ['0' ... '9'] = C_DIGIT, ['a' ... 'z'] = C_LSTART,
    ['A' ... 'Z'] = C_LSTART, ['_'] = C_LSTART, [':'] = C_COLON,
};

static inline bool is_blank(char c) { return cls[(uint8_t)c] & C_BLANK; }

static inline bool is_digit(char c) { return cls[(uint8_t)c] & C_DIGIT; }

static inline bool is_lname_start(char c) { return cls[(uint8_t)c] & C_LSTART; }

static inline bool is_lname_char(char c) { return cls[(uint8_t)c] & (C_LSTART | C_DIGIT); }

static inline bool is_name_start(char c) { return cls[(uint8_t)c] & (C_LSTART | C_COLON); }

static inline bool is_name_char(char c) { return cls[(uint8_t)c] & (C_LSTART | C_DIGIT | C_COLON); }

static size_t skip_blanks(const char *s, size_t i, size_t n)
{
	while (i < n && is_blank(s[i]))
		i++;
	return i;
}

/* A token for a log line: at most 40 bytes, printable ASCII only, since it
 * came from a peer we do not trust. */
static const char *snip(char out[48], const char *s, size_t n)
{
	size_t m = n > 40 ? 40 : n;
	for (size_t i = 0; i < m; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (m < n) {
		memcpy(out + m, "...", 4);
	} else {
		out[m] = 0;
	}
	return out;
}

static void bad(struct sb_prom_parser *p, const char *fmt, ...) SB_PRINTF(2, 3);

static void bad(struct sb_prom_parser *p, const char *fmt, ...)
{
	if (!p->bad_lines++) {
		p->first_bad = p->lines;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->first_bad_reason, sizeof(p->first_bad_reason), fmt, ap);
		va_end(ap);
	}
}

static int fatal(struct sb_prom_parser *p, int err, const char *fmt, ...) SB_PRINTF(3, 4);

static int fatal(struct sb_prom_parser *p, int err, const char *fmt, ...)
{
	if (p->fatal)
		return p->fatal;
	p->fatal = err;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->fatal_reason, sizeof(p->fatal_reason), fmt, ap);
	va_end(ap);
	return err;
}

/* Go's ParseFloat as Prometheus uses it: decimal or exponent forms, NaN and
 * [+-]Inf in any case. Plain integers, most of what exporters write, skip
 * strtod. */
static int parse_float(const char *s, size_t n, double *out)
{
	size_t i = 0;
	bool neg = false;
	if (n && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i < n && n - i <= 15) {
		uint64_t v = 0;
		size_t j = i;
		while (j < n && is_digit(s[j]))
			v = v * 10 + (uint64_t)(s[j++] - '0');
		if (j == n) {
			*out = neg ? -(double)v : (double)v;
			return 0;
		}
	}
	char buf[128];
	if (i >= n || n >= sizeof(buf))
		return -EINVAL;
	/* strtod also takes hex without an exponent and "nan(...)": Go does not */
	if (s[i] == '0' && n > i + 1 && (s[i + 1] | 0x20) == 'x')
		return -EINVAL;
	if (memchr(s, '(', n))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = 0;
	char *end;
	errno = 0;
	double v = strtod(buf, &end);
	if (end != buf + n || (errno == ERANGE && isinf(v)))
		return -EINVAL;
	*out = v;
	return 0;
}

void sb_prom_init(struct sb_prom_parser *p)
{
	memset(p, 0, sizeof(*p));
	sb_buf_init(&p->carry);
	sb_buf_init(&p->fam);
	sb_buf_init(&p->help);
	sb_buf_init(&p->scratch);
	sb_buf_init(&p->gkeys);
}

void sb_prom_free(struct sb_prom_parser *p)
{
	if (!p)
		return;
	sb_buf_free(&p->carry);
	sb_buf_free(&p->fam);
	sb_buf_free(&p->help);
	sb_buf_free(&p->scratch);
	sb_buf_free(&p->gkeys);
	free(p->lab);
	free(p->ser);
	free(p->bkt);
	free(p->bkt_tmp);
	memset(p, 0, sizeof(*p));
}

void sb_prom_begin(struct sb_prom_parser *p, struct sb_evb *b, const struct sb_prom_limits *lim)
{
	p->lines = p->samples = p->bad_lines = p->bytes = p->first_bad = p->timestamps = 0;
	p->first_bad_reason[0] = p->fatal_reason[0] = 0;
	p->fatal = 0;
	p->eof = false;
	p->b = b;
	p->lim = *lim;
	sb_buf_reset(&p->carry);
	sb_buf_reset(&p->fam);
	sb_buf_reset(&p->help);
	sb_buf_reset(&p->gkeys);
	p->ftype = FT_UNTYPED;
	p->fam_typed = p->fam_helped = false;
	p->nser = p->nbkt = p->last_ser = 0;
}

/* ---- histogram and summary families ---- */

static double series_count(const struct sb_prom_parser *p, const struct sb_prom_series *s,
			   const struct sb_prom_bucket *last)
{
	if (s->has_count)
		return s->count;
	/* no _count line: a histogram's +Inf bucket holds the same number */
	if (p->ftype == FT_HISTOGRAM && last && isinf(last->le) && last->le > 0)
		return last->value;
	return 0;
}

/* Emits the held series, one sample each, in the order first seen. */
static void flush_group(struct sb_prom_parser *p)
{
	if (!p->nser)
		return;
	struct sb_evb *b = p->b;
	const struct sb_prom_bucket *bk = p->bkt;
	bool ordered = true;
	for (size_t i = 1; i < p->nbkt && ordered; i++)
		ordered = p->bkt[i - 1].series <= p->bkt[i].series;
	if (!ordered) {
		/* interleaved series: a stable counting sort by series */
		if (sb_grow((void **)&p->bkt_tmp, &p->capbkt_tmp, p->nbkt, sizeof(*p->bkt_tmp))) {
			fatal(p, -ENOMEM, "out of memory");
			goto out;
		}
		/* each series' range starts where the previous one ends; its
		 * nbuckets serves as the write cursor meanwhile */
		size_t off = 0;
		for (size_t s = 0; s < p->nser; s++) {
			size_t nb = p->ser[s].nbuckets;
			p->ser[s].nbuckets = (uint32_t)off;
			off += nb;
		}
		for (size_t i = 0; i < p->nbkt; i++)
			p->bkt_tmp[p->ser[p->bkt[i].series].nbuckets++] = p->bkt[i];
		/* each cursor now ends its range: back to counts */
		size_t prev = 0;
		for (size_t s = 0; s < p->nser; s++) {
			size_t endp = p->ser[s].nbuckets;
			p->ser[s].nbuckets = (uint32_t)(endp - prev);
			prev = endp;
		}
		bk = p->bkt_tmp;
	}
	const char *fam = sb_buf_cstr(&p->fam);
	const char *help = p->fam_helped ? sb_buf_cstr(&p->help) : NULL;
	enum sb_mtype t = p->ftype == FT_HISTOGRAM ? SB_HISTOGRAM : SB_SUMMARY;
	for (size_t s = 0; s < p->nser; s++) {
		const struct sb_prom_series *se = &p->ser[s];
		sb_evb_samplen(b, fam, p->fam.len, t, 0);
		sb_evb_help(b, help);
		const char *k = p->gkeys.data + se->key, *kend = k + se->keylen;
		while (k < kend) {
			size_t nl = strlen(k);
			const char *v = k + nl + 1;
			size_t vl = strlen(v);
			sb_evb_labeln(b, k, nl, v, vl);
			k = v + vl + 1;
		}
		for (uint32_t i = 0; i < se->nbuckets; i++)
			sb_evb_bucket(b, bk[i].le, bk[i].value);
		sb_evb_sumcount(b, se->sum,
				series_count(p, se, se->nbuckets ? &bk[se->nbuckets - 1] : NULL));
		/* bk is NULL until a bucket was seen, and NULL + 0 is
		 * undefined (found by fuzz_promtext) */
		if (se->nbuckets)
			bk += se->nbuckets;
	}
out:
	p->nser = p->nbkt = p->last_ser = 0;
	sb_buf_reset(&p->gkeys);
}

/* The series of the current line's labels (sorted, le/quantile removed),
 * made if new. Returns its index or -1 (out of memory). */
static ssize_t find_series(struct sb_prom_parser *p, size_t nlab)
{
	/* storage even for series without labels: their key is empty */
	if (sb_buf_reserve(&p->gkeys, 1))
		return -1;
	size_t key = p->gkeys.len;
	for (size_t i = 0; i < nlab; i++) {
		sb_buf_add(&p->gkeys, p->lab[i].name, p->lab[i].nlen);
		sb_buf_addc(&p->gkeys, 0);
		sb_buf_add(&p->gkeys, p->lab[i].value, p->lab[i].vlen);
		sb_buf_addc(&p->gkeys, 0);
	}
	if (p->gkeys.err)
		return -1;
	size_t keylen = p->gkeys.len - key;
	const char *kp = p->gkeys.data + key;
	/* the exporter almost always writes a series' lines together */
	for (size_t n = 0; n < p->nser; n++) {
		size_t s = (p->last_ser + p->nser - n) % p->nser;
		if (p->ser[s].keylen == keylen &&
		    !memcmp(p->gkeys.data + p->ser[s].key, kp, keylen)) {
			p->gkeys.len = key;
			p->last_ser = s;
			return (ssize_t)s;
		}
	}
	if (p->nser >= UINT32_MAX ||
	    sb_grow((void **)&p->ser, &p->capser, p->nser + 1, sizeof(*p->ser)))
		return -1;
	p->ser[p->nser] = (struct sb_prom_series){.key = key, .keylen = keylen};
	p->last_ser = p->nser;
	return (ssize_t)p->nser++;
}

/* ---- lines ---- */

static void new_family(struct sb_prom_parser *p, const char *name, size_t n)
{
	if (p->fam.len == n && !memcmp(p->fam.data, name, n))
		return;
	flush_group(p);
	sb_buf_reset(&p->fam);
	sb_buf_add(&p->fam, name, n);
	sb_buf_reset(&p->help);
	p->ftype = FT_UNTYPED;
	p->fam_typed = p->fam_helped = false;
}

/* HELP escapes: \\ and \n; anything else stays as written. Runs without
 * a backslash are copied whole. */
static void set_help(struct sb_prom_parser *p, const char *s, size_t n)
{
	const char *nul = memchr(s, 0, n);
	if (nul) /* the builder keeps C strings */
		n = (size_t)(nul - s);
	sb_buf_reset(&p->help);
	sb_buf_reserve(&p->help, n);
	for (;;) {
		const char *bs = memchr(s, '\\', n);
		size_t run = bs ? (size_t)(bs - s) : n;
		sb_buf_add(&p->help, s, run);
		if (!bs)
			break;
		s += run;
		n -= run;
		if (n > 1 && (s[1] == '\\' || s[1] == 'n')) {
			sb_buf_addc(&p->help, s[1] == 'n' ? '\n' : '\\');
			s += 2;
			n -= 2;
		} else {
			sb_buf_addc(&p->help, '\\');
			s++;
			n--;
		}
	}
	p->fam_helped = true;
}

/* An escape other than \\ and \n (and \" in a label value), or a
 * backslash ending the text. */
static bool bad_escape(const char *s, size_t n, bool quote)
{
	for (const char *bs = memchr(s, '\\', n); bs; bs = memchr(bs, '\\', n - (size_t)(bs - s))) {
		size_t k = (size_t)(bs - s);
		if (k + 1 >= n)
			return true;
		char c = s[k + 1];
		if (c != '\\' && c != 'n' && !(quote && c == '"'))
			return true;
		bs += 2;
		if ((size_t)(bs - s) >= n)
			break;
	}
	return false;
}

static void comment(struct sb_prom_parser *p, const char *s, size_t n)
{
	char t[48];
	size_t i = skip_blanks(s, 1, n);
	size_t w = i;
	while (i < n && !is_blank(s[i]))
		i++;
	size_t wl = i - w;
	bool help = wl == 4 && !memcmp(s + w, "HELP", 4);
	bool type = wl == 4 && !memcmp(s + w, "TYPE", 4);
	if (!p->strict && wl == 3 && !memcmp(s + w, "EOF", 3) && skip_blanks(s, i, n) == n) {
		p->eof = true;
		return;
	}
	if (!help && !type)
		return; /* a plain comment */
	i = skip_blanks(s, i, n);
	size_t nm = i;
	if (i < n && is_name_start(s[i]))
		while (i < n && is_name_char(s[i]))
			i++;
	if (i == nm || (i < n && !is_blank(s[i])))
		return bad(p, "%s line without a valid metric name", help ? "HELP" : "TYPE");
	new_family(p, s + nm, i - nm);
	i = skip_blanks(s, i, n);
	if (help) {
		if (p->fam_helped)
			return bad(p, "second HELP line for %s", snip(t, s + nm, p->fam.len));
		if (p->strict && bad_escape(s + i, n - i, false))
			return bad(p, "invalid escape sequence in HELP line for %s",
				   snip(t, s + nm, p->fam.len));
		set_help(p, s + i, n - i);
		return;
	}
	size_t tw = i;
	while (i < n && !is_blank(s[i]))
		i++;
	size_t tl = i - tw;
	if (skip_blanks(s, i, n) != n)
		return bad(p, "text after the type in TYPE line for %s",
			   snip(t, s + nm, p->fam.len));
	if (p->fam_typed)
		return bad(p, "second TYPE line for %s", snip(t, s + nm, p->fam.len));
	/* the 0.0.4 types are the first five */
	size_t ntypes = p->strict ? 5 : SB_ARRAY_SIZE(type_names);
	for (size_t k = 0; k < ntypes; k++) {
		if (strlen(type_names[k].name) == tl && !memcmp(type_names[k].name, s + tw, tl)) {
			p->ftype = type_names[k].t;
			p->fam_typed = true;
			return;
		}
	}
	bad(p, "unknown metric type \"%s\"", snip(t, s + tw, tl));
}

static bool suffix_is(const char *s, size_t n, const char *suf, size_t sl)
{
	return n == sl && !memcmp(s, suf, sl);
}

/* The role of sample name s in the current family: its type applies to the
 * family name and, for histograms, summaries and OpenMetrics counters, to
 * the suffixed names; the type is never guessed from the name. */
static enum role role_of(const struct sb_prom_parser *p, const char *s, size_t n, enum sb_mtype *t)
{
	size_t fl = p->fam.len;
	if (!p->fam_typed && !p->fam_helped)
		return R_OTHER;
	if (n < fl || memcmp(s, p->fam.data, fl))
		return R_OTHER;
	const char *suf = s + fl;
	size_t sl = n - fl;
	*t = SB_UNTYPED;
	switch (p->ftype) {
	case FT_COUNTER:
		if (sl == 0 || (!p->strict && suffix_is(suf, sl, "_total", 6))) {
			*t = SB_COUNTER;
			return R_PLAIN;
		}
		return !p->strict && suffix_is(suf, sl, "_created", 8) ? R_SKIP : R_OTHER;
	case FT_GAUGE:
	case FT_STATESET:
		*t = SB_GAUGE;
		return sl == 0 ? R_PLAIN : R_OTHER;
	case FT_INFO:
		*t = SB_GAUGE;
		return sl == 0 || suffix_is(suf, sl, "_info", 5) ? R_PLAIN : R_OTHER;
	case FT_HISTOGRAM:
	case FT_SUMMARY:
		if (sl == 0)
			return p->ftype == FT_SUMMARY ? R_QUANTILE : R_OTHER;
		if (p->ftype == FT_HISTOGRAM && suffix_is(suf, sl, "_bucket", 7))
			return R_BUCKET;
		if (suffix_is(suf, sl, "_sum", 4))
			return R_SUM;
		if (suffix_is(suf, sl, "_count", 6))
			return R_COUNT;
		return !p->strict && suffix_is(suf, sl, "_created", 8) ? R_SKIP : R_OTHER;
	default:
		return sl == 0 ? R_PLAIN : R_OTHER;
	}
}

/* Sorts labels by name (a series has one identity whatever order the
 * exporter wrote them in) and finds a name given twice. */
static int sort_labels(struct sb_prom_label *l, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct sb_prom_label x = l[i];
		size_t j = i;
		while (j > 0) {
			const struct sb_prom_label *y = &l[j - 1];
			size_t m = y->nlen < x.nlen ? y->nlen : x.nlen;
			int c = memcmp(y->name, x.name, m);
			if (c < 0 || (c == 0 && y->nlen < x.nlen))
				break;
			if (c == 0 && y->nlen == x.nlen)
				return (int)j - 1;
			l[j] = l[j - 1];
			j--;
		}
		l[j] = x;
	}
	return -1;
}

/* Parses {...} from s[i] (just past the '{'). Returns the index after '}',
 * or 0 when the line is bad (reported) or a limit was hit. */
static size_t parse_labels(struct sb_prom_parser *p, const char *s, size_t n, size_t i,
			   size_t *nlab)
{
	char t[48];
	for (;;) {
		i = skip_blanks(s, i, n);
		if (i < n && s[i] == '}')
			return i + 1;
		size_t ln = i;
		if (i < n && is_lname_start(s[i]))
			while (i < n && is_lname_char(s[i]))
				i++;
		if (i == ln) {
			bad(p, "invalid label name at \"%s\"", snip(t, s + ln, n - ln));
			return 0;
		}
		size_t lnl = i - ln;
		i = skip_blanks(s, i, n);
		if (i >= n || s[i] != '=') {
			bad(p, "expected '=' after label %s", snip(t, s + ln, lnl));
			return 0;
		}
		i = skip_blanks(s, i + 1, n);
		if (i >= n || s[i] != '"') {
			bad(p, "expected '\"' to open the value of label %s", snip(t, s + ln, lnl));
			return 0;
		}
		size_t v0 = ++i, run = i;
		char *d0 = NULL, *d = NULL; /* set once the value needs unescaping */
		for (;;) {
			while (i < n && s[i] != '"' && s[i] != '\\' && s[i])
				i++;
			if (i >= n) {
				bad(p, "unterminated value of label %s", snip(t, s + ln, lnl));
				return 0;
			}
			if (!s[i]) {
				bad(p, "NUL byte in the value of label %s", snip(t, s + ln, lnl));
				return 0;
			}
			if (s[i] == '"') {
				/* algod writes values unescaped: a quote ends the value
				 * only where a label list could go on */
				size_t j = skip_blanks(s, i + 1, n);
				if (p->strict || j >= n || s[j] == ',' || s[j] == '}')
					break;
				i++;
				continue;
			}
			/* a backslash: \\ \" \n are escapes, others stay as written */
			if (!d)
				d0 = d = p->scratch.data + p->scratch.len;
			memcpy(d, s + run, i - run);
			d += i - run;
			if (i + 1 < n && (s[i + 1] == '\\' || s[i + 1] == '"' || s[i + 1] == 'n')) {
				*d++ = s[i + 1] == 'n' ? '\n' : s[i + 1];
				i += 2;
			} else {
				if (p->strict) {
					bad(p, "invalid escape sequence in the value of label %s",
					    snip(t, s + ln, lnl));
					return 0;
				}
				*d++ = '\\';
				i++;
			}
			run = i;
		}
		if ((int64_t)*nlab >= p->lim.labels) {
			fatal(p, -E2BIG,
			      "line %llu: more than %lld labels on one sample (limits.labels)",
			      (unsigned long long)p->lines, (long long)p->lim.labels);
			return 0;
		}
		if (sb_grow((void **)&p->lab, &p->caplab, *nlab + 1, sizeof(*p->lab))) {
			fatal(p, -ENOMEM, "out of memory");
			return 0;
		}
		struct sb_prom_label *l = &p->lab[(*nlab)++];
		l->name = s + ln;
		l->nlen = lnl;
		if (d) {
			memcpy(d, s + run, i - run);
			d += i - run;
			l->value = d0;
			l->vlen = (size_t)(d - d0);
			p->scratch.len += l->vlen;
		} else {
			l->value = s + v0;
			l->vlen = i - v0;
		}
		i = skip_blanks(s, i + 1, n);
		if (i < n && s[i] == ',') {
			i++;
			continue;
		}
		if (i < n && s[i] == '}')
			return i + 1;
		bad(p, "expected ',' or '}' after the value of label %s", snip(t, s + ln, lnl));
		return 0;
	}
}

/* Takes label `want` out of the list and parses its value. */
static int take_bound(struct sb_prom_parser *p, size_t *nlab, const char *want, size_t wl,
		      double *out)
{
	char t[48];
	for (size_t i = 0; i < *nlab; i++) {
		struct sb_prom_label *l = &p->lab[i];
		if (l->nlen != wl || memcmp(l->name, want, wl))
			continue;
		if (parse_float(l->value, l->vlen, out)) {
			bad(p, "invalid %s \"%s\"", want, snip(t, l->value, l->vlen));
			return -1;
		}
		memmove(l, l + 1, (*nlab - i - 1) * sizeof(*l));
		(*nlab)--;
		return 0;
	}
	bad(p, "%s without a %s label", want[0] == 'l' ? "histogram bucket" : "summary quantile",
	    want);
	return -1;
}

/* Go's ParseInt: an optional sign and decimal digits. */
static bool is_integer(const char *s, size_t n)
{
	size_t i = n && (s[0] == '-' || s[0] == '+');
	if (i >= n)
		return false;
	for (; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

static void sample_line(struct sb_prom_parser *p, const char *s, size_t n)
{
	char t[48];
	size_t i = 0;
	if (!is_name_start(s[0]))
		return bad(p, "invalid metric name at \"%s\"", snip(t, s, n));
	while (i < n && is_name_char(s[i]))
		i++;
	size_t nlen = i, nlab = 0;
	if (i < n && !is_blank(s[i]) && s[i] != '{')
		return bad(p, "invalid character in metric name \"%s\"", snip(t, s, n));
	i = skip_blanks(s, i, n);
	if (i < n && s[i] == '{') {
		sb_buf_reset(&p->scratch);
		if (sb_buf_reserve(&p->scratch, n)) {
			fatal(p, -ENOMEM, "out of memory");
			return;
		}
		i = parse_labels(p, s, n, i + 1, &nlab);
		if (!i)
			return;
		i = skip_blanks(s, i, n);
	}
	size_t v = i;
	while (i < n && !is_blank(s[i]))
		i++;
	double val, ts;
	if (i == v)
		return bad(p, "no value for %s", snip(t, s, nlen));
	if (parse_float(s + v, i - v, &val))
		return bad(p, "invalid value \"%s\"", snip(t, s + v, i - v));
	i = skip_blanks(s, i, n);
	if (i < n && (s[i] != '#' || p->strict)) {
		size_t tsb = i;
		while (i < n && !is_blank(s[i]))
			i++;
		if (parse_float(s + tsb, i - tsb, &ts) || !isfinite(ts) ||
		    (p->strict && !is_integer(s + tsb, i - tsb)))
			return bad(p, "invalid timestamp \"%s\"", snip(t, s + tsb, i - tsb));
		p->timestamps++;
		i = skip_blanks(s, i, n);
	}
	/* what follows '#' is an OpenMetrics exemplar: tolerated, not kept */
	if (i < n && (s[i] != '#' || p->strict))
		return bad(p, "unexpected text \"%s\" after the value", snip(t, s + i, n - i));

	int dup = sort_labels(p->lab, nlab);
	if (dup >= 0)
		return bad(p, "label %s given twice", snip(t, p->lab[dup].name, p->lab[dup].nlen));

	enum sb_mtype type = SB_UNTYPED;
	enum role r = role_of(p, s, nlen, &type);
	if (r == R_OTHER)
		type = SB_UNTYPED; /* a sample of no declared family */
	if (r == R_SKIP)
		return; /* OpenMetrics _created: a timestamp, not a value */
	double bound = 0;
	if (r == R_BUCKET && take_bound(p, &nlab, "le", 2, &bound))
		return;
	if (r == R_QUANTILE && take_bound(p, &nlab, "quantile", 8, &bound))
		return;
	if ((int64_t)++p->samples > p->lim.samples) {
		fatal(p, -E2BIG, "more than %lld samples (limits.samples)",
		      (long long)p->lim.samples);
		return;
	}
	if (r == R_OTHER || r == R_PLAIN) {
		flush_group(p);
		struct sb_evb *b = p->b;
		sb_evb_samplen(b, s, nlen, type, val);
		if (r == R_PLAIN && p->fam_helped)
			sb_evb_help(b, sb_buf_cstr(&p->help));
		for (size_t k = 0; k < nlab; k++)
			sb_evb_labeln(b, p->lab[k].name, p->lab[k].nlen, p->lab[k].value,
				      p->lab[k].vlen);
		return;
	}
	ssize_t se = find_series(p, nlab);
	if (se < 0 || (r == R_BUCKET || r == R_QUANTILE
			   ? sb_grow((void **)&p->bkt, &p->capbkt, p->nbkt + 1, sizeof(*p->bkt))
			   : 0)) {
		fatal(p, -ENOMEM, "out of memory");
		return;
	}
	struct sb_prom_series *ser = &p->ser[se];
	switch (r) {
	case R_BUCKET:
	case R_QUANTILE:
		p->bkt[p->nbkt++] = (struct sb_prom_bucket){(uint32_t)se, bound, val};
		ser->nbuckets++;
		break;
	case R_SUM:
		ser->sum = val;
		break;
	case R_COUNT:
		ser->count = val;
		ser->has_count = true;
		break;
	default:
		break;
	}
}

static void parse_line(struct sb_prom_parser *p, const char *s, size_t n)
{
	p->lines++;
	if (!p->strict && n && s[n - 1] == '\r')
		n--;
	size_t i = skip_blanks(s, 0, n);
	if (i == n)
		return;
	if (s[i] == '#')
		comment(p, s + i, n - i);
	else
		sample_line(p, s + i, n - i);
}

static int line_too_long(struct sb_prom_parser *p)
{
	return fatal(p, -E2BIG, "line %llu is longer than %llu bytes (limits.line_length)",
		     (unsigned long long)p->lines + 1, (unsigned long long)p->lim.line_length);
}

static void feed_lines(struct sb_prom_parser *p, const char *data, size_t len)
{
	const char *s = data, *end = data + len;
	if (p->carry.len) {
		const char *nl = memchr(s, '\n', len);
		size_t take = nl ? (size_t)(nl - s) : len;
		if (p->carry.len + take > p->lim.line_length) {
			line_too_long(p);
			return;
		}
		sb_buf_add(&p->carry, s, take);
		if (p->carry.err) {
			fatal(p, -ENOMEM, "out of memory");
			return;
		}
		if (!nl)
			return;
		parse_line(p, p->carry.data, p->carry.len);
		sb_buf_reset(&p->carry);
		s = nl + 1;
	}
	while (s < end && !p->fatal && !p->eof) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t ll = nl ? (size_t)(nl - s) : (size_t)(end - s);
		if (ll > p->lim.line_length) {
			line_too_long(p);
			return;
		}
		if (!nl) {
			sb_buf_add(&p->carry, s, ll);
			if (p->carry.err)
				fatal(p, -ENOMEM, "out of memory");
			return;
		}
		parse_line(p, s, ll);
		s = nl + 1;
	}
}

int sb_prom_feed(struct sb_prom_parser *p, const char *data, size_t len)
{
	if (p->fatal || p->eof)
		return p->fatal;
	/* What fits in the body limit is parsed first, so the limit hit
	 * earliest in the body wins, however the body was chunked. */
	uint64_t room = p->lim.body_size > p->bytes ? p->lim.body_size - p->bytes : 0;
	bool over = len > room;
	if (over)
		len = (size_t)room;
	p->bytes += len;
	feed_lines(p, data, len);
	if (over && !p->fatal && !p->eof)
		return fatal(p, -EFBIG, "body larger than %llu bytes (limits.body_size)",
			     (unsigned long long)p->lim.body_size);
	return p->fatal;
}

int sb_prom_finish(struct sb_prom_parser *p)
{
	if (!p->fatal && !p->eof && p->carry.len) {
		parse_line(p, p->carry.data, p->carry.len);
		if (p->strict)
			bad(p, "unexpected end of input stream (no newline after the last line)");
	}
	sb_buf_reset(&p->carry);
	if (!p->fatal)
		flush_group(p);
	if (!p->fatal && p->b->err)
		fatal(p, p->b->err, "cannot build the event: %s", strerror(-p->b->err));
	return p->fatal;
}

int sb_prom_parse(struct sb_prom_parser *p, struct sb_evb *b, const struct sb_prom_limits *lim,
		  const char *data, size_t len)
{
	sb_prom_begin(p, b, lim);
	sb_prom_feed(p, data, len);
	return sb_prom_finish(p);
}
