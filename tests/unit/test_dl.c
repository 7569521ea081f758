/* Optional libraries open on demand, and say why when they cannot. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sb_dl.h"

#define FNS(X) X(strlen) X(strchr) X(strnlen) X(strrchr)
FNS(SB_DL_DECLARE)

static void test_a_library_opens_and_its_functions_are_callable(void **state)
{
	(void)state;
	const struct sb_dl_sym syms[] = {SB_DL_ENTRY(strlen) SB_DL_ENTRY(strchr){0}};
	struct sb_dl_lib lib = {.soname = "libc.so.6", .syms = syms};
	assert_int_equal(sb_dl_open(&lib), 0);
	assert_non_null(sym_strlen);
	assert_int_equal(sym_strlen("sensorbus"), 9);
	assert_string_equal(sym_strchr("a=b", '='), "=b");
	assert_int_equal(sb_dl_open(&lib), 0); /* again: the same answer */
}

static void test_a_missing_library_says_which(void **state)
{
	(void)state;
	const struct sb_dl_sym syms[] = {SB_DL_ENTRY(strnlen){0}};
	struct sb_dl_lib lib = {.soname = "libsensorbus-nonesuch.so.0", .syms = syms};
	assert_int_equal(sb_dl_open(&lib), -ELIBACC);
	assert_non_null(strstr(lib.why, "cannot load libsensorbus-nonesuch.so.0"));
	assert_null(sym_strnlen);
	assert_int_equal(sb_dl_open(&lib), -ELIBACC);
}

static void test_a_missing_symbol_leaves_no_pointer_set(void **state)
{
	(void)state;
	static void *nonesuch;
	const struct sb_dl_sym syms[] = {SB_DL_ENTRY(strrchr){"sb_nonesuch_function", &nonesuch},
					 {0}};
	struct sb_dl_lib lib = {.soname = "libc.so.6", .syms = syms};
	assert_int_equal(sb_dl_open(&lib), -ENOSYS);
	assert_non_null(strstr(lib.why, "libc.so.6 has no sb_nonesuch_function"));
	assert_null(sym_strrchr);
	assert_null(nonesuch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_library_opens_and_its_functions_are_callable),
	    cmocka_unit_test(test_a_missing_library_says_which),
	    cmocka_unit_test(test_a_missing_symbol_leaves_no_pointer_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
