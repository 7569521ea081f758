# The algod sensor against a fake algod (a real HTTP server on loopback):
# every /metrics sample, the status and ready samples, up 1; then, with the
# agent running, token rotation, a rejected token, garbage, a status number
# out of range, a body over the
# limit, a response slower than the timeout, 503 with Retry-After, a refused
# connection and a node catching up: each gives the right up, one clear log
# line, and the agent (and its other sensor) keeps going.
. "$(dirname "$0")/lib.sh"

FAKE="$SB_ROOT/tests/fake-algod"
TOKEN1=$(printf 't%.0s' $(seq 64))
data="$TMP/data"
python3 "$FAKE/fake_algod.py" --data-dir "$data" --token "$TOKEN1" \
	--metrics "$SB_FIXTURES/prom/algod.txt" --big-bytes 300000 2>"$TMP/fake.log" &
track_pid $!
wait_for 10 test -s "$data/algod.net" || fail "the fake algod did not start"
port=$(sed 's/.*://' "$data/algod.net")
ctl() { curl -fsS "http://127.0.0.1:$port/__ctl?$1" >/dev/null || fail "ctl $1"; }
stat_of() { curl -fsS "http://127.0.0.1:$port/__stats" | python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# ---- 1. the issue's own command: all samples, status, ready, up 1 ----
cat >"$TMP/once.json" <<JSON
{"sensors":{"algod":{"data_dir":"$data","interval":"1s"}}}
JSON
conn0=$(stat_of '["connections"]')
"$SB_BIN" --duration 3500ms --sensors algod -c "$TMP/once.json" -o - >"$TMP/once.jsonl" \
	2>"$TMP/once.log" || fail "agent exit $?: $(cat "$TMP/once.log")"
conn1=$(stat_of '["connections"]')
python3 - "$TMP/once.jsonl" "$SB_FIXTURES/prom/algod.txt" "$((conn1 - conn0 - 1))" <<'PY' || fail "samples"
import json, re, sys
events = [json.loads(l) for l in open(sys.argv[1])]
assert len(events) >= 3, "want 3+ rounds in 3.5s at 1s, got %d" % len(events)
# the fixture's sample lines, read independently of the agent's parser
want = []
for line in open(sys.argv[2], encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line.rstrip("\n"))
    assert m, line
    labels = dict(re.findall(r'([a-zA-Z_]\w*)="([^"]*)"', m.group(3) or ""))
    want.append((m.group(1), tuple(sorted(labels.items())), float(m.group(4))))
for ev in events:
    assert ev["source"] == "algod" and ev["kind"] == "metrics", ev
    got = [(s["name"], tuple(sorted(s.get("labels", {}).items())), s["value"]) for s in ev["samples"]]
    # what the sensor adds (46-algod-participation checks the keys, accounts
    # and process) is not part of the /metrics body
    body = [g for g in got if g[0] not in ("up", "scrape_duration_seconds", "scrape_samples_scraped",
                                          "algod_ready") and not g[0].startswith(
        ("algod_status_", "algod_participation_key_", "algod_account_", "algod_process_"))]
    assert body == want, "\n%s\n!=\n%s" % (body, want)
    s = {g[0]: g for g in got}
    assert s["up"][1:] == ((("target", "algod"),), 1), s["up"]
    assert s["scrape_samples_scraped"][2] == len(want)
    assert 0 < s["scrape_duration_seconds"][2] < 1
    assert s["algod_ready"][2] == 1
    assert s["algod_status_last_round"][2] == 51877342
    assert s["algod_status_time_since_last_round_seconds"][2] == 2.25
    assert s["algod_status_catchup_seconds"][2] == 1.5
    assert s["algod_status_next_version_round"][2] == 51877343
    assert s["algod_status_stopped_at_unsupported_round"][2] == 0
    info = dict(s["algod_status_info"][1])
    assert info["last_version"].endswith("/abc123") and info["next_version_supported"] == "true", info
# keep-alive: the requests of every round (/metrics, /v2/status, /ready,
# /v2/participation, then the keys' two accounts) reuse at most one
# connection each, however many rounds
conns = int(sys.argv[3])
assert conns <= 6, "%d connections for %d rounds: no keep-alive" % (conns, len(events))
print("rounds", len(events), "connections", conns)
PY
[ "$(stat_of '["gzip"]')" -gt 0 ] || fail "no gzip-encoded answer was asked for"
grep -q "$TOKEN1" "$TMP/once.jsonl" "$TMP/once.log" && fail "the token leaked"
ok "every /metrics sample, status, ready, up 1, keep-alive, gzip"

# ---- 2. failures, with the agent running ----
cat >"$TMP/run.json" <<JSON
{"sensors":{"algod":{"data_dir":"$data","interval":"1s","timeout":"800ms",
                     "limits":{"body_size":"256KiB"}},
            "synthetic":{"rate":50,"samples":1,"tick":"20ms"}},
 "sinks":[{"type":"file","path":"$TMP/out.jsonl","flush_interval":"50ms"}]}
JSON
"$SB_BIN" -c "$TMP/run.json" 2>"$TMP/run.log" &
agent=$!
track_pid $agent

mark=0
# expect CONDITION: the next algod event with it after the last mark
expect() {
	mark=$(python3 "$FAKE/wait_event.py" "$TMP/out.jsonl" algod "$mark" 10 "$1") ||
		fail "no algod event with $1; log: $(tail -5 "$TMP/run.log")"
}
logged() { grep -q -- "$1" "$TMP/run.log" || fail "no log line with '$1': $(tail -5 "$TMP/run.log")"; }
expect 's["up"] == 1'

# algod restarted with a new token: the file changes, the sensor follows
TOKEN2=$(printf 'u%.0s' $(seq 64))
ctl "rotate=$TOKEN2"
expect 's["up"] == 1 and "algod_status_last_round" in s'
unauth=$(stat_of '["unauthorized"]')
expect 's["up"] == 1'
[ "$(stat_of '["unauthorized"]')" = "$unauth" ] || fail "401s after the token file was re-read"
ok "token rotation followed"

# a token the node no longer takes
ctl "server_token=$(printf 'v%.0s' $(seq 64))"
expect 's["up"] == 0 and "algod_status_last_round" not in s and "algod_netdev_received_bytes" in s'
logged "token rejected (HTTP 401): check $data/algod.token"
ctl "rotate=$(printf 'v%.0s' $(seq 64))"
expect 's["up"] == 1'
ok "rejected token: up 0, a line naming the token file, recovered"

ctl "metrics=garbage"
expect 's["up"] == 0 and s["scrape_samples_scraped"] == 0 and "algod_status_last_round" in s'
logged "/metrics: not Prometheus text: no valid sample"
ctl "metrics=normal"
expect 's["up"] == 1'
ok "garbage: up 0"

# a status number no node sends (1e309 is infinity to a JSON parser; its
# cast to nanoseconds was undefined): named, the status left out
ctl "since_raw=1e309"
expect 's["up"] == 0 and "algod_status_last_round" not in s and "algod_netdev_received_bytes" in s'
logged "/v2/status: not the JSON of a node status: time-since-last-round: not a whole number from 0 to 2^63"
ctl "since_raw=none"
expect 's["up"] == 1 and "algod_status_last_round" in s'
ok "a status with an infinite time since the last round: up 0, the key named"

ctl "metrics=big"
expect 's["up"] == 0 and "algod_netdev_received_bytes" not in s'
logged "/metrics: .*body larger than 262144 bytes"
ctl "metrics=normal"
expect 's["up"] == 1'
ok "body over the limit: up 0"

ctl "slow=2"
expect 's["up"] == 0'
slow_from=$mark
expect 's["up"] == 0'
logged "/metrics: timed out"
ctl "slow=0"
expect 's["up"] == 1'
# while /metrics hung past its 800 ms timeout, the synthetic sensor's 20 ms
# ticks went on: a loop that waited for algod would publish nothing while
# a request is in flight
python3 - "$TMP/out.jsonl" "$slow_from" "$mark" <<'PY' || fail "the loop blocked"
import json, sys, datetime
lo, hi = int(sys.argv[2]), int(sys.argv[3])
def t(ev):
    return datetime.datetime.fromisoformat(ev["time"][:26]).timestamp()
syn, rounds = [], []
for l in open(sys.argv[1]):
    ev = json.loads(l)
    if ev["source"] == "synthetic":
        syn.append(t(ev))
    if lo <= ev["seq"] < hi and ev["source"] == "algod":
        d = [s["value"] for s in ev["samples"] if s["name"] == "scrape_duration_seconds"][0]
        rounds.append((t(ev), d))
assert len(rounds) >= 2, rounds
for start, dur in rounds:
    inside = [x for x in syn if start + 0.1 < x < start + dur - 0.1]
    assert dur > 0.7 and inside, "no synthetic event while algod hung %.2fs" % dur
    print("algod round hung %.2fs; %d synthetic events meanwhile" % (dur, len(inside)))
PY
ok "slower than the timeout: up 0, other sensors on time"

ctl "code=503&retry_after=2"
expect 's["up"] == 0'
first503=$mark
logged "/metrics: HTTP 503"
ctl "code=0&retry_after=0"
expect 's["up"] == 1'
# Retry-After 2 s at a 1 s interval: the round after the 503 is skipped
python3 - "$TMP/out.jsonl" "$first503" <<'PY' || fail "no backoff"
import json, sys, datetime
t = [datetime.datetime.fromisoformat(e["time"][:26]).timestamp()
     for e in map(json.loads, open(sys.argv[1]))
     if e["source"] == "algod" and e["seq"] >= int(sys.argv[2])]
assert t[1] - t[0] > 1.5, "next round %.2fs after the 503" % (t[1] - t[0])
print("next round %.2fs after the 503" % (t[1] - t[0]))
PY
ok "HTTP 503: up 0, backed off, recovered"

ctl "ready=503"
expect 's["up"] == 1 and s["algod_ready"] == 0'
ctl "ready=200"
expect 's["algod_ready"] == 1'
ok "catching up: algod_ready 0"

# algod moved (a restart on another port): nothing listens there yet
dead=$(free_port)
printf '127.0.0.1:%s\n' "$dead" >"$data/algod.net.tmp" && mv "$data/algod.net.tmp" "$data/algod.net"
expect 's["up"] == 0 and "algod_ready" not in s'
logged "algod at http://127.0.0.1:$dead: connection refused"
printf '127.0.0.1:%s\n' "$port" >"$data/algod.net.tmp" && mv "$data/algod.net.tmp" "$data/algod.net"
expect 's["up"] == 1'
logged "up again after"
ok "connection refused: up 0; address re-read"

rm "$data/algod.net"
expect 's["up"] == 0'
logged "cannot read $data/algod.net: No such file or directory (is algod running?)"
ok "no algod.net: up 0"

kill -TERM $agent
wait $agent || fail "agent exit $? after SIGTERM"
grep -q "$TOKEN1\|$TOKEN2\|vvvvvvvvvvvvvvvv" "$TMP/run.log" "$TMP/out.jsonl" && fail "a token leaked"
# one line per failure, not one per round
n=$(grep -c 'warn  \[sensor:algod\]' "$TMP/run.log")
[ "$n" -le 10 ] || fail "$n warning lines: $(cat "$TMP/run.log")"
ok "agent ran through it all; $n warning lines"
