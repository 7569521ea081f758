/* The file sink through the bus: JSON lines appended, mode 0640, size
 * rotation keeping N files, reopen after the file was moved, and a disk
 * that refuses writes counted rather than silently losing events. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "sb_bus.h"
#include "sb_config.h"
#include "sb_log.h"
#include "sb_pbevent.h"

struct fx {
	char dir[64];
	char path[128];
	struct sb_runinfo ri;
	struct sb_config cfg;
	struct sb_bus *bus;
	struct sb_evb evb;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/sb-file-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/sub/events.jsonl", f->dir);
	snprintf(f->ri.run, sizeof(f->ri.run), "00112233445566778899aabbccddeeff");
	snprintf(f->ri.host, sizeof(f->ri.host), "h");
	sb_evb_init(&f->evb);
	sb_log_set_level(SB_LOG_ERROR);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sb_bus_free(f->bus);
	sb_config_free(&f->cfg);
	sb_evb_free(&f->evb);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void start(struct fx *f, const char *extra)
{
	char json[512], err[256];
	snprintf(json, sizeof(json),
		 "{\"sinks\":[{\"type\":\"file\",\"path\":\"%s\",\"flush_interval\":\"5ms\"%s%s}]}",
		 f->path, extra ? "," : "", extra ? extra : "");
	assert_int_equal(sb_config_load(&f->cfg, json, "t", err, sizeof(err)), 0);
	f->bus = sb_bus_new(&f->ri);
	assert_int_equal(sb_bus_add_sink(f->bus, &f->cfg.sinks[0]), 0);
	assert_int_equal(sb_bus_start(f->bus), 0);
}

static void publish(struct fx *f, int n)
{
	for (int i = 0; i < n; i++) {
		sb_evb_begin(&f->evb, "t", "metrics");
		sb_evb_sample(&f->evb, "v", SB_GAUGE, i);
		assert_int_equal(sb_bus_publish(f->bus, sb_evb_finish(&f->evb)), 0);
	}
}

/* Appends the seq of every line of path to seqs; returns lines read. */
static size_t read_seqs(const char *path, uint64_t *seqs, size_t max, size_t *bytes)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return 0;
	char line[4096];
	size_t n = 0;
	*bytes = 0;
	while (fgets(line, sizeof(line), fp)) {
		*bytes += strlen(line);
		assert_true(line[strlen(line) - 1] == '\n');
		unsigned long long s;
		assert_int_equal(sscanf(line, "{\"seq\":%llu,", &s), 1);
		if (n < max)
			seqs[n++] = s;
	}
	fclose(fp);
	return n;
}

/* The same for a stream of delimited protobuf events: whole messages only. */
static size_t read_pb_seqs(const char *path, uint64_t *seqs, size_t max, size_t *bytes)
{
	struct sb_buf b;
	sb_buf_init(&b);
	ssize_t len = sb_read_file(path, &b, 1 << 24);
	if (len < 0) {
		sb_buf_free(&b);
		return 0;
	}
	struct sb_pbdec d;
	sb_pbdec_init(&d);
	size_t pos = 0, n = 0, mlen;
	const unsigned char *m;
	int r;
	while ((r = sb_pbdec_next(&d, b.data, b.len, 0, &pos, &m, &mlen)) == 1) {
		struct sb_event *ev = NULL;
		if (sb_pbdec_event(&d, m, mlen, 0, &ev))
			fail_msg("%s: %s", path, d.err);
		if (n < max)
			seqs[n++] = ev->seq;
		sb_event_unref(ev);
	}
	assert_int_equal(r, 0); /* no torn message at the end */
	*bytes = b.len;
	sb_pbdec_free(&d);
	sb_buf_free(&b);
	return n;
}

static void test_lines_are_appended_with_mode_0640(void **state)
{
	struct fx *f = *state;
	start(f, NULL);
	publish(f, 100);
	assert_int_equal(sb_bus_shutdown(f->bus), 0);
	struct stat sb;
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	uint64_t seqs[200];
	size_t bytes;
	assert_int_equal(read_seqs(f->path, seqs, 200, &bytes), 100);
	for (int i = 0; i < 100; i++)
		assert_true(seqs[i] == (uint64_t)i + 1);
}

static void test_rotation_keeps_n_files_under_the_size_bound(void **state)
{
	struct fx *f = *state;
	start(f, "\"rotate_bytes\":2000,\"keep\":2,\"buffer\":0");
	publish(f, 300);
	assert_int_equal(sb_bus_shutdown(f->bus), 0);
	char p1[160], p2[160], p3[160];
	snprintf(p1, sizeof(p1), "%s.1", f->path);
	snprintf(p2, sizeof(p2), "%s.2", f->path);
	snprintf(p3, sizeof(p3), "%s.3", f->path);
	assert_int_equal(access(p3, F_OK), -1);
	uint64_t a[400], b[400], c[400];
	size_t ba, bb, bc;
	size_t na = read_seqs(p2, a, 400, &ba), nb = read_seqs(p1, b, 400, &bb),
	       nc = read_seqs(f->path, c, 400, &bc);
	assert_true(na > 0 && nb > 0 && nc > 0);
	assert_true(ba <= 2000 && bb <= 2000 && bc <= 2000);
	/* oldest to newest, contiguous, ending at the last event */
	assert_true(a[na - 1] + 1 == b[0]);
	assert_true(b[nb - 1] + 1 == c[0]);
	assert_true(c[nc - 1] == 300);
}

static void test_reopen_after_move_writes_a_new_file(void **state)
{
	struct fx *f = *state;
	start(f, NULL);
	publish(f, 10);
	struct sb_sink *s = sb_bus_sink(f->bus, 0);
	struct sb_sink_stats st;
	for (int i = 0; i < 2000; i++) {
		sb_sink_stats(s, &st);
		if (st.written == 10)
			break;
		usleep(1000);
	}
	usleep(50000); /* past one flush interval */
	char moved[160];
	snprintf(moved, sizeof(moved), "%s.old", f->path);
	assert_int_equal(rename(f->path, moved), 0);
	sb_bus_reopen(f->bus);
	usleep(50000);
	publish(f, 5);
	assert_int_equal(sb_bus_shutdown(f->bus), 0);
	uint64_t a[20], b[20];
	size_t ba, bb;
	assert_int_equal(read_seqs(moved, a, 20, &ba), 10);
	assert_int_equal(read_seqs(f->path, b, 20, &bb), 5);
	assert_true(b[0] == 11);
}

static void test_refused_writes_are_counted_as_lost_not_written(void **state)
{
	struct fx *f = *state;
	snprintf(f->path, sizeof(f->path), "/dev/full");
	start(f, "\"shutdown_grace\":\"50ms\"");
	publish(f, 7);
	uint64_t lost = sb_bus_shutdown(f->bus);
	assert_true(lost == 7);
	struct sb_sink_stats st;
	sb_sink_stats(sb_bus_sink(f->bus, 0), &st);
	assert_true(st.received == 7);
	assert_true(st.written == 0);
	assert_true(st.dropped[SB_DROP_SHUTDOWN] == 7);
}

static void wait_written(struct fx *f, uint64_t n)
{
	struct sb_sink_stats st;
	for (int i = 0; i < 5000; i++) {
		sb_sink_stats(sb_bus_sink(f->bus, 0), &st);
		if (st.written == n)
			return;
		usleep(1000);
	}
	fail_msg("written %llu, want %llu", (unsigned long long)st.written, (unsigned long long)n);
}

static void test_a_deleted_directory_is_made_again(void **state)
{
	struct fx *f = *state;
	start(f, NULL);
	publish(f, 10);
	wait_written(f, 10);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s/sub", f->dir);
	assert_int_equal(system(cmd), 0);
	publish(f, 5);
	assert_int_equal(sb_bus_shutdown(f->bus), 0);
	uint64_t seqs[20];
	size_t bytes;
	assert_int_equal(read_seqs(f->path, seqs, 20, &bytes), 5);
	assert_true(seqs[0] == 11);
}

/* A file size limit fails a write part way, as a full disk does. */
static void test_a_line_torn_by_a_full_disk_is_cut_at_shutdown(void **state)
{
	struct fx *f = *state;
	struct rlimit old, lim = {.rlim_cur = 1000, .rlim_max = RLIM_INFINITY};
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	start(f, "\"shutdown_grace\":\"20ms\"");
	publish(f, 50);
	uint64_t lost = sb_bus_shutdown(f->bus);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	uint64_t seqs[64];
	size_t bytes;
	size_t n = read_seqs(f->path, seqs, 64, &bytes); /* asserts whole lines */
	assert_true(n > 0 && n < 50);
	struct stat sb;
	assert_int_equal(stat(f->path, &sb), 0);
	assert_true((size_t)sb.st_size == bytes);
	assert_true(lost == 50 - n);
	struct sb_sink_stats st;
	sb_sink_stats(sb_bus_sink(f->bus, 0), &st);
	assert_true(st.written == n);
}

static void test_protobuf_rotation_cuts_between_messages(void **state)
{
	struct fx *f = *state;
	start(f, "\"format\":\"protobuf\",\"rotate_bytes\":700,\"keep\":2,\"buffer\":0");
	publish(f, 300);
	assert_int_equal(sb_bus_shutdown(f->bus), 0);
	char p1[160], p2[160];
	snprintf(p1, sizeof(p1), "%s.1", f->path);
	snprintf(p2, sizeof(p2), "%s.2", f->path);
	uint64_t a[400], b[400], c[400];
	size_t ba, bb, bc;
	size_t na = read_pb_seqs(p2, a, 400, &ba), nb = read_pb_seqs(p1, b, 400, &bb),
	       nc = read_pb_seqs(f->path, c, 400, &bc);
	assert_true(na > 0 && nb > 0 && nc > 0);
	assert_true(ba <= 700 && bb <= 700 && bc <= 700);
	assert_true(a[na - 1] + 1 == b[0]);
	assert_true(b[nb - 1] + 1 == c[0]);
	assert_true(c[nc - 1] == 300);
}

static void test_a_protobuf_message_torn_by_a_full_disk_is_cut(void **state)
{
	struct fx *f = *state;
	struct rlimit old, lim = {.rlim_cur = 1000, .rlim_max = RLIM_INFINITY};
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	start(f, "\"format\":\"protobuf\",\"shutdown_grace\":\"20ms\"");
	publish(f, 80);
	uint64_t lost = sb_bus_shutdown(f->bus);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	uint64_t seqs[100];
	size_t bytes;
	size_t n = read_pb_seqs(f->path, seqs, 100, &bytes); /* asserts whole messages */
	assert_true(n > 0 && n < 80);
	assert_true(bytes <= 1000);
	assert_true(lost == 80 - n);
	for (size_t i = 0; i < n; i++)
		assert_true(seqs[i] == i + 1);
}

static void test_an_unknown_format_is_a_config_error_naming_the_formats(void **state)
{
	(void)state;
	struct sb_config cfg = {0};
	char err[512];
	assert_int_equal(sb_config_load(&cfg,
					"{\"sinks\":[{\"type\":\"stdout\"},"
					"{\"type\":\"file\",\"path\":\"/tmp/x\","
					"\"format\":\"xml\"}]}",
					"t", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "sinks[1]"));
	assert_non_null(strstr(err, "format: \"xml\" unknown (one of json, protobuf)"));
	sb_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_lines_are_appended_with_mode_0640, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_keeps_n_files_under_the_size_bound, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_reopen_after_move_writes_a_new_file, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_refused_writes_are_counted_as_lost_not_written,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_a_deleted_directory_is_made_again, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_a_line_torn_by_a_full_disk_is_cut_at_shutdown,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_protobuf_rotation_cuts_between_messages, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_a_protobuf_message_torn_by_a_full_disk_is_cut,
					    setup, teardown),
	    cmocka_unit_test(test_an_unknown_format_is_a_config_error_naming_the_formats),
	};
	return cmocka_run_group_tests_name("file_sink", tests, NULL, NULL);
}
