# The node runners' community dashboard (Node-Ops-LLC/algorand-monitoring)
# from sensorbus alone: a real Prometheus scrapes one target, the agent
# (proc sensor, algod sensor with compat ["algorand-monitoring"] against the
# fake algod); no node_exporter, no emitter scripts, no Push Gateway. The
# dashboard's host/job/instance variables are resolved from node_uname_info
# as it resolves them, and every query of its algod panels returns data.
. "$(dirname "$0")/lib.sh"

command -v prometheus >/dev/null || fail "prometheus missing (scripts/deps.sh test installs it)"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# The dashboard's variables and the queries of its algod panels, as facts
# (issue 19; the dashboard itself is not fetched): "\$host" etc. are
# Grafana's variables, substituted below.
VAR_HOST='label_values(node_uname_info, nodename)'
VAR_JOB='label_values(node_uname_info{nodename="$host"}, job)'
VAR_INSTANCE='label_values(node_uname_info{nodename="$host", job="$job"}, instance)'
PANELS='algod_is_active
algod_start_timestamp_seconds
algod_uptime_seconds
max(algod_ledger_round{host="$host"})
algod_ledger_round{host="$host", job="$job", instance="$instance"}
algod_next_consensus_round
algod_sync_time_seconds
algod_time_since_last_block_seconds'

FAKE="$SB_ROOT/tests/fake-algod"
data="$TMP/algod"
python3 "$FAKE/fake_algod.py" --data-dir "$data" --metrics "$SB_FIXTURES/prom/algod.txt" \
	2>"$TMP/fake.log" &
track_pid $!
wait_for 10 test -s "$data/algod.net" || fail "the fake algod did not start"

port=$(free_port)
cat >"$TMP/c.json" <<JSON
{"sensors":{"proc":{},
            "algod":{"data_dir":"$data","interval":"1s","compat":["algorand-monitoring"]}},
 "sinks":[{"type":"prom","listen":"127.0.0.1:$port"}]}
JSON
"$SB_BIN" -c "$TMP/c.json" -i 1s 2>"$TMP/agent.log" &
track_pid $!
wait_for 10 curl -fsS "http://127.0.0.1:$port/healthz" || fail "agent not serving: $(cat "$TMP/agent.log")"

pport=$(free_port)
papi="http://127.0.0.1:$pport/api/v1"
cat >"$TMP/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: sensorbus
    static_configs:
      - targets: ["127.0.0.1:$port"]
YML
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom" \
	--web.listen-address="127.0.0.1:$pport" --log.level=warn 2>"$TMP/prometheus.log" &
track_pid $!
wait_for 30 curl -fsS "http://127.0.0.1:$pport/-/ready" ||
	fail "prometheus not ready: $(tail -5 "$TMP/prometheus.log")"

# query EXPR: "labels value" lines of the instant vector
query() {
	curl -fsS -G "$papi/query" --data-urlencode "query=$1" | "$PY" -c '
import json, sys
r = json.load(sys.stdin)
assert r["status"] == "success", r
for s in r["data"]["result"]:
    m = dict(s["metric"])
    print(json.dumps(m, sort_keys=True), s["value"][1])
'
}
# label_values(SELECTOR, LABEL) as Grafana asks Prometheus for it
label_values() {
	curl -fsS -G "$papi/series" --data-urlencode "match[]=$1" | "$PY" -c '
import json, sys
print("\n".join(sorted({s[sys.argv[1]] for s in json.load(sys.stdin)["data"] if sys.argv[1] in s})))
' "$2"
}
# a variable's query "label_values(SELECTOR, LABEL)" with $host, $job substituted
resolve() {
	q=$(printf '%s' "$1" | sed -e "s/\$host/$host/g" -e "s/\$job/$job/g")
	sel=$(printf '%s' "$q" | sed -E 's/^label_values\((.*), *([a-z_]+)\)$/\1/')
	lab=$(printf '%s' "$q" | sed -E 's/^label_values\((.*), *([a-z_]+)\)$/\2/')
	label_values "$sel" "$lab"
}

host="" job="" instance=""
have_host() { [ -n "$(resolve "$VAR_HOST")" ]; }
wait_for 30 have_host || fail "no node_uname_info: $(tail -5 "$TMP/agent.log")"
host=$(resolve "$VAR_HOST")
[ "$(printf '%s\n' "$host" | wc -l)" -eq 1 ] || fail "host variable: several values: $host"
job=$(resolve "$VAR_JOB")
[ "$job" = sensorbus ] || fail "job variable: '$job'"
instance=$(resolve "$VAR_INSTANCE")
[ "$instance" = "127.0.0.1:$port" ] || fail "instance variable: '$instance'"
ok "variables from node_uname_info: host=$host job=$job instance=$instance"

# every panel's query returns data
panel_ok() {
	q=$(printf '%s' "$1" | sed -e "s/\$host/$host/g" -e "s/\$job/$job/g" \
		-e "s/\$instance/$instance/g")
	[ -n "$(query "$q")" ]
}
printf '%s\n' "$PANELS" | while IFS= read -r q; do
	wait_for 30 panel_ok "$q" || fail "no data for the panel query: $q"
done || exit 1
ok "all $(printf '%s\n' "$PANELS" | wc -l) algod panel queries return data"

# and the values are algod's
v() { query "$1" | awk '{print $NF}'; }
[ "$(v 'algod_is_active')" = 1 ] || fail "algod_is_active: $(query algod_is_active)"
[ "$(v "max(algod_ledger_round{host=\"$host\"})")" = 51877342 ] || fail "ledger round"
[ "$(v 'algod_next_consensus_round')" = 51877343 ] || fail "next consensus round"
[ "$(v 'algod_time_since_last_block_seconds')" = 2.25 ] || fail "time since last block"
query 'algod_is_active' | grep -q '"algod_genesis_id": "testnet-v1.0"' ||
	fail "algod_is_active lacks its labels: $(query algod_is_active)"
# one target is all there is: no node_exporter, emitter or Push Gateway
[ "$(query 'count(up{target=""})' | awk '{print $NF}')" = 1 ] || fail "more than one target"
ok "values from the agent alone"
