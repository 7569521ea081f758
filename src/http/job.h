/* One Prometheus endpoint scraped into an event builder, and what every
 * scraping sensor reports the Prometheus way (up, scrape_duration_seconds,
 * scrape_samples_scraped) and logs about its targets. Shared by the algod
 * and scrape sensors. */
#ifndef SB_SCRAPE_JOB_H
#define SB_SCRAPE_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "http.h"
#include "../expfmt/promtext.h"
#include "sb_config.h"
#include "sb_log.h"

struct sb_scrape_job {
	/* set by the owner: req.url, req.*timeout_ns, lim, done, arg */
	struct sb_http_req req;
	struct sb_prom_limits lim;
	void (*done)(void *arg, struct sb_scrape_job *j);
	void *arg;

	/* the last run's outcome, valid in done */
	bool ok;
	char why[256];	  /* !ok: why, for a log line */
	char note[256];	  /* ok but bad lines were skipped: which */
	uint64_t samples; /* sample lines taken */
	int64_t duration_ns;
	struct sb_http_result res; /* body and reason pointers not kept */

	/* private */
	struct sb_prom_parser parser;
	struct curl_slist *headers;
};

void sb_scrape_job_init(struct sb_scrape_job *j);
void sb_scrape_job_free(struct sb_scrape_job *j);
/* Sends Accept for the text format plus extra (may be NULL). Values are
 * never logged. */
int sb_scrape_job_headers(struct sb_scrape_job *j, const struct sb_strmap *extra);
/* Starts the scrape; samples are appended to b as the body arrives. On
 * failure b holds part of them: the owner begins b anew. */
int sb_scrape_job_start(struct sb_http *h, struct sb_scrape_job *j, struct sb_evb *b);

/* up, scrape_duration_seconds and scrape_samples_scraped for target. */
void sb_scrape_emit_meta(struct sb_evb *b, const char *target, bool up, int64_t duration_ns,
			 uint64_t samples);

/* Logging a target's state without flooding: the first failure and every
 * change of reason at once, the same reason again at most once a minute,
 * and one line when it recovers. */
struct sb_scrape_health {
	bool failing;
	uint64_t fails; /* failed rounds in a row */
	char last[320];
	struct sb_ratelimit rl;
};
/* reason NULL: the round succeeded. what names the target and its URL. */
void sb_scrape_health_report(struct sb_scrape_health *hl, const char *comp, const char *what,
			     const char *reason);

/* Frees a header list after wiping it: it may hold a token. */
void sb_slist_free_wiped(struct curl_slist *l);

#endif
