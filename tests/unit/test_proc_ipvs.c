/* /proc/net/ip_vs_stats and /proc/net/ip_vs: node_ipvs_*, node_exporter
 * 1.5.0's ipvs collector with its default backend labels. */
#include "test_proc_fx.h"

static int parse(struct tp *t, const char *text, bool stats)
{
	tp_begin(t);
	t->n = stats ? sb_proc_parse_ipvs_stats(text, &t->b, &t->e)
		     : sb_proc_parse_ipvs(text, &t->b, &t->e);
	tp_end(t);
	return t->n;
}

#define BACKEND(t, name, laddr, lport, raddr, rport, proto, mark)                                  \
	tp_value(t, name, "local_address", laddr, "local_port", lport, "remote_address", raddr,    \
		 "remote_port", rport, "proto", proto, "local_mark", mark)

static void totals_in_hex(void **state)
{
	(void)state;
	struct tp t;
	char *text = tp_fixture("synthetic/proc/net/ip_vs_stats");
	parse(&t, text, true);
	free(text);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 5);
	assert_double_eq(tp_value(&t, "node_ipvs_connections_total", NULL), 0x3e8);
	assert_double_eq(tp_value(&t, "node_ipvs_incoming_packets_total", NULL), 0xfa00);
	assert_double_eq(tp_value(&t, "node_ipvs_outgoing_packets_total", NULL), 0xbb80);
	assert_double_eq(tp_value(&t, "node_ipvs_incoming_bytes_total", NULL), 0x1000000);
	assert_double_eq(tp_value(&t, "node_ipvs_outgoing_bytes_total", NULL), 0x800000);
	const struct sb_sample *s = tp_find(&t, "node_ipvs_incoming_bytes_total", NULL);
	assert_int_equal(s->type, SB_COUNTER);
	assert_string_equal(s->help, "The total amount of incoming data.");
	tp_free(&t);
	static const char *const bad[] = {
	    "",
	    "h1\nh2\n",
	    "h1\nh2\n 1 2 3 4 5", /* cut */
	    "h1\nh2\n 1 2 3 4\n",
	    "h1\nh2\n 1 2 3 4 5 6\n",
	    "h1\nh2\n 1 2 3 4 0x5\n",
	    "h1\nh2\n 1 2 3 4 G\n",
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		parse(&t, bad[i], true);
		if (t.n || t.e.nbad != 1)
			fail_msg("case %zu: %d samples, %u bad", i, t.n, t.e.nbad);
		tp_free(&t);
	}
}

/* TCP, IPv6 UDP and FWM services: addresses as Go prints them, ports in
 * decimal, a firewall mark service without address (port 0). */
static void backends(void **state)
{
	(void)state;
	struct tp t;
	char *text = tp_fixture("synthetic/proc/net/ip_vs");
	parse(&t, text, false);
	free(text);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 4 * 3);
	assert_double_eq(BACKEND(&t, "node_ipvs_backend_connections_active", "10.0.10.10", "443",
				 "10.0.11.1", "443", "TCP", ""),
			 12);
	assert_double_eq(BACKEND(&t, "node_ipvs_backend_connections_inactive", "10.0.10.10", "443",
				 "10.0.11.2", "443", "TCP", ""),
			 4);
	assert_double_eq(BACKEND(&t, "node_ipvs_backend_weight", "10.0.10.10", "443", "10.0.11.2",
				 "443", "TCP", ""),
			 2);
	assert_double_eq(BACKEND(&t, "node_ipvs_backend_connections_inactive", "fd00::53", "53",
				 "fd00:0:0:1::1", "53", "UDP", ""),
			 9);
	assert_double_eq(BACKEND(&t, "node_ipvs_backend_connections_active", "", "0", "10.0.12.1",
				 "0", "FWM", "00000017"),
			 3);
	const struct sb_sample *s = tp_find(&t, "node_ipvs_backend_weight", NULL);
	assert_int_equal(s->type, SB_GAUGE);
	assert_string_equal(s->help, "The current backend weight by local and remote address.");
	tp_free(&t);
}

/* procfs' quirks: SCTP service lines are not services (their backends
 * count for the one before), backends with fewer than six words are
 * skipped, IPv4-mapped addresses print dotted. */
static void quirks(void **state)
{
	(void)state;
	struct tp t;
	parse(&t,
	      "UDP  [2001:0db8:0000:0000:0000:0000:0000:0035]:0035 rr\n"
	      "  -> [0000:0000:0000:0000:0000:ffff:0a00:0002]:0035      Masq    2      0      1\n"
	      "SCTP  0a0000fe:0b00 rr\n"
	      "  -> 0a0000ff:0B00      Masq    5      6          7\n"
	      "  -> 0a0000aa:0050      Masq    5\n",
	      false);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 6);
	assert_double_eq(BACKEND(&t, "node_ipvs_backend_weight", "2001:db8::35", "53", "10.0.0.2",
				 "53", "UDP", ""),
			 2);
	assert_double_eq(BACKEND(&t, "node_ipvs_backend_weight", "2001:db8::35", "53", "10.0.0.255",
				 "2816", "UDP", ""),
			 5);
	tp_free(&t);
}

/* A bad backend is left out; a bad service with its backends. */
static void malformed_lines(void **state)
{
	(void)state;
	struct tp t;
	parse(&t,
	      "TCP  0A000A0A:01BB rr\n"
	      "  -> 0A000B0:01BB      Masq    1      12         30\n" /* 7 digits */
	      "  -> 0A000B02:01BB      Masq    2      x          4\n"
	      "  -> 0A000B03:01BB      Masq    2      1          4\n"
	      "TCP  0A000A0Z:01BB rr\n"
	      "  -> 0A000B04:01BB      Masq    2      1          4\n"
	      "UDP  [fd00:0000:0000:0000:0000:0000:0000:005g]:0035 wlc\n"
	      "  -> 0A000B05:01BB      Masq    2      1          4\n"
	      "Mem: 1 2\n",
	      false);
	assert_int_equal(t.e.nbad, 5);
	assert_int_equal(t.e.line, 2);
	assert_int_equal(t.n, 3);
	assert_double_eq(BACKEND(&t, "node_ipvs_backend_weight", "10.0.10.10", "443", "10.0.11.3",
				 "443", "TCP", ""),
			 2);
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

/* Without the ip_vs module: no data (success 0), silently. With the
 * totals but no ip_vs, the totals still come out and the round fails, as
 * 1.5.0. */
static void absent_files(void **state)
{
	(void)state;
	struct tfx f;
	tfx_start(&f, "ipvs");
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(f.st->errors, 0);
	tp_mkdirs("net");
	tp_puts("net/ip_vs_stats", "h\nh\n 1 2 3 4 5\n");
	f.st->coll[0].f[0]->absent_round = 0;
	assert_true(tfx_round(&f) < 0);
	assert_int_equal(f.t.n, 5);
	tp_puts("net/ip_vs", "TCP  0A000A0A:01BB rr\n  -> 0A000B03:01BB Masq 2 1 4\n");
	f.st->coll[0].f[1]->absent_round = 0;
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 5 + 3);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(totals_in_hex), cmocka_unit_test(backends),
	    cmocka_unit_test(quirks),	     cmocka_unit_test(malformed_lines),
	    cmocka_unit_test(absent_files),
	};
	return cmocka_run_group_tests_name("proc ipvs", tests, setup, teardown);
}
