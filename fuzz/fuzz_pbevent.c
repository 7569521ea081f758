/* libFuzzer harness for the protobuf event decoder (make fuzz).
 *
 * Besides what ASan/UBSan catch, it checks the codec's own promises: an
 * error always says at which byte, and whatever decodes, encoded again and
 * decoded again, gives the same JSON (the decoder makes only events the
 * encoder represents exactly). The first byte picks the input's shape:
 * one Event, a varint-delimited stream of them, or one EventBatch. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sb_json.h"
#include "sb_pbevent.h"
#include "sb_pbwire.h"

static struct sb_pbdec d1, d2;
static struct sb_buf pb, j1, j2;
static int ready;

static void check(const uint8_t *p, size_t n)
{
	struct sb_event *ev = NULL;
	int r = sb_pbdec_event(&d1, p, n, 0, &ev);
	if (r) {
		if (ev || strncmp(d1.err, "byte ", 5))
			abort();
		return;
	}
	struct sb_codec_ctx c1 = {.run = d1.run.data, .host = d1.host.data};
	sb_buf_reset(&j1);
	sb_json_event(&j1, &c1, ev);
	sb_buf_reset(&pb);
	sb_pb_event(&pb, &c1, ev);
	sb_event_unref(ev);
	if (pb.err || j1.err)
		abort();
	struct sb_event *back = NULL;
	if (sb_pbdec_event(&d2, pb.data, pb.len, 0, &back))
		abort();
	struct sb_codec_ctx c2 = {.run = d2.run.data, .host = d2.host.data};
	sb_buf_reset(&j2);
	sb_json_event(&j2, &c2, back);
	/* Invalid UTF-8 in a string becomes U+FFFD in protobuf (its strings
	 * are UTF-8), which can reorder labels sorted by name: lossless only
	 * for valid text, so the first trip may change the event; from then
	 * on encoding and decoding must be a fixed point. */
	bool same = j1.len == j2.len && !memcmp(j1.data, j2.data, j1.len);
	if (!same) {
		sb_buf_reset(&pb);
		sb_pb_event(&pb, &c2, back);
		struct sb_event *again = NULL;
		if (pb.err || sb_pbdec_event(&d1, pb.data, pb.len, 0, &again))
			abort();
		struct sb_codec_ctx c3 = {.run = d1.run.data, .host = d1.host.data};
		sb_buf_reset(&j1);
		sb_json_event(&j1, &c3, again);
		sb_event_unref(again);
		if (j1.len != j2.len || memcmp(j1.data, j2.data, j1.len))
			abort();
	}
	sb_event_unref(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (!ready) {
		sb_pbdec_init(&d1);
		sb_pbdec_init(&d2);
		sb_buf_init(&pb);
		sb_buf_init(&j1);
		sb_buf_init(&j2);
		ready = 1;
	}
	if (n < 1)
		return 0;
	uint8_t mode = d[0] % 3;
	d++;
	n--;
	if (mode == 0) {
		check(d, n);
	} else if (mode == 1) {
		size_t pos = 0, mlen;
		const unsigned char *m;
		while (sb_pbdec_next(&d1, d, n, 0, &pos, &m, &mlen) == 1)
			check(m, mlen);
	} else {
		struct sb_pb_rd r;
		struct sb_pb_field f;
		sb_pb_rd_init(&r, d, n, 0);
		while (sb_pb_read_field(&r, &f) > 0)
			if (f.num == 1 && f.wt == SB_PB_LEN)
				check(f.p, f.n);
	}
	return 0;
}
