#!/bin/sh
# Runs every tests/e2e/*.sh (or those given). Each script exits 0 (pass),
# 77 (skip: it prints "SKIP: reason" first) or anything else (fail). A skip
# is reported as a skip, never as a pass.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${SB_BIN:=build/sensorbus}"
SB_BIN=$(cd "$(dirname "$SB_BIN")" && pwd)/$(basename "$SB_BIN")
export SB_BIN
export SB_ROOT="$(cd "$here/.." && pwd)"
export SB_FIXTURES="$SB_ROOT/fixtures"
pass=0
fail=0
skip=0
failed=""
skipped=""
# logs beside the build, not in /tmp where other jobs may clean up
logdir="$SB_ROOT/${SB_BUILD:-build}/e2e-logs"
rm -rf "$logdir"
mkdir -p "$logdir"
[ $# -eq 0 ] && set -- "$here"/e2e/[0-9]*.sh
for t in "$@"; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	start=$(date +%s)
	timeout -k 10 "${SB_E2E_TIMEOUT:-600}" sh "$t" >"$logdir/$name.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0)
		pass=$((pass + 1))
		echo "PASS $name (${secs}s)"
		;;
	77)
		skip=$((skip + 1))
		why=$(grep -m1 '^SKIP' "$logdir/$name.log" || echo "SKIP: (no reason given)")
		echo "SKIP $name: ${why#SKIP: }"
		skipped="$skipped $name"
		;;
	*)
		fail=$((fail + 1))
		failed="$failed $name"
		echo "FAIL $name (exit $rc, ${secs}s); last lines of its log:"
		tail -30 "$logdir/$name.log" | sed 's/^/    /'
		;;
	esac
done
echo "e2e: $pass passed, $fail failed, $skip skipped (logs in $logdir)"
[ "$fail" -eq 0 ]
