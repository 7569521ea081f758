/* The prom sink's connection table: the header deadline and who is shed
 * beyond the connection limit, on a clock the test sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/sinks/prom_conn.h"

#define S 1000000000LL

struct cuts {
	int fds[16];
	int n;
};

static void note_cut(void *arg, struct sb_prom_conn *c)
{
	struct cuts *k = arg;
	k->fds[k->n++] = c->fd;
}

static void open_conns(struct sb_prom_conns *t, struct sb_prom_conn *c, int n, int64_t now)
{
	for (int i = 0; i < n; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].fd = 100 + i;
		assert_null(sb_prom_conns_add(t, &c[i], now + i));
	}
}

static void test_a_trickling_client_is_cut_at_the_header_deadline(void **state)
{
	(void)state;
	struct sb_prom_conns t;
	struct sb_prom_conn c[2];
	struct cuts k = {0};
	sb_prom_conns_init(&t, 8, 10 * S);
	open_conns(&t, c, 2, 0);
	/* however it trickles, nothing moves its deadline but a whole request */
	assert_int_equal(sb_prom_conns_sweep(&t, 9 * S, note_cut, &k), 10 * S);
	assert_int_equal(k.n, 0);
	assert_int_equal(sb_prom_conns_sweep(&t, 10 * S, note_cut, &k), 10 * S + 1);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.fds[0], 100);
	assert_true(c[0].cut);
	assert_int_equal(t.live, 1);
	assert_int_equal(t.cuts[SB_PROM_CUT_DEADLINE], 1);
	/* cut once: the next sweep passes it by while the server closes it */
	assert_int_equal(sb_prom_conns_sweep(&t, 10 * S, note_cut, &k), 10 * S + 1);
	assert_int_equal(k.n, 1);
}

static void test_a_busy_connection_has_no_header_deadline(void **state)
{
	(void)state;
	struct sb_prom_conns t;
	struct sb_prom_conn c[1];
	struct cuts k = {0};
	sb_prom_conns_init(&t, 8, 10 * S);
	open_conns(&t, c, 1, 0);
	sb_prom_conns_busy(&t, &c[0]);
	assert_int_equal(sb_prom_conns_sweep(&t, 60 * S, note_cut, &k), 70 * S);
	assert_int_equal(k.n, 0);
}

/* With none idle the sweeper sleeps header_timeout; a connection accepted
 * or answered meanwhile is due no earlier, so it is cut in time without a
 * wake-up of its own. */
static void test_a_deadline_starting_later_is_due_after_the_next_sweep(void **state)
{
	(void)state;
	struct sb_prom_conns t;
	struct sb_prom_conn c[2];
	struct cuts k = {0};
	sb_prom_conns_init(&t, 8, 10 * S);
	int64_t next = sb_prom_conns_sweep(&t, 5 * S, note_cut, &k);
	assert_int_equal(next, 15 * S);
	open_conns(&t, c, 1, 5 * S);
	assert_int_equal(sb_prom_conns_sweep(&t, next, note_cut, &k), 25 * S);
	assert_int_equal(k.n, 1); /* due at 15 s exactly: cut by that sweep */
	c[1] = (struct sb_prom_conn){.fd = 101};
	assert_null(sb_prom_conns_add(&t, &c[1], 6 * S));
	sb_prom_conns_busy(&t, &c[1]);
	next = sb_prom_conns_sweep(&t, 16 * S, note_cut, &k);
	assert_int_equal(next, 26 * S);
	sb_prom_conns_idle(&t, &c[1], 20 * S); /* due at 30 s, after next */
	assert_int_equal(sb_prom_conns_sweep(&t, next, note_cut, &k), 30 * S);
	assert_int_equal(k.n, 1);
}

static void test_keep_alive_deadline_counts_from_the_end_of_the_response(void **state)
{
	(void)state;
	struct sb_prom_conns t;
	struct sb_prom_conn c[2];
	struct cuts k = {0};
	sb_prom_conns_init(&t, 8, 10 * S);
	open_conns(&t, c, 2, 0);
	sb_prom_conns_busy(&t, &c[0]);
	sb_prom_conns_idle(&t, &c[0], 7 * S);
	/* c[1] (since 1 ns) is now first due, c[0] only at 17 s */
	assert_int_equal(sb_prom_conns_sweep(&t, 12 * S, note_cut, &k), 17 * S);
	assert_int_equal(k.n, 1);
	assert_int_equal(k.fds[0], 101);
	assert_int_equal(sb_prom_conns_sweep(&t, 17 * S, note_cut, &k), 27 * S);
	assert_int_equal(k.fds[1], 100);
}

static void test_beyond_the_limit_the_oldest_idle_is_shed(void **state)
{
	(void)state;
	struct sb_prom_conns t;
	struct sb_prom_conn c[4];
	sb_prom_conns_init(&t, 3, 10 * S);
	open_conns(&t, c, 3, 0);
	sb_prom_conns_busy(&t, &c[0]); /* inside a request: never shed */
	sb_prom_conns_busy(&t, &c[1]);
	sb_prom_conns_idle(&t, &c[1], 5 * S); /* idle again, since 5 s */
	c[3] = (struct sb_prom_conn){.fd = 103};
	struct sb_prom_conn *v = sb_prom_conns_add(&t, &c[3], 6 * S);
	assert_ptr_equal(v, &c[2]); /* idle since 2 ns: longest */
	assert_true(v->cut);
	assert_int_equal(t.live, 3);
	assert_int_equal(t.cuts[SB_PROM_CUT_LIMIT], 1);
	/* the shed one is closed by the server; the count stays right */
	sb_prom_conns_del(&t, &c[2]);
	assert_int_equal(t.live, 3);
	sb_prom_conns_del(&t, &c[3]);
	assert_int_equal(t.live, 2);
}

static void test_when_every_other_is_busy_the_newcomer_is_shed(void **state)
{
	(void)state;
	struct sb_prom_conns t;
	struct sb_prom_conn c[3];
	sb_prom_conns_init(&t, 2, 10 * S);
	open_conns(&t, c, 2, 0);
	sb_prom_conns_busy(&t, &c[0]);
	sb_prom_conns_busy(&t, &c[1]);
	c[2] = (struct sb_prom_conn){.fd = 102};
	assert_ptr_equal(sb_prom_conns_add(&t, &c[2], S), &c[2]);
	assert_false(c[0].cut || c[1].cut);
}

static void test_shed_connections_do_not_count_against_the_limit(void **state)
{
	(void)state;
	struct sb_prom_conns t;
	struct sb_prom_conn c[6];
	sb_prom_conns_init(&t, 3, 10 * S);
	open_conns(&t, c, 3, 0);
	/* a burst: each newcomer sheds one, none of the shed is shed twice */
	for (int i = 3; i < 6; i++) {
		c[i] = (struct sb_prom_conn){.fd = 100 + i};
		struct sb_prom_conn *v = sb_prom_conns_add(&t, &c[i], i);
		assert_ptr_equal(v, &c[i - 3]);
	}
	assert_int_equal(t.live, 3);
	assert_int_equal(t.cuts[SB_PROM_CUT_LIMIT], 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_trickling_client_is_cut_at_the_header_deadline),
	    cmocka_unit_test(test_a_busy_connection_has_no_header_deadline),
	    cmocka_unit_test(test_a_deadline_starting_later_is_due_after_the_next_sweep),
	    cmocka_unit_test(test_keep_alive_deadline_counts_from_the_end_of_the_response),
	    cmocka_unit_test(test_beyond_the_limit_the_oldest_idle_is_shed),
	    cmocka_unit_test(test_when_every_other_is_busy_the_newcomer_is_shed),
	    cmocka_unit_test(test_shed_connections_do_not_count_against_the_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
