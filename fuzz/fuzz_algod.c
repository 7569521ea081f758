/* libFuzzer harness for the algod sensor's REST decoders (make fuzz-algod):
 * the bodies a node answers, read over HTTP from a process the agent does
 * not control. The first byte picks the decoder: GET /v2/status, GET
 * /v2/participation, GET /v2/accounts/{address}, GET /versions, and the
 * address file's "host:port" text.
 *
 * Besides what ASan/UBSan catch, it checks the decoders' promises: a
 * refusal says why; an accepted status holds only whole numbers from 0 to
 * 2^63 and feeds the time-per-round window (on a fake clock) without
 * overflow; accepted keys and accounts hold only such rounds and emit an
 * event that finishes; a port is at most five digits. Seeds: bodies shaped
 * as a node's, made by the harness (SB_FUZZ_SEEDS). */
#include <math.h>
#include <stdbool.h>

#define FUZZ_SEEDS algod_seeds
#include "fuzz.h"

#include "../src/sensors/algod.h"

enum { STATUS, PARTICIPATION, ACCOUNT, VERSIONS, PORT, NKINDS };

static struct sb_evb evb;
static int ready;

static bool a_round(double v) { return v >= 0 && v < 9.2e18 && v == floor(v); }

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_algod: %s\n", what);
		abort();
	}
}

static void finish(void)
{
	struct sb_event *ev = sb_evb_finish(&evb);
	if (ev)
		sb_event_unref(ev);
}

static void status(const char *p, size_t n)
{
	struct sb_algod_status st = {0};
	char why[200] = "";
	if (sb_algod_parse_status(p, n, &st, why, sizeof(why))) {
		check(why[0] != 0, "a refused status says no why");
		return;
	}
	check(a_round(st.last_round) && a_round(st.next_version_round) &&
		  st.since_last_round >= 0 && st.since_last_round < 9.2e9 && st.catchup >= 0 &&
		  st.catchup < 9.2e9,
	      "an accepted status holds a number no node sends");
	/* the window on a fake clock: the round seen twice, then one later */
	struct sb_algod_rounds r = {0};
	int64_t now = (int64_t)1800000000 * SB_NSEC_PER_SEC;
	double d;
	sb_algod_rounds_note(&r, now, st.last_round, st.since_last_round, true);
	sb_algod_rounds_note(&r, now + SB_NSEC_PER_SEC, st.last_round + 5, 0, true);
	if (sb_algod_rounds_avg(&r, &d))
		check(isfinite(d), "the time per round is not a number");
}

static void participation(const char *p, size_t n)
{
	struct sb_algod_keys k = {0};
	unsigned skipped = 0;
	const char *why = NULL;
	if (sb_algod_parse_participation(p, n, &k, &skipped, &why)) {
		check(why && *why, "refused keys say no why");
	} else {
		for (size_t i = 0; i < k.n; i++) {
			const struct sb_algod_key *y = &k.v[i];
			check(sb_algod_address_ok(y->address), "a key's address is not one");
			check((!y->have_first || a_round(y->first_valid)) &&
				  (!y->have_last || a_round(y->last_valid)) &&
				  (!y->have_vote || a_round(y->last_vote)) &&
				  (!y->have_proposal || a_round(y->last_proposal)) &&
				  (!y->have_state_proof || a_round(y->last_state_proof)),
			      "a key holds a round no node sends");
		}
		sb_evb_begin(&evb, "algod", "metrics");
		sb_algod_emit_keys(&evb, &k, true, 1000);
		finish();
	}
	sb_algod_keys_free(&k);
}

static void account(const char *p, size_t n)
{
	struct sb_algod_account acc;
	const char *why = NULL;
	if (sb_algod_parse_account(p, n, &acc, &why)) {
		check(why && *why, "a refused account says no why");
		return;
	}
	check(a_round(acc.amount) && (!acc.have_vote_last_valid || a_round(acc.vote_last_valid)),
	      "an account holds a number no node sends");
	sb_evb_begin(&evb, "algod", "metrics");
	sb_algod_emit_account(&evb, "ONLINEACCOUNT222222222222222222222222222222222222222222222",
			      &acc);
	finish();
}

static void versions(const char *p, size_t n)
{
	char version[64], genesis[64];
	if (!sb_algod_parse_versions(p, n, version, sizeof(version), genesis, sizeof(genesis)))
		check(memchr(version, 0, sizeof(version)) && memchr(genesis, 0, sizeof(genesis)),
		      "a version is not cut to its buffer");
}

static void port(const char *p)
{
	char out[16];
	sb_algod_port_of(p, out, sizeof(out));
	check(strlen(out) <= 5 && strspn(out, "0123456789") == strlen(out),
	      "a port is not five digits at most");
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (!ready) {
		sb_evb_init(&evb);
		ready = 1;
	}
	if (!n)
		return 0;
	/* NUL-terminated, as the HTTP client hands bodies on */
	char *p = malloc(n);
	if (!p)
		return 0;
	memcpy(p, d + 1, n - 1);
	p[n - 1] = 0;
	switch (d[0] % NKINDS) {
	case STATUS:
		status(p, n - 1);
		break;
	case PARTICIPATION:
		participation(p, n - 1);
		break;
	case ACCOUNT:
		account(p, n - 1);
		break;
	case VERSIONS:
		versions(p, n - 1);
		break;
	case PORT:
		port(p);
		break;
	}
	free(p);
	return 0;
}

static void seed(const char *name, unsigned char kind, const char *body)
{
	fuzz_seed(name, 2, &kind, (size_t)1, body, strlen(body));
}

#define ADDR "ONLINEACCOUNT222222222222222222222222222222222222222222222"
#define KEY "KEYNEAREXPIRYAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static void algod_seeds(void)
{
	seed("status", STATUS,
	     "{\"catchpoint\":\"\",\"catchup-time\":0,\"last-catchpoint\":\"\","
	     "\"last-round\":51877342,\"last-version\":\"https://github.com/algorandfoundation/"
	     "specs/tree/abc123\",\"next-version\":\"https://github.com/algorandfoundation/specs/"
	     "tree/def456\",\"next-version-round\":51877343,\"next-version-supported\":true,"
	     "\"stopped-at-unsupported-round\":false,\"time-since-last-round\":2250000000}");
	seed("participation", PARTICIPATION,
	     "[{\"address\":\"" ADDR "\",\"id\":\"" KEY "\",\"effective-first-valid\":1000,"
	     "\"effective-last-valid\":5000,\"last-vote\":4000,\"last-block-proposal\":3990,"
	     "\"last-state-proof\":3840,\"key\":{\"vote-first-valid\":900,"
	     "\"vote-last-valid\":6000,\"vote-key-dilution\":100}}]");
	seed("participation-null", PARTICIPATION, "null");
	seed("account", ACCOUNT,
	     "{\"address\":\"" ADDR "\",\"amount\":1234567890,\"status\":\"Online\","
	     "\"incentive-eligible\":true,\"participation\":{\"vote-first-valid\":900,"
	     "\"vote-last-valid\":6000}}");
	seed("versions", VERSIONS,
	     "{\"build\":{\"major\":3,\"minor\":27,\"build_number\":0,\"channel\":\"stable\"},"
	     "\"genesis_id\":\"mainnet-v1.0\"}");
	seed("port", PORT, "127.0.0.1:8080\n");
}
