# Every short-lived process is seen: 500 processes with known names and exit
# codes, some killed by a signal, each get an exec and an exit event with the
# right pid, comm, filename, exit code and signal. Then the same, smaller, with
# the raw_tp twins of the programs and run-queue waits timed from wakeups
# (what kernels without tp_btf or sched_info get).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (CAP_BPF and CAP_PERFMON) to load BPF programs"
[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"

# start_agent MODE EXPECT: the agent in the background, forced into MODE;
# waits until its programs are attached in a way that says EXPECT (skips when
# this kernel or build cannot).
start_agent() {
	SENSORBUS_BPF_MODE=$1 "$SB_BIN" --sensors bpf --interval 1s -o "$TMP/$1.jsonl" \
		2>"$TMP/$1.err" &
	agent=$!
	track_pid $agent
	wait_for 15 grep -q -e 'programs attached' -e 'procfs-only' "$TMP/$1.err" ||
		fail "the agent did not start: $(cat "$TMP/$1.err")"
	if grep -q 'procfs-only' "$TMP/$1.err"; then
		skip "BPF unavailable here: $(grep procfs-only "$TMP/$1.err")"
	fi
	grep -q "programs attached ($2" "$TMP/$1.err" || fail "not in $1 mode: $(cat "$TMP/$1.err")"
}

stop_agent() {
	kill -TERM $agent
	wait $agent || fail "the agent exited $?: $(cat "$TMP/$1.err")"
}

# spawn COUNT: COUNT processes named sbt<i> (symlinks to sh, so comm is the
# link's name), three in ten killed by a signal, eight at a time; records
# "name pid status" for each.
spawn() {
	mkdir -p "$TMP/bin"
	: >"$TMP/expected"
	i=0
	while [ $i -lt "$1" ]; do
		batch=""
		j=0
		while [ $i -lt "$1" ] && [ $j -lt 8 ]; do
			n=sbt$i
			[ -e "$TMP/bin/$n" ] || ln -s /bin/sh "$TMP/bin/$n"
			case $((i % 10)) in
			3) cmd='kill -KILL $$' ;;
			6) cmd='kill -TERM $$' ;;
			9) cmd='kill -USR1 $$' ;;
			*) cmd="exit $((i % 120))" ;; # below 128: not mistaken for a signal
			esac
			"$TMP/bin/$n" -c "$cmd" &
			batch="$batch $n:$!"
			i=$((i + 1))
			j=$((j + 1))
		done
		for job in $batch; do
			wait "${job#*:}"
			echo "${job%:*} ${job#*:} $?" >>"$TMP/expected"
		done
	done
}

check() { # mode count
	python3 - "$TMP/expected" "$TMP/$1.jsonl" "$TMP/bin" "$2" <<'PY' || fail "$1: events do not match the processes"
import json, sys
expected_path, events_path, bindir, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
want = {}
for line in open(expected_path):
    name, pid, rc = line.split()
    rc = int(rc)
    want[int(pid)] = (name, rc - 128 if rc > 128 else 0, 0 if rc > 128 else rc)
assert len(want) == count, f"{len(want)} processes recorded, want {count}"
execs, exits = {}, {}
for line in open(events_path):
    ev = json.loads(line)
    if ev["source"] != "bpf" or ev["pid"] not in want if "pid" in ev else True:
        continue
    (execs if ev["kind"] == "exec" else exits if ev["kind"] == "exit" else {})[ev["pid"]] = ev
bad = []
for pid, (name, sig, code) in sorted(want.items()):
    e, x = execs.get(pid), exits.get(pid)
    if not e:
        bad.append(f"{name} pid {pid}: no exec event")
    elif e["comm"] != name or e["filename"] != f"{bindir}/{name}" or e["uid"] != 0:
        bad.append(f"{name} pid {pid}: exec {e}")
    if not x:
        bad.append(f"{name} pid {pid}: no exit event")
    elif (x["comm"], x["exit_code"], x["signal"]) != (name, code, sig) or x["duration_seconds"] <= 0 \
            or x["cpu_seconds"] < 0 or x["ppid"] <= 0:
        bad.append(f"{name} pid {pid}: exit {x}, want exit_code {code} signal {sig}")
for b in bad[:10]:
    print(b, file=sys.stderr)
seen = sum(1 for p in want if p in execs and p in exits)
print(f"{seen} of {count} processes have exec and exit events; {len(bad)} problems")
sys.exit(1 if bad else 0)
PY
}

start_agent tp_btf "tp_btf"
spawn 500 2>/dev/null
stop_agent tp_btf
check tp_btf 500
lost=$(pyq 'ev["kind"] == "metrics" and [s["value"] for s in ev["samples"] if s["name"] == "sensorbus_bpf_ringbuf_lost_total"][0]' "$TMP/tp_btf.jsonl" | tail -1)
[ "$lost" = "0" ] || fail "ring buffer lost $lost records"
ok "tp_btf: 500 of 500 processes with exec and exit events"

mode=raw_tp,wakeup
start_agent $mode "raw_tp; run-queue latency from wakeups"
spawn 100 2>/dev/null
stop_agent $mode
check $mode 100
[ -n "$(pyq 'ev["kind"] == "metrics" and any(s["name"] == "sensorbus_sched_runqueue_latency_seconds" and s["count"] > 0 for s in ev["samples"])' "$TMP/$mode.jsonl")" ] ||
	fail "$mode: empty run-queue histogram"
ok "raw_tp, waits from wakeups: 100 of 100 processes with exec and exit events, run-queue histogram"
