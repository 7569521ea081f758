/* Non-blocking HTTP GETs on the collection loop: one libcurl multi handle
 * per loop, shared by every sensor that scrapes (algod, scrape), its
 * sockets and timeout driven by the loop's epoll (CURLMOPT_SOCKETFUNCTION,
 * CURLMOPT_TIMERFUNCTION). Nothing here ever blocks: a dead, slow or lying
 * endpoint only ends its own request, with a reason.
 *
 * A request (struct sb_http_req) is owned by its sensor and reused round
 * after round: its curl handle, and the multi's connection cache, keep
 * connections alive between rounds. */
#ifndef SB_SCRAPE_HTTP_H
#define SB_SCRAPE_HTTP_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_backoff.h"
#include "sb_dl.h"
#include "sb_util.h"

/* libcurl is opened by the first sb_http_acquire (see sb_dl.h): an agent
 * without algod or scrape sensors never loads it. Call it through these. */
#define CURL_FNS(X)                                                                                \
	X(curl_easy_cleanup)                                                                       \
	X(curl_easy_duphandle)                                                                     \
	X(curl_easy_getinfo)                                                                       \
	X(curl_easy_init)                                                                          \
	X(curl_easy_perform)                                                                       \
	X(curl_easy_setopt)                                                                        \
	X(curl_easy_strerror)                                                                      \
	X(curl_global_cleanup)                                                                     \
	X(curl_global_init)                                                                        \
	X(curl_multi_add_handle)                                                                   \
	X(curl_multi_assign)                                                                       \
	X(curl_multi_cleanup)                                                                      \
	X(curl_multi_info_read)                                                                    \
	X(curl_multi_init)                                                                         \
	X(curl_multi_remove_handle)                                                                \
	X(curl_multi_setopt)                                                                       \
	X(curl_multi_socket_action)                                                                \
	X(curl_slist_append)                                                                       \
	X(curl_slist_free_all)
CURL_FNS(SB_DL_EXTERN)

struct sb_loop;
struct sb_http;

/* Opens libcurl for a user that calls it through the sym_ pointers
 * itself (a sender thread's blocking requests); 0, or -errno with why. */
int sb_http_lib_open(const char **why);

struct sb_http_result {
	int err;		/* 0: a response came (any status); else -errno of the failure */
	long status;		/* HTTP status, 0 when none came */
	const char *reason;	/* why err: curl's message, or the body sink's */
	int64_t retry_after_ns; /* Retry-After of a 429/503, 0 if none */
	uint64_t bytes;		/* body bytes received (decoded) */
	int64_t duration_ns;
	/* without on_body: the body (2xx); for any other status its first 512
	 * bytes, the rest left unread (with or without on_body) */
	const char *body;
	size_t body_len;
};

struct sb_http_req {
	/* set by the owner before sb_http_start */
	const char *url;
	struct curl_slist *headers; /* owned by the owner; may change between rounds */
	int64_t connect_timeout_ns;
	int64_t timeout_ns; /* the whole request */
	uint64_t max_body;  /* larger bodies fail with -EFBIG */
	/* Each chunk of a 2xx body; a negative return aborts the request with
	 * that error (reason from why). NULL: the body is collected. */
	int (*on_body)(void *arg, const char *p, size_t n, const char **why);
	void (*on_done)(void *arg, struct sb_http_req *r, const struct sb_http_result *res);
	void *arg;

	/* private */
	struct sb_http *h;
	CURL *easy;
	struct sb_buf body;
	bool busy;
	int abort_err;
	const char *abort_why;
	bool error_page_cut; /* stopped reading an error page past its start */
	uint64_t bytes;
	int64_t start_ns;
	char errbuf[CURL_ERROR_SIZE];
};

/* The loop's shared client, made on first use (opening libcurl); NULL on
 * failure, said in the log, with errno ELIBACC (or ENOSYS) when libcurl
 * cannot be loaded. */
struct sb_http *sb_http_acquire(struct sb_loop *loop);
void sb_http_release(struct sb_http *h);

void sb_http_req_init(struct sb_http_req *r);
/* Cancels the request if it is running (on_done is not called). */
void sb_http_req_free(struct sb_http_req *r);
/* Starts a GET of r->url; on_done is called from the loop when it ends.
 * -EBUSY while the previous one runs. */
int sb_http_start(struct sb_http *h, struct sb_http_req *r);
void sb_http_cancel(struct sb_http_req *r);

/* "HTTP 503", "timed out after 2000 ms", "connection refused: ..." */
void sb_http_describe(const struct sb_http_result *res, char *out, size_t n);
/* url without its user:password@ part, for logs. */
void sb_url_redact(const char *url, char *out, size_t n);

/* Notes a round's answer in b (include/sb_backoff.h): 429 and 5xx are
 * overload, their Retry-After honoured; no answer leaves it as it is. */
static inline void sb_http_backoff(struct sb_backoff *b, const struct sb_http_result *res,
				   int64_t interval_ns)
{
	sb_backoff_update(b, !res->err, res->status == 429 || res->status >= 500,
			  res->retry_after_ns, interval_ns);
}

#endif
