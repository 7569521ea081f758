#!/bin/sh
# A broker that refuses messages (a queue with x-max-length and
# reject-publish, nobody reading): the refusals are failures, retried,
# never counted as delivered; once the queue drains, everything arrives.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rabbit.sh"

rabbit_start
$CONSUMER declare --port "$RABBIT_PORT" --queue limited --max-length 50 ||
	fail "cannot declare the bounded queue"
cat >"$TMP/agent.json" <<JSON
{"sensors": {"synthetic": {"rate": 300, "samples": 1, "count": 300}},
 "sinks": [{"type": "amqp", "url": "amqp://guest:guest@127.0.0.1:$RABBIT_PORT/",
            "spool_dir": "$TMP/spool", "window": 25,
            "retry": {"base": "50ms", "max_delay": "200ms"},
            "breaker": {"failures": 3, "cooldown": "1s"}, "confirm_timeout": "2s"}]}
JSON
"$SB_BIN" -c "$TMP/agent.json" 2>"$TMP/agent.log" &
agent=$!
track_pid $agent
wait_for 30 grep -q "breaker open" "$TMP/agent.log" || fail "refusals did not open the breaker"
grep -m1 "not confirmed" "$TMP/agent.log" || fail "no failed confirms logged"
grep -m1 "breaker open" "$TMP/agent.log"
depth=$(rabbitctl list_queues -q name messages | sed -n 's/^limited[[:space:]]*//p')
delivered=$(grep -m1 "breaker open" "$TMP/agent.log" | sed -n 's/.*delivered=\([0-9]*\).*/\1/p')
echo "queue depth $depth, sink delivered $delivered when the breaker opened"
[ "$depth" = 50 ] || fail "the queue should hold its 50"
[ "$delivered" -le 50 ] || fail "refused messages were counted as delivered ($delivered)"

# let the queue drain: the breaker's probe gets through, the spool replays
start_consumer "$TMP/got.jsonl" --queue limited --max-length 50
wait_for 60 grep -q "breaker closed" "$TMP/agent.log" || fail "the breaker did not close"
wait_for 60 sh -c "$CONSUMER report '$TMP/got.jsonl' |
	grep -q '\"unique\": 300'" || fail "not all 300 events arrived"
kill -TERM $agent
wait $agent || fail "agent exited $?"
check_accounting "$TMP/agent.log" || fail "accounting"
[ "$(acct_field delivered "$TMP/agent.log")" = 300 ] || fail "delivered should end at 300"
retries=$(grep -c "not confirmed" "$TMP/agent.log")
$CONSUMER report "$TMP/got.jsonl" | tee "$TMP/report.json"
python3 - "$TMP/report.json" <<'PY' || fail "see above"
import json, sys
(r,) = json.load(open(sys.argv[1])).values()
assert r["unique"] == 300 and r["ngaps"] == 0, r
print("sent 300, delivered %d unique, %d duplicates, 0 gaps" % (r["unique"], r["duplicates"]))
PY
ok "refused messages failed, were retried, counted delivered only once confirmed"
