/* The spool: what survives a restart, a torn tail, a flipped bit, a full
 * bound; and CRC32C itself. Each test gets its own temporary directory. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/spool/crc32c.h"
#include "../../src/spool/spool.h"
#include "sb_log.h"

struct fx {
	char dir[64];
	struct sb_spool_opts o;
	struct sb_spool *sp;
	struct sb_spool_recovery rec;
};

static void quiet(enum sb_log_level l, const char *line, void *arg)
{
	(void)l;
	(void)line;
	(void)arg;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/sb-spool-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->o.dir = f->dir;
	f->o.name = "test";
	f->o.segment_bytes = 1 << 20;
	f->o.full = SB_SPOOL_BLOCK;
	sb_log_set_hook(quiet, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sb_spool_close(f->sp);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	sb_log_set_hook(NULL, NULL);
	return 0;
}

static void reopen(struct fx *f)
{
	sb_spool_close(f->sp);
	f->sp = NULL;
	assert_int_equal(sb_spool_open(&f->o, &f->sp, &f->rec), 0);
}

/* Writes records "rec-<i>" for i in [from, to). */
static size_t put(struct fx *f, int from, int to)
{
	struct sb_spool_batch b;
	sb_spool_batch_init(&b);
	for (int i = from; i < to; i++) {
		char p[32];
		int n = snprintf(p, sizeof(p), "rec-%d", i);
		struct iovec iov[1] = {{p, (size_t)n}};
		sb_spool_batch_add(&b, iov, 1);
	}
	struct sb_spool_wres r;
	sb_spool_write(f->sp, &b, &r);
	sb_spool_batch_free(&b);
	return r.written;
}

/* Reads up to max records; checks they are "rec-<i>" for the expected i. */
static size_t get(struct fx *f, struct sb_spool_reader *rd, struct sb_spool_rec *out, size_t max,
		  const int *want)
{
	size_t n;
	uint64_t lost;
	assert_int_equal(sb_spool_read(f->sp, rd, out, max, 1 << 20, &n, &lost), 0);
	for (size_t i = 0; want && i < n; i++) {
		char p[32];
		int len = snprintf(p, sizeof(p), "rec-%d", want[i]);
		assert_int_equal(out[i].len, len);
		assert_memory_equal(rd->buf.data + out[i].boff, p, (size_t)len);
	}
	return n;
}

static void seg_file(struct fx *f, uint64_t segno, char *out, size_t n)
{
	snprintf(out, n, "%s/seg-%020llu.sbs", f->dir, (unsigned long long)segno);
}

static off_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void test_crc32c_matches_the_rfc3720_check_value(void **state)
{
	(void)state;
	assert_int_equal(sb_crc32c(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(sb_crc32c_sw(0, "123456789", 9), 0xe3069283u);
}

static void test_crc32c_hardware_and_table_agree_and_chain(void **state)
{
	(void)state;
	unsigned char buf[1031];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	for (size_t n = 0; n < sizeof(buf); n += 97) {
		uint32_t whole = sb_crc32c(0, buf + 1, n);
		assert_int_equal(whole, sb_crc32c_sw(0, buf + 1, n));
		assert_int_equal(
		    whole, sb_crc32c(sb_crc32c(0, buf + 1, n / 3), buf + 1 + n / 3, n - n / 3));
	}
}

static void test_records_come_back_in_order(void **state)
{
	struct fx *f = *state;
	reopen(f);
	assert_int_equal(put(f, 0, 10), 10);
	struct sb_spool_reader rd;
	sb_spool_reader_init(&rd, 0, UINT64_MAX);
	struct sb_spool_rec r[16];
	int want[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	assert_int_equal(get(f, &rd, r, 16, want), 10);
	assert_int_equal(get(f, &rd, r, 16, NULL), 0);
	struct sb_spool_state st;
	sb_spool_state(f->sp, &st);
	assert_int_equal(st.records, 10);
	assert_int_equal(st.unread, 0);
	sb_spool_reader_free(&rd);
}

/* A sender takes a slice of 64 records a call: each call reads about
 * what those records take, not a whole 256 KiB chunk (three times the
 * bytes for records of 1 KiB, most of them read again by the next call).
 * Varying sizes and records cut by a read's end come back whole, in order. */
static void test_small_reads_read_about_what_they_take(void **state)
{
	struct fx *f = *state;
	f->o.segment_bytes = 64 << 20;
	reopen(f);
	enum { N = 3000 };
	static char body[2048];
	struct sb_spool_batch b;
	sb_spool_batch_init(&b);
	uint64_t total = 0;
	for (int i = 0; i < N; i++) {
		size_t len = 700 + (size_t)(i * 37) % 700;
		memset(body, 'a' + i % 26, len);
		int k = snprintf(body, 16, "%d:", i);
		body[k] = ':';
		struct iovec iov[1] = {{body, len}};
		sb_spool_batch_add(&b, iov, 1);
		total += 12 + len;
	}
	struct sb_spool_wres w;
	sb_spool_write(f->sp, &b, &w);
	sb_spool_batch_free(&b);
	assert_int_equal(w.written, N);
	struct sb_spool_reader rd;
	sb_spool_reader_init(&rd, 0, UINT64_MAX);
	struct sb_spool_rec out[64];
	uint64_t before = sb_spool_bytes_read();
	int next = 0;
	for (int calls = 0; calls < 10 * N / 64; calls++) {
		size_t n = get(f, &rd, out, 64, NULL);
		if (!n)
			break;
		for (size_t i = 0; i < n; i++, next++) {
			char id[16];
			int k = snprintf(id, sizeof(id), "%d:", next);
			assert_int_equal(out[i].len, 700 + (size_t)(next * 37) % 700);
			assert_memory_equal(rd.buf.data + out[i].boff, id, (size_t)k);
		}
		assert_true(sb_spool_confirm(f->sp, out[n - 1].segno, out[n - 1].end, n));
	}
	assert_int_equal(next, N);
	/* 3.7 times before; the first call still reads a whole chunk */
	assert_true((double)(sb_spool_bytes_read() - before) < 1.4 * (double)total);
	sb_spool_reader_free(&rd);
}

static void test_restart_replays_exactly_what_was_not_confirmed(void **state)
{
	struct fx *f = *state;
	reopen(f);
	put(f, 0, 10);
	struct sb_spool_reader rd;
	sb_spool_reader_init(&rd, 0, UINT64_MAX);
	struct sb_spool_rec r[16];
	assert_int_equal(get(f, &rd, r, 16, NULL), 10);
	assert_true(sb_spool_confirm(f->sp, r[3].segno, r[3].end, 4));
	sb_spool_reader_free(&rd);
	reopen(f);
	assert_int_equal(f->rec.records, 6);
	assert_int_equal(f->rec.corrupt, 0);
	sb_spool_reader_init(&rd, 0, UINT64_MAX);
	int want[6] = {4, 5, 6, 7, 8, 9};
	assert_int_equal(get(f, &rd, r, 16, want), 6);
	sb_spool_reader_free(&rd);
}

static void test_torn_tail_is_cut_and_the_rest_kept(void **state)
{
	struct fx *f = *state;
	reopen(f);
	put(f, 0, 5);
	sb_spool_close(f->sp);
	f->sp = NULL;
	char path[128];
	seg_file(f, 1, path, sizeof(path));
	off_t whole = file_size(path);
	/* a crash in the middle of the last record */
	assert_int_equal(truncate(path, whole - 3), 0);
	reopen(f);
	assert_int_equal(f->rec.records, 4);
	assert_int_equal(f->rec.torn_bytes, 12 + 5 - 3);
	assert_int_equal(f->rec.corrupt, 0);
	assert_int_equal(file_size(path), whole - 17);
	/* appends go on after the cut */
	assert_int_equal(put(f, 5, 6), 1);
	struct sb_spool_reader rd;
	sb_spool_reader_init(&rd, 0, UINT64_MAX);
	struct sb_spool_rec r[8];
	int want[5] = {0, 1, 2, 3, 5};
	assert_int_equal(get(f, &rd, r, 8, want), 5);
	sb_spool_reader_free(&rd);
}

static void test_garbage_after_the_last_record_is_a_torn_tail(void **state)
{
	struct fx *f = *state;
	reopen(f);
	put(f, 0, 3);
	sb_spool_close(f->sp);
	f->sp = NULL;
	char path[128];
	seg_file(f, 1, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "SBR1\x05\x00", 6), 6);
	close(fd);
	reopen(f);
	assert_int_equal(f->rec.records, 3);
	assert_int_equal(f->rec.torn_bytes, 6);
}

static void flip_byte(const char *path, off_t at)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	unsigned char c;
	assert_int_equal(pread(fd, &c, 1, at), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

/* Record i of "rec-i" payloads (i < 10) starts at 16 + i * 17. */
static off_t rec_off(int i) { return 16 + (off_t)i * 17; }

static void test_corrupt_payload_is_skipped_counted_and_never_replayed(void **state)
{
	struct fx *f = *state;
	reopen(f);
	put(f, 0, 6);
	sb_spool_close(f->sp);
	f->sp = NULL;
	char path[128];
	seg_file(f, 1, path, sizeof(path));
	flip_byte(path, rec_off(2) + 12 + 2);
	reopen(f);
	assert_int_equal(f->rec.corrupt, 1);
	assert_int_equal(f->rec.records, 5);
	assert_int_equal(f->rec.torn_bytes, 0);
	struct sb_spool_reader rd;
	sb_spool_reader_init(&rd, 0, UINT64_MAX);
	struct sb_spool_rec r[8];
	int want[5] = {0, 1, 3, 4, 5};
	assert_int_equal(get(f, &rd, r, 8, want), 5);
	sb_spool_reader_free(&rd);
}

static void test_corrupt_length_resynchronises_on_the_next_record(void **state)
{
	struct fx *f = *state;
	reopen(f);
	put(f, 0, 6);
	sb_spool_close(f->sp);
	f->sp = NULL;
	char path[128];
	seg_file(f, 1, path, sizeof(path));
	flip_byte(path, rec_off(1) + 5); /* length byte 1: a huge length */
	reopen(f);
	assert_int_equal(f->rec.corrupt, 1);
	assert_int_equal(f->rec.records, 5);
	struct sb_spool_reader rd;
	sb_spool_reader_init(&rd, 0, UINT64_MAX);
	struct sb_spool_rec r[8];
	int want[5] = {0, 2, 3, 4, 5};
	assert_int_equal(get(f, &rd, r, 8, want), 5);
	sb_spool_reader_free(&rd);
}

static void test_corruption_after_open_is_counted_as_lost_at_segment_end(void **state)
{
	struct fx *f = *state;
	f->o.segment_bytes = 100; /* a few records per segment */
	reopen(f);
	assert_int_equal(put(f, 0, 8), 8);
	char path[128];
	seg_file(f, 1, path, sizeof(path));
	flip_byte(path, rec_off(1) + 12 + 1);
	struct sb_spool_reader rd;
	sb_spool_reader_init(&rd, 0, UINT64_MAX);
	struct sb_spool_rec r[16];
	size_t n, total = 0;
	uint64_t lost, lost_total = 0;
	do {
		assert_int_equal(sb_spool_read(f->sp, &rd, r, 16, 1 << 20, &n, &lost), 0);
		total += n;
		lost_total += lost;
	} while (n);
	assert_int_equal(total, 7);
	assert_int_equal(lost_total, 1);
	struct sb_spool_state st;
	sb_spool_state(f->sp, &st);
	assert_int_equal(st.records, 7);
	sb_spool_reader_free(&rd);
}

static void test_delivered_sealed_segments_are_deleted(void **state)
{
	struct fx *f = *state;
	f->o.segment_bytes = 16 + 3 * 17; /* three records per segment */
	reopen(f);
	assert_int_equal(put(f, 0, 9), 9);
	struct sb_spool_state st;
	sb_spool_state(f->sp, &st);
	assert_int_equal(st.segments, 3);
	struct sb_spool_reader rd;
	sb_spool_reader_init(&rd, 0, UINT64_MAX);
	struct sb_spool_rec r[16];
	assert_int_equal(get(f, &rd, r, 16, NULL), 9);
	for (int s = 0; s < 3; s++)
		sb_spool_confirm(f->sp, r[s * 3 + 2].segno, r[s * 3 + 2].end, 3);
	sb_spool_state(f->sp, &st);
	assert_int_equal(st.records, 0);
	assert_int_equal(st.segments, 1); /* the active one stays */
	char path[128];
	seg_file(f, 1, path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
	sb_spool_reader_free(&rd);
}

static void test_block_policy_refuses_past_the_bound(void **state)
{
	struct fx *f = *state;
	f->o.segment_bytes = 16 + 3 * 17;
	f->o.max_bytes = 2 * (16 + 3 * 17);
	reopen(f);
	struct sb_spool_batch b;
	sb_spool_batch_init(&b);
	for (int i = 0; i < 10; i++) {
		char p[8];
		snprintf(p, sizeof(p), "rec-%d", i);
		struct iovec iov[1] = {{p, 5}};
		sb_spool_batch_add(&b, iov, 1);
	}
	struct sb_spool_wres w;
	sb_spool_write(f->sp, &b, &w);
	assert_int_equal(w.written, 6);
	assert_int_equal(w.err, -ENOSPC);
	assert_int_equal(w.evicted, 0);
	sb_spool_batch_free(&b);
}

static void test_drop_oldest_deletes_the_oldest_segment_and_counts_it(void **state)
{
	struct fx *f = *state;
	f->o.segment_bytes = 16 + 3 * 17;
	f->o.max_bytes = 2 * (16 + 3 * 17);
	f->o.full = SB_SPOOL_DROP_OLDEST;
	reopen(f);
	struct sb_spool_batch b;
	sb_spool_batch_init(&b);
	for (int i = 0; i < 9; i++) {
		char p[8];
		snprintf(p, sizeof(p), "rec-%d", i);
		struct iovec iov[1] = {{p, 5}};
		sb_spool_batch_add(&b, iov, 1);
	}
	struct sb_spool_wres w;
	sb_spool_write(f->sp, &b, &w);
	assert_int_equal(w.written, 9);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.evicted, 3);
	struct sb_spool_reader rd;
	sb_spool_reader_init(&rd, 0, UINT64_MAX);
	struct sb_spool_rec r[16];
	int want[6] = {3, 4, 5, 6, 7, 8};
	assert_int_equal(get(f, &rd, r, 16, want), 6);
	sb_spool_reader_free(&rd);
	sb_spool_batch_free(&b);
}

static void test_drop_oldest_spares_a_segment_being_sent(void **state)
{
	struct fx *f = *state;
	f->o.segment_bytes = 16 + 3 * 17;
	f->o.max_bytes = 2 * (16 + 3 * 17);
	f->o.full = SB_SPOOL_DROP_OLDEST;
	reopen(f);
	assert_int_equal(put(f, 0, 3), 3);
	struct sb_spool_reader rd;
	sb_spool_reader_init(&rd, 0, UINT64_MAX);
	struct sb_spool_rec r[16];
	assert_int_equal(get(f, &rd, r, 1, NULL), 1); /* rec-0 in flight */
	assert_int_equal(put(f, 3, 6), 3);
	/* segment 1 is held by the reader: the next oldest goes instead */
	struct sb_spool_batch b;
	sb_spool_batch_init(&b);
	struct iovec iov[1] = {{"rec-6", 5}};
	sb_spool_batch_add(&b, iov, 1);
	struct sb_spool_wres w;
	sb_spool_write(f->sp, &b, &w);
	assert_int_equal(w.written, 1);
	assert_int_equal(w.evicted, 3);
	int want[3] = {1, 2, 6};
	assert_int_equal(get(f, &rd, r, 16, want), 3);
	sb_spool_batch_free(&b);
	sb_spool_reader_free(&rd);
}

static void test_rewind_hands_out_unconfirmed_records_again(void **state)
{
	struct fx *f = *state;
	reopen(f);
	put(f, 0, 5);
	struct sb_spool_reader rd;
	sb_spool_reader_init(&rd, 0, UINT64_MAX);
	struct sb_spool_rec r[8];
	assert_int_equal(get(f, &rd, r, 8, NULL), 5);
	sb_spool_confirm(f->sp, r[1].segno, r[1].end, 2);
	sb_spool_rewind(f->sp, &rd);
	int want[3] = {2, 3, 4};
	assert_int_equal(get(f, &rd, r, 8, want), 3);
	sb_spool_reader_free(&rd);
}

static void test_seal_splits_backlog_from_new_records(void **state)
{
	struct fx *f = *state;
	reopen(f);
	put(f, 0, 4);
	uint64_t last = sb_spool_seal(f->sp);
	put(f, 4, 6);
	struct sb_spool_reader old, live;
	sb_spool_reader_init(&old, 0, last);
	sb_spool_reader_init(&live, last + 1, UINT64_MAX);
	struct sb_spool_rec r[8];
	int want_live[2] = {4, 5};
	assert_int_equal(get(f, &live, r, 8, want_live), 2);
	int want_old[4] = {0, 1, 2, 3};
	assert_int_equal(get(f, &old, r, 8, want_old), 4);
	assert_int_equal(sb_spool_unread(f->sp, 0, last), 0);
	sb_spool_reader_free(&old);
	sb_spool_reader_free(&live);
}

static void test_a_second_owner_is_refused(void **state)
{
	struct fx *f = *state;
	reopen(f);
	struct sb_spool *other = NULL;
	assert_int_equal(sb_spool_open(&f->o, &other, NULL), -EBUSY);
	assert_null(other);
}

static void test_a_segment_with_a_bad_header_is_set_aside(void **state)
{
	struct fx *f = *state;
	f->o.segment_bytes = 16 + 3 * 17;
	reopen(f);
	put(f, 0, 6);
	sb_spool_close(f->sp);
	f->sp = NULL;
	char path[128];
	seg_file(f, 1, path, sizeof(path));
	flip_byte(path, 3);
	reopen(f);
	assert_int_equal(f->rec.bad_segments, 1);
	assert_int_equal(f->rec.records, 3);
	char bad[160];
	snprintf(bad, sizeof(bad), "%s.bad", path);
	assert_int_equal(access(bad, F_OK), 0);
}

struct count {
	uint64_t all, pending;
};

static void count_rec(void *arg, uint64_t segno, uint64_t off, const void *p, uint32_t len,
		      bool pending)
{
	(void)segno;
	(void)off;
	(void)p;
	(void)len;
	struct count *c = arg;
	c->all++;
	c->pending += pending;
}

static void test_offline_scan_reports_without_changing_anything(void **state)
{
	struct fx *f = *state;
	reopen(f);
	put(f, 0, 5);
	struct sb_spool_reader rd;
	sb_spool_reader_init(&rd, 0, UINT64_MAX);
	struct sb_spool_rec r[8];
	get(f, &rd, r, 8, NULL);
	sb_spool_confirm(f->sp, r[0].segno, r[0].end, 1);
	sb_spool_reader_free(&rd);
	sb_spool_close(f->sp);
	f->sp = NULL;
	char path[128];
	seg_file(f, 1, path, sizeof(path));
	off_t whole = file_size(path);
	assert_int_equal(truncate(path, whole - 2), 0);
	struct sb_spool_recovery rec;
	struct count c = {0};
	assert_int_equal(sb_spool_scan(f->dir, &rec, count_rec, &c), 0);
	assert_int_equal(c.all, 4);
	assert_int_equal(c.pending, 3);
	assert_int_equal(rec.records, 3);
	assert_int_equal(rec.torn_bytes, 15);
	assert_int_equal(file_size(path), whole - 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc32c_matches_the_rfc3720_check_value),
	    cmocka_unit_test(test_crc32c_hardware_and_table_agree_and_chain),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_records_come_back_in_order),
	    T(test_small_reads_read_about_what_they_take),
	    T(test_restart_replays_exactly_what_was_not_confirmed),
	    T(test_torn_tail_is_cut_and_the_rest_kept),
	    T(test_garbage_after_the_last_record_is_a_torn_tail),
	    T(test_corrupt_payload_is_skipped_counted_and_never_replayed),
	    T(test_corrupt_length_resynchronises_on_the_next_record),
	    T(test_corruption_after_open_is_counted_as_lost_at_segment_end),
	    T(test_delivered_sealed_segments_are_deleted),
	    T(test_block_policy_refuses_past_the_bound),
	    T(test_drop_oldest_deletes_the_oldest_segment_and_counts_it),
	    T(test_drop_oldest_spares_a_segment_being_sent),
	    T(test_rewind_hands_out_unconfirmed_records_again),
	    T(test_seal_splits_backlog_from_new_records),
	    T(test_a_second_owner_is_refused),
	    T(test_a_segment_with_a_bad_header_is_set_aside),
	    T(test_offline_scan_reports_without_changing_anything),
#undef T
	};
	return cmocka_run_group_tests_name("spool", tests, NULL, NULL);
}
