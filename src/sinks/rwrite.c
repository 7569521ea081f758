/* The remote_write sink: metrics to Prometheus remote write 1.0 (Prometheus
 * with --web.enable-remote-write-receiver, Mimir, Thanos Receive, Cortex,
 * VictoriaMetrics), at least once.
 *
 * A transport on the delivery layer (include/sb_delivery.h), which owns
 * the spool, retries, breaker, replay and accounting. Events are spooled
 * in the protobuf codec and turned into series here, at send time: the
 * spool stays events any tool can read, and job, instance and external
 * labels are the running config's. Each worker's link is one libcurl easy
 * handle (its connection kept alive between windows) used from the
 * worker's sender thread, where a blocking request is what is meant.
 *
 * Outcomes follow the spec: 2xx delivered; 5xx and 429 failed (retried
 * with backoff, Retry-After honoured, feeding the breaker); any other
 * status rejected for good, since the receiver will never take those
 * bytes (Prometheus answers 400 to a request holding one out-of-order
 * sample and keeps none of it). */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../http/http.h"
#include "../http/job.h"
#include "rwrite.h"
#include "sb_delivery.h"
#include "sb_log.h"
#include "sb_pbevent.h"
#include "sb_sink.h"

#define COMP "sink:remote_write"
#define RESP_KEEP 512

struct rw_cfg {
	struct sb_delivery_cfg d; /* first: the delivery layer's keys */
	char *url;
	struct sb_strmap headers;
	struct {
		char *user;
		char *password_file;
	} basic_auth;
	char *bearer_token_file;
	struct {
		char *ca;
		char *cert;
		char *key;
		bool verify;
	} tls;
	int64_t timeout;
	char *job;
	char *instance;
	struct sb_strmap external_labels;
	int64_t max_samples_per_send;
};

#define TLS(f) (offsetof(struct rw_cfg, tls.f) - offsetof(struct rw_cfg, tls))
static const struct sb_cfg_key tls_keys[] = {
    {"ca", SB_CT_STR, TLS(ca), NULL, "CA certificates (PEM) to verify the receiver with (https://)",
     .flags = SB_CK_PATH},
    {"cert", SB_CT_STR, TLS(cert), NULL, "client certificate (PEM), for receivers that ask for one",
     .flags = SB_CK_PATH},
    {"key", SB_CT_STR, TLS(key), NULL, "the client certificate's private key (PEM)",
     .flags = SB_CK_PATH},
    {"verify", SB_CT_BOOL, TLS(verify), "true", "verify the receiver's certificate and host name"},
    {0},
};

#define BA(f) (offsetof(struct rw_cfg, basic_auth.f) - offsetof(struct rw_cfg, basic_auth))
static const struct sb_cfg_key basic_auth_keys[] = {
    {"user", SB_CT_STR, BA(user), NULL, "user name for HTTP basic authentication"},
    {"password_file", SB_CT_STR, BA(password_file), NULL,
     "file whose first line is the password (read at each connect)", .flags = SB_CK_PATH},
    {0},
};

#define RW(f) offsetof(struct rw_cfg, f)
static const struct sb_cfg_key rw_keys[] = {
    {"url", SB_CT_STR, RW(url), "http://127.0.0.1:9090/api/v1/write",
     "the receiver's remote-write endpoint, http:// or https://", .flags = SB_CK_TARGET},
    {"headers", SB_CT_STRMAP, RW(headers), NULL,
     "extra request headers, e.g. X-Scope-OrgID for Mimir [secret]"},
    {"basic_auth", SB_CT_OBJ, RW(basic_auth), NULL, "HTTP basic authentication",
     .sub = basic_auth_keys},
    {"bearer_token_file", SB_CT_STR, RW(bearer_token_file), NULL,
     "file whose first line is sent as `Authorization: Bearer` (read at each connect)",
     .flags = SB_CK_PATH},
    {"tls", SB_CT_OBJ, RW(tls), NULL, "TLS settings for https:// URLs", .sub = tls_keys},
    {"timeout", SB_CT_DURATION, RW(timeout), "30s",
     "one request's limit, connect included (a window may take several requests)", .min = 0.001,
     .max = 3600},
    {"job", SB_CT_STR, RW(job), "sensorbus", "the `job` label of every series"},
    {"instance", SB_CT_STR, RW(instance), NULL,
     "the `instance` label of every series (default: the event's host)"},
    {"external_labels", SB_CT_STRMAP, RW(external_labels), NULL,
     "labels added to every series that lacks them, e.g. {\"cluster\": \"eu1\"}"},
    {"max_samples_per_send", SB_CT_INT, RW(max_samples_per_send), "500",
     "samples per request, as Prometheus 2.42's own default (a histogram's series stay "
     "together); the spool's `format` here defaults to protobuf, which this sink decodes",
     .min = 1, .max = 1e6},
    {0},
};

static bool label_name_ok(const char *s)
{
	if (!*s || (s[0] == '_' && s[1] == '_'))
		return false;
	for (const char *p = s; *p; p++) {
		bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_';
		if (!alpha && !(p > s && *p >= '0' && *p <= '9'))
			return false;
	}
	return true;
}

static int rw_validate(const void *cfgp, char *err, size_t errlen)
{
	const struct rw_cfg *c = cfgp;
	if (sb_delivery_validate(&c->d, err, errlen))
		return -EINVAL;
	if (strncmp(c->url, "http://", 7) && strncmp(c->url, "https://", 8)) {
		snprintf(err, errlen, "url: must start with http:// or https://");
		return -EINVAL;
	}
	if (c->d.replay == SB_REPLAY_BACKFILL) {
		snprintf(err, errlen,
			 "replay: \"backfill\" cannot work here: a receiver rejects samples older "
			 "than the newest of their series, so a backlog sent after newer samples "
			 "would be dropped; use \"ordered\"");
		return -EINVAL;
	}
	if (strcmp(c->d.format, "protobuf")) {
		snprintf(err, errlen,
			 "format: must be \"protobuf\": remote_write decodes spooled events to "
			 "make series, and only that codec has a decoder");
		return -EINVAL;
	}
	if (c->d.batch_events != 1) {
		snprintf(err, errlen,
			 "batch_events: must be 1; requests are sized by max_samples_per_send");
		return -EINVAL;
	}
	if ((c->tls.cert && *c->tls.cert) != (c->tls.key && *c->tls.key)) {
		snprintf(err, errlen, "tls: cert and key go together");
		return -EINVAL;
	}
	if (!c->basic_auth.user != !c->basic_auth.password_file) {
		snprintf(err, errlen, "basic_auth: user and password_file go together");
		return -EINVAL;
	}
	if (c->basic_auth.user && c->bearer_token_file) {
		snprintf(err, errlen, "bearer_token_file: not with basic_auth; choose one");
		return -EINVAL;
	}
	if (!*c->job) {
		snprintf(err, errlen, "job: empty (a series without job is hard to find)");
		return -EINVAL;
	}
	for (size_t i = 0; i < c->headers.n; i++) {
		if (!*c->headers.k[i] || strpbrk(c->headers.k[i], ":\r\n \t") ||
		    strpbrk(c->headers.v[i], "\r\n")) {
			snprintf(err, errlen, "headers.%s: not a valid header", c->headers.k[i]);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < c->external_labels.n; i++) {
		const char *k = c->external_labels.k[i];
		if (!label_name_ok(k) || !strcmp(k, "job") || !strcmp(k, "instance")) {
			snprintf(err, errlen,
				 "external_labels.%s: not a label name one may add ([a-zA-Z_]"
				 "[a-zA-Z0-9_]*, no leading __, not job or instance)",
				 k);
			return -EINVAL;
		}
		if (!*c->external_labels.v[i]) {
			snprintf(err, errlen, "external_labels.%s: empty value", k);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- what the workers share ---- */

struct rw_tp {
	const struct rw_cfg *c;
	const struct sb_codec *pb;
	char shown[512]; /* the URL without credentials */
	struct sb_rw_label *ext;
	size_t next;
	/* a Retry-After from the receiver: no request before (monotonic ns) */
	atomic_int_fast64_t not_before;
	/* for telemetry */
	atomic_uint_fast64_t skipped, stale, samples, requests, bytes;
};

static int ext_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sb_rw_label *)a)->name, ((const struct sb_rw_label *)b)->name);
}

static int tp_init(void **tpp, const struct sb_sink *s, char *err, size_t errlen)
{
	const struct rw_cfg *c = s->cfg;
	const char *why = NULL;
	int r = sb_http_lib_open(&why);
	if (!r) { /* both libraries now, so a missing one fails at start */
		struct sb_buf probe;
		sb_buf_init(&probe);
		r = sb_rw_snappy(&probe, "", 0, &why);
		sb_buf_free(&probe);
	}
	if (r) {
		snprintf(err, errlen, "%s", why);
		return r;
	}
	struct rw_tp *tp = calloc(1, sizeof(*tp));
	if (!tp)
		return -ENOMEM;
	tp->c = c;
	tp->pb = sb_codec_find("protobuf");
	sb_url_redact(c->url, tp->shown, sizeof(tp->shown));
	tp->next = c->external_labels.n;
	tp->ext = calloc(tp->next ? tp->next : 1, sizeof(*tp->ext));
	if (!tp->ext) {
		free(tp);
		return -ENOMEM;
	}
	for (size_t i = 0; i < tp->next; i++) {
		const char *k = c->external_labels.k[i], *v = c->external_labels.v[i];
		tp->ext[i] = (struct sb_rw_label){k, v, strlen(k), strlen(v), 0};
	}
	qsort(tp->ext, tp->next, sizeof(*tp->ext), ext_cmp);
	*tpp = tp;
	return 0;
}

static void tp_fini(void *tpp)
{
	struct rw_tp *tp = tpp;
	free(tp->ext);
	free(tp);
}

static const char *tp_target(void *tpp) { return ((struct rw_tp *)tpp)->shown; }

static int64_t tp_connect_timeout(void *tpp) { return ((struct rw_tp *)tpp)->c->timeout; }

/* ---- a worker's link ---- */

struct rw_link {
	struct rw_tp *tp;
	CURL *e;
	struct curl_slist *hdrs;
	char *password;
	struct sb_pbdec dec;
	struct sb_rw_conv conv;
	struct sb_buf req, body, resp;
	struct sb_ratelimit rl_rej;
	char errbuf[CURL_ERROR_SIZE];
};

/* The first line of a secret file; *out is wiped and freed by the caller. */
static int read_secret(const char *path, char **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);
	fclose(f);
	if (n <= 0) {
		free(line);
		snprintf(err, errlen, "%s: empty", path);
		return -EINVAL;
	}
	line[strcspn(line, "\r\n")] = 0;
	*out = line;
	return 0;
}

static void wipe_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static size_t on_resp(char *p, size_t size, size_t nmemb, void *arg)
{
	struct rw_link *l = arg;
	size_t n = size * nmemb;
	if (l->resp.len < RESP_KEEP)
		sb_buf_add(&l->resp, p, n < RESP_KEEP - l->resp.len ? n : RESP_KEEP - l->resp.len);
	return n;
}

static void tp_close(void *lp)
{
	struct rw_link *l = lp;
	if (!l)
		return;
	if (l->e)
		sym_curl_easy_cleanup(l->e);
	sb_slist_free_wiped(l->hdrs);
	wipe_free(l->password);
	sb_pbdec_free(&l->dec);
	sb_rw_conv_free(&l->conv);
	sb_buf_free(&l->req);
	sb_buf_free(&l->body);
	sb_buf_free(&l->resp);
	free(l);
}

static int add_header(struct rw_link *l, const char *h)
{
	struct curl_slist *n = sym_curl_slist_append(l->hdrs, h);
	if (!n)
		return -ENOMEM;
	l->hdrs = n;
	return 0;
}

static int set_headers(struct rw_link *l, char *err, size_t errlen)
{
	const struct rw_cfg *c = l->tp->c;
	static const char *const fixed[] = {
	    "Content-Encoding: snappy",
	    "Content-Type: application/x-protobuf",
	    "User-Agent: sensorbus/" SB_VERSION,
	    "X-Prometheus-Remote-Write-Version: 0.1.0",
	    "Expect:", /* no 100-continue round trip before each body */
	};
	int r = 0;
	for (size_t i = 0; i < SB_ARRAY_SIZE(fixed) && !r; i++)
		r = add_header(l, fixed[i]);
	for (size_t i = 0; i < c->headers.n && !r; i++) {
		char h[1024];
		snprintf(h, sizeof(h), "%s: %s", c->headers.k[i], c->headers.v[i]);
		r = add_header(l, h);
		explicit_bzero(h, sizeof(h));
	}
	if (!r && c->bearer_token_file) {
		char *tok = NULL;
		r = read_secret(c->bearer_token_file, &tok, err, errlen);
		if (r)
			return r;
		size_t n = strlen(tok) + 32;
		char *h = malloc(n);
		if (h) {
			snprintf(h, n, "Authorization: Bearer %s", tok);
			r = add_header(l, h);
			wipe_free(h);
		} else {
			r = -ENOMEM;
		}
		wipe_free(tok);
	}
	return r;
}

static int curl_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static int tp_connect(void *tpp, unsigned worker, void **out, char *err, size_t errlen)
{
	(void)worker;
	struct rw_tp *tp = tpp;
	const struct rw_cfg *c = tp->c;
	struct rw_link *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->tp = tp;
	sb_pbdec_init(&l->dec);
	sb_buf_init(&l->req);
	sb_buf_init(&l->body);
	sb_buf_init(&l->resp);
	l->conv = (struct sb_rw_conv){
	    .job = c->job, .instance = c->instance, .ext = tp->ext, .next = tp->next};
	sb_buf_init(&l->conv.val);
	int r = set_headers(l, err, errlen);
	if (!r && c->basic_auth.password_file)
		r = read_secret(c->basic_auth.password_file, &l->password, err, errlen);
	if (!r && !(l->e = sym_curl_easy_init()))
		r = -ENOMEM;
	if (r) {
		tp_close(l);
		return r;
	}
	CURL *e = l->e;
	long ms = (long)(c->timeout / SB_NSEC_PER_MSEC);
	sym_curl_easy_setopt(e, CURLOPT_URL, c->url);
	sym_curl_easy_setopt(e, CURLOPT_POST, 1L);
	sym_curl_easy_setopt(e, CURLOPT_HTTPHEADER, l->hdrs);
	sym_curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms ? ms : 1L);
	sym_curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms ? ms : 1L);
	sym_curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L); /* a sender thread: no SIGALRM */
	sym_curl_easy_setopt(e, CURLOPT_ERRORBUFFER, l->errbuf);
	sym_curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_resp);
	sym_curl_easy_setopt(e, CURLOPT_WRITEDATA, l);
	sym_curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->basic_auth.user) {
		sym_curl_easy_setopt(e, CURLOPT_USERNAME, c->basic_auth.user);
		sym_curl_easy_setopt(e, CURLOPT_PASSWORD, l->password);
	}
	if (c->tls.ca)
		sym_curl_easy_setopt(e, CURLOPT_CAINFO, c->tls.ca);
	if (c->tls.cert) {
		sym_curl_easy_setopt(e, CURLOPT_SSLCERT, c->tls.cert);
		sym_curl_easy_setopt(e, CURLOPT_SSLKEY, c->tls.key);
	}
	sym_curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->tls.verify ? 1L : 0L);
	sym_curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->tls.verify ? 2L : 0L);
	/* Reach the receiver now (TCP, and TLS for https), on a copy of the
	 * handle: an unreachable one is an outage the breaker and the replay
	 * see at connect, not a window that fails later. */
	CURL *probe = sym_curl_easy_duphandle(e);
	CURLcode cr =
	    probe ? sym_curl_easy_setopt(probe, CURLOPT_CONNECT_ONLY, 1L) : CURLE_OUT_OF_MEMORY;
	if (cr == CURLE_OK)
		cr = sym_curl_easy_perform(probe);
	if (probe)
		sym_curl_easy_cleanup(probe);
	if (cr != CURLE_OK) {
		snprintf(err, errlen, "%s", l->errbuf[0] ? l->errbuf : sym_curl_easy_strerror(cr));
		tp_close(l);
		return curl_errno(cr);
	}
	*out = l;
	return 0;
}

/* ---- publish ---- */

enum outcome { OUT_OK, OUT_REJECTED, OUT_RETRY, OUT_BROKEN };

/* The receiver's answer, one line, for a log: control bytes become spaces. */
static void quote_resp(const struct rw_link *l, char *out, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < l->resp.len && k + 1 < n; i++) {
		unsigned char ch = (unsigned char)l->resp.data[i];
		out[k++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
	}
	while (k && out[k - 1] == ' ')
		k--;
	out[k] = 0;
}

/* POSTs what req holds; *rc is the -errno of a transport failure. */
static enum outcome post(struct rw_link *l, size_t nsamples, int *rc, char *err, size_t errlen)
{
	struct rw_tp *tp = l->tp;
	const char *why = NULL;
	if (l->req.err) {
		snprintf(err, errlen, "cannot build the request: %s", strerror(-l->req.err));
		*rc = l->req.err;
		return OUT_BROKEN;
	}
	int r = sb_rw_snappy(&l->body, l->req.data, l->req.len, &why);
	if (r) {
		snprintf(err, errlen, "cannot compress the request: %s", why);
		*rc = r;
		return OUT_BROKEN;
	}
	sb_buf_reset(&l->resp);
	l->errbuf[0] = 0;
	sym_curl_easy_setopt(l->e, CURLOPT_POSTFIELDS, l->body.data);
	sym_curl_easy_setopt(l->e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)l->body.len);
	CURLcode cr = sym_curl_easy_perform(l->e);
	if (cr != CURLE_OK) {
		snprintf(err, errlen, "%s", l->errbuf[0] ? l->errbuf : sym_curl_easy_strerror(cr));
		*rc = curl_errno(cr);
		return OUT_BROKEN;
	}
	long status = 0;
	sym_curl_easy_getinfo(l->e, CURLINFO_RESPONSE_CODE, &status);
	atomic_fetch_add(&tp->requests, 1);
	if (status >= 200 && status < 300) {
		atomic_fetch_add(&tp->samples, nsamples);
		atomic_fetch_add(&tp->bytes, l->body.len);
		return OUT_OK;
	}
	char said[RESP_KEEP + 1];
	quote_resp(l, said, sizeof(said));
	snprintf(err, errlen, "HTTP %ld%s%s", status, said[0] ? ": " : "", said);
	if (status == 429 || status >= 500) {
		curl_off_t ra = 0;
		if (sym_curl_easy_getinfo(l->e, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0) {
			if (ra > 3600) /* a receiver's typo must not park the sink for days */
				ra = 3600;
			atomic_store(&tp->not_before,
				     sb_now_mono_ns() + (int64_t)ra * SB_NSEC_PER_SEC);
		}
		return OUT_RETRY;
	}
	return OUT_REJECTED;
}

struct pub {
	struct rw_link *l;
	struct sb_dmsg *const *msgs;
	size_t n;
	size_t lo;	 /* first message of the request being built; n: none */
	size_t nsamples; /* in it */
	int64_t sent_at;
	int rc;
	char *err;
	size_t errlen;
};

static void settle(struct pub *p, size_t from, size_t to, int state)
{
	int64_t now = sb_now_mono_ns();
	for (size_t i = from; i < to; i++) {
		struct sb_dmsg *m = p->msgs[i];
		if (m->state != SB_DMSG_PENDING)
			continue;
		m->state = state;
		m->sent_at = p->sent_at;
		m->acked_at = now;
		/* tag 1: not metrics; counted once its request went through */
		if (m->tag == 1 && state == SB_DMSG_ACKED)
			atomic_fetch_add(&p->l->tp->skipped, 1);
	}
}

/* Sends the request holding messages [lo, hi]; message hi goes on in the
 * next request when partial. false: stop, the rest failed. */
static bool flush(struct pub *p, size_t hi, bool partial, bool *drop_rest)
{
	struct rw_link *l = p->l;
	enum outcome o = OUT_OK;
	if (p->nsamples) {
		p->sent_at = sb_now_mono_ns();
		o = post(l, p->nsamples, &p->rc, p->err, p->errlen);
	}
	size_t lo = p->lo;
	p->lo = p->n;
	p->nsamples = 0;
	sb_buf_reset(&l->req);
	switch (o) {
	case OUT_OK:
		settle(p, lo, partial ? hi : hi + 1, SB_DMSG_ACKED);
		if (partial)
			p->lo = hi;
		return true;
	case OUT_REJECTED: {
		size_t k = 0;
		for (size_t i = lo; i <= hi; i++)
			k += p->msgs[i]->state == SB_DMSG_PENDING;
		settle(p, lo, hi + 1, SB_DMSG_REJECTED);
		sb_log_rl(&l->rl_rej, SB_LOG_WARN, COMP,
			  "%zu events rejected by %s, dropped (reason rejected): %s", k,
			  l->tp->shown, p->err);
		/* not an error of the window: the sender retries nothing */
		p->err[0] = 0;
		*drop_rest = partial;
		return true;
	}
	default:
		settle(p, lo, p->n, SB_DMSG_FAILED);
		return false;
	}
}

static void nap(int64_t ns)
{
	struct timespec ts = {(time_t)(ns / SB_NSEC_PER_SEC), (long)(ns % SB_NSEC_PER_SEC)};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int tp_publish(void *lp, struct sb_dmsg *const *msgs, size_t n, int64_t timeout, char *err,
		      size_t errlen)
{
	struct rw_link *l = lp;
	struct rw_tp *tp = l->tp;
	size_t max = (size_t)tp->c->max_samples_per_send;
	struct pub p = {.l = l, .msgs = msgs, .n = n, .lo = n, .err = err, .errlen = errlen};
	for (size_t i = 0; i < n; i++)
		if (msgs[i]->state != SB_DMSG_ACKED && msgs[i]->state != SB_DMSG_REJECTED) {
			msgs[i]->state = SB_DMSG_PENDING;
			msgs[i]->tag = 0;
		}
	/* The receiver asked for a pause: wait it out when it ends within
	 * this publish's time, else fail the window without a request (the
	 * sender backs off and the breaker counts it). */
	int64_t wait = atomic_load(&tp->not_before) - sb_now_mono_ns();
	if (wait > 0 && wait > timeout) {
		snprintf(err, errlen, "%s asked for a pause (Retry-After), %llds left", tp->shown,
			 (long long)(wait / SB_NSEC_PER_SEC) + 1);
		p.sent_at = sb_now_mono_ns();
		settle(&p, 0, n, SB_DMSG_FAILED);
		return 0;
	}
	if (wait > 0)
		nap(wait);
	sb_buf_reset(&l->req);
	for (size_t i = 0; i < n; i++) {
		struct sb_dmsg *m = msgs[i];
		if (m->state != SB_DMSG_PENDING)
			continue;
		struct sb_event *ev = NULL;
		if (m->codec != tp->pb || sb_pbdec_event(&l->dec, m->body, m->len, 0, &ev)) {
			/* spooled by another codec (a spool_dir shared with another
			 * sink), or corrupt within a valid checksum */
			m->state = SB_DMSG_REJECTED;
			sb_log_rl(&l->rl_rej, SB_LOG_WARN, COMP,
				  "event %.*s:%" PRIu64 " cannot be decoded, dropped (reason "
				  "rejected): %s",
				  (int)m->run.n, m->run.p, m->seq,
				  m->codec != tp->pb ? "not in the protobuf format" : l->dec.err);
			continue;
		}
		if (p.lo == n)
			p.lo = i;
		if (strcmp(ev->kind, "metrics")) {
			m->tag = 1;
			sb_event_unref(ev);
			continue;
		}
		uint32_t at = 0;
		uint64_t stale0 = l->conv.stale;
		bool drop_rest = false;
		while (at < ev->nsamples && !drop_rest) {
			int r = sb_rw_encode(&l->conv, &l->req, ev, l->dec.host.data, &at,
					     &p.nsamples, max);
			if (r)
				l->req.err = r;
			if (p.nsamples < max && !r)
				break;
			if (!flush(&p, i, at < ev->nsamples, &drop_rest)) {
				sb_event_unref(ev);
				return p.rc;
			}
		}
		atomic_fetch_add(&tp->stale, l->conv.stale - stale0);
		sb_event_unref(ev);
	}
	if (p.lo < n) {
		bool ignored;
		if (!flush(&p, n - 1, false, &ignored))
			return p.rc;
	}
	return 0;
}

/* ---- the sink ---- */

/* What only this transport knows, beside the delivery layer's metrics. */
static void rw_telemetry(struct sb_sink *s, struct sb_evb *b)
{
	sb_delivery_telemetry(s, b);
	struct rw_tp *tp = sb_delivery_transport_state(s);
	if (!tp)
		return;
	static const struct {
		const char *name;
		size_t off;
	} ctrs[] = {
	    {"sensorbus_remote_write_samples_total", offsetof(struct rw_tp, samples)},
	    {"sensorbus_remote_write_requests_total", offsetof(struct rw_tp, requests)},
	    {"sensorbus_remote_write_sent_bytes_total", offsetof(struct rw_tp, bytes)},
	    {"sensorbus_remote_write_skipped_events_total", offsetof(struct rw_tp, skipped)},
	    {"sensorbus_remote_write_stale_markers_total", offsetof(struct rw_tp, stale)},
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(ctrs); i++) {
		atomic_uint_fast64_t *v = (atomic_uint_fast64_t *)((char *)tp + ctrs[i].off);
		sb_evb_sample(b, ctrs[i].name, SB_COUNTER, (double)atomic_load(v));
		sb_evb_label(b, "sink", s->name);
	}
}

static const struct sb_transport_ops rw_transport = {
    .name = "remote_write",
    .init = tp_init,
    .fini = tp_fini,
    .target = tp_target,
    .connect = tp_connect,
    .close = tp_close,
    .publish = tp_publish,
    /* no fd: libcurl's own timeout ends every request */
    .connect_timeout = tp_connect_timeout,
};

const struct sb_sink_ops sb_sink_remote_write = {
    .name = "remote_write",
    .desc = "Prometheus remote write 1.0 (Prometheus, Mimir, Thanos, Cortex, VictoriaMetrics) on "
	    "the delivery layer: a disk spool, retries, a circuit breaker and ordered replay",
    .keys = rw_keys,
    .shared_keys = sb_delivery_keys,
    .format = "protobuf",
    .cfg_size = sizeof(struct rw_cfg),
    .transport = &rw_transport,
    .validate = rw_validate,
    .open = sb_delivery_open,
    .write = sb_delivery_write,
    .flush = sb_delivery_flush,
    .close = sb_delivery_close,
    .telemetry = rw_telemetry,
    .health = sb_delivery_health,
};
