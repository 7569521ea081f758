/* /proc/net/sockstat and sockstat6: node_sockstat_*. */
#include "test_proc.h"

static int parse(struct tp *t, const char *text, bool v6)
{
	tp_begin(t);
	t->n = sb_proc_parse_sockstat(text, &t->b, &tp_env, v6, &t->e);
	tp_end(t);
	return t->n;
}

static void ipv4_protocols_and_mem_bytes(void **state)
{
	(void)state;
	struct tp t;
	parse(&t,
	      "sockets: used 229\n"
	      "TCP: inuse 4 orphan 0 tw 4 alloc 17 mem 1\n"
	      "UDP: inuse 0 mem 0\n"
	      "UDPLITE: inuse 0\n"
	      "RAW: inuse 0\n"
	      "FRAG: inuse 0 memory 0\n",
	      false);
	assert_int_equal(t.e.nbad, 0);
	assert_double_eq(tp_value(&t, "node_sockstat_sockets_used"), 229);
	assert_double_eq(tp_value(&t, "node_sockstat_TCP_inuse"), 4);
	assert_double_eq(tp_value(&t, "node_sockstat_TCP_tw"), 4);
	assert_double_eq(tp_value(&t, "node_sockstat_TCP_alloc"), 17);
	assert_double_eq(tp_value(&t, "node_sockstat_TCP_mem"), 1);
	assert_double_eq(tp_value(&t, "node_sockstat_TCP_mem_bytes"), 4096);
	assert_double_eq(tp_value(&t, "node_sockstat_UDP_mem_bytes"), 0);
	assert_double_eq(tp_value(&t, "node_sockstat_FRAG_memory"), 0);
	tp_absent(&t, "node_sockstat_FRAG_memory_bytes");
	assert_int_equal(t.n, 1 + 6 + 3 + 1 + 1 + 2);
	assert_string_equal(tp_find(&t, "node_sockstat_TCP_orphan", NULL)->help,
			    "Number of TCP sockets in state orphan.");
	tp_free(&t);
}

static void ipv6_file_has_no_sockets_used(void **state)
{
	(void)state;
	struct tp t;
	parse(&t,
	      "TCP6: inuse 17\nUDP6: inuse 9\nUDPLITE6: inuse 0\nRAW6: inuse 1\n"
	      "FRAG6: inuse 0 memory 0\n",
	      true);
	assert_int_equal(t.n, 6);
	assert_double_eq(tp_value(&t, "node_sockstat_TCP6_inuse"), 17);
	tp_absent(&t, "node_sockstat_sockets_used");
	tp_free(&t);
}

static void odd_pairs_and_garbage_lines_are_skipped_whole(void **state)
{
	(void)state;
	struct tp t;
	parse(&t,
	      "TCP: inuse 4 orphan\n"
	      "UDP: inuse x mem 0\n"
	      "RAW: orphan 1\n"
	      "nonsense\n"
	      "FRAG: inuse 2 memory 3\n",
	      false);
	assert_int_equal(t.e.nbad, 4);
	assert_int_equal(t.n, 2);
	tp_absent(&t, "node_sockstat_TCP_inuse");
	tp_absent(&t, "node_sockstat_RAW_orphan");
	tp_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ipv4_protocols_and_mem_bytes),
	    cmocka_unit_test(ipv6_file_has_no_sockets_used),
	    cmocka_unit_test(odd_pairs_and_garbage_lines_are_skipped_whole),
	};
	return cmocka_run_group_tests_name("proc /proc/net/sockstat", tests, NULL, NULL);
}
