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
check_err '{"interval":"1s",' 'c.json:1:18: unexpected end of file: expected a key in double quotes'
check_err '{"interval":"1s",}' "c.json:1:18: expected a key in double quotes, found '}' (a trailing comma?)"
check_err '{"interval":"1s","interval":"2s"}' 'interval: duplicate key'
check_err '{"sink":[]}' 'sink: unknown key (known keys: interval, host, log_level, user, sensors, sinks)'
check_err '{"sinks":[{"type":"kafka"}]}' 'unknown sink type "kafka" (one of file, stdout, null, prom, amqp, remote_write)'
ok "config errors exit 2 with the key path"

# Paths: absolute, not empty, one writer each
check_err '{"sinks":[{"type":"file","path":"events.jsonl"}]}' 'sinks[0].path: "events.jsonl" is a relative path'
check_err '{"sinks":[{"type":"file","path":""}]}' 'sinks[0].path: empty path'
check_err '{"sinks":[{"type":"amqp","spool_dir":"spool"}]}' 'sinks[0].spool_dir: "spool" is a relative path'
check_err '{"sensors":{"algod":{"token_file":"t"}}}' 'sensors.algod.token_file: "t" is a relative path'
check_err "{\"sinks\":[{\"type\":\"file\",\"path\":\"$TMP/a\"},{\"type\":\"file\",\"path\":\"$TMP/./a\"}]}" "sinks[1].path: $TMP/a is also sinks[0].path"
check_err '{"sinks":[{"type":"amqp","spool_dir":"/s"},{"type":"amqp","spool_dir":"/s"}]}' 'sinks[1].spool_dir: /s is also sinks[0].spool_dir'
# ... while paths on the command line are the user's, relative to the cwd
(cd "$TMP" && "$SB_BIN" -o rel.jsonl --check-config) >"$TMP/out" || fail "-o relative path: exit $?"
grep -qF "\"$TMP/rel.jsonl\"" "$TMP/out" || fail "-o rel.jsonl not resolved against the cwd: $(grep path "$TMP/out")"
ok "relative, empty and shared paths are config errors; -o resolves against the cwd"

# --check-config never prints a secret ...
cat >"$TMP/secret.json" <<'JSON'
{"sensors": {"scrape": {"targets": [{"name": "n", "url": "http://u:scrapepw@127.0.0.1:9/m?token=qtok",
                                     "headers": {"Authorization": "Bearer hdrtok"}}]},
             "algod": {"url": "http://a:algopw@127.0.0.1:8080"}},
 "sinks": [{"type": "amqp", "url": "amqp://user:amqppw@127.0.0.1/", "spool_dir": "/tmp/sp"}]}
JSON
"$SB_BIN" -c "$TMP/secret.json" --check-config >"$TMP/masked.json" || fail "--check-config of secrets: exit $?"
for s in scrapepw qtok hdrtok algopw amqppw; do
	! grep -q "$s" "$TMP/masked.json" || fail "--check-config printed the secret $s"
done
grep -qF '"amqp://user:***@127.0.0.1/"' "$TMP/masked.json" || fail "amqp URL not masked as user:***: $(grep amqp: "$TMP/masked.json")"
# ... and what it printed in their place is refused, not taken for a password
set +e
"$SB_BIN" -c "$TMP/masked.json" --check-config >/dev/null 2>"$TMP/err"; rc=$?
set -e
[ $rc -eq 2 ] || fail "masked config loaded back: exit $rc"
grep -q 'holds the .*mask' "$TMP/err" || fail "masked value not named: $(cat "$TMP/err")"
ok "--check-config masks passwords, tokens and secret headers; the masks do not load"

# What --check-config prints is a config: fed back, it prints the same
cat >"$TMP/all.json" <<JSON
{"sensors": {"proc": {"processes": ["algod"]}, "bpf": {}, "synthetic": {"rate": 5}, "algod": {},
             "scrape": {"targets": [{"name": "n", "url": "http://127.0.0.1:9/m"}]}, "agent": {}},
 "sinks": [{"type": "file", "path": "$TMP/e.jsonl"}, {"type": "stdout"}, {"type": "null"},
           {"type": "prom"}, {"type": "amqp", "url": "amqp://127.0.0.1/", "spool_dir": "$TMP/sp"}]}
JSON
"$SB_BIN" -c "$TMP/all.json" --check-config >"$TMP/eff1.json" || fail "--check-config: exit $?"
! grep -q null, "$TMP/eff1.json" || fail "--check-config printed null values"
"$SB_BIN" -c "$TMP/eff1.json" --check-config >"$TMP/eff2.json" || fail "--check-config of its own output: exit $?"
cmp -s "$TMP/eff1.json" "$TMP/eff2.json" || fail "round trip differs: $(diff "$TMP/eff1.json" "$TMP/eff2.json" | head)"
ok "--check-config output loads again and prints the same"

# A value the agent would quietly lower is said so
printf '{"sinks":[{"type":"null","queue_events":100,"batch":512}]}' >"$TMP/c.json"
"$SB_BIN" -c "$TMP/c.json" --check-config >"$TMP/out" 2>"$TMP/err" || fail "batch > queue_events: exit $?"
grep -q 'sinks\[0\].batch: 512 lowered to 100 (queue_events)' "$TMP/err" || fail "no warning for a lowered batch: $(cat "$TMP/err")"
grep -q '"batch":	100' "$TMP/out" || fail "effective batch not shown as 100"
ok "a batch larger than the queue is lowered with a warning"

set +e
"$SB_BIN" --duration nonsense >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "--duration nonsense: exit $rc"
"$SB_BIN" --sensors proc,martian --check-config >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "--sensors with unknown: exit $rc"
grep -q martian "$TMP/err" || fail "unknown sensor not named"
"$SB_BIN" --log-level chatty --check-config >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q trace "$TMP/err" || fail "--log-level chatty: exit $rc, $(cat "$TMP/err")"
"$SB_BIN" --log-level trace --check-config >/dev/null || fail "--log-level trace refused"
"$SB_BIN" --bogus >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "unknown option: exit $rc"
"$SB_BIN" -c /nonexistent/x.json >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "missing config file: exit $rc"
ok "usage errors exit 2"
