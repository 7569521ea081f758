/* Who may keep a connection to the prom sink's HTTP server: the table of
 * open connections behind its header deadline and its connection limit.
 *
 * A connection is idle from its accept, and again from the end of each
 * response, until a whole request has arrived; then it is busy until its
 * response is sent. An idle connection gets header_timeout to complete a
 * request, however it trickles, and beyond the limit the connection idle
 * longest makes room for a new one. A busy connection is never cut here:
 * it is answered, and libmicrohttpd's own idle timeout covers a reader
 * that stalls.
 *
 * Pure bookkeeping on times the caller passes in: the caller locks, and
 * shuts down the sockets this names (sb_prom_conns_add's victim, the
 * sweep's callback). A connection cut stays in the table, no longer
 * counted, until the server closes it and the caller deletes it. */
#ifndef SB_PROM_CONN_H
#define SB_PROM_CONN_H

#include <stdbool.h>
#include <stdint.h>

struct sb_prom_conn {
	struct sb_prom_conn *prev, *next; /* oldest idle first, then the rest */
	int fd;
	int64_t since; /* idle since: accept, or the end of the last response */
	bool busy;
	bool cut;
	void *tls; /* the caller's: its TLS credentials' reference */
};

enum sb_prom_cut { SB_PROM_CUT_LIMIT, SB_PROM_CUT_DEADLINE, SB_PROM_CUT_MAX };

struct sb_prom_conns {
	struct sb_prom_conn *head, *tail;
	unsigned live; /* in the table and not cut */
	unsigned limit;
	int64_t header_timeout;
	uint64_t cuts[SB_PROM_CUT_MAX];
};

void sb_prom_conns_init(struct sb_prom_conns *t, unsigned limit, int64_t header_timeout_ns);
/* A new connection (fd set by the caller), idle from now. Beyond the limit:
 * the connection to shut down, marked cut (the idle one idle longest, c
 * itself when every other one is busy); else NULL. */
struct sb_prom_conn *sb_prom_conns_add(struct sb_prom_conns *t, struct sb_prom_conn *c,
				       int64_t now);
/* A whole request arrived on c. */
void sb_prom_conns_busy(struct sb_prom_conns *t, struct sb_prom_conn *c);
/* c's response was sent: idle again, its deadline counted from now. */
void sb_prom_conns_idle(struct sb_prom_conns *t, struct sb_prom_conn *c, int64_t now);
/* The server closed c. */
void sb_prom_conns_del(struct sb_prom_conns *t, struct sb_prom_conn *c);
/* Marks cut, and hands to cut(), every idle connection past its deadline.
 * Returns when to sweep next: the next deadline, or now + header_timeout
 * when no connection is idle. Every deadline is counted from the moment it
 * starts (an accept, a response's end), so one that starts after now is
 * due no earlier: the sweeper need not be woken for it. */
int64_t sb_prom_conns_sweep(struct sb_prom_conns *t, int64_t now,
			    void (*cut)(void *arg, struct sb_prom_conn *c), void *arg);

#endif
