/* The proc sensor: system metrics with node_exporter's names from any
 * procfs/sysfs root, and per-process metrics for watched processes.
 *
 * Every collector is one file holding its parser and its row in the
 * collector table (collectors.c). A parser is a pure function over a
 * NUL-terminated buffer that appends samples to an event builder and
 * reports malformed lines in a struct sb_proc_perr. Parsers never emit a
 * value they could not read completely: a bad line is skipped and counted.
 * The row's collect function gets the text of its files from the sensor
 * (proc.c: opened once, read once a round), calls the parser and reports
 * its complaints. */
#ifndef SB_PROC_H
#define SB_PROC_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "parse.h"
#include "procfile.h"
#include "sb_event.h"
#include "sb_sensor.h"

struct proc_cfg {
	char *procfs;
	char *sysfs;
	char *rootfs;
	char *udev;
	struct sb_strlist collectors;
	struct sb_strlist processes;
	struct sb_strlist pids;
	int64_t max_processes;
	int process_reader; /* SB_PROC_READER_* */
	int groups;	    /* SB_PROC_GROUPS_* */
	char *diskstats_device_exclude;
	char *diskstats_device_include;
	char *netdev_device_exclude;
	bool netdev_netlink;
	char *netdev_device_include;
	char *vmstat_fields;
	char *netstat_fields;
	char *textfile_directory;
	char *filesystem_mount_points_exclude;
	char *filesystem_fs_types_exclude;
	int64_t filesystem_statfs_timeout; /* ns */
	char *netclass_ignored_devices;
	bool netclass_ignore_invalid_speed;
	char *powersupply_ignored_supplies;
	bool rapl_enable_zone_label;
	bool bcache_priority_stats;
};

enum { SB_PROC_READER_AUTO, SB_PROC_READER_BPF, SB_PROC_READER_PROCFS };
enum { SB_PROC_GROUPS_OFF, SB_PROC_GROUPS_COMM, SB_PROC_GROUPS_CGROUP, SB_PROC_GROUPS_USER };

/* What parsers need from the machine, passed in so tests can vary it. */
struct sb_proc_env {
	double user_hz;	  /* USER_HZ: clock ticks per second in procfs */
	double page_size; /* bytes */
};

/* ---- name filters (node_exporter's include/exclude regexps) ---- */

/* POSIX extended regexps, searched like Go's MatchString (unanchored
 * unless the pattern anchors itself). Decisions are memoized by name,
 * since the same few hundred names come back every interval. */
struct sb_proc_memo;
struct sb_proc_filter {
	bool has_inc, has_exc;
	regex_t inc, exc;
	struct sb_proc_memo *memo;
};

/* Either pattern may be NULL or "". Writes a reason to err on failure. */
int sb_proc_filter_init(struct sb_proc_filter *f, const char *include, const char *exclude,
			char *err, size_t errlen);
void sb_proc_filter_free(struct sb_proc_filter *f);
bool sb_proc_filter_pass(struct sb_proc_filter *f, const char *name, size_t len);
/* Checks a pattern compiles (for config validation). */
int sb_proc_regex_check(const char *pattern, char *err, size_t errlen);

/* ---- parsers: text in, samples out ---- */

/* Per-CPU counters remembered between rounds, so node_cpu_seconds_total
 * never goes backwards (node_exporter's rule: a counter that drops is
 * held, an idle drop of 3 s or more is a CPU hot-plug and resets it). */
struct sb_proc_cpus {
	struct sb_proc_cpu_prev *v;
	size_t cap;
	uint64_t round;
};
void sb_proc_cpus_free(struct sb_proc_cpus *c);

#define SB_PROC_STAT_CPU 0x1u /* node_cpu_seconds_total, node_cpu_guest_seconds_total */
#define SB_PROC_STAT_SYS 0x2u /* intr, ctxt, forks, btime, procs */

struct sb_proc_stat_info {
	bool have_btime;
	double btime;
	unsigned ncpus; /* cpuN lines read */
};

int sb_proc_parse_stat(const char *text, struct sb_evb *b, const struct sb_proc_env *env,
		       struct sb_proc_cpus *cpus, unsigned what, struct sb_proc_stat_info *info,
		       struct sb_proc_perr *e);
int sb_proc_parse_loadavg(const char *text, struct sb_evb *b, struct sb_proc_perr *e);
int sb_proc_parse_meminfo(const char *text, struct sb_evb *b, struct sb_proc_perr *e);
/* The same, remembering each line's key from round to round (a compare
 * instead of a search): the collector's own memo. */
struct sb_proc_meminfo_memo {
	uint8_t key[96]; /* per line: its key's index + 1; 0: none known */
};
int sb_proc_parse_meminfo_m(const char *text, struct sb_evb *b, struct sb_proc_meminfo_memo *memo,
			    struct sb_proc_perr *e);
int sb_proc_parse_vmstat(const char *text, struct sb_evb *b, struct sb_proc_filter *fields,
			 struct sb_proc_perr *e);
/* The same, remembering in m (zeroed at first; free(m->line) when done)
 * each line's name and the filter's answer: a file of the same names in
 * the same order, every round but the first, skips checking and filtering
 * ~190 names, 10 of them used. The same samples as without. */
#define SB_PROC_VMSTAT_NAME_MAX 64 /* longer names are refused as malformed */
struct sb_proc_vmstat_memo {
	struct sb_proc_vmstat_line {
		uint8_t len; /* 0: unknown */
		bool pass;
		char name[SB_PROC_VMSTAT_NAME_MAX];
	} * line;
	size_t n;
};
int sb_proc_parse_vmstat_m(const char *text, struct sb_evb *b, struct sb_proc_filter *fields,
			   struct sb_proc_vmstat_memo *m, struct sb_proc_perr *e);
int sb_proc_parse_filenr(const char *text, struct sb_evb *b, struct sb_proc_perr *e);
/* ipv6: the sockstat6 file (no sockets_used). */
int sb_proc_parse_sockstat(const char *text, struct sb_evb *b, const struct sb_proc_env *env,
			   bool ipv6, struct sb_proc_perr *e);
/* /proc/net/stat/nf_conntrack: the counters node_exporter takes, summed
 * over CPUs; nothing when any CPU's line is malformed. */
int sb_proc_parse_conntrack_stat(const char *text, struct sb_evb *b, struct sb_proc_perr *e);
/* /proc/net/softnet_stat: node_softnet_*_total{cpu} by line position. */
int sb_proc_parse_softnet(const char *text, struct sb_evb *b, struct sb_proc_perr *e);
/* /proc/net/arp: node_arp_entries{device}; nothing when a line is bad. */
int sb_proc_parse_arp(const char *text, struct sb_evb *b, struct sb_proc_perr *e);
/* /proc/net/udp or udp6: node_udp_queues{ip,queue}, the queues summed;
 * nothing when a line is bad. */
int sb_proc_parse_udp(const char *text, bool ipv6, struct sb_evb *b, struct sb_proc_perr *e);
/* sockstat's (sockstat6's) UDP line says no socket is in use. */
bool sb_proc_udp_none_in_use(const char *sockstat, bool ipv6);
/* /proc/schedstat: node_schedstat_*{cpu} from the cpuN lines. */
int sb_proc_parse_schedstat(const char *text, struct sb_evb *b, struct sb_proc_perr *e);
/* /etc/selinux/config's SELINUX=: 1 enforcing, 0 permissive, else -1. */
int sb_proc_selinux_config_mode(const char *text);
/* /proc/mdstat: node_md_*{device}; a malformed device is skipped. */
int sb_proc_parse_mdstat(const char *text, struct sb_evb *b, struct sb_proc_perr *e);
/* /proc/net/rpc/nfs: node_nfs_*; a bad line's series are left out. */
int sb_proc_parse_nfs(const char *text, struct sb_evb *b, struct sb_proc_perr *e);
/* /proc/net/rpc/nfsd: node_nfsd_*; likewise. */
int sb_proc_parse_nfsd(const char *text, struct sb_evb *b, struct sb_proc_perr *e);
/* /proc/net/ip_vs_stats (node_ipvs_*_total) and /proc/net/ip_vs
 * (node_ipvs_backend_*); a bad line's series are left out. */
int sb_proc_parse_ipvs_stats(const char *text, struct sb_evb *b, struct sb_proc_perr *e);
int sb_proc_parse_ipvs(const char *text, struct sb_evb *b, struct sb_proc_perr *e);
/* /proc/spl/kstat/zfs: a named kstat file (node_<subsystem>_<name>), a
 * pool's io, objset-* and state files; a bad line is left out. */
int sb_proc_parse_zfs_kstat(const char *text, const char *file, const char *subsystem,
			    struct sb_evb *b, struct sb_proc_perr *e);
int sb_proc_parse_zfs_io(const char *text, const char *pool, struct sb_evb *b,
			 struct sb_proc_perr *e);
int sb_proc_parse_zfs_objset(const char *text, const char *pool, struct sb_evb *b,
			     struct sb_proc_perr *e);
int sb_proc_parse_zfs_state(const char *text, const char *pool, struct sb_evb *b,
			    struct sb_proc_perr *e);
/* <sysfs>/fs/xfs/<device>/stats/stats: node_xfs_*{device}; likewise. */
int sb_proc_parse_xfs(const char *text, const char *device, struct sb_evb *b,
		      struct sb_proc_perr *e);
/* What node_exporter's netlink mode adds to /proc/net/dev's counters
 * (receive_nohandler), read per device; NULL: /proc/net/dev alone. */
struct sb_netdev_extra {
	bool (*nohandler)(void *arg, const char *dev, size_t n, uint64_t *v);
	void *arg;
};
int sb_proc_parse_netdev(const char *text, struct sb_evb *b, struct sb_proc_filter *devices,
			 struct sb_proc_perr *e, const struct sb_netdev_extra *x);

/* /proc/net/netstat and /proc/net/snmp: header/value line pairs. seen
 * carries the protocols met from one file to the next (zeroed by the caller
 * once per round): a protocol met again is malformed input, reported and
 * skipped, so no series is emitted twice. */
struct sb_proc_protos {
	char name[16][24];
	unsigned n;
};
int sb_proc_parse_netstat(const char *text, struct sb_evb *b, struct sb_proc_filter *fields,
			  struct sb_proc_protos *seen, struct sb_proc_perr *e);
int sb_proc_parse_snmp6(const char *text, struct sb_evb *b, struct sb_proc_filter *fields,
			struct sb_proc_perr *e);
/* The same, remembering in m from one round to the next what each header
 * line (snmp6: each line's name) let through, with its series' names: a
 * line that comes back the same bytes is not checked, filtered and joined
 * again. One memo per file; the same samples as without. */
struct sb_proc_ns_memo;
struct sb_proc_ns_memo *sb_proc_ns_memo_new(void);
void sb_proc_ns_memo_free(struct sb_proc_ns_memo *m);
int sb_proc_parse_netstat_m(const char *text, struct sb_evb *b, struct sb_proc_filter *fields,
			    struct sb_proc_protos *seen, struct sb_proc_ns_memo *m,
			    struct sb_proc_perr *e);
int sb_proc_parse_snmp6_m(const char *text, struct sb_evb *b, struct sb_proc_filter *fields,
			  struct sb_proc_ns_memo *m, struct sb_proc_perr *e);

/* /proc/pressure/<resource>: resource is cpu, io, memory or irq. */
int sb_proc_parse_pressure(const char *text, const char *resource, struct sb_evb *b,
			   struct sb_proc_perr *e);

/* A sysfs attribute's value as procfs' SysReadFile gives it: blanks
 * (Go's TrimSpace) off both ends. */
size_t sb_proc_sysfs_trim(const char *s, size_t n, const char **out);
/* Go's strconv.ParseInt(s, base, 64) over n bytes, base 0 or 10: sign,
 * then for base 0 0x/0o/0b or leading 0 prefixes and '_' between digits;
 * false on anything else or overflow. */
bool sb_proc_go_int(const char *s, size_t n, unsigned base, int64_t *v);

/* One network device of an RTM_GETLINK dump (rtnl.c): what netclass can
 * take from it instead of sysfs, have saying which attributes came. */
#define SB_LINK_NAME 0x1u
#define SB_LINK_MTU 0x2u
#define SB_LINK_TXQLEN 0x4u
#define SB_LINK_GROUP 0x8u
#define SB_LINK_IFLINK 0x10u /* only when not the device itself */
#define SB_LINK_CARRIER 0x20u
#define SB_LINK_CHANGES 0x40u
#define SB_LINK_UP 0x80u
#define SB_LINK_DOWN 0x100u
#define SB_LINK_OPERSTATE 0x200u
#define SB_LINK_LINKMODE 0x400u
#define SB_LINK_ADDRESS 0x800u	  /* only when the address has a length */
#define SB_LINK_BROADCAST 0x1000u /* likewise */
#define SB_LINK_ALIAS 0x2000u	  /* only when one is set */
#define SB_LINK_PROMISCUITY 0x4000u
#define SB_LINK_ALLMULTI 0x8000u /* newer kernels only */
#define SB_LINK_NSTATS 24	 /* the counters kept: SB_LS_RX_PACKETS ... SB_LS_RX_NOHANDLER */
struct sb_proc_link {
	int ifindex;
	char name[16];	/* IFNAMSIZ */
	unsigned flags; /* ifi_flags: dev_get_flags(), IFF_UP, IFF_DORMANT ... */
	unsigned short type;
	unsigned have;
	uint32_t mtu, txqlen, group, iflink, changes, up, down;
	uint32_t promiscuity, allmulti; /* dev->promiscuity, dev->allmulti */
	uint8_t carrier, operstate, linkmode;
	uint8_t addr[32], brd[32], addrlen, brdlen; /* MAX_ADDR_LEN */
	char alias[256];			    /* IFALIASZ */
	/* IFLA_STATS64 (dumps with stats only): struct rtnl_link_stats64's
	 * first nstats counters, in its order (SB_LS_*) */
	uint64_t stats[SB_LINK_NSTATS];
	unsigned nstats;
};
enum {
	SB_LS_RX_PACKETS,
	SB_LS_TX_PACKETS,
	SB_LS_RX_BYTES,
	SB_LS_TX_BYTES,
	SB_LS_RX_ERRORS,
	SB_LS_TX_ERRORS,
	SB_LS_RX_DROPPED,
	SB_LS_TX_DROPPED,
	SB_LS_MULTICAST,
	SB_LS_COLLISIONS,
	SB_LS_RX_LENGTH,
	SB_LS_RX_OVER,
	SB_LS_RX_CRC,
	SB_LS_RX_FRAME,
	SB_LS_RX_FIFO,
	SB_LS_RX_MISSED,
	SB_LS_TX_ABORTED,
	SB_LS_TX_CARRIER,
	SB_LS_TX_FIFO,
	SB_LS_TX_HEARTBEAT,
	SB_LS_TX_WINDOW,
	SB_LS_RX_COMPRESSED,
	SB_LS_TX_COMPRESSED,
	SB_LS_RX_NOHANDLER,
};
/* One RTM_NEWLINK message of len bytes: 0, or -EINVAL when malformed. */
int sb_proc_link_parse(const void *msg, size_t len, struct sb_proc_link *l);
struct sb_proc_rtnl {
	int fd;
	uint32_t seq;
	struct sb_buf buf;
	struct sb_proc_link *v; /* the last dump's devices */
	size_t n, cap;
};
int sb_proc_rtnl_open(struct sb_proc_rtnl *r);
void sb_proc_rtnl_close(struct sb_proc_rtnl *r);
/* Every device of this network namespace into r->v, with each one's
 * counters when stats: 0 or -errno. */
int sb_proc_rtnl_dump(struct sb_proc_rtnl *r, bool stats);
const struct sb_proc_link *sb_proc_rtnl_find(const struct sb_proc_rtnl *r, const char *name);
/* One RTM_NEWSTATS message of len bytes: its device's ifindex and its
 * IFLA_STATS_LINK_64 counters (as sb_proc_link's stats) into stats, at most
 * SB_LINK_NSTATS; 0, or -EINVAL when malformed or
 * without them. */
int sb_proc_stats_parse(const void *msg, size_t len, int *ifindex, uint64_t *stats,
			unsigned *nstats);
/* The counters of every device of the last dump, from an RTM_GETSTATS
 * dump (dev_get_stats() alone, where a link dump fills every attribute of
 * every device): 0; -ESTALE when the devices are no longer the dump's (one
 * made or gone: dump again); or -errno (-EOPNOTSUPP: a kernel before 4.7). */
int sb_proc_rtnl_stats(struct sb_proc_rtnl *r);
/* dev->flags, as sysfs's flags file prints it, from a dump's entry: true,
 * or false when the dump lacks the counts that say it (older kernels send
 * no IFLA_ALLMULTI). */
bool sb_proc_link_dev_flags(const struct sb_proc_link *l, unsigned *flags);

/* Link notifications (rtnl_watch.c): a socket in RTMGRP_LINK, drained
 * without waiting. changed(arg, ifindex) for each device the kernel said
 * changed (RTM_NEWLINK, RTM_DELLINK), changed(arg, 0) when it may have
 * said more than was read (an overflow, a message not understood). */
typedef void sb_proc_link_changed_fn(void *arg, int ifindex);
int sb_proc_rtnl_watch_open(void); /* its fd, or -errno */
/* The messages of one datagram of n bytes (whole: trunc false). */
void sb_proc_rtnl_watch_parse(const void *buf, size_t n, bool trunc,
			      sb_proc_link_changed_fn *changed, void *arg);
/* Every datagram waiting: 0, or -errno (then changed(arg, 0) was said,
 * and the socket is of no more use). */
int sb_proc_rtnl_watch_drain(int fd, sb_proc_link_changed_fn *changed, void *arg);
/* netdev's series from a dump's counters (netlink mode): their count. */
int sb_proc_netdev_links(const struct sb_proc_rtnl *links, struct sb_evb *b,
			 struct sb_proc_filter *devices);

/* hwmon: node_exporter's cleanMetricName (lower case, [^a-z0-9:_] → '_',
 * '_' trimmed); a sensor file name's type, sensor ("temp1") and property,
 * false for files of no sensor type; Go's strconv.ParseFloat(s, 64). */
size_t sb_proc_hwmon_clean(const char *s, size_t n, char *out, size_t cap);
bool sb_proc_hwmon_explode(const char *fn, const char **type, char *sensor, size_t scap,
			   const char **prop);
bool sb_proc_go_float(const char *s, size_t n, double *v);
/* Go's strings.ToValidUTF8(s, "\uFFFD") into out (3n+1 bytes); its length. */
size_t sb_proc_valid_utf8(const char *s, size_t n, char *out);
/* node_exporter's SanitizeMetricName: each _*[^0-9A-Za-z_]+_* → '_'. */
size_t sb_proc_sanitize_metric(const char *s, char *out, size_t cap);

/* /proc/diskstats. Each device that passes the filter gets its counters;
 * info(arg, major, minor, name) is called first so the caller can add
 * node_disk_info and the udev-derived series (NULL: none). */
typedef void (*sb_proc_disk_info_fn)(void *arg, struct sb_evb *b, unsigned major, unsigned minor,
				     const char *name);
int sb_proc_parse_diskstats(const char *text, struct sb_evb *b, struct sb_proc_filter *devices,
			    sb_proc_disk_info_fn info, void *arg, struct sb_proc_perr *e);

/* /sys/devices/system/cpu/isolated and friends: "1,3-5,9". Calls fn per
 * CPU; returns the count, -EINVAL (not a list) or -ERANGE (a CPU above
 * max_cpu, or ranges that overlap or go backwards), calling fn for none. */
int sb_proc_parse_cpulist(const char *text, void (*fn)(void *arg, unsigned cpu), void *arg,
			  unsigned max_cpu);

/* /run/udev/data/b<major>:<minor>: the E:KEY=VALUE properties node_exporter
 * uses. Values point into a copy held by the struct. */
struct sb_proc_udev {
	char buf[2048];
	const char *path, *wwn, *model, *serial, *serial_short, *scsi_serial, *revision;
	const char *fs_type, *fs_usage, *fs_uuid, *fs_version;
	const char *dm_name, *dm_uuid, *dm_vg_name, *dm_lv_name, *dm_lv_layer;
	const char *ata, *ata_write_cache, *ata_write_cache_enabled, *ata_rotation_rate_rpm;
};
void sb_proc_parse_udev(const char *text, struct sb_proc_udev *u);

/* A sysctl file of one line (/proc/sys/kernel/hostname): its text without
 * the newline, in place. 0 or -EINVAL (empty, cut short, more lines). */
int sb_proc_parse_sysctl_line(const char *text, const char **v, size_t *len,
			      struct sb_proc_perr *e);
/* node_uname_info: the six labels in node_exporter's order (sysname,
 * release, version, machine, nodename, domainname). */
#define SB_PROC_UNAME_N 6
struct sb_proc_uname {
	const char *v[SB_PROC_UNAME_N];
	size_t len[SB_PROC_UNAME_N];
};
void sb_proc_uname_sample(struct sb_evb *b, const struct sb_proc_uname *u);

/* os-release(5): the fields node_os_info has, unquoted, in
 * node_exporter's label order (build_id, id, id_like, image_id,
 * image_version, name, pretty_name, variant, variant_id, version,
 * version_codename, version_id). */
#define SB_PROC_OS_N 12
#define SB_PROC_OS_MAX 256
struct sb_proc_osrel {
	char v[SB_PROC_OS_N][SB_PROC_OS_MAX];
};
/* Returns how many known keys were set; bad lines are skipped. */
int sb_proc_parse_osrelease(const char *text, struct sb_proc_osrel *os, struct sb_proc_perr *e);
/* node_os_info, and node_os_version when VERSION_ID starts with a number
 * above 0; returns the samples added. */
int sb_proc_os_samples(const struct sb_proc_osrel *os, struct sb_evb *b);

/* node_time_seconds and node_time_zone_offset_seconds{time_zone}. */
struct timespec;
void sb_proc_time_samples(struct sb_evb *b, const struct timespec *now, long gmtoff,
			  const char *zone);
/* One clocksource<N>'s available_clocksource and current_clocksource
 * files; device: its position in name order. Returns the samples added. */
int sb_proc_parse_clocksource(const char *avail, const char *current, unsigned device,
			      struct sb_evb *b, struct sb_proc_perr *e);
/* node_timex_*, as node_exporter converts them; state: adjtimex's return. */
struct timex;
int sb_proc_timex_samples(struct sb_evb *b, const struct timex *tx, int state);

/* /proc/<pid>/mountinfo: one call per mount, the mount point with \040
 * and \011 undone and the rootfs prefix taken off (as node_exporter). */
#define SB_PROC_MOUNT_MAX 512
struct sb_proc_mount {
	char device[256];
	char mountpoint[SB_PROC_MOUNT_MAX];
	char fstype[64];
	bool readonly; /* "ro" in the mount's or the superblock's options */
};
typedef void (*sb_proc_mount_fn)(void *arg, const struct sb_proc_mount *m);
int sb_proc_parse_mountinfo(const char *text, const char *rootfs, sb_proc_mount_fn fn, void *arg,
			    struct sb_proc_perr *e);

/* Whether the mount table open at fd (/proc/<pid>/mountinfo) changed
 * since the last call or the open: 1 changed, 0 not, -1 cannot tell (not
 * in procfs: a fixture tree), which the caller takes as changed. */
int sb_proc_mounts_poll(int fd);
/* Its two halves: whether fd is a procfs file (which can tell), and, when
 * it is, whether the table changed (1, 0, -1 as above). */
bool sb_proc_mounts_pollable(int fd);
int sb_proc_mounts_changed(int fd);

/* The filesystem collector's statfs worker (filesystem.c). statfs and the
 * clock go through ops, so tests can hang a mount and move time. */
struct statfs;
struct sb_proc_fsops {
	int (*statfs)(void *arg, const char *path, struct statfs *sf); /* 0 or -errno */
	int64_t (*now_ns)(void *arg);				       /* monotonic */
	void *arg;
};
enum sb_proc_fsstate { SB_FS_PENDING, SB_FS_OK, SB_FS_ERROR, SB_FS_STUCK };
struct sb_proc_fsres {
	enum sb_proc_fsstate state;
	double size, free, avail, files, files_free;
};
struct sb_proc_fsw;
struct sb_proc_fsw *sb_proc_fsw_new(const struct sb_proc_fsops *ops, int64_t timeout_ns);
void sb_proc_fsw_free(struct sb_proc_fsw *w);
/* Never waits on a statfs call: out[i] gets the latest result for
 * paths[i] (PENDING: none yet; STUCK: a call past the timeout still
 * running), then, if the worker is idle, the list is handed over. */
void sb_proc_fsw_round(struct sb_proc_fsw *w, const char *const *paths, unsigned n,
		       struct sb_proc_fsres *out);
/* Start-up only: waits up to timeout_ns for the pass handed over; true
 * when it finished. */
bool sb_proc_fsw_wait(struct sb_proc_fsw *w, int64_t timeout_ns);
/* Mounts stuck now (their calls not returned). */
unsigned sb_proc_fsw_stuck(struct sb_proc_fsw *w);

/* ---- hardware classes in sysfs (dmi.c, edac.c, nvme.c ...) ---- */

/* A DMI string as node_exporter reads it: the first SB_PROC_DMI_READ of
 * the n bytes of raw, trimmed of Unicode white space, runs of invalid
 * UTF-8 replaced by U+FFFD, into out (SB_PROC_DMI_MAX bytes, NUL-ended);
 * returns its length. */
#define SB_PROC_DMI_READ 128
#define SB_PROC_DMI_MAX (3 * SB_PROC_DMI_READ + 1)
size_t sb_proc_dmi_value(const char *raw, size_t n, char *out);
/* n bytes of s as Go's strconv.ParseUint(s, 0, 64): 0x, 0o, 0b or a
 * leading 0 choose the base, '_' may separate digits; false when not. */
bool sb_proc_go_uint0(const char *s, size_t n, uint64_t *v);
/* An InfiniBand port's state or phys_state ("4: ACTIVE": 4) and rate
 * ("40 Gb/sec (4X QDR)": 5e9 bytes/s), as procfs 1.5.0; 0 or -EINVAL. */
int sb_proc_ib_state(const char *text, uint64_t *id);
int sb_proc_ib_rate(const char *text, double *bps);

/* ---- per-process files ---- */

struct sb_proc_pidstat {
	int64_t pid;
	char comm[64]; /* as the kernel wrote it, at most 63 bytes */
	size_t comm_len;
	char state;
	uint64_t flags;
	uint64_t minflt, majflt;
	uint64_t utime, stime; /* ticks */
	int64_t num_threads;
	uint64_t starttime; /* ticks after boot */
	uint64_t vsize;	    /* bytes */
	int64_t rss;	    /* pages */
};
/* /proc/<pid>/stat: comm may hold spaces and parentheses; the last ')'
 * ends it. Returns 0 or -EINVAL with why set. */
int sb_proc_parse_pidstat(const char *text, struct sb_proc_pidstat *st, const char **why);

struct sb_proc_pidstatus {
	bool have_ctxt;
	uint64_t voluntary, involuntary;
};
int sb_proc_parse_pidstatus(const char *text, struct sb_proc_pidstatus *st, const char **why);

struct sb_proc_pidio {
	uint64_t read_bytes, write_bytes;
};
int sb_proc_parse_pidio(const char *text, struct sb_proc_pidio *io, const char **why);
/* "Max open files" soft limit; "unlimited" is UINT64_MAX. */
int sb_proc_parse_limits_nofile(const char *text, uint64_t *soft, const char **why);
/* basename of argv[0] from /proc/<pid>/cmdline (NUL-separated, len bytes). */
size_t sb_proc_argv0_base(const char *cmdline, size_t len, const char **base);

/* ---- per-process metrics: one naming table for every reader ---- */

enum sb_proc_pm_id {
	SB_PM_CPU,
	SB_PM_RSS,
	SB_PM_VSIZE,
	SB_PM_THREADS,
	SB_PM_START,
	SB_PM_MINFLT,
	SB_PM_MAJFLT,
	SB_PM_VCSW,
	SB_PM_ICSW,
	SB_PM_READ,
	SB_PM_WRITE,
	SB_PM_FDS,
	SB_PM_MAXFDS,
	SB_PM_MAX,
};
#define SB_PM_BIT(m) (1u << (m))

struct sb_proc_metric {
	const char *name;
	enum sb_mtype type;
	const char *help;
};
extern const struct sb_proc_metric sb_proc_metrics[SB_PM_MAX];

/* One process's values, in base units; have: SB_PM_BIT of those read. */
struct sb_proc_pm {
	double v[SB_PM_MAX];
	unsigned have;
};
static inline void sb_proc_pm_set(struct sb_proc_pm *p, enum sb_proc_pm_id m, double v)
{
	p->v[m] = v;
	p->have |= SB_PM_BIT(m);
}
/* Its samples, labelled pid, comm and (matched by a configured name) name. */
void sb_proc_metrics_emit(struct sb_evb *b, const struct sb_proc_pm *v, const char *pid,
			  const char *comm, const char *name);
/* Many processes' samples, metric by metric (a family's series together:
 * its name and HELP stored once in the event, as a scrape shows them):
 * add each process, then emit and reset. name NULL or a string that lives
 * until emit. */
struct sb_proc_pm_batch {
	struct sb_proc_pm_row {
		struct sb_proc_pm v;
		char pid[12];
		char comm[16];
		const char *name;
	} * rows;
	size_t n, cap;
};
int sb_proc_pm_batch_add(struct sb_proc_pm_batch *t, const struct sb_proc_pm *v, uint32_t pid,
			 const char *comm, const char *name);
void sb_proc_pm_batch_emit(struct sb_proc_pm_batch *t, struct sb_evb *b);
void sb_proc_pm_batch_free(struct sb_proc_pm_batch *t);

/* ---- collectors ---- */

struct proc_state;
struct sb_proc_coll;

/* A file a collector reads every round, relative to the procfs root (or
 * the sysfs root). Collectors that list the same file share one open fd
 * and one read a round. single, lines and optional describe the file, so every
 * collector listing it must agree (the table test checks). */
struct sb_proc_src {
	const char *rel;
	bool sysfs;		 /* under the sysfs root, not procfs */
	bool single;		 /* made by one seq_file show() (single_open): one pread */
	unsigned short line_max; /* seq_file records of one line up to this long (procfile.h) */
	bool optional;		 /* a kernel may not have it: absent is not an error */
};

#define SB_PROC_MAX_SRC 6 /* files one collector lists */

/* One row of the collector table (collectors.c). Every collector is one
 * file holding its parser and this row. */
struct sb_proc_collector {
	const char *name; /* node_exporter's, as in sensors.proc.collectors */
	bool default_on;  /* in the default list (node_exporter enables it by default) */
	bool own;	  /* sensorbus' own, not node_exporter's: no node_scrape_collector_* */
	const struct sb_proc_src *files; /* ends with rel NULL; NULL: none */
	/* Its keys in sensors.proc (offsets into struct proc_cfg), ending with
	 * name NULL, and their check; NULL: none. Checked whether or not the
	 * collector is on, as the whole config is. */
	const struct sb_cfg_key *keys;
	int (*check)(const struct proc_cfg *c, char *err, size_t errlen);
	/* <0: the sensor cannot start (logged here); >0: nothing to do with
	 * this config, the collector stays off. NULL: nothing to set up. */
	int (*init)(struct proc_state *st, struct sb_proc_coll *c);
	/* Appends this round's samples. 0, or <0 when a file it needs could not
	 * be read or held malformed lines (logged and counted already): what
	 * node_scrape_collector_success would say. */
	int (*collect)(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b);
	void (*free)(struct proc_state *st, struct sb_proc_coll *c); /* NULL: nothing */
};

/* The table, in the order collectors run and are listed. */
extern const struct sb_proc_collector *const sb_proc_collectors[];
extern const size_t sb_proc_ncollectors;
const struct sb_proc_collector *sb_proc_collector_find(const char *name);

/* An enabled collector. */
struct sb_proc_coll {
	const struct sb_proc_collector *def;
	struct sb_procfile *f[SB_PROC_MAX_SRC]; /* def->files, in order */
	void *priv;				/* its own state */
	int status;				/* last collect() */
	int64_t duration_ns;			/* ... and how long it took (monotonic) */
};

/* ---- the sensor's state ---- */

struct proc_cpu_sysfs;
struct proc_uevents;
struct proc_procs;
struct proc_bpfread;
struct proc_groups;
struct sb_taskfold;

/* Descriptors the collectors keep for the kernel to tell them of a change,
 * polled together at the start of each round (notify.c). */
#define SB_PROC_NOTIFY_MAX 8
struct sb_proc_notify {
	const int *fd[SB_PROC_NOTIFY_MAX]; /* where each keeper keeps it; -1 there: none now */
	short events[SB_PROC_NOTIFY_MAX];
	int polled[SB_PROC_NOTIFY_MAX]; /* what this round's poll asked; -1: not asked */
	short revents[SB_PROC_NOTIFY_MAX];
	unsigned n;
};

struct proc_state {
	const struct proc_cfg *cfg;
	const char *comp; /* log component */
	struct sb_proc_env env;
	uint64_t round;
	uint64_t errors; /* files that failed or held bad lines, per round */
	uint64_t errors_published;

	struct sb_proc_coll *coll; /* the enabled collectors, in table order */
	size_t ncoll;
	struct sb_procfile *files; /* every file they list, once */
	size_t nfiles;

	/* What this round's parses of /proc/stat found (CPU count, boot time),
	 * whichever collector parsed it; stat_round: the round they ran in. */
	struct sb_proc_stat_info statinfo;
	uint64_t stat_round;
	struct proc_cpu_sysfs *cpu_sysfs; /* the cpu collector's sysfs part */
	struct proc_procs *procs;	  /* the processes collector's */
	struct proc_bpfread *bpfread;	  /* ... its walk over every process (procs_walk.c) */
	struct proc_groups *groups;	  /* ... its groups (groups.c) */
	/* This round's network devices, shared by netdev and netclass
	 * (sb_proc_links); links_stats: a collector wants the counters;
	 * links_carrier: their carrier, as fresh as its sysfs file. */
	struct proc_links *links;
	bool links_stats, links_carrier;
	struct proc_uevents *uevents; /* device events (uevent.c), NULL until asked for */
	struct sb_proc_notify notify;
	/* The sensor, in the agent (NULL in unit tests): for a collector that
	 * ends its round later on the loop (the BPF process reader). */
	struct sb_sensor *sensor;
	bool round_pending; /* that round is still running: it calls round_done */
};

/* The roots are the live kernel's, spelt exactly so (another spelling, such
 * as "/sys/", reads the files as a tree would: tests compare the two): what
 * only the live kernel allows, a shortcut through a syscall or a count
 * that another file of the same kernel gives. */
static inline bool sb_proc_live_procfs(const struct proc_state *st)
{
	return !strcmp(st->cfg->procfs, "/proc");
}
static inline bool sb_proc_live_sysfs(const struct proc_state *st)
{
	return !strcmp(st->cfg->sysfs, "/sys");
}

/* A descriptor kept at *fd (read afresh each round; the keeper lives as
 * long as the sensor) for the kernel to tell of a change (POLLIN, or
 * POLLPRI for a mount table), polled with the others at the start of each
 * round: its slot, or -1 when the table is full. */
int sb_proc_notify_add(struct proc_state *st, const int *fd, short events);
/* The round's one poll (sb_proc_round calls it first). */
void sb_proc_notify_poll(struct proc_state *st);
/* What this round's poll found on slot's descriptor: 1 something (or an
 * error) to read, 0 nothing, -1 not asked (no slot, no descriptor then,
 * or the poll failed): the keeper asks on its own, as without the table.
 * Asked once a round, before the keeper replaces its descriptor: one
 * opened since with the same number would pass for the one asked. */
int sb_proc_notify_told(const struct proc_state *st, int slot);

/* The agent's network devices this round, for the collectors that read the
 * live /proc or /sys (links.c): an RTM_GETLINK dump kept until a link
 * notification says it changed, with this round's counters: NULL when none
 * can be had (the dump failed: tried again 60 rounds later). */
const struct sb_proc_rtnl *sb_proc_links(struct proc_state *st);
/* This round's link notifications (drained once a round, on the socket the
 * kept dump relies on): changed(arg, ifindex) for each device named,
 * changed(arg, 0) when any may have changed; true while they are watched,
 * false when they cannot be (nothing can then be kept between rounds). */
bool sb_proc_links_notified(struct proc_state *st, sb_proc_link_changed_fn *changed, void *arg);
/* The link dumps made so far (the rounds between took the counters alone). */
uint64_t sb_proc_links_dumps(const struct proc_state *st);
void sb_proc_links_free(struct proc_state *st);

/* Whether a device of sysfs subsystem subsys (a class: "power_supply") may
 * have been added, removed or moved since the call that set *seen (0 at
 * first: true); true every time where that cannot be known (not the live
 * /sys, no uevent socket). The events are drained once a round. */
bool sb_proc_uevents_since(struct proc_state *st, const char *subsys, uint64_t *seen);
void sb_proc_uevents_free(struct proc_state *st);
/* The listings of its class directory powersupplyclass (collector c) made. */
uint64_t sb_proc_psc_listings(const struct sb_proc_coll *c);
/* How many times the os collector read an os-release (os.c), for tests. */
uint64_t sb_proc_os_reads(const struct sb_proc_coll *c);
/* One uevent datagram: true for an add, remove or move, with the event's
 * SUBSYSTEM in *subsys (*len bytes, not NUL-terminated). */
bool sb_proc_uevent_parse(const char *buf, size_t n, const char **subsys, size_t *len);
/* The reads of /proc/net/udp{,6} udp_queues (collector c) made so far: the
 * rounds that knew from sockstat that a file lists no socket made none. */
uint64_t sb_proc_udp_reads(const struct sb_proc_coll *c);

/* One round: every enabled collector, in table order, appends to b. */
void sb_proc_round(struct proc_state *st, struct sb_evb *b);

/* Reads f (once per round) and checks it is text; returns its data or
 * NULL (logged and counted). optional: a missing file is not an error. */
const char *sb_proc_read(struct proc_state *st, struct sb_procfile *f, bool optional);
/* The text of collector c's file i this round, as sb_proc_read. */
static inline const char *sb_proc_coll_read(struct proc_state *st, struct sb_proc_coll *c,
					    unsigned i)
{
	return sb_proc_read(st, c->f[i], c->def->files[i].optional);
}
/* Why f gave no text this round: 0 for an optional file that is absent,
 * else <0. */
/* For a collector whose absent file means "no data", as node_exporter's
 * ErrNoData: -ENODATA, which reports success 0 and logs nothing. Any other
 * read error as sb_proc_read_err. */
int sb_proc_nodata(const struct sb_procfile *f);
int sb_proc_read_err(const struct sb_procfile *f, bool optional);
/* Logs (rate-limited) and counts a parser's complaint about f, once per
 * file and round however many collectors parse it. -EINVAL when there was
 * one, else 0. */
int sb_proc_report(struct proc_state *st, struct sb_procfile *f, const struct sb_proc_perr *e);

/* /proc/stat parsed for what (SB_PROC_STAT_*; 0: only the boot time),
 * into b, with st->statinfo updated. cpus: the CPU collector's counters. */
int sb_proc_stat_parse(struct proc_state *st, struct sb_procfile *f, struct sb_evb *b,
		       unsigned what, struct sb_proc_cpus *cpus);
/* For a collector whose only state is one name filter (c->priv). */
int sb_proc_coll_filter_init(struct proc_state *st, struct sb_proc_coll *c, const char *include,
			     const char *exclude);
void sb_proc_coll_filter_free(struct proc_state *st, struct sb_proc_coll *c);
/* Checks a regexp key: "key: reason" in err. */
int sb_proc_check_regex(const char *key, const char *pattern, char *err, size_t errlen);

int sb_proc_cpu_sysfs_init(struct proc_state *st);
void sb_proc_cpu_sysfs_collect(struct proc_state *st, struct sb_evb *b);
void sb_proc_cpu_sysfs_free(struct proc_state *st);

/* The walk over every process (procs_walk.c), from the task iterator (bpf)
 * or procfs: 0 when it runs, else <0 with why. collect starts a walk whose
 * samples go out as their own event. */
int sb_proc_walk_init(struct proc_state *st, bool bpf, char *why, size_t whylen);
void sb_proc_bpfread_collect(struct proc_state *st);
void sb_proc_bpfread_free(struct proc_state *st);

/* Every process from procfs, a bounded number per step (procs_procfs.c). */
struct sb_procfs_walk;
/* cgroot: where cgroup v2 is mounted, to read each process's cgroup id
 * (/proc/PID/cgroup, then its directory's inode); NULL: not read. */
int sb_procfs_walk_open(struct sb_procfs_walk **out, const char *procfs, double hz, double page,
			const char *cgroot);
int sb_procfs_walk_begin(struct sb_procfs_walk *w);
int sb_procfs_walk_step(struct sb_procfs_walk *w, size_t max_procs);
struct sb_taskfold *sb_procfs_walk_fold(struct sb_procfs_walk *w);
/* One process, outside a walk; false when it is not there. */
struct sb_task;
bool sb_procfs_walk_one(struct sb_procfs_walk *w, uint32_t pid, struct sb_task *t);
void sb_procfs_walk_close(struct sb_procfs_walk *w);

/* Groups (groups.c): every process of a walk counted into its group. */
int sb_proc_groups_init(struct proc_state *st);
/* Grouping by cgroup: where cgroup v2 is mounted (from /proc/self/mounts);
 * else NULL. */
const char *sb_proc_groups_cgroot(const struct proc_state *st);
void sb_proc_groups_collect(struct proc_state *st, struct sb_taskfold *f, struct sb_evb *b);
void sb_proc_groups_free(struct proc_state *st);

int sb_proc_procs_init(struct proc_state *st);
void sb_proc_procs_collect(struct proc_state *st, struct sb_evb *b);
void sb_proc_procs_free(struct proc_state *st);

#endif
