/* The algod sensor: an Algorand node watched through its REST port.
 *
 * Each round runs three requests at once on the shared HTTP client:
 * /metrics (Prometheus text, no token) parsed straight into the round's
 * event, /v2/status (JSON, needs the API token) and /ready (200 caught up,
 * 503 catching up). When all three have ended, the status and ready
 * samples and up/scrape_duration_seconds/scrape_samples_scraped are added
 * and the one event of the round is published.
 *
 * The address and token come from algod.net and algod.token in the data
 * directory, re-read whenever the files change (algod rewrites them when
 * it restarts). That directory is the algod user's, so both are read as
 * sb_fsafe.h says: no link followed, no FIFO waited on, and a token that
 * is not private to that user (or root) is not sent. The token lives only
 * in a header list that is wiped when replaced: it is never logged nor put
 * in an event. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../http/job.h"
#include "algod.h"
#include "sb_caps.h"
#include "sb_fsafe.h"
#include "sb_log.h"
#include "sb_loop.h"
#include "sb_sensor.h"

#define COMP "sensor:algod"
#define TARGET "algod"

static const struct sb_cfg_key algod_keys[] = {
    {"data_dir", SB_CT_STR, offsetof(struct algod_cfg, data_dir), "/var/lib/algorand",
     "algod's data directory: its address from algod.net, its token from algod.token",
     .flags = SB_CK_PATH},
    {"url", SB_CT_STR, offsetof(struct algod_cfg, url), NULL,
     "REST base URL (e.g. http://127.0.0.1:8080), instead of data_dir/algod.net"},
    {"token_file", SB_CT_STR, offsetof(struct algod_cfg, token_file), NULL,
     "file holding the API token, instead of data_dir/algod.token", .flags = SB_CK_PATH},
    {"admin_token_file", SB_CT_STR, offsetof(struct algod_cfg, admin_token_file), NULL,
     "file holding the admin token, for the participation keys, instead of "
     "data_dir/algod.admin.token",
     .flags = SB_CK_PATH},
    {"accounts", SB_CT_STRLIST, offsetof(struct algod_cfg, accounts), NULL,
     "addresses whose account health to watch, beside those of the node's participation keys"},
    {"compat", SB_CT_STRLIST, offsetof(struct algod_cfg, compat), NULL,
     "also emit another tool's names: \"algorand-monitoring\" (the community emitter's algod_*)"},
    {"procfs", SB_CT_STR, offsetof(struct algod_cfg, procfs), "/proc",
     "procfs root to read the algod process (from data_dir/algod.pid) under", .flags = SB_CK_PATH},
    {"timeout", SB_CT_DURATION, offsetof(struct algod_cfg, timeout), "2s",
     "longest a request may take (at most 90% of the interval)", .min = 0.001, .max = 3600},
    {"connect_timeout", SB_CT_DURATION, offsetof(struct algod_cfg, connect_timeout), "1s",
     "longest a connection may take to open (at most the timeout)", .min = 0.001, .max = 3600},
    {"limits", SB_CT_OBJ, offsetof(struct algod_cfg, limits), NULL, "bounds on the /metrics body",
     .sub = sb_prom_limit_keys},
    {0},
};

/* Says reason once when it changes; NULL: all is well again. */
static void once_note(struct algod *a, struct once *o, enum sb_log_level l, const char *what,
		      const char *reason)
{
	const char *desc = a->desc[0] ? a->desc : "algod";
	if (!reason) {
		if (o->last[0])
			sb_info(COMP, "%s: %s: working again", desc, what);
		o->last[0] = 0;
		return;
	}
	if (!strcmp(o->last, reason))
		return;
	snprintf(o->last, sizeof(o->last), "%s", reason);
	sb_log(l, COMP, "%s: %s: %s", desc, what, reason);
}

/* ---- the round ---- */

static void finish_round(struct algod *a);

void sb_algod_one_done(struct algod *a)
{
	if (--a->pending == 0)
		finish_round(a);
}

static void on_metrics(void *arg, struct sb_scrape_job *j)
{
	(void)j;
	sb_algod_one_done(arg);
}

/* A whole count (sb_algod_whole); a broken body's other number is named
 * and goes no further: these end up as int64 nanoseconds. */
static bool count(const cJSON *o, const char *k, bool need, double *out, char *why, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!v && !need)
		return true;
	double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
	if (!sb_algod_whole(d)) {
		snprintf(
		    why, n, "%s: %s", k,
		    v ? (cJSON_IsNumber(v) ? "not a whole number from 0 to 2^63" : "not a number")
		      : "missing");
		return false;
	}
	*out = d;
	return true;
}

static void str(const cJSON *o, const char *k, char *out, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	snprintf(out, n, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

int sb_algod_parse_status(const char *body, size_t len, struct sb_algod_status *st, char *why,
			  size_t whyn)
{
	cJSON *o = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		snprintf(why, whyn, "not a JSON object");
		return -EINVAL;
	}
	struct sb_algod_status t = {.ok = st->ok};
	double since = 0, catchup = 0;
	/* older nodes lack next-version-round */
	bool ok = count(o, "last-round", true, &t.last_round, why, whyn) &&
		  count(o, "time-since-last-round", true, &since, why, whyn) &&
		  count(o, "catchup-time", true, &catchup, why, whyn) &&
		  count(o, "next-version-round", false, &t.next_version_round, why, whyn);
	if (ok) {
		t.since_last_round = since / 1e9;
		t.catchup = catchup / 1e9;
		t.stopped = cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(o, "stopped-at-unsupported-round"));
		t.next_supported =
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "next-version-supported"));
		str(o, "last-version", t.last_version, sizeof(t.last_version));
		str(o, "next-version", t.next_version, sizeof(t.next_version));
		*st = t;
	}
	cJSON_Delete(o);
	return ok ? 0 : -EINVAL;
}

static void on_status(void *arg, struct sb_http_req *r, const struct sb_http_result *res)
{
	(void)r;
	struct algod *a = arg;
	a->err_status = res->err;
	a->status_res = *res;
	a->status_res.body = a->status_res.reason = NULL;
	if (!res->err && res->status == 200) {
		char why[200];
		if (sb_algod_parse_status(res->body, res->body_len, &a->st, why, sizeof(why)))
			snprintf(a->why_status, sizeof(a->why_status),
				 "/v2/status: not the JSON of a node status: %s", why);
		else
			a->st.ok = true;
	} else if (!res->err && (res->status == 401 || res->status == 403)) {
		snprintf(a->why_status, sizeof(a->why_status),
			 "/v2/status: token rejected (HTTP %ld): check %s", res->status,
			 a->api.file.path);
		sb_algod_token_rejected(&a->api);
	} else {
		char d[256];
		sb_http_describe(res, d, sizeof(d));
		snprintf(a->why_status, sizeof(a->why_status), "/v2/status: %s", d);
	}
	sb_algod_one_done(a);
}

static void on_ready(void *arg, struct sb_http_req *r, const struct sb_http_result *res)
{
	(void)r;
	struct algod *a = arg;
	a->err_ready = res->err;
	if (!res->err && (res->status == 200 || res->status == 503)) {
		a->ready = res->status == 200;
	} else {
		char d[256];
		sb_http_describe(res, d, sizeof(d));
		snprintf(a->why_ready, sizeof(a->why_ready), "/ready: %s", d);
	}
	sb_algod_one_done(a);
}

/* ---- versions, the compat names, the health of keys and accounts ---- */

/* Starts r; a request that cannot start says so in why (size n). */
bool sb_algod_start(struct algod *a, struct sb_http_req *r, const char *url, const char *what,
		    char *why, size_t n)
{
	r->url = url;
	int e = sb_http_start(a->http, r);
	if (e) {
		snprintf(why, n, "%s: cannot start the request: %s", what, strerror(-e));
		return false;
	}
	a->pending++;
	return true;
}

static void on_versions(void *arg, struct sb_http_req *r, const struct sb_http_result *res)
{
	(void)r;
	struct algod *a = arg;
	/* the labels keep the last version known; a failure shows in up
	 * through the other requests */
	if (!res->err && res->status == 200)
		sb_algod_parse_versions(res->body, res->body_len, a->version, sizeof(a->version),
					a->genesis, sizeof(a->genesis));
	sb_algod_one_done(a);
}

/* The node's name as node_uname_info has it (nodename), so the
 * dashboard's host variable finds these series. */
static void read_hostname(struct algod *a, char *out, size_t n)
{
	struct sb_buf b;
	sb_buf_init(&b);
	char why[256];
	if (sb_fsafe_read(a->hostname_path, 0, 256, &b, NULL, why, sizeof(why)) > 0) {
		snprintf(out, n, "%s", sb_trim((char *)sb_buf_cstr(&b)));
	} else {
		struct utsname u;
		snprintf(out, n, "%s", uname(&u) ? "" : u.nodename);
	}
	sb_buf_free(&b);
}

static void emit_compat(struct algod *a, struct sb_evb *b)
{
	char host[256], port[8] = "", why[256];
	read_hostname(a, host, sizeof(host));
	struct sb_buf t;
	sb_buf_init(&t);
	if (sb_fsafe_read(a->listen_path, 0, 512, &t, NULL, why, sizeof(why)) > 0)
		sb_algod_port_of(sb_trim((char *)sb_buf_cstr(&t)), port, sizeof(port));
	sb_buf_free(&t);
	struct sb_algod_view v = {
	    .host = host,
	    .data_dir = a->c->data_dir ? a->c->data_dir : "",
	    .version = a->version,
	    .genesis_id = a->genesis,
	    .port = port,
	    .st = &a->st,
	    .proc = &a->proc,
	    .now_real_ns = a->time_real,
	};
	sb_algod_compat_emit(b, &v);
}

/* Keys, accounts, the time per round and the process: what a node
 * runner's rewards depend on, added to the round's event. */
static void emit_health(struct algod *a, struct sb_evb *b, bool up)
{
	if (a->st.ok)
		sb_algod_rounds_note(&a->rounds, a->time_real, a->st.last_round,
				     a->st.since_last_round, a->st.catchup == 0 && a->ready == 1);
	double rd;
	if (sb_algod_rounds_avg(&a->rounds, &rd)) {
		sb_evb_sample(b, "algod_round_duration_seconds", SB_GAUGE, rd);
		sb_evb_help(b, "Recent average time per round, measured on this node.");
	}
	if (a->keys_ok)
		sb_algod_emit_keys(b, &a->keys, a->st.ok, a->st.last_round);
	for (size_t i = 0; i < a->nacct; i++)
		if (a->acct[i]->wanted && a->acct[i]->ok)
			sb_algod_emit_account(b, a->acct[i]->address, &a->acct[i]->v);
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	sb_algod_proc_read(&a->proc, sb_now_mono_ns(), ncpus > 0 ? (unsigned)ncpus : 0);
	sb_algod_proc_emit(b, &a->proc, a->time_real);
	if (a->compat)
		emit_compat(a, b);
	/* when algod itself failed, the round's own line says so */
	if (up) {
		bool absent = a->admin.err == -ENOENT && !a->admin.hdr;
		once_note(a, &a->once_keys, absent ? SB_LOG_INFO : SB_LOG_WARN,
			  "participation keys", a->why_keys[0] ? a->why_keys : NULL);
		once_note(a, &a->once_accounts, SB_LOG_WARN, "accounts",
			  a->why_accounts[0] ? a->why_accounts : NULL);
	}
	/* no algod.pid: algod is not running there, which up says already */
	once_note(a, &a->once_proc, a->proc.err == -ENOENT ? SB_LOG_INFO : SB_LOG_WARN,
		  "the algod process", a->proc.up ? NULL : a->proc.why);
}

static void emit_status(struct sb_evb *b, const struct sb_algod_status *st)
{
	sb_evb_sample(b, "algod_status_last_round", SB_GAUGE, st->last_round);
	sb_evb_sample(b, "algod_status_time_since_last_round_seconds", SB_GAUGE,
		      st->since_last_round);
	sb_evb_sample(b, "algod_status_catchup_seconds", SB_GAUGE, st->catchup);
	sb_evb_sample(b, "algod_status_next_version_round", SB_GAUGE, st->next_version_round);
	sb_evb_sample(b, "algod_status_stopped_at_unsupported_round", SB_GAUGE, st->stopped);
	sb_evb_sample(b, "algod_status_info", SB_GAUGE, 1);
	sb_evb_label(b, "last_version", st->last_version);
	sb_evb_label(b, "next_version", st->next_version);
	sb_evb_label(b, "next_version_supported", st->next_supported ? "true" : "false");
}

/* The reasons of a failed round in one line. algod down fails all three
 * requests alike: that is said once. */
static void round_reason(struct algod *a, char *out, size_t n)
{
	if (a->file_err[0]) {
		snprintf(out, n, "%s", a->file_err);
		return;
	}
	int e = a->metrics.res.err;
	if (e && e == a->err_status && e == a->err_ready) {
		snprintf(out, n, "%s", a->metrics.why);
		return;
	}
	const char *parts[] = {a->metrics.ok ? "" : a->metrics.why, a->why_status, a->why_ready};
	const char *paths[] = {"/metrics: ", "", ""};
	out[0] = 0;
	for (size_t i = 0; i < SB_ARRAY_SIZE(parts); i++) {
		if (!parts[i][0])
			continue;
		size_t l = strlen(out);
		snprintf(out + l, n - l, "%s%s%s", l ? "; " : "", paths[i], parts[i]);
	}
}

static void finish_round(struct algod *a)
{
	struct sb_sensor *s = a->s;
	struct sb_evb *b = &s->evb;
	bool up = !a->file_err[0] && a->metrics.ok && a->st.ok && a->ready >= 0;
	if (!a->metrics.ok) {
		/* what streamed in before the failure is not a scrape */
		sb_evb_begin(b, "algod", "metrics");
		sb_evb_time(b, a->time_real);
	} else if (a->metrics.note[0]) {
		sb_log_rl(&a->rl_note, SB_LOG_WARN, COMP, "%s/metrics: %s", a->desc,
			  a->metrics.note);
	}
	if (a->st.ok)
		emit_status(b, &a->st);
	if (a->ready >= 0)
		sb_evb_sample(b, "algod_ready", SB_GAUGE, a->ready);
	emit_health(a, b, up);
	sb_scrape_emit_meta(b, TARGET, up, sb_now_mono_ns() - a->start_mono, a->metrics.samples);
	/* /ready's 503 means catching up, not overloaded: it has no say */
	const struct sb_http_result *mr = &a->metrics.res;
	bool mr_overloaded = !mr->err && (mr->status == 429 || mr->status >= 500);
	sb_http_backoff(&a->backoff, mr_overloaded ? mr : &a->status_res, s->interval);
	char why[1024];
	if (!up) {
		round_reason(a, why, sizeof(why));
		s->errors++;
	}
	sb_scrape_health_report(&a->health, COMP, a->desc[0] ? a->desc : "algod", up ? NULL : why);
	a->running = false;
	sb_sensor_publish_evb(s);
	sb_sensor_round_done(s);
}

static void algod_collect(struct sb_sensor *s)
{
	struct algod *a = s->state;
	if (a->running) {
		sb_log_rl(&a->rl_busy, SB_LOG_WARN, COMP,
			  "%s: the previous round is still running; skipping this one", a->desc);
		return;
	}
	if (sb_backoff_skip(&a->backoff)) {
		sb_dbg(COMP, "%s: backing off after HTTP 429/5xx", a->desc);
		return;
	}
	a->running = true;
	a->pending = 1; /* this function's own, so no request ends the round early */
	a->start_mono = sb_now_mono_ns();
	a->time_real = sb_now_real_ns();
	a->why_status[0] = a->why_ready[0] = 0;
	a->err_status = a->err_ready = 0;
	a->metrics.res = a->status_res = (struct sb_http_result){0};
	a->st.ok = false;
	a->ready = -1;
	a->keys_ok = false;
	a->why_keys[0] = a->why_accounts[0] = 0;
	a->metrics.ok = false;
	a->metrics.why[0] = 0;
	a->metrics.samples = 0;
	sb_evb_begin(&s->evb, "algod", "metrics");
	sb_evb_time(&s->evb, a->time_real);
	if (!a->c->url)
		sb_algod_read_net(a);
	sb_algod_read_token(&a->api);
	sb_algod_read_token(&a->admin);
	a->status_req.headers = a->api.hdr;
	a->part_req.headers = a->admin.hdr;
	if (!a->file_err[0]) {
		int e = sb_scrape_job_start(a->http, &a->metrics, &s->evb);
		if (e)
			snprintf(a->metrics.why, sizeof(a->metrics.why),
				 "cannot start the request: %s", strerror(-e));
		else
			a->pending++;
		if (a->api.hdr)
			sb_algod_start(a, &a->status_req, a->url_status, "/v2/status",
				       a->why_status, sizeof(a->why_status));
		else
			snprintf(a->why_status, sizeof(a->why_status), "/v2/status: %s",
				 a->api.why);
		sb_algod_start(a, &a->ready_req, a->url_ready, "/ready", a->why_ready,
			       sizeof(a->why_ready));
		if (!a->admin.hdr)
			snprintf(a->why_keys, sizeof(a->why_keys),
				 "no participation key metrics without the admin token: %s",
				 a->admin.why);
		/* the accounts follow the keys: their addresses are the keys' */
		if (!a->admin.hdr ||
		    !sb_algod_start(a, &a->part_req, a->url_part, "/v2/participation", a->why_keys,
				    sizeof(a->why_keys)))
			sb_algod_start_accounts(a);
		/* a failure only leaves the version labels as they were */
		char ignored[128];
		if (a->compat)
			sb_algod_start(a, &a->versions_req, a->url_versions, "/versions", ignored,
				       sizeof(ignored));
	}
	sb_algod_one_done(a);
}

static char *path_in(const char *dir, const char *file)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return strdup(p);
}

static void algod_destroy(struct sb_sensor *s)
{
	struct algod *a = s->state;
	if (!a)
		return;
	sb_scrape_job_free(&a->metrics);
	sb_http_req_free(&a->status_req);
	sb_http_req_free(&a->ready_req);
	sb_http_req_free(&a->part_req);
	sb_http_req_free(&a->versions_req);
	sb_algod_accounts_free(a);
	sb_algod_token_free(&a->api);
	sb_algod_token_free(&a->admin);
	sb_http_release(a->http);
	free(a->net.path);
	free(a->pid_path);
	free(a->listen_path);
	free(a->hostname_path);
	free(a);
	s->state = NULL;
}

static int algod_init(struct sb_sensor *s)
{
	const struct algod_cfg *c = s->cfg;
	struct algod *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	s->state = a;
	a->s = s;
	a->c = c;
	a->ready = -1;
	a->http = sb_http_acquire(s->loop);
	if (!a->http) {
		int r = errno == ELIBACC || errno == ENOSYS ? -errno : -ENOMEM;
		algod_destroy(s);
		return r;
	}
	a->net.path = path_in(c->data_dir, "algod.net");
	a->api.file.path =
	    c->token_file ? strdup(c->token_file) : path_in(c->data_dir, "algod.token");
	a->admin.file.path = c->admin_token_file ? strdup(c->admin_token_file)
						 : path_in(c->data_dir, "algod.admin.token");
	a->pid_path = path_in(c->data_dir, "algod.pid");
	a->listen_path = path_in(c->data_dir, "algod-listen.net");
	a->hostname_path = path_in(c->procfs, "sys/kernel/hostname");
	if (!a->net.path || !a->api.file.path || !a->admin.file.path || !a->pid_path ||
	    !a->listen_path || !a->hostname_path) {
		algod_destroy(s);
		return -ENOMEM;
	}
	/* a round must end before the next one is due */
	int64_t timeout = c->timeout < s->interval * 9 / 10 ? c->timeout : s->interval * 9 / 10;
	if (timeout != c->timeout) {
		char was[32], now[32], iv[32];
		sb_fmt_duration(was, sizeof(was), c->timeout);
		sb_fmt_duration(now, sizeof(now), timeout);
		sb_fmt_duration(iv, sizeof(iv), s->interval);
		sb_warn(COMP, "timeout %s lowered to %s (at most 90%% of the interval %s)", was,
			now, iv);
	}
	int64_t ctimeout = c->connect_timeout < timeout ? c->connect_timeout : timeout;
	sb_scrape_job_init(&a->metrics);
	a->metrics.lim = c->limits;
	a->metrics.done = on_metrics;
	a->metrics.arg = a;
	a->metrics.req.url = a->url_metrics;
	sb_http_req_init(&a->status_req);
	sb_http_req_init(&a->ready_req);
	a->status_req.on_done = on_status;
	a->ready_req.on_done = on_ready;
	a->status_req.arg = a->ready_req.arg = a;
	a->status_req.max_body = 1 << 20;
	a->ready_req.max_body = 64 << 10;
	sb_http_req_init(&a->part_req);
	sb_http_req_init(&a->versions_req);
	a->part_req.on_done = sb_algod_on_participation;
	a->versions_req.on_done = on_versions;
	a->part_req.arg = a->versions_req.arg = a;
	a->part_req.max_body = 4 << 20; /* some 1.5 KiB a key */
	a->versions_req.max_body = 64 << 10;
	a->proc.pid_path = a->pid_path;
	a->proc.procfs = c->procfs;
	for (size_t i = 0; i < c->compat.n; i++)
		a->compat |= !strcmp(c->compat.v[i], "algorand-monitoring");
	struct sb_http_req *reqs[] = {&a->metrics.req, &a->status_req, &a->ready_req, &a->part_req,
				      &a->versions_req};
	for (size_t i = 0; i < SB_ARRAY_SIZE(reqs); i++) {
		reqs[i]->timeout_ns = timeout;
		reqs[i]->connect_timeout_ns = ctimeout;
	}
	if (c->url) {
		sb_algod_set_base(a, c->url);
	} else {
		sb_algod_read_net(a);
		if (a->file_err[0])
			sb_warn(COMP, "%s; will try again every round", a->file_err);
	}
	sb_algod_read_token(&a->api); /* a round says why it is missing, once */
	sb_algod_read_token(&a->admin);
	sb_info(COMP, "watching %s (token from %s, admin token from %s)",
		a->desc[0] ? a->desc : a->net.path, a->api.file.path, a->admin.file.path);
	return 0;
}

static int algod_validate(const void *cfg, char *err, size_t errlen)
{
	const struct algod_cfg *c = cfg;
	if (c->url && strncmp(c->url, "http://", 7) && strncmp(c->url, "https://", 8)) {
		snprintf(err, errlen, "url: \"%s\" is not an http:// or https:// URL", c->url);
		return -EINVAL;
	}
	if (!c->url && (!c->data_dir || !*c->data_dir)) {
		snprintf(err, errlen, "data_dir: needed unless url is set");
		return -EINVAL;
	}
	for (size_t i = 0; i < c->accounts.n; i++) {
		if (!sb_algod_address_ok(c->accounts.v[i])) {
			snprintf(err, errlen,
				 "accounts[%zu]: \"%.80s\" is not an Algorand address (58 "
				 "characters A-Z, 2-7)",
				 i, c->accounts.v[i]);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < c->compat.n; i++) {
		if (strcmp(c->compat.v[i], "algorand-monitoring")) {
			snprintf(err, errlen,
				 "compat[%zu]: unknown \"%.80s\" (known: \"algorand-monitoring\")",
				 i, c->compat.v[i]);
			return -EINVAL;
		}
	}
	return 0;
}

/* The token is read again whenever algod restarts; it belongs to algod's
 * user, mode 0600 or so. */
static uint64_t algod_caps(const void *cfg)
{
	(void)cfg;
	return SB_CAP(CAP_DAC_READ_SEARCH);
}

const struct sb_sensor_ops sb_sensor_algod = {
    .name = "algod",
    .desc = "an Algorand node: its /metrics, /v2/status, /ready, participation keys, accounts "
	    "and process, without blocking",
    .keys = algod_keys,
    .cfg_size = sizeof(struct algod_cfg),
    .default_interval = 5 * SB_NSEC_PER_SEC,
    .validate = algod_validate,
    .init = algod_init,
    .collect = algod_collect,
    .destroy = algod_destroy,
    .caps = algod_caps,
};
