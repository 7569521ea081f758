/* The codec seam: lookup by name and by spool id, and the two framings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sb_codec.h"
#include "sb_json.h"

static struct sb_event *one_event(struct sb_evb *b)
{
	sb_evb_init(b);
	sb_evb_begin(b, "proc", "metrics");
	sb_evb_sample(b, "node_load1", SB_GAUGE, 0.5);
	struct sb_event *ev = sb_evb_finish(b);
	ev->seq = 7;
	return ev;
}

static void test_codecs_are_found_by_name_and_by_id(void **state)
{
	(void)state;
	const struct sb_codec *c = sb_codec_find("json");
	assert_non_null(c);
	assert_ptr_equal(sb_codec_by_id(c->id), c);
	assert_string_equal(c->content_type, "application/json");
	assert_null(sb_codec_find("xml"));
	assert_null(sb_codec_by_id(0));
	assert_non_null(strstr(sb_codec_names(), "json"));
}

static void test_json_framed_is_one_line_per_event(void **state)
{
	(void)state;
	struct sb_evb b;
	struct sb_event *ev = one_event(&b);
	struct sb_codec_ctx cc = {.run = "r", .host = "h"};
	struct sb_buf direct, framed, bare;
	sb_buf_init(&direct);
	sb_buf_init(&framed);
	sb_buf_init(&bare);
	sb_json_event(&direct, &cc, ev);
	const struct sb_codec *c = sb_codec_find("json");
	sb_codec_frame(c, &framed, &cc, ev);
	c->encode(&bare, &cc, ev);
	assert_int_equal(framed.len, direct.len);
	assert_memory_equal(framed.data, direct.data, direct.len);
	assert_int_equal(bare.len + 1, direct.len);
	assert_int_equal(framed.data[framed.len - 1], '\n');
	sb_buf_free(&direct);
	sb_buf_free(&framed);
	sb_buf_free(&bare);
	sb_event_unref(ev);
	sb_evb_free(&b);
}

/* A binary codec's stream: a varint length before each message. */
static size_t body_len;
static void fixed_encode(struct sb_buf *out, struct sb_codec_ctx *ctx, const struct sb_event *ev)
{
	(void)ctx;
	(void)ev;
	for (size_t i = 0; i < body_len; i++)
		sb_buf_addc(out, (char)(i & 0x7f));
}

static void test_varint_framing_prefixes_the_length(void **state)
{
	(void)state;
	const struct sb_codec c = {"fixed", 200, "application/x-test", SB_FRAME_VARINT,
				   fixed_encode};
	struct sb_evb b;
	struct sb_event *ev = one_event(&b);
	struct sb_codec_ctx cc = {0};
	const size_t lens[] = {0, 1, 127, 128, 300, 20000};
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		struct sb_buf out;
		sb_buf_init(&out);
		sb_buf_add(&out, "x", 1); /* framing appends after what is there */
		body_len = lens[k];
		sb_codec_frame(&c, &out, &cc, ev);
		const unsigned char *p = (const unsigned char *)out.data + 1;
		uint64_t v = 0;
		size_t h = 0;
		for (int shift = 0;; shift += 7) {
			v |= (uint64_t)(p[h] & 0x7f) << shift;
			if (!(p[h++] & 0x80))
				break;
		}
		assert_int_equal(v, lens[k]);
		assert_int_equal(out.len, 1 + h + lens[k]);
		for (size_t i = 0; i < lens[k]; i++)
			assert_int_equal(p[h + i], i & 0x7f);
		sb_buf_free(&out);
	}
	sb_event_unref(ev);
	sb_evb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_codecs_are_found_by_name_and_by_id),
	    cmocka_unit_test(test_json_framed_is_one_line_per_event),
	    cmocka_unit_test(test_varint_framing_prefixes_the_length),
	};
	return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
