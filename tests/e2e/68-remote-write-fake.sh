#!/bin/sh
# The remote_write sink against a fake receiver (tests/e2e/rw_fake.py)
# answering 503, 204, 429 with Retry-After: 2, 204, 400, then 204: the 503'd
# and 429'd requests come again with the same body (the second after the
# pause asked for), the 400'd one never does and its events are dropped as
# rejected with one line quoting the answer, and the agent goes on
# delivering. Every request carries the remote-write headers and the bearer
# token from its file. Then the same over https: with tls.ca naming the
# receiver's certificate every event is delivered (libcurl's TLS works with
# GnuTLS's load-time init turned off, src/http/http.c); without it the
# certificate is refused and nothing is sent.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" -c 'import snappy' 2>/dev/null || skip "python3-snappy is not installed"

port=$(free_port)
"$PY" "$SB_ROOT/tests/e2e/rw_fake.py" "$port" "$TMP/req.jsonl" 2>"$TMP/fake.log" &
track_pid $!
wait_for 10 port_open "$port" || fail "fake receiver did not start: $(cat "$TMP/fake.log")"
printf 's3cret\n' >"$TMP/token"
cat >"$TMP/c.json" <<JSON
{"sensors": {"synthetic": {"rate": 2, "samples": 3}},
 "sinks": [{"type": "remote_write", "url": "http://127.0.0.1:$port/api/v1/write",
            "spool_dir": "$TMP/spool", "bearer_token_file": "$TMP/token",
            "retry": {"base": "100ms", "max_delay": "200ms"},
            "breaker": {"failures": 5, "cooldown": "1s"}}]}
JSON
"$SB_BIN" -c "$TMP/c.json" 2>"$TMP/agent.log" &
agent=$!
track_pid $agent
seven() { [ "$(wc -l <"$TMP/req.jsonl")" -ge 8 ]; }
wait_for 30 seven || fail "fewer than 8 requests: $(cat "$TMP/req.jsonl"; tail -5 "$TMP/agent.log")"
kill -0 $agent || fail "the agent died"
kill -TERM $agent
i=0
while kill -0 $agent 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done

"$PY" - "$TMP/req.jsonl" "$TMP/agent.log" <<'PY' || fail "outcomes not as the spec says"
import json, re, sys
r = [json.loads(l) for l in open(sys.argv[1])]
log = open(sys.argv[2]).read()
for q in r:
    assert q["enc"] == "snappy" and q["type"] == "application/x-protobuf", q
    assert q["ver"] == "0.1.0" and q["ua"].startswith("sensorbus/"), q
    assert q["auth"] == "Bearer s3cret", q
assert r[1]["sha"] == r[0]["sha"], "503 not retried with the same body"
assert r[3]["sha"] == r[2]["sha"], "429 not retried with the same body"
assert r[3]["t"] - r[2]["t"] >= 1.9, "Retry-After: 2 not honoured (%.2fs)" % (r[3]["t"] - r[2]["t"])
assert all(q["sha"] != r[4]["sha"] for q in r[5:]), "the 400'd request was sent again"
assert len(r) > 6 and all(q["status"] == 204 for q in r[5:])
m = re.search(r"remote_write: closed: received=(\d+) delivered=(\d+) spooled=(\d+) dropped=(\d+)", log)
assert m, "no accounting line"
rec, dlv, spl, drp = map(int, m.groups())
assert drp >= 1 and rec == dlv + spl + drp, m.group(0)
# the rejected request's events: 3 samples each
assert drp == r[4]["series"] // 3, (drp, r[4]["series"])
assert re.search(r"events rejected by http://127.0.0.1:\d+/api/v1/write, dropped \(reason rejected\): HTTP 400: out of order sample", log), "no rejection line"
print("requests:", [q["status"] for q in r], "accounting:", m.group(0))
PY
ok "503 and 429 retried, 400 dropped and counted, the agent kept delivering"

command -v openssl >/dev/null || skip "openssl is not installed"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
	2>"$TMP/openssl.log" || fail "openssl: $(cat "$TMP/openssl.log")"
tport=$(free_port)
"$PY" "$SB_ROOT/tests/e2e/rw_fake.py" "$tport" "$TMP/tls.jsonl" "$TMP/cert.pem" "$TMP/key.pem" \
	2>"$TMP/tfake.log" &
track_pid $!
wait_for 10 port_open "$tport" || fail "https receiver did not start: $(cat "$TMP/tfake.log")"
tls_run() { # NAME TLS-JSON: three seconds of synthetic events to the https receiver
	cat >"$TMP/$1.json" <<JSON
{"sensors": {"synthetic": {"rate": 2, "samples": 3}},
 "sinks": [{"type": "remote_write", "url": "https://127.0.0.1:$tport/api/v1/write",
            "spool_dir": "$TMP/spool-$1", "tls": $2,
            "retry": {"base": "100ms", "max_delay": "200ms"}}]}
JSON
	"$SB_BIN" -c "$TMP/$1.json" --duration 3s 2>"$TMP/$1.log"
}
tls_run noca '{}'
grep -q 'remote_write: closed: received=[1-9][0-9]* delivered=0 ' "$TMP/noca.log" ||
	fail "an unknown certificate was not refused: $(grep -E 'closed:|cannot reach' "$TMP/noca.log")"
[ ! -s "$TMP/tls.jsonl" ] || fail "a request went through an unverified connection"
tls_run ca "{\"ca\": \"$TMP/cert.pem\"}"
grep -q 'remote_write: closed: received=\([1-9][0-9]*\) delivered=\1 spooled=0 dropped=0' "$TMP/ca.log" ||
	fail "not all delivered over https: $(grep -E 'closed:|cannot reach|HTTP' "$TMP/ca.log")"
[ "$(wc -l <"$TMP/tls.jsonl")" -ge 2 ] || fail "no request over https"
ok "over https: delivered with tls.ca, refused without"
