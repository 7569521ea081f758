/* The amqp sensor: the consuming side of a fleet. It takes other agents'
 * events off a RabbitMQ queue (declared when absent: quorum, classic or
 * stream, bound to the exchange) and publishes each on this agent's bus
 * unchanged (their own seq, run and host), so its sinks write, serve or
 * send them on as the agent that made them would have.
 *
 * At least once, end to end: a delivery is acked (multiple) only once
 * every sink made all of its events durable (sb_bus_durable); a crash
 * before that means the broker delivers it again. Events seen already
 * (host, run, seq) within dedup_window are dropped and counted. A message
 * that does not decode is rejected without requeue (dead-lettered where
 * the queue has a dead-letter exchange), counted, and logged at most once
 * a minute: it never loops.
 *
 * On the loop: the broker's socket wakes it, and a short tick reads what
 * librabbitmq already buffered, acks what became durable, and reconnects.
 * Connecting (TCP, AMQP handshake, declarations) blocks for at most
 * connect_timeout per endpoint; it fails over across urls like the sink
 * (amqp_fleet.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sinks/amqp.h"
#include "../sinks/amqp_lib.h"
#include "amqp_consumer.h"
#include "sb_bus.h"
#include "sb_delivery.h"
#include "sb_log.h"
#include "sb_loop.h"
#include "sb_sensor.h"
#include "sb_sink.h"

#define COMP "amqp"
#define DEFAULT_URL "amqp://guest:guest@127.0.0.1:5672/"
#define TICK (10 * SB_NSEC_PER_MSEC)
/* Messages read per wakeup before the loop serves others. */
#define BUDGET 512
/* At shutdown, how long to wait for the sinks to make the last events
 * durable so their deliveries can be acked (else: delivered again). */
#define FINAL_ACK_WAIT (5 * SB_NSEC_PER_SEC)
#define MAX_ORIGINS 65536

static const char *const queue_types[] = {"quorum", "classic", "stream", NULL};

struct consumer_cfg {
	struct sb_strlist urls;
	char *credentials_file;
	char *exchange;
	char *queue;
	int queue_type;
	char *dead_letter_exchange;
	struct sb_strlist bindings;
	int64_t prefetch;
	int64_t dedup_window;
	int64_t connect_timeout;
	int64_t heartbeat;
	struct sb_amqp_tls_cfg tls;
};

static const struct sb_cfg_key consumer_keys[] = {
    {"urls", SB_CT_STRLIST, offsetof(struct consumer_cfg, urls), NULL,
     "the cluster's nodes (broker URLs, amqp:// or amqps://): connects to one, fails over to "
     "the next; without it, " DEFAULT_URL " [secret]",
     .flags = SB_CK_TARGET},
    {"credentials_file", SB_CT_STR, offsetof(struct consumer_cfg, credentials_file), NULL,
     "file whose first line is user:password; overrides the URLs' credentials",
     .flags = SB_CK_PATH},
    {"exchange", SB_CT_STR, offsetof(struct consumer_cfg, exchange), "sensorbus",
     "durable topic exchange the agents publish to, declared at connect"},
    {"queue", SB_CT_STR, offsetof(struct consumer_cfg, queue), "sensorbus",
     "queue to consume; competing consumers share one"},
    {"queue_type", SB_CT_ENUM, offsetof(struct consumer_cfg, queue_type), "quorum",
     "the queue's type when it is declared (absent): quorum (replicated), classic or stream",
     .choices = queue_types},
    {"dead_letter_exchange", SB_CT_STR, offsetof(struct consumer_cfg, dead_letter_exchange), NULL,
     "where rejected (undecodable) messages go, set when the queue is declared"},
    {"bindings", SB_CT_STRLIST, offsetof(struct consumer_cfg, bindings), "sensorbus.#",
     "routing key patterns binding the queue to the exchange"},
    {"prefetch", SB_CT_INT, offsetof(struct consumer_cfg, prefetch), "256",
     "unacked deliveries the broker may send ahead (basic.qos)", .min = 1, .max = 65535},
    {"dedup_window", SB_CT_INT, offsetof(struct consumer_cfg, dedup_window), "100000",
     "events remembered per origin (host, run) to drop duplicates", .min = 64, .max = 1e9},
    {"connect_timeout", SB_CT_DURATION, offsetof(struct consumer_cfg, connect_timeout), "5s",
     "TCP connect, TLS and AMQP handshake limit per endpoint", .min = 0.001, .max = 3600},
    {"heartbeat", SB_CT_DURATION, offsetof(struct consumer_cfg, heartbeat), "30s",
     "AMQP heartbeat (0: off)", .min = 0, .max = 3600},
    {"tls", SB_CT_OBJ, offsetof(struct consumer_cfg, tls), NULL, "TLS settings for amqps:// URLs",
     .sub = sb_amqp_tls_keys},
    {0},
};

struct consumer {
	struct sb_sensor *s;
	const struct consumer_cfg *c;
	struct sb_amqp_target *t;
	unsigned n;
	struct sb_amqp_fleet fleet;
	amqp_connection_state_t conn;
	amqp_channel_t ch;
	int fd;
	unsigned ep;
	int64_t retry_at;
	unsigned rounds_failed;
	struct sb_timer *kick;
	struct sb_acks acks;
	struct sb_dedup dedup;
	struct sb_msgdec dec;
	uint64_t messages, events, duplicates, rejected, acks_sent, acked_messages, unacked;
	struct sb_ratelimit rl_bad, rl_conn;
};

static int consumer_validate(const void *cfgp, char *err, size_t errlen)
{
	const struct consumer_cfg *c = cfgp;
	for (size_t i = 0; i < c->urls.n; i++)
		if (strncmp(c->urls.v[i], "amqp://", 7) && strncmp(c->urls.v[i], "amqps://", 8)) {
			snprintf(err, errlen, "urls[%zu]: must start with amqp:// or amqps://", i);
			return -EINVAL;
		}
	if (!*c->exchange || !*c->queue) {
		snprintf(err, errlen, "%s: must not be empty", *c->queue ? "exchange" : "queue");
		return -EINVAL;
	}
	if (!c->bindings.n) {
		snprintf(err, errlen, "bindings: at least one routing key pattern");
		return -EINVAL;
	}
	if ((c->tls.cert && *c->tls.cert) != (c->tls.key && *c->tls.key)) {
		snprintf(err, errlen, "tls: cert and key go together");
		return -EINVAL;
	}
	return 0;
}

/* ---- the session ---- */

static amqp_table_entry_t str_arg(const char *k, const char *v)
{
	amqp_table_entry_t e;
	e.key = sym_amqp_cstring_bytes(k);
	e.value.kind = AMQP_FIELD_KIND_UTF8;
	e.value.value.bytes = sym_amqp_cstring_bytes(v);
	return e;
}

/* The queue as it is, or declared (with its type) when absent: a passive
 * declare that finds none closes its channel, so the rest goes on a new
 * one. */
static int declare(struct consumer *k, char *err, size_t errlen)
{
	const struct consumer_cfg *c = k->c;
	amqp_connection_state_t conn = k->conn;
	amqp_bytes_t q = sym_amqp_cstring_bytes(c->queue);
	k->ch = 1;
	sym_amqp_exchange_declare(conn, k->ch, sym_amqp_cstring_bytes(c->exchange),
				  sym_amqp_cstring_bytes("topic"), 0, 1, 0, 0,
				  *sym_amqp_empty_table);
	if (!sb_amqp_reply_ok(conn, "exchange.declare", err, errlen))
		return -EPROTO;
	sym_amqp_queue_declare(conn, k->ch, q, 1, 0, 0, 0, *sym_amqp_empty_table);
	amqp_rpc_reply_t x = sym_amqp_get_rpc_reply(conn);
	if (x.reply_type != AMQP_RESPONSE_NORMAL) {
		if (x.reply_type != AMQP_RESPONSE_SERVER_EXCEPTION ||
		    x.reply.id != AMQP_CHANNEL_CLOSE_METHOD) {
			sb_amqp_describe_reply(x, "queue.declare (passive)", err, errlen);
			return -EPROTO;
		}
		amqp_channel_close_ok_t ok = {0};
		sym_amqp_send_method(conn, k->ch, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
		k->ch = 2;
		sym_amqp_channel_open(conn, k->ch);
		if (!sb_amqp_reply_ok(conn, "channel.open", err, errlen))
			return -EPROTO;
		amqp_table_entry_t e[2];
		int ne = 0;
		e[ne++] = str_arg("x-queue-type", queue_types[c->queue_type]);
		if (c->dead_letter_exchange && *c->dead_letter_exchange)
			e[ne++] = str_arg("x-dead-letter-exchange", c->dead_letter_exchange);
		amqp_table_t args = {.num_entries = ne, .entries = e};
		sym_amqp_queue_declare(conn, k->ch, q, 0, 1, 0, 0, args);
		if (!sb_amqp_reply_ok(conn, "queue.declare", err, errlen))
			return -EPROTO;
		sb_info(COMP, "declared %s queue %s", queue_types[c->queue_type], c->queue);
	}
	for (size_t i = 0; i < c->bindings.n; i++) {
		sym_amqp_queue_bind(conn, k->ch, q, sym_amqp_cstring_bytes(c->exchange),
				    sym_amqp_cstring_bytes(c->bindings.v[i]),
				    *sym_amqp_empty_table);
		if (!sb_amqp_reply_ok(conn, "queue.bind", err, errlen))
			return -EPROTO;
	}
	sym_amqp_basic_qos(conn, k->ch, 0, (uint16_t)c->prefetch, 0);
	if (!sb_amqp_reply_ok(conn, "basic.qos", err, errlen))
		return -EPROTO;
	sym_amqp_basic_consume(conn, k->ch, q, *sym_amqp_empty_bytes, 0, 0, 0,
			       *sym_amqp_empty_table);
	if (!sb_amqp_reply_ok(conn, "basic.consume", err, errlen))
		return -EPROTO;
	return 0;
}

static void on_readable(void *arg, int fd, uint32_t events);

static int try_endpoint(void *ctx, unsigned ep, char *err, size_t errlen)
{
	struct consumer *k = ctx;
	int r = sb_amqp_session_open(&k->conn, &k->t[ep], err, errlen);
	if (r)
		return r;
	r = declare(k, err, errlen);
	if (!r) {
		k->fd = sym_amqp_get_sockfd(k->conn);
		r = sb_loop_add_fd(k->s->loop, k->fd, SB_EV_READ, on_readable, k);
		if (r)
			snprintf(err, errlen, "cannot watch the socket: %s", strerror(-r));
	}
	if (r) {
		sym_amqp_destroy_connection(k->conn);
		k->conn = NULL;
		k->fd = -1;
	}
	return r;
}

static void connect_now(struct consumer *k)
{
	char err[1024];
	int r = sb_amqp_fleet_connect(&k->fleet, 0, try_endpoint, k, &k->ep, err, sizeof(err));
	if (!r) {
		k->rounds_failed = 0;
		sb_info(COMP, "consuming queue %s on %s (prefetch %lld)", k->c->queue,
			k->t[k->ep].shown, (long long)k->c->prefetch);
		return;
	}
	k->s->errors++;
	/* a whole round failed: back off, 100 ms doubling up to 5 s */
	unsigned sh = k->rounds_failed < 6 ? k->rounds_failed : 6;
	int64_t d = (100 * SB_NSEC_PER_MSEC) << sh;
	k->retry_at = sb_now_mono_ns() + (d < 5 * SB_NSEC_PER_SEC ? d : 5 * SB_NSEC_PER_SEC);
	k->rounds_failed++;
	sb_log_rl(&k->rl_conn, SB_LOG_ERROR, COMP, "queue %s: cannot consume: %s", k->c->queue,
		  err);
}

/* The link is gone: what it held unacked the broker delivers again (to us
 * or another consumer); the next connect starts at the next endpoint. */
static void broken(struct consumer *k, const char *why)
{
	sb_warn(COMP, "queue %s: lost %s: %s; %llu deliveries unacked will come again", k->c->queue,
		k->t[k->ep].shown, why, (unsigned long long)k->acks.n);
	sb_loop_del_fd(k->s->loop, k->fd);
	sym_amqp_destroy_connection(k->conn);
	k->conn = NULL;
	k->fd = -1;
	sb_acks_reset(&k->acks);
	sb_amqp_fleet_closed(&k->fleet, 0, true);
	k->retry_at = 0;
}

/* ---- deliveries ---- */

static void take_event(void *arg, struct sb_event *ev)
{
	struct consumer *k = arg;
	int d = sb_dedup_seen(&k->dedup, ev->ohost, ev->orun, ev->oseq);
	if (d > 0) {
		k->duplicates++;
		sb_event_unref(ev);
		return;
	}
	k->events++;
	if (sb_sensor_publish(k->s, ev) == -ESHUTDOWN)
		k->s->errors++;
}

static void bytes_cstr(char *out, size_t n, amqp_bytes_t b)
{
	size_t l = b.len < n - 1 ? b.len : n - 1;
	if (l)
		memcpy(out, b.bytes, l);
	out[l] = 0;
}

static int on_delivery(struct consumer *k, amqp_envelope_t *env)
{
	amqp_basic_properties_t *p = &env->message.properties;
	char ct[128] = "", type[128] = "";
	if (p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
		bytes_cstr(ct, sizeof(ct), p->content_type);
	if (p->_flags & AMQP_BASIC_TYPE_FLAG)
		bytes_cstr(type, sizeof(type), p->type);
	k->messages++;
	int r = sb_msgdec_decode(&k->dec, ct, type, env->message.body.bytes, env->message.body.len,
				 take_event, k);
	if (r) {
		k->rejected++;
		sb_log_rl(&k->rl_bad, SB_LOG_WARN, COMP,
			  "queue %s: rejected message %llu (routing key %.*s, %zu bytes): %s",
			  k->c->queue, (unsigned long long)env->delivery_tag,
			  (int)env->routing_key.len, (char *)env->routing_key.bytes,
			  env->message.body.len, k->dec.err);
		if (sym_amqp_basic_reject(k->conn, k->ch, env->delivery_tag, 0))
			return -EIO;
		return 0;
	}
	/* acked once the bus made everything published so far durable */
	return sb_acks_push(&k->acks, env->delivery_tag, sb_bus_last_seq(k->s->bus));
}

static void ack_durable(struct consumer *k)
{
	if (!k->conn || !k->acks.n)
		return;
	size_t before = k->acks.n;
	uint64_t tag = sb_acks_due(&k->acks, sb_bus_durable(k->s->bus));
	if (!tag)
		return;
	if (sym_amqp_basic_ack(k->conn, k->ch, tag, 1)) {
		broken(k, "cannot send basic.ack");
		return;
	}
	k->acks_sent++;
	k->acked_messages += before - k->acks.n;
}

/* A frame other than a delivery: the broker closing something, or
 * cancelling the consumer (its queue deleted). */
static int other_frame(struct consumer *k, char *why, size_t n)
{
	amqp_frame_t f;
	if (sym_amqp_simple_wait_frame(k->conn, &f) != AMQP_STATUS_OK) {
		snprintf(why, n, "cannot read a frame");
		return -EIO;
	}
	if (f.frame_type != AMQP_FRAME_METHOD)
		return 0;
	switch (f.payload.method.id) {
	case AMQP_CHANNEL_CLOSE_METHOD:
	case AMQP_CONNECTION_CLOSE_METHOD: {
		amqp_rpc_reply_t x = {.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION,
				      .reply = f.payload.method};
		sb_amqp_describe_reply(x, "broker", why, n);
		return -EPIPE;
	}
	case AMQP_BASIC_CANCEL_METHOD:
		snprintf(why, n, "the broker cancelled the consumer (queue deleted?)");
		return -EPIPE;
	default:
		return 0;
	}
}

static bool buffered(struct consumer *k)
{
	return k->conn && (sym_amqp_data_in_buffer(k->conn) || sym_amqp_frames_enqueued(k->conn));
}

static void pump(struct consumer *k)
{
	char why[512];
	for (int i = 0; k->conn && i < BUDGET; i++) {
		/* the sinks' queues set the pace: what is not read stays in
		 * the broker, within prefetch */
		if (sb_bus_room(k->s->bus) < 1024)
			break;
		amqp_envelope_t env;
		struct timeval tv = {0, 0};
		sym_amqp_maybe_release_buffers(k->conn);
		amqp_rpc_reply_t x = sym_amqp_consume_message(k->conn, &env, &tv, 0);
		if (x.reply_type == AMQP_RESPONSE_NORMAL) {
			int r = on_delivery(k, &env);
			sym_amqp_destroy_envelope(&env);
			if (r) {
				broken(k,
				       r == -ENOMEM ? "out of memory" : "cannot send basic.reject");
				return;
			}
			continue;
		}
		if (x.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
		    x.library_error == AMQP_STATUS_TIMEOUT)
			break;
		if (x.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
		    x.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
			if (other_frame(k, why, sizeof(why))) {
				broken(k, why);
				return;
			}
			continue;
		}
		sb_amqp_describe_reply(x, "basic.consume", why, sizeof(why));
		broken(k, why);
		return;
	}
	ack_durable(k);
	/* read into librabbitmq's buffer already: the socket will not wake us */
	if (buffered(k))
		sb_timer_set(k->kick, 1, 0);
}

static void on_readable(void *arg, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	pump(arg);
}

static void on_kick(void *arg) { pump(arg); }

/* ---- the sensor ---- */

static void consumer_destroy(struct sb_sensor *s);

static int consumer_init(struct sb_sensor *s)
{
	const struct consumer_cfg *c = s->cfg;
	struct consumer *k = calloc(1, sizeof(*k));
	char err[512];
	if (!k)
		return -ENOMEM;
	s->state = k;
	k->s = s;
	k->c = c;
	k->fd = -1;
	k->n = c->urls.n ? (unsigned)c->urls.n : 1;
	sb_acks_init(&k->acks);
	sb_msgdec_init(&k->dec);
	int r = -ENOMEM;
	if (!(k->t = calloc(k->n, sizeof(*k->t))) ||
	    sb_dedup_init(&k->dedup, (uint64_t)c->dedup_window, MAX_ORIGINS) ||
	    sb_amqp_fleet_init(&k->fleet, k->n, 1, s->ri ? s->ri->host : NULL) ||
	    !(k->kick = sb_timer_new(s->loop, on_kick, k)))
		goto fail;
	for (unsigned i = 0; i < k->n; i++) {
		struct sb_amqp_target *t = &k->t[i];
		r = sb_amqp_target_parse(t, c->urls.n ? c->urls.v[i] : DEFAULT_URL,
					 c->credentials_file, err, sizeof(err));
		if (r) {
			sb_err(COMP, "urls[%u]: %s", i, err);
			goto fail;
		}
		sb_amqp_tls_apply(t, &c->tls);
		t->connect_timeout = c->connect_timeout;
		t->heartbeat = (int)(c->heartbeat / SB_NSEC_PER_SEC);
		if (c->heartbeat && !t->heartbeat)
			t->heartbeat = 1;
		t->exchange = c->exchange;
	}
	s->interval = TICK;
	return 0;
fail:
	consumer_destroy(s);
	return r;
}

static void consumer_collect(struct sb_sensor *s)
{
	struct consumer *k = s->state;
	if (!k->conn && sb_now_mono_ns() >= k->retry_at)
		connect_now(k);
	pump(k);
	sb_sensor_round_done(s);
}

static void final_acks(struct consumer *k)
{
	int64_t deadline = sb_now_mono_ns() + FINAL_ACK_WAIT;
	while (k->conn && k->acks.n && sb_now_mono_ns() < deadline) {
		ack_durable(k);
		if (k->acks.n)
			usleep(5000);
	}
}

static void consumer_destroy(struct sb_sensor *s)
{
	struct consumer *k = s->state;
	if (!k)
		return;
	final_acks(k);
	if (k->conn) {
		sb_loop_del_fd(s->loop, k->fd);
		sym_amqp_destroy_connection(k->conn);
	}
	sb_info(COMP,
		"queue %s: %llu messages, %llu events published, %llu duplicates dropped, %llu "
		"rejected, %llu acked, %zu unacked at exit",
		k->c->queue, (unsigned long long)k->messages, (unsigned long long)k->events,
		(unsigned long long)k->duplicates, (unsigned long long)k->rejected,
		(unsigned long long)k->acked_messages, k->acks.n);
	sb_timer_free(k->kick);
	for (unsigned i = 0; k->t && i < k->n; i++)
		sb_amqp_target_free(&k->t[i]);
	free(k->t);
	sb_amqp_fleet_free(&k->fleet);
	sb_acks_free(&k->acks);
	sb_dedup_free(&k->dedup);
	sb_msgdec_free(&k->dec);
	free(k);
	s->state = NULL;
}

static void counter(struct sb_evb *b, const char *name, const char *help, double v,
		    const char *queue)
{
	sb_evb_sample(b, name, SB_COUNTER, v);
	sb_evb_help(b, help);
	sb_evb_label(b, "queue", queue);
}

static void consumer_telemetry(struct sb_sensor *s, struct sb_evb *b)
{
	struct consumer *k = s->state;
	const char *q = k->c->queue;
	counter(b, "sensorbus_amqp_consumer_messages_total", "Deliveries taken off the queue.",
		(double)k->messages, q);
	counter(b, "sensorbus_amqp_consumer_events_total",
		"Events taken off the queue and published on the bus.", (double)k->events, q);
	counter(b, "sensorbus_amqp_consumer_duplicates_total",
		"Events dropped as seen already (host, run, seq).", (double)k->duplicates, q);
	counter(b, "sensorbus_amqp_consumer_rejected_total",
		"Deliveries that did not decode, rejected without requeue.", (double)k->rejected,
		q);
	counter(b, "sensorbus_amqp_consumer_acked_total",
		"Deliveries acked once every sink made their events durable.",
		(double)k->acked_messages, q);
	counter(b, "sensorbus_amqp_consumer_failovers_total",
		"Connections made to another endpoint than the last.",
		(double)atomic_load(&k->fleet.failovers), q);
	sb_evb_sample(b, "sensorbus_amqp_consumer_unacked", SB_GAUGE, (double)k->acks.n);
	sb_evb_help(b, "Deliveries held until their events are durable.");
	sb_evb_label(b, "queue", q);
	sb_evb_sample(b, "sensorbus_amqp_consumer_endpoint", SB_GAUGE,
		      k->conn ? (double)k->ep : -1);
	sb_evb_help(b, "The endpoint (index into urls) consumed from; -1: none.");
	sb_evb_label(b, "queue", q);
	for (unsigned i = 0; i < k->n; i++) {
		char ep[16];
		snprintf(ep, sizeof(ep), "%u", i);
		counter(b, "sensorbus_amqp_consumer_endpoint_failures_total",
			"Failed connects and lost links per endpoint.",
			(double)atomic_load(&k->fleet.failures[i]), q);
		sb_evb_label(b, "endpoint", ep);
	}
}

/* ---- across the config ---- */

/* An amqp sink whose messages the queue would take again: same exchange,
 * a shared broker, and a binding that may match its routing key (each
 * {...} placeholder standing for any word). */
static int consumer_check(const void *cfgp, const struct sb_config *all, char *err, size_t errlen)
{
	const struct consumer_cfg *c = cfgp;
	for (size_t i = 0; i < all->nsinks; i++) {
		const struct sb_sink_conf *sk = &all->sinks[i];
		const char *name = sk->common.name ? sk->common.name : sk->ops->name;
		if (sk->ops->transport && sb_delivery_buffer_memory(sk->cfg)) {
			snprintf(err, errlen,
				 "sensors.amqp acks once the sinks made events durable, and sink "
				 "%s holds them in memory (buffer \"memory\"): use buffer \"disk\"",
				 name);
			return -EINVAL;
		}
		if (strcmp(sk->ops->name, "amqp"))
			continue;
		char key[256];
		for (size_t j = 0; j < c->bindings.n; j++) {
			if (!sb_amqp_sink_feeds(sk->cfg, c->exchange, &c->urls, DEFAULT_URL,
						c->bindings.v[j], key, sizeof(key)))
				continue;
			snprintf(err, errlen,
				 "sink %s would feed sensors.amqp's own queue %s: exchange %s, "
				 "routing key %s matches binding %s; publish onward to another "
				 "exchange or broker",
				 name, c->queue, c->exchange, key, c->bindings.v[j]);
			return -EINVAL;
		}
	}
	return 0;
}

const struct sb_sensor_ops sb_sensor_amqp = {
    .name = "amqp",
    .desc = "other agents' events off a RabbitMQ queue (the consuming side of a fleet)",
    .keys = consumer_keys,
    .cfg_size = sizeof(struct consumer_cfg),
    .validate = consumer_validate,
    .check_config = consumer_check,
    .init = consumer_init,
    .collect = consumer_collect,
    .destroy = consumer_destroy,
    .telemetry = consumer_telemetry,
};
