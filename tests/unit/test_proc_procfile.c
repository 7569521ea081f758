/* Reading source files: whole reads with pread on a kept fd, failures
 * logged once per file naming it, counted, and text checks. */
#include "test_proc.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>

static char lines[8][512];
static int nlines;

static void hook(enum sb_log_level l, const char *line, void *arg)
{
	(void)l;
	(void)arg;
	if (nlines < 8)
		snprintf(lines[nlines], sizeof(lines[0]), "%s", line);
	nlines++;
}

static int setup(void **state)
{
	(void)state;
	return tp_dir_setup(hook);
}

static int teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

static void init(struct sb_procfile *f, const char *name, size_t max)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", tp_dir, name);
	assert_int_equal(sb_procfile_init(f, path, max, true), 0);
	nlines = 0;
}

static void whole_file_larger_than_one_read(void **state)
{
	(void)state;
	static char big[20000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	tp_put("big", big, sizeof(big));
	struct sb_procfile f;
	init(&f, "big", 0);
	assert_int_equal(sb_procfile_read(&f, "test", false), sizeof(big));
	assert_memory_equal(f.buf.data, big, sizeof(big));
	assert_int_equal(f.buf.data[sizeof(big)], 0);
	sb_procfile_free(&f);
}

static void rereads_see_in_place_changes_without_stale_tail(void **state)
{
	(void)state;
	tp_put("x", "first version\n", 14);
	struct sb_procfile f;
	init(&f, "x", 0);
	assert_int_equal(sb_procfile_read(&f, "test", false), 14);
	int fd = f.fd;
	tp_put("x", "v2\n", 3);
	assert_int_equal(sb_procfile_read(&f, "test", false), 3);
	assert_string_equal(f.buf.data, "v2\n");
	assert_int_equal(f.fd, fd); /* same fd, read again with pread */
	sb_procfile_free(&f);
}

/* A seq_file of short lines read with lines set: every byte the reads
 * until 0 give, also across pages (/proc/self/maps of many mappings). */
static void a_line_file_is_read_whole_without_the_empty_read(void **state)
{
	(void)state;
	enum { NMAP = 200 };
	long page = sysconf(_SC_PAGESIZE);
	char *m =
	    mmap(NULL, (size_t)page * NMAP * 2, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	for (int i = 0; i < NMAP; i++) /* every other page: one line each */
		assert_int_equal(mprotect(m + (size_t)page * 2 * i, (size_t)page, PROT_NONE), 0);
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		munmap(m, (size_t)page * NMAP * 2);
		skip();
	}
	struct sb_buf a, b;
	sb_buf_init(&a);
	sb_buf_init(&b);
	/* sized first, so no allocation changes the mappings between reads */
	assert_int_equal(sb_buf_reserve(&a, 1 << 20), 0);
	assert_int_equal(sb_buf_reserve(&b, 1 << 20), 0);
	ssize_t n = sb_pread_all(fd, &a, 1 << 20, false, SB_PREAD_LINE_MAX);
	assert_true(n > 4 * 4096);
	assert_int_equal(sb_pread_all(fd, &b, 1 << 20, false, 0), n);
	assert_memory_equal(a.data, b.data, (size_t)n);
	/* with line_max its longest line (short: most have no path), a page
	 * filled to within a line of its end is not taken for the last one */
	size_t longest = 0;
	for (const char *p = a.data, *nl; (nl = strchr(p, '\n')); p = nl + 1)
		longest = (size_t)(nl - p + 1) > longest ? (size_t)(nl - p + 1) : longest;
	assert_true(longest < SB_PREAD_LINE_MAX);
	assert_int_equal(sb_pread_all(fd, &b, 1 << 20, false, longest), n);
	assert_memory_equal(a.data, b.data, (size_t)n);
	assert_int_equal(a.data[n - 1], '\n');
	/* and a short one, whole in its first read */
	tp_put("short", "a 1\nb 2\n", 8);
	struct sb_procfile f;
	init(&f, "short", 0);
	f.line_max = SB_PREAD_LINE_MAX;
	assert_int_equal(sb_procfile_read(&f, "test", false), 8);
	assert_string_equal(f.buf.data, "a 1\nb 2\n");
	sb_procfile_free(&f);
	sb_buf_free(&a);
	sb_buf_free(&b);
	close(fd);
	munmap(m, (size_t)page * NMAP * 2);
}

static int entries(DIR *d)
{
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += de->d_name[0] != '.';
	return n;
}

/* A directory listed every round stays open and is rewound: entries come
 * and go in the same stream; one removed and made anew is opened again. */
/* A kept single file is asked for about twice what it gave last time; one
 * that grew past that is read again whole. A sysctl of numbers gives
 * nothing to a read past offset 0, so carrying on where the short read
 * stopped would cut the value: ping_group_range, in a network namespace
 * of the test's own, from 4 bytes to 22. */
static void a_single_file_that_outgrew_the_last_read_is_read_whole(void **state)
{
	(void)state;
	struct sb_procfile f;
	init(&f, "small", 0);
	f.single = true;
	tp_put("small", "12\n", 3);
	assert_int_equal(sb_procfile_read(&f, "test", false), 3);
	char big[300];
	memset(big, '7', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = 0;
	tp_put("small", big, strlen(big));
	assert_int_equal(sb_procfile_read(&f, "test", false), (ssize_t)strlen(big));
	assert_string_equal(f.buf.data, big);
	tp_put("small", "1\n", 2);
	assert_int_equal(sb_procfile_read(&f, "test", false), 2);
	assert_string_equal(f.buf.data, "1\n");
	sb_procfile_free(&f);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *path = "/proc/sys/net/ipv4/ping_group_range";
		if (unshare(CLONE_NEWNET))
			_exit(77);
		int w = open(path, O_WRONLY | O_CLOEXEC);
		if (w < 0 || write(w, "0 0", 3) != 3)
			_exit(77);
		struct sb_procfile g;
		if (sb_procfile_init(&g, path, 0, true))
			_exit(2);
		g.single = true;
		if (sb_procfile_read(&g, "test", false) != 4 || strcmp(g.buf.data, "0\t0\n"))
			_exit(3);
		static const char max[] = "2147483647 2147483647";
		if (pwrite(w, max, sizeof(max) - 1, 0) != (ssize_t)sizeof(max) - 1)
			_exit(4);
		if (sb_procfile_read(&g, "test", false) != 22 ||
		    strcmp(g.buf.data, "2147483647\t2147483647\n"))
			_exit(5);
		sb_procfile_free(&g);
		close(w);
		_exit(0);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		fprintf(
		    stderr,
		    "SKIP: no network namespace of its own with a writable ping_group_range here "
		    "(needs root)\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void a_kept_directory_lists_what_is_there_now(void **state)
{
	(void)state;
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/class", tp_dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	tp_put("class/a", "1", 1);
	DIR *keep = NULL;
	DIR *d = sb_procdir_rewind(&keep, dir);
	assert_non_null(d);
	assert_int_equal(entries(d), 1);
	tp_put("class/b", "1", 1);
	assert_ptr_equal(sb_procdir_rewind(&keep, dir), d);
	assert_int_equal(entries(d), 2);
	char path[160];
	snprintf(path, sizeof(path), "%s/class/a", tp_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/class/b", tp_dir);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(mkdir(dir, 0755), 0);
	tp_put("class/c", "1", 1);
	d = sb_procdir_rewind(&keep, dir);
	assert_non_null(d);
	assert_int_equal(entries(d), 1);
	assert_int_equal(rmdir(dir) == 0, 0); /* not empty: c is there */
	snprintf(path, sizeof(path), "%s/class/c", tp_dir);
	unlink(path);
	rmdir(dir);
	assert_null(sb_procdir_rewind(&keep, dir)); /* gone for good */
	assert_int_equal(errno, ENOENT);
	assert_null(keep);
}

static void missing_file_is_logged_once_naming_it(void **state)
{
	(void)state;
	struct sb_procfile f;
	init(&f, "nope", 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(sb_procfile_read(&f, "sensor:proc", false), -ENOENT);
	assert_int_equal(nlines, 1);
	assert_non_null(strstr(lines[0], "/nope"));
	assert_non_null(strstr(lines[0], "No such file"));
	assert_int_equal(f.errors, 5);
	sb_procfile_free(&f);
}

static void optional_missing_file_is_silent(void **state)
{
	(void)state;
	struct sb_procfile f;
	init(&f, "absent", 0);
	assert_int_equal(sb_procfile_read(&f, "sensor:proc", true), -ENOENT);
	assert_int_equal(nlines, 0);
	sb_procfile_free(&f);
}

static void enormous_file_is_refused(void **state)
{
	(void)state;
	static char big[10000];
	memset(big, '1', sizeof(big));
	tp_put("huge", big, sizeof(big));
	struct sb_procfile f;
	init(&f, "huge", 4096);
	assert_int_equal(sb_procfile_read(&f, "sensor:proc", false), -EFBIG);
	assert_int_equal(nlines, 1);
	assert_non_null(strstr(lines[0], "larger than 4096 bytes"));
	sb_procfile_free(&f);
}

static void fifo_does_not_block_the_loop(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/fifo", tp_dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	struct sb_procfile f;
	init(&f, "fifo", 0);
	assert_true(sb_procfile_read(&f, "sensor:proc", false) < 0);
	assert_int_equal(nlines, 1);
	sb_procfile_free(&f);
}

static void text_with_a_nul_byte_is_refused_by_proc_read(void **state)
{
	(void)state;
	tp_put("bin", "MemTotal: 1 kB\n\0garbage", 24);
	struct proc_cfg cfg = {.procfs = tp_dir, .sysfs = tp_dir};
	struct proc_state st = {.cfg = &cfg, .comp = "sensor:proc", .round = 1};
	struct sb_procfile f;
	init(&f, "bin", 0);
	assert_null(sb_proc_read(&st, &f, false));
	assert_int_equal(st.errors, 1);
	assert_int_equal(nlines, 1);
	assert_non_null(strstr(lines[0], "NUL byte at offset 15"));
	/* once per round: the same round does not read nor count again */
	assert_null(sb_proc_read(&st, &f, false));
	assert_int_equal(st.errors, 1);
	sb_procfile_free(&f);
}

static void an_absent_optional_file_is_looked_for_again_sixty_rounds_later(void **state)
{
	(void)state;
	struct proc_cfg cfg = {.procfs = tp_dir, .sysfs = tp_dir};
	struct proc_state st = {.cfg = &cfg, .comp = "sensor:proc", .round = 1};
	struct sb_procfile f;
	init(&f, "later", 0);
	assert_null(sb_proc_read(&st, &f, true));
	tp_put("later", "1\n", 2); /* appears meanwhile */
	for (st.round = 2; st.round < 61; st.round++)
		assert_null(sb_proc_read(&st, &f, true));
	assert_string_equal(sb_proc_read(&st, &f, true), "1\n");
	assert_int_equal(st.errors, 0);
	assert_int_equal(nlines, 0);
	sb_procfile_free(&f);
}

static void parser_complaints_become_one_line(void **state)
{
	(void)state;
	struct proc_cfg cfg = {.procfs = tp_dir, .sysfs = tp_dir};
	struct proc_state st = {.cfg = &cfg, .comp = "sensor:proc", .round = 1};
	struct sb_procfile f;
	init(&f, "meminfo", 0);
	struct sb_proc_perr e = {0};
	sb_proc_bad(&e, 3, "MemFree: bad value");
	sb_proc_bad(&e, 9, "second");
	sb_proc_report(&st, &f, &e);
	assert_int_equal(st.errors, 1);
	assert_int_equal(nlines, 1);
	assert_non_null(strstr(lines[0], "/meminfo: line 3: MemFree: bad value (2 malformed"));
	sb_procfile_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(whole_file_larger_than_one_read),
	    cmocka_unit_test(rereads_see_in_place_changes_without_stale_tail),
	    cmocka_unit_test(a_line_file_is_read_whole_without_the_empty_read),
	    cmocka_unit_test(a_single_file_that_outgrew_the_last_read_is_read_whole),
	    cmocka_unit_test(a_kept_directory_lists_what_is_there_now),
	    cmocka_unit_test(missing_file_is_logged_once_naming_it),
	    cmocka_unit_test(optional_missing_file_is_silent),
	    cmocka_unit_test(enormous_file_is_refused),
	    cmocka_unit_test(fifo_does_not_block_the_loop),
	    cmocka_unit_test(text_with_a_nul_byte_is_refused_by_proc_read),
	    cmocka_unit_test(an_absent_optional_file_is_looked_for_again_sixty_rounds_later),
	    cmocka_unit_test(parser_complaints_become_one_line),
	};
	return cmocka_run_group_tests_name("proc source files", tests, setup, teardown);
}
