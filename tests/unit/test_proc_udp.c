/* /proc/net/udp{,6}: node_udp_queues{ip,queue}, the queues summed; on the
 * live /proc, in a network namespace of the test's own, a family that
 * sockstat says has no socket is not read. */
#include "test_proc_fx.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "test_netns.h"

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

static void none_in_use_is_read_from_the_udp_lines_only(void **state)
{
	(void)state;
	static const char ss[] = "sockets: used 5\nTCP: inuse 0 orphan 0 tw 0 alloc 0 mem 0\n"
				 "UDP: inuse 0 mem 0\nUDPLITE: inuse 3\nRAW: inuse 0\n";
	assert_true(sb_proc_udp_none_in_use(ss, false));
	assert_false(sb_proc_udp_none_in_use(ss, true)); /* no UDP6 line */
	assert_true(sb_proc_udp_none_in_use("TCP6: inuse 1\nUDP6: inuse 0\n", true));
	assert_false(sb_proc_udp_none_in_use("UDP: inuse 2 mem 1\n", false));
	assert_false(sb_proc_udp_none_in_use("UDPLITE: inuse 0\n", false));
	assert_false(sb_proc_udp_none_in_use("UDP: inuse x\n", false));
	assert_false(sb_proc_udp_none_in_use("UDP: inuse 01x\n", false));
	assert_false(sb_proc_udp_none_in_use("", false));
}

/* ---- live, in a network namespace ---- */

extern const struct sb_sensor_ops sb_sensor_proc;

static struct sb_sensor live_s;
static struct proc_cfg live_cfg;

static double queue(struct tp *t, const char *ip, const char *q)
{
	const struct sb_sample *s = tp_find(t, "node_udp_queues", "ip", ip, "queue", q, NULL);
	return s ? s->value : -1;
}

static void live_round(struct tp *t)
{
	struct proc_state *st = live_s.state;
	tp_begin(t);
	sb_proc_round(st, &t->b);
	t->n = (int)sb_evb_nsamples(&t->b);
	tp_end(t);
}

/* A datagram to itself, left unread: bytes in the receive queue. */
static int queued(int family)
{
	int fd = socket(family, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_storage a = {0};
	socklen_t al;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&a;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		al = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		al = sizeof(*in6);
	}
	if (bind(fd, (struct sockaddr *)&a, al) || getsockname(fd, (struct sockaddr *)&a, &al) ||
	    sendto(fd, "ping", 4, 0, (struct sockaddr *)&a, al) != 4) {
		close(fd);
		return -1;
	}
	return fd;
}

static void in_namespace(void)
{
	if (system("ip link set lo up"))
		_exit(77);
	char *names[] = {"udp_queues"};
	live_cfg = (struct proc_cfg){.procfs = "/proc", .sysfs = "/sys", .max_processes = 8};
	live_cfg.collectors = (struct sb_strlist){names, 1};
	live_s.cfg = &live_cfg;
	CHECK(10, sb_sensor_proc.init(&live_s) == 0);
	struct proc_state *st = live_s.state;
	CHECK(11, st->ncoll == 1);
	struct sb_proc_coll *c = &st->coll[0];
	struct tp t;

	/* the first round opens and reads both; no socket in a new namespace */
	live_round(&t);
	CHECK(12, sb_proc_udp_reads(c) == 2);
	CHECK(13, queue(&t, "v4", "rx") == 0 && queue(&t, "v6", "tx") == 0);
	tp_free(&t);
	/* then sockstat says none: the same samples, nothing read */
	live_round(&t);
	CHECK(14, sb_proc_udp_reads(c) == 2);
	CHECK(15, t.n == 4 + 2 && queue(&t, "v4", "rx") == 0 && queue(&t, "v4", "tx") == 0 &&
		      queue(&t, "v6", "rx") == 0 && queue(&t, "v6", "tx") == 0);
	tp_free(&t);
	/* an IPv4 socket with a datagram queued: its file read, the other not */
	int fd4 = queued(AF_INET);
	CHECK(16, fd4 >= 0);
	live_round(&t);
	CHECK(17, sb_proc_udp_reads(c) == 3);
	CHECK(18, queue(&t, "v4", "rx") > 0 && queue(&t, "v6", "rx") == 0);
	tp_free(&t);
	/* and IPv6 */
	int fd6 = queued(AF_INET6);
	CHECK(19, fd6 >= 0);
	live_round(&t);
	CHECK(20, sb_proc_udp_reads(c) == 5);
	CHECK(21, queue(&t, "v4", "rx") > 0 && queue(&t, "v6", "rx") > 0);
	tp_free(&t);
	/* closed: none in use again, zero without a read */
	close(fd4);
	close(fd6);
	live_round(&t);
	CHECK(22, sb_proc_udp_reads(c) == 5);
	CHECK(23, queue(&t, "v4", "rx") == 0 && queue(&t, "v6", "rx") == 0);
	tp_free(&t);
	sb_sensor_proc.destroy(&live_s);
	_exit(0);
}

static void the_live_proc_reads_a_family_only_when_it_has_sockets(void **state)
{
	(void)state;
	netns_run(in_namespace);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(queues_are_summed),
	    cmocka_unit_test(no_sockets_is_zero),
	    cmocka_unit_test(a_bad_line_withholds_the_sums),
	    cmocka_unit_test(none_in_use_is_read_from_the_udp_lines_only),
	    cmocka_unit_test(the_live_proc_reads_a_family_only_when_it_has_sockets),
	};
	return cmocka_run_group_tests_name("proc /proc/net/udp", tests, NULL, NULL);
}
