/* Where the prom sink listens: its `listen` address parsed, resolved once,
 * and bound here rather than in libmicrohttpd, so that a failure names the
 * address and the reason. */
#ifndef SB_PROM_LISTEN_H
#define SB_PROM_LISTEN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* "host:port", "[v6]:port" or ":port" (host ""): 0 or -EINVAL. */
int sb_prom_split_listen(const char *s, char *host, size_t hostlen, uint16_t *port);
/* The address, resolved; a failure is logged naming the host. */
int sb_prom_resolve_listen(const char *name, const char *listen, struct sockaddr_storage *ss);
/* A listening socket bound to ss (spec: the listen key, for logs): its fd,
 * or -errno, logged. */
int sb_prom_listen_socket(const char *name, const char *spec, const struct sockaddr_storage *ss);

#endif
