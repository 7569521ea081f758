/* The fallback decision: from a probe of the kernel and the process, which
 * programs load in which mode, or the one reason the agent runs
 * procfs-only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/sensors/bpf/bpf_sensor.h"

/* A current kernel, run as root. */
static struct sb_bpf_probe capable(void)
{
	struct sb_bpf_probe p = {
	    .btf = true,
	    .cap_sys_admin = true,
	    .cap_bpf = true,
	    .cap_perfmon = true,
	    .ringbuf = true,
	    .task_storage = true,
	    .tp_btf = SB_TP_ALL,
	    .tp_exists = SB_TP_ALL,
	    .sched_info = true,
	    .iter_task = true,
	};
	return p;
}

#define WAKEUPS (SB_TP_BIT(SB_TP_SCHED_WAKEUP) | SB_TP_BIT(SB_TP_SCHED_WAKEUP_NEW))
#define NO_WAKEUPS (SB_TP_ALL & ~WAKEUPS)

static struct sb_bpf_plan plan(const struct sb_bpf_probe *p)
{
	struct sb_bpf_plan out;
	sb_bpf_plan(p, &out);
	return out;
}

static void test_capable_root_loads_every_needed_program_with_tp_btf(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	struct sb_bpf_plan r = plan(&p);
	assert_int_equal(r.reason, SB_BPF_OK);
	assert_true(r.btf_mode);
	assert_true(r.kernel_capable);
	assert_false(r.latency_wakeup);
	assert_int_equal(r.want, NO_WAKEUPS);
	assert_int_equal(r.load, NO_WAKEUPS);
	assert_string_equal(r.missing, "");
}

static void test_without_sched_info_waits_are_timed_from_wakeups(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	p.sched_info = false;
	struct sb_bpf_plan r = plan(&p);
	assert_int_equal(r.reason, SB_BPF_OK);
	assert_true(r.latency_wakeup);
	assert_int_equal(r.want, SB_TP_ALL);
	assert_int_equal(r.load, SB_TP_ALL);
}

static void test_forced_wakeup_timing_loads_the_wakeup_programs(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	p.force_wakeup = true;
	struct sb_bpf_plan r = plan(&p);
	assert_true(r.latency_wakeup);
	assert_int_equal(r.load, SB_TP_ALL);
}

static void test_missing_wakeup_tracepoint_is_not_missed_with_sched_info(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	p.tp_btf &= ~WAKEUPS;
	p.tp_exists &= ~WAKEUPS;
	struct sb_bpf_plan r = plan(&p);
	assert_int_equal(r.reason, SB_BPF_OK);
	assert_true(r.btf_mode); /* the tracepoints it needs all have BTF types */
	assert_int_equal(r.load, NO_WAKEUPS);
	assert_string_equal(r.missing, "");
}

static void test_no_btf_falls_back_and_says_so(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	p.btf = false;
	struct sb_bpf_plan r = plan(&p);
	assert_int_equal(r.reason, SB_BPF_NO_BTF);
	assert_false(r.kernel_capable);
	assert_int_equal(r.load, 0);
	assert_non_null(strstr(r.why, "BTF"));
}

static void test_no_btf_is_reported_before_missing_privilege(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	p.btf = false;
	p.cap_sys_admin = p.cap_bpf = p.cap_perfmon = false;
	assert_int_equal(plan(&p).reason, SB_BPF_NO_BTF);
}

static void test_unprivileged_falls_back_naming_the_missing_capabilities(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	p.cap_sys_admin = p.cap_bpf = p.cap_perfmon = false;
	struct sb_bpf_plan r = plan(&p);
	assert_int_equal(r.reason, SB_BPF_NO_PRIVILEGE);
	assert_true(r.kernel_capable); /* the kernel could; the process may not */
	assert_int_equal(r.load, 0);
	assert_non_null(strstr(r.why, "(missing: CAP_BPF CAP_PERFMON)"));
}

static void test_cap_bpf_and_cap_perfmon_without_root_are_enough(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	p.cap_sys_admin = false;
	assert_int_equal(plan(&p).reason, SB_BPF_OK);
}

static void test_cap_bpf_alone_is_not_enough_for_tracing(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	p.cap_sys_admin = p.cap_perfmon = false;
	struct sb_bpf_plan r = plan(&p);
	assert_int_equal(r.reason, SB_BPF_NO_PRIVILEGE);
	assert_non_null(strstr(r.why, "(missing: CAP_PERFMON)"));
}

static void test_cap_sys_admin_alone_is_enough_on_old_kernels(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	p.cap_bpf = p.cap_perfmon = false; /* before 5.8 these do not exist */
	assert_int_equal(plan(&p).reason, SB_BPF_OK);
}

static void test_no_ring_buffer_falls_back(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	p.ringbuf = false;
	struct sb_bpf_plan r = plan(&p);
	assert_int_equal(r.reason, SB_BPF_NO_RINGBUF);
	assert_false(r.kernel_capable);
	assert_non_null(strstr(r.why, "ring buffer"));
}

static void test_no_task_storage_uses_raw_tp_for_every_program(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	p.task_storage = false;
	struct sb_bpf_plan r = plan(&p);
	assert_int_equal(r.reason, SB_BPF_OK);
	assert_false(r.btf_mode);
	assert_int_equal(r.load, NO_WAKEUPS);
}

static void test_one_tracepoint_without_btf_type_moves_all_to_raw_tp(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	p.tp_btf &= ~SB_TP_BIT(SB_TP_PROCESS_FORK);
	struct sb_bpf_plan r = plan(&p);
	assert_int_equal(r.reason, SB_BPF_OK);
	assert_false(r.btf_mode); /* one mode: the programs share per-task state */
	assert_int_equal(r.load, NO_WAKEUPS);
}

static void test_missing_tracepoint_disables_only_its_program(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	p.tp_btf &= ~SB_TP_BIT(SB_TP_PROCESS_FORK);
	p.tp_exists &= ~SB_TP_BIT(SB_TP_PROCESS_FORK);
	struct sb_bpf_plan r = plan(&p);
	assert_int_equal(r.reason, SB_BPF_OK);
	assert_true(r.btf_mode);
	assert_int_equal(r.load, NO_WAKEUPS & ~SB_TP_BIT(SB_TP_PROCESS_FORK));
	assert_string_equal(r.missing, "sched_process_fork");
}

static void test_no_tracepoint_at_all_falls_back(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	p.tp_btf = p.tp_exists = 0;
	struct sb_bpf_plan r = plan(&p);
	assert_int_equal(r.reason, SB_BPF_NO_TRACEPOINT);
	assert_int_equal(r.load, 0);
	assert_non_null(strstr(r.why, "sched_switch"));
}

static void test_forced_raw_tp_is_used_even_where_tp_btf_works(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	p.force = SB_ATTACH_RAW_TP;
	struct sb_bpf_plan r = plan(&p);
	assert_false(r.btf_mode);
	assert_int_equal(r.load, NO_WAKEUPS);
}

static void test_forced_tp_btf_loads_only_tracepoints_with_btf_types(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	p.task_storage = false;
	p.sched_info = false;
	p.tp_btf = SB_TP_SCHED_MASK;
	p.force = SB_ATTACH_TP_BTF;
	struct sb_bpf_plan r = plan(&p);
	assert_true(r.btf_mode);
	assert_int_equal(r.load, SB_TP_SCHED_MASK);
	assert_string_equal(r.missing,
			    "sched_process_exec, sched_process_fork, sched_process_exit");
}

static void test_same_probe_gives_same_plan(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	p.tp_exists &= ~SB_TP_BIT(SB_TP_SCHED_WAKEUP);
	p.tp_btf &= ~SB_TP_BIT(SB_TP_SCHED_WAKEUP);
	struct sb_bpf_plan a = plan(&p), b = plan(&p);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void test_reason_labels_are_the_documented_ones(void **state)
{
	(void)state;
	assert_string_equal(sb_bpf_reason_name(SB_BPF_NO_BTF), "no_btf");
	assert_string_equal(sb_bpf_reason_name(SB_BPF_NO_PRIVILEGE), "no_privilege");
	assert_string_equal(sb_bpf_reason_name(SB_BPF_NO_RINGBUF), "no_ringbuf");
	assert_string_equal(sb_bpf_reason_name(SB_BPF_NO_TRACEPOINT), "no_tracepoint");
	assert_string_equal(sb_bpf_reason_name(SB_BPF_LOAD_FAILED), "load_failed");
	assert_string_equal(sb_bpf_reason_name((enum sb_bpf_reason)99), "unknown");
}

/* The task iterator needs BTF and the privileges, not ring buffers nor
 * tracepoints; each case says why in one line. */
static void test_the_task_iterator_is_planned_on_its_own(void **state)
{
	(void)state;
	struct sb_bpf_probe p = capable();
	p.ringbuf = false;
	p.tp_btf = p.tp_exists = 0;
	struct sb_bpf_plan r = plan(&p);
	assert_int_not_equal(r.reason, SB_BPF_OK);
	assert_true(r.iter);
	p = capable();
	p.iter_task = false;
	r = plan(&p);
	assert_false(r.iter);
	assert_non_null(strstr(r.iter_why, "no BPF task iterator"));
	p = capable();
	p.cap_sys_admin = p.cap_bpf = false;
	r = plan(&p);
	assert_false(r.iter);
	assert_non_null(strstr(r.iter_why, "no privilege"));
	p = capable();
	p.btf = false;
	r = plan(&p);
	assert_false(r.iter);
	assert_non_null(strstr(r.iter_why, "no BTF"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_the_task_iterator_is_planned_on_its_own),
	    cmocka_unit_test(test_capable_root_loads_every_needed_program_with_tp_btf),
	    cmocka_unit_test(test_without_sched_info_waits_are_timed_from_wakeups),
	    cmocka_unit_test(test_forced_wakeup_timing_loads_the_wakeup_programs),
	    cmocka_unit_test(test_missing_wakeup_tracepoint_is_not_missed_with_sched_info),
	    cmocka_unit_test(test_no_btf_falls_back_and_says_so),
	    cmocka_unit_test(test_no_btf_is_reported_before_missing_privilege),
	    cmocka_unit_test(test_unprivileged_falls_back_naming_the_missing_capabilities),
	    cmocka_unit_test(test_cap_bpf_and_cap_perfmon_without_root_are_enough),
	    cmocka_unit_test(test_cap_bpf_alone_is_not_enough_for_tracing),
	    cmocka_unit_test(test_cap_sys_admin_alone_is_enough_on_old_kernels),
	    cmocka_unit_test(test_no_ring_buffer_falls_back),
	    cmocka_unit_test(test_no_task_storage_uses_raw_tp_for_every_program),
	    cmocka_unit_test(test_one_tracepoint_without_btf_type_moves_all_to_raw_tp),
	    cmocka_unit_test(test_missing_tracepoint_disables_only_its_program),
	    cmocka_unit_test(test_no_tracepoint_at_all_falls_back),
	    cmocka_unit_test(test_forced_raw_tp_is_used_even_where_tp_btf_works),
	    cmocka_unit_test(test_forced_tp_btf_loads_only_tracepoints_with_btf_types),
	    cmocka_unit_test(test_same_probe_gives_same_plan),
	    cmocka_unit_test(test_reason_labels_are_the_documented_ones),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
