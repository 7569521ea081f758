#!/bin/sh
# amqp sink against a real rabbitmq-server: every event arrives once, as a
# persistent JSON message with message_id run:seq, the routing key from the
# template and a timestamp; disk and memory buffers, one and two workers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rabbit.sh"

rabbit_start
start_consumer "$TMP/got.jsonl"

run_agent() { # NAME EXTRA-SINK-JSON: 400 events at 1000/s
	cat >"$TMP/$1.json" <<JSON
{"host": "node-7.example", "sensors": {"synthetic": {"rate": 1000, "samples": 2, "count": 400}},
 "sinks": [{"type": "amqp", "url": "amqp://guest:guest@127.0.0.1:$RABBIT_PORT/",
            "spool_dir": "$TMP/spool-$1", "spool_segment_bytes": "64KiB" $2}]}
JSON
	"$SB_BIN" -c "$TMP/$1.json" --duration 1500ms 2>"$TMP/$1.log" || fail "$1: agent exited $?"
	check_accounting "$TMP/$1.log" >/dev/null || fail "$1: $(check_accounting "$TMP/$1.log")"
	[ "$(acct_field delivered "$TMP/$1.log")" = 400 ] ||
		fail "$1: delivered $(acct_field delivered "$TMP/$1.log"), want 400"
	grep "run " "$TMP/$1.log" | sed -n 's/.*run \([0-9a-f]*\) on.*/\1/p' >"$TMP/$1.run"
}

run_agent disk ''
run_agent memory ', "buffer": "memory"'
run_agent workers ', "workers": 2, "shard_by": "seq"'
run_agent batched ', "batch_events": 50'
wait_for 20 sh -c "[ \$(wc -l <'$TMP/got.jsonl') -ge 1600 ]" || fail "consumer got $(wc -l <"$TMP/got.jsonl") of 1600"
sleep 0.5

$CONSUMER report "$TMP/got.jsonl" >"$TMP/report.json"
cat "$TMP/report.json"
for name in disk memory workers batched; do
	run=$(cat "$TMP/$name.run")
	python3 - "$TMP/report.json" "$run" "$name" <<'PY' || fail "$name: see above"
import json, sys
rep = json.load(open(sys.argv[1]))[sys.argv[2]]
name = sys.argv[3]
assert rep["unique"] == 400 and rep["ngaps"] == 0, (name, rep)
assert rep["duplicates"] == 0, (name, rep)
if name != "workers":
    assert rep["ordered"], (name, "one worker keeps seq order")
print(name, "ok:", rep["messages"], "messages, no gaps, no duplicates")
PY
done
python3 - "$TMP/got.jsonl" "$(cat "$TMP/disk.run")" <<'PY' || fail "message properties"
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["run"] != sys.argv[2]:
        continue
    assert r["mid"] == "%s:%d" % (r["run"], r["seq"]), r
    assert r["rk"] == "sensorbus.node-7_example.synthetic.metrics", r
    assert r["ct"] == "application/json" and r["dm"] == 2 and r["ts"] > 1.6e9, r
print("properties ok")
PY
python3 - "$TMP/got.jsonl" "$(cat "$TMP/batched.run")" <<'PY' || fail "batch properties"
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["run"] != sys.argv[2]:
        continue
    first, last = r["mid"].split(":")[1].split("-") if "-" in r["mid"] else (r["seq"],) * 2
    assert int(first) <= r["seq"] <= int(last), r
    assert r["ct"] == ("application/x-ndjson" if r["n"] > 1 else "application/json"), r
    n += r["n"] > 1
assert n > 300, "most events came in batches: %d" % n
print("batches ok")
PY
ok "400 events per run delivered once, in order, with the contract's properties"
