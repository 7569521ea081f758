/* The Prometheus store's shortcuts (a sample found by its symbol ids, a
 * series' line kept between scrapes) change nothing a scrape shows: a
 * store used round after round renders, byte for byte, what a store that
 * took the same events the long way renders the first time. */
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
#include "../../src/sinks/prom_store_int.h"
#include "sb_event.h"
#include "sb_log.h"

#define S SB_NSEC_PER_SEC
#define MAX_EVENTS 64

struct fx {
	struct sb_prom_store *st; /* with its shortcuts, kept all along */
	struct sb_evb b;
	struct sb_event *evs[MAX_EVENTS];
	int64_t at[MAX_EVENTS]; /* when each was applied, s */
	size_t n;
};

static void quiet(enum sb_log_level l, const char *line, void *arg)
{
	(void)l;
	(void)line;
	(void)arg;
}

static const struct sb_prom_store_opts opts = {.interval = 1 * S, .stale_after = 3};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->st = sb_prom_store_new(&opts);
	sb_evb_init(&f->b);
	sb_log_set_hook(quiet, NULL);
	*state = f;
	return f->st ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	for (size_t i = 0; i < f->n; i++)
		sb_event_unref(f->evs[i]);
	sb_prom_store_free(f->st);
	sb_evb_free(&f->b);
	sb_log_set_hook(NULL, NULL);
	free(f);
	return 0;
}

static void begin(struct fx *f, const char *src, int64_t t)
{
	sb_evb_begin(&f->b, src, "metrics");
	sb_evb_time(&f->b, 1700000000 * S + t * S);
}

static void apply(struct fx *f, int64_t now)
{
	struct sb_event *ev = sb_evb_finish(&f->b);
	assert_non_null(ev);
	assert_true(f->n < MAX_EVENTS);
	f->evs[f->n] = ev;
	f->at[f->n++] = now;
	sb_prom_store_update(f->st, &ev, 1, now * S);
}

static void sample(struct fx *f, const char *name, double v, const char *l1, const char *v1,
		   const char *l2, const char *v2)
{
	sb_evb_sample(&f->b, name, SB_GAUGE, v);
	sb_evb_help(&f->b, "A help.");
	if (l1)
		sb_evb_label(&f->b, l1, v1);
	if (l2)
		sb_evb_label(&f->b, l2, v2);
}

/* Scrapes the kept store at now in both formats and checks each against a
 * new store, without shortcuts, given every event so far. */
static void same_as_afresh(struct fx *f, int64_t now)
{
	for (int fmt = SB_PROM_TEXT; fmt <= SB_PROM_OPENMETRICS; fmt++) {
		struct sb_prom_store *fresh = sb_prom_store_new(&opts);
		assert_non_null(fresh);
		fresh->no_shortcuts = true;
		for (size_t i = 0; i < f->n; i++)
			sb_prom_store_update(fresh, &f->evs[i], 1, f->at[i] * S);
		struct sb_buf kept, want;
		sb_buf_init(&kept);
		sb_buf_init(&want);
		sb_prom_store_render(f->st, &kept, fmt, now * S);
		sb_prom_store_render(fresh, &want, fmt, now * S);
		assert_string_equal(sb_buf_cstr(&kept), sb_buf_cstr(&want));
		struct sb_prom_store_stats a, b;
		sb_prom_store_stats(f->st, &a);
		sb_prom_store_stats(fresh, &b);
		assert_int_equal(a.series, b.series);
		assert_int_equal(a.expired, b.expired);
		sb_buf_free(&kept);
		sb_buf_free(&want);
		sb_prom_store_free(fresh);
	}
}

/* Values change, stay, turn to -0, NaN, fractions and back, rounds apart. */
static void renders_changed_values_as_afresh(void **state)
{
	struct fx *f = *state;
	static const double v[] = {1,
				   1,
				   2.5,
				   -0.0,
				   0,
				   NAN,
				   INFINITY,
				   1e-7,
				   1796324175.6235745,
				   147.68800000000002,
				   147.68800000000002,
				   3};
	for (int t = 0; t < (int)(sizeof(v) / sizeof(v[0])); t++) {
		begin(f, "proc", t);
		sample(f, "node_a", v[t], "cpu", "0", NULL, NULL);
		sample(f, "node_a", t, "cpu", "1", NULL, NULL);
		sample(f, "node_b", 7, NULL, NULL, NULL, NULL);
		apply(f, t);
		same_as_afresh(f, t);
	}
}

/* A label value changes in place (the same symbol index with other text),
 * samples swap places, a value that escapes to the text of another is
 * given, and a series comes and goes. */
static void finds_series_as_symbols_change(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *a, *b;
		bool swap, extra;
	} r[] = {
	    {"eth0", "up", false, false},    {"eth0", "up", false, false},
	    {"eth1", "up", false, false},    {"eth0", "down", true, false},
	    {"eth0", "down", true, true},    {"a\\\\", "up", false, true},
	    {"a\\", "up", false, true},	     {"a\"b", "q,r=\"s", false, false},
	    {"eth0", "up", false, false},    {"eth0", "up", false, false},
	    {"eth0", "up", false, false},    {"eth0", "up", false, false},
	    {"\xff\xfe", "up", false, true}, {"eth0", "up", false, false},
	};
	for (int t = 0; t < (int)(sizeof(r) / sizeof(r[0])); t++) {
		begin(f, "proc", t);
		if (!r[t].swap)
			sample(f, "node_net_up", t, "device", r[t].a, "operstate", r[t].b);
		sample(f, "node_net_mtu", 1500, "device", r[t].a, NULL, NULL);
		if (r[t].swap)
			sample(f, "node_net_up", t, "device", r[t].a, "operstate", r[t].b);
		if (r[t].extra)
			sample(f, "node_new", t * 0.5, "operstate", r[t].b, "device", r[t].a);
		apply(f, t);
		same_as_afresh(f, t);
		same_as_afresh(f, t + 2); /* some have expired by then */
	}
}

/* Two sources send the same series; another source's symbols at the same
 * indices name other strings. */
static void keeps_sources_apart(void **state)
{
	struct fx *f = *state;
	for (int t = 0; t < 6; t++) {
		begin(f, t % 2 ? "proc" : "agent", t);
		sample(f, "sensorbus_x", t, "sensor", t % 2 ? "proc" : "agent", NULL, NULL);
		sample(f, "sensorbus_y", 1, "sensor", "proc", NULL, NULL);
		apply(f, t);
		same_as_afresh(f, t);
	}
	/* a scraped event: its series get a target label, never by ids */
	for (int t = 6; t < 9; t++) {
		begin(f, "scrape", t);
		sb_evb_field_str(&f->b, "target", "http://x", 8);
		sample(f, "sensorbus_x", t, "sensor", "proc", NULL, NULL);
		apply(f, t);
		same_as_afresh(f, t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(renders_changed_values_as_afresh, setup, teardown),
	    cmocka_unit_test_setup_teardown(finds_series_as_symbols_change, setup, teardown),
	    cmocka_unit_test_setup_teardown(keeps_sources_apart, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
