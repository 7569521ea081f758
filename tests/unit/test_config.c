/* The config contract: defaults, key paths in errors, unknown keys, types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "sb_config.h"
#include "sb_log.h"
#include "sb_sensor.h"
#include "sb_sink.h"

static char err[512];

static int load(struct sb_config *c, const char *json)
{
	err[0] = 0;
	return sb_config_load(c, json, "test.json", err, sizeof(err));
}

static void expect_error(const char *json, const char *substr)
{
	struct sb_config c;
	int r = load(&c, json);
	if (r == 0 || !strstr(err, substr))
		fail_msg("config %s: r=%d err='%s', want '%s'", json, r, err, substr);
	sb_config_free(&c);
}

static void test_builtin_default_is_proc_to_file(void **state)
{
	(void)state;
	struct sb_config c;
	assert_int_equal(load(&c, NULL), 0);
	assert_true(c.interval == SB_NSEC_PER_SEC);
	assert_true(sb_config_sensor(&c, "proc")->enabled);
	assert_false(sb_config_sensor(&c, "synthetic")->enabled);
	assert_int_equal(c.nsinks, 1);
	assert_string_equal(c.sinks[0].common.type, "file");
	assert_string_equal(c.sinks[0].common.name, "file");
	assert_int_equal(c.sinks[0].common.full, SB_FULL_BLOCK);
	sb_config_free(&c);
}

static void test_present_section_enables_only_that_sensor(void **state)
{
	(void)state;
	struct sb_config c;
	assert_int_equal(load(&c, "{\"sensors\":{\"synthetic\":{\"rate\":5}}}"), 0);
	assert_true(sb_config_sensor(&c, "synthetic")->enabled);
	assert_false(sb_config_sensor(&c, "proc")->enabled);
	sb_config_free(&c);
}

static void test_nested_error_names_full_key_path(void **state)
{
	(void)state;
	expect_error("{\"sinks\":[{\"type\":\"null\"},{\"type\":\"file\",\"retry\":"
		     "{\"max_delay\":\"soon\"}}]}",
		     "sinks[1].retry.max_delay: invalid duration \"soon\"");
}

static void test_unknown_keys_are_errors_everywhere(void **state)
{
	(void)state;
	expect_error("{\"intervall\":\"1s\"}", "intervall: unknown key");
	expect_error("{\"sensors\":{\"proc\":{\"procfss\":\"/\"}}}",
		     "sensors.proc.procfss: unknown key");
	expect_error("{\"sinks\":[{\"type\":\"file\",\"retry\":{\"jitter\":1}}]}",
		     "sinks[0].retry.jitter: unknown key");
	expect_error("{\"sensors\":{\"gps\":{}}}", "sensors.gps: unknown sensor");
}

static void test_type_errors_say_what_was_expected(void **state)
{
	(void)state;
	expect_error("{\"sensors\":{\"proc\":{\"processes\":\"algod\"}}}",
		     "sensors.proc.processes: expected an array of strings, got a string");
	expect_error("{\"sensors\":{\"proc\":{\"processes\":[\"a\",3]}}}",
		     "sensors.proc.processes[1]: expected a string, got a number");
	expect_error("{\"sinks\":[{\"type\":\"file\",\"keep\":1.5}]}",
		     "sinks[0].keep: expected an integer, got a fraction");
	expect_error("{\"sinks\":[{\"type\":\"file\",\"fsync\":\"yes\"}]}",
		     "sinks[0].fsync: expected true or false");
	expect_error("{\"sinks\":{}}", "sinks: expected an array");
	expect_error("[]", "must be a JSON object");
}

static void test_ranges_and_enums_are_checked(void **state)
{
	(void)state;
	expect_error("{\"sinks\":[{\"type\":\"file\",\"workers\":0}]}",
		     "sinks[0].workers: 0 is out of range");
	expect_error("{\"sinks\":[{\"type\":\"file\",\"full\":\"spill\"}]}",
		     "sinks[0].full: invalid value \"spill\" (expected one of \"block\", "
		     "\"drop_oldest\")");
	expect_error("{\"interval\":\"0s\"}", "interval: 0s is out of range");
}

/* 1e309 parses as inf, and casting that (or 2e19) to an integer is undefined
 * (found by fuzz_config under the sanitizers) */
static void test_numbers_too_large_for_their_type_are_errors(void **state)
{
	(void)state;
	expect_error("{\"sinks\":[{\"type\":\"file\",\"buffer\":1e309}]}",
		     "sinks[0].buffer: size too large");
	expect_error("{\"sinks\":[{\"type\":\"file\",\"buffer\":2e19}]}",
		     "sinks[0].buffer: size too large");
	expect_error("{\"sinks\":[{\"type\":\"file\",\"buffer\":\"20000000TB\"}]}",
		     "sinks[0].buffer: size too large");
	expect_error("{\"sinks\":[{\"type\":\"file\",\"keep\":-1e309}]}",
		     "sinks[0].keep: integer too large");
	/* just under the limit it is a size, and the key's own range decides */
	expect_error("{\"sinks\":[{\"type\":\"file\",\"buffer\":1e19}]}",
		     "sinks[0].buffer: 1e+19 is out of range [0, 1e+09]");
}

static void test_sink_type_is_required_and_known(void **state)
{
	(void)state;
	expect_error("{\"sinks\":[{\"path\":\"/x\"}]}", "sinks[0].type: missing");
	expect_error("{\"sinks\":[{\"type\":\"kafka\"}]}",
		     "sinks[0].type: unknown sink type \"kafka\"");
	expect_error("{\"sinks\":[]}", "sinks: no sinks");
}

static void test_invalid_json_reports_line_and_column(void **state)
{
	(void)state;
	expect_error("{\n  \"interval\": \"1s\",\n  oops\n}", "test.json:3:");
}

static void test_duplicate_keys_are_errors(void **state)
{
	(void)state;
	expect_error("{\"sinks\":[{\"type\":\"file\",\"keep\":1,\"keep\":2}]}",
		     "sinks[0].keep: duplicate key");
	/* the sections too: a second one reached a table with no place for
	 * it (found by fuzz_config) */
	expect_error("{\"sensors\":{},\"sensors\":{\"proc\":{}}}", "sensors: duplicate key");
	expect_error("{\"sinks\":[{\"type\":\"null\"}],\"sinks\":[]}", "sinks: duplicate key");
}

static void test_sizes_and_durations_accept_units(void **state)
{
	(void)state;
	struct sb_config c;
	assert_int_equal(load(&c, "{\"interval\":\"250ms\",\"sinks\":[{\"type\":\"file\","
				  "\"queue_bytes\":\"1MiB\",\"block_timeout\":\"2s\"}]}"),
			 0);
	assert_true(c.interval == 250 * SB_NSEC_PER_MSEC);
	assert_true(c.sinks[0].common.queue_bytes == 1 << 20);
	assert_true(c.sinks[0].common.block_timeout == 2 * SB_NSEC_PER_SEC);
	sb_config_free(&c);
}

static void test_sinks_get_unique_names(void **state)
{
	(void)state;
	struct sb_config c;
	assert_int_equal(load(&c, "{\"sinks\":[{\"type\":\"null\"},{\"type\":\"null\"}]}"), 0);
	assert_string_equal(c.sinks[0].common.name, "null");
	assert_string_equal(c.sinks[1].common.name, "null2");
	sb_config_free(&c);
	expect_error("{\"sinks\":[{\"type\":\"null\",\"name\":\"a\"},{\"type\":\"null\","
		     "\"name\":\"a\"}]}",
		     "sinks[1].name: \"a\" is already the name of sinks[0]");
}

static void test_dump_round_trips_through_load(void **state)
{
	(void)state;
	struct sb_config c, d;
	assert_int_equal(load(&c, "{\"interval\":\"2s\",\"sensors\":{\"proc\":{\"processes\":"
				  "[\"algod\"]}},\"sinks\":[{\"type\":\"file\",\"path\":\"/tmp/x\","
				  "\"rotate_bytes\":\"1MiB\"}]}"),
			 0);
	char *dump = sb_config_dump(&c);
	assert_non_null(dump);
	assert_int_equal(load(&d, dump), 0);
	char *dump2 = sb_config_dump(&d);
	assert_string_equal(dump, dump2);
	assert_non_null(strstr(dump, "\"rotate_bytes\":\t\"1MiB\""));
	free(dump);
	free(dump2);
	sb_config_free(&c);
	sb_config_free(&d);
}

static char *dump_of(const char *json)
{
	struct sb_config c;
	if (load(&c, json))
		fail_msg("config %s: %s", json, err);
	char *d = sb_config_dump(&c);
	sb_config_free(&c);
	assert_non_null(d);
	return d;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not in:\n%s", needle, hay);
}

static void assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle))
		fail_msg("'%s' should not be in:\n%s", needle, hay);
}

static void test_check_config_masks_passwords_and_secret_headers(void **state)
{
	(void)state;
	char *d = dump_of(
	    "{\"sensors\":{\"scrape\":{\"targets\":[{\"name\":\"n\",\"url\":"
	    "\"http://u:scrapepw@127.0.0.1:9100/metrics?x=1&access_token=querytok\","
	    "\"headers\":{\"Authorization\":\"Bearer hdrtok\",\"X-Api-Key\":\"keytok\","
	    "\"Accept\":\"text/plain\"}}]},"
	    "\"algod\":{\"url\":\"http://a:algopw@127.0.0.1:8080\",\"token_file\":\"/tmp/t\"}},"
	    "\"sinks\":[{\"type\":\"amqp\",\"url\":\"amqp://user:amqppw@host/\","
	    "\"spool_dir\":\"/tmp/s\"}]}");
	const char *secrets[] = {"scrapepw", "querytok", "hdrtok", "keytok", "algopw", "amqppw"};
	for (size_t i = 0; i < sizeof(secrets) / sizeof(*secrets); i++)
		assert_lacks(d, secrets[i]);
	assert_contains(d, "\"http://u:***@127.0.0.1:9100/metrics?x=1&access_token=***\"");
	assert_contains(d, "\"http://a:***@127.0.0.1:8080\"");
	assert_contains(d, "\"amqp://user:***@host/\"");
	/* which headers are set is no secret; their values may be */
	assert_contains(d, "\"Authorization\":\t\"<redacted>\"");
	assert_contains(d, "\"X-Api-Key\":\t\"<redacted>\"");
	assert_contains(d, "\"Accept\":\t\"<redacted>\"");
	free(d);
}

static void test_url_redaction(void **state)
{
	(void)state;
	static const struct {
		const char *in, *masked, *bare;
	} cases[] = {
	    {"amqp://user:pw@host/", "amqp://user:***@host/", "amqp://host/"},
	    {"amqp://user@host:5672/v", "amqp://user@host:5672/v", "amqp://host:5672/v"},
	    {"amqp://u:p@ss@host/", "amqp://u:***@host/", "amqp://host/"},
	    {"http://h/m?a=1&password=s&b=2", "http://h/m?a=1&password=***&b=2",
	     "http://h/m?a=1&password=***&b=2"},
	    {"http://h/m#frag@x", "http://h/m#frag@x", "http://h/m#frag@x"},
	    {"/var/lib/x", "/var/lib/x", "/var/lib/x"},
	};
	char out[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		sb_cfg_redact_url(cases[i].in, false, out, sizeof(out));
		assert_string_equal(out, cases[i].masked);
		sb_cfg_redact_url(cases[i].in, true, out, sizeof(out));
		assert_string_equal(out, cases[i].bare);
	}
}

/* Every sensor and sink present, no secrets: what --check-config prints
 * loads again and prints the same. */
static const char *const every_section =
    "{\"interval\":\"2s\",\"host\":\"h\",\"log_level\":\"debug\",\"sensors\":{"
    "\"proc\":{\"processes\":[\"algod\"]},\"bpf\":{},\"synthetic\":{\"rate\":5},"
    "\"algod\":{},\"scrape\":{\"targets\":[{\"name\":\"n\",\"url\":\"http://127.0.0.1:1/m\"}]},"
    "\"agent\":{}},"
    "\"sinks\":[{\"type\":\"file\",\"path\":\"/tmp/x\",\"rotate_bytes\":\"1MiB\"},"
    "{\"type\":\"stdout\"},{\"type\":\"null\"},{\"type\":\"prom\"},"
    "{\"type\":\"amqp\",\"url\":\"amqp://127.0.0.1:5672/\",\"spool_dir\":\"/tmp/sp\"}]}";

static void test_check_config_output_is_a_config_that_round_trips(void **state)
{
	(void)state;
	char *d = dump_of(every_section);
	assert_lacks(d, "null,");
	assert_lacks(d, "null\n");
	char *d2 = dump_of(d);
	assert_string_equal(d, d2);
	free(d);
	free(d2);
}

static void test_redacted_secrets_fed_back_are_rejected_clearly(void **state)
{
	(void)state;
	char *d = dump_of("{\"sinks\":[{\"type\":\"amqp\",\"url\":\"amqp://u:pw@h/\","
			  "\"spool_dir\":\"/tmp/sp\"}]}");
	expect_error(d, "sinks[0].url: holds the password mask");
	free(d);
	expect_error("{\"sensors\":{\"scrape\":{\"targets\":[{\"name\":\"n\",\"url\":\"http://h/\","
		     "\"headers\":{\"Authorization\":\"<redacted>\"}}]}}}",
		     "sensors.scrape.targets[0].headers.Authorization: holds the mask");
}

static void test_unknown_top_level_key_lists_the_sections(void **state)
{
	(void)state;
	expect_error("{\"sink\":[]}",
		     "sink: unknown key (known keys: interval, host, log_level, user, "
		     "sensors, sinks)");
}

static void test_unknown_sink_type_lists_the_types(void **state)
{
	(void)state;
	expect_error("{\"sinks\":[{\"type\":\"kafka\"}]}",
		     "sinks[0].type: unknown sink type \"kafka\" (one of file, stdout, null, prom, "
		     "amqp, remote_write)");
}

static void test_json_syntax_errors_say_where_and_what_was_expected(void **state)
{
	(void)state;
	expect_error("{\n  \"interval\": \"1s\",\n  oops\n}",
		     "test.json:3:3: expected a key in double quotes, found 'oops'");
	expect_error("{\"a\":1,}", "test.json:1:8: expected a key in double quotes, found '}' "
				   "(a trailing comma?)");
	expect_error("{\"a\":1", "test.json:1:7: unexpected end of file: expected ',' or '}'");
	expect_error("{\"a\" 1}", "test.json:1:6: expected ':' after the key, found '1'");
	expect_error("{\"a\":1\n \"b\":2}", "test.json:2:2: expected ',' or '}', found '\"'");
	expect_error("{\"a\":[1,2}", "test.json:1:10: expected ',' or ']', found '}'");
	expect_error("{\"a\":tru}", "test.json:1:6: expected a value, found 'tru'");
	expect_error("{\"a\":1} x", "test.json:1:9: text after the end of the config");
	expect_error("{\"a\":\"x", "test.json:1:6: unterminated string");
	expect_error("// c\n{}", "test.json:1:1: JSON has no comments");
	expect_error("{'a':1}", "test.json:1:2: expected a key in double quotes, found \"'\"");
	expect_error("{\"a\":\"\\q\"}", "test.json:1:7: invalid escape '\\q'");
	expect_error("", "test.json:1:1: the file is empty");
}

static void test_paths_must_be_absolute_and_not_empty(void **state)
{
	(void)state;
	expect_error("{\"sinks\":[{\"type\":\"file\",\"path\":\"events.jsonl\"}]}",
		     "sinks[0].path: \"events.jsonl\" is a relative path");
	expect_error("{\"sinks\":[{\"type\":\"file\",\"path\":\"\"}]}",
		     "sinks[0].path: empty path");
	expect_error("{\"sinks\":[{\"type\":\"amqp\",\"spool_dir\":\"spool\"}]}",
		     "sinks[0].spool_dir: \"spool\" is a relative path");
	expect_error("{\"sinks\":[{\"type\":\"amqp\",\"spool_dir\":\"/s\","
		     "\"credentials_file\":\"./c\"}]}",
		     "sinks[0].credentials_file: \"./c\" is a relative path");
	expect_error("{\"sensors\":{\"algod\":{\"token_file\":\"algod.token\"}}}",
		     "sensors.algod.token_file: \"algod.token\" is a relative path");
	expect_error("{\"sensors\":{\"proc\":{\"procfs\":\"fixtures/proc\"}}}",
		     "sensors.proc.procfs: \"fixtures/proc\" is a relative path");
}

static void test_two_sinks_cannot_write_one_path(void **state)
{
	(void)state;
	expect_error("{\"sinks\":[{\"type\":\"file\",\"path\":\"/tmp/a.jsonl\"},"
		     "{\"type\":\"file\",\"path\":\"/tmp//a.jsonl\"}]}",
		     "sinks[1].path: /tmp/a.jsonl is also sinks[0].path");
	expect_error("{\"sinks\":[{\"type\":\"amqp\",\"spool_dir\":\"/s/a\"},"
		     "{\"type\":\"amqp\",\"spool_dir\":\"/s/a/\"}]}",
		     "sinks[1].spool_dir: /s/a is also sinks[0].spool_dir");
	expect_error("{\"sinks\":[{\"type\":\"amqp\",\"spool_dir\":\"/s\"},"
		     "{\"type\":\"file\",\"path\":\"/s/shard-0/x\"}]}",
		     "sinks[1].path: /s/shard-0/x is inside sinks[0].spool_dir /s");
	struct sb_config c;
	assert_int_equal(load(&c, "{\"sinks\":[{\"type\":\"file\",\"path\":\"/tmp/a\"},"
				  "{\"type\":\"file\",\"path\":\"/tmp/ab\"}]}"),
			 0);
	sb_config_free(&c);
}

/* The amqp sensor acks once the sinks made events durable: a sink that
 * would feed its own queue, or one that holds events in memory, breaks
 * that and is refused; publishing onward elsewhere is fine. */
static void test_a_consumer_refuses_sinks_that_break_its_promise(void **state)
{
	(void)state;
	expect_error("{\"sensors\":{\"amqp\":{\"urls\":[\"amqp://mq:5672/\"]}},"
		     "\"sinks\":[{\"type\":\"amqp\",\"url\":\"amqp://u:p@mq/\"}]}",
		     "sink amqp would feed sensors.amqp's own queue sensorbus");
	expect_error("{\"sensors\":{\"amqp\":{\"bindings\":[\"*.fleet-a.#\"]}},"
		     "\"sinks\":[{\"type\":\"amqp\"}]}",
		     "matches binding *.fleet-a.#");
	expect_error("{\"sensors\":{\"amqp\":{}},"
		     "\"sinks\":[{\"type\":\"remote_write\",\"url\":\"http://m/api/v1/push\","
		     "\"buffer\":\"memory\"}]}",
		     "holds them in memory");
	struct sb_config c;
	/* another exchange, another broker, a binding the key cannot match */
	static const char *const fine[] = {
	    "{\"sensors\":{\"amqp\":{}},\"sinks\":[{\"type\":\"amqp\",\"exchange\":\"onward\"}]}",
	    "{\"sensors\":{\"amqp\":{}},\"sinks\":[{\"type\":\"amqp\",\"url\":\"amqp://other/\"}]}",
	    "{\"sensors\":{\"amqp\":{\"bindings\":[\"fleet.#\"]}},\"sinks\":[{\"type\":\"amqp\"}]}",
	    "{\"sinks\":[{\"type\":\"amqp\",\"buffer\":\"memory\"}]}",
	};
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		if (load(&c, fine[i]))
			fail_msg("config %s: %s", fine[i], err);
		sb_config_free(&c);
	}
}

static char logged[2048];

static void capture(enum sb_log_level l, const char *line, void *arg)
{
	(void)arg;
	if (l <= SB_LOG_WARN) {
		size_t n = strlen(logged);
		snprintf(logged + n, sizeof(logged) - n, "%s\n", line);
	}
}

static void test_a_batch_larger_than_the_queue_is_lowered_with_a_warning(void **state)
{
	(void)state;
	logged[0] = 0;
	sb_log_set_hook(capture, NULL);
	struct sb_config c;
	int r = load(&c, "{\"sinks\":[{\"type\":\"null\",\"queue_events\":100,\"batch\":512}]}");
	sb_log_set_hook(NULL, NULL);
	assert_int_equal(r, 0);
	assert_int_equal(c.sinks[0].common.batch, 100);
	assert_contains(logged, "sinks[0].batch: 512 lowered to 100 (queue_events)");
	int lines = 0;
	for (const char *p = logged; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 1);
	sb_config_free(&c);
}

static void test_sink_descriptions_name_type_and_target(void **state)
{
	(void)state;
	struct sb_config c;
	assert_int_equal(load(&c, "{\"sinks\":[{\"type\":\"file\",\"path\":\"/tmp/e.jsonl\"},"
				  "{\"type\":\"stdout\"},{\"type\":\"prom\",\"listen\":"
				  "\"127.0.0.1:9999\"},{\"type\":\"amqp\",\"name\":\"bus\",\"url\":"
				  "\"amqp://u:pw@broker:5672/\",\"spool_dir\":\"/tmp/sp\"},"
				  "{\"type\":\"amqp\",\"urls\":[\"amqp://u:pw@mq-1:5672/\","
				  "\"amqp://mq-2:5672/\"],\"spool_dir\":\"/tmp/sp2\"}]}"),
			 0);
	char out[256];
	sb_config_sink_describe(&c.sinks[0], out, sizeof(out));
	assert_string_equal(out, "file /tmp/e.jsonl");
	sb_config_sink_describe(&c.sinks[1], out, sizeof(out));
	assert_string_equal(out, "stdout");
	sb_config_sink_describe(&c.sinks[2], out, sizeof(out));
	assert_string_equal(out, "prom 127.0.0.1:9999");
	sb_config_sink_describe(&c.sinks[3], out, sizeof(out));
	assert_string_equal(out, "bus (amqp amqp://broker:5672/)");
	/* a cluster: its first node names it */
	sb_config_sink_describe(&c.sinks[4], out, sizeof(out));
	assert_string_equal(out, "amqp2 (amqp amqp://mq-1:5672/)");
	sb_config_free(&c);
}

static void test_output_flag_replaces_sinks(void **state)
{
	(void)state;
	struct sb_config c;
	assert_int_equal(load(&c, "{\"sinks\":[{\"type\":\"null\"},{\"type\":\"null\"}]}"), 0);
	assert_int_equal(sb_config_set_output(&c, "-", err, sizeof(err)), 0);
	assert_int_equal(c.nsinks, 1);
	assert_string_equal(c.sinks[0].common.type, "stdout");
	sb_config_free(&c);
}

static void test_sensors_flag_enables_exactly_the_list(void **state)
{
	(void)state;
	struct sb_config c;
	assert_int_equal(load(&c, NULL), 0);
	assert_int_equal(sb_config_set_sensors(&c, "synthetic", err, sizeof(err)), 0);
	assert_false(sb_config_sensor(&c, "proc")->enabled);
	assert_true(sb_config_sensor(&c, "synthetic")->enabled);
	assert_int_not_equal(sb_config_set_sensors(&c, "proc,warp", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "unknown sensor \"warp\""));
	sb_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_builtin_default_is_proc_to_file),
	    cmocka_unit_test(test_present_section_enables_only_that_sensor),
	    cmocka_unit_test(test_nested_error_names_full_key_path),
	    cmocka_unit_test(test_unknown_keys_are_errors_everywhere),
	    cmocka_unit_test(test_type_errors_say_what_was_expected),
	    cmocka_unit_test(test_ranges_and_enums_are_checked),
	    cmocka_unit_test(test_numbers_too_large_for_their_type_are_errors),
	    cmocka_unit_test(test_sink_type_is_required_and_known),
	    cmocka_unit_test(test_invalid_json_reports_line_and_column),
	    cmocka_unit_test(test_duplicate_keys_are_errors),
	    cmocka_unit_test(test_sizes_and_durations_accept_units),
	    cmocka_unit_test(test_sinks_get_unique_names),
	    cmocka_unit_test(test_dump_round_trips_through_load),
	    cmocka_unit_test(test_output_flag_replaces_sinks),
	    cmocka_unit_test(test_sensors_flag_enables_exactly_the_list),
	    cmocka_unit_test(test_check_config_masks_passwords_and_secret_headers),
	    cmocka_unit_test(test_url_redaction),
	    cmocka_unit_test(test_check_config_output_is_a_config_that_round_trips),
	    cmocka_unit_test(test_redacted_secrets_fed_back_are_rejected_clearly),
	    cmocka_unit_test(test_unknown_top_level_key_lists_the_sections),
	    cmocka_unit_test(test_unknown_sink_type_lists_the_types),
	    cmocka_unit_test(test_json_syntax_errors_say_where_and_what_was_expected),
	    cmocka_unit_test(test_paths_must_be_absolute_and_not_empty),
	    cmocka_unit_test(test_two_sinks_cannot_write_one_path),
	    cmocka_unit_test(test_a_consumer_refuses_sinks_that_break_its_promise),
	    cmocka_unit_test(test_a_batch_larger_than_the_queue_is_lowered_with_a_warning),
	    cmocka_unit_test(test_sink_descriptions_name_type_and_target),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
