# Workload slowdown: wall time of the part 10 loads with nothing attached,
# with sensorbus (default sensors: proc, bpf, agent; file sink) and with
# libbpf-tools' runqlat, interleaved A B C A B C ... BENCH_SLOWDOWN_ROUNDS
# times (default 7), BPF run-time accounting off. The machine is shared and
# noisy, so each run is paired with the nothing-attached run of its own round
# (seconds apart) and the medians of those per-round ratios are the result;
# CPU time (user+sys of the load) is reported beside wall time.
# bench-timeout: 600
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../sched.sh"
ROUNDS=${BENCH_SLOWDOWN_ROUNDS:-7}
CONFIGS="none sensorbus runqlat"

# what is measured here is the programs' cost as deployed: accounting off
old=$(sysctl -n kernel.bpf_stats_enabled)
at_exit "sysctl -qw kernel.bpf_stats_enabled=$old"
sysctl -qw kernel.bpf_stats_enabled=0

: >"$TMP/runs"
r=0
while [ $r -lt "$ROUNDS" ]; do
	for c in $CONFIGS; do
		tool_start $c || exit 1
		[ $c = none ] || sleep 1 # first reads, settling
		for l in $LOADS; do
			echo "$r $c $l $(run_load $l)" >>"$TMP/runs" || exit 1
		done
		tool_stop
	done
	r=$((r + 1))
done
foreign=$(foreign_progs "")

$PY - "$TMP/runs" "$foreign" "$ROUNDS" \
	"pipe=$(load_desc pipe)" "messaging=$(load_desc messaging)" "exec=$(load_desc exec)" <<'PY'
import os, statistics as st, sys
runs, foreign, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
desc = dict(a.split("=", 1) for a in sys.argv[4:])
wall, cpu = {}, {}
for line in open(runs):
    r, c, l, w, u = line.split()
    wall[(int(r), c, l)] = float(w)
    cpu[(int(r), c, l)] = float(u)
rows = open(os.environ["BENCH_ROWS"], "a")
notes = open(os.environ["BENCH_NOTES"], "a")

def ratios(d, c, l):  # each run over the nothing-attached run of its round
    return [d[(r, c, l)] / d[(r, "none", l)] for r in range(rounds)]

def span(v, fmt="{:.3f}"):
    return f"{fmt.format(st.median(v))} ({fmt.format(min(v))}–{fmt.format(max(v))})"

notes.write(f"\n### Workload slowdown (part 20)\n\n{rounds} interleaved rounds (none, sensorbus, runqlat); "
            f"{foreign} other tracing BPF programs were loaded on the machine at the end (other agents; "
            "they slow every configuration alike). Wall seconds, median (min–max); per-round ratios to "
            "nothing attached, median (min–max); the fastest run over the fastest run with nothing attached "
            "(other load only ever slows a run down); per-round ratios of CPU time (user+sys) of the load:\n\n"
            "| load | none | sensorbus | runqlat | sensorbus/none | runqlat/none | best/best: sensorbus, runqlat | CPU: sensorbus/none | CPU: runqlat/none |\n"
            "|---|---|---|---|---|---|---|---|---|\n")
for l in ("pipe", "messaging", "exec"):
    sb, rq = ratios(wall, "sensorbus", l), ratios(wall, "runqlat", l)
    sbc, rqc = ratios(cpu, "sensorbus", l), ratios(cpu, "runqlat", l)
    w = {c: [wall[(r, c, l)] for r in range(rounds)] for c in ("none", "sensorbus", "runqlat")}
    notes.write(f"| {desc[l]} | {span(w['none'])} | {span(w['sensorbus'])} | {span(w['runqlat'])} | "
                f"{span(sb)} | {span(rq)} | {min(w['sensorbus']) / min(w['none']):.3f}, "
                f"{min(w['runqlat']) / min(w['none']):.3f} | {span(sbc)} | {span(rqc)} |\n")
    m, mr = st.median(sb), st.median(rq)
    met = m <= 1.02 and m < mr
    rows.write(f"| slowdown, {desc[l]} (wall, median of {rounds} per-round ratios) | {m:.3f}x ({min(sb):.3f}–{max(sb):.3f}) | "
               f"runqlat: {mr:.3f}x ({min(rq):.3f}–{max(rq):.3f}) | {m / mr:.3f}x runqlat's | "
               f"<= 1.02x, and below runqlat | {'met' if met else 'MISSED'} |\n")
PY
