/* The Prometheus sink's series store: what a scrape shows for the events
 * it was given, at a time the test chooses. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/sinks/prom_store.h"
#include "sb_event.h"
#include "sb_log.h"

#define S SB_NSEC_PER_SEC

struct fx {
	struct sb_prom_store *st;
	struct sb_evb b;
	struct sb_buf out;
};

static void quiet(enum sb_log_level l, const char *line, void *arg)
{
	(void)l;
	(void)line;
	(void)arg;
}

static int setup_with(void **state, int64_t stale_after, uint64_t max_series)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sb_prom_store_opts o = {
	    .interval = 1 * S, .stale_after = stale_after, .max_series = max_series};
	f->st = sb_prom_store_new(&o);
	sb_evb_init(&f->b);
	sb_buf_init(&f->out);
	sb_log_set_hook(quiet, NULL);
	*state = f;
	return f->st ? 0 : -1;
}

static int setup(void **state) { return setup_with(state, 5, 0); }

static int setup_limited(void **state) { return setup_with(state, 5, 2); }

static int setup_never_stale(void **state) { return setup_with(state, 0, 0); }

static int teardown(void **state)
{
	struct fx *f = *state;
	sb_prom_store_free(f->st);
	sb_evb_free(&f->b);
	sb_buf_free(&f->out);
	sb_log_set_hook(NULL, NULL);
	free(f);
	return 0;
}

/* Starts an event of source src collected at event time t (seconds). */
static void begin(struct fx *f, const char *src, int64_t t)
{
	sb_evb_begin(&f->b, src, "metrics");
	sb_evb_time(&f->b, 1700000000 * S + t * S);
}

/* Publishes the built event to the store as processed at time now (s). */
static void apply(struct fx *f, int64_t now)
{
	struct sb_event *ev = sb_evb_finish(&f->b);
	assert_non_null(ev);
	sb_prom_store_update(f->st, &ev, 1, now * S);
	sb_event_unref(ev);
}

static const char *render(struct fx *f, enum sb_prom_format fmt, int64_t now)
{
	sb_buf_reset(&f->out);
	sb_prom_store_render(f->st, &f->out, fmt, now * S);
	return sb_buf_cstr(&f->out);
}

static void gauge(struct fx *f, const char *name, double v)
{
	sb_evb_sample(&f->b, name, SB_GAUGE, v);
}

static void renders_a_gauge_with_its_help_and_type(void **state)
{
	struct fx *f = *state;
	begin(f, "proc", 0);
	gauge(f, "node_load1", 0.21);
	sb_evb_help(&f->b, "1m load average.");
	apply(f, 0);
	assert_string_equal(render(f, SB_PROM_TEXT, 0), "# HELP node_load1 1m load average.\n"
							"# TYPE node_load1 gauge\n"
							"node_load1 0.21\n");
}

static void keeps_only_the_latest_value_of_a_series(void **state)
{
	struct fx *f = *state;
	for (int i = 1; i <= 3; i++) {
		begin(f, "proc", i);
		gauge(f, "node_load1", i);
		apply(f, i);
	}
	assert_non_null(strstr(render(f, SB_PROM_TEXT, 3), "\nnode_load1 3\n"));
	assert_null(strstr(f->out.data, "node_load1 2"));
}

static void labels_scraped_series_with_their_target(void **state)
{
	struct fx *f = *state;
	const char *targets[] = {"node-a", "node-b"};
	for (int i = 0; i < 2; i++) {
		begin(f, "scrape", 1);
		sb_evb_field_str(&f->b, "target", targets[i], strlen(targets[i]));
		gauge(f, "node_load1", i + 1);
		apply(f, 1);
	}
	const char *out = render(f, SB_PROM_TEXT, 1);
	assert_non_null(strstr(out, "node_load1{target=\"node-a\"} 1\n"));
	assert_non_null(strstr(out, "node_load1{target=\"node-b\"} 2\n"));
}

/* A fleet's consumer serves every agent's series: another agent's event
 * labels its series with that agent's host; a sample's own host label
 * stays; local events get none. */
static void labels_another_agents_series_with_its_host(void **state)
{
	struct fx *f = *state;
	const char *hosts[] = {"agent-a", "agent-b"};
	for (int i = 0; i < 2; i++) {
		begin(f, "synthetic", 1);
		sb_evb_origin(&f->b, hosts[i], "0123", 7);
		gauge(f, "node_load1", i + 1);
		gauge(f, "up", 1);
		sb_evb_label(&f->b, "host", "own");
		apply(f, 1);
	}
	begin(f, "proc", 1);
	gauge(f, "node_load15", 3);
	apply(f, 1);
	const char *out = render(f, SB_PROM_TEXT, 1);
	assert_non_null(strstr(out, "node_load1{host=\"agent-a\"} 1\n"));
	assert_non_null(strstr(out, "node_load1{host=\"agent-b\"} 2\n"));
	assert_non_null(strstr(out, "up{host=\"own\"} 1\n"));
	assert_non_null(strstr(out, "\nnode_load15 3\n"));
}

static void identifies_a_series_by_its_labels_whatever_their_order(void **state)
{
	struct fx *f = *state;
	begin(f, "proc", 0);
	gauge(f, "node_cpu_seconds_total", 1);
	sb_evb_label(&f->b, "mode", "user");
	sb_evb_label(&f->b, "cpu", "0");
	apply(f, 0);
	begin(f, "proc", 1);
	gauge(f, "node_cpu_seconds_total", 2);
	sb_evb_label(&f->b, "cpu", "0");
	sb_evb_label(&f->b, "mode", "user");
	apply(f, 1);
	const char *out = render(f, SB_PROM_TEXT, 1);
	assert_non_null(strstr(out, "\nnode_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 2\n"));
	assert_null(strstr(out, "} 1\n"));
}

static void round_of(struct fx *f, int64_t t, const char *const *names, const char *const *labels,
		     int n)
{
	begin(f, "proc", t);
	for (int i = 0; i < n; i++) {
		gauge(f, names[i], (double)(t * 10 + i));
		if (labels[i])
			sb_evb_label(&f->b, "x", labels[i]);
	}
	apply(f, t);
}

/* A sensor sends its samples in the same order every round, and the store
 * remembers where each went; samples that change places, values that need
 * escaping and series that expired and come back still find their own. */
static void each_sample_finds_its_series_as_rounds_change(void **state)
{
	struct fx *f = *state;
	const char *n1[] = {"a", "a", "b", "c"}, *l1[] = {"1", "2", NULL, "q\"z"};
	const char *n2[] = {"b", "a", "c", "a"}, *l2[] = {NULL, "2", "q\"z", "1"};
	round_of(f, 0, n1, l1, 4);
	round_of(f, 1, n1, l1, 4);
	round_of(f, 2, n2, l2, 4);
	const char *out = render(f, SB_PROM_TEXT, 2);
	assert_non_null(strstr(out, "\nb 20\n"));
	assert_non_null(strstr(out, "\na{x=\"1\"} 23\na{x=\"2\"} 21\n"));
	assert_non_null(strstr(out, "\nc{x=\"q\\\"z\"} 22\n"));
	struct sb_prom_store_stats st;
	sb_prom_store_stats(f->st, &st);
	assert_int_equal(st.series, 4);
	for (int t = 3; t <= 8; t++) /* all but b expire */
		round_of(f, t, n2, l2, 1);
	const char *n3[] = {"a", "b"}, *l3[] = {"1", NULL};
	round_of(f, 9, n3, l3, 2);
	out = render(f, SB_PROM_TEXT, 9);
	assert_non_null(strstr(out, "\na{x=\"1\"} 90\n"));
	assert_non_null(strstr(out, "\nb 91\n"));
	sb_prom_store_stats(f->st, &st);
	assert_int_equal(st.series, 2);
	assert_int_equal(st.expired, 3);
}

static void escapes_label_values_and_replaces_invalid_utf8(void **state)
{
	struct fx *f = *state;
	begin(f, "proc", 0);
	gauge(f, "process_open_fds", 3);
	sb_evb_label(&f->b, "comm", "a\\b\"c\nd\xff\xc3\xa9");
	apply(f, 0);
	assert_non_null(
	    strstr(render(f, SB_PROM_TEXT, 0),
		   "\nprocess_open_fds{comm=\"a\\\\b\\\"c\\nd\xef\xbf\xbd\xc3\xa9\"} 3\n"));
}

static void escapes_help_as_each_format_requires(void **state)
{
	struct fx *f = *state;
	begin(f, "proc", 0);
	gauge(f, "x", 1);
	sb_evb_help(&f->b, "a \"quoted\" back\\slash\nnewline");
	apply(f, 0);
	assert_non_null(
	    strstr(render(f, SB_PROM_TEXT, 0), "# HELP x a \"quoted\" back\\\\slash\\nnewline\n"));
	assert_non_null(strstr(render(f, SB_PROM_OPENMETRICS, 0),
			       "# HELP x a \\\"quoted\\\" back\\\\slash\\nnewline\n"));
}

static void gives_a_generic_help_naming_the_source_when_none_is_given(void **state)
{
	struct fx *f = *state;
	begin(f, "synthetic", 0);
	gauge(f, "sensorbus_synthetic_level", 1);
	apply(f, 0);
	assert_non_null(
	    strstr(render(f, SB_PROM_TEXT, 0),
		   "# HELP sensorbus_synthetic_level Metric from the sensorbus synthetic "
		   "sensor.\n# TYPE sensorbus_synthetic_level gauge\n"));
}

/* The text format's HELP and TYPE lines are kept between scrapes: a help
 * that arrives after the generic one was rendered replaces it, and the
 * families around it keep theirs. */
static void a_help_given_later_replaces_the_generic_one(void **state)
{
	struct fx *f = *state;
	begin(f, "synthetic", 0);
	gauge(f, "a_level", 1);
	sb_evb_help(&f->b, "A \\ level.");
	gauge(f, "b_level", 2);
	apply(f, 0);
	const char *generic = "# HELP a_level A \\\\ level.\n# TYPE a_level gauge\na_level 1\n"
			      "# HELP b_level Metric from the sensorbus synthetic sensor.\n"
			      "# TYPE b_level gauge\nb_level 2\n";
	assert_string_equal(render(f, SB_PROM_TEXT, 0), generic);
	assert_string_equal(render(f, SB_PROM_TEXT, 0), generic);
	begin(f, "synthetic", 1);
	gauge(f, "a_level", 3);
	gauge(f, "b_level", 4);
	sb_evb_help(&f->b, "B level.");
	apply(f, 1);
	assert_string_equal(render(f, SB_PROM_TEXT, 1),
			    "# HELP a_level A \\\\ level.\n# TYPE a_level gauge\na_level 3\n"
			    "# HELP b_level B level.\n# TYPE b_level gauge\nb_level 4\n");
	assert_non_null(strstr(render(f, SB_PROM_OPENMETRICS, 1), "# HELP b_level B level.\n"));
}

static void groups_families_sorted_by_name(void **state)
{
	struct fx *f = *state;
	begin(f, "proc", 0);
	gauge(f, "b_metric", 1);
	sb_evb_label(&f->b, "k", "2");
	gauge(f, "a_metric", 1);
	gauge(f, "b_metric", 1);
	sb_evb_label(&f->b, "k", "1");
	apply(f, 0);
	assert_string_equal(render(f, SB_PROM_TEXT, 0),
			    "# HELP a_metric Metric from the sensorbus proc sensor.\n"
			    "# TYPE a_metric gauge\n"
			    "a_metric 1\n"
			    "# HELP b_metric Metric from the sensorbus proc sensor.\n"
			    "# TYPE b_metric gauge\n"
			    "b_metric{k=\"1\"} 1\n"
			    "b_metric{k=\"2\"} 1\n");
}

static void renders_a_histogram_with_sorted_buckets_and_inf(void **state)
{
	struct fx *f = *state;
	begin(f, "bpf", 0);
	sb_evb_sample(&f->b, "sensorbus_sched_runqueue_latency_seconds", SB_HISTOGRAM, 0);
	sb_evb_help(&f->b, "Run queue latency.");
	sb_evb_label(&f->b, "cpu", "0");
	sb_evb_bucket(&f->b, 0.001, 7);
	sb_evb_bucket(&f->b, 0.0001, 3);
	sb_evb_bucket(&f->b, 1000000, 9);
	sb_evb_sumcount(&f->b, 0.25, 10);
	apply(f, 0);
	const char *n = "sensorbus_sched_runqueue_latency_seconds";
	char want[1024];
	snprintf(want, sizeof(want),
		 "# HELP %s Run queue latency.\n"
		 "# TYPE %s histogram\n"
		 "%s_bucket{cpu=\"0\",le=\"0.0001\"} 3\n"
		 "%s_bucket{cpu=\"0\",le=\"0.001\"} 7\n"
		 "%s_bucket{cpu=\"0\",le=\"1e+06\"} 9\n"
		 "%s_bucket{cpu=\"0\",le=\"+Inf\"} 10\n"
		 "%s_sum{cpu=\"0\"} 0.25\n"
		 "%s_count{cpu=\"0\"} 10\n",
		 n, n, n, n, n, n, n, n);
	assert_string_equal(render(f, SB_PROM_TEXT, 0), want);
}

static void takes_a_histograms_count_from_its_inf_bucket(void **state)
{
	struct fx *f = *state;
	begin(f, "bpf", 0);
	sb_evb_sample(&f->b, "h_seconds", SB_HISTOGRAM, 0);
	sb_evb_bucket(&f->b, 1, 2);
	sb_evb_bucket(&f->b, INFINITY, 5);
	sb_evb_sumcount(&f->b, 3, 4); /* read racily beside the buckets */
	apply(f, 0);
	assert_non_null(strstr(render(f, SB_PROM_TEXT, 0), "\nh_seconds_count 5\n"));
}

static void rejects_a_histogram_whose_buckets_are_not_cumulative(void **state)
{
	struct fx *f = *state;
	begin(f, "bpf", 0);
	sb_evb_sample(&f->b, "h_seconds", SB_HISTOGRAM, 0);
	sb_evb_bucket(&f->b, 1, 5);
	sb_evb_bucket(&f->b, 2, 3);
	sb_evb_sumcount(&f->b, 3, 5);
	apply(f, 0);
	assert_string_equal(render(f, SB_PROM_TEXT, 0), "");
	struct sb_prom_store_stats s;
	sb_prom_store_stats(f->st, &s);
	assert_int_equal(s.rejected[SB_PROM_REJ_HISTOGRAM], 1);
}

static void renders_a_summary_with_its_quantiles(void **state)
{
	struct fx *f = *state;
	begin(f, "algod", 0);
	sb_evb_sample(&f->b, "rpc_seconds", SB_SUMMARY, 0);
	sb_evb_bucket(&f->b, 0.99, 0.3);
	sb_evb_bucket(&f->b, 0.5, 0.1);
	sb_evb_sumcount(&f->b, 12.5, 100);
	apply(f, 0);
	assert_non_null(strstr(render(f, SB_PROM_TEXT, 0), "# TYPE rpc_seconds summary\n"
							   "rpc_seconds{quantile=\"0.5\"} 0.1\n"
							   "rpc_seconds{quantile=\"0.99\"} 0.3\n"
							   "rpc_seconds_sum 12.5\n"
							   "rpc_seconds_count 100\n"));
}

static void names_openmetrics_counters_without_total_and_ends_with_eof(void **state)
{
	struct fx *f = *state;
	begin(f, "proc", 0);
	sb_evb_sample(&f->b, "node_context_switches_total", SB_COUNTER, 42);
	sb_evb_sample(&f->b, "sensorbus_synthetic_value", SB_COUNTER, 1.5);
	sb_evb_sample(&f->b, "h", SB_HISTOGRAM, 0);
	sb_evb_bucket(&f->b, 1, 1);
	sb_evb_sumcount(&f->b, 0.5, 1);
	apply(f, 0);
	const char *out = render(f, SB_PROM_OPENMETRICS, 0);
	assert_non_null(strstr(out, "# TYPE node_context_switches counter\n"
				    "node_context_switches_total 42\n"));
	assert_non_null(strstr(out, "# TYPE sensorbus_synthetic_value unknown\n"));
	assert_non_null(strstr(out, "h_bucket{le=\"1.0\"} 1\n"));
	size_t n = strlen(out);
	assert_true(n > 6 && !strcmp(out + n - 6, "# EOF\n"));
}

static void expires_a_series_not_refreshed_for_stale_after_intervals(void **state)
{
	struct fx *f = *state;
	for (int t = 0; t <= 2; t++) { /* a 1 s sensor */
		begin(f, "proc", t);
		gauge(f, "gone", 1);
		gauge(f, "kept", 1);
		apply(f, t);
	}
	for (int t = 3; t <= 8; t++) { /* "gone" stops at t=2: 5 s later it has expired */
		begin(f, "proc", t);
		gauge(f, "kept", 1);
		apply(f, t);
	}
	const char *out = render(f, SB_PROM_TEXT, 8);
	assert_null(strstr(out, "gone"));
	assert_non_null(strstr(out, "\nkept 1\n"));
	assert_int_equal(sb_prom_store_expire(f->st, 8 * S), 0); /* removed by the update */
	struct sb_prom_store_stats s;
	sb_prom_store_stats(f->st, &s);
	assert_int_equal(s.series, 1);
	assert_int_equal(s.expired, 1);
}

static void keeps_a_slow_series_for_stale_after_of_its_own_periods(void **state)
{
	struct fx *f = *state;
	for (int t = 0; t <= 10; t += 5) { /* a 5 s sensor beside the 1 s interval */
		begin(f, "algod", t);
		gauge(f, "algod_ledger_round", t);
		apply(f, t);
	}
	assert_non_null(strstr(render(f, SB_PROM_TEXT, 10 + 24), "algod_ledger_round 10"));
	assert_null(strstr(render(f, SB_PROM_TEXT, 10 + 26), "algod_ledger_round"));
}

static void gives_a_new_series_the_period_of_its_source(void **state)
{
	struct fx *f = *state;
	for (int t = 0; t <= 10; t += 5) {
		begin(f, "algod", t);
		gauge(f, "algod_ledger_round", t);
		if (t == 10)
			gauge(f, "algod_new_metric", 1); /* seen once so far */
		apply(f, t);
	}
	assert_non_null(strstr(render(f, SB_PROM_TEXT, 10 + 24), "algod_new_metric 1"));
	assert_null(strstr(render(f, SB_PROM_TEXT, 10 + 26), "algod_new_metric"));
}

static void keeps_series_forever_when_stale_after_is_zero(void **state)
{
	struct fx *f = *state;
	begin(f, "proc", 0);
	gauge(f, "x", 1);
	apply(f, 0);
	assert_int_equal(sb_prom_store_expire(f->st, 100000 * S), 0);
	assert_non_null(strstr(render(f, SB_PROM_TEXT, 100000), "\nx 1\n"));
}

static void ignores_and_counts_events_that_are_not_metrics(void **state)
{
	struct fx *f = *state;
	sb_evb_begin(&f->b, "bpf", "exec");
	sb_evb_field_int(&f->b, "pid", 42);
	apply(f, 0);
	assert_string_equal(render(f, SB_PROM_TEXT, 0), "");
	struct sb_prom_store_stats s;
	sb_prom_store_stats(f->st, &s);
	assert_int_equal(s.events_ignored, 1);
	assert_int_equal(s.events, 0);
}

static void rejects_invalid_names_and_labels(void **state)
{
	struct fx *f = *state;
	begin(f, "proc", 0);
	gauge(f, "0starts_with_digit", 1);
	gauge(f, "has-dash", 1);
	gauge(f, "ok", 1);
	sb_evb_label(&f->b, "__reserved", "x");
	gauge(f, "ok", 1);
	sb_evb_label(&f->b, "a", "1");
	sb_evb_label(&f->b, "a", "2");
	sb_evb_sample(&f->b, "h", SB_HISTOGRAM, 0);
	sb_evb_label(&f->b, "le", "1");
	gauge(f, "ok", 2);
	sb_evb_label(&f->b, "a", "1");
	apply(f, 0);
	assert_string_equal(render(f, SB_PROM_TEXT, 0),
			    "# HELP ok Metric from the sensorbus proc sensor.\n"
			    "# TYPE ok gauge\n"
			    "ok{a=\"1\"} 2\n");
	struct sb_prom_store_stats s;
	sb_prom_store_stats(f->st, &s);
	assert_int_equal(s.rejected[SB_PROM_REJ_NAME], 2);
	assert_int_equal(s.rejected[SB_PROM_REJ_LABEL], 3);
}

static void rejects_a_sample_whose_type_differs_from_its_family(void **state)
{
	struct fx *f = *state;
	begin(f, "proc", 0);
	gauge(f, "x", 1);
	sb_evb_sample(&f->b, "x", SB_COUNTER, 5);
	sb_evb_label(&f->b, "other", "series");
	apply(f, 0);
	assert_null(strstr(render(f, SB_PROM_TEXT, 0), "other"));
	struct sb_prom_store_stats s;
	sb_prom_store_stats(f->st, &s);
	assert_int_equal(s.rejected[SB_PROM_REJ_TYPE], 1);
}

static void drops_new_series_beyond_max_series(void **state)
{
	struct fx *f = *state;
	begin(f, "proc", 0);
	gauge(f, "a", 1);
	gauge(f, "b", 1);
	gauge(f, "c", 1);
	gauge(f, "a", 2);
	apply(f, 0);
	const char *out = render(f, SB_PROM_TEXT, 0);
	assert_non_null(strstr(out, "\na 2\n"));
	assert_null(strstr(out, "\nc "));
	struct sb_prom_store_stats s;
	sb_prom_store_stats(f->st, &s);
	assert_int_equal(s.rejected[SB_PROM_REJ_LIMIT], 1);
	assert_int_equal(s.series, 2);
}

struct seen {
	char labels[4][64];
	double v[4];
	int n;
};

static void collect(void *arg, const char *labels, double value)
{
	struct seen *s = arg;
	snprintf(s->labels[s->n], sizeof(s->labels[0]), "%s", labels);
	s->v[s->n++] = value;
}

static void visits_the_live_series_of_one_family(void **state)
{
	struct fx *f = *state;
	begin(f, "agent", 0);
	gauge(f, "sensorbus_sink_healthy", 1);
	sb_evb_label(&f->b, "sink", "prom");
	gauge(f, "sensorbus_sink_healthy", 0);
	sb_evb_label(&f->b, "sink", "amqp");
	gauge(f, "sensorbus_ready", 0);
	apply(f, 0);
	struct seen s = {0};
	assert_int_equal(sb_prom_store_each(f->st, "sensorbus_sink_healthy", 0, collect, &s), 2);
	assert_string_equal(s.labels[0], "sink=\"amqp\"");
	assert_true(s.v[0] == 0);
	assert_string_equal(s.labels[1], "sink=\"prom\"");
	assert_int_equal(sb_prom_store_each(f->st, "absent", 0, collect, &s), 0);
}

static void formats_bounds_like_the_go_clients(void **state)
{
	struct fx *f = *state;
	begin(f, "bpf", 0);
	sb_evb_sample(&f->b, "h", SB_HISTOGRAM, 0);
	static const double le[] = {1e-05, 0.0001, 0.5, 1, 100000, 123456.7, 1e6, 2.5e9};
	for (size_t i = 0; i < SB_ARRAY_SIZE(le); i++)
		sb_evb_bucket(&f->b, le[i], (double)i);
	sb_evb_sumcount(&f->b, 1, 8);
	apply(f, 0);
	const char *text = render(f, SB_PROM_TEXT, 0);
	static const char *const want_text[] = {"1e-05",  "0.0001",   "0.5",   "1",
						"100000", "123456.7", "1e+06", "2.5e+09"};
	for (size_t i = 0; i < SB_ARRAY_SIZE(want_text); i++) {
		char want[64];
		snprintf(want, sizeof(want), "h_bucket{le=\"%s\"} %zu\n", want_text[i], i);
		assert_non_null(strstr(text, want));
	}
	const char *om = render(f, SB_PROM_OPENMETRICS, 0);
	assert_non_null(strstr(om, "h_bucket{le=\"1.0\"} 3\n"));
	assert_non_null(strstr(om, "h_bucket{le=\"100000.0\"} 4\n"));
	assert_non_null(strstr(om, "h_bucket{le=\"1e+06\"} 6\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(renders_a_gauge_with_its_help_and_type, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(labels_scraped_series_with_their_target, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(labels_another_agents_series_with_its_host, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(keeps_only_the_latest_value_of_a_series, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(identifies_a_series_by_its_labels_whatever_their_order,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(each_sample_finds_its_series_as_rounds_change, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(escapes_label_values_and_replaces_invalid_utf8, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(escapes_help_as_each_format_requires, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		gives_a_generic_help_naming_the_source_when_none_is_given, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_help_given_later_replaces_the_generic_one, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(groups_families_sorted_by_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(renders_a_histogram_with_sorted_buckets_and_inf, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(takes_a_histograms_count_from_its_inf_bucket, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(rejects_a_histogram_whose_buckets_are_not_cumulative,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(renders_a_summary_with_its_quantiles, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		names_openmetrics_counters_without_total_and_ends_with_eof, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		expires_a_series_not_refreshed_for_stale_after_intervals, setup, teardown),
	    cmocka_unit_test_setup_teardown(keeps_a_slow_series_for_stale_after_of_its_own_periods,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(gives_a_new_series_the_period_of_its_source, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(keeps_series_forever_when_stale_after_is_zero,
					    setup_never_stale, teardown),
	    cmocka_unit_test_setup_teardown(ignores_and_counts_events_that_are_not_metrics, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(rejects_invalid_names_and_labels, setup, teardown),
	    cmocka_unit_test_setup_teardown(rejects_a_sample_whose_type_differs_from_its_family,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(drops_new_series_beyond_max_series, setup_limited,
					    teardown),
	    cmocka_unit_test_setup_teardown(visits_the_live_series_of_one_family, setup, teardown),
	    cmocka_unit_test_setup_teardown(formats_bounds_like_the_go_clients, setup, teardown),
	};
	return cmocka_run_group_tests_name("prom_store", tests, NULL, NULL);
}
