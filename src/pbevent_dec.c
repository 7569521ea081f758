/* The protobuf codec's decoder: sensorbus.v1.Event messages back into
 * events, for the consuming side and tools (`sensorbus decode`). The input
 * is untrusted: every length is checked against what is left, every index
 * against what it indexes, and what one message may make is bounded
 * (sb_pbevent.h). */
#include "sb_pbevent.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbevent_schema.h"
#include "sb_pbwire.h"

/* The wire type each known field must have; unknown fields are skipped
 * (a newer writer may add some), known ones with another type refused. */
/* wire type + 1, so that 0 means a field this decoder does not know */
#define W(t) ((t) + 1)
static const uint8_t event_wt[] = {
    [EV_SEQ] = W(SB_PB_VARINT),	 [EV_RUN] = W(SB_PB_LEN),     [EV_TIME] = W(SB_PB_I64),
    [EV_HOST] = W(SB_PB_LEN),	 [EV_SOURCE] = W(SB_PB_LEN),  [EV_KIND] = W(SB_PB_LEN),
    [EV_TARGET] = W(SB_PB_LEN),	 [EV_SAMPLES] = W(SB_PB_LEN), [EV_EXEC] = W(SB_PB_LEN),
    [EV_EXIT] = W(SB_PB_LEN),	 [EV_FORK] = W(SB_PB_LEN),    [EV_FIELDS] = W(SB_PB_LEN),
    [EV_SYMBOLS] = W(SB_PB_LEN),
};
static const uint8_t sample_wt[] = {
    [S_NAME] = W(SB_PB_LEN),	    [S_LABELS] = W(SB_PB_LEN),	     [S_TYPE] = W(SB_PB_VARINT),
    [S_VALUE] = W(SB_PB_I64),	    [S_BUCKETS] = W(SB_PB_LEN),	     [S_QUANTILES] = W(SB_PB_LEN),
    [S_SUM] = W(SB_PB_I64),	    [S_COUNT] = W(SB_PB_VARINT),     [S_COUNT_FLOAT] = W(SB_PB_I64),
    [S_NAME_REF] = W(SB_PB_VARINT), [S_INT_VALUE] = W(SB_PB_VARINT),
    /* S_LABEL_REFS: packed (LEN) or not (VARINT), as for any repeated
     * number; checked where it is read */
};
static const uint8_t label_wt[] = {[L_NAME] = W(SB_PB_LEN), [L_VALUE] = W(SB_PB_LEN)};
static const uint8_t bucket_wt[] = {
    [B_LE] = W(SB_PB_I64), [B_COUNT] = W(SB_PB_VARINT), [B_COUNT_FLOAT] = W(SB_PB_I64)};
static const uint8_t quantile_wt[] = {[Q_QUANTILE] = W(SB_PB_I64), [Q_VALUE] = W(SB_PB_I64)};
static const uint8_t field_wt[] = {[F_KEY] = W(SB_PB_LEN),
				   [F_INT] = W(SB_PB_VARINT),
				   [F_UINT] = W(SB_PB_VARINT),
				   [F_DOUBLE] = W(SB_PB_I64),
				   [F_STR] = W(SB_PB_LEN)};
static const uint8_t ftype_wt[] = {[SB_F_INT] = SB_PB_VARINT,
				   [SB_F_UINT] = SB_PB_VARINT,
				   [SB_F_DOUBLE] = SB_PB_I64,
				   [SB_F_STR] = SB_PB_LEN};

struct dec {
	struct sb_pbdec *d;
	size_t items; /* samples, labels, buckets and fields so far */
};

static int SB_PRINTF(3, 4) fail(struct sb_pbdec *d, size_t off, const char *fmt, ...)
{
	int n = snprintf(d->err, sizeof(d->err), "byte %zu: ", off);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->err + n, sizeof(d->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* The next field of msg (named for errors), its wire type checked against
 * wt[] where it is a known field. 1, 0 at the end, <0 with d->err. */
static int next(struct sb_pbdec *d, struct sb_pb_rd *r, struct sb_pb_field *f, const char *msg,
		const uint8_t *wt, size_t nwt)
{
	int e = sb_pb_read_field(r, f);
	if (e < 0) /* where the bad field begins */
		return fail(d, f->off, "%s: %s", msg, r->why);
	if (e && f->num < nwt && wt[f->num] && wt[f->num] != W(f->wt))
		return fail(d, f->off, "%s field %u: wire type %d, expected %d", msg, f->num,
			    (int)f->wt, wt[f->num] - 1);
	return e;
}
#define NEXT(d, r, f, msg, wt) next(d, r, f, msg, wt, SB_ARRAY_SIZE(wt))

/* Counts one more sample, label, bucket or field against the event's
 * budget: a few bytes each on the wire, tens in memory. */
static int item(struct dec *x, size_t off)
{
	if (++x->items <= SB_PBDEC_MAX_ITEMS)
		return 0;
	fail(x->d, off, "Event: more than %u samples, labels, buckets and fields",
	     SB_PBDEC_MAX_ITEMS);
	return -E2BIG;
}

/* A NUL-terminated copy in the scratch buffer (keys, source, kind), as an
 * offset: the buffer moves when it grows. */
static size_t cstr(struct sb_pbdec *d, const unsigned char *p, size_t n)
{
	size_t at = d->scratch.len;
	if (n) /* an empty buffer has no data pointer to add nothing to */
		sb_buf_add(&d->scratch, p, n);
	sb_buf_addc(&d->scratch, 0);
	return at;
}

static const char *scratch(struct sb_pbdec *d, size_t at)
{
	return d->scratch.err ? "" : d->scratch.data + at;
}

static int label_dec(struct dec *x, const struct sb_pb_field *lf)
{
	struct sb_pb_rd r;
	struct sb_pb_field f;
	const unsigned char *np = NULL, *vp = NULL;
	size_t nn = 0, vn = 0;
	int e;
	sb_pb_rd_init(&r, lf->p, lf->n, lf->body);
	while ((e = NEXT(x->d, &r, &f, "Label", label_wt)) > 0) {
		if (f.num == L_NAME)
			np = f.p, nn = f.n;
		else if (f.num == L_VALUE)
			vp = f.p, vn = f.n;
	}
	if (e < 0)
		return e;
	sb_evb_labeln(&x->d->evb, np ? (const char *)np : "", nn, vp ? (const char *)vp : "", vn);
	return 0;
}

static int bucket_dec(struct dec *x, const struct sb_pb_field *bf, bool quantile)
{
	struct sb_pb_rd r;
	struct sb_pb_field f;
	double le = 0, c = 0;
	int e;
	sb_pb_rd_init(&r, bf->p, bf->n, bf->body);
	while ((e = quantile ? NEXT(x->d, &r, &f, "Quantile", quantile_wt)
			     : NEXT(x->d, &r, &f, "Bucket", bucket_wt)) > 0) {
		if (f.num == 1)
			le = sb_pb_bits_double(f.u);
		else if (quantile && f.num == Q_VALUE)
			c = sb_pb_bits_double(f.u);
		else if (!quantile && f.num == B_COUNT)
			c = (double)f.u;
		else if (!quantile && f.num == B_COUNT_FLOAT)
			c = sb_pb_bits_double(f.u);
	}
	if (e < 0)
		return e;
	sb_evb_bucket(&x->d->evb, le, c);
	return 0;
}

/* The symbol of index i (named what for errors): i, or <0 with d->err. */
static int64_t sym(struct sb_pbdec *d, uint64_t i, size_t off, const char *what)
{
	if (i < d->nsyms)
		return (int64_t)i;
	return fail(d, off, "Sample: %s %llu, past the event's %zu symbols", what,
		    (unsigned long long)i, d->nsyms);
}

/* label_refs: pairs of symbols, name then value, over any number of
 * fields, packed or not. */
struct refs {
	int64_t name; /* the pending name's symbol, or -1 */
};

static int ref_dec(struct dec *x, struct refs *lr, uint64_t v, size_t off)
{
	struct sb_pbdec *d = x->d;
	int64_t i = sym(d, v, off, "label_refs index");
	int e;
	if (i < 0)
		return (int)i;
	if (lr->name < 0) {
		lr->name = i;
		return 0;
	}
	if ((e = item(x, off)))
		return e;
	const struct sb_pbdec_sym *n = &d->syms[lr->name], *val = &d->syms[i];
	sb_evb_labeln(&d->evb, (const char *)n->p, n->n, (const char *)val->p, val->n);
	lr->name = -1;
	return 0;
}

static int refs_dec(struct dec *x, struct refs *lr, const struct sb_pb_field *f)
{
	if (f->wt == SB_PB_VARINT)
		return ref_dec(x, lr, f->u, f->off);
	struct sb_pb_rd r;
	uint64_t v;
	int e;
	sb_pb_rd_init(&r, f->p, f->n, f->body);
	while (r.p < r.end) {
		size_t off = sb_pb_rd_off(&r);
		if (sb_pb_read_varint(&r, &v))
			return fail(x->d, off, "Sample: label_refs: %s", r.why);
		if ((e = ref_dec(x, lr, v, off)))
			return e;
	}
	return 0;
}

static int sample_dec(struct dec *x, const struct sb_pb_field *sf)
{
	struct sb_pbdec *d = x->d;
	struct sb_pb_rd r;
	struct sb_pb_field f;
	const unsigned char *name = NULL;
	size_t namelen = 0, nlabels = 0, nrefs = 0;
	uint64_t type = 0;
	double value = 0, sum = 0, cnt = 0;
	int e;
	/* first the scalars, then what attaches to the sample once begun */
	sb_pb_rd_init(&r, sf->p, sf->n, sf->body);
	while ((e = NEXT(d, &r, &f, "Sample", sample_wt)) > 0) {
		switch (f.num) {
		case S_NAME: /* a oneof with name_ref: the last one wins */
			name = f.p, namelen = f.n;
			break;
		case S_NAME_REF:
			if ((e = sym(d, f.u, f.off, "name_ref")) < 0)
				return e;
			name = d->syms[e].p, namelen = d->syms[e].n;
			break;
		case S_TYPE:
			type = f.u;
			break;
		case S_VALUE: /* a oneof with int_value */
			value = sb_pb_bits_double(f.u);
			break;
		case S_INT_VALUE:
			value = (double)sb_pb_unzigzag(f.u);
			break;
		case S_LABEL_REFS:
			if (f.wt == SB_PB_VARINT) {
				nrefs++;
			} else if (f.wt == SB_PB_LEN) {
				for (size_t i = 0; i < f.n; i++) /* varints end below 0x80 */
					nrefs += f.p[i] < 0x80;
			} else {
				return fail(d, f.off,
					    "Sample field %u: wire type %d, expected 0 or 2", f.num,
					    (int)f.wt);
			}
			if (nlabels + nrefs / 2 > SB_PBDEC_MAX_LABELS) {
				fail(d, f.off, "Sample: more than %u labels", SB_PBDEC_MAX_LABELS);
				return -E2BIG;
			}
			break;
		case S_SUM:
			sum = sb_pb_bits_double(f.u);
			break;
		case S_COUNT:
			cnt = (double)f.u;
			break;
		case S_COUNT_FLOAT:
			cnt = sb_pb_bits_double(f.u);
			break;
		case S_LABELS:
			if (++nlabels + nrefs / 2 > SB_PBDEC_MAX_LABELS) {
				fail(d, f.off, "Sample: more than %u labels", SB_PBDEC_MAX_LABELS);
				return -E2BIG;
			}
			break;
		}
	}
	if (e < 0)
		return e;
	if (type > SB_SUMMARY)
		return fail(d, sf->off, "Sample: type %llu unknown", (unsigned long long)type);
	if (nrefs % 2)
		return fail(d, sf->off, "Sample: %zu label_refs, not name and value pairs", nrefs);
	sb_evb_samplen(&d->evb, name ? (const char *)name : "", namelen, (enum sb_mtype)type,
		       value);
	if (type == SB_HISTOGRAM || type == SB_SUMMARY)
		sb_evb_sumcount(&d->evb, sum, cnt);
	struct refs lr = {.name = -1};
	sb_pb_rd_init(&r, sf->p, sf->n, sf->body);
	while (NEXT(d, &r, &f, "Sample", sample_wt) > 0) {
		bool b = f.num == S_BUCKETS && type == SB_HISTOGRAM;
		bool q = f.num == S_QUANTILES && type == SB_SUMMARY;
		if (f.num == S_LABELS) {
			if ((e = item(x, f.off)) || (e = label_dec(x, &f)))
				return e;
		} else if (f.num == S_LABEL_REFS) {
			if ((e = refs_dec(x, &lr, &f)))
				return e;
		} else if (b || q) {
			if ((e = item(x, f.off)) || (e = bucket_dec(x, &f, q)))
				return e;
		}
	}
	return 0;
}

static int rec_dec(struct dec *x, const struct sb_pb_rec *rc, const struct sb_pb_field *rf)
{
	struct sb_pbdec *d = x->d;
	struct sb_pb_rd r;
	struct sb_pb_field f, v[8] = {0};
	int e;
	sb_pb_rd_init(&r, rf->p, rf->n, rf->body);
	while ((e = sb_pb_read_field(&r, &f)) > 0) {
		if (f.num < 1 || f.num > rc->n)
			continue;
		const struct sb_pb_rec_field *k = &rc->f[f.num - 1];
		if (f.wt != ftype_wt[k->type])
			return fail(d, f.off, "%s field %u (%s): wire type %d, expected %d",
				    rc->kind, f.num, k->key, (int)f.wt, ftype_wt[k->type]);
		v[f.num - 1] = f;
	}
	if (e < 0)
		return fail(d, f.off, "%s: %s", rc->kind, r.why);
	for (unsigned i = 0; i < rc->n; i++) {
		const char *key = rc->f[i].key;
		switch (rc->f[i].type) {
		case SB_F_INT:
			sb_evb_field_int(&d->evb, key, (int64_t)v[i].u);
			break;
		case SB_F_UINT:
			sb_evb_field_uint(&d->evb, key, v[i].u);
			break;
		case SB_F_DOUBLE:
			sb_evb_field_double(&d->evb, key, sb_pb_bits_double(v[i].u));
			break;
		case SB_F_STR:
			sb_evb_field_str(&d->evb, key, v[i].p ? (const char *)v[i].p : "", v[i].n);
			break;
		}
	}
	return 0;
}

static int field_dec(struct dec *x, const struct sb_pb_field *ff)
{
	struct sb_pbdec *d = x->d;
	struct sb_pb_rd r;
	struct sb_pb_field f, val = {0};
	const unsigned char *kp = NULL;
	size_t kn = 0;
	int e;
	sb_pb_rd_init(&r, ff->p, ff->n, ff->body);
	while ((e = NEXT(d, &r, &f, "Field", field_wt)) > 0) {
		if (f.num == F_KEY)
			kp = f.p, kn = f.n;
		else if (f.num >= F_INT && f.num <= F_STR)
			val = f; /* a oneof: the last one wins */
	}
	if (e < 0)
		return e;
	const char *key = scratch(d, cstr(d, kp, kn));
	switch (val.num) {
	case F_INT:
		sb_evb_field_int(&d->evb, key, sb_pb_unzigzag(val.u));
		break;
	case F_UINT:
		sb_evb_field_uint(&d->evb, key, val.u);
		break;
	case F_DOUBLE:
		sb_evb_field_double(&d->evb, key, sb_pb_bits_double(val.u));
		break;
	case F_STR:
		sb_evb_field_str(&d->evb, key, (const char *)val.p, val.n);
		break;
	default:
		return fail(d, ff->off, "Field \"%.40s\": no value", key);
	}
	return 0;
}

static int add_sym(struct sb_pbdec *d, const struct sb_pb_field *f)
{
	if (d->nsyms == d->capsyms &&
	    sb_grow((void **)&d->syms, &d->capsyms, d->nsyms + 1, sizeof(*d->syms))) {
		snprintf(d->err, sizeof(d->err), "byte %zu: out of memory", f->off);
		return -ENOMEM;
	}
	d->syms[d->nsyms++] = (struct sb_pbdec_sym){f->p, f->n};
	return 0;
}

int sb_pbdec_event(struct sb_pbdec *d, const void *p, size_t n, size_t base, struct sb_event **out)
{
	struct dec x = {.d = d};
	struct sb_pb_rd r;
	struct sb_pb_field f, target = {0}, recf = {0};
	const struct sb_pb_rec *rc = NULL;
	const unsigned char *src = NULL, *kind = NULL;
	size_t srcn = 0, kindn = 0;
	uint64_t seq = 0;
	int64_t time_ns = 0;
	int e;
	*out = NULL;
	d->err[0] = 0;
	sb_buf_reset(&d->run);
	sb_buf_reset(&d->host);
	sb_buf_reset(&d->scratch);
	d->nsyms = 0;
	if (n > SB_PBDEC_MAX_MESSAGE) {
		snprintf(d->err, sizeof(d->err), "byte %zu: message of %zu bytes, more than %u",
			 base, n, SB_PBDEC_MAX_MESSAGE);
		return -E2BIG;
	}
	/* pass 1: the scalars, which the builder needs before anything else */
	sb_pb_rd_init(&r, p, n, base);
	while ((e = NEXT(d, &r, &f, "Event", event_wt)) > 0) {
		switch (f.num) {
		case EV_SEQ:
			seq = f.u;
			break;
		case EV_RUN:
			sb_buf_reset(&d->run);
			if (f.n)
				sb_buf_add(&d->run, f.p, f.n);
			break;
		case EV_TIME:
			time_ns = (int64_t)f.u;
			break;
		case EV_HOST:
			sb_buf_reset(&d->host);
			if (f.n)
				sb_buf_add(&d->host, f.p, f.n);
			break;
		case EV_SOURCE:
			src = f.p, srcn = f.n;
			break;
		case EV_KIND:
			kind = f.p, kindn = f.n;
			break;
		case EV_TARGET:
			target = f;
			break;
		case EV_SYMBOLS:
			if ((e = item(&x, f.off)) || (e = add_sym(d, &f)))
				return e;
			break;
		case EV_EXEC:
		case EV_EXIT:
		case EV_FORK:
			if (rc)
				return fail(d, f.off, "Event: more than one process record");
			for (size_t i = 0; i < SB_PB_NRECS; i++)
				if (sb_pb_recs[i].num == f.num)
					rc = &sb_pb_recs[i];
			recf = f;
			break;
		}
	}
	if (e < 0)
		return e;
	sb_buf_cstr(&d->run);
	sb_buf_cstr(&d->host);
	/* the JSON writer puts the run in as it is (the agent's own hex id) */
	for (size_t i = 0; i < d->run.len; i++) {
		unsigned char c = (unsigned char)d->run.data[i];
		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			return fail(d, base,
				    "Event: run holds byte 0x%02x (printable ASCII only, "
				    "no quote or backslash)",
				    c);
	}
	size_t srcs = cstr(d, src, srcn), kinds = cstr(d, kind, kindn);
	sb_evb_begin(&d->evb, scratch(d, srcs), scratch(d, kinds));
	sb_evb_time(&d->evb, time_ns);
	if (target.n)
		sb_evb_field_str(&d->evb, "target", (const char *)target.p, target.n);
	if (rc && (e = rec_dec(&x, rc, &recf)))
		return e;
	/* pass 2: the other fields, in their order, then the samples (the
	 * builder keeps the two apart) */
	sb_pb_rd_init(&r, p, n, base);
	while (NEXT(d, &r, &f, "Event", event_wt) > 0)
		if (f.num == EV_FIELDS && ((e = item(&x, f.off)) || (e = field_dec(&x, &f))))
			return e;
	sb_pb_rd_init(&r, p, n, base);
	while (NEXT(d, &r, &f, "Event", event_wt) > 0)
		if (f.num == EV_SAMPLES && ((e = item(&x, f.off)) || (e = sample_dec(&x, &f))))
			return e;
	if (d->scratch.err || d->run.err || d->host.err) {
		snprintf(d->err, sizeof(d->err), "byte %zu: out of memory", base);
		return -ENOMEM;
	}
	/* the event stays the sending agent's: re-encoded, it is the same */
	sb_evb_origin(&d->evb, sb_buf_cstr(&d->host), sb_buf_cstr(&d->run), seq);
	struct sb_event *ev = sb_evb_finish(&d->evb);
	if (!ev) {
		snprintf(d->err, sizeof(d->err), "byte %zu: cannot build the event: %s", base,
			 strerror(-d->evb.err));
		return d->evb.err;
	}
	ev->seq = seq;
	*out = ev;
	return 0;
}

int sb_pbdec_next(struct sb_pbdec *d, const void *buf, size_t len, size_t base, size_t *pos,
		  const unsigned char **msg, size_t *mlen)
{
	struct sb_pb_rd r;
	uint64_t n;
	if (*pos == len)
		return 0;
	sb_pb_rd_init(&r, (const unsigned char *)buf + *pos, len - *pos, base + *pos);
	if (sb_pb_read_varint(&r, &n)) {
		if (len - *pos < SB_PB_VARINT_MAX && r.why && !strcmp(r.why, "truncated varint"))
			return -EAGAIN;
		snprintf(d->err, sizeof(d->err), "byte %zu: message length: %s", base + *pos,
			 r.why);
		return -EBADMSG;
	}
	if (n > SB_PBDEC_MAX_MESSAGE) {
		snprintf(d->err, sizeof(d->err), "byte %zu: message of %llu bytes, more than %u",
			 base + *pos, (unsigned long long)n, SB_PBDEC_MAX_MESSAGE);
		return -E2BIG;
	}
	size_t h = (size_t)(r.p - r.start);
	if (n > len - *pos - h)
		return -EAGAIN;
	*msg = r.p;
	*mlen = (size_t)n;
	*pos += h + (size_t)n;
	return 1;
}

void sb_pbdec_init(struct sb_pbdec *d)
{
	memset(d, 0, sizeof(*d));
	sb_evb_init(&d->evb);
	sb_buf_init(&d->run);
	sb_buf_init(&d->host);
	sb_buf_init(&d->scratch);
}

void sb_pbdec_free(struct sb_pbdec *d)
{
	if (!d)
		return;
	sb_evb_free(&d->evb);
	sb_buf_free(&d->run);
	sb_buf_free(&d->host);
	sb_buf_free(&d->scratch);
	free(d->syms);
}
