#!/bin/sh
# What lands in a spool directory cannot hang `spool verify`, stop the
# sink or wrap segment numbers: crafted garbage is scanned in linear time,
# a fifo or a directory named like a segment is skipped with one line, a
# segment number that cannot be followed is refused and left alone.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 not installed"
command -v timeout >/dev/null || skip "timeout (coreutils) not installed"

# 1. 3 MiB of record headers each claiming the rest of the file: a naive
# resync reads ~size^2/24 bytes (hours); verify must end in seconds.
mkdir -p "$TMP/q/shard-0"
python3 - "$TMP/q/shard-0" <<'PY' || fail "could not craft the segment"
import struct, sys, zlib
size = 3 << 20
d = bytearray(b"SBSPOOL1" + struct.pack("<Q", 1))
while len(d) + 12 <= size - 40:
    d += struct.pack("<III", 0x31524253, size - len(d) - 12, 0xdeadbeef)
d += b"x" * (size - len(d))
open(sys.argv[1] + "/seg-00000000000000000001.sbs", "wb").write(d)
PY
rc=0
timeout 60 "$SB_BIN" spool verify "$TMP/q" >"$TMP/q.txt" 2>&1 || rc=$?
[ $rc -ne 124 ] || fail "spool verify on crafted garbage did not end within 60 s"
[ $rc -eq 1 ] || fail "spool verify: exit $rc, want 1: $(cat "$TMP/q.txt")"
grep -q "torn tail" "$TMP/q.txt" || fail "the garbage is not reported: $(cat "$TMP/q.txt")"
ok "crafted garbage verified in linear time"

# 2. A fifo named like a segment: verify opens read-only, which would block.
mkdir -p "$TMP/f/shard-0"
mkfifo "$TMP/f/shard-0/seg-00000000000000000003.sbs"
rc=0
timeout 20 "$SB_BIN" spool verify "$TMP/f" >"$TMP/f.txt" 2>&1 || rc=$?
[ $rc -ne 124 ] || fail "spool verify hangs on a fifo named like a segment"
[ $rc -eq 1 ] || fail "spool verify with a fifo: exit $rc, want 1: $(cat "$TMP/f.txt")"
grep -q "seg-00000000000000000003.sbs is a fifo, not a segment file; left alone" "$TMP/f.txt" ||
	fail "no clear line about the fifo: $(cat "$TMP/f.txt")"
grep -q "1 skipped" "$TMP/f.txt" || fail "the fifo is not counted: $(cat "$TMP/f.txt")"
ok "a fifo named like a segment is skipped, verify ends"

# 3. A directory named like a segment and a segment numbered 2^64-1 in a
# sink's spool: the sink starts and spools (no broker here), new segments
# are numbered past the directory, the crafted segment is left alone.
dead=$(free_port)
sp="$TMP/s/shard-0"
mkdir -p "$sp/seg-00000000000000000002.sbs"
python3 - "$sp" <<'PY' || fail "could not craft the segment"
import struct, sys
n = 2**64 - 1
open(sys.argv[1] + "/seg-%020d.sbs" % n, "wb").write(b"SBSPOOL1" + struct.pack("<Q", n))
PY
cat >"$TMP/s.json" <<JSON
{"sensors": {"synthetic": {"rate": 200, "samples": 1}},
 "sinks": [{"type": "amqp", "url": "amqp://guest:guest@127.0.0.1:$dead/",
            "spool_dir": "$TMP/s", "connect_timeout": "200ms",
            "breaker": {"failures": 1, "cooldown": "1s"}}]}
JSON
rc=0
timeout 30 "$SB_BIN" -c "$TMP/s.json" --duration 1500ms 2>"$TMP/s.log" || rc=$?
[ $rc -eq 0 ] || fail "agent exit $rc with odd entries in its spool: $(tail -5 "$TMP/s.log")"
grep -q "seg-00000000000000000002.sbs is a directory, not a segment file; left alone" \
	"$TMP/s.log" || fail "no clear line about the directory"
grep -q "seg-18446744073709551615.sbs: a segment number above .* cannot be followed" \
	"$TMP/s.log" || fail "no clear line about segment 2^64-1"
[ -d "$sp/seg-00000000000000000002.sbs" ] || fail "the directory was touched"
[ -f "$sp/seg-18446744073709551615.sbs" ] || fail "the crafted segment was touched"
[ -f "$sp/seg-00000000000000000003.sbs" ] || fail "no new segment past the directory: $(ls "$sp")"
[ ! -e "$sp/seg-00000000000000000000.sbs" ] || fail "segment numbers wrapped to 0"
"$SB_BIN" spool stats "$TMP/s" >"$TMP/stats.txt" 2>&1
grep -q "2 skipped" "$TMP/stats.txt" || fail "stats: $(cat "$TMP/stats.txt")"
grep -Eq "[1-9][0-9]* pending delivery" "$TMP/stats.txt" || fail "nothing spooled: $(cat "$TMP/stats.txt")"
ok "the sink spools past a directory and an unfollowable segment number"
