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
#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "amqp.h"
#include "sb_dl.h"
#include "sb_util.h"

/* librabbitmq brings OpenSSL with it (2.2 MB of resident pages at start):
 * opened when an amqp sink starts (include/sb_dl.h), so agents without one
 * map neither. */
#define RABBITMQ_FNS(X)                                                                            \
	X(amqp_basic_publish)                                                                      \
	X(amqp_channel_open)                                                                       \
	X(amqp_confirm_select)                                                                     \
	X(amqp_cstring_bytes)                                                                      \
	X(amqp_default_connection_info)                                                            \
	X(amqp_destroy_connection)                                                                 \
	X(amqp_destroy_message)                                                                    \
	X(amqp_error_string2)                                                                      \
	X(amqp_exchange_declare)                                                                   \
	X(amqp_get_rpc_reply)                                                                      \
	X(amqp_get_sockfd)                                                                         \
	X(amqp_login)                                                                              \
	X(amqp_maybe_release_buffers)                                                              \
	X(amqp_new_connection)                                                                     \
	X(amqp_parse_url)                                                                          \
	X(amqp_read_message)                                                                       \
	X(amqp_send_method)                                                                        \
	X(amqp_set_handshake_timeout)                                                              \
	X(amqp_set_rpc_timeout)                                                                    \
	X(amqp_simple_wait_frame_noblock)                                                          \
	X(amqp_socket_open_noblock)                                                                \
	X(amqp_ssl_socket_new)                                                                     \
	X(amqp_ssl_socket_set_cacert)                                                              \
	X(amqp_ssl_socket_set_key)                                                                 \
	X(amqp_ssl_socket_set_verify_hostname)                                                     \
	X(amqp_ssl_socket_set_verify_peer)                                                         \
	X(amqp_tcp_socket_new)                                                                     \
	X(amqp_empty_table)
RABBITMQ_FNS(SB_DL_DECLARE)
static const struct sb_dl_sym rabbitmq_syms[] = {RABBITMQ_FNS(SB_DL_ENTRY){0}};

static struct sb_dl_lib librabbitmq = {.soname = "librabbitmq.so.4", .syms = rabbitmq_syms};

static int open_librabbitmq(char *err, size_t errlen)
{
	if (!sb_dl_open(&librabbitmq))
		return 0;
	snprintf(err, errlen, "%s: the amqp sink needs librabbitmq", librabbitmq.why);
	return librabbitmq.err;
}

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
};

/* ---- target ---- */

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

int sb_amqp_target_parse(struct sb_amqp_target *t, const char *url, const char *credentials_file,
			 char *err, size_t errlen)
{
	struct amqp_connection_info ci;
	char *copy = strdup(url);
	struct sb_buf cred;
	sb_buf_init(&cred);
	int r = open_librabbitmq(err, errlen);
	if (r)
		goto out;
	r = -ENOMEM;
	if (!copy)
		goto out;
	sym_amqp_default_connection_info(&ci);
	if (sym_amqp_parse_url(copy, &ci) != AMQP_STATUS_OK) {
		snprintf(err, errlen, "url: not an amqp:// or amqps:// URL");
		r = -EINVAL;
		goto out;
	}
	t->host = dup_or_empty(ci.host);
	/* "amqp://host/" names the default vhost, as in most clients (the
	 * URI spec would say ""; nobody has a vhost by that name) */
	t->vhost = dup_or_empty(ci.vhost && *ci.vhost ? ci.vhost : "/");
	t->user = dup_or_empty(ci.user);
	t->password = dup_or_empty(ci.password);
	t->port = ci.port;
	t->tls = ci.ssl;
	if (!t->host || !t->vhost || !t->user || !t->password)
		goto out;
	if (credentials_file && *credentials_file) {
		ssize_t n = sb_read_file(credentials_file, &cred, 4096);
		if (n < 0) {
			snprintf(err, errlen, "credentials_file: cannot read %s: %s",
				 credentials_file, strerror((int)-n));
			r = (int)n;
			goto out;
		}
		char *line = (char *)sb_buf_cstr(&cred);
		line[strcspn(line, "\r\n")] = 0;
		char *colon = strchr(line, ':');
		if (!colon || colon == line) {
			snprintf(
			    err, errlen,
			    "credentials_file: %s must hold \"user:password\" on its first line",
			    credentials_file);
			r = -EINVAL;
			goto out;
		}
		*colon = 0;
		free(t->user);
		free(t->password);
		t->user = strdup(line);
		t->password = strdup(colon + 1);
		explicit_bzero(cred.data, cred.cap);
		if (!t->user || !t->password)
			goto out;
	}
	snprintf(t->shown, sizeof(t->shown), "%s://%s%s@%s:%d/%s", t->tls ? "amqps" : "amqp",
		 t->user, *t->password ? ":***" : "", t->host, t->port,
		 strcmp(t->vhost, "/") ? t->vhost : "");
	r = 0;
out:
	if (copy) {
		explicit_bzero(copy, strlen(url));
		free(copy);
	}
	sb_buf_free(&cred);
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return r;
}

void sb_amqp_target_free(struct sb_amqp_target *t)
{
	if (!t)
		return;
	if (t->password)
		explicit_bzero(t->password, strlen(t->password));
	free(t->host);
	free(t->vhost);
	free(t->user);
	free(t->password);
	memset(t, 0, sizeof(*t));
}

/* ---- errors ---- */

static void describe_reply(amqp_rpc_reply_t x, const char *what, char *err, size_t errlen)
{
	switch (x.reply_type) {
	case AMQP_RESPONSE_NORMAL:
		snprintf(err, errlen, "%s: ok", what);
		return;
	case AMQP_RESPONSE_NONE:
		snprintf(err, errlen, "%s: no reply", what);
		return;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		snprintf(err, errlen, "%s: %s", what, sym_amqp_error_string2(x.library_error));
		return;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (x.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			amqp_connection_close_t *m = x.reply.decoded;
			snprintf(err, errlen, "%s: broker closed the connection: %u %.*s", what,
				 m->reply_code, (int)m->reply_text.len,
				 (char *)m->reply_text.bytes);
		} else if (x.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_channel_close_t *m = x.reply.decoded;
			snprintf(err, errlen, "%s: broker closed the channel: %u %.*s", what,
				 m->reply_code, (int)m->reply_text.len,
				 (char *)m->reply_text.bytes);
		} else {
			snprintf(err, errlen, "%s: unexpected broker method 0x%08x", what,
				 x.reply.id);
		}
		return;
	}
}

static bool reply_ok(amqp_connection_state_t c, const char *what, char *err, size_t errlen)
{
	amqp_rpc_reply_t x = sym_amqp_get_rpc_reply(c);
	if (x.reply_type == AMQP_RESPONSE_NORMAL)
		return true;
	describe_reply(x, what, err, errlen);
	return false;
}

/* ---- link ---- */

static struct timeval tv_of(int64_t ns)
{
	if (ns < 0)
		ns = 0;
	return (struct timeval){.tv_sec = ns / SB_NSEC_PER_SEC,
				.tv_usec = (ns % SB_NSEC_PER_SEC) / 1000};
}

/* One non-blocking connect to ai, bounded by ms: 0 or the errno it met. */
static int try_connect(const struct addrinfo *ai, int ms)
{
	int fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return errno;
	int e = 0;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen)) {
		e = errno;
		if (e == EINPROGRESS) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			int r = poll(&p, 1, ms);
			socklen_t len = sizeof(e);
			if (r == 0)
				e = ETIMEDOUT;
			else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len))
				e = errno;
		}
	}
	close(fd);
	return e;
}

/* Why the TCP connect failed, in the system's words. librabbitmq says "a
 * socket error occurred" and keeps no errno (it reads SO_ERROR into a local
 * and closes the socket), so on that answer connect once more ourselves to
 * learn the reason ("Connection refused", "No route to host"). */
static void connect_reason(const struct sb_amqp_target *t, int st, char *out, size_t n)
{
	if (st == AMQP_STATUS_TIMEOUT) {
		char d[32];
		sb_fmt_duration(d, sizeof(d), t->connect_timeout);
		snprintf(out, n, "timed out after %s (connect_timeout)", d);
		return;
	}
	if (st != AMQP_STATUS_SOCKET_ERROR && st != AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED) {
		snprintf(out, n, "%s", sym_amqp_error_string2(st));
		return;
	}
	char port[16];
	snprintf(port, sizeof(port), "%d", t->port);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP};
	struct addrinfo *list = NULL;
	int g = getaddrinfo(t->host, port, &hints, &list);
	if (g) {
		snprintf(out, n, "cannot resolve %s: %s", t->host,
			 g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
		return;
	}
	int ms = (int)(t->connect_timeout / SB_NSEC_PER_MSEC);
	snprintf(out, n, "%s", sym_amqp_error_string2(st)); /* if every address works now */
	size_t len = 0;
	for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
		int e = try_connect(ai, ms > 0 && ms < 2000 ? ms : 2000);
		if (!e)
			continue;
		char addr[INET6_ADDRSTRLEN] = "";
		const void *a = ai->ai_family == AF_INET6
				    ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
				    : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
		inet_ntop(ai->ai_family, a, addr, sizeof(addr));
		/* the address only where the name is not it */
		bool show = strcmp(addr, t->host) != 0;
		int w = snprintf(out + len, n - len, "%s%s%s%s%s", len ? "; " : "", strerror(e),
				 show ? " (" : "", show ? addr : "", show ? ")" : "");
		if (w < 0 || (size_t)w >= n - len)
			break;
		len += (size_t)w;
	}
	freeaddrinfo(list);
}

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
	int r = -ECONNREFUSED;
	l->conn = sym_amqp_new_connection();
	if (!l->conn) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto fail;
	}
	amqp_socket_t *sock =
	    t->tls ? sym_amqp_ssl_socket_new(l->conn) : sym_amqp_tcp_socket_new(l->conn);
	if (!sock) {
		snprintf(err, errlen, "cannot make a %s socket", t->tls ? "TLS" : "TCP");
		r = -ENOMEM;
		goto fail;
	}
	if (t->tls) {
		sym_amqp_ssl_socket_set_verify_peer(sock, t->tls_verify);
		sym_amqp_ssl_socket_set_verify_hostname(sock, t->tls_verify);
		if (t->tls_ca && *t->tls_ca && sym_amqp_ssl_socket_set_cacert(sock, t->tls_ca)) {
			snprintf(err, errlen, "tls.ca: cannot load %s", t->tls_ca);
			r = -EINVAL;
			goto fail;
		}
		if (t->tls_cert && *t->tls_cert &&
		    sym_amqp_ssl_socket_set_key(sock, t->tls_cert, t->tls_key)) {
			snprintf(err, errlen, "tls.cert: cannot load %s with key %s", t->tls_cert,
				 t->tls_key ? t->tls_key : "(none)");
			r = -EINVAL;
			goto fail;
		}
	}
	struct timeval tv = tv_of(t->connect_timeout);
	sym_amqp_set_handshake_timeout(l->conn, &tv);
	sym_amqp_set_rpc_timeout(l->conn, &tv);
	int st = sym_amqp_socket_open_noblock(sock, t->host, t->port, &tv);
	if (st != AMQP_STATUS_OK) {
		char why[256];
		connect_reason(t, st, why, sizeof(why));
		snprintf(err, errlen, "connect to %s:%d: %s", t->host, t->port, why);
		goto fail;
	}
	l->fd = sym_amqp_get_sockfd(l->conn);
	amqp_rpc_reply_t x = sym_amqp_login(l->conn, t->vhost, 1, 131072, t->heartbeat,
					    AMQP_SASL_METHOD_PLAIN, t->user, t->password);
	if (x.reply_type != AMQP_RESPONSE_NORMAL) {
		describe_reply(x, "login", err, errlen);
		r = -EACCES;
		goto fail;
	}
	sym_amqp_channel_open(l->conn, 1);
	if (!reply_ok(l->conn, "channel.open", err, errlen))
		goto fail;
	sym_amqp_confirm_select(l->conn, 1);
	if (!reply_ok(l->conn, "confirm.select", err, errlen))
		goto fail;
	sym_amqp_exchange_declare(l->conn, 1, sym_amqp_cstring_bytes(t->exchange),
				  sym_amqp_cstring_bytes("topic"), 0, 1, 0, 0,
				  *sym_amqp_empty_table);
	if (!reply_ok(l->conn, "exchange.declare", err, errlen))
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
			describe_reply(x, "reading a returned message", err, errlen);
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

int sb_amqp_link_send(struct sb_amqp_link *l, struct sb_dmsg *const *msgs, size_t n, char *err,
		      size_t errlen)
{
	int r = 0;
	if (n > 1)
		cork(l, 1);
	const struct sb_amqp_target *t = l->t;
	amqp_basic_properties_t p;
	memset(&p, 0, sizeof(p));
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
		   AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_APP_ID_FLAG;
	p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
	p.app_id = sym_amqp_cstring_bytes("sensorbus");
	amqp_bytes_t ex = sym_amqp_cstring_bytes(t->exchange);
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
		int st = sym_amqp_basic_publish(l->conn, 1, ex, (amqp_bytes_t){rkl, (void *)rk},
						t->mandatory, 0, &p,
						(amqp_bytes_t){m->len, (void *)m->body});
		if (st != AMQP_STATUS_OK) {
			snprintf(err, errlen, "publish: %s", sym_amqp_error_string2(st));
			r = -EIO;
			break;
		}
		m->tag = ++l->next_tag;
		m->state = SB_DMSG_PENDING;
		m->sent_at = sb_now_mono_ns();
		if (await_confirm(l, m)) {
			snprintf(err, errlen, "out of memory");
			r = -ENOMEM;
			break;
		}
	}
	if (n > 1)
		cork(l, 0);
	return r;
}

int sb_amqp_link_poll(struct sb_amqp_link *l, int64_t wait, char *err, size_t errlen)
{
	struct timeval tv = tv_of(wait);
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
