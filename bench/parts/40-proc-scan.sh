# Process scan: the proc sensor's cost per process, as the marginal cost of
# BENCH_SCAN_EXTRA (default 500) extra sleeping processes: CPU time (user +
# sys) with them minus without, per extra process (counted, since other
# processes come and go on a shared machine) and per round. Two figures:
#  - every process on the machine (the sensor with only its "processes"
#    collector on and a name that matches nothing): what discovering and
#    re-checking a process costs;
#  - a watched process (the 500 matched by name): stat, status, io, limits
#    and fd/ re-read every round and 13 samples through the bus (null sink).
# References, measured the same way: `ps -eo pid,stat,rss,vsz,comm`; plain C
# open/read/close of stat+status of every process; plain C pread of the five
# files a watched process needs, on kept-open fds (bench/procread.c).
# Sensor runs: -i BENCH_SCAN_INTERVAL (50ms) for BENCH_SCAN_SECS (20) each.
# bench-timeout: 300
. "$(dirname "$0")/../lib.sh"
EXTRA=${BENCH_SCAN_EXTRA:-500}
SECS=${BENCH_SCAN_SECS:-20}
IVAL=${BENCH_SCAN_INTERVAL:-50ms}
REPS=${BENCH_SCAN_REPS:-5}   # ps and C runs per setting (the fastest counts)
PASSES=${BENCH_SCAN_PASSES:-20}
build_helper procread || exit 1
PR="$BENCH_OUT/procread"
cp /bin/sleep "$TMP/sbidle" # a name of our own for the extra processes

nprocs() { ls /proc | grep -c '^[0-9]'; }

# sensor NAME TAG: a run of the proc sensor, processes named NAME;
# appends "TAG cpu_s rounds nprocs" to $TMP/res
sensor() {
	cat >"$TMP/$2.json" <<JSON
{"sensors": {"proc": {"collectors": ["processes"], "processes": ["$1"], "max_processes": 100000}},
 "sinks": [{"type": "null"}]}
JSON
	n0=$(nprocs)
	t=$(timed "$SB_BIN" -c "$TMP/$2.json" -i "$IVAL" --duration "${SECS}s" --log-level info \
		2>"$TMP/$2.log") || { cat "$TMP/$2.log" >&2; return 1; }
	n1=$(nprocs)
	ev=$(sed -n 's/.*stopped after .*: \([0-9]*\) events published.*/\1/p' "$TMP/$2.log")
	echo "$2 ${t#* } ${ev:-0} $(((n0 + n1) / 2))" >>"$TMP/res"
}

# best TAG REPS CMD...: the fastest of REPS runs (CPU), with the process
# count CMD saw (its number of output lines for ps, its output for procread)
best() {
	tag=$1 reps=$2
	shift 2
	b=""
	i=0
	while [ $i -lt "$reps" ]; do
		n0=$(nprocs)
		t=$(timed "$@") || return 1
		n1=$(nprocs)
		b=$(py "min(${b:-1e9}, ${t#* })")
		i=$((i + 1))
	done
	echo "$tag $b 1 $(((n0 + n1) / 2))" >>"$TMP/res"
}

measure() { # SUFFIX
	best "ps$1" "$REPS" ps -eo pid,stat,rss,vsz,comm || return 1
	best "open$1" "$REPS" "$PR" open "$PASSES" || return 1
	best "pread$1" "$REPS" "$PR" pread sbidle "$((PASSES * 10))" || return 1
}

: >"$TMP/res"
measure 0 || exit 1
sensor sbidle scan0 || exit 1
i=0
while [ $i -lt "$EXTRA" ]; do
	"$TMP/sbidle" 3600 &
	track_pid $!
	i=$((i + 1))
done
sleep 1
measure 1 || exit 1
sensor sb-bench-matches-nothing scan1 || exit 1
sensor sbidle watch1 || exit 1

$PY - "$TMP/res" "$EXTRA" "$PASSES" "$IVAL" "$SECS" <<'PY'
import os, sys
res = {}
for line in open(sys.argv[1]):
    tag, cpu, rounds, n = line.split()
    res[tag] = (float(cpu), int(rounds), int(n))
extra, passes, ival, secs = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
rows = open(os.environ["BENCH_ROWS"], "a")
notes = open(os.environ["BENCH_NOTES"], "a")

def marginal(base, more, per_run, n_extra=None):
    """µs per extra process per pass: the CPU difference over the extra processes"""
    (c0, _, n0), (c1, r1, n1) = res[base], res[more]
    d = n_extra if n_extra is not None else n1 - n0
    return (c1 - c0) / max(d, 1) / (per_run or r1) * 1e6, d

ps, dps = marginal("ps0", "ps1", 1)
op, dop = marginal("open0", "open1", passes)
pr, _ = marginal("pread0", "pread1", passes * 10, extra)
scan, dscan = marginal("scan0", "scan1", None)
watch, _ = marginal("scan0", "watch1", None, extra)
r = scan / op
rows.write(f"| process scan: every process (µs per process per round; {dscan} extra, {res['scan1'][1]} rounds at {ival}) | "
           f"{scan:.2f} µs | ps -eo: {ps:.1f} µs; C open/read/close stat+status: {op:.1f} µs | "
           f"{r:.2f}x C, {scan / ps:.3f}x ps | <= 5 µs | {'met' if scan <= 5 else 'MISSED'} |\n")
rows.write(f"| process scan: a watched process (µs per process per round; {extra} watched, 13 samples each) | "
           f"{watch:.1f} µs | C pread of its 5 files on kept-open fds: {pr:.1f} µs; C open/read/close stat+status: {op:.1f} µs | "
           f"{watch / pr:.2f}x C pread | <= 5 µs | {'met' if watch <= 5 else 'MISSED'} |\n")
notes.write(f"\n### Process scan (part 40)\n\nCPU seconds (user+sys), without → with {extra} extra sleeping processes "
            "(processes on the machine in brackets; ps and C: fastest of the runs):\n\n")
for a, b, what in (("ps0", "ps1", "ps -eo pid,stat,rss,vsz,comm, one run"),
                   ("open0", "open1", f"C open/read/close stat+status, {passes} passes"),
                   ("pread0", "pread1", f"C pread of 5 files of the extra processes, {passes * 10} passes"),
                   ("scan0", "scan1", f"sensorbus, name matching nothing, {secs}s at {ival}"),
                   ("scan0", "watch1", f"sensorbus, the extra processes watched, {secs}s at {ival}")):
    notes.write(f"- {what}: {res[a][0]:.3f} s [{res[a][2]}] → {res[b][0]:.3f} s [{res[b][2]}]"
                + (f", {res[b][1]} rounds" if a.startswith("scan") else "") + "\n")
PY
