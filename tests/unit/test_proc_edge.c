/* Every parser against the edge-case files and against every truncation
 * of a good file: no crash, a complaint where something was wrong, and
 * never a value that differs from what the whole file says. */
#include <math.h>

#include "test_proc.h"

typedef int (*parse_fn)(const char *text, struct sb_evb *b, struct sb_proc_perr *e);

static int p_stat(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	struct sb_proc_stat_info info;
	return sb_proc_parse_stat(t, b, &tp_env, NULL, SB_PROC_STAT_CPU | SB_PROC_STAT_SYS, &info,
				  e);
}
static int p_meminfo(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_meminfo(t, b, e);
}
static int p_loadavg(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_loadavg(t, b, e);
}
static int p_vmstat(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_vmstat(t, b, NULL, e);
}
static int p_filenr(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_filenr(t, b, e);
}
static int p_sockstat(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_sockstat(t, b, &tp_env, false, e);
}
static int p_netdev(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_netdev(t, b, NULL, e, NULL);
}
static int p_netstat(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	struct sb_proc_protos seen = {0};
	return sb_proc_parse_netstat(t, b, NULL, &seen, e);
}
static int p_snmp6(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_snmp6(t, b, NULL, e);
}
static int p_diskstats(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_diskstats(t, b, NULL, NULL, NULL, e);
}
static int p_pressure(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_pressure(t, "io", b, e);
}

static int p_conntrack(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_conntrack_stat(t, b, e);
}

static int p_softnet(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_softnet(t, b, e);
}

static int p_arp(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_arp(t, b, e);
}

static int p_udp(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_udp(t, false, b, e);
}

static int p_schedstat(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_schedstat(t, b, e);
}

static int p_mdstat(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_mdstat(t, b, e);
}
static int p_nfs(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_nfs(t, b, e);
}
static int p_nfsd(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_nfsd(t, b, e);
}
static int p_xfs(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_xfs(t, "sda1", b, e);
}
static int p_ipvs_stats(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_ipvs_stats(t, b, e);
}
static int p_ipvs(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_ipvs(t, b, e);
}

static int p_zfs(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_zfs_kstat(t, "arcstats", "zfs_arc", b, e);
}
static int p_zfs_objset(const char *t, struct sb_evb *b, struct sb_proc_perr *e)
{
	return sb_proc_parse_zfs_objset(t, "tank", b, e);
}

static const struct {
	const char *name;
	parse_fn fn;
	const char *good; /* a good file of this type, under fixtures/procfs/ */
	bool empty_is_fine;
	/* sums over lines: a copy cut at a line's end cannot be told from a
	 * machine with fewer CPUs, so only cuts inside a line are checked */
	bool sums_lines;
} parsers[] = {
    {"stat", p_stat, "synthetic/proc/stat", false},
    {"meminfo", p_meminfo, "synthetic/proc/meminfo", false},
    {"loadavg", p_loadavg, "synthetic/proc/loadavg", false},
    {"vmstat", p_vmstat, "synthetic/proc/vmstat", false},
    {"file-nr", p_filenr, "synthetic/proc/sys/fs/file-nr", false},
    {"sockstat", p_sockstat, "synthetic/proc/net/sockstat", false},
    {"net/dev", p_netdev, "synthetic/proc/net/dev", false},
    {"netstat", p_netstat, "synthetic/proc/net/snmp", false},
    {"snmp6", p_snmp6, "synthetic/proc/net/snmp6", true},
    {"diskstats", p_diskstats, "synthetic/proc/diskstats", true},
    {"pressure", p_pressure, "synthetic/proc/pressure/io", false},
    {"nf_conntrack", p_conntrack, "synthetic/proc/net/stat/nf_conntrack", false, true},
    {"softnet_stat", p_softnet, "synthetic/proc/net/softnet_stat", false},
    {"arp", p_arp, "synthetic/proc/net/arp", true, true},
    {"udp", p_udp, "synthetic/proc/net/udp", false, true},
    {"schedstat", p_schedstat, "synthetic/proc/schedstat", true},
    {"mdstat", p_mdstat, "synthetic/proc/mdstat", true},
    {"rpc/nfs", p_nfs, "synthetic/proc/net/rpc/nfs", false, true},
    {"rpc/nfsd", p_nfsd, "synthetic/proc/net/rpc/nfsd", false, true},
    {"xfs stats", p_xfs, "synthetic/sys/fs/xfs/dm-0/stats/stats", false, true},
    {"ip_vs_stats", p_ipvs_stats, "synthetic/proc/net/ip_vs_stats", false},
    {"ip_vs", p_ipvs, "synthetic/proc/net/ip_vs", true, true},
    {"zfs arcstats", p_zfs, "synthetic/proc/spl/kstat/zfs/arcstats", false, true},
    {"zfs objset", p_zfs_objset, "synthetic/proc/spl/kstat/zfs/tank/objset-0x85", false, true},
};

/* name{labels} -> value of one parse, as text for comparison */
static char *render(parse_fn fn, const char *text, struct sb_proc_perr *e, int *n)
{
	struct sb_evb b;
	sb_evb_init(&b);
	sb_evb_begin(&b, "proc", "metrics");
	memset(e, 0, sizeof(*e));
	*n = fn(text, &b, e);
	struct sb_event *ev = sb_evb_finish(&b);
	assert_non_null(ev);
	assert_int_equal(ev->nsamples, *n);
	struct sb_buf out;
	sb_buf_init(&out);
	for (uint32_t i = 0; i < ev->nsamples; i++) {
		const struct sb_sample *s = &ev->samples[i];
		/* a metric name Prometheus accepts, a finite value */
		assert_true((s->name[0] >= 'a' && s->name[0] <= 'z') || s->name[0] == '_');
		assert_true(sb_proc_name_ok(s->name, strlen(s->name)));
		assert_true(isfinite(s->value));
		sb_buf_printf(&out, "%s", s->name);
		for (uint16_t l = 0; l < s->nlabels; l++)
			sb_buf_printf(&out, ",%s=%s", s->labels[l].name, s->labels[l].value);
		sb_buf_printf(&out, " %.17g\n", s->value);
	}
	sb_event_unref(ev);
	sb_evb_free(&b);
	sb_buf_cstr(&out);
	return out.data ? out.data : strdup("");
}

static void edge_files_are_survived_and_reported(void **state)
{
	(void)state;
	static const char *const files[] = {"edge/empty",
					    "edge/garbage",
					    "edge/meminfo-truncated",
					    "edge/diskstats-malformed",
					    "edge/netstat-mismatch",
					    "edge/stat-256cpu",
					    "edge/pid-limits"};
	for (size_t f = 0; f < SB_ARRAY_SIZE(files); f++) {
		char *text = tp_fixture(files[f]);
		for (size_t p = 0; p < SB_ARRAY_SIZE(parsers); p++) {
			struct sb_proc_perr e;
			int n;
			free(render(parsers[p].fn, text, &e, &n));
			bool must = !strcmp(files[f], "edge/garbage") ||
				    (!strcmp(files[f], "edge/empty") && !parsers[p].empty_is_fine);
			if (must && !e.nbad)
				fail_msg("%s on %s: no complaint", parsers[p].name, files[f]);
		}
		free(text);
	}
}

static void malformed_diskstats_and_netstat_keep_their_good_lines(void **state)
{
	(void)state;
	char *text = tp_fixture("edge/diskstats-malformed");
	struct sb_proc_perr e;
	int n;
	char *out = render(p_diskstats, text, &e, &n);
	assert_int_equal(e.nbad, 3);
	assert_int_equal(n, 11 + 17); /* sda whole, sdd's first 17 counters */
	free(out);
	free(text);
	text = tp_fixture("edge/netstat-mismatch");
	out = render(p_netstat, text, &e, &n);
	assert_int_equal(e.nbad, 2);
	assert_int_equal(n, 2);
	assert_non_null(strstr(out, "node_netstat_IpExt_InOctets 10\n"));
	free(out);
	free(text);
}

/* Any prefix of a good file: every series it gives has the whole file's
 * value. (Not pressure: node_exporter's own fixtures end its files without
 * a newline, so a cut there cannot be told from a whole file.) */
static void no_truncation_gives_a_wrong_value(void **state)
{
	(void)state;
	for (size_t p = 0; p < SB_ARRAY_SIZE(parsers); p++) {
		if (parsers[p].fn == p_pressure)
			continue;
		char *text = tp_fixture(parsers[p].good);
		size_t len = strlen(text);
		struct sb_proc_perr e;
		int n;
		char *whole = render(parsers[p].fn, text, &e, &n);
		assert_int_equal(e.nbad, 0);
		assert_true(n > 0);
		for (size_t cut = 0; cut < len; cut++) {
			if (parsers[p].sums_lines && cut && text[cut - 1] == '\n')
				continue;
			char saved = text[cut];
			text[cut] = 0;
			char *part = render(parsers[p].fn, text, &e, &n);
			text[cut] = saved;
			for (char *line = part; *line;) {
				char *nl = strchr(line, '\n');
				*nl = 0;
				/* the same "series value" line must be in the whole parse */
				char key[512];
				snprintf(key, sizeof(key), "%s\n", line);
				if (!strstr(whole, key))
					fail_msg(
					    "%s cut at %zu: %s is not in the whole file's output",
					    parsers[p].name, cut, line);
				line = nl + 1;
			}
			free(part);
		}
		free(whole);
		free(text);
	}
}

/* Bytes flipped at random (fixed seed): the parsers never crash and only
 * emit well-formed samples; ASan builds check the memory side. */
static void random_corruption_is_survived(void **state)
{
	(void)state;
	uint32_t seed = 12345;
	for (size_t p = 0; p < SB_ARRAY_SIZE(parsers); p++) {
		char *text = tp_fixture(parsers[p].good);
		size_t len = strlen(text);
		for (int round = 0; round < 300; round++) {
			char *copy = strdup(text);
			for (int k = 0; k < 4; k++) {
				seed = seed * 1103515245u + 12345u;
				size_t at = (seed >> 8) % len;
				seed = seed * 1103515245u + 12345u;
				char c = (char)(seed >> 16);
				copy[at] = c ? c : ' ';
			}
			struct sb_proc_perr e;
			int n;
			free(render(parsers[p].fn, copy, &e, &n));
			free(copy);
		}
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(edge_files_are_survived_and_reported),
	    cmocka_unit_test(malformed_diskstats_and_netstat_keep_their_good_lines),
	    cmocka_unit_test(no_truncation_gives_a_wrong_value),
	    cmocka_unit_test(random_corruption_is_survived),
	};
	return cmocka_run_group_tests_name("proc parsers on bad input", tests, NULL, NULL);
}
