/* The prom sink's render ahead: a scrape is answered from it only when it
 * is what a render at that moment would give, in the form asked for; it is
 * made only after a scrape asked since the last one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/sinks/prom_ahead.h"
#include "sb_event.h"

#define S SB_NSEC_PER_SEC

struct fx {
	struct sb_prom_store *st;
	struct sb_prom_ahead a;
	struct sb_evb b;
	struct sb_buf got, want;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sb_prom_store_opts o = {.interval = 1 * S, .stale_after = 5};
	f->st = sb_prom_store_new(&o);
	sb_prom_ahead_init(&f->a);
	sb_evb_init(&f->b);
	sb_buf_init(&f->got);
	sb_buf_init(&f->want);
	*state = f;
	return f->st ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sb_prom_ahead_free(&f->a);
	sb_prom_store_free(f->st);
	sb_evb_free(&f->b);
	sb_buf_free(&f->got);
	sb_buf_free(&f->want);
	free(f);
	return 0;
}

/* One round of a 1 s sensor at t seconds: load = v. */
static void round_at(struct fx *f, int64_t t, double v)
{
	sb_evb_begin(&f->b, "proc", "metrics");
	sb_evb_sample(&f->b, "node_load1", SB_GAUGE, v);
	struct sb_event *ev = sb_evb_finish(&f->b);
	assert_non_null(ev);
	sb_prom_store_update(f->st, &ev, 1, t * S);
	sb_event_unref(ev);
}

/* A scrape at t: true when answered from the render ahead, which is then
 * in f->got. */
static bool scrape(struct fx *f, enum sb_prom_format fmt, bool gz, int64_t t)
{
	sb_buf_reset(&f->got);
	struct sb_prom_body *b = sb_prom_ahead_take(&f->a, f->st, fmt, gz, t * S);
	if (b)
		sb_buf_add(&f->got, b->buf.data, b->buf.len);
	sb_prom_body_unref(b);
	return b != NULL;
}

/* What the scrape would have rendered itself at t. */
static void assert_got_a_render_at(struct fx *f, enum sb_prom_format fmt, int64_t t)
{
	sb_buf_reset(&f->want);
	sb_prom_store_render(f->st, &f->want, fmt, t * S);
	assert_true(f->want.len > 0);
	assert_int_equal(f->got.len, f->want.len);
	assert_memory_equal(f->got.data, f->want.data, f->want.len);
}

static void is_made_after_a_scrape_and_taken_until_the_store_changes(void **state)
{
	struct fx *f = *state;
	round_at(f, 0, 0.5);
	sb_prom_ahead_make(&f->a, f->st, NULL, 0); /* no scrape asked yet */
	assert_false(scrape(f, SB_PROM_TEXT, false, 0));
	sb_prom_ahead_make(&f->a, f->st, NULL, 0);
	assert_true(scrape(f, SB_PROM_TEXT, false, 0));
	assert_got_a_render_at(f, SB_PROM_TEXT, 0);
	assert_true(scrape(f, SB_PROM_TEXT, false, 0)); /* nothing changed */
	round_at(f, 1, 0.75);
	assert_false(scrape(f, SB_PROM_TEXT, false, 1)); /* the last round is not in it */
	sb_prom_ahead_make(&f->a, f->st, NULL, 1 * S);
	assert_true(scrape(f, SB_PROM_TEXT, false, 1));
	assert_non_null(strstr(sb_buf_cstr(&f->got), "node_load1 0.75\n"));
	assert_got_a_render_at(f, SB_PROM_TEXT, 1);
	assert_true(atomic_load(&f->a.taken) == 3);
}

/* With no scrape since the last one made, a round is not rendered ahead,
 * and the scrape that comes then renders itself: never an older round. */
static void is_not_made_while_no_scrape_asks(void **state)
{
	struct fx *f = *state;
	round_at(f, 0, 1);
	assert_false(scrape(f, SB_PROM_TEXT, false, 0));
	sb_prom_ahead_make(&f->a, f->st, NULL, 0); /* takes the want */
	round_at(f, 1, 2);
	sb_prom_ahead_make(&f->a, f->st, NULL, 1 * S); /* not wanted: not made */
	assert_false(scrape(f, SB_PROM_TEXT, false, 1));
	assert_true(atomic_load(&f->a.taken) == 0);
}

/* stale_after 5 of a 1 s sensor's rounds: the series last seen at 2 is
 * shown until 7 and gone after, so the render ahead is too. */
static void is_not_taken_once_a_series_it_shows_expired(void **state)
{
	struct fx *f = *state;
	for (int t = 0; t <= 2; t++)
		round_at(f, t, 1);
	assert_false(scrape(f, SB_PROM_TEXT, false, 2));
	sb_prom_ahead_make(&f->a, f->st, NULL, 2 * S);
	assert_true(scrape(f, SB_PROM_TEXT, false, 7));
	assert_got_a_render_at(f, SB_PROM_TEXT, 7);
	assert_false(scrape(f, SB_PROM_TEXT, false, 8));
	sb_buf_reset(&f->want);
	sb_prom_store_render(f->st, &f->want, SB_PROM_TEXT, 8 * S);
	assert_int_equal(f->want.len, 0);
}

/* Made in the form the last scrape asked for; another form renders. */
static void is_in_the_form_the_last_scrape_asked_for(void **state)
{
	struct fx *f = *state;
	struct sb_prom_gzip *gz = sb_prom_gzip_new(false); /* zlib: the same bytes each time */
	assert_non_null(gz);
	round_at(f, 0, 1);
	assert_false(scrape(f, SB_PROM_OPENMETRICS, false, 0));
	sb_prom_ahead_make(&f->a, f->st, gz, 0);
	assert_false(scrape(f, SB_PROM_TEXT, false, 0));
	assert_false(scrape(f, SB_PROM_OPENMETRICS, true, 0));
	sb_prom_ahead_make(&f->a, f->st, gz, 0); /* now wanted: OpenMetrics, gzip */
	assert_true(scrape(f, SB_PROM_OPENMETRICS, true, 0));
	sb_buf_reset(&f->want);
	sb_prom_store_render(f->st, &f->want, SB_PROM_OPENMETRICS, 0);
	assert_non_null(strstr(sb_buf_cstr(&f->want), "# EOF\n"));
	struct sb_buf z;
	sb_buf_init(&z);
	assert_int_equal(sb_prom_gzip(gz, &f->want, &z), 0);
	assert_int_equal(f->got.len, z.len);
	assert_memory_equal(f->got.data, z.data, z.len);
	sb_buf_free(&z);
	assert_false(scrape(f, SB_PROM_OPENMETRICS, false, 0));
	sb_prom_gzip_free(gz);
}

/* An answer still being sent holds its body: the renders after it leave
 * it as it was, and it is freed when the answer lets it go. */
static void a_body_being_sent_is_left_as_it_was(void **state)
{
	struct fx *f = *state;
	round_at(f, 0, 1);
	assert_false(scrape(f, SB_PROM_TEXT, false, 0));
	sb_prom_ahead_make(&f->a, f->st, NULL, 0);
	struct sb_prom_body *held = sb_prom_ahead_take(&f->a, f->st, SB_PROM_TEXT, false, 0);
	assert_non_null(held);
	struct sb_buf was;
	sb_buf_init(&was);
	sb_buf_add(&was, held->buf.data, held->buf.len);
	assert_non_null(strstr(sb_buf_cstr(&was), "node_load1 1\n"));
	for (int t = 1; t <= 4; t++) {
		round_at(f, t, t + 1);
		assert_false(scrape(f, SB_PROM_TEXT, false, t));
		sb_prom_ahead_make(&f->a, f->st, NULL, t * S);
		assert_true(scrape(f, SB_PROM_TEXT, false, t));
		assert_got_a_render_at(f, SB_PROM_TEXT, t);
		assert_int_equal(held->buf.len, was.len);
		assert_memory_equal(held->buf.data, was.data, was.len);
	}
	sb_prom_body_unref(held);
	sb_buf_free(&was);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		is_made_after_a_scrape_and_taken_until_the_store_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(is_not_made_while_no_scrape_asks, setup, teardown),
	    cmocka_unit_test_setup_teardown(is_not_taken_once_a_series_it_shows_expired, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(is_in_the_form_the_last_scrape_asked_for, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(a_body_being_sent_is_left_as_it_was, setup, teardown),
	};
	return cmocka_run_group_tests_name("prom_ahead", tests, NULL, NULL);
}
