# Every process, every round: the processes collector's walk with groups by
# comm (sensors.proc.groups), from the BPF task iterator and from procfs, and
# Debian's prometheus-process-exporter grouping by {{.Comm}} scraped at the
# same interval, in the same run. Cost: the agent's CPU (user + sys of all
# its threads, from /proc/PID/task/*/schedstat: the iterator's kernel time
# is the agent's read()) per round in its steady state, with
# BENCH_ITER_EXTRA (default 5000) extra sleeping processes minus without,
# per extra process. The steady state: from BENCH_ITER_WARM (2) seconds
# after the start, so the BPF load (the verifier: ~0.1 s of CPU, once) and
# the first round (which reads every process's cmdline once, to match
# names by argv[0]) are left out; their noise on a shared machine is larger
# than what is measured. Also a watched process (the extra ones matched by
# name, groups off) through the iterator, against part 40's procfs figure.
# Runs: -i BENCH_ITER_INTERVAL (250ms) for BENCH_ITER_SECS (10) each.
# bench-timeout: 400
. "$(dirname "$0")/../lib.sh"
EXTRA=${BENCH_ITER_EXTRA:-5000}
SECS=${BENCH_ITER_SECS:-10}
WARM=${BENCH_ITER_WARM:-2}
IVAL=${BENCH_ITER_INTERVAL:-250ms}
[ "$(id -u)" -eq 0 ] && [ -r /sys/kernel/btf/vmlinux ] || {
	note "part 45: skipped (needs root and BTF for the task iterator)"
	exit 0
}
PE=$(command -v prometheus-process-exporter) || {
	note "part 45: skipped (prometheus-process-exporter not installed: scripts/deps.sh test)"
	exit 0
}
cp /bin/sleep "$TMP/sbidle"
nprocs() { ls /proc | grep -c '^[0-9]'; }

# sensor TAG READER GROUPS NAME: appends "TAG cpu_s rounds nprocs"
sensor() {
	cat >"$TMP/$1.json" <<JSON
{"sensors": {"proc": {"collectors": ["processes"], "process_reader": "$2", "groups": "$3",
  "processes": ["$4"], "max_processes": 100000}}, "sinks": [{"type": "null"}]}
JSON
	n0=$(nprocs)
	"$SB_BIN" -c "$TMP/$1.json" -i "$IVAL" --duration "$((WARM + SECS + 1))s" \
		--log-level info 2>"$TMP/$1.log" &
	sb=$!
	track_pid $sb
	sleep "$WARM"
	c0=$(cpu_of $sb)
	sleep "$SECS"
	c1=$(cpu_of $sb)
	wait $sb || { cat "$TMP/$1.log" >&2; return 1; }
	n1=$(nprocs)
	grep -q "process reader: $2" "$TMP/$1.log" || { cat "$TMP/$1.log" >&2; return 1; }
	ev=$(sed -n 's/.*stopped after .*: \([0-9]*\) events published.*/\1/p' "$TMP/$1.log")
	# two events a round (the collector's own and the walk's); the rounds
	# of the window, at the run's own pace (a slow reader skips some)
	r=$(py "round(${ev:-0} / 2 * $SECS / ($WARM + $SECS + 1))")
	echo "$1 $(py "$c1 - $c0") $r $(((n0 + n1) / 2))" >>"$TMP/res"
}

# cpu_of PID: CPU seconds of every thread of PID so far (schedstat: ns)
cpu_of() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.6f", s / 1e9}'
}

# exporter TAG: process-exporter scraped every IVAL for SECS; its own CPU
exporter() {
	port=$(free_port)
	cat >"$TMP/pe.yml" <<'YML'
process_names:
  - name: "{{.Comm}}"
    cmdline:
    - '.+'
YML
	"$PE" -config.path "$TMP/pe.yml" -web.listen-address "127.0.0.1:$port" \
		-gather-smaps=false -threads=false >"$TMP/pe.log" 2>&1 &
	pe=$!
	track_pid $pe
	i=0
	while ! curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	n0=$(nprocs)
	$PY - "$pe" "$port" "$IVAL" "$SECS" "$1" >>"$TMP/res" <<'PY'
import os, sys, time, urllib.request
pid, port, ival, secs, tag = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5]
step = float(ival[:-2]) / 1000 if ival.endswith("ms") else float(ival[:-1])
hz = os.sysconf("SC_CLK_TCK")
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / hz
c0, n, t0 = cpu(), 0, time.monotonic()
while time.monotonic() - t0 < secs:
    urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read()
    n += 1
    time.sleep(max(0, t0 + n * step - time.monotonic()))
print(f"{tag} {cpu() - c0:.3f} {n} 0")
PY
	kill $pe
	wait $pe 2>/dev/null
	n1=$(nprocs)
	sed -i "\$s/ 0\$/ $(((n0 + n1) / 2))/" "$TMP/res"
}

: >"$TMP/res"
sensor bpf0 bpf comm sb-bench-matches-nothing || exit 1
sensor procfs0 procfs comm sb-bench-matches-nothing || exit 1
sensor watch0 bpf off sbidle || exit 1
exporter pe0 || exit 1
i=0
while [ $i -lt "$EXTRA" ]; do
	"$TMP/sbidle" 3600 &
	track_pid $!
	i=$((i + 1))
done
sleep 2
sensor bpf1 bpf comm sb-bench-matches-nothing || exit 1
sensor procfs1 procfs comm sb-bench-matches-nothing || exit 1
sensor watch1 bpf off sbidle || exit 1
exporter pe1 || exit 1

$PY - "$TMP/res" "$EXTRA" "$IVAL" "$SECS" <<'PY'
import os, sys
res = {}
for line in open(sys.argv[1]):
    tag, cpu, rounds, n = line.split()
    res[tag] = (float(cpu), int(rounds), int(n))
extra, ival, secs = int(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = open(os.environ["BENCH_ROWS"], "a")
notes = open(os.environ["BENCH_NOTES"], "a")
def marginal(a, b, n_extra=None):
    (c0, r0, n0), (c1, r1, n1) = res[a], res[b]
    d = n_extra if n_extra is not None else n1 - n0
    return (c1 / max(r1, 1) - c0 / max(r0, 1)) / max(d, 1) * 1e6, d
it, d = marginal("bpf0", "bpf1")
pf, _ = marginal("procfs0", "procfs1")
pe, _ = marginal("pe0", "pe1")
w, _ = marginal("watch0", "watch1", extra)
rows.write(f"| every process, groups by comm, task iterator (µs per process per round; {d} extra, {res['bpf1'][1]} rounds at {ival}) | "
           f"{it:.2f} µs | procfs reader: {pf:.1f} µs; process-exporter: {pe:.1f} µs | "
           f"{pf / it:.0f}x less than procfs, {it / pe:.3f}x process-exporter | <= 1 µs, >= 20x, <= 0.05x | "
           f"{'met' if it <= 1 and pf / it >= 20 and it / pe <= 0.05 else 'MISSED'} |\n")
rows.write(f"| a watched process, task iterator (µs per process per round; {extra} watched, 13 samples each) | "
           f"{w:.2f} µs | part 40's procfs figure | | <= 5 µs | {'met' if w <= 5 else 'MISSED'} |\n")
notes.write(f"\n### Task iterator (part 45)\n\nCPU seconds (user+sys) over {secs}s at {ival} (sensorbus: its steady state, from "
            f"{os.environ.get('BENCH_ITER_WARM', '2')}s after its start), without → with {extra} "
            "extra sleeping processes (rounds, processes on the machine):\n\n")
for a, b, what in (("bpf0", "bpf1", "sensorbus, task iterator, groups by comm"),
                   ("procfs0", "procfs1", "sensorbus, procfs reader, groups by comm"),
                   ("pe0", "pe1", "prometheus-process-exporter by {{.Comm}}, scraped at the interval"),
                   ("watch0", "watch1", "sensorbus, task iterator, the extra processes watched")):
    notes.write(f"- {what}: {res[a][0]:.3f} s ({res[a][1]}, [{res[a][2]}]) → {res[b][0]:.3f} s ({res[b][1]}, [{res[b][2]}])\n")
PY
