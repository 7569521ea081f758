#include "sb_event.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Builder-side records hold offsets into the builder's string buffer, since
 * that buffer moves when it grows. */
struct sb_evb_sample {
	size_t name;
	size_t help; /* SIZE_MAX: none */
	size_t label0, nlabels;
	size_t bucket0, nbuckets;
	double value, sum, count;
	enum sb_mtype type;
};

struct sb_evb_label {
	size_t name, value;
};

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
	memset(b, 0, sizeof(*b));
}

#define GROW(b, arr, n, cap)                                                                       \
	((b)->err                                                                                  \
	     ? (b)->err                                                                            \
	     : ((b)->err = sb_grow((void **)&(b)->arr, &(b)->cap, (b)->n + 1, sizeof(*(b)->arr))))

static size_t put_str(struct sb_evb *b, const char *s, size_t n)
{
	size_t off = b->str.len;
	if (n) /* a new builder's buffer has no data yet: NULL + 0 is undefined */
		sb_buf_add(&b->str, s, n);
	sb_buf_addc(&b->str, 0);
	if (b->str.err && !b->err)
		b->err = b->str.err;
	return off;
}

void sb_evb_begin(struct sb_evb *b, const char *source, const char *kind)
{
	b->err = 0;
	sb_buf_reset(&b->str);
	b->nsamples = b->nlabels = b->nbuckets = b->nfields = 0;
	b->time_ns = sb_now_real_ns();
	b->source = put_str(b, source, strlen(source));
	b->kind = put_str(b, kind, strlen(kind));
}

void sb_evb_time(struct sb_evb *b, int64_t real_ns) { b->time_ns = real_ns; }

size_t sb_evb_nsamples(const struct sb_evb *b) { return b->nsamples; }

void sb_evb_samplen(struct sb_evb *b, const char *name, size_t namelen, enum sb_mtype type,
		    double value)
{
	if (GROW(b, samples, nsamples, capsamples))
		return;
	struct sb_evb_sample *s = &b->samples[b->nsamples];
	/* a family's series come one after another: its name stored once */
	const struct sb_evb_sample *prev = b->nsamples ? s - 1 : NULL;
	if (prev && strlen(b->str.data + prev->name) == namelen &&
	    !memcmp(b->str.data + prev->name, name, namelen))
		s->name = prev->name;
	else
		s->name = put_str(b, name, namelen);
	s->help = SIZE_MAX;
	s->label0 = b->nlabels;
	s->nlabels = 0;
	s->bucket0 = b->nbuckets;
	s->nbuckets = 0;
	s->value = value;
	s->sum = s->count = 0;
	s->type = type;
	b->nsamples++;
}

void sb_evb_sample(struct sb_evb *b, const char *name, enum sb_mtype type, double value)
{
	sb_evb_samplen(b, name, strlen(name), type, value);
}

void sb_evb_help(struct sb_evb *b, const char *help)
{
	if (b->err || !b->nsamples || !help)
		return;
	struct sb_evb_sample *s = &b->samples[b->nsamples - 1];
	/* Families repeat their HELP on every series: store it once. */
	if (b->nsamples > 1) {
		const struct sb_evb_sample *prev = &b->samples[b->nsamples - 2];
		if (prev->help != SIZE_MAX && !strcmp(b->str.data + prev->help, help)) {
			s->help = prev->help;
			return;
		}
	}
	s->help = put_str(b, help, strlen(help));
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
	struct sb_evb_label *l = &b->labels[b->nlabels++];
	l->name = put_str(b, name, nlen);
	l->value = put_str(b, value, vlen);
	s->nlabels++;
}

void sb_evb_label(struct sb_evb *b, const char *name, const char *value)
{
	sb_evb_labeln(b, name, strlen(name), value, strlen(value));
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

/* Labels are sorted by name in every event, whatever order a sensor gave
 * them in: one series has one rendering, and every codec (the protobuf
 * schema sorts them) writes the same order. Sensors mostly give them
 * sorted, which costs one pass. Stable: strings are appended in the order
 * they came, so a name's offset breaks ties between duplicates. */
static int cmp_label(const void *x, const void *y, void *str)
{
	const struct sb_evb_label *a = x, *b = y;
	int c = strcmp((const char *)str + a->name, (const char *)str + b->name);
	return c ? c : (a->name > b->name) - (a->name < b->name);
}

static void sort_labels(struct sb_evb *b, struct sb_evb_label *l, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (strcmp(b->str.data + l[i - 1].name, b->str.data + l[i].name) > 0) {
			qsort_r(l, n, sizeof(*l), cmp_label, b->str.data);
			return;
		}
}

struct sb_event *sb_evb_finish(struct sb_evb *b)
{
	if (b->err)
		return NULL;
	for (size_t i = 0; i < b->nsamples; i++)
		sort_labels(b, b->labels + b->samples[i].label0, b->samples[i].nlabels);
	size_t off_samples = ALIGN8(sizeof(struct sb_event));
	size_t off_labels = ALIGN8(off_samples + b->nsamples * sizeof(struct sb_sample));
	size_t off_buckets = ALIGN8(off_labels + b->nlabels * sizeof(struct sb_label));
	size_t off_fields = ALIGN8(off_buckets + b->nbuckets * sizeof(struct sb_bucket));
	size_t off_str = off_fields + b->nfields * sizeof(struct sb_field);
	size_t total = off_str + b->str.len;
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

	for (size_t i = 0; i < b->nlabels; i++) {
		labels[i].name = str + b->labels[i].name;
		labels[i].value = str + b->labels[i].value;
	}
	if (b->nbuckets)
		memcpy(buckets, b->buckets, b->nbuckets * sizeof(*buckets));
	for (size_t i = 0; i < b->nsamples; i++) {
		const struct sb_evb_sample *s = &b->samples[i];
		samples[i] = (struct sb_sample){
		    .name = str + s->name,
		    .labels = labels + s->label0,
		    .buckets = buckets + s->bucket0,
		    .value = s->value,
		    .sum = s->sum,
		    .count = s->count,
		    .nlabels = (uint16_t)s->nlabels,
		    .type = (uint16_t)s->type,
		    .nbuckets = (uint32_t)s->nbuckets,
		    .help = s->help == SIZE_MAX ? NULL : str + s->help,
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
