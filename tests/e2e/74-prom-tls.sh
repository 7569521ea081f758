# A secured /metrics: the prom sink over TLS with basic authentication and
# client certificates, certificates made here with openssl (a CA, servers,
# a client). A real Prometheus scrapes it with tls_config and basic_auth
# (up == 1); curl without a password or with a wrong one gets 401 and
# WWW-Authenticate; plain HTTP to the TLS port gets no answer; without a
# client certificate (or with one the CA did not sign) the handshake fails.
# SIGHUP serves a rotated certificate (a new serial) on the same listening
# socket, an open connection keeps working across it, and a broken file on
# SIGHUP keeps the certificate in use. A second agent: TLS 1.3 only, and
# /healthz closed behind the password too. Config errors name the file or
# the user.
. "$(dirname "$0")/lib.sh"

for t in openssl curl ss; do
	command -v $t >/dev/null || fail "$t missing (scripts/deps.sh test installs it)"
done
command -v prometheus >/dev/null || fail "prometheus missing (scripts/deps.sh test installs it)"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# ---- certificates: a CA, two server certificates (serials 1001, 1002), a
# client one, and a client one no CA of ours signed ----
cd "$TMP" || fail "no $TMP"
cat >srv.ext <<EXT
subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth
EXT
printf 'extendedKeyUsage=clientAuth\n' >cli.ext
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
newkey ca.key && openssl req -x509 -new -key ca.key -subj /CN=sensorbus-test-ca -days 2 \
	-out ca.crt 2>/dev/null || fail "openssl: CA"
signed() { # NAME SERIAL EXTFILE [DAYS]
	newkey "$1.key" && openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr" 2>/dev/null &&
		openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -set_serial "$2" -days "${4:-2}" \
			-extfile "$3" -out "$1.crt" 2>/dev/null || fail "openssl: $1"
}
signed srv1 4097 srv.ext # 0x1001
signed srv2 4098 srv.ext 3 # 0x1002, a day longer
signed client 4099 cli.ext
newkey rogue.key && openssl req -x509 -new -key rogue.key -subj /CN=rogue -days 2 \
	-out rogue.crt 2>/dev/null || fail "openssl: rogue"
cp srv1.crt server.crt && cp srv1.key server.key

# bcrypt hashes as node_exporter's web config takes them (cost 4: fast to check here)
bcrypt() {
	if command -v htpasswd >/dev/null; then
		htpasswd -nbB -C 4 x "$1" | cut -d: -f2
	else
		"$PY" -W ignore -c 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))' "$1"
	fi
}
hash=$(bcrypt 's3cret pass') || fail "cannot make a bcrypt hash"
case "$hash" in '$2'?'$'*) ;; *) fail "not a bcrypt hash: $hash" ;; esac

# ---- config errors name the file or the user ----
check() { "$SB_BIN" --check-config -c "$1" >"$TMP/check.out" 2>&1; }
printf '{"sinks":[{"type":"prom","tls":{"cert_file":"%s/nosuch.crt","key_file":"%s/server.key"}}]}' \
	"$TMP" "$TMP" >bad1.json
check bad1.json && fail "a missing cert_file passed --check-config"
grep -q "tls.cert_file: cannot read $TMP/nosuch.crt" check.out || fail "missing file: $(cat check.out)"
printf '{"sinks":[{"type":"prom","tls":{"cert_file":"%s/server.crt","key_file":"%s/srv2.key"}}]}' \
	"$TMP" "$TMP" >bad2.json
check bad2.json && fail "a key of another certificate passed --check-config"
grep -q "server.crt with key_file $TMP/srv2.key" check.out || fail "key mismatch: $(cat check.out)"
printf '{"sinks":[{"type":"prom","basic_auth_users":{"ops":"plain"}}]}' >bad3.json
check bad3.json
[ $? = 2 ] || fail "a hash that is not bcrypt: not exit 2"
grep -q 'user "ops": not a bcrypt hash' check.out || fail "bad hash: $(cat check.out)"
ok "config errors name the file, the key mismatch and the user"

# ---- agent A: TLS 1.2+, client certificates, basic auth ----
port=$(free_port)
url="https://127.0.0.1:$port"
cat >a.json <<JSON
{"sensors":{"agent":{}},
 "sinks":[{"type":"prom","listen":"127.0.0.1:$port",
   "tls":{"cert_file":"$TMP/server.crt","key_file":"$TMP/server.key",
          "client_ca_file":"$TMP/ca.crt"},
   "basic_auth_users":{"prometheus":"$hash"}}]}
JSON
"$SB_BIN" -c a.json -i 500ms 2>a.log &
apid=$!
track_pid $apid
C="--cacert ca.crt --cert client.crt --key client.key"
# shellcheck disable=SC2086
wait_for 10 curl -fsS $C "$url/healthz" || fail "agent A not serving: $(cat a.log)"
grep -q "serial 1001" a.log || fail "the start line names no serial: $(cat a.log)"

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
# shellcheck disable=SC2086
[ "$(code $C "$url/metrics")" = 401 ] || fail "no credentials: not 401"
# shellcheck disable=SC2086
curl -s -D hdr -o /dev/null $C "$url/metrics"
grep -qi '^WWW-Authenticate: Basic realm="sensorbus"' hdr || fail "401 without WWW-Authenticate: $(cat hdr)"
# shellcheck disable=SC2086
[ "$(code $C -u 'prometheus:wrong' "$url/metrics")" = 401 ] || fail "wrong password: not 401"
# shellcheck disable=SC2086
[ "$(code $C -u 'nobody:s3cret pass' "$url/metrics")" = 401 ] || fail "unknown user: not 401"
# shellcheck disable=SC2086
metrics() { curl -fsS $C -u 'prometheus:s3cret pass' "$url/metrics" >m.txt; }
metrics || fail "right password refused"
# the four 401s, counted (in the agent sensor's next round, an interval on)
counted() { metrics && grep -q '^sensorbus_prom_unauthorized_total{sink="prom"} 4$' m.txt; }
wait_for 10 counted || fail "the 401s are not counted: $(grep unauthorized m.txt)"
# shellcheck disable=SC2086
[ "$(code $C "$url/healthz")" = 200 ] || fail "/healthz is not open by default"
ok "401 with WWW-Authenticate without or with a wrong password; 200 with the right one"

# plain HTTP to the TLS port: no HTTP answer at all
pcode=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")
[ "$pcode" = 000 ] || fail "plain HTTP to the TLS port answered $pcode"
ok "plain HTTP to the TLS port gets no answer"

curl -s -m 5 -o /dev/null --cacert ca.crt "$url/healthz" && fail "no client certificate, yet served"
curl -s -m 5 -o /dev/null --cacert ca.crt --cert rogue.crt --key rogue.key "$url/healthz" &&
	fail "a client certificate no CA of ours signed, yet served"
# shellcheck disable=SC2086
curl -fsS -m 5 -o /dev/null --tls-max 1.2 $C "$url/healthz" || fail "TLS 1.2 refused under min_version TLS12"
ok "client certificate required (none or a foreign one: handshake fails; ours: 200)"

# ---- a real Prometheus scrapes it ----
pport=$(free_port)
papi="http://127.0.0.1:$pport/api/v1"
cat >prometheus.yml <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: sensorbus
    scheme: https
    tls_config:
      ca_file: $TMP/ca.crt
      cert_file: $TMP/client.crt
      key_file: $TMP/client.key
    basic_auth:
      username: prometheus
      password: "s3cret pass"
    static_configs:
      - targets: ["127.0.0.1:$port"]
YML
prometheus --config.file=prometheus.yml --storage.tsdb.path=data \
	--web.listen-address="127.0.0.1:$pport" --log.level=warn 2>prometheus.log &
track_pid $!
wait_for 30 curl -fsS "http://127.0.0.1:$pport/-/ready" ||
	fail "prometheus not ready: $(tail -5 prometheus.log)"
up() {
	curl -fsS -G "$papi/query" --data-urlencode 'query=up{job="sensorbus"}' | "$PY" -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
sys.exit(0 if r and r[0]["value"][1] == "1" else 1)'
}
wait_for 30 up || fail "up{job=\"sensorbus\"} never 1: $(curl -sS "$papi/targets" | head -c 600)"
ok "Prometheus scrapes over TLS with a client certificate and basic_auth: up == 1"

# ---- rotation on SIGHUP ----
serial() {
	openssl s_client -connect "127.0.0.1:$port" -CAfile ca.crt -cert client.crt -key client.key \
		</dev/null 2>/dev/null | openssl x509 -noout -serial
}
[ "$(serial)" = serial=1001 ] || fail "served serial before rotation: $(serial)"
listener() { ss -Hltne "sport = :$port" | grep -o 'ino:[0-9]*'; }
ino=$(listener)
[ -n "$ino" ] || fail "no listening socket on $port"
# a connection opened before the rotation is answered after it
"$PY" - "$port" "$TMP" >held.out 2>&1 <<'PY' &
import base64, http.client, os, ssl, sys, time
port, tmp = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=tmp + "/ca.crt")
ctx.load_cert_chain(tmp + "/client.crt", tmp + "/client.key")
c = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=ctx)
auth = {"Authorization": "Basic " + base64.b64encode(b"prometheus:s3cret pass").decode()}
def get():
    c.request("GET", "/metrics", headers=auth)
    r = c.getresponse()
    r.read()
    return "%d %s" % (r.status, c.sock.getpeercert()["serialNumber"])
print("before", get(), flush=True)
sock = c.sock
for _ in range(100):  # until the test says the rotation is done (bounded)
    if os.path.exists(tmp + "/rotated"):
        break
    time.sleep(0.1)
print("after", get(), "same connection" if c.sock is sock else "reconnected", flush=True)
PY
held=$!
wait_for 10 grep -q '^before 200 1001$' held.out || fail "held connection: $(cat held.out)"
cp srv2.crt server.crt && cp srv2.key server.key
kill -HUP $apid
rotated() { [ "$(serial)" = serial=1002 ]; }
wait_for 10 rotated || fail "after SIGHUP still serial $(serial): $(tail -3 a.log)"
touch rotated
wait "$held"
grep -q '^after 200 1001 same connection$' held.out || fail "a connection open across SIGHUP broke: $(cat held.out)"
[ "$(listener)" = "$ino" ] || fail "the listening socket changed over SIGHUP ($ino -> $(listener))"
kill -0 $apid || fail "agent A died on SIGHUP"
# shellcheck disable=SC2086
curl -fsS -o /dev/null $C -u 'prometheus:s3cret pass' "$url/metrics" || fail "no /metrics after rotation"
grep -q "SIGHUP: tls: certificate $TMP/server.crt (serial 1002" a.log || fail "no rotation line: $(tail -3 a.log)"
ok "SIGHUP: serial 1001 -> 1002 on the same listening socket ($ino); an open connection kept"

# a broken file on SIGHUP: one error line, the certificate in use stays
echo "not a certificate" >server.crt
kill -HUP $apid
wait_for 10 grep -q "SIGHUP: tls.cert_file: $TMP/server.crt: no PEM certificate" a.log ||
	fail "no error line for a broken cert_file: $(tail -3 a.log)"
[ "$(grep -c 'SIGHUP: tls' a.log)" = 2 ] || fail "not one line per SIGHUP: $(grep SIGHUP a.log)"
[ "$(serial)" = serial=1002 ] || fail "a broken file replaced the certificate: $(serial)"
wait_for 10 up || fail "Prometheus lost the target after a broken SIGHUP"
ok "a broken cert_file on SIGHUP: one error line naming it, serial 1002 still served"
# the telemetry says which certificate is served and that a SIGHUP failed
end=$(date -d "$(openssl x509 -enddate -noout -in srv2.crt | cut -d= -f2)" +%s)
tls_telemetry() {
	metrics &&
		awk -v end="$end" '$1 == "sensorbus_prom_tls_certificate_expiry_timestamp_seconds{sink=\"prom\"}" && $2 + 0 == end { e = 1 }
			$1 == "sensorbus_prom_tls_reload_failures_total{sink=\"prom\"}" && $2 == 1 { f = 1 }
			END { exit !(e && f) }' m.txt
}
wait_for 10 tls_telemetry || fail "TLS telemetry (want expiry $end, 1 reload failure): $(grep _tls_ m.txt)"
ok "sensorbus_prom_tls_certificate_expiry_timestamp_seconds is serial 1002's end; 1 reload failure counted"
kill -TERM $apid
wait $apid || fail "agent A exited $? on SIGTERM: $(tail -5 a.log)"

# ---- agent B: TLS 1.3 only, /healthz behind the password, no client certificate ----
cp srv1.crt server.crt && cp srv1.key server.key
bport=$(free_port)
burl="https://127.0.0.1:$bport"
cat >b.json <<JSON
{"sensors":{"agent":{}},
 "sinks":[{"type":"prom","listen":"127.0.0.1:$bport","healthz_open":false,
   "tls":{"cert_file":"$TMP/server.crt","key_file":"$TMP/server.key","min_version":"TLS13"},
   "basic_auth_users":{"prometheus":"$hash"}}]}
JSON
"$SB_BIN" -c b.json -i 500ms 2>b.log &
track_pid $!
wait_for 10 curl -fsS --cacert ca.crt -u 'prometheus:s3cret pass' "$burl/healthz" ||
	fail "agent B not serving: $(cat b.log)"
[ "$(code --cacert ca.crt "$burl/healthz")" = 401 ] || fail "healthz_open false: /healthz not 401"
curl -s -m 5 -o /dev/null --cacert ca.crt --tls-max 1.2 "$burl/healthz" &&
	fail "TLS 1.2 accepted under min_version TLS13"
ok "min_version TLS13 refuses TLS 1.2; healthz_open false puts /healthz behind the password"
