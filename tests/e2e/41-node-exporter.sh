# A real Prometheus endpoint: Debian's node_exporter, started here on
# loopback, scraped by the agent's scrape sensor. Every sample it exposed is
# in the event with its name, labels and value, compared with the exact
# body (relayed by a recording proxy) parsed independently; a direct
# (gzip) scrape gives the same series; a dead target gives up 0 beside them.
. "$(dirname "$0")/lib.sh"

NE=$(command -v prometheus-node-exporter || command -v node_exporter) ||
	skip "prometheus-node-exporter is not installed (scripts/deps.sh test)"
port=$(free_port)
"$NE" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
	--collector.cpu --collector.loadavg --collector.meminfo --collector.netdev \
	--collector.stat --collector.diskstats --collector.filesystem --collector.uname \
	--collector.vmstat --collector.pressure >"$TMP/ne.log" 2>&1 &
track_pid $!
wait_for 10 port_open "$port" || fail "node_exporter did not start: $(tail -3 "$TMP/ne.log")"

mkdir "$TMP/bodies"
python3 "$SB_ROOT/tests/helpers/record_proxy.py" "$TMP/proxy.port" "http://127.0.0.1:$port" \
	"$TMP/bodies" &
track_pid $!
wait_for 10 test -s "$TMP/proxy.port" || fail "the proxy did not start"
pport=$(cat "$TMP/proxy.port")
dead=$(free_port)

cat >"$TMP/c.json" <<JSON
{"sensors":{"scrape":{"targets":[
   {"name":"node","url":"http://127.0.0.1:$port/metrics"},
   {"name":"node-recorded","url":"http://127.0.0.1:$pport/metrics","headers":{"X-Test":"1"}},
   {"name":"dead","url":"http://127.0.0.1:$dead/metrics","interval":"1s"}]}},
 "sinks":[{"type":"file","path":"$TMP/out.jsonl"}]}
JSON
"$SB_BIN" --once -c "$TMP/c.json" 2>"$TMP/log" || fail "agent exit $?: $(cat "$TMP/log")"
[ -f "$TMP/bodies/body-1" ] || fail "the agent did not scrape through the proxy"
[ ! -f "$TMP/bodies/body-2" ] || fail "--once scraped twice"
py="$SB_ROOT/tests/helpers/promcheck.py"
python3 "$py" "$TMP/bodies/body-1" "$TMP/out.jsonl" node-recorded || fail "recorded scrape"
python3 "$py" "$TMP/bodies/body-1" "$TMP/out.jsonl" node --series-only || fail "direct scrape"
python3 - "$TMP/out.jsonl" <<'PY' || fail "dead target"
import json, sys
evs = {e["target"]: e for e in map(json.loads, open(sys.argv[1]))}
assert set(evs) == {"node", "node-recorded", "dead"}, set(evs)
d = {s["name"]: s for s in evs["dead"]["samples"]}
assert d["up"]["value"] == 0 and d["up"]["labels"] == {"target": "dead"}, d
assert d["scrape_samples_scraped"]["value"] == 0 and len(d) == 3, d
assert all(e["source"] == "scrape" and e["kind"] == "metrics" for e in evs.values())
PY
grep -q "target dead (http://127.0.0.1:$dead/metrics): connection refused" "$TMP/log" ||
	fail "no line for the dead target: $(cat "$TMP/log")"
ok "node_exporter: every sample parsed; dead target up 0"

# header values are secrets: --check-config shows which, not what
"$SB_BIN" --check-config -c "$TMP/c.json" >"$TMP/eff.json" || fail "--check-config"
grep -q '"X-Test":.*"<redacted>"' "$TMP/eff.json" || fail "header not shown redacted"

# running: each target on its own interval
cat >"$TMP/r.json" <<JSON
{"sensors":{"scrape":{"targets":[
   {"name":"fast","url":"http://127.0.0.1:$port/metrics","interval":"250ms"},
   {"name":"slow","url":"http://127.0.0.1:$port/metrics","interval":"2s"}]}},
 "sinks":[{"type":"file","path":"$TMP/r.jsonl"}]}
JSON
"$SB_BIN" --duration 3s -c "$TMP/r.json" 2>"$TMP/r.log" || fail "agent exit $?: $(cat "$TMP/r.log")"
python3 - "$TMP/r.jsonl" <<'PY' || fail "per-target intervals"
import json, sys
n = {"fast": 0, "slow": 0}
for ev in map(json.loads, open(sys.argv[1])):
    assert [s["value"] for s in ev["samples"] if s["name"] == "up"] == [1], ev["target"]
    n[ev["target"]] += 1
# 0, 2s for slow; every 250 ms for fast
assert n["slow"] == 2 and n["fast"] >= 6, n
print(n)
PY
ok "targets scraped on their own intervals"
