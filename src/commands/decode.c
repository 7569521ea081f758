/* `sensorbus decode [--batch] [FILE|-]`: a stream of varint-delimited
 * sensorbus.v1.Event messages (what the file and stdout sinks write with
 * "format": "protobuf") printed as the JSON lines the json format writes
 * for the same events, byte for byte: each message is decoded into an
 * event and given to the JSON writer. --batch: the messages are
 * EventBatch, each holding events.
 *
 * The input is untrusted: a message that does not decode is reported with
 * its byte offset and skipped (the framing says where the next one is); a
 * broken frame ends the run. Exit 0 when everything decoded, 1 if not,
 * 2 on usage errors. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "sb_json.h"
#include "sb_pbevent.h"
#include "sb_pbwire.h"

struct run {
	const char *name;
	struct sb_pbdec d;
	struct sb_buf out;
	struct sb_codec_ctx cc;
	unsigned long long events, bad;
};

static void one_event(struct run *r, const unsigned char *p, size_t n, size_t off)
{
	struct sb_event *ev = NULL;
	if (sb_pbdec_event(&r->d, p, n, off, &ev)) {
		fprintf(stderr, "sensorbus decode: %s: %s; message skipped\n", r->name, r->d.err);
		r->bad++;
		return;
	}
	r->cc.run = r->d.run.data;
	r->cc.host = r->d.host.data;
	sb_json_event(&r->out, &r->cc, ev);
	sb_event_unref(ev);
	r->events++;
}

static void one_batch(struct run *r, const unsigned char *p, size_t n, size_t off)
{
	struct sb_pb_rd rd;
	struct sb_pb_field f;
	int e;
	sb_pb_rd_init(&rd, p, n, off);
	while ((e = sb_pb_read_field(&rd, &f)) > 0)
		if (f.num == 1 && f.wt == SB_PB_LEN)
			one_event(r, f.p, f.n, off + (size_t)(f.p - p));
	if (e < 0) {
		fprintf(stderr, "sensorbus decode: %s: byte %zu: EventBatch: %s; rest skipped\n",
			r->name, f.off, rd.why);
		r->bad++;
	}
}

static int flush_out(struct run *r)
{
	if (r->out.err) {
		fprintf(stderr, "sensorbus decode: out of memory\n");
		return -ENOMEM;
	}
	if (r->out.len && fwrite(r->out.data, 1, r->out.len, stdout) != r->out.len) {
		fprintf(stderr, "sensorbus decode: cannot write: %s\n", strerror(errno));
		return -EIO;
	}
	sb_buf_reset(&r->out);
	return 0;
}

static int decode_fd(struct run *r, int fd, bool batch)
{
	struct sb_buf in;
	sb_buf_init(&in);
	size_t base = 0; /* input offset of in.data[0] */
	size_t pos = 0;
	bool eof = false;
	int ret = 0;
	while (!ret) {
		const unsigned char *m;
		size_t mlen;
		int e = sb_pbdec_next(&r->d, in.data, in.len, base, &pos, &m, &mlen);
		if (e == 1) {
			size_t off = base + (size_t)(m - (const unsigned char *)in.data);
			if (batch)
				one_batch(r, m, mlen, off);
			else
				one_event(r, m, mlen, off);
			if (r->out.len >= 1 << 20)
				ret = flush_out(r);
			continue;
		}
		if (e == -EBADMSG || e == -E2BIG) {
			fprintf(stderr, "sensorbus decode: %s: %s; stopping\n", r->name, r->d.err);
			r->bad++;
			break;
		}
		if (eof) {
			if (e == -EAGAIN) {
				fprintf(stderr,
					"sensorbus decode: %s: byte %zu: the last message is cut "
					"short (%zu bytes)\n",
					r->name, base + pos, in.len - pos);
				r->bad++;
			}
			break;
		}
		/* need more: drop what is done, read on */
		if (in.len > pos)
			memmove(in.data, in.data + pos, in.len - pos);
		in.len -= pos;
		base += pos;
		pos = 0;
		if (sb_buf_reserve(&in, 1 << 20)) {
			fprintf(stderr, "sensorbus decode: out of memory\n");
			ret = -ENOMEM;
			break;
		}
		ssize_t n = read(fd, in.data + in.len, in.cap - in.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "sensorbus decode: %s: %s\n", r->name, strerror(errno));
			ret = -EIO;
			break;
		}
		if (n == 0)
			eof = true;
		in.len += (size_t)n;
	}
	if (!ret)
		ret = flush_out(r);
	if (!ret && fflush(stdout)) {
		fprintf(stderr, "sensorbus decode: cannot write: %s\n", strerror(errno));
		ret = -EIO;
	}
	sb_buf_free(&in);
	return ret;
}

int sb_decode_main(int argc, char **argv)
{
	bool batch = false;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--batch")) {
			batch = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf(
			    "usage: sensorbus decode [--batch] [FILE|-]\n"
			    "Prints varint-delimited sensorbus.v1.Event messages (EventBatch with "
			    "--batch) as JSON lines.\n");
			return 0;
		} else if (!path && (argv[i][0] != '-' || !strcmp(argv[i], "-"))) {
			path = argv[i];
		} else {
			fprintf(stderr, "usage: sensorbus decode [--batch] [FILE|-]\n");
			return 2;
		}
	}
	int fd = STDIN_FILENO;
	if (path && strcmp(path, "-")) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "sensorbus decode: cannot open %s: %s\n", path,
				strerror(errno));
			return 1;
		}
	}
	struct run r = {.name = path && strcmp(path, "-") ? path : "stdin"};
	sb_pbdec_init(&r.d);
	sb_buf_init(&r.out);
	int e = decode_fd(&r, fd, batch);
	if (fd != STDIN_FILENO)
		close(fd);
	sb_pbdec_free(&r.d);
	sb_buf_free(&r.out);
	return e || r.bad ? 1 : 0;
}
