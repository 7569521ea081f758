# The fleet's consuming side (docs/fleet.md). Consumer: one consumer (the
# amqp sensor) takes BENCH_FLEET_EVENTS (default 200000) events off a local
# queue, pre-filled by an agent in protobuf batches of 100, into a file
# sink with acks after flush (flush_interval 100ms): events/s from its
# start until its file holds them all (polled every 50 ms), against the
# issue's 50,000. End to end: a 3-node cluster, a quorum queue, three
# agents (synthetic, rate 0, BENCH_FLEET_E2E_EVENTS each, default 30000,
# protobuf batches of 100, urls listing every node) and one consumer into
# a file: events/s from the agents' start until the consumer's file holds
# every event (reported, no target). Both are wall-clock figures on this
# machine, whatever else runs on it.
# bench-timeout: 480
. "$(dirname "$0")/../lib.sh"
N=${BENCH_FLEET_EVENTS:-200000}
M=${BENCH_FLEET_E2E_EVENTS:-30000}
rmdir "$TMP"
. "$SB_ROOT/tests/e2e/lib.sh"
skip() {
	row "fleet consumer (amqp sensor)" "" "" "" ">= 50,000 events/s" "skipped: $*"
	exit 0
}
. "$SB_ROOT/tests/e2e/rabbit.sh"
note ""
note "### The fleet (part 90)"
note ""

# lines_reach FILE N SECS: waits (bounded) until FILE has N lines; prints
# the seconds it took from T0 (set by the caller, date +%s.%N). Reads only
# what was added since the last look: counting the whole file each time
# took the CPU the consumer was being measured with.
lines_reach() {
	$PY - "$1" "$2" "$3" "$T0" <<'PY'
import sys, time
path, n, secs, t0 = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
end = time.time() + secs
f, c = None, 0
while time.time() < end:
    if f is None:
        try:
            f = open(path, "rb")
        except FileNotFoundError:
            time.sleep(0.05)
            continue
    while True:
        b = f.read(1 << 20)
        if not b:
            break
        c += b.count(b"\n")
    if c >= n:
        print("%.3f" % (time.time() - t0))
        sys.exit(0)
    time.sleep(0.05)
sys.exit("only %d of %d lines after %.0f s" % (c, n, secs))
PY
}

# ---- one consumer, a local queue ----
rabbit_start >&2
url="amqp://guest:guest@127.0.0.1:$RABBIT_PORT/"
$CONSUMER declare --port "$RABBIT_PORT" --queue bench-fleet --binding 'sensorbus.#' ||
	fail "cannot declare the queue"
cat >"$TMP/fill.json" <<JSON
{"host": "bench-agent",
 "sensors": {"synthetic": {"rate": 0, "samples": 10, "count": $N, "exit_when_done": true}},
 "sinks": [{"type": "amqp", "url": "$url", "spool_dir": "$TMP/spool-fill",
            "format": "protobuf", "batch_events": 100, "shutdown_grace": "120s"}]}
JSON
"$SB_BIN" -c "$TMP/fill.json" 2>"$TMP/fill.log" || fail "the filling agent failed: $(tail -3 "$TMP/fill.log")"
queued=$(rabbitctl list_queues -q --no-table-headers name messages 2>/dev/null | awk '$1 == "bench-fleet" {print $2}')
cat >"$TMP/consumer.json" <<JSON
{"host": "bench-consumer",
 "sensors": {"amqp": {"urls": ["$url"], "queue": "bench-fleet", "prefetch": 256}},
 "sinks": [{"type": "file", "path": "$TMP/consumed.jsonl", "flush_interval": "100ms",
            "rotate_bytes": 0}]}
JSON
T0=$(date +%s.%N)
"$SB_BIN" -c "$TMP/consumer.json" 2>"$TMP/consumer.log" &
cons=$!
track_pid $cons
secs=$(lines_reach "$TMP/consumed.jsonl" "$N" 120) || fail "the consumer did not take every event: $(tail -3 "$TMP/consumer.log")"
# its CPU (user + system, both threads; clock ticks of 1/100 s)
cpu=$(awk '{print ($14 + $15) / 100}' /proc/$cons/stat)
kill -TERM $cons
wait $cons
rate=$(py "int($N / $secs)")
left=$(rabbitctl list_queues -q --no-table-headers name messages 2>/dev/null | awk '$1 == "bench-fleet" {print $2}')
met=no
[ "$rate" -ge 50000 ] && met=yes
row "fleet consumer: protobuf batches off a local queue into a file, acks after flush" \
	"$rate events/s" "" "" ">= 50,000 events/s" "$met"
note "- consumer: $N events in $queued messages, taken in $secs s (from its start until its file held them all), $cpu s of CPU; left in the queue after it stopped: ${left:-?} messages; $(sed -n 's/.*queue bench-fleet: //p' "$TMP/consumer.log")"
rabbit_stop >&2

# ---- three agents -> a 3-node cluster -> one consumer ----
rabbit_cluster_start 3 >&2
urls=$RC_URLS
cat >"$TMP/e2e-consumer.json" <<JSON
{"host": "bench-consumer",
 "sensors": {"amqp": {"urls": [$urls], "queue": "bench-fleet-q", "queue_type": "quorum",
                      "prefetch": 256}},
 "sinks": [{"type": "file", "path": "$TMP/e2e.jsonl", "flush_interval": "100ms",
            "rotate_bytes": 0}]}
JSON
"$SB_BIN" -c "$TMP/e2e-consumer.json" 2>"$TMP/e2e-consumer.log" &
cons=$!
track_pid $cons
wait_for 30 grep -q "consuming queue" "$TMP/e2e-consumer.log" || fail "the consumer did not start"
T0=$(date +%s.%N)
for h in bench-a bench-b bench-c; do
	cat >"$TMP/$h.json" <<JSON
{"host": "$h",
 "sensors": {"synthetic": {"rate": 0, "samples": 10, "count": $M, "exit_when_done": true}},
 "sinks": [{"type": "amqp", "urls": [$urls], "spool_dir": "$TMP/spool-$h",
            "format": "protobuf", "batch_events": 100, "shutdown_grace": "120s"}]}
JSON
	"$SB_BIN" -c "$TMP/$h.json" 2>"$TMP/$h.log" &
	track_pid $!
done
secs=$(lines_reach "$TMP/e2e.jsonl" $((3 * M)) 240) || fail "the consumer did not get every event: $(tail -3 "$TMP/e2e-consumer.log")"
kill -TERM $cons
wait $cons
rate=$(py "int(3 * $M / $secs)")
row "fleet end to end: 3 agents -> 3-node cluster (quorum) -> 1 consumer -> file" \
	"$rate events/s" "" "" "(reported)" ""
note "- end to end: $((3 * M)) events from 3 agents in $secs s, through a quorum queue of 3 replicas on this one machine; load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; $(sed -n 's/.*queue bench-fleet-q: //p' "$TMP/e2e-consumer.log")"
_rabbit_cluster_cleanup >&2
