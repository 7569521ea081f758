/* /proc/net/netstat, /proc/net/snmp and /proc/net/snmp6: node_exporter's
 * netstat collector. Fields whose "Proto_Name" passes the field filter
 * become node_netstat_<Proto>_<Name>, untyped as in node_exporter. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- the memo: what a line let through last round ---- */

struct ns_out {
	unsigned idx; /* the field's position on its line */
	char *name, *help;
};

struct ns_line {
	char *key; /* netstat: the whole header line; snmp6: the line's name */
	size_t klen;
	unsigned nf; /* netstat: the names on the header line */
	struct ns_out *out;
	unsigned nout;
};

#define MEMO_LINES 256 /* lines of one file remembered (snmp6 has ~90) */

struct sb_proc_ns_memo {
	struct ns_line line[MEMO_LINES];
	/* the line being recorded: its outs, until it is known good */
	struct ns_out *rec;
	unsigned nrec, caprec;
	bool rec_failed;
};

struct sb_proc_ns_memo *sb_proc_ns_memo_new(void)
{
	return calloc(1, sizeof(struct sb_proc_ns_memo));
}

static void outs_free(struct ns_out *o, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		free(o[i].name);
		free(o[i].help);
	}
}

static void line_clear(struct ns_line *l)
{
	outs_free(l->out, l->nout);
	free(l->out);
	free(l->key);
	memset(l, 0, sizeof(*l));
}

void sb_proc_ns_memo_free(struct sb_proc_ns_memo *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < MEMO_LINES; i++)
		line_clear(&m->line[i]);
	outs_free(m->rec, m->nrec);
	free(m->rec);
	free(m);
}

/* The entry for line j when it holds key (the same bytes as last round). */
static const struct ns_line *memo_hit(const struct sb_proc_ns_memo *m, unsigned j, const char *key,
				      size_t klen)
{
	if (!m || j >= MEMO_LINES)
		return NULL;
	const struct ns_line *l = &m->line[j];
	return l->key && l->klen == klen && !memcmp(l->key, key, klen) ? l : NULL;
}

static void rec_begin(struct sb_proc_ns_memo *m)
{
	if (!m)
		return;
	outs_free(m->rec, m->nrec);
	m->nrec = 0;
	m->rec_failed = false;
}

static void rec_out(struct sb_proc_ns_memo *m, unsigned idx, const char *name, const char *help)
{
	if (!m || m->rec_failed)
		return;
	if (m->nrec == m->caprec) {
		size_t cap = m->caprec;
		if (sb_grow((void **)&m->rec, &cap, m->nrec + 1, sizeof(*m->rec))) {
			m->rec_failed = true;
			return;
		}
		m->caprec = (unsigned)cap;
	}
	struct ns_out *o = &m->rec[m->nrec];
	o->idx = idx;
	o->name = strdup(name);
	o->help = strdup(help);
	m->nrec++;
	if (!o->name || !o->help)
		m->rec_failed = true;
}

/* Line j, key, is good and let through what was recorded: keep it. */
static void rec_keep(struct sb_proc_ns_memo *m, unsigned j, const char *key, size_t klen,
		     unsigned nf)
{
	if (!m || j >= MEMO_LINES)
		return;
	struct ns_line *l = &m->line[j];
	line_clear(l);
	if (m->rec_failed || !(l->key = malloc(klen + 1)))
		return;
	memcpy(l->key, key, klen);
	l->key[klen] = 0;
	l->klen = klen;
	l->nf = nf;
	if (m->nrec) {
		l->out = malloc(m->nrec * sizeof(*l->out));
		if (!l->out) {
			free(l->key);
			l->key = NULL;
			return;
		}
		memcpy(l->out, m->rec, m->nrec * sizeof(*l->out));
		l->nout = m->nrec;
		m->nrec = 0; /* the strings moved */
	}
}

static void emit(struct sb_evb *b, const char *proto, size_t pl, const char *f, size_t fl, double v,
		 struct sb_proc_ns_memo *m, unsigned idx)
{
	char name[160], help[160];
	SB_PROC_JOIN(name, SB_PJ("node_netstat_"), SB_PJN(proto, pl), SB_PJ("_"), SB_PJN(f, fl));
	SB_PROC_JOIN(help, SB_PJ("Statistic "), SB_PJN(proto, pl), SB_PJN(f, fl), SB_PJ("."));
	sb_evb_sample(b, name, SB_UNTYPED, v);
	sb_evb_help(b, help);
	rec_out(m, idx, name, help);
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

int sb_proc_parse_netstat_m(const char *text, struct sb_evb *b, struct sb_proc_filter *fields,
			    struct sb_proc_protos *seen, struct sb_proc_ns_memo *m,
			    struct sb_proc_perr *e)
{
	int n = 0;
	unsigned lineno = 0;
	double v[MAX_FIELDS];
	for (const char *p = text; *p;) {
		const char *head = p, *vals = sb_pp_next(p);
		unsigned hl = ++lineno, pair = (hl - 1) / 2;
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
		size_t hlen = (size_t)(sb_pp_eol(head) - head);
		const struct ns_line *known = memo_hit(m, pair, head, hlen);
		unsigned nf = 0;
		const char *f = q;
		for (; !known;) {
			const char *w;
			size_t wl = sb_pp_word(&f, &w);
			if (!wl)
				break;
			if (!sb_proc_name_ok(w, wl))
				ok = false;
			nf++;
		}
		if (known)
			nf = known->nf; /* its names were checked when it was kept */
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
		if (known) {
			for (unsigned i = 0; i < known->nout; i++) {
				sb_evb_sample(b, known->out[i].name, SB_UNTYPED,
					      v[known->out[i].idx]);
				sb_evb_help(b, known->out[i].help);
			}
			n += (int)known->nout;
			continue;
		}
		rec_begin(m);
		f = q;
		for (unsigned i = 0; i < nf; i++) {
			const char *w;
			size_t wl = sb_pp_word(&f, &w);
			if (!pass(fields, proto, pl, w, wl))
				continue;
			emit(b, proto, pl, w, wl, v[i], m, i);
			n++;
		}
		rec_keep(m, pair, head, hlen, nf);
	}
	if (!lineno)
		sb_proc_bad(e, 0, "empty");
	return n;
}

int sb_proc_parse_netstat(const char *text, struct sb_evb *b, struct sb_proc_filter *fields,
			  struct sb_proc_protos *seen, struct sb_proc_perr *e)
{
	return sb_proc_parse_netstat_m(text, b, fields, seen, NULL, e);
}

int sb_proc_parse_snmp6_m(const char *text, struct sb_evb *b, struct sb_proc_filter *fields,
			  struct sb_proc_ns_memo *m, struct sb_proc_perr *e)
{
	int n = 0;
	unsigned lineno = 0, known = 0;
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		const char *w, *q = p;
		size_t wl = sb_pp_word(&q, &w);
		if (!wl || sb_pp_at_eol(q))
			continue; /* node_exporter skips lines of fewer than 2 fields */
		const struct ns_line *hit = memo_hit(m, lineno - 1, w, wl);
		const char *six = hit ? w : memchr(w, '6', wl);
		if (!six)
			continue; /* and names without a "6" */
		double v;
		if ((!hit && !sb_proc_name_ok(w, wl)) || !number(&q, &v) || !sb_pp_at_eol(q)) {
			sb_proc_bad(e, lineno, "expected \"Name6Field value\"");
			continue;
		}
		known++;
		if (hit) {
			if (hit->nout) {
				sb_evb_sample(b, hit->out[0].name, SB_UNTYPED, v);
				sb_evb_help(b, hit->out[0].help);
				n++;
			}
			continue;
		}
		size_t pl = (size_t)(six - w) + 1;
		rec_begin(m);
		if (pl != wl && pass(fields, w, pl, w + pl, wl - pl)) {
			emit(b, w, pl, w + pl, wl - pl, v, m, 0);
			n++;
		}
		rec_keep(m, lineno - 1, w, wl, 1);
	}
	/* lines node_exporter skips are fine, a file of nothing else is not */
	if (lineno && !known && !e->nbad)
		sb_proc_bad(e, 0, "no \"Name6Field value\" lines");
	return n;
}

int sb_proc_parse_snmp6(const char *text, struct sb_evb *b, struct sb_proc_filter *fields,
			struct sb_proc_perr *e)
{
	return sb_proc_parse_snmp6_m(text, b, fields, NULL, e);
}

/* ---- the collector ---- */

struct netstat {
	struct sb_proc_filter fields;
	struct sb_proc_ns_memo *memo[3]; /* netstat, snmp, snmp6 */
};

static int netstat_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct netstat *ns = calloc(1, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	c->priv = ns;
	for (int i = 0; i < 3; i++)
		if (!(ns->memo[i] = sb_proc_ns_memo_new()))
			return -ENOMEM;
	char err[256];
	int r = sb_proc_filter_init(&ns->fields, st->cfg->netstat_fields, NULL, err, sizeof(err));
	if (r)
		sb_err(st->comp, "%s", err);
	return r;
}

static void netstat_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct netstat *ns = c->priv;
	if (!ns)
		return;
	for (int i = 0; i < 3; i++)
		sb_proc_ns_memo_free(ns->memo[i]);
	sb_proc_filter_free(&ns->fields);
	free(ns);
	c->priv = NULL;
}

static int netstat_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct netstat *ns = c->priv;
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
			sb_proc_parse_netstat_m(text, b, &ns->fields, &seen, ns->memo[i], &e);
		else
			sb_proc_parse_snmp6_m(text, b, &ns->fields, ns->memo[i], &e);
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
    .free = netstat_free,
};
