# What the log says at start and when things go wrong: each sink logs under
# its own component, the start line names every output, and a configured
# value the agent lowers is said so in one warning.
. "$(dirname "$0")/lib.sh"

# The stdout sink's failures are [sink:stdout]'s, not [sink:file]'s.
printf '{"sensors":{"synthetic":{"rate":1000,"count":5}},"sinks":[{"type":"stdout","shutdown_grace":"500ms"}]}' >"$TMP/out.json"
"$SB_BIN" -c "$TMP/out.json" --duration 1s >/dev/full 2>"$TMP/full.err"
grep -q '\[sink:stdout\] stdout: cannot write stdout' "$TMP/full.err" ||
	fail "no [sink:stdout] line for a full stdout: $(cat "$TMP/full.err")"
! grep -q '\[sink:file\]' "$TMP/full.err" || fail "the stdout sink logs as [sink:file]: $(grep 'sink:file' "$TMP/full.err")"
ok "the stdout sink logs as [sink:stdout]"

# The start line names each sink with its type and target.
port=$(free_port)
cat >"$TMP/start.json" <<JSON
{"sensors": {"synthetic": {"rate": 1000, "count": 5}},
 "sinks": [{"type": "file", "path": "$TMP/e.jsonl"}, {"type": "stdout"},
           {"type": "prom", "name": "metrics", "listen": "127.0.0.1:$port"}]}
JSON
"$SB_BIN" -c "$TMP/start.json" --once >/dev/null 2>"$TMP/start.err" || fail "agent exited $?: $(cat "$TMP/start.err")"
want="sinks [file $TMP/e.jsonl, stdout, metrics (prom 127.0.0.1:$port)]"
grep -qF "$want" "$TMP/start.err" || fail "start line lacks '$want': $(grep 'run ' "$TMP/start.err")"
ok "the start line names every sink with its type and target"

# A scrape timeout longer than its interval allows is lowered, and said so.
dead=$(free_port)
cat >"$TMP/scrape.json" <<JSON
{"sensors": {"scrape": {"targets": [{"name": "dead", "url": "http://127.0.0.1:$dead/metrics",
                                     "interval": "1s", "timeout": "5s"}]},
             "algod": {"url": "http://127.0.0.1:$dead", "interval": "1s", "timeout": "2s"}},
 "sinks": [{"type": "null"}]}
JSON
"$SB_BIN" -c "$TMP/scrape.json" --once 2>"$TMP/scrape.err" || fail "agent exited $?: $(cat "$TMP/scrape.err")"
grep -q 'warn .*\[sensor:scrape\] target dead: timeout 5s lowered to 900ms (at most 90% of the interval 1s)' "$TMP/scrape.err" ||
	fail "no warning for the lowered scrape timeout: $(cat "$TMP/scrape.err")"
grep -q 'warn .*\[sensor:algod\] timeout 2s lowered to 900ms (at most 90% of the interval 1s)' "$TMP/scrape.err" ||
	fail "no warning for the lowered algod timeout: $(cat "$TMP/scrape.err")"
ok "lowered timeouts are warned about"
