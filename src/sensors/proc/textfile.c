/* node_exporter's textfile collector: the *.prom files of a directory (or
 * of every directory a glob matches), read with the Prometheus text parser
 * and merged by the rules node_exporter 1.5.0's registry applies:
 *
 * - a file that does not parse, carries a client-side timestamp or cannot
 *   be read is skipped whole, and node_textfile_scrape_error is 1;
 * - a family without HELP (or with an empty one) gets "Metric read from <every file that has
 *   it>"; within a file a family's series all get the union of its label
 *   names (missing ones "");
 * - across files, the first series of a name sets its type and HELP: a
 *   later one of another type or HELP is dropped, as is a series seen
 *   before with the same labels (node_exporter logs "error gathering
 *   metrics" and serves the rest).
 *
 * The directory may be writable by another user: every file is opened
 * through sb_fsafe_read (no symlink followed, non-blocking, regular file,
 * bounded size), so a FIFO or a link named x.prom is one error, never a
 * hang or a read of the link's target. */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../expfmt/promtext.h"
#include "proc.h"
#include "sb_fsafe.h"

#define TF_MAX_FILE (16u << 20) /* bytes of one .prom file */

/* Open addressing over entries that remember their own hash. */
struct tf_slot {
	uint64_t h;
	uint32_t idx; /* entry + 1; 0: empty */
};
struct tf_map {
	struct tf_slot *slot;
	size_t cap, n;
};

struct tf_file {
	size_t path; /* offset in tf->strs */
	int64_t mtime;
	struct sb_event *ev;
};

struct tf_fam {
	const char *name;
	uint32_t link;	    /* files having it: head in tf->links, +1 */
	uint32_t last_link; /* tail */
	size_t gen_help;    /* "Metric read from ..." in helps, +1 once made */
	bool seen;	    /* a series went out: exp_* hold its type and HELP */
	uint16_t exp_type;
	const char *exp_help;
	size_t mark;  /* file index + 1 whose label names lab holds */
	uint32_t lab; /* label names in that file: head in tf->labs, +1 */
};

struct tf_link {
	uint32_t file, next;
};
struct tf_lab {
	const char *name;
	uint32_t next;
};

/* What a file says about one name, for the checks the text parser cannot
 * make across a file (it sees one family at a time). */
struct tf_decl {
	const char *name;
	size_t len;
	bool help, typed, samples;
	char type; /* 'h' histogram, 's' summary, else 0 */
};

struct textfile {
	struct sb_prom_parser parser;
	struct sb_evb scratch;
	struct sb_buf text, strs, helps, keys, names;
	struct tf_file *files;
	size_t nfiles, capfiles;
	struct tf_fam *fams;
	size_t nfams, capfams;
	struct tf_link *links;
	size_t nlinks, caplinks;
	struct tf_lab *labs;
	size_t nlabs, caplabs;
	struct tf_decl *decls;
	size_t ndecls, capdecls;
	struct tf_key {
		size_t off, len; /* in keys */
	} * series;		 /* every series sent this round */
	size_t nseries, capseries;
	struct sb_label *lv; /* one series' labels, filled and sorted */
	size_t caplv;
	struct tf_map fam_map, ser_map, decl_map;
	/* what was logged: a bad file is said once until it changes */
	uint64_t *said, *said_prev;
	size_t nsaid, nsaid_prev, capsaid, capsaid_prev;
	struct sb_ratelimit conflict_rl;
};

static uint64_t hash(const void *p, size_t n, uint64_t h)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ull;
	return h;
}
#define HASH0 0xcbf29ce484222325ull

static void map_reset(struct tf_map *m)
{
	if (m->n)
		memset(m->slot, 0, m->cap * sizeof(*m->slot));
	m->n = 0;
}

/* The slot of hash h whose entry eq() accepts, or the empty one where it
 * would go (NULL: out of memory). */
static struct tf_slot *map_find(struct tf_map *m, uint64_t h, bool (*eq)(void *, uint32_t),
				void *arg)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 64;
		struct tf_slot *ns = calloc(nc, sizeof(*ns));
		if (!ns)
			return NULL;
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->slot[i].idx)
				continue;
			size_t j = m->slot[i].h & (nc - 1);
			while (ns[j].idx)
				j = (j + 1) & (nc - 1);
			ns[j] = m->slot[i];
		}
		free(m->slot);
		m->slot = ns;
		m->cap = nc;
	}
	for (size_t j = h & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
		struct tf_slot *s = &m->slot[j];
		if (!s->idx || (s->h == h && eq(arg, s->idx - 1)))
			return s;
	}
}

/* ---- node_exporter's path names: filepath.Join cleans them ---- */

/* Go's filepath.Clean, lexically: one slash between names, no "." and no
 * "name/..", no trailing slash. */
static void clean_path(struct sb_buf *out, const char *p)
{
	size_t start = out->len;
	bool rooted = *p == '/';
	if (rooted)
		sb_buf_addc(out, '/');
	size_t base = out->len; /* ".." cannot go above this */
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);
		if (!n || (n == 1 && *p == '.')) {
		} else if (n == 2 && p[0] == '.' && p[1] == '.' && out->len > base &&
			   !(out->len - base >= 2 && !memcmp(out->data + out->len - 2, "..", 2) &&
			     (out->len - base == 2 || out->data[out->len - 3] == '/'))) {
			while (out->len > base && out->data[out->len - 1] != '/')
				out->len--;
			if (out->len > base)
				out->len--;
		} else if (!(n == 2 && p[0] == '.' && p[1] == '.' && rooted)) {
			if (out->len > base)
				sb_buf_addc(out, '/');
			sb_buf_add(out, p, n);
		}
		p = e;
	}
	if (out->len == start)
		sb_buf_addc(out, '.');
	sb_buf_addc(out, 0);
}

/* ---- per-file checks the parser leaves to us ---- */

struct decl_q {
	struct textfile *tf;
	const char *name;
	size_t len;
};

static bool decl_eq(void *arg, uint32_t i)
{
	struct decl_q *q = arg;
	const struct tf_decl *d = &q->tf->decls[i];
	return d->len == q->len && !memcmp(d->name, q->name, q->len);
}

static struct tf_decl *decl_get(struct textfile *tf, const char *name, size_t len, bool add)
{
	struct decl_q q = {tf, name, len};
	uint64_t h = hash(name, len, HASH0);
	struct tf_slot *s = map_find(&tf->decl_map, h, decl_eq, &q);
	if (!s)
		return NULL;
	if (s->idx)
		return &tf->decls[s->idx - 1];
	if (!add || sb_grow((void **)&tf->decls, &tf->capdecls, tf->ndecls + 1, sizeof(*tf->decls)))
		return NULL;
	tf->decls[tf->ndecls] = (struct tf_decl){.name = name, .len = len};
	*s = (struct tf_slot){h, (uint32_t)++tf->ndecls};
	tf->decl_map.n++;
	return &tf->decls[tf->ndecls - 1];
}

static size_t name_len(const char *p)
{
	size_t n = 0;
	while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') || p[n] == '_' ||
	       p[n] == ':' || (n && p[n] >= '0' && p[n] <= '9'))
		n++;
	return n;
}

static bool has_suffix(const char *s, size_t n, const char *suf, size_t *base)
{
	size_t sl = strlen(suf);
	if (n <= sl || memcmp(s + n - sl, suf, sl))
		return false;
	*base = n - sl;
	return true;
}

/* The family a name belongs to as prometheus/common's parser finds it: its
 * own, or the summary/histogram whose _sum, _count (or _bucket) it is. */
static struct tf_decl *decl_family(struct textfile *tf, const char *name, size_t len)
{
	struct tf_decl *d = decl_get(tf, name, len, false);
	if (d)
		return d;
	size_t bl;
	if (has_suffix(name, len, "_sum", &bl) || has_suffix(name, len, "_count", &bl)) {
		d = decl_get(tf, name, bl, false);
		if (d && d->type)
			return d;
	}
	if (has_suffix(name, len, "_bucket", &bl)) {
		d = decl_get(tf, name, bl, false);
		if (d && d->type == 'h')
			return d;
	}
	return decl_get(tf, name, len, true);
}

/* A second HELP or TYPE for a name, or a TYPE after its samples, anywhere
 * in the file: prometheus/common refuses the file. 0, or -EINVAL with the
 * line and reason in why. */
static int check_decls(struct textfile *tf, const char *text, char *why, size_t whylen)
{
	tf->ndecls = 0;
	map_reset(&tf->decl_map);
	unsigned line = 0;
	for (const char *p = text; *p; p = *p ? p + 1 : p) {
		line++;
		const char *eol = strchrnul(p, '\n');
		while (*p == ' ' || *p == '\t')
			p++;
		bool help = false, type = false;
		if (*p == '#') {
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			help = !strncmp(p, "HELP", 4) && (p[4] == ' ' || p[4] == '\t');
			type = !strncmp(p, "TYPE", 4) && (p[4] == ' ' || p[4] == '\t');
			if (help || type)
				for (p += 4; *p == ' ' || *p == '\t'; p++)
					;
		}
		size_t n = (help || type || (*p && *p != '#')) ? name_len(p) : 0;
		if (n) {
			struct tf_decl *d = decl_family(tf, p, n);
			if (!d)
				return -ENOMEM;
			if (help && d->help) {
				snprintf(why, whylen, "line %u: second HELP line for %.*s", line,
					 (int)d->len, d->name);
				return -EINVAL;
			}
			if (type && (d->typed || d->samples)) {
				snprintf(why, whylen, "line %u: %s TYPE line for %.*s", line,
					 d->typed ? "second" : "after the samples of its",
					 (int)d->len, d->name);
				return -EINVAL;
			}
			d->help |= help;
			d->samples |= !help && !type;
			if (type) {
				d->typed = true;
				const char *t = p + n;
				while (*t == ' ' || *t == '\t')
					t++;
				d->type = !strncmp(t, "histogram", 9) ? 'h'
					  : !strncmp(t, "summary", 7) ? 's'
								      : 0;
			}
		}
		p = eol;
	}
	return 0;
}

/* ---- one file ---- */

static void say_once(struct proc_state *st, struct textfile *tf, const char *path, int64_t mtime,
		     int err, const char *fmt, ...) SB_PRINTF(6, 7);

/* A bad file is logged when it first goes bad and again when it changes,
 * not every round. */
static void say_once(struct proc_state *st, struct textfile *tf, const char *path, int64_t mtime,
		     int err, const char *fmt, ...)
{
	uint64_t h = hash(path, strlen(path), HASH0);
	h = hash(&mtime, sizeof(mtime), h);
	h = hash(&err, sizeof(err), h);
	if (!sb_grow((void **)&tf->said, &tf->capsaid, tf->nsaid + 1, sizeof(*tf->said)))
		tf->said[tf->nsaid++] = h;
	for (size_t i = 0; i < tf->nsaid_prev; i++)
		if (tf->said_prev[i] == h)
			return;
	char msg[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sb_warn(st->comp, "textfile: %s", msg);
}

/* Reads and parses one file into tf->files. 0, or <0 (said and counted). */
static int read_file(struct proc_state *st, struct textfile *tf, const char *path)
{
	char why[256];
	struct stat sst;
	ssize_t n = sb_fsafe_read(path, 0, TF_MAX_FILE, &tf->text, &sst, why, sizeof(why));
	if (n < 0) {
		say_once(st, tf, path, 0, (int)n, "%s; file skipped", why);
		return (int)n;
	}
	int64_t mtime = (int64_t)sst.st_mtime;
	const char *text = sb_buf_cstr(&tf->text);
	const char *nul = memchr(text, 0, (size_t)n);
	int r = 0;
	if (nul) {
		snprintf(why, sizeof(why), "not text (NUL byte at offset %zu)",
			 (size_t)(nul - text));
		r = -EINVAL;
	}
	if (!r)
		r = check_decls(tf, text, why, sizeof(why));
	if (!r) {
		static const struct sb_prom_limits lim = {
		    .body_size = TF_MAX_FILE,
		    .line_length = TF_MAX_FILE,
		    .labels = UINT16_MAX,
		    .samples = INT64_MAX,
		};
		struct sb_prom_parser *p = &tf->parser;
		sb_evb_begin(&tf->scratch, "proc", "textfile");
		p->strict = true;
		sb_prom_parse(p, &tf->scratch, &lim, text, (size_t)n);
		if (p->fatal) {
			snprintf(why, sizeof(why), "%s", p->fatal_reason);
			r = p->fatal;
		} else if (p->bad_lines) {
			snprintf(why, sizeof(why), "line %llu: %s",
				 (unsigned long long)p->first_bad, p->first_bad_reason);
			r = -EINVAL;
		} else if (p->timestamps) {
			snprintf(why, sizeof(why),
				 "client-side timestamps are not supported (%llu samples)",
				 (unsigned long long)p->timestamps);
			r = -EINVAL;
		}
	}
	if (r) {
		say_once(st, tf, path, mtime, r, "%s: %s; file skipped", path, why);
		return r;
	}
	struct sb_event *ev = sb_evb_finish(&tf->scratch);
	if (!ev ||
	    sb_grow((void **)&tf->files, &tf->capfiles, tf->nfiles + 1, sizeof(*tf->files))) {
		if (ev)
			sb_event_unref(ev);
		say_once(st, tf, path, mtime, -ENOMEM, "%s: out of memory; file skipped", path);
		return -ENOMEM;
	}
	size_t off = tf->strs.len;
	sb_buf_adds(&tf->strs, path);
	sb_buf_addc(&tf->strs, 0);
	tf->files[tf->nfiles++] = (struct tf_file){off, mtime, ev};
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.prom file of dir, in name order (Go's os.ReadDir). 0 or <0. */
static int read_dir(struct proc_state *st, struct textfile *tf, const char *dir, bool *errored)
{
	DIR *d = opendir(dir);
	if (!d) {
		int r = -errno;
		say_once(st, tf, dir, 0, r, "cannot read the directory %s: %s", dir, strerror(-r));
		return r;
	}
	sb_buf_reset(&tf->names);
	size_t count = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n < 5 || memcmp(de->d_name + n - 5, ".prom", 5))
			continue;
		sb_buf_add(&tf->names, de->d_name, n + 1);
		count++;
	}
	closedir(d);
	if (tf->names.err)
		return -ENOMEM;
	const char **v = calloc(count ? count : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	const char *p = tf->names.data;
	for (size_t i = 0; i < count; i++, p += strlen(p) + 1)
		v[i] = p;
	if (count > 1)
		qsort(v, count, sizeof(*v), cmp_str);
	struct sb_buf path;
	sb_buf_init(&path);
	for (size_t i = 0; i < count; i++) {
		sb_buf_reset(&path);
		char joined[PATH_MAX];
		snprintf(joined, sizeof(joined), "%s/%s", dir, v[i]);
		clean_path(&path, joined);
		if (path.err || read_file(st, tf, path.data) < 0) {
			*errored = true;
			st->errors++;
		}
	}
	sb_buf_free(&path);
	free(v);
	return 0;
}

/* ---- merging the files' families ---- */

struct fam_q {
	struct textfile *tf;
	const char *name;
};

static bool fam_eq(void *arg, uint32_t i)
{
	struct fam_q *q = arg;
	return !strcmp(q->tf->fams[i].name, q->name);
}

static struct tf_fam *fam_get(struct textfile *tf, const char *name)
{
	struct fam_q q = {tf, name};
	uint64_t h = hash(name, strlen(name), HASH0);
	struct tf_slot *s = map_find(&tf->fam_map, h, fam_eq, &q);
	if (!s)
		return NULL;
	if (s->idx)
		return &tf->fams[s->idx - 1];
	if (sb_grow((void **)&tf->fams, &tf->capfams, tf->nfams + 1, sizeof(*tf->fams)))
		return NULL;
	tf->fams[tf->nfams] = (struct tf_fam){.name = name};
	*s = (struct tf_slot){h, (uint32_t)++tf->nfams};
	tf->fam_map.n++;
	return &tf->fams[tf->nfams - 1];
}

/* "Metric read from a, b": every file that has the family. */
static const char *gen_help(struct textfile *tf, struct tf_fam *f)
{
	if (!f->gen_help) {
		f->gen_help = tf->helps.len + 1;
		sb_buf_adds(&tf->helps, "Metric read from ");
		for (uint32_t l = f->link; l; l = tf->links[l - 1].next) {
			if (l != f->link)
				sb_buf_adds(&tf->helps, ", ");
			sb_buf_adds(&tf->helps,
				    tf->strs.data + tf->files[tf->links[l - 1].file].path);
		}
		sb_buf_addc(&tf->helps, 0);
	}
	return tf->helps.err ? "" : tf->helps.data + f->gen_help - 1;
}

struct ser_q {
	struct textfile *tf;
	const char *key;
	size_t len;
};

static bool ser_eq(void *arg, uint32_t i)
{
	struct ser_q *q = arg;
	const struct tf_key *k = &q->tf->series[i];
	return k->len == q->len && !memcmp(q->tf->keys.data + k->off, q->key, k->len);
}

/* True when the series (name and its sorted labels) went out before this
 * round; records it otherwise. */
static bool seen_series(struct textfile *tf, const char *name, const struct sb_label *lv, size_t n)
{
	size_t key = tf->keys.len;
	sb_buf_add(&tf->keys, name, strlen(name) + 1);
	for (size_t i = 0; i < n; i++) {
		sb_buf_add(&tf->keys, lv[i].name, strlen(lv[i].name) + 1);
		sb_buf_add(&tf->keys, lv[i].value, strlen(lv[i].value) + 1);
	}
	if (tf->keys.err)
		return false;
	struct ser_q q = {tf, tf->keys.data + key, tf->keys.len - key};
	/* the key is compared in place: keys may move only before this */
	uint64_t h = hash(q.key, q.len, HASH0);
	struct tf_slot *s = map_find(&tf->ser_map, h, ser_eq, &q);
	if (!s)
		return false;
	if (s->idx) {
		tf->keys.len = key;
		return true;
	}
	if (sb_grow((void **)&tf->series, &tf->capseries, tf->nseries + 1, sizeof(*tf->series))) {
		tf->keys.len = key;
		return false;
	}
	tf->series[tf->nseries] = (struct tf_key){key, q.len};
	*s = (struct tf_slot){h, (uint32_t)++tf->nseries};
	tf->ser_map.n++;
	return false;
}

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const struct sb_label *)a)->name, ((const struct sb_label *)b)->name);
}

struct conflicts {
	unsigned n;
	char first[256];
};

static void conflict(struct conflicts *c, const char *fmt, ...) SB_PRINTF(2, 3);

static void conflict(struct conflicts *c, const char *fmt, ...)
{
	if (!c->n++) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->first, sizeof(c->first), fmt, ap);
		va_end(ap);
	}
}

/* The series of file fi, label names filled per family, into b. */
static void emit_file(struct textfile *tf, size_t fi, struct sb_evb *b, struct conflicts *cf)
{
	const struct sb_event *ev = tf->files[fi].ev;
	const char *path = tf->strs.data + tf->files[fi].path;
	/* each family's label names in this file */
	for (uint32_t i = 0; i < ev->nsamples; i++) {
		const struct sb_sample *s = &ev->samples[i];
		struct tf_fam *f = fam_get(tf, s->name);
		if (!f)
			return;
		if (f->mark != fi + 1) {
			f->mark = fi + 1;
			f->lab = 0;
		}
		for (uint16_t k = 0; k < s->nlabels; k++) {
			uint32_t l = f->lab;
			while (l && strcmp(tf->labs[l - 1].name, s->labels[k].name))
				l = tf->labs[l - 1].next;
			if (l)
				continue;
			if (sb_grow((void **)&tf->labs, &tf->caplabs, tf->nlabs + 1,
				    sizeof(*tf->labs)))
				return;
			tf->labs[tf->nlabs] = (struct tf_lab){s->labels[k].name, f->lab};
			f->lab = (uint32_t)++tf->nlabs;
		}
	}
	for (uint32_t i = 0; i < ev->nsamples; i++) {
		const struct sb_sample *s = &ev->samples[i];
		struct tf_fam *f = fam_get(tf, s->name);
		const char *help = s->help && *s->help ? s->help : gen_help(tf, f);
		if (f->seen && f->exp_type != s->type) {
			conflict(cf, "%s in %s is a %s, but a %s before", s->name, path,
				 sb_mtype_name(s->type), sb_mtype_name(f->exp_type));
			continue;
		}
		if (f->seen && strcmp(f->exp_help, help)) {
			conflict(cf, "%s in %s has HELP \"%.60s\", but \"%.60s\" before", s->name,
				 path, help, f->exp_help);
			continue;
		}
		size_t n = 0;
		for (uint32_t l = f->lab; l; l = tf->labs[l - 1].next)
			n++;
		if (sb_grow((void **)&tf->lv, &tf->caplv, n, sizeof(*tf->lv)))
			return;
		n = 0;
		for (uint32_t l = f->lab; l; l = tf->labs[l - 1].next) {
			const char *v = sb_sample_label(s, tf->labs[l - 1].name);
			tf->lv[n++] = (struct sb_label){tf->labs[l - 1].name, v ? v : ""};
		}
		if (n > 1)
			qsort(tf->lv, n, sizeof(*tf->lv), cmp_label);
		if (seen_series(tf, s->name, tf->lv, n)) {
			conflict(cf, "%s in %s: a series with these labels came before", s->name,
				 path);
			continue;
		}
		if (!f->seen) {
			f->seen = true;
			f->exp_type = s->type;
			f->exp_help = help;
		}
		sb_evb_sample(b, s->name, (enum sb_mtype)s->type, s->value);
		sb_evb_help(b, help);
		for (size_t k = 0; k < n; k++)
			sb_evb_label(b, tf->lv[k].name, tf->lv[k].value);
		for (uint32_t k = 0; k < s->nbuckets; k++)
			sb_evb_bucket(b, s->buckets[k].le, s->buckets[k].count);
		if (s->type == SB_HISTOGRAM || s->type == SB_SUMMARY)
			sb_evb_sumcount(b, s->sum, s->count);
	}
}

static void merge(struct proc_state *st, struct textfile *tf, struct sb_evb *b)
{
	tf->nfams = tf->nlinks = tf->nlabs = tf->nseries = 0;
	map_reset(&tf->fam_map);
	map_reset(&tf->ser_map);
	sb_buf_reset(&tf->keys);
	/* which files have which family, for the generated HELP */
	for (size_t fi = 0; fi < tf->nfiles; fi++) {
		const struct sb_event *ev = tf->files[fi].ev;
		for (uint32_t i = 0; i < ev->nsamples; i++) {
			struct tf_fam *f = fam_get(tf, ev->samples[i].name);
			if (!f)
				return;
			if (f->last_link && tf->links[f->last_link - 1].file == fi)
				continue;
			if (sb_grow((void **)&tf->links, &tf->caplinks, tf->nlinks + 1,
				    sizeof(*tf->links)))
				return;
			tf->links[tf->nlinks] = (struct tf_link){(uint32_t)fi, 0};
			uint32_t l = (uint32_t)++tf->nlinks;
			if (f->last_link)
				tf->links[f->last_link - 1].next = l;
			else
				f->link = l;
			f->last_link = l;
		}
	}
	/* every generated HELP made before any is pointed at: helps may move */
	sb_buf_reset(&tf->helps);
	for (size_t fi = 0; fi < tf->nfiles; fi++) {
		const struct sb_event *ev = tf->files[fi].ev;
		for (uint32_t i = 0; i < ev->nsamples; i++)
			if (!ev->samples[i].help || !*ev->samples[i].help)
				gen_help(tf, fam_get(tf, ev->samples[i].name));
	}
	struct conflicts cf = {0};
	for (size_t fi = 0; fi < tf->nfiles; fi++)
		emit_file(tf, fi, b, &cf);
	if (cf.n)
		sb_log_rl(&tf->conflict_rl, SB_LOG_WARN, st->comp,
			  "textfile: %u series left out, as node_exporter does: %s", cf.n,
			  cf.first);
}

/* ---- the collector ---- */

static int textfile_init(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct textfile *tf = calloc(1, sizeof(*tf));
	if (!tf)
		return -ENOMEM;
	sb_prom_init(&tf->parser);
	sb_evb_init(&tf->scratch);
	sb_buf_init(&tf->text);
	sb_buf_init(&tf->strs);
	sb_buf_init(&tf->helps);
	sb_buf_init(&tf->keys);
	sb_buf_init(&tf->names);
	tf->conflict_rl.interval_ns = 300 * (int64_t)1000000000;
	c->priv = tf;
	return 0;
}

static void textfile_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct textfile *tf = c->priv;
	if (!tf)
		return;
	for (size_t i = 0; i < tf->nfiles; i++)
		sb_event_unref(tf->files[i].ev);
	sb_prom_free(&tf->parser);
	sb_evb_free(&tf->scratch);
	sb_buf_free(&tf->text);
	sb_buf_free(&tf->strs);
	sb_buf_free(&tf->helps);
	sb_buf_free(&tf->keys);
	sb_buf_free(&tf->names);
	free(tf->files);
	free(tf->fams);
	free(tf->links);
	free(tf->labs);
	free(tf->decls);
	free(tf->series);
	free(tf->lv);
	free(tf->fam_map.slot);
	free(tf->ser_map.slot);
	free(tf->decl_map.slot);
	free(tf->said);
	free(tf->said_prev);
	free(tf);
	c->priv = NULL;
}

static int textfile_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct textfile *tf = c->priv;
	const char *pattern = st->cfg->textfile_directory;
	bool errored = false;
	tf->nfiles = tf->nsaid = 0;
	sb_buf_reset(&tf->strs);
	/* "" is node_exporter without --collector.textfile.directory: nothing
	 * read, no error */
	if (pattern && *pattern) {
		/* a pattern that matches nothing is taken as the directory's
		 * name, as filepath.Glob's caller does */
		glob_t g = {0};
		int gr = glob(pattern, GLOB_NOCHECK, NULL, &g);
		if (gr == 0) {
			for (size_t i = 0; i < g.gl_pathc; i++)
				if (read_dir(st, tf, g.gl_pathv[i], &errored) < 0) {
					errored = true;
					st->errors++;
				}
		} else {
			sb_log_rl(&tf->conflict_rl, SB_LOG_WARN, st->comp,
				  "textfile: cannot expand %s: %s", pattern,
				  gr == GLOB_NOSPACE ? "out of memory" : "read error");
			errored = true;
			st->errors++;
		}
		globfree(&g);
	}
	merge(st, tf, b);
	for (size_t i = 0; i < tf->nfiles; i++) {
		sb_evb_sample(b, "node_textfile_mtime_seconds", SB_GAUGE,
			      (double)tf->files[i].mtime);
		sb_evb_help(b, "Unixtime mtime of textfiles successfully read.");
		sb_evb_label(b, "file", tf->strs.data + tf->files[i].path);
	}
	sb_evb_sample(b, "node_textfile_scrape_error", SB_GAUGE, errored ? 1 : 0);
	sb_evb_help(b, "1 if there was an error opening or reading a file, 0 otherwise");
	for (size_t i = 0; i < tf->nfiles; i++)
		sb_event_unref(tf->files[i].ev);
	tf->nfiles = 0;
	/* this round's bad files are what was said */
	uint64_t *t = tf->said_prev;
	size_t cap = tf->capsaid_prev;
	tf->said_prev = tf->said;
	tf->capsaid_prev = tf->capsaid;
	tf->nsaid_prev = tf->nsaid;
	tf->said = t;
	tf->capsaid = cap;
	tf->nsaid = 0;
	/* node_exporter's textfile collector always succeeds: a bad file is
	 * node_textfile_scrape_error, not a failed collector */
	return 0;
}

static const struct sb_cfg_key textfile_keys[] = {
    {"textfile_directory", SB_CT_STR, offsetof(struct proc_cfg, textfile_directory), "",
     "directory (or glob of directories) whose *.prom files are read, as node_exporter's "
     "--collector.textfile.directory; \"\": none"},
    {0},
};

const struct sb_proc_collector sb_proc_collector_textfile = {
    .name = "textfile",
    .default_on = true,
    .keys = textfile_keys,
    .init = textfile_init,
    .collect = textfile_collect,
    .free = textfile_free,
};
