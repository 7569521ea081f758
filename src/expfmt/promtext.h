/* Prometheus text exposition (format 0.0.4, OpenMetrics tolerated) parsed
 * straight into an event builder.
 *
 * The parser is fed the body in whatever chunks the network delivers:
 * complete lines are parsed where they lie in the chunk, only a line split
 * across chunks is copied. Samples go to the builder as they are read;
 * histogram and summary series are held until their family ends, so the
 * event gets one SB_HISTOGRAM / SB_SUMMARY sample per series whatever order
 * the exporter wrote the lines in. Every buffer is the parser's and is
 * reused, so a warmed-up parser allocates nothing per sample.
 *
 * A bad line is skipped and counted (the first reason and line number are
 * kept); exceeding a limit is fatal: the parse stops with the reason. */
#ifndef SB_PROMTEXT_H
#define SB_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sb_config.h"
#include "sb_event.h"
#include "sb_util.h"

struct sb_prom_limits {
	uint64_t body_size; /* bytes of (decoded) body; checked by sb_prom_feed */
	uint64_t line_length;
	int64_t labels;	 /* per sample */
	int64_t samples; /* sample lines per scrape */
};

/* The config keys of struct sb_prom_limits, for a sensor's "limits" object. */
extern const struct sb_cfg_key sb_prom_limit_keys[];

struct sb_prom_label {
	const char *name, *value;
	size_t nlen, vlen;
};

/* A histogram/summary series waiting for its family to end. */
struct sb_prom_series {
	size_t key, keylen; /* its sorted labels, "name\0value\0..." in gkeys */
	double sum, count;
	uint32_t nbuckets;
	bool has_count;
};

struct sb_prom_bucket {
	uint32_t series;
	double le, value;
};

struct sb_prom_parser {
	/* results of the current parse */
	uint64_t lines;	    /* lines read */
	uint64_t samples;   /* sample lines accepted */
	uint64_t bad_lines; /* skipped */
	uint64_t bytes;	    /* body bytes fed */
	uint64_t first_bad; /* line number of the first bad line */
	char first_bad_reason[160];
	int fatal; /* 0, or -E2BIG (a limit), -ENOMEM */
	char fatal_reason[160];
	bool eof;	     /* "# EOF" seen */
	uint64_t timestamps; /* sample lines that carried a timestamp (dropped) */

	/* Set before sb_prom_begin: read the 0.0.4 text format as strictly as
	 * prometheus/common's TextParser (node_exporter's textfile collector)
	 * does: no OpenMetrics types, suffixes, exemplars or "# EOF", no CR,
	 * only the \\ \" \n escapes, no unescaped quote in a label value,
	 * integer timestamps, and a last line ended by a newline. Each of those
	 * is a bad line. */
	bool strict;

	/* private */
	struct sb_evb *b;
	struct sb_prom_limits lim;
	struct sb_buf carry;   /* a line split across chunks */
	struct sb_buf fam;     /* current family name (NUL-terminated) */
	struct sb_buf help;    /* its unescaped HELP text */
	struct sb_buf scratch; /* unescaped label values of the current line */
	int ftype;	       /* enum fam_type */
	bool fam_typed, fam_helped;
	struct sb_prom_label *lab;
	size_t caplab;
	struct sb_buf gkeys;
	struct sb_prom_series *ser;
	size_t nser, capser, last_ser;
	struct sb_prom_bucket *bkt, *bkt_tmp;
	size_t nbkt, capbkt, capbkt_tmp;
};

void sb_prom_init(struct sb_prom_parser *p);
void sb_prom_free(struct sb_prom_parser *p);
/* Starts a parse appending samples to b (whose event the caller began). */
void sb_prom_begin(struct sb_prom_parser *p, struct sb_evb *b, const struct sb_prom_limits *lim);
/* Feeds the next bytes of the body. 0, or p->fatal once a limit is hit. */
int sb_prom_feed(struct sb_prom_parser *p, const char *data, size_t len);
/* Parses what is left and flushes the last family. 0 or p->fatal. */
int sb_prom_finish(struct sb_prom_parser *p);
/* begin + feed + finish over one buffer. */
int sb_prom_parse(struct sb_prom_parser *p, struct sb_evb *b, const struct sb_prom_limits *lim,
		  const char *data, size_t len);

#endif
