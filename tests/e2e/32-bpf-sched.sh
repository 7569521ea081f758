# The in-kernel scheduler aggregates against the kernel's own numbers, over
# one agent run with CPU-bound load and a watched process:
#  - context switches agree with /proc/stat ctxt over the same window (5%);
#  - the run-queue latency histogram fills under CPU-bound load;
#  - a watched process's on-CPU time agrees with its /proc/PID/stat
#    utime+stime (10%), its run-queue wait with /proc/PID/schedstat (10%),
#    and its fork is an event.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (CAP_BPF and CAP_PERFMON) to load BPF programs"
[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"

# /proc/stat ctxt every 10 ms with the wall clock, until $TMP/stop exists
python3 - "$TMP/ctxt" "$TMP/stop" "$TMP/ready" <<'PY' &
import os, sys, time
out, stop, ready = sys.argv[1], sys.argv[2], sys.argv[3]
rows = []
deadline = time.time() + 60
while not os.path.exists(stop) and time.time() < deadline:
    t = time.time_ns()
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("ctxt "):
                rows.append(f"{t} {line.split()[1]}\n")
                break
    if len(rows) == 1:
        open(ready, "w").close()
    time.sleep(0.01)
open(out, "w").writelines(rows)
PY
sampler=$!
track_pid $sampler
wait_for 30 test -e "$TMP/ready" || fail "the /proc/stat sampler did not start"

printf '{"interval":"500ms","sensors":{"bpf":{"watch":["sbburn"]}},"sinks":[{"type":"file","path":"%s"}]}' \
	"$TMP/out.jsonl" >"$TMP/c.json"
"$SB_BIN" -c "$TMP/c.json" 2>"$TMP/err" &
agent=$!
track_pid $agent
wait_for 15 grep -q -e 'programs attached' -e 'procfs-only' "$TMP/err" ||
	fail "the agent did not start: $(cat "$TMP/err")"
grep -q 'procfs-only' "$TMP/err" && skip "BPF unavailable here: $(grep procfs-only "$TMP/err")"

# The watched process: python under the name sbburn; it forks once, burns
# 1.5 s of CPU in 5 ms slices, says so, then sleeps.
cat >"$TMP/burn.py" <<'PY'
import os, sys, time
burn, done = float(sys.argv[1]), sys.argv[2]
child = os.fork()
if child == 0:
    os._exit(7)
os.waitpid(child, 0)
end = time.process_time() + burn
while time.process_time() < end:
    t = time.process_time() + 0.005
    while time.process_time() < t:
        pass
    time.sleep(0.0005)
open(done, "w").close()
time.sleep(3600)
PY
mkdir "$TMP/bin"
# the interpreter itself, not a wrapper script (pyenv shims dispatch on the name)
ln -s "$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')" "$TMP/bin/sbburn"
"$TMP/bin/sbburn" "$TMP/burn.py" 1.5 "$TMP/done" &
burner=$!
track_pid $burner

# CPU-bound load: twice as many spinners as CPUs, for 1.5 s
hogs=""
n=$(($(nproc) * 2))
while [ $n -gt 0 ]; do
	sh -c 'while :; do :; done' &
	hogs="$hogs $!"
	track_pid $!
	n=$((n - 1))
done
sleep 1.5
kill $hogs

wait_for 30 test -e "$TMP/done" || fail "the burner did not finish"
python3 -c 'import sys; f=open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")",1)[1].split(); print((int(f[11])+int(f[12]))/100)' \
	$burner >"$TMP/proc_cpu"
read -r _ run_delay _ <"/proc/$burner/schedstat"
[ "$(getconf CLK_TCK)" = 100 ] || fail "this test assumes CLK_TCK 100"
sleep 1.2 # two more intervals: the burner is asleep, its last slice accounted
kill -TERM $agent
wait $agent || fail "the agent exited $?: $(cat "$TMP/err")"
touch "$TMP/stop"
wait $sampler

python3 - "$TMP/out.jsonl" "$TMP/ctxt" "$(cat "$TMP/proc_cpu")" $burner "$run_delay" "$(cat "$TMP/err")" <<'PY' || fail "see above"
import calendar, json, sys, time
events_path, ctxt_path, proc_cpu, burner = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
run_delay, agent_log = int(sys.argv[5]) / 1e9, sys.argv[6]

def ns(ts):  # RFC 3339 with nanoseconds, UTC
    sec, frac = ts.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(sec, "%Y-%m-%dT%H:%M:%S")) * 10**9 + int(frac.ljust(9, "0"))

metrics, forks = [], []
for line in open(events_path):
    ev = json.loads(line)
    if ev["source"] == "bpf" and ev["kind"] == "metrics":
        metrics.append(ev)
    elif ev["source"] == "bpf" and ev["kind"] == "fork" and str(ev["ppid"]) == burner:
        forks.append(ev)
assert len(metrics) >= 4, f"only {len(metrics)} metrics events"
failed = False

# 1. context switches vs /proc/stat ctxt, interpolated at the events' times
samples = [tuple(map(int, l.split())) for l in open(ctxt_path)]
def ctxt_at(t):
    for (t0, c0), (t1, c1) in zip(samples, samples[1:]):
        if t0 <= t <= t1:
            return c0 + (c1 - c0) * (t - t0) / (t1 - t0)
    raise SystemExit(f"no /proc/stat sample around {t}")
def switches(ev):
    return sum(s["value"] for s in ev["samples"] if s["name"] == "sensorbus_sched_context_switches_total")
covered = [ev for ev in metrics[1:] if samples[0][0] <= ns(ev["time"]) <= samples[-1][0]]
first, last = covered[0], covered[-1]
ours = switches(last) - switches(first)
kernel = ctxt_at(ns(last["time"])) - ctxt_at(ns(first["time"]))
err = abs(ours - kernel) / kernel
print(f"context switches: sensorbus {ours:.0f}, /proc/stat ctxt {kernel:.0f}, {err:.2%} apart")
if err > 0.05:
    print("FAIL: context switches differ by more than 5%"); failed = True

# 2. the run-queue histogram (system-wide: no labels) fills under load
def hist(ev):
    return next(s for s in ev["samples"] if s["name"] == "sensorbus_sched_runqueue_latency_seconds" and not s.get("labels"))
h0, h1 = hist(first), hist(last)
waits = h1["count"] - h0["count"]
long_waits = waits - (h1["buckets"][10]["count"] - h0["buckets"][10]["count"])  # above ~1 ms
counts = [b["count"] for b in h1["buckets"]]
print(f"run-queue latency: {waits:.0f} waits, {long_waits:.0f} above {h1['buckets'][10]['le']} s, sum {h1['sum'] - h0['sum']:.3f} s")
if waits <= 0 or long_waits <= 0:
    print("FAIL: the run-queue histogram did not fill under CPU-bound load"); failed = True
if counts != sorted(counts) or h1["buckets"][-1]["le"] != "+Inf" or counts[-1] != h1["count"]:
    print("FAIL: malformed histogram", h1); failed = True

# 3. the watched process: on-CPU time vs utime+stime, labels, its fork
def proc_sample(ev, name):
    for s in ev["samples"]:
        if s["name"] == name and s.get("labels", {}).get("pid") == burner:
            return s
s = proc_sample(last, "sensorbus_process_oncpu_seconds_total")
if not s:
    print("FAIL: no sensorbus_process_oncpu_seconds_total for the watched process"); sys.exit(1)
err = abs(s["value"] - proc_cpu) / proc_cpu
print(f"watched process: on-CPU {s['value']:.3f} s, /proc utime+stime {proc_cpu:.2f} s, {err:.2%} apart; labels {s['labels']}")
if err > 0.10:
    print("FAIL: on-CPU time differs by more than 10%"); failed = True
if s["labels"].get("comm") != "sbburn" or s["labels"].get("name") != "sbburn":
    print("FAIL: labels"); failed = True
# switches have one name, the proc sensor's process_*_context_switches_total
for name in ("sensorbus_process_voluntary_switches_total",
             "sensorbus_process_involuntary_switches_total"):
    if proc_sample(last, name):
        print(f"FAIL: {name} is published: one quantity, two names"); failed = True
for name in ("sensorbus_process_offcpu_seconds_total", "sensorbus_process_forks_total"):
    v = proc_sample(last, name)
    if not v or v["value"] <= 0:
        print(f"FAIL: {name} is {v}"); failed = True
if not proc_sample(last, "sensorbus_sched_runqueue_latency_seconds"):
    print("FAIL: no per-process run-queue histogram"); failed = True
w = proc_sample(last, "sensorbus_process_runqueue_wait_seconds_total")
err = abs(w["value"] - run_delay) / run_delay
print(f"watched process: run-queue wait {w['value']:.4f} s, /proc schedstat run_delay {run_delay:.4f} s, {err:.2%} apart")
# from sched_info the wait is the kernel's own number; timed from wakeups, close
if "from sched_info" in agent_log and err > 0.10:
    print("FAIL: run-queue wait differs by more than 10%"); failed = True
if len(forks) != 1 or forks[0]["comm"] != "sbburn":
    print(f"FAIL: want one fork event from the watched process, got {forks}"); failed = True
sys.exit(1 if failed else 0)
PY
ok "context switches, run-queue histogram and watched process agree with the kernel"
