/* The prom sink's gzip: libdeflate's and zlib's output each decompress
 * (with zlib, as a scraper's gzip would) to exactly the input, as one gzip
 * member, for an empty body, a node-sized one and one that does not
 * compress; and a compressor busy on one thread leaves the other to zlib. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "../../src/sinks/prom_gzip.h"

static void fill_text(struct sb_buf *b, size_t lines)
{
	sb_buf_init(b);
	char l[128];
	for (size_t i = 0; i < lines; i++) {
		int n = snprintf(l, sizeof(l),
				 "node_cpu_seconds_total{cpu=\"%zu\",mode=\"idle\"} %zu.%02zu\n",
				 i % 64, i * 7919, i % 100);
		assert_int_equal(sb_buf_reserve(b, (size_t)n), 0);
		memcpy(b->data + b->len, l, (size_t)n);
		b->len += (size_t)n;
	}
}

static void fill_random(struct sb_buf *b, size_t n)
{
	sb_buf_init(b);
	assert_int_equal(sb_buf_reserve(b, n), 0);
	unsigned x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		b->data[i] = (char)(x >> 16);
	}
	b->len = n;
}

/* gunzip z and compare it with in; checks the gzip magic and that one
 * member holds it all */
static void assert_gunzips_to(const struct sb_buf *z, const struct sb_buf *in)
{
	assert_true(z->len >= 18);
	assert_int_equal((unsigned char)z->data[0], 0x1f);
	assert_int_equal((unsigned char)z->data[1], 0x8b);
	size_t cap = in->len + 1;
	unsigned char *out = malloc(cap);
	assert_non_null(out);
	z_stream s = {0};
	assert_int_equal(inflateInit2(&s, 16 + 15), Z_OK);
	s.next_in = (Bytef *)z->data;
	s.avail_in = (uInt)z->len;
	s.next_out = out;
	s.avail_out = (uInt)cap;
	assert_int_equal(inflate(&s, Z_FINISH), Z_STREAM_END);
	assert_int_equal(s.avail_in, 0);
	assert_int_equal(s.total_out, in->len);
	assert_memory_equal(out, in->data ? in->data : "", in->len);
	inflateEnd(&s);
	free(out);
}

static void round_trip(bool libdeflate)
{
	struct sb_prom_gzip *g = sb_prom_gzip_new(libdeflate);
	assert_non_null(g);
	if (!libdeflate)
		assert_string_equal(sb_prom_gzip_impl(g), "zlib");
	struct sb_buf in[3], z;
	sb_buf_init(&in[0]);
	fill_text(&in[1], 1200);
	fill_random(&in[2], 70000);
	for (int i = 0; i < 3; i++) {
		sb_buf_init(&z);
		assert_int_equal(sb_prom_gzip(g, &in[i], &z), 0);
		assert_gunzips_to(&z, &in[i]);
		if (i == 1)
			assert_true(z.len * 4 < in[i].len); /* text does compress */
		sb_buf_free(&z);
		sb_buf_free(&in[i]);
	}
	sb_prom_gzip_free(g);
}

static void test_zlib_round_trip(void **state)
{
	(void)state;
	round_trip(false);
}

static void test_libdeflate_round_trip(void **state)
{
	(void)state;
	struct sb_prom_gzip *g = sb_prom_gzip_new(true);
	assert_non_null(g);
	/* the build machine has it (scripts/deps.sh), so the test means it */
	assert_string_equal(sb_prom_gzip_impl(g), "libdeflate");
	sb_prom_gzip_free(g);
	round_trip(true);
}

/* Two threads compressing at once through one compressor: each answer is
 * whole and right, whichever of them got libdeflate. */
struct job {
	struct sb_prom_gzip *g;
	const struct sb_buf *in;
	int bad;
};

static void *worker(void *arg)
{
	struct job *j = arg;
	for (int i = 0; i < 50; i++) {
		struct sb_buf z;
		sb_buf_init(&z);
		if (sb_prom_gzip(j->g, j->in, &z)) {
			j->bad++;
		} else {
			unsigned char *out = malloc(j->in->len + 1);
			uLongf n = (uLongf)j->in->len + 1;
			z_stream s = {0};
			inflateInit2(&s, 16 + 15);
			s.next_in = (Bytef *)z.data;
			s.avail_in = (uInt)z.len;
			s.next_out = out;
			s.avail_out = (uInt)n;
			if (inflate(&s, Z_FINISH) != Z_STREAM_END || s.total_out != j->in->len ||
			    memcmp(out, j->in->data, j->in->len))
				j->bad++;
			inflateEnd(&s);
			free(out);
		}
		sb_buf_free(&z);
	}
	return NULL;
}

static void test_concurrent_scrapes_each_get_a_whole_answer(void **state)
{
	(void)state;
	struct sb_prom_gzip *g = sb_prom_gzip_new(true);
	struct sb_buf in;
	fill_text(&in, 2000);
	struct job a = {g, &in, 0}, b = {g, &in, 0};
	pthread_t ta, tb;
	assert_int_equal(pthread_create(&ta, NULL, worker, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, worker, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.bad, 0);
	assert_int_equal(b.bad, 0);
	sb_buf_free(&in);
	sb_prom_gzip_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_zlib_round_trip),
	    cmocka_unit_test(test_libdeflate_round_trip),
	    cmocka_unit_test(test_concurrent_scrapes_each_get_a_whole_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
