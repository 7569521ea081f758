/* JSON events back into events: what the amqp sensor does with a message
 * another agent's json codec wrote. Parsed with cJSON; the event is built
 * so that the JSON writer makes the very same line again (same key order,
 * the origin's seq, run and host), whatever the consumer's own run.
 *
 * Numbers: the writer prints an integral double below 2^53 as an integer,
 * so a field holding one is read back as an integer and printed alike;
 * integer fields above 2^53 lose precision in cJSON's double (the
 * protobuf codec carries them exactly). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb_json.h"

#define EXACT 9007199254740992.0 /* 2^53 */

static int fail(char *err, size_t errlen, const char *fmt, const char *what)
{
	snprintf(err, errlen, fmt, what);
	return -EBADMSG;
}

/* "2026-11-27T20:00:01.000123456Z" (any number of fraction digits up to 9) */
static int parse_time(const char *s, int64_t *ns)
{
	struct tm tm = {0};
	int used = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6 ||
	    used != 19)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	int64_t frac = 0;
	const char *p = s + used;
	if (*p == '.') {
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 9)
				frac = frac * 10 + (*p - '0');
		if (!digits || digits > 9)
			return -1;
		for (; digits < 9; digits++)
			frac *= 10;
	}
	if (strcmp(p, "Z"))
		return -1;
	/* int64 nanoseconds end in 2262: a later time is refused, not
	 * wrapped (found by fuzz_amqpmsg). */
	int64_t sec = (int64_t)timegm(&tm);
	if (__builtin_mul_overflow(sec, (int64_t)1000000000, ns) ||
	    __builtin_add_overflow(*ns, frac, ns))
		return -1;
	return 0;
}

/* A number, or one of the strings the writer puts for NaN and +-Inf. */
static int num(const cJSON *j, double *v)
{
	if (cJSON_IsNumber(j)) {
		*v = j->valuedouble;
		return 0;
	}
	if (cJSON_IsString(j)) {
		const char *s = j->valuestring;
		if (!strcmp(s, "NaN") || !strcmp(s, "+Inf") || !strcmp(s, "-Inf")) {
			*v = strtod(s, NULL);
			return 0;
		}
	}
	return -1;
}

static enum sb_mtype mtype(const char *s)
{
	static const enum sb_mtype all[] = {SB_GAUGE, SB_COUNTER, SB_HISTOGRAM, SB_SUMMARY};
	for (size_t i = 0; i < SB_ARRAY_SIZE(all); i++)
		if (!strcmp(s, sb_mtype_name(all[i])))
			return all[i];
	return SB_UNTYPED;
}

static int sample(struct sb_evb *b, const cJSON *s, char *err, size_t errlen)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "name");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(s, "type");
	if (!cJSON_IsString(name))
		return fail(err, errlen, "%s: a sample has no name", "samples");
	enum sb_mtype t = cJSON_IsString(type) ? mtype(type->valuestring) : SB_UNTYPED;
	double v = 0;
	if (t != SB_HISTOGRAM && t != SB_SUMMARY &&
	    num(cJSON_GetObjectItemCaseSensitive(s, "value"), &v))
		return fail(err, errlen, "sample %s: value is not a number", name->valuestring);
	sb_evb_sample(b, name->valuestring, t, v);
	const cJSON *l;
	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(s, "labels"))
	{
		if (!cJSON_IsString(l))
			return fail(err, errlen, "sample %s: a label value is not a string",
				    name->valuestring);
		sb_evb_label(b, l->string, l->valuestring);
	}
	if (t != SB_HISTOGRAM && t != SB_SUMMARY)
		return 0;
	bool summary = t == SB_SUMMARY;
	const cJSON *bk;
	cJSON_ArrayForEach(bk,
			   cJSON_GetObjectItemCaseSensitive(s, summary ? "quantiles" : "buckets"))
	{
		const cJSON *le = cJSON_GetObjectItemCaseSensitive(bk, summary ? "quantile" : "le");
		double c;
		if (!cJSON_IsString(le) ||
		    num(cJSON_GetObjectItemCaseSensitive(bk, summary ? "value" : "count"), &c))
			return fail(err, errlen, "sample %s: a bucket is not {le, count}",
				    name->valuestring);
		sb_evb_bucket(b, strtod(le->valuestring, NULL), c);
	}
	double sum, count;
	if (num(cJSON_GetObjectItemCaseSensitive(s, "sum"), &sum) ||
	    num(cJSON_GetObjectItemCaseSensitive(s, "count"), &count))
		return fail(err, errlen, "sample %s: no sum or count", name->valuestring);
	sb_evb_sumcount(b, sum, count);
	return 0;
}

static void field(struct sb_evb *b, const cJSON *f)
{
	if (cJSON_IsString(f)) {
		sb_evb_field_str(b, f->string, f->valuestring, strlen(f->valuestring));
		return;
	}
	double v = f->valuedouble;
	/* what the writer printed as an integer reads back as one */
	if (fabs(v) < EXACT && sb_whole(v) && !(v == 0 && signbit(v))) {
		if (v < 0)
			sb_evb_field_int(b, f->string, (int64_t)v);
		else
			sb_evb_field_uint(b, f->string, (uint64_t)v);
		return;
	}
	sb_evb_field_double(b, f->string, v);
}

static const char *const head[] = {"seq", "run", "time", "host", "source", "kind"};

int sb_json_decode_event(struct sb_evb *b, const char *p, size_t n, struct sb_event **out,
			 char *err, size_t errlen)
{
	*out = NULL;
	cJSON *root = cJSON_ParseWithLength(p, n);
	int r = -EBADMSG;
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "not a JSON object");
		goto out;
	}
	const cJSON *h[6];
	for (size_t i = 0; i < 6; i++) {
		h[i] = cJSON_GetObjectItemCaseSensitive(root, head[i]);
		if (i ? !cJSON_IsString(h[i]) : !cJSON_IsNumber(h[i])) {
			r = fail(err, errlen, "%s: missing or of the wrong type", head[i]);
			goto out;
		}
	}
	double seq = h[0]->valuedouble;
	int64_t t;
	if (seq < 1 || seq >= EXACT || !sb_whole(seq)) {
		r = fail(err, errlen, "%s: not a whole number from 1 to 2^53", "seq");
		goto out;
	}
	if (parse_time(h[2]->valuestring, &t)) {
		r = fail(err, errlen, "time: \"%s\" is not RFC 3339 UTC", h[2]->valuestring);
		goto out;
	}
	sb_evb_begin(b, h[4]->valuestring, h[5]->valuestring);
	sb_evb_time(b, t);
	sb_evb_origin(b, h[3]->valuestring, h[1]->valuestring, (uint64_t)seq);
	const cJSON *f;
	cJSON_ArrayForEach(f, root)
	{
		bool known = false;
		for (size_t i = 0; i < 6 && !known; i++)
			known = !strcmp(f->string, head[i]);
		if (known)
			continue;
		if (!strcmp(f->string, "samples")) {
			const cJSON *s;
			cJSON_ArrayForEach(s, f) if ((r = sample(b, s, err, errlen))) goto out;
			continue;
		}
		if (!cJSON_IsString(f) && !cJSON_IsNumber(f)) {
			r = fail(err, errlen, "%s: a field must be a string or a number",
				 f->string);
			goto out;
		}
		field(b, f);
	}
	*out = sb_evb_finish(b);
	if (!*out) {
		r = b->err;
		snprintf(err, errlen, "cannot build the event: %s", strerror(-r));
		goto out;
	}
	r = 0;
out:
	cJSON_Delete(root);
	return r;
}
