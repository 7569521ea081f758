# BPF program cost: ns per run of each program from the kernel's own
# accounting (kernel.bpf_stats_enabled=1; bpftool prog show run_time_ns and
# run_cnt), sensorbus (default sensors) next to libbpf-tools' runqlat
# (sched_switch, sched_wakeup, sched_wakeup_new) and execsnoop (execve
# enter/exit) and to empty programs on the same tracepoints (what the
# accounting and the call cost by themselves), all attached together so
# they see the same load: perf bench sched pipe, sched messaging, and a
# loop of execs, BENCH_BPF_ROUNDS times each (default 3). From the same
# figures, the CPU each tool adds to a load (its programs' run time plus its
# own process's CPU) over the load's own CPU time: an estimate of the
# slowdown that the noise of a shared machine does not move (part 20 times
# it, and is at the mercy of that noise).
# bench-timeout: 300
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../sched.sh"
ROUNDS=${BENCH_BPF_ROUNDS:-3}
build_floor || exit 1

old=$(sysctl -n kernel.bpf_stats_enabled)
at_exit "sysctl -qw kernel.bpf_stats_enabled=$old"
sysctl -qw kernel.bpf_stats_enabled=1

: >"$TMP/owners"
for t in sensorbus runqlat execsnoop floor; do
	tool_start $t || exit 1
	echo "$t $(prog_ids $TOOL_PID)" >>"$TMP/owners"
	echo "$t $TOOL_PID" >>"$TMP/pids"
done
tools_cpu() { # -> "tool cpu_s ..." of every tool
	while read -r t p; do printf '%s %s ' "$t" "$(proc_cpu "$p")"; done <"$TMP/pids"
}
mode=$(sed -n 's/.*programs attached (\([^;)]*\).*/\1/p' "$TMP/sensorbus.log")
foreign=$(foreign_progs "$(cut -d' ' -f2- "$TMP/owners" | tr '\n' ' ')")
sleep 1 # first reads, settling

: >"$TMP/runs"
r=0
while [ $r -lt "$ROUNDS" ]; do
	for l in $LOADS; do
		c0=$(tools_cpu)
		bpftool -j prog show >"$TMP/snap.$r.$l.0"
		t=$(run_load $l) || exit 1
		bpftool -j prog show >"$TMP/snap.$r.$l.1"
		echo "$r $l $t $c0 $(tools_cpu)" >>"$TMP/runs"
	done
	r=$((r + 1))
done

$PY - "$TMP" "$mode" "$foreign" "$EXECS" \
	"pipe=$(load_desc pipe)" "messaging=$(load_desc messaging)" "exec=$(load_desc exec)" <<'PY'
import json, os, re, sys
tmp, mode, foreign, execs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
desc = dict(a.split("=", 1) for a in sys.argv[5:])
owner = {}
for line in open(f"{tmp}/owners"):
    tool, *ids = line.split()
    for i in ids:
        owner[int(i)] = tool

def short(name):  # one name for the tp_btf and raw_tp twins, and execsnoop's long ones
    name = re.sub(r"_(btf|raw)$", "", name)
    return name.replace("tracepoint__syscalls__", "").replace("handle_", "")

def snap(path):
    return {p["id"]: (p["run_time_ns"], p["run_cnt"], p.get("name", "?"))
            for p in json.load(open(path)) if p["id"] in owner and "run_cnt" in p}

# (tool, program, load) -> [ns, runs]
acc = {}
load_cpu, tool_cpu = {}, {}  # load -> s; (tool, load) -> s
for line in open(f"{tmp}/runs"):
    r, load, wall, cpu, *tc = line.split()
    load_cpu[load] = load_cpu.get(load, 0) + float(cpu)
    half = len(tc) // 2
    for i in range(0, half, 2):
        k = (tc[i], load)
        tool_cpu[k] = tool_cpu.get(k, 0) + float(tc[half + i + 1]) - float(tc[i + 1])
    a, b = snap(f"{tmp}/snap.{r}.{load}.0"), snap(f"{tmp}/snap.{r}.{load}.1")
    for pid, (ns, cnt, name) in b.items():
        if pid in a:
            k = (owner[pid], short(name), load)
            v = acc.setdefault(k, [0, 0])
            v[0] += ns - a[pid][0]
            v[1] += cnt - a[pid][1]

def per_run(tool, prog, load):
    ns, cnt = acc.get((tool, prog, load), (0, 0))
    return ns / cnt if cnt else None

def runs(tool, prog, load):
    return acc.get((tool, prog, load), (0, 0))[1]

rows = open(os.environ["BENCH_ROWS"], "a")
notes = open(os.environ["BENCH_NOTES"], "a")
def row(*cells):
    rows.write("| " + " | ".join(str(c) for c in cells) + " |\n")
def f(v):
    return "-" if v is None else f"{v:.0f} ns"

loads = ["pipe", "messaging", "exec"]
for load in loads:
    ours, theirs = per_run("sensorbus", "sched_switch", load), per_run("runqlat", "sched_switch", load)
    floor = per_run("floor", "floor_switch", load)
    if ours is None or theirs is None:
        row(f"BPF sched_switch ns/run, {desc[load]}", f(ours), f"runqlat: {f(theirs)}", "", "<= 0.5x runqlat",
            "MISSED: no runs counted")
        continue
    r = ours / theirs
    row(f"BPF sched_switch ns/run, {desc[load]}", f(ours),
        f"runqlat: {f(theirs)} (empty program: {f(floor)})", f"{r:.2f}x",
        "<= 0.5x runqlat", "met" if r <= 0.5 else "MISSED")

# everything a tool runs in the kernel per context switch, over all loads
def total(tool, load):
    return sum(v[0] for (t, p, l), v in acc.items() if t == tool and l == load)
sw = {l: runs("runqlat", "sched_switch", l) for l in loads}
ours = sum(total("sensorbus", l) for l in loads if l != "exec") / max(1, sum(runs("sensorbus", "sched_switch", l) for l in loads if l != "exec"))
theirs = sum(total("runqlat", l) for l in loads if l != "exec") / max(1, sum(sw[l] for l in loads if l != "exec"))
wk = [per_run("runqlat", "sched_wakeup", l) for l in ("pipe", "messaging")]
row("BPF ns per context switch, all scheduler programs (pipe + messaging)", f"{ours:.0f} ns (no wakeup hook)",
    f"runqlat: {theirs:.0f} ns (sched_wakeup {f(wk[0])}/{f(wk[1])} per run)", f"{ours / theirs:.2f}x",
    "-", "context")

# exec loop: each round one fork, one exec, one exit
ours = {p: per_run("sensorbus", p, "exec") for p in ("sched_process_fork", "sched_process_exec", "sched_process_exit")}
theirs = {p: per_run("execsnoop", p, "exec") for p in ("sys_enter_execve", "sys_exit_execve")}
if all(ours.values()) and all(theirs.values()):
    o, t = sum(ours.values()), sum(theirs.values())
    # and in user space, per exec the machine made while the loop ran
    ou = tool_cpu.get(("sensorbus", "exec"), 0) / max(1, runs("sensorbus", "sched_process_exec", "exec")) * 1e6
    tu = tool_cpu.get(("execsnoop", "exec"), 0) / max(1, runs("execsnoop", "sys_exit_execve", "exec")) * 1e6
    row(f"BPF ns per exec (fork+exec+exit), {desc['exec']}",
        f"{o:.0f} ns (fork {ours['sched_process_fork']:.0f}, exec {ours['sched_process_exec']:.0f}, "
        f"exit {ours['sched_process_exit']:.0f}); user space {ou:.0f} µs per exec (exec and exit events to JSON, file)",
        f"execsnoop: {t:.0f} ns (enter {theirs['sys_enter_execve']:.0f}, exit {theirs['sys_exit_execve']:.0f}); "
        f"user space {tu:.0f} µs per exec (a line to stdout)",
        f"{o / t:.2f}x", "-", "context")
# What each tool adds to a load's CPU time: its programs' run time (which
# the load's tasks mostly pay, in their context) and its process's CPU, over
# the load's CPU time without any tool's programs. An upper bound: programs
# also run for other tasks on the machine, and the accounting adds its floor.
def added(tool, load):
    bpf = sum(v[0] for (t, p, l), v in acc.items() if t == tool and l == load) / 1e9
    base = load_cpu[load] - sum(v[0] for (t, p, l), v in acc.items() if l == load) / 1e9
    return (bpf + tool_cpu.get((tool, load), 0)) / base, bpf / base
for load in loads:
    (o, ob), (t, tb) = added("sensorbus", load), added("runqlat", load)
    row(f"CPU added to {desc[load]} (estimate from the kernel's accounting)",
        f"+{o * 100:.1f}% (programs {ob * 100:.1f}%)", f"runqlat: +{t * 100:.1f}% (programs {tb * 100:.1f}%)",
        f"{(1 + o) / (1 + t):.3f}x", "-", "context")

floor = [per_run("floor", "floor_switch", l) for l in loads]
row("BPF empty program (the stats accounting floor), sched_switch", " / ".join(f(v) for v in floor), "",
    "", "-", "context")

notes.write(f"\n### BPF program cost (part 10)\n\nsensorbus attached with {mode or '?'}; all tools attached together; "
            f"{foreign} other tracing BPF programs were loaded on the machine. ns/run per program and load "
            f"(total over the rounds; runs counted):\n\n| tool | program | " +
            " | ".join(desc[l] for l in loads) + " |\n|---|---|" + "---|" * len(loads) + "\n")
for tool, prog in sorted({(t, p) for t, p, l in acc}):
    notes.write(f"| {tool} | {prog} | " + " | ".join(
        (f"{per_run(tool, prog, l):.0f} ({runs(tool, prog, l)})" if runs(tool, prog, l) else "-") for l in loads) + " |\n")
PY
