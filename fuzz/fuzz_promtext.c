/* libFuzzer harness for the Prometheus text parser (make fuzz).
 *
 * Besides what ASan/UBSan catch, it checks the parser's own promises:
 * the same bytes give the same event whether fed at once or in two chunks
 * split anywhere (streaming), counts add up, and the event always builds
 * and encodes. The first byte picks the split point and small limits, so
 * the limit paths get fuzzed too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../src/expfmt/promtext.h"
#include "sb_json.h"

static struct sb_prom_parser p;
static struct sb_evb b;
static struct sb_buf out1, out2;
static int ready;

static int run(const uint8_t *d, size_t n, size_t split, const struct sb_prom_limits *lim,
	       struct sb_buf *out, uint64_t *bad, uint64_t *samples)
{
	sb_evb_begin(&b, "fuzz", "metrics");
	sb_evb_time(&b, 0);
	sb_prom_begin(&p, &b, lim);
	sb_prom_feed(&p, (const char *)d, split);
	sb_prom_feed(&p, (const char *)d + split, n - split);
	int rc = sb_prom_finish(&p);
	if (p.samples > p.lines || p.bad_lines > p.lines)
		abort();
	*bad = p.bad_lines;
	*samples = p.samples;
	struct sb_event *ev = sb_evb_finish(&b);
	if (!ev)
		abort();
	struct sb_codec_ctx ctx = {.run = "0", .host = "h"};
	sb_buf_reset(out);
	sb_json_event(out, &ctx, ev);
	sb_event_unref(ev);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (!ready) {
		sb_prom_init(&p);
		sb_evb_init(&b);
		sb_buf_init(&out1);
		sb_buf_init(&out2);
		ready = 1;
	}
	if (n < 1)
		return 0;
	uint8_t ctl = d[0];
	d++;
	n--;
	struct sb_prom_limits lim = {1 << 20, 1 << 16, 64, 100000};
	if (ctl & 0x80) {
		lim.line_length = 16 + (ctl & 0x3f);
		lim.labels = 1 + (ctl & 3);
		lim.samples = 1 + (ctl & 7);
		lim.body_size = 64 + (ctl & 0x3f) * 8;
	}
	size_t split = n ? (size_t)ctl * 31 % (n + 1) : 0;
	uint64_t bad1, bad2, s1, s2;
	int rc1 = run(d, n, n, &lim, &out1, &bad1, &s1);
	int rc2 = run(d, n, split, &lim, &out2, &bad2, &s2);
	if (rc1 != rc2)
		abort();
	if (!rc1 && (bad1 != bad2 || s1 != s2 || out1.len != out2.len ||
		     memcmp(out1.data, out2.data, out1.len)))
		abort();
	return 0;
}
