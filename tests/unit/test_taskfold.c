/* The task iterator's records fold into processes as /proc counts them:
 * threads (wherever they come in the walk) add to their process, a
 * leader's record carries the process-wide fields, the precise runtime is
 * split by the sampled user:system ratio, and the state letters are
 * /proc's. Pure: crafted records, no kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sb_taskiter.h"

static struct sb_task_rec leader(uint32_t pid, const char *comm)
{
	struct sb_task_rec r = {.tgid = pid, .tid = pid, .flags = SB_TASK_LEADER, .nr_threads = 1};
	strncpy(r.comm, comm, sizeof(r.comm) - 1);
	return r;
}

static struct sb_task_rec thread(uint32_t tgid, uint32_t tid)
{
	struct sb_task_rec r = {.tgid = tgid, .tid = tid};
	return r;
}

static void test_threads_add_to_their_process_wherever_they_come(void **state)
{
	(void)state;
	struct sb_task_rec r[5];
	r[0] = thread(300, 50); /* after pid wrap-around: before its leader */
	r[0].min_flt = 1;
	r[0].nvcsw = 10;
	r[0].read_bytes = 4096;
	r[1] = leader(100, "a");
	r[1].min_flt = 2;
	r[1].nvcsw = 1;
	r[2] = leader(300, "b");
	r[2].min_flt = 4; /* its own plus its signal totals */
	r[2].nvcsw = 100;
	r[2].read_bytes = 8192;
	r[2].nr_threads = 3;
	r[3] = thread(100, 301);
	r[3].min_flt = 8;
	r[4] = thread(300, 302);
	r[4].nvcsw = 1000;
	struct sb_taskfold f = {0};
	sb_taskfold_reset(&f);
	assert_int_equal(sb_taskfold_add(&f, r, sizeof(r)), 0);
	sb_taskfold_finish(&f);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.bad, 0);
	const struct sb_task *a = sb_taskfold_find(&f, 100), *b = sb_taskfold_find(&f, 300);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->min_flt, 10);
	assert_int_equal(a->nvcsw, 1);
	assert_int_equal(b->min_flt, 5);
	assert_int_equal(b->nvcsw, 1110);
	assert_int_equal(b->read_bytes, 12288);
	assert_int_equal(b->threads, 3);
	assert_string_equal(b->comm, "b");
	sb_taskfold_free(&f);
}

static void test_a_thread_whose_leader_is_gone_is_counted_not_folded(void **state)
{
	(void)state;
	struct sb_task_rec r[2] = {leader(10, "x"), thread(20, 21)};
	struct sb_taskfold f = {0};
	sb_taskfold_reset(&f);
	assert_int_equal(sb_taskfold_add(&f, r, sizeof(r)), 0);
	sb_taskfold_finish(&f);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.bad, 1);
	sb_taskfold_free(&f);
}

/* /proc/<pid>/stat: stime = rtime * stime / (stime + utime), utime the
 * rest; all of it to one side when the other was never sampled. */
static void test_runtime_is_split_by_the_sampled_ratio(void **state)
{
	(void)state;
	struct sb_task_rec r[3] = {leader(1, "s"), leader(2, "u"), leader(3, "both")};
	r[0].stime_ns = 5;
	r[0].runtime_ns = 1000;
	r[1].utime_ns = 5;
	r[1].runtime_ns = 1000;
	r[2].utime_ns = 30;
	r[2].stime_ns = 10;
	r[2].runtime_ns = 1000;
	struct sb_taskfold f = {0};
	sb_taskfold_reset(&f);
	assert_int_equal(sb_taskfold_add(&f, r, sizeof(r)), 0);
	sb_taskfold_finish(&f);
	assert_int_equal(f.tasks[0].utime_ns, 0);
	assert_int_equal(f.tasks[0].stime_ns, 1000);
	assert_int_equal(f.tasks[1].utime_ns, 1000);
	assert_int_equal(f.tasks[1].stime_ns, 0);
	assert_int_equal(f.tasks[2].utime_ns, 750);
	assert_int_equal(f.tasks[2].stime_ns, 250);
	sb_taskfold_free(&f);
}

/* Found by fuzz_bpf (tests/fuzz-regress/bpf/split-sum-wraps): sampled
 * times whose sum wraps 64 bits divided by zero; the split is exact in
 * 128 bits. */
static void test_runtime_split_survives_sampled_times_summing_past_64_bits(void **state)
{
	(void)state;
	struct sb_task_rec r = leader(1, "big");
	r.utime_ns = UINT64_C(1) << 63;
	r.stime_ns = UINT64_C(1) << 63;
	r.runtime_ns = 1000;
	struct sb_taskfold f = {0};
	sb_taskfold_reset(&f);
	assert_int_equal(sb_taskfold_add(&f, &r, sizeof(r)), 0);
	sb_taskfold_finish(&f);
	assert_int_equal(f.tasks[0].stime_ns, 500);
	assert_int_equal(f.tasks[0].utime_ns, 500);
	sb_taskfold_free(&f);
}

static void test_leaders_out_of_order_are_sorted_by_pid(void **state)
{
	(void)state;
	struct sb_task_rec r[3] = {leader(30, "c"), leader(10, "a"), leader(20, "b")};
	struct sb_taskfold f = {0};
	sb_taskfold_reset(&f);
	assert_int_equal(sb_taskfold_add(&f, r, sizeof(r)), 0);
	sb_taskfold_finish(&f);
	assert_int_equal(f.tasks[0].pid, 10);
	assert_int_equal(f.tasks[2].pid, 30);
	assert_non_null(sb_taskfold_find(&f, 20));
	assert_null(sb_taskfold_find(&f, 25));
	sb_taskfold_free(&f);
}

static void test_rss_is_file_anon_and_shmem_swap_apart(void **state)
{
	(void)state;
	struct sb_task_rec r = leader(7, "m");
	r.rss[SB_RSS_FILE] = 1;
	r.rss[SB_RSS_ANON] = 2;
	r.rss[SB_RSS_SHMEM] = 4;
	r.rss[SB_RSS_SWAP] = 8;
	r.flags |= SB_TASK_NO_FDS;
	struct sb_taskfold f = {0};
	sb_taskfold_reset(&f);
	assert_int_equal(sb_taskfold_add(&f, &r, sizeof(r)), 0);
	sb_taskfold_finish(&f);
	assert_int_equal(f.tasks[0].rss_pages, 7);
	assert_int_equal(f.tasks[0].swap_pages, 8);
	assert_int_equal(f.tasks[0].missing, SB_TASK_NO_FDS);
	sb_taskfold_free(&f);
}

/* fs/proc/array.c: task_state_array and task_state_index */
static void test_state_letters_are_procs(void **state)
{
	(void)state;
	assert_int_equal(sb_task_state_letter(0, 0), 'R');
	assert_int_equal(sb_task_state_letter(0x1, 0), 'S');
	assert_int_equal(sb_task_state_letter(0x2, 0), 'D');
	assert_int_equal(sb_task_state_letter(0x4, 0), 'T');
	assert_int_equal(sb_task_state_letter(0x8, 0), 't');
	assert_int_equal(sb_task_state_letter(0, 0x20), 'Z');
	assert_int_equal(sb_task_state_letter(0, 0x10), 'X');
	assert_int_equal(sb_task_state_letter(0x40, 0), 'P');
	assert_int_equal(sb_task_state_letter(0x402, 0), 'I');	/* TASK_IDLE */
	assert_int_equal(sb_task_state_letter(0x1000, 0), 'D'); /* TASK_RTLOCK_WAIT */
	assert_int_equal(sb_task_state_letter(0x8001, 0), 'S'); /* TASK_FROZEN not reported */
}

/* task_walk's records: threads already summed (FOLDED), and processes that
 * did not run since the last walk taken from it, with the fields others can
 * change (state, nice, memory, fd limit) from their struct sb_task_same. */
static void test_an_unchanged_process_keeps_the_last_walks_counts(void **state)
{
	(void)state;
	struct sb_taskfold f = {0};
	struct sb_task_rec r[2];
	r[0] = leader(10, "db");
	r[0].flags |= SB_TASK_FOLDED;
	r[0].nr_threads = 4;
	r[0].nvcsw = 70;
	r[0].read_bytes = 4096;
	r[0].open_fds = 9;
	r[0].rss[SB_RSS_ANON] = 100;
	r[1] = leader(20, "web");
	r[1].min_flt = 5;
	sb_taskfold_reset(&f);
	assert_int_equal(sb_taskfold_add(&f, r, sizeof(r)), 0);
	sb_taskfold_finish(&f);
	assert_int_equal(f.nsame, 0);

	sb_taskfold_reset(&f); /* the walk above becomes prev */
	struct sb_task_same s = {.pid = 10, .nice = 5, .nofile = 4096, .total_vm = 500};
	s.rss[SB_RSS_ANON] = 80; /* reclaimed while it slept */
	s.rss[SB_RSS_SWAP] = 20;
	struct sb_task_rec w = leader(20, "web");
	w.min_flt = 6;
	assert_int_equal(sb_taskfold_add(&f, &w, sizeof(w)), 0);
	assert_int_equal(sb_taskfold_add_same(&f, &s, 1), 0);
	sb_taskfold_finish(&f);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.nsame, 1);
	assert_false(f.same_missed);
	const struct sb_task *a = sb_taskfold_find(&f, 10), *b = sb_taskfold_find(&f, 20);
	assert_non_null(a);
	assert_string_equal(a->comm, "db");
	assert_int_equal(a->threads, 4);
	assert_int_equal(a->nvcsw, 70);
	assert_int_equal(a->read_bytes, 4096);
	assert_int_equal(a->open_fds, 9);
	assert_int_equal(a->nice, 5);
	assert_int_equal(a->fd_limit, 4096);
	assert_int_equal(a->rss_pages, 80);
	assert_int_equal(a->swap_pages, 20);
	assert_int_equal(a->vm_pages, 500);
	assert_int_equal(b->min_flt, 6);
	sb_taskfold_free(&f);
}

/* A process said unchanged that the agent does not hold (the last walk was
 * not finished, or missed it) is counted, and says the next walk must read
 * everything in full. */
static void test_an_unchanged_process_not_held_asks_for_a_full_walk(void **state)
{
	(void)state;
	struct sb_taskfold f = {0};
	struct sb_task_same s = {.pid = 30};
	sb_taskfold_reset(&f);
	assert_int_equal(sb_taskfold_add_same(&f, &s, 1), 0);
	sb_taskfold_finish(&f);
	assert_int_equal(f.n, 0);
	assert_int_equal(f.bad, 1);
	assert_true(f.same_missed);
	/* an unfinished walk never becomes prev */
	struct sb_task_rec l = leader(30, "x");
	sb_taskfold_reset(&f);
	assert_int_equal(sb_taskfold_add(&f, &l, sizeof(l)), 0);
	sb_taskfold_reset(&f); /* dropped before its end */
	assert_int_equal(sb_taskfold_add_same(&f, &s, 1), 0);
	assert_int_equal(f.n, 0);
	sb_taskfold_free(&f);
}

/* Read in chunks, the process list may shift between two runs: a process
 * read twice is kept once. */
static void test_a_process_read_twice_is_kept_once(void **state)
{
	(void)state;
	struct sb_taskfold f = {0};
	struct sb_task_rec r[3] = {leader(7, "a"), leader(9, "b"), leader(7, "a")};
	r[2].min_flt = 3;
	sb_taskfold_reset(&f);
	assert_int_equal(sb_taskfold_add(&f, r, sizeof(r)), 0);
	sb_taskfold_finish(&f);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.tasks[0].pid, 7);
	assert_int_equal(f.tasks[0].min_flt, 3); /* the later read */
	assert_int_equal(f.tasks[1].pid, 9);
	sb_taskfold_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_threads_add_to_their_process_wherever_they_come),
	    cmocka_unit_test(test_a_thread_whose_leader_is_gone_is_counted_not_folded),
	    cmocka_unit_test(test_runtime_is_split_by_the_sampled_ratio),
	    cmocka_unit_test(test_runtime_split_survives_sampled_times_summing_past_64_bits),
	    cmocka_unit_test(test_leaders_out_of_order_are_sorted_by_pid),
	    cmocka_unit_test(test_rss_is_file_anon_and_shmem_swap_apart),
	    cmocka_unit_test(test_state_letters_are_procs),
	    cmocka_unit_test(test_an_unchanged_process_keeps_the_last_walks_counts),
	    cmocka_unit_test(test_an_unchanged_process_not_held_asks_for_a_full_walk),
	    cmocka_unit_test(test_a_process_read_twice_is_kept_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
