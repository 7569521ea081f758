/* Ring-buffer records from bpf/proc.bpf.c become exec, exit and fork events
 * with DESIGN.md's fields; anything malformed is refused, never published. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/sensors/bpf/bpf_sensor.h"

#define OFFSET 1000000000000LL /* mono -> real */

static struct sb_evb b;

static int setup(void **state)
{
	(void)state;
	sb_evb_init(&b);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sb_evb_free(&b);
	return 0;
}

static void hdr(struct sb_rec_hdr *h, uint16_t type, size_t size, uint32_t pid, uint32_t ppid)
{
	h->type = type;
	h->size = (uint16_t)size;
	h->pid = pid;
	h->ppid = ppid;
	h->ts_ns = 5000;
}

static struct sb_event *decode(const void *rec, size_t size)
{
	assert_int_equal(sb_bpf_decode(&b, rec, size, OFFSET), 0);
	struct sb_event *ev = sb_evb_finish(&b);
	assert_non_null(ev);
	return ev;
}

static int64_t fint(const struct sb_event *ev, const char *key)
{
	const struct sb_field *f = sb_event_field(ev, key);
	assert_non_null(f);
	assert_int_equal(f->type, SB_F_INT);
	return f->v.i;
}

static double fdouble(const struct sb_event *ev, const char *key)
{
	const struct sb_field *f = sb_event_field(ev, key);
	assert_non_null(f);
	assert_int_equal(f->type, SB_F_DOUBLE);
	return f->v.d;
}

static void assert_fstr(const struct sb_event *ev, const char *key, const char *want)
{
	const struct sb_field *f = sb_event_field(ev, key);
	assert_non_null(f);
	assert_int_equal(f->type, SB_F_STR);
	assert_int_equal(f->len, strlen(want));
	assert_memory_equal(f->v.s, want, f->len);
}

static size_t exec_rec(struct sb_rec_exec *e, const char *comm, const char *filename)
{
	memset(e, 0, sizeof(*e));
	size_t len = strlen(filename) + 1;
	hdr(&e->hdr, SB_REC_EXEC, SB_REC_EXEC_FIXED + len, 4242, 1);
	e->uid = 1000;
	e->filename_len = (uint32_t)len;
	memcpy(e->comm, comm, strnlen(comm, SB_COMM_LEN));
	memcpy(e->filename, filename, len);
	return SB_REC_EXEC_FIXED + len;
}

static void test_exec_record_becomes_exec_event_with_design_fields(void **state)
{
	(void)state;
	struct sb_rec_exec e;
	size_t n = exec_rec(&e, "true", "/usr/bin/true");
	struct sb_event *ev = decode(&e, n);
	assert_string_equal(ev->source, "bpf");
	assert_string_equal(ev->kind, "exec");
	assert_int_equal(ev->time_ns, 5000 + OFFSET);
	assert_int_equal(fint(ev, "pid"), 4242);
	assert_int_equal(fint(ev, "ppid"), 1);
	const struct sb_field *uid = sb_event_field(ev, "uid");
	assert_non_null(uid);
	assert_int_equal(uid->v.u, 1000);
	assert_fstr(ev, "comm", "true");
	assert_fstr(ev, "filename", "/usr/bin/true");
	assert_int_equal(ev->nsamples, 0);
	sb_event_unref(ev);
}

static void test_exec_record_sent_only_as_long_as_its_filename_decodes(void **state)
{
	(void)state;
	struct sb_rec_exec e;
	size_t n = exec_rec(&e, "sh", "/bin/sh");
	/* what the ring buffer hands over: the used part, rounded up to 8 */
	char wire[SB_REC_EXEC_FIXED + 16];
	memset(wire, 0xaa, sizeof(wire));
	memcpy(wire, &e, n);
	struct sb_event *ev = decode(wire, (n + 7) & ~(size_t)7);
	assert_fstr(ev, "filename", "/bin/sh");
	sb_event_unref(ev);
}

static void test_full_length_comm_without_nul_keeps_sixteen_bytes(void **state)
{
	(void)state;
	struct sb_rec_exec e;
	size_t n = exec_rec(&e, "0123456789abcdef", "/x");
	struct sb_event *ev = decode(&e, n);
	assert_fstr(ev, "comm", "0123456789abcdef");
	sb_event_unref(ev);
}

static void test_exec_filename_longer_than_its_record_is_refused(void **state)
{
	(void)state;
	struct sb_rec_exec e;
	size_t n = exec_rec(&e, "a", "/usr/bin/a");
	e.filename_len = 200; /* claims more than the record holds */
	assert_int_equal(sb_bpf_decode(&b, &e, n, 0), -EINVAL);
	e.filename_len = SB_FILENAME_MAX + 1;
	assert_int_equal(sb_bpf_decode(&b, &e, sizeof(e), 0), -EINVAL);
}

/* Found by fuzz_bpf (tests/fuzz-regress/bpf/ts-overflow): a stamp past
 * INT64_MAX once the offset to real time is added overflowed the event's
 * time; such a record is garbage, refused like any other. */
static void test_record_stamped_past_any_clock_is_refused(void **state)
{
	(void)state;
	struct sb_rec_fork e;
	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, SB_REC_FORK, sizeof(e), 501, 500);
	e.hdr.ts_ns = INT64_MAX - 5;
	assert_int_equal(sb_bpf_decode(&b, &e, sizeof(e), OFFSET), -EINVAL);
	e.hdr.ts_ns = UINT64_MAX;
	assert_int_equal(sb_bpf_decode(&b, &e, sizeof(e), 0), -EINVAL);
	/* the largest stamp that still fits is an event */
	e.hdr.ts_ns = INT64_MAX - OFFSET;
	struct sb_event *ev = decode(&e, sizeof(e));
	sb_event_unref(ev);
}

static struct sb_event *exit_event(uint32_t status)
{
	struct sb_rec_exit e;
	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, SB_REC_EXIT, sizeof(e), 77, 70);
	e.status = status;
	e.lifetime_ns = 1500000000ULL;
	e.cpu_ns = 250000000ULL;
	memcpy(e.comm, "sleep", 5);
	return decode(&e, sizeof(e));
}

static void test_exit_record_becomes_exit_event_with_design_fields(void **state)
{
	(void)state;
	struct sb_event *ev = exit_event(3 << 8);
	assert_string_equal(ev->kind, "exit");
	assert_int_equal(fint(ev, "pid"), 77);
	assert_int_equal(fint(ev, "ppid"), 70);
	assert_fstr(ev, "comm", "sleep");
	assert_int_equal(fint(ev, "exit_code"), 3);
	assert_int_equal(fint(ev, "signal"), 0);
	assert_true(fdouble(ev, "duration_seconds") == 1.5);
	assert_true(fdouble(ev, "cpu_seconds") == 0.25);
	sb_event_unref(ev);
}

static void test_exit_by_signal_reports_the_signal_and_no_exit_code(void **state)
{
	(void)state;
	struct sb_event *ev = exit_event(SIGKILL);
	assert_int_equal(fint(ev, "exit_code"), 0);
	assert_int_equal(fint(ev, "signal"), SIGKILL);
	sb_event_unref(ev);
}

static void test_exit_with_core_dump_still_reports_the_signal(void **state)
{
	(void)state;
	struct sb_event *ev = exit_event(0x80 | SIGSEGV);
	assert_int_equal(fint(ev, "signal"), SIGSEGV);
	assert_int_equal(fint(ev, "exit_code"), 0);
	sb_event_unref(ev);
}

static void test_exit_code_255_is_not_sign_extended(void **state)
{
	(void)state;
	struct sb_event *ev = exit_event(255 << 8);
	assert_int_equal(fint(ev, "exit_code"), 255);
	sb_event_unref(ev);
}

static void test_fork_record_becomes_fork_event(void **state)
{
	(void)state;
	struct sb_rec_fork e;
	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, SB_REC_FORK, sizeof(e), 501, 500);
	memcpy(e.comm, "algod", 5);
	struct sb_event *ev = decode(&e, sizeof(e));
	assert_string_equal(ev->kind, "fork");
	assert_int_equal(fint(ev, "pid"), 501);
	assert_int_equal(fint(ev, "ppid"), 500);
	assert_fstr(ev, "comm", "algod");
	sb_event_unref(ev);
}

static void test_record_shorter_than_a_header_is_refused(void **state)
{
	(void)state;
	char small[8] = {1, 0, 8, 0};
	assert_int_equal(sb_bpf_decode(&b, small, sizeof(small), 0), -EINVAL);
}

static void test_record_claiming_more_than_delivered_is_refused(void **state)
{
	(void)state;
	struct sb_rec_exit e;
	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, SB_REC_EXIT, sizeof(e), 1, 0);
	assert_int_equal(sb_bpf_decode(&b, &e, sizeof(e) - 8, 0), -EINVAL);
}

static void test_record_shorter_than_its_type_is_refused(void **state)
{
	(void)state;
	struct sb_rec_exit e;
	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, SB_REC_EXIT, sizeof(struct sb_rec_hdr), 1, 0);
	assert_int_equal(sb_bpf_decode(&b, &e, sizeof(e), 0), -EINVAL);
	hdr(&e.hdr, SB_REC_FORK, sizeof(struct sb_rec_hdr) + 4, 1, 0);
	assert_int_equal(sb_bpf_decode(&b, &e, sizeof(e), 0), -EINVAL);
	hdr(&e.hdr, SB_REC_EXEC, SB_REC_EXEC_FIXED - 1, 1, 0);
	assert_int_equal(sb_bpf_decode(&b, &e, sizeof(e), 0), -EINVAL);
}

static void test_unknown_record_type_is_refused(void **state)
{
	(void)state;
	struct sb_rec_exit e;
	memset(&e, 0, sizeof(e));
	hdr(&e.hdr, 99, sizeof(e), 1, 0);
	assert_int_equal(sb_bpf_decode(&b, &e, sizeof(e), 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exec_record_becomes_exec_event_with_design_fields),
	    cmocka_unit_test(test_exec_record_sent_only_as_long_as_its_filename_decodes),
	    cmocka_unit_test(test_full_length_comm_without_nul_keeps_sixteen_bytes),
	    cmocka_unit_test(test_exec_filename_longer_than_its_record_is_refused),
	    cmocka_unit_test(test_record_stamped_past_any_clock_is_refused),
	    cmocka_unit_test(test_exit_record_becomes_exit_event_with_design_fields),
	    cmocka_unit_test(test_exit_by_signal_reports_the_signal_and_no_exit_code),
	    cmocka_unit_test(test_exit_with_core_dump_still_reports_the_signal),
	    cmocka_unit_test(test_exit_code_255_is_not_sign_extended),
	    cmocka_unit_test(test_fork_record_becomes_fork_event),
	    cmocka_unit_test(test_record_shorter_than_a_header_is_refused),
	    cmocka_unit_test(test_record_claiming_more_than_delivered_is_refused),
	    cmocka_unit_test(test_record_shorter_than_its_type_is_refused),
	    cmocka_unit_test(test_unknown_record_type_is_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
