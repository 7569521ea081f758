# Shared helpers for e2e scripts (POSIX sh). Source with: . "$(dirname "$0")/lib.sh"
set -u
: "${SB_BIN:?SB_BIN must point at build/sensorbus}"
: "${SB_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SB_FIXTURES:=$SB_ROOT/fixtures}"

TMP=$(mktemp -d /tmp/sensorbus-test.XXXXXX)
_pids=""
# Kills what the test started, by PID, then removes its temp dir.
_cleanup() {
	for p in $_pids; do kill "$p" 2>/dev/null; done
	for p in $_pids; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null
	done
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap _cleanup EXIT INT TERM
track_pid() { _pids="$_pids $1"; }

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
ok() { echo "ok: $*"; }

. "$SB_ROOT/tests/e2e/ports.sh"

# who_holds PORT: the sockets on PORT and their processes, for a failure message
who_holds() {
	ss -Htanp "( sport = :$1 )" 2>/dev/null || echo "(ss not available)"
}

# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds.
wait_for() {
	_t=$1; shift
	_n=$((_t * 10))
	while [ $_n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# gone PID: the process has exited (wait_for SECONDS gone PID)
gone() { ! kill -0 "$1" 2>/dev/null; }

port_open() { python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1',$1),0.5)" ; }

# jq-free JSON queries over JSON lines: pyq 'python expression over ev' FILE
# prints one result per line. ev is each parsed event.
pyq() {
	python3 - "$1" "$2" <<'PY'
import json, sys
expr, path = sys.argv[1], sys.argv[2]
for line in open(path):
    line = line.strip()
    if not line:
        continue
    ev = json.loads(line)
    r = eval(expr, {"ev": ev})
    if r is not None and r is not False:
        print(r if r is not True else line)
PY
}
