#!/bin/sh
# A fleet's consumer serves every agent's series on one /metrics
# (docs/fleet.md): three agents with distinct hosts publish to a broker,
# one consumer (the amqp sensor) has a prom sink; each agent's series is
# there with a host label naming it, and the consumer's own telemetry
# (no host label) beside them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rabbit.sh"
trap '_rabbit_cleanup; _cleanup' EXIT INT TERM
command -v curl >/dev/null || skip "curl is not installed"
rabbit_start
url="amqp://guest:guest@127.0.0.1:$RABBIT_PORT/"
mport=$(free_port)
cat >"$TMP/consumer.json" <<JSON
{"host": "fleet-consumer",
 "sensors": {"amqp": {"urls": ["$url"], "queue": "fleet-prom", "queue_type": "classic"},
             "agent": {}},
 "sinks": [{"type": "prom", "listen": "127.0.0.1:$mport"}]}
JSON
"$SB_BIN" -c "$TMP/consumer.json" -i 500ms 2>"$TMP/consumer.log" &
cons=$!
track_pid $cons
wait_for 20 grep -q "consuming queue fleet-prom" "$TMP/consumer.log" ||
	fail "the consumer did not start: $(tail -3 "$TMP/consumer.log")"
for h in fleet-a fleet-b fleet-c; do
	cat >"$TMP/$h.json" <<JSON
{"host": "$h",
 "sensors": {"synthetic": {"rate": 100, "samples": 2, "count": 50, "exit_when_done": true}},
 "sinks": [{"type": "amqp", "url": "$url", "spool_dir": "$TMP/spool-$h",
            "format": "protobuf", "batch_events": 10}]}
JSON
	"$SB_BIN" -c "$TMP/$h.json" 2>"$TMP/$h.log" || fail "agent $h exited $?: $(tail -3 "$TMP/$h.log")"
done
metrics() { curl -fsS "http://127.0.0.1:$mport/metrics" >"$TMP/metrics.txt" 2>/dev/null; }
all_hosts() {
	metrics || return 1
	for h in fleet-a fleet-b fleet-c; do
		grep -q "^sensorbus_synthetic_value{host=\"$h\",l0=\"1\"} " "$TMP/metrics.txt" || return 1
	done
}
wait_for 20 all_hosts || fail "not every agent's series on /metrics: $(grep synthetic_value "$TMP/metrics.txt" | head -5)"
grep '^sensorbus_synthetic_value{' "$TMP/metrics.txt" | grep 'l0="1"'
# the consumer's own series: no host label
grep -q '^sensorbus_amqp_consumer_events_total{queue="fleet-prom"} 150$' "$TMP/metrics.txt" ||
	wait_for 10 sh -c "curl -fsS http://127.0.0.1:$mport/metrics | grep -q '^sensorbus_amqp_consumer_events_total{queue=\"fleet-prom\"} 150\$'" ||
	fail "the consumer's own telemetry does not count 150 events: $(grep amqp_consumer "$TMP/metrics.txt")"
grep -q 'host="fleet-consumer"' "$TMP/metrics.txt" && fail "a local series got a host label"
# the prom sink took them (it has nothing to flush): the 15 deliveries
# are acked while the consumer runs, not only at its exit
acked() {
	metrics && grep -q '^sensorbus_amqp_consumer_acked_total{queue="fleet-prom"} 15$' "$TMP/metrics.txt" &&
		grep -q '^sensorbus_amqp_consumer_unacked{queue="fleet-prom"} 0$' "$TMP/metrics.txt"
}
wait_for 10 acked || fail "the consumer did not ack what its prom sink took: $(grep -E 'consumer_(acked|unacked)' "$TMP/metrics.txt")"
kill -TERM $cons
wait $cons || fail "the consumer exited $?"
ok "one /metrics serves the three agents' series, each labelled with its host; the deliveries acked"
