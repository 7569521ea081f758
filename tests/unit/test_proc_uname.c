/* node_uname_info: from /proc/sys/kernel/{ostype,...} under the procfs root, machine
 * (and any field the tree lacks) from uname(2). */
#include "test_proc.h"

#include <sys/stat.h>
#include <sys/utsname.h>

#include "sb_sensor.h"

extern const struct sb_sensor_ops sb_sensor_proc;

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

static void sysctl_line_is_the_text_without_newline(void **state)
{
	(void)state;
	struct sb_proc_perr e = {0};
	const char *v;
	size_t n;
	const char *text = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.99-1 (2024-07-15)\n";
	assert_int_equal(sb_proc_parse_sysctl_line(text, &v, &n, &e), 0);
	assert_ptr_equal(v, text);
	assert_int_equal(n, strlen(text) - 1);
	/* an empty value is a line of its own ("\n"), not an empty file */
	assert_int_equal(sb_proc_parse_sysctl_line("\n", &v, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(e.nbad, 0);
}

static void sysctl_line_cut_empty_or_several_is_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {"", "fixture-host", "a\nb\n", "a\n\n"};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		struct sb_proc_perr e = {0};
		const char *v = NULL;
		size_t n = 0;
		assert_int_equal(sb_proc_parse_sysctl_line(bad[i], &v, &n, &e), -EINVAL);
		assert_int_equal(e.nbad, 1);
		assert_null(v);
	}
}

struct fx {
	char *names[1];
	struct proc_cfg cfg;
	struct sb_sensor s;
	struct proc_state *st;
	struct tp t;
};

static void fx_round_in(struct fx *f, const char *procfs)
{
	memset(f, 0, sizeof(*f));
	f->names[0] = "uname";
	f->cfg = (struct proc_cfg){.procfs = (char *)procfs, .sysfs = tp_dir};
	f->cfg.collectors = (struct sb_strlist){f->names, 1};
	f->s.cfg = &f->cfg;
	assert_int_equal(sb_sensor_proc.init(&f->s), 0);
	f->st = f->s.state;
	tp_begin(&f->t);
	sb_proc_round(f->st, &f->t.b);
	f->t.n = (int)sb_evb_nsamples(&f->t.b);
	tp_end(&f->t);
	f->t.n -= 2; /* the round's node_scrape_collector_* for uname */
}

static void fx_round(struct fx *f) { fx_round_in(f, tp_dir); }

static void fx_stop(struct fx *f)
{
	tp_free(&f->t);
	sb_sensor_proc.destroy(&f->s);
}

static void put_kernel(const char *name, const char *text)
{
	char rel[64];
	snprintf(rel, sizeof(rel), "sys/kernel/%s", name);
	tp_put(rel, text, strlen(text));
}

static void a_tree_gives_its_own_values_and_the_machine(void **state)
{
	(void)state;
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/sys", tp_dir);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/sys/kernel", tp_dir);
	mkdir(dir, 0755);
	put_kernel("ostype", "Linux\n");
	put_kernel("osrelease", "6.1.0-fixture-amd64\n");
	put_kernel("version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.99-1 (2024-07-15)\n");
	put_kernel("hostname", "fixture-host\n");
	put_kernel("domainname", "(none)\n");
	struct utsname u;
	assert_int_equal(uname(&u), 0);
	tp_nwarn = 0;
	struct fx f;
	fx_round(&f);
	assert_int_equal(f.t.n, 1);
	assert_non_null(
	    tp_find(&f.t, "node_uname_info", "sysname", "Linux", "release", "6.1.0-fixture-amd64",
		    "version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.99-1 (2024-07-15)", "machine",
		    u.machine, "nodename", "fixture-host", "domainname", "(none)", NULL));
	assert_string_equal(f.t.ev->samples[0].help,
			    "Labeled system information as provided by the uname system call.");
	assert_int_equal(f.st->errors, 0);
	assert_int_equal(tp_nwarn, 0);
	fx_stop(&f);

	/* a garbled file: reported, and no sample with a made-up value */
	put_kernel("hostname", "two\nlines\n");
	fx_round(&f);
	assert_int_equal(f.t.n, 0);
	assert_int_equal(f.st->errors, 1);
	assert_int_equal(tp_nwarn, 1);
	fx_stop(&f);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s/sys", tp_dir);
	assert_int_equal(system(cmd), 0);
}

static void a_tree_without_the_files_gives_the_syscall_values(void **state)
{
	(void)state;
	struct utsname u;
	assert_int_equal(uname(&u), 0);
	tp_nwarn = 0;
	struct fx f;
	fx_round(&f);
	assert_int_equal(f.t.n, 1);
	assert_non_null(tp_find(&f.t, "node_uname_info", "sysname", u.sysname, "release", u.release,
				"version", u.version, "machine", u.machine, "nodename", u.nodename,
				"domainname", u.domainname, NULL));
	assert_int_equal(f.st->errors, 0);
	assert_int_equal(tp_nwarn, 0);
	fx_stop(&f);
}

/* The live /proc's files hold what uname(2) says (of the reader's UTS
 * namespace): the syscall's values, the files unread. */
static void the_live_proc_gives_the_syscall_values(void **state)
{
	(void)state;
	struct utsname u;
	assert_int_equal(uname(&u), 0);
	struct fx f;
	fx_round_in(&f, "/proc");
	assert_int_equal(f.t.n, 1);
	assert_non_null(tp_find(&f.t, "node_uname_info", "sysname", u.sysname, "release", u.release,
				"version", u.version, "machine", u.machine, "nodename", u.nodename,
				"domainname", u.domainname, NULL));
	assert_int_equal(f.st->errors, 0);
	fx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(sysctl_line_is_the_text_without_newline),
	    cmocka_unit_test(sysctl_line_cut_empty_or_several_is_malformed),
	    cmocka_unit_test(a_tree_gives_its_own_values_and_the_machine),
	    cmocka_unit_test(a_tree_without_the_files_gives_the_syscall_values),
	    cmocka_unit_test(the_live_proc_gives_the_syscall_values),
	};
	return cmocka_run_group_tests_name("proc uname", tests, setup, teardown);
}
