/* What a spool directory holding crafted or misplaced things cannot do to
 * the agent or to `sensorbus spool verify`: make recovery quadratic, hang
 * on a fifo, stop the sink with a directory, or wrap segment numbers. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

static char logged[8][512];
static unsigned nlogged;
static void hook(enum sb_log_level l, const char *line, void *arg)
{
	(void)l;
	(void)arg;
	snprintf(logged[nlogged % 8], sizeof(logged[0]), "%s", line);
	nlogged++;
}

static bool logged_has(const char *what)
{
	for (unsigned i = 0; i < nlogged && i < 8; i++)
		if (strstr(logged[i], what))
			return true;
	return false;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/sb-spool-hostile.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->o.dir = f->dir;
	f->o.name = "test";
	f->o.segment_bytes = 16 << 20;
	f->o.full = SB_SPOOL_BLOCK;
	nlogged = 0;
	sb_log_set_hook(hook, NULL);
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

/* ---- crafting segment files ---- */

struct craft {
	unsigned char *p;
	size_t len, cap;
};

static void add(struct craft *c, const void *p, size_t n)
{
	if (c->len + n > c->cap) {
		c->cap = (c->len + n) * 2;
		c->p = realloc(c->p, c->cap);
	}
	memcpy(c->p + c->len, p, n);
	c->len += n;
}

static void add32(struct craft *c, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 24)};
	add(c, b, 4);
}

static void seg_header(struct craft *c, uint64_t segno)
{
	add(c, "SBSPOOL1", 8);
	add32(c, (uint32_t)segno);
	add32(c, (uint32_t)(segno >> 32));
}

static void record(struct craft *c, const char *payload)
{
	uint32_t len = (uint32_t)strlen(payload);
	unsigned char l[4] = {(unsigned char)len, (unsigned char)(len >> 8),
			      (unsigned char)(len >> 16), (unsigned char)(len >> 24)};
	add32(c, SB_SPOOL_REC_MAGIC);
	add32(c, len);
	add32(c, sb_crc32c(sb_crc32c(0, l, 4), payload, len));
	add(c, payload, len);
}

/* A record header that claims len bytes and fails its checksum. */
static void bogus(struct craft *c, uint32_t len)
{
	add32(c, SB_SPOOL_REC_MAGIC);
	add32(c, len);
	add32(c, 0xdeadbeefu);
}

static void write_seg(struct fx *f, uint64_t segno, const struct craft *c)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/seg-%020" PRIu64 ".sbs", f->dir, segno);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(c->p, 1, c->len, fp), c->len);
	fclose(fp);
}

/* Bogus headers back to back over n bytes, each claiming the rest of a
 * file of total bytes; then the record "after". */
static void claims_to_the_end(struct craft *c, size_t n, size_t total)
{
	size_t stop = c->len + n;
	while (c->len + 12 <= stop)
		bogus(c, (uint32_t)(total - c->len - 12));
}

static void test_crc32c_combine_equals_the_checksum_of_the_whole(void **state)
{
	(void)state;
	static unsigned char buf[200000];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 13);
	size_t cuts[] = {0, 1, 7, 128, 129, 4096, 65537, 199999};
	for (size_t i = 0; i < SB_ARRAY_SIZE(cuts); i++) {
		size_t a = cuts[i], b = sizeof(buf) - a;
		uint32_t whole = sb_crc32c(0, buf, sizeof(buf));
		assert_int_equal(
		    sb_crc32c_combine(sb_crc32c(0, buf, a), sb_crc32c(0, buf + a, b), b), whole);
	}
	assert_int_equal(sb_crc32c_combine(0x12345678u, 0, 0), 0x12345678u);
}

static void count_rec(void *arg, uint64_t segno, uint64_t off, const void *p, uint32_t len,
		      bool pending)
{
	(void)segno;
	(void)off;
	(void)p;
	(void)len;
	*(uint64_t *)arg += pending;
}

/* Two segments of crafted garbage, 3 MiB in all. Segment 1: a candidate
 * record every 12 bytes, each claiming the rest of the file, with a good
 * record in the middle and at the end (the resync scan). Segment 2: good
 * small records, each followed by a header claiming the rest of the file
 * (each landing after a good record). A naive scan reads about
 * size^2 / 24 bytes (days at 16 MiB); this one reads the file a bounded
 * number of times. */
static void test_crafted_garbage_is_recovered_in_linear_reads(void **state)
{
	struct fx *f = *state;
	size_t s1 = 2u << 20, s2 = 1u << 20;
	struct craft a = {0}, b = {0};
	seg_header(&a, 1);
	claims_to_the_end(&a, s1 / 2, s1);
	record(&a, "middle");
	claims_to_the_end(&a, s1 - a.len - 12 - 3, s1);
	while (a.len < s1 - 12 - 3)
		add(&a, "x", 1);
	record(&a, "end");
	assert_int_equal(a.len, s1);
	write_seg(f, 1, &a);

	seg_header(&b, 2);
	uint64_t good = 0;
	while (b.len + 200 < s2) {
		record(&b, "ok");
		good++;
		bogus(&b, (uint32_t)(s2 - b.len - 12));
	}
	while (b.len < s2 - 14)
		add(&b, "y", 1);
	record(&b, "ok");
	good++;
	assert_int_equal(b.len, s2);
	write_seg(f, 2, &b);
	free(a.p);
	free(b.p);
	double total = (double)(s1 + s2);

	uint64_t before = sb_spool_bytes_read();
	assert_int_equal(sb_spool_open(&f->o, &f->sp, &f->rec), 0);
	double opened = (double)(sb_spool_bytes_read() - before);
	assert_int_equal(f->rec.records, 2 + good);
	assert_int_equal(f->rec.corrupt, 2 + good - 1);
	assert_int_equal(f->rec.torn_bytes, 0);
	/* once for the records, once for the prefix checksums, small reads
	 * around candidates (2.5 times when this was written) */
	assert_true(opened < 4 * total);

	/* the sender meets the same garbage again */
	before = sb_spool_bytes_read();
	struct sb_spool_reader rd;
	sb_spool_reader_init(&rd, 0, UINT64_MAX);
	struct sb_spool_rec out[512];
	uint64_t got = 0;
	for (int i = 0; i < 100000; i++) {
		size_t n;
		uint64_t lost;
		assert_int_equal(sb_spool_read(f->sp, &rd, out, 512, 16 << 20, &n, &lost), 0);
		if (!n)
			break;
		got += n;
		assert_true(sb_spool_confirm(f->sp, out[n - 1].segno, out[n - 1].end, n));
	}
	sb_spool_reader_free(&rd);
	double sent = (double)(sb_spool_bytes_read() - before);
	assert_int_equal(got, 2 + good);
	/* also a 256 KiB chunk per call for its 512 records (8 times) */
	assert_true(sent < 16 * total);
	sb_spool_close(f->sp);
	f->sp = NULL;

	/* and `spool verify` (nothing is pending now: only segment 2's
	 * last record, in the active segment, is still there) */
	before = sb_spool_bytes_read();
	struct sb_spool_recovery rec;
	uint64_t pending = 0;
	assert_int_equal(sb_spool_scan(f->dir, &rec, count_rec, &pending), 0);
	assert_true((double)(sb_spool_bytes_read() - before) < 16 * total);
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

/* Reads everything pending; checks it is "rec-<from>".. in order. */
static void read_back(struct fx *f, int from, int to)
{
	struct sb_spool_reader rd;
	sb_spool_reader_init(&rd, 0, UINT64_MAX);
	struct sb_spool_rec out[64];
	size_t n;
	uint64_t lost;
	assert_int_equal(sb_spool_read(f->sp, &rd, out, 64, 1 << 20, &n, &lost), 0);
	assert_int_equal(n, to - from);
	for (size_t i = 0; i < n; i++) {
		char p[32];
		int len = snprintf(p, sizeof(p), "rec-%d", from + (int)i);
		assert_int_equal(out[i].len, len);
		assert_memory_equal(rd.buf.data + out[i].boff, p, (size_t)len);
	}
	sb_spool_reader_free(&rd);
}

static void path_of(struct fx *f, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", f->dir, name);
}

static char scan_dir[64];
/* In a child that SIGALRM ends if it blocks: 0 when the scan skipped
 * what it should have. */
static int scan_in_child(uint64_t want_skipped)
{
	pid_t p = fork();
	if (p == 0) {
		alarm(20);
		struct sb_spool_recovery rec;
		int r = sb_spool_scan(scan_dir, &rec, NULL, NULL);
		_exit(r ? 1 : rec.skipped == want_skipped ? 0 : 2);
	}
	int st = 0;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static void test_a_fifo_named_like_a_segment_or_the_cursor_never_blocks(void **state)
{
	struct fx *f = *state;
	assert_int_equal(sb_spool_open(&f->o, &f->sp, &f->rec), 0);
	assert_int_equal(put(f, 0, 3), 3);
	sb_spool_close(f->sp);
	f->sp = NULL;
	char fifo[128], cursor[128];
	path_of(f, "seg-00000000000000000007.sbs", fifo, sizeof(fifo));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	path_of(f, "cursor", cursor, sizeof(cursor));
	assert_int_equal(unlink(cursor), 0);
	assert_int_equal(mkfifo(cursor, 0600), 0);
	snprintf(scan_dir, sizeof(scan_dir), "%s", f->dir);
	/* `spool verify` opens read-only: a fifo would block it for good */
	assert_int_equal(scan_in_child(1), 0);

	nlogged = 0;
	assert_int_equal(sb_spool_open(&f->o, &f->sp, &f->rec), 0);
	assert_true(logged_has("seg-00000000000000000007.sbs is a fifo, not a segment file"));
	assert_int_equal(f->rec.skipped, 1);
	assert_true(logged_has("is a fifo, not a cursor log; set aside as cursor.bad"));
	/* no cursor: all three are pending again (duplicates, never gaps) */
	assert_int_equal(f->rec.records, 3);
	assert_int_equal(put(f, 3, 5), 2);
	read_back(f, 0, 5);
	struct stat st;
	assert_int_equal(lstat(fifo, &st), 0);
	assert_true(S_ISFIFO(st.st_mode)); /* left alone */
	assert_int_equal(lstat(cursor, &st), 0);
	assert_true(S_ISREG(st.st_mode)); /* a new log */
}

static void test_a_directory_named_like_a_segment_does_not_stop_the_spool(void **state)
{
	struct fx *f = *state;
	char d[128];
	path_of(f, "seg-00000000000000000005.sbs", d, sizeof(d));
	assert_int_equal(mkdir(d, 0700), 0);
	assert_int_equal(sb_spool_open(&f->o, &f->sp, &f->rec), 0);
	assert_int_equal(f->rec.skipped, 1);
	assert_true(logged_has("seg-00000000000000000005.sbs is a directory, not a segment file"));
	assert_int_equal(put(f, 0, 4), 4);
	/* numbered past the directory: no collision later on */
	char seg[128];
	path_of(f, "seg-00000000000000000006.sbs", seg, sizeof(seg));
	assert_int_equal(access(seg, F_OK), 0);
	read_back(f, 0, 4);
	sb_spool_close(f->sp);
	f->sp = NULL;
	assert_int_equal(sb_spool_open(&f->o, &f->sp, &f->rec), 0);
	assert_int_equal(f->rec.records, 4);
	struct stat st;
	assert_int_equal(stat(d, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

static void test_segment_numbers_that_cannot_be_followed_are_refused(void **state)
{
	struct fx *f = *state;
	/* well-formed segments, each with one good record */
	struct craft c = {0};
	seg_header(&c, UINT64_MAX);
	record(&c, "crafted");
	write_seg(f, UINT64_MAX, &c);
	c.len = 0;
	seg_header(&c, SB_SPOOL_SEGNO_MAX + 1);
	record(&c, "crafted");
	write_seg(f, SB_SPOOL_SEGNO_MAX + 1, &c);
	free(c.p);
	char over[128];
	path_of(f, "seg-99999999999999999999.sbs", over, sizeof(over));
	FILE *fp = fopen(over, "w");
	assert_non_null(fp);
	fclose(fp);

	assert_int_equal(sb_spool_open(&f->o, &f->sp, &f->rec), 0);
	assert_int_equal(f->rec.skipped, 3);
	assert_int_equal(f->rec.records, 0);
	assert_true(logged_has("seg-18446744073709551615.sbs: a segment number above"));
	assert_true(logged_has("cannot be followed without wrapping; file left alone"));
	/* new records start a numbering of their own and come back alone */
	assert_int_equal(put(f, 0, 3), 3);
	char seg[128];
	path_of(f, "seg-00000000000000000001.sbs", seg, sizeof(seg));
	assert_int_equal(access(seg, F_OK), 0);
	read_back(f, 0, 3);
	struct sb_spool_state st;
	sb_spool_state(f->sp, &st);
	assert_int_equal(st.first_segno, 1);
	assert_int_equal(st.last_segno, 1);
	assert_int_equal(access(over, F_OK), 0); /* left alone */
}

static void test_the_highest_followable_segment_is_followed_without_wrapping(void **state)
{
	struct fx *f = *state;
	struct craft c = {0};
	seg_header(&c, SB_SPOOL_SEGNO_MAX);
	record(&c, "rec-0");
	write_seg(f, SB_SPOOL_SEGNO_MAX, &c);
	free(c.p);
	assert_int_equal(sb_spool_open(&f->o, &f->sp, &f->rec), 0);
	assert_int_equal(f->rec.skipped, 0);
	assert_int_equal(f->rec.records, 1);
	sb_spool_seal(f->sp);
	assert_int_equal(put(f, 1, 3), 2);
	struct sb_spool_state st;
	sb_spool_state(f->sp, &st);
	assert_true(st.first_segno == SB_SPOOL_SEGNO_MAX);
	assert_true(st.last_segno == SB_SPOOL_SEGNO_MAX + 1);
	read_back(f, 0, 3);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc32c_combine_equals_the_checksum_of_the_whole),
	    T(test_crafted_garbage_is_recovered_in_linear_reads),
	    T(test_a_fifo_named_like_a_segment_or_the_cursor_never_blocks),
	    T(test_a_directory_named_like_a_segment_does_not_stop_the_spool),
	    T(test_segment_numbers_that_cannot_be_followed_are_refused),
	    T(test_the_highest_followable_segment_is_followed_without_wrapping),
	};
	return cmocka_run_group_tests_name("spool_hostile", tests, NULL, NULL);
}
