# synthetic -> file: every event arrives once, seq strictly increasing from
# 1, JSON valid; SIGTERM drains; file mode 0640; SIGHUP reopens.
. "$(dirname "$0")/lib.sh"

cat >"$TMP/c.json" <<JSON
{"sensors":{"synthetic":{"rate":2000,"samples":3}},
 "sinks":[{"type":"file","path":"$TMP/out/events.jsonl","flush_interval":"100ms"}]}
JSON
"$SB_BIN" -c "$TMP/c.json" 2>"$TMP/log" &
pid=$!
track_pid $pid
wait_for 10 test -s "$TMP/out/events.jsonl" || fail "no output"
sleep 0.5
mv "$TMP/out/events.jsonl" "$TMP/out/rotated.jsonl"
kill -HUP $pid
wait_for 10 test -s "$TMP/out/events.jsonl" || fail "no reopen after SIGHUP"
sleep 0.3
kill -TERM $pid
wait $pid || fail "agent exit $? after SIGTERM"
mode=$(stat -c %a "$TMP/out/events.jsonl")
[ "$mode" = 640 ] || fail "file mode $mode, want 640"
cat "$TMP/out/rotated.jsonl" "$TMP/out/events.jsonl" >"$TMP/all.jsonl"
python3 - "$TMP/all.jsonl" "$TMP/log" <<'PY' || exit 1
import json, re, sys
seqs = []
runs = set()
for line in open(sys.argv[1]):
    ev = json.loads(line)
    seqs.append(ev["seq"]); runs.add(ev["run"])
    assert ev["source"] == "synthetic" and ev["kind"] == "metrics", ev
    assert len(ev["samples"]) == 3
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$", ev["time"]), ev["time"]
assert seqs == list(range(1, len(seqs) + 1)), "seq not 1..n without gaps"
assert len(runs) == 1 and len(next(iter(runs))) == 32
log = open(sys.argv[2]).read()
m = re.search(r"(\d+) events published", log)
assert m and int(m.group(1)) == len(seqs), ("published vs written", m and m.group(1), len(seqs))
assert re.search(r"sink file: \d+ received, \d+ written, 0 dropped", log), log
print("events", len(seqs))
PY
ok "synthetic to file, drained on SIGTERM, reopened on SIGHUP"

# count + exit_when_done: exactly that many events, then a clean exit on its own
printf '{"sensors":{"synthetic":{"rate":0,"count":500,"exit_when_done":true}},"sinks":[{"type":"file","path":"%s"}]}' \
	"$TMP/count.jsonl" >"$TMP/count.json"
timeout 30 "$SB_BIN" -c "$TMP/count.json" 2>"$TMP/count.log" || fail "count run exit $?"
[ "$(wc -l <"$TMP/count.jsonl")" -eq 500 ] || fail "want 500 events, got $(wc -l <"$TMP/count.jsonl")"
grep -q "every sensor has finished" "$TMP/count.log" || fail "did not stop on its own"
ok "count with exit_when_done stops the agent after draining"
