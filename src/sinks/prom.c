/* The `prom` sink: a Prometheus endpoint (libmicrohttpd, one internal
 * thread) serving the latest value of every series the sensors publish.
 *
 *   GET /metrics   text format 0.0.4, or OpenMetrics 1.0 when Accept prefers
 *                  it; gzip when Accept-Encoding allows
 *   GET /healthz   200 while the process serves HTTP
 *   GET /readyz    200 when the agent sensor last said every sensor runs and
 *                  every sink is healthy with no breaker open; 503 and the
 *                  reasons otherwise
 *
 * The bus thread applies event batches to the store; the HTTP thread renders
 * from it. Each holds the store's lock only for its own walk, and the
 * sensors never wait on either: they only ever touch the bus queue. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <zlib.h>

#include "prom_store.h"
#include "sb_caps.h"
#include "sb_dl.h"
#include "sb_event.h"
#include "sb_log.h"
#include "sb_sink.h"

/* libmicrohttpd (and GnuTLS under it) is opened by the first prom sink, not
 * linked into every run (sb_dl.h). */
static SB_DL_FN(MHD_add_response_header);
static SB_DL_FN(MHD_create_response_from_buffer);
static SB_DL_FN(MHD_destroy_response);
static SB_DL_FN(MHD_get_daemon_info);
static SB_DL_FN(MHD_lookup_connection_value);
static SB_DL_FN(MHD_queue_response);
static SB_DL_FN(MHD_start_daemon);
static SB_DL_FN(MHD_stop_daemon);
static const struct sb_dl_sym mhd_syms[] = {
    SB_DL_SYM(MHD_add_response_header),
    SB_DL_SYM(MHD_create_response_from_buffer),
    SB_DL_SYM(MHD_destroy_response),
    SB_DL_SYM(MHD_get_daemon_info),
    SB_DL_SYM(MHD_lookup_connection_value),
    SB_DL_SYM(MHD_queue_response),
    SB_DL_SYM(MHD_start_daemon),
    SB_DL_SYM(MHD_stop_daemon),
    {0},
};
static struct sb_dl_lib libmhd = {.soname = "libmicrohttpd.so.12", .syms = mhd_syms};

#define COMP "sink:prom"
#define CT_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define CT_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

struct prom_cfg {
	char *listen;
	char *path;
	int64_t stale_after;
	int64_t max_series;
	int64_t max_connections;
	int64_t timeout;
	bool gzip;
};

struct prom_state {
	const struct prom_cfg *cfg;
	const char *name;
	struct sb_prom_store *store;
	struct MHD_Daemon *mhd;
	struct sockaddr_storage addr;
	atomic_uint_fast64_t scrapes;
	atomic_size_t last_size; /* of the last exposition, to size the next */
	struct sb_ratelimit rl;
};

static const struct sb_cfg_key prom_keys[] = {
	{"listen", SB_CT_STR, offsetof(struct prom_cfg, listen), "127.0.0.1:9847",
	 "address to serve HTTP on: host:port, [v6addr]:port, or :port for every address"},
	{"path", SB_CT_STR, offsetof(struct prom_cfg, path), "/metrics",
	 "path of the metrics exposition"},
	{"stale_after", SB_CT_INT, offsetof(struct prom_cfg, stale_after), "5",
	 "a series disappears after missing this many of its refreshes (0: never)", .min = 0,
	 .max = 1e6},
	{"max_series", SB_CT_INT, offsetof(struct prom_cfg, max_series), "100000",
	 "series held at most; samples of new series beyond it are dropped and counted (0: no "
	 "bound)",
	 .min = 0, .max = 1e9},
	{"max_connections", SB_CT_INT, offsetof(struct prom_cfg, max_connections), "32",
	 "concurrent HTTP connections accepted", .min = 1, .max = 10000},
	{"timeout", SB_CT_DURATION, offsetof(struct prom_cfg, timeout), "10s",
	 "an idle HTTP connection is closed after this long", .min = 1, .max = 3600},
	{"gzip", SB_CT_BOOL, offsetof(struct prom_cfg, gzip), "true",
	 "compress /metrics when the scraper accepts gzip"},
	{0},
};

/* "host:port", "[v6]:port" or ":port" (every address, IPv4 and IPv6). */
static int split_listen(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *h = s, *colon;
	size_t hl;
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl)) /* an IPv6 address needs brackets */
			return -EINVAL;
	}
	uint64_t p;
	if (hl >= hostlen || sb_parse_u64(colon + 1, &p) || p > 65535)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = 0;
	*port = (uint16_t)p;
	return 0;
}

static int prom_validate(const void *cfgp, char *err, size_t errlen)
{
	const struct prom_cfg *c = cfgp;
	char host[256];
	uint16_t port;
	if (split_listen(c->listen, host, sizeof(host), &port)) {
		snprintf(err, errlen,
			 "listen: invalid address \"%s\" (want host:port, [v6addr]:port or :port)",
			 c->listen);
		return -EINVAL;
	}
	if (c->path[0] != '/' || !strcmp(c->path, "/healthz") || !strcmp(c->path, "/readyz")) {
		snprintf(err, errlen,
			 "path: \"%s\" must start with / and differ from /healthz "
			 "and /readyz",
			 c->path);
		return -EINVAL;
	}
	return 0;
}

static int resolve_listen(const char *listen, struct sockaddr_storage *ss, bool *v6)
{
	char host[256];
	uint16_t port;
	if (split_listen(listen, host, sizeof(host), &port))
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (!host[0]) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_any;
		a->sin6_port = htons(port);
		*v6 = true;
		return 0;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	int r = getaddrinfo(host, NULL, &hints, &res);
	if (r)
		return r == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*v6 = res->ai_family == AF_INET6;
	if (*v6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	freeaddrinfo(res);
	return 0;
}

/* ---- HTTP ---- */

/* The highest q value among the items of a comma-separated header (Accept,
 * Accept-Encoding) that match: -1 when none does. */
static double best_q(const char *hdr, bool (*match)(const char *item, const void *arg),
		     const void *arg)
{
	double best = -1;
	const char *p = hdr;
	while (*p) {
		size_t n = strcspn(p, ",");
		char item[256];
		snprintf(item, sizeof(item), "%.*s", (int)(n < 255 ? n : 255), p);
		char *params = strchr(item, ';');
		if (params)
			*params++ = 0;
		double q = 1;
		for (char *t = params; t && *t;) {
			char *next = strchr(t, ';');
			if (next)
				*next++ = 0;
			t = sb_trim(t);
			if (t[0] == 'q' && t[1] == '=')
				q = strtod(t + 2, NULL);
			t = next;
		}
		if (match(sb_trim(item), arg) && q > best)
			best = q;
		p += n;
		if (*p == ',')
			p++;
	}
	return best;
}

/* type/subtype, or a wildcard covering it */
static bool media_match(const char *item, const void *arg)
{
	const char *want = arg, *slash = strchr(want, '/');
	size_t tl = (size_t)(slash - want);
	if (!strcmp(item, "*/*") || !strcasecmp(item, want))
		return true;
	return !strncasecmp(item, want, tl + 1) && !strcmp(item + tl + 1, "*");
}

static bool exact_match(const char *item, const void *arg)
{
	return !strcasecmp(item, arg);
}

static bool coding_match(const char *item, const void *arg)
{
	return !strcasecmp(item, arg) || !strcmp(item, "*");
}

static enum sb_prom_format negotiate(struct MHD_Connection *c)
{
	const char *accept = sym_MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
	if (!accept)
		return SB_PROM_TEXT;
	/* Only a scraper that names OpenMetrics gets it: curl's and browsers'
	 * wildcards get the classic text format. */
	double om = best_q(accept, exact_match, "application/openmetrics-text");
	double text = best_q(accept, media_match, "text/plain");
	return om > 0 && om >= text ? SB_PROM_OPENMETRICS : SB_PROM_TEXT;
}

static bool accepts_gzip(struct MHD_Connection *c)
{
	const char *ae = sym_MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
	return ae && best_q(ae, coding_match, "gzip") > 0;
}

static int gzip_buf(const struct sb_buf *in, struct sb_buf *out)
{
	z_stream z = {0};
	/* level 1: a scrape is compressed once and read once; speed wins */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	uLong bound = deflateBound(&z, (uLong)in->len);
	int r = sb_buf_reserve(out, bound);
	if (!r) {
		z.next_in = (Bytef *)in->data;
		z.avail_in = (uInt)in->len;
		z.next_out = (Bytef *)out->data;
		z.avail_out = (uInt)bound;
		r = deflate(&z, Z_FINISH) == Z_STREAM_END ? 0 : -EIO;
		out->len = z.total_out;
	}
	deflateEnd(&z);
	return r;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *ctype,
			     struct sb_buf *body, const char *encoding)
{
	struct MHD_Response *resp;
	if (body->err || !body->data) {
		resp = sym_MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		sb_buf_free(body);
	} else {
		/* MHD frees the body with free() once it is sent */
		resp = sym_MHD_create_response_from_buffer(body->len, body->data,
							   MHD_RESPMEM_MUST_FREE);
		if (resp)
			sb_buf_init(body);
		else
			sb_buf_free(body);
	}
	if (!resp)
		return MHD_NO;
	sym_MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (encoding)
		sym_MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, encoding);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		sym_MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result r = sym_MHD_queue_response(c, status, resp);
	sym_MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct sb_buf b;
	sb_buf_init(&b);
	sb_buf_adds(&b, text);
	return reply(c, status, "text/plain; charset=utf-8", &b, NULL);
}

static enum MHD_Result serve_metrics(struct prom_state *st, struct MHD_Connection *c)
{
	enum sb_prom_format fmt = negotiate(c);
	struct sb_buf body;
	sb_buf_init(&body);
	size_t hint = atomic_load_explicit(&st->last_size, memory_order_relaxed);
	sb_buf_reserve(&body, hint + hint / 8 + 4096);
	sb_prom_store_render(st->store, &body, fmt, sb_now_mono_ns());
	atomic_store_explicit(&st->last_size, body.len, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->scrapes, 1, memory_order_relaxed);
	const char *ctype = fmt == SB_PROM_OPENMETRICS ? CT_OPENMETRICS : CT_TEXT;
	if (st->cfg->gzip && !body.err && accepts_gzip(c)) {
		struct sb_buf z;
		sb_buf_init(&z);
		if (!gzip_buf(&body, &z)) {
			sb_buf_free(&body);
			return reply(c, MHD_HTTP_OK, ctype, &z, "gzip");
		}
		sb_buf_free(&z); /* send it uncompressed then */
	}
	return reply(c, MHD_HTTP_OK, ctype, &body, NULL);
}

struct why {
	struct sb_buf *b;
	const char *what;
	double bad;
	bool below; /* trouble is a value below bad, not equal to it */
};

static void add_reason(void *arg, const char *labels, double v)
{
	struct why *w = arg;
	if (w->below ? v < w->bad : v == w->bad)
		sb_buf_printf(w->b, "%s{%s} = %g\n", w->what, labels, v);
}

static void note_value(void *arg, const char *labels, double v)
{
	(void)labels;
	*(double *)arg = v;
}

/* Readiness as the agent sensor last published it (it sees every sensor
 * and sink; this thread sees only the store), with the reasons spelled out. */
static enum MHD_Result serve_ready(struct prom_state *st, struct MHD_Connection *c)
{
	int64_t now = sb_now_mono_ns();
	double ready = -1;
	if (!sb_prom_store_each(st->store, "sensorbus_ready", now, note_value, &ready))
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "not ready: no readiness from the agent sensor yet (it publishes "
				  "sensorbus_ready; is it enabled?)\n");
	struct sb_buf b;
	sb_buf_init(&b);
	sb_buf_adds(&b, "not ready:\n");
	size_t head = b.len;
	struct why w = {.b = &b, .what = "sensorbus_sensor_running", .bad = 1, .below = true};
	sb_prom_store_each(st->store, w.what, now, add_reason, &w);
	w.what = "sensorbus_sink_healthy";
	sb_prom_store_each(st->store, w.what, now, add_reason, &w);
	w = (struct why){.b = &b, .what = "sensorbus_sink_breaker_state", .bad = 2};
	sb_prom_store_each(st->store, w.what, now, add_reason, &w);
	if (ready == 1 && b.len == head) {
		sb_buf_free(&b);
		return reply_text(c, MHD_HTTP_OK, "ready\n");
	}
	if (b.len == head)
		sb_buf_adds(&b, "sensorbus_ready = 0\n");
	return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", &b, NULL);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct prom_state *st = cls;
	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	if (!strcmp(url, st->cfg->path))
		return serve_metrics(st, c);
	if (!strcmp(url, "/healthz"))
		return reply_text(c, MHD_HTTP_OK, "ok\n");
	if (!strcmp(url, "/readyz"))
		return serve_ready(st, c);
	if (!strcmp(url, "/")) {
		struct sb_buf b;
		sb_buf_init(&b);
		sb_buf_printf(&b,
			      "sensorbus\n\n%s\tmetrics\n/healthz\tliveness\n/readyz\treadiness\n",
			      st->cfg->path);
		return reply(c, MHD_HTTP_OK, "text/plain; charset=utf-8", &b, NULL);
	}
	return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct prom_state *st = cls;
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = 0;
	sb_log_rl(&st->rl, SB_LOG_WARN, COMP, "%s: http: %s", st->name, line);
}

/* ---- sink ops ---- */

static int prom_open(struct sb_sink *s)
{
	const struct prom_cfg *c = s->cfg;
	if (sb_dl_open(&libmhd)) {
		sb_err(COMP, "%s: %s: the prom sink needs libmicrohttpd", s->name, libmhd.why);
		return libmhd.err;
	}
	struct prom_state *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->cfg = c;
	st->name = s->name;
	st->rl.interval_ns = 10 * SB_NSEC_PER_SEC;
	bool v6 = false;
	int r = resolve_listen(c->listen, &st->addr, &v6);
	if (r) {
		sb_err(COMP, "%s: cannot resolve listen address %s: %s", s->name, c->listen,
		       strerror(-r));
		goto fail;
	}
	struct sb_prom_store_opts o = {.interval = s->ri->interval,
				       .stale_after = c->stale_after,
				       .max_series = (uint64_t)c->max_series};
	st->store = sb_prom_store_new(&o);
	if (!st->store) {
		r = -ENOMEM;
		goto fail;
	}
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (v6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&st->addr;
		flags |= IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
	}
	errno = 0;
	st->mhd = sym_MHD_start_daemon(
	    flags, 0, NULL, NULL, handle, st, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, st,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&st->addr, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)c->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)((c->timeout + SB_NSEC_PER_SEC - 1) / SB_NSEC_PER_SEC), MHD_OPTION_END);
	if (!st->mhd) {
		r = errno ? -errno : -EIO;
		sb_err(COMP, "%s: cannot serve HTTP on %s: %s", s->name, c->listen, strerror(-r));
		goto fail;
	}
	const union MHD_DaemonInfo *di =
	    sym_MHD_get_daemon_info(st->mhd, MHD_DAEMON_INFO_BIND_PORT);
	sb_info(COMP, "%s: serving %s on %s (port %u)", s->name, c->path, c->listen,
		di ? (unsigned)di->port : 0u);
	s->state = st;
	return 0;
fail:
	sb_prom_store_free(st->store);
	free(st);
	return r;
}

static enum sb_sink_status prom_write(struct sb_sink *s, unsigned shard,
				      struct sb_event *const *evs, size_t n, size_t *taken)
{
	(void)shard;
	struct prom_state *st = s->state;
	sb_prom_store_update(st->store, evs, n, sb_now_mono_ns());
	*taken = n;
	return SB_SINK_OK;
}

static void prom_close(struct sb_sink *s)
{
	struct prom_state *st = s->state;
	if (!st)
		return;
	if (st->mhd)
		sym_MHD_stop_daemon(st->mhd);
	sb_prom_store_free(st->store);
	free(st);
	s->state = NULL;
}

static void counter(struct sb_evb *b, const char *name, const char *help, const char *sink,
		    double v)
{
	sb_evb_sample(b, name, SB_COUNTER, v);
	sb_evb_help(b, help);
	sb_evb_label(b, "sink", sink);
}

static void prom_telemetry(struct sb_sink *s, struct sb_evb *b)
{
	struct prom_state *st = s->state;
	if (!st)
		return;
	struct sb_prom_store_stats ps;
	sb_prom_store_stats(st->store, &ps);
	sb_evb_sample(b, "sensorbus_prom_series", SB_GAUGE, (double)ps.series);
	sb_evb_help(b, "Series the Prometheus sink holds.");
	sb_evb_label(b, "sink", s->name);
	counter(b, "sensorbus_prom_series_expired_total",
		"Series removed because they were not refreshed in time.", s->name,
		(double)ps.expired);
	counter(b, "sensorbus_prom_scrapes_total", "Expositions served.", s->name,
		(double)atomic_load_explicit(&st->scrapes, memory_order_relaxed));
	counter(b, "sensorbus_prom_events_ignored_total",
		"Events that carry no metrics (exec, exit, ...), not exposed.", s->name,
		(double)ps.events_ignored);
	for (int r = 0; r < SB_PROM_REJ_MAX; r++) {
		counter(b, "sensorbus_prom_samples_rejected_total",
			"Samples the Prometheus sink could not expose, by reason.", s->name,
			(double)ps.rejected[r]);
		sb_evb_label(b, "reason", sb_prom_reject_name((enum sb_prom_reject)r));
	}
}

/* The listener binds in open, after the agent dropped what it does not
 * need: a port below 1024 needs CAP_NET_BIND_SERVICE then. */
static uint64_t prom_caps(const void *cfgp)
{
	const struct prom_cfg *c = cfgp;
	char host[256];
	uint16_t port;
	if (split_listen(c->listen, host, sizeof(host), &port) || !port || port >= 1024)
		return 0;
	return SB_CAP(CAP_NET_BIND_SERVICE);
}

const struct sb_sink_ops sb_sink_prom = {
	.name = "prom",
	.desc = "Prometheus endpoint: /metrics (text 0.0.4, OpenMetrics), /healthz, /readyz",
	.keys = prom_keys,
	.cfg_size = sizeof(struct prom_cfg),
	.validate = prom_validate,
	.open = prom_open,
	.write = prom_write,
	.close = prom_close,
	.telemetry = prom_telemetry,
	.caps = prom_caps,
};
