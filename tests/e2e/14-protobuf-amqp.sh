#!/bin/sh
# format "protobuf" through a real rabbitmq-server, read by a consumer that
# knows only the published schema (pb_compare.py with the module protoc
# makes from proto/sensorbus/v1/events.proto at test time): one amqp sink
# sends one sensorbus.v1.Event per message, another sensorbus.v1.EventBatch
# messages of up to 50 events; both agree field by field with a json file
# sink of the same run, every event once per sink, message ids run:seq and
# run:first-last, content_type application/x-protobuf and the AMQP type.
# `sensorbus decode` and `decode --batch` turn the bodies back into the
# json sink's bytes exactly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rabbit.sh"

[ -n "$PB_DIR" ] || skip "protoc (protobuf-compiler) or python3-protobuf is not installed"
rabbit_start
start_consumer "$TMP/got.jsonl" --raw

mkdir -p "$TMP/www"
cp "$SB_FIXTURES/prom/node.txt" "$SB_FIXTURES/prom/algod.txt" "$TMP/www/"
port=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$TMP/www" "$port" >"$TMP/www.log" 2>&1 &
track_pid $!
wait_for 10 port_open "$port" || fail "the fixture server did not start"

P=$SB_FIXTURES/procfs/synthetic
amqp() { # NAME EXTRA
	echo "{\"type\": \"amqp\", \"name\": \"$1\",
	 \"url\": \"amqp://guest:guest@127.0.0.1:$RABBIT_PORT/\", \"format\": \"protobuf\",
	 \"routing_key\": \"$1.{source}.{kind}\", \"spool_dir\": \"$TMP/spool-$1\" $2}"
}
cat >"$TMP/c.json" <<JSON
{"sensors":{"proc":{"procfs":"$P/proc","sysfs":"$P/sys"},
  "synthetic":{"rate":300,"samples":3,"labels":12},
  "scrape":{"targets":[{"name":"node","url":"http://127.0.0.1:$port/node.txt","interval":"300ms"}]},
  "agent":{}},
 "sinks":[{"type":"file","path":"$TMP/e.jsonl"},
          $(amqp single ''),
          $(amqp batch ', "batch_events": 50')]}
JSON
"$SB_BIN" -c "$TMP/c.json" --no-bpf --duration 2s 2>"$TMP/log" || fail "agent exit $?: $(tail -5 "$TMP/log")"
check_accounting "$TMP/log" >/dev/null || fail "accounting: $(check_accounting "$TMP/log")"
n=$(wc -l <"$TMP/e.jsonl")
for s in single batch; do
	[ "$(sed -n "s/.*$s: closed: .*delivered=\([0-9]*\).*/\1/p" "$TMP/log")" = "$n" ] ||
		fail "$s: not all $n events delivered: $(grep "$s: closed" "$TMP/log")"
done
wait_for 30 sh -c "[ \$(wc -l <'$TMP/got.jsonl') -ge $((2 * n)) ]" ||
	fail "the consumer got $(wc -l <"$TMP/got.jsonl") of $((2 * n)) events"
sleep 0.5

/usr/bin/python3 "$SB_ROOT/tests/e2e/pb_compare.py" "$PB_DIR" "$TMP/e.jsonl" amqp \
	"$TMP/got.jsonl.raw" "$TMP/body" --single single --batched batch \
	--sources proc,synthetic,scrape,agent --histograms --labels 12 ||
	fail "the protobuf consumer disagrees with the json sink"
"$SB_BIN" decode "$TMP/body.single.event" >"$TMP/single.jsonl" || fail "decode exit $?"
cmp "$TMP/single.jsonl" "$TMP/e.jsonl" || fail "decode of the Event messages differs from json"
"$SB_BIN" decode --batch "$TMP/body.batch" >"$TMP/batch.jsonl" || fail "decode --batch exit $?"
cmp "$TMP/batch.jsonl" "$TMP/e.jsonl" || fail "decode --batch of the EventBatch messages differs"
ok "$n events over amqp as Event and EventBatch messages agree with the json sink"
