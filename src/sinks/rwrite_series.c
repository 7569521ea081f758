/* Events as Prometheus remote-write 1.0 series, written straight into the
 * WriteRequest's bytes (include/sb_pbwire.h): no message tree, and no
 * allocation per sample once the scratch arrays have grown.
 *
 *   WriteRequest { repeated TimeSeries timeseries = 1; }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   Label        { string name = 1; string value = 2; }
 *   Sample       { double value = 1; int64 timestamp = 2; }
 *
 * A WriteRequest is only its repeated field 1, so the series of several
 * events appended one after another are one valid request. */
#include "rwrite.h"

#include <dlfcn.h>
#include <errno.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

#include "prom_store.h"
#include "sb_dl.h"
#include "sb_json.h"
#include "sb_pbwire.h"

/* Priorities among labels of one name: the name and the bucket bound are
 * the series' own; a sample's label overrides job, instance and target (as
 * `honor_labels` does in a scrape); external labels only fill gaps, as in
 * Prometheus. */
enum { P_OWN, P_SAMPLE, P_TARGET, P_EXTERNAL };

void sb_rw_conv_free(struct sb_rw_conv *c)
{
	free(c->lab);
	sb_buf_free(&c->val);
	c->lab = NULL;
	c->cap = 0;
}

static int push(struct sb_rw_conv *c, size_t *n, const char *name, size_t nlen, const char *value,
		size_t vlen, int prio)
{
	if (*n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		struct sb_rw_label *l = realloc(c->lab, cap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		c->lab = l;
		c->cap = cap;
	}
	c->lab[(*n)++] = (struct sb_rw_label){name, value, nlen, vlen, prio};
	return 0;
}

static int lab_cmp(const struct sb_rw_label *a, const struct sb_rw_label *b)
{
	size_t n = a->nlen < b->nlen ? a->nlen : b->nlen;
	int r = memcmp(a->name, b->name, n);
	if (r)
		return r;
	if (a->nlen != b->nlen)
		return a->nlen < b->nlen ? -1 : 1;
	return a->prio - b->prio;
}

/* Insertion sort: a sample's labels come sorted already, so the few
 * added ones are the only moves. */
static void sort_labels(struct sb_rw_label *l, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct sb_rw_label x = l[i];
		size_t j = i;
		while (j && lab_cmp(&l[j - 1], &x) > 0) {
			l[j] = l[j - 1];
			j--;
		}
		l[j] = x;
	}
}

static bool ascii(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return false;
	return true;
}

/* Prometheus refuses label values that are not UTF-8: bad bytes become
 * U+FFFD, as in the JSON and text encoders, so the values match theirs. */
static void put_value(struct sb_rw_conv *c, struct sb_buf *req, const char *v, size_t n)
{
	if (ascii(v, n)) {
		sb_pb_bytes(req, 2, v, n);
		return;
	}
	sb_buf_reset(&c->val);
	const unsigned char *p = (const unsigned char *)v;
	for (size_t i = 0; i < n;) {
		size_t l = p[i] < 0x80 ? 1 : sb_utf8_len(p + i, n - i);
		if (l) {
			sb_buf_add(&c->val, v + i, l);
			i += l;
		} else {
			sb_buf_add(&c->val, "\xef\xbf\xbd", 3);
			i++;
		}
	}
	sb_pb_bytes(req, 2, c->val.data, c->val.len);
}

/* One TimeSeries: the labels in c->lab[0, n), sorted, then one sample. */
static void series(struct sb_rw_conv *c, struct sb_buf *req, size_t n, double v, int64_t ms)
{
	sort_labels(c->lab, n);
	size_t ts = sb_pb_open(req, 1);
	for (size_t i = 0; i < n; i++) {
		const struct sb_rw_label *l = &c->lab[i];
		/* a duplicate name: the first (lowest prio) won; an empty value
		 * is no label at all to Prometheus */
		if ((i && l->nlen == l[-1].nlen && !memcmp(l->name, l[-1].name, l->nlen)) ||
		    !l->vlen)
			continue;
		size_t lb = sb_pb_open(req, 1);
		sb_pb_bytes(req, 1, l->name, l->nlen);
		put_value(c, req, l->value, l->vlen);
		sb_pb_close(req, lb);
	}
	size_t sb = sb_pb_open(req, 2);
	sb_pb_double(req, 1, v);
	sb_pb_uint64(req, 2, (uint64_t)ms);
	sb_pb_close(req, sb);
	sb_pb_close(req, ts);
}

/* The labels every series of sample s has (all but __name__), from 1 on;
 * slot 0 is left for __name__. Returns how many, or -ENOMEM. */
static int base_labels(struct sb_rw_conv *c, const struct sb_sample *s, const char *host)
{
	size_t n = 0;
	int r = push(c, &n, "__name__", 8, "", 0, P_OWN); /* filled in by the caller */
	for (uint16_t i = 0; i < s->nlabels && !r; i++)
		r = push(c, &n, s->labels[i].name, strlen(s->labels[i].name), s->labels[i].value,
			 strlen(s->labels[i].value), P_SAMPLE);
	const char *inst = c->instance ? c->instance : host;
	if (!r && c->target)
		r = push(c, &n, "target", 6, c->target, strlen(c->target), P_TARGET);
	if (!r)
		r = push(c, &n, "job", 3, c->job, strlen(c->job), P_TARGET);
	if (!r)
		r = push(c, &n, "instance", 8, inst, strlen(inst), P_TARGET);
	for (size_t i = 0; i < c->next && !r; i++)
		r = push(c, &n, c->ext[i].name, c->ext[i].nlen, c->ext[i].value, c->ext[i].vlen,
			 P_EXTERNAL);
	return r ? r : (int)n;
}

/* The series of one histogram or summary: name_bucket{le} (a summary:
 * name{quantile}), name_sum, name_count. */
static int explode(struct sb_rw_conv *c, struct sb_buf *req, const struct sb_sample *s,
		   const char *host, int64_t ms, size_t *written)
{
	bool hist = s->type == SB_HISTOGRAM;
	size_t nl = strlen(s->name);
	char name[512];
	if (nl + sizeof("_bucket") > sizeof(name))
		return -ENAMETOOLONG;
	memcpy(name, s->name, nl);
	for (uint32_t b = 0; b < s->nbuckets; b++) {
		int n = base_labels(c, s, host);
		if (n < 0)
			return n;
		char le[32];
		size_t lel = sb_fmt_go_float(le, s->buckets[b].le, false);
		size_t at = (size_t)n;
		if (push(c, &at, hist ? "le" : "quantile", hist ? 2 : 8, le, lel, P_OWN))
			return -ENOMEM;
		memcpy(name + nl, "_bucket", 7);
		c->lab[0] = (struct sb_rw_label){"__name__", name, 8, hist ? nl + 7 : nl, P_OWN};
		series(c, req, at, s->buckets[b].count, ms);
	}
	static const char *const suffix[] = {"_sum", "_count"};
	for (int i = 0; i < 2; i++) {
		int n = base_labels(c, s, host);
		if (n < 0)
			return n;
		size_t sl = strlen(suffix[i]);
		memcpy(name + nl, suffix[i], sl);
		c->lab[0] = (struct sb_rw_label){"__name__", name, 8, nl + sl, P_OWN};
		series(c, req, (size_t)n, i ? s->count : s->sum, ms);
	}
	*written += s->nbuckets + 2;
	return 0;
}

int sb_rw_encode(struct sb_rw_conv *c, struct sb_buf *req, const struct sb_event *ev,
		 const char *host, uint32_t *at, size_t *nreq, size_t max)
{
	/* milliseconds, rounded down like Prometheus' timestamp.FromTime */
	int64_t ms =
	    ev->time_ns >= 0 ? ev->time_ns / 1000000 : -((-ev->time_ns + 999999) / 1000000);
	const struct sb_field *tf = sb_event_field(ev, "target");
	c->target = tf && tf->type == SB_F_STR ? tf->v.s : NULL;
	uint32_t i = *at;
	for (; i < ev->nsamples && *nreq < max; i++) {
		const struct sb_sample *s = &ev->samples[i];
		if (s->type == SB_HISTOGRAM || s->type == SB_SUMMARY) {
			int r = explode(c, req, s, host, ms, nreq);
			if (r == -ENAMETOOLONG)
				continue; /* no such metric name is valid */
			if (r)
				return r;
			continue;
		}
		if (sb_pb_double_bits(s->value) == SB_RW_STALE_NAN) {
			c->stale++;
			continue;
		}
		int n = base_labels(c, s, host);
		if (n < 0)
			return n;
		c->lab[0] = (struct sb_rw_label){"__name__", s->name, 8, strlen(s->name), P_OWN};
		series(c, req, (size_t)n, s->value, ms);
		(*nreq)++;
	}
	*at = i;
	return req->err ? req->err : 0;
}

/* ---- the body: snappy's block format ---- */

#define SNAPPY_FNS(X) X(snappy_compress) X(snappy_max_compressed_length)
SNAPPY_FNS(SB_DL_DECLARE)
static const struct sb_dl_sym snappy_syms[] = {SNAPPY_FNS(SB_DL_ENTRY){0}};
static struct sb_dl_lib libsnappy = {.soname = "libsnappy.so.1", .syms = snappy_syms};

int sb_rw_snappy(struct sb_buf *out, const void *in, size_t n, const char **why)
{
	if (sb_dl_open(&libsnappy)) {
		*why = libsnappy.why;
		return libsnappy.err;
	}
	sb_buf_reset(out);
	size_t cap = sym_snappy_max_compressed_length(n);
	if (sb_buf_reserve(out, cap)) {
		*why = "out of memory";
		return -ENOMEM;
	}
	size_t len = cap;
	if (sym_snappy_compress(in, n, out->data, &len) != SNAPPY_OK) {
		*why = "snappy_compress failed";
		return -EIO;
	}
	out->len = len;
	return 0;
}
