/* Every codec over the same events, on one core (CPU time of this thread):
 * events/s, MB/s and bytes
 * per event, each framed for a stream as the file sink writes it.
 *   codec_bench [EVENTS]
 * Shapes: the synthetic sensor's default event (10 counter samples, one
 * label each), a node_exporter-like event (gauges and counters with 0-3
 * labels, long names, fractional values) and a 30-bucket histogram. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb_codec.h"
#include "sb_util.h"

static struct sb_event *synthetic(struct sb_evb *b, uint64_t n)
{
	char v[24];
	sb_evb_begin(b, "synthetic", "metrics");
	sb_evb_field_uint(b, "n", n + 1);
	for (int i = 0; i < 10; i++) {
		sb_evb_sample(b, "sensorbus_synthetic_value", SB_COUNTER,
			      (double)(n * 10 + (uint64_t)i) + 0.5);
		sb_evb_labeln(b, "l0", 2, v, sb_fmt_i64(v, i));
	}
	return sb_evb_finish(b);
}

static struct sb_event *node(struct sb_evb *b, uint64_t n)
{
	static const char *modes[] = {"idle",	 "iowait", "irq",    "nice",
				      "softirq", "steal",  "system", "user"};
	char cpu[8];
	sb_evb_begin(b, "proc", "metrics");
	sb_evb_sample(b, "node_load1", SB_GAUGE, 0.21);
	sb_evb_sample(b, "node_memory_MemAvailable_bytes", SB_GAUGE, 3712503808.0 + (double)n);
	for (int c = 0; c < 2; c++)
		for (int m = 0; m < 8; m++) {
			sb_evb_sample(b, "node_cpu_seconds_total", SB_COUNTER,
				      3018.54 + (double)(n % 1000) * 0.01 + m);
			snprintf(cpu, sizeof(cpu), "%d", c);
			sb_evb_label(b, "cpu", cpu);
			sb_evb_label(b, "mode", modes[m]);
		}
	sb_evb_sample(b, "node_network_receive_bytes_total", SB_COUNTER, 123456789.0 + (double)n);
	sb_evb_label(b, "device", "eth0");
	sb_evb_sample(b, "node_disk_read_bytes_total", SB_COUNTER, 98765432.0);
	sb_evb_label(b, "device", "vda");
	return sb_evb_finish(b);
}

static struct sb_event *histogram(struct sb_evb *b, uint64_t n)
{
	sb_evb_begin(b, "bpf", "metrics");
	sb_evb_sample(b, "sensorbus_sched_runqueue_latency_seconds", SB_HISTOGRAM, 0);
	uint64_t cum = 0;
	for (int i = 0; i < 30; i++) {
		cum += (uint64_t)(1000 >> (i / 3)) + n % 7;
		sb_evb_bucket(b, (double)(1ull << i) * 1e-6, (double)cum);
	}
	sb_evb_bucket(b, 1.0 / 0.0, (double)cum);
	sb_evb_sumcount(b, 12.345678, (double)cum);
	return sb_evb_finish(b);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* other work on the core does not count */
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long events = argc > 1 ? atol(argv[1]) : 200000;
	struct {
		const char *name;
		struct sb_event *(*make)(struct sb_evb *, uint64_t);
	} shapes[] = {{"synthetic", synthetic}, {"node", node}, {"histogram", histogram}};
	const char *codecs[] = {"json", "protobuf"};
	struct sb_evb b;
	sb_evb_init(&b);
	enum { NEV = 256 };
	struct sb_event *evs[NEV];
	struct sb_buf out;
	sb_buf_init(&out);
	printf("%-10s %-9s %12s %9s %11s\n", "shape", "codec", "events/s", "MB/s", "bytes/event");
	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		for (int i = 0; i < NEV; i++) {
			evs[i] = shapes[s].make(&b, (uint64_t)i);
			evs[i]->seq = 1000000 + (uint64_t)i;
		}
		for (size_t c = 0; c < 2; c++) {
			const struct sb_codec *codec = sb_codec_find(codecs[c]);
			struct sb_codec_ctx cc = {.run = "5f0c9a7e1b2d4c6f8a0b1c2d3e4f5a6b",
						  .host = "node-7"};
			size_t bytes = 0;
			double t0 = now();
			for (long k = 0; k < events; k++) {
				/* a file sink's buffer: flushed at 256 KiB */
				if (out.len > 256 * 1024) {
					bytes += out.len;
					sb_buf_reset(&out);
				}
				sb_codec_frame(codec, &out, &cc, evs[k % NEV]);
			}
			bytes += out.len;
			sb_buf_reset(&out);
			double dt = now() - t0;
			printf("%-10s %-9s %12.0f %9.1f %11.1f\n", shapes[s].name, codecs[c],
			       (double)events / dt, (double)bytes / dt / 1e6,
			       (double)bytes / (double)events);
		}
		for (int i = 0; i < NEV; i++)
			sb_event_unref(evs[i]);
	}
	sb_buf_free(&out);
	sb_evb_free(&b);
	return 0;
}
