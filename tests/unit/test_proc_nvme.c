/* node_exporter's nvme collector: node_nvme_info per controller. */
#include "test_proc_fx.h"

static void put_dev(const char *dev, const char *fw, const char *model, const char *serial,
		    const char *state)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "class/nvme/%s", dev);
	tp_mkdirs(rel);
	const char *files[] = {"firmware_rev", fw,     "model", model,
			       "serial",       serial, "state", state};
	for (int i = 0; i < 8; i += 2) {
		if (!files[i + 1])
			continue;
		snprintf(rel, sizeof(rel), "class/nvme/%s/%s", dev, files[i]);
		tp_puts(rel, files[i + 1]);
	}
}

static int setup(void **state)
{
	(void)state;
	if (tp_dir_setup(tp_warn_hook))
		return -1;
	put_dev("nvme0", "4B2QGXA7\n", "Samsung SSD 980 1TB                     \n",
		"S64ANS0T000000X     \n", "live\n");
	put_dev("nvme1", "1.0\n", "QEMU NVMe Ctrl\n", "deadbeef\n", "resetting\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static void one_info_series_per_controller(void **state)
{
	(void)state;
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "nvme");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 2);
	const struct sb_sample *s = tp_find(
	    &f.t, "node_nvme_info", "device", "nvme0", "firmware_revision", "4B2QGXA7", "model",
	    "Samsung SSD 980 1TB", "serial", "S64ANS0T000000X", "state", "live", NULL);
	assert_non_null(s);
	assert_int_equal(s->nlabels, 5);
	assert_int_equal(s->type, SB_GAUGE);
	assert_double_eq(s->value, 1);
	assert_string_equal(s->help,
			    "Non-numeric data from /sys/class/nvme/<device>, value is always 1.");
	assert_non_null(
	    tp_find(&f.t, "node_nvme_info", "device", "nvme1", "state", "resetting", NULL));
	/* the state is read every round */
	tp_puts("class/nvme/nvme1/state", "live\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_nvme_info", "device", "nvme1", "state", "live", NULL));
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

/* node_exporter: ErrNoData for all when one lacks a file; here the others
 * stay, with the same status. */
static void a_controller_without_a_file_is_no_data(void **state)
{
	(void)state;
	put_dev("nvme2", "1\n", "m\n", NULL, "live\n");
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "nvme");
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 2);
	tp_absent(&f.t, "node_nvme_info", "device", "nvme2");
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

/* an entry that is not a directory cannot be read: an error, logged */
static void an_unreadable_controller_is_an_error(void **state)
{
	(void)state;
	tp_puts("class/nvme/nvme9", "");
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "nvme");
	int r = tfx_round(&f);
	assert_true(r < 0 && r != -ENODATA);
	assert_int_equal(f.t.n, 2);
	assert_int_equal(tp_nwarn, 1);
	tfx_stop(&f);
}

static void no_class_is_no_data_an_empty_one_success(void **state)
{
	(void)state;
	tp_dir_teardown();
	tp_dir_setup(tp_warn_hook);
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "nvme");
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	tfx_stop(&f);
	tp_mkdirs("class/nvme");
	tfx_start(&f, "nvme");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(one_info_series_per_controller, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_controller_without_a_file_is_no_data, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(an_unreadable_controller_is_an_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(no_class_is_no_data_an_empty_one_success, setup,
					    teardown),
	};
	return cmocka_run_group_tests_name("proc nvme", tests, NULL, NULL);
}
