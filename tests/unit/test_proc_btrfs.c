/* node_exporter 1.5.0's btrfs collector, its sysfs part: per filesystem
 * info, global reserve, per block group type and layout, per device. */
#include <math.h>

#include "test_proc_fx.h"

#define FS "fs/btrfs/11111111-2222-4333-8444-555555555555"
static const char *const uuid = "11111111-2222-4333-8444-555555555555";

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
	put(FS "/label", "  home\n");
	put(FS "/metadata_uuid", "99999999-2222-4333-8444-555555555555\n");
	put(FS "/allocation/global_rsv_size", "3670016\n");
	put(FS "/allocation/data/bytes_reserved", "4096\n");
	put(FS "/allocation/data/raid6/total_bytes", "1000\n");
	put(FS "/allocation/data/raid6/used_bytes", "500\n");
	put(FS "/allocation/metadata/raid1/total_bytes", "800\n");
	/* metadata/raid1/used_bytes absent: 0 */
	put(FS "/allocation/system/single/total_bytes", "100\n");
	put(FS "/allocation/system/single/used_bytes", "10\n");
	put(FS "/devices/sda/size", "2048\n");
	put(FS "/devices/sdb/size", "4096\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static void sysfs_values_per_filesystem(void **state)
{
	(void)state;
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "btrfs");
	assert_int_equal(tfx_round(&f), 0);
	/* info, rsv, 3 reserved, 3 layouts x 3, 2 devices */
	assert_int_equal(f.t.n, 16);
	const char *u = "99999999-2222-4333-8444-555555555555"; /* metadata_uuid wins */
	const struct sb_sample *s =
	    tp_find(&f.t, "node_btrfs_info", "uuid", u, "label", "home", NULL);
	assert_non_null(s);
	assert_string_equal(s->help, "Filesystem information");
	assert_double_eq(tp_value(&f.t, "node_btrfs_global_rsv_size_bytes", "uuid", u), 3670016);
	assert_double_eq(
	    tp_value(&f.t, "node_btrfs_reserved_bytes", "uuid", u, "block_group_type", "data"),
	    4096);
	assert_double_eq(tp_value(&f.t, "node_btrfs_reserved_bytes", "block_group_type", "system"),
			 0);
	assert_double_eq(
	    tp_value(&f.t, "node_btrfs_used_bytes", "block_group_type", "data", "mode", "raid6"),
	    500);
	assert_double_eq(tp_value(&f.t, "node_btrfs_used_bytes", "mode", "raid1"), 0);
	assert_double_eq(tp_value(&f.t, "node_btrfs_size_bytes", "mode", "raid1"), 800);
	/* raid6 over 2 devices: 2/(2-2), as procfs */
	assert_true(isinf(tp_value(&f.t, "node_btrfs_allocation_ratio", "mode", "raid6")));
	assert_double_eq(tp_value(&f.t, "node_btrfs_allocation_ratio", "mode", "raid1"), 2);
	assert_double_eq(tp_value(&f.t, "node_btrfs_allocation_ratio", "mode", "single"), 1);
	s = tp_find(&f.t, "node_btrfs_device_size_bytes", "uuid", u, "device", "sdb", NULL);
	assert_double_eq(s->value, 4096 * 512);
	assert_int_equal(s->nlabels, 2);
	assert_string_equal(s->help, "Size of a device that is part of the filesystem.");
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

static void without_metadata_uuid_the_directory_names_it(void **state)
{
	(void)state;
	tp_rm(FS "/metadata_uuid");
	struct tfx f;
	tfx_start(&f, "btrfs");
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_btrfs_info", "uuid", uuid, "label", "home", NULL));
	tfx_stop(&f);
}

/* procfs reads it as 0; here the filesystem is left out, the other kept */
static void a_bad_number_leaves_its_filesystem_out(void **state)
{
	(void)state;
	put("fs/btrfs/aaaaaaaa-2222-4333-8444-555555555555/label", "other\n");
	put(FS "/devices/sda/size", "lots\n");
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "btrfs");
	assert_int_equal(tfx_round(&f), -EINVAL);
	tp_absent(&f.t, "node_btrfs_info", "label", "home");
	assert_non_null(tp_find(&f.t, "node_btrfs_info", "label", "other", NULL));
	assert_int_equal(f.st->errors, 1);
	assert_int_equal(tp_nwarn, 1);
	tfx_stop(&f);
}

static void no_btrfs_is_success_without_series(void **state)
{
	(void)state;
	tp_dir_teardown();
	tp_dir_setup(tp_warn_hook);
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "btrfs");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(sysfs_values_per_filesystem, setup, teardown),
	    cmocka_unit_test_setup_teardown(without_metadata_uuid_the_directory_names_it, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(a_bad_number_leaves_its_filesystem_out, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(no_btrfs_is_success_without_series, setup, teardown),
	};
	return cmocka_run_group_tests_name("proc btrfs", tests, NULL, NULL);
}
