# Helpers for bench parts (POSIX sh).
set -u
TMP=$(mktemp -d /tmp/sensorbus-bench.XXXXXX)
_pids=""
_cleanup() {
	for p in $_pids; do kill "$p" 2>/dev/null; done
	for p in $_pids; do kill -0 "$p" 2>/dev/null && sleep 0.5 && kill -9 "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap _cleanup EXIT INT TERM
track_pid() { _pids="$_pids $1"; }
# row WHAT SENSORBUS REFERENCE RATIO TARGET MET
row() { printf '| %s | %s | %s | %s | %s | %s |\n' "$@" >>"$BENCH_ROWS"; }
# py EXPR: evaluates a Python expression and prints it
py() { python3 -c "print($1)"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
