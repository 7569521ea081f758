/* The loop's idle hook: it runs once the callbacks that were ready have
 * run, before the loop waits again, so work that follows a round (the prom
 * sink's render ahead) sees all of the round. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "sb_loop.h"
#include "sb_util.h"

struct seen {
	struct sb_loop *loop;
	int fired;	     /* timer callbacks so far */
	int idles;	     /* idle calls so far */
	int idle_after_both; /* idle calls that saw both timers fired */
	int idle_between;    /* idle calls that saw one of them only */
};

static void on_timer(void *arg)
{
	struct seen *s = arg;
	s->fired++;
}

static void on_stop(void *arg)
{
	struct seen *s = arg;
	sb_loop_stop(s->loop);
}

static void on_idle(void *arg)
{
	struct seen *s = arg;
	s->idles++;
	s->idle_after_both += s->fired == 2;
	s->idle_between += s->fired == 1;
}

/* Two one-shot timers already due when the loop starts fire in one wake:
 * idle runs after both, never between them, and before the loop waits. */
static void test_idle_runs_after_the_ready_callbacks(void **state)
{
	(void)state;
	struct seen s = {.loop = sb_loop_new()};
	assert_non_null(s.loop);
	struct sb_timer *a = sb_timer_new(s.loop, on_timer, &s);
	struct sb_timer *b = sb_timer_new(s.loop, on_timer, &s);
	struct sb_timer *stop = sb_timer_new(s.loop, on_stop, &s);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(stop);
	sb_loop_on_idle(s.loop, on_idle, &s);
	assert_int_equal(sb_timer_set(a, 1, 0), 0);
	assert_int_equal(sb_timer_set(b, 1, 0), 0);
	assert_int_equal(sb_timer_set(stop, 50 * SB_NSEC_PER_MSEC, 0), 0);
	struct timespec ts = {0, 2 * 1000 * 1000};
	nanosleep(&ts, NULL); /* both due before the loop first waits */
	assert_int_equal(sb_loop_run(s.loop), 0);
	assert_int_equal(s.fired, 2);
	assert_int_equal(s.idle_between, 0);
	assert_int_equal(s.idle_after_both, 1); /* then the stop timer's wake ends it */
	assert_int_equal(s.idles, 2);		/* and once before the first wait */
	sb_loop_on_idle(s.loop, NULL, NULL);
	sb_timer_free(a);
	sb_timer_free(b);
	sb_timer_free(stop);
	sb_loop_free(s.loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_idle_runs_after_the_ready_callbacks),
	};
	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
