/* node_exporter's bonding collector: slaves and active slaves per master. */
#include "test_proc_fx.h"

#define N "class/net/"

static int setup(void **state)
{
	(void)state;
	if (tp_dir_setup(tp_warn_hook))
		return -1;
	tp_mkdirs(N "bond0/bonding");
	tp_mkdirs(N "bond0/lower_eth0/bonding_slave");
	tp_mkdirs(N "bond0/slave_eth1/bonding_slave"); /* older kernels' name */
	tp_mkdirs(N "bond0/lower_eth2/bonding_slave");
	tp_mkdirs(N "empty/bonding");
	tp_puts(N "bonding_masters", "bond0 empty\n");
	tp_puts(N "bond0/bonding/slaves", "eth0 eth1  eth2\n");
	tp_puts(N "bond0/lower_eth0/bonding_slave/mii_status", "up\n");
	tp_puts(N "bond0/slave_eth1/bonding_slave/mii_status", " up \n");
	tp_puts(N "bond0/lower_eth2/bonding_slave/mii_status", "UP\n"); /* not "up" */
	tp_puts(N "empty/bonding/slaves", "\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static void slaves_and_active_per_master(void **state)
{
	(void)state;
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "bonding");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 4);
	const struct sb_sample *s = tp_find(&f.t, "node_bonding_slaves", "master", "bond0", NULL);
	assert_double_eq(s->value, 3);
	assert_int_equal(s->type, SB_GAUGE);
	assert_int_equal(s->nlabels, 1);
	assert_string_equal(s->help, "Number of configured slaves per bonding interface.");
	s = tp_find(&f.t, "node_bonding_active", "master", "bond0", NULL);
	assert_double_eq(s->value, 2);
	assert_string_equal(s->help, "Number of active slaves per bonding interface.");
	assert_double_eq(tp_value(&f.t, "node_bonding_slaves", "master", "empty"), 0);
	assert_double_eq(tp_value(&f.t, "node_bonding_active", "master", "empty"), 0);
	/* re-read every round; a slave going down shows */
	tp_puts(N "bond0/lower_eth0/bonding_slave/mii_status", "down\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_double_eq(tp_value(&f.t, "node_bonding_active", "master", "bond0"), 1);
	/* a master removed: its files are let go */
	tp_puts(N "bonding_masters", "empty\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 2);
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

/* node_exporter: ErrNoData and no series at all; here the master only */
static void a_missing_file_is_no_data(void **state)
{
	(void)state;
	tp_puts(N "bond0/bonding/slaves", "eth0 eth9\n");
	tp_puts(N "bonding_masters", "bond0 empty gone\n");
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "bonding");
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 2);
	tp_absent(&f.t, "node_bonding_slaves", "master", "bond0");
	tp_absent(&f.t, "node_bonding_slaves", "master", "gone");
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

static void names_with_a_slash_are_refused(void **state)
{
	(void)state;
	tp_puts(N "bonding_masters", "../.. empty\n");
	tp_puts(N "empty/bonding/slaves", "../x\n");
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "bonding");
	assert_int_equal(tfx_round(&f), -EINVAL);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(tp_nwarn, 2);
	tfx_stop(&f);
}

static void no_bonding_is_no_data(void **state)
{
	(void)state;
	tp_rm(N "bonding_masters");
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "bonding");
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(slaves_and_active_per_master, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_missing_file_is_no_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(names_with_a_slash_are_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(no_bonding_is_no_data, setup, teardown),
	};
	return cmocka_run_group_tests_name("proc bonding", tests, NULL, NULL);
}
