# A receiving Prometheus for the remote-write tests (POSIX sh, after lib.sh):
# Debian's prometheus with --web.enable-remote-write-receiver on loopback,
# its own data directory in $TMP, started and stopped by PID.
command -v prometheus >/dev/null || skip "prometheus is not installed (scripts/deps.sh test)"
# Debian's python, where python3-snappy lives
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

PROM_PORT=$(free_port)
PROM_API="http://127.0.0.1:$PROM_PORT/api/v1"
PROM_WRITE="http://127.0.0.1:$PROM_PORT/api/v1/write"
PROM_PID=""
printf 'global:\n  scrape_interval: 1m\n' >"$TMP/receiver.yml"

prom_start() {
	prometheus --web.enable-remote-write-receiver --config.file="$TMP/receiver.yml" \
		--storage.tsdb.path="$TMP/receiver-data" --web.listen-address="127.0.0.1:$PROM_PORT" \
		--log.level=warn 2>>"$TMP/receiver.log" &
	PROM_PID=$!
	track_pid $PROM_PID
	wait_for 30 curl -fsS "http://127.0.0.1:$PROM_PORT/-/ready" ||
		fail "prometheus not ready: $(tail -5 "$TMP/receiver.log")"
}

prom_stop() {
	kill "$PROM_PID" 2>/dev/null
	_i=0
	while kill -0 "$PROM_PID" 2>/dev/null && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
	kill -0 "$PROM_PID" 2>/dev/null && fail "prometheus did not stop"
	PROM_PID=""
}

# prom_dump SELECTOR FILE: every sample of the matching series in the last
# hour, as JSON lines {"metric": {...}, "values": [[t, "v"], ...]}.
prom_dump() {
	curl -fsS -G "$PROM_API/query" --data-urlencode "query=$1[1h]" |
		"$PY" -c '
import json, sys
r = json.load(sys.stdin)
assert r["status"] == "success", r
for s in r["data"]["result"]:
    print(json.dumps(s))
' >"$2"
}
