# Agent footprint: 60 s at a 1 s interval with the default sensors (proc
# with one watched process, bpf where the kernel allows, file sink) vs
# Debian's prometheus-node-exporter scraped once a second over the same
# 60 s. CPU seconds from /proc/PID/stat (utime+stime), peak RSS from VmHWM.
. "$(dirname "$0")/../lib.sh"
SECS=${BENCH_FOOTPRINT_SECS:-60}
NE=$(command -v prometheus-node-exporter || echo /usr/bin/prometheus-node-exporter)
[ -x "$NE" ] || { row "footprint" "" "" "" "" "skipped: no prometheus-node-exporter"; exit 0; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cpu_s() { awk '{print ($14 + $15) / '"$(getconf CLK_TCK)"'}' "/proc/$1/stat"; }
hwm_mb() { awk '/VmHWM/ {print $2 / 1024}' "/proc/$1/status"; }

sleep 3600 &
watched=$!
track_pid $watched
cat >"$TMP/c.json" <<JSON
{"interval":"1s","sensors":{"proc":{"pids":["$watched"]},"bpf":{"watch":["$watched"]}},
 "sinks":[{"type":"file","path":"$TMP/events.jsonl"}]}
JSON
"$NE" --web.listen-address=127.0.0.1:$port >"$TMP/ne.log" 2>&1 &
ne=$!
track_pid $ne
"$SB_BIN" -c "$TMP/c.json" 2>"$TMP/sb.log" &
sb=$!
track_pid $sb
i=0
while ! curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
ne0=$(cpu_s $ne)
sb0=$(cpu_s $sb)
n=0
while [ $n -lt "$SECS" ]; do
	curl -sf "http://127.0.0.1:$port/metrics" >"$TMP/ne.txt" || true
	sleep 1
	n=$((n + 1))
done
ne1=$(cpu_s $ne)
sb1=$(cpu_s $sb)
nerss=$(hwm_mb $ne)
sbrss=$(hwm_mb $sb)
kill -TERM $sb
wait $sb
nsamples=$(grep -c '^[a-z]' "$TMP/ne.txt")
sbsamples=$(python3 -c '
import json,sys
n=0
for l in open(sys.argv[1]):
    ev=json.loads(l)
    n=max(n, len(ev.get("samples",[])) if ev["source"]=="proc" else 0)
print(n)' "$TMP/events.jsonl")
necpu=$(py "$ne1 - $ne0")
sbcpu=$(py "$sb1 - $sb0")
r=$(py "round(($sb1 - $sb0) / max($ne1 - $ne0, 1e-9), 3)")
row "footprint: CPU over ${SECS}s at 1/s" "$(py "round($sbcpu * 1000 / $SECS, 2)") ms/s ($sbsamples proc samples/round)" \
	"node_exporter: $(py "round($necpu * 1000 / $SECS, 2)") ms/s ($nsamples samples/scrape)" "${r}x" "<= 0.1x" \
	"$(py "'met' if $r <= 0.1 else 'MISSED'")"
r=$(py "round($sbrss / $nerss, 3)")
row "footprint: peak RSS" "$(py "round($sbrss, 1)") MB" "node_exporter: $(py "round($nerss, 1)") MB" "${r}x" "<= 0.4x" \
	"$(py "'met' if $r <= 0.4 else 'MISSED'")"
