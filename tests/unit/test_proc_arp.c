/* /proc/net/arp: node_arp_entries{device}. */
#include "test_proc.h"

static int parse(struct tp *t, const char *text)
{
	tp_begin(t);
	t->n = sb_proc_parse_arp(text, &t->b, &t->e);
	tp_end(t);
	return t->n;
}

#define HDR "IP address       HW type     Flags       HW address            Mask     Device\n"

static void entries_are_counted_per_device(void **state)
{
	(void)state;
	struct tp t;
	char *text = tp_fixture("synthetic/proc/net/arp");
	parse(&t, text);
	free(text);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 2);
	assert_double_eq(tp_value(&t, "node_arp_entries", "device", "eth0"), 3);
	/* incomplete entries (flags 0x0) count, as in node_exporter */
	assert_double_eq(tp_value(&t, "node_arp_entries", "device", "br-lan.10"), 1);
	const struct sb_sample *s = tp_find(&t, "node_arp_entries", NULL);
	assert_int_equal(s->type, SB_GAUGE);
	assert_string_equal(s->help, "ARP entries by device");
	tp_free(&t);
}

static void header_only_or_empty_is_no_entries(void **state)
{
	(void)state;
	struct tp t;
	parse(&t, HDR);
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 0);
	tp_free(&t);
	parse(&t, "");
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 0);
	tp_free(&t);
}

/* A line that cannot be read makes every count doubtful: none is given. */
static void a_bad_line_withholds_the_counts(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    HDR "10.0.0.1 0x1 0x2 02:00:00:00:00:01 * eth0\n10.0.0.2 0x1 0x2 *\n",
	    HDR "10.0.0.1 0x1 0x2 02:00:00:00:00:01 * eth0\n10.0.0.2 0x1 0x2 02:0", /* cut */
	    HDR "10.0.0.1 0x1 0x2 02:00:00:00:00:01 * eth0\n\n",
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		struct tp t;
		parse(&t, bad[i]);
		if (t.n != 0 || t.e.nbad != 1 || t.e.line != 3)
			fail_msg("case %zu: %d samples, %u bad", i, t.n, t.e.nbad);
		tp_free(&t);
	}
}

static void many_devices(void **state)
{
	(void)state;
	char *text = malloc(300 * 64 + 128);
	size_t l = (size_t)sprintf(text, HDR);
	for (int i = 0; i < 300; i++)
		l += (size_t)sprintf(text + l, "10.0.%d.%d 0x1 0x2 02:00:00:00:00:01 * dev%d\n",
				     i / 256, i % 256, i % 256);
	struct tp t;
	parse(&t, text);
	assert_int_equal(t.e.nbad, 0);
	assert_int_equal(t.n, 256);
	assert_double_eq(tp_value(&t, "node_arp_entries", "device", "dev0"), 2);
	assert_double_eq(tp_value(&t, "node_arp_entries", "device", "dev255"), 1);
	tp_free(&t);
	sprintf(text + l, "10.9.9.9 0x1 0x2 02:00:00:00:00:01 * dev256\n");
	parse(&t, text);
	assert_int_equal(t.n, 0);
	assert_int_equal(t.e.nbad, 1);
	tp_free(&t);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(entries_are_counted_per_device),
	    cmocka_unit_test(header_only_or_empty_is_no_entries),
	    cmocka_unit_test(a_bad_line_withholds_the_counts),
	    cmocka_unit_test(many_devices),
	};
	return cmocka_run_group_tests_name("proc /proc/net/arp", tests, NULL, NULL);
}
