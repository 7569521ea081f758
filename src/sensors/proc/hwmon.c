/* <sysfs>/class/hwmon: node_exporter 1.5.0's hwmon collector. Every chip
 * (hwmon<N>, its files and its device directory's) gives one series per
 * sensor file: node_hwmon_<type>[_<property>][_<unit>]{chip,sensor} with
 * the unit scaling and HELP texts of node_exporter, plus
 * node_hwmon_chip_names and node_hwmon_sensor_label.
 *
 * As there, a file that cannot be read or whose text is not a Go float is
 * left out without a word (drivers refuse reads of sensors that are off),
 * and the chip label is built from the device's path, else the name file,
 * else hwmon<N>. Chips and their files are listed at start, every
 * RESCAN_ROUNDS rounds and after a file went away; values are re-read
 * every round. Only regular files are read (no FIFO can block a round). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"

#define RESCAN_ROUNDS 60
#define KEEP_OPEN_FILES 256
#define MAX_CHIPS 256
#define MAX_FILES 4096 /* per chip */
#define SYSREAD_MAX 128

static const char *const sensor_types[] = {
    "vrm",  "beep_enable", "update_interval", "in",	"cpu",	    "fan",	 "pwm",
    "temp", "curr",	   "power",	      "energy", "humidity", "intrusion",
};

struct hw_file {
	char sensor[48]; /* type and number, as node_exporter: "temp1" */
	char prop[64];	 /* after '_'; "" for none */
	const char *type;
	unsigned src; /* 0: the hwmon directory, 1: its device directory (read later, wins) */
	char *path;
	int fd; /* -1: opened for each read */
};

struct hw_chip {
	char name[256];
	char chip_name[256]; /* "": no name file */
	struct hw_file *f;
	size_t n;
	bool bad; /* could not be listed: no series, as node_exporter */
};

#define MAX_PROPS 64

struct hw_val {
	const char *prop;
	char v[SYSREAD_MAX + 1];
	size_t len;
};

struct hwmon {
	char base[PATH_MAX];
	struct hw_chip *chip;
	size_t n;
	size_t nopen;
	bool scanned;
	bool failed; /* a chip could not be listed at the last scan */
	int list_err;
	uint64_t scan_round;
	struct sb_ratelimit rl;
	struct hw_val *vals; /* one sensor's values, reused every round */
};

/* ---- names ---- */

/* node_exporter's cleanMetricName: lower case, [^a-z0-9:_] → '_', '_'
 * trimmed off both ends. */
size_t sb_proc_hwmon_clean(const char *s, size_t n, char *out, size_t cap)
{
	size_t w = 0;
	for (size_t i = 0; i < n && w + 1 < cap; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' || c == '_'))
			c = '_';
		out[w++] = c;
	}
	size_t a = 0;
	while (a < w && out[a] == '_')
		a++;
	while (w > a && out[w - 1] == '_')
		w--;
	memmove(out, out + a, w - a);
	out[w - a] = 0;
	return w - a;
}

/* hwmonFilenameFormat, ^([^0-9]+)([0-9]*)(_(.+))?$, and the sensor type
 * list: false for files that are no sensor's. */
bool sb_proc_hwmon_explode(const char *fn, const char **type, char *sensor, size_t scap,
			   const char **prop)
{
	size_t t = strcspn(fn, "0123456789");
	if (!t)
		return false;
	const char *p = fn + t;
	size_t d = strspn(p, "0123456789");
	const char *rest = p + d;
	if (*rest && (rest[0] != '_' || !rest[1]))
		return false;
	unsigned long num = 0;
	for (size_t i = 0; i < d; i++) {
		num = num * 10 + (unsigned long)(p[i] - '0');
		if (num > INT64_MAX / 10)
			return false; /* Atoi fails */
	}
	for (size_t i = 0; i < SB_ARRAY_SIZE(sensor_types); i++) {
		if (strlen(sensor_types[i]) != t || memcmp(sensor_types[i], fn, t))
			continue;
		if (snprintf(sensor, scap, "%s%lu", sensor_types[i], num) >= (int)scap)
			return false;
		*type = sensor_types[i];
		*prop = *rest ? rest + 1 : "";
		return true;
	}
	return false;
}

/* Go's underscoreOK: '_' only between digits (a base prefix counts). */
static bool underscore_ok(const char *s)
{
	char saw = '^';
	if (*s == '+' || *s == '-')
		s++;
	bool hex = false;
	if (s[0] == '0' && s[1] && strchr("bBoOxX", s[1])) {
		hex = (s[1] | 0x20) == 'x';
		s += 2;
		saw = '0';
	}
	for (; *s; s++) {
		char l = (char)(*s | 0x20);
		if ((*s >= '0' && *s <= '9') || (hex && l >= 'a' && l <= 'f')) {
			saw = '0';
			continue;
		}
		if (*s == '_') {
			if (saw != '0')
				return false;
			saw = '_';
			continue;
		}
		if (saw == '_')
			return false;
		saw = '!';
	}
	return saw != '_';
}

/* Go's strconv.ParseFloat(s, 64): decimal or hex (with a 'p' exponent)
 * numbers, '_' between digits, inf/infinity with a sign, nan; nothing
 * else (no blanks), and no overflow. */
bool sb_proc_go_float(const char *s, size_t n, double *v)
{
	char buf[SYSREAD_MAX + 1];
	if (!n || n >= sizeof(buf) || memchr(s, 0, n))
		return false;
	memcpy(buf, s, n);
	buf[n] = 0;
	const char *p = buf;
	bool neg = *p == '-';
	if (*p == '+' || *p == '-')
		p++;
	if ((!strcasecmp(p, "inf") || !strcasecmp(p, "infinity"))) {
		*v = neg ? -INFINITY : INFINITY;
		return true;
	}
	if (!strcasecmp(buf, "nan")) { /* no sign */
		*v = NAN;
		return true;
	}
	bool hex = p[0] == '0' && (p[1] | 0x20) == 'x';
	const char *q = hex ? p + 2 : p;
	bool digits = false, dot = false, exp = false;
	for (; *q; q++) {
		char l = (char)(*q | 0x20);
		if ((*q >= '0' && *q <= '9') || (hex && l >= 'a' && l <= 'f'))
			digits = true;
		else if (*q == '.' && !dot)
			dot = true;
		else if (*q != '_')
			break;
	}
	if (!digits)
		return false;
	if (*q && (*q | 0x20) == (hex ? 'p' : 'e')) {
		q++;
		if (*q == '+' || *q == '-')
			q++;
		bool ed = false;
		for (; (*q >= '0' && *q <= '9') || *q == '_'; q++)
			ed |= *q != '_';
		if (!ed)
			return false;
		exp = true;
	}
	if (*q || (hex && !exp) || (strchr(buf, '_') && !underscore_ok(buf)))
		return false;
	char clean[SYSREAD_MAX + 1];
	size_t w = 0;
	for (const char *c = buf; *c; c++)
		if (*c != '_')
			clean[w++] = *c;
	clean[w] = 0;
	char *end;
	errno = 0;
	double x = strtod(clean, &end);
	if (*end || (errno == ERANGE && isinf(x)))
		return false;
	*v = x;
	return true;
}

/* ---- listing ---- */

static void free_chips(struct hwmon *hw)
{
	for (size_t i = 0; i < hw->n; i++) {
		for (size_t k = 0; k < hw->chip[i].n; k++) {
			struct hw_file *f = &hw->chip[i].f[k];
			if (f->fd >= 0)
				close(f->fd);
			free(f->path);
		}
		free(hw->chip[i].f);
	}
	free(hw->chip);
	hw->chip = NULL;
	hw->n = 0;
	hw->nopen = 0;
}

/* A small file's whole text (os.ReadFile); false when unreadable. */
static bool read_small(const char *path, char *buf, size_t cap, size_t *len)
{
	struct stat sb;
	if (stat(path, &sb) || !S_ISREG(sb.st_mode))
		return false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	ssize_t n = pread(fd, buf, cap - 1, 0);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = 0;
	*len = (size_t)n;
	return true;
}

static const char *base_of(char *path, size_t *len)
{
	char *s = strrchr(path, '/');
	const char *b = s ? s + 1 : path;
	*len = strlen(b);
	return b;
}

/* hwmonName: "<parent>_<device>" of the device link's target, else the
 * name file, else the hwmon directory's own name; all cleaned. */
static int chip_label(const char *dir, char *out, size_t cap)
{
	char path[PATH_MAX + 320], real[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/device", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (realpath(path, real)) {
		size_t nl, tl = 0;
		const char *name = base_of(real, &nl);
		char cname[256], ctype[256] = "";
		sb_proc_hwmon_clean(name, nl, cname, sizeof(cname));
		char *slash = strrchr(real, '/');
		if (slash) {
			*slash = 0;
			const char *type = base_of(real, &tl);
			sb_proc_hwmon_clean(type, tl, ctype, sizeof(ctype));
		}
		if (*ctype && *cname) {
			return snprintf(out, cap, "%s_%s", ctype, cname) >= (int)cap ? -ENAMETOOLONG
										     : 0;
		}
		if (*cname) {
			snprintf(out, cap, "%s", cname);
			return 0;
		}
	}
	char buf[256];
	size_t n;
	if (snprintf(path, sizeof(path), "%s/name", dir) < (int)sizeof(path) &&
	    read_small(path, buf, sizeof(buf), &n) && n && sb_proc_hwmon_clean(buf, n, out, cap))
		return 0;
	if (!realpath(dir, real))
		return -errno;
	const char *b = base_of(real, &n);
	return sb_proc_hwmon_clean(b, n, out, cap) ? 0 : -EINVAL;
}

static int add_files(struct hwmon *hw, struct hw_chip *c, const char *dir, unsigned src,
		     size_t *cap)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	int r = 0;
	struct dirent *de;
	char path[PATH_MAX + 300];
	while ((de = readdir(d)) && c->n < MAX_FILES) {
		const char *type, *prop;
		char sensor[48];
		if (!sb_proc_hwmon_explode(de->d_name, &type, sensor, sizeof(sensor), &prop) ||
		    strlen(prop) >= sizeof(c->f[0].prop))
			continue;
		struct stat sb;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path) ||
		    stat(path, &sb) || !S_ISREG(sb.st_mode))
			continue; /* node_exporter's read of it fails too */
		if (c->n == *cap) {
			size_t nc = *cap ? *cap * 2 : 32;
			struct hw_file *v = realloc(c->f, nc * sizeof(*v));
			if (!v) {
				r = -ENOMEM;
				break;
			}
			c->f = v;
			*cap = nc;
		}
		struct hw_file *f = &c->f[c->n];
		memset(f, 0, sizeof(*f));
		snprintf(f->sensor, sizeof(f->sensor), "%s", sensor);
		snprintf(f->prop, sizeof(f->prop), "%s", prop);
		f->type = type;
		f->src = src;
		f->fd = -1;
		if (!(f->path = strdup(path))) {
			r = -ENOMEM;
			break;
		}
		c->n++;
		if (hw->nopen < KEEP_OPEN_FILES &&
		    (f->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) >= 0)
			hw->nopen++;
	}
	closedir(d);
	return r;
}

/* Grouped by sensor; within it the hwmon directory's files before the
 * device directory's, so the latter win as in node_exporter's map. */
static int cmp_file(const void *a, const void *b)
{
	const struct hw_file *x = a, *y = b;
	int c = strcmp(x->sensor, y->sensor);
	if (!c)
		c = strcmp(x->prop, y->prop);
	return c ? c : (int)x->src - (int)y->src;
}

static int scan(struct proc_state *st, struct hwmon *hw)
{
	free_chips(hw);
	hw->failed = false;
	DIR *d = opendir(hw->base);
	if (!d)
		return errno == ENOENT ? -ENODATA : -errno;
	size_t cap = 0;
	int r = 0;
	struct dirent *de;
	char dir[PATH_MAX + 300];
	while ((de = readdir(d)) && hw->n < MAX_CHIPS && r != -ENOMEM) {
		struct stat sb;
		if (de->d_name[0] == '.' ||
		    snprintf(dir, sizeof(dir), "%s/%s", hw->base, de->d_name) >= (int)sizeof(dir) ||
		    stat(dir, &sb) || !S_ISDIR(sb.st_mode))
			continue;
		if (hw->n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct hw_chip *v = realloc(hw->chip, nc * sizeof(*v));
			if (!v) {
				r = -ENOMEM;
				break;
			}
			hw->chip = v;
			cap = nc;
		}
		struct hw_chip *c = &hw->chip[hw->n];
		memset(c, 0, sizeof(*c));
		int e = chip_label(dir, c->name, sizeof(c->name));
		size_t fcap = 0;
		if (!e)
			e = add_files(hw, c, dir, 0, &fcap);
		char dev[PATH_MAX + 310];
		snprintf(dev, sizeof(dev), "%s/device", dir);
		if (!e && !stat(dev, &sb))
			e = add_files(hw, c, dev, 1, &fcap);
		hw->n++; /* kept even when broken, so its files are freed */
		if (e) {
			c->bad = hw->failed = true;
			sb_log_rl(&hw->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", dir,
				  strerror(-e));
			st->errors++;
			if (e == -ENOMEM)
				r = e;
			continue;
		}
		char buf[256];
		size_t n;
		snprintf(dev, sizeof(dev), "%s/name", dir);
		if (read_small(dev, buf, sizeof(buf), &n) && n)
			sb_proc_hwmon_clean(buf, n, c->chip_name, sizeof(c->chip_name));
		if (c->n > 1)
			qsort(c->f, c->n, sizeof(*c->f), cmp_file);
	}
	closedir(d);
	return r;
}

/* ---- values ---- */

/* One read of at most 128 bytes, '\n' trimmed off both ends (strings.Trim). */
static bool read_val(struct hwmon *hw, struct hw_file *f, struct hw_val *out)
{
	int fd = f->fd >= 0 ? f->fd : open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	ssize_t n = fd < 0 ? -1 : pread(fd, out->v, SYSREAD_MAX, 0);
	int err = n < 0 ? errno : 0;
	if (fd >= 0 && fd != f->fd)
		close(fd);
	if (n < 0) {
		if (err == ENOENT || err == ENODEV || err == ESTALE)
			hw->scanned = false; /* a chip went away: list again */
		return false;
	}
	const char *s = out->v;
	while (n && *s == '\n')
		s++, n--;
	while (n && s[n - 1] == '\n')
		n--;
	memmove(out->v, s, (size_t)n);
	out->v[n] = 0;
	out->len = (size_t)n;
	return true;
}

static const struct hw_val *val_of(const struct hw_val *v, size_t n, const char *prop)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].prop, prop))
			return &v[i];
	return NULL;
}

static bool val_float(const struct hw_val *v, double *x)
{
	return v && sb_proc_go_float(v->v, v->len, x);
}

static void emit(struct sb_evb *b, const char *name, enum sb_mtype t, double x, const char *help,
		 const struct hw_chip *c, const char *sensor)
{
	sb_evb_sample(b, name, t, x);
	sb_evb_help(b, help);
	sb_evb_label(b, "chip", c->name);
	sb_evb_label(b, "sensor", sensor);
}

/* The series of one sensor of chip c, from its values this round. */
static void hwmon_sensor(struct sb_evb *b, const struct hw_chip *c, const char *sensor,
			 const char *type, const struct hw_val *v, size_t n)
{
	const struct hw_val *label = val_of(v, n, "label");
	if (label) {
		sb_evb_sample(b, "node_hwmon_sensor_label", SB_GAUGE, 1);
		sb_evb_help(b, "Label for given chip and sensor");
		sb_evb_label(b, "chip", c->name);
		sb_evb_label(b, "sensor", sensor);
		sb_evb_labeln(b, "label", 5, label->v, label->len);
	}
	const struct hw_val *plain = val_of(v, n, "");
	double x;
	if (!strcmp(type, "beep_enable")) {
		bool on = plain && plain->len == 1 && plain->v[0] == '1';
		emit(b, "node_hwmon_beep_enabled", SB_GAUGE, on, "Hardware beep enabled", c,
		     sensor);
		return;
	}
	if (!strcmp(type, "vrm")) {
		if (val_float(plain, &x))
			emit(b, "node_hwmon_voltage_regulator_version", SB_GAUGE, x,
			     "Hardware voltage regulator", c, sensor);
		return;
	}
	if (!strcmp(type, "update_interval")) {
		if (val_float(plain, &x))
			emit(b, "node_hwmon_update_interval_seconds", SB_GAUGE, x * 0.001,
			     "Hardware monitor update interval", c, sensor);
		return;
	}
	char name[192], help[192], cprop[80];
	for (size_t i = 0; i < n; i++) {
		const char *el = v[i].prop;
		if (!strcmp(el, "label") || !val_float(&v[i], &x))
			continue;
		const char *suffix = "";
		if (!strcmp(el, "input"))
			suffix = plain ? "_input" : "";
		else if (*el) {
			sb_proc_hwmon_clean(el, strlen(el), cprop + 1, sizeof(cprop) - 1);
			cprop[0] = '_';
			suffix = cprop;
		}
		SB_PROC_JOIN(name, SB_PJ("node_hwmon_"), SB_PJ(type), SB_PJ(suffix));
		bool is = false;
#define IS(s) (!strcmp(el, s))
#define T(s) (!strcmp(type, s))
#define OUT(unit, mt, val, ...)                                                                    \
	do {                                                                                       \
		char full[224];                                                                    \
		SB_PROC_JOIN(full, SB_PJ(name), SB_PJ(unit));                                      \
		SB_PROC_JOIN(help, __VA_ARGS__);                                                   \
		emit(b, full, mt, val, help, c, sensor);                                           \
		is = true;                                                                         \
	} while (0)
		if (IS("fault") || IS("alarm"))
			OUT("", SB_GAUGE, x, SB_PJ("Hardware sensor "), SB_PJ(el),
			    SB_PJ(" status ("), SB_PJ(type), SB_PJ(")"));
		else if (IS("beep"))
			OUT("_enabled", SB_GAUGE, x,
			    SB_PJ("Hardware monitor sensor has beeping enabled"));
		else if (T("in") || T("cpu"))
			OUT("_volts", SB_GAUGE, x * 0.001, SB_PJ("Hardware monitor for voltage ("),
			    SB_PJ(el), SB_PJ(")"));
		else if (T("temp") && !IS("type"))
			OUT("_celsius", SB_GAUGE, x * 0.001,
			    SB_PJ("Hardware monitor for temperature ("), SB_PJ(*el ? el : "input"),
			    SB_PJ(")"));
		else if (T("curr"))
			OUT("_amps", SB_GAUGE, x * 0.001, SB_PJ("Hardware monitor for current ("),
			    SB_PJ(el), SB_PJ(")"));
		else if (T("energy"))
			OUT("_joule_total", SB_COUNTER, x / 1000000.0,
			    SB_PJ("Hardware monitor for joules used so far ("), SB_PJ(el),
			    SB_PJ(")"));
		else if (T("power") && IS("accuracy"))
			OUT("", SB_GAUGE, x / 1000000.0,
			    SB_PJ("Hardware monitor power meter accuracy, as a ratio"));
		else if (T("power") && (IS("average_interval") || IS("average_interval_min") ||
					IS("average_interval_max")))
			OUT("_seconds", SB_GAUGE, x * 0.001,
			    SB_PJ("Hardware monitor power usage update interval ("), SB_PJ(el),
			    SB_PJ(")"));
		else if (T("power"))
			OUT("_watt", SB_GAUGE, x / 1000000.0,
			    SB_PJ("Hardware monitor for power usage in watts ("), SB_PJ(el),
			    SB_PJ(")"));
		else if (T("humidity"))
			OUT("", SB_GAUGE, x * 0.000001, SB_PJ("Hardware monitor for humidity ("),
			    SB_PJ(el), SB_PJ(")"));
		else if (T("fan") && (IS("input") || IS("min") || IS("max") || IS("target")))
			OUT("_rpm", SB_GAUGE, x,
			    SB_PJ("Hardware monitor for fan revolutions per minute ("), SB_PJ(el),
			    SB_PJ(")"));
		else
			OUT("", SB_GAUGE, x, SB_PJ("Hardware monitor "), SB_PJ(type),
			    SB_PJ(" element "), SB_PJ(el));
		(void)is;
#undef IS
#undef T
#undef OUT
	}
}

static int hwmon_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct hwmon *hw = c->priv;
	if (!hw->scanned || st->round - hw->scan_round >= RESCAN_ROUNDS) {
		hw->scanned = true;
		hw->scan_round = st->round;
		hw->list_err = scan(st, hw);
		if (hw->list_err && hw->list_err != -ENODATA) {
			st->errors++;
			sb_log_rl(&hw->rl, SB_LOG_WARN, st->comp, "cannot list %s: %s", hw->base,
				  strerror(-hw->list_err));
		}
	}
	if (hw->list_err)
		return hw->list_err;
	struct hw_val *vals = hw->vals;
	for (size_t i = 0; i < hw->n; i++) {
		struct hw_chip *chip = &hw->chip[i];
		if (chip->bad)
			continue;
		if (*chip->chip_name) {
			sb_evb_sample(b, "node_hwmon_chip_names", SB_GAUGE, 1);
			sb_evb_help(b, "Annotation metric for human-readable chip names");
			sb_evb_label(b, "chip", chip->name);
			sb_evb_label(b, "chip_name", chip->chip_name);
		}
		for (size_t k = 0; k < chip->n;) {
			size_t e = k, nv = 0;
			while (e < chip->n && !strcmp(chip->f[e].sensor, chip->f[k].sensor))
				e++;
			for (size_t j = k; j < e; j++) {
				struct hw_file *f = &chip->f[j];
				struct hw_val *slot = (struct hw_val *)val_of(vals, nv, f->prop);
				if (!slot && nv == MAX_PROPS)
					continue;
				struct hw_val tmp;
				if (!read_val(hw, f, &tmp))
					continue; /* the earlier value, if any, stays */
				if (!slot)
					slot = &vals[nv++];
				*slot = tmp;
				slot->prop = f->prop;
			}
			if (nv)
				hwmon_sensor(b, chip, chip->f[k].sensor, chip->f[k].type, vals, nv);
			k = e;
		}
	}
	return hw->failed ? -EIO : 0;
}

static int hwmon_init(struct proc_state *st, struct sb_proc_coll *c)
{
	struct hwmon *hw = calloc(1, sizeof(*hw));
	if (!hw)
		return -ENOMEM;
	c->priv = hw;
	hw->rl.interval_ns = 300 * SB_NSEC_PER_SEC;
	if (!(hw->vals = calloc(MAX_PROPS, sizeof(*hw->vals))))
		return -ENOMEM;
	if (snprintf(hw->base, sizeof(hw->base), "%s/class/hwmon", st->cfg->sysfs) >=
	    (int)sizeof(hw->base))
		return -ENAMETOOLONG;
	return 0;
}

static void hwmon_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct hwmon *hw = c->priv;
	if (!hw)
		return;
	free_chips(hw);
	free(hw->vals);
	free(hw);
	c->priv = NULL;
}

const struct sb_proc_collector sb_proc_collector_hwmon = {
    .name = "hwmon",
    .default_on = true,
    .init = hwmon_init,
    .collect = hwmon_collect,
    .free = hwmon_free,
};
