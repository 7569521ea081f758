/* Configuration: one JSON file, described by declarative key tables.
 *
 * Every sensor and sink declares its keys once (name, type, where the value
 * lives in its config struct, default, description). The same table drives
 * parsing, the unknown-key check, defaults, --check-config output and the
 * key list in --help, so they cannot drift apart. */
#ifndef SB_CONFIG_H
#define SB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cJSON;

enum sb_cfg_type {
	SB_CT_BOOL,	/* bool */
	SB_CT_INT,	/* int64_t */
	SB_CT_DOUBLE,	/* double */
	SB_CT_STR,	/* char *, owned */
	SB_CT_DURATION, /* int64_t nanoseconds; "250ms" */
	SB_CT_SIZE,	/* uint64_t bytes; "64MiB" or a number */
	SB_CT_ENUM,	/* int: index into choices */
	SB_CT_STRLIST,	/* struct sb_strlist */
	SB_CT_OBJ,	/* nested struct at off, keys in sub */
	SB_CT_OBJLIST,	/* struct sb_objlist of elem_size structs, keys in sub */
	SB_CT_STRMAP,	/* struct sb_strmap: an object of string values */
};

/* What a string key holds, beyond its type (flags). */
enum {
	/* A file or directory: absolute (a service's working directory is
	 * anyone's guess) and not empty. */
	SB_CK_PATH = 1 << 0,
	/* A path the sink writes: no two sinks may share it, nor one lie
	 * inside another's. */
	SB_CK_OWNED = 1 << 1,
	/* Where a sink sends its events; named in the start line. */
	SB_CK_TARGET = 1 << 2,
};

struct sb_cfg_key {
	const char *name;
	enum sb_cfg_type type;
	size_t off;
	/* Default in the key's own text form ("1s", "true", "64MiB", a choice,
	 * "a,b" for lists); NULL: zero/empty. */
	const char *def;
	const char *desc;
	const char *const *choices; /* SB_CT_ENUM, NULL-terminated */
	const struct sb_cfg_key *sub;
	size_t elem_size; /* SB_CT_OBJLIST */
	double min, max;  /* numeric bounds, checked when min < max */
	unsigned flags;	  /* SB_CK_* */
};

struct sb_strlist {
	char **v;
	size_t n;
};

struct sb_objlist {
	void *v;
	size_t n;
};

struct sb_strmap {
	char **k;
	char **v;
	size_t n;
};

/* Parses obj (may be NULL: all defaults) into dst using the NULL-terminated
 * key tables (several tables may share one object: common + specific).
 * On error writes "path.key: reason" to err and returns -EINVAL. */
int sb_cfg_parse(const struct cJSON *obj, const char *path, const struct sb_cfg_key *const *tables,
		 void *const *dsts, size_t ntables, char *err, size_t errlen);
void sb_cfg_free(const struct sb_cfg_key *keys, void *dst);
/* Adds every key of the tables with its effective value to obj. */
void sb_cfg_dump(struct cJSON *obj, const struct sb_cfg_key *keys, const void *src);

/* After cJSON refused text: where (a byte offset) and what is wrong, e.g.
 * "expected ':' after the key, found '1'". false: no reason found. */
bool sb_cfg_json_error(const char *text, size_t *at, char *what, size_t n);
/* 1-based line and column (in characters) of a byte offset. */
void sb_cfg_line_col(const char *text, size_t off, int *line, int *col);

/* ---- the agent's config ---- */

struct sb_sensor_ops;
struct sb_sink_ops;

struct sb_sensor_common {
	int64_t interval; /* 0: the global interval */
};

enum sb_full_policy { SB_FULL_BLOCK, SB_FULL_DROP_OLDEST };
enum sb_shard_by { SB_SHARD_SOURCE, SB_SHARD_SEQ };

struct sb_retry_conf {
	int64_t base;
	int64_t max_delay;
	int64_t max_attempts; /* 0: until delivered or shut down */
};

struct sb_sink_common {
	char *type;
	char *name;
	int64_t queue_events;
	uint64_t queue_bytes;
	int full; /* enum sb_full_policy */
	int64_t block_timeout;
	int64_t batch;
	int64_t flush_interval;
	int64_t workers;
	int shard_by; /* enum sb_shard_by */
	struct sb_retry_conf retry;
	int64_t shutdown_grace;
};

struct sb_sensor_conf {
	const struct sb_sensor_ops *ops;
	bool enabled;
	bool present; /* a section was in the file */
	struct sb_sensor_common common;
	void *cfg;
};

struct sb_sink_conf {
	const struct sb_sink_ops *ops;
	struct sb_sink_common common;
	void *cfg;
};

struct sb_config {
	int64_t interval;
	char *host;
	int log_level;			/* enum sb_log_level */
	char *user;			/* run as this user once set up; "": stay */
	struct sb_sensor_conf *sensors; /* one per registered sensor, in table order */
	size_t nsensors;
	struct sb_sink_conf *sinks;
	size_t nsinks;
};

extern const struct sb_cfg_key sb_config_top_keys[];
/* The sensors a config without a `sensors` section runs. */
#define SB_DEFAULT_SENSORS "proc,bpf,agent"

extern const struct sb_cfg_key sb_sink_common_keys[];
extern const struct sb_cfg_key sb_sensor_common_keys[];

/* Across sinks: no two write one path (SB_CK_OWNED keys). */
int sb_config_check_sinks(const struct sb_config *cfg, char *err, size_t errlen);
/* Makes a sink's values agree (batch at most queue_events), warning once
 * for each change. */
void sb_config_adjust_sink(struct sb_sink_conf *sk, size_t idx);

/* text: the file's contents, or NULL for the built-in defaults. */
int sb_config_load(struct sb_config *cfg, const char *text, const char *origin, char *err,
		   size_t errlen);
void sb_config_free(struct sb_config *cfg);
struct sb_sensor_conf *sb_config_sensor(struct sb_config *cfg, const char *name);
/* Replaces the sinks with one file sink at path ("-" for stdout). */
int sb_config_set_output(struct sb_config *cfg, const char *path, char *err, size_t errlen);
/* Enables exactly the named sensors (comma-separated). */
int sb_config_set_sensors(struct sb_config *cfg, const char *list, char *err, size_t errlen);
/* Sets a key of a sensor's config from text, as if written in the file. */
int sb_config_sensor_set(struct sb_config *cfg, const char *sensor, const char *key,
			 const char *value, char *err, size_t errlen);
/* Every key of the top level, each sensor and each sink as markdown
 * tables (for docs/config.md; e2e 03 keeps it in sync). */
void sb_config_describe(FILE *out);
/* The effective config as pretty JSON; caller frees. Secrets are masked:
 * URL passwords and secret-like query values as "***", secret-like header
 * values as "<redacted>"; loading a masked value back is an error. */
char *sb_config_dump(const struct sb_config *cfg);
/* url with its password (bare: its whole user info) and the values of
 * secret-like query parameters masked; other text is copied as is. */
void sb_cfg_redact_url(const char *url, bool bare, char *out, size_t n);
/* NULL, or why value is a mask sb_config_dump printed in place of a secret
 * (secret: the key holds secrets, where "<redacted>" counts too). */
const char *sb_cfg_masked(const char *value, bool secret);
/* "TYPE TARGET" (e.g. "file /var/log/x.jsonl", "prom 127.0.0.1:9847",
 * "stdout"), as "NAME (TYPE TARGET)" when the sink has a name of its own;
 * URLs without their user info. */
void sb_config_sink_describe(const struct sb_sink_conf *sk, char *out, size_t n);

#endif
