/* The loop's idle hook: it runs once the callbacks that were ready, and
 * those that became ready while they ran, have run, before the loop waits
 * again, so work that follows a round (the prom sink's render ahead) sees
 * all of the round; and an fd that stays ready does not starve it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
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

/* A callback that becomes ready while another runs (a sensor's timer due a
 * few µs after the one before it, whose round takes a millisecond): idle
 * waits for it too, as a round's sensors' timers fire so. Here the first
 * callback makes the second ready itself (an eventfd), so nothing depends
 * on timing. */
struct chain {
	struct sb_loop *loop;
	int efd;
	int first, second;
	int idles, idle_between;
};

/* Each test's bound: a loop that never stops fails instead of hanging. */
static int timed_out;
static void on_bound(void *arg)
{
	timed_out++;
	sb_loop_stop(arg);
}

static struct sb_timer *bound_new(struct sb_loop *l)
{
	struct sb_timer *t = sb_timer_new(l, on_bound, l);
	assert_non_null(t);
	assert_int_equal(sb_timer_set(t, 2 * SB_NSEC_PER_SEC, 0), 0);
	timed_out = 0;
	return t;
}

static void chain_first(void *arg)
{
	struct chain *c = arg;
	uint64_t one = 1;
	c->first++;
	assert_int_equal(write(c->efd, &one, sizeof(one)), (int)sizeof(one));
}

static void chain_second(void *arg, int fd, uint32_t events)
{
	(void)events;
	struct chain *c = arg;
	uint64_t v;
	assert_int_equal(read(fd, &v, sizeof(v)), (int)sizeof(v));
	c->second++;
}

static void chain_idle(void *arg)
{
	struct chain *c = arg;
	c->idles++;
	c->idle_between += c->first == 1 && c->second == 0;
	if (c->second)
		sb_loop_stop(c->loop);
}

static void test_idle_waits_for_what_became_ready_meanwhile(void **state)
{
	(void)state;
	struct chain c = {.loop = sb_loop_new()};
	assert_non_null(c.loop);
	c.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(c.efd >= 0);
	assert_int_equal(sb_loop_add_fd(c.loop, c.efd, SB_EV_READ, chain_second, &c), 0);
	struct sb_timer *t = sb_timer_new(c.loop, chain_first, &c);
	assert_non_null(t);
	struct sb_timer *bound = bound_new(c.loop);
	sb_loop_on_idle(c.loop, chain_idle, &c);
	assert_int_equal(sb_timer_set(t, 1, 0), 0);
	assert_int_equal(sb_loop_run(c.loop), 0);
	assert_int_equal(c.first, 1);
	assert_int_equal(c.second, 1);
	assert_int_equal(c.idle_between, 0);
	assert_int_equal(timed_out, 0); /* stopped by idle, which saw both */
	assert_int_equal(c.idles, 2);	/* before the first wait, and after both */
	sb_loop_on_idle(c.loop, NULL, NULL);
	sb_timer_free(t);
	sb_timer_free(bound);
	sb_loop_del_fd(c.loop, c.efd);
	close(c.efd);
	sb_loop_free(c.loop);
}

/* An fd that stays ready (never drained) must not keep idle from running:
 * it runs after at most two batches, as the bus delivers and the prom sink
 * renders from it. */
struct busy {
	struct sb_loop *loop;
	int batches, idles, most_between, since;
};

static void busy_ready(void *arg, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	struct busy *b = arg;
	b->batches++;
	if (++b->since > b->most_between)
		b->most_between = b->since;
}

static void busy_idle(void *arg)
{
	struct busy *b = arg;
	b->since = 0;
	if (++b->idles == 20)
		sb_loop_stop(b->loop);
}

static void test_idle_runs_beside_an_fd_always_ready(void **state)
{
	(void)state;
	struct busy b = {.loop = sb_loop_new()};
	assert_non_null(b.loop);
	int efd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC); /* ready, and never read */
	assert_true(efd >= 0);
	assert_int_equal(sb_loop_add_fd(b.loop, efd, SB_EV_READ, busy_ready, &b), 0);
	struct sb_timer *bound = bound_new(b.loop);
	sb_loop_on_idle(b.loop, busy_idle, &b);
	assert_int_equal(sb_loop_run(b.loop), 0);
	assert_int_equal(timed_out, 0);
	assert_int_equal(b.idles, 20);
	assert_true(b.batches >= 19);
	assert_true(b.most_between <= 2);
	sb_loop_on_idle(b.loop, NULL, NULL);
	sb_timer_free(bound);
	sb_loop_del_fd(b.loop, efd);
	close(efd);
	sb_loop_free(b.loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_idle_runs_after_the_ready_callbacks),
	    cmocka_unit_test(test_idle_waits_for_what_became_ready_meanwhile),
	    cmocka_unit_test(test_idle_runs_beside_an_fd_always_ready),
	};
	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
