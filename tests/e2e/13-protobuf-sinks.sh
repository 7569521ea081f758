# format "protobuf" end to end, against the schema as published: protoc
# makes a Python module from proto/sensorbus/v1/events.proto at test time,
# and a consumer written with it (pb_compare.py) reads the file sink's
# delimited stream and agrees field by field with a json file sink of the
# same run (proc from fixtures, synthetic with unsorted labels, scrape with
# a histogram and a summary, the agent's own telemetry). `sensorbus decode` gives the json
# sink's bytes exactly, for the file and for the stdout sink through a
# pipe; `protoc --decode sensorbus.v1.Event` reads one message.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3 # Debian's, where python3-protobuf is
command -v protoc >/dev/null 2>&1 || skip "protoc is not installed (protobuf-compiler)"
$PY -c 'import google.protobuf' 2>/dev/null || skip "python3-protobuf is not installed"
mkdir -p "$TMP/py" "$TMP/www"
protoc -I "$SB_ROOT/proto" --python_out="$TMP/py" sensorbus/v1/events.proto ||
	fail "protoc cannot compile proto/sensorbus/v1/events.proto"

cp "$SB_FIXTURES/prom/node.txt" "$SB_FIXTURES/prom/algod.txt" "$TMP/www/"
port=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$TMP/www" "$port" >"$TMP/www.log" 2>&1 &
track_pid $!
wait_for 10 port_open "$port" || fail "the fixture server did not start"

P=$SB_FIXTURES/procfs/synthetic
cat >"$TMP/c.json" <<JSON
{"sensors":{"proc":{"procfs":"$P/proc","sysfs":"$P/sys"},
  "synthetic":{"rate":300,"samples":3,"labels":12},
  "scrape":{"targets":[{"name":"node","url":"http://127.0.0.1:$port/node.txt","interval":"300ms"},
                       {"name":"algod","url":"http://127.0.0.1:$port/algod.txt","interval":"300ms"}]},
  "agent":{}},
 "sinks":[{"type":"file","path":"$TMP/out/e.jsonl"},
          {"type":"file","path":"$TMP/out/e.pb","format":"protobuf"},
          {"type":"stdout","format":"protobuf"}]}
JSON
"$SB_BIN" -c "$TMP/c.json" --no-bpf --duration 2s >"$TMP/stdout.pb" 2>"$TMP/log" ||
	fail "agent exit $?: $(tail -5 "$TMP/log")"
grep 'received, .* written' "$TMP/log" | grep -v ' 0 dropped' && fail "a sink dropped events"

"$SB_BIN" decode "$TMP/out/e.pb" >"$TMP/decoded.jsonl" || fail "decode exit $?"
cmp "$TMP/decoded.jsonl" "$TMP/out/e.jsonl" || fail "decode differs from the json sink"
"$SB_BIN" decode - <"$TMP/stdout.pb" >"$TMP/decoded-stdout.jsonl" || fail "decode - exit $?"
cmp "$TMP/decoded-stdout.jsonl" "$TMP/out/e.jsonl" || fail "stdout's decode differs"

$PY "$SB_ROOT/tests/e2e/pb_compare.py" "$TMP/py" "$TMP/out/e.jsonl" delimited "$TMP/out/e.pb" \
	"$TMP/first.pb" --sources proc,synthetic,scrape,agent --histograms --labels 12 ||
	fail "the protobuf consumer disagrees with the json sink"

protoc -I "$SB_ROOT/proto" --decode sensorbus.v1.Event sensorbus/v1/events.proto \
	<"$TMP/first.pb" >"$TMP/first.txt" || fail "protoc --decode exit $?"
grep -q '^seq: 1$' "$TMP/first.txt" || fail "protoc --decode: no seq 1: $(head -5 "$TMP/first.txt")"
grep -q '^run: "' "$TMP/first.txt" || fail "protoc --decode: no run"

# a config error names the formats
printf '{"sinks":[{"type":"file","path":"%s/x","format":"xml"}]}' "$TMP" >"$TMP/bad.json"
"$SB_BIN" -c "$TMP/bad.json" --check-config >/dev/null 2>"$TMP/bad.err"
[ $? = 2 ] || fail "unknown format: exit not 2"
grep -q 'format: "xml" unknown (one of json, protobuf)' "$TMP/bad.err" || fail "$(cat "$TMP/bad.err")"
ok "protobuf sinks agree with json"
