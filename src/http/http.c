#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_log.h"
#include "sb_loop.h"

#define ERR_BODY_KEEP 512

struct sb_http {
	struct sb_loop *loop;
	CURLM *multi;
	struct sb_timer *timer;
	unsigned refs;
	struct sb_http *next;
};

CURL_FNS(SB_DL_DEFINE)
static const struct sb_dl_sym curl_syms[] = {CURL_FNS(SB_DL_ENTRY){0}};
static struct sb_dl_lib libcurl = {.soname = "libcurl.so.4", .syms = curl_syms};

/* libcurl brings GnuTLS along (through librtmp and libldap), whose
 * constructor initialises it as it loads: p11-kit modules and tables the
 * agent never uses, 0.8 MB resident. Whoever uses GnuTLS calls
 * gnutls_global_init() first (librtmp, libldap, a libcurl built on it),
 * so the implicit one is cost only. Before main: setenv is not safe once
 * threads read the environment. */
__attribute__((constructor)) static void no_gnutls_implicit_init(void)
{
	setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 0);
}

/* One client per loop. Only the loop's thread touches this list. */
static struct sb_http *clients;

static void check_done(struct sb_http *h);

static void on_fd(void *arg, int fd, uint32_t events)
{
	struct sb_http *h = arg;
	int flags = 0, running;
	if (events & SB_EV_READ)
		flags |= CURL_CSELECT_IN;
	if (events & SB_EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	if (events & SB_EV_ERROR)
		flags |= CURL_CSELECT_ERR;
	sym_curl_multi_socket_action(h->multi, fd, flags, &running);
	check_done(h);
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)e;
	struct sb_http *h = userp;
	if (what == CURL_POLL_REMOVE) {
		if (socketp) {
			sb_loop_del_fd(h->loop, s);
			sym_curl_multi_assign(h->multi, s, NULL);
		}
		return 0;
	}
	uint32_t ev = 0;
	if (what & CURL_POLL_IN)
		ev |= SB_EV_READ;
	if (what & CURL_POLL_OUT)
		ev |= SB_EV_WRITE;
	if (socketp)
		return sb_loop_mod_fd(h->loop, s, ev) ? -1 : 0;
	if (sb_loop_add_fd(h->loop, s, ev, on_fd, h))
		return -1;
	/* any non-NULL pointer marks the socket as known to the loop */
	sym_curl_multi_assign(h->multi, s, h);
	return 0;
}

/* curl asks for one timeout; the loop's timerfd holds it. Acting on it
 * from here would re-enter curl, so even "now" goes through the loop. */
static int on_curl_timer(CURLM *m, long ms, void *userp)
{
	(void)m;
	struct sb_http *h = userp;
	if (ms < 0)
		return sb_timer_set(h->timer, 0, 0) ? -1 : 0;
	return sb_timer_set(h->timer, ms ? (int64_t)ms * SB_NSEC_PER_MSEC : 1, 0) ? -1 : 0;
}

static void on_timer(void *arg)
{
	struct sb_http *h = arg;
	int running;
	sym_curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(h);
}

int sb_http_lib_open(const char **why)
{
	int r = sb_dl_open(&libcurl);
	if (r)
		*why = libcurl.why;
	return r;
}

struct sb_http *sb_http_acquire(struct sb_loop *loop)
{
	for (struct sb_http *h = clients; h; h = h->next) {
		if (h->loop == loop) {
			h->refs++;
			return h;
		}
	}
	if (sb_dl_open(&libcurl)) {
		sb_err("http", "%s: algod and scrape sensors need libcurl", libcurl.why);
		errno = -libcurl.err;
		return NULL;
	}
	if (sym_curl_global_init(CURL_GLOBAL_DEFAULT))
		return NULL;
	struct sb_http *h = calloc(1, sizeof(*h));
	if (!h)
		goto fail;
	h->loop = loop;
	h->refs = 1;
	h->multi = sym_curl_multi_init();
	h->timer = sb_timer_new(loop, on_timer, h);
	if (!h->multi || !h->timer)
		goto fail;
	sym_curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	sym_curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	sym_curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	sym_curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	h->next = clients;
	clients = h;
	return h;
fail:
	if (h) {
		if (h->multi)
			sym_curl_multi_cleanup(h->multi);
		sb_timer_free(h->timer);
		free(h);
	}
	sym_curl_global_cleanup();
	return NULL;
}

void sb_http_release(struct sb_http *h)
{
	if (!h || --h->refs)
		return;
	for (struct sb_http **pp = &clients; *pp; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	}
	/* closes the cached connections, telling on_socket: the loop lives on */
	sym_curl_multi_cleanup(h->multi);
	sb_timer_free(h->timer);
	free(h);
	sym_curl_global_cleanup();
}

void sb_http_req_init(struct sb_http_req *r)
{
	memset(r, 0, sizeof(*r));
	sb_buf_init(&r->body);
}

void sb_http_cancel(struct sb_http_req *r)
{
	if (r->busy) {
		sym_curl_multi_remove_handle(r->h->multi, r->easy);
		r->busy = false;
	}
}

void sb_http_req_free(struct sb_http_req *r)
{
	if (!r)
		return;
	sb_http_cancel(r);
	if (r->easy)
		sym_curl_easy_cleanup(r->easy);
	sb_buf_free(&r->body);
	r->easy = NULL;
}

static bool ok_status(long s) { return s >= 200 && s < 300; }

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct sb_http_req *r = userdata;
	size_t n = size * nmemb;
	long status = 0;
	sym_curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	r->bytes += n;
	if (!ok_status(status)) {
		/* An error page: keep its start to say what the server said, and
		 * read no further. The status is the answer; a huge or endless
		 * body must not hold the request until its timeout. */
		size_t room = ERR_BODY_KEEP - r->body.len;
		sb_buf_add(&r->body, ptr, n < room ? n : room);
		if (n < room)
			return n;
		r->error_page_cut = true;
		return 0;
	}
	if (r->bytes > r->max_body) {
		r->abort_err = -EFBIG;
		return 0;
	}
	if (r->on_body) {
		int e = r->on_body(r->arg, ptr, n, &r->abort_why);
		if (e < 0) {
			r->abort_err = e;
			return 0;
		}
		return n;
	}
	sb_buf_add(&r->body, ptr, n);
	if (r->body.err) {
		r->abort_err = -ENOMEM;
		return 0;
	}
	return n;
}

static int setup_easy(struct sb_http_req *r)
{
	if (!r->easy) {
		r->easy = sym_curl_easy_init();
		if (!r->easy)
			return -ENOMEM;
		CURL *e = r->easy;
		sym_curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		sym_curl_easy_setopt(e, CURLOPT_PRIVATE, r);
		sym_curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
		sym_curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
		sym_curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
		/* "": every encoding this libcurl decodes (gzip, deflate, ...) */
		sym_curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
		sym_curl_easy_setopt(e, CURLOPT_USERAGENT, "sensorbus/" SB_VERSION);
		sym_curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
		/* No redirects: curl would send our headers (the algod token, a
		 * target's Authorization) to whatever host a 3xx names. */
		sym_curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
		sym_curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	}
	CURL *e = r->easy;
	if (sym_curl_easy_setopt(e, CURLOPT_URL, r->url) != CURLE_OK)
		return -EINVAL;
	sym_curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	sym_curl_easy_setopt(
	    e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)((r->connect_timeout_ns + SB_NSEC_PER_MSEC - 1) / SB_NSEC_PER_MSEC));
	sym_curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
			     (long)((r->timeout_ns + SB_NSEC_PER_MSEC - 1) / SB_NSEC_PER_MSEC));
	sym_curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max_body);
	return 0;
}

int sb_http_start(struct sb_http *h, struct sb_http_req *r)
{
	if (r->busy)
		return -EBUSY;
	int err = setup_easy(r);
	if (err)
		return err;
	r->h = h;
	r->errbuf[0] = 0;
	r->abort_err = 0;
	r->abort_why = NULL;
	r->error_page_cut = false;
	r->bytes = 0;
	sb_buf_reset(&r->body);
	r->start_ns = sb_now_mono_ns();
	if (sym_curl_multi_add_handle(h->multi, r->easy) != CURLM_OK)
		return -ENOMEM;
	r->busy = true;
	return 0;
}

static int errno_of(CURLcode rc, const struct sb_http_req *r)
{
	switch (rc) {
	case CURLE_OK:
		return 0;
	case CURLE_WRITE_ERROR:
		return r->abort_err ? r->abort_err : -EIO;
	case CURLE_FILESIZE_EXCEEDED:
		return -EFBIG;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EINVAL;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EPROTO;
	}
}

static void finish(struct sb_http_req *r, CURLcode rc)
{
	struct sb_http_result res = {0};
	if (rc == CURLE_WRITE_ERROR && r->error_page_cut)
		rc = CURLE_OK; /* an answer all the same: its status says what went wrong */
	res.err = errno_of(rc, r);
	sym_curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.status);
	if (res.err == -EFBIG && !r->abort_why) {
		snprintf(r->errbuf, sizeof(r->errbuf), "body larger than %llu bytes",
			 (unsigned long long)r->max_body);
		r->abort_why = r->errbuf;
	}
	if (r->abort_err && r->abort_why)
		res.reason = r->abort_why;
	else if (rc != CURLE_OK)
		res.reason = r->errbuf[0] ? r->errbuf : sym_curl_easy_strerror(rc);
	else
		res.reason = "";
	curl_off_t ra = 0;
	if ((res.status == 429 || res.status == 503) &&
	    sym_curl_easy_getinfo(r->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
		res.retry_after_ns = (int64_t)ra * SB_NSEC_PER_SEC;
	res.bytes = r->bytes;
	res.duration_ns = sb_now_mono_ns() - r->start_ns;
	res.body = sb_buf_cstr(&r->body);
	res.body_len = r->body.len;
	r->on_done(r->arg, r, &res);
}

static void check_done(struct sb_http *h)
{
	CURLMsg *m;
	int left;
	while ((m = sym_curl_multi_info_read(h->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		/* m dies with remove_handle: take what we need first */
		CURL *e = m->easy_handle;
		CURLcode rc = m->data.result;
		struct sb_http_req *r = NULL;
		sym_curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
		sym_curl_multi_remove_handle(h->multi, e);
		r->busy = false;
		finish(r, rc);
	}
}

void sb_http_describe(const struct sb_http_result *res, char *out, size_t n)
{
	if (!res->err) {
		snprintf(out, n, "HTTP %ld", res->status);
		return;
	}
	const char *what;
	switch (res->err) {
	case -ETIMEDOUT:
		what = "timed out";
		break;
	case -ECONNREFUSED:
		what = "connection refused";
		break;
	case -EHOSTUNREACH:
		what = "host not found";
		break;
	case -EFBIG:
		what = "response too large";
		break;
	case -EINVAL:
		what = "bad URL";
		break;
	default:
		what = "request failed";
		break;
	}
	snprintf(out, n, "%s: %s", what, res->reason && *res->reason ? res->reason : "?");
}

void sb_url_redact(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://");
	const char *host = p ? p + 3 : url;
	size_t hl = strcspn(host, "/?#");
	const char *at = memrchr(host, '@', hl);
	if (!at) {
		snprintf(out, n, "%s", url);
		return;
	}
	snprintf(out, n, "%.*s%s", (int)(host - url), url, at + 1);
}
