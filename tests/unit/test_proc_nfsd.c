/* /proc/net/rpc/nfsd: node_nfsd_*, node_exporter 1.5.0's nfsd collector. */
#include "test_proc_fx.h"

#define NFSD_ALL (16 + 17 + 21 + 33)

static int parse(struct tp *t, const char *text)
{
	tp_begin(t);
	t->n = sb_proc_parse_nfsd(text, &t->b, &t->e);
	tp_end(t);
	return t->n;
}

static double req(struct tp *t, const char *proto, const char *method)
{
	return tp_value(t, "node_nfsd_requests_total", "proto", proto, "method", method);
}

/* The synthetic file, shaped like Linux 6.1's: no ra or proc2 line (zeros,
 * as node_exporter), th's floats, 76 v4 operations of which 1.5.0 reports
 * 33 by procfs 0.8's positions. */
static void server_counters(void **state)
{
	(void)state;
	struct tp t;
	char *text = tp_fixture("synthetic/proc/net/rpc/nfsd");
	parse(&t, text);
	free(text);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, NFSD_ALL);
	assert_double_eq(tp_value(&t, "node_nfsd_reply_cache_hits_total", NULL), 12);
	assert_double_eq(tp_value(&t, "node_nfsd_reply_cache_misses_total", NULL), 3456);
	assert_double_eq(tp_value(&t, "node_nfsd_reply_cache_nocache_total", NULL), 789);
	assert_double_eq(tp_value(&t, "node_nfsd_file_handles_stale_total", NULL), 2);
	assert_double_eq(tp_value(&t, "node_nfsd_disk_bytes_read_total", NULL), 1048576);
	assert_double_eq(tp_value(&t, "node_nfsd_disk_bytes_written_total", NULL), 2097152);
	assert_double_eq(tp_value(&t, "node_nfsd_server_threads", NULL), 16);
	assert_double_eq(tp_value(&t, "node_nfsd_read_ahead_cache_size_blocks", NULL), 0);
	assert_double_eq(tp_value(&t, "node_nfsd_packets_total", "proto", "tcp"), 4000);
	assert_double_eq(tp_value(&t, "node_nfsd_connections_total", NULL), 25);
	assert_double_eq(tp_value(&t, "node_nfsd_server_rpcs_total", NULL), 4000);
	assert_double_eq(tp_value(&t, "node_nfsd_rpc_errors_total", "error", "fmt"), 1);
	assert_double_eq(tp_value(&t, "node_nfsd_rpc_errors_total", "error", "auth"), 2);
	assert_double_eq(tp_value(&t, "node_nfsd_rpc_errors_total", "error", "cInt"), 0);
	assert_double_eq(req(&t, "2", "GetAttr"), 0);
	tp_absent(&t, "node_nfsd_requests_total", "proto", "3", "method", "Null");
	assert_double_eq(req(&t, "3", "GetAttr"), 301);
	assert_double_eq(req(&t, "3", "Commit"), 321);
	assert_double_eq(req(&t, "4", "Access"), 403);
	assert_double_eq(req(&t, "4", "PutFH"), 422);
	assert_double_eq(req(&t, "4", "Read"), 425);
	assert_double_eq(req(&t, "4", "RelLockOwner"), 437);
	const struct sb_sample *s = tp_find(&t, "node_nfsd_server_threads", NULL);
	assert_int_equal(s->type, SB_GAUGE);
	assert_string_equal(s->help, "Total number of NFSd kernel threads that are running.");
	s = tp_find(&t, "node_nfsd_reply_cache_nocache_total", NULL);
	assert_int_equal(s->type, SB_COUNTER);
	assert_string_equal(s->help, "Total number of NFSd Reply Cache non-idempotent operations "
				     "(rename/delete/\xe2\x80\xa6).");
	assert_string_equal(tp_find(&t, "node_nfsd_requests_total", NULL)->help,
			    "Total number NFSd Requests by method and protocol.");
	tp_free(&t);
}

/* Linux 6.7's wdeleg_getattr line is skipped (1.5.0 fails on it); th
 * needs only its two counts. */
static void edges(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, "th 4 1\nra 8 1 2 3 4 5 6 7 8 9 10 11\nwdeleg_getattr 15\n");
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, NFSD_ALL);
	assert_double_eq(tp_value(&t, "node_nfsd_server_threads", NULL), 4);
	assert_double_eq(tp_value(&t, "node_nfsd_read_ahead_cache_size_blocks", NULL), 8);
	assert_double_eq(tp_value(&t, "node_nfsd_read_ahead_cache_not_found_total", NULL), 11);
	tp_free(&t);
}

/* A bad line is reported and its series left out (node_exporter fails
 * the whole file). */
static void malformed_lines_are_left_out(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		int missing;
	} bad[] = {
	    {"rc 1 2\n", 3},
	    {"fh 1 2 3 4\n", 1},
	    {"io 1 2 3\n", 2},
	    {"th 8\n", 1},
	    {"th 8 x 0.000\n", 1},
	    {"ra 1 2\n", 2},
	    {"net 1 2 3\n", 3},
	    {"rpc 1 2 3 4\n", 4},
	    {"proc2 17 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n", 17},
	    {"proc3 22 1 2\n", 21},
	    {"proc4 3 1 2 3\n", 0},
	    {"proc4ops 38 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 "
	     "27 28 29 30 31 32 33 34 35 36 37 38\n",
	     33},
	    {"proc9 1 1\n", 0},
	    {"\n", 0},
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		char text[512];
		snprintf(text, sizeof(text), "rc 0 1 2\nnet 0 0 1 1\n%s", bad[i].line);
		struct tp t;
		parse(&t, text);
		if (t.e.nbad != 1 || t.e.line != 3 || t.n != NFSD_ALL - bad[i].missing)
			fail_msg("case %zu: %d samples, %u bad, line %u", i, t.n, t.e.nbad,
				 t.e.line);
		tp_free(&t);
	}
	struct tp t;
	parse(&t, "");
	assert_int_equal(t.e.nbad, 1);
	assert_int_equal(t.n, 0);
	tp_free(&t);
	/* cut short: only what was read whole */
	parse(&t, "rc 0 1 2\nproc3 22 1 2");
	assert_int_equal(t.e.nbad, 1);
	assert_int_equal(t.n, 3);
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

/* No NFS server: no data (success 0, as node_exporter), silently. */
static void absent_is_no_data(void **state)
{
	(void)state;
	struct tfx f;
	tfx_start(&f, "nfsd");
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(f.st->errors, 0);
	tp_mkdirs("net/rpc");
	tp_puts("net/rpc/nfsd", "th 1 0\n");
	f.st->coll[0].f[0]->absent_round = 0;
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, NFSD_ALL);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(server_counters),
	    cmocka_unit_test(edges),
	    cmocka_unit_test(malformed_lines_are_left_out),
	    cmocka_unit_test(absent_is_no_data),
	};
	return cmocka_run_group_tests_name("proc /proc/net/rpc/nfsd", tests, setup, teardown);
}
