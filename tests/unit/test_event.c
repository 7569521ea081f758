/* The event builder's symbol table: every sample name, label name and
 * label value of an event is one symbol, each distinct string once, with
 * its length and whether it is valid UTF-8; samples and labels point into
 * it, and everything a reader sees is as it was before symbols (C strings,
 * labels sorted by name, duplicates in the order given). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sb_event.h"

static void assert_sym(const struct sb_event *ev, uint32_t i, const char *s)
{
	assert_true(i < ev->nsyms);
	assert_int_equal(ev->syms[i].len, strlen(s));
	assert_memory_equal(ev->syms[i].s, s, strlen(s) + 1);
}

static void test_repeated_strings_are_one_symbol(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	sb_evb_begin(&b, "proc", "metrics");
	for (int c = 0; c < 2; c++)
		for (int m = 0; m < 3; m++) {
			char cpu[4];
			snprintf(cpu, sizeof(cpu), "%d", c);
			sb_evb_sample(&b, "node_cpu_seconds_total", SB_COUNTER, c * 10 + m);
			sb_evb_label(&b, "cpu", cpu);
			sb_evb_label(&b, "mode", (const char *[]){"idle", "user", "system"}[m]);
		}
	sb_evb_sample(&b, "cpu", SB_GAUGE, 1); /* a label name's string as a name */
	struct sb_event *ev = sb_evb_finish(&b);
	assert_non_null(ev);
	/* node_cpu_seconds_total cpu 0 mode idle user system 1 */
	assert_int_equal(ev->nsyms, 8);
	const struct sb_sample *s0 = &ev->samples[0], *s5 = &ev->samples[5];
	assert_int_equal(s0->name_sym, s5->name_sym);
	assert_ptr_equal(s0->name, s5->name);
	assert_sym(ev, s0->name_sym, "node_cpu_seconds_total");
	assert_int_equal(s0->labels[0].name_sym, s5->labels[0].name_sym);
	assert_sym(ev, s5->labels[0].value_sym, "1");
	assert_sym(ev, s5->labels[1].value_sym, "system");
	assert_string_equal(s5->labels[1].value, "system");
	assert_int_equal(ev->samples[6].name_sym, s0->labels[0].name_sym);
	for (uint32_t i = 0; i < ev->nsyms; i++)
		assert_true(ev->syms[i].utf8);
	sb_event_unref(ev);
	sb_evb_free(&b);
}

/* A name or label given with a length that holds a NUL ends there, as it
 * always did for readers of C strings, and is the same symbol as the
 * string without its tail. */
static void test_strings_end_at_their_first_nul(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	sb_evb_begin(&b, "scrape", "metrics");
	sb_evb_samplen(&b, "up\0tail", 7, SB_GAUGE, 1);
	sb_evb_labeln(&b, "job\0x", 5, "a\0b", 3);
	sb_evb_sample(&b, "up", SB_GAUGE, 2);
	sb_evb_label(&b, "job", "a");
	struct sb_event *ev = sb_evb_finish(&b);
	assert_non_null(ev);
	assert_int_equal(ev->nsyms, 3);
	assert_int_equal(ev->samples[0].name_sym, ev->samples[1].name_sym);
	assert_sym(ev, ev->samples[0].name_sym, "up");
	assert_sym(ev, ev->samples[0].labels[0].value_sym, "a");
	assert_int_equal(ev->samples[1].labels[0].name_sym, ev->samples[0].labels[0].name_sym);
	sb_event_unref(ev);
	sb_evb_free(&b);
}

static void test_utf8_validity_is_recorded(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	sb_evb_begin(&b, "scrape", "metrics");
	sb_evb_sample(&b, "caf\xc3\xa9_total", SB_COUNTER, 1);
	sb_evb_label(&b, "bad", "\xff\xfe long enough to take the word-wide loop");
	struct sb_event *ev = sb_evb_finish(&b);
	assert_non_null(ev);
	assert_true(ev->syms[ev->samples[0].name_sym].utf8);
	assert_true(ev->syms[ev->samples[0].labels[0].name_sym].utf8);
	assert_false(ev->syms[ev->samples[0].labels[0].value_sym].utf8);
	sb_event_unref(ev);
	sb_evb_free(&b);
}

/* Thousands of distinct strings (the table grows many times), then the
 * same builder again: nothing of the first event is found in the second. */
static void test_many_strings_and_a_reused_builder(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	char v[32];
	for (int round = 0; round < 2; round++) {
		sb_evb_begin(&b, "proc", "metrics");
		int n = round ? 3 : 5000;
		for (int i = 0; i < n; i++) {
			snprintf(v, sizeof(v), "%d", i);
			sb_evb_sample(&b, i % 2 ? "odd" : "even", SB_GAUGE, i);
			sb_evb_label(&b, "pid", v);
			sb_evb_label(&b, "again", v);
		}
		struct sb_event *ev = sb_evb_finish(&b);
		assert_non_null(ev);
		/* even odd pid again, then one per value */
		assert_int_equal(ev->nsyms, 4 + n);
		for (int i = 0; i < n; i++) {
			const struct sb_sample *s = &ev->samples[i];
			snprintf(v, sizeof(v), "%d", i);
			assert_string_equal(s->name, i % 2 ? "odd" : "even");
			assert_string_equal(s->labels[0].name, "again");
			assert_int_equal(s->labels[0].value_sym, s->labels[1].value_sym);
			assert_sym(ev, s->labels[1].value_sym, v);
		}
		sb_event_unref(ev);
	}
	sb_evb_free(&b);
}

/* Labels with the same name keep the order they were given in, the
 * same symbol or not. */
/* A fresh builder has no label array: samples without labels must not
 * do arithmetic on it (found by fuzz_amqpmsg). gcc's UBSan does not flag
 * NULL + 0; clang's does, on tests/fuzz-regress/amqpmsg/pb-samples-
 * without-labels (e2e 42). */
static void test_samples_without_labels_on_a_fresh_builder(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	sb_evb_begin(&b, "s", "metrics");
	sb_evb_sample(&b, "a", SB_GAUGE, 1);
	sb_evb_sample(&b, "b", SB_GAUGE, 2);
	struct sb_event *ev = sb_evb_finish(&b);
	assert_non_null(ev);
	assert_int_equal(ev->nsamples, 2);
	assert_int_equal(ev->samples[1].nlabels, 0);
	sb_event_unref(ev);
	sb_evb_free(&b);
}

static void test_duplicate_label_names_keep_their_order(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	sb_evb_begin(&b, "scrape", "metrics");
	sb_evb_sample(&b, "m", SB_GAUGE, 1);
	sb_evb_label(&b, "z", "1");
	sb_evb_label(&b, "a", "2");
	sb_evb_label(&b, "z", "0");
	sb_evb_label(&b, "a", "1");
	sb_evb_label(&b, "z", "2");
	struct sb_event *ev = sb_evb_finish(&b);
	assert_non_null(ev);
	const char *want[][2] = {{"a", "2"}, {"a", "1"}, {"z", "1"}, {"z", "0"}, {"z", "2"}};
	for (int i = 0; i < 5; i++) {
		assert_string_equal(ev->samples[0].labels[i].name, want[i][0]);
		assert_string_equal(ev->samples[0].labels[i].value, want[i][1]);
	}
	sb_event_unref(ev);
	sb_evb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_repeated_strings_are_one_symbol),
	    cmocka_unit_test(test_samples_without_labels_on_a_fresh_builder),
	    cmocka_unit_test(test_strings_end_at_their_first_nul),
	    cmocka_unit_test(test_utf8_validity_is_recorded),
	    cmocka_unit_test(test_many_strings_and_a_reused_builder),
	    cmocka_unit_test(test_duplicate_label_names_keep_their_order),
	};
	return cmocka_run_group_tests_name("event", tests, NULL, NULL);
}
