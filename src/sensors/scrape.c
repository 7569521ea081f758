/* The scrape sensor: any Prometheus endpoint (node_exporter, other
 * exporters), each target on its own interval and timer, through the same
 * parser and HTTP client as the algod sensor. One event per target per
 * round (source "scrape", field "target"), with its samples as exposed plus
 * up, scrape_duration_seconds and scrape_samples_scraped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../http/job.h"
#include "sb_log.h"
#include "sb_loop.h"
#include "sb_sensor.h"

#define COMP "sensor:scrape"

struct target_cfg {
	char *name;
	char *url;
	int64_t interval;
	int64_t timeout;
	struct sb_strmap headers;
};

struct scrape_cfg {
	struct sb_objlist targets;
	int64_t timeout;
	int64_t connect_timeout;
	struct sb_prom_limits limits;
};

static const struct sb_cfg_key target_keys[] = {
    {"name", SB_CT_STR, offsetof(struct target_cfg, name), NULL,
     "the target's name: its `target` label and event field"},
    {"url", SB_CT_STR, offsetof(struct target_cfg, url), NULL,
     "what to GET, e.g. http://127.0.0.1:9100/metrics"},
    {"interval", SB_CT_DURATION, offsetof(struct target_cfg, interval), "0",
     "how often (0: the sensor's interval)", .min = 0, .max = 86400},
    {"timeout", SB_CT_DURATION, offsetof(struct target_cfg, timeout), "0",
     "longest a scrape may take (0: the sensor's timeout; at most 90% of the interval)", .min = 0,
     .max = 3600},
    {"headers", SB_CT_STRMAP, offsetof(struct target_cfg, headers), NULL,
     "extra request headers, e.g. Authorization [secret]"},
    {0},
};

static const struct sb_cfg_key scrape_keys[] = {
    {"targets", SB_CT_OBJLIST, offsetof(struct scrape_cfg, targets), NULL,
     "the endpoints to scrape", .sub = target_keys, .elem_size = sizeof(struct target_cfg)},
    {"timeout", SB_CT_DURATION, offsetof(struct scrape_cfg, timeout), "10s",
     "longest a scrape may take (at most 90% of the target's interval)", .min = 0.001, .max = 3600},
    {"connect_timeout", SB_CT_DURATION, offsetof(struct scrape_cfg, connect_timeout), "2s",
     "longest a connection may take to open (at most the timeout)", .min = 0.001, .max = 3600},
    {"limits", SB_CT_OBJ, offsetof(struct scrape_cfg, limits), NULL,
     "bounds on every target's body", .sub = sb_prom_limit_keys},
    {0},
};

struct scrape;

struct target {
	struct scrape *sc;
	const struct target_cfg *c;
	struct sb_scrape_job job;
	struct sb_evb evb;
	struct sb_timer *timer;
	int64_t interval;
	bool running, scraped;
	int64_t start_mono;
	char desc[320];
	struct sb_scrape_health health;
	struct sb_backoff backoff;
	struct sb_ratelimit rl_busy, rl_note;
};

struct scrape {
	struct sb_sensor *s;
	struct sb_http *http;
	struct target *t;
	size_t n;
	size_t scraped; /* targets done at least once */
	bool armed;
};

static void on_done(void *arg, struct sb_scrape_job *j)
{
	struct target *t = arg;
	struct scrape *sc = t->sc;
	struct sb_sensor *s = sc->s;
	struct sb_evb *b = &t->evb;
	t->running = false;
	if (!j->ok) {
		/* what streamed in before the failure is not a scrape */
		int64_t when = b->time_ns;
		sb_evb_begin(b, "scrape", "metrics");
		sb_evb_time(b, when);
		sb_evb_field_str(b, "target", t->c->name, strlen(t->c->name));
		s->errors++;
	} else if (j->note[0]) {
		sb_log_rl(&t->rl_note, SB_LOG_WARN, COMP, "%s: %s", t->desc, j->note);
	}
	sb_http_backoff(&t->backoff, &j->res, t->interval);
	sb_scrape_emit_meta(b, t->c->name, j->ok, sb_now_mono_ns() - t->start_mono, j->samples);
	sb_scrape_health_report(&t->health, COMP, t->desc, j->ok ? NULL : j->why);
	struct sb_event *ev = sb_evb_finish(b);
	if (ev) {
		sb_sensor_publish(s, ev);
	} else {
		s->errors++;
		sb_err(COMP, "%s: cannot build the event: %s", t->desc, strerror(-b->err));
	}
	if (!t->scraped) {
		t->scraped = true;
		sc->scraped++;
	}
	if (sc->scraped == sc->n)
		sb_sensor_round_done(s);
}

static void scrape_target(struct target *t)
{
	if (t->running) {
		sb_log_rl(&t->rl_busy, SB_LOG_WARN, COMP,
			  "%s: the previous scrape is still running; skipping this one", t->desc);
		return;
	}
	if (sb_backoff_skip(&t->backoff)) {
		sb_dbg(COMP, "%s: backing off after HTTP 429/5xx", t->desc);
		return;
	}
	struct sb_evb *b = &t->evb;
	sb_evb_begin(b, "scrape", "metrics");
	sb_evb_field_str(b, "target", t->c->name, strlen(t->c->name));
	t->start_mono = sb_now_mono_ns();
	int e = sb_scrape_job_start(t->sc->http, &t->job, b);
	if (e) {
		t->job.ok = false;
		t->job.samples = 0;
		t->job.res = (struct sb_http_result){.err = e};
		snprintf(t->job.why, sizeof(t->job.why), "cannot start the request: %s",
			 strerror(-e));
		on_done(t, &t->job);
		return;
	}
	t->running = true;
}

static void on_tick(void *arg) { scrape_target(arg); }

/* The sensor's own timer starts every target once, then each target's
 * timer takes over on its own interval. */
static void scrape_collect(struct sb_sensor *s)
{
	struct scrape *sc = s->state;
	if (!sc->armed) {
		sc->armed = true;
		sb_timer_set(s->timer, 0, 0);
		for (size_t i = 0; i < sc->n; i++)
			sb_timer_set(sc->t[i].timer, sc->t[i].interval, sc->t[i].interval);
	}
	for (size_t i = 0; i < sc->n; i++)
		scrape_target(&sc->t[i]);
}

static void scrape_destroy(struct sb_sensor *s)
{
	struct scrape *sc = s->state;
	if (!sc)
		return;
	for (size_t i = 0; i < sc->n; i++) {
		struct target *t = &sc->t[i];
		sb_timer_free(t->timer);
		sb_scrape_job_free(&t->job);
		sb_evb_free(&t->evb);
	}
	free(sc->t);
	sb_http_release(sc->http);
	free(sc);
	s->state = NULL;
}

static int scrape_init(struct sb_sensor *s)
{
	const struct scrape_cfg *c = s->cfg;
	struct scrape *sc = calloc(1, sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	s->state = sc;
	sc->s = s;
	sc->http = sb_http_acquire(s->loop);
	if (!sc->http) {
		int r = errno == ELIBACC || errno == ENOSYS ? -errno : -ENOMEM;
		scrape_destroy(s);
		return r;
	}
	sc->t = calloc(c->targets.n + 1, sizeof(*sc->t));
	if (!sc->t) {
		scrape_destroy(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->targets.n; i++) {
		const struct target_cfg *tc = (const struct target_cfg *)c->targets.v + i;
		struct target *t = &sc->t[i];
		sc->n++;
		t->sc = sc;
		t->c = tc;
		sb_scrape_job_init(&t->job);
		sb_evb_init(&t->evb);
		t->interval = tc->interval ? tc->interval : s->interval;
		int64_t timeout = tc->timeout ? tc->timeout : c->timeout;
		if (timeout > t->interval * 9 / 10) {
			/* done before the next one is due; said when the value
			 * was written, not for the default */
			if (tc->timeout || c->timeout != 10 * SB_NSEC_PER_SEC) {
				char was[32], now[32], iv[32];
				sb_fmt_duration(was, sizeof(was), timeout);
				sb_fmt_duration(now, sizeof(now), t->interval * 9 / 10);
				sb_fmt_duration(iv, sizeof(iv), t->interval);
				sb_warn(COMP,
					"target %s: timeout %s lowered to %s (at most 90%% of the "
					"interval %s)",
					tc->name, was, now, iv);
			}
			timeout = t->interval * 9 / 10;
		}
		t->job.req.url = tc->url;
		t->job.req.timeout_ns = timeout;
		t->job.req.connect_timeout_ns =
		    c->connect_timeout < timeout ? c->connect_timeout : timeout;
		t->job.lim = c->limits;
		t->job.done = on_done;
		t->job.arg = t;
		char red[256];
		sb_url_redact(tc->url, red, sizeof(red));
		snprintf(t->desc, sizeof(t->desc), "target %s (%s)", tc->name, red);
		t->timer = sb_timer_new(s->loop, on_tick, t);
		int e = t->timer ? sb_scrape_job_headers(&t->job, &tc->headers) : -ENOMEM;
		if (e) {
			scrape_destroy(s);
			return e;
		}
		char iv[32], to[32];
		sb_fmt_duration(iv, sizeof(iv), t->interval);
		sb_fmt_duration(to, sizeof(to), timeout);
		sb_info(COMP, "%s every %s, timeout %s", t->desc, iv, to);
	}
	if (!sc->n)
		sb_warn(COMP, "no targets: nothing to scrape");
	return 0;
}

static int scrape_validate(const void *cfg, char *err, size_t errlen)
{
	const struct scrape_cfg *c = cfg;
	const struct target_cfg *t = c->targets.v;
	for (size_t i = 0; i < c->targets.n; i++) {
		if (!t[i].name || !*t[i].name) {
			snprintf(err, errlen, "targets[%zu].name: missing", i);
			return -EINVAL;
		}
		if (!t[i].url ||
		    (strncmp(t[i].url, "http://", 7) && strncmp(t[i].url, "https://", 8))) {
			snprintf(err, errlen, "targets[%zu].url: missing or not an http(s) URL", i);
			return -EINVAL;
		}
		for (size_t k = 0; k < i; k++) {
			if (!strcmp(t[k].name, t[i].name)) {
				snprintf(err, errlen,
					 "targets[%zu].name: \"%s\" is also targets[%zu]", i,
					 t[i].name, k);
				return -EINVAL;
			}
		}
		for (size_t k = 0; k < t[i].headers.n; k++) {
			if (strpbrk(t[i].headers.k[k], ":\r\n \t") ||
			    strpbrk(t[i].headers.v[k], "\r\n")) {
				snprintf(err, errlen, "targets[%zu].headers.%s: not a valid header",
					 i, t[i].headers.k[k]);
				return -EINVAL;
			}
		}
	}
	return 0;
}

const struct sb_sensor_ops sb_sensor_scrape = {
    .name = "scrape",
    .desc = "any Prometheus endpoint (node_exporter, exporters), without blocking",
    .keys = scrape_keys,
    .cfg_size = sizeof(struct scrape_cfg),
    .validate = scrape_validate,
    .init = scrape_init,
    .collect = scrape_collect,
    .destroy = scrape_destroy,
};
