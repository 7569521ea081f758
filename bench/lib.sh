# Helpers for bench parts (POSIX sh).
set -u
TMP=$(mktemp -d /tmp/sensorbus-bench.XXXXXX)
_pids=""
_atexit=""
_cleanup() {
	for p in $_pids; do kill "$p" 2>/dev/null; done
	for p in $_pids; do kill -0 "$p" 2>/dev/null && sleep 0.5 && kill -9 "$p" 2>/dev/null; done
	eval "$_atexit"
	rm -rf "$TMP"
}
trap _cleanup EXIT
trap 'exit 143' INT TERM
track_pid() { _pids="$_pids $1"; }
# at_exit CMD: run CMD (a shell string) at exit, after tracked processes are stopped
at_exit() { _atexit="$_atexit
$1"; }
# row WHAT SENSORBUS REFERENCE RATIO TARGET MET
row() { printf '| %s | %s | %s | %s | %s | %s |\n' "$@" >>"$BENCH_ROWS"; }
# note TEXT: a line in the details under the table (per-run figures, context)
note() { printf '%s\n' "$*" >>"${BENCH_NOTES:-/dev/stderr}"; }
# Debian's python, not a pyenv shim first on PATH: its modules
# (prometheus_client), and no shim scripts exec'ing inside a measurement
PY=/usr/bin/python3
# py EXPR: evaluates a Python expression and prints it
py() { $PY -c "print($1)"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
BENCH_OUT="$SB_ROOT/build/bench"
# free_port: a port for a server on loopback, the tests' own
. "$SB_ROOT/tests/e2e/ports.sh"

# build_helper NAME [LIBS]: bench/NAME.c -> build/bench/NAME, when out of date
build_helper() {
	mkdir -p "$BENCH_OUT"
	[ "$BENCH_OUT/$1" -nt "$SB_ROOT/bench/$1.c" ] && return 0
	cc -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -o "$BENCH_OUT/$1" "$SB_ROOT/bench/$1.c" ${2:-}
}

# timed CMD...: runs CMD, prints "WALL_S CPU_S" (CPU: user+sys of it and
# its children, which other load on the machine disturbs less than wall)
timed() {
	$PY - "$@" <<'PY'
import resource, subprocess, sys, time
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
t = time.perf_counter() - t0
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
if rc:
    sys.exit("timed: %s exited %d" % (sys.argv[1], rc))
print("%.6f %.6f" % (t, r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime))
PY
}

# prog_ids PID: the ids of the BPF programs PID holds (from its fdinfo)
prog_ids() {
	cat /proc/"$1"/fdinfo/* 2>/dev/null | awk '$1 == "prog_id:" {print $2}' | sort -un | tr '\n' ' '
}

# cpu_track NAME PID: from now on the kernel counts PID's CPU time in
# nanoseconds, threads it starts later and threads that exit included, in
# a cgroup of its own (cgroup2's cpu.stat, else v1's cpuacct). utime+stime
# from /proc/PID/stat is in clock ticks: at ~1 ms/s a 60 s run is 6 ticks,
# one tick is 17% of it. cpu_s NAME prints the seconds used so far (ticks
# when no cgroup could be made; cpu_how says which).
_cg_dir() {
	for d in /sys/fs/cgroup/unified /sys/fs/cgroup; do
		[ -f "$d/cgroup.procs" ] && [ "$(stat -fc %T "$d" 2>/dev/null)" = cgroup2fs ] && { echo "$d"; return; }
	done
	[ -f /sys/fs/cgroup/cpuacct/cpuacct.usage ] && echo /sys/fs/cgroup/cpuacct
}
cpu_track() {
	_base=$(_cg_dir)
	eval "_cpu_pid_$1=$2"
	if [ -n "$_base" ] && mkdir "$_base/sb-bench-$$-$1" 2>/dev/null &&
		echo "$2" >"$_base/sb-bench-$$-$1/cgroup.procs" 2>/dev/null; then
		eval "_cpu_cg_$1=$_base/sb-bench-$$-$1"
		at_exit "rmdir '$_base/sb-bench-$$-$1' 2>/dev/null"
	else
		[ -n "$_base" ] && rmdir "$_base/sb-bench-$$-$1" 2>/dev/null
		eval "_cpu_cg_$1="
	fi
}
cpu_s() {
	eval "_cg=\$_cpu_cg_$1 _p=\$_cpu_pid_$1"
	if [ -n "$_cg" ] && [ -f "$_cg/cpu.stat" ]; then
		awk '$1 == "usage_usec" {printf "%.6f\n", $2 / 1e6}' "$_cg/cpu.stat"
	elif [ -n "$_cg" ]; then
		awk '{printf "%.6f\n", $1 / 1e9}' "$_cg/cpuacct.usage"
	else
		awk '{print ($14 + $15) / '"$(getconf CLK_TCK)"'}' "/proc/$_p/stat"
	fi
}
cpu_how() {
	eval "_cg=\$_cpu_cg_$1"
	if [ -n "$_cg" ]; then echo "cgroup CPU time (ns)"; else echo "utime+stime (clock ticks)"; fi
}

# threads_snap PID: each thread's "tid name ns-on-cpu" (schedstat), to diff
threads_snap() {
	for _t in /proc/"$1"/task/*; do
		printf '%s %s %s\n' "${_t##*/}" "$(tr ' ' _ <"$_t/comm")" "$(cut -d' ' -f1 "$_t/schedstat")"
	done 2>/dev/null
}
# switches PID: "voluntary nonvoluntary" context switches of its threads
# (those alive now), to diff: each is a sleep and a wake, or a preemption
switches() {
	awk '/^voluntary_ctxt_switches/ {v += $2} /^nonvoluntary_ctxt_switches/ {n += $2}
		END {print v + 0, n + 0}' /proc/"$1"/task/*/status 2>/dev/null
}
# threads_diff BEFORE AFTER SECS REF_S [NAME]: each thread name's µs/s over
# the window, and its ratio to REF_S seconds of CPU (the reference's, same
# window); with NAME, that name's µs/s alone, as a number
threads_diff() {
	$PY - "$@" <<'PY'
import sys
def load(p):
    d = {}
    for l in open(p):
        f = l.split()
        if len(f) == 3:
            d[f[0]] = (f[1], int(f[2]))
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
secs, ref = float(sys.argv[3]), float(sys.argv[4])
by = {}
for tid, (name, ns) in b.items():
    by[name] = by.get(name, 0) + ns - a.get(tid, (name, 0))[1]
if len(sys.argv) > 5:
    print(round(by.get(sys.argv[5], 0) / 1e3 / secs))
    sys.exit()
out = []
for name, ns in sorted(by.items(), key=lambda x: -x[1]):
    out.append("%s %d us/s (%.3fx)" % (name, ns / 1e3 / secs, ns / 1e9 / ref if ref else 0))
print(", ".join(out))
PY
}
