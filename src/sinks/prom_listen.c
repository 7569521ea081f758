#include "prom_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb_log.h"
#include "sb_util.h"

#define COMP "sink:prom"

/* "host:port", "[v6]:port" or ":port" (every address, IPv4 and IPv6). */
int sb_prom_split_listen(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *h = s, *colon;
	size_t hl;
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl)) /* an IPv6 address needs brackets */
			return -EINVAL;
	}
	uint64_t p;
	if (hl >= hostlen || sb_parse_u64(colon + 1, &p) || p > 65535)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = 0;
	*port = (uint16_t)p;
	return 0;
}

/* The listen address, resolved once; failures said here, naming the host. */
int sb_prom_resolve_listen(const char *name, const char *listen, struct sockaddr_storage *ss)
{
	char host[256];
	uint16_t port;
	if (sb_prom_split_listen(listen, host, sizeof(host), &port))
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (!host[0]) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_any;
		a->sin6_port = htons(port);
		return 0;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	int r = getaddrinfo(host, NULL, &hints, &res);
	if (r) {
		sb_err(COMP, "%s: listen %s: cannot resolve the host name \"%s\": %s", name, listen,
		       host, r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		if (r == EAI_SYSTEM && errno)
			return -errno;
		return r == EAI_AGAIN ? -EAGAIN : -ENXIO; /* no such host */
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	if (res->ai_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	freeaddrinfo(res);
	return 0;
}

/* "127.0.0.1:9847", "[::1]:9847" */
static void fmt_addr(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char a[INET6_ADDRSTRLEN] = "?";
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(out, n, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(out, n, "%s:%u", a, ntohs(s4->sin_port));
	}
}

/* Binds the listen socket here rather than in libmicrohttpd, which knows
 * the address only as a sockaddr and reports "Failed to bind to port 0":
 * this names the address and the reason. Its fd, or -errno. */
int sb_prom_listen_socket(const char *name, const char *spec, const struct sockaddr_storage *ss)
{
	bool v6 = ss->ss_family == AF_INET6;
	char where[300], addr[INET6_ADDRSTRLEN + 8];
	fmt_addr(ss, addr, sizeof(addr));
	if (!strcmp(addr, spec))
		snprintf(where, sizeof(where), "%s", spec);
	else
		snprintf(where, sizeof(where), "%s (%s)", spec, addr);
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int r = -errno;
		sb_err(COMP, "%s: cannot serve HTTP on %s: socket: %s", name, where, strerror(-r));
		return r;
	}
	int one = 1;
	/* a restart must not wait for the last run's TIME_WAIT connections */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6) {
		/* ":port" is every address, IPv4 too; a given IPv6 address only itself */
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		int only = !IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr);
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof(only));
	}
	socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (bind(fd, (const struct sockaddr *)ss, len) || listen(fd, SOMAXCONN)) {
		int r = -errno;
		if (r == -EADDRNOTAVAIL)
			sb_err(COMP,
			       "%s: cannot serve HTTP on %s: not an address of this host (%s)",
			       name, where, strerror(-r));
		else
			sb_err(COMP, "%s: cannot serve HTTP on %s: %s", name, where, strerror(-r));
		close(fd);
		return r;
	}
	return fd;
}
