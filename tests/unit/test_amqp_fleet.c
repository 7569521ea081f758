/* Endpoint failover of the amqp sink (src/sinks/amqp_fleet.c) with a fake
 * connect: where each worker starts, what one round of endpoints tries,
 * where a worker goes when its link closes, and what is counted. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/sinks/amqp.h"

/* The fake nodes: which are up, and the order connects tried them. */
struct nodes {
	bool up[8];
	unsigned tried[64];
	size_t ntried;
};

static int try_node(void *ctx, unsigned ep, char *err, size_t errlen)
{
	struct nodes *n = ctx;
	n->tried[n->ntried++] = ep;
	if (n->up[ep])
		return 0;
	snprintf(err, errlen, "node%u: connection refused", ep);
	return -ECONNREFUSED;
}

static void test_workers_of_one_host_start_on_different_nodes(void **state)
{
	(void)state;
	unsigned a = sb_amqp_fleet_first("node-7", 0, 3);
	unsigned b = sb_amqp_fleet_first("node-7", 1, 3);
	unsigned c = sb_amqp_fleet_first("node-7", 2, 3);
	assert_true(a < 3 && b < 3 && c < 3);
	assert_int_not_equal(a, b);
	assert_int_not_equal(b, c);
	assert_int_not_equal(a, c);
	/* stable: the same host and worker, the same node */
	assert_int_equal(sb_amqp_fleet_first("node-7", 1, 3), b);
}

static void test_a_fleet_of_hosts_spreads_over_the_nodes(void **state)
{
	(void)state;
	unsigned per[3] = {0};
	char host[32];
	for (int i = 0; i < 300; i++) {
		snprintf(host, sizeof(host), "host-%d", i);
		per[sb_amqp_fleet_first(host, 0, 3)]++;
	}
	for (int e = 0; e < 3; e++)
		assert_true(per[e] >= 50); /* none left out, none with all */
}

static void test_a_round_takes_the_first_node_up_from_the_workers_own(void **state)
{
	(void)state;
	struct sb_amqp_fleet f;
	assert_int_equal(sb_amqp_fleet_init(&f, 3, 1, "h"), 0);
	unsigned start = f.w[0].next;
	struct nodes n = {.up = {true, true, true}};
	n.up[start] = false;
	unsigned ep = 99;
	char err[512];
	assert_int_equal(sb_amqp_fleet_connect(&f, 0, try_node, &n, &ep, err, sizeof(err)), 0);
	assert_int_equal(n.ntried, 2);
	assert_int_equal(n.tried[0], start);
	assert_int_equal(ep, (start + 1) % 3);
	assert_int_equal(atomic_load(&f.w[0].cur), (int)ep);
	assert_int_equal(atomic_load(&f.failures[start]), 1);
	assert_int_equal(atomic_load(&f.failovers), 0); /* a first link is no failover */
	sb_amqp_fleet_free(&f);
}

static void test_a_round_fails_only_when_every_node_failed_and_says_why_for_each(void **state)
{
	(void)state;
	struct sb_amqp_fleet f;
	assert_int_equal(sb_amqp_fleet_init(&f, 3, 1, "h"), 0);
	struct nodes n = {0};
	unsigned ep;
	char err[512];
	assert_int_equal(sb_amqp_fleet_connect(&f, 0, try_node, &n, &ep, err, sizeof(err)),
			 -ECONNREFUSED);
	assert_int_equal(n.ntried, 3);
	assert_non_null(strstr(err, "node0: connection refused"));
	assert_non_null(strstr(err, "node1: connection refused"));
	assert_non_null(strstr(err, "node2: connection refused"));
	assert_non_null(strstr(err, "all 3 endpoints"));
	assert_int_equal(atomic_load(&f.w[0].cur), -1);
	for (int e = 0; e < 3; e++)
		assert_int_equal(atomic_load(&f.failures[e]), 1);
	sb_amqp_fleet_free(&f);
}

static void test_the_breakers_probes_start_their_rounds_at_each_node_in_turn(void **state)
{
	(void)state;
	struct sb_amqp_fleet f;
	assert_int_equal(sb_amqp_fleet_init(&f, 3, 1, "h"), 0);
	struct nodes n = {0};
	unsigned ep, first = f.w[0].next;
	char err[512];
	for (int round = 0; round < 3; round++) {
		n.ntried = 0;
		assert_int_not_equal(
		    sb_amqp_fleet_connect(&f, 0, try_node, &n, &ep, err, sizeof(err)), 0);
		assert_int_equal(n.tried[0], (first + (unsigned)round) % 3);
	}
	sb_amqp_fleet_free(&f);
}

static void test_a_lost_link_moves_the_worker_to_the_next_node_and_counts_a_failover(void **state)
{
	(void)state;
	struct sb_amqp_fleet f;
	assert_int_equal(sb_amqp_fleet_init(&f, 3, 2, "h"), 0);
	struct nodes n = {.up = {true, true, true}};
	unsigned ep, ep2;
	char err[512];
	assert_int_equal(sb_amqp_fleet_connect(&f, 1, try_node, &n, &ep, err, sizeof(err)), 0);
	sb_amqp_fleet_closed(&f, 1, true);
	assert_int_equal(atomic_load(&f.w[1].cur), -1);
	assert_int_equal(atomic_load(&f.failures[ep]), 1);
	n.up[ep] = false; /* the node is gone */
	n.ntried = 0;
	assert_int_equal(sb_amqp_fleet_connect(&f, 1, try_node, &n, &ep2, err, sizeof(err)), 0);
	assert_int_equal(n.ntried, 1); /* the dead node is not tried first */
	assert_int_equal(ep2, (ep + 1) % 3);
	assert_int_equal(atomic_load(&f.failovers), 1);
	/* the other worker was not moved */
	assert_int_equal(f.w[0].next, sb_amqp_fleet_first("h", 0, 3));
	sb_amqp_fleet_free(&f);
}

static void test_a_link_closed_without_breaking_counts_no_failure(void **state)
{
	(void)state;
	struct sb_amqp_fleet f;
	assert_int_equal(sb_amqp_fleet_init(&f, 2, 1, "h"), 0);
	struct nodes n = {.up = {true, true}};
	unsigned ep;
	char err[512];
	assert_int_equal(sb_amqp_fleet_connect(&f, 0, try_node, &n, &ep, err, sizeof(err)), 0);
	sb_amqp_fleet_closed(&f, 0, false);
	assert_int_equal(atomic_load(&f.failures[0]) + atomic_load(&f.failures[1]), 0);
	sb_amqp_fleet_free(&f);
}

static void test_one_endpoint_reconnects_to_itself_without_a_failover(void **state)
{
	(void)state;
	struct sb_amqp_fleet f;
	assert_int_equal(sb_amqp_fleet_init(&f, 1, 1, "h"), 0);
	struct nodes n = {.up = {true}};
	unsigned ep;
	char err[512];
	for (int i = 0; i < 3; i++) {
		assert_int_equal(sb_amqp_fleet_connect(&f, 0, try_node, &n, &ep, err, sizeof(err)),
				 0);
		assert_int_equal(ep, 0);
		sb_amqp_fleet_closed(&f, 0, true);
	}
	assert_int_equal(atomic_load(&f.failovers), 0);
	n.up[0] = false;
	assert_int_not_equal(sb_amqp_fleet_connect(&f, 0, try_node, &n, &ep, err, sizeof(err)), 0);
	assert_string_equal(err, "node0: connection refused"); /* as with one broker */
	sb_amqp_fleet_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_workers_of_one_host_start_on_different_nodes),
	    cmocka_unit_test(test_a_fleet_of_hosts_spreads_over_the_nodes),
	    cmocka_unit_test(test_a_round_takes_the_first_node_up_from_the_workers_own),
	    cmocka_unit_test(test_a_round_fails_only_when_every_node_failed_and_says_why_for_each),
	    cmocka_unit_test(test_the_breakers_probes_start_their_rounds_at_each_node_in_turn),
	    cmocka_unit_test(
		test_a_lost_link_moves_the_worker_to_the_next_node_and_counts_a_failover),
	    cmocka_unit_test(test_a_link_closed_without_breaking_counts_no_failure),
	    cmocka_unit_test(test_one_endpoint_reconnects_to_itself_without_a_failover),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
