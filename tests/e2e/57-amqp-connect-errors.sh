# A broker that cannot be reached is reported in the system's words, with
# the address: "connect to 127.0.0.1:PORT: Connection refused", not
# librabbitmq's "a socket error occurred". No broker needed.
. "$(dirname "$0")/lib.sh"
ldconfig -p 2>/dev/null | grep -q 'librabbitmq\.so\.4' || skip "librabbitmq is not installed"

port=$(free_port) # bound and released: nothing listens there
cat >"$TMP/c.json" <<JSON
{"sensors": {"synthetic": {"rate": 1000, "count": 5}},
 "sinks": [{"type": "amqp", "url": "amqp://user:s3cret@127.0.0.1:$port/", "spool_dir": "$TMP/spool",
            "shutdown_grace": "500ms"}]}
JSON
"$SB_BIN" -c "$TMP/c.json" --duration 1s 2>"$TMP/err" || fail "agent exited $?: $(cat "$TMP/err")"
grep -q "connect to 127.0.0.1:$port: Connection refused" "$TMP/err" ||
	fail "refused connect not reported as such: $(grep -m2 'connect to' "$TMP/err")"
! grep -q 'a socket error occurred' "$TMP/err" || fail "librabbitmq's generic text still logged"
grep -qF "sinks [amqp amqp://127.0.0.1:$port/]" "$TMP/err" ||
	fail "start line does not name the broker without credentials: $(grep 'run ' "$TMP/err")"
! grep -q s3cret "$TMP/err" || fail "the password was logged"
ok "a refused connect names host:port and 'Connection refused'"

sed "s|127.0.0.1:$port|no-such-host.invalid:$port|" "$TMP/c.json" >"$TMP/dns.json"
"$SB_BIN" -c "$TMP/dns.json" --duration 1s 2>"$TMP/dns.err" || fail "agent exited $?: $(cat "$TMP/dns.err")"
grep -q "connect to no-such-host.invalid:$port: cannot resolve no-such-host.invalid: " "$TMP/dns.err" ||
	fail "unresolvable name not reported as such: $(grep -m2 'connect to' "$TMP/dns.err")"
ok "an unresolvable broker name is reported as such"

# A spool bound too small for its workers is raised, and said so.
cat >"$TMP/w.json" <<JSON
{"sensors": {"synthetic": {"rate": 1000, "count": 5}},
 "sinks": [{"type": "amqp", "url": "amqp://127.0.0.1:$port/", "spool_dir": "$TMP/spool-w", "workers": 4,
            "spool_max_bytes": "256KiB", "spool_segment_bytes": "64KiB", "shutdown_grace": "500ms"}]}
JSON
"$SB_BIN" -c "$TMP/w.json" --duration 500ms 2>"$TMP/w.err" || fail "agent exited $?: $(cat "$TMP/w.err")"
[ "$(grep -c 'spool_max_bytes 256KiB over 4 workers is less than two segments each; raised to 128KiB per worker' "$TMP/w.err")" = 1 ] ||
	fail "no single warning for the raised spool bound: $(grep -i spool "$TMP/w.err")"
ok "a spool bound raised for its workers is warned about once"
