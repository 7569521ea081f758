/* /proc/net/sockstat and sockstat6: node_exporter's sockstat collector.
 * "TCP: inuse 4 orphan 0 tw 4 alloc 17 mem 1" becomes
 * node_sockstat_TCP_inuse ... and node_sockstat_TCP_mem_bytes (mem is in
 * pages). Only inuse, orphan, tw, alloc, mem and memory are reported, as
 * in prometheus/procfs. A protocol line without inuse is malformed (the
 * kernel always writes it; procfs would report 0) and is skipped. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proc.h"

static const char *const sock_fields[] = {"inuse", "orphan", "tw", "alloc", "mem", "memory"};

static void emit(struct sb_evb *b, const char *proto, size_t pl, const char *field, double v)
{
	char name[96], help[128];
	SB_PROC_JOIN(name, SB_PJ("node_sockstat_"), SB_PJN(proto, pl), SB_PJ("_"), SB_PJ(field));
	SB_PROC_JOIN(help, SB_PJ("Number of "), SB_PJN(proto, pl), SB_PJ(" sockets in state "),
		     SB_PJ(field), SB_PJ("."));
	sb_evb_sample(b, name, SB_GAUGE, v);
	sb_evb_help(b, help);
}

int sb_proc_parse_sockstat(const char *text, struct sb_evb *b, const struct sb_proc_env *env,
			   bool ipv6, struct sb_proc_perr *e)
{
	int n = 0;
	unsigned lineno = 0;
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		const char *proto, *q = p;
		size_t pl = sb_pp_word(&q, &proto);
		if (pl < 2 || proto[pl - 1] != ':' || pl > 33 || !sb_proc_name_ok(proto, pl - 1)) {
			sb_proc_bad(e, lineno, "expected \"PROTO: key value ...\"");
			continue;
		}
		pl--;
		/* A line is taken whole or not at all. */
		int64_t val[SB_ARRAY_SIZE(sock_fields)];
		bool have[SB_ARRAY_SIZE(sock_fields)] = {0};
		int64_t used = 0;
		bool have_used = false, ok = true;
		unsigned pairs = 0;
		while (!sb_pp_at_eol(q)) {
			const char *k;
			size_t kl = sb_pp_word(&q, &k);
			int64_t v;
			if (!sb_pp_i64(&q, &v)) {
				ok = false;
				break;
			}
			pairs++;
			if (kl == 4 && !memcmp(k, "used", 4)) {
				used = v;
				have_used = true;
			}
			for (size_t i = 0; i < SB_ARRAY_SIZE(sock_fields); i++) {
				const char *f = sock_fields[i];
				if (strlen(f) == kl && !memcmp(k, f, kl)) {
					val[i] = v;
					have[i] = true;
				}
			}
		}
		if (!ok || !pairs) {
			sb_proc_bad(e, lineno, "%.*s: expected key/value pairs", (int)pl, proto);
			continue;
		}
		bool sockets = pl == 7 && !memcmp(proto, "sockets", 7);
		if (!sockets && !have[0]) {
			sb_proc_bad(e, lineno, "%.*s: no inuse count", (int)pl, proto);
			continue;
		}
		if (sockets) {
			/* only IPv4's count is reported, as node_exporter does */
			if (!ipv6 && have_used) {
				sb_evb_sample(b, "node_sockstat_sockets_used", SB_GAUGE,
					      (double)used);
				sb_evb_help(b, "Number of IPv4 sockets in use.");
				n++;
			}
			continue;
		}
		for (size_t i = 0; i < SB_ARRAY_SIZE(sock_fields); i++) {
			if (have[i]) {
				emit(b, proto, pl, sock_fields[i], (double)val[i]);
				n++;
			}
		}
		if (have[4]) {
			emit(b, proto, pl, "mem_bytes", (double)val[4] * env->page_size);
			n++;
		}
	}
	if (!lineno)
		sb_proc_bad(e, 0, "empty");
	return n;
}

/* ---- the collector ---- */

static int sockstat_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	int r = 0;
	for (unsigned i = 0; i < 2; i++) {
		const char *text = sb_proc_coll_read(st, c, i);
		if (!text) {
			if (!r)
				r = sb_proc_read_err(c->f[i], true);
			continue;
		}
		struct sb_proc_perr e = {0};
		sb_proc_parse_sockstat(text, b, &st->env, i == 1, &e);
		if (sb_proc_report(st, c->f[i], &e) && !r)
			r = -EINVAL;
	}
	return r;
}

const struct sb_proc_collector sb_proc_collector_sockstat = {
    .name = "sockstat",
    .default_on = true,
    /* both optional: a kernel without IPv4 or IPv6 has no file */
    .files =
	(const struct sb_proc_src[]){
	    {"net/sockstat", .single = true, .optional = true},
	    {"net/sockstat6", .single = true, .optional = true},
	    {NULL},
	},
    .collect = sockstat_collect,
};
