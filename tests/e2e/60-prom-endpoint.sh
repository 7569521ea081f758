# The prom sink on a real agent (default sensors: proc, bpf where it can,
# agent): /metrics passes `promtool check metrics` but for node_exporter's
# own lint notes, OpenMetrics passes the strict Python parser, gzip,
# /healthz, /readyz (ready, then not ready with the reason when a sink
# fails), 404/405, and a taken port, an unknown host name or a foreign
# address is a clean exit 1 naming the address and what is wrong with it.
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || fail "promtool missing (scripts/deps.sh test installs prometheus)"
command -v curl >/dev/null || fail "curl missing"
PY=""
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import prometheus_client.openmetrics.parser' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || fail "python3-prometheus-client missing (scripts/deps.sh test installs it)"

port=$(free_port)
url="http://127.0.0.1:$port"
cat >"$TMP/c.json" <<JSON
{"sinks":[{"type":"prom","listen":"127.0.0.1:$port","timeout":"1s","max_connections":8}]}
JSON
"$SB_BIN" -c "$TMP/c.json" -i 500ms 2>"$TMP/log" &
pid=$!
track_pid $pid
wait_for 10 curl -fsS "$url/healthz" || fail "no /healthz: $(cat "$TMP/log")"
[ "$(curl -sS "$url/healthz")" = ok ] || fail "/healthz body"
wait_for 15 curl -fsS "$url/readyz" || fail "/readyz never ready: $(curl -sS "$url/readyz")"
[ "$(curl -sS "$url/readyz")" = ready ] || fail "/readyz body"
ok "/healthz and /readyz answer 200"

# Text format: what a plain scraper (curl's Accept: */*) gets.
wait_for 10 sh -c "curl -fsS '$url/metrics' | grep -q '^sensorbus_events_published_total{source=\"agent\"}'" ||
	fail "no self-telemetry on /metrics"
curl -sS -D "$TMP/h.txt" -o "$TMP/m.txt" "$url/metrics" || fail "GET /metrics"
grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$TMP/h.txt" ||
	fail "text content type: $(cat "$TMP/h.txt")"
promtool check metrics <"$TMP/m.txt" >"$TMP/lint.txt" 2>&1
# node_exporter's own names draw these notes from promtool too; nothing else may.
grep -vE "^node_(memory|netstat)_[A-Za-z0-9_]+ metric names should be written in 'snake_case' not 'camelCase'\$" "$TMP/lint.txt" |
	grep -vE '^node_[a-z_]+_bits use base unit "bytes" instead of "bits"$' >"$TMP/lint-rest.txt"
[ -s "$TMP/lint-rest.txt" ] && fail "promtool check metrics: $(cat "$TMP/lint-rest.txt")"
for f in node_load1 process_cpu_seconds_total process_resident_memory_bytes process_open_fds \
	process_max_fds process_start_time_seconds process_threads sensorbus_ready \
	'sensorbus_build_info{commit=' 'sensorbus_events_published_total{source="proc"}' \
	'sensorbus_events_published_total{source="agent"}' 'sensorbus_sink_delivered_total{sink="prom"}' \
	'sensorbus_sink_dropped_total{reason="queue_full",sink="prom"}' \
	'sensorbus_sensor_running{sensor="proc"}' 'sensorbus_prom_series{sink="prom"}'; do
	grep -qF "$f" "$TMP/m.txt" || fail "/metrics lacks $f"
done
grep -q '^# HELP node_load1 1m load average.$' "$TMP/m.txt" || fail "node_load1 lacks its HELP"
grep -q '^# TYPE process_cpu_seconds_total counter$' "$TMP/m.txt" || fail "process_cpu TYPE"
ok "text format 0.0.4 passes promtool check metrics ($(grep -vc '^#' "$TMP/m.txt") series)"

# OpenMetrics: what Prometheus asks for.
curl -sS -D "$TMP/h.txt" -o "$TMP/om.txt" \
	-H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' \
	"$url/metrics" || fail "GET /metrics (OpenMetrics)"
grep -qi '^content-type: application/openmetrics-text; version=1.0.0; charset=utf-8' "$TMP/h.txt" ||
	fail "OpenMetrics content type: $(cat "$TMP/h.txt")"
"$PY" - "$TMP/om.txt" <<'PY' || fail "OpenMetrics output rejected by the strict parser"
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
assert text.endswith("# EOF\n"), "no # EOF"
fams = {f.name: f for f in text_string_to_metric_families(text)}
assert fams["process_cpu_seconds"].type == "counter", fams["process_cpu_seconds"]
assert fams["node_load1"].type == "gauge"
assert fams["sensorbus_ready"].samples[0].value == 1
print(len(fams), "families")
PY
ok "OpenMetrics when asked, accepted by the strict parser"

curl -sS -D "$TMP/h.txt" -o "$TMP/gz" -H 'Accept-Encoding: gzip' "$url/metrics"
grep -qi '^content-encoding: gzip' "$TMP/h.txt" || fail "no gzip when accepted"
gzip -dc "$TMP/gz" | grep -q '^node_load1 ' || fail "gzip body does not decompress to metrics"
# Rendered ahead: after a scrape the loop renders the next round in the form
# that scrape asked for, and a scrape a round later is answered from it.
ahead=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	curl -sS -D "$TMP/h.txt" -o "$TMP/gz" -H 'Accept-Encoding: gzip' \
		-H 'Accept: application/openmetrics-text;version=1.0.0' "$url/metrics" ||
		fail "GET /metrics (OpenMetrics, gzip)"
	grep -qi '^content-encoding: gzip' "$TMP/h.txt" || fail "no gzip in round $i"
	grep -qi '^content-type: application/openmetrics-text' "$TMP/h.txt" ||
		fail "not OpenMetrics in round $i"
	gzip -dc "$TMP/gz" >"$TMP/om2.txt" || fail "round $i: gzip body does not decompress"
	[ "$(tail -1 "$TMP/om2.txt")" = "# EOF" ] || fail "round $i: OpenMetrics without # EOF"
	ahead=$(sed -n 's/^sensorbus_prom_scrapes_ahead_total{sink="prom"} //p' "$TMP/om2.txt")
	[ "${ahead:-0}" -ge 3 ] && break
	sleep 0.6
done
[ "${ahead:-0}" -ge 3 ] || fail "scrapes a round apart not answered as rendered ahead: ${ahead:-none}"
ok "scrapes a round apart answered as rendered ahead, in the form asked ($ahead)"
curl -sS -I "$url/metrics" | head -1 | grep -q ' 200' || fail "HEAD /metrics"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$url/nope")
[ "$code" = 404 ] || fail "GET /nope: $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$url/metrics")
[ "$code" = 405 ] || fail "POST /metrics: $code"
ok "gzip, HEAD, 404, 405"

# Broken and idle clients: answered with a 4xx or cut; of 10 idle connections
# against max_connections 8 the oldest make room, the rest are closed after
# `timeout`, and the endpoint serves again.
"$PY" - "$port" <<'PY' || fail "the endpoint mishandles broken or idle clients"
import socket, sys
port = int(sys.argv[1])
def talk(data):
    s = socket.create_connection(("127.0.0.1", port), 5)
    s.settimeout(10)
    try:
        s.sendall(data)
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                return out
            out += b
    except (ConnectionResetError, BrokenPipeError):
        return b""
    finally:
        s.close()
for req in (b"\x00\x01\x02 garbage\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n",
            b"GET /metrics HTTP/9.9\r\n\r\n"):
    r = talk(req)
    status = r.split(b"\r\n", 1)[0]
    assert not r or status.split(b" ")[1].startswith(b"4") or status.split(b" ")[1].startswith(b"5"), status
idle = [socket.create_connection(("127.0.0.1", port), 5) for _ in range(10)]
for s in idle:
    s.settimeout(10)
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\n")  # and never the end of the headers
    except OSError:
        pass
for s in idle:  # every one is closed by the server: shed beyond the limit, or timed out
    try:
        while s.recv(4096):
            pass
    except ConnectionResetError:
        pass
    s.close()
PY
wait_for 10 curl -fsS "$url/healthz" || fail "endpoint does not serve after broken and idle clients"
ok "broken requests get a 4xx or are cut; idle connections time out; still serving"

# The same address again: the second agent cannot listen and says where.
"$SB_BIN" -c "$TMP/c.json" --duration 5s 2>"$TMP/log2"
rc=$?
[ $rc -eq 1 ] || fail "second agent on a taken port: exit $rc, want 1"
grep -q "cannot serve HTTP on 127.0.0.1:$port: Address already in use" "$TMP/log2" ||
	fail "the error does not name the address: $(cat "$TMP/log2")"
grep -q "port 0" "$TMP/log2" && fail "a misleading line about port 0: $(cat "$TMP/log2")"
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 0 ] || fail "agent exit $rc after SIGTERM"
ok "a taken port is exit 1 naming the address"

# A host name that does not resolve, and an address that is not this host's:
# each says so, naming what was configured.
bad=$(free_port)
for l in "nosuch.invalid:$bad" "192.0.2.1:$bad"; do
	echo '{"sinks":[{"type":"prom","listen":"'"$l"'"}]}' >"$TMP/bad.json"
	"$SB_BIN" -c "$TMP/bad.json" --duration 5s 2>"$TMP/log-bad"
	rc=$?
	[ $rc -eq 1 ] || fail "listen $l: exit $rc, want 1"
	case $l in
	nosuch*) want="listen nosuch.invalid:$bad: cannot resolve the host name \"nosuch.invalid\"" ;;
	*) want="cannot serve HTTP on 192.0.2.1:$bad: not an address of this host" ;;
	esac
	grep -qF "$want" "$TMP/log-bad" || fail "listen $l: want \"$want\": $(cat "$TMP/log-bad")"
	grep -qE "port 0|resolve.*Cannot assign" "$TMP/log-bad" &&
		fail "listen $l: a misleading line: $(cat "$TMP/log-bad")"
done
ok "a host name that does not resolve and a foreign address are each named as such"

# A sink that cannot write makes the agent not ready, and /readyz says which.
port=$(free_port)
url="http://127.0.0.1:$port"
cat >"$TMP/c2.json" <<JSON
{"sensors":{"proc":{},"agent":{}},
 "sinks":[{"type":"prom","listen":"127.0.0.1:$port"},
          {"type":"file","path":"/dev/full","buffer":0,"flush_interval":"100ms",
           "shutdown_grace":"200ms"}]}
JSON
"$SB_BIN" -c "$TMP/c2.json" -i 300ms 2>"$TMP/log3" &
pid=$!
track_pid $pid
wait_for 15 sh -c "curl -sS '$url/readyz' | grep -q 'sensorbus_sink_healthy{sink=\"file\"} = 0'" ||
	fail "/readyz does not name the failing sink: $(curl -sS "$url/readyz")"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$url/readyz")
[ "$code" = 503 ] || fail "/readyz with a failing sink: $code"
curl -sS -o "$TMP/m3.txt" "$url/metrics"
grep -q '^sensorbus_ready 0$' "$TMP/m3.txt" || fail "sensorbus_ready is not 0"
ok "/readyz is 503 and names the sink that cannot write"
