/* <sysfs>/class/infiniband: node_exporter 1.5.0's infiniband collector.
 * Per device node_infiniband_info{device,board_id,firmware_version,
 * hca_type}; per port (ports/<N>) state_id and physical_state_id (the
 * number before ':' in "4: ACTIVE"), rate_bytes_per_second (the number
 * before the first space in "40 Gb/sec (4X QDR)", in Gb/s, whatever the
 * unit, × 125000000, as procfs), and the counters/ and counters_ext/
 * ("legacy_") files present, "N/A (no PMA)" left out, data counters in
 * 4-octet words × 4. As procfs 1.5.0: no class directory, or a device
 * without an info file, ports/ or a port's counters/, is ErrNoData (there
 * for every device; here that device or port only), and a value that does
 * not parse fails the collector (here only its series is left out).
 * Devices, ports and counter files are listed at start and every
 * RESCAN_ROUNDS rounds. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

#define RESCAN_ROUNDS 60
#define MAX_PORTS 1024

#define IB "node_infiniband_"
static const struct {
	bool ext; /* counters_ext/ */
	const char *file, *name, *help;
	double scale;
} ib_counters[] = {
    {false, "VL15_dropped", IB "vl15_dropped_total",
     "Number of incoming VL15 packets dropped due to resource limitations.", 1},
    {false, "excessive_buffer_overrun_errors", IB "excessive_buffer_overrun_errors_total",
     "Number of times that OverrunErrors consecutive flow control update periods occurred, each "
     "having at least one overrun error.",
     1},
    {false, "link_downed", IB "link_downed_total",
     "Number of times the link failed to recover from an error state and went down", 1},
    {false, "link_error_recovery", IB "link_error_recovery_total",
     "Number of times the link successfully recovered from an error state", 1},
    {false, "local_link_integrity_errors", IB "local_link_integrity_errors_total",
     "Number of times that the count of local physical errors exceeded the threshold specified "
     "by LocalPhyErrors.",
     1},
    {false, "multicast_rcv_packets", IB "multicast_packets_received_total",
     "Number of multicast packets received (including errors)", 1},
    {false, "multicast_xmit_packets", IB "multicast_packets_transmitted_total",
     "Number of multicast packets transmitted (including errors)", 1},
    {false, "port_rcv_constraint_errors", IB "port_constraint_errors_received_total",
     "Number of packets received on the switch physical port that are discarded", 1},
    {false, "port_rcv_data", IB "port_data_received_bytes_total",
     "Number of data octets received on all links", 4},
    {false, "port_rcv_discards", IB "port_discards_received_total",
     "Number of inbound packets discarded by the port because the port is down or congested", 1},
    {false, "port_rcv_errors", IB "port_errors_received_total",
     "Number of packets containing an error that were received on this port", 1},
    {false, "port_rcv_packets", IB "port_packets_received_total",
     "Number of packets received on all VLs by this port (including errors)", 1},
    {false, "port_rcv_remote_physical_errors", IB "port_receive_remote_physical_errors_total",
     "Number of packets marked with the EBP (End of Bad Packet) delimiter received on the port.",
     1},
    {false, "port_rcv_switch_relay_errors", IB "port_receive_switch_relay_errors_total",
     "Number of packets that could not be forwarded by the switch.", 1},
    {false, "port_xmit_constraint_errors", IB "port_constraint_errors_transmitted_total",
     "Number of packets not transmitted from the switch physical port", 1},
    {false, "port_xmit_data", IB "port_data_transmitted_bytes_total",
     "Number of data octets transmitted on all links", 4},
    {false, "port_xmit_discards", IB "port_discards_transmitted_total",
     "Number of outbound packets discarded by the port because the port is down or congested", 1},
    {false, "port_xmit_packets", IB "port_packets_transmitted_total",
     "Number of packets transmitted on all VLs from this port (including errors)", 1},
    {false, "port_xmit_wait", IB "port_transmit_wait_total",
     "Number of ticks during which the port had data to transmit but no data was sent during the "
     "entire tick",
     1},
    {false, "symbol_error", IB "symbol_error_total",
     "Number of minor link errors detected on one or more physical lanes.", 1},
    {false, "unicast_rcv_packets", IB "unicast_packets_received_total",
     "Number of unicast packets received (including errors)", 1},
    {false, "unicast_xmit_packets", IB "unicast_packets_transmitted_total",
     "Number of unicast packets transmitted (including errors)", 1},
    {true, "port_multicast_rcv_packets", IB "legacy_multicast_packets_received_total",
     "Number of multicast packets received", 1},
    {true, "port_multicast_xmit_packets", IB "legacy_multicast_packets_transmitted_total",
     "Number of multicast packets transmitted", 1},
    {true, "port_rcv_data_64", IB "legacy_data_received_bytes_total",
     "Number of data octets received on all links", 4},
    {true, "port_rcv_packets_64", IB "legacy_packets_received_total",
     "Number of data packets received on all links", 1},
    {true, "port_unicast_rcv_packets", IB "legacy_unicast_packets_received_total",
     "Number of unicast packets received", 1},
    {true, "port_unicast_xmit_packets", IB "legacy_unicast_packets_transmitted_total",
     "Number of unicast packets transmitted", 1},
    {true, "port_xmit_data_64", IB "legacy_data_transmitted_bytes_total",
     "Number of data octets transmitted on all links", 4},
    /* sic: node_exporter's text says received */
    {true, "port_xmit_packets_64", IB "legacy_packets_transmitted_total",
     "Number of data packets received on all links", 1},
};
#define NCNT SB_ARRAY_SIZE(ib_counters)

static const char *const ib_info[] = {"board_id", "fw_ver", "hca_type"};
static const char *const ib_info_label[] = {"board_id", "firmware_version", "hca_type"};
#define NINFO 3
enum { P_STATE, P_PHYS, P_RATE, NPF };
static const char *const ib_port_files[NPF] = {"state", "phys_state", "rate"};

struct ib_port {
	size_t dev; /* index into devices */
	char num[16];
	struct sb_procfile f[NPF];
	bool have[NCNT];
	struct sb_procfile c[NCNT];
};

struct ib_dev {
	char name[NAME_MAX + 1];
	bool ok; /* its info files and ports/ exist */
	struct sb_procfile info[NINFO];
};

struct ib {
	char base[PATH_MAX];
	struct ib_dev *dev;
	size_t ndev;
	struct ib_port *port;
	size_t nport;
	bool present, nodata, scanned;
	uint64_t scan_round;
	struct sb_ratelimit rl;
	char val[NINFO][SB_PROC_DMI_MAX];
};

int sb_proc_ib_state(const char *text, uint64_t *id)
{
	const char *colon = strchr(text, ':');
	if (!colon || strchr(colon + 1, ':'))
		return -EINVAL; /* not "ID: NAME" */
	char num[32];
	const char *s = sb_pp_blank(text), *e = colon;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
		e--;
	if (e == s || (size_t)(e - s) >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, (size_t)(e - s));
	num[e - s] = 0;
	return sb_pp_uint_text(num, id) ? 0 : -EINVAL;
}

int sb_proc_ib_rate(const char *text, double *bps)
{
	const char *sp = strchr(text, ' ');
	char num[64];
	if (!sp || sp == text || (size_t)(sp - text) >= sizeof(num))
		return -EINVAL;
	memcpy(num, text, (size_t)(sp - text));
	num[sp - text] = 0;
	const char *p = num;
	double v;
	if (!sb_pp_double(&p, &v) || *p)
		return -EINVAL;
	*bps = v * 125000000.0; /* Gb/s → bytes/s */
	return 0;
}

static void free_all(struct ib *ib)
{
	for (size_t i = 0; i < ib->ndev; i++)
		for (size_t k = 0; k < NINFO; k++)
			sb_procfile_free(&ib->dev[i].info[k]);
	for (size_t i = 0; i < ib->nport; i++) {
		for (size_t k = 0; k < NPF; k++)
			sb_procfile_free(&ib->port[i].f[k]);
		for (size_t k = 0; k < NCNT; k++)
			sb_procfile_free(&ib->port[i].c[k]);
	}
	free(ib->dev);
	free(ib->port);
	ib->dev = NULL;
	ib->port = NULL;
	ib->ndev = ib->nport = 0;
}

/* The entries of dir (not "." ones), sorted, in a NULL-ended array. */
static char **list_dir(const char *dir, int *err)
{
	DIR *d = opendir(dir);
	*err = d ? 0 : -errno;
	if (!d)
		return NULL;
	size_t n = 0, cap = 8;
	char **v = malloc(cap * sizeof(*v));
	struct dirent *de;
	while (v && (de = readdir(d)) && n < MAX_PORTS) {
		if (de->d_name[0] == '.')
			continue;
		if (n + 1 == cap) {
			char **nv = realloc(v, (cap *= 2) * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		if (!(v[n] = strdup(de->d_name)))
			break;
		n++;
	}
	closedir(d);
	if (!v) {
		*err = -ENOMEM;
		return NULL;
	}
	v[n] = NULL;
	for (size_t i = 1; i < n; i++) /* insertion sort: a handful of names */
		for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			char *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v;
}

static void free_list(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* snprintf into path[PATH_MAX]; sysfs names are short, a longer one is
 * refused rather than cut */
static int SB_PRINTF(2, 3) mkpath(char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(path, PATH_MAX, fmt, ap);
	va_end(ap);
	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int init_file(struct sb_procfile *f, const char *path)
{
	int r = sb_procfile_init(f, path, 4096, true);
	f->single = true;
	return r;
}

static bool exists(const char *path)
{
	FILE *fp = fopen(path, "re");
	if (fp)
		fclose(fp);
	return fp != NULL;
}

static int scan_port(struct ib *ib, size_t di, const char *num, const char *pdir)
{
	char path[PATH_MAX];
	int e = mkpath(path, "%s/counters", pdir);
	if (e)
		return e;
	char **cnt = list_dir(path, &e);
	if (!cnt) {
		if (e == -ENOENT || e == -ENOTDIR) {
			ib->nodata = true;
			return 0;
		}
		return e;
	}
	free_list(cnt);
	struct ib_port *v = realloc(ib->port, (ib->nport + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	ib->port = v;
	struct ib_port *p = &ib->port[ib->nport++];
	memset(p, 0, sizeof(*p));
	p->dev = di;
	snprintf(p->num, sizeof(p->num), "%s", num);
	for (size_t k = 0; k < NPF; k++)
		p->f[k].fd = -1;
	for (size_t k = 0; k < NCNT; k++)
		p->c[k].fd = -1;
	int r = 0;
	for (size_t k = 0; k < NPF && !r; k++) {
		r = mkpath(path, "%s/%s", pdir, ib_port_files[k]);
		if (!r)
			r = init_file(&p->f[k], path);
	}
	for (size_t k = 0; k < NCNT && !r; k++) {
		r = mkpath(path, "%s/%s/%s", pdir, ib_counters[k].ext ? "counters_ext" : "counters",
			   ib_counters[k].file);
		p->have[k] = !r && exists(path);
		if (p->have[k])
			r = init_file(&p->c[k], path);
	}
	return r;
}

static int scan_dev(struct ib *ib, const char *name)
{
	struct ib_dev *v = realloc(ib->dev, (ib->ndev + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	ib->dev = v;
	size_t di = ib->ndev++;
	struct ib_dev *d = &ib->dev[di];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	char path[PATH_MAX];
	int r = 0;
	for (size_t k = 0; k < NINFO && !r; k++) {
		d->info[k].fd = -1;
		r = mkpath(path, "%s/%s/%s", ib->base, name, ib_info[k]);
		if (!r)
			r = init_file(&d->info[k], path);
	}
	if (r)
		return r;
	int e = mkpath(path, "%s/%s/ports", ib->base, name);
	if (e)
		return e;
	char **ports = list_dir(path, &e);
	if (!ports) {
		if (e == -ENOENT || e == -ENOTDIR) {
			ib->nodata = true;
			return 0;
		}
		return e;
	}
	d->ok = true;
	for (size_t i = 0; ports[i] && !r; i++) {
		r = mkpath(path, "%s/%s/ports/%s", ib->base, name, ports[i]);
		if (!r)
			r = scan_port(ib, di, ports[i], path);
	}
	free_list(ports);
	return r;
}

static int scan(struct ib *ib)
{
	free_all(ib);
	ib->nodata = false;
	int e;
	char **devs = list_dir(ib->base, &e);
	ib->present = devs || e != -ENOENT;
	if (!devs)
		return e == -ENOENT ? 0 : e;
	int r = 0;
	for (size_t i = 0; devs[i] && !r; i++)
		r = scan_dev(ib, devs[i]);
	free_list(devs);
	return r;
}

static int ib_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct ib *ib = calloc(1, sizeof(*ib));
	if (!ib)
		return -ENOMEM;
	c->priv = ib;
	ib->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	if (snprintf(ib->base, sizeof(ib->base), "%s/class/infiniband", st->cfg->sysfs) >=
	    (int)sizeof(ib->base))
		return -ENAMETOOLONG;
	return 0;
}

static void ib_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct ib *ib = c->priv;
	if (!ib)
		return;
	free_all(ib);
	free(ib);
	c->priv = NULL;
}

/* A file's text, or NULL with *r set: -ENODATA when absent (procfs'
 * ErrNoData), else the read error (logged). */
static const char *read_req(struct proc_state *st, struct sb_procfile *f, int *r)
{
	const char *text = sb_proc_read(st, f, true);
	if (!text) {
		int e = sb_proc_read_err(f, true);
		if (!*r || *r == -ENODATA)
			*r = e ? e : -ENODATA;
	}
	return text;
}

static int bad(struct proc_state *st, struct sb_procfile *f, const char *what, int r)
{
	struct sb_proc_perr pe = {0};
	sb_proc_bad(&pe, 1, "expected %s", what);
	return sb_proc_report(st, f, &pe) && (!r || r == -ENODATA) ? -EINVAL : r;
}

static void port_sample(struct sb_evb *b, const char *name, enum sb_mtype type, double v,
			const char *help, const char *dev, const char *port)
{
	sb_evb_sample(b, name, type, v);
	sb_evb_help(b, help);
	sb_evb_label(b, "device", dev);
	sb_evb_label(b, "port", port);
}

static int collect_port(struct proc_state *st, struct ib_port *p, const char *dev, struct sb_evb *b,
			int r)
{
	const char *text;
	uint64_t id;
	double rate;
	if ((text = read_req(st, &p->f[P_STATE], &r))) {
		if (sb_proc_ib_state(text, &id))
			r = bad(st, &p->f[P_STATE], "\"ID: NAME\"", r);
		else
			port_sample(b, IB "state_id", SB_GAUGE, (double)id,
				    "State of the InfiniBand port (0: no change, 1: down, 2: init, "
				    "3: armed, 4: active, 5: act defer)",
				    dev, p->num);
	}
	if ((text = read_req(st, &p->f[P_PHYS], &r))) {
		if (sb_proc_ib_state(text, &id))
			r = bad(st, &p->f[P_PHYS], "\"ID: NAME\"", r);
		else
			port_sample(
			    b, IB "physical_state_id", SB_GAUGE, (double)id,
			    "Physical state of the InfiniBand port (0: no change, 1: sleep, "
			    "2: polling, 3: disable, 4: shift, 5: link up, 6: link error "
			    "recover, 7: phytest)",
			    dev, p->num);
	}
	if ((text = read_req(st, &p->f[P_RATE], &r))) {
		if (sb_proc_ib_rate(text, &rate))
			r = bad(st, &p->f[P_RATE], "\"<Gb/s> Gb/sec ...\"", r);
		else
			port_sample(b, IB "rate_bytes_per_second", SB_GAUGE, rate,
				    "Maximum signal transfer rate", dev, p->num);
	}
	for (size_t k = 0; k < NCNT; k++) {
		if (!p->have[k])
			continue;
		/* gone since the listing: as if never there, until the next one */
		text = sb_proc_read(st, &p->c[k], true);
		uint64_t v;
		if (!text) {
			int e = sb_proc_read_err(&p->c[k], true);
			if (e && (!r || r == -ENODATA))
				r = e;
			continue;
		}
		if (!strncmp(text, "N/A (no PMA)", 12))
			continue; /* the port has no performance management agent */
		if (!sb_pp_uint_text(text, &v)) {
			r = bad(st, &p->c[k], "a counter", r);
			continue;
		}
		port_sample(b, ib_counters[k].name, SB_COUNTER, (double)v * ib_counters[k].scale,
			    ib_counters[k].help, dev, p->num);
	}
	return r;
}

static int ib_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct ib *ib = c->priv;
	int r = 0;
	if (!ib->scanned || st->round - ib->scan_round >= RESCAN_ROUNDS) {
		ib->scanned = true;
		ib->scan_round = st->round;
		r = scan(ib);
		if (r) {
			st->errors++;
			sb_log_rl(&ib->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", ib->base,
				  strerror(-r));
		}
	}
	if (!ib->present)
		return -ENODATA;
	if (!r && ib->nodata)
		r = -ENODATA;
	for (size_t i = 0; i < ib->ndev; i++) {
		struct ib_dev *d = &ib->dev[i];
		size_t k;
		for (k = 0; k < NINFO; k++) {
			const char *text = read_req(st, &d->info[k], &r);
			if (!text)
				break;
			sb_proc_dmi_value(text, strlen(text), ib->val[k]);
		}
		if (k < NINFO || !d->ok)
			continue;
		sb_evb_sample(b, IB "info", SB_GAUGE, 1);
		sb_evb_help(
		    b, "Non-numeric data from /sys/class/infiniband/<device>, value is always 1.");
		sb_evb_label(b, "device", d->name);
		for (k = 0; k < NINFO; k++)
			sb_evb_label(b, ib_info_label[k], ib->val[k]);
	}
	for (size_t i = 0; i < ib->nport; i++) {
		struct ib_port *p = &ib->port[i];
		r = collect_port(st, p, ib->dev[p->dev].name, b, r);
	}
	return r;
}

const struct sb_proc_collector sb_proc_collector_infiniband = {
    .name = "infiniband",
    .default_on = true,
    .init = ib_init,
    .collect = ib_collect,
    .free = ib_free,
};
