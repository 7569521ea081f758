# format "protobuf" end to end, against the schema as published: protoc
# makes a Python module from proto/sensorbus/v1/events.proto at test time,
# and a consumer written with it reads the file sink's delimited stream and
# agrees field by field with a json file sink of the same run (proc from
# fixtures, synthetic with unsorted labels, scrape with a histogram and a
# summary, the agent's own telemetry). `sensorbus decode` gives the json
# sink's bytes exactly, for the file and for the stdout sink through a
# pipe; `protoc --decode sensorbus.v1.Event` reads one message. The
# consumer follows the schema's rules for readers: names and labels by
# index into the event's symbols, integers as int_value.
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

$PY - "$TMP/py" "$TMP/out/e.pb" "$TMP/out/e.jsonl" "$TMP/first.pb" <<'PY' || exit 1
import calendar, json, math, sys, time
sys.path.insert(0, sys.argv[1])
from sensorbus.v1 import events_pb2 as pb
from google.protobuf.internal.decoder import _DecodeVarint32

data = open(sys.argv[2], "rb").read()
evs, pos = [], 0
while pos < len(data):
    n, pos = _DecodeVarint32(data, pos)
    e = pb.Event()
    e.ParseFromString(data[pos:pos + n])
    if not evs:
        open(sys.argv[4], "wb").write(data[pos:pos + n])
    pos += n
    evs.append(e)
lines = [json.loads(l) for l in open(sys.argv[3])]
assert len(evs) == len(lines), (len(evs), len(lines))

TYPES = {0: None, 1: "gauge", 2: "counter", 3: "histogram", 4: "summary"}
ENVELOPE = {"seq", "run", "time", "host", "source", "kind", "samples"}

def num(v):  # JSON writes NaN and +-Inf as strings
    return float(v)

def same(a, b):
    a, b = num(a), num(b)
    return (math.isnan(a) and math.isnan(b)) or a == b

def fields_of(e):
    f = {}
    if e.target:
        f["target"] = e.target
    for rec in ("exec", "exit", "fork"):
        if e.HasField(rec):
            m = getattr(e, rec)
            for d in m.DESCRIPTOR.fields:
                f[d.name] = getattr(m, d.name)
    for x in e.fields:
        f[x.key] = getattr(x, x.WhichOneof("value"))
    return f

# the schema's rules for readers (events.proto): symbols by index
def name_of(e, s):
    return s.name if s.WhichOneof("name_value") == "name" else e.symbols[s.name_ref]

def labels_of(e, s):
    ls = [(l.name, l.value) for l in s.labels]
    r = s.label_refs
    assert len(r) % 2 == 0, r
    return ls + [(e.symbols[r[i]], e.symbols[r[i + 1]]) for i in range(0, len(r), 2)]

def value_of(s):
    return s.int_value if s.WhichOneof("number") == "int_value" else s.value

stats = {"histogram": 0, "summary": 0, "samples": 0, "int_value": 0, "refs": 0}
for e, j in zip(evs, lines):
    assert e.seq == j["seq"] and e.run == j["run"] and e.host == j["host"], (e.seq, j["seq"])
    assert e.source == j["source"] and e.kind == j["kind"]
    t = j["time"]
    ns = calendar.timegm(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) * 10**9 + int(t[20:29])
    assert e.time_unix_nano == ns, (e.time_unix_nano, t)
    want = {k: v for k, v in j.items() if k not in ENVELOPE}
    got = fields_of(e)
    assert set(want) == set(got), (want, got)
    for k in want:
        assert same(want[k], got[k]) if not isinstance(want[k], str) else want[k] == got[k], k
    js = j.get("samples", [])
    assert len(js) == len(e.samples)
    for s, js1 in zip(e.samples, js):
        stats["samples"] += 1
        assert name_of(e, s) == js1["name"]
        ls = labels_of(e, s)
        assert [n for n, v in ls] == sorted(n for n, v in ls), ls
        assert dict(ls) == js1.get("labels", {})
        stats["refs"] += s.WhichOneof("name_value") == "name_ref"
        stats["int_value"] += s.WhichOneof("number") == "int_value"
        assert TYPES[s.type] == js1.get("type"), (s.type, js1)
        if s.type == pb.METRIC_TYPE_HISTOGRAM:
            stats["histogram"] += 1
            assert len(s.buckets) == len(js1["buckets"])
            for b, jb in zip(s.buckets, js1["buckets"]):
                assert same(b.upper_bound, jb["le"])
                c = b.count if b.WhichOneof("cumulative") != "count_float" else b.count_float
                assert same(c, jb["count"])
        elif s.type == pb.METRIC_TYPE_SUMMARY:
            stats["summary"] += 1
            assert len(s.quantiles) == len(js1["quantiles"])
            for q, jq in zip(s.quantiles, js1["quantiles"]):
                assert same(q.quantile, jq["quantile"]) and same(q.value, jq["value"])
        else:
            assert same(value_of(s), js1["value"]), (name_of(e, s), s, js1["value"])
            continue
        c = s.count if s.WhichOneof("count_value") != "count_float" else s.count_float
        assert same(s.sum, js1["sum"]) and same(c, js1["count"])
sources = {e.source for e in evs}
assert {"proc", "synthetic", "scrape", "agent"} <= sources, sources
assert stats["histogram"] and stats["summary"], stats
assert any(len(labels_of(e, s)) == 12 for e in evs for s in e.samples)  # l10 < l2: sorted
assert stats["refs"] and stats["int_value"], stats
print("events", len(evs), stats, "bytes pb/json %.2f" % (len(data) / sum(len(json.dumps(l)) for l in lines)))
PY

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
