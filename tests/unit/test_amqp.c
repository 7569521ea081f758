/* The amqp sink without a broker: URL and credentials, routing keys, the
 * spool record format, config checks, and the delivery accounting while
 * the broker is unreachable (nothing is lost, the identity holds). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/sinks/amqp.h"
#include "sb_config.h"
#include "sb_event.h"
#include "sb_log.h"
#include "sb_sink.h"

extern const struct sb_sink_ops sb_sink_amqp;

static void quiet(enum sb_log_level l, const char *line, void *arg)
{
	(void)l;
	(void)line;
	(void)arg;
}

static void test_url_gives_host_port_vhost_and_credentials(void **state)
{
	(void)state;
	struct sb_amqp_target t = {0};
	char err[256];
	assert_int_equal(sb_amqp_target_parse(&t, "amqp://bob:s3cret@mq.example:5673/prod", NULL,
					      err, sizeof(err)),
			 0);
	assert_string_equal(t.host, "mq.example");
	assert_int_equal(t.port, 5673);
	assert_string_equal(t.vhost, "prod");
	assert_string_equal(t.user, "bob");
	assert_string_equal(t.password, "s3cret");
	assert_false(t.tls);
	assert_null(strstr(t.shown, "s3cret"));
	assert_string_equal(t.shown, "amqp://bob:***@mq.example:5673/prod");
	sb_amqp_target_free(&t);
}

static void test_trailing_slash_means_the_default_vhost(void **state)
{
	(void)state;
	struct sb_amqp_target t = {0};
	char err[256];
	assert_int_equal(
	    sb_amqp_target_parse(&t, "amqp://guest:guest@127.0.0.1:5672/", NULL, err, sizeof(err)),
	    0);
	assert_string_equal(t.vhost, "/");
	sb_amqp_target_free(&t);
}

static void test_amqps_url_turns_tls_on_with_its_port(void **state)
{
	(void)state;
	struct sb_amqp_target t = {0};
	char err[256];
	assert_int_equal(
	    sb_amqp_target_parse(&t, "amqps://u:p@mq.example/", NULL, err, sizeof(err)), 0);
	assert_true(t.tls);
	assert_int_equal(t.port, 5671);
	sb_amqp_target_free(&t);
}

static void test_credentials_file_overrides_the_url(void **state)
{
	(void)state;
	char path[] = "/tmp/sb-cred.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "alice:pa:ss\n", 12), 12);
	close(fd);
	struct sb_amqp_target t = {0};
	char err[256];
	assert_int_equal(
	    sb_amqp_target_parse(&t, "amqp://guest:guest@h:1/", path, err, sizeof(err)), 0);
	assert_string_equal(t.user, "alice");
	assert_string_equal(t.password, "pa:ss");
	sb_amqp_target_free(&t);
	unlink(path);
}

static void test_unreadable_credentials_file_is_an_error_naming_it(void **state)
{
	(void)state;
	struct sb_amqp_target t = {0};
	char err[256];
	assert_int_not_equal(
	    sb_amqp_target_parse(&t, "amqp://h/", "/nonexistent/cred", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "/nonexistent/cred"));
	sb_amqp_target_free(&t);
}

static void test_routing_key_template_fills_values_as_single_words(void **state)
{
	(void)state;
	char out[256];
#define S(x) ((struct sb_dstr){x, sizeof(x) - 1})
	sb_amqp_key_render(out, sizeof(out), "sensorbus.{host}.{source}.{kind}",
			   S("node-7.example.com"), S("proc"), S("metrics"), S("r1"));
	assert_string_equal(out, "sensorbus.node-7_example_com.proc.metrics");
	sb_amqp_key_render(out, sizeof(out), "x.{run}", S("h"), S("s"), S("k"), S("abc"));
#undef S
	assert_string_equal(out, "x.abc");
}

/* The values live in read buffers the sender reuses: the same bytes at the
 * same address may be another event's next time. */
static void test_key_cache_follows_the_values_not_their_address(void **state)
{
	(void)state;
	struct sb_amqp_key_cache c = {0};
	const char *tmpl = "sensorbus.{host}.{source}.{kind}", *key;
	char host[] = "node-7", source[] = "proc", kind[] = "metrics", run[] = "r1";
#define D(x) ((struct sb_dstr){x, strlen(x)})
	size_t n = sb_amqp_key_cached(&c, tmpl, D(host), D(source), D(kind), D(run), &key);
	assert_int_equal(n, strlen("sensorbus.node-7.proc.metrics"));
	assert_string_equal(key, "sensorbus.node-7.proc.metrics");
	memcpy(source, "bpf", 4);
	memcpy(kind, "exec", 5);
	n = sb_amqp_key_cached(&c, tmpl, D(host), D(source), D(kind), D(run), &key);
	assert_string_equal(key, "sensorbus.node-7.bpf.exec");
	assert_int_equal(n, strlen(key));
	memcpy(host, "node.8", 7); /* same length, other bytes */
	sb_amqp_key_cached(&c, tmpl, D(host), D(source), D(kind), D(run), &key);
	assert_string_equal(key, "sensorbus.node_8.bpf.exec");
	sb_amqp_key_cached(&c, tmpl, D(host), D(source), D(kind), (struct sb_dstr){NULL, 0}, &key);
	assert_string_equal(key, "sensorbus.node_8.bpf.exec");
#undef D
}

static void test_routing_key_template_rejects_unknown_placeholders(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(sb_amqp_key_check("a.{host}.{kind}", err, sizeof(err)), 0);
	assert_int_equal(sb_amqp_key_check("a.{hostname}", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "routing_key"));
	assert_int_equal(sb_amqp_key_check("a.{host", err, sizeof(err)), -EINVAL);
	assert_int_equal(sb_amqp_key_check("a.host}", err, sizeof(err)), -EINVAL);
}

/* ---- the sink itself, with nothing listening at its URL ---- */

struct fx {
	char dir[64];
	struct sb_sink_common common;
	void *cfg;
	struct sb_runinfo ri;
	struct sb_sink s;
	struct sb_evb evb;
	uint64_t seq;
};

static int parse(struct fx *f, const char *json, char *err, size_t errlen)
{
	cJSON *o = cJSON_Parse(json);
	assert_non_null(o);
	f->cfg = calloc(1, sb_sink_amqp.cfg_size);
	const struct sb_cfg_key *tables[3] = {sb_sink_common_keys, sb_sink_amqp.keys,
					      sb_sink_amqp.shared_keys};
	void *dsts[3] = {&f->common, f->cfg, f->cfg};
	int r = sb_cfg_parse(o, "sinks[0]", tables, dsts, 3, err, errlen);
	if (!r && sb_sink_amqp.validate(f->cfg, err, errlen))
		r = -EINVAL;
	cJSON_Delete(o);
	return r;
}

static void setup_sink_at(struct fx *f, const char *where, const char *extra)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/sb-amqp-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	char json[1024], err[256];
	/* port 1 on loopback: connection refused at once */
	snprintf(json, sizeof(json),
		 "{\"type\": \"amqp\", %s, "
		 "\"spool_dir\": \"%s\", \"connect_timeout\": \"200ms\", "
		 "\"breaker\": {\"failures\": 1, \"cooldown\": \"1h\"}, "
		 "\"shutdown_grace\": \"100ms\" %s}",
		 where, f->dir, extra);
	assert_int_equal(parse(f, json, err, sizeof(err)), 0);
	snprintf(f->ri.run, sizeof(f->ri.run), "0123456789abcdef0123456789abcdef");
	snprintf(f->ri.host, sizeof(f->ri.host), "testhost");
	f->s = (struct sb_sink){.ops = &sb_sink_amqp,
				.name = "amqp",
				.common = &f->common,
				.cfg = f->cfg,
				.ri = &f->ri,
				.nshards = (unsigned)f->common.workers};
	sb_evb_init(&f->evb);
	assert_int_equal(sb_sink_amqp.open(&f->s), 0);
}

static void setup_sink(struct fx *f, const char *extra)
{
	setup_sink_at(f, "\"url\": \"amqp://guest:guest@127.0.0.1:1/\"", extra);
}

static void close_sink(struct fx *f) { sb_sink_amqp.close(&f->s); }

static int setup(void **state)
{
	sb_log_set_hook(quiet, NULL);
	*state = calloc(1, sizeof(struct fx));
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	close_sink(f);
	sb_evb_free(&f->evb);
	sb_cfg_free(sb_sink_amqp.keys, f->cfg);
	sb_cfg_free(sb_sink_amqp.shared_keys, f->cfg);
	sb_cfg_free(sb_sink_common_keys, &f->common);
	free(f->cfg);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	sb_log_set_hook(NULL, NULL);
	return 0;
}

static void write_events(struct fx *f, size_t n)
{
	struct sb_event *evs[64];
	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++) {
		sb_evb_begin(&f->evb, "synthetic", "metrics");
		sb_evb_sample(&f->evb, "x", SB_GAUGE, (double)i);
		evs[i] = sb_evb_finish(&f->evb);
		evs[i]->seq = ++f->seq;
	}
	size_t taken = 0;
	assert_int_equal(sb_sink_amqp.write(&f->s, 0, evs, n, &taken), SB_SINK_OK);
	assert_int_equal(taken, n);
	for (size_t i = 0; i < n; i++)
		sb_event_unref(evs[i]);
}

struct acct {
	double received, delivered, spooled, spool_records, in_flight, dropped, breaker;
};

static struct acct telemetry(struct fx *f)
{
	struct sb_evb b;
	sb_evb_init(&b);
	sb_evb_begin(&b, "agent", "metrics");
	sb_sink_amqp.telemetry(&f->s, &b);
	struct sb_event *ev = sb_evb_finish(&b);
	assert_non_null(ev);
	struct acct a = {0};
	for (uint32_t i = 0; i < ev->nsamples; i++) {
		const struct sb_sample *s = &ev->samples[i];
		assert_string_equal(sb_sample_label(s, "sink"), "amqp");
		if (!strcmp(s->name, "sensorbus_sink_received_total"))
			a.received = s->value;
		else if (!strcmp(s->name, "sensorbus_sink_delivered_total"))
			a.delivered = s->value;
		else if (!strcmp(s->name, "sensorbus_sink_spooled_total"))
			a.spooled = s->value;
		else if (!strcmp(s->name, "sensorbus_sink_spool_records"))
			a.spool_records = s->value;
		else if (!strcmp(s->name, "sensorbus_sink_in_flight"))
			a.in_flight = s->value;
		else if (!strcmp(s->name, "sensorbus_sink_dropped_total"))
			a.dropped += s->value;
		else if (!strcmp(s->name, "sensorbus_sink_breaker_state"))
			a.breaker = s->value;
	}
	sb_event_unref(ev);
	sb_evb_free(&b);
	assert_true(a.received == a.delivered + a.spool_records + a.in_flight + a.dropped);
	return a;
}

static void test_config_rejects_a_segment_larger_than_half_the_bound(void **state)
{
	struct fx *f = *state;
	char err[256];
	f->dir[0] = 0;
	assert_int_equal(parse(f,
			       "{\"type\":\"amqp\", \"spool_max_bytes\": \"1MiB\", "
			       "\"spool_segment_bytes\": \"1MiB\"}",
			       err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "spool_segment_bytes"));
	snprintf(f->dir, sizeof(f->dir), "/tmp/sb-amqp-none");
}

static void test_config_refuses_url_and_urls_together(void **state)
{
	struct fx *f = *state;
	char err[256];
	f->dir[0] = 0;
	assert_int_equal(parse(f,
			       "{\"type\":\"amqp\", \"url\": \"amqp://a/\", "
			       "\"urls\": [\"amqp://b/\", \"amqp://c/\"]}",
			       err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "url and urls"));
	snprintf(f->dir, sizeof(f->dir), "/tmp/sb-amqp-none");
}

static void test_config_names_the_urls_element_that_is_no_amqp_url(void **state)
{
	struct fx *f = *state;
	char err[256];
	f->dir[0] = 0;
	assert_int_equal(parse(f,
			       "{\"type\":\"amqp\", "
			       "\"urls\": [\"amqp://b/\", \"http://c/\"]}",
			       err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "urls[1]"));
	snprintf(f->dir, sizeof(f->dir), "/tmp/sb-amqp-none");
}

static void test_disk_buffer_spools_before_accepting(void **state)
{
	struct fx *f = *state;
	setup_sink(f, "");
	write_events(f, 10);
	/* write() returned: the events are in the spool, whatever the broker */
	struct acct a = telemetry(f);
	assert_true(a.received == 10);
	assert_true(a.spooled == 10);
	assert_true(a.spool_records == 10);
	assert_true(a.delivered == 0);
}

static void test_spool_survives_a_restart_and_counts_as_received(void **state)
{
	struct fx *f = *state;
	setup_sink(f, "");
	write_events(f, 7);
	close_sink(f);
	assert_int_equal(sb_sink_amqp.open(&f->s), 0);
	struct acct a = telemetry(f);
	assert_true(a.received == 7);
	assert_true(a.spool_records == 7);
}

static void
test_unreachable_broker_opens_the_breaker_and_memory_events_go_to_the_spool(void **state)
{
	struct fx *f = *state;
	setup_sink(f, ", \"buffer\": \"memory\"");
	write_events(f, 5);
	/* the sender finds nothing listening: the breaker opens (cooldown 1h)
	 * and it moves what waited in memory to the spool */
	struct acct a;
	for (int i = 0; i < 500; i++) {
		a = telemetry(f);
		if (a.breaker == 2 && a.spool_records == 5)
			break;
		usleep(10000);
	}
	assert_true(a.breaker == 2);
	assert_true(a.spool_records == 5);
	assert_true(a.in_flight == 0);
	/* while open, new events go straight to the spool */
	write_events(f, 3);
	a = telemetry(f);
	assert_true(a.spool_records == 8);
	assert_true(a.received == 8);
	assert_int_not_equal(sb_sink_amqp.health(&f->s), 0);
}

/* The value of the sample name{endpoint=ep} (and worker, if given). */
static double endpoint_sample(struct fx *f, const char *name, const char *ep, const char *worker)
{
	struct sb_evb b;
	sb_evb_init(&b);
	sb_evb_begin(&b, "agent", "metrics");
	sb_sink_amqp.telemetry(&f->s, &b);
	struct sb_event *ev = sb_evb_finish(&b);
	assert_non_null(ev);
	double v = -1;
	for (uint32_t i = 0; i < ev->nsamples; i++) {
		const struct sb_sample *s = &ev->samples[i];
		const char *e = sb_sample_label(s, "endpoint");
		const char *w = sb_sample_label(s, "worker");
		if (!strcmp(s->name, name) && (!ep || (e && !strcmp(e, ep))) &&
		    (!worker || (w && !strcmp(w, worker))))
			v = s->value;
	}
	sb_event_unref(ev);
	sb_evb_free(&b);
	return v;
}

/* Nothing listens on either node: one round tried both, each counts a
 * failure, no worker is on any, and only then did the breaker open. */
static void test_a_round_over_unreachable_nodes_counts_each_and_opens_the_breaker(void **state)
{
	struct fx *f = *state;
	setup_sink_at(f,
		      "\"urls\": [\"amqp://guest:guest@127.0.0.1:1/\", "
		      "\"amqp://guest:guest@127.0.0.1:2/\"]",
		      "");
	write_events(f, 3);
	struct acct a;
	for (int i = 0; i < 500; i++) {
		a = telemetry(f);
		if (a.breaker == 2)
			break;
		usleep(10000);
	}
	assert_true(a.breaker == 2);
	assert_true(
	    endpoint_sample(f, "sensorbus_amqp_endpoint_failures_total", "127.0.0.1:1", NULL) == 1);
	assert_true(
	    endpoint_sample(f, "sensorbus_amqp_endpoint_failures_total", "127.0.0.1:2", NULL) == 1);
	assert_true(endpoint_sample(f, "sensorbus_amqp_endpoint", "127.0.0.1:1", "0") == 0);
	assert_true(endpoint_sample(f, "sensorbus_amqp_endpoint", "127.0.0.1:2", "0") == 0);
	assert_true(endpoint_sample(f, "sensorbus_amqp_failovers_total", NULL, NULL) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_gives_host_port_vhost_and_credentials),
	    cmocka_unit_test(test_trailing_slash_means_the_default_vhost),
	    cmocka_unit_test(test_amqps_url_turns_tls_on_with_its_port),
	    cmocka_unit_test(test_credentials_file_overrides_the_url),
	    cmocka_unit_test(test_unreadable_credentials_file_is_an_error_naming_it),
	    cmocka_unit_test(test_routing_key_template_fills_values_as_single_words),
	    cmocka_unit_test(test_routing_key_template_rejects_unknown_placeholders),
	    cmocka_unit_test(test_key_cache_follows_the_values_not_their_address),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_config_rejects_a_segment_larger_than_half_the_bound),
	    T(test_config_refuses_url_and_urls_together),
	    T(test_config_names_the_urls_element_that_is_no_amqp_url),
	    T(test_disk_buffer_spools_before_accepting),
	    T(test_spool_survives_a_restart_and_counts_as_received),
	    T(test_unreachable_broker_opens_the_breaker_and_memory_events_go_to_the_spool),
	    T(test_a_round_over_unreachable_nodes_counts_each_and_opens_the_breaker),
#undef T
	};
	return cmocka_run_group_tests_name("amqp", tests, NULL, NULL);
}
