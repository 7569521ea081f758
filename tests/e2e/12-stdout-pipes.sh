# The stdout sink behaves like a Unix filter: a reader that stops reading
# cannot hold the agent past shutdown_grace, and a reader that goes away
# (EPIPE) ends the agent with exit 0 after counting what was not written.
. "$(dirname "$0")/lib.sh"

cat >"$TMP/cfg.json" <<CFG
{
  "sensors": { "synthetic": { "rate": 20000, "samples": 10 } },
  "sinks": [ { "type": "stdout", "shutdown_grace": "1s" } ]
}
CFG

# 1. a blocked pipe: the reader sleeps, the pipe fills, write(2) blocks
t0=$(date +%s)
{ "$SB_BIN" -c "$TMP/cfg.json" --duration 2s 2>"$TMP/err1"; echo $? >"$TMP/rc1"; } | sleep 30 &
pipeline=$!
track_pid $pipeline
wait_for 20 test -s "$TMP/rc1" || fail "the agent did not end within 20 s with a blocked stdout"
took=$(($(date +%s) - t0))
rc=$(cat "$TMP/rc1")
echo "blocked pipe: exit $rc after ${took}s"
# 2 s run + 1 s grace + 1 s interrupt margin + start-up
[ $took -le 6 ] || fail "shutdown took ${took}s with a 1 s grace"
[ "$rc" -eq 0 ] || fail "exit $rc: $(tail -5 "$TMP/err1")"
grep -q 'could not be delivered\|dropped' "$TMP/err1" || fail "what was abandoned is not counted: $(tail -5 "$TMP/err1")"
kill $pipeline 2>/dev/null
ok "a blocked stdout cannot hold the agent past shutdown_grace"

# 2. a closed pipe: head reads 100 bytes and exits; the agent ends by itself
t0=$(date +%s)
{ timeout 20 "$SB_BIN" -c "$TMP/cfg.json" 2>"$TMP/err2"; echo $? >"$TMP/rc2"; } | head -c 100 >/dev/null
wait_for 20 test -s "$TMP/rc2" || fail "no exit status"
rc=$(cat "$TMP/rc2")
took=$(($(date +%s) - t0))
echo "closed pipe: exit $rc after ${took}s"
[ "$rc" -eq 0 ] || fail "exit $rc after its reader went away (124 means it never ended): $(tail -5 "$TMP/err2")"
grep -q 'standard output was closed' "$TMP/err2" || fail "no line says why it stopped: $(cat "$TMP/err2")"
grep -q 'will retry' "$TMP/err2" && fail "it retried a closed pipe: $(grep 'will retry' "$TMP/err2")"
grep -q 'sink stdout:.*dropped' "$TMP/err2" || fail "the summary does not count what was not written"
ok "EPIPE ends the agent with exit 0, counted"
