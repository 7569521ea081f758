/* node_exporter's os collector: node_os_info{...} = 1 and node_os_version
 * from os-release(5) under the rootfs root: <rootfs>/etc/os-release, or
 * <rootfs>/usr/lib/os-release when the first is absent. Values are read as
 * node_exporter's parser (hashicorp/go-envparse) reads them: KEY=value,
 * optional "export ", '#' comments, '…' literal, "…" with backslash escapes,
 * a later line overriding an earlier one, an empty value ignored. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "filewatch.h"
#include "proc.h"

/* node_os_info's labels in node_exporter's order, and their keys */
static const char *const os_labels[SB_PROC_OS_N] = {
    "build_id",	   "id",      "id_like",    "image_id", "image_version",    "name",
    "pretty_name", "variant", "variant_id", "version",	"version_codename", "version_id",
};
static const char *const os_keys[SB_PROC_OS_N] = {
    "BUILD_ID",	   "ID",      "ID_LIKE",    "IMAGE_ID", "IMAGE_VERSION",    "NAME",
    "PRETTY_NAME", "VARIANT", "VARIANT_ID", "VERSION",	"VERSION_CODENAME", "VERSION_ID",
};
enum { OS_ID = 1, OS_ID_LIKE = 2, OS_NAME = 5, OS_VERSION_ID = 11 };

static bool key_char(char c, bool first)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_')
		return true;
	return !first && ((c >= '0' && c <= '9') || c == '.' || c == '/');
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The value of one line (between p and end, blanks trimmed) into out; NULL
 * or the reason it is malformed. */
static const char *unquote(const char *p, const char *end, char *out, size_t cap, size_t *len)
{
	enum { NORMAL, DOUBLE, SINGLE } mode = NORMAL;
	size_t n = 0, sig = 0;
	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 32)
			return "control character in the value";
		if (n + 4 >= cap)
			return "value too long";
		if (mode == NORMAL && c == '#')
			break; /* a comment: up to the last non-blank */
		if (mode == NORMAL && (c == '"' || c == '\'')) {
			mode = c == '"' ? DOUBLE : SINGLE;
			continue;
		}
		if ((mode == DOUBLE && c == '"') || (mode == SINGLE && c == '\'')) {
			mode = NORMAL;
			continue;
		}
		if (mode == DOUBLE && c == '\\') {
			if (++p == end)
				return "incomplete escape sequence";
			static const char from[] = "\"\\/bfrnt", to[] = "\"\\/\b\f\r\n\t";
			const char *f = *p ? strchr(from, *p) : NULL;
			if (f) {
				out[n++] = to[f - from];
			} else if (*p == 'u') {
				unsigned r = 0;
				for (int i = 1; i <= 4; i++) {
					int h = p + i < end ? hexval(p[i]) : -1;
					if (h < 0)
						return "incomplete \\u escape";
					r = r * 16 + (unsigned)h;
				}
				p += 4;
				if (r >= 0xd800 && r < 0xe000)
					return "\\u surrogate pairs are not supported";
				if (r < 0x80) {
					out[n++] = (char)r;
				} else if (r < 0x800) {
					out[n++] = (char)(0xc0 | r >> 6);
					out[n++] = (char)(0x80 | (r & 0x3f));
				} else {
					out[n++] = (char)(0xe0 | r >> 12);
					out[n++] = (char)(0x80 | ((r >> 6) & 0x3f));
					out[n++] = (char)(0x80 | (r & 0x3f));
				}
			} else {
				return "invalid escape sequence";
			}
			sig = n;
			continue;
		}
		out[n++] = (char)c;
		if (mode != NORMAL || (c != ' ' && c != '\t'))
			sig = n;
	}
	if (mode != NORMAL)
		return mode == DOUBLE ? "unmatched \"" : "unmatched '";
	*len = p < end ? sig : n;
	out[*len] = 0;
	return NULL;
}

int sb_proc_parse_osrelease(const char *text, struct sb_proc_osrel *os, struct sb_proc_perr *e)
{
	memset(os, 0, sizeof(*os));
	unsigned lineno = 0;
	int n = 0;
	SB_PROC_FOR_LINES(p, text, lineno, e)
	{
		const char *eol = sb_pp_eol(p), *k = sb_pp_blank(p), *end = eol;
		while (end > k && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		if (k == end || *k == '#')
			continue;
		const char *eq = memchr(k, '=', (size_t)(end - k));
		if (!eq) {
			sb_proc_bad(e, lineno, "missing =");
			continue;
		}
		const char *kend = eq;
		while (kend > k && (kend[-1] == ' ' || kend[-1] == '\t'))
			kend--;
		if (kend - k > 7 && !strncmp(k, "export ", 7))
			k = sb_pp_blank(k + 7);
		bool ok = kend > k;
		for (const char *q = k; q < kend && ok; q++)
			ok = key_char(*q, q == k);
		if (!ok) {
			sb_proc_bad(e, lineno, "bad key %.*s", (int)(kend - k), k);
			continue;
		}
		char v[SB_PROC_OS_MAX];
		size_t vl = 0;
		const char *why = unquote(sb_pp_blank(eq + 1), end, v, sizeof(v), &vl);
		if (why) {
			sb_proc_bad(e, lineno, "%.*s: %s", (int)(kend - k), k, why);
			continue;
		}
		if (!vl) /* go-envparse drops empty values: an earlier one stays */
			continue;
		for (unsigned i = 0; i < SB_PROC_OS_N; i++) {
			if (strlen(os_keys[i]) == (size_t)(kend - k) &&
			    !memcmp(os_keys[i], k, (size_t)(kend - k))) {
				memcpy(os->v[i], v, vl + 1);
				n++;
			}
		}
	}
	return n;
}

int sb_proc_os_samples(const struct sb_proc_osrel *os, struct sb_evb *b)
{
	sb_evb_sample(b, "node_os_info", SB_GAUGE, 1);
	sb_evb_help(b, "A metric with a constant '1' value labeled by build_id, id, id_like, "
		       "image_id, image_version, name, pretty_name, variant, variant_id, version, "
		       "version_codename, version_id.");
	for (unsigned i = 0; i < SB_PROC_OS_N; i++)
		sb_evb_label(b, os_labels[i], os->v[i]);
	/* node_exporter: the leading "major.minor" of VERSION_ID, when above 0 */
	const char *vid = os->v[OS_VERSION_ID];
	size_t d = strspn(vid, "0123456789");
	if (!d)
		return 1;
	char num[64];
	size_t l = d;
	if (vid[l] == '.')
		l += 1 + strspn(vid + l + 1, "0123456789");
	if (l >= sizeof(num))
		return 1;
	memcpy(num, vid, l);
	num[l] = 0;
	double v = strtod(num, NULL);
	if (!(v > 0))
		return 1;
	sb_evb_sample(b, "node_os_version", SB_GAUGE, v);
	sb_evb_help(b, "Metric containing the major.minor part of the OS version.");
	sb_evb_label(b, "id", os->v[OS_ID]);
	sb_evb_label(b, "id_like", os->v[OS_ID_LIKE]);
	sb_evb_label(b, "name", os->v[OS_NAME]);
	return 2;
}

/* ---- the collector ---- */

struct os_state {
	struct sb_procfile f[2]; /* etc/os-release, usr/lib/os-release */
	struct sb_proc_osrel rel;
	/* rel came from f[src] (-1: none yet, or it held bad lines), as it
	 * was then: the file is read again only when this changes */
	int src;
	bool none; /* neither file was there */
	struct stat st;
	/* kept armed while it can tell every change that counts: asked
	 * instead of a stat a round (filewatch.h) */
	struct sb_filewatch watch;
	uint64_t reads;
};

/* node_exporter's cache (its osReleaseCollector keeps the file's mtime):
 * one stat a round instead of an open, two reads and a close. A package
 * upgrade replaces the file by rename (another inode), an edit moves its
 * mtime or size. Where the kernel can tell of a change (filewatch.h), it
 * is asked instead: one poll, where the stat walks the path and the
 * symlink Debian's /etc/os-release is, ~25 µs with the round's caches
 * cold. */
static bool os_unchanged(const struct proc_state *st, struct os_state *os)
{
	if (os->watch.ifd >= 0)
		return !sb_filewatch_changed(&os->watch, st);
	struct stat now;
	if (os->src < 0 || stat(os->f[os->src].path, &now))
		return false;
	/* usr/lib's was taken for want of etc's: not when etc's appeared */
	struct stat etc;
	if (os->src == 1 && !stat(os->f[0].path, &etc))
		return false;
	return now.st_dev == os->st.st_dev && now.st_ino == os->st.st_ino &&
	       now.st_size == os->st.st_size && now.st_mtim.tv_sec == os->st.st_mtim.tv_sec &&
	       now.st_mtim.tv_nsec == os->st.st_mtim.tv_nsec;
}

static int os_init(struct proc_state *st, struct sb_proc_coll *c)
{
	static const char *const rel[2] = {"etc/os-release", "usr/lib/os-release"};
	struct os_state *os = calloc(1, sizeof(*os));
	if (!os)
		return -ENOMEM;
	c->priv = os;
	os->src = -1;
	sb_filewatch_init(&os->watch, st);
	const char *root = st->cfg->rootfs && *st->cfg->rootfs ? st->cfg->rootfs : "/";
	for (int i = 0; i < 2; i++) {
		char path[PATH_MAX];
		/* "/" + "etc/..." without a doubled slash */
		if (snprintf(path, sizeof(path), "%s%s%s", root,
			     root[strlen(root) - 1] == '/' ? "" : "/", rel[i]) >= (int)sizeof(path))
			return -ENAMETOOLONG;
		/* reopened every round: a package upgrade replaces the file
		 * by rename, and a kept fd would read the old one forever */
		int r = sb_procfile_init(&os->f[i], path, 64 * 1024, false);
		if (r)
			return r;
	}
	return 0;
}

static void os_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct os_state *os = c->priv;
	if (!os)
		return;
	for (int i = 0; i < 2; i++)
		sb_procfile_free(&os->f[i]);
	sb_filewatch_free(&os->watch);
	free(os);
	c->priv = NULL;
}

/* etc's os-release, else usr/lib's, into rel and b; os->src says which. */
static int os_read(struct proc_state *st, struct os_state *os, struct sb_evb *b)
{
	os->src = -1;
	for (int i = 0; i < 2; i++) {
		/* stat first: a file replaced between the stat and the read is
		 * read again next round */
		struct stat sb;
		bool have_stat = !stat(os->f[i].path, &sb);
		const char *text = sb_proc_read(st, &os->f[i], true);
		if (!text) {
			int r = sb_proc_read_err(&os->f[i], true);
			if (r)
				return r;
			continue; /* absent: the next one */
		}
		os->reads++;
		struct sb_proc_perr e = {0};
		sb_proc_parse_osrelease(text, &os->rel, &e);
		sb_proc_os_samples(&os->rel, b);
		int r = sb_proc_report(st, &os->f[i], &e);
		if (!r && have_stat) {
			os->src = i;
			os->st = sb;
		}
		return r;
	}
	/* neither file: no series, and a failed collector, as node_exporter */
	return -ENODATA;
}

static int os_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct os_state *os = c->priv;
	bool watched = os->watch.ifd >= 0;
	if (os_unchanged(st, os)) {
		if (os->none)
			return -ENODATA;
		sb_proc_os_samples(&os->rel, b);
		return 0;
	}
	/* told of a change, or a file that was read has changed: one that
	 * was absent may be back, and is looked for now, not when an absent
	 * file is next looked for (proc.c) */
	if (watched || os->src >= 0)
		os->f[0].absent_round = os->f[1].absent_round = 0;
	/* armed first: a change from here on is told next round */
	const char *const paths[2] = {os->f[0].path, os->f[1].path};
	if (!os->watch.off)
		sb_filewatch_arm(&os->watch, paths, 2);
	int r = os_read(st, os, b);
	os->none = r == -ENODATA;
	/* Kept where it tells all that counts: etc's file (whatever usr/lib
	 * holds), or usr/lib's or none with both directories watched for
	 * one that appears. Else, and where a file held bad lines (read
	 * again each round), the stat is asked: nothing would drain it. */
	if (!(os->src == 0 || ((os->src == 1 || os->none) && !os->watch.blind)))
		sb_filewatch_disarm(&os->watch);
	return r;
}

uint64_t sb_proc_os_reads(const struct sb_proc_coll *c)
{
	const struct os_state *os = c->priv;
	return os ? os->reads : 0;
}

const struct sb_proc_collector sb_proc_collector_os = {
    .name = "os",
    .default_on = true,
    .init = os_init,
    .collect = os_collect,
    .free = os_free,
};
