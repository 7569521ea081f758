#!/bin/sh
# Measures the amqp sink against a private local rabbitmq-server (not a
# test: numbers only). Usage: SB_BIN=build/sensorbus bench/amqp.sh [EVENTS]
#  1. throughput with publisher confirms, workers 1/2/4: a spool of EVENTS
#     (default 100000) filled while the broker is unreachable, then drained
#     with drain_rate 0; events/s = EVENTS / the slowest worker's drain time.
#  2. drain_rate configured vs measured (the sink's own replay log line).
#  3. live: synthetic at full speed for 10 s, events confirmed per second.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export SB_BIN=${SB_BIN:-$here/../build/sensorbus}
export SB_ROOT=$(cd "$here/.." && pwd)
n=${1:-100000}
. "$here/../tests/e2e/lib.sh"
. "$here/../tests/e2e/rabbit.sh"
rabbit_start
$CONSUMER consume --port "$RABBIT_PORT" --out "$TMP/bench.jsonl" --queue bench >/dev/null 2>&1 &
track_pid $!
wait_for 20 test -f "$TMP/bench.jsonl.ready" || fail "consumer did not start"
dead=$(free_port)

conf() { # PORT WORKERS DRAIN SYNTHETIC
	cat <<JSON
{"sensors": {"synthetic": $4},
 "sinks": [{"type": "amqp", "url": "amqp://guest:guest@127.0.0.1:$1/", "workers": $2,
            "shard_by": "seq", "spool_dir": "$TMP/spool-$2-$3", "drain_rate": $3,
            "spool_max_bytes": "4GiB", "breaker": {"failures": 1, "cooldown": "1s"},
            "connect_timeout": "200ms", "queue_events": 1000000, "queue_bytes": "2GiB"}]}
JSON
}

drain() { # WORKERS DRAIN: fills a spool with $n events, then times its replay
	conf "$dead" "$1" "$2" "{\"rate\": 0, \"samples\": 10, \"count\": $n}" >"$TMP/fill.json"
	"$SB_BIN" -c "$TMP/fill.json" --duration 60s --once 2>"$TMP/fill.log"
	conf "$RABBIT_PORT" "$1" "$2" '{"rate": 1, "samples": 1}' >"$TMP/drain.json"
	"$SB_BIN" -c "$TMP/drain.json" 2>"$TMP/drain.log" &
	pid=$!
	i=0
	while [ "$(grep -c 'spool replay done' "$TMP/drain.log")" -lt "$1" ] && [ $i -lt 3000 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -TERM $pid
	wait $pid
	python3 - "$TMP/drain.log" "$1" "$2" <<'PY'
import re, sys
done = [(int(m.group(1)), float(m.group(2))) for m in
        (re.search(r"replay done: (\d+) events in ([\d.]+)s", l) for l in open(sys.argv[1])) if m]
ev = sum(e for e, _ in done)
t = max(s for _, s in done)
print("workers %s drain_rate %s: %d events in %.2fs = %.0f events/s (per worker: %s)"
      % (sys.argv[2], sys.argv[3] if sys.argv[3] != "0" else "unlimited", ev, t, ev / t,
         ", ".join("%.0f/s" % (e / s) for e, s in done)))
PY
	rm -rf "$TMP/spool-$1-$2"
}

echo "== throughput with confirms (replay of $n events, drain_rate unlimited)"
for w in 1 2 4; do drain $w 0; done
echo "== drain rate, configured vs measured (one worker)"
n=20000
for r in 1000 5000; do drain 1 $r; done
echo "== live: synthetic as fast as the bus takes it, 10 s, buffer disk"
for w in 1 2; do
	conf "$RABBIT_PORT" $w 0 '{"rate": 0, "samples": 10}' >"$TMP/live.json"
	"$SB_BIN" -c "$TMP/live.json" --duration 10s 2>"$TMP/live.log"
	sed -n 's/.*closed: \(.*\)/\1/p' "$TMP/live.log" | awk -v w=$w '{split($2,d,"="); printf "workers %d: %s -> %.0f confirmed/s over 10 s\n", w, $0, d[2]/10}'
	rm -rf "$TMP/spool-$w-0"
done
