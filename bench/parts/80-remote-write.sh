# Remote write: Prometheus in agent mode (--enable-feature=agent) scraping
# Debian's node_exporter every second and remote-writing to a receiving
# Prometheus, vs sensorbus scraping the same node_exporter every second
# (scrape sensor) with a remote_write sink to the same receiver, over the
# same SECS. CPU from each process's own cgroup (ns, every thread;
# cpu_track in bench/lib.sh: clock ticks, 10 ms each, were 11 of them for
# sensorbus over 60 s, so one moved its row by 9%), peak RSS from VmHWM;
# bytes per sample on the wire (snappy bodies) from each sender's own
# counters: prometheus_remote_storage_{bytes,samples}_total of the
# agent, sensorbus_remote_write_{sent_bytes,samples}_total of sensorbus
# (its agent sensor remote-writes them to the receiver).
. "$(dirname "$0")/../lib.sh"
SECS=${BENCH_RW_SECS:-60}
NE=$(command -v prometheus-node-exporter || echo /usr/bin/prometheus-node-exporter)
[ -x "$NE" ] || { row "remote write" "" "" "" "" "skipped: no prometheus-node-exporter"; exit 0; }
command -v prometheus >/dev/null || { row "remote write" "" "" "" "" "skipped: no prometheus"; exit 0; }
hwm_mb() { awk '/VmHWM/ {print $2 / 1024}' "/proc/$1/status"; }
ready() { i=0; while ! curl -sf "$1" >/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done; }

ne_port=$(free_port)
"$NE" --web.listen-address=127.0.0.1:$ne_port >"$TMP/ne.log" 2>&1 &
track_pid $!
rx_port=$(free_port)
printf 'global:\n  scrape_interval: 1m\n' >"$TMP/rx.yml"
prometheus --web.enable-remote-write-receiver --config.file="$TMP/rx.yml" \
	--storage.tsdb.path="$TMP/rx" --web.listen-address=127.0.0.1:$rx_port --log.level=warn \
	2>"$TMP/rx.log" &
track_pid $!
ready "http://127.0.0.1:$ne_port/metrics"
ready "http://127.0.0.1:$rx_port/-/ready"

ag_port=$(free_port)
cat >"$TMP/agent.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:$ne_port"]
remote_write:
  - url: http://127.0.0.1:$rx_port/api/v1/write
YML
prometheus --enable-feature=agent --config.file="$TMP/agent.yml" --storage.agent.path="$TMP/ag" \
	--web.listen-address=127.0.0.1:$ag_port --log.level=warn 2>"$TMP/ag.log" &
ag=$!
track_pid $ag
cpu_track ag $ag
cat >"$TMP/sb.json" <<JSON
{"interval": "1s",
 "sensors": {"scrape": {"targets": [{"name": "node", "url": "http://127.0.0.1:$ne_port/metrics",
                                     "interval": "1s"}]},
             "agent": {"interval": "5s"}},
 "sinks": [{"type": "remote_write", "url": "http://127.0.0.1:$rx_port/api/v1/write",
            "job": "sensorbus-node", "spool_dir": "$TMP/spool"}]}
JSON
"$SB_BIN" -c "$TMP/sb.json" --no-bpf 2>"$TMP/sb.log" &
sb=$!
track_pid $sb
cpu_track sb $sb
ready "http://127.0.0.1:$ag_port/-/ready"
sleep 5 # both past start-up: the WAL, the first scrapes, libcurl and libsnappy loaded
ag0=$(cpu_s ag)
sb0=$(cpu_s sb)
sleep "$SECS"
ag1=$(cpu_s ag)
sb1=$(cpu_s sb)
agrss=$(hwm_mb $ag)
sbrss=$(hwm_mb $sb)
sleep 6 # one more agent-sensor round reaches the receiver
agm=$(curl -sf "http://127.0.0.1:$ag_port/metrics")
ag_bytes=$(printf '%s\n' "$agm" | awk '/^prometheus_remote_storage_bytes_total/ {s += $2} END {print s + 0}')
ag_samples=$(printf '%s\n' "$agm" | awk '/^prometheus_remote_storage_samples_total/ {s += $2} END {print s + 0}')
q() { curl -sf -G "http://127.0.0.1:$rx_port/api/v1/query" --data-urlencode "query=$1" |
	$PY -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)'; }
sb_bytes=$(q 'sum(sensorbus_remote_write_sent_bytes_total)')
sb_samples=$(q 'sum(sensorbus_remote_write_samples_total)')
rejected=$(q 'sum(sensorbus_sink_dropped_total{sink="remote_write",reason="rejected"})')
# what the receiver refused, from either sender ("duplicate sample for
# timestamp", out of order): it logs each refused request with its series
refused=$(grep -c 'from remote write' "$TMP/rx.log")
[ "$refused" -gt 0 ] && note "the receiver refused $refused requests, the first: $(grep -m1 'from remote write' "$TMP/rx.log")"
agcpu=$(py "$ag1 - $ag0")
sbcpu=$(py "$sb1 - $sb0")
note "remote write over ${SECS}s: sensorbus CPU $(py "round($sbcpu, 4)")s, Prometheus agent $(py "round($agcpu, 4)")s ($(cpu_how sb)); RSS ${sbrss} MB vs ${agrss} MB; sensorbus ${sb_samples} samples in ${sb_bytes} bytes, agent ${ag_samples} samples in ${ag_bytes} bytes; rejected ${rejected}, refused by the receiver ${refused}"
r=$(py "round($sbcpu / max($agcpu, 1e-9), 3)")
row "remote write: CPU, node_exporter scraped 1/s" "$(py "round($sbcpu * 1000 / $SECS, 2)") ms/s" \
	"Prometheus agent: $(py "round($agcpu * 1000 / $SECS, 2)") ms/s" "${r}x" "<= 0.1x" \
	"$(py "'met' if $r <= 0.1 else 'MISSED'")"
r=$(py "round($sbrss / $agrss, 3)")
row "remote write: peak RSS" "$(py "round($sbrss, 1)") MB" "Prometheus agent: $(py "round($agrss, 1)") MB" \
	"${r}x" "<= 0.2x" "$(py "'met' if $r <= 0.2 else 'MISSED'")"
row "remote write: bytes per sample on the wire" \
	"$(py "round($sb_bytes / max($sb_samples, 1), 2)") B" \
	"Prometheus agent: $(py "round($ag_bytes / max($ag_samples, 1), 2)") B" \
	"$(py "round(($sb_bytes / max($sb_samples, 1)) / max($ag_bytes / max($ag_samples, 1), 1e-9), 3)")x" \
	"reported" "$(py "'ok' if $rejected == 0 and $refused == 0 and $sb_samples > 0 else 'REJECTED or none sent'")"
