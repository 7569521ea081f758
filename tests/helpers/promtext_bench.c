/* Parses a Prometheus text file with the agent's parser, for benchmarks
 * and cross-checks: prints the sample count, bad lines and MB/s over
 * `rounds` parses (the builder and parser reused, as in the agent).
 *   promtext_bench FILE [ROUNDS] [--dump]
 * --dump prints the event as JSON lines instead (one parse). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/expfmt/promtext.h"
#include "sb_json.h"
#include "sb_util.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE [ROUNDS] [--dump]\n", argv[0]);
		return 2;
	}
	struct sb_buf body;
	sb_buf_init(&body);
	ssize_t n = sb_read_file(argv[1], &body, 1u << 30);
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror((int)-n));
		return 1;
	}
	long rounds = argc > 2 && strcmp(argv[2], "--dump") ? atol(argv[2]) : 1;
	int dump = argc > 2 && !strcmp(argv[argc - 1], "--dump");
	const struct sb_prom_limits lim = {1u << 30, 1u << 20, 1024, 100000000};
	struct sb_prom_parser p;
	struct sb_evb b;
	sb_prom_init(&p);
	sb_evb_init(&b);
	int64_t t0 = sb_now_mono_ns();
	size_t nsamples = 0;
	for (long r = 0; r < rounds; r++) {
		sb_evb_begin(&b, "bench", "metrics");
		if (sb_prom_parse(&p, &b, &lim, body.data, body.len)) {
			fprintf(stderr, "fatal: %s\n", p.fatal_reason);
			return 1;
		}
		nsamples = sb_evb_nsamples(&b);
	}
	double secs = (double)(sb_now_mono_ns() - t0) / 1e9;
	if (dump) {
		struct sb_event *ev = sb_evb_finish(&b);
		struct sb_codec_ctx ctx = {.run = "0", .host = "bench"};
		struct sb_buf out;
		sb_buf_init(&out);
		sb_json_event(&out, &ctx, ev);
		fwrite(out.data, 1, out.len, stdout);
		sb_buf_free(&out);
		sb_event_unref(ev);
	} else {
		printf("%zu bytes, %llu lines, %llu sample lines, %zu samples, %llu bad; "
		       "%ld rounds in %.3fs: %.1f MB/s\n",
		       body.len, (unsigned long long)p.lines, (unsigned long long)p.samples,
		       nsamples, (unsigned long long)p.bad_lines, rounds, secs,
		       (double)body.len * (double)rounds / secs / 1e6);
	}
	if (p.bad_lines)
		fprintf(stderr, "first bad line %llu: %s\n", (unsigned long long)p.first_bad,
			p.first_bad_reason);
	sb_prom_free(&p);
	sb_evb_free(&b);
	sb_buf_free(&body);
	return 0;
}
