/* Every codec over the same events, on one core (CPU time of this thread):
 * events/s, MB/s and bytes per event, each framed for a stream as the file
 * sink writes it, best of three runs; then, per shape, protobuf's speed-up
 * over JSON and its size as a fraction of JSON's.
 *   codec_bench [-t SECONDS] [NAME=FILE.pb ...]
 * Shapes: the synthetic sensor's default event (10 counter samples, one
 * label each), a node_exporter-like event (gauges and counters with 0-2
 * labels, long names, fractional values), a 31-bucket histogram, and the
 * events of each NAME=FILE: a delimited protobuf stream the agent wrote
 * (`make codec-bench` makes one from a proc round of a fixture tree), read
 * back with the decoder, so they are the agent's own events.
 * Each run encodes for SECONDS of CPU (default 0.3). The build row is what
 * making the synthetic shapes' events costs (the builder's share of the
 * work, paid once per event whatever the number of sinks). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sb_codec.h"
#include "sb_pbevent.h"
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

enum { NEV = 256 };

struct shape {
	const char *name;
	struct sb_event *evs[NEV];
	size_t nev;
};

/* The events of a delimited protobuf stream, at most NEV of them. */
static int load(struct shape *sh, const char *path)
{
	struct sb_buf in;
	struct sb_pbdec d;
	sb_buf_init(&in);
	sb_pbdec_init(&d);
	ssize_t n = sb_read_file(path, &in, 256u << 20);
	int ret = 0;
	if (n < 0) {
		fprintf(stderr, "codec_bench: %s: %s\n", path, strerror((int)-n));
		ret = (int)n;
		goto out;
	}
	size_t pos = 0;
	const unsigned char *m;
	size_t ml;
	int e;
	while (sh->nev < NEV && (e = sb_pbdec_next(&d, in.data, in.len, 0, &pos, &m, &ml)) == 1) {
		struct sb_event *ev;
		if ((e = sb_pbdec_event(&d, m, ml, (size_t)(m - (unsigned char *)in.data), &ev)))
			break;
		sh->evs[sh->nev++] = ev;
	}
	if (e < 0 || !sh->nev) {
		fprintf(stderr, "codec_bench: %s: %s\n", path, e < 0 ? d.err : "no events");
		ret = -EBADMSG;
	}
out:
	sb_pbdec_free(&d);
	sb_buf_free(&in);
	return ret;
}

struct result {
	double evs, mbs, bytes; /* events/s, MB/s, bytes per event */
};

/* Encodes the shape's events round robin for secs of CPU time. */
static struct result run(const struct sb_codec *codec, const struct shape *sh, double secs,
			 struct sb_buf *out)
{
	struct sb_codec_ctx cc = {.run = "5f0c9a7e1b2d4c6f8a0b1c2d3e4f5a6b", .host = "node-7"};
	size_t bytes = 0;
	long events = 0;
	double t0 = now(), dt;
	do {
		for (int k = 0; k < 256; k++, events++) {
			/* a file sink's buffer: flushed at 256 KiB */
			if (out->len > 256 * 1024) {
				bytes += out->len;
				sb_buf_reset(out);
			}
			sb_codec_frame(codec, out, &cc, sh->evs[(size_t)events % sh->nev]);
		}
	} while ((dt = now() - t0) < secs);
	bytes += out->len;
	sb_buf_reset(out);
	return (struct result){(double)events / dt, (double)bytes / dt / 1e6,
			       (double)bytes / (double)events};
}

int main(int argc, char **argv)
{
	double secs = 0.3;
	int a = 1;
	if (a + 1 < argc && !strcmp(argv[a], "-t")) {
		secs = atof(argv[a + 1]);
		a += 2;
	}
	struct {
		const char *name;
		struct sb_event *(*make)(struct sb_evb *, uint64_t);
	} made[] = {{"synthetic", synthetic}, {"node", node}, {"histogram", histogram}};
	size_t nmade = SB_ARRAY_SIZE(made);
	size_t nshapes = nmade + (size_t)(argc - a);
	struct shape *shapes = calloc(nshapes, sizeof(*shapes));
	struct sb_evb b;
	sb_evb_init(&b);
	if (!shapes)
		return 1;
	printf("%-16s %-9s %12s %9s %11s\n", "shape", "codec", "events/s", "MB/s", "bytes/event");
	for (size_t s = 0; s < nmade; s++) {
		shapes[s].name = made[s].name;
		/* the builder: best of three, as for the codecs */
		double best = 0;
		for (int r = 0; r < 3; r++) {
			long n = 0;
			double t0 = now(), dt;
			do {
				for (int k = 0; k < 256; k++, n++)
					sb_event_unref(made[s].make(&b, (uint64_t)n % NEV));
			} while ((dt = now() - t0) < secs);
			if ((double)n / dt > best)
				best = (double)n / dt;
		}
		printf("%-16s %-9s %12.0f\n", made[s].name, "(build)", best);
		for (int i = 0; i < NEV; i++) {
			shapes[s].evs[i] = made[s].make(&b, (uint64_t)i);
			shapes[s].evs[i]->seq = 1000000 + (uint64_t)i;
		}
		shapes[s].nev = NEV;
	}
	for (size_t s = nmade; s < nshapes; s++) {
		char *arg = argv[a + (int)(s - nmade)], *eq = strchr(arg, '=');
		if (!eq) {
			fprintf(stderr, "usage: codec_bench [-t SECONDS] [NAME=FILE.pb ...]\n");
			return 2;
		}
		*eq = 0;
		shapes[s].name = arg;
		if (load(&shapes[s], eq + 1))
			return 1;
	}
	const char *codecs[] = {"json", "protobuf"};
	struct result res[2];
	struct sb_buf out;
	sb_buf_init(&out);
	for (size_t s = 0; s < nshapes; s++) {
		/* the codecs take turns, so a busy moment of the machine does
		 * not fall on one of them only */
		memset(res, 0, sizeof(res));
		for (int r = 0; r < 3; r++)
			for (size_t c = 0; c < 2; c++) {
				struct result x =
				    run(sb_codec_find(codecs[c]), &shapes[s], secs, &out);
				if (x.evs > res[c].evs)
					res[c] = x;
			}
		for (size_t c = 0; c < 2; c++)
			printf("%-16s %-9s %12.0f %9.1f %11.1f\n", shapes[s].name, codecs[c],
			       res[c].evs, res[c].mbs, res[c].bytes);
		/* one line a script can read: shape, speed-up, bytes ratio */
		printf("ratio %s %.2f %.3f\n", shapes[s].name, res[1].evs / res[0].evs,
		       res[1].bytes / res[0].bytes);
		for (size_t i = 0; i < shapes[s].nev; i++)
			sb_event_unref(shapes[s].evs[i]);
	}
	free(shapes);
	sb_buf_free(&out);
	sb_evb_free(&b);
	return 0;
}
