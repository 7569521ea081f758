/* /proc/net/udp{,6}: node_udp_queues{ip,queue}, the queues summed. */
#include "test_proc.h"

static int parse(struct tp *t, const char *text, bool ipv6)
{
	tp_begin(t);
	t->n = sb_proc_parse_udp(text, ipv6, &t->b, &t->e);
	tp_end(t);
	return t->n;
}

#define HDR                                                                                        \
	"   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "     \
	"timeout inode ref pointer drops\n"
#define SOCK(q) "  208: 00000000:0044 00000000:0000 07 " q " 00:00000000 00000000 0 0 17212 2 0 0\n"

static void queues_are_summed(void **state)
{
	(void)state;
	struct tp t;
	char *text = tp_fixture("synthetic/proc/net/udp");
	parse(&t, text, false);
	free(text);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 2);
	assert_double_eq(tp_value(&t, "node_udp_queues", "ip", "v4", "queue", "tx"), 0x300);
	assert_double_eq(tp_value(&t, "node_udp_queues", "ip", "v4", "queue", "rx"), 0xa00 + 0x100);
	const struct sb_sample *s = tp_find(&t, "node_udp_queues", NULL);
	assert_int_equal(s->type, SB_GAUGE);
	assert_string_equal(s->help,
			    "Number of allocated memory in the kernel for UDP datagrams in bytes.");
	tp_free(&t);
	text = tp_fixture("synthetic/proc/net/udp6");
	parse(&t, text, true);
	free(text);
	assert_int_equal(t.e.nbad, 0);
	assert_double_eq(tp_value(&t, "node_udp_queues", "ip", "v6", "queue", "rx"), 0x80);
	assert_double_eq(tp_value(&t, "node_udp_queues", "ip", "v6", "queue", "tx"), 0);
	tp_free(&t);
}

/* No sockets: zero queues, not an error; no header: an error. */
static void no_sockets_is_zero(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, HDR, false);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 2);
	assert_double_eq(tp_value(&t, "node_udp_queues", "queue", "rx"), 0);
	tp_free(&t);
	parse(&t, "", false);
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
}

static void a_bad_line_withholds_the_sums(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    SOCK("00000001"),		 /* no rx */
	    SOCK("0000000g:00000001"),	 /* not hex */
	    SOCK("00000001:"),		 /* empty rx */
	    SOCK("10000000000000000:0"), /* 2^64 */
	    "  208: 000000:0044 00000000:0000 07 00000001:00000001 00:00000000 00000000 0 0 1\n",
	    "  208: 00000000:0044 00000000:0000 07 00000001:00000001 00:00000000 00000000 0\n",
	    "  208: 00000000:0044 00000000:0000 07 00000001:00000001 00:000", /* cut */
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		char text[512];
		snprintf(text, sizeof(text), HDR SOCK("00000001:00000002") "%s", bad[i]);
		struct tp t;
		parse(&t, text, false);
		if (t.n != 0 || t.e.nbad != 1 || t.e.line != 3)
			fail_msg("case %zu: %d samples, %u bad, line %u", i, t.n, t.e.nbad,
				 t.e.line);
		tp_free(&t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(queues_are_summed),
	    cmocka_unit_test(no_sockets_is_zero),
	    cmocka_unit_test(a_bad_line_withholds_the_sums),
	};
	return cmocka_run_group_tests_name("proc /proc/net/udp", tests, NULL, NULL);
}
