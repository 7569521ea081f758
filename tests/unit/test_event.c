/* The event builder's symbol table: every sample name, label name and
 * label value of an event is one symbol, each distinct string once, with
 * its length and whether it is valid UTF-8; samples and labels point into
 * it, and everything a reader sees is as it was before symbols (C strings,
 * labels sorted by name, duplicates in the order given). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sb_event.h"
#include "sb_rodata.h"

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

/* The builder keeps the strings of past events and remembers which one
 * each position of the last event took: a buffer whose bytes change between
 * events (the same pointer, the same length) must give the new string. */
static void test_a_string_that_changes_is_not_the_last_events(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	const char *names[] = {"node_a_total", "node_b_total", "node_a_total", "node_a"};
	const char *vals[] = {"eth0", "eth1", "eth1", "eth0"};
	for (int round = 0; round < 4; round++) {
		char name[32], val[8];
		snprintf(name, sizeof(name), "%s", names[round]);
		snprintf(val, sizeof(val), "%s", vals[round]);
		sb_evb_begin(&b, "proc", "metrics");
		sb_evb_sample(&b, name, SB_COUNTER, round);
		sb_evb_label(&b, "device", val);
		sb_evb_sample(&b, "x", SB_GAUGE, 1); /* never the previous sample's */
		sb_evb_label(&b, "device", round % 2 ? "eth0" : val);
		struct sb_event *ev = sb_evb_finish(&b);
		assert_non_null(ev);
		assert_string_equal(ev->samples[0].name, names[round]);
		assert_string_equal(ev->samples[0].labels[0].value, vals[round]);
		assert_string_equal(ev->samples[1].labels[0].value,
				    round % 2 ? "eth0" : vals[round]);
		/* name device value x, and eth0 again on odd rounds unless it is val */
		uint32_t want = 4 + (round % 2 && strcmp(vals[round], "eth0"));
		assert_int_equal(ev->nsyms, want);
		assert_sym(ev, ev->samples[0].name_sym, names[round]);
		assert_sym(ev, ev->samples[1].labels[0].value_sym, ev->samples[1].labels[0].value);
		sb_event_unref(ev);
	}
	sb_evb_free(&b);
}

/* A help text is stored once an event, and one that changes between
 * events or between samples is the new one. */
static void test_help_texts_follow_their_bytes(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	char help[64];
	for (int round = 0; round < 3; round++) {
		sb_evb_begin(&b, "proc", "metrics");
		snprintf(help, sizeof(help), "Help of a, round %d.", round);
		sb_evb_sample(&b, "a", SB_GAUGE, 1);
		sb_evb_help(&b, help);
		sb_evb_sample(&b, "a", SB_GAUGE, 2);
		sb_evb_help(&b, help);
		snprintf(help, sizeof(help), "Help of b.");
		sb_evb_sample(&b, "b", SB_GAUGE, 3);
		sb_evb_help(&b, help);
		sb_evb_sample(&b, "c", SB_GAUGE, 4); /* no help */
		sb_evb_sample(&b, "b", SB_GAUGE, 5);
		sb_evb_help(&b, "Help of b.");
		struct sb_event *ev = sb_evb_finish(&b);
		assert_non_null(ev);
		snprintf(help, sizeof(help), "Help of a, round %d.", round);
		assert_string_equal(ev->samples[0].help, help);
		assert_ptr_equal(ev->samples[1].help, ev->samples[0].help);
		assert_string_equal(ev->samples[2].help, "Help of b.");
		assert_null(ev->samples[3].help);
		assert_ptr_equal(ev->samples[4].help, ev->samples[2].help);
		/* the texts are the event's own, not the builder's */
		assert_true(ev->samples[0].help > (const char *)ev &&
			    ev->samples[0].help < (const char *)ev + ev->size);
		sb_event_unref(ev);
	}
	sb_evb_free(&b);
}

/* Label values that change every event (pids): the builder drops its
 * strings when it holds far more than events take, and what an event
 * remembered from before is not believed after that. */
static void test_changing_values_keep_the_dictionary_small(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	char v[32];
	size_t most = 0;
	for (int round = 0; round < 60; round++) {
		sb_evb_begin(&b, "proc", "metrics");
		for (int i = 0; i < 100; i++) {
			snprintf(v, sizeof(v), "%d", round * 100 + i);
			sb_evb_sample(&b, "p", SB_GAUGE, i);
			sb_evb_label(&b, "pid", v);
		}
		struct sb_event *ev = sb_evb_finish(&b);
		assert_non_null(ev);
		assert_int_equal(ev->nsyms, 102);
		for (int i = 0; i < 100; i++) {
			snprintf(v, sizeof(v), "%d", round * 100 + i);
			assert_sym(ev, ev->samples[i].labels[0].value_sym, v);
		}
		sb_event_unref(ev);
		most = b.nents > most ? b.nents : most;
	}
	/* 102 an event, dropped past 2 * 102 + the slack of 1024 */
	assert_true(most <= 2 * 102 + 1024 + 102);
	assert_true(most >= 1024); /* it was kept for a while */
	sb_evb_free(&b);
}

/* The per-event marks on kept strings are event numbers: when the number
 * wraps, no string may count as already in the new event. */
static void test_event_numbers_wrap(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	b.epoch = UINT32_MAX - 2;
	for (int round = 0; round < 5; round++) {
		char v[8], h[8]; /* new strings in every event, whose marks are 0 */
		snprintf(v, sizeof(v), "v%d", round);
		snprintf(h, sizeof(h), "h%d", round);
		sb_evb_begin(&b, "proc", "metrics");
		sb_evb_sample(&b, round % 2 ? "odd" : "even", SB_GAUGE, 1);
		sb_evb_label(&b, "l", v);
		sb_evb_help(&b, h);
		struct sb_event *ev = sb_evb_finish(&b);
		assert_non_null(ev);
		assert_int_equal(ev->nsyms, 3);
		assert_sym(ev, 0, round % 2 ? "odd" : "even");
		assert_sym(ev, 1, "l");
		assert_sym(ev, 2, v);
		assert_string_equal(ev->samples[0].help, h);
		sb_event_unref(ev);
	}
	assert_true(b.epoch < 10);
	sb_evb_free(&b);
}

/* Past a few labels the sort is qsort_r's, stable all the same. */
static void test_many_labels_sorted_stably(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	sb_evb_begin(&b, "scrape", "metrics");
	sb_evb_sample(&b, "m", SB_GAUGE, 1);
	char name[8], value[8];
	for (int i = 0; i < 40; i++) { /* names z..a twice over, values by order */
		snprintf(name, sizeof(name), "%c", 'z' - i % 20);
		snprintf(value, sizeof(value), "%d", i);
		sb_evb_label(&b, name, value);
	}
	struct sb_event *ev = sb_evb_finish(&b);
	assert_non_null(ev);
	assert_int_equal(ev->samples[0].nlabels, 40);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "%c", 'a' + 6 + i / 2);
		snprintf(value, sizeof(value), "%d", 19 - i / 2 + (i % 2) * 20);
		assert_string_equal(ev->samples[0].labels[i].name, name);
		assert_string_equal(ev->samples[0].labels[i].value, value);
	}
	sb_event_unref(ev);
	sb_evb_free(&b);
}

static char writable[] = "node_written";

/* Only the program's own read-only image is trusted: a literal and a
 * const table of literals are in it; the stack, the heap and a writable
 * static array are not. */
static void test_rodata_is_the_read_only_image(void **state)
{
	(void)state;
	static const char *const table[] = {"a", "b"};
	sb_rodata_init();
	char stack[8] = "x";
	char *heap = strdup("x");
	assert_true(sb_rodata("node_load1"));
	assert_true(sb_rodata(table[1]));
	assert_true(sb_rodata((const void *)test_rodata_is_the_read_only_image));
	assert_false(sb_rodata(stack));
	assert_false(sb_rodata(heap));
	assert_false(sb_rodata(writable));
	assert_false(sb_rodata(NULL));
	free(heap);
}

static struct sb_event *one(struct sb_evb *b, const char *name, const char *help, const char *lname)
{
	sb_evb_begin(b, "proc", "metrics");
	sb_evb_sample(b, name, SB_GAUGE, 1);
	if (help)
		sb_evb_help(b, help);
	if (lname)
		sb_evb_label(b, lname, "v");
	return sb_evb_finish(b);
}

/* The memo takes a literal at the same place as last time for the same
 * string without reading it; a writable buffer at the same address is
 * read, whatever it holds now. */
static void test_a_literal_at_its_place_is_its_string(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	char buf[32];
	for (int round = 0; round < 4; round++) {
		snprintf(buf, sizeof(buf), "help %d", round % 2);
		sb_evb_begin(&b, "proc", "metrics");
		sb_evb_sample(&b, "node_a", SB_GAUGE, 1);
		sb_evb_help(&b, "Literal help.");
		sb_evb_label(&b, "device", buf);
		sb_evb_sample(&b, buf, SB_GAUGE, 2);
		sb_evb_help(&b, buf);
		struct sb_event *ev = sb_evb_finish(&b);
		assert_non_null(ev);
		assert_string_equal(ev->samples[0].name, "node_a");
		assert_string_equal(ev->samples[0].help, "Literal help.");
		assert_string_equal(ev->samples[0].labels[0].value, buf);
		assert_string_equal(ev->samples[1].name, buf);
		assert_string_equal(ev->samples[1].help, buf);
		sb_event_unref(ev);
	}
	sb_evb_free(&b);
}

/* A string given by address alone (SB_EVB_NUL) is told by its place only
 * where the memo took that place for the whole string: a prefix of the same
 * literal given with its length, at the same place in the round before or
 * after, is neither taken for it nor mistaken for it. */
static void test_a_prefix_of_a_literal_is_not_the_literal(void **state)
{
	(void)state;
	static const char *const names[] = {"node_abcdef"};
	const char *volatile whole = names[0]; /* its length not the compiler's */
	struct sb_evb b;
	sb_evb_init(&b);
	for (int round = 0; round < 6; round++) {
		sb_evb_begin(&b, "proc", "metrics");
		if (round % 2)
			sb_evb_sample(&b, whole, SB_GAUGE, 1);
		else
			sb_evb_samplen(&b, names[0], 6, SB_GAUGE, 1);
		sb_evb_label(&b, "l", whole);
		struct sb_event *ev = sb_evb_finish(&b);
		assert_non_null(ev);
		assert_string_equal(ev->samples[0].name, round % 2 ? "node_abcdef" : "node_a");
		assert_string_equal(ev->samples[0].labels[0].value, "node_abcdef");
		sb_event_unref(ev);
	}
	sb_evb_free(&b);
}

/* When the dictionary is dropped its entries are numbered anew; a literal
 * at a place the memo knew must not be taken for whatever string now has
 * its old entry's number. Here "dddd", a help text, becomes entry 1, the
 * number the label name "aaaa" had, with the same length. */
static void test_a_dropped_dictionary_forgets_the_places(void **state)
{
	(void)state;
	struct sb_evb b;
	sb_evb_init(&b);
	char name[16];
	/* entries 0 "node_x" and 1 "aaaa", then many more to be dropped */
	sb_evb_begin(&b, "proc", "metrics");
	sb_evb_sample(&b, "node_x", SB_GAUGE, 1);
	sb_evb_label(&b, "aaaa", "v");
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		sb_evb_sample(&b, name, SB_GAUGE, i);
	}
	struct sb_event *ev = sb_evb_finish(&b);
	assert_non_null(ev);
	sb_event_unref(ev);
	/* a small event: the next begin drops the dictionary */
	ev = one(&b, "node_x", NULL, "aaaa");
	assert_non_null(ev);
	sb_event_unref(ev);
	char heap[8];
	snprintf(heap, sizeof(heap), "dddd");
	ev = one(&b, "node_x", heap, "aaaa");
	assert_non_null(ev);
	assert_string_equal(ev->samples[0].help, "dddd");
	assert_string_equal(ev->samples[0].labels[0].name, "aaaa");
	sb_event_unref(ev);
	sb_evb_free(&b);
}

static uint64_t symver_of(struct sb_evb *b, const char *name, const char *value, bool finish)
{
	sb_evb_begin(b, "proc", "metrics");
	sb_evb_sample(b, name, SB_GAUGE, 1);
	sb_evb_label(b, "device", value);
	if (!finish)
		return 0;
	struct sb_event *ev = sb_evb_finish(b);
	assert_non_null(ev);
	uint64_t v = ev->symver;
	sb_event_unref(ev);
	return v;
}

/* An event whose symbol table is the last event's keeps its version; any
 * other string, order or count draws a new one, and so does an event
 * after one that was begun and never finished (its strings are in the
 * memo). Another builder's versions are its own. */
static void test_symbol_table_versions(void **state)
{
	(void)state;
	struct sb_evb b, c;
	sb_evb_init(&b);
	sb_evb_init(&c);
	char dev[8] = "eth0";
	uint64_t v1 = symver_of(&b, "node_up", dev, true);
	assert_true(v1 != 0);
	assert_true(symver_of(&b, "node_up", dev, true) == v1);
	snprintf(dev, sizeof(dev), "eth1");
	uint64_t v2 = symver_of(&b, "node_up", dev, true);
	assert_true(v2 != v1);
	assert_true(symver_of(&b, "node_up", dev, true) == v2);
	/* the same strings in another order */
	sb_evb_begin(&b, "proc", "metrics");
	sb_evb_sample(&b, "device", SB_GAUGE, 1);
	sb_evb_label(&b, "node_up", dev);
	struct sb_event *ev = sb_evb_finish(&b);
	uint64_t v3 = ev->symver;
	sb_event_unref(ev);
	assert_true(v3 != v2);
	assert_true(symver_of(&b, "node_up", dev, true) != v3);
	uint64_t v4 = symver_of(&b, "node_up", dev, true);
	/* begun with other strings, left unfinished, then the same again */
	symver_of(&b, "node_down", dev, false);
	uint64_t v5 = symver_of(&b, "node_down", dev, true);
	assert_true(v5 != v4);
	assert_true(symver_of(&b, "node_down", dev, true) == v5);
	/* fewer strings than the last event, each at its place */
	sb_evb_begin(&b, "proc", "metrics");
	sb_evb_sample(&b, "node_down", SB_GAUGE, 1);
	ev = sb_evb_finish(&b);
	assert_true(ev->symver != v5);
	sb_event_unref(ev);
	assert_true(symver_of(&c, "node_down", dev, true) != v5);
	sb_evb_free(&b);
	sb_evb_free(&c);
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
	    cmocka_unit_test(test_a_string_that_changes_is_not_the_last_events),
	    cmocka_unit_test(test_help_texts_follow_their_bytes),
	    cmocka_unit_test(test_changing_values_keep_the_dictionary_small),
	    cmocka_unit_test(test_event_numbers_wrap),
	    cmocka_unit_test(test_many_labels_sorted_stably),
	    cmocka_unit_test(test_rodata_is_the_read_only_image),
	    cmocka_unit_test(test_a_prefix_of_a_literal_is_not_the_literal),
	    cmocka_unit_test(test_a_literal_at_its_place_is_its_string),
	    cmocka_unit_test(test_a_dropped_dictionary_forgets_the_places),
	    cmocka_unit_test(test_symbol_table_versions),
	};
	return cmocka_run_group_tests_name("event", tests, NULL, NULL);
}
