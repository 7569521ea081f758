/* upstream node_exporter's dmmultipath collector: device-mapper maps whose
 * uuid starts with "mpath-", with their paths' states. */
#include "test_proc_fx.h"

static void put(const char *rel, const char *text)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s", rel);
	*strrchr(dir, '/') = 0;
	tp_mkdirs(dir);
	tp_puts(rel, text);
}

static int setup(void **state)
{
	(void)state;
	if (tp_dir_setup(tp_warn_hook))
		return -1;
	put("block/dm-3/dm/uuid", "mpath-36000\n");
	put("block/dm-3/dm/name", "mpathb\n");
	put("block/dm-3/dm/suspended", "1\n");
	put("block/dm-3/size", "2048\n");
	tp_mkdirs("block/dm-3/slaves/sdc");
	tp_mkdirs("block/dm-3/slaves/nvme1n1");
	put("block/sdc/device/state", "blocked\n");
	put("block/nvme1n1/device/state", "live\n");
	/* not multipath: an LVM volume, and a dm-like name with no dm/ */
	put("block/dm-0/dm/uuid", "LVM-abc\n");
	put("block/dm-9/size", "1\n");
	put("block/sda/size", "1\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static void a_map_and_its_paths(void **state)
{
	(void)state;
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "dmmultipath");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 8);
	const struct sb_sample *s =
	    tp_find(&f.t, "node_dmmultipath_device_info", "device", "mpathb", "sysfs_name", "dm-3",
		    "uuid", "mpath-36000", NULL);
	assert_non_null(s);
	assert_string_equal(s->help, "Non-numeric information about a DM-multipath device.");
	/* suspended */
	assert_double_eq(tp_value(&f.t, "node_dmmultipath_device_active", "device", "mpathb",
				  "sysfs_name", "dm-3"),
			 0);
	assert_double_eq(tp_value(&f.t, "node_dmmultipath_device_size_bytes", "device", "mpathb"),
			 2048 * 512);
	assert_non_null(tp_find(&f.t, "node_dmmultipath_path_state", "device", "mpathb", "path",
				"sdc", "state", "blocked", NULL));
	assert_non_null(tp_find(&f.t, "node_dmmultipath_path_state", "device", "mpathb", "path",
				"nvme1n1", "state", "live", NULL));
	assert_double_eq(tp_value(&f.t, "node_dmmultipath_device_paths", "device", "mpathb"), 2);
	assert_double_eq(tp_value(&f.t, "node_dmmultipath_device_paths_active", "device", "mpathb"),
			 1);
	assert_double_eq(tp_value(&f.t, "node_dmmultipath_device_paths_failed", "device", "mpathb"),
			 1);
	/* states are read every round */
	put("block/sdc/device/state", "running\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_double_eq(tp_value(&f.t, "node_dmmultipath_device_paths_active", "device", "mpathb"),
			 2);
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

/* upstream fails every map; here only the one missing a file */
static void a_map_missing_a_file_is_left_out(void **state)
{
	(void)state;
	put("block/dm-4/dm/uuid", "mpath-36001\n");
	put("block/dm-4/dm/name", "mpathc\n");
	put("block/dm-4/size", "8\n"); /* no dm/suspended */
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "dmmultipath");
	assert_int_equal(tfx_round(&f), -ENOENT);
	assert_non_null(tp_find(&f.t, "node_dmmultipath_device_info", "device", "mpathb", NULL));
	tp_absent(&f.t, "node_dmmultipath_device_info", "sysfs_name", "dm-4");
	assert_int_equal(tp_nwarn, 1);
	tfx_stop(&f);
}

static void no_block_directory_is_no_data(void **state)
{
	(void)state;
	tp_dir_teardown();
	tp_dir_setup(tp_warn_hook);
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "dmmultipath");
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(a_map_and_its_paths, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_map_missing_a_file_is_left_out, setup, teardown),
	    cmocka_unit_test_setup_teardown(no_block_directory_is_no_data, setup, teardown),
	};
	return cmocka_run_group_tests_name("proc dmmultipath", tests, NULL, NULL);
}
