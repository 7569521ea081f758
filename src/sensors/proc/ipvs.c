/* /proc/net/ip_vs_stats and /proc/net/ip_vs: node_exporter 1.5.0's ipvs
 * collector with its default backend labels, with the rules of the procfs
 * library it uses. The totals are the third line of ip_vs_stats, in hex.
 * In ip_vs, "TCP"/"UDP addr:port" and "FWM mark" lines start a service
 * (procfs skips SCTP's, so their backends count for the service before),
 * and "-> addr:port forward weight active inactive" lines are its
 * backends. Addresses are hex (IPv4: 8 digits) or [full IPv6], ports 4
 * hex digits. node_exporter fails the whole file on one bad line; here a
 * bad backend, or a bad service with its backends, is left out. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proc.h"

int sb_proc_parse_ipvs_stats(const char *text, struct sb_evb *b, struct sb_proc_perr *e)
{
	static const struct {
		const char *name, *help;
	} totals[5] = {
	    {"node_ipvs_connections_total", "The total number of connections made."},
	    {"node_ipvs_incoming_packets_total", "The total number of incoming packets."},
	    {"node_ipvs_outgoing_packets_total", "The total number of outgoing packets."},
	    {"node_ipvs_incoming_bytes_total", "The total amount of incoming data."},
	    {"node_ipvs_outgoing_bytes_total", "The total amount of outgoing data."},
	};
	/* procfs: the first three lines whole, the third five hex numbers */
	const char *p = sb_pp_next(sb_pp_next(text));
	if (!*p || sb_pp_cut(p)) {
		sb_proc_bad(e, 0, "expected two header lines and a line of totals");
		return 0;
	}
	uint64_t v[5];
	for (int i = 0; i < 5; i++) {
		p = sb_pp_blank(p);
		if (!sb_pp_hex(&p, &v[i]) || !sb_pp_sep(*p)) {
			sb_proc_bad(e, 3, "expected five hex totals");
			return 0;
		}
	}
	if (!sb_pp_at_eol(p)) {
		sb_proc_bad(e, 3, "expected five hex totals");
		return 0;
	}
	for (int i = 0; i < 5; i++) {
		sb_evb_sample(b, totals[i].name, SB_COUNTER, (double)v[i]);
		sb_evb_help(b, totals[i].help);
	}
	return 5;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Go's net.IP.String() for an IPv6 address: an IPv4-mapped one dotted,
 * else the longest run (first of equals) of two or more zero groups as
 * "::", groups in lowercase hex. */
static void ip6_string(const unsigned char a[16], char *out, size_t cap)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (!memcmp(a, mapped, 12)) {
		snprintf(out, cap, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
		return;
	}
	unsigned g[8];
	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	int best = -1, blen = 0;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && !g[j])
			j++;
		if (j - i > blen && j - i >= 2) {
			best = i;
			blen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	size_t n = 0;
	for (int i = 0; i < 8 && n < cap; i++) {
		if (i == best) {
			n += (size_t)snprintf(out + n, cap - n, "::");
			i += blen - 1;
			continue;
		}
		n += (size_t)snprintf(out + n, cap - n, "%s%x", n && out[n - 1] != ':' ? ":" : "",
				      g[i]);
	}
	if (!n)
		snprintf(out, cap, "::");
}

/* procfs' parseIPPort over the word w: "C0A80016:0CEA" or
 * "[2620:0000:...:0001]:0050" (exactly 13 or 46 characters). */
static bool ip_port(const char *w, size_t wl, char *addr, size_t cap, unsigned *port)
{
	if (wl == 13) {
		unsigned char a[4];
		for (int i = 0; i < 4; i++) {
			int hi = hexval(w[2 * i]), lo = hexval(w[2 * i + 1]);
			if (hi < 0 || lo < 0)
				return false;
			a[i] = (unsigned char)(hi << 4 | lo);
		}
		snprintf(addr, cap, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	} else if (wl == 46) {
		char buf[40];
		memcpy(buf, w + 1, 39);
		buf[39] = 0;
		unsigned char a[16];
		if (inet_pton(AF_INET6, buf, a) != 1)
			return false;
		ip6_string(a, addr, cap);
	} else {
		return false;
	}
	*port = 0;
	for (size_t i = wl - 4; i < wl; i++) {
		int h = hexval(w[i]);
		if (h < 0)
			return false;
		*port = *port << 4 | (unsigned)h;
	}
	return true;
}

static bool word_is(const char *w, size_t wl, const char *s)
{
	return wl == strlen(s) && !memcmp(w, s, wl);
}

struct ipvs_service {
	bool ok; /* false after a bad service line: its backends are left out */
	char proto[4];
	char addr[48];
	char port[8];
	char mark[24];
};

static void backend(struct sb_evb *b, const struct ipvs_service *s, const char *raddr,
		    unsigned rport, const uint64_t v[3])
{
	static const struct {
		const char *name, *help;
	} gauges[3] = {
	    {"node_ipvs_backend_weight", "The current backend weight by local and remote address."},
	    {"node_ipvs_backend_connections_active",
	     "The current active connections by local and remote address."},
	    {"node_ipvs_backend_connections_inactive",
	     "The current inactive connections by local and remote address."},
	};
	char rp[8];
	snprintf(rp, sizeof(rp), "%u", rport);
	for (int i = 0; i < 3; i++) {
		sb_evb_sample(b, gauges[i].name, SB_GAUGE, (double)v[i]);
		sb_evb_help(b, gauges[i].help);
		sb_evb_label(b, "local_address", s->addr);
		sb_evb_label(b, "local_port", s->port);
		sb_evb_label(b, "remote_address", raddr);
		sb_evb_label(b, "remote_port", rp);
		sb_evb_label(b, "proto", s->proto);
		sb_evb_label(b, "local_mark", s->mark);
	}
}

int sb_proc_parse_ipvs(const char *text, struct sb_evb *b, struct sb_proc_perr *e)
{
	struct ipvs_service s = {.ok = true, .port = "0"};
	int n = 0;
	unsigned lineno = 0;
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		const char *w0, *w1;
		size_t l0 = sb_pp_word(&p, &w0);
		if (!l0)
			continue;
		size_t l1 = sb_pp_word(&p, &w1);
		if (word_is(w0, l0, "IP") || word_is(w0, l0, "Prot") ||
		    word_is(w1, l1, "RemoteAddress:Port") || !l1)
			continue;
		if (word_is(w0, l0, "TCP") || word_is(w0, l0, "UDP")) {
			unsigned port;
			s.ok = ip_port(w1, l1, s.addr, sizeof(s.addr), &port);
			if (!s.ok) {
				sb_proc_bad(e, lineno, "expected a service's address:port");
				continue;
			}
			snprintf(s.proto, sizeof(s.proto), "%.3s", w0);
			snprintf(s.port, sizeof(s.port), "%u", port);
			s.mark[0] = 0;
		} else if (word_is(w0, l0, "FWM")) {
			s.ok = l1 < sizeof(s.mark);
			if (!s.ok) {
				sb_proc_bad(e, lineno, "firewall mark too long");
				continue;
			}
			snprintf(s.proto, sizeof(s.proto), "FWM");
			memcpy(s.mark, w1, l1);
			s.mark[l1] = 0;
			s.addr[0] = 0;
			snprintf(s.port, sizeof(s.port), "0");
		} else if (word_is(w0, l0, "->")) {
			const char *w;
			uint64_t v[3];
			char raddr[48];
			unsigned rport;
			if (!sb_pp_word(&p, &w)) /* the forwarding method */
				continue;	 /* fewer than 6 words: procfs skips it */
			const char *q = p;
			bool ok = true;
			for (int i = 0; i < 3 && ok; i++)
				ok = sb_pp_u64(&q, &v[i]);
			if (!ok && sb_pp_at_eol(q))
				continue; /* fewer than 6 words */
			if (!ok || !ip_port(w1, l1, raddr, sizeof(raddr), &rport)) {
				sb_proc_bad(
				    e, lineno,
				    "expected \"-> addr:port forward weight active inactive\"");
				continue;
			}
			if (!s.ok)
				continue; /* its service was bad (reported) */
			backend(b, &s, raddr, rport, v);
			n += 3;
		} else if (!word_is(w0, l0, "SCTP")) {
			/* procfs skips it; the kernel writes no such line */
			sb_proc_bad(e, lineno, "unknown line");
		}
	}
	return n;
}

/* ---- the collector ---- */

static int ipvs_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	const char *text = sb_proc_coll_read(st, c, 0);
	if (!text) /* no IPVS module: node_exporter's ErrNoData */
		return sb_proc_nodata(c->f[0]);
	struct sb_proc_perr e = {0};
	sb_proc_parse_ipvs_stats(text, b, &e);
	int r = sb_proc_report(st, c->f[0], &e);
	/* as 1.5.0, the totals stay when the backends cannot be read */
	text = sb_proc_coll_read(st, c, 1);
	if (!text)
		return r ? r : sb_proc_read_err(c->f[1], false);
	memset(&e, 0, sizeof(e));
	sb_proc_parse_ipvs(text, b, &e);
	int r2 = sb_proc_report(st, c->f[1], &e);
	return r ? r : r2;
}

const struct sb_proc_collector sb_proc_collector_ipvs = {
    .name = "ipvs",
    .default_on = true,
    /* ip_vs: one record per service and backend, read until a read
     * returns 0 */
    .files = (const struct sb_proc_src[]){{"net/ip_vs_stats", .single = true, .optional = true},
					  {"net/ip_vs", .optional = true},
					  {NULL}},
    .collect = ipvs_collect,
};
