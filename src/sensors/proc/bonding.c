/* <sysfs>/class/net/bonding_masters: node_exporter 1.5.0's bonding
 * collector. Per master, node_bonding_slaves counts the words of
 * <master>/bonding/slaves and node_bonding_active those whose
 * <master>/lower_<slave>/bonding_slave/mii_status (slave_<slave>/ on older
 * kernels) reads "up". No bonding_masters (no bonding module) is
 * ErrNoData; node_exporter also gives ErrNoData, and no series at all,
 * when any master's or slave's file is missing: here only that master is
 * left out. The per-master files are opened when first named and kept
 * open while they are named. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

#define MAX_FILES 1024

struct bfile {
	struct sb_procfile f;
	bool used; /* this round */
};

struct bonding {
	struct bfile *v;
	size_t n, cap;
};

/* The kept-open file for path, opened on first use; NULL when out of
 * memory or past MAX_FILES. */
static struct sb_procfile *file_for(struct bonding *bd, const char *path)
{
	for (size_t i = 0; i < bd->n; i++)
		if (!strcmp(bd->v[i].f.path, path)) {
			bd->v[i].used = true;
			return &bd->v[i].f;
		}
	if (bd->n == MAX_FILES)
		return NULL;
	if (bd->n == bd->cap) {
		size_t cap = bd->cap ? bd->cap * 2 : 16;
		struct bfile *v = realloc(bd->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		bd->v = v;
		bd->cap = cap;
	}
	struct bfile *x = &bd->v[bd->n];
	memset(x, 0, sizeof(*x));
	if (sb_procfile_init(&x->f, path, 4096, true))
		return NULL;
	x->f.single = true;
	x->used = true;
	bd->n++;
	return &x->f;
}

/* Closes the files no longer named (a master or slave removed). */
static void sweep(struct bonding *bd)
{
	size_t k = 0;
	for (size_t i = 0; i < bd->n; i++) {
		if (!bd->v[i].used) {
			sb_procfile_free(&bd->v[i].f);
			continue;
		}
		bd->v[i].used = false;
		bd->v[k++] = bd->v[i];
	}
	bd->n = k;
}

/* A file named by master/slave: text, or NULL with *r set (-ENODATA
 * when absent, as node_exporter's ErrNoData). */
static const char *read_named(struct proc_state *st, struct bonding *bd, const char *path, int *r)
{
	struct sb_procfile *f = file_for(bd, path);
	if (!f) {
		*r = -ENOMEM;
		return NULL;
	}
	const char *text = sb_proc_read(st, f, true);
	if (!text) {
		int e = sb_proc_read_err(f, true);
		*r = e ? e : -ENODATA;
	}
	return text;
}

/* An interface name from a file's words: no path tricks. */
static bool if_name_ok(const char *w, size_t n)
{
	return n && n < 64 && !memchr(w, '/', n) && !(n <= 2 && w[0] == '.' && w[n - 1] == '.');
}

/* One master: 0 with its counts, or <0 (-ENODATA: a file missing). */
static int master_counts(struct proc_state *st, struct bonding *bd, const char *net, const char *m,
			 size_t mlen, unsigned *slaves, unsigned *active, struct sb_procfile **badf)
{
	char spath[PATH_MAX], path[PATH_MAX];
	int r = 0;
	if (snprintf(spath, sizeof(spath), "%s/%.*s/bonding/slaves", net, (int)mlen, m) >=
	    (int)sizeof(spath))
		return -ENAMETOOLONG;
	const char *text = read_named(st, bd, spath, &r);
	if (!text)
		return r;
	/* the slaves' names are copied: reading mii_status may reuse buffers */
	char names[4096];
	snprintf(names, sizeof(names), "%s", text);
	*slaves = *active = 0;
	const char *p = names, *w;
	size_t n;
	while ((n = sb_pp_word(&p, &w)) || *p == '\n') {
		if (!n) {
			p++;
			continue;
		}
		if (!if_name_ok(w, n)) {
			*badf = file_for(bd, spath);
			return -EINVAL;
		}
		const char *state = NULL;
		for (int k = 0; k < 2 && !state; k++) {
			if (snprintf(path, sizeof(path), "%s/%.*s/%s%.*s/bonding_slave/mii_status",
				     net, (int)mlen, m, k ? "slave_" : "lower_", (int)n,
				     w) >= (int)sizeof(path))
				return -ENAMETOOLONG;
			r = 0;
			state = read_named(st, bd, path, &r);
			if (!state && r != -ENODATA)
				return r;
		}
		if (!state)
			return -ENODATA;
		(*slaves)++;
		const char *s = sb_pp_blank(state);
		size_t len = strlen(s);
		while (len && (s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		*active += len == 2 && !memcmp(s, "up", 2);
	}
	return 0;
}

static int bonding_init(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	c->priv = calloc(1, sizeof(struct bonding));
	return c->priv ? 0 : -ENOMEM;
}

static void bonding_free(struct proc_state *st, struct sb_proc_coll *c)
{
	(void)st;
	struct bonding *bd = c->priv;
	if (!bd)
		return;
	for (size_t i = 0; i < bd->n; i++)
		sb_procfile_free(&bd->v[i].f);
	free(bd->v);
	free(bd);
	c->priv = NULL;
}

static int bonding_collect(struct proc_state *st, struct sb_proc_coll *c, struct sb_evb *b)
{
	struct bonding *bd = c->priv;
	const char *text = sb_proc_coll_read(st, c, 0);
	if (!text) {
		sweep(bd);
		return sb_proc_nodata(c->f[0]);
	}
	char masters[4096], net[PATH_MAX];
	snprintf(masters, sizeof(masters), "%s", text);
	snprintf(net, sizeof(net), "%s/class/net", st->cfg->sysfs);
	int r = 0;
	const char *p = masters, *m;
	size_t n;
	while ((n = sb_pp_word(&p, &m)) || *p == '\n') {
		if (!n) {
			p++;
			continue;
		}
		/* set whenever e is 0; gcc -Os cannot tell (maybe-uninitialized) */
		unsigned slaves = 0, active = 0;
		struct sb_procfile *badf = NULL;
		int e = if_name_ok(m, n) ? master_counts(st, bd, net, m, n, &slaves, &active, &badf)
					 : (badf = c->f[0], -EINVAL);
		if (e == -EINVAL && badf) {
			struct sb_proc_perr pe = {0};
			sb_proc_bad(&pe, 1, "an interface name with '/' or a dot name");
			sb_proc_report(st, badf, &pe);
		}
		if (e) {
			if (!r || r == -ENODATA)
				r = e;
			continue;
		}
		char name[64];
		snprintf(name, sizeof(name), "%.*s", (int)n, m);
		sb_evb_sample(b, "node_bonding_slaves", SB_GAUGE, slaves);
		sb_evb_help(b, "Number of configured slaves per bonding interface.");
		sb_evb_label(b, "master", name);
		sb_evb_sample(b, "node_bonding_active", SB_GAUGE, active);
		sb_evb_help(b, "Number of active slaves per bonding interface.");
		sb_evb_label(b, "master", name);
	}
	sweep(bd);
	return r;
}

const struct sb_proc_collector sb_proc_collector_bonding = {
    .name = "bonding",
    .default_on = true,
    .files =
	(const struct sb_proc_src[]){
	    {"class/net/bonding_masters", .sysfs = true, .single = true, .optional = true}, {0}},
    .init = bonding_init,
    .collect = bonding_collect,
    .free = bonding_free,
};
