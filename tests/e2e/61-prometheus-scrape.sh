# A real Prometheus (Debian's, on loopback, its own config and data dir)
# scrapes the agent every second with the alert rules loaded: the agent's
# up is 1, every metric name the agent exposes is queryable in Prometheus
# (node_*, process_*, sensorbus_*), and every alert rule evaluates cleanly.
. "$(dirname "$0")/lib.sh"

command -v prometheus >/dev/null || fail "prometheus missing (scripts/deps.sh test installs it)"
# Debian's own python starts fastest; any python3 will do.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

port=$(free_port)
cat >"$TMP/c.json" <<JSON
{"sinks":[{"type":"prom","listen":"127.0.0.1:$port"}]}
JSON
"$SB_BIN" -c "$TMP/c.json" -i 500ms 2>"$TMP/agent.log" &
track_pid $!
wait_for 10 curl -fsS "http://127.0.0.1:$port/healthz" || fail "agent not serving: $(cat "$TMP/agent.log")"

pport=$(free_port)
papi="http://127.0.0.1:$pport/api/v1"
cat >"$TMP/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $SB_ROOT/deploy/alerts.yml
scrape_configs:
  - job_name: sensorbus
    static_configs:
      - targets: ["127.0.0.1:$port"]
YML
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/data" \
	--web.listen-address="127.0.0.1:$pport" --log.level=warn 2>"$TMP/prometheus.log" &
track_pid $!
wait_for 30 curl -fsS "http://127.0.0.1:$pport/-/ready" ||
	fail "prometheus not ready: $(tail -5 "$TMP/prometheus.log")"

# query EXPR: prints the instant vector as "name{labels} value" lines
query() {
	curl -fsS -G "$papi/query" --data-urlencode "query=$1" | "$PY" -c '
import json, sys
r = json.load(sys.stdin)
assert r["status"] == "success", r
for s in r["data"]["result"]:
    m = dict(s["metric"]); n = m.pop("__name__", "")
    print(n + "{" + ",".join("%s=%s" % kv for kv in sorted(m.items())) + "} " + s["value"][1])
'
}
agent_up() { [ "$(query 'up{job="sensorbus",target=""}' | awk '{print $2}')" = 1 ]; }
wait_for 30 agent_up || fail "up{job=\"sensorbus\"} never 1: $(query 'up'); $(tail -5 "$TMP/prometheus.log")"
ok "Prometheus scrapes the agent: up == 1"

# Every name on /metrics must be in Prometheus; a name that appeared since
# the last scrape gets a few more scrapes to arrive.
names_missing() {
	curl -fsS "http://127.0.0.1:$port/metrics" | grep -v '^#' | sed -E 's/[{ ].*//' | sort -u \
		>"$TMP/agent-names"
	curl -fsS "$papi/label/__name__/values" |
		"$PY" -c 'import json,sys; print("\n".join(json.load(sys.stdin)["data"]))' |
		sort -u >"$TMP/prom-names"
	comm -23 "$TMP/agent-names" "$TMP/prom-names" >"$TMP/missing"
	[ ! -s "$TMP/missing" ]
}
wait_for 20 names_missing || fail "names exposed but not in Prometheus: $(cat "$TMP/missing")"
for prefix in node_ process_ sensorbus_; do
	grep -q "^$prefix" "$TMP/agent-names" || fail "the agent exposes no $prefix metric"
done
ok "all $(wc -l <"$TMP/agent-names") exposed names are queryable"

for q in node_load1 'process_cpu_seconds_total{job="sensorbus"}' 'sensorbus_build_info' \
	'sensorbus_events_published_total{source="proc"}' 'sensorbus_ready == 1' \
	'scrape_samples_scraped{job="sensorbus"} > 20'; do
	[ -n "$(query "$q")" ] || fail "no result for $q"
done
query 'sensorbus_build_info' | grep -q 'version=' || fail "build_info lacks its version"
ok "node_*, process_* and sensorbus_* series answer queries"

# The rules load and evaluate without error against real series.
rules_ok() {
	curl -fsS "$papi/rules" | "$PY" -c '
import json, sys
groups = json.load(sys.stdin)["data"]["groups"]
rules = [r for g in groups for r in g["rules"]]
assert {g["name"] for g in groups} == {"sensorbus", "algod"}, groups
bad = [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
assert not bad, bad
firing = [a["labels"] for r in rules for a in r.get("alerts", []) if a["state"] == "firing"]
assert not firing, firing
print(len(rules), "rules ok")
'
}
wait_for 10 rules_ok || fail "alert rules: $(rules_ok 2>&1 | tail -3)"
ok "alert rules load and evaluate, none firing on a healthy agent"
