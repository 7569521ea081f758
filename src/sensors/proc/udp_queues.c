/* /proc/net/udp and /proc/net/udp6: node_exporter's udp_queues collector,
 * the bytes queued for sending and receiving summed over every UDP socket
 * (node_udp_queues{ip="v4"|"v6",queue="tx"|"rx"}). Either file is absent
 * when its protocol is off, silently. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

/* One line per socket, ~128 (udp) or ~170 (udp6) bytes: a host with tens
 * of thousands of sockets (a DNS server) passes the 1 MiB other files are
 * held to. */
#define UDP_MAX_BYTES (64u << 20)

/* "HEX:HEX" up to a blank; an address part must be 8 or 32 digits. */
static bool hex_pair(const char **p, uint64_t *a, uint64_t *b, bool addr)
{
	const char *q = sb_pp_blank(*p), *s = q;
	uint64_t x, y;
	if (addr) { /* 128 bits do not fit: check the digits only */
		while ((*q >= '0' && *q <= '9') || ((*q | 0x20) >= 'a' && (*q | 0x20) <= 'f'))
			q++;
		x = 0;
		if (q - s != 8 && q - s != 32)
			return false;
	} else if (!sb_pp_hex(&q, &x)) {
		return false;
	}
	if (*q != ':')
		return false;
	q++;
	if (*q == ' ' || !sb_pp_hex(&q, &y) || !sb_pp_sep(*q))
		return false;
	if (a)
		*a = x;
	if (b)
		*b = y;
	*p = q;
	return true;
}

static int queues(struct sb_evb *b, bool ipv6, uint64_t tx, uint64_t rx)
{
	const char *ip = ipv6 ? "v6" : "v4";
	static const char help[] = "Number of allocated memory in the kernel for UDP datagrams in "
				   "bytes.";
	sb_evb_sample(b, "node_udp_queues", SB_GAUGE, (double)tx);
	sb_evb_help(b, help);
	sb_evb_label(b, "ip", ip);
	sb_evb_label(b, "queue", "tx");
	sb_evb_sample(b, "node_udp_queues", SB_GAUGE, (double)rx);
	sb_evb_help(b, help);
	sb_evb_label(b, "ip", ip);
	sb_evb_label(b, "queue", "rx");
	return 2;
}

int sb_proc_parse_udp(const char *text, bool ipv6, struct sb_evb *b, struct sb_proc_perr *e)
{
	uint64_t tx = 0, rx = 0;
	unsigned lineno = 0, nbad = e->nbad;
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		if (lineno == 1)
			continue; /* the column names */
		/* sl: local rem st tx:rx tr:when retrnsmt uid timeout inode ... */
		const char *q = p;
		uint64_t sl, st, t, r, uid, timeout, inode, when;
		bool ok = sb_pp_hex(&q, &sl) && *q++ == ':' && hex_pair(&q, NULL, NULL, true) &&
			  hex_pair(&q, NULL, NULL, true) && sb_pp_hex(&q, &st) && sb_pp_sep(*q) &&
			  hex_pair(&q, &t, &r, false) && hex_pair(&q, NULL, &when, false) &&
			  sb_pp_hex(&q, &sl) && sb_pp_sep(*q) && sb_pp_u64(&q, &uid) &&
			  sb_pp_u64(&q, &timeout) && sb_pp_u64(&q, &inode);
		if (!ok) {
			sb_proc_bad(e, lineno, "not a socket line");
			continue;
		}
		tx += t;
		rx += r;
	}
	if (!lineno)
		sb_proc_bad(e, 0, "no header line");
	/* a sum missing a socket is no value at all */
	if (e->nbad != nbad)
		return 0;
	return queues(b, ipv6, tx, rx);
}

/* "UDP: inuse 0" in sockstat ("UDP6: inuse 0" in sockstat6): true when the
 * line is there and its count is 0. */
bool sb_proc_udp_none_in_use(const char *sockstat, bool ipv6)
{
	const char *key = ipv6 ? "UDP6: inuse " : "UDP: inuse ";
	size_t kl = strlen(key);
	for (const char *p = sockstat; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, kl))
			continue;
		uint64_t v;
		const char *q = p + kl;
		return sb_pp_u64(&q, &v) && sb_pp_sep(*q) && v == 0;
	}
	return false;
}

/* ---- the collector ---- */

struct udp_queues {
	struct sb_procfile f[2]; /* udp, udp6 */
	uint64_t reads;		 /* of either file: what the shortcut below saves */
};

static void udp_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct udp_queues *u = c->priv;
	if (!u)
		return;
	sb_procfile_free(&u->f[0]);
	sb_procfile_free(&u->f[1]);
	free(u);
	c->priv = NULL;
}

static int udp_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct udp_queues *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	c->priv = u;
	u->f[0].fd = u->f[1].fd = -1;
	char path[PATH_MAX];
	for (int i = 0; i < 2; i++) {
		if (snprintf(path, sizeof(path), "%s/net/udp%s", st->cfg->procfs, i ? "6" : "") >=
		    (int)sizeof(path))
			return -ENAMETOOLONG;
		int r = sb_procfile_init(&u->f[i], path, UDP_MAX_BYTES, true);
		if (r)
			return r;
		u->f[i].line_max = SB_PREAD_LINE_MAX;
	}
	return 0;
}

uint64_t sb_proc_udp_reads(const struct sb_proc_coll *c)
{
	const struct udp_queues *u = c->priv;
	return u ? u->reads : 0;
}

/* Reading either file walks every slot of the UDP hash table, sockets or
 * none (16384 slots on a 24 GiB host: ~21 µs a file, a round's dearest read
 * after /proc/net/netstat). On the live /proc, sockstat's inuse count for
 * the family is the number of sockets that table holds for this network
 * namespace, the ones the file lists: at 0, the queues are 0 without the
 * walk. Only once the file was opened (so it is there), and never on a
 * fixture tree, whose files need not agree with each other. */
static bool none_listed(struct proc_state *st, struct sb_proc_coll *c, int i)
{
	const struct udp_queues *u = c->priv;
	if (u->f[i].fd < 0 || !sb_proc_live_procfs(st))
		return false;
	const char *sockstat = sb_proc_coll_read(st, c, (unsigned)i);
	return sockstat && sb_proc_udp_none_in_use(sockstat, i == 1);
}

static int udp_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct udp_queues *u = c->priv;
	int r = 0, absent = 0;
	for (int i = 0; i < 2; i++) {
		if (none_listed(st, c, i)) {
			queues(b, i == 1, 0, 0);
			continue;
		}
		u->reads++;
		const char *text = sb_proc_read(st, &u->f[i], true);
		if (!text) {
			absent += sb_proc_nodata(&u->f[i]) == -ENODATA;
			if (!r)
				r = sb_proc_read_err(&u->f[i], true);
			continue;
		}
		struct sb_proc_perr e = {0};
		sb_proc_parse_udp(text, i == 1, b, &e);
		if (sb_proc_report(st, &u->f[i], &e) && !r)
			r = -EINVAL;
	}
	/* neither file: node_exporter's ErrNoData */
	return absent == 2 ? -ENODATA : r;
}

const struct sb_proc_collector sb_proc_collector_udp_queues = {
    .name = "udp_queues",
    .default_on = true,
    /* sockstat's, for the count of sockets (none_listed); the socket
     * lists themselves are read by the collector, up to UDP_MAX_BYTES */
    .files =
	(const struct sb_proc_src[]){
	    {"net/sockstat", .single = true, .optional = true},
	    {"net/sockstat6", .single = true, .optional = true},
	    {NULL},
	},
    .init = udp_init,
    .collect = udp_collect,
    .free = udp_free,
};
