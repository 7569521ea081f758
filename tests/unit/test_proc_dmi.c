/* node_exporter's dmi collector: node_dmi_info from <sysfs>/class/dmi/id,
 * read once at start, values as procfs' util.SysReadFile and
 * strings.ToValidUTF8 make them. */
#include <sys/stat.h>

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

static const char *val(const char *raw, size_t n)
{
	static char out[SB_PROC_DMI_MAX];
	size_t len = sb_proc_dmi_value(raw, n, out);
	assert_int_equal(len, strlen(out));
	return out;
}
#define VAL(lit) val(lit, sizeof(lit) - 1)

static void values_are_trimmed(void **state)
{
	(void)state;
	assert_string_equal(VAL("Dell Inc.\n"), "Dell Inc.");
	assert_string_equal(VAL(" \t x  y \r\n\n"), "x  y");
	assert_string_equal(VAL("\n"), "");
	assert_string_equal(VAL(""), "");
	/* Unicode white space too (NBSP, NEL, ideographic space) */
	assert_string_equal(VAL("\xc2\xa0QEMU\xc2\x85\xe3\x80\x80\n"), "QEMU");
	/* inner Unicode space is kept */
	assert_string_equal(VAL("a\xc2\xa0"
				"b"),
			    "a\xc2\xa0"
			    "b");
}

static void only_the_first_128_bytes_count(void **state)
{
	(void)state;
	char raw[300];
	memset(raw, 'A', sizeof(raw));
	raw[0] = raw[1] = ' ';
	const char *v = val(raw, sizeof(raw));
	assert_int_equal(strlen(v), 126); /* 128 read, 2 trimmed */
	/* the cut falls inside a 2-byte sequence: its lead byte is invalid */
	memset(raw, 'B', 127);
	raw[127] = '\xc3';
	raw[128] = '\xa9';
	v = val(raw, 129);
	assert_int_equal(strlen(v), 127 + 3);
	assert_memory_equal(v + 127, "\xef\xbf\xbd", 3);
}

static void invalid_utf8_runs_become_one_replacement(void **state)
{
	(void)state;
	assert_string_equal(VAL("ab\xff\xfe"
				"cd\xc3\n"),
			    "ab\xef\xbf\xbd"
			    "cd\xef\xbf\xbd");
	/* overlong, surrogate, above U+10FFFF, a lone continuation byte */
	assert_string_equal(VAL("\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\x80"),
			    "\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd");
	/* valid multi-byte text is kept; U+FFFD itself too */
	assert_string_equal(VAL("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbd"),
			    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbd");
	/* every byte invalid: worst-case growth fits the buffer */
	char raw[SB_PROC_DMI_READ];
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = i % 2 ? 'x' : '\xff';
	assert_int_equal(strlen(val(raw, sizeof(raw))), 64 * 4);
}

static void the_collector_labels_what_it_finds(void **state)
{
	(void)state;
	tp_mkdirs("class/dmi/id/subdir");
	tp_puts("class/dmi/id/bios_vendor", "SeaBIOS\n");
	tp_puts("class/dmi/id/sys_vendor", "QEMU \n");
	tp_puts("class/dmi/id/chassis_asset_tag", "\n");
	tp_puts("class/dmi/id/chassis_type", "1\n"); /* not a label in 1.5.0 */
	tp_puts("class/dmi/id/modalias", "dmi:bvnSeaBIOS:\n");
	char path[512];
	/* a link and a FIFO are not regular files: left out, without waiting */
	snprintf(path, sizeof(path), "%s/class/dmi/id/board_name", tp_dir);
	assert_int_equal(symlink("bios_vendor", path), 0);
	snprintf(path, sizeof(path), "%s/class/dmi/id/product_sku", tp_dir);
	assert_int_equal(mkfifo(path, 0644), 0);
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "dmi");
	assert_int_equal(tfx_round(&f), 0);
	assert_int_equal(f.t.n, 1);
	const struct sb_sample *s = tp_find(&f.t, "node_dmi_info", "bios_vendor", "SeaBIOS",
					    "chassis_asset_tag", "", "system_vendor", "QEMU", NULL);
	assert_non_null(s);
	assert_int_equal(s->nlabels, 3);
	assert_double_eq(s->value, 1);
	assert_int_equal(s->type, SB_GAUGE);
	assert_non_null(strstr(s->help, "A metric with a constant '1' value labeled by bios_date"));
	/* read once: a change shows after a restart only */
	tp_puts("class/dmi/id/bios_vendor", "Other\n");
	assert_int_equal(tfx_round(&f), 0);
	assert_non_null(tp_find(&f.t, "node_dmi_info", "bios_vendor", "SeaBIOS", NULL));
	assert_int_equal(tp_nwarn, 0);
	assert_int_equal(f.st->errors, 0);
	tfx_stop(&f);
}

static void no_dmi_is_no_data(void **state)
{
	(void)state;
	struct tfx f;
	tp_nwarn = 0;
	tfx_start(&f, "dmi");
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	tfx_stop(&f);
	/* a directory without any of the files: the same */
	tp_mkdirs("class/dmi/id");
	tp_puts("class/dmi/id/uevent", "MODALIAS=dmi:\n");
	tfx_start(&f, "dmi");
	assert_int_equal(tfx_round(&f), -ENODATA);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(tp_nwarn, 0);
	assert_int_equal(f.st->errors, 0);
	tfx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(values_are_trimmed),
	    cmocka_unit_test(only_the_first_128_bytes_count),
	    cmocka_unit_test(invalid_utf8_runs_become_one_replacement),
	    cmocka_unit_test_setup_teardown(no_dmi_is_no_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(the_collector_labels_what_it_finds, setup, teardown),
	};
	return cmocka_run_group_tests_name("proc dmi", tests, NULL, NULL);
}
