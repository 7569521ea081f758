/* node_exporter's selinux collector. */
#include "test_proc_fx.h"

static int setup(void **state)
{
	(void)state;
	return tp_dir_setup(tp_warn_hook);
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

/* What 1.5.0 says on a host without SELinux: enabled 0, nothing else. */
static void without_selinuxfs_only_enabled_0(void **state)
{
	(void)state;
	struct tfx f;
	tfx_start(&f, "selinux");
	tp_nwarn = 0;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(tfx_round(&f), 0);
		assert_int_equal(f.t.n, 1);
		const struct sb_sample *s = tp_find(&f.t, "node_selinux_enabled", NULL);
		assert_double_eq(s->value, 0);
		assert_int_equal(s->type, SB_GAUGE);
		assert_string_equal(s->help, "SELinux is enabled, 1 is true, 0 is false");
	}
	assert_int_equal(tp_nwarn, 0);
	assert_int_equal(f.st->errors, 0);
	tfx_stop(&f);
}

static void with_selinuxfs_the_modes(void **state)
{
	(void)state;
	tp_mkdirs("fs/selinux");
	tp_puts("fs/selinux/enforce", "0");
	struct tfx f;
	tfx_start(&f, "selinux");
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 3);
	assert_double_eq(tp_value(&f.t, "node_selinux_enabled"), 1);
	assert_double_eq(tp_value(&f.t, "node_selinux_current_mode"), 0);
	assert_string_equal(tp_find(&f.t, "node_selinux_current_mode", NULL)->help,
			    "Current SELinux enforcement mode");
	assert_string_equal(tp_find(&f.t, "node_selinux_config_mode", NULL)->help,
			    "Configured SELinux enforcement mode");
	tp_puts("fs/selinux/enforce", "1");
	tfx_round(&f);
	assert_double_eq(tp_value(&f.t, "node_selinux_current_mode"), 1);
	/* garbage: reported, no current mode */
	tp_puts("fs/selinux/enforce", "7");
	assert_int_equal(tfx_round(&f), -EINVAL);
	tp_absent(&f.t, "node_selinux_current_mode");
	assert_int_equal(tp_nwarn, 1);
	tfx_stop(&f);
	tp_rm("fs/selinux/enforce");
}

static void config_mode(void **state)
{
	(void)state;
	assert_int_equal(sb_proc_selinux_config_mode("# c\nSELINUX=enforcing\nSELINUXTYPE=x\n"), 1);
	assert_int_equal(sb_proc_selinux_config_mode("SELINUX=permissive"), 0);
	assert_int_equal(sb_proc_selinux_config_mode("SELINUX=\"permissive\"\n"), 0);
	assert_int_equal(sb_proc_selinux_config_mode("SELINUX=disabled\n"), -1);
	assert_int_equal(sb_proc_selinux_config_mode("SELINUX=enforcingx\n"), -1);
	assert_int_equal(sb_proc_selinux_config_mode(""), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(without_selinuxfs_only_enabled_0),
	    cmocka_unit_test(with_selinuxfs_the_modes),
	    cmocka_unit_test(config_mode),
	};
	return cmocka_run_group_tests_name("proc selinux", tests, setup, teardown);
}
