#!/bin/sh
# make soak: the agent with every sensor and every sink for DURATION (10m by
# default) under a changing process load, its RSS, fds, threads and CPU
# sampled every second from /proc/PID; the broker stops once mid-run and
# comes back (outage, spool, replay). Servers as in the e2e tests: private,
# on 127.0.0.1, stopped by PID. At the end: the growth verdict
# (scripts/soak.py), the agent's own delivery counters (nothing dropped,
# spools drained), the broker consumer's gaps (none), a table and a plot
# under SOAK_OUT (build/soak). Exit 0 when all hold. docs/soak.md.
here=$(cd "$(dirname "$0")" && pwd)
: "${SB_BIN:=$here/../build/sensorbus}"
SB_BIN=$(cd "$(dirname "$SB_BIN")" && pwd)/$(basename "$SB_BIN")
export SB_BIN
SB_ROOT=$(cd "$here/.." && pwd)
. "$SB_ROOT/tests/e2e/lib.sh"
OUT=${SOAK_OUT:-$SB_ROOT/build/soak}
# The run's servers and files live under OUT, not in lib.sh's
# /tmp/sensorbus-test.*: a soak outlives many test runs, and the broker
# must not lose its data dir to a sweep of /tmp. lib.sh removes it at exit.
mkdir -p "$OUT"
rmdir "$TMP"
TMP=$(mktemp -d "$OUT/run.XXXXXX")
. "$SB_ROOT/tests/e2e/rabbit.sh"

PY=/usr/bin/python3
SOAK=$here/soak.py
DURATION=${DURATION:-10m}
secs=$(echo "$DURATION" | sed -n 's/^\([0-9][0-9]*\)\(s\{0,1\}\|m\|h\)$/\1 \2/p' |
	awk '{print $1 * ($2 == "h" ? 3600 : $2 == "m" ? 60 : 1)}')
[ -n "$secs" ] && [ "$secs" -ge 120 ] || fail "DURATION=$DURATION: want 120s or more, like 10m, 30m, 1h"
command -v gnuplot >/dev/null || skip "gnuplot is not installed (scripts/deps.sh soak)"
NE=$(command -v prometheus-node-exporter) || skip "prometheus-node-exporter is not installed"
command -v prometheus >/dev/null || skip "prometheus is not installed"
rm -f "$OUT"/samples.tsv "$OUT"/summary.* "$OUT"/soak.png "$OUT"/soak.gp "$OUT"/events.txt \
	"$OUT"/agent.log "$OUT"/checks.txt
checks=$OUT/checks.txt
check() { echo "$*" | tee -a "$checks"; }

# ---- the servers ----
rabbit_start
start_consumer "$TMP/got.jsonl"

neport=$(free_port)
"$NE" --web.listen-address="127.0.0.1:$neport" >"$TMP/ne.log" 2>&1 &
track_pid $!
wait_for 10 port_open "$neport" || fail "node_exporter did not start: $(tail -3 "$TMP/ne.log")"

algod_data=$TMP/algod
python3 "$SB_ROOT/tests/fake-algod/fake_algod.py" --data-dir "$algod_data" \
	--metrics "$SB_FIXTURES/prom/algod.txt" 2>"$TMP/fake-algod.log" &
track_pid $!
wait_for 10 test -s "$algod_data/algod.net" || fail "the fake algod did not start"
# the node commits rounds, as a real one does
curl -fsS "http://$(cat "$algod_data/algod.net")/__ctl?round_ms=3000" >/dev/null ||
	fail "fake algod: cannot set round_ms"

port=$(free_port)
pport=$(free_port)
papi="http://127.0.0.1:$pport/api/v1"
cat >"$TMP/prometheus.yml" <<YML
global:
  scrape_interval: 5s
  scrape_timeout: 4s
scrape_configs:
  - job_name: sensorbus-scrape
    static_configs:
      - targets: ["127.0.0.1:$port"]
YML
prometheus --web.enable-remote-write-receiver --config.file="$TMP/prometheus.yml" \
	--storage.tsdb.path="$TMP/prom-data" --web.listen-address="127.0.0.1:$pport" \
	--log.level=warn 2>"$TMP/prometheus.log" &
track_pid $!
wait_for 30 curl -fsS "http://127.0.0.1:$pport/-/ready" ||
	fail "prometheus not ready: $(tail -5 "$TMP/prometheus.log")"

# ---- the agent: every sensor, every sink ----
cat >"$TMP/c.json" <<JSON
{"interval": "1s", "host": "soak",
 "sensors": {
   "proc": {"processes": ["sleep", "algod"]},
   "bpf": {"enabled": "auto", "watch": ["sleep"]},
   "agent": {},
   "scrape": {"targets": [{"name": "node", "url": "http://127.0.0.1:$neport/metrics", "interval": "5s"}]},
   "algod": {"data_dir": "$algod_data", "interval": "2s", "timeout": "1s"}},
 "sinks": [
   {"type": "file", "path": "$TMP/events.jsonl", "rotate_bytes": "16MiB", "keep": 2},
   {"type": "prom", "listen": "127.0.0.1:$port"},
   {"type": "amqp", "url": "amqp://guest:guest@127.0.0.1:$RABBIT_PORT/", "spool_dir": "$TMP/spool-amqp",
    "retry": {"base": "100ms", "max_delay": "2s"}, "breaker": {"failures": 3, "cooldown": "2s"},
    "connect_timeout": "2s", "heartbeat": "5s", "drain_rate": 2000},
   {"type": "remote_write", "url": "http://127.0.0.1:$pport/api/v1/write", "spool_dir": "$TMP/spool-rw"}]}
JSON
# SOAK_AGENT_ENV: VAR=VALUE words for the agent alone, e.g. a heap profiler's
# LD_PRELOAD (docs/soak.md); env execs, so $! stays the agent's PID
# shellcheck disable=SC2086
env ${SOAK_AGENT_ENV:-} "$SB_BIN" -c "$TMP/c.json" 2>"$OUT/agent.log" &
agent=$!
track_pid $agent
wait_for 30 curl -fsS "http://127.0.0.1:$port/healthz" || fail "agent not serving: $(tail -5 "$OUT/agent.log")"
echo "soak: agent pid $agent for $secs s; logs in $OUT/agent.log"

"$PY" "$SOAK" sample $agent "$OUT/samples.tsv" "$secs" &
sampler=$!
track_pid $sampler
"$PY" "$SOAK" load "$secs" >"$TMP/load.log" 2>&1 &
track_pid $!
t0=$(date +%s)
at() { echo $(($(date +%s) - t0)); }

# ---- the broker goes away once, mid-run ----
outage=$((secs / 10))
[ $outage -gt 60 ] && outage=60
[ $outage -lt 20 ] && outage=20
while [ "$(at)" -lt $((secs / 2)) ]; do sleep 1; done
echo "outage_start $(at)" >>"$OUT/events.txt"
rabbit_stop
sleep $outage
grep -q "breaker open" "$OUT/agent.log" || check "FAIL: the amqp breaker did not open while the broker was down"
rabbit_start
echo "outage_end $(at)" >>"$OUT/events.txt"

wait $sampler || check "FAIL: the sampler stopped early (the agent died?): $(tail -3 "$OUT/agent.log")"
kill -0 $agent 2>/dev/null || fail "the agent is gone: $(tail -5 "$OUT/agent.log")"

# ---- the agent's own counters: spools drained, nothing dropped ----
metric() { # NAME{LABELS}: its value on the agent's /metrics, else empty
	curl -fsS "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2}'
}
drained() {
	[ "$(metric 'sensorbus_sink_spool_records{sink="amqp"}')" = 0 ] &&
		[ "$(metric 'sensorbus_sink_spool_records{sink="remote_write"}')" = 0 ]
}
wait_for 120 drained &&
	check "ok: both spools drained (amqp, remote_write: 0 records)" ||
	check "FAIL: spools not drained: amqp $(metric 'sensorbus_sink_spool_records{sink="amqp"}'), remote_write $(metric 'sensorbus_sink_spool_records{sink="remote_write"}')"
curl -fsS "http://127.0.0.1:$port/metrics" | grep '^sensorbus_sink_dropped_total' >"$TMP/dropped"
dropped=$(awk '$2 != 0' "$TMP/dropped")
[ -s "$TMP/dropped" ] && [ -z "$dropped" ] &&
	check "ok: sensorbus_sink_dropped_total 0 for all $(wc -l <"$TMP/dropped") sink and reason series" ||
	check "FAIL: events dropped: $dropped"

# ---- Prometheus saw the agent both ways ----
query() {
	curl -fsS -G "$papi/query" --data-urlencode "query=$1" |
		"$PY" -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}
[ "$(query 'up{job="sensorbus-scrape"}')" = 1 ] &&
	check "ok: Prometheus scrapes the prom sink: up 1" || check "FAIL: the prom sink's up is not 1"
n=$(query 'count_over_time(node_load1{job="sensorbus",instance="soak"}[1h])')
[ -n "$n" ] && [ "$n" -gt $((secs / 2)) ] &&
	check "ok: remote_write: Prometheus holds $n node_load1 samples of the run" ||
	check "FAIL: remote_write: Prometheus holds ${n:-no} node_load1 samples"

# ---- a clean stop: the delivering sinks' accounting, the consumer's gaps ----
kill -TERM $agent
wait $agent || check "FAIL: agent exited $? after SIGTERM"
for s in amqp remote_write; do
	line=$(grep "\[sink:$s\].*closed: " "$OUT/agent.log" | tail -1)
	echo "$line" | grep -q 'received=\([0-9]*\) delivered=\1 spooled=0 dropped=0 in_flight=0' &&
		check "ok: $s: ${line#*closed: }" || check "FAIL: $s: ${line:-no closing line}"
done
check_accounting "$OUT/agent.log" >/dev/null || check "FAIL: delivery accounting identity broken"
run=$(sed -n 's/.*run \([0-9a-f]*\) on.*/\1/p' "$OUT/agent.log" | head -1)
amqp_delivered=$(sed -n 's/.*\[sink:amqp\].*closed: .*delivered=\([0-9]*\).*/\1/p' "$OUT/agent.log" | tail -1)
consumed() {
	$CONSUMER report "$TMP/got.jsonl" >"$TMP/report.json" &&
		"$PY" -c 'import json,sys; r=json.load(open(sys.argv[1]))[sys.argv[2]]; sys.exit(r["unique"] < int(sys.argv[3]))' \
			"$TMP/report.json" "$run" "${amqp_delivered:-1}"
}
wait_for 60 consumed
"$PY" - "$TMP/report.json" "$run" "${amqp_delivered:-0}" <<'PY' | tee -a "$checks"
import json, sys
rep = json.load(open(sys.argv[1])).get(sys.argv[2], {})
ok = rep.get("ngaps") == 0 and rep.get("unique", 0) >= int(sys.argv[3]) > 0
print("%s: broker consumer: %s unique events of %s delivered, %s duplicates, %s gaps"
      % ("ok" if ok else "FAIL", rep.get("unique"), sys.argv[3], rep.get("duplicates"), rep.get("ngaps")))
PY
rot=$(ls "$TMP"/events.jsonl* | wc -l)
published=$(sed -n 's/.*: \([0-9]*\) events published.*/\1/p' "$OUT/agent.log")
disk=$(du -sh "$TMP" | cut -f1)
check "note: $published events published; file sink: $rot files; $disk in the temp dir; $(cat "$TMP/load.log")"

# ---- the verdict ----
"$PY" "$SOAK" verdict "$OUT/samples.tsv" "$OUT" >"$TMP/verdict" 2>&1
vrc=$?
cat "$TMP/verdict"
echo
echo "soak: table $OUT/summary.md ($OUT/summary.tsv), plot $OUT/soak.png, samples $OUT/samples.tsv, checks $checks"
if [ $vrc -ne 0 ] || grep -q '^FAIL' "$checks"; then
	echo "soak: FAILED"
	exit 1
fi
echo "soak: PASSED"
