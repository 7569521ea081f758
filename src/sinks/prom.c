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
 * The publishing thread (the collection loop) applies each event to the
 * store as it is published (inline_write: no bus thread to wake); the HTTP
 * thread renders from it. Each holds the store's lock only for its own walk,
 * so the loop waits at most one render (into memory; sending and gzip come
 * after the lock).
 *
 * No client can hold the endpoint: connections are kept alive (and say for
 * how long), a request must arrive whole within header_timeout, and beyond
 * max_connections the connection idle longest gives way (prom_conn.h). A
 * small sweeper thread enforces the deadline; it and libmicrohttpd's thread
 * share the connection table under conn_lock, which the close notification
 * also takes, so a socket is never shut down after it was closed.
 *
 * With `tls` it serves HTTPS only (prom_tls.h: certificates re-read on
 * SIGHUP), with `basic_auth_users` every path but (by default) /healthz
 * asks for a user and password (prom_auth.h). */
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "prom_ahead.h"
#include "prom_auth.h"
#include "prom_conn.h"
#include "prom_listen.h"
#include "prom_gzip.h"
#include "prom_store.h"
#include "prom_tls.h"
#include "sb_caps.h"
#include "sb_dl.h"
#include "sb_event.h"
#include "sb_log.h"
#include "sb_sink.h"

/* libmicrohttpd (and GnuTLS under it) is opened by the first prom sink, not
 * linked into every run (sb_dl.h). */
#define MHD_FNS(X)                                                                                 \
	X(MHD_add_response_header)                                                                 \
	X(MHD_basic_auth_get_username_password)                                                    \
	X(MHD_create_response_from_buffer)                                                         \
	X(MHD_create_response_from_buffer_with_free_callback_cls)                                  \
	X(MHD_destroy_response)                                                                    \
	X(MHD_free)                                                                                \
	X(MHD_get_connection_info)                                                                 \
	X(MHD_get_daemon_info)                                                                     \
	X(MHD_lookup_connection_value)                                                             \
	X(MHD_queue_basic_auth_fail_response)                                                      \
	X(MHD_queue_response)                                                                      \
	X(MHD_start_daemon)                                                                        \
	X(MHD_stop_daemon)
MHD_FNS(SB_DL_DECLARE)
static const struct sb_dl_sym mhd_syms[] = {MHD_FNS(SB_DL_ENTRY){0}};
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
	int64_t header_timeout;
	bool gzip;
	struct sb_prom_tls_cfg tls;
	struct sb_strmap basic_auth_users;
	bool healthz_open;
};

struct prom_state {
	const struct prom_cfg *cfg;
	const char *name;
	struct sb_prom_store *store;
	struct MHD_Daemon *mhd;
	struct sockaddr_storage addr;
	atomic_uint_fast64_t scrapes;
	atomic_uint_fast64_t unauthorized;
	struct sb_prom_tls *tls; /* NULL: plain HTTP */
	struct sb_prom_gzip *gz; /* NULL: gzip off */
	struct sb_prom_auth auth;
	bool auth_on;
	struct sb_prom_ahead ahead;
	struct sb_ratelimit rl;
	unsigned keepalive_s; /* what Keep-Alive: timeout= promises */

	pthread_mutex_t conn_lock; /* conns, sweep_*, stopping */
	struct sb_prom_conns conns;
	pthread_cond_t sweep_cond;
	pthread_t sweeper;
	bool sweeper_running;
	bool stopping;
	struct sb_ratelimit rl_shed;  /* libmicrohttpd's thread */
	struct sb_ratelimit rl_sweep; /* the sweeper's */
};

static const struct sb_cfg_key prom_keys[] = {
    {"listen", SB_CT_STR, offsetof(struct prom_cfg, listen), "127.0.0.1:9847",
     "address to serve HTTP on: host:port, [v6addr]:port, or :port for every address",
     .flags = SB_CK_TARGET},
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
     "concurrent HTTP connections; beyond it the one idle longest is closed", .min = 1,
     .max = 10000},
    {"timeout", SB_CT_DURATION, offsetof(struct prom_cfg, timeout), "10s",
     "an HTTP connection with nothing sent either way is closed after this long", .min = 1,
     .max = 3600},
    {"header_timeout", SB_CT_DURATION, offsetof(struct prom_cfg, header_timeout), "10s",
     "a whole request must arrive within this long of the connection's accept or of its "
     "previous response, or the connection is closed",
     .min = 1, .max = 3600},
    {"gzip", SB_CT_BOOL, offsetof(struct prom_cfg, gzip), "true",
     "compress /metrics when the scraper accepts gzip"},
    {"tls", SB_CT_OBJ, offsetof(struct prom_cfg, tls), NULL,
     "serve HTTPS: certificate, key, oldest version, client certificates", .sub = sb_prom_tls_keys},
    {"basic_auth_users", SB_CT_STRMAP, offsetof(struct prom_cfg, basic_auth_users), NULL,
     "user -> bcrypt hash (`htpasswd -nbB`); set, every path asks for a user and password "
     "(HTTP basic authentication) [secret]"},
    {"healthz_open", SB_CT_BOOL, offsetof(struct prom_cfg, healthz_open), "true",
     "/healthz answers without a user and password (a client certificate is still asked)"},
    {0},
};

static int prom_validate(const void *cfgp, char *err, size_t errlen)
{
	const struct prom_cfg *c = cfgp;
	char host[256];
	uint16_t port;
	if (sb_prom_split_listen(c->listen, host, sizeof(host), &port)) {
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
	if (sb_prom_auth_check_users(&c->basic_auth_users, err, errlen))
		return -EINVAL;
	return sb_prom_tls_validate(&c->tls, err, errlen);
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

static bool exact_match(const char *item, const void *arg) { return !strcasecmp(item, arg); }

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

/* One request as the handlers see it. */
struct req {
	struct prom_state *st;
	struct MHD_Connection *c;
	bool keep_alive; /* libmicrohttpd keeps the connection after the answer */
};

/* As libmicrohttpd 0.9.75 decides (keepalive_possible()): an HTTP/1.1
 * request answered once it is whole keeps its connection unless it says
 * close. Only then is there a Keep-Alive timeout to announce; HTTP/1.0
 * clients get none, whatever they ask. */
static bool keeps_alive(struct MHD_Connection *c, const char *version)
{
	if (strcmp(version, MHD_HTTP_VERSION_1_1))
		return false;
	const char *conn = sym_MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Connection");
	return !conn || best_q(conn, exact_match, "close") < 0;
}

/* Queues resp (NULL: out of memory) with the headers every answer has. */
static enum MHD_Result queue(const struct req *rq, unsigned status, struct MHD_Response *resp,
			     const char *ctype, const char *encoding, bool vary)
{
	if (!resp)
		return MHD_NO;
	sym_MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (encoding)
		sym_MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, encoding);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		sym_MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	/* a cache must not hand a gzip body to a client that did not ask */
	if (vary)
		sym_MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY,
					    MHD_HTTP_HEADER_ACCEPT_ENCODING);
	if (rq->keep_alive) {
		char ka[32];
		snprintf(ka, sizeof(ka), "timeout=%u", rq->st->keepalive_s);
		sym_MHD_add_response_header(resp, "Keep-Alive", ka);
	}
	enum MHD_Result r = sym_MHD_queue_response(rq->c, status, resp);
	sym_MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result reply(const struct req *rq, unsigned status, const char *ctype,
			     struct sb_buf *body, const char *encoding, bool vary)
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
	return queue(rq, status, resp, ctype, encoding, vary);
}

static void body_sent(void *cls) { sb_prom_body_unref(cls); }

/* The render ahead as it is: its reference goes with the response. */
static enum MHD_Result reply_ahead(const struct req *rq, const char *ctype, struct sb_prom_body *b,
				   const char *encoding, bool vary)
{
	struct MHD_Response *resp = sym_MHD_create_response_from_buffer_with_free_callback_cls(
	    b->buf.len, b->buf.data, body_sent, b);
	if (!resp)
		sb_prom_body_unref(b);
	return queue(rq, MHD_HTTP_OK, resp, ctype, encoding, vary);
}

static enum MHD_Result reply_text(const struct req *rq, unsigned status, const char *text)
{
	struct sb_buf b;
	sb_buf_init(&b);
	sb_buf_adds(&b, text);
	return reply(rq, status, "text/plain; charset=utf-8", &b, NULL, false);
}

static enum MHD_Result serve_metrics(const struct req *rq)
{
	struct prom_state *st = rq->st;
	enum sb_prom_format fmt = negotiate(rq->c);
	const char *ctype = fmt == SB_PROM_OPENMETRICS ? CT_OPENMETRICS : CT_TEXT;
	bool gz = st->cfg->gzip && accepts_gzip(rq->c);
	struct sb_prom_body *ahead =
	    sb_prom_ahead_take(&st->ahead, st->store, fmt, gz, sb_now_mono_ns());
	atomic_fetch_add_explicit(&st->scrapes, 1, memory_order_relaxed);
	if (ahead)
		return reply_ahead(rq, ctype, ahead, gz ? "gzip" : NULL, st->cfg->gzip);
	struct sb_buf body;
	sb_buf_init(&body);
	sb_prom_store_render(st->store, &body, fmt, sb_now_mono_ns());
	if (gz && !body.err) {
		struct sb_buf z;
		sb_buf_init(&z);
		if (!sb_prom_gzip(st->gz, &body, &z)) {
			sb_buf_free(&body);
			return reply(rq, MHD_HTTP_OK, ctype, &z, "gzip", true);
		}
		sb_buf_free(&z); /* send it uncompressed then */
	}
	return reply(rq, MHD_HTTP_OK, ctype, &body, NULL, st->cfg->gzip);
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
static enum MHD_Result serve_ready(const struct req *rq)
{
	struct prom_state *st = rq->st;
	int64_t now = sb_now_mono_ns();
	double ready = -1;
	if (!sb_prom_store_each(st->store, "sensorbus_ready", now, note_value, &ready))
		return reply_text(rq, MHD_HTTP_SERVICE_UNAVAILABLE,
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
		return reply_text(rq, MHD_HTTP_OK, "ready\n");
	}
	if (b.len == head)
		sb_buf_adds(&b, "sensorbus_ready = 0\n");
	return reply(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", &b, NULL,
		     false);
}

#define UNAUTHORIZED "unauthorized\n"

/* 401 with WWW-Authenticate: Basic realm="sensorbus". */
static enum MHD_Result unauthorized(const struct req *rq)
{
	atomic_fetch_add_explicit(&rq->st->unauthorized, 1, memory_order_relaxed);
	struct MHD_Response *resp = sym_MHD_create_response_from_buffer(
	    sizeof(UNAUTHORIZED) - 1, (void *)UNAUTHORIZED, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	sym_MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				    "text/plain; charset=utf-8");
	enum MHD_Result r = sym_MHD_queue_basic_auth_fail_response(rq->c, "sensorbus", resp);
	sym_MHD_destroy_response(resp);
	return r;
}

static bool authorized(struct prom_state *st, struct MHD_Connection *c)
{
	char *pass = NULL;
	char *user = sym_MHD_basic_auth_get_username_password(c, &pass);
	bool ok = sb_prom_auth_allow(&st->auth, user, pass);
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		sym_MHD_free(pass);
	}
	if (user)
		sym_MHD_free(user);
	return ok;
}

static struct sb_prom_conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    sym_MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* Called once the headers are in, then with each piece of a body, then
 * once more when the request is whole. Answering only then is what keeps
 * the connection: libmicrohttpd 0.9.75 closes one answered on the first
 * call. Until then the connection is idle to the header deadline, so a
 * body trickled in is cut like trickled headers. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **req_cls)
{
	struct prom_state *st = cls;
	(void)upload_data;
	struct req rq = {.st = st, .c = c};
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
	if (!*req_cls && get) {
		*req_cls = st; /* any mark: the headers are in */
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* a body to a GET means nothing here */
		return MHD_YES;
	}
	struct sb_prom_conn *pc = conn_of(c);
	/* a session that did not take this sink's credentials may have
	 * skipped the client certificate check: never answered */
	if (st->tls && !(pc && pc->tls))
		return MHD_NO;
	if (pc) {
		pthread_mutex_lock(&st->conn_lock);
		sb_prom_conns_busy(&st->conns, pc);
		pthread_mutex_unlock(&st->conn_lock);
	}
	/* other methods are answered at once, their bodies unread, and the
	 * connection closed after */
	if (!get)
		return reply_text(&rq, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	rq.keep_alive = keeps_alive(c, version);
	if (st->auth_on && !(st->cfg->healthz_open && !strcmp(url, "/healthz")) &&
	    !authorized(st, c))
		return unauthorized(&rq);
	if (!strcmp(url, st->cfg->path))
		return serve_metrics(&rq);
	if (!strcmp(url, "/healthz"))
		return reply_text(&rq, MHD_HTTP_OK, "ok\n");
	if (!strcmp(url, "/readyz"))
		return serve_ready(&rq);
	if (!strcmp(url, "/")) {
		struct sb_buf b;
		sb_buf_init(&b);
		sb_buf_printf(&b,
			      "sensorbus\n\n%s\tmetrics\n/healthz\tliveness\n/readyz\treadiness\n",
			      st->cfg->path);
		return reply(&rq, MHD_HTTP_OK, "text/plain; charset=utf-8", &b, NULL, false);
	}
	return reply_text(&rq, MHD_HTTP_NOT_FOUND, "not found\n");
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

/* ---- connections (prom_conn.h) ---- */

/* Room above max_connections in libmicrohttpd's own limit: a connection
 * shed here still counts there until its thread sees it closed, and a new
 * scrape must get in meanwhile so that this sink, not libmicrohttpd's
 * accept queue, decides who goes. */
#define CONN_LIMIT_SLACK 8

/* Under conn_lock: c cannot be closed (and its fd reused) meanwhile. */
static void shut(void *arg, struct sb_prom_conn *c)
{
	(*(unsigned *)arg)++;
	shutdown(c->fd, SHUT_RDWR); /* libmicrohttpd sees the end and closes it */
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct prom_state *st = cls;
	struct sb_prom_conn *pc = *socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (!pc)
			return;
		pthread_mutex_lock(&st->conn_lock);
		sb_prom_conns_del(&st->conns, pc);
		pthread_mutex_unlock(&st->conn_lock);
		if (st->tls)
			sb_prom_tls_detach(st->tls, pc->tls);
		free(pc);
		*socket_context = NULL;
		return;
	}
	const union MHD_ConnectionInfo *ci =
	    sym_MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	pc = ci ? calloc(1, sizeof(*pc)) : NULL;
	if (!pc)
		return; /* untracked: libmicrohttpd's own limit and timeout still hold */
	pc->fd = ci->connect_fd;
	*socket_context = pc;
	if (st->tls) { /* before its handshake, which reads the first bytes */
		const union MHD_ConnectionInfo *ti =
		    sym_MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
		pc->tls = sb_prom_tls_attach(st->tls, ti ? ti->tls_session : NULL);
	}
	unsigned shed = 0;
	pthread_mutex_lock(&st->conn_lock);
	struct sb_prom_conn *victim = sb_prom_conns_add(&st->conns, pc, sb_now_mono_ns());
	if (victim)
		shut(&shed, victim);
	/* the sweeper is not woken: its next sweep comes before pc is due */
	pthread_mutex_unlock(&st->conn_lock);
	if (shed)
		sb_log_rl(&st->rl_shed, SB_LOG_WARN, COMP,
			  "%s: more than max_connections (%lld) connections: closed the one "
			  "idle longest",
			  st->name, (long long)st->cfg->max_connections);
}

/* The response is sent (or the request failed): the next request's
 * deadline starts now. */
static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct prom_state *st = cls;
	(void)req_cls;
	(void)toe;
	struct sb_prom_conn *pc = conn_of(c);
	if (!pc)
		return;
	pthread_mutex_lock(&st->conn_lock);
	sb_prom_conns_idle(&st->conns, pc, sb_now_mono_ns());
	pthread_mutex_unlock(&st->conn_lock);
}

/* Sleeps until the next header deadline, or header_timeout with none
 * ahead, and cuts whoever missed it. A deadline that starts meanwhile
 * (an accept, a response's end) is due later than that, so nobody wakes
 * the sweeper for one: a scrape a second costs it no wake-up of its own. */
static void *sweeper(void *arg)
{
	struct prom_state *st = arg;
	sb_thread_name("sweep:%s", st->name);
	pthread_mutex_lock(&st->conn_lock);
	while (!st->stopping) {
		unsigned cut = 0;
		int64_t next = sb_prom_conns_sweep(&st->conns, sb_now_mono_ns(), shut, &cut);
		if (cut) {
			pthread_mutex_unlock(&st->conn_lock);
			char d[32];
			sb_fmt_duration(d, sizeof(d), st->cfg->header_timeout);
			sb_log_rl(&st->rl_sweep, SB_LOG_WARN, COMP,
				  "%s: closed %u connection(s) that sent no whole request within "
				  "header_timeout %s",
				  st->name, cut, d);
			pthread_mutex_lock(&st->conn_lock);
			continue;
		}
		struct timespec ts = sb_mono_timespec(next);
		pthread_cond_timedwait(&st->sweep_cond, &st->conn_lock, &ts);
	}
	pthread_mutex_unlock(&st->conn_lock);
	return NULL;
}

static void stop_sweeper(struct prom_state *st)
{
	if (!st->sweeper_running)
		return;
	pthread_mutex_lock(&st->conn_lock);
	st->stopping = true;
	pthread_cond_signal(&st->sweep_cond);
	pthread_mutex_unlock(&st->conn_lock);
	pthread_join(st->sweeper, NULL);
	st->sweeper_running = false;
}

/* ---- sink ops ---- */

static void free_state(struct prom_state *st)
{
	stop_sweeper(st);
	/* the last close notifications take conn_lock */
	if (st->mhd)
		sym_MHD_stop_daemon(st->mhd);
	sb_prom_tls_free(st->tls);
	sb_prom_gzip_free(st->gz);
	sb_prom_auth_fini(&st->auth);
	sb_prom_store_free(st->store);
	sb_prom_ahead_free(&st->ahead);
	pthread_cond_destroy(&st->sweep_cond);
	pthread_mutex_destroy(&st->conn_lock);
	free(st);
}

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
	sb_prom_ahead_init(&st->ahead);
	st->rl.interval_ns = st->rl_shed.interval_ns = st->rl_sweep.interval_ns =
	    10 * SB_NSEC_PER_SEC;
	/* an idle keep-alive connection lasts the shorter of the two */
	int64_t ka = c->timeout < c->header_timeout ? c->timeout : c->header_timeout;
	st->keepalive_s = (unsigned)(ka / SB_NSEC_PER_SEC);
	sb_prom_conns_init(&st->conns, (unsigned)c->max_connections, c->header_timeout);
	pthread_mutex_init(&st->conn_lock, NULL);
	int r = sb_cond_init_mono(&st->sweep_cond);
	if (r) {
		pthread_mutex_destroy(&st->conn_lock);
		free(st);
		return r;
	}
	r = sb_prom_resolve_listen(s->name, c->listen, &st->addr);
	if (!r)
		r = sb_prom_tls_open(&st->tls, &c->tls, s->name);
	if (!r && c->basic_auth_users.n) {
		char e[300];
		r = sb_prom_auth_init(&st->auth, &c->basic_auth_users, e, sizeof(e));
		if (r)
			sb_err(COMP, "%s: %s", s->name, e);
		st->auth_on = !r;
		if (!r && !st->tls)
			sb_warn(COMP,
				"%s: basic_auth_users without tls: passwords cross the "
				"network in clear text",
				s->name);
	}
	if (r)
		goto fail;
	struct sb_prom_store_opts o = {.interval = s->ri->interval,
				       .stale_after = c->stale_after,
				       .max_series = (uint64_t)c->max_series};
	st->store = sb_prom_store_new(&o);
	if (c->gzip)
		st->gz = sb_prom_gzip_new(true);
	if (!st->store || (c->gzip && !st->gz)) {
		r = -ENOMEM;
		goto fail;
	}
	int fd = sb_prom_listen_socket(s->name, c->listen, &st->addr);
	if (fd < 0) {
		r = fd;
		goto fail;
	}
	r = -pthread_create(&st->sweeper, NULL, sweeper, st);
	if (r) {
		sb_err(COMP, "%s: cannot start the connection sweeper: %s", s->name, strerror(-r));
		close(fd);
		goto fail;
	}
	st->sweeper_running = true;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (st->addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (st->tls)
		flags |= MHD_USE_TLS;
	struct MHD_OptionItem tls_opts[5];
	sb_prom_tls_mhd_options(st->tls, tls_opts);
	errno = 0;
	/* from here libmicrohttpd owns fd, and closes it even when it fails
	 * (on most paths: an exit follows, so the rest is no leak to mind) */
	st->mhd = sym_MHD_start_daemon(
	    flags, 0, NULL, NULL, handle, st, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, st,
	    MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_CONNECTION, on_connection, st,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, st, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)c->max_connections + CONN_LIMIT_SLACK, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)((c->timeout + SB_NSEC_PER_SEC - 1) / SB_NSEC_PER_SEC), MHD_OPTION_ARRAY,
	    tls_opts, MHD_OPTION_END);
	if (!st->mhd) {
		r = errno ? -errno : -EIO;
		sb_err(COMP, "%s: cannot serve HTTP on %s: %s", s->name, c->listen, strerror(-r));
		goto fail;
	}
	const union MHD_DaemonInfo *di =
	    sym_MHD_get_daemon_info(st->mhd, MHD_DAEMON_INFO_BIND_PORT);
	sb_info(COMP, "%s: serving %s on %s (port %u, %s%s%s%s)", s->name, c->path, c->listen,
		di ? (unsigned)di->port : 0u, st->tls ? "https" : "http",
		st->auth_on ? ", basic auth" : "", st->gz ? ", gzip by " : "",
		st->gz ? sb_prom_gzip_impl(st->gz) : "");
	s->state = st;
	return 0;
fail:
	free_state(st);
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

/* SIGHUP: the certificate, its key and the client CA are read again;
 * the listener and open connections stay. */
static void prom_reopen(struct sb_sink *s, unsigned shard)
{
	struct prom_state *st = s->state;
	(void)shard;
	if (st && st->tls)
		sb_prom_tls_reload(st->tls);
}

/* The loop, after a round's events: the next scrape's answer, made while
 * the round is still warm in its cache (prom_ahead.h). */
static void prom_idle(struct sb_sink *s)
{
	struct prom_state *st = s->state;
	if (st)
		sb_prom_ahead_make(&st->ahead, st->store, st->gz, sb_now_mono_ns());
}

static void prom_close(struct sb_sink *s)
{
	struct prom_state *st = s->state;
	if (!st)
		return;
	free_state(st);
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
	counter(b, "sensorbus_prom_scrapes_ahead_total",
		"Expositions served as rendered ahead, after the round that made them.", s->name,
		(double)atomic_load_explicit(&st->ahead.taken, memory_order_relaxed));
	counter(b, "sensorbus_prom_unauthorized_total",
		"Requests answered 401: no or a wrong user and password.", s->name,
		(double)atomic_load_explicit(&st->unauthorized, memory_order_relaxed));
	if (st->tls) {
		int64_t end;
		uint64_t fails;
		sb_prom_tls_stats(st->tls, &end, &fails);
		sb_evb_sample(b, "sensorbus_prom_tls_certificate_expiry_timestamp_seconds",
			      SB_GAUGE, (double)end);
		sb_evb_help(b, "When the certificate the Prometheus sink serves expires.");
		sb_evb_label(b, "sink", s->name);
		counter(
		    b, "sensorbus_prom_tls_reload_failures_total",
		    "SIGHUPs whose TLS files could not be used (the certificate before stayed).",
		    s->name, (double)fails);
	}
	pthread_mutex_lock(&st->conn_lock);
	unsigned live = st->conns.live;
	uint64_t cuts[SB_PROM_CUT_MAX];
	memcpy(cuts, st->conns.cuts, sizeof(cuts));
	pthread_mutex_unlock(&st->conn_lock);
	sb_evb_sample(b, "sensorbus_prom_connections", SB_GAUGE, live);
	sb_evb_help(b, "HTTP connections open to the Prometheus sink.");
	sb_evb_label(b, "sink", s->name);
	static const char *const cut_reason[SB_PROM_CUT_MAX] = {
	    [SB_PROM_CUT_LIMIT] = "max_connections",
	    [SB_PROM_CUT_DEADLINE] = "header_timeout",
	};
	for (int r = 0; r < SB_PROM_CUT_MAX; r++) {
		counter(b, "sensorbus_prom_connections_closed_total",
			"HTTP connections the Prometheus sink closed, by reason.", s->name,
			(double)cuts[r]);
		sb_evb_label(b, "reason", cut_reason[r]);
	}
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
	if (sb_prom_split_listen(c->listen, host, sizeof(host), &port) || !port || port >= 1024)
		return 0;
	return SB_CAP(CAP_NET_BIND_SERVICE);
}

const struct sb_sink_ops sb_sink_prom = {
    .name = "prom",
    .desc = "Prometheus endpoint: /metrics (text 0.0.4, OpenMetrics), /healthz, /readyz",
    .keys = prom_keys,
    .cfg_size = sizeof(struct prom_cfg),
    /* the store's update, in the loop's thread: a scrape sees each round
     * as soon as it is made, and no thread wakes to hand it over */
    .inline_write = true,
    .validate = prom_validate,
    .open = prom_open,
    .write = prom_write,
    .idle = prom_idle,
    .reopen = prom_reopen,
    .close = prom_close,
    .telemetry = prom_telemetry,
    .caps = prom_caps,
};
