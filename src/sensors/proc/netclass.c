/* <sysfs>/class/net/<iface>: node_exporter 1.5.0's netclass collector, the
 * attributes of every network device (operstate, carrier, speed, mtu ...).
 *
 * The device list is read every round (veth devices come and go); a
 * device's attribute files are opened when it is first seen and re-read
 * with pread. As node_exporter (procfs' SysReadFile), a value is the first
 * 128 bytes of one read, blanks trimmed, and an attribute the kernel
 * refuses to show now (speed or duplex of a link that is down: EINVAL;
 * EOPNOTSUPP; absent; not allowed) is left out without a word. Only
 * regular files are read, so nothing here can block on a FIFO.
 *
 * On the live /sys, twelve of the numbers and three of the strings come
 * from one RTM_GETLINK dump a round instead (rtnl.c): the same fields of
 * struct net_device the show functions print, with their rules for a
 * device that is down, for a sixth of the syscalls; flags is dev->flags
 * worked out from the dump's dev_get_flags() and counts
 * (sb_proc_link_dev_flags). dev_id and the assign types, which the dump
 * lacks and which change only with a link notification, are kept from one
 * round to the next (see kept_check); speed and duplex are read every
 * round while the device is up (a driver's ethtool settings change them
 * without a notification), and refused while it is down, as the files do.
 * A round whose dump does not hold every listed device with the ifindex
 * its directory showed (a /sys of another network namespace, a device
 * made anew) reads the files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/if.h>

#include "proc.h"

/* More attribute files than this are opened for each read rather than
 * kept open, so a host with hundreds of veths does not hold thousands of
 * descriptors (each device keeps its directory open). */
#define KEEP_OPEN_FILES 256
#define VALUE_MAX 128 /* SysReadFile's one read */
#define MAX_DEVICES 4096
#define RTNL_PAUSE_ROUNDS 60 /* after two dumps in a row that did not match */

#define NP "Network device property: "
/* Where an RTM_GETLINK dump has an attribute's value (rtnl.c), taken from
 * the same field of struct net_device as the sysfs file shows. */
enum nl_src {
	NL_NONE, /* sysfs only */
	NL_CARRIER,
	NL_CHANGES,
	NL_UP,
	NL_DOWN,
	NL_DORMANT,
	NL_IFINDEX,
	NL_IFLINK,
	NL_LINKMODE,
	NL_MTU,
	NL_GROUP,
	NL_TXQLEN,
	NL_TYPE,
	NL_ADDRESS,
	NL_BROADCAST,
	NL_OPERSTATE,
	NL_ALIAS,
	NL_FLAGS,
	NL_RUNNING, /* the file while the device is up, refused when down */
};

/* What netclass keeps of a device between rounds, the dump matching:
 * num_attrs' keep is its slot + 1. */
enum { KEEP_ADDR_ASSIGN, KEEP_DEV_ID, KEEP_NAME_ASSIGN, NKEEP };

/* Numeric attributes, in node_exporter's order of emission. */
static const struct {
	const char *file, *name, *help;
	enum sb_mtype type;
	enum nl_src nl;
	unsigned char keep;
} num_attrs[] = {
    {"addr_assign_type", "node_network_address_assign_type", NP "address_assign_type", SB_GAUGE,
     NL_NONE, KEEP_ADDR_ASSIGN + 1},
    {"carrier", "node_network_carrier", NP "carrier", SB_GAUGE, NL_CARRIER},
    {"carrier_changes", "node_network_carrier_changes_total", NP "carrier_changes_total",
     SB_COUNTER, NL_CHANGES},
    {"carrier_up_count", "node_network_carrier_up_changes_total", NP "carrier_up_changes_total",
     SB_COUNTER, NL_UP},
    {"carrier_down_count", "node_network_carrier_down_changes_total",
     NP "carrier_down_changes_total", SB_COUNTER, NL_DOWN},
    {"dev_id", "node_network_device_id", NP "device_id", SB_GAUGE, NL_NONE, KEEP_DEV_ID + 1},
    {"dormant", "node_network_dormant", NP "dormant", SB_GAUGE, NL_DORMANT},
    {"flags", "node_network_flags", NP "flags", SB_GAUGE, NL_FLAGS},
    {"ifindex", "node_network_iface_id", NP "iface_id", SB_GAUGE, NL_IFINDEX},
    {"iflink", "node_network_iface_link", NP "iface_link", SB_GAUGE, NL_IFLINK},
    {"link_mode", "node_network_iface_link_mode", NP "iface_link_mode", SB_GAUGE, NL_LINKMODE},
    {"mtu", "node_network_mtu_bytes", NP "mtu_bytes", SB_GAUGE, NL_MTU},
    {"name_assign_type", "node_network_name_assign_type", NP "name_assign_type", SB_GAUGE, NL_NONE,
     KEEP_NAME_ASSIGN + 1},
    {"netdev_group", "node_network_net_dev_group", NP "net_dev_group", SB_GAUGE, NL_GROUP},
    {"speed", "node_network_speed_bytes", NP "speed_bytes", SB_GAUGE, NL_RUNNING},
    {"tx_queue_len", "node_network_transmit_queue_length", NP "transmit_queue_length", SB_GAUGE,
     NL_TXQLEN},
    {"type", "node_network_protocol_type", NP "protocol_type", SB_GAUGE, NL_TYPE},
};
#define NNUM SB_ARRAY_SIZE(num_attrs)
#define FLAGS 7	 /* num_attrs' index of flags */
#define SPEED 14 /* and of speed */

/* node_network_info's labels after device, then operstate's index. */
static const char *const str_attrs[] = {"address", "broadcast", "duplex", "operstate", "ifalias"};
static const enum nl_src str_nl[] = {NL_ADDRESS, NL_BROADCAST, NL_RUNNING, NL_OPERSTATE, NL_ALIAS};
#define NSTR SB_ARRAY_SIZE(str_attrs)
#define OPERSTATE 3
#define NATTR (NNUM + NSTR)
#define IFINDEX 8 /* num_attrs' index of ifindex */

static const char *attr_file(size_t k)
{
	return k < NNUM ? num_attrs[k].file : str_attrs[k - NNUM];
}

/* A kept value: the file's text, trimmed (numbers, a few bytes), or
 * -ENOENT for one the kernel refuses (name_assign_type of a device made
 * by the kernel: NET_NAME_UNKNOWN). */
#define KEPT_MAX 24
struct nc_kept {
	bool valid;			/* of the device the dump shows now */
	int ifindex;			/* the dump's when kept */
	uint8_t addr[32], addrlen;	/* likewise */
	bool flags_checked, flags_file; /* see read_attr */
	signed char len[NKEEP];		/* -EAGAIN: not read yet */
	char val[NKEEP][KEPT_MAX];
};

struct nc_dev {
	char name[NAME_MAX + 1];
	int dirfd;
	int fd[NATTR]; /* -1: not open (absent, or opened for each read) */
	bool have[NATTR];
	bool seen;	 /* in this round's listing */
	bool stale;	 /* its files went away (the device was removed): open again */
	ino_t ino;	 /* of its entry in the class directory */
	int64_t ifindex; /* sysfs's, read when opened; -1: unknown */
	const struct sb_proc_link *link; /* this round's dump of it; NULL: sysfs */
	struct nc_kept kept;
};

struct netclass {
	char base[PATH_MAX];
	struct sb_proc_filter ignored;
	struct nc_dev *dev;
	size_t n, cap;
	size_t nopen; /* attribute fds held */
	struct sb_ratelimit rl;
	/* the live /sys only: a tree elsewhere (fixtures) is read from files */
	bool use_rtnl;
	unsigned rtnl_pause; /* rounds left without the dump, after it did not match */
	unsigned mismatches; /* rounds in a row it did not */
	/* the device list is this namespace's and no notification came since
	 * it was made: the class directory is not listed again */
	bool list_kept;
	bool watching; /* link notifications are (sb_proc_links_notified); else nothing kept */
	DIR *dir;      /* base, kept open */
};

/* ---- values ---- */

static bool go_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

size_t sb_proc_sysfs_trim(const char *s, size_t n, const char **out)
{
	while (n && go_space(*s))
		s++, n--;
	while (n && go_space(s[n - 1]))
		n--;
	*out = s;
	return n;
}

/* Go's strconv.ParseInt(s, base, 64) for base 0 (procfs' value parser) or
 * 10 (its ReadIntFromFile): a sign, then for base 0 0x/0o/0b (with a digit after) or a leading 0
 * (octal) for the base,
 * '_' only between digits (a base prefix counts as one). */
bool sb_proc_go_int(const char *s, size_t n, unsigned base, int64_t *v)
{
	const char *end = s + n;
	bool neg = false;
	if (s < end && (*s == '+' || *s == '-'))
		neg = *s++ == '-';
	bool any = base == 0; /* '_' only with base 0 */
	bool prev_digit = false;
	if (base == 10) {
		/* no prefix */
	} else if (end - s >= 3 && s[0] == '0' && strchr("bBoOxX", s[1])) {
		char p = (char)(s[1] | 0x20);
		base = p == 'x' ? 16 : p == 'o' ? 8 : 2;
		s += 2;
		prev_digit = true;
	} else if (end - s >= 1 && s[0] == '0') {
		base = 8; /* and "0" alone is 0 */
		s++;
		prev_digit = true;
	} else {
		base = 10;
	}
	uint64_t x = 0;
	for (; s < end; s++) {
		if (*s == '_') {
			if (!prev_digit || !any)
				return false;
			prev_digit = false;
			continue;
		}
		unsigned d = (unsigned)sb_pp_digit(*s);
		if (d >= base || x > (UINT64_MAX - d) / base)
			return false;
		x = x * base + d;
		prev_digit = true;
	}
	if (!prev_digit) /* nothing, or a trailing '_' */
		return false;
	if (x > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return false;
	*v = neg ? (int64_t)(0 - x) : (int64_t)x;
	return true;
}

/* node_network_speed_bytes: Mbit/s → bytes/s in int64 as Go does it
 * (wrapping, the division truncating toward zero). */
static int64_t speed_bytes(int64_t mbit) { return (int64_t)((uint64_t)mbit * 1000000u) / 8; }

/* ---- devices ---- */

static void dev_close(struct netclass *nc, struct nc_dev *d)
{
	for (size_t k = 0; k < NATTR; k++)
		if (d->fd[k] >= 0) {
			close(d->fd[k]);
			d->fd[k] = -1;
			nc->nopen--;
		}
	if (d->dirfd >= 0)
		close(d->dirfd);
	d->dirfd = -1;
}

static bool is_regular(int dirfd, const char *name, unsigned char type)
{
	if (type != DT_UNKNOWN)
		return type == DT_REG;
	struct stat sb;
	return !fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) && S_ISREG(sb.st_mode);
}

/* Opens the device directory (through the class symlink) and notes which
 * attributes it has: 0, or -errno from opening the directory. */
static int dev_open(struct netclass *nc, int classfd, struct nc_dev *d)
{
	d->dirfd = openat(classfd, d->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->dirfd < 0)
		return -errno;
	d->stale = false;
	for (size_t k = 0; k < NATTR; k++) {
		d->fd[k] = -1;
		d->have[k] = is_regular(d->dirfd, attr_file(k), DT_UNKNOWN);
		if (!d->have[k] || nc->nopen >= KEEP_OPEN_FILES)
			continue;
		d->fd[k] = openat(d->dirfd, attr_file(k), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (d->fd[k] >= 0)
			nc->nopen++;
	}
	/* what ties this directory to a device of the dump (links_match) */
	d->ifindex = -1;
	char buf[32];
	int fd = d->fd[IFINDEX] >= 0
		     ? d->fd[IFINDEX]
		     : openat(d->dirfd, "ifindex", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t n = fd < 0 ? -1 : pread(fd, buf, sizeof(buf) - 1, 0);
	if (fd >= 0 && fd != d->fd[IFINDEX])
		close(fd);
	if (n > 0) {
		/* trimmed first: an argument's order of evaluation is unspecified */
		const char *v;
		size_t vl = sb_proc_sysfs_trim(buf, (size_t)n, &v);
		int64_t x;
		if (sb_proc_go_int(v, vl, 10, &x))
			d->ifindex = x;
	}
	return 0;
}

static int cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct nc_dev *)a)->name, ((const struct nc_dev *)b)->name);
}

static struct nc_dev *dev_find(struct netclass *nc, const char *name)
{
	for (size_t i = 0; i < nc->n; i++)
		if (!strcmp(nc->dev[i].name, name))
			return &nc->dev[i];
	return NULL;
}

/* Brings the device list up to date with the class directory: 0,
 * -ENODATA where node_exporter has no data (no class directory, a device
 * gone between listing and opening), else -errno (logged). */
static int list(struct proc_state *st, struct netclass *nc)
{
	DIR *dir = sb_procdir_rewind(&nc->dir, nc->base);
	if (!dir) {
		int r = -errno;
		if (r == -ENOENT || r == -EACCES || r == -ENOTDIR)
			return -ENODATA;
		st->errors++;
		sb_log_rl(&nc->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", nc->base,
			  strerror(-r));
		return r;
	}
	for (size_t i = 0; i < nc->n; i++)
		nc->dev[i].seen = false;
	int r = 0;
	bool added = false;
	struct dirent *de;
	while ((de = readdir(dir)) && !r) {
		const char *nm = de->d_name;
		size_t len = strlen(nm);
		if (!strcmp(nm, ".") || !strcmp(nm, "..") ||
		    is_regular(dirfd(dir), nm, de->d_type) || len > NAME_MAX ||
		    !sb_proc_filter_pass(&nc->ignored, nm, len))
			continue; /* bonding_masters is a file */
		struct nc_dev *d = dev_find(nc, nm);
		/* another inode: a device made anew under the name since the
		 * last round, whose files the ones held are not */
		if (d && (d->stale || d->ino != de->d_ino)) {
			dev_close(nc, d);
			d->dirfd = -1;
		}
		if (!d) {
			if (nc->n == MAX_DEVICES)
				continue;
			if (nc->n == nc->cap) {
				size_t cap = nc->cap ? nc->cap * 2 : 16;
				struct nc_dev *v = realloc(nc->dev, cap * sizeof(*v));
				if (!v) {
					r = -ENOMEM;
					break;
				}
				nc->dev = v;
				nc->cap = cap;
			}
			d = &nc->dev[nc->n++];
			memset(d, 0, sizeof(*d));
			memcpy(d->name, nm, len + 1);
			d->dirfd = -1;
			for (size_t k = 0; k < NATTR; k++)
				d->fd[k] = -1;
			added = true;
		}
		d->seen = true;
		d->ino = de->d_ino;
		if (d->dirfd < 0) {
			r = dev_open(nc, dirfd(dir), d);
			if (r == -ENOENT || r == -EACCES)
				r = -ENODATA; /* a dangling link: node_exporter gives up too */
			else if (r) {
				st->errors++;
				sb_log_rl(&nc->rl, SB_LOG_WARN, st->comp, "cannot open %s/%s: %s",
					  nc->base, nm, strerror(-r));
			}
			if (r)
				d->seen = false;
		}
	}
	size_t w = 0;
	for (size_t i = 0; i < nc->n; i++) {
		if (nc->dev[i].seen)
			nc->dev[w++] = nc->dev[i];
		else
			dev_close(nc, &nc->dev[i]);
	}
	nc->n = w;
	if (added && nc->n > 1)
		qsort(nc->dev, nc->n, sizeof(*nc->dev), cmp_dev);
	return r;
}

/* ---- values from the dump ---- */

static enum nl_src attr_nl(size_t k) { return k < NNUM ? num_attrs[k].nl : str_nl[k - NNUM]; }

static size_t put_int(char *buf, int64_t v) { return sb_fmt_i64(buf, v); }

/* "%*phC", as sysfs_format_mac: lower-case hex bytes joined by ':' */
static size_t put_mac(char *buf, const uint8_t *a, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf[o++] = ':';
		buf[o++] = hex[a[i] >> 4];
		buf[o++] = hex[a[i] & 15];
	}
	return o;
}

/* Attribute k as its sysfs file would show it, from the dump: its length
 * in buf (VALUE_MAX + 1 bytes), -ENOENT where the show function refuses
 * (carrier or dormant of a device that is down), -EAGAIN where the dump
 * lacks it (an older kernel): read the file. The show functions' rule
 * for a device that is not running is the dump's IFF_UP. */
static ssize_t from_link(const struct sb_proc_link *l, size_t k, char *buf)
{
	static const char *const operstates[] = {"unknown", "notpresent", "down", "lowerlayerdown",
						 "testing", "dormant",	  "up"};
	bool up = l->flags & IFF_UP;
	switch (attr_nl(k)) {
	case NL_NONE:
		return -EAGAIN;
	case NL_CARRIER:
		if (!up)
			return -ENOENT;
		return l->have & SB_LINK_CARRIER ? (ssize_t)put_int(buf, !!l->carrier) : -EAGAIN;
	case NL_CHANGES:
		return l->have & SB_LINK_CHANGES ? (ssize_t)put_int(buf, (int32_t)l->changes)
						 : -EAGAIN;
	case NL_UP:
		return l->have & SB_LINK_UP ? (ssize_t)put_int(buf, (int32_t)l->up) : -EAGAIN;
	case NL_DOWN:
		return l->have & SB_LINK_DOWN ? (ssize_t)put_int(buf, (int32_t)l->down) : -EAGAIN;
	case NL_DORMANT:
		return up ? (ssize_t)put_int(buf, !!(l->flags & IFF_DORMANT)) : -ENOENT;
	case NL_IFINDEX:
		return (ssize_t)put_int(buf, l->ifindex);
	case NL_IFLINK: /* sent only when another device's */
		return (ssize_t)put_int(buf,
					l->have & SB_LINK_IFLINK ? (int32_t)l->iflink : l->ifindex);
	case NL_LINKMODE:
		return l->have & SB_LINK_LINKMODE ? (ssize_t)put_int(buf, l->linkmode) : -EAGAIN;
	case NL_MTU:
		return l->have & SB_LINK_MTU ? (ssize_t)put_int(buf, (int32_t)l->mtu) : -EAGAIN;
	case NL_GROUP:
		return l->have & SB_LINK_GROUP ? (ssize_t)put_int(buf, (int32_t)l->group) : -EAGAIN;
	case NL_TXQLEN:
		return l->have & SB_LINK_TXQLEN ? (ssize_t)put_int(buf, l->txqlen) : -EAGAIN;
	case NL_TYPE:
		return (ssize_t)put_int(buf, l->type);
	case NL_ADDRESS: /* sent only with a length; the file is then "\n" */
		return (ssize_t)(l->have & SB_LINK_ADDRESS ? put_mac(buf, l->addr, l->addrlen) : 0);
	case NL_BROADCAST:
		return (ssize_t)(l->have & SB_LINK_BROADCAST ? put_mac(buf, l->brd, l->brdlen) : 0);
	case NL_OPERSTATE: /* the dump says down for a device that is not running, as sysfs */
		if (!(l->have & SB_LINK_OPERSTATE))
			return -EAGAIN;
		if (l->operstate >= SB_ARRAY_SIZE(operstates))
			return -ENOENT;
		memcpy(buf, operstates[l->operstate], strlen(operstates[l->operstate]));
		return (ssize_t)strlen(operstates[l->operstate]);
	case NL_RUNNING: /* speed_show, duplex_show: -EINVAL unless netif_running, and
			  * always for the loopback device (no get_link_ksettings) */
		return up && !(l->flags & IFF_LOOPBACK) ? -EAGAIN : -ENOENT;
	case NL_FLAGS: {
		unsigned f;
		return sb_proc_link_dev_flags(l, &f) ? (ssize_t)put_int(buf, f) : -EAGAIN;
	}
	case NL_ALIAS: { /* the file: the alias and "\n", of which one read takes VALUE_MAX */
		if (!(l->have & SB_LINK_ALIAS))
			return 0;
		size_t n = strlen(l->alias);
		if (n > VALUE_MAX)
			n = VALUE_MAX;
		memcpy(buf, l->alias, n);
		return (ssize_t)n;
	}
	}
	return -EAGAIN;
}

/* ---- values kept between rounds ---- */

/* A notification for ifindex (0: any device, maybe) makes its kept values
 * go. The kernel notifies (RTM_NEWLINK) every change of what is kept:
 * dev_set_mac_address sets addr_assign_type NET_ADDR_SET and notifies
 * NETDEV_CHANGEADDR, dev_change_name sets name_assign_type
 * NET_NAME_RENAMED and notifies NETDEV_CHANGENAME, and a device made anew
 * or gone is RTM_NEWLINK or RTM_DELLINK; dev_id is set by a driver before
 * its device is registered. */
static void kept_forget(void *arg, int ifindex)
{
	struct netclass *nc = arg;
	nc->list_kept = false; /* a device made, gone or renamed */
	for (size_t i = 0; i < nc->n; i++)
		if (!ifindex || nc->dev[i].kept.ifindex == ifindex)
			nc->dev[i].kept.valid = false;
}

/* Notifications since the last round (links.c drains them once a round,
 * for the kept dump too): before this round's values are taken, so a
 * change is seen at the latest in the round after it, as a file read
 * would. Without them nothing is kept. */
static void kept_drain(struct proc_state *st, struct netclass *nc)
{
	nc->watching = nc->use_rtnl && sb_proc_links_notified(st, kept_forget, nc);
}

/* The dump's entry for d (d->link) this round: the kept values hold while
 * it is the device they were read from, with the same name (d is found by
 * name), ifindex and address, and no notification came; otherwise they
 * are read again, and kept from this round on. */
static void kept_check(struct netclass *nc, struct nc_dev *d)
{
	struct nc_kept *k = &d->kept;
	const struct sb_proc_link *l = d->link;
	uint8_t alen = l->have & SB_LINK_ADDRESS ? l->addrlen : 0;
	if (k->valid && k->ifindex == l->ifindex && k->addrlen == alen &&
	    !memcmp(k->addr, l->addr, alen))
		return;
	memset(k, 0, sizeof(*k));
	if (!nc->watching)
		return;
	k->valid = true;
	k->ifindex = l->ifindex;
	k->addrlen = alen;
	memcpy(k->addr, l->addr, alen);
	for (size_t j = 0; j < NKEEP; j++)
		k->len[j] = -EAGAIN;
}

/* Attribute k's kept value in buf: its length, -ENOENT, or -EAGAIN (none). */
static ssize_t kept_get(const struct nc_dev *d, size_t k, char *buf)
{
	if (!d->kept.valid || k >= NNUM || !num_attrs[k].keep)
		return -EAGAIN;
	size_t j = num_attrs[k].keep - 1u;
	ssize_t n = d->kept.len[j];
	if (n > 0)
		memcpy(buf, d->kept.val[j], (size_t)n);
	return n;
}

/* Keeps what the file gave (n: its trimmed length, or -ENOENT), if k is
 * kept. */
static void kept_put(struct nc_dev *d, size_t k, ssize_t n, const char *v)
{
	if (!d->kept.valid || k >= NNUM || !num_attrs[k].keep || (n < 0 && n != -ENOENT) ||
	    n > KEPT_MAX || d->stale)
		return;
	size_t j = num_attrs[k].keep - 1u;
	if (n > 0)
		memcpy(d->kept.val[j], v, (size_t)n);
	d->kept.len[j] = (signed char)n;
}

/* The first round a device's values are kept its flags file is read too:
 * if dev->flags is not what the dump says (an out-of-tree driver writing
 * IFF_RUNNING into it), the file is read every round while they are. */
static void flags_check(struct nc_dev *d, ssize_t n, const char *v)
{
	d->kept.flags_checked = true;
	int64_t file;
	unsigned dump;
	d->kept.flags_file = n < 0 || !sb_proc_go_int(v, (size_t)n, 0, &file) ||
			     !sb_proc_link_dev_flags(d->link, &dump) || file != (int64_t)dump;
}

/* The dump's entry for each listed device, when every one of them is in
 * it with the ifindex its sysfs directory gave: then this sysfs is this
 * network namespace's. Else (another namespace's /sys, a device renamed
 * or made anew meanwhile) none: this round reads the files. */
static bool links_match(struct proc_state *st, struct netclass *nc)
{
	for (size_t i = 0; i < nc->n; i++)
		nc->dev[i].link = NULL;
	if (!nc->use_rtnl || (nc->rtnl_pause && nc->rtnl_pause--))
		return false;
	const struct sb_proc_rtnl *links = sb_proc_links(st);
	if (!links)
		return false;
	for (size_t i = 0; i < nc->n; i++) {
		const struct sb_proc_link *l = sb_proc_rtnl_find(links, nc->dev[i].name);
		if (!l || l->ifindex != nc->dev[i].ifindex) {
			/* a device made or gone between the listing and the
			 * dump matches in the next round; another namespace's
			 * /sys keeps not matching, where a dump a round would
			 * cost without saving a read */
			if (++nc->mismatches >= 2) {
				nc->rtnl_pause = RTNL_PAUSE_ROUNDS;
				nc->mismatches = 0;
			}
			return false;
		}
	}
	nc->mismatches = 0;
	for (size_t i = 0; i < nc->n; i++) {
		nc->dev[i].link = sb_proc_rtnl_find(links, nc->dev[i].name);
		kept_check(nc, &nc->dev[i]);
	}
	return true;
}

static ssize_t read_file(struct proc_state *st, struct netclass *nc, struct nc_dev *d, size_t k,
			 char *buf, const char **v);

/* One attribute's value, trimmed, in buf: its length, -ENOENT when the
 * kernel does not show it now (left out silently), or -errno (logged). */
static ssize_t read_attr(struct proc_state *st, struct netclass *nc, struct nc_dev *d, size_t k,
			 char *buf, const char **v)
{
	bool check = false;
	*v = buf;
	if (d->link) {
		ssize_t n = kept_get(d, k, buf);
		check = k == FLAGS && d->kept.valid && !d->kept.flags_checked;
		if (n == -EAGAIN && !check && !(k == FLAGS && d->kept.flags_file))
			n = from_link(d->link, k, buf);
		if (n >= 0)
			return (ssize_t)sb_proc_sysfs_trim(buf, (size_t)n, v);
		if (n != -EAGAIN)
			return n;
	}
	ssize_t n = read_file(st, nc, d, k, buf, v);
	if (check)
		flags_check(d, n, *v);
	else if (d->link)
		kept_put(d, k, n, *v);
	return n;
}

/* read_attr from the file. */
static ssize_t read_file(struct proc_state *st, struct netclass *nc, struct nc_dev *d, size_t k,
			 char *buf, const char **v)
{
	int fd = d->fd[k];
	if (fd < 0)
		fd = openat(d->dirfd, attr_file(k), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t n = fd < 0 ? -1 : pread(fd, buf, VALUE_MAX, 0);
	int err = n < 0 ? errno : 0;
	if (fd >= 0 && fd != d->fd[k])
		close(fd);
	if (err == ENODEV)
		d->stale = true; /* removed; a device of that name is opened anew */
	if (err == EINVAL || err == EOPNOTSUPP || err == ENOENT || err == EACCES || err == EPERM ||
	    err == ENODEV || err == ENODATA)
		return -ENOENT;
	if (err) {
		st->errors++;
		sb_log_rl(&nc->rl, SB_LOG_WARN, st->comp, "cannot read %s/%s/%s: %s", nc->base,
			  d->name, attr_file(k), strerror(err));
		return -err;
	}
	return (ssize_t)sb_proc_sysfs_trim(buf, (size_t)n, v);
}

static int netclass_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct netclass *nc = calloc(1, sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	c->priv = nc;
	nc->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	nc->use_rtnl = sb_proc_live_sysfs(st);
	st->links_carrier = nc->use_rtnl;
	if (snprintf(nc->base, sizeof(nc->base), "%s/class/net", st->cfg->sysfs) >=
	    (int)sizeof(nc->base))
		return -ENAMETOOLONG;
	char err[256];
	int r = sb_proc_filter_init(&nc->ignored, NULL, st->cfg->netclass_ignored_devices, err,
				    sizeof(err));
	if (r)
		sb_err(st->comp, "netclass_ignored_devices: %s", err);
	return r;
}

static void netclass_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct netclass *nc = c->priv;
	if (!nc)
		return;
	for (size_t i = 0; i < nc->n; i++)
		dev_close(nc, &nc->dev[i]);
	free(nc->dev);
	if (nc->dir)
		closedir(nc->dir);
	sb_proc_filter_free(&nc->ignored);
	free(nc);
	c->priv = NULL;
}

static int dev_collect(struct proc_state *st, struct netclass *nc, struct nc_dev *d,
		       struct sb_evb *b)
{
	char sbuf[NSTR][VALUE_MAX + 1];
	const char *sv[NSTR];
	size_t sl[NSTR];
	int r = 0;
	for (size_t k = 0; k < NSTR; k++) {
		ssize_t n =
		    d->have[NNUM + k] ? read_attr(st, nc, d, NNUM + k, sbuf[k], &sv[k]) : -1;
		if (n < 0 && n != -1 && n != -ENOENT && !r)
			r = (int)n;
		sl[k] = n < 0 ? 0 : (size_t)n;
		if (n < 0)
			sv[k] = "";
	}
	bool up = sl[OPERSTATE] == 2 && !memcmp(sv[OPERSTATE], "up", 2);
	sb_evb_sample(b, "node_network_up", SB_GAUGE, up ? 1 : 0);
	sb_evb_help(b, "Value is 1 if operstate is 'up', 0 otherwise.");
	sb_evb_label(b, "device", d->name);
	sb_evb_sample(b, "node_network_info", SB_GAUGE, 1);
	sb_evb_help(b, "Non-numeric data from /sys/class/net/<iface>, value is always 1.");
	sb_evb_label(b, "device", d->name);
	for (size_t k = 0; k < NSTR; k++)
		sb_evb_labeln(b, str_attrs[k], strlen(str_attrs[k]), sv[k], sl[k]);

	char buf[VALUE_MAX + 1];
	for (size_t k = 0; k < NNUM; k++) {
		if (!d->have[k])
			continue;
		const char *v;
		ssize_t n = read_attr(st, nc, d, k, buf, &v);
		if (n < 0) {
			if (n != -ENOENT && !r)
				r = (int)n;
			continue;
		}
		int64_t x;
		if (!sb_proc_go_int(v, (size_t)n, 0, &x)) {
			/* node_exporter would say 0 here: a number never read is
			 * left out instead, and reported */
			st->errors++;
			sb_log_rl(&nc->rl, SB_LOG_WARN, st->comp,
				  "%s/%s/%s: line 1: not an integer: \"%.*s\", skipped", nc->base,
				  d->name, num_attrs[k].file, (int)(n > 32 ? 32 : n), v);
			if (!r)
				r = -EINVAL;
			continue;
		}
		if (k == SPEED) {
			if (x < 0 && st->cfg->netclass_ignore_invalid_speed)
				continue; /* -1: the driver does not know */
			x = speed_bytes(x);
		}
		sb_evb_sample(b, num_attrs[k].name, num_attrs[k].type, (double)x);
		sb_evb_help(b, num_attrs[k].help);
		sb_evb_label(b, "device", d->name);
	}
	return r;
}

static int netclass_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct netclass *nc = c->priv;
	kept_drain(st, nc);
	/* A device's directory is there before its RTM_NEWLINK is sent
	 * (register_netdevice, rtnl_configure_link) and a rename's before its
	 * notification (dev_change_name); a device gone may still be listed
	 * right after its RTM_DELLINK, until a read says ENODEV (stale). */
	int r = nc->list_kept ? 0 : list(st, nc);
	if (r)
		return r; /* node_exporter reports no device when one fails */
	nc->list_kept = links_match(st, nc) && nc->watching;
	for (size_t i = 0; i < nc->n; i++) {
		int e = dev_collect(st, nc, &nc->dev[i], b);
		if (e && !r)
			r = e;
		if (nc->dev[i].stale)
			nc->list_kept = false;
	}
	return r;
}

static const struct sb_cfg_key netclass_keys[] = {
    {"netclass_ignored_devices", SB_CT_STR, offsetof(struct proc_cfg, netclass_ignored_devices),
     "^$", "regexp of network devices the netclass collector leaves out"},
    {"netclass_ignore_invalid_speed", SB_CT_BOOL,
     offsetof(struct proc_cfg, netclass_ignore_invalid_speed), "false",
     "leave out node_network_speed_bytes when a driver reports a speed below 0 (unknown)"},
    {0},
};

static int netclass_check(const struct proc_cfg *c, char *err, size_t errlen)
{
	return sb_proc_check_regex("netclass_ignored_devices", c->netclass_ignored_devices, err,
				   errlen);
}

const struct sb_proc_collector sb_proc_collector_netclass = {
    .name = "netclass",
    .default_on = true,
    .keys = netclass_keys,
    .check = netclass_check,
    .init = netclass_init,
    .collect = netclass_collect,
    .free = netclass_free,
};
