/* node_exporter's rapl collector: /sys/class/powercap zones. */
#include "test_proc_fx.h"

static void zone(const char *dir, const char *name, const char *uj)
{
	char rel[128];
	snprintf(rel, sizeof(rel), "class/powercap/%s", dir);
	tp_mkdirs(rel);
	snprintf(rel, sizeof(rel), "class/powercap/%s/name", dir);
	tp_puts(rel, name);
	snprintf(rel, sizeof(rel), "class/powercap/%s/energy_uj", dir);
	tp_puts(rel, uj);
	snprintf(rel, sizeof(rel), "class/powercap/%s/max_energy_range_uj", dir);
	tp_puts(rel, "262143328850\n");
}

static int setup(void **state)
{
	(void)state;
	if (tp_dir_setup(tp_warn_hook))
		return -1;
	zone("intel-rapl:0", "package-0\n", "240422366267\n");
	zone("intel-rapl:0:0", "core\n", "118821284256\n");
	zone("intel-rapl:1", "package-+2\n", "3000000\n");
	zone("intel-rapl:1:0", "core\n", "5\n");
	zone("intel-rapl:2", "package\n", "1\n"); /* after package-+2: index 3 */
	zone("intel-rapl:3", "a-b-1\n", "2\n");	  /* two '-': the whole name */
	zone("intel-rapl:4", "psys x\n", "7\n");  /* sanitized in the metric name */
	tp_mkdirs("class/powercap/intel-rapl");	  /* no name: no zone */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static void sanitize_metric_names(void **state)
{
	(void)state;
	char out[64];
	sb_proc_sanitize_metric("we ird__-_x", out, sizeof(out));
	assert_string_equal(out, "we_ird_x");
	sb_proc_sanitize_metric("a-_-b", out, sizeof(out));
	assert_string_equal(out, "a__b");
	sb_proc_sanitize_metric("__ok_1__", out, sizeof(out));
	assert_string_equal(out, "__ok_1__");
}

static void zones_give_joules(void **state)
{
	(void)state;
	struct tfx f;
	tfx_start(&f, "rapl");
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(tp_nwarn, 0);
	assert_int_equal(f.t.n, 7);
	char path[256];
	snprintf(path, sizeof(path), "%s/class/powercap/intel-rapl:0", tp_dir);
	const struct sb_sample *s =
	    tp_find(&f.t, "node_rapl_package_joules_total", "index", "0", "path", path, NULL);
	assert_non_null(s);
	assert_double_eq(s->value, 240422.366267);
	assert_int_equal(s->type, SB_COUNTER);
	assert_string_equal(s->help, "Current RAPL package value in joules");
	assert_double_eq(tp_value(&f.t, "node_rapl_package_joules_total", "index", "2"), 3);
	assert_double_eq(tp_value(&f.t, "node_rapl_package_joules_total", "index", "3"), 0.000001);
	assert_double_eq(tp_value(&f.t, "node_rapl_core_joules_total", "index", "1"), 0.000005);
	assert_double_eq(tp_value(&f.t, "node_rapl_a_b_1_joules_total", "index", "0"), 0.000002);
	s = tp_find(&f.t, "node_rapl_psys_x_joules_total", "index", "0", NULL);
	assert_string_equal(s->help, "Current RAPL psys x value in joules");
	/* the counter is read again every round */
	tp_puts("class/powercap/intel-rapl:1:0/energy_uj", "2000005\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_double_eq(tp_value(&f.t, "node_rapl_core_joules_total", "index", "1"), 2.000005);
	tfx_stop(&f);
	tp_puts("class/powercap/intel-rapl:1:0/energy_uj", "5\n");

	tfx_start(&f, "rapl");
	f.cfg.rapl_enable_zone_label = true; /* the labelled form */
	assert_int_equal(tfx_round(&f), 0);
	s = tp_find(&f.t, "node_rapl_joules_total", "index", "1", "rapl_zone", "core", NULL);
	assert_non_null(s);
	assert_string_equal(s->help, "Current RAPL value in joules");
	assert_int_equal(tp_count(&f.t, "node_rapl_joules_total"), 7);
	tfx_stop(&f);
}

static void a_bad_counter_is_reported_and_the_others_kept(void **state)
{
	(void)state;
	tp_puts("class/powercap/intel-rapl:0:0/energy_uj", "12x\n");
	tp_puts("class/powercap/intel-rapl:3/max_energy_range_uj", "\n");
	struct tfx f;
	tfx_start(&f, "rapl");
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), -EINVAL);
	assert_int_equal(f.t.n, 5);
	assert_int_equal(tp_nwarn, 1); /* rate-limited */
	tp_absent(&f.t, "node_rapl_core_joules_total", "index", "0");
	tp_absent(&f.t, "node_rapl_a_b_1_joules_total");
	tfx_stop(&f);
	tp_puts("class/powercap/intel-rapl:0:0/energy_uj", "118821284256\n");
	tp_puts("class/powercap/intel-rapl:3/max_energy_range_uj", "262143328850\n");
}

static void no_powercap_is_no_data(void **state)
{
	(void)state;
	struct tfx f;
	memset(&f, 0, sizeof(f));
	char *names[1] = {"rapl"};
	char root[128];
	snprintf(root, sizeof(root), "%s/nonexistent", tp_dir);
	f.cfg = (struct proc_cfg){.procfs = tp_dir, .sysfs = root};
	f.cfg.collectors = (struct sb_strlist){names, 1};
	f.s.cfg = &f.cfg;
	assert_int_equal(sb_sensor_proc.init(&f.s), 0);
	f.st = f.s.state;
	tp_begin(&f.t);
	tp_end(&f.t);
	tp_nwarn = 0;
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(tp_nwarn, 0);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sanitize_metric_names),
	    cmocka_unit_test(zones_give_joules),
	    cmocka_unit_test(a_bad_counter_is_reported_and_the_others_kept),
	    cmocka_unit_test(no_powercap_is_no_data),
	};
	return cmocka_run_group_tests_name("proc rapl", tests, setup, teardown);
}
