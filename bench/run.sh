#!/bin/sh
# make bench: runs every part in bench/parts (or those named), each bounded
# in time and cleaning up by PID, and prints one table, also written to
# bench/results.md. Rows: what | sensorbus | reference | ratio | target | met.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${SB_BIN:=$here/../build/sensorbus}"
SB_BIN=$(cd "$(dirname "$SB_BIN")" && pwd)/$(basename "$SB_BIN")
export SB_BIN
export SB_ROOT=$(cd "$here/.." && pwd)
out=${BENCH_RESULTS:-$here/results.md}
rows=$(mktemp)
notes=$(mktemp)
export BENCH_ROWS="$rows" BENCH_NOTES="$notes"
[ $# -eq 0 ] && set -- "$here"/parts/[0-9]*.sh
# tracefs for the tracepoint-based reference tools, where nothing mounted it
if [ -d /sys/kernel/tracing ] && [ -z "$(ls -A /sys/kernel/tracing 2>/dev/null)" ]; then
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
fi
start=$(date +%s)
load0=$(cut -d" " -f1-3 /proc/loadavg)
for p in "$@"; do
	name=$(basename "$p" .sh)
	echo "== $name" >&2
	# a part may say how long it may take: a "# bench-timeout: SECS" line
	limit=$(sed -n 's/^# bench-timeout: *\([0-9]*\).*/\1/p' "$p")
	t0=$(date +%s)
	timeout -k 10 "${BENCH_PART_TIMEOUT:-${limit:-300}}" sh "$p" ||
		echo "| $name | (failed: exit $?) | | | | |" >>"$rows"
	echo "== $name: $(($(date +%s) - t0)) s" >&2
done
{
	echo "# sensorbus benchmarks"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -r), $(nproc) CPUs, commit $(git -C "$SB_ROOT" rev-parse --short HEAD 2>/dev/null)."
	echo "Every ratio compares two figures measured in this same run on this machine; load average at the start: $load0."
	echo
	echo "| what | sensorbus | reference | ratio | target | met |"
	echo "|---|---|---|---|---|---|"
	cat "$rows"
	echo
	cat "$notes"
	echo
	echo "Total time: $(($(date +%s) - start)) s."
} >"$out"
cat "$out"
rm -f "$rows" "$notes"
