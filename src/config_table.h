/* What config.c shares with the key-table engine (config_table.c). */
#ifndef SB_CONFIG_TABLE_H
#define SB_CONFIG_TABLE_H

#include <stddef.h>

#include "sb_util.h"

struct cJSON;

#define FIELD(base, off, type) ((type *)((char *)(base) + (off)))

/* Writes "path.key: reason" to err; returns -EINVAL. */
int sb_cfg_fail(char *err, size_t errlen, const char *path, const char *key, const char *fmt, ...)
    SB_PRINTF(5, 6);
struct sb_cfg_key;
/* Parses one value v of key k into dst; path names it in errors. */
int sb_cfg_parse_value(const struct cJSON *v, const struct sb_cfg_key *k, void *dst,
		       const char *path, char *err, size_t errlen);
/* "a string", "an object", ... for error messages. */
const char *sb_cfg_json_type(const struct cJSON *v);

#endif
