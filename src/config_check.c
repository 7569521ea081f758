/* Checks across sinks, after each parsed on its own: no two sinks write one
 * path, and values that only make sense together are made to agree, with a
 * warning saying what changed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_config.h"
#include "sb_log.h"
#include "sb_sensor.h"
#include "sb_sink.h"

#define CFIELD(base, off, type) ((const type *)((const char *)(base) + (off)))

struct owned {
	size_t sink;
	char key[64];
	char path[4096];
};

/* Lexically normal: no "//", ".", ".." or trailing '/' (symlinks are not
 * followed: the paths may not exist yet). */
static void normalize(const char *in, char *out, size_t n)
{
	size_t o = 0;
	out[0] = 0;
	for (const char *p = in; *p;) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if (!len)
			break;
		if (len == 1 && p[0] == '.') {
			/* nothing */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else if (o + 1 + len < n) {
			out[o++] = '/';
			memcpy(out + o, p, len);
			o += len;
		}
		out[o] = 0;
		p += len;
	}
	if (!o)
		snprintf(out, n, "/");
}

static int collect(const struct sb_cfg_key *keys, const void *cfg, const char *prefix, size_t sink,
		   const char *sink_name, struct owned **v, size_t *nv)
{
	for (const struct sb_cfg_key *k = keys; k && k->name; k++) {
		char name[64];
		snprintf(name, sizeof(name), "%s%s", prefix, k->name);
		if (k->type == SB_CT_OBJ) {
			char sub[80];
			snprintf(sub, sizeof(sub), "%s.", name);
			int r =
			    collect(k->sub, CFIELD(cfg, k->off, char), sub, sink, sink_name, v, nv);
			if (r)
				return r;
			continue;
		}
		const char *s = k->type == SB_CT_STR ? *CFIELD(cfg, k->off, char *) : NULL;
		if (!(k->flags & SB_CK_OWNED) || !s || !*s)
			continue;
		struct owned *nw = realloc(*v, (*nv + 1) * sizeof(**v));
		if (!nw)
			return -ENOMEM;
		*v = nw;
		nw[*nv].sink = sink;
		snprintf(nw[*nv].key, sizeof(nw[*nv].key), "%s", name);
		char expanded[4096];
		sb_expand_name(expanded, sizeof(expanded), s, sink_name);
		normalize(expanded, nw[*nv].path, sizeof(nw[*nv].path));
		(*nv)++;
	}
	return 0;
}

/* a lies inside b (b is a directory above a). */
static bool inside(const char *a, const char *b)
{
	size_t lb = strlen(b);
	return !strncmp(a, b, lb) && (a[lb] == '/' || !strcmp(b, "/"));
}

int sb_config_check_sinks(const struct sb_config *cfg, char *err, size_t errlen)
{
	struct owned *v = NULL;
	size_t nv = 0;
	int r = 0;
	for (size_t i = 0; i < cfg->nsinks && !r; i++)
		if (!(r = collect(cfg->sinks[i].ops->keys, cfg->sinks[i].cfg, "", i,
				  cfg->sinks[i].common.name, &v, &nv)))
			r = collect(cfg->sinks[i].ops->shared_keys, cfg->sinks[i].cfg, "", i,
				    cfg->sinks[i].common.name, &v, &nv);
	for (size_t j = 1; j < nv && !r; j++) {
		for (size_t i = 0; i < j && !r; i++) {
			const struct owned *a = &v[j], *b = &v[i];
			if (a->sink == b->sink)
				continue;
			if (!strcmp(a->path, b->path))
				snprintf(
				    err, errlen,
				    "sinks[%zu].%s: %s is also sinks[%zu].%s (two sinks cannot "
				    "write one path)",
				    a->sink, a->key, a->path, b->sink, b->key);
			else if (inside(a->path, b->path))
				snprintf(err, errlen,
					 "sinks[%zu].%s: %s is inside sinks[%zu].%s %s", a->sink,
					 a->key, a->path, b->sink, b->key, b->path);
			else if (inside(b->path, a->path))
				snprintf(err, errlen, "sinks[%zu].%s: %s holds sinks[%zu].%s %s",
					 a->sink, a->key, a->path, b->sink, b->key, b->path);
			else
				continue;
			r = -EINVAL;
		}
	}
	free(v);
	/* a sensor whose promise rests on the sinks (the amqp sensor's acks) */
	for (size_t i = 0; i < cfg->nsensors && !r; i++) {
		const struct sb_sensor_conf *sc = &cfg->sensors[i];
		if (sc->enabled && sc->ops->check_config)
			r = sc->ops->check_config(sc->cfg, cfg, err, errlen);
	}
	return r;
}

void sb_config_adjust_sink(struct sb_sink_conf *sk, size_t idx)
{
	struct sb_sink_common *c = &sk->common;
	/* the bus never hands over more than a queue holds */
	if (c->batch > c->queue_events) {
		sb_warn("config", "sinks[%zu].batch: %lld lowered to %lld (queue_events)", idx,
			(long long)c->batch, (long long)c->queue_events);
		c->batch = c->queue_events;
	}
}
