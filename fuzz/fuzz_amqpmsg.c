/* libFuzzer harness for the amqp sensor's message decoder (make fuzz):
 * the bodies a fleet's consumer takes from a broker, written by other
 * machines. The first byte picks the content type the message claims:
 * one JSON event, JSON lines, one protobuf Event or an EventBatch.
 *
 * Besides what ASan/UBSan catch, it checks the decoder's promises: a
 * message decodes whole or not at all (no event handed on with an error,
 * and the error says why), and every event it hands on is one the JSON
 * codec writes and reads back to a fixed point, as the consumer's sinks
 * will write it. */
#include <dirent.h>
#include <stdbool.h>

#define FUZZ_SEEDS amqpmsg_seeds
#include "fuzz.h"

#include "../src/sensors/amqp_consumer.h"
#include "sb_event.h"
#include "sb_json.h"
#include "sb_pbevent.h"

static const struct {
	const char *content_type, *type;
} kinds[] = {
    {"application/json", NULL},
    {"application/x-ndjson", NULL},
    {"application/x-protobuf", "sensorbus.v1.Event"},
    {"application/x-protobuf", "sensorbus.v1.EventBatch"},
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static struct sb_msgdec dec;
static struct sb_evb evb;
static struct sb_buf j1, j2;
static size_t handed;
static int ready;

static void setup(void)
{
	if (ready)
		return;
	sb_msgdec_init(&dec);
	sb_evb_init(&evb);
	sb_buf_init(&j1);
	sb_buf_init(&j2);
	ready = 1;
}

/* Written as JSON, read back and written again: from the second trip on
 * the line must not change. */
static void json_trip(struct sb_buf *out, const char *p, size_t n)
{
	struct sb_event *ev = NULL;
	char err[256];
	if (sb_json_decode_event(&evb, p, n, &ev, err, sizeof(err)) || !ev) {
		fprintf(stderr,
			"fuzz_amqpmsg: the JSON codec's own line does not read back: %s\n%.*s\n",
			err, (int)n, p);
		abort();
	}
	struct sb_codec_ctx c = {.run = "fuzz-run", .host = "fuzz-host"};
	sb_buf_reset(out);
	sb_json_event(out, &c, ev);
	sb_event_unref(ev);
	if (out->err)
		abort();
}

static void take(void *arg, struct sb_event *ev)
{
	(void)arg;
	handed++;
	struct sb_codec_ctx c = {.run = "fuzz-run", .host = "fuzz-host"};
	sb_buf_reset(&j1);
	sb_json_event(&j1, &c, ev);
	sb_event_unref(ev);
	if (j1.err)
		abort();
	struct sb_buf once;
	sb_buf_init(&once);
	json_trip(&once, (const char *)j1.data, j1.len);
	json_trip(&j2, (const char *)once.data, once.len);
	if (once.len != j2.len || memcmp(once.data, j2.data, j2.len)) {
		fprintf(stderr, "fuzz_amqpmsg: no fixed point:\n%.*s\n%.*s\n", (int)once.len,
			(const char *)once.data, (int)j2.len, (const char *)j2.data);
		abort();
	}
	sb_buf_free(&once);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	setup();
	if (n < 1)
		return 0;
	unsigned k = d[0] % NKINDS;
	handed = 0;
	int r =
	    sb_msgdec_decode(&dec, kinds[k].content_type, kinds[k].type, d + 1, n - 1, take, NULL);
	if (r && (handed || !dec.err[0]))
		abort();
	if (!r && !handed)
		abort();
	return 0;
}

/* Seeds: the protobuf decoder's corpus (its first byte: 0 one Event, 2 an
 * EventBatch) as protobuf messages, and each single Event also as a JSON
 * message and as JSON lines, written by the project's JSON codec. */
static void seed_from(const char *name, const uint8_t *p, size_t n)
{
	char sname[512];
	uint8_t sel;
	if (n < 2)
		return;
	if (p[0] % 3 == 2) {
		sel = 3;
		snprintf(sname, sizeof(sname), "batch-%s", name);
		fuzz_seed(sname, 2, &sel, (size_t)1, p + 1, n - 1);
		return;
	}
	if (p[0] % 3 != 0)
		return;
	sel = 2;
	snprintf(sname, sizeof(sname), "event-%s", name);
	fuzz_seed(sname, 2, &sel, (size_t)1, p + 1, n - 1);
	struct sb_pbdec pd;
	sb_pbdec_init(&pd);
	struct sb_event *ev = NULL;
	if (!sb_pbdec_event(&pd, p + 1, n - 1, 0, &ev)) {
		struct sb_codec_ctx c = {.run = pd.run.data, .host = pd.host.data};
		sb_buf_reset(&j1);
		sb_json_event(&j1, &c, ev);
		sb_event_unref(ev);
		sel = 0;
		snprintf(sname, sizeof(sname), "json-%s", name);
		fuzz_seed(sname, 2, &sel, (size_t)1, j1.data, j1.len);
		sel = 1;
		snprintf(sname, sizeof(sname), "ndjson-%s", name);
		fuzz_seed(sname, 3, &sel, (size_t)1, j1.data, j1.len, j1.data, j1.len);
	}
	sb_pbdec_free(&pd);
}

static void amqpmsg_seeds(void)
{
	setup();
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/fuzz/corpus-pbevent", fuzz_root());
	DIR *dh = opendir(dir);
	if (!dh) {
		perror(dir);
		exit(1);
	}
	struct dirent *de;
	while ((de = readdir(dh))) {
		if (de->d_name[0] == '.')
			continue;
		char path[8192];
		size_t n;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		char *p = fuzz_slurp(path, &n);
		if (p)
			seed_from(de->d_name, (const uint8_t *)p, n);
		free(p);
	}
	closedir(dh);
}
