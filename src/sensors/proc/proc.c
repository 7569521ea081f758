/* The proc sensor: one round reads each source file once (kept open,
 * re-read with pread), parses it in place and appends samples to a single
 * event. A file that cannot be read or holds malformed lines is logged
 * (once per file per 5 minutes) and counted; every other sample still goes
 * out. */
#include "proc.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sb_caps.h"
#include "sb_log.h"

#define DISK_EXCLUDE "^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$"
#define VMSTAT_FIELDS "^(oom_kill|pgpg|pswp|pg.*fault).*"
#define NETSTAT_FIELDS                                                                             \
	"^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|"      \
	"OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPOFOQueue|"            \
	"TCPRcvQDrop)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|"           \
	"CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$"

static const char *const coll_names[PROC_C_MAX] = {
	[PROC_C_CPU] = "cpu",		[PROC_C_MEMINFO] = "meminfo",
	[PROC_C_LOADAVG] = "loadavg",	[PROC_C_STAT] = "stat",
	[PROC_C_DISKSTATS] = "diskstats", [PROC_C_NETDEV] = "netdev",
	[PROC_C_PRESSURE] = "pressure", [PROC_C_VMSTAT] = "vmstat",
	[PROC_C_FILEFD] = "filefd",	[PROC_C_SOCKSTAT] = "sockstat",
	[PROC_C_NETSTAT] = "netstat",	[PROC_C_PROCESSES] = "processes",
};

static const char *const psi_res[4] = {"cpu", "io", "memory", "irq"};

static const struct sb_cfg_key proc_keys[] = {
	{"procfs", SB_CT_STR, offsetof(struct proc_cfg, procfs), "/proc",
	 "procfs root (a fixture tree works like /proc)", .flags = SB_CK_PATH},
	{"sysfs", SB_CT_STR, offsetof(struct proc_cfg, sysfs), "/sys", "sysfs root",
	 .flags = SB_CK_PATH},
	{"udev", SB_CT_STR, offsetof(struct proc_cfg, udev), "auto",
	 "udev database for disk info labels (auto: /run/udev/data with procfs /proc, else "
	 "udev/data beside the procfs root; \"\": none)"},
	{"collectors", SB_CT_STRLIST, offsetof(struct proc_cfg, collectors),
	 "cpu,meminfo,loadavg,stat,diskstats,netdev,pressure,vmstat,filefd,sockstat,netstat,"
	 "processes",
	 "collectors to run (node_exporter's names; processes: the per-process metrics)"},
	{"processes", SB_CT_STRLIST, offsetof(struct proc_cfg, processes), NULL,
	 "process names to report per-process metrics for (comm or argv[0] basename)"},
	{"pids", SB_CT_STRLIST, offsetof(struct proc_cfg, pids), NULL,
	 "process ids to report per-process metrics for (\"self\": the agent)"},
	{"max_processes", SB_CT_INT, offsetof(struct proc_cfg, max_processes), "256",
	 "most processes reported per round (each holds 5 open files)", .min = 1, .max = 100000},
	{"diskstats_device_exclude", SB_CT_STR, offsetof(struct proc_cfg, diskstats_device_exclude),
	 DISK_EXCLUDE, "regexp of disk devices to leave out"},
	{"diskstats_device_include", SB_CT_STR, offsetof(struct proc_cfg, diskstats_device_include),
	 "", "regexp of disk devices to report (replaces the exclude)"},
	{"netdev_device_exclude", SB_CT_STR, offsetof(struct proc_cfg, netdev_device_exclude), "",
	 "regexp of network devices to leave out"},
	{"netdev_device_include", SB_CT_STR, offsetof(struct proc_cfg, netdev_device_include), "",
	 "regexp of network devices to report (replaces the exclude)"},
	{"vmstat_fields", SB_CT_STR, offsetof(struct proc_cfg, vmstat_fields), VMSTAT_FIELDS,
	 "regexp of /proc/vmstat fields to report"},
	{"netstat_fields", SB_CT_STR, offsetof(struct proc_cfg, netstat_fields), NETSTAT_FIELDS,
	 "regexp of Proto_Field netstat/snmp/snmp6 fields to report"},
	{0},
};

static int coll_index(const char *name)
{
	for (int i = 0; i < PROC_C_MAX; i++)
		if (!strcmp(coll_names[i], name))
			return i;
	return -1;
}

static int proc_validate(const void *cfgp, char *err, size_t errlen)
{
	const struct proc_cfg *c = cfgp;
	for (size_t i = 0; i < c->collectors.n; i++) {
		if (coll_index(c->collectors.v[i]) < 0) {
			snprintf(err, errlen,
				 "collectors: unknown collector \"%s\" (cpu, meminfo, loadavg, "
				 "stat, diskstats, netdev, pressure, vmstat, filefd, sockstat, "
				 "netstat, processes)",
				 c->collectors.v[i]);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < c->pids.n; i++) {
		uint64_t pid;
		const char *s = c->pids.v[i];
		if (strcmp(s, "self") && (sb_parse_u64(s, &pid) || pid < 1 || pid > INT_MAX)) {
			snprintf(err, errlen, "pids: \"%s\" is not a process id", s);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < c->processes.n; i++) {
		if (!*c->processes.v[i]) {
			snprintf(err, errlen, "processes: empty name");
			return -EINVAL;
		}
	}
	const struct {
		const char *key, *re;
	} res[] = {
		{"diskstats_device_exclude", c->diskstats_device_exclude},
		{"diskstats_device_include", c->diskstats_device_include},
		{"netdev_device_exclude", c->netdev_device_exclude},
		{"netdev_device_include", c->netdev_device_include},
		{"vmstat_fields", c->vmstat_fields},
		{"netstat_fields", c->netstat_fields},
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(res); i++) {
		char e[256];
		if (sb_proc_regex_check(res[i].re, e, sizeof(e))) {
			snprintf(err, errlen, "%s: %s", res[i].key, e);
			return -EINVAL;
		}
	}
	if (c->netdev_device_include && *c->netdev_device_include && c->netdev_device_exclude &&
	    *c->netdev_device_exclude) {
		snprintf(err, errlen,
			 "netdev_device_include and netdev_device_exclude are mutually exclusive");
		return -EINVAL;
	}
	return 0;
}

/* An optional file the kernel does not have (/proc/pressure/irq without
 * CONFIG_IRQ_TIME_ACCOUNTING) is looked for again only this many rounds
 * later: a failed lookup in procfs costs about as much as reading a file. */
#define ABSENT_RETRY_ROUNDS 60

const char *sb_proc_read(struct proc_state *st, struct sb_procfile *f, bool optional)
{
	if (f->round == st->round)
		return f->round_ok ? f->buf.data : NULL;
	f->round = st->round;
	f->round_ok = false;
	if (optional && f->absent_round && st->round - f->absent_round < ABSENT_RETRY_ROUNDS)
		return NULL;
	ssize_t r = sb_procfile_read(f, st->comp, optional);
	f->absent_round = optional && r == -ENOENT ? st->round : 0;
	if (r < 0) {
		if (!(optional && (r == -ENOENT || r == -EOPNOTSUPP)))
			st->errors++;
		return NULL;
	}
	const char *nul = memchr(f->buf.data, 0, (size_t)r);
	if (nul) {
		st->errors++;
		sb_procfile_bad(f, st->comp, "not text (NUL byte at offset %zu), skipped",
				(size_t)(nul - f->buf.data));
		return NULL;
	}
	f->round_ok = true;
	return f->buf.data;
}

void sb_proc_report(struct proc_state *st, struct sb_procfile *f, const struct sb_proc_perr *e)
{
	if (!e->nbad)
		return;
	st->errors++;
	char more[48] = "";
	if (e->nbad > 1)
		snprintf(more, sizeof(more), " (%u malformed lines skipped)", e->nbad);
	if (e->line)
		sb_procfile_bad(f, st->comp, "line %u: %s%s", e->line, e->why, more);
	else
		sb_procfile_bad(f, st->comp, "%s%s", e->why, more);
}

static int file_init(struct proc_state *st, struct sb_procfile *f, const char *rel)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", st->cfg->procfs, rel) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return sb_procfile_init(f, path, 0, true);
}

static void proc_free(struct proc_state *st)
{
	if (!st)
		return;
	for (int i = 0; i < PF_MAX; i++)
		sb_procfile_free(&st->f[i]);
	sb_proc_cpus_free(&st->cpus);
	sb_proc_cpu_sysfs_free(st);
	sb_proc_disks_free(st);
	sb_proc_procs_free(st);
	sb_proc_filter_free(&st->vmstat_f);
	sb_proc_filter_free(&st->netstat_f);
	sb_proc_filter_free(&st->disk_f);
	sb_proc_filter_free(&st->netdev_f);
	free(st);
}

static int proc_init(struct sb_sensor *s)
{
	const struct proc_cfg *c = s->cfg;
	struct proc_state *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->cfg = c;
	st->comp = "sensor:proc";
	long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	st->env.user_hz = hz > 0 ? (double)hz : 100;
	st->env.page_size = page > 0 ? (double)page : 4096;
	for (size_t i = 0; i < c->collectors.n; i++) {
		int k = coll_index(c->collectors.v[i]);
		if (k >= 0) /* validated with the config */
			st->on[k] = true;
	}
	if (!c->processes.n && !c->pids.n)
		st->on[PROC_C_PROCESSES] = false;

	static const char *const rel[PF_MAX] = {
		[PF_STAT] = "stat",
		[PF_MEMINFO] = "meminfo",
		[PF_LOADAVG] = "loadavg",
		[PF_DISKSTATS] = "diskstats",
		[PF_NETDEV] = "net/dev",
		[PF_VMSTAT] = "vmstat",
		[PF_FILENR] = "sys/fs/file-nr",
		[PF_SOCKSTAT] = "net/sockstat",
		[PF_SOCKSTAT6] = "net/sockstat6",
		[PF_NETSTAT] = "net/netstat",
		[PF_SNMP] = "net/snmp",
		[PF_SNMP6] = "net/snmp6",
		[PF_PSI_CPU] = "pressure/cpu",
		[PF_PSI_IO] = "pressure/io",
		[PF_PSI_MEMORY] = "pressure/memory",
		[PF_PSI_IRQ] = "pressure/irq",
	};
	int r = 0;
	char err[256] = "";
	for (int i = 0; i < PF_MAX && !r; i++)
		r = file_init(st, &st->f[i], rel[i]);
	/* made by one show() each (single_open); diskstats, net/dev, vmstat
	 * and the sysctl file-nr are read until a read returns 0 */
	static const enum proc_file single[] = {
		PF_STAT,  PF_MEMINFO, PF_LOADAVG, PF_SOCKSTAT, PF_SOCKSTAT6,  PF_NETSTAT,
		PF_SNMP,  PF_SNMP6,   PF_PSI_CPU, PF_PSI_IO,   PF_PSI_MEMORY, PF_PSI_IRQ,
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(single); i++)
		st->f[single[i]].single = true;
	if (!r)
		r = sb_proc_filter_init(&st->vmstat_f, c->vmstat_fields, NULL, err, sizeof(err));
	if (!r)
		r = sb_proc_filter_init(&st->netstat_f, c->netstat_fields, NULL, err, sizeof(err));
	if (!r)
		r = sb_proc_filter_init(&st->disk_f, c->diskstats_device_include,
					c->diskstats_device_exclude, err, sizeof(err));
	if (!r)
		r = sb_proc_filter_init(&st->netdev_f, c->netdev_device_include,
					c->netdev_device_exclude, err, sizeof(err));
	if (!r && st->on[PROC_C_CPU])
		r = sb_proc_cpu_sysfs_init(st);
	if (!r && st->on[PROC_C_DISKSTATS])
		r = sb_proc_disks_init(st);
	if (!r && st->on[PROC_C_PROCESSES])
		r = sb_proc_procs_init(st);
	if (r) {
		if (err[0])
			sb_err(st->comp, "%s", err);
		proc_free(st);
		return r;
	}
	s->state = st;
	return 0;
}

/* One parser call on file st->f[idx], with its complaints reported. */
#define PARSE(st, idx, optional, call)                                                             \
	do {                                                                                       \
		struct sb_procfile *f_ = &(st)->f[idx];                                            \
		const char *text = sb_proc_read(st, f_, optional);                                 \
		if (text) {                                                                        \
			struct sb_proc_perr e = {0};                                               \
			(void)(call);                                                              \
			sb_proc_report(st, f_, &e);                                                \
		}                                                                                  \
	} while (0)

static void collect_pressure(struct proc_state *st, struct sb_evb *b)
{
	if (st->psi_off)
		return;
	for (int i = 0; i < 4; i++) {
		struct sb_procfile *f = &st->f[PF_PSI_CPU + i];
		/* EOPNOTSUPP: PSI built in but off (psi=0); ENOENT: not built
		 * or irq before 6.1. Neither is an error. */
		const char *text = sb_proc_read(st, f, true);
		if (!text) {
			if (f->last_err == -EOPNOTSUPP) {
				st->psi_off = true;
				sb_info(st->comp, "%s: pressure stall information is disabled "
						  "(psi=0); not reading it again",
					f->path);
				return;
			}
			continue;
		}
		struct sb_proc_perr e = {0};
		sb_proc_parse_pressure(text, psi_res[i], b, &e);
		sb_proc_report(st, f, &e);
	}
}

static void proc_collect(struct sb_sensor *s)
{
	struct proc_state *st = s->state;
	struct sb_evb *b = &s->evb;
	st->round++;
	sb_evb_begin(b, "proc", "metrics");

	const bool *on = st->on;
	const struct sb_proc_env *env = &st->env;
	unsigned what = (on[PROC_C_CPU] ? SB_PROC_STAT_CPU : 0) |
			(on[PROC_C_STAT] ? SB_PROC_STAT_SYS : 0);
	memset(&st->statinfo, 0, sizeof(st->statinfo));
	/* per-process start times need the boot time, too */
	if (what || on[PROC_C_PROCESSES])
		PARSE(st, PF_STAT, false,
		      sb_proc_parse_stat(text, b, env, on[PROC_C_CPU] ? &st->cpus : NULL, what,
					 &st->statinfo, &e));
	if (on[PROC_C_CPU])
		sb_proc_cpu_sysfs_collect(st, b);
	if (on[PROC_C_MEMINFO])
		PARSE(st, PF_MEMINFO, false, sb_proc_parse_meminfo(text, b, &e));
	if (on[PROC_C_LOADAVG])
		PARSE(st, PF_LOADAVG, false, sb_proc_parse_loadavg(text, b, &e));
	if (on[PROC_C_DISKSTATS])
		sb_proc_disks_collect(st, b);
	if (on[PROC_C_NETDEV])
		PARSE(st, PF_NETDEV, false, sb_proc_parse_netdev(text, b, &st->netdev_f, &e));
	if (on[PROC_C_PRESSURE])
		collect_pressure(st, b);
	if (on[PROC_C_VMSTAT])
		PARSE(st, PF_VMSTAT, false, sb_proc_parse_vmstat(text, b, &st->vmstat_f, &e));
	if (on[PROC_C_FILEFD])
		PARSE(st, PF_FILENR, false, sb_proc_parse_filenr(text, b, &e));
	if (on[PROC_C_SOCKSTAT]) {
		/* both optional: a kernel without IPv4 or IPv6 has no file */
		PARSE(st, PF_SOCKSTAT, true, sb_proc_parse_sockstat(text, b, env, false, &e));
		PARSE(st, PF_SOCKSTAT6, true, sb_proc_parse_sockstat(text, b, env, true, &e));
	}
	if (on[PROC_C_NETSTAT]) {
		struct sb_proc_protos seen = {0};
		struct sb_proc_filter *nf = &st->netstat_f;
		PARSE(st, PF_NETSTAT, false, sb_proc_parse_netstat(text, b, nf, &seen, &e));
		PARSE(st, PF_SNMP, false, sb_proc_parse_netstat(text, b, nf, &seen, &e));
		PARSE(st, PF_SNMP6, true, sb_proc_parse_snmp6(text, b, nf, &e));
	}
	if (on[PROC_C_PROCESSES])
		sb_proc_procs_collect(st, b);

	s->errors += st->errors - st->errors_published;
	st->errors_published = st->errors;
	sb_evb_sample(b, "sensorbus_sensor_errors_total", SB_COUNTER, (double)s->errors);
	/* the agent sensor reports the same series: same HELP, same value */
	sb_evb_help(b, "Read or publish failures of the sensor.");
	sb_evb_label(b, "sensor", "proc");
	sb_sensor_publish_evb(s);
	sb_sensor_round_done(s);
}

static void proc_destroy(struct sb_sensor *s)
{
	proc_free(s->state);
	s->state = NULL;
}

/* Watched processes may be other users': /proc/<pid>/io and fd/ take a
 * ptrace check, and their directories' modes a DAC one. System files need
 * neither. */
static uint64_t proc_caps(const void *cfgp)
{
	const struct proc_cfg *c = cfgp;
	if (!c->processes.n && !c->pids.n)
		return 0;
	return SB_CAP(CAP_SYS_PTRACE) | SB_CAP(CAP_DAC_READ_SEARCH);
}

const struct sb_sensor_ops sb_sensor_proc = {
	.name = "proc",
	.desc = "system and per-process metrics from procfs/sysfs (node_exporter names)",
	.keys = proc_keys,
	.cfg_size = sizeof(struct proc_cfg),
	.validate = proc_validate,
	.init = proc_init,
	.collect = proc_collect,
	.destroy = proc_destroy,
	.caps = proc_caps,
};
