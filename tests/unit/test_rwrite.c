/* Remote write: events become the series Prometheus would have scraped
 * (sorted labels, job and instance, histograms and summaries as their
 * _bucket/_sum/_count series, values bit for bit, no stale markers), and
 * the body is snappy's block format, as python3-snappy reads it. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../src/sinks/rwrite.h"
#include "sb_pbevent.h"
#include "sb_pbwire.h"

#define T0_NS 1764000000123456789LL /* 1764000000123 ms */

/* A WriteRequest read back: series as "name{a=\"1\",b=\"2\"} value@ms". */
struct got {
	char line[64][512];
	double value[64];
	int64_t ms[64];
	size_t n;
};

static void read_labels(const unsigned char *p, size_t n, char *out, size_t outn)
{
	struct sb_pb_rd r;
	struct sb_pb_field f;
	sb_pb_rd_init(&r, p, n, 0);
	char name[128] = "", value[256] = "";
	while (sb_pb_read_field(&r, &f) == 1) {
		assert_int_equal(f.wt, SB_PB_LEN);
		if (f.num == 1)
			snprintf(name, sizeof(name), "%.*s", (int)f.n, f.p);
		else
			snprintf(value, sizeof(value), "%.*s", (int)f.n, f.p);
	}
	size_t l = strlen(out);
	snprintf(out + l, outn - l, "%s%s=\"%s\"", l ? "," : "", name, value);
}

static void parse(const struct sb_buf *req, struct got *g)
{
	struct sb_pb_rd r;
	struct sb_pb_field f;
	memset(g, 0, sizeof(*g));
	sb_pb_rd_init(&r, req->data, req->len, 0);
	int rc;
	while ((rc = sb_pb_read_field(&r, &f)) == 1) {
		assert_int_equal(f.num, 1);
		assert_true(g->n < 64);
		struct sb_pb_rd ts;
		struct sb_pb_field tf;
		sb_pb_rd_init(&ts, f.p, f.n, 0);
		char *line = g->line[g->n];
		int nsamples = 0;
		while (sb_pb_read_field(&ts, &tf) == 1) {
			if (tf.num == 1) {
				read_labels(tf.p, tf.n, line, sizeof(g->line[0]));
				continue;
			}
			assert_int_equal(tf.num, 2);
			nsamples++;
			struct sb_pb_rd sr;
			struct sb_pb_field sf;
			sb_pb_rd_init(&sr, tf.p, tf.n, 0);
			while (sb_pb_read_field(&sr, &sf) == 1) {
				if (sf.num == 1)
					g->value[g->n] = sb_pb_bits_double(sf.u);
				else
					g->ms[g->n] = (int64_t)sf.u;
			}
		}
		assert_int_equal(nsamples, 1);
		g->n++;
	}
	assert_int_equal(rc, 0);
}

static struct sb_event *event(void (*fill)(struct sb_evb *b))
{
	struct sb_evb b;
	sb_evb_init(&b);
	sb_evb_begin(&b, "proc", "metrics");
	sb_evb_time(&b, T0_NS);
	fill(&b);
	struct sb_event *ev = sb_evb_finish(&b);
	assert_non_null(ev);
	sb_evb_free(&b);
	return ev;
}

static const struct sb_rw_label ext[] = {
    {"cluster", "eu1", 7, 3, 0},
    {"zone", "b", 4, 1, 0},
};

static void encode_all(struct sb_rw_conv *c, const struct sb_event *ev, struct got *g)
{
	struct sb_buf req;
	sb_buf_init(&req);
	uint32_t at = 0;
	size_t n = 0;
	assert_int_equal(sb_rw_encode(c, &req, ev, "node-7", &at, &n, 1000), 0);
	assert_int_equal(at, ev->nsamples);
	parse(&req, g);
	sb_buf_free(&req);
}

static void fill_cpu(struct sb_evb *b)
{
	sb_evb_sample(b, "node_cpu_seconds_total", SB_COUNTER, 3018.54);
	sb_evb_label(b, "mode", "user");
	sb_evb_label(b, "cpu", "0");
	sb_evb_sample(b, "node_load1", SB_GAUGE, 0.21);
}

static void labels_are_sorted_with_job_instance_and_external(void **state)
{
	(void)state;
	struct sb_rw_conv c = {.job = "sensorbus", .ext = ext, .next = 2};
	struct sb_event *ev = event(fill_cpu);
	struct got g;
	encode_all(&c, ev, &g);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.line[0], "__name__=\"node_cpu_seconds_total\",cluster=\"eu1\","
				       "cpu=\"0\",instance=\"node-7\",job=\"sensorbus\","
				       "mode=\"user\",zone=\"b\"");
	assert_string_equal(g.line[1], "__name__=\"node_load1\",cluster=\"eu1\","
				       "instance=\"node-7\",job=\"sensorbus\",zone=\"b\"");
	assert_true(g.value[0] == 3018.54);
	assert_int_equal(g.ms[0], 1764000000123LL);
	assert_int_equal(g.ms[1], 1764000000123LL);
	sb_event_unref(ev);
	sb_rw_conv_free(&c);
}

static void fill_own_job(struct sb_evb *b)
{
	sb_evb_sample(b, "up", SB_GAUGE, 1);
	sb_evb_label(b, "job", "algod");
	sb_evb_label(b, "zone", "a");
	sb_evb_label(b, "empty", "");
	sb_evb_label(b, "comm", "bad\xff");
}

static void sample_labels_win_and_empty_values_go(void **state)
{
	(void)state;
	struct sb_rw_conv c = {
	    .job = "sensorbus", .instance = "10.0.0.7:9100", .ext = ext, .next = 2};
	struct sb_event *ev = event(fill_own_job);
	struct got g;
	encode_all(&c, ev, &g);
	assert_int_equal(g.n, 1);
	/* job: the sample's; zone: the sample's over the external label;
	 * empty: left out; invalid UTF-8: U+FFFD as in the JSON writer */
	assert_string_equal(g.line[0], "__name__=\"up\",cluster=\"eu1\",comm=\"bad\xef\xbf\xbd\","
				       "instance=\"10.0.0.7:9100\",job=\"algod\",zone=\"a\"");
	sb_event_unref(ev);
	sb_rw_conv_free(&c);
}

/* The sink sends events as it reads them back from the protobuf spool. */
static struct sb_event *through_spool(struct sb_pbdec *d, const struct sb_event *ev)
{
	struct sb_codec_ctx ctx = {.run = "r1", .host = "node-7"};
	struct sb_buf body;
	sb_buf_init(&body);
	sb_pb_event(&body, &ctx, ev);
	struct sb_event *out = NULL;
	assert_int_equal(sb_pbdec_event(d, body.data, body.len, 0, &out), 0);
	sb_buf_free(&body);
	return out;
}

static void fill_exporter(struct sb_evb *b)
{
	sb_evb_field_str(b, "target", "node", 4);
	sb_evb_sample(b, "process_cpu_seconds_total", SB_COUNTER, 12.5);
	sb_evb_sample(b, "up", SB_GAUGE, 1);
	sb_evb_label(b, "target", "node");
	sb_evb_sample(b, "federated", SB_GAUGE, 2);
	sb_evb_label(b, "target", "upstream");
}

static void fill_agent(struct sb_evb *b)
{
	sb_evb_sample(b, "process_cpu_seconds_total", SB_COUNTER, 0.4);
}

/* node_exporter's own process_* scraped by the scrape sensor and the
 * agent's process_* from the agent sensor, in the same millisecond: two
 * series (Prometheus refused the second as "duplicate sample for
 * timestamp" when they were one). A sample's own target label wins. */
static void scraped_series_carry_their_target(void **state)
{
	(void)state;
	struct sb_rw_conv c = {.job = "sensorbus"};
	struct sb_pbdec d;
	sb_pbdec_init(&d);
	struct sb_event *scraped = event(fill_exporter), *agent = event(fill_agent);
	struct sb_event *s2 = through_spool(&d, scraped);
	struct got g;
	encode_all(&c, s2, &g);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.line[0], "__name__=\"process_cpu_seconds_total\",instance=\"node-7\","
				       "job=\"sensorbus\",target=\"node\"");
	assert_string_equal(
	    g.line[1], "__name__=\"up\",instance=\"node-7\",job=\"sensorbus\",target=\"node\"");
	assert_string_equal(g.line[2], "__name__=\"federated\",instance=\"node-7\","
				       "job=\"sensorbus\",target=\"upstream\"");
	int64_t ms = g.ms[0];
	struct sb_event *a2 = through_spool(&d, agent);
	encode_all(&c, a2, &g);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.line[0], "__name__=\"process_cpu_seconds_total\",instance=\"node-7\","
				       "job=\"sensorbus\"");
	assert_int_equal(g.ms[0], ms);
	sb_event_unref(s2);
	sb_event_unref(a2);
	sb_event_unref(scraped);
	sb_event_unref(agent);
	sb_pbdec_free(&d);
	sb_rw_conv_free(&c);
}

static void fill_hist(struct sb_evb *b)
{
	sb_evb_sample(b, "sensorbus_sched_runqueue_latency_seconds", SB_HISTOGRAM, 0);
	sb_evb_bucket(b, 1e-05, 1);
	sb_evb_bucket(b, 0.001, 3);
	sb_evb_bucket(b, INFINITY, 5);
	sb_evb_sumcount(b, 0.0042, 5);
	sb_evb_sample(b, "rpc_seconds", SB_SUMMARY, 0);
	sb_evb_label(b, "op", "get");
	sb_evb_bucket(b, 0.5, 0.01);
	sb_evb_bucket(b, 0.99, 0.2);
	sb_evb_sumcount(b, 7.5, 300);
}

static void histograms_and_summaries_explode(void **state)
{
	(void)state;
	struct sb_rw_conv c = {.job = "j"};
	struct sb_event *ev = event(fill_hist);
	struct got g;
	encode_all(&c, ev, &g);
	assert_int_equal(g.n, 9);
	const char *h = "sensorbus_sched_runqueue_latency_seconds";
	char want[256];
	snprintf(want, sizeof(want),
		 "__name__=\"%s_bucket\",instance=\"node-7\",job=\"j\",le=\"1e-05\"", h);
	assert_string_equal(g.line[0], want);
	assert_true(g.value[0] == 1);
	snprintf(want, sizeof(want),
		 "__name__=\"%s_bucket\",instance=\"node-7\",job=\"j\",le=\"0.001\"", h);
	assert_string_equal(g.line[1], want);
	snprintf(want, sizeof(want),
		 "__name__=\"%s_bucket\",instance=\"node-7\",job=\"j\",le=\"+Inf\"", h);
	assert_string_equal(g.line[2], want);
	assert_true(g.value[2] == 5);
	snprintf(want, sizeof(want), "__name__=\"%s_sum\",instance=\"node-7\",job=\"j\"", h);
	assert_string_equal(g.line[3], want);
	assert_true(g.value[3] == 0.0042);
	snprintf(want, sizeof(want), "__name__=\"%s_count\",instance=\"node-7\",job=\"j\"", h);
	assert_string_equal(g.line[4], want);
	assert_string_equal(g.line[5],
			    "__name__=\"rpc_seconds\",instance=\"node-7\",job=\"j\",op=\"get\","
			    "quantile=\"0.5\"");
	assert_true(g.value[5] == 0.01);
	assert_string_equal(g.line[6],
			    "__name__=\"rpc_seconds\",instance=\"node-7\",job=\"j\",op=\"get\","
			    "quantile=\"0.99\"");
	assert_string_equal(
	    g.line[7], "__name__=\"rpc_seconds_sum\",instance=\"node-7\",job=\"j\",op=\"get\"");
	assert_string_equal(
	    g.line[8], "__name__=\"rpc_seconds_count\",instance=\"node-7\",job=\"j\",op=\"get\"");
	assert_true(g.value[8] == 300);
	sb_event_unref(ev);
	sb_rw_conv_free(&c);
}

static double from_bits(uint64_t u) { return sb_pb_bits_double(u); }

static void fill_special(struct sb_evb *b)
{
	sb_evb_sample(b, "a_nan", SB_GAUGE, NAN);
	sb_evb_sample(b, "b_pinf", SB_GAUGE, INFINITY);
	sb_evb_sample(b, "c_stale", SB_GAUGE, from_bits(SB_RW_STALE_NAN));
	sb_evb_sample(b, "d_minf", SB_GAUGE, -INFINITY);
	sb_evb_sample(b, "e_negzero", SB_GAUGE, -0.0);
}

static void nan_and_inf_pass_stale_markers_do_not(void **state)
{
	(void)state;
	struct sb_rw_conv c = {.job = "j"};
	struct sb_event *ev = event(fill_special);
	struct got g;
	encode_all(&c, ev, &g);
	assert_int_equal(g.n, 4);
	assert_true(isnan(g.value[0]));
	assert_true(sb_pb_double_bits(g.value[0]) != SB_RW_STALE_NAN);
	assert_true(isinf(g.value[1]) && g.value[1] > 0);
	assert_true(strstr(g.line[2], "d_minf") && isinf(g.value[2]) && g.value[2] < 0);
	assert_true(g.value[3] == 0 && signbit(g.value[3]));
	assert_int_equal(c.stale, 1);
	sb_event_unref(ev);
	sb_rw_conv_free(&c);
}

static void fill_many(struct sb_evb *b)
{
	for (int i = 0; i < 5; i++)
		sb_evb_sample(b, "m", SB_GAUGE, i);
	sb_evb_sample(b, "h", SB_HISTOGRAM, 0);
	sb_evb_bucket(b, 1, 1);
	sb_evb_bucket(b, INFINITY, 2);
	sb_evb_sumcount(b, 1, 2);
}

static void requests_split_at_max_samples_and_resume(void **state)
{
	(void)state;
	struct sb_rw_conv c = {.job = "j"};
	struct sb_event *ev = event(fill_many);
	struct sb_buf req;
	sb_buf_init(&req);
	uint32_t at = 0;
	size_t n = 0;
	assert_int_equal(sb_rw_encode(&c, &req, ev, "h", &at, &n, 3), 0);
	assert_int_equal(at, 3);
	assert_int_equal(n, 3);
	n = 0;
	sb_buf_reset(&req);
	assert_int_equal(sb_rw_encode(&c, &req, ev, "h", &at, &n, 3), 0);
	/* two plain samples, then the histogram whole: 6 samples, past max */
	assert_int_equal(at, 6);
	assert_int_equal(n, 2 + 4);
	struct got g;
	parse(&req, &g);
	assert_int_equal(g.n, 6);
	sb_buf_free(&req);
	sb_event_unref(ev);
	sb_rw_conv_free(&c);
}

/* python3-snappy (Debian's, beside the system python) decompresses the
 * body and prints its bytes in hex: they must be the request's. */
static void snappy_body_decodes_with_python_snappy(void **state)
{
	(void)state;
	const char *py = "/usr/bin/python3";
	if (access(py, X_OK) || system("/usr/bin/python3 -c 'import snappy' 2>/dev/null")) {
		printf("SKIP: python3-snappy is not installed\n");
		skip();
	}
	struct sb_rw_conv c = {.job = "sensorbus", .ext = ext, .next = 2};
	struct sb_event *ev = event(fill_cpu);
	struct sb_buf req, body;
	sb_buf_init(&req);
	sb_buf_init(&body);
	uint32_t at = 0;
	size_t n = 0;
	for (int i = 0; i < 20; i++) { /* repetitive, as real requests are */
		at = 0;
		assert_int_equal(sb_rw_encode(&c, &req, ev, "node-7", &at, &n, 1000), 0);
	}
	const char *why = NULL;
	assert_int_equal(sb_rw_snappy(&body, req.data, req.len, &why), 0);
	assert_true(body.len < req.len / 2);
	char path[] = "/tmp/sb-rwrite-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, body.data, body.len), (ssize_t)body.len);
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd),
		 "%s -c 'import snappy,sys; print(snappy.uncompress(open(sys.argv[1],\"rb\")."
		 "read()).hex())' %s",
		 py, path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char *hex = malloc(req.len * 2 + 16);
	assert_non_null(fgets(hex, (int)req.len * 2 + 16, p));
	assert_int_equal(pclose(p), 0);
	unlink(path);
	for (size_t i = 0; i < req.len; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		assert_int_equal(v, (unsigned char)req.data[i]);
	}
	assert_true(hex[2 * req.len] == '\n');
	free(hex);
	sb_buf_free(&req);
	sb_buf_free(&body);
	sb_event_unref(ev);
	sb_rw_conv_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(labels_are_sorted_with_job_instance_and_external),
	    cmocka_unit_test(sample_labels_win_and_empty_values_go),
	    cmocka_unit_test(scraped_series_carry_their_target),
	    cmocka_unit_test(histograms_and_summaries_explode),
	    cmocka_unit_test(nan_and_inf_pass_stale_markers_do_not),
	    cmocka_unit_test(requests_split_at_max_samples_and_resume),
	    cmocka_unit_test(snappy_body_decodes_with_python_snappy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
