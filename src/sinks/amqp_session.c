/* What a publishing link and a consuming session share: librabbitmq,
 * opened on first use (include/sb_dl.h), the broker's address and
 * credentials, error texts, and the connect + login + channel that both
 * begin with; the amqp sink and the amqp sensor each add their own part
 * (confirms and a declared exchange; a queue, qos and a consumer). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "amqp.h"
#include "amqp_lib.h"
#include "sb_util.h"

SB_AMQP_FNS(SB_DL_DEFINE)
static const struct sb_dl_sym rabbitmq_syms[] = {SB_AMQP_FNS(SB_DL_ENTRY){0}};

/* librabbitmq brings OpenSSL with it (2.2 MB of resident pages at start):
 * opened when an amqp sink or sensor starts, so agents without one map
 * neither. */
static struct sb_dl_lib librabbitmq = {.soname = "librabbitmq.so.4", .syms = rabbitmq_syms};

int sb_amqp_lib_open(char *err, size_t errlen)
{
	if (!sb_dl_open(&librabbitmq))
		return 0;
	snprintf(err, errlen, "%s: the amqp sink and sensor need librabbitmq", librabbitmq.why);
	return librabbitmq.err;
}

/* ---- target ---- */

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

int sb_amqp_target_parse(struct sb_amqp_target *t, const char *url, const char *credentials_file,
			 char *err, size_t errlen)
{
	struct amqp_connection_info ci;
	char *copy = strdup(url);
	struct sb_buf cred;
	sb_buf_init(&cred);
	int r = sb_amqp_lib_open(err, errlen);
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

void sb_amqp_describe_reply(amqp_rpc_reply_t x, const char *what, char *err, size_t errlen)
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

bool sb_amqp_reply_ok(amqp_connection_state_t c, const char *what, char *err, size_t errlen)
{
	amqp_rpc_reply_t x = sym_amqp_get_rpc_reply(c);
	if (x.reply_type == AMQP_RESPONSE_NORMAL)
		return true;
	sb_amqp_describe_reply(x, what, err, errlen);
	return false;
}

/* ---- session ---- */

struct timeval sb_amqp_tv(int64_t ns)
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

int sb_amqp_session_open(amqp_connection_state_t *out, const struct sb_amqp_target *t, char *err,
			 size_t errlen)
{
	int r = -ECONNREFUSED;
	amqp_connection_state_t conn = sym_amqp_new_connection();
	*out = NULL;
	if (!conn) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	amqp_socket_t *sock =
	    t->tls ? sym_amqp_ssl_socket_new(conn) : sym_amqp_tcp_socket_new(conn);
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
	struct timeval tv = sb_amqp_tv(t->connect_timeout);
	sym_amqp_set_handshake_timeout(conn, &tv);
	sym_amqp_set_rpc_timeout(conn, &tv);
	int st = sym_amqp_socket_open_noblock(sock, t->host, t->port, &tv);
	if (st != AMQP_STATUS_OK) {
		char why[256];
		connect_reason(t, st, why, sizeof(why));
		snprintf(err, errlen, "connect to %s:%d: %s", t->host, t->port, why);
		goto fail;
	}
	amqp_rpc_reply_t x = sym_amqp_login(conn, t->vhost, 1, 131072, t->heartbeat,
					    AMQP_SASL_METHOD_PLAIN, t->user, t->password);
	if (x.reply_type != AMQP_RESPONSE_NORMAL) {
		sb_amqp_describe_reply(x, "login", err, errlen);
		r = -EACCES;
		goto fail;
	}
	sym_amqp_channel_open(conn, 1);
	if (!sb_amqp_reply_ok(conn, "channel.open", err, errlen))
		goto fail;
	*out = conn;
	return 0;
fail:
	/* No polite close: it never got going. */
	sym_amqp_destroy_connection(conn);
	return r;
}
