#!/bin/sh
# amqps:// to a broker with a TLS listener and a certificate from a test CA:
# verified against tls.ca, events arrive; with the wrong CA the handshake
# fails, the breaker opens and the events wait in the spool.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rabbit.sh"
command -v openssl >/dev/null 2>&1 || skip "openssl is not installed"

pki=$TMP/pki
mkdir -p "$pki"
(
	cd "$pki" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=sensorbus test CA" \
		-keyout ca.key -out ca.pem
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
		-keyout other.key -out other.pem
	openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile san.ext -out server.pem
	chmod 644 ./*.pem ./*.key
) >"$TMP/pki.log" 2>&1 || fail "cannot make test certificates: $(tail -3 "$TMP/pki.log")"

tls_port=$(free_port)
cat >"$TMP/rabbitmq.conf" <<CONF
listeners.ssl.default = $tls_port
ssl_options.cacertfile = $pki/ca.pem
ssl_options.certfile = $pki/server.pem
ssl_options.keyfile = $pki/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
CONF
RABBIT_CONFIG=$TMP/rabbitmq.conf
rabbit_start
wait_for 20 port_open "$tls_port" || fail "no TLS listener on $tls_port"
start_consumer "$TMP/got.jsonl"

conf() { # CA SPOOL
	cat <<JSON
{"sensors": {"synthetic": {"rate": 500, "samples": 1, "count": 100}},
 "sinks": [{"type": "amqp", "url": "amqps://guest:guest@localhost:$tls_port/",
            "tls": {"ca": "$1"}, "spool_dir": "$TMP/$2",
            "breaker": {"failures": 1, "cooldown": "1h"}, "connect_timeout": "2s"}]}
JSON
}
conf "$pki/other.pem" spool-bad >"$TMP/bad.json"
"$SB_BIN" -c "$TMP/bad.json" --duration 1500ms 2>"$TMP/bad.log" || fail "wrong CA: exit $?"
grep -m1 "cannot reach" "$TMP/bad.log" || fail "wrong CA: no error"
grep -q "breaker open" "$TMP/bad.log" || fail "wrong CA: the breaker did not open"
check_accounting "$TMP/bad.log" || fail "accounting"
[ "$(acct_field spooled "$TMP/bad.log")" = 100 ] || fail "wrong CA: the events should wait in the spool"

conf "$pki/ca.pem" spool-good >"$TMP/good.json"
"$SB_BIN" -c "$TMP/good.json" --duration 1500ms 2>"$TMP/good.log" || fail "TLS: exit $?"
check_accounting "$TMP/good.log" || fail "accounting"
[ "$(acct_field delivered "$TMP/good.log")" = 100 ] || fail "TLS: not all delivered"
run=$(sed -n 's/.*run \([0-9a-f]*\) on.*/\1/p' "$TMP/good.log")
wait_for 20 sh -c "grep -c '$run' '$TMP/got.jsonl' | grep -qx 100" || fail "consumer did not get the 100 events"
ok "amqps with a verified certificate delivers; a wrong CA keeps everything in the spool"
