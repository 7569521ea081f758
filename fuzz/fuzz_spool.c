/* libFuzzer harness for the spool's readers (make fuzz-spool): what the
 * agent decodes from its own disk after a crash or a bad block, or from a
 * directory someone else wrote. The input is a spool directory: files
 *   u8 id | u16 len (little endian) | len bytes
 * one after the other, id 0 the cursor log, id k (1-3) the segment file
 * seg-<k>.sbs; a length past the input's end takes what is left. They are
 * written to a private directory (on tmpfs) and then
 *   1. sb_spool_scan (the offline inspection of `sensorbus spool verify`),
 *   2. sb_spool_open (recovery) and every record read with a reader, each
 *      payload through the delivery record decoder (sb_rec_parse, the
 *      replay after a restart), every record confirmed, closed,
 *   3. sb_spool_open again.
 * Besides what ASan/UBSan catch, it checks the spool's promises: the
 * offline scan and recovery count the same pending records, the reader
 * hands out exactly those (none lost: nothing changed the files since),
 * and once all are confirmed a reopened spool has none pending.
 * Seeds: spools written by the spool's own writer with records framed by
 * the delivery layer (SB_FUZZ_SEEDS). */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>

#define FUZZ_SEEDS spool_seeds
#define FUZZ_INIT spool_init
#include "fuzz.h"

#include "../src/delivery/record.h"
#include "../src/spool/spool.h"
#include "sb_codec.h"
#include "sb_json.h"

static char root[64], dir[96];

static void empty_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

static void cleanup(void)
{
	empty_dir(dir);
	rmdir(dir);
	rmdir(root);
}

static void spool_init(void)
{
	snprintf(root, sizeof(root), "/dev/shm/sb-fuzz-spool.XXXXXX");
	if (!mkdtemp(root)) {
		snprintf(root, sizeof(root), "/tmp/sb-fuzz-spool.XXXXXX");
		if (!mkdtemp(root))
			abort();
	}
	snprintf(dir, sizeof(dir), "%s/spool", root);
	atexit(cleanup);
}

static void write_file(const char *name, const uint8_t *p, size_t n)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n))
		abort();
	close(fd);
}

static void count_pending(void *arg, uint64_t segno, uint64_t off, const void *p, uint32_t len,
			  bool pending)
{
	(void)segno;
	(void)off;
	struct sb_dmsg m;
	memset(&m, 0, sizeof(m));
	sb_rec_parse(p, len, &m);
	*(uint64_t *)arg += pending;
}

static void check_record(const void *p, uint32_t len)
{
	struct sb_dmsg m;
	memset(&m, 0, sizeof(m));
	if (sb_rec_parse(p, len, &m))
		return;
	const char *end = (const char *)p + len;
	if (!m.codec || (m.len && ((const char *)m.body < (const char *)p ||
				   (const char *)m.body + m.len > end)))
		abort();
	char id[128];
	if (sb_dmsg_id(&m, id, sizeof(id)) >= sizeof(id))
		abort();
}

static int open_spool(struct sb_spool **sp, struct sb_spool_recovery *rec)
{
	struct sb_spool_opts o = {
	    .dir = dir, .name = "fuzz", .segment_bytes = 4096, .full = SB_SPOOL_BLOCK};
	return sb_spool_open(&o, sp, rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	empty_dir(dir);
	if (mkdir(dir, 0750) && errno != EEXIST)
		abort();
	size_t pos = 0;
	while (pos + 3 <= n) {
		uint8_t id = d[pos] % 4;
		size_t len = d[pos + 1] | (size_t)d[pos + 2] << 8;
		pos += 3;
		if (len > n - pos)
			len = n - pos;
		char name[40];
		if (id == 0)
			snprintf(name, sizeof(name), "cursor");
		else
			snprintf(name, sizeof(name), "seg-%020u.sbs", id);
		write_file(name, d + pos, len);
		pos += len;
	}

	struct sb_spool_recovery scan;
	uint64_t scanned = 0;
	int rs = sb_spool_scan(dir, &scan, count_pending, &scanned);
	if (!rs && scanned != scan.records)
		abort();

	struct sb_spool *sp = NULL;
	struct sb_spool_recovery rec;
	if (open_spool(&sp, &rec))
		return 0;
	if (!rs && rec.records != scan.records)
		abort();
	struct sb_spool_reader rd;
	sb_spool_reader_init(&rd, 0, UINT64_MAX);
	struct sb_spool_rec out[16];
	uint64_t got = 0;
	for (int turn = 0; turn < 10000; turn++) {
		size_t k = 0;
		uint64_t lost = 0;
		if (sb_spool_read(sp, &rd, out, 16, 1 << 16, &k, &lost))
			break;
		if (lost)
			abort();
		if (!k)
			break;
		for (size_t i = 0; i < k; i++) {
			if (out[i].boff + out[i].len > rd.buf.len)
				abort();
			check_record(rd.buf.data + out[i].boff, out[i].len);
		}
		got += k;
		/* confirmed segment by segment, as a sender does */
		size_t first = 0;
		for (size_t i = 1; i <= k; i++)
			if (i == k || out[i].segno != out[first].segno) {
				sb_spool_confirm(sp, out[first].segno, out[i - 1].end, i - first);
				first = i;
			}
	}
	if (got != rec.records)
		abort();
	sb_spool_reader_free(&rd);
	sb_spool_close(sp);

	sp = NULL;
	if (!open_spool(&sp, &rec)) {
		if (rec.records)
			abort();
		sb_spool_close(sp);
	}
	return 0;
}

/* ---- seeds: spools written by the project's own code ---- */

struct blob {
	uint8_t *p;
	size_t n;
};

static void blob_add(struct blob *bl, uint8_t id, const void *p, size_t n)
{
	bl->p = realloc(bl->p, bl->n + 3 + n);
	if (!bl->p)
		abort();
	bl->p[bl->n] = id;
	bl->p[bl->n + 1] = (uint8_t)n;
	bl->p[bl->n + 2] = (uint8_t)(n >> 8);
	memcpy(bl->p + bl->n + 3, p, n);
	bl->n += 3 + n;
}

/* The files of dir, packed; cut: bytes taken off the last segment's end
 * (a torn tail), flip: an offset in it to corrupt (0: none). */
static void pack(const char *name, size_t cut, size_t flip)
{
	struct blob bl = {0};
	size_t n;
	char path[160];
	snprintf(path, sizeof(path), "%s/cursor", dir);
	char *c = fuzz_slurp(path, &n);
	if (c && n)
		blob_add(&bl, 0, c, n);
	free(c);
	for (unsigned k = 1; k <= 3; k++) {
		snprintf(path, sizeof(path), "%s/seg-%020u.sbs", dir, k);
		char *s = fuzz_slurp(path, &n);
		if (!s)
			continue;
		snprintf(path, sizeof(path), "%s/seg-%020u.sbs", dir, k + 1);
		bool last = access(path, F_OK) != 0;
		if (last && cut < n)
			n -= cut;
		if (last && flip && flip < n)
			s[flip] ^= 0x5a;
		blob_add(&bl, (uint8_t)k, s, n > 0xffff ? 0xffff : n);
		free(s);
	}
	fuzz_seed(name, 1, bl.p, bl.n);
	free(bl.p);
}

static void spool_write(unsigned nrec, const char *codec, unsigned confirm)
{
	struct sb_spool *sp;
	struct sb_spool_recovery rec;
	empty_dir(dir);
	mkdir(dir, 0750);
	if (open_spool(&sp, &rec))
		abort();
	const struct sb_codec *c = sb_codec_find(codec);
	if (!c)
		abort();
	struct sb_evb b;
	struct sb_buf body;
	sb_evb_init(&b);
	sb_buf_init(&body);
	struct sb_spool_batch batch;
	sb_spool_batch_init(&batch);
	struct sb_codec_ctx ctx = {.run = "r1", .host = "host-a"};
	for (unsigned i = 0; i < nrec; i++) {
		sb_evb_begin(&b, "proc", "metrics");
		sb_evb_time(&b, 1700000000000000000LL + i);
		sb_evb_sample(&b, "node_load1", SB_GAUGE, 0.5 * i);
		sb_evb_label(&b, "cpu", "0");
		struct sb_event *ev = sb_evb_finish(&b);
		ev->seq = i + 1;
		sb_buf_reset(&body);
		c->encode(&body, &ctx, ev);
		struct sb_rec_head h;
		sb_rec_head(&h, c, ev, ctx.run, ctx.host, body.data, body.len);
		sb_spool_batch_reset(&batch);
		sb_spool_batch_add(&batch, h.iov, 6);
		struct sb_spool_wres w;
		sb_spool_write(sp, &batch, &w);
		if (w.err)
			abort();
		sb_event_unref(ev);
	}
	struct sb_spool_reader rd;
	sb_spool_reader_init(&rd, 0, UINT64_MAX);
	struct sb_spool_rec out[64];
	size_t k = 0;
	uint64_t lost;
	sb_spool_seal(sp);
	if (confirm && !sb_spool_read(sp, &rd, out, confirm, 1 << 20, &k, &lost) && k)
		sb_spool_confirm(sp, out[k - 1].segno, out[k - 1].end, k);
	sb_spool_reader_free(&rd);
	sb_spool_close(sp);
	sb_spool_batch_free(&batch);
	sb_buf_free(&body);
	sb_evb_free(&b);
}

static void spool_seeds(void)
{
	spool_init();
	spool_write(3, "json", 0);
	pack("one-segment", 0, 0);
	spool_write(40, "json", 5);
	pack("segments-cursor", 0, 0);
	pack("torn-tail", 7, 0);
	pack("corrupt-record", 0, 200);
	spool_write(30, "protobuf", 2);
	pack("protobuf", 0, 0);
}
