/* JSON encoding of events: every byte string a process name or a label can
 * hold must come out as valid JSON, numbers as JSON numbers, NaN/Inf as
 * strings, histograms with le buckets. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sb_json.h"

static const char *enc_str(struct sb_buf *b, const char *s, size_t n)
{
	sb_buf_reset(b);
	sb_json_str(b, s, n);
	return sb_buf_cstr(b);
}

static void test_plain_ascii_is_copied(void **state)
{
	(void)state;
	struct sb_buf b;
	sb_buf_init(&b);
	assert_string_equal(enc_str(&b, "algod", 5), "\"algod\"");
	sb_buf_free(&b);
}

static void test_quotes_and_backslashes_are_escaped(void **state)
{
	(void)state;
	struct sb_buf b;
	sb_buf_init(&b);
	assert_string_equal(enc_str(&b, "a\"b\\c", 5), "\"a\\\"b\\\\c\"");
	sb_buf_free(&b);
}

static void test_control_characters_are_escaped(void **state)
{
	(void)state;
	struct sb_buf b;
	sb_buf_init(&b);
	const char in[] = {'x', '\n', '\t', '\r', 0x01, 0x1f, 0x00, 'y'};
	assert_string_equal(enc_str(&b, in, sizeof(in)), "\"x\\n\\t\\r\\u0001\\u001f\\u0000y\"");
	sb_buf_free(&b);
}

static void test_valid_utf8_is_kept(void **state)
{
	(void)state;
	struct sb_buf b;
	sb_buf_init(&b);
	const char *s = "µs \xe2\x82\xac \xf0\x9f\x98\x80"; /* µ, €, 😀 */
	char want[64];
	snprintf(want, sizeof(want), "\"%s\"", s);
	assert_string_equal(enc_str(&b, s, strlen(s)), want);
	sb_buf_free(&b);
}

static void test_invalid_utf8_becomes_replacement_character(void **state)
{
	(void)state;
	struct sb_buf b;
	sb_buf_init(&b);
	/* lone continuation, truncated sequence, overlong '/', surrogate,
	 * above U+10FFFF, 0xff */
	assert_string_equal(enc_str(&b, "a\x80z", 3), "\"a\xef\xbf\xbdz\"");
	assert_string_equal(enc_str(&b, "a\xe2\x82", 3), "\"a\xef\xbf\xbd\xef\xbf\xbd\"");
	assert_string_equal(enc_str(&b, "\xc0\xaf", 2), "\"\xef\xbf\xbd\xef\xbf\xbd\"");
	assert_string_equal(enc_str(&b, "\xed\xa0\x80", 3),
			    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	assert_string_equal(enc_str(&b, "\xf4\x90\x80\x80", 4),
			    "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
	assert_string_equal(enc_str(&b, "\xff", 1), "\"\xef\xbf\xbd\"");
	sb_buf_free(&b);
}

static void test_every_byte_value_gives_valid_json_string(void **state)
{
	(void)state;
	struct sb_buf b;
	sb_buf_init(&b);
	char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	const char *out = enc_str(&b, all, sizeof(all));
	/* no raw control character survives, and every byte >= 0x80 is part
	 * of valid UTF-8 (here only U+FFFD: no byte alone is a character) */
	for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
		if (*p >= 0x80) {
			assert_memory_equal(p, "\xef\xbf\xbd", 3);
			p += 2;
			continue;
		}
		assert_true(*p >= 0x20);
	}
	sb_buf_free(&b);
}

/* Strings are scanned eight bytes at a time: a byte to escape at any
 * place of a long string, and next to another, is still escaped. */
static void test_a_byte_to_escape_anywhere_in_a_long_string(void **state)
{
	(void)state;
	static const struct {
		unsigned char c;
		const char *esc;
	} cases[] = {{0x01, "\\u0001"}, {0x1f, "\\u001f"}, {'"', "\\\""},
		     {'\\', "\\\\"},	{'\n', "\\n"},	   {0xff, "\xef\xbf\xbd"},
		     {0x7f, "\x7f"},	{' ', " "},	   {0x80, "\xef\xbf\xbd"}};
	struct sb_buf b;
	sb_buf_init(&b);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		for (size_t pos = 0; pos < 24; pos++)
			for (size_t twice = 0; twice < 2; twice++) {
				char s[24], want[64];
				memset(s, 'a', sizeof(s));
				s[pos] = (char)cases[k].c;
				if (twice && pos + 9 < sizeof(s))
					s[pos + 9] = (char)cases[k].c;
				size_t w = 0;
				want[w++] = '"';
				for (size_t i = 0; i < sizeof(s); i++) {
					if ((unsigned char)s[i] != cases[k].c) {
						want[w++] = s[i];
						continue;
					}
					memcpy(want + w, cases[k].esc, strlen(cases[k].esc));
					w += strlen(cases[k].esc);
				}
				want[w++] = '"';
				want[w] = 0;
				assert_string_equal(enc_str(&b, s, sizeof(s)), want);
			}
	sb_buf_free(&b);
}

static void test_numbers_round_trip_and_specials_are_strings(void **state)
{
	(void)state;
	struct sb_buf b;
	sb_buf_init(&b);
	struct {
		double v;
		const char *want;
	} cases[] = {
	    {0, "0"},
	    {-3, "-3"},
	    {3018.54, "3018.54"},
	    {0.1, "0.1"},
	    {1e-9, "1.0000000000000001e-09"},
	    {123456789012.0, "123456789012"},
	    {1e300, "1.0000000000000001e+300"},
	    {NAN, "\"NaN\""},
	    {INFINITY, "\"+Inf\""},
	    {-INFINITY, "\"-Inf\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sb_buf_reset(&b);
		sb_json_num(&b, cases[i].v);
		const char *got = sb_buf_cstr(&b);
		if (cases[i].v == cases[i].v && !isinf(cases[i].v))
			assert_true(strtod(got, NULL) == cases[i].v);
		else
			assert_string_equal(got, cases[i].want);
	}
	sb_buf_reset(&b);
	sb_json_num(&b, 3018.54);
	assert_string_equal(sb_buf_cstr(&b), "3018.54");
	sb_buf_free(&b);
}

static void test_event_has_envelope_fields_samples_and_labels(void **state)
{
	(void)state;
	struct sb_evb eb;
	sb_evb_init(&eb);
	sb_evb_begin(&eb, "proc", "metrics");
	sb_evb_time(&eb, 1795809601000123456LL);
	sb_evb_sample(&eb, "node_load1", SB_UNTYPED, 0.21);
	sb_evb_sample(&eb, "node_cpu_seconds_total", SB_COUNTER, 3018.54);
	sb_evb_label(&eb, "cpu", "0");
	sb_evb_label(&eb, "mode", "user");
	struct sb_event *ev = sb_evb_finish(&eb);
	assert_non_null(ev);
	ev->seq = 1842;
	struct sb_codec_ctx ctx = {.run = "5f0c", .host = "node-7"};
	struct sb_buf b;
	sb_buf_init(&b);
	sb_json_event(&b, &ctx, ev);
	assert_string_equal(
	    sb_buf_cstr(&b),
	    "{\"seq\":1842,\"run\":\"5f0c\",\"time\":\"2026-11-27T20:00:01.000123456Z\","
	    "\"host\":\"node-7\",\"source\":\"proc\",\"kind\":\"metrics\",\"samples\":["
	    "{\"name\":\"node_load1\",\"value\":0.21},"
	    "{\"name\":\"node_cpu_seconds_total\",\"labels\":{\"cpu\":\"0\",\"mode\":\"user\"},"
	    "\"type\":\"counter\",\"value\":3018.54}]}\n");
	sb_event_unref(ev);
	sb_buf_free(&b);
	sb_evb_free(&eb);
}

static void test_event_fields_keep_types_and_escape_strings(void **state)
{
	(void)state;
	struct sb_evb eb;
	sb_evb_init(&eb);
	sb_evb_begin(&eb, "bpf", "exit");
	sb_evb_time(&eb, 0);
	sb_evb_field_uint(&eb, "pid", 4242);
	sb_evb_field_int(&eb, "exit_code", -1);
	sb_evb_field_str(&eb, "comm", "a\"b\n\xff", 5);
	sb_evb_field_double(&eb, "duration_seconds", 0.0012);
	struct sb_event *ev = sb_evb_finish(&eb);
	ev->seq = 1;
	struct sb_codec_ctx ctx = {.run = "r", .host = "h"};
	struct sb_buf b;
	sb_buf_init(&b);
	sb_json_event(&b, &ctx, ev);
	assert_string_equal(
	    sb_buf_cstr(&b),
	    "{\"seq\":1,\"run\":\"r\",\"time\":\"1970-01-01T00:00:00.000000000Z\","
	    "\"host\":\"h\",\"source\":\"bpf\",\"kind\":\"exit\",\"pid\":4242,"
	    "\"exit_code\":-1,\"comm\":\"a\\\"b\\n\xef\xbf\xbd\",\"duration_seconds\":0.0012}\n");
	sb_event_unref(ev);
	sb_buf_free(&b);
	sb_evb_free(&eb);
}

static void test_histogram_has_le_buckets_sum_and_count(void **state)
{
	(void)state;
	struct sb_evb eb;
	sb_evb_init(&eb);
	sb_evb_begin(&eb, "bpf", "metrics");
	sb_evb_time(&eb, 0);
	sb_evb_sample(&eb, "sensorbus_sched_runqueue_latency_seconds", SB_HISTOGRAM, 0);
	sb_evb_bucket(&eb, 0.001, 3);
	sb_evb_bucket(&eb, INFINITY, 5);
	sb_evb_sumcount(&eb, 0.25, 5);
	struct sb_event *ev = sb_evb_finish(&eb);
	ev->seq = 2;
	struct sb_codec_ctx ctx = {.run = "r", .host = "h"};
	struct sb_buf b;
	sb_buf_init(&b);
	sb_json_event(&b, &ctx, ev);
	assert_non_null(strstr(sb_buf_cstr(&b),
			       "{\"name\":\"sensorbus_sched_runqueue_latency_seconds\","
			       "\"type\":\"histogram\",\"buckets\":[{\"le\":\"0.001\",\"count\":3},"
			       "{\"le\":\"+Inf\",\"count\":5}],\"sum\":0.25,\"count\":5}"));
	sb_event_unref(ev);
	sb_buf_free(&b);
	sb_evb_free(&eb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_ascii_is_copied),
	    cmocka_unit_test(test_quotes_and_backslashes_are_escaped),
	    cmocka_unit_test(test_control_characters_are_escaped),
	    cmocka_unit_test(test_valid_utf8_is_kept),
	    cmocka_unit_test(test_invalid_utf8_becomes_replacement_character),
	    cmocka_unit_test(test_every_byte_value_gives_valid_json_string),
	    cmocka_unit_test(test_a_byte_to_escape_anywhere_in_a_long_string),
	    cmocka_unit_test(test_numbers_round_trip_and_specials_are_strings),
	    cmocka_unit_test(test_event_has_envelope_fields_samples_and_labels),
	    cmocka_unit_test(test_event_fields_keep_types_and_escape_strings),
	    cmocka_unit_test(test_histogram_has_le_buckets_sum_and_count),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
