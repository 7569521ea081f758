/* /proc/net/netstat, /proc/net/snmp and /proc/net/snmp6: node_exporter's
 * netstat collector. Fields whose "Proto_Name" passes the field filter
 * become node_netstat_<Proto>_<Name>, untyped as in node_exporter. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proc.h"

#define MAX_FIELDS 512
#define NETSTAT_FIELDS                                                                             \
	"^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|"      \
	"OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPOFOQueue|"            \
	"TCPRcvQDrop)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|"           \
	"CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$"

static bool number(const char **p, double *v)
{
	int64_t i;
	uint64_t u;
	if (sb_pp_i64(p, &i)) {
		*v = (double)i;
		return true;
	}
	if (sb_pp_u64(p, &u)) {
		*v = (double)u;
		return true;
	}
	return false;
}

static void emit(struct sb_evb *b, const char *proto, size_t pl, const char *f, size_t fl, double v)
{
	char name[160], help[160];
	SB_PROC_JOIN(name, SB_PJ("node_netstat_"), SB_PJN(proto, pl), SB_PJ("_"), SB_PJN(f, fl));
	SB_PROC_JOIN(help, SB_PJ("Statistic "), SB_PJN(proto, pl), SB_PJN(f, fl), SB_PJ("."));
	sb_evb_sample(b, name, SB_UNTYPED, v);
	sb_evb_help(b, help);
}

static bool pass(struct sb_proc_filter *fields, const char *proto, size_t pl, const char *f,
		 size_t fl)
{
	char key[160];
	if (pl + 1 + fl >= sizeof(key))
		return false;
	SB_PROC_JOIN(key, SB_PJN(proto, pl), SB_PJ("_"), SB_PJN(f, fl));
	return sb_proc_filter_pass(fields, key, pl + 1 + fl);
}

static bool seen_before(struct sb_proc_protos *seen, const char *proto, size_t pl)
{
	for (unsigned i = 0; i < seen->n; i++)
		if (strlen(seen->name[i]) == pl && !memcmp(seen->name[i], proto, pl))
			return true;
	if (seen->n < SB_ARRAY_SIZE(seen->name) && pl < sizeof(seen->name[0])) {
		memcpy(seen->name[seen->n], proto, pl);
		seen->name[seen->n++][pl] = 0;
	}
	return false;
}

int sb_proc_parse_netstat(const char *text, struct sb_evb *b, struct sb_proc_filter *fields,
			  struct sb_proc_protos *seen, struct sb_proc_perr *e)
{
	int n = 0;
	unsigned lineno = 0;
	double v[MAX_FIELDS];
	for (const char *p = text; *p;) {
		const char *head = p, *vals = sb_pp_next(p);
		unsigned hl = ++lineno;
		p = *vals ? sb_pp_next(vals) : vals;
		lineno++;
		const char *proto, *q = head;
		size_t pl = sb_pp_word(&q, &proto);
		if (pl < 2 || proto[pl - 1] != ':' || !sb_proc_name_ok(proto, pl - 1)) {
			sb_proc_bad(e, hl, "expected \"Proto: Field ...\"");
			continue;
		}
		if (*vals && sb_proc_cut_line(vals, hl + 1, e))
			continue;
		const char *vproto, *r = vals;
		size_t vl = sb_pp_word(&r, &vproto);
		if (vl != pl || memcmp(proto, vproto, pl)) {
			sb_proc_bad(e, hl + 1, "%.*s: no value line", (int)(pl - 1), proto);
			continue;
		}
		/* All values first: a pair is reported whole or not at all. */
		unsigned nv = 0;
		bool ok = true;
		while (!sb_pp_at_eol(r)) {
			if (nv == MAX_FIELDS || !number(&r, &v[nv])) {
				ok = false;
				break;
			}
			nv++;
		}
		unsigned nf = 0;
		const char *f = q;
		for (;;) {
			const char *w;
			size_t wl = sb_pp_word(&f, &w);
			if (!wl)
				break;
			if (!sb_proc_name_ok(w, wl))
				ok = false;
			nf++;
		}
		if (!ok || nf != nv || !nv) {
			sb_proc_bad(e, hl + 1, "%.*s: %u names, %s%u values", (int)(pl - 1), proto,
				    nf, ok ? "" : "bad ", nv);
			continue;
		}
		pl--;
		if (seen && seen_before(seen, proto, pl)) {
			sb_proc_bad(e, hl, "%.*s listed twice", (int)pl, proto);
			continue;
		}
		f = q;
		for (unsigned i = 0; i < nf; i++) {
			const char *w;
			size_t wl = sb_pp_word(&f, &w);
			if (!pass(fields, proto, pl, w, wl))
				continue;
			emit(b, proto, pl, w, wl, v[i]);
			n++;
		}
	}
	if (!lineno)
		sb_proc_bad(e, 0, "empty");
	return n;
}

int sb_proc_parse_snmp6(const char *text, struct sb_evb *b, struct sb_proc_filter *fields,
			struct sb_proc_perr *e)
{
	int n = 0;
	unsigned lineno = 0, known = 0;
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		const char *w, *q = p;
		size_t wl = sb_pp_word(&q, &w);
		if (!wl || sb_pp_at_eol(q))
			continue; /* node_exporter skips lines of fewer than 2 fields */
		const char *six = memchr(w, '6', wl);
		if (!six)
			continue; /* and names without a "6" */
		double v;
		if (!sb_proc_name_ok(w, wl) || !number(&q, &v) || !sb_pp_at_eol(q)) {
			sb_proc_bad(e, lineno, "expected \"Name6Field value\"");
			continue;
		}
		size_t pl = (size_t)(six - w) + 1;
		known++;
		if (pl == wl || !pass(fields, w, pl, w + pl, wl - pl))
			continue;
		emit(b, w, pl, w + pl, wl - pl, v);
		n++;
	}
	/* lines node_exporter skips are fine, a file of nothing else is not */
	if (lineno && !known && !e->nbad)
		sb_proc_bad(e, 0, "no \"Name6Field value\" lines");
	return n;
}

/* ---- the collector ---- */

static int netstat_init(struct proc_state *st, struct sb_proc_coll *c)
{
	return sb_proc_coll_filter_init(st, c, st->cfg->netstat_fields, NULL);
}

static int netstat_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct sb_proc_protos seen = {0};
	int r = 0;
	for (unsigned i = 0; i < 3; i++) {
		const char *text = sb_proc_coll_read(st, c, i);
		if (!text) {
			if (!r)
				r = sb_proc_read_err(c->f[i], c->def->files[i].optional);
			continue;
		}
		struct sb_proc_perr e = {0};
		if (i < 2)
			sb_proc_parse_netstat(text, b, c->priv, &seen, &e);
		else
			sb_proc_parse_snmp6(text, b, c->priv, &e);
		if (sb_proc_report(st, c->f[i], &e) && !r)
			r = -EINVAL;
	}
	return r;
}

static const struct sb_cfg_key netstat_keys[] = {
    {"netstat_fields", SB_CT_STR, offsetof(struct proc_cfg, netstat_fields), NETSTAT_FIELDS,
     "regexp of Proto_Field netstat/snmp/snmp6 fields to report"},
    {0},
};

static int netstat_check(const struct proc_cfg *c, char *err, size_t errlen)
{
	return sb_proc_check_regex("netstat_fields", c->netstat_fields, err, errlen);
}

const struct sb_proc_collector sb_proc_collector_netstat = {
    .name = "netstat",
    .default_on = true,
    .files =
	(const struct sb_proc_src[]){
	    {"net/netstat", .single = true},
	    {"net/snmp", .single = true},
	    {"net/snmp6", .single = true, .optional = true},
	    {NULL},
	},
    .keys = netstat_keys,
    .check = netstat_check,
    .init = netstat_init,
    .collect = netstat_collect,
    .free = sb_proc_coll_filter_free,
};
