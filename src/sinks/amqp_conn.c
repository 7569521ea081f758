/* One broker link: a connection with one channel in publisher-confirm mode,
 * driven by a single worker thread with rabbitmq-c (librabbitmq 0.11).
 *
 * Messages are published back to back and their confirms read as they
 * come (pipelined: the sender publishes more while earlier ones are still
 * unconfirmed): basic.ack / basic.nack carry delivery tags (one per
 * publish on the channel, counted from 1; "multiple" covers every tag up
 * to it), and a basic.return (mandatory, unroutable) comes before the ack
 * of the message it returns, matched by message_id. A returned or nacked
 * message is a failure, whatever ack follows. The link keeps the messages
 * awaiting a confirm in tag order, so an ack finds its message at once. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "amqp.h"
#include "amqp_frames.h"
#include "amqp_lib.h"
#include "sb_util.h"

struct sb_amqp_link {
	amqp_connection_state_t conn;
	const struct sb_amqp_target *t;
	uint64_t next_tag;
	int fd;
	/* sent, awaiting a confirm: pend[(phead + i) % pcap] has tag ptag + i
	 * (NULL once resolved out of order) */
	struct sb_dmsg **pend;
	size_t pcap, phead, pcount;
	uint64_t ptag;
	struct sb_amqp_key_cache keys;
	/* a plain TCP link frames its messages itself (amqp_frames.c) */
	struct sb_amqp_fbuf out;
	uint32_t frame_max;
};

int sb_amqp_link_open(struct sb_amqp_link **out, const struct sb_amqp_target *t, char *err,
		      size_t errlen)
{
	*out = NULL;
	struct sb_amqp_link *l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	l->t = t;
	l->fd = -1;
	int r = sb_amqp_session_open(&l->conn, t, err, errlen);
	if (r)
		goto fail;
	r = -ECONNREFUSED;
	l->fd = sym_amqp_get_sockfd(l->conn);
	l->frame_max = (uint32_t)sym_amqp_get_frame_max(l->conn);
	sym_amqp_confirm_select(l->conn, 1);
	if (!sb_amqp_reply_ok(l->conn, "confirm.select", err, errlen))
		goto fail;
	sym_amqp_exchange_declare(l->conn, 1, sym_amqp_cstring_bytes(t->exchange),
				  sym_amqp_cstring_bytes("topic"), 0, 1, 0, 0,
				  *sym_amqp_empty_table);
	if (!sb_amqp_reply_ok(l->conn, "exchange.declare", err, errlen))
		goto fail;
	*out = l;
	return 0;
fail:
	sb_amqp_link_close(l);
	return r;
}

void sb_amqp_link_close(struct sb_amqp_link *l)
{
	if (!l)
		return;
	if (l->conn) {
		/* No polite close: the link is closed because it broke, or at
		 * exit after every confirm is in; the broker copes with both. */
		sym_amqp_destroy_connection(l->conn);
	}
	free(l->pend);
	sb_amqp_fbuf_free(&l->out);
	free(l);
}

int sb_amqp_link_fd(const struct sb_amqp_link *l) { return l ? l->fd : -1; }

/* Sent with tag m->tag, awaiting its confirm. */
static int await_confirm(struct sb_amqp_link *l, struct sb_dmsg *m)
{
	if (l->pcount == l->pcap) {
		size_t cap = l->pcap ? 2 * l->pcap : 1024;
		struct sb_dmsg **p = malloc(cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		for (size_t i = 0; i < l->pcount; i++)
			p[i] = l->pend[(l->phead + i) % l->pcap];
		free(l->pend);
		l->pend = p;
		l->pcap = cap;
		l->phead = 0;
	}
	if (!l->pcount)
		l->ptag = m->tag;
	l->pend[(l->phead + l->pcount++) % l->pcap] = m;
	return 0;
}

static void resolve(struct sb_amqp_link *l, uint64_t tag, bool multiple, bool ack, int64_t now)
{
	if (!l->pcount || tag < l->ptag || (!multiple && tag - l->ptag >= l->pcount))
		return;
	uint64_t last = tag - l->ptag < l->pcount ? tag - l->ptag : l->pcount - 1;
	for (uint64_t i = multiple ? 0 : last; i <= last; i++) {
		struct sb_dmsg **slot = &l->pend[(l->phead + i) % l->pcap];
		struct sb_dmsg *m = *slot;
		if (!m)
			continue;
		/* returned (unroutable) or nacked: sent again later */
		m->state = m->state == SB_DMSG_PENDING && ack ? SB_DMSG_ACKED : SB_DMSG_FAILED;
		m->acked_at = now;
		*slot = NULL;
	}
	while (l->pcount && !l->pend[l->phead]) {
		l->phead = (l->phead + 1) % l->pcap;
		l->pcount--;
		l->ptag++;
	}
}

static void mark_returned(struct sb_amqp_link *l, amqp_bytes_t mid)
{
	for (size_t i = 0; i < l->pcount; i++) {
		struct sb_dmsg *m = l->pend[(l->phead + i) % l->pcap];
		char id[128];
		if (m && m->state == SB_DMSG_PENDING && sb_dmsg_id(m, id, sizeof(id)) == mid.len &&
		    !memcmp(id, mid.bytes, mid.len)) {
			m->state = SB_DMSG_RETURNING;
			return;
		}
	}
}

/* Handles one frame; <0 when the link broke (err says why). */
static int on_frame(struct sb_amqp_link *l, amqp_frame_t *f, char *err, size_t errlen)
{
	if (f->frame_type != AMQP_FRAME_METHOD)
		return 0;
	int64_t now = sb_now_mono_ns();
	switch (f->payload.method.id) {
	case AMQP_BASIC_ACK_METHOD: {
		amqp_basic_ack_t *a = f->payload.method.decoded;
		resolve(l, a->delivery_tag, a->multiple, true, now);
		return 0;
	}
	case AMQP_BASIC_NACK_METHOD: {
		amqp_basic_nack_t *a = f->payload.method.decoded;
		resolve(l, a->delivery_tag, a->multiple, false, now);
		if (!*err)
			snprintf(err, errlen, "the broker refused (nack) message(s)");
		return 0;
	}
	case AMQP_BASIC_RETURN_METHOD: {
		amqp_basic_return_t *rt = f->payload.method.decoded;
		if (!*err)
			snprintf(err, errlen,
				 "message returned as unroutable: %u %.*s (routing key %.*s)",
				 rt->reply_code, (int)rt->reply_text.len,
				 (char *)rt->reply_text.bytes, (int)rt->routing_key.len,
				 (char *)rt->routing_key.bytes);
		amqp_message_t msg;
		amqp_rpc_reply_t x = sym_amqp_read_message(l->conn, f->channel, &msg, 0);
		if (x.reply_type != AMQP_RESPONSE_NORMAL) {
			sb_amqp_describe_reply(x, "reading a returned message", err, errlen);
			return -EIO;
		}
		if (msg.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG)
			mark_returned(l, msg.properties.message_id);
		sym_amqp_destroy_message(&msg);
		return 0;
	}
	case AMQP_CHANNEL_CLOSE_METHOD: {
		amqp_channel_close_t *c = f->payload.method.decoded;
		snprintf(err, errlen, "broker closed the channel: %u %.*s", c->reply_code,
			 (int)c->reply_text.len, (char *)c->reply_text.bytes);
		amqp_channel_close_ok_t ok = {0};
		sym_amqp_send_method(l->conn, 1, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
		return -EPIPE;
	}
	case AMQP_CONNECTION_CLOSE_METHOD: {
		amqp_connection_close_t *c = f->payload.method.decoded;
		snprintf(err, errlen, "broker closed the connection: %u %.*s", c->reply_code,
			 (int)c->reply_text.len, (char *)c->reply_text.bytes);
		amqp_connection_close_ok_t ok = {0};
		sym_amqp_send_method(l->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
		return -EPIPE;
	}
	default:
		return 0;
	}
}

/* Corked, the messages of one send leave in as few segments as fit,
 * instead of one (and one wakeup of the broker) per message; uncorking
 * pushes out the rest. */
static void cork(struct sb_amqp_link *l, int on)
{
	if (l->fd >= 0)
		setsockopt(l->fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on));
}

/* Over TLS rabbitmq-c's socket must write (it encrypts): a publish each,
 * corked. Over TCP the link frames them all (amqp_frames.c) and sends
 * them at once. */
static int put_one(struct sb_amqp_link *l, amqp_bytes_t ex, amqp_bytes_t rk,
		   amqp_basic_properties_t *p, const struct sb_dmsg *m, char *err, size_t errlen)
{
	const struct sb_amqp_target *t = l->t;
	amqp_bytes_t body = {m->len, (void *)m->body};
	if (t->tls) {
		int st = sym_amqp_basic_publish(l->conn, 1, ex, rk, t->mandatory, 0, p, body);
		if (st == AMQP_STATUS_OK)
			return 0;
		snprintf(err, errlen, "publish: %s", sym_amqp_error_string2(st));
		return -EIO;
	}
	amqp_basic_publish_t bp = {.exchange = ex, .routing_key = rk, .mandatory = t->mandatory};
	int r = sb_amqp_frames_publish(&l->out, 1, l->frame_max, &bp, p, m->body, m->len);
	if (r)
		snprintf(err, errlen, "publish: %s",
			 r == -ENOMEM ? "out of memory" : "a property too long for AMQP");
	return r;
}

int sb_amqp_link_send(struct sb_amqp_link *l, struct sb_dmsg *const *msgs, size_t n, char *err,
		      size_t errlen)
{
	int r = 0;
	const struct sb_amqp_target *t = l->t;
	if (n > 1 && t->tls)
		cork(l, 1);
	amqp_basic_properties_t p;
	memset(&p, 0, sizeof(p));
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
		   AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_APP_ID_FLAG;
	p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	p.app_id = sym_amqp_cstring_bytes("sensorbus");
	amqp_bytes_t ex = sym_amqp_cstring_bytes(t->exchange);
	l->out.len = 0;
	for (size_t i = 0; i < n; i++) {
		struct sb_dmsg *m = msgs[i];
		if (m->state != SB_DMSG_UNSENT && m->state != SB_DMSG_FAILED)
			continue;
		char id[128];
		const char *rk = m->v1_key.p;
		size_t rkl = m->v1_key.n;
		if (!rkl)
			rkl = sb_amqp_key_cached(&l->keys, t->routing_key, m->host, m->source,
						 m->kind, m->run, &rk);
		size_t idl = sb_dmsg_id(m, id, sizeof(id));
		bool batch = m->nevents > 1;
		const char *type = batch ? m->codec->batch_message_type : m->codec->message_type;
		p.content_type = sym_amqp_cstring_bytes(batch ? m->codec->batch_content_type
							      : m->codec->content_type);
		/* binary bodies say which message they are; JSON describes itself */
		if (type) {
			p._flags |= AMQP_BASIC_TYPE_FLAG;
			p.type = sym_amqp_cstring_bytes(type);
		} else {
			p._flags &= ~AMQP_BASIC_TYPE_FLAG;
		}
		p.message_id = (amqp_bytes_t){idl, id};
		p.timestamp = (uint64_t)(m->time_ns / SB_NSEC_PER_SEC);
		r = put_one(l, ex, (amqp_bytes_t){rkl, (void *)rk}, &p, m, err, errlen);
		if (r)
			break;
		m->tag = ++l->next_tag;
		m->state = SB_DMSG_PENDING;
		m->sent_at = sb_now_mono_ns();
		if (await_confirm(l, m)) {
			snprintf(err, errlen, "out of memory");
			r = -ENOMEM;
			break;
		}
	}
	/* What was framed goes out even after a failure: its tags are taken
	 * (the broker numbers what it receives), and each message is pending. */
	if (l->out.len) {
		int s = sb_amqp_frames_send(&l->out, l->fd);
		if (s) {
			snprintf(err, errlen, "publish: %s", strerror(-s));
			r = -EIO;
		}
	}
	if (n > 1 && t->tls)
		cork(l, 0);
	return r;
}

int sb_amqp_link_poll(struct sb_amqp_link *l, int64_t wait, char *err, size_t errlen)
{
	struct timeval tv = sb_amqp_tv(wait);
	/* bounded, so a broker flooding the link cannot keep the sender here */
	for (int i = 0; i < 4096; i++) {
		amqp_frame_t f;
		sym_amqp_maybe_release_buffers(l->conn);
		int st = sym_amqp_simple_wait_frame_noblock(l->conn, &f, &tv);
		if (st == AMQP_STATUS_TIMEOUT)
			return 0;
		if (st != AMQP_STATUS_OK) {
			snprintf(err, errlen, "waiting for confirms: %s",
				 sym_amqp_error_string2(st));
			return -EIO;
		}
		int r = on_frame(l, &f, err, errlen);
		if (r)
			return r;
		tv = (struct timeval){0, 0}; /* then only what has already come */
	}
	return 0;
}

static size_t unresolved(struct sb_dmsg *const *msgs, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += msgs[i]->state == SB_DMSG_PENDING || msgs[i]->state == SB_DMSG_RETURNING;
	return k;
}

int sb_amqp_link_publish(struct sb_amqp_link *l, struct sb_dmsg *const *msgs, size_t n,
			 int64_t timeout, char *err, size_t errlen)
{
	err[0] = 0;
	for (size_t i = 0; i < n; i++)
		if (msgs[i]->state != SB_DMSG_ACKED && msgs[i]->state != SB_DMSG_REJECTED)
			msgs[i]->state = SB_DMSG_UNSENT;
	int r = sb_amqp_link_send(l, msgs, n, err, errlen);
	int64_t deadline = sb_now_mono_ns() + timeout;
	size_t pending;
	while (!r && (pending = unresolved(msgs, n))) {
		int64_t left = deadline - sb_now_mono_ns();
		if (left <= 0) {
			snprintf(err, errlen,
				 "no publisher confirm within %lld ms for %zu message(s)",
				 (long long)(timeout / SB_NSEC_PER_MSEC), pending);
			return -ETIMEDOUT;
		}
		r = sb_amqp_link_poll(l, left, err, errlen);
	}
	return r;
}

int sb_amqp_link_idle(struct sb_amqp_link *l, char *err, size_t errlen)
{
	err[0] = 0;
	for (int i = 0; i < 16; i++) {
		struct timeval tv = {0, 0};
		amqp_frame_t f;
		sym_amqp_maybe_release_buffers(l->conn);
		int st = sym_amqp_simple_wait_frame_noblock(l->conn, &f, &tv);
		if (st == AMQP_STATUS_TIMEOUT)
			return 0;
		if (st != AMQP_STATUS_OK) {
			snprintf(err, errlen, "%s", sym_amqp_error_string2(st));
			return -EIO;
		}
		int r = on_frame(l, &f, err, errlen);
		if (r)
			return r;
	}
	return 0;
}

/* ---- routing keys ---- */

static const char *const vars[] = {"host", "source", "kind", "run"};

int sb_amqp_key_check(const char *tmpl, char *err, size_t errlen)
{
	for (const char *p = tmpl; *p; p++) {
		if (*p == '}') {
			snprintf(err, errlen, "routing_key: unmatched '}' in \"%s\"", tmpl);
			return -EINVAL;
		}
		if (*p != '{')
			continue;
		const char *e = strchr(p, '}');
		bool known = false;
		for (size_t i = 0; e && i < SB_ARRAY_SIZE(vars); i++)
			known |= (size_t)(e - p - 1) == strlen(vars[i]) &&
				 !strncmp(p + 1, vars[i], (size_t)(e - p - 1));
		if (!known) {
			snprintf(
			    err, errlen,
			    "routing_key: unknown placeholder in \"%s\" (use {host}, {source}, "
			    "{kind}, {run})",
			    tmpl);
			return -EINVAL;
		}
		p = e;
	}
	if (strlen(tmpl) > 255) {
		snprintf(err, errlen, "routing_key: longer than 255 bytes");
		return -EINVAL;
	}
	return 0;
}

size_t sb_amqp_key_render(char *out, size_t n, const char *tmpl, struct sb_dstr host,
			  struct sb_dstr source, struct sb_dstr kind, struct sb_dstr run)
{
	const struct sb_dstr vals[] = {host, source, kind, run};
	size_t o = 0;
	for (const char *p = tmpl; *p && o + 1 < n; p++) {
		if (*p != '{') {
			out[o++] = *p;
			continue;
		}
		const char *e = strchr(p, '}');
		for (size_t i = 0; e && i < SB_ARRAY_SIZE(vars); i++) {
			if ((size_t)(e - p - 1) != strlen(vars[i]) ||
			    strncmp(p + 1, vars[i], (size_t)(e - p - 1)))
				continue;
			for (size_t j = 0; j < vals[i].n && o + 1 < n; j++)
				out[o++] = vals[i].p[j] == '.' ? '_' : vals[i].p[j];
		}
		p = e ? e : p;
	}
	out[o] = 0;
	return o;
}

size_t sb_amqp_key_cached(struct sb_amqp_key_cache *c, const char *tmpl, struct sb_dstr host,
			  struct sb_dstr source, struct sb_dstr kind, struct sb_dstr run,
			  const char **key)
{
	const struct sb_dstr v[4] = {host, source, kind, run};
	bool same = c->valid;
	for (int i = 0; i < 4 && same; i++)
		same = v[i].n == c->vlen[i] && (!v[i].n || !memcmp(v[i].p, c->val[i], v[i].n));
	if (!same) {
		c->len = sb_amqp_key_render(c->key, sizeof(c->key), tmpl, host, source, kind, run);
		/* a value too long to keep is rendered every time */
		c->valid = true;
		for (int i = 0; i < 4; i++) {
			c->valid &= v[i].n <= sizeof(c->val[i]);
			c->vlen[i] = (unsigned char)(v[i].n <= sizeof(c->val[i]) ? v[i].n : 0);
			if (c->vlen[i])
				memcpy(c->val[i], v[i].p, c->vlen[i]);
		}
	}
	*key = c->key;
	return c->len;
}

/* Words as pointers into the string: the next after the dot, NULL at the
 * end. */
static const char *next_word(const char *w)
{
	const char *dot = strchr(w, '.');
	return dot ? dot + 1 : NULL;
}

static bool word_eq(const char *a, const char *b)
{
	size_t al = strcspn(a, "."), bl = strcspn(b, ".");
	return al == bl && !memcmp(a, b, al);
}

/* wild: a '*' word of k stands for any one word (a key with placeholders) */
static bool match_words(const char *p, const char *k, bool wild)
{
	if (!p)
		return !k;
	if (word_eq(p, "#"))
		return match_words(next_word(p), k, wild) ||
		       (k && match_words(p, next_word(k), wild));
	if (!k)
		return false;
	if (!word_eq(p, "*") && !word_eq(p, k) && !(wild && word_eq(k, "*")))
		return false;
	return match_words(next_word(p), next_word(k), wild);
}

bool sb_amqp_topic_match(const char *pat, const char *key)
{
	return match_words(*pat ? pat : NULL, *key ? key : NULL, false);
}

bool sb_amqp_topic_may_match(const char *pat, const char *key)
{
	return match_words(*pat ? pat : NULL, *key ? key : NULL, true);
}
