#!/bin/sh
# kill -9 of the agent while it sends, and again while the broker is down,
# then a restart: with buffer "disk" every accepted event of both killed
# runs reaches the broker (no gaps; duplicates allowed and counted). Once
# per format (rabbit.sh: JSON events, protobuf batches).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rabbit.sh"

rabbit_start
start_consumer "$TMP/got.jsonl"

conf() { # RATE FORMAT
	cat <<JSON
{"sensors": {"synthetic": {"rate": $1, "samples": 2}},
 "sinks": [{"type": "amqp", "url": "amqp://guest:guest@127.0.0.1:$RABBIT_PORT/",
            "spool_dir": "$TMP/spool-$2", "buffer": "disk", "drain_rate": 5000,
            "breaker": {"failures": 2, "cooldown": "500ms"},
            "retry": {"base": "50ms", "max_delay": "300ms"},
            "connect_timeout": "1s", "confirm_timeout": "2s" $(format_keys "$2")}]}
JSON
}
run_of() { sed -n 's/.*run \([0-9a-f]*\) on.*/\1/p' "$1"; }

kill9() { # FORMAT
	spool=$TMP/spool-$1
	# A: killed while up and sending (fast enough to have messages in flight)
	conf 3000 "$1" >"$TMP/$1-a.json"
	base=$(wc -l <"$TMP/got.jsonl")
	"$SB_BIN" -c "$TMP/$1-a.json" 2>"$TMP/$1-a.log" &
	a=$!
	track_pid $a
	wait_for 20 sh -c "[ \$(wc -l <'$TMP/got.jsonl') -ge $((base + 3000)) ]" ||
		fail "$1: A: nothing delivered"
	kill -9 $a
	wait $a
	echo "$1: A killed; spool after the kill:"
	"$SB_BIN" spool stats "$spool"

	# B: killed while the broker is down
	rabbit_stop
	"$SB_BIN" -c "$TMP/$1-a.json" 2>"$TMP/$1-b.log" &
	b=$!
	track_pid $b
	wait_for 20 grep -q "breaker open" "$TMP/$1-b.log" || fail "$1: B: the breaker did not open"
	sleep 1
	kill -9 $b
	wait $b
	echo "$1: B killed; spool after the kill:"
	"$SB_BIN" spool stats "$spool"
	"$SB_BIN" spool verify "$spool" >/dev/null || fail "$1: spool not clean after kill -9"

	# C: restart with the broker back
	rabbit_start
	conf 50 "$1" >"$TMP/$1-c.json"
	"$SB_BIN" -c "$TMP/$1-c.json" 2>"$TMP/$1-c.log" &
	c=$!
	track_pid $c
	wait_for 60 grep -q "spool replay done" "$TMP/$1-c.log" || fail "$1: C: the spool did not drain"
	sleep 0.5
	kill -TERM $c
	wait $c || fail "$1: C exited $?"
	check_accounting "$TMP/$1-c.log" || fail "$1: accounting"
	"$SB_BIN" spool stats "$spool"

	ra=$(run_of "$TMP/$1-a.log") rb=$(run_of "$TMP/$1-b.log") rc=$(run_of "$TMP/$1-c.log")
	sleep 1
	$CONSUMER report "$TMP/got.jsonl" >"$TMP/report.json"
	python3 - "$TMP/report.json" "$1" "$ra" "$rb" "$rc" <<'PY' || fail "$1: see above"
import json, sys
rep = json.load(open(sys.argv[1]))
for name, run in zip("ABC", sys.argv[3:]):
    r = rep.get(run)
    assert r, "run %s (%s) never arrived" % (name, run)
    print("%s: run %s: sent (accepted) %d, delivered %d unique, %d duplicates, %d gaps"
          % (sys.argv[2], name, r["max"], r["unique"], r["duplicates"], r["ngaps"]))
    assert r["ngaps"] == 0, r
    assert name == "C" or r["max"] >= 100, r
PY
}

for f in $AMQP_FORMATS; do
	kill9 "$f"
done
ok "kill -9 while sending and while the broker was down ($AMQP_FORMATS): no gaps"
