/* sb_caps_drop, exercised in forked children so the test runner keeps its
 * own capabilities. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sb_caps.h"

static uint64_t status_mask(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	uint64_t v = UINT64_MAX;
	size_t n = strlen(field);
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 16);
	if (f)
		fclose(f);
	return v;
}

static bool privileged(void) { return status_mask("CapEff") != 0; }

/* Runs fn in a child; its exit status is the test's verdict. */
static int in_child(int (*fn)(void))
{
	pid_t p = fork();
	if (p == 0)
		_exit(fn());
	int st = 0;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

static int keep_dac_read_search(void)
{
	static const int keep[] = {CAP_DAC_READ_SEARCH};
	char kept[128];
	int r = sb_caps_drop(keep, 1, kept, sizeof(kept));
	if (r <= 0)
		return 1;
	uint64_t want = 1ULL << CAP_DAC_READ_SEARCH;
	if (status_mask("CapEff") != want || status_mask("CapPrm") != want)
		return 2;
	if (status_mask("CapBnd") != want || status_mask("CapInh") != 0)
		return 3;
	return strcmp(kept, "cap_dac_read_search=ep") ? 4 : 0;
}

static void keeps_only_the_listed_capabilities(void **state)
{
	(void)state;
	if (!privileged())
		skip();
	assert_int_equal(in_child(keep_dac_read_search), 0);
}

static int drop_twice(void)
{
	if (sb_caps_drop(NULL, 0, NULL, 0) < 0)
		return 1;
	char kept[64] = "x";
	/* nothing held now: a no-op, like for a process that never had any */
	if (sb_caps_drop(NULL, 0, kept, sizeof(kept)) != 0 || kept[0])
		return 2;
	return status_mask("CapEff") == 0 ? 0 : 3;
}

static void is_a_noop_without_capabilities(void **state)
{
	(void)state;
	assert_int_equal(in_child(drop_twice), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(keeps_only_the_listed_capabilities),
	    cmocka_unit_test(is_a_noop_without_capabilities),
	};
	return cmocka_run_group_tests_name("caps", tests, NULL, NULL);
}
