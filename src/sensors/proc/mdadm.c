/* /proc/mdstat: node_exporter 1.5.0's mdadm collector, with the rules of
 * the procfs library it uses. A device is its line ("md0 : active raid1
 * sda1[0] sdb1[1](F)"), a status line ("N blocks ... [2/1] [U_]") and the
 * line after, which may hold the resync progress (or a bitmap line, then
 * the progress line). node_exporter fails the whole file on one bad
 * device; here that device is skipped and reported, the others still come
 * out. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

struct span {
	const char *p, *end;
};

static struct span line_at(const char *p) { return (struct span){p, sb_pp_eol(p)}; }

static bool has(struct span l, const char *s)
{
	return memmem(l.p, (size_t)(l.end - l.p), s, strlen(s)) != NULL;
}

static unsigned count(struct span l, const char *s)
{
	unsigned n = 0;
	size_t sl = strlen(s);
	for (const char *q = l.p; (q = memmem(q, (size_t)(l.end - q), s, sl)); q += sl)
		n++;
	return n;
}

static bool digits(const char **q, const char *end, uint64_t *v)
{
	const char *s = *q;
	uint64_t x = 0;
	while (*q < end && **q >= '0' && **q <= '9') {
		if (x > (UINT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (uint64_t)(**q - '0');
		(*q)++;
	}
	*v = x;
	return *q > s;
}

/* procfs' `(\d+) blocks .*\[(\d+)/(\d+)\] \[([U_]+)\]`: the greedy .* takes
 * the last "[total/active] [UU_]" after "N blocks ". */
static bool status_counts(struct span l, uint64_t *total, uint64_t *active)
{
	const char *b = l.p;
	for (;; b++) {
		b = memmem(b, (size_t)(l.end - b), " blocks ", 8);
		if (!b)
			return false;
		if (b > l.p && b[-1] >= '0' && b[-1] <= '9')
			break;
	}
	for (const char *s = l.end - 1; s >= b + 8; s--) {
		if (*s != '[')
			continue;
		const char *q = s + 1;
		uint64_t t, a;
		if (!digits(&q, l.end, &t) || q >= l.end || *q++ != '/' || !digits(&q, l.end, &a) ||
		    l.end - q < 3 || q[0] != ']' || q[1] != ' ' || q[2] != '[')
			continue;
		q += 3;
		const char *u = q;
		while (q < l.end && (*q == 'U' || *q == '_'))
			q++;
		if (q == u || q >= l.end || *q != ']')
			continue;
		*total = t;
		*active = a;
		return true;
	}
	return false;
}

/* procfs' `\((\d+)/\d+\)`: the blocks synced so far. */
static bool synced_blocks(struct span l, uint64_t *v)
{
	for (const char *s = l.p; s < l.end; s++) {
		if (*s != '(')
			continue;
		const char *q = s + 1;
		uint64_t done, all;
		if (digits(&q, l.end, &done) && q < l.end && *q++ == '/' &&
		    digits(&q, l.end, &all) && q < l.end && *q == ')') {
			*v = done;
			return true;
		}
	}
	return false;
}

/* Go's ParseFloat over [p, end): the whole span a number. */
static bool is_float(const char *p, const char *end)
{
	char buf[64];
	size_t n = (size_t)(end - p);
	if (!n || n >= sizeof(buf) || *p == ' ' || *p == '\t')
		return false;
	memcpy(buf, p, n);
	buf[n] = 0;
	char *q;
	errno = 0;
	(void)strtod(buf, &q);
	return *q == 0 && errno != ERANGE;
}

/* The greedy `<key>(.+)<last>` of procfs: from the first key to the last
 * character for which last() holds, at least one between. */
static bool greedy(struct span l, const char *key, bool (*last)(const char *s, const char *end),
		   const char **v, const char **vend)
{
	const char *k = memmem(l.p, (size_t)(l.end - l.p), key, strlen(key));
	if (!k)
		return false;
	*v = k + strlen(key);
	for (const char *s = l.end - 1; s > *v; s--)
		if (last(s, l.end)) {
			*vend = s;
			return true;
		}
	return false;
}

static bool at_pct(const char *s, const char *end) { return (void)end, *s == '%'; }
static bool at_min(const char *s, const char *end) { return end - s >= 3 && !memcmp(s, "min", 3); }
static bool at_upper(const char *s, const char *end) { return (void)end, *s >= 'A' && *s <= 'Z'; }

/* The rest of procfs' progress line: "= 8.5%", "finish=17.0min" and
 * "speed=259783K/sec", each a number, or the whole file fails in
 * node_exporter (its collector does not report them). */
static bool progress_ok(struct span l)
{
	const char *v, *e;
	if (!greedy(l, "= ", at_pct, &v, &e))
		return false;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return is_float(v, e) && greedy(l, "finish=", at_min, &v, &e) && is_float(v, e) &&
	       greedy(l, "speed=", at_upper, &v, &e) && is_float(v, e);
}

enum { MD_ACTIVE, MD_INACTIVE, MD_RECOVERING, MD_RESYNC, MD_CHECK, MD_OTHER };
static const char *const md_states[] = {"active", "inactive", "recovering", "resync", "check"};

struct md {
	const char *name;
	size_t namelen;
	int state;
	uint64_t active, total, failed, spare, blocks, synced;
};

/* The device at line dev (lineno); false with the reason in *why. */
static bool md_device(const char *dev, struct md *m, const char **why)
{
	struct span d = line_at(dev);
	const char *q = dev, *w[3];
	size_t wl[3];
	for (int i = 0; i < 3; i++) {
		wl[i] = sb_pp_word(&q, &w[i]);
		if (!wl[i]) {
			*why = "expected \"mdN : state ...\"";
			return false;
		}
	}
	/* the device line, the status line and the one after, whole */
	struct span st = line_at(sb_pp_next(dev));
	struct span sync = line_at(sb_pp_next(st.p));
	if (*d.end != '\n' || *st.end != '\n' || *sync.end != '\n') {
		*why = "cut short: a device needs its line, its status line and the one after";
		return false;
	}
	if (has(sync, "bitmap")) {
		sync = line_at(sync.end + 1);
		if (*sync.end != '\n') {
			*why = "cut short after the bitmap line";
			return false;
		}
	}
	m->name = w[0];
	m->namelen = wl[0];
	m->state = MD_OTHER;
	/* the word after the colon, as the collector matches procfs' states */
	static const char *const words[] = {"active", "inactive", "recovering", "resyncing",
					    "checking"};
	for (int i = MD_ACTIVE; i < MD_OTHER; i++)
		if (wl[2] == strlen(words[i]) && !memcmp(w[2], words[i], wl[2]))
			m->state = i;
	m->failed = count(d, "(F)");
	m->spare = count(d, "(S)");
	q = st.p;
	if (!sb_pp_u64(&q, &m->blocks)) {
		*why = "expected the status line's block count";
		return false;
	}
	if (has(d, "raid0") || has(d, "linear")) {
		m->total = m->active = count(d, "[");
	} else if (has(d, "inactive")) {
		m->total = m->active = 0;
	} else if (!status_counts(st, &m->total, &m->active)) {
		*why = "expected \"N blocks ... [total/active] [U_]\" in the status line";
		return false;
	}
	m->synced = m->blocks;
	bool recovering = has(sync, "recovery"), resyncing = has(sync, "resync"),
	     checking = has(sync, "check");
	if (!recovering && !resyncing && !checking)
		return true;
	m->state = recovering ? MD_RECOVERING : checking ? MD_CHECK : MD_RESYNC;
	if (has(sync, "PENDING") || has(sync, "DELAYED"))
		m->synced = 0;
	else if (!synced_blocks(sync, &m->synced) || !progress_ok(sync)) {
		*why =
		    "expected \"= P% (synced/total) finish=Tmin speed=SK/sec\" in the resync line";
		return false;
	}
	return true;
}

static void md_samples(struct sb_evb *b, const struct md *m)
{
	static const char *const disk_states[] = {"active", "failed", "spare"};
	const uint64_t disks[] = {m->active, m->failed, m->spare};
	sb_evb_sample(b, "node_md_disks_required", SB_GAUGE, (double)m->total);
	sb_evb_help(b, "Total number of disks of device.");
	sb_evb_labeln(b, "device", 6, m->name, m->namelen);
	for (int i = 0; i < 3; i++) {
		sb_evb_sample(b, "node_md_disks", SB_GAUGE, (double)disks[i]);
		sb_evb_help(b, "Number of active/failed/spare disks of device.");
		sb_evb_labeln(b, "device", 6, m->name, m->namelen);
		sb_evb_label(b, "state", disk_states[i]);
	}
	for (int i = MD_ACTIVE; i < MD_OTHER; i++) {
		sb_evb_sample(b, "node_md_state", SB_GAUGE, m->state == i);
		sb_evb_help(b, "Indicates the state of md-device.");
		sb_evb_labeln(b, "device", 6, m->name, m->namelen);
		sb_evb_label(b, "state", md_states[i]);
	}
	sb_evb_sample(b, "node_md_blocks", SB_GAUGE, (double)m->blocks);
	sb_evb_help(b, "Total number of blocks on device.");
	sb_evb_labeln(b, "device", 6, m->name, m->namelen);
	sb_evb_sample(b, "node_md_blocks_synced", SB_GAUGE, (double)m->synced);
	sb_evb_help(b, "Number of blocks synced on device.");
	sb_evb_labeln(b, "device", 6, m->name, m->namelen);
}

#define MD_SERIES 11 /* per device */

int sb_proc_parse_mdstat(const char *text, struct sb_evb *b, struct sb_proc_perr *e)
{
	int n = 0;
	unsigned lineno = 0;
	for (const char *p = text; *p; p = sb_pp_next(p)) {
		lineno++;
		/* procfs: device lines are the ones not starting with a blank,
		 * besides the Personalities and "unused devices" lines */
		if (*p == ' ' || sb_pp_at_eol(p) || !strncmp(p, "Personalities", 13) ||
		    !strncmp(p, "unused", 6))
			continue;
		struct md m;
		const char *why = NULL;
		if (!md_device(p, &m, &why)) {
			sb_proc_bad(e, lineno, "%s", why);
			continue;
		}
		md_samples(b, &m);
		n += MD_SERIES;
	}
	return n;
}

/* ---- the collector ---- */

static int mdadm_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	const char *text = sb_proc_coll_read(st, c, 0);
	if (!text) /* no md driver: node_exporter's ErrNoData */
		return sb_proc_nodata(c->f[0]);
	struct sb_proc_perr e = {0};
	sb_proc_parse_mdstat(text, b, &e);
	return sb_proc_report(st, c->f[0], &e);
}

const struct sb_proc_collector sb_proc_collector_mdadm = {
    .name = "mdadm",
    .default_on = true,
    /* one record per device: read until a read returns 0 */
    .files = (const struct sb_proc_src[]){{"mdstat", .optional = true}, {NULL}},
    .collect = mdadm_collect,
};
