/* Per-process files: /proc/<pid>/{stat,status,io,limits,cmdline}. */
#include "test_proc.h"

static const char vim_stat[] =
    "26231 (vim) R 5392 7446 5392 34835 7446 4218880 32533 309516 26 82 1677 44 158 99 20 0 1 "
    "0 82375 56274944 1981 18446744073709551615 4194304 6294284 140736914091744 "
    "140736914087944 139965136429984 0 0 12288 1870679807 0 0 0 17 0 0 0 31 0 0 8391624 "
    "8481048 16420864 140736914093252 140736914093279 140736914093279 140736914096107 0\n";

static void stat_fields_the_metrics_need(void **state)
{
	(void)state;
	struct sb_proc_pidstat ps;
	const char *why = NULL;
	assert_int_equal(sb_proc_parse_pidstat(vim_stat, &ps, &why), 0);
	assert_int_equal(ps.pid, 26231);
	assert_string_equal(ps.comm, "vim");
	assert_int_equal(ps.state, 'R');
	assert_int_equal(ps.minflt, 32533);
	assert_int_equal(ps.majflt, 26);
	assert_int_equal(ps.utime, 1677);
	assert_int_equal(ps.stime, 44);
	assert_int_equal(ps.num_threads, 1);
	assert_int_equal(ps.starttime, 82375);
	assert_int_equal(ps.vsize, 56274944);
	assert_int_equal(ps.rss, 1981);
}

static void comm_with_spaces_and_parentheses(void **state)
{
	(void)state;
	struct sb_proc_pidstat ps;
	const char *why = NULL;
	static const char text[] = "1020 ((a b ) ( c d) ) R 28378 1020 28378 34842 1020 4218880 "
				   "286 0 0 0 0 0 0 0 20 0 1 0 10839175 10395648 155 "
				   "18446744073709551615\n";
	assert_int_equal(sb_proc_parse_pidstat(text, &ps, &why), 0);
	assert_string_equal(ps.comm, "(a b ) ( c d) ");
	assert_int_equal(ps.rss, 155);
	assert_int_equal(ps.starttime, 10839175);
}

static void truncated_or_garbled_stat_is_refused(void **state)
{
	(void)state;
	struct sb_proc_pidstat ps;
	const char *why = NULL;
	static const char *const bad[] = {
	    "",
	    "26231 (vim",
	    "26231 vim R 1 2 3",
	    "26231 (vim) R 5392 7446 5392 34835 7446 4218880 32533 309516 26 82 1677",
	    "26231 (vim) R 5392 7446 5392 34835 7446 4218880 32533 309516 26 82 1677 44 158 99 "
	    "20 0 1 0 82375 56274944 19x1\n",
	    "x (vim) R\n",
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		why = NULL;
		assert_int_equal(sb_proc_parse_pidstat(bad[i], &ps, &why), -EINVAL);
		assert_non_null(why);
	}
}

static void status_context_switches(void **state)
{
	(void)state;
	struct sb_proc_pidstatus st;
	const char *why = NULL;
	assert_int_equal(sb_proc_parse_pidstatus("Name:\tvim\nPid:\t1\nvoluntary_ctxt_switches:\t"
						 "4742839\nnonvoluntary_ctxt_switches:\t1727500\n",
						 &st, &why),
			 0);
	assert_true(st.have_ctxt);
	assert_int_equal(st.voluntary, 4742839);
	assert_int_equal(st.involuntary, 1727500);
	assert_int_equal(
	    sb_proc_parse_pidstatus("Name:\tvim\nvoluntary_ctxt_switches:\t5\n", &st, &why),
	    -EINVAL);
	assert_int_equal(sb_proc_parse_pidstatus("garbage", &st, &why), -EINVAL);
}

static void io_storage_bytes(void **state)
{
	(void)state;
	struct sb_proc_pidio io;
	const char *why = NULL;
	assert_int_equal(sb_proc_parse_pidio("rchar: 750339\nwchar: 818609\nsyscr: 7405\nsyscw: "
					     "5245\nread_bytes: 1024\nwrite_bytes: 2048\n"
					     "cancelled_write_bytes: -1024\n",
					     &io, &why),
			 0);
	assert_int_equal(io.read_bytes, 1024);
	assert_int_equal(io.write_bytes, 2048);
	assert_int_equal(sb_proc_parse_pidio("rchar: 1\nread_bytes: 1\n", &io, &why), -EINVAL);
}

static void limits_soft_open_files(void **state)
{
	(void)state;
	uint64_t v;
	const char *why = NULL;
	char *text = tp_fixture("edge/pid-limits");
	assert_int_equal(sb_proc_parse_limits_nofile(text, &v, &why), 0);
	assert_int_equal(v, 2048);
	free(text);
	assert_int_equal(sb_proc_parse_limits_nofile("Max open files            unlimited    "
						     "unlimited    files\n",
						     &v, &why),
			 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(sb_proc_parse_limits_nofile("Max processes 5 5\n", &v, &why), -EINVAL);
}

static void argv0_basename(void **state)
{
	(void)state;
	const char *b;
	size_t n = sb_proc_argv0_base("/usr/bin/algod\0-d\0/var/lib/algorand", 35, &b);
	assert_int_equal(n, 5);
	assert_memory_equal(b, "algod", 5);
	n = sb_proc_argv0_base("nginx: worker process", 21, &b);
	assert_int_equal(n, 6); /* rewritten argv, space-separated */
	assert_memory_equal(b, "nginx:", 6);
	n = sb_proc_argv0_base("sleep\0"
			       "10",
			       8, &b);
	assert_int_equal(n, 5);
	n = sb_proc_argv0_base("/opt/x/", 7, &b);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(stat_fields_the_metrics_need),
	    cmocka_unit_test(comm_with_spaces_and_parentheses),
	    cmocka_unit_test(truncated_or_garbled_stat_is_refused),
	    cmocka_unit_test(status_context_switches),
	    cmocka_unit_test(io_storage_bytes),
	    cmocka_unit_test(limits_soft_open_files),
	    cmocka_unit_test(argv0_basename),
	};
	return cmocka_run_group_tests_name("proc /proc/<pid>/*", tests, NULL, NULL);
}
