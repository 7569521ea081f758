/* Events: what sensors publish and sinks deliver.
 *
 * An event is immutable once built and lives in one allocation: the struct,
 * its arrays and every string it points to. Sinks share it by reference count,
 * so fan-out to N sinks costs N pointer copies, not N copies of the data.
 *
 * Events are made with a builder (struct sb_evb) that a sensor keeps and
 * reuses: appending samples, labels and fields grows the builder's own
 * vectors, and sb_evb_finish() makes the event with a single malloc. No
 * allocation happens per sample once the builder has warmed up. */
#ifndef SB_EVENT_H
#define SB_EVENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sb_util.h"

enum sb_mtype {
	SB_UNTYPED = 0,
	SB_GAUGE,
	SB_COUNTER,
	SB_HISTOGRAM,
	SB_SUMMARY,
};

const char *sb_mtype_name(enum sb_mtype t);

/* One string of an event's symbol table: each distinct sample name, label
 * name and label value of the event, once (the builder interns them), with
 * its length (up to its first NUL, as everywhere else) and whether it is
 * valid UTF-8: a codec needs no strlen, scan or lookup per encode. */
struct sb_sym {
	const char *s;
	uint32_t len;
	uint32_t utf8; /* 1: valid UTF-8 */
};

struct sb_label {
	const char *name;
	const char *value;
	uint32_t name_sym, value_sym; /* indices into the event's syms */
};

/* A histogram bucket (upper bound le, cumulative count) or, for a summary,
 * a quantile (le holds the quantile, value in `value`). */
struct sb_bucket {
	double le;
	double count;
};

struct sb_sample {
	const char *name;
	const struct sb_label *labels;	 /* sorted by name (sb_evb_finish sorts them) */
	const struct sb_bucket *buckets; /* histogram buckets or summary quantiles */
	double value;			 /* plain value; histogram/summary: unused */
	double sum;			 /* histogram/summary */
	double count;			 /* histogram/summary */
	uint16_t nlabels;
	uint16_t type; /* enum sb_mtype */
	uint32_t nbuckets;
	const char *help;  /* may be NULL; shared HELP text for the family */
	uint32_t name_sym; /* name's index into the event's syms */
};

enum sb_ftype { SB_F_INT, SB_F_UINT, SB_F_DOUBLE, SB_F_STR };

/* Top-level fields of non-metric events (exec/exit: pid, comm, ...). */
struct sb_field {
	const char *key;
	uint32_t type; /* enum sb_ftype */
	uint32_t len;  /* SB_F_STR: byte length (strings may hold NULs) */
	union {
		int64_t i;
		uint64_t u;
		double d;
		const char *s;
	} v;
};

struct sb_event {
	atomic_uint refs;
	uint32_t nsamples;
	uint32_t nfields;
	uint32_t size;	 /* bytes of the allocation, for queue accounting */
	uint64_t seq;	 /* set by the bus when published */
	int64_t time_ns; /* CLOCK_REALTIME at collection */
	const char *source;
	const char *kind;
	const struct sb_sample *samples;
	const struct sb_field *fields;
	const struct sb_sym *syms; /* nsyms of them, in order of first use */
	uint32_t nsyms;
	/* Events with the same non-zero symver have the same symbol table
	 * (one builder's consecutive events that interned the same strings
	 * in the same order): a sink that kept the last table need not
	 * compare it again. 0: not known. */
	uint64_t symver;
	/* A foreign origin's identity (an event another agent sent, taken off
	 * a queue by the amqp sensor): written instead of this run's seq, run
	 * and host, so a consumer's sinks pass the event on unchanged. seq
	 * stays the bus's own numbering. 0/NULL for local events. */
	uint64_t oseq;
	const char *orun, *ohost;
	/* the rest of the allocation: arrays and strings */
};

static inline struct sb_event *sb_event_ref(struct sb_event *ev)
{
	atomic_fetch_add_explicit(&ev->refs, 1, memory_order_relaxed);
	return ev;
}
void sb_event_unref(struct sb_event *ev);

/* The seq, run and host an encoder writes: the origin's when the event
 * came from another agent, else the bus's seq and the writer's own. */
static inline uint64_t sb_event_seq(const struct sb_event *ev)
{
	return ev->orun ? ev->oseq : ev->seq;
}
static inline const char *sb_event_run(const struct sb_event *ev, const char *local)
{
	return ev->orun ? ev->orun : local;
}
static inline const char *sb_event_host(const struct sb_event *ev, const char *local)
{
	return ev->ohost ? ev->ohost : local;
}

/* Lookups for tests and sinks. NULL when absent. */
const struct sb_field *sb_event_field(const struct sb_event *ev, const char *key);
const char *sb_sample_label(const struct sb_sample *s, const char *name);

/* ---- builder ---- */

struct sb_evb_sample; /* private */
struct sb_evb_label;
struct sb_evb_field;
struct sb_evb_ent;

/* Which dictionary entry the k-th string of the last event was: a
 * sensor's rounds give the same strings in the same order. And where it
 * was, when that was in the program's read-only image (sb_rodata.h): the
 * same address there again is the same string, found without a compare. */
struct sb_evb_memo_slot {
	const char *ro; /* NULL: not in the image */
	uint32_t ent;
};
struct sb_evb_memo {
	struct sb_evb_memo_slot *slot;
	size_t n, cap, pos;
};

struct sb_evb {
	int err; /* first error; sticky until begin */
	int64_t time_ns;
	size_t source, kind; /* offsets into str */
	struct sb_buf str;   /* all strings, NUL-terminated, by offset */
	struct sb_evb_sample *samples;
	size_t nsamples, capsamples;
	struct sb_evb_label *labels;
	size_t nlabels, caplabels;
	struct sb_bucket *buckets;
	size_t nbuckets, capbuckets;
	struct sb_evb_field *fields;
	size_t nfields, capfields;
	uint32_t *syms; /* the event's symbols so far: their entries in ents */
	size_t nsyms, capsyms;
	uint32_t *helps; /* the event's help texts: their entries in ents */
	size_t nhelps, caphelps;
	size_t symbytes, helpbytes; /* their bytes with the NULs */
	/* The strings of past events (names, label values, help texts), kept
	 * from event to event so that a round's strings are found, not hashed
	 * and copied again; dropped when it outgrows what events use. */
	struct sb_evb_ent *ents;
	size_t nents, capents;
	struct sb_buf dstr;		 /* their bytes, NUL-terminated, by offset */
	uint32_t *dtab;			 /* open addressing over ents: index + 1, 0 empty */
	size_t dcap;			 /* slots, a power of two (or 0) */
	uint32_t epoch;			 /* this event's number, for ents' per-event marks */
	size_t used;			 /* entries this event took */
	struct sb_evb_memo smemo, hmemo; /* symbols; help texts */
	bool origin;			 /* sb_evb_origin was called for this event */
	/* the symbol table's version (sb_event.symver): kept while events
	 * intern the strings of the last one in its order, with no miss */
	uint64_t symver;
	size_t last_interns, last_nsyms;
	bool diverged, began, unfinished;
	size_t orun, ohost;
	uint64_t oseq;
};

void sb_evb_init(struct sb_evb *b);
void sb_evb_free(struct sb_evb *b);
/* Starts a new event; time is now unless set with sb_evb_time. */
void sb_evb_begin(struct sb_evb *b, const char *source, const char *kind);
void sb_evb_time(struct sb_evb *b, int64_t real_ns);
/* The event is another agent's: its seq, run and host (see oseq). */
void sb_evb_origin(struct sb_evb *b, const char *host, const char *run, uint64_t seq);
/* Starts a sample; following label/bucket calls attach to it. A length
 * may be SB_EVB_NUL (below). */
void sb_evb_samplen(struct sb_evb *b, const char *name, size_t namelen, enum sb_mtype type,
		    double value);
void sb_evb_help(struct sb_evb *b, const char *help);
void sb_evb_labeln(struct sb_evb *b, const char *name, size_t nlen, const char *value, size_t vlen);
/* The length of a string up to its NUL, measured by the builder only when
 * its memo does not know the string by its address (see sb_rodata.h). */
#define SB_EVB_NUL SIZE_MAX
/* A literal's length is the compiler's; another string's, SB_EVB_NUL. */
#define sb_evb_len_(s) (__builtin_constant_p(strlen(s)) ? strlen(s) : SB_EVB_NUL)
static inline void sb_evb_sample(struct sb_evb *b, const char *name, enum sb_mtype type,
				 double value)
{
	sb_evb_samplen(b, name, sb_evb_len_(name), type, value);
}
static inline void sb_evb_label(struct sb_evb *b, const char *name, const char *value)
{
	sb_evb_labeln(b, name, sb_evb_len_(name), value, sb_evb_len_(value));
}
void sb_evb_bucket(struct sb_evb *b, double le, double count);
void sb_evb_sumcount(struct sb_evb *b, double sum, double count);
void sb_evb_field_int(struct sb_evb *b, const char *key, int64_t v);
void sb_evb_field_uint(struct sb_evb *b, const char *key, uint64_t v);
void sb_evb_field_double(struct sb_evb *b, const char *key, double v);
void sb_evb_field_str(struct sb_evb *b, const char *key, const char *v, size_t len);
size_t sb_evb_nsamples(const struct sb_evb *b);
/* Builds the event (refs = 1) or returns NULL and leaves -errno in b->err.
 * An event with no samples and no fields is still an event. */
struct sb_event *sb_evb_finish(struct sb_evb *b);

#endif
