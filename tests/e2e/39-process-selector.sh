# One selector for the proc sensor's processes and the bpf sensor's watch
# (docs/proc.md, "Selecting processes"): with the same names, both report
# the same processes under the same name label. Processes running before
# the agent: one found by its comm, one whose name is longer than the 15
# bytes of a comm (found by the comm the kernel keeps), one whose comm is
# something else (found by argv[0]); and a process that matches nothing.
# The proc sensor with each reader (the task iterator when root, procfs).
. "$(dirname "$0")/lib.sh"

[ -r /proc/self/stat ] || skip "no procfs at /proc"
cp /bin/sleep "$TMP/sbselcomm"
cp /bin/sleep "$TMP/sbselector-long-name"
"$TMP/sbselcomm" 300 &
track_pid $!
comm_pid=$!
"$TMP/sbselector-long-name" 300 &
track_pid $!
long_pid=$!
# argv[0] "sbselargv", comm "sleep"
python3 -c 'import os, sys; os.execv("/bin/sleep", ["sbselargv", "300"])' &
track_pid $!
argv_pid=$!
"$TMP/sbselcomm" 301 &
track_pid $!
wait_for 10 sh -c "grep -q '^sleep$' /proc/$argv_pid/comm" || fail "the argv[0] process did not start"
names='["sbselcomm","sbselector-long-name","sbselargv"]'
want="sbselcomm:$comm_pid sbselcomm:$! sbselector-long-name:$long_pid sbselargv:$argv_pid"

# selected NAME-LABEL:PID pairs of a run's output, sorted
selected() {
	python3 - "$1" "$2" <<'PY'
import json, sys
path, metric = sys.argv[1], sys.argv[2]
got = {f'{s["labels"]["name"]}:{s["labels"]["pid"]}'
       for line in open(path) for s in json.loads(line).get("samples", [])
       if s["name"] == metric and "name" in s.get("labels", {})}
print(" ".join(sorted(got)))
PY
}
want=$(echo "$want" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')

readers="procfs"
[ "$(id -u)" -eq 0 ] && [ -r /sys/kernel/btf/vmlinux ] && readers="bpf procfs"
for reader in $readers; do
	printf '{"sensors":{"proc":{"collectors":["processes"],"processes":%s,"process_reader":"%s"}}}' \
		"$names" "$reader" >"$TMP/p.json"
	"$SB_BIN" -c "$TMP/p.json" --once -o "$TMP/p.$reader.jsonl" 2>"$TMP/p.$reader.err" ||
		fail "proc ($reader): exit $?: $(cat "$TMP/p.$reader.err")"
	got=$(selected "$TMP/p.$reader.jsonl" process_threads)
	[ "$got" = "$want" ] || fail "proc ($reader) selects '$got', want '$want'"
done

if [ "$(id -u)" -eq 0 ] && [ -r /sys/kernel/btf/vmlinux ]; then
	printf '{"sensors":{"bpf":{"watch":%s}}}' "$names" >"$TMP/b.json"
	"$SB_BIN" -c "$TMP/b.json" --duration 1500ms -i 500ms -o "$TMP/b.jsonl" 2>"$TMP/b.err" ||
		fail "bpf: exit $?: $(cat "$TMP/b.err")"
	got=$(selected "$TMP/b.jsonl" sensorbus_process_oncpu_seconds_total)
	[ "$got" = "$want" ] || fail "bpf watch selects '$got', want '$want': $(tail -3 "$TMP/b.err")"
fi
ok "one selector: proc ($readers) and the bpf watch select $want"
