#!/bin/sh
# The broker stops for 10 s in the middle of a steady stream and comes back:
# the breaker opens and closes, the spool replays at drain_rate (measured
# and printed), nothing is lost and, with replay "ordered", events arrive in
# seq order.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rabbit.sh"

rabbit_start
start_consumer "$TMP/got.jsonl"

cat >"$TMP/agent.json" <<JSON
{"sensors": {"synthetic": {"rate": 200, "samples": 2}},
 "sinks": [{"type": "amqp", "url": "amqp://guest:guest@127.0.0.1:$RABBIT_PORT/",
            "spool_dir": "$TMP/spool", "drain_rate": 1000, "replay": "ordered",
            "retry": {"base": "50ms", "max_delay": "500ms"},
            "breaker": {"failures": 3, "cooldown": "1s"},
            "confirm_timeout": "2s", "connect_timeout": "1s", "heartbeat": "2s"}]}
JSON
"$SB_BIN" -c "$TMP/agent.json" 2>"$TMP/agent.log" &
agent=$!
track_pid $agent
sleep 3
rabbit_stop
sleep 10
grep -q "breaker open" "$TMP/agent.log" || fail "the breaker did not open while the broker was down"
rabbit_start
wait_for 60 grep -q "spool replay done" "$TMP/agent.log" || fail "the spool did not drain"
sleep 1
kill -TERM $agent
wait $agent || fail "agent exited $? after SIGTERM"

grep "breaker\|replay" "$TMP/agent.log"
grep -q "breaker closed" "$TMP/agent.log" || fail "the breaker did not close"
check_accounting "$TMP/agent.log" || fail "accounting"
published=$(sed -n 's/.*: \([0-9]*\) events published.*/\1/p' "$TMP/agent.log")
[ "$(acct_field delivered "$TMP/agent.log")" = "$published" ] ||
	fail "delivered $(acct_field delivered "$TMP/agent.log") of $published published"
wait_for 30 sh -c "$CONSUMER report '$TMP/got.jsonl' |
	grep -q '\"unique\": $published'" || fail "consumer did not get all $published events"
$CONSUMER report "$TMP/got.jsonl" | tee "$TMP/report.json"
python3 - "$TMP/report.json" "$published" <<'PY' || fail "see above"
import json, sys
(rep,) = json.load(open(sys.argv[1])).values()
assert rep["ngaps"] == 0 and rep["unique"] == int(sys.argv[2]), rep
assert rep["ordered"], "replay ordered: first arrivals in seq order"
print("sent %s, delivered %d unique, %d duplicates, 0 gaps" % (sys.argv[2], rep["unique"], rep["duplicates"]))
PY
ok "10 s outage: no gaps, breaker opened and closed, spool replayed in order"
