/* The Prometheus sink's exposition: the store's live series rendered in the
 * text format 0.0.4 or in OpenMetrics 1.0, under the store's lock, for the
 * HTTP thread (prom_store.h). */
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom_store.h"
#include "prom_store_int.h"

size_t sb_fmt_go_float(char *out, double v, bool om)
{
	if (isnan(v) || isinf(v))
		return sb_fmt_double(out, v);
	char e[40];
	int prec = 0;
	for (; prec < 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec, v);
		if (strtod(e, NULL) == v)
			break;
	}
	int exp = atoi(strchr(e, 'e') + 1);
	int n;
	if (exp < -4 || exp >= 6) {
		n = snprintf(out, 32, "%s", e);
	} else {
		int decimals = prec - exp > 0 ? prec - exp : 0;
		n = snprintf(out, 32, "%.*f", decimals, v);
		if (om && !decimals)
			n += snprintf(out + n, 32 - (size_t)n, ".0");
	}
	return (size_t)n;
}

/* ---- rendering ---- */

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t l = strlen(suffix);
	return n >= l && !memcmp(s + n - l, suffix, l);
}

static void put_header(struct sb_prom_store *st, struct sb_buf *out, const struct family *f,
		       bool om)
{
	size_t namelen = strlen(f->name);
	const char *type = sb_mtype_name(f->type);
	if (om && f->type == SB_UNTYPED)
		type = "unknown";
	if (om && f->type == SB_COUNTER) {
		/* OpenMetrics names a counter family without its _total; a counter
		 * without that suffix (or whose short name is taken) is "unknown". */
		bool total = ends_with(f->name, namelen, "_total");
		if (total) {
			char shortname[512];
			snprintf(shortname, sizeof(shortname), "%.*s", (int)(namelen - 6), f->name);
			total = namelen - 6 < sizeof(shortname) &&
				!sb_prom_family_find(st, shortname, NULL);
		}
		if (total)
			namelen -= 6;
		else
			type = "unknown";
	}
	sb_buf_add(out, "# HELP ", 7);
	sb_buf_add(out, f->name, namelen);
	sb_buf_addc(out, ' ');
	if (f->help) {
		sb_prom_put_escaped(out, f->help, strlen(f->help), om);
	} else {
		sb_buf_add(out, "Metric from the sensorbus ", 26);
		sb_prom_put_escaped(out, f->src->name, strlen(f->src->name), om);
		sb_buf_add(out, " sensor.", 8);
	}
	sb_buf_add(out, "\n# TYPE ", 8);
	sb_buf_add(out, f->name, namelen);
	sb_buf_addc(out, ' ');
	sb_buf_adds(out, type);
	sb_buf_addc(out, '\n');
}

/* OpenMetrics' TYPE of a counter depends on which other families exist,
 * so only the text format's header is kept. */
static void put_header_kept(struct sb_prom_store *st, struct sb_buf *out, struct family *f, bool om)
{
	if (om) {
		put_header(st, out, f, om);
		return;
	}
	if (f->text_header) {
		sb_buf_add(out, f->text_header, f->text_header_len);
		return;
	}
	size_t at = out->len;
	put_header(st, out, f, om);
	if (out->err)
		return;
	size_t n = out->len - at;
	f->text_header = malloc(n);
	if (f->text_header) { /* else made again next time */
		memcpy(f->text_header, out->data + at, n);
		f->text_header_len = n;
	}
}

/* name[suffix]{labels[,extra]} value */
static void put_line(struct sb_buf *out, const struct series *se, const char *suffix,
		     const char *extra, size_t extralen, double v)
{
	char num[32];
	sb_buf_add(out, se->key, se->namelen);
	if (suffix)
		sb_buf_adds(out, suffix);
	if (se->labelslen || extralen) {
		sb_buf_addc(out, '{');
		sb_buf_add(out, series_labels(se), se->labelslen);
		if (se->labelslen && extralen)
			sb_buf_addc(out, ',');
		if (extralen)
			sb_buf_add(out, extra, extralen);
		sb_buf_addc(out, '}');
	}
	sb_buf_addc(out, ' ');
	sb_buf_add(out, num, sb_fmt_double(num, v));
	sb_buf_addc(out, '\n');
}

/* Makes se's kept line for the value of bits: its name and labels once,
 * the value's text when it changed. false: no memory, not kept. */
static bool line_make(struct series *se, uint64_t bits)
{
	if (!se->line) {
		size_t n = se->namelen + (se->labelslen ? se->labelslen + 2 : 0) + 1;
		char *l = malloc(n + 33); /* the value (32) and its newline */
		if (!l)
			return false;
		memcpy(l, se->key, se->namelen);
		size_t at = se->namelen;
		if (se->labelslen) {
			l[at++] = '{';
			memcpy(l + at, series_labels(se), se->labelslen);
			at += se->labelslen;
			l[at++] = '}';
		}
		l[at++] = ' ';
		se->line = l;
		se->valoff = (uint32_t)at;
	}
	size_t n = sb_fmt_double(se->line + se->valoff, se->value);
	se->line[se->valoff + n] = '\n';
	se->linelen = se->valoff + (uint32_t)n + 1;
	se->linebits = bits;
	return true;
}

static void put_series(struct sb_prom_store *st, struct sb_buf *out, struct series *se, bool om)
{
	enum sb_mtype t = se->fam->type;
	if (t != SB_HISTOGRAM && t != SB_SUMMARY) {
		/* the same in both formats; most values did not change */
		uint64_t bits;
		memcpy(&bits, &se->value, sizeof(bits));
		if (st->no_shortcuts ||
		    ((!se->line || bits != se->linebits) && !line_make(se, bits)))
			put_line(out, se, NULL, NULL, 0, se->value);
		else
			sb_buf_add(out, se->line, se->linelen);
		return;
	}
	bool negative = false;
	for (uint32_t i = 0; i < se->nbuckets; i++) {
		char extra[48];
		size_t n = t == SB_HISTOGRAM ? 4 : 10;
		memcpy(extra, t == SB_HISTOGRAM ? "le=\"" : "quantile=\"", n);
		n += sb_fmt_go_float(extra + n, se->buckets[i].le, om);
		extra[n++] = '"';
		put_line(out, se, t == SB_HISTOGRAM ? "_bucket" : NULL, extra, n,
			 se->buckets[i].count);
		negative |= se->buckets[i].le < 0;
	}
	/* OpenMetrics forbids _sum beside negative buckets (the sum could
	 * not be monotonic). */
	if (!(om && negative && t == SB_HISTOGRAM))
		put_line(out, se, "_sum", NULL, 0, se->sum);
	put_line(out, se, "_count", NULL, 0, se->count);
}

void sb_prom_store_render(struct sb_prom_store *st, struct sb_buf *out, enum sb_prom_format fmt,
			  int64_t now)
{
	sb_prom_store_render_stamped(st, out, fmt, now, NULL);
}

void sb_prom_store_render_stamped(struct sb_prom_store *st, struct sb_buf *out,
				  enum sb_prom_format fmt, int64_t now, struct sb_prom_stamp *stamp)
{
	bool om = fmt == SB_PROM_OPENMETRICS;
	int64_t until = INT64_MAX;
	size_t start = out->len, hint = atomic_load_explicit(&st->last_len, memory_order_relaxed);
	sb_buf_reserve(out, hint + hint / 8 + 4096);
	pthread_mutex_lock(&st->mu);
	for (size_t i = 0; i < st->nfams; i++) {
		struct family *f = st->fams[i];
		bool header = false;
		for (size_t j = 0; j < f->n; j++) {
			struct series *se = f->v[j];
			if (sb_prom_expired(st, se, now))
				continue;
			if (!header) {
				put_header_kept(st, out, f, om);
				header = true;
			}
			put_series(st, out, se, om);
			if (stamp) {
				int64_t e = sb_prom_expires_at(st, se);
				if (e < until)
					until = e;
			}
		}
	}
	if (stamp) {
		stamp->changes = atomic_load_explicit(&st->changes, memory_order_relaxed);
		stamp->until = until;
	}
	pthread_mutex_unlock(&st->mu);
	if (om)
		sb_buf_add(out, "# EOF\n", 6);
	atomic_store_explicit(&st->last_len, out->len - start, memory_order_relaxed);
}

size_t sb_prom_store_each(struct sb_prom_store *st, const char *name, int64_t now,
			  void (*fn)(void *arg, const char *labels, double value), void *arg)
{
	size_t n = 0;
	pthread_mutex_lock(&st->mu);
	const struct family *f = sb_prom_family_find(st, name, NULL);
	for (size_t j = 0; f && j < f->n; j++) {
		const struct series *se = f->v[j];
		if (sb_prom_expired(st, se, now))
			continue;
		fn(arg, series_labels(se), se->value);
		n++;
	}
	pthread_mutex_unlock(&st->mu);
	return n;
}
