#!/bin/sh
# Measures what the BPF programs cost, for sensorbus and for libbpf-tools'
# runqlat: the slowdown of a scheduler-bound workload (perf bench sched
# pipe), interleaved none/sensorbus/runqlat, RUNS times each, with BPF
# run-time accounting off; then ns per run of each program, from the
# kernel's own accounting (kernel.bpf_stats_enabled=1, which itself adds two
# clock reads per run to every program), over the same workload. Root only;
# restores kernel.bpf_stats_enabled.
#   bpf/overhead.sh [RUNS] [LOOPS]      defaults 7 and 100000
# Needs: build/sensorbus (make), perf (linux-perf), runqlat (libbpf-tools),
# bpftool, python3.
set -eu
runs=${1:-7}
loops=${2:-100000}
root=$(cd "$(dirname "$0")/.." && pwd)
sb=${SB_BIN:-$root/build/sensorbus}
[ "$(id -u)" -eq 0 ] || { echo "overhead.sh: needs root" >&2; exit 1; }
for t in perf runqlat bpftool python3; do
	command -v $t >/dev/null || { echo "overhead.sh: $t not found (scripts/deps.sh bench)" >&2; exit 1; }
done
tmp=$(mktemp -d)
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
tool=""
cleanup() {
	[ -n "$tool" ] && kill "$tool" 2>/dev/null && wait "$tool" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$old_stats"
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# prog_stats FILE: "name run_time_ns run_cnt" of every tracing program
prog_stats() {
	bpftool -j prog show | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("type") in ("tracing", "raw_tracepoint") and "run_cnt" in p:
        print(p["id"], p.get("name", "?"), p["run_time_ns"], p["run_cnt"])' >"$1"
}

bench() { # -> "usecs/op cpu-usecs/op": wall time, and CPU time (user+sys of
	# both ends), which other load on the machine disturbs far less
	python3 - "$loops" <<'PY'
import resource, subprocess, sys
loops = int(sys.argv[1])
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
out = subprocess.run(["perf", "bench", "sched", "pipe", "-l", str(loops)],
                     capture_output=True, text=True, check=True).stdout
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
us = next(l.split()[0] for l in out.splitlines() if "usecs/op" in l)
cpu = (r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) * 1e6 / loops
print(us, f"{cpu:.3f}")
PY
}

start() { # what
	case $1 in
	none) tool="" ;;
	sensorbus)
		"$sb" --sensors bpf -o /dev/null 2>"$tmp/sb.err" &
		tool=$!
		w=0
		until grep -q 'programs attached' "$tmp/sb.err"; do
			w=$((w + 1))
			[ $w -lt 100 ] || { cat "$tmp/sb.err" >&2; exit 1; }
			sleep 0.1
		done
		;;
	runqlat)
		runqlat 3600 1 >/dev/null 2>&1 &
		tool=$!
		sleep 1.5 # no ready signal: give it time to attach
		;;
	esac
}

stop() {
	[ -n "$tool" ] || return 0
	kill "$tool"
	wait "$tool" 2>/dev/null || true
	tool=""
}

: >"$tmp/results"
for stats in 0 1; do
	sysctl -qw kernel.bpf_stats_enabled=$stats
	run=0
	while [ $run -lt "$runs" ]; do
		for what in none sensorbus runqlat; do
			[ $stats = 1 ] && [ $what = none ] && continue
			start $what
			sleep 1 # let the tool settle: loading, first reads
			prog_stats "$tmp/before"
			res=$(bench)
			prog_stats "$tmp/after"
			stop
			python3 - "$what" "$res" "$tmp/before" "$tmp/after" "$stats" >>"$tmp/results" <<'PY'
import sys
what, res, before, after, stats = sys.argv[1:6]
b = {l.split()[0]: l.split() for l in open(before)}
for l in open(after):
    pid, name, ns, cnt = l.split()
    if pid in b and int(cnt) > int(b[pid][3]):
        d_ns, d_cnt = int(ns) - int(b[pid][2]), int(cnt) - int(b[pid][3])
        print(what, "prog", name, d_ns / d_cnt, d_cnt)
if stats == "0":
    print(what, "bench", res)
PY
		done
		run=$((run + 1))
	done
done

python3 - "$tmp/results" "$runs" "$loops" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
bench, cpu = {}, {}
progs = {}
for r in rows:
    if r[1] == "bench":
        bench.setdefault(r[0], []).append(float(r[2]))
        cpu.setdefault(r[0], []).append(float(r[3]))
    else:
        progs.setdefault((r[0], r[2]), []).append(float(r[3]))
print(f"perf bench sched pipe -l {sys.argv[3]}, {sys.argv[2]} interleaved rounds, BPF stats off:")
# On a shared machine other load only ever slows a run down: the ratio of
# each round's runs (taken seconds apart) and the best runs say more than
# the plain medians, which are shown too.
base, best = statistics.median(bench["none"]), min(bench["none"])
for what in ("none", "sensorbus", "runqlat"):
    runs = bench[what]
    paired = statistics.median(r / n for r, n in zip(runs, bench["none"]))
    print(f"  {what:10s} median {statistics.median(runs):7.3f} us/op ({statistics.median(runs) / base:5.3f}x)"
          f"  best {min(runs):7.3f} ({min(runs) / best:5.3f}x)  median of per-round ratios {paired:5.3f}x")
    print(f"  {'':10s} runs: {' '.join(f'{v:.2f}' for v in runs)}")
print("CPU time per op (user+sys of both processes; less disturbed by other load):")
cbase = statistics.median(cpu["none"])
for what in ("none", "sensorbus", "runqlat"):
    runs = cpu[what]
    paired = statistics.median(r / n for r, n in zip(runs, cpu["none"]))
    print(f"  {what:10s} median {statistics.median(runs):7.3f} us/op ({statistics.median(runs) / cbase:5.3f}x)"
          f"  median of per-round ratios {paired:5.3f}x")
print("BPF program cost over the same workload (median ns/run, kernel.bpf_stats_enabled=1):")
med = {k: statistics.median(v) for k, v in progs.items()}
for (what, name), v in sorted(med.items()):
    if what != "none":
        print(f"  {what:10s} {name:24s} {v:8.1f} ns/run")
ours = med.get(("sensorbus", "sched_switch_btf")) or med.get(("sensorbus", "sched_switch_raw"))
theirs = med.get(("runqlat", "sched_switch"))
if ours and theirs:
    print(f"sched_switch: sensorbus/runqlat = {ours / theirs:.2f}")
PY
