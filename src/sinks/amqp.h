/* The amqp sink's parts: the broker link (amqp_conn.c: one connection and
 * one channel in confirm mode, owned by one worker thread) and the helpers
 * the unit tests reach. */
#ifndef SB_SINK_AMQP_H
#define SB_SINK_AMQP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_config.h"
#include "sb_delivery.h"

/* Where and how to connect; parsed once at open. */
struct sb_amqp_target {
	char *host;
	int port;
	char *vhost;
	char *user;
	char *password;
	bool tls;
	const char *tls_ca, *tls_cert, *tls_key;
	bool tls_verify;
	int64_t connect_timeout;
	int heartbeat; /* seconds, 0: off */
	const char *exchange;
	const char *routing_key; /* template, see sb_amqp_key_render */
	bool mandatory;
	char shown[512]; /* the URL with the password masked, for logs */
};

/* The `tls` object of the sink's and the sensor's configs. */
struct sb_amqp_tls_cfg {
	char *ca;
	char *cert;
	char *key;
	bool verify;
};
extern const struct sb_cfg_key sb_amqp_tls_keys[];
void sb_amqp_tls_apply(struct sb_amqp_target *t, const struct sb_amqp_tls_cfg *c);

/* Whether an amqp sink's config (cfg) publishes into exchange on one of
 * urls (none: dflt) with a routing key binding may match; the key, each
 * placeholder rendered as '*' (any one word), goes to key. */
bool sb_amqp_sink_feeds(const void *cfg, const char *exchange, const struct sb_strlist *urls,
			const char *dflt, const char *binding, char *key, size_t keylen);

/* Topic matching as RabbitMQ does it: '*' one word, '#' zero or more. */
bool sb_amqp_topic_match(const char *pattern, const char *key);
/* Whether some key of this form matches: each '*' word of key stands for
 * any one word (a routing key template's placeholders). */
bool sb_amqp_topic_may_match(const char *pattern, const char *key);

/* Parses url (amqp:// or amqps://); credentials_file, if given, holds
 * "user:password" on its first line and overrides the URL's. */
int sb_amqp_target_parse(struct sb_amqp_target *t, const char *url, const char *credentials_file,
			 char *err, size_t errlen);
void sb_amqp_target_free(struct sb_amqp_target *t);

struct sb_amqp_link;

/* Connects, logs in, opens channel 1 in confirm mode and declares the
 * durable topic exchange. On failure err says what and where. */
int sb_amqp_link_open(struct sb_amqp_link **out, const struct sb_amqp_target *t, char *err,
		      size_t errlen);
void sb_amqp_link_close(struct sb_amqp_link *l);
/* Publishes msgs (those UNSENT or FAILED) without waiting: each is PENDING
 * until sb_amqp_link_poll reads its confirm. Returns 0 while the link stays
 * usable, else -errno: the link is broken and must be closed. */
int sb_amqp_link_send(struct sb_amqp_link *l, struct sb_dmsg *const *msgs, size_t n, char *err,
		      size_t errlen);
/* Reads confirms (and returns) for up to wait, settling the messages sent;
 * returns once some came, or the wait is over. 0, or -errno as above. */
int sb_amqp_link_poll(struct sb_amqp_link *l, int64_t wait, char *err, size_t errlen);
/* Both: publishes msgs (those neither ACKED nor REJECTED) and waits up to
 * timeout for their confirms. Each message ends ACKED or not. */
int sb_amqp_link_publish(struct sb_amqp_link *l, struct sb_dmsg *const *msgs, size_t n,
			 int64_t timeout, char *err, size_t errlen);
/* Reads what the broker sent while idle (heartbeats, a close). <0: broken. */
int sb_amqp_link_idle(struct sb_amqp_link *l, char *err, size_t errlen);
/* For the watchdog: shutting it down unblocks a stuck send. */
int sb_amqp_link_fd(const struct sb_amqp_link *l);

/* Routing keys: a template with {host} {source} {kind} {run}; dots in the
 * values become '_' so each stays one word of the topic. */
int sb_amqp_key_check(const char *tmpl, char *err, size_t errlen);
size_t sb_amqp_key_render(char *out, size_t n, const char *tmpl, struct sb_dstr host,
			  struct sb_dstr source, struct sb_dstr kind, struct sb_dstr run);

/* Failover over several endpoints (amqp_fleet.c). Per worker: where its
 * next connect starts, the endpoint of its last link and (read by the
 * telemetry, an atomic) the one it is connected to now, -1 for none. */
struct sb_amqp_fleet_worker {
	unsigned next;
	int last;
	atomic_int cur;
};
struct sb_amqp_fleet {
	unsigned n, nworkers;
	struct sb_amqp_fleet_worker *w;
	atomic_uint_fast64_t *failures; /* per endpoint: failed connects, broken links */
	atomic_uint_fast64_t failovers; /* links on another endpoint than the last */
};
/* The endpoint worker starts at: spread by host name and worker index. */
unsigned sb_amqp_fleet_first(const char *host, unsigned worker, unsigned n);
int sb_amqp_fleet_init(struct sb_amqp_fleet *f, unsigned nendpoints, unsigned nworkers,
		       const char *host);
void sb_amqp_fleet_free(struct sb_amqp_fleet *f);
/* Connects endpoint ep, or says why not in err; 0 or -errno. */
typedef int (*sb_amqp_try_fn)(void *ctx, unsigned ep, char *err, size_t errlen);
/* One round: tries each endpoint once from the worker's current one until
 * one connects (*ep); fails, with every endpoint's reason in err, only when
 * all did. */
int sb_amqp_fleet_connect(struct sb_amqp_fleet *f, unsigned worker, sb_amqp_try_fn try_ep,
			  void *ctx, unsigned *ep, char *err, size_t errlen);
/* The worker's link closed (broke: the transport saw it fail); its next
 * round starts at the next endpoint. */
void sb_amqp_fleet_closed(struct sb_amqp_fleet *f, unsigned worker, bool broke);

/* The last key rendered and copies of the values it came from: a window's
 * messages are mostly one sensor's, so a link renders a key only when the
 * values change (compared by content: they live in reused read buffers). */
struct sb_amqp_key_cache {
	char key[256];
	size_t len;
	char val[4][255];
	unsigned char vlen[4];
	bool valid;
};
/* The key for these values (one template per cache); *key points into the
 * cache until its next call. */
size_t sb_amqp_key_cached(struct sb_amqp_key_cache *c, const char *tmpl, struct sb_dstr host,
			  struct sb_dstr source, struct sb_dstr kind, struct sb_dstr run,
			  const char **key);

#endif
