# The scheduler-heavy loads and the BPF tools that parts 10 and 20 share
# (sourced after lib.sh). Sizes: env BENCH_PIPE_LOOPS, BENCH_MSG_GROUPS,
# BENCH_MSG_LOOPS, BENCH_EXECS.
PIPE_LOOPS=${BENCH_PIPE_LOOPS:-50000}
MSG_GROUPS=${BENCH_MSG_GROUPS:-5}
MSG_LOOPS=${BENCH_MSG_LOOPS:-50}
EXECS=${BENCH_EXECS:-1000}
LOADS="pipe messaging exec"
RUNQLAT=$(command -v runqlat || echo /usr/sbin/runqlat)
EXECSNOOP=$(command -v execsnoop || echo /usr/sbin/execsnoop)

for t in perf bpftool "$RUNQLAT" "$EXECSNOOP"; do
	command -v "$t" >/dev/null || {
		row "$(basename "$0" .sh)" "" "" "" "" "skipped: $t not found (scripts/deps.sh bench)"
		exit 0
	}
done
[ "$(id -u)" -eq 0 ] || { row "$(basename "$0" .sh)" "" "" "" "" "skipped: needs root"; exit 0; }
[ -r /sys/kernel/btf/vmlinux ] || {
	row "$(basename "$0" .sh)" "" "" "" "" "skipped: the kernel has no BTF (runqlat and tp_btf need it)"
	exit 0
}

# load_desc NAME: what the load is, for the table
load_desc() {
	case $1 in
	pipe) echo "sched pipe -l $PIPE_LOOPS, one CPU" ;;
	messaging) echo "sched messaging -g $MSG_GROUPS -l $MSG_LOOPS" ;;
	exec) echo "$EXECS execs of true" ;;
	esac
}

# run_load NAME: prints "WALL_S CPU_S" of one run of the load
run_load() {
	case $1 in
	# both ends on one CPU: every op is two context switches there, no
	# cross-CPU wakeups, whose cost varies with placement from run to run
	pipe) timed taskset -c "$(($(nproc) - 1))" perf bench sched pipe -l "$PIPE_LOOPS" ;;
	messaging) timed perf bench sched messaging -g "$MSG_GROUPS" -l "$MSG_LOOPS" ;;
	# a shell loop: each round one fork, one exec of a tiny program, one exit
	exec) timed sh -c 'i=0; while [ $i -lt $0 ]; do /bin/true; i=$((i + 1)); done' "$EXECS" ;;
	esac
}

# tool_start WHAT: starts a tracer in the background (sensorbus with its
# default sensors, runqlat, execsnoop, floor: empty programs) and returns once
# its programs are attached; sets TOOL_PID ("" for none).
TOOL_PID=""
tool_start() {
	_log="$TMP/$1.log"
	case $1 in
	none) TOOL_PID=""; return 0 ;;
	sensorbus)
		"$SB_BIN" -o "$TMP/events.jsonl" >"$_log" 2>&1 &
		_ready='programs attached' ;;
	runqlat)
		stdbuf -oL "$RUNQLAT" 3600 1 >"$_log" 2>&1 & # says "Tracing" once attached
		_ready='Tracing' ;;
	execsnoop)
		stdbuf -oL "$EXECSNOOP" >"$_log" 2>&1 & # prints its header once attached
		_ready='PID' ;;
	floor)
		"$BENCH_OUT/bpfhold" "$BENCH_OUT/floor.bpf.o" >"$_log" 2>&1 &
		_ready='^attached' ;;
	esac
	TOOL_PID=$!
	track_pid $TOOL_PID
	_n=200
	while :; do
		# sensorbus says "run" once started: with no "programs attached"
		# before it, it runs procfs-only
		_done=0
		{ [ $_n -le 0 ] || ! kill -0 "$TOOL_PID" 2>/dev/null ||
			grep -q '\[agent\] run ' "$_log"; } 2>/dev/null && _done=1
		grep -q "$_ready" "$_log" 2>/dev/null && return 0
		[ $_done = 0 ] || break
		_n=$((_n - 1))
		sleep 0.1
	done
	echo "$1 did not attach its BPF programs:" >&2
	cat "$_log" >&2
	return 1
}

tool_stop() {
	[ -n "$TOOL_PID" ] || return 0
	kill "$TOOL_PID" 2>/dev/null
	wait "$TOOL_PID" 2>/dev/null
	TOOL_PID=""
}

# build_floor: the empty programs and their loader
build_floor() {
	mkdir -p "$BENCH_OUT"
	_arch=$(uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
	if [ ! "$BENCH_OUT/floor.bpf.o" -nt "$SB_ROOT/bench/bpf/floor.bpf.c" ]; then
		clang -g -O2 -target bpf -D__TARGET_ARCH_"$_arch" -I"$SB_ROOT/vmlinux/$_arch" \
			-Wall -Werror -c "$SB_ROOT/bench/bpf/floor.bpf.c" -o "$BENCH_OUT/floor.bpf.o" ||
			return 1
	fi
	build_helper bpfhold "$(pkg-config --libs libbpf 2>/dev/null || echo -lbpf)"
}

# proc_cpu PID: CPU seconds PID's threads have run (schedstat: in ns, where
# /proc/PID/stat counts 10 ms ticks)
proc_cpu() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.6f\n", s / 1e9}'
}

# foreign_progs: how many tracing BPF programs are attached that are not
# ours (other agents on a shared machine): context for every figure here
foreign_progs() {
	bpftool -j prog show | $PY -c '
import json, sys
mine = set(int(i) for i in sys.argv[1:])
print(sum(1 for p in json.load(sys.stdin)
          if p.get("type") in ("tracing", "raw_tracepoint", "tracepoint", "kprobe")
          and p["id"] not in mine))' $1
}
