#include "job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_event.h"

/* The text format first: we never need protobuf or OpenMetrics. */
#define ACCEPT_PROM "Accept: text/plain;version=0.0.4;q=1,text/plain;q=0.5,*/*;q=0.1"

void sb_slist_free_wiped(struct curl_slist *l)
{
	if (!l)
		return; /* and libcurl may not be loaded */
	for (struct curl_slist *p = l; p; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	sym_curl_slist_free_all(l);
}

static int on_body(void *arg, const char *p, size_t n, const char **why)
{
	struct sb_scrape_job *j = arg;
	int r = sb_prom_feed(&j->parser, p, n);
	if (r)
		*why = j->parser.fatal_reason;
	return r;
}

static void on_done(void *arg, struct sb_http_req *r, const struct sb_http_result *res)
{
	(void)r;
	struct sb_scrape_job *j = arg;
	struct sb_prom_parser *p = &j->parser;
	j->res = *res;
	j->res.body = NULL;
	j->res.reason = NULL;
	j->duration_ns = res->duration_ns;
	j->ok = false;
	j->note[0] = 0;
	j->samples = 0;
	char what[sizeof(j->why)];
	sb_http_describe(res, what, sizeof(what));
	if (p->fatal) { /* a limit hit while the body streamed in */
		snprintf(j->why, sizeof(j->why), "%s", p->fatal_reason);
	} else if (res->err || res->status < 200 || res->status >= 300) {
		memcpy(j->why, what, sizeof(what));
	} else if (sb_prom_finish(p)) {
		snprintf(j->why, sizeof(j->why), "%s", p->fatal_reason);
	} else if (!p->samples && p->bad_lines) {
		/* an HTML page, a JSON error, noise: not an exposition at all */
		snprintf(j->why, sizeof(j->why),
			 "not Prometheus text: no valid sample, %llu bad lines, line %llu: %s",
			 (unsigned long long)p->bad_lines, (unsigned long long)p->first_bad,
			 p->first_bad_reason);
	} else {
		j->ok = true;
		j->why[0] = 0;
		j->samples = p->samples;
		if (p->bad_lines)
			snprintf(j->note, sizeof(j->note),
				 "%llu bad lines skipped, the first at line %llu: %s",
				 (unsigned long long)p->bad_lines, (unsigned long long)p->first_bad,
				 p->first_bad_reason);
	}
	j->done(j->arg, j);
}

void sb_scrape_job_init(struct sb_scrape_job *j)
{
	memset(j, 0, sizeof(*j));
	sb_http_req_init(&j->req);
	sb_prom_init(&j->parser);
	j->req.on_body = on_body;
	j->req.on_done = on_done;
	j->req.arg = j;
}

void sb_scrape_job_free(struct sb_scrape_job *j)
{
	if (!j)
		return;
	sb_http_req_free(&j->req);
	sb_prom_free(&j->parser);
	sb_slist_free_wiped(j->headers);
	j->headers = NULL;
}

int sb_scrape_job_headers(struct sb_scrape_job *j, const struct sb_strmap *extra)
{
	struct curl_slist *l = sym_curl_slist_append(NULL, ACCEPT_PROM);
	for (size_t i = 0; l && extra && i < extra->n; i++) {
		size_t n = strlen(extra->k[i]) + strlen(extra->v[i]) + 3;
		char *h = malloc(n);
		if (!h) {
			sb_slist_free_wiped(l);
			return -ENOMEM;
		}
		snprintf(h, n, "%s: %s", extra->k[i], extra->v[i]);
		struct curl_slist *nl = sym_curl_slist_append(l, h);
		explicit_bzero(h, n);
		free(h);
		if (!nl) {
			sb_slist_free_wiped(l);
			return -ENOMEM;
		}
		l = nl;
	}
	if (!l)
		return -ENOMEM;
	sb_slist_free_wiped(j->headers);
	j->headers = l;
	j->req.headers = l;
	return 0;
}

int sb_scrape_job_start(struct sb_http *h, struct sb_scrape_job *j, struct sb_evb *b)
{
	if (!j->headers) {
		int r = sb_scrape_job_headers(j, NULL);
		if (r)
			return r;
	}
	j->req.max_body = j->lim.body_size;
	sb_prom_begin(&j->parser, b, &j->lim);
	return sb_http_start(h, &j->req);
}

void sb_scrape_emit_meta(struct sb_evb *b, const char *target, bool up, int64_t duration_ns,
			 uint64_t samples)
{
	sb_evb_sample(b, "up", SB_GAUGE, up ? 1 : 0);
	sb_evb_label(b, "target", target);
	sb_evb_sample(b, "scrape_duration_seconds", SB_GAUGE, (double)duration_ns / 1e9);
	sb_evb_label(b, "target", target);
	sb_evb_sample(b, "scrape_samples_scraped", SB_GAUGE, (double)samples);
	sb_evb_label(b, "target", target);
}

/* Equal but for numbers: "timed out after 403 ms" is the same news as
 * "after 415 ms". */
static bool same_reason(const char *a, const char *b)
{
	for (;;) {
		while (*a >= '0' && *a <= '9')
			a++;
		while (*b >= '0' && *b <= '9')
			b++;
		if (*a != *b)
			return false;
		if (!*a)
			return true;
		a++;
		b++;
	}
}

void sb_scrape_health_report(struct sb_scrape_health *hl, const char *comp, const char *what,
			     const char *reason)
{
	if (!reason) {
		if (hl->failing)
			sb_info(comp, "%s: up again after %llu failed round(s)", what,
				(unsigned long long)hl->fails);
		hl->failing = false;
		hl->fails = 0;
		hl->last[0] = 0;
		return;
	}
	hl->fails++;
	if (!hl->failing || !same_reason(hl->last, reason)) {
		hl->failing = true;
		snprintf(hl->last, sizeof(hl->last), "%s", reason);
		hl->rl.last_ns = sb_now_mono_ns();
		hl->rl.suppressed = 0;
		sb_warn(comp, "%s: %s", what, reason);
		return;
	}
	sb_log_rl(&hl->rl, SB_LOG_WARN, comp, "%s: still failing (%llu rounds): %s", what,
		  (unsigned long long)hl->fails, reason);
}
