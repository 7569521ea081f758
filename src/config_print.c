/* Printing the config: the effective config for --check-config and the key
 * tables for docs/config.md (sensorbus config-keys). */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sb_config.h"
#include "sb_sensor.h"
#include "sb_sink.h"
#include "sb_util.h"

#define CFIELD(base, off, type) ((const type *)((const char *)(base) + (off)))

#define MASK "***"
#define MASK_VALUE "<redacted>"

/* A query parameter that carries a credential by its name. */
static bool secret_name(const char *name, size_t len)
{
	static const char *const words[] = {"auth", "token",  "secret",	 "pass",       "pwd",
					    "key",  "cookie", "session", "credential", "signature"};
	for (size_t i = 0; i < SB_ARRAY_SIZE(words); i++) {
		size_t wl = strlen(words[i]);
		for (size_t j = 0; j + wl <= len; j++)
			if (!strncasecmp(name + j, words[i], wl))
				return true;
	}
	return false;
}

static bool key_is_secret(const struct sb_cfg_key *k)
{
	return k->desc && strstr(k->desc, "[secret]");
}

/* The parts of a URL redaction cares about; false when s is no URL. */
struct url_parts {
	const char *auth;  /* after "://" */
	const char *at;	   /* the '@' ending the user info, or NULL */
	const char *colon; /* the ':' before the password, or NULL */
	const char *query; /* after '?', or NULL */
	const char *frag;  /* '#', or the end */
};

static bool url_split(const char *s, struct url_parts *u)
{
	const char *sep = strstr(s, "://");
	if (!sep || sep == s)
		return false;
	for (const char *p = s; p < sep; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-",
			    *p))
			return false;
	memset(u, 0, sizeof(*u));
	u->auth = sep + 3;
	const char *end = u->auth + strcspn(u->auth, "/?#");
	/* the last '@': a password may hold one */
	for (const char *p = u->auth; p < end; p++)
		if (*p == '@')
			u->at = p;
	if (u->at) {
		const char *c = memchr(u->auth, ':', (size_t)(u->at - u->auth));
		u->colon = c;
	}
	u->frag = end + strcspn(end, "#");
	const char *q = memchr(end, '?', (size_t)(u->frag - end));
	u->query = q ? q + 1 : NULL;
	return true;
}

void sb_cfg_redact_url(const char *url, bool bare, char *out, size_t n)
{
	struct url_parts u;
	if (!url_split(url, &u)) {
		snprintf(out, n, "%s", url);
		return;
	}
	struct sb_buf b;
	sb_buf_init(&b);
	sb_buf_add(&b, url, (size_t)(u.auth - url));
	if (u.at && !bare) {
		if (u.colon) {
			sb_buf_add(&b, u.auth, (size_t)(u.colon - u.auth));
			sb_buf_printf(&b, ":%s", MASK);
		} else {
			sb_buf_add(&b, u.auth, (size_t)(u.at - u.auth));
		}
	}
	const char *p = u.at ? u.at + (bare ? 1 : 0) : u.auth;
	const char *qend = u.query ? u.query : u.frag;
	sb_buf_add(&b, p, (size_t)(qend - p));
	for (const char *q = u.query; q && q < u.frag;) {
		size_t len = strcspn(q, "&#");
		const char *eq = memchr(q, '=', len);
		if (eq && secret_name(q, (size_t)(eq - q))) {
			sb_buf_add(&b, q, (size_t)(eq - q) + 1);
			sb_buf_printf(&b, "%s", MASK);
		} else {
			sb_buf_add(&b, q, len);
		}
		q += len;
		if (*q == '&')
			sb_buf_add(&b, q++, 1);
		else
			break;
	}
	sb_buf_printf(&b, "%s", u.frag);
	snprintf(out, n, "%s", b.err ? "" : sb_buf_cstr(&b));
	sb_buf_free(&b);
}

const char *sb_cfg_masked(const char *value, bool secret)
{
	static const char pw[] = "holds the password mask \"" MASK "\" that --check-config "
				 "prints; write the real password";
	if (secret && !strcmp(value, MASK_VALUE))
		return "holds the mask \"" MASK_VALUE "\" that --check-config prints in place "
		       "of a secret; write the real value";
	struct url_parts u;
	if (!url_split(value, &u))
		return NULL;
	if (u.colon && u.at - u.colon - 1 == (ptrdiff_t)strlen(MASK) &&
	    !strncmp(u.colon + 1, MASK, strlen(MASK)))
		return pw;
	for (const char *q = u.query; q && q < u.frag; q += strcspn(q, "&#") + 1) {
		size_t len = strcspn(q, "&#");
		const char *eq = memchr(q, '=', len);
		if (eq && secret_name(q, (size_t)(eq - q)) &&
		    len - (size_t)(eq - q) - 1 == strlen(MASK) &&
		    !strncmp(eq + 1, MASK, strlen(MASK)))
			return "holds the mask \"" MASK "\" that --check-config prints in place "
			       "of a secret; write the real value";
		if (q[len] != '&')
			break;
	}
	return NULL;
}

/* Every string goes out through here: a URL anywhere keeps its password. */
static cJSON *dump_string(const char *s)
{
	char buf[4096];
	if (!strstr(s, "://"))
		return cJSON_CreateString(s);
	sb_cfg_redact_url(s, false, buf, sizeof(buf));
	return cJSON_CreateString(buf);
}

static cJSON *dump_value(const struct sb_cfg_key *k, const void *src)
{
	char tmp[64];
	switch (k->type) {
	case SB_CT_BOOL:
		return cJSON_CreateBool(*CFIELD(src, k->off, bool));
	case SB_CT_INT:
		return cJSON_CreateNumber((double)*CFIELD(src, k->off, int64_t));
	case SB_CT_DOUBLE:
		return cJSON_CreateNumber(*CFIELD(src, k->off, double));
	case SB_CT_STR: {
		const char *s = *CFIELD(src, k->off, char *);
		/* a secret that is no URL has nothing to show but that it is set */
		if (key_is_secret(k) && !strstr(s, "://"))
			return cJSON_CreateString(MASK_VALUE);
		return dump_string(s);
	}
	case SB_CT_DURATION:
		sb_fmt_duration(tmp, sizeof(tmp), *CFIELD(src, k->off, int64_t));
		return cJSON_CreateString(tmp);
	case SB_CT_SIZE:
		sb_fmt_size(tmp, sizeof(tmp), *CFIELD(src, k->off, uint64_t));
		return cJSON_CreateString(tmp);
	case SB_CT_ENUM:
		return cJSON_CreateString(k->choices[*CFIELD(src, k->off, int)]);
	case SB_CT_STRLIST: {
		const struct sb_strlist *l = CFIELD(src, k->off, struct sb_strlist);
		cJSON *a = cJSON_CreateArray();
		for (size_t i = 0; a && i < l->n; i++)
			cJSON_AddItemToArray(a, dump_string(l->v[i]));
		return a;
	}
	case SB_CT_STRMAP: {
		/* which headers are set is no secret; any value may be (a
		 * custom header's name need not say so) */
		const struct sb_strmap *m = CFIELD(src, k->off, struct sb_strmap);
		cJSON *o = cJSON_CreateObject();
		for (size_t i = 0; o && i < m->n; i++)
			cJSON_AddItemToObject(o, m->k[i],
					      key_is_secret(k) ? cJSON_CreateString(MASK_VALUE)
							       : dump_string(m->v[i]));
		return o;
	}
	case SB_CT_OBJ: {
		cJSON *o = cJSON_CreateObject();
		if (o)
			sb_cfg_dump(o, k->sub, CFIELD(src, k->off, char));
		return o;
	}
	case SB_CT_OBJLIST: {
		const struct sb_objlist *l = CFIELD(src, k->off, struct sb_objlist);
		cJSON *a = cJSON_CreateArray();
		for (size_t i = 0; a && i < l->n; i++) {
			cJSON *o = cJSON_CreateObject();
			sb_cfg_dump(o, k->sub, (const char *)l->v + i * k->elem_size);
			cJSON_AddItemToArray(a, o);
		}
		return a;
	}
	}
	return cJSON_CreateNull();
}

void sb_cfg_dump(cJSON *obj, const struct sb_cfg_key *keys, const void *src)
{
	for (const struct sb_cfg_key *k = keys; k->name; k++) {
		/* An unset optional string is left out: null is no value the
		 * loader takes, and the output must load again. */
		if (k->type == SB_CT_STR && !*CFIELD(src, k->off, char *))
			continue;
		cJSON_AddItemToObject(obj, k->name, dump_value(k, src));
	}
}

char *sb_config_dump(const struct sb_config *cfg)
{
	cJSON *root = cJSON_CreateObject();
	if (!root)
		return NULL;
	sb_cfg_dump(root, sb_config_top_keys, cfg);
	cJSON *sensors = cJSON_AddObjectToObject(root, "sensors");
	for (size_t i = 0; sensors && i < cfg->nsensors; i++) {
		const struct sb_sensor_conf *sc = &cfg->sensors[i];
		if (!sc->enabled)
			continue;
		cJSON *o = cJSON_AddObjectToObject(sensors, sc->ops->name);
		if (!o)
			continue;
		/* the interval it runs at: its own, else the global one */
		struct sb_sensor_common eff = sc->common;
		if (!eff.interval)
			eff.interval = cfg->interval;
		sb_cfg_dump(o, sb_sensor_common_keys, &eff);
		if (sc->ops->keys)
			sb_cfg_dump(o, sc->ops->keys, sc->cfg);
	}
	cJSON *sinks = cJSON_AddArrayToObject(root, "sinks");
	for (size_t i = 0; sinks && i < cfg->nsinks; i++) {
		const struct sb_sink_conf *sk = &cfg->sinks[i];
		cJSON *o = cJSON_CreateObject();
		if (!o)
			continue;
		sb_cfg_dump(o, sb_sink_common_keys, &sk->common);
		if (sk->ops->keys)
			sb_cfg_dump(o, sk->ops->keys, sk->cfg);
		if (sk->ops->shared_keys)
			sb_cfg_dump(o, sk->ops->shared_keys, sk->cfg);
		cJSON_AddItemToArray(sinks, o);
	}
	char *s = cJSON_Print(root);
	cJSON_Delete(root);
	return s;
}

static const char *type_name(const struct sb_cfg_key *k)
{
	switch (k->type) {
	case SB_CT_BOOL:
		return "bool";
	case SB_CT_INT:
		return "integer";
	case SB_CT_DOUBLE:
		return "number";
	case SB_CT_STR:
		return "string";
	case SB_CT_DURATION:
		return "duration";
	case SB_CT_SIZE:
		return "size";
	case SB_CT_ENUM:
		return "enum";
	case SB_CT_STRLIST:
		return "list of strings";
	case SB_CT_OBJ:
		return "object";
	case SB_CT_OBJLIST:
		return "list of objects";
	case SB_CT_STRMAP:
		return "object of strings";
	}
	return "?";
}

static void describe_keys(FILE *out, const char *prefix, const struct sb_cfg_key *keys)
{
	for (const struct sb_cfg_key *k = keys; k && k->name; k++) {
		char name[128];
		snprintf(name, sizeof(name), "%s%s", prefix, k->name);
		if (k->type == SB_CT_OBJ || k->type == SB_CT_OBJLIST) {
			fprintf(out, "| `%s` | %s | | %s |\n", name, type_name(k), k->desc);
			char sub[160];
			snprintf(sub, sizeof(sub), "%s%s.", name,
				 k->type == SB_CT_OBJLIST ? "[]" : "");
			describe_keys(out, sub, k->sub);
			continue;
		}
		char def[512] = "";
		if (k->def && !*k->def) {
			snprintf(def, sizeof(def), "\"\"");
		} else if (k->def) {
			/* a '|' in a default (a regex) would end the markdown cell */
			size_t o = 0;
			def[o++] = '`';
			for (const char *c = k->def; *c && o < sizeof(def) - 4; c++) {
				if (*c == '|')
					def[o++] = '\\';
				def[o++] = *c;
			}
			def[o++] = '`';
			def[o] = 0;
		}
		char choices[200] = "";
		if (k->type == SB_CT_ENUM) {
			size_t l = 0;
			for (size_t i = 0; k->choices[i]; i++) {
				int w = snprintf(choices + l, sizeof(choices) - l, "%s%s",
						 i ? ", " : " (one of: ", k->choices[i]);
				if (w > 0)
					l += (size_t)w;
			}
			if (l < sizeof(choices) - 1)
				strcat(choices, ")");
		}
		fprintf(out, "| `%s` | %s | %s | %s%s |\n", name, type_name(k), def,
			k->desc ? k->desc : "", choices);
	}
}

static void table_head(FILE *out)
{
	fprintf(out, "| key | type | default | meaning |\n|---|---|---|---|\n");
}

void sb_config_describe(FILE *out)
{
	fprintf(out, "#### Top level\n\n");
	table_head(out);
	describe_keys(out, "", sb_config_top_keys);
	fprintf(out,
		"| `sensors` | object | `%s` | one section per sensor; a present section enables "
		"it |\n",
		SB_DEFAULT_SENSORS);
	fprintf(out, "| `sinks` | list of objects | one `file` sink | where events go |\n");
	fprintf(out, "\n#### Every sensor (`sensors.NAME`)\n\n");
	table_head(out);
	describe_keys(out, "", sb_sensor_common_keys);
	size_t n;
	const struct sb_sensor_ops *const *so = sb_sensor_table(&n);
	for (size_t i = 0; i < n; i++) {
		if (!so[i]->keys)
			continue;
		fprintf(out, "\n#### Sensor `%s`: %s\n\n", so[i]->name, so[i]->desc);
		table_head(out);
		if (so[i]->default_interval) {
			char iv[32];
			sb_fmt_duration(iv, sizeof(iv), so[i]->default_interval);
			fprintf(
			    out,
			    "| `sensors.%s.interval` | duration | `%s` | this sensor's collection "
			    "interval (not the global one) |\n",
			    so[i]->name, iv);
		}
		char p[64];
		snprintf(p, sizeof(p), "sensors.%s.", so[i]->name);
		describe_keys(out, p, so[i]->keys);
	}
	fprintf(out, "\n#### Every sink (`sinks[]`)\n\n");
	table_head(out);
	describe_keys(out, "", sb_sink_common_keys);
	const struct sb_sink_ops *const *ko = sb_sink_table(&n);
	/* The delivery layer's keys, once, for every sink that has them. */
	const struct sb_cfg_key *shared = NULL;
	char users[256] = "";
	for (size_t i = 0; i < n; i++) {
		if (!ko[i]->shared_keys)
			continue;
		shared = ko[i]->shared_keys;
		size_t l = strlen(users);
		snprintf(users + l, sizeof(users) - l, "%s`%s`", l ? ", " : "", ko[i]->name);
	}
	if (shared) {
		fprintf(out, "\n#### Every delivering sink (%s)\n\n", users);
		table_head(out);
		describe_keys(out, "", shared);
	}
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "\n#### Sink `%s`: %s\n\n", ko[i]->name, ko[i]->desc);
		if (ko[i]->shared_keys)
			fprintf(out, "The delivering sink keys above, and:\n\n");
		if (!ko[i]->keys) {
			fprintf(out, "No keys of its own.\n");
			continue;
		}
		table_head(out);
		describe_keys(out, "", ko[i]->keys);
	}
}

/* The first key flagged as the sink's target, searched through sub-objects. */
static const char *sink_target(const struct sb_cfg_key *keys, const void *cfg)
{
	for (const struct sb_cfg_key *k = keys; k && k->name; k++) {
		if (k->type == SB_CT_STR && (k->flags & SB_CK_TARGET) &&
		    *CFIELD(cfg, k->off, char *))
			return *CFIELD(cfg, k->off, char *);
		/* a list of endpoints (a cluster's): its first names it */
		if (k->type == SB_CT_STRLIST && (k->flags & SB_CK_TARGET) &&
		    CFIELD(cfg, k->off, struct sb_strlist)->n)
			return CFIELD(cfg, k->off, struct sb_strlist)->v[0];
		if (k->type == SB_CT_OBJ) {
			const char *t = sink_target(k->sub, CFIELD(cfg, k->off, char));
			if (t)
				return t;
		}
	}
	return NULL;
}

void sb_config_sink_describe(const struct sb_sink_conf *sk, char *out, size_t n)
{
	const char *type = sk->ops->name, *name = sk->common.name;
	const char *target = sink_target(sk->ops->keys, sk->cfg);
	char what[1024];
	if (target) {
		char t[960];
		sb_cfg_redact_url(target, true, t, sizeof(t));
		snprintf(what, sizeof(what), "%s %s", type, t);
	} else {
		snprintf(what, sizeof(what), "%s", type);
	}
	if (name && strcmp(name, type))
		snprintf(out, n, "%s (%s)", name, what);
	else
		snprintf(out, n, "%s", what);
}
