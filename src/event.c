#include "sb_event.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "sb_json.h"
#include "sb_rodata.h"

/* Builder-side records hold offsets into the builder's string buffer, since
 * that buffer moves when it grows, and symbol indices. */
struct sb_evb_sample {
	uint32_t name; /* symbol */
	uint32_t help; /* dictionary entry, NO_HELP: none */
	size_t label0, nlabels;
	size_t bucket0, nbuckets;
	double value, sum, count;
	enum sb_mtype type;
};

struct sb_evb_label {
	uint32_t name, value; /* symbols */
	size_t ord;	      /* its place as added: sorting keeps duplicates in it */
};

/* A dictionary entry: a string seen in this or an earlier event. */
struct sb_evb_ent {
	size_t off; /* in dstr */
	uint32_t len;
	uint32_t hash;
	uint32_t sym_epoch, sym; /* its symbol, if sym_epoch is this event's */
	uint32_t help_epoch;	 /* a help text of this event, likewise, */
	size_t help;		 /* at this offset among the event's help texts */
	bool utf8;
	bool slotted; /* in dtab (not a duplicate past MAX_PROBE) */
};

/* A lookup gives up after this many occupied slots and adds the string as a
 * new entry, a duplicate: correct all the same, and a label value made to
 * collide (a scraped target's) costs no more than this per string. */
#define MAX_PROBE 32
#define NO_HELP UINT32_MAX
/* The dictionary is dropped at an event's start when it holds more than
 * twice the entries the last event took, plus this: a sensor whose label
 * values change keeps a dictionary of the size of its events. */
#define DICT_SLACK 1024

struct sb_evb_field {
	size_t key;
	enum sb_ftype type;
	size_t len;
	union {
		int64_t i;
		uint64_t u;
		double d;
		size_t s;
	} v;
};

const char *sb_mtype_name(enum sb_mtype t)
{
	switch (t) {
	case SB_GAUGE:
		return "gauge";
	case SB_COUNTER:
		return "counter";
	case SB_HISTOGRAM:
		return "histogram";
	case SB_SUMMARY:
		return "summary";
	default:
		return "untyped";
	}
}

void sb_event_unref(struct sb_event *ev)
{
	if (!ev)
		return;
	if (atomic_fetch_sub_explicit(&ev->refs, 1, memory_order_acq_rel) == 1)
		free(ev);
}

const struct sb_field *sb_event_field(const struct sb_event *ev, const char *key)
{
	for (uint32_t i = 0; i < ev->nfields; i++)
		if (!strcmp(ev->fields[i].key, key))
			return &ev->fields[i];
	return NULL;
}

const char *sb_sample_label(const struct sb_sample *s, const char *name)
{
	for (uint16_t i = 0; i < s->nlabels; i++)
		if (!strcmp(s->labels[i].name, name))
			return s->labels[i].value;
	return NULL;
}

void sb_evb_init(struct sb_evb *b)
{
	memset(b, 0, sizeof(*b));
	sb_buf_init(&b->str);
	sb_buf_init(&b->dstr);
	sb_rodata_init();
}

void sb_evb_free(struct sb_evb *b)
{
	if (!b)
		return;
	sb_buf_free(&b->str);
	free(b->samples);
	free(b->labels);
	free(b->buckets);
	free(b->fields);
	free(b->syms);
	free(b->helps);
	free(b->ents);
	free(b->dtab);
	sb_buf_free(&b->dstr);
	free(b->smemo.slot);
	free(b->hmemo.slot);
	memset(b, 0, sizeof(*b));
}

#define GROW(b, arr, n, cap)                                                                       \
	((b)->err ? (b)->err                                                                       \
	 : (b)->n < (b)->cap                                                                       \
	     ? 0                                                                                   \
	     : ((b)->err = sb_grow((void **)&(b)->arr, &(b)->cap, (b)->n + 1, sizeof(*(b)->arr))))

static size_t put_bytes(struct sb_evb *b, struct sb_buf *buf, const char *s, size_t n)
{
	size_t off = buf->len;
	if (sb_unlikely(buf->cap - off < n + 1) && sb_buf_reserve(buf, n + 1)) {
		if (!b->err)
			b->err = buf->err ? buf->err : -ENOMEM;
		return off;
	}
	if (n) /* a new builder's buffer has no data yet: NULL + 0 is undefined */
		memcpy(buf->data + off, s, n);
	buf->data[off + n] = 0;
	buf->len = off + n + 1;
	return off;
}

static size_t put_str(struct sb_evb *b, const char *s, size_t n)
{
	return put_bytes(b, &b->str, s, n);
}

/* Names and labels are mostly 4 to 40 bytes: compared without a call, a
 * word at a time, the last word overlapping the one before it. Reads only
 * the n bytes of each. */
static inline bool eq(const char *a, const char *b, size_t n)
{
	uint64_t x, y;
	if (n < 8) {
		uint32_t p, q, r, t;
		if (n < 4) {
			for (size_t i = 0; i < n; i++)
				if (a[i] != b[i])
					return false;
			return true;
		}
		memcpy(&p, a, 4);
		memcpy(&q, b, 4);
		memcpy(&r, a + n - 4, 4);
		memcpy(&t, b + n - 4, 4);
		return p == q && r == t;
	}
	for (size_t i = 0; i + 8 < n; i += 8) {
		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y)
			return false;
	}
	memcpy(&x, a + n - 8, 8);
	memcpy(&y, b + n - 8, 8);
	return x == y;
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* A hash of the bytes, a word at a time; on the way, whether a byte has the
 * high bit set (then the string may not be ASCII) and whether one is NUL.
 * Not a defence against chosen collisions: MAX_PROBE is. */
static inline uint32_t hash_bytes(const char *s, size_t n, bool *high, bool *nul)
{
	const uint64_t k = 0xff51afd7ed558ccdull;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w, acc = 0, zero = 0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		acc |= w;
		zero |= (w - ONES) & ~w & HIGHS;
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	if (i < n) {
		w = 0;
		for (unsigned sh = 0; i < n; i++, sh += 8) {
			unsigned char c = (unsigned char)s[i];
			zero |= !c;
			w |= (uint64_t)c << sh;
		}
		acc |= w;
		h = (h ^ w) * k;
	}
	*high = acc & HIGHS;
	*nul = zero;
	h ^= h >> 32;
	return (uint32_t)h;
}

static bool valid_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0, l; i < n; i += l)
		if (!(l = p[i] < 0x80 ? 1 : sb_utf8_len(p + i, n - i)))
			return false;
	return true;
}

static int dict_grow(struct sb_evb *b)
{
	size_t cap = b->dcap ? b->dcap * 2 : 64;
	if (cap > UINT32_MAX)
		return b->err = -E2BIG;
	uint32_t *t = calloc(cap, sizeof(*t));
	if (!t)
		return b->err = -ENOMEM;
	for (size_t i = 0; i < b->nents; i++) {
		if (!b->ents[i].slotted)
			continue;
		size_t j = b->ents[i].hash & (cap - 1);
		while (t[j])
			j = (j + 1) & (cap - 1);
		t[j] = (uint32_t)i + 1;
	}
	free(b->dtab);
	b->dtab = t;
	b->dcap = cap;
	return 0;
}

static void dict_clear(struct sb_evb *b)
{
	b->nents = 0;
	sb_buf_reset(&b->dstr);
	if (b->dcap)
		memset(b->dtab, 0, b->dcap * sizeof(*b->dtab));
	/* the entries are numbered anew: a slot's address must not vouch for
	 * whatever string now has its old number */
	b->smemo.n = b->hmemo.n = 0;
}

/* The entry of the string s[0, n), found by its hash or added. Strings end
 * at their first NUL wherever events are read (a name is a C string), so an
 * entry holds what a reader sees. UINT32_MAX with b->err set on failure. */
static uint32_t dict_lookup(struct sb_evb *b, const char *s, size_t n)
{
	if (n > UINT32_MAX || b->nents >= UINT32_MAX - 1) {
		b->err = -E2BIG;
		return UINT32_MAX;
	}
	bool high, nul;
	uint32_t h = hash_bytes(s, n, &high, &nul);
	if (sb_unlikely(nul)) {
		n = (size_t)((const char *)memchr(s, 0, n) - s);
		h = hash_bytes(s, n, &high, &nul);
	}
	if (b->nents * 2 >= b->dcap && dict_grow(b))
		return UINT32_MAX;
	size_t mask = b->dcap - 1, j = h & mask;
	bool slotted = false;
	for (unsigned probe = 0; probe < MAX_PROBE; probe++, j = (j + 1) & mask) {
		uint32_t e = b->dtab[j];
		if (!e) {
			slotted = true;
			break;
		}
		const struct sb_evb_ent *y = &b->ents[e - 1];
		if (y->hash == h && y->len == n && eq(b->dstr.data + y->off, s, n))
			return e - 1;
	}
	if (GROW(b, ents, nents, capents))
		return UINT32_MAX;
	struct sb_evb_ent *y = &b->ents[b->nents];
	y->off = put_bytes(b, &b->dstr, s, n);
	if (b->err)
		return UINT32_MAX;
	y->len = (uint32_t)n;
	y->hash = h;
	y->sym_epoch = y->help_epoch = 0;
	y->utf8 = !high || valid_utf8(s, n);
	y->slotted = slotted;
	if (slotted)
		b->dtab[j] = (uint32_t)b->nents + 1;
	return (uint32_t)b->nents++;
}

/* Remembers e, the entry of the string at s, for the memo's current
 * position. */
/* Whether s[0, n) is a whole string of the read-only image: its own NUL
 * ends it. Only such a string is remembered by its address, so that one
 * given by address alone (SB_EVB_NUL) is told by it, and a prefix of one
 * given with its length is not taken for the whole. */
static inline bool ro_whole(const char *s, size_t n)
{
	return sb_rodata(s) && sb_rodata(s + n) && !s[n];
}

static void memo_set(struct sb_evb_memo *m, uint32_t e, const char *s, size_t n)
{
	if (m->pos >= m->cap && sb_grow((void **)&m->slot, &m->cap, m->pos + 1, sizeof(*m->slot))) {
		/* only the next event misses it: the event itself is whole */
		m->pos++;
		return;
	}
	while (m->n < m->pos) /* positions a failed growth skipped */
		m->slot[m->n++] = (struct sb_evb_memo_slot){NULL, UINT32_MAX};
	m->slot[m->pos++] = (struct sb_evb_memo_slot){ro_whole(s, n) ? s : NULL, e};
	if (m->n < m->pos)
		m->n = m->pos;
}

/* The entry the memo's current position had last time, if it still holds
 * s[0, *np): the same address in the read-only image, or a comparison;
 * either instead of a hash and a probe. A length of SB_EVB_NUL is measured
 * here, and only when the address does not tell: a string read by strlen
 * is cold after a second's sleep, as its copy is. A string holding a NUL
 * never matches (entries have none) and is looked up. */
static inline uint32_t memo_get(const struct sb_evb *b, struct sb_evb_memo *m, const char *s,
				size_t *np)
{
	if (m->pos >= m->n)
		return UINT32_MAX;
	struct sb_evb_memo_slot *t = &m->slot[m->pos];
	uint32_t e = t->ent;
	if (e >= b->nents)
		return UINT32_MAX;
	const struct sb_evb_ent *y = &b->ents[e];
	if (s == t->ro && (*np == SB_EVB_NUL || *np == y->len))
		return e;
	if (*np == SB_EVB_NUL)
		*np = strlen(s);
	if (y->len != *np || !eq(b->dstr.data + y->off, s, *np))
		return UINT32_MAX;
	if (ro_whole(s, *np))
		t->ro = s;
	return e;
}

/* e's symbol in this event: the one it has, or a new one. 0 with b->err
 * set on failure. */
static inline uint32_t sym_of(struct sb_evb *b, uint32_t e)
{
	struct sb_evb_ent *y = &b->ents[e];
	if (y->sym_epoch == b->epoch)
		return y->sym;
	if (b->nsyms >= UINT32_MAX - 1) {
		b->err = -E2BIG;
		return 0;
	}
	if (GROW(b, syms, nsyms, capsyms))
		return 0;
	/* the bytes are copied once, into the event (sb_evb_finish) */
	b->syms[b->nsyms] = e;
	b->symbytes += y->len + 1;
	y->sym_epoch = b->epoch;
	y->sym = (uint32_t)b->nsyms;
	b->used++;
	return (uint32_t)b->nsyms++;
}

static inline bool same(const struct sb_evb *b, uint32_t sym, const char *s, size_t n)
{
	const struct sb_evb_ent *y = &b->ents[b->syms[sym]];
	return y->len == n && eq(b->dstr.data + y->off, s, n);
}

/* The memo missed (the first event, or one that took another turn): the
 * hint, a symbol of this event that often holds the same string (the
 * previous sample's name, its label at this place), or the table. */
static uint32_t intern_miss(struct sb_evb *b, const char *s, size_t n, uint32_t hint)
{
	uint32_t e;
	b->diverged = true;
	if (hint != UINT32_MAX && same(b, hint, s, n))
		e = b->syms[hint];
	else if ((e = dict_lookup(b, s, n)) == UINT32_MAX)
		return 0;
	memo_set(&b->smemo, e, s, n);
	return sym_of(b, e);
}

/* The symbol of the string s[0, n) in this event. 0 with b->err set on
 * failure. */
static inline uint32_t intern(struct sb_evb *b, const char *s, size_t n, uint32_t hint)
{
	if (b->err)
		return 0;
	uint32_t e = memo_get(b, &b->smemo, s, &n);
	if (sb_unlikely(e == UINT32_MAX))
		return intern_miss(b, s, n == SB_EVB_NUL ? strlen(s) : n, hint);
	b->smemo.pos++;
	return sym_of(b, e);
}

void sb_evb_begin(struct sb_evb *b, const char *source, const char *kind)
{
	b->err = 0;
	sb_buf_reset(&b->str);
	/* epoch 0 marks no event: on wrapping, no entry may keep a mark */
	if (++b->epoch == 0 || b->nents > 2 * b->used + DICT_SLACK) {
		dict_clear(b);
		b->epoch += !b->epoch;
	}
	b->used = 0;
	/* one begun and not finished left its strings in the memo */
	if (b->began)
		b->unfinished = true;
	b->began = true;
	b->diverged = false;
	b->smemo.pos = b->hmemo.pos = 0;
	b->nsamples = b->nlabels = b->nbuckets = b->nfields = b->nsyms = b->nhelps = 0;
	b->symbytes = b->helpbytes = 0;
	b->origin = false;
	b->time_ns = sb_now_real_ns();
	b->source = put_str(b, source, strlen(source));
	b->kind = put_str(b, kind, strlen(kind));
}

void sb_evb_time(struct sb_evb *b, int64_t real_ns) { b->time_ns = real_ns; }

void sb_evb_origin(struct sb_evb *b, const char *host, const char *run, uint64_t seq)
{
	b->origin = true;
	b->ohost = put_str(b, host, strlen(host));
	b->orun = put_str(b, run, strlen(run));
	b->oseq = seq;
}

size_t sb_evb_nsamples(const struct sb_evb *b) { return b->nsamples; }

/* A string holding a NUL is never the same as a symbol (cut there), and is
 * looked up. */
void sb_evb_samplen(struct sb_evb *b, const char *name, size_t namelen, enum sb_mtype type,
		    double value)
{
	if (GROW(b, samples, nsamples, capsamples))
		return;
	struct sb_evb_sample *s = &b->samples[b->nsamples];
	/* a family's samples come one after another: the previous sample's
	 * name is the hint */
	s->name = intern(b, name, namelen, b->nsamples ? s[-1].name : UINT32_MAX);
	if (b->err)
		return;
	s->help = NO_HELP;
	s->label0 = b->nlabels;
	s->nlabels = 0;
	s->bucket0 = b->nbuckets;
	s->nbuckets = 0;
	s->value = value;
	s->sum = s->count = 0;
	s->type = type;
	b->nsamples++;
}

/* Families repeat their HELP on every series, and rounds repeat it too:
 * the text is found in the dictionary and stored once an event. */
void sb_evb_help(struct sb_evb *b, const char *help)
{
	if (b->err || !b->nsamples || !help)
		return;
	struct sb_evb_memo *m = &b->hmemo;
	struct sb_evb_memo_slot *t = m->pos < m->n ? &m->slot[m->pos] : NULL;
	uint32_t e = t ? t->ent : UINT32_MAX;
	/* strcmp, not a word-wise compare: help's length is not known */
	if (e < b->nents && (help == t->ro || !strcmp(b->dstr.data + b->ents[e].off, help))) {
		if (help != t->ro && sb_rodata(help))
			t->ro = help;
		m->pos++;
	} else {
		size_t n = strlen(help);
		e = dict_lookup(b, help, n);
		if (e == UINT32_MAX)
			return;
		memo_set(m, e, help, n);
	}
	struct sb_evb_ent *y = &b->ents[e];
	if (y->help_epoch != b->epoch) {
		if (GROW(b, helps, nhelps, caphelps))
			return;
		b->helps[b->nhelps++] = e;
		y->help = b->helpbytes;
		b->helpbytes += y->len + 1;
		y->help_epoch = b->epoch;
		b->used++;
	}
	b->samples[b->nsamples - 1].help = e;
}

void sb_evb_labeln(struct sb_evb *b, const char *name, size_t nlen, const char *value, size_t vlen)
{
	if (!b->nsamples || GROW(b, labels, nlabels, caplabels))
		return;
	struct sb_evb_sample *s = &b->samples[b->nsamples - 1];
	if (s->nlabels >= UINT16_MAX) {
		b->err = -E2BIG;
		return;
	}
	/* series of a family have the same label names, often values too:
	 * the previous sample's label at this place is the hint */
	uint32_t hn = UINT32_MAX, hv = UINT32_MAX;
	if (b->nsamples > 1 && s[-1].nlabels > s->nlabels) {
		const struct sb_evb_label *p = &b->labels[s[-1].label0 + s->nlabels];
		hn = p->name;
		hv = p->value;
	}
	uint32_t n = intern(b, name, nlen, hn);
	uint32_t v = intern(b, value, vlen, hv);
	if (b->err)
		return;
	struct sb_evb_label *l = &b->labels[b->nlabels];
	l->name = n;
	l->value = v;
	l->ord = b->nlabels++;
	s->nlabels++;
}

void sb_evb_bucket(struct sb_evb *b, double le, double count)
{
	if (!b->nsamples || GROW(b, buckets, nbuckets, capbuckets))
		return;
	b->buckets[b->nbuckets].le = le;
	b->buckets[b->nbuckets].count = count;
	b->nbuckets++;
	b->samples[b->nsamples - 1].nbuckets++;
}

void sb_evb_sumcount(struct sb_evb *b, double sum, double count)
{
	if (b->err || !b->nsamples)
		return;
	b->samples[b->nsamples - 1].sum = sum;
	b->samples[b->nsamples - 1].count = count;
}

static struct sb_evb_field *new_field(struct sb_evb *b, const char *key, enum sb_ftype t)
{
	if (GROW(b, fields, nfields, capfields))
		return NULL;
	struct sb_evb_field *f = &b->fields[b->nfields++];
	f->key = put_str(b, key, strlen(key));
	f->type = t;
	f->len = 0;
	return f;
}

void sb_evb_field_int(struct sb_evb *b, const char *key, int64_t v)
{
	struct sb_evb_field *f = new_field(b, key, SB_F_INT);
	if (f)
		f->v.i = v;
}

void sb_evb_field_uint(struct sb_evb *b, const char *key, uint64_t v)
{
	struct sb_evb_field *f = new_field(b, key, SB_F_UINT);
	if (f)
		f->v.u = v;
}

void sb_evb_field_double(struct sb_evb *b, const char *key, double v)
{
	struct sb_evb_field *f = new_field(b, key, SB_F_DOUBLE);
	if (f)
		f->v.d = v;
}

void sb_evb_field_str(struct sb_evb *b, const char *key, const char *v, size_t len)
{
	struct sb_evb_field *f = new_field(b, key, SB_F_STR);
	if (!f)
		return;
	if (len > UINT32_MAX) {
		b->err = -E2BIG;
		return;
	}
	f->len = len;
	f->v.s = put_str(b, v, len);
}

#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

static int cmp_sym(const struct sb_evb *b, uint32_t x, uint32_t y)
{
	if (x == y)
		return 0;
	return strcmp(b->dstr.data + b->ents[b->syms[x]].off,
		      b->dstr.data + b->ents[b->syms[y]].off);
}

/* Labels are sorted by name in every event, whatever order a sensor gave
 * them in: one series has one rendering, and every codec (the protobuf
 * schema sorts them) writes the same order. Sensors mostly give them
 * sorted, which costs one pass. Stable: the order they came in breaks ties
 * between duplicates. */
static int cmp_label(const void *x, const void *y, void *evb)
{
	const struct sb_evb_label *a = x, *b = y;
	int c = cmp_sym(evb, a->name, b->name);
	return c ? c : (a->ord > b->ord) - (a->ord < b->ord);
}

/* A sample has a few labels: an insertion sort (stable, as wanted) is
 * cheaper there than qsort_r's merge sort and its calls. */
#define INSERTION_MAX 16

static void sort_labels(struct sb_evb *b, struct sb_evb_label *l, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (cmp_sym(b, l[i - 1].name, l[i].name) > 0) {
			if (n > INSERTION_MAX) {
				qsort_r(l, n, sizeof(*l), cmp_label, b);
				return;
			}
			for (; i < n; i++) {
				struct sb_evb_label t = l[i];
				size_t j = i;
				for (; j && cmp_sym(b, l[j - 1].name, t.name) > 0; j--)
					l[j] = l[j - 1];
				l[j] = t;
			}
			return;
		}
}

struct sb_event *sb_evb_finish(struct sb_evb *b)
{
	/* The last event's symbol table, if this one interned its strings in
	 * its order without a miss; else a new version, drawn when an event
	 * is made. Decided before any failure: the memo holds this event's
	 * strings now, made or not. */
	if (b->diverged || b->unfinished || b->smemo.pos != b->last_interns ||
	    b->nsyms != b->last_nsyms)
		b->symver = 0;
	b->last_interns = b->smemo.pos;
	b->last_nsyms = b->nsyms;
	b->began = b->unfinished = false;
	if (b->err)
		return NULL;
	/* Fewer than two labels need no order, and the label array may not
	 * exist yet (NULL + 0 is undefined; found by fuzz_amqpmsg). */
	for (size_t i = 0; i < b->nsamples; i++)
		if (b->samples[i].nlabels > 1)
			sort_labels(b, b->labels + b->samples[i].label0, b->samples[i].nlabels);
	size_t off_samples = ALIGN8(sizeof(struct sb_event));
	size_t off_labels = ALIGN8(off_samples + b->nsamples * sizeof(struct sb_sample));
	size_t off_buckets = ALIGN8(off_labels + b->nlabels * sizeof(struct sb_label));
	size_t off_fields = ALIGN8(off_buckets + b->nbuckets * sizeof(struct sb_bucket));
	size_t off_syms = ALIGN8(off_fields + b->nfields * sizeof(struct sb_field));
	size_t off_str = off_syms + b->nsyms * sizeof(struct sb_sym);
	size_t total = off_str + b->str.len + b->symbytes + b->helpbytes;
	if (total > UINT32_MAX) {
		b->err = -E2BIG;
		return NULL;
	}
	char *mem = malloc(total);
	if (!mem) {
		b->err = -ENOMEM;
		return NULL;
	}
	struct sb_event *ev = (struct sb_event *)mem;
	struct sb_sample *samples = (struct sb_sample *)(mem + off_samples);
	struct sb_label *labels = (struct sb_label *)(mem + off_labels);
	struct sb_bucket *buckets = (struct sb_bucket *)(mem + off_buckets);
	struct sb_field *fields = (struct sb_field *)(mem + off_fields);
	struct sb_sym *syms = (struct sb_sym *)(mem + off_syms);
	char *str = mem + off_str;
	if (b->str.len)
		memcpy(str, b->str.data, b->str.len);

	atomic_init(&ev->refs, 1);
	ev->nsamples = (uint32_t)b->nsamples;
	ev->nfields = (uint32_t)b->nfields;
	ev->size = (uint32_t)total;
	ev->seq = 0;
	ev->time_ns = b->time_ns;
	ev->source = str + b->source;
	ev->kind = str + b->kind;
	ev->samples = samples;
	ev->fields = fields;
	ev->syms = syms;
	ev->nsyms = (uint32_t)b->nsyms;
	static atomic_uint_fast64_t symvers;
	if (!b->symver)
		b->symver = atomic_fetch_add_explicit(&symvers, 1, memory_order_relaxed) + 1;
	ev->symver = b->symver;
	ev->oseq = b->origin ? b->oseq : 0;
	ev->orun = b->origin ? str + b->orun : NULL;
	ev->ohost = b->origin ? str + b->ohost : NULL;

	char *p = str + b->str.len;
	for (size_t i = 0; i < b->nsyms; i++) {
		const struct sb_evb_ent *y = &b->ents[b->syms[i]];
		memcpy(p, b->dstr.data + y->off, y->len + 1);
		syms[i] = (struct sb_sym){p, y->len, y->utf8};
		p += y->len + 1;
	}
	char *helps = p;
	for (size_t i = 0; i < b->nhelps; i++) {
		const struct sb_evb_ent *y = &b->ents[b->helps[i]];
		memcpy(helps + y->help, b->dstr.data + y->off, y->len + 1);
	}
	for (size_t i = 0; i < b->nlabels; i++) {
		const struct sb_evb_label *l = &b->labels[i];
		labels[i] = (struct sb_label){syms[l->name].s, syms[l->value].s, l->name, l->value};
	}
	if (b->nbuckets)
		memcpy(buckets, b->buckets, b->nbuckets * sizeof(*buckets));
	for (size_t i = 0; i < b->nsamples; i++) {
		const struct sb_evb_sample *s = &b->samples[i];
		samples[i] = (struct sb_sample){
		    .name = syms[s->name].s,
		    .name_sym = s->name,
		    .labels = labels + s->label0,
		    .buckets = buckets + s->bucket0,
		    .value = s->value,
		    .sum = s->sum,
		    .count = s->count,
		    .nlabels = (uint16_t)s->nlabels,
		    .type = (uint16_t)s->type,
		    .nbuckets = (uint32_t)s->nbuckets,
		    .help = s->help == NO_HELP ? NULL : helps + b->ents[s->help].help,
		};
	}
	for (size_t i = 0; i < b->nfields; i++) {
		const struct sb_evb_field *f = &b->fields[i];
		fields[i].key = str + f->key;
		fields[i].type = f->type;
		fields[i].len = (uint32_t)f->len;
		switch (f->type) {
		case SB_F_STR:
			fields[i].v.s = str + f->v.s;
			break;
		case SB_F_INT:
			fields[i].v.i = f->v.i;
			break;
		case SB_F_UINT:
			fields[i].v.u = f->v.u;
			break;
		case SB_F_DOUBLE:
			fields[i].v.d = f->v.d;
			break;
		}
	}
	return ev;
}
