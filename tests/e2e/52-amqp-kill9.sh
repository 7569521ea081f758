#!/bin/sh
# kill -9 of the agent while it sends, and again while the broker is down,
# then a restart: with buffer "disk" every accepted event of both killed
# runs reaches the broker (no gaps; duplicates allowed and counted).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rabbit.sh"

rabbit_start
start_consumer "$TMP/got.jsonl"

conf() { # RATE
	cat <<JSON
{"sensors": {"synthetic": {"rate": $1, "samples": 2}},
 "sinks": [{"type": "amqp", "url": "amqp://guest:guest@127.0.0.1:$RABBIT_PORT/",
            "spool_dir": "$TMP/spool", "buffer": "disk", "drain_rate": 5000,
            "breaker": {"failures": 2, "cooldown": "500ms"},
            "retry": {"base": "50ms", "max_delay": "300ms"},
            "connect_timeout": "1s", "confirm_timeout": "2s"}]}
JSON
}
run_of() { sed -n 's/.*run \([0-9a-f]*\) on.*/\1/p' "$1"; }

# A: killed while up and sending (fast enough to have messages in flight)
conf 3000 >"$TMP/a.json"
"$SB_BIN" -c "$TMP/a.json" 2>"$TMP/a.log" &
a=$!
track_pid $a
wait_for 20 sh -c "[ \$(wc -l <'$TMP/got.jsonl') -ge 3000 ]" || fail "A: nothing delivered"
kill -9 $a
wait $a
echo "A killed; spool after the kill:"
"$SB_BIN" spool stats "$TMP/spool"

# B: killed while the broker is down
rabbit_stop
"$SB_BIN" -c "$TMP/a.json" 2>"$TMP/b.log" &
b=$!
track_pid $b
wait_for 20 grep -q "breaker open" "$TMP/b.log" || fail "B: the breaker did not open"
sleep 1
kill -9 $b
wait $b
echo "B killed; spool after the kill:"
"$SB_BIN" spool stats "$TMP/spool" | tee "$TMP/stats.txt"
"$SB_BIN" spool verify "$TMP/spool" >/dev/null || fail "spool not clean after kill -9"

# C: restart with the broker back
rabbit_start
conf 50 >"$TMP/c.json"
"$SB_BIN" -c "$TMP/c.json" 2>"$TMP/c.log" &
c=$!
track_pid $c
wait_for 60 grep -q "spool replay done" "$TMP/c.log" || fail "C: the spool did not drain"
sleep 0.5
kill -TERM $c
wait $c || fail "C exited $?"
check_accounting "$TMP/c.log" || fail "accounting"
"$SB_BIN" spool stats "$TMP/spool"

ra=$(run_of "$TMP/a.log") rb=$(run_of "$TMP/b.log") rc=$(run_of "$TMP/c.log")
sleep 1
$CONSUMER report "$TMP/got.jsonl" >"$TMP/report.json"
python3 - "$TMP/report.json" "$ra" "$rb" "$rc" <<'PY' || fail "see above"
import json, sys
rep = json.load(open(sys.argv[1]))
for name, run in zip("ABC", sys.argv[2:]):
    r = rep.get(run)
    assert r, "run %s (%s) never arrived" % (name, run)
    print("run %s: sent (accepted) %d, delivered %d unique, %d duplicates, %d gaps"
          % (name, r["max"], r["unique"], r["duplicates"], r["ngaps"]))
    assert r["ngaps"] == 0, r
    assert name == "C" or r["max"] >= 100, r
PY
ok "kill -9 while sending and while the broker was down: no gaps"
