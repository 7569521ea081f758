/* node_exporter's infiniband collector: device info, port state, rate and
 * counters from /sys/class/infiniband. */
#include <unistd.h>

#include "test_proc_fx.h"

static void state_and_rate_parsers(void **state)
{
	(void)state;
	uint64_t id = 9;
	assert_int_equal(sb_proc_ib_state("4: ACTIVE\n", &id), 0);
	assert_int_equal(id, 4);
	assert_int_equal(sb_proc_ib_state("  3:   ARMED \n", &id), 0);
	assert_int_equal(id, 3);
	assert_int_equal(sb_proc_ib_state("5:LinkUp", &id), 0);
	assert_int_equal(id, 5);
	id = 9;
	assert_int_equal(sb_proc_ib_state("ACTIVE\n", &id), -EINVAL);
	assert_int_equal(sb_proc_ib_state("4:ACTIVE:x\n", &id), -EINVAL);
	assert_int_equal(sb_proc_ib_state(": ACTIVE\n", &id), -EINVAL);
	assert_int_equal(sb_proc_ib_state("-1: X\n", &id), -EINVAL);
	assert_int_equal(sb_proc_ib_state("", &id), -EINVAL);
	assert_int_equal(id, 9);

	double r = -1;
	assert_int_equal(sb_proc_ib_rate("40 Gb/sec (4X QDR)\n", &r), 0);
	assert_double_eq(r, 5e9);
	assert_int_equal(sb_proc_ib_rate("2.5 Gb/sec (1X SDR)\n", &r), 0);
	assert_double_eq(r, 3.125e8);
	/* procfs takes the number as Gb/s whatever the unit says */
	assert_int_equal(sb_proc_ib_rate("100 Mb/sec\n", &r), 0);
	assert_double_eq(r, 1.25e10);
	r = -1;
	assert_int_equal(sb_proc_ib_rate("fast\n", &r), -EINVAL);
	assert_int_equal(sb_proc_ib_rate("fast Gb/sec\n", &r), -EINVAL);
	assert_int_equal(sb_proc_ib_rate(" 40 Gb/sec\n", &r), -EINVAL);
	assert_int_equal(sb_proc_ib_rate("", &r), -EINVAL);
	assert_double_eq(r, -1);
}

#define D "class/infiniband/mlx4_0/"
#define P D "ports/1/"

static int setup(void **state)
{
	(void)state;
	if (tp_dir_setup(tp_warn_hook))
		return -1;
	tp_mkdirs(P "counters");
	tp_mkdirs(P "counters_ext");
	tp_mkdirs("class/infiniband/i40iw0/ports/1/counters");
	tp_puts(D "board_id", "SM_1141000001000\n");
	tp_puts(D "fw_ver", "2.31.5050\n");
	tp_puts(D "hca_type", "MT4099\n");
	tp_puts(P "state", "4: ACTIVE\n");
	tp_puts(P "phys_state", "5: LinkUp\n");
	tp_puts(P "rate", "40 Gb/sec (4X QDR)\n");
	tp_puts(P "counters/port_rcv_data", "4631917\n");
	tp_puts(P "counters/port_xmit_wait", "4294967295\n");
	tp_puts(P "counters/symbol_error", "3\n");
	tp_puts(P "counters/VL15_dropped", "1\n");
	tp_puts(P "counters/not_a_counter_1_5_0_has", "8\n");
	tp_puts(P "counters_ext/port_xmit_data_64", "10\n");
	tp_puts(P "counters_ext/port_xmit_packets_64", "11\n");
	tp_puts("class/infiniband/i40iw0/board_id", "I40IW Board ID\n");
	tp_puts("class/infiniband/i40iw0/fw_ver", "0.2\n");
	tp_puts("class/infiniband/i40iw0/hca_type", "I40IW\n");
	tp_puts("class/infiniband/i40iw0/ports/1/state", "1: DOWN\n");
	tp_puts("class/infiniband/i40iw0/ports/1/phys_state", "3: Disabled\n");
	tp_puts("class/infiniband/i40iw0/ports/1/rate", "10 Gb/sec (4X)\n");
	tp_puts("class/infiniband/i40iw0/ports/1/counters/link_downed", "N/A (no PMA)\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static void devices_ports_and_counters(void **state)
{
	(void)state;
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "infiniband");
	assert_int_equal(tfx_round(&f), 0);
	/* 2 info, 2 × 3 port gauges, 4 counters, 2 legacy */
	assert_int_equal(f.t.n, 14);
	const struct sb_sample *s = tp_find(&f.t, "node_infiniband_info", "device", "mlx4_0",
					    "board_id", "SM_1141000001000", "firmware_version",
					    "2.31.5050", "hca_type", "MT4099", NULL);
	assert_non_null(s);
	assert_int_equal(s->nlabels, 4);
	assert_string_equal(
	    s->help, "Non-numeric data from /sys/class/infiniband/<device>, value is always 1.");
	s = tp_find(&f.t, "node_infiniband_state_id", "device", "i40iw0", "port", "1", NULL);
	assert_double_eq(s->value, 1);
	assert_int_equal(s->type, SB_GAUGE);
	assert_double_eq(
	    tp_value(&f.t, "node_infiniband_physical_state_id", "device", "mlx4_0", "port", "1"),
	    5);
	assert_double_eq(tp_value(&f.t, "node_infiniband_rate_bytes_per_second", "device", "i40iw0",
				  "port", "1"),
			 1.25e9);
	/* data counters count 4-octet words */
	s = tp_find(&f.t, "node_infiniband_port_data_received_bytes_total", "device", "mlx4_0",
		    "port", "1", NULL);
	assert_double_eq(s->value, 4631917.0 * 4);
	assert_int_equal(s->type, SB_COUNTER);
	assert_string_equal(s->help, "Number of data octets received on all links");
	assert_double_eq(tp_value(&f.t, "node_infiniband_port_transmit_wait_total", "device",
				  "mlx4_0", "port", "1"),
			 4294967295.0);
	s = tp_find(&f.t, "node_infiniband_vl15_dropped_total", "device", "mlx4_0", NULL);
	assert_string_equal(s->help,
			    "Number of incoming VL15 packets dropped due to resource limitations.");
	assert_double_eq(
	    tp_value(&f.t, "node_infiniband_symbol_error_total", "device", "mlx4_0", "port", "1"),
	    3);
	assert_double_eq(tp_value(&f.t, "node_infiniband_legacy_data_transmitted_bytes_total",
				  "device", "mlx4_0", "port", "1"),
			 40);
	s = tp_find(&f.t, "node_infiniband_legacy_packets_transmitted_total", "device", "mlx4_0",
		    NULL);
	assert_double_eq(s->value, 11);
	assert_string_equal(s->help, "Number of data packets received on all links"); /* sic */
	tp_absent(&f.t, "node_infiniband_link_downed_total"); /* N/A (no PMA) */
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

static void bad_values_are_reported_the_rest_kept(void **state)
{
	(void)state;
	tp_puts(P "state", "ACTIVE\n");
	tp_puts(P "rate", "fast\n");
	tp_puts(P "counters/symbol_error", "-3\n");
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "infiniband");
	assert_int_equal(tfx_round(&f), -EINVAL);
	assert_int_equal(f.t.n, 11);
	tp_absent(&f.t, "node_infiniband_state_id", "device", "mlx4_0");
	tp_absent(&f.t, "node_infiniband_rate_bytes_per_second", "device", "mlx4_0");
	tp_absent(&f.t, "node_infiniband_symbol_error_total");
	assert_int_equal(tp_nwarn, 3);
	assert_int_equal(f.st->errors, 3);
	tfx_stop(&f);
}

/* procfs: ErrNoData for the whole class; here for what lacks its files */
static void missing_parts_are_no_data(void **state)
{
	(void)state;
	tp_rm(D "board_id");
	tp_rm("class/infiniband/i40iw0/ports/1/counters/link_downed");
	char path[512];
	snprintf(path, sizeof(path), "%s/class/infiniband/i40iw0/ports/1/counters", tp_dir);
	assert_int_equal(rmdir(path), 0);
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "infiniband");
	assert_int_equal(tfx_round(&f), -ENODATA);
	tp_absent(&f.t, "node_infiniband_info", "device", "mlx4_0");
	tp_absent(&f.t, "node_infiniband_state_id", "device", "i40iw0");
	assert_non_null(tp_find(&f.t, "node_infiniband_info", "device", "i40iw0", NULL));
	assert_non_null(tp_find(&f.t, "node_infiniband_state_id", "device", "mlx4_0", NULL));
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

static void no_class_is_no_data(void **state)
{
	(void)state;
	tp_dir_teardown();
	tp_dir_setup(tp_warn_hook);
	struct tfx f;
	tfx_start(&f, "infiniband");
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	tfx_stop(&f);
	tp_mkdirs("class/infiniband");
	tfx_start(&f, "infiniband");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 0);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(state_and_rate_parsers),
	    cmocka_unit_test_setup_teardown(devices_ports_and_counters, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_values_are_reported_the_rest_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(missing_parts_are_no_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(no_class_is_no_data, setup, teardown),
	};
	return cmocka_run_group_tests_name("proc infiniband", tests, NULL, NULL);
}
