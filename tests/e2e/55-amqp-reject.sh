#!/bin/sh
# A broker that refuses messages (a queue with x-max-length and
# reject-publish, nobody reading): the refusals are failures, retried,
# never counted as delivered; once the queue drains, everything arrives.
# Once per format (rabbit.sh): JSON events into a queue of 50 messages,
# protobuf batches (at least three: 300 events) into a queue of one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rabbit.sh"

rabbit_start

reject() { # FORMAT
	limit=50
	[ "$1" = json ] || limit=1
	queue=limited-$1
	$CONSUMER declare --port "$RABBIT_PORT" --queue "$queue" --max-length $limit \
		--binding "$1.#" ||
		fail "$1: cannot declare the bounded queue"
	cat >"$TMP/$1.json" <<JSON
{"sensors": {"synthetic": {"rate": 300, "samples": 1, "count": 300}},
 "sinks": [{"type": "amqp", "url": "amqp://guest:guest@127.0.0.1:$RABBIT_PORT/",
            "spool_dir": "$TMP/spool-$1", "window": 25,
            "routing_key": "$1.{source}", "retry": {"base": "50ms", "max_delay": "200ms"},
            "breaker": {"failures": 3, "cooldown": "1s"}, "confirm_timeout": "2s"
            $(format_keys "$1")}]}
JSON
	log=$TMP/$1.log
	"$SB_BIN" -c "$TMP/$1.json" 2>"$log" &
	agent=$!
	track_pid $agent
	wait_for 30 grep -q "breaker open" "$log" || fail "$1: refusals did not open the breaker"
	grep -m1 "not confirmed" "$log" || fail "$1: no failed confirms logged"
	grep -m1 "breaker open" "$log"
	depth=$(rabbitctl list_queues -q name messages | sed -n "s/^$queue[[:space:]]*//p")
	delivered=$(grep -m1 "breaker open" "$log" | sed -n 's/.*delivered=\([0-9]*\).*/\1/p')
	echo "$1: queue depth $depth, sink delivered $delivered when the breaker opened"
	[ "$depth" = $limit ] || fail "$1: the queue should hold its $limit"

	# let the queue drain: the breaker's probe gets through, the spool replays
	start_consumer "$TMP/$1-got.jsonl" --queue "$queue" --max-length $limit --binding "$1.#"
	wait_for 60 grep -q "breaker closed" "$log" || fail "$1: the breaker did not close"
	wait_for 60 sh -c "$CONSUMER report '$TMP/$1-got.jsonl' |
		grep -q '\"unique\": 300'" || fail "$1: not all 300 events arrived"
	kill -TERM $agent
	wait $agent || fail "$1: agent exited $?"
	check_accounting "$log" || fail "$1: accounting"
	[ "$(acct_field delivered "$log")" = 300 ] || fail "$1: delivered should end at 300"
	$CONSUMER report "$TMP/$1-got.jsonl" | tee "$TMP/$1-report.json"
	# the first $limit messages the consumer got are those the queue held
	# when the breaker opened: no more events than theirs were delivered
	python3 - "$TMP/$1-report.json" "$TMP/$1-got.jsonl" "$limit" "$delivered" "$1" <<'PY' ||
import json, sys
(r,) = json.load(open(sys.argv[1])).values()
assert r["unique"] == 300 and r["ngaps"] == 0, r
held, seen = 0, set()
for line in open(sys.argv[2]):
    m = json.loads(line)
    if m["mid"] not in seen and len(seen) < int(sys.argv[3]):
        seen.add(m["mid"])
        held += m["n"]
assert int(sys.argv[4]) <= held, ("refused messages counted as delivered", sys.argv[4], held)
print("%s: sent 300, delivered %d unique, %d duplicates, 0 gaps; %s delivered of %d held"
      % (sys.argv[5], r["unique"], r["duplicates"], sys.argv[4], held))
PY
		fail "$1: see above"
}

for f in $AMQP_FORMATS; do
	reject "$f"
done
ok "refused messages ($AMQP_FORMATS) failed, were retried, counted delivered only once confirmed"
