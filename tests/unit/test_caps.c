/* sb_caps_drop, exercised in forked children so the test runner keeps its
 * own capabilities; which capabilities a config needs; becoming a user. */
#include <errno.h>
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

#include "sb_agent.h"
#include "sb_caps.h"
#include "sb_config.h"

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
	int r = sb_caps_drop(keep, 1, NULL, kept, sizeof(kept));
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
	if (sb_caps_drop(NULL, 0, NULL, NULL, 0) < 0)
		return 1;
	char kept[64] = "x";
	/* nothing held now: a no-op, like for a process that never had any */
	if (sb_caps_drop(NULL, 0, NULL, kept, sizeof(kept)) != 0 || kept[0])
		return 2;
	return status_mask("CapEff") == 0 ? 0 : 3;
}

static void is_a_noop_without_capabilities(void **state)
{
	(void)state;
	assert_int_equal(in_child(drop_twice), 0);
}

static uint64_t needed(const char *json)
{
	struct sb_config cfg;
	char err[256];
	memset(&cfg, 0, sizeof(cfg));
	if (sb_config_load(&cfg, json, "test", err, sizeof(err)))
		fail_msg("%s: %s", json, err);
	uint64_t m = sb_agent_caps_needed(&cfg);
	sb_config_free(&cfg);
	return m;
}

static void the_config_decides_which_capabilities_stay(void **state)
{
	(void)state;
	const uint64_t ptrace = SB_CAP(CAP_SYS_PTRACE), dac = SB_CAP(CAP_DAC_READ_SEARCH),
		       bind = SB_CAP(CAP_NET_BIND_SERVICE);
	/* system files only: nothing, least of all ptrace */
	assert_true(needed("{\"sensors\": {\"proc\": {}}}") == 0);
	assert_true(needed("{\"sensors\": {\"proc\": {}, \"synthetic\": {}}, \"sinks\": "
			   "[{\"type\": \"prom\", \"listen\": \"127.0.0.1:9847\"}]}") == 0);
	/* other users' processes */
	assert_true(needed("{\"sensors\": {\"proc\": {\"processes\": [\"algod\"]}}}") ==
		    (ptrace | dac));
	assert_true(needed("{\"sensors\": {\"proc\": {\"pids\": [\"1\"]}}}") == (ptrace | dac));
	/* algod's token */
	assert_true(needed("{\"sensors\": {\"algod\": {}}}") == dac);
	/* a privileged port, bound after the drop */
	assert_true(needed("{\"sensors\": {\"proc\": {}}, \"sinks\": [{\"type\": \"prom\", "
			   "\"listen\": \"127.0.0.1:80\"}]}") == bind);
}

static void an_unknown_user_is_named_as_such(void **state)
{
	(void)state;
	struct sb_caps_user u;
	assert_int_equal(sb_caps_user_lookup("sb-no-such-user", &u), -ENOENT);
	assert_int_equal(sb_caps_user_lookup("root", &u), 0);
	assert_int_equal(u.uid, 0);
}

static int become_nobody_keeping_dac_read_search(void)
{
	struct sb_caps_user u;
	if (sb_caps_user_lookup("nobody", &u))
		return 1;
	static const int keep[] = {CAP_DAC_READ_SEARCH};
	if (sb_caps_drop(keep, 1, &u, NULL, 0) <= 0)
		return 2;
	uid_t r, e, s;
	if (getresuid(&r, &e, &s) || r != u.uid || e != u.uid || s != u.uid)
		return 3;
	if (getgid() != u.gid || getegid() != u.gid)
		return 4;
	gid_t groups[64];
	int n = getgroups(64, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == 0)
			return 5; /* root's group kept */
	uint64_t want = 1ULL << CAP_DAC_READ_SEARCH;
	if (status_mask("CapEff") != want || status_mask("CapPrm") != want)
		return 6;
	if (setuid(0) == 0)
		return 7; /* could go back */
	return 0;
}

static void becomes_the_user_keeping_only_the_listed_capabilities(void **state)
{
	(void)state;
	if (!privileged() || getuid() != 0)
		skip();
	struct sb_caps_user u;
	if (sb_caps_user_lookup("nobody", &u))
		skip();
	assert_int_equal(in_child(become_nobody_keeping_dac_read_search), 0);
}

static int switch_without_privilege(void)
{
	struct sb_caps_user u;
	if (sb_caps_user_lookup("nobody", &u))
		return 1;
	if (getuid() == u.uid)
		return 0;
	if (sb_caps_drop(NULL, 0, NULL, NULL, 0) < 0)
		return 2;
	return sb_caps_drop(NULL, 0, &u, NULL, 0) == -EPERM ? 0 : 3;
}

static void switching_user_without_privilege_is_refused(void **state)
{
	(void)state;
	assert_int_equal(in_child(switch_without_privilege), 0);
}

static int no_new_privs(void)
{
	if (sb_caps_no_new_privs())
		return 1;
	return status_mask("NoNewPrivs") == 1 ? 0 : 2;
}

static void no_new_privs_is_set(void **state)
{
	(void)state;
	assert_int_equal(in_child(no_new_privs), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(keeps_only_the_listed_capabilities),
	    cmocka_unit_test(is_a_noop_without_capabilities),
	    cmocka_unit_test(the_config_decides_which_capabilities_stay),
	    cmocka_unit_test(an_unknown_user_is_named_as_such),
	    cmocka_unit_test(becomes_the_user_keeping_only_the_listed_capabilities),
	    cmocka_unit_test(switching_user_without_privilege_is_refused),
	    cmocka_unit_test(no_new_privs_is_set),
	};
	return cmocka_run_group_tests_name("caps", tests, NULL, NULL);
}
