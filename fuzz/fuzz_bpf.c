/* libFuzzer harness for what the agent decodes from BPF programs (make
 * fuzz-bpf): bytes a kernel-side program wrote, which a program of another
 * version, or a bug there, can get wrong. The first byte picks:
 *   even: ring-buffer records (bpf/proc.bpf.c's exec, exit, fork), each
 *         u16 size (little endian) + bytes, through sb_bpf_decode as
 *         ring.c hands them over;
 *   odd:  the task iterator's output (bpf/taskiter.bpf.c): u16 count of
 *         struct sb_task_rec, those records (a walk), then u8 count of
 *         struct sb_task_same, those, and the rest as records of a second
 *         walk, through
 *         the fold (src/sensors/taskfold.c) as taskiter.c feeds it.
 * Besides what ASan/UBSan catch, it checks: a refused record leaves
 * nothing to publish, a decoded one makes an event that encodes, and a
 * finished fold is sorted by pid and finds each of its processes.
 * Seeds: synthetic records of every type (SB_FUZZ_SEEDS). */
#include <errno.h>
#include <stdbool.h>

#define FUZZ_SEEDS bpf_seeds
#define FUZZ_INIT bpf_init
#include "fuzz.h"

#include "../src/sensors/bpf/bpf_sensor.h"
#include "sb_json.h"
#include "sb_taskiter.h"

static struct sb_evb b;
static struct sb_taskfold fold;

static void bpf_init(void)
{
	sb_evb_init(&b);
	memset(&fold, 0, sizeof(fold));
}

static void records(const uint8_t *d, size_t n)
{
	size_t pos = 0;
	while (pos + 2 <= n) {
		size_t len = d[pos] | (size_t)d[pos + 1] << 8;
		pos += 2;
		if (len > n - pos)
			len = n - pos;
		/* the ring buffer's record, in memory of its own size */
		uint8_t *rec = malloc(len ? len : 1);
		if (!rec)
			abort();
		memcpy(rec, d + pos, len);
		pos += len;
		sb_evb_begin(&b, "bpf", "probe");
		size_t before = sb_evb_nsamples(&b);
		int r = sb_bpf_decode(&b, rec, len, 1000000000000LL);
		free(rec);
		if (r) {
			if (r != -EINVAL || sb_evb_nsamples(&b) != before)
				abort();
			continue;
		}
		struct sb_event *ev = sb_evb_finish(&b);
		if (!ev)
			abort();
		fuzz_event_ok(ev, false);
		sb_event_unref(ev);
	}
}

static void check_fold(void)
{
	for (size_t i = 0; i < fold.n; i++) {
		const struct sb_task *t = &fold.tasks[i];
		if (i && fold.tasks[i - 1].pid > t->pid)
			abort();
		const struct sb_task *f = sb_taskfold_find(&fold, t->pid);
		if (!f || f->pid != t->pid || !memchr(f->comm, 0, sizeof(f->comm)))
			abort();
	}
}

static void walks(const uint8_t *d, size_t n)
{
	if (n < 2)
		return;
	size_t count = d[0] | (size_t)d[1] << 8, rs = sizeof(struct sb_task_rec);
	d += 2;
	n -= 2;
	if (count > n / rs)
		count = n / rs;
	/* records come in memory aligned for them (a copy of the map) */
	void *buf = malloc(n + 1);
	if (!buf)
		abort();
	memcpy(buf, d, n);
	sb_taskfold_reset(&fold);
	if (sb_taskfold_add(&fold, buf, count * rs))
		abort();
	sb_taskfold_finish(&fold);
	check_fold();

	/* the second walk: processes unchanged since the first, then records */
	size_t off = count * rs, ss = sizeof(struct sb_task_same);
	size_t nsame = off < n ? d[off++] : 0;
	if (nsame > (n - off) / ss)
		nsame = (n - off) / ss;
	struct sb_task_same *same = malloc(nsame * ss + 1);
	if (!same)
		abort();
	memcpy(same, d + off, nsame * ss);
	off += nsame * ss;
	size_t nrec = (n - off) / rs;
	memmove(buf, d + off, nrec * rs);
	sb_taskfold_reset(&fold);
	if (sb_taskfold_add_same(&fold, same, nsame) || sb_taskfold_add(&fold, buf, nrec * rs))
		abort();
	sb_taskfold_finish(&fold);
	check_fold();
	free(same);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n < 1)
		return 0;
	if (d[0] & 1)
		walks(d + 1, n - 1);
	else
		records(d + 1, n - 1);
	return 0;
}

/* ---- seeds: one record of each type, a walk of a process and its thread ---- */

static void put_rec(uint8_t *o, size_t *pos, const void *rec, size_t len)
{
	o[(*pos)++] = (uint8_t)len;
	o[(*pos)++] = (uint8_t)(len >> 8);
	memcpy(o + *pos, rec, len);
	*pos += len;
}

static void bpf_seeds(void)
{
	static uint8_t o[8192];
	size_t pos = 1;
	o[0] = 0;
	struct sb_rec_exec ex;
	memset(&ex, 0, sizeof(ex));
	static const char fn[] = "/usr/bin/algod";
	ex.hdr = (struct sb_rec_hdr){.type = SB_REC_EXEC,
				     .size = (__u16)(SB_REC_EXEC_FIXED + sizeof(fn)),
				     .pid = 4242,
				     .ppid = 1,
				     .ts_ns = 5000};
	ex.uid = 1000;
	ex.filename_len = sizeof(fn);
	memcpy(ex.comm, "algod", 5);
	memcpy(ex.filename, fn, sizeof(fn));
	/* the ring buffer rounds a record up to 8 bytes */
	put_rec(o, &pos, &ex, (SB_REC_EXEC_FIXED + sizeof(fn) + 7) & ~(size_t)7);
	fuzz_seed("exec", 1, o, pos);

	pos = 1;
	struct sb_rec_exit xt;
	memset(&xt, 0, sizeof(xt));
	xt.hdr = (struct sb_rec_hdr){
	    .type = SB_REC_EXIT, .size = sizeof(xt), .pid = 4243, .ppid = 4242, .ts_ns = 9000};
	xt.status = 3 << 8;
	xt.lifetime_ns = 2500000000ull;
	xt.cpu_ns = 1200000;
	memcpy(xt.comm, "0123456789abcdef", 16); /* a full name: no NUL */
	put_rec(o, &pos, &xt, sizeof(xt));
	struct sb_rec_fork fk;
	memset(&fk, 0, sizeof(fk));
	fk.hdr = (struct sb_rec_hdr){
	    .type = SB_REC_FORK, .size = sizeof(fk), .pid = 4244, .ppid = 4242, .ts_ns = 9100};
	memcpy(fk.comm, "algod", 5);
	put_rec(o, &pos, &fk, sizeof(fk));
	fuzz_seed("exit-fork", 1, o, pos);

	/* a walk: a process and a second thread of it; then it again as
	 * unchanged, with a new process */
	struct sb_task_rec r[3];
	memset(r, 0, sizeof(r));
	r[0] = (struct sb_task_rec){.tgid = 100,
				    .tid = 100,
				    .flags = SB_TASK_LEADER,
				    .ppid = 1,
				    .uid = 1000,
				    .state = 1,
				    .start_ns = 1000000,
				    .utime_ns = 3000000,
				    .stime_ns = 1000000,
				    .runtime_ns = 4100000,
				    .min_flt = 10,
				    .rss = {100, 20, 0, 5},
				    .total_vm = 4000,
				    .nofile = 1024,
				    .nr_threads = 2,
				    .open_fds = 7};
	memcpy(r[0].comm, "algod", 5);
	r[1] = r[0];
	r[1].tid = 101;
	r[1].flags = 0;
	r[2] = r[0];
	r[2].tgid = r[2].tid = 200;
	r[2].nr_threads = 1;
	memcpy(r[2].comm, "kworker/0:1", 11);
	struct sb_task_same s = {.pid = 100, .state = 1, .nofile = 1024, .total_vm = 4000};
	uint8_t one = 1, cnt[2] = {2, 0}, nsame = 1;
	fuzz_seed("walk", 6, &one, (size_t)1, cnt, (size_t)2, r, 2 * sizeof(r[0]), &nsame,
		  (size_t)1, &s, sizeof(s), &r[2], sizeof(r[2]));
}
