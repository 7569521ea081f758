/* /proc/net/rpc/nfsd: node_exporter 1.5.0's nfsd collector (NFS server
 * RPC statistics), with the rules of the procfs library it uses: each
 * line's count of numbers is checked (th: only its first two, the rest
 * are floats), "procN" lines start with a count; a line the file lacks
 * gives zeros. node_exporter fails the whole file on one bad or unknown
 * line; here only that line's series are left out, and wdeleg_getattr
 * (Linux 6.7+, which 1.5.0 does not know and fails on) is skipped. */
#include <errno.h>
#include <string.h>

#include "proc.h"

enum { RC, FH, IO, TH, RA, NET, RPC, P2, P3, P4, P4OPS, NLINES };

static const struct {
	const char *key;
	bool counted;  /* a count of the numbers comes first */
	bool at_least; /* min numbers or more; else exactly min */
	unsigned min;
} lines[NLINES] = {
    [RC] = {"rc", false, false, 3},	    [FH] = {"fh", false, false, 5},
    [IO] = {"io", false, false, 2},	    [TH] = {"th", false, true, 2},
    [RA] = {"ra", false, false, 12},	    [NET] = {"net", false, false, 4},
    [RPC] = {"rpc", false, false, 5},	    [P2] = {"proc2", true, true, 18},
    [P3] = {"proc3", true, true, 22},	    [P4] = {"proc4", true, false, 2},
    [P4OPS] = {"proc4ops", true, true, 39},
};

#define NFSD_MAXV 40 /* numbers kept per line: proc4ops' first 39 */

/* The series other than the requests: line, index, name, type, HELP and
 * one optional label. */
static const struct {
	int line;
	unsigned i;
	const char *name;
	enum sb_mtype type;
	const char *help, *lk, *lv;
} series[] = {
    {RC, 0, "node_nfsd_reply_cache_hits_total", SB_COUNTER,
     "Total number of NFSd Reply Cache hits (client lost server response).", NULL, NULL},
    {RC, 1, "node_nfsd_reply_cache_misses_total", SB_COUNTER,
     "Total number of NFSd Reply Cache an operation that requires caching (idempotent).", NULL,
     NULL},
    {RC, 2, "node_nfsd_reply_cache_nocache_total", SB_COUNTER,
     "Total number of NFSd Reply Cache non-idempotent operations (rename/delete/…).", NULL, NULL},
    {FH, 0, "node_nfsd_file_handles_stale_total", SB_COUNTER,
     "Total number of NFSd stale file handles", NULL, NULL},
    {IO, 0, "node_nfsd_disk_bytes_read_total", SB_COUNTER, "Total NFSd bytes read.", NULL, NULL},
    {IO, 1, "node_nfsd_disk_bytes_written_total", SB_COUNTER, "Total NFSd bytes written.", NULL,
     NULL},
    {TH, 0, "node_nfsd_server_threads", SB_GAUGE,
     "Total number of NFSd kernel threads that are running.", NULL, NULL},
    {RA, 0, "node_nfsd_read_ahead_cache_size_blocks", SB_GAUGE,
     "How large the read ahead cache is in blocks.", NULL, NULL},
    {RA, 11, "node_nfsd_read_ahead_cache_not_found_total", SB_COUNTER,
     "Total number of NFSd read ahead cache not found.", NULL, NULL},
    {NET, 1, "node_nfsd_packets_total", SB_COUNTER,
     "Total NFSd network packets (sent+received) by protocol type.", "proto", "udp"},
    {NET, 2, "node_nfsd_packets_total", SB_COUNTER,
     "Total NFSd network packets (sent+received) by protocol type.", "proto", "tcp"},
    {NET, 3, "node_nfsd_connections_total", SB_COUNTER, "Total number of NFSd TCP connections.",
     NULL, NULL},
    {RPC, 0, "node_nfsd_server_rpcs_total", SB_COUNTER, "Total number of NFSd RPCs.", NULL, NULL},
    {RPC, 2, "node_nfsd_rpc_errors_total", SB_COUNTER,
     "Total number of NFSd RPC errors by error type.", "error", "fmt"},
    {RPC, 3, "node_nfsd_rpc_errors_total", SB_COUNTER,
     "Total number of NFSd RPC errors by error type.", "error", "auth"},
    {RPC, 4, "node_nfsd_rpc_errors_total", SB_COUNTER,
     "Total number of NFSd RPC errors by error type.", "error", "cInt"},
};

/* node_nfsd_requests_total{proto,method}: the numbers 1.5.0 reports, by
 * position after the count (Null is not reported; proc4ops as procfs 0.8
 * names them, PutPubFH and PutRootFH left out). */
static const struct {
	int line;
	unsigned i;
	const char *method;
} requests[] = {
    {P2, 1, "GetAttr"},
    {P2, 2, "SetAttr"},
    {P2, 3, "Root"},
    {P2, 4, "Lookup"},
    {P2, 5, "ReadLink"},
    {P2, 6, "Read"},
    {P2, 7, "WrCache"},
    {P2, 8, "Write"},
    {P2, 9, "Create"},
    {P2, 10, "Remove"},
    {P2, 11, "Rename"},
    {P2, 12, "Link"},
    {P2, 13, "SymLink"},
    {P2, 14, "MkDir"},
    {P2, 15, "RmDir"},
    {P2, 16, "ReadDir"},
    {P2, 17, "FsStat"},
    {P3, 1, "GetAttr"},
    {P3, 2, "SetAttr"},
    {P3, 3, "Lookup"},
    {P3, 4, "Access"},
    {P3, 5, "ReadLink"},
    {P3, 6, "Read"},
    {P3, 7, "Write"},
    {P3, 8, "Create"},
    {P3, 9, "MkDir"},
    {P3, 10, "SymLink"},
    {P3, 11, "MkNod"},
    {P3, 12, "Remove"},
    {P3, 13, "RmDir"},
    {P3, 14, "Rename"},
    {P3, 15, "Link"},
    {P3, 16, "ReadDir"},
    {P3, 17, "ReadDirPlus"},
    {P3, 18, "FsStat"},
    {P3, 19, "FsInfo"},
    {P3, 20, "PathConf"},
    {P3, 21, "Commit"},
    {P4OPS, 3, "Access"},
    {P4OPS, 4, "Close"},
    {P4OPS, 5, "Commit"},
    {P4OPS, 6, "Create"},
    {P4OPS, 7, "DelegPurge"},
    {P4OPS, 8, "DelegReturn"},
    {P4OPS, 9, "GetAttr"},
    {P4OPS, 10, "GetFH"},
    {P4OPS, 11, "Link"},
    {P4OPS, 12, "Lock"},
    {P4OPS, 13, "Lockt"},
    {P4OPS, 14, "Locku"},
    {P4OPS, 15, "Lookup"},
    {P4OPS, 16, "LookupRoot"},
    {P4OPS, 17, "Nverify"},
    {P4OPS, 18, "Open"},
    {P4OPS, 19, "OpenAttr"},
    {P4OPS, 20, "OpenConfirm"},
    {P4OPS, 21, "OpenDgrd"},
    {P4OPS, 22, "PutFH"},
    {P4OPS, 25, "Read"},
    {P4OPS, 26, "ReadDir"},
    {P4OPS, 27, "ReadLink"},
    {P4OPS, 28, "Remove"},
    {P4OPS, 29, "Rename"},
    {P4OPS, 30, "Renew"},
    {P4OPS, 31, "RestoreFH"},
    {P4OPS, 32, "SaveFH"},
    {P4OPS, 33, "SecInfo"},
    {P4OPS, 34, "SetAttr"},
    {P4OPS, 35, "Verify"},
    {P4OPS, 36, "Write"},
    {P4OPS, 37, "RelLockOwner"},
};

struct nfsd_vals {
	bool bad[NLINES], seen[NLINES];
	uint64_t v[NLINES][NFSD_MAXV];
};

static void nfsd_line(const char *p, unsigned lineno, struct nfsd_vals *nv, struct sb_proc_perr *e)
{
	const char *w;
	size_t wl = sb_pp_word(&p, &w);
	if (wl == 14 && !memcmp(w, "wdeleg_getattr", 14))
		return;
	int k = -1;
	for (int i = 0; i < NLINES; i++)
		if (wl == strlen(lines[i].key) && !memcmp(w, lines[i].key, wl))
			k = i;
	if (k < 0) {
		sb_proc_bad(e, lineno, "unknown line \"%.*s\"", (int)(wl > 32 ? 32 : wl),
			    w ? w : "");
		return;
	}
	uint64_t v[NFSD_MAXV + 1] = {0};
	unsigned n = 0;
	/* th: threads and "full" count, then floats procfs does not read */
	unsigned take = k == TH ? 2 : UINT32_MAX;
	bool ok = true;
	while (n < take && !sb_pp_at_eol(p)) {
		uint64_t x;
		if (!sb_pp_u64(&p, &x)) {
			ok = false;
			break;
		}
		if (n < NFSD_MAXV + 1)
			v[n] = x;
		n++;
	}
	const uint64_t *vals = v;
	if (ok && lines[k].counted) {
		ok = n > 0 && v[0] == n - 1;
		vals = v + 1;
		n = n ? n - 1 : 0;
	}
	if (!ok || n < lines[k].min || (!lines[k].at_least && n != lines[k].min)) {
		sb_proc_bad(e, lineno, "%s: expected %s%u numbers%s", lines[k].key,
			    lines[k].at_least ? "at least " : "", lines[k].min,
			    lines[k].counted ? " after their count" : "");
		nv->bad[k] = true;
		return;
	}
	nv->bad[k] = false; /* a later line wins, as in procfs */
	nv->seen[k] = true;
	memset(nv->v[k], 0, sizeof(nv->v[k]));
	memcpy(nv->v[k], vals, sizeof(uint64_t) * (n < NFSD_MAXV ? n : NFSD_MAXV));
}

int sb_proc_parse_nfsd(const char *text, struct sb_evb *b, struct sb_proc_perr *e)
{
	/* node_exporter reports zeros for an empty file; the kernel always
	 * writes its lines, so empty is a failed read */
	if (!*text) {
		sb_proc_bad(e, 0, "empty");
		return 0;
	}
	struct nfsd_vals nv;
	memset(&nv, 0, sizeof(nv));
	unsigned lineno = 0;
	SB_PROC_FOR_LINES(p, text, lineno, e) { nfsd_line(p, lineno, &nv, e); }
	/* a copy cut short: a line it lacks may be the one cut, not one the
	 * kernel left out, so its zeros would be a guess */
	size_t len = strlen(text);
	for (int k = 0; text[len - 1] != '\n' && k < NLINES; k++)
		nv.bad[k] |= !nv.seen[k];
	int n = 0;
	for (size_t i = 0; i < SB_ARRAY_SIZE(series); i++) {
		if (nv.bad[series[i].line])
			continue;
		sb_evb_sample(b, series[i].name, series[i].type,
			      (double)nv.v[series[i].line][series[i].i]);
		sb_evb_help(b, series[i].help);
		if (series[i].lk)
			sb_evb_label(b, series[i].lk, series[i].lv);
		n++;
	}
	for (size_t i = 0; i < SB_ARRAY_SIZE(requests); i++) {
		int k = requests[i].line;
		if (nv.bad[k])
			continue;
		sb_evb_sample(b, "node_nfsd_requests_total", SB_COUNTER,
			      (double)nv.v[k][requests[i].i]);
		sb_evb_help(b, "Total number NFSd Requests by method and protocol.");
		sb_evb_label(b, "proto", k == P2 ? "2" : k == P3 ? "3" : "4");
		sb_evb_label(b, "method", requests[i].method);
		n++;
	}
	return n;
}

/* ---- the collector ---- */

static int nfsd_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	const char *text = sb_proc_coll_read(st, c, 0);
	if (!text) /* no NFS server: node_exporter's ErrNoData */
		return sb_proc_nodata(c->f[0]);
	struct sb_proc_perr e = {0};
	sb_proc_parse_nfsd(text, b, &e);
	return sb_proc_report(st, c->f[0], &e);
}

const struct sb_proc_collector sb_proc_collector_nfsd = {
    .name = "nfsd",
    .default_on = true,
    .files =
	(const struct sb_proc_src[]){{"net/rpc/nfsd", .single = true, .optional = true}, {NULL}},
    .collect = nfsd_collect,
};
