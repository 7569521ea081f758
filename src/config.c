#include "sb_config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_delivery.h"
#include "sb_sensor.h"
#include "sb_sink.h"
#include "sb_util.h"

#include "config_table.h"

/* ---- the agent's config ---- */

static const char *const full_choices[] = {"block", "drop_oldest", NULL};
static const char *const shard_choices[] = {"source", "seq", NULL};

static const struct sb_cfg_key retry_keys[] = {
    {"base", SB_CT_DURATION, offsetof(struct sb_retry_conf, base), "100ms",
     "first retry delay (exponential backoff with full jitter)", .min = 0.001, .max = 3600},
    {"max_delay", SB_CT_DURATION, offsetof(struct sb_retry_conf, max_delay), "30s",
     "cap on one retry delay", .min = 0.001, .max = 86400},
    {"max_attempts", SB_CT_INT, offsetof(struct sb_retry_conf, max_attempts), "0",
     "attempts before the sink gives up on a batch (0: never)", .min = 0, .max = 1e9},
    {0},
};

const struct sb_cfg_key sb_sink_common_keys[] = {
    {"type", SB_CT_STR, offsetof(struct sb_sink_common, type), NULL,
     "sink type (one of the sink sections below)"},
    {"name", SB_CT_STR, offsetof(struct sb_sink_common, name), NULL,
     "name in logs and metrics (default: the type, then type2, ...)"},
    {"queue_events", SB_CT_INT, offsetof(struct sb_sink_common, queue_events), "65536",
     "queue bound in events (per worker)", .min = 1, .max = 1e8},
    {"queue_bytes", SB_CT_SIZE, offsetof(struct sb_sink_common, queue_bytes), "64MiB",
     "queue bound in bytes of events (per worker)", .min = 1024, .max = 1e12},
    {"full", SB_CT_ENUM, offsetof(struct sb_sink_common, full), "block",
     "when the queue is full: block (the new event waits up to block_timeout, then is "
     "dropped; the sensors never wait) or drop_oldest",
     full_choices},
    {"block_timeout", SB_CT_DURATION, offsetof(struct sb_sink_common, block_timeout), "1s",
     "longest an event waits for room in a full queue", .min = 0, .max = 3600},
    {"batch", SB_CT_INT, offsetof(struct sb_sink_common, batch), "512",
     "events handed to the sink per write", .min = 1, .max = 65536},
    {"flush_interval", SB_CT_DURATION, offsetof(struct sb_sink_common, flush_interval), "1s",
     "longest an event waits before the sink writes and flushes it (sooner once batch events "
     "or half of queue_bytes are queued)",
     .min = 0.001, .max = 3600},
    {"workers", SB_CT_INT, offsetof(struct sb_sink_common, workers), "1",
     "threads (each with its own queue); events are sharded by shard_by", .min = 1, .max = 64},
    {"shard_by", SB_CT_ENUM, offsetof(struct sb_sink_common, shard_by), "source",
     "source: order kept per source; seq: round robin by sequence number", shard_choices},
    {"retry", SB_CT_OBJ, offsetof(struct sb_sink_common, retry), NULL,
     "retry policy for batches the sink cannot take yet", .sub = retry_keys},
    {"shutdown_grace", SB_CT_DURATION, offsetof(struct sb_sink_common, shutdown_grace), "10s",
     "how long shutdown keeps retrying undelivered events (then blocked writes are "
     "interrupted)",
     .min = 0, .max = 3600},
    {0},
};

const struct sb_cfg_key sb_sensor_common_keys[] = {
    {"interval", SB_CT_DURATION, offsetof(struct sb_sensor_common, interval), "0",
     "collection interval (0: the global interval)", .min = 0, .max = 86400},
    {0},
};

static const char *const log_choices[] = {"error", "warn", "info", "debug", "trace", NULL};

const struct sb_cfg_key sb_config_top_keys[] = {
    {"interval", SB_CT_DURATION, offsetof(struct sb_config, interval), "1s",
     "default collection interval", .min = 0.001, .max = 86400},
    {"host", SB_CT_STR, offsetof(struct sb_config, host), "auto",
     "host name in events (auto: the system's)"},
    {"log_level", SB_CT_ENUM, offsetof(struct sb_config, log_level), "info",
     "log lines at this level and more severe", log_choices},
    {"user", SB_CT_STR, offsetof(struct sb_config, user), "",
     "once set up (BPF loaded), run as this user, keeping only the capabilities the "
     "config needs; sinks open their files and ports as this user"},
    {0},
};

static int load_sensor(struct sb_sensor_conf *sc, const cJSON *sec, char *err, size_t errlen)
{
	char path[128];
	snprintf(path, sizeof(path), "sensors.%s", sc->ops->name);
	if (!sc->cfg) {
		sc->cfg = calloc(1, sc->ops->cfg_size ? sc->ops->cfg_size : 1);
		if (!sc->cfg)
			return -ENOMEM;
	} else {
		sb_cfg_free(sc->ops->keys, sc->cfg);
		memset(sc->cfg, 0, sc->ops->cfg_size);
	}
	const struct sb_cfg_key *tables[2] = {sb_sensor_common_keys, sc->ops->keys};
	void *dsts[2] = {&sc->common, sc->cfg};
	int r = sb_cfg_parse(sec, path, tables, dsts, sc->ops->keys ? 2 : 1, err, errlen);
	if (!r && !sc->common.interval)
		sc->common.interval = sc->ops->default_interval;
	if (!r && sc->ops->validate) {
		char e[384];
		if (sc->ops->validate(sc->cfg, e, sizeof(e)))
			r = sb_cfg_fail(err, errlen, path, NULL, "%s", e);
	}
	return r;
}

/* The delivery layer's `format` defaults to json; a sink may name another. */
static int default_format(struct sb_sink_conf *sk)
{
	struct sb_delivery_cfg *d = sk->cfg;
	char *f = strdup(sk->ops->format);
	if (!f)
		return -ENOMEM;
	free(d->format);
	d->format = f;
	return 0;
}

static int load_sink(struct sb_sink_conf *sk, const cJSON *sec, int idx, char *err, size_t errlen)
{
	char path[64];
	snprintf(path, sizeof(path), "sinks[%d]", idx);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(sec, "type");
	if (!cJSON_IsObject(sec))
		return sb_cfg_fail(err, errlen, path, NULL, "expected an object");
	char list[256] = "";
	size_t n;
	const struct sb_sink_ops *const *t = sb_sink_table(&n);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "", t[i]->name);
	}
	if (!cJSON_IsString(type))
		return sb_cfg_fail(err, errlen, path, "type", "missing or not a string (one of %s)",
				   list);
	sk->ops = sb_sink_find(type->valuestring);
	if (!sk->ops)
		return sb_cfg_fail(err, errlen, path, "type",
				   "unknown sink type \"%s\" (one of %s)", type->valuestring, list);
	sk->cfg = calloc(1, sk->ops->cfg_size ? sk->ops->cfg_size : 1);
	if (!sk->cfg)
		return -ENOMEM;
	const struct sb_cfg_key *tables[3] = {sb_sink_common_keys};
	void *dsts[3] = {&sk->common};
	size_t nt = 1;
	if (sk->ops->keys) {
		tables[nt] = sk->ops->keys;
		dsts[nt++] = sk->cfg;
	}
	if (sk->ops->shared_keys) { /* their struct begins the sink's */
		tables[nt] = sk->ops->shared_keys;
		dsts[nt++] = sk->cfg;
	}
	int r = sb_cfg_parse(sec, path, tables, dsts, nt, err, errlen);
	if (!r && sk->ops->format && !cJSON_GetObjectItemCaseSensitive(sec, "format"))
		r = default_format(sk);
	if (!r && sk->ops->validate) {
		char e[384];
		if (sk->ops->validate(sk->cfg, e, sizeof(e)))
			r = sb_cfg_fail(err, errlen, path, NULL, "%s", e);
	}
	if (!r)
		sb_config_adjust_sink(sk, (size_t)idx);
	return r;
}

static int name_sinks(struct sb_config *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < cfg->nsinks; i++) {
		struct sb_sink_common *c = &cfg->sinks[i].common;
		if (!c->name) {
			char name[64];
			int nth = 1;
			for (size_t j = 0; j < i; j++)
				if (!strcmp(cfg->sinks[j].common.type, c->type))
					nth++;
			if (nth == 1)
				snprintf(name, sizeof(name), "%s", c->type);
			else
				snprintf(name, sizeof(name), "%s%d", c->type, nth);
			if (!(c->name = strdup(name)))
				return -ENOMEM;
		}
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(cfg->sinks[j].common.name, c->name)) {
				char p[32];
				snprintf(p, sizeof(p), "sinks[%zu]", i);
				return sb_cfg_fail(err, errlen, p, "name",
						   "\"%s\" is already the name of sinks[%zu]",
						   c->name, j);
			}
		}
	}
	return 0;
}

static int default_sinks(struct sb_config *cfg, char *err, size_t errlen)
{
	cJSON *s = cJSON_Parse("[{\"type\":\"file\"}]");
	if (!s)
		return -ENOMEM;
	cfg->sinks = calloc(1, sizeof(*cfg->sinks));
	int r = cfg->sinks ? 0 : -ENOMEM;
	if (!r) {
		cfg->nsinks = 1;
		r = load_sink(&cfg->sinks[0], s->child, 0, err, errlen);
	}
	cJSON_Delete(s);
	return r;
}

int sb_config_load(struct sb_config *cfg, const char *text, const char *origin, char *err,
		   size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	cJSON *root = NULL;
	int r = 0;
	if (text) {
		root = cJSON_ParseWithOpts(text, NULL, 1);
		if (!root) {
			char what[160] = "invalid JSON";
			size_t at;
			if (!sb_cfg_json_error(text, &at, what, sizeof(what))) {
				const char *p = cJSON_GetErrorPtr();
				at = p ? (size_t)(p - text) : 0;
			}
			int line, col;
			sb_cfg_line_col(text, at, &line, &col);
			snprintf(err, errlen, "%s:%d:%d: %s", origin, line, col, what);
			return -EINVAL;
		}
		if (!cJSON_IsObject(root)) {
			snprintf(err, errlen, "%s: the config must be a JSON object", origin);
			cJSON_Delete(root);
			return -EINVAL;
		}
	}

	static const char *const top_sections[] = {"sensors", "sinks"};
	/* Listed so that the unknown-key error names them; detached below and
	 * parsed on their own, so never parsed through this table. */
	static const struct sb_cfg_key section_keys[] = {
	    {"sensors", SB_CT_STRMAP}, {"sinks", SB_CT_OBJLIST}, {0}};
	const struct sb_cfg_key *tables[2] = {sb_config_top_keys, section_keys};
	void *dsts[2] = {cfg, NULL};
	/* Sections are parsed below; hide them from the flat key check. */
	cJSON *sensors = NULL, *sinks = NULL;
	if (root) {
		sensors = cJSON_DetachItemFromObjectCaseSensitive(root, top_sections[0]);
		sinks = cJSON_DetachItemFromObjectCaseSensitive(root, top_sections[1]);
		/* A second one would be left to the flat table, which has no
		 * place for it (it wrote through a NULL base; found by
		 * fuzz_config). */
		for (size_t i = 0; i < 2; i++)
			if (cJSON_GetObjectItemCaseSensitive(root, top_sections[i])) {
				r = sb_cfg_fail(err, errlen, top_sections[i], NULL,
						"duplicate key");
				goto out;
			}
	}
	r = sb_cfg_parse(root, "", tables, dsts, 2, err, errlen);
	if (r)
		goto out;

	size_t nops;
	const struct sb_sensor_ops *const *ops = sb_sensor_table(&nops);
	cfg->sensors = calloc(nops, sizeof(*cfg->sensors));
	if (!cfg->sensors) {
		r = -ENOMEM;
		goto out;
	}
	cfg->nsensors = nops;
	if (sensors && !cJSON_IsObject(sensors)) {
		r = sb_cfg_fail(err, errlen, "", "sensors", "expected an object, got %s",
				sb_cfg_json_type(sensors));
		goto out;
	}
	if (sensors) {
		const cJSON *sec;
		cJSON_ArrayForEach(sec, sensors)
		{
			if (!sb_sensor_find(sec->string)) {
				char list[256] = "";
				for (size_t i = 0; i < nops; i++) {
					size_t l = strlen(list);
					snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "",
						 ops[i]->name);
				}
				char p[128];
				snprintf(p, sizeof(p), "sensors.%s", sec->string);
				r = sb_cfg_fail(err, errlen, p, NULL, "unknown sensor (known: %s)",
						list);
				goto out;
			}
		}
	}
	for (size_t i = 0; i < nops; i++) {
		struct sb_sensor_conf *sc = &cfg->sensors[i];
		sc->ops = ops[i];
		const cJSON *sec =
		    sensors ? cJSON_GetObjectItemCaseSensitive(sensors, ops[i]->name) : NULL;
		if (sec && !cJSON_IsObject(sec)) {
			char p[128];
			snprintf(p, sizeof(p), "sensors.%s", ops[i]->name);
			r = sb_cfg_fail(err, errlen, p, NULL, "expected an object, got %s",
					sb_cfg_json_type(sec));
			goto out;
		}
		sc->present = sec != NULL;
		r = load_sensor(sc, sec, err, errlen);
		if (r)
			goto out;
	}
	/* Built-in default: the proc sensor, BPF where the kernel allows, and
	 * the agent's own telemetry. */
	if (!sensors) {
		for (size_t i = 0; i < nops; i++)
			cfg->sensors[i].enabled = sb_list_has(SB_DEFAULT_SENSORS, ops[i]->name);
	} else {
		for (size_t i = 0; i < nops; i++)
			cfg->sensors[i].enabled = cfg->sensors[i].present;
	}

	if (sinks) {
		if (!cJSON_IsArray(sinks)) {
			r = sb_cfg_fail(err, errlen, "", "sinks", "expected an array, got %s",
					sb_cfg_json_type(sinks));
			goto out;
		}
		int n = cJSON_GetArraySize(sinks);
		cfg->sinks = calloc((size_t)n + 1, sizeof(*cfg->sinks));
		if (!cfg->sinks) {
			r = -ENOMEM;
			goto out;
		}
		const cJSON *sec;
		int i = 0;
		cJSON_ArrayForEach(sec, sinks)
		{
			cfg->nsinks++;
			r = load_sink(&cfg->sinks[i], sec, i, err, errlen);
			if (r)
				goto out;
			i++;
		}
		if (n == 0) {
			r = sb_cfg_fail(err, errlen, "", "sinks",
					"no sinks: events would go nowhere");
			goto out;
		}
	} else {
		r = default_sinks(cfg, err, errlen);
		if (r)
			goto out;
	}
	r = name_sinks(cfg, err, errlen);
	if (!r)
		r = sb_config_check_sinks(cfg, err, errlen);
out:
	cJSON_Delete(sensors);
	cJSON_Delete(sinks);
	cJSON_Delete(root);
	if (r == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	return r;
}

void sb_config_free(struct sb_config *cfg)
{
	if (!cfg)
		return;
	sb_cfg_free(sb_config_top_keys, cfg);
	for (size_t i = 0; i < cfg->nsensors; i++) {
		struct sb_sensor_conf *sc = &cfg->sensors[i];
		if (sc->ops)
			sb_cfg_free(sc->ops->keys, sc->cfg);
		free(sc->cfg);
	}
	free(cfg->sensors);
	for (size_t i = 0; i < cfg->nsinks; i++) {
		struct sb_sink_conf *sk = &cfg->sinks[i];
		sb_cfg_free(sb_sink_common_keys, &sk->common);
		if (sk->ops) {
			sb_cfg_free(sk->ops->keys, sk->cfg);
			sb_cfg_free(sk->ops->shared_keys, sk->cfg);
		}
		free(sk->cfg);
	}
	free(cfg->sinks);
	memset(cfg, 0, sizeof(*cfg));
}

struct sb_sensor_conf *sb_config_sensor(struct sb_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nsensors; i++)
		if (!strcmp(cfg->sensors[i].ops->name, name))
			return &cfg->sensors[i];
	return NULL;
}

int sb_config_set_output(struct sb_config *cfg, const char *path, char *err, size_t errlen)
{
	for (size_t i = 0; i < cfg->nsinks; i++) {
		struct sb_sink_conf *sk = &cfg->sinks[i];
		sb_cfg_free(sb_sink_common_keys, &sk->common);
		if (sk->ops) {
			sb_cfg_free(sk->ops->keys, sk->cfg);
			sb_cfg_free(sk->ops->shared_keys, sk->cfg);
		}
		free(sk->cfg);
	}
	free(cfg->sinks);
	cfg->sinks = NULL;
	cfg->nsinks = 0;
	cJSON *s = cJSON_CreateObject();
	if (!s)
		return -ENOMEM;
	if (!strcmp(path, "-")) {
		cJSON_AddStringToObject(s, "type", "stdout");
	} else {
		cJSON_AddStringToObject(s, "type", "file");
		cJSON_AddStringToObject(s, "path", path);
	}
	cfg->sinks = calloc(1, sizeof(*cfg->sinks));
	int r = cfg->sinks ? 0 : -ENOMEM;
	if (!r) {
		cfg->nsinks = 1;
		r = load_sink(&cfg->sinks[0], s, 0, err, errlen);
	}
	if (!r)
		r = name_sinks(cfg, err, errlen);
	cJSON_Delete(s);
	return r;
}

int sb_config_set_sensors(struct sb_config *cfg, const char *list, char *err, size_t errlen)
{
	char *copy = strdup(list);
	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->nsensors; i++)
		cfg->sensors[i].enabled = false;
	int r = 0;
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		t = sb_trim(t);
		struct sb_sensor_conf *sc = sb_config_sensor(cfg, t);
		if (!sc) {
			char names[256] = "";
			for (size_t i = 0; i < cfg->nsensors; i++) {
				size_t l = strlen(names);
				snprintf(names + l, sizeof(names) - l, "%s%s", i ? ", " : "",
					 cfg->sensors[i].ops->name);
			}
			snprintf(err, errlen, "--sensors: unknown sensor \"%s\" (known: %s)", t,
				 names);
			r = -EINVAL;
			break;
		}
		sc->enabled = true;
	}
	free(copy);
	return r;
}

int sb_config_sensor_set(struct sb_config *cfg, const char *sensor, const char *key,
			 const char *value, char *err, size_t errlen)
{
	struct sb_sensor_conf *sc = sb_config_sensor(cfg, sensor);
	if (!sc)
		return -ENOENT;
	for (const struct sb_cfg_key *k = sc->ops->keys; k && k->name; k++) {
		if (strcmp(k->name, key))
			continue;
		cJSON *v = cJSON_CreateString(value);
		if (!v)
			return -ENOMEM;
		char p[128];
		snprintf(p, sizeof(p), "sensors.%s.%s", sensor, key);
		int r = sb_cfg_parse_value(v, k, sc->cfg, p, err, errlen);
		cJSON_Delete(v);
		return r;
	}
	return -ENOENT;
}
