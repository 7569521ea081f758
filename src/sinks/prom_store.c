/* The Prometheus sink's series store (see prom_store.h).
 *
 * Layout: one hash table maps a series' identity (name, NUL, rendered
 * labels) to the series; families are kept in an array sorted by name, each
 * with its series sorted by their rendered labels, so a scrape is one walk
 * that writes prebuilt text. Updating a known series allocates nothing.
 *
 * Refresh periods: each series remembers the gaps (by event time) between
 * its last three refreshes and takes the longer of the last two as its
 * period, so one catch-up round cannot shrink it and one outage only
 * stretches it for two rounds. A series seen once borrows its source's
 * longest period, or UNKNOWN_PERIOD when the source has none yet (the first
 * round of a slow scrape must not vanish before the second arrives). */
#include "prom_store.h"
#include "prom_store_int.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_json.h"
#include "sb_log.h"

#define EXPIRE_EVERY SB_NSEC_PER_SEC

static const char *const reject_names[SB_PROM_REJ_MAX] = {
    [SB_PROM_REJ_NAME] = "invalid_name",  [SB_PROM_REJ_LABEL] = "invalid_label",
    [SB_PROM_REJ_TYPE] = "type_conflict", [SB_PROM_REJ_HISTOGRAM] = "invalid_histogram",
    [SB_PROM_REJ_LIMIT] = "series_limit", [SB_PROM_REJ_NOMEM] = "out_of_memory",
};

const char *sb_prom_reject_name(enum sb_prom_reject r)
{
	return r < SB_PROM_REJ_MAX ? reject_names[r] : "unknown";
}

struct sb_prom_store *sb_prom_store_new(const struct sb_prom_store_opts *o)
{
	struct sb_prom_store *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->o = *o;
	st->fresh_for = o->interval * o->stale_after;
	st->tabsize = 1024;
	st->tab = calloc(st->tabsize, sizeof(*st->tab));
	if (!st->tab) {
		free(st);
		return NULL;
	}
	pthread_mutex_init(&st->mu, NULL);
	sb_buf_init(&st->key);
	st->rl.interval_ns = 10 * SB_NSEC_PER_SEC;
	return st;
}

static void series_free(struct series *se)
{
	if (!se)
		return;
	free(se->buckets);
	free(se->line);
	free(se);
}

static void family_free(struct family *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		series_free(f->v[i]);
	free(f->v);
	free(f->name);
	free(f->help);
	free(f->text_header);
	free(f);
}

void sb_prom_store_free(struct sb_prom_store *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->nfams; i++)
		family_free(st->fams[i]);
	free(st->fams);
	free(st->tab);
	while (st->srcs) {
		struct source *n = st->srcs->next;
		free(st->srcs->memo);
		free(st->srcs->syms);
		free(st->srcs->symtext);
		free(st->srcs);
		st->srcs = n;
	}
	sb_buf_free(&st->key);
	free(st->bscratch);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

/* ---- text helpers ---- */

static bool valid_metric_name(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == ':'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == ':'))
			return false;
	return true;
}

static bool valid_label_name(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	if (s[0] == '_' && s[1] == '_') /* reserved for Prometheus itself */
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* Appends s escaped for a label value (dquote) or a HELP text: backslash
 * and newline always, '"' when dquote; bytes that are not valid UTF-8
 * become U+FFFD, since Prometheus rejects a whole scrape over one. */
void sb_prom_put_escaped(struct sb_buf *b, const char *s, size_t n, bool dquote)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0, i = sb_plain_prefix(p, n);
	while (i < n) {
		unsigned char c = p[i];
		if (c < 0x80 && c != '\\' && c != '\n' && (c != '"' || !dquote)) {
			i++;
			continue;
		}
		size_t l = c >= 0x80 ? sb_utf8_len(p + i, n - i) : 0;
		if (l) {
			i += l;
			continue;
		}
		sb_buf_add(b, s + run, i - run);
		if (c == '\\')
			sb_buf_add(b, "\\\\", 2);
		else if (c == '\n')
			sb_buf_add(b, "\\n", 2);
		else if (c == '"')
			sb_buf_add(b, "\\\"", 2);
		else
			sb_buf_add(b, "\xef\xbf\xbd", 3);
		i++;
		run = i;
	}
	sb_buf_add(b, s + run, n - run);
}

/* ---- lookups ---- */

struct family *sb_prom_family_find(struct sb_prom_store *st, const char *name, size_t *pos)
{
	size_t lo = 0, hi = st->nfams;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(st->fams[mid]->name, name);
		if (c == 0) {
			if (pos)
				*pos = mid;
			return st->fams[mid];
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (pos)
		*pos = lo;
	return NULL;
}

static struct source *source_get(struct sb_prom_store *st, const char *name)
{
	for (struct source *s = st->srcs; s; s = s->next)
		if (!strcmp(s->name, name))
			return s;
	size_t l = strlen(name);
	struct source *s = calloc(1, sizeof(*s) + l + 1);
	if (!s)
		return NULL;
	memcpy(s->name, name, l + 1);
	s->next = st->srcs;
	st->srcs = s;
	return s;
}

static int grow_table(struct sb_prom_store *st)
{
	size_t nsize = st->tabsize * 2;
	struct series **nt = calloc(nsize, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i < st->tabsize; i++) {
		struct series *se = st->tab[i];
		while (se) {
			struct series *next = se->hnext;
			size_t b = se->hash & (nsize - 1);
			se->hnext = nt[b];
			nt[b] = se;
			se = next;
		}
	}
	free(st->tab);
	st->tab = nt;
	st->tabsize = nsize;
	return 0;
}

/* A series key's hash, eight bytes a step: the byte-wise FNV of sb_hash
 * was a tenth of a round's updates (keys are ~60 bytes, every sample). */
static uint64_t key_hash(const char *k, size_t n)
{
	const uint64_t m = 0x9e3779b97f4a7c15ULL;
	uint64_t h = n * m, x;
	for (; n >= 8; k += 8, n -= 8) {
		memcpy(&x, k, 8);
		h = (h ^ x) * m;
		h ^= h >> 29;
	}
	x = 0;
	memcpy(&x, k, n);
	h = (h ^ x) * m;
	return h ^ (h >> 32);
}

static struct series *series_find(struct sb_prom_store *st, uint64_t h, const char *key,
				  size_t keylen)
{
	for (struct series *se = st->tab[h & (st->tabsize - 1)]; se; se = se->hnext)
		if (se->hash == h && se->namelen + se->labelslen + 2 == keylen &&
		    !memcmp(se->key, key, keylen))
			return se;
	return NULL;
}

static void reject(struct sb_prom_store *st, enum sb_prom_reject r, const struct sb_event *ev,
		   const struct sb_sample *s, const char *why)
{
	atomic_fetch_add_explicit(&st->n_rejected[r], 1, memory_order_relaxed);
	sb_log_rl(&st->rl, SB_LOG_WARN, "sink:prom",
		  "dropping sample %.200s from source %s: %s (counted in "
		  "sensorbus_prom_samples_rejected_total{reason=\"%s\"})",
		  s->name, ev->source, why, sb_prom_reject_name(r));
}

/* ---- updates ---- */

/* Grows an array of n elements so that one more fits. */
static int room_for_one(void **v, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 8;
	void *nv = realloc(*v, nc * elem);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = nc;
	return 0;
}

static struct family *family_get(struct sb_prom_store *st, const struct sb_sample *s,
				 enum sb_mtype type, const struct source *src)
{
	size_t pos;
	struct family *f = sb_prom_family_find(st, s->name, &pos);
	if (f)
		return f;
	if (room_for_one((void **)&st->fams, &st->capfams, st->nfams, sizeof(*st->fams)))
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->name = strdup(s->name))) {
		free(f);
		return NULL;
	}
	f->type = type;
	f->src = src;
	memmove(st->fams + pos + 1, st->fams + pos, (st->nfams - pos) * sizeof(*st->fams));
	st->fams[pos] = f;
	st->nfams++;
	atomic_store_explicit(&st->n_families, st->nfams, memory_order_relaxed);
	return f;
}

static struct series *series_new(struct sb_prom_store *st, struct family *f, uint64_t h,
				 const char *key, size_t namelen, size_t labelslen, size_t nl,
				 struct source *src)
{
	if (room_for_one((void **)&f->v, &f->cap, f->n, sizeof(*f->v)))
		return NULL;
	if (st->nseries >= st->tabsize && grow_table(st))
		return NULL;
	size_t ids = (offsetof(struct series, key) + namelen + labelslen + 2 + 3) & ~(size_t)3;
	struct series *se = calloc(1, ids + (1 + 2 * nl) * sizeof(uint32_t));
	if (!se)
		return NULL;
	memcpy(se->key, key, namelen + labelslen + 2);
	se->namelen = (uint32_t)namelen;
	se->labelslen = (uint32_t)labelslen;
	se->nids = (uint32_t)(1 + 2 * nl);
	se->hash = h;
	se->fam = f;
	se->type = f->type;
	se->src = src;
	size_t b = h & (st->tabsize - 1);
	se->hnext = st->tab[b];
	st->tab[b] = se;
	/* sorted insert by labels: families grow rarely, scrapes read often */
	const char *labels = series_labels(se);
	size_t lo = 0, hi = f->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(series_labels(f->v[mid]), labels) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(f->v + lo + 1, f->v + lo, (f->n - lo) * sizeof(*f->v));
	f->v[lo] = se;
	f->n++;
	st->nseries++;
	atomic_store_explicit(&st->n_series, st->nseries, memory_order_relaxed);
	return se;
}

/* Copies the sample's buckets (or quantiles) into scratch, sorted; checks
 * them; a histogram gets the +Inf bucket it lacks, and its count is taken
 * from +Inf, as the buckets are what quantiles are computed from. Returns
 * the number of buckets or -1. */
static int take_buckets(struct sb_prom_store *st, const struct sb_sample *s, double *count,
			const char **why)
{
	size_t n = s->nbuckets;
	if (st->bcap < n + 1) {
		struct sb_bucket *nb = realloc(st->bscratch, (n + 1) * sizeof(*nb));
		if (!nb) {
			*why = "out of memory";
			return -1;
		}
		st->bscratch = nb;
		st->bcap = n + 1;
	}
	struct sb_bucket *b = st->bscratch;
	for (size_t i = 0; i < n; i++) {
		struct sb_bucket t = s->buckets[i];
		if (isnan(t.le)) {
			*why = s->type == SB_SUMMARY ? "quantile is NaN" : "bucket bound is NaN";
			return -1;
		}
		size_t j = i;
		while (j > 0 && b[j - 1].le > t.le) {
			b[j] = b[j - 1];
			j--;
		}
		b[j] = t;
	}
	for (size_t i = 1; i < n; i++) {
		if (b[i].le == b[i - 1].le) {
			*why = "two buckets with the same bound";
			return -1;
		}
	}
	*count = s->count;
	if (s->type == SB_SUMMARY) {
		if (n && (b[0].le < 0 || b[n - 1].le > 1)) {
			*why = "quantile outside [0, 1]";
			return -1;
		}
		return (int)n;
	}
	for (size_t i = 1; i < n; i++) {
		if (b[i].count < b[i - 1].count) {
			*why = "bucket counts are not cumulative";
			return -1;
		}
	}
	if (!n || !isinf(b[n - 1].le) || b[n - 1].le < 0) {
		if (n && b[n - 1].count > s->count) {
			*why = "count is below the last bucket";
			return -1;
		}
		b[n].le = INFINITY;
		b[n].count = s->count;
		n++;
	}
	*count = b[n - 1].count;
	return (int)n;
}

/* Why the sorted labels cannot make a series, or NULL. */
static const char *names_check(const struct sb_label *const *lab, size_t nl, const char *reserved)
{
	for (size_t i = 0; i < nl; i++) {
		if (!valid_label_name(lab[i]->name) || !strcmp(lab[i]->name, reserved))
			return "invalid or reserved label name";
		if (i && !strcmp(lab[i]->name, lab[i - 1]->name))
			return "duplicate label name";
	}
	return NULL;
}

/* Whether se is the series of this name and these sorted labels: the
 * key apply_sample would make, compared piece by piece. A label value that
 * needs escaping answers no, and the key is made. */
static bool series_is(const struct series *se, const char *name, size_t namelen,
		      const struct sb_label *const *lab, size_t nl)
{
	if (se->namelen != namelen || memcmp(se->key, name, namelen))
		return false;
	const char *k = series_labels(se), *end = k + se->labelslen;
	for (size_t i = 0; i < nl; i++) {
		size_t n = strlen(lab[i]->name), v = strlen(lab[i]->value);
		const unsigned char *u = (const unsigned char *)lab[i]->value;
		for (size_t j = sb_plain_prefix(u, v); j < v; j++)
			if (u[j] >= 0x80 || u[j] == '\\' || u[j] == '\n' || u[j] == '"')
				return false;
		if ((size_t)(end - k) < (i > 0) + n + v + 3 || (i && *k++ != ',') ||
		    memcmp(k, lab[i]->name, n) || k[n] != '=' || k[n + 1] != '"' ||
		    memcmp(k + n + 2, lab[i]->value, v) || k[n + v + 2] != '"')
			return false;
		k += n + v + 3;
	}
	return k == end;
}

/* The series sample number i of an event of src went to last time, if it
 * is still there. */
static struct series *memo_get(struct sb_prom_store *st, struct source *src, size_t i)
{
	if (src->memo_gen != st->gen) {
		if (src->nmemo)
			memset(src->memo, 0, src->nmemo * sizeof(*src->memo));
		src->memo_gen = st->gen;
	}
	return i < src->nmemo ? src->memo[i] : NULL;
}

static void memo_set(struct source *src, size_t i, struct series *se)
{
	if (i >= src->nmemo) {
		size_t n = i < 64 ? 64 : 2 * i;
		struct series **m = realloc(src->memo, n * sizeof(*m));
		if (!m)
			return; /* looked up the long way next time */
		memset(m + src->nmemo, 0, (n - src->nmemo) * sizeof(*m));
		src->memo = m;
		src->nmemo = n;
	}
	src->memo[i] = se;
}

/* The series of the key in st->key, made when new; NULL when the sample
 * is rejected (counted and logged). */
static struct series *series_get(struct sb_prom_store *st, const struct sb_event *ev,
				 const struct sb_sample *s, enum sb_mtype type,
				 const struct sb_label *const *lab, size_t nl, size_t namelen,
				 struct source *src)
{
	struct sb_buf *k = &st->key;
	uint64_t h = key_hash(k->data, k->len);
	struct series *se = series_find(st, h, k->data, k->len);
	if (!se) {
		/* Names are checked when a series is made: a key found is one
		 * that passed (a round updates ~500 series, makes none). */
		if (!valid_metric_name(s->name)) {
			reject(st, SB_PROM_REJ_NAME, ev, s, "not a valid metric name");
			return NULL;
		}
		const char *reserved = type == SB_HISTOGRAM ? "le"
				       : type == SB_SUMMARY ? "quantile"
							    : "";
		const char *bad = names_check(lab, nl, reserved);
		if (bad) {
			reject(st, SB_PROM_REJ_LABEL, ev, s, bad);
			return NULL;
		}
		struct family *f = sb_prom_family_find(st, s->name, NULL);
		if (f && f->type != type) {
			reject(st, SB_PROM_REJ_TYPE, ev, s,
			       "its type differs from the family's first sample");
			return NULL;
		}
		if (st->o.max_series && st->nseries >= st->o.max_series) {
			reject(st, SB_PROM_REJ_LIMIT, ev, s,
			       "max_series reached: new series are dropped");
			return NULL;
		}
		if (!f)
			f = family_get(st, s, type, src);
		se = f ? series_new(st, f, h, k->data, namelen, k->len - namelen - 2, nl, src)
		       : NULL;
		if (!se)
			reject(st, SB_PROM_REJ_NOMEM, ev, s, "out of memory");
	} else if (se->fam->type != type) {
		reject(st, SB_PROM_REJ_TYPE, ev, s,
		       "its type differs from the family's first sample");
		return NULL;
	}
	return se;
}

/* The series of sample s the long way: its labels sorted into lab with the
 * target and host ones (made in extra[2]), checked against the memo's
 * series, else made into the key (st->key) to look up. *se is the memo's
 * series or NULL; -1: rejected. */
static int identify(struct sb_prom_store *st, const struct sb_event *ev, const char *target_value,
		    const struct sb_sample *s, enum sb_mtype type, struct series **se,
		    struct sb_label *extra, const struct sb_label **lab, size_t *nlp,
		    size_t *namelenp)
{
	size_t nl = s->nlabels;
	/* A scraped event names its target: label its series with it, as
	 * Prometheus does with instance, so two endpoints exposing the same
	 * series (two node_exporters) stay two series here. */
	/* Likewise another agent's event (a fleet's consumer serving every
	 * agent's series) is labelled with its host. */
	size_t nx = 0;
	if (target_value && !sb_sample_label(s, "target"))
		extra[nx++] = (struct sb_label){.name = "target", .value = target_value};
	if (ev->ohost && !sb_sample_label(s, "host"))
		extra[nx++] = (struct sb_label){.name = "host", .value = ev->ohost};
	for (size_t i = 0; i < nl + nx; i++) {
		const struct sb_label *t = i < nl ? &s->labels[i] : &extra[i - nl];
		size_t j = i;
		while (j > 0 && strcmp(lab[j - 1]->name, t->name) > 0) {
			lab[j] = lab[j - 1];
			j--;
		}
		lab[j] = t;
	}
	nl += nx;
	size_t namelen = strlen(s->name);
	*nlp = nl;
	*namelenp = namelen;
	if (*se && ((*se)->fam->type != type || !series_is(*se, s->name, namelen, lab, nl)))
		*se = NULL;
	if (*se)
		return 0;
	struct sb_buf *k = &st->key;
	sb_buf_reset(k);
	sb_buf_add(k, s->name, namelen + 1);
	for (size_t i = 0; i < nl; i++) {
		if (i)
			sb_buf_addc(k, ',');
		sb_buf_adds(k, lab[i]->name);
		sb_buf_add(k, "=\"", 2);
		sb_prom_put_escaped(k, lab[i]->value, strlen(lab[i]->value), true);
		sb_buf_addc(k, '"');
	}
	sb_buf_addc(k, 0);
	if (k->err) {
		k->err = 0;
		reject(st, SB_PROM_REJ_NOMEM, ev, s, "out of memory");
		return -1;
	}
	return 0;
}

static inline void take_help(struct family *f, const struct sb_sample *s)
{
	if (s->help && !f->help) {
		f->help = strdup(s->help); /* on failure the generic HELP stays */
		free(f->text_header);
		f->text_header = NULL;
	}
}

static inline void refreshed(struct series *se, struct source *src, const struct sb_event *ev,
			     int64_t now)
{
	if (se->ev_time && ev->time_ns > se->ev_time) {
		se->gap[1] = se->gap[0];
		se->gap[0] = ev->time_ns - se->ev_time;
		int64_t p = series_period(se);
		if (p > src->period)
			src->period = p;
	}
	se->ev_time = ev->time_ns;
	se->seen = now;
}

static void apply_sample(struct sb_prom_store *st, const struct sb_event *ev,
			 const char *target_value, const struct sb_sample *s, size_t idx,
			 struct source *src, int64_t now)
{
	enum sb_mtype type = s->type <= SB_SUMMARY ? (enum sb_mtype)s->type : SB_UNTYPED;
	if (s->nlabels > MAX_LABELS) {
		reject(st, SB_PROM_REJ_LABEL, ev, s, "more than 64 labels");
		return;
	}
	/* Only the event's own labels make the identity: a target or host
	 * label added here is not among its symbols. */
	bool own = !target_value && !ev->ohost;
	struct series *se = st->no_shortcuts ? NULL : memo_get(st, src, idx);
	bool known = se && own && se->type == type && same_ids(se, src, s, st->symstamp);
	const struct sb_label *lab[MAX_LABELS + 2]; /* and target, host */
	struct sb_label extra[2];
	size_t nl = 0, namelen = 0;
	if (!known && identify(st, ev, target_value, s, type, &se, extra, lab, &nl, &namelen))
		return;

	const char *why = NULL;
	double count = s->count;
	int nb = 0;
	if (type == SB_HISTOGRAM || type == SB_SUMMARY) {
		nb = take_buckets(st, s, &count, &why);
		if (nb < 0) {
			reject(st, SB_PROM_REJ_HISTOGRAM, ev, s, why);
			return;
		}
	}

	if (!known) {
		if (!se && !(se = series_get(st, ev, s, type, lab, nl, namelen, src)))
			return;
		memo_set(src, idx, se);
		if (own)
			sb_prom_record_ids(st, se, src, ev, s);
	}
	take_help(se->fam, s);

	if (nb) {
		if (se->nbuckets != (uint32_t)nb) {
			struct sb_bucket *m = realloc(se->buckets, (size_t)nb * sizeof(*m));
			if (!m) {
				reject(st, SB_PROM_REJ_NOMEM, ev, s, "out of memory");
				return;
			}
			se->buckets = m;
			se->nbuckets = (uint32_t)nb;
		}
		memcpy(se->buckets, st->bscratch, (size_t)nb * sizeof(*se->buckets));
	} else if (se->nbuckets) {
		free(se->buckets); /* a summary that lost its quantiles */
		se->buckets = NULL;
		se->nbuckets = 0;
	}
	se->value = s->value;
	se->sum = s->sum;
	se->count = count;
	refreshed(se, src, ev, now);
}

static int64_t series_limit(const struct sb_prom_store *st, const struct series *se)
{
	int64_t p = series_period(se);
	if (!p)
		p = se->src->period ? se->src->period : UNKNOWN_PERIOD;
	if (p < st->o.interval)
		p = st->o.interval;
	return p * st->o.stale_after;
}

int64_t sb_prom_expires_at(const struct sb_prom_store *st, const struct series *se)
{
	/* series_limit is at least fresh_for: see sb_prom_expired */
	return st->o.stale_after ? se->seen + series_limit(st, se) : INT64_MAX;
}

bool sb_prom_expired_long(const struct sb_prom_store *st, const struct series *se, int64_t now)
{
	return now - se->seen > series_limit(st, se);
}

static void unlink_series(struct sb_prom_store *st, struct series *se)
{
	struct series **pp = &st->tab[se->hash & (st->tabsize - 1)];
	while (*pp != se)
		pp = &(*pp)->hnext;
	*pp = se->hnext;
}

static size_t expire_locked(struct sb_prom_store *st, int64_t now)
{
	st->last_expire = now;
	/* none can have expired before the oldest refresh is fresh_for old */
	if (!st->o.stale_after || now - st->oldest_seen <= st->fresh_for)
		return 0;
	int64_t oldest = now;
	size_t gone = 0, keepf = 0;
	for (size_t i = 0; i < st->nfams; i++) {
		struct family *f = st->fams[i];
		size_t keep = 0;
		for (size_t j = 0; j < f->n; j++) {
			struct series *se = f->v[j];
			if (sb_prom_expired(st, se, now)) {
				unlink_series(st, se);
				series_free(se);
				gone++;
			} else {
				f->v[keep++] = se;
				if (se->seen < oldest)
					oldest = se->seen;
			}
		}
		f->n = keep;
		if (f->n)
			st->fams[keepf++] = f;
		else
			family_free(f);
	}
	st->nfams = keepf;
	st->oldest_seen = oldest;
	st->nseries -= gone;
	st->gen += gone > 0; /* the sources' memos may name freed series */
	if (gone)
		atomic_fetch_add_explicit(&st->changes, 1, memory_order_relaxed);
	atomic_store_explicit(&st->n_series, st->nseries, memory_order_relaxed);
	atomic_store_explicit(&st->n_families, st->nfams, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->n_expired, gone, memory_order_relaxed);
	return gone;
}

void sb_prom_store_update(struct sb_prom_store *st, struct sb_event *const *evs, size_t n,
			  int64_t now)
{
	uint64_t applied = 0, ignored = 0;
	pthread_mutex_lock(&st->mu);
	for (size_t i = 0; i < n; i++) {
		const struct sb_event *ev = evs[i];
		if (strcmp(ev->kind, "metrics")) {
			ignored++;
			continue;
		}
		struct source *src = source_get(st, ev->source);
		if (!src) {
			atomic_fetch_add_explicit(&st->n_rejected[SB_PROM_REJ_NOMEM], ev->nsamples,
						  memory_order_relaxed);
			continue;
		}
		if (!ev->symver || ev->symver != src->symver)
			sb_prom_syms_take(st, src, ev);
		const struct sb_field *tf = sb_event_field(ev, "target");
		const char *target = tf && tf->type == SB_F_STR ? tf->v.s : NULL;
		memo_get(st, src, 0); /* cleared if an expiry freed series */
		bool own = !target && !ev->ohost && !st->no_shortcuts;
		for (uint32_t j = 0; j < ev->nsamples; j++) {
			const struct sb_sample *s = &ev->samples[j];
			/* the usual sample: a known series without buckets */
			struct series *se = own && j < src->nmemo ? src->memo[j] : NULL;
			if (se && s->type == se->type && s->type < SB_HISTOGRAM &&
			    same_ids(se, src, s, st->symstamp)) {
				take_help(se->fam, s);
				se->value = s->value;
				se->sum = s->sum;
				se->count = s->count;
				refreshed(se, src, ev, now);
				continue;
			}
			apply_sample(st, ev, target, s, j, src, now);
		}
		applied++;
	}
	if (applied)
		atomic_fetch_add_explicit(&st->changes, 1, memory_order_relaxed);
	if (now - st->last_expire >= EXPIRE_EVERY)
		expire_locked(st, now);
	pthread_mutex_unlock(&st->mu);
	atomic_fetch_add_explicit(&st->n_events, applied, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->n_ignored, ignored, memory_order_relaxed);
}

size_t sb_prom_store_expire(struct sb_prom_store *st, int64_t now)
{
	pthread_mutex_lock(&st->mu);
	size_t n = expire_locked(st, now);
	pthread_mutex_unlock(&st->mu);
	return n;
}

uint64_t sb_prom_store_changes(struct sb_prom_store *st)
{
	return atomic_load_explicit(&st->changes, memory_order_relaxed);
}

void sb_prom_store_stats(struct sb_prom_store *st, struct sb_prom_store_stats *out)
{
	out->series = atomic_load_explicit(&st->n_series, memory_order_relaxed);
	out->families = atomic_load_explicit(&st->n_families, memory_order_relaxed);
	out->expired = atomic_load_explicit(&st->n_expired, memory_order_relaxed);
	out->events = atomic_load_explicit(&st->n_events, memory_order_relaxed);
	out->events_ignored = atomic_load_explicit(&st->n_ignored, memory_order_relaxed);
	for (int r = 0; r < SB_PROM_REJ_MAX; r++)
		out->rejected[r] = atomic_load_explicit(&st->n_rejected[r], memory_order_relaxed);
}
