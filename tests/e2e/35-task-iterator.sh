# The BPF task iterator against /proc: `sensorbus tasks` (every process
# folded from its threads) between two reads of
# /proc/PID/{stat,status,io,statm,limits,fd,task/*/status}, for each of its
# programs: task_walk (Linux 6.7+) in one walk, and in a second walk where
# the processes that did not run since the first are read in part (most of
# them: the agent's usual round), and task_iter (SENSORBUS_BPF_MODE=no-walk):
#  - counters (CPU, faults, I/O) lie between the two reads (CPU within a
#    tick), gauges (threads, RSS, size, fds, state) equal one of them (the
#    state unless the leader switched between the reads), and
#    identity (ppid, uid, comm, nice, start time, fd limit) equals both,
#    for at least 99% of the processes (those that started or exited
#    meanwhile excepted);
#  - a process whose threads did I/O and exited keeps their counts (the
#    signal totals), as /proc/PID/io does, and its context switches are
#    every thread's, which /proc/PID/status (the leader's) is not;
#  - unprivileged, the agent says in one line that the procfs reader runs
#    and why, and still publishes the watched process's metrics.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (CAP_BPF and CAP_PERFMON) to load the task iterator"
[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"

# Some population: sleepers, and a process whose threads read a file and
# exit while 20 others stay.
for i in $(seq 1 100); do
	sleep 120 &
	track_pid $!
done
python3 - "$TMP/ready" <<'PY' &
import os, sys, threading, time
def reader():
    time.sleep(0.01)  # blocks: a voluntary switch each, kept once it exits
    with open("/proc/self/stat", "rb") as f:
        f.read()
ts = [threading.Thread(target=reader) for _ in range(30)]
for t in ts: t.start()
for t in ts: t.join()
ev = threading.Event()
for _ in range(20):
    threading.Thread(target=ev.wait, daemon=True).start()
open(sys.argv[1], "w").write(str(os.getpid()))
time.sleep(120)
PY
track_pid $!
wait_for 20 test -s "$TMP/ready" || fail "the threaded helper did not start"
helper=$(cat "$TMP/ready")

modes="no-walk"
grep -qw bpf_iter_task_new /proc/kallsyms && modes="walk walk2 no-walk"
for mode in $modes; do
python3 - "$SB_BIN" "$helper" "$mode" <<'PY' || fail "$mode: the iterator disagrees with /proc (above)"
import os, subprocess, sys
sb, helper, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
HZ = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count()
RSS_SLACK = 3 * NCPU * max(32, 2 * NCPU)  # file+anon+shmem, batch per CPU

def rd(p):
    try:
        with open(p, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None

def snap():
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        pid = int(d)
        stat, status, io, statm, limits = (rd(f"/proc/{pid}/{n}") for n in
                                           ("stat", "status", "io", "statm", "limits"))
        if None in (stat, status, io, statm, limits):
            continue
        try:
            nfd = len(os.listdir(f"/proc/{pid}/fd"))
            vol = invol = 0
            for t in os.listdir(f"/proc/{pid}/task"):
                ts = rd(f"/proc/{pid}/task/{t}/status") or ""
                for line in ts.splitlines():
                    if line.startswith("voluntary_ctxt_switches:"):
                        vol += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches:"):
                        invol += int(line.split()[1])
        except OSError:
            continue
        r = stat.rindex(")")
        f = stat[r + 2:].split()
        s = {"comm": stat[stat.index("(") + 1:r], "state": f[0], "ppid": int(f[1]),
             "minflt": int(f[7]), "majflt": int(f[9]), "utime": int(f[11]),
             "stime": int(f[12]), "nice": int(f[16]), "threads": int(f[17]),
             "start": int(f[19]), "nfd": nfd, "vol": vol, "invol": invol}
        for line in status.splitlines():
            if line.startswith("Uid:"):
                s["uid"] = int(line.split()[1])
        for line in io.splitlines():
            k, v = line.split(":")
            s[k] = int(v)
        m = statm.split()
        s["vm"], s["rss"] = int(m[0]), int(m[1])
        for line in limits.splitlines():
            if line.startswith("Max open files"):
                v = line.split()[3]
                s["nofile"] = 2**64 - 1 if v == "unlimited" else int(v)
        out[pid] = s
    return out

args = [sb, "tasks"] + (["--walks", "2"] if mode == "walk2" else [])
env = dict(os.environ, SENSORBUS_BPF_MODE=mode) if mode == "no-walk" else None
a = snap()
res = subprocess.run(args, capture_output=True, text=True, env=env)
b = snap()
if res.returncode:
    print(res.stderr, file=sys.stderr)
    sys.exit(1)
# "N processes, M unchanged since the walk before"
words = res.stderr.split()
same = int(words[words.index("unchanged") - 1])
if (mode == "walk2") != (same > 0) or (mode == "walk2" and same < len(a) // 2):
    sys.exit(f"{mode}: {same} processes taken from the walk before: {res.stderr}")
lines = res.stdout.splitlines()
head = lines[0].split("\t")
it = {}
for line in lines[1:]:
    v = dict(zip(head, line.split("\t")))
    it[int(v["pid"])] = v

def between(x, lo, hi, slack=0):
    return min(lo, hi) - slack <= x <= max(lo, hi) + slack

checked, bad = 0, []
for pid, v in it.items():
    if pid not in a or pid not in b or a[pid]["start"] != b[pid]["start"]:
        continue  # started or exited during the round
    if pid == os.getpid():
        continue  # this script: its listing of fd/ opens one more
    A, B = a[pid], b[pid]
    n = lambda k: int(v[k])
    why = []
    for k, want in (("ppid", "ppid"), ("uid", "uid"), ("nice", "nice"), ("fd_limit", "nofile")):
        if n(k) != A[want] or n(k) != B[want]:
            why.append(f"{k} {n(k)} vs {A[want]}/{B[want]}")
    # a kworker's /proc comm has its workqueue appended (wq_worker_comm)
    if not A["comm"].startswith(v["comm"]) and not B["comm"].startswith(v["comm"]):
        why.append(f"comm {v['comm']!r} vs {A['comm']!r}")
    if n("start_ns") * HZ // 10**9 != A["start"]:
        why.append(f"start {n('start_ns') * HZ // 10**9} vs {A['start']}")
    cpu = (n("utime_ns") + n("stime_ns")) * HZ // 10**9
    if not between(cpu, A["utime"] + A["stime"], B["utime"] + B["stime"], 1):
        why.append(f"cpu ticks {cpu} vs {A['utime'] + A['stime']}..{B['utime'] + B['stime']}")
    for k, want in (("minflt", "minflt"), ("majflt", "majflt"), ("rchar", "rchar"),
                    ("wchar", "wchar"), ("syscr", "syscr"), ("syscw", "syscw"),
                    ("read_bytes", "read_bytes"), ("write_bytes", "write_bytes"),
                    ("cancelled_write_bytes", "cancelled_write_bytes")):
        if not between(n(k), A[want], B[want]):
            why.append(f"{k} {n(k)} vs {A[want]}..{B[want]}")
    # RSS: the counters' shared value, which lags the per-CPU deltas by less
    # than the batch on each CPU (percpu_counter_read_positive, what the
    # kernel itself uses for the OOM killer); /proc sums the deltas on 6.16+
    if not between(n("rss_pages"), A["rss"], B["rss"], RSS_SLACK):
        why.append(f"rss_pages {n('rss_pages')} vs {A['rss']}/{B['rss']} (slack {RSS_SLACK})")
    for k, want in (("threads", "threads"), ("vm_pages", "vm"), ("open_fds", "nfd")):
        if not between(n(k), A[want], B[want]):
            why.append(f"{k} {n(k)} vs {A[want]}/{B[want]}")
    # a task that switched between the reads went through states neither
    # read saw (a kworker idle, woken, in D for its work, idle again: I, D, I)
    ran = (A["vol"], A["invol"]) != (B["vol"], B["invol"])
    if v["state"] not in (A["state"], B["state"]) and "R" not in (v["state"], A["state"], B["state"]):
        if ran:
            print(f"pid {pid} ({v['comm']}): state {v['state']} vs {A['state']}/{B['state']}, "
                  "switched between the reads: not counted", file=sys.stderr)
        else:
            why.append(f"state {v['state']} vs {A['state']}/{B['state']}")
    # every thread's switches: at least the live threads' (exited ones add)
    if n("nvcsw") < min(A["vol"], B["vol"]) or n("nivcsw") < min(A["invol"], B["invol"]):
        why.append(f"switches {v['nvcsw']}/{v['nivcsw']} below the live threads' "
                   f"{A['vol']}/{A['invol']}")
    checked += 1
    if why:
        bad.append((pid, v["comm"], why))
for pid, comm, why in bad[:20]:
    print(f"pid {pid} ({comm}): " + "; ".join(why), file=sys.stderr)
print(f"{mode}: {checked - len(bad)} of {checked} processes agree with /proc "
      f"({len(it)} from the iterator, {same} of them unchanged, {len(a)} in /proc)")
if checked < 100 or (checked - len(bad)) < 0.99 * checked:
    sys.exit(1)
h = it.get(helper)
if not h:
    sys.exit("the threaded helper is not in the iterator's output")
if int(h["threads"]) != 21:
    sys.exit(f"helper: {h['threads']} threads, want 21")
# 30 exited threads read /proc/self/stat: their rchar stays in the process
if int(h["rchar"]) != a[helper]["rchar"] or int(h["syscr"]) < 60:
    sys.exit(f"helper: rchar {h['rchar']} syscr {h['syscr']} vs /proc {a[helper]['rchar']}")
if int(h["nvcsw"]) <= a[helper]["vol"]:
    sys.exit(f"helper: nvcsw {h['nvcsw']} does not count the exited threads "
             f"(live threads {a[helper]['vol']})")
PY
done
command -v setpriv >/dev/null || skip "setpriv (util-linux) is needed for the unprivileged run"
chmod 755 "$TMP"
printf '{"sensors":{"proc":{"collectors":["processes"],"pids":["%s"]}}}' "$helper" >"$TMP/u.json"
chmod 644 "$TMP/u.json"
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$SB_BIN" -c "$TMP/u.json" --once --sensors proc -o - >"$TMP/u.out" 2>"$TMP/u.err" ||
	fail "unprivileged run: exit $?: $(cat "$TMP/u.err")"
[ "$(grep -c 'process reader' "$TMP/u.err")" -eq 1 ] &&
	grep -q 'process reader: procfs: no privilege to load BPF programs' "$TMP/u.err" ||
	fail "unprivileged: the reader line: $(cat "$TMP/u.err")"
python3 - "$TMP/u.out" "$helper" <<'PY' || fail "unprivileged: no process metrics: $(head -c 600 "$TMP/u.out")"
import json, sys
v = [s["value"] for line in open(sys.argv[1]) for s in json.loads(line).get("samples", [])
     if s["name"] == "process_threads" and s["labels"].get("pid") == sys.argv[2]]
assert v == [21], v
PY
ok "task iterator agrees with /proc; unprivileged, procfs says why"
