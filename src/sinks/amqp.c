/* The amqp sink: events to a RabbitMQ topic exchange, at least once.
 *
 * A transport on the delivery layer (include/sb_delivery.h), which owns
 * the spool, retries, breaker, replay and accounting. What is AMQP's lives
 * here and in amqp_conn.c: the broker's address and credentials, the
 * exchange and routing key, publisher confirms on one channel per worker,
 * pipelined (send and poll): the broker always has a window to work on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amqp.h"
#include "sb_delivery.h"
#include "sb_sink.h"

struct amqp_cfg {
	struct sb_delivery_cfg d; /* first: the delivery layer's keys */
	char *url;
	char *credentials_file;
	char *exchange;
	char *routing_key;
	bool mandatory;
	int64_t connect_timeout;
	int64_t heartbeat;
	struct {
		char *ca;
		char *cert;
		char *key;
		bool verify;
	} tls;
};

#define TLS(f) (offsetof(struct amqp_cfg, tls.f) - offsetof(struct amqp_cfg, tls))
static const struct sb_cfg_key tls_keys[] = {
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
    {"url", SB_CT_STR, offsetof(struct amqp_cfg, url), "amqp://guest:guest@127.0.0.1:5672/",
     "broker URL, amqp:// or amqps:// (TLS); may hold credentials [secret]", .flags = SB_CK_TARGET},
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
     .sub = tls_keys},
    {0},
};

static int amqp_validate(const void *cfgp, char *err, size_t errlen)
{
	const struct amqp_cfg *c = cfgp;
	if (sb_delivery_validate(&c->d, err, errlen))
		return -EINVAL;
	if (sb_amqp_key_check(c->routing_key, err, errlen))
		return -EINVAL;
	if (strncmp(c->url, "amqp://", 7) && strncmp(c->url, "amqps://", 8)) {
		snprintf(err, errlen, "url: must start with amqp:// or amqps://");
		return -EINVAL;
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

static int tp_init(void **tp, const struct sb_sink *s, char *err, size_t errlen)
{
	const struct amqp_cfg *c = s->cfg;
	struct sb_amqp_target *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	int r = sb_amqp_target_parse(t, c->url, c->credentials_file, err, errlen);
	if (r) {
		free(t);
		return r;
	}
	t->tls_ca = c->tls.ca;
	t->tls_cert = c->tls.cert;
	t->tls_key = c->tls.key;
	t->tls_verify = c->tls.verify;
	t->connect_timeout = c->connect_timeout;
	t->heartbeat = (int)(c->heartbeat / SB_NSEC_PER_SEC);
	if (c->heartbeat && !t->heartbeat)
		t->heartbeat = 1;
	t->exchange = c->exchange;
	t->routing_key = c->routing_key;
	t->mandatory = c->mandatory;
	*tp = t;
	return 0;
}

static void tp_fini(void *tp)
{
	sb_amqp_target_free(tp);
	free(tp);
}

static const char *tp_target(void *tp) { return ((struct sb_amqp_target *)tp)->shown; }

static int tp_connect(void *tp, unsigned worker, void **link, char *err, size_t errlen)
{
	(void)worker;
	return sb_amqp_link_open((struct sb_amqp_link **)link, tp, err, errlen);
}

static void tp_close(void *link) { sb_amqp_link_close(link); }

static int tp_publish(void *link, struct sb_dmsg *const *msgs, size_t n, int64_t timeout, char *err,
		      size_t errlen)
{
	return sb_amqp_link_publish(link, msgs, n, timeout, err, errlen);
}

static int tp_send(void *link, struct sb_dmsg *const *msgs, size_t n, char *err, size_t errlen)
{
	return sb_amqp_link_send(link, msgs, n, err, errlen);
}

static int tp_poll(void *link, int64_t wait, char *err, size_t errlen)
{
	return sb_amqp_link_poll(link, wait, err, errlen);
}

static int tp_idle(void *link, char *err, size_t errlen)
{
	return sb_amqp_link_idle(link, err, errlen);
}

static int tp_fd(void *link) { return sb_amqp_link_fd(link); }

static int64_t tp_connect_timeout(void *tp)
{
	return ((struct sb_amqp_target *)tp)->connect_timeout;
}

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
};

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
    .telemetry = sb_delivery_telemetry,
    .health = sb_delivery_health,
};
