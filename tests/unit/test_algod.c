/* The algod sensor's parts that need no node: participation keys and
 * accounts (parsed and emitted), the time per round on a fake clock, the
 * algod process on a procfs tree written here, and the community
 * emitter's names. The JSON bodies are shaped like algod's REST API v2
 * answers (field names as go-algorand's participation and account
 * models), written by hand. */
#include <math.h>

#include "test_proc.h"

#include "../../src/sensors/algod.h"

#define ADDR_A "ONLINEACCOUNT222222222222222222222222222222222222222222222"
#define ADDR_B "OFFLINEACCOUNT33333333333333333333333333333333333333333333"
#define KEY_A "KEYNEAREXPIRYAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define KEY_B "KEYFARFROMEXPIRYBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

static void quiet(enum sb_log_level l, const char *line, void *arg)
{
	(void)l, (void)line, (void)arg;
}

static void end(struct tp *t)
{
	t->n = (int)sb_evb_nsamples(&t->b);
	tp_end(t);
}

/* ---- participation keys ---- */

static const char two_keys[] =
    "[{\"address\":\"" ADDR_A "\",\"id\":\"" KEY_A "\","
    "\"effective-first-valid\":1000,\"effective-last-valid\":5000,"
    "\"last-vote\":4000,\"last-block-proposal\":3990,\"last-state-proof\":3840,"
    "\"key\":{\"vote-first-valid\":900,\"vote-last-valid\":6000,\"vote-key-dilution\":100,"
    "\"selection-participation-key\":\"c2Vs\",\"vote-participation-key\":\"dm90\"}},"
    "{\"address\":\"" ADDR_B "\",\"id\":\"" KEY_B "\","
    "\"key\":{\"vote-first-valid\":2000,\"vote-last-valid\":9000000,\"vote-key-dilution\":3000}}]";

static void participation_fields_of_two_keys(void **state)
{
	(void)state;
	struct sb_algod_keys k = {0};
	unsigned skipped = 9;
	const char *why = NULL;
	assert_int_equal(
	    sb_algod_parse_participation(two_keys, strlen(two_keys), &k, &skipped, &why), 0);
	assert_int_equal(k.n, 2);
	assert_int_equal(skipped, 0);
	assert_string_equal(k.v[0].address, ADDR_A);
	assert_string_equal(k.v[0].id, KEY_A);
	/* registered: the effective range, not the key's own */
	assert_double_eq(k.v[0].first_valid, 1000);
	assert_double_eq(k.v[0].last_valid, 5000);
	assert_true(k.v[0].have_vote && k.v[0].have_proposal && k.v[0].have_state_proof);
	assert_double_eq(k.v[0].last_vote, 4000);
	assert_double_eq(k.v[0].last_proposal, 3990);
	assert_double_eq(k.v[0].last_state_proof, 3840);
	/* not registered: the key's own range; never voted */
	assert_double_eq(k.v[1].first_valid, 2000);
	assert_double_eq(k.v[1].last_valid, 9000000);
	assert_false(k.v[1].have_vote || k.v[1].have_proposal || k.v[1].have_state_proof);
	sb_algod_keys_free(&k);
}

static void participation_samples_and_rounds_remaining(void **state)
{
	(void)state;
	struct sb_algod_keys k = {0};
	unsigned skipped;
	const char *why;
	assert_int_equal(
	    sb_algod_parse_participation(two_keys, strlen(two_keys), &k, &skipped, &why), 0);
	struct tp t;
	tp_begin(&t);
	sb_algod_emit_keys(&t.b, &k, true, 4001);
	end(&t);
	assert_double_eq(tp_value(&t, "algod_participation_key_rounds_remaining", "address", ADDR_A,
				  "id", KEY_A),
			 999);
	assert_double_eq(tp_value(&t, "algod_participation_key_last_valid_round", "id", KEY_A),
			 5000);
	assert_double_eq(tp_value(&t, "algod_participation_key_first_valid_round", "id", KEY_A),
			 1000);
	assert_double_eq(tp_value(&t, "algod_participation_key_last_vote_round", "id", KEY_A),
			 4000);
	assert_double_eq(tp_value(&t, "algod_participation_key_last_proposal_round", "id", KEY_A),
			 3990);
	assert_double_eq(
	    tp_value(&t, "algod_participation_key_last_state_proof_round", "id", KEY_A), 3840);
	assert_double_eq(tp_value(&t, "algod_participation_key_rounds_remaining", "id", KEY_B),
			 9000000 - 4001);
	/* a key that never voted has no last-vote sample, rather than a 0 */
	tp_absent(&t, "algod_participation_key_last_vote_round", "id", KEY_B);
	assert_int_equal(tp_count(&t, "algod_participation_key_"), 6 + 3);
	tp_free(&t);

	/* without the current round, no rounds remaining */
	tp_begin(&t);
	sb_algod_emit_keys(&t.b, &k, false, 0);
	end(&t);
	assert_int_equal(tp_count(&t, "algod_participation_key_rounds_remaining"), 0);
	assert_int_equal(tp_count(&t, "algod_participation_key_"), 5 + 2);
	tp_free(&t);
	sb_algod_keys_free(&k);
}

static void participation_none_installed_is_null(void **state)
{
	(void)state;
	struct sb_algod_keys k = {0};
	unsigned skipped;
	const char *why;
	assert_int_equal(sb_algod_parse_participation("null", 4, &k, &skipped, &why), 0);
	assert_int_equal(k.n, 0);
	assert_int_equal(sb_algod_parse_participation("[]", 2, &k, &skipped, &why), 0);
	assert_int_equal(k.n, 0);
	sb_algod_keys_free(&k);
}

static void participation_rejects_what_is_not_a_list_of_keys(void **state)
{
	(void)state;
	struct sb_algod_keys k = {0};
	unsigned skipped;
	const char *why = NULL;
	static const char *const bad[] = {"{\"message\":\"Invalid API Token\"}", "<html>", "",
					  "[{\"address\":"};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		why = NULL;
		assert_int_equal(
		    sb_algod_parse_participation(bad[i], strlen(bad[i]), &k, &skipped, &why),
		    -EINVAL);
		assert_non_null(why);
	}
	sb_algod_keys_free(&k);
}

static void participation_skips_keys_unfit_for_a_label_or_url(void **state)
{
	(void)state;
	static const char body[] =
	    "[{\"address\":\"short\",\"id\":\"" KEY_A "\"},"
	    "{\"address\":\"" ADDR_A "\",\"id\":\"a\\\"quote\"},"
	    "{\"address\":\"" ADDR_A "/../x\",\"id\":\"" KEY_A "\"},"
	    "{\"id\":\"" KEY_A "\"}, 7,"
	    "{\"address\":\"" ADDR_B "\",\"id\":\"" KEY_B "\",\"effective-last-valid\":-3,"
	    "\"last-vote\":1e309,\"last-block-proposal\":2.5,\"last-state-proof\":2e19}]";
	struct sb_algod_keys k = {0};
	unsigned skipped;
	const char *why;
	assert_int_equal(sb_algod_parse_participation(body, strlen(body), &k, &skipped, &why), 0);
	assert_int_equal(k.n, 1);
	assert_int_equal(skipped, 5);
	assert_string_equal(k.v[0].address, ADDR_B);
	/* a negative, infinite, fractional or past-uint64 round is no round */
	assert_false(k.v[0].have_last);
	assert_false(k.v[0].have_vote || k.v[0].have_proposal || k.v[0].have_state_proof);
	sb_algod_keys_free(&k);
}

static void address_is_58_base32_characters(void **state)
{
	(void)state;
	assert_true(sb_algod_address_ok(ADDR_A));
	assert_false(sb_algod_address_ok(""));
	assert_false(sb_algod_address_ok(ADDR_A "A"));
	assert_false(
	    sb_algod_address_ok("onlineaccount222222222222222222222222222222222222222222222"));
	assert_false(
	    sb_algod_address_ok("ONLINEACCOUNT22222222222222222222222222222222222222222222?"));
	assert_false(sb_algod_address_ok("ONLINEACCOUNT00000000000000000000000000000000000000000000"
					 "00")); /* 0, 1, 8, 9 are not base32 */
}

/* ---- accounts ---- */

static void account_online_with_its_key(void **state)
{
	(void)state;
	static const char body[] =
	    "{\"address\":\"" ADDR_A "\",\"amount\":1234567890,\"amount-without-pending-rewards\":"
	    "1234567890,\"incentive-eligible\":true,\"min-balance\":100000,\"status\":\"Online\","
	    "\"participation\":{\"vote-first-valid\":1000,\"vote-last-valid\":5000,"
	    "\"vote-key-dilution\":100},\"round\":4001}";
	struct sb_algod_account acc;
	const char *why;
	assert_int_equal(sb_algod_parse_account(body, strlen(body), &acc, &why), 0);
	struct tp t;
	tp_begin(&t);
	sb_algod_emit_account(&t.b, ADDR_A, &acc);
	end(&t);
	assert_double_eq(tp_value(&t, "algod_account_online", "address", ADDR_A), 1);
	assert_double_eq(tp_value(&t, "algod_account_balance_microalgos", "address", ADDR_A),
			 1234567890);
	assert_double_eq(tp_value(&t, "algod_account_incentive_eligible", "address", ADDR_A), 1);
	assert_double_eq(tp_value(&t, "algod_account_vote_last_valid_round", "address", ADDR_A),
			 5000);
	tp_free(&t);
}

static void account_offline_or_not_participating(void **state)
{
	(void)state;
	static const char *const bodies[] = {
	    "{\"address\":\"" ADDR_B "\",\"amount\":5000000,\"status\":\"Offline\"}",
	    "{\"address\":\"" ADDR_B "\",\"amount\":0,\"status\":\"NotParticipating\","
	    "\"incentive-eligible\":false}",
	};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bodies); i++) {
		struct sb_algod_account acc;
		const char *why;
		assert_int_equal(sb_algod_parse_account(bodies[i], strlen(bodies[i]), &acc, &why),
				 0);
		struct tp t;
		tp_begin(&t);
		sb_algod_emit_account(&t.b, ADDR_B, &acc);
		end(&t);
		assert_double_eq(tp_value(&t, "algod_account_online", "address", ADDR_B), 0);
		assert_double_eq(tp_value(&t, "algod_account_incentive_eligible"), 0);
		tp_absent(&t, "algod_account_vote_last_valid_round");
		tp_free(&t);
	}
}

static void account_rejects_what_is_not_an_account(void **state)
{
	(void)state;
	static const char *const bad[] = {"[]",
					  "{\"status\":\"Online\"}",
					  "{\"amount\":\"5\",\"status\":\"Online\"}",
					  "{\"amount\":5,\"status\":1}",
					  "null",
					  "{\"amount\":1e309,\"status\":\"Online\"}",
					  "{\"amount\":0.5,\"status\":\"Online\"}"};
	for (size_t i = 0; i < SB_ARRAY_SIZE(bad); i++) {
		struct sb_algod_account acc;
		const char *why = NULL;
		assert_int_equal(sb_algod_parse_account(bad[i], strlen(bad[i]), &acc, &why),
				 -EINVAL);
		assert_non_null(why);
	}
}

/* ---- the time per round, on a fake clock ---- */

#define S(x) ((int64_t)((x)*1e9))

static void rounds_average_of_the_commit_times(void **state)
{
	(void)state;
	struct sb_algod_rounds r = {0};
	double d;
	/* round 100 committed at t=10, seen at 10.5 and again at 12 */
	sb_algod_rounds_note(&r, S(10.5), 100, 0.5, true);
	sb_algod_rounds_note(&r, S(12), 100, 2.0, true);
	assert_false(sb_algod_rounds_avg(&r, &d));
	/* one round later: one round is not enough to trust */
	sb_algod_rounds_note(&r, S(13), 101, 0.2, true);
	assert_false(sb_algod_rounds_avg(&r, &d));
	/* round 110 committed at t=38: 28 s for 10 rounds */
	sb_algod_rounds_note(&r, S(40), 110, 2.0, true);
	assert_true(sb_algod_rounds_avg(&r, &d));
	assert_double_eq(d, 2.8);
}

/* A status body's time since the last round is int64 nanoseconds on the
 * way to a commit time: a huge, negative or infinite one never gets there
 * (1e309 is inf to cJSON; the cast of it was undefined) */
static void rounds_ignore_a_time_since_no_clock_gives(void **state)
{
	(void)state;
	struct sb_algod_rounds r = {0};
	double d;
	sb_algod_rounds_note(&r, S(0), 100, 0, true);
	sb_algod_rounds_note(&r, S(30), 110, 0, true);
	assert_true(sb_algod_rounds_avg(&r, &d));
	assert_double_eq(d, 3.0);
	const double bad[] = {INFINITY, -INFINITY, NAN, 1e300, -1, 1e9};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		sb_algod_rounds_note(&r, S(31), 111 + (double)i, bad[i], true);
	assert_true(sb_algod_rounds_avg(&r, &d));
	assert_double_eq(d, 3.0);
}

static void status_fields_and_units(void **state)
{
	(void)state;
	static const char body[] =
	    "{\"catchup-time\":0,\"last-catchpoint\":\"\",\"last-round\":38101234,"
	    "\"last-version\":\"https://github.com/algorandfoundation/specs/tree/abc\","
	    "\"next-version\":\"https://github.com/algorandfoundation/specs/tree/abc\","
	    "\"next-version-round\":38101235,\"next-version-supported\":true,"
	    "\"stopped-at-unsupported-round\":false,\"time-since-last-round\":1500000000}";
	struct sb_algod_status st = {.ok = true};
	char why[200] = "";
	assert_int_equal(sb_algod_parse_status(body, strlen(body), &st, why, sizeof(why)), 0);
	assert_true(st.ok);
	assert_double_eq(st.last_round, 38101234);
	assert_double_eq(st.since_last_round, 1.5);
	assert_double_eq(st.catchup, 0);
	assert_double_eq(st.next_version_round, 38101235);
	assert_true(st.next_supported);
	assert_false(st.stopped);
	assert_string_equal(st.last_version,
			    "https://github.com/algorandfoundation/specs/tree/abc");
}

/* A broken body names its key and leaves the last status as it was */
static void status_rejects_numbers_no_node_sends(void **state)
{
	(void)state;
	static const struct {
		const char *body, *why;
	} bad[] = {
	    {"[]", "not a JSON object"},
	    {"{\"time-since-last-round\":1,\"catchup-time\":0}", "last-round: missing"},
	    {"{\"last-round\":\"5\",\"time-since-last-round\":1,\"catchup-time\":0}",
	     "last-round: not a number"},
	    {"{\"last-round\":5,\"time-since-last-round\":1e309,\"catchup-time\":0}",
	     "time-since-last-round: not a whole number from 0 to 2^63"},
	    {"{\"last-round\":5,\"time-since-last-round\":-1,\"catchup-time\":0}",
	     "time-since-last-round: not a whole number"},
	    {"{\"last-round\":5.5,\"time-since-last-round\":1,\"catchup-time\":0}",
	     "last-round: not a whole number"},
	    {"{\"last-round\":5,\"time-since-last-round\":1,\"catchup-time\":2e19}",
	     "catchup-time: not a whole number"},
	    {"{\"last-round\":5,\"time-since-last-round\":1,\"catchup-time\":0,"
	     "\"next-version-round\":-1e309}",
	     "next-version-round: not a whole number"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct sb_algod_status st = {.ok = true, .last_round = 7};
		char why[200] = "";
		assert_int_equal(
		    sb_algod_parse_status(bad[i].body, strlen(bad[i].body), &st, why, sizeof(why)),
		    -EINVAL);
		if (!strstr(why, bad[i].why))
			fail_msg("%s: why '%s', want '%s'", bad[i].body, why, bad[i].why);
		assert_true(st.ok);
		assert_double_eq(st.last_round, 7);
	}
}

static void rounds_catching_up_starts_anew(void **state)
{
	(void)state;
	struct sb_algod_rounds r = {0};
	double d;
	sb_algod_rounds_note(&r, S(0), 100, 0, true);
	sb_algod_rounds_note(&r, S(30), 110, 0, true);
	assert_true(sb_algod_rounds_avg(&r, &d));
	/* a catching-up node commits rounds as fast as it fetches them */
	sb_algod_rounds_note(&r, S(31), 500, 0, false);
	assert_false(sb_algod_rounds_avg(&r, &d));
	sb_algod_rounds_note(&r, S(32), 600, 0, true);
	sb_algod_rounds_note(&r, S(40), 604, 0, true);
	assert_true(sb_algod_rounds_avg(&r, &d));
	assert_double_eq(d, 2);
	/* a round that goes backwards: another ledger */
	sb_algod_rounds_note(&r, S(41), 10, 0, true);
	assert_false(sb_algod_rounds_avg(&r, &d));
}

static void rounds_window_forgets_old_points(void **state)
{
	(void)state;
	struct sb_algod_rounds r = {.window_ns = S(100)};
	double d;
	/* 5 s a round for a long time, then 2 s a round */
	for (int i = 0; i <= 40; i++)
		sb_algod_rounds_note(&r, S(i * 5), 1000 + i, 0, true);
	for (int i = 1; i <= 100; i++)
		sb_algod_rounds_note(&r, S(200 + i * 2), 1040 + i, 0, true);
	assert_true(sb_algod_rounds_avg(&r, &d));
	assert_double_eq(d, 2);
	/* more points than the ring holds: still an answer */
	struct sb_algod_rounds many = {.window_ns = S(100000)};
	for (int i = 0; i < 3 * SB_ALGOD_ROUNDS_MAX; i++)
		sb_algod_rounds_note(&many, S(i * 3), i, 0, true);
	assert_true(sb_algod_rounds_avg(&many, &d));
	assert_double_eq(d, 3);
}

/* ---- the algod process, on a procfs tree ---- */

static int proc_setup(void **state)
{
	(void)state;
	if (tp_dir_setup(quiet))
		return -1;
	char p[128];
	snprintf(p, sizeof(p), "%s/data", tp_dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/proc", tp_dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/proc/4242", tp_dir);
	mkdir(p, 0755);
	return 0;
}

static int proc_teardown(void **state)
{
	(void)state;
	return tp_dir_teardown();
}

#define PUT(rel, text) tp_put(rel, text, strlen(text))

static void put_stat(uint64_t utime, uint64_t stime, const char *comm)
{
	char line[256];
	snprintf(line, sizeof(line),
		 "4242 (%s) S 1 4242 4242 0 -1 4194560 100 0 5 0 %llu %llu 0 0 20 0 12 0 170000 "
		 "1073741824 50000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1\n",
		 comm, (unsigned long long)utime, (unsigned long long)stime);
	PUT("proc/4242/stat", line);
}

static void init_proc(struct sb_algod_proc *p, char *pid_path, char *procfs)
{
	memset(p, 0, sizeof(*p));
	sprintf(pid_path, "%s/data/algod.pid", tp_dir);
	sprintf(procfs, "%s/proc", tp_dir);
	p->pid_path = pid_path;
	p->procfs = procfs;
}

static void process_from_algod_pid(void **state)
{
	(void)state;
	PUT("data/algod.pid", "4242\n");
	PUT("proc/stat", "cpu  1 2 3 4 5 6 7 8 9 10\nbtime 1700000000\nprocesses 9\n");
	PUT("proc/meminfo", "MemTotal:       16000000 kB\nMemFree:  1 kB\n");
	tp_put("proc/4242/cmdline", "/usr/bin/algod\0-d\0/var/lib/algorand\0", 35);
	put_stat(1500, 300, "algod");
	struct sb_algod_proc p;
	char pid_path[128], procfs[128];
	init_proc(&p, pid_path, procfs);
	double hz = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
	assert_int_equal(sb_algod_proc_read(&p, S(100), 2), 0);
	assert_true(p.up);
	assert_int_equal(p.pid, 4242);
	assert_double_eq(p.start_time, 1700000000 + 170000 / hz);
	assert_double_eq(p.cpu_seconds, 1800 / hz);
	assert_double_eq(p.rss_bytes, 50000 * page);
	assert_double_eq(p.mem_total_bytes, 16000000.0 * 1024);
	assert_string_equal(p.argv0, "/usr/bin/algod");
	assert_false(p.have_cpu_pct); /* a rate needs two readings */

	/* 5 s later it used 2.5 s of CPU on a 2-CPU machine: 25 % */
	put_stat(1500 + (uint64_t)(2 * hz), 300 + (uint64_t)(0.5 * hz), "algod");
	assert_int_equal(sb_algod_proc_read(&p, S(105), 2), 0);
	assert_true(p.have_cpu_pct);
	assert_true(p.cpu_pct > 24.999 && p.cpu_pct < 25.001);

	struct tp t;
	tp_begin(&t);
	sb_algod_proc_emit(&t.b, &p, S(1700000000 + 170000 / hz + 60));
	end(&t);
	assert_double_eq(tp_value(&t, "algod_process_up"), 1);
	assert_double_eq(tp_value(&t, "algod_process_pid"), 4242);
	assert_double_eq(tp_value(&t, "algod_process_resident_memory_bytes"), 50000 * page);
	assert_double_eq(tp_value(&t, "algod_process_start_time_seconds"), p.start_time);
	double up = tp_value(&t, "algod_process_uptime_seconds");
	assert_true(up > 59.99 && up < 60.01);
	tp_free(&t);
}

static void process_not_algod_or_gone_is_down(void **state)
{
	(void)state;
	PUT("data/algod.pid", "4242\n");
	put_stat(1, 1, "bash"); /* the pid was reused */
	struct sb_algod_proc p;
	char pid_path[128], procfs[128];
	init_proc(&p, pid_path, procfs);
	assert_int_equal(sb_algod_proc_read(&p, S(1), 2), -ESRCH);
	assert_false(p.up);
	assert_non_null(strstr(p.why, "is bash, not algod"));
	struct tp t;
	tp_begin(&t);
	sb_algod_proc_emit(&t.b, &p, S(1));
	end(&t);
	assert_double_eq(tp_value(&t, "algod_process_up"), 0);
	assert_int_equal(t.ev->nsamples, 1);
	tp_free(&t);

	PUT("data/algod.pid", "4343\n"); /* no such process */
	assert_int_equal(sb_algod_proc_read(&p, S(2), 2), -ENOENT);
	assert_non_null(strstr(p.why, "not running"));
	PUT("data/algod.pid", "forty-two\n");
	assert_int_equal(sb_algod_proc_read(&p, S(3), 2), -EINVAL);
	assert_non_null(strstr(p.why, "does not hold a process id"));
	char path[128];
	snprintf(path, sizeof(path), "%s/data/algod.pid", tp_dir);
	unlink(path);
	assert_int_equal(sb_algod_proc_read(&p, S(4), 2), -ENOENT);
	assert_false(p.up);
}

/* ---- the community emitter's names ---- */

static void compat_names_and_labels(void **state)
{
	(void)state;
	struct sb_algod_status st = {.ok = true,
				     .last_round = 51877342,
				     .since_last_round = 2.25,
				     .catchup = 0,
				     .next_version_round = 51877343};
	struct sb_algod_proc p = {.up = true,
				  .pid = 4242,
				  .start_time = 1700000000,
				  .rss_bytes = 4e9,
				  .mem_total_bytes = 16e9,
				  .have_cpu_pct = true,
				  .cpu_pct = 12.5};
	snprintf(p.argv0, sizeof(p.argv0), "/usr/bin/algod");
	struct sb_algod_view v = {.host = "node-7",
				  .data_dir = "/var/lib/algorand",
				  .version = "3.27.1.stable",
				  .genesis_id = "mainnet-v1.0",
				  .port = "4161",
				  .st = &st,
				  .proc = &p,
				  .now_real_ns = S(1700000100)};
	struct tp t;
	tp_begin(&t);
	sb_algod_compat_emit(&t.b, &v);
	end(&t);
	assert_double_eq(tp_value(&t, "algod_last_committed_block", "host", "node-7"), 51877342);
	assert_double_eq(tp_value(&t, "algod_ledger_round", "host", "node-7"), 51877342);
	assert_double_eq(tp_value(&t, "algod_next_consensus_round", "host", "node-7"), 51877343);
	assert_double_eq(tp_value(&t, "algod_time_since_last_block_seconds"), 2.25);
	assert_double_eq(tp_value(&t, "algod_sync_time_seconds"), 0);
	assert_double_eq(tp_value(&t, "algod_is_active", "host", "node-7", "algod_version",
				  "3.27.1.stable", "algod_genesis_id", "mainnet-v1.0", "algod_port",
				  "4161", "algod_instance", "/usr/bin/algod",
				  "algod_instance_data_dir", "/var/lib/algorand", "algod_pid",
				  "4242"),
			 1);
	assert_double_eq(tp_value(&t, "algod_pid"), 4242);
	assert_double_eq(tp_value(&t, "algod_start_timestamp_seconds"), 1700000000);
	assert_double_eq(tp_value(&t, "algod_uptime_seconds"), 100);
	assert_double_eq(tp_value(&t, "algod_cpu_pct"), 12.5);
	assert_double_eq(tp_value(&t, "algod_mem_pct"), 25);
	/* the ledger rows carry host only, as the emitter wrote them */
	assert_null(sb_sample_label(tp_find(&t, "algod_ledger_round", NULL), "algod_pid"));
	assert_int_equal(t.ev->nsamples, 11);
	tp_free(&t);

	/* algod down and no status: only is_active 0 */
	st.ok = false;
	p = (struct sb_algod_proc){0};
	tp_begin(&t);
	sb_algod_compat_emit(&t.b, &v);
	end(&t);
	assert_int_equal(t.ev->nsamples, 1);
	assert_double_eq(tp_value(&t, "algod_is_active", "host", "node-7"), 0);
	tp_free(&t);
}

static void compat_versions_and_port(void **state)
{
	(void)state;
	static const char body[] =
	    "{\"build\":{\"branch\":\"rel/stable\",\"build_number\":2,\"channel\":\"stable\","
	    "\"commit_hash\":\"181490e3\",\"major\":3,\"minor\":12},\"genesis_hash_b64\":"
	    "\"wGHE2Pwdvd7S12BL5FaOP20EGYesN73ktiC1qzkkit8=\",\"genesis_id\":\"mainnet-v1.0\","
	    "\"versions\":[\"v1\",\"v2\"]}";
	char ver[64], gen[64];
	assert_int_equal(
	    sb_algod_parse_versions(body, strlen(body), ver, sizeof(ver), gen, sizeof(gen)), 0);
	assert_string_equal(ver, "3.12.2.stable");
	assert_string_equal(gen, "mainnet-v1.0");
	assert_int_equal(sb_algod_parse_versions("{}", 2, ver, sizeof(ver), gen, sizeof(gen)),
			 -EINVAL);
	char port[8];
	sb_algod_port_of("0.0.0.0:4161", port, sizeof(port));
	assert_string_equal(port, "4161");
	sb_algod_port_of("[::]:4160\n", port, sizeof(port));
	assert_string_equal(port, "4160");
	sb_algod_port_of("no port", port, sizeof(port));
	assert_string_equal(port, "");
	sb_algod_port_of("host:4161x", port, sizeof(port));
	assert_string_equal(port, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(participation_fields_of_two_keys),
	    cmocka_unit_test(participation_samples_and_rounds_remaining),
	    cmocka_unit_test(participation_none_installed_is_null),
	    cmocka_unit_test(participation_rejects_what_is_not_a_list_of_keys),
	    cmocka_unit_test(participation_skips_keys_unfit_for_a_label_or_url),
	    cmocka_unit_test(address_is_58_base32_characters),
	    cmocka_unit_test(account_online_with_its_key),
	    cmocka_unit_test(account_offline_or_not_participating),
	    cmocka_unit_test(account_rejects_what_is_not_an_account),
	    cmocka_unit_test(rounds_average_of_the_commit_times),
	    cmocka_unit_test(rounds_ignore_a_time_since_no_clock_gives),
	    cmocka_unit_test(rounds_catching_up_starts_anew),
	    cmocka_unit_test(status_fields_and_units),
	    cmocka_unit_test(status_rejects_numbers_no_node_sends),
	    cmocka_unit_test(rounds_window_forgets_old_points),
	    cmocka_unit_test_setup_teardown(process_from_algod_pid, proc_setup, proc_teardown),
	    cmocka_unit_test_setup_teardown(process_not_algod_or_gone_is_down, proc_setup,
					    proc_teardown),
	    cmocka_unit_test(compat_names_and_labels),
	    cmocka_unit_test(compat_versions_and_port),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
