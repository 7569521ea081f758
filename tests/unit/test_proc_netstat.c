/* /proc/net/netstat, snmp and snmp6: node_netstat_*. */
#include "test_proc.h"

#define NETSTAT_FIELDS                                                                             \
	"^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|"      \
	"OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPOFOQueue|"            \
	"TCPRcvQDrop)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|"           \
	"CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$"

static struct sb_proc_filter f;

static int setup(void **state)
{
	(void)state;
	char err[128];
	return sb_proc_filter_init(&f, NETSTAT_FIELDS, NULL, err, sizeof(err));
}

static int teardown(void **state)
{
	(void)state;
	sb_proc_filter_free(&f);
	return 0;
}

static void header_value_pairs_through_the_default_filter(void **state)
{
	(void)state;
	struct tp t;
	struct sb_proc_protos seen = {0};
	tp_begin(&t);
	t.n = sb_proc_parse_netstat("TcpExt: SyncookiesSent ListenDrops TCPOFOQueue PruneCalled\n"
				    "TcpExt: 1 2 3 4\n"
				    "IpExt: InOctets OutOctets InNoRoutes\n"
				    "IpExt: 123456789012 98765 0\n",
				    &t.b, &f, &seen, &t.e);
	tp_end(&t);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 5);
	assert_double_eq(tp_value(&t, "node_netstat_TcpExt_SyncookiesSent"), 1);
	assert_double_eq(tp_value(&t, "node_netstat_TcpExt_TCPOFOQueue"), 3);
	assert_double_eq(tp_value(&t, "node_netstat_IpExt_InOctets"), 123456789012.0);
	tp_absent(&t, "node_netstat_TcpExt_PruneCalled");
	const struct sb_sample *s = tp_find(&t, "node_netstat_TcpExt_ListenDrops", NULL);
	assert_int_equal(s->type, SB_UNTYPED);
	assert_string_equal(s->help, "Statistic TcpExtListenDrops.");
	tp_free(&t);
}

static void snmp_negative_values_and_protocols_seen_once(void **state)
{
	(void)state;
	struct tp t;
	struct sb_proc_protos seen = {0};
	tp_begin(&t);
	t.n = sb_proc_parse_netstat("Tcp: RtoMin MaxConn ActiveOpens CurrEstab InErrs\n"
				    "Tcp: 200 -1 7 3 5\n"
				    "Tcp: ActiveOpens\n"
				    "Tcp: 9\n",
				    &t.b, NULL, &seen, &t.e);
	tp_end(&t);
	assert_double_eq(tp_value(&t, "node_netstat_Tcp_MaxConn"), -1);
	assert_double_eq(tp_value(&t, "node_netstat_Tcp_ActiveOpens"), 7);
	assert_int_equal(t.n, 5);
	assert_int_equal(t.e.nbad, 1); /* the repeated Tcp pair */
	tp_free(&t);
}

static void mismatched_or_truncated_pairs_are_skipped_whole(void **state)
{
	(void)state;
	struct tp t;
	struct sb_proc_protos seen = {0};
	tp_begin(&t);
	t.n = sb_proc_parse_netstat("Udp: InDatagrams NoPorts InErrors\n"
				    "Udp: 1 2\n"
				    "Ip: Forwarding InReceives\n"
				    "Ip: 1 x\n"
				    "Icmp: InMsgs InErrors\n"
				    "Icmp: 3 4\n"
				    "Tcp: ActiveOpens InSegs\n",
				    &t.b, &f, &seen, &t.e);
	tp_end(&t);
	assert_int_equal(t.e.nbad, 3);
	assert_int_equal(t.n, 2);
	tp_absent(&t, "node_netstat_Udp_InDatagrams");
	tp_absent(&t, "node_netstat_Ip_Forwarding");
	assert_double_eq(tp_value(&t, "node_netstat_Icmp_InErrors"), 4);
	tp_free(&t);
}

static void snmp6_splits_the_protocol_at_the_six(void **state)
{
	(void)state;
	struct tp t;
	tp_begin(&t);
	t.n = sb_proc_parse_snmp6("Ip6InReceives                   \t15\n"
				  "Ip6InOctets                     \t4567\n"
				  "Icmp6InMsgs                     \t8\n"
				  "Udp6InDatagrams                 \t2\n"
				  "UdpLite6InErrors                \t0\n"
				  "Icmp6InType133                  \t1\n"
				  "NoSixHere 5\n"
				  "lonely\n",
				  &t.b, &f, &t.e);
	tp_end(&t);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 4);
	assert_double_eq(tp_value(&t, "node_netstat_Ip6_InOctets"), 4567);
	assert_double_eq(tp_value(&t, "node_netstat_UdpLite6_InErrors"), 0);
	assert_string_equal(tp_find(&t, "node_netstat_Icmp6_InMsgs", NULL)->help,
			    "Statistic Icmp6InMsgs.");
	tp_free(&t);
}

static void snmp6_bad_values_are_reported(void **state)
{
	(void)state;
	struct tp t;
	tp_begin(&t);
	t.n = sb_proc_parse_snmp6("Ip6InOctets 12ab\nUdp6InErrors 3\n", &t.b, &f, &t.e);
	tp_end(&t);
	assert_int_equal(t.e.nbad, 1);
	assert_int_equal(t.n, 1);
	tp_free(&t);
}

/* text parsed with the memo m (round after round) and without: the same
 * samples, names, help texts, values and complaints */
static void same_with_memo(const char *text, bool snmp6, struct sb_proc_ns_memo *m)
{
	struct tp a, b;
	struct sb_proc_protos sa = {0}, sb = {0};
	tp_begin(&a);
	tp_begin(&b);
	if (snmp6) {
		a.n = sb_proc_parse_snmp6(text, &a.b, &f, &a.e);
		b.n = sb_proc_parse_snmp6_m(text, &b.b, &f, m, &b.e);
	} else {
		a.n = sb_proc_parse_netstat(text, &a.b, &f, &sa, &a.e);
		b.n = sb_proc_parse_netstat_m(text, &b.b, &f, &sb, m, &b.e);
	}
	tp_end(&a);
	tp_end(&b);
	assert_int_equal(a.n, b.n);
	assert_int_equal(a.e.nbad, b.e.nbad);
	assert_int_equal(a.e.line, b.e.line);
	assert_int_equal(a.ev->nsamples, b.ev->nsamples);
	for (uint32_t i = 0; i < a.ev->nsamples; i++) {
		const struct sb_sample *x = &a.ev->samples[i], *y = &b.ev->samples[i];
		assert_string_equal(x->name, y->name);
		assert_string_equal(x->help, y->help);
		assert_true(x->value == y->value);
	}
	tp_free(&a);
	tp_free(&b);
}

/* The memo a collector keeps between rounds changes nothing: the same
 * file again, a header whose fields moved, one that lost a value, a
 * protocol listed twice, then the first file again. */
static void the_memo_gives_the_same_samples_round_after_round(void **state)
{
	(void)state;
	static const char *const files[] = {"vm-6.18/proc/net/netstat", "vm-6.18/proc/net/snmp",
					    "synthetic/proc/net/netstat"};
	for (size_t k = 0; k < SB_ARRAY_SIZE(files); k++) {
		char *text = tp_fixture(files[k]);
		struct sb_proc_ns_memo *m = sb_proc_ns_memo_new();
		assert_non_null(m);
		same_with_memo(text, false, m);
		same_with_memo(text, false, m);
		same_with_memo(text, false, m);
		sb_proc_ns_memo_free(m);
		free(text);
	}
	struct sb_proc_ns_memo *m = sb_proc_ns_memo_new();
	const char *a = "Tcp: InErrs ActiveOpens CurrEstab\nTcp: 1 2 3\n"
			"Udp: InDatagrams NoPorts\nUdp: 4 5\n";
	same_with_memo(a, false, m);
	same_with_memo(a, false, m);
	same_with_memo("Tcp: CurrEstab InErrs ActiveOpens\nTcp: 1 2 3\n"
		       "Udp: InDatagrams NoPorts\nUdp: 4 5\n",
		       false, m);
	same_with_memo("Tcp: CurrEstab InErrs ActiveOpens\nTcp: 1 2\n"
		       "Udp: InDatagrams NoPorts\nUdp: 4 5\n",
		       false, m);
	same_with_memo("Tcp: CurrEstab InErrs ActiveOpens\nTcp: 1 2 3\n"
		       "Tcp: CurrEstab InErrs ActiveOpens\nTcp: 1 2 3\n",
		       false, m);
	same_with_memo(a, false, m);
	sb_proc_ns_memo_free(m);

	char *six = tp_fixture("vm-6.18/proc/net/snmp6");
	m = sb_proc_ns_memo_new();
	for (int i = 0; i < 3; i++)
		same_with_memo(six, true, m);
	same_with_memo("Udp6InErrors 3\nIp6InOctets 12ab\nIcmp6InMsgs 2\n", true, m);
	same_with_memo("Udp6InErrors 4\nIp6InOctets 7\nIcmp6InMsgs 2\n", true, m);
	same_with_memo("Ip6InOctets 7\nUdp6InErrors 4\nfoo 1\n", true, m);
	same_with_memo(six, true, m);
	sb_proc_ns_memo_free(m);
	free(six);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(header_value_pairs_through_the_default_filter),
	    cmocka_unit_test(snmp_negative_values_and_protocols_seen_once),
	    cmocka_unit_test(mismatched_or_truncated_pairs_are_skipped_whole),
	    cmocka_unit_test(snmp6_splits_the_protocol_at_the_six),
	    cmocka_unit_test(snmp6_bad_values_are_reported),
	    cmocka_unit_test(the_memo_gives_the_same_samples_round_after_round),
	};
	return cmocka_run_group_tests_name("proc /proc/net/netstat, snmp, snmp6", tests, setup,
					   teardown);
}
