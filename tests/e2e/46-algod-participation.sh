# Participation keys and account health against the fake algod: with the
# admin token every key and account metric has the value the fake's
# hand-written answers imply, the process comes from algod.pid, and the
# time per round is measured once the node commits rounds; a wrong admin
# token, then a missing one, each give one log line and no key metrics,
# while everything else (accounts named in `accounts`, /metrics, up) goes
# on and the agent keeps running.
. "$(dirname "$0")/lib.sh"

FAKE="$SB_ROOT/tests/fake-algod"
ADMIN=$(printf 'd%.0s' $(seq 64))
data="$TMP/data"
python3 "$FAKE/fake_algod.py" --data-dir "$data" --admin-token "$ADMIN" \
	--metrics "$SB_FIXTURES/prom/algod.txt" 2>"$TMP/fake.log" &
fake=$!
track_pid $fake
wait_for 10 test -s "$data/algod.net" || fail "the fake algod did not start"
port=$(sed 's/.*://' "$data/algod.net")
ctl() { curl -fsS "http://127.0.0.1:$port/__ctl?$1" >/dev/null || fail "ctl $1"; }

# the fake's hand-written answers (tests/fake-algod/fake_algod.py)
BASE=51877342
ONLINE=ONLINEACCOUNT222222222222222222222222222222222222222222222
OFFLINE=OFFLINEACCOUNT33333333333333333333333333333333333333333333
WATCHED=WATCHEDACCOUNT44444444444444444444444444444444444444444444
NEAR=KEYNEAREXPIRYAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
FAR=KEYFARFROMEXPIRYBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB

cat >"$TMP/c.json" <<JSON
{"sensors":{"algod":{"data_dir":"$data","interval":"1s","accounts":["$WATCHED"]}},
 "sinks":[{"type":"file","path":"$TMP/out.jsonl","flush_interval":"50ms"}]}
JSON
"$SB_BIN" -c "$TMP/c.json" 2>"$TMP/agent.log" &
agent=$!
track_pid $agent

mark=0
expect() {
	mark=$(python3 "$FAKE/wait_event.py" "$TMP/out.jsonl" algod "$mark" 15 "$1") ||
		fail "no algod event with $1; log: $(tail -5 "$TMP/agent.log")"
}
# check SEQ PYTHON: PYTHON asserts over v(name, **labels) of event SEQ
check() {
	python3 - "$TMP/out.jsonl" "$1" "$2" <<'PY' || fail "event $2: $(tail -3 "$TMP/agent.log")"
import json, sys
path, seq, code = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ev = [e for e in map(json.loads, open(path)) if e["seq"] == seq][0]
def vs(name, **labels):
    return [s["value"] for s in ev["samples"] if s["name"] == name
            and all(s.get("labels", {}).get(k) == v for k, v in labels.items())]
def v(name, **labels):
    r = vs(name, **labels)
    assert len(r) == 1, "%s %s: %d samples" % (name, labels, len(r))
    return r[0]
def names(prefix):
    return sorted({s["name"] for s in ev["samples"] if s["name"].startswith(prefix)})
exec(code)
PY
}
count() { grep -c -- "$1" "$TMP/agent.log"; }

# ---- 1. every key, account and process metric ----
expect '"algod_account_online" in s and "algod_participation_key_last_vote_round" in s'
check "$mark" "
B, on, off, w, near, far = $BASE, '$ONLINE', '$OFFLINE', '$WATCHED', '$NEAR', '$FAR'
k = lambda n, a, i: v('algod_participation_key_' + n, address=a, id=i)
assert v('up') == 1
assert k('first_valid_round', on, near) == B - 100000
assert k('last_valid_round', on, near) == B + 1000
assert k('rounds_remaining', on, near) == 1000
assert k('last_vote_round', on, near) == B - 1
assert k('last_proposal_round', on, near) == B - 50
assert k('last_state_proof_round', on, near) == B - 256
assert k('first_valid_round', off, far) == B - 5000
assert k('last_valid_round', off, far) == B + 3000000
assert k('rounds_remaining', off, far) == 3000000
# the far key never voted, proposed nor made a state proof
assert not vs('algod_participation_key_last_vote_round', id=far)
assert not vs('algod_participation_key_last_proposal_round', id=far)
assert not vs('algod_participation_key_last_state_proof_round', id=far)
a = lambda n, x: v('algod_account_' + n, address=x)
assert (a('online', on), a('balance_microalgos', on), a('incentive_eligible', on)) == (1, 1234567890, 1)
assert a('vote_last_valid_round', on) == B + 1000
assert (a('online', off), a('balance_microalgos', off), a('incentive_eligible', off)) == (0, 5000000, 0)
assert not vs('algod_account_vote_last_valid_round', address=off)
assert (a('online', w), a('balance_microalgos', w)) == (0, 0)
assert v('algod_process_up') == 1 and v('algod_process_pid') == $fake
assert v('algod_process_resident_memory_bytes') > 0 and v('algod_process_cpu_seconds_total') > 0
assert v('algod_process_start_time_seconds') > 1.6e9
# catching up (catchup-time 1.5 s): no time per round is measured
assert not vs('algod_round_duration_seconds')
"
ok "keys, accounts (two of keys, one configured) and the process, with their values"

# ---- 2. the node commits a round every 500 ms: the time per round ----
ctl "round_ms=500"
expect '"algod_round_duration_seconds" in s'
expect '"algod_round_duration_seconds" in s'
check "$mark" "
d = v('algod_round_duration_seconds')
assert 0.4 < d < 0.6, d
# the near key's rounds remaining follow the round
assert v('algod_participation_key_rounds_remaining', id='$NEAR') == $BASE + 1000 - v('algod_status_last_round')
print('round duration %.3f s' % d)
"
ok "algod_round_duration_seconds measured on the node's commits; rounds remaining follow"

# ---- 3. a wrong admin token: one line, no key metrics, the rest goes on ----
ctl "admin_token=$(printf 'e%.0s' $(seq 64))"
expect 's["up"] == 1 and "algod_participation_key_last_valid_round" not in s'
expect 's["up"] == 1'
expect 's["up"] == 1'
check "$mark" "
assert names('algod_participation_key_') == [], names('algod_participation_key_')
assert v('algod_account_online', address='$WATCHED') == 0
assert not vs('algod_account_online', address='$ONLINE')
assert v('algod_status_last_round') > 0 and v('algod_process_up') == 1
"
n=$(count "admin token rejected (HTTP 401): check $data/algod.admin.token")
[ "$n" -eq 1 ] || fail "$n lines about the rejected admin token: $(cat "$TMP/agent.log")"
kill -0 $agent || fail "the agent stopped"
ok "wrong admin token: one line, no key metrics, accounts configured, up 1"

# algod restarted with the token the server now wants
printf 'eeee%s\n' "$(printf 'e%.0s' $(seq 60))" >"$data/algod.admin.token.tmp"
mv "$data/algod.admin.token.tmp" "$data/algod.admin.token"
expect '"algod_participation_key_last_valid_round" in s'
grep -q "participation keys: working again" "$TMP/agent.log" || fail "no line for the recovery"
ok "a new admin token file is taken"

# ---- 4. no admin token at all: one line, no key metrics ----
rm "$data/algod.admin.token"
expect 's["up"] == 1 and "algod_participation_key_last_valid_round" not in s'
expect 's["up"] == 1'
expect 's["up"] == 1'
check "$mark" "
assert names('algod_participation_key_') == []
assert v('algod_account_online', address='$WATCHED') == 0
"
n=$(count "no participation key metrics without the admin token: cannot read the token file $data/algod.admin.token: No such file or directory")
[ "$n" -eq 1 ] || fail "$n lines about the missing admin token: $(cat "$TMP/agent.log")"
ok "no admin token: one line, no key metrics"

kill -TERM $agent
wait $agent || fail "agent exit $? after SIGTERM"
grep -q "$ADMIN\|eeeeeeeeeeeeeeee" "$TMP/agent.log" "$TMP/out.jsonl" && fail "an admin token leaked"
ok "the agent ran through it all; no token in its output"
