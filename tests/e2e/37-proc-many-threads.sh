# A process with 1,000 threads and 5,000 extra sleeping processes among
# every process of the host: with groups
# by comm and that process watched by name, for each reader (the task
# iterator when root, procfs), rounds complete one after another (counted
# in the file sink) with the thread count right (process_threads and the
# group's num_threads: 1,001), and the other timer of the same sensor (its
# loadavg collector, every interval) stays on time: no gap between two of
# its events above a generous bound.
. "$(dirname "$0")/lib.sh"

[ -r /proc/self/stat ] || skip "no procfs at /proc"
readers="procfs"
[ "$(id -u)" -eq 0 ] && [ -r /sys/kernel/btf/vmlinux ] && readers="bpf procfs"
# a real interpreter under its own name
cp "$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')" "$TMP/sbthreads"
"$TMP/sbthreads" - "$TMP/ready" <<'PY' &
import sys, threading, time
threading.stack_size(64 * 1024)
ev = threading.Event()
for _ in range(1000):
    threading.Thread(target=ev.wait, daemon=True).start()
open(sys.argv[1], "w").write("1")
time.sleep(300)
PY
track_pid $!
wait_for 60 test -s "$TMP/ready" || fail "the 1,000-thread process did not start"
# 5,000 more processes; the parent kills them all when it is stopped
python3 - "$TMP/many" <<'PY' &
import os, signal, sys, time
kids = []
def stop(*_):
    for k in kids:
        try:
            os.kill(k, signal.SIGKILL)
        except ProcessLookupError:
            pass
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
for _ in range(5000):
    pid = os.fork()
    if pid == 0:
        os.execv("/bin/sleep", ["sbidle", "300"])
    kids.append(pid)
open(sys.argv[1], "w").write(str(len(kids)))
time.sleep(300)
stop()
PY
track_pid $!
wait_for 60 test -s "$TMP/many" || fail "the 5,000 extra processes did not start"

for reader in $readers; do
	printf '{"interval":"200ms","sensors":{"proc":{"collectors":["loadavg","processes"],"processes":["sbthreads"],"groups":"comm","process_reader":"%s"}},"sinks":[{"type":"file","path":"%s"}]}' \
		"$reader" "$TMP/$reader.jsonl" >"$TMP/c.json"
	timeout 60 "$SB_BIN" -c "$TMP/c.json" --duration 4s 2>"$TMP/$reader.err" ||
		fail "$reader: exit $?: $(cat "$TMP/$reader.err")"
	grep -q "process reader: $reader" "$TMP/$reader.err" ||
		fail "$reader: the reader is not said: $(cat "$TMP/$reader.err")"
	python3 - "$TMP/$reader.jsonl" "$reader" <<'PY' || fail "$reader: (above)"
import json, sys
from datetime import datetime
path, reader = sys.argv[1], sys.argv[2]
loads, walks = [], []
for line in open(path):
    ev = json.loads(line)
    names = {s["name"]: s for s in ev.get("samples", [])}
    t = datetime.fromisoformat(ev["time"][:26] + "+00:00").timestamp()
    if "node_load1" in names:
        loads.append(t)
    th = [s["value"] for s in ev.get("samples", [])
          if s["name"] == "process_threads" and s.get("labels", {}).get("name") == "sbthreads"]
    grp = [s["value"] for s in ev.get("samples", [])
           if s["name"] == "namedprocess_namegroup_num_threads"
           and s["labels"]["groupname"] == "sbthreads"]
    if th or grp:
        walks.append((th, grp))
# 20 intervals in 4 s: generous bounds, never a speed. The procfs reader
# needs ~6,000 x five files a walk, longer than an interval here: rounds
# must complete, not keep pace; its other timer must still keep pace.
least = 8 if reader == "bpf" else 2
if len(walks) < least:
    sys.exit(f"{len(walks)} rounds of the walk in 4 s at 200ms (want {least})")
bad = [w for w in walks if w != ([1001], [1001])]
if bad:
    sys.exit(f"threads (watched, group) {bad[:3]} of {len(walks)} rounds, want 1001")
gaps = [b - a for a, b in zip(loads, loads[1:])]
if len(loads) < 8 or max(gaps) > 1.5:
    sys.exit(f"loadavg: {len(loads)} events, largest gap {max(gaps, default=0):.2f} s")
print(f"{reader}: {len(walks)} rounds, {len(loads)} loadavg events, largest gap {max(gaps):.2f} s")
PY
done
ok "a 1,000-thread process among $(cat "$TMP/many") extra processes: rounds complete, the other timer on time ($readers)"
