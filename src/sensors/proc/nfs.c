/* /proc/net/rpc/nfs: node_exporter 1.5.0's nfs collector (NFS client RPC
 * statistics), with the rules of the procfs library it uses: "net" has 4
 * numbers, "rpc" 3, "procN" a count then that many numbers (at least 18
 * for v2, 22 for v3; v4 is padded with zeros up to its 59 operations, and
 * operations past those are not reported). A line the file lacks gives
 * zeros, as node_exporter. node_exporter fails the whole file on one bad
 * line; here only that line's series are left out. */
#include <errno.h>
#include <string.h>

#include "proc.h"

static const char *const v2_ops[] = {
    "Null",   "GetAttr", "SetAttr", "Root", "Lookup",  "ReadLink", "Read",  "WrCache", "Write",
    "Create", "Remove",	 "Rename",  "Link", "SymLink", "MkDir",	   "RmDir", "ReadDir", "FsStat",
};
static const char *const v3_ops[] = {
    "Null",    "GetAttr",     "SetAttr", "Lookup", "Access",   "ReadLink", "Read",   "Write",
    "Create",  "MkDir",	      "SymLink", "MkNod",  "Remove",   "RmDir",	   "Rename", "Link",
    "ReadDir", "ReadDirPlus", "FsStat",	 "FsInfo", "PathConf", "Commit",
};
static const char *const v4_ops[] = {
    "Null",
    "Read",
    "Write",
    "Commit",
    "Open",
    "OpenConfirm",
    "OpenNoattr",
    "OpenDowngrade",
    "Close",
    "Setattr",
    "FsInfo",
    "Renew",
    "SetClientID",
    "SetClientIDConfirm",
    "Lock",
    "Lockt",
    "Locku",
    "Access",
    "Getattr",
    "Lookup",
    "LookupRoot",
    "Remove",
    "Rename",
    "Link",
    "Symlink",
    "Create",
    "Pathconf",
    "StatFs",
    "ReadLink",
    "ReadDir",
    "ServerCaps",
    "DelegReturn",
    "GetACL",
    "SetACL",
    "FsLocations",
    "ReleaseLockowner",
    "Secinfo",
    "FsidPresent",
    "ExchangeID",
    "CreateSession",
    "DestroySession",
    "Sequence",
    "GetLeaseTime",
    "ReclaimComplete",
    "LayoutGet",
    "GetDeviceInfo",
    "LayoutCommit",
    "LayoutReturn",
    "SecinfoNoName",
    "TestStateID",
    "FreeStateID",
    "GetDeviceList",
    "BindConnToSession",
    "DestroyClientID",
    "Seek",
    "Allocate",
    "DeAllocate",
    "LayoutStats",
    "Clone",
};

enum { NFS_NET, NFS_RPC, NFS_V2, NFS_V3, NFS_V4, NFS_NLINES };

static const struct {
	const char *key;
	bool counted;	 /* a count of the numbers comes first */
	unsigned min;	 /* numbers needed (exactly, when not counted) */
	unsigned nnames; /* numbers reported */
	const char *const *ops;
} nfs_lines[NFS_NLINES] = {
    [NFS_NET] = {"net", false, 4, 4, NULL},
    [NFS_RPC] = {"rpc", false, 3, 3, NULL},
    [NFS_V2] = {"proc2", true, 18, SB_ARRAY_SIZE(v2_ops), v2_ops},
    [NFS_V3] = {"proc3", true, 22, SB_ARRAY_SIZE(v3_ops), v3_ops},
    [NFS_V4] = {"proc4", true, 0, SB_ARRAY_SIZE(v4_ops), v4_ops},
};

#define NFS_MAXV 59

struct nfs_vals {
	bool bad[NFS_NLINES];
	bool seen[NFS_NLINES];
	uint64_t v[NFS_NLINES][NFS_MAXV];
};

/* The numbers after the key at p into v (up to cap kept, all counted);
 * false when one is not a number. */
static bool nfs_numbers(const char *p, uint64_t *v, unsigned cap, unsigned *n)
{
	*n = 0;
	while (!sb_pp_at_eol(p)) {
		uint64_t x;
		if (!sb_pp_u64(&p, &x))
			return false;
		if (*n < cap)
			v[*n] = x;
		(*n)++;
	}
	return true;
}

static void nfs_line(const char *p, unsigned lineno, struct nfs_vals *nv, struct sb_proc_perr *e)
{
	const char *w;
	size_t wl = sb_pp_word(&p, &w);
	int k = -1;
	for (int i = 0; i < NFS_NLINES; i++)
		if (wl == strlen(nfs_lines[i].key) && !memcmp(w, nfs_lines[i].key, wl))
			k = i;
	if (k < 0) {
		sb_proc_bad(e, lineno, "unknown line \"%.*s\"", (int)(wl > 32 ? 32 : wl),
			    w ? w : "");
		return;
	}
	uint64_t v[NFS_MAXV + 1] = {0};
	unsigned n;
	if (!nfs_numbers(p, v, NFS_MAXV + 1, &n) || n == 0) {
		sb_proc_bad(e, lineno, "%s: expected numbers", nfs_lines[k].key);
		nv->bad[k] = true;
		return;
	}
	const uint64_t *vals = v;
	if (nfs_lines[k].counted) {
		if (v[0] != n - 1 || n - 1 < nfs_lines[k].min) {
			sb_proc_bad(e, lineno, "%s: count %llu, %u numbers (at least %u)",
				    nfs_lines[k].key, (unsigned long long)v[0], n - 1,
				    nfs_lines[k].min);
			nv->bad[k] = true;
			return;
		}
		vals = v + 1;
		n--;
	} else if (n != nfs_lines[k].min) {
		sb_proc_bad(e, lineno, "%s: expected %u numbers", nfs_lines[k].key,
			    nfs_lines[k].min);
		nv->bad[k] = true;
		return;
	}
	nv->bad[k] = false; /* a later line wins, as in procfs */
	nv->seen[k] = true;
	memset(nv->v[k], 0, sizeof(nv->v[k]));
	memcpy(nv->v[k], vals,
	       sizeof(uint64_t) * (n < nfs_lines[k].nnames ? n : nfs_lines[k].nnames));
}

static void counter(struct sb_evb *b, const char *name, const char *help, uint64_t v)
{
	sb_evb_sample(b, name, SB_COUNTER, (double)v);
	sb_evb_help(b, help);
}

int sb_proc_parse_nfs(const char *text, struct sb_evb *b, struct sb_proc_perr *e)
{
	/* node_exporter reports zeros for an empty file; the kernel always
	 * writes the net and rpc lines, so empty is a failed read */
	if (!*text) {
		sb_proc_bad(e, 0, "empty");
		return 0;
	}
	struct nfs_vals nv;
	memset(&nv, 0, sizeof(nv));
	unsigned lineno = 0;
	SB_PROC_FOR_LINES(p, text, lineno, e) { nfs_line(p, lineno, &nv, e); }
	/* a copy cut short: a line it lacks may be the one cut, not one the
	 * kernel left out, so its zeros would be a guess */
	size_t len = strlen(text);
	for (int k = 0; len && text[len - 1] != '\n' && k < NFS_NLINES; k++)
		nv.bad[k] |= !nv.seen[k];
	int n = 0;
	if (!nv.bad[NFS_NET]) {
		static const char *const proto[] = {"udp", "tcp"};
		for (int i = 0; i < 2; i++) {
			counter(b, "node_nfs_packets_total",
				"Total NFSd network packets (sent+received) by protocol type.",
				nv.v[NFS_NET][1 + i]);
			sb_evb_label(b, "protocol", proto[i]);
		}
		counter(b, "node_nfs_connections_total", "Total number of NFSd TCP connections.",
			nv.v[NFS_NET][3]);
		n += 3;
	}
	if (!nv.bad[NFS_RPC]) {
		counter(b, "node_nfs_rpcs_total", "Total number of RPCs performed.",
			nv.v[NFS_RPC][0]);
		counter(b, "node_nfs_rpc_retransmissions_total",
			"Number of RPC transmissions performed.", nv.v[NFS_RPC][1]);
		counter(b, "node_nfs_rpc_authentication_refreshes_total",
			"Number of RPC authentication refreshes performed.", nv.v[NFS_RPC][2]);
		n += 3;
	}
	static const char *const vers[] = {"2", "3", "4"};
	for (int k = NFS_V2; k <= NFS_V4; k++) {
		if (nv.bad[k])
			continue;
		for (unsigned i = 0; i < nfs_lines[k].nnames; i++) {
			counter(b, "node_nfs_requests_total", "Number of NFS procedures invoked.",
				nv.v[k][i]);
			sb_evb_label(b, "proto", vers[k - NFS_V2]);
			sb_evb_label(b, "method", nfs_lines[k].ops[i]);
			n++;
		}
	}
	return n;
}

/* ---- the collector ---- */

static int nfs_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	const char *text = sb_proc_coll_read(st, c, 0);
	if (!text) /* no NFS client: node_exporter's ErrNoData */
		return sb_proc_nodata(c->f[0]);
	struct sb_proc_perr e = {0};
	sb_proc_parse_nfs(text, b, &e);
	return sb_proc_report(st, c->f[0], &e);
}

const struct sb_proc_collector sb_proc_collector_nfs = {
    .name = "nfs",
    .default_on = true,
    .files =
	(const struct sb_proc_src[]){{"net/rpc/nfs", .single = true, .optional = true}, {NULL}},
    .collect = nfs_collect,
};
