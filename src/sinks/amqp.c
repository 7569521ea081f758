/* The amqp sink: events to a RabbitMQ topic exchange, at least once.
 *
 * A transport on the delivery layer (include/sb_delivery.h), which owns
 * the spool, retries, breaker, replay and accounting. What is AMQP's lives
 * here and in amqp_conn.c: the broker's address and credentials, the
 * exchange and routing key, publisher confirms on one channel per worker,
 * pipelined (send and poll): the broker always has a window to work on.
 * With several endpoints (urls: a cluster's nodes) each worker's link
 * fails over from node to node (amqp_fleet.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amqp.h"
#include "sb_delivery.h"
#include "sb_event.h"
#include "sb_log.h"
#include "sb_sink.h"

#define DEFAULT_URL "amqp://guest:guest@127.0.0.1:5672/"

struct amqp_cfg {
	struct sb_delivery_cfg d; /* first: the delivery layer's keys */
	char *url;
	struct sb_strlist urls;
	char *credentials_file;
	char *exchange;
	char *routing_key;
	bool mandatory;
	int64_t connect_timeout;
	int64_t heartbeat;
	struct sb_amqp_tls_cfg tls;
};

#define TLS(f) offsetof(struct sb_amqp_tls_cfg, f)
const struct sb_cfg_key sb_amqp_tls_keys[] = {
    {"ca", SB_CT_STR, TLS(ca), NULL, "CA certificates (PEM) to verify the broker with (amqps://)",
     .flags = SB_CK_PATH},
    {"cert", SB_CT_STR, TLS(cert), NULL, "client certificate (PEM), for brokers that ask for one",
     .flags = SB_CK_PATH},
    {"key", SB_CT_STR, TLS(key), NULL, "the client certificate's private key (PEM)",
     .flags = SB_CK_PATH},
    {"verify", SB_CT_BOOL, TLS(verify), "true", "verify the broker's certificate and host name"},
    {0},
};

static const struct sb_cfg_key amqp_keys[] = {
    {"url", SB_CT_STR, offsetof(struct amqp_cfg, url), NULL,
     "broker URL, amqp:// or amqps:// (TLS); may hold credentials; the one-element form of "
     "urls; without either, " DEFAULT_URL " [secret]",
     .flags = SB_CK_TARGET},
    {"urls", SB_CT_STRLIST, offsetof(struct amqp_cfg, urls), NULL,
     "a cluster's nodes (broker URLs): each worker starts at one chosen by host and worker "
     "index and fails over to the next; not with url [secret]",
     .flags = SB_CK_TARGET},
    {"credentials_file", SB_CT_STR, offsetof(struct amqp_cfg, credentials_file), NULL,
     "file whose first line is user:password; overrides the URL's credentials",
     .flags = SB_CK_PATH},
    {"exchange", SB_CT_STR, offsetof(struct amqp_cfg, exchange), "sensorbus",
     "durable topic exchange, declared at connect"},
    {"routing_key", SB_CT_STR, offsetof(struct amqp_cfg, routing_key),
     "sensorbus.{host}.{source}.{kind}",
     "routing key template: {host} {source} {kind} {run} (dots in values become _)"},
    {"mandatory", SB_CT_BOOL, offsetof(struct amqp_cfg, mandatory), "true",
     "publish mandatory: a message no queue takes is returned, retried and spooled, not lost"},
    {"connect_timeout", SB_CT_DURATION, offsetof(struct amqp_cfg, connect_timeout), "5s",
     "TCP connect, TLS and AMQP handshake limit", .min = 0.001, .max = 3600},
    {"heartbeat", SB_CT_DURATION, offsetof(struct amqp_cfg, heartbeat), "30s",
     "AMQP heartbeat (0: off); a silent broker is noticed after two", .min = 0, .max = 3600},
    {"tls", SB_CT_OBJ, offsetof(struct amqp_cfg, tls), NULL, "TLS settings for amqps:// URLs",
     .sub = sb_amqp_tls_keys},
    {0},
};

void sb_amqp_tls_apply(struct sb_amqp_target *t, const struct sb_amqp_tls_cfg *c)
{
	t->tls_ca = c->ca;
	t->tls_cert = c->cert;
	t->tls_key = c->key;
	t->tls_verify = c->verify;
}

/* "user:pw@host:port" -> "host:port" (the scheme's default port if none) */
static void endpoint_of(const char *url, char *out, size_t n)
{
	bool tls = !strncmp(url, "amqps://", 8);
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	const char *end = p + strcspn(p, "/?");
	const char *at = memchr(p, '@', (size_t)(end - p));
	if (at)
		p = at + 1;
	int len = (int)(end - p);
	if (memchr(p, ':', (size_t)len))
		snprintf(out, n, "%.*s", len, p);
	else
		snprintf(out, n, "%.*s:%d", len, p, tls ? 5671 : 5672);
}

static bool shares_broker(const struct amqp_cfg *c, const struct sb_strlist *urls, const char *dflt)
{
	const char *mine = c->url && *c->url ? c->url : DEFAULT_URL;
	for (size_t i = 0; i < (c->urls.n ? c->urls.n : 1); i++) {
		char a[300];
		endpoint_of(c->urls.n ? c->urls.v[i] : mine, a, sizeof(a));
		for (size_t j = 0; j < (urls->n ? urls->n : 1); j++) {
			char b[300];
			endpoint_of(urls->n ? urls->v[j] : dflt, b, sizeof(b));
			if (!strcmp(a, b))
				return true;
		}
	}
	return false;
}

bool sb_amqp_sink_feeds(const void *cfgp, const char *exchange, const struct sb_strlist *urls,
			const char *dflt, const char *binding, char *key, size_t keylen)
{
	const struct amqp_cfg *c = cfgp;
	if (strcmp(c->exchange, exchange) || !shares_broker(c, urls, dflt))
		return false;
	/* each placeholder may be any one word: the agents' hosts, sources */
	struct sb_dstr w = {"*", 1};
	sb_amqp_key_render(key, keylen, c->routing_key, w, w, w, w);
	return sb_amqp_topic_may_match(binding, key);
}

static int amqp_validate(const void *cfgp, char *err, size_t errlen)
{
	const struct amqp_cfg *c = cfgp;
	if (sb_delivery_validate(&c->d, err, errlen))
		return -EINVAL;
	if (sb_amqp_key_check(c->routing_key, err, errlen))
		return -EINVAL;
	bool has_url = c->url && *c->url;
	if (has_url && c->urls.n) {
		snprintf(err, errlen,
			 "url and urls: give one (url is the one-element form of urls)");
		return -EINVAL;
	}
	for (size_t i = 0; i < c->urls.n || (i == 0 && has_url); i++) {
		const char *u = c->urls.n ? c->urls.v[i] : c->url;
		if (strncmp(u, "amqp://", 7) && strncmp(u, "amqps://", 8)) {
			if (c->urls.n)
				snprintf(err, errlen,
					 "urls[%zu]: must start with amqp:// or amqps://", i);
			else
				snprintf(err, errlen, "url: must start with amqp:// or amqps://");
			return -EINVAL;
		}
	}
	if (!*c->exchange) {
		snprintf(err, errlen,
			 "exchange: the default exchange cannot be declared; name one");
		return -EINVAL;
	}
	if ((c->tls.cert && *c->tls.cert) != (c->tls.key && *c->tls.key)) {
		snprintf(err, errlen, "tls: cert and key go together");
		return -EINVAL;
	}
	return 0;
}

/* ---- the transport ---- */

/* What the workers share: one target per endpoint, the failover state. */
struct amqp_tp {
	struct sb_amqp_target *t;
	unsigned n;
	struct sb_amqp_fleet fleet;
	const char *sink;
	char shown[1024];
};

/* A worker's link: the broker link and the endpoint it is on. */
struct amqp_wlink {
	struct amqp_tp *tp;
	struct sb_amqp_link *l;
	unsigned worker, ep;
	bool broke; /* an operation failed: the endpoint counts a failure */
};

static void tp_fini(void *tpp)
{
	struct amqp_tp *tp = tpp;
	if (!tp)
		return;
	for (unsigned i = 0; tp->t && i < tp->n; i++)
		sb_amqp_target_free(&tp->t[i]);
	free(tp->t);
	sb_amqp_fleet_free(&tp->fleet);
	free(tp);
}

static int tp_init(void **tpp, const struct sb_sink *s, char *err, size_t errlen)
{
	const struct amqp_cfg *c = s->cfg;
	const char *one = c->url && *c->url ? c->url : DEFAULT_URL;
	unsigned n = c->urls.n ? (unsigned)c->urls.n : 1;
	struct amqp_tp *tp = calloc(1, sizeof(*tp));
	if (!tp || !(tp->t = calloc(n, sizeof(*tp->t)))) {
		free(tp);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	tp->n = n;
	tp->sink = s->name;
	int r = 0;
	size_t len = 0;
	for (unsigned i = 0; i < n; i++) {
		struct sb_amqp_target *t = &tp->t[i];
		char why[512];
		r = sb_amqp_target_parse(t, c->urls.n ? c->urls.v[i] : one, c->credentials_file,
					 why, sizeof(why));
		if (r) {
			if (c->urls.n)
				snprintf(err, errlen, "urls[%u]: %s", i, why);
			else
				snprintf(err, errlen, "%s", why);
			goto fail;
		}
		sb_amqp_tls_apply(t, &c->tls);
		t->connect_timeout = c->connect_timeout;
		t->heartbeat = (int)(c->heartbeat / SB_NSEC_PER_SEC);
		if (c->heartbeat && !t->heartbeat)
			t->heartbeat = 1;
		t->exchange = c->exchange;
		t->routing_key = c->routing_key;
		t->mandatory = c->mandatory;
		int w = snprintf(tp->shown + len, sizeof(tp->shown) - len, "%s%s", i ? ", " : "",
				 t->shown);
		if (w > 0)
			len = (size_t)w < sizeof(tp->shown) - len ? len + (size_t)w
								  : sizeof(tp->shown) - 1;
	}
	r = sb_amqp_fleet_init(&tp->fleet, n, s->nshards ? s->nshards : 1,
			       s->ri ? s->ri->host : NULL);
	if (r) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	*tpp = tp;
	return 0;
fail:
	tp_fini(tp);
	return r;
}

static const char *tp_target(void *tp) { return ((struct amqp_tp *)tp)->shown; }

struct try_ctx {
	struct amqp_tp *tp;
	struct sb_amqp_link *l;
};

static int try_endpoint(void *ctxp, unsigned ep, char *err, size_t errlen)
{
	struct try_ctx *ctx = ctxp;
	return sb_amqp_link_open(&ctx->l, &ctx->tp->t[ep], err, errlen);
}

static int tp_connect(void *tpp, unsigned worker, void **link, char *err, size_t errlen)
{
	struct amqp_tp *tp = tpp;
	struct amqp_wlink *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	struct try_ctx ctx = {.tp = tp};
	int last = tp->fleet.w[worker % tp->fleet.nworkers].last;
	int r = sb_amqp_fleet_connect(&tp->fleet, worker, try_endpoint, &ctx, &w->ep, err, errlen);
	if (r) {
		free(w);
		return r;
	}
	w->tp = tp;
	w->l = ctx.l;
	w->worker = worker;
	if (last >= 0 && (unsigned)last != w->ep)
		sb_info("sink:amqp", "%s: worker %u failed over from %s to %s", tp->sink, worker,
			tp->t[last].shown, tp->t[w->ep].shown);
	*link = w;
	return 0;
}

static void tp_close(void *link)
{
	struct amqp_wlink *w = link;
	if (!w)
		return;
	sb_amqp_fleet_closed(&w->tp->fleet, w->worker, w->broke);
	sb_amqp_link_close(w->l);
	free(w);
}

/* A failed operation: the link is closed next, and its endpoint failed. */
static int noted(struct amqp_wlink *w, int r)
{
	if (r)
		w->broke = true;
	return r;
}

static int tp_publish(void *link, struct sb_dmsg *const *msgs, size_t n, int64_t timeout, char *err,
		      size_t errlen)
{
	struct amqp_wlink *w = link;
	return noted(w, sb_amqp_link_publish(w->l, msgs, n, timeout, err, errlen));
}

static int tp_send(void *link, struct sb_dmsg *const *msgs, size_t n, char *err, size_t errlen)
{
	struct amqp_wlink *w = link;
	return noted(w, sb_amqp_link_send(w->l, msgs, n, err, errlen));
}

static int tp_poll(void *link, int64_t wait, char *err, size_t errlen)
{
	struct amqp_wlink *w = link;
	return noted(w, sb_amqp_link_poll(w->l, wait, err, errlen));
}

static int tp_idle(void *link, char *err, size_t errlen)
{
	struct amqp_wlink *w = link;
	return noted(w, sb_amqp_link_idle(w->l, err, errlen));
}

static int tp_fd(void *link) { return sb_amqp_link_fd(((struct amqp_wlink *)link)->l); }

/* One endpoint's: the watchdog bounds sends, which go to one node; a
 * round's connects are bounded each by their own timeout. */
static int64_t tp_connect_timeout(void *tpp)
{
	return ((struct amqp_tp *)tpp)->t[0].connect_timeout;
}

static unsigned tp_endpoints(void *tpp) { return ((struct amqp_tp *)tpp)->n; }

static const struct sb_transport_ops amqp_transport = {
    .name = "amqp",
    .init = tp_init,
    .fini = tp_fini,
    .target = tp_target,
    .connect = tp_connect,
    .close = tp_close,
    .publish = tp_publish,
    .send = tp_send,
    .poll = tp_poll,
    .idle = tp_idle,
    .fd = tp_fd,
    .connect_timeout = tp_connect_timeout,
    .endpoints = tp_endpoints,
};

/* The delivery layer's samples, and which node each worker is on. */
static void amqp_telemetry(struct sb_sink *s, struct sb_evb *b)
{
	sb_delivery_telemetry(s, b);
	struct amqp_tp *tp = sb_delivery_transport_state(s);
	if (!tp)
		return;
	char ep[300], wk[16];
	for (unsigned e = 0; e < tp->n; e++) {
		snprintf(ep, sizeof(ep), "%s:%d", tp->t[e].host, tp->t[e].port);
		for (unsigned i = 0; i < tp->fleet.nworkers; i++) {
			snprintf(wk, sizeof(wk), "%u", i);
			int cur = atomic_load(&tp->fleet.w[i].cur);
			sb_evb_sample(b, "sensorbus_amqp_endpoint", SB_GAUGE, cur == (int)e);
			sb_evb_label(b, "sink", s->name);
			sb_evb_label(b, "worker", wk);
			sb_evb_label(b, "endpoint", ep);
		}
		sb_evb_sample(b, "sensorbus_amqp_endpoint_failures_total", SB_COUNTER,
			      (double)atomic_load(&tp->fleet.failures[e]));
		sb_evb_label(b, "sink", s->name);
		sb_evb_label(b, "endpoint", ep);
	}
	sb_evb_sample(b, "sensorbus_amqp_failovers_total", SB_COUNTER,
		      (double)atomic_load(&tp->fleet.failovers));
	sb_evb_label(b, "sink", s->name);
}

const struct sb_sink_ops sb_sink_amqp = {
    .name = "amqp",
    .desc = "RabbitMQ (AMQP 0-9-1) with publisher confirms, a disk spool, retries, a circuit "
	    "breaker and rate-limited replay: at least once",
    .keys = amqp_keys,
    .shared_keys = sb_delivery_keys,
    .cfg_size = sizeof(struct amqp_cfg),
    .transport = &amqp_transport,
    .validate = amqp_validate,
    .open = sb_delivery_open,
    .write = sb_delivery_write,
    .flush = sb_delivery_flush,
    .close = sb_delivery_close,
    .telemetry = amqp_telemetry,
    .health = sb_delivery_health,
};
