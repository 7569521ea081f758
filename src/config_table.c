/* The key-table engine: parses a JSON object against declarative key
 * tables (include/sb_config.h), applies defaults, checks ranges and types,
 * frees what it allocated. Knows nothing of sensors or sinks. */
#include "sb_config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_util.h"

#include "config_table.h"

int sb_cfg_fail(char *err, size_t errlen, const char *path, const char *key, const char *fmt, ...)
{
	int n = snprintf(err, errlen, "%s%s%s: ", path, (*path && key && *key != '[') ? "." : "",
			 key ? key : "");
	if (n < 0 || (size_t)n >= errlen)
		return -EINVAL;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *sb_cfg_json_type(const cJSON *v)
{
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsArray(v))
		return "an array";
	if (cJSON_IsObject(v))
		return "an object";
	if (cJSON_IsNull(v))
		return "null";
	return "invalid";
}

static bool is_secret(const struct sb_cfg_key *k) { return k->desc && strstr(k->desc, "[secret]"); }

static void key_path(char *out, size_t n, const char *path, const char *key)
{
	if (!*path)
		snprintf(out, n, "%s", key);
	else
		snprintf(out, n, "%s.%s", path, key);
}

static void free_value(const struct sb_cfg_key *k, void *dst)
{
	switch (k->type) {
	case SB_CT_STR: {
		char **p = FIELD(dst, k->off, char *);
		free(*p);
		*p = NULL;
		break;
	}
	case SB_CT_STRLIST: {
		struct sb_strlist *l = FIELD(dst, k->off, struct sb_strlist);
		for (size_t i = 0; i < l->n; i++)
			free(l->v[i]);
		free(l->v);
		l->v = NULL;
		l->n = 0;
		break;
	}
	case SB_CT_STRMAP: {
		struct sb_strmap *m = FIELD(dst, k->off, struct sb_strmap);
		for (size_t i = 0; i < m->n; i++) {
			free(m->k[i]);
			free(m->v[i]);
		}
		free(m->k);
		free(m->v);
		memset(m, 0, sizeof(*m));
		break;
	}
	case SB_CT_OBJ:
		sb_cfg_free(k->sub, FIELD(dst, k->off, char));
		break;
	case SB_CT_OBJLIST: {
		struct sb_objlist *l = FIELD(dst, k->off, struct sb_objlist);
		for (size_t i = 0; i < l->n; i++)
			sb_cfg_free(k->sub, (char *)l->v + i * k->elem_size);
		free(l->v);
		l->v = NULL;
		l->n = 0;
		break;
	}
	default:
		break;
	}
}

void sb_cfg_free(const struct sb_cfg_key *keys, void *dst)
{
	if (!keys || !dst)
		return;
	for (const struct sb_cfg_key *k = keys; k->name; k++)
		free_value(k, dst);
}

static int check_range(const struct sb_cfg_key *k, double v, const char *path, char *err,
		       size_t errlen)
{
	if (k->min < k->max && (v < k->min || v > k->max))
		return sb_cfg_fail(err, errlen, path, NULL, "%g is out of range [%g, %g]", v,
				   k->min, k->max);
	return 0;
}

int sb_cfg_parse_value(const cJSON *v, const struct sb_cfg_key *k, void *dst, const char *path,
		       char *err, size_t errlen)
{
	switch (k->type) {
	case SB_CT_BOOL:
		if (!cJSON_IsBool(v))
			return sb_cfg_fail(err, errlen, path, NULL,
					   "expected true or false, got %s", sb_cfg_json_type(v));
		*FIELD(dst, k->off, bool) = cJSON_IsTrue(v);
		return 0;
	case SB_CT_INT: {
		if (cJSON_IsNumber(v) && fabs(v->valuedouble) > 9.2e18)
			return sb_cfg_fail(err, errlen, path, NULL, "integer too large");
		if (!cJSON_IsNumber(v) || !sb_whole(v->valuedouble))
			return sb_cfg_fail(err, errlen, path, NULL, "expected an integer, got %s",
					   cJSON_IsNumber(v) ? "a fraction" : sb_cfg_json_type(v));
		if (check_range(k, v->valuedouble, path, err, errlen))
			return -EINVAL;
		*FIELD(dst, k->off, int64_t) = (int64_t)v->valuedouble;
		return 0;
	}
	case SB_CT_DOUBLE:
		if (!cJSON_IsNumber(v))
			return sb_cfg_fail(err, errlen, path, NULL, "expected a number, got %s",
					   sb_cfg_json_type(v));
		if (!isfinite(v->valuedouble))
			return sb_cfg_fail(err, errlen, path, NULL, "number too large");
		if (check_range(k, v->valuedouble, path, err, errlen))
			return -EINVAL;
		*FIELD(dst, k->off, double) = v->valuedouble;
		return 0;
	case SB_CT_STR: {
		if (!cJSON_IsString(v))
			return sb_cfg_fail(err, errlen, path, NULL, "expected a string, got %s",
					   sb_cfg_json_type(v));
		const char *why = sb_cfg_masked(v->valuestring, is_secret(k));
		if (why)
			return sb_cfg_fail(err, errlen, path, NULL, "%s", why);
		if ((k->flags & SB_CK_PATH) && !*v->valuestring)
			return sb_cfg_fail(err, errlen, path, NULL, "empty path");
		if ((k->flags & SB_CK_PATH) && *v->valuestring != '/')
			return sb_cfg_fail(
			    err, errlen, path, NULL,
			    "\"%s\" is a relative path; give an absolute one (a service's "
			    "working directory is not the config's)",
			    v->valuestring);
		char *s = strdup(v->valuestring);
		if (!s)
			return -ENOMEM;
		char **p = FIELD(dst, k->off, char *);
		free(*p);
		*p = s;
		return 0;
	}
	case SB_CT_DURATION: {
		int64_t ns;
		if (cJSON_IsNumber(v) && v->valuedouble == 0) {
			ns = 0;
		} else if (!cJSON_IsString(v) || sb_parse_duration(v->valuestring, &ns)) {
			return sb_cfg_fail(
			    err, errlen, path, NULL,
			    "invalid duration %s%s%s (expected a string like \"250ms\", "
			    "\"10s\", \"2m\")",
			    cJSON_IsString(v) ? "\"" : "",
			    cJSON_IsString(v) ? v->valuestring : sb_cfg_json_type(v),
			    cJSON_IsString(v) ? "\"" : "");
		}
		if (k->min < k->max && ((double)ns < k->min * 1e9 || (double)ns > k->max * 1e9)) {
			char lo[32], hi[32];
			sb_fmt_duration(lo, sizeof(lo), (int64_t)(k->min * 1e9));
			sb_fmt_duration(hi, sizeof(hi), (int64_t)(k->max * 1e9));
			return sb_cfg_fail(err, errlen, path, NULL, "%s is out of range [%s, %s]",
					   v->valuestring ? v->valuestring : "0", lo, hi);
		}
		*FIELD(dst, k->off, int64_t) = ns;
		return 0;
	}
	case SB_CT_SIZE: {
		uint64_t b = 0;
		int r = -EINVAL;
		if (cJSON_IsNumber(v) && v->valuedouble >= 0 && sb_whole(v->valuedouble)) {
			/* 1e309 arrives as inf, and casting it or anything past
			 * 2^64 is undefined: the string form's limit holds here too */
			r = v->valuedouble < SB_SIZE_MAX_BYTES ? 0 : -ERANGE;
			if (!r)
				b = (uint64_t)v->valuedouble;
		} else if (cJSON_IsString(v)) {
			r = sb_parse_size(v->valuestring, &b);
		}
		if (r == -ERANGE)
			return sb_cfg_fail(err, errlen, path, NULL,
					   "size too large (the most is %.3g bytes)",
					   SB_SIZE_MAX_BYTES);
		if (r) {
			return sb_cfg_fail(err, errlen, path, NULL,
					   "invalid size %s%s%s (expected bytes or a string like "
					   "\"64MiB\", \"1GB\")",
					   cJSON_IsString(v) ? "\"" : "",
					   cJSON_IsString(v) ? v->valuestring : sb_cfg_json_type(v),
					   cJSON_IsString(v) ? "\"" : "");
		}
		if (check_range(k, (double)b, path, err, errlen))
			return -EINVAL;
		*FIELD(dst, k->off, uint64_t) = b;
		return 0;
	}
	case SB_CT_ENUM: {
		const char *s = NULL;
		if (cJSON_IsString(v))
			s = v->valuestring;
		else if (cJSON_IsBool(v))
			s = cJSON_IsTrue(v) ? "true" : "false";
		for (size_t i = 0; s && k->choices[i]; i++) {
			if (!strcmp(s, k->choices[i])) {
				*FIELD(dst, k->off, int) = (int)i;
				return 0;
			}
		}
		char list[256] = "";
		for (size_t i = 0; k->choices[i]; i++) {
			size_t l = strlen(list);
			snprintf(list + l, sizeof(list) - l, "%s\"%s\"", i ? ", " : "",
				 k->choices[i]);
		}
		return sb_cfg_fail(err, errlen, path, NULL,
				   "invalid value %s%s%s (expected one of %s)", s ? "\"" : "",
				   s ? s : sb_cfg_json_type(v), s ? "\"" : "", list);
	}
	case SB_CT_STRLIST: {
		if (!cJSON_IsArray(v))
			return sb_cfg_fail(err, errlen, path, NULL,
					   "expected an array of strings, got %s",
					   sb_cfg_json_type(v));
		struct sb_strlist *l = FIELD(dst, k->off, struct sb_strlist);
		free_value(k, dst);
		int n = cJSON_GetArraySize(v);
		l->v = calloc((size_t)n + 1, sizeof(char *));
		if (!l->v)
			return -ENOMEM;
		const cJSON *e;
		int i = 0;
		cJSON_ArrayForEach(e, v)
		{
			if (!cJSON_IsString(e)) {
				char p[256];
				snprintf(p, sizeof(p), "%s[%d]", path, i);
				return sb_cfg_fail(err, errlen, p, NULL,
						   "expected a string, got %s",
						   sb_cfg_json_type(e));
			}
			if (!(l->v[l->n++] = strdup(e->valuestring)))
				return -ENOMEM;
			i++;
		}
		return 0;
	}
	case SB_CT_STRMAP: {
		if (!cJSON_IsObject(v))
			return sb_cfg_fail(err, errlen, path, NULL,
					   "expected an object of strings, got %s",
					   sb_cfg_json_type(v));
		struct sb_strmap *m = FIELD(dst, k->off, struct sb_strmap);
		free_value(k, dst);
		int n = cJSON_GetArraySize(v);
		m->k = calloc((size_t)n + 1, sizeof(char *));
		m->v = calloc((size_t)n + 1, sizeof(char *));
		if (!m->k || !m->v)
			return -ENOMEM;
		const cJSON *e;
		cJSON_ArrayForEach(e, v)
		{
			if (!cJSON_IsString(e)) {
				char p[256];
				key_path(p, sizeof(p), path, e->string);
				return sb_cfg_fail(err, errlen, p, NULL,
						   "expected a string, got %s",
						   sb_cfg_json_type(e));
			}
			const char *why = sb_cfg_masked(e->valuestring, is_secret(k));
			if (why) {
				char p[256];
				key_path(p, sizeof(p), path, e->string);
				return sb_cfg_fail(err, errlen, p, NULL, "%s", why);
			}
			m->k[m->n] = strdup(e->string);
			m->v[m->n] = strdup(e->valuestring);
			m->n++;
			if (!m->k[m->n - 1] || !m->v[m->n - 1])
				return -ENOMEM;
		}
		return 0;
	}
	case SB_CT_OBJ: {
		if (!cJSON_IsObject(v))
			return sb_cfg_fail(err, errlen, path, NULL, "expected an object, got %s",
					   sb_cfg_json_type(v));
		const struct sb_cfg_key *t[1] = {k->sub};
		void *d[1] = {FIELD(dst, k->off, char)};
		return sb_cfg_parse(v, path, t, d, 1, err, errlen);
	}
	case SB_CT_OBJLIST: {
		if (!cJSON_IsArray(v))
			return sb_cfg_fail(err, errlen, path, NULL,
					   "expected an array of objects, got %s",
					   sb_cfg_json_type(v));
		struct sb_objlist *l = FIELD(dst, k->off, struct sb_objlist);
		free_value(k, dst);
		int n = cJSON_GetArraySize(v);
		l->v = calloc((size_t)n + 1, k->elem_size);
		if (!l->v)
			return -ENOMEM;
		const cJSON *e;
		int i = 0;
		cJSON_ArrayForEach(e, v)
		{
			char p[256];
			snprintf(p, sizeof(p), "%s[%d]", path, i);
			void *elem = (char *)l->v + (size_t)i * k->elem_size;
			l->n++;
			if (!cJSON_IsObject(e))
				return sb_cfg_fail(err, errlen, p, NULL,
						   "expected an object, got %s",
						   sb_cfg_json_type(e));
			const struct sb_cfg_key *t[1] = {k->sub};
			void *d[1] = {elem};
			int r = sb_cfg_parse(e, p, t, d, 1, err, errlen);
			if (r)
				return r;
			i++;
		}
		return 0;
	}
	}
	return -EINVAL;
}

/* Turns a default's text into the JSON value the parser expects. */
static cJSON *default_json(const struct sb_cfg_key *k)
{
	switch (k->type) {
	case SB_CT_BOOL:
		return cJSON_CreateBool(!strcmp(k->def, "true"));
	case SB_CT_INT:
	case SB_CT_DOUBLE:
		return cJSON_CreateNumber(strtod(k->def, NULL));
	case SB_CT_STR:
	case SB_CT_DURATION:
	case SB_CT_SIZE:
	case SB_CT_ENUM:
		return cJSON_CreateString(k->def);
	case SB_CT_STRLIST: {
		cJSON *a = cJSON_CreateArray();
		char *copy = strdup(k->def);
		if (!a || !copy) {
			free(copy);
			cJSON_Delete(a);
			return NULL;
		}
		char *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			cJSON_AddItemToArray(a, cJSON_CreateString(t));
		free(copy);
		return a;
	}
	default:
		return NULL;
	}
}

static int apply_defaults(const struct sb_cfg_key *keys, void *dst, const char *path, char *err,
			  size_t errlen)
{
	for (const struct sb_cfg_key *k = keys; k->name; k++) {
		if (k->type == SB_CT_OBJ) {
			int r = apply_defaults(k->sub, FIELD(dst, k->off, char), path, err, errlen);
			if (r)
				return r;
			continue;
		}
		if (!k->def)
			continue;
		cJSON *d = default_json(k);
		if (!d)
			return -ENOMEM;
		char p[256];
		key_path(p, sizeof(p), path, k->name);
		int r = sb_cfg_parse_value(d, k, dst, p, err, errlen);
		cJSON_Delete(d);
		if (r) /* a bad default is a bug, but say so rather than crash */
			return r;
	}
	return 0;
}

int sb_cfg_parse(const cJSON *obj, const char *path, const struct sb_cfg_key *const *tables,
		 void *const *dsts, size_t ntables, char *err, size_t errlen)
{
	for (size_t t = 0; t < ntables; t++) {
		int r = apply_defaults(tables[t], dsts[t], path, err, errlen);
		if (r)
			return r;
	}
	if (!obj)
		return 0;
	if (!cJSON_IsObject(obj))
		return sb_cfg_fail(err, errlen, path, NULL, "expected an object, got %s",
				   sb_cfg_json_type(obj));
	const cJSON *v;
	cJSON_ArrayForEach(v, obj)
	{
		char p[256];
		key_path(p, sizeof(p), path, v->string);
		for (const cJSON *w = obj->child; w != v; w = w->next)
			if (!strcmp(w->string, v->string))
				return sb_cfg_fail(err, errlen, p, NULL, "duplicate key");
		const struct sb_cfg_key *found = NULL;
		void *dst = NULL;
		for (size_t t = 0; t < ntables && !found; t++) {
			for (const struct sb_cfg_key *k = tables[t]; k->name; k++) {
				if (!strcmp(k->name, v->string)) {
					found = k;
					dst = dsts[t];
					break;
				}
			}
		}
		if (!found) {
			char known[512] = "";
			for (size_t t = 0; t < ntables; t++)
				for (const struct sb_cfg_key *k = tables[t]; k->name; k++) {
					size_t l = strlen(known);
					snprintf(known + l, sizeof(known) - l, "%s%s",
						 l ? ", " : "", k->name);
				}
			return sb_cfg_fail(err, errlen, p, NULL, "unknown key (known keys: %s)",
					   known);
		}
		int r = sb_cfg_parse_value(v, found, dst, p, err, errlen);
		if (r)
			return r;
	}
	return 0;
}
