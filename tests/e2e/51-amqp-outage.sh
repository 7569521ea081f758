#!/bin/sh
# The broker stops for 10 s in the middle of a steady stream and comes back:
# the breaker opens and closes, the spool replays at drain_rate (measured
# and printed), nothing is lost and, with replay "ordered", events arrive in
# seq order. Once per format (rabbit.sh: JSON events, protobuf batches).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rabbit.sh"

rabbit_start
start_consumer "$TMP/got.jsonl"

outage() { # FORMAT
	cat >"$TMP/$1.json" <<JSON
{"sensors": {"synthetic": {"rate": 200, "samples": 2}},
 "sinks": [{"type": "amqp", "url": "amqp://guest:guest@127.0.0.1:$RABBIT_PORT/",
            "spool_dir": "$TMP/spool-$1", "drain_rate": 1000, "replay": "ordered",
            "retry": {"base": "50ms", "max_delay": "500ms"},
            "breaker": {"failures": 3, "cooldown": "1s"},
            "confirm_timeout": "2s", "connect_timeout": "1s", "heartbeat": "2s"
            $(format_keys "$1")}]}
JSON
	log=$TMP/$1.log
	"$SB_BIN" -c "$TMP/$1.json" 2>"$log" &
	agent=$!
	track_pid $agent
	sleep 3
	rabbit_stop
	sleep 10
	grep -q "breaker open" "$log" || fail "$1: the breaker did not open while the broker was down"
	rabbit_start
	wait_for 60 grep -q "spool replay done" "$log" || fail "$1: the spool did not drain"
	sleep 1
	kill -TERM $agent
	wait $agent || fail "$1: agent exited $? after SIGTERM"

	grep "breaker\|replay" "$log"
	grep -q "breaker closed" "$log" || fail "$1: the breaker did not close"
	# the replay's closing line: its events, its time to the ms, and what
	# it cost the agent
	grep -Eq "spool replay done: [1-9][0-9]* events in [0-9]+\.[0-9]{3}s \([0-9]+/s, drain_rate [0-9]+/s; the agent's CPU [0-9]+\.[0-9] ms\)" "$log" ||
		fail "$1: the replay's closing line: $(grep 'replay done' "$log")"
	check_accounting "$log" || fail "$1: accounting"
	published=$(sed -n 's/.*: \([0-9]*\) events published.*/\1/p' "$log")
	[ "$(acct_field delivered "$log")" = "$published" ] ||
		fail "$1: delivered $(acct_field delivered "$log") of $published published"
	run=$(sed -n 's/.*run \([0-9a-f]*\) on.*/\1/p' "$log")
	wait_for 30 sh -c "$CONSUMER report '$TMP/got.jsonl' |
		grep -q '\"$run\": {[^}]*\"unique\": $published}'" ||
		fail "$1: consumer did not get all $published events"
	$CONSUMER report "$TMP/got.jsonl" >"$TMP/report.json"
	python3 - "$TMP/report.json" "$run" "$published" "$1" <<'PY' || fail "$1: see above"
import json, sys
rep = json.load(open(sys.argv[1]))[sys.argv[2]]
assert rep["ngaps"] == 0 and rep["unique"] == int(sys.argv[3]), rep
assert rep["ordered"], "replay ordered: first arrivals in seq order"
print("%s: sent %s, delivered %d unique, %d duplicates, 0 gaps"
      % (sys.argv[4], sys.argv[3], rep["unique"], rep["duplicates"]))
PY
}

for f in $AMQP_FORMATS; do
	outage "$f"
done
ok "10 s outage ($AMQP_FORMATS): no gaps, breaker opened and closed, spool replayed in order"
