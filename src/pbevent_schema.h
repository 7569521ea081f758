/* The protobuf codec's view of the schema, shared by its encoder
 * (pbevent.c) and decoder (pbevent_dec.c): field numbers and the process
 * records. */
#ifndef SB_PBEVENT_SCHEMA_H
#define SB_PBEVENT_SCHEMA_H

#include <stdint.h>

#include "sb_event.h"

/* Field numbers: events.proto is the contract, these mirror it. */
enum {
	EV_SEQ = 1,
	EV_RUN = 2,
	EV_TIME = 3,
	EV_HOST = 4,
	EV_SOURCE = 5,
	EV_KIND = 6,
	EV_TARGET = 7,
	EV_SAMPLES = 8,
	EV_EXEC = 9,
	EV_EXIT = 10,
	EV_FORK = 11,
	EV_SYMBOLS = 12,
	EV_FIELDS = 15,
};
enum {
	S_NAME = 1,
	S_LABELS = 2,
	S_TYPE = 3,
	S_VALUE = 4,
	S_BUCKETS = 5,
	S_QUANTILES = 6,
	S_SUM = 7,
	S_COUNT = 8,
	S_COUNT_FLOAT = 9,
	S_NAME_REF = 10,
	S_LABEL_REFS = 11,
	S_INT_VALUE = 12,
};
enum { L_NAME = 1, L_VALUE = 2 };
enum { B_LE = 1, B_COUNT = 2, B_COUNT_FLOAT = 3 };
enum { Q_QUANTILE = 1, Q_VALUE = 2 };
enum { F_KEY = 1, F_INT = 2, F_UINT = 3, F_DOUBLE = 4, F_STR = 5 };

/* The process records: field i of the message is number i + 1. */
struct sb_pb_rec_field {
	const char *key;
	enum sb_ftype type;
};
struct sb_pb_rec {
	const char *kind;
	uint32_t num;
	unsigned n;
	struct sb_pb_rec_field f[8];
};

/* exec, exit, fork */
#define SB_PB_NRECS 3
extern const struct sb_pb_rec sb_pb_recs[SB_PB_NRECS];

#endif
