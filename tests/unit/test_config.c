/* The config contract: defaults, key paths in errors, unknown keys, types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "sb_config.h"
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
		cmocka_unit_test(test_sink_type_is_required_and_known),
		cmocka_unit_test(test_invalid_json_reports_line_and_column),
		cmocka_unit_test(test_duplicate_keys_are_errors),
		cmocka_unit_test(test_sizes_and_durations_accept_units),
		cmocka_unit_test(test_sinks_get_unique_names),
		cmocka_unit_test(test_dump_round_trips_through_load),
		cmocka_unit_test(test_output_flag_replaces_sinks),
		cmocka_unit_test(test_sensors_flag_enables_exactly_the_list),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
