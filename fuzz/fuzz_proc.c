/* libFuzzer harness for the proc sensor's parsers (make fuzz-proc): every
 * parser that takes a file's text from a buffer, one table row each; the
 * first input byte picks the row, the rest is the file. Two-file parsers
 * (clocksource) take the text before and after the first NUL. The
 * collectors that read whole sysfs trees through their own code are
 * fuzzed by fuzz_proctree.c.
 *
 * Besides what ASan/UBSan catch, it checks the parsers' promises: every
 * sample and label name they make is a valid Prometheus name (they build
 * names from the input: meminfo's fields, netstat's headers, zfs' kstat
 * names), a complaint is NUL-terminated text, and the event encodes. The
 * seeds are the project's captured trees under fixtures/procfs, each with
 * its row's byte (SB_FUZZ_SEEDS). */
#include <errno.h>
#include <stdbool.h>

#define FUZZ_SEEDS proc_seeds
#define FUZZ_INIT proc_init
#include "fuzz.h"

#include "../src/sensors/proc/proc.h"
#include "sb_json.h"

static const struct sb_proc_env env = {.user_hz = 100, .page_size = 4096};
static struct sb_evb b;
static struct sb_proc_perr perr;
static struct sb_proc_filter filter;

struct in {
	const char *text; /* NUL-terminated */
	size_t len;	  /* bytes of text, NULs included */
	const char *two;  /* after the first NUL (or "") */
};

static void p_stat(const struct in *in)
{
	struct sb_proc_cpus cpus = {0};
	struct sb_proc_stat_info info = {0};
	sb_proc_parse_stat(in->text, &b, &env, &cpus, SB_PROC_STAT_CPU | SB_PROC_STAT_SYS, &info,
			   &perr);
	/* a second round over the same text: the counters remembered from the
	 * first are checked against it */
	sb_proc_parse_stat(in->text, &b, &env, &cpus, SB_PROC_STAT_CPU, &info, &perr);
	sb_proc_cpus_free(&cpus);
}

static void p_loadavg(const struct in *in) { sb_proc_parse_loadavg(in->text, &b, &perr); }
static void p_meminfo(const struct in *in) { sb_proc_parse_meminfo(in->text, &b, &perr); }
static void p_vmstat(const struct in *in) { sb_proc_parse_vmstat(in->text, &b, NULL, &perr); }
static void p_vmstat_f(const struct in *in) { sb_proc_parse_vmstat(in->text, &b, &filter, &perr); }
static void p_filenr(const struct in *in) { sb_proc_parse_filenr(in->text, &b, &perr); }
static void p_sockstat(const struct in *in)
{
	sb_proc_parse_sockstat(in->text, &b, &env, false, &perr);
}
static void p_sockstat6(const struct in *in)
{
	sb_proc_parse_sockstat(in->text, &b, &env, true, &perr);
}
static void p_conntrack(const struct in *in) { sb_proc_parse_conntrack_stat(in->text, &b, &perr); }
static void p_softnet(const struct in *in) { sb_proc_parse_softnet(in->text, &b, &perr); }
static void p_arp(const struct in *in) { sb_proc_parse_arp(in->text, &b, &perr); }
static void p_udp(const struct in *in) { sb_proc_parse_udp(in->text, false, &b, &perr); }
static void p_udp6(const struct in *in) { sb_proc_parse_udp(in->text, true, &b, &perr); }
static void p_schedstat(const struct in *in) { sb_proc_parse_schedstat(in->text, &b, &perr); }
static void p_selinux(const struct in *in)
{
	int m = sb_proc_selinux_config_mode(in->text);
	if (m < -1 || m > 1)
		abort();
}
static void p_mdstat(const struct in *in) { sb_proc_parse_mdstat(in->text, &b, &perr); }
static void p_nfs(const struct in *in) { sb_proc_parse_nfs(in->text, &b, &perr); }
static void p_nfsd(const struct in *in) { sb_proc_parse_nfsd(in->text, &b, &perr); }
static void p_ipvs_stats(const struct in *in) { sb_proc_parse_ipvs_stats(in->text, &b, &perr); }
static void p_ipvs(const struct in *in) { sb_proc_parse_ipvs(in->text, &b, &perr); }
static void p_zfs_kstat(const struct in *in)
{
	sb_proc_parse_zfs_kstat(in->text, "arcstats", "zfs_arc", &b, &perr);
}
static void p_zfs_io(const struct in *in) { sb_proc_parse_zfs_io(in->text, "tank", &b, &perr); }
static void p_zfs_objset(const struct in *in)
{
	sb_proc_parse_zfs_objset(in->text, "tank", &b, &perr);
}
static void p_zfs_state(const struct in *in)
{
	sb_proc_parse_zfs_state(in->text, "tank", &b, &perr);
}
static void p_xfs(const struct in *in) { sb_proc_parse_xfs(in->text, "sda1", &b, &perr); }
static void p_netdev(const struct in *in) { sb_proc_parse_netdev(in->text, &b, NULL, &perr, NULL); }
static void p_netdev_f(const struct in *in)
{
	sb_proc_parse_netdev(in->text, &b, &filter, &perr, NULL);
}

/* netstat and snmp, then the same text through the memo twice (its
 * second pass takes the remembered lines): the same samples every time. */
static void p_netstat(const struct in *in)
{
	struct sb_proc_protos seen = {0};
	sb_proc_parse_netstat(in->text, &b, &filter, &seen, &perr);
	size_t n0 = sb_evb_nsamples(&b);
	struct sb_proc_ns_memo *m = sb_proc_ns_memo_new();
	if (!m)
		return;
	for (int round = 0; round < 2; round++) {
		struct sb_proc_protos s2 = {0};
		size_t before = sb_evb_nsamples(&b);
		sb_proc_parse_netstat_m(in->text, &b, &filter, &s2, m, &perr);
		if (sb_evb_nsamples(&b) - before != n0)
			abort();
	}
	sb_proc_ns_memo_free(m);
}

static void p_snmp6(const struct in *in)
{
	sb_proc_parse_snmp6(in->text, &b, NULL, &perr);
	size_t n0 = sb_evb_nsamples(&b);
	struct sb_proc_ns_memo *m = sb_proc_ns_memo_new();
	if (!m)
		return;
	for (int round = 0; round < 2; round++) {
		size_t before = sb_evb_nsamples(&b);
		sb_proc_parse_snmp6_m(in->text, &b, NULL, m, &perr);
		if (sb_evb_nsamples(&b) - before != n0)
			abort();
	}
	sb_proc_ns_memo_free(m);
}

static void p_pressure(const struct in *in)
{
	static const char *const res[] = {"cpu", "io", "memory", "irq"};
	sb_proc_parse_pressure(in->text, res[in->len % 4], &b, &perr);
}

static void disk_info(void *arg, struct sb_evb *eb, unsigned major, unsigned minor,
		      const char *name)
{
	(void)arg;
	(void)major;
	(void)minor;
	sb_evb_sample(eb, "node_disk_info", SB_GAUGE, 1);
	sb_evb_label(eb, "device", name);
}

static void p_diskstats(const struct in *in)
{
	sb_proc_parse_diskstats(in->text, &b, &filter, disk_info, NULL, &perr);
}

static void cpu_fn(void *arg, unsigned cpu)
{
	if (cpu > 4096)
		abort();
	++*(unsigned *)arg;
}

static void p_cpulist(const struct in *in)
{
	unsigned n = 0;
	int r = sb_proc_parse_cpulist(in->text, cpu_fn, &n, 4096);
	if ((r >= 0 && (unsigned)r != n) || (r < 0 && n))
		abort();
}

static void p_udev(const struct in *in)
{
	struct sb_proc_udev u;
	sb_proc_parse_udev(in->text, &u);
	const char *const *v = &u.path;
	for (const char *const *p = v; p <= &u.ata_rotation_rate_rpm; p++)
		if (*p && (*p < u.buf || *p >= u.buf + sizeof(u.buf) ||
			   !memchr(*p, 0, (size_t)(u.buf + sizeof(u.buf) - *p))))
			abort();
}

static void p_sysctl(const struct in *in)
{
	const char *v;
	size_t n;
	if (!sb_proc_parse_sysctl_line(in->text, &v, &n, &perr) &&
	    (v < in->text || v + n > in->text + strlen(in->text) || memchr(v, '\n', n)))
		abort();
}

static void p_osrelease(const struct in *in)
{
	struct sb_proc_osrel os;
	memset(&os, 0, sizeof(os));
	sb_proc_parse_osrelease(in->text, &os, &perr);
	for (int i = 0; i < SB_PROC_OS_N; i++)
		if (!memchr(os.v[i], 0, SB_PROC_OS_MAX))
			abort();
	sb_proc_os_samples(&os, &b);
}

static void p_clocksource(const struct in *in)
{
	sb_proc_parse_clocksource(in->text, in->two, 0, &b, &perr);
}

static void mount_fn(void *arg, const struct sb_proc_mount *m)
{
	(void)arg;
	if (!memchr(m->device, 0, sizeof(m->device)) ||
	    !memchr(m->mountpoint, 0, sizeof(m->mountpoint)) ||
	    !memchr(m->fstype, 0, sizeof(m->fstype)))
		abort();
}

static void p_mountinfo(const struct in *in)
{
	sb_proc_parse_mountinfo(in->text, in->len & 1 ? "/rootfs" : "/", mount_fn, NULL, &perr);
}

/* sysfs attribute values: the number and string forms the hardware
 * collectors read (one value a file) */
static void p_values(const struct in *in)
{
	const char *t;
	size_t n = sb_proc_sysfs_trim(in->text, strlen(in->text), &t);
	int64_t i;
	uint64_t u;
	double d;
	sb_proc_go_int(t, n, 0, &i);
	sb_proc_go_int(t, n, 10, &i);
	sb_proc_go_uint0(t, n, &u);
	sb_proc_go_float(t, n, &d);
	sb_pp_uint_text(in->text, &u);
	sb_proc_ib_state(in->text, &u);
	sb_proc_ib_rate(in->text, &d);
}

static void p_strings(const struct in *in)
{
	size_t n = strlen(in->text);
	char *o = malloc(3 * n + SB_PROC_DMI_MAX + 1);
	if (!o)
		return;
	size_t k = sb_proc_dmi_value(in->text, n, o);
	if (k >= SB_PROC_DMI_MAX || o[k])
		abort();
	k = sb_proc_valid_utf8(in->text, n, o);
	if (k > 3 * n || o[k])
		abort();
	char small[64];
	k = sb_proc_hwmon_clean(in->text, n, small, sizeof(small));
	if (k >= sizeof(small) || small[k])
		abort();
	k = sb_proc_sanitize_metric(in->text, small, sizeof(small));
	if (k >= sizeof(small) || small[k])
		abort();
	const char *type, *prop;
	char sensor[32];
	if (sb_proc_hwmon_explode(in->text, &type, sensor, sizeof(sensor), &prop) &&
	    !memchr(sensor, 0, sizeof(sensor)))
		abort();
	sb_proc_name_ok(in->text, n);
	free(o);
}

static void p_pidstat(const struct in *in)
{
	struct sb_proc_pidstat st;
	const char *why = NULL;
	if (sb_proc_parse_pidstat(in->text, &st, &why)) {
		if (!why)
			abort();
	} else if (st.comm_len >= sizeof(st.comm) || st.comm[st.comm_len]) {
		abort();
	}
}

static void p_pidfiles(const struct in *in)
{
	const char *why;
	struct sb_proc_pidstatus s;
	struct sb_proc_pidio io;
	uint64_t soft;
	sb_proc_parse_pidstatus(in->text, &s, &why);
	sb_proc_parse_pidio(in->text, &io, &why);
	sb_proc_parse_limits_nofile(in->text, &soft, &why);
}

static void p_cmdline(const struct in *in)
{
	const char *base;
	size_t n = sb_proc_argv0_base(in->text, in->len, &base);
	if (n && (base < in->text || base + n > in->text + in->len))
		abort();
}

static void p_rtnl(const struct in *in)
{
	struct sb_proc_link l;
	if (sb_proc_link_parse(in->text, in->len, &l))
		return;
	if (!memchr(l.name, 0, sizeof(l.name)) || !memchr(l.alias, 0, sizeof(l.alias)) ||
	    l.addrlen > sizeof(l.addr) || l.brdlen > sizeof(l.brd))
		abort();
}

static void p_rtnlstats(const struct in *in)
{
	int ifindex;
	uint64_t st[SB_LINK_NSTATS];
	unsigned n;
	if (!sb_proc_stats_parse(in->text, in->len, &ifindex, st, &n) &&
	    (n == 0 || n > SB_ARRAY_SIZE(st)))
		abort();
}

static const struct row {
	const char *name;
	void (*fn)(const struct in *in);
	const char *seeds[4]; /* under fixtures/procfs; "a+b": a, NUL, b */
} rows[] = {
    {"stat", p_stat, {"synthetic/proc/stat", "vm-6.18/proc/stat", "edge/stat-256cpu"}},
    {"loadavg", p_loadavg, {"synthetic/proc/loadavg", "vm-6.18/proc/loadavg"}},
    {"meminfo", p_meminfo, {"synthetic/proc/meminfo", "edge/meminfo-truncated"}},
    {"vmstat", p_vmstat, {"synthetic/proc/vmstat"}},
    {"vmstat-filter", p_vmstat_f, {"vm-6.18/proc/vmstat"}},
    {"file-nr", p_filenr, {"synthetic/proc/sys/fs/file-nr"}},
    {"sockstat", p_sockstat, {"synthetic/proc/net/sockstat", "vm-6.18/proc/net/sockstat"}},
    {"sockstat6", p_sockstat6, {"synthetic/proc/net/sockstat6"}},
    {"conntrack", p_conntrack, {"synthetic/proc/net/stat/nf_conntrack"}},
    {"softnet", p_softnet, {"synthetic/proc/net/softnet_stat", "vm-6.18/proc/net/softnet_stat"}},
    {"arp", p_arp, {"synthetic/proc/net/arp", "vm-6.18/proc/net/arp"}},
    {"udp", p_udp, {"synthetic/proc/net/udp", "vm-6.18/proc/net/udp"}},
    {"udp6", p_udp6, {"synthetic/proc/net/udp6"}},
    {"schedstat", p_schedstat, {"synthetic/proc/schedstat"}},
    {"selinux", p_selinux, {"synthetic/etc/os-release"}},
    {"mdstat", p_mdstat, {"synthetic/proc/mdstat"}},
    {"nfs", p_nfs, {"synthetic/proc/net/rpc/nfs"}},
    {"nfsd", p_nfsd, {"synthetic/proc/net/rpc/nfsd"}},
    {"ipvs-stats", p_ipvs_stats, {"synthetic/proc/net/ip_vs_stats"}},
    {"ipvs", p_ipvs, {"synthetic/proc/net/ip_vs"}},
    {"zfs-kstat",
     p_zfs_kstat,
     {"synthetic/proc/spl/kstat/zfs/arcstats", "synthetic/proc/spl/kstat/zfs/zil",
      "synthetic/proc/spl/kstat/zfs/fm", "synthetic/proc/spl/kstat/zfs/dbufstats"}},
    {"zfs-io", p_zfs_io, {"synthetic/proc/spl/kstat/zfs/tank/io"}},
    {"zfs-objset", p_zfs_objset, {"synthetic/proc/spl/kstat/zfs/tank/objset-0x36"}},
    {"zfs-state", p_zfs_state, {"synthetic/proc/spl/kstat/zfs/tank/state"}},
    {"xfs", p_xfs, {"synthetic/sys/fs/xfs/stats/stats"}},
    {"netdev", p_netdev, {"synthetic/proc/net/dev", "vm-6.18/proc/net/dev"}},
    {"netdev-filter", p_netdev_f, {"synthetic/proc/net/dev"}},
    {"netstat",
     p_netstat,
     {"synthetic/proc/net/netstat", "synthetic/proc/net/snmp", "edge/netstat-mismatch",
      "vm-6.18/proc/net/netstat"}},
    {"snmp6", p_snmp6, {"synthetic/proc/net/snmp6", "vm-6.18/proc/net/snmp6"}},
    {"pressure",
     p_pressure,
     {"synthetic/proc/pressure/cpu", "synthetic/proc/pressure/io", "synthetic/proc/pressure/memory",
      "synthetic/proc/pressure/irq"}},
    {"diskstats",
     p_diskstats,
     {"synthetic/proc/diskstats", "vm-6.18/proc/diskstats", "edge/diskstats-malformed"}},
    {"cpulist", p_cpulist, {"synthetic/sys/devices/system/cpu/isolated"}},
    {"udev", p_udev, {"synthetic/udev/data/b8:0", "synthetic/udev/data/b254:0"}},
    {"sysctl-line",
     p_sysctl,
     {"synthetic/proc/sys/kernel/hostname", "synthetic/proc/sys/kernel/version"}},
    {"os-release", p_osrelease, {"synthetic/etc/os-release"}},
    {"clocksource",
     p_clocksource,
     {"synthetic/sys/devices/system/clocksource/clocksource0/available_clocksource+"
      "synthetic/sys/devices/system/clocksource/clocksource0/current_clocksource"}},
    {"mountinfo", p_mountinfo, {"edge/mountinfo"}},
    {"values",
     p_values,
     {"synthetic/proc/sys/kernel/random/entropy_avail",
      "synthetic/sys/class/infiniband/mlx5_0/ports/1/rate",
      "synthetic/sys/class/infiniband/mlx5_0/ports/1/state"}},
    {"strings", p_strings, {"synthetic/sys/class/dmi/id/bios_version"}},
    {"pidstat", p_pidstat, {"synthetic/proc/4242/stat", "vm-6.18/proc/23198/stat"}},
    {"pidfiles",
     p_pidfiles,
     {"synthetic/proc/4242/status", "synthetic/proc/4242/io", "synthetic/proc/4242/limits",
      "edge/pid-limits"}},
    {"cmdline", p_cmdline, {"synthetic/proc/4242/cmdline", "vm-6.18/proc/23198/cmdline"}},
    {"rtnl", p_rtnl, {NULL}},
    {"rtnlstats", p_rtnlstats, {NULL}},
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

static void proc_init(void)
{
	char err[128];
	sb_evb_init(&b);
	/* a filter with both lists, so its memo is fuzzed too */
	if (sb_proc_filter_init(&filter, "^(n|T|I|s|v|e|p)", "_(a|b)$|^pgp", err, sizeof(err)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n < 1)
		return 0;
	const struct row *r = &rows[d[0] % NROWS];
	char *text = malloc(n + 1);
	if (!text)
		return 0;
	memcpy(text, d + 1, n - 1);
	text[n - 1] = 0;
	text[n] = 0;
	struct in in = {text, n - 1, text + strlen(text) + (strlen(text) < n - 1)};
	memset(&perr, 0, sizeof(perr));
	sb_evb_begin(&b, "proc", "metrics");
	sb_evb_time(&b, 0);
	r->fn(&in);
	if (!memchr(perr.why, 0, sizeof(perr.why)))
		abort();
	struct sb_event *ev = sb_evb_finish(&b);
	if (!ev)
		abort();
	fuzz_event_ok(ev, true);
	sb_event_unref(ev);
	free(text);
	return 0;
}

/* ---- seeds: the fixtures, each behind its row's byte ---- */

static void seed_file(uint8_t sel, const char *name, unsigned k, const char *spec)
{
	char path[2][1024], seed[96];
	const char *plus = strchr(spec, '+');
	snprintf(path[0], sizeof(path[0]), "%s/fixtures/procfs/%.*s", fuzz_root(),
		 (int)(plus ? (size_t)(plus - spec) : strlen(spec)), spec);
	size_t n0, n1 = 0;
	char *a = fuzz_slurp(path[0], &n0), *c = NULL;
	if (plus) {
		snprintf(path[1], sizeof(path[1]), "%s/fixtures/procfs/%s", fuzz_root(), plus + 1);
		c = fuzz_slurp(path[1], &n1);
	}
	if (!a || (plus && !c)) {
		fprintf(stderr, "fuzz_proc: no fixture %s\n", spec);
		exit(1);
	}
	snprintf(seed, sizeof(seed), "%s-%u", name, k);
	fuzz_seed(seed, 4, &sel, (size_t)1, a, n0, "", (size_t)(plus ? 1 : 0), c, n1);
	free(a);
	free(c);
}

/* Netlink messages as the kernel lays them out: a 16-byte header, the
 * family's fixed part, then attributes padded to 4 bytes. */
static void nl_head(unsigned char *m, uint32_t total, unsigned short type)
{
	memcpy(m, &total, 4);
	memcpy(m + 4, &type, 2);
}

/* One attribute at m + off; the offset after it. */
static size_t nl_attr(unsigned char *m, size_t off, unsigned short type, const void *v,
		      unsigned short len)
{
	unsigned short alen = (unsigned short)(4 + len);
	memcpy(m + off, &alen, 2);
	memcpy(m + off + 2, &type, 2);
	memcpy(m + off + 4, v, len);
	return off + ((size_t)(alen + 3) & ~(size_t)3);
}

/* An RTM_NEWLINK message as the kernel sends one: a name, MTU and address. */
static void seed_rtnl(uint8_t sel)
{
	unsigned char m[128] = {0};
	size_t off = 16 + 16;				 /* nlmsghdr, ifinfomsg */
	off = nl_attr(m, off, 3, "eth0", 5);		 /* IFLA_IFNAME */
	off = nl_attr(m, off, 4, "\xdc\x05\0\0", 4);	 /* IFLA_MTU */
	off = nl_attr(m, off, 1, "\x02\0\0\0\0\x01", 6); /* IFLA_ADDRESS */
	nl_head(m, (uint32_t)off, 16);			 /* RTM_NEWLINK */
	m[20] = 2;					 /* ifi_index */
	fuzz_seed("rtnl-0", 2, &sel, (size_t)1, m, off);
}

/* An RTM_NEWSTATS message as the kernel sends one: the counters kept. */
static void seed_rtnlstats(uint8_t sel)
{
	unsigned char m[16 + 12 + 4 + SB_LINK_NSTATS * 8] = {0};
	uint32_t ifindex = 2;
	uint64_t st[SB_LINK_NSTATS] = {0};
	for (unsigned i = 0; i < SB_LINK_NSTATS; i++)
		st[i] = i + 1;
	memcpy(m + 16 + 4, &ifindex, 4);		     /* if_stats_msg */
	size_t off = nl_attr(m, 16 + 12, 1, st, sizeof(st)); /* IFLA_STATS_LINK_64 */
	nl_head(m, (uint32_t)off, 92);			     /* RTM_NEWSTATS */
	fuzz_seed("rtnlstats-0", 2, &sel, (size_t)1, m, off);
}

static void proc_seeds(void)
{
	for (size_t i = 0; i < NROWS; i++) {
		uint8_t sel = (uint8_t)i;
		if (rows[i].fn == p_rtnl)
			seed_rtnl(sel);
		if (rows[i].fn == p_rtnlstats)
			seed_rtnlstats(sel);
		for (unsigned k = 0; k < 4 && rows[i].seeds[k]; k++)
			seed_file(sel, rows[i].name, k, rows[i].seeds[k]);
	}
}
