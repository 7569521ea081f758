/* The Prometheus text parser: good, edge and malformed inputs, every algod
 * quirk, the limits, and chunked (streamed) input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/expfmt/promtext.h"
#include "sb_event.h"
#include "sb_util.h"

static const struct sb_prom_limits lim_default = {
    .body_size = 16 << 20,
    .line_length = 64 << 10,
    .labels = 64,
    .samples = 200000,
};

struct ctx {
	struct sb_prom_parser p;
	struct sb_evb b;
	struct sb_event *ev;
	struct sb_buf out;
	int rc;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	sb_prom_init(&c->p);
	sb_evb_init(&c->b);
	sb_buf_init(&c->out);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	sb_event_unref(c->ev);
	sb_prom_free(&c->p);
	sb_evb_free(&c->b);
	sb_buf_free(&c->out);
	free(c);
	return 0;
}

static void num(struct sb_buf *o, double v)
{
	char t[32];
	sb_buf_add(o, t, sb_fmt_double(t, v));
}

/* One line per sample: "type name{l="v",...} value", histograms and
 * summaries as "type name{...} sum=S count=C [le:count ...]". */
static const char *render(struct ctx *c)
{
	sb_buf_reset(&c->out);
	for (uint32_t i = 0; i < c->ev->nsamples; i++) {
		const struct sb_sample *s = &c->ev->samples[i];
		sb_buf_printf(&c->out, "%s %s", sb_mtype_name(s->type), s->name);
		for (uint16_t l = 0; l < s->nlabels; l++)
			sb_buf_printf(&c->out, "%c%s=\"%s\"", l ? ',' : '{', s->labels[l].name,
				      s->labels[l].value);
		if (s->nlabels)
			sb_buf_addc(&c->out, '}');
		if (s->type == SB_HISTOGRAM || s->type == SB_SUMMARY) {
			sb_buf_adds(&c->out, " sum=");
			num(&c->out, s->sum);
			sb_buf_adds(&c->out, " count=");
			num(&c->out, s->count);
			sb_buf_adds(&c->out, " [");
			for (uint32_t k = 0; k < s->nbuckets; k++) {
				if (k)
					sb_buf_addc(&c->out, ' ');
				num(&c->out, s->buckets[k].le);
				sb_buf_addc(&c->out, ':');
				num(&c->out, s->buckets[k].count);
			}
			sb_buf_addc(&c->out, ']');
		} else {
			sb_buf_addc(&c->out, ' ');
			num(&c->out, s->value);
		}
		sb_buf_addc(&c->out, '\n');
	}
	return sb_buf_cstr(&c->out);
}

/* Parses text fed in chunks of `chunk` bytes (0: all at once). */
static const char *parse_chunked(struct ctx *c, const char *text, size_t len, size_t chunk,
				 const struct sb_prom_limits *lim)
{
	sb_event_unref(c->ev);
	c->ev = NULL;
	sb_evb_begin(&c->b, "test", "metrics");
	sb_prom_begin(&c->p, &c->b, lim ? lim : &lim_default);
	if (!chunk)
		chunk = len ? len : 1;
	for (size_t off = 0; off < len; off += chunk)
		sb_prom_feed(&c->p, text + off, len - off < chunk ? len - off : chunk);
	c->rc = sb_prom_finish(&c->p);
	c->ev = sb_evb_finish(&c->b);
	assert_non_null(c->ev);
	return render(c);
}

static const char *parse(struct ctx *c, const char *text)
{
	return parse_chunked(c, text, strlen(text), 0, NULL);
}

static char *slurp(const char *name, size_t *len)
{
	const char *dir = getenv("SB_FIXTURES");
	char path[512];
	snprintf(path, sizeof(path), "%s/prom/%s", dir ? dir : "fixtures", name);
	struct sb_buf b;
	sb_buf_init(&b);
	ssize_t n = sb_read_file(path, &b, 64 << 20);
	if (n < 0)
		fail_msg("cannot read %s: %s", path, strerror((int)-n));
	*len = (size_t)n;
	sb_buf_cstr(&b);
	return b.data;
}

/* ---- a table of single-purpose inputs ---- */

struct tcase {
	const char *what;
	const char *in;
	const char *want;   /* rendering */
	uint64_t bad;	    /* bad lines */
	uint64_t first_bad; /* its line number */
	const char *reason; /* substring of the first reason */
};

static const struct tcase cases[] = {
    {"untyped sample", "foo 1\n", "untyped foo 1\n"},
    {"no trailing newline", "foo 1", "untyped foo 1\n"},
    {"empty body", "", ""},
    {"only comments and blanks", "# hello\n\n   \n#\n", ""},
    {"empty label set", "foo{} 2\n", "untyped foo 2\n"},
    {"name with colons", "job:rate:sum5m 0.5\n", "untyped job:rate:sum5m 0.5\n"},
    {"label escapes", "foo{a=\"x\\\\y\",b=\"q\\\"r\",c=\"n\\nl\"} 1\n",
     "untyped foo{a=\"x\\y\",b=\"q\"r\",c=\"n\nl\"} 1\n"},
    {"exponents", "a 1.5e+06\nb -2E-3\nc .5\nd 1e3\ne 007\n",
     "untyped a 1500000\nuntyped b -0.002\nuntyped c 0.5\nuntyped d 1000\nuntyped e 7\n"},
    {"NaN and infinities", "a NaN\nb +Inf\nc -Inf\nd Inf\ne nan\n",
     "untyped a NaN\nuntyped b +Inf\nuntyped c -Inf\nuntyped d +Inf\nuntyped e NaN\n"},
    {"big integers go through strtod", "a 12345678901234567\n", "untyped a 12345678901234568\n"},
    {"timestamp kept out of the value", "foo 3 1700000000000\nbar{a=\"b\"} 4 -12\n",
     "untyped foo 3\nuntyped bar{a=\"b\"} 4\n"},
    {"CRLF line ends", "# TYPE foo gauge\r\nfoo{a=\"b\"} 1\r\nbar 2\r\n",
     "gauge foo{a=\"b\"} 1\nuntyped bar 2\n"},
    {"blanks everywhere", "  foo \t{ a = \"1\" , b=\"2\" , } \t 5 \t\n",
     "untyped foo{a=\"1\",b=\"2\"} 5\n"},
    {"type comes from TYPE, not the name",
     "# TYPE foo_total gauge\nfoo_total 1\n"
     "# TYPE bar counter\nbar 2\n",
     "gauge foo_total 1\ncounter bar 2\n"},
    {"TYPE applies to its own name only", "# TYPE foo gauge\nfoo 1\nfoo_bar 2\n",
     "gauge foo 1\nuntyped foo_bar 2\n"},
    {"HELP alone makes an untyped family", "# HELP foo the foo\nfoo 1\n", "untyped foo 1\n"},
    {"untyped _sum and _count stay plain", "foo_sum 1\nfoo_count 2\n",
     "untyped foo_sum 1\nuntyped foo_count 2\n"},
    {"histogram grouped per series",
     "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 3\nh_sum 4.5\nh_count 3\n",
     "histogram h sum=4.5 count=3 [1:1 +Inf:3]\n"},
    {"histogram count from +Inf when _count is missing",
     "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 3\nh_sum 4.5\n",
     "histogram h sum=4.5 count=3 [1:1 +Inf:3]\n"},
    {"histogram series interleaved, labels in any order",
     "# TYPE h histogram\n"
     "h_bucket{a=\"1\",b=\"x\",le=\"1\"} 1\n"
     "h_bucket{le=\"1\",b=\"y\",a=\"1\"} 5\n"
     "h_bucket{b=\"x\",le=\"+Inf\",a=\"1\"} 2\n"
     "h_bucket{a=\"1\",b=\"y\",le=\"+Inf\"} 6\n"
     "h_sum{b=\"y\",a=\"1\"} 60\nh_sum{a=\"1\",b=\"x\"} 20\n"
     "h_count{a=\"1\",b=\"x\"} 2\nh_count{a=\"1\",b=\"y\"} 6\n",
     "histogram h{a=\"1\",b=\"x\"} sum=20 count=2 [1:1 +Inf:2]\n"
     "histogram h{a=\"1\",b=\"y\"} sum=60 count=6 [1:5 +Inf:6]\n"},
    {"summary grouped",
     "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns{quantile=\"0.99\"} 2\n"
     "s_sum 10\ns_count 4\n",
     "summary s sum=10 count=4 [0.5:1 0.99:2]\n"},
    {"summary without quantiles", "# TYPE s summary\ns_sum 1.5\ns_count 3\n",
     "summary s sum=1.5 count=3 []\n"},
    {"family ends at the next family",
     "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\n"
     "# TYPE g gauge\ng 2\n",
     "histogram h sum=0 count=1 [+Inf:1]\ngauge g 2\n"},
    {"a foreign sample ends a histogram family",
     "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nother 2\n",
     "histogram h sum=0 count=1 [+Inf:1]\nuntyped other 2\n"},
    /* algod */
    {"algod: label values with spaces, unescaped",
     "algod_network_connections_dropped_total{reason=\"write err\"} 17\n",
     "untyped algod_network_connections_dropped_total{reason=\"write err\"} 17\n"},
    {"algod: unstable label order is normalised",
     "x{goos=\"linux\",commit=\"da5\",version=\"5.0.0\"} 1\n"
     "x{version=\"5.0.0\",goos=\"linux\",commit=\"da5\"} 1\n",
     "untyped x{commit=\"da5\",goos=\"linux\",version=\"5.0.0\"} 1\n"
     "untyped x{commit=\"da5\",goos=\"linux\",version=\"5.0.0\"} 1\n"},
    {"algod: an unescaped quote inside a value", "x{msg=\"say \"hi\" now\",b=\"2\"} 1\n",
     "untyped x{b=\"2\",msg=\"say \"hi\" now\"} 1\n"},
    {"algod: an unknown escape stays as written", "x{path=\"C:\\dir\\n\"} 1\n",
     "untyped x{path=\"C:\\dir\n\"} 1\n"},
    {"algod: name{} of versions before 3.24", "# TYPE x counter\nx{} 7\n", "counter x 7\n"},
    {"algod: float32 values", "x 3.4028235e+38\n", "untyped x 3.4028235e+38\n"},
    /* OpenMetrics */
    {"OpenMetrics: _created dropped, _total kept", "# TYPE c counter\nc_total 3\nc_created 1.7e9\n",
     "counter c_total 3\n"},
    {"OpenMetrics: exemplar tolerated", "# TYPE c counter\nc_total 3 # {id=\"a\"} 1 2\n",
     "counter c_total 3\n"},
    {"OpenMetrics: # EOF stops the parse", "a 1\n# EOF\nb 2\n", "untyped a 1\n"},
    {"OpenMetrics: float timestamps", "a 1 1700000000.25\n", "untyped a 1\n"},
    /* malformed: skipped, counted, the rest kept */
    {"bad value", "a 1\nb 1x\nc 3\n", "untyped a 1\nuntyped c 3\n", 1, 2, "invalid value \"1x\""},
    {"missing value", "a 1\nb\n", "untyped a 1\n", 1, 2, "no value for b"},
    {"unquoted label value", "a{b=1} 2\nc 3\n", "untyped c 3\n", 1, 1,
     "expected '\"' to open the value of label b"},
    {"unterminated label value", "a{b=\"1} 2\nc 3\n", "untyped c 3\n", 1, 1,
     "unterminated value of label b"},
    {"missing closing brace", "a{b=\"1\"\nc 3\n", "untyped c 3\n", 1, 1, "expected ',' or '}'"},
    {"missing closing brace before the value reads as a value going on", "a{b=\"1\" 2\nc 3\n",
     "untyped c 3\n", 1, 1, "unterminated value of label b"},
    {"no metric name", "{a=\"b\"} 1\nc 3\n", "untyped c 3\n", 1, 1, "invalid metric name"},
    {"bad character in name", "a-b 1\nc 3\n", "untyped c 3\n", 1, 1,
     "invalid character in metric name"},
    {"bad label name", "a{1x=\"b\"} 1\n", "", 1, 1, "invalid label name"},
    {"duplicate label", "a{x=\"1\",y=\"2\",x=\"3\"} 1\nb 2\n", "untyped b 2\n", 1, 1,
     "label x given twice"},
    {"text after timestamp", "a 1 2 3\nb 2\n", "untyped b 2\n", 1, 1, "unexpected text"},
    {"bad timestamp", "a 1 never\n", "", 1, 1, "invalid timestamp"},
    {"hex is not a value", "a 0x10\n", "", 1, 1, "invalid value"},
    {"overflow is not a value", "a 1e999\n", "", 1, 1, "invalid value"},
    {"bucket without le", "# TYPE h histogram\nh_bucket{a=\"1\"} 1\nh_count 1\n",
     "histogram h sum=0 count=1 []\n", 1, 2, "histogram bucket without a le label"},
    {"bad le", "# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", "", 1, 2, "invalid le \"x\""},
    {"quantile missing", "# TYPE s summary\ns 1\n", "", 1, 2,
     "summary quantile without a quantile label"},
    {"unknown type", "# TYPE a wibble\na 1\n", "untyped a 1\n", 1, 1,
     "unknown metric type \"wibble\""},
    {"second TYPE", "# TYPE a gauge\n# TYPE a counter\na 1\n", "gauge a 1\n", 1, 2,
     "second TYPE line for a"},
    {"HELP without a name", "# HELP\na 1\n", "untyped a 1\n", 1, 1, "HELP line without"},
    {"NUL in a label value", "a{b=\"x\0y\"} 1\nc 2\n", "untyped c 2\n", 1, 1, "NUL byte"},
    {"many bad lines: the first is reported", "a 1\nx y z\n\n!!\nb 2\n",
     "untyped a 1\nuntyped b 2\n", 2, 2, "invalid value \"y\""},
};

static void test_table(void **state)
{
	struct ctx *c = *state;
	for (size_t i = 0; i < SB_ARRAY_SIZE(cases); i++) {
		const struct tcase *t = &cases[i];
		/* the NUL case needs its real length */
		size_t len = strlen(t->in);
		if (strstr(t->what, "NUL"))
			len = sizeof("a{b=\"x\0y\"} 1\nc 2\n") - 1;
		const char *got = parse_chunked(c, t->in, len, 0, NULL);
		if (strcmp(got, t->want) || c->p.bad_lines != t->bad || c->rc)
			fail_msg("%s:\n--- want (%llu bad)\n%s--- got (%llu bad: line %llu %s, rc "
				 "%d)\n%s",
				 t->what, (unsigned long long)t->bad, t->want,
				 (unsigned long long)c->p.bad_lines,
				 (unsigned long long)c->p.first_bad, c->p.first_bad_reason, c->rc,
				 got);
		if (t->bad) {
			if (c->p.first_bad != t->first_bad ||
			    !strstr(c->p.first_bad_reason, t->reason))
				fail_msg("%s: first bad line %llu \"%s\", want %llu \"%s\"",
					 t->what, (unsigned long long)c->p.first_bad,
					 c->p.first_bad_reason, (unsigned long long)t->first_bad,
					 t->reason);
		}
	}
}

static void test_every_split_point_gives_the_same_result(void **state)
{
	struct ctx *c = *state;
	for (size_t i = 0; i < SB_ARRAY_SIZE(cases); i++) {
		const char *in = cases[i].in;
		size_t len = strlen(in);
		char *want = strdup(parse_chunked(c, in, len, 0, NULL));
		for (size_t chunk = 1; chunk < len; chunk++) {
			const char *got = parse_chunked(c, in, len, chunk, NULL);
			if (strcmp(got, want))
				fail_msg("%s in chunks of %zu:\n%s\nvs\n%s", cases[i].what, chunk,
					 got, want);
		}
		free(want);
	}
}

static void check_fixture(struct ctx *c, const char *in, const char *want, uint64_t samples)
{
	size_t len, wlen;
	char *text = slurp(in, &len);
	char *expect = slurp(want, &wlen);
	for (size_t chunk = 0; chunk < 200; chunk += 7) {
		const char *got = parse_chunked(c, text, len, chunk, NULL);
		assert_int_equal(c->rc, 0);
		assert_int_equal(c->p.bad_lines, 0);
		assert_int_equal(c->p.samples, samples);
		assert_string_equal(got, expect);
	}
	free(text);
	free(expect);
}

static void test_algod_fixture(void **state)
{
	check_fixture(*state, "algod.txt", "algod-expected.txt", 22);
}

static void test_node_exporter_fixture(void **state)
{
	check_fixture(*state, "node.txt", "node-expected.txt", 28);
}

static void test_openmetrics_fixture(void **state)
{
	check_fixture(*state, "openmetrics.txt", "openmetrics-expected.txt", 7);
}

static void test_help_attached_to_every_sample_of_its_family(void **state)
{
	struct ctx *c = *state;
	parse(c, "# HELP a µs spent \\\\ in \\n two lines\n# TYPE a counter\na{x=\"1\"} 1\n"
		 "a{x=\"2\"} 2\nb 3\n# HELP h hist\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\n");
	assert_int_equal(c->ev->nsamples, 4);
	assert_string_equal(c->ev->samples[0].help, "µs spent \\ in \n two lines");
	assert_string_equal(c->ev->samples[1].help, "µs spent \\ in \n two lines");
	/* stored once for the family */
	assert_ptr_equal(c->ev->samples[0].help, c->ev->samples[1].help);
	assert_null(c->ev->samples[2].help);
	assert_string_equal(c->ev->samples[3].help, "hist");
}

static void test_samples_appended_after_what_the_event_holds(void **state)
{
	struct ctx *c = *state;
	sb_evb_begin(&c->b, "test", "metrics");
	sb_evb_sample(&c->b, "before", SB_GAUGE, 1);
	sb_prom_begin(&c->p, &c->b, &lim_default);
	sb_prom_feed(&c->p, "x 2\n", 4);
	assert_int_equal(sb_prom_finish(&c->p), 0);
	sb_evb_sample(&c->b, "after", SB_GAUGE, 3);
	c->ev = sb_evb_finish(&c->b);
	assert_string_equal(render(c), "gauge before 1\nuntyped x 2\ngauge after 3\n");
}

static void test_line_over_the_limit_fails_the_parse(void **state)
{
	struct ctx *c = *state;
	struct sb_prom_limits l = lim_default;
	l.line_length = 64;
	char text[256];
	snprintf(text, sizeof(text), "a 1\nlong{x=\"%070d\"} 1\nb 2\n", 0);
	for (size_t chunk = 0; chunk < 10; chunk++) {
		parse_chunked(c, text, strlen(text), chunk, &l);
		assert_int_equal(c->rc, -E2BIG);
		if (!strstr(c->p.fatal_reason, "line 2 is longer than 64 bytes"))
			fail_msg("chunk %zu: %s", chunk, c->p.fatal_reason);
		assert_non_null(strstr(c->p.fatal_reason, "limits.line_length"));
	}
}

static void test_last_line_over_the_limit_fails_the_parse(void **state)
{
	struct ctx *c = *state;
	struct sb_prom_limits l = lim_default;
	l.line_length = 64;
	char text[256];
	snprintf(text, sizeof(text), "a 1\nlong{x=\"%070d\"} 1", 0);
	parse_chunked(c, text, strlen(text), 0, &l);
	assert_int_equal(c->rc, -E2BIG);
}

static void test_too_many_labels_fail_the_parse(void **state)
{
	struct ctx *c = *state;
	struct sb_prom_limits l = lim_default;
	l.labels = 2;
	parse_chunked(c, "a{x=\"1\",y=\"2\"} 1\n", 18, 0, &l);
	assert_int_equal(c->rc, 0);
	parse_chunked(c, "a 1\na{x=\"1\",y=\"2\",z=\"3\"} 1\n", 28, 0, &l);
	assert_int_equal(c->rc, -E2BIG);
	assert_string_equal(c->p.fatal_reason, "line 2: more than 2 labels on one sample "
					       "(limits.labels)");
}

static void test_too_many_samples_fail_the_parse(void **state)
{
	struct ctx *c = *state;
	struct sb_prom_limits l = lim_default;
	l.samples = 3;
	parse(c, "a 1\nb 2\nc 3\n");
	parse_chunked(c, "a 1\nb 2\nc 3\n", 12, 0, &l);
	assert_int_equal(c->rc, 0);
	parse_chunked(c, "a 1\nb 2\nc 3\nd 4\n", 16, 0, &l);
	assert_int_equal(c->rc, -E2BIG);
	assert_string_equal(c->p.fatal_reason, "more than 3 samples (limits.samples)");
}

static void test_body_over_the_limit_fails_the_parse(void **state)
{
	struct ctx *c = *state;
	struct sb_prom_limits l = lim_default;
	l.body_size = 1024;
	char *big = malloc(2048);
	for (int i = 0; i < 2048; i += 8)
		memcpy(big + i, "a 12345\n", 8);
	parse_chunked(c, big, 1024, 100, &l);
	assert_int_equal(c->rc, 0);
	parse_chunked(c, big, 1025, 100, &l);
	assert_int_equal(c->rc, -EFBIG);
	assert_string_equal(c->p.fatal_reason, "body larger than 1024 bytes (limits.body_size)");
	free(big);
}

static void test_garbage_gives_no_sample_and_bad_lines(void **state)
{
	struct ctx *c = *state;
	const char *html = "<html><body>\n<h1>502 Bad Gateway</h1>\n</body></html>\n";
	parse(c, html);
	assert_int_equal(c->rc, 0);
	assert_int_equal(c->ev->nsamples, 0);
	assert_int_equal(c->p.samples, 0);
	assert_int_equal(c->p.bad_lines, 3);
	unsigned char bin[512];
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7919 >> 3);
	parse_chunked(c, (const char *)bin, sizeof(bin), 0, NULL);
	assert_int_equal(c->ev->nsamples, 0);
}

static void test_reasons_quote_peer_bytes_safely(void **state)
{
	struct ctx *c = *state;
	parse(c, "a \x1b[31m\x01\n");
	assert_int_equal(c->p.bad_lines, 1);
	assert_null(strchr(c->p.first_bad_reason, '\x1b'));
	assert_non_null(strstr(c->p.first_bad_reason, "\"?[31m?\""));
}

static void test_parser_reuse_resets_state(void **state)
{
	struct ctx *c = *state;
	parse(c, "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nbad line here\n");
	assert_int_equal(c->p.bad_lines, 1);
	/* a new parse starts with no family, no counts */
	assert_string_equal(parse(c, "h 1\n"), "untyped h 1\n");
	assert_int_equal(c->p.bad_lines, 0);
	assert_int_equal(c->p.samples, 1);
	assert_int_equal(c->p.lines, 1);
}

/* Strict mode reads the 0.0.4 format as prometheus/common does (the
 * textfile collector's parser): each input below is fine for the tolerant
 * parser and one bad line for the strict one. */
static void test_strict_refuses_what_prometheus_common_refuses(void **state)
{
	struct ctx *c = *state;
	static const char *const inputs[] = {
	    "x{a=\"q\"q\"} 1\n",       /* a quote inside a value */
	    "# TYPE x info\nx 1\n",    /* an OpenMetrics type */
	    "# TYPE x unknown\nx 1\n", /* ... */
	    "x 1 # {t=\"1\"} 1\n",     /* an exemplar */
	    "x{a=\"\\t\"} 1\n",	       /* an escape other than \\ \" \n */
	    "# HELP x a\\tb\nx 1\n",   /* ... in HELP */
	    "x 1\r\n",		       /* CR */
	    "x 1",		       /* no newline at the end */
	    "x 1 1.5\n",	       /* a timestamp that is not an integer */
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(inputs); i++) {
		parse(c, inputs[i]);
		if (c->p.bad_lines)
			fail_msg("case %zu: tolerant parser refused it: %s", i,
				 c->p.first_bad_reason);
		c->p.strict = true;
		parse(c, inputs[i]);
		c->p.strict = false;
		if (c->p.bad_lines != 1)
			fail_msg("case %zu: strict parser took it", i);
	}
	/* OpenMetrics names are plain samples, "# EOF" a comment */
	c->p.strict = true;
	assert_string_equal(parse(c, "# TYPE x counter\nx_total 1\nx_created 2\n# EOF\ny 3\n"),
			    "untyped x_total 1\nuntyped x_created 2\nuntyped y 3\n");
	/* timestamps are counted, for a caller that refuses them */
	parse(c, "x 1 1700000000000\ny 2 -5\nz 3\n");
	assert_int_equal(c->p.bad_lines, 0);
	assert_int_equal(c->p.timestamps, 2);
	c->p.strict = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_split_point_gives_the_same_result, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_algod_fixture, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_node_exporter_fixture, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_openmetrics_fixture, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_help_attached_to_every_sample_of_its_family, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_samples_appended_after_what_the_event_holds, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_line_over_the_limit_fails_the_parse, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_last_line_over_the_limit_fails_the_parse, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_too_many_labels_fail_the_parse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_many_samples_fail_the_parse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_body_over_the_limit_fails_the_parse, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_gives_no_sample_and_bad_lines, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_reasons_quote_peer_bytes_safely, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_strict_refuses_what_prometheus_common_refuses,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parser_reuse_resets_state, setup, teardown),
	};
	return cmocka_run_group_tests_name("promtext", tests, NULL, NULL);
}
