/* /proc/meminfo: node_exporter's meminfo collector, named
 * node_memory_<Field>_bytes with "(anon)" spelled "_anon"; the HugePages_*
 * counts carry no unit. The fields prometheus/procfs knows are checked
 * strictly (a size without its "kB" is a cut line, not bytes); any other
 * field is reported too, named the way node_exporter 1.5.0 names every
 * field it finds (a newer kernel's KReclaimable, Hugetlb, ...), so a host's
 * dashboards find them all. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

/* Sorted by key (strcmp order) for bsearch; the metric name after
 * node_memory_ makes its name and help text, joined at compile time. */
static const struct meminfo_key {
	const char *key;
	const char *name, *help;
	uint8_t len;
	bool count; /* HugePages_*: kept as written, unit or not */
} meminfo_keys[] = {
#define KC(key, sfx, c)                                                                            \
	{                                                                                          \
		key, "node_memory_" sfx, "Memory information field " sfx ".", sizeof(key) - 1, c   \
	}
#define K(key, sfx) KC(key, sfx, false)
#define KH(key) KC("HugePages_" key, "HugePages_" key, true)
    K("Active", "Active_bytes"),
    K("Active(anon)", "Active_anon_bytes"),
    K("Active(file)", "Active_file_bytes"),
    K("AnonHugePages", "AnonHugePages_bytes"),
    K("AnonPages", "AnonPages_bytes"),
    K("Bounce", "Bounce_bytes"),
    K("Buffers", "Buffers_bytes"),
    K("Cached", "Cached_bytes"),
    K("CmaFree", "CmaFree_bytes"),
    K("CmaTotal", "CmaTotal_bytes"),
    K("CommitLimit", "CommitLimit_bytes"),
    K("Committed_AS", "Committed_AS_bytes"),
    K("DirectMap1G", "DirectMap1G_bytes"),
    K("DirectMap2M", "DirectMap2M_bytes"),
    K("DirectMap4k", "DirectMap4k_bytes"),
    K("Dirty", "Dirty_bytes"),
    K("HardwareCorrupted", "HardwareCorrupted_bytes"),
    KH("Free"),
    KH("Rsvd"),
    KH("Surp"),
    KH("Total"),
    K("Hugepagesize", "Hugepagesize_bytes"),
    K("Inactive", "Inactive_bytes"),
    K("Inactive(anon)", "Inactive_anon_bytes"),
    K("Inactive(file)", "Inactive_file_bytes"),
    K("KernelStack", "KernelStack_bytes"),
    K("Mapped", "Mapped_bytes"),
    K("MemAvailable", "MemAvailable_bytes"),
    K("MemFree", "MemFree_bytes"),
    K("MemTotal", "MemTotal_bytes"),
    K("Mlocked", "Mlocked_bytes"),
    K("NFS_Unstable", "NFS_Unstable_bytes"),
    K("PageTables", "PageTables_bytes"),
    K("Percpu", "Percpu_bytes"),
    K("SReclaimable", "SReclaimable_bytes"),
    K("SUnreclaim", "SUnreclaim_bytes"),
    K("Shmem", "Shmem_bytes"),
    K("ShmemHugePages", "ShmemHugePages_bytes"),
    K("ShmemPmdMapped", "ShmemPmdMapped_bytes"),
    K("Slab", "Slab_bytes"),
    K("SwapCached", "SwapCached_bytes"),
    K("SwapFree", "SwapFree_bytes"),
    K("SwapTotal", "SwapTotal_bytes"),
    K("Unevictable", "Unevictable_bytes"),
    K("VmallocChunk", "VmallocChunk_bytes"),
    K("VmallocTotal", "VmallocTotal_bytes"),
    K("VmallocUsed", "VmallocUsed_bytes"),
    K("Writeback", "Writeback_bytes"),
    K("WritebackTmp", "WritebackTmp_bytes"),
    K("Zswap", "Zswap_bytes"),
    K("Zswapped", "Zswapped_bytes"),
#undef K
#undef KH
#undef KC
};

_Static_assert(SB_ARRAY_SIZE(meminfo_keys) <= 64, "one bit per key in a uint64_t");

struct keyref {
	const char *s;
	size_t n;
};

static int cmp_key(const void *a, const void *b)
{
	const struct keyref *k = a;
	const struct meminfo_key *m = b;
	int c = strncmp(k->s, m->key, k->n);
	if (c)
		return c;
	return m->key[k->n] ? -1 : 0;
}

/* A field not in the table: "Foo(bar)" becomes node_memory_Foo_bar, with
 * _bytes when it has a unit, as node_exporter 1.5.0 names every field. */
static int other(struct sb_evb *b, const char *key, size_t n, double v, bool bytes)
{
	char name[128], help[160];
	size_t o = 12;
	memcpy(name, "node_memory_", o);
	for (size_t i = 0; i < n && o + 8 < sizeof(name); i++) {
		char c = key[i];
		if (c == '(')
			name[o++] = '_';
		else if (c == ')')
			continue;
		else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			 (c >= '0' && c <= '9') || c == '_')
			name[o++] = c;
		else
			return 0; /* not a metric name: left out */
	}
	if (bytes) {
		memcpy(name + o, "_bytes", 6);
		o += 6;
	}
	name[o] = 0;
	SB_PROC_JOIN(help, SB_PJ("Memory information field "), SB_PJN(name + 12, o - 12),
		     SB_PJ("."));
	sb_evb_sample(b, name, SB_GAUGE, v);
	sb_evb_help(b, help);
	return 1;
}

int sb_proc_parse_meminfo_m(const char *text, struct sb_evb *b, struct sb_proc_meminfo_memo *memo,
			    struct sb_proc_perr *e)
{
	double val[SB_ARRAY_SIZE(meminfo_keys)];
	uint64_t have = 0;
	unsigned lineno = 0;
	int others = 0;
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		if (sb_pp_at_eol(p))
			continue; /* some kernels print blank lines */
		const char *w, *q = p;
		size_t wl = sb_pp_word(&q, &w);
		if (wl < 2 || w[wl - 1] != ':') {
			sb_proc_bad(e, lineno, "expected \"Field: value\"");
			continue;
		}
		uint64_t v;
		if (!sb_pp_u64(&q, &v)) {
			sb_proc_bad(e, lineno, "%.*s: bad value", (int)(wl - 1), w);
			continue;
		}
		const char *unit;
		size_t ul = sb_pp_word(&q, &unit);
		double bytes = (double)v;
		if (ul == 2 && !memcmp(unit, "kB", 2))
			bytes = (double)(v * 1024); /* wraps like procfs's uint64 would */
		else if (ul) {
			sb_proc_bad(e, lineno, "%.*s: unit is not kB", (int)(wl - 1), w);
			continue;
		}
		if (!sb_pp_at_eol(q)) {
			sb_proc_bad(e, lineno, "%.*s: trailing fields", (int)(wl - 1), w);
			continue;
		}
		/* the key this line had last round, else a search */
		size_t li = lineno - 1;
		uint8_t *kept = memo && li < sizeof(memo->key) ? &memo->key[li] : NULL;
		const struct meminfo_key *m = kept && *kept ? &meminfo_keys[*kept - 1] : NULL;
		if (!m || m->len != wl - 1 || memcmp(m->key, w, wl - 1)) {
			struct keyref k = {w, wl - 1};
			m = bsearch(&k, meminfo_keys, SB_ARRAY_SIZE(meminfo_keys),
				    sizeof(meminfo_keys[0]), cmp_key);
			if (kept)
				*kept = m ? (uint8_t)(m - meminfo_keys + 1) : 0;
		}
		if (!m) {
			others += other(b, w, wl - 1, ul ? bytes : (double)v, ul != 0);
			continue;
		}
		size_t i = (size_t)(m - meminfo_keys);
		bool count = m->count;
		/* The kernel writes kB on every size: a size without one is a
		 * line cut short, not a value in bytes. */
		if (!count && !ul) {
			sb_proc_bad(e, lineno, "%.*s: no unit (truncated?)", (int)(wl - 1), w);
			continue;
		}
		/* procfs keeps the HugePages_* counts as written, unit or not */
		val[i] = count ? (double)v : bytes;
		have |= 1ull << i;
	}
	int n = others;
	for (size_t i = 0; i < SB_ARRAY_SIZE(meminfo_keys); i++) {
		if (!(have & (1ull << i)))
			continue;
		sb_evb_sample(b, meminfo_keys[i].name, SB_GAUGE, val[i]);
		sb_evb_help(b, meminfo_keys[i].help);
		n++;
	}
	if (!lineno)
		sb_proc_bad(e, 0, "empty");
	return n;
}

int sb_proc_parse_meminfo(const char *text, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_meminfo_m(text, b, NULL, e);
}

/* ---- the collector ---- */

static int meminfo_init(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	return (c->priv = calloc(1, sizeof(struct sb_proc_meminfo_memo))) ? 0 : -ENOMEM;
}

static void meminfo_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	free(c->priv);
	c->priv = NULL;
}

static int meminfo_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	const char *text = sb_proc_coll_read(st, c, 0);
	if (!text)
		return sb_proc_read_err(c->f[0], false);
	struct sb_proc_perr e = {0};
	sb_proc_parse_meminfo_m(text, b, c->priv, &e);
	return sb_proc_report(st, c->f[0], &e);
}

const struct sb_proc_collector sb_proc_collector_meminfo = {
    .name = "meminfo",
    .default_on = true,
    .files = (const struct sb_proc_src[]){{"meminfo", .single = true}, {NULL}},
    .init = meminfo_init,
    .collect = meminfo_collect,
    .free = meminfo_free,
};
