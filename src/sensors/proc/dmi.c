/* <sysfs>/class/dmi/id: node_exporter 1.5.0's dmi collector, one
 * node_dmi_info series labelled by the firmware's strings. They do not
 * change before the next boot, so they are read once, at start. As
 * node_exporter (procfs' DMIClass and util.SysReadFile): only regular
 * files count (not links, not FIFOs), each gives its first 128 bytes,
 * trimmed of Unicode white space, with runs of invalid UTF-8 replaced by
 * U+FFFD; a file that cannot be read (product_serial is root's only) is
 * left out; no file at all gives no series and ErrNoData. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"

/* label and file, in label order (as node_exporter sorts them) */
static const struct {
	const char *label, *file;
} dmi_files[] = {
    {"bios_date", "bios_date"},
    {"bios_release", "bios_release"},
    {"bios_vendor", "bios_vendor"},
    {"bios_version", "bios_version"},
    {"board_asset_tag", "board_asset_tag"},
    {"board_name", "board_name"},
    {"board_serial", "board_serial"},
    {"board_vendor", "board_vendor"},
    {"board_version", "board_version"},
    {"chassis_asset_tag", "chassis_asset_tag"},
    {"chassis_serial", "chassis_serial"},
    {"chassis_vendor", "chassis_vendor"},
    {"chassis_version", "chassis_version"},
    {"product_family", "product_family"},
    {"product_name", "product_name"},
    {"product_serial", "product_serial"},
    {"product_sku", "product_sku"},
    {"product_uuid", "product_uuid"},
    {"product_version", "product_version"},
    {"system_vendor", "sys_vendor"},
};
#define NDMI SB_ARRAY_SIZE(dmi_files)

static const char dmi_help[] =
    "A metric with a constant '1' value labeled by bios_date, bios_release, bios_vendor, "
    "bios_version, board_asset_tag, board_name, board_serial, board_vendor, board_version, "
    "chassis_asset_tag, chassis_serial, chassis_vendor, chassis_version, product_family, "
    "product_name, product_serial, product_sku, product_uuid, product_version, system_vendor "
    "if provided by DMI.";

struct dmi {
	bool have[NDMI];
	char val[NDMI][SB_PROC_DMI_MAX];
	unsigned n;
};

/* One UTF-8 sequence at s (n bytes left) as Go decodes it: its length and
 * code point, or 0 when invalid (overlong, surrogate, above U+10FFFF,
 * cut short). */
static size_t utf8_rune(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t len;
	unsigned lo = 0x80, hi = 0xbf, v;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, v = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, v = c & 0x0f, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, v = c & 0x07, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	v = v << 6 | (s[1] & 0x3f);
	for (size_t i = 2; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	*cp = v;
	return len;
}

/* Go's unicode.IsSpace */
static bool uspace(unsigned c)
{
	return (c >= '\t' && c <= '\r') || c == ' ' || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
	       c == 0x205f || c == 0x3000;
}

/* The length of the white space rune ending at s[n-1], or 0. */
static size_t space_before(const unsigned char *s, size_t n)
{
	for (size_t k = 1; k <= 4 && k <= n; k++) {
		unsigned cp;
		if ((s[n - k] & 0xc0) == 0x80 && k < 4)
			continue; /* a continuation byte: look further back */
		return utf8_rune(s + n - k, k, &cp) == k && uspace(cp) ? k : 0;
	}
	return 0;
}

size_t sb_proc_dmi_value(const char *raw, size_t n, char *out)
{
	const unsigned char *s = (const unsigned char *)raw;
	if (n > SB_PROC_DMI_READ)
		n = SB_PROC_DMI_READ;
	unsigned cp;
	size_t k;
	while (n && (k = utf8_rune(s, n, &cp)) && uspace(cp))
		s += k, n -= k;
	while (n && (k = space_before(s, n)))
		n -= k;
	size_t o = 0;
	bool bad = false;
	for (size_t i = 0; i < n;) {
		k = utf8_rune(s + i, n - i, &cp);
		if (!k) {
			if (!bad)
				memcpy(out + o, "\xef\xbf\xbd", 3), o += 3;
			bad = true;
			i++;
			continue;
		}
		bad = false;
		memcpy(out + o, s + i, k);
		o += k, i += k;
	}
	out[o] = 0;
	return o;
}

/* 1: read into v; 0: not a regular file we may read (left out, as
 * node_exporter); <0: an error worth a line. */
static int read_one(const char *path, char *v)
{
	/* O_NONBLOCK: opening a FIFO planted there must not wait for a writer */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT || errno == EACCES || errno == EPERM || errno == ELOOP
			   ? 0
			   : -errno;
	struct stat sb;
	char raw[SB_PROC_DMI_READ];
	ssize_t got = 0;
	int r = 0;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode))
		goto out;
	got = read(fd, raw, sizeof(raw)); /* one read, as util.SysReadFile */
	if (got < 0) {
		r = errno == EACCES || errno == EPERM ? 0 : -errno;
		goto out;
	}
	sb_proc_dmi_value(raw, (size_t)got, v);
	r = 1;
out:
	close(fd);
	return r;
}

static int dmi_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct dmi *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	c->priv = d;
	for (size_t i = 0; i < NDMI; i++) {
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/class/dmi/id/%s", st->cfg->sysfs,
			     dmi_files[i].file) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		int r = read_one(path, d->val[i]);
		if (r < 0)
			sb_log(SB_LOG_WARN, st->comp, "dmi: cannot read %s: %s; label %s left out",
			       path, strerror(-r), dmi_files[i].label);
		d->have[i] = r > 0;
		d->n += r > 0;
	}
	return 0;
}

static void dmi_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	free(c->priv);
	c->priv = NULL;
}

static int dmi_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	(void)st;
	struct dmi *d = c->priv;
	if (!d->n)
		return -ENODATA; /* no DMI (or none readable): ErrNoData */
	sb_evb_sample(b, "node_dmi_info", SB_GAUGE, 1);
	sb_evb_help(b, dmi_help);
	for (size_t i = 0; i < NDMI; i++)
		if (d->have[i])
			sb_evb_label(b, dmi_files[i].label, d->val[i]);
	return 0;
}

const struct sb_proc_collector sb_proc_collector_dmi = {
    .name = "dmi",
    .default_on = true,
    .init = dmi_init,
    .collect = dmi_collect,
    .free = dmi_free,
};
