/* The Prometheus sink's series store inside: its types, shared by the
 * updates (prom_store.c) and the rendering (prom_render.c). */
#ifndef SB_PROM_STORE_INT_H
#define SB_PROM_STORE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prom_store.h"
#include "sb_log.h"

#define UNKNOWN_PERIOD (15 * SB_NSEC_PER_SEC)
#define MAX_LABELS 64

struct source {
	struct source *next;
	int64_t period; /* longest period of its series */
	/* The series its last events' samples went to, by sample index: a
	 * sensor sends the same samples in the same order every round, and
	 * checking that one series is cheaper than making the key and looking
	 * it up. Valid while memo_gen is the store's gen. */
	struct series **memo;
	size_t nmemo;
	uint64_t memo_gen;
	/* A copy of its last event's symbol table (sb_event.h), each symbol
	 * with the store's symstamp of when it last changed. A sample whose
	 * symbol ids are those its series recorded, none of them changed since,
	 * is that series: found without reading its name and labels. */
	struct src_sym *syms;
	uint32_t nsyms, capsyms;
	uint64_t symchanged; /* the latest stamp of its symbols */
	uint64_t symver;     /* the sb_event.symver of its table; 0: none known */
	char *symtext;
	char name[];
};

struct src_sym {
	uint32_t off, len; /* in symtext */
	uint64_t stamp;
};

struct family;

struct series {
	struct series *hnext;
	struct family *fam;
	struct source *src;
	uint64_t hash;
	int64_t seen;	 /* monotonic ns of the last refresh */
	int64_t ev_time; /* event time of the last refresh */
	int64_t gap[2];	 /* the last two refresh gaps; 0: unknown */
	double value, sum, count;
	struct sb_bucket *buckets; /* sorted by le; histograms end with +Inf */
	uint32_t nbuckets;
	uint32_t namelen, labelslen;
	/* Its text-format line, "name{labels} value\n", kept between scrapes
	 * for a series without buckets: only the value's text is made again,
	 * when the value's bits differ from linebits. */
	char *line;
	uint32_t linelen, valoff;
	uint64_t linebits;
	/* The symbol ids (name, then each label's name and value) of the
	 * sample that last refreshed it, valid for symsrc's symbols not
	 * changed since symstamp (struct source). */
	const struct source *symsrc;
	uint64_t symstamp;
	uint32_t nids;	    /* 1 + 2 x its labels; the ids follow the key */
	enum sb_mtype type; /* its family's, here for the hot path */
	char key[];	    /* name NUL labels NUL */
};

struct family {
	char *name;
	char *help;		  /* NULL: none given; a generic one is rendered */
	const struct source *src; /* of its first series, for the generic HELP */
	/* Its HELP and TYPE lines in the text format, made at the first scrape
	 * that shows it and again when its help arrives: escaping the help
	 * text was a third of a scrape's rendering. */
	char *text_header;
	size_t text_header_len;
	enum sb_mtype type;
	struct series **v; /* sorted by labels */
	size_t n, cap;
};

struct sb_prom_store {
	struct sb_prom_store_opts o;
	pthread_mutex_t mu;
	struct series **tab;
	size_t tabsize; /* power of two */
	size_t nseries;
	struct family **fams; /* sorted by name */
	size_t nfams, capfams;
	struct source *srcs;
	int64_t last_expire;
	int64_t oldest_seen; /* at most the oldest series' seen */
	uint64_t gen;	     /* counts the expiries that freed series */
	uint64_t symstamp;   /* counts the sources' symbol changes */
	int64_t fresh_for;   /* interval x stale_after: the shortest limit */
	/* Tests: every sample is looked up by its key and every line made
	 * afresh, the store's answer without its shortcuts to compare with. */
	bool no_shortcuts;
	struct sb_buf key; /* scratch: the identity being looked up */
	struct sb_bucket *bscratch;
	size_t bcap;
	struct sb_ratelimit rl;
	/* counts the updates and the expiries that freed series: two renders at
	 * the same count are the same text while no series they show expires */
	atomic_uint_fast64_t changes;
	/* the last exposition's length, to size the next one's buffer */
	atomic_size_t last_len;
	atomic_uint_fast64_t n_series, n_families, n_expired, n_events, n_ignored;
	atomic_uint_fast64_t n_rejected[SB_PROM_REJ_MAX];
};

static inline const char *series_labels(const struct series *se)
{
	return se->key + se->namelen + 1;
}

static inline uint32_t *series_ids(const struct series *se)
{
	size_t at =
	    (offsetof(struct series, key) + se->namelen + se->labelslen + 2 + 3) & ~(size_t)3;
	return (uint32_t *)((char *)se + at);
}

static inline int64_t series_period(const struct series *se)
{
	return se->gap[0] > se->gap[1] ? se->gap[0] : se->gap[1];
}

/* Appends s escaped for a HELP text (dquote false) or a label value. */
void sb_prom_put_escaped(struct sb_buf *b, const char *s, size_t n, bool dquote);
/* The family of that name, else NULL with *pos where it would go. */
struct family *sb_prom_family_find(struct sb_prom_store *st, const char *name, size_t *pos);
/* When se expires if it is not refreshed: INT64_MAX without stale_after. */
int64_t sb_prom_expires_at(const struct sb_prom_store *st, const struct series *se);
/* sb_prom_expired by the series' own period (prom_store.c). */
bool sb_prom_expired_long(const struct sb_prom_store *st, const struct series *se, int64_t now);

/* Whether se went unrefreshed for longer than stale_after of its periods;
 * a series refreshed within stale_after intervals has not, whatever its
 * period, and that is every series of a scrape but the few going. */
static inline bool sb_prom_expired(const struct sb_prom_store *st, const struct series *se,
				   int64_t now)
{
	return st->o.stale_after && now - se->seen > st->fresh_for &&
	       sb_prom_expired_long(st, se, now);
}

/* Takes the event's symbols as src's (prom_syms.c). */
void sb_prom_syms_take(struct sb_prom_store *st, struct source *src, const struct sb_event *ev);
/* Records the symbol ids of s, found to be se the long way (prom_syms.c). */
void sb_prom_record_ids(struct sb_prom_store *st, struct series *se, const struct source *src,
			const struct sb_event *ev, const struct sb_sample *s);

/* Whether s, of an event of src whose symbols were taken, names se by the
 * ids se recorded: the same ids, none of their symbols changed since (all
 * of them not, the usual round, or each one not). */
static inline bool same_ids(struct series *se, const struct source *src, const struct sb_sample *s,
			    uint64_t now_stamp)
{
	if (se->symsrc != src || se->nids != 1 + 2u * s->nlabels)
		return false;
	const uint32_t *id = series_ids(se);
	if (s->name_sym != id[0])
		return false;
	for (uint32_t i = 0; i < s->nlabels; i++)
		if (s->labels[i].name_sym != id[1 + 2 * i] ||
		    s->labels[i].value_sym != id[2 + 2 * i])
			return false;
	if (src->symchanged <= se->symstamp)
		return true;
	for (uint32_t i = 0; i < se->nids; i++)
		if (id[i] >= src->nsyms || src->syms[id[i]].stamp > se->symstamp)
			return false;
	se->symstamp = now_stamp; /* its symbols are as they were: next time, no walk */
	return true;
}

#endif
