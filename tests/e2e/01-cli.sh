# The command line contract: --help, --version, --check-config, exit codes,
# config errors naming the key path.
. "$(dirname "$0")/lib.sh"

"$SB_BIN" --help >"$TMP/help" || fail "--help exit $?"
grep -q -- "--check-config" "$TMP/help" || fail "--help lacks --check-config"
"$SB_BIN" --version | grep -q '^sensorbus ' || fail "--version"

"$SB_BIN" --check-config >"$TMP/eff.json" || fail "--check-config of built-in defaults"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); assert c["interval"]=="1s"; assert c["sinks"][0]["type"]=="file"; assert "proc" in c["sensors"]' "$TMP/eff.json" \
	|| fail "effective config lacks defaults"
ok "defaults"

check_err() { # json expected-substring
	printf '%s' "$1" >"$TMP/c.json"
	set +e
	"$SB_BIN" -c "$TMP/c.json" --check-config >"$TMP/out" 2>"$TMP/err"
	rc=$?
	set -e
	[ $rc -eq 2 ] || fail "config $1: exit $rc, want 2"
	grep -qF -- "$2" "$TMP/err" || fail "config $1: error lacks '$2': $(cat "$TMP/err")"
}
set -e
check_err '{"sinks":[{"type":"file"},{"type":"file","retry":{"max_delay":"soon"}}]}' 'sinks[1].retry.max_delay'
check_err '{"interval":"fast"}' 'interval: invalid duration'
check_err '{"sensors":{"proc":{"procfs":1}}}' 'sensors.proc.procfs: expected a string'
check_err '{"sensors":{"nope":{}}}' 'sensors.nope: unknown sensor'
check_err '{"sinks":[{"type":"file","colour":"red"}]}' 'sinks[0].colour: unknown key'
check_err '{"sinks":[{"type":"file","queue_bytes":"lots"}]}' 'sinks[0].queue_bytes: invalid size'
check_err '{"sinks":[{"type":"file","full":"panic"}]}' 'sinks[0].full: invalid value "panic"'
check_err '{"interval":"1s",' 'invalid JSON'
check_err '{"interval":"1s","interval":"2s"}' 'interval: duplicate key'
ok "config errors exit 2 with the key path"

set +e
"$SB_BIN" --duration nonsense >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "--duration nonsense: exit $rc"
"$SB_BIN" --sensors proc,martian --check-config >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "--sensors with unknown: exit $rc"
grep -q martian "$TMP/err" || fail "unknown sensor not named"
"$SB_BIN" --bogus >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "unknown option: exit $rc"
"$SB_BIN" -c /nonexistent/x.json >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "missing config file: exit $rc"
ok "usage errors exit 2"
