/* /proc/net/rpc/nfs: node_nfs_*, node_exporter 1.5.0's nfs collector. */
#include "test_proc_fx.h"

#define NFS_ALL (3 + 3 + 18 + 22 + 59)

static int parse(struct tp *t, const char *text)
{
	tp_begin(t);
	t->n = sb_proc_parse_nfs(text, &t->b, &t->e);
	tp_end(t);
	return t->n;
}

static double req(struct tp *t, const char *proto, const char *method)
{
	return tp_value(t, "node_nfs_requests_total", "proto", proto, "method", method);
}

/* The synthetic file: no proc2 line (zeros, as node_exporter), v3's 22,
 * and v4's 69 of which 1.5.0 knows the first 59. */
static void client_counters(void **state)
{
	(void)state;
	struct tp t;
	char *text = tp_fixture("synthetic/proc/net/rpc/nfs");
	parse(&t, text);
	free(text);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, NFS_ALL);
	assert_double_eq(tp_value(&t, "node_nfs_packets_total", "protocol", "udp"), 0);
	assert_double_eq(tp_value(&t, "node_nfs_packets_total", "protocol", "tcp"), 5123);
	assert_double_eq(tp_value(&t, "node_nfs_connections_total", NULL), 17);
	assert_double_eq(tp_value(&t, "node_nfs_rpcs_total", NULL), 5120);
	assert_double_eq(tp_value(&t, "node_nfs_rpc_retransmissions_total", NULL), 3);
	assert_double_eq(tp_value(&t, "node_nfs_rpc_authentication_refreshes_total", NULL), 5120);
	assert_double_eq(req(&t, "2", "GetAttr"), 0);
	assert_double_eq(req(&t, "3", "Null"), 300);
	assert_double_eq(req(&t, "3", "Access"), 304);
	assert_double_eq(req(&t, "3", "Commit"), 321);
	assert_double_eq(req(&t, "4", "Null"), 400);
	assert_double_eq(req(&t, "4", "Getattr"), 418);
	assert_double_eq(req(&t, "4", "Clone"), 458);
	const struct sb_sample *s = tp_find(&t, "node_nfs_requests_total", NULL);
	assert_int_equal(s->type, SB_COUNTER);
	assert_string_equal(s->help, "Number of NFS procedures invoked.");
	assert_string_equal(tp_find(&t, "node_nfs_packets_total", NULL)->help,
			    "Total NFSd network packets (sent+received) by protocol type.");
	assert_string_equal(tp_find(&t, "node_nfs_rpc_retransmissions_total", NULL)->help,
			    "Number of RPC transmissions performed.");
	tp_free(&t);
}

/* An old kernel's short proc4 is padded with zeros; v2 and v3 may be
 * longer than 1.5.0 knows. */
static void edges(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "proc4 3 7 8 9\nproc2 19 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19\n");
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, NFS_ALL);
	assert_double_eq(req(&t, "4", "Write"), 9);
	assert_double_eq(req(&t, "4", "Commit"), 0);
	assert_double_eq(req(&t, "2", "FsStat"), 18);
	assert_double_eq(tp_value(&t, "node_nfs_rpcs_total", NULL), 0);
	tp_free(&t);
}

/* A bad line is reported and its series left out (node_exporter fails
 * the whole file); the other lines still count. */
static void malformed_lines_are_left_out(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		int missing;
	} bad[] = {
	    {"net 1 2 3\n", 3},	      {"rpc 1 2 3 4\n", 3}, {"rpc 1 x 3\n", 3},
	    {"proc2 3 1 2 3\n", 18},  /* fewer than 18 */
	    {"proc3 23 1 2 3\n", 22}, /* count does not match */
	    {"proc4 1\n", 59},	      {"proc5 1 1\n", 0},   {"\n", 0},
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		char text[256];
		snprintf(text, sizeof(text), "rpc 9 0 9\nnet 0 0 1 1\n%s", bad[i].line);
		struct tp t;
		parse(&t, text);
		if (t.e.nbad != 1 || t.e.line != 3 || t.n != NFS_ALL - bad[i].missing)
			fail_msg("case %zu: %d samples, %u bad, line %u", i, t.n, t.e.nbad,
				 t.e.line);
		tp_free(&t);
	}
	/* empty: the kernel always writes net and rpc (node_exporter: zeros) */
	struct tp t;
	parse(&t, "");
	assert_int_equal(t.e.nbad, 1);
	assert_int_equal(t.n, 0);
	tp_free(&t);
	/* cut short: only what was read whole, no zeros for the rest */
	parse(&t, "rpc 9 0 9\nproc3 22 1 2");
	assert_int_equal(t.e.nbad, 1);
	assert_int_equal(t.n, 3);
	assert_double_eq(tp_value(&t, "node_nfs_rpcs_total", NULL), 9);
	tp_free(&t);
}

static int setup(void **state)
{
	(void)state;
	return tp_dir_setup(NULL);
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

/* No NFS client: no data (success 0, as node_exporter), silently. */
static void absent_is_no_data(void **state)
{
	(void)state;
	struct tfx f;
	tfx_start(&f, "nfs");
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(f.st->errors, 0);
	tp_mkdirs("net/rpc");
	tp_puts("net/rpc/nfs", "net 0 0 1 1\n");
	f.st->coll[0].f[0]->absent_round = 0;
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, NFS_ALL);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(client_counters),
	    cmocka_unit_test(edges),
	    cmocka_unit_test(malformed_lines_are_left_out),
	    cmocka_unit_test(absent_is_no_data),
	};
	return cmocka_run_group_tests_name("proc /proc/net/rpc/nfs", tests, setup, teardown);
}
