#!/bin/sh
# Prometheus stops for 10 s in the middle of a run and starts again on the
# same data directory: the breaker opens and closes, the spool replays in
# order at drain_rate, and afterwards every round of node_load1 is in
# Prometheus (the json sink's timestamps, one per interval, no gap), none
# rejected as out of order, and the accounting holds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/promrw.sh"

prom_start
cat >"$TMP/c.json" <<JSON
{"interval": "1s", "host": "rw-outage", "sensors": {"proc": {}},
 "sinks": [{"type": "remote_write", "url": "$PROM_WRITE", "spool_dir": "$TMP/spool",
            "timeout": "1s", "drain_rate": 4, "replay": "ordered",
            "retry": {"base": "50ms", "max_delay": "500ms"},
            "breaker": {"failures": 3, "cooldown": "1s"}},
           {"type": "file", "path": "$TMP/events.jsonl"}]}
JSON
"$SB_BIN" -c "$TMP/c.json" --no-bpf 2>"$TMP/agent.log" &
agent=$!
track_pid $agent
has_load() { curl -fsS -G "$PROM_API/query" --data-urlencode 'query=node_load1{job="sensorbus"}' | grep -q rw-outage; }
wait_for 20 has_load || fail "node_load1 never arrived: $(tail -5 "$TMP/agent.log")"
sleep 3
prom_stop
sleep 10
grep -q "breaker open" "$TMP/agent.log" || fail "the breaker did not open while Prometheus was down"
prom_start
wait_for 60 grep -q "spool replay done" "$TMP/agent.log" || fail "the spool did not drain: $(tail -5 "$TMP/agent.log")"
grep -q "breaker closed" "$TMP/agent.log" || fail "the breaker did not close"
sleep 2
kill -TERM $agent
i=0
while kill -0 $agent 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 $agent 2>/dev/null && fail "agent did not stop"
grep "spool replay done" "$TMP/agent.log" | sed 's/^/  /'
grep -q 'remote_write: closed: received=\([0-9]*\) delivered=\1 spooled=0 dropped=0' "$TMP/agent.log" ||
	fail "accounting: $(grep 'closed:' "$TMP/agent.log")"
grep -q "rejected" "$TMP/agent.log" && fail "samples were rejected: $(grep rejected "$TMP/agent.log")"
ok "breaker opened and closed, spool replayed, received = delivered, nothing dropped"

prom_dump 'node_load1{job="sensorbus",instance="rw-outage"}' "$TMP/load.jsonl"
"$PY" - "$TMP/events.jsonl" "$TMP/load.jsonl" <<'PY' || fail "node_load1 rounds missing in Prometheus"
import json, sys
from datetime import datetime, timezone

def ms(t):
    sec, frac = t.rstrip("Z").split(".")
    d = datetime.strptime(sec, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return int(d.timestamp()) * 1000 + int(frac[:3])

want = []
for line in open(sys.argv[1]):
    ev = json.loads(line)
    for s in ev.get("samples", []):
        if s["name"] == "node_load1":
            want.append((ms(ev["time"]), float(s["value"])))
series = [json.loads(l) for l in open(sys.argv[2])]
assert len(series) == 1, "expected one node_load1 series, got %d" % len(series)
got = [(round(t * 1000), float(v)) for t, v in series[0]["values"]]
print("rounds: json sink %d, Prometheus %d" % (len(want), len(got)))
assert want == got, "differ: missing %s extra %s" % (sorted(set(want) - set(got))[:5], sorted(set(got) - set(want))[:5])
gaps = [b[0] - a[0] for a, b in zip(got, got[1:]) if b[0] - a[0] > 1900]
assert not gaps, "gaps between rounds: %s ms" % gaps
assert len(got) >= 15, "too short a run"
PY
ok "every node_load1 round is in Prometheus, in order, no gap"
